//! One scheduling cycle: find the feasible nodes (PreFilter, the nominated node, Filter over a
//! rotating window of `numFeasibleNodesToFind` nodes), score them (PreScore, Score, NormalizeScore,
//! weights), pick the host among the best by reservoir sampling with the injected RNG, then
//! assume, reserve, permit and bind — or run PostFilter (preemption) when nothing fits.
//!
//! Upstream: pkg/scheduler/schedule_one.go (`schedulingCycle`, `schedulePod`, `findNodesThatFitPod`,
//! `evaluateNominatedNode`, `findNodesThatPassFilters`, `numFeasibleNodesToFind`, `prioritizeNodes`,
//! `selectHost`), container/heap (the heap `selectHost` pops from).
//!
//! Filters run sequentially in node order (upstream runs 16 goroutines), so the feasible list is
//! in examination order and the run is deterministic; see docs/SCHEDULER.md.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use kubetwin_core::rng::SharedRng;

use crate::cycle_state::CycleState;
use crate::filter_cache::FilterCache;
use crate::framework::{
    Diagnosis, FitError, Framework, Handle, NodePluginScores, NominatingMode, ScoreBreakdown,
};
use crate::objects::{ClusterObjects, Nominator};
use crate::plugins::volumebinding::{VolumeBindings, apply_volume_bindings};
use crate::snapshot::Snapshot;
use crate::status::{Code, Status, StatusReasons};
use crate::types::{NodeInfo, PodInfo};

/// Below this many nodes all are examined (`minFeasibleNodesToFind`).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never goes below this (`minFeasibleNodesPercentageToFind`).
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
/// The message when the cluster has no nodes (`ErrNoNodesAvailable`).
pub const ERR_NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// How many feasible nodes to look for before stopping (`numFeasibleNodesToFind`).
/// `percentage` is the profile's value if set, else the global one; 0 means adaptive.
pub fn num_feasible_nodes_to_find(percentage: i32, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let n = i64::try_from(num_all_nodes).unwrap_or(i64::MAX);
    let mut pct = i64::from(percentage);
    if pct == 0 {
        pct = 50 - n / 125;
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let num = usize::try_from(n.saturating_mul(pct) / 100).unwrap_or(0);
    num.max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// The chosen node of a successful `schedulePod` (`ScheduleResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleResult {
    /// The chosen node.
    pub suggested_host: String,
    /// Nodes examined (feasible + rejected).
    pub evaluated_nodes: usize,
    /// Nodes that passed the filters.
    pub feasible_nodes: usize,
}

/// Why `schedulePod` found no node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleFailure {
    /// The snapshot has no nodes.
    NoNodes,
    /// No node fits.
    Fit(Box<FitError>),
    /// A plugin failed internally.
    Error(String),
}

/// A node name in an explanation: interned, so that recording a decision's several hundred
/// node verdicts copies pointers. An `Arc<str>` per verdict cost an atomic increment (and a
/// decrement when the decision was forgotten) on a cache line per node; in the whole-cluster
/// benchmark that was most of the filter loop's own time.
///
/// Interned names live as long as the process: a cluster has few distinct node names (every
/// node ever seen, about a hundred bytes each), so the table stays small.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeName(&'static str);

impl NodeName {
    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The name of `node` (read from the node's hot fields, no lookup).
    pub fn of(node: &NodeInfo) -> Self {
        node.interned_name()
    }

    /// The interned `name`: the same pointer for the same text.
    pub fn intern(name: &str) -> Self {
        static NAMES: std::sync::Mutex<BTreeSet<&'static str>> =
            std::sync::Mutex::new(BTreeSet::new());
        // A poisoned lock still holds a consistent set (insertion is the only change).
        let mut names = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = names.get(name) {
            return Self(known);
        }
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        names.insert(leaked);
        Self(leaked)
    }
}

impl std::ops::Deref for NodeName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Debug for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl From<&str> for NodeName {
    fn from(name: &str) -> Self {
        Self::intern(name)
    }
}

impl From<Arc<str>> for NodeName {
    fn from(name: Arc<str>) -> Self {
        Self::intern(&name)
    }
}

impl PartialEq<str> for NodeName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for NodeName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl serde::Serialize for NodeName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// The name of the plugin that rejected a node (a static string; "" when the node passed).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginName(pub &'static str);

impl PluginName {
    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for PluginName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Debug for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

/// A node's filter verdict for explanations. A passing node's verdict allocates nothing; a
/// rejected node's allocates only for reasons that are not static strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterVerdict {
    /// Node name.
    pub node: NodeName,
    /// Code (`Success` when the node passed).
    pub code: Code,
    /// The rejecting plugin ("" when passed).
    pub plugin: PluginName,
    /// The reasons.
    pub reasons: StatusReasons,
}

/// Everything that explains one decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// The PreFilter rejection message, if PreFilter rejected the pod.
    pub pre_filter_message: String,
    /// Nodes the PreFilter result excluded.
    pub pre_filter_excluded: Vec<NodeName>,
    /// Per examined node, its filter verdict, in examination order.
    pub filter: Vec<FilterVerdict>,
    /// Nodes not examined because enough feasible nodes were found (empty when
    /// `count_only_unevaluated`).
    pub not_evaluated: Vec<NodeName>,
    /// How many nodes were not examined.
    pub not_evaluated_count: usize,
    /// Set by the caller: count the unexamined nodes without naming them (a long-running
    /// scheduler keeps thousands of decisions; naming 95 % of a 5,000-node cluster in each
    /// cost more than the filtering it explains).
    pub count_only_unevaluated: bool,
    /// Scores per plugin and final weighted totals per node (absent when fewer than two nodes
    /// were feasible).
    pub scores: Option<ScoreBreakdown>,
    /// The nominated node that passed the filters, when it short-circuited the cycle.
    pub nominated_node_used: Option<String>,
}

impl Explanation {
    /// An estimate of the heap bytes the explanation owns (by capacity; allocator overhead
    /// and node names shared with the snapshot not counted).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let reasons: usize = self.filter.iter().map(|f| f.reasons.heap_bytes()).sum();
        self.pre_filter_message.capacity()
            + self.pre_filter_excluded.capacity() * size_of::<NodeName>()
            + self.filter.capacity() * size_of::<FilterVerdict>()
            + reasons
            + self.not_evaluated.capacity() * size_of::<NodeName>()
            + self.scores.as_ref().map_or(0, ScoreBreakdown::heap_bytes)
            + self
                .nominated_node_used
                .as_ref()
                .map_or(0, String::capacity)
    }
}

/// What the pieces of one cycle need.
pub struct CycleContext<'a> {
    /// Read access for plugins.
    pub handle: Handle<'a>,
    /// The profile.
    pub framework: &'a Framework,
    /// Global `percentageOfNodesToScore`.
    pub percentage_of_nodes_to_score: i32,
    /// Node-local Filter verdicts reused across cycles, if the caller keeps them.
    pub filter_cache: Option<&'a Mutex<FilterCache>>,
}

/// Finds the node for `pod` (`schedulePod`); updates `next_start_node_index`.
pub fn schedule_pod(
    cx: &CycleContext<'_>,
    next_start_node_index: &mut usize,
    state: &mut CycleState,
    pod: &PodInfo,
    mut explain: Option<&mut Explanation>,
) -> Result<ScheduleResult, ScheduleFailure> {
    let snapshot = cx.handle.snapshot;
    if snapshot.num_nodes() == 0 {
        return Err(ScheduleFailure::NoNodes);
    }
    let (feasible, diagnosis) = find_nodes_that_fit_pod(
        cx,
        next_start_node_index,
        state,
        pod,
        explain.as_deref_mut(),
    )?;
    if feasible.is_empty() {
        return Err(ScheduleFailure::Fit(Box::new(FitError {
            pod: pod.key.clone(),
            num_all_nodes: snapshot.num_nodes(),
            diagnosis,
        })));
    }
    if feasible.len() == 1 {
        return Ok(ScheduleResult {
            suggested_host: feasible[0].name().to_owned(),
            evaluated_nodes: 1 + diagnosis.node_to_status.len(),
            feasible_nodes: 1,
        });
    }
    let totals = prioritize_nodes(cx, state, pod, &feasible, explain)?;
    let index = select_host_index(&totals, cx.handle.rng).map_err(ScheduleFailure::Error)?;
    let host = feasible[index].name().to_owned();
    Ok(ScheduleResult {
        suggested_host: host,
        evaluated_nodes: feasible.len() + diagnosis.node_to_status.len(),
        feasible_nodes: feasible.len(),
    })
}

/// PreFilter, the nominated node, then Filter (`findNodesThatFitPod`).
fn find_nodes_that_fit_pod<'s>(
    cx: &CycleContext<'s>,
    next_start_node_index: &mut usize,
    state: &mut CycleState,
    pod: &PodInfo,
    mut explain: Option<&mut Explanation>,
) -> Result<(Vec<&'s NodeInfo>, Diagnosis), ScheduleFailure> {
    let h = &cx.handle;
    let fw = cx.framework;
    let mut diagnosis = Diagnosis::default();
    let (pre_res, s, unsched_plugins) = fw.run_pre_filter_plugins(h, state, pod);
    diagnosis.unschedulable_plugins = unsched_plugins.clone();
    if !s.is_success() {
        if !s.is_rejected() {
            return Err(ScheduleFailure::Error(s.message()));
        }
        diagnosis.pre_filter_msg = s.message();
        diagnosis.add_plugin_status(&s);
        diagnosis.node_to_status.set_absent_nodes_status(s);
        if let Some(e) = explain {
            e.pre_filter_message = diagnosis.pre_filter_msg.clone();
        }
        return Ok((Vec::new(), diagnosis));
    }

    if !pod.nominated_node_name.is_empty()
        && let Some(node) = h.snapshot.get(&pod.nominated_node_name)
    {
        // Upstream: evaluateNominatedNode — a passing nominated node is the result.
        // The per-node status map is shared with the main pass, as upstream's pointer is.
        let feasible = find_nodes_that_pass_filters(
            cx,
            &mut 0,
            state,
            pod,
            &mut diagnosis,
            &[node],
            false,
            None,
        );
        if !feasible.is_empty() {
            if let Some(e) = explain {
                e.nominated_node_used = Some(node.name().to_owned());
            }
            return Ok((feasible, diagnosis));
        }
    }

    let num_all_nodes = h.snapshot.num_nodes();
    let in_list_order = pre_res
        .as_ref()
        .and_then(|r| r.node_names.as_ref())
        .is_none();
    let nodes: Vec<&NodeInfo> = match pre_res.as_ref().and_then(|r| r.node_names.as_ref()) {
        None => h.snapshot.list().collect(),
        Some(names) => {
            // Upstream iterates a Go set (random order); we use name order.
            let list: Vec<&NodeInfo> = names.iter().filter_map(|n| h.snapshot.get(n)).collect();
            let plugins: Vec<&str> = unsched_plugins.iter().map(String::as_str).collect();
            diagnosis
                .node_to_status
                .set_absent_nodes_status(Status::with_reason(
                    Code::UnschedulableAndUnresolvable,
                    format!("node(s) didn't satisfy plugin(s) [{}]", plugins.join(" ")),
                ));
            if let Some(e) = explain.as_deref_mut() {
                let kept: BTreeSet<&str> = list.iter().map(|n| n.name()).collect();
                e.pre_filter_excluded = h
                    .snapshot
                    .list()
                    .filter(|n| !kept.contains(n.name()))
                    .map(NodeName::of)
                    .collect();
            }
            list
        }
    };
    let mut start = *next_start_node_index;
    let feasible = find_nodes_that_pass_filters(
        cx,
        &mut start,
        state,
        pod,
        &mut diagnosis,
        &nodes,
        in_list_order,
        explain,
    );
    let processed = feasible.len() + diagnosis.node_to_status.len();
    *next_start_node_index = (*next_start_node_index + processed) % num_all_nodes;
    Ok((feasible, diagnosis))
}

/// Runs the filters from the rotating start index until enough feasible nodes are found
/// (`findNodesThatPassFilters`). `in_list_order`: `nodes` is the snapshot's whole list, in
/// order (so a node's index is its list position).
#[allow(clippy::too_many_arguments)]
fn find_nodes_that_pass_filters<'s>(
    cx: &CycleContext<'s>,
    next_start_node_index: &mut usize,
    state: &CycleState,
    pod: &PodInfo,
    diagnosis: &mut Diagnosis,
    nodes: &[&'s NodeInfo],
    in_list_order: bool,
    mut explain: Option<&mut Explanation>,
) -> Vec<&'s NodeInfo> {
    let fw = cx.framework;
    let num_all = nodes.len();
    if num_all == 0 {
        return Vec::new();
    }
    let pct = fw
        .percentage_of_nodes_to_score()
        .unwrap_or(cx.percentage_of_nodes_to_score);
    let mut num_to_find = num_feasible_nodes_to_find(pct, num_all);
    if !fw.has_score_plugins() {
        num_to_find = 1;
    }
    let start = *next_start_node_index;
    let mut feasible = Vec::with_capacity(num_to_find.min(num_all));
    if !fw.has_filter_plugins() {
        for i in 0..num_to_find.min(num_all) {
            feasible.push(nodes[(start + i) % num_all]);
        }
        return feasible;
    }
    let mut examined = 0;
    if let Some(e) = explain.as_deref_mut() {
        e.filter.reserve(num_to_find.min(num_all));
    }
    let chain = fw.filter_chain(state);
    let h = &cx.handle;
    // Names for the explanation, by list position (see `Snapshot::list_names`).
    let names_in_list_order: &[NodeName] = match explain {
        Some(_) => h.snapshot.list_names(),
        None => &[],
    };
    let name_of = |node: &NodeInfo, position: Option<usize>| {
        let name = position
            .and_then(|p| names_in_list_order.get(p))
            .copied()
            .unwrap_or_else(|| NodeName::of(node));
        debug_assert_eq!(name, NodeName::of(node), "list position {position:?}");
        name
    };
    let mut cache = cx.filter_cache.and_then(|m| m.lock().ok());
    let cached_prefix = cache
        .as_deref_mut()
        .map_or(0, |c| c.begin(h.snapshot, &chain, pod));
    let mut last_set_token: Option<u32> = None;
    let mut last_recorded: (*const u8, usize, Code) = ("".as_ptr(), 0, Code::Success);
    for i in 0..num_all {
        let index = (start + i) % num_all;
        let node = nodes[index];
        examined = i + 1;
        // The node's list position, known without reading the node when the list is whole.
        let position = if in_list_order {
            Some(index)
        } else {
            h.snapshot.owns(node).then_some(node.list_position)
        };
        let nominated_free =
            h.nominator.is_empty() || h.nominator.nominated_pods_for_node(node.name()).is_empty();
        // Without nominated pods the chain runs once on the node as it is, so its node-local
        // prefix may come from an earlier cycle (`token`: the verdict's index in the cache).
        let cacheable = cached_prefix > 0 && nominated_free;
        if cacheable
            && explain.is_none()
            && let (Some(c), Some(pos), Some(last)) = (cache.as_deref(), position, last_set_token)
            && let Some((token, cached)) = c.get(h.snapshot, pos)
            && token == last
            && !cached.is_success()
            && diagnosis.node_to_status.repeat_last_at(h.snapshot, pos)
        {
            // The same rejection as the node before: nothing new to record.
            continue;
        }
        let (status, token) = match (cache.as_deref_mut(), position) {
            (Some(cache), Some(pos)) if cacheable => {
                let (head, token) = match cache.get(h.snapshot, pos) {
                    Some((token, s)) => (s.clone(), Some(token)),
                    None => {
                        let s = chain.run_range(0, cached_prefix, h, state, pod, node);
                        let token = cache.put(h.snapshot, pos, &s);
                        (s, token)
                    }
                };
                if head.is_success() {
                    let rest = chain.run_range(cached_prefix, usize::MAX, h, state, pod, node);
                    (rest, None)
                } else {
                    (head, token)
                }
            }
            _ => (chain.run_with_nominated_pods(h, state, pod, node), None),
        };
        if status.is_success() {
            feasible.push(node);
            if let Some(e) = explain.as_deref_mut() {
                e.filter.push(FilterVerdict {
                    node: name_of(node, position),
                    code: Code::Success,
                    plugin: PluginName::default(),
                    reasons: StatusReasons::default(),
                });
            }
            if feasible.len() >= num_to_find {
                break;
            }
        } else {
            if let Some(e) = explain.as_deref_mut() {
                e.filter.push(FilterVerdict {
                    node: name_of(node, position),
                    code: status.code(),
                    plugin: PluginName(status.plugin()),
                    reasons: status.shared_reasons(),
                });
            }
            // Rejections come in bulk, mostly from the same plugin: record it once per run
            // (plugin names are static, compared by address).
            let key = (
                status.plugin().as_ptr(),
                status.plugin().len(),
                status.code(),
            );
            if key != last_recorded {
                diagnosis.add_plugin_status(&status);
                last_recorded = key;
            }
            if diagnosis.node_to_status.is_empty() {
                // Rejections usually come in bulk: size the list once.
                diagnosis.node_to_status.reserve(num_all - i);
            }
            match position {
                Some(pos) => diagnosis
                    .node_to_status
                    .set_position(h.snapshot, pos, status),
                None => diagnosis.node_to_status.set_node(h.snapshot, node, status),
            }
            last_set_token = token;
        }
    }
    if let Some(e) = explain {
        // Kept for long: give back what growing the list over-reserved.
        e.filter.shrink_to_fit();
        e.not_evaluated_count = num_all - examined;
        if !e.count_only_unevaluated {
            e.not_evaluated = (examined..num_all)
                .map(|i| NodeName::of(nodes[(start + i) % num_all]))
                .collect();
        }
    }
    feasible
}

/// PreScore and Score (`prioritizeNodes`).
fn prioritize_nodes(
    cx: &CycleContext<'_>,
    state: &mut CycleState,
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    explain: Option<&mut Explanation>,
) -> Result<Vec<i64>, ScheduleFailure> {
    let fw = cx.framework;
    if !fw.has_score_plugins() {
        return Ok(vec![1; nodes.len()]);
    }
    let s = fw.run_pre_score_plugins(&cx.handle, state, pod, nodes);
    if !s.is_success() {
        return Err(ScheduleFailure::Error(s.message()));
    }
    let mut breakdown = explain.is_some().then(ScoreBreakdown::default);
    let scores = fw
        .run_score_plugins_totals(&cx.handle, state, pod, nodes, breakdown.as_mut())
        .map_err(|s| ScheduleFailure::Error(s.message()))?;
    if let Some(e) = explain {
        e.scores = breakdown;
    }
    Ok(scores)
}

fn heap_less(h: &[(i64, usize)], i: usize, j: usize) -> bool {
    h[i].0 > h[j].0
}

/// container/heap's `down`.
fn heap_down(h: &mut [(i64, usize)], i0: usize, n: usize) {
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && heap_less(h, j2, j1) {
            j = j2;
        }
        if !heap_less(h, j, i) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
}

fn heap_pop(h: &mut Vec<(i64, usize)>) -> Option<(i64, usize)> {
    let n = h.len().checked_sub(1)?;
    h.swap(0, n);
    heap_down(h, 0, n);
    h.pop()
}

/// Picks the host uniformly among the highest scores by reservoir sampling over a max-heap, as
/// upstream, drawing from the injected RNG (`selectHost`).
pub fn select_host(list: Vec<NodePluginScores>, rng: &SharedRng) -> Result<String, String> {
    let totals: Vec<i64> = list.iter().map(|n| n.total_score).collect();
    let i = select_host_index(&totals, rng)?;
    Ok(list.into_iter().nth(i).map(|n| n.name).unwrap_or_default())
}

/// [`select_host`] over totals; returns the index of the chosen node.
pub fn select_host_index(totals: &[i64], rng: &SharedRng) -> Result<usize, String> {
    if totals.is_empty() {
        return Err("empty priorityList".into());
    }
    let mut heap: Vec<(i64, usize)> = totals.iter().copied().zip(0..).collect();
    let n = heap.len();
    for i in (0..n / 2).rev() {
        heap_down(&mut heap, i, n);
    }
    let Some((top, first)) = heap_pop(&mut heap) else {
        return Err("empty priorityList".into());
    };
    let mut selected = first;
    let mut count_of_max: u64 = 1;
    while let Some((score, index)) = heap_pop(&mut heap) {
        if score != top {
            break;
        }
        count_of_max += 1;
        if rng.with(|r| r.below(count_of_max)) == 0 {
            selected = index;
        }
    }
    Ok(selected)
}

/// The outcome of one scheduling attempt of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleOutcome {
    /// `namespace/name`.
    pub pod: String,
    /// The node the pod was bound to.
    pub node: Option<String>,
    /// The status code of the attempt.
    pub code: Code,
    /// The failure message (FitError text or error).
    pub message: Option<String>,
    /// The node nominated by preemption.
    pub nominated_node: Option<String>,
    /// Pods evicted by preemption.
    pub preempted: Vec<String>,
    /// Plugins that rejected the pod.
    pub unschedulable_plugins: BTreeSet<String>,
    /// Details, when asked for.
    pub explanation: Option<Explanation>,
    /// Whether binding the pod bound or provisioned volumes (PV and PVC updates).
    pub volumes_bound: bool,
}

/// A scheduler: profiles, the snapshot it keeps up to date, cluster objects, nominations, RNG.
pub struct Scheduler {
    /// Profiles by scheduler name, in configuration order.
    pub profiles: Vec<Framework>,
    /// Nodes and assigned pods.
    pub snapshot: Snapshot,
    /// Other cluster objects.
    pub objects: ClusterObjects,
    /// Nominated pods.
    pub nominator: Nominator,
    /// The injected random source.
    pub rng: SharedRng,
    /// Where the next cycle starts examining nodes.
    pub next_start_node_index: usize,
    /// Global `percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: i32,
    /// Explanations count the nodes a cycle did not examine instead of naming them.
    pub explain_count_only_unevaluated: bool,
    /// Node-local Filter verdicts reused across cycles.
    filter_cache: Mutex<FilterCache>,
    /// Whether `filter_cache` is used.
    filter_cache_enabled: bool,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("profiles", &self.profiles)
            .field("nodes", &self.snapshot.num_nodes())
            .field("next_start_node_index", &self.next_start_node_index)
            .finish()
    }
}

impl Scheduler {
    /// A scheduler with the given profiles and seed.
    pub fn new(profiles: Vec<Framework>, seed: u64) -> Self {
        Self {
            profiles,
            snapshot: Snapshot::new(),
            objects: ClusterObjects::default(),
            nominator: Nominator::default(),
            rng: SharedRng::new(seed),
            next_start_node_index: 0,
            percentage_of_nodes_to_score: 0,
            filter_cache: Mutex::new(FilterCache::default()),
            filter_cache_enabled: true,
            explain_count_only_unevaluated: false,
        }
    }

    /// Turns the reuse of node-local Filter verdicts across cycles on (the default) or off;
    /// decisions are the same either way (tests compare both).
    pub fn set_filter_cache_enabled(&mut self, enabled: bool) {
        self.filter_cache_enabled = enabled;
        if let Ok(mut cache) = self.filter_cache.lock() {
            *cache = FilterCache::default();
        }
    }

    /// The profile for a scheduler name.
    pub fn profile(&self, scheduler_name: &str) -> Option<&Framework> {
        self.profiles
            .iter()
            .find(|f| f.profile_name() == scheduler_name)
    }

    /// The profile that handles `pod` (`spec.schedulerName`, default `default-scheduler`).
    pub fn profile_for_pod(&self, pod: &PodInfo) -> Option<usize> {
        let name = pod
            .spec()
            .and_then(|s| s.scheduler_name.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or("default-scheduler");
        self.profiles.iter().position(|f| f.profile_name() == name)
    }

    /// Runs one scheduling cycle and, on success, the binding cycle, applying the result to the
    /// snapshot: the pod is added to its node, preemption victims are removed, nominations kept.
    pub fn schedule_one(&mut self, pod: &Arc<PodInfo>, explain: bool) -> CycleOutcome {
        let mut outcome = CycleOutcome {
            pod: pod.key.clone(),
            node: None,
            code: Code::Success,
            message: None,
            nominated_node: None,
            preempted: Vec::new(),
            unschedulable_plugins: BTreeSet::new(),
            explanation: explain.then(|| Explanation {
                count_only_unevaluated: self.explain_count_only_unevaluated,
                ..Explanation::default()
            }),
            volumes_bound: false,
        };
        let Some(profile_index) = self.profile_for_pod(pod) else {
            outcome.code = Code::Error;
            outcome.message = Some(format!(
                "profile not found for scheduler name {:?}",
                pod.spec()
                    .and_then(|s| s.scheduler_name.clone())
                    .unwrap_or_default()
            ));
            return outcome;
        };
        let mut state = CycleState::new();
        let fw = &self.profiles[profile_index];
        let handle = Handle {
            snapshot: &self.snapshot,
            objects: &self.objects,
            nominator: &self.nominator,
            rng: &self.rng,
        };
        let cx = CycleContext {
            handle,
            framework: fw,
            percentage_of_nodes_to_score: self.percentage_of_nodes_to_score,
            filter_cache: self.filter_cache_enabled.then_some(&self.filter_cache),
        };
        let result = schedule_pod(
            &cx,
            &mut self.next_start_node_index,
            &mut state,
            pod,
            outcome.explanation.as_mut(),
        );
        match result {
            Err(ScheduleFailure::NoNodes) => {
                outcome.code = Code::UnschedulableAndUnresolvable;
                outcome.message = Some(ERR_NO_NODES_AVAILABLE.to_owned());
                self.nominator.delete(&pod.key);
                outcome
            }
            Err(ScheduleFailure::Error(msg)) => {
                outcome.code = Code::Error;
                outcome.message = Some(msg);
                self.nominator.delete(&pod.key);
                outcome
            }
            Err(ScheduleFailure::Fit(mut fit)) => {
                outcome.code = Code::Unschedulable;
                let mut nomination: Option<(NominatingMode, String)> = None;
                let mut victims = Vec::new();
                if fw.has_post_filter_plugins() {
                    let (res, s) = fw.run_post_filter_plugins(
                        &cx.handle,
                        &state,
                        pod,
                        &fit.diagnosis.node_to_status,
                    );
                    fit.diagnosis.post_filter_msg = s.message();
                    if let Some(r) = res {
                        nomination = Some((r.mode, r.nominated_node_name.clone()));
                        victims = r.victims;
                    }
                }
                outcome.unschedulable_plugins = fit.diagnosis.unschedulable_plugins.clone();
                outcome.message = Some(fit.to_string());
                for v in &victims {
                    if let Ok(removed) = self.snapshot.remove_pod(v) {
                        self.nominator.delete(&removed.key);
                    }
                }
                outcome.preempted = victims;
                match nomination {
                    Some((NominatingMode::Override, node)) if !node.is_empty() => {
                        // Lower-priority pods nominated to the same node lose their nomination.
                        let lower: Vec<String> = self
                            .nominator
                            .nominated_pods_for_node(&node)
                            .iter()
                            .filter(|p| p.priority < pod.priority)
                            .map(|p| p.key.clone())
                            .collect();
                        for k in lower {
                            self.nominator.delete(&k);
                        }
                        let mut nominated = (**pod).clone();
                        nominated.nominated_node_name.clone_from(&node);
                        self.nominator.add(Arc::new(nominated), &node);
                        outcome.nominated_node = Some(node);
                    }
                    Some((NominatingMode::Override, _)) => self.nominator.delete(&pod.key),
                    _ => {
                        if let Some(n) = self.nominator.node_of(&pod.key) {
                            outcome.nominated_node = Some(n.to_owned());
                        }
                    }
                }
                outcome
            }
            Ok(result) => {
                let host = result.suggested_host;
                let assumed = Arc::new(pod.assumed_on(&host));
                if let Err(e) = self.snapshot.add_pod(assumed.clone()) {
                    outcome.code = Code::Error;
                    outcome.message = Some(e.to_string());
                    return outcome;
                }
                let fw = &self.profiles[profile_index];
                let handle = Handle {
                    snapshot: &self.snapshot,
                    objects: &self.objects,
                    nominator: &self.nominator,
                    rng: &self.rng,
                };
                let mut status = fw.run_reserve_plugins(&handle, &mut state, &assumed, &host);
                if status.is_success() {
                    status = fw.run_permit_plugins(&handle, &mut state, &assumed, &host);
                    if !status.is_success() && !status.is_wait() {
                        fw.run_unreserve_plugins(&handle, &mut state, &assumed, &host);
                    }
                }
                if status.is_success() || status.is_wait() {
                    status = fw.run_pre_bind_plugins(&handle, &mut state, &assumed, &host);
                    if status.is_success() {
                        status = fw.run_bind_plugins(&handle, &mut state, &assumed, &host);
                    }
                    if !status.is_success() {
                        fw.run_unreserve_plugins(&handle, &mut state, &assumed, &host);
                    }
                }
                if !status.is_success() {
                    let _ = self.snapshot.remove_pod(&assumed.key);
                    outcome.code = status.code();
                    if status.is_rejected() {
                        let mut d = Diagnosis::default();
                        d.node_to_status.set(&host, status.clone());
                        d.add_plugin_status(&status);
                        outcome.unschedulable_plugins = d.unschedulable_plugins.clone();
                        outcome.message = Some(
                            FitError {
                                pod: pod.key.clone(),
                                num_all_nodes: 1,
                                diagnosis: d,
                            }
                            .to_string(),
                        );
                    } else {
                        outcome.message = Some(status.message());
                    }
                    return outcome;
                }
                if let Some(b) =
                    state.read::<VolumeBindings>(crate::plugins::volumebinding::BINDINGS_STATE_KEY)
                {
                    apply_volume_bindings(&mut self.objects, b);
                    outcome.volumes_bound = true;
                }
                self.nominator.delete(&pod.key);
                outcome.node = Some(host);
                outcome
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NodeName;

    #[test]
    fn interning_gives_one_copy_per_name() {
        let a = NodeName::intern("node-a");
        let again = NodeName::from(String::from("node-a").as_str());
        assert!(std::ptr::eq(a.as_str(), again.as_str()));
        let b = NodeName::intern("node-b");
        assert_ne!(a, b);
        assert!(a < b);
        assert_eq!(a, "node-a");
        assert_eq!(format!("{a} {a:?}"), "node-a \"node-a\"");
    }
}
