//! What-if scenarios under virtual time (issue #5): the scenario file ([`Scenario`]), the
//! engine that drives the whole twin through a timeline of actions ([`run`]), the
//! expectations and the [`Report`].
//!
//! A run builds its own paused tokio runtime, so time is virtual: it jumps forward whenever
//! every component is idle. The components are the ones `kubetwin serve` runs (API server,
//! controllers, scheduler, simulated kubelets, started by `kubetwin_sim::start`); a recorder
//! watches the cluster through the API like any client. The same scenario and seed give a
//! byte-identical `report.json`.
//!
//! The library reads no file unless asked ([`Scenario::load`]) and writes none; the caller
//! writes [`Report::to_json`] and [`Report::to_markdown`]. Format reference:
//! `docs/SCENARIOS.md`.

pub mod cli;
pub mod drain;
pub mod engine;
pub mod expect;
pub mod fields;
pub mod recorder;
pub mod report;
pub mod spec;

pub use engine::{Progress, RunError, RunOptions, run};
pub use report::Report;
pub use spec::{Action, Check, Expectation, NodeTarget, Scenario, ScenarioError, TimedAction};
