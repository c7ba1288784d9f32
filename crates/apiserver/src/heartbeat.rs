//! Heartbeats that cost nothing unless observed: the shared, in-process registry of node Lease
//! renewal schedules and of the kubelets' periodic node status reports.
//!
//! A healthy, connected kubelet renews its Lease in `kube-node-lease` every quarter of the lease
//! duration with 4% jitter (upstream: `staging/src/k8s.io/component-helpers/apimachinery/lease/
//! controller.go`, `wait.JitterUntil(c.sync, c.renewInterval, 0.04, true, …)`). Each renewal
//! changes only `spec.renewTime`. Instead of writing every renewal, the kubelet registers its
//! schedule here (the last renewal it accounted for, and the gap after every renewal number)
//! and the API server *materializes* `spec.renewTime` whenever a Lease is read (GET, LIST, the
//! initial list of a WATCH): it shows the latest scheduled renewal at or before the read, or
//! the stored value when that is newer. The node lifecycle controller reads renew times from
//! the same schedule ([`Heartbeats::lease_renew_time`]).
//!
//! Semantics (what a client can tell):
//! - A materialized read carries the **stored resourceVersion**: an implicit renewal is not a
//!   change of the stored object. Optimistic concurrency is unchanged: an update with that
//!   resourceVersion succeeds (a renewal never makes a client's write conflict), and what the
//!   client writes is stored; materialization keeps showing the newer of the stored renewTime
//!   and the schedule, so a client that writes back what it read loses nothing, and the
//!   kubelet's later renewals still show (upstream's kubelet likewise only ever sets
//!   `renewTime` on top of whatever the Lease holds).
//! - While anything outside the process watches Leases ([`Heartbeats::observe`]; the HTTP
//!   watch handler takes an observer for every lease watch), renewals are **explicit**: every
//!   kubelet writes each renewal again, so `kubectl get lease -w` sees them as MODIFIED events.
//!   In-process watches (the node lifecycle controller's and the garbage collector's
//!   informers) do not count: the first reads renew times from the schedule, the second only
//!   metadata, which renewals never change.
//! - A kubelet that stops, is cut off, reconnects or restarts writes its last renewal (the
//!   materialized one) before ending its schedule, so the stored state after a fault is what
//!   per-renewal writes would have left. A deleted Lease ([`Heartbeats::lease_deleted`]) makes
//!   the kubelet's next renewal explicit, which creates it again, as upstream's `ensureLease`.
//!
//! The kubelet's node status report works the same way. Upstream the kubelet syncs its node
//! status every `nodeStatusUpdateFrequency` (10 s, 4% jitter) and patches it when something
//! changed or when `nodeStatusReportFrequency` (5 min) has passed since its last report
//! (`pkg/kubelet/kubelet_node_status.go`: `updateNodeStatus`, `tryUpdateNodeStatus`); a report
//! where nothing changed only moves `lastHeartbeatTime` of the conditions the kubelet's setters
//! own (`pkg/kubelet/nodestatus/setters.go`: `MemoryPressureCondition`,
//! `DiskPressureCondition`, `PIDPressureCondition`, `ReadyCondition` each set it to the sync
//! time; [`KUBELET_CONDITIONS`]). A healthy, connected kubelet whose node did not change
//! registers the instants of those reports ([`ReportSchedule`]) and every Node read shows them:
//! - A materialized Node read carries the **stored resourceVersion** and changes only
//!   `lastHeartbeatTime` of those conditions (never `lastTransitionTime`, status or reason),
//!   to the newer of the stored value and the latest scheduled report. As for Leases, a
//!   client's update or patch with that resourceVersion succeeds, what it writes is stored,
//!   and reads keep showing the newer heartbeat, so writing back what was read loses nothing.
//!   Watch events of other Node changes (in process, while nothing outside watches Nodes)
//!   carry the stored heartbeat; the in-process readers that use it (the node lifecycle
//!   controller) read it through [`Heartbeats::node_heartbeat`].
//! - While a Node watch is open outside the process ([`Heartbeats::observe_nodes`]) reports
//!   are explicit writes again ([`Heartbeats::reports_explicit`]); a kubelet switching to
//!   explicit writes first writes the latest implicit report, so the watch's events never
//!   show a heartbeat older than the initial list did.
//! - A kubelet that writes its status for another reason (pressure, images, its Node changed)
//!   registers a new schedule from that write; one that stops, is cut off or shuts down writes
//!   the last scheduled report first ([`Heartbeats::end_report_schedule`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::Notify;

/// The namespace of node Leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";

/// The gap after renewal number `n` (the time from renewal `n` to renewal `n + 1`).
pub type StepFn = Arc<dyn Fn(u64) -> Duration + Send + Sync>;

/// From a report made at the status sync number `n`: the time to the next report and that
/// report's sync number (reports fall on some of the kubelet's jittered sync ticks).
pub type ReportStepFn = Arc<dyn Fn(u64) -> (Duration, u64) + Send + Sync>;

/// The node conditions whose `lastHeartbeatTime` a node status report refreshes (the
/// kubelet's condition setters, `pkg/kubelet/nodestatus/setters.go`).
pub const KUBELET_CONDITIONS: [&str; 4] =
    ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"];

/// A renewal schedule: the last renewal the kubelet accounted for and how the next ones follow.
#[derive(Clone)]
pub struct LeaseSchedule {
    /// The last renewal accounted for (written, or materialized when the kubelet switched to
    /// explicit writes).
    pub anchor: Timestamp,
    /// Its renewal number (the jitter draw of the gap after it uses this number).
    pub anchor_number: u64,
    /// The gap after each renewal number.
    pub step: StepFn,
    /// The largest gap `step` can return (renew interval × 1.04, rounded up).
    pub max_step: Duration,
}

impl std::fmt::Debug for LeaseSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseSchedule")
            .field("anchor", &self.anchor)
            .field("anchor_number", &self.anchor_number)
            .field("max_step", &self.max_step)
            .finish_non_exhaustive()
    }
}

/// A node status report schedule: the last report the kubelet accounted for, the first one
/// after it (the kubelet's tick chain may have moved since that report) and how the later
/// ones follow.
#[derive(Clone)]
pub struct ReportSchedule {
    /// The last report accounted for (written, or implicit and caught up by the kubelet).
    pub last: Renewal,
    /// The next report (the first sync tick of the current chain at which the report
    /// frequency has passed since `last`).
    pub first: Renewal,
    /// The reports after `first`.
    pub step: ReportStepFn,
}

impl std::fmt::Debug for ReportSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportSchedule")
            .field("last", &self.last)
            .field("first", &self.first)
            .finish_non_exhaustive()
    }
}

/// One scheduled renewal: when, and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Renewal {
    /// The renewal instant (the Lease's `spec.renewTime`).
    pub at: Timestamp,
    /// Its number in the kubelet's sequence of renewals.
    pub number: u64,
}

struct Entry {
    anchor: Renewal,
    /// The first renewal after the anchor when it does not follow from `next`.
    first: Option<Renewal>,
    /// The gap after a renewal number, and the number that follows.
    next: ReportStepFn,
    /// The largest gap (Leases only; `Duration::MAX` for reports).
    max_step: Duration,
    /// The latest renewal found so far (reads move forward from here, not from the anchor).
    cursor: Renewal,
    /// The renewal just before the cursor: a kubelet reads the instant before one of its
    /// reports right after a Node read at that instant moved the cursor onto it, and walking
    /// again from the anchor cost a step per report since the schedule began.
    before_cursor: Option<Renewal>,
    /// The Lease was deleted: the kubelet must write its next renewal (which creates it).
    lost: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("anchor", &self.anchor)
            .field("first", &self.first)
            .field("cursor", &self.cursor)
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

impl Entry {
    fn lease(schedule: LeaseSchedule) -> Self {
        let anchor = Renewal {
            at: schedule.anchor,
            number: schedule.anchor_number,
        };
        let step = schedule.step;
        Self {
            anchor,
            first: None,
            next: Arc::new(move |n| (step(n), n.saturating_add(1))),
            max_step: schedule.max_step,
            cursor: anchor,
            before_cursor: None,
            lost: false,
        }
    }

    fn report(schedule: ReportSchedule) -> Self {
        Self {
            anchor: schedule.last,
            first: Some(schedule.first).filter(|f| f.at > schedule.last.at),
            next: schedule.step,
            max_step: Duration::MAX,
            cursor: schedule.last,
            before_cursor: None,
            lost: false,
        }
    }

    fn next_after(&self, renewal: Renewal) -> Renewal {
        if renewal == self.anchor
            && let Some(first) = self.first
        {
            return first;
        }
        let (gap, number) = (self.next)(renewal.number);
        let gap = SignedDuration::try_from(gap).unwrap_or(SignedDuration::MAX);
        Renewal {
            at: renewal.at.checked_add(gap).unwrap_or(Timestamp::MAX),
            number,
        }
    }

    /// The latest scheduled renewal at or before `now` (the anchor when `now` precedes it).
    fn latest(&mut self, now: Timestamp) -> Renewal {
        if now < self.cursor.at {
            match self.before_cursor {
                // The cursor follows it, so it is the latest at or before `now`.
                Some(before) if before.at <= now => return before,
                _ => {
                    self.cursor = self.anchor;
                    self.before_cursor = None;
                }
            }
        }
        loop {
            let next = self.next_after(self.cursor);
            if next.at > now || next.at <= self.cursor.at {
                return self.cursor;
            }
            self.before_cursor = Some(self.cursor);
            self.cursor = next;
        }
    }
}

#[derive(Debug, Default)]
struct State {
    leases: BTreeMap<String, Entry>,
    /// Node status report schedules by node name.
    reports: BTreeMap<String, Entry>,
    /// Open Lease watches outside the process.
    observers: u64,
    /// Open Node watches outside the process.
    node_observers: u64,
}

/// The registry of node Lease renewal schedules, shared by the API server (reads), the
/// kubelets (schedules) and the node lifecycle controller (renew times).
#[derive(Debug, Default)]
pub struct Heartbeats {
    state: Mutex<State>,
    /// Bumped when a schedule starts or ends (the node lifecycle controller recomputes then).
    generation: AtomicU64,
    /// Wakes the kubelets when renewals must become explicit or may become implicit again.
    mode: Notify,
}

/// Keeps renewals (or node status reports) explicit while it lives (an open Lease or Node
/// watch outside the process).
#[derive(Debug)]
pub struct ObserverGuard {
    heartbeats: Arc<Heartbeats>,
    nodes: bool,
}

impl Drop for ObserverGuard {
    fn drop(&mut self) {
        let last = {
            let mut state = self.heartbeats.lock();
            let count = if self.nodes {
                &mut state.node_observers
            } else {
                &mut state.observers
            };
            *count = count.saturating_sub(1);
            *count == 0
        };
        if last {
            self.heartbeats.mode.notify_waiters();
        }
    }
}

impl Heartbeats {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (or moves the anchor of) the implicit renewals of the Lease `name` in
    /// `kube-node-lease`; clears a deletion mark.
    pub fn set_lease_schedule(&self, name: &str, schedule: LeaseSchedule) {
        let added = {
            let mut state = self.lock();
            state
                .leases
                .insert(name.to_string(), Entry::lease(schedule))
                .is_none()
        };
        if added {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Ends the implicit renewals of `name` at `at`; returns the last scheduled renewal at or
    /// before `at` (what per-renewal writes would have stored last), when a schedule ran.
    pub fn end_lease_schedule(&self, name: &str, at: Timestamp) -> Option<Renewal> {
        let ended = self.lock().leases.remove(name);
        let mut entry = ended?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Some(entry.latest(at))
    }

    /// The latest scheduled renewal of `name` at or before `now`, while its schedule runs.
    pub fn latest_renewal(&self, name: &str, now: Timestamp) -> Option<Renewal> {
        self.lock().leases.get_mut(name).map(|e| e.latest(now))
    }

    /// The first scheduled renewal of `name` after `now`, while its schedule runs.
    pub fn next_renewal(&self, name: &str, now: Timestamp) -> Option<Renewal> {
        let mut state = self.lock();
        let entry = state.leases.get_mut(name)?;
        let latest = entry.latest(now);
        Some(entry.next_after(latest))
    }

    /// The renew time a reader of the Lease `name` sees at `now`: the newer of the stored one
    /// and the latest scheduled renewal (the stored one when no schedule runs).
    pub fn lease_renew_time(
        &self,
        name: &str,
        stored: Option<Timestamp>,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let scheduled = self
            .lock()
            .leases
            .get_mut(name)
            .filter(|e| !e.lost)
            .map(|e| e.latest(now).at);
        match (stored, scheduled) {
            (Some(s), Some(l)) => Some(s.max(l)),
            (s, l) => s.or(l),
        }
    }

    /// Whether the running schedule of `name` keeps the Lease fresh for `grace` at every
    /// instant (every gap is at most `grace`): `None` when no schedule runs.
    pub fn never_lapses(&self, name: &str, grace: Duration) -> Option<bool> {
        self.lock()
            .leases
            .get(name)
            .filter(|e| !e.lost)
            .map(|e| e.max_step <= grace)
    }

    /// A counter that changes whenever a schedule starts or ends.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether the kubelet of `name` must write its renewals (a Lease watch is open outside the
    /// process, or its Lease was deleted).
    pub fn explicit(&self, name: &str) -> bool {
        let state = self.lock();
        state.observers > 0 || state.leases.get(name).is_some_and(|e| e.lost)
    }

    /// Whether renewals are explicit for everyone (a Lease watch is open outside the process).
    pub fn observed(&self) -> bool {
        self.lock().observers > 0
    }

    /// Registers an observer: renewals are written while the guard lives.
    pub fn observe(self: &Arc<Self>) -> ObserverGuard {
        let first = {
            let mut state = self.lock();
            state.observers += 1;
            state.observers == 1
        };
        if first {
            self.mode.notify_waiters();
        }
        ObserverGuard {
            heartbeats: Arc::clone(self),
            nodes: false,
        }
    }

    /// Registers a Node observer (an open Node watch outside the process): node status
    /// reports are written while the guard lives.
    pub fn observe_nodes(self: &Arc<Self>) -> ObserverGuard {
        let first = {
            let mut state = self.lock();
            state.node_observers += 1;
            state.node_observers == 1
        };
        if first {
            self.mode.notify_waiters();
        }
        ObserverGuard {
            heartbeats: Arc::clone(self),
            nodes: true,
        }
    }

    /// Whether node status reports are explicit writes (a Node watch is open outside the
    /// process).
    pub fn reports_explicit(&self) -> bool {
        self.lock().node_observers > 0
    }

    /// Starts (or replaces) the implicit node status reports of the Node `name`.
    pub fn set_report_schedule(&self, name: &str, schedule: ReportSchedule) {
        self.lock()
            .reports
            .insert(name.to_string(), Entry::report(schedule));
    }

    /// Ends the implicit reports of `name` at `at`; returns the last scheduled report at or
    /// before `at` (what per-report writes would have stored last), when a schedule ran.
    pub fn end_report_schedule(&self, name: &str, at: Timestamp) -> Option<Renewal> {
        let mut entry = self.lock().reports.remove(name)?;
        Some(entry.latest(at))
    }

    /// The latest scheduled report of `name` at or before `now`, while its schedule runs.
    pub fn latest_report(&self, name: &str, now: Timestamp) -> Option<Renewal> {
        self.lock().reports.get_mut(name).map(|e| e.latest(now))
    }

    /// The `lastHeartbeatTime` a reader of the Node `name` sees at `now` on the kubelet's
    /// conditions: the newer of `stored` and the latest scheduled report (the stored one when
    /// no schedule runs). Like the API server's serialization, it has second precision.
    pub fn node_heartbeat(
        &self,
        name: &str,
        stored: Option<Timestamp>,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let scheduled = self.latest_report(name, now).map(|r| whole_seconds(r.at));
        match (stored, scheduled) {
            (Some(s), Some(l)) => Some(s.max(l)),
            (s, l) => s.or(l),
        }
    }

    /// Waits for a change of mode (explicit ↔ implicit, or a deleted Lease). Create the
    /// future and `enable` it before reading the mode, so no change is missed.
    pub fn mode_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.mode.notified()
    }

    /// Marks the Lease `name` deleted (called by the delete paths): its kubelet writes its
    /// next renewal, creating the Lease again.
    pub fn lease_deleted(&self, namespace: Option<&str>, name: &str) {
        if namespace != Some(LEASE_NAMESPACE) {
            return;
        }
        let marked = match self.lock().leases.get_mut(name) {
            Some(entry) if !entry.lost => {
                entry.lost = true;
                true
            }
            _ => false,
        };
        if marked {
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.mode.notify_waiters();
        }
    }

    /// Materializes a read at `now`: `spec.renewTime` of a node Lease, `lastHeartbeatTime` of
    /// a Node's kubelet conditions (any other object is left as is).
    pub fn materialize(&self, object: &mut Value, now: Timestamp) {
        let mut state = self.lock();
        materialize_one(&mut state, object, now);
    }

    /// [`Heartbeats::materialize`] over the items of a list.
    pub fn materialize_all(&self, items: &mut [Value], now: Timestamp) {
        let mut state = self.lock();
        if state.leases.is_empty() && state.reports.is_empty() {
            return;
        }
        for item in items {
            materialize_one(&mut state, item, now);
        }
    }
}

/// A timestamp truncated to the second (how `metav1.Time` serializes).
fn whole_seconds(at: Timestamp) -> Timestamp {
    Timestamp::from_second(at.as_second()).unwrap_or(at)
}

fn materialize_one(state: &mut State, object: &mut Value, now: Timestamp) {
    match object["kind"].as_str() {
        Some("Lease") => materialize_lease(state, object, now),
        Some("Node") => materialize_node(state, object, now),
        _ => {}
    }
}

fn materialize_lease(state: &mut State, object: &mut Value, now: Timestamp) {
    if object["metadata"]["namespace"] != LEASE_NAMESPACE {
        return;
    }
    let Some(entry) = object["metadata"]["name"]
        .as_str()
        .and_then(|name| state.leases.get_mut(name))
        .filter(|e| !e.lost)
    else {
        return;
    };
    let latest = entry.latest(now).at;
    let stored = object["spec"]["renewTime"]
        .as_str()
        .and_then(|s| s.parse::<Timestamp>().ok());
    if stored.is_some_and(|s| s >= latest) {
        return;
    }
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert(
            "renewTime".into(),
            Value::String(kubetwin_core::clock::format_micro_time(latest)),
        );
    }
}

fn materialize_node(state: &mut State, object: &mut Value, now: Timestamp) {
    let Some(entry) = object["metadata"]["name"]
        .as_str()
        .and_then(|name| state.reports.get_mut(name))
    else {
        return;
    };
    let latest = entry.latest(now).at;
    if let Some(conditions) = object
        .get_mut("status")
        .and_then(|s| s.get_mut("conditions"))
        .and_then(Value::as_array_mut)
    {
        refresh_report_heartbeats(conditions, latest);
    }
}

/// Sets `lastHeartbeatTime` of the kubelet's conditions ([`KUBELET_CONDITIONS`]) to `at` (at
/// second precision) where the stored one is older or missing: what a report at `at` where
/// nothing changed writes. Returns whether anything changed.
pub fn refresh_report_heartbeats(conditions: &mut [Value], at: Timestamp) -> bool {
    let at = whole_seconds(at);
    let mut shown: Option<Value> = None;
    let mut changed = false;
    for condition in conditions {
        let owned = condition["type"]
            .as_str()
            .is_some_and(|t| KUBELET_CONDITIONS.contains(&t));
        if !owned {
            continue;
        }
        let stored = condition["lastHeartbeatTime"]
            .as_str()
            .and_then(|s| s.parse::<Timestamp>().ok());
        if stored.is_some_and(|s| s >= at) {
            continue;
        }
        let Some(fields) = condition.as_object_mut() else {
            continue;
        };
        let value = shown
            .get_or_insert_with(|| Value::String(kubetwin_core::clock::format_time(at)))
            .clone();
        fields.insert("lastHeartbeatTime".into(), value);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Gaps of 10 s plus n × 100 ms: easy to follow by hand, different for every number.
    fn schedule(anchor_ms: i64, number: u64) -> LeaseSchedule {
        LeaseSchedule {
            anchor: at(anchor_ms),
            anchor_number: number,
            step: Arc::new(|n| Duration::from_millis(10_000 + 100 * n)),
            max_step: Duration::from_millis(10_400),
        }
    }

    fn lease(name: &str, renew: &str) -> Value {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": name, "namespace": LEASE_NAMESPACE, "resourceVersion": "7"},
               "spec": {"holderIdentity": name, "renewTime": renew}})
    }

    /// Materialization across jittered gaps: (case, anchor ms, anchor number, read at ms,
    /// expected renewal ms, expected number). Gaps after renewal n are 10 s + n × 100 ms, as
    /// the kubelet's `JitterUntil` draws differ per renewal (lease/controller.go).
    #[test]
    fn latest_renewal_follows_the_jittered_schedule() {
        let cases: Vec<(&str, i64, u64, i64, i64, u64)> = vec![
            ("at the anchor", 0, 1, 0, 0, 1),
            ("before the first gap ends", 0, 1, 10_099, 0, 1),
            ("exactly at the first renewal", 0, 1, 10_100, 10_100, 2),
            ("second gap is longer", 0, 1, 20_299, 10_100, 2),
            ("second renewal", 0, 1, 20_300, 20_300, 3),
            ("an hour later", 0, 1, 3_600_000, 3_599_100, 187),
            ("anchor number shifts the draws", 0, 5, 10_499, 0, 5),
            ("anchor number 5 first renewal", 0, 5, 10_500, 10_500, 6),
            (
                "a read before the anchor shows the anchor",
                50_000,
                1,
                0,
                50_000,
                1,
            ),
        ];
        for (name, anchor, number, read, want_at, want_number) in cases {
            let registry = Heartbeats::new();
            registry.set_lease_schedule("n1", schedule(anchor, number));
            let got = registry.latest_renewal("n1", at(read));
            assert_eq!(
                got,
                Some(Renewal {
                    at: at(want_at),
                    number: want_number
                }),
                "{name}"
            );
        }
    }

    /// The hour-long case by summing the gaps, and the cursor giving the same answers when
    /// reads go forward and back (one step back answered from the renewal before it).
    #[test]
    fn cursor_reads_agree_with_a_fresh_walk() {
        let mut t = 0i64;
        let mut n = 1u64;
        while t + 10_000 + 100 * n as i64 <= 3_600_000 {
            t += 10_000 + 100 * n as i64;
            n += 1;
        }
        assert_eq!((t, n), (3_599_100, 187));
        let registry = Heartbeats::new();
        registry.set_lease_schedule("n1", schedule(0, 1));
        // Renewals at 0, 10,100, 20,300, 30,600 …: reads at one and just before it.
        for read in [
            3_600_000, 25_000, 3_600_000, 1_000_000, 20_300, 20_299, 20_300, 10_100, 10_099,
            20_300, 10_100, 20_299, 0,
        ] {
            let fresh = Heartbeats::new();
            fresh.set_lease_schedule("n1", schedule(0, 1));
            assert_eq!(
                registry.latest_renewal("n1", at(read)),
                fresh.latest_renewal("n1", at(read)),
                "read at {read}"
            );
        }
        assert_eq!(
            registry.next_renewal("n1", at(25_000)).map(|r| r.at),
            Some(at(30_600))
        );
    }

    /// Reads of a Lease: (case, stored renewTime, schedule anchor or none, read at ms, shown
    /// renewTime). The stored value wins when newer; other namespaces are untouched.
    #[test]
    fn reads_materialize_the_renew_time() {
        let cases: Vec<(&str, &str, Option<i64>, i64, &str)> = vec![
            (
                "no schedule: stored value",
                "2023-11-14T22:13:20.000000Z",
                None,
                60_000,
                "2023-11-14T22:13:20.000000Z",
            ),
            (
                "schedule: latest renewal",
                "2023-11-14T22:13:20.000000Z",
                Some(0),
                25_000,
                "2023-11-14T22:13:40.300000Z",
            ),
            (
                "stored newer than the schedule",
                "2023-11-14T22:14:00.000000Z",
                Some(0),
                25_000,
                "2023-11-14T22:14:00.000000Z",
            ),
        ];
        for (name, stored, anchor, read, want) in cases {
            let registry = Heartbeats::new();
            if let Some(a) = anchor {
                registry.set_lease_schedule("n1", schedule(a, 1));
            }
            let mut items = vec![lease("n1", stored)];
            registry.materialize_all(&mut items, at(read));
            assert_eq!(items[0]["spec"]["renewTime"], want, "{name}");
            assert_eq!(
                items[0]["metadata"]["resourceVersion"], "7",
                "{name}: the stored resourceVersion"
            );
        }
        let registry = Heartbeats::new();
        registry.set_lease_schedule("n1", schedule(0, 1));
        let mut elsewhere = lease("n1", "2023-11-14T22:13:20.000000Z");
        elsewhere["metadata"]["namespace"] = json!("default");
        registry.materialize(&mut elsewhere, at(25_000));
        assert_eq!(
            elsewhere["spec"]["renewTime"],
            "2023-11-14T22:13:20.000000Z"
        );
    }

    /// Stop, start, deletion and observers: (what happens) → what the registry answers.
    #[test]
    fn stop_start_delete_and_explicit_mode() {
        let registry = Arc::new(Heartbeats::new());
        let generation = registry.generation();
        registry.set_lease_schedule("n1", schedule(0, 1));
        assert_ne!(registry.generation(), generation, "a start is a change");
        assert!(!registry.explicit("n1"));
        assert_eq!(
            registry.never_lapses("n1", Duration::from_secs(40)),
            Some(true)
        );
        assert_eq!(
            registry.never_lapses("n1", Duration::from_secs(10)),
            Some(false)
        );

        // Stopped at 25 s: the last renewal was at 20.3 s; the stored value is what counts after.
        let last = registry.end_lease_schedule("n1", at(25_000));
        assert_eq!(last.map(|r| (r.at, r.number)), Some((at(20_300), 3)));
        assert_eq!(registry.latest_renewal("n1", at(60_000)), None);
        assert_eq!(
            registry.lease_renew_time("n1", Some(at(20_300)), at(60_000)),
            Some(at(20_300))
        );
        assert_eq!(registry.never_lapses("n1", Duration::from_secs(40)), None);
        assert_eq!(registry.end_lease_schedule("n1", at(60_000)), None);

        // Started again at 70 s (an explicit write), then the Lease is deleted.
        registry.set_lease_schedule("n1", schedule(70_000, 4));
        registry.lease_deleted(Some("default"), "n1");
        assert!(!registry.explicit("n1"), "another namespace's Lease");
        registry.lease_deleted(Some(LEASE_NAMESPACE), "n1");
        assert!(registry.explicit("n1"), "the next renewal must create it");
        assert_eq!(
            registry.lease_renew_time("n1", None, at(90_000)),
            None,
            "a deleted Lease has no renew time"
        );
        registry.set_lease_schedule("n1", schedule(80_400, 5));
        assert!(!registry.explicit("n1"), "written again");

        // An observer makes every renewal explicit until it goes.
        let guard = registry.observe();
        let second = registry.observe();
        assert!(registry.explicit("n1") && registry.observed());
        drop(guard);
        assert!(registry.explicit("n1"), "one observer left");
        drop(second);
        assert!(!registry.explicit("n1"));
    }

    /// A report schedule whose reports are 300 s + n × 100 ms apart and 30 sync ticks apart:
    /// last report at 0 (sync 3), the next one at 300.5 s (sync 33, from the kubelet's chain).
    fn report_schedule() -> ReportSchedule {
        ReportSchedule {
            last: Renewal {
                at: at(0),
                number: 3,
            },
            first: Renewal {
                at: at(300_500),
                number: 33,
            },
            step: Arc::new(|n| (Duration::from_millis(300_000 + 100 * n), n + 30)),
        }
    }

    /// The latest report at or before a read: (case, read at ms, report ms, sync number).
    /// Upstream (`pkg/kubelet/kubelet_node_status.go` `tryUpdateNodeStatus`) a report is the
    /// first sync at least `nodeStatusReportFrequency` after the last one.
    #[test]
    fn latest_report_follows_the_schedule() {
        let cases: Vec<(&str, i64, i64, u64)> = vec![
            ("before the first report: the last one", 300_499, 0, 3),
            (
                "the first report, from the kubelet's chain",
                300_500,
                300_500,
                33,
            ),
            ("before the second", 603_799, 300_500, 33),
            ("the second, from the step", 603_800, 603_800, 63),
            ("the third", 910_100, 910_100, 93),
            ("a read before the last report shows it", -5_000, 0, 3),
        ];
        let registry = Heartbeats::new();
        registry.set_report_schedule("n1", report_schedule());
        for (name, read, want_at, want_number) in cases {
            assert_eq!(
                registry.latest_report("n1", at(read)),
                Some(Renewal {
                    at: at(want_at),
                    number: want_number
                }),
                "{name}"
            );
        }
        assert_eq!(registry.latest_report("n2", at(0)), None, "no schedule");
    }

    fn node(heartbeat: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "n1", "resourceVersion": "9"},
        "status": {"conditions": [
            {"type": "NetworkUnavailable", "status": "False",
             "lastHeartbeatTime": "2023-11-14T22:00:00Z",
             "lastTransitionTime": "2023-11-14T22:00:00Z"},
            {"type": "MemoryPressure", "status": "False",
             "lastHeartbeatTime": heartbeat,
             "lastTransitionTime": "2023-11-14T22:00:00Z"},
            {"type": "Ready", "status": "True",
             "lastHeartbeatTime": heartbeat,
             "lastTransitionTime": "2023-11-14T22:00:00Z"},
        ]}})
    }

    /// Node reads: (case, stored heartbeat, schedule or none, read at ms, shown heartbeat of
    /// the kubelet's conditions). Only the conditions the kubelet's setters refresh
    /// (`pkg/kubelet/nodestatus/setters.go`) move, at second precision, never backwards;
    /// transition times, other conditions and the resourceVersion stay.
    #[test]
    fn node_reads_materialize_the_report_heartbeat() {
        let cases: Vec<(&str, &str, bool, i64, &str)> = vec![
            (
                "no schedule: stored",
                "2023-11-14T22:13:20Z",
                false,
                400_000,
                "2023-11-14T22:13:20Z",
            ),
            (
                "before the first report: the last one (stored)",
                "2023-11-14T22:13:20Z",
                true,
                200_000,
                "2023-11-14T22:13:20Z",
            ),
            (
                "first report, truncated to the second",
                "2023-11-14T22:13:20Z",
                true,
                400_000,
                "2023-11-14T22:18:20Z",
            ),
            (
                "second report",
                "2023-11-14T22:13:20Z",
                true,
                700_000,
                "2023-11-14T22:23:23Z",
            ),
            (
                "stored newer than the schedule",
                "2023-11-14T22:20:00Z",
                true,
                400_000,
                "2023-11-14T22:20:00Z",
            ),
        ];
        for (name, stored, scheduled, read, want) in cases {
            let registry = Heartbeats::new();
            if scheduled {
                registry.set_report_schedule("n1", report_schedule());
            }
            let mut items = vec![node(stored)];
            registry.materialize_all(&mut items, at(read));
            let shown = &items[0];
            for (i, type_) in [(1, "MemoryPressure"), (2, "Ready")] {
                let condition = &shown["status"]["conditions"][i];
                assert_eq!(condition["type"], type_);
                assert_eq!(condition["lastHeartbeatTime"], want, "{name}: {type_}");
                assert_eq!(
                    condition["lastTransitionTime"], "2023-11-14T22:00:00Z",
                    "{name}"
                );
            }
            assert_eq!(
                shown["status"]["conditions"][0]["lastHeartbeatTime"], "2023-11-14T22:00:00Z",
                "{name}: not a kubelet condition"
            );
            assert_eq!(shown["metadata"]["resourceVersion"], "9", "{name}");
            assert_eq!(
                registry.node_heartbeat("n1", stored.parse().ok(), at(read)),
                want.parse::<Timestamp>().ok(),
                "{name}: node_heartbeat agrees with the read"
            );
        }
        let registry = Heartbeats::new();
        registry.set_report_schedule("n1", report_schedule());
        let mut lease_named_n1 = node("2023-11-14T22:13:20Z");
        lease_named_n1["kind"] = json!("ConfigMap");
        registry.materialize(&mut lease_named_n1, at(400_000));
        assert_eq!(
            lease_named_n1["status"]["conditions"][2]["lastHeartbeatTime"], "2023-11-14T22:13:20Z",
            "only Nodes"
        );
    }

    /// Ending a schedule, and the Node observers: (what happens) → what the registry answers.
    #[test]
    fn report_schedule_end_and_node_observers() {
        let registry = Arc::new(Heartbeats::new());
        registry.set_report_schedule("n1", report_schedule());
        let generation = registry.generation();
        assert_eq!(
            registry
                .end_report_schedule("n1", at(700_000))
                .map(|r| (r.at, r.number)),
            Some((at(603_800), 63)),
            "the last report before the stop"
        );
        assert_eq!(registry.latest_report("n1", at(800_000)), None);
        assert_eq!(registry.end_report_schedule("n1", at(800_000)), None);
        assert_eq!(
            registry.generation(),
            generation,
            "reports do not move lease deadlines"
        );

        assert!(!registry.reports_explicit());
        let leases = registry.observe();
        assert!(
            !registry.reports_explicit(),
            "a Lease watch does not make Node writes"
        );
        let nodes = registry.observe_nodes();
        assert!(registry.reports_explicit());
        assert!(
            registry.observed(),
            "the Lease observer is still counted apart"
        );
        drop(leases);
        assert!(!registry.observed() && registry.reports_explicit());
        drop(nodes);
        assert!(!registry.reports_explicit());
    }

    /// `refresh_report_heartbeats`: (case, stored, report at ms, shown, changed).
    #[test]
    fn refresh_sets_only_older_kubelet_heartbeats() {
        let cases: Vec<(&str, Option<&str>, i64, &str, bool)> = vec![
            (
                "older",
                Some("2023-11-14T22:13:20Z"),
                1_500,
                "2023-11-14T22:13:21Z",
                true,
            ),
            (
                "same second",
                Some("2023-11-14T22:13:21Z"),
                1_500,
                "2023-11-14T22:13:21Z",
                false,
            ),
            (
                "newer",
                Some("2023-11-14T22:13:30Z"),
                1_500,
                "2023-11-14T22:13:30Z",
                false,
            ),
            ("missing", None, 1_500, "2023-11-14T22:13:21Z", true),
            (
                "unparsable",
                Some("yesterday"),
                1_500,
                "2023-11-14T22:13:21Z",
                true,
            ),
        ];
        for (name, stored, report, want, want_changed) in cases {
            let mut conditions = vec![json!({"type": "DiskPressure", "status": "False"})];
            if let Some(s) = stored {
                conditions[0]["lastHeartbeatTime"] = json!(s);
            }
            let changed = refresh_report_heartbeats(&mut conditions, at(report));
            assert_eq!(conditions[0]["lastHeartbeatTime"], want, "{name}");
            assert_eq!(changed, want_changed, "{name}");
        }
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn condition() -> impl Strategy<Value = Value> {
            (
                prop_oneof![
                    Just("Ready"),
                    Just("MemoryPressure"),
                    Just("NetworkUnavailable"),
                    Just("")
                ],
                prop_oneof![
                    Just(Value::Null),
                    Just(json!(7)),
                    "[0-9TZ:.-]{0,22}".prop_map(Value::String),
                    (0i64..2_000_000)
                        .prop_map(|ms| json!(kubetwin_core::clock::format_time(at(ms)))),
                ],
            )
                .prop_map(
                    |(type_, heartbeat)| json!({"type": type_, "lastHeartbeatTime": heartbeat}),
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            /// Node reads never panic on odd conditions, never move a heartbeat backwards and
            /// touch only the kubelet's conditions.
            #[test]
            fn node_materialization_is_safe(
                conditions in proptest::collection::vec(condition(), 0..6),
                status_is_object in any::<bool>(),
                read in -1_000i64..2_000_000,
            ) {
                let registry = Heartbeats::new();
                registry.set_report_schedule("n1", report_schedule());
                let status = if status_is_object { json!({"conditions": conditions}) } else { json!(conditions) };
                let mut node = json!({"kind": "Node", "metadata": {"name": "n1"}, "status": status});
                let before = node.clone();
                registry.materialize(&mut node, at(read));
                if !status_is_object {
                    prop_assert_eq!(&node, &before);
                }
                let shown = node["status"]["conditions"].as_array().cloned().unwrap_or_default();
                let old = before["status"]["conditions"].as_array().cloned().unwrap_or_default();
                prop_assert_eq!(shown.len(), old.len());
                for (new, old) in shown.iter().zip(&old) {
                    let owned = new["type"].as_str().is_some_and(|t| KUBELET_CONDITIONS.contains(&t));
                    if !owned {
                        prop_assert_eq!(new, old);
                    }
                    let parse = |c: &Value| c["lastHeartbeatTime"].as_str().and_then(|s| s.parse::<Timestamp>().ok());
                    if let (Some(o), Some(n)) = (parse(old), parse(new)) {
                        prop_assert!(n >= o);
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn observers_wake_waiting_kubelets() {
        let registry = Arc::new(Heartbeats::new());
        let waiter = registry.mode_changed();
        tokio::pin!(waiter);
        waiter.as_mut().enable();
        let guard = registry.observe();
        waiter.await;
        let waiter = registry.mode_changed();
        tokio::pin!(waiter);
        waiter.as_mut().enable();
        drop(guard);
        waiter.await;
    }
}
