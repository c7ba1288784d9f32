//! The hybrid cluster spec: providers, regions, zones, node pools and instance types, turned into the Node objects a cloud controller manager would label. No I/O.
//!
//! A spec (`apiVersion: kubetwin.io/v1alpha1`, `kind: Cluster`, reference in
//! `docs/CLUSTER_SPEC.md`) is parsed with [`Cluster::from_yaml`], which checks every rule and
//! expands the pools into [`SimNode`]s: deterministic names (`<pool>-<zone>-<n>`), InternalIPs
//! from per-zone subnets, per-node pod CIDRs split from the cluster CIDR as node IPAM does,
//! provider IDs in each provider's scheme, the labels a cloud controller manager and the
//! kubelet set, taints, capacity and allocatable, `status.nodeInfo`, and the pool's kubelet
//! behaviour. [`SimNode::to_node_json`] gives the v1 Node object.
//!
//! ```
//! let cluster = kubetwin_cluster::default_cluster();
//! let node = &cluster.nodes()[0];
//! assert_eq!(node.to_node_json()["kind"], "Node");
//! ```

pub mod allocatable;
mod cluster;
pub mod duration;
mod error;
mod kubelet;
pub mod net;
mod node;
mod quantity;
pub mod spec;

pub use cluster::{
    Cluster, ClusterSettings, DEFAULT_CONTAINER_RUNTIME_VERSION, DEFAULT_EPHEMERAL_STORAGE,
    DEFAULT_KERNEL_VERSION, DEFAULT_KUBERNETES_VERSION, DEFAULT_MAX_PODS,
    DEFAULT_NODE_CIDR_MASK_SIZE, DEFAULT_NODE_NETWORK, DEFAULT_OS_IMAGE, DEFAULT_POD_CIDR,
    DEFAULT_SERVICE_CIDR, DEFAULT_ZONE_SUBNET_MASK_SIZE, FIRST_NODE_IP_OFFSET, HypervisorHost,
    InstanceType, MAX_NODE_NAME_LEN, MAX_NODES, NodePool, Provider, Region, Zone, node_capacity,
    parse_spec,
};
pub use duration::{SpecDuration, format_go_duration, parse_go_duration};
pub use error::{ClusterError, FieldError};
pub use kubelet::KubeletBehavior;
pub use net::Ipv4Cidr;
pub use node::{
    ANNOTATION_CAPACITY_TYPE, ANNOTATION_CONTROLLER_MANAGED_ATTACH, ANNOTATION_HOURLY_PRICE,
    DERIVED_LABELS, KUBELET_PORT, LABEL_ARCH, LABEL_ARCH_BETA, LABEL_CLUSTER_NAME, LABEL_HOSTNAME,
    LABEL_HYPERVISOR_HOST, LABEL_INSTANCE_TYPE, LABEL_INSTANCE_TYPE_BETA, LABEL_LIFECYCLE,
    LABEL_OS, LABEL_OS_BETA, LABEL_PLATFORM, LABEL_POOL, LABEL_PROVIDER, LABEL_REGION,
    LABEL_REGION_BETA, LABEL_ZONE, LABEL_ZONE_BETA, NodeInfo, SimNode, Taint, ready_conditions,
};
pub use quantity::SpecQuantity;
pub use spec::{Arch, CapacityType, ProviderKind, ProviderType, TaintEffect};

/// The built-in hybrid demo cluster (`examples/clusters/hybrid-small.yaml`), the default of
/// `kubetwin serve`.
pub const HYBRID_SMALL_YAML: &str = include_str!("../../../examples/clusters/hybrid-small.yaml");

/// The 5,000-node example (`examples/clusters/large-5000.yaml`), for benchmarks.
pub const LARGE_5000_YAML: &str = include_str!("../../../examples/clusters/large-5000.yaml");

/// The built-in hybrid demo cluster, parsed.
pub fn default_cluster() -> Cluster {
    match Cluster::from_yaml(HYBRID_SMALL_YAML) {
        Ok(cluster) => cluster,
        // The embedded example is checked by this crate's tests; this cannot happen.
        Err(error) => unreachable!("the embedded hybrid-small example is invalid: {error}"),
    }
}
