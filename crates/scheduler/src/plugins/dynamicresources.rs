//! DynamicResources, reduced to what it does for pods without resource claims (the default profile
//! of 1.34 includes it): PreFilter skips, and PostFilter answers "no new claims to deallocate",
//! which upstream's FitError messages carry before the preemption message. Pods with resource
//! claims are rejected: kubetwin does not model DRA allocation (see docs/SCHEDULER.md).
//!
//! Upstream: pkg/scheduler/framework/plugins/dynamicresources/dynamicresources.go
//! (`PreEnqueue`, `PreFilter`, `PostFilter`).

use crate::cycle_state::CycleState;
use crate::framework::{
    Framework, Handle, NodeToStatus, Plugin, PostFilterPlugin, PostFilterResult, PreEnqueuePlugin,
    PreFilterPlugin, PreFilterResult,
};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::PodInfo;

const STATE_KEY: &str = "DynamicResources";

#[derive(Clone)]
struct StateData {
    has_claims: bool,
}

/// The DynamicResources plugin (claim-less behaviour only).
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamicResources;

impl Plugin for DynamicResources {
    fn name(&self) -> &'static str {
        names::DYNAMIC_RESOURCES
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueuePlugin> {
        Some(self)
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilterPlugin> {
        Some(self)
    }
}

fn has_claims(pod: &PodInfo) -> bool {
    pod.spec()
        .and_then(|s| s.resource_claims.as_ref())
        .is_some_and(|c| !c.is_empty())
}

impl PreEnqueuePlugin for DynamicResources {
    fn pre_enqueue(&self, _pod: &PodInfo) -> Status {
        Status::success()
    }
}

impl PreFilterPlugin for DynamicResources {
    fn pre_filter(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let claims = has_claims(pod);
        state.write(STATE_KEY, StateData { has_claims: claims });
        if !claims {
            return (None, Status::skip());
        }
        (
            None,
            Status::with_reason(
                Code::UnschedulableAndUnresolvable,
                "kubetwin does not simulate dynamic resource allocation",
            ),
        )
    }
}

impl PostFilterPlugin for DynamicResources {
    fn post_filter(
        &self,
        _h: &Handle<'_>,
        _fw: &Framework,
        state: &CycleState,
        _pod: &PodInfo,
        _statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        // Upstream reads its PreFilter state; when an earlier PreFilter rejected the pod the
        // state is missing and the read fails with "not found".
        match state.read::<StateData>(STATE_KEY) {
            None => (None, Status::error("not found")),
            Some(s) if !s.has_claims => (
                None,
                Status::with_reason(Code::Unschedulable, "no new claims to deallocate"),
            ),
            Some(_) => (
                None,
                Status::with_reason(Code::Unschedulable, "no new claims to deallocate"),
            ),
        }
    }
}
