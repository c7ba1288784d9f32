//! `LimitRanger`: LimitRange defaults for containers, then min, max and limit-to-request
//! ratio checks per Container, Pod and PersistentVolumeClaim.
//!
//! Upstream: `plugin/pkg/admission/limitranger/admission.go` (Kubernetes 1.34:
//! `defaultContainerResourceRequirements`, `mergeContainerResources`,
//! `mergePodResourceRequirements`, `minConstraint`, `maxConstraint`, `maxRequestConstraint`,
//! `limitRequestRatioConstraint`, `PodValidateLimitFunc`, `PersistentVolumeClaimValidateLimitFunc`,
//! `podRequests`/`podLimits` with restartable init containers and pod-level resources).
//!
//! Knowingly different: upstream ranges over Go maps, so when several constraints fail their
//! messages come in a random order; here they come in resource-name order.

use kubetwin_core::quantity::{MAX_MILLI_VALUE, Quantity};
use serde_json::{Value, json};

use super::{ResourceList, aggregate, resource_list};

/// The annotation naming what the plugin defaulted.
pub const LIMIT_RANGER_ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// Requests and limits (`api.ResourceRequirements`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// `requests`.
    pub requests: ResourceList,
    /// `limits`.
    pub limits: ResourceList,
}

fn limit_items(limit_range: &Value) -> impl Iterator<Item = &Value> {
    limit_range["spec"]["limits"]
        .as_array()
        .into_iter()
        .flatten()
}

/// `defaultContainerResourceRequirements`: `defaultRequest` and `default` of the Container
/// items (a later item overrides an earlier one).
pub fn default_container_resource_requirements(limit_range: &Value) -> Requirements {
    let mut out = Requirements::default();
    for item in limit_items(limit_range).filter(|i| i["type"] == "Container") {
        out.requests.extend(resource_list(&item["defaultRequest"]));
        out.limits.extend(resource_list(&item["default"]));
    }
    out
}

/// `mergeContainerResources`: fills what the container does not set; returns the annotation
/// parts ("cpu, memory request for container c").
fn merge_container_resources(
    container: &mut Value,
    defaults: &Requirements,
    prefix: &str,
    annotations: &mut Vec<String>,
) {
    let Some(c) = container.as_object_mut() else {
        return;
    };
    let name = c
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let resources = c.entry("resources").or_insert_with(|| json!({}));
    if !resources.is_object() {
        *resources = json!({});
    }
    let mut set = |field: &str, defaults: &ResourceList| -> Vec<String> {
        let mut names = Vec::new();
        if defaults.is_empty() {
            return names;
        }
        let list = resources
            .as_object_mut()
            .map(|r| r.entry(field).or_insert_with(|| json!({})));
        let Some(list) = list else {
            return names;
        };
        if !list.is_object() {
            *list = json!({});
        }
        if let Some(map) = list.as_object_mut() {
            for (k, v) in defaults {
                if !map.contains_key(k) {
                    map.insert(k.clone(), json!(v.to_string()));
                    names.push(k.clone());
                }
            }
        }
        names
    };
    // Limits first, then requests, as upstream fills them; the annotation lists requests first.
    let set_limits = set("limits", &defaults.limits);
    let set_requests = set("requests", &defaults.requests);
    if !set_requests.is_empty() {
        annotations.push(format!(
            "{} request for {prefix} {name}",
            set_requests.join(", ")
        ));
    }
    if !set_limits.is_empty() {
        annotations.push(format!(
            "{} limit for {prefix} {name}",
            set_limits.join(", ")
        ));
    }
}

/// `mergePodResourceRequirements`: defaults into every container and init container, and the
/// `kubernetes.io/limit-ranger` annotation when anything was set.
pub fn merge_pod_resource_requirements(pod: &mut Value, defaults: &Requirements) {
    let mut annotations = Vec::new();
    for (field, prefix) in [
        ("containers", "container"),
        ("initContainers", "init container"),
    ] {
        if let Some(list) = pod["spec"][field].as_array_mut() {
            for c in list {
                merge_container_resources(c, defaults, prefix, &mut annotations);
            }
        }
    }
    if annotations.is_empty() {
        return;
    }
    let meta = crate::object::meta_mut(pod);
    let slot = meta.entry("annotations").or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    if let Some(map) = slot.as_object_mut() {
        map.insert(
            LIMIT_RANGER_ANNOTATION.into(),
            json!(format!(
                "LimitRanger plugin set: {}",
                annotations.join("; ")
            )),
        );
    }
}

/// `PodMutateLimitFunc`.
pub fn pod_mutate_limit(limit_range: &Value, pod: &mut Value) {
    let defaults = default_container_resource_requirements(limit_range);
    merge_pod_resource_requirements(pod, &defaults);
}

/// `requestLimitEnforcedValues`: milli-units when none would overflow, else units.
fn enforced_values(request: &Quantity, limit: &Quantity, enforced: &Quantity) -> (i64, i64, i64) {
    let (r, l, e) = (request.value(), limit.value(), enforced.value());
    if r <= MAX_MILLI_VALUE && l <= MAX_MILLI_VALUE && e <= MAX_MILLI_VALUE {
        (
            request.milli_value(),
            limit.milli_value(),
            enforced.milli_value(),
        )
    } else {
        (r, l, e)
    }
}

fn get_or_zero(list: &ResourceList, name: &str) -> (Quantity, bool) {
    match list.get(name) {
        Some(q) => (q.clone(), true),
        None => (Quantity::default(), false),
    }
}

/// `minConstraint`.
pub fn min_constraint(
    limit_type: &str,
    resource: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Result<(), String> {
    let (req, req_exists) = get_or_zero(requests, resource);
    let (lim, lim_exists) = get_or_zero(limits, resource);
    let (req_v, lim_v, enf_v) = enforced_values(&req, &lim, enforced);
    if !req_exists {
        return Err(format!(
            "minimum {resource} usage per {limit_type} is {enforced}.  No request is specified"
        ));
    }
    if req_v < enf_v {
        return Err(format!(
            "minimum {resource} usage per {limit_type} is {enforced}, but request is {req}"
        ));
    }
    if lim_exists && lim_v < enf_v {
        return Err(format!(
            "minimum {resource} usage per {limit_type} is {enforced}, but limit is {lim}"
        ));
    }
    Ok(())
}

/// `maxRequestConstraint` (claims: only requests are user input).
pub fn max_request_constraint(
    limit_type: &str,
    resource: &str,
    enforced: &Quantity,
    requests: &ResourceList,
) -> Result<(), String> {
    let (req, req_exists) = get_or_zero(requests, resource);
    let (req_v, _, enf_v) = enforced_values(&req, &Quantity::default(), enforced);
    if !req_exists {
        return Err(format!(
            "maximum {resource} usage per {limit_type} is {enforced}.  No request is specified"
        ));
    }
    if req_v > enf_v {
        return Err(format!(
            "maximum {resource} usage per {limit_type} is {enforced}, but request is {req}"
        ));
    }
    Ok(())
}

/// `maxConstraint`.
pub fn max_constraint(
    limit_type: &str,
    resource: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Result<(), String> {
    let (req, req_exists) = get_or_zero(requests, resource);
    let (lim, lim_exists) = get_or_zero(limits, resource);
    let (req_v, lim_v, enf_v) = enforced_values(&req, &lim, enforced);
    if !lim_exists {
        return Err(format!(
            "maximum {resource} usage per {limit_type} is {enforced}.  No limit is specified"
        ));
    }
    if lim_v > enf_v {
        return Err(format!(
            "maximum {resource} usage per {limit_type} is {enforced}, but limit is {lim}"
        ));
    }
    if req_exists && req_v > enf_v {
        return Err(format!(
            "maximum {resource} usage per {limit_type} is {enforced}, but request is {req}"
        ));
    }
    Ok(())
}

/// `limitRequestRatioConstraint`; the observed ratio prints as Go's `%f`.
pub fn limit_request_ratio_constraint(
    limit_type: &str,
    resource: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Result<(), String> {
    let (req, req_exists) = get_or_zero(requests, resource);
    let (lim, lim_exists) = get_or_zero(limits, resource);
    let (req_v, lim_v, _) = enforced_values(&req, &lim, enforced);
    if !req_exists || req_v == 0 {
        return Err(format!(
            "{resource} max limit to request ratio per {limit_type} is {enforced}, but no request is specified or request is 0"
        ));
    }
    if !lim_exists || lim_v == 0 {
        return Err(format!(
            "{resource} max limit to request ratio per {limit_type} is {enforced}, but no limit is specified or limit is 0"
        ));
    }
    let displayed = lim_v as f64 / req_v as f64;
    let (observed, allowed) = if enforced.value() <= MAX_MILLI_VALUE {
        (displayed * 1000.0, enforced.milli_value() as f64)
    } else {
        (displayed, enforced.value() as f64)
    };
    if observed > allowed {
        return Err(format!(
            "{resource} max limit to request ratio per {limit_type} is {enforced}, but provided ratio is {displayed:.6}"
        ));
    }
    Ok(())
}

/// Runs the three checks of one LimitRange item against requests and limits.
fn check_item(
    item: &Value,
    limit_type: &str,
    requests: &ResourceList,
    limits: &ResourceList,
    errors: &mut Vec<String>,
) {
    for (k, v) in resource_list(&item["min"]) {
        if let Err(e) = min_constraint(limit_type, &k, &v, requests, limits) {
            errors.push(e);
        }
    }
    for (k, v) in resource_list(&item["max"]) {
        if let Err(e) = max_constraint(limit_type, &k, &v, requests, limits) {
            errors.push(e);
        }
    }
    for (k, v) in resource_list(&item["maxLimitRequestRatio"]) {
        if let Err(e) = limit_request_ratio_constraint(limit_type, &k, &v, requests, limits) {
            errors.push(e);
        }
    }
}

fn container_requirements(c: &Value) -> (ResourceList, ResourceList) {
    (
        resource_list(&c["resources"]["requests"]),
        resource_list(&c["resources"]["limits"]),
    )
}

fn add_resource_list(list: &mut ResourceList, other: &ResourceList) {
    for (k, q) in other {
        match list.get_mut(k) {
            Some(v) => v.add(q),
            None => {
                list.insert(k.clone(), q.clone());
            }
        }
    }
}

fn max_resource_list(list: &mut ResourceList, other: &ResourceList) {
    for (k, q) in other {
        let replace = list.get(k).is_none_or(|v| q > v);
        if replace {
            list.insert(k.clone(), q.clone());
        }
    }
}

/// The pod-level resources `PodLevelResources` (on by default in 1.34) supports.
const POD_LEVEL_RESOURCES: &[&str] = &["cpu", "memory"];

/// `podRequests`/`podLimits` of the plugin: containers summed, restartable init containers
/// (sidecars) added, each other init container with the sidecars before it, the larger
/// of the two; pod-level cpu/memory override. `field` is "requests" or "limits".
pub fn pod_aggregate(pod: &Value, field: &str) -> ResourceList {
    let spec = &pod["spec"];
    let mut total = ResourceList::new();
    for c in spec["containers"].as_array().into_iter().flatten() {
        add_resource_list(&mut total, &resource_list(&c["resources"][field]));
    }
    let mut sidecars = ResourceList::new();
    let mut init_max = ResourceList::new();
    for c in spec["initContainers"].as_array().into_iter().flatten() {
        let own = resource_list(&c["resources"][field]);
        let effective = if c["restartPolicy"] == "Always" {
            add_resource_list(&mut total, &own);
            add_resource_list(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut tmp = own;
            add_resource_list(&mut tmp, &sidecars);
            tmp
        };
        max_resource_list(&mut init_max, &effective);
    }
    max_resource_list(&mut total, &init_max);
    for (k, q) in resource_list(&spec["resources"][field]) {
        if POD_LEVEL_RESOURCES.contains(&k.as_str()) {
            total.insert(k, q);
        }
    }
    total
}

/// `PodValidateLimitFunc`.
pub fn pod_validate_limit(limit_range: &Value, pod: &Value) -> Result<(), String> {
    let mut errors = Vec::new();
    for item in limit_items(limit_range) {
        match item["type"].as_str().unwrap_or("") {
            "Container" => {
                for field in ["containers", "initContainers"] {
                    for c in pod["spec"][field].as_array().into_iter().flatten() {
                        let (requests, limits) = container_requirements(c);
                        check_item(item, "Container", &requests, &limits, &mut errors);
                    }
                }
            }
            "Pod" => {
                let requests = pod_aggregate(pod, "requests");
                let limits = pod_aggregate(pod, "limits");
                check_item(item, "Pod", &requests, &limits, &mut errors);
            }
            _ => {}
        }
    }
    match aggregate(&errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `PersistentVolumeClaimValidateLimitFunc`: min and max over `spec.resources.requests`.
pub fn pvc_validate_limit(limit_range: &Value, pvc: &Value) -> Result<(), String> {
    let requests = resource_list(&pvc["spec"]["resources"]["requests"]);
    let none = ResourceList::new();
    let mut errors = Vec::new();
    for item in limit_items(limit_range).filter(|i| i["type"] == "PersistentVolumeClaim") {
        for (k, v) in resource_list(&item["min"]) {
            if let Err(e) = min_constraint("PersistentVolumeClaim", &k, &v, &requests, &none) {
                errors.push(e);
            }
        }
        for (k, v) in resource_list(&item["max"]) {
            if let Err(e) = max_request_constraint("PersistentVolumeClaim", &k, &v, &requests) {
                errors.push(e);
            }
        }
    }
    match aggregate(&errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
