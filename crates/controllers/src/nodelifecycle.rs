//! The node lifecycle controller (node health from status heartbeats and Leases, the
//! `not-ready`/`unreachable` taints) and the taint eviction controller (NoExecute taints
//! evict pods that do not tolerate them, after `tolerationSeconds`).
//!
//! Upstream: `pkg/controller/nodelifecycle/node_lifecycle_controller.go`
//! (`monitorNodeHealth` every 5 s, `tryUpdateNodeHealth`: the last probe is the newer of the
//! Ready condition's heartbeat and the Lease's renewTime; past the grace period (40 s) the
//! Ready, MemoryPressure, DiskPressure and PIDPressure conditions become Unknown with reason
//! `NodeStatusUnknown` / "Kubelet stopped posting node status." (or `NodeStatusNeverUpdated`);
//! `processTaintBaseEviction`: Ready False → `node.kubernetes.io/not-ready:NoExecute`, Unknown →
//! `node.kubernetes.io/unreachable:NoExecute`; `doNoScheduleTaintingPass`: the NoSchedule
//! variants, pressure conditions and `unschedulable`) and
//! `pkg/controller/util/node/controller_utils.go` (`MarkPodsNotReady`: when the controller turns
//! a Ready node not-Ready, every pod on it gets `Ready=False` so endpoints drop it at once, with
//! a `NodeNotReady` event on the node and on each pod; retried on the next pass after an error)
//! and `pkg/controller/tainteviction/taint_eviction.go` (`processPodOnNode`,
//! `getMinTolerationTime`, `addConditionAndDeletePod` with the `DisruptionTarget` condition,
//! reason `DeletionByTaintManager`).
//!
//! The monitor pass runs every 5 s as upstream's, but walks only the nodes whose health can
//! have changed: nodes changed since the last pass (informer events), nodes whose health
//! deadline (newest of the Ready heartbeat and the Lease renew time, plus the grace period)
//! has passed, nodes whose writes failed and nodes waiting for a retry. Renew times come from
//! the API server's heartbeat registry ([`kubetwin_apiserver::heartbeat`]): a kubelet renewing
//! implicitly keeps its node fresh without Lease writes; a stopped one writes its last renewal,
//! whose deadline then counts. The Ready heartbeat of an implicitly reporting kubelet (its
//! 5-minute node status report) comes from the same registry. Every other node would change nothing in the pass, so the
//! writes, events and their instants are those of a pass over every node.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kubetwin_apiserver::heartbeat::{Heartbeats, LEASE_NAMESPACE};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, meta_key};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};
use serde_json::json;

use crate::daemonset::tolerates;
use crate::util::{
    EventRecorder, POD_NODE_NAME_INDEX, SyncError, add_pod_node_name_index, is_not_found,
    now_seconds, update_typed,
};

/// `--node-monitor-grace-period`.
pub const NODE_MONITOR_GRACE_PERIOD: Duration = Duration::from_secs(40);
/// `--node-monitor-period`.
pub const NODE_MONITOR_PERIOD: Duration = Duration::from_secs(5);
/// `v1.TaintNodeNotReady`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// `v1.TaintNodeUnreachable`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

const WATCHED_CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// `tryUpdateNodeHealth`: the conditions to write when the node is past its grace period
/// (`None` when nothing changes).
pub fn stale_conditions(
    node: &Node,
    lease_renew: Option<Timestamp>,
    now: Timestamp,
    grace: Duration,
) -> Option<Vec<NodeCondition>> {
    let ready = condition(node, "Ready");
    let heartbeat = ready
        .and_then(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0)
        .or_else(|| node.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(now);
    let probe = lease_renew.map_or(heartbeat, |l| l.max(heartbeat));
    let deadline = probe
        .checked_add(jiff::SignedDuration::try_from(grace).ok()?)
        .ok()?;
    if now <= deadline {
        return None;
    }
    let mut conditions = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let mut changed = false;
    for type_ in WATCHED_CONDITIONS {
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(c) => {
                if c.status != "Unknown" {
                    c.status = "Unknown".into();
                    c.reason = Some("NodeStatusUnknown".into());
                    c.message = Some("Kubelet stopped posting node status.".into());
                    c.last_transition_time = Some(Time(now));
                    changed = true;
                }
            }
            None => {
                conditions.push(NodeCondition {
                    type_: type_.into(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_heartbeat_time: Some(Time(heartbeat)),
                    last_transition_time: Some(Time(now)),
                });
                changed = true;
            }
        }
    }
    changed.then_some(conditions)
}

/// `MarkPodsNotReady` for one pod (with `UpdatePodCondition`'s rule): the pod with its Ready
/// condition set to False and a new transition time, or `None` when it has no Ready condition or
/// it is already False (no write).
pub fn pod_marked_not_ready(pod: &Pod, now: Timestamp) -> Option<Pod> {
    let mut marked = pod.clone();
    let ready = marked
        .status
        .as_mut()?
        .conditions
        .as_mut()?
        .iter_mut()
        .find(|c| c.type_ == "Ready")?;
    if ready.status == "False" {
        return None;
    }
    ready.status = "False".into();
    ready.last_transition_time = Some(Time(now));
    Some(marked)
}

fn ready_status(node: &Node) -> &str {
    condition(node, "Ready").map_or("Unknown", |c| c.status.as_str())
}

fn taint(key: &str, effect: &str, now: Timestamp) -> Taint {
    Taint {
        key: key.into(),
        effect: effect.into(),
        value: None,
        time_added: (effect == "NoExecute").then_some(Time(now)),
    }
}

/// The taints the controller manages, from the node's conditions and `unschedulable`
/// (`processTaintBaseEviction` + `doNoScheduleTaintingPass`), merged into the node's other
/// taints; existing taints keep their `timeAdded`. `None` when unchanged.
pub fn desired_taints(node: &Node, now: Timestamp) -> Option<Vec<Taint>> {
    let status_of = |t: &str| condition(node, t).map(|c| c.status.as_str());
    let mut managed: Vec<(String, String)> = Vec::new();
    match status_of("Ready") {
        Some("False") => {
            managed.push((TAINT_NOT_READY.into(), "NoExecute".into()));
            managed.push((TAINT_NOT_READY.into(), "NoSchedule".into()));
        }
        Some("Unknown") => {
            managed.push((TAINT_UNREACHABLE.into(), "NoExecute".into()));
            managed.push((TAINT_UNREACHABLE.into(), "NoSchedule".into()));
        }
        _ => {}
    }
    for (cond, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        (
            "NetworkUnavailable",
            "node.kubernetes.io/network-unavailable",
        ),
    ] {
        if status_of(cond) == Some("True") {
            managed.push((key.into(), "NoSchedule".into()));
        }
    }
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        managed.push((
            "node.kubernetes.io/unschedulable".into(),
            "NoSchedule".into(),
        ));
    }
    let managed_keys = [
        TAINT_NOT_READY,
        TAINT_UNREACHABLE,
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/network-unavailable",
        "node.kubernetes.io/unschedulable",
    ];
    let current = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let mut next: Vec<Taint> = current
        .iter()
        .filter(|t| {
            !managed_keys.contains(&t.key.as_str())
                || managed.iter().any(|(k, e)| *k == t.key && *e == t.effect)
        })
        .cloned()
        .collect();
    for (k, e) in &managed {
        if !next.iter().any(|t| t.key == *k && t.effect == *e) {
            next.push(taint(k, e, now));
        }
    }
    (next != current).then_some(next)
}

/// `processPodOnNode`: when a pod on a node with these NoExecute taints must go —
/// `Some(now)` at once when a taint is not tolerated, `Some(t)` after the smallest
/// `tolerationSeconds` counted from the taints' `timeAdded`, `None` never.
pub fn eviction_time(pod: &Pod, taints: &[Taint], now: Timestamp) -> Option<Timestamp> {
    let taints: Vec<&Taint> = taints.iter().filter(|t| t.effect == "NoExecute").collect();
    if taints.is_empty() {
        return None;
    }
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let mut earliest: Option<Timestamp> = None;
    for t in &taints {
        let matching: Vec<_> = tolerations.iter().filter(|tol| tolerates(tol, t)).collect();
        if matching.is_empty() {
            return Some(now);
        }
        // `getMinTolerationTime`: no tolerationSeconds means forever; negative means now.
        let Some(secs) = matching
            .iter()
            .filter_map(|tol| tol.toleration_seconds)
            .min()
        else {
            continue;
        };
        let since = t.time_added.as_ref().map_or(now, |a| a.0);
        let at = since
            .checked_add(jiff::SignedDuration::from_secs(secs.max(0)))
            .unwrap_or(since);
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    earliest
}

/// When a node's health can next change without any event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    /// Not before an event (its kubelet's renewal schedule never lapses, or it has no
    /// heartbeat at all).
    Never,
    /// Its renewal schedule has gaps longer than the grace period: look at every pass.
    EveryPass,
    /// Stale once the pass time is after this instant.
    After(Timestamp),
}

/// Which nodes the next monitor pass must walk.
#[derive(Debug, Default)]
struct Tracker {
    /// Changed since the last pass, or a write failed: walk them.
    dirty: BTreeSet<String>,
    /// Their Lease changed: compute their deadline again.
    recompute: BTreeSet<String>,
    /// Health deadlines in time order.
    deadlines: BTreeSet<(Timestamp, String)>,
    deadline_of: BTreeMap<String, Timestamp>,
    every_pass: BTreeSet<String>,
    /// The heartbeat registry's generation the deadlines were computed at.
    generation: Option<u64>,
}

impl Tracker {
    fn clear_deadline(&mut self, name: &str) {
        if let Some(at) = self.deadline_of.remove(name) {
            self.deadlines.remove(&(at, name.to_string()));
        }
        self.every_pass.remove(name);
    }

    fn set_deadline(&mut self, name: &str, deadline: Deadline) {
        self.clear_deadline(name);
        match deadline {
            Deadline::Never => {}
            Deadline::EveryPass => {
                self.every_pass.insert(name.to_string());
            }
            Deadline::After(at) => {
                self.deadline_of.insert(name.to_string(), at);
                self.deadlines.insert((at, name.to_string()));
            }
        }
    }

    fn forget(&mut self, name: &str) {
        self.clear_deadline(name);
        self.dirty.remove(name);
        self.recompute.remove(name);
    }
}

/// The node lifecycle controller.
#[derive(Debug, Clone)]
pub struct NodeLifecycleController {
    client: LocalClient,
    time: SimTime,
    nodes: Informer<Node>,
    leases: Informer<Lease>,
    /// Pods, indexed by node (`getPodsAssignedToNode`).
    pods: Informer<Pod>,
    heartbeats: Arc<Heartbeats>,
    grace: Duration,
    recorder: EventRecorder,
    /// Nodes whose pods could not all be marked not-ready (`nodesToRetry`).
    retry: Arc<Mutex<BTreeSet<String>>>,
    tracker: Arc<Mutex<Tracker>>,
}

impl NodeLifecycleController {
    /// A controller over shared informers with the default 40 s grace period.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        nodes: Informer<Node>,
        leases: Informer<Lease>,
        pods: Informer<Pod>,
    ) -> Self {
        add_pod_node_name_index(&pods);
        let tracker: Arc<Mutex<Tracker>> = Arc::default();
        let node_changes = Arc::clone(&tracker);
        nodes.add_handler(Arc::new(move |e: &Event<Node>| {
            let mut tracker = node_changes.lock().unwrap_or_else(|e| e.into_inner());
            match e {
                Event::Added(n) | Event::Updated { new: n, .. } => {
                    tracker
                        .dirty
                        .insert(n.metadata.name.clone().unwrap_or_default());
                }
                Event::Deleted(n) => tracker.forget(n.metadata.name.as_deref().unwrap_or("")),
            }
        }));
        let lease_changes = Arc::clone(&tracker);
        leases.add_handler(Arc::new(move |e: &Event<Lease>| {
            let lease = match e {
                Event::Added(l) | Event::Updated { new: l, .. } | Event::Deleted(l) => l,
            };
            if lease.metadata.namespace.as_deref() == Some(LEASE_NAMESPACE) {
                lease_changes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .recompute
                    .insert(lease.metadata.name.clone().unwrap_or_default());
            }
        }));
        Self {
            recorder: EventRecorder::new(client.clone(), "node-controller", time.clone()),
            heartbeats: Arc::clone(&client.server().heartbeats),
            client,
            time,
            nodes,
            leases,
            pods,
            grace: NODE_MONITOR_GRACE_PERIOD,
            retry: Arc::default(),
            tracker,
        }
    }

    /// Monitors node health every 5 s, for as long as the process runs (upstream:
    /// `wait.UntilWithContext(monitorNodeHealth, nodeMonitorPeriod)`).
    pub async fn run(self) {
        loop {
            self.time.sleep(NODE_MONITOR_PERIOD).await;
            if let Err(e) = self.monitor().await {
                tracing::debug!(error = %e, "node health pass failed");
            }
        }
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The newest heartbeat of the node that its informer copy may not show: the renew time
    /// of its Lease as a reader sees it at `now` (the stored one, or the latest scheduled
    /// renewal of an implicitly renewing kubelet), or the latest implicit node status report
    /// when newer (the Ready condition's `lastHeartbeatTime` that a read of the Node shows;
    /// `tryUpdateNodeHealth` probes with the newer of the two).
    fn lease_renew(&self, name: &str, now: Timestamp) -> Option<Timestamp> {
        let stored = self
            .leases
            .get_named(Some(LEASE_NAMESPACE), name)
            .and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| t.0));
        let renew = self.heartbeats.lease_renew_time(name, stored, now);
        let report = self.heartbeats.node_heartbeat(name, None, now);
        match (renew, report) {
            (Some(r), Some(h)) => Some(r.max(h)),
            (r, h) => r.or(h),
        }
    }

    /// When `node` turns stale if nothing else happens (`tryUpdateNodeHealth`'s probe time
    /// plus the grace period).
    fn deadline(&self, node: &Node, now: Timestamp) -> Deadline {
        let name = node.metadata.name.as_deref().unwrap_or("");
        match self.heartbeats.never_lapses(name, self.grace) {
            Some(true) => return Deadline::Never,
            Some(false) => return Deadline::EveryPass,
            None => {}
        }
        let heartbeat = condition(node, "Ready")
            .and_then(|c| c.last_heartbeat_time.as_ref())
            .map(|t| t.0)
            .or_else(|| node.metadata.creation_timestamp.as_ref().map(|t| t.0));
        // Without a heartbeat `stale_conditions` probes at "now": never stale.
        let Some(heartbeat) = heartbeat else {
            return Deadline::Never;
        };
        let probe = self
            .lease_renew(name, now)
            .map_or(heartbeat, |l| l.max(heartbeat));
        match jiff::SignedDuration::try_from(self.grace)
            .ok()
            .and_then(|g| probe.checked_add(g).ok())
        {
            Some(at) => Deadline::After(at),
            None => Deadline::Never,
        }
    }

    /// The nodes this pass must walk, in name order, taken out of the tracker.
    fn nodes_to_walk(&self, now: Timestamp) -> Vec<Arc<Node>> {
        let generation = self.heartbeats.generation();
        let retry: Vec<String> = self.retry_set().iter().cloned().collect();
        let mut tracker = self.tracker();
        if tracker.generation != Some(generation) {
            // A renewal schedule started or ended: every deadline may have moved.
            tracker.generation = Some(generation);
            tracker.recompute.extend(self.nodes.keys());
        }
        for name in std::mem::take(&mut tracker.recompute) {
            if tracker.dirty.contains(&name) {
                continue;
            }
            let Some(node) = self.nodes.get_named(None, &name) else {
                tracker.forget(&name);
                continue;
            };
            match self.deadline(&node, now) {
                Deadline::After(at) if now > at => {
                    tracker.clear_deadline(&name);
                    tracker.dirty.insert(name);
                }
                deadline => tracker.set_deadline(&name, deadline),
            }
        }
        while let Some((at, name)) = tracker.deadlines.first().cloned() {
            if now <= at {
                break;
            }
            tracker.clear_deadline(&name);
            tracker.dirty.insert(name);
        }
        let every_pass: Vec<String> = tracker.every_pass.iter().cloned().collect();
        tracker.dirty.extend(every_pass);
        tracker.dirty.extend(retry);
        std::mem::take(&mut tracker.dirty)
            .into_iter()
            .filter_map(|name| self.nodes.get_named(None, &name))
            .collect()
    }

    /// Walk `name` again at the next pass (a write failed).
    fn walk_again(&self, name: &str) {
        self.tracker().dirty.insert(name.to_string());
    }

    /// One `monitorNodeHealth` pass, in name order, over the nodes whose health can have
    /// changed since the last one (the others would change nothing).
    pub async fn monitor(&self) -> Result<(), SyncError> {
        let now = now_seconds(&self.time);
        let info = resource_of::<Node>()?;
        for node in self.nodes_to_walk(now) {
            let name = node.metadata.name.clone().unwrap_or_default();
            let lease_renew = self.lease_renew(&name, now);
            let observed_ready = ready_status(&node).to_string();
            // Most passes change nothing: copy the node only to write it.
            let mut written: Option<Node> = None;
            if let Some(conditions) = stale_conditions(&node, lease_renew, now, self.grace) {
                let mut current = node.as_ref().clone();
                if let Some(status) = current.status.as_mut() {
                    status.conditions = Some(conditions);
                } else {
                    current.status = Some(k8s_openapi::api::core::v1::NodeStatus {
                        conditions: Some(conditions),
                        ..Default::default()
                    });
                }
                written = match update_typed(&self.client, &current, "status").await {
                    Ok(n) => Some(n),
                    Err(e) => {
                        tracing::debug!(node = %name, error = %e, "node status update failed");
                        self.walk_again(&name);
                        continue;
                    }
                };
            }
            let current: &Node = written.as_ref().unwrap_or(&node);
            match self.deadline(current, now) {
                // Stale and handled now: nothing more until an event.
                Deadline::After(at) if now > at => self.tracker().clear_deadline(&name),
                deadline => self.tracker().set_deadline(&name, deadline),
            }
            if let Some(taints) = desired_taints(current, now) {
                let patch = json!({"spec": {"taints": taints}});
                if let Err(e) = self
                    .client
                    .merge_patch_shared(info, None, &name, "", &patch)
                    .await
                {
                    tracing::debug!(node = %name, error = %e, "node taint update failed");
                    self.walk_again(&name);
                }
            }
            let became_not_ready = observed_ready == "True" && ready_status(current) != "True";
            let needs_retry = self.retry_set().contains(&name);
            if became_not_ready {
                // `RecordNodeStatusChange`: upstream's reference names the node by its name as UID.
                let mut meta = current.metadata.clone();
                meta.uid = Some(name.clone());
                self.recorder
                    .event(
                        "v1",
                        "Node",
                        &meta,
                        "Normal",
                        "NodeNotReady",
                        &format!("Node {name} status is now: NodeNotReady"),
                    )
                    .await;
            }
            if became_not_ready || (needs_retry && observed_ready != "True") {
                if self.mark_pods_not_ready(&name, now).await {
                    self.retry_set().remove(&name);
                } else {
                    self.retry_set().insert(name);
                }
            } else {
                self.retry_set().remove(&name);
            }
        }
        Ok(())
    }

    fn retry_set(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.retry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `MarkPodsNotReady` over the pods bound to `node`; false when a write failed (retry).
    async fn mark_pods_not_ready(&self, node: &str, now: Timestamp) -> bool {
        // From the pod informer's node index, as upstream (`getPodsAssignedToNode`): a LIST per
        // node decoded every pod of the cluster for each node of a failed zone.
        let mut all_marked = true;
        for pod in self.pods.by_index(POD_NODE_NAME_INDEX, node) {
            let Some(marked) = pod_marked_not_ready(&pod, now) else {
                continue;
            };
            match update_typed(&self.client, &marked, "status").await {
                Ok(_) => {
                    self.recorder
                        .event(
                            "v1",
                            "Pod",
                            &pod.metadata,
                            "Warning",
                            "NodeNotReady",
                            "Node is not ready",
                        )
                        .await;
                }
                Err(e) if is_not_found(&e) => {}
                Err(e) => {
                    tracing::debug!(node, error = %e, "marking a pod not ready failed");
                    all_marked = false;
                }
            }
        }
        all_marked
    }
}

/// The taint eviction controller.
#[derive(Debug, Clone)]
pub struct TaintEvictionController {
    client: LocalClient,
    time: SimTime,
    nodes: Informer<Node>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

impl TaintEvictionController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        nodes: Informer<Node>,
        pods: Informer<Pod>,
    ) -> Self {
        add_pod_node_name_index(&pods);
        let this = Self {
            recorder: EventRecorder::new(client.clone(), "taint-eviction-controller", time.clone()),
            client,
            time: time.clone(),
            nodes,
            pods,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            if let Event::Added(p) | Event::Updated { new: p, .. } = e
                && p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .is_some_and(|n| !n.is_empty())
            {
                queue.add(meta_key(&p.metadata));
            }
        }));
        let queue = this.queue.clone();
        let pods = this.pods.clone();
        this.nodes.add_handler(Arc::new(move |e: &Event<Node>| {
            let node = match e {
                Event::Added(n) | Event::Updated { new: n, .. } => n,
                Event::Deleted(_) => return,
            };
            let has_no_execute = node
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_deref())
                .unwrap_or(&[])
                .iter()
                .any(|t| t.effect == "NoExecute");
            if !has_no_execute {
                return;
            }
            let name = node.metadata.name.as_deref().unwrap_or("");
            for pod in pods.by_index(POD_NODE_NAME_INDEX, name) {
                queue.add(meta_key(&pod.metadata));
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
                    tracing::debug!(%key, error = %e, "taint eviction failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    /// Evicts the pod now, or looks again when its tolerations run out.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(pod) = self.pods.get(key) else {
            return Ok(());
        };
        if pod.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let Some(node_name) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            return Ok(());
        };
        let Some(node) = self.nodes.get_named(None, &node_name) else {
            return Ok(());
        };
        let taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let now = self.time.now();
        let Some(at) = eviction_time(&pod, &taints, now) else {
            return Ok(());
        };
        if at > now {
            let wait = Duration::try_from(at.duration_since(now)).unwrap_or_default();
            self.queue.add_after(key.to_string(), wait);
            return Ok(());
        }
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.recorder
            .event(
                "v1",
                "Pod",
                &pod.metadata,
                "Normal",
                "TaintManagerEviction",
                &format!("Marking for deletion Pod {ns}/{name}"),
            )
            .await;
        let info = resource_of::<Pod>()?;
        let stamp = kubetwin_core::clock::format_time(now_seconds(&self.time));
        let mut conditions: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        for c in pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default()
        {
            conditions.insert(c.type_.clone(), serde_json::to_value(&c)?);
        }
        conditions.insert(
            "DisruptionTarget".into(),
            json!({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                   "message": "Taint manager: deleting due to NoExecute taint", "lastTransitionTime": stamp}),
        );
        let patch = json!({"status": {"conditions": conditions.into_values().collect::<Vec<_>>()}});
        let _ = self
            .client
            .merge_patch_shared(info, Some(&ns), &name, "status", &patch)
            .await;
        match self
            .client
            .delete(info, Some(&ns), &name, &DeleteOptions::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSpec, NodeStatus, PodSpec, Toleration};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn node(ready: Option<(&str, i64)>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                creation_timestamp: Some(Time(at(0))),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                conditions: ready.map(|(status, hb)| {
                    vec![NodeCondition {
                        type_: "Ready".into(),
                        status: status.into(),
                        last_heartbeat_time: Some(Time(at(hb))),
                        ..NodeCondition::default()
                    }]
                }),
                ..NodeStatus::default()
            }),
        }
    }

    /// Upstream: `controller_utils_test.go` / `node_lifecycle_controller_test.go`
    /// `TestMonitorNodeHealthMarkPodsNotReady*` and `pod/util.go` `UpdatePodCondition`: only a
    /// Ready condition that is not already False is rewritten, with a new transition time.
    /// Each case: (name, Ready status or none, expected write).
    #[test]
    fn mark_pod_not_ready_cases() {
        use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
        let cases: Vec<(&str, Option<&str>, bool)> = vec![
            ("ready pod is marked", Some("True"), true),
            ("unknown readiness is marked", Some("Unknown"), true),
            ("already not ready: no write", Some("False"), false),
            ("no Ready condition: no write", None, false),
        ];
        for (name, ready, expect_write) in cases {
            let pod = Pod {
                status: Some(PodStatus {
                    conditions: Some(
                        ready
                            .map(|s| PodCondition {
                                type_: "Ready".into(),
                                status: s.into(),
                                last_transition_time: Some(Time(at(0))),
                                ..PodCondition::default()
                            })
                            .into_iter()
                            .collect(),
                    ),
                    ..PodStatus::default()
                }),
                ..Pod::default()
            };
            let marked = pod_marked_not_ready(&pod, at(50));
            assert_eq!(marked.is_some(), expect_write, "{name}");
            if let Some(marked) = marked {
                let c = marked.status.and_then(|s| s.conditions).unwrap_or_default();
                assert_eq!(c[0].status, "False", "{name}");
                assert_eq!(c[0].last_transition_time, Some(Time(at(50))), "{name}");
            }
        }
    }

    /// Upstream: `node_lifecycle_controller_test.go` `TestMonitorNodeHealthUpdateStatus` —
    /// within the grace period nothing changes; past it Ready becomes Unknown with
    /// `NodeStatusUnknown`; a node that never posted gets `NodeStatusNeverUpdated`; a fresh
    /// Lease keeps the node healthy (`TestMonitorNodeHealthUpdateNodeAndPodStatusWithLease`).
    /// Each case: (name, ready (status, heartbeat), lease renew, now, expected Ready (status, reason)).
    #[test]
    fn node_health_cases() {
        let cases: Vec<(
            &str,
            Option<(&str, i64)>,
            Option<i64>,
            i64,
            Option<(&str, &str)>,
        )> = vec![
            ("within grace", Some(("True", 0)), None, 40, None),
            (
                "past grace",
                Some(("True", 0)),
                None,
                41,
                Some(("Unknown", "NodeStatusUnknown")),
            ),
            (
                "never posted",
                None,
                None,
                41,
                Some(("Unknown", "NodeStatusNeverUpdated")),
            ),
            ("fresh lease", Some(("True", 0)), Some(30), 60, None),
            (
                "stale lease",
                Some(("True", 0)),
                Some(10),
                60,
                Some(("Unknown", "NodeStatusUnknown")),
            ),
        ];
        for (name, ready, lease, now, want) in cases {
            let n = node(ready);
            let got = stale_conditions(&n, lease.map(at), at(now), NODE_MONITOR_GRACE_PERIOD);
            let ready = got
                .as_ref()
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready").cloned());
            let got = ready.map(|c| (c.status, c.reason.unwrap_or_default()));
            assert_eq!(
                got,
                want.map(|(s, r)| (s.to_string(), r.to_string())),
                "{name}"
            );
        }
        // Already Unknown: no rewrite.
        let mut n = node(Some(("Unknown", 0)));
        if let Some(s) = n.status.as_mut() {
            for t in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
                s.conditions
                    .get_or_insert_with(Vec::new)
                    .push(NodeCondition {
                        type_: t.into(),
                        status: "Unknown".into(),
                        ..NodeCondition::default()
                    });
            }
        }
        assert!(stale_conditions(&n, None, at(100), NODE_MONITOR_GRACE_PERIOD).is_none());
    }

    /// The monitor pass's bookkeeping: a node has at most one deadline; a later one replaces
    /// it; `Never` and `forget` clear it; deadlines come out in time order. Each case:
    /// (name, deadlines set in order, expected (time, node) queue).
    #[test]
    fn tracker_keeps_one_deadline_per_node_in_time_order() {
        let cases: Vec<(&str, Vec<(&str, Deadline)>, Vec<(i64, &str)>)> = vec![
            (
                "time order",
                vec![
                    ("n1", Deadline::After(at(50))),
                    ("n2", Deadline::After(at(45))),
                ],
                vec![(45, "n2"), (50, "n1")],
            ),
            (
                "a new deadline replaces the old",
                vec![
                    ("n1", Deadline::After(at(50))),
                    ("n1", Deadline::After(at(90))),
                ],
                vec![(90, "n1")],
            ),
            (
                "never clears",
                vec![("n1", Deadline::After(at(50))), ("n1", Deadline::Never)],
                vec![],
            ),
            (
                "every pass is not a deadline",
                vec![("n1", Deadline::EveryPass)],
                vec![],
            ),
        ];
        for (name, steps, want) in cases {
            let mut tracker = Tracker::default();
            for (node, deadline) in steps {
                tracker.set_deadline(node, deadline);
            }
            let got: Vec<(Timestamp, String)> = tracker.deadlines.iter().cloned().collect();
            let want: Vec<(Timestamp, String)> = want
                .into_iter()
                .map(|(t, n)| (at(t), n.to_string()))
                .collect();
            assert_eq!(got, want, "{name}");
            assert_eq!(tracker.deadline_of.len(), got.len(), "{name}");
        }
        let mut tracker = Tracker::default();
        tracker.set_deadline("n1", Deadline::EveryPass);
        tracker.dirty.insert("n1".into());
        tracker.forget("n1");
        assert!(tracker.every_pass.is_empty() && tracker.dirty.is_empty());
    }

    /// Upstream: `TestApplyNoExecuteTaints` / `TestTaintsNodeByCondition`.
    #[test]
    fn taint_cases() {
        let keys = |n: &Node| -> Vec<String> {
            desired_taints(n, at(0))
                .unwrap_or_default()
                .iter()
                .map(|t| format!("{}:{}", t.key, t.effect))
                .collect()
        };
        assert_eq!(
            keys(&node(Some(("False", 0)))),
            vec![
                "node.kubernetes.io/not-ready:NoExecute",
                "node.kubernetes.io/not-ready:NoSchedule"
            ]
        );
        assert_eq!(
            keys(&node(Some(("Unknown", 0)))),
            vec![
                "node.kubernetes.io/unreachable:NoExecute",
                "node.kubernetes.io/unreachable:NoSchedule"
            ]
        );
        assert!(desired_taints(&node(Some(("True", 0))), at(0)).is_none());
        // Recovery removes managed taints but keeps foreign ones.
        let mut n = node(Some(("True", 0)));
        if let Some(spec) = n.spec.as_mut() {
            spec.taints = Some(vec![
                taint(TAINT_UNREACHABLE, "NoExecute", at(0)),
                Taint {
                    key: "dedicated".into(),
                    effect: "NoSchedule".into(),
                    ..Taint::default()
                },
            ]);
            spec.unschedulable = Some(true);
        }
        let next = desired_taints(&n, at(0)).unwrap_or_default();
        let got: Vec<String> = next
            .iter()
            .map(|t| format!("{}:{}", t.key, t.effect))
            .collect();
        assert_eq!(
            got,
            vec![
                "dedicated:NoSchedule",
                "node.kubernetes.io/unschedulable:NoSchedule"
            ]
        );
    }

    /// Upstream: `taint_eviction_test.go` `TestCreatePod` / `TestUpdateNodeWithMultipleTaints`
    /// / `TestGetMinTolerationTime`: untolerated → now, tolerated with seconds → after the
    /// minimum, tolerated without seconds → never.
    #[test]
    fn eviction_cases() {
        let taints = vec![taint(TAINT_UNREACHABLE, "NoExecute", at(0))];
        let pod = |tolerations: Vec<Toleration>| Pod {
            spec: Some(PodSpec {
                tolerations: Some(tolerations),
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        let tol = |secs: Option<i64>| Toleration {
            key: Some(TAINT_UNREACHABLE.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: secs,
            ..Toleration::default()
        };
        let cases: Vec<(&str, Pod, Option<Timestamp>)> = vec![
            ("not tolerated", pod(vec![]), Some(at(10))),
            ("tolerated 300 s", pod(vec![tol(Some(300))]), Some(at(300))),
            (
                "minimum of two",
                pod(vec![tol(Some(300)), tol(Some(30))]),
                Some(at(30)),
            ),
            ("tolerated forever", pod(vec![tol(None)]), None),
        ];
        for (name, p, want) in cases {
            assert_eq!(eviction_time(&p, &taints, at(10)), want, "{name}");
        }
        assert_eq!(eviction_time(&pod(vec![]), &[], at(10)), None);
    }
}
