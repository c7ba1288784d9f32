//! The watch verb: initial state (unless a resourceVersion says otherwise), then every change
//! under the resource's prefix as `{"type":…,"object":…}` lines, filtered by the selectors.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go` (encoding, timeouts),
//! `staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go` (`Watch`: initial events,
//! selector transitions, bookmarks, `newErrWatcher` for too-old versions),
//! `staging/src/k8s.io/apiserver/pkg/storage/etcd3/watcher.go` (`transform`: an object that
//! stops matching is reported as DELETED, one that starts matching as ADDED).

use std::any::{Any, TypeId};
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::list::{ListOptions, RvMatch, parse_rv};
use crate::registry::ResourceInfo;
use crate::storage::{ObjectWatch, StorageError};
use crate::{ApiServer, object};

/// Turns an event's object into what the client asked for (the object, or a one-row Table);
/// the flag says whether this is the first object of the stream.
pub type Render = Box<dyn FnMut(&Value, bool) -> Value + Send>;

/// An object of a watch event, decoded once and shared by every watch that delivers the same
/// change, together with the typed forms its receivers decoded it into: the controllers' pod
/// informer, the scheduler and the kubelets all read a pod change through one `Pod`. Reads as
/// the JSON value it derefs to. Upstream's watch cache likewise fans one decoded object out to
/// every watcher (`staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go`), and client-go's
/// shared informers give every controller the same object.
#[derive(Default)]
pub struct SharedObject {
    value: Value,
    /// The first typed form asked for (`None` if the object did not decode as it): the only
    /// one, nearly always. Whoever asks while another thread decodes it waits for that decode
    /// ([`crate::offload`] decodes written pods ahead of their readers).
    first_typed: OnceLock<(TypeId, Option<AnyTyped>)>,
    /// Other typed forms.
    typed: Mutex<Vec<(TypeId, AnyTyped)>>,
    /// Forms derived from the object ([`SharedObject::derived`]), each made once.
    derived: Mutex<Vec<(TypeId, Arc<OnceLock<AnyTyped>>)>>,
}

/// A typed form of a [`SharedObject`].
type AnyTyped = Arc<dyn Any + Send + Sync>;

impl SharedObject {
    /// Wraps a decoded object.
    pub fn new(value: Value) -> Self {
        Self {
            value,
            first_typed: OnceLock::new(),
            typed: Mutex::default(),
            derived: Mutex::default(),
        }
    }

    /// What `derive` makes of this object, made once and shared: by the first receiver that
    /// asks, or ahead of it by the offload thread (see [`crate::offload::derive_from_pods`]);
    /// whoever asks while another thread makes it waits for it. `derive` must be a pure
    /// function of the object, the only one that makes a `T`.
    pub fn derived<T: Send + Sync + 'static>(&self, derive: fn(&SharedObject) -> T) -> Arc<T> {
        let id = TypeId::of::<T>();
        let cell = {
            let mut cells = self.derived.lock().unwrap_or_else(|e| e.into_inner());
            match cells.iter().find(|(k, _)| *k == id) {
                Some((_, cell)) => Arc::clone(cell),
                None => {
                    let cell = Arc::new(OnceLock::new());
                    cells.push((id, Arc::clone(&cell)));
                    cell
                }
            }
        };
        let made = cell.get_or_init(|| Arc::new(derive(self)) as AnyTyped);
        Arc::clone(made)
            .downcast::<T>()
            .unwrap_or_else(|_| Arc::new(derive(self)))
    }

    /// The object as `K` without `metadata.managedFields` (as upstream's components keep
    /// objects: [`crate::trim`]), decoded by the first receiver that asked for a `K` and shared
    /// with the others.
    pub fn typed<K: DeserializeOwned + Send + Sync + 'static>(
        &self,
    ) -> Result<Arc<K>, serde_json::Error> {
        let id = TypeId::of::<K>();
        let decode = || crate::trim::decode_trimmed::<K>(&self.value);
        let (first_id, first) = self.first_typed.get_or_init(|| {
            let typed = decode().ok().map(|k| Arc::new(k) as AnyTyped);
            (id, typed)
        });
        if *first_id == id {
            return match first.as_ref().map(|k| Arc::clone(k).downcast::<K>()) {
                Some(Ok(typed)) => Ok(typed),
                // It did not decode: decode again for the error.
                _ => decode().map(Arc::new),
            };
        }
        if let Some(found) = self.cached(id)
            && let Ok(typed) = found.downcast::<K>()
        {
            return Ok(typed);
        }
        let typed = Arc::new(decode()?);
        let mut cache = self.typed.lock().unwrap_or_else(|e| e.into_inner());
        if !cache.iter().any(|(k, _)| *k == id) {
            cache.push((id, Arc::clone(&typed) as AnyTyped));
        }
        Ok(typed)
    }

    /// The object as a JSON value of its own: no copy when no one else holds it (nothing
    /// watched the change), a copy otherwise.
    pub fn into_value(this: Arc<Self>) -> Value {
        match Arc::try_unwrap(this) {
            Ok(mut only) => std::mem::take(&mut only.value),
            Err(shared) => shared.value.clone(),
        }
    }

    fn cached(&self, id: TypeId) -> Option<AnyTyped> {
        let cache = self.typed.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, v)| Arc::clone(v))
    }
}

impl Drop for SharedObject {
    /// A decoded object is a tree of maps (a pod's, about fifty): freed on the offload
    /// thread, with its typed forms ([`crate::offload`]).
    fn drop(&mut self) {
        let first = self.first_typed.take();
        let typed = std::mem::take(self.typed.get_mut().unwrap_or_else(|e| e.into_inner()));
        let derived = std::mem::take(self.derived.get_mut().unwrap_or_else(|e| e.into_inner()));
        if self.value.is_object() || first.is_some() || !typed.is_empty() || !derived.is_empty() {
            let value = std::mem::take(&mut self.value);
            crate::offload::drop_later(Box::new((value, first, typed, derived)));
        }
    }
}

impl Deref for SharedObject {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl std::fmt::Debug for SharedObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl PartialEq for SharedObject {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// One watch event: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`, with its object.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// The event type as on the wire.
    pub event_type: &'static str,
    /// The object (a `Status` for `ERROR`, a bare object with a resourceVersion for `BOOKMARK`),
    /// shared between the watches that deliver the same change: read it as a JSON value, or
    /// as a type with [`SharedObject::typed`].
    pub object: Arc<SharedObject>,
}

impl WatchEvent {
    /// An event carrying `object`.
    pub fn new(event_type: &'static str, object: Value) -> Self {
        Self::shared(event_type, Arc::new(SharedObject::new(object)))
    }

    fn shared(event_type: &'static str, object: Arc<SharedObject>) -> Self {
        Self { event_type, object }
    }

    /// Encodes the event as one line of a watch response, rendering object events with `render`.
    pub fn encode(&self, render: &mut Render, first: &mut bool) -> Bytes {
        let object = match self.event_type {
            "ADDED" | "MODIFIED" | "DELETED" => {
                let rendered = render(&self.object, *first);
                *first = false;
                rendered
            }
            _ => self.object.value.clone(),
        };
        line(self.event_type, object)
    }
}

/// How often a bookmark is sent to watchers that allow them (upstream: about once a minute).
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

fn line(event_type: &str, object: Value) -> Bytes {
    let mut s =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    s.push(b'\n');
    Bytes::from(s)
}

fn bookmark(info: &ResourceInfo, revision: i64, initial_events_end: bool) -> Value {
    let mut meta = json!({"resourceVersion": revision.to_string()});
    if initial_events_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": meta})
}

/// The `ERROR` event for a watch that starts before retained history.
fn expired_event(requested: i64, compacted: i64) -> WatchEvent {
    let status = ApiError::expired(format!(
        "too old resource version: {requested} ({compacted})"
    ))
    .to_status();
    WatchEvent::new("ERROR", status)
}

impl ApiServer {
    /// Starts a watch; the receiver yields events until the timeout, an error event, or the
    /// receiver is dropped.
    pub fn watch(
        self: &Arc<Self>,
        info: &'static ResourceInfo,
        namespace: Option<&str>,
        opts: ListOptions,
    ) -> Result<mpsc::Receiver<WatchEvent>, ApiError> {
        let prefix = match (opts.pinned_name(), namespace) {
            // A watch of one object (kubectl wait, rollout status, delete --wait) reads one key.
            (Some(name), ns) if ns.is_some() || !info.namespaced() => info.key(ns, name),
            _ => info.key_prefix(namespace),
        };
        let current = self.storage.revision();
        let streaming = opts.send_initial_events == Some(true);
        let (initial, start_rev) =
            if streaming || matches!(opts.resource_version.as_str(), "" | "0") {
                let mut list_opts = opts.clone();
                list_opts.limit = 0;
                list_opts.continue_token = None;
                list_opts.rv_match = RvMatch::Unset;
                list_opts.resource_version = String::new();
                let listed = self.list(info, namespace, &list_opts)?;
                (Some(listed.items), listed.revision)
            } else {
                let rv = parse_rv(&opts.resource_version)?;
                if rv > current {
                    return Err(ApiError::resource_version_too_large(rv, current));
                }
                (None, rv)
            };

        let (tx, rx) = mpsc::channel::<WatchEvent>(256);
        let watch = self.storage.watch(&prefix, start_rev);
        let timeout = match opts.timeout_seconds {
            Some(s) => Duration::from_secs(s),
            // Upstream: minRequestTimeout × (1 + rand) — 30 to 60 minutes.
            None => Duration::from_secs(1800 + self.rng.with(|r| r.below(1800))),
        };
        tokio::spawn(async move {
            let mut watch: ObjectWatch = match watch {
                Ok(w) => w,
                Err(StorageError::Compacted { compacted }) => {
                    let _ = tx.send(expired_event(start_rev, compacted)).await;
                    return;
                }
                Err(e) => {
                    let _ = tx
                        .send(WatchEvent::new("ERROR", ApiError::internal(e).to_status()))
                        .await;
                    return;
                }
            };
            let selective = opts.has_selectors();
            if !selective {
                watch.previous_only_for_deletes();
            }
            if let Some(items) = initial {
                for item in items {
                    if tx.send(WatchEvent::new("ADDED", item)).await.is_err() {
                        return;
                    }
                }
                if streaming
                    && tx
                        .send(WatchEvent::new("BOOKMARK", bookmark(info, start_rev, true)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            let deadline = tokio::time::sleep(timeout);
            tokio::pin!(deadline);
            let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
            ticker.tick().await;
            let mut last_rev = start_rev;
            loop {
                tokio::select! {
                    biased;
                    _ = &mut deadline => return,
                    _ = ticker.tick(), if opts.allow_bookmarks => {
                        if tx.send(WatchEvent::new("BOOKMARK", bookmark(info, last_rev.max(watch.progress_revision()), false))).await.is_err() {
                            return;
                        }
                    }
                    _ = tx.closed() => return,
                    event = watch.next() => {
                        let event = match event {
                            None => return,
                            Some(Ok(e)) => e,
                            Some(Err(StorageError::Compacted { compacted })) => {
                                let _ = tx.send(expired_event(last_rev, compacted)).await;
                                return;
                            }
                            Some(Err(e)) => {
                                let _ = tx.send(WatchEvent::new("ERROR", ApiError::internal(e).to_status())).await;
                                return;
                            }
                        };
                        last_rev = event.revision;
                        let view = |o: Arc<SharedObject>| crate::convert::to_view_shared(info, o);
                        let object = event.object.map(view);
                        let previous = event.previous.map(view);
                        let (was, is) = if selective {
                            (
                                previous.as_deref().is_some_and(|p| opts.matches(p)),
                                object.as_deref().is_some_and(|o| opts.matches(o)),
                            )
                        } else {
                            (event.had_previous, object.is_some())
                        };
                        let (kind, obj) = match (was, is, object, previous) {
                            (false, true, Some(o), _) => ("ADDED", o),
                            (true, true, Some(o), _) => ("MODIFIED", o),
                            // The object stopped matching the selectors: upstream reports the
                            // old object at the change's revision (`cache_watcher.go`,
                            // `convertToWatchEvent`).
                            (true, false, Some(_), Some(p)) => {
                                let mut old = p.value.clone();
                                object::set_resource_version(&mut old, event.revision);
                                ("DELETED", Arc::new(SharedObject::new(old)))
                            }
                            // Deleted: the old object, already at the delete's revision.
                            (true, false, None, Some(p)) => ("DELETED", p),
                            _ => continue,
                        };
                        if tx.send(WatchEvent::shared(kind, obj)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok(rx)
    }
}
