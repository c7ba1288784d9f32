//! The simulated kubelet of one node: registers (or adopts) the Node, renews its Lease, posts
//! node status on change or every report period, watches the pods bound to the node, admits
//! them, runs each through [`PodSim`], writes their status, records Events, and completes
//! graceful deletions with a grace-period-0 delete — all through [`LocalClient`] and on
//! [`SimTime`], so that it runs on wall, accelerated or virtual time.
//!
//! Upstream: `pkg/kubelet/kubelet.go` (`syncLoop`, `HandlePodAdditions`: admission in creation
//! order, `rejectPod`), `pkg/kubelet/kubelet_node_status.go` (`registerWithAPIServer`,
//! `tryUpdateNodeStatus`: post when changed or after `nodeStatusReportFrequency`),
//! `pkg/kubelet/status/status_manager.go` (`syncPod`: status patch, then delete with grace 0
//! and a UID precondition once the pod's containers are gone),
//! `staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go` (renew every
//! quarter of the lease duration with 4% jitter), `pkg/kubelet/kubelet.go` `Run`
//! (`wait.JitterUntil(syncNodeStatus, nodeStatusUpdateFrequency, 0.04)`).
//!
//! Heartbeats cost nothing unless observed: a healthy, connected kubelet registers its Lease
//! renewal schedule with the API server's heartbeat registry
//! ([`kubetwin_apiserver::heartbeat`]) instead of writing every renewal; it writes them while
//! a Lease watch is open outside the process or its Lease was deleted, and it writes its last
//! renewal when it stops or is cut off. Its node status loop keeps upstream's 10 s ticks (and
//! their jitter draws) but only wakes at a tick when something can have changed: a local change
//! (pressure, images), a change of the Node by someone else (seen on a Node watch), or the
//! `nodeStatusReportFrequency` report.
//!
//! The 5-minute report itself is implicit too: a report where nothing changed only moves the
//! heartbeat times of the kubelet's conditions, so the kubelet registers the instants its
//! reports would be written (the report ticks of its jittered tick chain) with the registry,
//! which shows them on every Node read. It writes its reports while a Node watch is open outside
//! the process (first the latest implicit one), and it writes the last implicit report when it
//! stops, is cut off or shuts down. Whenever it wakes, it first accounts for the implicit
//! reports made before that instant (`catch_up_reports`), so that its tick chain, its jitter
//! draws and its next report are those of a kubelet that wrote every report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use kubetwin_apiserver::heartbeat::{
    Heartbeats, LeaseSchedule, Renewal, ReportSchedule, refresh_report_heartbeats,
};
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_apiserver::watch::{SharedObject, WatchEvent};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::{Clock, format_micro_time, format_time};
use kubetwin_runtime::SimTime;
use kubetwin_scheduler::types::{NodeData, NodeInfo, PodInfo};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::admission;
use crate::ids;
use crate::ipam::PodIpAllocator;
use crate::knobs::{KubeletKnobs, PodProfile};
use crate::node::{self, Pressure};
use crate::pod::{Effect, PodSim};
use crate::runtime::NodeRuntime;

/// The field manager of kubelet writes.
pub const FIELD_MANAGER: &str = "kubelet";
/// How long to wait before retrying a failed registration or write.
const RETRY: Duration = Duration::from_secs(1);
/// Jitter factor of the lease and node status loops (`wait.JitterUntil(..., 0.04, ...)`).
const JITTER: f64 = 0.04;

/// What an operator has done to the kubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ControlState {
    /// The kubelet process is stopped: no heartbeats, no status, no pod work. Containers keep
    /// running; on start the kubelet re-lists its pods and catches up.
    pub stopped: bool,
    /// The kubelet is cut off from the API server: it keeps running pods but cannot post
    /// anything; on reconnection it re-lists and posts the current state.
    pub disconnected: bool,
    /// Pressure the node reports in its conditions.
    pub pressure: Pressure,
    /// End [`Kubelet::run`].
    pub shutdown: bool,
}

/// A handle to control a running kubelet (cloneable, usable from any task).
#[derive(Debug, Clone)]
pub struct KubeletHandle {
    tx: Arc<watch::Sender<ControlState>>,
}

impl KubeletHandle {
    fn update(&self, f: impl FnOnce(&mut ControlState)) {
        self.tx.send_modify(f);
    }

    /// Stops the kubelet (the "kubelet stopped" fault): its Lease and node status stop being
    /// renewed, so the node lifecycle controller marks the node NotReady/Unknown.
    pub fn stop(&self) {
        self.update(|s| s.stopped = true);
    }

    /// Starts a stopped kubelet again.
    pub fn start(&self) {
        self.update(|s| s.stopped = false);
    }

    /// Cuts the kubelet off from the API server (network partition).
    pub fn disconnect(&self) {
        self.update(|s| s.disconnected = true);
    }

    /// Restores the connection to the API server.
    pub fn reconnect(&self) {
        self.update(|s| s.disconnected = false);
    }

    /// Sets the pressure conditions the node reports.
    pub fn set_pressure(&self, pressure: Pressure) {
        self.update(|s| s.pressure = pressure);
    }

    /// Ends the kubelet's `run` loop.
    pub fn shutdown(&self) {
        self.update(|s| s.shutdown = true);
    }

    /// The current control state.
    pub fn state(&self) -> ControlState {
        *self.tx.borrow()
    }
}

/// A simulated kubelet for one node.
#[derive(Debug)]
pub struct Kubelet {
    client: LocalClient,
    time: SimTime,
    template: Value,
    knobs: KubeletKnobs,
    seed: u64,
    handle: KubeletHandle,
    control: watch::Receiver<ControlState>,
    feed: Option<mpsc::UnboundedReceiver<WatchEvent>>,
}

impl Kubelet {
    /// A kubelet that will register `node` (a Node object with name, labels, `spec.podCIDR(s)`,
    /// `status.capacity`/`allocatable`, optional addresses) and run the pods bound to it.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        node: Value,
        knobs: KubeletKnobs,
        seed: u64,
    ) -> Self {
        kubetwin_apiserver::offload::derive_from_pods(|pod| {
            if pod["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
            {
                pod.derived(SeenPod::of_shared);
            }
        });
        let (tx, control) = watch::channel(ControlState::default());
        Self {
            client,
            time,
            template: node,
            knobs,
            seed,
            handle: KubeletHandle { tx: Arc::new(tx) },
            control,
            feed: None,
        }
    }

    /// Takes pod events from a shared [`crate::feed::PodFeed`] subscription instead of opening
    /// its own field-selector watch (one API watch for all kubelets). The kubelet still
    /// lists its pods when it (re)starts or reconnects.
    pub fn with_pod_feed(mut self, feed: mpsc::UnboundedReceiver<WatchEvent>) -> Self {
        self.feed = Some(feed);
        self
    }

    /// The control handle.
    pub fn handle(&self) -> KubeletHandle {
        self.handle.clone()
    }

    /// The node's name.
    pub fn node_name(&self) -> &str {
        self.template["metadata"]["name"].as_str().unwrap_or("")
    }

    /// Runs until [`KubeletHandle::shutdown`].
    pub async fn run(self) {
        let Some(resources) = Resources::lookup() else {
            tracing::error!("kubelet: pods, nodes, leases or events are not served");
            return;
        };
        let node_name = self.node_name().to_string();
        let preloaded: BTreeSet<String> = self
            .knobs
            .preloaded_images
            .iter()
            .map(|i| ids::normalize_image(i))
            .collect();
        let heartbeats = Arc::clone(&self.client.server().heartbeats);
        let mut runner = Runner {
            rt: NodeRuntime::new(preloaded, self.knobs.serialize_image_pulls, self.seed),
            client: self.client,
            time: self.time,
            template: self.template,
            knobs: self.knobs,
            seed: self.seed,
            resources,
            node_name,
            node_uid: String::new(),
            node_os: "linux".into(),
            registered: false,
            node_info: None,
            pods: BTreeMap::new(),
            heartbeats,
            lease_done: None,
            lease_written: None,
            lease_running: false,
            lease_explicit: false,
            lease_retry_at: None,
            status_next: None,
            status_ticks: 0,
            last_status_report: None,
            last_report_number: 0,
            status_written: None,
            report_running: false,
            report_explicit: false,
            report_tick: None,
            node_changed: false,
            node_seen_rv: 0,
            node_watch: None,
            status_paused: false,
            watch: None,
            feed: self.feed,
            need_resync: true,
            min_rv: 0,
            event_seq: 0,
            control: ControlState::default(),
            force_status: false,
            retry_at: None,
        };
        let mut control = self.control;
        let _keep_sender_alive = self.handle;
        let heartbeats = Arc::clone(&runner.heartbeats);
        loop {
            runner.control = *control.borrow_and_update();
            if runner.control.shutdown {
                runner.end_lease_schedule().await;
                runner.end_report_schedule().await;
                return;
            }
            if runner.control.stopped {
                runner.end_lease_schedule().await;
                runner.end_report_schedule().await;
                runner.pause_status_ticks();
                runner.watch = None;
                runner.node_watch = None;
                runner.need_resync = true;
                if control.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let connected = !runner.control.disconnected;
            if connected {
                if !runner.registered {
                    runner.register().await;
                }
                if runner.registered && runner.need_resync {
                    runner.resync().await;
                }
                runner.resume_lease_schedule();
                runner.status_paused = false;
            } else {
                runner.end_lease_schedule().await;
                runner.end_report_schedule().await;
                runner.pause_status_ticks();
                runner.watch = None;
                runner.node_watch = None;
                runner.need_resync = true;
            }
            // Registered before the mode is read, so that no switch is missed.
            let mode_changed = heartbeats.mode_changed();
            tokio::pin!(mode_changed);
            mode_changed.as_mut().enable();
            let deadline = runner.next_deadline();
            let time = runner.time.clone();
            let sleep = async {
                match deadline {
                    Some(t) => time.sleep_until(t).await,
                    None => std::future::pending::<()>().await,
                }
            };
            let schedule_runs = runner.lease_running || runner.report_running;
            tokio::select! {
                biased;
                changed = control.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let before = runner.control;
                    let after = *control.borrow();
                    if before.pressure != after.pressure {
                        runner.force_status = true;
                    }
                    if before.disconnected && !after.disconnected {
                        // Reconnected: re-list and post everything again.
                        runner.watch = None;
                        runner.need_resync = true;
                        runner.force_status = true;
                    }
                    continue;
                }
                event = recv(&mut runner.watch, &mut runner.feed, &mut runner.node_watch), if connected && !runner.need_resync => {
                    match event {
                        Some(e) => runner.on_watch_event(e).await,
                        None => {
                            runner.watch = None;
                            runner.node_watch = None;
                            runner.need_resync = true;
                        }
                    }
                }
                () = &mut mode_changed, if schedule_runs => {}
                () = sleep => {}
            }
            runner.tick().await;
        }
    }
}

async fn recv(
    watch: &mut Option<mpsc::Receiver<WatchEvent>>,
    feed: &mut Option<mpsc::UnboundedReceiver<WatchEvent>>,
    node_watch: &mut Option<mpsc::Receiver<WatchEvent>>,
) -> Option<WatchEvent> {
    let pods = async {
        match (watch, feed) {
            (Some(rx), _) => rx.recv().await,
            (None, Some(rx)) => rx.recv().await,
            (None, None) => std::future::pending().await,
        }
    };
    let node = async {
        match node_watch {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        event = pods => event,
        event = node => event,
    }
}

/// One of a node's periodic loops (status sync, Lease renewal): the gap after its tick number
/// `n` is `period` plus up to 4% deterministic jitter drawn for the node, the loop and `n`, on
/// the timer's millisecond grid (upstream, the status loop: `wait.JitterUntil(syncNodeStatus,
/// nodeStatusUpdateFrequency, 0.04, …)` in `pkg/kubelet/kubelet.go` `Run`). The names are
/// hashed once: a report schedule walks thirty status ticks per report.
#[derive(Debug, Clone, Copy)]
struct JitteredLoop {
    /// The hash of the node's and the loop's names.
    names: u64,
    period: Duration,
}

impl JitteredLoop {
    fn new(seed: u64, node: &str, name: &str, period: Duration) -> Self {
        Self {
            names: ids::stable_hash(seed, &[node, name]),
            period,
        }
    }

    fn gap(&self, n: u64) -> Duration {
        let draw = ids::unit_draw_after(self.names, n);
        ceil_ms(self.period + self.period.mul_f64(JITTER * draw))
    }
}

/// Walks a status tick chain from its next tick (offset zero; that tick's sync will be number
/// `pending + 1`): the offset of the first tick `is_due` accepts and its sync number. Upstream
/// (`tryUpdateNodeStatus`) a sync reports when `nodeStatusReportFrequency` has passed since
/// the last report, so reports fall on the first tick past each frequency.
fn first_report(
    pending: u64,
    gap: &dyn Fn(u64) -> Duration,
    mut is_due: impl FnMut(Duration) -> bool,
) -> Option<(Duration, u64)> {
    let mut offset = Duration::ZERO;
    let mut number = pending;
    for _ in 0..1_000_000 {
        if is_due(offset) {
            return Some((offset, number.saturating_add(1)));
        }
        number = number.saturating_add(1);
        offset = offset.saturating_add(gap(number));
    }
    None
}

/// A duration rounded up to the millisecond: timers fire on millisecond ticks, so a renewal or
/// status tick scheduled `d` after the previous one happens this long after it.
fn ceil_ms(d: Duration) -> Duration {
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

#[derive(Debug, Clone, Copy)]
struct Resources {
    pods: &'static ResourceInfo,
    nodes: &'static ResourceInfo,
    leases: &'static ResourceInfo,
    events: &'static ResourceInfo,
}

impl Resources {
    fn lookup() -> Option<Self> {
        Some(Self {
            pods: registry::lookup("", "v1", "pods")?,
            nodes: registry::lookup("", "v1", "nodes")?,
            leases: registry::lookup("coordination.k8s.io", "v1", "leases")?,
            events: registry::lookup("", "v1", "events")?,
        })
    }
}

#[derive(Debug)]
struct PendingEvent {
    type_: &'static str,
    reason: String,
    message: String,
    field_path: String,
}

/// A pod status kept as its JSON text (keys sorted, as `serde_json` writes a `Value`), so two
/// texts are equal exactly when the statuses are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct StatusText(Box<str>);

impl StatusText {
    fn of(status: &Value) -> Self {
        Self(kubetwin_core::json::to_string(status).into())
    }

    /// The status as a `Value` (`null` for a pod without one).
    fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

/// What the kubelet keeps of the latest API object of one of its pods: the identity its writes
/// and events name, and the status it merges its own over. Not the object itself: holding the
/// watch's decoded object kept one whole pod (spec, managedFields) alive per pod after the
/// server's decoded cache had moved on (0.8 of the 4.8 GiB peak of the 24-hour scenario benchmark).
#[derive(Debug, Default)]
struct SeenPod {
    namespace: String,
    name: String,
    uid: String,
    resource_version: String,
    generation: Option<i64>,
    /// The status, as JSON text: read only when this kubelet writes a status, and a decoded
    /// `Value` costs several times the text's memory (a map per JSON object), for every pod.
    status: StatusText,
}

impl SeenPod {
    fn of(object: &Value) -> Self {
        let meta = &object["metadata"];
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        Self {
            namespace: text(&meta["namespace"]),
            name: text(&meta["name"]),
            uid: text(&meta["uid"]),
            resource_version: text(&meta["resourceVersion"]),
            generation: meta["generation"].as_i64(),
            status: StatusText::of(&object["status"]),
        }
    }

    /// [`SeenPod::of`] a pod change, made once per change and shared: the API server's offload
    /// thread makes it ahead of the kubelet, as it decodes the pod.
    fn of_shared(object: &SharedObject) -> Self {
        Self::of(object)
    }

    /// The pod as an event's `involvedObject` names it.
    fn involved(&self) -> Value {
        let or_null = |s: &str| {
            if s.is_empty() { Value::Null } else { json!(s) }
        };
        let namespace = if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        };
        json!({
            "apiVersion": "v1", "kind": "Pod", "name": self.name, "namespace": namespace,
            "uid": or_null(&self.uid), "resourceVersion": or_null(&self.resource_version),
        })
    }
}

#[derive(Debug)]
struct PodEntry {
    /// The latest API object seen.
    seen: Arc<SeenPod>,
    sim: Option<PodSim>,
    /// The status last written by this kubelet.
    last_written: Option<StatusText>,
    /// The resourceVersion our last status write produced.
    last_written_rv: i64,
    /// A rejection status waiting to be written.
    rejection: Option<admission::Rejection>,
    rejection_written: bool,
    wakeup: Option<Timestamp>,
    /// Events waiting to be written.
    events: Vec<PendingEvent>,
    delete_pending: bool,
}

impl PodEntry {
    /// Something waits to be written: a status, a rejection, events or the final delete.
    fn has_writes(&self) -> bool {
        self.sim
            .as_ref()
            .is_some_and(|s| s.dirty || s.delete_requested)
            || (self.rejection.is_some() && !self.rejection_written)
            || !self.events.is_empty()
            || self.delete_pending
    }
}

struct Runner {
    client: LocalClient,
    time: SimTime,
    template: Value,
    knobs: KubeletKnobs,
    seed: u64,
    resources: Resources,
    node_name: String,
    node_uid: String,
    node_os: String,
    registered: bool,
    rt: NodeRuntime,
    node_info: Option<NodeInfo>,
    /// Boxed: an entry is large (the pod's simulation inline), and a B-tree leaf holds room
    /// for eleven of them, where most kubelets run a few pods.
    pods: BTreeMap<String, Box<PodEntry>>,
    heartbeats: Arc<Heartbeats>,
    /// The last Lease renewal accounted for (written, or implicit in the registry).
    lease_done: Option<Renewal>,
    /// The renewTime of the last Lease write.
    lease_written: Option<Timestamp>,
    /// The renewal schedule is registered with the heartbeat registry.
    lease_running: bool,
    /// Renewals were explicit at the last tick.
    lease_explicit: bool,
    /// A failed renewal is tried again then.
    lease_retry_at: Option<Timestamp>,
    /// The next tick of the node status loop (upstream's 10 s `syncNodeStatus`).
    status_next: Option<Timestamp>,
    status_ticks: u64,
    /// The last node status report (written, or implicit and accounted for).
    last_status_report: Option<Timestamp>,
    /// Its sync number (the jitter draw of the tick after it uses this number).
    last_report_number: u64,
    /// The time of the last node status this kubelet wrote.
    status_written: Option<Timestamp>,
    /// The report schedule is registered with the heartbeat registry.
    report_running: bool,
    /// Reports were explicit at the last tick (a Node watch is open outside the process).
    report_explicit: bool,
    /// The tick at which the next `nodeStatusReportFrequency` report is due.
    report_tick: Option<Timestamp>,
    /// Someone else changed the Node since the last status sync.
    node_changed: bool,
    /// The Node's newest resourceVersion this kubelet has read or written.
    node_seen_rv: i64,
    /// The kubelet's own Node watch (without a shared feed).
    node_watch: Option<mpsc::Receiver<WatchEvent>>,
    /// Stopped or cut off: status ticks from then on are missed, not skipped.
    status_paused: bool,
    watch: Option<mpsc::Receiver<WatchEvent>>,
    feed: Option<mpsc::UnboundedReceiver<WatchEvent>>,
    /// The pods must be listed again (start, reconnection, broken watch).
    need_resync: bool,
    /// Feed events at or below this resourceVersion predate the last list.
    min_rv: i64,
    event_seq: u64,
    control: ControlState,
    force_status: bool,
    retry_at: Option<Timestamp>,
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO))
        .unwrap_or(t)
}

/// Moves a pod's effects into its entry: events to write, a deletion to perform.
fn absorb(entry: &mut PodEntry, effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Event {
                type_,
                reason,
                message,
                field_path,
            } => entry.events.push(PendingEvent {
                type_,
                reason: reason.to_string(),
                message,
                field_path,
            }),
            Effect::Delete => entry.delete_pending = true,
        }
    }
}

/// The renew interval of a Lease of this duration (upstream: 0.25 × the duration).
fn lease_interval(duration_seconds: i32) -> Duration {
    Duration::from_secs_f64(f64::from(duration_seconds.max(1)) * 0.25)
}

fn rv_of(obj: &Value) -> i64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn uid_of(obj: &Value) -> String {
    obj["metadata"]["uid"].as_str().unwrap_or("").to_string()
}

impl Runner {
    fn now(&self) -> Timestamp {
        self.time.now()
    }

    fn connected(&self) -> bool {
        !self.control.disconnected && !self.control.stopped
    }

    /// The gap after Lease renewal number `n`: a quarter of the lease duration plus up to 4%
    /// deterministic jitter, on the timer's millisecond grid.
    fn lease_step(&self) -> impl Fn(u64) -> Duration + Send + Sync + 'static {
        let lease = JitteredLoop::new(
            self.seed,
            &self.node_name,
            "lease",
            lease_interval(self.knobs.lease_duration_seconds),
        );
        move |n| lease.gap(n)
    }

    fn lease_schedule(&self, anchor: Renewal) -> LeaseSchedule {
        let interval = lease_interval(self.knobs.lease_duration_seconds);
        LeaseSchedule {
            anchor: anchor.at,
            anchor_number: anchor.number,
            step: Arc::new(self.lease_step()),
            max_step: ceil_ms(interval + interval.mul_f64(JITTER)),
        }
    }

    /// The renewal that follows `renewal` on this kubelet's schedule.
    fn lease_after(&self, renewal: Renewal) -> Timestamp {
        add(renewal.at, (self.lease_step())(renewal.number))
    }

    /// When the Lease needs this kubelet's attention (a write), if ever without an event.
    fn lease_deadline(&mut self) -> Option<Timestamp> {
        if let Some(retry) = self.lease_retry_at {
            return Some(retry);
        }
        match self.lease_done {
            None => Some(self.now()),
            // A renewal was missed while stopped or cut off: write it at once.
            Some(_) if !self.lease_running => Some(self.now()),
            Some(done) if self.heartbeats.explicit(&self.node_name) => {
                if self.lease_explicit {
                    Some(self.lease_after(done))
                } else {
                    // Just switched: the renewals so far were implicit; the tick catches up.
                    Some(self.now())
                }
            }
            Some(_) => {
                self.lease_explicit = false;
                None
            }
        }
    }

    /// Back from a stop or a cut: when the next renewal is still ahead, the schedule just
    /// runs on (nothing to write); a missed renewal is written at the next tick.
    fn resume_lease_schedule(&mut self) {
        if self.lease_running || self.lease_retry_at.is_some() || !self.registered {
            return;
        }
        let Some(done) = self.lease_done else {
            return;
        };
        if self.lease_after(done) > self.now() {
            let schedule = self.lease_schedule(done);
            self.heartbeats
                .set_lease_schedule(&self.node_name, schedule);
            self.lease_running = true;
            self.lease_explicit = false;
        }
    }

    /// Stopped, cut off or shut down: the last renewal made implicitly becomes a real write
    /// (what per-renewal writes would have stored), and the schedule ends.
    async fn end_lease_schedule(&mut self) {
        if !self.lease_running {
            return;
        }
        self.lease_running = false;
        let now = self.now();
        let Some(last) = self.heartbeats.end_lease_schedule(&self.node_name, now) else {
            return;
        };
        self.lease_done = Some(last);
        if self.lease_written.is_none_or(|w| w < last.at) {
            self.write_lease(last.at, false).await;
        }
    }

    /// Writes `renew_time` into the Lease (creating it when missing and `create` says so).
    async fn write_lease(&mut self, renew_time: Timestamp, create: bool) -> bool {
        let renew = format_micro_time(renew_time);
        let patch = json!({"spec": {"renewTime": renew, "holderIdentity": self.node_name}});
        let ns = Some(node::LEASE_NAMESPACE);
        let result = self
            .client
            .merge_patch_shared(self.resources.leases, ns, &self.node_name, "", &patch)
            .await;
        let ok = match result {
            Ok(_) => true,
            Err(e) if e.code == 404 && create => {
                let lease = node::lease_object(
                    &self.node_name,
                    &self.node_uid,
                    self.knobs.lease_duration_seconds,
                    &renew,
                );
                self.client
                    .create_shared(self.resources.leases, ns, lease)
                    .await
                    .is_ok()
            }
            Err(e) if e.code == 404 => false,
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: lease renewal failed");
                false
            }
        };
        if ok {
            self.lease_written = Some(renew_time);
        }
        ok
    }

    /// The status loop's ticks before `now` that needed nothing are skipped (their jitter
    /// draws still count); returns whether a tick at or before `now` needs a sync.
    fn status_tick_due(&mut self, now: Timestamp) -> bool {
        self.catch_up_reports(now);
        while let Some(tick) = self.status_next.filter(|t| *t <= now) {
            if self.status_attention() || self.report_due(tick) {
                return true;
            }
            self.status_ticks += 1;
            self.status_next = Some(add(tick, self.status_gap(self.status_ticks)));
        }
        false
    }

    /// A node status sync can find something to post: a local change, or a Node changed by
    /// someone else.
    fn status_attention(&self) -> bool {
        self.node_changed
            || self.rt.images_changed
            || self.rt.ipam.is_none()
            || self.node_info.is_none()
    }

    fn report_due(&self, tick: Timestamp) -> bool {
        self.last_status_report.is_none_or(|last| {
            tick.duration_since(last).unsigned_abs() >= self.knobs.node_status_report_frequency
        })
    }

    fn status_loop(&self) -> JitteredLoop {
        JitteredLoop::new(
            self.seed,
            &self.node_name,
            "status",
            self.knobs.node_status_update_frequency,
        )
    }

    fn status_gap(&self, tick_number: u64) -> Duration {
        self.status_loop().gap(tick_number)
    }

    /// The first report of the status loop's tick chain (its tick and its sync number): the
    /// first tick at which the report frequency has passed since the last report.
    fn next_report(&self) -> Option<Renewal> {
        let tick = self.status_next?;
        let last = self.last_status_report;
        let frequency = self.knobs.node_status_report_frequency;
        // The first tick is due when no report was made yet.
        let status = self.status_loop();
        let (offset, number) = first_report(self.status_ticks, &|n| status.gap(n), |o| {
            last.is_none_or(|l| add(tick, o).duration_since(l).unsigned_abs() >= frequency)
        })?;
        Some(Renewal {
            at: add(tick, offset),
            number,
        })
    }

    /// The gap from a report at sync number `n` to the next report, and its number.
    fn report_step(&self) -> impl Fn(u64) -> (Duration, u64) + Send + Sync + 'static {
        let status = self.status_loop();
        let frequency = self.knobs.node_status_report_frequency;
        move |n| {
            let first = status.gap(n);
            first_report(n, &|k| status.gap(k), |offset| first + offset >= frequency)
                .map(|(offset, number)| (first + offset, number))
                .unwrap_or((Duration::MAX, n))
        }
    }

    /// Registers the report schedule that follows from the last report and the tick chain
    /// (after every status sync: a write, a sync that found nothing, a retry).
    fn register_report_schedule(&mut self) {
        let (Some(last_at), Some(first)) = (self.last_status_report, self.next_report()) else {
            return;
        };
        if first.at <= last_at {
            return;
        }
        let schedule = ReportSchedule {
            last: Renewal {
                at: last_at,
                number: self.last_report_number,
            },
            first,
            step: Arc::new(self.report_step()),
        };
        self.heartbeats
            .set_report_schedule(&self.node_name, schedule);
        self.report_running = true;
    }

    /// Accounts for the implicit reports made before `now` (strictly: a report due at `now`
    /// is made by this wake-up, as the timer of a kubelet writing every report would): the
    /// last report, and the tick chain after it when the chain had not passed it.
    fn catch_up_reports(&mut self, now: Timestamp) {
        if !self.report_running || self.report_explicit {
            return;
        }
        let before = now
            .checked_sub(SignedDuration::from_nanos(1))
            .unwrap_or(now);
        if let Some(latest) = self.heartbeats.latest_report(&self.node_name, before) {
            self.absorb_report(latest);
        }
    }

    fn absorb_report(&mut self, report: Renewal) {
        if self.last_status_report.is_some_and(|l| l >= report.at) {
            return;
        }
        self.last_status_report = Some(report.at);
        self.last_report_number = report.number;
        if self.status_next.is_some_and(|t| t <= report.at) {
            self.status_ticks = report.number;
            self.status_next = Some(add(report.at, self.status_gap(report.number)));
        }
        self.report_tick = None;
    }

    /// Stopped, cut off or shut down: the last implicit report (before now) becomes a real
    /// write (what per-report writes would have stored), and the schedule ends.
    async fn end_report_schedule(&mut self) {
        if !self.report_running {
            return;
        }
        self.report_running = false;
        let now = self.now();
        let before = now
            .checked_sub(SignedDuration::from_nanos(1))
            .unwrap_or(now);
        let last = self.heartbeats.end_report_schedule(&self.node_name, before);
        if let Some(last) = last.filter(|_| !self.report_explicit) {
            self.absorb_report(last);
        }
        if let Some(at) = self.last_status_report
            && self.status_written.is_none_or(|w| w < at)
        {
            self.write_report(at).await;
        }
    }

    /// The report mode at a tick: switching to explicit reports writes the latest implicit
    /// one first (the Node as a per-report kubelet would have left it).
    async fn report_mode_tick(&mut self, now: Timestamp) {
        let explicit = self.heartbeats.reports_explicit();
        if explicit && !self.report_explicit {
            self.catch_up_reports(now);
            if let Some(at) = self.last_status_report
                && self.status_written.is_none_or(|w| w < at)
            {
                self.write_report(at).await;
            }
        }
        self.report_explicit = explicit;
    }

    /// Writes a report made at `at` where nothing changed: the Node's conditions with the
    /// kubelet's heartbeats at `at` (`refresh_report_heartbeats`).
    async fn write_report(&mut self, at: Timestamp) {
        let Ok(current) = self.client.get(self.resources.nodes, None, &self.node_name) else {
            return;
        };
        let mut conditions: Vec<Value> = current["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        refresh_report_heartbeats(&mut conditions, at);
        let patch = json!({"status": {"conditions": conditions}});
        match self
            .client
            .merge_patch(
                self.resources.nodes,
                None,
                &self.node_name,
                "status",
                &patch,
            )
            .await
        {
            Ok(stored) => {
                self.node_seen_rv = self.node_seen_rv.max(rv_of(&stored));
                self.status_written = Some(at);
            }
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: node status report failed");
            }
        }
    }

    /// Moves the status loop past the ticks before `now` that needed nothing (nothing had
    /// changed then): called before something changes, so that the change shows at the
    /// first tick at or after it, as when every tick reads the Node.
    fn skip_quiet_status_ticks(&mut self, now: Timestamp) {
        self.catch_up_reports(now);
        if self.status_attention() {
            return;
        }
        while let Some(tick) = self.status_next.filter(|t| *t < now) {
            if self.report_due(tick) {
                return;
            }
            self.status_ticks += 1;
            self.status_next = Some(add(tick, self.status_gap(self.status_ticks)));
        }
    }

    /// Stopped or cut off: the ticks before now needed nothing; those from now on are missed
    /// (the first one runs when the kubelet is back, as its timer would have fired late).
    fn pause_status_ticks(&mut self) {
        if !self.status_paused {
            self.status_paused = true;
            let now = self.now();
            self.skip_quiet_status_ticks(now);
        }
    }

    /// When the status loop must run next: at once when forced, at the next tick when
    /// something can have changed, else at the report tick.
    fn status_deadline(&mut self) -> Option<Timestamp> {
        if self.force_status {
            return Some(self.now());
        }
        if self.status_attention() {
            return self.status_next;
        }
        if self.report_running && !self.heartbeats.reports_explicit() {
            // The registry makes the reports: nothing to do until something changes.
            return None;
        }
        if self.report_tick.is_none() {
            self.report_tick = self.next_report().map(|r| r.at);
        }
        self.report_tick
    }

    fn next_deadline(&mut self) -> Option<Timestamp> {
        let mut times: Vec<Timestamp> = Vec::new();
        if self.connected() {
            if self.registered {
                times.extend(self.lease_deadline());
                times.extend(self.status_deadline());
            }
            times.extend(self.retry_at);
            if !self.registered {
                times.push(add(self.now(), RETRY));
            }
        }
        times.extend(self.pods.values().filter_map(|e| e.wakeup));
        times.into_iter().min()
    }

    // ----- node registration, lease, node status -----

    async fn register(&mut self) {
        let now = self.now();
        let node = node::initial_node(&self.template, &self.knobs, self.seed, &format_time(now));
        self.node_os = node["metadata"]["labels"]["kubernetes.io/os"]
            .as_str()
            .unwrap_or("linux")
            .to_string();
        let registered = match self
            .client
            .create(self.resources.nodes, None, node.clone())
            .await
        {
            Ok(created) => Some(created),
            Err(e) if e.code == 409 => self.adopt_existing(&node).await,
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: node registration failed");
                None
            }
        };
        let Some(registered) = registered else {
            return;
        };
        self.node_uid = uid_of(&registered);
        self.registered = true;
        self.refresh_node_runtime(&registered);
        // The status is posted right away (nodes keep their status on create, but be sure).
        self.force_status = true;
        self.status_next = Some(now);
        self.report_tick = None;
        self.node_seen_rv = rv_of(&registered);
        self.record_node_event("Normal", "Starting", "Starting kubelet.".into())
            .await;
    }

    /// Registration found the Node: keep it, add the kubelet's labels that are missing.
    async fn adopt_existing(&mut self, wanted: &Value) -> Option<Value> {
        let existing = self
            .client
            .get(self.resources.nodes, None, &self.node_name)
            .ok()?;
        let mut labels = serde_json::Map::new();
        if let Some(want) = wanted["metadata"]["labels"].as_object() {
            for (k, v) in want {
                if existing["metadata"]["labels"].get(k).is_none() {
                    labels.insert(k.clone(), v.clone());
                }
            }
        }
        let mut out = existing;
        if !labels.is_empty() {
            let patch = json!({"metadata": {"labels": labels}});
            match self
                .client
                .merge_patch(self.resources.nodes, None, &self.node_name, "", &patch)
                .await
            {
                Ok(v) => out = v,
                Err(e) => {
                    tracing::warn!(node = %self.node_name, error = %e, "kubelet: label reconcile failed")
                }
            }
        }
        // Capacity and addresses from the spec win over stale ones.
        let mut status_patch = serde_json::Map::new();
        for key in [
            "capacity",
            "allocatable",
            "addresses",
            "nodeInfo",
            "daemonEndpoints",
        ] {
            if out["status"][key] != wanted["status"][key] && !wanted["status"][key].is_null() {
                status_patch.insert(key.into(), wanted["status"][key].clone());
            }
        }
        if !status_patch.is_empty() {
            let patch = json!({"status": status_patch});
            if let Ok(v) = self
                .client
                .merge_patch(
                    self.resources.nodes,
                    None,
                    &self.node_name,
                    "status",
                    &patch,
                )
                .await
            {
                out = v;
            }
        }
        Some(out)
    }

    fn refresh_node_runtime(&mut self, node_obj: &Value) {
        if self.rt.ipam.is_none() {
            let cidrs: Vec<String> = match node_obj["spec"]["podCIDRs"].as_array() {
                Some(a) if !a.is_empty() => a
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect(),
                _ => node_obj["spec"]["podCIDR"]
                    .as_str()
                    .map(|c| vec![c.to_string()])
                    .unwrap_or_default(),
            };
            if !cidrs.is_empty() {
                match PodIpAllocator::new(&cidrs) {
                    Ok(ipam) => self.rt.ipam = Some(ipam),
                    Err(e) => {
                        tracing::warn!(node = %self.node_name, error = %e, "kubelet: bad podCIDR")
                    }
                }
            }
        }
        self.rt.host_ips = node::host_ips(node_obj);
        // Without managedFields, as informers keep objects (the admission view never reads them).
        if let Ok(typed) =
            kubetwin_apiserver::trim::decode_trimmed::<k8s_openapi::api::core::v1::Node>(node_obj)
            && let Ok(data) = NodeData::new(typed)
        {
            let mut info = NodeInfo::new(Arc::new(data));
            if let Some(old) = self.node_info.take() {
                for p in old.pods {
                    info.add_pod(p);
                }
            }
            self.node_info = Some(info);
        }
    }

    /// The Lease part of a tick: the first renewal, a renewal missed while stopped or cut
    /// off, a retry, or (while renewals are explicit) the scheduled one.
    async fn lease_tick(&mut self, now: Timestamp) {
        let explicit = self.heartbeats.explicit(&self.node_name);
        if self.lease_running && explicit && !self.lease_explicit {
            // Renewals become explicit: those made so far were implicit.
            if let (Some(done), Some(latest)) = (
                self.lease_done,
                self.heartbeats.latest_renewal(&self.node_name, now),
            ) {
                self.lease_done = Some(done.max(latest));
            }
        }
        self.lease_explicit = explicit;
        let retry_due = self.lease_retry_at.is_some_and(|t| t <= now);
        if self.lease_retry_at.is_some() && !retry_due {
            return;
        }
        let (renew_at, number) = match self.lease_done {
            None => (now, 1),
            Some(done) if retry_due || !self.lease_running => {
                if !retry_due && self.lease_after(done) > now {
                    return;
                }
                (now, done.number + 1)
            }
            Some(done) if explicit => {
                let next = self.lease_after(done);
                if next > now {
                    return;
                }
                match self.heartbeats.latest_renewal(&self.node_name, now) {
                    Some(latest) if latest > done => (latest.at, latest.number),
                    _ => (next, done.number + 1),
                }
            }
            Some(_) => return,
        };
        let done = Renewal {
            at: renew_at,
            number,
        };
        self.lease_done = Some(done);
        if self.write_lease(renew_at, true).await {
            self.lease_retry_at = None;
            let schedule = self.lease_schedule(done);
            self.heartbeats
                .set_lease_schedule(&self.node_name, schedule);
            self.lease_running = true;
            self.lease_explicit = self.heartbeats.explicit(&self.node_name);
        } else {
            self.lease_retry_at = Some(add(now, RETRY));
        }
    }

    /// One node status sync, then the report schedule that follows from it.
    async fn sync_node_status(&mut self) {
        self.sync_node_status_once().await;
        if self.registered {
            self.register_report_schedule();
        } else if self.report_running {
            // The Node is gone: nothing to report on until it is registered again.
            self.report_running = false;
            let now = self.now();
            self.heartbeats.end_report_schedule(&self.node_name, now);
        }
    }

    async fn sync_node_status_once(&mut self) {
        let now = self.now();
        self.status_ticks += 1;
        self.status_next = Some(add(now, self.status_gap(self.status_ticks)));
        self.report_tick = None;
        self.node_changed = false;
        let Ok(current) = self.client.get(self.resources.nodes, None, &self.node_name) else {
            // The Node is gone: register again.
            self.registered = false;
            return;
        };
        self.node_seen_rv = self.node_seen_rv.max(rv_of(&current));
        if self.rt.ipam.is_none() || self.node_info.is_none() {
            self.refresh_node_runtime(&current);
        }
        let existing: Vec<Value> = current["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let capacity = current["status"]["capacity"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let conditions = node::node_conditions(
            &existing,
            &capacity,
            self.control.pressure,
            &format_time(now),
        );
        let images: Vec<String> = self.rt.images.iter().cloned().collect();
        let mut new_status =
            json!({"conditions": conditions, "images": node::images_status(&images)});
        let old_status = json!({
            "conditions": current["status"]["conditions"].clone(),
            "images": current["status"]["images"].clone(),
        });
        let changed =
            node::without_heartbeats(&old_status) != node::without_heartbeats(&new_status);
        let due = self.last_status_report.is_none_or(|last| {
            now.duration_since(last).unsigned_abs() >= self.knobs.node_status_report_frequency
        });
        if !(changed || due || self.force_status) {
            return;
        }
        let was_ready = existing
            .iter()
            .find(|c| c["type"] == "Ready")
            .map(|c| c["status"].clone());
        let patch = json!({"status": new_status.take()});
        match self
            .client
            .merge_patch_shared(
                self.resources.nodes,
                None,
                &self.node_name,
                "status",
                &patch,
            )
            .await
        {
            Ok(stored) => {
                self.node_seen_rv = self.node_seen_rv.max(rv_of(&stored));
                self.last_status_report = Some(now);
                self.last_report_number = self.status_ticks;
                self.status_written = Some(now);
                self.report_tick = None;
                self.force_status = false;
                self.rt.images_changed = false;
                let ready_now = patch["status"]["conditions"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                    .map(|c| c["status"].clone());
                if was_ready.is_some() && was_ready != ready_now {
                    let (reason, status) = if ready_now == Some(json!("True")) {
                        ("NodeReady", "NodeReady")
                    } else {
                        ("NodeNotReady", "NodeNotReady")
                    };
                    let message = format!("Node {} status is now: {}", self.node_name, status);
                    self.record_node_event("Normal", reason, message).await;
                }
            }
            Err(e) if e.code == 404 => self.registered = false,
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: node status update failed");
                self.status_next = Some(add(now, RETRY));
            }
        }
    }

    // ----- pods -----

    async fn resync(&mut self) {
        let selector = format!("spec.nodeName={}", self.node_name);
        // Feed events queued so far are superseded by the list; the Node is read again at
        // the next status tick.
        if let Some(feed) = self.feed.as_mut() {
            while feed.try_recv().is_ok() {}
        }
        if !self.status_paused {
            let now = self.now();
            self.skip_quiet_status_ticks(now);
        }
        self.node_changed = true;
        let listed = match self
            .client
            .list(self.resources.pods, None, None, Some(&selector))
        {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: pod list failed");
                self.retry_at = Some(add(self.now(), RETRY));
                return;
            }
        };
        let mut items = listed.items;
        // Upstream admits pods in creation order.
        items.sort_by(|a, b| {
            let key = |o: &Value| {
                (
                    o["metadata"]["creationTimestamp"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        let present: BTreeSet<String> = items.iter().map(uid_of).collect();
        let gone: Vec<String> = self
            .pods
            .keys()
            .filter(|uid| !present.contains(*uid))
            .cloned()
            .collect();
        for uid in gone {
            self.forget(&uid);
        }
        for item in items {
            self.on_pod(Arc::new(SharedObject::new(item)));
        }
        if self.feed.is_some() {
            self.min_rv = listed.resource_version;
            self.need_resync = false;
            self.retry_at = None;
            return;
        }
        let node_selector = format!("metadata.name={}", self.node_name);
        self.node_watch = self
            .client
            .watch(
                self.resources.nodes,
                None,
                listed.resource_version,
                None,
                Some(&node_selector),
            )
            .ok();
        match self.client.watch(
            self.resources.pods,
            None,
            listed.resource_version,
            None,
            Some(&selector),
        ) {
            Ok(rx) => {
                self.watch = Some(rx);
                self.need_resync = false;
                self.retry_at = None;
            }
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: pod watch failed");
                self.retry_at = Some(add(self.now(), RETRY));
            }
        }
    }

    async fn on_watch_event(&mut self, event: WatchEvent) {
        if event.object["kind"] == "Node" {
            // Someone else's change shows at the next status tick; our own writes do not count.
            if event.event_type == "DELETED" || rv_of(&event.object) > self.node_seen_rv {
                let now = self.now();
                self.skip_quiet_status_ticks(now);
                self.node_changed = true;
            }
            return;
        }
        let rv: i64 = event.object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MAX);
        if self.feed.is_some() && event.event_type != "ERROR" && rv <= self.min_rv {
            return;
        }
        match event.event_type {
            "ADDED" | "MODIFIED" => self.on_pod(event.object),
            "DELETED" => {
                let uid = uid_of(&event.object);
                self.forget(&uid);
            }
            "ERROR" => {
                self.watch = None;
                self.node_watch = None;
                self.need_resync = true;
            }
            _ => {}
        }
    }

    fn forget(&mut self, uid: &str) {
        if let Some(entry) = self.pods.remove(uid) {
            self.release(uid, &entry.seen.namespace, &entry.seen.name);
        }
    }

    fn release(&mut self, uid: &str, namespace: &str, name: &str) {
        if let Some(ipam) = self.rt.ipam.as_mut() {
            ipam.release(uid);
        }
        if let Some(info) = self.node_info.as_mut() {
            info.remove_pod(&format!("{namespace}/{name}"));
        }
    }

    fn on_pod(&mut self, object: Arc<SharedObject>) {
        let uid = uid_of(&object);
        if uid.is_empty() || object["spec"]["nodeName"] != self.node_name.as_str() {
            return;
        }
        let now = self.now();
        let typed: Arc<Pod> = match object.typed::<Pod>() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "kubelet: unreadable pod");
                return;
            }
        };
        if let Some(entry) = self.pods.get_mut(&uid) {
            // The status manager's `needsReconcile`: someone else changed a condition this
            // kubelet owns after our last write (the node controller's MarkPodsNotReady while
            // the node was unreachable); write our status again.
            let rv = object["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            let diverged = rv > entry.last_written_rv
                && entry
                    .last_written
                    .as_ref()
                    .is_some_and(|w| conditions_diverge(&object["status"], &w.value()));
            entry.seen = object.derived(SeenPod::of_shared);
            if diverged && let Some(sim) = entry.sim.as_mut() {
                entry.last_written = None;
                sim.dirty = true;
            }
            if let Some(sim) = entry.sim.as_mut() {
                let effects = sim.observe(&typed, now);
                absorb(entry, effects);
            } else if typed.metadata.deletion_timestamp.is_some() {
                // A rejected pod being deleted: nothing runs, delete at once.
                entry.delete_pending = true;
            }
            entry.wakeup = Some(now);
            return;
        }
        let phase = object["status"]["phase"].as_str().unwrap_or("");
        if matches!(phase, "Succeeded" | "Failed") {
            return;
        }
        let mut entry = PodEntry {
            seen: object.derived(SeenPod::of_shared),
            sim: None,
            last_written: None,
            last_written_rv: 0,
            rejection: None,
            rejection_written: false,
            wakeup: Some(now),
            events: Vec::new(),
            delete_pending: false,
        };
        if typed.metadata.deletion_timestamp.is_some() {
            // Never started here: the termination is immediate.
            entry.delete_pending = true;
            self.pods.insert(uid, Box::new(entry));
            return;
        }
        match self.admit(&typed) {
            Ok(info) => {
                if let (Some(node_info), Some(info)) = (self.node_info.as_mut(), info) {
                    node_info.add_pod(Arc::new(info));
                }
                let annotations = typed.metadata.annotations.clone().unwrap_or_default();
                let owned_by_job = typed
                    .metadata
                    .owner_references
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|r| r.kind == "Job" && r.controller == Some(true));
                let profile = PodProfile::resolve(&self.knobs, &annotations, owned_by_job);
                let mut sim = PodSim::new(&typed, profile, self.seed, now);
                let effects = sim.observe(&typed, now);
                absorb(&mut entry, effects);
                entry.sim = Some(sim);
            }
            Err(rejection) => {
                entry.events.push(PendingEvent {
                    type_: "Warning",
                    reason: rejection.reason.clone(),
                    message: rejection.message.clone(),
                    field_path: String::new(),
                });
                entry.rejection = Some(rejection);
            }
        }
        self.pods.insert(uid, Box::new(entry));
    }

    fn admit(&self, pod: &Arc<Pod>) -> Result<Option<PodInfo>, admission::Rejection> {
        // Shares the watch's typed pod rather than copying it.
        let info = PodInfo::from_arc(Arc::clone(pod)).map_err(|e| admission::Rejection {
            reason: "UnexpectedAdmissionError".into(),
            message: format!("Unexpected error while attempting to admit the pod: {e}"),
        })?;
        let Some(node_info) = self.node_info.as_ref() else {
            return Err(admission::Rejection {
                reason: "InvalidNodeInfo".into(),
                message: "Kubelet cannot get node info.".into(),
            });
        };
        admission::admit(node_info, &info, &self.node_os)?;
        Ok(Some(info))
    }

    // ----- the periodic work -----

    async fn tick(&mut self) {
        let now = self.now();
        let connected = self.connected();
        if connected && self.registered {
            self.lease_tick(now).await;
            self.catch_up_reports(now);
            self.report_mode_tick(now).await;
            if self.force_status || self.status_tick_due(now) {
                self.sync_node_status().await;
            }
            if self.retry_at.is_some_and(|t| t <= now) {
                self.retry_at = None;
                if self.need_resync {
                    self.resync().await;
                }
            }
        }
        // Pods due now, in (time, uid) order.
        let mut due: Vec<(Timestamp, String)> = self
            .pods
            .iter()
            .filter_map(|(uid, e)| e.wakeup.filter(|t| *t <= now).map(|t| (t, uid.clone())))
            .collect();
        due.sort();
        for (_, uid) in &due {
            let Some(entry) = self.pods.get_mut(uid) else {
                continue;
            };
            entry.wakeup = None;
            let mut released = false;
            if let Some(sim) = entry.sim.as_mut() {
                let was_active = sim.is_active();
                let effects = sim.advance(now, &mut self.rt);
                released = was_active && !sim.is_active();
                absorb(entry, effects);
            }
            if released {
                let (namespace, name) = (entry.seen.namespace.clone(), entry.seen.name.clone());
                self.release(uid, &namespace, &name);
            }
        }
        if connected {
            self.flush(now).await;
        }
        // Reschedule.
        for entry in self.pods.values_mut() {
            let next = entry.sim.as_ref().and_then(PodSim::next_wakeup);
            let pending_write = entry.sim.as_ref().is_some_and(|s| s.dirty)
                || entry.delete_pending
                || (entry.rejection.is_some() && !entry.rejection_written);
            entry.wakeup = match (entry.wakeup, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if pending_write && connected {
                // A write failed: try again shortly.
                let retry = add(now, RETRY);
                entry.wakeup = Some(entry.wakeup.map_or(retry, |w| w.min(retry)));
            }
        }
    }

    async fn flush(&mut self, now: Timestamp) {
        // Only pods with something to write (a flush runs at every tick of the node).
        let uids: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, entry)| entry.has_writes())
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in uids {
            self.flush_pod(&uid, now).await;
        }
    }

    async fn flush_pod(&mut self, uid: &str, now: Timestamp) {
        let Some(entry) = self.pods.get_mut(uid) else {
            return;
        };
        if !entry.has_writes() {
            return;
        }
        let namespace = entry.seen.namespace.clone();
        let name = entry.seen.name.clone();
        let events = std::mem::take(&mut entry.events);
        let mut delete = entry.delete_pending;
        // Status first.
        let status = if let Some(sim) = entry.sim.as_ref().filter(|s| s.dirty) {
            let generation = entry.seen.generation;
            let last_written = entry.last_written.as_ref().map(StatusText::value);
            let current = merged_current(entry.seen.status.value(), last_written.as_ref());
            Some(sim.render_status(&current, generation, now, &self.rt.host_ips))
        } else if let (Some(r), false) = (entry.rejection.as_ref(), entry.rejection_written) {
            let seen = entry.seen.status.value();
            let mut s = json!({
                "phase": "Failed",
                "reason": r.reason,
                "message": r.status_message(),
                "startTime": seen.get("startTime").filter(|v| !v.is_null()).cloned().unwrap_or_else(|| json!(format_time(now))),
            });
            if let Some(q) = seen.get("qosClass").filter(|v| !v.is_null()) {
                s["qosClass"] = q.clone();
            }
            Some(s)
        } else {
            None
        };
        let mut status_ok = true;
        if let Some(status) = status {
            let status_text = StatusText::of(&status);
            let unchanged = entry.last_written.as_ref() == Some(&status_text);
            let mut written = unchanged;
            if !unchanged {
                let patch = json!({"status": status});
                match self
                    .client
                    .merge_patch_shared(
                        self.resources.pods,
                        Some(&namespace),
                        &name,
                        "status",
                        &patch,
                    )
                    .await
                {
                    Ok(stored) => {
                        written = true;
                        if let Some(entry) = self.pods.get_mut(uid) {
                            entry.last_written_rv = stored["metadata"]["resourceVersion"]
                                .as_str()
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(entry.last_written_rv);
                        }
                    }
                    Err(e) if e.code == 404 => {
                        self.forget(uid);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(pod = %format!("{namespace}/{name}"), error = %e, "kubelet: pod status update failed");
                    }
                }
            }
            status_ok = written;
            if let Some(entry) = self.pods.get_mut(uid)
                && written
            {
                entry.last_written = Some(status_text);
                if let Some(sim) = entry.sim.as_mut() {
                    sim.dirty = false;
                    if sim.delete_requested {
                        delete = true;
                    }
                }
                if entry.rejection.is_some() {
                    entry.rejection_written = true;
                }
            }
        }
        if let Some(entry) = self.pods.get(uid)
            && entry
                .sim
                .as_ref()
                .is_some_and(|s| s.delete_requested && !s.dirty)
        {
            delete = true;
        }
        if self.knobs.emit_events && !events.is_empty() {
            let involved = self
                .pods
                .get(uid)
                .map(|e| e.seen.involved())
                .unwrap_or_else(|| SeenPod::default().involved());
            for e in events {
                self.record_pod_event(
                    involved.clone(),
                    e.type_,
                    &e.reason,
                    e.message,
                    e.field_path,
                    now,
                )
                .await;
            }
        }
        if delete && status_ok {
            let options = DeleteOptions {
                grace_period_seconds: Some(0),
                precondition_uid: Some(uid.to_string()),
                ..DeleteOptions::default()
            };
            match self
                .client
                .delete(self.resources.pods, Some(&namespace), &name, &options)
                .await
            {
                Ok(_) => self.forget(uid),
                Err(e) if e.code == 404 || e.code == 409 => self.forget(uid),
                Err(e) => {
                    tracing::warn!(pod = %format!("{namespace}/{name}"), error = %e, "kubelet: pod delete failed");
                    if let Some(entry) = self.pods.get_mut(uid) {
                        entry.delete_pending = true;
                    }
                }
            }
        }
    }

    fn event_name(&mut self, base: &str, now: Timestamp) -> String {
        self.event_seq += 1;
        let nanos = now.as_nanosecond() + i128::from(self.event_seq);
        format!("{base}.{nanos:x}")
    }

    /// An event about a pod; `involved` is [`SeenPod::involved`].
    async fn record_pod_event(
        &mut self,
        mut involved: Value,
        type_: &str,
        reason: &str,
        message: String,
        field_path: String,
        now: Timestamp,
    ) {
        let namespace = involved["namespace"].as_str().unwrap_or("").to_string();
        let name = involved["name"].as_str().unwrap_or("").to_string();
        if !field_path.is_empty() {
            involved["fieldPath"] = json!(field_path);
        }
        let event = self.event_object(&name, &namespace, involved, type_, reason, message, now);
        if let Err(e) = self
            .client
            .create_shared(self.resources.events, Some(&namespace), event)
            .await
        {
            tracing::debug!(error = %e, "kubelet: event dropped");
        }
    }

    async fn record_node_event(&mut self, type_: &str, reason: &str, message: String) {
        if !self.knobs.emit_events {
            return;
        }
        let now = self.now();
        let involved = json!({"kind": "Node", "name": self.node_name, "uid": self.node_name});
        let name = self.node_name.clone();
        let event = self.event_object(&name, "default", involved, type_, reason, message, now);
        if let Err(e) = self
            .client
            .create_shared(self.resources.events, Some("default"), event)
            .await
        {
            tracing::debug!(error = %e, "kubelet: event dropped");
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn event_object(
        &mut self,
        object_name: &str,
        namespace: &str,
        involved: Value,
        type_: &str,
        reason: &str,
        message: String,
        now: Timestamp,
    ) -> Value {
        let time = format_time(now);
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": self.event_name(object_name, now), "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": "kubelet", "host": self.node_name},
            "firstTimestamp": time,
            "lastTimestamp": time,
            "count": 1,
            "reportingComponent": "kubelet",
            "reportingInstance": self.node_name,
        })
    }
}

/// Whether the API's status has a different value for a condition the kubelet last wrote.
fn conditions_diverge(api_status: &Value, last_written: &Value) -> bool {
    let api = api_status["conditions"].as_array();
    last_written["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|ours| {
            api.into_iter()
                .flatten()
                .find(|c| c["type"] == ours["type"])
                .is_some_and(|c| c["status"] != ours["status"])
        })
}

/// The pod's status as the kubelet last wrote it over what the API shows: kubelet-owned
/// conditions keep their transition times even before our own write comes back on the watch.
fn merged_current(api_status: Value, last_written: Option<&Value>) -> Value {
    let mut current = api_status;
    if !current.is_object() {
        current = json!({});
    }
    let Some(lw) = last_written else {
        return current;
    };
    let mut conditions: Vec<Value> = current["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in lw["conditions"].as_array().into_iter().flatten() {
        match conditions.iter_mut().find(|o| o["type"] == c["type"]) {
            Some(o) => *o = c.clone(),
            None => conditions.push(c.clone()),
        }
    }
    current["conditions"] = Value::Array(conditions);
    if current.get("startTime").is_none_or(Value::is_null) {
        current["startTime"] = lw["startTime"].clone();
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text form keeps what the kubelet compares and merges: equal statuses have equal
    /// texts, different ones different texts, and the text reads back as the same value.
    #[test]
    fn status_text_is_as_good_as_the_value() {
        let running = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "startTime": "2026-01-01T00:00:00Z", "containerStatuses": [{"restartCount": 0, "ready": true}]});
        let reordered = json!({"startTime": "2026-01-01T00:00:00Z", "phase": "Running",
            "containerStatuses": [{"ready": true, "restartCount": 0}],
            "conditions": [{"status": "True", "type": "Ready"}]});
        let mut not_ready = running.clone();
        not_ready["conditions"][0]["status"] = json!("False");
        let mut float = running.clone();
        float["containerStatuses"][0]["restartCount"] = json!(0.0);
        assert_eq!(StatusText::of(&running), StatusText::of(&reordered));
        assert_ne!(StatusText::of(&running), StatusText::of(&not_ready));
        assert_ne!(StatusText::of(&running), StatusText::of(&float));
        for status in [&running, &not_ready, &float, &Value::Null, &json!({})] {
            assert_eq!(&StatusText::of(status).value(), status);
        }
        assert_eq!(StatusText::default().value(), Value::Null);
    }
}
