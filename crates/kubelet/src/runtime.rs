//! What the simulated container runtime keeps per node: the images present and being pulled
//! (with the kubelet's serialized image pulls), and the pod IP allocator.
//!
//! Upstream: `pkg/kubelet/images/puller.go` (`serialImagePuller`: one pull at a time when
//! `serializeImagePulls` is true), `pkg/kubelet/images/image_manager.go` (`EnsureImageExists`:
//! pull policy, "already present" event), `pkg/kubelet/container/helpers.go`
//! (`ShouldPullImage`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::ipam::PodIpAllocator;

/// The result of asking for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageOutcome {
    /// On the node; no pull needed.
    Present,
    /// A pull is needed and ends at this time.
    PullUntil(Timestamp),
    /// Not present and the pull policy is `Never`.
    NeverPull,
}

/// The per-node runtime state.
#[derive(Debug, Clone)]
pub struct NodeRuntime {
    /// Normalized images present on the node.
    pub images: BTreeSet<String>,
    /// Pulls under way: image → completion time.
    pub pulling: BTreeMap<String, Timestamp>,
    /// When the serialized puller is free again.
    pub puller_free_at: Option<Timestamp>,
    /// `serializeImagePulls`.
    pub serialize_pulls: bool,
    /// Pod IPs (None: the node has no pod CIDR yet).
    pub ipam: Option<PodIpAllocator>,
    /// The node's host IPs (one per family).
    pub host_ips: Vec<String>,
    /// The kubelet's seed.
    pub seed: u64,
    /// Whether the image list changed since the node status last looked.
    pub images_changed: bool,
}

impl NodeRuntime {
    /// A runtime with the given preloaded (normalized) images.
    pub fn new(images: BTreeSet<String>, serialize_pulls: bool, seed: u64) -> Self {
        Self {
            images,
            pulling: BTreeMap::new(),
            puller_free_at: None,
            serialize_pulls,
            ipam: None,
            host_ips: Vec::new(),
            seed,
            images_changed: false,
        }
    }

    /// Whether a pull is needed (`ShouldPullImage`): Never never pulls, IfNotPresent pulls
    /// absent images, Always always pulls.
    pub fn ensure_image(
        &mut self,
        image: &str,
        pull_policy: &str,
        now: Timestamp,
        pull_delay: Duration,
    ) -> ImageOutcome {
        self.finish_pulls(now);
        let present = self.images.contains(image);
        match pull_policy {
            "Never" if present => return ImageOutcome::Present,
            "Never" => return ImageOutcome::NeverPull,
            "Always" => {}
            _ if present => return ImageOutcome::Present,
            _ => {}
        }
        if let Some(done) = self.pulling.get(image) {
            return ImageOutcome::PullUntil(*done);
        }
        // An Always pull of a present image only checks the manifest: no layer download.
        let delay = if present { Duration::ZERO } else { pull_delay };
        let start = match self.puller_free_at {
            Some(free) if self.serialize_pulls && free > now => free,
            _ => now,
        };
        let done = start + SignedDuration::try_from(delay).unwrap_or(SignedDuration::ZERO);
        if self.serialize_pulls {
            self.puller_free_at = Some(done);
        }
        self.pulling.insert(image.to_string(), done);
        ImageOutcome::PullUntil(done)
    }

    /// Moves finished pulls into the image list.
    pub fn finish_pulls(&mut self, now: Timestamp) {
        let done: Vec<String> = self
            .pulling
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(i, _)| i.clone())
            .collect();
        for image in done {
            self.pulling.remove(&image);
            if self.images.insert(image) {
                self.images_changed = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_735_689_600 + s).expect("ts")
    }

    #[test]
    fn pulls_are_serialized_and_shared() {
        let mut rt = NodeRuntime::new(BTreeSet::new(), true, 0);
        let d = Duration::from_secs(2);
        assert_eq!(
            rt.ensure_image("a", "IfNotPresent", at(0), d),
            ImageOutcome::PullUntil(at(2))
        );
        // A second image waits for the first pull.
        assert_eq!(
            rt.ensure_image("b", "IfNotPresent", at(0), d),
            ImageOutcome::PullUntil(at(4))
        );
        // The same image joins the pull under way.
        assert_eq!(
            rt.ensure_image("a", "IfNotPresent", at(1), d),
            ImageOutcome::PullUntil(at(2))
        );
        assert_eq!(
            rt.ensure_image("a", "IfNotPresent", at(3), d),
            ImageOutcome::Present
        );
        assert!(rt.images_changed);
        assert_eq!(
            rt.ensure_image("c", "Never", at(3), d),
            ImageOutcome::NeverPull
        );
        assert_eq!(
            rt.ensure_image("a", "Always", at(5), d),
            ImageOutcome::PullUntil(at(5))
        );
        let mut parallel = NodeRuntime::new(BTreeSet::new(), false, 0);
        parallel.ensure_image("a", "IfNotPresent", at(0), d);
        assert_eq!(
            parallel.ensure_image("b", "IfNotPresent", at(0), d),
            ImageOutcome::PullUntil(at(2))
        );
    }
}
