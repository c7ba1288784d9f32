//! What the benchmark programs read about their own process from `/proc` (Linux): peak memory
//! and CPU time. Shared by the examples through `#[path]`; each uses a part of it.
#![allow(dead_code)]

/// Peak resident memory (`VmHWM`) in MiB; 0 when unavailable.
pub fn peak_rss_mib() -> u64 {
    status_kib("VmHWM:") / 1024
}

/// Resident memory now (`VmRSS`) in MiB; 0 when unavailable.
pub fn rss_mib() -> u64 {
    status_kib("VmRSS:") / 1024
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) used by the whole process, all threads. Unlike wall time it does
/// not count the time other processes of a shared machine run.
pub fn process_cpu_seconds() -> f64 {
    cpu_seconds("/proc/self/stat")
}

/// CPU seconds (user + system) used by the calling thread.
pub fn thread_cpu_seconds() -> f64 {
    cpu_seconds("/proc/thread-self/stat")
}

fn cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the parenthesized command name (which may hold spaces): utime and stime are
    // the 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
