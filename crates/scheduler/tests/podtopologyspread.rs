//! Conformance: PodTopologySpread.
//! Upstream: pkg/scheduler/framework/plugins/podtopologyspread/filtering_test.go
//! (`TestSingleConstraint`, `TestMultipleConstraints`).

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.
mod common;

use common::World;
use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::{FilterPlugin, PreFilterPlugin};
use kubetwin_scheduler::plugins::podtopologyspread::PodTopologySpread;
use kubetwin_scheduler::status::Code;
use kubetwin_scheduler::testing::{make_node, make_pod, req, selector_expr, term};
use kubetwin_scheduler::types::PodInfo;

const S: Code = Code::Success;
const U: Code = Code::Unschedulable;
const X: Code = Code::UnschedulableAndUnresolvable;

fn node(name: &str, zone_key: &str, zone: &str) -> Node {
    let mut b = make_node(name).label("node", name);
    if !zone_key.is_empty() {
        b = b.label(zone_key, zone);
    }
    b.obj()
}

fn four_nodes() -> Vec<Node> {
    vec![
        node("node-a", "zone", "zone1"),
        node("node-b", "zone", "zone1"),
        node("node-x", "zone", "zone2"),
        node("node-y", "zone", "zone2"),
    ]
}

fn existing(specs: &[(&str, &str)]) -> Vec<Pod> {
    specs
        .iter()
        .map(|(name, n)| make_pod(name).node(n).label("foo", "").obj())
        .collect()
}

fn spread_pod(
    label: &str,
    constraints: &[(i32, &str, &str)],
) -> kubetwin_scheduler::testing::PodBuilder {
    let mut b = make_pod("p").label(label, "");
    for (skew, key, sel_key) in constraints {
        b = b.spread(
            *skew,
            key,
            "DoNotSchedule",
            Some(selector_expr(sel_key, "Exists", &[])),
            None,
        );
    }
    b
}

fn run(name: &str, pod: Pod, nodes: Vec<Node>, pods: Vec<Pod>, want: &[(&str, Code)]) {
    let w = World::new(nodes, pods);
    let info = PodInfo::new(pod).expect("pod");
    let h = w.handle();
    let mut state = CycleState::new();
    let (_, s) = PodTopologySpread.pre_filter(&h, &mut state, &info);
    assert!(s.is_success(), "{name}: prefilter {s}");
    for (n, code) in want {
        let got = PodTopologySpread.filter(&h, &state, &info, w.snapshot.get(n).expect("node"));
        assert_eq!(got.code(), *code, "{name}: node {n}");
    }
}

/// Upstream: TestSingleConstraint.
#[test]
fn single_constraint() {
    let spread_3_3 = [
        ("p-a1", "node-a"),
        ("p-a2", "node-a"),
        ("p-b1", "node-b"),
        ("p-y1", "node-y"),
        ("p-y2", "node-y"),
        ("p-y3", "node-y"),
    ];
    run(
        "no existing pods",
        spread_pod("foo", &[(1, "zone", "foo")]).obj(),
        four_nodes(),
        vec![],
        &[("node-a", S), ("node-b", S), ("node-x", S), ("node-y", S)],
    );
    run(
        "no existing pods, incoming pod doesn't match itself",
        spread_pod("foo", &[(1, "zone", "bar")]).obj(),
        four_nodes(),
        vec![],
        &[("node-a", S), ("node-b", S), ("node-x", S), ("node-y", S)],
    );
    let mut ns_pods = vec![
        make_pod("p-a1")
            .namespace("ns1")
            .node("node-a")
            .label("foo", "")
            .obj(),
        make_pod("p-b1")
            .namespace("ns2")
            .node("node-a")
            .label("foo", "")
            .obj(),
    ];
    ns_pods.extend(existing(&[("p-x1", "node-x"), ("p-y1", "node-y")]));
    run(
        "existing pods in a different namespace do not count",
        spread_pod("foo", &[(1, "zone", "foo")]).obj(),
        four_nodes(),
        ns_pods,
        &[("node-a", S), ("node-b", S), ("node-x", U), ("node-y", U)],
    );
    run(
        "pods spread across zones as 3/3, all nodes fit",
        spread_pod("foo", &[(1, "zone", "foo")]).obj(),
        four_nodes(),
        existing(&spread_3_3),
        &[("node-a", S), ("node-b", S), ("node-x", S), ("node-y", S)],
    );
    run(
        "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
        spread_pod("foo", &[(1, "zone", "foo")]).obj(),
        vec![
            node("node-a", "zone", "zone1"),
            node("node-b", "zon", "zone1"),
            node("node-x", "zone", "zone2"),
            node("node-y", "zone", "zone2"),
        ],
        existing(&[
            ("p-a1", "node-a"),
            ("p-b1", "node-b"),
            ("p-x1", "node-x"),
            ("p-y1", "node-y"),
        ]),
        &[("node-a", S), ("node-b", X), ("node-x", U), ("node-y", U)],
    );
    run(
        "pod cannot be scheduled as all nodes don't have label 'rack'",
        spread_pod("foo", &[(1, "rack", "foo")]).obj(),
        vec![
            node("node-a", "zone", "zone1"),
            node("node-x", "zone", "zone2"),
        ],
        vec![],
        &[("node-a", X), ("node-x", X)],
    );
    run(
        "pods spread across nodes as 2/1/0/3, only node-x fits",
        spread_pod("foo", &[(1, "node", "foo")]).obj(),
        four_nodes(),
        existing(&spread_3_3),
        &[("node-a", U), ("node-b", U), ("node-x", S), ("node-y", U)],
    );
    run(
        "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
        spread_pod("foo", &[(2, "node", "foo")]).obj(),
        four_nodes(),
        existing(&spread_3_3),
        &[("node-a", U), ("node-b", S), ("node-x", S), ("node-y", U)],
    );
    run(
        "pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
        spread_pod("bar", &[(1, "node", "foo")]).obj(),
        four_nodes(),
        existing(&spread_3_3),
        &[("node-a", U), ("node-b", S), ("node-x", S), ("node-y", U)],
    );
    run(
        "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
        spread_pod("foo", &[(1, "node", "foo")])
            .node_affinity_required(vec![term(
                vec![req("node", "In", &["node-a", "node-y"])],
                vec![],
            )])
            .obj(),
        four_nodes(),
        existing(&spread_3_3),
        &[("node-a", S), ("node-b", S), ("node-x", S), ("node-y", U)],
    );
    run(
        "terminating Pods should be excluded",
        spread_pod("foo", &[(1, "node", "foo")]).obj(),
        vec![node("node-a", "", ""), node("node-b", "", "")],
        vec![
            make_pod("p-a")
                .node("node-a")
                .label("foo", "")
                .terminating()
                .obj(),
            make_pod("p-b").node("node-b").label("foo", "").obj(),
        ],
        &[("node-a", S), ("node-b", U)],
    );
    run(
        "(kubetwin) minDomains greater than the number of domains makes the global minimum 0",
        make_pod("p")
            .label("foo", "")
            .spread(
                1,
                "zone",
                "DoNotSchedule",
                Some(selector_expr("foo", "Exists", &[])),
                Some(3),
            )
            .obj(),
        four_nodes(),
        existing(&[("p-a1", "node-a"), ("p-x1", "node-x")]),
        &[("node-a", U), ("node-x", U)],
    );
}

/// Upstream: TestMultipleConstraints (first case).
#[test]
fn multiple_constraints() {
    let spread = [
        ("p-a1", "node-a"),
        ("p-a2", "node-a"),
        ("p-b1", "node-b"),
        ("p-y1", "node-y"),
        ("p-y2", "node-y"),
        ("p-y3", "node-y"),
    ];
    run(
        "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
        spread_pod("foo", &[(1, "zone", "foo"), (1, "node", "foo")]).obj(),
        four_nodes(),
        existing(&spread),
        &[("node-a", U), ("node-b", U), ("node-x", S), ("node-y", U)],
    );
}
