//! Server-side Table output: kubectl's columns for every built-in resource, computed from stored JSON. No I/O.
