//! In-process test under virtual time: a StatefulSet creates ordinals in order with their
//! claims, then rolls an update from the highest ordinal down.

mod common;

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use serde_json::json;

use common::cluster;

fn pod_names(client: &LocalClient) -> Vec<String> {
    client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods")
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn ordered_creation_claims_and_rolling_update() {
    let (client, time) = cluster(true).await;
    let info = resource_of::<StatefulSet>().expect("statefulsets");
    let manifest = |image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": "db", "namespace": "default"},
               "spec": {"replicas": 3, "serviceName": "db",
                        "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "c", "image": image}]}},
                        "volumeClaimTemplates": [{"metadata": {"name": "data"},
                            "spec": {"accessModes": ["ReadWriteOnce"],
                                     "resources": {"requests": {"storage": "1Gi"}}}}]}})
    };
    client
        .create(info, Some("default"), manifest("pg:16"))
        .await
        .expect("create");
    // OrderedReady: one ordinal per ~1 s of readiness.
    time.sleep(Duration::from_millis(500)).await;
    assert_eq!(pod_names(&client), vec!["db-0"]);
    time.sleep(Duration::from_secs(10)).await;
    assert_eq!(pod_names(&client), vec!["db-0", "db-1", "db-2"]);
    let claims: Vec<String> = client
        .list_typed::<PersistentVolumeClaim>(Some("default"), None)
        .expect("pvcs")
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(claims, vec!["data-db-0", "data-db-1", "data-db-2"]);
    let sts = client
        .get_typed::<StatefulSet>(Some("default"), "db")
        .expect("sts");
    let status = sts.status.clone().unwrap_or_default();
    assert_eq!((status.replicas, status.ready_replicas), (3, Some(3)));
    let first_revision = status.update_revision.clone().unwrap_or_default();
    assert_eq!(status.current_revision, Some(first_revision.clone()));

    // Update the template: pods roll from db-2 down to db-0.
    let mut updated = manifest("pg:17");
    updated["metadata"]["resourceVersion"] = json!(sts.metadata.resource_version);
    client.update(info, "", updated).await.expect("update");
    time.sleep(Duration::from_secs(30)).await;
    let sts = client
        .get_typed::<StatefulSet>(Some("default"), "db")
        .expect("sts");
    let status = sts.status.unwrap_or_default();
    let new_revision = status.update_revision.clone().unwrap_or_default();
    assert_ne!(new_revision, first_revision);
    assert_eq!(status.current_revision, Some(new_revision.clone()));
    assert_eq!(status.updated_replicas, Some(3));
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    for pod in pods {
        let spec = pod.spec.unwrap_or_default();
        assert_eq!(spec.containers[0].image.as_deref(), Some("pg:17"));
        assert_eq!(spec.subdomain.as_deref(), Some("db"));
    }
}
