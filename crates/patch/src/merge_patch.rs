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
            let mut document = document.clone();
            merge_docs(&mut document, patch);
            Ok(Value::Object(document))
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

/// Upstream `mergeDocs`.
fn merge_docs(document: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, patch_value) in patch {
        if patch_value.is_null() {
            document.remove(key);
            continue;
        }
        match document.get_mut(key) {
            Some(current) if !current.is_null() => {
                let merged = merge_value(std::mem::take(current), patch_value);
                *current = merged;
            }
            _ => {
                let mut value = patch_value.clone();
                prune_nulls(&mut value);
                document.insert(key.clone(), value);
            }
        }
    }
}

/// Upstream `merge`: recurse when both sides are objects; a non-object current value is
/// replaced by the pruned patch; an object replaced by a non-object patch is not pruned.
fn merge_value(current: Value, patch: &Value) -> Value {
    match (current, patch) {
        (Value::Object(mut current), Value::Object(patch)) => {
            merge_docs(&mut current, patch);
            Value::Object(current)
        }
        (Value::Object(_), patch) => patch.clone(),
        (_, patch) => {
            let mut patch = patch.clone();
            prune_nulls(&mut patch);
            patch
        }
    }
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
