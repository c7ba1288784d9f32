//! In-process reproduction of upstream's scheduler_perf workloads
//! (test/integration/scheduler_perf/*/performance-config.yaml): builds the nodes, schedules the
//! init pods, then times the measured pods and prints pods/s beside upstream's threshold, a
//! checksum of the decisions (to check that optimizations change nothing) and the peak RSS.
//!
//! Run: `cargo run --release -p kubetwin-scheduler --example scheduler_perf [-- [--no-filter-cache] NAME…]`
//! (`--no-filter-cache`: recompute every Filter verdict in every cycle, as upstream).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_scheduler::config::default_frameworks;
use kubetwin_scheduler::schedule::Scheduler;
use kubetwin_scheduler::testing::{make_node, make_pod, req, selector, term};
use kubetwin_scheduler::types::{NodeData, PodInfo};

#[path = "../../bench-support/proc_stats.rs"]
mod proc_stats;

/// One workload.
struct Workload {
    name: &'static str,
    threshold: f64,
    nodes: usize,
    init: usize,
    measured: usize,
    node: fn(usize) -> Node,
    init_pod: fn(usize) -> Pod,
    measured_pod: fn(usize) -> Pod,
    /// Plugins the workload needs that may not be implemented yet.
    needs: &'static [&'static str],
}

/// templates/node-default.yaml: 4 CPUs, 32Gi, 110 pods.
fn node_default(i: usize) -> Node {
    make_node(&format!("node-{i}"))
        .capacity(&[("cpu", "4"), ("memory", "32Gi"), ("pods", "110")])
        .obj()
}

fn node_zoned(i: usize) -> Node {
    make_node(&format!("node-{i}"))
        .label(
            "topology.kubernetes.io/zone",
            ["moon-1", "moon-2", "moon-3"][i % 3],
        )
        .label("kubernetes.io/hostname", &format!("node-{i}"))
        .capacity(&[("cpu", "4"), ("memory", "32Gi"), ("pods", "110")])
        .obj()
}

fn node_zone1(i: usize) -> Node {
    make_node(&format!("node-{i}"))
        .label("topology.kubernetes.io/zone", "zone1")
        .label("kubernetes.io/hostname", &format!("node-{i}"))
        .capacity(&[("cpu", "4"), ("memory", "32Gi"), ("pods", "110")])
        .obj()
}

/// templates/pod-default.yaml: one pause container, 100m / 500Mi.
fn pod_default(name: String) -> kubetwin_scheduler::testing::PodBuilder {
    make_pod(&name).req(&[("cpu", "100m"), ("memory", "500Mi")])
}

fn basic_init(i: usize) -> Pod {
    pod_default(format!("init-{i}")).obj()
}

fn basic_measured(i: usize) -> Pod {
    pod_default(format!("pod-{i}")).obj()
}

fn node_affinity_pod(prefix: &str, i: usize) -> Pod {
    pod_default(format!("{prefix}-{i}"))
        .node_affinity_required(vec![term(
            vec![req(
                "topology.kubernetes.io/zone",
                "In",
                &["zone1", "zone2"],
            )],
            vec![],
        )])
        .obj()
}

fn node_affinity_init(i: usize) -> Pod {
    node_affinity_pod("init", i)
}

fn node_affinity_measured(i: usize) -> Pod {
    node_affinity_pod("pod", i)
}

fn spread_pod(prefix: &str, i: usize) -> Pod {
    pod_default(format!("{prefix}-{i}"))
        .label("color", "blue")
        .spread(
            5,
            "topology.kubernetes.io/zone",
            "DoNotSchedule",
            Some(selector(&[("color", "blue")])),
            None,
        )
        .obj()
}

fn spread_init(i: usize) -> Pod {
    spread_pod("init", i)
}

fn spread_measured(i: usize) -> Pod {
    spread_pod("pod", i)
}

fn anti_affinity_pod(prefix: &str, i: usize) -> Pod {
    pod_default(format!("{prefix}-{i}"))
        .label("color", "green")
        .pod_anti_affinity("kubernetes.io/hostname", selector(&[("color", "green")]))
        .obj()
}

fn anti_affinity_init(i: usize) -> Pod {
    anti_affinity_pod("init", i)
}

fn anti_affinity_measured(i: usize) -> Pod {
    anti_affinity_pod("pod", i)
}

fn affinity_pod(prefix: &str, i: usize) -> Pod {
    pod_default(format!("{prefix}-{i}"))
        .label("color", "blue")
        .pod_affinity(
            "topology.kubernetes.io/zone",
            selector(&[("color", "blue")]),
        )
        .obj()
}

fn affinity_init(i: usize) -> Pod {
    affinity_pod("init", i)
}

fn affinity_measured(i: usize) -> Pod {
    affinity_pod("pod", i)
}

/// PreemptionAsync: 4 low-priority pods per node take 3.6 of 4 CPUs.
fn preemption_init(i: usize) -> Pod {
    make_pod(&format!("low-{i}"))
        .priority(0)
        .req(&[("cpu", "900m"), ("memory", "500Mi")])
        .obj()
}

fn preemption_measured(i: usize) -> Pod {
    make_pod(&format!("high-{i}"))
        .priority(10)
        .req(&[("cpu", "900m"), ("memory", "500Mi")])
        .obj()
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "SchedulingBasic/5000Nodes_10000Pods",
            threshold: 680.0,
            nodes: 5000,
            init: 1000,
            measured: 10000,
            node: node_default,
            init_pod: basic_init,
            measured_pod: basic_measured,
            needs: &[],
        },
        Workload {
            name: "TopologySpreading/5000Nodes_5000Pods",
            threshold: 460.0,
            nodes: 5000,
            init: 5000,
            measured: 5000,
            node: node_zoned,
            init_pod: spread_init,
            measured_pod: spread_measured,
            needs: &["PodTopologySpread"],
        },
        Workload {
            name: "SchedulingPodAntiAffinity/5000Nodes_2000Pods",
            threshold: 60.0,
            nodes: 5000,
            init: 1000,
            measured: 2000,
            node: node_zoned,
            init_pod: anti_affinity_init,
            measured_pod: anti_affinity_measured,
            needs: &["InterPodAffinity"],
        },
        Workload {
            name: "SchedulingPodAffinity/5000Nodes_5000Pods",
            threshold: 35.0,
            nodes: 5000,
            init: 5000,
            measured: 5000,
            node: node_zone1,
            init_pod: affinity_init,
            measured_pod: affinity_measured,
            needs: &["InterPodAffinity"],
        },
        Workload {
            name: "SchedulingNodeAffinity/5000Nodes_10000Pods",
            threshold: 220.0,
            nodes: 5000,
            init: 5000,
            measured: 10000,
            node: node_zone1,
            init_pod: node_affinity_init,
            measured_pod: node_affinity_measured,
            needs: &[],
        },
        Workload {
            name: "PreemptionAsync/5000Nodes_5000Pods",
            threshold: 570.0,
            nodes: 5000,
            init: 20000,
            measured: 5000,
            node: node_default,
            init_pod: preemption_init,
            measured_pod: preemption_measured,
            needs: &["DefaultPreemption"],
        },
    ]
}

/// FNV-1a over the decisions, so that two runs can be compared.
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn implemented(plugin: &str) -> bool {
    kubetwin_scheduler::plugins::registry::build(plugin, None)
        .ok()
        .flatten()
        .is_some_and(|p| {
            p.as_filter().is_some() || p.as_post_filter().is_some() || p.as_score().is_some()
        })
}

fn run(w: &Workload, filter_cache: bool) {
    if let Some(missing) = w.needs.iter().find(|p| !implemented(p)) {
        println!("{:<48} skipped: {missing} is not implemented yet", w.name);
        return;
    }
    let Ok(frameworks) = default_frameworks() else {
        println!("{:<48} failed to build the default profile", w.name);
        return;
    };
    let mut sched = Scheduler::new(frameworks, 1);
    sched.set_filter_cache_enabled(filter_cache);
    for i in 0..w.nodes {
        let Ok(data) = NodeData::new((w.node)(i)) else {
            return;
        };
        if sched.snapshot.add_node(data).is_err() {
            return;
        }
    }
    let mut placed_init = 0;
    for i in 0..w.init {
        let Ok(info) = PodInfo::new((w.init_pod)(i)) else {
            return;
        };
        if sched.schedule_one(&Arc::new(info), false).node.is_some() {
            placed_init += 1;
        }
    }
    let pods: Vec<Arc<PodInfo>> = (0..w.measured)
        .filter_map(|i| PodInfo::new((w.measured_pod)(i)).ok().map(Arc::new))
        .collect();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut placed = 0;
    #[allow(clippy::disallowed_methods)] // A benchmark program measures wall-clock time.
    let start = std::time::Instant::now();
    let cpu_start = proc_stats::thread_cpu_seconds();
    for p in &pods {
        let mut out = sched.schedule_one(p, false);
        if out.node.is_none()
            && let Some(nominated) = out.nominated_node.clone()
        {
            // The preemptor is retried once its victims are gone, as upstream after they terminate.
            let mut retry = (**p).clone();
            retry.nominated_node_name = nominated;
            let preempted = std::mem::take(&mut out.preempted);
            out = sched.schedule_one(&Arc::new(retry), false);
            out.preempted = preempted;
        }
        if let Some(n) = &out.node {
            placed += 1;
            fnv(&mut hash, n.as_bytes());
        }
        for v in &out.preempted {
            fnv(&mut hash, v.as_bytes());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = proc_stats::thread_cpu_seconds() - cpu_start;
    let rate = pods.len() as f64 / secs.max(1e-9);
    let cpu_rate = pods.len() as f64 / cpu_secs.max(1e-2);
    println!(
        "{:<48} {:>9.0} pods/s  (upstream threshold {:>4.0}, x{:>6.1}; per CPU-second {:>6.0})  placed {}/{} (+{} init)  decisions {:016x}  peak RSS {} MiB",
        w.name,
        rate,
        w.threshold,
        rate / w.threshold,
        cpu_rate,
        placed,
        pods.len(),
        placed_init,
        hash,
        proc_stats::peak_rss_mib()
    );
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let filter_cache = !args.iter().any(|a| a == "--no-filter-cache");
    args.retain(|a| a != "--no-filter-cache");
    for w in workloads() {
        if args.is_empty() || args.iter().any(|f| w.name.contains(f.as_str())) {
            run(&w, filter_cache);
        }
    }
}
