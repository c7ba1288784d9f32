//! In-process test under virtual time of the resource quota controller with quota
//! admission: status is computed for a new quota, admission charges creates and refuses
//! what exceeds, deleted and finished pods are given back, and the periodic resync corrects
//! a drifted status.
//!
//! Upstream: `pkg/controller/resourcequota/resource_quota_controller_test.go`
//! (`TestSyncResourceQuota`, `TestAddQuota`) and `test/integration/quota/quota_test.go`
//! (`TestQuota`: pods admitted up to the quota, refused after, room again after deletion).

mod common;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, ResourceQuota};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_controllers::resourcequota::RESYNC_PERIOD;
use serde_json::{Value, json};

use common::cluster;

fn quota_status(client: &LocalClient) -> Value {
    let info = resource_of::<ResourceQuota>().expect("quotas");
    client
        .get(info, Some("default"), "quota")
        .expect("quota")
        .get("status")
        .cloned()
        .unwrap_or(Value::Null)
}

fn pod(name: &str, annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default", "annotations": annotations},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
               "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "100m"}}}]}})
}

#[tokio::test(start_paused = true)]
async fn quota_status_follows_the_namespace() {
    let (client, time) = cluster(true).await;
    let quotas = resource_of::<ResourceQuota>().expect("quotas");
    let pods = resource_of::<Pod>().expect("pods");
    let configmaps = kubetwin_apiserver::registry::lookup("", "v1", "configmaps").expect("cms");
    client
        .create(
            configmaps,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before", "namespace": "default"}}),
        )
        .await
        .expect("configmap");
    client
        .create(
            quotas,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "ResourceQuota",
                   "metadata": {"name": "quota", "namespace": "default"},
                   "spec": {"hard": {"pods": "2", "requests.cpu": "1", "count/configmaps": "5"}}}),
        )
        .await
        .expect("quota");
    time.sleep(Duration::from_secs(1)).await;
    // The first sync: hard copied, usage measured (the pre-existing configmap counts; the
    // namespace's kube-root-ca.crt is not created by this twin).
    let status = quota_status(&client);
    assert_eq!(
        status["hard"],
        json!({"count/configmaps": "5", "pods": "2", "requests.cpu": "1"})
    );
    assert_eq!(
        status["used"],
        json!({"count/configmaps": "1", "pods": "0", "requests.cpu": "0"})
    );

    // Admission charges each pod; the third is refused.
    client
        .create(pods, Some("default"), pod("a", json!({})))
        .await
        .expect("a");
    client
        .create(
            pods,
            Some("default"),
            pod("job", json!({"kubetwin.io/run-duration": "5s"})),
        )
        .await
        .expect("job");
    let err = client
        .create(pods, Some("default"), pod("c", json!({})))
        .await
        .expect_err("over quota");
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        "pods \"c\" is forbidden: exceeded quota: quota, requested: pods=1, used: pods=2, limited: pods=2"
    );
    assert_eq!(
        quota_status(&client)["used"],
        json!({"count/configmaps": "1", "pods": "2", "requests.cpu": "200m"})
    );

    // A pod that finishes (Succeeded) no longer counts.
    time.sleep(Duration::from_secs(10)).await;
    assert_eq!(
        quota_status(&client)["used"],
        json!({"count/configmaps": "1", "pods": "1", "requests.cpu": "100m"})
    );
    client
        .create(pods, Some("default"), pod("c", json!({})))
        .await
        .expect("room again");

    // A deleted pod is given back.
    let now = DeleteOptions {
        grace_period_seconds: Some(0),
        ..DeleteOptions::default()
    };
    client
        .delete(pods, Some("default"), "a", &now)
        .await
        .expect("delete");
    time.sleep(Duration::from_secs(1)).await;
    assert_eq!(quota_status(&client)["used"]["pods"], "1");

    // A drifted status (written behind the controller's back) is corrected by the resync.
    let mut drifted = client.get(quotas, Some("default"), "quota").expect("quota");
    drifted["status"]["used"]["pods"] = json!("0");
    client
        .update(quotas, "status", drifted)
        .await
        .expect("status");
    time.sleep(Duration::from_secs(1)).await;
    assert_eq!(quota_status(&client)["used"]["pods"], "0");
    time.sleep(RESYNC_PERIOD).await;
    assert_eq!(quota_status(&client)["used"]["pods"], "1");

    // A changed spec.hard is picked up at once.
    let mut wider = client.get(quotas, Some("default"), "quota").expect("quota");
    wider["spec"]["hard"] = json!({"pods": "10"});
    client.update(quotas, "", wider).await.expect("update");
    time.sleep(Duration::from_secs(1)).await;
    assert_eq!(
        quota_status(&client),
        json!({"hard": {"pods": "10"}, "used": {"pods": "1"}})
    );
}
