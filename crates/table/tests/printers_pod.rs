//! Pod and PodTemplate rows, transcribed from `pkg/printers/internalversion/printers_test.go`
//! (Kubernetes 1.34): TestPrintPod, TestPrintPodWithRestartableInitContainer, TestPrintPodwide,
//! TestPrintPodConditions, TestPrintPodList, TestPrintNonTerminatedPod, TestPrintPodTemplate,
//! TestPrintPodTemplateList. Internal objects are rewritten as v1 JSON (`lastTerminationState` is
//! `lastState`, `PodIPs` are `podIPs`, …); expectations are upstream's.

mod common;

use common::*;
use serde_json::{Value, json};

struct PodCase {
    name: &'static str,
    pod: Value,
    cells: Value,
    /// The reason of the expected `Completed` row condition, if any.
    completed: Option<&'static str>,
}

fn empty_containers(n: usize) -> Value {
    Value::Array(vec![json!({}); n])
}

fn run_pods(upstream: &str, wide: bool, cases: Vec<PodCase>) {
    for case in cases {
        let got = if wide {
            wide_cells("", "pods", &case.pod)
        } else {
            narrow_cells("", "pods", &case.pod)
        };
        assert_eq!(Value::Array(got), case.cells, "{upstream} / {}", case.name);
        let conditions = kubetwin_table::row_conditions("", "pods", &case.pod);
        let want = case.completed.map(|reason| {
            let message = if reason == "Succeeded" {
                "The pod has completed successfully."
            } else {
                "The pod failed."
            };
            json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}])
        });
        assert_eq!(conditions, want, "{upstream} / {} conditions", case.name);
    }
}

fn running_ready(restarts: i64) -> Value {
    json!({"ready": true, "restartCount": restarts, "state": {"running": {}}})
}

#[test]
fn test_print_pod() {
    let delete_time = ago(10.0);
    let cases = vec![
        PodCase {
            name: "test1: name, containers, restarts, ready",
            pod: json!({"metadata": {"name": "test1"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "podPhase", "containerStatuses": [running_ready(3), {"restartCount": 3}]}}),
            cells: json!(["test1", "1/2", "podPhase", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test2: container error overwrites pod phase",
            pod: json!({"metadata": {"name": "test2"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "podPhase", "containerStatuses": [running_ready(3),
                    {"state": {"waiting": {"reason": "ContainerWaitingReason"}}, "restartCount": 3}]}}),
            cells: json!(["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test3: terminated state, the first container overwrites the rest",
            pod: json!({"metadata": {"name": "test3"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "podPhase", "containerStatuses": [
                    {"state": {"waiting": {"reason": "ContainerWaitingReason"}}, "restartCount": 3},
                    {"state": {"terminated": {"reason": "ContainerTerminatedReason"}}, "restartCount": 3}]}}),
            cells: json!(["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test4: ready is not enough for reporting running",
            pod: json!({"metadata": {"name": "test4"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "podPhase", "containerStatuses": [running_ready(3), {"ready": true, "restartCount": 3}]}}),
            cells: json!(["test4", "1/2", "podPhase", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test5: pod reason",
            pod: json!({"metadata": {"name": "test5"}, "spec": {"containers": empty_containers(2)},
                "status": {"reason": "podReason", "phase": "podPhase", "containerStatuses": [running_ready(3), {"ready": true, "restartCount": 3}]}}),
            cells: json!(["test5", "1/2", "podReason", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test6: one running, one completed, no ready condition",
            pod: json!({"metadata": {"name": "test6"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "Running", "reason": "", "containerStatuses": [
                    {"ready": true, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                    running_ready(3)]}}),
            cells: json!(["test6", "1/2", "NotReady", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test6: one running, one completed, with ready condition",
            pod: json!({"metadata": {"name": "test6"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "Running", "reason": "", "containerStatuses": [
                    {"ready": true, "restartCount": 3, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
                    running_ready(3)],
                    "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": ago(0.0)}]}}),
            cells: json!(["test6", "1/2", "Running", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test7: one init container restarting, one container not running",
            pod: json!({"metadata": {"name": "test7"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "podPhase",
                    "initContainerStatuses": [{"ready": false, "restartCount": 3, "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(10.0)}}}],
                    "containerStatuses": [{"ready": false, "restartCount": 0, "state": {"waiting": {}}}]}}),
            cells: json!(["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test8: two init containers, one restarting, the other not running",
            pod: json!({"metadata": {"name": "test8"},
                "spec": {"initContainers": empty_containers(2), "containers": empty_containers(1)},
                "status": {"phase": "podPhase",
                    "initContainerStatuses": [
                        {"ready": false, "restartCount": 3, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(10.0)}}},
                        {"ready": false, "state": {"waiting": {}}}],
                    "containerStatuses": [{"ready": false, "state": {"waiting": {}}}]}}),
            cells: json!(["test8", "0/1", "Init:0/2", "3 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test9: one init container completed without restarts, the other restarting",
            pod: json!({"metadata": {"name": "test9"},
                "spec": {"initContainers": empty_containers(2), "containers": empty_containers(1)},
                "status": {"phase": "podPhase",
                    "initContainerStatuses": [
                        {"ready": false, "state": {"terminated": {}}},
                        {"ready": false, "restartCount": 3, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(10.0)}}}],
                    "containerStatuses": [{"ready": false, "state": {"waiting": {}}}]}}),
            cells: json!(["test9", "0/1", "Init:1/2", "3 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test10: one init container completed with restarts, the other restarting",
            pod: json!({"metadata": {"name": "test10"},
                "spec": {"initContainers": empty_containers(2), "containers": empty_containers(1)},
                "status": {"phase": "podPhase",
                    "initContainerStatuses": [
                        {"ready": false, "restartCount": 2, "state": {"terminated": {}},
                            "lastState": {"terminated": {"finishedAt": ago(2.0 * MINUTE)}}},
                        {"ready": false, "restartCount": 3, "state": {"running": {}},
                            "lastState": {"terminated": {"finishedAt": ago(10.0)}}}],
                    "containerStatuses": [{"ready": false, "state": {"waiting": {}}}]}}),
            cells: json!(["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test11: init container completed with restarts, container restarting",
            pod: json!({"metadata": {"name": "test11"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "Running",
                    "initContainerStatuses": [
                        {"ready": false, "restartCount": 2, "state": {"terminated": {}},
                            "lastState": {"terminated": {"finishedAt": ago(2.0 * MINUTE)}}}],
                    "containerStatuses": [{"ready": false, "restartCount": 4, "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(20.0)}}}]}}),
            cells: json!(["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test12: container restarted 5d ago",
            pod: json!({"metadata": {"name": "test12"}, "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Running", "containerStatuses": [{"ready": true, "restartCount": 3,
                    "state": {"running": {}}, "lastState": {"terminated": {"finishedAt": ago(5.0 * DAY)}}}]}}),
            cells: json!(["test12", "1/1", "Running", "3 (5d ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test13: one never restarted, the other restarted 10d ago",
            pod: json!({"metadata": {"name": "test13"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "Running", "containerStatuses": [
                    {"ready": true, "restartCount": 0, "state": {"running": {}}},
                    {"ready": true, "restartCount": 3, "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(10.0 * DAY)}}}]}}),
            cells: json!(["test13", "2/2", "Running", "3 (10d ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test14: restarted 5d ago and 20d ago",
            pod: json!({"metadata": {"name": "test14"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "Running", "containerStatuses": [
                    {"ready": true, "restartCount": 6, "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(5.0 * DAY)}}},
                    {"ready": true, "restartCount": 3, "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(20.0 * DAY)}}}]}}),
            cells: json!(["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test15: PodScheduled condition with reason SchedulingGated",
            pod: json!({"metadata": {"name": "test15"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "podPhase", "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}}),
            cells: json!(["test15", "0/2", "SchedulingGated", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test16: pod condition succeed",
            pod: json!({"metadata": {"name": "test16"}, "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Succeeded", "containerStatuses": [{"ready": false, "restartCount": 0,
                    "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}}),
            cells: json!(["test16", "0/1", "Completed", "0", "<unknown>"]),
            completed: Some("Succeeded"),
        },
        PodCase {
            name: "test17: pod condition failed",
            pod: json!({"metadata": {"name": "test17"}, "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Failed", "containerStatuses": [{"ready": false, "restartCount": 0,
                    "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}),
            cells: json!(["test17", "0/1", "Error", "0", "<unknown>"]),
            completed: Some("Failed"),
        },
        PodCase {
            name: "test18: pod condition succeed with deletion",
            pod: json!({"metadata": {"name": "test18", "deletionTimestamp": delete_time},
                "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Succeeded", "containerStatuses": [{"ready": false, "restartCount": 0,
                    "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}}),
            cells: json!(["test18", "0/1", "Completed", "0", "<unknown>"]),
            completed: Some("Succeeded"),
        },
        PodCase {
            name: "test19: pod condition running with deletion",
            pod: json!({"metadata": {"name": "test19", "deletionTimestamp": delete_time},
                "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Running", "containerStatuses": [{"ready": false, "restartCount": 0,
                    "state": {"running": {}}}]}}),
            cells: json!(["test19", "0/1", "Terminating", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "test20: pod condition pending with deletion",
            pod: json!({"metadata": {"name": "test20", "deletionTimestamp": delete_time},
                "spec": {"containers": empty_containers(1)}, "status": {"phase": "Pending"}}),
            cells: json!(["test20", "0/1", "Terminating", "0", "<unknown>"]),
            completed: None,
        },
    ];
    run_pods("TestPrintPod", false, cases);
}

fn restartable(name: &str) -> Value {
    json!({"name": name, "restartPolicy": "Always"})
}

#[test]
fn test_print_pod_with_restartable_init_container() {
    let init = json!([
        restartable("restartable-init-1"),
        restartable("restartable-init-2")
    ]);
    let cases = vec![
        PodCase {
            name: "two restartable init containers, the first running but not started",
            pod: json!({"metadata": {"name": "test1"},
                "spec": {"initContainers": init, "containers": empty_containers(1)},
                "status": {"phase": "Pending",
                    "initContainerStatuses": [
                        {"name": "restartable-init-1", "ready": false, "restartCount": 3, "state": {"running": {}},
                            "started": false, "lastState": {"terminated": {"finishedAt": ago(10.0)}}},
                        {"name": "restartable-init-2", "ready": false, "state": {"waiting": {}}, "started": false}],
                    "containerStatuses": [{"ready": false, "restartCount": 0, "state": {"waiting": {}}}],
                    "conditions": [{"type": "Initialized", "status": "False"}]}}),
            cells: json!(["test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "the first started, the second running but not started",
            pod: json!({"metadata": {"name": "test1"},
                "spec": {"initContainers": init, "containers": empty_containers(1)},
                "status": {"phase": "Pending",
                    "initContainerStatuses": [
                        {"name": "restartable-init-1", "ready": false, "restartCount": 3, "state": {"running": {}},
                            "started": true, "lastState": {"terminated": {"finishedAt": ago(10.0)}}},
                        {"name": "restartable-init-2", "ready": false, "state": {"running": {}}, "started": false}],
                    "containerStatuses": [{"ready": false, "restartCount": 0, "state": {"waiting": {}}}],
                    "conditions": [{"type": "Initialized", "status": "False"}]}}),
            cells: json!(["test1", "0/3", "Init:1/2", "3 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "two restartable init containers started and one container running",
            pod: json!({"metadata": {"name": "test2"},
                "spec": {"initContainers": init, "containers": empty_containers(1)},
                "status": {"phase": "Running",
                    "initContainerStatuses": [
                        {"name": "restartable-init-1", "ready": false, "restartCount": 3, "state": {"running": {}},
                            "started": true, "lastState": {"terminated": {"finishedAt": ago(10.0)}}},
                        {"name": "restartable-init-2", "ready": false, "state": {"running": {}}, "started": true}],
                    "containerStatuses": [{"ready": true, "restartCount": 4, "state": {"running": {}},
                        "lastState": {"terminated": {"finishedAt": ago(20.0)}}}],
                    "conditions": [{"type": "Initialized", "status": "True"}]}}),
            cells: json!(["test2", "1/3", "Running", "7 (10s ago)", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "two restartable init containers completed with non-zero, one container completed",
            pod: json!({"metadata": {"name": "test3"},
                "spec": {"initContainers": init, "containers": empty_containers(1)},
                "status": {"phase": "Succeeded",
                    "initContainerStatuses": [
                        {"name": "restartable-init-1", "ready": false, "restartCount": 3,
                            "state": {"terminated": {"reason": "Error", "exitCode": 137}},
                            "started": false, "lastState": {"terminated": {"finishedAt": ago(10.0)}}},
                        {"name": "restartable-init-2", "ready": false,
                            "state": {"terminated": {"reason": "Error", "exitCode": 137}}, "started": false}],
                    "containerStatuses": [{"ready": false, "restartCount": 4,
                        "state": {"terminated": {"reason": "Completed", "exitCode": 0}},
                        "lastState": {"terminated": {"finishedAt": ago(20.0)}}}],
                    "conditions": [{"type": "Initialized", "status": "True"}]}}),
            cells: json!(["test3", "0/3", "Completed", "7 (10s ago)", "<unknown>"]),
            completed: Some("Succeeded"),
        },
        PodCase {
            name: "container statuses for non-existent init containers and containers",
            pod: json!({"metadata": {"name": "test4"},
                "spec": {"initContainers": [{"name": "init1", "image": "initimage"},
                        {"name": "sidecar1", "image": "sidecarimage", "restartPolicy": "Always"}],
                    "containers": [{"name": "container1", "image": "containerimage"}]},
                "status": {"phase": "Running",
                    "initContainerStatuses": [{"name": "initinvalid"}, {"name": "init1"}, {"name": "sidecar1"}],
                    "containerStatuses": [{"name": "containerinvalid"}, {"name": "container1"}]}}),
            cells: json!(["test4", "0/2", "Init:0/2", "0", "<unknown>"]),
            completed: None,
        },
    ];
    run_pods("TestPrintPodWithRestartableInitContainer", false, cases);
}

#[test]
fn test_print_pod_wide() {
    let gates = json!([{"conditionType": "condition1"}, {"conditionType": "condition2"}, {"conditionType": "condition3"}]);
    let conditions = json!([{"type": "condition1", "status": "False"}, {"type": "condition2", "status": "True"}]);
    let statuses = json!([running_ready(3), {"restartCount": 3}]);
    let cases = vec![
        PodCase {
            name: "NodeName and PodIP are set",
            pod: json!({"metadata": {"name": "test1"},
                "spec": {"containers": empty_containers(2), "nodeName": "test1", "readinessGates": gates},
                "status": {"conditions": conditions, "phase": "podPhase", "podIPs": [{"ip": "1.1.1.1"}],
                    "containerStatuses": statuses, "nominatedNodeName": "node1"}}),
            cells: json!([
                "test1",
                "1/2",
                "podPhase",
                "6",
                "<unknown>",
                "1.1.1.1",
                "test1",
                "node1",
                "1/3"
            ]),
            completed: None,
        },
        PodCase {
            name: "dual-stack PodIPs: the first is shown",
            pod: json!({"metadata": {"name": "test1"},
                "spec": {"containers": empty_containers(2), "nodeName": "test1", "readinessGates": gates},
                "status": {"conditions": conditions, "phase": "podPhase",
                    "podIPs": [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}],
                    "containerStatuses": statuses, "nominatedNodeName": "node1"}}),
            cells: json!([
                "test1",
                "1/2",
                "podPhase",
                "6",
                "<unknown>",
                "1.1.1.1",
                "test1",
                "node1",
                "1/3"
            ]),
            completed: None,
        },
        PodCase {
            name: "NodeName and PodIP are none",
            pod: json!({"metadata": {"name": "test2"},
                "spec": {"containers": empty_containers(2), "nodeName": ""},
                "status": {"phase": "podPhase", "containerStatuses": [running_ready(3),
                    {"state": {"waiting": {"reason": "ContainerWaitingReason"}}, "restartCount": 3}]}}),
            cells: json!([
                "test2",
                "1/2",
                "ContainerWaitingReason",
                "6",
                "<unknown>",
                "<none>",
                "<none>",
                "<none>",
                "<none>"
            ]),
            completed: None,
        },
    ];
    run_pods("TestPrintPodwide", true, cases);
}

#[test]
fn test_print_pod_conditions() {
    let pod = |name: &str, phase: &str| {
        json!({"metadata": {"name": name, "labels": {"a": "1", "b": "2"}},
            "spec": {"containers": empty_containers(2)},
            "status": {"phase": phase, "containerStatuses": [running_ready(3), {"restartCount": 3}]}})
    };
    let cases = vec![
        PodCase {
            name: "running: no row condition",
            pod: pod("test1", "Running"),
            cells: json!(["test1", "1/2", "Running", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "succeeded: podSuccessConditions",
            pod: pod("test1", "Succeeded"),
            cells: json!(["test1", "1/2", "Succeeded", "6", "<unknown>"]),
            completed: Some("Succeeded"),
        },
        PodCase {
            name: "failed: podFailedConditions",
            pod: pod("test2", "Failed"),
            cells: json!(["test2", "1/2", "Failed", "6", "<unknown>"]),
            completed: Some("Failed"),
        },
    ];
    run_pods("TestPrintPodConditions", false, cases);
}

#[test]
fn test_print_pod_list() {
    let cases = vec![
        PodCase {
            name: "item 1",
            pod: json!({"metadata": {"name": "test1"}, "spec": {"containers": empty_containers(2)},
                "status": {"phase": "podPhase", "containerStatuses": [running_ready(3), running_ready(3)]}}),
            cells: json!(["test1", "2/2", "podPhase", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "item 2",
            pod: json!({"metadata": {"name": "test2"}, "spec": {"containers": empty_containers(1)},
                "status": {"phase": "podPhase", "containerStatuses": [running_ready(1)]}}),
            cells: json!(["test2", "1/1", "podPhase", "1", "<unknown>"]),
            completed: None,
        },
    ];
    run_pods("TestPrintPodList", false, cases);
}

#[test]
fn test_print_non_terminated_pod() {
    let pod = |name: &str, phase: &str, second_ready: bool| {
        let second = if second_ready {
            json!({"ready": true, "restartCount": 3})
        } else {
            json!({"restartCount": 3})
        };
        json!({"metadata": {"name": name}, "spec": {"containers": empty_containers(2)},
            "status": {"phase": phase, "containerStatuses": [running_ready(3), second]}})
    };
    let cases = vec![
        PodCase {
            name: "Running",
            pod: pod("test1", "Running", false),
            cells: json!(["test1", "1/2", "Running", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "Pending",
            pod: pod("test2", "Pending", false),
            cells: json!(["test2", "1/2", "Pending", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "Unknown",
            pod: pod("test3", "Unknown", false),
            cells: json!(["test3", "1/2", "Unknown", "6", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "Succeeded",
            pod: pod("test4", "Succeeded", false),
            cells: json!(["test4", "1/2", "Succeeded", "6", "<unknown>"]),
            completed: Some("Succeeded"),
        },
        PodCase {
            name: "Failed",
            pod: pod("test5", "Failed", true),
            cells: json!(["test5", "1/2", "Failed", "6", "<unknown>"]),
            completed: Some("Failed"),
        },
    ];
    run_pods("TestPrintNonTerminatedPod", false, cases);
}

/// Branches of `printPod` the upstream table does not reach, checked against the Go logic.
#[test]
fn kubetwin_pod_status_branches() {
    let cases = vec![
        PodCase {
            name: "NodeLost while deleting shows Unknown",
            pod: json!({"metadata": {"name": "p", "deletionTimestamp": ago(5.0)},
                "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Running", "reason": "NodeLost", "containerStatuses": [running_ready(0)]}}),
            cells: json!(["p", "1/1", "Unknown", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "failed init container with a reason",
            pod: json!({"metadata": {"name": "p"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "Pending", "initContainerStatuses": [
                    {"restartCount": 2, "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}),
            cells: json!(["p", "0/1", "Init:Error", "2", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "init container killed by a signal",
            pod: json!({"metadata": {"name": "p"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "Pending", "initContainerStatuses": [
                    {"state": {"terminated": {"signal": 9, "exitCode": 137}}}]}}),
            cells: json!(["p", "0/1", "Init:Signal:9", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "init container exit code without reason",
            pod: json!({"metadata": {"name": "p"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "Pending", "initContainerStatuses": [
                    {"state": {"terminated": {"exitCode": 3}}}]}}),
            cells: json!(["p", "0/1", "Init:ExitCode:3", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "init container waiting on an image",
            pod: json!({"metadata": {"name": "p"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "Pending", "initContainerStatuses": [
                    {"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}),
            cells: json!(["p", "0/1", "Init:ImagePullBackOff", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "PodInitializing does not count as an init reason",
            pod: json!({"metadata": {"name": "p"},
                "spec": {"initContainers": empty_containers(1), "containers": empty_containers(1)},
                "status": {"phase": "Pending", "initContainerStatuses": [
                    {"state": {"waiting": {"reason": "PodInitializing"}}}]}}),
            cells: json!(["p", "0/1", "Init:0/1", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "container terminated by a signal",
            pod: json!({"metadata": {"name": "p"}, "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Running", "containerStatuses": [{"state": {"terminated": {"signal": 15}}}]}}),
            cells: json!(["p", "0/1", "Signal:15", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "container exit code without reason",
            pod: json!({"metadata": {"name": "p"}, "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Running", "containerStatuses": [{"state": {"terminated": {"exitCode": 2}}}]}}),
            cells: json!(["p", "0/1", "ExitCode:2", "0", "<unknown>"]),
            completed: None,
        },
        PodCase {
            name: "CrashLoopBackOff with a restart age and pod age",
            pod: json!({"metadata": {"name": "p", "creationTimestamp": ago(3.0 * HOUR)},
                "spec": {"containers": empty_containers(1)},
                "status": {"phase": "Running", "containerStatuses": [{"restartCount": 5,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"finishedAt": ago(5.0 * MINUTE)}}}]}}),
            cells: json!(["p", "0/1", "CrashLoopBackOff", "5 (5m ago)", "3h"]),
            completed: None,
        },
    ];
    run_pods("kubetwin printPod branches", false, cases);
}

/// v1 `podIP` is authoritative over `podIPs[0]` (`Convert_v1_PodStatus_To_core_PodStatus`).
#[test]
fn kubetwin_pod_ip_conversion() {
    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": empty_containers(1)},
        "status": {"phase": "Pending", "podIP": "10.0.0.9"}});
    assert_eq!(wide_cells("", "pods", &pod)[5], json!("10.0.0.9"));
    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": empty_containers(1)},
        "status": {"phase": "Pending", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.8"}]}});
    assert_eq!(wide_cells("", "pods", &pod)[5], json!("10.0.0.9"));
}

#[test]
fn test_print_pod_template() {
    let cases = vec![
        Case {
            name: "no containers",
            obj: json!({"metadata": {"name": "pod-template-1"},
                "template": {"metadata": {"name": "pod-template-1"}, "spec": {"containers": []}}}),
            wide: false,
            want: json!(["pod-template-1", "", "", "<none>"]),
        },
        Case {
            name: "two containers",
            obj: json!({"metadata": {"name": "pod-template-2"},
                "template": {"metadata": {"name": "pod-template-2"}, "spec": {"containers": [
                    {"name": "fake-container1", "image": "fake-image1"},
                    {"name": "fake-container2", "image": "fake-image2"}]}}}),
            wide: false,
            want: json!([
                "pod-template-2",
                "fake-container1,fake-container2",
                "fake-image1,fake-image2",
                "<none>"
            ]),
        },
        Case {
            name: "pod labels",
            obj: json!({"metadata": {"name": "pod-template-3"},
                "template": {"metadata": {"name": "pod-template-3", "labels": {"foo": "bar"}}, "spec": {"containers": []}}}),
            wide: false,
            want: json!(["pod-template-3", "", "", "foo=bar"]),
        },
    ];
    run("TestPrintPodTemplate", "", "podtemplates", cases);
    let list = vec![
        Case {
            name: "list item 1",
            obj: json!({"metadata": {"name": "pod-template-1"},
                "template": {"metadata": {"name": "pod-template-2", "labels": {"foo": "bar"}}, "spec": {"containers": []}}}),
            wide: false,
            want: json!(["pod-template-1", "", "", "foo=bar"]),
        },
        Case {
            name: "list item 2",
            obj: json!({"metadata": {"name": "pod-template-2"},
                "template": {"metadata": {"name": "pod-template-2", "labels": {"a": "b"}}, "spec": {"containers": []}}}),
            wide: false,
            want: json!(["pod-template-2", "", "", "a=b"]),
        },
    ];
    run("TestPrintPodTemplateList", "", "podtemplates", list);
}
