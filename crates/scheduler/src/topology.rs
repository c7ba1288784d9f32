//! Per-snapshot indexes for topology spreading, so that passes over thousands of nodes index
//! small vectors instead of comparing label strings:
//!
//! - [`TopologyDomains`]: for one topology key, each node's domain as a small integer and the
//!   id → value table. Built on first use of the key, then kept in step with node additions,
//!   removals and label changes by the snapshot (status-only node updates leave it alone).
//! - [`PodCounts`]: for one namespace and pod selector, each node's number of matching pods,
//!   kept up to date from the snapshot's pod change log like its aggregates.
//!
//! Upstream computes both from node labels and pod lists in every cycle
//! (pkg/scheduler/framework/plugins/podtopologyspread/scoring.go `initPreScoreState`, `PreScore`,
//! `Score`; common.go `countPodsMatchSelector`); the indexes give the same values. Both are
//! indexed by the snapshot's storage slot of a node (see [`crate::snapshot::Snapshot::slot_of`]).

use std::collections::BTreeMap;
use std::sync::Arc;

/// A topology value's number within one [`TopologyDomains`].
pub type DomainId = u32;

/// The id of the empty value. A node without the label has this id too, as a Go map lookup of
/// a missing label yields "" (upstream's PreScore counts such nodes under "").
pub const EMPTY_VALUE_DOMAIN: DomainId = 0;

/// One node's domain under one topology key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeDomain {
    /// The id of the node's value ([`EMPTY_VALUE_DOMAIN`] when the label is missing).
    pub id: DomainId,
    /// Whether the node has the label at all.
    pub has_label: bool,
}

/// The domains of one topology key: per storage slot the node's [`NodeDomain`], and the values.
///
/// Values are only ever added (a value whose last node left keeps its id until the table is
/// compacted), so consumers count domains from the nodes, never from the table's size.
#[derive(Debug, Clone)]
pub struct TopologyDomains {
    key: String,
    slots: Vec<NodeDomain>,
    values: Vec<String>,
    ids: BTreeMap<String, DomainId>,
}

impl TopologyDomains {
    /// The index of `key` over nodes' labels given in storage-slot order.
    pub(crate) fn build<'a>(
        key: &str,
        labels_by_slot: impl Iterator<Item = &'a BTreeMap<String, String>>,
    ) -> Self {
        let mut out = Self {
            key: key.to_owned(),
            slots: Vec::new(),
            values: vec![String::new()],
            ids: BTreeMap::from([(String::new(), EMPTY_VALUE_DOMAIN)]),
        };
        for labels in labels_by_slot {
            let domain = out.domain_for(labels);
            out.slots.push(domain);
        }
        out
    }

    fn intern(&mut self, value: &str) -> DomainId {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = DomainId::try_from(self.values.len()).unwrap_or(DomainId::MAX);
        self.values.push(value.to_owned());
        self.ids.insert(value.to_owned(), id);
        id
    }

    fn domain_for(&mut self, labels: &BTreeMap<String, String>) -> NodeDomain {
        match labels.get(&self.key) {
            Some(value) => NodeDomain {
                id: self.intern(value),
                has_label: true,
            },
            None => NodeDomain {
                id: EMPTY_VALUE_DOMAIN,
                has_label: false,
            },
        }
    }

    /// Appends the node stored in the next slot.
    pub(crate) fn push(&mut self, labels: &BTreeMap<String, String>) {
        let domain = self.domain_for(labels);
        self.slots.push(domain);
    }

    /// Re-reads the labels of the node in `slot`.
    pub(crate) fn set(&mut self, slot: usize, labels: &BTreeMap<String, String>) {
        let domain = self.domain_for(labels);
        if let Some(s) = self.slots.get_mut(slot) {
            *s = domain;
        }
    }

    /// Removes `slot`, moving the last slot into its place (as the snapshot's storage does).
    pub(crate) fn swap_remove(&mut self, slot: usize) {
        if slot < self.slots.len() {
            self.slots.swap_remove(slot);
        }
    }

    /// Whether values of departed nodes make up most of the table (then it is rebuilt).
    pub(crate) fn needs_compaction(&self) -> bool {
        self.values.len() > 2 * self.slots.len() + 64
    }

    /// The topology key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The number of ids (an upper bound of the ids in use, for sizing per-domain vectors).
    pub fn num_ids(&self) -> usize {
        self.values.len()
    }

    /// The value of `id` ("" for an unknown id).
    pub fn value(&self, id: DomainId) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.values.get(i))
            .map_or("", String::as_str)
    }

    /// The id of `value`, if some node has (or had) it.
    pub fn id_of(&self, value: &str) -> Option<DomainId> {
        self.ids.get(value).copied()
    }

    /// The domain of the node in storage slot `slot`.
    pub fn at(&self, slot: usize) -> Option<NodeDomain> {
        self.slots.get(slot).copied()
    }

    /// The number of slots (nodes) indexed.
    pub fn num_slots(&self) -> usize {
        self.slots.len()
    }
}

/// Each node's number of pods matching one namespace and selector, by storage slot.
pub type PodCounts = Arc<Vec<u32>>;

/// The position of `id` in per-domain vectors.
pub fn domain_index(id: DomainId) -> usize {
    usize::try_from(id).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn values_get_ids_in_first_seen_order_and_missing_labels_map_to_the_empty_value() {
        let nodes = [
            labels(&[("zone", "b")]),
            labels(&[("zone", "a")]),
            labels(&[]),
            labels(&[("zone", "")]),
            labels(&[("zone", "b")]),
        ];
        let d = TopologyDomains::build("zone", nodes.iter());
        let ids: Vec<_> = (0..5).filter_map(|s| d.at(s)).collect();
        assert_eq!(
            ids.iter().map(|n| (n.id, n.has_label)).collect::<Vec<_>>(),
            [(1, true), (2, true), (0, false), (0, true), (1, true)]
        );
        assert_eq!(d.value(1), "b");
        assert_eq!(d.value(2), "a");
        assert_eq!(d.value(0), "");
        assert_eq!(d.value(99), "");
        assert_eq!(d.id_of("a"), Some(2));
        assert_eq!(d.id_of("c"), None);
        assert_eq!(d.num_ids(), 3);
        assert_eq!(d.at(5), None);
    }

    #[test]
    fn set_push_and_swap_remove_follow_the_storage() {
        let mut d = TopologyDomains::build("zone", [labels(&[("zone", "a")])].iter());
        d.push(&labels(&[("zone", "b")]));
        d.push(&labels(&[("other", "x")]));
        d.set(0, &labels(&[("zone", "c")]));
        assert_eq!(
            d.at(0).map(|n| d.value(n.id).to_owned()).as_deref(),
            Some("c")
        );
        d.swap_remove(0);
        assert_eq!(d.num_slots(), 2);
        assert_eq!(d.at(0).map(|n| n.has_label), Some(false));
        assert_eq!(
            d.at(1).map(|n| d.value(n.id).to_owned()).as_deref(),
            Some("b")
        );
        // Out-of-range updates are ignored.
        d.set(7, &labels(&[("zone", "q")]));
        d.swap_remove(7);
        assert_eq!(d.num_slots(), 2);
    }
}
