//! Parsing a spec, checking its rules and expanding it into providers, pools, hypervisor hosts
//! and nodes with names, addresses, pod CIDRs, provider IDs, labels, taints, capacity and
//! allocatable. The rules and schemes are documented in `docs/CLUSTER_SPEC.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use kubetwin_core::quantity::{Format, Quantity};
use kubetwin_core::validation::{is_dns1123_label, is_qualified_name, is_valid_label_value};

use crate::allocatable::{
    RESERVABLE_RESOURCES, RESOURCE_CPU, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_GPU, RESOURCE_MEMORY,
    RESOURCE_PODS, Reservations, ResourceList, allocatable, parse_eviction_hard,
    validate_node_allocatable,
};
use crate::error::{ClusterError, FieldError};
use crate::kubelet::{KubeletBehavior, validate_kubelet_spec};
use crate::net::{Ipv4Cidr, MAX_SUBNET_DIFF};
use crate::node::{
    ANNOTATION_CAPACITY_TYPE, ANNOTATION_CONTROLLER_MANAGED_ATTACH, ANNOTATION_HOURLY_PRICE,
    DERIVED_LABELS, LABEL_ARCH, LABEL_ARCH_BETA, LABEL_CLUSTER_NAME, LABEL_HOSTNAME,
    LABEL_HYPERVISOR_HOST, LABEL_INSTANCE_TYPE, LABEL_INSTANCE_TYPE_BETA, LABEL_LIFECYCLE,
    LABEL_OS, LABEL_OS_BETA, LABEL_PLATFORM, LABEL_POOL, LABEL_PROVIDER, LABEL_REGION,
    LABEL_REGION_BETA, LABEL_ZONE, LABEL_ZONE_BETA, NodeInfo, SimNode, Taint, hex128, stable_hash,
    uuid,
};
use crate::quantity::SpecQuantity;
use crate::spec::{
    API_VERSION, Arch, CapacityType, ClusterSpec, KIND, KubeletSpec, NodeInfoSpec, ProviderKind,
    ProviderType, ReservationsSpec,
};

/// `status.nodeInfo.kubeletVersion` when the spec names none (the API server's own version).
pub const DEFAULT_KUBERNETES_VERSION: &str = "v1.34.0-kubetwin";
/// Default cluster CIDR for pods.
pub const DEFAULT_POD_CIDR: &str = "10.244.0.0/16";
/// Default per-node pod CIDR prefix (kube-controller-manager `--node-cidr-mask-size-ipv4`).
pub const DEFAULT_NODE_CIDR_MASK_SIZE: u8 = 24;
/// Default Service range (the API server allocates cluster IPs from it).
pub const DEFAULT_SERVICE_CIDR: &str = "10.96.0.0/12";
/// Default range automatic zone subnets come from.
pub const DEFAULT_NODE_NETWORK: &str = "10.0.0.0/12";
/// Default prefix of automatic zone subnets.
pub const DEFAULT_ZONE_SUBNET_MASK_SIZE: u8 = 20;
/// Default `status.nodeInfo.osImage`.
pub const DEFAULT_OS_IMAGE: &str = "Talos (v1.11.1)";
/// Default `status.nodeInfo.kernelVersion`.
pub const DEFAULT_KERNEL_VERSION: &str = "6.12.45-talos";
/// Default `status.nodeInfo.containerRuntimeVersion`.
pub const DEFAULT_CONTAINER_RUNTIME_VERSION: &str = "containerd://2.1.4";
/// Default root disk.
pub const DEFAULT_EPHEMERAL_STORAGE: &str = "100Gi";
/// Default kubelet `maxPods`.
pub const DEFAULT_MAX_PODS: u32 = 110;
/// Node InternalIPs start this many addresses into the zone subnet (room for gateways, DNS
/// and hypervisors); the last address (broadcast) is never used.
pub const FIRST_NODE_IP_OFFSET: u64 = 10;
/// The most nodes one spec may expand to.
pub const MAX_NODES: u64 = 100_000;
/// The longest node name: it is also the `kubernetes.io/hostname` label value.
pub const MAX_NODE_NAME_LEN: usize = 63;

/// Cluster-wide settings with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSettings {
    /// `metadata.name`.
    pub name: String,
    /// Kubelet version of every node.
    pub kubernetes_version: String,
    /// The cluster CIDR for pods.
    pub pod_cidr: Ipv4Cidr,
    /// Prefix length of each node's pod CIDR.
    pub node_cidr_mask_size: u8,
    /// The Service range.
    pub service_cidr: Ipv4Cidr,
    /// The range automatic zone subnets come from.
    pub node_network: Ipv4Cidr,
    /// Prefix of automatic zone subnets.
    pub zone_subnet_mask_size: u8,
}

/// A provider with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// Name.
    pub name: String,
    /// Implementation modelled.
    pub provider_type: ProviderType,
    /// On-premises or cloud.
    pub kind: ProviderKind,
    /// `node.cloudprovider.kubernetes.io/platform` value.
    pub platform: String,
    /// Regions in spec order.
    pub regions: Vec<Region>,
}

/// A region with its zones.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Name.
    pub name: String,
    /// Zones in spec order.
    pub zones: Vec<Zone>,
}

/// A zone with its node subnet.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Name.
    pub name: String,
    /// Where node InternalIPs come from.
    pub node_subnet: Ipv4Cidr,
}

/// A hypervisor host and the VM nodes placed on it.
#[derive(Debug, Clone, PartialEq)]
pub struct HypervisorHost {
    /// Name.
    pub name: String,
    /// Provider name.
    pub provider: String,
    /// Region.
    pub region: String,
    /// Zone.
    pub zone: String,
    /// Physical CPU, if given.
    pub cpu: Option<Quantity>,
    /// Physical memory, if given.
    pub memory: Option<Quantity>,
    /// Names of the nodes running on it, in node order.
    pub nodes: Vec<String>,
}

/// A pool's machine shape with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    /// Name.
    pub name: String,
    /// CPU.
    pub cpu: Quantity,
    /// Memory.
    pub memory: Quantity,
    /// Root disk.
    pub ephemeral_storage: Quantity,
    /// Kubelet `maxPods`.
    pub max_pods: u32,
    /// `nvidia.com/gpu` count.
    pub gpus: u32,
    /// Architecture.
    pub arch: Arch,
    /// Price per node-hour.
    pub hourly_price: f64,
}

/// A node pool with defaults applied: the template of its nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePool {
    /// Name.
    pub name: String,
    /// Provider name.
    pub provider: String,
    /// Provider implementation.
    pub provider_type: ProviderType,
    /// On-premises or cloud.
    pub provider_kind: ProviderKind,
    /// Region.
    pub region: String,
    /// Zones, in spread order.
    pub zones: Vec<String>,
    /// Node count.
    pub count: u32,
    /// Spot or on-demand.
    pub capacity_type: CapacityType,
    /// Machine shape.
    pub instance_type: InstanceType,
    /// The pool's own extra labels (node objects carry these plus the derived ones).
    pub labels: BTreeMap<String, String>,
    /// The pool's own extra annotations.
    pub annotations: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// Hosts the pool's VMs may use (empty for cloud pools).
    pub hypervisor_hosts: Vec<String>,
    /// Kubelet behaviour.
    pub kubelet: KubeletBehavior,
    /// Reservations.
    pub reservations: Reservations,
    /// `status.capacity` of each node.
    pub capacity: ResourceList,
    /// `status.allocatable` of each node.
    pub allocatable: ResourceList,
    /// `status.nodeInfo.osImage`.
    pub os_image: String,
    /// `status.nodeInfo.kernelVersion`.
    pub kernel_version: String,
    /// `status.nodeInfo.containerRuntimeVersion`.
    pub container_runtime_version: String,
}

/// A validated cluster: its spec, resolved parts and every node.
#[derive(Debug, Clone)]
pub struct Cluster {
    spec: ClusterSpec,
    settings: ClusterSettings,
    providers: Vec<Provider>,
    pools: Vec<NodePool>,
    hosts: Vec<HypervisorHost>,
    nodes: Vec<SimNode>,
    node_index: BTreeMap<String, usize>,
}

/// Parses a YAML document into the typed spec, without checking cross-field rules.
pub fn parse_spec(text: &str) -> Result<ClusterSpec, ClusterError> {
    let mut error_path: Option<String> = None;
    let parsed = serde_saphyr::with_deserializer_from_str(text, |deserializer| {
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            error_path = Some(e.path().to_string());
            e.into_inner()
        })
    });
    parsed.map_err(|e| {
        let location = e.location();
        let rendered = e.without_snippet().to_string();
        ClusterError::Parse {
            path: error_path.unwrap_or_else(|| ".".to_string()),
            message: strip_location_prefix(&rendered).to_string(),
            line: location.as_ref().map(|l| l.line() as usize),
            column: location.as_ref().map(|l| l.column() as usize),
        }
    })
}

/// serde-saphyr renders `error: line L column C: message`; the location is reported
/// separately, so only the message is kept.
fn strip_location_prefix(rendered: &str) -> &str {
    let mut rest = rendered.strip_prefix("error: ").unwrap_or(rendered);
    if let Some(after_line) = rest.strip_prefix("line ")
        && let Some((_, message)) = after_line.split_once(": ")
        && after_line.contains(" column ")
    {
        rest = message;
    }
    // Messages raised by our own deserializers also end in ` at line L, column C`.
    if let Some((message, tail)) = rest.rsplit_once(" at line ")
        && tail.contains(", column ")
        && tail
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == ' ' || c.is_ascii_lowercase())
    {
        rest = message;
    }
    rest
}

impl Cluster {
    /// Parses and validates a YAML cluster spec.
    pub fn from_yaml(text: &str) -> Result<Self, ClusterError> {
        Self::from_spec(parse_spec(text)?)
    }

    /// Validates a typed spec and expands it.
    pub fn from_spec(spec: ClusterSpec) -> Result<Self, ClusterError> {
        Builder::new(&spec).build().map(|parts| Cluster {
            spec,
            settings: parts.settings,
            providers: parts.providers,
            pools: parts.pools,
            hosts: parts.hosts,
            node_index: parts
                .nodes
                .iter()
                .map(|n| (n.name.clone(), n.index))
                .collect(),
            nodes: parts.nodes,
        })
    }

    /// The spec as YAML (parses back to an equal spec).
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_saphyr::to_string(&self.spec).map_err(|e| e.to_string())
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Settings with defaults applied.
    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// Providers in spec order.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// Pools in spec order.
    pub fn pools(&self) -> &[NodePool] {
        &self.pools
    }

    /// The pool of that name.
    pub fn pool(&self, name: &str) -> Option<&NodePool> {
        self.pools.iter().find(|p| p.name == name)
    }

    /// Hypervisor hosts in spec order.
    pub fn hypervisor_hosts(&self) -> &[HypervisorHost] {
        &self.hosts
    }

    /// Every node, in the documented order (pools, then zones, then ordinal).
    pub fn nodes(&self) -> &[SimNode] {
        &self.nodes
    }

    /// The node of that name.
    pub fn node(&self, name: &str) -> Option<&SimNode> {
        self.node_index.get(name).and_then(|&i| self.nodes.get(i))
    }

    /// Every node as a v1 Node JSON object, in node order.
    pub fn node_objects(&self) -> Vec<serde_json::Value> {
        self.nodes.iter().map(SimNode::to_node_json).collect()
    }

    /// Total price of all nodes per hour.
    pub fn hourly_cost(&self) -> f64 {
        self.nodes.iter().map(|n| n.hourly_price).sum()
    }
}

/// The resolved parts `Builder` produces.
struct Parts {
    settings: ClusterSettings,
    providers: Vec<Provider>,
    pools: Vec<NodePool>,
    hosts: Vec<HypervisorHost>,
    nodes: Vec<SimNode>,
}

/// Where a zone is declared.
#[derive(Clone)]
struct ZoneRef {
    provider: usize,
    region: String,
    subnet: Option<Ipv4Cidr>,
    path: String,
}

struct Builder<'a> {
    spec: &'a ClusterSpec,
    errors: Vec<FieldError>,
}

fn label_value_errors(value: &str) -> Option<String> {
    let problems = is_valid_label_value(value);
    (!problems.is_empty()).then(|| format!("invalid value {value:?}: {}", problems.join("; ")))
}

fn dns_label_errors(value: &str) -> Option<String> {
    let problems = is_dns1123_label(value);
    (!problems.is_empty()).then(|| format!("invalid name {value:?}: {}", problems.join("; ")))
}

impl<'a> Builder<'a> {
    fn new(spec: &'a ClusterSpec) -> Self {
        Self {
            spec,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, message));
    }

    fn fail(self) -> ClusterError {
        ClusterError::Invalid(self.errors)
    }

    fn check_dns_label(&mut self, path: String, value: &str) {
        if let Some(message) = dns_label_errors(value) {
            self.error(path, message);
        }
    }

    fn check_label_value(&mut self, path: String, value: &str) {
        if value.is_empty() {
            self.error(path, "must not be empty");
        } else if let Some(message) = label_value_errors(value) {
            self.error(path, message);
        }
    }

    fn build(mut self) -> Result<Parts, ClusterError> {
        let spec = self.spec;
        if spec.api_version != API_VERSION {
            self.error(
                "apiVersion",
                format!(
                    "unsupported value {:?}: supported values: {API_VERSION:?}",
                    spec.api_version
                ),
            );
        }
        if spec.kind != KIND {
            self.error(
                "kind",
                format!(
                    "unsupported value {:?}: supported values: {KIND:?}",
                    spec.kind
                ),
            );
        }
        self.check_dns_label("metadata.name".into(), &spec.metadata.name);
        let settings = self.settings();
        let Some(settings) = settings else {
            return Err(self.fail());
        };
        let (providers, zones) = self.providers(&settings);
        let pools = self.pools(&providers, &zones, &settings);
        if !self.errors.is_empty() {
            return Err(self.fail());
        }
        let (nodes, hosts) = self.expand(&settings, &providers, &pools);
        if !self.errors.is_empty() {
            return Err(self.fail());
        }
        Ok(Parts {
            settings,
            providers,
            pools,
            hosts,
            nodes,
        })
    }

    fn settings(&mut self) -> Option<ClusterSettings> {
        let defaults = crate::spec::SettingsSpec::default();
        let given = self.spec.settings.as_ref().unwrap_or(&defaults);
        let parse_default = |text: &str| Ipv4Cidr::parse(text).ok();
        let pod_cidr = given.pod_cidr.or_else(|| parse_default(DEFAULT_POD_CIDR))?;
        let service_cidr = given
            .service_cidr
            .or_else(|| parse_default(DEFAULT_SERVICE_CIDR))?;
        let node_network = given
            .node_network
            .or_else(|| parse_default(DEFAULT_NODE_NETWORK))?;
        let node_cidr_mask_size = given
            .node_cidr_mask_size
            .unwrap_or(DEFAULT_NODE_CIDR_MASK_SIZE);
        let zone_subnet_mask_size = given
            .zone_subnet_mask_size
            .unwrap_or(DEFAULT_ZONE_SUBNET_MASK_SIZE);
        let kubernetes_version = given
            .kubernetes_version
            .clone()
            .unwrap_or_else(|| DEFAULT_KUBERNETES_VERSION.to_string());

        let low = pod_cidr.prefix_len();
        let high = (low + MAX_SUBNET_DIFF).min(32);
        if node_cidr_mask_size < low || node_cidr_mask_size > high {
            self.error(
                "settings.nodeCIDRMaskSize",
                format!(
                    "must be between {low} and {high} for podCIDR {pod_cidr}: node IPAM splits the cluster CIDR into at most 2^{MAX_SUBNET_DIFF} node CIDRs"
                ),
            );
        }
        if zone_subnet_mask_size < node_network.prefix_len() || zone_subnet_mask_size > 28 {
            self.error(
                "settings.zoneSubnetMaskSize",
                format!(
                    "must be between {} and 28 for nodeNetwork {node_network}",
                    node_network.prefix_len()
                ),
            );
        }
        let version_ok = kubernetes_version.len() <= 64
            && kubernetes_version.starts_with('v')
            && kubernetes_version[1..].starts_with(|c: char| c.is_ascii_digit())
            && kubernetes_version.chars().all(|c| c.is_ascii_graphic());
        if !version_ok {
            self.error(
                "settings.kubernetesVersion",
                format!(
                    "invalid version {kubernetes_version:?}: must look like \"v1.34.0\" (at most 64 printable characters)"
                ),
            );
        }
        if let Some(node_info) = &given.node_info {
            self.check_node_info("settings.nodeInfo", node_info);
        }
        if let Some(kubelet) = &given.kubelet {
            self.check_kubelet("settings.kubelet", kubelet);
        }
        if let Some(reservations) = &given.reservations {
            self.check_reservations("settings.reservations", reservations);
        }
        Some(ClusterSettings {
            name: self.spec.metadata.name.clone(),
            kubernetes_version,
            pod_cidr,
            node_cidr_mask_size,
            service_cidr,
            node_network,
            zone_subnet_mask_size,
        })
    }

    fn check_node_info(&mut self, path: &str, info: &NodeInfoSpec) {
        for (field, value) in [
            ("osImage", &info.os_image),
            ("kernelVersion", &info.kernel_version),
            ("containerRuntimeVersion", &info.container_runtime_version),
        ] {
            if let Some(value) = value
                && value.trim().is_empty()
            {
                self.error(format!("{path}.{field}"), "must not be empty");
            }
        }
    }

    fn check_kubelet(&mut self, path: &str, kubelet: &KubeletSpec) {
        for (field, message) in validate_kubelet_spec(kubelet) {
            self.error(format!("{path}.{field}"), message);
        }
    }

    fn check_reservations(&mut self, path: &str, reservations: &ReservationsSpec) {
        for (field, list) in [
            ("kubeReserved", &reservations.kube_reserved),
            ("systemReserved", &reservations.system_reserved),
        ] {
            for (name, amount) in list.iter().flatten() {
                let at = format!("{path}.{field}[{name}]");
                if !RESERVABLE_RESOURCES.contains(&name.as_str()) {
                    self.error(
                        at,
                        format!(
                            "cannot reserve {name:?} resource: supported resources are {}",
                            RESERVABLE_RESOURCES.join(", ")
                        ),
                    );
                } else if amount.quantity().sign() < 0 {
                    self.error(
                        at,
                        format!("resource quantity for {name:?} cannot be negative: {amount}"),
                    );
                }
            }
        }
        if let Some(map) = &reservations.eviction_hard
            && let Err((signal, message)) = parse_eviction_hard(map)
        {
            self.error(format!("{path}.evictionHard[{signal}]"), message);
        }
    }

    /// Providers with zone subnets assigned, plus every zone by name.
    fn providers(
        &mut self,
        settings: &ClusterSettings,
    ) -> (Vec<Provider>, BTreeMap<String, ZoneRef>) {
        let spec = self.spec;
        if spec.providers.is_empty() {
            self.error("providers", "must have at least one provider");
        }
        let mut provider_names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut region_paths: BTreeMap<&str, String> = BTreeMap::new();
        let mut zones: BTreeMap<String, ZoneRef> = BTreeMap::new();
        let mut zone_order: Vec<String> = Vec::new();
        let mut host_names: BTreeMap<&str, String> = BTreeMap::new();
        for (p, provider) in spec.providers.iter().enumerate() {
            let base = format!("providers[{p}]");
            self.check_dns_label(format!("{base}.name"), &provider.name);
            if let Some(first) = provider_names.insert(&provider.name, p) {
                self.error(
                    format!("{base}.name"),
                    format!(
                        "duplicate provider name {:?} (also providers[{first}])",
                        provider.name
                    ),
                );
            }
            if let Some(platform) = &provider.platform {
                self.check_label_value(format!("{base}.platform"), platform);
            }
            if let Some(project) = &provider.project {
                self.check_dns_label(format!("{base}.project"), project);
            }
            if provider.regions.is_empty() {
                self.error(format!("{base}.regions"), "must have at least one region");
            }
            for (r, region) in provider.regions.iter().enumerate() {
                let rpath = format!("{base}.regions[{r}]");
                self.check_label_value(format!("{rpath}.name"), &region.name);
                if let Some(first) = region_paths.insert(&region.name, rpath.clone()) {
                    self.error(
                        format!("{rpath}.name"),
                        format!("duplicate region {:?} (also {first})", region.name),
                    );
                }
                if region.zones.is_empty() {
                    self.error(format!("{rpath}.zones"), "must have at least one zone");
                }
                for (z, zone) in region.zones.iter().enumerate() {
                    let zpath = format!("{rpath}.zones[{z}]");
                    self.check_dns_label(format!("{zpath}.name"), &zone.name);
                    if let Some(first) = zones.get(&zone.name) {
                        let first = first.path.clone();
                        self.error(
                            format!("{zpath}.name"),
                            format!("duplicate zone {:?} (also {first})", zone.name),
                        );
                        continue;
                    }
                    zones.insert(
                        zone.name.clone(),
                        ZoneRef {
                            provider: p,
                            region: region.name.clone(),
                            subnet: zone.node_subnet,
                            path: zpath,
                        },
                    );
                    zone_order.push(zone.name.clone());
                }
            }
            let kind = provider_kind(provider.provider_type, provider.kind);
            if kind == ProviderKind::Cloud && !provider.hypervisor_hosts.is_empty() {
                self.error(
                    format!("{base}.hypervisorHosts"),
                    "only on-premises providers (kind: onprem) have hypervisor hosts",
                );
            }
            for (h, host) in provider.hypervisor_hosts.iter().enumerate() {
                let hpath = format!("{base}.hypervisorHosts[{h}]");
                self.check_dns_label(format!("{hpath}.name"), &host.name);
                if let Some(first) = host_names.insert(&host.name, hpath.clone()) {
                    self.error(
                        format!("{hpath}.name"),
                        format!("duplicate hypervisor host {:?} (also {first})", host.name),
                    );
                }
                let in_provider = provider
                    .regions
                    .iter()
                    .any(|r| r.zones.iter().any(|z| z.name == host.zone));
                if !in_provider {
                    self.error(
                        format!("{hpath}.zone"),
                        format!(
                            "zone {:?} is not a zone of provider {:?}",
                            host.zone, provider.name
                        ),
                    );
                }
                for (field, amount) in [("cpu", &host.cpu), ("memory", &host.memory)] {
                    if let Some(amount) = amount
                        && amount.quantity().sign() <= 0
                    {
                        self.error(format!("{hpath}.{field}"), "must be greater than zero");
                    }
                }
            }
        }
        let subnets = self.zone_subnets(settings, &zones, &zone_order);
        let providers =
            spec.providers
                .iter()
                .map(|provider| Provider {
                    name: provider.name.clone(),
                    provider_type: provider.provider_type,
                    kind: provider_kind(provider.provider_type, provider.kind),
                    platform: provider.platform.clone().unwrap_or_else(|| {
                        default_platform(provider.provider_type, &provider.name)
                    }),
                    regions: provider
                        .regions
                        .iter()
                        .map(|region| Region {
                            name: region.name.clone(),
                            zones: region
                                .zones
                                .iter()
                                .filter_map(|zone| {
                                    subnets.get(&zone.name).map(|subnet| Zone {
                                        name: zone.name.clone(),
                                        node_subnet: *subnet,
                                    })
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect();
        (providers, zones)
    }

    /// Explicit zone subnets, checked for overlaps, plus automatic ones from the node network.
    fn zone_subnets(
        &mut self,
        settings: &ClusterSettings,
        zones: &BTreeMap<String, ZoneRef>,
        zone_order: &[String],
    ) -> BTreeMap<String, Ipv4Cidr> {
        let mut taken: Vec<(Ipv4Cidr, String)> = vec![
            (settings.pod_cidr, "settings.podCIDR".to_string()),
            (settings.service_cidr, "settings.serviceCIDR".to_string()),
        ];
        let mut result = BTreeMap::new();
        for name in zone_order {
            let Some(zone) = zones.get(name) else {
                continue;
            };
            let Some(subnet) = zone.subnet else {
                continue;
            };
            let path = format!("{}.nodeSubnet", zone.path);
            if let Some((other, other_path)) = taken.iter().find(|(c, _)| c.overlaps(&subnet)) {
                self.error(
                    path.clone(),
                    format!("{subnet} overlaps {other} ({other_path})"),
                );
            }
            if subnet.size() <= FIRST_NODE_IP_OFFSET + 1 {
                self.error(
                    path.clone(),
                    format!("{subnet} is too small: node addresses start at offset {FIRST_NODE_IP_OFFSET}"),
                );
            }
            taken.push((subnet, path));
            result.insert(name.clone(), subnet);
        }
        let network = settings.node_network;
        let mask = settings.zone_subnet_mask_size;
        let mut cursor = 0_u64;
        for name in zone_order {
            let Some(zone) = zones.get(name) else {
                continue;
            };
            if zone.subnet.is_some() {
                continue;
            }
            loop {
                let Some(candidate) = network.subnet(mask, cursor) else {
                    self.error(
                        "settings.nodeNetwork",
                        format!(
                            "{network} has no free /{mask} subnet left for zone {name:?}; give the zone a nodeSubnet or widen nodeNetwork"
                        ),
                    );
                    return result;
                };
                cursor += 1;
                if taken.iter().all(|(c, _)| !c.overlaps(&candidate)) {
                    taken.push((candidate, format!("{}.nodeSubnet", zone.path)));
                    result.insert(name.clone(), candidate);
                    break;
                }
            }
        }
        result
    }

    fn pools(
        &mut self,
        providers: &[Provider],
        zones: &BTreeMap<String, ZoneRef>,
        settings: &ClusterSettings,
    ) -> Vec<NodePool> {
        let spec = self.spec;
        let empty_settings = crate::spec::SettingsSpec::default();
        let cluster_settings = spec.settings.as_ref().unwrap_or(&empty_settings);
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut total: u64 = 0;
        let mut pools = Vec::new();
        for (i, pool) in spec.pools.iter().enumerate() {
            let base = format!("pools[{i}]");
            self.check_dns_label(format!("{base}.name"), &pool.name);
            if let Some(first) = names.insert(&pool.name, i) {
                self.error(
                    format!("{base}.name"),
                    format!("duplicate pool name {:?} (also pools[{first}])", pool.name),
                );
            }
            total += u64::from(pool.count);
            let Some(provider_index) = spec.providers.iter().position(|p| p.name == pool.provider)
            else {
                self.error(
                    format!("{base}.provider"),
                    format!("unknown provider {:?}", pool.provider),
                );
                continue;
            };
            let provider_spec = &spec.providers[provider_index];
            let Some(provider) = providers.get(provider_index) else {
                continue;
            };
            let region = match &pool.region {
                Some(region) => region.clone(),
                None if provider_spec.regions.len() == 1 => provider_spec.regions[0].name.clone(),
                None => {
                    self.error(
                        format!("{base}.region"),
                        format!(
                            "required: provider {:?} has {} regions",
                            provider.name,
                            provider_spec.regions.len()
                        ),
                    );
                    continue;
                }
            };
            let Some(region_spec) = provider_spec.regions.iter().find(|r| r.name == region) else {
                self.error(
                    format!("{base}.region"),
                    format!(
                        "region {region:?} is not a region of provider {:?}",
                        provider.name
                    ),
                );
                continue;
            };
            let pool_zones: Vec<String> = match &pool.zones {
                Some(list) => list.clone(),
                None => region_spec.zones.iter().map(|z| z.name.clone()).collect(),
            };
            if pool_zones.is_empty() {
                self.error(format!("{base}.zones"), "must list at least one zone");
            }
            let mut seen = BTreeSet::new();
            for (z, zone) in pool_zones.iter().enumerate() {
                let zpath = format!("{base}.zones[{z}]");
                if !seen.insert(zone) {
                    self.error(zpath, format!("duplicate zone {zone:?}"));
                    continue;
                }
                match zones.get(zone) {
                    Some(found) if found.provider == provider_index && found.region == region => {}
                    _ => self.error(
                        zpath,
                        format!("zone {zone:?} is not a zone of region {region:?}"),
                    ),
                }
            }
            let capacity_type = pool.capacity_type.unwrap_or(CapacityType::OnDemand);
            if capacity_type == CapacityType::Spot && provider.kind == ProviderKind::Onprem {
                self.error(
                    format!("{base}.capacityType"),
                    "spot capacity needs a cloud provider (kind: cloud)",
                );
            }
            let instance_type = self.instance_type(&base, pool);
            self.pool_labels(&base, &pool.labels, &pool.annotations);
            let taints = self.taints(&base, pool);
            let hypervisor_hosts = self.pool_hosts(&base, pool, provider_spec, provider.kind);
            if let Some(kubelet) = &pool.kubelet {
                self.check_kubelet(&format!("{base}.kubelet"), kubelet);
            }
            if let Some(reservations) = &pool.reservations {
                self.check_reservations(&format!("{base}.reservations"), reservations);
            }
            if let Some(info) = &pool.node_info {
                self.check_node_info(&format!("{base}.nodeInfo"), info);
            }
            let Some(instance_type) = instance_type else {
                continue;
            };
            let mut kubelet = KubeletBehavior::default();
            for layer in [&cluster_settings.kubelet, &pool.kubelet]
                .into_iter()
                .flatten()
            {
                kubelet.overlay(layer);
            }
            let reservations =
                resolve_reservations(&cluster_settings.reservations, &pool.reservations);
            let capacity = node_capacity(&instance_type);
            if let Err(message) = validate_node_allocatable(&reservations, &capacity) {
                self.error(base.clone(), message);
            }
            let allocatable = allocatable(&capacity, &reservations);
            let node_info = |pick: fn(&NodeInfoSpec) -> &Option<String>, default: &str| {
                pool.node_info
                    .as_ref()
                    .and_then(|i| pick(i).clone())
                    .or_else(|| {
                        cluster_settings
                            .node_info
                            .as_ref()
                            .and_then(|i| pick(i).clone())
                    })
                    .unwrap_or_else(|| default.to_string())
            };
            pools.push(NodePool {
                name: pool.name.clone(),
                provider: provider.name.clone(),
                provider_type: provider.provider_type,
                provider_kind: provider.kind,
                region,
                zones: pool_zones,
                count: pool.count,
                capacity_type,
                instance_type,
                labels: pool.labels.clone(),
                annotations: pool.annotations.clone(),
                taints,
                hypervisor_hosts,
                kubelet,
                reservations,
                capacity,
                allocatable,
                os_image: node_info(|i| &i.os_image, DEFAULT_OS_IMAGE),
                kernel_version: node_info(|i| &i.kernel_version, DEFAULT_KERNEL_VERSION),
                container_runtime_version: node_info(
                    |i| &i.container_runtime_version,
                    DEFAULT_CONTAINER_RUNTIME_VERSION,
                ),
            });
        }
        if total > MAX_NODES {
            self.error(
                "pools",
                format!("the pools add up to {total} nodes; at most {MAX_NODES} are supported"),
            );
        } else {
            self.check_pod_cidr_room(settings, total);
        }
        pools
    }

    fn check_pod_cidr_room(&mut self, settings: &ClusterSettings, total: u64) {
        let mask = settings.node_cidr_mask_size;
        let all = settings.pod_cidr.subnet_count(mask);
        if all == 0 {
            return;
        }
        // Blocks inside the Service range are never handed out (upstream `filterOutServiceRange`).
        let usable = (0..all)
            .filter_map(|i| settings.pod_cidr.subnet(mask, i))
            .filter(|block| !block.overlaps(&settings.service_cidr))
            .count() as u64;
        if total > usable {
            self.error(
                "settings.podCIDR",
                format!(
                    "{} holds {usable} /{mask} node CIDRs outside the service range, but the pools have {total} nodes",
                    settings.pod_cidr
                ),
            );
        }
    }

    fn instance_type(&mut self, base: &str, pool: &crate::spec::PoolSpec) -> Option<InstanceType> {
        let spec = &pool.instance_type;
        let path = format!("{base}.instanceType");
        let before = self.errors.len();
        self.check_label_value(format!("{path}.name"), &spec.name);
        let positive = |this: &mut Self, field: &str, amount: &SpecQuantity| {
            if amount.quantity().sign() <= 0 {
                this.error(format!("{path}.{field}"), "must be greater than zero");
            }
        };
        positive(self, "cpu", &spec.cpu);
        positive(self, "memory", &spec.memory);
        let ephemeral = match &spec.ephemeral_storage {
            Some(amount) => {
                positive(self, "ephemeralStorage", amount);
                amount.quantity().clone()
            }
            None => Quantity::parse(DEFAULT_EPHEMERAL_STORAGE).unwrap_or_default(),
        };
        let max_pods = spec.max_pods.unwrap_or(DEFAULT_MAX_PODS);
        if max_pods == 0 {
            self.error(format!("{path}.maxPods"), "must be greater than zero");
        }
        let price = spec.hourly_price.unwrap_or(0.0);
        if !price.is_finite() || price < 0.0 {
            self.error(
                format!("{path}.hourlyPrice"),
                format!("must be a non-negative number, got {price}"),
            );
        }
        if self.errors.len() != before {
            return None;
        }
        Some(InstanceType {
            name: spec.name.clone(),
            cpu: spec.cpu.quantity().clone(),
            memory: spec.memory.quantity().clone(),
            ephemeral_storage: ephemeral,
            max_pods,
            gpus: spec.gpus.unwrap_or(0),
            arch: spec.arch.unwrap_or(Arch::Amd64),
            hourly_price: price,
        })
    }

    fn pool_labels(
        &mut self,
        base: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) {
        for (key, value) in labels {
            let path = format!("{base}.labels[{key}]");
            let problems = is_qualified_name(key);
            if !problems.is_empty() {
                self.error(
                    path,
                    format!("invalid label key {key:?}: {}", problems.join("; ")),
                );
                continue;
            }
            if DERIVED_LABELS.contains(&key.as_str()) {
                self.error(
                    path,
                    format!("label {key:?} is set from the spec and may not be overridden"),
                );
                continue;
            }
            if let Some(message) = label_value_errors(value) {
                self.error(path, message);
            }
        }
        for key in annotations.keys() {
            let problems = is_qualified_name(&key.to_lowercase());
            if !problems.is_empty() {
                self.error(
                    format!("{base}.annotations[{key}]"),
                    format!("invalid annotation key {key:?}: {}", problems.join("; ")),
                );
            }
        }
    }

    fn taints(&mut self, base: &str, pool: &crate::spec::PoolSpec) -> Vec<Taint> {
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut taints = Vec::new();
        for (t, taint) in pool.taints.iter().enumerate() {
            let path = format!("{base}.taints[{t}]");
            let problems = is_qualified_name(&taint.key);
            if !problems.is_empty() {
                self.error(
                    format!("{path}.key"),
                    format!("invalid value {:?}: {}", taint.key, problems.join("; ")),
                );
            }
            let value = taint.value.clone().unwrap_or_default();
            if let Some(message) = label_value_errors(&value) {
                self.error(format!("{path}.value"), message);
            }
            // Upstream: pkg/apis/core/validation/validation.go (validateNodeTaints).
            if !seen.insert((&taint.key, taint.effect.as_str())) {
                self.error(path.clone(), "taints must be unique by key and effect pair");
            }
            taints.push(Taint {
                key: taint.key.clone(),
                value,
                effect: taint.effect,
            });
        }
        taints
    }

    fn pool_hosts(
        &mut self,
        base: &str,
        pool: &crate::spec::PoolSpec,
        provider: &crate::spec::ProviderSpec,
        kind: ProviderKind,
    ) -> Vec<String> {
        match &pool.hypervisor_hosts {
            Some(_) if kind == ProviderKind::Cloud => {
                self.error(
                    format!("{base}.hypervisorHosts"),
                    "only pools of on-premises providers run on hypervisor hosts",
                );
                Vec::new()
            }
            Some(list) => {
                for (h, host) in list.iter().enumerate() {
                    if !provider.hypervisor_hosts.iter().any(|x| &x.name == host) {
                        self.error(
                            format!("{base}.hypervisorHosts[{h}]"),
                            format!(
                                "unknown hypervisor host {host:?} of provider {:?}",
                                provider.name
                            ),
                        );
                    }
                }
                list.clone()
            }
            None => provider
                .hypervisor_hosts
                .iter()
                .map(|h| h.name.clone())
                .collect(),
        }
    }

    /// Every node, in order, plus the hosts with the VMs placed on them.
    fn expand(
        &mut self,
        settings: &ClusterSettings,
        providers: &[Provider],
        pools: &[NodePool],
    ) -> (Vec<SimNode>, Vec<HypervisorHost>) {
        let spec = self.spec;
        let cluster = settings.name.as_str();
        let subnet_of: BTreeMap<&str, Ipv4Cidr> = providers
            .iter()
            .flat_map(|p| p.regions.iter())
            .flat_map(|r| r.zones.iter())
            .map(|z| (z.name.as_str(), z.node_subnet))
            .collect();
        let mut hosts: Vec<HypervisorHost> = spec
            .providers
            .iter()
            .flat_map(|provider| {
                provider
                    .hypervisor_hosts
                    .iter()
                    .map(move |host| HypervisorHost {
                        name: host.name.clone(),
                        provider: provider.name.clone(),
                        region: provider
                            .regions
                            .iter()
                            .find(|r| r.zones.iter().any(|z| z.name == host.zone))
                            .map(|r| r.name.clone())
                            .unwrap_or_default(),
                        zone: host.zone.clone(),
                        cpu: host.cpu.as_ref().map(|q| q.quantity().clone()),
                        memory: host.memory.as_ref().map(|q| q.quantity().clone()),
                        nodes: Vec::new(),
                    })
            })
            .collect();
        let host_index: BTreeMap<String, usize> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.name.clone(), i))
            .collect();
        let mut host_memory: Vec<Quantity> = vec![Quantity::default(); hosts.len()];
        let mut next_ip: BTreeMap<&str, u64> = BTreeMap::new();
        let mut next_pod_block = 0_u64;
        let mut vmids: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut server_ids: BTreeMap<String, u64> = BTreeMap::new();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut nodes = Vec::new();

        for (p, pool) in pools.iter().enumerate() {
            let base = spec
                .pools
                .iter()
                .position(|s| s.name == pool.name)
                .map_or_else(|| format!("pools[{p}]"), |i| format!("pools[{i}]"));
            let zone_count = pool.zones.len() as u32;
            for (z, zone) in pool.zones.iter().enumerate() {
                let in_zone =
                    pool.count / zone_count + u32::from((z as u32) < pool.count % zone_count);
                if in_zone == 0 {
                    continue;
                }
                let longest = format!("{}-{}-{}", pool.name, zone, in_zone - 1);
                if longest.len() > MAX_NODE_NAME_LEN {
                    self.error(
                        format!("{base}.name"),
                        format!(
                            "node name {longest:?} (<pool>-<zone>-<n>) would be longer than {MAX_NODE_NAME_LEN} characters"
                        ),
                    );
                    continue;
                }
                let eligible_hosts: Vec<usize> = pool
                    .hypervisor_hosts
                    .iter()
                    .filter_map(|h| host_index.get(h).copied())
                    .filter(|&h| hosts[h].zone == *zone)
                    .collect();
                if !pool.hypervisor_hosts.is_empty() && eligible_hosts.is_empty() {
                    self.error(
                        format!("{base}.zones[{z}]"),
                        format!("no hypervisor host of the pool stands in zone {zone:?}"),
                    );
                    continue;
                }
                let Some(subnet) = subnet_of.get(zone.as_str()).copied() else {
                    continue;
                };
                for ordinal in 0..in_zone {
                    let name = format!("{}-{}-{}", pool.name, zone, ordinal);
                    if let Some(other) = names.insert(name.clone(), pool.name.clone()) {
                        self.error(
                            format!("{base}.name"),
                            format!("node name {name:?} is also generated by pool {other:?}"),
                        );
                        break;
                    }
                    let offset = next_ip.entry(zone.as_str()).or_insert(FIRST_NODE_IP_OFFSET);
                    let Some(internal_ip) =
                        subnet.host(*offset).filter(|_| *offset < subnet.size() - 1)
                    else {
                        self.error(
                            format!("{base}.zones[{z}]"),
                            format!("zone {zone:?} subnet {subnet} has no address left for node {name:?}"),
                        );
                        break;
                    };
                    *offset += 1;
                    let Some(pod_cidr) = next_pod_cidr(settings, &mut next_pod_block) else {
                        // check_pod_cidr_room reported it already.
                        break;
                    };
                    let host = eligible_hosts
                        .get(ordinal as usize % eligible_hosts.len().max(1))
                        .copied();
                    if let Some(h) = host {
                        hosts[h].nodes.push(name.clone());
                        host_memory[h].add(&pool.instance_type.memory);
                    }
                    let provider_id = provider_id(
                        pool,
                        cluster,
                        zone,
                        &name,
                        internal_ip,
                        &spec_project(spec, &pool.provider, cluster),
                        &mut vmids,
                        &mut server_ids,
                    );
                    let hypervisor_host = host.map(|h| hosts[h].name.clone());
                    let index = nodes.len();
                    nodes.push(build_node(NodeParts {
                        cluster,
                        settings,
                        providers,
                        pool,
                        zone,
                        name,
                        index,
                        ordinal,
                        internal_ip,
                        pod_cidr,
                        provider_id,
                        hypervisor_host,
                    }));
                }
            }
        }
        for (p, provider) in spec.providers.iter().enumerate() {
            for (h, host) in provider.hypervisor_hosts.iter().enumerate() {
                let Some(&index) = host_index.get(&host.name) else {
                    continue;
                };
                if let Some(limit) = &hosts[index].memory
                    && host_memory[index] > *limit
                {
                    let used = host_memory[index].clone();
                    self.error(
                        format!("providers[{p}].hypervisorHosts[{h}].memory"),
                        format!(
                            "the VMs placed on host {:?} need {used} of memory, more than its {limit}",
                            host.name
                        ),
                    );
                }
            }
        }
        (nodes, hosts)
    }
}

fn spec_project(spec: &ClusterSpec, provider: &str, cluster: &str) -> String {
    spec.providers
        .iter()
        .find(|p| p.name == provider)
        .and_then(|p| p.project.clone())
        .unwrap_or_else(|| cluster.to_string())
}

/// The next node CIDR in allocation order, skipping blocks inside the Service range.
fn next_pod_cidr(settings: &ClusterSettings, cursor: &mut u64) -> Option<Ipv4Cidr> {
    loop {
        let block = settings
            .pod_cidr
            .subnet(settings.node_cidr_mask_size, *cursor)?;
        *cursor += 1;
        if !block.overlaps(&settings.service_cidr) {
            return Some(block);
        }
    }
}

fn provider_kind(provider_type: ProviderType, kind: Option<ProviderKind>) -> ProviderKind {
    kind.unwrap_or(match provider_type {
        ProviderType::Proxmox | ProviderType::Baremetal => ProviderKind::Onprem,
        _ => ProviderKind::Cloud,
    })
}

/// The Talos platform name of each provider type (what Talos CCM puts in the platform label).
fn default_platform(provider_type: ProviderType, name: &str) -> String {
    match provider_type {
        // Talos runs on Proxmox VMs with its `nocloud` image.
        ProviderType::Proxmox => "nocloud".to_string(),
        ProviderType::Hetzner => "hcloud".to_string(),
        ProviderType::Aws => "aws".to_string(),
        ProviderType::Gcp => "gcp".to_string(),
        ProviderType::Baremetal => "metal".to_string(),
        ProviderType::Generic => name.to_string(),
    }
}

/// `spec.providerID` in each provider's own scheme.
#[allow(clippy::too_many_arguments)]
fn provider_id(
    pool: &NodePool,
    cluster: &str,
    zone: &str,
    name: &str,
    internal_ip: Ipv4Addr,
    project: &str,
    vmids: &mut BTreeMap<(String, String), u64>,
    server_ids: &mut BTreeMap<String, u64>,
) -> String {
    match pool.provider_type {
        // Upstream: sergelogvinov/proxmox-cloud-controller-manager pkg/provider/provider.go
        // (`proxmox://<region>/<vmid>`); Proxmox numbers guests from 100.
        ProviderType::Proxmox => {
            let next = vmids
                .entry((pool.provider.clone(), pool.region.clone()))
                .or_insert(100);
            let vmid = *next;
            *next += 1;
            format!("proxmox://{}/{vmid}", pool.region)
        }
        // Upstream: hetznercloud/hcloud-cloud-controller-manager (`hcloud://<server-id>`).
        ProviderType::Hetzner => {
            let next = server_ids
                .entry(pool.provider.clone())
                .or_insert(50_000_001);
            let id = *next;
            *next += 1;
            format!("hcloud://{id}")
        }
        // Upstream: kubernetes/cloud-provider-aws (`aws:///<availability-zone>/<instance-id>`);
        // instance IDs are `i-` and 17 hex digits.
        ProviderType::Aws => {
            let digest = stable_hash(&[cluster, name, "instance-id"]);
            format!("aws:///{zone}/i-0{digest:016x}")
        }
        // Upstream: kubernetes/cloud-provider-gcp (`gce://<project>/<zone>/<instance-name>`).
        ProviderType::Gcp => format!("gce://{project}/{zone}/{name}"),
        // Upstream: talos-cloud-controller-manager pkg/talos/instances.go, the default when
        // the platform gives none (`talos://<platform>/<node-ip>`).
        ProviderType::Baremetal => format!("talos://metal/{internal_ip}"),
        ProviderType::Generic => format!("kubetwin://{}/{name}", pool.provider),
    }
}

fn resolve_reservations(
    cluster: &Option<ReservationsSpec>,
    pool: &Option<ReservationsSpec>,
) -> Reservations {
    let pick = |f: fn(&ReservationsSpec) -> Option<&BTreeMap<String, SpecQuantity>>| {
        pool.as_ref()
            .and_then(f)
            .or_else(|| cluster.as_ref().and_then(f))
            .map(|list| {
                list.iter()
                    .filter(|(name, _)| name.as_str() != crate::allocatable::RESOURCE_PID)
                    .map(|(name, amount)| (name.clone(), amount.quantity().clone()))
                    .collect::<ResourceList>()
            })
            .unwrap_or_default()
    };
    let mut reservations = Reservations::kubelet_defaults();
    reservations.kube_reserved = pick(|r| r.kube_reserved.as_ref());
    reservations.system_reserved = pick(|r| r.system_reserved.as_ref());
    let eviction = pool
        .as_ref()
        .and_then(|r| r.eviction_hard.as_ref())
        .or_else(|| cluster.as_ref().and_then(|r| r.eviction_hard.as_ref()));
    if let Some(map) = eviction {
        // Validated already; an invalid map was reported at its path.
        reservations.eviction_hard = parse_eviction_hard(map).unwrap_or_default();
    }
    reservations
}

/// `status.capacity` as the kubelet reports it from cAdvisor and device plugins
/// (`cadvisor.CapacityFromMachineInfo`: CPU in milli-units, memory and hugepages in bytes).
pub fn node_capacity(instance_type: &InstanceType) -> ResourceList {
    let mut capacity = ResourceList::new();
    capacity.insert(
        RESOURCE_CPU.to_string(),
        Quantity::from_milli(instance_type.cpu.milli_value(), Format::DecimalSI),
    );
    capacity.insert(
        RESOURCE_MEMORY.to_string(),
        Quantity::new(instance_type.memory.value(), Format::BinarySI),
    );
    capacity.insert(
        RESOURCE_EPHEMERAL_STORAGE.to_string(),
        Quantity::new(instance_type.ephemeral_storage.value(), Format::BinarySI),
    );
    capacity.insert(
        RESOURCE_PODS.to_string(),
        Quantity::new(i64::from(instance_type.max_pods), Format::DecimalSI),
    );
    // Hugepage sizes the kernel offers; none are preallocated.
    let hugepage_sizes: &[&str] = match instance_type.arch {
        Arch::Amd64 => &["1Gi", "2Mi"],
        Arch::Arm64 => &["1Gi", "2Mi", "32Mi", "64Ki"],
    };
    for size in hugepage_sizes {
        capacity.insert(
            format!("hugepages-{size}"),
            Quantity::new(0, Format::BinarySI),
        );
    }
    if instance_type.gpus > 0 {
        capacity.insert(
            RESOURCE_GPU.to_string(),
            Quantity::new(i64::from(instance_type.gpus), Format::DecimalSI),
        );
    }
    capacity
}

struct NodeParts<'a> {
    cluster: &'a str,
    settings: &'a ClusterSettings,
    providers: &'a [Provider],
    pool: &'a NodePool,
    zone: &'a str,
    name: String,
    index: usize,
    ordinal: u32,
    internal_ip: Ipv4Addr,
    pod_cidr: Ipv4Cidr,
    provider_id: String,
    hypervisor_host: Option<String>,
}

fn build_node(parts: NodeParts<'_>) -> SimNode {
    let NodeParts {
        cluster,
        settings,
        providers,
        pool,
        zone,
        name,
        index,
        ordinal,
        internal_ip,
        pod_cidr,
        provider_id,
        hypervisor_host,
    } = parts;
    let platform = providers
        .iter()
        .find(|p| p.name == pool.provider)
        .map(|p| p.platform.clone())
        .unwrap_or_default();
    let arch = pool.instance_type.arch.as_str();
    let instance_type = pool.instance_type.name.as_str();
    let mut labels = pool.labels.clone();
    for (key, value) in [
        (LABEL_HOSTNAME, name.as_str()),
        (LABEL_OS, "linux"),
        (LABEL_OS_BETA, "linux"),
        (LABEL_ARCH, arch),
        (LABEL_ARCH_BETA, arch),
        (LABEL_INSTANCE_TYPE, instance_type),
        (LABEL_INSTANCE_TYPE_BETA, instance_type),
        (LABEL_REGION, pool.region.as_str()),
        (LABEL_REGION_BETA, pool.region.as_str()),
        (LABEL_ZONE, zone),
        (LABEL_ZONE_BETA, zone),
        (LABEL_PLATFORM, platform.as_str()),
        (LABEL_CLUSTER_NAME, cluster),
        (LABEL_POOL, pool.name.as_str()),
        (LABEL_PROVIDER, pool.provider.as_str()),
    ] {
        labels.insert(key.to_string(), value.to_string());
    }
    if pool.capacity_type == CapacityType::Spot {
        labels.insert(LABEL_LIFECYCLE.to_string(), "spot".to_string());
    }
    if let Some(host) = &hypervisor_host {
        labels.insert(LABEL_HYPERVISOR_HOST.to_string(), host.clone());
    }
    let mut annotations = pool.annotations.clone();
    annotations.insert(
        ANNOTATION_CONTROLLER_MANAGED_ATTACH.to_string(),
        "true".to_string(),
    );
    annotations.insert(
        ANNOTATION_HOURLY_PRICE.to_string(),
        pool.instance_type.hourly_price.to_string(),
    );
    annotations.insert(
        ANNOTATION_CAPACITY_TYPE.to_string(),
        pool.capacity_type.as_str().to_string(),
    );
    let id_parts = [cluster, name.as_str()];
    let node_info = NodeInfo {
        machine_id: hex128(&id_parts, "machine-id"),
        system_uuid: uuid(&id_parts, "system-uuid"),
        boot_id: uuid(&id_parts, "boot-id"),
        kernel_version: pool.kernel_version.clone(),
        os_image: pool.os_image.clone(),
        container_runtime_version: pool.container_runtime_version.clone(),
        kubelet_version: settings.kubernetes_version.clone(),
        operating_system: "linux".to_string(),
        architecture: arch.to_string(),
    };
    SimNode {
        name,
        index,
        ordinal,
        pool: pool.name.clone(),
        provider: pool.provider.clone(),
        provider_type: pool.provider_type,
        provider_kind: pool.provider_kind,
        region: pool.region.clone(),
        zone: zone.to_string(),
        instance_type: instance_type.to_string(),
        capacity_type: pool.capacity_type,
        hourly_price: pool.instance_type.hourly_price,
        hypervisor_host,
        arch: pool.instance_type.arch,
        provider_id,
        internal_ip,
        pod_cidr,
        labels,
        annotations,
        taints: pool.taints.clone(),
        capacity: pool.capacity.clone(),
        allocatable: pool.allocatable.clone(),
        node_info,
        kubelet: pool.kubelet.clone(),
    }
}
