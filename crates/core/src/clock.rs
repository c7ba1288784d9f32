//! Injected time. Every component reads "now" through a [`Clock`], so that the same code
//! runs against the wall clock (`serve`) and against virtual time (scenarios).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// A shared, dynamically typed clock.
pub type SharedClock = Arc<dyn Clock>;

/// A clock that only moves when told to: tests and virtual time.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            nanos: AtomicI64::new(start.as_nanosecond() as i64),
        }
    }

    /// A clock stopped at 2025-01-01T00:00:00Z, the fixed epoch of tests and scenarios.
    pub fn at_default_epoch() -> Self {
        Self::new(Timestamp::from_second(1_735_689_600).expect("constant is in range"))
    }

    /// Moves the clock forward (or backward, for a negative duration).
    pub fn advance(&self, by: std::time::Duration) {
        self.nanos.fetch_add(by.as_nanos() as i64, Ordering::SeqCst);
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        self.nanos
            .store(at.as_nanosecond() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanosecond(i128::from(self.nanos.load(Ordering::SeqCst)))
            .expect("nanoseconds stay in range")
    }
}

/// Formats a timestamp the way Kubernetes serializes `metav1.Time`: RFC 3339, seconds precision, UTC.
pub fn format_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Formats a timestamp the way Kubernetes serializes `metav1.MicroTime`.
pub fn format_micro_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances_and_formats() {
        let clock = ManualClock::at_default_epoch();
        assert_eq!(format_time(clock.now()), "2025-01-01T00:00:00Z");
        clock.advance(std::time::Duration::from_millis(1500));
        assert_eq!(format_time(clock.now()), "2025-01-01T00:00:01Z");
        assert_eq!(
            format_micro_time(clock.now()),
            "2025-01-01T00:00:01.500000Z"
        );
    }
}
