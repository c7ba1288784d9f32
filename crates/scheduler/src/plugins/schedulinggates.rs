//! SchedulingGates: a pod with `spec.schedulingGates` stays out of the active queue.
//!
//! Upstream: pkg/scheduler/framework/plugins/schedulinggates/scheduling_gates.go.

use crate::framework::{Plugin, PreEnqueuePlugin};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::PodInfo;

/// The SchedulingGates plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        names::SCHEDULING_GATES
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        Some(self)
    }
}

impl PreEnqueuePlugin for SchedulingGates {
    fn pre_enqueue(&self, pod: &PodInfo) -> Status {
        let gates: Vec<&str> = pod
            .spec()
            .and_then(|s| s.scheduling_gates.as_ref())
            .into_iter()
            .flatten()
            .map(|g| g.name.as_str())
            .collect();
        if gates.is_empty() {
            return Status::success();
        }
        // Go prints a []string as `[a b]`.
        Status::with_reason(
            Code::UnschedulableAndUnresolvable,
            format!("waiting for scheduling gates: [{}]", gates.join(" ")),
        )
    }
}
