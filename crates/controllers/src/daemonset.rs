//! The DaemonSet controller: one pod per eligible node, pinned through node affinity on
//! `metadata.name`, with the daemon tolerations, RollingUpdate and status.
//!
//! Upstream: `pkg/controller/daemon/daemon_controller.go` (`podsShouldBeOnNode`,
//! `NodeShouldRunDaemonPod`: node name, node selector / required node affinity and taints —
//! an untolerated NoSchedule taint stops new pods, an untolerated NoExecute taint also evicts;
//! failed pods deleted; duplicates on one node deleted keeping the oldest; `updateDaemonSetStatus`),
//! `pkg/controller/daemon/update.go` (`rollingUpdate` with maxUnavailable, default 1),
//! `pkg/controller/daemon/util/daemonset_util.go` (`AddOrUpdateDaemonPodTolerations`,
//! `ReplaceDaemonSetPodNodeNameNodeAffinity`, `GetTargetNodeName`) and
//! `staging/src/k8s.io/api/core/v1/toleration.go` (`ToleratesTaint`).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, meta_key};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};

use crate::deployment::compute_hash;
use crate::util::{
    EventRecorder, SyncError, controller_of, is_pod_available, is_pod_ready, new_controller_ref,
    scaled_value, update_typed,
};

/// `v1.ObjectNameField`.
const OBJECT_NAME_FIELD: &str = "metadata.name";

/// `ToleratesTaint`.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = toleration.effect.as_deref()
        && !effect.is_empty()
        && effect != taint.effect
    {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

fn toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Toleration::default()
    }
}

/// `AddOrUpdateDaemonPodTolerations`.
pub fn add_daemon_tolerations(tolerations: &mut Vec<Toleration>, host_network: bool) {
    let mut wanted = vec![
        toleration("node.kubernetes.io/not-ready", "NoExecute"),
        toleration("node.kubernetes.io/unreachable", "NoExecute"),
        toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        wanted.push(toleration(
            "node.kubernetes.io/network-unavailable",
            "NoSchedule",
        ));
    }
    for t in wanted {
        tolerations.retain(|e| !(e.key == t.key && e.effect == t.effect));
        tolerations.push(t);
    }
}

/// `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required terms become one `matchFields`
/// term on the node's name.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![NodeSelectorRequirement {
                key: OBJECT_NAME_FIELD.into(),
                operator: "In".into(),
                values: Some(vec![node.to_string()]),
            }]),
        }],
    });
    affinity
}

/// `GetTargetNodeName`: spec.nodeName, else the pinned name in the affinity.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().find_map(|t| {
        t.match_fields.as_deref()?.iter().find_map(|r| {
            (r.key == OBJECT_NAME_FIELD && r.operator == "In")
                .then(|| r.values.as_ref()?.first().cloned())
                .flatten()
        })
    })
}

fn requirement_matches(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
    name: &str,
    field: bool,
) -> bool {
    let value = if field {
        (r.key == OBJECT_NAME_FIELD).then(|| name.to_string())
    } else {
        labels.get(&r.key).cloned()
    };
    let values = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// `fitsNodeAffinity`-style check of the template's nodeSelector and required node affinity.
pub fn node_matches(pod: &Pod, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref().unwrap_or("");
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    if let Some(selector) = &spec.node_selector
        && selector.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    match required {
        None => true,
        Some(sel) => sel.node_selector_terms.iter().any(|t| {
            let exprs = t.match_expressions.as_deref().unwrap_or(&[]);
            let fields = t.match_fields.as_deref().unwrap_or(&[]);
            (!exprs.is_empty() || !fields.is_empty())
                && exprs
                    .iter()
                    .all(|r| requirement_matches(r, &labels, name, false))
                && fields
                    .iter()
                    .all(|r| requirement_matches(r, &labels, name, true))
        }),
    }
}

/// `NodeShouldRunDaemonPod`: (should run a new pod, should keep an existing one running).
pub fn node_should_run(template_pod: &Pod, node: &Node) -> (bool, bool) {
    if let Some(n) = template_pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        && !n.is_empty()
        && Some(n) != node.metadata.name.as_deref()
    {
        return (false, false);
    }
    if !node_matches(template_pod, node) {
        return (false, false);
    }
    let tolerations = template_pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let untolerated = |effect: &str| {
        node.spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[])
            .iter()
            .filter(|t| t.effect == effect)
            .any(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
    };
    if untolerated("NoExecute") {
        return (false, false);
    }
    (!untolerated("NoSchedule"), true)
}

/// The daemon pod template with the tolerations added (`NewPod`, without the node pin).
pub fn template_pod(ds: &DaemonSet, hash: &str) -> Pod {
    let spec = ds.spec.clone().unwrap_or_default();
    let mut meta = spec.template.metadata.clone().unwrap_or_default();
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    labels.insert("controller-revision-hash".into(), hash.to_string());
    labels.insert(
        "pod-template-generation".into(),
        ds.metadata.generation.unwrap_or(1).to_string(),
    );
    let mut pod_spec = spec.template.spec.clone().unwrap_or_default();
    let host_network = pod_spec.host_network.unwrap_or(false);
    add_daemon_tolerations(
        pod_spec.tolerations.get_or_insert_with(Vec::new),
        host_network,
    );
    let mut prefix = ds.metadata.name.clone().unwrap_or_default();
    prefix.truncate(57);
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{prefix}-")),
            namespace: ds.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: meta.annotations,
            owner_references: Some(vec![new_controller_ref(
                &ds.metadata,
                "apps/v1",
                "DaemonSet",
            )]),
            ..ObjectMeta::default()
        },
        spec: Some(pod_spec),
        status: None,
    }
}

/// What one sync does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DaemonPlan {
    /// Nodes that get a new pod.
    pub create: Vec<String>,
    /// Pods to delete (names).
    pub delete: Vec<String>,
    /// The new status.
    pub status: DaemonSetStatus,
}

fn hash_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get("controller-revision-hash")
        .map(String::as_str)
}

/// The pure part of `manage` + `rollingUpdate` + `updateDaemonSetStatus`.
pub fn plan_daemon(
    ds: &DaemonSet,
    nodes: &[Arc<Node>],
    pods: &[Arc<Pod>],
    hash: &str,
    now: jiff::Timestamp,
) -> DaemonPlan {
    let spec = ds.spec.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let template = template_pod(ds, hash);
    let mut by_node: BTreeMap<String, Vec<&Arc<Pod>>> = BTreeMap::new();
    for pod in pods {
        if let Some(n) = target_node(pod) {
            by_node.entry(n).or_default().push(pod);
        }
    }
    let mut plan = DaemonPlan::default();
    let (mut desired, mut current, mut misscheduled, mut ready, mut updated, mut available) =
        (0, 0, 0, 0, 0, 0);
    let mut old_available: Vec<&Arc<Pod>> = Vec::new();
    let mut unavailable_now = 0;
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let (should_run, keep_running) = node_should_run(&template, node);
        let mut node_pods: Vec<&Arc<Pod>> = by_node.get(&name).cloned().unwrap_or_default();
        node_pods.retain(|p| p.metadata.deletion_timestamp.is_none());
        if should_run {
            desired += 1;
        }
        if should_run || keep_running {
            // Failed pods go; the oldest surviving pod stays, duplicates go.
            let (failed, mut alive): (Vec<&Arc<Pod>>, Vec<&Arc<Pod>>) =
                node_pods.into_iter().partition(|p| {
                    p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed")
                });
            plan.delete.extend(
                failed
                    .iter()
                    .map(|p| p.metadata.name.clone().unwrap_or_default()),
            );
            alive.sort_by_key(|p| {
                (
                    p.metadata.creation_timestamp.clone().map(|t| t.0),
                    p.metadata.name.clone(),
                )
            });
            if alive.is_empty() {
                if should_run {
                    plan.create.push(name.clone());
                    unavailable_now += 1;
                }
                continue;
            }
            plan.delete.extend(
                alive[1..]
                    .iter()
                    .map(|p| p.metadata.name.clone().unwrap_or_default()),
            );
            let pod = alive[0];
            if should_run {
                current += 1;
            } else {
                misscheduled += 1;
            }
            let is_ready = is_pod_ready(pod);
            let is_available = is_pod_available(pod, min_ready, now);
            if is_ready {
                ready += 1;
            }
            if is_available {
                available += 1;
            } else {
                unavailable_now += 1;
            }
            if hash_of(pod) == Some(hash) {
                updated += 1;
            } else if is_available {
                old_available.push(pod);
            } else {
                // An old, unavailable pod is replaced at once (`rollingUpdate`).
                plan.delete
                    .push(pod.metadata.name.clone().unwrap_or_default());
            }
        } else {
            // Not eligible any more: every daemon pod on the node goes.
            for p in node_pods {
                misscheduled += 1;
                plan.delete
                    .push(p.metadata.name.clone().unwrap_or_default());
            }
        }
    }
    // `getUnscheduledPodsWithoutNode`: unscheduled pods pinned to nodes that are gone.
    for (node_name, node_pods) in &by_node {
        if nodes
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some(node_name.as_str()))
        {
            continue;
        }
        for p in node_pods {
            let unscheduled = p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_none_or(str::is_empty);
            if unscheduled && p.metadata.deletion_timestamp.is_none() {
                plan.delete
                    .push(p.metadata.name.clone().unwrap_or_default());
            }
        }
    }
    // RollingUpdate: replace old available pods while fewer than maxUnavailable are down.
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate" {
        let max_unavailable = strategy
            .rolling_update
            .as_ref()
            .and_then(|r| r.max_unavailable.clone())
            .map_or(Ok(1), |v| scaled_value(&v, desired, true))
            .unwrap_or(1)
            .max(0);
        let budget = usize::try_from(max_unavailable)
            .unwrap_or(0)
            .saturating_sub(unavailable_now);
        for pod in old_available.into_iter().take(budget) {
            plan.delete
                .push(pod.metadata.name.clone().unwrap_or_default());
        }
    }
    plan.status = DaemonSetStatus {
        collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
        conditions: ds.status.as_ref().and_then(|s| s.conditions.clone()),
        current_number_scheduled: current,
        desired_number_scheduled: desired,
        number_available: Some(available),
        number_misscheduled: misscheduled,
        number_ready: ready,
        number_unavailable: Some((desired - available).max(0)),
        observed_generation: ds.metadata.generation,
        updated_number_scheduled: Some(updated),
    };
    plan
}

/// The DaemonSet controller.
#[derive(Debug, Clone)]
pub struct DaemonSetController {
    client: LocalClient,
    time: SimTime,
    sets: Informer<DaemonSet>,
    nodes: Informer<Node>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

impl DaemonSetController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        sets: Informer<DaemonSet>,
        nodes: Informer<Node>,
        pods: Informer<Pod>,
    ) -> Self {
        let this = Self {
            recorder: EventRecorder::new(client.clone(), "daemonset-controller", time.clone()),
            client,
            time: time.clone(),
            sets,
            nodes,
            pods,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.sets.add_handler(Arc::new(move |e: &Event<DaemonSet>| {
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
                && owner.kind == "DaemonSet"
            {
                queue.add(kubetwin_runtime::informer::key_of(
                    p.metadata.namespace.as_deref(),
                    &owner.name,
                ));
            }
        }));
        let queue = this.queue.clone();
        let sets = this.sets.clone();
        this.nodes.add_handler(Arc::new(move |_: &Event<Node>| {
            for key in sets.keys() {
                queue.add(key);
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
                    tracing::debug!(%key, error = %e, "daemonset sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    /// `syncDaemonSet`.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(ds) = self.sets.get(key) else {
            return Ok(());
        };
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(&ns)
            .into_iter()
            .filter(|p| controller_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect();
        let template = ds
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let hash = compute_hash(
            &template,
            ds.status.as_ref().and_then(|s| s.collision_count),
        );
        let nodes = self.nodes.list();
        let plan = plan_daemon(&ds, &nodes, &pods, &hash, self.time.now());
        let base = template_pod(&ds, &hash);
        for node in &plan.create {
            let mut pod = base.clone();
            if let Some(spec) = pod.spec.as_mut() {
                spec.affinity = Some(pin_to_node(spec.affinity.take(), node));
            }
            match self.client.create_typed(&pod).await {
                Ok(p) => {
                    let name = p.metadata.name.unwrap_or_default();
                    self.recorder
                        .event(
                            "apps/v1",
                            "DaemonSet",
                            &ds.metadata,
                            "Normal",
                            "SuccessfulCreate",
                            &format!("Created pod: {name}"),
                        )
                        .await;
                }
                Err(e) => {
                    self.recorder
                        .event(
                            "apps/v1",
                            "DaemonSet",
                            &ds.metadata,
                            "Warning",
                            "FailedCreate",
                            &format!("Error creating: {e}"),
                        )
                        .await;
                    return Err(e.into());
                }
            }
        }
        let info = resource_of::<Pod>()?;
        for name in &plan.delete {
            match self
                .client
                .delete(info, Some(&ns), name, &DeleteOptions::default())
                .await
            {
                Ok(_) => {
                    self.recorder
                        .event(
                            "apps/v1",
                            "DaemonSet",
                            &ds.metadata,
                            "Normal",
                            "SuccessfulDelete",
                            &format!("Deleted pod: {name}"),
                        )
                        .await;
                }
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        if ds.status.as_ref() != Some(&plan.status) {
            let mut next = ds.as_ref().clone();
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
    use k8s_openapi::api::core::v1::NodeSpec;

    fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec {
                taints: Some(
                    taints
                        .iter()
                        .map(|(k, e)| Taint {
                            key: (*k).into(),
                            effect: (*e).into(),
                            ..Taint::default()
                        })
                        .collect(),
                ),
                ..NodeSpec::default()
            }),
            status: None,
        }
    }

    /// Upstream: `toleration_test.go` `TestTolerationToleratesTaint`.
    #[test]
    fn toleration_cases() {
        let taint = Taint {
            key: "foo".into(),
            value: Some("bar".into()),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        let t =
            |key: Option<&str>, op: &str, value: Option<&str>, effect: Option<&str>| Toleration {
                key: key.map(Into::into),
                operator: Some(op.into()),
                value: value.map(Into::into),
                effect: effect.map(Into::into),
                ..Toleration::default()
            };
        let cases = vec![
            (
                "same key/value/effect",
                t(Some("foo"), "Equal", Some("bar"), Some("NoSchedule")),
                true,
            ),
            (
                "empty effect tolerates all",
                t(Some("foo"), "Equal", Some("bar"), None),
                true,
            ),
            (
                "different effect",
                t(Some("foo"), "Equal", Some("bar"), Some("NoExecute")),
                false,
            ),
            (
                "different value",
                t(Some("foo"), "Equal", Some("baz"), Some("NoSchedule")),
                false,
            ),
            (
                "exists with key",
                t(Some("foo"), "Exists", None, Some("NoSchedule")),
                true,
            ),
            ("exists without key", t(None, "Exists", None, None), true),
            (
                "different key",
                t(Some("other"), "Exists", None, None),
                false,
            ),
        ];
        for (name, tol, want) in cases {
            assert_eq!(tolerates(&tol, &taint), want, "{name}");
        }
    }

    fn ds(node_selector: &[(&str, &str)]) -> DaemonSet {
        let mut spec = k8s_openapi::api::apps::v1::DaemonSetSpec::default();
        spec.template.spec = Some(k8s_openapi::api::core::v1::PodSpec {
            node_selector: (!node_selector.is_empty()).then(|| {
                node_selector
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect()
            }),
            ..Default::default()
        });
        DaemonSet {
            metadata: ObjectMeta {
                name: Some("agent".into()),
                namespace: Some("kube-system".into()),
                uid: Some("ds-uid".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            spec: Some(spec),
            status: None,
        }
    }

    /// Upstream: `daemon_controller_test.go` — `TestSimpleDaemonSetLaunchesPods`,
    /// `TestNodeSelectorDaemonLaunchesPods`, `TestTaintedNodeDaemonDoesNotLaunchIntolerantPod`,
    /// `TestNotReadyNodeDaemonLaunchesPod` (not-ready NoExecute tolerated),
    /// `TestUnschedulableNodeDaemonLaunchesPod` (unschedulable tolerated),
    /// `TestNodeDaemonLaunchesToleratePod`. Each case: (name, node selector, nodes, creates).
    #[test]
    fn launch_cases() {
        let cases: Vec<(&str, Vec<(&str, &str)>, Vec<Node>, Vec<&str>)> = vec![
            (
                "simple: every node",
                vec![],
                vec![node("a", &[], &[]), node("b", &[], &[])],
                vec!["a", "b"],
            ),
            (
                "node selector",
                vec![("disk", "ssd")],
                vec![node("a", &[("disk", "ssd")], &[]), node("b", &[], &[])],
                vec!["a"],
            ),
            (
                "untolerated NoSchedule taint",
                vec![],
                vec![node("a", &[], &[("dedicated", "NoSchedule")])],
                vec![],
            ),
            (
                "untolerated NoExecute taint",
                vec![],
                vec![node("a", &[], &[("dedicated", "NoExecute")])],
                vec![],
            ),
            (
                "not-ready NoExecute tolerated",
                vec![],
                vec![node(
                    "a",
                    &[],
                    &[("node.kubernetes.io/not-ready", "NoExecute")],
                )],
                vec!["a"],
            ),
            (
                "unschedulable tolerated",
                vec![],
                vec![node(
                    "a",
                    &[],
                    &[("node.kubernetes.io/unschedulable", "NoSchedule")],
                )],
                vec!["a"],
            ),
            (
                "memory pressure tolerated",
                vec![],
                vec![node(
                    "a",
                    &[],
                    &[("node.kubernetes.io/memory-pressure", "NoSchedule")],
                )],
                vec!["a"],
            ),
        ];
        for (name, selector, nodes, creates) in cases {
            let d = ds(&selector);
            let nodes: Vec<Arc<Node>> = nodes.into_iter().map(Arc::new).collect();
            let plan = plan_daemon(&d, &nodes, &[], "h1", jiff::Timestamp::UNIX_EPOCH);
            assert_eq!(plan.create, creates, "{name}");
            assert_eq!(
                plan.status.desired_number_scheduled,
                i32::try_from(creates.len()).unwrap_or(0),
                "{name}"
            );
        }
    }

    /// Upstream: `daemonset_util_test.go` `TestReplaceDaemonSetPodNodeNameNodeAffinity`,
    /// `TestGetTargetNodeName`.
    #[test]
    fn affinity_pin_and_target() {
        let a = pin_to_node(None, "node-1");
        let mut pod = Pod {
            spec: Some(k8s_openapi::api::core::v1::PodSpec {
                affinity: Some(a),
                ..Default::default()
            }),
            ..Pod::default()
        };
        assert_eq!(target_node(&pod), Some("node-1".to_string()));
        let n = node("node-1", &[], &[]);
        assert!(node_matches(&pod, &n));
        assert!(!node_matches(&pod, &node("node-2", &[], &[])));
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = Some("node-3".into());
        }
        assert_eq!(target_node(&pod), Some("node-3".to_string()));
        let mut tolerations = Vec::new();
        add_daemon_tolerations(&mut tolerations, true);
        assert_eq!(tolerations.len(), 7);
    }
}
