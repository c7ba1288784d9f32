//! Starts the twin around an API server: store compaction, the controllers, the API-connected
//! scheduler and one simulated kubelet per node of a cluster spec, all on one [`SimTime`]. The
//! same function serves `kubetwin serve` (wall clock, or `--speed N`) and scenarios (virtual
//! time), so there is one code path.
//!
//! A running [`Twin`] is also the "cloud" of what-if scenarios: it can start kubelets for nodes
//! added later (a new node pool) and terminate instances, whose Node objects the cloud node
//! lifecycle controller ([`cloud`]) then deletes as a cloud controller manager would.

pub mod cloud;

use std::sync::Arc;
use std::time::Duration;

use kubetwin_apiserver::ApiServer;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_cluster::{Cluster, KubeletBehavior, SimNode};
use kubetwin_kubelet::{Kubelet, KubeletHandle, KubeletKnobs, PodFeed};
use kubetwin_runtime::SimTime;

/// Why the twin could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The scheduler configuration is invalid.
    #[error("scheduler configuration: {0}")]
    Scheduler(String),
}

/// Why a node could not be added to or removed from the running twin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TwinError {
    /// The twin runs without a cluster (API server alone).
    #[error("the twin runs without a cluster")]
    NoCluster,
    /// A kubelet already runs for this node.
    #[error("node {0} already has a kubelet")]
    NodeExists(String),
    /// No kubelet runs for this node.
    #[error("node {0} has no kubelet")]
    UnknownNode(String),
}

/// Handles to the running twin's components.
#[derive(Debug, Default)]
pub struct Twin {
    /// One control handle per simulated kubelet, in node order, with the node's name.
    pub kubelets: Vec<(String, KubeletHandle)>,
    /// The scheduler's last decision per pod (`kubetwin explain pod`), when it runs.
    pub explanations: Option<kubetwin_scheduler_driver::Explanations>,
    /// What adding and terminating nodes needs (absent without a cluster).
    cloud: Option<CloudParts>,
}

/// The parts of the running twin that new kubelets and terminations need.
#[derive(Debug, Clone)]
struct CloudParts {
    server: Arc<ApiServer>,
    time: SimTime,
    seed: u64,
    feed: PodFeed,
    terminated: cloud::TerminatedInstances,
}

impl Twin {
    /// The kubelet of `node`, if one runs.
    pub fn kubelet(&self, node: &str) -> Option<&KubeletHandle> {
        self.kubelets
            .iter()
            .find(|(name, _)| name == node)
            .map(|(_, handle)| handle)
    }

    /// Starts a kubelet for a node that was not in the cluster at start (a node pool added by
    /// a scenario): it registers the Node and runs its pods like every other kubelet.
    pub fn add_node(&mut self, node: &SimNode) -> Result<KubeletHandle, TwinError> {
        let cloud = self.cloud.as_ref().ok_or(TwinError::NoCluster)?;
        if self.kubelet(&node.name).is_some() {
            return Err(TwinError::NodeExists(node.name.clone()));
        }
        let handle = spawn_kubelet(&cloud.server, &cloud.time, &cloud.feed, node, cloud.seed);
        self.kubelets.push((node.name.clone(), handle.clone()));
        Ok(handle)
    }

    /// Terminates the instance behind `node`: its kubelet ends at once (containers gone, no
    /// more heartbeats) and the cloud node lifecycle controller deletes the Node once the node
    /// lifecycle controller has marked it not-Ready ([`cloud`]).
    pub fn terminate_node(&mut self, node: &str) -> Result<(), TwinError> {
        let cloud = self.cloud.as_ref().ok_or(TwinError::NoCluster)?;
        let position = self
            .kubelets
            .iter()
            .position(|(name, _)| name == node)
            .ok_or_else(|| TwinError::UnknownNode(node.to_string()))?;
        let (_, handle) = self.kubelets.remove(position);
        handle.shutdown();
        cloud.terminated.insert(node);
        Ok(())
    }

    /// Whether `node`'s instance was terminated and its Node is not deleted yet.
    pub fn is_terminating(&self, node: &str) -> bool {
        self.cloud
            .as_ref()
            .is_some_and(|cloud| cloud.terminated.contains(node))
    }
}

/// How often the store is compacted (kube-apiserver's `--etcd-compaction-interval` default).
pub const COMPACTION_INTERVAL: Duration = Duration::from_secs(300);

/// Compaction as kube-apiserver does it (`storage/etcd3/compact.go`): every interval, compact to
/// the revision seen at the previous tick, so history stays bounded while every watcher gets at
/// least one interval to catch up.
pub fn spawn_compactor(server: &Arc<ApiServer>, time: &SimTime) {
    let store = server.storage.store().clone();
    let time = time.clone();
    tokio::spawn(async move {
        let mut previous = None;
        loop {
            time.sleep(COMPACTION_INTERVAL).await;
            if let Some(revision) = previous.filter(|r| *r > store.compacted_revision())
                && let Err(e) = store.compact(revision).await
            {
                tracing::warn!(error = %e, revision, "compaction failed");
            }
            previous = Some(store.current_revision());
        }
    });
}

/// Event expiry as etcd does it for kube-apiserver's Event leases (`apiserver::event_ttl`):
/// at each lease's expiry, the Events still attached to it are deleted. With no lease, no
/// Event can expire before a TTL from now.
pub fn spawn_event_expiry(server: &Arc<ApiServer>, time: &SimTime) {
    if server.config.event_ttl.as_secs() == 0 {
        // Events are written without a lease and kept.
        return;
    }
    let server = server.clone();
    let time = time.clone();
    server.adopt_stored_events();
    tokio::spawn(async move {
        loop {
            match server.event_leases.next_expiry() {
                Some(at) => time.sleep_until(at).await,
                None => time.sleep(server.config.event_ttl).await,
            }
            server.expire_events().await;
        }
    });
}

/// The control plane: the controllers and the scheduler, in process, on the shared time.
/// Returns the scheduler's store of last decisions.
pub fn spawn_control_plane(
    server: &Arc<ApiServer>,
    time: &SimTime,
    seed: u64,
) -> Result<kubetwin_scheduler_driver::Explanations, StartError> {
    let controllers = LocalClient::new(server.clone(), "kube-controller-manager");
    let controllers_time = time.clone();
    tokio::spawn(async move {
        // What a cluster installer ships: the default StorageClass (simulated zonal disks).
        if let Err(e) =
            kubetwin_controllers::persistentvolume::ensure_default_storage_class(&controllers).await
        {
            tracing::warn!(error = %e, "default StorageClass not created");
        }
        if let Err(e) =
            kubetwin_controllers::ControllerManager::run(controllers, controllers_time, seed).await
        {
            tracing::error!(error = %e, "controller manager stopped");
        }
    });
    let scheduler = LocalClient::new(server.clone(), "default-scheduler");
    let scheduler = kubetwin_scheduler_driver::SchedulerDriver::new(scheduler, time.clone(), seed)
        .map_err(StartError::Scheduler)?;
    let explanations = scheduler.explanations();
    tokio::spawn(scheduler.run());
    Ok(explanations)
}

/// The kubelet behaviour a node pool asks for, over the kubelet's own defaults.
pub fn kubelet_knobs(behavior: &KubeletBehavior) -> KubeletKnobs {
    KubeletKnobs {
        image_pull_delay: behavior.image_pull_delay,
        container_start_delay: behavior.container_start_delay,
        termination_delay: behavior.container_stop_delay,
        job_run_duration: behavior.job_duration,
        failure_rate: behavior.container_start_failure_rate,
        serialize_image_pulls: behavior.serialize_image_pulls,
        lease_duration_seconds: i32::try_from(behavior.node_lease_duration_seconds).unwrap_or(40),
        node_status_update_frequency: behavior.node_status_update_frequency,
        node_status_report_frequency: behavior.node_status_report_frequency,
        ..KubeletKnobs::default()
    }
}

/// One simulated kubelet for `node`, fed by `feed`, with a seed derived from the node's index.
fn spawn_kubelet(
    server: &Arc<ApiServer>,
    time: &SimTime,
    feed: &PodFeed,
    node: &SimNode,
    seed: u64,
) -> KubeletHandle {
    let kubelet = Kubelet::new(
        LocalClient::new(server.clone(), "kubelet"),
        time.clone(),
        node.to_node_json(),
        kubelet_knobs(&node.kubelet),
        seed ^ (node.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
    .with_pod_feed(feed.subscribe(&node.name));
    let handle = kubelet.handle();
    tokio::spawn(kubelet.run());
    handle
}

/// The shared pod feed and one kubelet per node of the cluster spec.
fn spawn_kubelets_with_feed(
    server: &Arc<ApiServer>,
    time: &SimTime,
    cluster: &Cluster,
    seed: u64,
) -> (PodFeed, Vec<(String, KubeletHandle)>) {
    let feed = PodFeed::new(LocalClient::new(server.clone(), "kubelet"), time.clone());
    let handles = cluster
        .nodes()
        .iter()
        .map(|node| {
            (
                node.name.clone(),
                spawn_kubelet(server, time, &feed, node, seed),
            )
        })
        .collect();
    tokio::spawn(feed.clone().run());
    (feed, handles)
}

/// One simulated kubelet per node of the cluster spec, each with its own seed. They share one
/// pod watch routed by node name ([`PodFeed`]) instead of one filtered watch each, so the API
/// server decodes each pod change once rather than once per node.
pub fn spawn_kubelets(
    server: &Arc<ApiServer>,
    time: &SimTime,
    cluster: &Cluster,
    seed: u64,
) -> Vec<(String, KubeletHandle)> {
    spawn_kubelets_with_feed(server, time, cluster, seed).1
}

/// Starts everything around `server`: compaction and Event expiry always; with a cluster, the control plane,
/// its kubelets and the cloud node lifecycle controller too (without one, the API server runs
/// alone).
pub fn start(
    server: &Arc<ApiServer>,
    time: &SimTime,
    cluster: Option<&Cluster>,
    seed: u64,
) -> Result<Twin, StartError> {
    spawn_compactor(server, time);
    spawn_event_expiry(server, time);
    let Some(cluster) = cluster else {
        return Ok(Twin::default());
    };
    let explanations = spawn_control_plane(server, time, seed)?;
    let (feed, kubelets) = spawn_kubelets_with_feed(server, time, cluster, seed);
    let terminated = cloud::TerminatedInstances::default();
    tokio::spawn(cloud::run_cloud_node_lifecycle(
        LocalClient::new(server.clone(), "cloud-node-lifecycle-controller"),
        time.clone(),
        terminated.clone(),
    ));
    Ok(Twin {
        kubelets,
        explanations: Some(explanations),
        cloud: Some(CloudParts {
            server: server.clone(),
            time: time.clone(),
            seed,
            feed,
            terminated,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubetwin_apiserver::{ApiServerConfig, Storage, registry};
    use kubetwin_store::Store;

    const CLUSTER: &str = "apiVersion: kubetwin.io/v1alpha1
kind: Cluster
metadata: {name: tiny}
providers:
  - {name: aws, type: aws, regions: [{name: us-east-1, zones: [{name: us-east-1a}]}]}
pools:
  - {name: a, provider: aws, count: 2, instanceType: {name: m5.large, cpu: 2, memory: 8Gi, hourlyPrice: 0.1}}
";

    fn ready(client: &LocalClient, name: &str) -> Option<bool> {
        let nodes = registry::lookup("", "v1", "nodes")?;
        client
            .get(nodes, None, name)
            .ok()
            .map(|n| cloud::node_is_ready(&n))
    }

    /// A bootstrapped in-memory API server on virtual time from the epoch.
    async fn bootstrapped_server() -> (SimTime, Arc<ApiServer>) {
        let time = SimTime::new(jiff::Timestamp::UNIX_EPOCH, 1.0);
        let server = ApiServer::new(
            Storage::new(Store::memory()),
            Arc::new(time.clone()),
            1,
            ApiServerConfig::default(),
        );
        server.bootstrap().await.expect("bootstrap");
        (time, server)
    }

    #[tokio::test(start_paused = true)]
    async fn terminated_nodes_are_deleted_once_not_ready_and_added_nodes_register() {
        let (time, server) = bootstrapped_server().await;
        let cluster = Cluster::from_yaml(CLUSTER).expect("cluster");
        let mut twin = start(&server, &time, Some(&cluster), 1).expect("start");
        let client = LocalClient::new(server.clone(), "test");
        time.sleep(Duration::from_secs(5)).await;
        assert_eq!(ready(&client, "a-us-east-1a-0"), Some(true));

        twin.terminate_node("a-us-east-1a-0").expect("terminate");
        assert!(twin.is_terminating("a-us-east-1a-0"));
        assert_eq!(
            twin.terminate_node("a-us-east-1a-0"),
            Err(TwinError::UnknownNode("a-us-east-1a-0".into()))
        );
        // Still Ready within the 40 s grace period: the cloud controller leaves it alone.
        time.sleep(Duration::from_secs(30)).await;
        assert_eq!(ready(&client, "a-us-east-1a-0"), Some(true));
        // NotReady after the grace period, deleted within one more monitor period.
        time.sleep(Duration::from_secs(30)).await;
        assert_eq!(
            ready(&client, "a-us-east-1a-0"),
            None,
            "the Node is deleted"
        );
        assert!(!twin.is_terminating("a-us-east-1a-0"));
        assert_eq!(
            ready(&client, "a-us-east-1a-1"),
            Some(true),
            "the other node is untouched"
        );

        let bigger = CLUSTER.replace("count: 2", "count: 3");
        let bigger = Cluster::from_yaml(&bigger).expect("cluster");
        let new_node = bigger.node("a-us-east-1a-2").expect("third node");
        twin.add_node(new_node).expect("add");
        assert!(matches!(
            twin.add_node(new_node),
            Err(TwinError::NodeExists(_))
        ));
        time.sleep(Duration::from_secs(5)).await;
        assert_eq!(ready(&client, "a-us-east-1a-2"), Some(true));
        assert!(twin.kubelet("a-us-east-1a-2").is_some());
    }

    /// Events live an hour after their last write, and go together with the events of the
    /// same minute (`apiserver::event_ttl`); other objects stay.
    #[tokio::test(start_paused = true)]
    async fn events_expire_an_hour_after_their_last_write() {
        let (time, server) = bootstrapped_server().await;
        start(&server, &time, None, 1).expect("start");
        let client = LocalClient::new(server.clone(), "test");
        let events = registry::lookup("", "v1", "events").expect("events");
        let config_maps = registry::lookup("", "v1", "configmaps").expect("configmaps");
        let event = |name: &str| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
                "reason": "Test", "message": "m", "type": "Normal",
            })
        };
        let exists = |name: &str| client.get(events, Some("default"), name).is_ok();
        for name in ["first", "updated"] {
            client
                .create(events, Some("default"), event(name))
                .await
                .expect("create");
        }
        let config_map = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "stays", "namespace": "default"},
        });
        client
            .create(config_maps, Some("default"), config_map)
            .await
            .expect("create");
        time.sleep(Duration::from_secs(30)).await;
        client
            .create(events, Some("default"), event("same-minute"))
            .await
            .expect("create");
        time.sleep(Duration::from_secs(30 * 60)).await;
        // A write half an hour in moves `updated` to a later lease.
        client
            .merge_patch(
                events,
                Some("default"),
                "updated",
                "",
                &serde_json::json!({"count": 2}),
            )
            .await
            .expect("patch");
        // The first lease lasts an hour and a minute from the first write.
        time.sleep(Duration::from_secs(30 * 60)).await;
        assert!(exists("first") && exists("same-minute"), "one hour in");
        time.sleep(Duration::from_secs(31)).await;
        assert!(
            !exists("first") && !exists("same-minute"),
            "one lease, both gone"
        );
        assert!(exists("updated"), "rewritten half an hour in");
        // Its write at 1,830 s got a lease to 1,830 + 3,660 s; it is 3,661 s now.
        time.sleep(Duration::from_secs(1_828)).await;
        assert!(exists("updated"), "until its own lease expires");
        time.sleep(Duration::from_secs(2)).await;
        assert!(
            !exists("updated"),
            "an hour and a minute after its last write"
        );
        assert!(
            client.get(config_maps, Some("default"), "stays").is_ok(),
            "other objects stay"
        );
    }
}
