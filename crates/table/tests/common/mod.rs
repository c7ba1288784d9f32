//! Helpers shared by the table tests: a fixed "now" and timestamps relative to it.

#![allow(dead_code)]

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// The instant every test measures ages against (upstream tests use `time.Now()`).
pub fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().expect("valid timestamp")
}

/// An RFC 3339 timestamp `seconds` after [`now`] (negative: in the past).
pub fn at_offset(seconds: f64) -> String {
    let nanos = (seconds * 1e9).round() as i64;
    let ts = now()
        .checked_add(SignedDuration::from_nanos(nanos))
        .expect("in range");
    ts.to_string()
}

/// `seconds` in the past.
pub fn ago(seconds: f64) -> String {
    at_offset(-seconds)
}

pub const MINUTE: f64 = 60.0;
pub const HOUR: f64 = 3600.0;
pub const DAY: f64 = 86400.0;
pub const YEAR_365: f64 = 365.0 * DAY;

/// Go's `time.Now().AddDate(years, 0, days)` relative to [`now`], as a timestamp string.
pub fn add_date(years: i16, days: i32) -> String {
    let zoned = now().to_zoned(jiff::tz::TimeZone::UTC);
    let shifted = zoned
        .checked_add(jiff::Span::new().years(years).days(days))
        .expect("in range");
    shifted.timestamp().to_string()
}

/// All cells (the server's wide set) of `obj`.
pub fn wide_cells(group: &str, resource: &str, obj: &Value) -> Vec<Value> {
    kubetwin_table::row_cells(group, resource, obj, now()).expect("printable")
}

/// The cells upstream's printer returns without `Wide`.
pub fn narrow_cells(group: &str, resource: &str, obj: &Value) -> Vec<Value> {
    kubetwin_table::row_cells_with_options(
        group,
        resource,
        obj,
        now(),
        kubetwin_table::GenerateOptions { wide: false },
    )
    .expect("printable")
}

/// One transcribed case: the object, whether upstream printed it wide, and the expected cells.
pub struct Case {
    pub name: &'static str,
    pub obj: Value,
    pub wide: bool,
    pub want: Value,
}

/// Runs `cases` against the printer for `group`/`resource`, naming the upstream test on failure.
pub fn run(upstream_test: &str, group: &str, resource: &str, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in &cases {
        let got = if case.wide {
            wide_cells(group, resource, &case.obj)
        } else {
            narrow_cells(group, resource, &case.obj)
        };
        let want = case.want.as_array().cloned().unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{upstream_test} / {}:\n  want {}\n  got  {}",
                case.name,
                Value::Array(want),
                Value::Array(got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
