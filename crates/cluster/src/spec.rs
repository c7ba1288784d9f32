//! The cluster spec as written in YAML (`apiVersion: kubetwin.io/v1alpha1`, `kind: Cluster`):
//! typed structs that reject unknown fields. Defaults and cross-field rules are applied by
//! [`crate::Cluster::from_spec`]; `docs/CLUSTER_SPEC.md` is the reference.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::SpecDuration;
use crate::net::Ipv4Cidr;
use crate::quantity::SpecQuantity;

/// The only `apiVersion` this crate reads.
pub const API_VERSION: &str = "kubetwin.io/v1alpha1";
/// The only `kind` this crate reads.
pub const KIND: &str = "Cluster";

/// A whole cluster spec document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Must be `kubetwin.io/v1alpha1`.
    pub api_version: String,
    /// Must be `Cluster`.
    pub kind: String,
    /// The cluster's name and description.
    pub metadata: ClusterMetadata,
    /// Cluster-wide settings; every field has a default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsSpec>,
    /// Infrastructure providers, each with regions and zones.
    pub providers: Vec<ProviderSpec>,
    /// Node pools: groups of identical nodes in one provider region.
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
}

/// `metadata` of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterMetadata {
    /// The cluster name (a DNS label); also the `node.cloudprovider.kubernetes.io/clustername`
    /// label and the seed of every generated identifier.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `settings`: cluster-wide networking, versions and defaults for every pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsSpec {
    /// `status.nodeInfo.kubeletVersion` of every node (default `v1.34.0-kubetwin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// The cluster CIDR that node IPAM splits into per-node pod CIDRs (default `10.244.0.0/16`).
    #[serde(default, rename = "podCIDR", skip_serializing_if = "Option::is_none")]
    pub pod_cidr: Option<Ipv4Cidr>,
    /// Prefix length of each node's pod CIDR (default 24, kube-controller-manager's default).
    #[serde(
        default,
        rename = "nodeCIDRMaskSize",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_cidr_mask_size: Option<u8>,
    /// The Service cluster IP range (default `10.96.0.0/12`); excluded from pod CIDRs.
    #[serde(
        default,
        rename = "serviceCIDR",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_cidr: Option<Ipv4Cidr>,
    /// The range zones without an explicit `nodeSubnet` get their node subnet from
    /// (default `10.0.0.0/12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_network: Option<Ipv4Cidr>,
    /// Prefix length of automatically assigned zone subnets (default 20: 4,096 addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_subnet_mask_size: Option<u8>,
    /// Default `status.nodeInfo` strings for every pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_info: Option<NodeInfoSpec>,
    /// Default kubelet behaviour for every pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<KubeletSpec>,
    /// Default kube-reserved, system-reserved and hard eviction thresholds for every pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ReservationsSpec>,
}

/// Which provider implementation a provider models: decides the `spec.providerID` scheme and
/// the default platform label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    /// Proxmox VE virtual machines (`proxmox://<region>/<vmid>`).
    Proxmox,
    /// Hetzner Cloud servers (`hcloud://<server-id>`).
    Hetzner,
    /// Amazon EC2 instances (`aws:///<zone>/<instance-id>`).
    Aws,
    /// Google Compute Engine instances (`gce://<project>/<zone>/<name>`).
    Gcp,
    /// Bare-metal machines running Talos (`talos://metal/<internal-ip>`).
    Baremetal,
    /// Anything else (`kubetwin://<provider>/<node>`).
    Generic,
}

impl ProviderType {
    /// The spelling used in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Proxmox => "proxmox",
            ProviderType::Hetzner => "hetzner",
            ProviderType::Aws => "aws",
            ProviderType::Gcp => "gcp",
            ProviderType::Baremetal => "baremetal",
            ProviderType::Generic => "generic",
        }
    }
}

/// Whether a provider is the organisation's own hardware or a public cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// On-premises hardware (may have hypervisor hosts; no spot capacity).
    Onprem,
    /// A public cloud.
    Cloud,
}

impl ProviderKind {
    /// The spelling used in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Onprem => "onprem",
            ProviderKind::Cloud => "cloud",
        }
    }
}

/// One infrastructure provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderSpec {
    /// A DNS label, unique in the cluster.
    pub name: String,
    /// The provider implementation modelled.
    #[serde(rename = "type")]
    pub provider_type: ProviderType,
    /// `onprem` or `cloud` (default: `onprem` for proxmox and baremetal, else `cloud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProviderKind>,
    /// Value of `node.cloudprovider.kubernetes.io/platform` (default per type: the Talos
    /// platform name, `nocloud` for Proxmox VMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// GCP project used in `gce://` provider IDs (default: the cluster name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Regions with their zones.
    pub regions: Vec<RegionSpec>,
    /// Physical hosts that on-premises VM nodes run on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hypervisor_hosts: Vec<HostSpec>,
}

/// A region of a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegionSpec {
    /// The `topology.kubernetes.io/region` value; unique in the cluster.
    pub name: String,
    /// The region's zones.
    pub zones: Vec<ZoneSpec>,
}

/// A zone of a region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ZoneSpec {
    /// The `topology.kubernetes.io/zone` value; unique in the cluster.
    pub name: String,
    /// The subnet node InternalIPs come from (default: the next free block of
    /// `settings.nodeNetwork`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_subnet: Option<Ipv4Cidr>,
}

/// A physical hypervisor host of an on-premises provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostSpec {
    /// A DNS label, unique in the cluster.
    pub name: String,
    /// The zone the host stands in.
    pub zone: String,
    /// Physical CPU threads (informational; CPU may be overcommitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<SpecQuantity>,
    /// Physical memory; the VMs placed on the host may not exceed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SpecQuantity>,
}

/// Spot or on-demand capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CapacityType {
    /// Regular capacity.
    #[serde(rename = "on-demand")]
    OnDemand,
    /// Interruptible, cheaper capacity.
    #[serde(rename = "spot")]
    Spot,
}

impl CapacityType {
    /// The spelling used in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityType::OnDemand => "on-demand",
            CapacityType::Spot => "spot",
        }
    }
}

/// CPU architecture of a node (`kubernetes.io/arch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// 64-bit ARM.
    Arm64,
}

impl Arch {
    /// The Go `GOARCH` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

/// A node pool: `count` identical nodes spread over zones of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolSpec {
    /// A DNS label, unique in the cluster; the first part of node names.
    pub name: String,
    /// The provider's name.
    pub provider: String,
    /// The region (optional when the provider has one region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Zones to spread over, in order (default: every zone of the region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Vec<String>>,
    /// How many nodes; spread evenly over the zones, earlier zones taking the remainder.
    pub count: u32,
    /// `on-demand` (default) or `spot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_type: Option<CapacityType>,
    /// The machine shape and price.
    pub instance_type: InstanceTypeSpec,
    /// Extra node labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Extra node annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Node taints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<TaintSpec>,
    /// On-premises only: hosts the pool's VMs may run on (default: every host of the provider
    /// in the node's zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervisor_hosts: Option<Vec<String>>,
    /// Kubelet behaviour; unset fields come from `settings.kubelet`, then the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<KubeletSpec>,
    /// Reservations; unset fields come from `settings.reservations`, then the kubelet defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ReservationsSpec>,
    /// `status.nodeInfo` strings; unset fields come from `settings.nodeInfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_info: Option<NodeInfoSpec>,
}

/// The machine shape of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstanceTypeSpec {
    /// The `node.kubernetes.io/instance-type` value (e.g. `m5.xlarge`).
    pub name: String,
    /// CPU capacity (`4`, `3500m`).
    pub cpu: SpecQuantity,
    /// Memory capacity (`16Gi`).
    pub memory: SpecQuantity,
    /// Root disk capacity (default `100Gi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<SpecQuantity>,
    /// Kubelet `maxPods` (default 110).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pods: Option<u32>,
    /// NVIDIA GPUs, advertised as `nvidia.com/gpu` (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    /// `amd64` (default) or `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// Price of one node per hour, in the cluster's currency (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_price: Option<f64>,
}

/// A taint's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaintEffect {
    /// Pods that don't tolerate it are not scheduled.
    NoSchedule,
    /// The scheduler avoids the node.
    PreferNoSchedule,
    /// Pods that don't tolerate it are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TaintSpec {
    /// A qualified name.
    pub key: String,
    /// A label value (default empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The effect.
    pub effect: TaintEffect,
}

/// Kubelet behaviour knobs; every field is optional here and resolved into
/// [`crate::KubeletBehavior`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletSpec {
    /// Delay between the twin starting and the node registering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_delay: Option<SpecDuration>,
    /// Time to pull an image the node doesn't have yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_delay: Option<SpecDuration>,
    /// Time from image present to container running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_start_delay: Option<SpecDuration>,
    /// Time a container takes to exit after SIGTERM (capped by the grace period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_stop_delay: Option<SpecDuration>,
    /// Run time of a Job pod that has no run-time annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_duration: Option<SpecDuration>,
    /// Each delay is scaled by a factor drawn uniformly from `[1 − jitter, 1 + jitter]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_jitter: Option<f64>,
    /// Probability that an image pull fails (`ErrImagePull`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_failure_rate: Option<f64>,
    /// Probability that a container exits with an error right after starting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_start_failure_rate: Option<f64>,
    /// Kubelet `serializeImagePulls`: pull one image at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialize_image_pulls: Option<bool>,
    /// Kubelet `nodeStatusUpdateFrequency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_status_update_frequency: Option<SpecDuration>,
    /// Kubelet `nodeStatusReportFrequency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_status_report_frequency: Option<SpecDuration>,
    /// Kubelet `nodeLeaseDurationSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_lease_duration_seconds: Option<u32>,
}

/// Node-allocatable reservations, as the kubelet flags of the same names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReservationsSpec {
    /// `--kube-reserved`: resource name (`cpu`, `memory`, `ephemeral-storage`, `pid`) → amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_reserved: Option<BTreeMap<String, SpecQuantity>>,
    /// `--system-reserved`: resource name → amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_reserved: Option<BTreeMap<String, SpecQuantity>>,
    /// `--eviction-hard`: signal (`memory.available`, …) → quantity or percentage. Setting it
    /// replaces the whole default map, as the kubelet does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eviction_hard: Option<BTreeMap<String, String>>,
}

/// `status.nodeInfo` strings the kubelet reports from the machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeInfoSpec {
    /// `osImage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_image: Option<String>,
    /// `kernelVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// `containerRuntimeVersion` (`<runtime>://<version>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_runtime_version: Option<String>,
}
