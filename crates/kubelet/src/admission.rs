//! Pod admission on the node: the checks the kubelet runs before starting a pod it was bound
//! to (the scheduler's view may be stale), with upstream reasons and messages.
//!
//! Upstream: `pkg/kubelet/lifecycle/predicate.go` (`Admit`, `generalFilter`,
//! `InsufficientResourceError`, `PredicateFailureError`), `pkg/scheduler/schedule_one.go`
//! (`AdmissionCheck`: resources, then node affinity, node name, host ports), and
//! `pkg/kubelet/kubelet.go` (`rejectPod`: phase Failed, message "Pod was rejected: …").

use k8s_openapi::api::core::v1::Pod;
use kubetwin_scheduler::helpers::taints::find_matching_untolerated_taint;
use kubetwin_scheduler::plugins::noderesources::fits_request;
use kubetwin_scheduler::plugins::{names, nodeaffinity, nodename, nodeports};
use kubetwin_scheduler::resource;
use kubetwin_scheduler::types::{NodeInfo, PodInfo};

/// `OutOfpods`.
pub const OUT_OF_PODS: &str = "OutOfpods";
/// `OutOfcpu`.
pub const OUT_OF_CPU: &str = "OutOfcpu";
/// `OutOfmemory`.
pub const OUT_OF_MEMORY: &str = "OutOfmemory";
/// `OutOfephemeral-storage`.
pub const OUT_OF_EPHEMERAL_STORAGE: &str = "OutOfephemeral-storage";
/// The taint check's reason text (`tainttoleration.ErrReasonNotMatch`).
pub const ERR_REASON_TAINTS: &str = "node(s) had taints that the pod didn't tolerate";

/// Why the kubelet refused a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `status.reason`, e.g. `OutOfcpu`.
    pub reason: String,
    /// The admission message (the status message is "Pod was rejected: " + this).
    pub message: String,
}

impl Rejection {
    fn predicate(name: &str, description: &str) -> Self {
        Self {
            reason: name.to_string(),
            message: format!("Predicate {name} failed: {description}"),
        }
    }

    /// The pod's `status.message` after rejection.
    pub fn status_message(&self) -> String {
        format!("Pod was rejected: {}", self.message)
    }
}

/// Admits `pod` onto the node whose already admitted, still active pods are in `node`.
/// `node_os` is the node's operating system (its `kubernetes.io/os` label; `linux` if absent).
pub fn admit(node: &NodeInfo, pod: &PodInfo, node_os: &str) -> Result<(), Rejection> {
    // Checks that preemption cannot help come first.
    if let Some(os) = pod.labels.get("kubernetes.io/os")
        && os != node_os
    {
        return Err(Rejection {
            reason: "PodOSSelectorNodeLabelDoesNotMatch".into(),
            message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label"
                .into(),
        });
    }
    if let Some(os) = pod.pod.spec.as_ref().and_then(|s| s.os.as_ref())
        && os.name != node_os
    {
        return Err(Rejection {
            reason: "PodOSNotSupported".into(),
            message: "Failed to admit pod as the OS field doesn't match node OS".into(),
        });
    }
    // Extended resources the node does not advertise are dropped (cluster-level resources).
    let mut request = pod.fit_request.clone();
    request.scalar.retain(|name, _| {
        !resource::is_extended_resource_name(name) || node.allocatable().scalar.contains_key(name)
    });
    let mut reasons: Vec<Rejection> = fits_request(
        &request,
        node,
        &Default::default(),
        &Default::default(),
    )
    .into_iter()
    .map(|r| {
        let reason = match r.resource_name.as_ref() {
            resource::CPU => OUT_OF_CPU.to_string(),
            resource::MEMORY => OUT_OF_MEMORY.to_string(),
            resource::EPHEMERAL_STORAGE => OUT_OF_EPHEMERAL_STORAGE.to_string(),
            resource::PODS => OUT_OF_PODS.to_string(),
            other => format!("OutOf{other}"),
        };
        Rejection {
            reason,
            message: format!(
                "Node didn't have enough resource: {}, requested: {}, used: {}, capacity: {}",
                r.resource_name, r.requested, r.used, r.capacity
            ),
        }
    })
    .collect();
    if !pod
        .required_node_affinity
        .matches(&node.node.labels, node.name())
    {
        reasons.push(Rejection::predicate(
            names::NODE_AFFINITY,
            nodeaffinity::ERR_REASON_POD,
        ));
    }
    if !pod.node_name.is_empty() && pod.node_name != node.name() {
        reasons.push(Rejection::predicate(names::NODE_NAME, nodename::ERR_REASON));
    }
    if !nodeports::fits_ports(&pod.host_ports, node) {
        reasons.push(Rejection::predicate(
            names::NODE_PORTS,
            nodeports::ERR_REASON,
        ));
    }
    // The kubelet only cares about NoExecute taints.
    if find_matching_untolerated_taint(&node.node.taints, &pod.tolerations, |t| {
        t.effect == "NoExecute"
    })
    .is_some()
    {
        reasons.push(Rejection::predicate(
            names::TAINT_TOLERATION,
            ERR_REASON_TAINTS,
        ));
    }
    // Only the first failure is reported.
    match reasons.into_iter().next() {
        Some(r) => Err(r),
        None => Ok(()),
    }
}

/// Whether `pod` is still using node resources for admission purposes (not terminal).
pub fn is_active(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // Case tables are tuples.
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Node;
    use kubetwin_scheduler::types::NodeData;
    use std::sync::Arc;

    fn node(pods: &str, cpu: &str, memory: &str, taints: serde_json::Value) -> NodeInfo {
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1", "labels": {"kubernetes.io/os": "linux", "zone": "a"}},
            "spec": {"taints": taints},
            "status": {"allocatable": {"pods": pods, "cpu": cpu, "memory": memory}},
        }))
        .expect("node");
        NodeInfo::new(Arc::new(NodeData::new(node).expect("node data")))
    }

    fn pod(name: &str, spec: serde_json::Value) -> PodInfo {
        let mut spec = spec;
        spec["nodeName"] = "n1".into();
        if spec.get("containers").is_none() {
            spec["containers"] = serde_json::json!([{"name": "c", "image": "nginx"}]);
        }
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default", "uid": name},
            "spec": spec,
        }))
        .expect("pod");
        PodInfo::new(p).expect("pod info")
    }

    fn requests(cpu: &str, memory: &str) -> serde_json::Value {
        serde_json::json!({"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]})
    }

    /// Cases modelled on upstream pkg/kubelet/lifecycle/predicate_test.go
    /// (`TestGeneralPredicates`, `TestRejectPodAdmissionBasedOnOSSelector`) and the kubelet's
    /// `TestHandlePortConflicts` / `TestHandleNodeSelector` / `TestHandleMemExceeded`.
    #[test]
    fn admission_table() {
        let none = serde_json::json!([]);
        let cases: Vec<(&str, NodeInfo, Vec<PodInfo>, PodInfo, Option<(&str, &str)>)> = vec![
            (
                "fits",
                node("10", "2", "4Gi", none.clone()),
                vec![],
                pod("p", requests("1", "1Gi")),
                None,
            ),
            (
                "too many pods",
                node("1", "2", "4Gi", none.clone()),
                vec![pod("a", serde_json::json!({}))],
                pod("p", serde_json::json!({})),
                Some((
                    OUT_OF_PODS,
                    "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1",
                )),
            ),
            (
                "cpu",
                node("10", "2", "4Gi", none.clone()),
                vec![pod("a", requests("1500m", "1Gi"))],
                pod("p", requests("1", "1Gi")),
                Some((
                    OUT_OF_CPU,
                    "Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000",
                )),
            ),
            (
                "memory",
                node("10", "2", "1Gi", none.clone()),
                vec![],
                pod("p", requests("100m", "2Gi")),
                Some((
                    OUT_OF_MEMORY,
                    "Node didn't have enough resource: memory, requested: 2147483648, used: 0, capacity: 1073741824",
                )),
            ),
            (
                "pods reported before cpu",
                node("1", "1", "4Gi", none.clone()),
                vec![pod("a", requests("1", "1Gi"))],
                pod("p", requests("1", "1Gi")),
                Some((
                    OUT_OF_PODS,
                    "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1",
                )),
            ),
            (
                "node selector",
                node("10", "2", "4Gi", none.clone()),
                vec![],
                pod("p", serde_json::json!({"nodeSelector": {"zone": "b"}})),
                Some((
                    "NodeAffinity",
                    "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
                )),
            ),
            (
                "host port conflict",
                node("10", "2", "4Gi", none.clone()),
                vec![pod(
                    "a",
                    serde_json::json!({"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
                )],
                pod(
                    "p",
                    serde_json::json!({"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
                ),
                Some((
                    "NodePorts",
                    "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
                )),
            ),
            (
                "NoExecute taint",
                node(
                    "10",
                    "2",
                    "4Gi",
                    serde_json::json!([{"key": "k", "value": "v", "effect": "NoExecute"}]),
                ),
                vec![],
                pod("p", serde_json::json!({})),
                Some((
                    "TaintToleration",
                    "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
                )),
            ),
            (
                "NoSchedule taint ignored",
                node(
                    "10",
                    "2",
                    "4Gi",
                    serde_json::json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]),
                ),
                vec![],
                pod("p", serde_json::json!({})),
                None,
            ),
            (
                "unknown extended resource dropped",
                node("10", "2", "4Gi", none.clone()),
                vec![],
                pod(
                    "p",
                    serde_json::json!({"containers": [{"name": "c", "image": "x", "resources": {"requests": {"example.com/widget": "1"}, "limits": {"example.com/widget": "1"}}}]}),
                ),
                None,
            ),
            (
                "os field",
                node("10", "2", "4Gi", none.clone()),
                vec![],
                pod("p", serde_json::json!({"os": {"name": "windows"}})),
                Some((
                    "PodOSNotSupported",
                    "Failed to admit pod as the OS field doesn't match node OS",
                )),
            ),
        ];
        for (name, mut node, existing, candidate, want) in cases {
            for p in existing {
                node.add_pod(Arc::new(p));
            }
            let got = admit(&node, &candidate, "linux").err();
            let got = got
                .as_ref()
                .map(|r| (r.reason.as_str(), r.message.as_str()));
            assert_eq!(got, want, "{name}");
        }
    }
}
