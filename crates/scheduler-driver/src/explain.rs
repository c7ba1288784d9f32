//! The last scheduling decision of each pod, with its per-node, per-plugin explanation, kept in
//! memory for `kubetwin explain pod` (issue 4: never in pod annotations).
//!
//! Bounded: the most recent decisions are kept, at most [`DEFAULT_CAPACITY`] of them and at most
//! [`DEFAULT_BYTE_BUDGET`] of explanations (a pod's entry is replaced by its newer decision and
//! dropped when the pod is deleted), so a large cluster cannot grow it without limit. An
//! explanation's size grows with the nodes examined (about 70 KiB at 5,000 nodes, where the
//! count alone let them take 280 MiB), so the byte budget is what binds on large clusters; a
//! pending pod is retried, so its latest decision stays among the most recent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use kubetwin_scheduler::offline::{self, PodResult};
use kubetwin_scheduler::schedule::Explanation;

/// How many decisions are kept by default.
pub const DEFAULT_CAPACITY: usize = 4096;

/// How many bytes of explanations are kept by default (by [`Explanation::heap_bytes`]).
pub const DEFAULT_BYTE_BUDGET: usize = 64 << 20;

/// One scheduling attempt of one pod, as the scheduler saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `namespace/name`.
    pub pod: String,
    /// When the attempt ran (component time).
    pub at: Timestamp,
    /// The node chosen, or `None` when the pod did not fit.
    pub node: Option<String>,
    /// The FitError text (or error) when it did not fit.
    pub message: Option<String>,
    /// The node nominated by preemption.
    pub nominated_node: Option<String>,
    /// Pods deleted to make room.
    pub preempted: Vec<String>,
    /// Filter verdicts per examined node, scores per plugin.
    pub explanation: Explanation,
}

impl Decision {
    fn as_result(&self) -> PodResult {
        PodResult {
            pod: self.pod.clone(),
            node: self.node.clone(),
            message: self.message.clone(),
            nominated_node: self.nominated_node.clone(),
            preempted: self.preempted.clone(),
            explanation: Some(self.explanation.clone()),
        }
    }

    /// The decision in the `kubetwin schedule -o json --explain` format, plus its time:
    /// `{"time": RFC 3339, "results": [ … one result … ]}`.
    pub fn to_json(&self) -> String {
        let results = offline::to_json(&[self.as_result()], true);
        let mut value: serde_json::Value =
            serde_json::from_str(&results).unwrap_or(serde_json::Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "time".into(),
                serde_json::Value::String(kubetwin_core::clock::format_time(self.at)),
            );
        }
        value.to_string()
    }

    /// The decision as `kubetwin schedule -o table --explain` prints it, under a line with its
    /// time.
    pub fn to_table(&self) -> String {
        format!(
            "Last scheduling decision at {}\n{}",
            kubetwin_core::clock::format_time(self.at),
            offline::to_table(&[self.as_result()], true)
        )
    }
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    byte_budget: usize,
    /// The explanation bytes of the decisions kept.
    bytes: usize,
    next_sequence: u64,
    /// Pod → (sequence, explanation bytes, decision).
    by_pod: BTreeMap<String, (u64, usize, Arc<Decision>)>,
    by_sequence: BTreeMap<u64, String>,
}

/// The shared store of last decisions (cloneable; the scheduler writes, readers look up).
#[derive(Debug, Clone)]
pub struct Explanations {
    inner: Arc<Mutex<Inner>>,
}

impl Default for Explanations {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Explanations {
    /// A store keeping the most recent `capacity` decisions (at least one), within the default
    /// byte budget.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_limits(capacity, DEFAULT_BYTE_BUDGET)
    }

    /// A store keeping the most recent decisions, at most `capacity` of them and at most
    /// `byte_budget` bytes of explanations (the latest decision is kept whatever its size).
    pub fn with_limits(capacity: usize, byte_budget: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                capacity: capacity.max(1),
                byte_budget,
                bytes: 0,
                next_sequence: 0,
                by_pod: BTreeMap::new(),
                by_sequence: BTreeMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last decision about `namespace/name`.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<Decision>> {
        let key = format!("{namespace}/{name}");
        self.lock().by_pod.get(&key).map(|(_, _, d)| d.clone())
    }

    /// How many decisions are kept.
    pub fn len(&self) -> usize {
        self.lock().by_pod.len()
    }

    /// Whether no decision is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps `decision` as its pod's last one, dropping the oldest beyond the limits.
    pub fn record(&self, decision: Decision) {
        let bytes = decision.explanation.heap_bytes();
        let key = decision.pod.clone();
        let mut inner = self.lock();
        let sequence = inner.next_sequence;
        inner.next_sequence += 1;
        inner.bytes += bytes;
        if let Some((old, replaced_bytes, _)) = inner
            .by_pod
            .insert(key.clone(), (sequence, bytes, Arc::new(decision)))
        {
            inner.by_sequence.remove(&old);
            inner.bytes -= replaced_bytes;
        }
        inner.by_sequence.insert(sequence, key);
        while inner.by_pod.len() > inner.capacity
            || (inner.bytes > inner.byte_budget && inner.by_pod.len() > 1)
        {
            let Some((_, oldest)) = inner.by_sequence.pop_first() else {
                break;
            };
            inner.drop_decision(&oldest);
        }
    }

    /// Drops the pod's decision (the pod is gone).
    pub fn forget(&self, pod_key: &str) {
        let mut inner = self.lock();
        if let Some(sequence) = inner.drop_decision(pod_key) {
            inner.by_sequence.remove(&sequence);
        }
    }

    /// The explanation bytes kept (by [`Explanation::heap_bytes`]).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Inner {
    /// Removes the pod's decision from `by_pod` and its bytes from the count; returns its
    /// sequence number.
    fn drop_decision(&mut self, pod_key: &str) -> Option<u64> {
        let (sequence, bytes, _) = self.by_pod.remove(pod_key)?;
        self.bytes -= bytes;
        Some(sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(pod: &str, node: Option<&str>) -> Decision {
        Decision {
            pod: pod.into(),
            at: Timestamp::UNIX_EPOCH,
            node: node.map(str::to_string),
            message: node
                .is_none()
                .then(|| "0/1 nodes are available: 1 Insufficient cpu.".into()),
            nominated_node: None,
            preempted: Vec::new(),
            explanation: Explanation::default(),
        }
    }

    #[test]
    fn keeps_the_latest_per_pod_within_capacity() {
        let store = Explanations::with_capacity(2);
        store.record(decision("default/a", None));
        store.record(decision("default/a", Some("n1")));
        assert_eq!(
            store.get("default", "a").and_then(|d| d.node.clone()),
            Some("n1".into())
        );
        store.record(decision("default/b", Some("n2")));
        store.record(decision("default/c", Some("n3")));
        assert_eq!(store.len(), 2);
        assert!(store.get("default", "a").is_none(), "oldest dropped");
        store.forget("default/b");
        assert!(store.get("default", "b").is_none());
        assert_eq!(store.len(), 1);
    }

    /// Decisions of about 1 KiB each within a 2.5 KiB budget: the two most recent are kept,
    /// and a single decision over the budget is kept alone.
    #[test]
    fn keeps_the_latest_within_the_byte_budget() {
        let sized = |pod: &str, bytes: usize| {
            let mut d = decision(pod, Some("n1"));
            d.explanation.pre_filter_message = String::with_capacity(bytes);
            d
        };
        let store = Explanations::with_limits(100, 2560);
        for pod in ["default/a", "default/b", "default/c"] {
            store.record(sized(pod, 1024));
        }
        assert!(store.get("default", "a").is_none(), "oldest dropped");
        assert!(store.get("default", "b").is_some());
        assert!(store.get("default", "c").is_some());
        assert_eq!(store.bytes(), 2048);
        // Replacing a decision counts only the newer one.
        store.record(sized("default/c", 512));
        assert_eq!(store.bytes(), 1536);
        store.forget("default/b");
        assert_eq!(store.bytes(), 512);
        store.record(sized("default/big", 10_000));
        assert_eq!(
            store.len(),
            1,
            "only the latest, over the budget on its own"
        );
        assert_eq!(store.bytes(), 10_000);
    }

    #[test]
    fn renders_like_the_offline_command() {
        let d = decision("default/big", None);
        let json: serde_json::Value = serde_json::from_str(&d.to_json()).expect("json");
        assert_eq!(json["time"], "1970-01-01T00:00:00Z");
        assert_eq!(json["results"][0]["pod"], "default/big");
        assert_eq!(
            json["results"][0]["message"],
            "0/1 nodes are available: 1 Insufficient cpu."
        );
        let table = d.to_table();
        assert!(table.starts_with("Last scheduling decision at 1970-01-01T00:00:00Z\nPOD"));
    }
}
