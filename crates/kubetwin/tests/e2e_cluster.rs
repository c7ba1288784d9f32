//! End-to-end for the living cluster (issue 4): `kubetwin serve` with the built-in hybrid demo
//! cluster, driven by the real kubectl — nodes in several zones and providers, a Deployment
//! spread over zones rolling out to Running pods, a rolling update and its undo, and a pod too
//! big for any node carrying kube-scheduler's exact FailedScheduling message.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use support::kubectl::Kubectl;
use support::{OwnedServer, ServeOptions};

fn deployment(replicas: u32, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {{app: web}}
      containers:
      - name: web
        image: {image}
        resources:
          requests: {{cpu: 100m, memory: 64Mi}}
"#
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..120 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn hybrid_cluster_deployment_spread_rollout_undo_and_unschedulable_pod() {
    let data = tempfile::tempdir().expect("data dir");
    let server = OwnedServer::start(
        data.path(),
        &ServeOptions {
            store: "memory",
            kube_minor: 32,
            cluster: None,
        },
    );
    let kubectl = Kubectl::new(server.endpoint.clone(), "shop");

    // Nodes register through their kubelets, labelled as a cloud controller manager would.
    let mut nodes = Value::Null;
    wait_until("17 Ready nodes", || {
        nodes = kubectl.get_json(&["nodes"]);
        let items = nodes["items"].as_array().cloned().unwrap_or_default();
        items.len() == 17
            && items.iter().all(|n| {
                n["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
    });
    let zone_of: BTreeMap<String, String> = nodes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let name = n["metadata"]["name"].as_str().unwrap_or("").to_string();
            let zone = n["metadata"]["labels"]["topology.kubernetes.io/zone"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (name, zone)
        })
        .collect();
    let zones: std::collections::BTreeSet<&String> = zone_of.values().collect();
    assert!(zones.len() >= 6, "zones: {zones:?}");
    let table = kubectl.ok(&["get", "nodes", "-L", "topology.kubernetes.io/zone"]);
    assert!(
        table.contains("ZONE") && table.contains("us-east-1a") && table.contains("pve-fra-1"),
        "{table}"
    );

    // A Deployment with a zone spread constraint rolls out; pods run spread over zones.
    kubectl.ok(&["create", "namespace", "shop"]);
    kubectl.apply(&deployment(14, "nginx:1.27"));
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let pods = kubectl.get_json(&["pods", "-l", "app=web"]);
    let mut per_zone: BTreeMap<String, i64> = BTreeMap::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        assert_eq!(pod["status"]["phase"], "Running", "{pod}");
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        *per_zone
            .entry(zone_of.get(node).cloned().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(per_zone.values().sum::<i64>(), 14);
    // Every zone has an untainted node, so every zone is a domain: skew at most 1.
    let counts: Vec<i64> = zones
        .iter()
        .map(|z| per_zone.get(*z).copied().unwrap_or(0))
        .collect();
    let (min, max) = (
        counts.iter().min().copied().unwrap_or(0),
        counts.iter().max().copied().unwrap_or(0),
    );
    assert!(max - min <= 1, "zone spread {per_zone:?} over {zones:?}");

    // A rolling update to a new image, then undo restores the first ReplicaSet's template.
    kubectl.apply(&deployment(14, "nginx:1.28"));
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let image = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image.trim(), "nginx:1.28");
    kubectl.ok(&["rollout", "undo", "deployment/web"]);
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let image = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image.trim(), "nginx:1.27");
    let history = kubectl.ok(&["rollout", "history", "deployment/web"]);
    assert!(history.contains('2') && history.contains('3'), "{history}");

    // A pod too big for any node stays Pending with the exact upstream message.
    kubectl.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: huge, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources: {requests: {cpu: '500'}}\n",
    );
    let expected = "0/17 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 16 Insufficient cpu. no new claims to deallocate, preemption: 0/17 nodes are available: 17 Preemption is not helpful for scheduling.";
    let mut described = String::new();
    wait_until("the FailedScheduling event", || {
        described = kubectl.ok(&["describe", "pod", "huge"]);
        described.contains("FailedScheduling")
    });
    let flat: String = described.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(expected), "{described}");
    let phase = kubectl.ok(&["get", "pod", "huge", "-o", "jsonpath={.status.phase}"]);
    assert_eq!(phase.trim(), "Pending");
}
