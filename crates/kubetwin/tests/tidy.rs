//! Tidy checks over the whole workspace: the habits the architecture document promises.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !matches!(name, "target" | "fuzz" | ".git") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    assert!(!files.is_empty());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` module doc:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let root = workspace_root();
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(workspace.contains("unsafe_code = \"forbid\""));
    assert!(workspace.contains("disallowed_methods = \"deny\""));
    let mut crates: Vec<_> = std::fs::read_dir(root.join("crates"))
        .expect("crates")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    crates.sort();
    for dir in crates {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        assert!(
            manifest.contains("[lints]") && manifest.contains("workspace = true"),
            "{} does not use the workspace lints",
            dir.display()
        );
    }
}

#[test]
fn wall_clock_and_thread_rng_are_banned() {
    let clippy =
        std::fs::read_to_string(workspace_root().join("clippy.toml")).expect("clippy.toml");
    for banned in [
        "std::time::Instant::now",
        "std::time::SystemTime::now",
        "jiff::Timestamp::now",
        "rand::thread_rng",
        "std::collections::HashMap",
    ] {
        assert!(clippy.contains(banned), "clippy.toml must ban {banned}");
    }
}

#[test]
fn only_the_binary_reads_the_wall_clock() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let in_binary = f.components().any(|c| c.as_os_str() == "kubetwin")
            && f.components().any(|c| c.as_os_str() == "src");
        let is_bench = f
            .components()
            .any(|c| matches!(c.as_os_str().to_str(), Some("examples" | "benches")));
        // The one exception: injected component time reads tokio's clock, which is virtual
        // under a paused runtime (crates/runtime/src/time.rs).
        let is_sim_time = f.ends_with("runtime/src/time.rs");
        if !in_binary && !is_bench && !is_sim_time && !f.ends_with("tidy.rs") {
            for call in ["SystemTime::now(", "Instant::now(", "Timestamp::now("] {
                assert!(!text.contains(call), "{} calls {call}", f.display());
            }
        }
    }
}

/// `tokio::select!` picks among ready branches at random (a per-runtime RNG the code cannot
/// seed), so an unbiased select makes virtual-time runs differ between identical seeds.
#[test]
fn every_select_is_biased() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    for f in files {
        if f.ends_with("tidy.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (at, _) in text.match_indices("select! {") {
            let next = text[at + "select! {".len()..].trim_start();
            assert!(
                next.starts_with("biased;"),
                "{}: a tokio::select! without `biased;`",
                f.display()
            );
        }
    }
}

/// A `tokio::sync::watch` receiver waits on one of eight `Notify`s picked by the same unseeded
/// per-runtime RNG, so a channel with several waiting receivers wakes them in an order that
/// changes between runs (the PDB drain scenarios once differed that way). Only channels with a
/// single waiting receiver may use it; the rest use a `Notify`, which wakes first-come
/// first-served (the store's `Wake`, the informer's `Flag`).
#[test]
fn tokio_watch_channels_only_where_one_task_waits() {
    // The kubelet's control channel: its run loop is the only receiver.
    const SINGLE_RECEIVER: &[&str] = &["crates/kubelet/src/kubelet.rs"];
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    for f in files {
        let relative = f
            .strip_prefix(&root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        if !relative.contains("/src/") || SINGLE_RECEIVER.contains(&relative.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for usage in ["watch::channel(", "watch::Sender", "watch::Receiver"] {
            assert!(
                !text.contains(usage),
                "{relative}: tokio::sync::watch wakes its receivers in a random order"
            );
        }
    }
}
