//! `kubetwin schedule`: offline placement of the unbound pods in the files onto the nodes in the
//! files, with kube-scheduler's decisions and messages (the library is `kubetwin-scheduler`).

use std::path::PathBuf;

use anyhow::Context as _;
use kubetwin_scheduler::config::SchedulerConfiguration;
use kubetwin_scheduler::offline::{self, OfflineInput, OfflineOptions};

/// Output formats of `kubetwin schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// `{"results":[…]}` on one line.
    Json,
    /// A readable table.
    Table,
}

/// Arguments of `kubetwin schedule`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// YAML or JSON files of Nodes, Pods, PVs, PVCs, StorageClasses, CSINodes, PDBs,
    /// PriorityClasses, Namespaces, and the Services, ReplicationControllers, ReplicaSets and
    /// StatefulSets that default topology spreading uses (multi-document or `v1 List`).
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seed of the tie-breaking random source.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Add per-node filter verdicts and per-plugin scores.
    #[arg(long)]
    pub explain: bool,
}

/// Runs the command; returns the exit code (0 when the input was valid, whether or not every
/// pod fit).
pub fn run(args: &ScheduleArgs) -> anyhow::Result<i32> {
    let mut input = OfflineInput::default();
    for path in &args.files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let docs = offline::parse_documents(&path.display().to_string(), &text)?;
        input.add_documents(&docs)?;
    }
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(
                SchedulerConfiguration::from_yaml(&text)
                    .with_context(|| format!("{}", path.display()))?,
            )
        }
        None => None,
    };
    let opts = OfflineOptions {
        seed: args.seed,
        explain: args.explain,
        config,
    };
    let results = offline::run(&input, &opts)?;
    match args.output {
        OutputFormat::Json => println!("{}", offline::to_json(&results, args.explain)),
        OutputFormat::Table => print!("{}", offline::to_table(&results, args.explain)),
    }
    Ok(0)
}
