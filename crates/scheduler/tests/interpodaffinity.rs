//! Conformance: InterPodAffinity.
//! Upstream: pkg/scheduler/framework/plugins/interpodaffinity/filtering_test.go
//! (`TestRequiredAffinitySingleNode`); 1.34 statuses carry one reason.

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.
mod common;

use common::{World, assert_status, ok, st, uau};
use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use kubetwin_scheduler::plugins::interpodaffinity::{
    ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY,
    InterPodAffinity,
};
use kubetwin_scheduler::status::Code;
use kubetwin_scheduler::testing::{make_node, make_pod};

fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: if values.is_empty() {
            None
        } else {
            Some(values.iter().map(|s| (*s).to_owned()).collect())
        },
    }
}

fn t(exprs: Vec<LabelSelectorRequirement>, key: &str, namespaces: &[&str]) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: None,
            match_expressions: Some(exprs),
        }),
        topology_key: key.into(),
        namespaces: if namespaces.is_empty() {
            None
        } else {
            Some(namespaces.iter().map(|s| (*s).to_owned()).collect())
        },
        ..Default::default()
    }
}

/// `createPodWithAffinityTerms`.
fn pod_with(
    name: &str,
    node: &str,
    labels: &[(&str, &str)],
    affinity: Vec<PodAffinityTerm>,
    anti: Vec<PodAffinityTerm>,
) -> Pod {
    let mut b = make_pod(name);
    for (k, v) in labels {
        b = b.label(k, v);
    }
    if !node.is_empty() {
        b = b.node(node);
    }
    for a in affinity {
        b = b.pod_affinity_term(a);
    }
    for a in anti {
        b = b.pod_anti_affinity_term(a);
    }
    b.obj()
}

/// Upstream: TestRequiredAffinitySingleNode.
#[test]
fn required_affinity_single_node() {
    let pod_label: &[(&str, &str)] = &[("service", "securityscan")];
    let pod_label2: &[(&str, &str)] = &[("security", "S1")];
    let in_scan = || vec![expr("service", "In", &["securityscan", "value2"])];
    let in_av = || vec![expr("service", "In", &["antivirusscan", "value2"])];
    let existing_plain = || pod_with("existing", "machine1", pod_label, vec![], vec![]);
    let cases: Vec<(&str, Pod, Vec<Pod>, kubetwin_scheduler::Status)> = vec![
        (
            "A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
            make_pod("p").obj(),
            vec![],
            ok(),
        ),
        (
            "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches the existing pod",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![t(in_scan(), "region", &[])],
                vec![],
            ),
            vec![existing_plain()],
            ok(),
        ),
        (
            "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in labelSelector that matches the existing pod",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![t(
                    vec![expr("service", "NotIn", &["securityscan3", "value3"])],
                    "region",
                    &[],
                )],
                vec![],
            ),
            vec![existing_plain()],
            ok(),
        ),
        (
            "Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![t(in_scan(), "", &["DiffNameSpace"])],
                vec![],
            ),
            vec![
                make_pod("existing")
                    .namespace("ns")
                    .node("machine1")
                    .label("service", "securityscan")
                    .obj(),
            ],
            uau(ERR_REASON_AFFINITY),
        ),
        (
            "Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
            pod_with("p", "", pod_label, vec![t(in_av(), "", &[])], vec![]),
            vec![existing_plain()],
            uau(ERR_REASON_AFFINITY),
        ),
        (
            "satisfies the PodAffinity with different label Operators in multiple RequiredDuringSchedulingIgnoredDuringExecution ",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![
                    t(
                        vec![
                            expr("service", "Exists", &[]),
                            expr("wrongkey", "DoesNotExist", &[]),
                        ],
                        "region",
                        &[],
                    ),
                    t(
                        vec![
                            expr("service", "In", &["securityscan"]),
                            expr("service", "NotIn", &["WrongValue"]),
                        ],
                        "region",
                        &[],
                    ),
                ],
                vec![],
            ),
            vec![existing_plain()],
            ok(),
        ),
        (
            "The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node because one of the matchExpression item don't match.",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![
                    t(
                        vec![
                            expr("service", "Exists", &[]),
                            expr("wrongkey", "DoesNotExist", &[]),
                        ],
                        "region",
                        &[],
                    ),
                    t(
                        vec![
                            expr("service", "In", &["securityscan2"]),
                            expr("service", "NotIn", &["WrongValue"]),
                        ],
                        "region",
                        &[],
                    ),
                ],
                vec![],
            ),
            vec![existing_plain()],
            uau(ERR_REASON_AFFINITY),
        ),
        (
            "satisfies the PodAffinity and PodAntiAffinity with the existing pod",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![t(in_scan(), "region", &[])],
                vec![t(in_av(), "node", &[])],
            ),
            vec![existing_plain()],
            ok(),
        ),
        (
            "satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![t(in_scan(), "region", &[])],
                vec![t(in_av(), "node", &[])],
            ),
            vec![pod_with(
                "existing",
                "machine1",
                pod_label,
                vec![],
                vec![t(in_av(), "node", &[])],
            )],
            ok(),
        ),
        (
            "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
            pod_with(
                "p",
                "",
                pod_label2,
                vec![t(in_scan(), "region", &[])],
                vec![t(in_scan(), "zone", &[])],
            ),
            vec![existing_plain()],
            st(Code::Unschedulable, &[ERR_REASON_ANTI_AFFINITY]),
        ),
        (
            "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
            pod_with(
                "p",
                "",
                pod_label,
                vec![t(in_scan(), "region", &[])],
                vec![t(in_av(), "node", &[])],
            ),
            vec![pod_with(
                "existing",
                "machine1",
                pod_label,
                vec![],
                vec![t(in_scan(), "zone", &[])],
            )],
            st(Code::Unschedulable, &[ERR_REASON_EXISTING_ANTI_AFFINITY]),
        ),
        (
            "pod matches its own Label in PodAffinity and that matches the existing pod Labels",
            pod_with(
                "p",
                "",
                pod_label,
                vec![t(
                    vec![expr("service", "NotIn", &["securityscan", "value2"])],
                    "region",
                    &[],
                )],
                vec![],
            ),
            vec![existing_plain()],
            uau(ERR_REASON_AFFINITY),
        ),
        (
            "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod",
            pod_with("p", "", pod_label, vec![], vec![]),
            vec![pod_with(
                "existing",
                "machine1",
                pod_label,
                vec![],
                vec![t(in_scan(), "zone", &[])],
            )],
            st(Code::Unschedulable, &[ERR_REASON_EXISTING_ANTI_AFFINITY]),
        ),
        (
            "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the existing pod",
            pod_with("p", "", pod_label, vec![], vec![]),
            vec![pod_with(
                "existing",
                "machine1",
                pod_label,
                vec![],
                vec![t(
                    vec![expr("service", "NotIn", &["securityscan", "value2"])],
                    "zone",
                    &[],
                )],
            )],
            ok(),
        ),
        (
            "satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod",
            pod_with(
                "p",
                "",
                pod_label,
                vec![],
                vec![
                    t(vec![expr("service", "Exists", &[])], "region", &[]),
                    t(vec![expr("security", "Exists", &[])], "region", &[]),
                ],
            ),
            vec![pod_with(
                "existing",
                "machine1",
                pod_label2,
                vec![],
                vec![t(vec![expr("security", "Exists", &[])], "zone", &[])],
            )],
            st(Code::Unschedulable, &[ERR_REASON_ANTI_AFFINITY]),
        ),
        (
            "PodAntiAffinity symmetry check a1: incoming pod and existing pod partially match each other on AffinityTerms",
            pod_with(
                "p",
                "",
                pod_label,
                vec![],
                vec![
                    t(vec![expr("service", "Exists", &[])], "zone", &[]),
                    t(vec![expr("security", "Exists", &[])], "zone", &[]),
                ],
            ),
            vec![pod_with(
                "existing",
                "machine1",
                pod_label2,
                vec![],
                vec![t(vec![expr("security", "Exists", &[])], "zone", &[])],
            )],
            st(Code::Unschedulable, &[ERR_REASON_ANTI_AFFINITY]),
        ),
        (
            "(kubetwin) the first pod of a group may go anywhere when nothing matches yet and it matches itself",
            pod_with(
                "p",
                "",
                pod_label,
                vec![t(in_scan(), "region", &[])],
                vec![],
            ),
            vec![],
            ok(),
        ),
        (
            "(kubetwin) a node without the affinity topology key is rejected",
            pod_with("p", "", pod_label, vec![t(in_scan(), "rack", &[])], vec![]),
            vec![existing_plain()],
            uau(ERR_REASON_AFFINITY),
        ),
    ];
    for (name, pod, existing, want) in cases {
        let node = make_node("machine1")
            .label("region", "r1")
            .label("zone", "z11")
            .obj();
        let w = World::new(vec![node], existing);
        let got = w.filter(&InterPodAffinity::default(), &pod, "machine1");
        assert_status(name, &got, &want);
    }
}

/// Preferred affinity scoring (`TestPreferredAffinity`, basic shapes).
#[test]
fn preferred_affinity_score() {
    let nodes = || {
        vec![
            make_node("node1").label("region", "China").obj(),
            make_node("node2").label("region", "India").obj(),
            make_node("node3").label("az", "az1").obj(),
        ]
    };
    let pref = |w: i32| {
        make_pod("p")
            .preferred_pod_affinity(w, t(vec![expr("security", "In", &["S1"])], "region", &[]))
            .obj()
    };
    // "Affinity: pod that matches topology key & pods in nodes will get high score comparing to others
    // which doesn't match either pods in nodes or in topology key"
    let w = World::new(
        nodes(),
        vec![
            make_pod("e1").node("node1").label("security", "S1").obj(),
            make_pod("e2").node("node2").label("security", "S2").obj(),
            make_pod("e3").node("node3").label("security", "S1").obj(),
        ],
    );
    let got: Vec<i64> = w
        .scores(&InterPodAffinity::default(), &pref(5))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        got,
        vec![100, 0, 0],
        "Affinity: pod that matches topology key & pods in nodes will get high score"
    );
    // "all nodes are same priority as Affinity is nil" — PreScore skips, every node scores 0.
    let got: Vec<i64> = w
        .scores(&InterPodAffinity::default(), &make_pod("p").obj())
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        got,
        vec![0, 0, 0],
        "all nodes are same priority as Affinity is nil"
    );
}
