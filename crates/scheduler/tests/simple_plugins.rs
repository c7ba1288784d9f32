//! Conformance: the small plugins of the default profile.
//! Upstream tests (pkg/scheduler/framework/plugins/...): tainttoleration/taint_toleration_test.go
//! (`TestTaintTolerationScore`, `TestTaintTolerationFilter`), nodename/node_name_test.go
//! (`TestNodeName`), nodeunschedulable/node_unschedulable_test.go (`TestNodeUnschedulable`),
//! nodeports/node_ports_test.go (`TestNodePorts`), imagelocality/image_locality_test.go
//! (`TestImageLocalityPriority`, `TestNormalizedImageName`), helper/normalize_score_test.go
//! (`TestDefaultNormalizeScore`), schedulinggates/scheduling_gates_test.go, queuesort/priority_sort_test.go.
//!
//! Expected filter messages are 1.34's (`node(s) had untolerated taint {key: value}`); the
//! comparison-operator toleration cases of later releases are left out (not in 1.34).

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.

mod common;

use std::sync::Arc;

use common::{World, assert_status, ok, uau, unsched};
use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_scheduler::framework::PreEnqueuePlugin;
use kubetwin_scheduler::framework::{NodeScore, QueueSortPlugin, QueuedPodInfo};
use kubetwin_scheduler::helpers::normalize::default_normalize_score;
use kubetwin_scheduler::plugins::imagelocality::ImageLocality;
use kubetwin_scheduler::plugins::nodename::NodeName;
use kubetwin_scheduler::plugins::nodeports::NodePorts;
use kubetwin_scheduler::plugins::nodeunschedulable::NodeUnschedulable;
use kubetwin_scheduler::plugins::queuesort::PrioritySort;
use kubetwin_scheduler::plugins::schedulinggates::SchedulingGates;
use kubetwin_scheduler::plugins::tainttoleration::TaintToleration;
use kubetwin_scheduler::status::Code;
use kubetwin_scheduler::testing::{make_node, make_pod, taint, toleration};
use kubetwin_scheduler::types::{PodInfo, normalized_image_name};

fn node_taints(name: &str, taints: &[(&str, &str, &str)]) -> Node {
    let mut b = make_node(name);
    for (k, v, e) in taints {
        b = b.taint(taint(k, v, e));
    }
    b.obj()
}

fn pod_tols(tols: &[(&str, &str, &str, &str)]) -> Pod {
    let mut b = make_pod("pod1");
    for (k, op, v, e) in tols {
        b = b.toleration(toleration(k, op, v, e));
    }
    b.obj()
}

/// Upstream: TestTaintTolerationScore (the 1.34-applicable cases).
#[test]
fn taint_toleration_score() {
    const P: &str = "PreferNoSchedule";
    const N: &str = "NoSchedule";
    let cases: Vec<(&str, Pod, Vec<Node>, Vec<i64>)> = vec![
        (
            "node with taints tolerated by the pod, gets a higher score than those node with intolerable taints",
            pod_tols(&[("foo", "Equal", "bar", P)]),
            vec![
                node_taints("nodeA", &[("foo", "bar", P)]),
                node_taints("nodeB", &[("foo", "blah", P)]),
            ],
            vec![100, 0],
        ),
        (
            "the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has",
            pod_tols(&[
                ("cpu-type", "Equal", "arm64", P),
                ("disk-type", "Equal", "ssd", P),
            ]),
            vec![
                node_taints("nodeA", &[]),
                node_taints("nodeB", &[("cpu-type", "arm64", P)]),
                node_taints(
                    "nodeC",
                    &[("cpu-type", "arm64", P), ("disk-type", "ssd", P)],
                ),
            ],
            vec![100, 100, 100],
        ),
        (
            "the more intolerable taints a node has, the lower score it gets.",
            pod_tols(&[("foo", "Equal", "bar", P)]),
            vec![
                node_taints("nodeA", &[]),
                node_taints("nodeB", &[("cpu-type", "arm64", P)]),
                node_taints(
                    "nodeC",
                    &[("cpu-type", "arm64", P), ("disk-type", "ssd", P)],
                ),
            ],
            vec![100, 50, 0],
        ),
        (
            "only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority function",
            pod_tols(&[
                ("cpu-type", "Equal", "arm64", N),
                ("disk-type", "Equal", "ssd", N),
            ]),
            vec![
                node_taints("nodeA", &[]),
                node_taints("nodeB", &[("cpu-type", "arm64", N)]),
                node_taints(
                    "nodeC",
                    &[("cpu-type", "arm64", P), ("disk-type", "ssd", P)],
                ),
            ],
            vec![100, 100, 0],
        ),
        (
            "Default behaviour No taints and tolerations, lands on node with no taints",
            pod_tols(&[]),
            vec![
                node_taints("nodeA", &[]),
                node_taints("nodeB", &[("cpu-type", "arm64", P)]),
            ],
            vec![100, 0],
        ),
    ];
    for (name, pod, nodes, want) in cases {
        let w = World::new(nodes, vec![]);
        let got: Vec<i64> = w
            .scores(&TaintToleration, &pod)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

/// Upstream: TestTaintTolerationFilter (the 1.34-applicable cases, 1.34 messages).
#[test]
fn taint_toleration_filter() {
    let n = "NoSchedule";
    let cases: Vec<(&str, Pod, Node, kubetwin_scheduler::Status)> = vec![
        (
            "A pod having no tolerations can't be scheduled onto a node with nonempty taints",
            pod_tols(&[]),
            node_taints("nodeA", &[("dedicated", "user1", n)]),
            uau("node(s) had untolerated taint {dedicated: user1}"),
        ),
        (
            "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
            pod_tols(&[("dedicated", "", "user1", n)]),
            node_taints("nodeA", &[("dedicated", "user1", n)]),
            ok(),
        ),
        (
            "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
            pod_tols(&[("dedicated", "Equal", "user2", n)]),
            node_taints("nodeA", &[("dedicated", "user1", n)]),
            uau("node(s) had untolerated taint {dedicated: user1}"),
        ),
        (
            "A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node",
            pod_tols(&[("foo", "Exists", "", n)]),
            node_taints("nodeA", &[("foo", "bar", n)]),
            ok(),
        ),
        (
            "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node",
            pod_tols(&[("dedicated", "Equal", "user2", n), ("foo", "Exists", "", n)]),
            node_taints("nodeA", &[("dedicated", "user2", n), ("foo", "bar", n)]),
            ok(),
        ),
        (
            "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, can't be scheduled onto the node",
            pod_tols(&[("foo", "Equal", "bar", "PreferNoSchedule")]),
            node_taints("nodeA", &[("foo", "bar", n)]),
            uau("node(s) had untolerated taint {foo: bar}"),
        ),
        (
            "The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node",
            pod_tols(&[("foo", "Equal", "bar", "")]),
            node_taints("nodeA", &[("foo", "bar", n)]),
            ok(),
        ),
        (
            "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
            pod_tols(&[("dedicated", "Equal", "user2", n)]),
            node_taints("nodeA", &[("dedicated", "user1", "PreferNoSchedule")]),
            ok(),
        ),
        (
            "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
            pod_tols(&[]),
            node_taints("nodeA", &[("dedicated", "user1", "PreferNoSchedule")]),
            ok(),
        ),
        (
            "(kubetwin) empty taint value renders as {key: }",
            pod_tols(&[]),
            node_taints("nodeA", &[("node-role.kubernetes.io/control-plane", "", n)]),
            uau("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
        ),
        (
            "(kubetwin) NoExecute taints are filtered too; the first untolerated taint is reported",
            pod_tols(&[("a", "Exists", "", "")]),
            node_taints(
                "nodeA",
                &[("a", "1", n), ("b", "2", "NoExecute"), ("c", "3", n)],
            ),
            uau("node(s) had untolerated taint {b: 2}"),
        ),
        (
            "(kubetwin) an empty-key Exists toleration tolerates everything",
            pod_tols(&[("", "Exists", "", "")]),
            node_taints("nodeA", &[("a", "1", n), ("b", "2", "NoExecute")]),
            ok(),
        ),
    ];
    for (name, pod, node, want) in cases {
        let w = World::new(vec![node], vec![]);
        let got = w.filter(&TaintToleration, &pod, "nodeA");
        assert_status(name, &got, &want);
    }
}

/// Upstream: TestNodeName.
#[test]
fn node_name() {
    let cases = vec![
        ("no host specified", make_pod("p").obj(), ok()),
        ("host matches", make_pod("p").node("foo").obj(), ok()),
        (
            "host doesn't match",
            make_pod("p").node("bar").obj(),
            uau("node(s) didn't match the requested node name"),
        ),
    ];
    for (name, pod, want) in cases {
        let w = World::new(vec![make_node("foo").obj()], vec![]);
        assert_status(name, &w.filter(&NodeName, &pod, "foo"), &want);
    }
}

/// Upstream: TestNodeUnschedulable.
#[test]
fn node_unschedulable() {
    let cases = vec![
        (
            "Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)",
            make_pod("p").obj(),
            make_node("n").unschedulable().obj(),
            uau("node(s) were unschedulable"),
        ),
        (
            "Schedule pod to normal node",
            make_pod("p").obj(),
            make_node("n").obj(),
            ok(),
        ),
        (
            "Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)",
            make_pod("p")
                .toleration(toleration(
                    "node.kubernetes.io/unschedulable",
                    "",
                    "",
                    "NoSchedule",
                ))
                .obj(),
            make_node("n").unschedulable().obj(),
            ok(),
        ),
        (
            "(kubetwin) an Exists toleration with empty key tolerates cordoning",
            make_pod("p")
                .toleration(toleration("", "Exists", "", ""))
                .obj(),
            make_node("n").unschedulable().obj(),
            ok(),
        ),
    ];
    for (name, pod, node, want) in cases {
        let w = World::new(vec![node], vec![]);
        assert_status(name, &w.filter(&NodeUnschedulable, &pod, "n"), &want);
    }
}

fn port_pod(name: &str, specs: &[&str]) -> Pod {
    let mut b = make_pod(name);
    for s in specs {
        let parts: Vec<&str> = s.split('/').collect();
        b = b.host_port(parts[1], parts[0], parts[2].parse().expect("port"));
    }
    b.obj()
}

/// Upstream: TestNodePorts.
#[test]
fn node_ports() {
    let conflict = "node(s) didn't have free ports for the requested pod ports";
    let cases: Vec<(&str, Vec<&str>, Vec<&str>, bool)> = vec![
        ("nothing running", vec![], vec![], true),
        (
            "other port",
            vec!["UDP/127.0.0.1/8080"],
            vec!["UDP/127.0.0.1/9090"],
            true,
        ),
        (
            "same udp port",
            vec!["UDP/127.0.0.1/8080"],
            vec!["UDP/127.0.0.1/8080"],
            false,
        ),
        (
            "same tcp port",
            vec!["TCP/127.0.0.1/8080"],
            vec!["TCP/127.0.0.1/8080"],
            false,
        ),
        (
            "different host ip",
            vec!["TCP/127.0.0.1/8080"],
            vec!["TCP/127.0.0.2/8080"],
            true,
        ),
        (
            "different protocol",
            vec!["UDP/127.0.0.1/8080"],
            vec!["TCP/127.0.0.1/8080"],
            true,
        ),
        (
            "second udp port conflict",
            vec!["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"],
            vec!["UDP/127.0.0.1/8080"],
            false,
        ),
        (
            "first tcp port conflict",
            vec!["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
            vec!["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
            false,
        ),
        (
            "first tcp port conflict due to 0.0.0.0 hostIP",
            vec!["TCP/0.0.0.0/8001"],
            vec!["TCP/127.0.0.1/8001"],
            false,
        ),
        (
            "TCP hostPort conflict due to 0.0.0.0 hostIP",
            vec!["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
            vec!["TCP/127.0.0.1/8001"],
            false,
        ),
        (
            "second tcp port conflict to 0.0.0.0 hostIP",
            vec!["TCP/127.0.0.1/8001"],
            vec!["TCP/0.0.0.0/8001"],
            false,
        ),
        (
            "second different protocol",
            vec!["UDP/127.0.0.1/8001"],
            vec!["TCP/0.0.0.0/8001"],
            true,
        ),
        (
            "UDP hostPort conflict due to 0.0.0.0 hostIP",
            vec!["UDP/127.0.0.1/8001"],
            vec!["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
            false,
        ),
        (
            "(kubetwin) empty hostIP and protocol default to 0.0.0.0/TCP",
            vec!["/127.0.0.1/8001"],
            vec!["TCP//8001"],
            false,
        ),
    ];
    for (name, wanted, existing, fits) in cases {
        let mut existing_pod = port_pod("existing", &existing);
        existing_pod.spec.as_mut().expect("spec").node_name = Some("n".into());
        let w = World::new(
            vec![make_node("n").capacity(&[("pods", "10")]).obj()],
            vec![existing_pod],
        );
        let want = if fits { ok() } else { unsched(&[conflict]) };
        assert_status(
            name,
            &w.filter(&NodePorts, &port_pod("m1", &wanted), "n"),
            &want,
        );
    }
}

/// Upstream: TestNodePorts (1.34: restartable init containers' host ports count).
#[test]
fn node_ports_sidecar() {
    let mut existing = make_pod("existing").node("n").obj();
    let spec = existing.spec.as_mut().expect("spec");
    spec.init_containers = Some(vec![k8s_openapi::api::core::v1::Container {
        name: "sidecar".into(),
        restart_policy: Some("Always".into()),
        ports: Some(vec![k8s_openapi::api::core::v1::ContainerPort {
            container_port: 80,
            host_port: Some(8080),
            ..Default::default()
        }]),
        ..Default::default()
    }]);
    let w = World::new(vec![make_node("n").obj()], vec![existing]);
    let got = w.filter(&NodePorts, &port_pod("m1", &["TCP/0.0.0.0/8080"]), "n");
    assert_status(
        "sidecar host port conflicts",
        &got,
        &unsched(&["node(s) didn't have free ports for the requested pod ports"]),
    );
}

const MB: i64 = 1024 * 1024;

/// Upstream: TestImageLocalityPriority.
#[test]
fn image_locality() {
    let n403002000 = |name: &str| {
        make_node(name)
            .image(
                &["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"],
                40 * MB,
            )
            .image(&["gcr.io/300:latest", "gcr.io/300:v1"], 300 * MB)
            .image(&["gcr.io/2000:latest"], 2000 * MB)
            .obj()
    };
    let n25010 = |name: &str| {
        make_node(name)
            .image(&["gcr.io/250:latest"], 250 * MB)
            .image(&["gcr.io/10:latest", "gcr.io/10:v1"], 10 * MB)
            .obj()
    };
    let n60040900 = |name: &str| {
        make_node(name)
            .image(&["gcr.io/600:latest"], 600 * MB)
            .image(&["gcr.io/40:latest"], 40 * MB)
            .image(&["gcr.io/900:latest"], 900 * MB)
            .obj()
    };
    let n300600900 = |name: &str| {
        make_node(name)
            .image(&["gcr.io/300:latest"], 300 * MB)
            .image(&["gcr.io/600:latest"], 600 * MB)
            .image(&["gcr.io/900:latest"], 900 * MB)
            .obj()
    };
    let n400030 = |name: &str| {
        make_node(name)
            .image(&["gcr.io/4000:latest"], 4000 * MB)
            .image(&["gcr.io/30:latest"], 30 * MB)
            .obj()
    };
    let n203040 = |name: &str| {
        make_node(name)
            .image(&["gcr.io/20:latest"], 20 * MB)
            .image(&["gcr.io/30:latest"], 30 * MB)
            .image(&["gcr.io/40:latest"], 40 * MB)
            .obj()
    };
    let pod = |imgs: &[&str]| {
        let mut b = make_pod("p");
        for i in imgs {
            b = b.container(i);
        }
        b.obj()
    };
    let mut init_pod = pod(&["gcr.io/30"]);
    init_pod.spec.as_mut().expect("spec").init_containers =
        Some(vec![k8s_openapi::api::core::v1::Container {
            name: "i".into(),
            image: Some("gcr.io/300".into()),
            ..Default::default()
        }]);
    let cases: Vec<(&str, Pod, Vec<Node>, Vec<i64>)> = vec![
        (
            "two images spread on two nodes, prefer the larger image one",
            pod(&["gcr.io/40", "gcr.io/250"]),
            vec![n403002000("node1"), n25010("node2")],
            vec![0, 5],
        ),
        (
            "two images on one node, prefer this node",
            pod(&["gcr.io/40", "gcr.io/300"]),
            vec![n403002000("node1"), n25010("node2")],
            vec![7, 0],
        ),
        (
            "if exceed limit, use limit",
            pod(&["gcr.io/4000", "gcr.io/10"]),
            vec![n400030("node1"), n25010("node2")],
            vec![100, 0],
        ),
        (
            "if exceed limit, use limit (with node which has no images present)",
            pod(&["gcr.io/4000", "gcr.io/10"]),
            vec![n400030("node1"), n25010("node2"), make_node("node3").obj()],
            vec![66, 0, 0],
        ),
        (
            "pod with multiple large images, node2 is preferred",
            pod(&["gcr.io/300", "gcr.io/600", "gcr.io/900"]),
            vec![
                n60040900("node1"),
                n300600900("node2"),
                make_node("node3").obj(),
            ],
            vec![32, 36, 0],
        ),
        (
            "pod with multiple small images",
            pod(&["gcr.io/30", "gcr.io/40"]),
            vec![n203040("node1"), n400030("node2")],
            vec![1, 0],
        ),
        (
            "include InitContainers: two images spread on two nodes, prefer the larger image one",
            init_pod,
            vec![n403002000("node1"), n203040("node2")],
            vec![6, 0],
        ),
    ];
    for (name, pod, nodes, want) in cases {
        let w = World::new(nodes, vec![]);
        let got: Vec<i64> = w
            .scores(&ImageLocality, &pod)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

/// Upstream: TestNormalizedImageName.
#[test]
fn normalized_image_names() {
    let digest = "root@sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2";
    for (name, input, output) in [
        ("add :latest postfix 1", "root", "root:latest"),
        (
            "add :latest postfix 2",
            "gcr.io:5000/root",
            "gcr.io:5000/root:latest",
        ),
        ("keep it as is 1", "root:tag", "root:tag"),
        ("keep it as is 2", digest, digest),
    ] {
        assert_eq!(normalized_image_name(input), output, "{name}");
    }
}

/// Upstream: TestDefaultNormalizeScore.
#[test]
fn default_normalize() {
    let cases: &[(bool, &[i64], &[i64])] = &[
        (false, &[1, 2, 3, 4], &[25, 50, 75, 100]),
        (true, &[1, 2, 3, 4], &[75, 50, 25, 0]),
        (false, &[1000, 10, 20, 30], &[100, 1, 2, 3]),
        (true, &[1000, 10, 20, 30], &[0, 99, 98, 97]),
        (false, &[1, 1, 1, 1], &[100, 100, 100, 100]),
        (false, &[1000, 1, 1, 1], &[100, 0, 0, 0]),
        (true, &[0, 1, 1, 1], &[100, 0, 0, 0]),
    ];
    for (i, (reverse, scores, want)) in cases.iter().enumerate() {
        let mut list: Vec<NodeScore<'_>> = scores
            .iter()
            .map(|s| NodeScore {
                name: "",
                score: *s,
            })
            .collect();
        default_normalize_score(100, *reverse, &mut list);
        let got: Vec<i64> = list.iter().map(|s| s.score).collect();
        assert_eq!(&got, want, "case_{i}");
    }
}

/// Upstream: TestPreEnqueue (schedulinggates/scheduling_gates_test.go).
#[test]
fn scheduling_gates() {
    let cases = vec![
        (
            "pod does not carry scheduling gates",
            make_pod("p").obj(),
            None,
        ),
        (
            "pod carries scheduling gates",
            make_pod("p").scheduling_gates(&["foo", "bar"]).obj(),
            Some("waiting for scheduling gates: [foo bar]"),
        ),
    ];
    for (name, pod, want) in cases {
        let s = SchedulingGates.pre_enqueue(&PodInfo::new(pod).expect("pod"));
        match want {
            None => assert!(s.is_success(), "{name}"),
            Some(msg) => {
                assert_eq!(s.code(), Code::UnschedulableAndUnresolvable, "{name}");
                assert_eq!(s.message(), msg, "{name}");
            }
        }
    }
}

/// Upstream: TestLess (queuesort/priority_sort_test.go).
#[test]
fn priority_sort_less() {
    let q = |prio: i32, ts: i128| QueuedPodInfo {
        pod: Arc::new(PodInfo::new(make_pod("p").priority(prio).obj()).expect("pod")),
        timestamp: ts,
        sequence: 0,
        attempts: 0,
        unschedulable_count: 0,
        consecutive_errors_count: 0,
        unschedulable_plugins: Default::default(),
        gating_plugin: String::new(),
    };
    let cases = [
        ("p1.priority less than p2.priority", q(1, 0), q(2, 0), false),
        (
            "p1.priority greater than p2.priority",
            q(2, 0),
            q(1, 0),
            true,
        ),
        (
            "equal priority. p1 is added to schedulingQ earlier than p2",
            q(1, 0),
            q(1, 1),
            true,
        ),
        (
            "equal priority. p2 is added to schedulingQ earlier than p1",
            q(1, 1),
            q(1, 0),
            false,
        ),
    ];
    for (name, a, b, want) in cases {
        assert_eq!(PrioritySort.less(&a, &b), want, "{name}");
    }
}
