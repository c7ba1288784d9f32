//! Human-readable durations, as `kubectl get` shows ages.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go` (`HumanDuration`,
//! `ShortHumanDuration`). Durations are Go `time.Duration` values: signed 64-bit nanosecond counts.

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;

/// Whole seconds, truncated toward zero like Go's `int(d.Seconds())`.
fn whole_seconds(nanos: i64) -> i64 {
    nanos / NANOS_PER_SECOND
}

/// A succinct duration with ~2–3 significant figures (`duration.HumanDuration`): `45s`, `3m10s`,
/// `70m`, `7h59m`, `47h`, `2d1h`, `367d`, `2y1d`, `8y`. Anything more than a second in the past of
/// zero is `<invalid>`; tiny negative skews print `0s`.
pub fn human_duration(nanos: i64) -> String {
    // A deviation of up to two seconds (exclusive) is tolerated as clock skew: "almost now".
    let seconds = whole_seconds(nanos);
    if seconds < -1 {
        return "<invalid>".to_owned();
    } else if seconds < 0 {
        return "0s".to_owned();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / NANOS_PER_MINUTE;
    if minutes < 10 {
        let s = (nanos / NANOS_PER_SECOND) % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / NANOS_PER_HOUR;
    if hours < 8 {
        let m = (nanos / NANOS_PER_MINUTE) % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// A duration with a single unit (`duration.ShortHumanDuration`): `59s`, `1m`, `23h`, `364d`, `2y`.
pub fn short_human_duration(nanos: i64) -> String {
    let seconds = whole_seconds(nanos);
    if seconds < -1 {
        return "<invalid>".to_owned();
    } else if seconds < 0 {
        return "0s".to_owned();
    } else if seconds < 60 {
        return format!("{seconds}s");
    }
    let minutes = nanos / NANOS_PER_MINUTE;
    if minutes < 60 {
        return format!("{minutes}m");
    }
    let hours = nanos / NANOS_PER_HOUR;
    if hours < 24 {
        return format!("{hours}h");
    } else if hours < 24 * 365 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}
