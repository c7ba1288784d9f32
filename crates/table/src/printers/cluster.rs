//! Networking, RBAC, storage, scheduling and coordination resources, and the default table.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`printIngress`, `formatHosts`,
//! `formatPorts`, `printIngressClass`, `printNetworkPolicy`, `printRoleBinding`,
//! `printClusterRoleBinding`, `printLease`, `printStorageClass`, `printPriorityClass`,
//! `printRuntimeClass`, `printVolumeAttachment`, `printCSINode`, `printCSIDriver`);
//! `pkg/apis/rbac/helpers.go` `SubjectsStrings`; `pkg/apis/storage/util/helpers.go`
//! `IsDefaultAnnotation`; `staging/src/k8s.io/apiserver/pkg/registry/rest/table.go`
//! `defaultTableConvertor`.

use serde_json::Value;

use super::core::load_balancer_status;
use super::{Ctx, b, n, s};
use crate::format::{age, count, format_label_selector};
use crate::value::{
    annotation, at, bool_at, go_zero_time, int_at, list_at, name, opt_bool, opt_str, str_at,
    time_at,
};

fn creation_age(obj: &Value, ctx: &Ctx) -> Value {
    s(age(
        time_at(obj, &["metadata", "creationTimestamp"]),
        ctx.now,
    ))
}

/// `formatHosts`: up to three non-empty rule hosts, ` + N more...` counting all rules past three,
/// `*` when none.
fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_owned();
    }
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", rules.len().saturating_sub(MAX));
    }
    joined
}

/// `printIngress`: Name, Class, Hosts, Address, Ports (`80` or `80, 443` with TLS), Age.
pub(crate) fn print_ingress(ingress: &Value, ctx: &Ctx) -> Vec<Value> {
    let class = opt_str(ingress, &["spec", "ingressClassName"]).unwrap_or("<none>");
    let ports = if list_at(ingress, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        s(name(ingress)),
        s(class),
        s(format_hosts(list_at(ingress, &["spec", "rules"]))),
        s(load_balancer_status(
            list_at(ingress, &["status", "loadBalancer", "ingress"]),
            ctx.wide,
        )),
        s(ports),
        creation_age(ingress, ctx),
    ]
}

/// `printIngressClass`: Name, Controller, Parameters (`Kind[.apiGroup]/name` or `<none>`), Age.
pub(crate) fn print_ingress_class(class: &Value, ctx: &Ctx) -> Vec<Value> {
    let parameters = at(class, &["spec", "parameters"]).map_or_else(
        || "<none>".to_owned(),
        |params| {
            let mut text = str_at(params, &["kind"]).to_owned();
            if let Some(group) = opt_str(params, &["apiGroup"]) {
                text.push('.');
                text.push_str(group);
            }
            text.push('/');
            text.push_str(str_at(params, &["name"]));
            text
        },
    );
    vec![
        s(name(class)),
        s(str_at(class, &["spec", "controller"])),
        s(parameters),
        creation_age(class, ctx),
    ]
}

/// `printNetworkPolicy`: Name, Pod-Selector, Age.
pub(crate) fn print_network_policy(policy: &Value, ctx: &Ctx) -> Vec<Value> {
    // The pod selector is a struct, not a pointer: a missing one is the empty (match-all) selector.
    let empty = Value::Object(serde_json::Map::new());
    let selector = at(policy, &["spec", "podSelector"]).unwrap_or(&empty);
    vec![
        s(name(policy)),
        s(format_label_selector(Some(selector))),
        creation_age(policy, ctx),
    ]
}

/// `printRoleBinding` / `printClusterRoleBinding`: Name, Role (`Kind/name`), Age; wide: Users,
/// Groups, ServiceAccounts (`namespace/name`), each joined with `, `.
pub(crate) fn print_role_binding(binding: &Value, ctx: &Ctx) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        str_at(binding, &["roleRef", "kind"]),
        str_at(binding, &["roleRef", "name"])
    );
    let mut cells = vec![s(name(binding)), s(role), creation_age(binding, ctx)];
    if ctx.wide {
        let mut users: Vec<String> = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        let mut service_accounts: Vec<String> = Vec::new();
        for subject in list_at(binding, &["subjects"]) {
            let subject_name = str_at(subject, &["name"]);
            match str_at(subject, &["kind"]) {
                "ServiceAccount" => service_accounts.push(format!(
                    "{}/{subject_name}",
                    str_at(subject, &["namespace"])
                )),
                "User" => users.push(subject_name.to_owned()),
                "Group" => groups.push(subject_name.to_owned()),
                _ => {}
            }
        }
        cells.push(s(users.join(", ")));
        cells.push(s(groups.join(", ")));
        cells.push(s(service_accounts.join(", ")));
    }
    cells
}

/// `printLease`: Name, Holder, Age.
pub(crate) fn print_lease(lease: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(lease)),
        s(str_at(lease, &["spec", "holderIdentity"])),
        creation_age(lease, ctx),
    ]
}

/// `storageutil.IsDefaultAnnotation`: the GA or beta default-class annotation set to `true`.
fn is_default_storage_class(obj: &Value) -> bool {
    annotation(obj, "storageclass.kubernetes.io/is-default-class") == Some("true")
        || annotation(obj, "storageclass.beta.kubernetes.io/is-default-class") == Some("true")
}

/// `printStorageClass`: Name (` (default)` suffix), Provisioner, ReclaimPolicy (default Delete),
/// VolumeBindingMode (default Immediate), AllowVolumeExpansion (a boolean), Age.
pub(crate) fn print_storage_class(class: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut class_name = name(class).to_owned();
    if is_default_storage_class(class) {
        class_name.push_str(" (default)");
    }
    vec![
        s(class_name),
        s(str_at(class, &["provisioner"])),
        s(opt_str(class, &["reclaimPolicy"]).unwrap_or("Delete")),
        s(opt_str(class, &["volumeBindingMode"]).unwrap_or("Immediate")),
        b(bool_at(class, &["allowVolumeExpansion"])),
        creation_age(class, ctx),
    ]
}

/// `printPriorityClass`: Name, Value, Global-Default, Age; wide: PreemptionPolicy (`""` if unset).
pub(crate) fn print_priority_class(class: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut cells = vec![
        s(name(class)),
        n(int_at(class, &["value"])),
        b(bool_at(class, &["globalDefault"])),
        creation_age(class, ctx),
    ];
    if ctx.wide {
        cells.push(s(str_at(class, &["preemptionPolicy"])));
    }
    cells
}

/// `printRuntimeClass`: Name, Handler, Age.
pub(crate) fn print_runtime_class(class: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(class)),
        s(str_at(class, &["handler"])),
        creation_age(class, ctx),
    ]
}

/// `printVolumeAttachment`: Name, Attacher, PV, Node, Attached (a boolean), Age.
pub(crate) fn print_volume_attachment(attachment: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(attachment)),
        s(str_at(attachment, &["spec", "attacher"])),
        s(str_at(
            attachment,
            &["spec", "source", "persistentVolumeName"],
        )),
        s(str_at(attachment, &["spec", "nodeName"])),
        b(bool_at(attachment, &["status", "attached"])),
        creation_age(attachment, ctx),
    ]
}

/// `printCSINode`: Name, Drivers (number), Age.
pub(crate) fn print_csi_node(node: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(node)),
        n(count(list_at(node, &["spec", "drivers"]).len())),
        creation_age(node, ctx),
    ]
}

/// `printCSIDriver`: Name, AttachRequired (default true), PodInfoOnMount, StorageCapacity,
/// TokenRequests (audiences or `<unset>`), RequiresRepublish, Modes (or `<none>`), Age.
pub(crate) fn print_csi_driver(driver: &Value, ctx: &Ctx) -> Vec<Value> {
    let modes: Vec<&str> = list_at(driver, &["spec", "volumeLifecycleModes"])
        .iter()
        .map(|m| m.as_str().unwrap_or(""))
        .collect();
    let modes = if modes.is_empty() {
        "<none>".to_owned()
    } else {
        modes.join(",")
    };
    let token_requests = at(driver, &["spec", "tokenRequests"]).map_or_else(
        || "<unset>".to_owned(),
        |requests| {
            requests
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|t| str_at(t, &["audience"]))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default()
        },
    );
    vec![
        s(name(driver)),
        b(opt_bool(driver, &["spec", "attachRequired"]).unwrap_or(true)),
        b(bool_at(driver, &["spec", "podInfoOnMount"])),
        b(bool_at(driver, &["spec", "storageCapacity"])),
        s(token_requests),
        b(bool_at(driver, &["spec", "requiresRepublish"])),
        s(modes),
        creation_age(driver, ctx),
    ]
}

/// `defaultTableConvertor`: Name, Created At (RFC 3339 in UTC, Go's zero time when unset).
pub(crate) fn print_default(obj: &Value) -> Vec<Value> {
    let created = time_at(obj, &["metadata", "creationTimestamp"]).unwrap_or_else(go_zero_time);
    vec![
        s(name(obj)),
        s(created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
    ]
}
