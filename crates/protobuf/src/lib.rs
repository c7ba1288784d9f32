//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`)
//! into the JSON the apiserver would encode for the same object. Pure: no I/O.
//!
//! Typed client-go clientsets (and so the real `kubectl create namespace|configmap|secret|
//! deployment|job|service|quota|role`, `drain` evictions, `autoscale`, `auth can-i`, …) send
//! protobuf bodies. A body is the magic `k8s\0` followed by a `runtime.Unknown` envelope whose
//! `typeMeta` names the kind and whose `raw` holds the object's message
//! (`staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go`).
//! [`decode_to_json`] decodes that message and renders it exactly as Go's `encoding/json`
//! renders the decoded Go struct: `json:` names, `omitempty`/`omitzero`, inline embedding,
//! `null` for nil pointers/slices/maps, base64 `[]byte`, and the custom encodings of
//! `metav1.Time`, `MicroTime`, `Duration`, `FieldsV1`, `intstr.IntOrString`,
//! `resource.Quantity` and `runtime.RawExtension`.
//!
//! # Design: a generic wire decoder driven by a generated schema table
//!
//! The alternative was the `k8s-pb` crate (prost types for the k8s protos). It was not
//! chosen: it describes itself as work in progress, tracks whatever Kubernetes release its
//! generator last ran on rather than 1.34, and prost types know nothing of what the JSON
//! needs — `json:` names of inline fields, `omitempty`, Go pointer-ness (nil vs. zero
//! value) — so every one of its ~1,100 types would need a hand-written JSON mapping.
//!
//! Instead `src/schema_generated.rs` holds one entry per message of `k8s.io/api` and the
//! apimachinery packages (meta/v1, runtime, intstr, resource) of Kubernetes 1.34: field
//! number and protobuf type from upstream `generated.proto`, JSON name, omission rule,
//! inline flag and pointer-ness from the Go struct tags of the upstream API types. The table
//! is produced once per Kubernetes release by `tools/gen_schema.py`, which aborts on any
//! disagreement between the two sources; the upstream files are not committed. To
//! regenerate, check out `k8s.io/api` and `k8s.io/apimachinery` at the release tag and run
//!
//! ```text
//! python3 crates/protobuf/tools/gen_schema.py --api <api> --apimachinery <apimachinery> \
//!     --version 1.34.10 --out crates/protobuf/src/schema_generated.rs
//! ```
//!
//! Every group version of `k8s.io/api` is covered, so every kind the server serves is.
//!
//! # Known differences from the apiserver
//! * `RawExtension`/`FieldsV1` holding CBOR are rejected (real clients send JSON there).
//! * Map entries are read strictly (key and value inside the entry, with their expected wire
//!   types); malformed input that Go would half-accept is an error here.
//! * Timestamps more than ~292 billion years before the epoch format with an exact
//!   calendar where Go's arithmetic wraps.
//! * Key order: `serde_json` objects are sorted; Go writes struct order. Semantically equal.

#[cfg(test)]
mod crosscheck;
mod decode;
mod envelope;
mod error;
mod golang;
mod render;
mod schema;
#[rustfmt::skip]
mod schema_generated;
mod wire;

pub use decode::MAX_DEPTH;
pub use envelope::{
    Envelope, GroupVersionKind, PROTOBUF_CONTENT_TYPE, PROTOBUF_MAGIC, decode_envelope, is_protobuf,
};
pub use error::ProtobufError;

use serde_json::Value as Json;

/// The Kubernetes release the schema table was generated from.
pub const KUBERNETES_VERSION: &str = schema_generated::KUBERNETES_VERSION;

/// A decoded body: the kind it was decoded as and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The group, version and kind the body was decoded as.
    pub gvk: GroupVersionKind,
    /// The object, with `apiVersion` and `kind` set from [`Decoded::gvk`].
    pub object: Json,
}

/// Decodes a Kubernetes protobuf body (magic + `runtime.Unknown` envelope) into the object's
/// JSON form, `apiVersion`/`kind` taken from the envelope.
pub fn decode_to_json(body: &[u8]) -> Result<Json, ProtobufError> {
    decode_with_defaults(body, None).map(|decoded| decoded.object)
}

/// Like [`decode_to_json`], filling an empty envelope kind or version from `defaults` the way
/// the apiserver fills them from the resource the request addresses (`copyKindDefaults`).
pub fn decode_with_defaults(
    body: &[u8],
    defaults: Option<&GroupVersionKind>,
) -> Result<Decoded, ProtobufError> {
    let envelope = decode_envelope(body)?;
    let gvk = envelope::resolve_gvk(&envelope, defaults)?;
    let index = envelope::message_index_for(&gvk).ok_or_else(|| ProtobufError::NotRegistered {
        api_version: gvk.api_version(),
        kind: gvk.kind.clone(),
    })?;
    let mut object = decode_index(index, envelope.raw.as_deref().unwrap_or_default())?;
    if let Json::Object(map) = &mut object
        && envelope::is_kind(index)
    {
        // `unmarshalToObject` sets the GVK on the decoded object; TypeMeta's fields are
        // `omitempty` and the kind and version are non-empty here. (A struct without
        // TypeMeta, such as WatchEvent, has nowhere to keep them.)
        map.insert("apiVersion".to_string(), Json::String(gvk.api_version()));
        map.insert("kind".to_string(), Json::String(gvk.kind.clone()));
    }
    Ok(Decoded { gvk, object })
}

/// Decodes a bare message (no magic, no envelope) of the given fully-qualified protobuf name
/// (e.g. `k8s.io.api.core.v1.PodSpec`) into JSON.
pub fn decode_message_to_json(message_name: &str, bytes: &[u8]) -> Result<Json, ProtobufError> {
    let index = schema::message_index(message_name)
        .ok_or_else(|| ProtobufError::UnknownMessage(message_name.to_string()))?;
    decode_index(index, bytes)
}

/// The fully-qualified protobuf message a group/version/kind decodes as, if known.
pub fn message_name_for(gvk: &GroupVersionKind) -> Option<&'static str> {
    envelope::message_index_for(gvk).map(|index| schema::message(index).name)
}

/// Every fully-qualified message name the schema knows, sorted.
pub fn message_names() -> impl Iterator<Item = &'static str> {
    schema::message_names()
}

fn decode_index(index: usize, bytes: &[u8]) -> Result<Json, ProtobufError> {
    let value = decode::decode_message(index, bytes, 0)?;
    render::render_message(index, Some(&value))
}
