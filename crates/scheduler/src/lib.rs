//! kube-scheduler's decisions as a pure library: queue, framework, default plugins, preemption,
//! explanations. Follows Kubernetes 1.34 (`pkg/scheduler`); see docs/SCHEDULER.md.
//!
//! The library never reads the wall clock or OS randomness: times come from the caller and
//! tie-breaks from a seeded [`kubetwin_core::rng::DetRng`].

pub mod config;
pub mod cycle_state;
pub mod error;
pub mod filter_cache;
pub mod framework;
pub mod helpers;
pub mod objects;
pub mod offline;
pub mod plugins;
pub mod queue;
pub mod resource;
pub mod schedule;
pub mod snapshot;
pub mod status;
pub mod testing;
pub mod topology;
pub mod types;

pub use error::{InputError, SchedulerError};
pub use framework::{FitError, Framework};
pub use schedule::{CycleOutcome, Scheduler};
pub use status::{Code, Status};
