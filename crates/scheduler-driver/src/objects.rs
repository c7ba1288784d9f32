//! The cluster objects besides nodes and pods that the scheduler's plugins read, kept from
//! watches: PersistentVolumes, PersistentVolumeClaims, StorageClasses and CSINodes (volume
//! plugins), PodDisruptionBudgets (preemption), PriorityClasses, Namespaces (affinity
//! `namespaceSelector`), and the Services, ReplicationControllers, ReplicaSets and StatefulSets
//! whose selectors make the default spreading constraints.
//!
//! Upstream: `pkg/scheduler/eventhandlers.go` `addAllEventHandlers` (informers for every
//! resource a plugin registers events for), the listers the plugins use
//! (`framework.SharedLister`, `informerFactory.Core().V1().Services().Lister()`, …), and the
//! queueing side: a PV, PVC, StorageClass or CSINode change may make a volume-blocked pod
//! schedulable (`framework.PersistentVolume`/`PersistentVolumeClaim`/`StorageClass`/`CSINode`
//! cluster events), so those move unschedulable pods back to the active queue.

use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_apiserver::watch::WatchEvent;
use kubetwin_scheduler::objects::ClusterObjects;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use tokio::sync::mpsc;

/// The kinds of object the scheduler keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `persistentvolumes`.
    PersistentVolume,
    /// `persistentvolumeclaims`.
    PersistentVolumeClaim,
    /// `storageclasses`.
    StorageClass,
    /// `csinodes`.
    CsiNode,
    /// `poddisruptionbudgets`.
    PodDisruptionBudget,
    /// `priorityclasses`.
    PriorityClass,
    /// `namespaces`.
    Namespace,
    /// `services`.
    Service,
    /// `replicationcontrollers`.
    ReplicationController,
    /// `replicasets`.
    ReplicaSet,
    /// `statefulsets`.
    StatefulSet,
}

impl ObjectKind {
    /// Every kind, in the order the watches start.
    pub const ALL: [ObjectKind; 11] = [
        ObjectKind::PersistentVolume,
        ObjectKind::PersistentVolumeClaim,
        ObjectKind::StorageClass,
        ObjectKind::CsiNode,
        ObjectKind::PodDisruptionBudget,
        ObjectKind::PriorityClass,
        ObjectKind::Namespace,
        ObjectKind::Service,
        ObjectKind::ReplicationController,
        ObjectKind::ReplicaSet,
        ObjectKind::StatefulSet,
    ];

    fn resource(self) -> Option<&'static ResourceInfo> {
        let (group, version, resource) = match self {
            ObjectKind::PersistentVolume => ("", "v1", "persistentvolumes"),
            ObjectKind::PersistentVolumeClaim => ("", "v1", "persistentvolumeclaims"),
            ObjectKind::StorageClass => ("storage.k8s.io", "v1", "storageclasses"),
            ObjectKind::CsiNode => ("storage.k8s.io", "v1", "csinodes"),
            ObjectKind::PodDisruptionBudget => ("policy", "v1", "poddisruptionbudgets"),
            ObjectKind::PriorityClass => ("scheduling.k8s.io", "v1", "priorityclasses"),
            ObjectKind::Namespace => ("", "v1", "namespaces"),
            ObjectKind::Service => ("", "v1", "services"),
            ObjectKind::ReplicationController => ("", "v1", "replicationcontrollers"),
            ObjectKind::ReplicaSet => ("apps", "v1", "replicasets"),
            ObjectKind::StatefulSet => ("apps", "v1", "statefulsets"),
        };
        registry::lookup(group, version, resource)
    }

    /// Whether a change of this kind can make an unschedulable pod fit (volume plugins).
    pub fn requeues_pods(self) -> bool {
        matches!(
            self,
            ObjectKind::PersistentVolume
                | ObjectKind::PersistentVolumeClaim
                | ObjectKind::StorageClass
                | ObjectKind::CsiNode
        )
    }
}

/// Starts one watch per kind and forwards every event, tagged, into one channel (the
/// scheduler's loop drains it before each cycle).
pub fn watch_all(client: &LocalClient) -> mpsc::UnboundedReceiver<(ObjectKind, WatchEvent)> {
    let (tx, rx) = mpsc::unbounded_channel();
    for kind in ObjectKind::ALL {
        let Some(info) = kind.resource() else {
            continue;
        };
        let mut events = match client.watch(info, None, 0, None, None) {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, resource = info.resource, "scheduler: cannot watch");
                continue;
            }
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if tx.send((kind, event)).is_err() {
                    return;
                }
            }
        });
    }
    rx
}

fn object_key(event: &WatchEvent, namespaced: bool) -> Option<String> {
    let meta = &event.object["metadata"];
    let name = meta["name"].as_str()?;
    Some(if namespaced {
        format!("{}/{name}", meta["namespace"].as_str().unwrap_or("default"))
    } else {
        name.to_string()
    })
}

fn apply_to<K: DeserializeOwned>(
    map: &mut BTreeMap<String, K>,
    event: WatchEvent,
    namespaced: bool,
) {
    let Some(key) = object_key(&event, namespaced) else {
        return;
    };
    match event.event_type {
        "ADDED" | "MODIFIED" => match K::deserialize(&**event.object) {
            Ok(object) => {
                map.insert(key, object);
            }
            Err(e) => tracing::debug!(key, error = %e, "scheduler: unreadable object"),
        },
        "DELETED" => {
            map.remove(&key);
        }
        _ => {}
    }
}

/// Applies one watch event to the scheduler's objects.
pub fn apply(objects: &mut ClusterObjects, kind: ObjectKind, event: WatchEvent) {
    match kind {
        ObjectKind::PersistentVolume => apply_to(&mut objects.persistent_volumes, event, false),
        ObjectKind::PersistentVolumeClaim => {
            apply_to(&mut objects.persistent_volume_claims, event, true);
        }
        ObjectKind::StorageClass => apply_to(&mut objects.storage_classes, event, false),
        ObjectKind::CsiNode => apply_to(&mut objects.csi_nodes, event, false),
        ObjectKind::PodDisruptionBudget => {
            apply_to(&mut objects.pod_disruption_budgets, event, true);
        }
        ObjectKind::PriorityClass => apply_to(&mut objects.priority_classes, event, false),
        ObjectKind::Namespace => apply_to(&mut objects.namespaces, event, false),
        ObjectKind::Service => apply_to(&mut objects.services, event, true),
        ObjectKind::ReplicationController => {
            apply_to(&mut objects.replication_controllers, event, true);
        }
        ObjectKind::ReplicaSet => apply_to(&mut objects.replica_sets, event, true),
        ObjectKind::StatefulSet => apply_to(&mut objects.stateful_sets, event, true),
    }
}
