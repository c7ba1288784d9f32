//! Further built-in resources with upstream printers: ComponentStatus, webhook configurations,
//! CertificateSigningRequest, FlowSchema, PriorityLevelConfiguration, VolumeAttributesClass,
//! CSIStorageCapacity, ServiceCIDR, IPAddress.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`printComponentStatus`,
//! `printMutatingWebhook`, `printValidatingWebhook`, `printCertificateSigningRequest`,
//! `extractCSRStatus`, `printFlowSchema`, `printPriorityLevelConfiguration`,
//! `printVolumeAttributesClass`, `printCSIStorageCapacity`, `printServiceCIDR`, `printIPAddress`);
//! `pkg/apis/flowcontrol/v1/defaults.go` for the priority-level defaults.

use serde_json::Value;

use super::{Ctx, n, s};
use crate::duration::human_duration;
use crate::format::{age, count};
use crate::value::{at, int_at, list_at, name, opt_int, opt_str, str_at, time_at};

fn creation_age(obj: &Value, ctx: &Ctx) -> Value {
    s(age(
        time_at(obj, &["metadata", "creationTimestamp"]),
        ctx.now,
    ))
}

/// `printComponentStatus`: Name, Status (`Healthy`/`Unhealthy` from the first `Healthy`
/// condition, else `Unknown`), Message, Error.
pub(crate) fn print_component_status(cs: &Value) -> Vec<Value> {
    let healthy = list_at(cs, &["conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Healthy");
    let (status, message, error) = match healthy {
        Some(c) => (
            if str_at(c, &["status"]) == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            str_at(c, &["message"]),
            str_at(c, &["error"]),
        ),
        None => ("Unknown", "", ""),
    };
    vec![s(name(cs)), s(status), s(message), s(error)]
}

/// `printMutatingWebhook` / `printValidatingWebhook`: Name, Webhooks (number), Age.
pub(crate) fn print_webhook_configuration(config: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(config)),
        n(count(list_at(config, &["webhooks"]).len())),
        creation_age(config, ctx),
    ]
}

/// `extractCSRStatus`: Denied over Approved over Pending, then `,Failed` and `,Issued`.
fn csr_status(csr: &Value) -> String {
    let conditions = list_at(csr, &["status", "conditions"]);
    let has = |kind: &str| conditions.iter().any(|c| str_at(c, &["type"]) == kind);
    let mut status = if has("Denied") {
        "Denied".to_owned()
    } else if has("Approved") {
        "Approved".to_owned()
    } else {
        "Pending".to_owned()
    };
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !str_at(csr, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

/// `printCertificateSigningRequest`: Name, Age, SignerName, Requestor (the username),
/// RequestedDuration, Condition.
pub(crate) fn print_certificate_signing_request(csr: &Value, ctx: &Ctx) -> Vec<Value> {
    let signer = opt_str(csr, &["spec", "signerName"])
        .filter(|s| !s.is_empty())
        .unwrap_or("<none>");
    // csr.ExpirationSecondsToDuration: whole seconds.
    let requested = opt_int(csr, &["spec", "expirationSeconds"]).map_or_else(
        || "<none>".to_owned(),
        |seconds| human_duration(seconds.saturating_mul(1_000_000_000)),
    );
    vec![
        s(name(csr)),
        creation_age(csr, ctx),
        s(signer),
        s(str_at(csr, &["spec", "username"])),
        s(requested),
        s(csr_status(csr)),
    ]
}

/// `printFlowSchema`: Name, PriorityLevel, MatchingPrecedence (a number), DistinguisherMethod,
/// Age, MissingPL (the `Dangling` condition's status, `?` without one).
pub(crate) fn print_flow_schema(schema: &Value, ctx: &Ctx) -> Vec<Value> {
    let distinguisher =
        at(schema, &["spec", "distinguisherMethod"]).map_or("<none>", |m| str_at(m, &["type"]));
    let missing = list_at(schema, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Dangling")
        .map_or("?", |c| str_at(c, &["status"]));
    vec![
        s(name(schema)),
        s(str_at(
            schema,
            &["spec", "priorityLevelConfiguration", "name"],
        )),
        n(int_at(schema, &["spec", "matchingPrecedence"])),
        s(distinguisher),
        creation_age(schema, ctx),
        s(missing),
    ]
}

/// `printPriorityLevelConfiguration`: Name, Type, NominalConcurrencyShares, Queues, HandSize,
/// QueueLengthLimit (numbers, `<none>` for exempt or unqueued levels), Age. Unset values take
/// the flowcontrol/v1 defaults (30 shares; 64 queues, hand size 8, queue length 50).
pub(crate) fn print_priority_level_configuration(level: &Value, ctx: &Ctx) -> Vec<Value> {
    let none = || s("<none>");
    let (mut shares, mut queues, mut hand_size, mut queue_length) =
        (none(), none(), none(), none());
    if let Some(limited) = at(level, &["spec", "limited"]) {
        shares = n(opt_int(limited, &["nominalConcurrencyShares"]).unwrap_or(30));
        if let Some(queuing) = at(limited, &["limitResponse", "queuing"]) {
            let defaulted = |field: &str, default: i64| {
                n(opt_int(queuing, &[field])
                    .filter(|v| *v != 0)
                    .unwrap_or(default))
            };
            queues = defaulted("queues", 64);
            hand_size = defaulted("handSize", 8);
            queue_length = defaulted("queueLengthLimit", 50);
        }
    }
    vec![
        s(name(level)),
        s(str_at(level, &["spec", "type"])),
        shares,
        queues,
        hand_size,
        queue_length,
        creation_age(level, ctx),
    ]
}

/// `printVolumeAttributesClass`: Name, DriverName, Age.
pub(crate) fn print_volume_attributes_class(class: &Value, ctx: &Ctx) -> Vec<Value> {
    vec![
        s(name(class)),
        s(str_at(class, &["driverName"])),
        creation_age(class, ctx),
    ]
}

/// `printCSIStorageCapacity`: Name, StorageClassName, Capacity (`<unset>` when absent).
pub(crate) fn print_csi_storage_capacity(capacity: &Value) -> Vec<Value> {
    let amount = match at(capacity, &["capacity"]) {
        Some(Value::String(q)) => q.clone(),
        Some(Value::Number(q)) => q.to_string(),
        _ => "<unset>".to_owned(),
    };
    vec![
        s(name(capacity)),
        s(str_at(capacity, &["storageClassName"])),
        s(amount),
    ]
}

/// `printServiceCIDR`: Name, CIDRs (comma-joined), Age.
pub(crate) fn print_service_cidr(cidr: &Value, ctx: &Ctx) -> Vec<Value> {
    let cidrs: Vec<&str> = list_at(cidr, &["spec", "cidrs"])
        .iter()
        .map(|c| c.as_str().unwrap_or(""))
        .collect();
    vec![s(name(cidr)), s(cidrs.join(",")), creation_age(cidr, ctx)]
}

/// `printIPAddress`: Name, ParentRef (`resource.group[/namespace]/name`, lower-cased group
/// resource, or `<none>`), and the age although no column declares it.
pub(crate) fn print_ip_address(ip: &Value, ctx: &Ctx) -> Vec<Value> {
    let parent = at(ip, &["spec", "parentRef"]).map_or_else(
        || "<none>".to_owned(),
        |parent| {
            let group = str_at(parent, &["group"]);
            let resource = str_at(parent, &["resource"]);
            // schema.GroupResource.String(): `resource` or `resource.group`.
            let mut text = if group.is_empty() {
                resource.to_lowercase()
            } else {
                format!("{resource}.{group}").to_lowercase()
            };
            let namespace = str_at(parent, &["namespace"]);
            if !namespace.is_empty() {
                text.push('/');
                text.push_str(namespace);
            }
            text.push('/');
            text.push_str(str_at(parent, &["name"]));
            text
        },
    );
    vec![s(name(ip)), s(parent), creation_age(ip, ctx)]
}
