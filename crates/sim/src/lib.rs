//! Starts the twin around an API server: store compaction, the controllers, the API-connected
//! scheduler and one simulated kubelet per node of a cluster spec, all on one [`SimTime`]. The
//! same function serves `kubetwin serve` (wall clock, or `--speed N`) and scenarios (virtual
//! time), so there is one code path.

use std::sync::Arc;
use std::time::Duration;

use kubetwin_apiserver::ApiServer;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_cluster::{Cluster, KubeletBehavior};
use kubetwin_kubelet::{Kubelet, KubeletHandle, KubeletKnobs, PodFeed};
use kubetwin_runtime::SimTime;

/// Why the twin could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The scheduler configuration is invalid.
    #[error("scheduler configuration: {0}")]
    Scheduler(String),
}

/// Handles to the running twin's components.
#[derive(Debug, Default)]
pub struct Twin {
    /// One control handle per simulated kubelet, in node order, with the node's name.
    pub kubelets: Vec<(String, KubeletHandle)>,
    /// The scheduler's last decision per pod (`kubetwin explain pod`), when it runs.
    pub explanations: Option<kubetwin_scheduler_driver::Explanations>,
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

/// One simulated kubelet per node of the cluster spec, each with its own seed. They share one
/// pod watch routed by node name ([`PodFeed`]) instead of one filtered watch each, so the API
/// server decodes each pod change once rather than once per node.
pub fn spawn_kubelets(
    server: &Arc<ApiServer>,
    time: &SimTime,
    cluster: &Cluster,
    seed: u64,
) -> Vec<(String, KubeletHandle)> {
    let feed = PodFeed::new(LocalClient::new(server.clone(), "kubelet"), time.clone());
    let handles = cluster
        .nodes()
        .iter()
        .map(|node| {
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
            (node.name.clone(), handle)
        })
        .collect();
    tokio::spawn(feed.run());
    handles
}

/// Starts everything around `server`: compaction always; with a cluster, the control plane and
/// its kubelets too (without one, the API server runs alone).
pub fn start(
    server: &Arc<ApiServer>,
    time: &SimTime,
    cluster: Option<&Cluster>,
    seed: u64,
) -> Result<Twin, StartError> {
    spawn_compactor(server, time);
    let Some(cluster) = cluster else {
        return Ok(Twin::default());
    };
    let explanations = spawn_control_plane(server, time, seed)?;
    Ok(Twin {
        kubelets: spawn_kubelets(server, time, cluster, seed),
        explanations: Some(explanations),
    })
}
