//! The `kubetwin` command line: a thin layer of wiring over the library crates.
//!
//! This is the one crate allowed to read the wall clock and the OS's entropy: it builds the
//! injected [`Clock`](kubetwin_core::clock::Clock) for `serve`.

mod serve;

use clap::{Parser, Subcommand};

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
    }
}
