//! The non-pod, non-node objects plugins look up: PersistentVolumes, PersistentVolumeClaims,
//! StorageClasses, CSINodes, PodDisruptionBudgets, PriorityClasses, Namespaces, and the Services,
//! ReplicationControllers, ReplicaSets and StatefulSets of default spreading; and the nominator
//! (pods nominated to nodes by preemption).
//!
//! Upstream: the informer listers the plugins use through `framework.Handle`;
//! pkg/scheduler/backend/queue/nominator.go (`NominatedPodsForNode`, `AddNominatedPod`).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolume, PersistentVolumeClaim, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};

use crate::types::PodInfo;

/// Cluster objects by name (namespaced ones by `namespace/name`).
#[derive(Debug, Clone, Default)]
pub struct ClusterObjects {
    /// PersistentVolumes by name.
    pub persistent_volumes: BTreeMap<String, PersistentVolume>,
    /// PersistentVolumeClaims by `namespace/name`.
    pub persistent_volume_claims: BTreeMap<String, PersistentVolumeClaim>,
    /// StorageClasses by name.
    pub storage_classes: BTreeMap<String, StorageClass>,
    /// CSINodes by name (= node name).
    pub csi_nodes: BTreeMap<String, CSINode>,
    /// PodDisruptionBudgets by `namespace/name`.
    pub pod_disruption_budgets: BTreeMap<String, PodDisruptionBudget>,
    /// PriorityClasses by name.
    pub priority_classes: BTreeMap<String, PriorityClass>,
    /// Namespaces by name.
    pub namespaces: BTreeMap<String, Namespace>,
    /// Services by `namespace/name` (default spreading selectors).
    pub services: BTreeMap<String, Service>,
    /// ReplicationControllers by `namespace/name`.
    pub replication_controllers: BTreeMap<String, ReplicationController>,
    /// ReplicaSets by `namespace/name`.
    pub replica_sets: BTreeMap<String, ReplicaSet>,
    /// StatefulSets by `namespace/name`.
    pub stateful_sets: BTreeMap<String, StatefulSet>,
}

impl ClusterObjects {
    /// The labels of a namespace (empty when unknown).
    pub fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        self.namespaces
            .get(name)
            .and_then(|n| n.metadata.labels.clone())
            .unwrap_or_default()
    }

    /// A PVC by namespace and name.
    pub fn pvc(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.persistent_volume_claims
            .get(&format!("{namespace}/{name}"))
    }
}

/// Pods nominated to nodes by preemption, in nomination order per node (`nominator`).
#[derive(Debug, Clone, Default)]
pub struct Nominator {
    by_node: BTreeMap<String, Vec<Arc<PodInfo>>>,
    node_of: BTreeMap<String, String>,
}

impl Nominator {
    /// The pods nominated to `node` (`NominatedPodsForNode`).
    pub fn nominated_pods_for_node(&self, node: &str) -> &[Arc<PodInfo>] {
        self.by_node.get(node).map_or(&[], Vec::as_slice)
    }

    /// Nominates `pod` to `node`, replacing an earlier nomination (`AddNominatedPod`).
    pub fn add(&mut self, pod: Arc<PodInfo>, node: &str) {
        self.delete(&pod.key);
        self.node_of.insert(pod.key.clone(), node.to_owned());
        self.by_node.entry(node.to_owned()).or_default().push(pod);
    }

    /// Drops the nomination of the pod with `key` (`DeleteNominatedPodIfExists`).
    pub fn delete(&mut self, key: &str) {
        if let Some(node) = self.node_of.remove(key)
            && let Some(list) = self.by_node.get_mut(&node)
        {
            list.retain(|p| p.key != key);
            if list.is_empty() {
                self.by_node.remove(&node);
            }
        }
    }

    /// The node a pod is nominated to.
    pub fn node_of(&self, key: &str) -> Option<&str> {
        self.node_of.get(key).map(String::as_str)
    }

    /// Whether nothing is nominated.
    pub fn is_empty(&self) -> bool {
        self.node_of.is_empty()
    }
}
