//! Read-only accessors over stored JSON objects that never panic.
//!
//! Printers read v1 JSON as served; a missing or mistyped field reads as the Go zero value of the
//! internal type (`""`, `0`, `false`, empty list/map, nil pointer), which is what the upstream printer
//! would see after decoding.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

/// The value at `path`, if every step exists and the leaf is not `null` (a nil pointer in Go).
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let found = path.iter().try_fold(v, |cur, key| cur.get(*key))?;
    (!found.is_null()).then_some(found)
}

/// The string at `path`, if present and a string.
pub(crate) fn opt_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// The string at `path`, or `""`.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    opt_str(v, path).unwrap_or("")
}

/// The integer at `path`, if present and an integer.
pub(crate) fn opt_int(v: &Value, path: &[&str]) -> Option<i64> {
    let found = at(v, path)?;
    found
        .as_i64()
        .or_else(|| found.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
}

/// The integer at `path`, or `0`.
pub(crate) fn int_at(v: &Value, path: &[&str]) -> i64 {
    opt_int(v, path).unwrap_or(0)
}

/// The boolean at `path`, if present and a boolean.
pub(crate) fn opt_bool(v: &Value, path: &[&str]) -> Option<bool> {
    at(v, path).and_then(Value::as_bool)
}

/// The boolean at `path`, or `false`.
pub(crate) fn bool_at(v: &Value, path: &[&str]) -> bool {
    opt_bool(v, path).unwrap_or(false)
}

/// The list at `path`, or an empty list.
pub(crate) fn list_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The number of entries of the object (map) at `path`, or `0`.
pub(crate) fn map_len(v: &Value, path: &[&str]) -> usize {
    at(v, path)
        .and_then(Value::as_object)
        .map_or(0, |m| m.len())
}

/// The string-valued entries of the object at `path`, sorted by key.
pub(crate) fn string_map<'a>(v: &'a Value, path: &[&str]) -> BTreeMap<&'a str, &'a str> {
    at(v, path)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, val)| val.as_str().map(|s| (k.as_str(), s)))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of `annotations[key]` in `metadata`, if present.
pub(crate) fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    opt_str(obj, &["metadata", "annotations", key])
}

/// `metadata.name`.
pub(crate) fn name(obj: &Value) -> &str {
    str_at(obj, &["metadata", "name"])
}

/// A `metav1.Time`/`MicroTime` at `path`; `None` when unset, unparseable or Go's zero time
/// (`0001-01-01T00:00:00Z`), all of which upstream treats as `IsZero()`.
pub(crate) fn time_at(v: &Value, path: &[&str]) -> Option<Timestamp> {
    let ts: Timestamp = opt_str(v, path)?.parse().ok()?;
    (ts != go_zero_time()).then_some(ts)
}

/// Go's zero `time.Time` (year 1, January 1st, UTC).
pub(crate) fn go_zero_time() -> Timestamp {
    // -62135596800 seconds is 0001-01-01T00:00:00Z; it is within jiff's range.
    Timestamp::from_second(-62_135_596_800).unwrap_or(Timestamp::MIN)
}

/// A `resource.Quantity` at `path`, printed as it is stored (`Quantity.String()` of the decoded
/// value); a missing quantity is the zero quantity, `0`.
pub(crate) fn quantity_at(v: &Value, path: &[&str]) -> String {
    match at(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_owned(),
    }
}

/// An optional `*resource.Quantity` printed with `String()`, which is `<nil>` for a nil pointer.
pub(crate) fn quantity_ptr_at(v: &Value, path: &[&str]) -> String {
    match at(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "<nil>".to_owned(),
    }
}

/// An `intstr.IntOrString` printed with `String()`.
pub(crate) fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => "0".to_owned(),
    }
}

/// Whether `metadata.deletionTimestamp` is set.
pub(crate) fn is_deleting(obj: &Value) -> bool {
    at(obj, &["metadata", "deletionTimestamp"]).is_some()
}
