//! Server-side Table output: kubectl's columns for every built-in resource, computed from stored JSON. No I/O.
//!
//! `kubectl get` asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints the
//! columns the server sends. This crate ports the Kubernetes 1.34 printers
//! (`pkg/printers/internalversion/printers.go`: `AddHandlers` column definitions and each
//! `print<Kind>` function) to work on objects as served (v1 JSON as `serde_json::Value`), and the
//! generic `DefaultTableConvertor` (`staging/src/k8s.io/apiserver/pkg/registry/rest/table.go`) for
//! every other resource.
//!
//! Like the real API server (`pkg/printers/storage/storage.go` passes `GenerateOptions{Wide: true}`),
//! [`row_cells`] always produces every column, including the priority-1 (`-o wide`) ones; kubectl
//! hides those unless asked. The caller wraps rows into a `meta.k8s.io/v1` `Table` and adds each
//! row's `object` (usually `PartialObjectMetadata`).
//!
//! Everything is pure: the current time is an argument, so ages are deterministic under virtual time.

mod columns;
mod descriptions;
pub mod duration;
mod format;
mod printers;
mod value;

use jiff::Timestamp;
use serde_json::{Value, json};

/// One `meta.k8s.io/v1` `TableColumnDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Human-readable column name (kubectl upper-cases it for the header).
    pub name: &'static str,
    /// OpenAPI type: `string`, `integer`, `boolean`, `date`, ….
    pub type_: &'static str,
    /// OpenAPI format modifier; `name` marks the column holding the object name.
    pub format: &'static str,
    /// Description, as the upstream server sends it.
    pub description: &'static str,
    /// 0 for default columns, 1 for those kubectl shows only with `-o wide`.
    pub priority: i32,
}

impl Column {
    /// The column as upstream serializes it (every field present, no `omitempty`).
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// Why a row could not be printed. Upstream returns such errors from `ConvertToTable`, which the
/// API server reports as an internal error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// A ControllerRevision's controller owner reference has an unparseable `apiVersion`
    /// (`schema.ParseGroupVersion`).
    #[error("unexpected GroupVersion string: {0}")]
    GroupVersion(String),
}

/// Options of one printer call (`printers.GenerateOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Produce the `-o wide` cells too. The API server always sets this.
    pub wide: bool,
}

/// Which printer handles a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Printer {
    Pod,
    PodTemplate,
    PodDisruptionBudget,
    ReplicationController,
    ReplicaSet,
    DaemonSet,
    Job,
    CronJob,
    Service,
    Ingress,
    IngressClass,
    StatefulSet,
    Endpoints,
    Node,
    CoreEvent,
    EventsEvent,
    Namespace,
    Secret,
    ServiceAccount,
    PersistentVolume,
    PersistentVolumeClaim,
    Deployment,
    HorizontalPodAutoscaler,
    ConfigMap,
    NetworkPolicy,
    RoleBinding,
    ClusterRoleBinding,
    Lease,
    StorageClass,
    ControllerRevision,
    ResourceQuota,
    PriorityClass,
    RuntimeClass,
    VolumeAttachment,
    EndpointSlice,
    CsiNode,
    CsiDriver,
    ComponentStatus,
    WebhookConfiguration,
    CertificateSigningRequest,
    FlowSchema,
    PriorityLevelConfiguration,
    VolumeAttributesClass,
    CsiStorageCapacity,
    ServiceCidr,
    IpAddress,
    Default,
}

/// The printer upstream registers for `group`/`resource` (the core group is `""`). Resources
/// without one (Role, ClusterRole, LimitRange, CRDs, …) get the default table.
pub(crate) fn printer_for(group: &str, resource: &str) -> Printer {
    use Printer as P;
    match (group, resource) {
        ("", "pods") => P::Pod,
        ("", "podtemplates") => P::PodTemplate,
        ("", "replicationcontrollers") => P::ReplicationController,
        ("", "services") => P::Service,
        ("", "endpoints") => P::Endpoints,
        ("", "nodes") => P::Node,
        ("", "events") => P::CoreEvent,
        ("", "namespaces") => P::Namespace,
        ("", "secrets") => P::Secret,
        ("", "serviceaccounts") => P::ServiceAccount,
        ("", "persistentvolumes") => P::PersistentVolume,
        ("", "persistentvolumeclaims") => P::PersistentVolumeClaim,
        ("", "configmaps") => P::ConfigMap,
        ("", "resourcequotas") => P::ResourceQuota,
        ("events.k8s.io", "events") => P::EventsEvent,
        ("policy", "poddisruptionbudgets") => P::PodDisruptionBudget,
        ("apps", "replicasets") => P::ReplicaSet,
        ("apps", "daemonsets") => P::DaemonSet,
        ("apps", "statefulsets") => P::StatefulSet,
        ("apps", "deployments") => P::Deployment,
        ("apps", "controllerrevisions") => P::ControllerRevision,
        ("batch", "jobs") => P::Job,
        ("batch", "cronjobs") => P::CronJob,
        ("networking.k8s.io", "ingresses") => P::Ingress,
        ("networking.k8s.io", "ingressclasses") => P::IngressClass,
        ("networking.k8s.io", "networkpolicies") => P::NetworkPolicy,
        ("autoscaling", "horizontalpodautoscalers") => P::HorizontalPodAutoscaler,
        ("rbac.authorization.k8s.io", "rolebindings") => P::RoleBinding,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => P::ClusterRoleBinding,
        ("coordination.k8s.io", "leases") => P::Lease,
        ("storage.k8s.io", "storageclasses") => P::StorageClass,
        ("storage.k8s.io", "volumeattachments") => P::VolumeAttachment,
        ("storage.k8s.io", "csinodes") => P::CsiNode,
        ("storage.k8s.io", "csidrivers") => P::CsiDriver,
        ("scheduling.k8s.io", "priorityclasses") => P::PriorityClass,
        ("node.k8s.io", "runtimeclasses") => P::RuntimeClass,
        ("discovery.k8s.io", "endpointslices") => P::EndpointSlice,
        ("", "componentstatuses") => P::ComponentStatus,
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
        | ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            P::WebhookConfiguration
        }
        ("certificates.k8s.io", "certificatesigningrequests") => P::CertificateSigningRequest,
        ("flowcontrol.apiserver.k8s.io", "flowschemas") => P::FlowSchema,
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => {
            P::PriorityLevelConfiguration
        }
        ("storage.k8s.io", "volumeattributesclasses") => P::VolumeAttributesClass,
        ("storage.k8s.io", "csistoragecapacities") => P::CsiStorageCapacity,
        ("networking.k8s.io", "servicecidrs") => P::ServiceCidr,
        ("networking.k8s.io", "ipaddresses") => P::IpAddress,
        _ => P::Default,
    }
}

/// Whether `group`/`resource` has a dedicated printer (otherwise it gets Name + Created At).
pub fn has_printer(group: &str, resource: &str) -> bool {
    printer_for(group, resource) != Printer::Default
}

/// The column definitions for `group`/`resource` (the core group is `""`); the default table's
/// `Name`/`Created At` for anything without a printer.
pub fn column_definitions(group: &str, resource: &str) -> &'static [Column] {
    use Printer as P;
    match printer_for(group, resource) {
        P::Pod => columns::POD,
        P::PodTemplate => columns::POD_TEMPLATE,
        P::PodDisruptionBudget => columns::POD_DISRUPTION_BUDGET,
        P::ReplicationController => columns::REPLICATION_CONTROLLER,
        P::ReplicaSet => columns::REPLICA_SET,
        P::DaemonSet => columns::DAEMON_SET,
        P::Job => columns::JOB,
        P::CronJob => columns::CRON_JOB,
        P::Service => columns::SERVICE,
        P::Ingress => columns::INGRESS,
        P::IngressClass => columns::INGRESS_CLASS,
        P::StatefulSet => columns::STATEFUL_SET,
        P::Endpoints => columns::ENDPOINTS,
        P::Node => columns::NODE,
        P::CoreEvent | P::EventsEvent => columns::EVENT,
        P::Namespace => columns::NAMESPACE,
        P::Secret => columns::SECRET,
        P::ServiceAccount => columns::SERVICE_ACCOUNT,
        P::PersistentVolume => columns::PERSISTENT_VOLUME,
        P::PersistentVolumeClaim => columns::PERSISTENT_VOLUME_CLAIM,
        P::Deployment => columns::DEPLOYMENT,
        P::HorizontalPodAutoscaler => columns::HORIZONTAL_POD_AUTOSCALER,
        P::ConfigMap => columns::CONFIG_MAP,
        P::NetworkPolicy => columns::NETWORK_POLICY,
        P::RoleBinding => columns::ROLE_BINDING,
        P::ClusterRoleBinding => columns::CLUSTER_ROLE_BINDING,
        P::Lease => columns::LEASE,
        P::StorageClass => columns::STORAGE_CLASS,
        P::ControllerRevision => columns::CONTROLLER_REVISION,
        P::ResourceQuota => columns::RESOURCE_QUOTA,
        P::PriorityClass => columns::PRIORITY_CLASS,
        P::RuntimeClass => columns::RUNTIME_CLASS,
        P::VolumeAttachment => columns::VOLUME_ATTACHMENT,
        P::EndpointSlice => columns::ENDPOINT_SLICE,
        P::CsiNode => columns::CSI_NODE,
        P::CsiDriver => columns::CSI_DRIVER,
        P::ComponentStatus => columns::COMPONENT_STATUS,
        P::WebhookConfiguration => columns::WEBHOOK_CONFIGURATION,
        P::CertificateSigningRequest => columns::CERTIFICATE_SIGNING_REQUEST,
        P::FlowSchema => columns::FLOW_SCHEMA,
        P::PriorityLevelConfiguration => columns::PRIORITY_LEVEL_CONFIGURATION,
        P::VolumeAttributesClass => columns::VOLUME_ATTRIBUTES_CLASS,
        P::CsiStorageCapacity => columns::CSI_STORAGE_CAPACITY,
        P::ServiceCidr => columns::SERVICE_CIDR,
        P::IpAddress => columns::IP_ADDRESS,
        P::Default => columns::DEFAULT,
    }
}

/// The `columnDefinitions` array of a Table for `group`/`resource`, as upstream serializes it.
pub fn column_definitions_json(group: &str, resource: &str) -> Value {
    Value::Array(
        column_definitions(group, resource)
            .iter()
            .map(Column::to_json)
            .collect(),
    )
}

/// The cells of one row, every column included (the server's `-o wide` set), for the object `obj`
/// of `group`/`resource` at time `now`.
pub fn row_cells(
    group: &str,
    resource: &str,
    obj: &Value,
    now: Timestamp,
) -> Result<Vec<Value>, TableError> {
    row_cells_with_options(group, resource, obj, now, GenerateOptions { wide: true })
}

/// [`row_cells`] with explicit [`GenerateOptions`]; without `wide` the cells stop at the last
/// priority-0 column, as upstream's printers do when called directly.
pub fn row_cells_with_options(
    group: &str,
    resource: &str,
    obj: &Value,
    now: Timestamp,
    options: GenerateOptions,
) -> Result<Vec<Value>, TableError> {
    let ctx = printers::Ctx {
        now,
        wide: options.wide,
    };
    printers::print(printer_for(group, resource), obj, &ctx)
}

/// The row `conditions` upstream attaches (`metav1.TableRowCondition`s), if any: pods that
/// Succeeded or Failed carry a `Completed` condition. Serialized as upstream does (`reason` and
/// `message` omitted when empty).
pub fn row_conditions(group: &str, resource: &str, obj: &Value) -> Option<Value> {
    match printer_for(group, resource) {
        Printer::Pod => printers::pod::row_conditions(obj),
        _ => None,
    }
}

/// One `TableRow` without its `object`: `{"cells": [...]}` plus `conditions` when upstream sets any.
pub fn table_row(
    group: &str,
    resource: &str,
    obj: &Value,
    now: Timestamp,
) -> Result<Value, TableError> {
    let cells = row_cells(group, resource, obj, now)?;
    let mut row = json!({ "cells": cells });
    if let (Some(conditions), Some(map)) =
        (row_conditions(group, resource, obj), row.as_object_mut())
    {
        map.insert("conditions".to_owned(), conditions);
    }
    Ok(row)
}
