//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) only takes pods that tolerate the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint.
//!
//! Upstream: pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go.

use k8s_openapi::api::core::v1::Taint;

use crate::cycle_state::CycleState;
use crate::framework::{FilterPlugin, Handle, Plugin};
use crate::helpers::taints::{NO_SCHEDULE, tolerations_tolerate_taint};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// The reason for a cordoned node (`ErrReasonUnschedulable`).
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// The taint key a cordoned node implies (`TaintNodeUnschedulable`).
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// The NodeUnschedulable plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        names::NODE_UNSCHEDULABLE
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeUnschedulable {
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
        if !node.unschedulable() {
            return Status::success();
        }
        let taint = Taint {
            key: TAINT_NODE_UNSCHEDULABLE.to_owned(),
            effect: NO_SCHEDULE.to_owned(),
            ..Default::default()
        };
        if tolerations_tolerate_taint(&pod.tolerations, &taint) {
            return Status::success();
        }
        Status::with_static_reason(Code::UnschedulableAndUnresolvable, ERR_REASON_UNSCHEDULABLE)
    }
}
