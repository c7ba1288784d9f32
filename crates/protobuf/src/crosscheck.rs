//! Cross-check of the generated table's JSON names against `k8s-openapi` (generated from the
//! upstream OpenAPI spec, an independent source): for each served kind, a body with *every*
//! field set (recursively) is decoded, the JSON is read into the `k8s-openapi` type and
//! written back, and no key may be lost or gained. A wrong `json:` name, a missed inline
//! embedding or a field of the wrong shape would make `k8s-openapi` drop or reject it.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::schema::{Elem, FieldType, Scalar, Special, message, message_index};

/// Protobuf bytes of the message at `index` with every field set once (lists and maps get
/// one element), special types holding valid values.
fn fill(index: usize, depth: usize) -> Vec<u8> {
    let schema = message(index);
    let mut out = Vec::new();
    match schema.special {
        Special::Time => return encode(&[(1, Wire::Varint(1_700_000_000))]),
        Special::MicroTime => {
            return encode(&[(1, Wire::Varint(1_700_000_000)), (2, Wire::Varint(123_000))]);
        }
        Special::Duration => return encode(&[(1, Wire::Varint(1_500_000_000))]),
        Special::IntOrString => return encode(&[(1, Wire::Varint(0)), (2, Wire::Varint(7))]),
        Special::Quantity => return encode(&[(1, Wire::Bytes(b"250m".to_vec()))]),
        Special::RawExtension => return encode(&[(1, Wire::Bytes(br#"{"a":1}"#.to_vec()))]),
        Special::FieldsV1 => return encode(&[(1, Wire::Bytes(br#"{"f:a":{}}"#.to_vec()))]),
        Special::StringList => return encode(&[(1, Wire::Bytes(b"x".to_vec()))]),
        Special::Plain => {}
    }
    if depth > 40 {
        return out;
    }
    for field in schema.fields {
        if field.number == 0 {
            continue;
        }
        let element = |elem: Elem| -> Wire {
            match elem {
                Elem::S(Scalar::Str) => Wire::Bytes(b"s".to_vec()),
                Elem::S(Scalar::Bytes) => Wire::Bytes(b"b".to_vec()),
                Elem::S(Scalar::Double) => Wire::Fixed64(1.5f64.to_bits()),
                Elem::S(Scalar::Float) => Wire::Fixed32(1.5f32.to_bits()),
                Elem::S(_) => Wire::Varint(1),
                Elem::M(child) => Wire::Bytes(fill(child, depth + 1)),
            }
        };
        let value = match field.ty {
            FieldType::One(elem) | FieldType::List(elem) => element(elem),
            FieldType::Map(elem) => Wire::Bytes(encode(&[
                (1, Wire::Bytes(b"k".to_vec())),
                (2, element(elem)),
            ])),
        };
        out.extend(encode(&[(field.number, value)]));
    }
    out
}

enum Wire {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(Vec<u8>),
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn encode(fields: &[(u32, Wire)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (number, wire) in fields {
        let wire_type = match wire {
            Wire::Varint(_) => 0,
            Wire::Fixed64(_) => 1,
            Wire::Bytes(_) => 2,
            Wire::Fixed32(_) => 5,
        };
        put_varint(&mut out, (u64::from(*number) << 3) | wire_type);
        match wire {
            Wire::Varint(v) => put_varint(&mut out, *v),
            Wire::Fixed64(v) => out.extend(v.to_le_bytes()),
            Wire::Fixed32(v) => out.extend(v.to_le_bytes()),
            Wire::Bytes(b) => {
                put_varint(&mut out, b.len() as u64);
                out.extend(b);
            }
        }
    }
    out
}

/// Every key path (`spec.containers[].name`) of a JSON value; map keys under `k` included.
fn key_paths(value: &Json, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Json::Object(map) => {
            for (key, child) in map {
                let path = format!("{prefix}.{key}");
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Json::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(proto_name: &str) {
    let index = message_index(proto_name).unwrap_or_else(|| panic!("{proto_name} missing"));
    let bytes = fill(index, 0);
    let decoded =
        crate::decode_index(index, &bytes).unwrap_or_else(|e| panic!("{proto_name}: {e}"));
    let typed: T = serde_json::from_value(decoded.clone())
        .unwrap_or_else(|e| panic!("{proto_name}: k8s-openapi rejects our JSON: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    let (mut ours, mut theirs) = (BTreeSet::new(), BTreeSet::new());
    key_paths(&decoded, "", &mut ours);
    key_paths(&back, "", &mut theirs);
    // k8s-openapi writes apiVersion/kind of every resource type itself, nested ones (e.g. a
    // StatefulSet's volumeClaimTemplates) included; Go leaves an embedded zero TypeMeta out
    // and the envelope supplies the top-level pair.
    theirs.retain(|path| {
        ours.contains(path) || !(path.ends_with(".apiVersion") || path.ends_with(".kind"))
    });
    let lost: Vec<_> = ours.difference(&theirs).collect();
    let gained: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        lost.is_empty() && gained.is_empty(),
        "{proto_name}: unknown to k8s-openapi {lost:?}; missing from ours {gained:?}"
    );
}

#[test]
fn served_kinds_round_trip_through_k8s_openapi() {
    use k8s_openapi::api::{
        apps::v1 as apps, authorization::v1 as authorization, autoscaling::v1 as autoscaling1,
        autoscaling::v2 as autoscaling2, batch::v1 as batch, coordination::v1 as coordination,
        core::v1 as core, discovery::v1 as discovery, events::v1 as events,
        networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
        scheduling::v1 as scheduling, storage::v1 as storage,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    round_trip::<core::Namespace>("k8s.io.api.core.v1.Namespace");
    round_trip::<core::Node>("k8s.io.api.core.v1.Node");
    round_trip::<core::Pod>("k8s.io.api.core.v1.Pod");
    round_trip::<core::Service>("k8s.io.api.core.v1.Service");
    round_trip::<core::Endpoints>("k8s.io.api.core.v1.Endpoints");
    round_trip::<core::ConfigMap>("k8s.io.api.core.v1.ConfigMap");
    round_trip::<core::Secret>("k8s.io.api.core.v1.Secret");
    round_trip::<core::Event>("k8s.io.api.core.v1.Event");
    round_trip::<core::ServiceAccount>("k8s.io.api.core.v1.ServiceAccount");
    round_trip::<core::PersistentVolume>("k8s.io.api.core.v1.PersistentVolume");
    round_trip::<core::PersistentVolumeClaim>("k8s.io.api.core.v1.PersistentVolumeClaim");
    round_trip::<core::ResourceQuota>("k8s.io.api.core.v1.ResourceQuota");
    round_trip::<core::LimitRange>("k8s.io.api.core.v1.LimitRange");
    round_trip::<core::Binding>("k8s.io.api.core.v1.Binding");
    round_trip::<apps::Deployment>("k8s.io.api.apps.v1.Deployment");
    round_trip::<apps::ReplicaSet>("k8s.io.api.apps.v1.ReplicaSet");
    round_trip::<apps::StatefulSet>("k8s.io.api.apps.v1.StatefulSet");
    round_trip::<apps::DaemonSet>("k8s.io.api.apps.v1.DaemonSet");
    round_trip::<apps::ControllerRevision>("k8s.io.api.apps.v1.ControllerRevision");
    round_trip::<batch::Job>("k8s.io.api.batch.v1.Job");
    round_trip::<batch::CronJob>("k8s.io.api.batch.v1.CronJob");
    round_trip::<policy::PodDisruptionBudget>("k8s.io.api.policy.v1.PodDisruptionBudget");
    round_trip::<policy::Eviction>("k8s.io.api.policy.v1.Eviction");
    round_trip::<autoscaling1::Scale>("k8s.io.api.autoscaling.v1.Scale");
    round_trip::<autoscaling1::HorizontalPodAutoscaler>(
        "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler",
    );
    round_trip::<autoscaling2::HorizontalPodAutoscaler>(
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
    );
    round_trip::<scheduling::PriorityClass>("k8s.io.api.scheduling.v1.PriorityClass");
    round_trip::<storage::StorageClass>("k8s.io.api.storage.v1.StorageClass");
    round_trip::<storage::CSINode>("k8s.io.api.storage.v1.CSINode");
    round_trip::<storage::CSIDriver>("k8s.io.api.storage.v1.CSIDriver");
    round_trip::<coordination::Lease>("k8s.io.api.coordination.v1.Lease");
    round_trip::<discovery::EndpointSlice>("k8s.io.api.discovery.v1.EndpointSlice");
    round_trip::<events::Event>("k8s.io.api.events.v1.Event");
    round_trip::<networking::Ingress>("k8s.io.api.networking.v1.Ingress");
    round_trip::<networking::IngressClass>("k8s.io.api.networking.v1.IngressClass");
    round_trip::<networking::NetworkPolicy>("k8s.io.api.networking.v1.NetworkPolicy");
    round_trip::<rbac::Role>("k8s.io.api.rbac.v1.Role");
    round_trip::<rbac::RoleBinding>("k8s.io.api.rbac.v1.RoleBinding");
    round_trip::<rbac::ClusterRole>("k8s.io.api.rbac.v1.ClusterRole");
    round_trip::<rbac::ClusterRoleBinding>("k8s.io.api.rbac.v1.ClusterRoleBinding");
    round_trip::<authorization::SelfSubjectAccessReview>(
        "k8s.io.api.authorization.v1.SelfSubjectAccessReview",
    );
    round_trip::<authorization::SubjectAccessReview>(
        "k8s.io.api.authorization.v1.SubjectAccessReview",
    );
    round_trip::<meta::DeleteOptions>("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions");
}

/// The renderer reads special messages' fields by position; pin the positions.
#[test]
fn special_message_field_positions() {
    let numbers = |name: &str| -> Vec<u32> {
        let index = message_index(name).unwrap_or_else(|| panic!("{name}"));
        message(index).fields.iter().map(|f| f.number).collect()
    };
    assert_eq!(numbers("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), [1, 2]);
    assert_eq!(
        numbers("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"),
        [1, 2]
    );
    assert_eq!(
        numbers("k8s.io.apimachinery.pkg.apis.meta.v1.Duration"),
        [1]
    );
    assert_eq!(
        numbers("k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"),
        [1]
    );
    assert_eq!(numbers("k8s.io.apimachinery.pkg.runtime.RawExtension"), [1]);
    assert_eq!(
        numbers("k8s.io.apimachinery.pkg.util.intstr.IntOrString"),
        [1, 2, 3]
    );
    assert_eq!(
        numbers("k8s.io.apimachinery.pkg.api.resource.Quantity"),
        [1]
    );
    assert_eq!(numbers("k8s.io.api.authorization.v1.ExtraValue"), [1]);
}

/// The table is sorted (binary search relies on it) and every message reference is in range.
#[test]
fn table_is_sorted_and_closed() {
    use crate::schema_generated::MESSAGES;
    assert!(MESSAGES.windows(2).all(|pair| pair[0].name < pair[1].name));
    for schema in MESSAGES {
        for field in schema.fields {
            let (FieldType::One(elem) | FieldType::List(elem) | FieldType::Map(elem)) = field.ty;
            if let Elem::M(child) = elem {
                assert!(child < MESSAGES.len(), "{}", schema.name);
            }
        }
    }
}
