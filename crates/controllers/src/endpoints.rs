//! The EndpointSlice controller and the legacy Endpoints controller: for every Service with a
//! selector, the addresses of its selected pods with their readiness and ports.
//!
//! Upstream: `pkg/controller/endpointslice/endpointslice_controller.go` (`syncService`: skip
//! Services without selector and ExternalName Services; slices are owned by the Service),
//! `staging/src/k8s.io/endpointslice/reconciler.go` (`reconcileByAddressType`: group endpoints
//! by port set, keep existing slices whose endpoints are still wanted, fill slices that need an
//! update, then create new slices of at most `maxEndpointsPerSlice` = 100; a placeholder slice
//! when there are no endpoints), `staging/src/k8s.io/endpointslice/utils.go` (`podToEndpoint`,
//! `getEndpointPorts`, `getEndpointAddresses`, `newEndpointSlice`),
//! `staging/src/k8s.io/endpointslice/util/controller_utils.go` (`ShouldPodBeInEndpoints`,
//! `ShouldSetHostname`), `pkg/api/v1/pod/util.go` (`FindPort`),
//! `pkg/controller/endpoint/endpoints_controller.go` (`syncService`, `addEndpointSubset`,
//! `truncateEndpoints` with `maxCapacity` = 1000) and `pkg/api/v1/endpoints/util.go`
//! (`RepackSubsets`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort as CoreEndpointPort, EndpointSubset, Endpoints, Node,
    ObjectReference, Pod, Service, ServicePort,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::labels::Selector;
use kubetwin_runtime::informer::Event;
use kubetwin_runtime::{Informer, SimTime, WorkQueue};

use crate::util::{SyncError, is_pod_ready, new_controller_ref, update_typed};

/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The managed-by value of the EndpointSlice controller (`ControllerName`).
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// `v1.IsHeadlessService`.
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// Default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// The Endpoints controller's `maxCapacity`.
pub const MAX_ENDPOINTS_CAPACITY: usize = 1000;
/// `v1.EndpointsOverCapacity`.
pub const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";

/// Whether a pod belongs in a Service's endpoints (`ShouldPodBeInEndpoints`): not terminal,
/// has an IP, and not terminating unless `include_terminating`.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref());
    if phase == Some("Succeeded") || phase == Some("Failed") {
        return false;
    }
    let has_ip = status.is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty())
            || s.pod_ips.as_deref().is_some_and(|ips| !ips.is_empty())
    });
    if !has_ip {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// `ShouldSetHostname`: the pod's hostname is published when its subdomain is the Service.
pub fn should_set_hostname(pod: &Pod, service: &Service) -> bool {
    let spec = pod.spec.as_ref();
    spec.and_then(|s| s.hostname.as_deref())
        .is_some_and(|h| !h.is_empty())
        && spec.and_then(|s| s.subdomain.as_deref()) == service.metadata.name.as_deref()
        && pod.metadata.namespace == service.metadata.namespace
}

/// `podutil.FindPort`: the container port a Service port targets. A named target port is
/// looked up among the containers' (and restartable init containers') ports with the same
/// protocol; a number is used as is; an absent target port defaults to the Service port.
pub fn find_port(pod: &Pod, service_port: &ServicePort) -> Option<i32> {
    let protocol = service_port.protocol.as_deref().unwrap_or("TCP");
    match &service_port.target_port {
        Some(IntOrString::String(name)) => {
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers
                .iter()
                .chain(sidecars)
                .flat_map(|c| c.ports.as_deref().unwrap_or(&[]))
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port)
        }
        Some(IntOrString::Int(n)) if *n != 0 => Some(*n),
        _ => Some(service_port.port),
    }
}

/// The address type of a Service's slices: its first IP family (`getAddressTypesForService`).
pub fn address_type(service: &Service) -> &'static str {
    let families = service.spec.as_ref().and_then(|s| s.ip_families.as_deref());
    match families.and_then(|f| f.first()).map(String::as_str) {
        Some("IPv6") => "IPv6",
        _ => "IPv4",
    }
}

fn pod_ips(pod: &Pod) -> Vec<String> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    match status.pod_ips.as_deref() {
        Some(ips) if !ips.is_empty() => ips.iter().map(|ip| ip.ip.clone()).collect(),
        _ => status.pod_ip.iter().cloned().collect(),
    }
}

fn is_ipv6(ip: &str) -> bool {
    ip.contains(':')
}

/// `getEndpointAddresses`: the pod IPs of the slice's address type.
pub fn endpoint_addresses(pod: &Pod, address_type: &str) -> Vec<String> {
    pod_ips(pod)
        .into_iter()
        .filter(|ip| is_ipv6(ip) == (address_type == "IPv6"))
        .collect()
}

fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// `podToEndpoint`: serving = pod Ready; terminating = deletionTimestamp set; ready = serving
/// and not terminating, or always with `publishNotReadyAddresses`.
pub fn pod_to_endpoint(
    pod: &Pod,
    node: Option<&Node>,
    service: &Service,
    address_type: &str,
) -> Endpoint {
    let serving = is_pod_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let publish_not_ready = service
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let ready = publish_not_ready || (serving && !terminating);
    let node_name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    let zone = node
        .and_then(|n| n.metadata.labels.as_ref())
        .and_then(|l| l.get("topology.kubernetes.io/zone"))
        .filter(|z| !z.is_empty())
        .cloned();
    let hostname = should_set_hostname(pod, service)
        .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
        .flatten();
    Endpoint {
        addresses: endpoint_addresses(pod, address_type),
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        target_ref: Some(pod_reference(pod)),
        node_name,
        zone,
        hostname,
        ..Endpoint::default()
    }
}

/// `getEndpointPorts`: one port per Service port the pod resolves, in Service order.
pub fn endpoint_ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[]);
    ports
        .iter()
        .filter_map(|sp| {
            let port = find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// A stable key of a port set (`endpointMeta` hash: the ports sorted, plus the address type).
pub fn ports_key(ports: &[EndpointPort]) -> String {
    let mut parts: Vec<String> = ports
        .iter()
        .map(|p| {
            format!(
                "{}/{}/{}/{}",
                p.name.as_deref().unwrap_or(""),
                p.port.unwrap_or(0),
                p.protocol.as_deref().unwrap_or(""),
                p.app_protocol.as_deref().unwrap_or("")
            )
        })
        .collect();
    parts.sort();
    parts.join(",")
}

/// The identity of an endpoint inside a slice: its pod (or first address).
fn endpoint_key(ep: &Endpoint) -> String {
    match &ep.target_ref {
        Some(r) => format!(
            "{}/{}",
            r.namespace.as_deref().unwrap_or(""),
            r.name.as_deref().unwrap_or("")
        ),
        None => ep.addresses.first().cloned().unwrap_or_default(),
    }
}

/// The wanted endpoints of a Service, grouped by port set (key → ports, endpoints by pod).
pub type DesiredEndpoints = BTreeMap<String, (Vec<EndpointPort>, BTreeMap<String, Endpoint>)>;

/// The endpoints a Service wants from its selected pods (pods must already match the selector).
/// `nodes` gives zones. Pods without an address of the type are left out.
pub fn desired_endpoints(
    service: &Service,
    pods: &[Arc<Pod>],
    nodes: &BTreeMap<String, Arc<Node>>,
) -> DesiredEndpoints {
    let address_type = address_type(service);
    let mut out = DesiredEndpoints::new();
    for pod in pods {
        // Upstream: the EndpointSlice controller always includes terminating pods.
        if !should_pod_be_in_endpoints(pod, true) {
            continue;
        }
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .and_then(|n| nodes.get(n))
            .map(Arc::as_ref);
        let endpoint = pod_to_endpoint(pod, node, service, address_type);
        if endpoint.addresses.is_empty() {
            continue;
        }
        let ports = endpoint_ports(service, pod);
        let entry = out
            .entry(ports_key(&ports))
            .or_insert_with(|| (ports, BTreeMap::new()));
        entry.1.insert(endpoint_key(&endpoint), endpoint);
    }
    out
}

/// The writes that bring a Service's slices to the desired state.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SlicePlan {
    /// Slices to create (generateName set).
    pub create: Vec<EndpointSlice>,
    /// Slices to update (full objects).
    pub update: Vec<EndpointSlice>,
    /// Names of slices to delete.
    pub delete: Vec<String>,
}

impl SlicePlan {
    /// Whether nothing needs writing.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// The labels of a Service's slices (`setEndpointSliceLabels`): the Service's labels
/// (without the reserved ones), service-name, managed-by, and headless when there is no
/// cluster IP.
pub fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != LABEL_SERVICE_NAME && k != LABEL_MANAGED_BY && k != LABEL_HEADLESS)
        .collect();
    if !is_service_ip_set(service) {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    }
    labels.insert(
        LABEL_SERVICE_NAME.into(),
        service.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    labels
}

/// `helper.IsServiceIPSet`: a cluster IP other than `None`.
pub fn is_service_ip_set(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| !ip.is_empty() && ip != "None")
}

/// `newEndpointSlice`: an empty slice owned by the Service.
pub fn new_slice(service: &Service, ports: Vec<EndpointPort>) -> EndpointSlice {
    let name = service.metadata.name.clone().unwrap_or_default();
    // Upstream: `getEndpointSlicePrefix` (the Service name, shortened to leave room for
    // the generated suffix).
    let mut prefix = name.clone();
    prefix.truncate(58);
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{prefix}-")),
            namespace: service.metadata.namespace.clone(),
            labels: Some(slice_labels(service)),
            owner_references: Some(vec![new_controller_ref(&service.metadata, "v1", "Service")]),
            ..ObjectMeta::default()
        },
        address_type: address_type(service).into(),
        endpoints: Vec::new(),
        ports: Some(ports),
    }
}

fn slice_ports_key(slice: &EndpointSlice) -> String {
    ports_key(slice.ports.as_deref().unwrap_or(&[]))
}

/// `reconcileByAddressType` for one Service: keep what is wanted, update what changed, remove
/// what is gone, place new endpoints first into slices that change anyway, then into new
/// slices of at most `max_per_slice`. With no endpoints at all one placeholder slice (no
/// ports, no endpoints) stays.
pub fn reconcile_slices(
    service: &Service,
    existing: &[Arc<EndpointSlice>],
    desired: &DesiredEndpoints,
    max_per_slice: usize,
) -> SlicePlan {
    let max_per_slice = max_per_slice.max(1);
    let address_type = address_type(service);
    let labels = slice_labels(service);
    let mut plan = SlicePlan::default();
    let mut placed: BTreeSet<(String, String)> = BTreeSet::new();
    // Slices that change, by ports key: (slice, changed?).
    let mut kept: BTreeMap<String, Vec<(EndpointSlice, bool)>> = BTreeMap::new();
    let mut placeholder: Option<EndpointSlice> = None;
    for slice in existing {
        let name = slice.metadata.name.clone().unwrap_or_default();
        let key = slice_ports_key(slice);
        let is_placeholder = slice.endpoints.is_empty() && key.is_empty();
        if slice.address_type != address_type {
            plan.delete.push(name);
            continue;
        }
        if is_placeholder && placeholder.is_none() {
            placeholder = Some(slice.as_ref().clone());
            continue;
        }
        let Some((_, wanted)) = desired.get(&key) else {
            plan.delete.push(name);
            continue;
        };
        let mut next = slice.as_ref().clone();
        let mut changed = false;
        let mut endpoints = Vec::with_capacity(next.endpoints.len());
        for ep in &slice.endpoints {
            let ep_key = endpoint_key(ep);
            match wanted.get(&ep_key) {
                Some(want) if !placed.contains(&(key.clone(), ep_key.clone())) => {
                    if want != ep {
                        changed = true;
                    }
                    endpoints.push(want.clone());
                    placed.insert((key.clone(), ep_key));
                }
                _ => changed = true,
            }
        }
        next.endpoints = endpoints;
        if next.metadata.labels.as_ref() != Some(&labels) {
            next.metadata.labels = Some(labels.clone());
            changed = true;
        }
        if next.endpoints.is_empty() {
            plan.delete.push(name);
        } else {
            kept.entry(key).or_default().push((next, changed));
        }
    }
    let mut total = 0;
    for (key, (ports, wanted)) in desired {
        let mut missing: Vec<Endpoint> = wanted
            .iter()
            .filter(|(k, _)| !placed.contains(&(key.clone(), (*k).clone())))
            .map(|(_, ep)| ep.clone())
            .collect();
        total += wanted.len();
        let mut slices = kept.remove(key).unwrap_or_default();
        // Fill slices that are updated anyway first, then the fullest ones with room.
        slices.sort_by_key(|(s, changed)| (!*changed, std::cmp::Reverse(s.endpoints.len())));
        for (slice, changed) in &mut slices {
            while slice.endpoints.len() < max_per_slice && !missing.is_empty() {
                slice.endpoints.push(missing.remove(0));
                *changed = true;
            }
        }
        for (slice, changed) in slices {
            if changed {
                plan.update.push(slice);
            }
        }
        while !missing.is_empty() {
            let rest = missing.split_off(missing.len().min(max_per_slice));
            let mut slice = new_slice(service, ports.clone());
            slice.endpoints = std::mem::replace(&mut missing, rest);
            plan.create.push(slice);
        }
    }
    for (_, slices) in kept {
        for (slice, _) in slices {
            plan.delete
                .push(slice.metadata.name.clone().unwrap_or_default());
        }
    }
    let remaining = existing.len() - plan.delete.len() + plan.create.len();
    match placeholder {
        Some(p) if total > 0 || remaining > 1 => {
            plan.delete
                .push(p.metadata.name.clone().unwrap_or_default());
        }
        Some(mut p) if p.metadata.labels.as_ref() != Some(&labels) => {
            p.metadata.labels = Some(labels);
            plan.update.push(p);
        }
        Some(_) => {}
        None if total == 0 && plan.create.is_empty() && remaining == 0 => {
            plan.create.push(new_slice(service, Vec::new()));
        }
        None => {}
    }
    plan.update
        .sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    plan.delete.sort();
    plan
}

fn address_order(a: &EndpointAddress) -> (String, String) {
    let uid = a
        .target_ref
        .as_ref()
        .and_then(|r| r.uid.clone())
        .unwrap_or_default();
    (a.ip.clone(), uid)
}

fn core_port_key(p: &CoreEndpointPort) -> String {
    format!(
        "{}/{}/{}/{}",
        p.name.as_deref().unwrap_or(""),
        p.port,
        p.protocol.as_deref().unwrap_or(""),
        p.app_protocol.as_deref().unwrap_or("")
    )
}

/// `RepackSubsets`: one subset per distinct port set; every address (ready or not) listed in
/// the subset of exactly the ports it serves. Addresses are sorted by IP then pod UID
/// (`LessEndpointAddress`); ports and subsets in a stable key order.
pub fn repack_subsets(subsets: Vec<EndpointSubset>) -> Vec<EndpointSubset> {
    // (ready, address order) -> (address, ports by key)
    type AddressPorts =
        BTreeMap<(bool, (String, String)), (EndpointAddress, BTreeMap<String, CoreEndpointPort>)>;
    let mut by_address: AddressPorts = BTreeMap::new();
    for subset in subsets {
        let ports = subset.ports.unwrap_or_default();
        let ready = subset
            .addresses
            .unwrap_or_default()
            .into_iter()
            .map(|a| (true, a));
        let not_ready = subset
            .not_ready_addresses
            .unwrap_or_default()
            .into_iter()
            .map(|a| (false, a));
        for (is_ready, address) in ready.chain(not_ready) {
            let entry = by_address
                .entry((is_ready, address_order(&address)))
                .or_insert_with(|| (address, BTreeMap::new()));
            for p in &ports {
                entry.1.insert(core_port_key(p), p.clone());
            }
        }
    }
    let mut by_ports: BTreeMap<Vec<String>, EndpointSubset> = BTreeMap::new();
    for ((is_ready, _), (address, ports)) in by_address {
        let key: Vec<String> = ports.keys().cloned().collect();
        let subset = by_ports.entry(key).or_insert_with(|| EndpointSubset {
            ports: (!ports.is_empty()).then(|| ports.into_values().collect()),
            ..EndpointSubset::default()
        });
        let list = if is_ready {
            subset.addresses.get_or_insert_with(Vec::new)
        } else {
            subset.not_ready_addresses.get_or_insert_with(Vec::new)
        };
        list.push(address);
    }
    by_ports.into_values().collect()
}

/// The Endpoints controller's subsets for a Service (`syncService`): pods with an address
/// of the Service's family, Ready pods (or all with `publishNotReadyAddresses`) as addresses,
/// the rest as notReadyAddresses; a headless Service without ports lists addresses alone.
pub fn endpoints_subsets(service: &Service, pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let spec = service.spec.clone().unwrap_or_default();
    let tolerate_unready = spec.publish_not_ready_addresses.unwrap_or(false);
    let family = address_type(service);
    let mut subsets = Vec::new();
    for pod in pods {
        if !should_pod_be_in_endpoints(pod, tolerate_unready) {
            continue;
        }
        // Upstream: `podToEndpointAddressForService` picks the pod IP of the Service's family.
        let Some(ip) = endpoint_addresses(pod, family).into_iter().next() else {
            continue;
        };
        let address = EndpointAddress {
            ip,
            node_name: pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty()),
            target_ref: Some(pod_reference(pod)),
            hostname: should_set_hostname(pod, service)
                .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
                .flatten(),
        };
        let ready = tolerate_unready || is_pod_ready(pod);
        let subset = |ports: Vec<CoreEndpointPort>| EndpointSubset {
            addresses: ready.then(|| vec![address.clone()]),
            not_ready_addresses: (!ready).then(|| vec![address.clone()]),
            ports: Some(ports),
        };
        let service_ports = spec.ports.as_deref().unwrap_or(&[]);
        if service_ports.is_empty() {
            if spec.cluster_ip.as_deref() == Some("None") {
                subsets.push(subset(Vec::new()));
            }
            continue;
        }
        for sp in service_ports {
            let Some(port) = find_port(pod, sp) else {
                continue;
            };
            subsets.push(subset(vec![CoreEndpointPort {
                name: sp.name.clone(),
                port,
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            }]));
        }
    }
    repack_subsets(subsets)
}

/// `truncateEndpoints`: over `MAX_ENDPOINTS_CAPACITY` addresses, keep ready ones first, each
/// subset its proportional share rounded up. Returns whether anything was cut.
pub fn truncate_subsets(subsets: &mut [EndpointSubset]) -> bool {
    let count = |v: &Option<Vec<EndpointAddress>>| v.as_ref().map_or(0, Vec::len);
    let total_ready: usize = subsets.iter().map(|s| count(&s.addresses)).sum();
    let total_not_ready: usize = subsets.iter().map(|s| count(&s.not_ready_addresses)).sum();
    if total_ready + total_not_ready <= MAX_ENDPOINTS_CAPACITY {
        return false;
    }
    let truncate_ready = total_ready > MAX_ENDPOINTS_CAPACITY;
    let (max, num_total) = if truncate_ready {
        (MAX_ENDPOINTS_CAPACITY, total_ready)
    } else {
        (MAX_ENDPOINTS_CAPACITY - total_ready, total_not_ready)
    };
    let mut can_be_added = max;
    for subset in subsets.iter_mut() {
        let in_subset = if truncate_ready {
            count(&subset.addresses)
        } else {
            count(&subset.not_ready_addresses)
        };
        let share = (in_subset * max).div_ceil(num_total.max(1));
        let to_add = share.min(can_be_added);
        if truncate_ready {
            if let Some(a) = subset.addresses.as_mut() {
                a.truncate(to_add);
            }
            subset.not_ready_addresses = Some(Vec::new());
            can_be_added -= count(&subset.addresses);
        } else {
            if let Some(a) = subset.not_ready_addresses.as_mut() {
                a.truncate(to_add);
            }
            can_be_added -= count(&subset.not_ready_addresses);
        }
    }
    true
}

fn service_selector(service: &Service) -> Option<Selector> {
    let spec = service.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    spec.selector.as_ref().map(Selector::from_set)
}

/// Per Service key: slice name → resourceVersion written (None: deleted).
type WrittenSlices = BTreeMap<String, BTreeMap<String, Option<u64>>>;

/// Which controller a [`EndpointsController`] runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `endpointslice-controller`.
    Slices,
    /// `endpoint-controller` (legacy core/v1 Endpoints).
    Endpoints,
}

/// The EndpointSlice or Endpoints controller (one struct, two modes sharing the Service/pod
/// wiring).
#[derive(Debug, Clone)]
pub struct EndpointsController {
    mode: Mode,
    client: LocalClient,
    services: Informer<Service>,
    pods: Informer<Pod>,
    nodes: Informer<Node>,
    slices: Informer<EndpointSlice>,
    endpoints: Informer<Endpoints>,
    queue: WorkQueue<String>,
    /// Slice writes not yet seen by the informer, per Service: name → resourceVersion
    /// (None: deleted). Upstream: `endpointSliceTracker` (stale-cache guard).
    written: Arc<std::sync::Mutex<WrittenSlices>>,
}

impl EndpointsController {
    /// A controller over shared informers.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mode: Mode,
        client: LocalClient,
        time: SimTime,
        services: Informer<Service>,
        pods: Informer<Pod>,
        nodes: Informer<Node>,
        slices: Informer<EndpointSlice>,
        endpoints: Informer<Endpoints>,
    ) -> Self {
        let this = Self {
            mode,
            client,
            services,
            pods,
            nodes,
            slices,
            endpoints,
            queue: WorkQueue::new(time),
            written: Arc::default(),
        };
        let queue = this.queue.clone();
        this.services
            .add_handler(Arc::new(move |e: &Event<Service>| {
                let s = match e {
                    Event::Added(s) | Event::Deleted(s) | Event::Updated { new: s, .. } => s,
                };
                queue.add(kubetwin_runtime::informer::meta_key(&s.metadata));
            }));
        let queue = this.queue.clone();
        let services = this.services.clone();
        this.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            let mut pods = Vec::new();
            match e {
                Event::Added(p) | Event::Deleted(p) => pods.push(Arc::clone(p)),
                Event::Updated { old, new } => {
                    pods.push(Arc::clone(old));
                    pods.push(Arc::clone(new));
                }
            }
            let mut keys = BTreeSet::new();
            for pod in &pods {
                let ns = pod.metadata.namespace.as_deref().unwrap_or("");
                let labels = crate::util::labels_of(&pod.metadata);
                for svc in services.list_namespace(ns) {
                    if service_selector(&svc).is_some_and(|s| s.matches(labels)) {
                        keys.insert(kubetwin_runtime::informer::meta_key(&svc.metadata));
                    }
                }
            }
            for k in keys {
                queue.add(k);
            }
        }));
        match mode {
            Mode::Slices => {
                let queue = this.queue.clone();
                this.slices
                    .add_handler(Arc::new(move |e: &Event<EndpointSlice>| {
                        let s = match e {
                            Event::Added(s) | Event::Deleted(s) | Event::Updated { new: s, .. } => {
                                s
                            }
                        };
                        let labels = s.metadata.labels.clone().unwrap_or_default();
                        if labels.get(LABEL_MANAGED_BY).map(String::as_str) != Some(CONTROLLER_NAME)
                        {
                            return;
                        }
                        if let Some(svc) = labels.get(LABEL_SERVICE_NAME) {
                            queue.add(kubetwin_runtime::informer::key_of(
                                s.metadata.namespace.as_deref(),
                                svc,
                            ));
                        }
                    }));
            }
            Mode::Endpoints => {
                let queue = this.queue.clone();
                this.endpoints
                    .add_handler(Arc::new(move |e: &Event<Endpoints>| {
                        if let Event::Deleted(ep) = e {
                            queue.add(kubetwin_runtime::informer::meta_key(&ep.metadata));
                        }
                    }));
            }
        }
        this
    }

    /// The work queue.
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            let result = match self.mode {
                Mode::Slices => self.sync_slices(&key).await,
                Mode::Endpoints => self.sync_endpoints(&key).await,
            };
            match result {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "endpoints sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    fn selected_pods(&self, service: &Service, selector: &Selector) -> Vec<Arc<Pod>> {
        let ns = service.metadata.namespace.as_deref().unwrap_or("");
        self.pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| selector.matches(crate::util::labels_of(&p.metadata)))
            .collect()
    }

    /// Whether the slice cache has caught up with this controller's own writes.
    fn slices_fresh(&self, key: &str, owned: &[Arc<EndpointSlice>]) -> bool {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let Some(expect) = written.get(key) else {
            return true;
        };
        let fresh = expect.iter().all(|(name, rv)| {
            let seen = owned
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(name.as_str()));
            match (rv, seen) {
                (None, None) => true,
                (None, Some(_)) | (Some(_), None) => false,
                (Some(rv), Some(s)) => s
                    .metadata
                    .resource_version
                    .as_deref()
                    .and_then(|v| v.parse::<u64>().ok())
                    .is_some_and(|v| v >= *rv),
            }
        });
        if fresh {
            written.remove(key);
        }
        fresh
    }

    fn record_write(&self, key: &str, name: String, rv: Option<u64>) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written.entry(key.to_string()).or_default().insert(name, rv);
    }

    /// `endpointslice_controller.go` `syncService`.
    pub async fn sync_slices(&self, key: &str) -> Result<(), SyncError> {
        let Some(service) = self.services.get(key) else {
            // Slices are owned by the Service: the garbage collector removes them.
            self.written
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
            return Ok(());
        };
        let Some(selector) = service_selector(&service) else {
            return Ok(());
        };
        if service.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let ns = service.metadata.namespace.clone().unwrap_or_default();
        let name = service.metadata.name.clone().unwrap_or_default();
        let owned: Vec<Arc<EndpointSlice>> = self
            .slices
            .list_namespace(&ns)
            .into_iter()
            .filter(|s| {
                let l = s.metadata.labels.as_ref();
                l.and_then(|l| l.get(LABEL_SERVICE_NAME)) == Some(&name)
                    && l.and_then(|l| l.get(LABEL_MANAGED_BY)).map(String::as_str)
                        == Some(CONTROLLER_NAME)
            })
            .collect();
        if !self.slices_fresh(key, &owned) {
            // The slice informer's event for our own write enqueues the Service again.
            return Ok(());
        }
        let pods = self.selected_pods(&service, &selector);
        let nodes: BTreeMap<String, Arc<Node>> = self
            .nodes
            .list()
            .into_iter()
            .map(|n| (n.metadata.name.clone().unwrap_or_default(), n))
            .collect();
        let desired = desired_endpoints(&service, &pods, &nodes);
        let plan = reconcile_slices(&service, &owned, &desired, MAX_ENDPOINTS_PER_SLICE);
        let info = resource_of::<EndpointSlice>()?;
        for slice in plan.create {
            match self.client.create_typed(&slice).await {
                Ok(created) => {
                    let rv = created
                        .metadata
                        .resource_version
                        .as_deref()
                        .and_then(|v| v.parse().ok());
                    self.record_write(key, created.metadata.name.unwrap_or_default(), rv);
                }
                // A terminating namespace refuses creates; nothing to do.
                Err(e) if e.code == 403 => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        for slice in plan.update {
            let updated = update_typed(&self.client, &slice, "").await?;
            let rv = updated
                .metadata
                .resource_version
                .as_deref()
                .and_then(|v| v.parse().ok());
            self.record_write(key, updated.metadata.name.unwrap_or_default(), rv);
        }
        for slice_name in plan.delete {
            match self
                .client
                .delete(info, Some(&ns), &slice_name, &DeleteOptions::default())
                .await
            {
                Ok(_) => self.record_write(key, slice_name, None),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// `endpoints_controller.go` `syncService`.
    pub async fn sync_endpoints(&self, key: &str) -> Result<(), SyncError> {
        let (ns, name) = kubetwin_runtime::informer::split_key(key);
        let ns = ns.unwrap_or("").to_string();
        let name = name.to_string();
        let info = resource_of::<Endpoints>()?;
        let Some(service) = self.services.get(key) else {
            // The Service is gone: delete its Endpoints (they carry no owner reference).
            return match self
                .client
                .delete(info, Some(&ns), &name, &DeleteOptions::default())
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if e.code == 404 => Ok(()),
                Err(e) => Err(e.into()),
            };
        };
        let Some(selector) = service_selector(&service) else {
            // Without a selector, Endpoints are written by hand and left alone.
            return Ok(());
        };
        if service.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let pods = self.selected_pods(&service, &selector);
        let mut subsets = endpoints_subsets(&service, &pods);
        let current = self.endpoints.get(key);
        let service_labels = service.metadata.labels.clone().unwrap_or_default();
        let mut labels = service_labels.clone();
        if is_service_ip_set(&service) {
            labels.remove(LABEL_HEADLESS);
        } else {
            labels.insert(LABEL_HEADLESS.into(), String::new());
        }
        let truncated = truncate_subsets(&mut subsets);
        let subsets_opt = (!subsets.is_empty()).then_some(subsets);
        if let Some(cur) = &current {
            let annotations = cur.metadata.annotations.clone().unwrap_or_default();
            let capacity_ok = truncated == annotations.contains_key(ANNOTATION_OVER_CAPACITY);
            let cur_labels = cur.metadata.labels.clone().unwrap_or_default();
            if cur.subsets.as_ref().filter(|s| !s.is_empty()) == subsets_opt.as_ref()
                && cur_labels == labels
                && capacity_ok
            {
                return Ok(());
            }
        }
        let mut next = current.as_deref().cloned().unwrap_or_else(|| Endpoints {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                ..ObjectMeta::default()
            },
            ..Endpoints::default()
        });
        next.subsets = subsets_opt;
        next.metadata.labels = (!labels.is_empty()).then_some(labels);
        let mut annotations = next.metadata.annotations.clone().unwrap_or_default();
        if truncated {
            annotations.insert(ANNOTATION_OVER_CAPACITY.into(), "truncated".into());
        } else {
            annotations.remove(ANNOTATION_OVER_CAPACITY);
        }
        next.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
        if current.is_none() {
            match self.client.create_typed(&next).await {
                Ok(_) => Ok(()),
                Err(e) if e.code == 403 => Ok(()),
                Err(e) => Err(e.into()),
            }
        } else {
            update_typed(&self.client, &next, "").await.map(|_| ())
        }
    }
}

#[cfg(test)]
// Test tables are tuples, one per upstream case.
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodCondition, PodIP, PodSpec, PodStatus, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn service(name: &str, ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some("svc-uid".into()),
                ..ObjectMeta::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                cluster_ip: Some("10.96.0.10".into()),
                ports: Some(ports),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    fn port(name: &str, port: i32, target: Option<IntOrString>) -> ServicePort {
        ServicePort {
            name: Some(name.into()),
            port,
            protocol: Some("TCP".into()),
            target_port: target,
            ..ServicePort::default()
        }
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some("node-1".into()),
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some("http".into()),
                        container_port: 8080,
                        protocol: Some("TCP".into()),
                        ..ContainerPort::default()
                    }]),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                pod_ip: (!ip.is_empty()).then(|| ip.to_string()),
                pod_ips: (!ip.is_empty()).then(|| vec![PodIP { ip: ip.into() }]),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
        }
    }

    fn terminating(mut p: Pod) -> Pod {
        p.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
        p
    }

    fn phase(mut p: Pod, phase: &str) -> Pod {
        if let Some(s) = p.status.as_mut() {
            s.phase = Some(phase.into());
        }
        p
    }

    /// Upstream: `controller_utils_test.go` (endpointslice util) `TestShouldPodBeInEndpoints`.
    #[test]
    fn should_pod_be_in_endpoints_cases() {
        let cases: Vec<(&str, Pod, bool, bool)> = vec![
            ("running pod", pod("a", "1.2.3.4", true), false, true),
            ("not ready pod", pod("a", "1.2.3.4", false), false, true),
            ("no IP", pod("a", "", true), false, false),
            (
                "failed pod",
                phase(pod("a", "1.2.3.4", true), "Failed"),
                false,
                false,
            ),
            (
                "succeeded pod",
                phase(pod("a", "1.2.3.4", true), "Succeeded"),
                false,
                false,
            ),
            (
                "terminating, excluded",
                terminating(pod("a", "1.2.3.4", true)),
                false,
                false,
            ),
            (
                "terminating, included",
                terminating(pod("a", "1.2.3.4", true)),
                true,
                true,
            ),
            (
                "pending with IP",
                phase(pod("a", "1.2.3.4", false), "Pending"),
                false,
                true,
            ),
        ];
        for (name, p, include_terminating, want) in cases {
            assert_eq!(
                should_pod_be_in_endpoints(&p, include_terminating),
                want,
                "{name}"
            );
        }
    }

    /// Upstream: `pkg/api/v1/pod/util_test.go` `TestFindPort`.
    #[test]
    fn find_port_cases() {
        let p = pod("a", "1.2.3.4", true);
        let cases: Vec<(&str, ServicePort, Option<i32>)> = vec![
            (
                "named port found",
                port("x", 80, Some(IntOrString::String("http".into()))),
                Some(8080),
            ),
            (
                "named port missing",
                port("x", 80, Some(IntOrString::String("grpc".into()))),
                None,
            ),
            (
                "number",
                port("x", 80, Some(IntOrString::Int(9000))),
                Some(9000),
            ),
            (
                "zero defaults to port",
                port("x", 80, Some(IntOrString::Int(0))),
                Some(80),
            ),
            ("absent defaults to port", port("x", 80, None), Some(80)),
            (
                "named port, wrong protocol",
                ServicePort {
                    protocol: Some("UDP".into()),
                    ..port("x", 80, Some(IntOrString::String("http".into())))
                },
                None,
            ),
        ];
        for (name, sp, want) in cases {
            assert_eq!(find_port(&p, &sp), want, "{name}");
        }
    }

    /// Upstream: `utils_test.go` `TestPodToEndpoint` (ready/serving/terminating, node, zone,
    /// publishNotReadyAddresses, hostname).
    #[test]
    fn pod_to_endpoint_cases() {
        let svc = service("web", vec![port("http", 80, None)]);
        let mut publish = svc.clone();
        if let Some(s) = publish.spec.as_mut() {
            s.publish_not_ready_addresses = Some(true);
        }
        let node = Node {
            metadata: ObjectMeta {
                name: Some("node-1".into()),
                labels: Some(
                    [("topology.kubernetes.io/zone".to_string(), "z1".to_string())].into(),
                ),
                ..ObjectMeta::default()
            },
            ..Node::default()
        };
        let mut hostnamed = pod("h", "1.2.3.9", true);
        if let Some(s) = hostnamed.spec.as_mut() {
            s.hostname = Some("h0".into());
            s.subdomain = Some("web".into());
        }
        // (name, pod, service, node?, (ready, serving, terminating), zone, hostname)
        let cases: Vec<(
            &str,
            Pod,
            &Service,
            Option<&Node>,
            (bool, bool, bool),
            Option<&str>,
            Option<&str>,
        )> = vec![
            (
                "ready pod",
                pod("a", "1.2.3.4", true),
                &svc,
                None,
                (true, true, false),
                None,
                None,
            ),
            (
                "not ready pod",
                pod("a", "1.2.3.4", false),
                &svc,
                None,
                (false, false, false),
                None,
                None,
            ),
            (
                "not ready, publishNotReadyAddresses",
                pod("a", "1.2.3.4", false),
                &publish,
                None,
                (true, false, false),
                None,
                None,
            ),
            (
                "terminating ready pod",
                terminating(pod("a", "1.2.3.4", true)),
                &svc,
                None,
                (false, true, true),
                None,
                None,
            ),
            (
                "terminating, publishNotReadyAddresses",
                terminating(pod("a", "1.2.3.4", true)),
                &publish,
                None,
                (true, true, true),
                None,
                None,
            ),
            (
                "zone from node",
                pod("a", "1.2.3.4", true),
                &svc,
                Some(&node),
                (true, true, false),
                Some("z1"),
                None,
            ),
            (
                "hostname with subdomain",
                hostnamed,
                &svc,
                None,
                (true, true, false),
                None,
                Some("h0"),
            ),
        ];
        for (name, p, s, n, (ready, serving, term), zone, hostname) in cases {
            let ep = pod_to_endpoint(&p, n, s, "IPv4");
            let c = ep.conditions.clone().unwrap_or_default();
            assert_eq!(
                (c.ready, c.serving, c.terminating),
                (Some(ready), Some(serving), Some(term)),
                "{name}"
            );
            assert_eq!(ep.zone.as_deref(), zone, "{name}");
            assert_eq!(ep.hostname.as_deref(), hostname, "{name}");
            assert_eq!(ep.node_name.as_deref(), Some("node-1"), "{name}");
            assert_eq!(
                ep.target_ref.and_then(|r| r.kind).as_deref(),
                Some("Pod"),
                "{name}"
            );
        }
    }

    fn arcs(pods: Vec<Pod>) -> Vec<Arc<Pod>> {
        pods.into_iter().map(Arc::new).collect()
    }

    fn named(mut s: EndpointSlice, name: &str) -> Arc<EndpointSlice> {
        s.metadata.name = Some(name.into());
        s.metadata.generate_name = None;
        Arc::new(s)
    }

    /// Upstream: `reconciler_test.go` `TestReconcileEmpty` (placeholder),
    /// `TestReconcile1Pod` (one slice with the pod's endpoint and resolved port),
    /// `TestReconcileManyPods` (250 pods → 3 slices of ≤ 100),
    /// `TestReconcileEndpointSlicesSomePreexisting` (reuse, no rewrite when unchanged).
    #[test]
    fn reconcile_slices_cases() {
        let svc = service(
            "web",
            vec![port("http", 80, Some(IntOrString::String("http".into())))],
        );
        let nodes = BTreeMap::new();
        // Empty: one placeholder.
        let plan = reconcile_slices(&svc, &[], &desired_endpoints(&svc, &[], &nodes), 100);
        assert_eq!(plan.create.len(), 1);
        assert!(plan.create[0].endpoints.is_empty());
        assert_eq!(plan.create[0].ports.as_deref(), Some(&[][..]));
        let labels = plan.create[0].metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(LABEL_SERVICE_NAME).map(String::as_str),
            Some("web")
        );
        assert_eq!(
            labels.get(LABEL_MANAGED_BY).map(String::as_str),
            Some(CONTROLLER_NAME)
        );
        let placeholder = named(plan.create[0].clone(), "web-p");
        // Empty again with the placeholder present: nothing to do.
        let plan = reconcile_slices(
            &svc,
            &[Arc::clone(&placeholder)],
            &DesiredEndpoints::new(),
            100,
        );
        assert!(plan.is_empty(), "{plan:?}");
        // One pod: placeholder replaced by a slice with the endpoint, port 8080 via the name.
        let pods = arcs(vec![pod("a", "10.0.0.1", true)]);
        let desired = desired_endpoints(&svc, &pods, &nodes);
        let plan = reconcile_slices(&svc, &[Arc::clone(&placeholder)], &desired, 100);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.delete, vec!["web-p".to_string()]);
        let slice = &plan.create[0];
        assert_eq!(slice.address_type, "IPv4");
        assert_eq!(slice.endpoints[0].addresses, vec!["10.0.0.1".to_string()]);
        let ports = slice.ports.clone().unwrap_or_default();
        assert_eq!(
            (ports[0].name.as_deref(), ports[0].port),
            (Some("http"), Some(8080))
        );
        // Unchanged: no writes.
        let existing = vec![named(slice.clone(), "web-a")];
        assert!(reconcile_slices(&svc, &existing, &desired, 100).is_empty());
        // Readiness change: an update of the same slice.
        let desired2 = desired_endpoints(&svc, &arcs(vec![pod("a", "10.0.0.1", false)]), &nodes);
        let plan = reconcile_slices(&svc, &existing, &desired2, 100);
        assert_eq!(plan.update.len(), 1);
        assert_eq!(
            plan.update[0].endpoints[0]
                .conditions
                .as_ref()
                .and_then(|c| c.ready),
            Some(false)
        );
        // Many pods: 250 → 100 + 100 + 50.
        let many = arcs(
            (0..250)
                .map(|i| {
                    pod(
                        &format!("p{i:03}"),
                        &format!("10.1.{}.{}", i / 200, i % 200),
                        true,
                    )
                })
                .collect(),
        );
        let plan = reconcile_slices(&svc, &[], &desired_endpoints(&svc, &many, &nodes), 100);
        let sizes: Vec<usize> = plan.create.iter().map(|s| s.endpoints.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        // Pod gone: its slice is deleted, the placeholder comes back.
        let plan = reconcile_slices(&svc, &existing, &DesiredEndpoints::new(), 100);
        assert_eq!(plan.delete, vec!["web-a".to_string()]);
        assert_eq!(plan.create.len(), 1);
        // New pod added to an existing slice with room.
        let two = arcs(vec![pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", true)]);
        let plan = reconcile_slices(&svc, &existing, &desired_endpoints(&svc, &two, &nodes), 100);
        assert!(plan.create.is_empty());
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.update[0].endpoints.len(), 2);
    }

    /// Upstream: `endpoints_controller_test.go` `TestSyncEndpointsItemsPreexisting`,
    /// `TestSyncEndpointsItemsWithLabels`, `TestEndpointPortFromServicePort`,
    /// `TestSyncEndpointsHeadlessWithoutPort`, `TestPodToEndpointAddressForService`
    /// (ready vs notReady, repacking by port set).
    #[test]
    fn endpoints_subsets_cases() {
        let svc = service(
            "web",
            vec![port("http", 80, Some(IntOrString::String("http".into())))],
        );
        let pods = arcs(vec![
            pod("b", "10.0.0.2", false),
            pod("a", "10.0.0.1", true),
            terminating(pod("c", "10.0.0.3", true)),
            phase(pod("d", "10.0.0.4", true), "Failed"),
        ]);
        let subsets = endpoints_subsets(&svc, &pods);
        assert_eq!(subsets.len(), 1);
        let ips = |v: &Option<Vec<EndpointAddress>>| -> Vec<String> {
            v.as_deref()
                .unwrap_or(&[])
                .iter()
                .map(|a| a.ip.clone())
                .collect()
        };
        assert_eq!(ips(&subsets[0].addresses), vec!["10.0.0.1"]);
        assert_eq!(ips(&subsets[0].not_ready_addresses), vec!["10.0.0.2"]);
        let ports = subsets[0].ports.clone().unwrap_or_default();
        assert_eq!(
            (ports[0].name.as_deref(), ports[0].port),
            (Some("http"), 8080)
        );
        // publishNotReadyAddresses: all non-terminal pods with IPs are ready addresses,
        // terminating ones included.
        let mut publish = svc.clone();
        if let Some(s) = publish.spec.as_mut() {
            s.publish_not_ready_addresses = Some(true);
        }
        let subsets = endpoints_subsets(&publish, &pods);
        assert_eq!(
            ips(&subsets[0].addresses),
            vec!["10.0.0.1", "10.0.0.2", "10.0.0.3"]
        );
        // Headless without ports: addresses alone.
        let mut headless = service("web", vec![]);
        if let Some(s) = headless.spec.as_mut() {
            s.cluster_ip = Some("None".into());
        }
        let subsets = endpoints_subsets(&headless, &pods);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_none());
        // Not headless without ports: nothing.
        assert!(endpoints_subsets(&service("web", vec![]), &pods).is_empty());
        // Two ports, one unresolvable for a pod: repacked into two subsets.
        let two = service(
            "web",
            vec![
                port("http", 80, Some(IntOrString::String("http".into()))),
                port("raw", 81, Some(IntOrString::Int(9000))),
            ],
        );
        let mut other = pod("e", "10.0.0.5", true);
        if let Some(s) = other.spec.as_mut() {
            s.containers[0].ports = None;
        }
        let subsets = endpoints_subsets(&two, &arcs(vec![pod("a", "10.0.0.1", true), other]));
        assert_eq!(subsets.len(), 2);
        let sizes: Vec<usize> = subsets
            .iter()
            .map(|s| s.ports.as_ref().map_or(0, Vec::len))
            .collect();
        assert!(sizes.contains(&1) && sizes.contains(&2), "{sizes:?}");
    }

    /// Upstream: `endpoints_controller_test.go` `TestTruncateEndpoints`.
    #[test]
    fn truncate_cases() {
        fn addrs(n: usize, prefix: &str) -> Option<Vec<EndpointAddress>> {
            Some(
                (0..n)
                    .map(|i| EndpointAddress {
                        ip: format!("{prefix}{i}"),
                        ..EndpointAddress::default()
                    })
                    .collect(),
            )
        }
        // (ready per subset, not ready per subset, expected ready, expected not ready)
        let cases: Vec<(&str, Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>)> = vec![
            (
                "Endpoints under max capacity",
                vec![50, 50],
                vec![0, 0],
                vec![50, 50],
                vec![0, 0],
            ),
            (
                "Ready and not ready under max capacity",
                vec![500, 200],
                vec![200, 100],
                vec![500, 200],
                vec![200, 100],
            ),
            (
                "Ready over max capacity",
                vec![1000, 200],
                vec![0, 0],
                vec![834, 166],
                vec![0, 0],
            ),
            (
                "Ready and not ready over max capacity",
                vec![700, 200],
                vec![300, 100],
                vec![700, 200],
                vec![75, 25],
            ),
        ];
        for (name, ready, not_ready, want_ready, want_not_ready) in cases {
            let mut subsets: Vec<EndpointSubset> = ready
                .iter()
                .zip(&not_ready)
                .map(|(r, n)| EndpointSubset {
                    addresses: addrs(*r, "r"),
                    not_ready_addresses: addrs(*n, "n"),
                    ports: None,
                })
                .collect();
            let over = ready.iter().chain(&not_ready).sum::<usize>() > MAX_ENDPOINTS_CAPACITY;
            assert_eq!(truncate_subsets(&mut subsets), over, "{name}");
            let got_ready: Vec<usize> = subsets
                .iter()
                .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
                .collect();
            let got_not: Vec<usize> = subsets
                .iter()
                .map(|s| s.not_ready_addresses.as_ref().map_or(0, Vec::len))
                .collect();
            assert_eq!((got_ready, got_not), (want_ready, want_not_ready), "{name}");
        }
    }
}
