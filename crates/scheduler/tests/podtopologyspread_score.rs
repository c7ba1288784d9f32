//! Conformance: PodTopologySpread scoring.
//! Upstream: pkg/scheduler/framework/plugins/podtopologyspread/scoring_test.go
//! (`TestPodTopologySpreadScore`): the snapshot holds the candidate nodes and the failed ones
//! with the existing pods; PreScore gets the candidates, Score runs on each candidate (taken
//! from the snapshot), then NormalizeScore. Run with `DefaultingType: System`.
//!
//! Not transcribed: "matchLabelKeys ignored when feature gate disabled" (the gate is on in 1.34
//! and not switchable here).

mod common;

use std::sync::Arc;

use common::World;
use k8s_openapi::api::core::v1::{Pod, Service, ServiceSpec, Toleration, TopologySpreadConstraint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::{NodeScore, PreScorePlugin, ScorePlugin};
use kubetwin_scheduler::plugins::podtopologyspread::PodTopologySpread;
use kubetwin_scheduler::testing::{PodBuilder, make_node, make_pod, req, taint, term};
use kubetwin_scheduler::types::{NodeData, NodeInfo, PodInfo};

const HOST: &str = "kubernetes.io/hostname";

/// A node: name and labels (a `hostname` label is not implied).
struct N(&'static str, &'static [(&'static str, &'static str)]);

/// An existing pod: name, node, labels.
struct E(&'static str, &'static str, &'static [&'static str]);

/// One constraint (ScheduleAnyway): maxSkew, key, selector keys (`Exists`… upstream's
/// `fooSelector`/`barSelector` are `Exists` on the key; `None`: no selector; `Some(&[])`: an
/// empty selector), minDomains, nodeAffinityPolicy, nodeTaintsPolicy, matchLabelKeys.
struct C(
    i32,
    &'static str,
    Option<&'static [&'static str]>,
    Option<i32>,
    Option<&'static str>,
    Option<&'static str>,
    &'static [&'static str],
);

fn c(skew: i32, key: &'static str, sel: &'static [&'static str]) -> C {
    C(skew, key, Some(sel), None, None, None, &[])
}

fn exists(keys: &[&str]) -> LabelSelector {
    let mut s = LabelSelector::default();
    for k in keys {
        let e = kubetwin_scheduler::testing::selector_expr(k, "Exists", &[]);
        s.match_expressions
            .get_or_insert_with(Vec::new)
            .extend(e.match_expressions.into_iter().flatten());
    }
    s
}

fn pod_with(labels: &[&str], constraints: &[C]) -> PodBuilder {
    let mut b = make_pod("p");
    for l in labels {
        b = b.label(l, "");
    }
    for C(skew, key, sel, min_domains, affinity, taints, keys) in constraints {
        b = b.spread_constraint(TopologySpreadConstraint {
            max_skew: *skew,
            topology_key: (*key).to_owned(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: sel.map(exists),
            min_domains: *min_domains,
            node_affinity_policy: affinity.map(str::to_owned),
            node_taints_policy: taints.map(str::to_owned),
            match_label_keys: (!keys.is_empty())
                .then(|| keys.iter().map(|k| (*k).to_owned()).collect()),
        });
    }
    b
}

/// Scores the candidates as upstream's test does.
fn run(name: &str, pod: Pod, existing: &[E], nodes: &[N], failed: &[N], want: &[(&str, i64)]) {
    run_with(name, pod, existing, nodes, failed, want, |_| {});
}

fn run_with(
    name: &str,
    pod: Pod,
    existing: &[E],
    nodes: &[N],
    failed: &[N],
    want: &[(&str, i64)],
    setup: impl FnOnce(&mut World),
) {
    let build = |n: &N| {
        let mut b = make_node(n.0);
        for (k, v) in n.1 {
            b = b.label(k, v);
        }
        // Upstream's `taints`: an untolerated NoSchedule taint, set on nodes labeled so here.
        if n.1.iter().any(|(k, _)| *k == "tainted") {
            b = b.taint(taint("node.kubernetes.io/unschedulable", "", "NoSchedule"));
        }
        b.obj()
    };
    let all: Vec<_> = nodes.iter().chain(failed).map(build).collect();
    let all_nodes = all.clone();
    let pods: Vec<Pod> = existing
        .iter()
        .map(|E(p, node, labels)| {
            let mut b = make_pod(p).node(node);
            if let Some(ns) = p.strip_prefix("ns1:") {
                b = make_pod(ns).namespace("ns1").node(node);
            }
            let terminating = labels.contains(&"terminating");
            for l in labels.iter().filter(|l| **l != "terminating") {
                b = b.label(l, "");
            }
            if terminating {
                b = b.terminating();
            }
            b.obj()
        })
        .collect();
    let mut w = World::new(all_nodes, pods);
    setup(&mut w);
    let plugin = PodTopologySpread::default();
    let info = PodInfo::new(pod).expect("pod");
    let h = w.handle();
    let candidates: Vec<_> = nodes
        .iter()
        .map(|n| w.snapshot.get(n.0).expect("candidate"))
        .collect();
    // As upstream (`tf.BuildNodeInfos(tt.nodes)`), PreScore gets node infos built afresh from
    // the candidate nodes: only their names and labels count. The scheduler passes the
    // snapshot's own; both must give the same scores.
    let fresh: Vec<NodeInfo> = all[..nodes.len()]
        .iter()
        .map(|n| NodeInfo::new(Arc::new(NodeData::new(n.clone()).expect("node"))))
        .collect();
    let fresh_refs: Vec<&NodeInfo> = fresh.iter().collect();
    for (mode, pre_score_nodes) in [("fresh", &fresh_refs), ("snapshot", &candidates)] {
        let mut state = CycleState::new();
        let s = plugin.pre_score(&h, &mut state, &info, pre_score_nodes);
        assert!(s.is_success(), "{name} ({mode}): prescore {s}");
        let mut list: Vec<NodeScore<'_>> = candidates
            .iter()
            .map(|n| NodeScore {
                name: n.name(),
                score: plugin.score(&h, &state, &info, n).expect("score"),
            })
            .collect();
        assert!(plugin.normalize(&h, &state, &info, &mut list).is_success());
        let got: Vec<(&str, i64)> = list.iter().map(|s| (s.name, s.score)).collect();
        assert_eq!(got, want, "{name} ({mode})");
    }
}

const A: N = N("node-a", &[(HOST, "node-a")]);
const B: N = N("node-b", &[(HOST, "node-b")]);
const CC: N = N("node-c", &[(HOST, "node-c")]);
const D: N = N("node-d", &[(HOST, "node-d")]);
const X: N = N("node-x", &[(HOST, "node-x")]);
const Y: N = N("node-y", &[(HOST, "node-y")]);
const ZA: N = N("node-a", &[("zone", "zone1"), (HOST, "node-a")]);
const ZB: N = N("node-b", &[("zone", "zone1"), (HOST, "node-b")]);
const ZX: N = N("node-x", &[("zone", "zone2"), (HOST, "node-x")]);
const ZY: N = N("node-y", &[("zone", "zone2"), (HOST, "node-y")]);

/// Matching pods spread as 2/1/0/3 over node-a..node-d.
const SPREAD_2103: &[E] = &[
    E("p-a1", "node-a", &["foo"]),
    E("p-a2", "node-a", &["foo"]),
    E("p-b1", "node-b", &["foo"]),
    E("p-d1", "node-d", &["foo"]),
    E("p-d2", "node-d", &["foo"]),
    E("p-d3", "node-d", &["foo"]),
];

/// Matching pods spread as 4/3/2/1 over node-a..node-d.
const SPREAD_4321: &[E] = &[
    E("p-a1", "node-a", &["foo"]),
    E("p-a2", "node-a", &["foo"]),
    E("p-a3", "node-a", &["foo"]),
    E("p-a4", "node-a", &["foo"]),
    E("p-b1", "node-b", &["foo"]),
    E("p-b2", "node-b", &["foo"]),
    E("p-b3", "node-b", &["foo"]),
    E("p-c1", "node-c", &["foo"]),
    E("p-c2", "node-c", &["foo"]),
    E("p-d1", "node-d", &["foo"]),
];

/// Matching pods spread as 4/2/1/3 over node-a, node-b, node-x, node-y.
const SPREAD_4213: &[E] = &[
    E("p-a1", "node-a", &["foo"]),
    E("p-a2", "node-a", &["foo"]),
    E("p-a3", "node-a", &["foo"]),
    E("p-a4", "node-a", &["foo"]),
    E("p-b1", "node-b", &["foo"]),
    E("p-b2", "node-b", &["foo"]),
    E("p-x1", "node-x", &["foo"]),
    E("p-y1", "node-y", &["foo"]),
    E("p-y2", "node-y", &["foo"]),
    E("p-y3", "node-y", &["foo"]),
];

const FOO: &[&str] = &["foo"];
const BAR: &[&str] = &["bar"];

/// Upstream: TestPodTopologySpreadScore, the cases with one constraint on the hostname.
#[test]
fn score_one_constraint_on_node() {
    let foo_host = || pod_with(FOO, &[c(1, HOST, FOO)]).obj();
    run(
        "one constraint on node, no existing pods",
        foo_host(),
        &[],
        &[A, B],
        &[],
        &[("node-a", 100), ("node-b", 100)],
    );
    run(
        "one constraint on node, only one node is candidate",
        foo_host(),
        &[
            E("p-a1", "node-a", FOO),
            E("p-a2", "node-a", FOO),
            E("p-b1", "node-b", FOO),
        ],
        &[A],
        &[B],
        &[("node-a", 100)],
    );
    run(
        "one constraint on node, all nodes have the same number of matching pods",
        foo_host(),
        &[E("p-a1", "node-a", FOO), E("p-b1", "node-b", FOO)],
        &[A, B],
        &[],
        &[("node-a", 100), ("node-b", 100)],
    );
    run(
        "one constraint on node, all 4 nodes are candidates",
        foo_host(),
        SPREAD_2103,
        &[A, B, CC, D],
        &[],
        &[
            ("node-a", 20),
            ("node-b", 60),
            ("node-c", 100),
            ("node-d", 0),
        ],
    );
    run(
        "one constraint on node, null selector",
        pod_with(FOO, &[C(1, HOST, None, None, None, None, &[])]).obj(),
        SPREAD_2103,
        &[A, B, CC, D],
        &[],
        &[
            ("node-a", 100),
            ("node-b", 100),
            ("node-c", 100),
            ("node-d", 100),
        ],
    );
    run(
        "one constraint on node, all 4 nodes are candidates, maxSkew=2",
        pod_with(FOO, &[c(2, HOST, FOO)]).obj(),
        SPREAD_2103,
        &[A, B, CC, D],
        &[],
        &[
            ("node-a", 33),
            ("node-b", 66),
            ("node-c", 100),
            ("node-d", 16),
        ],
    );
    run(
        "one constraint on node, all 4 nodes are candidates, maxSkew=3",
        pod_with(FOO, &[c(3, HOST, FOO)]).obj(),
        SPREAD_4321,
        &[A, B, CC, D],
        &[],
        &[
            ("node-a", 44),
            ("node-b", 66),
            ("node-c", 77),
            ("node-d", 100),
        ],
    );
    run(
        "one constraint on node, 3 out of 4 nodes are candidates",
        foo_host(),
        SPREAD_4213,
        &[A, B, X],
        &[Y],
        &[("node-a", 33), ("node-b", 83), ("node-x", 100)],
    );
    run(
        "one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
        foo_host(),
        SPREAD_4213,
        &[A, N("node-b", &[("n", "node-b")]), X],
        &[Y],
        &[("node-a", 16), ("node-b", 0), ("node-x", 100)],
    );
    run(
        "existing pods in a different namespace do not count",
        foo_host(),
        &[
            E("ns1:p-a1", "node-a", FOO),
            E("p-a2", "node-a", FOO),
            E("p-b1", "node-b", FOO),
            E("p-b2", "node-b", FOO),
        ],
        &[A, B],
        &[],
        &[("node-a", 100), ("node-b", 33)],
    );
    run(
        "terminating Pods should be excluded",
        foo_host(),
        &[
            E("p-a", "node-a", &["foo", "terminating"]),
            E("p-b", "node-b", FOO),
        ],
        &[A, B],
        &[],
        &[("node-a", 100), ("node-b", 0)],
    );
}

/// Upstream: TestPodTopologySpreadScore, "system defaulting, nodes don't have zone, pods match
/// service".
#[test]
fn score_system_defaulting_with_a_service() {
    run_with(
        "system defaulting, nodes don't have zone, pods match service",
        make_pod("p").label("foo", "").obj(),
        SPREAD_4321,
        &[A, B, CC, D],
        &[],
        &[
            ("node-a", 44),
            ("node-b", 66),
            ("node-c", 77),
            ("node-d", 100),
        ],
        |w| {
            let svc = Service {
                metadata: ObjectMeta {
                    name: Some("svc".into()),
                    namespace: Some("default".into()),
                    ..Default::default()
                },
                spec: Some(ServiceSpec {
                    selector: Some([("foo".to_owned(), String::new())].into()),
                    ..Default::default()
                }),
                status: None,
            };
            w.objects.services.insert("default/svc".into(), svc);
        },
    );
}

/// Upstream: TestPodTopologySpreadScore, the cases with zone constraints.
#[test]
fn score_zone_constraints() {
    run(
        "one constraint on zone, 3 out of 4 nodes are candidates",
        pod_with(FOO, &[c(1, "zone", FOO)]).obj(),
        SPREAD_4213,
        &[ZA, ZB, ZX],
        &[ZY],
        &[("node-a", 75), ("node-b", 75), ("node-x", 100)],
    );
    run(
        "two Constraints on zone and node, 2 out of 4 nodes are candidates",
        pod_with(FOO, &[c(1, "zone", FOO), c(1, HOST, FOO)]).obj(),
        &[
            E("p-a1", "node-a", FOO),
            E("p-a2", "node-a", FOO),
            E("p-b1", "node-b", FOO),
            E("p-x1", "node-x", FOO),
            E("p-x2", "node-x", FOO),
            E("p-y1", "node-y", FOO),
            E("p-y2", "node-y", FOO),
            E("p-y3", "node-y", FOO),
            E("p-y4", "node-y", FOO),
        ],
        &[ZA, ZX],
        &[ZB, ZY],
        &[("node-a", 100), ("node-x", 63)],
    );
    run(
        "two Constraints on zone, 2 out of 4 nodes are candidates",
        pod_with(&["foo", "bar"], &[c(1, "zone", FOO), c(1, "zone", BAR)]).obj(),
        &[
            E("p-a1", "node-a", &["foo", "bar"]),
            E("p-a2", "node-a", FOO),
            E("p-b1", "node-b", &["foo", "bar"]),
            E("p-y1", "node-y", FOO),
            E("p-y2", "node-y", &["foo", "bar"]),
            E("p-y3", "node-y", FOO),
        ],
        &[
            N("node-a", &[("zone", "zone1")]),
            N("node-x", &[("zone", "zone2")]),
        ],
        &[
            N("node-b", &[("zone", "zone1")]),
            N("node-y", &[("zone", "zone2")]),
        ],
        &[("node-a", 85), ("node-x", 100)],
    );
    let different = || pod_with(&["foo", "bar"], &[c(1, "zone", FOO), c(1, HOST, BAR)]).obj();
    let pods_a_b_y: &[E] = &[
        E("p-a1", "node-a", FOO),
        E("p-b1", "node-b", &["foo", "bar"]),
        E("p-y1", "node-y", FOO),
        E("p-y2", "node-y", BAR),
    ];
    run(
        "two Constraints on zone and node, with different labelSelectors",
        different(),
        pods_a_b_y,
        &[ZA, ZB, ZX, ZY],
        &[],
        &[
            ("node-a", 60),
            ("node-b", 20),
            ("node-x", 100),
            ("node-y", 60),
        ],
    );
    run(
        "two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
        different(),
        &[
            E("p-b1", "node-b", BAR),
            E("p-x1", "node-x", FOO),
            E("p-y1", "node-y", &["foo", "bar"]),
        ],
        &[ZA, ZB, ZX, ZY],
        &[],
        &[
            ("node-a", 100),
            ("node-b", 60),
            ("node-x", 40),
            ("node-y", 0),
        ],
    );
    run(
        "two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates",
        different(),
        pods_a_b_y,
        &[ZA, ZB, ZX],
        &[ZY],
        &[("node-a", 50), ("node-b", 25), ("node-x", 100)],
    );
}

/// Upstream: TestPodTopologySpreadScore, minDomains and the node inclusion policies (on in
/// 1.34).
#[test]
fn score_min_domains_and_node_inclusion_policies() {
    const NA: N = N("node-a", &[("node", "node-a"), ("foo", "")]);
    const NB: N = N("node-b", &[("node", "node-b"), ("foo", "")]);
    const NC: N = N("node-c", &[("node", "node-c")]);
    let pods: &[E] = &[
        E("p-a1", "node-a", FOO),
        E("p-a2", "node-a", FOO),
        E("p-b1", "node-b", FOO),
        E("p-c1", "node-c", FOO),
    ];
    run(
        "minDomains has no effect when ScheduleAnyway",
        pod_with(FOO, &[C(2, "node", Some(FOO), Some(10), None, None, &[])]).obj(),
        &[
            E("p-a1", "node-a", FOO),
            E("p-a2", "node-a", FOO),
            E("p-b1", "node-b", FOO),
            E("p-b2", "node-b", FOO),
            E("p-c1", "node-c", FOO),
        ],
        &[
            N("node-a", &[("node", "node-a")]),
            N("node-b", &[("node", "node-b")]),
            N("node-c", &[("node", "node-c")]),
        ],
        &[],
        &[("node-a", 75), ("node-b", 75), ("node-c", 100)],
    );
    let with_selector = |policy: Option<&'static str>| {
        pod_with(FOO, &[C(1, "node", Some(FOO), None, policy, None, &[])])
            .node_selector("foo", "")
            .obj()
    };
    run(
        "NodeAffinityPolicy honoed with labelSelectors",
        with_selector(None),
        pods,
        &[NA, NB, NC],
        &[],
        &[("node-a", 0), ("node-b", 33), ("node-c", 100)],
    );
    run(
        "NodeAffinityPolicy ignored with labelSelectors",
        with_selector(Some("Ignore")),
        pods,
        &[NA, NB, NC],
        &[],
        &[("node-a", 66), ("node-b", 100), ("node-c", 100)],
    );
    let with_affinity = |policy: Option<&'static str>| {
        pod_with(FOO, &[C(1, "node", Some(FOO), None, policy, None, &[])])
            .node_affinity_required(vec![term(vec![req("foo", "In", &[""])], vec![])])
            .obj()
    };
    run(
        "NodeAffinityPolicy honoed with nodeAffinity",
        with_affinity(None),
        pods,
        &[NA, NB, NC],
        &[],
        &[("node-a", 0), ("node-b", 33), ("node-c", 100)],
    );
    run(
        "NodeAffinityPolicy ignored with nodeAffinity",
        with_affinity(Some("Ignore")),
        pods,
        &[NA, NB, NC],
        &[],
        &[("node-a", 66), ("node-b", 100), ("node-c", 100)],
    );
    let tainted: &[N] = &[
        N("node-a", &[("node", "node-a")]),
        N("node-b", &[("node", "node-b")]),
        N("node-c", &[("node", "node-c"), ("tainted", "")]),
    ];
    run(
        "NodeTaintsPolicy honored",
        pod_with(
            FOO,
            &[C(1, "node", Some(FOO), None, None, Some("Honor"), &[])],
        )
        .obj(),
        pods,
        tainted,
        &[],
        &[("node-a", 0), ("node-b", 33), ("node-c", 100)],
    );
    run(
        "NodeTaintsPolicy ignored",
        pod_with(FOO, &[C(1, "node", Some(FOO), None, None, None, &[])]).obj(),
        pods,
        tainted,
        &[],
        &[("node-a", 66), ("node-b", 100), ("node-c", 100)],
    );
    // A toleration makes the tainted node count again under Honor (not an upstream case; it
    // checks that the pod's tolerations are used).
    run(
        "NodeTaintsPolicy honored, taint tolerated",
        pod_with(
            FOO,
            &[C(1, "node", Some(FOO), None, None, Some("Honor"), &[])],
        )
        .toleration(Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        })
        .obj(),
        pods,
        tainted,
        &[],
        &[("node-a", 66), ("node-b", 100), ("node-c", 100)],
    );
}

/// Upstream: TestPodTopologySpreadScore, matchLabelKeys (on in 1.34).
#[test]
fn score_match_label_keys() {
    const NODES: &[N] = &[
        N("node-a", &[("zone", "zone1"), (HOST, "node-a")]),
        N("node-b", &[("zone", "zone1"), (HOST, "node-b")]),
        N("node-c", &[("zone", "zone2"), (HOST, "node-c")]),
        N("node-d", &[("zone", "zone2"), (HOST, "node-d")]),
    ];
    let want = [
        ("node-a", 60),
        ("node-b", 20),
        ("node-c", 60),
        ("node-d", 100),
    ];
    let nodes: Vec<N> = NODES.iter().map(|n| N(n.0, n.1)).collect();
    run(
        "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
        pod_with(
            &["foo", "bar"],
            &[
                C(1, "zone", Some(&[]), None, None, None, &["foo"]),
                C(1, HOST, Some(&[]), None, None, None, &["bar"]),
            ],
        )
        .obj(),
        &[
            E("p-a1", "node-a", FOO),
            E("p-b1", "node-b", &["foo", "bar"]),
            E("p-y1", "node-c", FOO),
            E("p-y2", "node-c", BAR),
        ],
        &nodes,
        &[],
        &want,
    );
    run(
        "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
        pod_with(
            &["foo", "bar", "baz"],
            &[
                c(1, "zone", FOO),
                C(1, HOST, Some(BAR), None, None, None, &["baz"]),
            ],
        )
        .obj(),
        &[
            E("p-a1", "node-a", FOO),
            E("p-b1", "node-b", &["foo", "bar", "baz"]),
            E("p-c1", "node-c", FOO),
            E("p-c2", "node-c", BAR),
            E("p-d3", "node-c", &["bar", "baz"]),
        ],
        &nodes,
        &[],
        &want,
    );
}
