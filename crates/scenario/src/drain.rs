//! Cordon and drain as `kubectl drain` does them, through the eviction API so that
//! PodDisruptionBudgets hold.
//!
//! Upstream: `staging/src/k8s.io/kubectl/pkg/drain/cordon.go` (`spec.unschedulable`),
//! `staging/src/k8s.io/kubectl/pkg/drain/filters.go` (which pods are deleted: DaemonSet pods
//! are skipped with `--ignore-daemonsets` and refuse the drain otherwise; mirror pods are
//! skipped; pods with `emptyDir` need `--delete-emptydir-data`; pods without a controller need
//! `--force`; finished pods are always deletable; any refusal aborts the drain before
//! anything is evicted) and `staging/src/k8s.io/kubectl/pkg/drain/drain.go` (`evictPods`:
//! every pod is evicted independently; `429 TooManyRequests` — a disruption budget — is
//! retried after 5 s, `404` means already gone; then `waitForDelete` polls every second until
//! each pod is gone or replaced, within `--timeout`).

use std::time::Duration;

use jiff::Timestamp;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};

use crate::recorder::Shared;
use crate::spec::DrainOptions;

/// kubectl's wait between evictions refused by a disruption budget.
pub const EVICTION_RETRY: Duration = Duration::from_secs(5);
/// kubectl's poll interval while waiting for evicted pods to go.
pub const DELETE_POLL: Duration = Duration::from_secs(1);

/// What a drain did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrainOutcome {
    /// Pods evicted.
    pub evicted: u64,
    /// Pods left alone (DaemonSet and mirror pods).
    pub skipped: u64,
    /// When every evicted pod was gone (`None`: not within the timeout, or refused).
    pub completed_at: Option<Timestamp>,
    /// Why the drain refused or stopped early.
    pub error: Option<String>,
}

/// Sets `spec.unschedulable` (`kubectl cordon` / `uncordon`).
pub async fn set_unschedulable(
    client: &LocalClient,
    node: &str,
    unschedulable: bool,
) -> Result<(), String> {
    let nodes = registry::lookup("", "v1", "nodes").ok_or("nodes are not served")?;
    let patch = json!({"spec": {"unschedulable": if unschedulable { Value::Bool(true) } else { Value::Null }}});
    client
        .merge_patch(nodes, None, node, "", &patch)
        .await
        .map(|_| ())
        .map_err(|e| e.message)
}

/// Why a pod may not be deleted, or whether it is skipped (`filters.go`).
enum Verdict {
    Delete,
    Skip,
    Refuse(String),
}

fn verdict(pod: &Value, options: &DrainOptions) -> Verdict {
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    let finished = phase == "Succeeded" || phase == "Failed";
    let controller = pod["metadata"]["ownerReferences"]
        .as_array()
        .and_then(|owners| owners.iter().find(|o| o["controller"] == true));
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("");
    if controller.is_some_and(|c| c["kind"] == "DaemonSet") {
        return if options.ignore_daemon_sets {
            Verdict::Skip
        } else {
            Verdict::Refuse(format!(
                "cannot delete DaemonSet-managed Pods (use ignoreDaemonSets): {namespace}/{name}"
            ))
        };
    }
    if !pod["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_null() {
        return Verdict::Skip;
    }
    let has_empty_dir = pod["spec"]["volumes"]
        .as_array()
        .is_some_and(|v| v.iter().any(|v| !v["emptyDir"].is_null()));
    if has_empty_dir && !finished && !options.delete_empty_dir_data {
        return Verdict::Refuse(format!(
            "cannot delete Pods with local storage (use deleteEmptyDirData): {namespace}/{name}"
        ));
    }
    if controller.is_none() && !finished && !options.force {
        return Verdict::Refuse(format!(
            "cannot delete Pods that declare no controller (use force): {namespace}/{name}"
        ));
    }
    Verdict::Delete
}

/// Cordons `node` and evicts its pods; returns when every evicted pod is gone or at
/// `deadline`. Evictions are recorded with `reason`.
pub async fn drain_node(
    client: &LocalClient,
    time: &SimTime,
    recorder: &Shared,
    node: &str,
    options: &DrainOptions,
    deadline: Option<Timestamp>,
    reason: &str,
) -> DrainOutcome {
    let mut outcome = DrainOutcome::default();
    if let Err(e) = set_unschedulable(client, node, true).await {
        outcome.error = Some(format!("cordon {node}: {e}"));
        return outcome;
    }
    let Some(pods_info) = registry::lookup("", "v1", "pods") else {
        outcome.error = Some("pods are not served".into());
        return outcome;
    };
    let selector = format!("spec.nodeName={node}");
    let pods = match client.list(pods_info, None, None, Some(&selector)) {
        Ok(l) => l.items,
        Err(e) => {
            outcome.error = Some(format!("list pods on {node}: {}", e.message));
            return outcome;
        }
    };
    let mut to_evict = Vec::new();
    let mut refusals = Vec::new();
    for pod in pods {
        match verdict(&pod, options) {
            Verdict::Delete => to_evict.push(pod),
            Verdict::Skip => outcome.skipped += 1,
            Verdict::Refuse(why) => refusals.push(why),
        }
    }
    if !refusals.is_empty() {
        outcome.error = Some(refusals.join("; "));
        return outcome;
    }
    let past_deadline = |time: &SimTime| deadline.is_some_and(|d| time.now() >= d);
    // Evict; budgets refuse with 429 and are retried every 5 s.
    let mut waiting: Vec<(String, String, String)> = Vec::new();
    while !to_evict.is_empty() {
        let mut refused = Vec::new();
        for pod in to_evict {
            let namespace = pod["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
            let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
            match client.evict(&namespace, &name).await {
                Ok(()) => {
                    outcome.evicted += 1;
                    recorder.lock().record_eviction(time.now(), &pod, reason);
                    waiting.push((namespace, name, uid));
                }
                Err(e) if e.code == 404 => {}
                Err(e) if e.code == 429 => refused.push(pod),
                Err(e) => {
                    outcome.error = Some(format!("evict {namespace}/{name}: {}", e.message));
                    return outcome;
                }
            }
        }
        to_evict = refused;
        if !to_evict.is_empty() {
            if past_deadline(time) {
                outcome.error = Some(format!(
                    "{} pods not evicted before the timeout (disruption budgets)",
                    to_evict.len()
                ));
                return outcome;
            }
            time.sleep(EVICTION_RETRY).await;
        }
    }
    // Wait until the evicted pods are gone (or replaced by a pod of the same name).
    loop {
        waiting.retain(|(namespace, name, uid)| {
            client
                .get(pods_info, Some(namespace), name)
                .is_ok_and(|p| p["metadata"]["uid"].as_str() == Some(uid.as_str()))
        });
        if waiting.is_empty() {
            outcome.completed_at = Some(time.now());
            return outcome;
        }
        if past_deadline(time) {
            outcome.error = Some(format!(
                "{} evicted pods still terminating at the timeout",
                waiting.len()
            ));
            return outcome;
        }
        time.sleep(DELETE_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(owner: Option<&str>, phase: &str, empty_dir: bool, mirror: bool) -> Value {
        let mut p = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {}, "status": {"phase": phase}});
        if let Some(kind) = owner {
            p["metadata"]["ownerReferences"] =
                json!([{"kind": kind, "name": "o", "controller": true}]);
        }
        if empty_dir {
            p["spec"]["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
        }
        if mirror {
            p["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "x"});
        }
        p
    }

    /// Cases after kubectl's `TestDrain` (`staging/src/k8s.io/kubectl/pkg/cmd/drain/drain_test.go`)
    /// and the filters of `staging/src/k8s.io/kubectl/pkg/drain/filters.go`:
    /// `(case, pod, ignoreDaemonSets, deleteEmptyDirData, force, expected)`.
    #[test]
    fn filters() {
        let cases: Vec<(&str, Value, bool, bool, bool, &str)> = vec![
            (
                "RC-managed pod",
                pod(Some("ReplicationController"), "Running", false, false),
                false,
                false,
                false,
                "delete",
            ),
            (
                "RS-managed pod",
                pod(Some("ReplicaSet"), "Running", false, false),
                false,
                false,
                false,
                "delete",
            ),
            (
                "Job-managed pod",
                pod(Some("Job"), "Running", false, false),
                false,
                false,
                false,
                "delete",
            ),
            (
                "DS-managed pod",
                pod(Some("DaemonSet"), "Running", false, false),
                false,
                true,
                true,
                "refuse",
            ),
            (
                "DS-managed pod with --ignore-daemonsets",
                pod(Some("DaemonSet"), "Running", false, false),
                true,
                false,
                false,
                "skip",
            ),
            (
                "orphaned pod",
                pod(None, "Running", false, false),
                true,
                true,
                false,
                "refuse",
            ),
            (
                "orphaned pod with --force",
                pod(None, "Running", false, false),
                true,
                true,
                true,
                "delete",
            ),
            (
                "finished orphaned pod",
                pod(None, "Succeeded", false, false),
                true,
                true,
                false,
                "delete",
            ),
            (
                "pod with EmptyDir",
                pod(Some("ReplicaSet"), "Running", true, false),
                true,
                false,
                false,
                "refuse",
            ),
            (
                "pod with EmptyDir and --delete-emptydir-data",
                pod(Some("ReplicaSet"), "Running", true, false),
                true,
                true,
                false,
                "delete",
            ),
            (
                "finished pod with EmptyDir",
                pod(Some("ReplicaSet"), "Failed", true, false),
                true,
                false,
                false,
                "delete",
            ),
            (
                "mirror pod",
                pod(None, "Running", false, true),
                true,
                true,
                false,
                "skip",
            ),
        ];
        for (case, pod, ignore_daemon_sets, delete_empty_dir_data, force, expected) in cases {
            let options = DrainOptions {
                ignore_daemon_sets,
                delete_empty_dir_data,
                force,
                timeout: None,
            };
            let got = match verdict(&pod, &options) {
                Verdict::Delete => "delete",
                Verdict::Skip => "skip",
                Verdict::Refuse(_) => "refuse",
            };
            assert_eq!(got, expected, "{case}");
        }
    }
}
