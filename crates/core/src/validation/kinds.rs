//! Per-kind create validation on raw JSON objects: the commonly hit required-field and
//! format checks of `pkg/apis/core/validation/validation.go` (Pod, Service, Namespace,
//! ConfigMap, Secret), `pkg/apis/apps/validation/validation.go` (Deployment, ReplicaSet,
//! StatefulSet, DaemonSet) and `pkg/apis/batch/validation/validation.go` (Job), with upstream
//! field paths and messages. This is a subset of upstream: volumes, probes, security contexts,
//! affinity, topology spread and most status/update rules are not checked.
//!
//! Objects are expected after defaulting; where a field upstream defaults (e.g. a pod's
//! `restartPolicy: Always`, a port's `protocol: TCP`) an absent value is read as the default.

use serde_json::Value;

use super::field::{FieldError, Path};
use super::objectmeta::{IS_NEGATIVE_ERROR_MSG, validate_labels, validate_object_meta};
use super::{
    NameValidator, is_config_map_key, is_dns1123_label, is_valid_label_value, is_valid_port_name,
    is_valid_port_num, name_is_dns_subdomain, name_is_dns1035_label, validate_namespace_name,
};
use crate::labels::Selector;
use crate::quantity::Quantity;

/// `core.MaxSecretSize`: 1 MiB of Secret or ConfigMap data.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// The name check and namespace requirement of a known kind, `None` for other kinds.
pub fn name_rules(group: &str, kind: &str) -> Option<(NameValidator, bool)> {
    Some(match (group, kind) {
        // core/validation: ValidatePodName, ValidateConfigMapName, ValidateSecretName.
        ("", "Pod" | "ConfigMap" | "Secret" | "ServiceAccount" | "PersistentVolumeClaim") => {
            (name_is_dns_subdomain, true)
        }
        // core/validation: ValidateServiceName = NameIsDNS1035Label.
        ("", "Service") => (name_is_dns1035_label, true),
        // ValidateNamespaceName = NameIsDNSLabel; namespaces are cluster-scoped.
        ("", "Namespace") => (validate_namespace_name, false),
        ("", "Node") => (name_is_dns_subdomain, false),
        // apps/validation: ValidateDeploymentName, ValidateReplicaSetName, ValidateDaemonSetName,
        // ValidateStatefulSetName — all NameIsDNSSubdomain.
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
            (name_is_dns_subdomain, true)
        }
        ("batch", "Job" | "CronJob") => (name_is_dns_subdomain, true),
        _ => return None,
    })
}

/// Validates a new object of a known kind (metadata and spec). Unknown kinds give no errors:
/// callers validate their metadata with [`validate_object_meta`] and the kind's scope.
pub fn validate_object(group: &str, kind: &str, obj: &Value) -> Vec<FieldError> {
    let Some((name_fn, namespaced)) = name_rules(group, kind) else {
        return Vec::new();
    };
    let meta = obj.get("metadata").unwrap_or(&Value::Null);
    let mut errs = validate_object_meta(meta, namespaced, name_fn);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let spec_path = Path::new("spec");
    match (group, kind) {
        ("", "Pod") => errs.extend(validate_pod_spec(spec, &spec_path, false)),
        ("", "Service") => errs.extend(validate_service_spec(spec, &spec_path)),
        ("", "ConfigMap") => errs.extend(validate_config_map(obj)),
        ("", "Secret") => errs.extend(validate_secret(obj)),
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet") => {
            errs.extend(validate_workload_spec(kind, spec, &spec_path))
        }
        ("batch", "Job") => errs.extend(validate_job_spec(spec, &spec_path)),
        _ => {}
    }
    errs
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn string_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(map)) = v else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect()
}

/// `validateContainers` (+ `validateInitContainers` names) and the pod-level checks of
/// `ValidatePodSpec` that are commonly hit. `template` is true inside a pod template.
pub fn validate_pod_spec(spec: &Value, path: &Path, template: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let containers = arr(spec, "containers");
    if containers.is_empty() {
        errs.push(FieldError::required(path.child("containers").as_str(), ""));
    }
    for (field_name, list) in [
        ("containers", containers),
        ("initContainers", arr(spec, "initContainers")),
    ] {
        for (i, c) in list.iter().enumerate() {
            errs.extend(validate_container(
                c,
                &path.child(field_name).index(i),
                &mut names,
                template,
            ));
        }
    }
    // validateRestartPolicy: defaulted to Always.
    if let Some(policy) = spec.get("restartPolicy").and_then(Value::as_str)
        && !["Always", "OnFailure", "Never"].contains(&policy)
    {
        errs.push(FieldError::not_supported(
            path.child("restartPolicy").as_str(),
            policy,
            &["Always", "OnFailure", "Never"],
        ));
    }
    errs
}

fn validate_container(
    c: &Value,
    path: &Path,
    names: &mut Vec<String>,
    template: bool,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = s(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(path.child("name").as_str(), ""));
    } else {
        for msg in is_dns1123_label(name) {
            errs.push(FieldError::invalid(path.child("name").as_str(), name, msg));
        }
        if names.iter().any(|n| n == name) {
            errs.push(FieldError::duplicate(path.child("name").as_str(), name));
        }
        names.push(name.to_string());
    }
    let image = s(c, "image");
    if image.is_empty() {
        errs.push(FieldError::required(path.child("image").as_str(), ""));
    } else if !template && image.trim() != image {
        // validateContainersOnlyForPod.
        errs.push(FieldError::invalid(
            path.child("image").as_str(),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    if let Some(policy) = c.get("imagePullPolicy").and_then(Value::as_str)
        && !["Always", "IfNotPresent", "Never"].contains(&policy)
    {
        errs.push(FieldError::not_supported(
            path.child("imagePullPolicy").as_str(),
            policy,
            &["Always", "IfNotPresent", "Never"],
        ));
    }
    // validateContainerPorts.
    let mut port_names: Vec<String> = Vec::new();
    for (i, p) in arr(c, "ports").iter().enumerate() {
        let pp = path.child("ports").index(i);
        let port_name = s(p, "name");
        if !port_name.is_empty() {
            for msg in is_valid_port_name(port_name) {
                errs.push(FieldError::invalid(
                    pp.child("name").as_str(),
                    port_name,
                    msg,
                ));
            }
            if port_names.iter().any(|n| n == port_name) {
                errs.push(FieldError::duplicate(pp.child("name").as_str(), port_name));
            }
            port_names.push(port_name.to_string());
        }
        let container_port = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
        if container_port == 0 {
            errs.push(FieldError::required(pp.child("containerPort").as_str(), ""));
        } else {
            for msg in is_valid_port_num(container_port) {
                errs.push(FieldError::invalid(
                    pp.child("containerPort").as_str(),
                    container_port,
                    msg,
                ));
            }
        }
        let host_port = p.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
        if host_port != 0 {
            for msg in is_valid_port_num(host_port) {
                errs.push(FieldError::invalid(
                    pp.child("hostPort").as_str(),
                    host_port,
                    msg,
                ));
            }
        }
        errs.extend(validate_protocol(p, &pp));
    }
    errs.extend(validate_resources(
        c.get("resources").unwrap_or(&Value::Null),
        &path.child("resources"),
    ));
    errs
}

/// A port `protocol` (defaulted to TCP): one of SCTP, TCP, UDP.
fn validate_protocol(port: &Value, path: &Path) -> Vec<FieldError> {
    match port.get("protocol").and_then(Value::as_str) {
        Some(p) if !["TCP", "UDP", "SCTP"].contains(&p) => {
            vec![FieldError::not_supported(
                path.child("protocol").as_str(),
                p,
                &["SCTP", "TCP", "UDP"],
            )]
        }
        _ => Vec::new(),
    }
}

fn quantity_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ValidateResourceRequirements`: quantities non-negative, requests at most limits.
fn validate_resources(res: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let parse_all = |key: &str, errs: &mut Vec<FieldError>| -> Vec<(String, Quantity)> {
        let Some(Value::Object(map)) = res.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, raw) in map {
            let p = path.child(key).key(name);
            match Quantity::parse(&quantity_string(raw)) {
                Ok(q) => {
                    if q.sign() < 0 {
                        errs.push(FieldError::invalid(
                            p.as_str(),
                            q.to_string(),
                            IS_NEGATIVE_ERROR_MSG,
                        ));
                    }
                    out.push((name.clone(), q));
                }
                // Go rejects these while decoding, before validation.
                Err(e) => errs.push(FieldError::invalid(p.as_str(), raw.clone(), e.to_string())),
            }
        }
        out
    };
    let limits = parse_all("limits", &mut errs);
    let requests = parse_all("requests", &mut errs);
    for (name, request) in &requests {
        if let Some((_, limit)) = limits.iter().find(|(n, _)| n == name)
            && request > limit
        {
            errs.push(FieldError::invalid(
                path.child("requests").key(name).as_str(),
                request.to_string(),
                format!("must be less than or equal to {name} limit of {limit}"),
            ));
        }
    }
    errs
}

/// `ValidateLabelSelector` (apis/meta/v1/validation): matchLabels and matchExpressions.
fn validate_label_selector(sel: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = validate_labels(
        &string_pairs(sel.get("matchLabels")),
        &path.child("matchLabels"),
    );
    for (i, expr) in arr(sel, "matchExpressions").iter().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let op = s(expr, "operator");
        let values = arr(expr, "values");
        match op {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                p.child("values").as_str(),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                p.child("values").as_str(),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                p.child("operator").as_str(),
                other,
                "not a valid selector operator",
            )),
        }
        errs.extend(super::objectmeta::validate_label_name(
            s(expr, "key"),
            &p.child("key"),
        ));
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or("");
            for msg in is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    p.child("values").index(j).as_str(),
                    v,
                    msg,
                ));
            }
        }
    }
    errs
}

/// The selector/template part shared by apps workloads (`ValidateDeploymentSpec`,
/// `ValidateReplicaSetSpec`, `ValidateDaemonSetSpec`, `ValidateStatefulSetSpec`).
fn validate_workload_spec(kind: &str, spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if kind != "DaemonSet"
        && let Some(replicas) = spec.get("replicas").and_then(Value::as_i64)
        && replicas < 0
    {
        errs.push(FieldError::invalid(
            path.child("replicas").as_str(),
            replicas,
            IS_NEGATIVE_ERROR_MSG,
        ));
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    match spec.get("selector").filter(|v| !v.is_null()) {
        None => {
            errs.push(FieldError::required(path.child("selector").as_str(), ""));
            // A nil selector converts to labels.Nothing(), which matches no template labels.
            errs.push(FieldError::invalid(
                template_path.child("metadata").child("labels").as_str(),
                template
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or(Value::Null),
                "`selector` does not match template `labels`",
            ));
        }
        Some(sel) => {
            errs.extend(validate_label_selector(sel, &path.child("selector")));
            let empty = sel
                .get("matchLabels")
                .and_then(Value::as_object)
                .is_none_or(|m| m.is_empty())
                && arr(sel, "matchExpressions").is_empty();
            if empty {
                let msg = match kind {
                    "DaemonSet" => "empty selector is invalid for daemonset",
                    "StatefulSet" => "empty selector is not valid for statefulset.",
                    _ => "empty selector is invalid for deployment",
                };
                errs.push(FieldError::invalid(
                    path.child("selector").as_str(),
                    sel.clone(),
                    msg,
                ));
            }
            errs.extend(validate_template_against_selector(
                sel,
                &path.child("selector"),
                template,
                &template_path,
            ));
        }
    }
    errs.extend(validate_pod_template(template, &template_path));
    // ValidatePodTemplateSpecFor{ReplicaSet,StatefulSet,DaemonSet}: restartPolicy Always.
    let restart = template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Always");
    if restart != "Always" {
        errs.push(FieldError::not_supported(
            template_path.child("spec").child("restartPolicy").as_str(),
            restart,
            &["Always"],
        ));
    }
    if kind == "Deployment"
        && let Some(t) = spec.pointer("/strategy/type").and_then(Value::as_str)
        && t != "Recreate"
        && t != "RollingUpdate"
    {
        errs.push(FieldError::not_supported(
            path.child("strategy").child("type").as_str(),
            t,
            &["Recreate", "RollingUpdate"],
        ));
    }
    errs
}

/// "`selector` does not match template `labels`" (also "invalid label selector").
fn validate_template_against_selector(
    sel: &Value,
    selector_path: &Path,
    template: &Value,
    template_path: &Path,
) -> Vec<FieldError> {
    let parsed = serde_json::from_value(sel.clone())
        .ok()
        .and_then(|ls| Selector::from_label_selector(Some(&ls)).ok());
    let Some(selector) = parsed else {
        return vec![FieldError::invalid(
            selector_path.as_str(),
            sel.clone(),
            "invalid label selector",
        )];
    };
    let labels = template
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if !selector.is_empty() && !selector.matches(&labels) {
        return vec![FieldError::invalid(
            template_path.child("metadata").child("labels").as_str(),
            Value::Object(labels),
            "`selector` does not match template `labels`",
        )];
    }
    Vec::new()
}

/// `ValidatePodTemplateSpec`: note upstream's paths `<template>.labels` and
/// `<template>.annotations` (without `metadata`).
fn validate_pod_template(template: &Value, path: &Path) -> Vec<FieldError> {
    let meta = template.get("metadata").unwrap_or(&Value::Null);
    let mut errs = validate_labels(&string_pairs(meta.get("labels")), &path.child("labels"));
    errs.extend(super::objectmeta::validate_annotations(
        &string_pairs(meta.get("annotations")),
        &path.child("annotations"),
    ));
    errs.extend(validate_pod_spec(
        template.get("spec").unwrap_or(&Value::Null),
        &path.child("spec"),
        true,
    ));
    errs
}

/// `ValidateJobSpec`: counts non-negative, optional selector matching the template, and a
/// template `restartPolicy` of OnFailure or Never (it defaults to Always, which fails).
fn validate_job_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for field in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
    ] {
        if let Some(n) = spec.get(field).and_then(Value::as_i64)
            && n < 0
        {
            errs.push(FieldError::invalid(
                path.child(field).as_str(),
                n,
                IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        errs.extend(validate_label_selector(sel, &path.child("selector")));
        errs.extend(validate_template_against_selector(
            sel,
            &path.child("selector"),
            template,
            &template_path,
        ));
    }
    errs.extend(validate_pod_template(template, &template_path));
    let restart = template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Always");
    if restart != "OnFailure" && restart != "Never" {
        errs.push(FieldError::not_supported(
            template_path.child("spec").child("restartPolicy").as_str(),
            restart,
            &["OnFailure", "Never"],
        ));
    }
    errs
}

/// `ValidateService` (spec part): ports required unless headless or ExternalName, port
/// numbers, names, protocols, types.
fn validate_service_spec(spec: &Value, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let service_type = spec.get("type").and_then(Value::as_str);
    if let Some(t) = service_type
        && !["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"].contains(&t)
    {
        errs.push(FieldError::not_supported(
            path.child("type").as_str(),
            t,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ));
    }
    let headless = s(spec, "clusterIP") == "None";
    let external_name = service_type == Some("ExternalName");
    if external_name && s(spec, "externalName").is_empty() {
        errs.push(FieldError::required(
            path.child("externalName").as_str(),
            "",
        ));
    }
    let ports = arr(spec, "ports");
    if ports.is_empty() && !headless && !external_name {
        errs.push(FieldError::required(path.child("ports").as_str(), ""));
    }
    let require_name = ports.len() > 1;
    let mut names: Vec<String> = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = path.child("ports").index(i);
        let name = s(p, "name");
        if require_name && name.is_empty() {
            errs.push(FieldError::required(pp.child("name").as_str(), ""));
        } else if !name.is_empty() {
            for msg in is_dns1123_label(name) {
                errs.push(FieldError::invalid(pp.child("name").as_str(), name, msg));
            }
            if names.iter().any(|n| n == name) {
                errs.push(FieldError::duplicate(pp.child("name").as_str(), name));
            }
            names.push(name.to_string());
        }
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        for msg in is_valid_port_num(port) {
            errs.push(FieldError::invalid(pp.child("port").as_str(), port, msg));
        }
        errs.extend(validate_protocol(p, &pp));
        match p.get("targetPort") {
            Some(Value::Number(n)) => {
                let n = n.as_i64().unwrap_or(0);
                for msg in is_valid_port_num(n) {
                    errs.push(FieldError::invalid(pp.child("targetPort").as_str(), n, msg));
                }
            }
            Some(Value::String(name)) => {
                for msg in is_valid_port_name(name) {
                    errs.push(FieldError::invalid(
                        pp.child("targetPort").as_str(),
                        name.as_str(),
                        msg,
                    ));
                }
            }
            _ => {}
        }
        if let Some(node_port) = p.get("nodePort").and_then(Value::as_i64)
            && node_port != 0
        {
            for msg in is_valid_port_num(node_port) {
                errs.push(FieldError::invalid(
                    pp.child("nodePort").as_str(),
                    node_port,
                    msg,
                ));
            }
        }
    }
    errs
}

/// `ValidateConfigMap`: keys are config-map keys, not in both `data` and `binaryData`, total
/// size at most [`MAX_SECRET_SIZE`].
fn validate_config_map(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let data = obj.get("data").and_then(Value::as_object);
    let binary = obj.get("binaryData").and_then(Value::as_object);
    let mut total = 0usize;
    for (key, value) in data.into_iter().flatten() {
        let p = Path::new("data").key(key);
        for msg in is_config_map_key(key) {
            errs.push(FieldError::invalid(p.as_str(), key.as_str(), msg));
        }
        if binary.is_some_and(|b| b.contains_key(key)) {
            errs.push(FieldError::invalid(
                p.as_str(),
                key.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total += key.len() + value.as_str().map_or(0, str::len);
    }
    for (key, value) in binary.into_iter().flatten() {
        let p = Path::new("binaryData").key(key);
        for msg in is_config_map_key(key) {
            errs.push(FieldError::invalid(p.as_str(), key.as_str(), msg));
        }
        if data.is_some_and(|d| d.contains_key(key)) {
            errs.push(FieldError::invalid(
                p.as_str(),
                key.as_str(),
                "duplicate of key present in data",
            ));
        }
        total += key.len() + value.as_str().map_or(0, |b64| b64.len() / 4 * 3);
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE as i64));
    }
    errs
}

/// `ValidateSecret`: data keys (including `stringData`, merged into `data` upstream) are
/// config-map keys; total size at most [`MAX_SECRET_SIZE`].
fn validate_secret(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let data_path = Path::new("data");
    let mut total = 0usize;
    for field in ["data", "stringData"] {
        for (key, value) in obj
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for msg in is_config_map_key(key) {
                errs.push(FieldError::invalid(
                    data_path.key(key).as_str(),
                    key.as_str(),
                    msg,
                ));
            }
            let raw_len = value.as_str().map_or(0, str::len);
            total += if field == "data" {
                raw_len / 4 * 3
            } else {
                raw_len
            };
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long(
            data_path.as_str(),
            MAX_SECRET_SIZE as i64,
        ));
    }
    errs
}
