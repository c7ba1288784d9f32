//! The cloud side of the twin: instances that the "provider" has terminated, and the cloud node
//! lifecycle controller that deletes their Node objects.
//!
//! Upstream: `staging/src/k8s.io/cloud-provider/controllers/nodelifecycle/node_lifecycle_controller.go`
//! (`MonitorNodes`, every `--node-monitor-period`, 5 s): nodes whose Ready condition is True are
//! left alone; for any other node the controller asks the cloud whether the instance still
//! exists (`ensureNodeExistsByProviderID`) and deletes the Node when it does not, recording a
//! `DeletingNode` event ("Deleting node <name> because it does not exist in the cloud
//! provider"). So a terminated instance's Node disappears only after the node lifecycle
//! controller has turned it not-Ready (40 s without heartbeats), then within one period.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry;
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_core::clock::{Clock, format_time};
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};

/// The cloud node lifecycle controller's `--node-monitor-period`.
pub const CLOUD_NODE_MONITOR_PERIOD: Duration = Duration::from_secs(5);

/// The instances the simulated providers have terminated (shared with the controller).
#[derive(Debug, Clone, Default)]
pub struct TerminatedInstances {
    nodes: Arc<Mutex<BTreeSet<String>>>,
}

impl TerminatedInstances {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.nodes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that the instance behind `node` no longer exists.
    pub fn insert(&self, node: &str) {
        self.lock().insert(node.to_string());
    }

    /// Whether the instance behind `node` was terminated (and its Node not yet deleted).
    pub fn contains(&self, node: &str) -> bool {
        self.lock().contains(node)
    }

    fn snapshot(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn forget(&self, node: &str) {
        self.lock().remove(node);
    }
}

/// Whether a Node's Ready condition is True.
pub fn node_is_ready(node: &Value) -> bool {
    node["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Runs the cloud node lifecycle controller: every period, deletes the not-Ready Nodes of
/// terminated instances. Only terminated instances are looked at, so an idle cloud costs
/// nothing (upstream lists every node; the outcome is the same because only nodes without an
/// instance are ever deleted).
pub async fn run_cloud_node_lifecycle(
    client: LocalClient,
    time: SimTime,
    terminated: TerminatedInstances,
) {
    let (Some(nodes), Some(events)) = (
        registry::lookup("", "v1", "nodes"),
        registry::lookup("", "v1", "events"),
    ) else {
        tracing::error!("cloud node lifecycle: nodes or events are not served");
        return;
    };
    let mut sequence = 0_u64;
    loop {
        time.sleep(CLOUD_NODE_MONITOR_PERIOD).await;
        for name in terminated.snapshot() {
            let node = match client.get(nodes, None, &name) {
                Ok(node) => node,
                Err(e) if e.code == 404 => {
                    terminated.forget(&name);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(node = %name, error = %e, "cloud node lifecycle: get failed");
                    continue;
                }
            };
            if node_is_ready(&node) {
                continue;
            }
            match client
                .delete(nodes, None, &name, &DeleteOptions::default())
                .await
            {
                Ok(_) => {
                    terminated.forget(&name);
                    sequence += 1;
                    let now = format_time(time.now());
                    let event = json!({
                        "apiVersion": "v1", "kind": "Event",
                        "metadata": {"name": format!("{name}.cloud-node-lifecycle.{sequence}"),
                                     "namespace": "default"},
                        "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": name,
                                           "uid": node["metadata"]["uid"]},
                        "reason": "DeletingNode",
                        "message": format!("Deleting node {name} because it does not exist in the cloud provider"),
                        "type": "Normal",
                        "source": {"component": "cloud-node-lifecycle-controller"},
                        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                        "reportingComponent": "cloud-node-lifecycle-controller",
                    });
                    if let Err(e) = client.create(events, Some("default"), event).await {
                        tracing::debug!(error = %e, "cloud node lifecycle: event not recorded");
                    }
                }
                Err(e) if e.code == 404 => terminated.forget(&name),
                Err(e) => {
                    tracing::warn!(node = %name, error = %e, "cloud node lifecycle: delete failed");
                }
            }
        }
    }
}
