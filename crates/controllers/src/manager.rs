//! Starts every finished controller over shared informers (`kube-controller-manager`).
//!
//! Upstream: `cmd/kube-controller-manager/app/controllermanager.go` (one shared informer
//! factory, each controller started with its informers, then the informers started).

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kubetwin_apiserver::ApiError;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_runtime::{Informer, SimTime, WatchSpec};

use crate::cronjob::CronJobController;
use crate::daemonset::DaemonSetController;
use crate::deployment::DeploymentController;
use crate::disruption::DisruptionController;
use crate::endpoints::{EndpointsController, Mode};
use crate::gc::GarbageCollector;
use crate::job::{JobController, TtlAfterFinishedController};
use crate::namespace::NamespaceController;
use crate::nodelifecycle::{NodeLifecycleController, TaintEvictionController};
use crate::replicaset::ReplicaSetController;
use crate::serviceaccount::ServiceAccountController;
use crate::statefulset::StatefulSetController;

/// An informer over every object of `K`.
fn shared_informer<K>(client: &LocalClient, time: &SimTime) -> Result<Informer<K>, ApiError>
where
    K: k8s_openapi::Resource + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    Ok(Informer::new(
        client.clone(),
        resource_of::<K>()?,
        WatchSpec::default(),
        time.clone(),
    ))
}

/// The controllers of the twin.
#[derive(Debug)]
pub struct ControllerManager {
    /// The Deployment controller.
    pub deployments: DeploymentController,
    /// The ReplicaSet controller.
    pub replica_sets: ReplicaSetController,
    /// The garbage collector (with its own metadata informers).
    pub garbage_collector: GarbageCollector,
    /// The namespace controller.
    pub namespaces: NamespaceController,
    /// The ServiceAccount controller.
    pub service_accounts: ServiceAccountController,
    /// The EndpointSlice controller.
    pub endpoint_slices: EndpointsController,
    /// The legacy Endpoints controller.
    pub endpoints: EndpointsController,
    /// The disruption controller (PodDisruptionBudget status).
    pub disruption: DisruptionController,
    /// The Job controller.
    pub jobs: JobController,
    /// The TTL-after-finished controller.
    pub ttl_after_finished: TtlAfterFinishedController,
    /// The CronJob controller.
    pub cron_jobs: CronJobController,
    /// The StatefulSet controller.
    pub stateful_sets: StatefulSetController,
    /// The DaemonSet controller.
    pub daemon_sets: DaemonSetController,
    /// The node lifecycle controller.
    pub node_lifecycle: NodeLifecycleController,
    /// The taint eviction controller.
    pub taint_eviction: TaintEvictionController,
    /// PersistentVolume binding and the simulated provisioner.
    pub persistent_volumes: crate::persistentvolume::PersistentVolumeController,
    /// The resource quota controller.
    pub resource_quotas: crate::resourcequota::ResourceQuotaController,
    informers: Informers,
}

#[derive(Debug, Clone)]
struct Informers {
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    namespaces: Informer<Namespace>,
    service_accounts: Informer<ServiceAccount>,
    services: Informer<Service>,
    nodes: Informer<Node>,
    endpoint_slices: Informer<EndpointSlice>,
    endpoints: Informer<Endpoints>,
    pdbs: Informer<PodDisruptionBudget>,
    stateful_sets: Informer<StatefulSet>,
    jobs: Informer<Job>,
    cron_jobs: Informer<CronJob>,
    daemon_sets: Informer<DaemonSet>,
    leases: Informer<Lease>,
}

impl Informers {
    fn all_start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            self.deployments.start(),
            self.replica_sets.start(),
            self.pods.start(),
            self.namespaces.start(),
            self.service_accounts.start(),
            self.services.start(),
            self.nodes.start(),
            self.endpoint_slices.start(),
            self.endpoints.start(),
            self.pdbs.start(),
            self.stateful_sets.start(),
            self.jobs.start(),
            self.cron_jobs.start(),
            self.daemon_sets.start(),
            self.leases.start(),
        ]
    }

    async fn wait_synced(&self) {
        self.deployments.wait_synced().await;
        self.replica_sets.wait_synced().await;
        self.pods.wait_synced().await;
        self.namespaces.wait_synced().await;
        self.service_accounts.wait_synced().await;
        self.services.wait_synced().await;
        self.nodes.wait_synced().await;
        self.endpoint_slices.wait_synced().await;
        self.endpoints.wait_synced().await;
        self.pdbs.wait_synced().await;
        self.stateful_sets.wait_synced().await;
        self.jobs.wait_synced().await;
        self.cron_jobs.wait_synced().await;
        self.daemon_sets.wait_synced().await;
        self.leases.wait_synced().await;
    }

    fn stop(&self) {
        self.deployments.stop();
        self.replica_sets.stop();
        self.pods.stop();
        self.namespaces.stop();
        self.service_accounts.stop();
        self.services.stop();
        self.nodes.stop();
        self.endpoint_slices.stop();
        self.endpoints.stop();
        self.pdbs.stop();
        self.stateful_sets.stop();
        self.jobs.stop();
        self.cron_jobs.stop();
        self.daemon_sets.stop();
        self.leases.stop();
    }
}

impl ControllerManager {
    /// Builds every controller over one set of shared informers (nothing runs yet).
    /// `seed` is reserved for controllers that draw random numbers (none do yet: generated
    /// names come from the API server's own seeded source).
    pub fn new(client: LocalClient, time: SimTime, seed: u64) -> Result<Self, ApiError> {
        let _ = seed;
        let informers = Informers {
            services: shared_informer(&client, &time)?,
            nodes: shared_informer(&client, &time)?,
            endpoint_slices: shared_informer(&client, &time)?,
            endpoints: shared_informer(&client, &time)?,
            pdbs: shared_informer(&client, &time)?,
            stateful_sets: shared_informer(&client, &time)?,
            jobs: shared_informer(&client, &time)?,
            cron_jobs: shared_informer(&client, &time)?,
            daemon_sets: shared_informer(&client, &time)?,
            leases: shared_informer(&client, &time)?,
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
            namespaces: Informer::new(
                client.clone(),
                resource_of::<Namespace>()?,
                WatchSpec::default(),
                time.clone(),
            ),
            service_accounts: Informer::new(
                client.clone(),
                resource_of::<ServiceAccount>()?,
                WatchSpec::default(),
                time.clone(),
            ),
        };
        let garbage_collector = GarbageCollector::new(client.clone(), time.clone());
        let namespaces =
            NamespaceController::new(client.clone(), time.clone(), informers.namespaces.clone());
        let service_accounts = ServiceAccountController::new(
            client.clone(),
            time.clone(),
            informers.namespaces.clone(),
            informers.service_accounts.clone(),
        );
        let endpoints_controller = |mode| {
            EndpointsController::new(
                mode,
                client.clone(),
                time.clone(),
                informers.services.clone(),
                informers.pods.clone(),
                informers.nodes.clone(),
                informers.endpoint_slices.clone(),
                informers.endpoints.clone(),
            )
        };
        let endpoint_slices = endpoints_controller(Mode::Slices);
        let endpoints = endpoints_controller(Mode::Endpoints);
        let disruption = DisruptionController::new(
            client.clone(),
            time.clone(),
            informers.pdbs.clone(),
            informers.pods.clone(),
            informers.replica_sets.clone(),
            informers.deployments.clone(),
            informers.stateful_sets.clone(),
        );
        let jobs = JobController::new(
            client.clone(),
            time.clone(),
            informers.jobs.clone(),
            informers.pods.clone(),
        );
        let ttl_after_finished =
            TtlAfterFinishedController::new(client.clone(), time.clone(), informers.jobs.clone());
        let cron_jobs = CronJobController::new(
            client.clone(),
            time.clone(),
            informers.cron_jobs.clone(),
            informers.jobs.clone(),
        );
        let stateful_sets = StatefulSetController::new(
            client.clone(),
            time.clone(),
            informers.stateful_sets.clone(),
            informers.pods.clone(),
        );
        let daemon_sets = DaemonSetController::new(
            client.clone(),
            time.clone(),
            informers.daemon_sets.clone(),
            informers.nodes.clone(),
            informers.pods.clone(),
        );
        let node_lifecycle = NodeLifecycleController::new(
            client.clone(),
            time.clone(),
            informers.nodes.clone(),
            informers.leases.clone(),
            informers.pods.clone(),
        );
        let persistent_volumes =
            crate::persistentvolume::PersistentVolumeController::new(client.clone(), time.clone())?;
        let resource_quotas = crate::resourcequota::ResourceQuotaController::new(
            client.clone(),
            time.clone(),
            informers.pods.clone(),
            informers.services.clone(),
        )?;
        let taint_eviction = TaintEvictionController::new(
            client.clone(),
            time.clone(),
            informers.nodes.clone(),
            informers.pods.clone(),
        );
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
            garbage_collector,
            namespaces,
            service_accounts,
            endpoint_slices,
            endpoints,
            disruption,
            jobs,
            ttl_after_finished,
            cron_jobs,
            stateful_sets,
            daemon_sets,
            node_lifecycle,
            taint_eviction,
            persistent_volumes,
            resource_quotas,
            informers,
        })
    }

    /// Starts the informers, waits for their first lists, then runs every controller until
    /// their queues shut down.
    pub async fn start(self) {
        let i = self.informers.clone();
        let tasks = i.all_start();
        i.wait_synced().await;
        let controllers = [
            tokio::spawn(self.replica_sets.run()),
            tokio::spawn(self.deployments.run()),
            tokio::spawn(self.garbage_collector.run()),
            tokio::spawn(self.namespaces.run()),
            tokio::spawn(self.service_accounts.run()),
            tokio::spawn(self.endpoint_slices.run()),
            tokio::spawn(self.endpoints.run()),
            tokio::spawn(self.disruption.run()),
            tokio::spawn(self.jobs.run()),
            tokio::spawn(self.ttl_after_finished.run()),
            tokio::spawn(self.cron_jobs.run()),
            tokio::spawn(self.stateful_sets.run()),
            tokio::spawn(self.daemon_sets.run()),
            tokio::spawn(self.node_lifecycle.run()),
            tokio::spawn(self.taint_eviction.run()),
            tokio::spawn(self.persistent_volumes.run()),
            tokio::spawn(self.resource_quotas.run()),
        ];
        for t in controllers {
            let _ = t.await;
        }
        i.stop();
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
