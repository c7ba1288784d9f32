//! Pods by `spec.nodeName`: which stored pod keys a `spec.nodeName=NODE` list has to read.
//!
//! Upstream serves such lists (every kubelet's list of its pods) from the watch cache's index
//! (`pkg/registry/core/pod/strategy.go`: `Indexers` with `NodeNameIndexFunc`, and
//! `staging/src/k8s.io/apiserver/pkg/storage/cacher`), not by reading every pod. Here the index
//! names candidate keys only; each is read at the list's revision and the whole field selector
//! still decides, so the list is exactly what a full scan gives.
//!
//! The candidates must be a superset of the pods on the node at every revision a list may read
//! (from the index's start to now). So a key joins its node's set before its write commits, and
//! a delete (or a move to another node) only marks the entry with the revision from which the
//! key is gone; marked entries are skipped by lists at or after that revision and dropped once
//! compaction makes older revisions unreadable.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

/// Where pods are stored (`registry.rs`: `/registry/<storage resource>/<namespace>/<name>`).
pub const POD_PREFIX: &str = "/registry/pods/";

/// An entry that is still on its node.
const PRESENT: i64 = i64::MAX;

/// The index itself.
#[derive(Debug, Default)]
pub struct PodNodeIndex {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Node name → pod key → the revision from which the key is no longer on that node
    /// ([`PRESENT`] while it is).
    by_node: BTreeMap<String, BTreeMap<String, i64>>,
    /// Pod key → the node it is on now (only pods with a node).
    node_of: BTreeMap<String, String>,
    /// The first revision lists may be served at: older revisions may hold pods the index
    /// never saw (a store opened with history).
    valid_from: i64,
}

/// The `spec.nodeName` of a pod object, when set.
pub fn node_name(pod: &Value) -> Option<&str> {
    pod.get("spec")?
        .get("nodeName")?
        .as_str()
        .filter(|n| !n.is_empty())
}

impl PodNodeIndex {
    /// An index of `pods` (key, object) stored at `revision`.
    pub fn new<'a>(pods: impl IntoIterator<Item = (&'a str, &'a Value)>, revision: i64) -> Self {
        let index = Self::default();
        {
            let mut inner = index.lock();
            inner.valid_from = revision;
            for (key, pod) in pods {
                if let Some(node) = node_name(pod) {
                    inner.join(key, node);
                }
            }
        }
        index
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Before `pod` is written at `key`: the key joins its node's candidates. Returns the node it
    /// leaves, if it was on another one (for [`PodNodeIndex::left`] once the write's revision is
    /// known).
    pub fn before_write(&self, key: &str, pod: &Value) -> Option<String> {
        if !key.starts_with(POD_PREFIX) {
            return None;
        }
        let mut inner = self.lock();
        let node = node_name(pod);
        let previous = inner.node_of.get(key).cloned();
        if previous.as_deref() == node {
            return None;
        }
        if let Some(node) = node {
            inner.join(key, node);
        }
        previous
    }

    /// After a write at `revision` took `key` off `node` (see [`PodNodeIndex::before_write`]).
    pub fn left(&self, key: &str, node: &str, revision: i64) {
        self.lock().leave(key, node, revision);
    }

    /// After `key` was deleted at `revision`.
    pub fn deleted(&self, key: &str, revision: i64) {
        if !key.starts_with(POD_PREFIX) {
            return;
        }
        let mut inner = self.lock();
        if let Some(node) = inner.node_of.get(key).cloned() {
            inner.leave(key, &node, revision);
        }
    }

    /// The keys in `[from, end)` that may be on `node` at `revision`, in key order; `None` when
    /// the index cannot answer for that revision. Drops the entries no readable revision
    /// (at or after `compacted`) can hold.
    pub fn candidates(
        &self,
        node: &str,
        from: &str,
        end: &str,
        revision: i64,
        compacted: i64,
    ) -> Option<Vec<String>> {
        let mut inner = self.lock();
        if revision < inner.valid_from || revision < compacted {
            return None;
        }
        let Some(keys) = inner.by_node.get_mut(node) else {
            return Some(Vec::new());
        };
        keys.retain(|_, gone_at| *gone_at > compacted);
        let found = keys
            .range(from.to_string()..)
            .take_while(|(key, _)| key.as_str() < end)
            .filter(|(_, gone_at)| revision < **gone_at)
            .map(|(key, _)| key.clone())
            .collect();
        if keys.is_empty() {
            inner.by_node.remove(node);
        }
        Some(found)
    }
}

impl Inner {
    fn leave(&mut self, key: &str, node: &str, revision: i64) {
        if self.node_of.get(key).map(String::as_str) == Some(node) {
            self.node_of.remove(key);
        }
        if let Some(entry) = self
            .by_node
            .get_mut(node)
            .and_then(|keys| keys.get_mut(key))
        {
            *entry = revision;
        }
    }

    fn join(&mut self, key: &str, node: &str) {
        self.node_of.insert(key.to_string(), node.to_string());
        self.by_node
            .entry(node.to_string())
            .or_default()
            .insert(key.to_string(), PRESENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(node: &str) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"nodeName": node}})
    }

    const A: &str = "/registry/pods/default/a";
    const B: &str = "/registry/pods/default/b";
    const END: &str = "/registry/pods0";

    fn on(index: &PodNodeIndex, node: &str, revision: i64, compacted: i64) -> Vec<String> {
        index
            .candidates(node, POD_PREFIX, END, revision, compacted)
            .expect("served")
    }

    /// A move or a delete keeps the key a candidate for the revisions before it, until
    /// compaction passes it; re-creating a key makes it a candidate again.
    #[test]
    fn candidates_cover_every_readable_revision() {
        let index = PodNodeIndex::new(Vec::new(), 0);
        assert_eq!(index.before_write(A, &pod("")), None);
        assert!(on(&index, "n1", 1, -1).is_empty());
        assert_eq!(index.before_write(A, &pod("n1")), None);
        assert_eq!(index.before_write(B, &pod("n1")), None);
        assert_eq!(on(&index, "n1", 3, -1), [A, B]);
        // B moves to n2 at revision 4 (upstream forbids it; the index must not care).
        assert_eq!(index.before_write(B, &pod("n2")), Some("n1".to_string()));
        index.left(B, "n1", 4);
        assert_eq!(on(&index, "n1", 3, -1), [A, B]);
        assert_eq!(on(&index, "n1", 4, -1), [A]);
        assert_eq!(on(&index, "n2", 4, -1), [B]);
        index.deleted(A, 5);
        assert_eq!(on(&index, "n1", 4, -1), [A]);
        assert_eq!(on(&index, "n1", 5, -1), Vec::<String>::new());
        // Re-created on n1: present again for every revision.
        assert_eq!(index.before_write(A, &pod("n1")), None);
        assert_eq!(on(&index, "n1", 7, -1), [A]);
        index.deleted(A, 8);
        // Compaction to 8 drops both of n1's entries: no readable revision holds them.
        assert_eq!(on(&index, "n1", 9, 8), Vec::<String>::new());
        assert_eq!(on(&index, "n1", 8, 7), Vec::<String>::new());
        assert_eq!(on(&index, "n2", 9, 8), [B]);
    }

    #[test]
    fn unanswerable_revisions_and_other_resources() {
        let stored = pod("n1");
        let index = PodNodeIndex::new(vec![(A, &stored)], 10);
        assert_eq!(index.candidates("n1", POD_PREFIX, END, 9, -1), None);
        assert_eq!(index.candidates("n1", POD_PREFIX, END, 10, 11), None);
        assert_eq!(on(&index, "n1", 10, -1), [A]);
        // Pages: from a key, up to the prefix's end.
        assert_eq!(
            index.candidates("n1", B, END, 10, -1),
            Some(Vec::<String>::new())
        );
        let other = "/registry/configmaps/default/a";
        assert_eq!(index.before_write(other, &pod("n1")), None);
        index.deleted(other, 11);
        assert_eq!(on(&index, "n1", 11, -1), [A]);
    }
}
