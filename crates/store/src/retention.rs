//! Time-based retention helper: which revision to compact at so that the last `window` of
//! (injected) time stays readable and watchable.
//!
//! Upstream analogue: etcd's periodic auto-compaction
//! (`server/etcdserver/api/v3compactor/periodic.go`), which samples the current revision at
//! intervals and compacts at the revision sampled one retention window ago. Time comes from the
//! caller (a `kubetwin_core::clock::Clock`), never from a clock inside the store.

use std::collections::VecDeque;
use std::time::Duration;

use jiff::Timestamp;

/// Samples of `(time, revision)`; answers "which revision was current `window` ago".
#[derive(Clone, Debug)]
pub struct TimeRetention {
    window_nanos: i128,
    samples: VecDeque<(i128, i64)>,
}

impl TimeRetention {
    /// Keeps (at least) the history of the last `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window_nanos: i128::try_from(window.as_nanos()).unwrap_or(i128::MAX),
            samples: VecDeque::new(),
        }
    }

    /// Records that the store was at `revision` at time `now`. Call it periodically (etcd
    /// samples every tenth of the window); samples going back in time are ignored.
    pub fn observe(&mut self, now: Timestamp, revision: i64) {
        let now = now.as_nanosecond();
        if self.samples.back().is_some_and(|&(at, _)| at > now) {
            return;
        }
        self.samples.push_back((now, revision));
    }

    /// The revision to compact at now: the newest sampled revision that is at least `window`
    /// old, or `None` if no sample is that old yet. Forgets the samples it passed over.
    pub fn compaction_target(&mut self, now: Timestamp) -> Option<i64> {
        let cutoff = now.as_nanosecond().saturating_sub(self.window_nanos);
        let mut target = None;
        while let Some(&(at, revision)) = self.samples.front() {
            if at > cutoff {
                break;
            }
            target = Some(revision);
            self.samples.pop_front();
        }
        // Keep the chosen sample's revision as the oldest reference for the next call.
        if let Some(revision) = target {
            self.samples.push_front((cutoff, revision));
        }
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_the_revision_sampled_one_window_ago() {
        let t = |s: i64| Timestamp::from_second(1_735_689_600 + s).unwrap();
        let mut retention = TimeRetention::new(Duration::from_secs(60));
        retention.observe(t(0), 10);
        retention.observe(t(30), 20);
        retention.observe(t(60), 30);
        assert_eq!(retention.compaction_target(t(59)), None);
        assert_eq!(retention.compaction_target(t(60)), Some(10));
        assert_eq!(retention.compaction_target(t(95)), Some(20));
        assert_eq!(retention.compaction_target(t(100)), Some(20));
        assert_eq!(retention.compaction_target(t(120)), Some(30));
    }
}
