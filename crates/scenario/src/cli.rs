//! What `kubetwin run` does, as a library call so that it is tested here: load the scenario,
//! run it, write `report.json` and `report.md` where asked, and give the exit status (0 when
//! every expectation passed, 1 when one failed; bad input is an error, which the binary turns
//! into 2).

use std::path::{Path, PathBuf};

use crate::engine::{Progress, RunError, RunOptions, run};
use crate::report::Report;
use crate::spec::{Scenario, ScenarioError};

/// Exit status when every expectation passed.
pub const EXIT_PASSED: i32 = 0;
/// Exit status when an expectation failed or an action reported an error.
pub const EXIT_FAILED: i32 = 1;

/// A `kubetwin run` invocation.
#[derive(Default)]
pub struct Invocation<'a> {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Where to write `report.json` and `report.md` (nothing is written without it).
    pub out_dir: Option<PathBuf>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Progress as virtual time advances.
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
}

/// Why an invocation could not produce a report (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    /// The scenario is invalid or unreadable.
    #[error("{path}: {error}")]
    Scenario {
        /// The scenario file.
        path: String,
        /// What is wrong.
        error: ScenarioError,
    },
    /// The run could not start.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A report file could not be written.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// What an invocation produced.
#[derive(Debug)]
pub struct Outcome {
    /// The report.
    pub report: Report,
    /// The files written (`report.json`, `report.md`).
    pub written: Vec<PathBuf>,
    /// The exit status.
    pub exit_code: i32,
}

/// The exit status of a report.
pub fn exit_code(report: &Report) -> i32 {
    if report.passed {
        EXIT_PASSED
    } else {
        EXIT_FAILED
    }
}

/// Writes `report.json` and `report.md` into `dir` (created if missing).
pub fn write_reports(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, InvocationError> {
    let failed = |path: &Path, e: std::io::Error| InvocationError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let json = dir.join("report.json");
    std::fs::write(&json, report.to_json()).map_err(|e| failed(&json, e))?;
    let md = dir.join("report.md");
    std::fs::write(&md, report.to_markdown()).map_err(|e| failed(&md, e))?;
    Ok(vec![json, md])
}

/// Loads, runs and reports.
pub fn invoke(invocation: Invocation<'_>) -> Result<Outcome, InvocationError> {
    let scenario =
        Scenario::load(&invocation.scenario).map_err(|error| InvocationError::Scenario {
            path: invocation.scenario.display().to_string(),
            error,
        })?;
    let report = run(
        &scenario,
        RunOptions {
            seed: invocation.seed,
            progress: invocation.progress,
        },
    )?;
    let written = match &invocation.out_dir {
        Some(dir) => write_reports(&report, dir)?,
        None => Vec::new(),
    };
    Ok(Outcome {
        exit_code: exit_code(&report),
        report,
        written,
    })
}
