//! OpenAPI v3: the index (`/openapi/v3`) and one document per group-version, generated from
//! the `k8s-openapi` types' JSON schemas (definition names as upstream, e.g.
//! `io.k8s.api.core.v1.Pod`). kubectl needs it for `explain` and to learn that the server
//! validates fields (`fieldValidation` on each kind's PATCH operation:
//! `cli-runtime/pkg/resource/query_param_verifier_v3.go`).
//!
//! PATCH operations do not list `application/strategic-merge-patch+json`: our schemas carry no
//! `x-kubernetes-patch-strategy` extensions, and kubectl then computes strategic patches from
//! its compiled-in types (`kubectl/pkg/cmd/apply/patcher.go`), which do carry them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::registry::{self, ResourceInfo};

fn add<T: JsonSchema>(generator: &mut SchemaGenerator) {
    generator.subschema_for::<T>();
}

/// Adds the schema of (`group`, `kind`) and everything it references.
fn add_kind(generator: &mut SchemaGenerator, group: &str, kind: &str) -> Option<&'static str> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch,
        coordination::v1 as coordination, core::v1 as core, discovery::v1 as discovery,
        events::v1 as events, networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
        scheduling::v1 as scheduling, storage::v1 as storage,
    };
    macro_rules! k {
        ($t:ty, $name:expr) => {{
            add::<$t>(generator);
            Some($name)
        }};
    }
    match (group, kind) {
        ("", "Binding") => k!(core::Binding, "io.k8s.api.core.v1.Binding"),
        ("", "ConfigMap") => k!(core::ConfigMap, "io.k8s.api.core.v1.ConfigMap"),
        ("", "Endpoints") => k!(core::Endpoints, "io.k8s.api.core.v1.Endpoints"),
        ("", "Event") => k!(core::Event, "io.k8s.api.core.v1.Event"),
        ("", "LimitRange") => k!(core::LimitRange, "io.k8s.api.core.v1.LimitRange"),
        ("", "Namespace") => k!(core::Namespace, "io.k8s.api.core.v1.Namespace"),
        ("", "Node") => k!(core::Node, "io.k8s.api.core.v1.Node"),
        ("", "PersistentVolumeClaim") => k!(
            core::PersistentVolumeClaim,
            "io.k8s.api.core.v1.PersistentVolumeClaim"
        ),
        ("", "PersistentVolume") => k!(
            core::PersistentVolume,
            "io.k8s.api.core.v1.PersistentVolume"
        ),
        ("", "Pod") => k!(core::Pod, "io.k8s.api.core.v1.Pod"),
        ("", "ResourceQuota") => k!(core::ResourceQuota, "io.k8s.api.core.v1.ResourceQuota"),
        ("", "Secret") => k!(core::Secret, "io.k8s.api.core.v1.Secret"),
        ("", "ServiceAccount") => k!(core::ServiceAccount, "io.k8s.api.core.v1.ServiceAccount"),
        ("", "Service") => k!(core::Service, "io.k8s.api.core.v1.Service"),
        ("apps", "ControllerRevision") => k!(
            apps::ControllerRevision,
            "io.k8s.api.apps.v1.ControllerRevision"
        ),
        ("apps", "DaemonSet") => k!(apps::DaemonSet, "io.k8s.api.apps.v1.DaemonSet"),
        ("apps", "Deployment") => k!(apps::Deployment, "io.k8s.api.apps.v1.Deployment"),
        ("apps", "ReplicaSet") => k!(apps::ReplicaSet, "io.k8s.api.apps.v1.ReplicaSet"),
        ("apps", "StatefulSet") => k!(apps::StatefulSet, "io.k8s.api.apps.v1.StatefulSet"),
        ("events.k8s.io", "Event") => k!(events::Event, "io.k8s.api.events.v1.Event"),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            k!(
                autoscaling::HorizontalPodAutoscaler,
                "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"
            )
        }
        ("batch", "CronJob") => k!(batch::CronJob, "io.k8s.api.batch.v1.CronJob"),
        ("batch", "Job") => k!(batch::Job, "io.k8s.api.batch.v1.Job"),
        ("coordination.k8s.io", "Lease") => {
            k!(coordination::Lease, "io.k8s.api.coordination.v1.Lease")
        }
        ("discovery.k8s.io", "EndpointSlice") => k!(
            discovery::EndpointSlice,
            "io.k8s.api.discovery.v1.EndpointSlice"
        ),
        ("networking.k8s.io", "IngressClass") => k!(
            networking::IngressClass,
            "io.k8s.api.networking.v1.IngressClass"
        ),
        ("networking.k8s.io", "Ingress") => {
            k!(networking::Ingress, "io.k8s.api.networking.v1.Ingress")
        }
        ("networking.k8s.io", "NetworkPolicy") => k!(
            networking::NetworkPolicy,
            "io.k8s.api.networking.v1.NetworkPolicy"
        ),
        ("policy", "PodDisruptionBudget") => k!(
            policy::PodDisruptionBudget,
            "io.k8s.api.policy.v1.PodDisruptionBudget"
        ),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            k!(
                rbac::ClusterRoleBinding,
                "io.k8s.api.rbac.v1.ClusterRoleBinding"
            )
        }
        ("rbac.authorization.k8s.io", "ClusterRole") => {
            k!(rbac::ClusterRole, "io.k8s.api.rbac.v1.ClusterRole")
        }
        ("rbac.authorization.k8s.io", "RoleBinding") => {
            k!(rbac::RoleBinding, "io.k8s.api.rbac.v1.RoleBinding")
        }
        ("rbac.authorization.k8s.io", "Role") => k!(rbac::Role, "io.k8s.api.rbac.v1.Role"),
        ("storage.k8s.io", "CSIDriver") => {
            k!(storage::CSIDriver, "io.k8s.api.storage.v1.CSIDriver")
        }
        ("storage.k8s.io", "CSINode") => k!(storage::CSINode, "io.k8s.api.storage.v1.CSINode"),
        ("storage.k8s.io", "StorageClass") => {
            k!(storage::StorageClass, "io.k8s.api.storage.v1.StorageClass")
        }
        ("scheduling.k8s.io", "PriorityClass") => k!(
            scheduling::PriorityClass,
            "io.k8s.api.scheduling.v1.PriorityClass"
        ),
        _ => None,
    }
}

fn gvk(info: &ResourceInfo) -> Value {
    json!({"group": info.group, "version": info.version, "kind": info.kind})
}

fn query_param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(info: &ResourceInfo, action: &str, schema_ref: &Value, id: String) -> Value {
    let mut op = json!({
        "operationId": id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(info),
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": schema_ref}}}},
    });
    match action {
        "patch" => {
            op["parameters"] = json!([
                query_param("dryRun"),
                query_param("fieldManager"),
                query_param("fieldValidation"),
                query_param("force")
            ]);
            op["requestBody"] = json!({"content": {
                "application/json-patch+json": {"schema": {"type": "object"}},
                "application/merge-patch+json": {"schema": {"type": "object"}},
                "application/apply-patch+yaml": {"schema": {"type": "object"}},
            }, "required": true});
        }
        "post" | "put" => {
            op["parameters"] = json!([
                query_param("dryRun"),
                query_param("fieldManager"),
                query_param("fieldValidation")
            ]);
            op["requestBody"] =
                json!({"content": {"application/json": {"schema": schema_ref}}, "required": true});
        }
        _ => {}
    }
    op
}

fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The document for one group-version, as JSON bytes (built once).
pub fn document(group: &str, version: &str) -> Option<&'static [u8]> {
    static DOCS: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        let mut out = BTreeMap::new();
        let mut gvs: Vec<(&str, &str)> = vec![("", "v1")];
        gvs.extend(registry::groups());
        for (g, v) in gvs {
            out.insert(
                group_version_path(g, v),
                serde_json::to_vec(&build(g, v)).unwrap_or_default(),
            );
        }
        out
    });
    docs.get(&group_version_path(group, version))
        .map(Vec::as_slice)
}

fn build(group: &str, version: &str) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    let mut kinds: Vec<(&str, &ResourceInfo)> = Vec::new();
    for info in registry::resources_of(group, version) {
        let Some(schema_name) = add_kind(&mut generator, info.group, info.kind) else {
            continue;
        };
        kinds.push((schema_name, info));
        let schema_ref = json!({"$ref": format!("#/components/schemas/{schema_name}")});
        let base = format!("/{}", group_version_path(info.group, info.version));
        let collection = if info.namespaced() {
            format!("{base}/namespaces/{{namespace}}/{}", info.resource)
        } else {
            format!("{base}/{}", info.resource)
        };
        let id = |verb: &str| format!("{verb}{}{}", info.kind, info.resource);
        if info.allows("list") {
            paths.insert(
                collection.clone(),
                json!({"get": operation(info, "list", &schema_ref, id("list")), "post": operation(info, "post", &schema_ref, id("create"))}),
            );
        } else {
            paths.insert(
                collection.clone(),
                json!({"post": operation(info, "post", &schema_ref, id("create"))}),
            );
        }
        if info.allows("get") {
            paths.insert(
                format!("{collection}/{{name}}"),
                json!({
                    "get": operation(info, "get", &schema_ref, id("read")),
                    "put": operation(info, "put", &schema_ref, id("replace")),
                    "patch": operation(info, "patch", &schema_ref, id("patch")),
                    "delete": operation(info, "delete", &schema_ref, id("delete")),
                }),
            );
        }
    }
    let mut schemas = generator.take_definitions(true);
    for (name, info) in kinds {
        if let Some(schema) = schemas.get_mut(name).and_then(Value::as_object_mut) {
            schema.insert("x-kubernetes-group-version-kind".into(), json!([gvk(info)]));
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.34.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// `GET /openapi/v3`: the index of group-version documents.
pub fn index() -> Value {
    let mut paths = Map::new();
    let mut gvs: Vec<(&str, &str)> = vec![("", "v1")];
    gvs.extend(registry::groups());
    for (g, v) in gvs {
        let p = group_version_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=kubetwin-1")}),
        );
    }
    json!({"paths": paths})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_document_has_patch_with_field_validation_and_gvk_schema() {
        let doc: Value =
            serde_json::from_slice(document("apps", "v1").expect("apps/v1")).expect("json");
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .expect("params")
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        let schema = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            schema["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        assert!(doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"].is_object());
    }

    #[test]
    fn index_lists_core_and_groups() {
        let idx = index();
        assert!(
            idx["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .expect("url")
                .starts_with("/openapi/v3/api/v1")
        );
        assert!(idx["paths"]["apis/apps/v1"].is_object());
    }
}
