//! The resource registry: one table that describes every resource the server serves.
//!
//! Handlers are generic; everything resource-specific that the HTTP layer needs (names, scope,
//! verbs, subresources, selectable fields, storage key) comes from this table, not from code
//! per resource. Facts follow Kubernetes 1.34 discovery (`kubectl api-resources`) and each
//! resource's `pkg/registry/<group>/<resource>/strategy.go`.

use serde_json::Value;

/// Whether a resource lives in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `Namespaced`
    Namespaced,
    /// `Cluster`
    Cluster,
}

/// A subresource served under a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// The path segment, e.g. `status`.
    pub name: &'static str,
    /// The group of the kind it accepts and returns.
    pub group: &'static str,
    /// The version of that kind.
    pub version: &'static str,
    /// That kind.
    pub kind: &'static str,
    /// Its verbs.
    pub verbs: &'static [&'static str],
}

/// Everything the server knows about one resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource name.
    pub resource: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Scope.
    pub scope: Scope,
    /// Short names (`kubectl get po`).
    pub short_names: &'static [&'static str],
    /// Categories (`all` makes `kubectl get all` include it).
    pub categories: &'static [&'static str],
    /// Verbs on the resource itself.
    pub verbs: &'static [&'static str],
    /// Subresources.
    pub subresources: &'static [Subresource],
    /// Fields a field selector may use besides `metadata.name` / `metadata.namespace`.
    pub selectable_fields: &'static [&'static str],
    /// Whether DELETE answers with the deleted object (`ReturnDeletedObject`) rather than a Status.
    pub delete_returns_object: bool,
    /// The storage key segment (resources served under two groups share it, e.g. events).
    pub storage_resource: &'static str,
}

impl ResourceInfo {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The name used in messages: `pods`, `deployments.apps`.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// The kind used in Invalid messages: `Pod`, `Deployment.apps`.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Whether objects live in a namespace.
    pub fn namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// The subresource named `name`, if served.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether writes to the main resource ignore `.status` (the kind has a status subresource).
    pub fn has_status_subresource(&self) -> bool {
        self.subresource("status").is_some()
    }

    /// Whether `verb` is served on the resource itself.
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Whether a field selector may name `field`.
    pub fn field_selectable(&self, field: &str) -> bool {
        matches!(field, "metadata.name" | "metadata.namespace")
            || self.selectable_fields.contains(&field)
    }

    /// The storage key prefix of every object of this resource (`/registry/<res>/`), per namespace
    /// when `namespace` is given.
    pub fn key_prefix(&self, namespace: Option<&str>) -> String {
        self.key(namespace, "")
    }

    /// The storage key of one object (spelled by copying: every read and write spells one).
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.namespaced() => {
                ["/registry/", self.storage_resource, "/", ns, "/", name].concat()
            }
            _ => ["/registry/", self.storage_resource, "/", name].concat(),
        }
    }
}

/// Reads the value a field selector compares for `field` on `obj`; absent fields read as "".
/// Upstream: each resource's `ToSelectableFields` / `GetAttrs` in `pkg/registry/.../strategy.go`
/// (booleans print as `true`/`false`, as `strconv.FormatBool`).
pub fn selectable_field_value(obj: &Value, field: &str) -> String {
    let mut current = obj;
    for part in field.split('.') {
        match current.get(part) {
            Some(next) => current = next,
            None => return String::new(),
        }
    }
    match current {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

const fn status(group: &'static str, version: &'static str, kind: &'static str) -> Subresource {
    Subresource {
        name: "status",
        group,
        version,
        kind,
        verbs: STATUS_VERBS,
    }
}

const fn scale() -> Subresource {
    Subresource {
        name: "scale",
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: STATUS_VERBS,
    }
}

#[allow(clippy::too_many_arguments)]
const fn res(
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    singular: &'static str,
    kind: &'static str,
    scope: Scope,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [Subresource],
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        resource,
        singular,
        kind,
        scope,
        short_names,
        categories,
        verbs: CRUD,
        subresources,
        selectable_fields: &[],
        delete_returns_object: false,
        storage_resource: resource,
    }
}

use Scope::{Cluster, Namespaced};

/// Every resource served, in discovery order (groups in the order upstream lists them).
pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1 — pkg/registry/core/*
    ResourceInfo {
        verbs: &["create"],
        ..res(
            "",
            "v1",
            "bindings",
            "binding",
            "Binding",
            Namespaced,
            &[],
            &[],
            &[],
        )
    },
    res(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        Namespaced,
        &["cm"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        Namespaced,
        &["ep"],
        &[],
        &[],
    ),
    ResourceInfo {
        selectable_fields: &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ..res(
            "",
            "v1",
            "events",
            "event",
            "Event",
            Namespaced,
            &["ev"],
            &[],
            &[],
        )
    },
    res(
        "",
        "v1",
        "limitranges",
        "limitrange",
        "LimitRange",
        Namespaced,
        &["limits"],
        &[],
        &[],
    ),
    ResourceInfo {
        selectable_fields: &["status.phase"],
        ..res(
            "",
            "v1",
            "namespaces",
            "namespace",
            "Namespace",
            Cluster,
            &["ns"],
            &[],
            &[
                Subresource {
                    name: "finalize",
                    group: "",
                    version: "v1",
                    kind: "Namespace",
                    verbs: &["update"],
                },
                status("", "v1", "Namespace"),
            ],
        )
    },
    ResourceInfo {
        selectable_fields: &["spec.unschedulable"],
        ..res(
            "",
            "v1",
            "nodes",
            "node",
            "Node",
            Cluster,
            &["no"],
            &[],
            &[
                Subresource {
                    name: "proxy",
                    group: "",
                    version: "v1",
                    kind: "NodeProxyOptions",
                    verbs: &["get"],
                },
                status("", "v1", "Node"),
            ],
        )
    },
    ResourceInfo {
        delete_returns_object: true,
        ..res(
            "",
            "v1",
            "persistentvolumeclaims",
            "persistentvolumeclaim",
            "PersistentVolumeClaim",
            Namespaced,
            &["pvc"],
            &[],
            &[status("", "v1", "PersistentVolumeClaim")],
        )
    },
    ResourceInfo {
        delete_returns_object: true,
        ..res(
            "",
            "v1",
            "persistentvolumes",
            "persistentvolume",
            "PersistentVolume",
            Cluster,
            &["pv"],
            &[],
            &[status("", "v1", "PersistentVolume")],
        )
    },
    ResourceInfo {
        selectable_fields: &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        delete_returns_object: true,
        ..res(
            "",
            "v1",
            "pods",
            "pod",
            "Pod",
            Namespaced,
            &["po"],
            &["all"],
            &[
                Subresource {
                    name: "binding",
                    group: "",
                    version: "v1",
                    kind: "Binding",
                    verbs: &["create"],
                },
                Subresource {
                    name: "eviction",
                    group: "policy",
                    version: "v1",
                    kind: "Eviction",
                    verbs: &["create"],
                },
                Subresource {
                    name: "log",
                    group: "",
                    version: "v1",
                    kind: "Pod",
                    verbs: &["get"],
                },
                status("", "v1", "Pod"),
            ],
        )
    },
    res(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        Namespaced,
        &["quota"],
        &[],
        &[status("", "v1", "ResourceQuota")],
    ),
    ResourceInfo {
        selectable_fields: &["type"],
        ..res(
            "",
            "v1",
            "secrets",
            "secret",
            "Secret",
            Namespaced,
            &[],
            &[],
            &[],
        )
    },
    res(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        Namespaced,
        &["sa"],
        &[],
        &[],
    ),
    res(
        "",
        "v1",
        "services",
        "service",
        "Service",
        Namespaced,
        &["svc"],
        &["all"],
        &[status("", "v1", "Service")],
    ),
    // apps/v1 — pkg/registry/apps/*
    res(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        Namespaced,
        &[],
        &[],
        &[],
    ),
    res(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        Namespaced,
        &["ds"],
        &["all"],
        &[status("apps", "v1", "DaemonSet")],
    ),
    res(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        Namespaced,
        &["deploy"],
        &["all"],
        &[scale(), status("apps", "v1", "Deployment")],
    ),
    ResourceInfo {
        selectable_fields: &["status.replicas"],
        ..res(
            "apps",
            "v1",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            Namespaced,
            &["rs"],
            &["all"],
            &[scale(), status("apps", "v1", "ReplicaSet")],
        )
    },
    res(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        Namespaced,
        &["sts"],
        &["all"],
        &[scale(), status("apps", "v1", "StatefulSet")],
    ),
    // events.k8s.io/v1 is served from the core events storage (`convert.rs`).
    ResourceInfo {
        storage_resource: "events",
        selectable_fields: &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "deprecatedSource",
            "type",
        ],
        ..res(
            "events.k8s.io",
            "v1",
            "events",
            "event",
            "Event",
            Namespaced,
            &["ev"],
            &[],
            &[],
        )
    },
    // autoscaling/v2 — pkg/registry/autoscaling/horizontalpodautoscaler
    res(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        Namespaced,
        &["hpa"],
        &["all"],
        &[status("autoscaling", "v2", "HorizontalPodAutoscaler")],
    ),
    // batch/v1
    res(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        Namespaced,
        &["cj"],
        &["all"],
        &[status("batch", "v1", "CronJob")],
    ),
    ResourceInfo {
        selectable_fields: &["status.successful"],
        ..res(
            "batch",
            "v1",
            "jobs",
            "job",
            "Job",
            Namespaced,
            &[],
            &["all"],
            &[status("batch", "v1", "Job")],
        )
    },
    // coordination.k8s.io/v1
    res(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        Namespaced,
        &[],
        &[],
        &[],
    ),
    // discovery.k8s.io/v1
    res(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        Namespaced,
        &[],
        &[],
        &[],
    ),
    // networking.k8s.io/v1
    res(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        Cluster,
        &[],
        &[],
        &[],
    ),
    res(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        Namespaced,
        &["ing"],
        &[],
        &[status("networking.k8s.io", "v1", "Ingress")],
    ),
    res(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        Namespaced,
        &["netpol"],
        &[],
        &[],
    ),
    // policy/v1
    res(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        Namespaced,
        &["pdb"],
        &[],
        &[status("policy", "v1", "PodDisruptionBudget")],
    ),
    // rbac.authorization.k8s.io/v1
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        Cluster,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        Cluster,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        Namespaced,
        &[],
        &[],
        &[],
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        Namespaced,
        &[],
        &[],
        &[],
    ),
    // storage.k8s.io/v1
    res(
        "storage.k8s.io",
        "v1",
        "csidrivers",
        "csidriver",
        "CSIDriver",
        Cluster,
        &[],
        &[],
        &[],
    ),
    res(
        "storage.k8s.io",
        "v1",
        "csinodes",
        "csinode",
        "CSINode",
        Cluster,
        &[],
        &[],
        &[],
    ),
    ResourceInfo {
        delete_returns_object: true,
        ..res(
            "storage.k8s.io",
            "v1",
            "storageclasses",
            "storageclass",
            "StorageClass",
            Cluster,
            &["sc"],
            &[],
            &[],
        )
    },
    // scheduling.k8s.io/v1
    res(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        Cluster,
        &["pc"],
        &[],
        &[],
    ),
];

/// The API groups in discovery order, each with its (single) served version.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for r in RESOURCES {
        if !r.group.is_empty() && !out.iter().any(|(g, _)| *g == r.group) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// The resources of one group/version, in table order.
pub fn resources_of<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + use<'a> {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// Looks a resource up by group, version and plural name.
pub fn lookup(group: &str, version: &str, resource: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.resource == resource)
}

/// Looks a resource up by its apiVersion and kind (for objects in request bodies).
pub fn lookup_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn resources_are_unique_and_sorted_within_groups() {
        let mut seen = BTreeSet::new();
        for r in RESOURCES {
            assert!(
                seen.insert((r.group, r.version, r.resource)),
                "duplicate {}",
                r.resource
            );
        }
    }

    #[test]
    fn keys_and_names() {
        let pods = lookup("", "v1", "pods").expect("pods");
        assert_eq!(
            pods.key(Some("default"), "web"),
            "/registry/pods/default/web"
        );
        assert_eq!(pods.qualified_resource(), "pods");
        let deploy = lookup("apps", "v1", "deployments").expect("deployments");
        assert_eq!(deploy.qualified_resource(), "deployments.apps");
        assert_eq!(deploy.qualified_kind(), "Deployment.apps");
        assert!(deploy.has_status_subresource());
        let nodes = lookup_kind("v1", "Node").expect("nodes");
        assert_eq!(nodes.key(None, "n1"), "/registry/nodes/n1");
        // Prefixes; a cluster-scoped resource ignores the namespace.
        assert_eq!(pods.key_prefix(Some("default")), "/registry/pods/default/");
        assert_eq!(pods.key_prefix(None), "/registry/pods/");
        assert_eq!(pods.key(None, "web"), "/registry/pods/web");
        assert_eq!(nodes.key(Some("x"), "n1"), "/registry/nodes/n1");
        assert_eq!(nodes.key_prefix(Some("x")), "/registry/nodes/");
    }

    #[test]
    fn field_values() {
        let pod = serde_json::json!({"spec": {"nodeName": "n1", "hostNetwork": true}});
        assert_eq!(selectable_field_value(&pod, "spec.nodeName"), "n1");
        assert_eq!(selectable_field_value(&pod, "spec.hostNetwork"), "true");
        assert_eq!(selectable_field_value(&pod, "status.phase"), "");
    }
}
