//! Workload rows, transcribed from `pkg/printers/internalversion/printers_test.go` (Kubernetes
//! 1.34): TestPrintDeployment, TestPrintDaemonSet, TestPrintDaemonSetList, TestPrintJob,
//! TestPrintJobList, TestPrintHPA, TestPrintReplicationController, TestPrintReplicaSet,
//! TestPrintReplicaSetList, TestPrintStatefulSet, TestPrintCronJob, TestPrintCronJobList,
//! TestPrintControllerRevision, TestPrintPodDisruptionBudget, TestPrintPodDisruptionBudgetList.

mod common;

use common::*;
use serde_json::{Value, json};

fn two_containers() -> Value {
    json!([{"name": "fake-container1", "image": "fake-image1"}, {"name": "fake-container2", "image": "fake-image2"}])
}

fn job_containers() -> Value {
    json!([{"name": "fake-job-container1", "image": "fake-job-image1"}, {"name": "fake-job-container2", "image": "fake-job-image2"}])
}

#[test]
fn test_print_deployment() {
    let deployment = json!({"metadata": {"name": "test1", "creationTimestamp": at_offset(1.9)},
        "spec": {"replicas": 5, "template": {"spec": {"containers": two_containers()}},
            "selector": {"matchLabels": {"foo": "bar"}}},
        "status": {"replicas": 10, "updatedReplicas": 2, "availableReplicas": 1, "unavailableReplicas": 4}});
    run(
        "TestPrintDeployment",
        "apps",
        "deployments",
        vec![
            Case {
                name: "no generate options",
                obj: deployment.clone(),
                wide: false,
                want: json!(["test1", "0/5", 2, 1, "0s"]),
            },
            Case {
                name: "wide",
                obj: deployment,
                wide: true,
                want: json!([
                    "test1",
                    "0/5",
                    2,
                    1,
                    "0s",
                    "fake-container1,fake-container2",
                    "fake-image1,fake-image2",
                    "foo=bar"
                ]),
            },
        ],
    );
}

#[test]
fn kubetwin_deployment_selector_and_defaults() {
    run(
        "kubetwin printDeployment",
        "apps",
        "deployments",
        vec![
            Case {
                name: "replicas default to 1; nil selector prints empty",
                wide: true,
                obj: json!({"metadata": {"name": "d"}, "status": {"readyReplicas": 1}}),
                want: json!(["d", "1/1", 0, 0, "<unknown>", "", "", ""]),
            },
            Case {
                name: "expressions sort by key, values sort",
                wide: true,
                obj: json!({"metadata": {"name": "d"}, "spec": {"replicas": 3, "selector": {
                "matchLabels": {"z": "1"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                    {"key": "tier", "operator": "NotIn", "values": ["cache"]},
                    {"key": "gone", "operator": "DoesNotExist"},
                    {"key": "app", "operator": "Exists"}]}}}),
                want: json!([
                    "d",
                    "0/3",
                    0,
                    0,
                    "<unknown>",
                    "",
                    "",
                    "app,env in (dev,prod),!gone,tier notin (cache),z=1"
                ]),
            },
            Case {
                name: "an invalid selector prints <invalid>",
                wide: true,
                obj: json!({"metadata": {"name": "d"}, "spec": {"replicas": 1, "selector": {
                "matchExpressions": [{"key": "env", "operator": "In", "values": []}]}}}),
                want: json!(["d", "0/1", 0, 0, "<unknown>", "", "", "<invalid>"]),
            },
        ],
    );
}

fn daemon_set(name: &str, containers: Value, selector: Value, status: [i64; 5]) -> Value {
    json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9)},
        "spec": {"template": {"spec": {"containers": containers}}, "selector": selector},
        "status": {"currentNumberScheduled": status[0], "desiredNumberScheduled": status[1],
            "numberReady": status[2], "updatedNumberScheduled": status[3], "numberAvailable": status[4]}})
}

#[test]
fn test_print_daemon_set() {
    let ds = daemon_set(
        "test1",
        two_containers(),
        json!({"matchLabels": {"foo": "bar"}}),
        [2, 3, 1, 2, 0],
    );
    run(
        "TestPrintDaemonSet",
        "apps",
        "daemonsets",
        vec![
            Case {
                name: "no generate options",
                obj: ds.clone(),
                wide: false,
                want: json!(["test1", 3, 2, 1, 2, 0, "<none>", "0s"]),
            },
            Case {
                name: "wide",
                obj: ds,
                wide: true,
                want: json!([
                    "test1",
                    3,
                    2,
                    1,
                    2,
                    0,
                    "<none>",
                    "0s",
                    "fake-container1,fake-container2",
                    "fake-image1,fake-image2",
                    "foo=bar"
                ]),
            },
        ],
    );
    run(
        "TestPrintDaemonSetList",
        "apps",
        "daemonsets",
        vec![
            Case {
                name: "daemonset1",
                wide: false,
                obj: daemon_set("daemonset1", two_containers(), Value::Null, [2, 3, 1, 2, 0]),
                want: json!(["daemonset1", 3, 2, 1, 2, 0, "<none>", "0s"]),
            },
            Case {
                name: "daemonset2",
                wide: false,
                obj: daemon_set(
                    "daemonset2",
                    json!([]),
                    json!({"matchLabels": {"foo": "bar"}}),
                    [4, 2, 9, 3, 3],
                ),
                want: json!(["daemonset2", 2, 4, 9, 3, 3, "<none>", "0s"]),
            },
        ],
    );
}

#[test]
fn test_print_job() {
    let job = |name: &str, created: String, spec: Value, status: Value| json!({"metadata": {"name": name, "creationTimestamp": created}, "spec": spec, "status": status});
    let full_spec = |label: &str| {
        json!({"completions": 2, "template": {"spec": {"containers": job_containers()}},
        "selector": {"matchLabels": {"job-label": label}}})
    };
    let with_condition = |name: &str, condition: &str| {
        job(
            name,
            at_offset(1.9),
            json!({}),
            json!({"succeeded": 0,
            "conditions": [{"type": condition, "status": "True"}]}),
        )
    };
    run(
        "TestPrintJob",
        "batch",
        "jobs",
        vec![
            Case {
                name: "no generate options",
                wide: false,
                obj: job(
                    "job1",
                    at_offset(1.9),
                    full_spec("job-lable-value"),
                    json!({"succeeded": 1}),
                ),
                want: json!(["job1", "Running", "1/2", "", "0s"]),
            },
            Case {
                name: "wide",
                wide: true,
                obj: job(
                    "job1",
                    at_offset(1.9),
                    full_spec("job-label-value"),
                    json!({"succeeded": 1}),
                ),
                want: json!([
                    "job1",
                    "Running",
                    "1/2",
                    "",
                    "0s",
                    "fake-job-container1,fake-job-container2",
                    "fake-job-image1,fake-job-image2",
                    "job-label=job-label-value"
                ]),
            },
            Case {
                name: "ten-year age",
                wide: false,
                obj: job("job2", add_date(-10, 0), json!({}), json!({"succeeded": 0})),
                want: json!(["job2", "Running", "0/1", "", "10y"]),
            },
            Case {
                name: "with duration",
                wide: false,
                obj: job(
                    "job3",
                    ago(10.0 * YEAR_365),
                    json!({}),
                    json!({"succeeded": 0, "startTime": at_offset(MINUTE), "completionTime": at_offset(31.0 * MINUTE)}),
                ),
                want: json!(["job3", "Running", "0/1", "30m", "10y"]),
            },
            Case {
                name: "running for 20 minutes",
                wide: false,
                obj: job(
                    "job4",
                    ago(10.0 * YEAR_365),
                    json!({}),
                    json!({"succeeded": 0, "startTime": ago(20.0 * MINUTE)}),
                ),
                want: json!(["job4", "Running", "0/1", "20m", "10y"]),
            },
            Case {
                name: "complete",
                wide: false,
                obj: with_condition("job5", "Complete"),
                want: json!(["job5", "Complete", "0/1", "", "0s"]),
            },
            Case {
                name: "failed",
                wide: false,
                obj: with_condition("job6", "Failed"),
                want: json!(["job6", "Failed", "0/1", "", "0s"]),
            },
            Case {
                name: "suspended",
                wide: false,
                obj: with_condition("job7", "Suspended"),
                want: json!(["job7", "Suspended", "0/1", "", "0s"]),
            },
            Case {
                name: "failure target",
                wide: false,
                obj: with_condition("job8", "FailureTarget"),
                want: json!(["job8", "FailureTarget", "0/1", "", "0s"]),
            },
            Case {
                name: "terminating",
                wide: false,
                obj: json!({"metadata": {"name": "job9", "creationTimestamp": at_offset(1.9), "deletionTimestamp": at_offset(1.9)},
                "spec": {}}),
                want: json!(["job9", "Terminating", "0/1", "", "0s"]),
            },
        ],
    );
    run(
        "TestPrintJobList",
        "batch",
        "jobs",
        vec![
            Case {
                name: "job1",
                wide: false,
                obj: job(
                    "job1",
                    at_offset(1.9),
                    full_spec("job-lable-value"),
                    json!({"succeeded": 1}),
                ),
                want: json!(["job1", "Running", "1/2", "", "0s"]),
            },
            Case {
                name: "job2",
                wide: false,
                obj: job(
                    "job2",
                    at_offset(1.9),
                    full_spec("job-lable-value"),
                    json!({"succeeded": 2, "startTime": ago(20.0 * MINUTE)}),
                ),
                want: json!(["job2", "Running", "2/2", "20m", "0s"]),
            },
        ],
    );
}

#[test]
fn kubetwin_job_completions_and_status() {
    run(
        "kubetwin printJob",
        "batch",
        "jobs",
        vec![
            Case {
                name: "work queue: parallelism without completions",
                wide: false,
                obj: json!({"metadata": {"name": "j"}, "spec": {"parallelism": 3}, "status": {"succeeded": 1}}),
                want: json!(["j", "Running", "1/1 of 3", "", "<unknown>"]),
            },
            Case {
                name: "SuccessCriteriaMet (1.34)",
                wide: false,
                obj: json!({"metadata": {"name": "j"}, "spec": {"completions": 1},
                "status": {"conditions": [{"type": "SuccessCriteriaMet", "status": "True"}]}}),
                want: json!(["j", "SuccessCriteriaMet", "0/1", "", "<unknown>"]),
            },
            Case {
                name: "a False Complete condition does not count",
                wide: false,
                obj: json!({"metadata": {"name": "j"}, "spec": {"completions": 1},
                "status": {"conditions": [{"type": "Complete", "status": "False"}]}}),
                want: json!(["j", "Running", "0/1", "", "<unknown>"]),
            },
            Case {
                name: "Complete wins over deletion",
                wide: false,
                obj: json!({"metadata": {"name": "j", "deletionTimestamp": ago(1.0)}, "spec": {"completions": 1},
                "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}],
                    "startTime": ago(3.0 * HOUR + 61.0), "completionTime": ago(61.0)}}),
                want: json!(["j", "Complete", "1/1", "3h", "<unknown>"]),
            },
        ],
    );
}

fn hpa(spec_extra: Value, status_extra: Value) -> Value {
    let mut spec = json!({"scaleTargetRef": {"name": "some-rc", "kind": "ReplicationController"}, "maxReplicas": 10});
    let mut status = json!({"currentReplicas": 4, "desiredReplicas": 5});
    for (target, extra) in [(&mut spec, spec_extra), (&mut status, status_extra)] {
        if let (Some(t), Some(e)) = (target.as_object_mut(), extra.as_object()) {
            t.extend(e.clone());
        }
    }
    json!({"apiVersion": "autoscaling/v2", "metadata": {"name": "some-hpa"}, "spec": spec, "status": status})
}

fn hpa_row(targets: &str, min: &str) -> Value {
    json!([
        "some-hpa",
        "ReplicationController/some-rc",
        targets,
        min,
        10,
        4,
        "<unknown>"
    ])
}

#[test]
fn test_print_hpa() {
    let selector = json!({"matchLabels": {"label": "value"}});
    let external = |target: Value| {
        json!({"minReplicas": 2, "metrics": [{"type": "External",
        "external": {"metric": {"name": "some-external-metric", "selector": selector}, "target": target}}]})
    };
    let external_status = |current: Value| {
        json!({"currentMetrics": [{"type": "External",
        "external": {"metric": {"name": "some-external-metric", "selector": selector}, "current": current}}]})
    };
    let pods_spec = json!({"minReplicas": 2, "metrics": [{"type": "Pods", "pods": {"metric": {"name": "some-pods-metric"},
        "target": {"type": "AverageValue", "averageValue": "100m"}}}]});
    let pods_status = json!({"currentMetrics": [{"type": "Pods", "pods": {"metric": {"name": "some-pods-metric"},
        "current": {"averageValue": "50m"}}}]});
    let object_spec = json!({"minReplicas": 2, "metrics": [{"type": "Object", "object": {
        "describedObject": {"name": "some-service", "kind": "Service"}, "metric": {"name": "some-service-metric"},
        "target": {"type": "Value", "value": "100m"}}}]});
    let object_status = json!({"currentMetrics": [{"type": "Object", "object": {
        "describedObject": {"name": "some-service", "kind": "Service"}, "metric": {"name": "some-service-metric"},
        "current": {"value": "50m"}}}]});
    let resource = |source: &str, target: Value| {
        let mut body = json!({"name": "cpu", "target": target});
        if source == "containerResource" {
            body["container"] = json!("application");
        }
        let kind = if source == "resource" {
            "Resource"
        } else {
            "ContainerResource"
        };
        json!({"minReplicas": 2, "metrics": [{"type": kind, source: body}]})
    };
    let resource_status = |source: &str, current: Value| {
        let kind = if source == "resource" {
            "Resource"
        } else {
            "ContainerResource"
        };
        json!({"currentMetrics": [{"type": kind, source: {"name": "cpu", "container": "application", "current": current}}]})
    };
    let value_target = json!({"type": "AverageValue", "averageValue": "100m"});
    let util_target = json!({"type": "Utilization", "averageUtilization": 80});
    let mut cases = vec![
        Case {
            name: "minReplicas unset",
            wide: false,
            obj: hpa(json!({}), json!({})),
            want: hpa_row("<none>", "<unset>"),
        },
        Case {
            name: "external source type, target average value (no current)",
            wide: false,
            obj: hpa(
                external(json!({"type": "AverageValue", "averageValue": "100m"})),
                json!({}),
            ),
            want: hpa_row("<unknown>/100m (avg)", "2"),
        },
        Case {
            name: "external source type, target average value",
            wide: false,
            obj: hpa(
                external(json!({"type": "AverageValue", "averageValue": "100m"})),
                external_status(json!({"averageValue": "50m"})),
            ),
            want: hpa_row("50m/100m (avg)", "2"),
        },
        Case {
            name: "external source type, target value (no current)",
            wide: false,
            obj: hpa(
                external(json!({"type": "Value", "value": "100m"})),
                json!({}),
            ),
            want: hpa_row("<unknown>/100m", "2"),
        },
        Case {
            name: "external source type, target value",
            wide: false,
            obj: hpa(
                external(json!({"type": "Value", "value": "100m"})),
                external_status(json!({"value": "50m"})),
            ),
            want: hpa_row("50m/100m", "2"),
        },
        Case {
            name: "pods source type (no current)",
            wide: false,
            obj: hpa(pods_spec.clone(), json!({})),
            want: hpa_row("<unknown>/100m", "2"),
        },
        Case {
            name: "pods source type",
            wide: false,
            obj: hpa(pods_spec, pods_status.clone()),
            want: hpa_row("50m/100m", "2"),
        },
        Case {
            name: "object source type (no current)",
            wide: false,
            obj: hpa(object_spec.clone(), json!({})),
            want: hpa_row("<unknown>/100m", "2"),
        },
        Case {
            name: "object source type",
            wide: false,
            obj: hpa(object_spec, object_status),
            want: hpa_row("50m/100m", "2"),
        },
    ];
    for source in ["resource", "containerResource"] {
        cases.push(Case {
            name: "resource target value (no current)",
            wide: false,
            obj: hpa(resource(source, value_target.clone()), json!({})),
            want: hpa_row("cpu: <unknown>/100m", "2"),
        });
        cases.push(Case {
            name: "resource target value",
            wide: false,
            obj: hpa(
                resource(source, value_target.clone()),
                resource_status(source, json!({"averageValue": "50m"})),
            ),
            want: hpa_row("cpu: 50m/100m", "2"),
        });
        cases.push(Case {
            name: "resource target utilization (no current)",
            wide: false,
            obj: hpa(resource(source, util_target.clone()), json!({})),
            want: hpa_row("cpu: <unknown>/80%", "2"),
        });
        cases.push(Case {
            name: "resource target utilization",
            wide: false,
            obj: hpa(
                resource(source, util_target.clone()),
                resource_status(
                    source,
                    json!({"averageUtilization": 50, "averageValue": "40m"}),
                ),
            ),
            want: hpa_row("cpu: 50%/80%", "2"),
        });
    }
    cases.push(Case { name: "multiple specs", wide: false,
        obj: hpa(json!({"minReplicas": 2, "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "some-pods-metric"}, "target": {"type": "AverageValue", "averageValue": "100m"}}},
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                {"type": "Pods", "pods": {"metric": {"name": "other-pods-metric"}, "target": {"type": "AverageValue", "averageValue": "400m"}}}]}),
            json!({"currentMetrics": [
                {"type": "Pods", "pods": {"metric": {"name": "some-pods-metric"}, "current": {"averageValue": "50m"}}},
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 50, "averageValue": "40m"}}}]})),
        want: hpa_row("50m/100m, cpu: 50%/80% + 1 more...", "2") });
    run(
        "TestPrintHPA",
        "autoscaling",
        "horizontalpodautoscalers",
        cases,
    );
}

/// autoscaling/v1 HPAs go through `Convert_v1_HorizontalPodAutoscaler_To_autoscaling_...`.
#[test]
fn kubetwin_hpa_autoscaling_v1() {
    let v1 = |spec: Value, status: Value| {
        json!({"apiVersion": "autoscaling/v1", "metadata": {"name": "h"},
        "spec": spec, "status": status})
    };
    let target = json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5});
    let mut with_cpu = target.clone();
    with_cpu["targetCPUUtilizationPercentage"] = json!(60);
    run(
        "kubetwin autoscaling/v1 HPA",
        "autoscaling",
        "horizontalpodautoscalers",
        vec![
            Case {
                name: "no target: the implicit 80% CPU",
                wide: false,
                obj: v1(target, json!({"currentReplicas": 2})),
                want: json!([
                    "h",
                    "Deployment/web",
                    "cpu: <unknown>/80%",
                    "1",
                    5,
                    2,
                    "<unknown>"
                ]),
            },
            Case {
                name: "CPU target and current",
                wide: false,
                obj: v1(
                    with_cpu,
                    json!({"currentReplicas": 3, "currentCPUUtilizationPercentage": 71}),
                ),
                want: json!([
                    "h",
                    "Deployment/web",
                    "cpu: 71%/60%",
                    "1",
                    5,
                    3,
                    "<unknown>"
                ]),
            },
        ],
    );
}

fn rc(name: Option<&str>, replicas: i64, status: Option<(i64, i64)>) -> Value {
    let mut obj = json!({"metadata": {"namespace": "test-namespace"},
        "spec": {"replicas": replicas, "selector": {"a": "b"}, "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "test", "image": "test_image", "imagePullPolicy": "IfNotPresent",
                "terminationMessagePolicy": "File"}], "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}}}});
    if let Some(name) = name {
        obj["metadata"]["name"] = json!(name);
    }
    if let Some((replicas, ready)) = status {
        obj["status"] = json!({"replicas": replicas, "readyReplicas": ready});
    }
    obj
}

#[test]
fn test_print_replication_controller() {
    run(
        "TestPrintReplicationController",
        "",
        "replicationcontrollers",
        vec![
            Case {
                name: "basic",
                wide: false,
                obj: rc(Some("rc1"), 0, None),
                want: json!(["rc1", 0, 0, 0, "<unknown>"]),
            },
            Case {
                name: "basic with replicas",
                wide: false,
                obj: rc(Some("rc1"), 5, Some((3, 1))),
                want: json!(["rc1", 5, 3, 1, "<unknown>"]),
            },
            Case {
                name: "wide",
                wide: true,
                obj: rc(Some("rc1"), 5, Some((3, 1))),
                want: json!(["rc1", 5, 3, 1, "<unknown>", "test", "test_image", "a=b"]),
            },
            Case {
                name: "no panic (bookmark-like object)",
                wide: true,
                obj: json!({"metadata": {"annotations": {"k8s.io/initial-events-end": "true"}}, "spec": {"replicas": 0}}),
                want: json!(["", 0, 0, 0, "<unknown>", "", "", "<none>"]),
            },
        ],
    );
}

fn replica_set(
    name: &str,
    replicas: i64,
    containers: Value,
    selector: Value,
    status: (i64, i64),
) -> Value {
    json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9)},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}, "selector": selector},
        "status": {"replicas": status.0, "readyReplicas": status.1}})
}

#[test]
fn test_print_replica_set() {
    let rs = replica_set(
        "test1",
        5,
        two_containers(),
        json!({"matchLabels": {"foo": "bar"}}),
        (5, 2),
    );
    run(
        "TestPrintReplicaSet",
        "apps",
        "replicasets",
        vec![
            Case {
                name: "no generate options",
                obj: rs.clone(),
                wide: false,
                want: json!(["test1", 5, 5, 2, "0s"]),
            },
            Case {
                name: "wide",
                obj: rs,
                wide: true,
                want: json!([
                    "test1",
                    5,
                    5,
                    2,
                    "0s",
                    "fake-container1,fake-container2",
                    "fake-image1,fake-image2",
                    "foo=bar"
                ]),
            },
        ],
    );
    run(
        "TestPrintReplicaSetList",
        "apps",
        "replicasets",
        vec![
            Case {
                name: "replicaset1",
                wide: false,
                obj: replica_set("replicaset1", 5, two_containers(), Value::Null, (5, 2)),
                want: json!(["replicaset1", 5, 5, 2, "0s"]),
            },
            Case {
                name: "replicaset2",
                wide: false,
                obj: replica_set(
                    "replicaset2",
                    4,
                    json!([]),
                    json!({"matchLabels": {"foo": "bar"}}),
                    (3, 1),
                ),
                want: json!(["replicaset2", 4, 3, 1, "0s"]),
            },
        ],
    );
}

#[test]
fn test_print_stateful_set() {
    let sts = json!({"metadata": {"name": "test1", "creationTimestamp": at_offset(1.9)},
        "spec": {"replicas": 5, "template": {"spec": {"containers": two_containers()}}},
        "status": {"replicas": 5, "readyReplicas": 2}});
    run(
        "TestPrintStatefulSet",
        "apps",
        "statefulsets",
        vec![
            Case {
                name: "no generate options",
                obj: sts.clone(),
                wide: false,
                want: json!(["test1", "2/5", "0s"]),
            },
            Case {
                name: "wide",
                obj: sts,
                wide: true,
                want: json!([
                    "test1",
                    "2/5",
                    "0s",
                    "fake-container1,fake-container2",
                    "fake-image1,fake-image2"
                ]),
            },
        ],
    );
}

fn cron_job(
    name: &str,
    created: String,
    schedule: &str,
    time_zone: Option<&str>,
    template: bool,
    last: Option<String>,
) -> Value {
    let mut spec = json!({"schedule": schedule, "suspend": false});
    if let Some(tz) = time_zone {
        spec["timeZone"] = json!(tz);
    }
    if template {
        spec["jobTemplate"] = json!({"spec": {"completions": 2,
            "template": {"spec": {"containers": job_containers()}}, "selector": {"matchLabels": {"a": "b"}}}});
    }
    let status = match last {
        Some(last) => json!({"lastScheduleTime": last}),
        None => json!({}),
    };
    json!({"metadata": {"name": name, "creationTimestamp": created}, "spec": spec, "status": status})
}

#[test]
fn test_print_cron_job() {
    run(
        "TestPrintCronJob",
        "batch",
        "cronjobs",
        vec![
            Case {
                name: "basic",
                wide: false,
                obj: cron_job(
                    "cronjob1",
                    at_offset(1.9),
                    "0/5 * * * ?",
                    None,
                    true,
                    Some(at_offset(1.9)),
                ),
                want: json!(["cronjob1", "0/5 * * * ?", "<none>", "False", 0, "0s", "0s"]),
            },
            Case {
                name: "with time zone",
                wide: false,
                obj: cron_job(
                    "cronjob1",
                    at_offset(1.9),
                    "0/5 * * * ?",
                    Some("LOCAL"),
                    true,
                    Some(at_offset(1.9)),
                ),
                want: json!(["cronjob1", "0/5 * * * ?", "LOCAL", "False", 0, "0s", "0s"]),
            },
            Case {
                name: "wide",
                wide: true,
                obj: cron_job(
                    "cronjob1",
                    at_offset(1.9),
                    "0/5 * * * ?",
                    None,
                    true,
                    Some(at_offset(1.9)),
                ),
                want: json!([
                    "cronjob1",
                    "0/5 * * * ?",
                    "<none>",
                    "False",
                    0,
                    "0s",
                    "0s",
                    "fake-job-container1,fake-job-container2",
                    "fake-job-image1,fake-job-image2",
                    "a=b"
                ]),
            },
            Case {
                name: "last schedule and age",
                wide: false,
                obj: cron_job(
                    "cronjob2",
                    ago(300.0),
                    "0/5 * * * ?",
                    None,
                    false,
                    Some(ago(30.0)),
                ),
                want: json!(["cronjob2", "0/5 * * * ?", "<none>", "False", 0, "30s", "5m"]),
            },
            Case {
                name: "without last schedule",
                wide: false,
                obj: cron_job("cronjob3", ago(300.0), "0/5 * * * ?", None, false, None),
                want: json!([
                    "cronjob3",
                    "0/5 * * * ?",
                    "<none>",
                    "False",
                    0,
                    "<none>",
                    "5m"
                ]),
            },
        ],
    );
    run(
        "TestPrintCronJobList",
        "batch",
        "cronjobs",
        vec![
            Case {
                name: "cronjob1",
                wide: false,
                obj: cron_job(
                    "cronjob1",
                    at_offset(1.9),
                    "0/5 * * * ?",
                    Some("LOCAL"),
                    false,
                    Some(at_offset(1.9)),
                ),
                want: json!(["cronjob1", "0/5 * * * ?", "LOCAL", "False", 0, "0s", "0s"]),
            },
            Case {
                name: "cronjob2",
                wide: false,
                obj: cron_job(
                    "cronjob2",
                    at_offset(1.9),
                    "4/5 1 1 1 ?",
                    None,
                    false,
                    Some(ago(20.0 * MINUTE)),
                ),
                want: json!(["cronjob2", "4/5 1 1 1 ?", "<none>", "False", 0, "20m", "0s"]),
            },
        ],
    );
    run(
        "kubetwin printCronJob",
        "batch",
        "cronjobs",
        vec![
            Case {
                name: "active jobs are counted; suspend defaults to False",
                wide: false,
                obj: json!({"metadata": {"name": "c"}, "spec": {"schedule": "@hourly"},
                "status": {"active": [{"name": "a"}, {"name": "b"}]}}),
                want: json!(["c", "@hourly", "<none>", "False", 2, "<none>", "<unknown>"]),
            },
            Case {
                name: "suspended",
                wide: false,
                obj: json!({"metadata": {"name": "c"}, "spec": {"schedule": "@hourly", "suspend": true}}),
                want: json!(["c", "@hourly", "<none>", "True", 0, "<none>", "<unknown>"]),
            },
        ],
    );
}

fn revision(name: &str, owners: Value, number: i64) -> Value {
    json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9), "ownerReferences": owners},
        "revision": number})
}

#[test]
fn test_print_controller_revision() {
    run(
        "TestPrintControllerRevision",
        "apps",
        "controllerrevisions",
        vec![
            Case {
                name: "controller owner",
                wide: false,
                obj: revision(
                    "test1",
                    json!([{"controller": true, "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "foo"}]),
                    1,
                ),
                want: json!(["test1", "daemonset.apps/foo", 1, "0s"]),
            },
            Case {
                name: "non-controller owner",
                wide: false,
                obj: revision(
                    "test2",
                    json!([{"controller": false, "kind": "ABC", "name": "foo"}]),
                    2,
                ),
                want: json!(["test2", "<none>", 2, "0s"]),
            },
            Case {
                name: "no owners",
                wide: false,
                obj: revision("test3", json!([]), 3),
                want: json!(["test3", "<none>", 3, "0s"]),
            },
            Case {
                name: "nil owners",
                wide: false,
                obj: revision("test4", Value::Null, 4),
                want: json!(["test4", "<none>", 4, "0s"]),
            },
        ],
    );
    run(
        "kubetwin printControllerRevision",
        "apps",
        "controllerrevisions",
        vec![Case {
            name: "core-group controller (TestFormatResourceName: kind/name)",
            wide: false,
            obj: revision(
                "r",
                json!([{"controller": true, "apiVersion": "v1", "kind": "Pod", "name": "p"}]),
                7,
            ),
            want: json!(["r", "pod/p", 7, "0s"]),
        }],
    );
    let bad = revision(
        "r",
        json!([{"controller": true, "apiVersion": "a/b/c", "kind": "X", "name": "x"}]),
        1,
    );
    let err = kubetwin_table::row_cells("apps", "controllerrevisions", &bad, now()).unwrap_err();
    assert_eq!(err.to_string(), "unexpected GroupVersion string: a/b/c");
}

fn pdb(namespace: &str, name: &str, min: Option<Value>, max: Option<Value>, allowed: i64) -> Value {
    let mut spec = json!({});
    if let Some(min) = min {
        spec["minAvailable"] = min;
    }
    if let Some(max) = max {
        spec["maxUnavailable"] = max;
    }
    json!({"metadata": {"namespace": namespace, "name": name, "creationTimestamp": at_offset(1.9)},
        "spec": spec, "status": {"disruptionsAllowed": allowed}})
}

#[test]
fn test_print_pod_disruption_budget() {
    run(
        "TestPrintPodDisruptionBudget",
        "policy",
        "poddisruptionbudgets",
        vec![
            Case {
                name: "min available set",
                wide: false,
                obj: pdb("ns1", "pdb1", Some(json!(22)), None, 5),
                want: json!(["pdb1", "22", "N/A", 5, "0s"]),
            },
            Case {
                name: "max unavailable set",
                wide: false,
                obj: pdb("ns2", "pdb2", None, Some(json!(11)), 5),
                want: json!(["pdb2", "N/A", "11", 5, "0s"]),
            },
        ],
    );
    run(
        "TestPrintPodDisruptionBudgetList",
        "policy",
        "poddisruptionbudgets",
        vec![
            Case {
                name: "pdb1",
                wide: false,
                obj: pdb("ns1", "pdb1", None, Some(json!(11)), 5),
                want: json!(["pdb1", "N/A", "11", 5, "0s"]),
            },
            Case {
                name: "pdb2",
                wide: false,
                obj: pdb("ns2", "pdb2", Some(json!(22)), None, 3),
                want: json!(["pdb2", "22", "N/A", 3, "0s"]),
            },
        ],
    );
    run(
        "kubetwin printPodDisruptionBudget",
        "policy",
        "poddisruptionbudgets",
        vec![Case {
            name: "percentages print as strings",
            wide: false,
            obj: pdb("ns", "pdb3", Some(json!("50%")), None, 1),
            want: json!(["pdb3", "50%", "N/A", 1, "0s"]),
        }],
    );
}
