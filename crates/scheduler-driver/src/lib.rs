//! The API-connected scheduler: the `kubetwin-scheduler` library driven by watches of nodes and
//! pods through the in-process API client, as kube-scheduler's event handlers and scheduling
//! loop drive its framework.
//!
//! Upstream: `pkg/scheduler/eventhandlers.go` (which pods and nodes enter the cache or the
//! queue), `pkg/scheduler/schedule_one.go` (`scheduleOne`: assume, bind through `pods/binding`,
//! `handleSchedulingFailure`: the `FailedScheduling` event, the `PodScheduled=False` condition,
//! `nominatedNodeName`), `pkg/scheduler/framework/preemption/preemption.go` (victims are deleted).
//!
//! One task owns the snapshot and the queue; it drains every pending watch event before each
//! scheduling cycle, so under virtual time the same inputs give the same decisions.
//!
//! Each decision's explanation is kept in memory ([`Explanations`]) for `kubetwin explain pod`.

pub mod explain;
pub mod objects;
pub mod volumes;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_apiserver::error::ApiError;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::watch::{SharedObject, WatchEvent};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::{Clock, format_time};
use kubetwin_runtime::SimTime;
use kubetwin_scheduler::config::SchedulerConfiguration;
use kubetwin_scheduler::framework::QueuedPodInfo;
use kubetwin_scheduler::queue::{QueueLocation, SchedulingQueue};
use kubetwin_scheduler::schedule::{CycleOutcome, Scheduler};
use kubetwin_scheduler::status::Code;
use kubetwin_scheduler::types::{NodeData, PodInfo};
use serde_json::json;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{Receiver, UnboundedReceiver, UnboundedSender};

pub use explain::{Decision, Explanations};

/// The scheduler name whose pods this scheduler places.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// The API-connected scheduler.
#[derive(Debug)]
pub struct SchedulerDriver {
    client: LocalClient,
    time: SimTime,
    scheduler: Scheduler,
    queue: SchedulingQueue,
    /// Bound pods in the snapshot, by `namespace/name`.
    bound: BTreeMap<String, Arc<PodInfo>>,
    /// The last decision per pod, for `kubetwin explain pod`.
    explanations: Explanations,
    /// Per node, what a node update must change to requeue unschedulable pods.
    node_properties: BTreeMap<String, NodeProperties>,
    /// Whether bindings run in tasks of their own (see [`SchedulerDriver::bind`]); set by
    /// [`SchedulerDriver::run`] from its runtime.
    bind_in_tasks: bool,
    /// Where those tasks report failed bindings, and where the loop reads them.
    bind_failure_sender: UnboundedSender<BindFailure>,
    bind_failure_receiver: UnboundedReceiver<BindFailure>,
}

/// A binding that failed after the scheduler moved on: the pod as assumed and the error.
#[derive(Debug)]
struct BindFailure {
    queued: QueuedPodInfo,
    assumed: Arc<PodInfo>,
    error: ApiError,
}

/// What upstream compares to decide whether a node update can make pods schedulable
/// (`pkg/scheduler/framework/events.go` `NodeSchedulingPropertiesChange`: unschedulable,
/// allocatable, labels, taints, condition statuses, annotations). An update that changes none of
/// them (a kubelet's heartbeat) requeues nothing (`eventhandlers.go` `updateNodeInCache`).
#[derive(Debug, PartialEq)]
struct NodeProperties {
    unschedulable: bool,
    allocatable: Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    labels: Option<BTreeMap<String, String>>,
    taints: Option<Vec<k8s_openapi::api::core::v1::Taint>>,
    /// Condition type → status (`extractNodeConditionsChange` strips the rest).
    conditions: BTreeMap<String, String>,
    annotations: Option<BTreeMap<String, String>>,
}

impl NodeProperties {
    fn of(node: &Node) -> Self {
        let spec = node.spec.as_ref();
        let status = node.status.as_ref();
        Self {
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            allocatable: status.and_then(|s| s.allocatable.clone()),
            labels: node.metadata.labels.clone(),
            taints: spec.and_then(|s| s.taints.clone()),
            conditions: status
                .and_then(|s| s.conditions.as_ref())
                .map(|conditions| {
                    conditions
                        .iter()
                        .map(|c| (c.type_.clone(), c.status.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            annotations: node.metadata.annotations.clone(),
        }
    }
}

fn pod_key(pod: &Pod) -> String {
    kubetwin_scheduler::types::pod_key(
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or(""),
    )
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// The scheduler's view of one pod version (`None`: the pod does not parse as the scheduler
/// needs it), made once per change and shared: the API server's offload thread makes it
/// ahead of the scheduler, as it decodes the pod (about 3 % of a scenario's main thread).
struct PodView(Option<Arc<PodInfo>>);

fn pod_view(object: &SharedObject) -> PodView {
    PodView(
        object
            .typed::<Pod>()
            .ok()
            .and_then(|pod| PodInfo::from_arc(pod).ok())
            .map(Arc::new),
    )
}

impl SchedulerDriver {
    /// A scheduler with the default profile (KubeSchedulerConfiguration v1 defaults).
    pub fn new(client: LocalClient, time: SimTime, seed: u64) -> Result<Self, String> {
        kubetwin_apiserver::offload::derive_from_pods(|pod| {
            pod.derived(pod_view);
        });
        let frameworks = SchedulerConfiguration::default()
            .build_frameworks()
            .map_err(|e| e.to_string())?;
        let mut scheduler = Scheduler::new(frameworks, seed);
        let (bind_failure_sender, bind_failure_receiver) = tokio::sync::mpsc::unbounded_channel();
        // Thousands of kept decisions: count the unexamined nodes, do not name them.
        scheduler.explain_count_only_unevaluated = true;
        Ok(Self {
            client,
            time,
            scheduler,
            // Upstream defaults: podInitialBackoffSeconds 1, podMaxBackoffSeconds 10.
            queue: SchedulingQueue::new(1, 10),
            bound: BTreeMap::new(),
            explanations: Explanations::default(),
            node_properties: BTreeMap::new(),
            bind_in_tasks: false,
            bind_failure_sender,
            bind_failure_receiver,
        })
    }

    /// The store of last decisions, shared with whoever serves `explain` requests.
    pub fn explanations(&self) -> Explanations {
        self.explanations.clone()
    }

    fn now_nanos(&self) -> i128 {
        self.time.now().as_nanosecond()
    }

    /// Runs until the watches end.
    pub async fn run(mut self) {
        let (Ok(nodes), Ok(pods)) = (resource_of::<Node>(), resource_of::<Pod>()) else {
            return;
        };
        self.bind_in_tasks = tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread;
        let (Ok(mut node_events), Ok(mut pod_events)) = (
            self.client.watch(nodes, None, 0, None, None),
            self.client.watch(pods, None, 0, None, None),
        ) else {
            tracing::error!("scheduler: cannot watch nodes and pods");
            return;
        };
        let mut object_events = objects::watch_all(&self.client);
        loop {
            // Everything already observed goes into the cache before the next cycle.
            while let Ok((kind, event)) = object_events.try_recv() {
                self.on_object(kind, event);
            }
            if !drain(&mut node_events, |e| self.on_node(e))
                || !drain(&mut pod_events, |e| self.on_pod(e))
            {
                return;
            }
            while let Ok(failure) = self.bind_failure_receiver.try_recv() {
                self.on_bind_failure(failure);
            }
            let now = self.now_nanos();
            self.queue.flush_backoff_completed(now);
            if let Some(queued) = self.queue.pop() {
                self.schedule(queued).await;
                continue;
            }
            let wake = self.queue.next_backoff_expiry();
            let time = self.time.clone();
            tokio::select! {
                biased;
                event = node_events.recv() => match event {
                    Some(e) => self.on_node(e),
                    None => return,
                },
                event = pod_events.recv() => match event {
                    Some(e) => self.on_pod(e),
                    None => return,
                },
                Some((kind, event)) = object_events.recv() => self.on_object(kind, event),
                Some(failure) = self.bind_failure_receiver.recv() => self.on_bind_failure(failure),
                _ = async move {
                    match wake {
                        Some(at) => {
                            let at = jiff::Timestamp::from_nanosecond(at).unwrap_or(jiff::Timestamp::MAX);
                            time.sleep_until(at).await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
        }
    }

    fn on_object(&mut self, kind: objects::ObjectKind, event: WatchEvent) {
        objects::apply(&mut self.scheduler.objects, kind, event);
        if kind.requeues_pods() {
            let now = self.now_nanos();
            self.queue.move_unschedulable(now, |_| true);
        }
    }

    fn on_node(&mut self, event: WatchEvent) {
        // Shared with the other receivers of the change, and kept so by the snapshot.
        let Ok(node) = event.object.typed::<Node>() else {
            return;
        };
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut changed = true;
        if event.event_type == "DELETED" {
            self.node_properties.remove(&name);
            let _ = self.scheduler.snapshot.remove_node(&name);
        } else {
            let properties = NodeProperties::of(&node);
            changed = self.node_properties.get(&name) != Some(&properties);
            self.node_properties.insert(name.clone(), properties);
            let known = self.scheduler.snapshot.get(&name).is_some();
            match NodeData::new(node) {
                // An update keeps the node's pods and its place in the list (cache.UpdateNode).
                Ok(data) => match self.scheduler.snapshot.update_node(data) {
                    Ok(()) if !known => {
                        // A node (re)appears: the pods bound to it come back with it.
                        let pods_on_node: Vec<Arc<PodInfo>> = self
                            .bound
                            .values()
                            .filter(|p| p.node_name == name)
                            .cloned()
                            .collect();
                        for p in pods_on_node {
                            let _ = self.scheduler.snapshot.add_pod(p);
                        }
                    }
                    Ok(()) => {}
                    Err(e) => {
                        tracing::warn!(node = %name, error = %e, "scheduler: cannot cache node");
                    }
                },
                Err(e) => tracing::warn!(node = %name, error = %e, "scheduler: cannot read node"),
            }
        }
        // A node change may make unschedulable pods fit (upstream: NodeAdd/NodeUpdate events).
        if changed {
            let now = self.now_nanos();
            self.queue.move_unschedulable(now, |_| true);
        }
    }

    fn on_pod(&mut self, event: WatchEvent) {
        // Shared with the other receivers of the change (the pod informer, the kubelet).
        let Ok(pod) = event.object.typed::<Pod>() else {
            return;
        };
        let key = pod_key(&pod);
        let now = self.now_nanos();
        if let Some(old) = self.bound.remove(&key) {
            let _ = self.scheduler.snapshot.remove_pod(&old.key);
        }
        if event.event_type == "DELETED" {
            self.explanations.forget(&key);
            self.queue.delete(&key);
            self.queue.move_unschedulable(now, |_| true);
            return;
        }
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        if node_name.is_some() {
            self.queue.delete(&key);
            if is_terminal(&pod) {
                self.queue.move_unschedulable(now, |_| true);
                return;
            }
            if let Some(info) = event.object.derived(pod_view).0.clone()
                && self.scheduler.snapshot.add_pod(info.clone()).is_ok()
            {
                self.bound.insert(key, info);
            }
            return;
        }
        let ours = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or(DEFAULT_SCHEDULER_NAME)
            == DEFAULT_SCHEDULER_NAME;
        if !ours || pod.metadata.deletion_timestamp.is_some() || is_terminal(&pod) {
            self.queue.delete(&key);
            return;
        }
        let gated = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduling_gates.as_ref())
            .is_some_and(|g| !g.is_empty());
        let Some(info) = event.object.derived(pod_view).0.clone() else {
            return;
        };
        match self.queue.location(&key) {
            // Removing the last scheduling gate releases the pod (upstream: PreEnqueue re-runs on update).
            Some(QueueLocation::Gated) if !gated => {
                self.queue.delete(&key);
                self.queue.add(info, now, "");
            }
            Some(_) => self.queue.update_pod(info),
            None => self
                .queue
                .add(info, now, if gated { "SchedulingGates" } else { "" }),
        }
    }

    async fn schedule(&mut self, queued: QueuedPodInfo) {
        let claims_before = volumes::claims_of(&self.scheduler.objects, &queued.pod);
        let mut outcome = self.scheduler.schedule_one(&queued.pod, true);
        if outcome.volumes_bound {
            // VolumeBinding's PreBind: write what the scheduler assumed (PV claimRefs,
            // selected-node annotations) for the PV controller and the provisioner to complete.
            let claims_after = volumes::claims_of(&self.scheduler.objects, &queued.pod);
            volumes::write_bindings(&self.client, &claims_before, &claims_after).await;
        }
        self.explanations.record(Decision {
            pod: outcome.pod.clone(),
            at: self.time.now(),
            node: outcome.node.clone(),
            message: outcome.message.clone(),
            nominated_node: outcome.nominated_node.clone(),
            preempted: outcome.preempted.clone(),
            explanation: outcome.explanation.take().unwrap_or_default(),
        });
        match &outcome.node {
            Some(node) => self.bind(queued, node.clone()).await,
            None => self.handle_failure(queued, outcome).await,
        }
    }

    /// Assumes the pod on `node` in the cache, then binds it (`schedule_one.go` `assume`, then
    /// the binding cycle).
    ///
    /// Upstream runs the binding cycle in a goroutine of its own and the scheduling loop goes
    /// on with the pod assumed; a failed binding forgets the assumed pod and requeues it
    /// (`handleBindingCycleError`). On a multi-threaded runtime (`serve`) the binding is a
    /// task of its own likewise: the write, and the watchers it wakes, then run on whichever
    /// worker is free instead of queueing behind the scheduling loop, which keeps its worker
    /// busy while pods wait. Under virtual time (one thread) the binding is awaited in place:
    /// a task would only run later on the same thread and reorder the run's writes.
    async fn bind(&mut self, queued: QueuedPodInfo, node: String) {
        let pod = &queued.pod;
        let assumed = Arc::new(pod.assumed_on(&node));
        let _ = self.scheduler.snapshot.add_pod(assumed.clone());
        self.bound.insert(pod.key.clone(), assumed.clone());
        if self.bind_in_tasks {
            let client = self.client.clone();
            let failures = self.bind_failure_sender.clone();
            tokio::spawn(async move {
                let pod = &queued.pod;
                if let Err(error) = client.bind(&pod.namespace, &pod.name, &node).await {
                    let _ = failures.send(BindFailure {
                        queued,
                        assumed,
                        error,
                    });
                }
            });
            return;
        }
        if let Err(error) = self.client.bind(&pod.namespace, &pod.name, &node).await {
            self.on_bind_failure(BindFailure {
                queued,
                assumed,
                error,
            });
        }
    }

    /// Forgets the assumed pod (unless a watch event replaced it since) and requeues it unless
    /// it is gone or bound already (404, 409).
    fn on_bind_failure(&mut self, failure: BindFailure) {
        let BindFailure {
            queued,
            assumed,
            error,
        } = failure;
        let key = &queued.pod.key;
        tracing::debug!(pod = %key, error = %error, "scheduler: binding failed");
        if self
            .bound
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, &assumed))
        {
            self.bound.remove(key);
            let _ = self.scheduler.snapshot.remove_pod(&assumed.key);
        }
        if error.code != 404 && error.code != 409 {
            let now = self.now_nanos();
            self.queue
                .add_unschedulable(queued, now, Default::default(), true, true);
        }
    }

    /// `handleSchedulingFailure`: event, condition, nominated node, victims, requeue.
    async fn handle_failure(&mut self, queued: QueuedPodInfo, outcome: CycleOutcome) {
        let pod = queued.pod.clone();
        let message = outcome.message.clone().unwrap_or_default();
        let reason = if outcome.code == Code::Error {
            "SchedulerError"
        } else {
            "Unschedulable"
        };
        if let Some(node) = &outcome.nominated_node {
            let patch = json!({"status": {"nominatedNodeName": node}});
            let _ = self
                .client
                .merge_patch_shared(
                    pods_info(),
                    Some(&pod.namespace),
                    &pod.name,
                    "status",
                    &patch,
                )
                .await;
            for victim in &outcome.preempted {
                if let Some((ns, name)) = victim.split_once('/') {
                    let _ = self
                        .client
                        .delete(pods_info(), Some(ns), name, &DeleteOptions::default())
                        .await;
                }
            }
        }
        self.record_failed_scheduling(&pod, &message).await;
        let now = format_time(self.time.now());
        let patch = json!({"status": {"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": reason, "message": message,
            "lastProbeTime": null, "lastTransitionTime": now,
        }]}});
        let _ = self
            .client
            .merge_patch_shared(
                pods_info(),
                Some(&pod.namespace),
                &pod.name,
                "status",
                &patch,
            )
            .await;
        let retry_soon = outcome.nominated_node.is_some();
        let error = outcome.code == Code::Error;
        let now = self.now_nanos();
        self.queue.add_unschedulable(
            queued,
            now,
            outcome.unschedulable_plugins,
            retry_soon,
            error,
        );
    }

    /// A `FailedScheduling` Warning event, aggregated per pod and message as the event
    /// recorder's correlator does (`count` and `lastTimestamp` bumped on repeats).
    async fn record_failed_scheduling(&self, pod: &PodInfo, message: &str) {
        let Ok(events) = resource_of::<k8s_openapi::api::core::v1::Event>() else {
            return;
        };
        let name = format!(
            "{}.{:016x}",
            pod.name,
            fnv64(&format!("{}/{message}", pod.uid))
        );
        let now = format_time(self.time.now());
        if let Ok(existing) = self.client.get(events, Some(&pod.namespace), &name) {
            let count = existing["count"].as_i64().unwrap_or(1) + 1;
            let patch = json!({"count": count, "lastTimestamp": now});
            let _ = self
                .client
                .merge_patch_shared(events, Some(&pod.namespace), &name, "", &patch)
                .await;
            return;
        }
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": pod.namespace},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": pod.namespace, "name": pod.name, "uid": pod.uid},
            "reason": "FailedScheduling", "message": message, "type": "Warning",
            "source": {"component": DEFAULT_SCHEDULER_NAME},
            "reportingComponent": DEFAULT_SCHEDULER_NAME, "reportingInstance": DEFAULT_SCHEDULER_NAME,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1, "action": "Scheduling",
        });
        let _ = self
            .client
            .create_shared(events, Some(&pod.namespace), event)
            .await;
    }
}

fn pods_info() -> &'static kubetwin_apiserver::registry::ResourceInfo {
    // Served by every kubetwin API server (the registry table is static).
    resource_of::<Pod>().unwrap_or(&kubetwin_apiserver::registry::RESOURCES[0])
}

/// Applies every event already waiting; false when the channel closed.
fn drain(rx: &mut Receiver<WatchEvent>, mut apply: impl FnMut(WatchEvent)) -> bool {
    loop {
        match rx.try_recv() {
            Ok(e) => apply(e),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => return false,
        }
    }
}

/// FNV-1a 64, for stable event names.
fn fnv64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
