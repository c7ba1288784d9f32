//! The namespace controller: empties a Terminating namespace, then removes the `kubernetes`
//! finalizer from `spec.finalizers` (the `finalize` subresource) so the server deletes it.
//!
//! Upstream: `pkg/controller/namespace/namespace_controller.go` (queue, requeue after the
//! estimate), `pkg/controller/namespace/deletion/namespaced_resources_deleter.go` (`Delete`:
//! only namespaces with a deletionTimestamp and the `kubernetes` finalizer; `deleteAllContent`
//! over every namespaced, deletable resource; pods first and waited for, as the
//! `OrderedNamespaceDeletion` gate does by default; an estimate from the pods' grace periods,
//! 5 s while objects with finalizers remain; `finalizeNamespace`).
//!
//! Not done yet: the `NamespaceContentRemaining` / `NamespaceFinalizersRemaining` /
//! `NamespaceDeletion*Failure` status conditions.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::registry::{RESOURCES, ResourceInfo};
use kubetwin_apiserver::write::{DeleteOptions, WriteOptions};
use kubetwin_runtime::informer::Event;
use kubetwin_runtime::{Informer, SimTime, WorkQueue};
use serde_json::Value;

use crate::util::SyncError;

/// The finalizer the namespace controller owns.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";
/// `finalizerEstimateSeconds`: the requeue delay while objects with finalizers remain.
const FINALIZER_ESTIMATE: Duration = Duration::from_secs(5);

/// Namespaced resources whose content is deleted with the namespace, pods first.
pub fn content_resources() -> Vec<&'static ResourceInfo> {
    let mut seen = std::collections::BTreeSet::new();
    let mut list: Vec<&'static ResourceInfo> = RESOURCES
        .iter()
        .filter(|r| r.namespaced() && r.allows("list") && r.allows("delete"))
        .filter(|r| seen.insert(r.storage_resource))
        .collect();
    list.sort_by_key(|r| (r.group, r.resource) != ("", "pods"));
    list
}

/// The namespace controller.
#[derive(Debug, Clone)]
pub struct NamespaceController {
    client: LocalClient,
    namespaces: Informer<Namespace>,
    queue: WorkQueue<String>,
}

/// What one pass over a namespace found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do (not terminating, or already finalized, or gone).
    Idle,
    /// Content remains; look again after this long.
    Remaining(Duration),
    /// The finalizer was removed.
    Finalized,
}

impl NamespaceController {
    /// A controller over a shared namespace informer.
    pub fn new(client: LocalClient, time: SimTime, namespaces: Informer<Namespace>) -> Self {
        let this = Self {
            client,
            namespaces,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.namespaces
            .add_handler(Arc::new(move |e: &Event<Namespace>| {
                if let Event::Added(ns) | Event::Updated { new: ns, .. } = e
                    && ns.metadata.deletion_timestamp.is_some()
                {
                    queue.add(ns.metadata.name.clone().unwrap_or_default());
                }
            }));
        this
    }

    /// The work queue.
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(name) = self.queue.get().await {
            match self.sync(&name).await {
                Ok(Outcome::Remaining(after)) => {
                    self.queue.forget(&name);
                    self.queue.add_after(name.clone(), after);
                }
                Ok(_) => self.queue.forget(&name),
                Err(e) => {
                    tracing::debug!(%name, error = %e, "namespace sync failed; requeue");
                    self.queue.add_rate_limited(name.clone());
                }
            }
            self.queue.done(&name);
        }
    }

    /// One pass of `NamespacedResourcesDeleter.Delete`.
    pub async fn sync(&self, name: &str) -> Result<Outcome, SyncError> {
        let info = resource_of::<Namespace>()?;
        let ns = match self.client.get(info, None, name) {
            Ok(v) => v,
            Err(e) if e.code == 404 => return Ok(Outcome::Idle),
            Err(e) => return Err(SyncError::Api(e)),
        };
        if !ns["metadata"]["deletionTimestamp"].is_string() {
            return Ok(Outcome::Idle);
        }
        let finalizers = ns["spec"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == KUBERNETES_FINALIZER) {
            return Ok(Outcome::Idle);
        }
        if let Some(wait) = self.delete_all_content(name).await? {
            return Ok(Outcome::Remaining(wait));
        }
        // `finalizeNamespace` through the `finalize` subresource's semantics: only
        // spec.finalizers changes.
        let opts = WriteOptions {
            field_manager: Some("namespace-controller".into()),
            ..WriteOptions::default()
        };
        let mutate = move |current: &Value| -> Result<Value, kubetwin_apiserver::ApiError> {
            let mut next = current.clone();
            let kept: Vec<Value> = current["spec"]["finalizers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != KUBERNETES_FINALIZER)
                .collect();
            next["spec"]["finalizers"] = Value::Array(kept);
            Ok(next)
        };
        match self
            .client
            .server()
            .update_with(info, None, name, "", &opts, &mutate)
            .await
        {
            Ok(_) => Ok(Outcome::Finalized),
            Err(e) if e.code == 404 => Ok(Outcome::Idle),
            Err(e) => Err(SyncError::Api(e)),
        }
    }

    /// `deleteAllContent`: deletes everything; returns how long to wait when some remains.
    async fn delete_all_content(&self, namespace: &str) -> Result<Option<Duration>, SyncError> {
        let mut estimate: Option<Duration> = None;
        for info in content_resources() {
            let items = self.client.list(info, Some(namespace), None, None)?.items;
            let is_pods = (info.group, info.resource) == ("", "pods");
            let mut remaining = 0usize;
            let mut grace = 0i64;
            for item in &items {
                let name = item["metadata"]["name"].as_str().unwrap_or("");
                if !item["metadata"]["deletionTimestamp"].is_string() {
                    match self
                        .client
                        .delete(info, Some(namespace), name, &DeleteOptions::default())
                        .await
                    {
                        Ok(out) if out.deleted => continue,
                        Ok(_) => {}
                        Err(e) if e.code == 404 => continue,
                        Err(e) => return Err(SyncError::Api(e)),
                    }
                }
                remaining += 1;
                if is_pods {
                    grace = grace.max(
                        item["spec"]["terminationGracePeriodSeconds"]
                            .as_i64()
                            .unwrap_or(30),
                    );
                }
            }
            if remaining > 0 {
                let wait = if is_pods && grace > 0 {
                    Duration::from_secs(grace as u64)
                } else {
                    FINALIZER_ESTIMATE
                };
                estimate = Some(estimate.map_or(wait, |e| e.max(wait)));
                if is_pods {
                    // Ordered deletion: other content waits until the pods are gone.
                    return Ok(estimate);
                }
            }
        }
        Ok(estimate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_come_first_and_namespaces_are_not_content() {
        let list = content_resources();
        assert_eq!(list[0].resource, "pods");
        assert!(list.iter().all(|r| r.resource != "namespaces"));
        assert!(list.iter().any(|r| r.resource == "deployments"));
        assert_eq!(list.iter().filter(|r| r.resource == "events").count(), 1);
    }
}
