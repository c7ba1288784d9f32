//! Decoding request bodies through the upstream types, as the real apiserver does.
//!
//! The real apiserver decodes every body into its Go type, so unknown fields are dropped
//! (reported under `fieldValidation=Strict|Warn`) and type errors are rejected with 400. We do
//! the same with the `k8s-openapi` types: decode, re-encode, and compare. What gets stored is
//! the body as sent minus the fields the type does not know (the typed re-encoding is used only
//! to find them, since `k8s-openapi` fills defaults for required fields that were absent). Upstream: `apiserver/pkg/endpoints/handlers/create.go`
//! (strict decoding), `apimachinery/pkg/runtime/serializer/json/json.go`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use k8s_openapi::api::{
    apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch,
    coordination::v1 as coordination, core::v1 as core, discovery::v1 as discovery,
    events::v1 as events, networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
    scheduling::v1 as scheduling, storage::v1 as storage,
};

/// The outcome of decoding a body through its type.
#[derive(Debug)]
pub struct Decoded {
    /// The object as sent, with the fields the type does not know dropped.
    pub object: Value,
    /// Paths of fields the type does not know, e.g. `spec.foo`.
    pub unknown_fields: Vec<String>,
}

fn roundtrip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Decoded, String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let typed_json = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let mut unknown_fields = Vec::new();
    let object = prune_unknown(value, &typed_json, &mut String::new(), &mut unknown_fields);
    Ok(Decoded {
        object,
        unknown_fields,
    })
}

/// Copies `input`, dropping keys that `typed` (its typed re-encoding) lacks; records the paths of
/// the dropped keys that carried a value.
fn prune_unknown(
    input: &Value,
    typed: &Value,
    path: &mut String,
    unknown: &mut Vec<String>,
) -> Value {
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in a {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match b.get(k) {
                    Some(bv) => {
                        out.insert(k.clone(), prune_unknown(v, bv, path, unknown));
                    }
                    // An empty value the type omits on re-encoding is known but unset (Go's
                    // `omitempty`): keep it as sent.
                    None if is_empty_value(v) => {
                        out.insert(k.clone(), v.clone());
                    }
                    None => unknown.push(path.clone()),
                }
                path.truncate(len);
            }
            Value::Object(out)
        }
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .enumerate()
            .map(|(i, av)| match b.get(i) {
                Some(bv) => {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    let kept = prune_unknown(av, bv, path, unknown);
                    path.truncate(len);
                    kept
                }
                None => av.clone(),
            })
            .collect(),
        _ => input.clone(),
    }
}

/// Values a type may legitimately omit on re-encoding (Go's `omitempty` equivalents).
fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().all(is_empty_value),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// Decodes `value` as the kind of (`group`, `kind`); `None` when we have no type for it (the
/// value is then kept as sent).
pub fn decode(group: &str, kind: &str, value: &Value) -> Option<Result<Decoded, String>> {
    Some(match (group, kind) {
        ("", "Binding") => roundtrip::<core::Binding>(value),
        ("", "ConfigMap") => roundtrip::<core::ConfigMap>(value),
        ("", "Endpoints") => roundtrip::<core::Endpoints>(value),
        ("", "Event") => roundtrip::<core::Event>(value),
        ("", "LimitRange") => roundtrip::<core::LimitRange>(value),
        ("", "Namespace") => roundtrip::<core::Namespace>(value),
        ("", "Node") => roundtrip::<core::Node>(value),
        ("", "PersistentVolumeClaim") => roundtrip::<core::PersistentVolumeClaim>(value),
        ("", "PersistentVolume") => roundtrip::<core::PersistentVolume>(value),
        ("", "Pod") => roundtrip::<core::Pod>(value),
        ("", "ResourceQuota") => roundtrip::<core::ResourceQuota>(value),
        ("", "Secret") => roundtrip::<core::Secret>(value),
        ("", "ServiceAccount") => roundtrip::<core::ServiceAccount>(value),
        ("", "Service") => roundtrip::<core::Service>(value),
        ("apps", "ControllerRevision") => roundtrip::<apps::ControllerRevision>(value),
        ("apps", "DaemonSet") => roundtrip::<apps::DaemonSet>(value),
        ("apps", "Deployment") => roundtrip::<apps::Deployment>(value),
        ("apps", "ReplicaSet") => roundtrip::<apps::ReplicaSet>(value),
        ("apps", "StatefulSet") => roundtrip::<apps::StatefulSet>(value),
        ("events.k8s.io", "Event") => roundtrip::<events::Event>(value),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            roundtrip::<autoscaling::HorizontalPodAutoscaler>(value)
        }
        ("autoscaling", "Scale") => roundtrip::<k8s_openapi::api::autoscaling::v1::Scale>(value),
        ("batch", "CronJob") => roundtrip::<batch::CronJob>(value),
        ("batch", "Job") => roundtrip::<batch::Job>(value),
        ("coordination.k8s.io", "Lease") => roundtrip::<coordination::Lease>(value),
        ("discovery.k8s.io", "EndpointSlice") => roundtrip::<discovery::EndpointSlice>(value),
        ("networking.k8s.io", "IngressClass") => roundtrip::<networking::IngressClass>(value),
        ("networking.k8s.io", "Ingress") => roundtrip::<networking::Ingress>(value),
        ("networking.k8s.io", "NetworkPolicy") => roundtrip::<networking::NetworkPolicy>(value),
        ("policy", "PodDisruptionBudget") => roundtrip::<policy::PodDisruptionBudget>(value),
        ("policy", "Eviction") => roundtrip::<policy::Eviction>(value),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            roundtrip::<rbac::ClusterRoleBinding>(value)
        }
        ("rbac.authorization.k8s.io", "ClusterRole") => roundtrip::<rbac::ClusterRole>(value),
        ("rbac.authorization.k8s.io", "RoleBinding") => roundtrip::<rbac::RoleBinding>(value),
        ("rbac.authorization.k8s.io", "Role") => roundtrip::<rbac::Role>(value),
        ("storage.k8s.io", "CSIDriver") => roundtrip::<storage::CSIDriver>(value),
        ("storage.k8s.io", "CSINode") => roundtrip::<storage::CSINode>(value),
        ("storage.k8s.io", "StorageClass") => roundtrip::<storage::StorageClass>(value),
        ("scheduling.k8s.io", "PriorityClass") => roundtrip::<scheduling::PriorityClass>(value),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_unknown_fields_and_keeps_known_ones() {
        let body = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "labels": {"a": "b"}, "bogus": 1},
            "data": {"k": "v"},
            "extra": {"deep": true},
        });
        let decoded = decode("", "ConfigMap", &body)
            .expect("known kind")
            .expect("decodes");
        assert_eq!(
            decoded.unknown_fields,
            vec!["extra".to_string(), "metadata.bogus".to_string()]
        );
        assert_eq!(decoded.object["data"]["k"], "v");
        assert!(decoded.object.get("extra").is_none());
    }

    #[test]
    fn type_errors_are_reported() {
        let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": "three"}});
        let err = decode("apps", "Deployment", &body)
            .expect("known kind")
            .expect_err("bad type");
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn nested_list_paths() {
        let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyy": "Always"}]}});
        let decoded = decode("", "Pod", &body).expect("known").expect("decodes");
        assert_eq!(
            decoded.unknown_fields,
            vec!["spec.containers[0].imagePullPolicyy".to_string()]
        );
    }
}
