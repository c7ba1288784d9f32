//! The core controllers with upstream semantics (Deployment, ReplicaSet, garbage collector,
//! namespace, ServiceAccount, EndpointSlice and Endpoints, disruption, Job and TTL-after-finished, CronJob, StatefulSet, DaemonSet, node lifecycle and taint eviction), over the in-process API client, informers and work queues of
//! `kubetwin-runtime`. Each controller is a struct with `pub async fn run(self)` plus pure
//! functions unit-tested without a server; [`manager::ControllerManager`] starts them all.

// `ApiError` is a whole `Status`; errors are rare, so boxing it is not worth the noise
// (the API server crate makes the same choice).
#![allow(clippy::result_large_err)]

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod gc;
pub mod job;
pub mod manager;
pub mod namespace;
pub mod nodelifecycle;
pub mod persistentvolume;
pub mod replicaset;
pub mod resourcequota;
pub mod serviceaccount;
pub mod statefulset;
pub mod util;

pub use manager::ControllerManager;
