//! JSON patch (`application/json-patch+json`, RFC 6902) as the apiserver applies it.
//!
//! Upstream: the apiserver decodes the body with `jsonpatch.DecodePatch`, refuses more than
//! 10000 operations (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`,
//! `maxJSONPatchOperations`), and applies it with `Patch.Apply` of
//! `gopkg.in/evanphx/json-patch.v4` (v4.12.0, `patch.go`). That library's behaviour, quirks
//! included, is reproduced with its messages:
//! - `replace` of a missing object key adds it; `copy` from a missing object key copies
//!   `null`; `add` or `replace` without a `value` writes `null`;
//! - negative array indices count from the end; `-` appends on `add`;
//! - a path whose first segment is not empty (`a/b`) is resolved from the root, ignoring
//!   that segment; the root itself (`""`) can only be replaced (by an object or array) or
//!   tested;
//! - `null` values are treated as missing when walking a path.
//!
//! The patch is atomic: on error the caller's document is untouched (we work on a copy).

use serde_json::{Map, Value};

use crate::error::PatchError;

/// The most operations one JSON patch may hold (apiserver `maxJSONPatchOperations`).
pub const JSON_PATCH_MAX_OPERATIONS: usize = 10_000;

/// The most bytes all `copy` operations of one patch may add: the apiserver sets
/// `jsonpatch.AccumulatedCopySizeLimit` to its `--json-patch-max-copy-bytes`, 3 MiB by default
/// (`staging/src/k8s.io/apiserver/pkg/server/config.go`).
pub const JSON_PATCH_MAX_COPY_BYTES: usize = 3 * 1024 * 1024;

const MISSING: &str = "missing value";
const INVALID_INDEX: &str = "invalid index referenced";
const TEST_FAILED: &str = "test failed";

/// Applies a JSON patch (a JSON array of operations) to `original`.
///
/// Errors: [`PatchError::JsonPatchDecode`] when `operations` is not an array of objects,
/// [`PatchError::JsonPatchTooManyOperations`] past 10000 operations,
/// [`PatchError::JsonPatchApply`] when an operation fails (e.g.
/// `testing value /metadata/resourceVersion failed: test failed`).
pub fn json_patch(original: &Value, operations: &Value) -> Result<Value, PatchError> {
    json_patch_with_copy_limit(original, operations, JSON_PATCH_MAX_COPY_BYTES)
}

/// [`json_patch`] with another limit on the bytes `copy` operations may add (0: no limit).
pub fn json_patch_with_copy_limit(
    original: &Value,
    operations: &Value,
    max_copy_bytes: usize,
) -> Result<Value, PatchError> {
    let operations = decode_patch(operations)?;
    if operations.len() > JSON_PATCH_MAX_OPERATIONS {
        return Err(PatchError::JsonPatchTooManyOperations {
            max: JSON_PATCH_MAX_OPERATIONS,
            got: operations.len(),
        });
    }
    let mut document = match original {
        Value::Object(_) | Value::Array(_) => original.clone(),
        Value::Null if operations.is_empty() => return Ok(Value::Null),
        Value::Null => {
            // Upstream decodes `null` into a nil map and panics on the first write.
            return Err(PatchError::UpstreamPanic {
                message: "assignment to entry in nil map".to_string(),
            });
        }
        other => {
            return Err(apply_error(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.partialDoc",
                json_type_name(other)
            )));
        }
    };
    let mut copy_budget = CopyBudget {
        limit: max_copy_bytes,
        used: 0,
    };
    for operation in operations {
        apply_operation(&mut document, Operation(operation), &mut copy_budget)?;
    }
    Ok(document)
}

fn apply_error(message: String) -> PatchError {
    PatchError::JsonPatchApply { message }
}

/// Go's `encoding/json` name of a JSON value's type, as its type errors print it.
fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Upstream `DecodePatch`: a list of operation objects (`null` entries are kept and fail as
/// an unknown operation).
fn decode_patch(operations: &Value) -> Result<Vec<Option<&Map<String, Value>>>, PatchError> {
    match operations {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(map) => Ok(Some(map)),
                Value::Null => Ok(None),
                other => Err(PatchError::JsonPatchDecode {
                    message: format!(
                        "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                        json_type_name(other)
                    ),
                }),
            })
            .collect(),
        other => Err(PatchError::JsonPatchDecode {
            message: format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                json_type_name(other)
            ),
        }),
    }
}

/// One operation object (`None` for a `null` list entry).
struct Operation<'a>(Option<&'a Map<String, Value>>);

impl Operation<'_> {
    fn get(&self, field: &str) -> Option<&Value> {
        self.0.and_then(|map| map.get(field))
    }

    /// Upstream `Operation.Kind`.
    fn kind(&self) -> String {
        match self.get("op") {
            Some(Value::String(op)) => op.clone(),
            _ => "unknown".to_string(),
        }
    }

    fn string_field(&self, field: &str, missing: &str) -> Result<String, String> {
        match self.get(field) {
            None | Some(Value::Null) => Err(format!("{missing}: {MISSING}")),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "json: cannot unmarshal {} into Go value of type string",
                json_type_name(other)
            )),
        }
    }

    /// Upstream `Operation.Path`.
    fn path(&self) -> Result<String, String> {
        self.string_field("path", "operation missing path field")
    }

    /// Upstream `Operation.From`.
    fn from(&self) -> Result<String, String> {
        self.string_field("from", "operation, missing from field")
    }

    /// The `value` member: `None` when absent, `Some(Null)` for an explicit `null`.
    fn value(&self) -> Option<&Value> {
        self.get("value")
    }

    /// The value written by `add`/`replace`: an absent value writes `null` upstream.
    fn value_or_null(&self) -> Value {
        self.value().cloned().unwrap_or(Value::Null)
    }
}

fn nil_dereference() -> PatchError {
    PatchError::UpstreamPanic {
        message: "runtime error: invalid memory address or nil pointer dereference".to_string(),
    }
}

/// Upstream `AccumulatedCopySizeLimit` accounting: bytes added by `copy` so far.
struct CopyBudget {
    limit: usize,
    used: usize,
}

fn apply_operation(
    document: &mut Value,
    operation: Operation<'_>,
    copy_budget: &mut CopyBudget,
) -> Result<(), PatchError> {
    match operation.kind().as_str() {
        "add" => add(document, &operation),
        "remove" => remove(document, &operation),
        "replace" => replace(document, &operation),
        "move" => move_value(document, &operation),
        "test" => test(document, &operation),
        "copy" => copy(document, &operation, copy_budget),
        other => Err(OperationError::Message(format!("Unexpected kind: {other}"))),
    }
    .map_err(|e| match e {
        OperationError::Message(message) => apply_error(message),
        OperationError::Panic(error) => error,
    })
}

enum OperationError {
    Message(String),
    Panic(PatchError),
}

impl From<String> for OperationError {
    fn from(message: String) -> Self {
        OperationError::Message(message)
    }
}

type OpResult = Result<(), OperationError>;

fn add(document: &mut Value, operation: &Operation<'_>) -> OpResult {
    let path = operation
        .path()
        .map_err(|_| format!("add operation failed to decode path: {MISSING}"))?;
    let Some((container, key)) = find_object(document, &path) else {
        return Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        )
        .into());
    };
    container_add(container, &key, operation.value_or_null())
        .map_err(|e| format!("error in add for path: '{path}': {e}").into())
}

fn remove(document: &mut Value, operation: &Operation<'_>) -> OpResult {
    let path = operation
        .path()
        .map_err(|_| format!("remove operation failed to decode path: {MISSING}"))?;
    let Some((container, key)) = find_object(document, &path) else {
        return Err(format!(
            "remove operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        )
        .into());
    };
    container_remove(container, &key)
        .map_err(|e| format!("error in remove for path: '{path}': {e}").into())
}

fn replace(document: &mut Value, operation: &Operation<'_>) -> OpResult {
    let path = operation
        .path()
        .map_err(|e| format!("replace operation failed to decode path: {e}"))?;
    if path.is_empty() {
        match operation.value() {
            None => return Err(OperationError::Panic(nil_dereference())),
            Some(value @ (Value::Object(_) | Value::Array(_))) => *document = value.clone(),
            // Upstream wraps a nil error here, which yields no error and no change.
            Some(_) => {}
        }
        return Ok(());
    }
    let Some((container, key)) = find_object(document, &path) else {
        return Err(format!(
            "replace operation does not apply: doc is missing path: {path}: {MISSING}"
        )
        .into());
    };
    if container_get(container, &key).is_err() {
        return Err(format!(
            "replace operation does not apply: doc is missing key: {path}: {MISSING}"
        )
        .into());
    }
    container_set(container, &key, operation.value_or_null())
        .map_err(|e| format!("error in remove for path: '{path}': {e}").into())
}

fn move_value(document: &mut Value, operation: &Operation<'_>) -> OpResult {
    let from = operation
        .from()
        .map_err(|e| format!("move operation failed to decode from: {e}"))?;
    let Some((container, key)) = find_object(document, &from) else {
        return Err(format!(
            "move operation does not apply: doc is missing from path: {from}: {MISSING}"
        )
        .into());
    };
    let value = container_get(container, &key)
        .map_err(|e| format!("error in move for path: '{key}': {e}"))?
        .cloned()
        .unwrap_or(Value::Null);
    container_remove(container, &key)
        .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = operation
        .path()
        .map_err(|e| format!("move operation failed to decode path: {e}"))?;
    let Some((container, key)) = find_object(document, &path) else {
        return Err(format!(
            "move operation does not apply: doc is missing destination path: {path}: {MISSING}"
        )
        .into());
    };
    container_add(container, &key, value)
        .map_err(|e| format!("error in move for path: '{path}': {e}").into())
}

fn test(document: &mut Value, operation: &Operation<'_>) -> OpResult {
    let path = operation
        .path()
        .map_err(|e| format!("test operation failed to decode path: {e}"))?;
    let failed = || OperationError::Message(format!("testing value {path} failed: {TEST_FAILED}"));
    if path.is_empty() {
        return match operation.value() {
            None => Err(OperationError::Panic(nil_dereference())),
            Some(expected) if expected == document => Ok(()),
            Some(_) => Err(failed()),
        };
    }
    let Some((container, key)) = find_object(document, &path) else {
        return Err(
            format!("test operation does not apply: is missing path: {path}: {MISSING}").into(),
        );
    };
    let actual = container_get(container, &key)
        .map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    match (actual, operation.value()) {
        // A missing or null value only matches an explicit `null`.
        (None, None) => Err(OperationError::Panic(nil_dereference())),
        (None, Some(Value::Null)) => Ok(()),
        (None, Some(_)) | (Some(_), None) => Err(failed()),
        (Some(actual), Some(expected)) if actual == expected => Ok(()),
        (Some(_), Some(_)) => Err(failed()),
    }
}

fn copy(document: &mut Value, operation: &Operation<'_>, budget: &mut CopyBudget) -> OpResult {
    let from = operation
        .from()
        .map_err(|e| format!("copy operation failed to decode from: {e}"))?;
    let Some((container, key)) = find_object(document, &from) else {
        return Err(format!(
            "copy operation does not apply: doc is missing from path: {from}: {MISSING}"
        )
        .into());
    };
    let value = container_get(container, &key)
        .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
        .cloned()
        .unwrap_or(Value::Null);
    let path = operation
        .path()
        .map_err(|_| format!("copy operation failed to decode path: {MISSING}"))?;
    let Some((container, key)) = find_object(document, &path) else {
        return Err(format!(
            "copy operation does not apply: doc is missing destination path: {path}: {MISSING}"
        )
        .into());
    };
    // Upstream counts the serialized size of the copied value (0 for a missing one).
    if !value.is_null() {
        budget.used += serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(0);
    }
    if budget.limit > 0 && budget.used > budget.limit {
        return Err(format!(
            "Unable to complete the copy, the accumulated size increase of copy is {}, exceeding the limit {}",
            budget.used, budget.limit
        )
        .into());
    }
    container_add(container, &key, value)
        .map_err(|e| format!("error while adding value during copy: {e}").into())
}

/// RFC 6901 token decoding (`~1` → `/`, then `~0` → `~`), as upstream `decodePatchKey`.
fn decode_patch_key(token: &str) -> String {
    // A single left-to-right pass, like Go's strings.Replacer.
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.peek() {
                Some('1') => {
                    out.push('/');
                    chars.next();
                    continue;
                }
                Some('0') => {
                    out.push('~');
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Upstream `findObject`: the container (object or array) holding the last path segment,
/// and that segment decoded. Missing or `null` intermediates, and scalars, yield `None`.
fn find_object<'d>(document: &'d mut Value, path: &str) -> Option<(&'d mut Value, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2 {
        return None;
    }
    let (last, parents) = segments[1..].split_last()?;
    let mut current = document;
    for segment in parents {
        let segment = decode_patch_key(segment);
        let next = match current {
            Value::Object(map) => map.get_mut(&segment)?,
            Value::Array(items) => {
                let index = array_index_for_get(items.len(), &segment).ok()?;
                items.get_mut(index)?
            }
            _ => return None,
        };
        if !(next.is_object() || next.is_array()) {
            return None;
        }
        current = next;
    }
    Some((current, decode_patch_key(last)))
}

/// Go's `strconv.Atoi`.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

fn invalid_index(index: i64) -> String {
    format!("Unable to access invalid index: {index}: {INVALID_INDEX}")
}

/// Upstream `partialArray.get` index rules (also `set`, which follows a successful get).
fn array_index_for_get(len: usize, key: &str) -> Result<usize, String> {
    let len = len as i64;
    let mut index = go_atoi(key)?;
    if index < 0 {
        if index < -len {
            return Err(invalid_index(index));
        }
        index += len;
    }
    if index >= len {
        return Err(invalid_index(index));
    }
    Ok(index as usize)
}

/// Value at `key` of an object or array; `Ok(None)` for a missing object key or a `null`.
fn container_get<'c>(container: &'c Value, key: &str) -> Result<Option<&'c Value>, String> {
    let value = match container {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(array_index_for_get(items.len(), key)?),
        _ => None,
    };
    Ok(value.filter(|v| !v.is_null()))
}

/// Upstream `partialDoc.set` / `partialArray.set` (only used after a successful get).
fn container_set(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => {
            let index = array_index_for_get(items.len(), key)?;
            if let Some(slot) = items.get_mut(index) {
                *slot = value;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Upstream `partialDoc.add` / `partialArray.add`.
fn container_add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let mut index = go_atoi(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = items.len() as i64 + 1;
            if index >= size {
                return Err(invalid_index(index));
            }
            if index < 0 {
                if index < -size {
                    return Err(invalid_index(index));
                }
                index += size;
            }
            items.insert(index as usize, value);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Upstream `partialDoc.remove` / `partialArray.remove`.
fn container_remove(container: &mut Value, key: &str) -> Result<(), String> {
    match container {
        Value::Object(map) => match map.remove(key) {
            Some(_) => Ok(()),
            None => Err(format!(
                "Unable to remove nonexistent key: {key}: {MISSING}"
            )),
        },
        Value::Array(items) => {
            let len = items.len() as i64;
            let mut index = go_atoi(key)?;
            if index >= len {
                return Err(invalid_index(index));
            }
            if index < 0 {
                if index < -len {
                    return Err(invalid_index(index));
                }
                index += len;
            }
            items.remove(index as usize);
            Ok(())
        }
        _ => Ok(()),
    }
}
