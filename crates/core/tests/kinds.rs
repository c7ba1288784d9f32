//! Per-kind validation tests: the commonly hit upstream errors of
//! `pkg/apis/{core,apps,batch}/validation/validation_test.go`, checked against the full
//! Invalid-status message kubectl prints.

use kubetwin_core::validation::field::invalid_message;
use kubetwin_core::validation::kinds::validate_object;
use serde_json::{Value, json};

fn message(group: &str, kind: &str, obj: &Value) -> String {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    invalid_message(group, kind, name, &validate_object(group, kind, obj))
}

fn deployment(selector: Value, labels: Value) -> Value {
    json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": selector,
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    })
}

#[test]
fn valid_objects_have_no_errors() {
    let objects = [
        (
            "apps",
            "Deployment",
            deployment(
                json!({"matchLabels": {"app": "web"}}),
                json!({"app": "web", "x": "y"}),
            ),
        ),
        (
            "",
            "Pod",
            json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "s", "namespace": "d"}, "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "h", "namespace": "d"}, "spec": {"clusterIP": "None"}}),
        ),
        ("", "Namespace", json!({"metadata": {"name": "team-a"}})),
        (
            "",
            "ConfigMap",
            json!({"metadata": {"name": "cm", "namespace": "d"}, "data": {"a.b": "c"}}),
        ),
        (
            "batch",
            "Job",
            json!({"metadata": {"name": "j", "namespace": "d"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}),
        ),
    ];
    for (group, kind, obj) in objects {
        let errs = validate_object(group, kind, &obj);
        assert!(errs.is_empty(), "{kind}: {errs:?}");
    }
}

/// apps/validation ValidatePodTemplateSpecForReplicaSet: the message kubectl users see.
#[test]
fn deployment_selector_mismatch() {
    let obj = deployment(
        json!({"matchLabels": {"app": "right"}}),
        json!({"app": "wrong"}),
    );
    assert_eq!(
        message("apps", "Deployment", &obj),
        r#"Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"wrong"}: `selector` does not match template `labels`"#
    );
    let mut missing = deployment(Value::Null, json!({"app": "broken"}));
    if let Some(spec) = missing.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("selector");
    }
    assert_eq!(
        message("apps", "Deployment", &missing),
        r#"Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {"app":"broken"}: `selector` does not match template `labels`]"#
    );
    let empty = deployment(json!({}), json!({"app": "x"}));
    assert_eq!(
        message("apps", "Deployment", &empty),
        r#"Deployment.apps "web" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for deployment"#
    );
}

#[test]
fn workload_rules() {
    let mut obj = deployment(
        json!({"matchLabels": {"app": "web"}}),
        json!({"app": "web"}),
    );
    obj["spec"]["replicas"] = json!(-1);
    obj["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    obj["spec"]["strategy"] = json!({"type": "randomType"});
    assert_eq!(
        message("apps", "Deployment", &obj),
        r#"Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always", spec.strategy.type: Unsupported value: "randomType": supported values: "Recreate", "RollingUpdate"]"#
    );
    let sts = json!({"metadata": {"name": "db", "namespace": "d"}, "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    assert_eq!(
        message("apps", "StatefulSet", &sts),
        r#"StatefulSet.apps "db" is invalid: spec.selector: Invalid value: {}: empty selector is not valid for statefulset."#
    );
    let job = json!({"metadata": {"name": "pi", "namespace": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}});
    assert_eq!(
        message("batch", "Job", &job),
        r#"Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never""#
    );
}

/// core/validation validateContainers and ValidateResourceRequirements.
#[test]
fn pod_rules() {
    let no_containers = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {}});
    assert_eq!(
        message("", "Pod", &no_containers),
        r#"Pod "p" is invalid: spec.containers: Required value"#
    );
    let pod = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [
        {"name": "app", "image": ""},
        {"name": "app", "image": "i", "ports": [{"containerPort": 70000, "protocol": "HTTP"}]},
        {"name": "Bad_Name", "image": "i", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
    ], "restartPolicy": "Sometimes"}});
    let errs: Vec<String> = validate_object("", "Pod", &pod)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errs,
        vec![
            "spec.containers[0].image: Required value".to_string(),
            r#"spec.containers[1].name: Duplicate value: "app""#.to_string(),
            r#"spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"#.to_string(),
            r#"spec.containers[1].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#.to_string(),
            r#"spec.containers[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#.to_string(),
            r#"spec.containers[2].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1"#.to_string(),
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#.to_string(),
        ]
    );
}

/// core/validation ValidateService, ValidateConfigMap, ValidateSecret, ValidateNamespace.
#[test]
fn service_config_secret_namespace_rules() {
    let svc = json!({"metadata": {"name": "svc", "namespace": "d"}, "spec": {"type": "ClusterIP"}});
    assert_eq!(
        message("", "Service", &svc),
        r#"Service "svc" is invalid: spec.ports: Required value"#
    );
    let svc = json!({"metadata": {"name": "1svc", "namespace": "d"}, "spec": {"ports": [{"port": 80}, {"port": 0, "name": "b"}]}});
    let errs: Vec<String> = validate_object("", "Service", &svc)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with(r#"metadata.name: Invalid value: "1svc": a DNS-1035 label"#));
    assert_eq!(errs[1], "spec.ports[0].name: Required value");
    assert_eq!(
        errs[2],
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive"
    );
    let cm = json!({"metadata": {"name": "cm", "namespace": "d"}, "data": {"bad key": "x", "k": "v"}, "binaryData": {"k": "djE="}});
    let errs: Vec<String> = validate_object("", "ConfigMap", &cm)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with(
        r#"data[bad key]: Invalid value: "bad key": a valid config key must consist of"#
    ));
    assert_eq!(
        errs[1],
        r#"data[k]: Invalid value: "k": duplicate of key present in binaryData"#
    );
    assert_eq!(
        errs[2],
        r#"binaryData[k]: Invalid value: "k": duplicate of key present in data"#
    );
    let secret = json!({"metadata": {"name": "s", "namespace": "d"}, "stringData": {"..": "x"}});
    assert_eq!(
        message("", "Secret", &secret),
        r#"Secret "s" is invalid: data[..]: Invalid value: "..": must not be '..'"#
    );
    let ns = json!({"metadata": {"name": "Team.A"}});
    assert!(message("", "Namespace", &ns).starts_with(r#"Namespace "Team.A" is invalid: metadata.name: Invalid value: "Team.A": a lowercase RFC 1123 label"#));
    assert!(validate_object("example.com", "Widget", &json!({})).is_empty());
}
