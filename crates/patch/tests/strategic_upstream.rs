//! Strategic merge patch application cases transcribed from upstream
//! `k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go` (v0.34.10) into
//! `tests/fixtures/smp_upstream.json` by `tools/gen_fixtures.py`.

mod common;

use common::{PatchKind, run_fixture};

#[test]
fn upstream_strategic_merge_patch_cases() {
    let (count, failures) = run_fixture("smp_upstream.json", PatchKind::Strategic);
    assert!(count >= 250, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
