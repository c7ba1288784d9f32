//! The ServiceAccount controller: a `default` ServiceAccount in every active namespace.
//!
//! Upstream: `pkg/controller/serviceaccount/serviceaccounts_controller.go` (`syncNamespace`:
//! skip namespaces that are not Active; create missing accounts; AlreadyExists and the
//! Forbidden of a terminating namespace are not errors; a deleted account re-enqueues its
//! namespace).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_runtime::informer::Event;
use kubetwin_runtime::{Informer, SimTime, WorkQueue};

use crate::util::SyncError;

/// The accounts every namespace gets.
pub const SERVICE_ACCOUNTS: &[&str] = &["default"];

/// The ServiceAccount controller.
#[derive(Debug, Clone)]
pub struct ServiceAccountController {
    client: LocalClient,
    namespaces: Informer<Namespace>,
    accounts: Informer<ServiceAccount>,
    queue: WorkQueue<String>,
}

impl ServiceAccountController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        namespaces: Informer<Namespace>,
        accounts: Informer<ServiceAccount>,
    ) -> Self {
        let this = Self {
            client,
            namespaces,
            accounts,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.namespaces
            .add_handler(Arc::new(move |e: &Event<Namespace>| {
                if let Event::Added(ns) | Event::Updated { new: ns, .. } = e {
                    queue.add(ns.metadata.name.clone().unwrap_or_default());
                }
            }));
        let queue = this.queue.clone();
        this.accounts
            .add_handler(Arc::new(move |e: &Event<ServiceAccount>| {
                if let Event::Deleted(sa) = e
                    && SERVICE_ACCOUNTS.contains(&sa.metadata.name.as_deref().unwrap_or(""))
                {
                    queue.add(sa.metadata.namespace.clone().unwrap_or_default());
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
        while let Some(ns) = self.queue.get().await {
            match self.sync(&ns).await {
                Ok(()) => self.queue.forget(&ns),
                Err(e) => {
                    tracing::debug!(%ns, error = %e, "serviceaccount sync failed; requeue");
                    self.queue.add_rate_limited(ns.clone());
                }
            }
            self.queue.done(&ns);
        }
    }

    /// `syncNamespace`.
    pub async fn sync(&self, namespace: &str) -> Result<(), SyncError> {
        let Some(ns) = self.namespaces.get(namespace) else {
            return Ok(());
        };
        let phase = ns
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Active");
        if phase != "Active" || ns.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        for name in SERVICE_ACCOUNTS {
            if self.accounts.get_named(Some(namespace), name).is_some() {
                continue;
            }
            let sa = ServiceAccount {
                metadata: ObjectMeta {
                    name: Some((*name).to_string()),
                    namespace: Some(namespace.to_string()),
                    ..ObjectMeta::default()
                },
                ..ServiceAccount::default()
            };
            match self.client.create_typed(&sa).await {
                Ok(_) => {}
                Err(e) if e.code == 409 || e.code == 403 || e.code == 404 => {}
                Err(e) => return Err(SyncError::Api(e)),
            }
        }
        Ok(())
    }
}
