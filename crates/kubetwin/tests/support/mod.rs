//! Shared helpers of the binary-level tests: starting `kubetwin serve` as a child process,
//! a minimal HTTP/1.1 client, and a `kubectl` runner with an isolated `HOME`.
//!
//! Each test file uses a subset, so the including module allows dead code.

pub mod http;
pub mod kubectl;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The line `serve` prints once it listens, followed by the URL.
const SERVING_PREFIX: &str = "kubetwin is serving the Kubernetes API at ";

/// Where a running server is reached.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The kubeconfig `serve` wrote into its data directory.
    pub kubeconfig: PathBuf,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The server's stderr (its log), for failure messages.
    pub log: PathBuf,
}

impl Endpoint {
    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Options of one `kubetwin serve` process.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `--store memory|redb`.
    pub store: &'static str,
    /// `--kube-minor`.
    pub kube_minor: u32,
    /// `--cluster`: `None` for the built-in hybrid demo cluster, `Some("none")` for the API only.
    pub cluster: Option<&'static str>,
    /// More `serve` flags (e.g. `--speed 10`).
    pub extra_args: &'static [&'static str],
}

fn serve_args(data_dir: &Path, options: &ServeOptions) -> Vec<String> {
    vec![
        "serve".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--port".into(),
        "0".into(),
        "--store".into(),
        options.store.into(),
        "--kube-minor".into(),
        options.kube_minor.to_string(),
    ]
    .into_iter()
    .chain(
        options
            .cluster
            .iter()
            .flat_map(|c| ["--cluster".to_string(), (*c).to_string()]),
    )
    .chain(options.extra_args.iter().map(|a| (*a).to_string()))
    .collect()
}

/// Reads the child's stdout until the "serving" line; panics with the server log otherwise.
/// The rest of stdout is drained on a thread: closing the pipe early would make the server's
/// later prints fail.
fn wait_for_endpoint(stdout: impl Read + Send + 'static, data_dir: &Path, log: &Path) -> Endpoint {
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .expect("reading the server's stdout");
        if read == 0 {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("kubetwin serve exited before listening; its stderr:\n{log}");
        }
        if let Some(url) = line.trim().strip_prefix(SERVING_PREFIX) {
            let url = url.to_string();
            let address = url.trim_start_matches("http://").to_string();
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return Endpoint {
                url,
                address,
                kubeconfig: data_dir.join("kubeconfig"),
                data_dir: data_dir.to_path_buf(),
                log: log.to_path_buf(),
            };
        }
    }
}

/// A server owned by one test: killed (SIGKILL) when dropped or on [`OwnedServer::kill`].
#[derive(Debug)]
pub struct OwnedServer {
    child: Child,
    /// Where it is reached.
    pub endpoint: Endpoint,
}

impl OwnedServer {
    /// Starts `kubetwin serve` on a free loopback port over `data_dir` (which must outlive it).
    pub fn start(data_dir: &Path, options: &ServeOptions) -> Self {
        std::fs::create_dir_all(data_dir).expect("creating the data dir");
        let log = data_dir.join(format!("serve-{}.log", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubetwin"))
            .args(serve_args(data_dir, options))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("creating the server log"))
            .spawn()
            .expect("spawning kubetwin serve");
        let stdout = child.stdout.take().expect("child stdout");
        let endpoint = wait_for_endpoint(stdout, data_dir, &log);
        Self { child, endpoint }
    }

    /// Kills the server with SIGKILL (`Child::kill` on Unix) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server shared by every test of one test binary for one `--kube-minor`.
///
/// Statics are never dropped, so the server runs under a small shell that kills it (and
/// removes its data directory, unless `KUBETWIN_E2E_KEEP_DATA` is set) as soon as its stdin
/// closes, which happens when the test process exits for any reason. If the server dies
/// early, the shell writes its exit status into the log.
#[derive(Debug)]
struct SharedServer {
    endpoint: Endpoint,
    /// Held open for the life of the test process; its closing stops the server.
    _stdin: ChildStdin,
    /// The wrapper shell; it exits (and is reaped by the system) with the test process.
    _wrapper: Child,
}

const SHARED_WRAPPER: &str = r#"
data_dir="$1"; shift
exec 3<&0
"$@" 3<&- </dev/null &
server=$!
( cat <&3 >/dev/null; kill -9 "$server" 2>/dev/null ) &
watchdog=$!
exec 3<&-
wait "$server"
echo "kubetwin-e2e: kubetwin serve exited with status $?" >&2
wait "$watchdog"
[ -n "$KUBETWIN_E2E_KEEP_DATA" ] || rm -rf "$data_dir"
"#;

fn start_shared(options: &ServeOptions) -> SharedServer {
    let data_dir = tempfile::Builder::new()
        .prefix("kubetwin-e2e-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let log = data_dir.join("serve.log");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(SHARED_WRAPPER)
        .arg("kubetwin-e2e-wrapper")
        .arg(&data_dir)
        .arg(env!("CARGO_BIN_EXE_kubetwin"))
        .args(serve_args(&data_dir, options))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(File::create(&log).expect("creating the server log"))
        .spawn()
        .expect("spawning kubetwin serve under sh");
    let stdout = child.stdout.take().expect("child stdout");
    let stdin = child.stdin.take().expect("child stdin");
    let endpoint = wait_for_endpoint(stdout, &data_dir, &log);
    SharedServer {
        endpoint,
        _stdin: stdin,
        _wrapper: child,
    }
}

/// The in-memory server shared by this test binary for `kube_minor`, started on first use.
pub fn shared_memory_server(kube_minor: u32) -> Endpoint {
    static SERVERS: OnceLock<Mutex<Vec<(u32, &'static SharedServer)>>> = OnceLock::new();
    let servers = SERVERS.get_or_init(|| Mutex::new(Vec::new()));
    let mut servers = servers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, server)) = servers.iter().find(|(minor, _)| *minor == kube_minor) {
        return server.endpoint.clone();
    }
    // The API-only server of issue 2: no simulated nodes, controllers act on nothing of theirs.
    let server: &'static SharedServer = Box::leak(Box::new(start_shared(&ServeOptions {
        store: "memory",
        kube_minor,
        cluster: Some("none"),
        extra_args: &[],
    })));
    servers.push((kube_minor, server));
    server.endpoint.clone()
}
