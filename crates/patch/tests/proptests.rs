//! Property tests: arbitrary JSON documents and patches never make any patch function
//! panic, and a few algebraic properties hold (bounded depth and case counts).

use kubetwin_patch::{json_patch, merge_patch, schema_for, strategic_merge_patch};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Keys drawn from a small set, including directive keys, so collisions and directives
/// are frequent.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("name".to_string()),
        Just("type".to_string()),
        Just("containers".to_string()),
        Just("env".to_string()),
        Just("spec".to_string()),
        Just("metadata".to_string()),
        Just("finalizers".to_string()),
        Just("taints".to_string()),
        Just("mergingList".to_string()),
        Just("mergingIntList".to_string()),
        Just("$patch".to_string()),
        Just("$retainKeys".to_string()),
        Just("$setElementOrder/containers".to_string()),
        Just("$setElementOrder/finalizers".to_string()),
        Just("$deleteFromPrimitiveList/finalizers".to_string()),
        Just("$deleteFromPrimitiveList/".to_string()),
        "[a-c]{1,2}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(|i| json!(i)),
        Just(json!(1.5)),
        prop_oneof![
            Just("delete"),
            Just("replace"),
            Just("merge"),
            Just("a"),
            Just("b"),
            Just("-"),
            Just("0"),
            Just("/a"),
            Just("")
        ]
        .prop_map(|s| json!(s)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), value(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn json_patch_operation() -> impl Strategy<Value = Value> {
    let path = prop::collection::vec(
        prop_oneof![
            "[a-c]",
            Just("0".to_string()),
            Just("-".to_string()),
            Just("-1".to_string())
        ],
        0..4,
    )
    .prop_map(|segments| segments.iter().map(|s| format!("/{s}")).collect::<String>());
    (
        prop_oneof![
            Just("add"),
            Just("remove"),
            Just("replace"),
            Just("move"),
            Just("copy"),
            Just("test"),
            Just("bogus")
        ],
        path.clone(),
        path,
        prop::option::of(value()),
    )
        .prop_map(|(op, path, from, value)| {
            let mut operation = json!({"op": op, "path": path, "from": from});
            if let Some(value) = value {
                operation["value"] = value;
            }
            operation
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn strategic_merge_patch_never_panics(original in object(), patch in object()) {
        let _ = strategic_merge_patch(&original, &patch, None);
        let _ = strategic_merge_patch(&original, &patch, schema_for("", "v1", "Pod"));
        let _ = strategic_merge_patch(&original, &patch, schema_for("apps", "v1", "Deployment"));
    }

    #[test]
    fn strategic_merge_patch_any_values_never_panic(original in value(), patch in value()) {
        let _ = strategic_merge_patch(&original, &patch, schema_for("", "v1", "Node"));
    }

    #[test]
    fn pod_shaped_patches_never_panic(
        containers in prop::collection::vec(value(), 0..4),
        patch_containers in prop::collection::vec(value(), 0..4),
        order in prop::collection::vec(value(), 0..4),
    ) {
        let original = json!({"spec": {"containers": containers}});
        let patch = json!({"spec": {"containers": patch_containers, "$setElementOrder/containers": order}});
        let _ = strategic_merge_patch(&original, &patch, schema_for("", "v1", "Pod"));
    }

    #[test]
    fn empty_strategic_patch_is_identity(original in object()) {
        // With no directives in the original, an empty patch changes nothing.
        let result = strategic_merge_patch(&original, &json!({}), schema_for("", "v1", "Pod"));
        prop_assert_eq!(result.ok(), Some(original));
    }

    #[test]
    fn merge_patch_never_panics(original in value(), patch in value()) {
        let _ = merge_patch(&original, &patch);
    }

    #[test]
    fn merge_patch_matches_rfc7386_on_objects_without_nulls_in_arrays(original in object(), patch in object()) {
        // evanphx v4 departs from RFC 7386 only for nulls inside arrays (it prunes them from
        // objects in arrays, and keeps them when an object is replaced by an array).
        fn has_null_inside_array(v: &Value, in_array: bool) -> bool {
            match v {
                Value::Null => in_array,
                Value::Array(items) => items.iter().any(|i| has_null_inside_array(i, true)),
                Value::Object(m) => m.values().any(|i| has_null_inside_array(i, in_array)),
                _ => false,
            }
        }
        prop_assume!(!has_null_inside_array(&patch, false));
        let mut rfc = original.clone();
        json_patch::merge(&mut rfc, &patch);
        prop_assert_eq!(merge_patch(&original, &patch).ok(), Some(rfc));
    }

    #[test]
    fn json_patch_never_panics(original in object(), operations in prop::collection::vec(json_patch_operation(), 0..5)) {
        let _ = json_patch(&original, &Value::Array(operations));
    }

    #[test]
    fn json_patch_any_body_never_panics(original in value(), body in value()) {
        let _ = json_patch(&original, &body);
    }

    #[test]
    fn failed_json_patch_is_atomic(original in object(), operations in prop::collection::vec(json_patch_operation(), 1..5)) {
        let before = original.clone();
        let _ = json_patch(&original, &Value::Array(operations));
        prop_assert_eq!(original, before);
    }
}
