//! Resource arithmetic: the scheduler's integer `Resource` and the pod request computation
//! (containers, restartable init containers, init containers, pod-level requests, overhead,
//! status resources of resized pods, non-zero defaults).
//!
//! Upstream: staging/src/k8s.io/component-helpers/resource/helpers.go (`PodRequests`,
//! `AggregateContainerRequests`), pkg/scheduler/framework/types.go (`Resource`, `CalculateResource`,
//! `getNonMissingContainerRequests`), pkg/scheduler/util/utils.go (`IsScalarResourceName`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use kubetwin_core::quantity::{Format, Quantity};

use crate::error::InputError;

/// `cpu`.
pub const CPU: &str = "cpu";
/// `memory`.
pub const MEMORY: &str = "memory";
/// `ephemeral-storage`.
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// `pods`.
pub const PODS: &str = "pods";
/// The default CPU request (millicores) counted for a container without one (`DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The default memory request (bytes) counted for a container without one (`DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// A resource list with exact quantities, as `v1.ResourceList`.
pub type ResourceList = BTreeMap<String, Quantity>;

/// The scheduler's integer view of resources (`framework.Resource`): CPU in millicores, the
/// rest in units; scalar resources (extended, hugepages, attachable volumes) by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    /// CPU in millicores.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// Number of pods (only meaningful for allocatable).
    pub allowed_pod_number: i64,
    /// Scalar resources by name.
    pub scalar: BTreeMap<String, i64>,
}

impl Resource {
    /// Adds every resource of `list` (`Resource.Add`).
    pub fn add_list(&mut self, list: &ResourceList) {
        for (name, quantity) in list {
            match name.as_str() {
                CPU => self.milli_cpu += quantity.milli_value(),
                MEMORY => self.memory += quantity.value(),
                PODS => self.allowed_pod_number += quantity.value(),
                EPHEMERAL_STORAGE => self.ephemeral_storage += quantity.value(),
                other => {
                    if is_scalar_resource_name(other) {
                        *self.scalar.entry(other.to_owned()).or_insert(0) += quantity.value();
                    }
                }
            }
        }
    }

    /// Takes, per resource of `list`, the larger of the current and the listed value (`SetMaxResource`).
    pub fn set_max_list(&mut self, list: &ResourceList) {
        for (name, quantity) in list {
            match name.as_str() {
                MEMORY => self.memory = self.memory.max(quantity.value()),
                CPU => self.milli_cpu = self.milli_cpu.max(quantity.milli_value()),
                EPHEMERAL_STORAGE => {
                    self.ephemeral_storage = self.ephemeral_storage.max(quantity.value())
                }
                other => {
                    if is_scalar_resource_name(other) {
                        let entry = self.scalar.entry(other.to_owned()).or_insert(0);
                        *entry = (*entry).max(quantity.value());
                    }
                }
            }
        }
    }

    /// Builds a resource from a list (`NewResource`).
    pub fn from_list(list: &ResourceList) -> Self {
        let mut r = Resource::default();
        r.add_list(list);
        r
    }

    /// Adds `other` multiplied by `sign` (+1 or -1), as NodeInfo.update does.
    pub fn add_signed(&mut self, other: &Resource, sign: i64) {
        self.milli_cpu += sign * other.milli_cpu;
        self.memory += sign * other.memory;
        self.ephemeral_storage += sign * other.ephemeral_storage;
        for (name, value) in &other.scalar {
            *self.scalar.entry(name.clone()).or_insert(0) += sign * value;
        }
    }

    /// The value of a scalar resource (0 when absent).
    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar.get(name).copied().unwrap_or(0)
    }

    /// The integer value of `name` in the scheduler's units (0 when absent).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.allowed_pod_number,
            other => self.scalar(other),
        }
    }
}

/// What a pod adds to a node (`fwk.PodResource`): the requests and the non-zero CPU and memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodResource {
    /// The requests (status resources considered, overhead included).
    pub resource: Resource,
    /// CPU with the per-container default for containers that do not request it.
    pub non0_cpu: i64,
    /// Memory with the per-container default for containers that do not request it.
    pub non0_mem: i64,
}

/// Options of [`pod_requests`] (`PodResourcesOptions`).
#[derive(Debug, Clone, Default)]
pub struct PodResourcesOptions<'a> {
    /// Use the container status resources of resized pods (InPlacePodVerticalScaling).
    pub use_status_resources: bool,
    /// Leave pod overhead out.
    pub exclude_overhead: bool,
    /// Values to use for container requests that are absent (not for explicit zeros).
    pub non_missing_container_requests: Option<&'a ResourceList>,
    /// Ignore `spec.resources` (pod-level resources).
    pub skip_pod_level_resources: bool,
}

/// Whether `name` is one of the resources pod-level requests may set (`IsSupportedPodLevelResource`).
pub fn is_supported_pod_level_resource(name: &str) -> bool {
    name == CPU || name == MEMORY || name.starts_with("hugepages-")
}

/// Whether the pod sets pod-level requests for a supported resource (`IsPodLevelRequestsSet`).
pub fn is_pod_level_requests_set(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .is_some_and(|req| req.keys().any(|k| is_supported_pod_level_resource(k)))
}

/// Converts an API resource list, naming the field on error.
pub fn parse_list(
    list: Option<&BTreeMap<String, ApiQuantity>>,
    field: &str,
) -> Result<ResourceList, InputError> {
    parse_list_of(list, &|| field.to_owned())
}

/// [`parse_list`] with the field spelled only for an error: a pod's requests are worked out
/// several times per pod update, each container's field name a `format!` away.
fn parse_list_of(
    list: Option<&BTreeMap<String, ApiQuantity>>,
    field: &dyn Fn() -> String,
) -> Result<ResourceList, InputError> {
    let mut out = ResourceList::new();
    if let Some(list) = list {
        for (name, q) in list {
            let parsed = Quantity::parse(&q.0).map_err(|e| {
                InputError::field(format!("{}[{name}]", field()), format!("{e}: {:?}", q.0))
            })?;
            out.insert(name.clone(), parsed);
        }
    }
    Ok(out)
}

fn add_into(list: &mut ResourceList, other: &ResourceList) {
    for (name, q) in other {
        match list.get_mut(name) {
            Some(existing) => existing.add(q),
            None => {
                list.insert(name.clone(), q.clone());
            }
        }
    }
}

fn max_into(list: &mut ResourceList, other: &ResourceList) {
    for (name, q) in other {
        match list.get_mut(name) {
            Some(existing) => {
                if q > existing {
                    *existing = q.clone();
                }
            }
            None => {
                list.insert(name.clone(), q.clone());
            }
        }
    }
}

fn apply_non_missing(reqs: &ResourceList, non_missing: &ResourceList) -> ResourceList {
    let mut out = reqs.clone();
    for (name, q) in non_missing {
        if !reqs.contains_key(name) {
            out.insert(name.clone(), q.clone());
        }
    }
    out
}

fn is_restartable(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

fn is_pod_resize_infeasible(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodResizePending"))
        .is_some_and(|c| c.reason.as_deref() == Some("Infeasible"))
}

fn container_requests(
    pod: &Pod,
    container: &Container,
    status: Option<&ContainerStatus>,
    field: &dyn Fn() -> String,
) -> Result<ResourceList, InputError> {
    let spec_reqs = parse_list_of(
        container
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref()),
        field,
    )?;
    let Some(cs) = status else {
        return Ok(spec_reqs);
    };
    let Some(status_resources) = cs.resources.as_ref() else {
        return Ok(spec_reqs);
    };
    // Upstream: determineContainerReqs — the larger of spec, status and allocated resources,
    // or only status and allocated when the resize is infeasible.
    let status_reqs = parse_list_of(status_resources.requests.as_ref(), field)?;
    let allocated = parse_list_of(cs.allocated_resources.as_ref(), field)?;
    let mut out = if is_pod_resize_infeasible(pod) {
        status_reqs
    } else {
        let mut out = spec_reqs;
        max_into(&mut out, &status_reqs);
        out
    };
    max_into(&mut out, &allocated);
    Ok(out)
}

/// The container-level aggregate of a pod's requests (`AggregateContainerRequests`).
pub fn aggregate_container_requests(
    pod: &Pod,
    opts: &PodResourcesOptions<'_>,
) -> Result<ResourceList, InputError> {
    let mut reqs = ResourceList::new();
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(reqs);
    };
    let statuses: BTreeMap<&str, &ContainerStatus> = if opts.use_status_resources {
        let st = pod.status.as_ref();
        st.and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .chain(
                st.and_then(|s| s.init_container_statuses.as_ref())
                    .into_iter()
                    .flatten(),
            )
            .map(|cs| (cs.name.as_str(), cs))
            .collect()
    } else {
        BTreeMap::new()
    };
    for (i, c) in spec.containers.iter().enumerate() {
        let field = || format!("spec.containers[{i}].resources.requests");
        let mut creqs = container_requests(pod, c, statuses.get(c.name.as_str()).copied(), &field)?;
        if let Some(nm) = opts.non_missing_container_requests {
            creqs = apply_non_missing(&creqs, nm);
        }
        add_into(&mut reqs, &creqs);
    }
    let mut restartable_init_reqs = ResourceList::new();
    let mut init_reqs = ResourceList::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let field = || format!("spec.initContainers[{i}].resources.requests");
        let status = if is_restartable(c) {
            statuses.get(c.name.as_str()).copied()
        } else {
            None
        };
        let mut creqs = container_requests(pod, c, status, &field)?;
        if let Some(nm) = opts.non_missing_container_requests {
            creqs = apply_non_missing(&creqs, nm);
        }
        let effective = if is_restartable(c) {
            add_into(&mut reqs, &creqs);
            add_into(&mut restartable_init_reqs, &creqs);
            restartable_init_reqs.clone()
        } else {
            let mut tmp = creqs;
            add_into(&mut tmp, &restartable_init_reqs);
            tmp
        };
        max_into(&mut init_reqs, &effective);
    }
    max_into(&mut reqs, &init_reqs);
    Ok(reqs)
}

/// The pod's total requests (`PodRequests`): containers, pod-level requests, overhead.
pub fn pod_requests(pod: &Pod, opts: &PodResourcesOptions<'_>) -> Result<ResourceList, InputError> {
    let mut reqs = aggregate_container_requests(pod, opts)?;
    let spec = pod.spec.as_ref();
    if !opts.skip_pod_level_resources && is_pod_level_requests_set(pod) {
        let pod_level = parse_list(
            spec.and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref()),
            "spec.resources.requests",
        )?;
        for (name, q) in pod_level {
            if is_supported_pod_level_resource(&name) {
                reqs.insert(name, q);
            }
        }
    }
    if !opts.exclude_overhead
        && let Some(overhead) = spec.and_then(|s| s.overhead.as_ref())
    {
        let overhead = parse_list(Some(overhead), "spec.overhead")?;
        add_into(&mut reqs, &overhead);
    }
    Ok(reqs)
}

/// The default requests substituted for absent container CPU and memory requests.
pub fn default_non_missing() -> ResourceList {
    let mut m = ResourceList::new();
    m.insert(
        CPU.to_owned(),
        Quantity::from_milli(DEFAULT_MILLI_CPU_REQUEST, Format::DecimalSI),
    );
    m.insert(
        MEMORY.to_owned(),
        Quantity::new_scaled(DEFAULT_MEMORY_REQUEST, 0, Format::DecimalSI),
    );
    m
}

/// What the pod adds to a node's requested and non-zero requested resources (`CalculateResource`,
/// with InPlacePodVerticalScaling and PodLevelResources on, as in 1.34).
pub fn calculate_resource(pod: &Pod) -> Result<PodResource, InputError> {
    let opts = PodResourcesOptions {
        use_status_resources: true,
        ..Default::default()
    };
    let requests = pod_requests(pod, &opts)?;
    let pod_level_set = is_pod_level_requests_set(pod);
    // Upstream: getNonMissingContainerRequests — with pod-level requests, only what is absent.
    let mut non_missing = ResourceList::new();
    if !pod_level_set || !requests.contains_key(CPU) {
        non_missing.insert(
            CPU.to_owned(),
            Quantity::from_milli(DEFAULT_MILLI_CPU_REQUEST, Format::DecimalSI),
        );
    }
    if !pod_level_set || !requests.contains_key(MEMORY) {
        non_missing.insert(
            MEMORY.to_owned(),
            Quantity::new_scaled(DEFAULT_MEMORY_REQUEST, 0, Format::DecimalSI),
        );
    }
    let non0 = if non_missing.is_empty() {
        requests.clone()
    } else {
        let opts = PodResourcesOptions {
            use_status_resources: true,
            non_missing_container_requests: Some(&non_missing),
            ..Default::default()
        };
        pod_requests(pod, &opts)?
    };
    Ok(PodResource {
        resource: Resource::from_list(&requests),
        non0_cpu: non0.get(CPU).map_or(0, Quantity::milli_value),
        non0_mem: non0.get(MEMORY).map_or(0, Quantity::value),
    })
}

/// The request NodeResourcesFit checks (`computePodResourceRequest`): no status resources.
pub fn fit_request(pod: &Pod) -> Result<Resource, InputError> {
    let reqs = pod_requests(pod, &PodResourcesOptions::default())?;
    let mut r = Resource::default();
    r.set_max_list(&reqs);
    Ok(r)
}

/// The per-resource request the resource scorers use (`calculatePodResourceRequest`):
/// with non-zero defaults unless `use_requested`.
pub fn scorer_request(pod: &Pod, resource: &str, use_requested: bool) -> Result<i64, InputError> {
    let defaults;
    let mut opts = PodResourcesOptions {
        use_status_resources: true,
        ..Default::default()
    };
    if !use_requested {
        defaults = default_non_missing();
        opts.non_missing_container_requests = Some(&defaults);
    }
    let reqs = pod_requests(pod, &opts)?;
    Ok(match reqs.get(resource) {
        None => 0,
        Some(q) if resource == CPU => q.milli_value(),
        Some(q) => q.value(),
    })
}

/// Whether the name lives in the `kubernetes.io/` namespace or has no prefix (`IsNativeResource`).
pub fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Whether the name is an extended resource such as `nvidia.com/gpu` (`IsExtendedResourceName`).
pub fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    is_qualified_name(&format!("requests.{name}"))
}

/// Whether the scheduler tracks the resource by name (`IsScalarResourceName`): extended, hugepages,
/// prefixed native and attachable-volume resources.
pub fn is_scalar_resource_name(name: &str) -> bool {
    is_extended_resource_name(name)
        || name.starts_with("hugepages-")
        || name.contains("kubernetes.io/")
        || name.starts_with("attachable-volumes-")
}

/// A qualified name: an optional DNS-1123 subdomain prefix and `/`, then a 1–63 character name of
/// alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric (`validation.IsQualifiedName`).
pub fn is_qualified_name(value: &str) -> bool {
    let (prefix, name) = match value.split_once('/') {
        Some((p, n)) => {
            if n.contains('/') {
                return false;
            }
            (Some(p), n)
        }
        None => (None, value),
    };
    if let Some(p) = prefix
        && !is_dns1123_subdomain(p)
    {
        return false;
    }
    is_qualified_name_part(name)
}

fn is_qualified_name_part(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 63 {
        return false;
    }
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    alnum(bytes[0])
        && alnum(bytes[bytes.len() - 1])
        && bytes
            .iter()
            .all(|&b| alnum(b) || b == b'-' || b == b'_' || b == b'.')
}

fn is_dns1123_subdomain(value: &str) -> bool {
    if value.is_empty() || value.len() > 253 {
        return false;
    }
    value.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b.iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

/// A valid label value: empty, or up to 63 alphanumerics, `-`, `_`, `.`, starting and ending
/// alphanumeric (`validation.IsValidLabelValue`).
pub fn is_valid_label_value(value: &str) -> bool {
    value.is_empty() || is_qualified_name_part(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_names() {
        assert!(is_scalar_resource_name("nvidia.com/gpu"));
        assert!(is_scalar_resource_name("hugepages-2Mi"));
        assert!(is_scalar_resource_name("attachable-volumes-csi-x"));
        assert!(is_scalar_resource_name("kubernetes.io/something"));
        assert!(!is_scalar_resource_name("cpu"));
        assert!(!is_scalar_resource_name("requests.foo/bar"));
        assert!(is_extended_resource_name("example.com/dongle"));
        assert!(!is_extended_resource_name("example.com/"));
    }
}
