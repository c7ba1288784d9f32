//! NodeName: a pod with `spec.nodeName` only fits that node.
//!
//! Upstream: pkg/scheduler/framework/plugins/nodename/node_name.go.

use crate::cycle_state::CycleState;
use crate::framework::{FilterPlugin, Handle, Plugin};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// The reason for a name mismatch (`ErrReason`).
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// The NodeName plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        names::NODE_NAME
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl FilterPlugin for NodeName {
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
        let wanted = pod
            .spec()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or("");
        if wanted.is_empty() || wanted == node.name() {
            Status::success()
        } else {
            Status::with_static_reason(Code::UnschedulableAndUnresolvable, ERR_REASON)
        }
    }
}
