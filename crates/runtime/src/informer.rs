//! An informer: list, then watch, into a sorted cache, with event handlers.
//!
//! Upstream: `staging/src/k8s.io/client-go/tools/cache/reflector.go` (`ListAndWatch`: list,
//! replace the store, watch from the list's resourceVersion; an `ERROR` event or a 410 "too old
//! resource version" makes it list again; a closed watch is resumed from the last seen
//! resourceVersion), `shared_informer.go` (handlers added after start first receive an `Add`
//! for every cached object; `HasSynced` after the first list), `delta_fifo.go` (`Replace`:
//! objects missing from a relist are delivered as deletions, present ones as updates).
//!
//! The cache is keyed by `namespace/name` (`name` for cluster-scoped objects, as
//! `MetaNamespaceKeyFunc`) in a `BTreeMap`, so listing is in a stable order and a namespace is
//! a range of keys. Objects are decoded once into `K` (a `k8s-openapi` type, [`MetaOnly`] or
//! `serde_json::Value`) and shared as `Arc<K>`.
//!
//! Handlers run inline, in event order, on the informer's task: they should only update
//! indexes and enqueue keys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::ResourceInfo;
use kubetwin_apiserver::watch::SharedObject;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Notify;

use crate::time::SimTime;

/// Objects that carry standard object metadata.
pub trait HasMeta {
    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;
}

impl<T: k8s_openapi::Metadata<Ty = ObjectMeta>> HasMeta for T {
    fn meta(&self) -> &ObjectMeta {
        self.metadata()
    }
}

/// Any object seen through its metadata only (the garbage collector's view, like upstream's
/// metadata informers), plus its `apiVersion` and `kind`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct MetaOnly {
    /// `apiVersion`.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl HasMeta for MetaOnly {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
}

/// The cache key of an object: `namespace/name`, or `name` without a namespace.
pub fn key_of(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => [ns, "/", name].concat(),
        _ => name.to_string(),
    }
}

/// The cache key of a decoded object.
pub fn meta_key(meta: &ObjectMeta) -> String {
    key_of(
        meta.namespace.as_deref(),
        meta.name.as_deref().unwrap_or(""),
    )
}

/// Splits a key into namespace and name (`SplitMetaNamespaceKey`).
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

/// One change delivered to handlers.
#[derive(Debug)]
pub enum Event<K> {
    /// A new object (`OnAdd`).
    Added(Arc<K>),
    /// A changed object, or one seen again on relist (`OnUpdate`).
    Updated {
        /// The cached object before.
        old: Arc<K>,
        /// The object now.
        new: Arc<K>,
    },
    /// A removed object (`OnDelete`), with its last known state.
    Deleted(Arc<K>),
}

/// An event handler.
pub type Handler<K> = Arc<dyn Fn(&Event<K>) + Send + Sync>;

/// What an informer watches.
#[derive(Debug, Clone, Default)]
pub struct WatchSpec {
    /// Only this namespace (all when `None`).
    pub namespace: Option<String>,
    /// A label selector in string form.
    pub label_selector: Option<String>,
    /// A field selector in string form.
    pub field_selector: Option<String>,
}

struct Shared<K> {
    client: LocalClient,
    info: &'static ResourceInfo,
    spec: WatchSpec,
    time: SimTime,
    cache: RwLock<Cache<K>>,
    handlers: Mutex<Vec<Handler<K>>>,
    synced: Flag,
    stop: Flag,
}

/// A flag that is set once, with waiters woken in the order they started waiting.
///
/// Not a `tokio::sync::watch` channel: its receivers wait on one of eight `Notify`s picked
/// with tokio's randomly seeded generator, so several controllers waiting for one cache sync
/// would start in an order that changes between runs (same-seed runs must be identical).
#[derive(Debug, Default)]
struct Flag {
    set: AtomicBool,
    notify: Notify,
}

impl Flag {
    fn set(&self) {
        self.set.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Returns once the flag is set. Cancel-safe.
    async fn wait(&self) {
        loop {
            // Created before the check: a `set` after the check still completes it.
            let woken = self.notify.notified();
            if self.is_set() {
                return;
            }
            woken.await;
        }
    }
}

/// Computes the index values of an object (`cache.IndexFunc`).
pub type IndexFunc<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// One named index: its function and, per index value, the objects having it by key. The
/// entries hold the objects themselves, so a lookup by index value reads no other map.
struct Index<K> {
    func: IndexFunc<K>,
    entries: BTreeMap<String, BTreeMap<String, Arc<K>>>,
}

impl<K> Index<K> {
    fn insert(&mut self, key: &str, obj: &Arc<K>) {
        for value in (self.func)(obj) {
            self.entries
                .entry(value)
                .or_default()
                .insert(key.to_string(), Arc::clone(obj));
        }
    }

    fn remove(&mut self, key: &str, obj: &K) {
        for value in (self.func)(obj) {
            if let Some(objects) = self.entries.get_mut(&value) {
                objects.remove(key);
                if objects.is_empty() {
                    self.entries.remove(&value);
                }
            }
        }
    }

    /// Most updates (a status write) keep the index values: then only the held object changes.
    fn update(&mut self, key: &str, old: &K, new: &Arc<K>) {
        let values = (self.func)(new);
        if (self.func)(old) != values {
            self.remove(key, old);
            self.insert(key, new);
            return;
        }
        for value in &values {
            if let Some(slot) = self.entries.get_mut(value).and_then(|o| o.get_mut(key)) {
                *slot = Arc::clone(new);
            }
        }
    }
}

/// The objects by key and the indexes over them, changed together under one lock as
/// client-go's `threadSafeMap` does (`thread_safe_store.go`, `updateIndices`), so a reader
/// never sees an index disagree with the objects.
struct Cache<K> {
    objects: BTreeMap<String, Arc<K>>,
    indexes: BTreeMap<&'static str, Index<K>>,
}

impl<K> Cache<K> {
    fn insert(&mut self, key: String, obj: Arc<K>) -> Option<Arc<K>> {
        let old = self.objects.insert(key.clone(), Arc::clone(&obj));
        for index in self.indexes.values_mut() {
            match &old {
                Some(old) => index.update(&key, old, &obj),
                None => index.insert(&key, &obj),
            }
        }
        old
    }

    fn remove(&mut self, key: &str) -> Option<Arc<K>> {
        let old = self.objects.remove(key)?;
        for index in self.indexes.values_mut() {
            index.remove(key, &old);
        }
        Some(old)
    }

    fn replace(&mut self, objects: BTreeMap<String, Arc<K>>) -> BTreeMap<String, Arc<K>> {
        for index in self.indexes.values_mut() {
            index.entries.clear();
            for (key, obj) in &objects {
                index.insert(key, obj);
            }
        }
        std::mem::replace(&mut self.objects, objects)
    }
}

/// A shared informer over one resource. Cloning shares it.
pub struct Informer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> std::fmt::Debug for Informer<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Informer")
            .field("resource", &self.shared.info.resource)
            .field("spec", &self.shared.spec)
            .finish()
    }
}

/// How long to wait before listing again after a failed list or watch (the reflector's
/// backoff starts at 800 ms).
const RETRY_DELAY: Duration = Duration::from_millis(800);

impl<K: DeserializeOwned + Send + Sync + 'static> Informer<K> {
    /// An informer over `info` (not started: call [`Informer::run`] or [`Informer::start`]).
    pub fn new(
        client: LocalClient,
        info: &'static ResourceInfo,
        spec: WatchSpec,
        time: SimTime,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                client,
                info,
                spec,
                time,
                cache: RwLock::new(Cache {
                    objects: BTreeMap::new(),
                    indexes: BTreeMap::new(),
                }),
                handlers: Mutex::new(Vec::new()),
                synced: Flag::default(),
                stop: Flag::default(),
            }),
        }
    }

    /// The resource watched.
    pub fn resource(&self) -> &'static ResourceInfo {
        self.shared.info
    }

    /// Adds a handler. Objects already cached are delivered to it at once as `Added`.
    pub fn add_handler(&self, handler: Handler<K>) {
        let mut handlers = self
            .shared
            .handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for obj in self.list() {
            handler(&Event::Added(obj));
        }
        handlers.push(handler);
    }

    /// Spawns [`Informer::run`] on the current runtime.
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.clone().run())
    }

    /// Asks the run loop to end.
    pub fn stop(&self) {
        self.shared.stop.set();
    }

    /// Whether the first list has been delivered (`HasSynced`).
    pub fn has_synced(&self) -> bool {
        self.shared.synced.is_set()
    }

    /// Waits until the first list has been delivered (`WaitForCacheSync`).
    pub async fn wait_synced(&self) {
        self.shared.synced.wait().await;
    }

    /// One cached object by key.
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.read().objects.get(key).cloned()
    }

    /// One cached object by namespace and name.
    pub fn get_named(&self, namespace: Option<&str>, name: &str) -> Option<Arc<K>> {
        self.get(&key_of(namespace, name))
    }

    /// Every cached object, in key order.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().objects.values().cloned().collect()
    }

    /// Every cached key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.read().objects.keys().cloned().collect()
    }

    /// The cached objects of one namespace, in name order.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        let prefix = [namespace, "/"].concat();
        self.read()
            .objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| Arc::clone(v))
            .collect()
    }

    /// Adds (or replaces) the index `name` (`AddIndexers`), built at once over the cached
    /// objects and kept up to date with every change.
    pub fn add_index(&self, name: &'static str, func: IndexFunc<K>) {
        let mut cache = self.shared.cache.write().unwrap_or_else(|e| e.into_inner());
        let mut index = Index {
            func,
            entries: BTreeMap::new(),
        };
        for (key, obj) in &cache.objects {
            index.insert(key, obj);
        }
        cache.indexes.insert(name, index);
    }

    /// The cached objects whose index `name` has `value` (`ByIndex`), in key order; none
    /// when the index does not exist.
    pub fn by_index(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let cache = self.read();
        cache
            .indexes
            .get(name)
            .and_then(|i| i.entries.get(value))
            .map(|objects| objects.values().cloned().collect())
            .unwrap_or_default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache<K>> {
        self.shared.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn dispatch(&self, event: &Event<K>) {
        let handlers: Vec<Handler<K>> = self
            .shared
            .handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for h in handlers {
            h(event);
        }
    }

    fn key(value: &Value) -> Option<String> {
        let meta = value.get("metadata")?;
        Some(key_of(
            meta.get("namespace").and_then(Value::as_str),
            meta.get("name").and_then(Value::as_str).unwrap_or(""),
        ))
    }

    fn decode(value: &Value) -> Option<(String, Arc<K>)> {
        let key = Self::key(value)?;
        // Without managedFields, as the watch events' typed objects (`SharedObject::typed`).
        match kubetwin_apiserver::trim::decode_trimmed::<K>(value) {
            Ok(obj) => Some((key, Arc::new(obj))),
            Err(e) => {
                tracing::warn!(%key, error = %e, "informer: cannot decode object");
                None
            }
        }
    }

    /// A watch event's object as `K`, decoded once for every receiver of the change.
    fn decode_shared(object: &SharedObject) -> Option<(String, Arc<K>)> {
        let key = Self::key(object)?;
        match object.typed::<K>() {
            Ok(obj) => Some((key, obj)),
            Err(e) => {
                tracing::warn!(%key, error = %e, "informer: cannot decode object");
                None
            }
        }
    }

    /// Replaces the cache with a fresh list, delivering the differences.
    fn replace(&self, items: Vec<Value>) {
        let mut fresh: BTreeMap<String, Arc<K>> = BTreeMap::new();
        for item in items {
            if let Some((key, obj)) = Self::decode(&item) {
                fresh.insert(key, obj);
            }
        }
        let old = {
            let mut cache = self.shared.cache.write().unwrap_or_else(|e| e.into_inner());
            cache.replace(fresh.clone())
        };
        for (key, obj) in &old {
            if !fresh.contains_key(key) {
                self.dispatch(&Event::Deleted(Arc::clone(obj)));
            }
        }
        for (key, obj) in fresh {
            match old.get(&key) {
                Some(prev) => self.dispatch(&Event::Updated {
                    old: Arc::clone(prev),
                    new: obj,
                }),
                None => self.dispatch(&Event::Added(obj)),
            }
        }
    }

    fn apply(&self, event_type: &str, object: &SharedObject) {
        let Some((key, obj)) = Self::decode_shared(object) else {
            return;
        };
        let event = {
            let mut cache = self.shared.cache.write().unwrap_or_else(|e| e.into_inner());
            if event_type == "DELETED" {
                cache.remove(&key);
                Event::Deleted(obj)
            } else {
                match cache.insert(key, Arc::clone(&obj)) {
                    Some(old) => Event::Updated { old, new: obj },
                    None => Event::Added(obj),
                }
            }
        };
        self.dispatch(&event);
    }

    fn stopped(&self) -> bool {
        self.shared.stop.is_set()
    }

    /// Lists and watches until [`Informer::stop`] is called.
    pub async fn run(self) {
        let shared = Arc::clone(&self.shared);
        let spec = &shared.spec;
        'relist: while !self.stopped() {
            let listed = match shared.client.list(
                shared.info,
                spec.namespace.as_deref(),
                spec.label_selector.as_deref(),
                spec.field_selector.as_deref(),
            ) {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(resource = shared.info.resource, error = %e, "informer: list failed");
                    shared.time.sleep(RETRY_DELAY).await;
                    continue;
                }
            };
            let mut revision = listed.resource_version;
            self.replace(listed.items);
            shared.synced.set();
            loop {
                let mut rx = match shared.client.watch(
                    shared.info,
                    spec.namespace.as_deref(),
                    revision,
                    spec.label_selector.as_deref(),
                    spec.field_selector.as_deref(),
                ) {
                    Ok(rx) => rx,
                    Err(e) => {
                        if e.code != 410 {
                            tracing::warn!(resource = shared.info.resource, error = %e, "informer: watch failed");
                            shared.time.sleep(RETRY_DELAY).await;
                        }
                        continue 'relist;
                    }
                };
                loop {
                    let event = tokio::select! {
                        biased;
                        () = shared.stop.wait() => return,
                        event = rx.recv() => event,
                    };
                    let Some(event) = event else {
                        // The server ended the watch: resume from the last revision seen.
                        break;
                    };
                    if event.event_type != "ERROR"
                        && let Some(rv) = event.object["metadata"]["resourceVersion"]
                            .as_str()
                            .and_then(|s| s.parse::<i64>().ok())
                    {
                        revision = revision.max(rv);
                    }
                    match event.event_type {
                        "ADDED" | "MODIFIED" | "DELETED" => {
                            self.apply(event.event_type, &event.object);
                        }
                        "ERROR" => {
                            tracing::debug!(
                                resource = shared.info.resource,
                                "informer: relist after watch error"
                            );
                            continue 'relist;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kubetwin_apiserver::local::resource_of;
    use kubetwin_apiserver::write::DeleteOptions;
    use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
    use kubetwin_store::Store;
    use serde_json::json;

    async fn setup() -> (LocalClient, SimTime) {
        let time = SimTime::new(Timestamp::from_second(1_735_689_600).expect("epoch"), 1.0);
        let server = ApiServer::new(
            Storage::new(Store::memory()),
            Arc::new(time.clone()),
            1,
            ApiServerConfig::default(),
        );
        server.bootstrap().await.expect("bootstrap");
        (LocalClient::new(server, "informer-test"), time)
    }

    fn cm(name: &str, ns: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}})
    }

    #[tokio::test(start_paused = true)]
    async fn lists_watches_and_delivers_events_in_order() {
        let (client, time) = setup().await;
        let info = resource_of::<ConfigMap>().expect("cm");
        client
            .create(info, Some("default"), cm("before", "default"))
            .await
            .expect("create");
        let informer: Informer<ConfigMap> =
            Informer::new(client.clone(), info, WatchSpec::default(), time.clone());
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        {
            let seen = Arc::clone(&seen);
            informer.add_handler(Arc::new(move |e: &Event<ConfigMap>| {
                let (kind, obj) = match e {
                    Event::Added(o) => ("add", o),
                    Event::Updated { new, .. } => ("update", new),
                    Event::Deleted(o) => ("delete", o),
                };
                seen.lock()
                    .expect("lock")
                    .push(format!("{kind} {}", meta_key(obj.meta())));
            }));
        }
        let task = informer.start();
        informer.wait_synced().await;
        assert!(informer.has_synced());
        client
            .create(info, Some("kube-system"), cm("after", "kube-system"))
            .await
            .expect("create");
        client
            .merge_patch(
                info,
                Some("default"),
                "before",
                "",
                &json!({"data": {"a": "b"}}),
            )
            .await
            .expect("patch");
        client
            .delete(info, Some("default"), "before", &DeleteOptions::default())
            .await
            .expect("delete");
        time.sleep(Duration::from_secs(1)).await;
        let seen = seen.lock().expect("lock").clone();
        // Bootstrap config maps (kube-root-ca.crt and the like) may appear too; keep ours.
        let ours: Vec<&String> = seen
            .iter()
            .filter(|s| s.ends_with("/before") || s.ends_with("/after"))
            .collect();
        assert_eq!(
            ours,
            [
                "add default/before",
                "add kube-system/after",
                "update default/before",
                "delete default/before"
            ]
        );
        assert!(informer.get("default/before").is_none());
        assert_eq!(
            informer
                .list_namespace("kube-system")
                .iter()
                .filter(|c| c.metadata.name.as_deref() == Some("after"))
                .count(),
            1
        );
        informer.stop();
        task.await.expect("join");
    }

    /// An index follows adds, changes of the indexed value, deletes and an index added late
    /// (client-go `thread_safe_store_test.go` `TestThreadSafeStoreIndexingFunctionsWithMultipleValues`
    /// in spirit: keys move between index values as objects change).
    #[tokio::test(start_paused = true)]
    async fn index_follows_changes() {
        let (client, time) = setup().await;
        let info = resource_of::<ConfigMap>().expect("cm");
        let with_team = |name: &str, team: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "default", "labels": {"team": team}}})
        };
        client
            .create(info, Some("default"), with_team("a", "red"))
            .await
            .expect("create");
        let informer: Informer<ConfigMap> =
            Informer::new(client.clone(), info, WatchSpec::default(), time.clone());
        let task = informer.start();
        informer.wait_synced().await;
        // Added after the first list: built over the cache.
        informer.add_index(
            "team",
            Arc::new(|c: &ConfigMap| {
                c.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("team").cloned())
                    .into_iter()
                    .collect()
            }),
        );
        let names = |team: &str| -> Vec<String> {
            informer
                .by_index("team", team)
                .iter()
                .map(|c| c.metadata.name.clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(names("red"), ["a"]);
        client
            .create(info, Some("default"), with_team("b", "red"))
            .await
            .expect("create");
        time.sleep(Duration::from_secs(1)).await;
        assert_eq!(names("red"), ["a", "b"]);
        client
            .merge_patch(
                info,
                Some("default"),
                "a",
                "",
                &json!({"metadata": {"labels": {"team": "blue"}}}),
            )
            .await
            .expect("patch");
        time.sleep(Duration::from_secs(1)).await;
        assert_eq!(names("red"), ["b"]);
        assert_eq!(names("blue"), ["a"]);
        client
            .delete(info, Some("default"), "b", &DeleteOptions::default())
            .await
            .expect("delete");
        time.sleep(Duration::from_secs(1)).await;
        assert!(names("red").is_empty());
        assert!(informer.by_index("no-such-index", "red").is_empty());
        informer.stop();
        task.await.expect("join");
    }

    #[tokio::test(start_paused = true)]
    async fn late_handler_gets_cached_objects_and_meta_only_decodes() {
        let (client, time) = setup().await;
        let info = resource_of::<ConfigMap>().expect("cm");
        client
            .create(info, Some("default"), cm("x", "default"))
            .await
            .expect("create");
        let informer: Informer<MetaOnly> = Informer::new(
            client.clone(),
            info,
            WatchSpec {
                namespace: Some("default".into()),
                ..WatchSpec::default()
            },
            time.clone(),
        );
        let task = informer.start();
        informer.wait_synced().await;
        let count = Arc::new(Mutex::new(0usize));
        {
            let count = Arc::clone(&count);
            informer.add_handler(Arc::new(move |_e: &Event<MetaOnly>| {
                *count.lock().expect("lock") += 1;
            }));
        }
        assert_eq!(*count.lock().expect("lock"), informer.list().len());
        let x = informer.get("default/x").expect("cached");
        assert_eq!(x.kind, "ConfigMap");
        assert_eq!(split_key("default/x"), (Some("default"), "x"));
        assert_eq!(split_key("node-1"), (None, "node-1"));
        informer.stop();
        task.await.expect("join");
    }
}
