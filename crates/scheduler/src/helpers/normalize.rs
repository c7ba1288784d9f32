//! Score normalization shared by several plugins.
//!
//! Upstream: pkg/scheduler/framework/plugins/helper/normalize_score.go (`DefaultNormalizeScore`),
//! pkg/scheduler/framework/plugins/helper/shape_score.go (`BuildBrokenLinearFunction`).

use crate::framework::NodeScore;

/// Scales scores to `0..=max_priority` by the largest score; `reverse` flips them. All zero scores
/// stay zero, or become `max_priority` when reversed (`DefaultNormalizeScore`).
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [NodeScore]) {
    let max_count = scores.iter().map(|s| s.score).fold(0, i64::max);
    if max_count == 0 {
        if reverse {
            for s in scores.iter_mut() {
                s.score = max_priority;
            }
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut score = max_priority * s.score / max_count;
        if reverse {
            score = max_priority - score;
        }
        s.score = score;
    }
}

/// A point of a piecewise-linear function (`FunctionShapePoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapePoint {
    /// Utilization (x), 0..=100.
    pub utilization: i64,
    /// Score (y).
    pub score: i64,
}

/// Evaluates the broken linear function through `shape` at `p` (`BuildBrokenLinearFunction`).
pub fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    for i in 0..shape.len() {
        if p <= shape[i].utilization {
            if i == 0 {
                return shape[0].score;
            }
            return shape[i - 1].score
                + (shape[i].score - shape[i - 1].score) * (p - shape[i - 1].utilization)
                    / (shape[i].utilization - shape[i - 1].utilization);
        }
    }
    shape.last().map_or(0, |s| s.score)
}
