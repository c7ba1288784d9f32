//! DefaultBinder: binds the pod to the chosen node. Upstream POSTs a `pods/binding`; here the
//! caller applies the binding to its snapshot, so binding always succeeds.
//!
//! Upstream: pkg/scheduler/framework/plugins/defaultbinder/default_binder.go.

use crate::cycle_state::CycleState;
use crate::framework::{BindPlugin, Handle, Plugin};
use crate::plugins::names;
use crate::status::Status;
use crate::types::PodInfo;

/// The DefaultBinder plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultBinder;

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        names::DEFAULT_BINDER
    }
    fn as_bind(&self) -> Option<&dyn BindPlugin> {
        Some(self)
    }
}

impl BindPlugin for DefaultBinder {
    fn bind(
        &self,
        _h: &Handle<'_>,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _node: &str,
    ) -> Status {
        Status::success()
    }
}
