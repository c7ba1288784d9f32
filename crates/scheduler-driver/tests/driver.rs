//! The API-connected scheduler against an in-process API server under virtual time.

use std::sync::Arc;
use std::time::Duration;

use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::lookup;
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_runtime::SimTime;
use kubetwin_scheduler_driver::{Explanations, SchedulerDriver};
use kubetwin_store::Store;
use serde_json::{Value, json};

fn node(name: &str, zone: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}},
        "status": {
            "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

fn pod(name: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]},
    })
}

async fn start() -> (LocalClient, SimTime) {
    let (client, time, _) = start_with_explanations().await;
    (client, time)
}

async fn start_with_explanations() -> (LocalClient, SimTime, Explanations) {
    let epoch = jiff::Timestamp::from_second(1_735_689_600).expect("epoch");
    let time = SimTime::new(epoch, 1.0);
    let server = ApiServer::new(
        Storage::new(Store::memory()),
        Arc::new(time.clone()),
        7,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    let client = LocalClient::new(server, "test");
    let nodes = lookup("", "v1", "nodes").expect("nodes");
    client
        .create(nodes, None, node("n1", "a", "2"))
        .await
        .expect("n1");
    client
        .create(nodes, None, node("n2", "b", "2"))
        .await
        .expect("n2");
    let driver = SchedulerDriver::new(
        LocalClient::new(client.server().clone(), "default-scheduler"),
        time.clone(),
        1,
    )
    .expect("driver");
    let explanations = driver.explanations();
    tokio::spawn(driver.run());
    (client, time, explanations)
}

#[tokio::test(start_paused = true)]
async fn binds_pods_and_reports_the_exact_fit_error() {
    let (client, time, explanations) = start_with_explanations().await;
    let pods = lookup("", "v1", "pods").expect("pods");
    client
        .create(pods, Some("default"), pod("small", "500m"))
        .await
        .expect("small");
    client
        .create(pods, Some("default"), pod("huge", "64"))
        .await
        .expect("huge");
    time.sleep(Duration::from_secs(2)).await;

    let small = client.get(pods, Some("default"), "small").expect("small");
    let node = small["spec"]["nodeName"].as_str().unwrap_or("");
    assert!(node == "n1" || node == "n2", "small not bound: {small}");

    let huge = client.get(pods, Some("default"), "huge").expect("huge");
    assert!(huge["spec"]["nodeName"].is_null(), "{huge}");
    let condition = huge["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled").cloned())
        .expect("PodScheduled condition");
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], "Unschedulable");
    // 1.34: a request above the node's allocatable is unresolvable by preemption
    // (`noderesources/fit.go` `fitsRequest`), so no node is a preemption candidate.
    let expected = "0/2 nodes are available: 2 Insufficient cpu. no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
    assert_eq!(condition["message"], expected);
    let events = lookup("", "v1", "events").expect("events");
    let listed = client
        .list(
            events,
            Some("default"),
            None,
            Some("involvedObject.name=huge"),
        )
        .expect("events");
    assert_eq!(listed.items.len(), 1, "{:?}", listed.items);
    assert_eq!(listed.items[0]["reason"], "FailedScheduling");
    assert_eq!(listed.items[0]["message"], expected);

    // The last decisions are kept with their per-node detail (`kubetwin explain pod`).
    let huge = explanations.get("default", "huge").expect("huge decision");
    assert_eq!(huge.message.as_deref(), Some(expected));
    let verdicts: Vec<(&str, &str)> = huge
        .explanation
        .filter
        .iter()
        .map(|f| (f.node.as_str(), f.plugin.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        vec![("n1", "NodeResourcesFit"), ("n2", "NodeResourcesFit")]
    );
    let small = explanations
        .get("default", "small")
        .expect("small decision");
    assert_eq!(small.node.as_deref(), Some(node));
    assert!(
        small.explanation.scores.is_some(),
        "two feasible nodes are scored"
    );
}

/// On a multi-threaded runtime (`serve`) bindings run in tasks of their own while the loop
/// goes on with the pods assumed: the assumed pods still count, so exactly the pods that fit
/// are bound and the rest get the exact fit error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_in_their_own_tasks_keep_assumed_pods_counted() {
    let (client, _time) = start().await;
    let pods = lookup("", "v1", "pods").expect("pods");
    for i in 0..5 {
        client
            .create(pods, Some("default"), pod(&format!("p{i}"), "900m"))
            .await
            .expect("pod");
    }
    // Waits for the outcome, not for a duration: each pod is either bound or marked
    // unschedulable (real time, at most a minute).
    let mut listed = Vec::new();
    for _ in 0..600 {
        listed = client
            .list(pods, Some("default"), None, None)
            .expect("pods")
            .items;
        let decided = listed.iter().filter(|p| {
            p["spec"]["nodeName"].is_string()
                || p["status"]["conditions"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["reason"] == "Unschedulable"))
        });
        if decided.count() == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let on = |node: &str| {
        listed
            .iter()
            .filter(|p| p["spec"]["nodeName"] == node)
            .count()
    };
    assert_eq!((on("n1"), on("n2")), (2, 2), "{listed:?}");
    let pending: Vec<&Value> = listed
        .iter()
        .filter(|p| p["spec"]["nodeName"].is_null())
        .collect();
    assert_eq!(pending.len(), 1);
    let condition = pending[0]["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled").cloned())
        .expect("PodScheduled condition");
    assert!(
        condition["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("0/2 nodes are available: 2 Insufficient cpu.")),
        "{condition}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_new_node_lets_a_pending_pod_schedule() {
    let (client, time) = start().await;
    let pods = lookup("", "v1", "pods").expect("pods");
    client
        .create(pods, Some("default"), pod("big", "3"))
        .await
        .expect("big");
    time.sleep(Duration::from_secs(1)).await;
    assert!(client.get(pods, Some("default"), "big").expect("big")["spec"]["nodeName"].is_null());
    let nodes = lookup("", "v1", "nodes").expect("nodes");
    client
        .create(nodes, None, node("n3", "c", "4"))
        .await
        .expect("n3");
    time.sleep(Duration::from_secs(1)).await;
    assert_eq!(
        client.get(pods, Some("default"), "big").expect("big")["spec"]["nodeName"],
        "n3"
    );
}
