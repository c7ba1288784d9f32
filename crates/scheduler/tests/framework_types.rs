//! Conformance: the FitError message and PodInfo resource calculation.
//! Upstream: pkg/scheduler/framework/types_test.go (`TestFitError_Error`,
//! `TestPodInfoCalculateResources`), pkg/scheduler/schedule_one_test.go
//! (`TestNumFeasibleNodesToFind`).

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.

mod common;

use kubetwin_scheduler::framework::{Diagnosis, FitError, NodeToStatus};
use kubetwin_scheduler::resource::{DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST};
use kubetwin_scheduler::schedule::num_feasible_nodes_to_find;
use kubetwin_scheduler::status::{Code, Status};
use kubetwin_scheduler::testing::make_pod;
use kubetwin_scheduler::types::PodInfo;

fn diag(pre: &str, statuses: &[(&str, &str)], post: &str) -> Diagnosis {
    let mut m = NodeToStatus::new();
    for (n, r) in statuses {
        m.set(n, Status::with_reason(Code::Unschedulable, *r));
    }
    Diagnosis {
        node_to_status: m,
        pre_filter_msg: pre.into(),
        post_filter_msg: post.into(),
        ..Default::default()
    }
}

/// Upstream: TestFitError_Error (types_test.go), all 8 cases.
#[test]
fn fit_error_message() {
    let pf = "Node(s) failed PreFilter plugin FalsePreFilter";
    let f1 = "Node(s) failed Filter plugin FalseFilter-1";
    let f2 = "Node(s) failed Filter plugin FalseFilter-2";
    let post = "Error running PostFilter plugin FailedPostFilter";
    let cases: Vec<(&str, usize, Diagnosis, &str)> = vec![
        (
            "nodes failed Prefilter plugin",
            3,
            diag(pf, &[("node1", pf), ("node2", pf), ("node3", pf)], ""),
            "0/3 nodes are available: Node(s) failed PreFilter plugin FalsePreFilter.",
        ),
        (
            "nodes failed Prefilter plugin and the preemption also failed",
            3,
            diag(pf, &[("node1", pf), ("node2", pf), ("node3", pf)], post),
            "0/3 nodes are available: Node(s) failed PreFilter plugin FalsePreFilter. Error running PostFilter plugin FailedPostFilter",
        ),
        (
            "nodes failed one Filter plugin with an empty PostFilterMsg",
            3,
            diag("", &[("node1", f1), ("node2", f1), ("node3", f1)], ""),
            "0/3 nodes are available: 3 Node(s) failed Filter plugin FalseFilter-1.",
        ),
        (
            "nodes failed one Filter plugin with a non-empty PostFilterMsg",
            3,
            diag("", &[("node1", f1), ("node2", f1), ("node3", f1)], post),
            "0/3 nodes are available: 3 Node(s) failed Filter plugin FalseFilter-1. Error running PostFilter plugin FailedPostFilter",
        ),
        (
            "nodes failed two Filter plugins with an empty PostFilterMsg",
            3,
            diag("", &[("node1", f1), ("node2", f1), ("node3", f2)], ""),
            "0/3 nodes are available: 1 Node(s) failed Filter plugin FalseFilter-2, 2 Node(s) failed Filter plugin FalseFilter-1.",
        ),
        (
            "nodes failed two Filter plugins with a non-empty PostFilterMsg",
            3,
            diag("", &[("node1", f1), ("node2", f1), ("node3", f2)], post),
            "0/3 nodes are available: 1 Node(s) failed Filter plugin FalseFilter-2, 2 Node(s) failed Filter plugin FalseFilter-1. Error running PostFilter plugin FailedPostFilter",
        ),
        (
            "failed to Permit on node",
            1,
            diag("", &[("node1", "Node failed Permit plugin Permit-1")], ""),
            "0/1 nodes are available: 1 Node failed Permit plugin Permit-1.",
        ),
        (
            "failed to Reserve on node",
            1,
            diag("", &[("node1", "Node failed Reserve plugin Reserve-1")], ""),
            "0/1 nodes are available: 1 Node failed Reserve plugin Reserve-1.",
        ),
    ];
    for (name, n, d, want) in cases {
        let e = FitError {
            pod: "default/p".into(),
            num_all_nodes: n,
            diagnosis: d,
        };
        assert_eq!(e.to_string(), want, "{name}");
    }
}

/// Absent nodes (excluded by a PreFilterResult) count with the absent status (1.32+), and the
/// histogram sorts as strings ("10 …" before "2 …").
#[test]
fn fit_error_absent_nodes_and_string_sort() {
    let mut d = diag("", &[("a", "x"), ("b", "y"), ("c", "y")], "");
    d.node_to_status
        .set_absent_nodes_status(Status::with_reason(
            Code::UnschedulableAndUnresolvable,
            "node(s) didn't satisfy plugin(s) [NodeAffinity]",
        ));
    let e = FitError {
        pod: "p".into(),
        num_all_nodes: 13,
        diagnosis: d,
    };
    assert_eq!(
        e.to_string(),
        "0/13 nodes are available: 1 x, 10 node(s) didn't satisfy plugin(s) [NodeAffinity], 2 y."
    );
}

/// Upstream: TestNumFeasibleNodesToFind (schedule_one_test.go).
#[test]
fn num_feasible_nodes() {
    // (name, global percentage, profile percentage, nodes, want)
    let cases: &[(&str, i32, Option<i32>, usize, usize)] = &[
        (
            "not set percentageOfNodesToScore and nodes number not more than 50",
            0,
            None,
            10,
            10,
        ),
        (
            "set profile percentageOfNodesToScore and nodes number not more than 50",
            0,
            Some(40),
            10,
            10,
        ),
        (
            "not set percentageOfNodesToScore and nodes number more than 50",
            0,
            None,
            1000,
            420,
        ),
        (
            "set profile percentageOfNodesToScore and nodes number more than 50",
            0,
            Some(40),
            1000,
            400,
        ),
        (
            "set global and profile percentageOfNodesToScore and nodes number more than 50",
            100,
            Some(40),
            1000,
            400,
        ),
        (
            "set global percentageOfNodesToScore and nodes number more than 50",
            40,
            None,
            1000,
            400,
        ),
        (
            "not set profile percentageOfNodesToScore and nodes number more than 50*125",
            0,
            None,
            6000,
            300,
        ),
        (
            "set profile percentageOfNodesToScore and nodes number more than 50*125",
            0,
            Some(40),
            6000,
            2400,
        ),
    ];
    for (name, global, profile, n, want) in cases {
        let pct = profile.unwrap_or(*global);
        assert_eq!(num_feasible_nodes_to_find(pct, *n), *want, "{name}");
    }
    // Research §2.2 vectors.
    assert_eq!(num_feasible_nodes_to_find(0, 5000), 500);
    assert_eq!(num_feasible_nodes_to_find(0, 200), 100);
    assert_eq!(num_feasible_nodes_to_find(0, 15000), 750);
}

/// Upstream: TestPodInfoCalculateResources (types_test.go), the cases that apply to 1.34
/// (PodLevelResources on, no node-allocatable DRA claims).
#[test]
fn pod_info_calculate_resources() {
    struct Case {
        name: &'static str,
        pod: k8s_openapi::api::core::v1::Pod,
        cpu: i64,
        mem: i64,
        eph: i64,
        non0_cpu: i64,
        non0_mem: i64,
    }
    let mi = |n: i64| n * 1024 * 1024;
    let cases = vec![
        Case {
            name: "requestless container",
            pod: make_pod("p").container("x").obj(),
            cpu: 0,
            mem: 0,
            eph: 0,
            non0_cpu: DEFAULT_MILLI_CPU_REQUEST,
            non0_mem: DEFAULT_MEMORY_REQUEST,
        },
        Case {
            name: "1X container with requests",
            pod: make_pod("p")
                .req(&[("cpu", "500m"), ("memory", "500Mi")])
                .obj(),
            cpu: 500,
            mem: mi(500),
            eph: 0,
            non0_cpu: 500,
            non0_mem: mi(500),
        },
        Case {
            name: "2X container with requests",
            pod: make_pod("p")
                .req(&[("cpu", "500m"), ("memory", "500Mi")])
                .req(&[("cpu", "700m"), ("memory", "800Mi")])
                .obj(),
            cpu: 1200,
            mem: mi(1300),
            eph: 0,
            non0_cpu: 1200,
            non0_mem: mi(1300),
        },
        Case {
            name: "1X container and 1X init container with pod-level requests",
            pod: make_pod("p")
                .init_req(&[("cpu", "500m"), ("memory", "500Mi")], false)
                .req(&[("cpu", "500m"), ("memory", "500Mi")])
                .pod_level_req(&[("cpu", "1200m"), ("memory", "1200Mi")])
                .obj(),
            cpu: 1200,
            mem: mi(1200),
            eph: 0,
            non0_cpu: 1200,
            non0_mem: mi(1200),
        },
        Case {
            name: "1X container and 1X sidecar container with pod-level requests",
            pod: make_pod("p")
                .init_req(&[("cpu", "500m"), ("memory", "500Mi")], true)
                .req(&[("cpu", "500m"), ("memory", "500Mi")])
                .pod_level_req(&[("cpu", "1200m"), ("memory", "1200Mi")])
                .obj(),
            cpu: 1200,
            mem: mi(1200),
            eph: 0,
            non0_cpu: 1200,
            non0_mem: mi(1200),
        },
        Case {
            name: "1X container with pod-level memory requests",
            pod: make_pod("p")
                .init_req(&[], false)
                .req(&[])
                .pod_level_req(&[("memory", "1200Mi")])
                .obj(),
            cpu: 0,
            mem: mi(1200),
            eph: 0,
            non0_cpu: DEFAULT_MILLI_CPU_REQUEST,
            non0_mem: mi(1200),
        },
        Case {
            name: "1X container with pod-level cpu requests",
            pod: make_pod("p")
                .init_req(&[], false)
                .req(&[])
                .pod_level_req(&[("cpu", "500m")])
                .obj(),
            cpu: 500,
            mem: 0,
            eph: 0,
            non0_cpu: 500,
            non0_mem: DEFAULT_MEMORY_REQUEST,
        },
        Case {
            name: "1X container unsupported resources and pod-level supported resources",
            pod: make_pod("p")
                .init_req(&[("ephemeral-storage", "500Mi")], false)
                .req(&[("ephemeral-storage", "800Mi")])
                .pod_level_req(&[("cpu", "500m")])
                .obj(),
            cpu: 500,
            mem: 0,
            eph: mi(800),
            non0_cpu: 500,
            non0_mem: DEFAULT_MEMORY_REQUEST,
        },
        Case {
            name: "init container larger than containers, with sidecar and overhead (KEP-753 formula)",
            pod: make_pod("p")
                .init_req(&[("cpu", "200m")], true)
                .init_req(&[("cpu", "2")], false)
                .req(&[("cpu", "500m")])
                .overhead(&[("cpu", "100m")])
                .obj(),
            cpu: 2300,
            mem: 0,
            eph: 0,
            non0_cpu: 2300,
            non0_mem: 2 * DEFAULT_MEMORY_REQUEST,
        },
    ];
    for c in cases {
        let info = PodInfo::new(c.pod).expect("pod");
        let r = &info.resource;
        assert_eq!(
            (
                r.resource.milli_cpu,
                r.resource.memory,
                r.resource.ephemeral_storage,
                r.non0_cpu,
                r.non0_mem
            ),
            (c.cpu, c.mem, c.eph, c.non0_cpu, c.non0_mem),
            "{}",
            c.name
        );
    }
}
