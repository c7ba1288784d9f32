//! TaintToleration: filters out nodes with an untolerated NoSchedule/NoExecute taint, and prefers
//! nodes with fewer untolerated PreferNoSchedule taints.
//!
//! Upstream: pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go.

use k8s_openapi::api::core::v1::Toleration;

use crate::cycle_state::CycleState;
use crate::framework::{
    FilterPlugin, Handle, MAX_NODE_SCORE, NodeScore, Plugin, PreScorePlugin, ScorePlugin,
};
use crate::helpers::normalize::default_normalize_score;
use crate::helpers::taints::{
    PREFER_NO_SCHEDULE, do_not_schedule_taints_filter, find_matching_untolerated_taint,
    tolerations_tolerate_taint,
};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

const PRE_SCORE_STATE_KEY: &str = "PreScoreTaintToleration";

#[derive(Clone)]
struct PreScoreState {
    tolerations_prefer_no_schedule: Vec<Toleration>,
}

/// The TaintToleration plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        names::TAINT_TOLERATION
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

impl FilterPlugin for TaintToleration {
    fn node_local(&self) -> bool {
        true
    }

    fn filter(
        &self,
        _h: &Handle<'_>,
        _state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        if !node.has_taints() {
            return Status::success();
        }
        match find_matching_untolerated_taint(
            &node.node.taints,
            &pod.tolerations,
            do_not_schedule_taints_filter,
        ) {
            None => Status::success(),
            Some(t) => Status::with_reason(
                Code::UnschedulableAndUnresolvable,
                format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    t.key,
                    t.value.as_deref().unwrap_or("")
                ),
            ),
        }
    }
}

/// Tolerations whose effect is empty or PreferNoSchedule (`getAllTolerationPreferNoSchedule`).
fn tolerations_prefer_no_schedule(tolerations: &[Toleration]) -> Vec<Toleration> {
    tolerations
        .iter()
        .filter(|t| {
            let e = t.effect.as_deref().unwrap_or("");
            e.is_empty() || e == PREFER_NO_SCHEDULE
        })
        .cloned()
        .collect()
}

impl PreScorePlugin for TaintToleration {
    fn pre_score(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
    ) -> Status {
        state.write(
            PRE_SCORE_STATE_KEY,
            PreScoreState {
                tolerations_prefer_no_schedule: tolerations_prefer_no_schedule(&pod.tolerations),
            },
        );
        Status::success()
    }
}

impl ScorePlugin for TaintToleration {
    fn score(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        // Without taints the count is 0; the flag sits beside the node's sums, so most nodes
        // are scored without reading the node object.
        if !node.has_taints() {
            return Ok(0);
        }
        let computed;
        let tolerations = match state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) {
            Some(s) => &s.tolerations_prefer_no_schedule,
            None => {
                computed = tolerations_prefer_no_schedule(&pod.tolerations);
                &computed
            }
        };
        // Upstream: countIntolerableTaintsPreferNoSchedule.
        let count = node
            .node
            .taints
            .iter()
            .filter(|t| {
                t.effect == PREFER_NO_SCHEDULE && !tolerations_tolerate_taint(tolerations, t)
            })
            .count();
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
    fn has_normalize(&self) -> bool {
        true
    }
    fn normalize(
        &self,
        _h: &Handle<'_>,
        _state: &CycleState,
        _pod: &PodInfo,
        scores: &mut [NodeScore<'_>],
    ) -> Status {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}
