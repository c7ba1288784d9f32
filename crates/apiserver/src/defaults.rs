//! What the real apiserver adds to objects: the defaults kubectl shows (`pkg/apis/*/v1/defaults.go`),
//! the initial status each strategy sets on create (`pkg/registry/*/strategy.go`
//! `PrepareForCreate`), mutating admission for pods (ServiceAccount, DefaultTolerationSeconds,
//! Priority), validation, and per-resource deletion rules.

use serde_json::{Map, Value, json};

use crate::object;
use crate::registry::ResourceInfo;
use kubetwin_core::validation::field::FieldError;

/// Whether the resource's strategy keeps `metadata.generation` (objects with a spec whose
/// changes controllers observe).
pub fn tracks_generation(info: &ResourceInfo) -> bool {
    matches!(
        (info.group, info.resource),
        (
            "apps",
            "deployments" | "replicasets" | "statefulsets" | "daemonsets"
        ) | ("batch", "jobs" | "cronjobs")
            | ("", "pods")
            | ("policy", "poddisruptionbudgets")
            | ("autoscaling", "horizontalpodautoscalers")
            | ("networking.k8s.io", "ingresses" | "networkpolicies")
    )
}

fn obj_mut<'a>(v: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    let m = v.as_object_mut().expect("object");
    let e = m.entry(key).or_insert_with(|| json!({}));
    if !e.is_object() {
        *e = json!({});
    }
    e.as_object_mut().expect("object")
}

fn default(m: &mut Map<String, Value>, key: &str, value: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.into(), value);
    }
}

/// The strategy's `PrepareForCreate`: initial status (clients cannot set it on create for
/// kinds with a status subresource, except nodes, whose kubelet registers with status).
pub fn prepare_for_create(info: &ResourceInfo, obj: &mut Value) {
    let m = obj.as_object_mut().expect("checked object");
    match (info.group, info.resource) {
        ("", "nodes") => {}
        ("", "pods") => {
            m.remove("status");
        }
        ("", "namespaces") => {
            m.insert("status".into(), json!({"phase": "Active"}));
        }
        ("", "persistentvolumes") | ("", "persistentvolumeclaims") => {
            m.insert("status".into(), json!({"phase": "Pending"}));
        }
        _ if info.has_status_subresource() => {
            m.remove("status");
        }
        _ => {}
    }
    if (info.group, info.resource) == ("", "pods") {
        let qos = qos_class(obj);
        obj["status"] = json!({"phase": "Pending", "qosClass": qos});
    }
    if (info.group, info.resource) == ("batch", "jobs") && obj["spec"]["manualSelector"] != true {
        generate_job_selector(obj);
    }
}

/// `generateSelector` (`pkg/registry/batch/job/strategy.go`, run in the strategy's Validate,
/// after the uid exists): unless the Job asks for a manual selector, its pod template gets the
/// `job-name`/`batch.kubernetes.io/job-name` and `controller-uid`/
/// `batch.kubernetes.io/controller-uid` labels (user values are kept; a conflict fails
/// validation) and the selector matches `batch.kubernetes.io/controller-uid`.
pub fn generate_job_selector(obj: &mut Value) {
    let name = obj["metadata"]["name"].clone();
    let uid = obj["metadata"]["uid"].clone();
    let spec = obj_mut(obj, "spec");
    let template = spec.entry("template").or_insert_with(|| json!({}));
    if let Some(template) = template.as_object_mut() {
        let meta = template.entry("metadata").or_insert_with(|| json!({}));
        if !meta.is_object() {
            *meta = json!({});
        }
        let labels = meta
            .as_object_mut()
            .map(|m| m.entry("labels").or_insert_with(|| json!({})));
        if let Some(labels) = labels {
            if !labels.is_object() {
                *labels = json!({});
            }
            if let Some(labels) = labels.as_object_mut() {
                for key in ["job-name", "batch.kubernetes.io/job-name"] {
                    labels.entry(key).or_insert_with(|| name.clone());
                }
                for key in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
                    labels.entry(key).or_insert_with(|| uid.clone());
                }
            }
        }
    }
    let selector = spec.entry("selector").or_insert_with(|| json!({}));
    if !selector.is_object() {
        *selector = json!({});
    }
    if let Some(selector) = selector.as_object_mut() {
        let match_labels = selector.entry("matchLabels").or_insert_with(|| json!({}));
        if !match_labels.is_object() {
            *match_labels = json!({});
        }
        if let Some(m) = match_labels.as_object_mut() {
            m.entry("batch.kubernetes.io/controller-uid").or_insert(uid);
        }
    }
}

/// Defaulting (`SetDefaults_*` of each API group's v1 `defaults.go`), applied on create and update.
pub fn apply_defaults(info: &ResourceInfo, obj: &mut Value) {
    match (info.group, info.resource) {
        ("", "pods") => {
            let spec = obj_mut(obj, "spec");
            pod_spec_defaults(spec);
        }
        ("", "namespaces") => {
            let name = object::name(obj).to_string();
            let meta = object::meta_mut(obj);
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
            let spec = obj_mut(obj, "spec");
            default(spec, "finalizers", json!(["kubernetes"]));
        }
        ("", "secrets") => {
            if let Some(m) = obj.as_object_mut() {
                default(m, "type", json!("Opaque"));
            }
        }
        ("", "services") => service_defaults(obj),
        ("", "persistentvolumeclaims") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "volumeMode", json!("Filesystem"));
        }
        ("", "persistentvolumes") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
            default(spec, "volumeMode", json!("Filesystem"));
        }
        ("", "endpoints") => {
            if let Some(subsets) = obj.get_mut("subsets").and_then(Value::as_array_mut) {
                for s in subsets {
                    if let Some(ports) = s.get_mut("ports").and_then(Value::as_array_mut) {
                        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                            default(p, "protocol", json!("TCP"));
                        }
                    }
                }
            }
        }
        ("apps", "deployments") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "replicas", json!(1));
            let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
            if let Some(s) = strategy.as_object_mut() {
                default(s, "type", json!("RollingUpdate"));
                if s.get("type") == Some(&json!("RollingUpdate")) {
                    let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
                    if let Some(ru) = ru.as_object_mut() {
                        default(ru, "maxUnavailable", json!("25%"));
                        default(ru, "maxSurge", json!("25%"));
                    }
                }
            }
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            template_defaults(spec);
        }
        ("apps", "replicasets") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "replicas", json!(1));
            template_defaults(spec);
        }
        ("apps", "statefulsets") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            default(spec, "revisionHistoryLimit", json!(10));
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            template_defaults(spec);
        }
        ("apps", "daemonsets") => {
            let spec = obj_mut(obj, "spec");
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
            default(spec, "revisionHistoryLimit", json!(10));
            template_defaults(spec);
        }
        ("batch", "jobs") => {
            let spec = obj_mut(obj, "spec");
            job_spec_defaults(spec);
        }
        ("batch", "cronjobs") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "concurrencyPolicy", json!("Allow"));
            default(spec, "suspend", json!(false));
            default(spec, "successfulJobsHistoryLimit", json!(3));
            default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(jt) = spec.get_mut("jobTemplate").and_then(Value::as_object_mut) {
                let js = jt.entry("spec").or_insert_with(|| json!({}));
                if let Some(js) = js.as_object_mut() {
                    job_spec_defaults(js);
                }
            }
        }
        ("storage.k8s.io", "storageclasses") => {
            if let Some(m) = obj.as_object_mut() {
                default(m, "reclaimPolicy", json!("Delete"));
                default(m, "volumeBindingMode", json!("Immediate"));
            }
        }
        ("scheduling.k8s.io", "priorityclasses") => {
            if let Some(m) = obj.as_object_mut() {
                default(m, "preemptionPolicy", json!("PreemptLowerPriority"));
            }
        }
        ("networking.k8s.io", "networkpolicies") => {
            let spec = obj_mut(obj, "spec");
            if spec.get("policyTypes").is_none() {
                let mut types = vec![json!("Ingress")];
                if spec.get("egress").is_some_and(|e| !e.is_null()) {
                    types.push(json!("Egress"));
                }
                spec.insert("policyTypes".into(), Value::Array(types));
            }
        }
        ("autoscaling", "horizontalpodautoscalers") => {
            let spec = obj_mut(obj, "spec");
            default(spec, "minReplicas", json!(1));
            if spec.get("metrics").is_none() {
                spec.insert(
                    "metrics".into(),
                    json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
                );
            }
        }
        _ => {}
    }
}

fn template_defaults(spec: &mut Map<String, Value>) {
    if let Some(t) = spec.get_mut("template").and_then(Value::as_object_mut) {
        let ps = t.entry("spec").or_insert_with(|| json!({}));
        if let Some(ps) = ps.as_object_mut() {
            pod_spec_defaults(ps);
        }
    }
}

fn job_spec_defaults(spec: &mut Map<String, Value>) {
    if spec.get("completions").is_none_or(Value::is_null)
        && spec.get("parallelism").is_none_or(Value::is_null)
    {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default(spec, "parallelism", json!(1));
    default(spec, "backoffLimit", json!(6));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    default(spec, "manualSelector", Value::Null);
    spec.remove("manualSelector");
    default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    template_defaults(spec);
}

/// `SetDefaults_PodSpec` and `SetDefaults_Container` (core/v1 defaults.go).
fn pod_spec_defaults(spec: &mut Map<String, Value>) {
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "securityContext", json!({}));
    default(spec, "enableServiceLinks", json!(true));
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                container_defaults(c);
            }
        }
    }
}

fn container_defaults(c: &mut Map<String, Value>) {
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    default(c, "imagePullPolicy", json!(default_pull_policy(&image)));
    default(c, "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            default(p, "protocol", json!("TCP"));
        }
    }
    // SetDefaults_Pod: limits without requests make requests equal to limits.
    if let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut)
        && let Some(limits) = res.get("limits").and_then(Value::as_object).cloned()
    {
        let requests = res.entry("requests").or_insert_with(|| json!({}));
        if let Some(r) = requests.as_object_mut() {
            for (k, v) in limits {
                r.entry(k).or_insert(v);
            }
        }
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent` (digests count as tagged).
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn service_defaults(obj: &mut Value) {
    let spec = obj_mut(obj, "spec");
    default(spec, "type", json!("ClusterIP"));
    default(spec, "sessionAffinity", json!("None"));
    let svc_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if svc_type != "ExternalName" {
        default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if matches!(svc_type.as_str(), "NodePort" | "LoadBalancer") {
        default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            default(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                default(p, "targetPort", port);
            }
        }
    }
}

/// The QoS class of a pod (`pkg/apis/core/helper/qos/qos.go` `GetPodQOS`), from requests and
/// limits of cpu and memory across init and app containers.
pub fn qos_class(pod: &Value) -> &'static str {
    let spec = &pod["spec"];
    let mut any_request_or_limit = false;
    let mut guaranteed = true;
    let containers = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["initContainers"].as_array().into_iter().flatten());
    for c in containers {
        let requests = c["resources"]["requests"].as_object();
        let limits = c["resources"]["limits"].as_object();
        for res in ["cpu", "memory"] {
            let req = requests
                .and_then(|r| r.get(res))
                .and_then(Value::as_str)
                .filter(|q| !is_zero_quantity(q));
            let lim = limits
                .and_then(|l| l.get(res))
                .and_then(Value::as_str)
                .filter(|q| !is_zero_quantity(q));
            if req.is_some() || lim.is_some() {
                any_request_or_limit = true;
            }
            match (req, lim) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if r != l => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any_request_or_limit {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn is_zero_quantity(q: &str) -> bool {
    q.trim_start_matches(['+', '-'])
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .all(|c| c == '0' || c == '.')
        && q.chars().any(|c| c.is_ascii_digit())
}

/// Resolves a PriorityClass name to its value and preemption policy.
pub type PriorityLookup<'a> = &'a dyn Fn(&str) -> Option<(i64, Option<String>)>;

/// Mutating admission for pods: `ServiceAccount` (default account), `DefaultTolerationSeconds`
/// (`plugin/pkg/admission/defaulttolerationseconds`), and `Priority`
/// (`plugin/pkg/admission/priority`). `priority_of` resolves a PriorityClass name.
pub fn admit_pod(pod: &mut Value, priority_of: PriorityLookup<'_>) -> Result<(), String> {
    let spec = obj_mut(pod, "spec");
    default(spec, "serviceAccountName", json!("default"));
    let sa = spec
        .get("serviceAccountName")
        .cloned()
        .unwrap_or(json!("default"));
    spec.insert("serviceAccount".into(), sa);

    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    if let Some(list) = tolerations.as_array_mut() {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let tolerated = list.iter().any(|t| {
                (t["key"] == key || (t["key"].is_null() && t["operator"] == "Exists"))
                    && (t["effect"].is_null() || t["effect"] == "NoExecute" || t["effect"] == "")
            });
            if !tolerated {
                list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }

    let class = spec
        .get("priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (priority, policy) = if class.is_empty() {
        (0, Some("PreemptLowerPriority".to_string()))
    } else if class == "system-node-critical" {
        (2_000_001_000, Some("PreemptLowerPriority".to_string()))
    } else if class == "system-cluster-critical" {
        (2_000_000_000, Some("PreemptLowerPriority".to_string()))
    } else {
        match priority_of(&class) {
            Some((v, p)) => (v, p.or(Some("PreemptLowerPriority".into()))),
            None => return Err(format!("no PriorityClass with name {class} was found")),
        }
    };
    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != priority
    {
        return Err("the integer value of priority must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name".replace("{priority}", &priority.to_string()));
    }
    spec.insert("priority".into(), json!(priority));
    if let Some(p) = policy {
        default(spec, "preemptionPolicy", json!(p));
    }
    Ok(())
}

/// The grace period a delete waits for, or `None` for immediate deletion
/// (`pkg/registry/core/pod/strategy.go` `CheckGracefulDelete`; namespaces wait for their
/// `spec.finalizers`).
pub fn graceful_deletion_seconds(
    info: &ResourceInfo,
    obj: &Value,
    requested: Option<i64>,
) -> Option<i64> {
    match (info.group, info.resource) {
        ("", "pods") => {
            let default_grace = obj["spec"]["terminationGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(30);
            let grace = requested.unwrap_or(default_grace).max(0);
            let unscheduled = obj["spec"]["nodeName"].as_str().unwrap_or("").is_empty();
            let terminal = matches!(
                obj["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed")
            );
            if grace == 0 || unscheduled || terminal {
                None
            } else {
                Some(grace)
            }
        }
        ("", "namespaces") if awaits_kubelet(info, obj) => Some(0),
        _ => None,
    }
}

/// Whether an object marked for deletion waits for a component other than finalizers: a
/// scheduled pod for its kubelet, a namespace for the namespace controller.
pub fn awaits_kubelet(info: &ResourceInfo, obj: &Value) -> bool {
    match (info.group, info.resource) {
        ("", "pods") => graceful_pod_pending(obj),
        ("", "namespaces") => obj["spec"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        _ => false,
    }
}

fn graceful_pod_pending(obj: &Value) -> bool {
    let scheduled = !obj["spec"]["nodeName"].as_str().unwrap_or("").is_empty();
    let terminal = matches!(
        obj["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    );
    scheduled
        && !terminal
        && obj["metadata"]["deletionGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(1)
            > 0
}

/// Changes made when deletion starts (a namespace turns `Terminating`).
pub fn on_deletion_started(info: &ResourceInfo, obj: &mut Value) {
    if (info.group, info.resource) == ("", "namespaces") {
        obj_mut(obj, "status").insert("phase".into(), json!("Terminating"));
    }
}

/// Validation on create and update: metadata (names per kind, labels, annotations, owner
/// references, finalizers) and the kind's own rules, from `kubetwin_core::validation`.
pub fn validate(info: &ResourceInfo, obj: &Value) -> Vec<FieldError> {
    use kubetwin_core::validation::{self as v, kinds, objectmeta};
    if kinds::name_rules(info.group, info.kind).is_some() {
        return kinds::validate_object(info.group, info.kind, obj);
    }
    let name_fn: v::NameValidator = match info.group {
        // rbac/validation: ValidateRBACName = path.IsValidPathSegmentName.
        "rbac.authorization.k8s.io" => v::validate_path_segment_name,
        _ => v::name_is_dns_subdomain,
    };
    objectmeta::validate_object_meta(
        obj.get("metadata").unwrap_or(&Value::Null),
        info.namespaced(),
        name_fn,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_tag() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/nginx"), "Always");
        assert_eq!(
            default_pull_policy("localhost:5000/nginx:1"),
            "IfNotPresent"
        );
        assert_eq!(default_pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    /// Upstream: `pkg/registry/batch/job/strategy_test.go` (`TestJobStrategy_PrepareForCreate`
    /// selector generation): the four labels are added unless the user set them, the selector
    /// matches the controller uid, and `manualSelector: true` leaves both alone.
    #[test]
    fn job_selector_generation() {
        let info = crate::registry::lookup("batch", "v1", "jobs").expect("jobs");
        let job = |template_labels: Value, manual: Option<bool>| {
            let mut spec = json!({"template": {"metadata": {"labels": template_labels},
                                  "spec": {"containers": [{"name": "c", "image": "x"}]}}});
            if let Some(m) = manual {
                spec["manualSelector"] = json!(m);
                spec["selector"] = json!({"matchLabels": {"app": "x"}});
            }
            json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": spec})
        };
        let cases: Vec<(&str, Value, Option<bool>, Value, Value)> = vec![
            (
                "generated",
                json!({}),
                None,
                json!({"batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
                       "controller-uid": "u-1", "job-name": "pi"}),
                json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}),
            ),
            (
                "user labels kept",
                json!({"job-name": "mine", "app": "x"}),
                Some(false),
                json!({"app": "x", "batch.kubernetes.io/controller-uid": "u-1",
                       "batch.kubernetes.io/job-name": "pi", "controller-uid": "u-1", "job-name": "mine"}),
                json!({"matchLabels": {"app": "x", "batch.kubernetes.io/controller-uid": "u-1"}}),
            ),
            (
                "manual selector untouched",
                json!({"app": "x"}),
                Some(true),
                json!({"app": "x"}),
                json!({"matchLabels": {"app": "x"}}),
            ),
        ];
        for (name, labels, manual, want_labels, want_selector) in cases {
            let mut obj = job(labels, manual);
            prepare_for_create(info, &mut obj);
            assert_eq!(
                obj["spec"]["template"]["metadata"]["labels"], want_labels,
                "{name}"
            );
            assert_eq!(obj["spec"]["selector"], want_selector, "{name}");
        }
    }

    #[test]
    fn qos_classes() {
        let be = json!({"spec": {"containers": [{"name": "a"}]}});
        assert_eq!(qos_class(&be), "BestEffort");
        let g = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        assert_eq!(qos_class(&g), "Guaranteed");
        let b = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "100m"}}}]}});
        assert_eq!(qos_class(&b), "Burstable");
    }
}
