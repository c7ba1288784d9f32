//! The resource quota controller: keeps every ResourceQuota's `status.hard` equal to its
//! `spec.hard` and `status.used` equal to what its namespace consumes.
//!
//! Upstream: `pkg/controller/resourcequota/resource_quota_controller.go` (`addQuota`: a new
//! quota or one whose `spec.hard` changed is queued, status-only updates are not;
//! `syncResourceQuota`: recalculate, keep only hard resources, write status when the limits
//! or the usage changed; `enqueueAll` every resync period, 5 minutes by default
//! (`--resource-quota-sync-period`)), `resource_quota_monitor.go` + `pkg/quota/v1/install/
//! update_filter.go` (replenishment: a deleted pod, service or claim, a pod that stops
//! counting (terminal), a service whose NodePort/LoadBalancer type changed, a claim whose
//! allocated storage changed re-queue the matching quotas of its namespace).
//!
//! Usage is measured by the evaluators of [`kubetwin_apiserver::admission::resourcequota`],
//! the same ones admission charges with. Knowingly different: only pods, services and claims
//! replenish on deletion; other `count/...` resources are recounted at the next resync.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use kubetwin_apiserver::admission::resourcequota::{self as rq, Evaluator};
use kubetwin_apiserver::admission::{ResourceList, resource_json_into, resource_list};
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, key_of, split_key};
use kubetwin_runtime::{Informer, SimTime, WatchSpec, WorkQueue};
use serde_json::Value;

use crate::util::SyncError;

/// How often every quota is recalculated (`ResourceQuotaSyncPeriod`, 5 minutes).
pub const RESYNC_PERIOD: Duration = Duration::from_secs(5 * 60);

/// The resource quota controller.
#[derive(Debug, Clone)]
pub struct ResourceQuotaController {
    client: LocalClient,
    time: SimTime,
    quotas: Informer<Value>,
    claims: Informer<Value>,
    pods: Informer<Pod>,
    services: Informer<Service>,
    queue: WorkQueue<String>,
}

fn hard_of(quota: &Value, part: &str) -> ResourceList {
    resource_list(&quota[part]["hard"])
}

fn quota_key(quota: &Value) -> String {
    key_of(
        quota["metadata"]["namespace"].as_str(),
        quota["metadata"]["name"].as_str().unwrap_or(""),
    )
}

/// Queues the quotas of `namespace` that track a resource `evaluator` measures
/// (`replenishQuota`).
fn replenish(
    quotas: &Informer<Value>,
    queue: &WorkQueue<String>,
    namespace: &str,
    evaluator: &Evaluator,
) {
    for quota in quotas.list_namespace(namespace) {
        let hard: Vec<String> = hard_of(&quota, "status").keys().cloned().collect();
        if !evaluator.matching_resources(&hard).is_empty() {
            queue.add(quota_key(&quota));
        }
    }
}

/// `GetQuotaServiceType`: the type when it is one quota counts.
fn quota_service_type(svc: &Service) -> &str {
    let service_type = svc
        .spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("");
    if matches!(service_type, "NodePort" | "LoadBalancer") {
        service_type
    } else {
        ""
    }
}

/// Whether a quota needs syncing after an update (`spec.hard` changed).
pub fn hard_changed(old: &Value, new: &Value) -> bool {
    !rq::equals(&hard_of(old, "spec"), &hard_of(new, "spec"))
}

/// The status `syncResourceQuota` writes for `quota` given the freshly measured `usage`,
/// or `None` when nothing changed.
pub fn desired_status(quota: &Value, usage: &ResourceList) -> Option<Value> {
    let spec_hard = hard_of(quota, "spec");
    let status_hard = hard_of(quota, "status");
    let old_used = resource_list(&quota["status"]["used"]);
    let mut dirty = !rq::equals(&spec_hard, &status_hard)
        || quota["status"]["hard"].is_null()
        || quota["status"]["used"].is_null();
    let mut used = old_used.clone();
    for (k, v) in usage {
        used.insert(k.clone(), v.clone());
    }
    let hard_names: Vec<String> = spec_hard.keys().cloned().collect();
    let used = rq::mask(&used, &hard_names);
    dirty = dirty || !rq::equals(&used, &old_used);
    if !dirty {
        return None;
    }
    let mut next = quota.clone();
    next["status"] = serde_json::json!({});
    resource_json_into(&mut next, "hard", &spec_hard);
    resource_json_into(&mut next, "used", &used);
    Some(next)
}

impl ResourceQuotaController {
    /// A controller over the shared pod and service informers; it keeps its own quota and
    /// claim informers, started by [`ResourceQuotaController::run`].
    pub fn new(
        client: LocalClient,
        time: SimTime,
        pods: Informer<Pod>,
        services: Informer<Service>,
    ) -> Result<Self, kubetwin_apiserver::ApiError> {
        let lookup = |resource: &str| {
            registry::lookup("", "v1", resource)
                .ok_or_else(|| kubetwin_apiserver::ApiError::internal(format!("no {resource}")))
        };
        let quotas = Informer::new(
            client.clone(),
            lookup("resourcequotas")?,
            WatchSpec::default(),
            time.clone(),
        );
        let claims = Informer::new(
            client.clone(),
            lookup("persistentvolumeclaims")?,
            WatchSpec::default(),
            time.clone(),
        );
        let this = Self {
            client,
            queue: WorkQueue::new(time.clone()),
            time,
            quotas,
            claims,
            pods,
            services,
        };
        let queue = this.queue.clone();
        this.quotas
            .add_handler(Arc::new(move |e: &Event<Value>| match e {
                Event::Added(q) | Event::Deleted(q) => queue.add(quota_key(q)),
                Event::Updated { old, new } => {
                    if hard_changed(old, new) {
                        queue.add(quota_key(new));
                    }
                }
            }));
        let (quotas, queue, time) = (this.quotas.clone(), this.queue.clone(), this.time.clone());
        this.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            // Most namespaces have no quota: skip the evaluation (two pod encodings per update).
            let namespace = match e {
                Event::Added(p) | Event::Deleted(p) | Event::Updated { new: p, .. } => {
                    p.metadata.namespace.as_deref().unwrap_or("")
                }
            };
            if quotas.list_namespace(namespace).is_empty() {
                return;
            }
            let (pod, replenishes) = match e {
                Event::Deleted(p) => (p, true),
                Event::Updated { old, new } => {
                    let now = time.now();
                    let counts =
                        |p: &Pod| serde_json::to_value(p).is_ok_and(|v| rq::pod_counts(&v, now));
                    (new, counts(old) && !counts(new))
                }
                Event::Added(_) => return,
            };
            if replenishes {
                let ns = pod.metadata.namespace.as_deref().unwrap_or("");
                replenish(&quotas, &queue, ns, &Evaluator::Pods);
            }
        }));
        let (quotas, queue) = (this.quotas.clone(), this.queue.clone());
        this.services
            .add_handler(Arc::new(move |e: &Event<Service>| {
                let (svc, replenishes) = match e {
                    Event::Deleted(s) => (s, true),
                    Event::Updated { old, new } => {
                        (new, quota_service_type(old) != quota_service_type(new))
                    }
                    Event::Added(_) => return,
                };
                if replenishes {
                    let ns = svc.metadata.namespace.as_deref().unwrap_or("");
                    replenish(&quotas, &queue, ns, &Evaluator::Services);
                }
            }));
        let (quotas, queue) = (this.quotas.clone(), this.queue.clone());
        this.claims.add_handler(Arc::new(move |e: &Event<Value>| {
            let (claim, replenishes) = match e {
                Event::Deleted(c) => (c, true),
                Event::Updated { old, new } => (
                    new,
                    old["status"]["allocatedResources"]["storage"]
                        != new["status"]["allocatedResources"]["storage"],
                ),
                Event::Added(_) => return,
            };
            if replenishes {
                let ns = claim["metadata"]["namespace"].as_str().unwrap_or("");
                replenish(&quotas, &queue, ns, &Evaluator::PersistentVolumeClaims);
            }
        }));
        Ok(this)
    }

    /// The work queue.
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    /// Starts its informers, then one worker and the periodic full recalculation.
    pub async fn run(self) {
        let informers = [self.quotas.start(), self.claims.start()];
        self.quotas.wait_synced().await;
        self.claims.wait_synced().await;
        let worker = self.clone();
        let worker = tokio::spawn(async move {
            while let Some(key) = worker.queue.get().await {
                match worker.sync(&key).await {
                    Ok(()) => worker.queue.forget(&key),
                    Err(e) => {
                        tracing::debug!(%key, error = %e, "resource quota sync failed; requeue");
                        worker.queue.add_rate_limited(key.clone());
                    }
                }
                worker.queue.done(&key);
            }
        });
        // `enqueueAll` every resync period.
        loop {
            self.time.sleep(RESYNC_PERIOD).await;
            if worker.is_finished() {
                break;
            }
            for key in self.quotas.keys() {
                self.queue.add(key);
            }
        }
        for informer in informers {
            informer.abort();
        }
    }

    /// Objects of a resource in `namespace`, as JSON, for the evaluators.
    fn list(&self, namespace: &str, group: &str, resource: &str) -> Option<Vec<Value>> {
        match (group, resource) {
            ("", "pods") => Some(
                self.pods
                    .list_namespace(namespace)
                    .iter()
                    .filter_map(|p| serde_json::to_value(p.as_ref()).ok())
                    .collect(),
            ),
            ("", "services") => Some(
                self.services
                    .list_namespace(namespace)
                    .iter()
                    .filter_map(|s| serde_json::to_value(s.as_ref()).ok())
                    .collect(),
            ),
            ("", "persistentvolumeclaims") => Some(
                self.claims
                    .list_namespace(namespace)
                    .iter()
                    .map(|c| c.as_ref().clone())
                    .collect(),
            ),
            _ => {
                let info = registry::RESOURCES
                    .iter()
                    .find(|r| r.group == group && r.resource == resource && r.namespaced())?;
                self.client
                    .list(info, Some(namespace), None, None)
                    .ok()
                    .map(|l| l.items)
            }
        }
    }

    /// `syncResourceQuota`.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(quota) = self.quotas.get(key) else {
            return Ok(());
        };
        let (namespace, _) = split_key(key);
        let namespace = namespace.unwrap_or("");
        let now = self.time.now();
        let usage = rq::calculate_usage(&quota, now, &|group, resource| {
            self.list(namespace, group, resource)
        });
        let Some(next) = desired_status(&quota, &usage) else {
            return Ok(());
        };
        let info = registry::lookup("", "v1", "resourcequotas")
            .ok_or_else(|| SyncError::Invalid("no resourcequotas".into()))?;
        // The cached resourceVersion is a precondition: a conflict retries with fresh state.
        self.client.update_shared(info, "status", next).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rl(pairs: &[(&str, &str)]) -> ResourceList {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    kubetwin_core::quantity::Quantity::parse(v).expect("quantity"),
                )
            })
            .collect()
    }

    /// Upstream: resource_quota_controller_test.go `TestSyncResourceQuota` (status written
    /// on the first sync, on hard changes and on usage changes; not otherwise; used masked
    /// to the hard resources).
    #[test]
    fn sync_status_table() {
        let fresh = json!({"metadata": {"name": "q", "namespace": "ns"}, "spec": {"hard": {"pods": "5", "cpu": "2"}}});
        let next = desired_status(&fresh, &rl(&[("pods", "1"), ("cpu", "500m")]))
            .expect("first sync writes");
        assert_eq!(
            next["status"],
            json!({"hard": {"cpu": "2", "pods": "5"}, "used": {"cpu": "500m", "pods": "1"}})
        );
        // Same usage, same hard: nothing to write.
        assert!(desired_status(&next, &rl(&[("pods", "1"), ("cpu", "500m")])).is_none());
        // Usage changed.
        let changed = desired_status(&next, &rl(&[("pods", "2"), ("cpu", "500m")])).expect("write");
        assert_eq!(changed["status"]["used"]["pods"], "2");
        // Hard changed: a dropped resource leaves used too.
        let mut narrowed = next.clone();
        narrowed["spec"]["hard"] = json!({"pods": "5"});
        let out = desired_status(&narrowed, &rl(&[("pods", "1")])).expect("write");
        assert_eq!(
            out["status"],
            json!({"hard": {"pods": "5"}, "used": {"pods": "1"}})
        );
        // A status-only change does not queue the quota; a spec.hard change does.
        assert!(!hard_changed(&next, &changed));
        assert!(hard_changed(&next, &narrowed));
    }
}
