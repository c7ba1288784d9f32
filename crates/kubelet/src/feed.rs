//! One pod watch shared by all the kubelets of a cluster: events are routed to the kubelet of
//! the pod's `spec.nodeName`. A real kubelet opens its own `fieldSelector=spec.nodeName=<node>`
//! watch; with thousands of simulated nodes in one process, one watch plus routing gives each
//! kubelet the same events for a fraction of the API server's work.
//!
//! The feed also watches Nodes and routes each Node's events to its kubelet (a real kubelet
//! reads its Node every 10 s; the simulated one reads it only after someone changed it).
//!
//! When a shared watch breaks, every subscriber receives an `ERROR` event and lists its pods
//! again (as a reflector would after a broken watch).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_apiserver::watch::WatchEvent;
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};
use tokio::sync::mpsc;

type Routes = Arc<Mutex<BTreeMap<String, mpsc::UnboundedSender<WatchEvent>>>>;

/// The shared pod watch. Clone it to subscribe from anywhere; run it once.
#[derive(Debug, Clone)]
pub struct PodFeed {
    client: LocalClient,
    time: SimTime,
    routes: Routes,
}

impl PodFeed {
    /// A feed reading pods through `client`.
    pub fn new(client: LocalClient, time: SimTime) -> Self {
        Self {
            client,
            time,
            routes: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// The events of pods bound to `node`, and of the Node itself (pass to
    /// `Kubelet::with_pod_feed`).
    pub fn subscribe(&self, node: &str) -> mpsc::UnboundedReceiver<WatchEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().insert(node.to_string(), tx);
        rx
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<String, mpsc::UnboundedSender<WatchEvent>>> {
        self.routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn broadcast_resync(&self) {
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": "Expired", "code": 410, "message": "pod feed restarted"});
        for tx in self.lock().values() {
            let _ = tx.send(WatchEvent::new("ERROR", status.clone()));
        }
    }

    /// Watches all pods and nodes and routes the events (runs until its task is dropped).
    pub async fn run(self) {
        let (Some(pods), Some(nodes)) = (
            registry::lookup("", "v1", "pods"),
            registry::lookup("", "v1", "nodes"),
        ) else {
            tracing::error!("pod feed: pods or nodes are not served");
            return;
        };
        tokio::join!(
            self.clone().route(pods, |o| o["spec"]["nodeName"].as_str()),
            self.route(nodes, |o| o["metadata"]["name"].as_str()),
        );
    }

    /// Watches `info` and routes each event to the kubelet `node_of` names.
    async fn route(self, info: &'static ResourceInfo, node_of: fn(&Value) -> Option<&str>) {
        let mut first = true;
        loop {
            if !first {
                self.broadcast_resync();
                self.time.sleep(std::time::Duration::from_secs(1)).await;
            }
            first = false;
            let rv = match self
                .client
                .list(info, None, Some("kubetwin.io/no-such-label=x"), None)
            {
                Ok(l) => l.resource_version,
                Err(e) => {
                    tracing::warn!(error = %e, "pod feed: list failed");
                    continue;
                }
            };
            let mut rx = match self.client.watch(info, None, rv, None, None) {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::warn!(error = %e, "pod feed: watch failed");
                    continue;
                }
            };
            while let Some(event) = rx.recv().await {
                if event.event_type == "ERROR" {
                    break;
                }
                let node = node_of(&event.object).unwrap_or("").to_string();
                if node.is_empty() {
                    continue;
                }
                let mut routes = self.lock();
                if let Some(tx) = routes.get(&node)
                    && tx.send(event).is_err()
                {
                    routes.remove(&node);
                }
            }
        }
    }
}
