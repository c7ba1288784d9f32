//! Client commands that talk to a running `kubetwin serve` through its admin endpoints
//! (`admin.rs`): `kubetwin explain pod NAME` and `kubetwin kubelet ACTION NODE`. They find the
//! server the way kubectl does: `--kubeconfig`, else `$KUBECONFIG`, else the kubeconfig that
//! `serve` wrote in `.kubetwin/`, else `~/.kube/config`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

/// Where to find the server.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The kubeconfig of the twin (default: $KUBECONFIG, then .kubetwin/kubeconfig, then
    /// ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
}

/// `kubetwin explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(subcommand)]
    what: ExplainWhat,
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Debug, Subcommand)]
enum ExplainWhat {
    /// The scheduler's last decision about a pod: per node the filter verdict (plugin and
    /// reason), per plugin the raw, normalized and weighted scores.
    Pod {
        /// The pod's name.
        name: String,
        /// The pod's namespace.
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
}

/// `kubetwin kubelet`.
#[derive(Debug, Args)]
pub struct KubeletArgs {
    /// What to do to the node's simulated kubelet.
    #[arg(value_enum)]
    action: KubeletAction,
    /// The node.
    node: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KubeletAction {
    /// Stop the kubelet: no more Lease renewals or status, the node goes NotReady, its pods
    /// are evicted after their tolerationSeconds.
    Stop,
    /// Start a stopped kubelet again.
    Start,
    /// Cut the kubelet off from the API server (it keeps running its pods).
    Disconnect,
    /// Restore the kubelet's connection.
    Reconnect,
    /// Show the kubelet's state.
    Status,
}

fn kubeconfig_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let local = PathBuf::from(".kubetwin/kubeconfig");
    local.exists().then_some(local)
}

async fn client(connection: &ConnectionArgs) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig_path(connection.kubeconfig.as_deref()) {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .with_context(|| format!("using {}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig found (pass --kubeconfig)")?,
    };
    kube::Client::try_from(config).context("building the client")
}

/// Sends the request; the body on success, the server's `Status` message as the error.
async fn call(
    connection: &ConnectionArgs,
    method: http::Method,
    path: &str,
) -> anyhow::Result<String> {
    let client = client(connection).await?;
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .body(Vec::new())
        .context("building the request")?;
    match client.request_text(request).await {
        Ok(text) => Ok(text),
        Err(kube::Error::Api(status)) => anyhow::bail!("{}", status.message),
        Err(e) => Err(e).context("calling the kubetwin server"),
    }
}

fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// Runs `kubetwin explain`.
pub fn explain(args: &ExplainArgs) -> anyhow::Result<i32> {
    let ExplainWhat::Pod {
        name,
        namespace,
        output,
    } = &args.what;
    let output = match output {
        Output::Table => "table",
        Output::Json => "json",
    };
    let path =
        format!("/kubetwin/v1/namespaces/{namespace}/pods/{name}/explanation?output={output}");
    let text = block_on(call(&args.connection, http::Method::GET, &path))?;
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(0)
}

/// Runs `kubetwin kubelet`.
pub fn kubelet(args: &KubeletArgs) -> anyhow::Result<i32> {
    let node = &args.node;
    let verb = match args.action {
        KubeletAction::Status => None,
        KubeletAction::Stop => Some("stop"),
        KubeletAction::Start => Some("start"),
        KubeletAction::Disconnect => Some("disconnect"),
        KubeletAction::Reconnect => Some("reconnect"),
    };
    let (method, path) = match verb {
        None => (
            http::Method::GET,
            format!("/kubetwin/v1/nodes/{node}/kubelet"),
        ),
        Some(verb) => (
            http::Method::POST,
            format!("/kubetwin/v1/nodes/{node}/kubelet/{verb}"),
        ),
    };
    let text = block_on(call(&args.connection, method, &path))?;
    println!("{text}");
    Ok(0)
}
