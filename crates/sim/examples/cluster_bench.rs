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

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::lookup;
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_runtime::SimTime;
use kubetwin_store::Store;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

async fn wait_for(
    what: &str,
    started: Instant,
    limit: Duration,
    mut done: impl FnMut() -> (usize, usize),
) -> Option<Duration> {
    loop {
        let (have, want) = done();
        if have >= want {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            println!(
                "  gave up on {what}: {have}/{want} after {:?}",
                started.elapsed()
            );
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::main]
async fn main() {
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
    let ready = wait_for("nodes Ready", started, Duration::from_secs(600), || {
        let listed = client
            .list(nodes, None, None, None)
            .map(|l| l.items)
            .unwrap_or_default();
        let ready = listed
            .iter()
            .filter(|n| {
                n["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
            .count();
        (ready, nodes_wanted)
    })
    .await;
    if let Some(t) = ready {
        println!(
            "all {nodes_wanted} nodes Ready after {:.2} s   (KWOK bar: 60 s; target < 10 s)",
            t.as_secs_f64()
        );
    }

    let pods_started = Instant::now();
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
        || {
            let running = client
                .list(pods, None, None, Some("status.phase=Running"))
                .map(|l| l.items.len())
                .unwrap_or(0);
            (running, pods_wanted)
        },
    )
    .await;
    if let Some(t) = running {
        println!(
            "all {pods_wanted} pods Running {:.2} s after the Deployments were created ({:.2} s from start)   (KWOK bar: 60 s; target < 10 s)",
            t.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    println!("peak RSS: {} MiB", peak_rss_mib());
}
