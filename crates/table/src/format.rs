//! Shared cell formatting: labels, label selectors, container lists, timestamps.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use crate::duration::human_duration;
use crate::value::{list_at, str_at, string_map};

/// `translateTimestampSince`: the age of `ts` at `now`, or `<unknown>` for an unset time.
///
/// Upstream: `pkg/printers/internalversion/printers.go` `translateTimestampSince` and
/// `translateMicroTimestampSince` (identical apart from the Go type).
pub(crate) fn age(ts: Option<Timestamp>, now: Timestamp) -> String {
    match ts {
        Some(ts) => human_duration(nanos_between(ts, now)),
        None => "<unknown>".to_owned(),
    }
}

/// `later.Sub(earlier)` as a Go `time.Duration`: nanoseconds, saturating at the `int64` range.
pub(crate) fn nanos_between(earlier: Timestamp, later: Timestamp) -> i64 {
    let diff = later.as_nanosecond() - earlier.as_nanosecond();
    i64::try_from(diff).unwrap_or(if diff < 0 { i64::MIN } else { i64::MAX })
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, comma-separated, or `<none>`.
///
/// Upstream: `staging/src/k8s.io/apimachinery/pkg/labels/labels.go`.
pub(crate) fn format_labels(labels: &BTreeMap<&str, &str>) -> String {
    if labels.is_empty() {
        return "<none>".to_owned();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `layoutContainerCells`: container names and images, each comma-joined.
pub(crate) fn container_cells(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// The containers of the pod template at `template` (`spec.containers`).
pub(crate) fn template_containers<'a>(template: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut full: Vec<&str> = path.to_vec();
    full.extend_from_slice(&["spec", "containers"]);
    list_at(template, &full)
}

/// Why a `metav1.LabelSelector` cannot be converted to a selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidSelector;

/// One label selector requirement (`labels.Requirement`), as far as printing needs it.
struct Requirement<'a> {
    key: &'a str,
    operator: &'static str,
    values: Vec<&'a str>,
}

impl Requirement<'_> {
    /// `Requirement.String()`.
    fn render(&self) -> String {
        let mut out = String::new();
        if self.operator == "!" {
            out.push('!');
        }
        out.push_str(self.key);
        match self.operator {
            "=" => out.push('='),
            "in" => out.push_str(" in "),
            "notin" => out.push_str(" notin "),
            _ => return out,
        }
        let bracketed = matches!(self.operator, "in" | "notin");
        if bracketed {
            out.push('(');
        }
        if self.values.len() == 1 {
            out.push_str(self.values[0]);
        } else {
            // Values print sorted, without reordering the stored selector.
            let mut sorted = self.values.clone();
            sorted.sort_unstable();
            out.push_str(&sorted.join(","));
        }
        if bracketed {
            out.push(')');
        }
        out
    }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: `Ok("")` for a nil (nothing) or empty
/// (everything) selector, `Err` when a requirement is invalid.
///
/// Upstream: `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go` and
/// `staging/src/k8s.io/apimachinery/pkg/labels/selector.go` (`NewRequirement`, `Requirement.String`,
/// `internalSelector.Add` which sorts requirements by key).
pub(crate) fn label_selector_string(selector: Option<&Value>) -> Result<String, InvalidSelector> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut requirements: Vec<Requirement<'_>> = Vec::new();
    for (key, value) in string_map(selector, &["matchLabels"]) {
        requirements.push(checked(key, "=", vec![value])?);
    }
    for expr in list_at(selector, &["matchExpressions"]) {
        let operator = match str_at(expr, &["operator"]) {
            "In" => "in",
            "NotIn" => "notin",
            "Exists" => "exists",
            "DoesNotExist" => "!",
            _ => return Err(InvalidSelector),
        };
        let values: Vec<&str> = list_at(expr, &["values"])
            .iter()
            .map(|v| v.as_str().unwrap_or(""))
            .collect();
        requirements.push(checked(str_at(expr, &["key"]), operator, values)?);
    }
    // Go sorts with sort.Sort(ByKey); for the handful of requirements a selector has that is an
    // insertion sort, i.e. stable, which a stable sort reproduces.
    requirements.sort_by(|a, b| a.key.cmp(b.key));
    Ok(requirements
        .iter()
        .map(Requirement::render)
        .collect::<Vec<_>>()
        .join(","))
}

/// `metav1.FormatLabelSelector`: the selector string, `<none>` when empty, `<error>` when invalid.
pub(crate) fn format_label_selector(selector: Option<&Value>) -> String {
    match label_selector_string(selector) {
        Ok(s) if s.is_empty() => "<none>".to_owned(),
        Ok(s) => s,
        Err(InvalidSelector) => "<error>".to_owned(),
    }
}

/// `labels.NewRequirement` validation: key is a qualified name, values are label values, and the
/// number of values fits the operator.
fn checked<'a>(
    key: &'a str,
    operator: &'static str,
    values: Vec<&'a str>,
) -> Result<Requirement<'a>, InvalidSelector> {
    let count_ok = match operator {
        "in" | "notin" => !values.is_empty(),
        "=" => values.len() == 1,
        _ => values.is_empty(),
    };
    if !count_ok || !is_qualified_name(key) || !values.iter().all(|v| is_valid_label_value(v)) {
        return Err(InvalidSelector);
    }
    Ok(Requirement {
        key,
        operator,
        values,
    })
}

/// `validation.IsQualifiedName`: an optional DNS-1123 subdomain prefix and `/`, then a name of at
/// most 63 characters matching `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
///
/// Upstream: `staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`.
pub(crate) fn is_qualified_name(value: &str) -> bool {
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if !is_dns1123_subdomain(prefix) {
                return false;
            }
            *name
        }
        _ => return false,
    };
    !name.is_empty() && name.len() <= 63 && is_qualified_name_part(name)
}

/// `validation.IsValidLabelValue`: empty, or a qualified-name part of at most 63 characters.
pub(crate) fn is_valid_label_value(value: &str) -> bool {
    value.is_empty() || (value.len() <= 63 && is_qualified_name_part(value))
}

fn is_qualified_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `validation.IsDNS1123Subdomain`: at most 253 characters of dot-separated lowercase labels.
fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    is_lower_alnum(*first)
                        && is_lower_alnum(*last)
                        && bytes.iter().all(|b| is_lower_alnum(*b) || *b == b'-')
                }
                _ => false,
            }
        })
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `net.JoinHostPort`: brackets hosts that contain a colon (IPv6).
pub(crate) fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `listWithMoreString`: the first items, then ` + N more...` when truncated, `<unset>` when empty.
pub(crate) fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count.saturating_sub(max));
    }
    if joined.is_empty() {
        return "<unset>".to_owned();
    }
    joined
}

/// Go's `%d` of a count that is known to fit.
pub(crate) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
