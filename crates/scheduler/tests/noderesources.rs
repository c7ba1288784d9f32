//! Conformance: NodeResourcesFit and NodeResourcesBalancedAllocation.
//! Upstream: pkg/scheduler/framework/plugins/noderesources/fit_test.go (`TestEnoughRequests`,
//! `TestNotEnoughRequests`, `TestStorageRequests`, `TestRestartableInitContainers`, `TestFitScore`,
//! `TestPreFilterDisabled`), least_allocated_test.go, most_allocated_test.go,
//! requested_to_capacity_ratio_test.go, balanced_allocation_test.go.
//!
//! 1.34 reports UnschedulableAndUnresolvable when a request exceeds the node's allocatable
//! (PR #131345); the expected codes below follow 1.34.

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.

mod common;

use std::collections::BTreeSet;

use common::{World, assert_status, ok, st};
use k8s_openapi::api::core::v1::Pod;
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::FilterPlugin;
use kubetwin_scheduler::helpers::normalize::{ShapePoint, broken_linear};
use kubetwin_scheduler::plugins::noderesources::{
    BalancedAllocation, Fit, ResourceSpec, ScoringStrategy, balanced_resource_score,
    default_resources,
};
use kubetwin_scheduler::status::{Code, Status};
use kubetwin_scheduler::testing::{make_node, make_pod};
use kubetwin_scheduler::types::PodInfo;

const EXT_A: &str = "example.com/aaa";
const EXT_B: &str = "example.com/bbb";
const K8S_A: &str = "kubernetes.io/something";
const K8S_B: &str = "subdomain.kubernetes.io/something";
const HUGE_A: &str = "hugepages-2Mi";

/// A container request as upstream's `newResourcePod` writes it: cpu (milli), memory, pods 0,
/// ephemeral storage, then scalars.
#[derive(Clone, Copy, Default)]
struct R {
    cpu: i64,
    mem: i64,
    eph: i64,
    scalars: &'static [(&'static str, i64)],
}

fn r(cpu: i64, mem: i64) -> R {
    R {
        cpu,
        mem,
        ..Default::default()
    }
}

fn rs(cpu: i64, mem: i64, scalars: &'static [(&'static str, i64)]) -> R {
    R {
        cpu,
        mem,
        eph: 0,
        scalars,
    }
}

fn reqs(x: &R) -> Vec<(String, String)> {
    let mut v = vec![
        ("cpu".to_owned(), format!("{}m", x.cpu)),
        ("memory".to_owned(), x.mem.to_string()),
        ("pods".to_owned(), "0".to_owned()),
        ("ephemeral-storage".to_owned(), x.eph.to_string()),
    ];
    for (k, n) in x.scalars {
        v.push(((*k).to_owned(), n.to_string()));
    }
    v
}

fn resource_pod(name: &str, containers: &[R], inits: &[R]) -> Pod {
    let mut b = make_pod(name);
    for c in containers {
        let rq = reqs(c);
        let refs: Vec<(&str, &str)> = rq.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        b = b.req(&refs);
    }
    for c in inits {
        let rq = reqs(c);
        let refs: Vec<(&str, &str)> = rq.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        b = b.init_req(&refs, false);
    }
    b.obj()
}

fn with_overhead(mut p: Pod, o: &[(&str, &str)]) -> Pod {
    p.spec.as_mut().expect("spec").overhead = Some(kubetwin_scheduler::testing::res(o));
    p
}

fn with_pod_level(mut p: Pod, o: &[(&str, &str)]) -> Pod {
    p.spec.as_mut().expect("spec").resources =
        Some(k8s_openapi::api::core::v1::ResourceRequirements {
            requests: Some(kubetwin_scheduler::testing::res(o)),
            ..Default::default()
        });
    p
}

fn fit_node(
    name: &str,
    cpu_m: i64,
    mem: i64,
    pods: i64,
    ext_a: i64,
    storage: i64,
    huge: i64,
) -> k8s_openapi::api::core::v1::Node {
    let cpu = format!("{cpu_m}m");
    let (mem, pods, ext, st, hg) = (
        mem.to_string(),
        pods.to_string(),
        ext_a.to_string(),
        storage.to_string(),
        huge.to_string(),
    );
    make_node(name)
        .capacity(&[
            ("cpu", &cpu),
            ("memory", &mem),
            ("pods", &pods),
            (EXT_A, &ext),
            ("ephemeral-storage", &st),
            (HUGE_A, &hg),
        ])
        .obj()
}

fn fit_with(ignored: &[&str], groups: &[&str]) -> Fit {
    Fit::new(
        ignored.iter().map(|s| (*s).to_owned()).collect(),
        groups.iter().map(|s| (*s).to_owned()).collect(),
        ScoringStrategy::LeastAllocated,
        default_resources(),
    )
}

fn run_filter(pl: &Fit, node: k8s_openapi::api::core::v1::Node, existing: Pod, pod: Pod) -> Status {
    let mut existing = existing;
    existing.spec.as_mut().expect("spec").node_name = Some("n".into());
    let w = World::new(vec![node], vec![existing]);
    w.filter(pl, &pod, "n")
}

/// Upstream: TestEnoughRequests.
#[test]
fn enough_requests() {
    let u = Code::Unschedulable;
    let x = Code::UnschedulableAndUnresolvable;
    let ins = |n: &str| format!("Insufficient {n}");
    type C = (
        &'static str,
        Pod,
        Vec<R>,
        &'static [&'static str],
        &'static [&'static str],
        Option<(Code, Vec<String>)>,
    );
    let empty: &'static [&'static str] = &[];
    let cases: Vec<C> = vec![
        (
            "no resources requested always fits",
            make_pod("p").obj(),
            vec![r(10, 20)],
            empty,
            empty,
            None,
        ),
        (
            "too many resources fails",
            resource_pod("p", &[r(1, 1)], &[]),
            vec![r(10, 20)],
            empty,
            empty,
            Some((u, vec![ins("cpu"), ins("memory")])),
        ),
        (
            "too many resources fails due to init container cpu",
            resource_pod("p", &[r(1, 1)], &[r(3, 1)]),
            vec![r(8, 19)],
            empty,
            empty,
            Some((u, vec![ins("cpu")])),
        ),
        (
            "too many resources fails due to highest init container cpu",
            resource_pod("p", &[r(1, 1)], &[r(3, 1), r(2, 1)]),
            vec![r(8, 19)],
            empty,
            empty,
            Some((u, vec![ins("cpu")])),
        ),
        (
            "too many resources fails due to init container memory",
            resource_pod("p", &[r(1, 1)], &[r(1, 3)]),
            vec![r(9, 19)],
            empty,
            empty,
            Some((u, vec![ins("memory")])),
        ),
        (
            "too many resources fails due to highest init container memory",
            resource_pod("p", &[r(1, 1)], &[r(1, 3), r(1, 2)]),
            vec![r(9, 19)],
            empty,
            empty,
            Some((u, vec![ins("memory")])),
        ),
        (
            "init container fits because it's the max, not sum, of containers and init containers",
            resource_pod("p", &[r(1, 1)], &[r(1, 1)]),
            vec![r(9, 19)],
            empty,
            empty,
            None,
        ),
        (
            "multiple init containers fit because it's the max, not sum, of containers and init containers",
            resource_pod("p", &[r(1, 1)], &[r(1, 1), r(1, 1)]),
            vec![r(9, 19)],
            empty,
            empty,
            None,
        ),
        (
            "both resources fit",
            resource_pod("p", &[r(1, 1)], &[]),
            vec![r(5, 5)],
            empty,
            empty,
            None,
        ),
        (
            "one resource memory fits",
            resource_pod("p", &[r(2, 1)], &[]),
            vec![r(9, 5)],
            empty,
            empty,
            Some((u, vec![ins("cpu")])),
        ),
        (
            "one resource cpu fits",
            resource_pod("p", &[r(1, 2)], &[]),
            vec![r(5, 19)],
            empty,
            empty,
            Some((u, vec![ins("memory")])),
        ),
        (
            "equal edge case",
            resource_pod("p", &[r(5, 1)], &[]),
            vec![r(5, 19)],
            empty,
            empty,
            None,
        ),
        (
            "equal edge case for init container",
            resource_pod("p", &[r(4, 1)], &[r(5, 1)]),
            vec![r(5, 19)],
            empty,
            empty,
            None,
        ),
        (
            "extended resource fits",
            resource_pod("p", &[rs(0, 0, &[(EXT_A, 1)])], &[]),
            vec![r(0, 0)],
            empty,
            empty,
            None,
        ),
        (
            "extended resource fits for init container",
            resource_pod("p", &[r(0, 0)], &[rs(0, 0, &[(EXT_A, 1)])]),
            vec![r(0, 0)],
            empty,
            empty,
            None,
        ),
        (
            "extended resource capacity enforced",
            resource_pod("p", &[rs(1, 1, &[(EXT_A, 10)])], &[]),
            vec![rs(0, 0, &[(EXT_A, 0)])],
            empty,
            empty,
            Some((x, vec![ins(EXT_A)])),
        ),
        (
            "extended resource capacity enforced for init container",
            resource_pod("p", &[r(0, 0)], &[rs(1, 1, &[(EXT_A, 10)])]),
            vec![rs(0, 0, &[(EXT_A, 0)])],
            empty,
            empty,
            Some((x, vec![ins(EXT_A)])),
        ),
        (
            "extended resource allocatable enforced",
            resource_pod("p", &[rs(1, 1, &[(EXT_A, 1)])], &[]),
            vec![rs(0, 0, &[(EXT_A, 5)])],
            empty,
            empty,
            Some((u, vec![ins(EXT_A)])),
        ),
        (
            "extended resource allocatable enforced for init container",
            resource_pod("p", &[r(0, 0)], &[rs(1, 1, &[(EXT_A, 1)])]),
            vec![rs(0, 0, &[(EXT_A, 5)])],
            empty,
            empty,
            Some((u, vec![ins(EXT_A)])),
        ),
        (
            "extended resource allocatable enforced for multiple containers",
            resource_pod(
                "p",
                &[rs(1, 1, &[(EXT_A, 3)]), rs(1, 1, &[(EXT_A, 3)])],
                &[],
            ),
            vec![rs(0, 0, &[(EXT_A, 2)])],
            empty,
            empty,
            Some((x, vec![ins(EXT_A)])),
        ),
        (
            "extended resource allocatable admits multiple init containers",
            resource_pod(
                "p",
                &[r(0, 0)],
                &[rs(1, 1, &[(EXT_A, 3)]), rs(1, 1, &[(EXT_A, 3)])],
            ),
            vec![rs(0, 0, &[(EXT_A, 2)])],
            empty,
            empty,
            None,
        ),
        (
            "extended resource allocatable enforced for multiple init containers",
            resource_pod(
                "p",
                &[r(0, 0)],
                &[rs(1, 1, &[(EXT_A, 6)]), rs(1, 1, &[(EXT_A, 3)])],
            ),
            vec![rs(0, 0, &[(EXT_A, 2)])],
            empty,
            empty,
            Some((x, vec![ins(EXT_A)])),
        ),
        (
            "extended resource allocatable enforced for unknown resource",
            resource_pod("p", &[rs(1, 1, &[(EXT_B, 1)])], &[]),
            vec![r(0, 0)],
            empty,
            empty,
            Some((x, vec![ins(EXT_B)])),
        ),
        (
            "extended resource allocatable enforced for unknown resource for init container",
            resource_pod("p", &[r(0, 0)], &[rs(1, 1, &[(EXT_B, 1)])]),
            vec![r(0, 0)],
            empty,
            empty,
            Some((x, vec![ins(EXT_B)])),
        ),
        (
            "kubernetes.io resource capacity enforced",
            resource_pod("p", &[rs(1, 1, &[(K8S_A, 10)])], &[]),
            vec![r(0, 0)],
            empty,
            empty,
            Some((x, vec![ins(K8S_A)])),
        ),
        (
            "kubernetes.io resource capacity enforced for init container",
            resource_pod("p", &[r(0, 0)], &[rs(1, 1, &[(K8S_B, 10)])]),
            vec![r(0, 0)],
            empty,
            empty,
            Some((x, vec![ins(K8S_B)])),
        ),
        (
            "hugepages resource capacity enforced",
            resource_pod("p", &[rs(1, 1, &[(HUGE_A, 10)])], &[]),
            vec![rs(0, 0, &[(HUGE_A, 0)])],
            empty,
            empty,
            Some((x, vec![ins(HUGE_A)])),
        ),
        (
            "hugepages resource capacity enforced for init container",
            resource_pod("p", &[r(0, 0)], &[rs(1, 1, &[(HUGE_A, 10)])]),
            vec![rs(0, 0, &[(HUGE_A, 0)])],
            empty,
            empty,
            Some((x, vec![ins(HUGE_A)])),
        ),
        (
            "hugepages resource allocatable enforced for multiple containers",
            resource_pod(
                "p",
                &[rs(1, 1, &[(HUGE_A, 3)]), rs(1, 1, &[(HUGE_A, 3)])],
                &[],
            ),
            vec![rs(0, 0, &[(HUGE_A, 2)])],
            empty,
            empty,
            Some((x, vec![ins(HUGE_A)])),
        ),
        (
            "skip checking ignored extended resource",
            resource_pod("p", &[rs(1, 1, &[(EXT_B, 1)])], &[]),
            vec![r(0, 0)],
            &["example.com/bbb"],
            empty,
            None,
        ),
        (
            "resources + pod overhead fits",
            with_overhead(
                resource_pod("p", &[r(1, 1)], &[]),
                &[("cpu", "3m"), ("memory", "13")],
            ),
            vec![r(5, 5)],
            empty,
            empty,
            None,
        ),
        (
            "requests + overhead does not fit for memory",
            with_overhead(
                resource_pod("p", &[r(1, 1)], &[]),
                &[("cpu", "1m"), ("memory", "15")],
            ),
            vec![r(5, 5)],
            empty,
            empty,
            Some((u, vec![ins("memory")])),
        ),
        (
            "skip checking ignored extended resource via resource groups",
            resource_pod("p", &[rs(1, 1, &[(EXT_B, 1), (K8S_A, 1)])], &[]),
            vec![r(0, 0)],
            empty,
            &["example.com"],
            Some((x, vec![ins(K8S_A)])),
        ),
        (
            "skip checking extended resource request with quantity zero via resource groups",
            resource_pod("p", &[rs(1, 1, &[(EXT_A, 0)])], &[]),
            vec![rs(0, 0, &[(EXT_A, 6)])],
            empty,
            empty,
            None,
        ),
        (
            "skip checking resource request with quantity zero",
            resource_pod("p", &[rs(0, 0, &[(EXT_A, 1)])], &[]),
            vec![rs(20, 30, &[(EXT_A, 1)])],
            empty,
            empty,
            None,
        ),
        (
            "both pod-level and container-level resources fit",
            with_pod_level(
                resource_pod("p", &[r(1, 1)], &[]),
                &[("cpu", "1m"), ("memory", "2")],
            ),
            vec![r(5, 5)],
            empty,
            empty,
            None,
        ),
        (
            "pod-level cpu resource not fit",
            with_pod_level(
                resource_pod("p", &[r(1, 1)], &[]),
                &[("cpu", "7m"), ("memory", "2")],
            ),
            vec![r(5, 5)],
            empty,
            empty,
            Some((u, vec![ins("cpu")])),
        ),
        (
            "pod-level memory resource not fit",
            with_pod_level(
                resource_pod("p", &[r(1, 1)], &[]),
                &[("cpu", "3m"), ("memory", "2")],
            ),
            vec![r(5, 19)],
            empty,
            empty,
            Some((u, vec![ins("memory")])),
        ),
        (
            "pod-level hugepages resource fit",
            with_pod_level(
                make_pod("p").obj(),
                &[("cpu", "3m"), ("memory", "2"), (HUGE_A, "5")],
            ),
            vec![],
            empty,
            empty,
            None,
        ),
        (
            "both pod-level and container-level hugepages resource fit",
            with_pod_level(
                resource_pod("p", &[rs(1, 1, &[(HUGE_A, 3)])], &[]),
                &[("cpu", "3m"), ("memory", "2"), (HUGE_A, "5")],
            ),
            vec![],
            empty,
            empty,
            None,
        ),
        (
            "pod-level hugepages resource not fit",
            with_pod_level(
                make_pod("p").obj(),
                &[("cpu", "3m"), ("memory", "2"), (HUGE_A, "10")],
            ),
            vec![],
            empty,
            empty,
            Some((x, vec![ins(HUGE_A)])),
        ),
        (
            "one pod-level cpu resource fits and all init and non-init containers resources fit",
            with_pod_level(
                resource_pod("p", &[r(1, 1)], &[r(1, 1)]),
                &[("cpu", "3m"), ("memory", "2")],
            ),
            vec![r(5, 19)],
            empty,
            empty,
            Some((u, vec![ins("memory")])),
        ),
    ];
    for (name, pod, existing, ignored, groups, want) in cases {
        let pl = fit_with(ignored, groups);
        let got = run_filter(
            &pl,
            fit_node("n", 10, 20, 32, 5, 20, 5),
            resource_pod("existing", &existing, &[]),
            pod,
        );
        let want = match want {
            None => ok(),
            Some((code, reasons)) => Status::new(code, reasons),
        };
        assert_status(name, &got, &want);
    }
}

/// Upstream: TestNotEnoughRequests.
#[test]
fn not_enough_requests() {
    let cases = vec![
        (
            "even without specified resources, predicate fails when there's no space for additional pod",
            make_pod("p").obj(),
            r(10, 20),
        ),
        (
            "even if both resources fit, predicate fails when there's no space for additional pod",
            resource_pod("p", &[r(1, 1)], &[]),
            r(5, 5),
        ),
        (
            "even for equal edge case, predicate fails when there's no space for additional pod",
            resource_pod("p", &[r(5, 1)], &[]),
            r(5, 19),
        ),
        (
            "even for equal edge case, predicate fails when there's no space for additional pod due to init container",
            resource_pod("p", &[r(5, 1)], &[r(5, 1)]),
            r(5, 19),
        ),
    ];
    for (name, pod, existing) in cases {
        let got = run_filter(
            &Fit::default(),
            fit_node("n", 10, 20, 1, 0, 0, 0),
            resource_pod("existing", &[existing], &[]),
            pod,
        );
        assert_status(name, &got, &st(Code::Unschedulable, &["Too many pods"]));
    }
}

/// Upstream: TestStorageRequests.
#[test]
fn storage_requests() {
    let eph = |n: i64| R {
        eph: n,
        ..Default::default()
    };
    let cases = vec![
        (
            "empty storage requested, and pod fits",
            resource_pod("p", &[r(1, 1)], &[]),
            R {
                cpu: 2,
                mem: 10,
                ..Default::default()
            },
            ok(),
        ),
        (
            "storage ephemeral local storage request exceeds allocatable",
            resource_pod("p", &[eph(25)], &[]),
            r(2, 2),
            st(
                Code::UnschedulableAndUnresolvable,
                &["Insufficient ephemeral-storage"],
            ),
        ),
        (
            "ephemeral local storage is sufficient",
            resource_pod("p", &[eph(5)], &[]),
            R {
                cpu: 2,
                mem: 2,
                eph: 10,
                scalars: &[],
            },
            ok(),
        ),
        (
            "pod fits",
            resource_pod("p", &[eph(10)], &[]),
            r(2, 2),
            ok(),
        ),
    ];
    for (name, pod, existing, want) in cases {
        let got = run_filter(
            &Fit::default(),
            fit_node("n", 10, 20, 32, 5, 20, 5),
            resource_pod("existing", &[existing], &[]),
            pod,
        );
        assert_status(name, &got, &want);
    }
}

/// Upstream: TestRestartableInitContainers (SidecarContainers is GA in 1.34: the enabled cases).
#[test]
fn restartable_init_containers() {
    let node = || {
        make_node("n")
            .capacity(&[("cpu", "2m"), ("memory", "0"), ("pods", "1")])
            .obj()
    };
    let sidecar = |main: Option<&str>, side: Option<&str>| {
        let mut b = make_pod("p");
        b = match main {
            Some(c) => b.req(&[("cpu", c)]),
            None => b.container("regular"),
        };
        b.init_req(&side.map(|c| vec![("cpu", c)]).unwrap_or_default(), true)
            .obj()
    };
    let cases = vec![
        (
            "allow pod without restartable init containers if sidecar containers is enabled",
            make_pod("p").container("regular").obj(),
            ok(),
        ),
        (
            "allow pod with restartable init containers if sidecar containers is enabled",
            sidecar(None, None),
            ok(),
        ),
        (
            "allow pod if the total requested resources do not exceed the node's allocatable resources",
            sidecar(Some("1m"), Some("1m")),
            ok(),
        ),
        (
            "not allow pod if the total requested resources do exceed the node's allocatable resources",
            sidecar(Some("1m"), Some("2m")),
            st(Code::UnschedulableAndUnresolvable, &["Insufficient cpu"]),
        ),
    ];
    for (name, pod, want) in cases {
        let w = World::new(vec![node()], vec![]);
        assert_status(name, &w.filter(&Fit::default(), &pod, "n"), &want);
    }
}

/// Upstream: TestPreFilterDisabled.
#[test]
fn prefilter_disabled() {
    let w = World::new(vec![make_node("n").obj()], vec![]);
    let info = PodInfo::new(make_pod("p").obj()).expect("pod");
    let s = Fit::default().filter(
        &w.handle(),
        &CycleState::new(),
        &info,
        w.snapshot.get("n").expect("node"),
    );
    assert_eq!(s.code(), Code::Error);
}

fn score_world(nodes: &[(&str, &str, &str)], existing: &[(&str, &str, &str)]) -> World {
    let ns = nodes
        .iter()
        .map(|(n, c, m)| make_node(n).capacity(&[("cpu", c), ("memory", m)]).obj())
        .collect();
    let ps = existing
        .iter()
        .enumerate()
        .map(|(i, (n, c, m))| {
            let mut b = make_pod(&format!("e{i}")).node(n);
            b = if c.is_empty() && m.is_empty() {
                b.container("x")
            } else {
                b.req(&[("cpu", c), ("memory", m)])
            };
            b.obj()
        })
        .collect();
    World::new(ns, ps)
}

fn shape(points: &[(i64, i64)]) -> ScoringStrategy {
    ScoringStrategy::RequestedToCapacityRatio(
        points
            .iter()
            .map(|(u, s)| ShapePoint {
                utilization: *u,
                score: *s,
            })
            .collect(),
    )
}

/// Upstream: TestFitScore.
#[test]
fn fit_score() {
    let nodes = [("node1", "4000", "10000"), ("node2", "6000", "10000")];
    let existing = [("node1", "2000", "4000"), ("node2", "1000", "2000")];
    let big = make_pod("p")
        .req(&[("cpu", "3000"), ("memory", "5000")])
        .obj();
    let small = make_pod("p")
        .req(&[("cpu", "1000"), ("memory", "2000")])
        .obj();
    let cases = vec![
        (
            "test case for ScoringStrategy RequestedToCapacityRatio case1",
            big.clone(),
            shape(&[(0, 10), (100, 0)]),
            vec![10, 32],
        ),
        (
            "test case for ScoringStrategy RequestedToCapacityRatio case2",
            big.clone(),
            shape(&[(0, 0), (100, 10)]),
            vec![95, 68],
        ),
        (
            "test case for ScoringStrategy MostAllocated",
            small.clone(),
            ScoringStrategy::MostAllocated,
            vec![67, 36],
        ),
        (
            "test case for ScoringStrategy LeastAllocated",
            small.clone(),
            ScoringStrategy::LeastAllocated,
            vec![32, 63],
        ),
    ];
    for (name, pod, strategy, want) in cases {
        let w = score_world(&nodes, &existing);
        let pl = Fit::new(
            BTreeSet::new(),
            BTreeSet::new(),
            strategy,
            default_resources(),
        );
        let got: Vec<i64> = w.scores(&pl, &pod).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, want, "{name}");
    }
}

/// Nodes as `(name, cpu, memory, scalars)`; existing pods as `(node, requests)`.
fn world2(
    nodes: &[(&str, &str, &str, &[(&str, &str)])],
    existing: &[(&str, &[(&str, &str)])],
) -> World {
    let ns = nodes
        .iter()
        .map(|(n, c, m, extra)| {
            let mut caps: Vec<(&str, &str)> = Vec::new();
            if !c.is_empty() {
                caps.push(("cpu", c));
            }
            if !m.is_empty() {
                caps.push(("memory", m));
            }
            caps.extend_from_slice(extra);
            make_node(n).capacity(&caps).obj()
        })
        .collect();
    let ps = existing
        .iter()
        .enumerate()
        .map(|(i, (n, rq))| {
            let b = make_pod(&format!("e{i}")).node(n);
            match rq {
                [] => b.container("container").obj(),
                [("none", _)] => b.obj(),
                _ => b.req(rq).obj(),
            }
        })
        .collect();
    World::new(ns, ps)
}

fn spec(pairs: &[(&str, i64)]) -> Vec<ResourceSpec> {
    pairs
        .iter()
        .map(|(n, w)| ResourceSpec {
            name: (*n).to_owned(),
            weight: *w,
        })
        .collect()
}

const EXT: &str = "intel.com/foo";

/// Upstream: TestLeastAllocatedScoringStrategy (least_allocated_test.go).
#[test]
fn least_allocated() {
    let two_reqs = || {
        make_pod("p")
            .req(&[("cpu", "1000"), ("memory", "2000")])
            .req(&[("cpu", "2000"), ("memory", "3000")])
            .obj()
    };
    let none: &[(&str, &str)] = &[];
    let cm = |c: &'static str, m: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("cpu", c), ("memory", m)]
    };
    let defaults = default_resources();
    type Case<'a> = (
        &'a str,
        Pod,
        Vec<(&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)])>,
        Vec<(&'a str, Vec<(&'a str, &'a str)>)>,
        Vec<ResourceSpec>,
        Vec<i64>,
    );
    let cases: Vec<Case> = vec![
        (
            "nothing scheduled, nothing requested",
            make_pod("p").obj(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "4000", "10000", none),
            ],
            vec![],
            defaults.clone(),
            vec![100, 100],
        ),
        (
            "nothing scheduled, resources requested, differently sized nodes",
            two_reqs(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "6000", "10000", none),
            ],
            vec![],
            defaults.clone(),
            vec![37, 50],
        ),
        (
            "no resources requested, pods scheduled",
            make_pod("p").obj(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "4000", "10000", none),
            ],
            vec![
                ("node1", vec![("none", "")]),
                ("node1", vec![("none", "")]),
                ("node2", vec![("none", "")]),
                ("node2", vec![("none", "")]),
            ],
            defaults.clone(),
            vec![100, 100],
        ),
        (
            "no resources requested, pods scheduled with resources",
            make_pod("p").obj(),
            vec![
                ("node1", "10000", "20000", none),
                ("node2", "10000", "20000", none),
            ],
            vec![
                ("node1", cm("3000", "0")),
                ("node1", cm("3000", "0")),
                ("node2", cm("3000", "0")),
                ("node2", cm("3000", "5000")),
            ],
            defaults.clone(),
            vec![70, 57],
        ),
        (
            "resources requested, pods scheduled with resources",
            two_reqs(),
            vec![
                ("node1", "10000", "20000", none),
                ("node2", "10000", "20000", none),
            ],
            vec![("node1", cm("3000", "0")), ("node2", cm("3000", "5000"))],
            defaults.clone(),
            vec![57, 45],
        ),
        (
            "resources requested, pods scheduled with resources, differently sized nodes",
            two_reqs(),
            vec![
                ("node1", "10000", "20000", none),
                ("node2", "10000", "50000", none),
            ],
            vec![("node1", cm("3000", "0")), ("node2", cm("3000", "5000"))],
            defaults.clone(),
            vec![57, 60],
        ),
        (
            "requested resources exceed node capacity",
            make_pod("p").req(&[("cpu", "3000"), ("memory", "0")]).obj(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "4000", "10000", none),
            ],
            vec![("node1", cm("3000", "0")), ("node2", cm("3000", "5000"))],
            defaults.clone(),
            vec![50, 25],
        ),
        (
            "zero node resources, pods scheduled with resources",
            make_pod("p").obj(),
            vec![("node1", "", "", none), ("node2", "", "", none)],
            vec![("node1", cm("3000", "0")), ("node2", cm("3000", "5000"))],
            defaults.clone(),
            vec![0, 0],
        ),
        (
            "nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes",
            two_reqs(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "6000", "10000", none),
            ],
            vec![],
            spec(&[("memory", 2), ("cpu", 1)]),
            vec![41, 50],
        ),
        (
            "bypass extended resource if the pod does not request",
            two_reqs(),
            vec![
                ("node1", "6000", "10000", none),
                ("node2", "6000", "10000", &[(EXT, "4")]),
            ],
            vec![],
            spec(&[("cpu", 1), ("memory", 1), (EXT, 1)]),
            vec![50, 50],
        ),
        (
            "honor extended resource if the pod requests",
            make_pod("p")
                .req(&[("cpu", "3000"), ("memory", "5000"), (EXT, "2")])
                .obj(),
            vec![
                ("node1", "6000", "10000", &[(EXT, "4")]),
                ("node2", "6000", "10000", &[(EXT, "10")]),
            ],
            vec![],
            spec(&[("cpu", 1), ("memory", 1), (EXT, 1)]),
            vec![50, 60],
        ),
        (
            "if the node doesn't have a resource",
            make_pod("p")
                .req(&[("cpu", "3000"), ("memory", "4000")])
                .obj(),
            vec![
                ("node1", "6000", "10000", none),
                ("node2", "6000", "10000", &[(EXT, "4")]),
            ],
            vec![],
            spec(&[(EXT, 2), ("cpu", 1), ("memory", 1)]),
            vec![55, 55],
        ),
    ];
    for (name, pod, nodes, existing, resources, want) in cases {
        let ex: Vec<(&str, &[(&str, &str)])> =
            existing.iter().map(|(n, r)| (*n, r.as_slice())).collect();
        let w = world2(&nodes, &ex);
        let pl = Fit::new(
            BTreeSet::new(),
            BTreeSet::new(),
            ScoringStrategy::LeastAllocated,
            resources,
        );
        let got: Vec<i64> = w.scores(&pl, &pod).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, want, "{name}");
    }
}

/// Upstream: TestMostAllocatedScoringStrategy (most_allocated_test.go).
#[test]
fn most_allocated() {
    let two_reqs = || {
        make_pod("p")
            .req(&[("cpu", "1000"), ("memory", "2000")])
            .req(&[("cpu", "2000"), ("memory", "3000")])
            .obj()
    };
    let none: &[(&str, &str)] = &[];
    let cm = |c: &'static str, m: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("cpu", c), ("memory", m)]
    };
    let defaults = default_resources();
    type Case<'a> = (
        &'a str,
        Pod,
        Vec<(&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)])>,
        Vec<(&'a str, Vec<(&'a str, &'a str)>)>,
        Vec<ResourceSpec>,
        Vec<i64>,
    );
    let cases: Vec<Case> = vec![
        (
            "nothing scheduled, nothing requested",
            make_pod("p").obj(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "4000", "10000", none),
            ],
            vec![],
            defaults.clone(),
            vec![0, 0],
        ),
        (
            "nothing scheduled, resources requested, differently sized nodes",
            two_reqs(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "6000", "10000", none),
            ],
            vec![],
            defaults.clone(),
            vec![62, 50],
        ),
        (
            "no resources requested, pods scheduled with resources",
            make_pod("p").obj(),
            vec![
                ("node1", "10000", "20000", none),
                ("node2", "10000", "20000", none),
            ],
            vec![
                ("node1", cm("3000", "0")),
                ("node1", cm("3000", "0")),
                ("node2", cm("3000", "0")),
                ("node2", cm("3000", "5000")),
            ],
            defaults.clone(),
            vec![30, 42],
        ),
        (
            "resources requested, pods scheduled with resources",
            two_reqs(),
            vec![
                ("node1", "10000", "20000", none),
                ("node2", "10000", "20000", none),
            ],
            vec![("node1", cm("3000", "0")), ("node2", cm("3000", "5000"))],
            defaults.clone(),
            vec![42, 55],
        ),
        (
            "resources requested equal node capacity",
            make_pod("p")
                .req(&[("cpu", "2000"), ("memory", "4000")])
                .req(&[("cpu", "3000"), ("memory", "5000")])
                .obj(),
            vec![
                ("node1", "5000", "10000", none),
                ("node2", "10000", "9000", none),
            ],
            vec![],
            defaults.clone(),
            vec![95, 75],
        ),
        (
            "nothing scheduled, resources requested, differently sized nodes (weighted)",
            two_reqs(),
            vec![
                ("node1", "4000", "10000", none),
                ("node2", "6000", "10000", none),
            ],
            vec![],
            spec(&[("memory", 2), ("cpu", 1)]),
            vec![58, 50],
        ),
        (
            "no resources requested, pods scheduled, nonzero request for resource",
            make_pod("p").container("container").obj(),
            vec![
                ("node1", "250m", "1000Mi", none),
                ("node2", "250m", "1000Mi", none),
            ],
            vec![("node1", vec![]), ("node1", vec![])],
            defaults.clone(),
            vec![80, 30],
        ),
        (
            "bypass extended resource if the pod does not request",
            two_reqs(),
            vec![
                ("node1", "6000", "10000", none),
                ("node2", "6000", "10000", &[(EXT, "4")]),
            ],
            vec![],
            spec(&[("cpu", 1), ("memory", 1), (EXT, 1)]),
            vec![50, 50],
        ),
        (
            "honor extended resource if the pod request",
            make_pod("p")
                .req(&[("cpu", "3000"), ("memory", "5000"), (EXT, "2")])
                .obj(),
            vec![
                ("node1", "6000", "10000", &[(EXT, "4")]),
                ("node2", "6000", "10000", &[(EXT, "10")]),
            ],
            vec![],
            spec(&[("cpu", 1), ("memory", 1), (EXT, 1)]),
            vec![50, 40],
        ),
        (
            "if the node doesn't have a resource",
            make_pod("p")
                .req(&[("cpu", "3000"), ("memory", "4000")])
                .obj(),
            vec![
                ("node1", "6000", "10000", none),
                ("node2", "6000", "10000", &[(EXT, "4")]),
            ],
            vec![],
            spec(&[(EXT, 2), ("cpu", 1), ("memory", 1)]),
            vec![45, 45],
        ),
    ];
    for (name, pod, nodes, existing, resources, want) in cases {
        let ex: Vec<(&str, &[(&str, &str)])> =
            existing.iter().map(|(n, r)| (*n, r.as_slice())).collect();
        let w = world2(&nodes, &ex);
        let pl = Fit::new(
            BTreeSet::new(),
            BTreeSet::new(),
            ScoringStrategy::MostAllocated,
            resources,
        );
        let got: Vec<i64> = w.scores(&pl, &pod).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, want, "{name}");
    }
}

/// Upstream: TestBrokenLinearFunction (requested_to_capacity_ratio_test.go).
#[test]
fn broken_linear_function() {
    let shape = |p: &[(i64, i64)]| {
        p.iter()
            .map(|(u, s)| ShapePoint {
                utilization: *u,
                score: *s,
            })
            .collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<ShapePoint>, Vec<(i64, i64)>)> = vec![
        (
            shape(&[(10, 1), (90, 9)]),
            vec![
                (-10, 1),
                (0, 1),
                (9, 1),
                (10, 1),
                (15, 1),
                (20, 2),
                (89, 8),
                (90, 9),
                (99, 9),
                (100, 9),
                (110, 9),
            ],
        ),
        (
            shape(&[(0, 2), (40, 10), (100, 0)]),
            vec![
                (-10, 2),
                (0, 2),
                (20, 6),
                (30, 8),
                (40, 10),
                (70, 5),
                (100, 0),
                (110, 0),
            ],
        ),
        (
            shape(&[(0, 2), (40, 2), (100, 2)]),
            vec![
                (-10, 2),
                (0, 2),
                (20, 2),
                (30, 2),
                (40, 2),
                (70, 2),
                (100, 2),
                (110, 2),
            ],
        ),
    ];
    for (i, (s, points)) in cases.into_iter().enumerate() {
        for (p, want) in points {
            assert_eq!(broken_linear(&s, p), want, "shape {i} at {p}");
        }
    }
}

/// Upstream: TestNodeResourcesBalancedAllocation (balanced_allocation_test.go), the cases
/// without DRA extended resources.
#[test]
fn balanced_allocation() {
    let none: &[(&str, &str)] = &[];
    let gpu: &[(&str, &str)] = &[("nvidia.com/gpu", "8")];
    let cpu_and_memory = |name: &str, node: &str| {
        make_pod(name)
            .node(node)
            .req(&[("cpu", "1000m"), ("memory", "2000")])
            .req(&[("cpu", "2000m"), ("memory", "3000")])
            .obj()
    };
    let cpu_only = |name: &str, node: &str| {
        make_pod(name)
            .node(node)
            .req(&[("cpu", "1000m"), ("memory", "0")])
            .req(&[("cpu", "2000m"), ("memory", "0")])
            .obj()
    };
    let cpu_mem_gpu = |name: &str, node: &str| {
        make_pod(name)
            .node(node)
            .req(&[("cpu", "1000m"), ("memory", "2000")])
            .req(&[
                ("cpu", "2000m"),
                ("memory", "3000"),
                ("nvidia.com/gpu", "3"),
            ])
            .obj()
    };
    let unbound = |p: Pod| {
        let mut p = p;
        p.spec.as_mut().expect("spec").node_name = None;
        p
    };
    let node = |n: &str, cpu_m: &str, mem: &str, extra: &[(&str, &str)]| {
        let mut caps = vec![("cpu", cpu_m), ("memory", mem)];
        caps.extend_from_slice(extra);
        make_node(n).capacity(&caps).obj()
    };
    let three = spec(&[("cpu", 1), ("memory", 1), ("nvidia.com/gpu", 1)]);
    let cases: Vec<(
        &str,
        Pod,
        Vec<k8s_openapi::api::core::v1::Node>,
        Vec<Pod>,
        Vec<ResourceSpec>,
        Option<Vec<i64>>,
    )> = vec![
        (
            "nothing scheduled, nothing requested, skip in PreScore",
            make_pod("p").obj(),
            vec![
                node("node1", "4000m", "10000", none),
                node("node2", "4000m", "10000", none),
            ],
            vec![],
            default_resources(),
            None,
        ),
        (
            "nothing scheduled, resources requested, differently sized nodes",
            unbound(cpu_and_memory("p", "x")),
            vec![
                node("node1", "4000m", "10000", none),
                node("node2", "6000m", "10000", none),
            ],
            vec![],
            default_resources(),
            Some(vec![87, 100]),
        ),
        (
            "resources requested, pods scheduled with resources",
            unbound(cpu_and_memory("p", "x")),
            vec![
                node("node1", "10000m", "20000", none),
                node("node2", "10000m", "20000", none),
            ],
            vec![cpu_only("a", "node1"), cpu_and_memory("b", "node2")],
            default_resources(),
            Some(vec![82, 95]),
        ),
        (
            "resources requested, pods scheduled with resources, differently sized nodes",
            unbound(cpu_and_memory("p", "x")),
            vec![
                node("node1", "10000m", "20000", none),
                node("node2", "10000m", "50000", none),
            ],
            vec![cpu_only("a", "node1"), cpu_and_memory("b", "node2")],
            default_resources(),
            Some(vec![82, 80]),
        ),
        (
            "requested resources at node capacity",
            unbound(cpu_only("p", "x")),
            vec![
                node("node1", "6000m", "10000", none),
                node("node2", "6000m", "10000", none),
            ],
            vec![cpu_only("a", "node1"), cpu_and_memory("b", "node2")],
            default_resources(),
            Some(vec![50, 75]),
        ),
        (
            "include scalar resource on a node for balanced resource allocation",
            make_pod("p")
                .req(&[("memory", "0"), ("nvidia.com/gpu", "1")])
                .obj(),
            vec![
                node("node1", "3500m", "40000", gpu),
                node("node2", "3500m", "40000", gpu),
            ],
            vec![cpu_and_memory("a", "node2"), cpu_mem_gpu("b", "node1")],
            three.clone(),
            Some(vec![70, 65]),
        ),
        (
            "node without the scalar resource should skip the scalar resource",
            unbound(cpu_and_memory("p", "x")),
            vec![
                node("node1", "3500m", "40000", gpu),
                node("node2", "3500m", "40000", none),
            ],
            vec![],
            three,
            Some(vec![63, 63]),
        ),
    ];
    for (name, pod, nodes, pods, resources, want) in cases {
        let w = World::new(nodes, pods);
        let pl = BalancedAllocation::new(resources);
        let info = PodInfo::new(pod.clone()).expect("pod");
        let list: Vec<_> = w.snapshot.list().collect();
        let s = kubetwin_scheduler::framework::PreScorePlugin::pre_score(
            &pl,
            &w.handle(),
            &mut CycleState::new(),
            &info,
            &list,
        );
        match want {
            None => assert_eq!(s.code(), Code::Skip, "{name}"),
            Some(want) => {
                let got: Vec<i64> = w.scores(&pl, &pod).into_iter().map(|(_, s)| s).collect();
                assert_eq!(got, want, "{name}");
            }
        }
    }
    // Three resources use the population standard deviation.
    assert_eq!(balanced_resource_score(&[1, 2, 3], &[4, 4, 4]), 79);
}
