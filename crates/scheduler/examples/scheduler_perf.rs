//! In-process reproduction of upstream's scheduler_perf workloads
//! (test/integration/scheduler_perf/*/performance-config.yaml): builds the nodes, schedules the
//! init pods, then times the measured pods and prints pods/s beside upstream's threshold, a
//! checksum of the decisions (to check that optimizations change nothing) and the peak RSS.
//! Two workloads are not upstream's: `DeploymentSpreading*` are the scheduler's share of the
//! whole-cluster benchmark (10,000 Deployment pods under default spreading, 5,000 nodes in 11
//! zones), with each Deployment's pods in a row or interleaved.
//!
//! Run: `cargo run --release -p kubetwin-scheduler --example scheduler_perf [-- [--no-filter-cache] [--explain] NAME…]`
//! (`--no-filter-cache`: recompute every Filter verdict in every cycle, as upstream;
//! `--explain`: build every measured decision's explanation, as the scheduler driver does).

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kubetwin_scheduler::config::default_frameworks;
use kubetwin_scheduler::objects::ClusterObjects;
use kubetwin_scheduler::schedule::{Explanation, Scheduler};
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
    /// Adds the cluster objects the workload's pods refer to.
    objects: fn(&mut ClusterObjects),
}

/// Workloads whose pods refer to no other object.
fn no_objects(_: &mut ClusterObjects) {}

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

/// The zones of `examples/clusters/large-5000.yaml` (the whole-cluster benchmark's cluster).
const HYBRID_ZONES: [(&str, &str); 11] = [
    ("pve-ams", "pve-ams-1"),
    ("pve-ams", "pve-ams-2"),
    ("eu-central", "fsn1-dc14"),
    ("eu-central", "nbg1-dc3"),
    ("eu-central", "hel1-dc2"),
    ("us-east-1", "us-east-1a"),
    ("us-east-1", "us-east-1b"),
    ("us-east-1", "us-east-1c"),
    ("europe-west4", "europe-west4-a"),
    ("europe-west4", "europe-west4-b"),
    ("europe-west4", "europe-west4-c"),
];

/// A node shaped like the whole-cluster benchmark's: the kubelet's well-known labels, region,
/// zone, instance type and role; 8 CPUs, 32Gi.
fn node_hybrid(i: usize) -> Node {
    let (region, zone) = HYBRID_ZONES[i % HYBRID_ZONES.len()];
    let name = format!("node-{i}");
    make_node(&name)
        .label("beta.kubernetes.io/arch", "amd64")
        .label("beta.kubernetes.io/os", "linux")
        .label("kubernetes.io/arch", "amd64")
        .label("kubernetes.io/hostname", &name)
        .label("kubernetes.io/os", "linux")
        .label("node.kubernetes.io/instance-type", "m5.2xlarge")
        .label("topology.kubernetes.io/region", region)
        .label("topology.kubernetes.io/zone", zone)
        .label("node-role.kubernetes.io/worker", "")
        .capacity(&[("cpu", "8"), ("memory", "32Gi"), ("pods", "110")])
        .obj()
}

/// Deployments of the whole-cluster benchmark: 100 ReplicaSets of 100 pods.
const DEPLOYMENTS: usize = 100;

/// The ReplicaSets that own the Deployment pods (their selectors become the pods' default
/// spreading selectors).
fn deployment_replica_sets(objects: &mut ClusterObjects) {
    for d in 0..DEPLOYMENTS {
        let name = format!("app-{d}");
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                selector: selector(&[("app", &name)]),
                ..Default::default()
            }),
            status: None,
        };
        objects.replica_sets.insert(format!("default/{name}"), rs);
    }
}

/// Pod `i` of the whole-cluster benchmark, owned by ReplicaSet `app-(i / 100)`: each
/// Deployment's pods in a row.
fn deployment_pod(i: usize) -> Pod {
    deployment_pod_of(i, i / (10_000 / DEPLOYMENTS))
}

/// Pod `i` owned by ReplicaSet `app-(i % 100)`: the Deployments' pods interleaved, as when their
/// ReplicaSets create pods at the same time.
fn interleaved_deployment_pod(i: usize) -> Pod {
    deployment_pod_of(i, i % DEPLOYMENTS)
}

/// Pod `i` of Deployment `d`: 10m / 16Mi, owned by its ReplicaSet, so PodTopologySpread's
/// system default constraints apply.
fn deployment_pod_of(i: usize, d: usize) -> Pod {
    let app = format!("app-{d}");
    let mut pod = make_pod(&format!("{app}-{i}"))
        .label("app", &app)
        .req(&[("cpu", "10m"), ("memory", "16Mi")])
        .obj();
    pod.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: app,
        uid: String::new(),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    pod
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
            objects: no_objects,
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
            objects: no_objects,
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
            objects: no_objects,
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
            objects: no_objects,
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
            objects: no_objects,
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
            objects: no_objects,
        },
        // Not upstream's: the scheduler's share of the whole-cluster benchmark (issue 4),
        // 10,000 Deployment pods with default spreading on a 5,000-node, 11-zone cluster.
        Workload {
            name: "DeploymentSpreading/5000Nodes_10000Pods",
            threshold: 0.0,
            nodes: 5000,
            init: 0,
            measured: 10_000,
            node: node_hybrid,
            init_pod: deployment_pod,
            measured_pod: deployment_pod,
            needs: &["PodTopologySpread"],
            objects: deployment_replica_sets,
        },
        Workload {
            name: "DeploymentSpreadingInterleaved/5000Nodes_10000Pods",
            threshold: 0.0,
            nodes: 5000,
            init: 0,
            measured: 10_000,
            node: node_hybrid,
            init_pod: interleaved_deployment_pod,
            measured_pod: interleaved_deployment_pod,
            needs: &["PodTopologySpread"],
            objects: deployment_replica_sets,
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

/// How the measured pods are scheduled.
#[derive(Debug, Clone, Copy)]
struct Options {
    /// Reuse node-local Filter verdicts across cycles.
    filter_cache: bool,
    /// Build each decision's explanation, counting the unexamined nodes (as the scheduler
    /// driver does for `kubetwin explain pod`).
    explain: bool,
}

fn run(w: &Workload, options: Options) {
    if let Some(missing) = w.needs.iter().find(|p| !implemented(p)) {
        println!("{:<52} skipped: {missing} is not implemented yet", w.name);
        return;
    }
    let Ok(frameworks) = default_frameworks() else {
        println!("{:<52} failed to build the default profile", w.name);
        return;
    };
    let mut sched = Scheduler::new(frameworks, 1);
    sched.set_filter_cache_enabled(options.filter_cache);
    sched.explain_count_only_unevaluated = true;
    (w.objects)(&mut sched.objects);
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
    let mut explanation_bytes = 0usize;
    #[allow(clippy::disallowed_methods)] // A benchmark program measures wall-clock time.
    let start = std::time::Instant::now();
    let cpu_start = proc_stats::thread_cpu_seconds();
    for p in &pods {
        let mut out = sched.schedule_one(p, options.explain);
        if out.node.is_none()
            && let Some(nominated) = out.nominated_node.clone()
        {
            // The preemptor is retried once its victims are gone, as upstream after they terminate.
            let mut retry = (**p).clone();
            retry.nominated_node_name = nominated;
            let preempted = std::mem::take(&mut out.preempted);
            out = sched.schedule_one(&Arc::new(retry), options.explain);
            out.preempted = preempted;
        }
        explanation_bytes += out.explanation.as_ref().map_or(0, Explanation::heap_bytes);
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
    let versus_threshold = if w.threshold > 0.0 {
        format!(
            "upstream threshold {:>4.0}, x{:>6.1}",
            w.threshold,
            rate / w.threshold
        )
    } else {
        format!("{:<30}", "no upstream threshold")
    };
    println!(
        "{:<52} {:>9.0} pods/s  ({versus_threshold}; per CPU-second {:>6.0}, {:>7.1} µs per pod)  placed {}/{} (+{} init)  decisions {:016x}  peak RSS {} MiB",
        w.name,
        rate,
        cpu_rate,
        1e6 / cpu_rate,
        placed,
        pods.len(),
        placed_init,
        hash,
        proc_stats::peak_rss_mib()
    );
    if options.explain {
        println!(
            "{:<52} explanation heap ≈ {:.1} KiB per pod",
            "",
            explanation_bytes as f64 / 1024.0 / pods.len().max(1) as f64
        );
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let options = Options {
        filter_cache: !args.iter().any(|a| a == "--no-filter-cache"),
        explain: args.iter().any(|a| a == "--explain"),
    };
    args.retain(|a| a != "--no-filter-cache" && a != "--explain");
    for w in workloads() {
        if args.is_empty() || args.iter().any(|f| w.name.contains(f.as_str())) {
            run(&w, options);
        }
    }
}
