//! The nodes a cluster spec expands to, and their v1 Node objects as a cloud controller manager
//! plus kubelet registration and node IPAM would leave them.
//!
//! Sources of each part of the object:
//! - kubelet registration (`pkg/kubelet/kubelet_node_status.go`, `initialNode`): the hostname,
//!   os and arch labels (stable and `beta.` ones), the controller-managed attach/detach
//!   annotation, registration taints, `status.nodeInfo`, `status.daemonEndpoints`;
//! - kubelet status (`pkg/kubelet/nodestatus/setters.go`, `MachineInfo`, `VersionInfo`):
//!   capacity, allocatable (see [`crate::allocatable`]); `kubeProxyVersion` stays empty because
//!   the `DisableNodeKubeProxyVersion` gate is on by default since 1.33;
//! - cloud node controller (`staging/src/k8s.io/cloud-provider/controllers/node/node_controller.go`,
//!   `getNodeModifiersFromCloudProvider`): `spec.providerID`, addresses, and the zone, region
//!   and instance-type labels in both their stable and deprecated spellings;
//! - Talos CCM (`siderolabs/talos-cloud-controller-manager` `pkg/talos/cloud.go`, `helper.go`
//!   `setTalosNodeLabels`): `node.cloudprovider.kubernetes.io/{platform,clustername,lifecycle}`;
//! - node IPAM (`pkg/controller/nodeipam/ipam/range_allocator.go`): `spec.podCIDR(s)`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::{Map, Value, json};

use crate::allocatable::ResourceList;
use crate::kubelet::KubeletBehavior;
use crate::net::Ipv4Cidr;
use crate::spec::{Arch, CapacityType, ProviderKind, ProviderType, TaintEffect};

/// `kubernetes.io/hostname`.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// `kubernetes.io/os`.
pub const LABEL_OS: &str = "kubernetes.io/os";
/// `kubernetes.io/arch`.
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
/// `beta.kubernetes.io/os` (deprecated, still set by the kubelet).
pub const LABEL_OS_BETA: &str = "beta.kubernetes.io/os";
/// `beta.kubernetes.io/arch` (deprecated, still set by the kubelet).
pub const LABEL_ARCH_BETA: &str = "beta.kubernetes.io/arch";
/// `node.kubernetes.io/instance-type`.
pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
/// `beta.kubernetes.io/instance-type` (deprecated, still set by the cloud node controller).
pub const LABEL_INSTANCE_TYPE_BETA: &str = "beta.kubernetes.io/instance-type";
/// `topology.kubernetes.io/region`.
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";
/// `topology.kubernetes.io/zone`.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// `failure-domain.beta.kubernetes.io/region` (deprecated, still set).
pub const LABEL_REGION_BETA: &str = "failure-domain.beta.kubernetes.io/region";
/// `failure-domain.beta.kubernetes.io/zone` (deprecated, still set).
pub const LABEL_ZONE_BETA: &str = "failure-domain.beta.kubernetes.io/zone";
/// Talos CCM: the platform name.
pub const LABEL_PLATFORM: &str = "node.cloudprovider.kubernetes.io/platform";
/// Talos CCM: the cluster name.
pub const LABEL_CLUSTER_NAME: &str = "node.cloudprovider.kubernetes.io/clustername";
/// Talos CCM: `spot` on spot instances.
pub const LABEL_LIFECYCLE: &str = "node.cloudprovider.kubernetes.io/lifecycle";
/// kubetwin: the node pool.
pub const LABEL_POOL: &str = "kubetwin.io/pool";
/// kubetwin: the provider.
pub const LABEL_PROVIDER: &str = "kubetwin.io/provider";
/// kubetwin: the hypervisor host of an on-premises VM node.
pub const LABEL_HYPERVISOR_HOST: &str = "kubetwin.io/hypervisor-host";
/// Kubelet: volumes are attached by the attach/detach controller.
pub const ANNOTATION_CONTROLLER_MANAGED_ATTACH: &str =
    "volumes.kubernetes.io/controller-managed-attach-detach";
/// kubetwin: the node's hourly price.
pub const ANNOTATION_HOURLY_PRICE: &str = "kubetwin.io/hourly-price";
/// kubetwin: `spot` or `on-demand`.
pub const ANNOTATION_CAPACITY_TYPE: &str = "kubetwin.io/capacity-type";
/// The kubelet's default port, reported in `status.daemonEndpoints`.
pub const KUBELET_PORT: u16 = 10250;

/// Labels the spec derives; pools may not set them.
pub const DERIVED_LABELS: &[&str] = &[
    LABEL_HOSTNAME,
    LABEL_OS,
    LABEL_ARCH,
    LABEL_OS_BETA,
    LABEL_ARCH_BETA,
    LABEL_INSTANCE_TYPE,
    LABEL_INSTANCE_TYPE_BETA,
    LABEL_REGION,
    LABEL_ZONE,
    LABEL_REGION_BETA,
    LABEL_ZONE_BETA,
    LABEL_PLATFORM,
    LABEL_CLUSTER_NAME,
    LABEL_LIFECYCLE,
    LABEL_POOL,
    LABEL_PROVIDER,
    LABEL_HYPERVISOR_HOST,
];

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
    /// Effect.
    pub effect: TaintEffect,
}

impl Taint {
    /// The taint as v1 JSON (`value` left out when empty, as Go's `omitempty`).
    pub fn to_json(&self) -> Value {
        let mut taint = Map::new();
        taint.insert("key".into(), Value::String(self.key.clone()));
        if !self.value.is_empty() {
            taint.insert("value".into(), Value::String(self.value.clone()));
        }
        taint.insert("effect".into(), Value::String(self.effect.as_str().into()));
        Value::Object(taint)
    }
}

/// `status.nodeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// 32 hex digits, derived from the cluster and node names.
    pub machine_id: String,
    /// A UUID, derived from the cluster and node names.
    pub system_uuid: String,
    /// A UUID, derived from the cluster and node names (one boot).
    pub boot_id: String,
    /// Kernel version.
    pub kernel_version: String,
    /// OS image.
    pub os_image: String,
    /// `<runtime>://<version>`.
    pub container_runtime_version: String,
    /// Kubelet version.
    pub kubelet_version: String,
    /// Always `linux`.
    pub operating_system: String,
    /// `amd64` or `arm64`.
    pub architecture: String,
}

impl NodeInfo {
    /// The v1 JSON form.
    pub fn to_json(&self) -> Value {
        json!({
            "machineID": self.machine_id,
            "systemUUID": self.system_uuid,
            "bootID": self.boot_id,
            "kernelVersion": self.kernel_version,
            "osImage": self.os_image,
            "containerRuntimeVersion": self.container_runtime_version,
            "kubeletVersion": self.kubelet_version,
            "kubeProxyVersion": "",
            "operatingSystem": self.operating_system,
            "architecture": self.architecture,
        })
    }
}

/// One node of the cluster, with everything other components need about it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimNode {
    /// The node name, `<pool>-<zone>-<n>`.
    pub name: String,
    /// Position in [`crate::Cluster::nodes`] (the order of pod CIDR allocation).
    pub index: usize,
    /// Index of this node within its pool and zone (the `<n>` of the name).
    pub ordinal: u32,
    /// Pool name.
    pub pool: String,
    /// Provider name.
    pub provider: String,
    /// Provider implementation.
    pub provider_type: ProviderType,
    /// On-premises or cloud.
    pub provider_kind: ProviderKind,
    /// Region.
    pub region: String,
    /// Zone.
    pub zone: String,
    /// Instance type name.
    pub instance_type: String,
    /// Spot or on-demand.
    pub capacity_type: CapacityType,
    /// Price per hour.
    pub hourly_price: f64,
    /// The physical host of an on-premises VM node.
    pub hypervisor_host: Option<String>,
    /// CPU architecture.
    pub arch: Arch,
    /// `spec.providerID`.
    pub provider_id: String,
    /// The InternalIP address.
    pub internal_ip: Ipv4Addr,
    /// `spec.podCIDR`.
    pub pod_cidr: Ipv4Cidr,
    /// All labels.
    pub labels: BTreeMap<String, String>,
    /// All annotations.
    pub annotations: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// `status.capacity`.
    pub capacity: ResourceList,
    /// `status.allocatable`.
    pub allocatable: ResourceList,
    /// `status.nodeInfo`.
    pub node_info: NodeInfo,
    /// How the node's simulated kubelet behaves.
    pub kubelet: KubeletBehavior,
}

impl SimNode {
    /// Whether the node is spot capacity.
    pub fn is_spot(&self) -> bool {
        self.capacity_type == CapacityType::Spot
    }

    /// The v1 Node object (no `status.conditions`: the kubelet posts those; see
    /// [`ready_conditions`]). Keys are written in a fixed order.
    pub fn to_node_json(&self) -> Value {
        let mut metadata = Map::new();
        metadata.insert("name".into(), Value::String(self.name.clone()));
        metadata.insert("labels".into(), string_map(&self.labels));
        metadata.insert("annotations".into(), string_map(&self.annotations));

        let mut spec = Map::new();
        spec.insert("podCIDR".into(), Value::String(self.pod_cidr.to_string()));
        spec.insert("podCIDRs".into(), json!([self.pod_cidr.to_string()]));
        spec.insert("providerID".into(), Value::String(self.provider_id.clone()));
        if !self.taints.is_empty() {
            spec.insert(
                "taints".into(),
                Value::Array(self.taints.iter().map(Taint::to_json).collect()),
            );
        }

        let mut status = Map::new();
        status.insert("capacity".into(), resource_map(&self.capacity));
        status.insert("allocatable".into(), resource_map(&self.allocatable));
        status.insert(
            "addresses".into(),
            json!([
                {"type": "InternalIP", "address": self.internal_ip.to_string()},
                {"type": "Hostname", "address": self.name},
            ]),
        );
        status.insert(
            "daemonEndpoints".into(),
            json!({"kubeletEndpoint": {"Port": KUBELET_PORT}}),
        );
        status.insert("nodeInfo".into(), self.node_info.to_json());

        let mut node = Map::new();
        node.insert("apiVersion".into(), Value::String("v1".into()));
        node.insert("kind".into(), Value::String("Node".into()));
        node.insert("metadata".into(), Value::Object(metadata));
        node.insert("spec".into(), Value::Object(spec));
        node.insert("status".into(), Value::Object(status));
        Value::Object(node)
    }
}

impl SimNode {
    /// The v1 Node object of a registered, healthy node: [`SimNode::to_node_json`] plus the
    /// [`ready_conditions`] stamped with `timestamp` (RFC 3339). For callers that create nodes
    /// without a simulated kubelet (offline scheduling, benchmarks).
    pub fn to_ready_node_json(&self, timestamp: &str) -> Value {
        let mut node = self.to_node_json();
        if let Some(status) = node.get_mut("status").and_then(Value::as_object_mut) {
            status.insert("conditions".into(), ready_conditions(timestamp));
        }
        node
    }
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn resource_map(list: &ResourceList) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
            .collect(),
    )
}

/// The conditions a healthy kubelet posts, all stamped with `timestamp` (RFC 3339), in the
/// kubelet's order. Upstream: `pkg/kubelet/nodestatus/setters.go` (`MemoryPressureCondition`,
/// `DiskPressureCondition`, `PIDPressureCondition`, `ReadyCondition`).
pub fn ready_conditions(timestamp: &str) -> Value {
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": kind,
            "status": status,
            "lastHeartbeatTime": timestamp,
            "lastTransitionTime": timestamp,
            "reason": reason,
            "message": message,
        })
    };
    Value::Array(vec![
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        condition(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ])
}

/// A stable 64-bit digest of `parts` (FNV-1a with a separator, then the SplitMix64 finaliser):
/// the source of every generated identifier, so the same spec always yields the same IDs.
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// 32 lowercase hex digits derived from `parts` and `purpose`.
pub(crate) fn hex128(parts: &[&str], purpose: &str) -> String {
    let mut with_purpose: Vec<&str> = parts.to_vec();
    with_purpose.push(purpose);
    let high = stable_hash(&with_purpose);
    with_purpose.push("low");
    let low = stable_hash(&with_purpose);
    format!("{high:016x}{low:016x}")
}

/// A version-4-shaped UUID derived from `parts` and `purpose`.
pub(crate) fn uuid(parts: &[&str], purpose: &str) -> String {
    let hex = hex128(parts, purpose);
    let mut chars: Vec<char> = hex.chars().collect();
    chars[12] = '4';
    // RFC 4122 variant: the first digit of the fourth group is 8, 9, a or b.
    let variant = chars[16].to_digit(16).unwrap_or(0);
    chars[16] = std::char::from_digit(8 + (variant & 0x3), 16).unwrap_or('8');
    let text: String = chars.into_iter().collect();
    format!(
        "{}-{}-{}-{}-{}",
        &text[0..8],
        &text[8..12],
        &text[12..16],
        &text[16..20],
        &text[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_stable_and_well_formed() {
        let parts = ["hybrid-small", "aws-general-us-east-1a-0"];
        assert_eq!(hex128(&parts, "machine"), hex128(&parts, "machine"));
        assert_ne!(hex128(&parts, "machine"), hex128(&parts, "boot"));
        let id = uuid(&parts, "system");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert!(
            id.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn taint_json_omits_empty_value() {
        let taint = Taint {
            key: "dedicated".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        };
        assert_eq!(
            taint.to_json(),
            json!({"key": "dedicated", "effect": "NoSchedule"})
        );
    }
}
