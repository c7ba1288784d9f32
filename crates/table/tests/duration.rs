//! `HumanDuration` / `ShortHumanDuration` tables, transcribed from
//! `staging/src/k8s.io/apimachinery/pkg/util/duration/duration_test.go` (Kubernetes 1.34), and
//! `TestTranslateTimestampSince` from `pkg/printers/internalversion/printers_test.go`.

mod common;

use kubetwin_table::duration::{human_duration, short_human_duration};
use serde_json::json;

const NS: i64 = 1;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;

fn check(upstream: &str, f: fn(i64) -> String, cases: &[(i64, &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter(|(d, want)| f(*d) != *want)
        .map(|(d, want)| format!("{upstream}: {d}ns: want {want}, got {}", f(*d)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn test_human_duration() {
    check(
        "TestHumanDuration",
        human_duration,
        &[
            (S, "1s"),
            (70 * S, "70s"),
            (190 * S, "3m10s"),
            (70 * M, "70m"),
            (47 * H, "47h"),
            (49 * H, "2d1h"),
            ((8 * 24 + 2) * H, "8d"),
            ((367 * 24) * H, "367d"),
            ((365 * 2 * 24 + 25) * H, "2y1d"),
            ((365 * 8 * 24 + 2) * H, "8y"),
        ],
    );
}

#[test]
fn test_human_duration_boundaries() {
    check(
        "TestHumanDurationBoundaries",
        human_duration,
        &[
            (-2 * S, "<invalid>"),
            (-2 * S + NS, "0s"),
            (0, "0s"),
            (S - MS, "0s"),
            (2 * M - MS, "119s"),
            (2 * M, "2m"),
            (2 * M + S, "2m1s"),
            (10 * M - MS, "9m59s"),
            (10 * M, "10m"),
            (10 * M + S, "10m"),
            (3 * H - MS, "179m"),
            (3 * H, "3h"),
            (3 * H + M, "3h1m"),
            (8 * H - MS, "7h59m"),
            (8 * H, "8h"),
            (8 * H + 59 * M, "8h"),
            (2 * 24 * H - MS, "47h"),
            (2 * 24 * H, "2d"),
            (2 * 24 * H + H, "2d1h"),
            (8 * 24 * H - MS, "7d23h"),
            (8 * 24 * H, "8d"),
            (8 * 24 * H + 23 * H, "8d"),
            (2 * 365 * 24 * H - MS, "729d"),
            (2 * 365 * 24 * H, "2y"),
            (2 * 365 * 24 * H + 23 * H, "2y"),
            (2 * 365 * 24 * H + 23 * H + 59 * M, "2y"),
            (2 * 365 * 24 * H + 24 * H - MS, "2y"),
            (2 * 365 * 24 * H + 24 * H, "2y1d"),
            (3 * 365 * 24 * H, "3y"),
            (4 * 365 * 24 * H, "4y"),
            (5 * 365 * 24 * H, "5y"),
            (6 * 365 * 24 * H, "6y"),
            (7 * 365 * 24 * H, "7y"),
            (8 * 365 * 24 * H - MS, "7y364d"),
            (8 * 365 * 24 * H, "8y"),
            (8 * 365 * 24 * H + 364 * 24 * H, "8y"),
            (9 * 365 * 24 * H, "9y"),
        ],
    );
}

#[test]
fn test_short_human_duration_boundaries() {
    check(
        "TestShortHumanDurationBoundaries",
        short_human_duration,
        &[
            (-2 * S, "<invalid>"),
            (-2 * S + NS, "0s"),
            (0, "0s"),
            (S - MS, "0s"),
            (S, "1s"),
            (2 * S - MS, "1s"),
            (M - MS, "59s"),
            (M, "1m"),
            (2 * M - MS, "1m"),
            (H - MS, "59m"),
            (H, "1h"),
            (2 * H - MS, "1h"),
            (24 * H - MS, "23h"),
            (24 * H, "1d"),
            (2 * 24 * H - MS, "1d"),
            (365 * 24 * H - MS, "364d"),
            (365 * 24 * H, "1y"),
            (2 * 365 * 24 * H - MS, "1y"),
            (2 * 365 * 24 * H, "2y"),
        ],
    );
}

/// Extremes must not overflow or panic.
#[test]
fn extreme_durations() {
    assert_eq!(human_duration(i64::MIN), "<invalid>");
    assert_eq!(human_duration(i64::MAX), "292y");
    assert_eq!(short_human_duration(i64::MAX), "292y");
}

/// `TestTranslateTimestampSince`, through a namespace's Age cell (the printer's only use of it).
#[test]
fn test_translate_timestamp_since() {
    use common::*;
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("a while from now", Some(at_offset(2.1)), "<invalid>"),
        ("almost now", Some(at_offset(1.9)), "0s"),
        ("now", Some(at_offset(0.0)), "0s"),
        ("unknown", None, "<unknown>"),
        ("30 seconds ago", Some(ago(30.0)), "30s"),
        ("5 minutes ago", Some(ago(300.0)), "5m"),
        ("an hour ago", Some(ago(6000.0)), "100m"),
        ("2 days ago", Some(add_date(0, -2)), "2d"),
        ("months ago", Some(add_date(0, -90)), "90d"),
        ("10 years ago", Some(ago(10.0 * YEAR_365)), "10y"),
    ];
    for (name, created, want) in cases {
        let obj = match created {
            Some(ts) => json!({"metadata": {"name": "ns", "creationTimestamp": ts}}),
            None => json!({"metadata": {"name": "ns"}}),
        };
        let cells = wide_cells("", "namespaces", &obj);
        assert_eq!(
            cells[2],
            json!(want),
            "TestTranslateTimestampSince / {name}"
        );
    }
}
