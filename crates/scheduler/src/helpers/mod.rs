//! Shared helpers of the plugins: node affinity, taints and tolerations, score normalization.

pub mod nodeaffinity;
pub mod normalize;
pub mod storage;
pub mod taints;
