//! Column definitions per printer, in upstream order.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` `AddHandlers` (Kubernetes 1.34). Columns
//! with priority 1 are the `-o wide` ones; the server always sends them all.

use crate::Column;
use crate::descriptions as d;

/// A column with no format and priority 0.
const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A wide-only (priority 1) column.
const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 1,
    }
}

/// The `Name` column every printer starts with.
const NAME: Column = Column {
    name: "Name",
    type_: "string",
    format: "name",
    description: d::META_NAME,
    priority: 0,
};

const AGE: Column = col("Age", "string", d::META_CREATION_TIMESTAMP);
const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

/// `apiserver/pkg/registry/rest/table.go` `DefaultTableConvertor`.
pub(crate) static DEFAULT: &[Column] =
    &[NAME, col("Created At", "date", d::META_CREATION_TIMESTAMP)];

pub(crate) static POD: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide("IP", "string", d::POD_STATUS_POD_IP),
    wide("Node", "string", d::POD_SPEC_NODE_NAME),
    wide(
        "Nominated Node",
        "string",
        d::POD_STATUS_NOMINATED_NODE_NAME,
    ),
    wide("Readiness Gates", "string", d::POD_SPEC_READINESS_GATES),
];

pub(crate) static POD_TEMPLATE: &[Column] = &[
    NAME,
    col(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    col(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    col("Pod Labels", "string", "The labels for the pod template."),
];

pub(crate) static POD_DISRUPTION_BUDGET: &[Column] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

pub(crate) static REPLICATION_CONTROLLER: &[Column] = &[
    NAME,
    col("Desired", "integer", d::RC_SPEC_REPLICAS),
    col("Current", "integer", d::RC_STATUS_REPLICAS),
    col("Ready", "integer", d::RC_STATUS_READY_REPLICAS),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", d::RC_SPEC_SELECTOR),
];

pub(crate) static REPLICA_SET: &[Column] = &[
    NAME,
    col("Desired", "integer", d::EXT_RS_SPEC_REPLICAS),
    col("Current", "integer", d::EXT_RS_STATUS_REPLICAS),
    col("Ready", "integer", d::EXT_RS_STATUS_READY_REPLICAS),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", d::EXT_RS_SPEC_SELECTOR),
];

pub(crate) static DAEMON_SET: &[Column] = &[
    NAME,
    col("Desired", "integer", d::EXT_DS_STATUS_DESIRED),
    col("Current", "integer", d::EXT_DS_STATUS_CURRENT),
    col("Ready", "integer", d::EXT_DS_STATUS_READY),
    col("Up-to-date", "integer", d::EXT_DS_STATUS_UPDATED),
    col("Available", "integer", d::EXT_DS_STATUS_AVAILABLE),
    col("Node Selector", "string", d::POD_SPEC_NODE_SELECTOR),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", d::EXT_DS_SPEC_SELECTOR),
];

pub(crate) static JOB: &[Column] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col("Completions", "string", d::JOB_STATUS_SUCCEEDED),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", d::JOB_SPEC_SELECTOR),
];

pub(crate) static CRON_JOB: &[Column] = &[
    NAME,
    col("Schedule", "string", d::CRONJOB_SPEC_SCHEDULE),
    col("Timezone", "string", d::CRONJOB_SPEC_TIME_ZONE),
    col("Suspend", "boolean", d::CRONJOB_SPEC_SUSPEND),
    col("Active", "integer", d::CRONJOB_STATUS_ACTIVE),
    col(
        "Last Schedule",
        "string",
        d::CRONJOB_STATUS_LAST_SCHEDULE_TIME,
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", d::JOB_SPEC_SELECTOR),
];

pub(crate) static SERVICE: &[Column] = &[
    NAME,
    col("Type", "string", d::SERVICE_SPEC_TYPE),
    col("Cluster-IP", "string", d::SERVICE_SPEC_CLUSTER_IP),
    col("External-IP", "string", d::SERVICE_SPEC_EXTERNAL_IPS),
    col("Port(s)", "string", d::SERVICE_SPEC_PORTS),
    AGE,
    wide("Selector", "string", d::SERVICE_SPEC_SELECTOR),
];

pub(crate) static INGRESS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

pub(crate) static INGRESS_CLASS: &[Column] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

pub(crate) static STATEFUL_SET: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

pub(crate) static ENDPOINTS: &[Column] =
    &[NAME, col("Endpoints", "string", d::ENDPOINTS_SUBSETS), AGE];

pub(crate) static NODE: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", d::NODE_INFO_KUBELET_VERSION),
    wide("Internal-IP", "string", d::NODE_STATUS_ADDRESSES),
    wide("External-IP", "string", d::NODE_STATUS_ADDRESSES),
    wide("OS-Image", "string", d::NODE_INFO_OS_IMAGE),
    wide("Kernel-Version", "string", d::NODE_INFO_KERNEL_VERSION),
    wide(
        "Container-Runtime",
        "string",
        d::NODE_INFO_CONTAINER_RUNTIME_VERSION,
    ),
];

/// Events lead with `Last Seen`; their `Name` column is wide-only.
pub(crate) static EVENT: &[Column] = &[
    col("Last Seen", "string", d::EVENT_LAST_TIMESTAMP),
    col("Type", "string", d::EVENT_TYPE),
    col("Reason", "string", d::EVENT_REASON),
    col("Object", "string", d::EVENT_INVOLVED_OBJECT),
    wide("Subobject", "string", d::OBJECT_REFERENCE_FIELD_PATH),
    wide("Source", "string", d::EVENT_SOURCE),
    col("Message", "string", d::EVENT_MESSAGE),
    wide("First Seen", "string", d::EVENT_FIRST_TIMESTAMP),
    wide("Count", "string", d::EVENT_COUNT),
    Column {
        name: "Name",
        type_: "string",
        format: "name",
        description: d::META_NAME,
        priority: 1,
    },
];

pub(crate) static NAMESPACE: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

pub(crate) static SECRET: &[Column] = &[
    NAME,
    col("Type", "string", d::SECRET_TYPE),
    col("Data", "string", d::SECRET_DATA),
    AGE,
];

pub(crate) static SERVICE_ACCOUNT: &[Column] = &[
    NAME,
    col("Secrets", "string", d::SERVICE_ACCOUNT_SECRETS),
    AGE,
];

pub(crate) static PERSISTENT_VOLUME: &[Column] = &[
    NAME,
    col("Capacity", "string", d::PV_SPEC_CAPACITY),
    col("Access Modes", "string", d::PV_SPEC_ACCESS_MODES),
    col("Reclaim Policy", "string", d::PV_SPEC_RECLAIM_POLICY),
    col("Status", "string", d::PV_STATUS_PHASE),
    col("Claim", "string", d::PV_SPEC_CLAIM_REF),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col("Reason", "string", d::PV_STATUS_REASON),
    AGE,
    wide("VolumeMode", "string", d::PV_SPEC_VOLUME_MODE),
];

pub(crate) static PERSISTENT_VOLUME_CLAIM: &[Column] = &[
    NAME,
    col("Status", "string", d::PVC_STATUS_PHASE),
    col("Volume", "string", d::PVC_SPEC_VOLUME_NAME),
    col("Capacity", "string", d::PVC_STATUS_CAPACITY),
    col("Access Modes", "string", d::PVC_STATUS_ACCESS_MODES),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide("VolumeMode", "string", d::PVC_SPEC_VOLUME_MODE),
];

pub(crate) static DEPLOYMENT: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", d::EXT_DEPLOY_STATUS_UPDATED),
    col("Available", "string", d::EXT_DEPLOY_STATUS_AVAILABLE),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", d::EXT_DEPLOY_SPEC_SELECTOR),
];

pub(crate) static HORIZONTAL_POD_AUTOSCALER: &[Column] = &[
    NAME,
    col("Reference", "string", d::HPA_SPEC_SCALE_TARGET_REF),
    col("Targets", "string", d::HPA_SPEC_METRICS),
    col("MinPods", "string", d::HPA_SPEC_MIN_REPLICAS),
    col("MaxPods", "string", d::HPA_SPEC_MAX_REPLICAS),
    col("Replicas", "string", d::HPA_STATUS_CURRENT_REPLICAS),
    AGE,
];

pub(crate) static CONFIG_MAP: &[Column] = &[NAME, col("Data", "string", d::CONFIG_MAP_DATA), AGE];

pub(crate) static NETWORK_POLICY: &[Column] = &[
    NAME,
    col("Pod-Selector", "string", d::EXT_NETPOL_SPEC_POD_SELECTOR),
    AGE,
];

pub(crate) static ROLE_BINDING: &[Column] = &[
    NAME,
    col("Role", "string", d::ROLE_BINDING_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

pub(crate) static CLUSTER_ROLE_BINDING: &[Column] = &[
    NAME,
    col("Role", "string", d::CLUSTER_ROLE_BINDING_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

pub(crate) static LEASE: &[Column] = &[
    NAME,
    col("Holder", "string", d::LEASE_SPEC_HOLDER_IDENTITY),
    AGE,
];

pub(crate) static STORAGE_CLASS: &[Column] = &[
    NAME,
    col("Provisioner", "string", d::STORAGE_CLASS_PROVISIONER),
    col("ReclaimPolicy", "string", d::STORAGE_CLASS_RECLAIM_POLICY),
    col(
        "VolumeBindingMode",
        "string",
        d::STORAGE_CLASS_VOLUME_BINDING_MODE,
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        d::STORAGE_CLASS_ALLOW_VOLUME_EXPANSION,
    ),
    AGE,
];

pub(crate) static CONTROLLER_REVISION: &[Column] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col("Revision", "string", d::CONTROLLER_REVISION_REVISION),
    AGE,
];

pub(crate) static RESOURCE_QUOTA: &[Column] = &[
    NAME,
    col(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

/// `PreemptionPolicy` has priority 0 upstream although only the wide printer fills it.
pub(crate) static PRIORITY_CLASS: &[Column] = &[
    NAME,
    col("Value", "integer", d::PRIORITY_CLASS_VALUE),
    col(
        "Global-Default",
        "boolean",
        d::PRIORITY_CLASS_GLOBAL_DEFAULT,
    ),
    AGE,
    col(
        "PreemptionPolicy",
        "string",
        d::PRIORITY_CLASS_PREEMPTION_POLICY,
    ),
];

pub(crate) static RUNTIME_CLASS: &[Column] =
    &[NAME, col("Handler", "string", d::META_HANDLER), AGE];

/// `Attacher` carries `format: name` upstream as well.
pub(crate) static VOLUME_ATTACHMENT: &[Column] = &[
    NAME,
    Column {
        name: "Attacher",
        type_: "string",
        format: "name",
        description: d::VOLUME_ATTACHMENT_SPEC_ATTACHER,
        priority: 0,
    },
    col("PV", "string", d::VOLUME_ATTACHMENT_SOURCE_PV_NAME),
    col("Node", "string", d::VOLUME_ATTACHMENT_SPEC_NODE_NAME),
    col("Attached", "boolean", d::VOLUME_ATTACHMENT_STATUS_ATTACHED),
    AGE,
];

pub(crate) static ENDPOINT_SLICE: &[Column] = &[
    NAME,
    col("AddressType", "string", d::ENDPOINT_SLICE_ADDRESS_TYPE),
    col("Ports", "string", d::ENDPOINT_SLICE_PORTS),
    col("Endpoints", "string", d::ENDPOINT_SLICE_ENDPOINTS),
    AGE,
];

pub(crate) static CSI_NODE: &[Column] = &[
    NAME,
    col(
        "Drivers",
        "integer",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

pub(crate) static CSI_DRIVER: &[Column] = &[
    NAME,
    col("AttachRequired", "boolean", d::CSI_DRIVER_ATTACH_REQUIRED),
    col("PodInfoOnMount", "boolean", d::CSI_DRIVER_POD_INFO_ON_MOUNT),
    col("StorageCapacity", "boolean", d::CSI_DRIVER_STORAGE_CAPACITY),
    col("TokenRequests", "string", d::CSI_DRIVER_TOKEN_REQUESTS),
    col(
        "RequiresRepublish",
        "boolean",
        d::CSI_DRIVER_REQUIRES_REPUBLISH,
    ),
    col("Modes", "string", d::CSI_DRIVER_VOLUME_LIFECYCLE_MODES),
    AGE,
];

pub(crate) static COMPONENT_STATUS: &[Column] = &[
    NAME,
    col("Status", "string", "Status of the component conditions"),
    col("Message", "string", "Message of the component conditions"),
    col("Error", "string", "Error of the component conditions"),
];

/// Mutating and validating webhook configurations share these columns.
pub(crate) static WEBHOOK_CONFIGURATION: &[Column] = &[
    NAME,
    col(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
];

pub(crate) static CERTIFICATE_SIGNING_REQUEST: &[Column] = &[
    NAME,
    AGE,
    col("SignerName", "string", d::CSR_SPEC_SIGNER_NAME),
    col("Requestor", "string", d::CSR_SPEC_REQUEST),
    col(
        "RequestedDuration",
        "string",
        d::CSR_SPEC_EXPIRATION_SECONDS,
    ),
    col("Condition", "string", d::CSR_STATUS_CONDITIONS),
];

pub(crate) static FLOW_SCHEMA: &[Column] = &[
    NAME,
    col(
        "PriorityLevel",
        "string",
        d::FLOW_SCHEMA_PRIORITY_LEVEL_NAME,
    ),
    col(
        "MatchingPrecedence",
        "string",
        d::FLOW_SCHEMA_MATCHING_PRECEDENCE,
    ),
    col(
        "DistinguisherMethod",
        "string",
        d::FLOW_SCHEMA_DISTINGUISHER_METHOD,
    ),
    AGE,
    col(
        "MissingPL",
        "string",
        "references a broken or non-existent PriorityLevelConfiguration",
    ),
];

pub(crate) static PRIORITY_LEVEL_CONFIGURATION: &[Column] = &[
    NAME,
    col("Type", "string", d::PRIORITY_LEVEL_TYPE),
    col(
        "NominalConcurrencyShares",
        "string",
        d::PRIORITY_LEVEL_NOMINAL_CONCURRENCY_SHARES,
    ),
    col("Queues", "string", d::QUEUING_QUEUES),
    col("HandSize", "string", d::QUEUING_HAND_SIZE),
    col("QueueLengthLimit", "string", d::QUEUING_QUEUE_LENGTH_LIMIT),
    AGE,
];

pub(crate) static VOLUME_ATTRIBUTES_CLASS: &[Column] = &[
    NAME,
    col(
        "DriverName",
        "string",
        d::VOLUME_ATTRIBUTES_CLASS_DRIVER_NAME,
    ),
    AGE,
];

pub(crate) static CSI_STORAGE_CAPACITY: &[Column] = &[
    NAME,
    col(
        "StorageClassName",
        "string",
        d::CSI_STORAGE_CAPACITY_STORAGE_CLASS_NAME,
    ),
    col("Capacity", "string", d::CSI_STORAGE_CAPACITY_CAPACITY),
];

pub(crate) static SERVICE_CIDR: &[Column] = &[
    NAME,
    col("CIDRs", "string", d::SERVICE_CIDR_SPEC_CIDRS),
    AGE,
];

/// Upstream declares two columns but its printer also appends the age (three cells).
pub(crate) static IP_ADDRESS: &[Column] = &[
    NAME,
    col("ParentRef", "string", d::IP_ADDRESS_SPEC_PARENT_REF),
];
