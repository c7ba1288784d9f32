//! Scenario benchmark (issue 5): a 1,000-node cluster (three AWS zones) running 20,000 pods
//! (20 Deployments × 1,000 replicas) through 24 hours of virtual time, with a rolling update
//! every hour and a one-hour zone outage at hour 12. Prints the wall time (target: under 60 s
//! on the 2-core machine, i.e. 1,440× real time; K8sSim, the best published simulator
//! figure, is ≈ 39× real time), the virtual/wall ratio and the peak memory (VmHWM).
//!
//! `cargo run --release -p kubetwin-scenario --example scenario_bench -- [NODES] [DEPLOYMENTS]
//! [REPLICAS] [HOURS] [ROLLED]` — ROLLED is how many Deployments get a new template each hour
//! (default: all of them).
//!
//! The wall time is read through indicatif's progress bar clock (the library never reads the
//! wall clock); everything else printed comes from the report.

use std::fmt::Write as _;

use kubetwin_scenario::{Progress, RunOptions, Scenario, run};

#[path = "../../bench-support/proc_stats.rs"]
mod proc_stats;

#[path = "../../kubetwin/src/allocator.rs"]
mod allocator;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn scenario_yaml(nodes: u64, deployments: u64, replicas: u64, hours: u64, rolled: u64) -> String {
    let mut y = String::new();
    let _ = write!(
        y,
        "apiVersion: kubetwin.io/v1alpha1
kind: Scenario
metadata:
  name: bench-{nodes}-nodes-{pods}-pods-{hours}h
  description: Benchmark — {deployments} Deployments x {replicas}, a rolling update every hour, zone outage at hour {outage}.
seed: 1
duration: {hours}h
sampleInterval: 10m
cluster:
  apiVersion: kubetwin.io/v1alpha1
  kind: Cluster
  metadata: {{name: bench-{nodes}}}
  settings:
    podCIDR: 10.128.0.0/9
    nodeCIDRMaskSize: 24
    nodeNetwork: 10.0.0.0/12
    zoneSubnetMaskSize: 20
  providers:
    - name: aws
      type: aws
      regions:
        - name: us-east-1
          zones: [{{name: us-east-1a}}, {{name: us-east-1b}}, {{name: us-east-1c}}]
  pools:
    - name: general
      provider: aws
      count: {nodes}
      instanceType: {{name: m5.4xlarge, cpu: 16, memory: 64Gi, maxPods: 110, hourlyPrice: 0.768}}
manifests:
",
        pods = deployments * replicas,
        outage = hours / 2,
    );
    for d in 0..deployments {
        let _ = write!(
            y,
            "  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: app-{d}}}
    spec:
      replicas: {replicas}
      selector: {{matchLabels: {{app: app-{d}}}}}
      template:
        metadata: {{labels: {{app: app-{d}}}}}
        spec:
          containers: [{{name: c, image: registry.k8s.io/pause:3.10, resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}}}]
"
        );
    }
    y.push_str("timeline:\n");
    for h in 1..hours {
        for d in 0..rolled.min(deployments) {
            let _ = write!(
                y,
                "  - at: {h}h
    action: patch
    type: merge
    object: deployment/app-{d}
    patch: {{spec: {{template: {{metadata: {{annotations: {{kubectl.kubernetes.io/restartedAt: 'hour-{h}'}}}}}}}}}}
"
            );
        }
    }
    let outage = hours / 2;
    let _ = write!(
        y,
        "  - {{at: {outage}h10m, name: zone-down, action: fail, zone: us-east-1a, duration: 1h}}
expectations:
  - {{type: recoversWithin, action: zone-down, within: 30m}}
"
    );
    y
}

fn main() {
    allocator::tune();
    let nodes = arg(1, 1000);
    let deployments = arg(2, 20);
    let replicas = arg(3, 1000);
    let hours = arg(4, 24).max(2);
    let rolled = arg(5, deployments);
    let scenario =
        match Scenario::from_yaml(&scenario_yaml(nodes, deployments, replicas, hours, rolled)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("benchmark scenario: {e}");
                std::process::exit(2);
            }
        };
    println!(
        "kubetwin scenario benchmark: {nodes} nodes, {} pods ({deployments} Deployments × {replicas}), {hours} h of virtual time, {rolled} rolling update(s) every hour, zone outage at hour {}",
        deployments * replicas,
        hours / 2
    );
    let clock = indicatif::ProgressBar::hidden();
    // A line every 10 virtual minutes, so that a partial run still gives a rate.
    let mut last_step = 0;
    let mut on_progress = |p: Progress| {
        let step = p.elapsed.as_secs() / 600;
        if step > last_step {
            last_step = step;
            eprintln!(
                "  virtual {:>4} min after {:>7.1} s wall, peak RSS {} MiB",
                step * 10,
                clock.elapsed().as_secs_f64(),
                proc_stats::peak_rss_mib()
            );
        }
    };
    let report = match run(
        &scenario,
        RunOptions {
            seed: None,
            progress: Some(&mut on_progress),
        },
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("run: {e}");
            std::process::exit(2);
        }
    };
    let wall = clock.elapsed().as_secs_f64();
    let virtual_seconds = report.scenario.duration_seconds;
    println!("wall time: {wall:.1} s (target < 60 s)");
    println!(
        "speed: {:.0}× real time (K8sSim, best published: ≈ 39×; target 1,440×)",
        virtual_seconds / wall.max(1e-3)
    );
    println!("peak RSS: {} MiB", proc_stats::peak_rss_mib());
    println!(
        "API writes: {} ({:.0} per virtual second, {:.0} per wall second)",
        report.summary.api_writes,
        report.summary.api_writes as f64 / virtual_seconds.max(1.0),
        report.summary.api_writes as f64 / wall.max(1e-3)
    );
    println!(
        "pods scheduled: {}, evictions: {}, peak unscheduled: {}, nodes at the end: {} ({} Ready), expectations passed: {}/{}",
        report.summary.pods_scheduled,
        report.summary.evictions,
        report.summary.peak_unscheduled_pods,
        report.summary.final_nodes,
        report.summary.final_ready_nodes,
        report.summary.expectations_passed,
        report.expectations.len()
    );
    for e in &report.expectations {
        println!(
            "  {} {}: {}",
            if e.passed { "PASS" } else { "FAIL" },
            e.name,
            e.detail
        );
    }
    if report.expectations.iter().any(|e| !e.passed) {
        std::process::exit(1);
    }
}
