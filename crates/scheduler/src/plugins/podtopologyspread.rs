//! PodTopologySpread: hard constraints (`DoNotSchedule`) as a filter with per-constraint domain
//! counts and critical paths, soft constraints (`ScheduleAnyway`) as a score; `minDomains`,
//! `nodeAffinityPolicy`, `nodeTaintsPolicy` and `matchLabelKeys` as in 1.34.
//!
//! Upstream: pkg/scheduler/framework/plugins/podtopologyspread/{common.go, filtering.go,
//! scoring.go, plugin.go}.
//!
//! Pods without constraints get the default constraints (system defaults: hostname maxSkew 3,
//! zone maxSkew 5, both ScheduleAnyway) with the selector of the Services, ReplicationController,
//! ReplicaSet or StatefulSet selecting or owning them (`helper.DefaultSelector`,
//! pkg/scheduler/framework/plugins/helper/spread.go).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use kubetwin_core::labels::Selector;

use crate::cycle_state::CycleState;
use crate::framework::{
    FilterPlugin, Handle, MAX_NODE_SCORE, NodeScore, Plugin, PreFilterPlugin, PreFilterResult,
    PreScorePlugin, ScorePlugin,
};
use crate::helpers::nodeaffinity::RequiredNodeAffinity;
use crate::helpers::taints::{do_not_schedule_taints_filter, find_matching_untolerated_taint};
use crate::objects::ClusterObjects;
use crate::plugins::names;
use crate::snapshot::{Contribution, TopologyCounts};
use crate::status::{Code, Status};
use crate::topology::{DomainId, NodeDomain, PodCounts, TopologyDomains, domain_index};
use crate::types::{NodeInfo, PodInfo};

/// The constraints are not satisfied (`ErrReasonConstraintsNotMatch`).
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// The node lacks a topology key (`ErrReasonNodeLabelNotMatch`).
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const PRE_FILTER_STATE_KEY: &str = "PreFilterPodTopologySpread";
const PRE_SCORE_STATE_KEY: &str = "PreScorePodTopologySpread";
const HOSTNAME: &str = "kubernetes.io/hostname";

/// A parsed constraint (`topologySpreadConstraint`).
#[derive(Debug, Clone)]
pub struct Constraint {
    max_skew: i32,
    topology_key: String,
    selector: Selector,
    min_domains: i32,
    node_affinity_honor: bool,
    node_taints_honor: bool,
}

impl Constraint {
    /// Whether the node counts for this constraint (`matchNodeInclusionPolicies`).
    fn includes_node(
        &self,
        pod: &PodInfo,
        node: &NodeInfo,
        required: &RequiredNodeAffinity,
    ) -> bool {
        if self.node_affinity_honor && !required.matches(&node.node.labels, node.name()) {
            return false;
        }
        if self.node_taints_honor
            && find_matching_untolerated_taint(
                &node.node.taints,
                &pod.tolerations,
                do_not_schedule_taints_filter,
            )
            .is_some()
        {
            return false;
        }
        true
    }
}

/// Parses the constraints with `when` (`filterTopologySpreadConstraints`).
fn filter_constraints(
    list: &[TopologySpreadConstraint],
    pod: &PodInfo,
    when: &str,
) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    for c in list {
        if c.when_unsatisfiable != when {
            continue;
        }
        let mut selector =
            Selector::from_label_selector(c.label_selector.as_ref()).map_err(|e| e.to_string())?;
        // MatchLabelKeysInPodTopologySpread (beta, on): merge the pod's values for those keys.
        let keys = c.match_label_keys.as_deref().unwrap_or_default();
        if !keys.is_empty() {
            let match_labels: BTreeMap<String, String> = keys
                .iter()
                .filter_map(|k| pod.labels.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            if !match_labels.is_empty() && !selector.is_nothing() {
                selector =
                    Selector::from_set(&match_labels).add(selector.requirements().iter().cloned());
            }
        }
        out.push(Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            node_affinity_honor: c.node_affinity_policy.as_deref() != Some("Ignore"),
            node_taints_honor: c.node_taints_policy.as_deref() == Some("Honor"),
        });
    }
    Ok(out)
}

/// Sums the contributions of every node without caching.
fn uncached_counts(
    h: &Handle<'_>,
    contribute: &dyn Fn(&NodeInfo, &mut Contribution),
) -> TopologyCounts {
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut c = Vec::new();
    for node in h.snapshot.list() {
        c.clear();
        contribute(node, &mut c);
        for (_, v, n) in &c {
            *totals.entry(v.clone()).or_insert(0) += n;
        }
    }
    let mut out = TopologyCounts::new();
    if !totals.is_empty() {
        out.insert(String::new(), Arc::new(totals));
    }
    out
}

fn node_labels_match(node: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| node.node.labels.contains_key(&c.topology_key))
}

/// Pods on the node in `ns`, not terminating, matching the selector (`countPodsMatchSelector`).
fn count_pods_match_selector(node: &NodeInfo, selector: &Selector, ns: &str) -> i64 {
    if node.pods.is_empty() || selector.is_empty() {
        return 0;
    }
    let n = node
        .pods
        .iter()
        .filter(|p| !p.terminating && p.namespace == ns && selector.matches(&p.labels))
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The two domains with the fewest matching pods (`criticalPaths`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct CriticalPaths([(String, i64); 2]);

impl CriticalPaths {
    fn new() -> Self {
        Self([
            (String::new(), i64::from(i32::MAX)),
            (String::new(), i64::from(i32::MAX)),
        ])
    }

    fn update(&mut self, value: &str, num: i64) {
        let p = &mut self.0;
        let i = if value == p[0].0 {
            Some(0)
        } else if value == p[1].0 {
            Some(1)
        } else {
            None
        };
        match i {
            Some(i) => {
                p[i].1 = num;
                if p[0].1 > p[1].1 {
                    p.swap(0, 1);
                }
            }
            None => {
                if num < p[0].1 {
                    p[1] = p[0].clone();
                    p[0] = (value.to_owned(), num);
                } else if num < p[1].1 {
                    p[1] = (value.to_owned(), num);
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct PreFilterState {
    constraints: Arc<Vec<Constraint>>,
    critical_paths: Vec<CriticalPaths>,
    tp_value_to_match_num: Vec<Arc<BTreeMap<String, i64>>>,
    /// Per constraint, 1 when the incoming pod matches its own selector (constant per cycle).
    self_match: Vec<i64>,
    /// Per constraint, whether every domain (and an unseen one, count 0) is within the skew:
    /// then Filter only checks that the node has the topology key.
    every_domain_fits: Vec<bool>,
    /// Per constraint, the snapshot's domain index of its topology key.
    domains: Vec<Arc<TopologyDomains>>,
    /// Per constraint with few domains, `tp_value_to_match_num` by domain id (Filter reads it
    /// per node); `None`: Filter looks the value up in the map.
    match_num_by_id: Vec<Option<Vec<Option<i64>>>>,
}

/// Constraints with at most this many domains get their counts by domain id (converting a
/// hostname constraint's thousands of values each cycle would cost more than it saves).
const MAX_DOMAINS_BY_ID: usize = 64;

/// `counts` by domain id of `domains`, when there are few.
fn match_num_by_id(
    domains: &TopologyDomains,
    counts: &BTreeMap<String, i64>,
) -> Option<Vec<Option<i64>>> {
    if counts.len() > MAX_DOMAINS_BY_ID {
        return None;
    }
    let mut by_id = vec![None; domains.num_ids()];
    for (value, n) in counts {
        // A value no snapshot node has is only reachable through the map.
        if let Some(slot) = domains
            .id_of(value)
            .and_then(|id| by_id.get_mut(domain_index(id)))
        {
            *slot = Some(*n);
        }
    }
    Some(by_id)
}

impl PreFilterState {
    /// Whether every domain of constraint `i` passes the skew check, given its largest count.
    fn domains_fit(&self, i: usize, max_count: i64) -> bool {
        let c = &self.constraints[i];
        let allowed =
            i64::from(c.max_skew) + self.min_match_num(i, c.min_domains) - self.self_match[i];
        max_count.max(0) <= allowed
    }

    fn refresh_every_domain_fits(&mut self) {
        self.every_domain_fits = (0..self.constraints.len())
            .map(|i| {
                let max = self.tp_value_to_match_num[i]
                    .values()
                    .copied()
                    .max()
                    .unwrap_or(0);
                self.domains_fit(i, max)
            })
            .collect();
    }

    fn min_match_num(&self, i: usize, min_domains: i32) -> i64 {
        let domains = self.tp_value_to_match_num[i].len();
        if (domains as i64) < i64::from(min_domains) {
            0
        } else {
            self.critical_paths[i].0[0].1
        }
    }

    fn update_with_pod(
        &mut self,
        updated: &PodInfo,
        preemptor: &PodInfo,
        node: &NodeInfo,
        delta: i64,
    ) {
        if updated.namespace != preemptor.namespace || !node_labels_match(node, &self.constraints) {
            return;
        }
        let constraints = self.constraints.clone();
        for (i, c) in constraints.iter().enumerate() {
            if !c.selector.matches(&updated.labels)
                || !c.includes_node(preemptor, node, &preemptor.required_node_affinity)
            {
                continue;
            }
            let v = node
                .node
                .labels
                .get(&c.topology_key)
                .cloned()
                .unwrap_or_default();
            let entry = Arc::make_mut(&mut self.tp_value_to_match_num[i])
                .entry(v.clone())
                .or_insert(0);
            *entry += delta;
            let n = *entry;
            if let Some(by_id) = self.match_num_by_id[i].as_mut()
                && let Some(slot) = self.domains[i]
                    .id_of(&v)
                    .and_then(|id| by_id.get_mut(domain_index(id)))
            {
                *slot = Some(n);
            }
            self.critical_paths[i].update(&v, n);
        }
        self.refresh_every_domain_fits();
    }
}

#[derive(Debug, Clone)]
struct PreScoreState {
    constraints: Arc<Vec<Constraint>>,
    ignored_nodes: BTreeSet<String>,
    /// Per constraint, matching pods per domain (`TopologyValueToPodCounts`).
    topology_value_to_pod_counts: Vec<DomainCounts>,
    /// Per constraint, matching pods per node, where Score or the PreScore count reads them.
    pods_per_node: Vec<Option<PodCounts>>,
    topology_normalizing_weight: Vec<f64>,
}

/// A node's domain under one topology key: from the snapshot's index, or for a node outside
/// the snapshot (its labels are not indexed) the label value itself.
#[derive(Debug, Clone, Copy)]
enum NodeDomainRef<'n> {
    Indexed(NodeDomain),
    Outside(Option<&'n str>),
}

impl<'n> NodeDomainRef<'n> {
    /// The domain of `node`, whose snapshot slot (if it is a snapshot node) is `slot`.
    fn of(domains: &TopologyDomains, slot: Option<usize>, node: &'n NodeInfo) -> Self {
        match slot.and_then(|s| domains.at(s)) {
            Some(d) => Self::Indexed(d),
            None => Self::Outside(node.node.labels.get(domains.key()).map(String::as_str)),
        }
    }

    fn has_label(&self) -> bool {
        match self {
            Self::Indexed(d) => d.has_label,
            Self::Outside(v) => v.is_some(),
        }
    }
}

/// Counts per topology value of one constraint (`TopologyValueToPodCounts[i]`), by domain id;
/// `None` marks values no filtered node has (upstream: absent from the map).
#[derive(Debug, Clone)]
struct DomainCounts {
    domains: Arc<TopologyDomains>,
    by_id: Vec<Option<i64>>,
    /// Values of filtered nodes outside the snapshot that no snapshot node has (no pod of the
    /// snapshot counts for them: they stay 0).
    outside: BTreeMap<String, i64>,
}

impl DomainCounts {
    fn new(domains: Arc<TopologyDomains>) -> Self {
        Self {
            by_id: vec![None; domains.num_ids()],
            domains,
            outside: BTreeMap::new(),
        }
    }

    fn id_of(&self, domain: &NodeDomainRef<'_>) -> Option<DomainId> {
        match domain {
            NodeDomainRef::Indexed(d) => Some(d.id),
            NodeDomainRef::Outside(v) => self.domains.id_of(v.unwrap_or("")),
        }
    }

    /// Adds the domain with count 0 unless present; whether it was new.
    fn insert_zero(&mut self, domain: &NodeDomainRef<'_>) -> bool {
        match self.id_of(domain) {
            Some(id) => match self.by_id.get_mut(domain_index(id)) {
                Some(slot @ None) => {
                    *slot = Some(0);
                    true
                }
                _ => false,
            },
            None => {
                let value = match domain {
                    NodeDomainRef::Outside(v) => v.unwrap_or(""),
                    NodeDomainRef::Indexed(_) => "",
                };
                if self.outside.contains_key(value) {
                    false
                } else {
                    self.outside.insert(value.to_owned(), 0);
                    true
                }
            }
        }
    }

    /// Adds `n` to domain `id` when present.
    fn add(&mut self, id: DomainId, n: u32) {
        if let Some(Some(c)) = self.by_id.get_mut(domain_index(id)) {
            *c += i64::from(n);
        }
    }

    /// The count of the node's domain, if present.
    fn get(&self, domain: &NodeDomainRef<'_>) -> Option<i64> {
        match self.id_of(domain) {
            Some(id) => self.by_id.get(domain_index(id)).copied().flatten(),
            None => match domain {
                NodeDomainRef::Outside(v) => self.outside.get(v.unwrap_or("")).copied(),
                NodeDomainRef::Indexed(_) => None,
            },
        }
    }

    /// The map form (value → count).
    fn to_map(&self) -> BTreeMap<String, i64> {
        let mut out = self.outside.clone();
        for (id, c) in self.by_id.iter().enumerate() {
            if let (Some(c), Ok(id)) = (c, DomainId::try_from(id)) {
                out.insert(self.domains.value(id).to_owned(), *c);
            }
        }
        out
    }
}

/// Each snapshot node's number of pods matching constraint `c` for `pod`
/// (`countPodsMatchSelector`), kept incrementally by the snapshot.
fn pods_matching_per_node(h: &Handle<'_>, c: &Constraint, pod: &PodInfo) -> PodCounts {
    let key = format!("{}|{:?}", pod.namespace, c.selector);
    h.snapshot.pods_matching_per_node(&key, &|node| {
        u32::try_from(count_pods_match_selector(node, &c.selector, &pod.namespace))
            .unwrap_or(u32::MAX)
    })
}

/// A readable view of the PreScore state, for conformance tests that check it as upstream's
/// `TestPreScoreStateEmptyNodes` does.
#[derive(Debug, Clone, PartialEq)]
pub struct PreScoreSummary {
    /// Per constraint: topology key, maxSkew and the selector's string form.
    pub constraints: Vec<(String, i32, String)>,
    /// Nodes that miss a topology key.
    pub ignored_nodes: Vec<String>,
    /// Per constraint, matching pods per topology value.
    pub counts: Vec<BTreeMap<String, i64>>,
    /// Per constraint, the normalizing weight.
    pub weights: Vec<f64>,
}

/// The PreScore state written into `state`, if any.
pub fn pre_score_summary(state: &CycleState) -> Option<PreScoreSummary> {
    let s = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY)?;
    Some(PreScoreSummary {
        constraints: s
            .constraints
            .iter()
            .map(|c| (c.topology_key.clone(), c.max_skew, c.selector.to_string()))
            .collect(),
        ignored_nodes: s.ignored_nodes.iter().cloned().collect(),
        counts: s
            .topology_value_to_pod_counts
            .iter()
            .map(DomainCounts::to_map)
            .collect(),
        weights: s.topology_normalizing_weight.clone(),
    })
}

/// The natural log of `size + 2`, the weight of a constraint with `size` domains.
pub fn normalizing_weight(size: usize) -> f64 {
    topology_normalizing_weight(size)
}

/// The built-in default constraints (`systemDefaultConstraints`).
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint {
            topology_key: HOSTNAME.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            max_skew: 3,
            ..Default::default()
        },
        TopologySpreadConstraint {
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            max_skew: 5,
            ..Default::default()
        },
    ]
}

/// The selector of the Services, ReplicationController, ReplicaSet or StatefulSet that select or
/// own the pod (`helper.DefaultSelector`). Services are merged in name order (upstream: lister
/// order).
pub fn default_selector(objects: &ClusterObjects, pod: &PodInfo) -> Selector {
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    let prefix = format!("{}/", pod.namespace);
    for (_, svc) in objects
        .services
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
    {
        let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
            continue;
        };
        if sel.iter().all(|(k, v)| pod.labels.get(k) == Some(v)) {
            set.extend(sel.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    let mut selector = Selector::from_set(&set);
    let owner = pod
        .pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true));
    let Some(owner) = owner else {
        return selector;
    };
    let key = format!("{}/{}", pod.namespace, owner.name);
    match (owner.api_version.as_str(), owner.kind.as_str()) {
        ("v1", "ReplicationController") => {
            if let Some(sel) = objects
                .replication_controllers
                .get(&key)
                .and_then(|rc| rc.spec.as_ref())
                .and_then(|s| s.selector.as_ref())
            {
                set.extend(sel.iter().map(|(k, v)| (k.clone(), v.clone())));
                selector = Selector::from_set(&set);
            }
        }
        ("apps/v1", "ReplicaSet") => {
            if let Some(rs) = objects.replica_sets.get(&key)
                && let Some(spec) = rs.spec.as_ref()
                && let Ok(other) = Selector::from_label_selector(Some(&spec.selector))
                && !other.is_nothing()
            {
                selector = selector.add(other.requirements().iter().cloned());
            }
        }
        ("apps/v1", "StatefulSet") => {
            if let Some(ss) = objects.stateful_sets.get(&key)
                && let Some(spec) = ss.spec.as_ref()
                && let Ok(other) = Selector::from_label_selector(Some(&spec.selector))
                && !other.is_nothing()
            {
                selector = selector.add(other.requirements().iter().cloned());
            }
        }
        _ => {}
    }
    selector
}

/// The PodTopologySpread plugin with its args (`PodTopologySpreadArgs`).
#[derive(Debug, Clone)]
pub struct PodTopologySpread {
    default_constraints: Vec<TopologySpreadConstraint>,
    system_defaulted: bool,
}

impl Default for PodTopologySpread {
    /// `defaultingType: System`.
    fn default() -> Self {
        Self {
            default_constraints: system_default_constraints(),
            system_defaulted: true,
        }
    }
}

impl PodTopologySpread {
    /// `defaultingType: List` with the given default constraints.
    pub fn with_default_constraints(default_constraints: Vec<TopologySpreadConstraint>) -> Self {
        Self {
            default_constraints,
            system_defaulted: false,
        }
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        names::POD_TOPOLOGY_SPREAD
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PodTopologySpread {
    /// The pod's own constraints for `when`, or the default constraints with the selector of
    /// the pod's Services and controller when the pod has none (`getConstraints`,
    /// `initPreScoreState`, `buildDefaultConstraints`).
    fn constraints(
        &self,
        h: &Handle<'_>,
        pod: &PodInfo,
        when: &str,
    ) -> Result<Vec<Constraint>, String> {
        let own: &[TopologySpreadConstraint] = pod
            .spec()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or_default();
        if !own.is_empty() {
            return filter_constraints(own, pod, when);
        }
        let mut constraints = filter_constraints(&self.default_constraints, pod, when)?;
        if constraints.is_empty() {
            return Ok(constraints);
        }
        let selector = default_selector(h.objects, pod);
        if selector.is_empty() {
            return Ok(Vec::new());
        }
        for c in &mut constraints {
            c.selector = selector.clone();
        }
        Ok(constraints)
    }

    /// Whether the pod uses its own constraints (then nodes must have every topology key).
    fn has_own_constraints(pod: &PodInfo) -> bool {
        pod.spec()
            .and_then(|s| s.topology_spread_constraints.as_ref())
            .is_some_and(|c| !c.is_empty())
    }
}

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let constraints = match self.constraints(h, pod, "DoNotSchedule") {
            Ok(c) => c,
            Err(e) => {
                return (
                    None,
                    Status::error(format!("get constraints from pod: {e}")),
                );
            }
        };
        if constraints.is_empty() {
            return (None, Status::skip());
        }
        let all_keys: Vec<&str> = constraints
            .iter()
            .map(|c| c.topology_key.as_str())
            .collect();
        let mut tp: Vec<Arc<BTreeMap<String, i64>>> = Vec::with_capacity(constraints.len());
        for c in &constraints {
            // Nodes count for a constraint independently of the incoming pod unless taints are
            // honored or the pod's own node affinity is: then the sum is kept incrementally in
            // the snapshot; otherwise every node is scanned, as upstream.
            let pod_independent = !c.node_taints_honor
                && (!c.node_affinity_honor || pod.required_node_affinity.is_empty());
            let contribute = |node: &NodeInfo, out: &mut Contribution| {
                let Some(value) = node.node.labels.get(&c.topology_key) else {
                    return;
                };
                if !all_keys.iter().all(|k| node.node.labels.contains_key(*k)) {
                    return;
                }
                if !pod_independent && !c.includes_node(pod, node, &pod.required_node_affinity) {
                    return;
                }
                let count = count_pods_match_selector(node, &c.selector, &pod.namespace);
                out.push((String::new(), value.clone(), count));
            };
            let counts = if pod_independent {
                let key = format!(
                    "PodTopologySpread|{}|{:?}|{}|{:?}",
                    pod.namespace, c.selector, c.topology_key, all_keys
                );
                h.snapshot.aggregate(&key, true, &contribute)
            } else {
                uncached_counts(h, &contribute)
            };
            tp.push(counts.get("").cloned().unwrap_or_default());
        }
        let mut max_counts = Vec::with_capacity(tp.len());
        let critical_paths = tp
            .iter()
            .map(|m| {
                let mut cp = CriticalPaths::new();
                let mut max = 0;
                for (v, n) in m.iter() {
                    cp.update(v, *n);
                    max = max.max(*n);
                }
                max_counts.push(max);
                cp
            })
            .collect();
        let domains: Vec<Arc<TopologyDomains>> = constraints
            .iter()
            .map(|c| h.snapshot.topology_domains(&c.topology_key))
            .collect();
        let mut s = PreFilterState {
            self_match: constraints
                .iter()
                .map(|c| i64::from(c.selector.matches(&pod.labels)))
                .collect(),
            constraints: Arc::new(constraints),
            critical_paths,
            match_num_by_id: domains
                .iter()
                .zip(&tp)
                .map(|(d, counts)| match_num_by_id(d, counts))
                .collect(),
            tp_value_to_match_num: tp,
            every_domain_fits: Vec::new(),
            domains,
        };
        s.every_domain_fits = max_counts
            .iter()
            .enumerate()
            .map(|(i, m)| s.domains_fit(i, *m))
            .collect();
        state.write(PRE_FILTER_STATE_KEY, s);
        (None, Status::success())
    }

    fn has_extensions(&self) -> bool {
        true
    }

    fn add_pod(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        to_add: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Some(s) => {
                s.update_with_pod(to_add, pod, node, 1);
                Status::success()
            }
            None => Status::error(format!(
                "reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            )),
        }
    }

    fn remove_pod(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        to_remove: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Some(s) => {
                s.update_with_pod(to_remove, pod, node, -1);
                Status::success()
            }
            None => Status::error(format!(
                "reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            )),
        }
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        _pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        // Upstream: filtering.go Filter. The node's topology values come from the snapshot's
        // domain index (by id), not from its labels.
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(format!(
                "reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        let slot = h.snapshot.slot_of(node);
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(domains) = s.domains.get(i) else {
                continue;
            };
            let domain = NodeDomainRef::of(domains, slot, node);
            if !domain.has_label() {
                return Status::with_static_reason(
                    Code::UnschedulableAndUnresolvable,
                    ERR_REASON_NODE_LABEL_NOT_MATCH,
                );
            }
            if s.every_domain_fits[i] {
                continue;
            }
            let min_match = s.min_match_num(i, c.min_domains);
            let self_match = s.self_match[i];
            let match_num = match (&s.match_num_by_id[i], domain) {
                (Some(by_id), NodeDomainRef::Indexed(d)) => {
                    by_id.get(domain_index(d.id)).copied().flatten()
                }
                (None, NodeDomainRef::Indexed(d)) => {
                    s.tp_value_to_match_num[i].get(domains.value(d.id)).copied()
                }
                (_, NodeDomainRef::Outside(value)) => {
                    s.tp_value_to_match_num[i].get(value.unwrap_or("")).copied()
                }
            }
            .unwrap_or(0);
            let skew = match_num + self_match - min_match;
            if skew > i64::from(c.max_skew) {
                return Status::with_static_reason(
                    Code::Unschedulable,
                    ERR_REASON_CONSTRAINTS_NOT_MATCH,
                );
            }
        }
        Status::success()
    }
}

/// `topologyNormalizingWeight`: ln(size + 2).
fn topology_normalizing_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        filtered: &[&NodeInfo],
    ) -> Status {
        // Upstream: scoring.go PreScore and initPreScoreState. Topology values are domain ids of
        // the snapshot's index and per-node counts come from its incremental pod counts; the
        // resulting counts are upstream's (see `pre_score_summary`).
        let snapshot = h.snapshot;
        if snapshot.num_nodes() == 0 {
            return Status::skip();
        }
        let constraints = match self.constraints(h, pod, "ScheduleAnyway") {
            Ok(c) => c,
            Err(e) => {
                return Status::error(format!(
                    "calculating preScoreState: obtaining pod's soft topology spread constraints: {e}"
                ));
            }
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        // Nodes must have every topology key unless the constraints are the system defaults.
        let require_all = Self::has_own_constraints(pod) || !self.system_defaulted;
        let mut ignored = BTreeSet::new();
        let mut counts: Vec<DomainCounts> = constraints
            .iter()
            .map(|c| DomainCounts::new(snapshot.topology_domains(&c.topology_key)))
            .collect();
        let mut topo_size = vec![0usize; constraints.len()];
        let mut node_domains: Vec<NodeDomainRef<'_>> = Vec::with_capacity(constraints.len());
        for node in filtered {
            let slot = snapshot.slot_of(node);
            node_domains.clear();
            node_domains.extend(
                counts
                    .iter()
                    .map(|dc| NodeDomainRef::of(&dc.domains, slot, node)),
            );
            if require_all && !node_domains.iter().all(NodeDomainRef::has_label) {
                ignored.insert(node.name().to_owned());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == HOSTNAME {
                    continue;
                }
                if counts[i].insert_zero(&node_domains[i]) {
                    topo_size[i] += 1;
                }
            }
        }
        let weights = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == HOSTNAME {
                    filtered.len() - ignored.len()
                } else {
                    topo_size[i]
                };
                topology_normalizing_weight(size)
            })
            .collect();
        let mut pods_per_node: Vec<Option<PodCounts>> = vec![None; constraints.len()];
        let mut scan: Vec<usize> = Vec::new();
        let mut independent: Vec<usize> = Vec::new();
        for (i, c) in constraints.iter().enumerate() {
            if c.topology_key == HOSTNAME {
                // Score counts the node's own pods.
                pods_per_node[i] = Some(pods_matching_per_node(h, c, pod));
                continue;
            }
            // Upstream's loop finds no domain for values no filtered node has
            // (`TopologyValueToPodCounts[i][value] == nil`): nothing to count then.
            if topo_size[i] == 0 {
                continue;
            }
            pods_per_node[i] = Some(pods_matching_per_node(h, c, pod));
            // Nodes count for a constraint independently of the incoming pod unless taints
            // are honored or the pod's own node affinity is.
            let pod_independent = !c.node_taints_honor
                && (!c.node_affinity_honor || pod.required_node_affinity.is_empty());
            if pod_independent {
                independent.push(i);
            } else {
                scan.push(i);
            }
        }
        // Upstream counts every node of the cluster (`processAllNode`). Without
        // requireAllTopologies a node missing the key counts under the empty value, as
        // upstream's map lookup does (`NodeDomain::id` is the empty value's id then).
        let tables: Vec<Arc<TopologyDomains>> =
            counts.iter().map(|dc| dc.domains.clone()).collect();
        let has_all_keys = |slot: usize| {
            !require_all
                || tables
                    .iter()
                    .all(|t| t.at(slot).is_some_and(|d| d.has_label))
        };
        for &i in &independent {
            let Some(per_node) = pods_per_node[i].as_ref() else {
                continue;
            };
            // Most nodes have no matching pod: test the count first.
            for (slot, &n) in per_node.iter().enumerate() {
                if n == 0 || !has_all_keys(slot) {
                    continue;
                }
                if let Some(domain) = tables[i].at(slot) {
                    counts[i].add(domain.id, n);
                }
            }
        }
        if !scan.is_empty() {
            for (node, &slot) in snapshot.list().zip(snapshot.slots_in_list_order()) {
                if !has_all_keys(slot) {
                    continue;
                }
                for &i in &scan {
                    let c = &constraints[i];
                    if !c.includes_node(pod, node, &pod.required_node_affinity) {
                        continue;
                    }
                    let (Some(per_node), Some(domain)) =
                        (pods_per_node[i].as_ref(), tables[i].at(slot))
                    else {
                        continue;
                    };
                    counts[i].add(domain.id, per_node.get(slot).copied().unwrap_or(0));
                }
            }
        }
        state.write(
            PRE_SCORE_STATE_KEY,
            PreScoreState {
                constraints: Arc::new(constraints),
                ignored_nodes: ignored,
                topology_value_to_pod_counts: counts,
                pods_per_node,
                topology_normalizing_weight: weights,
            },
        );
        Status::success()
    }
}

impl ScorePlugin for PodTopologySpread {
    fn score(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        // Upstream: scoring.go Score.
        let s = state
            .read::<PreScoreState>(PRE_SCORE_STATE_KEY)
            .ok_or_else(|| {
                Status::error(format!(
                    "error reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
                ))
            })?;
        if !s.ignored_nodes.is_empty() && s.ignored_nodes.contains(node.name()) {
            return Ok(0);
        }
        let slot = h.snapshot.slot_of(node);
        let mut score = 0.0_f64;
        for (i, c) in s.constraints.iter().enumerate() {
            let counts = &s.topology_value_to_pod_counts[i];
            let domain = NodeDomainRef::of(&counts.domains, slot, node);
            if !domain.has_label() {
                continue;
            }
            let cnt = if c.topology_key == HOSTNAME {
                match (h.snapshot.owned_slot(node), s.pods_per_node[i].as_ref()) {
                    (Some(own), Some(per_node)) if own < per_node.len() => i64::from(per_node[own]),
                    _ => count_pods_match_selector(node, &c.selector, &pod.namespace),
                }
            } else {
                counts.get(&domain).unwrap_or(0)
            };
            // Upstream: scoreForCount.
            score += cnt as f64 * s.topology_normalizing_weight[i] + f64::from(c.max_skew - 1);
        }
        Ok(score.round() as i64)
    }

    fn has_normalize(&self) -> bool {
        true
    }

    fn normalize(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        _pod: &PodInfo,
        scores: &mut [NodeScore<'_>],
    ) -> Status {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return Status::error(format!(
                "error reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
            ));
        };
        let mut min_score = i64::MAX;
        let mut max_score = 0;
        let ignored: Vec<bool> = scores
            .iter()
            .map(|sc| s.ignored_nodes.contains(sc.name))
            .collect();
        for (sc, ign) in scores.iter().zip(&ignored) {
            if *ign {
                continue;
            }
            min_score = min_score.min(sc.score);
            max_score = max_score.max(sc.score);
        }
        for (sc, ign) in scores.iter_mut().zip(&ignored) {
            if *ign {
                sc.score = 0;
                continue;
            }
            if max_score == 0 {
                sc.score = MAX_NODE_SCORE;
                continue;
            }
            sc.score = MAX_NODE_SCORE * (max_score + min_score - sc.score) / max_score;
        }
        Status::success()
    }
}
