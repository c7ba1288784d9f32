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

/// Pod affinity `matchLabelKeys` / `mismatchLabelKeys` are merged into the selectors as the API
/// server does on creation (upstream: pkg/registry/core/pod/strategy_test.go
/// `Test_mutatePodAffinity`, observed through placements).
#[test]
fn pod_affinity_match_label_keys() {
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b, labels: {kubernetes.io/hostname: node-b}}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
---
apiVersion: v1
kind: Pod
metadata: {name: old, labels: {app: web, version: v1}}
spec: {nodeName: node-a, containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: same-version, labels: {app: web, version: v1}}
spec:
  nodeSelector: {kubernetes.io/hostname: node-a}
  containers: [{name: c, image: nginx}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [version]}
---
apiVersion: v1
kind: Pod
metadata: {name: other-version, labels: {app: web, version: v2}}
spec:
  nodeSelector: {kubernetes.io/hostname: node-a}
  containers: [{name: c, image: nginx}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [version]}
---
apiVersion: v1
kind: Pod
metadata: {name: mismatch, labels: {app: web, version: v3}}
spec:
  nodeSelector: {kubernetes.io/hostname: node-a}
  containers: [{name: c, image: nginx}]
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}, mismatchLabelKeys: [version]}
"#;
    let docs = offline::parse_documents("inline", text).expect("parse");
    let mut input = OfflineInput::default();
    input.add_documents(&docs).expect("documents");
    let results = offline::run(&input, &OfflineOptions::default()).expect("run");
    let got: Vec<(String, Option<String>)> = results
        .iter()
        .map(|r| (r.pod.clone(), r.node.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "default/other-version".to_owned(),
                Some("node-a".to_owned())
            ),
            ("default/mismatch".to_owned(), Some("node-a".to_owned())),
            ("default/same-version".to_owned(), None),
        ]
    );
}
