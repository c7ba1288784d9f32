//! How many pod status writes the kubelet makes for a pod, and what each carries, as a real
//! 1.34 kubelet does.
//!
//! Upstream: `pkg/kubelet/kubelet.go` `SyncPod` computes the status once, at its start
//! (`generateAPIPodStatus` in `kubelet_pods.go`, then `statusManager.SetPodStatus`), before
//! `containerRuntime.SyncPod` creates the sandbox, pulls the images and starts the containers;
//! nothing in between reports a status. `pkg/kubelet/status/status_manager.go` (`syncPod`)
//! writes each status that differs from the last one. The next `SyncPod` comes from the PLEG
//! (`pkg/kubelet/pleg/generic.go` `relist`: the containers started) once the first has
//! returned, and its status has the sandbox's IP and running containers, ready at once when
//! they have no readiness probe (`pkg/kubelet/prober/prober_manager.go` `UpdatePodStatus`: no
//! readiness worker means ready). A readiness probe's first success is one more write
//! (`SetContainerReadiness`). So a pod without probes whose image is present is written twice:
//! Pending (ContainerCreating, no IP, PodReadyToStartContainers False), then Running and Ready.

use std::time::Duration;

use jiff::SignedDuration;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_kubelet::{Kubelet, KubeletKnobs};
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};

mod common;
use common::{epoch, test_client};

fn pods() -> &'static ResourceInfo {
    registry::lookup("", "v1", "pods").expect("served")
}

fn node_template() -> Value {
    json!({
        "metadata": {"name": "node-1"},
        "spec": {"podCIDR": "10.244.7.0/24"},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "addresses": [{"type": "InternalIP", "address": "192.168.1.7"}],
        },
    })
}

fn condition<'a>(pod: &'a Value, type_: &str) -> &'a str {
    pod["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .and_then(|c| c["status"].as_str())
        .unwrap_or("-")
}

/// One written status, reduced to what tells the writes apart: phase, pod IP set,
/// PodReadyToStartContainers, Ready, and the container's state (waiting reason or "running").
fn summary(pod: &Value) -> (String, bool, String, String, String) {
    let container = &pod["status"]["containerStatuses"][0]["state"];
    let state = if container["running"].is_object() {
        "running".to_string()
    } else {
        container["waiting"]["reason"]
            .as_str()
            .unwrap_or("-")
            .to_string()
    };
    (
        pod["status"]["phase"].as_str().unwrap_or("-").to_string(),
        pod["status"]["podIP"].is_string(),
        condition(pod, "PodReadyToStartContainers").to_string(),
        condition(pod, "Ready").to_string(),
        state,
    )
}

type Write = (&'static str, bool, &'static str, &'static str, &'static str);

/// (case, container spec, image preloaded, the status writes in order).
#[tokio::test(start_paused = true)]
async fn status_writes_per_pod_follow_sync_pod() {
    let pending: Write = ("Pending", false, "False", "False", "ContainerCreating");
    let running_ready: Write = ("Running", true, "True", "True", "running");
    let cases: Vec<(&str, Value, bool, Vec<Write>)> = vec![
        (
            "no probes, image present: SyncPod's first status, then the PLEG's",
            json!({"name": "app", "image": "registry.k8s.io/pause:3.10"}),
            true,
            vec![pending, running_ready],
        ),
        (
            "no probes, image pulled inside the first SyncPod: no write while pulling",
            json!({"name": "app", "image": "nginx:1.25"}),
            false,
            vec![pending, running_ready],
        ),
        (
            "readiness probe: running not ready, then the probe's first success",
            json!({"name": "app", "image": "registry.k8s.io/pause:3.10",
                   "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 5}}),
            true,
            vec![
                pending,
                ("Running", true, "True", "False", "running"),
                running_ready,
            ],
        ),
    ];
    for (name, container, preloaded, want) in cases {
        let time = SimTime::new(epoch(), 1.0);
        let client = test_client(&time, 1).await;
        let knobs = KubeletKnobs {
            preloaded_images: if preloaded {
                vec!["registry.k8s.io/pause:3.10".into()]
            } else {
                Vec::new()
            },
            ..KubeletKnobs::default()
        };
        let kubelet = Kubelet::new(
            LocalClient::new(client.server().clone(), "kubelet"),
            time.clone(),
            node_template(),
            knobs,
            1,
        );
        let handle = kubelet.handle();
        tokio::spawn(kubelet.run());
        time.sleep(Duration::from_millis(10)).await;
        let created = client
            .create(
                pods(),
                Some("default"),
                json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "p", "namespace": "default"},
                       "spec": {"nodeName": "node-1", "containers": [container]}}),
            )
            .await
            .expect("create pod");
        let from: i64 = created["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("rv");
        let mut watch = client
            .watch(pods(), Some("default"), from, None, None)
            .expect("watch");
        time.sleep_until(epoch() + SignedDuration::from_secs(60))
            .await;
        let mut writes = Vec::new();
        while let Ok(event) = watch.try_recv() {
            assert_eq!(event.event_type, "MODIFIED", "{name}");
            writes.push(summary(&event.object));
        }
        let want: Vec<(String, bool, String, String, String)> = want
            .iter()
            .map(|(phase, ip, start, ready, state)| {
                (
                    phase.to_string(),
                    *ip,
                    start.to_string(),
                    ready.to_string(),
                    state.to_string(),
                )
            })
            .collect();
        assert_eq!(writes, want, "{name}");
        handle.shutdown();
    }
}
