//! The scheduling framework: plugin traits per extension point, the per-node status map, the
//! diagnosis and FitError message, and the runner that calls the plugins of a profile in order.
//!
//! Upstream: pkg/scheduler/framework/interface.go (plugin interfaces, `NodeToStatus`,
//! `PreFilterResult`), pkg/scheduler/framework/types.go (`Diagnosis`, `FitError.Error`),
//! pkg/scheduler/framework/runtime/framework.go (`RunPreFilterPlugins`, `RunFilterPlugins`,
//! `RunFilterPluginsWithNominatedPods`, `addGENominatedPods`, `RunPostFilterPlugins`,
//! `RunPreScorePlugins`, `RunScorePlugins`, reserve/permit/bind runners).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use kubetwin_core::rng::SharedRng;

use crate::cycle_state::CycleState;
use crate::objects::{ClusterObjects, Nominator};
use crate::schedule::NodeName;
use crate::snapshot::Snapshot;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// The highest score a plugin may give after normalization (`MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest score (`MinNodeScore`).
pub const MIN_NODE_SCORE: i64 = 0;

/// What plugins may read besides the pod and node at hand (`framework.Handle`).
#[derive(Clone, Copy)]
pub struct Handle<'a> {
    /// The snapshot of nodes and pods.
    pub snapshot: &'a Snapshot,
    /// PVs, PVCs, storage classes, CSINodes, PDBs, priority classes, namespaces.
    pub objects: &'a ClusterObjects,
    /// Pods nominated to nodes.
    pub nominator: &'a Nominator,
    /// The injected random source (tie-breaks, preemption offsets).
    pub rng: &'a SharedRng,
}

impl fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("nodes", &self.snapshot.num_nodes())
            .finish()
    }
}

/// A node's score from one plugin (`NodeScore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeScore<'a> {
    /// Node name.
    pub name: &'a str,
    /// Score.
    pub score: i64,
}

/// One plugin's weighted score of a node (`PluginScore`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginScore {
    /// Plugin.
    pub name: &'static str,
    /// Normalized score times weight.
    pub score: i64,
}

/// A node's weighted scores and total (`NodePluginScores`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePluginScores {
    /// Node name.
    pub name: String,
    /// Per plugin, in score-plugin order.
    pub scores: Vec<PluginScore>,
    /// Sum of the weighted scores.
    pub total_score: i64,
}

/// The node names a PreFilter plugin restricts the cycle to; `None` means all nodes
/// (`PreFilterResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreFilterResult {
    /// The allowed nodes, or `None` for all.
    pub node_names: Option<BTreeSet<String>>,
}

impl PreFilterResult {
    /// A result restricted to `names`.
    pub fn nodes<I: IntoIterator<Item = String>>(names: I) -> Self {
        Self {
            node_names: Some(names.into_iter().collect()),
        }
    }

    /// Whether all nodes are allowed.
    pub fn all_nodes(&self) -> bool {
        self.node_names.is_none()
    }

    /// The intersection of two results (`Merge`).
    #[must_use]
    pub fn merge(&self, other: Option<&PreFilterResult>) -> PreFilterResult {
        let other = match other {
            Some(o) if !o.all_nodes() => o,
            _ => return self.clone(),
        };
        match (&self.node_names, &other.node_names) {
            (None, _) => other.clone(),
            (Some(a), Some(b)) => PreFilterResult {
                node_names: Some(a.intersection(b).cloned().collect()),
            },
            (Some(_), None) => self.clone(),
        }
    }
}

/// How a PostFilter result changes the pod's nominated node (`NominatingMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NominatingMode {
    /// Leave it.
    Noop,
    /// Set it to the given node ("" clears it).
    Override,
}

/// What a PostFilter plugin achieved (`PostFilterResult`), plus the victims it evicted so that the
/// caller can remove them (upstream deletes them through the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFilterResult {
    /// Nominating mode.
    pub mode: NominatingMode,
    /// The nominated node.
    pub nominated_node_name: String,
    /// Keys of the pods evicted to make room.
    pub victims: Vec<String>,
}

/// Per-node statuses of a failed cycle, with one status for nodes not listed (`NodeToStatus`).
///
/// A failed cycle records a status for every node (thousands), usually the same few statuses
/// over and over. So distinct statuses are stored once, snapshot nodes are recorded by list
/// position against the snapshot's shared list of names (no name is copied or reference-counted
/// per node), and nodes set by name only keep their name. Name lookups scan (they are rare).
#[derive(Debug, Clone)]
pub struct NodeToStatus {
    /// Distinct statuses (a new one is compared with the last stored).
    statuses: Vec<Status>,
    /// The names of the snapshot the positions refer to, in list order.
    names: Option<Arc<[NodeName]>>,
    /// List position → status index + 1 (0: not set).
    by_position: Vec<u32>,
    /// Nodes set by name only, with their status index.
    named: Vec<(Arc<str>, u32)>,
    /// Every listed node in the order it was first set.
    order: Vec<EntryRef>,
    absent: Status,
}

/// Where a listed node's entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryRef {
    /// A snapshot list position.
    Position(u32),
    /// An index into the by-name entries.
    Named(u32),
}

impl PartialEq for NodeToStatus {
    fn eq(&self, other: &Self) -> bool {
        fn map(m: &NodeToStatus) -> BTreeMap<&str, &Status> {
            m.iter().collect()
        }
        self.absent == other.absent && map(self) == map(other)
    }
}

impl Eq for NodeToStatus {}

impl Default for NodeToStatus {
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            names: None,
            by_position: Vec::new(),
            named: Vec::new(),
            order: Vec::new(),
            absent: Status::code_only(Code::UnschedulableAndUnresolvable),
        }
    }
}

impl NodeToStatus {
    /// An empty map whose absent nodes are UnschedulableAndUnresolvable (`NewDefaultNodeToStatus`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `status` among the distinct statuses, storing it if new.
    fn intern(&mut self, status: Status) -> u32 {
        if let Some(last) = self.statuses.last()
            && *last == status
        {
            return u32::try_from(self.statuses.len() - 1).unwrap_or(u32::MAX);
        }
        self.statuses.push(status);
        u32::try_from(self.statuses.len() - 1).unwrap_or(u32::MAX)
    }

    fn status_at(&self, index: u32) -> &Status {
        self.statuses.get(index as usize).unwrap_or(&self.absent)
    }

    fn entry_name(&self, entry: EntryRef) -> &str {
        match entry {
            EntryRef::Position(p) => self
                .names
                .as_ref()
                .and_then(|n| n.get(p as usize))
                .map_or("", NodeName::as_str),
            EntryRef::Named(i) => self.named.get(i as usize).map_or("", |(n, _)| n.as_ref()),
        }
    }

    fn entry_status_index(&self, entry: EntryRef) -> u32 {
        match entry {
            EntryRef::Position(p) => self
                .by_position
                .get(p as usize)
                .map_or(u32::MAX, |&s| s.wrapping_sub(1)),
            EntryRef::Named(i) => self.named.get(i as usize).map_or(u32::MAX, |(_, s)| *s),
        }
    }

    fn find(&self, node: &str) -> Option<EntryRef> {
        self.order
            .iter()
            .rev()
            .copied()
            .find(|&e| self.entry_name(e) == node)
    }

    fn set_entry(&mut self, entry: EntryRef, index: u32) {
        match entry {
            EntryRef::Position(p) => {
                if let Some(slot) = self.by_position.get_mut(p as usize) {
                    *slot = index.saturating_add(1);
                }
            }
            EntryRef::Named(i) => {
                if let Some(slot) = self.named.get_mut(i as usize) {
                    slot.1 = index;
                }
            }
        }
    }

    /// The status of `node` (the absent status when not listed).
    pub fn get(&self, node: &str) -> &Status {
        self.find(node)
            .map_or(&self.absent, |e| self.status_at(self.entry_status_index(e)))
    }

    /// The status of a snapshot node (the absent status when not listed).
    pub fn get_node(&self, node: &NodeInfo) -> &Status {
        match self.position_of(node) {
            Some(p) => match self.by_position.get(p).copied().unwrap_or(0) {
                0 => self.get(node.name()),
                slot => self.status_at(slot - 1),
            },
            None => self.get(node.name()),
        }
    }

    /// The list position of `node` when it is the snapshot node the positions refer to.
    fn position_of(&self, node: &NodeInfo) -> Option<usize> {
        let names = self.names.as_ref()?;
        let pos = node.list_position;
        names
            .get(pos)
            .is_some_and(|n| std::ptr::eq(n.as_str(), node.interned_name().as_str()))
            .then_some(pos)
    }

    /// Sets a node's status.
    pub fn set(&mut self, node: &str, status: Status) {
        let index = self.intern(status);
        match self.find(node) {
            Some(e) => self.set_entry(e, index),
            None => {
                let i = u32::try_from(self.named.len()).unwrap_or(u32::MAX);
                self.named.push((Arc::from(node), index));
                self.order.push(EntryRef::Named(i));
            }
        }
    }

    /// Sets the status of a node of `snapshot`, recorded by its list position.
    pub fn set_node(&mut self, snapshot: &Snapshot, node: &NodeInfo, status: Status) {
        if self.names.is_none() {
            self.names = Some(snapshot.list_names().clone());
            self.by_position = vec![0; snapshot.num_nodes()];
        }
        let Some(pos) = self
            .position_of(node)
            .filter(|&p| p < self.by_position.len())
        else {
            self.set(node.name(), status);
            return;
        };
        let index = self.intern(status);
        let was_set = self.by_position[pos] != 0;
        self.by_position[pos] = index.saturating_add(1);
        if was_set {
            return;
        }
        // A node first set by name keeps that entry.
        if !self.named.is_empty()
            && let Some(i) = self
                .named
                .iter()
                .position(|(n, _)| n.as_ref() == node.name())
        {
            self.by_position[pos] = 0;
            self.named[i].1 = index;
            return;
        }
        self.order
            .push(EntryRef::Position(u32::try_from(pos).unwrap_or(u32::MAX)));
    }

    /// Sets the status of the node at list position `pos` of `snapshot`.
    pub fn set_position(&mut self, snapshot: &Snapshot, pos: usize, status: Status) {
        let attached = self
            .names
            .as_ref()
            .is_some_and(|n| Arc::ptr_eq(n, snapshot.list_names()));
        if !attached || !self.named.is_empty() || pos >= self.by_position.len() {
            self.set_node(snapshot, snapshot.at(pos), status);
            return;
        }
        let index = self.intern(status);
        let was_set = self.by_position[pos] != 0;
        self.by_position[pos] = index.saturating_add(1);
        if !was_set {
            self.order
                .push(EntryRef::Position(u32::try_from(pos).unwrap_or(u32::MAX)));
        }
    }

    /// Gives the node at list position `pos` of `snapshot` the status set last (by any
    /// setter); returns false, changing nothing, when that cannot be done by position.
    pub fn repeat_last_at(&mut self, snapshot: &Snapshot, pos: usize) -> bool {
        let attached = self
            .names
            .as_ref()
            .is_some_and(|n| Arc::ptr_eq(n, snapshot.list_names()));
        let Ok(slot) = u32::try_from(self.statuses.len()) else {
            return false;
        };
        if !attached || !self.named.is_empty() || slot == 0 || pos >= self.by_position.len() {
            return false;
        }
        let was_set = self.by_position[pos] != 0;
        self.by_position[pos] = slot;
        if !was_set {
            self.order
                .push(EntryRef::Position(u32::try_from(pos).unwrap_or(u32::MAX)));
        }
        true
    }

    /// Number of listed nodes.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Makes room for `additional` more nodes.
    pub fn reserve(&mut self, additional: usize) {
        self.order.reserve(additional);
    }

    /// Whether no node is listed.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The status of nodes not listed.
    pub fn absent_nodes_status(&self) -> &Status {
        &self.absent
    }

    /// Sets the status of nodes not listed.
    pub fn set_absent_nodes_status(&mut self, s: Status) {
        self.absent = s;
    }

    /// The listed nodes and their statuses, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Status)> {
        self.order.iter().map(|&e| {
            (
                self.entry_name(e),
                self.status_at(self.entry_status_index(e)),
            )
        })
    }

    /// Each distinct listed status with the number of nodes that have it.
    pub fn status_counts(&self) -> impl Iterator<Item = (&Status, usize)> {
        let mut counts = vec![0usize; self.statuses.len()];
        for &e in &self.order {
            if let Some(c) = counts.get_mut(self.entry_status_index(e) as usize) {
                *c += 1;
            }
        }
        self.statuses.iter().zip(counts).filter(|(_, c)| *c > 0)
    }

    /// The nodes of `all` whose status has `code` (listed or absent) (`NodesForStatusCode`).
    pub fn nodes_for_status_code<'a>(
        &self,
        all: impl Iterator<Item = &'a NodeInfo>,
        code: Code,
    ) -> Vec<&'a NodeInfo> {
        let by_name: BTreeMap<&str, &Status> = self.iter().collect();
        all.filter(|n| {
            by_name
                .get(n.name())
                .copied()
                .unwrap_or(&self.absent)
                .code()
                == code
        })
        .collect()
    }

    /// As [`NodeToStatus::nodes_for_status_code`] over the whole snapshot, in its list order,
    /// using the recorded list positions instead of name lookups.
    pub fn snapshot_nodes_for_status_code<'a>(
        &self,
        snapshot: &'a Snapshot,
        code: Code,
    ) -> Vec<&'a NodeInfo> {
        let same_snapshot = self
            .names
            .as_ref()
            .is_some_and(|n| Arc::ptr_eq(n, snapshot.list_names()));
        if self.absent.code() == code || !same_snapshot || !self.named.is_empty() {
            return self.nodes_for_status_code(snapshot.list(), code);
        }
        let wanted: Vec<bool> = self.statuses.iter().map(|s| s.code() == code).collect();
        self.by_position
            .iter()
            .enumerate()
            .filter(|&(_, &slot)| slot != 0 && wanted.get(slot as usize - 1) == Some(&true))
            .map(|(p, _)| snapshot.at(p))
            .collect()
    }
}

/// Why a pod did not fit (`Diagnosis`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// Per-node statuses.
    pub node_to_status: NodeToStatus,
    /// Plugins that rejected the pod.
    pub unschedulable_plugins: BTreeSet<String>,
    /// Plugins that returned Pending.
    pub pending_plugins: BTreeSet<String>,
    /// The PreFilter message when PreFilter rejected the pod.
    pub pre_filter_msg: String,
    /// The PostFilter message.
    pub post_filter_msg: String,
}

impl Diagnosis {
    /// Records the plugin of a status (`AddPluginStatus`).
    pub fn add_plugin_status(&mut self, s: &Status) {
        if s.plugin().is_empty() {
            return;
        }
        if s.is_rejected() && !self.unschedulable_plugins.contains(s.plugin()) {
            self.unschedulable_plugins.insert(s.plugin().to_owned());
        }
        if s.code() == Code::Pending && !self.pending_plugins.contains(s.plugin()) {
            self.pending_plugins.insert(s.plugin().to_owned());
        }
    }
}

/// A pod fits no node (`FitError`); its `Display` is upstream's message byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// Number of nodes in the snapshot.
    pub num_all_nodes: usize,
    /// The diagnosis.
    pub diagnosis: Diagnosis,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Upstream: framework/types.go FitError.Error.
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        let d = &self.diagnosis;
        if !d.pre_filter_msg.is_empty() {
            write!(f, " {}.", d.pre_filter_msg)?;
        } else {
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for (status, count) in d.node_to_status.status_counts() {
                for r in status.reasons() {
                    *reasons.entry(r.as_ref()).or_insert(0) += count;
                }
            }
            let listed = d.node_to_status.len();
            if listed < self.num_all_nodes {
                for r in d.node_to_status.absent_nodes_status().reasons() {
                    *reasons.entry(r.as_ref()).or_insert(0) += self.num_all_nodes - listed;
                }
            }
            let mut lines: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            lines.sort();
            if !lines.is_empty() {
                write!(f, " {}.", lines.join(", "))?;
            }
        }
        if !d.post_filter_msg.is_empty() {
            write!(f, " {}", d.post_filter_msg)?;
        }
        Ok(())
    }
}

impl std::error::Error for FitError {}

/// A queued pod as the queue-sort plugin sees it (`QueuedPodInfo`).
#[derive(Debug, Clone)]
pub struct QueuedPodInfo {
    /// The pod.
    pub pod: Arc<PodInfo>,
    /// When the pod was last added to the queue (virtual nanoseconds).
    pub timestamp: i128,
    /// Input order, the final tie-break (stable sort).
    pub sequence: u64,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// Attempts that ended unschedulable (drives backoff).
    pub unschedulable_count: u32,
    /// Consecutive attempts that ended in error.
    pub consecutive_errors_count: u32,
    /// Plugins that rejected the pod in its last attempt.
    pub unschedulable_plugins: BTreeSet<String>,
    /// The PreEnqueue plugin gating the pod ("" when not gated).
    pub gating_plugin: String,
}

/// An extension-point-agnostic plugin; each `as_*` exposes one extension point.
pub trait Plugin: Send + Sync {
    /// The plugin name.
    fn name(&self) -> &'static str;
    /// PreEnqueue.
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        None
    }
    /// QueueSort.
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        None
    }
    /// PreFilter.
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        None
    }
    /// Filter.
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        None
    }
    /// PostFilter.
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        None
    }
    /// PreScore.
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        None
    }
    /// Score.
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        None
    }
    /// Reserve.
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        None
    }
    /// Permit.
    fn as_permit(&self) -> Option<&dyn PermitPlugin> {
        None
    }
    /// PreBind.
    fn as_pre_bind(&self) -> Option<&dyn PreBindPlugin> {
        None
    }
    /// Bind.
    fn as_bind(&self) -> Option<&dyn BindPlugin> {
        None
    }
}

/// Decides whether a pod may enter the active queue.
pub trait PreEnqueuePlugin {
    /// Success lets the pod in; anything else gates it.
    fn pre_enqueue(&self, pod: &PodInfo) -> Status;
}

/// Orders the active queue.
pub trait QueueSortPlugin {
    /// Whether `a` goes before `b`.
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool;
}

/// Computes per-cycle state before filtering.
pub trait PreFilterPlugin {
    /// Runs once per cycle.
    fn pre_filter(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status);
    /// Whether `add_pod`/`remove_pod` do something (`PreFilterExtensions() != nil`).
    fn has_extensions(&self) -> bool {
        false
    }
    /// Updates the state as if `to_add` ran on `node`.
    fn add_pod(
        &self,
        _h: &Handle<'_>,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _to_add: &PodInfo,
        _node: &NodeInfo,
    ) -> Status {
        Status::success()
    }
    /// Updates the state as if `to_remove` left `node`.
    fn remove_pod(
        &self,
        _h: &Handle<'_>,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _to_remove: &PodInfo,
        _node: &NodeInfo,
    ) -> Status {
        Status::success()
    }
}

/// Decides whether a pod fits a node.
pub trait FilterPlugin {
    /// Success, or a rejection with reasons.
    fn filter(&self, h: &Handle<'_>, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
    /// Whether the verdict depends only on the plugin's configuration, the node's `NodeInfo` and
    /// the pod fields of [`crate::filter_cache::PodFilterKey`] (also through the plugin's own
    /// PreFilter state, which must then depend on nothing else). Such verdicts are reused
    /// across cycles while the node and those pod fields are unchanged.
    fn node_local(&self) -> bool {
        false
    }
}

/// Runs after no node fit (preemption).
pub trait PostFilterPlugin {
    /// Tries to make the pod schedulable in a later cycle.
    fn post_filter(
        &self,
        h: &Handle<'_>,
        fw: &Framework,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status);
}

/// Computes state before scoring.
pub trait PreScorePlugin {
    /// Runs once per cycle over the feasible nodes; Skip disables the plugin's Score.
    fn pre_score(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
    ) -> Status;
}

/// Scores feasible nodes.
pub trait ScorePlugin {
    /// The raw score of one node.
    fn score(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status>;
    /// Whether the plugin normalizes its scores (`ScoreExtensions() != nil`).
    fn has_normalize(&self) -> bool {
        false
    }
    /// Normalizes the scores of all nodes in place.
    fn normalize(
        &self,
        _h: &Handle<'_>,
        _state: &CycleState,
        _pod: &PodInfo,
        _scores: &mut [NodeScore<'_>],
    ) -> Status {
        Status::success()
    }
}

/// Reserves resources for the chosen node.
pub trait ReservePlugin {
    /// Reserve.
    fn reserve(&self, h: &Handle<'_>, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status;
    /// Undo a reservation.
    fn unreserve(&self, h: &Handle<'_>, state: &mut CycleState, pod: &PodInfo, node: &str);
}

/// Approves, delays or rejects a binding.
pub trait PermitPlugin {
    /// Permit.
    fn permit(&self, h: &Handle<'_>, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// Runs before binding.
pub trait PreBindPlugin {
    /// PreBind.
    fn pre_bind(&self, h: &Handle<'_>, state: &mut CycleState, pod: &PodInfo, node: &str)
    -> Status;
}

/// Binds the pod.
pub trait BindPlugin {
    /// Bind; Skip lets the next bind plugin try.
    fn bind(&self, h: &Handle<'_>, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// A score plugin with its weight.
#[derive(Clone)]
struct WeightedPlugin {
    plugin: Arc<dyn Plugin>,
    weight: i64,
    bit: u64,
}

/// One plugin's score of one node, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginScoreDetail {
    /// The plugin.
    pub plugin: &'static str,
    /// The plugin's weight.
    pub weight: i64,
    /// The score the plugin gave.
    pub raw: i64,
    /// The score after NormalizeScore.
    pub normalized: i64,
    /// `normalized × weight`.
    pub weighted: i64,
}

// Normalized scores are kept in one byte each.
const _: () = assert!(MAX_NODE_SCORE <= 255 && MIN_NODE_SCORE >= 0);

/// Per-plugin scores of one cycle, for explanations. Scores are kept compactly, one list per
/// plugin (normalized scores are within `0..=MAX_NODE_SCORE`, one byte each); read them with
/// [`ScoreBreakdown::node_scores`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoreBreakdown {
    /// Plugin names in score order, with weight.
    pub plugins: Vec<(&'static str, i64)>,
    /// The scored nodes, in feasible order.
    pub nodes: Vec<NodeName>,
    /// Per node (in `nodes` order), the total weighted score.
    pub totals: Vec<i64>,
    /// Plugins skipped at PreScore.
    pub skipped: Vec<&'static str>,
    /// Raw scores, plugin by plugin: plugin `j`'s score of node `i` is at `j * nodes.len() + i`.
    raw: Vec<i64>,
    /// Normalized scores, laid out as `raw`.
    normalized: Vec<u8>,
}

impl ScoreBreakdown {
    /// How many plugins scored each node.
    fn scored_plugins(&self) -> usize {
        if self.nodes.is_empty() {
            0
        } else {
            self.raw.len() / self.nodes.len()
        }
    }

    /// The scores of the node at `index` of [`ScoreBreakdown::nodes`], per plugin in score
    /// order (empty when out of range).
    pub fn node_scores(&self, index: usize) -> impl Iterator<Item = PluginScoreDetail> + '_ {
        let n = self.nodes.len();
        let count = if index < n { self.scored_plugins() } else { 0 };
        self.plugins
            .iter()
            .take(count)
            .enumerate()
            .map(move |(j, &(plugin, weight))| {
                let at = j * n + index;
                let raw = self.raw.get(at).copied().unwrap_or(0);
                let normalized = i64::from(self.normalized.get(at).copied().unwrap_or(0));
                PluginScoreDetail {
                    plugin,
                    weight,
                    raw,
                    normalized,
                    weighted: normalized * weight,
                }
            })
    }

    /// An estimate of the heap bytes the breakdown owns (by capacity; node names shared with
    /// the snapshot not counted).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.plugins.capacity() * size_of::<(&'static str, i64)>()
            + self.nodes.capacity() * size_of::<NodeName>()
            + self.totals.capacity() * size_of::<i64>()
            + self.skipped.capacity() * size_of::<&'static str>()
            + self.raw.capacity() * size_of::<i64>()
            + self.normalized.capacity()
    }
}

/// The Filter plugins of one cycle (those PreFilter did not skip), in order, with their names.
pub struct FilterChain<'f> {
    framework: &'f Framework,
    plugins: Vec<(&'f dyn FilterPlugin, &'static str)>,
    /// The plugins themselves (their identity keys verdict caches).
    arcs: Vec<&'f Arc<dyn Plugin>>,
}

impl fmt::Debug for FilterChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.plugins.iter().map(|(_, n)| n))
            .finish()
    }
}

impl<'f> FilterChain<'f> {
    /// How many plugins at the start of the chain are node-local ([`FilterPlugin::node_local`]).
    pub fn node_local_prefix(&self) -> usize {
        self.plugins
            .iter()
            .take_while(|(f, _)| f.node_local())
            .count()
    }

    /// The first `n` plugins.
    pub fn plugins_prefix(&self, n: usize) -> &[&'f Arc<dyn Plugin>] {
        &self.arcs[..n.min(self.arcs.len())]
    }

    /// Runs the plugins on one node, stopping at the first failure (`RunFilterPlugins`).
    pub fn run(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        self.run_range(0, self.plugins.len(), h, state, pod, node)
    }

    /// Runs the plugins `from..to` of the chain (`to` is capped at its length), as
    /// [`FilterChain::run`].
    pub fn run_range(
        &self,
        from: usize,
        to: usize,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let to = to.min(self.plugins.len());
        for &(f, name) in self.plugins.get(from..to).unwrap_or_default() {
            let s = f.filter(h, state, pod, node);
            if !s.is_success() {
                let s = if s.is_rejected() {
                    s
                } else {
                    Status::error(format!("running {name:?} filter plugin: {}", s.message()))
                };
                return s.with_plugin(name);
            }
        }
        Status::success()
    }

    /// Runs the plugins with the node's nominated pods of equal or higher priority added, then
    /// (if any were added and that passed) without them (`RunFilterPluginsWithNominatedPods`).
    pub fn run_with_nominated_pods(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        if h.nominator.is_empty() {
            return self.run(h, state, pod, node);
        }
        let nominated = h.nominator.nominated_pods_for_node(node.name());
        let mut relevant = nominated
            .iter()
            .filter(|p| p.priority >= pod.priority && p.uid != pod.uid)
            .peekable();
        if relevant.peek().is_none() {
            return self.run(h, state, pod, node);
        }
        // Upstream: addGENominatedPods.
        let mut node_out = node.clone();
        let mut state_out = state.clone();
        for p in relevant {
            node_out.add_pod(p.clone());
            let s = self.framework.run_pre_filter_extension_add_pod(
                h,
                &mut state_out,
                pod,
                p,
                &node_out,
            );
            if !s.is_success() {
                return s;
            }
        }
        let s = self.run(h, &state_out, pod, &node_out);
        if !s.is_success() {
            return s;
        }
        self.run(h, state, pod, node)
    }
}

/// One profile's plugins per extension point, in execution order (`frameworkImpl`).
#[derive(Clone, Default)]
pub struct Framework {
    profile_name: String,
    pre_enqueue: Vec<Arc<dyn Plugin>>,
    queue_sort: Option<Arc<dyn Plugin>>,
    pre_filter: Vec<Arc<dyn Plugin>>,
    filter: Vec<Arc<dyn Plugin>>,
    post_filter: Vec<Arc<dyn Plugin>>,
    pre_score: Vec<Arc<dyn Plugin>>,
    score: Vec<WeightedPlugin>,
    reserve: Vec<Arc<dyn Plugin>>,
    permit: Vec<Arc<dyn Plugin>>,
    pre_bind: Vec<Arc<dyn Plugin>>,
    bind: Vec<Arc<dyn Plugin>>,
    percentage_of_nodes_to_score: Option<i32>,
    /// Plugin names by bit number (the skip masks of the cycle state use these bits).
    bit_names: Vec<&'static str>,
    pre_filter_bits: Vec<u64>,
    filter_bits: Vec<u64>,
    pre_score_bits: Vec<u64>,
}

impl fmt::Debug for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: &[Arc<dyn Plugin>]| v.iter().map(|p| p.name()).collect::<Vec<_>>();
        f.debug_struct("Framework")
            .field("profile", &self.profile_name)
            .field("pre_filter", &names(&self.pre_filter))
            .field("filter", &names(&self.filter))
            .field("post_filter", &names(&self.post_filter))
            .field("pre_score", &names(&self.pre_score))
            .field(
                "score",
                &self
                    .score
                    .iter()
                    .map(|w| (w.plugin.name(), w.weight))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The extension points a plugin can be enabled at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtensionPoint {
    /// PreEnqueue.
    PreEnqueue,
    /// QueueSort.
    QueueSort,
    /// PreFilter.
    PreFilter,
    /// Filter.
    Filter,
    /// PostFilter.
    PostFilter,
    /// PreScore.
    PreScore,
    /// Score.
    Score,
    /// Reserve.
    Reserve,
    /// Permit.
    Permit,
    /// PreBind.
    PreBind,
    /// Bind.
    Bind,
}

impl Framework {
    /// An empty framework for `profile_name`.
    pub fn new(profile_name: &str) -> Self {
        Self {
            profile_name: profile_name.to_owned(),
            ..Default::default()
        }
    }

    /// The profile (scheduler) name.
    pub fn profile_name(&self) -> &str {
        &self.profile_name
    }

    /// The profile's `percentageOfNodesToScore`, if set.
    pub fn percentage_of_nodes_to_score(&self) -> Option<i32> {
        self.percentage_of_nodes_to_score
    }

    /// Sets the profile's `percentageOfNodesToScore`.
    pub fn set_percentage_of_nodes_to_score(&mut self, p: Option<i32>) {
        self.percentage_of_nodes_to_score = p;
    }

    /// Enables `plugin` at `point` (appending). Returns false if the plugin lacks that point.
    pub fn enable(&mut self, point: ExtensionPoint, plugin: Arc<dyn Plugin>, weight: i64) -> bool {
        let ok = match point {
            ExtensionPoint::PreEnqueue => plugin.as_pre_enqueue().is_some(),
            ExtensionPoint::QueueSort => plugin.as_queue_sort().is_some(),
            ExtensionPoint::PreFilter => plugin.as_pre_filter().is_some(),
            ExtensionPoint::Filter => plugin.as_filter().is_some(),
            ExtensionPoint::PostFilter => plugin.as_post_filter().is_some(),
            ExtensionPoint::PreScore => plugin.as_pre_score().is_some(),
            ExtensionPoint::Score => plugin.as_score().is_some(),
            ExtensionPoint::Reserve => plugin.as_reserve().is_some(),
            ExtensionPoint::Permit => plugin.as_permit().is_some(),
            ExtensionPoint::PreBind => plugin.as_pre_bind().is_some(),
            ExtensionPoint::Bind => plugin.as_bind().is_some(),
        };
        if !ok {
            return false;
        }
        let bit = self.bit_for(plugin.name());
        match point {
            ExtensionPoint::PreEnqueue => self.pre_enqueue.push(plugin),
            ExtensionPoint::QueueSort => self.queue_sort = Some(plugin),
            ExtensionPoint::PreFilter => {
                self.pre_filter.push(plugin);
                self.pre_filter_bits.push(bit);
            }
            ExtensionPoint::Filter => {
                self.filter.push(plugin);
                self.filter_bits.push(bit);
            }
            ExtensionPoint::PostFilter => self.post_filter.push(plugin),
            ExtensionPoint::PreScore => {
                self.pre_score.push(plugin);
                self.pre_score_bits.push(bit);
            }
            ExtensionPoint::Score => self.score.push(WeightedPlugin {
                plugin,
                weight: if weight == 0 { 1 } else { weight },
                bit,
            }),
            ExtensionPoint::Reserve => self.reserve.push(plugin),
            ExtensionPoint::Permit => self.permit.push(plugin),
            ExtensionPoint::PreBind => self.pre_bind.push(plugin),
            ExtensionPoint::Bind => self.bind.push(plugin),
        }
        true
    }

    fn bit_for(&mut self, name: &'static str) -> u64 {
        let i = match self.bit_names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                self.bit_names.push(name);
                self.bit_names.len() - 1
            }
        };
        // More than 64 distinct plugins share the last bit; the name sets stay exact.
        1u64 << i.min(63)
    }

    /// The plugin names enabled at `point`, in order (with weights for Score).
    pub fn list_plugins(&self, point: ExtensionPoint) -> Vec<(&'static str, i64)> {
        let names = |v: &[Arc<dyn Plugin>]| v.iter().map(|p| (p.name(), 0)).collect::<Vec<_>>();
        match point {
            ExtensionPoint::PreEnqueue => names(&self.pre_enqueue),
            ExtensionPoint::QueueSort => self.queue_sort.iter().map(|p| (p.name(), 0)).collect(),
            ExtensionPoint::PreFilter => names(&self.pre_filter),
            ExtensionPoint::Filter => names(&self.filter),
            ExtensionPoint::PostFilter => names(&self.post_filter),
            ExtensionPoint::PreScore => names(&self.pre_score),
            ExtensionPoint::Score => self
                .score
                .iter()
                .map(|w| (w.plugin.name(), w.weight))
                .collect(),
            ExtensionPoint::Reserve => names(&self.reserve),
            ExtensionPoint::Permit => names(&self.permit),
            ExtensionPoint::PreBind => names(&self.pre_bind),
            ExtensionPoint::Bind => names(&self.bind),
        }
    }

    /// Whether any Filter plugin is enabled.
    pub fn has_filter_plugins(&self) -> bool {
        !self.filter.is_empty()
    }

    /// Whether any PostFilter plugin is enabled.
    pub fn has_post_filter_plugins(&self) -> bool {
        !self.post_filter.is_empty()
    }

    /// Whether any Score plugin is enabled.
    pub fn has_score_plugins(&self) -> bool {
        !self.score.is_empty()
    }

    /// The queue-sort plugin, if any.
    pub fn queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        self.queue_sort.as_ref().and_then(|p| p.as_queue_sort())
    }

    /// Runs PreEnqueue plugins; returns the first non-success status with its plugin.
    pub fn run_pre_enqueue_plugins(&self, pod: &PodInfo) -> Status {
        for p in &self.pre_enqueue {
            if let Some(pe) = p.as_pre_enqueue() {
                let s = pe.pre_enqueue(pod);
                if !s.is_success() {
                    return s.with_plugin(p.name());
                }
            }
        }
        Status::success()
    }

    /// Runs PreFilter plugins (`RunPreFilterPlugins`): Skip disables the plugin's Filter;
    /// UnschedulableAndUnresolvable stops at once; Unschedulable is remembered while the rest
    /// run; results are intersected. Returns the result, the status and the plugins that
    /// restricted nodes.
    pub fn run_pre_filter_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status, BTreeSet<String>) {
        let mut skip = BTreeSet::new();
        let mut mask = 0u64;
        state.set_skip_filter_mask(0);
        let mut result: Option<PreFilterResult> = None;
        let mut plugins_with_nodes = BTreeSet::new();
        let mut return_status = Status::success();
        for (p, bit) in self.pre_filter.iter().zip(&self.pre_filter_bits) {
            let Some(pf) = p.as_pre_filter() else {
                continue;
            };
            let (r, s) = pf.pre_filter(h, state, pod);
            if s.is_skip() {
                skip.insert(p.name());
                mask |= bit;
                state.set_skip_filter_mask(mask);
                continue;
            }
            if !s.is_success() {
                let s = s.with_plugin(p.name());
                if s.code() == Code::UnschedulableAndUnresolvable {
                    state.set_skip_filter_plugins(skip);
                    return (None, s, BTreeSet::new());
                }
                if s.code() == Code::Unschedulable {
                    return_status = s;
                    continue;
                }
                state.set_skip_filter_plugins(skip);
                let msg = format!("running PreFilter plugin {:?}: {}", p.name(), s.message());
                return (
                    None,
                    Status::error(msg).with_plugin(p.name()),
                    BTreeSet::new(),
                );
            }
            if let Some(r) = &r
                && !r.all_nodes()
            {
                plugins_with_nodes.insert(p.name().to_owned());
            }
            let merged = match &result {
                None => r.clone().unwrap_or_default(),
                Some(cur) => cur.merge(r.as_ref()),
            };
            let empty = merged.node_names.as_ref().is_some_and(BTreeSet::is_empty);
            result = Some(merged);
            if empty {
                let list: Vec<&str> = plugins_with_nodes.iter().map(String::as_str).collect();
                let msg = if list.len() == 1 {
                    format!("node(s) didn't satisfy plugin {}", list[0])
                } else {
                    format!(
                        "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                        list.join(" ")
                    )
                };
                state.set_skip_filter_plugins(skip);
                return (
                    result,
                    Status::with_reason(Code::UnschedulableAndUnresolvable, msg),
                    plugins_with_nodes,
                );
            }
        }
        state.set_skip_filter_plugins(skip);
        (result, return_status, plugins_with_nodes)
    }

    /// Calls every PreFilter extension's AddPod (`RunPreFilterExtensionAddPod`).
    pub fn run_pre_filter_extension_add_pod(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        to_add: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        for (p, bit) in self.pre_filter.iter().zip(&self.pre_filter_bits) {
            if state.skip_filter_mask() & bit != 0 {
                continue;
            }
            let Some(pf) = p.as_pre_filter() else {
                continue;
            };
            if !pf.has_extensions() {
                continue;
            }
            let s = pf.add_pod(h, state, pod, to_add, node);
            if !s.is_success() {
                return Status::error(format!(
                    "running AddPod on PreFilter plugin {:?}: {}",
                    p.name(),
                    s.message()
                ));
            }
        }
        Status::success()
    }

    /// Calls every PreFilter extension's RemovePod (`RunPreFilterExtensionRemovePod`).
    pub fn run_pre_filter_extension_remove_pod(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        to_remove: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        for (p, bit) in self.pre_filter.iter().zip(&self.pre_filter_bits) {
            if state.skip_filter_mask() & bit != 0 {
                continue;
            }
            let Some(pf) = p.as_pre_filter() else {
                continue;
            };
            if !pf.has_extensions() {
                continue;
            }
            let s = pf.remove_pod(h, state, pod, to_remove, node);
            if !s.is_success() {
                return Status::error(format!(
                    "running RemovePod on PreFilter plugin {:?}: {}",
                    p.name(),
                    s.message()
                ));
            }
        }
        Status::success()
    }

    /// Runs Filter plugins on one node, stopping at the first failure (`RunFilterPlugins`).
    pub fn run_filter_plugins(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        self.filter_chain(state).run(h, state, pod, node)
    }

    /// The Filter plugins PreFilter did not skip in `state`'s cycle, resolved once so that the
    /// per-node loop makes no lookups.
    pub fn filter_chain(&self, state: &CycleState) -> FilterChain<'_> {
        let skip = state.skip_filter_mask();
        let mut plugins = Vec::new();
        let mut arcs = Vec::new();
        for (p, bit) in self.filter.iter().zip(&self.filter_bits) {
            if skip & bit != 0 {
                continue;
            }
            if let Some(f) = p.as_filter() {
                plugins.push((f, p.name()));
                arcs.push(p);
            }
        }
        FilterChain {
            framework: self,
            plugins,
            arcs,
        }
    }

    /// Runs filters with the node's nominated pods of equal or higher priority added, then (if
    /// any were added and that passed) without them (`RunFilterPluginsWithNominatedPods`).
    pub fn run_filter_plugins_with_nominated_pods(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        self.filter_chain(state)
            .run_with_nominated_pods(h, state, pod, node)
    }

    /// Runs PostFilter plugins until one succeeds or is unresolvable (`RunPostFilterPlugins`).
    pub fn run_post_filter_plugins(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        let mut result: Option<PostFilterResult> = None;
        let mut reasons: Vec<String> = Vec::new();
        let mut rejector: &'static str = "";
        for p in &self.post_filter {
            let Some(pf) = p.as_post_filter() else {
                continue;
            };
            let (r, s) = pf.post_filter(h, self, state, pod, statuses);
            if s.is_success() {
                return (r, s);
            } else if s.code() == Code::UnschedulableAndUnresolvable {
                return (r, s.with_plugin(p.name()));
            } else if !s.is_rejected() {
                return (None, Status::error(s.message()).with_plugin(p.name()));
            } else if let Some(r) = r
                && r.mode != NominatingMode::Noop
            {
                result = Some(r);
            }
            reasons.extend(s.reasons().iter().map(|r| r.to_string()));
            if rejector.is_empty() {
                rejector = p.name();
            }
        }
        let mut s = Status::new(Code::Unschedulable, reasons);
        s.set_plugin(rejector);
        (result, s)
    }

    /// Runs PreScore plugins (`RunPreScorePlugins`); Skip disables the plugin's Score.
    pub fn run_pre_score_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
    ) -> Status {
        NodeInfo::warm(nodes);
        let mut skip = BTreeSet::new();
        let mut mask = 0u64;
        for (p, bit) in self.pre_score.iter().zip(&self.pre_score_bits) {
            let Some(ps) = p.as_pre_score() else { continue };
            let s = ps.pre_score(h, state, pod, nodes);
            if s.is_skip() {
                skip.insert(p.name());
                mask |= bit;
                continue;
            }
            if !s.is_success() {
                state.set_skip_score_mask(mask);
                state.set_skip_score_plugins(skip);
                return Status::error(format!(
                    "running PreScore plugin {:?}: {}",
                    p.name(),
                    s.message()
                ));
            }
        }
        state.set_skip_score_mask(mask);
        state.set_skip_score_plugins(skip);
        Status::success()
    }

    /// Runs Score, NormalizeScore and weights (`RunScorePlugins`); fills `breakdown` when given.
    pub fn run_score_plugins(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        breakdown: Option<&mut ScoreBreakdown>,
    ) -> Result<Vec<NodePluginScores>, Status> {
        let mut per_node: Vec<Vec<PluginScore>> = vec![Vec::new(); nodes.len()];
        let totals =
            self.run_score_plugins_inner(h, state, pod, nodes, breakdown, Some(&mut per_node))?;
        Ok(nodes
            .iter()
            .zip(per_node)
            .zip(totals)
            .map(|((n, scores), total_score)| NodePluginScores {
                name: n.name().to_owned(),
                scores,
                total_score,
            })
            .collect())
    }

    /// As [`Framework::run_score_plugins`], returning only each node's total (in `nodes` order).
    pub fn run_score_plugins_totals(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        breakdown: Option<&mut ScoreBreakdown>,
    ) -> Result<Vec<i64>, Status> {
        self.run_score_plugins_inner(h, state, pod, nodes, breakdown, None)
    }

    fn run_score_plugins_inner(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[&NodeInfo],
        mut breakdown: Option<&mut ScoreBreakdown>,
        mut per_node: Option<&mut Vec<Vec<PluginScore>>>,
    ) -> Result<Vec<i64>, Status> {
        let skip_mask = state.skip_score_mask();
        let plugins: Vec<&WeightedPlugin> = self
            .score
            .iter()
            .filter(|w| skip_mask & w.bit == 0)
            .collect();
        if let Some(b) = breakdown.as_deref_mut() {
            b.plugins = plugins
                .iter()
                .map(|w| (w.plugin.name(), w.weight))
                .collect();
            b.skipped = self
                .score
                .iter()
                .filter(|w| skip_mask & w.bit != 0)
                .map(|w| w.plugin.name())
                .collect();
        }
        let mut totals = vec![0i64; nodes.len()];
        if let Some(b) = breakdown.as_deref_mut() {
            b.raw.clear();
            b.normalized.clear();
            b.raw.reserve_exact(plugins.len() * nodes.len());
            b.normalized.reserve_exact(plugins.len() * nodes.len());
        }
        let mut list: Vec<NodeScore<'_>> = Vec::with_capacity(nodes.len());
        // Read once per cycle, not once per plugin.
        let names: Vec<&str> = nodes.iter().map(|n| n.name()).collect();
        for w in &plugins {
            let Some(sp) = w.plugin.as_score() else {
                continue;
            };
            list.clear();
            for (n, name) in nodes.iter().zip(&names) {
                let score = sp.score(h, state, pod, n).map_err(|s| {
                    Status::error(format!(
                        "running Score plugins: plugin {:?} failed with: {}",
                        w.plugin.name(),
                        s.message()
                    ))
                })?;
                list.push(NodeScore { name, score });
            }
            if let Some(b) = breakdown.as_deref_mut() {
                b.raw.extend(list.iter().map(|s| s.score));
            }
            if sp.has_normalize() {
                let s = sp.normalize(h, state, pod, &mut list);
                if !s.is_success() {
                    return Err(Status::error(format!(
                        "running Normalize on Score plugins: plugin {:?} failed with: {}",
                        w.plugin.name(),
                        s.message()
                    )));
                }
            }
            for (i, ns) in list.iter().enumerate() {
                let score = ns.score;
                if !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(&score) {
                    return Err(Status::error(format!(
                        "applying score defaultWeights on Score plugins: plugin {:?} returns an invalid score {score}, it should in the range of [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing",
                        w.plugin.name()
                    )));
                }
                let weighted = score * w.weight;
                totals[i] += weighted;
                if let Some(pn) = per_node.as_deref_mut() {
                    pn[i].push(PluginScore {
                        name: w.plugin.name(),
                        score: weighted,
                    });
                }
            }
            if let Some(b) = breakdown.as_deref_mut() {
                // Checked above: within 0..=MAX_NODE_SCORE.
                b.normalized.extend(
                    list.iter()
                        .map(|s| u8::try_from(s.score).unwrap_or(u8::MAX)),
                );
            }
        }
        if let Some(b) = breakdown {
            b.nodes = nodes.iter().map(|n| NodeName::of(n)).collect();
            b.totals.clone_from(&totals);
        }
        Ok(totals)
    }

    /// Runs Reserve plugins; on failure unreserves all in reverse (`RunReservePluginsReserve`).
    pub fn run_reserve_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        node: &str,
    ) -> Status {
        for p in &self.reserve {
            let Some(r) = p.as_reserve() else { continue };
            let s = r.reserve(h, state, pod, node);
            if !s.is_success() {
                let s = if s.is_rejected() {
                    s.with_plugin(p.name())
                } else {
                    Status::error(format!(
                        "running Reserve plugin {:?}: {}",
                        p.name(),
                        s.message()
                    ))
                    .with_plugin(p.name())
                };
                self.run_unreserve_plugins(h, state, pod, node);
                return s;
            }
        }
        Status::success()
    }

    /// Runs Unreserve in reverse order.
    pub fn run_unreserve_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        node: &str,
    ) {
        for p in self.reserve.iter().rev() {
            if let Some(r) = p.as_reserve() {
                r.unreserve(h, state, pod, node);
            }
        }
    }

    /// Runs Permit plugins (`RunPermitPlugins`); Wait is reported as such.
    pub fn run_permit_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        node: &str,
    ) -> Status {
        let mut wait = false;
        for p in &self.permit {
            let Some(pp) = p.as_permit() else { continue };
            let s = pp.permit(h, state, pod, node);
            if s.is_wait() {
                wait = true;
                continue;
            }
            if !s.is_success() {
                return if s.is_rejected() {
                    s.with_plugin(p.name())
                } else {
                    Status::error(format!(
                        "running Permit plugin {:?}: {}",
                        p.name(),
                        s.message()
                    ))
                    .with_plugin(p.name())
                };
            }
        }
        if wait {
            Status::code_only(Code::Wait)
        } else {
            Status::success()
        }
    }

    /// Runs PreBind plugins.
    pub fn run_pre_bind_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        node: &str,
    ) -> Status {
        for p in &self.pre_bind {
            let Some(pb) = p.as_pre_bind() else { continue };
            let s = pb.pre_bind(h, state, pod, node);
            if s.is_skip() {
                continue;
            }
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Runs Bind plugins until one does not skip.
    pub fn run_bind_plugins(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        node: &str,
    ) -> Status {
        if self.bind.is_empty() {
            return Status::skip();
        }
        for p in &self.bind {
            let Some(b) = p.as_bind() else { continue };
            let s = b.bind(h, state, pod, node);
            if s.is_skip() {
                continue;
            }
            return if s.is_success() {
                s
            } else {
                s.with_plugin(p.name())
            };
        }
        Status::skip()
    }
}
