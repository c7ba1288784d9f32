//! `kubetwin run SCENARIO`: runs a what-if scenario under virtual time, writes `report.json`
//! and `report.md` with `--out`, and exits 0 when every expectation passed, 1 when one
//! failed (2 for bad input, via `main`). The work is `kubetwin_scenario::cli::invoke`; this
//! file only parses flags and draws the progress bar (on stderr, with the wall time).

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kubetwin_scenario::cli::{Invocation, invoke};

/// Arguments of `kubetwin run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (docs/SCENARIOS.md).
    pub scenario: PathBuf,
    /// Directory to write report.json and report.md into.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed override (default: the scenario's `seed`).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// No progress bar and no summary; only the exit status tells.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the scenario; the exit status is non-zero when an expectation fails.
pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} virtual {msg} [{bar:40}] {percent:>3}% (wall {elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    };
    let mut on_progress = |p: kubetwin_scenario::Progress| {
        bar.set_length(p.total.as_secs().max(1));
        bar.set_position(p.elapsed.as_secs());
        bar.set_message(format!("{}s/{}s", p.elapsed.as_secs(), p.total.as_secs()));
    };
    let outcome = invoke(Invocation {
        scenario: args.scenario.clone(),
        out_dir: args.out.clone(),
        seed: args.seed,
        progress: Some(&mut on_progress),
    });
    bar.finish_and_clear();
    let outcome = outcome?;
    if !args.quiet {
        let report = &outcome.report;
        let virtual_seconds = report.scenario.duration_seconds;
        let wall = bar.elapsed().as_secs_f64().max(1e-3);
        eprintln!(
            "{}: {} of {} expectations passed; {:.0} s of virtual time in {:.2} s wall ({:.0}x real time)",
            report.scenario.name,
            report.summary.expectations_passed,
            report.expectations.len(),
            virtual_seconds,
            wall,
            virtual_seconds / wall
        );
        for e in &report.expectations {
            println!(
                "{} {} — {}",
                if e.passed { "PASS" } else { "FAIL" },
                e.name,
                e.detail
            );
        }
        for a in &report.actions {
            for error in &a.errors {
                println!("ERROR {}: {error}", a.name);
            }
        }
        for path in &outcome.written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(outcome.exit_code)
}
