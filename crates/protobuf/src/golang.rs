//! The bits of Go's standard library whose exact output the JSON encoding relies on:
//! `time.Time.Format` for RFC 3339 (seconds and microseconds), `time.Duration.String`,
//! `encoding/json`'s coercion of invalid UTF-8 and `encoding/base64.StdEncoding`.
//!
//! Upstream: Go `src/time/format.go`, `src/time/time.go`, `src/encoding/json/encode.go`,
//! `src/encoding/base64/base64.go`.

/// Seconds between 0001-01-01T00:00:00Z (Go's zero `time.Time`) and the Unix epoch.
pub(crate) const ZERO_TIME_UNIX_SECONDS: i64 = -62_135_596_800;

/// A Unix timestamp broken into its UTC civil fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Proleptic Gregorian calendar, as Go's `time` package uses, for any `i64` second count.
fn civil_from_unix(seconds: i64) -> Civil {
    let seconds = i128::from(seconds);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400) as u32;
    // Howard Hinnant's days-to-civil algorithm, in i128 so no input overflows.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    Civil {
        year: year as i64,
        month,
        day,
        hour: second_of_day / 3600,
        minute: second_of_day / 60 % 60,
        second: second_of_day % 60,
    }
}

/// Go's `appendInt(b, x, width)`: a sign, then digits zero-padded to `width`.
fn push_padded(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    let digits = value.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

fn format_civil(civil: Civil, micros: Option<u32>) -> String {
    let mut out = String::with_capacity(27);
    push_padded(&mut out, civil.year, 4);
    out.push('-');
    push_padded(&mut out, i64::from(civil.month), 2);
    out.push('-');
    push_padded(&mut out, i64::from(civil.day), 2);
    out.push('T');
    push_padded(&mut out, i64::from(civil.hour), 2);
    out.push(':');
    push_padded(&mut out, i64::from(civil.minute), 2);
    out.push(':');
    push_padded(&mut out, i64::from(civil.second), 2);
    if let Some(micros) = micros {
        out.push('.');
        push_padded(&mut out, i64::from(micros), 6);
    }
    out.push('Z');
    out
}

/// `t.UTC().Format(time.RFC3339)` for `time.Unix(seconds, 0)`.
///
/// Known difference: for instants more than ~292 billion years before the epoch Go's
/// internal arithmetic wraps; here the calendar stays exact.
pub(crate) fn format_rfc3339(seconds: i64) -> String {
    format_civil(civil_from_unix(seconds), None)
}

/// `t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")` for `time.Unix(seconds, nanos)` where
/// `nanos` is already normalised into `0..1e9`.
pub(crate) fn format_rfc3339_micro(seconds: i64, nanos: u32) -> String {
    format_civil(civil_from_unix(seconds), Some(nanos / 1000))
}

/// `time.Unix(sec, nsec)`'s normalisation of `nsec` into `[0, 1e9)` (with Go's wrapping
/// `int64` arithmetic on `sec`).
pub(crate) fn normalize_unix(seconds: i64, nanos: i64) -> (i64, u32) {
    let mut seconds = seconds;
    let mut nanos = nanos;
    if !(0..1_000_000_000).contains(&nanos) {
        let carry = nanos / 1_000_000_000;
        seconds = seconds.wrapping_add(carry);
        nanos -= carry * 1_000_000_000;
        if nanos < 0 {
            nanos += 1_000_000_000;
            seconds = seconds.wrapping_sub(1);
        }
    }
    (seconds, nanos as u32)
}

/// `time.Duration.String()`: e.g. `1h2m3.5s`, `1.5ms`, `0s`.
pub(crate) fn duration_string(nanos: i64) -> String {
    const SECOND: u64 = 1_000_000_000;
    let negative = nanos < 0;
    let mut value = nanos.unsigned_abs();
    // Built backwards, like Go's fixed buffer.
    let mut reversed: Vec<char> = Vec::with_capacity(32);
    if value < SECOND {
        let precision;
        reversed.push('s');
        if value == 0 {
            return "0s".to_string();
        } else if value < 1_000 {
            precision = 0;
            reversed.push('n');
        } else if value < 1_000_000 {
            precision = 3;
            reversed.push('µ');
        } else {
            precision = 6;
            reversed.push('m');
        }
        value = push_fraction(&mut reversed, value, precision);
        push_integer(&mut reversed, value);
    } else {
        reversed.push('s');
        value = push_fraction(&mut reversed, value, 9);
        push_integer(&mut reversed, value % 60);
        value /= 60;
        if value > 0 {
            reversed.push('m');
            push_integer(&mut reversed, value % 60);
            value /= 60;
            if value > 0 {
                reversed.push('h');
                push_integer(&mut reversed, value);
            }
        }
    }
    if negative {
        reversed.push('-');
    }
    reversed.iter().rev().collect()
}

/// Go's `fmtFrac`: the fraction of `value / 10^precision` without trailing zeros (and without
/// the point when it is zero); returns the integer part.
fn push_fraction(reversed: &mut Vec<char>, mut value: u64, precision: u32) -> u64 {
    let mut printing = false;
    for _ in 0..precision {
        let digit = (value % 10) as u8;
        printing = printing || digit != 0;
        if printing {
            reversed.push(char::from(b'0' + digit));
        }
        value /= 10;
    }
    if printing {
        reversed.push('.');
    }
    value
}

/// Go's `fmtInt`.
fn push_integer(reversed: &mut Vec<char>, mut value: u64) {
    if value == 0 {
        reversed.push('0');
        return;
    }
    while value > 0 {
        reversed.push(char::from(b'0' + (value % 10) as u8));
        value /= 10;
    }
}

/// `encoding/json`'s string coercion: every byte of an invalid UTF-8 sequence becomes one
/// U+FFFD (Go decodes rune by rune, and an invalid rune has width 1).
pub(crate) fn go_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push('\u{fffd}');
        }
    }
    out
}

/// `base64.StdEncoding.EncodeToString`, which `encoding/json` uses for `[]byte`.
pub(crate) fn base64_std(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let triple = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        out.push(char::from(ALPHABET[(triple >> 18) as usize & 63]));
        out.push(char::from(ALPHABET[(triple >> 12) as usize & 63]));
        if chunk.len() > 1 {
            out.push(char::from(ALPHABET[(triple >> 6) as usize & 63]));
        } else {
            out.push('=');
        }
        if chunk.len() > 2 {
            out.push(char::from(ALPHABET[triple as usize & 63]));
        } else {
            out.push('=');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream: Go `src/time/time_test.go` `durationTests`.
    #[test]
    fn duration_strings_match_go() {
        let cases: &[(&str, i64)] = &[
            ("0s", 0),
            ("1ns", 1),
            ("1.1µs", 1100),
            ("2.2ms", 2_200_000),
            ("3.3s", 3_300_000_000),
            ("4m5s", 4 * 60 * 1_000_000_000 + 5 * 1_000_000_000),
            ("4m5.001s", 4 * 60 * 1_000_000_000 + 5_001_000_000),
            (
                "5h6m7.001s",
                5 * 3_600_000_000_000 + 6 * 60_000_000_000 + 7_001_000_000,
            ),
            ("8m0.000000001s", 8 * 60_000_000_000 + 1),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
        ];
        for (want, nanos) in cases {
            assert_eq!(duration_string(*nanos), *want, "{nanos}");
        }
    }

    #[test]
    fn rfc3339_formats() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(
            format_rfc3339(ZERO_TIME_UNIX_SECONDS),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(format_rfc3339(-62_198_755_200), "-0001-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        // Extremes must not overflow.
        let _ = format_rfc3339(i64::MAX);
        let _ = format_rfc3339(i64::MIN);
        assert_eq!(
            format_rfc3339_micro(1_700_000_000, 123_456_789),
            "2023-11-14T22:13:20.123456Z"
        );
    }

    #[test]
    fn normalisation_like_time_unix() {
        assert_eq!(normalize_unix(10, -1), (9, 999_999_999));
        assert_eq!(normalize_unix(10, 2_500_000_000), (12, 500_000_000));
        assert_eq!(normalize_unix(10, -2_500_000_000), (7, 500_000_000));
    }

    #[test]
    fn invalid_utf8_becomes_one_replacement_per_byte() {
        assert_eq!(go_string(b"a\xe2\x82b"), "a\u{fffd}\u{fffd}b");
        assert_eq!(go_string(b"\xed\xa0\x80"), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go_string("héllo".as_bytes()), "héllo");
    }

    /// Upstream: Go `src/encoding/base64/base64_test.go` `pairs` (RFC 4648 examples).
    #[test]
    fn base64_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64_std(plain.as_bytes()), encoded);
        }
    }
}
