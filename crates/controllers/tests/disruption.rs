//! In-process test under virtual time: a PodDisruptionBudget's status follows its pods, the
//! eviction API honours it, and replacements restore the budget.

mod common;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use serde_json::json;

use common::{cluster, deployment};

fn status(client: &LocalClient) -> (i32, i32, i32, i32, Option<i64>, String) {
    let pdb = client
        .get_typed::<PodDisruptionBudget>(Some("default"), "web")
        .expect("pdb");
    let s = pdb.status.unwrap_or_default();
    let condition = s
        .conditions
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "DisruptionAllowed")
        .map(|c| format!("{}/{}", c.status, c.reason))
        .unwrap_or_default();
    (
        s.expected_pods,
        s.current_healthy,
        s.desired_healthy,
        s.disruptions_allowed,
        s.observed_generation,
        condition,
    )
}

#[tokio::test(start_paused = true)]
async fn pdb_status_guards_evictions() {
    let (client, time) = cluster(true).await;
    let deployments = resource_of::<Deployment>().expect("deployments");
    client
        .create(
            deployments,
            Some("default"),
            deployment("web", 3, "nginx", json!({"type": "RollingUpdate"})),
        )
        .await
        .expect("deployment");
    let pdbs = resource_of::<PodDisruptionBudget>().expect("pdbs");
    client
        .create(
            pdbs,
            Some("default"),
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                   "metadata": {"name": "web", "namespace": "default"},
                   "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        )
        .await
        .expect("pdb");
    time.sleep(Duration::from_secs(20)).await;
    assert_eq!(
        status(&client),
        (3, 3, 2, 1, Some(1), "True/SufficientPods".to_string())
    );

    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    let names: Vec<String> = pods
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    client
        .evict("default", &names[0])
        .await
        .expect("first eviction");
    let refused = client.evict("default", &names[1]).await;
    assert_eq!(refused.map_err(|e| e.code), Err(429));
    // The replacement becomes Ready; the budget allows one disruption again.
    time.sleep(Duration::from_secs(20)).await;
    let (_, healthy, desired, allowed, _, condition) = status(&client);
    assert_eq!((healthy, desired, allowed), (3, 2, 1));
    assert_eq!(condition, "True/SufficientPods");
    client
        .evict("default", &names[1])
        .await
        .expect("second eviction");
}
