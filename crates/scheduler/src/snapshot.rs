//! The cluster snapshot the plugins read: every node's `NodeInfo`, listed in the node tree's
//! zone-interleaved order, kept incrementally as nodes and pods come and go.
//!
//! Upstream: pkg/scheduler/backend/cache/node_tree.go (zone grouping and round-robin `list`),
//! pkg/scheduler/backend/cache/snapshot.go, pkg/scheduler/backend/cache/cache.go
//! (`addNodeImageStates`, `UpdateSnapshot`), pkg/util/node (`GetZoneKey`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jiff::Timestamp;

use crate::schedule::NodeName;
use crate::topology::{PodCounts, TopologyDomains};
use crate::types::{NodeData, NodeInfo, PodInfo};

/// The zone key of a node's labels: `region + ":\x00:" + zone`, preferring the beta
/// failure-domain labels, "" when neither is set (`GetZoneKey`).
pub fn zone_key(labels: &BTreeMap<String, String>) -> String {
    let get = |beta: &str, ga: &str| -> String {
        labels
            .get(beta)
            .or_else(|| labels.get(ga))
            .cloned()
            .unwrap_or_default()
    };
    let zone = get(
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/zone",
    );
    let region = get(
        "failure-domain.beta.kubernetes.io/region",
        "topology.kubernetes.io/region",
    );
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\x00:{zone}")
}

/// A global image entry: size of the first node that reported it and the nodes that have it.
#[derive(Debug, Clone, Default)]
struct ImageState {
    size: i64,
    nodes: BTreeSet<String>,
}

/// Errors of snapshot updates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The node is already present.
    #[error("node {0:?} already exists")]
    NodeExists(String),
    /// The node is unknown.
    #[error("node {0:?} not found")]
    NodeNotFound(String),
    /// The pod is already on a node.
    #[error("pod {0:?} is already assigned")]
    PodExists(String),
    /// The pod is unknown.
    #[error("pod {0:?} not found")]
    PodNotFound(String),
}

/// Counts per topology pair: topology key → value → count. Inner maps are shared so that a
/// cycle state can hold them without copying (copy on write).
pub type TopologyCounts = BTreeMap<String, Arc<BTreeMap<String, i64>>>;

/// What one node contributes to an aggregate: (topology key, value, count) triples.
pub type Contribution = Vec<(String, String, i64)>;

/// How many pod changes the snapshot remembers for incremental aggregates; older caches are
/// rebuilt from scratch.
const CHANGE_LOG_CAPACITY: usize = 4096;
/// How many aggregates a snapshot keeps (least recently used ones are dropped).
const MAX_AGGREGATES: usize = 64;

/// A sum over all nodes of per-node contributions, kept up to date from the snapshot's change
/// log: only the nodes whose pods changed since the last use are recomputed. Upstream
/// recomputes these sums in every PreFilter (over 16 goroutines); the results are identical.
#[derive(Debug, Clone, Default)]
struct NodeAggregate {
    node_set_version: u64,
    pod_version: u64,
    last_used: u64,
    /// Keep pairs whose count is zero while some node contributes to them.
    keep_zero: bool,
    per_node: Vec<Contribution>,
    totals: TopologyCounts,
    contributors: BTreeMap<(String, String), usize>,
}

impl NodeAggregate {
    fn apply(&mut self, c: &Contribution, sign: i64) {
        for (k, v, n) in c {
            let slot = self.contributors.entry((k.clone(), v.clone())).or_insert(0);
            if sign > 0 {
                *slot += 1;
            } else {
                *slot = slot.saturating_sub(1);
            }
            let contributors = *slot;
            if contributors == 0 {
                self.contributors.remove(&(k.clone(), v.clone()));
            }
            let inner = Arc::make_mut(self.totals.entry(k.clone()).or_default());
            let e = inner.entry(v.clone()).or_insert(0);
            *e += sign * n;
            let drop = if self.keep_zero {
                contributors == 0
            } else {
                *e == 0
            };
            if drop {
                inner.remove(v);
                if inner.is_empty() {
                    self.totals.remove(k);
                }
            }
        }
    }
}

/// Drops the least recently used entry of `cache` when `key` is new and the cache is full.
fn make_room<V>(
    cache: &mut BTreeMap<String, V>,
    key: &str,
    capacity: usize,
    last_used: impl Fn(&V) -> u64,
) {
    if cache.len() >= capacity
        && !cache.contains_key(key)
        && let Some(oldest) = cache
            .iter()
            .min_by_key(|(_, e)| last_used(e))
            .map(|(k, _)| k.clone())
    {
        cache.remove(&oldest);
    }
}

/// The aggregates of a snapshot (interior mutability: plugins read the snapshot shared).
#[derive(Debug, Default)]
struct AggregateCache {
    entries: BTreeMap<String, NodeAggregate>,
    tick: u64,
}

/// How many per-node pod count vectors a snapshot keeps (least recently used ones are dropped).
/// One per namespace and selector in use: a cluster with many Deployments scheduling at once
/// revisits each selector every few cycles, so the bound is generous (4 bytes per node each).
const MAX_POD_COUNTS: usize = 512;

/// One namespace and selector's matching pods per node, as of `pod_version`.
#[derive(Debug)]
struct PodCountEntry {
    node_set_version: u64,
    pod_version: u64,
    last_used: u64,
    counts: PodCounts,
}

/// The topology indexes of a snapshot (interior mutability: built on first use by plugins that
/// read the snapshot shared; node changes update them through `&mut`).
#[derive(Debug, Default)]
struct TopologyCache {
    domains: BTreeMap<String, Arc<TopologyDomains>>,
    pod_counts: BTreeMap<String, PodCountEntry>,
    tick: u64,
}

/// Identifies one snapshot among all in the process (clones get a new one), so that caches
/// keyed by snapshot versions never mistake another snapshot for theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotId(u64);

impl Default for SnapshotId {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SnapshotId(NEXT.fetch_add(1, AtomicOrdering::Relaxed))
    }
}

/// All nodes with their pods, in node-tree order.
#[derive(Debug, Default)]
pub struct Snapshot {
    id: SnapshotId,
    infos: Vec<NodeInfo>,
    /// Each stored node's `generation`, compact (passes over all nodes read it without
    /// touching the `NodeInfo`s).
    generations: Vec<u64>,
    by_name: BTreeMap<String, usize>,
    zones: Vec<String>,
    tree: BTreeMap<String, Vec<usize>>,
    order: Vec<usize>,
    /// Node names (interned) in list order, shared with per-cycle status maps and read by
    /// explanations (built on first use after the node set changes).
    names: OnceLock<Arc<[NodeName]>>,
    images: BTreeMap<String, ImageState>,
    pod_nodes: BTreeMap<String, usize>,
    pvc_users: BTreeMap<String, usize>,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
    /// Number of pods per priority (bounds preemption candidates' scores).
    priority_counts: BTreeMap<i32, usize>,
    /// Number of pods per start time; `None`: pods without `status.startTime`.
    start_time_counts: BTreeMap<Option<Timestamp>, usize>,
    /// Bumped when nodes are added or removed (storage indices change).
    node_set_version: u64,
    /// Bumped on every pod added or removed.
    pod_version: u64,
    /// (pod version, node storage index) of recent pod changes.
    change_log: VecDeque<(u64, usize)>,
    aggregates: Mutex<AggregateCache>,
    topology: Mutex<TopologyCache>,
}

impl Clone for Snapshot {
    fn clone(&self) -> Self {
        Self {
            id: SnapshotId::default(),
            infos: self.infos.clone(),
            generations: self.generations.clone(),
            by_name: self.by_name.clone(),
            zones: self.zones.clone(),
            tree: self.tree.clone(),
            order: self.order.clone(),
            names: self.names.clone(),
            images: self.images.clone(),
            pod_nodes: self.pod_nodes.clone(),
            pvc_users: self.pvc_users.clone(),
            pods_with_affinity: self.pods_with_affinity,
            pods_with_required_anti_affinity: self.pods_with_required_anti_affinity,
            priority_counts: self.priority_counts.clone(),
            start_time_counts: self.start_time_counts.clone(),
            node_set_version: self.node_set_version,
            pod_version: self.pod_version,
            change_log: self.change_log.clone(),
            // Caches are rebuilt on demand.
            aggregates: Mutex::new(AggregateCache::default()),
            topology: Mutex::new(TopologyCache::default()),
        }
    }
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.order.len()
    }

    /// The node at position `i` of the list order.
    pub fn at(&self, i: usize) -> &NodeInfo {
        &self.infos[self.order[i]]
    }

    /// The nodes in list order (`NodeInfos().List()`).
    pub fn list(&self) -> impl ExactSizeIterator<Item = &NodeInfo> + Clone + '_ {
        self.order.iter().map(move |&i| &self.infos[i])
    }

    /// The node names, interned, in list order (a new list whenever nodes are added or
    /// removed). Status maps record snapshot nodes by position against it; an explanation
    /// names each examined node from it instead of reading every node's own record, which a
    /// Filter verdict taken from the cache never touched (a cache miss per node otherwise).
    pub fn list_names(&self) -> &Arc<[NodeName]> {
        self.names.get_or_init(|| {
            self.order
                .iter()
                .map(|&i| self.infos[i].interned_name())
                .collect()
        })
    }

    /// Nodes with at least one pod with (anti-)affinity, in list order.
    pub fn have_pods_with_affinity(&self) -> impl Iterator<Item = &NodeInfo> + '_ {
        let any = self.pods_with_affinity > 0;
        self.list()
            .take_while(move |_| any)
            .filter(|n| !n.pods_with_affinity.is_empty())
    }

    /// Nodes with at least one pod with required anti-affinity, in list order.
    pub fn have_pods_with_required_anti_affinity(&self) -> impl Iterator<Item = &NodeInfo> + '_ {
        self.list()
            .filter(|n| !n.pods_with_required_anti_affinity.is_empty())
    }

    /// The node named `name`.
    pub fn get(&self, name: &str) -> Option<&NodeInfo> {
        self.by_name.get(name).map(|&i| &self.infos[i])
    }

    /// Whether some pod on some node uses the PVC `namespace/name` (`IsPVCUsedByPods`).
    pub fn is_pvc_used_by_pods(&self, key: &str) -> bool {
        self.pvc_users.get(key).is_some_and(|&n| n > 0)
    }

    /// The size of an image and the number of nodes that have it (`ImageStateSummary`).
    pub fn image_state(&self, name: &str) -> Option<(i64, usize)> {
        self.images.get(name).map(|s| (s.size, s.nodes.len()))
    }

    /// The node a pod is on, by pod key.
    pub fn node_of_pod(&self, key: &str) -> Option<&NodeInfo> {
        self.pod_nodes.get(key).map(|&i| &self.infos[i])
    }

    /// Whether any pod on any node has pod affinity or anti-affinity.
    pub fn any_pods_with_affinity(&self) -> bool {
        self.pods_with_affinity > 0
    }

    /// Whether any pod on any node has required pod anti-affinity.
    pub fn any_pods_with_required_anti_affinity(&self) -> bool {
        self.pods_with_required_anti_affinity > 0
    }

    /// The lowest priority of any pod on any node (`None` when there are no pods).
    pub fn lowest_pod_priority(&self) -> Option<i32> {
        self.priority_counts.keys().next().copied()
    }

    /// The latest `status.startTime` of any pod on any node: `Some(None)` when some pod has no
    /// start time, `None` when there are no pods.
    pub fn latest_pod_start_time(&self) -> Option<Option<Timestamp>> {
        if self.start_time_counts.contains_key(&None) {
            return Some(None);
        }
        self.start_time_counts.keys().next_back().copied()
    }

    fn count_pod(&mut self, pod: &PodInfo, sign: i64) {
        fn bump<K: Ord>(map: &mut BTreeMap<K, usize>, key: K, sign: i64) {
            if sign > 0 {
                *map.entry(key).or_insert(0) += 1;
            } else if let Some(n) = map.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
        bump(&mut self.priority_counts, pod.priority, sign);
        bump(&mut self.start_time_counts, pod.start_time, sign);
    }

    /// This snapshot's identity.
    pub fn id(&self) -> SnapshotId {
        self.id
    }

    /// Bumped whenever nodes are added or removed.
    pub fn node_set_version(&self) -> u64 {
        self.node_set_version
    }

    /// The `generation` of the node at list position `pos`.
    pub fn generation_at(&self, pos: usize) -> Option<u64> {
        self.order
            .get(pos)
            .and_then(|&i| self.generations.get(i))
            .copied()
    }

    /// Whether `node` is this snapshot's node at its list position (not a copy).
    pub fn owns(&self, node: &NodeInfo) -> bool {
        node.list_position < self.order.len() && std::ptr::eq(self.at(node.list_position), node)
    }

    fn log_change(&mut self, idx: usize) {
        self.pod_version += 1;
        if let Some(info) = self.infos.get_mut(idx) {
            info.generation = self.pod_version;
        }
        if let Some(g) = self.generations.get_mut(idx) {
            *g = self.pod_version;
        }
        if self.change_log.len() == CHANGE_LOG_CAPACITY {
            self.change_log.pop_front();
        }
        self.change_log.push_back((self.pod_version, idx));
    }

    /// The sum over all nodes of `contribute(node)`, by topology key and value, kept
    /// incrementally under `key` (which must identify `contribute` completely): the first call
    /// computes every node, later calls only the nodes whose pods changed since. With
    /// `keep_zero`, pairs stay (with count 0) while some node contributes to them.
    pub fn aggregate(
        &self,
        key: &str,
        keep_zero: bool,
        contribute: &dyn Fn(&NodeInfo, &mut Contribution),
    ) -> TopologyCounts {
        let Ok(mut cache) = self.aggregates.lock() else {
            return self.aggregate_uncached(keep_zero, contribute);
        };
        cache.tick += 1;
        let tick = cache.tick;
        let oldest_logged = self
            .change_log
            .front()
            .map_or(self.pod_version, |(v, _)| *v);
        let usable = cache.entries.get(key).is_some_and(|e| {
            e.node_set_version == self.node_set_version
                && e.keep_zero == keep_zero
                && (e.pod_version == self.pod_version || e.pod_version + 1 >= oldest_logged)
        });
        if !usable {
            make_room(&mut cache.entries, key, MAX_AGGREGATES, |e| e.last_used);
            let mut agg = NodeAggregate {
                node_set_version: self.node_set_version,
                pod_version: self.pod_version,
                last_used: tick,
                keep_zero,
                per_node: vec![Vec::new(); self.infos.len()],
                ..Default::default()
            };
            for &idx in &self.order {
                let mut c = Vec::new();
                contribute(&self.infos[idx], &mut c);
                agg.apply(&c, 1);
                agg.per_node[idx] = c;
            }
            let totals = agg.totals.clone();
            cache.entries.insert(key.to_owned(), agg);
            return totals;
        }
        let Some(agg) = cache.entries.get_mut(key) else {
            return self.aggregate_uncached(keep_zero, contribute);
        };
        agg.last_used = tick;
        if agg.pod_version != self.pod_version {
            let mut changed: BTreeSet<usize> = BTreeSet::new();
            for (v, idx) in &self.change_log {
                if *v > agg.pod_version {
                    changed.insert(*idx);
                }
            }
            for idx in changed {
                let Some(info) = self.infos.get(idx) else {
                    continue;
                };
                let old = std::mem::take(&mut agg.per_node[idx]);
                agg.apply(&old, -1);
                let mut c = Vec::new();
                contribute(info, &mut c);
                agg.apply(&c, 1);
                agg.per_node[idx] = c;
            }
            agg.pod_version = self.pod_version;
        }
        agg.totals.clone()
    }

    fn aggregate_uncached(
        &self,
        keep_zero: bool,
        contribute: &dyn Fn(&NodeInfo, &mut Contribution),
    ) -> TopologyCounts {
        let mut agg = NodeAggregate {
            keep_zero,
            ..Default::default()
        };
        for n in self.list() {
            let mut c = Vec::new();
            contribute(n, &mut c);
            agg.apply(&c, 1);
        }
        agg.totals
    }

    fn topology_cache_mut(&mut self) -> &mut TopologyCache {
        self.topology
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The storage slot of `node` when it is this snapshot's node or a copy of it with the same
    /// node object (its labels are then the indexed ones); the index of
    /// [`Snapshot::topology_domains`] and [`Snapshot::pods_matching_per_node`].
    pub fn slot_of(&self, node: &NodeInfo) -> Option<usize> {
        let &slot = self.order.get(node.list_position)?;
        let stored = self.infos.get(slot)?;
        Arc::ptr_eq(&stored.node, &node.node).then_some(slot)
    }

    /// The storage slot of `node` when it is this snapshot's node itself (so its pods are the
    /// counted ones too).
    pub fn owned_slot(&self, node: &NodeInfo) -> Option<usize> {
        let &slot = self.order.get(node.list_position)?;
        let stored = self.infos.get(slot)?;
        std::ptr::eq(stored, node).then_some(slot)
    }

    /// The number of storage slots (= nodes).
    pub fn num_slots(&self) -> usize {
        self.infos.len()
    }

    /// The storage slots in list order.
    pub fn slots_in_list_order(&self) -> &[usize] {
        &self.order
    }

    /// The domain index of topology key `key`, built on first use and kept in step with node
    /// changes (label changes through [`Snapshot::update_node`] update it; status-only updates
    /// do not touch it).
    pub fn topology_domains(&self, key: &str) -> Arc<TopologyDomains> {
        let build = || {
            Arc::new(TopologyDomains::build(
                key,
                self.infos.iter().map(|n| &n.node.labels),
            ))
        };
        let Ok(mut cache) = self.topology.lock() else {
            return build();
        };
        if let Some(d) = cache.domains.get(key)
            && !d.needs_compaction()
        {
            return d.clone();
        }
        let d = build();
        cache.domains.insert(key.to_owned(), d.clone());
        d
    }

    /// Per storage slot, `count(node)`: a node's number of pods matching one namespace and
    /// selector, which `key` must identify completely. Kept under `key` and brought up to date
    /// from the pod change log: only the nodes whose pods changed since the last call are
    /// counted again (all of them after node additions or removals).
    pub fn pods_matching_per_node(&self, key: &str, count: &dyn Fn(&NodeInfo) -> u32) -> PodCounts {
        let count_all = || Arc::new(self.infos.iter().map(count).collect::<Vec<u32>>());
        let Ok(mut cache) = self.topology.lock() else {
            return count_all();
        };
        cache.tick += 1;
        let tick = cache.tick;
        let oldest_logged = self
            .change_log
            .front()
            .map_or(self.pod_version, |(v, _)| *v);
        if let Some(entry) = cache.pod_counts.get_mut(key)
            && entry.node_set_version == self.node_set_version
            && (entry.pod_version == self.pod_version || entry.pod_version + 1 >= oldest_logged)
        {
            entry.last_used = tick;
            if entry.pod_version != self.pod_version {
                let since = entry.pod_version;
                let first = self.change_log.partition_point(|(v, _)| *v <= since);
                let counts = Arc::make_mut(&mut entry.counts);
                for (_, idx) in self.change_log.range(first..) {
                    if let (Some(slot), Some(info)) = (counts.get_mut(*idx), self.infos.get(*idx)) {
                        *slot = count(info);
                    }
                }
                entry.pod_version = self.pod_version;
            }
            return entry.counts.clone();
        }
        make_room(&mut cache.pod_counts, key, MAX_POD_COUNTS, |e| e.last_used);
        let counts = count_all();
        cache.pod_counts.insert(
            key.to_owned(),
            PodCountEntry {
                node_set_version: self.node_set_version,
                pod_version: self.pod_version,
                last_used: tick,
                counts: counts.clone(),
            },
        );
        counts
    }

    /// Adds a node at the end of its zone (`nodeTree.addNode`).
    pub fn add_node(&mut self, node: NodeData) -> Result<(), SnapshotError> {
        if self.by_name.contains_key(&node.name) {
            return Err(SnapshotError::NodeExists(node.name));
        }
        self.index_images(&node.name, &node.images);
        let idx = self.infos.len();
        let zone = zone_key(&node.labels);
        self.by_name.insert(node.name.clone(), idx);
        for domains in self.topology_cache_mut().domains.values_mut() {
            Arc::make_mut(domains).push(&node.labels);
        }
        self.infos.push(NodeInfo::new(Arc::new(node)));
        self.generations.push(0);
        self.node_set_version += 1;
        self.zone_insert(zone, idx);
        self.rebuild_order();
        Ok(())
    }

    /// Adds the node, or replaces the node object of a cached node keeping its pods and its
    /// place in the list (upstream: `cache.UpdateNode` → `NodeInfo.SetNode` and
    /// `nodeTree.updateNode`, which moves the node only when its zone changed).
    pub fn update_node(&mut self, node: NodeData) -> Result<(), SnapshotError> {
        let Some(&idx) = self.by_name.get(&node.name) else {
            return self.add_node(node);
        };
        // Whether anything the plugins read changed: a status heartbeat replaces the object
        // without invalidating the node's cached verdicts and aggregate contributions.
        let relevant_change = {
            let old = &self.infos[idx].node;
            old.labels != node.labels
                || old.taints != node.taints
                || old.unschedulable != node.unschedulable
                || old.allocatable != node.allocatable
                || old.images != node.images
        };
        let old_zone = zone_key(&self.infos[idx].node.labels);
        let new_zone = zone_key(&node.labels);
        if old_zone != new_zone {
            self.zone_remove(&old_zone, idx);
            self.zone_insert(new_zone, idx);
            self.node_set_version += 1;
            self.rebuild_order();
        }
        if self.infos[idx].node.labels != node.labels {
            for domains in self.topology_cache_mut().domains.values_mut() {
                Arc::make_mut(domains).set(idx, &node.labels);
            }
        }
        if self.infos[idx].node.images != node.images {
            let old = self.infos[idx].node.clone();
            self.unindex_images(&old.name, &old.images);
            self.index_images(&node.name, &node.images);
        }
        self.infos[idx].set_node(Arc::new(node));
        if relevant_change {
            // The node's verdicts and aggregate contributions are recomputed, as after a pod
            // change.
            self.log_change(idx);
        }
        Ok(())
    }

    /// Removes a node and its pods (`nodeTree.removeNode`).
    pub fn remove_node(&mut self, name: &str) -> Result<NodeInfo, SnapshotError> {
        let idx = self
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| SnapshotError::NodeNotFound(name.to_owned()))?;
        let node = self.infos[idx].node.clone();
        self.zone_remove(&zone_key(&node.labels), idx);
        self.unindex_images(&node.name, &node.images);
        let removed_pods: Vec<Arc<PodInfo>> = self.infos[idx].pods.clone();
        for p in &removed_pods {
            self.pods_with_affinity -= usize::from(p.has_affinity);
            self.pods_with_required_anti_affinity -= usize::from(p.has_required_anti_affinity);
            self.count_pod(p, -1);
        }
        let keys: Vec<String> = self.infos[idx].pods.iter().map(|p| p.key.clone()).collect();
        for k in keys {
            self.pod_nodes.remove(&k);
        }
        for (pvc, count) in &self.infos[idx].pvc_ref_counts {
            if let Some(n) = self.pvc_users.get_mut(pvc) {
                *n = n.saturating_sub(usize::try_from(*count).unwrap_or(0));
            }
        }
        self.node_set_version += 1;
        // Swap-remove the storage slot and re-point the moved node.
        let last = self.infos.len() - 1;
        let removed = self.infos.swap_remove(idx);
        self.generations.swap_remove(idx);
        for domains in self.topology_cache_mut().domains.values_mut() {
            Arc::make_mut(domains).swap_remove(idx);
        }
        self.by_name.remove(name);
        if idx != last {
            let moved = self.infos[idx].name().to_owned();
            self.by_name.insert(moved, idx);
            for list in self.tree.values_mut() {
                for i in list.iter_mut() {
                    if *i == last {
                        *i = idx;
                    }
                }
            }
            for i in self.pod_nodes.values_mut() {
                if *i == last {
                    *i = idx;
                }
            }
        }
        self.rebuild_order();
        Ok(removed)
    }

    /// Appends storage slot `idx` to `zone`'s list (`nodeTree.addNode`).
    fn zone_insert(&mut self, zone: String, idx: usize) {
        match self.tree.get_mut(&zone) {
            Some(list) => list.push(idx),
            None => {
                self.zones.push(zone.clone());
                self.tree.insert(zone, vec![idx]);
            }
        }
    }

    /// Takes storage slot `idx` out of `zone`'s list, dropping the zone when it empties.
    fn zone_remove(&mut self, zone: &str, idx: usize) {
        if let Some(list) = self.tree.get_mut(zone) {
            list.retain(|&i| i != idx);
            if list.is_empty() {
                self.tree.remove(zone);
                self.zones.retain(|z| z != zone);
            }
        }
    }

    /// Records that node `name` holds `images`.
    fn index_images(&mut self, name: &str, images: &[(String, i64)]) {
        for (img, size) in images {
            let st = self
                .images
                .entry(img.clone())
                .or_insert_with(|| ImageState {
                    size: *size,
                    nodes: BTreeSet::new(),
                });
            st.nodes.insert(name.to_owned());
        }
    }

    /// Forgets that node `name` holds `images`.
    fn unindex_images(&mut self, name: &str, images: &[(String, i64)]) {
        for (img, _) in images {
            if let Some(st) = self.images.get_mut(img) {
                st.nodes.remove(name);
                if st.nodes.is_empty() {
                    self.images.remove(img);
                }
            }
        }
    }

    fn rebuild_order(&mut self) {
        // Upstream: nodeTree.list — round-robin over zones in first-seen order.
        self.order.clear();
        let lists: Vec<&Vec<usize>> = self.zones.iter().filter_map(|z| self.tree.get(z)).collect();
        let mut index = 0;
        loop {
            let mut any = false;
            for l in &lists {
                if let Some(&i) = l.get(index) {
                    self.order.push(i);
                    any = true;
                }
            }
            if !any {
                break;
            }
            index += 1;
        }
        for (pos, &i) in self.order.iter().enumerate() {
            self.infos[i].list_position = pos;
        }
        self.names = OnceLock::new();
    }

    /// Adds a pod to the node named in `pod.node_name`.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) -> Result<(), SnapshotError> {
        if self.pod_nodes.contains_key(&pod.key) {
            return Err(SnapshotError::PodExists(pod.key.clone()));
        }
        let idx = self
            .by_name
            .get(&pod.node_name)
            .copied()
            .ok_or_else(|| SnapshotError::NodeNotFound(pod.node_name.clone()))?;
        self.pod_nodes.insert(pod.key.clone(), idx);
        self.pods_with_affinity += usize::from(pod.has_affinity);
        self.pods_with_required_anti_affinity += usize::from(pod.has_required_anti_affinity);
        for k in &pod.pvc_keys {
            *self.pvc_users.entry(k.clone()).or_insert(0) += 1;
        }
        self.count_pod(&pod, 1);
        self.infos[idx].add_pod(pod);
        self.log_change(idx);
        Ok(())
    }

    /// Removes a pod by key, returning it.
    pub fn remove_pod(&mut self, key: &str) -> Result<Arc<PodInfo>, SnapshotError> {
        let idx = self
            .pod_nodes
            .remove(key)
            .ok_or_else(|| SnapshotError::PodNotFound(key.to_owned()))?;
        let pod = self.infos[idx]
            .remove_pod(key)
            .ok_or_else(|| SnapshotError::PodNotFound(key.to_owned()))?;
        self.pods_with_affinity -= usize::from(pod.has_affinity);
        self.pods_with_required_anti_affinity -= usize::from(pod.has_required_anti_affinity);
        self.count_pod(&pod, -1);
        self.log_change(idx);
        for k in &pod.pvc_keys {
            if let Some(n) = self.pvc_users.get_mut(k) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.pvc_users.remove(k);
                }
            }
        }
        Ok(pod)
    }

    /// Every pod on every node, in list order.
    pub fn all_pods(&self) -> impl Iterator<Item = &Arc<PodInfo>> + '_ {
        self.list().flat_map(|n| n.pods.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{make_node, make_pod};

    fn pod(name: &str, priority: i32, start: Option<i64>) -> Arc<PodInfo> {
        let mut b = make_pod(name).priority(priority).node("n");
        if let Some(s) = start {
            b = b.start_time(s);
        }
        Arc::new(PodInfo::new(b.obj()).expect("pod"))
    }

    /// Upstream `TestNodeTree_UpdateNode`-like behaviour of `cache.UpdateNode`: an update keeps
    /// the node's pods and list position; only a zone change moves it (to its new zone's end).
    #[test]
    fn update_node_keeps_pods_and_place_unless_the_zone_changes() {
        let zone = |name: &str, z: &str| {
            NodeData::new(
                make_node(name)
                    .label("topology.kubernetes.io/zone", z)
                    .obj(),
            )
            .expect("node")
        };
        let order = |s: &Snapshot| s.list().map(|n| n.name().to_owned()).collect::<Vec<_>>();
        let mut s = Snapshot::new();
        for (n, z) in [("a", "z1"), ("b", "z1"), ("c", "z2")] {
            s.add_node(zone(n, z)).expect("add");
        }
        s.add_node(NodeData::new(make_node("n").obj()).expect("n"))
            .expect("add n");
        s.add_pod(pod("p", 0, None)).expect("p");
        assert_eq!(order(&s), ["a", "c", "n", "b"]);
        let version = s.node_set_version();
        s.update_node(zone("a", "z1")).expect("same zone");
        assert_eq!(order(&s), ["a", "c", "n", "b"]);
        assert_eq!(s.node_set_version(), version);
        s.update_node(zone("a", "z2")).expect("zone change");
        assert_eq!(order(&s), ["b", "c", "n", "a"]);
        let unlabeled = make_node("n").label("k", "v").obj();
        s.update_node(NodeData::new(unlabeled).expect("n"))
            .expect("n");
        assert_eq!(s.get("n").map(|n| n.pods.len()), Some(1));
        assert_eq!(
            s.get("n")
                .and_then(|n| n.node.labels.get("k").cloned())
                .as_deref(),
            Some("v")
        );
        s.update_node(zone("d", "z1"))
            .expect("unknown node is added");
        assert_eq!(s.num_nodes(), 5);
    }

    fn zoned(name: &str, zone: &str) -> NodeData {
        NodeData::new(
            make_node(name)
                .label("topology.kubernetes.io/zone", zone)
                .obj(),
        )
        .expect("node")
    }

    /// Each node's value under `key` as the index reports it, in list order
    /// (`None`: no label).
    fn indexed_values(s: &Snapshot, key: &str) -> Vec<(String, Option<String>)> {
        let d = s.topology_domains(key);
        s.list()
            .map(|n| {
                let slot = s.slot_of(n).expect("snapshot node");
                let domain = d.at(slot).expect("indexed");
                let value = domain.has_label.then(|| d.value(domain.id).to_owned());
                (n.name().to_owned(), value)
            })
            .collect()
    }

    /// Only changes of what the plugins read (labels, taints, cordon, allocatable, images)
    /// bump a node's generation; a status-only update keeps its cached verdicts.
    #[test]
    fn only_relevant_node_updates_bump_the_generation() {
        let mut s = Snapshot::new();
        s.add_node(zoned("a", "z1")).expect("add");
        let generation = s.generation_at(0);
        let mut heartbeat = make_node("a")
            .label("topology.kubernetes.io/zone", "z1")
            .obj();
        heartbeat.status.get_or_insert_with(Default::default).phase = Some("Running".into());
        s.update_node(NodeData::new(heartbeat).expect("node"))
            .expect("update");
        assert_eq!(s.generation_at(0), generation);
        let changes: [fn(&mut NodeData); 5] = [
            |n| {
                n.labels.insert("k".into(), "v".into());
            },
            |n| n.taints.push(crate::testing::taint("k", "v", "NoSchedule")),
            |n| n.unschedulable = true,
            |n| n.allocatable.milli_cpu += 1,
            |n| n.images.push(("img:1".into(), 10)),
        ];
        for change in changes {
            let before = s.generation_at(0);
            let mut data = zoned("a", "z1");
            change(&mut data);
            s.update_node(data).expect("update");
            assert_ne!(s.generation_at(0), before);
            s.update_node(zoned("a", "z1")).expect("restore");
        }
    }

    /// The domain index follows label changes made through `update_node` (same zone and zone
    /// change), status-only updates, node additions and removals, and keys no node has.
    #[test]
    fn topology_domains_follow_node_changes() {
        const ZONE: &str = "topology.kubernetes.io/zone";
        let mut s = Snapshot::new();
        for (n, z) in [("a", "z1"), ("b", "z1"), ("c", "z2")] {
            s.add_node(zoned(n, z)).expect("add");
        }
        let some = |v: &str| Some(v.to_owned());
        let before = s.topology_domains(ZONE);
        assert_eq!(
            indexed_values(&s, ZONE),
            [
                ("a".into(), some("z1")),
                ("c".into(), some("z2")),
                ("b".into(), some("z1"))
            ]
        );
        // A status-only update keeps the very same index.
        let mut status_only = zoned("a", "z1");
        status_only.allocatable.milli_cpu = 1234;
        s.update_node(status_only).expect("update");
        assert!(Arc::ptr_eq(&before, &s.topology_domains(ZONE)));
        // A label change that keeps the zone key (another label) and one that moves the node.
        let mut relabeled = zoned("b", "z1");
        relabeled.labels.insert("rack".into(), "r1".into());
        s.update_node(relabeled).expect("update");
        assert_eq!(indexed_values(&s, "rack")[2], ("b".into(), some("r1")));
        s.update_node(zoned("b", "z3")).expect("zone change");
        assert_eq!(
            indexed_values(&s, ZONE),
            [
                ("a".into(), some("z1")),
                ("c".into(), some("z2")),
                ("b".into(), some("z3"))
            ]
        );
        assert_eq!(indexed_values(&s, "rack")[2], ("b".into(), None));
        // Additions and removals (a swap-remove moves the last slot).
        s.add_node(NodeData::new(make_node("d").obj()).expect("d"))
            .expect("add d");
        s.remove_node("a").expect("remove a");
        let mut got = indexed_values(&s, ZONE);
        got.sort();
        assert_eq!(
            got,
            [
                ("b".into(), some("z3")),
                ("c".into(), some("z2")),
                ("d".into(), None)
            ]
        );
        // A key no node has: every node maps to the empty value without the label.
        let none = s.topology_domains("no-such-key");
        assert_eq!(none.num_slots(), 3);
        assert!((0..3).all(|slot| none.at(slot)
            == Some(crate::topology::NodeDomain {
                id: crate::topology::EMPTY_VALUE_DOMAIN,
                has_label: false
            })));
        // A copy of a node with the same node object resolves to its slot; a foreign node not.
        let copy = s.get("c").expect("c").clone();
        assert!(s.slot_of(&copy).is_some());
        assert!(s.owned_slot(&copy).is_none());
        let foreign = NodeInfo::new(Arc::new(zoned("c", "z2")));
        assert!(s.slot_of(&foreign).is_none());
    }

    /// Per-node matching pod counts stay equal to a fresh count through pod and node changes,
    /// for a selector revisited after many others (the LRU keeps it).
    #[test]
    fn pods_matching_per_node_follow_pod_changes() {
        let mut s = Snapshot::new();
        for (n, z) in [("a", "z1"), ("b", "z1"), ("c", "z2")] {
            s.add_node(zoned(n, z)).expect("add");
        }
        let labeled = |name: &str, node: &str, app: &str| {
            Arc::new(PodInfo::new(make_pod(name).node(node).label("app", app).obj()).expect("pod"))
        };
        let count_app = |app: &'static str| {
            move |n: &NodeInfo| {
                u32::try_from(
                    n.pods
                        .iter()
                        .filter(|p| p.labels.get("app").map(String::as_str) == Some(app))
                        .count(),
                )
                .unwrap_or(u32::MAX)
            }
        };
        let fresh = |s: &Snapshot, app: &'static str| -> Vec<u32> {
            s.infos.iter().map(count_app(app)).collect()
        };
        let x = count_app("x");
        assert_eq!(*s.pods_matching_per_node("x", &x), vec![0, 0, 0]);
        s.add_pod(labeled("p1", "a", "x")).expect("p1");
        s.add_pod(labeled("p2", "a", "x")).expect("p2");
        s.add_pod(labeled("p3", "c", "y")).expect("p3");
        assert_eq!(*s.pods_matching_per_node("x", &x), fresh(&s, "x"));
        let y = count_app("y");
        assert_eq!(*s.pods_matching_per_node("y", &y), vec![0, 0, 1]);
        s.remove_pod("default/p1").expect("rm p1");
        s.add_pod(labeled("p4", "b", "x")).expect("p4");
        assert_eq!(*s.pods_matching_per_node("x", &x), fresh(&s, "x"));
        assert_eq!(fresh(&s, "x"), vec![1, 1, 0]);
        s.remove_node("a").expect("rm a");
        assert_eq!(*s.pods_matching_per_node("x", &x), fresh(&s, "x"));
        assert_eq!(*s.pods_matching_per_node("y", &y), fresh(&s, "y"));
    }

    /// The bounds DefaultPreemption's early stop relies on follow pod additions and removals.
    #[test]
    fn lowest_priority_and_latest_start_follow_pods() {
        let mut s = Snapshot::new();
        s.add_node(NodeData::new(make_node("n").obj()).expect("node"))
            .expect("add");
        assert_eq!(s.lowest_pod_priority(), None);
        assert_eq!(s.latest_pod_start_time(), None);
        s.add_pod(pod("a", 5, Some(10))).expect("a");
        s.add_pod(pod("b", -3, Some(20))).expect("b");
        assert_eq!(s.lowest_pod_priority(), Some(-3));
        assert_eq!(
            s.latest_pod_start_time(),
            Some(Some(Timestamp::from_second(20).expect("ts")))
        );
        s.add_pod(pod("c", 7, None)).expect("c");
        assert_eq!(s.latest_pod_start_time(), Some(None));
        s.remove_pod("default/c").expect("rm c");
        s.remove_pod("default/b").expect("rm b");
        assert_eq!(s.lowest_pod_priority(), Some(5));
        assert_eq!(
            s.latest_pod_start_time(),
            Some(Some(Timestamp::from_second(10).expect("ts")))
        );
        let generation = s.generation_at(0);
        s.add_pod(pod("d", 1, None)).expect("d");
        assert_ne!(s.generation_at(0), generation);
    }
}
