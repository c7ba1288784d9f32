//! Test harness: an in-process API server on virtual time, the controller manager, and a
//! stand-in kubelet that makes pods Running and Ready after a delay.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_controllers::ControllerManager;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::SimTime;
use kubetwin_store::Store;
use serde_json::{Value, json};

/// The epoch of every test.
pub fn epoch() -> Timestamp {
    Timestamp::from_second(1_735_689_600).expect("epoch")
}

/// A server, a client and the shared time; the controllers run in the background.
pub async fn cluster(with_kubelet: bool) -> (LocalClient, SimTime) {
    let time = SimTime::new(epoch(), 1.0);
    let server = ApiServer::new(
        Storage::new(Store::memory()),
        Arc::new(time.clone()),
        7,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    let client = LocalClient::new(server, "test");
    let manager_client = LocalClient::new(client.server().clone(), "kube-controller-manager");
    tokio::spawn(ControllerManager::run(manager_client, time.clone(), 1));
    if with_kubelet {
        tokio::spawn(fake_kubelet(
            LocalClient::new(client.server().clone(), "kubelet"),
            time.clone(),
        ));
    }
    (client, time)
}

/// Marks every new pod Running and Ready, with a pod IP, one second after it appears.
pub async fn fake_kubelet(client: LocalClient, time: SimTime) {
    let info = resource_of::<Pod>().expect("pods");
    let mut rx = client.watch(info, None, 0, None, None).expect("watch");
    let mut next_ip = 0u32;
    while let Some(event) = rx.recv().await {
        if event.event_type != "ADDED" {
            continue;
        }
        let obj = event.object;
        if obj["metadata"]["deletionTimestamp"].is_string() {
            continue;
        }
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let annotations = &obj["metadata"]["annotations"];
        let run_duration = annotations["kubetwin.io/run-duration"]
            .as_str()
            .and_then(|d| d.strip_suffix('s'))
            .and_then(|d| d.parse::<u64>().ok())
            .map(Duration::from_secs);
        let exit_code: i64 = annotations["kubetwin.io/exit-code"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        next_ip += 1;
        let ip = format!("10.244.{}.{}", next_ip / 250, next_ip % 250 + 1);
        let client = client.clone();
        let time = time.clone();
        tokio::spawn(async move {
            time.sleep(Duration::from_secs(1)).await;
            let now = kubetwin_core::clock::format_time(time.now());
            let patch = json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": now}
            ]}});
            let _ = client
                .merge_patch(info, Some(&ns), &name, "status", &patch)
                .await;
            // Job pods: `kubetwin.io/run-duration: <N>s` then exit with `kubetwin.io/exit-code`.
            let Some(run) = run_duration else {
                return;
            };
            time.sleep(run).await;
            let phase = if exit_code == 0 {
                "Succeeded"
            } else {
                "Failed"
            };
            let now = kubetwin_core::clock::format_time(time.now());
            let patch = json!({"status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": "False", "lastTransitionTime": now}
            ]}});
            let _ = client
                .merge_patch(info, Some(&ns), &name, "status", &patch)
                .await;
        });
    }
}

/// Lists objects of a resource in a namespace.
pub fn list(client: &LocalClient, resource: &str, group: &str, ns: &str) -> Vec<Value> {
    let info = kubetwin_apiserver::registry::lookup(group, "v1", resource).expect("resource");
    client.list(info, Some(ns), None, None).expect("list").items
}

/// A Deployment manifest.
pub fn deployment(name: &str, replicas: i32, image: &str, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}
            }
        }
    })
}
