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
    let (_, s) = PodTopologySpread::default().pre_filter(&h, &mut state, &info);
    assert!(s.is_success(), "{name}: prefilter {s}");
    for (n, code) in want {
        let got = PodTopologySpread::default().filter(
            &h,
            &state,
            &info,
            w.snapshot.get(n).expect("node"),
        );
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

/// AddPod/RemovePod (preemption dry runs, nominated pods) move the counts Filter reads, as
/// upstream's `updateWithPod` (filtering.go; cf. `TestPreFilterStateAddPod`): zone1 holds 2
/// matching pods, zone2 none, maxSkew 1. Both the nodes' own `NodeInfo`s and copies of them
/// (as dry runs use) are checked, on a zone constraint (counts by domain id) and a node
/// constraint.
#[test]
fn add_and_remove_pod_move_filter_counts() {
    let w = World::new(
        four_nodes(),
        existing(&[("p-a1", "node-a"), ("p-b1", "node-b")]),
    );
    let plugin = PodTopologySpread::default();
    let h = w.handle();
    let pod = PodInfo::new(spread_pod("foo", &[(1, "zone", "foo")]).obj()).expect("pod");
    let mut state = CycleState::new();
    let (_, s) = plugin.pre_filter(&h, &mut state, &pod);
    assert!(s.is_success(), "{s}");
    let node = |n: &str| w.snapshot.get(n).expect("node");
    let copy = |n: &str| node(n).clone();
    let verdicts = |state: &CycleState| -> Vec<Code> {
        ["node-a", "node-x"]
            .iter()
            .flat_map(|n| {
                [
                    plugin.filter(&h, state, &pod, node(n)).code(),
                    plugin.filter(&h, state, &pod, &copy(n)).code(),
                ]
            })
            .collect()
    };
    assert_eq!(verdicts(&state), [U, U, S, S]);
    let matching = |name: &str| {
        PodInfo::new(make_pod(name).node("node-y").label("foo", "").obj()).expect("pod")
    };
    let y = node("node-y");
    assert!(
        plugin
            .add_pod(&h, &mut state, &pod, &matching("n1"), y)
            .is_success()
    );
    // zone1 2, zone2 1: zone1 is still 2 + 1 - 1 > 1 off.
    assert_eq!(verdicts(&state), [U, U, S, S]);
    assert!(
        plugin
            .add_pod(&h, &mut state, &pod, &matching("n2"), &copy("node-y"))
            .is_success()
    );
    assert_eq!(verdicts(&state), [S, S, S, S]);
    // A pod that does not match the selector changes nothing.
    let other = PodInfo::new(make_pod("o").node("node-a").label("bar", "").obj()).expect("pod");
    assert!(
        plugin
            .add_pod(&h, &mut state, &pod, &other, node("node-a"))
            .is_success()
    );
    assert_eq!(verdicts(&state), [S, S, S, S]);
    assert!(
        plugin
            .remove_pod(&h, &mut state, &pod, &matching("n2"), y)
            .is_success()
    );
    assert_eq!(verdicts(&state), [U, U, S, S]);

    // The same on a node constraint (its counts are looked up by value).
    let pod = PodInfo::new(spread_pod("foo", &[(1, "node", "foo")]).obj()).expect("pod");
    let mut state = CycleState::new();
    let (_, s) = plugin.pre_filter(&h, &mut state, &pod);
    assert!(s.is_success(), "{s}");
    // node-a 1, node-b 1, node-x 0, node-y 0.
    assert_eq!(verdicts(&state), [U, U, S, S]);
    let x = node("node-x");
    assert!(
        plugin
            .add_pod(&h, &mut state, &pod, &matching("n1"), x)
            .is_success()
    );
    assert!(
        plugin
            .add_pod(&h, &mut state, &pod, &matching("n2"), y)
            .is_success()
    );
    assert_eq!(verdicts(&state), [S, S, S, S]);
    assert!(
        plugin
            .remove_pod(&h, &mut state, &pod, &matching("n1"), x)
            .is_success()
    );
    assert_eq!(verdicts(&state), [U, U, S, S]);
}

fn rs_owned_pod(labels: &[(&str, &str)]) -> Pod {
    let mut b = make_pod("p").namespace("default");
    for (k, v) in labels {
        b = b.label(k, v);
    }
    let mut p = b.obj();
    p.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "rs1".into(),
            uid: "rs1-uid".into(),
            controller: Some(true),
            ..Default::default()
        },
    ]);
    p
}

fn with_rs1(w: &mut World) {
    let rs: k8s_openapi::api::apps::v1::ReplicaSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "rs1", "namespace": "default"},
        "spec": {"selector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]}}
    }))
    .expect("rs");
    w.objects.replica_sets.insert("default/rs1".into(), rs);
}

fn pre_score(
    plugin: &PodTopologySpread,
    w: &World,
    pod: &Pod,
) -> Option<kubetwin_scheduler::plugins::podtopologyspread::PreScoreSummary> {
    use kubetwin_scheduler::framework::PreScorePlugin;
    let info = PodInfo::new(pod.clone()).expect("pod");
    let h = w.handle();
    let mut state = CycleState::new();
    let nodes: Vec<_> = w.snapshot.list().collect();
    let s = plugin.pre_score(&h, &mut state, &info, &nodes);
    if s.is_skip() {
        return None;
    }
    assert!(s.is_success(), "{s}");
    kubetwin_scheduler::plugins::podtopologyspread::pre_score_summary(&state)
}

/// Upstream: scoring_test.go `TestPreScoreStateEmptyNodes`, the default-constraint cases.
#[test]
fn pre_score_state_default_constraints() {
    use kubetwin_scheduler::plugins::podtopologyspread::normalizing_weight as w8;
    use std::collections::BTreeMap;
    const HOST: &str = "kubernetes.io/hostname";
    const ZONE: &str = "topology.kubernetes.io/zone";
    let host_node = |name: &str, extra: &[(&str, &str)]| {
        let mut b = make_node(name).label(HOST, name);
        for (k, v) in extra {
            b = b.label(k, v);
        }
        b.obj()
    };
    let counts = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };

    // "system default constraints and a replicaset": nodes without a zone are a zone of their own.
    let mut w = World::new(
        vec![
            host_node("node-a", &[(ZONE, "mars")]),
            host_node("node-b", &[(ZONE, "mars")]),
            host_node("node-c", &[]),
            host_node("node-d", &[]),
        ],
        vec![],
    );
    with_rs1(&mut w);
    let pod = rs_owned_pod(&[("foo", "tar"), ("baz", "sup")]);
    let got = pre_score(&PodTopologySpread::default(), &w, &pod).expect("state");
    assert_eq!(
        got.constraints,
        vec![
            (HOST.into(), 3, "foo".into()),
            (ZONE.into(), 5, "foo".into())
        ]
    );
    assert!(got.ignored_nodes.is_empty());
    assert_eq!(got.counts[1], counts(&[("", 0), ("mars", 0)]));
    assert_eq!(got.weights, vec![w8(4), w8(2)]);

    // "default constraints and a replicaset" (List defaulting; the DoNotSchedule one is not a
    // score constraint).
    let list = PodTopologySpread::with_default_constraints(
        serde_json::from_value(serde_json::json!([
            {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway"},
            {"maxSkew": 2, "topologyKey": "rack", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 2, "topologyKey": "planet", "whenUnsatisfiable": "ScheduleAnyway"}
        ]))
        .expect("constraints"),
    );
    let mut w = World::new(
        vec![host_node(
            "node-a",
            &[("rack", "rack1"), ("planet", "mars")],
        )],
        vec![],
    );
    with_rs1(&mut w);
    let got = pre_score(&list, &w, &pod).expect("state");
    assert_eq!(
        got.constraints,
        vec![
            (HOST.into(), 1, "foo".into()),
            ("planet".into(), 2, "foo".into())
        ]
    );
    assert_eq!(got.counts[1], counts(&[("mars", 0)]));
    assert_eq!(got.weights, vec![w8(1), w8(1)]);

    // "default constraints and a replicaset, but pod has constraints": the pod's own win.
    let list = PodTopologySpread::with_default_constraints(
        serde_json::from_value(serde_json::json!([
            {"maxSkew": 2, "topologyKey": "galaxy", "whenUnsatisfiable": "ScheduleAnyway"}
        ]))
        .expect("constraints"),
    );
    let mut w = World::new(
        vec![
            make_node("node-a")
                .label("planet", "mars")
                .label("galaxy", "andromeda")
                .obj(),
        ],
        vec![],
    );
    with_rs1(&mut w);
    let mut pod = rs_owned_pod(&[("foo", "bar"), ("baz", "sup")]);
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.topology_spread_constraints = Some(
        serde_json::from_value(serde_json::json!([
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchExpressions": [{"key": "bar", "operator": "Exists"}]}},
            {"maxSkew": 2, "topologyKey": "planet", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"baz": "sup"}}}
        ]))
        .expect("constraints"),
    );
    let got = pre_score(&list, &w, &pod).expect("state");
    assert_eq!(
        got.constraints,
        vec![("planet".into(), 2, "baz=sup".into())]
    );
    assert_eq!(got.counts[0], counts(&[("mars", 0)]));
    assert_eq!(got.weights, vec![w8(1)]);

    // No Service or controller selects the pod: the default selector is empty, no constraint.
    let w = World::new(vec![host_node("node-a", &[(ZONE, "mars")])], vec![]);
    let plain = make_pod("p").label("foo", "tar").obj();
    assert_eq!(pre_score(&PodTopologySpread::default(), &w, &plain), None);
}

/// Upstream: helper/spread.go `DefaultSelector` — Services selecting the pod and its controller
/// (ReplicationController labels merged, ReplicaSet/StatefulSet requirements added).
#[test]
fn default_selector_sources() {
    use kubetwin_scheduler::plugins::podtopologyspread::default_selector;
    let mut w = World::new(vec![make_node("n").obj()], vec![]);
    let svc = |name: &str, sel: serde_json::Value| -> k8s_openapi::api::core::v1::Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default"}, "spec": {"selector": sel}
        }))
        .expect("svc")
    };
    w.objects.services.insert(
        "default/a".into(),
        svc("a", serde_json::json!({"app": "web"})),
    );
    w.objects.services.insert(
        "default/b".into(),
        svc("b", serde_json::json!({"tier": "fe"})),
    );
    w.objects.services.insert(
        "default/c".into(),
        svc("c", serde_json::json!({"app": "db"})),
    );
    with_rs1(&mut w);
    let pod = |labels: &[(&str, &str)], owned: bool| {
        let p = if owned {
            rs_owned_pod(labels)
        } else {
            let mut b = make_pod("p");
            for (k, v) in labels {
                b = b.label(k, v);
            }
            b.obj()
        };
        PodInfo::new(p).expect("pod")
    };
    let cases: Vec<(&str, PodInfo, &str)> = vec![
        (
            "two services",
            pod(&[("app", "web"), ("tier", "fe")], false),
            "app=web,tier=fe",
        ),
        ("one service", pod(&[("app", "web")], false), "app=web"),
        ("no service", pod(&[("app", "x")], false), ""),
        (
            "service and replicaset",
            pod(&[("app", "web"), ("foo", "1")], true),
            "app=web,foo",
        ),
    ];
    for (case, p, want) in cases {
        assert_eq!(default_selector(&w.objects, &p).to_string(), want, "{case}");
    }
}
