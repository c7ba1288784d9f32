//! The `kubetwin` command line: a thin layer of wiring over the library crates.
//!
//! This is the one crate allowed to read the wall clock and the OS's entropy: it builds the
//! injected [`Clock`](kubetwin_core::clock::Clock) for `serve`.

mod admin;
mod allocator;
mod ctl;
mod run_cmd;
mod schedule_cmd;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The API server allocates a little for every JSON node; mimalloc serves that faster than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Kubernetes-compatible digital twin of a hybrid-cloud cluster.
#[derive(Debug, Parser)]
#[command(name = "kubetwin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the twin: an API server that kubectl uses, over a durable store.
    Serve(serve::ServeArgs),
    /// Places the unbound pods in the files onto the nodes in the files, as kube-scheduler would.
    Schedule(schedule_cmd::ScheduleArgs),
    /// Runs a what-if scenario under virtual time and writes its report.
    Run(run_cmd::RunArgs),
    /// Shows the scheduler's last decision about a pod of a running twin, per node and plugin.
    Explain(ctl::ExplainArgs),
    /// Operates the simulated kubelet of a node of a running twin (stop, start, disconnect...).
    Kubelet(ctl::KubeletArgs),
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(args) => serve::run(args).map(|()| 0),
        Command::Schedule(args) => schedule_cmd::run(&args),
        Command::Run(args) => run_cmd::run(&args),
        Command::Explain(args) => ctl::explain(&args),
        Command::Kubelet(args) => ctl::kubelet(&args),
    }
}

fn main() -> ExitCode {
    allocator::tune();
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
