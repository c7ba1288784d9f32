//! The disruption controller: PodDisruptionBudget status (expectedPods, currentHealthy,
//! desiredHealthy, disruptionsAllowed, disruptedPods, observedGeneration and the
//! `DisruptionAllowed` condition) that the eviction API reads.
//!
//! Upstream: `pkg/controller/disruption/disruption.go` (`trySync`, `getExpectedPodCount`,
//! `getExpectedScale` with the ReplicaSet / Deployment / StatefulSet finders,
//! `buildDisruptedPodMap` with `DeletionTimeout` = 2 min, `countHealthyPods`,
//! `updatePdbStatus`, `failSafe`), `pkg/apis/policy/helper` (`UpdateDisruptionAllowedCondition`,
//! `ConditionsAreUpToDate`) and `staging/src/k8s.io/apimachinery/pkg/api/meta/conditions.go`
//! (`SetStatusCondition`: the transition time changes only with the status).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, meta_key};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};

use crate::util::{
    EventRecorder, SyncError, controller_of, is_pod_ready, labels_of, scaled_value, selector_of,
    update_typed,
};

/// How long a pod in `status.disruptedPods` is expected to take to be deleted
/// (`DeletionTimeout`).
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(120);
/// The condition type (`policy.DisruptionAllowedCondition`).
pub const CONDITION_DISRUPTION_ALLOWED: &str = "DisruptionAllowed";
/// `policy.SufficientPodsReason`.
pub const REASON_SUFFICIENT_PODS: &str = "SufficientPods";
/// `policy.InsufficientPodsReason`.
pub const REASON_INSUFFICIENT_PODS: &str = "InsufficientPods";
/// `policy.SyncFailedReason`.
pub const REASON_SYNC_FAILED: &str = "SyncFailed";

/// The scale of a pod's controller: (controller uid, replicas), `None` when no finder knows
/// the controller, or an error text.
pub type ScaleFinder<'a> = dyn Fn(&OwnerReference, &str) -> Option<(String, i32)> + 'a;

/// `getExpectedScale`: the sum of the scales of the pods' distinct controllers, plus the pods
/// without a controller. Err when a pod's controller is unknown.
pub fn expected_scale(
    pods: &[Arc<Pod>],
    finder: &ScaleFinder<'_>,
) -> Result<(i32, Vec<String>), String> {
    let mut scales: BTreeMap<String, i32> = BTreeMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(owner) = controller_of(&pod.metadata) else {
            unmanaged.push(name);
            continue;
        };
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        match finder(owner, ns) {
            Some((uid, scale)) => {
                scales.insert(uid, scale);
            }
            None => return Err(format!("found no controllers for pod {name:?}")),
        }
    }
    Ok((scales.values().sum(), unmanaged))
}

/// The counts a PDB's status is computed from (`getExpectedPodCount`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedCount {
    /// `expectedPods`.
    pub expected: i32,
    /// `desiredHealthy`.
    pub desired_healthy: i32,
    /// Pods without a controller (an `UnmanagedPods` warning when the scale was needed).
    pub unmanaged: Vec<String>,
}

/// `getExpectedPodCount`: maxUnavailable and a percentage minAvailable need the controllers'
/// scale; an integer minAvailable counts the selected pods.
pub fn expected_pod_count(
    pdb: &PodDisruptionBudget,
    pods: &[Arc<Pod>],
    finder: &ScaleFinder<'_>,
) -> Result<ExpectedCount, String> {
    let spec = pdb.spec.clone().unwrap_or_default();
    if let Some(max_unavailable) = &spec.max_unavailable {
        let (expected, unmanaged) = expected_scale(pods, finder)?;
        let max = scaled_value(max_unavailable, expected, true).map_err(|e| e.to_string())?;
        return Ok(ExpectedCount {
            expected,
            desired_healthy: (expected - max).max(0),
            unmanaged,
        });
    }
    match &spec.min_available {
        Some(IntOrString::Int(n)) => Ok(ExpectedCount {
            expected: i32::try_from(pods.len()).unwrap_or(i32::MAX),
            desired_healthy: *n,
            unmanaged: Vec::new(),
        }),
        Some(percent @ IntOrString::String(_)) => {
            let (expected, unmanaged) = expected_scale(pods, finder)?;
            let desired = scaled_value(percent, expected, true).map_err(|e| e.to_string())?;
            Ok(ExpectedCount {
                expected,
                desired_healthy: desired,
                unmanaged,
            })
        }
        None => Ok(ExpectedCount {
            expected: i32::try_from(pods.len()).unwrap_or(i32::MAX),
            desired_healthy: 0,
            unmanaged: Vec::new(),
        }),
    }
}

fn deletion_deadline(t: &Time) -> Timestamp {
    let timeout = jiff::SignedDuration::from_secs(DELETION_TIMEOUT.as_secs() as i64);
    t.0.checked_add(timeout).unwrap_or(t.0)
}

/// `buildDisruptedPodMap`: the recorded disruptions still pending (not yet past the
/// deletion timeout, pod not yet terminating), the earliest time to look again, and the pods
/// that were expected to go but did not (a `NotDeleted` warning each).
pub fn build_disrupted_pod_map(
    pods: &[Arc<Pod>],
    pdb: &PodDisruptionBudget,
    now: Timestamp,
) -> (BTreeMap<String, Time>, Option<Timestamp>, Vec<String>) {
    let recorded = pdb
        .status
        .as_ref()
        .and_then(|s| s.disrupted_pods.clone())
        .unwrap_or_default();
    let mut pending = BTreeMap::new();
    let mut recheck: Option<Timestamp> = None;
    let mut not_deleted = Vec::new();
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(at) = recorded.get(&name) else {
            continue;
        };
        let deadline = deletion_deadline(at);
        if deadline < now {
            not_deleted.push(name);
        } else {
            recheck = Some(recheck.map_or(deadline, |r| r.min(deadline)));
            pending.insert(name, at.clone());
        }
    }
    (pending, recheck, not_deleted)
}

/// `countHealthyPods`: Ready pods that are neither terminating nor pending disruption.
pub fn count_healthy_pods(
    pods: &[Arc<Pod>],
    disrupted: &BTreeMap<String, Time>,
    now: Timestamp,
) -> i32 {
    let healthy = pods
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            let name = pod.metadata.name.as_deref().unwrap_or("");
            disrupted
                .get(name)
                .is_none_or(|t| deletion_deadline(t) <= now)
        })
        .filter(|pod| is_pod_ready(pod))
        .count();
    i32::try_from(healthy).unwrap_or(i32::MAX)
}

/// `meta.SetStatusCondition`: insert or update, keeping the transition time when the status
/// does not change.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status == new.status {
                new.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = new;
        }
        None => conditions.push(new),
    }
}

/// `UpdateDisruptionAllowedCondition`.
fn disruption_allowed_condition(status: &mut PodDisruptionBudgetStatus, now: Timestamp) {
    let (state, reason) = if status.disruptions_allowed > 0 {
        ("True", REASON_SUFFICIENT_PODS)
    } else {
        ("False", REASON_INSUFFICIENT_PODS)
    };
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    set_condition(
        conditions,
        Condition {
            type_: CONDITION_DISRUPTION_ALLOWED.into(),
            status: state.into(),
            reason: reason.into(),
            message: String::new(),
            observed_generation: status.observed_generation,
            last_transition_time: Time(now),
        },
    );
}

/// `ConditionsAreUpToDate`.
fn conditions_up_to_date(pdb: &PodDisruptionBudget) -> bool {
    let Some(status) = &pdb.status else {
        return false;
    };
    let Some(c) = status
        .conditions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|c| c.type_ == CONDITION_DISRUPTION_ALLOWED)
    else {
        return false;
    };
    let want = if status.disruptions_allowed > 0 {
        ("True", REASON_SUFFICIENT_PODS)
    } else {
        ("False", REASON_INSUFFICIENT_PODS)
    };
    c.observed_generation == status.observed_generation
        && (c.status.as_str(), c.reason.as_str()) == want
}

/// `updatePdbStatus`: the status to write, or `None` when the stored one is current.
pub fn next_status(
    pdb: &PodDisruptionBudget,
    current_healthy: i32,
    desired_healthy: i32,
    expected: i32,
    disrupted: BTreeMap<String, Time>,
    now: Timestamp,
) -> Option<PodDisruptionBudgetStatus> {
    let mut allowed = current_healthy - desired_healthy;
    if expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    let generation = pdb.metadata.generation;
    let old = pdb.status.clone().unwrap_or_default();
    let disrupted_opt = (!disrupted.is_empty()).then_some(disrupted);
    if old.current_healthy == current_healthy
        && old.desired_healthy == desired_healthy
        && old.expected_pods == expected
        && old.disruptions_allowed == allowed
        && old.disrupted_pods.clone().filter(|d| !d.is_empty()) == disrupted_opt
        && old.observed_generation == generation
        && conditions_up_to_date(pdb)
    {
        return None;
    }
    let mut status = PodDisruptionBudgetStatus {
        current_healthy,
        desired_healthy,
        expected_pods: expected,
        disruptions_allowed: allowed,
        disrupted_pods: disrupted_opt,
        observed_generation: generation,
        conditions: old.conditions,
    };
    disruption_allowed_condition(&mut status, now);
    Some(status)
}

/// `failSafe`: no disruptions allowed, condition False with `SyncFailed` and the error.
pub fn fail_safe_status(
    pdb: &PodDisruptionBudget,
    message: &str,
    now: Timestamp,
) -> PodDisruptionBudgetStatus {
    let mut status = pdb.status.clone().unwrap_or_default();
    status.disruptions_allowed = 0;
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    set_condition(
        conditions,
        Condition {
            type_: CONDITION_DISRUPTION_ALLOWED.into(),
            status: "False".into(),
            reason: REASON_SYNC_FAILED.into(),
            message: message.into(),
            observed_generation: status.observed_generation,
            last_transition_time: Time(now),
        },
    );
    status
}

/// The disruption controller.
#[derive(Debug, Clone)]
pub struct DisruptionController {
    client: LocalClient,
    time: SimTime,
    pdbs: Informer<PodDisruptionBudget>,
    pods: Informer<Pod>,
    replica_sets: Informer<ReplicaSet>,
    deployments: Informer<Deployment>,
    stateful_sets: Informer<StatefulSet>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

impl DisruptionController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        pdbs: Informer<PodDisruptionBudget>,
        pods: Informer<Pod>,
        replica_sets: Informer<ReplicaSet>,
        deployments: Informer<Deployment>,
        stateful_sets: Informer<StatefulSet>,
    ) -> Self {
        let this = Self {
            recorder: EventRecorder::new(client.clone(), "controllermanager", time.clone()),
            client,
            time: time.clone(),
            pdbs,
            pods,
            replica_sets,
            deployments,
            stateful_sets,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.pdbs
            .add_handler(Arc::new(move |e: &Event<PodDisruptionBudget>| {
                let p = match e {
                    Event::Added(p) | Event::Deleted(p) | Event::Updated { new: p, .. } => p,
                };
                queue.add(meta_key(&p.metadata));
            }));
        let queue = this.queue.clone();
        let pdbs = this.pdbs.clone();
        this.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            let pods: Vec<&Arc<Pod>> = match e {
                Event::Added(p) | Event::Deleted(p) => vec![p],
                Event::Updated { old, new } => vec![old, new],
            };
            // Upstream: `getPdbForPod` (the first matching PDB by name).
            for pod in pods {
                let ns = pod.metadata.namespace.as_deref().unwrap_or("");
                let labels = labels_of(&pod.metadata);
                if let Some(pdb) = pdbs.list_namespace(ns).into_iter().find(|pdb| {
                    let selector = pdb.spec.as_ref().and_then(|s| s.selector.as_ref());
                    selector.is_some() && selector_of(selector).is_ok_and(|s| s.matches(labels))
                }) {
                    queue.add(meta_key(&pdb.metadata));
                }
            }
        }));
        this
    }

    /// The work queue.
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "pdb sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    /// The finders of `getExpectedScale`: ReplicaSet (not owned by a Deployment),
    /// Deployment (through its ReplicaSet), StatefulSet.
    fn find_scale(&self, owner: &OwnerReference, ns: &str) -> Option<(String, i32)> {
        let group = owner.api_version.split('/').next().unwrap_or("");
        match (owner.kind.as_str(), group) {
            ("ReplicaSet", "apps" | "extensions") => {
                let rs = self.replica_sets.get_named(Some(ns), &owner.name)?;
                if rs.metadata.uid.as_deref() != Some(owner.uid.as_str()) {
                    return None;
                }
                match controller_of(&rs.metadata) {
                    Some(dep_ref) if dep_ref.kind == "Deployment" => {
                        let dep = self.deployments.get_named(Some(ns), &dep_ref.name)?;
                        if dep.metadata.uid.as_deref() != Some(dep_ref.uid.as_str()) {
                            return None;
                        }
                        let replicas = dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                        Some((dep_ref.uid.clone(), replicas))
                    }
                    _ => {
                        let replicas = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                        Some((owner.uid.clone(), replicas))
                    }
                }
            }
            ("StatefulSet", "apps") => {
                let sts = self.stateful_sets.get_named(Some(ns), &owner.name)?;
                if sts.metadata.uid.as_deref() != Some(owner.uid.as_str()) {
                    return None;
                }
                let replicas = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                Some((owner.uid.clone(), replicas))
            }
            _ => None,
        }
    }

    /// `sync` + `trySync` (+ `failSafe` on error).
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(pdb) = self.pdbs.get(key) else {
            return Ok(());
        };
        let now = self.time.now();
        match self.try_sync(&pdb, now).await {
            Ok(recheck) => {
                if let Some(at) = recheck {
                    let wait = at.duration_since(now);
                    let wait = Duration::try_from(wait).unwrap_or_default();
                    self.queue.add_after(key.to_string(), wait);
                }
                Ok(())
            }
            Err(e) if matches!(&e, SyncError::Api(a) if a.code == 409) => Err(e),
            Err(e) => {
                let mut next = pdb.as_ref().clone();
                next.status = Some(fail_safe_status(&pdb, &e.to_string(), now));
                update_typed(&self.client, &next, "status").await?;
                Err(e)
            }
        }
    }

    async fn try_sync(
        &self,
        pdb: &PodDisruptionBudget,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, SyncError> {
        let ns = pdb.metadata.namespace.clone().unwrap_or_default();
        let selector = selector_of(pdb.spec.as_ref().and_then(|s| s.selector.as_ref()))?;
        let pods: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(&ns)
            .into_iter()
            .filter(|p| selector.matches(labels_of(&p.metadata)))
            .collect();
        if pods.is_empty() {
            self.event(pdb, "Normal", "NoPods", "No matching pods found")
                .await;
        }
        let finder = |owner: &OwnerReference, ns: &str| self.find_scale(owner, ns);
        let counts = match expected_pod_count(pdb, &pods, &finder) {
            Ok(c) => c,
            Err(message) => {
                let text = format!("Failed to calculate the number of expected pods: {message}");
                self.event(pdb, "Warning", "CalculateExpectedPodCountFailed", &text)
                    .await;
                return Err(SyncError::Invalid(message));
            }
        };
        if !counts.unmanaged.is_empty() {
            let text = "Pods selected by this PodDisruptionBudget (selector: ".to_string()
                + &selector.to_string()
                + ") were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.";
            self.event(pdb, "Warning", "UnmanagedPods", &text).await;
        }
        let (disrupted, recheck, _not_deleted) = build_disrupted_pod_map(&pods, pdb, now);
        let healthy = count_healthy_pods(&pods, &disrupted, now);
        if let Some(status) = next_status(
            pdb,
            healthy,
            counts.desired_healthy,
            counts.expected,
            disrupted,
            now,
        ) {
            let mut next = pdb.clone();
            next.status = Some(status);
            update_typed(&self.client, &next, "status").await?;
        }
        Ok(recheck)
    }

    async fn event(&self, pdb: &PodDisruptionBudget, kind: &str, reason: &str, message: &str) {
        self.recorder
            .event(
                "policy/v1",
                "PodDisruptionBudget",
                &pdb.metadata,
                kind,
                reason,
                message,
            )
            .await;
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn pdb(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: ObjectMeta {
                name: Some("pdb".into()),
                namespace: Some("default".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            spec: Some(PodDisruptionBudgetSpec {
                min_available: min,
                max_unavailable: max,
                selector: Some(LabelSelector::default()),
                ..PodDisruptionBudgetSpec::default()
            }),
            status: None,
        }
    }

    fn pod(name: &str, ready: bool, owner: Option<&str>) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                owner_references: owner.map(|uid| {
                    vec![OwnerReference {
                        api_version: "apps/v1".into(),
                        kind: "ReplicaSet".into(),
                        name: uid.into(),
                        uid: uid.into(),
                        controller: Some(true),
                        ..OwnerReference::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        })
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Upstream: `disruption_test.go` — `TestNoSelector`, `TestUnavailable`,
    /// `TestIntegerMaxUnavailable`, `TestIntegerMaxUnavailableWithScaling`,
    /// `TestNakedPod`, `TestReplicaSet`, `TestReplicationController` (34% of 3),
    /// `TestStatefulSetController`, `TestTwoControllers` (summed scales). Each case:
    /// (name, minAvailable, maxUnavailable, pods (ready, controller uid), scales by uid,
    /// expected (disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods) or Err).
    #[test]
    fn status_cases() {
        let int = IntOrString::Int;
        let pct = |s: &str| IntOrString::String(s.into());
        let cases: Vec<(
            &str,
            Option<IntOrString>,
            Option<IntOrString>,
            Vec<(bool, Option<&str>)>,
            Vec<(&str, i32)>,
            Result<(i32, i32, i32, i32), ()>,
        )> = vec![
            (
                "TestNoSelector: one pod, minAvailable 3",
                Some(int(3)),
                None,
                vec![(true, None)],
                vec![],
                Ok((0, 1, 3, 1)),
            ),
            (
                "TestUnavailable: 3 of minAvailable 3",
                Some(int(3)),
                None,
                vec![(true, None); 3],
                vec![],
                Ok((0, 3, 3, 3)),
            ),
            (
                "TestUnavailable: 4 ready",
                Some(int(3)),
                None,
                vec![(true, None); 4],
                vec![],
                Ok((1, 4, 3, 4)),
            ),
            (
                "TestUnavailable: one not ready",
                Some(int(3)),
                None,
                vec![(true, None), (true, None), (true, None), (false, None)],
                vec![],
                Ok((0, 3, 3, 4)),
            ),
            (
                "TestNakedPod: minAvailable 1, no controller",
                Some(int(1)),
                None,
                vec![(true, None)],
                vec![],
                Ok((0, 1, 1, 1)),
            ),
            (
                "TestIntegerMaxUnavailable: pods without controller",
                None,
                Some(int(1)),
                vec![(true, None), (true, None)],
                vec![],
                Ok((0, 2, 0, 0)),
            ),
            (
                "TestIntegerMaxUnavailable: unknown controller",
                None,
                Some(int(1)),
                vec![(true, Some("rs-x"))],
                vec![],
                Err(()),
            ),
            (
                "TestIntegerMaxUnavailableWithScaling: scale 7, 5 ready",
                None,
                Some(int(2)),
                vec![(true, Some("rs")); 5],
                vec![("rs", 7)],
                Ok((0, 5, 5, 7)),
            ),
            (
                "TestIntegerMaxUnavailableWithScaling: scale 7, 6 ready",
                None,
                Some(int(2)),
                vec![(true, Some("rs")); 6],
                vec![("rs", 7)],
                Ok((1, 6, 5, 7)),
            ),
            (
                "TestReplicaSet: 20% of 10, one ready",
                Some(pct("20%")),
                None,
                vec![(true, Some("rs"))],
                vec![("rs", 10)],
                Ok((0, 1, 2, 10)),
            ),
            (
                "TestReplicationController: 34% of 3, two ready",
                Some(pct("34%")),
                None,
                vec![(true, Some("rc")); 2],
                vec![("rc", 3)],
                Ok((0, 2, 2, 3)),
            ),
            (
                "TestReplicationController: 34% of 3, three ready",
                Some(pct("34%")),
                None,
                vec![(true, Some("rc")); 3],
                vec![("rc", 3)],
                Ok((1, 3, 2, 3)),
            ),
            (
                "TestStatefulSetController: 34% of 3",
                Some(pct("34%")),
                None,
                vec![(true, Some("sts")); 3],
                vec![("sts", 3)],
                Ok((1, 3, 2, 3)),
            ),
            (
                "TestTwoControllers: 28% of 11+11",
                Some(pct("28%")),
                None,
                vec![(true, Some("a")), (true, Some("b"))],
                vec![("a", 11), ("b", 11)],
                Ok((0, 2, 7, 22)),
            ),
            (
                "maxUnavailable 0%",
                None,
                Some(pct("0%")),
                vec![(true, Some("rs")); 3],
                vec![("rs", 3)],
                Ok((0, 3, 3, 3)),
            ),
        ];
        for (name, min, max, pod_specs, scales, want) in cases {
            let budget = pdb(min, max);
            let pods: Vec<Arc<Pod>> = pod_specs
                .iter()
                .enumerate()
                .map(|(i, (ready, owner))| pod(&format!("p{i}"), *ready, *owner))
                .collect();
            let scales: BTreeMap<String, i32> =
                scales.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
            let finder = |owner: &OwnerReference, _: &str| {
                scales.get(&owner.uid).map(|s| (owner.uid.clone(), *s))
            };
            let got = expected_pod_count(&budget, &pods, &finder).map(|c| {
                let (disrupted, _, _) = build_disrupted_pod_map(&pods, &budget, now());
                let healthy = count_healthy_pods(&pods, &disrupted, now());
                let status = next_status(
                    &budget,
                    healthy,
                    c.desired_healthy,
                    c.expected,
                    disrupted,
                    now(),
                )
                .unwrap_or_default();
                (
                    status.disruptions_allowed,
                    status.current_healthy,
                    status.desired_healthy,
                    status.expected_pods,
                )
            });
            assert_eq!(got.map_err(|_| ()), want, "{name}");
        }
    }

    /// Upstream: `disruption_test.go` `TestUpdateDisruptedPods` (expired entries dropped,
    /// pending entries kept and not counted healthy) and `TestBasicFinderFunctions`-style
    /// condition bookkeeping: an unchanged status is not rewritten.
    #[test]
    fn disrupted_pods_and_conditions() {
        let mut budget = pdb(Some(IntOrString::Int(1)), None);
        let recent = Time(Timestamp::from_second(now().as_second() - 60).unwrap_or(now()));
        let expired = Time(Timestamp::from_second(now().as_second() - 600).unwrap_or(now()));
        budget.status = Some(PodDisruptionBudgetStatus {
            disrupted_pods: Some(
                [
                    ("p0".to_string(), recent.clone()),
                    ("p1".to_string(), expired),
                ]
                .into(),
            ),
            ..PodDisruptionBudgetStatus::default()
        });
        let pods = vec![
            pod("p0", true, None),
            pod("p1", true, None),
            pod("p2", true, None),
        ];
        let (disrupted, recheck, not_deleted) = build_disrupted_pod_map(&pods, &budget, now());
        assert_eq!(disrupted.keys().collect::<Vec<_>>(), vec!["p0"]);
        assert_eq!(not_deleted, vec!["p1".to_string()]);
        assert_eq!(recheck, Some(deletion_deadline(&recent)));
        assert_eq!(count_healthy_pods(&pods, &disrupted, now()), 2);
        let status = next_status(&budget, 2, 1, 3, disrupted.clone(), now()).unwrap_or_default();
        assert_eq!(status.disruptions_allowed, 1);
        assert_eq!(status.observed_generation, Some(1));
        let c = &status.conditions.clone().unwrap_or_default()[0];
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
            ("DisruptionAllowed", "True", "SufficientPods")
        );
        budget.status = Some(status);
        assert!(next_status(&budget, 2, 1, 3, disrupted.clone(), now()).is_none());
        // Fail-safe: zero allowed, SyncFailed.
        let failed = fail_safe_status(&budget, "boom", now());
        assert_eq!(failed.disruptions_allowed, 0);
        let c = &failed.conditions.unwrap_or_default()[0];
        assert_eq!(
            (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
            ("False", "SyncFailed", "boom")
        );
    }
}
