//! Go-style durations (`300ms`, `1.5s`, `2m30s`), as kubelet configuration and `metav1.Duration`
//! write them.
//!
//! Upstream: `src/time/format.go` (`ParseDuration`, `leadingInt`, `leadingFraction`) and
//! `src/time/time.go` (`Duration.String`) in the Go standard library. Parsing follows Go exactly,
//! including signs, fractions of any unit, the float64 step for fractions and every overflow
//! check; [`SpecDuration`] then rejects negative values, which no knob of ours accepts.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// `1 << 63`, the magnitude of the most negative Go duration.
const MAGNITUDE_LIMIT: u64 = 1 << 63;

/// A duration that failed to parse, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// `time: invalid duration "x"`
    #[error("time: invalid duration {0}")]
    Invalid(String),
    /// `time: missing unit in duration "1"`
    #[error("time: missing unit in duration {0}")]
    MissingUnit(String),
    /// `time: unknown unit "d" in duration "1d"`
    #[error("time: unknown unit {unit} in duration {input}")]
    UnknownUnit {
        /// The quoted unknown unit.
        unit: String,
        /// The quoted whole input.
        input: String,
    },
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => NANOSECOND,
        // U+00B5 (micro sign) and U+03BC (Greek small letter mu) are both accepted.
        "us" | "\u{b5}s" | "\u{3bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// Consumes leading ASCII digits; `None` on overflow past `1 << 63` (Go's `errLeadingInt`).
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    let mut index = 0;
    while index < s.len() && s[index].is_ascii_digit() {
        if value > MAGNITUDE_LIMIT / 10 {
            return None;
        }
        value = value * 10 + u64::from(s[index] - b'0');
        if value > MAGNITUDE_LIMIT {
            return None;
        }
        index += 1;
    }
    Some((value, &s[index..]))
}

/// Consumes leading digits after a decimal point: the digits kept before they would overflow,
/// the matching power of ten, and the rest of the input.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut value: u64 = 0;
    let mut scale = 1.0_f64;
    let mut overflow = false;
    let mut index = 0;
    while index < s.len() && s[index].is_ascii_digit() {
        let digit = u64::from(s[index] - b'0');
        index += 1;
        if overflow {
            continue;
        }
        if value > (MAGNITUDE_LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + digit;
        if next > MAGNITUDE_LIMIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, &s[index..])
}

/// Parses a Go duration string into signed nanoseconds (`time.ParseDuration`).
pub fn parse_go_duration(input: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid(quote(input));
    let mut rest = input.as_bytes();
    let mut negative = false;
    if let Some(&sign) = rest.first()
        && (sign == b'-' || sign == b'+')
    {
        negative = sign == b'-';
        rest = &rest[1..];
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before_int = rest.len();
        let (mut value, after_int) = leading_int(rest).ok_or_else(invalid)?;
        rest = after_int;
        let had_int = before_int != rest.len();
        let mut fraction = 0;
        let mut scale = 1.0;
        let mut had_fraction = false;
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            let before_fraction = rest.len();
            let (f, s, after_fraction) = leading_fraction(rest);
            fraction = f;
            scale = s;
            rest = after_fraction;
            had_fraction = before_fraction != rest.len();
        }
        if !had_int && !had_fraction {
            return Err(invalid());
        }
        let unit_len = rest
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(quote(input)));
        }
        let unit_bytes = &rest[..unit_len];
        rest = &rest[unit_len..];
        // The unit ends before an ASCII byte, so it is whole UTF-8 characters.
        let unit_text = String::from_utf8_lossy(unit_bytes);
        let unit = unit_nanos(&unit_text).ok_or_else(|| DurationError::UnknownUnit {
            unit: quote(&unit_text),
            input: quote(input),
        })?;
        if value > MAGNITUDE_LIMIT / unit {
            return Err(invalid());
        }
        value *= unit;
        if fraction > 0 {
            // Go converts through float64 here: nanosecond-exact for fractions of an hour.
            // `as` saturates, and the sum is checked right below.
            let extra = (fraction as f64 * (unit as f64 / scale)) as u64;
            value = value.saturating_add(extra);
            if value > MAGNITUDE_LIMIT {
                return Err(invalid());
            }
        }
        total = total.saturating_add(value);
        if total > MAGNITUDE_LIMIT {
            return Err(invalid());
        }
    }
    if negative {
        // total ≤ 1 << 63, so the negation fits.
        return Ok((total as i128).wrapping_neg() as i64);
    }
    if total > MAGNITUDE_LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Formats signed nanoseconds as Go's `Duration.String` does (`1h0m0s`, `1.5s`, `300ms`).
pub fn format_go_duration(nanos: i64) -> String {
    let negative = nanos < 0;
    let magnitude = nanos.unsigned_abs();
    let mut out = String::new();
    if magnitude < SECOND {
        let (unit, precision) = match magnitude {
            0 => return "0s".to_string(),
            m if m < MICROSECOND => ("ns", 0),
            m if m < MILLISECOND => ("\u{b5}s", 3),
            _ => ("ms", 6),
        };
        let (whole, fraction) = split_fraction(magnitude, precision);
        out.push_str(&whole.to_string());
        out.push_str(&fraction);
        out.push_str(unit);
    } else {
        let (seconds_total, fraction) = split_fraction(magnitude, 9);
        let seconds = seconds_total % 60;
        let minutes_total = seconds_total / 60;
        if minutes_total > 0 {
            let minutes = minutes_total % 60;
            let hours = minutes_total / 60;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&format!("{seconds}{fraction}s"));
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

/// Splits `value / 10^precision` into its integer part and `.digits` without trailing zeros
/// (empty when the fraction is zero), as Go's `fmtFrac`.
fn split_fraction(value: u64, precision: u32) -> (u64, String) {
    let divisor = 10_u64.pow(precision);
    let whole = value / divisor;
    let fraction = value % divisor;
    if fraction == 0 {
        return (whole, String::new());
    }
    let digits = format!("{fraction:0width$}", width = precision as usize);
    (whole, format!(".{}", digits.trim_end_matches('0')))
}

/// A non-negative duration written the Go way in the spec (`imagePullDelay: 2s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct SpecDuration(pub Duration);

impl SpecDuration {
    /// Parses a Go duration that must not be negative.
    pub fn parse(text: &str) -> Result<Self, String> {
        let nanos = parse_go_duration(text).map_err(|e| e.to_string())?;
        if nanos < 0 {
            return Err(format!(
                "invalid duration {}: must not be negative",
                quote(text)
            ));
        }
        Ok(Self(Duration::from_nanos(nanos.unsigned_abs())))
    }

    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl fmt::Display for SpecDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Spec durations come from i64 nanoseconds, so this never saturates in practice.
        let nanos = i64::try_from(self.0.as_nanos()).unwrap_or(i64::MAX);
        f.write_str(&format_go_duration(nanos))
    }
}

impl Serialize for SpecDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SpecDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SpecDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"300ms\", \"2s\" or \"1m30s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SpecDuration, E> {
                SpecDuration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SpecDuration, E> {
                // A bare `0` is the one unitless duration Go accepts.
                if v == 0 {
                    Ok(SpecDuration::default())
                } else {
                    Err(E::custom(DurationError::MissingUnit(quote(&v.to_string()))))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SpecDuration, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(DurationError::MissingUnit(quote(&v.to_string())))),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Transcribed from Go `parseDurationTests` (src/time/time_test.go): input → nanoseconds.
    const PARSE_OK: &[(&str, i64)] = &[
        ("0", 0),
        ("5s", 5 * SECOND as i64),
        ("30s", 30 * SECOND as i64),
        ("1478s", 1478 * SECOND as i64),
        ("-5s", -5 * SECOND as i64),
        ("+5s", 5 * SECOND as i64),
        ("-0", 0),
        ("+0", 0),
        ("5.0s", 5 * SECOND as i64),
        ("5.6s", (5 * SECOND + 600 * MILLISECOND) as i64),
        ("5.s", 5 * SECOND as i64),
        (".5s", 500 * MILLISECOND as i64),
        ("1.0s", SECOND as i64),
        ("1.00s", SECOND as i64),
        ("1.004s", (SECOND + 4 * MILLISECOND) as i64),
        ("1.0040s", (SECOND + 4 * MILLISECOND) as i64),
        ("100.00100s", (100 * SECOND + MILLISECOND) as i64),
        ("10ns", 10),
        ("11us", 11 * MICROSECOND as i64),
        ("12\u{b5}s", 12 * MICROSECOND as i64),
        ("12\u{3bc}s", 12 * MICROSECOND as i64),
        ("13ms", 13 * MILLISECOND as i64),
        ("14s", 14 * SECOND as i64),
        ("15m", 15 * MINUTE as i64),
        ("16h", 16 * HOUR as i64),
        ("3h30m", (3 * HOUR + 30 * MINUTE) as i64),
        (
            "10.5s4m",
            (4 * MINUTE + 10 * SECOND + 500 * MILLISECOND) as i64,
        ),
        (
            "-2m3.4s",
            -((2 * MINUTE + 3 * SECOND + 400 * MILLISECOND) as i64),
        ),
        (
            "1h2m3s4ms5us6ns",
            (HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6) as i64,
        ),
        (
            "39h9m14.425s",
            (39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND) as i64,
        ),
        ("52763797000ns", 52_763_797_000),
        ("0.3333333333333333333h", 20 * MINUTE as i64),
        ("9007199254740993ns", (1 << 53) + 1),
        ("9223372036854775807ns", i64::MAX),
        ("9223372036854775.807us", i64::MAX),
        ("9223372036s854ms775us807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("-9223372036854775.808us", i64::MIN),
        ("-9223372036s854ms775us808ns", i64::MIN),
        ("-2562047h47m16.854775808s", i64::MIN),
        ("0.100000000000000000000h", 6 * MINUTE as i64),
        (
            "0.830103483285477580700h",
            (49 * MINUTE + 48 * SECOND + 372_539_827) as i64,
        ),
    ];

    /// Transcribed from Go `parseDurationErrorTests` (src/time/time_test.go): input → message.
    const PARSE_ERR: &[(&str, &str)] = &[
        ("", r#"time: invalid duration """#),
        ("3", r#"time: missing unit in duration "3""#),
        ("-", r#"time: invalid duration "-""#),
        ("s", r#"time: invalid duration "s""#),
        (".", r#"time: invalid duration ".""#),
        ("-.", r#"time: invalid duration "-.""#),
        (".s", r#"time: invalid duration ".s""#),
        ("+.s", r#"time: invalid duration "+.s""#),
        ("1d", r#"time: unknown unit "d" in duration "1d""#),
        (
            "9223372036854775810ns",
            r#"time: invalid duration "9223372036854775810ns""#,
        ),
        (
            "9223372036854775808ns",
            r#"time: invalid duration "9223372036854775808ns""#,
        ),
        (
            "-9223372036854775809ns",
            r#"time: invalid duration "-9223372036854775809ns""#,
        ),
        (
            "9223372036854776us",
            r#"time: invalid duration "9223372036854776us""#,
        ),
        ("3000000h", r#"time: invalid duration "3000000h""#),
        (
            "9223372036854775.808us",
            r#"time: invalid duration "9223372036854775.808us""#,
        ),
        (
            "9223372036854ms775us808ns",
            r#"time: invalid duration "9223372036854ms775us808ns""#,
        ),
    ];

    #[test]
    fn parse_duration_matches_go() {
        for (input, want) in PARSE_OK {
            assert_eq!(
                parse_go_duration(input),
                Ok(*want),
                "ParseDuration({input:?})"
            );
        }
    }

    #[test]
    fn parse_duration_errors_match_go() {
        for (input, want) in PARSE_ERR {
            let got = parse_go_duration(input).map_err(|e| e.to_string());
            assert_eq!(got, Err(want.to_string()), "ParseDuration({input:?})");
        }
    }

    /// Transcribed from Go `durationTests` (src/time/time_test.go): nanoseconds → String().
    #[test]
    fn format_duration_matches_go() {
        let cases: &[(&str, i64)] = &[
            ("0s", 0),
            ("1ns", 1),
            ("1.1\u{b5}s", 1100),
            ("2.2ms", 2_200_000),
            ("3.3s", 3_300_000_000),
            ("4m5s", (4 * MINUTE + 5 * SECOND) as i64),
            ("4m5.001s", (4 * MINUTE + 5001 * MILLISECOND) as i64),
            (
                "5h6m7.001s",
                (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND) as i64,
            ),
            ("8m0.000000001s", (8 * MINUTE + 1) as i64),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
        ];
        for (want, nanos) in cases {
            assert_eq!(
                format_go_duration(*nanos),
                *want,
                "Duration({nanos}).String()"
            );
        }
    }

    /// Go's `TestParseDurationRoundTrip`: String() output parses back to the same value.
    #[test]
    fn format_then_parse_round_trips() {
        for (_, nanos) in PARSE_OK {
            assert_eq!(parse_go_duration(&format_go_duration(*nanos)), Ok(*nanos));
        }
    }

    #[test]
    fn spec_duration_rejects_negative() {
        assert_eq!(
            SpecDuration::parse("-1s"),
            Err(r#"invalid duration "-1s": must not be negative"#.to_string())
        );
        assert_eq!(
            SpecDuration::parse("1m30s").map(|d| d.to_string()),
            Ok("1m30s".to_string())
        );
    }
}
