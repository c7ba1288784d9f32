//! Decoding request bodies through the upstream types, as the real apiserver does.
//!
//! The real apiserver decodes every body into its Go type, so unknown fields are dropped
//! (reported under `fieldValidation=Strict|Warn`) and type errors are rejected with 400. We do
//! the same with the `k8s-openapi` types: decode, and note the keys the decoder ignores
//! (`serde_ignored`). What gets stored is the body as sent minus those fields (the typed value
//! is not stored, since `k8s-openapi` fills defaults for required fields that were absent).
//! Upstream: `apiserver/pkg/endpoints/handlers/create.go` (strict decoding),
//! `apimachinery/pkg/runtime/serializer/json/json.go`.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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

fn roundtrip<T: DeserializeOwned>(value: Value) -> Result<Decoded, String> {
    // The fields the type ignores while decoding are the unknown ones (Go's strict decoding
    // reports the same). Decoding from a borrowed `Value` reports the same errors as
    // `from_value` without copying the tree.
    let mut ignored: Vec<Vec<Step>> = Vec::new();
    let _typed: T = serde_ignored::deserialize(&value, |path| ignored.push(steps_of(&path)))
        .map_err(|e| e.to_string())?;
    let mut object = value;
    let mut unknown_fields = Vec::new();
    for path in &ignored {
        // An empty value under a key the type lacks is kept as sent and not reported (it
        // could be a known field the type omits when empty, Go's `omitempty`).
        if value_at(&object, path).is_none_or(is_empty_value) {
            continue;
        }
        unknown_fields.push(path_string(path));
        remove_at(&mut object, path);
    }
    Ok(Decoded {
        object,
        unknown_fields,
    })
}

/// One step of a path into a JSON value.
#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// The steps from the root to what `serde_ignored` reports.
fn steps_of(path: &serde_ignored::Path) -> Vec<Step> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut steps = steps_of(parent);
            steps.push(Step::Index(*index));
            steps
        }
        Path::Map { parent, key } => {
            let mut steps = steps_of(parent);
            steps.push(Step::Key(key.clone()));
            steps
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => steps_of(parent),
    }
}

fn value_at<'v>(v: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

/// Removes the key at the end of `path`.
fn remove_at(v: &mut Value, path: &[Step]) {
    let Some((Step::Key(last), parents)) = path.split_last() else {
        return;
    };
    let parent = parents.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    });
    if let Some(Value::Object(m)) = parent {
        m.remove(last);
    }
}

/// `spec.containers[0].image`, as unknown fields are reported.
fn path_string(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Values a type may omit when it encodes (Go's `omitempty` equivalents).
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

/// The typed round trip of one kind.
type Roundtrip = fn(Value) -> Result<Decoded, String>;

/// The round trip of (`group`, `kind`); `None` when we have no type for it.
fn roundtrip_of(group: &str, kind: &str) -> Option<Roundtrip> {
    Some(match (group, kind) {
        ("", "Binding") => roundtrip::<core::Binding>,
        ("", "ConfigMap") => roundtrip::<core::ConfigMap>,
        ("", "Endpoints") => roundtrip::<core::Endpoints>,
        ("", "Event") => roundtrip::<core::Event>,
        ("", "LimitRange") => roundtrip::<core::LimitRange>,
        ("", "Namespace") => roundtrip::<core::Namespace>,
        ("", "Node") => roundtrip::<core::Node>,
        ("", "PersistentVolumeClaim") => roundtrip::<core::PersistentVolumeClaim>,
        ("", "PersistentVolume") => roundtrip::<core::PersistentVolume>,
        ("", "Pod") => roundtrip::<core::Pod>,
        ("", "ResourceQuota") => roundtrip::<core::ResourceQuota>,
        ("", "Secret") => roundtrip::<core::Secret>,
        ("", "ServiceAccount") => roundtrip::<core::ServiceAccount>,
        ("", "Service") => roundtrip::<core::Service>,
        ("apps", "ControllerRevision") => roundtrip::<apps::ControllerRevision>,
        ("apps", "DaemonSet") => roundtrip::<apps::DaemonSet>,
        ("apps", "Deployment") => roundtrip::<apps::Deployment>,
        ("apps", "ReplicaSet") => roundtrip::<apps::ReplicaSet>,
        ("apps", "StatefulSet") => roundtrip::<apps::StatefulSet>,
        ("events.k8s.io", "Event") => roundtrip::<events::Event>,
        ("autoscaling", "HorizontalPodAutoscaler") => {
            roundtrip::<autoscaling::HorizontalPodAutoscaler>
        }
        ("autoscaling", "Scale") => roundtrip::<k8s_openapi::api::autoscaling::v1::Scale>,
        ("batch", "CronJob") => roundtrip::<batch::CronJob>,
        ("batch", "Job") => roundtrip::<batch::Job>,
        ("coordination.k8s.io", "Lease") => roundtrip::<coordination::Lease>,
        ("discovery.k8s.io", "EndpointSlice") => roundtrip::<discovery::EndpointSlice>,
        ("networking.k8s.io", "IngressClass") => roundtrip::<networking::IngressClass>,
        ("networking.k8s.io", "Ingress") => roundtrip::<networking::Ingress>,
        ("networking.k8s.io", "NetworkPolicy") => roundtrip::<networking::NetworkPolicy>,
        ("policy", "PodDisruptionBudget") => roundtrip::<policy::PodDisruptionBudget>,
        ("policy", "Eviction") => roundtrip::<policy::Eviction>,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            roundtrip::<rbac::ClusterRoleBinding>
        }
        ("rbac.authorization.k8s.io", "ClusterRole") => roundtrip::<rbac::ClusterRole>,
        ("rbac.authorization.k8s.io", "RoleBinding") => roundtrip::<rbac::RoleBinding>,
        ("rbac.authorization.k8s.io", "Role") => roundtrip::<rbac::Role>,
        ("storage.k8s.io", "CSIDriver") => roundtrip::<storage::CSIDriver>,
        ("storage.k8s.io", "CSINode") => roundtrip::<storage::CSINode>,
        ("storage.k8s.io", "StorageClass") => roundtrip::<storage::StorageClass>,
        ("scheduling.k8s.io", "PriorityClass") => roundtrip::<scheduling::PriorityClass>,
        _ => return None,
    })
}

/// Decodes `value` as the kind of (`group`, `kind`); kept as sent when we have no type for it.
pub fn decode(group: &str, kind: &str, value: Value) -> Result<Decoded, String> {
    match roundtrip_of(group, kind) {
        Some(roundtrip) => roundtrip(value),
        None => Ok(Decoded {
            object: value,
            unknown_fields: Vec::new(),
        }),
    }
}

/// Where an update changed its object, as [`decode_update`] finds it.
enum Change {
    /// The top-level field changed as a whole (added, or not an object on both sides).
    Whole(String),
    /// Some fields of a top-level object changed; the others are as stored.
    Within(String, Vec<String>),
}

/// Decodes an update's `desired` object through the type of (`group`, `kind`), given the
/// `current` object it replaces; kept as sent when we have no type for it.
///
/// The stored object already went through the round trip when it was written, so only what the
/// update changed (top-level fields, and the fields of top-level objects, compared with
/// `current`) is decoded, inside an `{apiVersion, kind, …}` skeleton; the rest is kept as
/// stored. The outcome (the object kept, the unknown fields in order, the first type error) is
/// that of decoding `desired` whole, because each field of the `k8s-openapi` types decodes on
/// its own, in key order, and absent fields take their defaults.
pub fn decode_update(
    group: &str,
    kind: &str,
    current: &Value,
    desired: Value,
) -> Result<Decoded, String> {
    decode_update_within(group, kind, current, desired, None)
}

/// [`decode_update`] when the caller knows that `desired` equals `current` but for the
/// top-level key `only`: the other keys are not compared again.
pub fn decode_update_within(
    group: &str,
    kind: &str,
    current: &Value,
    desired: Value,
    only: Option<&str>,
) -> Result<Decoded, String> {
    match roundtrip_of(group, kind) {
        Some(roundtrip) => decode_changes(roundtrip, current, desired, only),
        None => Ok(Decoded {
            object: desired,
            unknown_fields: Vec::new(),
        }),
    }
}

fn decode_changes(
    roundtrip: Roundtrip,
    current: &Value,
    desired: Value,
    only: Option<&str>,
) -> Result<Decoded, String> {
    let (mut desired, current) = match (desired, current.as_object()) {
        (Value::Object(desired), Some(current)) => (desired, current),
        (desired, _) => return roundtrip(desired),
    };
    // The changed values move into the skeleton (no clone) and come back pruned.
    let mut skeleton = Map::new();
    let mut changes = Vec::new();
    for (key, value) in desired.iter_mut() {
        if key == "apiVersion" || key == "kind" {
            skeleton.insert(key.clone(), value.clone());
            continue;
        }
        if only.is_some_and(|only| only != key) {
            // Equal to the stored value: unchanged, as the comparison below would find.
            continue;
        }
        match (current.get(key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                let mut inner = Map::new();
                for (field, field_value) in new.iter_mut() {
                    if old.get(field) != Some(&*field_value) {
                        inner.insert(field.clone(), std::mem::take(field_value));
                    }
                }
                // Fields only removed: what is left is as stored.
                if !inner.is_empty() {
                    changes.push(Change::Within(key.clone(), inner.keys().cloned().collect()));
                    skeleton.insert(key.clone(), Value::Object(inner));
                }
            }
            (old, value) => {
                if old != Some(&*value) {
                    changes.push(Change::Whole(key.clone()));
                    skeleton.insert(key.clone(), std::mem::take(value));
                }
            }
        }
    }
    let decoded = roundtrip(Value::Object(skeleton))?;
    let Value::Object(mut pruned) = decoded.object else {
        return Err("the typed round trip did not return an object".into());
    };
    for change in changes {
        match change {
            Change::Whole(key) => match pruned.remove(&key) {
                Some(kept) => {
                    desired.insert(key, kept);
                }
                None => {
                    desired.remove(&key);
                }
            },
            Change::Within(key, fields) => {
                let kept = pruned.get_mut(&key).and_then(Value::as_object_mut);
                let target = desired.get_mut(&key).and_then(Value::as_object_mut);
                let (Some(kept), Some(target)) = (kept, target) else {
                    // The whole field is unknown to the type: dropped, as a whole decode does.
                    desired.remove(&key);
                    continue;
                };
                for field in fields {
                    match kept.remove(&field) {
                        Some(value) => {
                            target.insert(field, value);
                        }
                        None => {
                            target.remove(&field);
                        }
                    }
                }
            }
        }
    }
    Ok(Decoded {
        object: Value::Object(desired),
        unknown_fields: decoded.unknown_fields,
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
        let decoded = decode("", "ConfigMap", body).expect("decodes");
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
        let err = decode("apps", "Deployment", body).expect_err("bad type");
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn nested_list_paths() {
        let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyy": "Always"}]}});
        let decoded = decode("", "Pod", body).expect("decodes");
        assert_eq!(
            decoded.unknown_fields,
            vec!["spec.containers[0].imagePullPolicyy".to_string()]
        );
    }

    /// A pod as stored: it went through the round trip already (no unknown fields).
    fn stored_pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "u-1", "resourceVersion": "7",
                "labels": {"app": "web"},
                "managedFields": [{"manager": "kubelet", "operation": "Update", "apiVersion": "v1",
                    "time": "2025-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {"f:phase": {}}}, "subresource": "status"}]},
            "spec": {"nodeName": "n1", "restartPolicy": "Always",
                "containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "1"}}}]},
            "status": {"phase": "Pending", "qosClass": "Burstable",
                "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": null,
                    "lastTransitionTime": "2025-01-01T00:00:00Z"}]}})
    }

    /// Two decodes of the same object agree: both succeed with the same object and unknown
    /// fields, or both fail with the same error.
    fn assert_same_decoding(name: &str, a: Result<Decoded, String>, b: Result<Decoded, String>) {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.object, b.object, "{name}: object");
                assert_eq!(a.unknown_fields, b.unknown_fields, "{name}: unknown fields");
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{name}: error"),
            (a, b) => panic!("{name}: {a:?} but {b:?}"),
        }
    }

    /// `decode_update` and a whole `decode` of the same object agree on everything.
    fn assert_same_as_whole_decode(name: &str, current: &Value, desired: &Value) {
        let whole = decode("", "Pod", desired.clone());
        let partial = decode_update("", "Pod", current, desired.clone());
        assert_same_decoding(name, whole, partial);
        // Told that only `status` may differ, it skips the rest and still agrees.
        let but_status = |v: &Value| {
            let mut v = v.clone();
            v.as_object_mut().map(|m| m.remove("status"));
            v
        };
        if but_status(current) == but_status(desired) {
            let told = decode_update_within("", "Pod", current, desired.clone(), Some("status"));
            let partial = decode_update("", "Pod", current, desired.clone());
            assert_same_decoding(&format!("{name}, status only"), told, partial);
        }
    }

    /// Updates of a stored pod: what changes goes through the type, the rest stays as stored,
    /// and the outcome is that of decoding the whole object. Cases after the unknown-field and
    /// type-error cases of `test/integration/apiserver/field_validation_test.go`
    /// (`testFieldValidationPut`, `testFieldValidationPatchTyped`, `testFieldValidationSMP`),
    /// moved to the fields a kubelet's status write and a PUT touch.
    #[test]
    fn update_decodes_like_a_whole_decode() {
        type Edit = fn(&mut Value);
        let cases: &[(&str, Edit)] = &[
            ("no change", |_| {}),
            ("status phase", |o| o["status"]["phase"] = json!("Running")),
            ("status unknown field", |o| o["status"]["bogus"] = json!(1)),
            ("status nested unknown field", |o| {
                o["status"]["conditions"][0]["bogus"] = json!("x")
            }),
            ("status type error", |o| o["status"]["phase"] = json!(3)),
            ("status replaced by a string", |o| o["status"] = json!("x")),
            ("status removed", |o| {
                o.as_object_mut().map(|m| m.remove("status"));
            }),
            ("status field removed", |o| {
                o["status"].as_object_mut().map(|m| m.remove("qosClass"));
            }),
            ("spec and status", |o| {
                o["spec"]["nodeName"] = json!("n2");
                o["status"]["phase"] = json!("Running");
                o["status"]["podIP"] = json!("10.0.0.1");
            }),
            ("spec unknown and status unknown", |o| {
                o["spec"]["unknown1"] = json!("val1");
                o["spec"]["containers"][0]["unknownNested"] = json!("val1");
                o["status"]["unknownDupe"] = json!("x");
            }),
            ("two type errors: the first in key order wins", |o| {
                o["status"]["phase"] = json!(3);
                o["spec"]["restartPolicy"] = json!(false);
            }),
            ("unknown top-level field", |o| {
                o["extra"] = json!({"deep": true})
            }),
            ("empty unknown field kept", |o| {
                o["status"]["bogus"] = json!({})
            }),
            ("metadata labels and unknown", |o| {
                o["metadata"]["labels"]["tier"] = json!("x");
                o["metadata"]["bogus"] = json!(1);
            }),
            ("metadata type error", |o| {
                o["metadata"]["labels"] = json!(["x"])
            }),
            ("wrong kind", |o| o["kind"] = json!("Node")),
            ("spec emptied", |o| o["spec"] = json!({})),
        ];
        let current = stored_pod();
        for (name, edit) in cases {
            let mut desired = current.clone();
            edit(&mut desired);
            assert_same_as_whole_decode(name, &current, &desired);
        }
        // Not an object at all.
        assert_same_as_whole_decode("array", &current, &json!([1]));
        assert_same_as_whole_decode("from a non-object", &json!(1), &current);
    }

    #[test]
    fn update_keeps_unchanged_parts_as_stored() {
        let current = stored_pod();
        let mut desired = current.clone();
        desired["status"]["phase"] = json!("Running");
        desired["status"]["bogus"] = json!(1);
        let decoded = decode_update("", "Pod", &current, desired).expect("decodes");
        assert_eq!(decoded.unknown_fields, vec!["status.bogus".to_string()]);
        assert_eq!(decoded.object["status"]["phase"], "Running");
        assert_eq!(decoded.object["metadata"], current["metadata"]);
        assert_eq!(decoded.object["spec"], current["spec"]);
        // A kind without a type is kept as sent.
        let custom = json!({"apiVersion": "x/v1", "kind": "Thing", "spec": {"any": 1}});
        let kept = decode_update("x", "Thing", &json!({}), custom.clone()).expect("kept");
        assert_eq!(kept.object, custom);
        assert!(kept.unknown_fields.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Values a field may take: known shapes, wrong types, nested unknowns.
        fn any_value() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i32>().prop_map(|n| json!(n)),
                "[a-z]{0,6}".prop_map(Value::String),
                Just(json!({})),
                Just(json!([])),
                Just(json!({"bogus": 1})),
                Just(json!([{"type": "Ready", "status": "True", "x": 1}])),
                Just(json!({"requests": {"cpu": "1"}})),
            ]
        }

        /// Paths an edit may write to (known and unknown, at every depth we split on).
        const PATHS: &[&[&str]] = &[
            &["status"],
            &["status", "phase"],
            &["status", "conditions"],
            &["status", "bogus"],
            &["status", "hostIP"],
            &["spec"],
            &["spec", "nodeName"],
            &["spec", "containers"],
            &["spec", "priority"],
            &["spec", "unknown1"],
            &["metadata", "labels"],
            &["metadata", "bogus"],
            &["metadata", "generation"],
            &["extra"],
        ];

        use crate::object::set_path;

        /// The round trip as it was before it asked the decoder which fields it ignored:
        /// decode, re-encode, and copy the input without the keys the re-encoding lacks.
        fn reference_decode<T: DeserializeOwned + serde::Serialize>(
            value: &Value,
        ) -> Result<Decoded, String> {
            fn prune(
                input: &Value,
                typed: &Value,
                path: &mut String,
                unknown: &mut Vec<String>,
            ) -> Value {
                match (input, typed) {
                    (Value::Object(a), Value::Object(b)) => {
                        let mut out = Map::new();
                        for (k, v) in a {
                            let len = path.len();
                            if !path.is_empty() {
                                path.push('.');
                            }
                            path.push_str(k);
                            match b.get(k) {
                                Some(bv) => {
                                    out.insert(k.clone(), prune(v, bv, path, unknown));
                                }
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
                                let kept = prune(av, bv, path, unknown);
                                path.truncate(len);
                                kept
                            }
                            None => av.clone(),
                        })
                        .collect(),
                    _ => input.clone(),
                }
            }
            let typed = T::deserialize(value).map_err(|e| e.to_string())?;
            let typed_json = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
            let mut unknown_fields = Vec::new();
            let object = prune(value, &typed_json, &mut String::new(), &mut unknown_fields);
            Ok(Decoded {
                object,
                unknown_fields,
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Asking the decoder for the fields it ignored gives what re-encoding and comparing
            /// gave: the same object, unknown fields in the same order, the same error.
            #[test]
            fn decode_equals_the_reencoding_reference(
                edits in proptest::collection::vec((0..PATHS.len(), any_value()), 0..6)
            ) {
                let mut desired = stored_pod();
                for (path, value) in edits {
                    set_path(&mut desired, PATHS[path], value);
                }
                let expected = reference_decode::<core::Pod>(&desired);
                let got = decode("", "Pod", desired);
                match (got, expected) {
                    (Ok(g), Ok(e)) => {
                        prop_assert_eq!(g.object, e.object);
                        prop_assert_eq!(g.unknown_fields, e.unknown_fields);
                    }
                    (Err(g), Err(e)) => prop_assert_eq!(g, e),
                    (g, e) => prop_assert!(false, "got {:?}, reference {:?}", g, e),
                }
            }

            /// Whatever an update writes, deciding on the changed parts only gives the whole
            /// decode's outcome (object, unknown fields in order, first error).
            #[test]
            fn partial_decode_equals_whole_decode(
                edits in proptest::collection::vec((0..PATHS.len(), any_value()), 0..5)
            ) {
                let current = stored_pod();
                let mut desired = current.clone();
                for (path, value) in edits {
                    set_path(&mut desired, PATHS[path], value);
                }
                assert_same_as_whole_decode("generated", &current, &desired);
            }
        }
    }
}
