//! Core-group resources: Service, Endpoints, EndpointSlice, Node, Event (core/v1 and
//! events.k8s.io/v1), Namespace, Secret, ServiceAccount, ConfigMap, PersistentVolume(Claim),
//! ResourceQuota.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`printService`, `getServiceExternalIP`,
//! `loadBalancerStatusStringer`, `makePortString`, `printEndpoints`, `formatEndpoints`,
//! `printEndpointSlice`, `formatDiscoveryPorts`, `formatDiscoveryEndpoints`, `printNode`,
//! `findNodeRoles`, `getNodeInternalIP`, `getNodeExternalIP`, `printEvent`, `formatEventSource`,
//! `printNamespace`, `printSecret`, `printServiceAccount`, `printConfigMap`,
//! `printPersistentVolume`, `printPersistentVolumeClaim`, `printResourceQuota`);
//! `pkg/apis/core/helper/helpers.go` (`GetAccessModesAsString`, `GetPersistentVolumeClass`,
//! `GetPersistentVolumeClaimClass`); `pkg/apis/events/v1/conversion.go` (events.k8s.io field names).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Ctx, n, s};
use crate::format::{age, count, format_labels, join_host_port, list_with_more};
use crate::value::{
    annotation, at, bool_at, int_at, is_deleting, list_at, map_len, name, opt_int, opt_str,
    quantity_at, str_at, string_map, time_at,
};

/// `loadBalancerWidth`: non-wide load-balancer addresses are clipped to this many bytes.
const LOAD_BALANCER_WIDTH: usize = 16;

fn creation_age(obj: &Value, ctx: &Ctx) -> Value {
    s(age(
        time_at(obj, &["metadata", "creationTimestamp"]),
        ctx.now,
    ))
}

/// `loadBalancerStatusStringer` / `ingressLoadBalancerStatusStringer`: the sorted set of ingress
/// IPs (or hostnames when no IP), comma-joined; clipped to 13 bytes plus `...` unless wide.
pub(crate) fn load_balancer_status(ingress: &[Value], wide: bool) -> String {
    let set: BTreeSet<&str> = ingress
        .iter()
        .filter_map(|entry| {
            let ip = str_at(entry, &["ip"]);
            let hostname = str_at(entry, &["hostname"]);
            if !ip.is_empty() {
                Some(ip)
            } else if !hostname.is_empty() {
                Some(hostname)
            } else {
                None
            }
        })
        .collect();
    let joined = set.into_iter().collect::<Vec<_>>().join(",");
    if !wide && joined.len() > LOAD_BALANCER_WIDTH {
        // Go slices bytes; cutting inside a UTF-8 sequence would only happen for non-ASCII
        // hostnames, which Kubernetes validation rejects. Stay on a char boundary regardless.
        let mut cut = LOAD_BALANCER_WIDTH - 3;
        while !joined.is_char_boundary(cut) {
            cut -= 1;
        }
        return format!("{}...", &joined[..cut]);
    }
    joined
}

/// `getServiceExternalIP`.
fn service_external_ip(svc: &Value, svc_type: &str, wide: bool) -> String {
    let external_ips: Vec<&str> = list_at(svc, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match svc_type {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_owned()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb_ips =
                load_balancer_status(list_at(svc, &["status", "loadBalancer", "ingress"]), wide);
            if !external_ips.is_empty() {
                let mut results: Vec<&str> = Vec::new();
                if !lb_ips.is_empty() {
                    results.extend(lb_ips.split(','));
                }
                results.extend(external_ips);
                return results.join(",");
            }
            if !lb_ips.is_empty() {
                return lb_ips;
            }
            "<pending>".to_owned()
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_owned(),
        _ => "<unknown>".to_owned(),
    }
}

/// `makePortString`: `port/proto` or `port:nodePort/proto`, comma-joined. Protocol defaults to TCP
/// as v1 defaulting does.
fn service_ports(svc: &Value) -> String {
    list_at(svc, &["spec", "ports"])
        .iter()
        .map(|port| {
            let number = int_at(port, &["port"]);
            let protocol = opt_str(port, &["protocol"])
                .filter(|p| !p.is_empty())
                .unwrap_or("TCP");
            let node_port = int_at(port, &["nodePort"]);
            if node_port > 0 {
                format!("{number}:{node_port}/{protocol}")
            } else {
                format!("{number}/{protocol}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `printService`: Name, Type, Cluster-IP, External-IP, Port(s), Age; wide: Selector.
/// The type defaults to ClusterIP and `clusterIPs` falls back to `clusterIP`, as the v1 defaulting
/// and registry strategy would have filled them.
pub(crate) fn print_service(svc: &Value, ctx: &Ctx) -> Vec<Value> {
    let svc_type = opt_str(svc, &["spec", "type"])
        .filter(|t| !t.is_empty())
        .unwrap_or("ClusterIP");
    let cluster_ip = list_at(svc, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| opt_str(svc, &["spec", "clusterIP"]).filter(|ip| !ip.is_empty()))
        .unwrap_or("<none>");
    let mut ports = service_ports(svc);
    if ports.is_empty() {
        ports = "<none>".to_owned();
    }
    let mut cells = vec![
        s(name(svc)),
        s(svc_type),
        s(cluster_ip),
        s(service_external_ip(svc, svc_type, ctx.wide)),
        s(ports),
        creation_age(svc, ctx),
    ];
    if ctx.wide {
        cells.push(s(format_labels(&string_map(svc, &["spec", "selector"]))));
    }
    cells
}

/// `formatEndpoints` with all ports: up to three `ip:port` (or bare IPs for port-less subsets),
/// then ` + N more...`; `<none>` without subsets.
fn format_endpoints(endpoints: &Value) -> String {
    let subsets = list_at(endpoints, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_owned();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut total: usize = 0;
    for subset in subsets {
        let addresses = list_at(subset, &["addresses"]);
        let ports = list_at(subset, &["ports"]);
        if ports.is_empty() {
            // Headless services may have no ports.
            total += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(address, &["ip"]).to_owned());
            }
            continue;
        }
        for port in ports {
            total += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(
                    str_at(address, &["ip"]),
                    int_at(port, &["port"]),
                ));
            }
        }
    }
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", total.saturating_sub(MAX));
    }
    joined
}

/// `printEndpoints`: Name, Endpoints, Age.
pub(crate) fn print_endpoints(endpoints: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(endpoints)),
        s(format_endpoints(endpoints)),
        creation_age(endpoints, ctx),
    ]
}

/// `printEndpointSlice`: Name, AddressType, Ports, Endpoints, Age.
pub(crate) fn print_endpoint_slice(slice: &Value, ctx: &Ctx) -> Vec<Value> {
    const MAX: usize = 3;
    // formatDiscoveryPorts: the port number, else its name, else `*`.
    let ports = list_at(slice, &["ports"]);
    let port_list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(
            |port| match (opt_int(port, &["port"]), opt_str(port, &["name"])) {
                (Some(number), _) => number.to_string(),
                (None, Some(port_name)) => port_name.to_owned(),
                (None, None) => "*".to_owned(),
            },
        )
        .collect();
    let ports_cell = list_with_more(&port_list, ports.len() > MAX, ports.len(), MAX);
    // formatDiscoveryEndpoints: every address of every endpoint.
    let addresses: Vec<&str> = list_at(slice, &["endpoints"])
        .iter()
        .flat_map(|endpoint| list_at(endpoint, &["addresses"]))
        .map(|address| address.as_str().unwrap_or(""))
        .collect();
    let address_list: Vec<String> = addresses
        .iter()
        .take(MAX)
        .map(|a| (*a).to_owned())
        .collect();
    let endpoints_cell = list_with_more(&address_list, addresses.len() > MAX, addresses.len(), MAX);
    vec![
        s(name(slice)),
        s(str_at(slice, &["addressType"])),
        s(ports_cell),
        s(endpoints_cell),
        creation_age(slice, ctx),
    ]
}

/// `labelNodeRolePrefix`.
const NODE_ROLE_PREFIX: &str = "node-role.kubernetes.io/";
/// `nodeLabelRole`.
const NODE_LABEL_ROLE: &str = "kubernetes.io/role";

/// `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role=<role>` values,
/// deduplicated and sorted.
fn node_roles(node: &Value) -> Vec<&str> {
    let mut roles: BTreeSet<&str> = BTreeSet::new();
    for (key, value) in string_map(node, &["metadata", "labels"]) {
        if let Some(role) = key.strip_prefix(NODE_ROLE_PREFIX) {
            if !role.is_empty() {
                roles.insert(role);
            }
        } else if key == NODE_LABEL_ROLE && !value.is_empty() {
            roles.insert(value);
        }
    }
    roles.into_iter().collect()
}

/// The first address of `address_type`, or `<none>` (`getNodeInternalIP`, `getNodeExternalIP`).
fn node_address<'a>(node: &'a Value, address_type: &str) -> &'a str {
    list_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == address_type)
        .map_or("<none>", |a| str_at(a, &["address"]))
}

/// `printNode`: Name, Status, Roles, Age, Version; wide: Internal-IP, External-IP, OS-Image,
/// Kernel-Version, Container-Runtime.
pub(crate) fn print_node(node: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut status: Vec<&str> = Vec::new();
    // Only the Ready condition counts; the last one of that type wins (a map keyed by type).
    if let Some(ready) = list_at(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready")
    {
        status.push(if str_at(ready, &["status"]) == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    }
    if status.is_empty() {
        status.push("Unknown");
    }
    if bool_at(node, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }
    let mut roles = node_roles(node).join(",");
    if roles.is_empty() {
        roles = "<none>".to_owned();
    }
    let mut cells = vec![
        s(name(node)),
        s(status.join(",")),
        s(roles),
        creation_age(node, ctx),
        s(str_at(node, &["status", "nodeInfo", "kubeletVersion"])),
    ];
    if ctx.wide {
        let info = |field: &str| {
            let value = str_at(node, &["status", "nodeInfo", field]);
            if value.is_empty() { "<unknown>" } else { value }
        };
        cells.push(s(node_address(node, "InternalIP")));
        cells.push(s(node_address(node, "ExternalIP")));
        cells.push(s(info("osImage")));
        cells.push(s(info("kernelVersion")));
        cells.push(s(info("containerRuntimeVersion")));
    }
    cells
}

/// Where an event's internal fields live in a given API version's JSON.
pub(crate) struct EventFields {
    involved_object: &'static str,
    source: &'static str,
    message: &'static str,
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    reporting_controller: &'static str,
}

impl EventFields {
    /// core/v1 `Event`.
    pub(crate) const CORE: EventFields = EventFields {
        involved_object: "involvedObject",
        source: "source",
        message: "message",
        first_timestamp: "firstTimestamp",
        last_timestamp: "lastTimestamp",
        count: "count",
        reporting_controller: "reportingComponent",
    };
    /// events.k8s.io/v1 `Event` (`Convert_v1_Event_To_core_Event`).
    pub(crate) const EVENTS_V1: EventFields = EventFields {
        involved_object: "regarding",
        source: "deprecatedSource",
        message: "note",
        first_timestamp: "deprecatedFirstTimestamp",
        last_timestamp: "deprecatedLastTimestamp",
        count: "deprecatedCount",
        reporting_controller: "reportingController",
    };
}

/// `printEvent`: Last Seen, Type, Reason, Object, Message; wide: Last Seen, Type, Reason, Object,
/// Subobject, Source, Message, First Seen, Count, Name.
pub(crate) fn print_event(fields: &EventFields, event: &Value, ctx: &Ctx) -> Vec<Value> {
    let first_timestamp = match time_at(event, &[fields.first_timestamp]) {
        Some(first) => age(Some(first), ctx.now),
        None => age(time_at(event, &["eventTime"]), ctx.now),
    };
    let mut last_timestamp = match time_at(event, &[fields.last_timestamp]) {
        Some(last) => age(Some(last), ctx.now),
        None => first_timestamp.clone(),
    };
    let mut event_count = int_at(event, &[fields.count]);
    if let Some(series) = at(event, &["series"]) {
        last_timestamp = age(time_at(series, &["lastObservedTime"]), ctx.now);
        event_count = int_at(series, &["count"]);
    } else if event_count == 0 {
        // Singleton events don't have a count set in the new API.
        event_count = 1;
    }
    let involved = at(event, &[fields.involved_object]);
    let kind = involved.map_or("", |o| str_at(o, &["kind"])).to_lowercase();
    let involved_name = involved.map_or("", |o| str_at(o, &["name"]));
    let target = if involved_name.is_empty() {
        kind
    } else {
        format!("{kind}/{involved_name}")
    };
    let message = str_at(event, &[fields.message]).trim();
    if ctx.wide {
        // formatEventSource: component (or reporting controller), then host (or reporting
        // instance) after ", " when present.
        let component = first_non_empty(
            str_at(event, &[fields.source, "component"]),
            str_at(event, &[fields.reporting_controller]),
        );
        let instance = first_non_empty(
            str_at(event, &[fields.source, "host"]),
            str_at(event, &["reportingInstance"]),
        );
        let source = if instance.is_empty() {
            component.to_owned()
        } else {
            format!("{component}, {instance}")
        };
        vec![
            s(last_timestamp),
            s(str_at(event, &["type"])),
            s(str_at(event, &["reason"])),
            s(target),
            s(involved.map_or("", |o| str_at(o, &["fieldPath"]))),
            s(source),
            s(message),
            s(first_timestamp),
            n(event_count),
            s(name(event)),
        ]
    } else {
        vec![
            s(last_timestamp),
            s(str_at(event, &["type"])),
            s(str_at(event, &["reason"])),
            s(target),
            s(message),
        ]
    }
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// `printNamespace`: Name, Status, Age.
pub(crate) fn print_namespace(ns: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(ns)),
        s(str_at(ns, &["status", "phase"])),
        creation_age(ns, ctx),
    ]
}

/// `printSecret`: Name, Type, Data (number of keys), Age.
pub(crate) fn print_secret(secret: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(secret)),
        s(str_at(secret, &["type"])),
        n(count(map_len(secret, &["data"]))),
        creation_age(secret, ctx),
    ]
}

/// `printServiceAccount`: Name, Secrets (number), Age.
pub(crate) fn print_service_account(sa: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(sa)),
        n(count(list_at(sa, &["secrets"]).len())),
        creation_age(sa, ctx),
    ]
}

/// `printConfigMap`: Name, Data (`data` plus `binaryData` keys), Age.
pub(crate) fn print_config_map(cm: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(cm)),
        n(count(map_len(cm, &["data"]) + map_len(cm, &["binaryData"]))),
        creation_age(cm, ctx),
    ]
}

/// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, deduplicated.
fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// `core.BetaStorageClassAnnotation`.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// `printPersistentVolume`: Name, Capacity, Access Modes, Reclaim Policy, Status, Claim,
/// StorageClass, VolumeAttributesClass, Reason, Age, VolumeMode (filled even without wide).
pub(crate) fn print_persistent_volume(pv: &Value, ctx: &Ctx) -> Vec<Value> {
    let claim = at(pv, &["spec", "claimRef"]).map_or_else(String::new, |claim| {
        format!(
            "{}/{}",
            str_at(claim, &["namespace"]),
            str_at(claim, &["name"])
        )
    });
    let phase = if is_deleting(pv) {
        "Terminating"
    } else {
        str_at(pv, &["status", "phase"])
    };
    let storage_class = annotation(pv, BETA_STORAGE_CLASS_ANNOTATION)
        .unwrap_or_else(|| str_at(pv, &["spec", "storageClassName"]));
    vec![
        s(name(pv)),
        s(quantity_at(pv, &["spec", "capacity", "storage"])),
        s(access_modes(list_at(pv, &["spec", "accessModes"]))),
        s(str_at(pv, &["spec", "persistentVolumeReclaimPolicy"])),
        s(phase),
        s(claim),
        s(storage_class),
        s(opt_str(pv, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>")),
        s(str_at(pv, &["status", "reason"])),
        creation_age(pv, ctx),
        s(opt_str(pv, &["spec", "volumeMode"]).unwrap_or("<unset>")),
    ]
}

/// `printPersistentVolumeClaim`: Name, Status, Volume, Capacity, Access Modes, StorageClass,
/// VolumeAttributesClass, Age, VolumeMode. Capacity and modes show only once bound to a volume.
pub(crate) fn print_persistent_volume_claim(pvc: &Value, ctx: &Ctx) -> Vec<Value> {
    let phase = if is_deleting(pvc) {
        "Terminating"
    } else {
        str_at(pvc, &["status", "phase"])
    };
    let volume_name = str_at(pvc, &["spec", "volumeName"]);
    let (capacity, modes) = if volume_name.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity_at(pvc, &["status", "capacity", "storage"]),
            access_modes(list_at(pvc, &["status", "accessModes"])),
        )
    };
    let storage_class = annotation(pvc, BETA_STORAGE_CLASS_ANNOTATION)
        .or_else(|| opt_str(pvc, &["spec", "storageClassName"]))
        .unwrap_or("");
    vec![
        s(name(pvc)),
        s(phase),
        s(volume_name),
        s(capacity),
        s(modes),
        s(storage_class),
        s(opt_str(pvc, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>")),
        creation_age(pvc, ctx),
        s(opt_str(pvc, &["spec", "volumeMode"]).unwrap_or("<unset>")),
    ]
}

/// `printResourceQuota`: Name, Request and Limit (`resource: used/hard` for every hard limit,
/// sorted by name; `limits.*` go to Limit), Age.
pub(crate) fn print_resource_quota(quota: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut requests: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    let mut resources: Vec<&String> = at(quota, &["status", "hard"])
        .and_then(Value::as_object)
        .map(|hard| hard.keys().collect())
        .unwrap_or_default();
    // SortableResourceNames: plain string order, whatever order the map iterates in.
    resources.sort();
    for resource in resources {
        let entry = format!(
            "{resource}: {}/{}",
            quantity_at(quota, &["status", "used", resource]),
            quantity_at(quota, &["status", "hard", resource])
        );
        let mut pieces = resource.split('.');
        let is_limit = pieces.next() == Some("limits") && pieces.next().is_some();
        if is_limit {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        s(name(quota)),
        s(requests.join(", ")),
        s(limits.join(", ")),
        creation_age(quota, ctx),
    ]
}
