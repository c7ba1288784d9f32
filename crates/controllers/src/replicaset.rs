//! The ReplicaSet controller: keeps `spec.replicas` pods matching each ReplicaSet.
//!
//! Upstream: `pkg/controller/replicaset/replica_set.go` (`syncReplicaSet`, `manageReplicas`
//! with `slowStartBatch` and `burstReplicas` = 500, `getPodsToDelete`,
//! `getIndirectlyRelatedPods`, the pod/RS event handlers), `replica_set_utils.go`
//! (`calculateStatus`, `updateReplicaSetStatus`), `pkg/controller/controller_utils.go`
//! (`ActivePodsWithRanks` with pod-deletion-cost and logarithmic scale-down, both on by
//! default in 1.34; `GetPodFromTemplate`), `controller_ref_manager.go` (`ClaimPods`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::Clock;
use kubetwin_core::labels::{Requirement, Selector};
use kubetwin_runtime::informer::{Event, Informer, meta_key};
use kubetwin_runtime::{SimTime, WorkQueue};

use crate::util::{
    EventRecorder, Expectations, SyncError, add_pod_controller_uid_index, controller_of,
    is_not_found, is_pod_active, is_pod_ready, labels_of, new_controller_ref, patch_owner_refs,
    pod_ready_condition, pods_by_owner, ready_long_enough, selector_of, to_json, update_typed,
};

/// `burstReplicas`: at most this many creations or deletions per sync.
pub const BURST_REPLICAS: usize = 500;

/// The annotation that orders pods for scale-down (`core.PodDeletionCost`).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The ReplicaSet controller.
#[derive(Debug, Clone)]
pub struct ReplicaSetController {
    client: LocalClient,
    time: SimTime,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    expectations: Expectations,
    recorder: EventRecorder,
    facts: Arc<FactsMemo>,
}

impl ReplicaSetController {
    /// A controller over shared informers (registers its handlers; start the informers too).
    pub fn new(
        client: LocalClient,
        time: SimTime,
        replica_sets: Informer<ReplicaSet>,
        pods: Informer<Pod>,
    ) -> Self {
        let recorder = EventRecorder::new(client.clone(), "replicaset-controller", time.clone());
        add_pod_controller_uid_index(&pods);
        let this = Self {
            queue: WorkQueue::new(time.clone()),
            client,
            time,
            replica_sets,
            pods,
            expectations: Expectations::default(),
            recorder,
            facts: Arc::default(),
        };
        this.register_handlers();
        this
    }

    fn register_handlers(&self) {
        let queue = self.queue.clone();
        let expectations = self.expectations.clone();
        self.replica_sets
            .add_handler(Arc::new(move |e: &Event<ReplicaSet>| match e {
                Event::Added(rs) | Event::Updated { new: rs, .. } => {
                    queue.add(meta_key(&rs.metadata));
                }
                Event::Deleted(rs) => {
                    let key = meta_key(&rs.metadata);
                    expectations.delete(&key);
                    queue.add(key);
                }
            }));
        let this = self.clone();
        self.pods
            .add_handler(Arc::new(move |e: &Event<Pod>| match e {
                Event::Added(pod) => this.add_pod(pod),
                Event::Updated { old, new } => this.update_pod(old, new),
                Event::Deleted(pod) => this.delete_pod(pod),
            }));
    }

    /// The ReplicaSet a controller reference points at, if it is in the cache with that uid
    /// (`resolveControllerRef`).
    fn resolve(&self, namespace: &str, r: &OwnerReference) -> Option<Arc<ReplicaSet>> {
        if r.kind != "ReplicaSet" || !r.api_version.starts_with("apps/") {
            return None;
        }
        self.replica_sets
            .get_named(Some(namespace), &r.name)
            .filter(|rs| rs.metadata.uid.as_deref() == Some(r.uid.as_str()))
    }

    /// ReplicaSets whose selector matches an orphan pod (`GetPodReplicaSets`).
    fn matching_replica_sets(&self, pod: &Pod) -> Vec<Arc<ReplicaSet>> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let labels = labels_of(&pod.metadata);
        if labels.is_empty() {
            return Vec::new();
        }
        self.replica_sets
            .list_namespace(ns)
            .into_iter()
            .filter(|rs| {
                selector_of(rs.spec.as_ref().map(|s| &s.selector))
                    .is_ok_and(|s| !s.is_empty() && s.matches(labels))
            })
            .collect()
    }

    fn add_pod(&self, pod: &Arc<Pod>) {
        if pod.metadata.deletion_timestamp.is_some() {
            self.delete_pod(pod);
            return;
        }
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        if let Some(r) = controller_of(&pod.metadata) {
            if let Some(rs) = self.resolve(ns, r) {
                let key = meta_key(&rs.metadata);
                self.expectations.creation_observed(&key);
                self.queue.add(key);
            }
            return;
        }
        for rs in self.matching_replica_sets(pod) {
            self.queue.add(meta_key(&rs.metadata));
        }
    }

    fn update_pod(&self, old: &Arc<Pod>, cur: &Arc<Pod>) {
        if old.metadata.resource_version == cur.metadata.resource_version {
            return;
        }
        let label_changed = old.metadata.labels != cur.metadata.labels;
        if cur.metadata.deletion_timestamp.is_some() {
            self.delete_pod(cur);
            if label_changed {
                self.delete_pod(old);
            }
            return;
        }
        let ns = cur.metadata.namespace.as_deref().unwrap_or("");
        let cur_ref = controller_of(&cur.metadata);
        let old_ref = controller_of(&old.metadata);
        let ref_changed = cur_ref != old_ref;
        if ref_changed
            && let Some(r) = old_ref
            && let Some(rs) = self.resolve(ns, r)
        {
            self.queue.add(meta_key(&rs.metadata));
        }
        if let Some(r) = cur_ref {
            if let Some(rs) = self.resolve(ns, r) {
                let key = meta_key(&rs.metadata);
                self.queue.add(key.clone());
                let min_ready = rs
                    .spec
                    .as_ref()
                    .and_then(|s| s.min_ready_seconds)
                    .unwrap_or(0);
                if !is_pod_ready(old) && is_pod_ready(cur) && min_ready > 0 {
                    // Check availability again once minReadySeconds have passed.
                    self.queue
                        .add_after(key, Duration::from_secs(min_ready as u64 + 1));
                }
            }
            return;
        }
        if label_changed || ref_changed {
            for rs in self.matching_replica_sets(cur) {
                self.queue.add(meta_key(&rs.metadata));
            }
        }
    }

    fn delete_pod(&self, pod: &Arc<Pod>) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let Some(r) = controller_of(&pod.metadata) else {
            return;
        };
        if let Some(rs) = self.resolve(ns, r) {
            let key = meta_key(&rs.metadata);
            self.expectations
                .deletion_observed(&key, &meta_key(&pod.metadata));
            self.queue.add(key);
        }
    }

    /// Runs one worker until the queue shuts down (upstream runs `ConcurrentRSSyncs` = 5
    /// workers; one keeps writes in a deterministic order).
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "replicaset sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    /// The work queue (to shut it down).
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    /// `syncReplicaSet`.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(rs) = self.replica_sets.get(key) else {
            self.expectations.delete(key);
            self.facts.forget(key);
            return Ok(());
        };
        let needs_sync = self.expectations.satisfied(key, self.time.elapsed());
        let selector = selector_of(rs.spec.as_ref().map(|s| &s.selector))?;
        // Upstream: `syncReplicaSet` lists the pods indexed to the ReplicaSet's UID and the
        // namespace's orphans (`controller.FilterPodsByOwner`), not the whole namespace.
        let all_pods = pods_by_owner(&self.pods, &rs.metadata);
        let facts = self.facts.of(key, &rs, &selector, &all_pods);
        let (active, active_facts): (Vec<Arc<Pod>>, Vec<PodFacts>) = all_pods
            .into_iter()
            .zip(facts)
            .filter(|(_, f)| f.active)
            .unzip();
        let (filtered, filtered_facts) = self.claim_pods(&rs, active, active_facts).await?;
        let mut manage_err = None;
        if needs_sync
            && rs.metadata.deletion_timestamp.is_none()
            && let Err(e) = self.manage_replicas(&filtered, &rs, key).await
        {
            manage_err = Some(e);
        }
        let now = self.time.now();
        let new_status = status_from_facts(
            &rs,
            &filtered_facts,
            manage_err.as_ref().map(|e| e.to_string()),
            now,
        );
        let updated = self.update_status(&rs, new_status).await?;
        let replicas = updated.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let status = updated.status.clone().unwrap_or_default();
        let min_ready = updated
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        if manage_err.is_none()
            && min_ready > 0
            && status.ready_replicas.unwrap_or(0) == replicas
            && status.available_replicas.unwrap_or(0) != replicas
        {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        match manage_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `ClaimPods`: adopt matching orphans, release owned pods that stopped matching.
    /// Takes the pods with their facts (see [`PodFacts`]) and gives back the claimed ones.
    async fn claim_pods(
        &self,
        rs: &ReplicaSet,
        pods: Vec<Arc<Pod>>,
        facts: Vec<PodFacts>,
    ) -> Result<(Vec<Arc<Pod>>, Vec<PodFacts>), SyncError> {
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let deleting = rs.metadata.deletion_timestamp.is_some();
        let info = resource_of::<Pod>()?;
        let mut claimed = Vec::new();
        let mut claimed_facts = Vec::new();
        let mut can_adopt: Option<bool> = None;
        for (pod, fact) in pods.into_iter().zip(facts) {
            let matches = fact.matches;
            let refs = || pod.metadata.owner_references.clone().unwrap_or_default();
            match fact.controller {
                Controller::This => {
                    if matches {
                        claimed.push(pod);
                        claimed_facts.push(fact);
                    } else if !deleting {
                        let kept: Vec<OwnerReference> =
                            refs().into_iter().filter(|r| r.uid != uid).collect();
                        match patch_owner_refs(&self.client, info, &pod.metadata, kept).await {
                            Ok(()) => {}
                            Err(e) if is_not_found(&e) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Controller::Other => {}
                Controller::None => {
                    if deleting || !matches || pod.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    // `RecheckDeletionTimestamp`: a fresh read of the owner before adopting.
                    let ok = match can_adopt {
                        Some(ok) => ok,
                        None => {
                            let fresh: Result<ReplicaSet, _> = self.client.get_typed(
                                rs.metadata.namespace.as_deref(),
                                rs.metadata.name.as_deref().unwrap_or(""),
                            );
                            let ok = fresh.is_ok_and(|f| {
                                f.metadata.uid == rs.metadata.uid
                                    && f.metadata.deletion_timestamp.is_none()
                            });
                            can_adopt = Some(ok);
                            ok
                        }
                    };
                    if !ok {
                        continue;
                    }
                    let mut refs = refs();
                    refs.push(new_controller_ref(&rs.metadata, "apps/v1", "ReplicaSet"));
                    match patch_owner_refs(&self.client, info, &pod.metadata, refs).await {
                        Ok(()) => {
                            claimed.push(pod);
                            claimed_facts.push(fact);
                        }
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok((claimed, claimed_facts))
    }

    /// `manageReplicas`.
    async fn manage_replicas(
        &self,
        filtered: &[Arc<Pod>],
        rs: &ReplicaSet,
        key: &str,
    ) -> Result<(), SyncError> {
        let want = rs
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1)
            .max(0) as usize;
        let have = filtered.len();
        if have < want {
            let diff = (want - have).min(BURST_REPLICAS);
            self.expectations
                .expect_creations(key, diff as i64, self.time.elapsed());
            let pod = pod_from_template(rs)?;
            let (created, err) = self.slow_start_create(diff, &pod, rs).await;
            // Pods never created are never observed: lower the expectations for them.
            for _ in created..diff {
                self.expectations.creation_observed(key);
            }
            return match err {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        if have > want {
            let diff = (have - want).min(BURST_REPLICAS);
            let related = self.indirectly_related_pods(rs);
            let victims = pods_to_delete(filtered, &related, diff, self.time.now());
            let keys: Vec<String> = victims.iter().map(|p| meta_key(&p.metadata)).collect();
            self.expectations
                .expect_deletions(key, &keys, self.time.elapsed());
            let info = resource_of::<Pod>()?;
            let mut first_err = None;
            for pod in victims {
                let name = pod.metadata.name.as_deref().unwrap_or("");
                let ns = pod.metadata.namespace.as_deref();
                match self
                    .client
                    .delete(info, ns, name, &DeleteOptions::default())
                    .await
                {
                    Ok(_) => {
                        self.recorder
                            .event(
                                "apps/v1",
                                "ReplicaSet",
                                &rs.metadata,
                                "Normal",
                                "SuccessfulDelete",
                                &format!("Deleted pod: {name}"),
                            )
                            .await;
                    }
                    Err(e) => {
                        self.expectations
                            .deletion_observed(key, &meta_key(&pod.metadata));
                        if e.code != 404 && first_err.is_none() {
                            self.recorder
                                .event(
                                    "apps/v1",
                                    "ReplicaSet",
                                    &rs.metadata,
                                    "Warning",
                                    "FailedDelete",
                                    &format!("Error deleting: {}", e.message),
                                )
                                .await;
                            first_err = Some(SyncError::Api(e));
                        }
                    }
                }
            }
            return match first_err {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        Ok(())
    }

    /// `slowStartBatch` with an initial batch of 1: batches of 1, 2, 4, …, stopping after the
    /// first batch with an error. Returns how many were created.
    async fn slow_start_create(
        &self,
        count: usize,
        pod: &Pod,
        rs: &ReplicaSet,
    ) -> (usize, Option<SyncError>) {
        let mut remaining = count;
        let mut batch = 1usize;
        let mut created = 0;
        while remaining > 0 {
            let size = batch.min(remaining);
            let mut err = None;
            for _ in 0..size {
                match self.create_pod(pod, rs).await {
                    Ok(()) => created += 1,
                    Err(e) => {
                        if err.is_none() {
                            err = Some(e);
                        }
                    }
                }
            }
            if err.is_some() {
                return (created, err);
            }
            remaining -= size;
            batch *= 2;
        }
        (created, None)
    }

    async fn create_pod(&self, pod: &Pod, rs: &ReplicaSet) -> Result<(), SyncError> {
        let info = resource_of::<Pod>()?;
        let value = to_json(pod)?;
        match self
            .client
            .create_shared(info, rs.metadata.namespace.as_deref(), value)
            .await
        {
            Ok(created) => {
                let name = created["metadata"]["name"].as_str().unwrap_or("");
                self.recorder
                    .event(
                        "apps/v1",
                        "ReplicaSet",
                        &rs.metadata,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {name}"),
                    )
                    .await;
                Ok(())
            }
            Err(e) => {
                self.recorder
                    .event(
                        "apps/v1",
                        "ReplicaSet",
                        &rs.metadata,
                        "Warning",
                        "FailedCreate",
                        &format!("Error creating: {}", e.message),
                    )
                    .await;
                Err(SyncError::Api(e))
            }
        }
    }

    /// Pods of every ReplicaSet with the same controller (`getIndirectlyRelatedPods`).
    fn indirectly_related_pods(&self, rs: &ReplicaSet) -> Vec<Arc<Pod>> {
        let Some(owner) = controller_of(&rs.metadata) else {
            return Vec::new();
        };
        let ns = rs.metadata.namespace.as_deref().unwrap_or("");
        let selectors: Vec<Selector> = self
            .replica_sets
            .list_namespace(ns)
            .iter()
            .filter(|other| controller_of(&other.metadata).map(|r| &r.uid) == Some(&owner.uid))
            .filter_map(|other| selector_of(other.spec.as_ref().map(|s| &s.selector)).ok())
            .collect();
        pods_matching_any(&selectors, self.pods.list_namespace(ns))
    }

    /// `updateReplicaSetStatus`: writes only when something changed.
    async fn update_status(
        &self,
        rs: &ReplicaSet,
        mut status: ReplicaSetStatus,
    ) -> Result<ReplicaSet, SyncError> {
        let current = rs.status.clone().unwrap_or_default();
        let generation = rs.metadata.generation.unwrap_or(0);
        if current.replicas == status.replicas
            && current.fully_labeled_replicas.unwrap_or(0)
                == status.fully_labeled_replicas.unwrap_or(0)
            && current.ready_replicas.unwrap_or(0) == status.ready_replicas.unwrap_or(0)
            && current.available_replicas.unwrap_or(0) == status.available_replicas.unwrap_or(0)
            && current.observed_generation.unwrap_or(0) == generation
            && current.conditions == status.conditions
        {
            return Ok(rs.clone());
        }
        status.observed_generation = Some(generation);
        let mut next = rs.clone();
        next.status = Some(status);
        update_typed(&self.client, &next, "status").await
    }
}

/// The pod a ReplicaSet creates (`GetPodFromTemplate`): the template's labels, annotations,
/// finalizers and spec, `generateName: <rs>-` and a controller reference.
pub fn pod_from_template(rs: &ReplicaSet) -> Result<Pod, SyncError> {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let labels = tmeta.labels.unwrap_or_default();
    if labels.is_empty() {
        return Err(SyncError::Invalid(
            "unable to create pods, no labels".to_string(),
        ));
    }
    let name = rs.metadata.name.clone().unwrap_or_default();
    // `getPodsPrefix`: `<name>-` unless that is not a valid generateName.
    let prefix = if name.len() < 58 {
        format!("{name}-")
    } else {
        name.clone()
    };
    Ok(Pod {
        metadata: ObjectMeta {
            generate_name: Some(prefix),
            namespace: rs.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![new_controller_ref(
                &rs.metadata,
                "apps/v1",
                "ReplicaSet",
            )]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    })
}

/// `calculateStatus`: counts over the claimed active pods, and the `ReplicaFailure` condition.
pub fn calculate_status(
    rs: &ReplicaSet,
    filtered: &[Arc<Pod>],
    manage_err: Option<String>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let uid = rs.metadata.uid.as_deref().unwrap_or("");
    let selector =
        selector_of(rs.spec.as_ref().map(|s| &s.selector)).unwrap_or_else(|_| Selector::nothing());
    let template = template_selector(rs);
    let facts: Vec<PodFacts> = filtered
        .iter()
        .map(|p| PodFacts::of(p, uid, &selector, &template))
        .collect();
    status_from_facts(rs, &facts, manage_err, now)
}

/// [`calculate_status`] from the facts of the claimed pods.
fn status_from_facts(
    rs: &ReplicaSet,
    filtered: &[PodFacts],
    manage_err: Option<String>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let mut status = rs.status.clone().unwrap_or_default();
    let spec = rs.spec.as_ref();
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let (mut fully_labeled, mut ready, mut available) = (0, 0, 0);
    for pod in filtered {
        if pod.fully_labeled {
            fully_labeled += 1;
        }
        if pod.ready {
            ready += 1;
            if pod.available(min_ready, now) {
                available += 1;
            }
        }
    }
    let has_failure = status
        .conditions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .any(|c| c.type_ == "ReplicaFailure");
    match manage_err {
        Some(message) if !has_failure => {
            let want = spec.and_then(|s| s.replicas).unwrap_or(1) as i64;
            let diff = filtered.len() as i64 - want;
            let reason = match diff.cmp(&0) {
                Ordering::Less => "FailedCreate",
                Ordering::Greater => "FailedDelete",
                Ordering::Equal => "",
            };
            let stamp = Timestamp::from_second(now.as_second()).unwrap_or(now);
            status
                .conditions
                .get_or_insert_with(Vec::new)
                .push(ReplicaSetCondition {
                    type_: "ReplicaFailure".into(),
                    status: "True".into(),
                    reason: Some(reason.into()),
                    message: Some(message),
                    last_transition_time: Some(Time(stamp)),
                });
        }
        None if has_failure => {
            if let Some(c) = status.conditions.as_mut() {
                c.retain(|c| c.type_ != "ReplicaFailure");
            }
            if status.conditions.as_ref().is_some_and(Vec::is_empty) {
                status.conditions = None;
            }
        }
        _ => {}
    }
    status.replicas = filtered.len() as i32;
    status.fully_labeled_replicas = Some(fully_labeled);
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status
}

/// The selector of a ReplicaSet's pod template labels (`fullyLabeledReplicas` counts the pods
/// matching it).
fn template_selector(rs: &ReplicaSet) -> Selector {
    rs.spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .map(Selector::from_set)
        .unwrap_or_else(Selector::everything)
}

/// Which controller a pod's controller reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controller {
    /// The ReplicaSet being synced.
    This,
    /// Another owner.
    Other,
    /// None: an orphan.
    None,
}

/// What a sync reads of one pod, for one ReplicaSet: whether it is active, matches the
/// selector, whom it belongs to, whether it carries the template's labels, and its readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PodFacts {
    active: bool,
    matches: bool,
    controller: Controller,
    fully_labeled: bool,
    ready: bool,
    /// When the `Ready` condition last changed, if it is true.
    ready_since: Option<Timestamp>,
}

impl PodFacts {
    fn of(pod: &Pod, uid: &str, selector: &Selector, template: &Selector) -> Self {
        let labels = labels_of(&pod.metadata);
        let ready = pod_ready_condition(pod).filter(|c| c.status == "True");
        Self {
            active: is_pod_active(pod),
            matches: selector.matches(labels),
            controller: match controller_of(&pod.metadata) {
                Some(r) if r.uid == uid => Controller::This,
                Some(_) => Controller::Other,
                None => Controller::None,
            },
            fully_labeled: template.matches(labels),
            ready: ready.is_some(),
            ready_since: ready
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0),
        }
    }

    /// `podutil.IsPodAvailable` (see `util::is_pod_available`).
    fn available(&self, min_ready_seconds: i32, now: Timestamp) -> bool {
        self.ready && ready_long_enough(self.ready_since, min_ready_seconds, now)
    }
}

/// The facts of the pod versions each ReplicaSet's syncs have read. A 1,000-replica
/// ReplicaSet re-reads its 1,000 pods at every sync, and following each pod's labels, owner
/// references and conditions through memory costs more than the rest of the sync; a pod that
/// did not change since the last sync keeps its facts.
///
/// The informer gives every pod version its own `Arc`, so the address names the version; the
/// entry's `Weak` keeps the allocation, so the address is not reused while the entry lives.
/// The facts depend on the ReplicaSet's uid, selector and template labels: when one changes,
/// the memo starts over.
#[derive(Debug, Default)]
struct FactsMemo {
    by_replica_set: std::sync::Mutex<BTreeMap<String, ReplicaSetFacts>>,
}

#[derive(Debug)]
struct ReplicaSetFacts {
    uid: String,
    selector: Selector,
    template: Selector,
    pods: BTreeMap<usize, (std::sync::Weak<Pod>, PodFacts)>,
}

impl ReplicaSetFacts {
    fn new(uid: &str, selector: &Selector, template: &Selector) -> Self {
        Self {
            uid: uid.to_string(),
            selector: selector.clone(),
            template: template.clone(),
            pods: BTreeMap::new(),
        }
    }
}

impl FactsMemo {
    /// The facts of `pods` for the ReplicaSet `rs` (at `key`), in order.
    fn of(
        &self,
        key: &str,
        rs: &ReplicaSet,
        selector: &Selector,
        pods: &[Arc<Pod>],
    ) -> Vec<PodFacts> {
        let uid = rs.metadata.uid.as_deref().unwrap_or("");
        let template = template_selector(rs);
        let mut memo = self
            .by_replica_set
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let entry = memo
            .entry(key.to_string())
            .or_insert_with(|| ReplicaSetFacts::new(uid, selector, &template));
        if entry.uid != uid || entry.selector != *selector || entry.template != template {
            *entry = ReplicaSetFacts::new(uid, selector, &template);
        }
        let facts: Vec<PodFacts> = pods
            .iter()
            .map(|pod| {
                let address = Arc::as_ptr(pod) as usize;
                match entry.pods.get(&address) {
                    Some((_, facts)) => *facts,
                    None => {
                        let facts = PodFacts::of(pod, uid, &entry.selector, &entry.template);
                        entry.pods.insert(address, (Arc::downgrade(pod), facts));
                        facts
                    }
                }
            })
            .collect();
        // Versions no longer read are dropped once they outnumber the live ones.
        if entry.pods.len() > 2 * pods.len() + 64 {
            let live: BTreeSet<usize> = pods.iter().map(|p| Arc::as_ptr(p) as usize).collect();
            entry.pods.retain(|address, _| live.contains(address));
        }
        facts
    }

    fn forget(&self, key: &str) {
        self.by_replica_set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// `getPodsToDelete`: the first `diff` pods by `ActivePodsWithRanks`, ranked by how many
/// related active pods share their node.
pub fn pods_to_delete(
    filtered: &[Arc<Pod>],
    related: &[Arc<Pod>],
    diff: usize,
    now: Timestamp,
) -> Vec<Arc<Pod>> {
    let mut pods: Vec<Arc<Pod>> = filtered.to_vec();
    if diff < pods.len() {
        let mut on_node: BTreeMap<String, usize> = BTreeMap::new();
        for p in related {
            if is_pod_active(p) {
                *on_node.entry(node_name(p).to_string()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(Arc<Pod>, usize)> = pods
            .into_iter()
            .map(|p| {
                let rank = on_node.get(node_name(&p)).copied().unwrap_or(0);
                (p, rank)
            })
            .collect();
        // Upstream: pkg/controller/replicaset/replica_set.go `getPodsToDelete` (`sort.Sort`).
        kubetwin_core::gosort::sort(&mut ranked, |a, b| ranked_less(&a.0, a.1, &b.0, b.1, now));
        pods = ranked.into_iter().map(|(p, _)| p).collect();
    }
    pods.truncate(diff);
    pods
}

fn node_name(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn phase_ordinal(p: &Pod) -> u8 {
    match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    }
}

/// `GetDeletionCostFromPodAnnotations`: 0 when absent or invalid (no `+`, no leading zeros).
pub fn deletion_cost(pod: &Pod) -> i32 {
    let Some(v) = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(POD_DELETION_COST))
    else {
        return 0;
    };
    let first_ok = match v.as_bytes().first() {
        Some(b'-') => true,
        Some(b'0') => v == "0",
        Some(b) => b.is_ascii_digit(),
        None => false,
    };
    if !first_ok {
        return 0;
    }
    v.parse::<i32>().unwrap_or(0)
}

fn ready_time(p: &Pod) -> Option<Timestamp> {
    if !is_pod_ready(p) {
        return None;
    }
    pod_ready_condition(p)
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

fn max_restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

/// `afterOrZero`: a zero time counts as after any other.
fn after_or_zero(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (None, _) | (_, None) => a.is_none(),
        (Some(a), Some(b)) => a > b,
    }
}

/// `logarithmicRankDiff`: compares ⌊log2(age in ns)⌋.
fn logarithmic_rank_diff(a: Timestamp, b: Timestamp, now: Timestamp) -> i64 {
    let rank = |t: Timestamp| -> i64 {
        let d = now.as_nanosecond() - t.as_nanosecond();
        if d > 0 { (d as f64).log2() as i64 } else { -1 }
    };
    rank(a) - rank(b)
}

fn uid(p: &Pod) -> &str {
    p.metadata.uid.as_deref().unwrap_or("")
}

/// `ActivePodsWithRanks.Less`, as an ordering (pods deleted first sort first).
pub fn compare_ranked(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize, now: Timestamp) -> Ordering {
    if ranked_less(a, rank_a, b, rank_b, now) {
        Ordering::Less
    } else if ranked_less(b, rank_b, a, rank_a, now) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// `ActivePodsWithRanks.Less`: whether `x` (with `rx` related pods on its node) goes before
/// `y`. Not a strict weak order (the log-scale buckets fall back to the uid while exact times
/// fall through to later criteria), so lists are sorted with Go's algorithm
/// ([`kubetwin_core::gosort::sort`]), as upstream's `sort.Sort` orders them.
pub fn ranked_less(x: &Pod, rx: usize, y: &Pod, ry: usize, now: Timestamp) -> bool {
    {
        // 1. Unassigned < assigned.
        let (nx, ny) = (node_name(x), node_name(y));
        if nx != ny && (nx.is_empty() || ny.is_empty()) {
            return nx.is_empty();
        }
        // 2. Pending < Unknown < Running.
        if phase_ordinal(x) != phase_ordinal(y) {
            return phase_ordinal(x) < phase_ordinal(y);
        }
        // 3. Not ready < ready.
        if is_pod_ready(x) != is_pod_ready(y) {
            return !is_pod_ready(x);
        }
        // 4. Lower pod-deletion-cost < higher.
        if deletion_cost(x) != deletion_cost(y) {
            return deletion_cost(x) < deletion_cost(y);
        }
        // 5. Doubled up (more related pods on the node) < not doubled up.
        if rx != ry {
            return rx > ry;
        }
        // 6. Ready for a shorter time < longer, compared on a log scale.
        if is_pod_ready(x) && is_pod_ready(y) {
            let (tx, ty) = (ready_time(x), ready_time(y));
            if tx != ty {
                return match (tx, ty) {
                    (Some(tx), Some(ty)) => {
                        let diff = logarithmic_rank_diff(tx, ty, now);
                        if diff == 0 { uid(x) < uid(y) } else { diff < 0 }
                    }
                    _ => after_or_zero(tx, ty),
                };
            }
        }
        // 7. More restarts < fewer.
        if max_restarts(x) != max_restarts(y) {
            return max_restarts(x) > max_restarts(y);
        }
        // 8. Newer < older, on a log scale.
        let (cx, cy) = (
            x.metadata.creation_timestamp.as_ref().map(|t| t.0),
            y.metadata.creation_timestamp.as_ref().map(|t| t.0),
        );
        if cx != cy {
            return match (cx, cy) {
                (Some(cx), Some(cy)) => {
                    let diff = logarithmic_rank_diff(cx, cy, now);
                    if diff == 0 { uid(x) < uid(y) } else { diff < 0 }
                }
                _ => after_or_zero(cx, cy),
            };
        }
        false
    }
}

/// The pods any of `selectors` matches, selector by selector, each pod once, in `pods`' order
/// within a selector (`getIndirectlyRelatedPods`' loop over the related ReplicaSets).
fn pods_matching_any(selectors: &[Selector], mut pods: Vec<Arc<Pod>>) -> Vec<Arc<Pod>> {
    // A requirement every selector has (a Deployment's ReplicaSets all carry its own
    // selector): a pod that fails it matches none of them, so one pass over the namespace
    // narrows the candidates for all of them.
    let shared: Vec<&Requirement> = selectors.first().map_or_else(Vec::new, |first| {
        first
            .requirements()
            .iter()
            .filter(|r| selectors.iter().all(|s| s.requirements().contains(r)))
            .collect()
    });
    pods.retain(|pod| {
        let labels = labels_of(&pod.metadata);
        shared.iter().all(|r| r.matches(labels))
    });
    let mut seen = BTreeSet::new();
    let mut related = Vec::new();
    for selector in selectors {
        for pod in &pods {
            if selector.matches(labels_of(&pod.metadata))
                && seen.insert(pod.metadata.uid.clone().unwrap_or_default())
            {
                related.push(Arc::clone(pod));
            }
        }
    }
    related
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition, PodSpec, PodStatus};

    #[allow(clippy::too_many_arguments)]
    fn pod(
        name: &str,
        node: &str,
        phase: &str,
        ready: bool,
        restarts: i32,
        ready_since: Option<Timestamp>,
        created: Option<Timestamp>,
        cost: Option<&str>,
    ) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: created.map(Time),
                annotations: cost.map(|c| {
                    [(POD_DELETION_COST.to_string(), c.to_string())]
                        .into_iter()
                        .collect()
                }),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some(node.into()).filter(|n: &String| !n.is_empty()),
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: ready.then(|| {
                    vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: ready_since.map(Time),
                        ..PodCondition::default()
                    }]
                }),
                container_statuses: ready.then(|| {
                    vec![ContainerStatus {
                        restart_count: restarts,
                        ..ContainerStatus::default()
                    }]
                }),
                ..PodStatus::default()
            }),
        }
    }

    /// Upstream: `controller_utils_test.go` `TestSortingActivePodsWithRanks` (both feature
    /// gates on, as in 1.34 by default).
    #[test]
    fn sorting_active_pods_with_ranks() {
        let now = Timestamp::from_second(1_735_689_600).expect("now");
        let h = |hours: i64| now - jiff::SignedDuration::from_hours(hours);
        let month = now - jiff::SignedDuration::from_hours(24 * 31);
        let unscheduled = pod("unscheduled", "", "Pending", false, 0, None, None, None);
        let pending = pod("pending", "node", "Pending", false, 0, None, None, None);
        let unknown = pod(
            "unknown-phase",
            "node",
            "Unknown",
            false,
            0,
            None,
            None,
            None,
        );
        let not_ready = pod("not-ready", "node", "Running", false, 0, None, None, None);
        let ready_no_ltt = pod("ready-no-ltt", "node", "Running", true, 0, None, None, None);
        let ready_now = pod(
            "ready-now",
            "node",
            "Running",
            true,
            0,
            Some(now),
            Some(now),
            None,
        );
        let ready_then = pod(
            "ready-then",
            "node",
            "Running",
            true,
            0,
            Some(month),
            Some(month),
            None,
        );
        let high_restarts = pod(
            "ready-high-restarts",
            "node",
            "Running",
            true,
            9001,
            Some(now),
            Some(now),
            None,
        );
        let created_then = pod(
            "ready-now-created-then",
            "node",
            "Running",
            true,
            0,
            Some(now),
            Some(month),
            None,
        );
        let low_cost = pod(
            "low-deletion-cost",
            "node",
            "Running",
            true,
            0,
            Some(now),
            Some(month),
            Some("10"),
        );
        let high_cost = pod(
            "high-deletion-cost",
            "node",
            "Running",
            true,
            0,
            Some(now),
            Some(month),
            Some("100"),
        );
        let unscheduled_5h = pod("u5", "", "Pending", false, 0, Some(h(5)), Some(h(5)), None);
        let unscheduled_8h = pod("u8", "", "Pending", false, 0, Some(h(8)), Some(h(8)), None);
        let ready_2h = pod("r2", "", "Running", true, 0, Some(h(2)), Some(month), None);
        let ready_5h = pod("r5", "", "Running", true, 0, Some(h(5)), Some(month), None);
        let ready_8h = pod("r8", "", "Running", true, 0, Some(h(8)), Some(month), None);

        let equal: &[(&Pod, &Pod)] = &[
            (&unscheduled, &unscheduled),
            (&pending, &pending),
            (&unknown, &unknown),
            (&not_ready, &not_ready),
            (&created_then, &created_then),
            (&ready_now, &ready_now),
            (&ready_then, &ready_then),
            (&high_restarts, &high_restarts),
            (&unscheduled_5h, &unscheduled_8h),
            (&ready_5h, &ready_8h),
        ];
        for (i, (a, b)) in equal.iter().enumerate() {
            assert_eq!(
                compare_ranked(a, 1, b, 1, now),
                Ordering::Equal,
                "equality case {i}"
            );
        }
        type Ranked<'a> = (&'a Pod, usize);
        let lesser: &[(Ranked, Ranked)] = &[
            ((&unscheduled, 1), (&pending, 2)),
            ((&unscheduled, 2), (&pending, 1)),
            ((&pending, 1), (&unknown, 2)),
            ((&unknown, 1), (&not_ready, 2)),
            ((&not_ready, 1), (&ready_no_ltt, 1)),
            ((&ready_no_ltt, 1), (&ready_now, 1)),
            ((&ready_now, 2), (&ready_no_ltt, 1)),
            ((&ready_now, 1), (&ready_then, 1)),
            ((&ready_now, 2), (&ready_then, 1)),
            ((&high_restarts, 1), (&ready_now, 1)),
            ((&ready_now, 2), (&high_restarts, 1)),
            ((&ready_now, 1), (&created_then, 1)),
            ((&created_then, 2), (&ready_now, 1)),
            ((&low_cost, 2), (&high_cost, 1)),
            ((&ready_2h, 1), (&ready_5h, 1)),
        ];
        for (i, ((a, ra), (b, rb))) in lesser.iter().enumerate() {
            assert_eq!(
                compare_ranked(a, *ra, b, *rb, now),
                Ordering::Less,
                "inequality case {i}: {:?} < {:?}",
                a.metadata.name,
                b.metadata.name
            );
        }
    }

    /// Upstream: `controller_utils_test.go` `TestGetDeletionCostFromPodAnnotations`.
    #[test]
    fn deletion_cost_parsing() {
        let cases: &[(Option<&str>, i32)] = &[
            (None, 0),
            (Some("100"), 100),
            (Some("-100"), -100),
            (Some("0"), 0),
            (Some("+10"), 0),
            (Some("008"), 0),
            (Some("abc"), 0),
            (Some("1000000000000"), 0),
            (Some(""), 0),
        ];
        for (value, expected) in cases {
            let p = pod("p", "", "Running", false, 0, None, None, *value);
            assert_eq!(deletion_cost(&p), *expected, "{value:?}");
        }
    }

    /// Upstream: `replica_set_test.go` `TestGetPodsToDelete` (ranking by related pods on the
    /// same node, then the usual order).
    #[test]
    fn pods_to_delete_prefers_doubled_up_nodes() {
        let now = Timestamp::from_second(1_735_689_600).expect("now");
        let t = Some(now - jiff::SignedDuration::from_hours(1));
        let a = Arc::new(pod("a", "n1", "Running", true, 0, t, t, None));
        let b = Arc::new(pod("b", "n2", "Running", true, 0, t, t, None));
        let c = Arc::new(pod("c", "n2", "Running", true, 0, t, t, None));
        let pending = Arc::new(pod("pending", "", "Pending", false, 0, None, t, None));
        let filtered = vec![Arc::clone(&a), Arc::clone(&b), Arc::clone(&pending)];
        let related = vec![a, b, c, Arc::clone(&pending)];
        let names = |v: Vec<Arc<Pod>>| -> Vec<String> {
            v.iter()
                .map(|p| p.metadata.name.clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(
            names(pods_to_delete(&filtered, &related, 1, now)),
            ["pending"]
        );
        assert_eq!(
            names(pods_to_delete(&filtered, &related, 2, now)),
            ["pending", "b"]
        );
        // Deleting all: no ranking needed.
        assert_eq!(pods_to_delete(&filtered, &related, 3, now).len(), 3);
    }

    /// Upstream: `replica_set_test.go` `TestCalculateStatus` and
    /// `TestCalculateStatusConditions`.
    #[test]
    fn calculate_status_counts_and_failure_condition() {
        let now = Timestamp::from_second(1_735_689_600).expect("now");
        let rs: ReplicaSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "rs", "namespace": "default"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "a"}},
                     "template": {"metadata": {"labels": {"app": "a", "extra": "x"}}}}
        }))
        .expect("rs");
        let mut full = pod("full", "n", "Running", true, 0, Some(now), Some(now), None);
        full.metadata.labels = Some(
            [("app", "a"), ("extra", "x")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let mut partial = pod("partial", "n", "Running", false, 0, None, Some(now), None);
        partial.metadata.labels = Some([("app".to_string(), "a".to_string())].into());
        let pods = vec![Arc::new(full), Arc::new(partial)];
        let s = calculate_status(&rs, &pods, None, now);
        assert_eq!(s.replicas, 2);
        assert_eq!(s.fully_labeled_replicas, Some(1));
        assert_eq!(s.ready_replicas, Some(1));
        assert_eq!(s.available_replicas, Some(1));
        assert!(s.conditions.is_none());
        // Too few pods and a failure: FailedCreate.
        let s = calculate_status(&rs, &pods, Some("boom".into()), now);
        let c = &s.conditions.as_ref().expect("conditions")[0];
        assert_eq!(
            (c.type_.as_str(), c.reason.as_deref()),
            ("ReplicaFailure", Some("FailedCreate"))
        );
        // The failure goes away with a successful sync.
        let mut failed = rs.clone();
        failed.status = Some(s);
        let s = calculate_status(&failed, &pods, None, now);
        assert!(s.conditions.is_none());
        // Too many pods: FailedDelete.
        let mut one = rs.clone();
        one.spec.as_mut().expect("spec").replicas = Some(1);
        let s = calculate_status(&one, &pods, Some("boom".into()), now);
        assert_eq!(
            s.conditions.expect("conditions")[0].reason.as_deref(),
            Some("FailedDelete")
        );
    }

    /// `IsPodAvailable` with minReadySeconds (upstream `pod/util_test.go` `TestIsPodAvailable`).
    #[test]
    fn availability_needs_min_ready_seconds() {
        let now = Timestamp::from_second(1_735_689_600).expect("now");
        let ago = |s: i64| Some(now - jiff::SignedDuration::from_secs(s));
        let cases: &[(bool, Option<Timestamp>, i32, bool)] = &[
            (false, None, 0, false),
            (true, None, 0, true),
            (true, ago(0), 1, false),
            (true, ago(2), 1, true),
            (true, ago(1), 1, false),
        ];
        for (ready, since, min_ready, expected) in cases {
            let p = pod("p", "n", "Running", *ready, 0, *since, None, None);
            assert_eq!(
                crate::util::is_pod_available(&p, *min_ready, now),
                *expected,
                "ready={ready} since={since:?} minReady={min_ready}"
            );
            let everything = Selector::everything();
            let facts = PodFacts::of(&p, "", &everything, &everything);
            assert_eq!(
                facts.available(*min_ready, now),
                *expected,
                "facts: ready={ready} since={since:?} minReady={min_ready}"
            );
        }
    }

    /// The memo answers what computing the facts afresh answers: an updated pod is a new
    /// version, and a changed selector or uid starts over.
    #[test]
    fn facts_memo_equals_fresh_facts() {
        let rs_with = |uid: &str, app: &str| -> ReplicaSet {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "web", "namespace": "default", "uid": uid},
                "spec": {"selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}}}}
            }))
            .expect("rs")
        };
        let labelled = |mut p: Pod, owner: &str| {
            p.metadata.labels = Some([("app".to_string(), "a".to_string())].into());
            p.metadata.owner_references = Some(vec![OwnerReference {
                uid: owner.into(),
                controller: Some(true),
                ..OwnerReference::default()
            }]);
            Arc::new(p)
        };
        let fresh = |rs: &ReplicaSet, pods: &[Arc<Pod>]| -> Vec<PodFacts> {
            let selector = selector_of(rs.spec.as_ref().map(|s| &s.selector)).expect("selector");
            let uid = rs.metadata.uid.as_deref().unwrap_or("");
            pods.iter()
                .map(|p| PodFacts::of(p, uid, &selector, &template_selector(rs)))
                .collect()
        };
        let memo = FactsMemo::default();
        let check = |rs: &ReplicaSet, pods: &[Arc<Pod>]| {
            let selector = selector_of(rs.spec.as_ref().map(|s| &s.selector)).expect("selector");
            let got = memo.of("default/web", rs, &selector, pods);
            assert_eq!(got, fresh(rs, pods));
            got
        };
        let rs = rs_with("u1", "a");
        let p1 = labelled(pod("p1", "n", "Running", true, 0, None, None, None), "u1");
        let p2 = labelled(pod("p2", "n", "Pending", false, 0, None, None, None), "u2");
        let got = check(&rs, &[Arc::clone(&p1), Arc::clone(&p2)]);
        assert_eq!(got[1].controller, Controller::Other);
        assert!(!got[1].ready);
        // p2 changes owner and becomes ready: a new version, new facts.
        let p2 = labelled(pod("p2", "n", "Running", true, 0, None, None, None), "u1");
        let got = check(&rs, &[Arc::clone(&p1), Arc::clone(&p2)]);
        assert_eq!(got[1].controller, Controller::This);
        assert!(got[1].ready);
        // Another selector, then another uid, over the same pod versions.
        let got = check(&rs_with("u1", "b"), &[Arc::clone(&p1), Arc::clone(&p2)]);
        assert!(!got[0].matches && !got[0].fully_labeled);
        let got = check(&rs_with("u3", "a"), &[Arc::clone(&p1), Arc::clone(&p2)]);
        assert_eq!(got[0].controller, Controller::Other);
        // Many versions later the memo holds about as many entries as live pods.
        for _ in 0..200 {
            let p = labelled(pod("p1", "n", "Running", true, 0, None, None, None), "u3");
            check(&rs_with("u3", "a"), &[p, Arc::clone(&p2)]);
        }
        let held = memo.by_replica_set.lock().expect("lock")["default/web"]
            .pods
            .len();
        assert!(held <= 2 * 2 + 64 + 1, "{held} entries");
    }

    #[test]
    fn pod_template_gets_generate_name_and_controller_ref() {
        let rs: ReplicaSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-abc", "namespace": "default", "uid": "u1"},
            "spec": {"selector": {"matchLabels": {"app": "a"}},
                     "template": {"metadata": {"labels": {"app": "a"}, "annotations": {"x": "y"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}
        }))
        .expect("rs");
        let p = pod_from_template(&rs).expect("pod");
        assert_eq!(p.metadata.generate_name.as_deref(), Some("web-abc-"));
        let r = &p.metadata.owner_references.as_ref().expect("refs")[0];
        assert_eq!(
            (
                r.kind.as_str(),
                r.uid.as_str(),
                r.controller,
                r.block_owner_deletion
            ),
            ("ReplicaSet", "u1", Some(true), Some(true))
        );
        let mut no_labels = rs.clone();
        if let Some(t) = no_labels.spec.as_mut().and_then(|s| s.template.as_mut()) {
            t.metadata = None;
        }
        assert!(pod_from_template(&no_labels).is_err());
    }

    fn labelled(name: &str, labels: &[(&str, &str)]) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(format!("uid-{name}")),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        })
    }

    fn names(pods: &[Arc<Pod>]) -> Vec<String> {
        pods.iter()
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect()
    }

    /// Upstream `replica_set_test.go` `TestGetIndirectlyRelatedPods` (the related
    /// ReplicaSets' selectors; the unrelated one is not among them), plus selectors sharing a
    /// requirement, an empty one and one that matches nothing.
    #[test]
    fn pods_matching_any_follows_get_indirectly_related_pods() {
        let pods = vec![
            labelled("pod1", &[("foo", "bar")]),
            labelled("pod2", &[("foo", "bar")]),
            labelled("pod3", &[("foo", "baz")]),
            labelled("pod4", &[("foo", "unrelated")]),
        ];
        let sel = |s: &str| Selector::parse(s).expect("selector");
        let cases: Vec<(&str, Vec<Selector>, Vec<&str>)> = vec![
            ("no related ReplicaSets", vec![], vec![]),
            ("own pods", vec![sel("foo=bar")], vec!["pod1", "pod2"]),
            (
                "own pods and the related ReplicaSet's, not the unrelated one's",
                vec![sel("foo=bar"), sel("foo=baz")],
                vec!["pod1", "pod2", "pod3"],
            ),
            (
                "a shared requirement narrows, order stays selector by selector",
                vec![sel("foo!=unrelated,foo=baz"), sel("foo!=unrelated,foo=bar")],
                vec!["pod3", "pod1", "pod2"],
            ),
            (
                "an empty selector matches all",
                vec![sel("foo=baz"), sel("")],
                vec!["pod3", "pod1", "pod2", "pod4"],
            ),
            (
                "nothing matches nothing",
                vec![Selector::nothing(), sel("foo=bar")],
                vec!["pod1", "pod2"],
            ),
        ];
        for (name, selectors, want) in cases {
            assert_eq!(
                names(&pods_matching_any(&selectors, pods.clone())),
                want,
                "{name}"
            );
        }
    }

    proptest::proptest! {
        /// Narrowing by the shared requirements changes nothing: the same pods in the same
        /// order as testing every selector against every pod.
        #[test]
        fn pods_matching_any_equals_the_plain_loop(
            pod_labels in proptest::collection::vec((0..3u8, 0..3u8, proptest::bool::ANY), 0..12),
            selector_specs in proptest::collection::vec((proptest::option::of(0..3u8), proptest::option::of(0..3u8)), 0..4),
        ) {
            let pods: Vec<Arc<Pod>> = pod_labels
                .iter()
                .enumerate()
                .map(|(i, (app, hash, extra))| {
                    let (app, hash) = (format!("a{app}"), format!("h{hash}"));
                    let mut labels = vec![("app", app.as_str()), ("hash", hash.as_str())];
                    if *extra {
                        labels.push(("x", "y"));
                    }
                    labelled(&format!("p{i}"), &labels)
                })
                .collect();
            let selectors: Vec<Selector> = selector_specs
                .iter()
                .map(|(app, hash)| {
                    let mut parts = Vec::new();
                    if let Some(app) = app {
                        parts.push(format!("app=a{app}"));
                    }
                    if let Some(hash) = hash {
                        parts.push(format!("hash=h{hash}"));
                    }
                    Selector::parse(&parts.join(",")).expect("selector")
                })
                .collect();
            let mut seen = BTreeSet::new();
            let mut plain = Vec::new();
            for selector in &selectors {
                for pod in &pods {
                    if selector.matches(labels_of(&pod.metadata))
                        && seen.insert(pod.metadata.uid.clone())
                    {
                        plain.push(Arc::clone(pod));
                    }
                }
            }
            proptest::prop_assert_eq!(names(&pods_matching_any(&selectors, pods.clone())), names(&plain));
        }
    }
}
