//! End-to-end fixtures through the offline scheduler (the library behind `kubetwin schedule`):
//! each YAML input under tests/fixtures/e2e has the exact expected `-o json` output beside it.

use std::path::Path;

use kubetwin_scheduler::offline::{self, OfflineInput, OfflineOptions};

fn run_file(name: &str, seed: u64, explain: bool) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e");
    let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
    let docs = offline::parse_documents(name, &text).expect("parse");
    let mut input = OfflineInput::default();
    input.add_documents(&docs).expect("documents");
    let results = offline::run(
        &input,
        &OfflineOptions {
            seed,
            explain,
            config: None,
        },
    )
    .expect("run");
    offline::to_json(&results, explain)
}

fn expect(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e");
    let want_path = dir.join(name.replace(".yaml", ".json"));
    let got = run_file(name, 1, false);
    if std::env::var_os("KUBETWIN_BLESS").is_some() {
        std::fs::write(&want_path, format!("{got}\n")).expect("bless");
    }
    let want = std::fs::read_to_string(&want_path).expect("expected output");
    assert_eq!(got, want.trim_end(), "{name}");
}

#[test]
fn basic() {
    expect("basic.yaml");
}

#[test]
fn preemption_with_pdb() {
    expect("preemption.yaml");
}

#[test]
fn hybrid_spread_and_anti_affinity() {
    expect("hybrid.yaml");
}

#[test]
fn default_topology_spread() {
    expect("default_spread.yaml");
}

#[test]
fn volumes() {
    expect("volumes.yaml");
}

/// The same input and seed give byte-identical output, with and without explanations.
#[test]
fn deterministic() {
    for name in [
        "basic.yaml",
        "preemption.yaml",
        "hybrid.yaml",
        "volumes.yaml",
        "default_spread.yaml",
    ] {
        for explain in [false, true] {
            let a = run_file(name, 42, explain);
            let b = run_file(name, 42, explain);
            assert_eq!(a, b, "{name} explain={explain}");
        }
    }
}
