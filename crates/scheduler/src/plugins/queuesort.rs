//! PrioritySort: higher priority first, then earlier queue timestamp.
//!
//! Upstream: pkg/scheduler/framework/plugins/queuesort/priority_sort.go.

use crate::framework::{Plugin, QueueSortPlugin, QueuedPodInfo};
use crate::plugins::names;

/// The PrioritySort plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        names::PRIORITY_SORT
    }
    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        Some(self)
    }
}

impl QueueSortPlugin for PrioritySort {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        let (p1, p2) = (a.pod.priority, b.pod.priority);
        p1 > p2 || (p1 == p2 && a.timestamp < b.timestamp)
    }
}
