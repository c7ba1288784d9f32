//! Durations written the way Kubernetes configuration writes them (Go's `time.Duration`
//! text form: `500ms`, `30s`, `1m30s`, `2h`), for knobs and pod annotations.
//!
//! Upstream: Go `time.ParseDuration` / `Duration.String` (the format of `metav1.Duration` in
//! KubeletConfiguration). Negative durations are rejected: no kubelet timing is negative.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {why}")]
pub struct DurationError {
    /// The text.
    pub input: String,
    /// What is wrong.
    pub why: &'static str,
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration (`1h2m3.5s`, `250ms`, `0`). A bare number is accepted only for `0`,
/// as in Go.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = |why| DurationError {
        input: input.to_string(),
        why,
    };
    let mut rest = input.trim();
    if let Some(stripped) = rest.strip_prefix('+') {
        rest = stripped;
    }
    if rest.starts_with('-') {
        return Err(err("negative durations are not allowed"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(err("empty"));
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err("missing unit"))?;
        if digits_end == 0 {
            return Err(err("expected a number"));
        }
        let number = &rest[..digits_end];
        rest = &rest[digits_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale = unit_nanos(unit).ok_or_else(|| err("unknown unit"))?;
        let (whole, frac) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
            return Err(err("expected a number"));
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err("number too large"))?
        };
        let mut part = whole.checked_mul(scale).ok_or_else(|| err("overflow"))?;
        // The fraction as digits over a power of ten; digits past the 18th cannot matter
        // at nanosecond precision.
        let (mut digits, mut power) = (0u128, 1u128);
        for digit in frac.bytes().take(18) {
            digits = digits * 10 + u128::from(digit - b'0');
            power *= 10;
        }
        part += digits * scale / power;
        total = total.checked_add(part).ok_or_else(|| err("overflow"))?;
    }
    // Go durations are int64 nanoseconds.
    if total > i64::MAX as u128 {
        return Err(err("overflow"));
    }
    let nanos = u64::try_from(total).map_err(|_| err("overflow"))?;
    Ok(Duration::from_nanos(nanos))
}

/// Formats a duration as Go's `Duration.String` does (`1m30s`, `500ms`, `0s`).
pub fn format(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000_000_000 {
        let (value, unit) = if nanos < 1_000 {
            return format!("{nanos}ns");
        } else if nanos < 1_000_000 {
            (nanos, 1_000u128)
        } else {
            (nanos, 1_000_000u128)
        };
        let suffix = if unit == 1_000 { "µs" } else { "ms" };
        return format!("{}{}", fraction(value, unit), suffix);
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let seconds_nanos = nanos % 60_000_000_000;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{}s", fraction(seconds_nanos, 1_000_000_000)));
    out
}

/// `value / unit` as a decimal without trailing zeros.
fn fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let mut frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let mut digits = String::new();
    let mut scale = unit / 10;
    while frac > 0 && scale > 0 {
        digits.push(char::from(b'0' + (frac / scale) as u8));
        frac %= scale;
        scale /= 10;
    }
    format!("{whole}.{digits}")
}

/// Serde helpers for a `Duration` field written as a Go duration string.
pub mod serde_go {
    use super::*;

    /// Serializes as a Go duration string.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }

    /// Deserializes from a Go duration string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cases from Go's `time` package tests (`parseDurationTests`), non-negative ones.
    #[test]
    fn parses_go_durations() {
        let ms = |n: u64| Duration::from_millis(n);
        let cases: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("5s", Duration::from_secs(5)),
            ("30s", Duration::from_secs(30)),
            ("1478s", Duration::from_secs(1478)),
            ("+5s", Duration::from_secs(5)),
            ("5.0s", Duration::from_secs(5)),
            ("5.6s", ms(5600)),
            ("5.s", Duration::from_secs(5)),
            (".5s", ms(500)),
            ("1.004s", ms(1004)),
            ("100.00100s", ms(100_001)),
            ("10ns", Duration::from_nanos(10)),
            ("11us", Duration::from_micros(11)),
            ("12µs", Duration::from_micros(12)),
            ("13ms", ms(13)),
            ("14s", Duration::from_secs(14)),
            ("15m", Duration::from_secs(15 * 60)),
            ("16h", Duration::from_secs(16 * 3600)),
            ("3h30m", Duration::from_secs(3 * 3600 + 30 * 60)),
            ("10.5s4m", Duration::from_secs(4 * 60) + ms(10_500)),
            ("1h2m3s4ms5us6ns", Duration::new(3723, 4_005_006)),
            (
                "39h9m14.425s",
                Duration::from_secs(39 * 3600 + 9 * 60 + 14) + ms(425),
            ),
            ("52763797000ns", Duration::from_nanos(52_763_797_000)),
            ("0.5h", Duration::from_secs(30 * 60)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).as_ref(), Ok(want), "{text}");
        }
    }

    /// Failures from Go's `parseDurationErrorTests`, plus negatives (refused here).
    #[test]
    fn rejects_bad_durations() {
        for text in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "-1s",
            "3000000h",
            "9223372036854775810ns",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(Duration, &str)] = &[
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(1100), "1.1µs"),
            (Duration::from_micros(2200), "2.2ms"),
            (Duration::from_millis(3300), "3.3s"),
            (Duration::from_secs(4 * 60 + 5), "4m5s"),
            (Duration::from_millis(4 * 60_000 + 5_001), "4m5.001s"),
            (
                Duration::from_secs(5 * 3600 + 6 * 60 + 7) + Duration::from_millis(1),
                "5h6m7.001s",
            ),
            (
                Duration::from_secs(8 * 60) + Duration::from_nanos(1),
                "8m0.000000001s",
            ),
            (Duration::from_secs(3600), "1h0m0s"),
        ];
        for (d, want) in cases {
            assert_eq!(format(*d), *want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse(&s);
        }

        #[test]
        fn format_then_parse_round_trips(nanos in 0u64..=10_000_000_000_000_000) {
            let d = Duration::from_nanos(nanos);
            prop_assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
