//! The API server's view of the store: objects as JSON values keyed by their registry key,
//! with the object's resourceVersion being the key's `mod_revision` (as kube-apiserver's
//! etcd3 storage: the stored bytes never carry a resourceVersion; it is set on read).
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`, `.../etcd3/watcher.go`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use kubetwin_store::{Event, EventKind, KeyValue, RangeRequest, Store, StoreError, WatchError};

use crate::object;
use crate::watch::SharedObject;

/// Storage failures, as the API layer distinguishes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The key exists already.
    #[error("already exists")]
    AlreadyExists,
    /// The key does not exist.
    #[error("not found")]
    NotFound,
    /// The key changed since the expected revision.
    #[error("conflict")]
    Conflict,
    /// The revision asked for was compacted.
    #[error("compacted (at {compacted})")]
    Compacted {
        /// The compacted revision.
        compacted: i64,
    },
    /// The revision asked for is in the future.
    #[error("future revision {requested} (current {current})")]
    Future {
        /// Asked for.
        requested: i64,
        /// Current.
        current: i64,
    },
    /// A stored value is not valid JSON, or the backend failed.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for StorageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists { .. } => Self::AlreadyExists,
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict { .. } => Self::Conflict,
            StoreError::Compacted { compact_revision } => Self::Compacted {
                compacted: compact_revision,
            },
            StoreError::FutureRevision { requested, current } => {
                Self::Future { requested, current }
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// One page of a filtered list.
#[derive(Debug, Clone)]
pub struct Page {
    /// Objects that passed the filter, with resourceVersion set.
    pub items: Vec<Value>,
    /// The key to resume at, if the page stopped early.
    pub next_key: Option<String>,
    /// Keys left after the page (unfiltered count).
    pub remaining: i64,
}

/// A change to one object, decoded.
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    /// The revision of the change.
    pub revision: i64,
    /// The object after the change (`None` for a delete), shared with every other watch that
    /// sees this change.
    pub object: Option<Arc<SharedObject>>,
    /// The object before the change (`None` for a create, and for an update when the watch
    /// said it does not need it: see [`ObjectWatch::previous_only_for_deletes`]); for a delete
    /// its resourceVersion is the delete's revision.
    pub previous: Option<Arc<SharedObject>>,
    /// Whether the object existed before the change (known without decoding it).
    pub had_previous: bool,
}

/// A stream of object changes under one prefix.
#[derive(Debug)]
pub struct ObjectWatch {
    inner: kubetwin_store::Watcher,
    previous_needed: bool,
    decoded: Arc<DecodedCache>,
    prefix: String,
}

impl Drop for ObjectWatch {
    fn drop(&mut self) {
        self.decoded.unwatch(&self.prefix);
    }
}

impl ObjectWatch {
    /// Every change under the prefix up to this revision has been delivered: a bookmark's
    /// resourceVersion.
    pub fn progress_revision(&self) -> i64 {
        self.inner.progress_revision()
    }

    /// The next change; `Err` with the compacted revision when the watch fell too far behind.
    pub async fn next(&mut self) -> Option<Result<ObjectEvent, StorageError>> {
        let event = match self.inner.recv().await {
            Ok(e) => e,
            Err(WatchError::Compacted { compact_revision }) => {
                return Some(Err(StorageError::Compacted {
                    compacted: compact_revision,
                }));
            }
            Err(_) => return None,
        };
        Some(decode_event(event, self.previous_needed, &self.decoded))
    }

    /// Decode the previous object of deletes only: a watch without selectors never looks at
    /// the old object of an update, and decoding it doubled every watcher's work.
    pub fn previous_only_for_deletes(&mut self) {
        self.previous_needed = false;
    }
}

fn decode_event(
    event: Event,
    previous_needed: bool,
    decoded: &DecodedCache,
) -> Result<ObjectEvent, StorageError> {
    let revision = event.revision();
    let had_previous = event.prev_kv.is_some();
    let (object, previous) = match event.kind {
        EventKind::Put => {
            let previous = match (&event.prev_kv, previous_needed) {
                (Some(kv), true) => Some(decoded.get(kv, kv.mod_revision)?),
                _ => None,
            };
            (Some(decoded.get(&event.kv, revision)?), previous)
        }
        // A deleted object is reported at the delete's revision (upstream etcd3 watcher).
        EventKind::Delete => (
            None,
            event
                .prev_kv
                .as_ref()
                .map(|kv| decoded.get(kv, revision))
                .transpose()?,
        ),
    };
    Ok(ObjectEvent {
        revision,
        object,
        previous,
        had_previous,
    })
}

/// How many decoded changes the server keeps for its watches: enough that the watches of a
/// busy cluster, which lag each other by a few thousand revisions, still find each change
/// decoded (at 4,096 a pod change was decoded about three times in the whole-cluster benchmark,
/// at 16,384 about once).
const DECODED_CACHE_CAPACITY: usize = 16_384;

/// The decoded objects of recent changes, shared by every watch of one server: each change is
/// parsed once, however many watches (informers, the scheduler, the kubelets' feed, kubectl)
/// deliver it. Watches read changes at about the same revisions, so the oldest revisions are
/// dropped first; a watch that lags further decodes again (the result is the same). Upstream
/// has the same economy in the watch cache (`cacher.go`: one decoded object fanned out to
/// every watcher).
#[derive(Debug, Default)]
struct DecodedCache {
    /// (revision reported as resourceVersion, key) → the object.
    entries: Mutex<BTreeMap<(i64, Bytes), Arc<SharedObject>>>,
    /// Changes found decoded.
    hits: AtomicU64,
    /// Changes decoded (the first watch of each, and watches that lagged past the cache).
    misses: AtomicU64,
    /// Prefixes of the open watches, with how many watch each: a write under no watched
    /// prefix (events, usually) keeps no decoded copy, which would only take a slot and memory.
    watched: Mutex<BTreeMap<String, usize>>,
}

impl DecodedCache {
    /// `kv`'s value decoded, with resourceVersion `revision`.
    fn get(&self, kv: &KeyValue, revision: i64) -> Result<Arc<SharedObject>, StorageError> {
        let id = (revision, kv.key.clone());
        if let Some(found) = self.lock().get(&id) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::clone(found));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let mut value = decode(kv)?;
        if revision != kv.mod_revision {
            object::set_resource_version(&mut value, revision);
        }
        Ok(self.keep(id, value))
    }

    /// Keeps what was just written at `key`, as decoding its stored bytes would give it, so
    /// that watches copy nothing and parse nothing (a copy of the value costs less than a parse).
    fn remember(&self, key: &str, revision: i64, written: &Value) {
        if self.is_watched(key) {
            self.share_written(key, revision, written.clone());
        }
    }

    fn watch(&self, prefix: &str) {
        *self.lock_watched().entry(prefix.to_string()).or_default() += 1;
    }

    fn unwatch(&self, prefix: &str) {
        let mut watched = self.lock_watched();
        if let Some(count) = watched.get_mut(prefix) {
            *count -= 1;
            if *count == 0 {
                watched.remove(prefix);
            }
        }
    }

    fn is_watched(&self, key: &str) -> bool {
        self.lock_watched()
            .keys()
            .any(|prefix| key.starts_with(prefix.as_str()))
    }

    fn lock_watched(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        self.watched.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was just written at `key`, as the watches and the writer's caller will see it: the
    /// object itself (no copy) with its resourceVersion, kept for the watches when a watch
    /// covers `key`.
    fn share_written(&self, key: &str, revision: i64, mut value: Value) -> Arc<SharedObject> {
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("selfLink");
        }
        object::set_resource_version(&mut value, revision);
        if self.is_watched(key) {
            self.keep((revision, Bytes::copy_from_slice(key.as_bytes())), value)
        } else {
            Arc::new(SharedObject::new(value))
        }
    }

    /// Keeps `value` under `id` unless another thread kept one first (then that one is
    /// returned), dropping the oldest revisions beyond the capacity.
    fn keep(&self, id: (i64, Bytes), value: Value) -> Arc<SharedObject> {
        let mut entries = self.lock();
        let shared = Arc::clone(
            entries
                .entry(id)
                .or_insert_with(|| Arc::new(SharedObject::new(value))),
        );
        while entries.len() > DECODED_CACHE_CAPACITY {
            entries.pop_first();
        }
        shared
    }

    /// `kv`'s value at `revision` if a watch decoded it already (counted as neither hit nor
    /// miss: those count watch deliveries).
    fn peek(&self, kv: &KeyValue, revision: i64) -> Option<Arc<SharedObject>> {
        self.lock().get(&(revision, kv.key.clone())).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(i64, Bytes), Arc<SharedObject>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Decodes a stored value and sets its resourceVersion from the key's revision.
pub fn decode(kv: &KeyValue) -> Result<Value, StorageError> {
    let mut value: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| StorageError::Internal(format!("corrupt stored object: {e}")))?;
    object::set_resource_version(&mut value, kv.mod_revision);
    Ok(value)
}

/// Encodes an object for storage: canonical JSON (sorted keys) without resourceVersion.
pub fn encode(obj: &Value) -> Bytes {
    let meta = &obj["metadata"];
    if meta.get("resourceVersion").is_none() && meta.get("selfLink").is_none() {
        return encode_exact(obj);
    }
    let mut obj = obj.clone();
    strip_server_fields(&mut obj);
    encode_exact(&obj)
}

/// Drops what the store never keeps (the resourceVersion is the key's revision).
fn strip_server_fields(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        meta.remove("selfLink");
    }
}

thread_local! {
    /// Serialization scratch space: the store keeps every revision until compaction, so each
    /// stored value is copied out at its exact length (a growing `Vec` would keep up to twice
    /// the bytes, and grow through a chain of reallocations).
    static ENCODE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn encode_exact(obj: &Value) -> Bytes {
    ENCODE_BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            if serde_json::to_writer(&mut *buffer, obj).is_err() {
                buffer.clear();
            }
            let bytes = Bytes::copy_from_slice(&buffer);
            // Keep a typical object's worth of scratch space, not the largest ever seen.
            if buffer.capacity() > 1 << 20 {
                *buffer = Vec::new();
            }
            bytes
        }
        Err(_) => Bytes::from(serde_json::to_vec(obj).unwrap_or_default()),
    })
}

/// Objects over the revisioned store.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Store,
    decoded: Arc<DecodedCache>,
}

impl Storage {
    /// Objects over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            decoded: Arc::default(),
        }
    }

    /// How many changes watches found already decoded (kept by the write that stored them, or
    /// decoded by another watch), and how many they had to decode themselves.
    pub fn watch_decodes(&self) -> (u64, u64) {
        (
            self.decoded.hits.load(Ordering::Relaxed),
            self.decoded.misses.load(Ordering::Relaxed),
        )
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current revision.
    pub fn revision(&self) -> i64 {
        self.store.current_revision()
    }

    /// The object at `key` and its revision.
    pub fn get(&self, key: &str) -> Result<Option<(Value, i64)>, StorageError> {
        match self.store.get(key)? {
            // A recently written object is usually decoded for the watches already; copying
            // that is cheaper than parsing it again (writes read the object they change).
            Some(kv) => match self.decoded.peek(&kv, kv.mod_revision) {
                Some(shared) => Ok(Some((Value::clone(&shared), kv.mod_revision))),
                None => Ok(Some((decode(&kv)?, kv.mod_revision))),
            },
            None => Ok(None),
        }
    }

    /// [`Storage::get`] without a copy when the object is decoded already: a write reads the
    /// object it replaces only to compare and derive, so it can share the watches' copy.
    pub fn get_shared(&self, key: &str) -> Result<Option<(Arc<SharedObject>, i64)>, StorageError> {
        match self.store.get(key)? {
            Some(kv) => match self.decoded.peek(&kv, kv.mod_revision) {
                Some(shared) => Ok(Some((shared, kv.mod_revision))),
                None => Ok(Some((
                    Arc::new(SharedObject::new(decode(&kv)?)),
                    kv.mod_revision,
                ))),
            },
            None => Ok(None),
        }
    }

    /// Lists objects under `prefix` at `revision`, from `start` (inclusive), keeping those
    /// `keep` accepts, until `limit` are kept (0 = all). Reads in batches, as upstream's etcd3
    /// `GetList` does when a predicate filters.
    pub fn list_page(
        &self,
        prefix: &str,
        start: Option<&str>,
        revision: i64,
        limit: usize,
        keep: &dyn Fn(&Value) -> bool,
    ) -> Result<Page, StorageError> {
        let end = kubetwin_store::prefix_range_end(prefix.as_bytes());
        let mut from = start.unwrap_or(prefix).to_string();
        let mut items = Vec::new();
        let batch = if limit == 0 { 0 } else { limit.max(100) };
        loop {
            let req = RangeRequest::range(from.as_bytes(), &end[..])
                .with_limit(batch)
                .at_revision(revision);
            let result = self.store.range(&req)?;
            let fetched = result.kvs.len() as i64;
            for (i, kv) in result.kvs.iter().enumerate() {
                let obj = decode(kv)?;
                if keep(&obj) {
                    items.push(obj);
                    if limit > 0 && items.len() == limit {
                        let left = result.count - (i as i64 + 1);
                        if left > 0 {
                            let next = result
                                .kvs
                                .get(i + 1)
                                .and_then(|k| k.key_str().map(str::to_string));
                            let next = match next {
                                Some(n) => n,
                                // The next key is past this batch: resume just after this one.
                                None => format!("{}\u{0}", kv.key_str().unwrap_or_default()),
                            };
                            return Ok(Page {
                                items,
                                next_key: Some(next),
                                remaining: left,
                            });
                        }
                        return Ok(Page {
                            items,
                            next_key: None,
                            remaining: 0,
                        });
                    }
                }
            }
            if !result.more || fetched == 0 {
                return Ok(Page {
                    items,
                    next_key: None,
                    remaining: 0,
                });
            }
            let last = result
                .kvs
                .last()
                .and_then(|k| k.key_str())
                .unwrap_or_default();
            from = format!("{last}\u{0}");
        }
    }

    /// Creates `key`; returns the new revision.
    pub async fn create(&self, key: &str, obj: &Value) -> Result<i64, StorageError> {
        let revision = self.store.create(key, encode(obj)).await?.mod_revision;
        self.decoded.remember(key, revision, obj);
        Ok(revision)
    }

    /// Replaces `key` if its revision is still `expected`; returns the new revision.
    pub async fn update(&self, key: &str, obj: &Value, expected: i64) -> Result<i64, StorageError> {
        let revision = self
            .store
            .update(key, encode(obj), expected)
            .await?
            .mod_revision;
        self.decoded.remember(key, revision, obj);
        Ok(revision)
    }

    /// [`Storage::create`] of an object the caller gives up: the stored object comes back as
    /// watches see it (shared with them, not copied). On failure the object is handed back.
    pub async fn create_shared(
        &self,
        key: &str,
        obj: Value,
    ) -> Result<(i64, Arc<SharedObject>), (StorageError, Value)> {
        match self.store.create(key, encode(&obj)).await {
            Ok(kv) => Ok((
                kv.mod_revision,
                self.decoded.share_written(key, kv.mod_revision, obj),
            )),
            Err(e) => Err((e.into(), obj)),
        }
    }

    /// [`Storage::update`] of an object the caller gives up: the stored object comes back as
    /// watches see it (shared with them, not copied).
    pub async fn update_shared(
        &self,
        key: &str,
        mut obj: Value,
        expected: i64,
    ) -> Result<(i64, Arc<SharedObject>), StorageError> {
        strip_server_fields(&mut obj);
        let revision = self
            .store
            .update(key, encode(&obj), expected)
            .await?
            .mod_revision;
        Ok((revision, self.decoded.share_written(key, revision, obj)))
    }

    /// Deletes `key` if its revision is still `expected`; returns the delete's revision.
    pub async fn delete(&self, key: &str, expected: i64) -> Result<i64, StorageError> {
        Ok(self.store.delete(key, Some(expected)).await?.revision)
    }

    /// Watches changes under `prefix` after `revision` (exclusive).
    pub fn watch(&self, prefix: &str, revision: i64) -> Result<ObjectWatch, StorageError> {
        let inner = self.store.watch(prefix, revision + 1)?;
        self.decoded.watch(prefix);
        Ok(ObjectWatch {
            inner,
            previous_needed: true,
            decoded: Arc::clone(&self.decoded),
            prefix: prefix.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config_map(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}})
    }

    async fn create(storage: &Storage, name: &str) {
        storage
            .create(
                &format!("/registry/configmaps/default/{name}"),
                &config_map(name),
            )
            .await
            .expect("create");
    }

    /// (hits, decodes) of the next event of `watch`.
    async fn delivery(storage: &Storage, watch: &mut ObjectWatch) -> (u64, u64) {
        let before = storage.watch_decodes();
        watch.next().await.expect("event").expect("decoded");
        let after = storage.watch_decodes();
        (after.0 - before.0, after.1 - before.1)
    }

    #[tokio::test]
    async fn writes_keep_a_decoded_copy_only_under_watched_prefixes() {
        let storage = Storage::new(Store::memory());
        let start = storage.revision();
        // Written while nothing watches config maps: the late watch decodes it.
        create(&storage, "a").await;
        let mut late = storage
            .watch("/registry/configmaps/", start)
            .expect("watch");
        assert_eq!(delivery(&storage, &mut late).await, (0, 1));
        // Written while a watch is open: every watch finds it decoded.
        create(&storage, "b").await;
        assert_eq!(delivery(&storage, &mut late).await, (1, 0));
        // Once the last watch is gone, writes keep no copy again.
        drop(late);
        let before_c = storage.revision();
        create(&storage, "c").await;
        let mut again = storage
            .watch("/registry/configmaps/", before_c)
            .expect("watch");
        assert_eq!(delivery(&storage, &mut again).await, (0, 1));
        // A read of what was written still sees the object, decoded or not.
        let (c, _) = storage
            .get("/registry/configmaps/default/c")
            .expect("get")
            .expect("present");
        assert_eq!(c["data"]["k"], "v");
    }
}
