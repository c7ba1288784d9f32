//! VolumeBinding's PreBind through the API: what the scheduler assumed about a pod's claims
//! during its cycle is written so the PV controller and the provisioner can finish it.
//!
//! Upstream: `pkg/scheduler/framework/plugins/volumebinding/binder.go` `BindPodVolumes` →
//! `bindAPIUpdate`: a static binding updates the PersistentVolume with the claim reference
//! (`GetBindVolumeToClaim`, annotation `pv.kubernetes.io/bound-by-controller`); a claim to
//! provision gets the `volume.kubernetes.io/selected-node` annotation. The PV controller then
//! completes the claim side (`pkg/controller/volume/persistentvolume/pv_controller.go`).
//!
//! Knowingly different: upstream's PreBind then waits (up to `bindTimeoutSeconds`) until the
//! claims are bound before binding the pod; here the pod is bound right after the writes (the
//! simulated kubelet does not wait for volume attachment either).

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_scheduler::objects::ClusterObjects;
use kubetwin_scheduler::types::PodInfo;
use serde_json::json;

const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";

/// The pod's claims (`namespace/name`) and what the scheduler knows of each.
pub fn claims_of(
    objects: &ClusterObjects,
    pod: &PodInfo,
) -> Vec<(String, Option<PersistentVolumeClaim>)> {
    let Some(volumes) = pod.spec().and_then(|s| s.volumes.as_ref()) else {
        return Vec::new();
    };
    volumes
        .iter()
        .filter_map(|v| {
            if let Some(claim) = &v.persistent_volume_claim {
                Some(claim.claim_name.clone())
            } else {
                // Generic ephemeral volumes: the claim is `<pod>-<volume>`.
                v.ephemeral
                    .as_ref()
                    .map(|_| format!("{}-{}", pod.name, v.name))
            }
        })
        .map(|claim| {
            let key = format!("{}/{claim}", pod.namespace);
            let known = objects.persistent_volume_claims.get(&key).cloned();
            (key, known)
        })
        .collect()
}

fn selected_node(pvc: &PersistentVolumeClaim) -> Option<&str> {
    pvc.metadata
        .annotations
        .as_ref()?
        .get(ANN_SELECTED_NODE)
        .map(String::as_str)
}

fn volume_name(pvc: &PersistentVolumeClaim) -> Option<&str> {
    pvc.spec
        .as_ref()?
        .volume_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

/// Writes the differences between the claims before and after the cycle.
pub async fn write_bindings(
    client: &LocalClient,
    before: &[(String, Option<PersistentVolumeClaim>)],
    after: &[(String, Option<PersistentVolumeClaim>)],
) {
    let (Ok(pvcs), Ok(pvs)) = (
        resource_of::<PersistentVolumeClaim>(),
        resource_of::<PersistentVolume>(),
    ) else {
        return;
    };
    for ((key, old), (_, new)) in before.iter().zip(after) {
        let Some(new) = new else { continue };
        let old = old.as_ref();
        let Some((namespace, name)) = key.split_once('/') else {
            continue;
        };
        if let Some(node) = selected_node(new)
            && old.and_then(selected_node) != Some(node)
        {
            let patch = json!({"metadata": {"annotations": {ANN_SELECTED_NODE: node}}});
            if let Err(e) = client
                .merge_patch_shared(pvcs, Some(namespace), name, "", &patch)
                .await
            {
                tracing::debug!(claim = %key, error = %e, "scheduler: selected-node annotation failed");
            }
        }
        if let Some(volume) = volume_name(new)
            && old.and_then(volume_name).is_none()
        {
            let patch = json!({
                "metadata": {"annotations": {ANN_BOUND_BY_CONTROLLER: "yes"}},
                "spec": {"claimRef": {
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "namespace": namespace, "name": name, "uid": new.metadata.uid,
                    "resourceVersion": new.metadata.resource_version,
                }},
            });
            if let Err(e) = client
                .merge_patch_shared(pvs, None, volume, "", &patch)
                .await
            {
                tracing::debug!(claim = %key, volume, error = %e, "scheduler: volume binding failed");
            }
        }
    }
}
