//! Storage helpers shared by the volume plugins: claim and volume classes, PV node affinity,
//! StorageClass allowed topologies, generic ephemeral volumes, in-tree to CSI migration, and the
//! informer listers' "not found" messages.
//!
//! Upstream: staging/src/k8s.io/component-helpers/storage/volume/{helpers.go, pv_helpers.go}
//! (`GetPersistentVolumeClaimClass`, `GetPersistentVolumeClass`, `CheckNodeAffinity`,
//! `IsDelayBindingMode`, `FindMatchingVolume`, `CheckVolumeModeMismatches`, `CheckAccessModes`),
//! staging/src/k8s.io/component-helpers/storage/ephemeral/ephemeral.go (`VolumeClaimName`,
//! `VolumeIsForPod`), pkg/apis/core/v1/helper/helpers.go (`MatchTopologySelectorTerms`),
//! staging/src/k8s.io/csi-translation-lib (plugin names, `IsPVMigratable`, `IsInlineMigratable`),
//! pkg/scheduler/framework/plugins/nodevolumelimits/utils.go (`isCSIMigrationOn`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, Pod, TopologySelectorTerm, Volume,
};
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use kubetwin_core::quantity::Quantity;

use crate::helpers::nodeaffinity::NodeSelector;
use crate::objects::ClusterObjects;

/// `volume.beta.kubernetes.io/storage-class` (`BetaStorageClassAnnotation`).
pub const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";
/// `pv.kubernetes.io/bind-completed` (`AnnBindCompleted`).
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// `pv.kubernetes.io/bound-by-controller` (`AnnBoundByController`).
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// `volume.kubernetes.io/selected-node` (`AnnSelectedNode`).
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The provisioner of classes that cannot provision (`NotSupportedProvisioner`).
pub const NOT_SUPPORTED_PROVISIONER: &str = "kubernetes.io/no-provisioner";
/// `storage.alpha.kubernetes.io/migrated-plugins` on CSINodes (`MigratedPluginsAnnotationKey`).
pub const MIGRATED_PLUGINS_ANNOTATION: &str = "storage.alpha.kubernetes.io/migrated-plugins";

/// In-tree plugin names (csi-translation-lib/plugins).
pub const AWS_EBS_PLUGIN: &str = "kubernetes.io/aws-ebs";
/// GCE PD.
pub const GCE_PD_PLUGIN: &str = "kubernetes.io/gce-pd";
/// Azure Disk.
pub const AZURE_DISK_PLUGIN: &str = "kubernetes.io/azure-disk";
/// Azure File.
pub const AZURE_FILE_PLUGIN: &str = "kubernetes.io/azure-file";
/// Cinder.
pub const CINDER_PLUGIN: &str = "kubernetes.io/cinder";
/// vSphere.
pub const VSPHERE_PLUGIN: &str = "kubernetes.io/vsphere-volume";
/// Portworx.
pub const PORTWORX_PLUGIN: &str = "kubernetes.io/portworx-volume";

/// The message of an informer lister's NotFound error (`errors.NewNotFound`): `resource` is the
/// singular lister resource with its group, e.g. `persistentvolumeclaim` or
/// `storageclass.storage.k8s.io`.
pub fn not_found(resource: &str, name: &str) -> String {
    format!("{resource} \"{name}\" not found")
}

/// The lister resource of PersistentVolumeClaims.
pub const PVC_RESOURCE: &str = "persistentvolumeclaim";
/// The lister resource of PersistentVolumes.
pub const PV_RESOURCE: &str = "persistentvolume";
/// The lister resource of StorageClasses.
pub const STORAGE_CLASS_RESOURCE: &str = "storageclass.storage.k8s.io";

fn annotations(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<&BTreeMap<String, String>> {
    meta.annotations.as_ref()
}

/// The claim's class: the beta annotation first, then `spec.storageClassName`
/// (`GetPersistentVolumeClaimClass`).
pub fn pvc_class(pvc: &PersistentVolumeClaim) -> String {
    if let Some(c) = annotations(&pvc.metadata).and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION)) {
        return c.clone();
    }
    pvc.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

/// The volume's class: the beta annotation first, then `spec.storageClassName`
/// (`GetPersistentVolumeClass`).
pub fn pv_class(pv: &PersistentVolume) -> String {
    if let Some(c) = annotations(&pv.metadata).and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION)) {
        return c.clone();
    }
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

/// The claim's `spec.volumeName` ("" when unset).
pub fn pvc_volume_name(pvc: &PersistentVolumeClaim) -> &str {
    pvc.spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or("")
}

/// Whether the object has the annotation.
pub fn has_annotation(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> bool {
    annotations(meta).is_some_and(|a| a.contains_key(key))
}

/// An annotation's value.
pub fn annotation<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    annotations(meta)
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// Whether the PV's required node affinity matches the labels (`CheckNodeAffinity`; the node
/// carries only labels there, so `metadata.name` fields match "").
pub fn check_node_affinity(pv: &PersistentVolume, labels: &BTreeMap<String, String>) -> bool {
    let Some(required) = pv
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
    else {
        return true;
    };
    NodeSelector::new(required).matches(labels, "")
}

/// Whether any term matches the labels; no terms match everything
/// (`MatchTopologySelectorTerms`).
pub fn match_topology_selector_terms(
    terms: &[TopologySelectorTerm],
    labels: &BTreeMap<String, String>,
) -> bool {
    if terms.is_empty() {
        return true;
    }
    terms.iter().any(|t| {
        let exprs = t.match_label_expressions.as_deref().unwrap_or_default();
        !exprs.is_empty()
            && exprs.iter().all(|e| {
                labels
                    .get(&e.key)
                    .is_some_and(|v| e.values.iter().any(|x| x == v))
            })
    })
}

/// Whether a StorageClass delays binding until a consumer is scheduled (`IsDelayBindingMode`):
/// `Ok(false)` without a class or when it does not exist, an error when the mode is unset.
pub fn is_delay_binding_mode(
    pvc: &PersistentVolumeClaim,
    objects: &ClusterObjects,
) -> Result<bool, String> {
    let class = pvc_class(pvc);
    if class.is_empty() {
        return Ok(false);
    }
    let Some(sc) = objects.storage_classes.get(&class) else {
        return Ok(false);
    };
    match sc.volume_binding_mode.as_deref() {
        None => Err(format!(
            "VolumeBindingMode not set for StorageClass {class:?}"
        )),
        Some(m) => Ok(m == "WaitForFirstConsumer"),
    }
}

/// The name of the PVC of a generic ephemeral volume: `<pod>-<volume>` (`VolumeClaimName`).
pub fn ephemeral_claim_name(pod: &Pod, volume: &Volume) -> String {
    format!(
        "{}-{}",
        pod.metadata.name.as_deref().unwrap_or(""),
        volume.name
    )
}

/// Whether the PVC was created for the pod, i.e. the pod is its controller owner
/// (`VolumeIsForPod`); the error is upstream's message.
pub fn ephemeral_volume_is_for_pod(pod: &Pod, pvc: &PersistentVolumeClaim) -> Result<(), String> {
    let pod_uid = pod.metadata.uid.as_deref().unwrap_or("");
    let owned = pvc
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == pod_uid);
    if owned {
        Ok(())
    } else {
        Err(format!(
            "PVC {}/{} was not created for pod {}/{} (pod is not owner)",
            pvc.metadata.namespace.as_deref().unwrap_or(""),
            pvc.metadata.name.as_deref().unwrap_or(""),
            pod.metadata.namespace.as_deref().unwrap_or(""),
            pod.metadata.name.as_deref().unwrap_or("")
        ))
    }
}

/// The claim name a volume refers to and whether it is a generic ephemeral volume; `None` for
/// volumes that use no PVC.
pub fn volume_claim(pod: &Pod, volume: &Volume) -> Option<(String, bool)> {
    if let Some(c) = &volume.persistent_volume_claim {
        return Some((c.claim_name.clone(), false));
    }
    if volume.ephemeral.is_some() {
        return Some((ephemeral_claim_name(pod, volume), true));
    }
    None
}

/// The requested storage of a claim (`spec.resources.requests[storage]`), 0 when absent.
pub fn requested_storage(pvc: &PersistentVolumeClaim) -> Quantity {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Quantity::parse(&q.0).ok())
        .unwrap_or_default()
}

/// The capacity of a volume (`spec.capacity[storage]`), 0 when absent.
pub fn pv_capacity(pv: &PersistentVolume) -> Quantity {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Quantity::parse(&q.0).ok())
        .unwrap_or_default()
}

/// The in-tree plugin of a PV that csi-translation-lib can migrate (`IsPVMigratable` and
/// `GetInTreePluginNameFromSpec`).
pub fn migratable_pv_plugin(pv: &PersistentVolume) -> Option<&'static str> {
    let s = pv.spec.as_ref()?;
    if s.gce_persistent_disk.is_some() {
        Some(GCE_PD_PLUGIN)
    } else if s.aws_elastic_block_store.is_some() {
        Some(AWS_EBS_PLUGIN)
    } else if s.azure_disk.is_some() {
        Some(AZURE_DISK_PLUGIN)
    } else if s.azure_file.is_some() {
        Some(AZURE_FILE_PLUGIN)
    } else if s.cinder.is_some() {
        Some(CINDER_PLUGIN)
    } else if s.vsphere_volume.is_some() {
        Some(VSPHERE_PLUGIN)
    } else if s.portworx_volume.is_some() {
        Some(PORTWORX_PLUGIN)
    } else {
        None
    }
}

/// The in-tree plugin of an inline volume that csi-translation-lib can migrate
/// (`IsInlineMigratable` and `GetInTreePluginNameFromSpec`).
pub fn migratable_inline_plugin(v: &Volume) -> Option<&'static str> {
    if v.gce_persistent_disk.is_some() {
        Some(GCE_PD_PLUGIN)
    } else if v.aws_elastic_block_store.is_some() {
        Some(AWS_EBS_PLUGIN)
    } else if v.azure_disk.is_some() {
        Some(AZURE_DISK_PLUGIN)
    } else if v.azure_file.is_some() {
        Some(AZURE_FILE_PLUGIN)
    } else if v.cinder.is_some() {
        Some(CINDER_PLUGIN)
    } else if v.vsphere_volume.is_some() {
        Some(VSPHERE_PLUGIN)
    } else if v.portworx_volume.is_some() {
        Some(PORTWORX_PLUGIN)
    } else {
        None
    }
}

/// The CSI driver an in-tree plugin migrates to (`GetCSINameFromInTreeName`).
pub fn csi_driver_for_in_tree(plugin: &str) -> Option<&'static str> {
    Some(match plugin {
        AWS_EBS_PLUGIN => "ebs.csi.aws.com",
        GCE_PD_PLUGIN => "pd.csi.storage.gke.io",
        AZURE_DISK_PLUGIN => "disk.csi.azure.com",
        AZURE_FILE_PLUGIN => "file.csi.azure.com",
        CINDER_PLUGIN => "cinder.csi.openstack.org",
        VSPHERE_PLUGIN => "csi.vsphere.vmware.com",
        PORTWORX_PLUGIN => "pxd.portworx.com",
        _ => return None,
    })
}

/// Whether the CSINode lists the plugin in its migrated-plugins annotation.
pub fn plugin_migrated_on_node(csi_node: Option<&CSINode>, plugin: &str) -> bool {
    csi_node
        .and_then(|n| annotation(&n.metadata, MIGRATED_PLUGINS_ANNOTATION))
        .is_some_and(|v| v.split(',').any(|p| p == plugin))
}

/// Whether CSI migration is on for the plugin on the node (`isCSIMigrationOn` of
/// NodeVolumeLimits): always for AWS EBS, GCE PD, Azure Disk and Cinder when the node has a
/// CSINode; Portworx (gate CSIMigrationPortworx, on in 1.34) when the CSINode lists it.
pub fn csi_migration_on(csi_node: Option<&CSINode>, plugin: &str) -> bool {
    if csi_node.is_none() || plugin.is_empty() {
        return false;
    }
    match plugin {
        AWS_EBS_PLUGIN | GCE_PD_PLUGIN | AZURE_DISK_PLUGIN | CINDER_PLUGIN => true,
        PORTWORX_PLUGIN => plugin_migrated_on_node(csi_node, plugin),
        _ => false,
    }
}

/// The volume handle csi-translation-lib gives a migrated in-tree source. Only equality between
/// handles matters to the scheduler, so the identifying field of the source is used as is.
pub fn in_tree_volume_handle(v: &Volume) -> Option<String> {
    if let Some(s) = &v.gce_persistent_disk {
        Some(s.pd_name.clone())
    } else if let Some(s) = &v.aws_elastic_block_store {
        Some(s.volume_id.clone())
    } else if let Some(s) = &v.azure_disk {
        Some(s.disk_uri.clone())
    } else if let Some(s) = &v.cinder {
        Some(s.volume_id.clone())
    } else {
        v.portworx_volume.as_ref().map(|s| s.volume_id.clone())
    }
}

/// As [`in_tree_volume_handle`] for a PV.
pub fn in_tree_pv_volume_handle(pv: &PersistentVolume) -> Option<String> {
    let s = pv.spec.as_ref()?;
    if let Some(x) = &s.gce_persistent_disk {
        Some(x.pd_name.clone())
    } else if let Some(x) = &s.aws_elastic_block_store {
        Some(x.volume_id.clone())
    } else if let Some(x) = &s.azure_disk {
        Some(x.disk_uri.clone())
    } else if let Some(x) = &s.cinder {
        Some(x.volume_id.clone())
    } else {
        s.portworx_volume.as_ref().map(|x| x.volume_id.clone())
    }
}

/// The StorageClass of a claim, if it names an existing one.
pub fn claim_storage_class<'a>(
    pvc: &PersistentVolumeClaim,
    objects: &'a ClusterObjects,
) -> Option<&'a StorageClass> {
    let class = pvc_class(pvc);
    if class.is_empty() {
        return None;
    }
    objects.storage_classes.get(&class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::TopologySelectorLabelRequirement;

    #[test]
    fn topology_terms() {
        let labels: BTreeMap<String, String> =
            [("zone".to_owned(), "a".to_owned())].into_iter().collect();
        assert!(match_topology_selector_terms(&[], &labels));
        let term = |k: &str, v: &str| TopologySelectorTerm {
            match_label_expressions: Some(vec![TopologySelectorLabelRequirement {
                key: k.into(),
                values: vec![v.into()],
            }]),
        };
        assert!(match_topology_selector_terms(&[term("zone", "a")], &labels));
        assert!(!match_topology_selector_terms(
            &[term("zone", "b")],
            &labels
        ));
        assert!(match_topology_selector_terms(
            &[term("zone", "b"), term("zone", "a")],
            &labels
        ));
    }
}
