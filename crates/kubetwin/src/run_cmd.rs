//! `kubetwin run SCENARIO`: runs a what-if scenario under virtual time and writes its report.
//! Being built (issue #5).

use std::path::PathBuf;

use clap::Args;

/// Arguments of `kubetwin run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub scenario: PathBuf,
}

/// Runs the scenario; the exit status is non-zero when an expectation fails.
pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    anyhow::bail!("{}: scenarios are not built yet", args.scenario.display())
}
