//! The API server's view of the store: objects as JSON values keyed by their registry key,
//! with the object's resourceVersion being the key's `mod_revision` (as kube-apiserver's
//! etcd3 storage: the stored bytes never carry a resourceVersion; it is set on read).
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`, `.../etcd3/watcher.go`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use kubetwin_store::{
    Event, EventKind, KeyValue, Provider, RangeRequest, Store, StoreError, StoreValue, WatchError,
};

use crate::node_index::{self, PodNodeIndex};
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
    /// This watch's registration in the decoded cache.
    registration: Registration,
    /// The revision of the last change delivered.
    delivered: i64,
}

impl Drop for ObjectWatch {
    fn drop(&mut self) {
        self.decoded.unwatch(&self.registration, self.delivered);
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
        self.delivered = event.revision();
        Some(decode_event(
            event,
            self.previous_needed,
            &self.decoded,
            &self.registration,
        ))
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
    registration: &Registration,
) -> Result<ObjectEvent, StorageError> {
    let revision = event.revision();
    let had_previous = event.prev_kv.is_some();
    let (object, previous) = match event.kind {
        EventKind::Put => {
            let previous = match (&event.prev_kv, previous_needed) {
                (Some(kv), true) => Some(decoded.get(kv, kv.mod_revision, None)?),
                _ => None,
            };
            let object = decoded.get(&event.kv, revision, Some(registration))?;
            (Some(object), previous)
        }
        // A deleted object is reported at the delete's revision (upstream etcd3 watcher).
        EventKind::Delete => (
            None,
            event
                .prev_kv
                .as_ref()
                .map(|kv| decoded.get_deleted(kv, revision))
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

/// How many decoded changes the server keeps for its watches once every watch has delivered
/// them (they stay for the writes that read the object they replace).
const DECODED_CACHE_CAPACITY: usize = 16_384;

/// How many decoded changes the server keeps at most, counting those some watch has yet to
/// deliver: a watch finds its changes decoded as long as fewer than this many are in flight.
/// A burst of writes (a 20,000-pod creation) puts the pod watches more than
/// [`DECODED_CACHE_CAPACITY`] changes behind; with that as the bound, every pod watch decoded
/// every change on its own (five parses and five copies of each pod), which slowed the watches
/// further. The changes held are shared with the watches' consumers anyway.
const DECODED_CACHE_IN_FLIGHT_CAPACITY: usize = 8 * DECODED_CACHE_CAPACITY;

/// The decoded objects of recent changes, shared by every watch of one server: each change is
/// parsed once, however many watches (informers, the scheduler, the kubelets' feed, kubectl)
/// deliver it. A change counts the watches that will deliver it; once each has, it is
/// "consumed", and consumed changes are dropped first (oldest first) when the cache is full,
/// so a watch that lags a burst of writes still finds them decoded, where dropping by age made
/// it decode them again (in the whole-cluster benchmark that was 0.25 – 0.9 decodes per write,
/// varying with how far the informers lagged). Upstream has the same economy in the watch
/// cache (`cacher.go`: one decoded object fanned out to every watcher).
#[derive(Debug, Default)]
struct DecodedCache {
    entries: Mutex<Entries>,
    /// Changes found decoded.
    hits: AtomicU64,
    /// Changes decoded (the first watch of each, and watches that lagged past the cache).
    misses: AtomicU64,
    /// The open watches: a write under no watched prefix (events, usually) keeps no decoded
    /// copy, which would only take a slot and memory.
    watches: Mutex<Watches>,
}

#[derive(Debug, Default)]
struct Entries {
    /// (revision reported as resourceVersion, key) → the object and how many watches have yet
    /// to deliver it.
    by_id: BTreeMap<(i64, Bytes), Cached>,
    /// The ids of the changes every watch delivered, oldest first: dropped first.
    consumed: BTreeSet<(i64, Bytes)>,
    /// Key → the revision of its newest consumed change kept. An older consumed change of the
    /// same key is dropped: every watch has delivered both, and writes read only the newest.
    newest_consumed: BTreeMap<Bytes, i64>,
    /// How many consumed changes are kept, and how many changes at most (`None`:
    /// [`DECODED_CACHE_CAPACITY`] and [`DECODED_CACHE_IN_FLIGHT_CAPACITY`]; tests set less).
    capacity: Option<(usize, usize)>,
}

#[derive(Debug)]
struct Cached {
    object: Arc<SharedObject>,
    pending: usize,
}

#[derive(Debug, Default)]
struct Watches {
    next_id: u64,
    /// id → the watch's registration.
    open: BTreeMap<u64, Registration>,
}

/// A watch as the decoded cache counts it: it delivers every change under `prefix` after
/// `after`, and each change written after it registered counts it.
#[derive(Debug, Clone)]
struct Registration {
    id: u64,
    prefix: String,
    /// The store's revision when the watch registered.
    after: i64,
}

impl Registration {
    /// Whether the change `(revision, key)` counted this watch when it was written.
    fn counted(&self, revision: i64, key: &[u8]) -> bool {
        revision > self.after && key.starts_with(self.prefix.as_bytes())
    }
}

impl Entries {
    /// Keeps `object` under `id` unless it is kept already (then that one is returned),
    /// dropping consumed changes (oldest first) beyond the consumed capacity, and the oldest
    /// changes beyond the whole capacity.
    fn keep(&mut self, id: (i64, Bytes), object: Value, pending: usize) -> Arc<SharedObject> {
        if let Some(found) = self.by_id.get(&id) {
            return Arc::clone(&found.object);
        }
        let object = Arc::new(SharedObject::new(object));
        self.by_id.insert(
            id.clone(),
            Cached {
                object: Arc::clone(&object),
                pending,
            },
        );
        if pending == 0 {
            self.consume(id);
        }
        let (consumed_capacity, capacity) = self
            .capacity
            .unwrap_or((DECODED_CACHE_CAPACITY, DECODED_CACHE_IN_FLIGHT_CAPACITY));
        while self.by_id.len() > consumed_capacity {
            match self.consumed.pop_first() {
                Some(oldest) => {
                    self.by_id.remove(&oldest);
                    if self.newest_consumed.get(&oldest.1) == Some(&oldest.0) {
                        self.newest_consumed.remove(&oldest.1);
                    }
                }
                None if self.by_id.len() > capacity => {
                    self.by_id.pop_first();
                }
                None => break,
            }
        }
        object
    }

    /// One watch fewer has `id` to deliver.
    fn delivered(&mut self, id: &(i64, Bytes)) {
        if let Some(cached) = self.by_id.get_mut(id)
            && cached.pending > 0
        {
            cached.pending -= 1;
            if cached.pending == 0 {
                self.consume(id.clone());
            }
        }
    }

    /// Every watch delivered the kept change `id`: it joins the consumed changes, and of two
    /// consumed changes of one key only the newer stays.
    fn consume(&mut self, id: (i64, Bytes)) {
        let (revision, key) = &id;
        match self.newest_consumed.get(key).copied() {
            Some(newer) if newer > *revision => {
                self.by_id.remove(&id);
                return;
            }
            Some(older) => {
                let older = (older, key.clone());
                self.by_id.remove(&older);
                self.consumed.remove(&older);
            }
            None => {}
        }
        self.newest_consumed.insert(key.clone(), *revision);
        self.consumed.insert(id);
    }
}

impl DecodedCache {
    /// `kv`'s value decoded, with resourceVersion `revision`; `by` is the watch delivering it
    /// as its change (not as the object before a change).
    fn get(
        &self,
        kv: &KeyValue,
        revision: i64,
        by: Option<&Registration>,
    ) -> Result<Arc<SharedObject>, StorageError> {
        let id = (revision, kv.key.clone());
        {
            let mut entries = self.lock();
            if let Some(found) = entries.by_id.get(&id) {
                let object = Arc::clone(&found.object);
                if by.is_some_and(|w| w.counted(revision, &kv.key)) {
                    entries.delivered(&id);
                }
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(object);
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let mut value = decode(kv)?;
        if revision != kv.mod_revision {
            object::set_resource_version(&mut value, revision);
        }
        Ok(self.lock().keep(id, value, 0))
    }

    /// The object `kv` (its last version) as a delete at `revision` reports it: a copy of that
    /// version if it is decoded already, with the delete's resourceVersion. Every pod's delete
    /// was parsed from its stored bytes, though its last version (the kubelet's final status)
    /// was almost always decoded still, and a copy costs less than a parse.
    fn get_deleted(&self, kv: &KeyValue, revision: i64) -> Result<Arc<SharedObject>, StorageError> {
        let last = {
            let entries = self.lock();
            if let Some(found) = entries.by_id.get(&(revision, kv.key.clone())) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Arc::clone(&found.object));
            }
            entries
                .by_id
                .get(&(kv.mod_revision, kv.key.clone()))
                .map(|found| Arc::clone(&found.object))
        };
        let Some(last) = last else {
            return self.get(kv, revision, None);
        };
        self.hits.fetch_add(1, Ordering::Relaxed);
        let mut value = Value::clone(&last);
        object::set_resource_version(&mut value, revision);
        Ok(self.lock().keep((revision, kv.key.clone()), value, 0))
    }

    /// Keeps what was just written at `key`, as decoding its stored bytes would give it, so
    /// that watches copy nothing and parse nothing (a copy of the value costs less than a parse).
    fn remember(&self, key: &str, revision: i64, written: &Value) {
        let pending = self.watchers_of(key, revision);
        if pending > 0 {
            self.keep_written(key, revision, written.clone(), pending);
        }
    }

    /// Registers a watch of `prefix` that starts after the store's revision `after`.
    fn watch(&self, prefix: &str, store: &Store) -> Registration {
        let mut watches = self.lock_watches();
        let id = watches.next_id;
        watches.next_id += 1;
        // Read under the lock: a write counts the watches registered before it counts, and
        // those registered after it see its revision here.
        let registration = Registration {
            id,
            prefix: prefix.to_string(),
            after: store.current_revision(),
        };
        watches.open.insert(id, registration.clone());
        registration
    }

    /// The watch is gone: the changes it was counted for and did not deliver (after
    /// `delivered`) no longer wait for it.
    fn unwatch(&self, registration: &Registration, delivered: i64) {
        self.lock_watches().open.remove(&registration.id);
        let mut entries = self.lock();
        let from = (registration.after.max(delivered) + 1, Bytes::new());
        let waiting: Vec<(i64, Bytes)> = entries
            .by_id
            .range(from..)
            .filter(|((revision, key), cached)| {
                cached.pending > 0 && registration.counted(*revision, key)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &waiting {
            entries.delivered(id);
        }
    }

    /// How many open watches will deliver the change `(revision, key)`.
    fn watchers_of(&self, key: &str, revision: i64) -> usize {
        self.lock_watches()
            .open
            .values()
            .filter(|w| w.counted(revision, key.as_bytes()))
            .count()
    }

    fn lock_watches(&self) -> std::sync::MutexGuard<'_, Watches> {
        self.watches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What was just written at `key`, as the watches and the writer's caller will see it: the
    /// object itself (no copy) with its resourceVersion, kept for the watches that will
    /// deliver it.
    fn share_written(&self, key: &str, revision: i64, value: Value) -> Arc<SharedObject> {
        match self.watchers_of(key, revision) {
            0 => Arc::new(SharedObject::new(as_read(value, revision))),
            pending => self.keep_written(key, revision, value, pending),
        }
    }

    /// Keeps a written object for the `pending` watches that will deliver it.
    fn keep_written(
        &self,
        key: &str,
        revision: i64,
        value: Value,
        pending: usize,
    ) -> Arc<SharedObject> {
        let object = self.lock().keep(
            (revision, Bytes::copy_from_slice(key.as_bytes())),
            as_read(value, revision),
            pending,
        );
        // The scheduler, the controllers and the kubelets each read a pod change as a `Pod`.
        if key.starts_with(node_index::POD_PREFIX) {
            crate::offload::decode_soon(Arc::clone(&object), crate::offload::decode_pod);
        }
        object
    }

    /// `kv`'s value at `revision` if a watch decoded it already (counted as neither hit nor
    /// miss: those count watch deliveries).
    fn peek(&self, kv: &KeyValue, revision: i64) -> Option<Arc<SharedObject>> {
        self.lock()
            .by_id
            .get(&(revision, kv.key.clone()))
            .map(|cached| Arc::clone(&cached.object))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A written object as a read of it gives it: with its resourceVersion, without a selfLink.
fn as_read(mut value: Value, revision: i64) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("selfLink");
    }
    object::set_resource_version(&mut value, revision);
    value
}

/// The pods-by-node index of the pods `store` holds now (none for a new store). A store it
/// cannot read whole gets an index that answers nothing: lists then read every pod, and report
/// what fails.
fn index_stored_pods(store: &Store) -> PodNodeIndex {
    let revision = store.current_revision();
    let end = kubetwin_store::prefix_range_end(node_index::POD_PREFIX.as_bytes());
    let request =
        RangeRequest::range(node_index::POD_PREFIX.as_bytes(), &end[..]).at_revision(revision);
    let pods: Option<Vec<(String, Value)>> = store.range(&request).ok().and_then(|found| {
        found
            .kvs
            .iter()
            .map(|kv| {
                Some((
                    kv.key_str()?.to_string(),
                    serde_json::from_slice(&kv.value).ok()?,
                ))
            })
            .collect()
    });
    match pods {
        Some(pods) => PodNodeIndex::new(pods.iter().map(|(k, v)| (k.as_str(), v)), revision),
        None => PodNodeIndex::new(Vec::new(), i64::MAX),
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

/// Provides the bytes of a stored `value` made later (`bytes_later`, from
/// [`Storage::value_of`]): the encoding of the written object as a read gives it
/// (`shared`), less its resourceVersion, which is what [`encode`] gives for the object
/// written. The offload thread makes them ahead of any reader.
fn encode_later(value: StoreValue, bytes_later: Option<Provider>, shared: &Arc<SharedObject>) {
    if let Some(provider) = bytes_later {
        let object = Arc::clone(shared);
        provider.provide(move || {
            encode_with(|buffer| {
                kubetwin_core::json::write_value_omitting(
                    &object,
                    "metadata",
                    &["resourceVersion", "selfLink"],
                    buffer,
                );
            })
        });
        crate::offload::encode_soon(value);
    }
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
    encode_with(|buffer| kubetwin_core::json::write_value(obj, buffer))
}

/// The bytes `write` appends to an empty buffer, copied out at their exact length.
fn encode_with(write: impl Fn(&mut Vec<u8>)) -> Bytes {
    ENCODE_BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            write(&mut buffer);
            let bytes = Bytes::copy_from_slice(&buffer);
            // Keep a typical object's worth of scratch space, not the largest ever seen.
            if buffer.capacity() > 1 << 20 {
                *buffer = Vec::new();
            }
            bytes
        }
        Err(_) => {
            let mut buffer = Vec::new();
            write(&mut buffer);
            Bytes::from(buffer)
        }
    })
}

/// Objects over the revisioned store.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Store,
    decoded: Arc<DecodedCache>,
    pods_by_node: Arc<PodNodeIndex>,
}

impl Storage {
    /// Objects over `store`.
    pub fn new(store: Store) -> Self {
        let pods_by_node = Arc::new(index_stored_pods(&store));
        Self {
            store,
            decoded: Arc::default(),
            pods_by_node,
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
        self.list_page_prefiltered(prefix, start, revision, limit, &[], keep)
    }

    /// The pods under `prefix` with `spec.nodeName` `node` at `revision`, from `start`
    /// (inclusive), that `keep` accepts, read through the pods-by-node index (see
    /// `node_index`); `None` when the index cannot answer for `revision` (then a full list
    /// gives the answer, or the error).
    pub fn list_pods_on_node(
        &self,
        prefix: &str,
        start: Option<&str>,
        revision: i64,
        limit: usize,
        node: &str,
        keep: &dyn Fn(&Value) -> bool,
    ) -> Option<Result<Page, StorageError>> {
        if !prefix.starts_with(node_index::POD_PREFIX) || revision > self.store.current_revision() {
            return None;
        }
        let end = kubetwin_store::prefix_range_end(prefix.as_bytes());
        let end = std::str::from_utf8(&end).ok()?;
        let candidates = self.pods_by_node.candidates(
            node,
            start.unwrap_or(prefix),
            end,
            revision,
            self.store.compacted_revision(),
        )?;
        Some(self.read_candidates(&candidates, revision, limit, keep))
    }

    fn read_candidates(
        &self,
        candidates: &[String],
        revision: i64,
        limit: usize,
        keep: &dyn Fn(&Value) -> bool,
    ) -> Result<Page, StorageError> {
        let mut items = Vec::new();
        for (i, key) in candidates.iter().enumerate() {
            let found = self
                .store
                .range(&RangeRequest::key(key).at_revision(revision))?;
            let Some(kv) = found.kvs.first() else {
                continue;
            };
            let obj = decode(kv)?;
            if !keep(&obj) {
                continue;
            }
            items.push(obj);
            if limit > 0 && items.len() == limit {
                let rest = &candidates[i + 1..];
                return Ok(Page {
                    items,
                    next_key: rest.first().cloned(),
                    remaining: rest.len() as i64,
                });
            }
        }
        Ok(Page {
            items,
            next_key: None,
            remaining: 0,
        })
    }

    /// [`Storage::list_page`] that skips, without decoding them, the stored values that lack
    /// one of the byte strings `must_contain` (which `keep` would reject anyway: e.g. the
    /// encoded `"nodeName":"n1"` of a `spec.nodeName=n1` field selector, so a kubelet's list of
    /// its pods does not decode every pod of the cluster).
    pub fn list_page_prefiltered(
        &self,
        prefix: &str,
        start: Option<&str>,
        revision: i64,
        limit: usize,
        must_contain: &[Vec<u8>],
        keep: &dyn Fn(&Value) -> bool,
    ) -> Result<Page, StorageError> {
        let needles: Vec<memchr::memmem::Finder<'_>> = must_contain
            .iter()
            .map(memchr::memmem::Finder::new)
            .collect();
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
                if !needles
                    .iter()
                    .all(|needle| needle.find(&kv.value).is_some())
                {
                    continue;
                }
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
        let left = self.pods_by_node.before_write(key, obj);
        let revision = self.store.create(key, encode(obj)).await?.mod_revision;
        self.after_write(key, left, revision);
        self.decoded.remember(key, revision, obj);
        Ok(revision)
    }

    /// Replaces `key` if its revision is still `expected`; returns the new revision.
    pub async fn update(&self, key: &str, obj: &Value, expected: i64) -> Result<i64, StorageError> {
        let left = self.pods_by_node.before_write(key, obj);
        let revision = self
            .store
            .update(key, encode(obj), expected)
            .await?
            .mod_revision;
        self.after_write(key, left, revision);
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
        let left = self.pods_by_node.before_write(key, &obj);
        let (value, bytes_later) = self.value_of(&obj);
        match self.store.create(key, value.clone()).await {
            Ok(kv) => Ok((kv.mod_revision, {
                self.after_write(key, left, kv.mod_revision);
                let shared = self.decoded.share_written(key, kv.mod_revision, obj);
                encode_later(value, bytes_later, &shared);
                shared
            })),
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
        let left = self.pods_by_node.before_write(key, &obj);
        let (value, bytes_later) = self.value_of(&obj);
        let revision = self
            .store
            .update(key, value.clone(), expected)
            .await?
            .mod_revision;
        self.after_write(key, left, revision);
        let shared = self.decoded.share_written(key, revision, obj);
        encode_later(value, bytes_later, &shared);
        Ok((revision, shared))
    }

    /// The value to store for `obj`, which the write then shares with its watches: its bytes
    /// made later, from the shared object (see [`encode_later`]), when the store applies
    /// writes inline; encoded now otherwise (the durable store writes them out first).
    fn value_of(&self, obj: &Value) -> (StoreValue, Option<Provider>) {
        // The shared object gets its resourceVersion in `metadata`, which must be an object
        // already for the bytes to be the same (validation saw to that).
        if self.store.applies_writes_inline() && obj["metadata"].is_object() {
            let (value, provider) = StoreValue::later();
            (value, Some(provider))
        } else {
            (encode(obj).into(), None)
        }
    }

    /// Deletes `key` if its revision is still `expected`; returns the delete's revision.
    pub async fn delete(&self, key: &str, expected: i64) -> Result<i64, StorageError> {
        let revision = self.store.delete(key, Some(expected)).await?.revision;
        self.pods_by_node.deleted(key, revision);
        Ok(revision)
    }

    /// Deletes those of `keys` that exist, in one transaction (an etcd lease's expiry).
    pub async fn delete_existing(&self, keys: &[String]) -> Result<(), StorageError> {
        let txn = kubetwin_store::Txn {
            compares: Vec::new(),
            success: keys.iter().map(kubetwin_store::Op::delete).collect(),
            failure: Vec::new(),
        };
        let response = self.store.txn(txn).await?;
        for (key, outcome) in keys.iter().zip(&response.responses) {
            if let kubetwin_store::OpResponse::Delete {
                prev_kv: Some(_), ..
            } = outcome
            {
                self.pods_by_node.deleted(key, response.revision);
            }
        }
        Ok(())
    }

    /// A write of `key` at `revision` took it off the node `left` (see `node_index`).
    fn after_write(&self, key: &str, left: Option<String>, revision: i64) {
        if let Some(node) = left {
            self.pods_by_node.left(key, &node, revision);
        }
    }

    /// Watches changes under `prefix` after `revision` (exclusive).
    pub fn watch(&self, prefix: &str, revision: i64) -> Result<ObjectWatch, StorageError> {
        let inner = self.store.watch(prefix, revision + 1)?;
        let registration = self.decoded.watch(prefix, &self.store);
        Ok(ObjectWatch {
            inner,
            previous_needed: true,
            decoded: Arc::clone(&self.decoded),
            registration,
            delivered: revision,
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

    /// A storage whose decoded cache keeps `capacity` (consumed, all) changes, and two watches
    /// of its config maps from now: one to deliver at once, one to lag.
    fn fast_and_slow(capacity: (usize, usize)) -> (Storage, ObjectWatch, ObjectWatch) {
        let storage = Storage::new(Store::memory());
        storage.decoded.lock().capacity = Some(capacity);
        let start = storage.revision();
        let fast = storage
            .watch("/registry/configmaps/", start)
            .expect("watch");
        let slow = storage
            .watch("/registry/configmaps/", start)
            .expect("watch");
        (storage, fast, slow)
    }

    /// The decoded change `(revision, key)` the cache holds, if it does.
    fn cached_at(storage: &Storage, revision: i64, key: &str) -> Option<Arc<SharedObject>> {
        storage
            .decoded
            .lock()
            .by_id
            .get(&(revision, Bytes::copy_from_slice(key.as_bytes())))
            .map(|c| Arc::clone(&c.object))
    }

    /// (hits, decodes) of the next event of `watch`.
    async fn delivery(storage: &Storage, watch: &mut ObjectWatch) -> (u64, u64) {
        let before = storage.watch_decodes();
        watch.next().await.expect("event").expect("decoded");
        let after = storage.watch_decodes();
        (after.0 - before.0, after.1 - before.1)
    }

    /// Changes every watch delivered go first when the cache is full: a watch that lags a
    /// burst still finds its changes decoded, and a closed watch holds nothing back.
    fn pod_on(name: &str, node: Option<&str>) -> Value {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"}, "spec": {"containers": []}});
        if let Some(node) = node {
            pod["spec"]["nodeName"] = json!(node);
        }
        pod
    }

    /// Every page of a list, following `next_key`.
    fn all_pages(
        mut page: impl FnMut(Option<&str>) -> Result<Page, StorageError>,
    ) -> Result<Vec<Value>, StorageError> {
        let mut items = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let p = page(start.as_deref())?;
            items.extend(p.items);
            match p.next_key {
                Some(next) => start = Some(next),
                None => return Ok(items),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Listing pods by `spec.nodeName` through the index gives, at every readable
        /// revision and page size, exactly what reading every pod gives: pods are created,
        /// bound, moved, deleted and re-created, and the store compacted, in any order.
        #[test]
        fn pods_by_node_lists_equal_full_lists(
            ops in proptest::collection::vec((0u8..4, 0usize..5, 0usize..4), 1..40),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            rt.block_on(async {
                let storage = Storage::new(Store::memory());
                let first = storage.revision();
                let mut revisions: BTreeMap<usize, i64> = BTreeMap::new();
                for (op, pod, node) in ops {
                    let name = format!("p{pod}");
                    let key = format!("/registry/pods/default/{name}");
                    let node_name = format!("n{node}");
                    let obj = pod_on(&name, (node > 0).then_some(node_name.as_str()));
                    match (op, revisions.get(&pod).copied()) {
                        (3, _) => {
                            let to = storage.revision() - 2;
                            if to > storage.store().compacted_revision() && to > 0 {
                                storage.store().compact(to).await.expect("compact");
                            }
                        }
                        (2, Some(rev)) => {
                            storage.delete(&key, rev).await.expect("delete");
                            revisions.remove(&pod);
                        }
                        (_, None) if op != 1 => {
                            let rev = storage.create(&key, &obj).await.expect("create");
                            revisions.insert(pod, rev);
                        }
                        (_, None) => {
                            let (rev, _) = storage.create_shared(&key, obj).await.map_err(|(e, _)| e).expect("create");
                            revisions.insert(pod, rev);
                        }
                        (0, Some(rev)) => {
                            let rev = storage.update(&key, &obj, rev).await.expect("update");
                            revisions.insert(pod, rev);
                        }
                        (_, Some(rev)) => {
                            let (rev, _) = storage.update_shared(&key, obj, rev).await.expect("update");
                            revisions.insert(pod, rev);
                        }
                    }
                }
                let prefix = "/registry/pods/";
                let from = (storage.store().compacted_revision()).max(first);
                for revision in from..=storage.revision() {
                    for node in ["n1", "n2", "n3"] {
                        let keep = |o: &Value| o["spec"]["nodeName"] == node;
                        for limit in [0, 1, 2] {
                            let full = all_pages(|start| {
                                storage.list_page(prefix, start, revision, limit, &keep)
                            });
                            let indexed = all_pages(|start| {
                                storage
                                    .list_pods_on_node(prefix, start, revision, limit, node, &keep)
                                    .expect("the index answers")
                            });
                            assert_eq!(indexed, full, "{node} at {revision}, limit {limit}");
                        }
                    }
                }
            });
        }
    }

    #[tokio::test]
    async fn changes_a_watch_has_yet_to_deliver_are_dropped_last() {
        let (storage, mut fast, mut slow) = fast_and_slow((3, 3));
        for name in ["a", "b", "c"] {
            create(&storage, name).await;
            assert_eq!(delivery(&storage, &mut fast).await, (1, 0), "{name}");
        }
        // Five changes through a cache of three: the slow watch's first two were dropped.
        for name in ["d", "e"] {
            create(&storage, name).await;
            assert_eq!(delivery(&storage, &mut fast).await, (1, 0), "{name}");
        }
        let slow_deliveries = [
            delivery(&storage, &mut slow).await,
            delivery(&storage, &mut slow).await,
            delivery(&storage, &mut slow).await,
        ];
        assert_eq!(slow_deliveries, [(0, 1), (0, 1), (1, 0)]);
        // The slow watch has delivered c: consumed now, and dropped before d and e, which it
        // has yet to deliver.
        create(&storage, "f").await;
        assert_eq!(delivery(&storage, &mut fast).await, (1, 0));
        for _ in ["d", "e", "f"] {
            assert_eq!(delivery(&storage, &mut slow).await, (1, 0));
        }
        // A watch that closes without delivering its changes no longer holds them.
        let idle = storage
            .watch("/registry/configmaps/", storage.revision())
            .expect("watch");
        create(&storage, "g").await;
        drop(idle);
        let entries = storage.decoded.lock();
        let waiting: Vec<usize> = entries.by_id.values().map(|c| c.pending).collect();
        assert_eq!(
            waiting.iter().sum::<usize>(),
            2,
            "g waits for fast and slow only"
        );
    }

    #[tokio::test]
    async fn changes_in_flight_stay_past_the_consumed_capacity() {
        // Two consumed changes kept at most, four changes in all.
        let (storage, mut fast, mut slow) = fast_and_slow((2, 4));
        for name in ["a", "b", "c", "d"] {
            create(&storage, name).await;
            assert_eq!(delivery(&storage, &mut fast).await, (1, 0), "{name}");
        }
        // Four changes the slow watch has yet to deliver: all kept, past the consumed capacity.
        assert_eq!(storage.decoded.lock().by_id.len(), 4);
        for name in ["a", "b"] {
            assert_eq!(delivery(&storage, &mut slow).await, (1, 0), "{name}");
        }
        // a and b are consumed now: past the consumed capacity, e drops them both.
        create(&storage, "e").await;
        assert_eq!(delivery(&storage, &mut fast).await, (1, 0));
        assert_eq!(storage.decoded.lock().by_id.len(), 3);
        // Past the whole capacity the oldest change goes, delivered or not: g drops c.
        create(&storage, "f").await;
        create(&storage, "g").await;
        for _ in ["f", "g"] {
            assert_eq!(delivery(&storage, &mut fast).await, (1, 0));
        }
        let slow_deliveries = [
            delivery(&storage, &mut slow).await,
            delivery(&storage, &mut slow).await,
            delivery(&storage, &mut slow).await,
            delivery(&storage, &mut slow).await,
            delivery(&storage, &mut slow).await,
        ];
        assert_eq!(slow_deliveries, [(0, 1), (1, 0), (1, 0), (1, 0), (1, 0)]);
    }

    /// Of two changes of one key that every watch delivered, only the newer stays: writes read
    /// only the newest, so the older one would only take memory. One a watch has yet to deliver
    /// stays, and so does the newest of each key.
    #[tokio::test]
    async fn an_older_delivered_change_of_a_key_goes_once_a_newer_one_is_delivered() {
        let (storage, mut fast, mut slow) = fast_and_slow((16, 16));
        let key = "/registry/configmaps/default/a";
        let first = storage.create(key, &config_map("a")).await.expect("create");
        let mut changed = config_map("a");
        changed["data"]["k"] = json!("w");
        let second = storage.update(key, &changed, first).await.expect("update");
        create(&storage, "b").await;
        let kept = |storage: &Storage| -> Vec<i64> {
            let entries = storage.decoded.lock();
            entries
                .by_id
                .keys()
                .map(|(revision, _)| *revision)
                .collect()
        };
        for _ in 0..3 {
            delivery(&storage, &mut fast).await;
        }
        // The slow watch has yet to deliver all three: all stay.
        assert_eq!(kept(&storage).len(), 3);
        assert_eq!(delivery(&storage, &mut slow).await.1, 0, "found decoded");
        // The first change of `a` is delivered everywhere, the second is not yet: both stay.
        assert_eq!(kept(&storage).len(), 3);
        assert_eq!(delivery(&storage, &mut slow).await.1, 0, "found decoded");
        // Both changes of `a` delivered everywhere: only the second stays, with `b`.
        let remaining = kept(&storage);
        assert_eq!(remaining.len(), 2);
        assert!(remaining.contains(&second) && !remaining.contains(&first));
        assert_eq!(delivery(&storage, &mut slow).await.1, 0, "found decoded");
        // A write reads the newest change of `a` from the cache, without decoding it.
        let cached = cached_at(&storage, second, key).expect("kept");
        let (current, revision) = storage.get_shared(key).expect("get").expect("found");
        assert_eq!(revision, second);
        assert!(Arc::ptr_eq(&current, &cached));
    }

    /// A delete is reported with the object's last version at the delete's revision: copied
    /// from the decoded last version when there is one, parsed from its bytes when not, the
    /// same object either way; later watches share the first one's.
    #[tokio::test]
    async fn a_delete_reports_the_last_version_copied_when_decoded() {
        for last_decoded in [true, false] {
            let (storage, mut fast, mut slow) = fast_and_slow((16, 16));
            let key = "/registry/configmaps/default/a";
            let first = storage.create(key, &config_map("a")).await.expect("create");
            let mut changed = config_map("a");
            changed["data"]["k"] = json!("w");
            let last = storage.update(key, &changed, first).await.expect("update");
            let deleted = storage.delete(key, last).await.expect("delete");
            for watch in [&mut fast, &mut slow] {
                let _created = watch.next().await;
                let _updated = watch.next().await;
            }
            if !last_decoded {
                storage.decoded.lock().by_id.clear();
            }
            let (hits, decodes) = delivery(&storage, &mut fast).await;
            assert_eq!((hits, decodes), if last_decoded { (1, 0) } else { (0, 1) });
            let (hits, decodes) = delivery(&storage, &mut slow).await;
            assert_eq!(
                (hits, decodes),
                (1, 0),
                "the second watch shares the first's"
            );
            let object = cached_at(&storage, deleted, key).expect("kept for the delete");
            let mut expected = changed.clone();
            expected["metadata"]["resourceVersion"] = json!(deleted.to_string());
            assert_eq!(**object, expected, "last_decoded: {last_decoded}");
        }
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
