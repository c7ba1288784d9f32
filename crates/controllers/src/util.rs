//! Helpers shared by the controllers: controller references, pod readiness and availability,
//! int-or-percent scaling, expectations, events and API-call plumbing.
//!
//! Upstream: `pkg/controller/controller_utils.go` (expectations, `FilterActivePods`,
//! `ActivePodsWithRanks`, `GetPodFromTemplate`), `pkg/controller/controller_ref_manager.go`
//! (claiming: adopt orphans that match, release owned objects that stop matching),
//! `pkg/api/v1/pod/util.go` (`IsPodReady`, `IsPodAvailable`),
//! `staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go`
//! (`GetScaledValueFromIntOrPercent`), `staging/src/k8s.io/client-go/tools/record/event.go`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubetwin_apiserver::ApiError;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::watch::SharedObject;
use kubetwin_core::clock::Clock;
use kubetwin_core::labels::Selector;
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};

/// Errors of a sync; all are retried with rate limiting.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// An API call failed.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The object cannot be handled as it is (bad selector, bad int-or-percent).
    #[error("{0}")]
    Invalid(String),
    /// Encoding a typed object failed.
    #[error("encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The current time truncated to whole seconds: what a `metav1.Time` keeps once written.
pub fn now_seconds(time: &SimTime) -> Timestamp {
    let now = time.now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// The controller reference of an object (`metav1.GetControllerOf`).
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|r| r.controller == Some(true))
}

/// A controller reference to `owner` (`metav1.NewControllerRef`): controller and
/// blockOwnerDeletion are both true.
pub fn new_controller_ref(owner: &ObjectMeta, api_version: &str, kind: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The selector of a `metav1.LabelSelector` (`LabelSelectorAsSelector`).
pub fn selector_of(ls: Option<&LabelSelector>) -> Result<Selector, SyncError> {
    Selector::from_label_selector(ls).map_err(|e| SyncError::Invalid(e.0))
}

/// The pod index by controller UID (`PodControllerUIDIndex`).
pub const POD_CONTROLLER_UID_INDEX: &str = "podControllerUID";

/// The index value of a namespace's pods without a controller (`OrphanPodIndexKeyForNamespace`).
pub fn orphan_pod_index_key(namespace: &str) -> String {
    format!("_ORPHAN_POD/{namespace}")
}

/// Indexes pods by their controller's UID, orphans by namespace (`AddPodControllerUIDIndexer`),
/// so a controller finds its pods without scanning the namespace.
pub fn add_pod_controller_uid_index(pods: &kubetwin_runtime::Informer<Pod>) {
    pods.add_index(
        POD_CONTROLLER_UID_INDEX,
        Arc::new(|pod: &Pod| match controller_of(&pod.metadata) {
            Some(r) => vec![r.uid.clone()],
            None => vec![orphan_pod_index_key(
                pod.metadata.namespace.as_deref().unwrap_or(""),
            )],
        }),
    );
}

/// The pod index by node name (`nodeNameKeyIndex` of the node lifecycle and taint eviction
/// controllers: `pkg/controller/nodelifecycle/node_lifecycle_controller.go`).
pub const POD_NODE_NAME_INDEX: &str = "spec.nodeName";

/// Indexes pods by `spec.nodeName` (bound pods only), so a controller finds a node's pods
/// without scanning every pod. Adding it again replaces it.
pub fn add_pod_node_name_index(pods: &kubetwin_runtime::Informer<Pod>) {
    pods.add_index(
        POD_NODE_NAME_INDEX,
        Arc::new(
            |pod: &Pod| match pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
                Some(node) if !node.is_empty() => vec![node.to_string()],
                _ => Vec::new(),
            },
        ),
    );
}

/// The pods an owner controls plus its namespace's orphans (`FilterPodsByOwner` with orphans),
/// in key order: the candidates of claiming. The index must have been added.
pub fn pods_by_owner(pods: &kubetwin_runtime::Informer<Pod>, owner: &ObjectMeta) -> Vec<Arc<Pod>> {
    let namespace = owner.namespace.as_deref().unwrap_or("");
    let uid = owner.uid.as_deref().unwrap_or("");
    let in_namespace =
        |pod: &Arc<Pod>| pod.metadata.namespace.as_deref().unwrap_or("") == namespace;
    // Each index value lists its pods in key order, and within one namespace key order is name
    // order; a pod is either controlled or an orphan, never both.
    let mut found: Vec<Arc<Pod>> = if uid.is_empty() {
        Vec::new()
    } else {
        let mut owned = pods.by_index(POD_CONTROLLER_UID_INDEX, uid);
        owned.retain(in_namespace);
        owned
    };
    let orphans = pods.by_index(POD_CONTROLLER_UID_INDEX, &orphan_pod_index_key(namespace));
    if !orphans.is_empty() {
        found.extend(orphans.into_iter().filter(in_namespace));
        found.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    }
    found
}

/// The labels of an object.
pub fn labels_of(meta: &ObjectMeta) -> &BTreeMap<String, String> {
    // Borrowed: selectors match pods by the thousand per sync.
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    meta.labels.as_ref().unwrap_or(&NONE)
}

/// Whether a pod is still running or may run (`controller.IsPodActive`).
pub fn is_pod_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    phase != Some("Succeeded")
        && phase != Some("Failed")
        && pod.metadata.deletion_timestamp.is_none()
}

/// The pod's `Ready` condition.
pub fn pod_ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// `podutil.IsPodReady`.
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod_ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// `podutil.IsPodAvailable`: ready for at least `min_ready_seconds` before `now`.
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    let Some(c) = pod_ready_condition(pod).filter(|c| c.status == "True") else {
        return false;
    };
    ready_long_enough(
        c.last_transition_time.as_ref().map(|t| t.0),
        min_ready_seconds,
        now,
    )
}

/// The time part of `IsPodAvailable` for a ready pod whose `Ready` condition changed at
/// `since`.
pub fn ready_long_enough(since: Option<Timestamp>, min_ready_seconds: i32, now: Timestamp) -> bool {
    if min_ready_seconds <= 0 {
        return true;
    }
    let ready_for = jiff::SignedDuration::from_secs(i64::from(min_ready_seconds));
    since.is_some_and(|t| t.checked_add(ready_for).is_ok_and(|at| at < now))
}

/// `intstr.GetScaledValueFromIntOrPercent`: an integer as is, `N%` of `total` rounded up or down.
pub fn scaled_value(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, SyncError> {
    match value {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let Some(number) = s.strip_suffix('%') else {
                return Err(SyncError::Invalid(format!(
                    "invalid value for IntOrString: invalid type: string is not a percentage: {s:?}"
                )));
            };
            let percent: i64 = number.parse().map_err(|_| {
                SyncError::Invalid(format!(
                    "invalid value for IntOrString: invalid value {s:?}"
                ))
            })?;
            let product = percent * i64::from(total);
            let scaled = if round_up {
                (product as f64 / 100.0).ceil()
            } else {
                (product as f64 / 100.0).floor()
            };
            Ok(scaled.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32)
        }
    }
}

/// Per-controller expectations of creations and deletions not yet observed through the
/// informer, so a sync does not act twice on one change
/// (`ControllerExpectations` + `UIDTrackingControllerExpectations`, 5-minute timeout).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    inner: Arc<Mutex<BTreeMap<String, Expectation>>>,
}

#[derive(Debug, Clone)]
struct Expectation {
    add: i64,
    del: i64,
    set_at: Duration,
    deleting: BTreeSet<String>,
}

/// `ExpectationsTimeout`.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

impl Expectations {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Expectation>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the controller may sync `key` (`SatisfiedExpectations`): no record, all
    /// observed, or the record expired.
    pub fn satisfied(&self, key: &str, now: Duration) -> bool {
        match self.lock().get(key) {
            None => true,
            Some(e) => {
                (e.add <= 0 && e.del <= 0) || now.saturating_sub(e.set_at) > EXPECTATIONS_TIMEOUT
            }
        }
    }

    /// Expects `count` creations (`ExpectCreations`).
    pub fn expect_creations(&self, key: &str, count: i64, now: Duration) {
        self.lock().insert(
            key.to_string(),
            Expectation {
                add: count,
                del: 0,
                set_at: now,
                deleting: BTreeSet::new(),
            },
        );
    }

    /// Expects the deletion of these pod keys (`ExpectDeletions`).
    pub fn expect_deletions(&self, key: &str, pods: &[String], now: Duration) {
        self.lock().insert(
            key.to_string(),
            Expectation {
                add: 0,
                del: pods.len() as i64,
                set_at: now,
                deleting: pods.iter().cloned().collect(),
            },
        );
    }

    /// One creation observed (`CreationObserved`).
    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.lock().get_mut(key) {
            e.add -= 1;
        }
    }

    /// One deletion observed (`DeletionObserved`): only counts expected pods.
    pub fn deletion_observed(&self, key: &str, pod_key: &str) {
        if let Some(e) = self.lock().get_mut(key)
            && e.deleting.remove(pod_key)
        {
            e.del -= 1;
        }
    }

    /// Forgets the controller (`DeleteExpectations`).
    pub fn delete(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// Events one source may record about one object at once (`defaultSpamBurst`).
pub const SPAM_BURST: f64 = 25.0;
/// Events per second the burst refills at afterwards: one per five minutes (`defaultSpamQPS`).
pub const SPAM_QPS: f64 = 1.0 / 300.0;
/// Source+object keys remembered (`maxLruCacheEntries`).
const SPAM_CACHE_ENTRIES: usize = 4096;

/// A token bucket (`flowcontrol.NewTokenBucketPassiveRateLimiterWithClock`): starts full.
#[derive(Debug, Clone, Copy)]
struct SpamRecord {
    tokens: f64,
    updated: Timestamp,
    /// Order of last use, for least-recently-used eviction.
    used: u64,
}

/// client-go's `EventSourceObjectSpamFilter`: per source and involved object, a burst of
/// [`SPAM_BURST`] events, then [`SPAM_QPS`]; events beyond are dropped, not written.
///
/// Upstream: `staging/src/k8s.io/client-go/tools/record/events_cache.go` (`getSpamKey`,
/// `EventSourceObjectSpamFilter.Filter`). The key is the source component and host and the
/// involved object's kind, namespace, name, uid and apiVersion.
#[derive(Debug, Default)]
pub struct SpamFilter {
    records: BTreeMap<String, SpamRecord>,
    /// Order of last use → key: the least recently used key is the first.
    by_use: BTreeMap<u64, String>,
    uses: u64,
}

impl SpamFilter {
    /// Whether an event with `key` at `now` must be dropped (takes a token otherwise).
    pub fn filter(&mut self, key: &str, now: Timestamp) -> bool {
        self.uses += 1;
        let uses = self.uses;
        if !self.records.contains_key(key)
            && self.records.len() >= SPAM_CACHE_ENTRIES
            && let Some((_, oldest)) = self.by_use.pop_first()
        {
            // The LRU cache forgets the least recently used key.
            self.records.remove(&oldest);
        }
        let record = match self.records.get_mut(key) {
            Some(record) => {
                self.by_use.remove(&record.used);
                record
            }
            None => self.records.entry(key.to_string()).or_insert(SpamRecord {
                tokens: SPAM_BURST,
                updated: now,
                used: uses,
            }),
        };
        self.by_use.insert(uses, key.to_string());
        let elapsed = now.duration_since(record.updated).as_secs_f64().max(0.0);
        record.tokens = (record.tokens + elapsed * SPAM_QPS).min(SPAM_BURST);
        record.updated = now;
        record.used = uses;
        if record.tokens >= 1.0 {
            record.tokens -= 1.0;
            false
        } else {
            true
        }
    }
}

/// The spam key of an event (`getSpamKey`).
pub fn spam_key(event: &CoreEvent) -> String {
    let source = event.source.as_ref();
    let o = &event.involved_object;
    [
        source.and_then(|s| s.component.as_deref()),
        source.and_then(|s| s.host.as_deref()),
        o.kind.as_deref(),
        o.namespace.as_deref(),
        o.name.as_deref(),
        o.uid.as_deref(),
        o.api_version.as_deref(),
    ]
    .iter()
    .map(|p| p.unwrap_or(""))
    .collect()
}

/// Records core/v1 Events for objects (`record.EventRecorder`), as `<component>`, through
/// the source+object [`SpamFilter`] of its broadcaster.
#[derive(Debug, Clone)]
pub struct EventRecorder {
    client: LocalClient,
    component: String,
    time: SimTime,
    sequence: Arc<Mutex<u64>>,
    spam: Arc<Mutex<SpamFilter>>,
}

impl EventRecorder {
    /// A recorder reporting as `component` (e.g. `deployment-controller`).
    pub fn new(client: LocalClient, component: &str, time: SimTime) -> Self {
        Self {
            client,
            component: component.to_string(),
            time,
            sequence: Arc::new(Mutex::new(0)),
            spam: Arc::new(Mutex::new(SpamFilter::default())),
        }
    }

    /// Records an event about the object; failures are logged, never returned (upstream
    /// records asynchronously and drops on error).
    pub async fn event(
        &self,
        api_version: &str,
        kind: &str,
        meta: &ObjectMeta,
        event_type: &str,
        reason: &str,
        message: &str,
    ) {
        let now = self.time.now();
        let seq = {
            let mut s = self.sequence.lock().unwrap_or_else(|e| e.into_inner());
            *s += 1;
            *s
        };
        let namespace = meta
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        // Upstream names events `<object>.<unix nanos in hex>`; the sequence keeps names unique
        // when virtual time stands still.
        let nanos = now.as_nanosecond() as u64 + seq;
        let stamp = Time(Timestamp::from_second(now.as_second()).unwrap_or(now));
        let event = CoreEvent {
            metadata: ObjectMeta {
                name: Some(format!(
                    "{}.{nanos:x}",
                    meta.name.as_deref().unwrap_or("object")
                )),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some(api_version.to_string()),
                kind: Some(kind.to_string()),
                name: meta.name.clone(),
                namespace: meta.namespace.clone(),
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
                field_path: None,
            },
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            source: Some(k8s_openapi::api::core::v1::EventSource {
                component: Some(self.component.clone()),
                host: None,
            }),
            first_timestamp: Some(stamp.clone()),
            last_timestamp: Some(stamp),
            count: Some(1),
            type_: Some(event_type.to_string()),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(String::new()),
            ..CoreEvent::default()
        };
        let mut event = event;
        if self
            .spam
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .filter(&spam_key(&event), now)
        {
            tracing::debug!(reason, "event dropped by the spam filter");
            return;
        }
        // Recorders of different components share virtual instants: on a name clash, take the
        // next name (upstream's names are unix nanoseconds, unique in practice).
        for attempt in 1..=8u64 {
            match self.client.create_typed_shared(&event).await {
                Err(e) if e.code == 409 && attempt < 8 => {
                    event.metadata.name = Some(format!(
                        "{}.{:x}",
                        meta.name.as_deref().unwrap_or("object"),
                        nanos + attempt * 0x1000
                    ));
                }
                Err(e) => {
                    tracing::debug!(error = %e, reason, "event not recorded");
                    return;
                }
                Ok(_) => return,
            }
        }
    }
}

/// Serializes a typed object with its apiVersion and kind.
pub fn to_json<K: k8s_openapi::Resource + serde::Serialize>(obj: &K) -> Result<Value, SyncError> {
    let mut v = serde_json::to_value(obj)?;
    v["apiVersion"] = json!(K::API_VERSION);
    v["kind"] = json!(K::KIND);
    Ok(v)
}

/// Decodes an API answer into a typed object.
pub fn from_json<K: serde::de::DeserializeOwned>(v: Value) -> Result<K, SyncError> {
    Ok(serde_json::from_value(v)?)
}

/// A written object as `K`: decoded once and shared with the watches that deliver the write
/// (their receivers then find it decoded), copied out for the caller.
pub fn from_written<K>(written: &SharedObject) -> Result<K, SyncError>
where
    K: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    Ok(K::clone(&*written.typed::<K>()?))
}

/// PUT of a typed object (or its status when `subresource` is "status"); returns the stored object.
pub async fn update_typed<K>(
    client: &LocalClient,
    obj: &K,
    subresource: &str,
) -> Result<K, SyncError>
where
    K: k8s_openapi::Resource
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + Send
        + Sync
        + 'static,
{
    let info = resource_of::<K>()?;
    let out = client
        .update_shared(info, subresource, to_json(obj)?)
        .await?;
    from_written(&out)
}

/// Adds or removes owner references on a dependent through a merge patch that carries the
/// dependent's uid as a precondition, as the ref managers' strategic patches do
/// (`controller_ref_manager.go` `ownerRefControllerPatch`, `GenerateDeleteOwnerRefStrategicMergeBytes`).
pub async fn patch_owner_refs(
    client: &LocalClient,
    info: &kubetwin_apiserver::registry::ResourceInfo,
    meta: &ObjectMeta,
    refs: Vec<OwnerReference>,
) -> Result<(), SyncError> {
    let refs = if refs.is_empty() {
        Value::Null
    } else {
        serde_json::to_value(refs)?
    };
    let patch = json!({"metadata": {"ownerReferences": refs, "uid": meta.uid}});
    let ns = meta.namespace.as_deref().filter(|_| info.namespaced());
    client
        .merge_patch_shared(info, ns, meta.name.as_deref().unwrap_or(""), "", &patch)
        .await?;
    Ok(())
}

/// Whether the error is a 404.
pub fn is_not_found(e: &SyncError) -> bool {
    matches!(e, SyncError::Api(a) if a.code == 404)
}

/// Whether the error is a 409 AlreadyExists.
pub fn is_already_exists(e: &ApiError) -> bool {
    e.code == 409 && e.reason == "AlreadyExists"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spam filter's defaults (`events_cache.go`: `defaultSpamBurst` 25, `defaultSpamQPS`
    /// 1/300): per source+object, 25 events pass, then one per five minutes; another object
    /// has its own bucket. Each row: (seconds since start, object, passes).
    #[test]
    fn spam_filter_burst_then_one_per_five_minutes() {
        let start = Timestamp::from_second(1_735_689_600).expect("epoch");
        let mut filter = SpamFilter::default();
        let mut rows: Vec<(i64, &str, bool)> = (0..25).map(|_| (0, "rs-a", true)).collect();
        rows.extend([
            (0, "rs-a", false),
            (0, "rs-b", true),
            (150, "rs-a", false),
            (300, "rs-a", true),
            (301, "rs-a", false),
            (1000, "rs-a", true),
            (1000, "rs-a", true),
            (1000, "rs-a", false),
        ]);
        for (i, (at, object, passes)) in rows.into_iter().enumerate() {
            let now = start
                .checked_add(jiff::SignedDuration::from_secs(at))
                .expect("time");
            assert_eq!(!filter.filter(object, now), passes, "row {i}");
        }
    }

    /// The records are an LRU cache of 4,096 keys (`events_cache.go`: `maxLruCacheEntries`):
    /// a new key beyond them forgets the least recently used one, whose bucket starts full
    /// again when it comes back.
    #[test]
    fn spam_filter_forgets_the_least_recently_used_key() {
        let now = Timestamp::from_second(1_735_689_600).expect("epoch");
        let mut filter = SpamFilter::default();
        for _ in 0..25 {
            assert!(!filter.filter("drained", now));
        }
        assert!(filter.filter("drained", now), "the bucket is empty");
        for i in 1..SPAM_CACHE_ENTRIES {
            filter.filter(&format!("object-{i}"), now);
        }
        // "drained" is used again, so "object-1" is now the least recently used.
        assert!(filter.filter("drained", now));
        assert!(!filter.filter("newcomer", now));
        assert_eq!(filter.records.len(), SPAM_CACHE_ENTRIES);
        assert!(!filter.records.contains_key("object-1"));
        assert!(filter.records.contains_key("object-2"));
        // Another newcomer forgets "object-2", not the recently used "drained".
        assert!(!filter.filter("second-newcomer", now));
        assert!(filter.records.contains_key("drained"));
        assert!(!filter.records.contains_key("object-2"));
        assert_eq!(filter.by_use.len(), SPAM_CACHE_ENTRIES);
    }

    /// `getSpamKey`: source and involved object, not reason or message.
    #[test]
    fn spam_key_is_source_and_object() {
        let event = |reason: &str| CoreEvent {
            involved_object: ObjectReference {
                api_version: Some("apps/v1".into()),
                kind: Some("ReplicaSet".into()),
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..ObjectReference::default()
            },
            reason: Some(reason.into()),
            source: Some(k8s_openapi::api::core::v1::EventSource {
                component: Some("replicaset-controller".into()),
                host: None,
            }),
            ..CoreEvent::default()
        };
        assert_eq!(
            spam_key(&event("SuccessfulCreate")),
            spam_key(&event("SuccessfulDelete"))
        );
        assert_eq!(
            spam_key(&event("x")),
            "replicaset-controllerReplicaSetdefaultwebu1apps/v1"
        );
    }

    /// Upstream: `intstr_test.go` `TestGetScaledValueFromIntOrPercent`.
    #[test]
    fn scaled_value_cases() {
        let cases: &[(IntOrString, i32, bool, Result<i32, ()>)] = &[
            (IntOrString::Int(10), 0, false, Ok(10)),
            (IntOrString::String("25%".into()), 100, true, Ok(25)),
            (IntOrString::String("25%".into()), 100, false, Ok(25)),
            (IntOrString::String("23%".into()), 100, true, Ok(23)),
            (IntOrString::String("23%".into()), 100, false, Ok(23)),
            (IntOrString::String("123%".into()), 100, true, Ok(123)),
            (IntOrString::String("123%".into()), 100, false, Ok(123)),
            (IntOrString::String("33%".into()), 10, true, Ok(4)),
            (IntOrString::String("33%".into()), 10, false, Ok(3)),
            (IntOrString::String("%".into()), 10, true, Err(())),
            (IntOrString::String("50".into()), 10, true, Err(())),
            (IntOrString::String("0%".into()), 10, true, Ok(0)),
        ];
        for (input, total, up, expected) in cases {
            let got = scaled_value(input, *total, *up).map_err(|_| ());
            assert_eq!(&got, expected, "{input:?} of {total} up={up}");
        }
    }

    #[test]
    fn expectations_lifecycle() {
        let e = Expectations::default();
        let t0 = Duration::ZERO;
        assert!(e.satisfied("ns/rs", t0));
        e.expect_creations("ns/rs", 2, t0);
        assert!(!e.satisfied("ns/rs", t0));
        e.creation_observed("ns/rs");
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs", t0));
        e.expect_deletions("ns/rs", &["ns/a".into()], t0);
        e.deletion_observed("ns/rs", "ns/other");
        assert!(!e.satisfied("ns/rs", t0));
        // Expired after the timeout.
        assert!(e.satisfied("ns/rs", EXPECTATIONS_TIMEOUT + Duration::from_secs(1)));
        e.deletion_observed("ns/rs", "ns/a");
        assert!(e.satisfied("ns/rs", t0));
        e.delete("ns/rs");
    }
}
