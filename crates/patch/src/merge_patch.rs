//! JSON merge patch (`application/merge-patch+json`, RFC 7386) as the apiserver applies it.
//!
//! Upstream: the apiserver calls `jsonpatch.MergePatch` of `gopkg.in/evanphx/json-patch.v4`
//! (v4.12.0, `merge.go`), which departs from the RFC in small ways reproduced here: a
//! `null` document or patch is an error, a scalar patch is an error, a non-object patch
//! replaces the document, and `null`s are pruned from added values (also inside arrays)
//! but not from a value that replaces an existing object.

use serde_json::{Map, Value};

use crate::error::PatchError;

/// Applies a JSON merge patch to `original`.
///
/// Errors: [`PatchError::MergePatchBadDocument`] for a `null` document,
/// [`PatchError::MergePatchBadPatch`] for a `null` or scalar patch.
pub fn merge_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    if original.is_null() {
        return Err(PatchError::MergePatchBadDocument);
    }
    match (original, patch) {
        (_, Value::Null) => Err(PatchError::MergePatchBadPatch),
        (Value::Object(document), Value::Object(patch)) => {
            Ok(Value::Object(merged_docs(document, patch)))
        }
        // The document is not an object: the patch object becomes the document.
        (_, Value::Object(patch)) => {
            let mut patch = Value::Object(patch.clone());
            prune_nulls(&mut patch);
            Ok(patch)
        }
        // An array patch replaces whatever the document was.
        (_, Value::Array(_)) => {
            let mut patch = patch.clone();
            prune_nulls(&mut patch);
            Ok(patch)
        }
        _ => Err(PatchError::MergePatchBadPatch),
    }
}

/// Upstream `mergeDocs`, building the merged document: what the patch replaces or removes is
/// never copied (a kubelet's status patch replaces most of a pod's status); the rest is. A
/// `null` current value counts as absent, as upstream's `mergeDocs` treats it.
fn merged_docs(document: &Map<String, Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = Map::new();
    for (key, current) in document {
        match patch.get(key) {
            None => {
                merged.insert(key.clone(), current.clone());
            }
            Some(Value::Null) => {}
            Some(patch_value) => {
                merged.insert(key.clone(), merged_value(current, patch_value));
            }
        }
    }
    for (key, patch_value) in patch {
        if !patch_value.is_null() && !document.contains_key(key) {
            merged.insert(key.clone(), pruned(patch_value));
        }
    }
    merged
}

/// Upstream `merge`: recurse when both sides are objects; a non-object current value is
/// replaced by the pruned patch; an object replaced by a non-object patch is not pruned.
fn merged_value(current: &Value, patch: &Value) -> Value {
    match (current, patch) {
        (Value::Object(current), Value::Object(patch)) => {
            Value::Object(merged_docs(current, patch))
        }
        (Value::Object(_), patch) => patch.clone(),
        (_, patch) => pruned(patch),
    }
}

/// A copy of `value` without its `null` object fields.
fn pruned(value: &Value) -> Value {
    let mut value = value.clone();
    prune_nulls(&mut value);
    value
}

/// Upstream `pruneNulls`: drop `null` object fields at any depth; `null` array elements stay.
fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                prune_nulls(v);
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut().filter(|v| !v.is_null()) {
                prune_nulls(v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The document merged in place, as upstream's `mergeDocs` and `merge` do it: the
    /// reference the building merge must agree with.
    fn merge_in_place(document: &mut Map<String, Value>, patch: &Map<String, Value>) {
        for (key, patch_value) in patch {
            if patch_value.is_null() {
                document.remove(key);
                continue;
            }
            match document.get_mut(key) {
                Some(current) if !current.is_null() => {
                    *current = match (std::mem::take(current), patch_value) {
                        (Value::Object(mut current), Value::Object(patch)) => {
                            merge_in_place(&mut current, patch);
                            Value::Object(current)
                        }
                        (Value::Object(_), patch) => patch.clone(),
                        (_, patch) => pruned(patch),
                    };
                }
                _ => {
                    document.insert(key.clone(), pruned(patch_value));
                }
            }
        }
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..4).prop_map(Value::from),
            "[ab]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-e]", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn any_object() -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::btree_map("[a-e]", any_json(), 0..6).prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn building_the_merge_equals_merging_in_place(document in any_object(), patch in any_object()) {
            let mut expected = document.clone();
            merge_in_place(&mut expected, &patch);
            prop_assert_eq!(merged_docs(&document, &patch), expected);
        }
    }
}
