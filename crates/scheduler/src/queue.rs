//! The scheduling queue: an active queue ordered by PrioritySort (priority, then queue timestamp,
//! then arrival order), a backoff queue (1 s doubling to 10 s by default), a pool of unschedulable
//! pods that cluster events move back, and gated pods held by PreEnqueue plugins. Time is virtual
//! and passed in by the caller (nanoseconds).
//!
//! Upstream: pkg/scheduler/backend/queue/scheduling_queue.go (`Add`, `Pop`,
//! `AddUnschedulableIfNotPresent`, `MoveAllToActiveOrBackoffQueue`, `flushBackoffQCompleted`),
//! backoff_queue.go (`calculateBackoffDuration`), active_queue.go, unschedulable_pods.go.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::framework::QueuedPodInfo;
use crate::types::PodInfo;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Ordering key of the active queue: higher priority, earlier timestamp, earlier arrival.
type ActiveKey = (Reverse<i32>, i128, u64);

/// Where a pod is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueLocation {
    /// Ready to be popped.
    Active,
    /// Waiting for its backoff to expire.
    Backoff,
    /// Waiting for a cluster event.
    Unschedulable,
    /// Held by a PreEnqueue plugin.
    Gated,
}

/// The scheduling queue (`PriorityQueue`).
#[derive(Debug, Clone)]
pub struct SchedulingQueue {
    initial_backoff: i128,
    max_backoff: i128,
    sequence: u64,
    active: BTreeMap<ActiveKey, QueuedPodInfo>,
    backoff: BTreeMap<(i128, ActiveKey), QueuedPodInfo>,
    unschedulable: BTreeMap<String, QueuedPodInfo>,
    gated: BTreeMap<String, QueuedPodInfo>,
    location: BTreeMap<String, QueueLocation>,
}

impl SchedulingQueue {
    /// A queue with the given backoff bounds in seconds.
    pub fn new(initial_backoff_seconds: i64, max_backoff_seconds: i64) -> Self {
        Self {
            initial_backoff: i128::from(initial_backoff_seconds) * NANOS_PER_SECOND,
            max_backoff: i128::from(max_backoff_seconds) * NANOS_PER_SECOND,
            sequence: 0,
            active: BTreeMap::new(),
            backoff: BTreeMap::new(),
            unschedulable: BTreeMap::new(),
            gated: BTreeMap::new(),
            location: BTreeMap::new(),
        }
    }

    fn key(q: &QueuedPodInfo) -> ActiveKey {
        (Reverse(q.pod.priority), q.timestamp, q.sequence)
    }

    /// Adds a new pod at time `now`; `gate` is the PreEnqueue verdict ("" = not gated).
    pub fn add(&mut self, pod: Arc<PodInfo>, now: i128, gate: &str) {
        self.sequence += 1;
        let q = QueuedPodInfo {
            pod,
            timestamp: now,
            sequence: self.sequence,
            attempts: 0,
            unschedulable_count: 0,
            consecutive_errors_count: 0,
            unschedulable_plugins: BTreeSet::new(),
            gating_plugin: gate.to_owned(),
        };
        self.insert_ready(q, now);
    }

    fn insert_ready(&mut self, q: QueuedPodInfo, now: i128) {
        let key = q.pod.key.clone();
        if !q.gating_plugin.is_empty() {
            self.location.insert(key.clone(), QueueLocation::Gated);
            self.gated.insert(key, q);
            return;
        }
        let expiry = self.backoff_expiry(&q);
        if expiry > now {
            self.location.insert(key, QueueLocation::Backoff);
            let k = (expiry, Self::key(&q));
            self.backoff.insert(k, q);
        } else {
            self.location.insert(key, QueueLocation::Active);
            self.active.insert(Self::key(&q), q);
        }
    }

    /// The backoff duration of a pod (`calculateBackoffDuration`).
    pub fn backoff_duration(&self, q: &QueuedPodInfo) -> i128 {
        let count = if q.consecutive_errors_count > 0 {
            q.consecutive_errors_count
        } else {
            q.unschedulable_count
        };
        if count == 0 {
            return 0;
        }
        let mut d = self.initial_backoff;
        for _ in 1..count {
            if d > self.max_backoff - d {
                return self.max_backoff;
            }
            d += d;
        }
        d
    }

    fn backoff_expiry(&self, q: &QueuedPodInfo) -> i128 {
        q.timestamp + self.backoff_duration(q)
    }

    /// Moves pods whose backoff expired by `now` to the active queue (`flushBackoffQCompleted`).
    pub fn flush_backoff_completed(&mut self, now: i128) {
        while let Some(entry) = self.backoff.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let q = entry.remove();
            self.location
                .insert(q.pod.key.clone(), QueueLocation::Active);
            self.active.insert(Self::key(&q), q);
        }
    }

    /// The earliest backoff expiry, if any pod is backing off.
    pub fn next_backoff_expiry(&self) -> Option<i128> {
        self.backoff.keys().next().map(|k| k.0)
    }

    /// Pops the first active pod (`Pop`), counting the attempt.
    pub fn pop(&mut self) -> Option<QueuedPodInfo> {
        let mut q = self.active.pop_first()?.1;
        self.location.remove(&q.pod.key);
        q.attempts += 1;
        Some(q)
    }

    /// Returns a pod after a failed attempt at `now` (`AddUnschedulableIfNotPresent`): to the
    /// backoff queue when `retry_soon` (an event may already have helped, e.g. preemption), else
    /// to the unschedulable pool. `error` marks an internal error rather than a rejection.
    pub fn add_unschedulable(
        &mut self,
        mut q: QueuedPodInfo,
        now: i128,
        plugins: BTreeSet<String>,
        retry_soon: bool,
        error: bool,
    ) {
        q.timestamp = now;
        if error {
            q.consecutive_errors_count += 1;
        } else {
            q.consecutive_errors_count = 0;
            q.unschedulable_count += 1;
        }
        q.unschedulable_plugins = plugins;
        let key = q.pod.key.clone();
        if retry_soon || error {
            let expiry = self.backoff_expiry(&q);
            self.location.insert(key, QueueLocation::Backoff);
            self.backoff.insert((expiry, Self::key(&q)), q);
        } else {
            self.location
                .insert(key.clone(), QueueLocation::Unschedulable);
            self.unschedulable.insert(key, q);
        }
    }

    /// Moves unschedulable pods for which `hint` says the event may help back to the active or
    /// backoff queue (`MoveAllToActiveOrBackoffQueue`).
    pub fn move_unschedulable(&mut self, now: i128, hint: impl Fn(&QueuedPodInfo) -> bool) {
        let keys: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|(_, q)| hint(q))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            if let Some(q) = self.unschedulable.remove(&k) {
                self.insert_ready(q, now);
            }
        }
    }

    /// Replaces the pod object of a queued pod (e.g. a new nominated node).
    pub fn update_pod(&mut self, pod: Arc<PodInfo>) {
        let key = pod.key.clone();
        for q in self
            .active
            .values_mut()
            .chain(self.backoff.values_mut())
            .chain(self.unschedulable.values_mut())
            .chain(self.gated.values_mut())
        {
            if q.pod.key == key {
                q.pod = pod.clone();
            }
        }
    }

    /// Where a pod is.
    pub fn location(&self, key: &str) -> Option<QueueLocation> {
        self.location.get(key).copied()
    }

    /// Number of active pods.
    pub fn active_len(&self) -> usize {
        self.active.len()
    }

    /// Number of backing-off pods.
    pub fn backoff_len(&self) -> usize {
        self.backoff.len()
    }

    /// The pods waiting for an event.
    pub fn unschedulable_pods(&self) -> impl Iterator<Item = &QueuedPodInfo> {
        self.unschedulable.values()
    }

    /// The gated pods.
    pub fn gated_pods(&self) -> impl Iterator<Item = &QueuedPodInfo> {
        self.gated.values()
    }

    /// Removes a pod wherever it is.
    pub fn delete(&mut self, key: &str) {
        // Every update of a bound pod lands here although it left the queue long ago: the
        // location map says where (if anywhere) the pod is, so only that part is searched
        // (the active and backoff queues are ordered by time, not by key).
        match self.location.remove(key) {
            None => {}
            Some(QueueLocation::Active) => self.active.retain(|_, q| q.pod.key != key),
            Some(QueueLocation::Backoff) => self.backoff.retain(|_, q| q.pod.key != key),
            Some(QueueLocation::Unschedulable) => {
                self.unschedulable.remove(key);
            }
            Some(QueueLocation::Gated) => {
                self.gated.remove(key);
            }
        }
    }
}
