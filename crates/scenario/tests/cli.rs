//! The entry point `kubetwin run` uses (`cli::invoke`): exit 0 and both report files when every
//! expectation passes, 1 when one fails, an error (exit 2 in the binary) for bad input.

use std::path::Path;

use kubetwin_scenario::cli::{EXIT_FAILED, EXIT_PASSED, Invocation, InvocationError, invoke};

const FAILING: &str = "apiVersion: kubetwin.io/v1alpha1
kind: Scenario
metadata: {name: impossible}
duration: 3m
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: huge}
    spec:
      replicas: 2
      selector: {matchLabels: {app: huge}}
      template:
        metadata: {labels: {app: huge}}
        spec:
          containers: [{name: c, image: x, resources: {requests: {cpu: '500'}}}]
expectations:
  - {type: podsReady, workload: deployment/huge, within: 2m}
  - {type: maxPending, max: 0}
";

#[test]
fn a_passing_scenario_exits_zero_and_writes_both_reports() {
    let out = tempfile::tempdir().expect("tempdir");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/api-lb-outage-kubeprism.yaml");
    let mut progress = Vec::new();
    let mut on_progress = |p: kubetwin_scenario::Progress| progress.push(p.elapsed);
    let outcome = invoke(Invocation {
        scenario,
        out_dir: Some(out.path().join("reports")),
        seed: None,
        progress: Some(&mut on_progress),
    })
    .expect("runs");
    assert_eq!(outcome.exit_code, EXIT_PASSED);
    let json =
        std::fs::read_to_string(out.path().join("reports/report.json")).expect("report.json");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(parsed["passed"], true);
    assert_eq!(parsed["scenario"]["name"], "api-lb-outage-kubeprism");
    let md = std::fs::read_to_string(out.path().join("reports/report.md")).expect("report.md");
    assert!(md.starts_with("# Scenario report: api-lb-outage-kubeprism"));
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress only moves forward"
    );
    assert_eq!(
        progress.last().copied(),
        Some(std::time::Duration::from_secs(1800))
    );
}

#[test]
fn a_failed_expectation_exits_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("impossible.yaml");
    std::fs::write(&file, FAILING).expect("write");
    let outcome = invoke(Invocation {
        scenario: file,
        ..Invocation::default()
    })
    .expect("runs");
    assert_eq!(outcome.exit_code, EXIT_FAILED);
    assert!(!outcome.report.passed);
    assert_eq!(outcome.report.summary.expectations_failed, 2);
    assert!(
        outcome.written.is_empty(),
        "nothing is written without an output directory"
    );
    let pending = &outcome.report.pending;
    assert!(
        pending.iter().any(|p| p
            .reasons
            .iter()
            .any(|r| r.message.contains("Insufficient cpu"))),
        "the report carries the scheduler's reason: {pending:?}"
    );
}

#[test]
fn bad_input_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = invoke(Invocation {
        scenario: dir.path().join("nope.yaml"),
        ..Invocation::default()
    });
    assert!(matches!(missing, Err(InvocationError::Scenario { .. })));
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "apiVersion: kubetwin.io/v1alpha1\nkind: Scenario\nmetadata: {name: b}\ncluster: missing.yaml\n").expect("write");
    let err = invoke(Invocation {
        scenario: file,
        ..Invocation::default()
    })
    .expect_err("missing cluster file");
    assert!(err.to_string().contains("cluster"), "{err}");
}
