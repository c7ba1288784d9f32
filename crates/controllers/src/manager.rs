//! Starts every finished controller over shared informers (`kube-controller-manager`).
//!
//! Upstream: `cmd/kube-controller-manager/app/controllermanager.go` (one shared informer
//! factory, each controller started with its informers, then the informers started).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kubetwin_apiserver::ApiError;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_runtime::{Informer, SimTime, WatchSpec};

use crate::deployment::DeploymentController;
use crate::replicaset::ReplicaSetController;

/// The controllers of the twin.
#[derive(Debug)]
pub struct ControllerManager {
    /// The Deployment controller.
    pub deployments: DeploymentController,
    /// The ReplicaSet controller.
    pub replica_sets: ReplicaSetController,
    informers: Informers,
}

#[derive(Debug, Clone)]
struct Informers {
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
}

impl ControllerManager {
    /// Builds every controller over one set of shared informers (nothing runs yet).
    /// `seed` is reserved for controllers that draw random numbers (none do yet: generated
    /// names come from the API server's own seeded source).
    pub fn new(client: LocalClient, time: SimTime, seed: u64) -> Result<Self, ApiError> {
        let _ = seed;
        let informers = Informers {
            deployments: Informer::new(
                client.clone(),
                resource_of::<Deployment>()?,
                WatchSpec::default(),
                time.clone(),
            ),
            replica_sets: Informer::new(
                client.clone(),
                resource_of::<ReplicaSet>()?,
                WatchSpec::default(),
                time.clone(),
            ),
            pods: Informer::new(
                client.clone(),
                resource_of::<Pod>()?,
                WatchSpec::default(),
                time.clone(),
            ),
        };
        let replica_sets = ReplicaSetController::new(
            client.clone(),
            time.clone(),
            informers.replica_sets.clone(),
            informers.pods.clone(),
        );
        let deployments = DeploymentController::new(
            client,
            time,
            informers.deployments.clone(),
            informers.replica_sets.clone(),
            informers.pods.clone(),
        );
        Ok(Self {
            deployments,
            replica_sets,
            informers,
        })
    }

    /// Starts the informers, waits for their first lists, then runs every controller until
    /// their queues shut down.
    pub async fn start(self) {
        let i = self.informers.clone();
        let tasks = [
            i.deployments.start(),
            i.replica_sets.start(),
            i.pods.start(),
        ];
        i.deployments.wait_synced().await;
        i.replica_sets.wait_synced().await;
        i.pods.wait_synced().await;
        let controllers = [
            tokio::spawn(self.replica_sets.run()),
            tokio::spawn(self.deployments.run()),
        ];
        for t in controllers {
            let _ = t.await;
        }
        i.deployments.stop();
        i.replica_sets.stop();
        i.pods.stop();
        for t in tasks {
            let _ = t.await;
        }
    }

    /// Builds and runs every controller: the entry point `serve` wires in.
    pub async fn run(client: LocalClient, time: SimTime, seed: u64) -> Result<(), ApiError> {
        Self::new(client, time, seed)?.start().await;
        Ok(())
    }
}
