//! ImageLocality: prefers nodes that already have the pod's images, weighted by how widely the
//! image is spread across nodes.
//!
//! Upstream: pkg/scheduler/framework/plugins/imagelocality/image_locality.go.

use crate::cycle_state::CycleState;
use crate::framework::{Handle, MAX_NODE_SCORE, Plugin, ScorePlugin};
use crate::plugins::names;
use crate::status::Status;
use crate::types::{NodeInfo, PodInfo};

const MB: i64 = 1024 * 1024;
/// Below this sum the score is 0 (`minThreshold`).
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container, above this the score is capped (`maxContainerThreshold`).
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The ImageLocality plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageLocality;

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        names::IMAGE_LOCALITY
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

/// Maps the summed image score to 0..=100 (`calculatePriority`).
pub fn calculate_priority(sum_scores: i64, num_containers: usize) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD
        * i64::try_from(num_containers).unwrap_or(i64::MAX / MAX_CONTAINER_THRESHOLD);
    let clamped = if sum_scores < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum_scores > max_threshold {
        max_threshold
    } else {
        sum_scores
    };
    if max_threshold == MIN_THRESHOLD {
        return 0;
    }
    MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

/// The image size scaled by the fraction of nodes that have it (`scaledImageScore`).
pub fn scaled_image_score(size: i64, num_nodes: usize, total_num_nodes: usize) -> i64 {
    let spread = num_nodes as f64 / total_num_nodes as f64;
    (size as f64 * spread) as i64
}

impl ScorePlugin for ImageLocality {
    fn score(
        &self,
        h: &Handle<'_>,
        _state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        let total = h.snapshot.num_nodes();
        let mut sum = 0;
        // A node without images adds nothing; the flag spares reading the node object.
        if !node.has_images() {
            return Ok(calculate_priority(sum, pod.num_containers));
        }
        for image in &pod.images {
            if node.node.images.iter().any(|(n, _)| n == image)
                && let Some((size, num_nodes)) = h.snapshot.image_state(image)
            {
                sum += scaled_image_score(size, num_nodes, total);
            }
        }
        Ok(calculate_priority(sum, pod.num_containers))
    }
}
