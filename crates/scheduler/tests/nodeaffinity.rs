//! Conformance: NodeAffinity.
//! Upstream: pkg/scheduler/framework/plugins/nodeaffinity/node_affinity_test.go (`TestNodeAffinity`,
//! `TestNodeAffinityPriority`).

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.

mod common;

use common::{World, assert_status, ok, uau};
use k8s_openapi::api::core::v1::{NodeAffinity as ApiNodeAffinity, NodeSelector, Pod};
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::plugins::nodeaffinity::NodeAffinity;
use kubetwin_scheduler::status::{Code, Status};
use kubetwin_scheduler::testing::{make_node, make_pod, req, term};
use kubetwin_scheduler::types::PodInfo;

const POD: &str = "node(s) didn't match Pod's node affinity/selector";
const ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
const CONFLICT: &str = "pod affinity terms conflict";
const NAME: &str = "metadata.name";

struct Case {
    name: &'static str,
    pod: Pod,
    labels: &'static [(&'static str, &'static str)],
    node_name: &'static str,
    added: Option<ApiNodeAffinity>,
    run_pre_filter: bool,
    want_pre_filter: Status,
    want_pre_filter_result: Option<Vec<&'static str>>,
    want: Status,
}

fn case(
    name: &'static str,
    pod: Pod,
    labels: &'static [(&'static str, &'static str)],
    want: Status,
) -> Case {
    Case {
        name,
        pod,
        labels,
        node_name: "node1",
        added: None,
        run_pre_filter: true,
        want_pre_filter: ok(),
        want_pre_filter_result: None,
        want,
    }
}

fn req_pod(terms: Vec<k8s_openapi::api::core::v1::NodeSelectorTerm>) -> Pod {
    make_pod("p").node_affinity_required(terms).obj()
}

fn added_required(
    terms: Vec<k8s_openapi::api::core::v1::NodeSelectorTerm>,
) -> Option<ApiNodeAffinity> {
    Some(ApiNodeAffinity {
        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
            node_selector_terms: terms,
        }),
        preferred_during_scheduling_ignored_during_execution: None,
    })
}

/// Upstream: TestNodeAffinity.
#[test]
fn node_affinity_filter() {
    let mut empty_exprs = req_pod(vec![]);
    if let Some(na) = empty_exprs
        .spec
        .as_mut()
        .and_then(|s| s.affinity.as_mut())
        .and_then(|a| a.node_affinity.as_mut())
    {
        na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
            node_selector_terms: vec![k8s_openapi::api::core::v1::NodeSelectorTerm {
                match_expressions: Some(vec![]),
                match_fields: None,
            }],
        });
    }
    let mut nil_selector = make_pod("p").obj();
    nil_selector.spec.as_mut().expect("spec").affinity =
        Some(k8s_openapi::api::core::v1::Affinity {
            node_affinity: Some(ApiNodeAffinity::default()),
            ..Default::default()
        });
    let cases = vec![
        case(
            "missing labels",
            make_pod("p").node_selector("foo", "bar").obj(),
            &[],
            uau(POD),
        ),
        case(
            "same labels",
            make_pod("p").node_selector("foo", "bar").obj(),
            &[("foo", "bar")],
            ok(),
        ),
        case(
            "node labels are superset",
            make_pod("p").node_selector("foo", "bar").obj(),
            &[("foo", "bar"), ("baz", "blah")],
            ok(),
        ),
        case(
            "node labels are subset",
            make_pod("p")
                .node_selector("foo", "bar")
                .node_selector("baz", "blah")
                .obj(),
            &[("foo", "bar")],
            uau(POD),
        ),
        case(
            "Pod with matchExpressions using In operator that matches the existing node",
            req_pod(vec![term(
                vec![req("foo", "In", &["bar", "value2"])],
                vec![],
            )]),
            &[("foo", "bar")],
            ok(),
        ),
        case(
            "Pod with matchExpressions using Gt operator that matches the existing node",
            req_pod(vec![term(
                vec![req("kernel-version", "Gt", &["0204"])],
                vec![],
            )]),
            &[("kernel-version", "0206")],
            ok(),
        ),
        case(
            "Pod with matchExpressions using NotIn operator that matches the existing node",
            req_pod(vec![term(
                vec![req("mem-type", "NotIn", &["DDR", "DDR2"])],
                vec![],
            )]),
            &[("mem-type", "DDR3")],
            ok(),
        ),
        case(
            "Pod with matchExpressions using Exists operator that matches the existing node",
            req_pod(vec![term(vec![req("GPU", "Exists", &[])], vec![])]),
            &[("GPU", "NVIDIA-GRID-K1")],
            ok(),
        ),
        case(
            "Pod with affinity that don't match node's labels won't schedule onto the node",
            req_pod(vec![term(
                vec![req("foo", "In", &["value1", "value2"])],
                vec![],
            )]),
            &[("foo", "bar")],
            uau(POD),
        ),
        case(
            "Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node",
            empty_exprs,
            &[("foo", "bar")],
            uau(POD),
        ),
        Case {
            want_pre_filter: Status::skip(),
            ..case(
                "Pod with no Affinity will schedule onto a node",
                make_pod("p").obj(),
                &[("foo", "bar")],
                ok(),
            )
        },
        Case {
            want_pre_filter: Status::skip(),
            ..case(
                "Pod with Affinity but nil NodeSelector will schedule onto a node",
                nil_selector,
                &[("foo", "bar")],
                ok(),
            )
        },
        case(
            "Pod with multiple matchExpressions ANDed that matches the existing node",
            req_pod(vec![term(
                vec![
                    req("GPU", "Exists", &[]),
                    req("GPU", "NotIn", &["AMD", "INTER"]),
                ],
                vec![],
            )]),
            &[("GPU", "NVIDIA-GRID-K1")],
            ok(),
        ),
        case(
            "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
            req_pod(vec![term(
                vec![
                    req("GPU", "Exists", &[]),
                    req("GPU", "In", &["AMD", "INTER"]),
                ],
                vec![],
            )]),
            &[("GPU", "NVIDIA-GRID-K1")],
            uau(POD),
        ),
        case(
            "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node",
            req_pod(vec![
                term(vec![req("foo", "In", &["bar", "value2"])], vec![]),
                term(vec![req("diffkey", "In", &["wrong", "value2"])], vec![]),
            ]),
            &[("foo", "bar")],
            ok(),
        ),
        case(
            "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, will schedule onto the node",
            make_pod("p")
                .node_selector("foo", "bar")
                .node_affinity_required(vec![term(vec![req("foo", "Exists", &[])], vec![])])
                .obj(),
            &[("foo", "bar")],
            ok(),
        ),
        case(
            "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied, won't schedule onto the node",
            make_pod("p")
                .node_selector("foo", "bar")
                .node_affinity_required(vec![term(vec![req("foo", "Exists", &[])], vec![])])
                .obj(),
            &[("foo", "barrrrrr")],
            uau(POD),
        ),
        case(
            "Pod with an invalid value in Affinity term won't be scheduled onto the node",
            req_pod(vec![term(
                vec![req("foo", "NotIn", &["invalid value: ___@#$%^"])],
                vec![],
            )]),
            &[("foo", "bar")],
            uau(POD),
        ),
        Case {
            want_pre_filter_result: Some(vec!["node1"]),
            ..case(
                "Pod with matchFields using In operator that matches the existing node",
                req_pod(vec![term(vec![], vec![req(NAME, "In", &["node1"])])]),
                &[],
                ok(),
            )
        },
        Case {
            node_name: "node2",
            want_pre_filter_result: Some(vec!["node1"]),
            ..case(
                "Pod with matchFields using In operator that does not match the existing node",
                req_pod(vec![term(vec![], vec![req(NAME, "In", &["node1"])])]),
                &[],
                uau(POD),
            )
        },
        Case {
            node_name: "node2",
            ..case(
                "Pod with two terms: matchFields does not match, but matchExpressions matches",
                req_pod(vec![
                    term(
                        vec![],
                        vec![req(NAME, "In", &["node1"]), req(NAME, "In", &["node2"])],
                    ),
                    term(vec![req("foo", "In", &["bar"])], vec![]),
                ]),
                &[("foo", "bar")],
                ok(),
            )
        },
        Case {
            node_name: "node2",
            want_pre_filter_result: Some(vec!["node1"]),
            ..case(
                "Pod with one term: matchFields does not match, but matchExpressions matches",
                req_pod(vec![term(
                    vec![req("foo", "In", &["bar"])],
                    vec![req(NAME, "In", &["node1"])],
                )]),
                &[("foo", "bar")],
                uau(POD),
            )
        },
        Case {
            want_pre_filter_result: Some(vec!["node1"]),
            ..case(
                "Pod with one term: both matchFields and matchExpressions match",
                req_pod(vec![term(
                    vec![req("foo", "In", &["bar"])],
                    vec![req(NAME, "In", &["node1"])],
                )]),
                &[("foo", "bar")],
                ok(),
            )
        },
        Case {
            node_name: "node2",
            ..case(
                "Pod with two terms: both matchFields and matchExpressions do not match",
                req_pod(vec![
                    term(vec![], vec![req(NAME, "In", &["node1"])]),
                    term(vec![req("foo", "In", &["not-match-to-bar"])], vec![]),
                ]),
                &[("foo", "bar")],
                uau(POD),
            )
        },
        Case {
            node_name: "node2",
            want_pre_filter_result: Some(vec!["node1", "node2"]),
            ..case(
                "Pod with two terms of node.Name affinity",
                req_pod(vec![
                    term(vec![], vec![req(NAME, "In", &["node1"])]),
                    term(vec![], vec![req(NAME, "In", &["node2"])]),
                ]),
                &[],
                ok(),
            )
        },
        Case {
            node_name: "node2",
            want_pre_filter: uau(CONFLICT),
            ..case(
                "Pod with two conflicting mach field requirements",
                req_pod(vec![term(
                    vec![],
                    vec![req(NAME, "In", &["node1"]), req(NAME, "In", &["node2"])],
                )]),
                &[("foo", "bar")],
                uau(POD),
            )
        },
        Case {
            node_name: "node2",
            added: added_required(vec![term(vec![], vec![req(NAME, "In", &["node2"])])]),
            ..case(
                "Matches added affinity and Pod's node affinity",
                req_pod(vec![term(vec![req("zone", "In", &["foo"])], vec![])]),
                &[("zone", "foo")],
                ok(),
            )
        },
        Case {
            node_name: "node2",
            added: added_required(vec![term(vec![], vec![req(NAME, "In", &["node2"])])]),
            ..case(
                "Matches added affinity but not Pod's node affinity",
                req_pod(vec![term(vec![req("zone", "In", &["bar"])], vec![])]),
                &[("zone", "foo")],
                uau(POD),
            )
        },
        Case {
            node_name: "node2",
            added: added_required(vec![term(vec![req("zone", "In", &["bar"])], vec![])]),
            ..case(
                "Doesn't match added affinity",
                make_pod("p").obj(),
                &[("zone", "foo")],
                uau(ENFORCED),
            )
        },
        Case {
            run_pre_filter: false,
            ..case(
                "Matches node selector correctly even if PreFilter is not called",
                make_pod("p").node_selector("foo", "bar").obj(),
                &[("foo", "bar"), ("baz", "blah")],
                ok(),
            )
        },
        Case {
            run_pre_filter: false,
            ..case(
                "Matches node affinity correctly even if PreFilter is not called",
                req_pod(vec![term(
                    vec![
                        req("GPU", "Exists", &[]),
                        req("GPU", "NotIn", &["AMD", "INTER"]),
                    ],
                    vec![],
                )]),
                &[("GPU", "NVIDIA-GRID-K1")],
                ok(),
            )
        },
        case(
            "(kubetwin) Lt operator",
            req_pod(vec![term(vec![req("gen", "Lt", &["3"])], vec![])]),
            &[("gen", "2")],
            ok(),
        ),
        case(
            "(kubetwin) Gt with a non-integer label value does not match",
            req_pod(vec![term(vec![req("gen", "Gt", &["1"])], vec![])]),
            &[("gen", "two")],
            uau(POD),
        ),
        case(
            "(kubetwin) DoesNotExist",
            req_pod(vec![term(vec![req("spot", "DoesNotExist", &[])], vec![])]),
            &[("spot", "true")],
            uau(POD),
        ),
        case(
            "(kubetwin) NotIn matches a node without the label",
            req_pod(vec![term(vec![req("spot", "NotIn", &["true"])], vec![])]),
            &[],
            ok(),
        ),
        case(
            "(kubetwin) matchFields NotIn on metadata.name",
            req_pod(vec![term(vec![], vec![req(NAME, "NotIn", &["node1"])])]),
            &[],
            uau(POD),
        ),
    ];
    for c in cases {
        let mut b = make_node(c.node_name);
        for (k, v) in c.labels {
            b = b.label(k, v);
        }
        let w = World::new(vec![b.obj()], vec![]);
        let pl = NodeAffinity::new(c.added.as_ref()).expect("plugin");
        let info = PodInfo::new(c.pod.clone()).expect("pod");
        let h = w.handle();
        let mut state = CycleState::new();
        if c.run_pre_filter {
            let (res, s) = kubetwin_scheduler::framework::PreFilterPlugin::pre_filter(
                &pl, &h, &mut state, &info,
            );
            assert_status(c.name, &s, &c.want_pre_filter);
            let got: Option<Vec<String>> = res
                .and_then(|r| r.node_names)
                .map(|s| s.into_iter().collect());
            let want: Option<Vec<String>> = c
                .want_pre_filter_result
                .map(|v| v.iter().map(|s| (*s).to_owned()).collect());
            assert_eq!(got, want, "prefilter result: {}", c.name);
        }
        let node = w.snapshot.get(c.node_name).expect("node");
        let got = kubetwin_scheduler::framework::FilterPlugin::filter(&pl, &h, &state, &info, node);
        assert_status(c.name, &got, &c.want);
    }
}

/// Upstream: TestNodeAffinityPriority.
#[test]
fn node_affinity_priority() {
    let l1: &[(&str, &str)] = &[("foo", "bar")];
    let l2: &[(&str, &str)] = &[("key", "value")];
    let l3: &[(&str, &str)] = &[("az", "az1")];
    let l4: &[(&str, &str)] = &[("abc", "az11"), ("def", "az22")];
    let l5: &[(&str, &str)] = &[("foo", "bar"), ("key", "value"), ("az", "az1")];
    let aff1 = |b: kubetwin_scheduler::testing::PodBuilder| {
        b.node_affinity_preferred(2, term(vec![req("foo", "In", &["bar"])], vec![]))
    };
    let aff2 = |b: kubetwin_scheduler::testing::PodBuilder| {
        b.node_affinity_preferred(2, term(vec![req("foo", "In", &["bar"])], vec![]))
            .node_affinity_preferred(4, term(vec![req("key", "In", &["value"])], vec![]))
            .node_affinity_preferred(
                5,
                term(
                    vec![
                        req("foo", "In", &["bar"]),
                        req("key", "In", &["value"]),
                        req("az", "In", &["az1"]),
                    ],
                    vec![],
                ),
            )
    };
    let node = |name: &str, l: &[(&str, &str)]| {
        let mut b = make_node(name);
        for (k, v) in l {
            b = b.label(k, v);
        }
        b.obj()
    };
    let added_pref = |w: i32, t| ApiNodeAffinity {
        required_during_scheduling_ignored_during_execution: None,
        preferred_during_scheduling_ignored_during_execution: Some(vec![
            k8s_openapi::api::core::v1::PreferredSchedulingTerm {
                weight: w,
                preference: t,
            },
        ]),
    };
    let cases: Vec<(
        &str,
        Pod,
        Vec<k8s_openapi::api::core::v1::Node>,
        Option<ApiNodeAffinity>,
        Vec<i64>,
    )> = vec![
        (
            "all nodes are same priority as NodeAffinity is nil",
            make_pod("p").obj(),
            vec![node("node1", l1), node("node2", l2), node("node3", l3)],
            None,
            vec![0, 0, 0],
        ),
        (
            "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero",
            aff1(make_pod("p")).obj(),
            vec![node("node1", l4), node("node2", l2), node("node3", l3)],
            None,
            vec![0, 0, 0],
        ),
        (
            "only node1 matches the preferred scheduling requirements of pod",
            aff1(make_pod("p")).obj(),
            vec![node("node1", l1), node("node2", l2), node("node3", l3)],
            None,
            vec![100, 0, 0],
        ),
        (
            "all nodes matches the preferred scheduling requirements of pod but with different priorities ",
            aff2(make_pod("p")).obj(),
            vec![node("node1", l1), node("node5", l5), node("node2", l2)],
            None,
            vec![18, 100, 36],
        ),
        (
            "added affinity",
            make_pod("p").obj(),
            vec![node("node1", l1), node("node2", l2)],
            Some(added_pref(
                2,
                term(vec![req("foo", "In", &["bar"])], vec![]),
            )),
            vec![100, 0],
        ),
        (
            "added affinity and pod has default affinity",
            aff1(make_pod("p")).obj(),
            vec![node("node1", l1), node("node2", l2), node("node3", l5)],
            Some(added_pref(
                3,
                term(vec![req("key", "In", &["value"])], vec![]),
            )),
            vec![40, 60, 100],
        ),
    ];
    for (name, pod, nodes, added, want) in cases {
        let w = World::new(nodes, vec![]);
        let pl = NodeAffinity::new(added.as_ref()).expect("plugin");
        let got: Vec<i64> = w.scores(&pl, &pod).into_iter().map(|(_, s)| s).collect();
        assert_eq!(got, want, "{name}");
    }
    // "calculate the priorities correctly even if PreScore is not called": Score without PreScore.
    let w = World::new(
        vec![node("node1", l1), node("node5", l5), node("node2", l2)],
        vec![],
    );
    let pl = NodeAffinity::default();
    let info = PodInfo::new(aff2(make_pod("p")).obj()).expect("pod");
    let state = CycleState::new();
    let raw: Vec<i64> = w
        .snapshot
        .list()
        .map(|n| {
            kubetwin_scheduler::framework::ScorePlugin::score(&pl, &w.handle(), &state, &info, n)
                .expect("score")
        })
        .collect();
    assert_eq!(
        raw,
        vec![2, 11, 4],
        "calculate the priorities correctly even if PreScore is not called"
    );
    assert_eq!(Code::Success, Status::success().code());
}
