//! In-process tests under virtual time: garbage collection (background, foreground, orphan),
//! namespace termination and the default ServiceAccount.

mod common;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ServiceAccount};
use kubetwin_apiserver::local::resource_of;
use kubetwin_apiserver::write::{DeleteOptions, Propagation};
use serde_json::json;

use common::{cluster, deployment};

async fn deploy(client: &kubetwin_apiserver::local::LocalClient, time: &kubetwin_runtime::SimTime) {
    let info = resource_of::<Deployment>().expect("deployments");
    client
        .create(
            info,
            Some("default"),
            deployment("web", 2, "nginx", json!({"type": "RollingUpdate"})),
        )
        .await
        .expect("create");
    time.sleep(Duration::from_secs(20)).await;
    assert_eq!(
        client
            .list_typed::<ReplicaSet>(Some("default"), None)
            .expect("rs")
            .len(),
        1
    );
    assert_eq!(
        client
            .list_typed::<Pod>(Some("default"), None)
            .expect("pods")
            .len(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn background_deletion_removes_dependents() {
    let (client, time) = cluster(false).await;
    deploy(&client, &time).await;
    let info = resource_of::<Deployment>().expect("deployments");
    client
        .delete(info, Some("default"), "web", &DeleteOptions::default())
        .await
        .expect("delete");
    time.sleep(Duration::from_secs(20)).await;
    assert!(
        client
            .list_typed::<ReplicaSet>(Some("default"), None)
            .expect("rs")
            .is_empty()
    );
    assert!(
        client
            .list_typed::<Pod>(Some("default"), None)
            .expect("pods")
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn foreground_deletion_waits_for_dependents_then_removes_finalizer() {
    let (client, time) = cluster(false).await;
    deploy(&client, &time).await;
    let info = resource_of::<Deployment>().expect("deployments");
    let options = DeleteOptions {
        propagation: Some(Propagation::Foreground),
        ..DeleteOptions::default()
    };
    let out = client
        .delete(info, Some("default"), "web", &options)
        .await
        .expect("delete");
    assert!(!out.deleted, "foreground deletion keeps the owner first");
    time.sleep(Duration::from_secs(30)).await;
    assert!(
        client
            .list_typed::<Pod>(Some("default"), None)
            .expect("pods")
            .is_empty()
    );
    assert!(
        client
            .list_typed::<ReplicaSet>(Some("default"), None)
            .expect("rs")
            .is_empty()
    );
    let gone = client.get(info, Some("default"), "web");
    assert_eq!(gone.map_err(|e| e.code).err(), Some(404));
}

#[tokio::test(start_paused = true)]
async fn orphan_deletion_keeps_dependents_without_owner() {
    let (client, time) = cluster(false).await;
    let rs_info = resource_of::<ReplicaSet>().expect("rs");
    client
        .create(rs_info, Some("default"), json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "x", "namespace": "default"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}))
        .await
        .expect("rs");
    time.sleep(Duration::from_secs(10)).await;
    let options = DeleteOptions {
        propagation: Some(Propagation::Orphan),
        ..DeleteOptions::default()
    };
    client
        .delete(rs_info, Some("default"), "x", &options)
        .await
        .expect("delete");
    time.sleep(Duration::from_secs(20)).await;
    assert_eq!(
        client
            .get(rs_info, Some("default"), "x")
            .map_err(|e| e.code)
            .err(),
        Some(404)
    );
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| {
        p.metadata
            .owner_references
            .as_ref()
            .is_none_or(Vec::is_empty)
    }));
}

#[tokio::test(start_paused = true)]
async fn dangling_owner_reference_is_collected() {
    let (client, time) = cluster(false).await;
    let info = resource_of::<ConfigMap>().expect("cm");
    client
        .create(info, Some("default"), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "child", "namespace": "default", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": "00000000-0000-0000-0000-000000000001"}]}}))
        .await
        .expect("create");
    time.sleep(Duration::from_secs(5)).await;
    assert_eq!(
        client
            .get(info, Some("default"), "child")
            .map_err(|e| e.code)
            .err(),
        Some(404)
    );
}

#[tokio::test(start_paused = true)]
async fn namespace_deletion_empties_and_finalizes_and_default_sa_appears() {
    let (client, time) = cluster(false).await;
    let ns_info = resource_of::<Namespace>().expect("ns");
    client
        .create(
            ns_info,
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        )
        .await
        .expect("ns");
    time.sleep(Duration::from_secs(2)).await;
    let sa: ServiceAccount = client
        .get_typed(Some("team"), "default")
        .expect("default sa");
    assert_eq!(sa.metadata.name.as_deref(), Some("default"));
    // Deleting the default account brings it back.
    let sa_info = resource_of::<ServiceAccount>().expect("sa");
    client
        .delete(sa_info, Some("team"), "default", &DeleteOptions::default())
        .await
        .expect("delete sa");
    time.sleep(Duration::from_secs(2)).await;
    assert!(
        client
            .get_typed::<ServiceAccount>(Some("team"), "default")
            .is_ok()
    );

    let dep = resource_of::<Deployment>().expect("deployments");
    let mut manifest = deployment("app", 2, "i", json!({"type": "RollingUpdate"}));
    manifest["metadata"]["namespace"] = json!("team");
    client
        .create(dep, Some("team"), manifest)
        .await
        .expect("deploy");
    let cm = resource_of::<ConfigMap>().expect("cm");
    client
        .create(cm, Some("team"), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}}))
        .await
        .expect("cm");
    time.sleep(Duration::from_secs(10)).await;
    assert_eq!(
        client
            .list_typed::<Pod>(Some("team"), None)
            .expect("pods")
            .len(),
        2
    );

    let out = client
        .delete(ns_info, None, "team", &DeleteOptions::default())
        .await
        .expect("delete ns");
    assert!(!out.deleted);
    time.sleep(Duration::from_secs(30)).await;
    assert_eq!(
        client.get(ns_info, None, "team").map_err(|e| e.code).err(),
        Some(404)
    );
    assert!(
        client
            .list_typed::<Pod>(Some("team"), None)
            .expect("pods")
            .is_empty()
    );
    assert!(
        client
            .list_typed::<ConfigMap>(Some("team"), None)
            .expect("cms")
            .is_empty()
    );
    assert!(
        client
            .list_typed::<Deployment>(Some("team"), None)
            .expect("d")
            .is_empty()
    );
}
