//! DefaultPreemption: when no node fits, find nodes where evicting lower-priority pods would make
//! room (dry runs on copies of the nodes and the cycle state), respecting PodDisruptionBudgets,
//! pick the node by upstream's criteria and nominate it; the victims are returned for eviction.
//!
//! Upstream: pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go
//! (`PostFilter`, `SelectVictimsOnNode`, `PodEligibleToPreemptOthers`, `calculateNumCandidates`),
//! pkg/scheduler/framework/preemption/preemption.go (`Preempt`, `findCandidates`,
//! `DryRunPreemption`, `SelectCandidate`, `pickOneNodeForPreemption`, `filterPodsWithPDBViolation`),
//! pkg/scheduler/util/utils.go (`MoreImportantPod`, `GetEarliestPodStartTime`).
//!
//! Differences, all in places where upstream is random or timing-dependent: the dry-run offset is
//! drawn from the injected RNG, candidates are examined sequentially, sorts are stable, the final
//! tie among candidates goes to the first in examination order (upstream: Go map order), and a pod
//! without `status.startTime` counts as started "now", i.e. after every pod that has one.

use std::cmp::Ordering;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kubetwin_core::labels::Selector;

use crate::cycle_state::CycleState;
use crate::framework::{
    Diagnosis, FitError, Framework, Handle, NodeToStatus, NominatingMode, Plugin, PostFilterPlugin,
    PostFilterResult,
};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// No lower-priority pod on the node (`SelectVictimsOnNode`).
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// Absent nodes of the preemption diagnosis.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// The DefaultPreemption plugin with its args.
#[derive(Debug, Clone, Copy)]
pub struct DefaultPreemption {
    min_candidate_nodes_percentage: i64,
    min_candidate_nodes_absolute: i64,
}

impl Default for DefaultPreemption {
    fn default() -> Self {
        Self {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

impl DefaultPreemption {
    /// Builds the plugin from `DefaultPreemptionArgs`.
    pub fn new(min_candidate_nodes_percentage: i64, min_candidate_nodes_absolute: i64) -> Self {
        Self {
            min_candidate_nodes_percentage,
            min_candidate_nodes_absolute,
        }
    }

    /// How many candidates to look for among `num_nodes` potential nodes (`calculateNumCandidates`).
    pub fn calculate_num_candidates(&self, num_nodes: i64) -> i64 {
        let mut n = num_nodes * self.min_candidate_nodes_percentage / 100;
        if n < self.min_candidate_nodes_absolute {
            n = self.min_candidate_nodes_absolute;
        }
        n.min(num_nodes)
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        names::DEFAULT_PREEMPTION
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        Some(self)
    }
}

/// A start time for ordering: pods without one started "now", after all others.
fn start_key(p: &PodInfo) -> (bool, Option<Timestamp>) {
    (p.start_time.is_none(), p.start_time)
}

/// Higher priority first, then earlier start (`MoreImportantPod`).
fn more_important(a: &PodInfo, b: &PodInfo) -> Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| start_key(a).cmp(&start_key(b)))
}

/// One node where preemption would help.
#[derive(Debug, Clone)]
struct Candidate {
    node: String,
    victims: Vec<Arc<PodInfo>>,
    num_pdb_violations: i64,
}

/// The best score `pickOneNodeForPreemption` can give any candidate in the current snapshot:
/// no PDB violation, a single victim of the lowest priority present, started last. A candidate
/// that reaches it is chosen whatever the later dry runs find (they can at best tie, and ties go
/// to the first candidate), so the search may stop there with an identical result.
#[derive(Debug, Clone, Copy)]
struct BestPossibleCandidate {
    lowest_priority: Option<i32>,
    latest_start: Option<(bool, Option<Timestamp>)>,
}

impl BestPossibleCandidate {
    fn of(h: &Handle<'_>) -> Self {
        Self {
            lowest_priority: h.snapshot.lowest_pod_priority(),
            latest_start: h.snapshot.latest_pod_start_time().map(|t| (t.is_none(), t)),
        }
    }

    fn is_reached_by(&self, c: &Candidate) -> bool {
        match c.victims.as_slice() {
            [only] => {
                c.num_pdb_violations == 0
                    && Some(only.priority) == self.lowest_priority
                    && Some(start_key(only)) == self.latest_start
            }
            _ => false,
        }
    }
}

/// Splits victims by whether evicting them would violate a PDB (`filterPodsWithPDBViolation`).
fn filter_pods_with_pdb_violation(
    pods: &[Arc<PodInfo>],
    pdbs: &[&PodDisruptionBudget],
) -> (Vec<Arc<PodInfo>>, Vec<Arc<PodInfo>>) {
    let mut allowed: Vec<i64> = pdbs
        .iter()
        .map(|p| {
            p.status
                .as_ref()
                .map_or(0, |s| i64::from(s.disruptions_allowed))
        })
        .collect();
    let mut violating = Vec::new();
    let mut non_violating = Vec::new();
    for p in pods {
        let mut violated = false;
        if !p.labels.is_empty() {
            for (i, pdb) in pdbs.iter().enumerate() {
                if pdb.metadata.namespace.as_deref().unwrap_or("default") != p.namespace {
                    continue;
                }
                let Ok(sel) = Selector::from_label_selector(
                    pdb.spec.as_ref().and_then(|s| s.selector.as_ref()),
                ) else {
                    continue;
                };
                if sel.is_empty() || !sel.matches(&p.labels) {
                    continue;
                }
                let disrupted = pdb
                    .status
                    .as_ref()
                    .and_then(|s| s.disrupted_pods.as_ref())
                    .is_some_and(|d| d.contains_key(&p.name));
                if disrupted {
                    continue;
                }
                allowed[i] -= 1;
                if allowed[i] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(p.clone());
        } else {
            non_violating.push(p.clone());
        }
    }
    (violating, non_violating)
}

fn pod_terminating_by_preemption(p: &PodInfo) -> bool {
    p.terminating
        && p.pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_ == "DisruptionTarget"
                        && c.status == "True"
                        && c.reason.as_deref() == Some("PreemptionByScheduler")
                })
            })
}

impl DefaultPreemption {
    /// `PodEligibleToPreemptOthers`.
    fn eligible(
        &self,
        h: &Handle<'_>,
        pod: &PodInfo,
        nominated_status: &Status,
    ) -> Result<(), &'static str> {
        if pod.preemption_policy_never() {
            return Err("not eligible due to preemptionPolicy=Never.");
        }
        if !pod.nominated_node_name.is_empty() {
            if nominated_status.code() == Code::UnschedulableAndUnresolvable {
                return Ok(());
            }
            if let Some(node) = h.snapshot.get(&pod.nominated_node_name)
                && node
                    .pods
                    .iter()
                    .any(|p| p.priority < pod.priority && pod_terminating_by_preemption(p))
            {
                return Err("not eligible due to a terminating pod on the nominated node.");
            }
        }
        Ok(())
    }

    /// `SelectVictimsOnNode` on a copy of the node and the state.
    fn select_victims_on_node(
        &self,
        h: &Handle<'_>,
        fw: &Framework,
        state: &mut CycleState,
        pod: &PodInfo,
        node: &mut NodeInfo,
        pdbs: &[&PodDisruptionBudget],
    ) -> Result<(Vec<Arc<PodInfo>>, i64), Status> {
        let mut potential: Vec<Arc<PodInfo>> = Vec::new();
        let lower: Vec<Arc<PodInfo>> = node
            .pods
            .iter()
            .filter(|p| p.priority < pod.priority)
            .cloned()
            .collect();
        for p in lower {
            node.remove_pod_info(&p);
            let s = fw.run_pre_filter_extension_remove_pod(h, state, pod, &p, node);
            if !s.is_success() {
                return Err(s);
            }
            potential.push(p);
        }
        if potential.is_empty() {
            return Err(Status::with_static_reason(
                Code::UnschedulableAndUnresolvable,
                NO_VICTIMS,
            ));
        }
        let s = fw.run_filter_plugins_with_nominated_pods(h, state, pod, node);
        if !s.is_success() {
            return Err(s);
        }
        potential.sort_by(|a, b| more_important(a, b));
        let (violating, non_violating) = filter_pods_with_pdb_violation(&potential, pdbs);
        let mut victims: Vec<Arc<PodInfo>> = Vec::new();
        let mut num_violating = 0;
        let mut reprieve = |p: &Arc<PodInfo>,
                            node: &mut NodeInfo,
                            state: &mut CycleState|
         -> Result<bool, Status> {
            node.add_pod(p.clone());
            let s = fw.run_pre_filter_extension_add_pod(h, state, pod, p, node);
            if !s.is_success() {
                return Err(s);
            }
            let fits = fw
                .run_filter_plugins_with_nominated_pods(h, state, pod, node)
                .is_success();
            if !fits {
                node.remove_pod_info(p);
                let s = fw.run_pre_filter_extension_remove_pod(h, state, pod, p, node);
                if !s.is_success() {
                    return Err(s);
                }
                victims.push(p.clone());
            }
            Ok(fits)
        };
        for p in &violating {
            if !reprieve(p, node, state)? {
                num_violating += 1;
            }
        }
        for p in &non_violating {
            reprieve(p, node, state)?;
        }
        if !violating.is_empty() && !non_violating.is_empty() {
            victims.sort_by(|a, b| more_important(a, b));
        }
        Ok((victims, num_violating))
    }

    /// `pickOneNodeForPreemption`: fewest PDB violations, lowest highest victim priority, lowest
    /// priority sum, fewest victims, latest earliest start; then the first.
    fn pick_one(candidates: &[Candidate]) -> usize {
        let mut all: Vec<usize> = (0..candidates.len()).collect();
        let earliest = |c: &Candidate| -> (bool, Option<Timestamp>) {
            // Upstream: GetEarliestPodStartTime over the highest-priority victims.
            let mut max_prio = c.victims[0].priority;
            let mut earliest = start_key(&c.victims[0]);
            for v in &c.victims {
                if v.priority == max_prio {
                    if start_key(v) < earliest {
                        earliest = start_key(v);
                    }
                } else if v.priority > max_prio {
                    max_prio = v.priority;
                    earliest = start_key(v);
                }
            }
            earliest
        };
        let score_fns: [&dyn Fn(&Candidate) -> i128; 4] = [
            &|c| -i128::from(c.num_pdb_violations),
            &|c| -i128::from(c.victims[0].priority),
            &|c| {
                -c.victims
                    .iter()
                    .map(|v| i128::from(v.priority) + i128::from(i32::MAX) + 1)
                    .sum::<i128>()
            },
            &|c| -(c.victims.len() as i128),
        ];
        for f in score_fns {
            let best = all.iter().map(|&i| f(&candidates[i])).max().unwrap_or(0);
            all.retain(|&i| f(&candidates[i]) == best);
            if all.len() == 1 {
                return all[0];
            }
        }
        // Latest earliest start time: "now" (no start time) is the latest.
        let best = all.iter().map(|&i| earliest(&candidates[i])).max();
        all.retain(|&i| Some(earliest(&candidates[i])) == best);
        all[0]
    }
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        h: &Handle<'_>,
        fw: &Framework,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        let (res, s) = self.preempt(h, fw, state, pod, statuses);
        let msg = s.message();
        if msg.is_empty() {
            (res, s)
        } else {
            (
                res,
                Status::with_reason(s.code(), format!("preemption: {msg}")),
            )
        }
    }
}

impl DefaultPreemption {
    /// `Evaluator.Preempt`.
    fn preempt(
        &self,
        h: &Handle<'_>,
        fw: &Framework,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        // Only read for a nominated pod: a name lookup scans the statuses.
        let nominated_status = if pod.nominated_node_name.is_empty() {
            statuses.absent_nodes_status()
        } else {
            match h.snapshot.get(&pod.nominated_node_name) {
                Some(node) => statuses.get_node(node),
                None => statuses.get(&pod.nominated_node_name),
            }
        };
        if let Err(msg) = self.eligible(h, pod, nominated_status) {
            return (None, Status::with_reason(Code::Unschedulable, msg));
        }
        let num_all = h.snapshot.num_nodes();
        // Upstream: findCandidates — only nodes whose status is exactly Unschedulable.
        let potential: Vec<&NodeInfo> =
            statuses.snapshot_nodes_for_status_code(h.snapshot, Code::Unschedulable);
        let mut node_statuses = NodeToStatus::new();
        let mut non_violating: Vec<Candidate> = Vec::new();
        let mut violating: Vec<Candidate> = Vec::new();
        if !potential.is_empty() {
            let pdbs: Vec<&PodDisruptionBudget> =
                h.objects.pod_disruption_budgets.values().collect();
            let n = potential.len();
            let offset = h.rng.with(|r| r.below(n as u64)) as usize;
            let wanted = self.calculate_num_candidates(n as i64);
            let best_possible = BestPossibleCandidate::of(h);
            for i in 0..n {
                let mut node = potential[(offset + i) % n].clone();
                let mut st = state.clone();
                match self.select_victims_on_node(h, fw, &mut st, pod, &mut node, &pdbs) {
                    Ok((victims, violations)) if !victims.is_empty() => {
                        let c = Candidate {
                            node: node.name().to_owned(),
                            victims,
                            num_pdb_violations: violations,
                        };
                        if best_possible.is_reached_by(&c) {
                            // No later candidate can score higher, and ties go to the earlier
                            // one: the remaining dry runs cannot change the choice.
                            non_violating.push(c);
                            break;
                        }
                        if violations == 0 {
                            non_violating.push(c);
                        } else {
                            violating.push(c);
                        }
                        let (nv, v) = (non_violating.len() as i64, violating.len() as i64);
                        if nv > 0 && nv + v >= wanted {
                            break;
                        }
                    }
                    Ok(_) => {
                        let s = Status::error(format!(
                            "expected at least one victim pod on node {:?}",
                            node.name()
                        ));
                        node_statuses.set_node(h.snapshot, &node, s);
                    }
                    Err(s) => node_statuses.set_node(h.snapshot, &node, s),
                }
            }
        }
        let mut candidates = non_violating;
        candidates.extend(violating);
        if candidates.is_empty() {
            let mut d = Diagnosis {
                node_to_status: node_statuses,
                ..Default::default()
            };
            d.node_to_status
                .set_absent_nodes_status(Status::with_static_reason(
                    Code::UnschedulableAndUnresolvable,
                    NOT_HELPFUL,
                ));
            let fit = FitError {
                pod: pod.key.clone(),
                num_all_nodes: num_all,
                diagnosis: d,
            };
            let res = PostFilterResult {
                mode: NominatingMode::Override,
                nominated_node_name: String::new(),
                victims: Vec::new(),
            };
            return (
                Some(res),
                Status::with_reason(Code::Unschedulable, fit.to_string()),
            );
        }
        let best = if candidates.len() == 1 {
            0
        } else {
            Self::pick_one(&candidates)
        };
        let c = &candidates[best];
        let res = PostFilterResult {
            mode: NominatingMode::Override,
            nominated_node_name: c.node.clone(),
            victims: c.victims.iter().map(|v| v.key.clone()).collect(),
        };
        (Some(res), Status::success())
    }
}
