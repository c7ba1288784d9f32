//! Runs the fixture files that are not generated from upstream test tables: real kubectl
//! requests (from the research notes) against the built-in schema table, JSON merge patch
//! cases (evanphx/json-patch v4 `merge_test.go`, RFC 7386 appendix A) and JSON patch cases
//! (evanphx/json-patch v4 `patch_test.go` and behaviours of its `patch.go`).

mod common;

use common::{PatchKind, run_fixture};

fn assert_fixture(file: &str, kind: PatchKind, minimum: usize) {
    let (count, failures) = run_fixture(file, kind);
    assert!(count >= minimum, "{file}: only {count} cases");
    assert!(
        failures.is_empty(),
        "{file}: {} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn kubectl_strategic_merge_patches() {
    assert_fixture("smp_kubectl.json", PatchKind::Strategic, 50);
}

#[test]
fn merge_patch_cases() {
    assert_fixture("merge_patch.json", PatchKind::Merge, 40);
}

#[test]
fn json_patch_kubectl_and_quirk_cases() {
    assert_fixture("json_patch.json", PatchKind::Json, 25);
}

#[test]
fn json_patch_upstream_cases() {
    assert_fixture("json_patch_upstream.json", PatchKind::Json, 60);
}
