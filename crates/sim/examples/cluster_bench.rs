//! Cluster benchmark (issue 4): the 5,000-node example cluster comes up through its simulated
//! kubelets, then 10,000 pods (100 Deployments × 100 replicas) are created through the API and
//! scheduled by the scheduler; prints the time until every node is Ready and until every pod is
//! Running, and peak memory, beside KWOK's CI bar (5,000 nodes Ready and 10,000 pods Running
//! within 60 s, scheduler bypassed) and our target (under 10 s with the scheduler in the loop).
//!
//! `cargo run --release -p kubetwin-sim --example cluster_bench -- [CLUSTER_YAML] [DEPLOYMENTS] [REPLICAS]`
//!
//! Timing uses the wall clock, which is allowed here only: this program measures, it decides nothing.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::lookup;
use kubetwin_apiserver::watch::WatchEvent;
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_runtime::SimTime;
use kubetwin_store::Store;
use serde_json::json;

#[path = "../../bench-support/proc_stats.rs"]
mod proc_stats;

#[path = "../../kubetwin/src/allocator.rs"]
mod allocator;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Follows a watch until `want` distinct objects pass `counts`, or `limit` passes. A watch
/// costs the system under test one decode per change, where polling with lists would decode
/// every object at every poll and steal the CPU being measured.
async fn wait_for(
    what: &str,
    started: Instant,
    limit: Duration,
    want: usize,
    mut events: tokio::sync::mpsc::Receiver<WatchEvent>,
    counts: impl Fn(&serde_json::Value) -> bool,
) -> Option<Duration> {
    let mut passing = BTreeSet::new();
    let mut seen = 0_usize;
    // `BENCH_PROGRESS=1`: a line per second (objects seen, assigned to a node, passing), to
    // tell which stage of the pipeline holds the others up.
    let progress = std::env::var_os("BENCH_PROGRESS").is_some();
    let mut known = BTreeSet::new();
    let mut assigned = BTreeSet::new();
    let mut next_report = started.elapsed() + Duration::from_secs(1);
    let deadline = tokio::time::sleep(limit.saturating_sub(started.elapsed()));
    tokio::pin!(deadline);
    while passing.len() < want {
        let event = tokio::select! {
            biased;
            () = &mut deadline => None,
            event = events.recv() => event,
        };
        let Some(event) = event else {
            println!(
                "  gave up on {what}: {}/{want} after {:?}",
                passing.len(),
                started.elapsed()
            );
            return None;
        };
        seen += 1;
        let key = format!(
            "{}/{}",
            event.object["metadata"]["namespace"].as_str().unwrap_or(""),
            event.object["metadata"]["name"].as_str().unwrap_or("")
        );
        if progress {
            if started.elapsed() >= next_report {
                println!(
                    "    {:>6.1} s: {} seen, {} on a node, {} {what}, RSS {} MiB",
                    started.elapsed().as_secs_f64(),
                    known.len(),
                    assigned.len(),
                    passing.len(),
                    proc_stats::rss_mib()
                );
                next_report += Duration::from_secs(1);
            }
            known.insert(key.clone());
            if event.object["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
            {
                assigned.insert(key.clone());
            }
        }
        if matches!(event.event_type, "ADDED" | "MODIFIED") && counts(&event.object) {
            passing.insert(key);
        } else {
            passing.remove(&key);
        }
    }
    println!("  {what}: {seen} watch events until then");
    Some(started.elapsed())
}

#[tokio::main]
async fn main() {
    // Re-executes the whole process (runtime threads included) when the setting is missing.
    allocator::tune();
    let args: Vec<String> = std::env::args().collect();
    let cluster = match args.get(1).filter(|a| !a.is_empty()) {
        Some(path) => kubetwin_cluster::Cluster::from_yaml(
            &std::fs::read_to_string(path).expect("cluster file"),
        ),
        None => kubetwin_cluster::Cluster::from_yaml(kubetwin_cluster::LARGE_5000_YAML),
    }
    .expect("valid cluster");
    let deployments: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let replicas: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(100);
    let nodes_wanted = cluster.nodes().len();
    let pods_wanted = deployments * replicas;
    println!(
        "kubetwin cluster benchmark: {nodes_wanted} nodes, {pods_wanted} pods ({deployments} Deployments × {replicas})"
    );

    let time = SimTime::new(
        jiff::Timestamp::from_second(1_735_689_600).expect("epoch"),
        1.0,
    );
    let server = ApiServer::new(
        Storage::new(Store::memory()),
        Arc::new(time.clone()),
        1,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    let client = LocalClient::new(server.clone(), "bench");
    let nodes = lookup("", "v1", "nodes").expect("nodes");
    let pods = lookup("", "v1", "pods").expect("pods");
    let deploys = lookup("apps", "v1", "deployments").expect("deployments");

    let started = Instant::now();
    kubetwin_sim::start(&server, &time, Some(&cluster), 1).expect("start");
    let node_events = client
        .watch(nodes, None, 0, None, None)
        .expect("watch nodes");
    let ready = wait_for(
        "nodes Ready",
        started,
        Duration::from_secs(600),
        nodes_wanted,
        node_events,
        |n| {
            n["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        },
    )
    .await;
    let Some(t) = ready else {
        std::process::exit(1);
    };
    println!(
        "all {nodes_wanted} nodes Ready after {:.2} s   (KWOK bar: 60 s; target < 10 s); peak RSS so far: {} MiB",
        t.as_secs_f64(),
        proc_stats::peak_rss_mib()
    );

    let pod_events = client.watch(pods, None, 0, None, None).expect("watch pods");
    let revision_before_pods = server.storage.revision();
    let (hits_before, decodes_before) = server.storage.watch_decodes();
    let pods_started = Instant::now();
    let cpu_before_pods = proc_stats::process_cpu_seconds();
    for d in 0..deployments {
        let name = format!("app-{d}");
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
                },
            },
        });
        client
            .create(deploys, Some("default"), deployment)
            .await
            .expect("create deployment");
    }
    let running = wait_for(
        "pods Running",
        pods_started,
        Duration::from_secs(900),
        pods_wanted,
        pod_events,
        |p| p["status"]["phase"] == "Running",
    )
    .await;
    let Some(t) = running else {
        std::process::exit(1);
    };
    println!(
        "all {pods_wanted} pods Running {:.2} s after the Deployments were created ({:.2} s from start)   (KWOK bar: 60 s; target < 10 s)",
        t.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "CPU used from the first Deployment until then: {:.2} s (user + system, all threads)",
        proc_stats::process_cpu_seconds() - cpu_before_pods
    );
    // Every store write moves the revision by one: lease renewals and node status included.
    let writes = server.storage.revision() - revision_before_pods;
    println!(
        "store writes from the first Deployment until then: {writes} ({:.1} per pod, heartbeats included)",
        writes as f64 / pods_wanted.max(1) as f64
    );
    print_writes_by_resource(server.storage.store(), revision_before_pods);
    let (hits, decodes) = server.storage.watch_decodes();
    let (hits, decodes) = (hits - hits_before, decodes - decodes_before);
    println!(
        "watch deliveries: {} objects, {decodes} decoded ({:.2} per store write)",
        hits + decodes,
        decodes as f64 / writes.max(1) as f64
    );
    println!("peak RSS: {} MiB", proc_stats::peak_rss_mib());
}

/// Store writes since `after` by resource (the key's second segment, `/registry/<resource>/…`)
/// and, for pods, by whether the write created the key, so a change in writes per pod shows
/// which component made it.
fn print_writes_by_resource(store: &Store, after: i64) {
    let Ok(mut history) = store.watch("/registry/", after + 1) else {
        println!("store writes by resource: history compacted");
        return;
    };
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    while let Ok(Some(event)) = history.try_recv() {
        let key = event.kv.key_str().unwrap_or("");
        let resource = key.split('/').nth(2).unwrap_or("?");
        let kind = match (resource, event.prev_kv.is_some()) {
            ("pods", false) => "pods (create)".to_string(),
            ("pods", true) => "pods (update/delete)".to_string(),
            (other, _) => other.to_string(),
        };
        *counts.entry(kind).or_default() += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("store writes by resource: {}", summary.join(", "));
}
