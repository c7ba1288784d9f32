//! How Go sees a decoded JSON value (`interface{}` holding `map`, slice, `string`, `int64`,
//! `float64`, `bool` or `nil`), so that comparisons, sets and messages behave as upstream.
//!
//! The apiserver decodes JSON with `k8s.io/apimachinery/pkg/util/json`, which turns whole
//! numbers into `int64` and every other number into `float64`; `==` on two interface values
//! compares dynamic types first and panics on two maps or two slices; a map keyed by
//! `interface{}` panics on a map or slice key. Messages print values with `fmt`'s `%v`.

use std::cmp::Ordering;

use serde_json::Value;

use crate::error::PatchError;

/// The dynamic Go type of a decoded JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoKind {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Map,
    Slice,
}

/// The Go type a JSON value decodes to.
pub(crate) fn go_kind(value: &Value) -> GoKind {
    match value {
        Value::Null => GoKind::Nil,
        Value::Bool(_) => GoKind::Bool,
        Value::Number(n) if n.is_i64() => GoKind::Int64,
        Value::Number(_) => GoKind::Float64,
        Value::String(_) => GoKind::String,
        Value::Array(_) => GoKind::Slice,
        Value::Object(_) => GoKind::Map,
    }
}

/// The Go type name as `reflect.TypeOf(v)` prints it with `%s`.
pub(crate) fn go_type_name(value: &Value) -> &'static str {
    match go_kind(value) {
        GoKind::Nil => "%!s(<nil>)",
        GoKind::Bool => "bool",
        GoKind::Int64 => "int64",
        GoKind::Float64 => "float64",
        GoKind::String => "string",
        GoKind::Map => "map[string]interface {}",
        GoKind::Slice => "[]interface {}",
    }
}

/// The Go type of a JSON object, as upstream's messages print it.
pub(crate) const GO_MAP_TYPE: &str = "map[string]interface {}";
/// The Go type of a JSON array, as upstream's messages print it.
pub(crate) const GO_SLICE_TYPE: &str = "[]interface {}";

fn as_float(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// Go's `a == b` on two `interface{}` values: different dynamic types are unequal, two maps
/// or two slices make Go panic (returned as [`PatchError::UpstreamPanic`]).
pub(crate) fn go_eq(a: &Value, b: &Value) -> Result<bool, PatchError> {
    let kind = go_kind(a);
    if kind != go_kind(b) {
        return Ok(false);
    }
    match kind {
        GoKind::Map | GoKind::Slice => Err(PatchError::UpstreamPanic {
            message: format!(
                "runtime error: comparing uncomparable type {}",
                go_type_name(a)
            ),
        }),
        GoKind::Nil => Ok(true),
        GoKind::Int64 => Ok(a.as_i64() == b.as_i64()),
        GoKind::Float64 => Ok(as_float(a) == as_float(b)),
        GoKind::Bool | GoKind::String => Ok(a == b),
    }
}

/// A hashable Go scalar: the key of a Go `map[interface{}]...` set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GoKey {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl GoKey {
    fn rank(&self) -> u8 {
        match self {
            GoKey::Nil => 0,
            GoKey::Bool(_) => 1,
            GoKey::Int(_) => 2,
            GoKey::Float(_) => 3,
            GoKey::Str(_) => 4,
        }
    }
}

impl Eq for GoKey {}

impl PartialOrd for GoKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GoKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (GoKey::Bool(a), GoKey::Bool(b)) => a.cmp(b),
            (GoKey::Int(a), GoKey::Int(b)) => a.cmp(b),
            (GoKey::Float(a), GoKey::Float(b)) => a.total_cmp(b),
            (GoKey::Str(a), GoKey::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// The set key of a value; maps and slices make Go panic ("hash of unhashable type").
pub(crate) fn go_key(value: &Value) -> Result<GoKey, PatchError> {
    Ok(match value {
        Value::Null => GoKey::Nil,
        Value::Bool(b) => GoKey::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => GoKey::Int(i),
            // Go map keys compare floats with ==, so -0 and +0 are one key.
            None => GoKey::Float(as_float(value) + 0.0),
        },
        Value::String(s) => GoKey::Str(s.clone()),
        Value::Array(_) | Value::Object(_) => {
            return Err(PatchError::UpstreamPanic {
                message: format!(
                    "runtime error: hash of unhashable type {}",
                    go_type_name(value)
                ),
            });
        }
    })
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which `%v` uses for a `float64`.
pub(crate) fn go_format_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".to_string()
        } else if f > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Go's shortest mode does.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    // Shortest 'g' switches to the %e form when exp < -4 || exp >= 6 (strconv/ftoa.go).
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs());
    }
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = exponent as usize + 1;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        let (int_part, frac_part) = digits.split_at(point);
        format!("{sign}{int_part}.{frac_part}")
    }
}

fn format_number(value: &Value) -> String {
    match value.as_i64() {
        Some(i) => i.to_string(),
        None => go_format_float(as_float(value)),
    }
}

/// `fmt.Sprintf("%v", v)` for a decoded JSON value.
pub(crate) fn go_fmt_v(value: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, value);
    out
}

fn write_v(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(_) => out.push_str(&format_number(value)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            // fmt prints map keys sorted.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_v(out, v);
                }
            }
            out.push(']');
        }
    }
}

/// `fmt.Sprintf("%v", lists)` for a `[][]interface{}`.
pub(crate) fn go_fmt_v_lists(lists: &[&[Value]]) -> String {
    let parts: Vec<String> = lists
        .iter()
        .map(|list| go_fmt_v(&Value::Array(list.to_vec())))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// `fmt.Sprintf("%s", v)` for a decoded JSON value (non-strings print as `%!s(type=v)`).
pub(crate) fn go_fmt_s(value: &Value) -> String {
    match value {
        Value::Null => "%!s(<nil>)".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => {
            format!("%!s({}={})", go_type_name(value), go_fmt_v(value))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_fmt_s).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", map.get(k).map(go_fmt_s).unwrap_or_default()))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `sort.SliceStable`: insertion sort on blocks of 20, then SymMerge
/// (Upstream: Go `src/sort/zsortfunc.go`, `stable_func`). The exact algorithm matters
/// because strategic merge patch sorts with a comparison that is not a strict weak order.
pub(crate) fn go_slice_stable<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let mut block_size = 20;
    let (mut a, mut b) = (0, block_size);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block_size;
    }
    insertion_sort(data, a, n, &less);
    while block_size < n {
        a = 0;
        b = 2 * block_size;
        while b <= n {
            sym_merge(data, a, a + block_size, b, &less);
            a = b;
            b += 2 * block_size;
        }
        let m = a + block_size;
        if m < n {
            sym_merge(data, a, m, n, &less);
        }
        block_size *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    if m - a == 1 {
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = a;
        while k + 1 < i {
            data.swap(k, k + 1);
            k += 1;
        }
        return;
    }
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_like_go_percent_v() {
        assert_eq!(
            go_fmt_v(&json!({"b": [1, "x"], "a": null})),
            "map[a:<nil> b:[1 x]]"
        );
        assert_eq!(go_fmt_s(&json!(1)), "%!s(int64=1)");
        assert_eq!(go_format_float(1.5), "1.5");
        assert_eq!(go_format_float(1e21), "1e+21");
        assert_eq!(go_format_float(1e6), "1e+06");
        assert_eq!(go_format_float(123456.0), "123456");
        assert_eq!(go_format_float(123456789.0), "1.23456789e+08");
        assert_eq!(go_format_float(0.0001), "0.0001");
        assert_eq!(go_format_float(0.00001), "1e-05");
    }

    #[test]
    fn stable_sort_sorts_and_keeps_ties() {
        let mut v: Vec<(u32, u32)> = (0..100).map(|i| ((i * 37) % 10, i)).collect();
        go_slice_stable(&mut v, |a, b| a.0 < b.0);
        for w in v.windows(2) {
            assert!(w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1));
        }
    }
}
