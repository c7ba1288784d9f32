//! `ResourceQuota`: usage evaluators for pods, services, claims and object counts, the
//! admission check that charges a request to every matching quota, and the usage
//! calculation the quota controller runs.
//!
//! Upstream (Kubernetes 1.34):
//! - `staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go`
//!   (`CheckRequest`, `prettyPrint`, `hasUsageStats`, `getScopeSelectorsFromQuota`);
//! - `staging/src/k8s.io/apiserver/pkg/quota/v1/resources.go` (`Add`, `Mask`,
//!   `LessThanOrEqual`, `SubtractWithNonNegativeResult`, `RemoveZeros`, `Equals`,
//!   `CalculateUsage`) and `quota/v1/generic/evaluator.go` (`Matches`,
//!   `CalculateUsageStats`, the object count evaluator, `count/<resource>.<group>`);
//! - `pkg/quota/v1/evaluator/core/{pods,services,persistent_volume_claims,registry}.go`;
//! - `pkg/quota/v1/install/update_filter.go` (events are never quota'd).
//!
//! Knowingly different: no `AdmissionConfiguration` `limitedResources`; extended resource
//! names are recognised by shape (a `/` outside `kubernetes.io/`) without the qualified-name
//! check; pod usage reads the spec only (no in-place resize status), and DRA device-class
//! resources are not charged.

use jiff::Timestamp;
use kubetwin_core::quantity::{Format, Quantity};
use serde_json::Value;

use super::limitranger::pod_aggregate;
use super::{ResourceList, resource_json_into, resource_list};

/// The operation being admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// CREATE.
    Create,
    /// UPDATE (PUT or PATCH).
    Update,
}

/// What quota admission sees of a request (`admission.Attributes`).
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    /// The operation.
    pub operation: Operation,
    /// The subresource (`""`, `"status"`, ...).
    pub subresource: &'a str,
    /// The object after mutation.
    pub object: &'a Value,
    /// The stored object (updates).
    pub old_object: Option<&'a Value>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// 403 Forbidden, with upstream's message.
    #[error("{0}")]
    Forbidden(String),
    /// Anything else (malformed quota).
    #[error("{0}")]
    Internal(String),
}

/// One scope requirement (`ScopedResourceSelectorRequirement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRequirement {
    /// `scopeName`.
    pub scope_name: String,
    /// `operator`: In, NotIn, Exists or DoesNotExist.
    pub operator: String,
    /// `values`.
    pub values: Vec<String>,
}

/// `getScopeSelectorsFromQuota`: `spec.scopes` as Exists requirements, then
/// `spec.scopeSelector.matchExpressions`.
pub fn scope_selectors(quota: &Value) -> Vec<ScopeRequirement> {
    let mut out: Vec<ScopeRequirement> = quota["spec"]["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| ScopeRequirement {
            scope_name: s.to_string(),
            operator: "Exists".into(),
            values: Vec::new(),
        })
        .collect();
    for e in quota["spec"]["scopeSelector"]["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push(ScopeRequirement {
            scope_name: e["scopeName"].as_str().unwrap_or("").to_string(),
            operator: e["operator"].as_str().unwrap_or("").to_string(),
            values: e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        });
    }
    out
}

// ----- resource lists (quota/v1/resources.go) -----

/// `Equals`: the same names with equal quantities.
pub fn equals(a: &ResourceList, b: &ResourceList) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|o| o == v))
}

/// `Add`.
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        match out.get_mut(k) {
            Some(q) => q.add(v),
            None => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// `SubtractWithNonNegativeResult`.
pub fn subtract_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let zero = Quantity::parse("0").unwrap_or_default();
    let mut out = ResourceList::new();
    for (k, v) in a {
        let mut q = v.clone();
        if let Some(o) = b.get(k) {
            q.sub(o);
        }
        out.insert(k.clone(), if q > zero { q } else { zero.clone() });
    }
    for k in b.keys() {
        out.entry(k.clone()).or_insert_with(|| zero.clone());
    }
    out
}

/// `Mask`: only the named resources.
pub fn mask(list: &ResourceList, names: &[String]) -> ResourceList {
    list.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `LessThanOrEqual`: whether every resource of `b` also in `a` is not exceeded, and the
/// names that are.
pub fn less_than_or_equal(a: &ResourceList, b: &ResourceList) -> (bool, Vec<String>) {
    let exceeded: Vec<String> = b
        .iter()
        .filter(|(k, v)| a.get(*k).is_some_and(|o| o > *v))
        .map(|(k, _)| k.clone())
        .collect();
    (exceeded.is_empty(), exceeded)
}

/// `RemoveZeros`.
pub fn remove_zeros(list: &ResourceList) -> ResourceList {
    list.iter()
        .filter(|(_, v)| !v.is_zero())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `IsNegative`: the names with a negative quantity.
pub fn negative_names(list: &ResourceList) -> Vec<String> {
    list.iter()
        .filter(|(_, v)| v.sign() < 0)
        .map(|(k, _)| k.clone())
        .collect()
}

/// `prettyPrint`: `a=1,b=2` in name order.
pub fn pretty_print(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn names(list: &ResourceList) -> Vec<String> {
    list.keys().cloned().collect()
}

fn one() -> Quantity {
    Quantity::new(1, Format::DecimalSI)
}

// ----- evaluators -----

/// `ObjectCountQuotaResourceNameFor`: `count/<resource>` or `count/<resource>.<group>`.
pub fn object_count_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        format!("count/{resource}")
    } else {
        format!("count/{resource}.{group}")
    }
}

/// The usage evaluator of a resource (`quota.Evaluator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluator {
    /// `core.podEvaluator`.
    Pods,
    /// `core.serviceEvaluator`.
    Services,
    /// `core.pvcEvaluator`.
    PersistentVolumeClaims,
    /// `generic.objectCountEvaluator` with its resource names (`count/...` and, for the
    /// legacy core kinds, the bare alias such as `configmaps`).
    ObjectCount {
        /// The names it charges one of each.
        resource_names: Vec<String>,
    },
}

const POD_RESOURCES: &[&str] = &[
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];
const POD_RESOURCE_PREFIXES: &[&str] = &["hugepages-", "requests.hugepages-"];
const SERVICE_RESOURCES: &[&str] = &[
    "count/services",
    "services",
    "services.nodeports",
    "services.loadbalancers",
];
const PVC_RESOURCES: &[&str] = &["persistentvolumeclaims", "requests.storage"];
const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";
/// Resources whose quota, if set, every container must request (`validationSet`).
const VALIDATION_SET: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// `helper.IsNativeResource`.
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `helper.IsExtendedResourceName` (without the qualified-name check).
fn is_extended_resource_name(name: &str) -> bool {
    !is_native_resource(name) && !name.starts_with("requests.")
}

/// `isExtendedResourceNameForQuota`.
fn is_extended_resource_name_for_quota(name: &str) -> bool {
    !is_native_resource(name) && name.starts_with("requests.")
}

impl Evaluator {
    /// The evaluator admission uses for a resource; `None` for ignored resources (events).
    pub fn for_resource(group: &str, resource: &str) -> Option<Self> {
        Some(match (group, resource) {
            ("", "events") | ("events.k8s.io", "events") => return None,
            ("", "pods") => Self::Pods,
            ("", "services") => Self::Services,
            ("", "persistentvolumeclaims") => Self::PersistentVolumeClaims,
            _ => {
                let mut resource_names = vec![object_count_name(group, resource)];
                // core/registry.go `legacyObjectCountAliases`.
                if group.is_empty()
                    && matches!(
                        resource,
                        "configmaps" | "resourcequotas" | "replicationcontrollers" | "secrets"
                    )
                {
                    resource_names.push(resource.to_string());
                }
                Self::ObjectCount { resource_names }
            }
        })
    }

    /// `Handles`: whether the operation can change usage.
    pub fn handles(&self, a: &Attributes<'_>) -> bool {
        match self {
            // pods.go: creates; updates only when the Terminating scope flips (or resizes).
            Self::Pods => match a.subresource {
                "" => match (a.operation, a.old_object) {
                    (Operation::Create, _) => true,
                    (Operation::Update, Some(old)) => {
                        is_terminating(old) != is_terminating(a.object)
                    }
                    (Operation::Update, None) => false,
                },
                "resize" => a.operation == Operation::Update,
                _ => false,
            },
            // A service type can change; a claim can grow.
            Self::Services | Self::PersistentVolumeClaims => true,
            Self::ObjectCount { .. } => {
                a.subresource.is_empty() && a.operation == Operation::Create
            }
        }
    }

    /// `MatchingResources`: the names of `input` this evaluator tracks.
    pub fn matching_resources(&self, input: &[String]) -> Vec<String> {
        match self {
            Self::Pods => {
                let mut out: Vec<String> = input
                    .iter()
                    .filter(|r| POD_RESOURCES.contains(&r.as_str()))
                    .cloned()
                    .collect();
                for r in input {
                    if POD_RESOURCE_PREFIXES.iter().any(|p| r.starts_with(p)) {
                        out.push(r.clone());
                    }
                    if is_extended_resource_name_for_quota(r) {
                        out.push(r.clone());
                    }
                }
                out
            }
            Self::Services => input
                .iter()
                .filter(|r| SERVICE_RESOURCES.contains(&r.as_str()))
                .cloned()
                .collect(),
            Self::PersistentVolumeClaims => input
                .iter()
                .filter(|r| {
                    r.as_str() == "count/persistentvolumeclaims"
                        || PVC_RESOURCES.contains(&r.as_str())
                        || PVC_RESOURCES
                            .iter()
                            .any(|p| r.ends_with(&format!("{STORAGE_CLASS_SUFFIX}{p}")))
                })
                .cloned()
                .collect(),
            Self::ObjectCount { resource_names } => input
                .iter()
                .filter(|r| resource_names.contains(r))
                .cloned()
                .collect(),
        }
    }

    /// Whether `obj` is in the scope `selector` names (`podMatchesScopeFunc`; other
    /// evaluators match no scope).
    pub fn matches_scope(&self, selector: &ScopeRequirement, obj: &Value) -> bool {
        if *self != Self::Pods {
            return false;
        }
        match selector.scope_name.as_str() {
            "Terminating" => is_terminating(obj),
            "NotTerminating" => !is_terminating(obj),
            "BestEffort" => crate::defaults::qos_class(obj) == "BestEffort",
            "NotBestEffort" => crate::defaults::qos_class(obj) != "BestEffort",
            "PriorityClass" => {
                let class = obj["spec"]["priorityClassName"].as_str().unwrap_or("");
                // The selector is evaluated over the label set {PriorityClass: class}.
                let present = !class.is_empty();
                match selector.operator.as_str() {
                    "Exists" => present,
                    "DoesNotExist" => !present,
                    "In" => present && selector.values.iter().any(|v| v == class),
                    "NotIn" => !present || !selector.values.iter().any(|v| v == class),
                    _ => false,
                }
            }
            "CrossNamespacePodAffinity" => uses_cross_namespace_pod_affinity(obj),
            _ => false,
        }
    }

    /// The scope requirements `obj` satisfies (`MatchingScopes`).
    pub fn matching_scopes(
        &self,
        obj: &Value,
        selectors: &[ScopeRequirement],
    ) -> Vec<ScopeRequirement> {
        selectors
            .iter()
            .filter(|s| self.matches_scope(s, obj))
            .cloned()
            .collect()
    }

    /// `generic.Matches`: the quota tracks one of this evaluator's resources and `obj` is in
    /// every scope of the quota.
    pub fn matches(&self, quota: &Value, obj: &Value) -> bool {
        let hard = names(&resource_list(&quota["status"]["hard"]));
        !self.matching_resources(&hard).is_empty()
            && scope_selectors(quota)
                .iter()
                .all(|s| self.matches_scope(s, obj))
    }

    /// `Constraints`: with a quota on cpu or memory, every container must set it
    /// ("must specify limits.cpu for: a,b; requests.memory for: c").
    pub fn constraints(&self, required: &[String], obj: &Value) -> Result<(), String> {
        if *self != Self::Pods {
            return Ok(());
        }
        // Pod-level resources make container values optional.
        if POD_LEVEL_RESOURCE_FIELDS.iter().any(|f| {
            resource_list(&obj["spec"]["resources"][f])
                .keys()
                .any(|k| k == "cpu" || k == "memory")
        }) {
            return Ok(());
        }
        let required: Vec<&String> = required
            .iter()
            .filter(|r| VALIDATION_SET.contains(&r.as_str()))
            .collect();
        let mut missing: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            std::collections::BTreeMap::new();
        for field in ["containers", "initContainers"] {
            for c in obj["spec"][field].as_array().into_iter().flatten() {
                let usage = compute_usage(
                    &resource_list(&c["resources"]["requests"]),
                    &resource_list(&c["resources"]["limits"]),
                );
                for r in &required {
                    if !usage.contains_key(*r) {
                        missing
                            .entry((*r).clone())
                            .or_default()
                            .insert(c["name"].as_str().unwrap_or("").to_string());
                    }
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = missing
            .iter()
            .map(|(r, cs)| {
                format!(
                    "{r} for: {}",
                    cs.iter().cloned().collect::<Vec<_>>().join(",")
                )
            })
            .collect();
        Err(format!("must specify {}", parts.join("; ")))
    }

    /// `Usage`: what `obj` consumes.
    pub fn usage(&self, obj: &Value, now: Timestamp) -> ResourceList {
        match self {
            Self::Pods => pod_usage(obj, now),
            Self::Services => service_usage(obj),
            Self::PersistentVolumeClaims => pvc_usage(obj),
            Self::ObjectCount { resource_names } => {
                resource_names.iter().map(|n| (n.clone(), one())).collect()
            }
        }
    }
}

const POD_LEVEL_RESOURCE_FIELDS: &[&str] = &["requests", "limits"];

/// `IsTerminating`: `activeDeadlineSeconds >= 0`.
pub fn is_terminating(pod: &Value) -> bool {
    pod["spec"]["activeDeadlineSeconds"]
        .as_i64()
        .is_some_and(|s| s >= 0)
}

fn uses_cross_namespace_pod_affinity(pod: &Value) -> bool {
    let cross = |term: &Value| {
        term["namespaces"].as_array().is_some_and(|n| !n.is_empty())
            || !term["namespaceSelector"].is_null()
    };
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let a = &pod["spec"]["affinity"][kind];
        a["requiredDuringSchedulingIgnoredDuringExecution"]
            .as_array()
            .into_iter()
            .flatten()
            .any(cross)
            || a["preferredDuringSchedulingIgnoredDuringExecution"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|w| cross(&w["podAffinityTerm"]))
    })
}

/// `QuotaV1Pod`: not terminal, and not past its deletion grace period.
pub fn pod_counts(pod: &Value, now: Timestamp) -> bool {
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    if phase == "Failed" || phase == "Succeeded" {
        return false;
    }
    if let (Some(deleted), Some(grace)) = (
        pod["metadata"]["deletionTimestamp"].as_str(),
        pod["metadata"]["deletionGracePeriodSeconds"].as_i64(),
    ) && let Ok(at) = deleted.parse::<Timestamp>()
        && now > at + jiff::SignedDuration::from_secs(grace)
    {
        return false;
    }
    true
}

/// `podComputeUsageHelper`.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".into(), one());
    for (res, req_name, lim_name) in [
        ("cpu", "requests.cpu", "limits.cpu"),
        ("memory", "requests.memory", "limits.memory"),
        (
            "ephemeral-storage",
            "requests.ephemeral-storage",
            "limits.ephemeral-storage",
        ),
    ] {
        if let Some(q) = requests.get(res) {
            out.insert(res.into(), q.clone());
            out.insert(req_name.into(), q.clone());
        }
        if let Some(q) = limits.get(res) {
            out.insert(lim_name.into(), q.clone());
        }
    }
    for (name, q) in requests {
        if name.starts_with("hugepages-") {
            out.insert(name.clone(), q.clone());
            out.insert(format!("requests.{name}"), q.clone());
        }
        if is_extended_resource_name(name) {
            out.insert(format!("requests.{name}"), q.clone());
        }
    }
    out
}

/// `PodUsageFunc`: `count/pods` always; compute resources while the pod counts.
pub fn pod_usage(pod: &Value, now: Timestamp) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/pods".into(), one());
    if !pod_counts(pod, now) {
        return out;
    }
    let mut requests = pod_aggregate(pod, "requests");
    let mut limits = pod_aggregate(pod, "limits");
    // component-helpers PodRequests/PodLimits add the overhead (to limits only where set).
    for (k, q) in resource_list(&pod["spec"]["overhead"]) {
        match requests.get_mut(&k) {
            Some(v) => v.add(&q),
            None => {
                requests.insert(k.clone(), q.clone());
            }
        }
        if let Some(v) = limits.get_mut(&k) {
            v.add(&q);
        }
    }
    add(&out, &compute_usage(&requests, &limits))
}

/// The service usage (`serviceEvaluator.Usage`).
pub fn service_usage(svc: &Value) -> ResourceList {
    let ports = svc["spec"]["ports"].as_array().map_or(0, Vec::len) as i64;
    let mut out = ResourceList::new();
    out.insert("count/services".into(), one());
    out.insert("services".into(), one());
    let (node_ports, load_balancers) = match svc["spec"]["type"].as_str().unwrap_or("") {
        "NodePort" => (ports, 0),
        "LoadBalancer" => (ports, 1),
        _ => (0, 0),
    };
    out.insert(
        "services.loadbalancers".into(),
        Quantity::new(load_balancers, Format::DecimalSI),
    );
    out.insert(
        "services.nodeports".into(),
        Quantity::new(node_ports, Format::DecimalSI),
    );
    out
}

/// `GetPersistentVolumeClaimClass`: the beta annotation, else `spec.storageClassName`.
fn claim_class(pvc: &Value) -> &str {
    pvc["metadata"]["annotations"][super::storageclass::BETA_STORAGE_CLASS_ANNOTATION]
        .as_str()
        .or_else(|| pvc["spec"]["storageClassName"].as_str())
        .unwrap_or("")
}

/// The claim usage (`pvcEvaluator.Usage`): storage rounded up to whole bytes, and the larger
/// `status.allocatedResources` when set (`RecoverVolumeExpansionFailure`, GA).
pub fn pvc_usage(pvc: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("persistentvolumeclaims".into(), one());
    out.insert("count/persistentvolumeclaims".into(), one());
    let class = claim_class(pvc);
    if !class.is_empty() {
        out.insert(
            format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"),
            one(),
        );
    }
    let round_up = |q: &Quantity| {
        let mut r = q.clone();
        r.round_up(0);
        r
    };
    let mut storage = resource_list(&pvc["spec"]["resources"]["requests"])
        .get("storage")
        .map(round_up);
    if let (Some(requested), Some(allocated)) = (
        storage.as_ref(),
        resource_list(&pvc["status"]["allocatedResources"]).get("storage"),
    ) && allocated > requested
    {
        storage = Some(round_up(allocated));
    }
    if let Some(q) = storage {
        if !class.is_empty() {
            out.insert(
                format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"),
                q.clone(),
            );
        }
        out.insert("requests.storage".into(), q);
    }
    out
}

/// `hasUsageStats`: every restricted hard resource has a used value.
fn has_usage_stats(quota: &Value, restricted: &[String]) -> bool {
    let used = resource_list(&quota["status"]["used"]);
    resource_list(&quota["status"]["hard"])
        .keys()
        .filter(|k| restricted.contains(k))
        .all(|k| used.contains_key(k))
}

/// `CheckRequest`: the quotas as they would be after the request, or why it is refused.
/// The returned quotas are in the input order; only `status.used` changes.
pub fn check_request(
    quotas: &[Value],
    a: &Attributes<'_>,
    evaluator: &Evaluator,
    now: Timestamp,
) -> Result<Vec<Value>, QuotaError> {
    if !evaluator.handles(a) {
        return Ok(quotas.to_vec());
    }
    let obj = a.object;
    let mut interesting = Vec::new();
    for (i, quota) in quotas.iter().enumerate() {
        if !evaluator.matches(quota, obj) {
            continue;
        }
        let name = crate::object::name(quota);
        let hard = names(&resource_list(&quota["status"]["hard"]));
        let restricted = evaluator.matching_resources(&hard);
        evaluator
            .constraints(&restricted, obj)
            .map_err(|e| QuotaError::Forbidden(format!("failed quota: {name}: {e}")))?;
        if !has_usage_stats(quota, &restricted) {
            let mut sorted = restricted.clone();
            sorted.sort();
            sorted.dedup();
            return Err(QuotaError::Forbidden(format!(
                "status unknown for quota: {name}, resources: {}",
                sorted.join(",")
            )));
        }
        interesting.push(i);
    }
    if interesting.is_empty() {
        return Ok(quotas.to_vec());
    }
    let input_usage = evaluator.usage(obj, now);
    let negative = negative_names(&input_usage);
    if !negative.is_empty() {
        return Err(QuotaError::Forbidden(format!(
            "quota usage is negative for resource(s): {}",
            negative.join(",")
        )));
    }
    let mut deltas: Vec<(usize, ResourceList)> = interesting
        .iter()
        .map(|&i| (i, input_usage.clone()))
        .collect();
    if a.operation == Operation::Update {
        let Some(old) = a.old_object else {
            return Err(QuotaError::Forbidden(
                "unable to get previous usage since prior version of object was not found".into(),
            ));
        };
        let delta = subtract_non_negative(&input_usage, &evaluator.usage(old, now));
        for (i, d) in &mut deltas {
            if evaluator.matches(&quotas[*i], old) {
                *d = delta.clone();
            }
        }
    }
    let deltas: Vec<(usize, ResourceList)> = deltas
        .into_iter()
        .map(|(i, d)| (i, remove_zeros(&d)))
        .filter(|(_, d)| !d.is_empty())
        .collect();
    if deltas.is_empty() {
        return Ok(quotas.to_vec());
    }
    let mut out = quotas.to_vec();
    for (i, delta) in deltas {
        let quota = &quotas[i];
        let hard = resource_list(&quota["status"]["hard"]);
        let used = resource_list(&quota["status"]["used"]);
        let requested = mask(&delta, &names(&hard));
        let new_used = add(&used, &requested);
        if a.subresource != "status" {
            let masked = mask(&new_used, &names(&requested));
            let (allowed, exceeded) = less_than_or_equal(&masked, &hard);
            if !allowed {
                return Err(QuotaError::Forbidden(format!(
                    "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                    crate::object::name(quota),
                    pretty_print(&mask(&requested, &exceeded)),
                    pretty_print(&mask(&used, &exceeded)),
                    pretty_print(&mask(&hard, &exceeded)),
                )));
            }
        }
        resource_json_into(&mut out[i], "used", &new_used);
    }
    Ok(out)
}

/// The evaluators the quota controller runs (`NewEvaluators` plus one object count
/// evaluator per `count/<resource>.<group>` a quota names).
pub fn controller_evaluators(hard: &[String]) -> Vec<(String, String, Evaluator)> {
    let mut out = vec![
        ("".to_string(), "pods".to_string(), Evaluator::Pods),
        ("".to_string(), "services".to_string(), Evaluator::Services),
        (
            "".to_string(),
            "persistentvolumeclaims".to_string(),
            Evaluator::PersistentVolumeClaims,
        ),
    ];
    let mut counted: Vec<(String, String)> = Vec::new();
    for legacy in [
        "configmaps",
        "resourcequotas",
        "replicationcontrollers",
        "secrets",
    ] {
        counted.push((String::new(), legacy.to_string()));
    }
    for name in hard {
        let Some(rest) = name.strip_prefix("count/") else {
            continue;
        };
        let (resource, group) = rest.split_once('.').unwrap_or((rest, ""));
        let key = (group.to_string(), resource.to_string());
        if !counted.contains(&key)
            && !matches!(
                (group, resource),
                ("", "pods" | "services" | "persistentvolumeclaims")
            )
        {
            counted.push(key);
        }
    }
    for (group, resource) in counted {
        if let Some(e) = Evaluator::for_resource(&group, &resource) {
            out.push((group, resource, e));
        }
    }
    out
}

/// `CalculateUsage`: the usage of a quota's hard resources in its namespace.
/// `list(group, resource)` returns the namespace's objects of a resource, or `None` when it
/// cannot (those resources are left out, as upstream excludes failed evaluators).
pub fn calculate_usage(
    quota: &Value,
    now: Timestamp,
    list: &dyn Fn(&str, &str) -> Option<Vec<Value>>,
) -> ResourceList {
    let hard = names(&resource_list(&quota["spec"]["hard"]));
    let selectors = scope_selectors(quota);
    let mut matched: Vec<String> = Vec::new();
    let mut usage = ResourceList::new();
    for (group, resource, evaluator) in controller_evaluators(&hard) {
        let intersection = evaluator.matching_resources(&hard);
        if intersection.is_empty() {
            continue;
        }
        let Some(items) = list(&group, &resource) else {
            continue;
        };
        // `CalculateUsageStats`: every tracked resource starts at zero.
        let mut used: ResourceList = intersection
            .iter()
            .map(|r| (r.clone(), Quantity::new(0, Format::DecimalSI)))
            .collect();
        for item in &items {
            if selectors.iter().all(|s| evaluator.matches_scope(s, item)) {
                used = add(&used, &evaluator.usage(item, now));
            }
        }
        usage = add(&usage, &used);
        matched.extend(intersection);
    }
    mask(&usage, &matched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rl(pairs: &[(&str, &str)]) -> ResourceList {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity::parse(v).expect("quantity")))
            .collect()
    }

    fn epoch() -> Timestamp {
        Timestamp::from_second(1_735_689_600).expect("epoch")
    }

    /// Upstream: staging/src/k8s.io/apiserver/pkg/quota/v1/resources_test.go
    /// (`TestEquals`, `TestAdd`, `TestSubtractWithNonNegativeResult`, `TestLessThanOrEqual`,
    /// `TestMask`, `TestRemoveZeros`, `TestIsNegative`).
    #[test]
    fn resource_list_helpers() {
        assert!(equals(&rl(&[]), &rl(&[])));
        assert!(equals(&rl(&[("cpu", "100m")]), &rl(&[("cpu", "0.1")])));
        assert!(!equals(
            &rl(&[("cpu", "100m")]),
            &rl(&[("cpu", "100m"), ("memory", "1Gi")])
        ));
        assert!(!equals(&rl(&[("cpu", "100m")]), &rl(&[("cpu", "200m")])));
        let sum = add(
            &rl(&[("cpu", "100m")]),
            &rl(&[("cpu", "100m"), ("memory", "1Gi")]),
        );
        assert!(equals(&sum, &rl(&[("cpu", "200m"), ("memory", "1Gi")])));
        let diff = subtract_non_negative(
            &rl(&[("cpu", "100m")]),
            &rl(&[("cpu", "200m"), ("memory", "1Gi")]),
        );
        assert!(equals(&diff, &rl(&[("cpu", "0"), ("memory", "0")])));
        let diff = subtract_non_negative(&rl(&[("cpu", "300m")]), &rl(&[("cpu", "200m")]));
        assert!(equals(&diff, &rl(&[("cpu", "100m")])));
        let (ok, exceeded) = less_than_or_equal(
            &rl(&[("cpu", "2"), ("memory", "1Gi")]),
            &rl(&[("cpu", "1"), ("memory", "2Gi")]),
        );
        assert!(!ok);
        assert_eq!(exceeded, vec!["cpu".to_string()]);
        assert!(less_than_or_equal(&rl(&[("cpu", "1")]), &rl(&[("memory", "1")])).0);
        assert!(equals(
            &mask(&rl(&[("cpu", "1"), ("memory", "1")]), &["cpu".into()]),
            &rl(&[("cpu", "1")])
        ));
        assert!(equals(
            &remove_zeros(&rl(&[("cpu", "0"), ("memory", "1")])),
            &rl(&[("memory", "1")])
        ));
        assert_eq!(
            negative_names(&rl(&[("cpu", "-1"), ("memory", "1")])),
            vec!["cpu".to_string()]
        );
        assert_eq!(
            pretty_print(&rl(&[("memory", "1Gi"), ("cpu", "1")])),
            "cpu=1,memory=1Gi"
        );
    }

    #[test]
    fn object_count_names() {
        // Upstream: quota/v1/generic/evaluator.go ObjectCountQuotaResourceNameFor.
        assert_eq!(object_count_name("", "pods"), "count/pods");
        assert_eq!(
            object_count_name("apps", "deployments"),
            "count/deployments.apps"
        );
        assert_eq!(Evaluator::for_resource("", "events"), None);
        assert_eq!(
            Evaluator::for_resource("", "secrets"),
            Some(Evaluator::ObjectCount {
                resource_names: vec!["count/secrets".into(), "secrets".into()]
            })
        );
    }

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": spec})
    }

    /// A case name, a pod, and its expected usage.
    type UsageCase = (&'static str, Value, Vec<(&'static str, &'static str)>);

    /// Upstream: pkg/quota/v1/evaluator/core/pods_test.go `TestPodEvaluatorUsage`.
    #[test]
    fn pod_usage_table() {
        let cases: Vec<UsageCase> = vec![
            (
                "init container CPU",
                pod(
                    json!({"initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1m"}, "limits": {"cpu": "2m"}}}]}),
                ),
                vec![
                    ("requests.cpu", "1m"),
                    ("limits.cpu", "2m"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                    ("cpu", "1m"),
                ],
            ),
            (
                "init container MEM",
                pod(
                    json!({"initContainers": [{"name": "i", "resources": {"requests": {"memory": "1m"}, "limits": {"memory": "2m"}}}]}),
                ),
                vec![
                    ("requests.memory", "1m"),
                    ("limits.memory", "2m"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                    ("memory", "1m"),
                ],
            ),
            (
                "init container local ephemeral storage",
                pod(
                    json!({"initContainers": [{"name": "i", "resources": {"requests": {"ephemeral-storage": "32Mi"}, "limits": {"ephemeral-storage": "64Mi"}}}]}),
                ),
                vec![
                    ("ephemeral-storage", "32Mi"),
                    ("requests.ephemeral-storage", "32Mi"),
                    ("limits.ephemeral-storage", "64Mi"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                ],
            ),
            (
                "init container hugepages",
                pod(
                    json!({"initContainers": [{"name": "i", "resources": {"requests": {"hugepages-2Mi": "100Mi"}}}]}),
                ),
                vec![
                    ("hugepages-2Mi", "100Mi"),
                    ("requests.hugepages-2Mi", "100Mi"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                ],
            ),
            (
                "init container extended resources",
                pod(
                    json!({"initContainers": [{"name": "i", "resources": {"requests": {"example.com/dongle": "3"}, "limits": {"example.com/dongle": "3"}}}]}),
                ),
                vec![
                    ("requests.example.com/dongle", "3"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                ],
            ),
            (
                "container CPU",
                pod(
                    json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1m"}, "limits": {"cpu": "2m"}}}]}),
                ),
                vec![
                    ("requests.cpu", "1m"),
                    ("limits.cpu", "2m"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                    ("cpu", "1m"),
                ],
            ),
            (
                "terminated generic count still appears",
                json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}, "status": {"phase": "Succeeded"}}),
                vec![("count/pods", "1")],
            ),
            (
                "init container maximums override sum of containers",
                pod(json!({
                "initContainers": [
                    {"name": "i1", "resources": {"requests": {"cpu": "4", "memory": "100M", "example.com/dongle": "4"}, "limits": {"cpu": "8", "memory": "200M", "example.com/dongle": "4"}}},
                    {"name": "i2", "resources": {"requests": {"cpu": "1", "memory": "50M", "example.com/dongle": "2"}, "limits": {"cpu": "2", "memory": "100M", "example.com/dongle": "2"}}}],
                "containers": [
                    {"name": "c1", "resources": {"requests": {"cpu": "1", "memory": "50M", "example.com/dongle": "1"}, "limits": {"cpu": "2", "memory": "100M", "example.com/dongle": "1"}}},
                    {"name": "c2", "resources": {"requests": {"cpu": "2", "memory": "25M", "example.com/dongle": "3"}, "limits": {"cpu": "5", "memory": "50M", "example.com/dongle": "3"}}}]})),
                vec![
                    ("requests.cpu", "4"),
                    ("requests.memory", "100M"),
                    ("requests.example.com/dongle", "4"),
                    ("limits.cpu", "8"),
                    ("limits.memory", "200M"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                    ("cpu", "4"),
                    ("memory", "100M"),
                ],
            ),
            (
                "pod overhead",
                pod(
                    json!({"overhead": {"cpu": "1", "memory": "1Gi"}, "containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}}]}),
                ),
                vec![
                    ("requests.cpu", "2"),
                    ("requests.memory", "2Gi"),
                    ("limits.cpu", "3"),
                    ("limits.memory", "3Gi"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                    ("cpu", "2"),
                    ("memory", "2Gi"),
                ],
            ),
            (
                "sidecar adds to containers",
                pod(json!({
                "initContainers": [{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}}],
                "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}}]})),
                vec![
                    ("requests.cpu", "2"),
                    ("limits.cpu", "4"),
                    ("pods", "1"),
                    ("count/pods", "1"),
                    ("cpu", "2"),
                ],
            ),
        ];
        for (name, obj, expected) in cases {
            let got = pod_usage(&obj, epoch());
            assert!(equals(&got, &rl(&expected)), "{name}: {got:?}");
        }
    }

    /// Upstream: pods_test.go `TestPodEvaluatorUsage` "pod deletion timestamp exceeded".
    #[test]
    fn pods_past_their_grace_period_stop_counting() {
        let p = json!({"metadata": {"name": "p", "deletionTimestamp": "2025-01-01T00:00:00Z", "deletionGracePeriodSeconds": 30},
                       "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}});
        let before = "2025-01-01T00:00:10Z".parse().expect("t");
        let after = "2025-01-01T00:01:00Z".parse().expect("t");
        assert!(pod_usage(&p, before).contains_key("cpu"));
        assert!(equals(&pod_usage(&p, after), &rl(&[("count/pods", "1")])));
    }

    /// Upstream: pods_test.go `TestPodEvaluatorMatchingScopes` (scope table).
    #[test]
    fn pod_scopes() {
        let best_effort = pod(json!({"containers": [{"name": "c"}]}));
        let burstable_terminating = pod(
            json!({"activeDeadlineSeconds": 10, "priorityClassName": "high",
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}),
        );
        let req = |scope: &str, op: &str, values: &[&str]| ScopeRequirement {
            scope_name: scope.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let cases = [
            (&best_effort, req("BestEffort", "Exists", &[]), true),
            (&best_effort, req("NotBestEffort", "Exists", &[]), false),
            (&best_effort, req("NotTerminating", "Exists", &[]), true),
            (&best_effort, req("Terminating", "Exists", &[]), false),
            (&best_effort, req("PriorityClass", "Exists", &[]), false),
            (
                &best_effort,
                req("PriorityClass", "DoesNotExist", &[]),
                true,
            ),
            (&best_effort, req("PriorityClass", "NotIn", &["high"]), true),
            (
                &burstable_terminating,
                req("Terminating", "Exists", &[]),
                true,
            ),
            (
                &burstable_terminating,
                req("NotBestEffort", "Exists", &[]),
                true,
            ),
            (
                &burstable_terminating,
                req("PriorityClass", "In", &["low", "high"]),
                true,
            ),
            (
                &burstable_terminating,
                req("PriorityClass", "NotIn", &["high"]),
                false,
            ),
            (
                &burstable_terminating,
                req("PriorityClass", "Exists", &[]),
                true,
            ),
        ];
        for (i, (obj, selector, expected)) in cases.iter().enumerate() {
            assert_eq!(
                Evaluator::Pods.matches_scope(selector, obj),
                *expected,
                "case {i}"
            );
        }
    }

    /// Upstream: services_test.go `TestServiceEvaluatorUsage`.
    #[test]
    fn service_usage_table() {
        let cases = [
            (
                json!({"spec": {"type": "ClusterIP"}}),
                vec![
                    ("services", "1"),
                    ("count/services", "1"),
                    ("services.loadbalancers", "0"),
                    ("services.nodeports", "0"),
                ],
            ),
            (
                json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 27443}]}}),
                vec![
                    ("services", "1"),
                    ("count/services", "1"),
                    ("services.loadbalancers", "1"),
                    ("services.nodeports", "1"),
                ],
            ),
            (
                json!({"spec": {"type": "NodePort", "ports": [{"port": 27443}, {"port": 27444}]}}),
                vec![
                    ("services", "1"),
                    ("count/services", "1"),
                    ("services.loadbalancers", "0"),
                    ("services.nodeports", "2"),
                ],
            ),
        ];
        for (svc, expected) in cases {
            assert!(equals(&service_usage(&svc), &rl(&expected)), "{svc}");
        }
    }

    /// Upstream: persistent_volume_claims_test.go `TestPersistentVolumeClaimEvaluatorUsage`
    /// and `TestPersistentVolumeClaimEvaluatorMatchingResources`.
    #[test]
    fn pvc_usage_table() {
        let claim = json!({"spec": {"resources": {"requests": {"storage": "10Gi"}}}});
        assert!(equals(
            &pvc_usage(&claim),
            &rl(&[
                ("requests.storage", "10Gi"),
                ("persistentvolumeclaims", "1"),
                ("count/persistentvolumeclaims", "1")
            ])
        ));
        let gold = json!({"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "10Gi"}}}});
        assert!(equals(
            &pvc_usage(&gold),
            &rl(&[
                ("requests.storage", "10Gi"),
                ("persistentvolumeclaims", "1"),
                ("count/persistentvolumeclaims", "1"),
                ("gold.storageclass.storage.k8s.io/requests.storage", "10Gi"),
                (
                    "gold.storageclass.storage.k8s.io/persistentvolumeclaims",
                    "1"
                )
            ])
        ));
        let fractional = json!({"spec": {"resources": {"requests": {"storage": "1.5"}}}});
        assert_eq!(pvc_usage(&fractional)["requests.storage"].to_string(), "2");
        let allocated = json!({"spec": {"resources": {"requests": {"storage": "10Gi"}}}, "status": {"allocatedResources": {"storage": "20Gi"}}});
        assert_eq!(
            pvc_usage(&allocated)["requests.storage"].to_string(),
            "20Gi"
        );
        let input: Vec<String> = [
            "count/persistentvolumeclaims",
            "requests.storage",
            "persistentvolumeclaims",
            "gold.storageclass.storage.k8s.io/requests.storage",
            "gold.storageclass.storage.k8s.io/persistentvolumeclaims",
            "foo.storageclass.storage.k8s.io/bar",
            "requests.cpu",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            Evaluator::PersistentVolumeClaims
                .matching_resources(&input)
                .len(),
            5
        );
    }

    fn quota(name: &str, hard: Value, used: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"hard": hard},
               "status": {"hard": hard, "used": used}})
    }

    fn create<'a>(obj: &'a Value) -> Attributes<'a> {
        Attributes {
            operation: Operation::Create,
            subresource: "",
            object: obj,
            old_object: None,
        }
    }

    fn cpu_pod(cpu: &str, memory: &str) -> Value {
        pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}}]}),
        )
    }

    /// Upstream: plugin/resourcequota/admission_test.go `TestAdmitBelowQuotaLimit`,
    /// `TestAdmitExceedQuotaLimit`, `TestAdmitEnforceQuotaConstraints`,
    /// `TestAdmitPodInNamespaceWithoutQuota`, `TestAdmitBelowTerminatingQuotaLimit`,
    /// `TestAdmitBelowBestEffortQuotaLimit`, `TestAdmitBestEffortQuotaLimitIgnoresBurstable`,
    /// `TestHasUsageStats`, `TestAdmissionSetsMissingNamespace` (as tables).
    #[test]
    fn check_request_table() {
        let q = quota(
            "quota",
            json!({"cpu": "3", "memory": "100Gi", "pods": "5"}),
            json!({"cpu": "1", "memory": "50Gi", "pods": "3"}),
        );
        // Below the limit: used grows by the pod's usage.
        let p = cpu_pod("100m", "2Gi");
        let out = check_request(
            std::slice::from_ref(&q),
            &create(&p),
            &Evaluator::Pods,
            epoch(),
        )
        .expect("admit");
        assert_eq!(
            out[0]["status"]["used"],
            json!({"cpu": "1100m", "memory": "52Gi", "pods": "4"})
        );
        // Above it: the exact message.
        let p = cpu_pod("3", "2Gi");
        let err = check_request(
            std::slice::from_ref(&q),
            &create(&p),
            &Evaluator::Pods,
            epoch(),
        )
        .expect_err("deny");
        assert_eq!(
            err,
            QuotaError::Forbidden(
                "exceeded quota: quota, requested: cpu=3, used: cpu=1, limited: cpu=3".into()
            )
        );
        // Constraints: a quota on cpu and memory requires them on every container.
        let p = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"memory": "1Gi"}}}]}),
        );
        let err = check_request(
            std::slice::from_ref(&q),
            &create(&p),
            &Evaluator::Pods,
            epoch(),
        )
        .expect_err("deny");
        assert_eq!(
            err,
            QuotaError::Forbidden("failed quota: quota: must specify cpu for: c".into())
        );
        let q2 = quota(
            "q2",
            json!({"limits.cpu": "3", "requests.memory": "1Gi"}),
            json!({"limits.cpu": "0", "requests.memory": "0"}),
        );
        let p =
            pod(json!({"containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "x"}]}));
        let err = check_request(&[q2], &create(&p), &Evaluator::Pods, epoch()).expect_err("deny");
        assert_eq!(
            err,
            QuotaError::Forbidden(
                "failed quota: q2: must specify limits.cpu for: a,b; requests.memory for: a,b"
                    .into()
            )
        );
        // Status unknown until the controller computed usage.
        let unsynced = json!({"metadata": {"name": "fresh"}, "spec": {"hard": {"pods": "1"}}, "status": {"hard": {"pods": "1"}}});
        let p = cpu_pod("1", "1Gi");
        let err =
            check_request(&[unsynced], &create(&p), &Evaluator::Pods, epoch()).expect_err("deny");
        assert_eq!(
            err,
            QuotaError::Forbidden("status unknown for quota: fresh, resources: pods".into())
        );
        // A quota on other resources does not apply.
        let services = quota("svc", json!({"services": "1"}), json!({"services": "1"}));
        let out = check_request(
            std::slice::from_ref(&services),
            &create(&p),
            &Evaluator::Pods,
            epoch(),
        )
        .expect("admit");
        assert_eq!(out[0], services);
        // Scopes: a Terminating quota ignores non-terminating pods; BestEffort ignores burstable.
        let mut terminating = quota("t", json!({"pods": "1"}), json!({"pods": "1"}));
        terminating["spec"]["scopes"] = json!(["Terminating"]);
        let out = check_request(
            std::slice::from_ref(&terminating),
            &create(&p),
            &Evaluator::Pods,
            epoch(),
        )
        .expect("admit");
        assert_eq!(out[0], terminating);
        let t = pod(json!({"activeDeadlineSeconds": 60, "containers": [{"name": "c"}]}));
        let err = check_request(&[terminating], &create(&t), &Evaluator::Pods, epoch())
            .expect_err("deny");
        assert_eq!(
            err,
            QuotaError::Forbidden(
                "exceeded quota: t, requested: pods=1, used: pods=1, limited: pods=1".into()
            )
        );
        let mut best_effort = quota("be", json!({"pods": "5"}), json!({"pods": "3"}));
        best_effort["spec"]["scopes"] = json!(["BestEffort"]);
        let out = check_request(
            std::slice::from_ref(&best_effort),
            &create(&p),
            &Evaluator::Pods,
            epoch(),
        )
        .expect("admit");
        assert_eq!(out[0], best_effort);
        let be = pod(json!({"containers": [{"name": "c"}]}));
        let out =
            check_request(&[best_effort], &create(&be), &Evaluator::Pods, epoch()).expect("admit");
        assert_eq!(out[0]["status"]["used"], json!({"pods": "4"}));
    }

    /// Upstream: admission_test.go `TestAdmitBelowQuotaLimitWhenPodScaledDown`-style update
    /// deltas and `TestAdmitHandlesOldObjects` (services changing type).
    #[test]
    fn updates_charge_the_delta() {
        let q = quota(
            "quota",
            json!({"services": "10", "services.loadbalancers": "1", "services.nodeports": "10"}),
            json!({"services": "1", "services.loadbalancers": "0", "services.nodeports": "0"}),
        );
        let old = json!({"metadata": {"name": "s", "resourceVersion": "1"}, "spec": {"type": "ClusterIP", "ports": [{"port": 1}]}});
        let new = json!({"metadata": {"name": "s", "resourceVersion": "1"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 1}]}});
        let a = Attributes {
            operation: Operation::Update,
            subresource: "",
            object: &new,
            old_object: Some(&old),
        };
        let out = check_request(&[q], &a, &Evaluator::Services, epoch()).expect("admit");
        assert_eq!(
            out[0]["status"]["used"],
            json!({"services": "1", "services.loadbalancers": "1", "services.nodeports": "1"})
        );
    }

    /// Upstream: admission_test.go `TestAdmitLimitedScopeWithCoverQuota` (PriorityClass
    /// scope selector) and the object count evaluator (`TestAdmitExceedQuotaLimit` on
    /// `count/...`).
    #[test]
    fn priority_class_and_object_counts() {
        let mut q = quota("pc", json!({"pods": "1"}), json!({"pods": "1"}));
        q["spec"]["scopeSelector"] = json!({"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["cluster-services"]}]});
        let low = pod(json!({"priorityClassName": "low", "containers": [{"name": "c"}]}));
        assert!(
            check_request(
                std::slice::from_ref(&q),
                &create(&low),
                &Evaluator::Pods,
                epoch()
            )
            .is_ok()
        );
        let high =
            pod(json!({"priorityClassName": "cluster-services", "containers": [{"name": "c"}]}));
        assert!(check_request(&[q], &create(&high), &Evaluator::Pods, epoch()).is_err());
        let counts = quota(
            "c",
            json!({"count/deployments.apps": "1"}),
            json!({"count/deployments.apps": "1"}),
        );
        let deployment = json!({"metadata": {"name": "d"}});
        let evaluator = Evaluator::for_resource("apps", "deployments").expect("evaluator");
        let err =
            check_request(&[counts], &create(&deployment), &evaluator, epoch()).expect_err("deny");
        assert_eq!(err, QuotaError::Forbidden("exceeded quota: c, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1".into()));
    }

    /// Upstream: pkg/quota/v1/resources_test.go `TestCalculateUsage`-style sums over a
    /// namespace, with scopes.
    #[test]
    fn calculate_usage_sums_matching_objects() {
        let mut q = json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "10", "requests.cpu": "10", "count/configmaps": "5", "services": "3"}}});
        let pods = vec![
            cpu_pod("1", "1Gi"),
            cpu_pod("500m", "1Gi"),
            json!({"metadata": {"name": "done"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "4"}}}]}, "status": {"phase": "Failed"}}),
        ];
        let list = |group: &str, resource: &str| -> Option<Vec<Value>> {
            match (group, resource) {
                ("", "pods") => Some(pods.clone()),
                ("", "configmaps") => Some(vec![json!({}), json!({})]),
                _ => Some(Vec::new()),
            }
        };
        let used = calculate_usage(&q, epoch(), &list);
        assert!(
            equals(
                &used,
                &rl(&[
                    ("pods", "2"),
                    ("requests.cpu", "1500m"),
                    ("count/configmaps", "2"),
                    ("services", "0")
                ])
            ),
            "{used:?}"
        );
        q["spec"]["scopes"] = json!(["BestEffort"]);
        let used = calculate_usage(&q, epoch(), &list);
        // Services and object counts match no scope.
        assert!(
            equals(
                &used,
                &rl(&[
                    ("pods", "0"),
                    ("requests.cpu", "0"),
                    ("count/configmaps", "0"),
                    ("services", "0")
                ])
            ),
            "{used:?}"
        );
    }
}
