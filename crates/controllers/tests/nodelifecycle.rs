//! In-process test under virtual time: a node whose kubelet goes silent becomes Ready=Unknown
//! and unreachable-tainted after the 40 s grace period; its pods are evicted after their
//! tolerationSeconds (300 s from the API server's DefaultTolerationSeconds admission, or
//! their own).

mod common;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_core::clock::Clock;
use serde_json::json;

use common::cluster;

async fn create_pod(client: &LocalClient, name: &str, toleration_seconds: Option<i64>) {
    let tolerations = toleration_seconds.map_or(json!([]), |s| {
        json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": s}])
    });
    let info = resource_of::<Pod>().expect("pods");
    client
        .create(
            info,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "namespace": "default"},
                   "spec": {"nodeName": "n1", "tolerations": tolerations,
                            "containers": [{"name": "c", "image": "nginx"}]}}),
        )
        .await
        .expect("pod");
}

fn pod_exists(client: &LocalClient, name: &str) -> bool {
    client
        .get_typed::<Pod>(Some("default"), name)
        .is_ok_and(|p| p.metadata.deletion_timestamp.is_none())
}

#[tokio::test(start_paused = true)]
async fn silent_node_becomes_unknown_and_pods_are_evicted() {
    let (client, time) = cluster(true).await;
    let now = kubetwin_core::clock::format_time(time.now());
    let nodes = resource_of::<Node>().expect("nodes");
    client
        .create(
            nodes,
            None,
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                   "status": {"conditions": [{"type": "Ready", "status": "True",
                       "reason": "KubeletReady", "lastHeartbeatTime": now,
                       "lastTransitionTime": now}]}}),
        )
        .await
        .expect("node");
    create_pod(&client, "defaulted", None).await;
    create_pod(&client, "patient", Some(60)).await;
    time.sleep(Duration::from_secs(30)).await;
    let node = client.get_typed::<Node>(None, "n1").expect("node");
    assert!(
        node.spec
            .and_then(|s| s.taints)
            .unwrap_or_default()
            .is_empty()
    );
    assert!(pod_exists(&client, "defaulted"));

    // Past the 40 s grace period (checked every 5 s).
    time.sleep(Duration::from_secs(20)).await;
    let node = client.get_typed::<Node>(None, "n1").expect("node");
    let ready = node
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .expect("ready");
    assert_eq!(
        (
            ready.status.as_str(),
            ready.reason.as_deref(),
            ready.message.as_deref()
        ),
        (
            "Unknown",
            Some("NodeStatusUnknown"),
            Some("Kubelet stopped posting node status.")
        )
    );
    let taints: Vec<String> = node
        .spec
        .and_then(|s| s.taints)
        .unwrap_or_default()
        .into_iter()
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect();
    assert_eq!(
        taints,
        vec![
            "node.kubernetes.io/unreachable:NoExecute",
            "node.kubernetes.io/unreachable:NoSchedule"
        ]
    );
    // MarkPodsNotReady: the pods left on the node are no longer Ready, so endpoints drop them.
    for name in ["defaulted", "patient"] {
        let pod = client.get_typed::<Pod>(Some("default"), name).expect("pod");
        let ready = pod
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.status);
        assert_eq!(ready.as_deref(), Some("False"), "{name}");
    }
    let events = client
        .list(
            resource_of::<k8s_openapi::api::core::v1::Event>().expect("events"),
            None,
            None,
            None,
        )
        .expect("events");
    let reasons: Vec<(String, String)> = events
        .items
        .iter()
        .filter(|e| e["reason"] == "NodeNotReady")
        .map(|e| {
            (
                e["involvedObject"]["kind"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                e["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(reasons.contains(&("Node".into(), "Node n1 status is now: NodeNotReady".into())));
    assert!(reasons.contains(&("Pod".into(), "Node is not ready".into())));
    assert!(pod_exists(&client, "defaulted"), "tolerates for 300 s");
    assert!(pod_exists(&client, "patient"), "tolerates for 60 s");
    time.sleep(Duration::from_secs(70)).await;
    assert!(!pod_exists(&client, "patient"), "evicted after its 60 s");
    assert!(pod_exists(&client, "defaulted"));
    time.sleep(Duration::from_secs(250)).await;
    assert!(
        !pod_exists(&client, "defaulted"),
        "evicted after the default 300 s"
    );
    let evicted = client.get_typed::<Pod>(Some("default"), "defaulted");
    if let Ok(p) = evicted {
        let target = p
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_ == "DisruptionTarget")
            .expect("DisruptionTarget");
        assert_eq!(target.reason.as_deref(), Some("DeletionByTaintManager"));
    }
}
