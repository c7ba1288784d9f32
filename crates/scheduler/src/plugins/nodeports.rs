//! NodePorts: a pod's host ports must be free on the node (0.0.0.0 conflicts with every IP).
//!
//! Upstream: pkg/scheduler/framework/plugins/nodeports/node_ports.go.

use crate::cycle_state::CycleState;
use crate::framework::{FilterPlugin, Handle, Plugin, PreFilterPlugin, PreFilterResult};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{HostPort, NodeInfo, PodInfo};

/// The reason for a port conflict (`ErrReason`).
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";
const PRE_FILTER_STATE_KEY: &str = "PreFilterNodePorts";

#[derive(Clone)]
struct PreFilterState(Vec<HostPort>);

/// The NodePorts plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        names::NODE_PORTS
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for NodePorts {
    fn pre_filter(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        if pod.host_ports.is_empty() {
            return (None, Status::skip());
        }
        state.write(PRE_FILTER_STATE_KEY, PreFilterState(pod.host_ports.clone()));
        (None, Status::success())
    }
}

/// Whether all wanted ports are free on the node (`fitsPorts`).
pub fn fits_ports(wanted: &[HostPort], node: &NodeInfo) -> bool {
    !wanted.iter().any(|p| node.used_ports.check_conflict(p))
}

impl FilterPlugin for NodePorts {
    fn node_local(&self) -> bool {
        true
    }

    fn filter(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        _pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let Some(wanted) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(format!(
                "reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        if fits_ports(&wanted.0, node) {
            Status::success()
        } else {
            Status::with_static_reason(Code::Unschedulable, ERR_REASON)
        }
    }
}
