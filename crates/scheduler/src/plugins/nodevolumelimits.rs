//! NodeVolumeLimits (CSI): the CSI volumes of the pods on a node, per driver, plus the new pod's
//! (each unique volume counted once), must not exceed the driver's `allocatable.count` in the
//! node's CSINode. In-tree volumes migrated to CSI count for their CSI driver.
//!
//! Upstream: pkg/scheduler/framework/plugins/nodevolumelimits/{csi.go, utils.go}.
//!
//! VolumeAttachments are not an input of kubetwin's scheduler, so only pods' volumes are counted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::CSINode;

use crate::cycle_state::CycleState;
use crate::framework::{FilterPlugin, Handle, Plugin, PreFilterPlugin, PreFilterResult};
use crate::helpers::storage::{
    PVC_RESOURCE, csi_driver_for_in_tree, csi_migration_on, ephemeral_volume_is_for_pod,
    in_tree_pv_volume_handle, in_tree_volume_handle, migratable_inline_plugin,
    migratable_pv_plugin, not_found, pvc_class, pvc_volume_name, volume_claim,
};
use crate::objects::ClusterObjects;
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// Too many volumes for a driver (`ErrReasonMaxVolumeCountExceeded`).
pub const ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED: &str = "node(s) exceed max volume count";
/// Upstream draws a random prefix per scheduler for the handles of unbound claims; a constant
/// keeps runs reproducible (only equality between handles matters).
const VOLUME_ID_PREFIX: &str = "kubetwin";

/// Why the new pod's volumes could not be listed.
enum AttachError {
    /// A claim does not exist (the pod waits for it).
    NotFound(String),
    /// Anything else.
    Other(String),
}

/// The CSI limits plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeVolumeLimits;

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &'static str {
        names::NODE_VOLUME_LIMITS
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

/// The driver and volume handle of a claim (`getCSIDriverInfo`).
fn csi_driver_info(
    objects: &ClusterObjects,
    csi_node: Option<&CSINode>,
    pvc: &PersistentVolumeClaim,
) -> Option<(String, String)> {
    let pv_name = pvc_volume_name(pvc);
    let pv = (!pv_name.is_empty())
        .then(|| objects.persistent_volumes.get(pv_name))
        .flatten();
    let Some(pv) = pv else {
        return csi_driver_info_from_sc(objects, csi_node, pvc);
    };
    if let Some(csi) = pv.spec.as_ref().and_then(|s| s.csi.as_ref()) {
        return Some((csi.driver.clone(), csi.volume_handle.clone()));
    }
    let plugin = migratable_pv_plugin(pv)?;
    if !csi_migration_on(csi_node, plugin) {
        return None;
    }
    Some((
        csi_driver_for_in_tree(plugin)?.to_owned(),
        in_tree_pv_volume_handle(pv)?,
    ))
}

/// The driver of the claim's class and a per-claim handle (`getCSIDriverInfoFromSC`).
fn csi_driver_info_from_sc(
    objects: &ClusterObjects,
    csi_node: Option<&CSINode>,
    pvc: &PersistentVolumeClaim,
) -> Option<(String, String)> {
    let class = pvc_class(pvc);
    if class.is_empty() {
        return None;
    }
    let sc = objects.storage_classes.get(&class)?;
    let handle = format!(
        "{VOLUME_ID_PREFIX}-{}/{}",
        pvc.metadata.namespace.as_deref().unwrap_or(""),
        pvc.metadata.name.as_deref().unwrap_or("")
    );
    let provisioner = sc.provisioner.as_str();
    if let Some(driver) = csi_driver_for_in_tree(provisioner) {
        if !csi_migration_on(csi_node, provisioner) {
            return None;
        }
        return Some((driver.to_owned(), handle));
    }
    Some((provisioner.to_owned(), handle))
}

/// Adds the pod's attachable volumes as `driver/handle → driver` (`filterAttachableVolumes`).
fn filter_attachable_volumes(
    objects: &ClusterObjects,
    pod: &Pod,
    namespace: &str,
    csi_node: Option<&CSINode>,
    new_pod: bool,
    result: &mut BTreeMap<String, String>,
) -> Result<(), AttachError> {
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default();
    for vol in volumes {
        let Some((claim, ephemeral)) = volume_claim(pod, vol) else {
            // Upstream: checkAttachableInlineVolume.
            let Some(plugin) = migratable_inline_plugin(vol) else {
                continue;
            };
            if !csi_migration_on(csi_node, plugin) {
                continue;
            }
            let (Some(driver), Some(handle)) =
                (csi_driver_for_in_tree(plugin), in_tree_volume_handle(vol))
            else {
                continue;
            };
            result.insert(format!("{driver}/{handle}"), driver.to_owned());
            continue;
        };
        if claim.is_empty() {
            return Err(AttachError::Other(
                "PersistentVolumeClaim had no name".into(),
            ));
        }
        let Some(pvc) = objects.pvc(namespace, &claim) else {
            if new_pod {
                return Err(AttachError::NotFound(format!(
                    "looking up PVC {namespace}/{claim}: {}",
                    not_found(PVC_RESOURCE, &claim)
                )));
            }
            continue;
        };
        if ephemeral {
            ephemeral_volume_is_for_pod(pod, pvc).map_err(AttachError::Other)?;
        }
        let Some((driver, handle)) = csi_driver_info(objects, csi_node, pvc) else {
            continue;
        };
        if driver.is_empty() || handle.is_empty() {
            continue;
        }
        result.insert(format!("{driver}/{handle}"), driver);
    }
    Ok(())
}

impl PreFilterPlugin for NodeVolumeLimits {
    fn pre_filter(
        &self,
        _h: &Handle<'_>,
        _state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let volumes = pod
            .spec()
            .and_then(|s| s.volumes.as_deref())
            .unwrap_or_default();
        let relevant = volumes.iter().any(|v| {
            v.persistent_volume_claim.is_some()
                || v.ephemeral.is_some()
                || migratable_inline_plugin(v).is_some()
        });
        if relevant {
            (None, Status::success())
        } else {
            (None, Status::skip())
        }
    }
}

impl FilterPlugin for NodeVolumeLimits {
    fn filter(
        &self,
        h: &Handle<'_>,
        _state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let has_volumes = pod
            .spec()
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|v| !v.is_empty());
        if !has_volumes {
            return Status::success();
        }
        let csi_node = h.objects.csi_nodes.get(node.name());
        let mut new_volumes = BTreeMap::new();
        match filter_attachable_volumes(
            h.objects,
            &pod.pod,
            &pod.namespace,
            csi_node,
            true,
            &mut new_volumes,
        ) {
            Ok(()) => {}
            Err(AttachError::NotFound(msg)) => {
                return Status::with_reason(Code::UnschedulableAndUnresolvable, msg);
            }
            Err(AttachError::Other(msg)) => return Status::error(msg),
        }
        if new_volumes.is_empty() {
            return Status::success();
        }
        // Upstream: getVolumeLimits.
        let limits: BTreeMap<&str, i64> = csi_node
            .map(|n| n.spec.drivers.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|d| {
                let count = d.allocatable.as_ref()?.count?;
                Some((d.name.as_str(), i64::from(count)))
            })
            .collect();
        if limits.is_empty() {
            return Status::success();
        }
        let mut attached = BTreeMap::new();
        for existing in &node.pods {
            if let Err(AttachError::NotFound(msg) | AttachError::Other(msg)) =
                filter_attachable_volumes(
                    h.objects,
                    &existing.pod,
                    &existing.namespace,
                    csi_node,
                    false,
                    &mut attached,
                )
            {
                return Status::error(msg);
            }
        }
        let mut attached_count: BTreeMap<&str, i64> = BTreeMap::new();
        for (unique, driver) in &attached {
            // A volume already used by a pod on the node is not attached again.
            new_volumes.remove(unique);
            *attached_count.entry(driver.as_str()).or_insert(0) += 1;
        }
        let mut new_count: BTreeMap<&str, i64> = BTreeMap::new();
        for driver in new_volumes.values() {
            *new_count.entry(driver.as_str()).or_insert(0) += 1;
        }
        for (driver, count) in new_count {
            if let Some(max) = limits.get(driver) {
                let current = attached_count.get(driver).copied().unwrap_or(0);
                if current + count > *max {
                    return Status::with_static_reason(
                        Code::Unschedulable,
                        ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED,
                    );
                }
            }
        }
        Status::success()
    }
}
