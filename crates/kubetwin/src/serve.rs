//! `kubetwin serve`: the API server on a loopback port, its store, and the kubeconfig.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_core::clock::Clock;
use kubetwin_store::{RedbOptions, Store};

/// Which store backend to use.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StoreKind {
    /// Everything in memory; gone at exit.
    Memory,
    /// A durable redb file in the data directory (the default).
    Redb,
}

/// Options of `kubetwin serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Directory for the store and the generated kubeconfig.
    #[arg(long, default_value = ".kubetwin")]
    pub data_dir: PathBuf,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 6443)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Store backend.
    #[arg(long, value_enum, default_value_t = StoreKind::Redb)]
    pub store: StoreKind,
    /// The Kubernetes minor version to report on /version (the kubectl dispatcher picks its
    /// kubectl by it).
    #[arg(long, default_value_t = 32)]
    pub kube_minor: u32,
    /// Seed for UIDs and generated names (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The cluster spec to simulate (controllers, scheduler, and a simulated kubelet per node);
    /// default: the built-in hybrid demo cluster (examples/clusters/hybrid-small.yaml). `none`
    /// serves the API only, with nothing else writing to it.
    #[arg(long)]
    pub cluster: Option<PathBuf>,
    /// Run the simulated cluster N times faster than the wall clock.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// How long Events are kept after their last write (kube-apiserver's `--event-ttl`; Go
    /// duration syntax; `0s` keeps them for ever).
    #[arg(long, default_value = "1h", value_parser = parse_event_ttl)]
    pub event_ttl: std::time::Duration,
}

/// A non-negative Go duration, as kube-apiserver's `--event-ttl`.
fn parse_event_ttl(text: &str) -> Result<std::time::Duration, String> {
    let nanos = kubetwin_cluster::parse_go_duration(text).map_err(|e| e.to_string())?;
    u64::try_from(nanos)
        .map(std::time::Duration::from_nanos)
        .map_err(|_| format!("must not be negative: {text}"))
}

/// The wall clock: only the binary may read it.
#[derive(Debug)]
struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubetwin\n  cluster:\n    server: {server}\ncontexts:\n- name: kubetwin\n  context:\n    cluster: kubetwin\n    user: kubetwin\n    namespace: default\ncurrent-context: kubetwin\nusers:\n- name: kubetwin\n  user: {{}}\n"
    )
}

/// Runs the server until interrupted.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

/// The cluster to simulate, if any.
fn load_cluster(path: Option<&PathBuf>) -> anyhow::Result<Option<kubetwin_cluster::Cluster>> {
    match path {
        None => Ok(Some(kubetwin_cluster::default_cluster())),
        Some(p) if p.as_os_str() == "none" => Ok(None),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let cluster = kubetwin_cluster::Cluster::from_yaml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            Ok(Some(cluster))
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let cluster = load_cluster(args.cluster.as_ref())?;
    let store = match args.store {
        StoreKind::Memory => Store::memory(),
        StoreKind::Redb => {
            let path = args.data_dir.join("store.redb");
            Store::open_redb(&path, RedbOptions::default())
                .with_context(|| format!("opening {}", path.display()))?
        }
    };
    let listener = tokio::net::TcpListener::bind((args.address.as_str(), args.port))
        .await
        .with_context(|| format!("listening on {}:{}", args.address, args.port))?;
    let local = listener.local_addr()?;
    let wall = SystemClock;
    let seed = args
        .seed
        .unwrap_or_else(|| wall.now().as_nanosecond() as u64);
    // Components and the API server share one time: the wall clock at `--speed` times.
    let time = kubetwin_runtime::SimTime::new(wall.now(), args.speed);
    let clock = Arc::new(time.clone());
    let config = ApiServerConfig {
        minor: args.kube_minor,
        server_address: local.to_string(),
        event_ttl: args.event_ttl,
        ..Default::default()
    };
    let server = ApiServer::new(Storage::new(store), clock, seed, config);
    server
        .bootstrap()
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;

    let url = format!("http://{local}");
    let kubeconfig_path = args.data_dir.join("kubeconfig");
    std::fs::write(&kubeconfig_path, kubeconfig(&url))
        .with_context(|| format!("writing {}", kubeconfig_path.display()))?;
    let kubeconfig_path = std::fs::canonicalize(&kubeconfig_path).unwrap_or(kubeconfig_path);
    println!("kubetwin is serving the Kubernetes API at {url}");
    println!("  export KUBECONFIG={}", kubeconfig_path.display());
    println!("  kubectl get namespaces");

    // Compaction always; with a cluster, the controllers, the scheduler and a kubelet per node.
    let twin = kubetwin_sim::start(&server, &time, cluster.as_ref(), seed)?;
    if let Some(cluster) = &cluster {
        println!(
            "  simulating cluster {:?}: {} nodes",
            cluster.name(),
            cluster.nodes().len()
        );
    }

    let admin = crate::admin::AdminState {
        explanations: twin.explanations,
        kubelets: Arc::new(twin.kubelets.into_iter().collect()),
    };
    let app = crate::admin::router(admin).merge(kubetwin_apiserver::router(server));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
