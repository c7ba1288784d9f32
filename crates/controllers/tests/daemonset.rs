//! In-process test under virtual time: a DaemonSet places one pod per eligible node (pinned
//! by node affinity on metadata.name) and follows nodes that come and go.

mod common;

use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_controllers::daemonset::target_node;
use serde_json::json;

use common::cluster;

async fn add_node(client: &LocalClient, name: &str, taint: Option<&str>) {
    let info = resource_of::<Node>().expect("nodes");
    let taints = taint.map_or(json!([]), |t| json!([{"key": t, "effect": "NoSchedule"}]));
    client
        .create(
            info,
            None,
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                   "spec": {"taints": taints}}),
        )
        .await
        .expect("node");
}

fn placements(client: &LocalClient) -> Vec<String> {
    let mut nodes: Vec<String> = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods")
        .iter()
        .filter_map(target_node)
        .collect();
    nodes.sort();
    nodes
}

#[tokio::test(start_paused = true)]
async fn one_pod_per_eligible_node() {
    let (client, time) = cluster(true).await;
    add_node(&client, "n1", None).await;
    add_node(&client, "n2", None).await;
    add_node(&client, "n3", Some("dedicated")).await;
    let info = resource_of::<DaemonSet>().expect("daemonsets");
    client
        .create(
            info,
            Some("default"),
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                   "metadata": {"name": "agent", "namespace": "default"},
                   "spec": {"selector": {"matchLabels": {"app": "agent"}},
                            "template": {"metadata": {"labels": {"app": "agent"}},
                                         "spec": {"containers": [{"name": "c", "image": "agent"}]}}}}),
        )
        .await
        .expect("ds");
    time.sleep(Duration::from_secs(10)).await;
    assert_eq!(placements(&client), vec!["n1", "n2"]);
    let pod = &client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods")[0];
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    assert!(tolerations.iter().any(
        |t| t.key.as_deref() == Some("node.kubernetes.io/unreachable")
            && t.effect.as_deref() == Some("NoExecute")
    ));
    let ds = client
        .get_typed::<DaemonSet>(Some("default"), "agent")
        .expect("ds");
    let status = ds.status.unwrap_or_default();
    assert_eq!(
        (
            status.desired_number_scheduled,
            status.current_number_scheduled,
            status.number_ready
        ),
        (2, 2, 2)
    );
    // A new node gets a pod; a removed node's pod goes.
    add_node(&client, "n4", None).await;
    let nodes = resource_of::<Node>().expect("nodes");
    client
        .delete(nodes, None, "n1", &DeleteOptions::default())
        .await
        .expect("delete node");
    time.sleep(Duration::from_secs(10)).await;
    // The pod pinned to the deleted (never scheduled) node is removed too.
    assert_eq!(placements(&client), vec!["n2", "n4"]);
}
