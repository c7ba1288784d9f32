//! The per-kind printers: each turns one stored object into the cells of its row.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (Kubernetes 1.34). Each function names the
//! `print<Kind>` it ports. Internal-type fields are read from their v1 JSON names; where v1
//! defaulting would have filled a field the stored object lacks, the default is applied so the cell
//! reads as it would from a real server.

pub(crate) mod cluster;
pub(crate) mod core;
pub(crate) mod extra;
pub(crate) mod pod;
pub(crate) mod workloads;

use jiff::Timestamp;
use serde_json::Value;

use crate::{Printer, TableError};

/// What every printer needs besides the object.
pub(crate) struct Ctx {
    /// The time ages are measured against (`time.Now()` upstream).
    pub(crate) now: Timestamp,
    /// `GenerateOptions.Wide`.
    pub(crate) wide: bool,
}

/// Runs the printer for `printer` on `obj`.
pub(crate) fn print(printer: Printer, obj: &Value, ctx: &Ctx) -> Result<Vec<Value>, TableError> {
    use Printer as P;
    Ok(match printer {
        P::Pod => pod::print_pod(obj, ctx),
        P::PodTemplate => pod::print_pod_template(obj),
        P::PodDisruptionBudget => workloads::print_pod_disruption_budget(obj, ctx),
        P::ReplicationController => workloads::print_replication_controller(obj, ctx),
        P::ReplicaSet => workloads::print_replica_set(obj, ctx),
        P::DaemonSet => workloads::print_daemon_set(obj, ctx),
        P::Job => workloads::print_job(obj, ctx),
        P::CronJob => workloads::print_cron_job(obj, ctx),
        P::StatefulSet => workloads::print_stateful_set(obj, ctx),
        P::Deployment => workloads::print_deployment(obj, ctx),
        P::HorizontalPodAutoscaler => workloads::print_horizontal_pod_autoscaler(obj, ctx),
        P::ControllerRevision => return workloads::print_controller_revision(obj, ctx),
        P::Service => core::print_service(obj, ctx),
        P::Endpoints => core::print_endpoints(obj, ctx),
        P::EndpointSlice => core::print_endpoint_slice(obj, ctx),
        P::Node => core::print_node(obj, ctx),
        P::CoreEvent => core::print_event(&core::EventFields::CORE, obj, ctx),
        P::EventsEvent => core::print_event(&core::EventFields::EVENTS_V1, obj, ctx),
        P::Namespace => core::print_namespace(obj, ctx),
        P::Secret => core::print_secret(obj, ctx),
        P::ServiceAccount => core::print_service_account(obj, ctx),
        P::ConfigMap => core::print_config_map(obj, ctx),
        P::PersistentVolume => core::print_persistent_volume(obj, ctx),
        P::PersistentVolumeClaim => core::print_persistent_volume_claim(obj, ctx),
        P::ResourceQuota => core::print_resource_quota(obj, ctx),
        P::Ingress => cluster::print_ingress(obj, ctx),
        P::IngressClass => cluster::print_ingress_class(obj, ctx),
        P::NetworkPolicy => cluster::print_network_policy(obj, ctx),
        P::RoleBinding | P::ClusterRoleBinding => cluster::print_role_binding(obj, ctx),
        P::Lease => cluster::print_lease(obj, ctx),
        P::StorageClass => cluster::print_storage_class(obj, ctx),
        P::PriorityClass => cluster::print_priority_class(obj, ctx),
        P::RuntimeClass => cluster::print_runtime_class(obj, ctx),
        P::VolumeAttachment => cluster::print_volume_attachment(obj, ctx),
        P::CsiNode => cluster::print_csi_node(obj, ctx),
        P::CsiDriver => cluster::print_csi_driver(obj, ctx),
        P::ComponentStatus => extra::print_component_status(obj),
        P::WebhookConfiguration => extra::print_webhook_configuration(obj, ctx),
        P::CertificateSigningRequest => extra::print_certificate_signing_request(obj, ctx),
        P::FlowSchema => extra::print_flow_schema(obj, ctx),
        P::PriorityLevelConfiguration => extra::print_priority_level_configuration(obj, ctx),
        P::VolumeAttributesClass => extra::print_volume_attributes_class(obj, ctx),
        P::CsiStorageCapacity => extra::print_csi_storage_capacity(obj),
        P::ServiceCidr => extra::print_service_cidr(obj, ctx),
        P::IpAddress => extra::print_ip_address(obj, ctx),
        P::Default => cluster::print_default(obj),
    })
}

/// A string cell.
pub(crate) fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

/// An integer cell (Go `int64`).
pub(crate) fn n(number: i64) -> Value {
    Value::from(number)
}

/// A boolean cell.
pub(crate) fn b(flag: bool) -> Value {
    Value::Bool(flag)
}
