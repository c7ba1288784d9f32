//! In-process test under virtual time of the PersistentVolume controller and the simulated
//! provisioner: a WaitForFirstConsumer claim waits, is provisioned in the selected node's zone
//! once the scheduler picked a node, and binds; an Immediate claim binds the smallest fitting
//! static volume; a deleted claim releases its volume, which the Delete policy removes.

mod common;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Node, PersistentVolume, PersistentVolumeClaim};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_controllers::persistentvolume::{SIMULATED_PROVISIONER, ensure_default_storage_class};
use serde_json::json;

use common::cluster;

async fn create_claim(client: &LocalClient, name: &str, class: &str, size: &str) {
    let info = resource_of::<PersistentVolumeClaim>().expect("pvcs");
    client
        .create(
            info,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": name, "namespace": "default"},
                   "spec": {"storageClassName": class, "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": size}}}}),
        )
        .await
        .expect("claim");
}

fn claim(client: &LocalClient, name: &str) -> PersistentVolumeClaim {
    client
        .get_typed::<PersistentVolumeClaim>(Some("default"), name)
        .expect("claim")
}

fn reasons_for(client: &LocalClient, name: &str) -> Vec<String> {
    let info = resource_of::<Event>().expect("events");
    let selector = format!("involvedObject.name={name}");
    client
        .list(info, Some("default"), None, Some(&selector))
        .expect("events")
        .items
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn claims_are_provisioned_bound_and_released() {
    let (client, time) = cluster(false).await;
    ensure_default_storage_class(&client).await.expect("class");
    let nodes = resource_of::<Node>().expect("nodes");
    client
        .create(
            nodes,
            None,
            json!({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "zone-b"}}}),
        )
        .await
        .expect("node");

    // WaitForFirstConsumer: nothing happens until the scheduler selects a node.
    create_claim(&client, "data", "standard", "5Gi").await;
    time.sleep(Duration::from_secs(2)).await;
    let waiting = claim(&client, "data");
    assert!(waiting.spec.and_then(|s| s.volume_name).is_none());
    assert_eq!(reasons_for(&client, "data"), vec!["WaitForFirstConsumer"]);

    let pvcs = resource_of::<PersistentVolumeClaim>().expect("pvcs");
    client
        .merge_patch(
            pvcs,
            Some("default"),
            "data",
            "",
            &json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "n1"}}}),
        )
        .await
        .expect("select node");
    time.sleep(Duration::from_secs(2)).await;
    let bound = claim(&client, "data");
    let uid = bound.metadata.uid.clone().expect("uid");
    let volume_name = bound
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .expect("bound claim");
    assert_eq!(volume_name, format!("pvc-{uid}"));
    assert_eq!(
        bound.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Bound")
    );
    let annotations = bound.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("pv.kubernetes.io/bind-completed")
            .map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        annotations
            .get("volume.kubernetes.io/storage-provisioner")
            .map(String::as_str),
        Some(SIMULATED_PROVISIONER)
    );
    let pv = client
        .get_typed::<PersistentVolume>(None, &volume_name)
        .expect("volume");
    assert_eq!(
        pv.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Bound")
    );
    let zone = serde_json::to_value(pv.spec.as_ref().and_then(|s| s.node_affinity.clone()))
        .expect("affinity");
    assert_eq!(
        zone["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
        json!(["zone-b"])
    );
    let reasons = reasons_for(&client, "data");
    for wanted in [
        "ExternalProvisioning",
        "Provisioning",
        "ProvisioningSucceeded",
    ] {
        assert!(
            reasons.iter().any(|r| r == wanted),
            "{wanted} in {reasons:?}"
        );
    }

    // Immediate binding to the smallest static volume that fits.
    let pvs = resource_of::<PersistentVolume>().expect("pvs");
    for (name, size) in [("small", "1Gi"), ("medium", "10Gi"), ("large", "100Gi")] {
        client
            .create(
                pvs,
                None,
                json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
                       "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                                "storageClassName": "manual", "hostPath": {"path": "/data"}}}),
            )
            .await
            .expect("pv");
    }
    create_claim(&client, "logs", "manual", "4Gi").await;
    time.sleep(Duration::from_secs(2)).await;
    let logs = claim(&client, "logs");
    assert_eq!(
        logs.spec.and_then(|s| s.volume_name).as_deref(),
        Some("medium")
    );
    let medium = client
        .get_typed::<PersistentVolume>(None, "medium")
        .expect("medium");
    assert_eq!(
        medium
            .spec
            .and_then(|s| s.claim_ref)
            .and_then(|r| r.name)
            .as_deref(),
        Some("logs")
    );
    let available = client
        .get_typed::<PersistentVolume>(None, "small")
        .expect("small");
    assert_eq!(
        available.status.and_then(|s| s.phase).as_deref(),
        Some("Available")
    );

    // Deleting the claims: the provisioned volume is deleted, the static one is Released.
    for name in ["data", "logs"] {
        client
            .delete(pvcs, Some("default"), name, &DeleteOptions::default())
            .await
            .expect("delete claim");
    }
    time.sleep(Duration::from_secs(20)).await;
    assert!(
        client
            .get_typed::<PersistentVolume>(None, &volume_name)
            .is_err(),
        "provisioned volume deleted"
    );
    let released = client
        .get_typed::<PersistentVolume>(None, "medium")
        .expect("medium");
    assert_eq!(
        released.status.and_then(|s| s.phase).as_deref(),
        Some("Released")
    );
}
