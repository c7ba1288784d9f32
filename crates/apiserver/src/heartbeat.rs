//! Heartbeats that cost nothing unless observed: the shared, in-process registry of node Lease
//! renewal schedules.
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

/// One scheduled renewal: when, and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Renewal {
    /// The renewal instant (the Lease's `spec.renewTime`).
    pub at: Timestamp,
    /// Its number in the kubelet's sequence of renewals.
    pub number: u64,
}

#[derive(Debug)]
struct Entry {
    schedule: LeaseSchedule,
    /// The latest renewal found so far (reads move forward from here, not from the anchor).
    cursor: Renewal,
    /// The Lease was deleted: the kubelet must write its next renewal (which creates it).
    lost: bool,
}

impl Entry {
    fn new(schedule: LeaseSchedule) -> Self {
        let cursor = Renewal {
            at: schedule.anchor,
            number: schedule.anchor_number,
        };
        Self {
            schedule,
            cursor,
            lost: false,
        }
    }

    fn next_after(&self, renewal: Renewal) -> Renewal {
        let gap = SignedDuration::try_from((self.schedule.step)(renewal.number))
            .unwrap_or(SignedDuration::MAX);
        Renewal {
            at: renewal.at.checked_add(gap).unwrap_or(Timestamp::MAX),
            number: renewal.number.saturating_add(1),
        }
    }

    /// The latest scheduled renewal at or before `now` (the anchor when `now` precedes it).
    fn latest(&mut self, now: Timestamp) -> Renewal {
        if now < self.cursor.at {
            self.cursor = Renewal {
                at: self.schedule.anchor,
                number: self.schedule.anchor_number,
            };
        }
        loop {
            let next = self.next_after(self.cursor);
            if next.at > now || next.at <= self.cursor.at {
                return self.cursor;
            }
            self.cursor = next;
        }
    }
}

#[derive(Debug, Default)]
struct State {
    leases: BTreeMap<String, Entry>,
    observers: u64,
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

/// Keeps renewals explicit while it lives (an open Lease watch outside the process).
#[derive(Debug)]
pub struct ObserverGuard {
    heartbeats: Arc<Heartbeats>,
}

impl Drop for ObserverGuard {
    fn drop(&mut self) {
        let last = {
            let mut state = self.heartbeats.lock();
            state.observers = state.observers.saturating_sub(1);
            state.observers == 0
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
                .insert(name.to_string(), Entry::new(schedule))
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
            .map(|e| e.schedule.max_step <= grace)
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

    /// Materializes `spec.renewTime` of a Lease read at `now` (any other object is left as is).
    pub fn materialize(&self, object: &mut Value, now: Timestamp) {
        if object["metadata"]["namespace"] != LEASE_NAMESPACE || object["kind"] != "Lease" {
            return;
        }
        let Some(name) = object["metadata"]["name"].as_str() else {
            return;
        };
        let stored = object["spec"]["renewTime"]
            .as_str()
            .and_then(|s| s.parse::<Timestamp>().ok());
        let Some(latest) = self.lease_renew_time(name, None, now) else {
            return;
        };
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

    /// [`Heartbeats::materialize`] over the items of a list.
    pub fn materialize_all(&self, items: &mut [Value], now: Timestamp) {
        if self.lock().leases.is_empty() {
            return;
        }
        for item in items {
            self.materialize(item, now);
        }
    }
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
    /// reads go forward and back.
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
        for read in [3_600_000, 25_000, 3_600_000, 1_000_000] {
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
