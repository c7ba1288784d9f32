//! Store benchmark: prints writes/s for the memory backend and the redb backend (group commit
//! with 1, 8 and 64 concurrent writers, one fsync per write, no fsync), and watch fan-out
//! latency to 100 watchers. Each figure is printed beside its comparison point from
//! `/work/shared/research/rust.md` §3 (measured on this VM) and the API targets.
//!
//! Run: `cargo run --release -p kubetwin-store --example store_bench`.
//!
//! This program reads the wall clock (`Instant::now`) because measuring real elapsed time is
//! its purpose; the store itself never does. The one call site is [`now`].

use std::time::{Duration, Instant};

use kubetwin_store::{Durability, RedbOptions, Store};

/// The only wall-clock read of the crate: benchmarks measure real time by definition.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// A JSON-ish pod-sized value (about 1 KiB, like the research micro-benchmark).
fn value() -> Vec<u8> {
    let mut v = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"#.to_vec();
    v.resize(1024, b'x');
    v
}

/// Runs `writers` concurrent tasks each creating `per_writer` keys; returns writes/s.
async fn create_rate(store: &Store, writers: usize, per_writer: usize, tag: &str) -> f64 {
    let value = bytes::Bytes::from(value());
    let start = now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let value = value.clone();
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let key = format!("/registry/pods/{tag}-ns{w}/pod-{i:08}");
                if let Err(error) = store.create(key, value.clone()).await {
                    eprintln!("write failed: {error}");
                    return;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    (writers * per_writer) as f64 / start.elapsed().as_secs_f64()
}

fn redb(dir: &tempfile::TempDir, name: &str, options: RedbOptions) -> Store {
    match Store::open_redb(dir.path().join(name), options) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("cannot open redb: {error}");
            std::process::exit(1);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Fan-out: 100 watchers on one prefix; a writer puts `writes` keys, one every `pace`; each
/// value carries its send time. Returns (p50, p99) of write-call-to-delivery latency.
async fn fan_out(store: &Store, writes: usize, pace: Duration) -> (Duration, Duration, usize, f64) {
    const WATCHERS: usize = 100;
    let base = now();
    let mut tasks = Vec::new();
    for _ in 0..WATCHERS {
        let Ok(mut watcher) = store.watch("/registry/fanout/", 0) else {
            break;
        };
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(writes);
            while latencies.len() < writes {
                let Ok(event) = watcher.recv().await else {
                    break;
                };
                let mut sent = [0u8; 8];
                sent.copy_from_slice(&event.kv.value[..8]);
                let sent = Duration::from_nanos(u64::from_le_bytes(sent));
                latencies.push(base.elapsed().saturating_sub(sent));
            }
            latencies
        }));
    }
    let padding = vec![b'x'; 1016];
    for i in 0..writes {
        let sent = base.elapsed().as_nanos() as u64;
        let mut value = sent.to_le_bytes().to_vec();
        value.extend_from_slice(&padding);
        if store
            .put(format!("/registry/fanout/p{i}"), value)
            .await
            .is_err()
        {
            break;
        }
        if !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
    }
    let mut all = Vec::new();
    for task in tasks {
        if let Ok(latencies) = task.await {
            all.extend(latencies);
        }
    }
    let elapsed = base.elapsed().as_secs_f64();
    all.sort_unstable();
    (
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.len(),
        all.len() as f64 / elapsed,
    )
}

/// The comparison point measured now, on this machine: raw redb, one 1 KiB put per write
/// transaction, with the given durability. Returns commits/s.
fn raw_redb(dir: &tempfile::TempDir, name: &str, durability: redb::Durability, n: usize) -> f64 {
    const TABLE: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("t");
    let run = || -> Result<f64, redb::Error> {
        let db = redb::Database::create(dir.path().join(name))?;
        let value = value();
        let start = now();
        for i in 0..n {
            let mut txn = db.begin_write()?;
            txn.set_durability(durability)?;
            {
                let mut table = txn.open_table(TABLE)?;
                table.insert(
                    format!("/registry/pods/ns/pod-{i:08}").as_str(),
                    value.as_slice(),
                )?;
            }
            txn.commit()?;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    };
    run().unwrap_or_else(|error| {
        eprintln!("raw redb: {error}");
        0.0
    })
}

/// Mean requests per redb commit so far.
fn batch(store: &Store) -> String {
    let stats = store.write_stats();
    if stats.commits == 0 {
        return String::new();
    }
    format!(
        " [{:.1} writes/commit]",
        stats.requests as f64 / stats.commits as f64
    )
}

fn line(label: &str, figure: String, comparison: &str) {
    println!("{label:<46} {figure:>16}   | {comparison}");
}

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("runtime: {error}");
            std::process::exit(1);
        }
    };
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("no temp dir");
        std::process::exit(1);
    };
    let raw_fsync = raw_redb(&dir, "raw-fsync.redb", redb::Durability::Immediate, 1_000);
    let raw_none = raw_redb(&dir, "raw-none.redb", redb::Durability::None, 20_000);
    runtime.block_on(async {
        println!("kubetwin-store benchmark (1 KiB values, creates of new keys)\n");
        line(
            "raw redb, 1 put/txn, fsync (baseline now)",
            format!("{raw_fsync:.0} commits/s"),
            "research notes: 3.1k ops/s (318 us) on this VM, unloaded",
        );
        line(
            "raw redb, 1 put/txn, no fsync (baseline now)",
            format!("{raw_none:.0} commits/s"),
            "research notes: 61k ops/s",
        );
        let memory = Store::memory();
        let rate = create_rate(&memory, 1, 200_000, "m1").await;
        line(
            "memory, 1 writer",
            format!("{rate:.0} writes/s"),
            "goal >= 200k/s (API target 20k pods/s over HTTP)",
        );
        let memory = Store::memory();
        let rate = create_rate(&memory, 8, 25_000, "m8").await;
        line(
            "memory, 8 writers",
            format!("{rate:.0} writes/s"),
            "goal >= 200k/s",
        );

        let group = RedbOptions::default();
        for (writers, per_writer) in [(1usize, 2_000usize), (8, 2_000), (64, 500)] {
            let store = redb(&dir, &format!("group{writers}.redb"), group);
            let rate = create_rate(&store, writers, per_writer, "g").await;
            let comparison = if writers == 1 {
                "fsync per commit ~318 us here (~3.1k commits/s); API target 5k/s"
            } else {
                "1000 puts/txn + fsync: 82k ops/s here; API target 5k/s"
            };
            line(
                &format!("redb group commit, fsync, {writers} writers"),
                format!("{rate:.0} writes/s{}", batch(&store)),
                comparison,
            );
        }
        let single = RedbOptions {
            group_commit: false,
            ..RedbOptions::default()
        };
        let store = redb(&dir, "single.redb", single);
        let rate = create_rate(&store, 8, 250, "s").await;
        line(
            "redb one fsync per write, 8 writers",
            format!("{rate:.0} writes/s{}", batch(&store)),
            "1 put/txn + fsync: 3.1k ops/s here",
        );
        let fast = RedbOptions {
            durability: Durability::None,
            ..RedbOptions::default()
        };
        let store = redb(&dir, "none.redb", fast);
        let rate = create_rate(&store, 64, 1_000, "n").await;
        line(
            "redb group commit, no fsync, 64 writers",
            format!("{rate:.0} writes/s{}", batch(&store)),
            "1 put/txn, Durability::None: 61k ops/s here",
        );
        let fast_single = RedbOptions {
            durability: Durability::None,
            group_commit: false,
            ..RedbOptions::default()
        };
        let store = redb(&dir, "none-single.redb", fast_single);
        let rate = create_rate(&store, 8, 2_500, "ns").await;
        line(
            "redb no group commit, no fsync, 8 writers",
            format!("{rate:.0} writes/s{}", batch(&store)),
            "1 put/txn, Durability::None: 61k ops/s here",
        );

        println!();
        let memory = Store::memory();
        let (p50, p99, n, _) = fan_out(&memory, 1_000, Duration::from_millis(1)).await;
        line(
            "watch fan-out, memory, 100 watchers, 1 put/ms",
            format!("p50 {p50:.1?}"),
            &format!("p99 {p99:.1?} over {n} deliveries (write call to delivery)"),
        );
        let (p50, p99, n, rate) = fan_out(&Store::memory(), 5_000, Duration::ZERO).await;
        line(
            "watch fan-out, memory, 100 watchers, burst",
            format!("{rate:.0} events/s"),
            &format!("{n} deliveries; backlog latency p50 {p50:.1?} p99 {p99:.1?}"),
        );
        let store = redb(&dir, "fanout.redb", RedbOptions::default());
        let (p50, p99, n, _) = fan_out(&store, 500, Duration::from_millis(1)).await;
        line(
            "watch fan-out, redb fsync, 100 watchers, 1 put/ms",
            format!("p50 {p50:.1?}"),
            &format!("p99 {p99:.1?} over {n} deliveries (includes the fsync)"),
        );
    });
}
