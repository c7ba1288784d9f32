//! Injected time with sleeping. Components never read the wall clock or call
//! `tokio::time::sleep` directly; they ask a [`SimTime`], so one code path serves real time,
//! accelerated time and virtual time.
//!
//! `now = epoch + speed × (tokio instant − origin)` and `sleep(d)` waits `d / speed` of tokio
//! time. Under a paused tokio runtime (`start_paused`), tokio time jumps forward whenever every
//! task is idle: that is virtual time, deterministic and faster than real time.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kubetwin_core::clock::Clock;

/// Time as the components see it.
#[derive(Debug, Clone)]
pub struct SimTime {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    epoch: Timestamp,
    origin: tokio::time::Instant,
    speed: f64,
}

impl SimTime {
    /// Time that starts at `epoch` now and runs `speed` times faster than tokio time (1.0 for
    /// real or virtual time). Must be called inside a tokio runtime.
    pub fn new(epoch: Timestamp, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        // Tokio's clock, not the wall clock: under a paused runtime it is virtual.
        #[allow(clippy::disallowed_methods)]
        let origin = tokio::time::Instant::now();
        Self {
            inner: Arc::new(Inner {
                epoch,
                origin,
                speed,
            }),
        }
    }

    /// How much faster than tokio time this runs.
    pub fn speed(&self) -> f64 {
        self.inner.speed
    }

    /// Time elapsed since the start, in component time.
    pub fn elapsed(&self) -> Duration {
        #[allow(clippy::disallowed_methods)]
        let real = tokio::time::Instant::now().saturating_duration_since(self.inner.origin);
        real.mul_f64(self.inner.speed)
    }

    /// Waits `duration` of component time.
    pub async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration.div_f64(self.inner.speed)).await;
    }

    /// Waits until component time reaches `at` (at once if it has passed).
    pub async fn sleep_until(&self, at: Timestamp) {
        let now = self.now();
        if at > now {
            let wait = at.duration_since(now).unsigned_abs();
            self.sleep(wait).await;
        }
    }
}

impl Clock for SimTime {
    fn now(&self) -> Timestamp {
        let elapsed =
            jiff::SignedDuration::try_from(self.elapsed()).unwrap_or(jiff::SignedDuration::MAX);
        self.inner
            .epoch
            .checked_add(elapsed)
            .unwrap_or(self.inner.epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn virtual_time_jumps_and_speed_scales() {
        let epoch = Timestamp::from_second(1_735_689_600).expect("epoch");
        let time = SimTime::new(epoch, 1.0);
        time.sleep(Duration::from_secs(3600)).await;
        assert_eq!(time.now(), epoch + jiff::SignedDuration::from_secs(3600));

        let fast = SimTime::new(epoch, 60.0);
        fast.sleep(Duration::from_secs(600)).await;
        assert_eq!(fast.now(), epoch + jiff::SignedDuration::from_secs(600));
        assert_eq!(fast.speed(), 60.0);
    }
}
