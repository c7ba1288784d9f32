//! InterPodAffinity: required pod affinity and anti-affinity (the incoming pod's and existing
//! pods') as a filter with per-topology-pair counts, preferred terms (and existing pods' required
//! affinity times `hardPodAffinityWeight`) as a score.
//!
//! Upstream: pkg/scheduler/framework/plugins/interpodaffinity/{filtering.go, scoring.go, plugin.go}.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cycle_state::CycleState;
use crate::framework::{
    FilterPlugin, Handle, MAX_NODE_SCORE, NodeScore, Plugin, PreFilterPlugin, PreFilterResult,
    PreScorePlugin, ScorePlugin,
};
use crate::objects::ClusterObjects;
use crate::plugins::names;
use crate::snapshot::{Contribution, TopologyCounts};
use crate::status::{Code, Status};
use crate::types::{AffinityTerm, NodeInfo, PodInfo, WeightedAffinityTerm};

/// Existing pods' anti-affinity forbids the node (`ErrReasonExistingAntiAffinityRulesNotMatch`).
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
/// The pod's affinity is not satisfied (`ErrReasonAffinityRulesNotMatch`).
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// The pod's anti-affinity is not satisfied (`ErrReasonAntiAffinityRulesNotMatch`).
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";
const PRE_SCORE_STATE_KEY: &str = "PreScoreInterPodAffinity";

/// Counts per topology pair, as topology key → value → count (`topologyToMatchedTermCount`).
type Counts = TopologyCounts;

fn count_of(m: &Counts, key: &str, value: &str) -> i64 {
    m.get(key)
        .and_then(|vs| vs.get(value))
        .copied()
        .unwrap_or(0)
}

fn update(m: &mut Counts, node: &NodeInfo, key: &str, value: i64) {
    if let Some(v) = node.node.labels.get(key) {
        let values = Arc::make_mut(m.entry(key.to_owned()).or_default());
        let entry = values.entry(v.clone()).or_insert(0);
        *entry += value;
        if *entry == 0 {
            values.remove(v);
            if values.is_empty() {
                m.remove(key);
            }
        }
    }
}

/// Adds (term key, node's value, `n`) when the node has the label.
fn push_pair(out: &mut Contribution, node: &NodeInfo, key: &str, n: i64) {
    if let Some(v) = node.node.labels.get(key) {
        out.push((key.to_owned(), v.clone(), n));
    }
}

fn pod_matches_all_terms(terms: &[AffinityTerm], pod: &PodInfo) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod, &BTreeMap::new()))
}

fn update_with_affinity_terms(
    m: &mut Counts,
    terms: &[AffinityTerm],
    pod: &PodInfo,
    node: &NodeInfo,
    value: i64,
) {
    if pod_matches_all_terms(terms, pod) {
        for t in terms {
            update(m, node, &t.topology_key, value);
        }
    }
}

fn update_with_anti_affinity_terms(
    m: &mut Counts,
    terms: &[AffinityTerm],
    pod: &PodInfo,
    ns_labels: &BTreeMap<String, String>,
    node: &NodeInfo,
    value: i64,
) {
    for t in terms {
        if t.matches(pod, ns_labels) {
            update(m, node, &t.topology_key, value);
        }
    }
}

/// Adds the names of the namespaces the term's selector matches (`mergeAffinityTermNamespacesIfNotEmpty`).
/// Upstream sets the selector to Nothing on a copy only, so the selector stays in effect.
fn merge_namespaces(term: &mut AffinityTerm, objects: &ClusterObjects) {
    if term.namespace_selector.is_empty() {
        return;
    }
    for (name, ns) in &objects.namespaces {
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        if term.namespace_selector.matches(&labels) {
            term.namespaces.insert(name.clone());
        }
    }
}

#[derive(Debug, Clone)]
struct PreFilterState {
    existing_anti_affinity_counts: Counts,
    affinity_counts: Counts,
    anti_affinity_counts: Counts,
    required_affinity_terms: Vec<AffinityTerm>,
    required_anti_affinity_terms: Vec<AffinityTerm>,
    namespace_labels: BTreeMap<String, String>,
}

impl PreFilterState {
    fn update_with_pod(
        &mut self,
        p: &PodInfo,
        incoming: &PodInfo,
        node: &NodeInfo,
        multiplier: i64,
    ) {
        let ns_labels = self.namespace_labels.clone();
        update_with_anti_affinity_terms(
            &mut self.existing_anti_affinity_counts,
            &p.required_anti_affinity_terms,
            incoming,
            &ns_labels,
            node,
            multiplier,
        );
        let aff = self.required_affinity_terms.clone();
        update_with_affinity_terms(&mut self.affinity_counts, &aff, p, node, multiplier);
        let anti = self.required_anti_affinity_terms.clone();
        update_with_anti_affinity_terms(
            &mut self.anti_affinity_counts,
            &anti,
            p,
            &BTreeMap::new(),
            node,
            multiplier,
        );
    }
}

/// The InterPodAffinity plugin with its args.
#[derive(Debug, Clone, Copy)]
pub struct InterPodAffinity {
    hard_pod_affinity_weight: i32,
    ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        Self {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

impl InterPodAffinity {
    /// Builds the plugin from `InterPodAffinityArgs`.
    pub fn new(
        hard_pod_affinity_weight: i32,
        ignore_preferred_terms_of_existing_pods: bool,
    ) -> Self {
        Self {
            hard_pod_affinity_weight,
            ignore_preferred_terms_of_existing_pods,
        }
    }
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        names::INTER_POD_AFFINITY
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

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let mut aff = pod.required_affinity_terms.clone();
        let mut anti = pod.required_anti_affinity_terms.clone();
        for t in aff.iter_mut().chain(anti.iter_mut()) {
            merge_namespaces(t, h.objects);
        }
        let namespace_labels = h.objects.namespace_labels(&pod.namespace);
        // The three sums below are kept incrementally in the snapshot (upstream recomputes them
        // over all nodes each cycle); the keys identify everything the sums depend on.
        let existing = if h.snapshot.any_pods_with_required_anti_affinity() {
            let key = format!(
                "InterPodAffinity|existing|{}|{:?}|{:?}",
                pod.namespace, pod.labels, namespace_labels
            );
            h.snapshot.aggregate(&key, false, &|node, out| {
                for p in &node.pods_with_required_anti_affinity {
                    for t in &p.required_anti_affinity_terms {
                        if t.matches(pod, &namespace_labels) {
                            push_pair(out, node, &t.topology_key, 1);
                        }
                    }
                }
            })
        } else {
            Counts::new()
        };
        let empty = BTreeMap::new();
        let affinity_counts = if aff.is_empty() {
            Counts::new()
        } else {
            let key = format!("InterPodAffinity|affinity|{aff:?}");
            h.snapshot.aggregate(&key, false, &|node, out| {
                for p in &node.pods {
                    if pod_matches_all_terms(&aff, p) {
                        for t in &aff {
                            push_pair(out, node, &t.topology_key, 1);
                        }
                    }
                }
            })
        };
        let anti_affinity_counts = if anti.is_empty() {
            Counts::new()
        } else {
            let key = format!("InterPodAffinity|anti-affinity|{anti:?}");
            h.snapshot.aggregate(&key, false, &|node, out| {
                for p in &node.pods {
                    for t in &anti {
                        if t.matches(p, &empty) {
                            push_pair(out, node, &t.topology_key, 1);
                        }
                    }
                }
            })
        };
        if existing.is_empty() && aff.is_empty() && anti.is_empty() {
            return (None, Status::skip());
        }
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState {
                existing_anti_affinity_counts: existing,
                affinity_counts,
                anti_affinity_counts,
                required_affinity_terms: aff,
                required_anti_affinity_terms: anti,
                namespace_labels,
            },
        );
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
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
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
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            )),
        }
    }
}

fn satisfy_existing_pods_anti_affinity(s: &PreFilterState, node: &NodeInfo) -> bool {
    if s.existing_anti_affinity_counts.is_empty() {
        return true;
    }
    !node
        .node
        .labels
        .iter()
        .any(|(k, v)| count_of(&s.existing_anti_affinity_counts, k, v) > 0)
}

fn satisfy_pod_anti_affinity(s: &PreFilterState, node: &NodeInfo) -> bool {
    if s.anti_affinity_counts.is_empty() {
        return true;
    }
    for t in &s.required_anti_affinity_terms {
        if let Some(v) = node.node.labels.get(&t.topology_key)
            && count_of(&s.anti_affinity_counts, &t.topology_key, v) > 0
        {
            return false;
        }
    }
    true
}

fn satisfy_pod_affinity(s: &PreFilterState, pod: &PodInfo, node: &NodeInfo) -> bool {
    let mut pods_exist = true;
    for t in &s.required_affinity_terms {
        match node.node.labels.get(&t.topology_key) {
            Some(v) => {
                if count_of(&s.affinity_counts, &t.topology_key, v) <= 0 {
                    pods_exist = false;
                }
            }
            None => return false,
        }
    }
    if !pods_exist {
        // The first pod of a group may go anywhere when nothing matches yet and it matches itself.
        return s.affinity_counts.is_empty()
            && pod_matches_all_terms(&s.required_affinity_terms, pod);
    }
    true
}

impl FilterPlugin for InterPodAffinity {
    fn filter(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(format!(
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        if !satisfy_pod_affinity(s, pod, node) {
            return Status::with_static_reason(
                Code::UnschedulableAndUnresolvable,
                ERR_REASON_AFFINITY,
            );
        }
        if !satisfy_pod_anti_affinity(s, node) {
            return Status::with_static_reason(Code::Unschedulable, ERR_REASON_ANTI_AFFINITY);
        }
        if !satisfy_existing_pods_anti_affinity(s, node) {
            return Status::with_static_reason(
                Code::Unschedulable,
                ERR_REASON_EXISTING_ANTI_AFFINITY,
            );
        }
        Status::success()
    }
}

fn process_term(
    out: &mut Contribution,
    term: &AffinityTerm,
    weight: i32,
    pod: &PodInfo,
    ns_labels: &BTreeMap<String, String>,
    node: &NodeInfo,
    multiplier: i32,
) {
    if term.matches(pod, ns_labels) {
        push_pair(
            out,
            node,
            &term.topology_key,
            i64::from(weight * multiplier),
        );
    }
}

fn process_terms(
    out: &mut Contribution,
    terms: &[WeightedAffinityTerm],
    pod: &PodInfo,
    ns_labels: &BTreeMap<String, String>,
    node: &NodeInfo,
    multiplier: i32,
) {
    for t in terms {
        process_term(out, &t.term, t.weight, pod, ns_labels, node, multiplier);
    }
}

#[derive(Debug, Clone)]
struct PreScoreState {
    topology_score: TopologyCounts,
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
    ) -> Status {
        let has_constraints = !pod.preferred_affinity_terms.is_empty()
            || !pod.preferred_anti_affinity_terms.is_empty();
        if self.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }
        if !has_constraints && !h.snapshot.any_pods_with_affinity() {
            return Status::skip();
        }
        let mut pref_aff = pod.preferred_affinity_terms.clone();
        let mut pref_anti = pod.preferred_anti_affinity_terms.clone();
        for t in pref_aff.iter_mut().chain(pref_anti.iter_mut()) {
            merge_namespaces(&mut t.term, h.objects);
        }
        let ns_labels = h.objects.namespace_labels(&pod.namespace);
        let empty = BTreeMap::new();
        // Per node, upstream's processExistingPod over the node's pods (all of them when the
        // incoming pod has preferred terms, else those with affinity), summed incrementally in
        // the snapshot. Pairs stay while some node contributes, even at 0, as upstream's map.
        let contribute = |node: &NodeInfo, out: &mut Contribution| {
            if node.node.labels.is_empty() {
                return;
            }
            let pods = if has_constraints {
                &node.pods
            } else {
                &node.pods_with_affinity
            };
            for existing in pods {
                process_terms(out, &pref_aff, existing, &empty, node, 1);
                process_terms(out, &pref_anti, existing, &empty, node, -1);
                if self.hard_pod_affinity_weight > 0 {
                    for t in &existing.required_affinity_terms {
                        process_term(
                            out,
                            t,
                            self.hard_pod_affinity_weight,
                            pod,
                            &ns_labels,
                            node,
                            1,
                        );
                    }
                }
                process_terms(
                    out,
                    &existing.preferred_affinity_terms,
                    pod,
                    &ns_labels,
                    node,
                    1,
                );
                process_terms(
                    out,
                    &existing.preferred_anti_affinity_terms,
                    pod,
                    &ns_labels,
                    node,
                    -1,
                );
            }
        };
        let key = format!(
            "InterPodAffinity|score|{}|{has_constraints}|{}|{:?}|{:?}|{pref_aff:?}|{pref_anti:?}",
            self.hard_pod_affinity_weight, pod.namespace, pod.labels, ns_labels
        );
        let topology_score = h.snapshot.aggregate(&key, true, &contribute);
        if topology_score.is_empty() {
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE_KEY, PreScoreState { topology_score });
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        _pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        let s = state
            .read::<PreScoreState>(PRE_SCORE_STATE_KEY)
            .ok_or_else(|| {
                Status::error(format!(
                    "failed to read {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
                ))
            })?;
        let mut score = 0;
        for (key, values) in &s.topology_score {
            if let Some(v) = node.node.labels.get(key) {
                score += values.get(v).copied().unwrap_or(0);
            }
        }
        Ok(score)
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
                "failed to read {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
            ));
        };
        if s.topology_score.is_empty() {
            return Status::success();
        }
        let min = scores.iter().map(|x| x.score).min().unwrap_or(0);
        let max = scores.iter().map(|x| x.score).max().unwrap_or(0);
        let diff = max - min;
        for x in scores.iter_mut() {
            let f = if diff > 0 {
                MAX_NODE_SCORE as f64 * ((x.score - min) as f64 / diff as f64)
            } else {
                0.0
            };
            x.score = f as i64;
        }
        Status::success()
    }
}
