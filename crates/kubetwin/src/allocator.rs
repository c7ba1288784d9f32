//! The process's allocator settings: mimalloc, without handing freed memory back to the kernel
//! after one second.
//!
//! mimalloc's default (v3: `purge_delay` 1000 ms) returns memory a thread has not reused for a
//! second to the kernel (`MADV_DONTNEED`). The twin frees and reallocates objects all the time
//! (a write replaces an object, an informer its copy), so the same memory is soon faulted back
//! in and the kernel zeroes it again: in `cluster_bench` that was about 17,000 page faults and
//! 3 to 4 CPU-seconds of page clearing out of 40 (15,000 fewer faults and 9.4 → 5.6 s of system
//! time with the setting below). A one-minute delay keeps bursts cheap and still returns memory
//! an idle twin no longer needs.
//!
//! mimalloc reads the option from the environment, and changing the environment of a running
//! process is `unsafe` in Rust 2024 (forbidden here), so the process re-executes itself once
//! with it set. The benchmark programs include this file, so they measure what the binary runs.

use std::os::unix::process::CommandExt;

/// mimalloc's option, in milliseconds.
const PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "60000");

/// Re-executes the process with the allocator setting unless it is set already (by a previous
/// pass or by the user). Returns only if no re-execution happened (or it failed: the process
/// then runs with mimalloc's defaults, which is correct, only slower).
pub fn tune() {
    let (name, value) = PURGE_DELAY;
    if std::env::var_os(name).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env(name, value).exec();
    eprintln!("note: running with the default allocator settings ({error})");
}
