//! The offline scheduler behind `kubetwin schedule`: reads Nodes, Pods and the objects plugins
//! look up from YAML/JSON documents, places the running pods (`spec.nodeName`), then schedules the
//! others one by one in queue order, applying each placement and preemption to the snapshot, and
//! reports the results in the output contract of issue 3 (`-o json`, `-o table`, `--explain`).
//!
//! Admission the API server would have done is applied to pending pods: the Priority plugin
//! (`plugin/pkg/admission/priority`: `spec.priority` and `preemptionPolicy` from the PriorityClass
//! or the global default) and the default namespace.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use serde::Serialize;
use serde_json::Value;

use crate::config::SchedulerConfiguration;
use crate::queue::SchedulingQueue;
use crate::schedule::{Explanation, NodeName, Scheduler};
use crate::status::Code;
use crate::types::{NodeData, PodInfo};

/// A bad input document or object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct OfflineError {
    /// `file#index` of the document, with the object when known.
    pub source_name: String,
    /// What is wrong, naming the field.
    pub message: String,
}

fn oerr(source_name: impl Into<String>, message: impl Into<String>) -> OfflineError {
    OfflineError {
        source_name: source_name.into(),
        message: message.into(),
    }
}

/// One parsed document.
#[derive(Debug, Clone)]
pub struct Document {
    /// `file#index` (1-based; list items as `file#index.items[i]`).
    pub source: String,
    /// The object.
    pub value: Value,
}

/// Splits a YAML (multi-document) or JSON text into objects, flattening `List` kinds.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Document>, OfflineError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| oerr(file, format!("parsing: {e}")))?;
    let mut out = Vec::new();
    for (i, v) in docs.into_iter().enumerate() {
        let source = format!("{file}#{}", i + 1);
        if v.is_null() {
            continue;
        }
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind == "List" || (kind.ends_with("List") && v.get("items").is_some()) {
            let items = v
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (j, item) in items.into_iter().enumerate() {
                out.push(Document {
                    source: format!("{source}.items[{j}]"),
                    value: item,
                });
            }
        } else {
            out.push(Document { source, value: v });
        }
    }
    Ok(out)
}

/// The objects of an offline run, with the document each came from.
#[derive(Debug, Clone, Default)]
pub struct OfflineInput {
    /// Nodes.
    pub nodes: Vec<(String, Node)>,
    /// Pods.
    pub pods: Vec<(String, Pod)>,
    /// PersistentVolumes.
    pub persistent_volumes: Vec<(String, PersistentVolume)>,
    /// PersistentVolumeClaims.
    pub persistent_volume_claims: Vec<(String, PersistentVolumeClaim)>,
    /// StorageClasses.
    pub storage_classes: Vec<(String, StorageClass)>,
    /// CSINodes.
    pub csi_nodes: Vec<(String, CSINode)>,
    /// PodDisruptionBudgets.
    pub pod_disruption_budgets: Vec<(String, PodDisruptionBudget)>,
    /// PriorityClasses.
    pub priority_classes: Vec<(String, PriorityClass)>,
    /// Namespaces.
    pub namespaces: Vec<(String, Namespace)>,
    /// Services (their selectors drive default topology spreading).
    pub services: Vec<(String, Service)>,
    /// ReplicationControllers (owners of pods, for default spreading).
    pub replication_controllers: Vec<(String, ReplicationController)>,
    /// ReplicaSets (owners of pods, for default spreading).
    pub replica_sets: Vec<(String, ReplicaSet)>,
    /// StatefulSets (owners of pods, for default spreading).
    pub stateful_sets: Vec<(String, StatefulSet)>,
}

fn typed<T: serde::de::DeserializeOwned>(doc: &Document, what: &str) -> Result<T, OfflineError> {
    let name = doc
        .value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ns = doc
        .value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let object = match ns {
        Some(ns) => format!("{what} {ns}/{name}"),
        None => format!("{what} {name}"),
    };
    if name.is_empty() {
        return Err(oerr(
            format!("{} ({what})", doc.source),
            "metadata.name: Required value",
        ));
    }
    serde_path_to_error::deserialize(doc.value.clone()).map_err(|e| {
        let path = e.path().to_string();
        oerr(
            format!("{} ({object})", doc.source),
            format!("{path}: {}", e.inner()),
        )
    })
}

impl OfflineInput {
    /// Adds the objects of parsed documents; unknown kinds are an error.
    pub fn add_documents(&mut self, docs: &[Document]) -> Result<(), OfflineError> {
        for doc in docs {
            let kind = doc.value.get("kind").and_then(Value::as_str).unwrap_or("");
            let src = doc.source.clone();
            match kind {
                "Node" => self.nodes.push((src, typed(doc, kind)?)),
                "Pod" => self.pods.push((src, typed(doc, kind)?)),
                "PersistentVolume" => self.persistent_volumes.push((src, typed(doc, kind)?)),
                "PersistentVolumeClaim" => {
                    self.persistent_volume_claims.push((src, typed(doc, kind)?))
                }
                "StorageClass" => self.storage_classes.push((src, typed(doc, kind)?)),
                "CSINode" => self.csi_nodes.push((src, typed(doc, kind)?)),
                "PodDisruptionBudget" => self.pod_disruption_budgets.push((src, typed(doc, kind)?)),
                "PriorityClass" => self.priority_classes.push((src, typed(doc, kind)?)),
                "Namespace" => self.namespaces.push((src, typed(doc, kind)?)),
                "Service" => self.services.push((src, typed(doc, kind)?)),
                "ReplicationController" => {
                    self.replication_controllers.push((src, typed(doc, kind)?))
                }
                "ReplicaSet" => self.replica_sets.push((src, typed(doc, kind)?)),
                "StatefulSet" => self.stateful_sets.push((src, typed(doc, kind)?)),
                "" => return Err(oerr(src, "kind: Required value")),
                other => {
                    return Err(oerr(
                        src,
                        format!(
                            "kind: Unsupported value: {other:?}: supported values: \"Node\", \"Pod\", \"PersistentVolume\", \"PersistentVolumeClaim\", \"StorageClass\", \"CSINode\", \"PodDisruptionBudget\", \"PriorityClass\", \"Namespace\", \"Service\", \"ReplicationController\", \"ReplicaSet\", \"StatefulSet\""
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Options of an offline run.
#[derive(Debug, Clone, Default)]
pub struct OfflineOptions {
    /// The tie-break seed.
    pub seed: u64,
    /// Keep per-node, per-plugin detail.
    pub explain: bool,
    /// The configuration (defaults when `None`).
    pub config: Option<SchedulerConfiguration>,
}

/// The result of one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodResult {
    /// `namespace/name`.
    pub pod: String,
    /// The node, or `None` when unschedulable.
    pub node: Option<String>,
    /// Why it did not fit.
    pub message: Option<String>,
    /// The node nominated by preemption.
    pub nominated_node: Option<String>,
    /// Pods evicted for it.
    pub preempted: Vec<String>,
    /// Detail of the final attempt.
    pub explanation: Option<Explanation>,
}

const SYSTEM_CLASSES: [(&str, i32); 2] = [
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// Applies the Priority admission plugin to a pending pod.
fn admit_priority(
    pod: &mut Pod,
    classes: &BTreeMap<String, PriorityClass>,
    source: &str,
) -> Result<(), OfflineError> {
    let Some(spec) = pod.spec.as_mut() else {
        return Ok(());
    };
    if spec.priority.is_some() {
        return Ok(());
    }
    let class_name = spec.priority_class_name.clone().unwrap_or_default();
    let (value, policy) = if class_name.is_empty() {
        match classes.values().find(|c| c.global_default == Some(true)) {
            Some(c) => (c.value, c.preemption_policy.clone()),
            None => (0, None),
        }
    } else if let Some(c) = classes.get(&class_name) {
        (c.value, c.preemption_policy.clone())
    } else if let Some((_, v)) = SYSTEM_CLASSES.iter().find(|(n, _)| *n == class_name) {
        (*v, None)
    } else {
        return Err(oerr(
            source,
            format!("spec.priorityClassName: no PriorityClass with name {class_name} was found"),
        ));
    };
    spec.priority = Some(value);
    if spec.preemption_policy.is_none() {
        spec.preemption_policy = Some(policy.unwrap_or_else(|| "PreemptLowerPriority".to_owned()));
    }
    Ok(())
}

/// Merges `matchLabelKeys` / `mismatchLabelKeys` of pod (anti-)affinity terms into their label
/// selectors as `key In (value)` / `key NotIn (value)`, as the API server does on pod creation
/// (MatchLabelKeysInPodAffinity, GA in 1.34; pkg/registry/core/pod/strategy.go
/// `applyMatchLabelKeysAndMismatchLabelKeys`). Terms without a selector are left alone (they
/// match nothing). Merging twice adds identical requirements, which changes nothing.
fn merge_affinity_label_keys(pod: &mut Pod) {
    use k8s_openapi::api::core::v1::PodAffinityTerm;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let apply = |term: &mut PodAffinityTerm| {
        let keys = |v: &Option<Vec<String>>, op: &str| -> Vec<LabelSelectorRequirement> {
            v.iter()
                .flatten()
                .filter_map(|k| {
                    labels.get(k).map(|value| LabelSelectorRequirement {
                        key: k.clone(),
                        operator: op.to_owned(),
                        values: Some(vec![value.clone()]),
                    })
                })
                .collect()
        };
        let extra: Vec<LabelSelectorRequirement> = keys(&term.match_label_keys, "In")
            .into_iter()
            .chain(keys(&term.mismatch_label_keys, "NotIn"))
            .collect();
        if extra.is_empty() {
            return;
        }
        if let Some(sel) = term.label_selector.as_mut() {
            sel.match_expressions
                .get_or_insert_with(Vec::new)
                .extend(extra);
        }
    };
    let Some(affinity) = pod.spec.as_mut().and_then(|s| s.affinity.as_mut()) else {
        return;
    };
    if let Some(a) = affinity.pod_affinity.as_mut() {
        for t in a
            .preferred_during_scheduling_ignored_during_execution
            .iter_mut()
            .flatten()
        {
            apply(&mut t.pod_affinity_term);
        }
        for t in a
            .required_during_scheduling_ignored_during_execution
            .iter_mut()
            .flatten()
        {
            apply(t);
        }
    }
    if let Some(a) = affinity.pod_anti_affinity.as_mut() {
        for t in a
            .preferred_during_scheduling_ignored_during_execution
            .iter_mut()
            .flatten()
        {
            apply(&mut t.pod_affinity_term);
        }
        for t in a
            .required_during_scheduling_ignored_during_execution
            .iter_mut()
            .flatten()
        {
            apply(t);
        }
    }
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

const NANOS: i128 = 1_000_000_000;

/// Computes `status.disruptionsAllowed` of PDBs given without a status, as the disruption
/// controller would from the running pods (`pkg/controller/disruption/disruption.go`,
/// simplified: every running matching pod is healthy and the expected count is the number of
/// matching pods).
fn fill_pdb_status(sched: &mut Scheduler) {
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let scaled = |v: &IntOrString, total: i64| -> i64 {
        match v {
            IntOrString::Int(n) => i64::from(*n),
            IntOrString::String(s) => {
                let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
                // Rounded up, as GetScaledValueFromIntOrPercent(…, true).
                (pct * total + 99) / 100
            }
        }
    };
    let keys: Vec<String> = sched
        .objects
        .pod_disruption_budgets
        .keys()
        .cloned()
        .collect();
    for key in keys {
        let Some(pdb) = sched.objects.pod_disruption_budgets.get(&key) else {
            continue;
        };
        if pdb.status.is_some() {
            continue;
        }
        let ns = pdb
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let spec = pdb.spec.clone().unwrap_or_default();
        let Ok(sel) = kubetwin_core::labels::Selector::from_label_selector(spec.selector.as_ref())
        else {
            continue;
        };
        let healthy = i64::try_from(
            sched
                .snapshot
                .all_pods()
                .filter(|p| p.namespace == ns && !sel.is_empty() && sel.matches(&p.labels))
                .count(),
        )
        .unwrap_or(i64::MAX);
        let desired = match (&spec.min_available, &spec.max_unavailable) {
            (Some(m), _) => scaled(m, healthy),
            (None, Some(m)) => healthy - scaled(m, healthy),
            (None, None) => 0,
        };
        let allowed = i32::try_from((healthy - desired).max(0)).unwrap_or(i32::MAX);
        let status = PodDisruptionBudgetStatus {
            current_healthy: i32::try_from(healthy).unwrap_or(i32::MAX),
            desired_healthy: i32::try_from(desired).unwrap_or(i32::MAX),
            disruptions_allowed: allowed,
            expected_pods: i32::try_from(healthy).unwrap_or(i32::MAX),
            ..Default::default()
        };
        if let Some(pdb) = sched.objects.pod_disruption_budgets.get_mut(&key) {
            pdb.status = Some(status);
        }
    }
}

/// A PV given without `status.phase` gets the phase the PV controller would have set:
/// `Bound` when it has a claim reference, else `Available` (pkg/controller/volume/persistentvolume
/// `syncVolume`).
fn default_pv_status(mut pv: PersistentVolume) -> PersistentVolume {
    use k8s_openapi::api::core::v1::PersistentVolumeStatus;
    let has_phase = pv.status.as_ref().and_then(|s| s.phase.as_ref()).is_some();
    if !has_phase {
        let bound = pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_some();
        pv.status
            .get_or_insert_with(PersistentVolumeStatus::default)
            .phase = Some(if bound { "Bound" } else { "Available" }.to_owned());
    }
    pv
}

/// A claim given with `spec.volumeName` and `status.phase: Bound` is fully bound: the PV
/// controller always sets `pv.kubernetes.io/bind-completed` when it binds, and input files often
/// omit annotations (pkg/controller/volume/persistentvolume `bindClaimToVolume`).
fn default_pvc_bound_annotation(mut pvc: PersistentVolumeClaim) -> PersistentVolumeClaim {
    let bound_phase = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    let has_volume = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .is_some_and(|v| !v.is_empty());
    if bound_phase && has_volume {
        pvc.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .entry(crate::helpers::storage::ANN_BIND_COMPLETED.to_owned())
            .or_insert_with(|| "yes".to_owned());
    }
    pvc
}

/// Runs the offline scheduler over `input`.
pub fn run(input: &OfflineInput, opts: &OfflineOptions) -> Result<Vec<PodResult>, OfflineError> {
    let config = opts.config.clone().unwrap_or_default();
    let frameworks = config
        .build_frameworks()
        .map_err(|e| oerr("--config", e.to_string()))?;
    let mut sched = Scheduler::new(frameworks, opts.seed);
    sched.percentage_of_nodes_to_score = config.percentage_of_nodes_to_score;
    let key_of = |ns: Option<&String>, name: Option<&String>| {
        format!(
            "{}/{}",
            ns.filter(|s| !s.is_empty())
                .map_or("default", String::as_str),
            name.map_or("", String::as_str)
        )
    };
    for (_, pv) in &input.persistent_volumes {
        sched.objects.persistent_volumes.insert(
            pv.metadata.name.clone().unwrap_or_default(),
            default_pv_status(pv.clone()),
        );
    }
    for (_, pvc) in &input.persistent_volume_claims {
        let mut pvc = default_pvc_bound_annotation(pvc.clone());
        if pvc.metadata.namespace.as_deref().is_none_or(str::is_empty) {
            pvc.metadata.namespace = Some("default".into());
        }
        sched.objects.persistent_volume_claims.insert(
            key_of(pvc.metadata.namespace.as_ref(), pvc.metadata.name.as_ref()),
            pvc,
        );
    }
    for (_, sc) in &input.storage_classes {
        sched
            .objects
            .storage_classes
            .insert(sc.metadata.name.clone().unwrap_or_default(), sc.clone());
    }
    for (_, c) in &input.csi_nodes {
        sched
            .objects
            .csi_nodes
            .insert(c.metadata.name.clone().unwrap_or_default(), c.clone());
    }
    for (_, p) in &input.pod_disruption_budgets {
        sched.objects.pod_disruption_budgets.insert(
            key_of(p.metadata.namespace.as_ref(), p.metadata.name.as_ref()),
            p.clone(),
        );
    }
    for (_, p) in &input.priority_classes {
        sched
            .objects
            .priority_classes
            .insert(p.metadata.name.clone().unwrap_or_default(), p.clone());
    }
    for (_, n) in &input.namespaces {
        sched
            .objects
            .namespaces
            .insert(n.metadata.name.clone().unwrap_or_default(), n.clone());
    }
    for (_, o) in &input.services {
        sched.objects.services.insert(
            key_of(o.metadata.namespace.as_ref(), o.metadata.name.as_ref()),
            o.clone(),
        );
    }
    for (_, o) in &input.replication_controllers {
        sched.objects.replication_controllers.insert(
            key_of(o.metadata.namespace.as_ref(), o.metadata.name.as_ref()),
            o.clone(),
        );
    }
    for (_, o) in &input.replica_sets {
        sched.objects.replica_sets.insert(
            key_of(o.metadata.namespace.as_ref(), o.metadata.name.as_ref()),
            o.clone(),
        );
    }
    for (_, o) in &input.stateful_sets {
        sched.objects.stateful_sets.insert(
            key_of(o.metadata.namespace.as_ref(), o.metadata.name.as_ref()),
            o.clone(),
        );
    }
    for (src, node) in &input.nodes {
        let data = NodeData::new(node.clone()).map_err(|e| oerr(src, e.to_string()))?;
        sched
            .snapshot
            .add_node(data)
            .map_err(|e| oerr(src, e.to_string()))?;
    }
    // Running pods first, then the pending ones in queue order.
    let mut pending: Vec<(usize, Arc<PodInfo>)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, (src, pod)) in input.pods.iter().enumerate() {
        if is_terminal(pod) {
            continue;
        }
        let mut pod = pod.clone();
        merge_affinity_label_keys(&mut pod);
        let src_named = format!(
            "{src} (Pod {})",
            key_of(pod.metadata.namespace.as_ref(), pod.metadata.name.as_ref())
        );
        let assigned = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        if !assigned {
            admit_priority(&mut pod, &sched.objects.priority_classes, &src_named)?;
        }
        let info = PodInfo::new(pod).map_err(|e| oerr(&src_named, e.to_string()))?;
        if !seen.insert(info.key.clone()) {
            return Err(oerr(
                &src_named,
                format!("metadata.name: Duplicate value: {:?}", info.key),
            ));
        }
        if assigned {
            if sched.snapshot.get(&info.node_name).is_some() {
                sched
                    .snapshot
                    .add_pod(Arc::new(info))
                    .map_err(|e| oerr(&src_named, e.to_string()))?;
            }
        } else {
            pending.push((i, Arc::new(info)));
        }
    }
    pending.sort_by_key(|(i, p)| (p.creation_timestamp, *i));
    fill_pdb_status(&mut sched);

    let mut queue = SchedulingQueue::new(
        config.pod_initial_backoff_seconds,
        config.pod_max_backoff_seconds,
    );
    let mut results: BTreeMap<String, (u64, PodResult)> = BTreeMap::new();
    let mut order_seq: u64 = 0;
    for (_, p) in &pending {
        let gate = match sched.profile_for_pod(p) {
            Some(i) => {
                let s = sched.profiles[i].run_pre_enqueue_plugins(p);
                if s.is_success() {
                    String::new()
                } else {
                    s.plugin().to_owned()
                }
            }
            None => String::new(),
        };
        if !gate.is_empty() {
            let msg = sched
                .profile_for_pod(p)
                .map(|i| sched.profiles[i].run_pre_enqueue_plugins(p).message());
            results.insert(
                p.key.clone(),
                (
                    u64::MAX,
                    PodResult {
                        pod: p.key.clone(),
                        node: None,
                        message: msg,
                        nominated_node: None,
                        preempted: Vec::new(),
                        explanation: None,
                    },
                ),
            );
        }
        queue.add(p.clone(), 0, &gate);
    }
    let mut now: i128 = 0;
    let max_attempts = pending.len().saturating_mul(50).max(100);
    let mut attempts = 0usize;
    loop {
        queue.flush_backoff_completed(now);
        let Some(mut q) = queue.pop() else {
            match queue.next_backoff_expiry() {
                Some(t) => {
                    now = now.max(t);
                    continue;
                }
                None => break,
            }
        };
        attempts += 1;
        if attempts > max_attempts {
            break;
        }
        if sched.profile_for_pod(&q.pod).is_none() {
            let name = q
                .pod
                .spec()
                .and_then(|s| s.scheduler_name.clone())
                .unwrap_or_default();
            order_seq += 1;
            results.insert(
                q.pod.key.clone(),
                (
                    order_seq,
                    PodResult {
                        pod: q.pod.key.clone(),
                        node: None,
                        message: Some(format!("no profile for scheduler name {name:?}")),
                        nominated_node: None,
                        preempted: Vec::new(),
                        explanation: None,
                    },
                ),
            );
            continue;
        }
        let mut outcome = sched.schedule_one(&q.pod, opts.explain);
        order_seq += 1;
        let entry = results.entry(q.pod.key.clone()).or_insert_with(|| {
            (
                0,
                PodResult {
                    pod: q.pod.key.clone(),
                    node: None,
                    message: None,
                    nominated_node: None,
                    preempted: Vec::new(),
                    explanation: None,
                },
            )
        });
        entry.0 = order_seq;
        let r = &mut entry.1;
        r.preempted.extend(outcome.preempted.iter().cloned());
        r.explanation = outcome.explanation.take();
        if let Some(n) = &outcome.nominated_node {
            r.nominated_node = Some(n.clone());
        }
        if let Some(node) = outcome.node.clone() {
            r.node = Some(node);
            r.message = None;
            // AssignedPodAdd: affinity and spreading may now be satisfiable.
            queue.move_unschedulable(now, |w| {
                w.unschedulable_plugins
                    .iter()
                    .any(|p| p == "InterPodAffinity" || p == "PodTopologySpread")
            });
            if outcome.volumes_bound {
                // PersistentVolume/PersistentVolumeClaim updates (VolumeBinding, VolumeZone).
                queue.move_unschedulable(now, |w| {
                    w.unschedulable_plugins
                        .iter()
                        .any(|p| p == "VolumeBinding" || p == "VolumeZone")
                });
            }
            continue;
        }
        r.message = outcome.message.clone();
        let victims = !outcome.preempted.is_empty();
        if victims {
            // AssignedPodDelete: every plugin that registered pod deletion may now pass.
            queue.move_unschedulable(now, |_| true);
        }
        let nominated = sched
            .nominator
            .node_of(&q.pod.key)
            .map(str::to_owned)
            .unwrap_or_default();
        if nominated != q.pod.nominated_node_name {
            let mut updated = (*q.pod).clone();
            updated.nominated_node_name = nominated;
            q.pod = Arc::new(updated);
        }
        let is_error = outcome.code == Code::Error;
        queue.add_unschedulable(
            q,
            now,
            outcome.unschedulable_plugins.clone(),
            victims,
            is_error,
        );
        // Cap virtual time so that a long backoff chain cannot overflow.
        if now > 3600 * NANOS * 24 {
            break;
        }
    }
    let mut list: Vec<(u64, PodResult)> = results.into_values().collect();
    list.sort_by_key(|(seq, _)| *seq);
    Ok(list.into_iter().map(|(_, r)| r).collect())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFilter<'a> {
    node: &'a str,
    result: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    plugin: &'a str,
    #[serde(skip_serializing_if = "<[Cow<'static, str>]>::is_empty")]
    reasons: &'a [Cow<'static, str>],
}

#[derive(Serialize)]
struct JsonPluginScore<'a> {
    plugin: &'a str,
    raw: i64,
    normalized: i64,
    weight: i64,
    weighted: i64,
}

#[derive(Serialize)]
struct JsonNodeScore<'a> {
    node: &'a str,
    plugins: Vec<JsonPluginScore<'a>>,
    total: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonExplanation<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    pre_filter_message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nominated_node_used: Option<&'a str>,
    #[serde(skip_serializing_if = "<[NodeName]>::is_empty")]
    pre_filter_excluded: &'a [NodeName],
    filter: Vec<JsonFilter<'a>>,
    #[serde(skip_serializing_if = "<[NodeName]>::is_empty")]
    not_evaluated: &'a [NodeName],
    /// Only when the names were not kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_evaluated_count: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_score_plugins: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scores: Vec<JsonNodeScore<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonResult<'a> {
    pod: &'a str,
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nominated_node: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    preempted: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<JsonExplanation<'a>>,
}

#[derive(Serialize)]
struct JsonResults<'a> {
    results: Vec<JsonResult<'a>>,
}

fn json_explanation(e: &Explanation) -> JsonExplanation<'_> {
    let filter = e
        .filter
        .iter()
        .map(|f| JsonFilter {
            node: &f.node,
            result: if f.code == Code::Success {
                "passed"
            } else {
                f.code.as_str()
            },
            plugin: f.plugin.as_str(),
            reasons: f.reasons.as_slice(),
        })
        .collect();
    let scores = e
        .scores
        .as_ref()
        .map(|s| {
            s.nodes
                .iter()
                .enumerate()
                .map(|(i, node)| JsonNodeScore {
                    node,
                    plugins: s
                        .node_scores(i)
                        .map(|d| JsonPluginScore {
                            plugin: d.plugin,
                            raw: d.raw,
                            normalized: d.normalized,
                            weight: d.weight,
                            weighted: d.weighted,
                        })
                        .collect(),
                    total: s.totals.get(i).copied().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    JsonExplanation {
        pre_filter_message: &e.pre_filter_message,
        nominated_node_used: e.nominated_node_used.as_deref(),
        pre_filter_excluded: &e.pre_filter_excluded,
        filter,
        not_evaluated: &e.not_evaluated,
        not_evaluated_count: (e.not_evaluated.is_empty() && e.not_evaluated_count > 0)
            .then_some(e.not_evaluated_count),
        skipped_score_plugins: e
            .scores
            .as_ref()
            .map(|s| s.skipped.clone())
            .unwrap_or_default(),
        scores,
    }
}

/// The `-o json` output: `{"results":[…]}` on one line, with `explanation` only when `explain`.
pub fn to_json(results: &[PodResult], explain: bool) -> String {
    let out = JsonResults {
        results: results
            .iter()
            .map(|r| JsonResult {
                pod: &r.pod,
                node: r.node.as_deref(),
                message: r.message.as_deref(),
                nominated_node: r.nominated_node.as_deref(),
                preempted: &r.preempted,
                explanation: if explain {
                    r.explanation.as_ref().map(json_explanation)
                } else {
                    None
                },
            })
            .collect(),
    };
    serde_json::to_string(&out).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

/// The `-o table` output.
pub fn to_table(results: &[PodResult], explain: bool) -> String {
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            [
                r.pod.clone(),
                r.node.clone().unwrap_or_else(|| "<none>".into()),
                r.nominated_node.clone().unwrap_or_else(|| "<none>".into()),
                if r.preempted.is_empty() {
                    "<none>".into()
                } else {
                    r.preempted.join(",")
                },
                r.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let headers = ["POD", "NODE", "NOMINATED", "PREEMPTED", "MESSAGE"];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}   ", w = widths[i]);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, &headers);
    for (row, r) in rows.iter().zip(results) {
        line(&mut out, &row.each_ref().map(String::as_str));
        if explain && let Some(e) = &r.explanation {
            if !e.pre_filter_message.is_empty() {
                let _ = writeln!(out, "    prefilter: {}", e.pre_filter_message);
            }
            for f in &e.filter {
                if f.code == Code::Success {
                    let _ = writeln!(out, "    filter {}: passed", f.node);
                } else {
                    let _ = writeln!(
                        out,
                        "    filter {}: {} by {}: {}",
                        f.node,
                        f.code,
                        f.plugin,
                        f.reasons.join(", ")
                    );
                }
            }
            if let Some(s) = &e.scores {
                for (i, node) in s.nodes.iter().enumerate() {
                    let parts: Vec<String> = s
                        .node_scores(i)
                        .map(|d| {
                            format!(
                                "{}={}->{}x{}={}",
                                d.plugin, d.raw, d.normalized, d.weight, d.weighted
                            )
                        })
                        .collect();
                    let _ = writeln!(
                        out,
                        "    score {node}: total {} [{}]",
                        s.totals.get(i).copied().unwrap_or(0),
                        parts.join(" ")
                    );
                }
            }
        }
    }
    out
}
