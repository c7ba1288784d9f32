//! The Node the kubelet registers and the status it keeps posting: conditions with upstream
//! reasons and messages, node info, addresses, images; and the node Lease (heartbeat).
//!
//! Upstream: `pkg/kubelet/nodestatus/setters.go` (`MemoryPressureCondition`,
//! `DiskPressureCondition`, `PIDPressureCondition`, `ReadyCondition`, `Images`,
//! `DaemonEndpoints`), `pkg/kubelet/kubelet_node_status.go` (`initialNode` labels,
//! `nodeStatusHasChanged` ignoring heartbeat times, `defaultNodeStatusFuncs` order),
//! `staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go` (`newLease`:
//! holderIdentity, leaseDurationSeconds, renewTime, owner reference to the Node; renew
//! interval = 0.25 × duration).

use serde_json::{Map, Value, json};

use crate::ids;
use crate::knobs::KubeletKnobs;

/// The namespace of node leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// The kubelet's port, reported in `status.daemonEndpoints`.
pub const KUBELET_PORT: i64 = 10250;
/// How many images the node status lists (`nodeStatusMaxImages` default).
pub const MAX_IMAGES_IN_STATUS: usize = 50;

/// Pressure signals the node reports (the eviction manager's view).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pressure {
    /// Under memory pressure.
    pub memory: bool,
    /// Under disk pressure.
    pub disk: bool,
    /// Under PID pressure.
    pub pid: bool,
}

fn find_condition<'a>(conditions: &'a [Value], type_: &str) -> Option<&'a Value> {
    conditions.iter().find(|c| c["type"] == type_)
}

/// One pressure condition setter: keeps the existing transition unless the status flips; a new
/// condition starts as Unknown, so it always transitions.
fn pressure_condition(
    existing: Option<&Value>,
    type_: &str,
    under_pressure: bool,
    (true_reason, true_message): (&str, &str),
    (false_reason, false_message): (&str, &str),
    now: &str,
) -> Value {
    let mut c = existing
        .cloned()
        .unwrap_or_else(|| json!({"type": type_, "status": "Unknown"}));
    c["lastHeartbeatTime"] = json!(now);
    let (status, reason, message) = if under_pressure {
        ("True", true_reason, true_message)
    } else {
        ("False", false_reason, false_message)
    };
    if c["status"] != status {
        c["status"] = json!(status);
        c["reason"] = json!(reason);
        c["message"] = json!(message);
        c["lastTransitionTime"] = json!(now);
    }
    c
}

/// The node conditions after the kubelet's setters ran at `now` (RFC 3339), keeping
/// conditions owned by others (e.g. `NetworkUnavailable`) in place.
pub fn node_conditions(
    existing: &[Value],
    capacity: &Map<String, Value>,
    pressure: Pressure,
    now: &str,
) -> Vec<Value> {
    let memory = pressure_condition(
        find_condition(existing, "MemoryPressure"),
        "MemoryPressure",
        pressure.memory,
        (
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        ),
        (
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        now,
    );
    let disk = pressure_condition(
        find_condition(existing, "DiskPressure"),
        "DiskPressure",
        pressure.disk,
        ("KubeletHasDiskPressure", "kubelet has disk pressure"),
        ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        now,
    );
    let pid = pressure_condition(
        find_condition(existing, "PIDPressure"),
        "PIDPressure",
        pressure.pid,
        (
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
        ),
        (
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        now,
    );
    let missing: Vec<&str> = ["cpu", "memory", "pods", "ephemeral-storage"]
        .into_iter()
        .filter(|r| !capacity.contains_key(*r))
        .collect();
    let mut ready = if missing.is_empty() {
        json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
               "message": "kubelet is posting ready status"})
    } else {
        json!({"type": "Ready", "status": "False", "reason": "KubeletNotReady",
               "message": format!("Missing node capacity for resources: {}", missing.join(", "))})
    };
    ready["lastHeartbeatTime"] = json!(now);
    ready["lastTransitionTime"] = match find_condition(existing, "Ready") {
        Some(old) if old["status"] == ready["status"] => old["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let mut out = Vec::with_capacity(existing.len().max(4));
    let mut placed = [false; 4];
    let ours = [memory, disk, pid, ready];
    let index = |t: &Value| {
        ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
            .iter()
            .position(|n| t == n)
    };
    for c in existing {
        match index(&c["type"]) {
            Some(i) => {
                out.push(ours[i].clone());
                placed[i] = true;
            }
            None => out.push(c.clone()),
        }
    }
    // Ready stays last among new conditions (setters.go note on version skew).
    for (i, c) in ours.into_iter().enumerate() {
        if !placed[i] {
            out.push(c);
        }
    }
    out
}

/// A status with heartbeat times removed, for `nodeStatusHasChanged`.
pub fn without_heartbeats(status: &Value) -> Value {
    let mut s = status.clone();
    if let Some(conds) = s.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in conds {
            if let Some(m) = c.as_object_mut() {
                m.remove("lastHeartbeatTime");
            }
        }
    }
    s
}

/// The `status.images` list for the images on the node, largest first (`Images` setter).
pub fn images_status(images: &[String]) -> Value {
    let mut entries: Vec<(i64, &String)> = images.iter().map(|i| (ids::image_size(i), i)).collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    Value::Array(
        entries
            .into_iter()
            .take(MAX_IMAGES_IN_STATUS)
            .map(|(size, name)| json!({"names": [ids::image_id(name), name], "sizeBytes": size}))
            .collect(),
    )
}

/// The Node object to register: the template (labels, spec, capacity, allocatable, addresses
/// from the cluster spec) completed with what a kubelet adds (`initialNode`).
pub fn initial_node(template: &Value, knobs: &KubeletKnobs, seed: u64, now: &str) -> Value {
    let mut node = template.clone();
    if !node.is_object() {
        node = json!({});
    }
    node["apiVersion"] = json!("v1");
    node["kind"] = json!("Node");
    let name = node["metadata"]["name"].as_str().unwrap_or("").to_string();
    if !node["metadata"].is_object() {
        node["metadata"] = json!({});
    }
    let meta = &mut node["metadata"];
    for key in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
    ] {
        if let Some(m) = meta.as_object_mut() {
            m.remove(key);
        }
    }
    if !meta["labels"].is_object() {
        meta["labels"] = json!({});
    }
    let labels = &mut meta["labels"];
    let os = labels["kubernetes.io/os"]
        .as_str()
        .unwrap_or("linux")
        .to_string();
    let arch = labels["kubernetes.io/arch"]
        .as_str()
        .unwrap_or("amd64")
        .to_string();
    for (k, v) in [
        ("beta.kubernetes.io/arch", arch.as_str()),
        ("beta.kubernetes.io/os", os.as_str()),
        ("kubernetes.io/arch", arch.as_str()),
        ("kubernetes.io/hostname", name.as_str()),
        ("kubernetes.io/os", os.as_str()),
    ] {
        if labels.get(k).is_none() {
            labels[k] = json!(v);
        }
    }
    if !meta["annotations"].is_object() {
        meta["annotations"] = json!({});
    }
    let annotations = &mut meta["annotations"];
    if annotations
        .get("volumes.kubernetes.io/controller-managed-attach-detach")
        .is_none()
    {
        annotations["volumes.kubernetes.io/controller-managed-attach-detach"] = json!("true");
    }
    if !node["spec"].is_object() {
        node["spec"] = json!({});
    }
    if node["spec"]["podCIDRs"].is_null()
        && let Some(cidr) = node["spec"]["podCIDR"].as_str()
    {
        node["spec"]["podCIDRs"] = json!([cidr]);
    }
    if !node["status"].is_object() {
        node["status"] = json!({});
    }
    let status = &mut node["status"];
    if !status["capacity"].is_object() {
        status["capacity"] = json!({});
    }
    if !status["allocatable"].is_object() {
        status["allocatable"] = status["capacity"].clone();
    }
    let addresses_missing = status["addresses"].as_array().is_none_or(|a| a.is_empty());
    if addresses_missing {
        let h = ids::stable_hash(seed, &["node-ip", &name]);
        let ip = format!(
            "10.{}.{}.{}",
            (h >> 16) & 0xff,
            (h >> 8) & 0xff,
            (h & 0xfd) + 2
        );
        status["addresses"] = json!([
            {"type": "InternalIP", "address": ip},
            {"type": "Hostname", "address": name},
        ]);
    }
    status["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": KUBELET_PORT}});
    let uuid = |what: &str| {
        let hex = ids::hex_id(seed, &[what, &name], 2);
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    };
    status["nodeInfo"] = json!({
        "machineID": ids::hex_id(seed, &["machine-id", &name], 2),
        "systemUUID": uuid("system-uuid"),
        "bootID": uuid("boot-id"),
        "kernelVersion": knobs.kernel_version,
        "osImage": knobs.os_image,
        "containerRuntimeVersion": knobs.container_runtime_version,
        "kubeletVersion": knobs.kubelet_version,
        "kubeProxyVersion": "",
        "operatingSystem": os,
        "architecture": arch,
    });
    let capacity = status["capacity"].as_object().cloned().unwrap_or_default();
    let existing: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    status["conditions"] = Value::Array(node_conditions(
        &existing,
        &capacity,
        Pressure::default(),
        now,
    ));
    let images: Vec<String> = knobs
        .preloaded_images
        .iter()
        .map(|i| ids::normalize_image(i))
        .collect();
    status["images"] = images_status(&images);
    node
}

/// The node's addresses: `(hostIP, hostIPs)` — the first InternalIP (else ExternalIP), and
/// one address per family.
///
/// Upstream: `pkg/kubelet/kubelet_node_status.go` / `kubelet_pods.go` (`getHostIPsAnyWay`,
/// `utilnode.GetNodeHostIPs`).
pub fn host_ips(node: &Value) -> Vec<String> {
    let addresses = node["status"]["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let of_type = |t: &str| -> Vec<String> {
        addresses
            .iter()
            .filter(|a| a["type"] == t)
            .filter_map(|a| a["address"].as_str().map(str::to_string))
            .collect()
    };
    let mut all = of_type("InternalIP");
    all.extend(of_type("ExternalIP"));
    let mut out: Vec<String> = Vec::new();
    for ip in all {
        let v6 = ip.contains(':');
        if out.iter().all(|o| o.contains(':') != v6) {
            out.push(ip);
        }
        if out.len() == 2 {
            break;
        }
    }
    out
}

/// A fresh node Lease owned by the node.
pub fn lease_object(node: &str, node_uid: &str, duration_seconds: i32, renew_time: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": node,
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid}],
        },
        "spec": {
            "holderIdentity": node,
            "leaseDurationSeconds": duration_seconds,
            "renewTime": renew_time,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity() -> Map<String, Value> {
        json!({"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    /// Upstream: pkg/kubelet/nodestatus/setters_test.go `TestReadyCondition`,
    /// `TestMemoryPressureCondition`, `TestPIDPressureCondition`, `TestDiskPressureCondition`.
    #[test]
    fn conditions_follow_setters() {
        let t0 = "2025-01-01T00:00:00Z";
        let t1 = "2025-01-01T00:00:10Z";
        let first = node_conditions(&[], &capacity(), Pressure::default(), t0);
        let types: Vec<&str> = first.iter().filter_map(|c| c["type"].as_str()).collect();
        assert_eq!(
            types,
            ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        );
        let reasons: Vec<&str> = first.iter().filter_map(|c| c["reason"].as_str()).collect();
        assert_eq!(
            reasons,
            [
                "KubeletHasSufficientMemory",
                "KubeletHasNoDiskPressure",
                "KubeletHasSufficientPID",
                "KubeletReady"
            ]
        );
        assert_eq!(first[3]["message"], "kubelet is posting ready status");
        assert_eq!(
            first[0]["message"],
            "kubelet has sufficient memory available"
        );
        // Same status later: heartbeat moves, transition stays.
        let second = node_conditions(&first, &capacity(), Pressure::default(), t1);
        assert_eq!(second[3]["lastHeartbeatTime"], t1);
        assert_eq!(second[3]["lastTransitionTime"], t0);
        assert_eq!(
            without_heartbeats(&json!({"conditions": first})),
            without_heartbeats(&json!({"conditions": second.clone()}))
        );
        // Memory pressure flips the condition and its transition time.
        let pressured = node_conditions(
            &second,
            &capacity(),
            Pressure {
                memory: true,
                ..Default::default()
            },
            t1,
        );
        assert_eq!(pressured[0]["status"], "True");
        assert_eq!(pressured[0]["reason"], "KubeletHasInsufficientMemory");
        assert_eq!(
            pressured[0]["message"],
            "kubelet has insufficient memory available"
        );
        assert_eq!(pressured[0]["lastTransitionTime"], t1);
        // Missing capacity makes the node NotReady with upstream's message.
        let mut partial = capacity();
        partial.remove("pods");
        partial.remove("ephemeral-storage");
        let not_ready = node_conditions(&second, &partial, Pressure::default(), t1);
        assert_eq!(not_ready[3]["status"], "False");
        assert_eq!(not_ready[3]["reason"], "KubeletNotReady");
        assert_eq!(
            not_ready[3]["message"],
            "Missing node capacity for resources: pods, ephemeral-storage"
        );
        assert_eq!(not_ready[3]["lastTransitionTime"], t1);
        // A node lifecycle controller's Unknown is overwritten, and foreign conditions stay.
        let mut foreign = second.clone();
        foreign.insert(0, json!({"type": "NetworkUnavailable", "status": "False"}));
        foreign[4]["status"] = json!("Unknown");
        let back = node_conditions(&foreign, &capacity(), Pressure::default(), t1);
        assert_eq!(back[0]["type"], "NetworkUnavailable");
        assert_eq!(back[4]["status"], "True");
        assert_eq!(back[4]["lastTransitionTime"], t1);
    }

    #[test]
    fn initial_node_adds_kubelet_labels_and_info() {
        let template = json!({
            "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "z1", "kubernetes.io/arch": "arm64"}},
            "spec": {"podCIDR": "10.244.3.0/24"},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}},
        });
        let node = initial_node(
            &template,
            &KubeletKnobs::default(),
            7,
            "2025-01-01T00:00:00Z",
        );
        assert_eq!(node["metadata"]["labels"]["kubernetes.io/hostname"], "n1");
        assert_eq!(node["metadata"]["labels"]["kubernetes.io/arch"], "arm64");
        assert_eq!(node["metadata"]["labels"]["beta.kubernetes.io/os"], "linux");
        assert_eq!(node["spec"]["podCIDRs"], json!(["10.244.3.0/24"]));
        assert_eq!(node["status"]["allocatable"], node["status"]["capacity"]);
        assert_eq!(node["status"]["nodeInfo"]["architecture"], "arm64");
        assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], "v1.34.1");
        assert_eq!(
            node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"],
            10250
        );
        assert_eq!(host_ips(&node).len(), 1);
        assert_eq!(
            node,
            initial_node(
                &template,
                &KubeletKnobs::default(),
                7,
                "2025-01-01T00:00:00Z"
            )
        );
    }

    #[test]
    fn host_ips_one_per_family() {
        let node = json!({"status": {"addresses": [
            {"type": "Hostname", "address": "n"},
            {"type": "InternalIP", "address": "10.0.0.5"},
            {"type": "InternalIP", "address": "10.0.0.6"},
            {"type": "InternalIP", "address": "fd00::5"},
        ]}});
        assert_eq!(host_ips(&node), ["10.0.0.5", "fd00::5"]);
    }
}
