//! The StatefulSet controller: stable ordinals, OrderedReady and Parallel pod management,
//! volumeClaimTemplates, ControllerRevisions and RollingUpdate with partition.
//!
//! Upstream: `pkg/controller/statefulset/stateful_set_control.go` (`updateStatefulSet`: pods
//! split into replicas `[start, start+replicas)` and condemned ordinals; failed pods deleted and
//! recreated; with OrderedReady each ordinal waits for its predecessors to be Running and
//! Ready and condemned pods go from the highest ordinal one at a time; RollingUpdate deletes
//! from the highest ordinal down to the partition, one pod at a time, only while all others are
//! healthy; `completeRollingUpdate`), `pkg/controller/statefulset/stateful_set_utils.go`
//! (`getPodName` `<set>-<ordinal>`, `getPersistentVolumeClaimName` `<template>-<set>-<ordinal>`,
//! `initIdentity`: hostname and subdomain, the `statefulset.kubernetes.io/pod-name` and
//! `apps.kubernetes.io/pod-index` labels, `updateStorage`, `newRevision`,
//! `controller-revision-hash`) and `pkg/controller/history/controller_history.go`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, meta_key};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};
use serde_json::json;

use crate::deployment::compute_hash;
use crate::util::{
    EventRecorder, SyncError, controller_of, is_pod_available, is_pod_ready, new_controller_ref,
    update_typed,
};

/// `apps.ControllerRevisionHashLabelKey`.
pub const LABEL_REVISION_HASH: &str = "controller-revision-hash";
/// `apps.StatefulSetPodNameLabel`.
pub const LABEL_POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
/// `apps.PodIndexLabel`.
pub const LABEL_POD_INDEX: &str = "apps.kubernetes.io/pod-index";

/// The ordinal of a pod named `<set>-<ordinal>` (`getParentNameAndOrdinal`).
pub fn ordinal_of(set_name: &str, pod_name: &str) -> Option<i32> {
    let rest = pod_name.strip_prefix(set_name)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// `getPersistentVolumeClaimName`.
pub fn claim_name(template: &str, set_name: &str, ordinal: i32) -> String {
    format!("{template}-{set_name}-{ordinal}")
}

/// The revision name of the set's current template: `<set>-<hash>`.
pub fn revision_name(set: &StatefulSet) -> String {
    let template = set
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let collisions = set.status.as_ref().and_then(|s| s.collision_count);
    format!(
        "{}-{}",
        set.metadata.name.as_deref().unwrap_or(""),
        compute_hash(&template, collisions)
    )
}

fn pod_revision(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(LABEL_REVISION_HASH)
        .map(String::as_str)
}

/// `newStatefulSetPod` + `initIdentity` + `updateStorage`: the pod of an ordinal.
pub fn new_pod(set: &StatefulSet, ordinal: i32, revision: &str) -> Pod {
    let spec = set.spec.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let name = format!("{set_name}-{ordinal}");
    let mut meta = spec.template.metadata.clone().unwrap_or_default();
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(LABEL_POD_NAME.into(), name.clone());
    labels.insert(LABEL_POD_INDEX.into(), ordinal.to_string());
    labels.insert(LABEL_REVISION_HASH.into(), revision.to_string());
    let mut pod_spec = spec.template.spec.clone().unwrap_or_default();
    pod_spec.hostname = Some(name.clone());
    pod_spec.subdomain = spec.service_name.clone().filter(|s| !s.is_empty());
    for claim in spec.volume_claim_templates.as_deref().unwrap_or(&[]) {
        let template = claim.metadata.name.clone().unwrap_or_default();
        let volumes = pod_spec.volumes.get_or_insert_with(Vec::new);
        volumes.retain(|v| v.name != template);
        volumes.push(Volume {
            name: template.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(&template, &set_name, ordinal),
                read_only: None,
            }),
            ..Volume::default()
        });
    }
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: set.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: meta.annotations,
            owner_references: Some(vec![new_controller_ref(
                &set.metadata,
                "apps/v1",
                "StatefulSet",
            )]),
            ..ObjectMeta::default()
        },
        spec: Some(pod_spec),
        status: None,
    }
}

/// `getPersistentVolumeClaims`: one claim per template for an ordinal, labelled with the
/// template's labels and the set's selector labels.
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let spec = set.spec.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let selector_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|template| {
            let name = claim_name(
                template.metadata.name.as_deref().unwrap_or(""),
                &set_name,
                ordinal,
            );
            let mut labels = template.metadata.labels.clone().unwrap_or_default();
            labels.extend(selector_labels.clone());
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(name),
                    namespace: set.metadata.namespace.clone(),
                    labels: (!labels.is_empty()).then_some(labels),
                    annotations: template.metadata.annotations.clone(),
                    ..ObjectMeta::default()
                },
                spec: template.spec.clone(),
                status: None,
            }
        })
        .collect()
}

/// What one sync does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SetPlan {
    /// Ordinals to create.
    pub create: Vec<i32>,
    /// Pods to delete (names).
    pub delete: Vec<String>,
    /// The new status.
    pub status: StatefulSetStatus,
}

fn is_running_and_ready(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running") && is_pod_ready(pod)
}

/// The pure part of `updateStatefulSet`: `pods` are the set's pods, `current`/`update` the
/// revision names.
pub fn plan_set(
    set: &StatefulSet,
    pods: &[Arc<Pod>],
    current: &str,
    update: &str,
    now: jiff::Timestamp,
) -> SetPlan {
    let spec = set.spec.clone().unwrap_or_default();
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1).max(0);
    let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
    let monotonic = spec.pod_management_policy.as_deref() != Some("Parallel");
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let mut by_ordinal: BTreeMap<i32, &Arc<Pod>> = BTreeMap::new();
    for pod in pods {
        if let Some(o) = ordinal_of(&set_name, pod.metadata.name.as_deref().unwrap_or("")) {
            by_ordinal.insert(o, pod);
        }
    }
    let mut plan = SetPlan::default();
    // Status counts over every pod of the set (`computeReplicaStatus`).
    let mut status = set.status.clone().unwrap_or_default();
    status.observed_generation = set.metadata.generation;
    let count = |f: &dyn Fn(&Pod) -> bool| {
        i32::try_from(by_ordinal.values().filter(|p| f(p)).count()).unwrap_or(0)
    };
    status.replicas = i32::try_from(by_ordinal.len()).unwrap_or(i32::MAX);
    status.ready_replicas = Some(count(&|p| is_running_and_ready(p)));
    status.available_replicas = Some(count(&|p| {
        is_running_and_ready(p) && is_pod_available(p, min_ready, now)
    }));
    status.current_replicas = Some(count(&|p| pod_revision(p) == Some(current)));
    status.updated_replicas = Some(count(&|p| pod_revision(p) == Some(update)));
    status.current_revision = Some(current.to_string());
    status.update_revision = Some(update.to_string());
    let healthy = |p: &Pod| is_running_and_ready(p) && p.metadata.deletion_timestamp.is_none();
    let mut blocked = false;
    // Replicas in ascending ordinal order.
    for ordinal in start..start + replicas {
        match by_ordinal.get(&ordinal) {
            None => {
                plan.create.push(ordinal);
                if monotonic {
                    blocked = true;
                    break;
                }
            }
            Some(pod) => {
                if pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed")
                    && pod.metadata.deletion_timestamp.is_none()
                {
                    plan.delete
                        .push(pod.metadata.name.clone().unwrap_or_default());
                    if monotonic {
                        blocked = true;
                        break;
                    }
                    continue;
                }
                if monotonic && !healthy(pod) {
                    blocked = true;
                    break;
                }
            }
        }
    }
    // Condemned ordinals, highest first.
    if !blocked {
        let condemned: Vec<&Arc<Pod>> = by_ordinal
            .iter()
            .rev()
            .filter(|(o, _)| **o < start || **o >= start + replicas)
            .map(|(_, p)| *p)
            .collect();
        for pod in condemned {
            if pod.metadata.deletion_timestamp.is_some() {
                if monotonic {
                    blocked = true;
                    break;
                }
                continue;
            }
            plan.delete
                .push(pod.metadata.name.clone().unwrap_or_default());
            if monotonic {
                blocked = true;
                break;
            }
        }
    }
    // Rolling update from the highest ordinal down to the partition.
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if !blocked && strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate" {
        let partition = strategy
            .rolling_update
            .as_ref()
            .and_then(|r| r.partition)
            .unwrap_or(0);
        for ordinal in (start..start + replicas).rev() {
            if ordinal - start < partition {
                break;
            }
            let Some(pod) = by_ordinal.get(&ordinal) else {
                break;
            };
            if pod_revision(pod) != Some(update) && pod.metadata.deletion_timestamp.is_none() {
                plan.delete
                    .push(pod.metadata.name.clone().unwrap_or_default());
                break;
            }
            if !healthy(pod) {
                break;
            }
        }
    }
    // `completeRollingUpdate`.
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate"
        && status.updated_replicas == Some(replicas)
        && status.ready_replicas == Some(replicas)
        && status.replicas == replicas
    {
        status.current_revision = Some(update.to_string());
        status.current_replicas = status.updated_replicas;
    }
    plan.status = status;
    plan
}

/// The StatefulSet controller.
#[derive(Debug, Clone)]
pub struct StatefulSetController {
    client: LocalClient,
    time: SimTime,
    sets: Informer<StatefulSet>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

impl StatefulSetController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        sets: Informer<StatefulSet>,
        pods: Informer<Pod>,
    ) -> Self {
        let this = Self {
            recorder: EventRecorder::new(client.clone(), "statefulset-controller", time.clone()),
            client,
            time: time.clone(),
            sets,
            pods,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.sets
            .add_handler(Arc::new(move |e: &Event<StatefulSet>| {
                if let Event::Added(s) | Event::Updated { new: s, .. } = e {
                    queue.add(meta_key(&s.metadata));
                }
            }));
        let queue = this.queue.clone();
        this.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            let p = match e {
                Event::Added(p) | Event::Deleted(p) | Event::Updated { new: p, .. } => p,
            };
            if let Some(owner) = controller_of(&p.metadata)
                && owner.kind == "StatefulSet"
            {
                queue.add(kubetwin_runtime::informer::key_of(
                    p.metadata.namespace.as_deref(),
                    &owner.name,
                ));
            }
        }));
        this
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "statefulset sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    async fn event(&self, set: &StatefulSet, kind: &str, reason: &str, message: &str) {
        self.recorder
            .event(
                "apps/v1",
                "StatefulSet",
                &set.metadata,
                kind,
                reason,
                message,
            )
            .await;
    }

    /// Creates the ControllerRevision of the current template when missing.
    async fn ensure_revision(&self, set: &StatefulSet, name: &str) -> Result<(), SyncError> {
        let ns = set.metadata.namespace.as_deref();
        if self
            .client
            .get_typed::<ControllerRevision>(ns, name)
            .is_ok()
        {
            return Ok(());
        }
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let revisions = self
            .client
            .list_typed::<ControllerRevision>(ns, None)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| controller_of(&r.metadata).is_some_and(|o| o.uid == uid))
            .map(|r| r.revision)
            .max()
            .unwrap_or(0);
        let template = set
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let mut template_json = serde_json::to_value(&template)?;
        template_json["$patch"] = json!("replace");
        let mut labels = template.metadata.and_then(|m| m.labels).unwrap_or_default();
        // Upstream: `history.ControllerRevisionHashLabel`.
        labels.insert(
            "controller.kubernetes.io/hash".into(),
            name.rsplit('-').next().unwrap_or("").to_string(),
        );
        let revision = ControllerRevision {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: set.metadata.namespace.clone(),
                labels: Some(labels),
                owner_references: Some(vec![new_controller_ref(
                    &set.metadata,
                    "apps/v1",
                    "StatefulSet",
                )]),
                ..ObjectMeta::default()
            },
            data: Some(RawExtension(json!({"spec": {"template": template_json}}))),
            revision: revisions + 1,
        };
        match self.client.create_typed(&revision).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `sync` → `updateStatefulSet`.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(set) = self.sets.get(key) else {
            return Ok(());
        };
        if set.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let uid = set.metadata.uid.clone().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(&ns)
            .into_iter()
            .filter(|p| controller_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect();
        let update = revision_name(&set);
        self.ensure_revision(&set, &update).await?;
        let current = set
            .status
            .as_ref()
            .and_then(|s| s.current_revision.clone())
            .unwrap_or_else(|| update.clone());
        let plan = plan_set(&set, &pods, &current, &update, self.time.now());
        let pod_info = resource_of::<Pod>()?;
        let set_name = set.metadata.name.clone().unwrap_or_default();
        for ordinal in &plan.create {
            for claim in claims_for(&set, *ordinal) {
                let claim_name = claim.metadata.name.clone().unwrap_or_default();
                if self
                    .client
                    .get_typed::<PersistentVolumeClaim>(Some(&ns), &claim_name)
                    .is_err()
                {
                    match self.client.create_typed(&claim).await {
                        Ok(_) => {
                            self.event(&set, "Normal", "SuccessfulCreate", &format!("create Claim {claim_name} Pod {set_name}-{ordinal} in StatefulSet {set_name} success"))
                                .await;
                        }
                        Err(e) if e.code == 409 => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            let pod = new_pod(&set, *ordinal, &update);
            let name = pod.metadata.name.clone().unwrap_or_default();
            match self.client.create_typed(&pod).await {
                Ok(_) => {
                    self.event(
                        &set,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("create Pod {name} in StatefulSet {set_name} successful"),
                    )
                    .await;
                }
                Err(e) if e.code == 409 => {}
                Err(e) => {
                    self.event(
                        &set,
                        "Warning",
                        "FailedCreate",
                        &format!("create Pod {name} in StatefulSet {set_name} failed error: {e}"),
                    )
                    .await;
                    return Err(e.into());
                }
            }
        }
        for name in &plan.delete {
            match self
                .client
                .delete(pod_info, Some(&ns), name, &DeleteOptions::default())
                .await
            {
                Ok(_) => {
                    self.event(
                        &set,
                        "Normal",
                        "SuccessfulDelete",
                        &format!("delete Pod {name} in StatefulSet {set_name} successful"),
                    )
                    .await;
                }
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        if set.status.as_ref() != Some(&plan.status) {
            let mut next = set.as_ref().clone();
            next.status = Some(plan.status);
            update_typed(&self.client, &next, "status").await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        RollingUpdateStatefulSetStrategy, StatefulSetSpec, StatefulSetUpdateStrategy,
    };
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    fn set(replicas: i32, parallel: bool, partition: Option<i32>) -> StatefulSet {
        StatefulSet {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("sts-uid".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            spec: Some(StatefulSetSpec {
                replicas: Some(replicas),
                pod_management_policy: parallel.then(|| "Parallel".to_string()),
                update_strategy: partition.map(|p| StatefulSetUpdateStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateStatefulSetStrategy {
                        partition: Some(p),
                        max_unavailable: None,
                    }),
                }),
                ..StatefulSetSpec::default()
            }),
            status: None,
        }
    }

    /// (ordinal, ready, revision)
    fn pods(specs: &[(i32, bool, &str)]) -> Vec<Arc<Pod>> {
        specs
            .iter()
            .map(|(o, ready, rev)| {
                Arc::new(Pod {
                    metadata: ObjectMeta {
                        name: Some(format!("web-{o}")),
                        labels: Some(
                            [(LABEL_REVISION_HASH.to_string(), (*rev).to_string())].into(),
                        ),
                        ..ObjectMeta::default()
                    },
                    status: Some(PodStatus {
                        phase: Some("Running".into()),
                        conditions: Some(vec![PodCondition {
                            type_: "Ready".into(),
                            status: if *ready { "True" } else { "False" }.into(),
                            ..PodCondition::default()
                        }]),
                        ..PodStatus::default()
                    }),
                    ..Pod::default()
                })
            })
            .collect()
    }

    /// Upstream: `stateful_set_control_test.go` — `CreatesPods` / `ScalesUp` /
    /// `ScalesDown` under OrderedReady (one ordinal at a time, waiting for Ready) and
    /// Parallel (`TestStatefulSetControlParallel...`), `TestStatefulSetControlRollingUpdate`
    /// and `...WithPartition` (highest ordinal first, down to the partition).
    /// Each case: (name, replicas, parallel, partition, pods, expected creates, expected deletes).
    #[test]
    fn plan_cases() {
        let cases: Vec<(
            &str,
            i32,
            bool,
            Option<i32>,
            Vec<(i32, bool, &str)>,
            Vec<i32>,
            Vec<&str>,
        )> = vec![
            (
                "ordered: creates ordinal 0 first",
                3,
                false,
                None,
                vec![],
                vec![0],
                vec![],
            ),
            (
                "ordered: waits for 0 to be ready",
                3,
                false,
                None,
                vec![(0, false, "r1")],
                vec![],
                vec![],
            ),
            (
                "ordered: then ordinal 1",
                3,
                false,
                None,
                vec![(0, true, "r1")],
                vec![1],
                vec![],
            ),
            (
                "parallel: creates all",
                3,
                true,
                None,
                vec![],
                vec![0, 1, 2],
                vec![],
            ),
            (
                "parallel: fills gaps regardless of readiness",
                3,
                true,
                None,
                vec![(1, false, "r1")],
                vec![0, 2],
                vec![],
            ),
            (
                "ordered scale down: highest first, one at a time",
                1,
                false,
                None,
                vec![(0, true, "r1"), (1, true, "r1"), (2, true, "r1")],
                vec![],
                vec!["web-2"],
            ),
            (
                "parallel scale down: all condemned",
                1,
                true,
                None,
                vec![(0, true, "r1"), (1, true, "r1"), (2, true, "r1")],
                vec![],
                vec!["web-2", "web-1"],
            ),
            (
                "rolling update: highest ordinal first",
                3,
                false,
                Some(0),
                vec![(0, true, "r1"), (1, true, "r1"), (2, true, "r1")],
                vec![],
                vec!["web-2"],
            ),
            (
                "rolling update: next after the updated pod is ready",
                3,
                false,
                Some(0),
                vec![(0, true, "r1"), (1, true, "r1"), (2, true, "r2")],
                vec![],
                vec!["web-1"],
            ),
            (
                "rolling update: waits for the updated pod",
                3,
                false,
                Some(0),
                vec![(0, true, "r1"), (1, true, "r1"), (2, false, "r2")],
                vec![],
                vec![],
            ),
            (
                "partition 2: only ordinal 2",
                3,
                false,
                Some(2),
                vec![(0, true, "r1"), (1, true, "r1"), (2, true, "r2")],
                vec![],
                vec![],
            ),
            (
                "partition 2: updates ordinal 2",
                3,
                false,
                Some(2),
                vec![(0, true, "r1"), (1, true, "r1"), (2, true, "r1")],
                vec![],
                vec!["web-2"],
            ),
        ];
        for (name, replicas, parallel, partition, pod_specs, creates, deletes) in cases {
            let s = set(replicas, parallel, partition);
            // Cases without a partition have no template change (update revision = r1).
            let update = if partition.is_some() { "r2" } else { "r1" };
            let plan = plan_set(
                &s,
                &pods(&pod_specs),
                "r1",
                update,
                jiff::Timestamp::UNIX_EPOCH,
            );
            assert_eq!(plan.create, creates, "{name}");
            assert_eq!(
                plan.delete,
                deletes.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "{name}"
            );
        }
    }

    /// Upstream: `stateful_set_utils_test.go` `TestGetParentNameAndOrdinal`,
    /// `TestIdentityMatches` / `TestStorageMatches` (hostname, subdomain, labels, claims).
    #[test]
    fn identity_and_storage() {
        assert_eq!(ordinal_of("web", "web-3"), Some(3));
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
        assert_eq!(ordinal_of("web", "web-"), None);
        let mut s = set(2, false, None);
        if let Some(spec) = s.spec.as_mut() {
            spec.service_name = Some("nginx".into());
            spec.volume_claim_templates = Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".into()),
                    ..ObjectMeta::default()
                },
                ..PersistentVolumeClaim::default()
            }]);
        }
        let pod = new_pod(&s, 1, "web-abc");
        let spec = pod.spec.clone().unwrap_or_default();
        assert_eq!(
            (spec.hostname.as_deref(), spec.subdomain.as_deref()),
            (Some("web-1"), Some("nginx"))
        );
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(LABEL_POD_NAME).map(String::as_str),
            Some("web-1")
        );
        assert_eq!(labels.get(LABEL_POD_INDEX).map(String::as_str), Some("1"));
        assert_eq!(
            labels.get(LABEL_REVISION_HASH).map(String::as_str),
            Some("web-abc")
        );
        let volume = &spec.volumes.unwrap_or_default()[0];
        assert_eq!(
            volume
                .persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.as_str()),
            Some("data-web-1")
        );
        assert_eq!(
            claims_for(&s, 1)[0].metadata.name.as_deref(),
            Some("data-web-1")
        );
    }
}
