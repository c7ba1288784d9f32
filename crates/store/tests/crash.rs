//! Durability under `kill -9`: every write acknowledged by the redb backend (group commit,
//! `Durability::Immediate`) is present after the writing process is killed and the file reopened.
//!
//! The test binary plays both roles: the parent test re-runs this executable with an
//! environment variable selecting the child role (the `crash_child_writer` test), reads the
//! child's acknowledgements from its stdout, SIGKILLs it mid-stream, reopens the database and
//! checks every acknowledged key.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use kubetwin_store::{RedbOptions, Store};

const CHILD_ENV: &str = "KUBETWIN_STORE_CRASH_CHILD_DB";
const WRITERS: usize = 8;
const ACKS_BEFORE_KILL: usize = 400;

/// Child role: writes keys from several concurrent writers forever, printing each acknowledged
/// write as `ACK <key> <value> <revision>`. A no-op when run as an ordinary test.
#[test]
fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = Store::open_redb(&path, RedbOptions::default()).expect("open");
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..1_000_000u64 {
                    let key = format!("/crash/w{writer}/k{i}");
                    let value = format!("value-{writer}-{i}");
                    let kv = store.create(&key, value.clone()).await.expect("write");
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {key} {value} {}", kv.mod_revision).expect("stdout");
                    out.flush().expect("flush");
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer");
        }
    });
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crash.redb");
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .args([
            "crash_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut acked: Vec<(String, String, i64)> = Vec::new();
    let parse = |line: &str, acked: &mut Vec<(String, String, i64)>| {
        let Some(rest) = line.strip_prefix("ACK ") else {
            return;
        };
        let parts: Vec<&str> = rest.split(' ').collect();
        // A line cut by the kill is not an acknowledgement we can check.
        if let [key, value, revision] = parts[..]
            && let Ok(revision) = revision.parse()
        {
            acked.push((key.to_owned(), value.to_owned(), revision));
        }
    };
    for line in lines.by_ref() {
        parse(&line.expect("read child"), &mut acked);
        if acked.len() >= ACKS_BEFORE_KILL {
            break;
        }
    }
    assert!(
        acked.len() >= ACKS_BEFORE_KILL,
        "child stopped early after {} acks",
        acked.len()
    );
    child.kill().expect("SIGKILL child"); // std sends SIGKILL on Unix
    child.wait().expect("reap child");
    // Acknowledgements already written to the pipe before the kill count too.
    for line in lines.map_while(Result::ok) {
        parse(&line, &mut acked);
    }

    let store = Store::open_redb(&path, RedbOptions::default()).expect("reopen after kill");
    let max_revision = acked
        .iter()
        .map(|(_, _, revision)| *revision)
        .max()
        .unwrap_or(1);
    assert!(store.current_revision() >= max_revision);
    for (key, value, revision) in &acked {
        let kv = store
            .get(key)
            .expect("read")
            .unwrap_or_else(|| panic!("acked key {key} lost"));
        assert_eq!(kv.value, value.as_bytes(), "{key}");
        assert_eq!(kv.mod_revision, *revision, "{key}");
    }
    // The reopened store keeps working from where the killed one stopped.
    let next = store.put("/crash/after", "x");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let written = runtime.block_on(next).expect("write after reopen");
    assert_eq!(written.mod_revision, store.current_revision());
    assert!(written.mod_revision > max_revision);
}
