//! Shared fixture loading for the integration tests: the fake schemas of upstream's
//! strategic merge patch tests and a runner for fixture files.

#![allow(dead_code)]

use kubetwin_patch::FieldShape::{List, Map, Scalar, Struct};
use kubetwin_patch::schema::field;
use kubetwin_patch::{TypeSchema, schema_for, strategic_merge_patch};
use serde_json::Value;

const MERGE_ITEM_SOURCE: &str =
    "k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go MergeItem";
const RETAIN_KEYS_SOURCE: &str =
    "k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go RetainKeysMergeItem";

/// Upstream's fake `MergeItem` type (patch_test.go), which the upstream cases patch.
pub static MERGE_ITEM: TypeSchema = TypeSchema {
    name: "strategicpatch.MergeItem",
    fields: &[
        field("name", Scalar, "", "", None, MERGE_ITEM_SOURCE),
        field("value", Scalar, "", "", None, MERGE_ITEM_SOURCE),
        field("other", Scalar, "", "", None, MERGE_ITEM_SOURCE),
        field(
            "mergingList",
            List,
            "merge",
            "name",
            Some(&MERGE_ITEM),
            MERGE_ITEM_SOURCE,
        ),
        field(
            "nonMergingList",
            List,
            "",
            "",
            Some(&MERGE_ITEM),
            MERGE_ITEM_SOURCE,
        ),
        field("mergingIntList", List, "merge", "", None, MERGE_ITEM_SOURCE),
        field("nonMergingIntList", List, "", "", None, MERGE_ITEM_SOURCE),
        field(
            "mergeItemPtr",
            Struct,
            "merge",
            "name",
            Some(&MERGE_ITEM),
            MERGE_ITEM_SOURCE,
        ),
        field("simpleMap", Map, "", "", None, MERGE_ITEM_SOURCE),
        field("replacingItem", Map, "replace", "", None, MERGE_ITEM_SOURCE),
        field(
            "retainKeysMap",
            Struct,
            "retainKeys",
            "",
            Some(&RETAIN_KEYS_MERGE_ITEM),
            MERGE_ITEM_SOURCE,
        ),
        field(
            "retainKeysMergingList",
            List,
            "merge,retainKeys",
            "name",
            Some(&MERGE_ITEM),
            MERGE_ITEM_SOURCE,
        ),
    ],
};

/// Upstream's fake `RetainKeysMergeItem` type (patch_test.go).
pub static RETAIN_KEYS_MERGE_ITEM: TypeSchema = TypeSchema {
    name: "strategicpatch.RetainKeysMergeItem",
    fields: &[
        field("name", Scalar, "", "", None, RETAIN_KEYS_SOURCE),
        field("value", Scalar, "", "", None, RETAIN_KEYS_SOURCE),
        field("other", Scalar, "", "", None, RETAIN_KEYS_SOURCE),
        field("simpleMap", Map, "", "", None, RETAIN_KEYS_SOURCE),
        field(
            "mergingIntList",
            List,
            "merge",
            "",
            None,
            RETAIN_KEYS_SOURCE,
        ),
        field(
            "mergingList",
            List,
            "merge",
            "name",
            Some(&MERGE_ITEM),
            RETAIN_KEYS_SOURCE,
        ),
        field(
            "nonMergingList",
            List,
            "",
            "",
            Some(&MERGE_ITEM),
            RETAIN_KEYS_SOURCE,
        ),
    ],
};

/// Upstream's fake `PrecisionItem` (patch_test.go): scalars only.
pub static PRECISION_ITEM: TypeSchema = TypeSchema {
    name: "strategicpatch.PrecisionItem",
    fields: &[],
};

/// Resolves a fixture's `schema`: a fake upstream type, `none`, or `group/version/Kind`
/// (`v1/Pod` for the core group).
pub fn resolve_schema(name: &str) -> Option<&'static TypeSchema> {
    match name {
        "mergeItem" => Some(&MERGE_ITEM),
        "precisionItem" => Some(&PRECISION_ITEM),
        "none" => None,
        other => {
            let parts: Vec<&str> = other.split('/').collect();
            let found = match parts.as_slice() {
                [version, kind] => schema_for("", version, kind),
                [group, version, kind] => schema_for(group, version, kind),
                _ => None,
            };
            assert!(found.is_some(), "unknown schema {other}");
            found
        }
    }
}

/// Loads a fixture file (a JSON array of cases) from `tests/fixtures/`.
pub fn load_fixture(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    cases.as_array().cloned().unwrap_or_default()
}

/// The kind of patch a fixture case applies.
#[derive(Clone, Copy)]
pub enum PatchKind {
    Strategic,
    Merge,
    Json,
}

/// Runs every case of a fixture file and returns the failures (one line each).
///
/// A case has `upstream` (where it comes from), `original`, `patch`, and either `expected`
/// or `expected_error` (a substring of the error message, as upstream's tests match it);
/// strategic cases also name a `schema` (see [`resolve_schema`]).
pub fn run_fixture(file: &str, kind: PatchKind) -> (usize, Vec<String>) {
    let cases = load_fixture(file);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["upstream"].as_str().unwrap_or("<unnamed>");
        let original = &case["original"];
        let patch = &case["patch"];
        let result = match kind {
            PatchKind::Strategic => {
                let schema = resolve_schema(case["schema"].as_str().unwrap_or("none"));
                strategic_merge_patch(original, patch, schema)
            }
            PatchKind::Merge => kubetwin_patch::merge_patch(original, patch),
            PatchKind::Json => match case.get("copy_limit").and_then(Value::as_u64) {
                Some(limit) => {
                    kubetwin_patch::json_patch_with_copy_limit(original, patch, limit as usize)
                }
                None => kubetwin_patch::json_patch(original, patch),
            },
        };
        match (case.get("expected_error").and_then(Value::as_str), result) {
            (Some(wanted), Err(error)) => {
                if !error.to_string().contains(wanted) {
                    failures.push(format!(
                        "{name}: error {error:?} does not contain {wanted:?}"
                    ));
                }
                if let Some(status) = case.get("expected_status").and_then(Value::as_u64)
                    && u64::from(error.http_status()) != status
                {
                    failures.push(format!(
                        "{name}: status {} != {status}",
                        error.http_status()
                    ));
                }
            }
            (Some(wanted), Ok(got)) => {
                failures.push(format!("{name}: expected error {wanted:?}, got {got}"));
            }
            (None, Ok(got)) => {
                if got != case["expected"] {
                    failures.push(format!(
                        "{name}:\n   got      {got}\n   expected {}",
                        case["expected"]
                    ));
                }
            }
            (None, Err(error)) => failures.push(format!("{name}: unexpected error {error}")),
        }
    }
    (cases.len(), failures)
}
