//! The scheduler's precomputed views of pods and nodes: `PodInfo` (requests, ports, affinity terms,
//! tolerations, images) and `NodeInfo` (the node plus the pods on it, with requested, non-zero
//! requested and allocatable resources, used host ports, PVC reference counts).
//!
//! Upstream: pkg/scheduler/framework/types.go (`PodInfo`, `NodeInfo`, `AddPodInfo`, `RemovePod`,
//! `removeFromSlice`, `update`), staging/src/k8s.io/kube-scheduler/framework/types.go
//! (`AffinityTerm`, `HostPortInfo`), pkg/scheduler/util/utils.go (`GetHostPorts`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod, PodAffinityTerm, Taint, Toleration};
use kubetwin_core::labels::Selector;

use crate::error::InputError;
use crate::helpers::nodeaffinity::RequiredNodeAffinity;
use crate::resource::{self, PodResource, Resource};
use crate::schedule::NodeName;

/// The key of the pod in `namespace/name` form.
pub fn pod_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// A parsed pod affinity term (`fwk.AffinityTerm`).
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    /// Namespaces named by the term (or the pod's own when neither names nor a selector are given).
    pub namespaces: BTreeSet<String>,
    /// The label selector over pods.
    pub selector: Selector,
    /// The topology key.
    pub topology_key: String,
    /// The namespace selector (`Nothing` when absent).
    pub namespace_selector: Selector,
}

impl AffinityTerm {
    /// Parses a term of `pod` (`newAffinityTerm`).
    pub fn new(pod_namespace: &str, term: &PodAffinityTerm) -> Result<Self, String> {
        let selector = Selector::from_label_selector(term.label_selector.as_ref())
            .map_err(|e| e.to_string())?;
        let names = term.namespaces.as_deref().unwrap_or_default();
        let mut namespaces = BTreeSet::new();
        if names.is_empty() && term.namespace_selector.is_none() {
            namespaces.insert(pod_namespace.to_owned());
        } else {
            namespaces.extend(names.iter().cloned());
        }
        let namespace_selector = Selector::from_label_selector(term.namespace_selector.as_ref())
            .map_err(|e| e.to_string())?;
        Ok(Self {
            namespaces,
            selector,
            topology_key: term.topology_key.clone(),
            namespace_selector,
        })
    }

    /// Whether `pod` (with its namespace's labels) matches the term (`AffinityTerm.Matches`).
    pub fn matches(&self, pod: &PodInfo, ns_labels: &BTreeMap<String, String>) -> bool {
        let ns_match =
            self.namespaces.contains(&pod.namespace) || self.namespace_selector.matches(ns_labels);
        ns_match && self.selector.matches(&pod.labels)
    }
}

/// A preferred affinity term with its weight (`fwk.WeightedAffinityTerm`).
#[derive(Debug, Clone)]
pub struct WeightedAffinityTerm {
    /// The term.
    pub term: AffinityTerm,
    /// Its weight.
    pub weight: i32,
}

/// A host port a pod uses, sanitized: empty IP is `0.0.0.0`, empty protocol is `TCP`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPort {
    /// Host IP.
    pub ip: String,
    /// Protocol.
    pub protocol: String,
    /// Port (> 0).
    pub port: i32,
}

/// The `0.0.0.0` wildcard address (`DefaultBindAllHostIP`).
pub const DEFAULT_BIND_ALL_HOST_IP: &str = "0.0.0.0";

/// The host ports in use on a node by IP (`HostPortInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPortInfo(BTreeMap<String, BTreeSet<(String, i32)>>);

impl HostPortInfo {
    /// Marks a port used (`Add`).
    pub fn add(&mut self, p: &HostPort) {
        if p.port <= 0 {
            return;
        }
        self.0
            .entry(p.ip.clone())
            .or_default()
            .insert((p.protocol.clone(), p.port));
    }

    /// Frees a port (`Remove`); like upstream this is a set, not a reference count.
    pub fn remove(&mut self, p: &HostPort) {
        if p.port <= 0 {
            return;
        }
        if let Some(set) = self.0.get_mut(&p.ip) {
            set.remove(&(p.protocol.clone(), p.port));
            if set.is_empty() {
                self.0.remove(&p.ip);
            }
        }
    }

    /// Whether the port conflicts with a used one (`CheckConflict`): `0.0.0.0` conflicts with
    /// every IP.
    pub fn check_conflict(&self, p: &HostPort) -> bool {
        if p.port <= 0 {
            return false;
        }
        let key = (p.protocol.clone(), p.port);
        if p.ip == DEFAULT_BIND_ALL_HOST_IP {
            return self.0.values().any(|set| set.contains(&key));
        }
        [DEFAULT_BIND_ALL_HOST_IP, p.ip.as_str()]
            .iter()
            .any(|ip| self.0.get(*ip).is_some_and(|s| s.contains(&key)))
    }

    /// The number of (ip, protocol, port) entries.
    pub fn len(&self) -> usize {
        self.0.values().map(BTreeSet::len).sum()
    }

    /// Whether no port is used.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The host ports of a pod: restartable init containers, then containers (`GetHostPorts`, 1.34).
pub fn get_host_ports(pod: &Pod) -> Vec<HostPort> {
    let mut out = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return out;
    };
    let restartable_inits = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    for c in restartable_inits.chain(spec.containers.iter()) {
        for p in c.ports.iter().flatten() {
            let port = p.host_port.unwrap_or(0);
            if port <= 0 {
                continue;
            }
            let ip = p
                .host_ip
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(DEFAULT_BIND_ALL_HOST_IP);
            let protocol = p
                .protocol
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("TCP");
            out.push(HostPort {
                ip: ip.to_owned(),
                protocol: protocol.to_owned(),
                port,
            });
        }
    }
    out
}

/// Appends `:latest` when the image reference has no tag (`normalizedImageName`).
pub fn normalized_image_name(name: &str) -> String {
    let last_colon = name.rfind(':').map_or(-1, |i| i as i64);
    let last_slash = name.rfind('/').map_or(-1, |i| i as i64);
    if last_colon <= last_slash {
        format!("{name}:latest")
    } else {
        name.to_owned()
    }
}

/// A pod with everything the plugins need precomputed (`framework.PodInfo`).
#[derive(Debug, Clone)]
pub struct PodInfo {
    /// The pod object.
    pub pod: Arc<Pod>,
    /// Namespace ("default" when unset).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID (the key when unset).
    pub uid: String,
    /// `namespace/name`.
    pub key: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `spec.priority` (0 when unset).
    pub priority: i32,
    /// The node the pod is bound or assumed to ("" when pending).
    pub node_name: String,
    /// `status.nominatedNodeName`.
    pub nominated_node_name: String,
    /// Required pod affinity terms.
    pub required_affinity_terms: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub required_anti_affinity_terms: Vec<AffinityTerm>,
    /// Preferred pod affinity terms.
    pub preferred_affinity_terms: Vec<WeightedAffinityTerm>,
    /// Preferred pod anti-affinity terms.
    pub preferred_anti_affinity_terms: Vec<WeightedAffinityTerm>,
    /// Whether the pod has pod affinity or anti-affinity (`podWithAffinity`).
    pub has_affinity: bool,
    /// Whether the pod has required anti-affinity terms.
    pub has_required_anti_affinity: bool,
    /// What the pod adds to a node's requests.
    pub resource: PodResource,
    /// What NodeResourcesFit checks against free capacity.
    pub fit_request: Resource,
    /// Host ports.
    pub host_ports: Vec<HostPort>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// `nodeSelector` and required node affinity.
    pub required_node_affinity: RequiredNodeAffinity,
    /// Normalized image names of init containers then containers.
    pub images: Vec<String>,
    /// Number of init containers plus containers.
    pub num_containers: usize,
    /// `namespace/claim` of every PVC volume.
    pub pvc_keys: Vec<String>,
    /// `status.startTime`.
    pub start_time: Option<Timestamp>,
    /// `metadata.creationTimestamp`.
    pub creation_timestamp: Option<Timestamp>,
    /// Whether `metadata.deletionTimestamp` is set.
    pub terminating: bool,
}

impl PodInfo {
    /// Precomputes a pod (`NewPodInfo`); fails on unparsable quantities or selectors.
    pub fn new(pod: Pod) -> Result<Self, InputError> {
        Self::from_arc(Arc::new(pod))
    }

    /// As [`PodInfo::new`], sharing the pod object.
    pub fn from_arc(pod: Arc<Pod>) -> Result<Self, InputError> {
        let meta = &pod.metadata;
        let namespace = meta
            .namespace
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let name = meta.name.clone().unwrap_or_default();
        let key = pod_key(&namespace, &name);
        let uid = meta
            .uid
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| key.clone());
        let spec = pod.spec.as_ref();
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let pod_aff = affinity.and_then(|a| a.pod_affinity.as_ref());
        let pod_anti = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let parse_terms = |terms: Option<&Vec<PodAffinityTerm>>,
                           field: &str|
         -> Result<Vec<AffinityTerm>, InputError> {
            terms
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, t)| {
                    AffinityTerm::new(&namespace, t)
                        .map_err(|e| InputError::field(format!("{field}[{i}]"), e))
                })
                .collect()
        };
        let parse_weighted =
            |terms: Option<&Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>,
             field: &str|
             -> Result<Vec<WeightedAffinityTerm>, InputError> {
                terms
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, t)| {
                        AffinityTerm::new(&namespace, &t.pod_affinity_term)
                            .map(|term| WeightedAffinityTerm {
                                term,
                                weight: t.weight,
                            })
                            .map_err(|e| InputError::field(format!("{field}[{i}]"), e))
                    })
                    .collect()
            };
        let required_affinity_terms = parse_terms(
            pod_aff.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution",
        )?;
        let required_anti_affinity_terms = parse_terms(
            pod_anti.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
        )?;
        let preferred_affinity_terms = parse_weighted(
            pod_aff.and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution",
        )?;
        let preferred_anti_affinity_terms = parse_weighted(
            pod_anti.and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution",
        )?;
        let images: Vec<String> = spec
            .map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
                    .map(|c| normalized_image_name(c.image.as_deref().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default();
        let pvc_keys = spec
            .and_then(|s| s.volumes.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .map(|c| pod_key(&namespace, &c.claim_name))
            .collect();
        let status = pod.status.as_ref();
        Ok(Self {
            labels: meta.labels.clone().unwrap_or_default(),
            priority: spec.and_then(|s| s.priority).unwrap_or(0),
            node_name: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
            nominated_node_name: status
                .and_then(|s| s.nominated_node_name.clone())
                .unwrap_or_default(),
            has_affinity: pod_aff.is_some() || pod_anti.is_some(),
            has_required_anti_affinity: !required_anti_affinity_terms.is_empty(),
            required_affinity_terms,
            required_anti_affinity_terms,
            preferred_affinity_terms,
            preferred_anti_affinity_terms,
            resource: resource::calculate_resource(&pod)?,
            fit_request: resource::fit_request(&pod)?,
            host_ports: get_host_ports(&pod),
            tolerations: spec.and_then(|s| s.tolerations.clone()).unwrap_or_default(),
            required_node_affinity: RequiredNodeAffinity::from_pod(&pod),
            num_containers: images.len(),
            images,
            pvc_keys,
            start_time: status.and_then(|s| s.start_time.as_ref()).map(|t| t.0),
            creation_timestamp: meta.creation_timestamp.as_ref().map(|t| t.0),
            terminating: meta.deletion_timestamp.is_some(),
            namespace,
            name,
            uid,
            key,
            pod,
        })
    }

    /// A copy of this pod info assumed onto `node` (the cache's `AssumePod`).
    pub fn assumed_on(&self, node: &str) -> PodInfo {
        let mut out = self.clone();
        out.node_name = node.to_owned();
        out
    }

    /// The pod's spec, if any.
    pub fn spec(&self) -> Option<&k8s_openapi::api::core::v1::PodSpec> {
        self.pod.spec.as_ref()
    }

    /// `spec.preemptionPolicy == Never`.
    pub fn preemption_policy_never(&self) -> bool {
        self.spec().and_then(|s| s.preemption_policy.as_deref()) == Some("Never")
    }
}

/// The scheduler-relevant parts of a node, shared between snapshots.
#[derive(Debug, Clone)]
pub struct NodeData {
    /// The node object.
    pub node: Arc<Node>,
    /// Name.
    pub name: String,
    /// The name, interned (explanations and status maps record it per node without copying
    /// or reference counting).
    pub interned_name: NodeName,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `spec.taints`.
    pub taints: Vec<Taint>,
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// `status.allocatable` (or capacity when allocatable is absent) in scheduler units.
    pub allocatable: Resource,
    /// Image names present on the node with their sizes, in `status.images` order.
    pub images: Vec<(String, i64)>,
}

impl NodeData {
    /// Precomputes a node; fails on unparsable quantities. The node object may come shared
    /// (an informer's copy), which is then kept rather than copied.
    pub fn new(node: impl Into<Arc<Node>>) -> Result<Self, InputError> {
        let node: Arc<Node> = node.into();
        let status = node.status.as_ref();
        // Allocatable defaults to capacity (`SetDefaults_NodeStatus`).
        let alloc_src = status
            .and_then(|s| s.allocatable.as_ref())
            .or_else(|| status.and_then(|s| s.capacity.as_ref()));
        let alloc = resource::parse_list(alloc_src, "status.allocatable")?;
        let images = status
            .and_then(|s| s.images.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|img| {
                let size = img.size_bytes.unwrap_or(0);
                img.names.iter().flatten().map(move |n| (n.clone(), size))
            })
            .collect();
        let name = node.metadata.name.clone().unwrap_or_default();
        Ok(Self {
            interned_name: NodeName::intern(&name),
            name,
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: node
                .spec
                .as_ref()
                .and_then(|s| s.taints.clone())
                .unwrap_or_default(),
            unschedulable: node
                .spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false),
            allocatable: Resource::from_list(&alloc),
            images,
            node,
        })
    }
}

/// A node and the pods on it (`framework.NodeInfo`). Replace the node with
/// [`NodeInfo::set_node`], which keeps the copied fields in step.
///
/// Laid out in declaration order (`repr(C)`), the fields a scheduling cycle reads of every
/// feasible node first: PreScore and Score visit hundreds of nodes in list order, which is not
/// their storage order, and with the other core churning the shared cache each distinct cache
/// line is a miss (the first read of `list_position` was about 70 % of PodTopologySpread's
/// PreScore in `cluster_bench`). Aligned to a line, these fields span four lines instead of
/// being spread over the whole record.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct NodeInfo {
    /// The node's position in the snapshot's list order (maintained by the snapshot).
    pub list_position: usize,
    /// The node.
    pub node: Arc<NodeData>,
    /// The snapshot's pod version at this node's last pod change (maintained by the snapshot).
    pub generation: u64,
    /// Copies of the node fields every Filter reads, kept beside the per-node sums so that a
    /// pass over thousands of nodes reads one contiguous array instead of one scattered
    /// allocation per node.
    hot: NodeHot,
    /// Sum of the pods' requests.
    pub requested: Resource,
    /// Sum of the pods' non-zero CPU and memory requests.
    pub non_zero_requested: Resource,
    /// Pods on the node, in add order with swap-remove (`Pods`).
    pub pods: Vec<Arc<PodInfo>>,
    /// Pods with pod affinity or anti-affinity.
    pub pods_with_affinity: Vec<Arc<PodInfo>>,
    /// Pods with required anti-affinity.
    pub pods_with_required_anti_affinity: Vec<Arc<PodInfo>>,
    /// Used host ports.
    pub used_ports: HostPortInfo,
    /// PVC keys with the number of pods on this node using them.
    pub pvc_ref_counts: BTreeMap<String, i32>,
}

/// See [`NodeInfo::hot`].
#[derive(Debug, Clone)]
struct NodeHot {
    name: NodeName,
    unschedulable: bool,
    has_taints: bool,
    has_images: bool,
    allocatable: Resource,
}

impl NodeHot {
    fn of(node: &NodeData) -> Self {
        Self {
            name: node.interned_name,
            unschedulable: node.unschedulable,
            has_taints: !node.taints.is_empty(),
            has_images: !node.images.is_empty(),
            allocatable: node.allocatable.clone(),
        }
    }
}

impl NodeInfo {
    /// A node with no pods.
    pub fn new(node: Arc<NodeData>) -> Self {
        Self {
            hot: NodeHot::of(&node),
            node,
            pods: Vec::new(),
            pods_with_affinity: Vec::new(),
            pods_with_required_anti_affinity: Vec::new(),
            used_ports: HostPortInfo::default(),
            requested: Resource::default(),
            non_zero_requested: Resource::default(),
            pvc_ref_counts: BTreeMap::new(),
            list_position: 0,
            generation: 0,
        }
    }

    /// Reads, from every node of `nodes`, the fields PreScore and Score read, before they do.
    /// The loads do not depend on each other, so the processor overlaps their cache misses;
    /// read by the plugins one node at a time between their other work, each miss was waited
    /// out on its own. In `cluster_bench` the first read of a feasible node was about 70 % of
    /// PodTopologySpread's PreScore: the other core's writes keep evicting the 5,000 node
    /// records from the shared cache.
    pub fn warm(nodes: &[&NodeInfo]) {
        let mut sum = 0i64;
        for n in nodes {
            // One field per cache line of the leading fields (see the layout note above).
            sum = sum
                .wrapping_add(n.list_position as i64)
                .wrapping_add(n.hot.allocatable.memory)
                .wrapping_add(n.requested.milli_cpu)
                .wrapping_add(n.non_zero_requested.memory);
        }
        std::hint::black_box(sum);
    }

    /// The node's name (its interned copy: scoring reads every feasible node's name, and the
    /// node object is one more cache miss per node).
    pub fn name(&self) -> &str {
        self.hot.name.as_str()
    }

    /// The node's name, interned.
    pub fn interned_name(&self) -> NodeName {
        self.hot.name
    }

    /// The node's allocatable resources.
    pub fn allocatable(&self) -> &Resource {
        &self.hot.allocatable
    }

    /// The node's `spec.unschedulable`.
    pub fn unschedulable(&self) -> bool {
        self.hot.unschedulable
    }

    /// Whether the node has taints.
    pub fn has_taints(&self) -> bool {
        self.hot.has_taints
    }

    /// Whether the node reports images.
    pub fn has_images(&self) -> bool {
        self.hot.has_images
    }

    /// Replaces the node object (the pods stay).
    pub fn set_node(&mut self, node: Arc<NodeData>) {
        self.hot = NodeHot::of(&node);
        self.node = node;
    }

    /// Adds a pod (`AddPodInfo`).
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        if pod.has_affinity {
            self.pods_with_affinity.push(pod.clone());
        }
        if pod.has_required_anti_affinity {
            self.pods_with_required_anti_affinity.push(pod.clone());
        }
        self.update(&pod, 1);
        self.pods.push(pod);
    }

    /// Removes `pod` (found by identity first, then by key) by swapping the last pod into its
    /// place, as [`NodeInfo::remove_pod`].
    pub fn remove_pod_info(&mut self, pod: &Arc<PodInfo>) -> Option<Arc<PodInfo>> {
        fn remove_from(list: &mut Vec<Arc<PodInfo>>, pod: &Arc<PodInfo>) -> Option<Arc<PodInfo>> {
            let i = list
                .iter()
                .position(|p| Arc::ptr_eq(p, pod))
                .or_else(|| list.iter().position(|p| p.key == pod.key))?;
            Some(list.swap_remove(i))
        }
        let removed = remove_from(&mut self.pods, pod)?;
        if removed.has_affinity {
            remove_from(&mut self.pods_with_affinity, &removed);
        }
        if removed.has_required_anti_affinity {
            remove_from(&mut self.pods_with_required_anti_affinity, &removed);
        }
        self.update(&removed, -1);
        Some(removed)
    }

    /// Removes the pod with `key` by swapping the last pod into its place (`RemovePod`);
    /// returns it, or `None` when it is not on the node.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        fn remove_from(list: &mut Vec<Arc<PodInfo>>, key: &str) -> Option<Arc<PodInfo>> {
            let i = list.iter().position(|p| p.key == key)?;
            Some(list.swap_remove(i))
        }
        let removed = remove_from(&mut self.pods, key)?;
        if removed.has_affinity {
            remove_from(&mut self.pods_with_affinity, key);
        }
        if removed.has_required_anti_affinity {
            remove_from(&mut self.pods_with_required_anti_affinity, key);
        }
        self.update(&removed, -1);
        Some(removed)
    }

    fn update(&mut self, pod: &PodInfo, sign: i64) {
        self.requested.add_signed(&pod.resource.resource, sign);
        self.non_zero_requested.milli_cpu += sign * pod.resource.non0_cpu;
        self.non_zero_requested.memory += sign * pod.resource.non0_mem;
        for p in &pod.host_ports {
            if sign > 0 {
                self.used_ports.add(p);
            } else {
                self.used_ports.remove(p);
            }
        }
        for k in &pod.pvc_keys {
            let entry = self.pvc_ref_counts.entry(k.clone()).or_insert(0);
            *entry += if sign > 0 { 1 } else { -1 };
            if *entry <= 0 {
                self.pvc_ref_counts.remove(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`NodeInfo::warm`] and the scoring plugins read lies in the record's first four
    /// cache lines, and every record starts a line.
    #[test]
    fn scoring_fields_lead_the_node_record() {
        assert_eq!(std::mem::align_of::<NodeInfo>(), 64);
        let ends = [
            std::mem::offset_of!(NodeInfo, list_position) + 8,
            std::mem::offset_of!(NodeInfo, node) + 8,
            std::mem::offset_of!(NodeInfo, hot) + std::mem::size_of::<NodeHot>(),
            std::mem::offset_of!(NodeInfo, requested) + std::mem::size_of::<Resource>(),
            std::mem::offset_of!(NodeInfo, non_zero_requested) + std::mem::size_of::<Resource>(),
        ];
        for end in ends {
            assert!(end <= 256, "{end}");
        }
        assert!(
            std::mem::offset_of!(NodeInfo, pods)
                >= std::mem::offset_of!(NodeInfo, non_zero_requested)
        );
    }
}
