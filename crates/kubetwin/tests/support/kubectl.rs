//! Runs the real `kubectl` (the dispatcher on PATH, which picks kubectl 1.<minor> from the
//! server's `/version`) against a server, with a private `HOME` so the discovery cache
//! (`~/.kube/cache`) starts empty, and a default namespace per test.
//!
//! Every command runs under `timeout` so a hang fails the test instead of blocking the suite.
//! kubectl's exit code is not trusted alone (it printed errors and exited 0 against broken
//! servers); callers check the resulting state too.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Endpoint;

/// Upper bound for one kubectl command (a safety net, not a timing assertion).
const COMMAND_TIMEOUT_SECONDS: u32 = 90;

/// The outcome of one kubectl command.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// Whether kubectl exited with status 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// stdout and stderr together, for assertions on messages wherever kubectl prints them.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\n(success: {})\n--- stdout ---\n{}--- stderr ---\n{}",
            self.command, self.success, self.stdout, self.stderr
        )
    }
}

/// kubectl bound to one server, one private `HOME` and one default namespace.
#[derive(Debug)]
pub struct Kubectl {
    endpoint: Endpoint,
    home: tempfile::TempDir,
    namespace: String,
}

impl Kubectl {
    /// kubectl for `endpoint`, defaulting to `namespace` (which need not exist yet).
    pub fn new(endpoint: Endpoint, namespace: &str) -> Self {
        Self {
            endpoint,
            home: tempfile::Builder::new()
                .prefix("kubetwin-kubectl-home-")
                .tempdir()
                .expect("temp HOME"),
            namespace: namespace.to_string(),
        }
    }

    /// The default namespace of this runner.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// A scratch directory that lives as long as this runner (for manifests, editor scripts).
    pub fn scratch(&self) -> &Path {
        self.home.path()
    }

    /// Writes `contents` to a file in the scratch directory and returns its path.
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, contents).expect("writing a scratch file");
        path
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.endpoint.kubeconfig)
            .env_remove("KUBE_EDITOR")
            .env_remove("EDITOR")
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        command
    }

    fn namespaced_args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--namespace", self.namespace.as_str()];
        all.extend_from_slice(args);
        all
    }

    /// Runs `kubectl --namespace NS ARGS...` with optional stdin and extra environment.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Outcome {
        let args = self.namespaced_args(args);
        let mut command = self.command("timeout");
        command
            .arg("--kill-after=5")
            .arg(COMMAND_TIMEOUT_SECONDS.to_string())
            .arg("kubectl")
            .args(&args)
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawning kubectl (is it on PATH?)");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("kubectl stdin");
            pipe.write_all(input.as_bytes())
                .expect("writing kubectl stdin");
        }
        let output = child.wait_with_output().expect("waiting for kubectl");
        let outcome = Outcome {
            command: format!("kubectl {}", args.join(" ")),
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert_ne!(
            output.status.code(),
            Some(124),
            "kubectl did not finish within {COMMAND_TIMEOUT_SECONDS}s:\n{outcome}"
        );
        outcome
    }

    /// The server log's tail when kubectl could not reach the server (it died), else nothing.
    fn server_note(&self, outcome: &Outcome) -> String {
        if outcome.stderr.contains("refused") {
            format!(
                "\n--- server log ({}) ---\n{}",
                self.endpoint.log.display(),
                self.endpoint.log_tail()
            )
        } else {
            String::new()
        }
    }

    /// Runs kubectl and returns the outcome, whatever it is.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, None, &[])
    }

    /// Runs kubectl, requiring success and no `error` on stderr; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, None, &[])
    }

    /// [`Kubectl::ok`] with stdin and environment.
    pub fn ok_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> String {
        let outcome = self.run_with(args, stdin, env);
        assert!(
            outcome.success && !outcome.stderr.to_lowercase().contains("error"),
            "kubectl failed:\n{outcome}{}",
            self.server_note(&outcome)
        );
        outcome.stdout
    }

    /// Runs kubectl, requiring failure; returns stdout and stderr together.
    pub fn fails(&self, args: &[&str]) -> String {
        self.fails_with(args, None)
    }

    /// [`Kubectl::fails`] with stdin.
    pub fn fails_with(&self, args: &[&str], stdin: Option<&str>) -> String {
        let outcome = self.run_with(args, stdin, &[]);
        assert!(
            !outcome.success,
            "kubectl unexpectedly succeeded:\n{outcome}"
        );
        outcome.all_output()
    }

    /// `kubectl apply -f -` of `manifest`; returns stdout.
    pub fn apply(&self, manifest: &str) -> String {
        self.ok_with(&["apply", "-f", "-"], Some(manifest), &[])
    }

    /// `kubectl get ARGS -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        let stdout = self.ok(&all);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("kubectl -o json printed invalid JSON ({e}):\n{stdout}"))
    }

    /// Whether `kubectl get KIND NAME` finds the object (false only on NotFound).
    pub fn exists(&self, kind: &str, name: &str) -> bool {
        let outcome = self.run(&["get", kind, name, "-o", "name"]);
        if outcome.success && outcome.stdout.trim().ends_with(&format!("/{name}")) {
            return true;
        }
        assert!(
            outcome.stderr.contains("NotFound"),
            "get neither found the object nor said NotFound:\n{outcome}{}",
            self.server_note(&outcome)
        );
        false
    }

    /// Starts a long-running kubectl (e.g. `get -w`) whose stdout lines arrive on a channel.
    pub fn spawn_lines(&self, args: &[&str]) -> Streaming {
        let args = self.namespaced_args(args);
        let mut child = self
            .command("kubectl")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning kubectl");
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("kubectl stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = child.stderr.take().expect("kubectl stderr");
        let stderr_text = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
            text
        });
        Streaming {
            command: format!("kubectl {}", args.join(" ")),
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr_text),
        }
    }
}

/// A running kubectl whose stdout is read line by line.
#[derive(Debug)]
pub struct Streaming {
    command: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// How long to wait for an expected line before failing (a safety net for hangs).
const LINE_WAIT: Duration = Duration::from_secs(60);

impl Streaming {
    /// Waits for a line satisfying `wanted` and returns it; panics (with everything seen) if
    /// the stream ends first.
    pub fn wait_for(&mut self, description: &str, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            match self.lines.recv_timeout(LINE_WAIT) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => {
                    let stderr = self.stop();
                    panic!(
                        "`{}` never printed {description}; it printed:\n{}\nstderr:\n{stderr}",
                        self.command,
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// Every line read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Reads every line that arrives until the stream has been quiet for `quiet`; returns all
    /// lines seen.
    pub fn read_until_quiet(&mut self, quiet: Duration) -> &[String] {
        while let Ok(line) = self.lines.recv_timeout(quiet) {
            self.seen.push(line);
        }
        &self.seen
    }

    /// Waits for the process to end by itself (e.g. `--request-timeout`); returns whether it
    /// exited successfully and the remaining lines.
    pub fn wait_exit(&mut self) -> (bool, String) {
        let mut waited = Duration::ZERO;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for kubectl") {
                break status;
            }
            if waited >= LINE_WAIT {
                let stderr = self.stop();
                panic!("`{}` did not exit by itself:\n{stderr}", self.command);
            }
            std::thread::sleep(Duration::from_millis(50));
            waited += Duration::from_millis(50);
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default();
        (status.success(), stderr)
    }

    /// Kills the process; returns its stderr.
    pub fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
