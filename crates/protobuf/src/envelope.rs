//! The `k8s\0` magic and the `runtime.Unknown` envelope around every Kubernetes protobuf
//! body, and the resolution of its `apiVersion`/`kind` to a message of the schema.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go`
//! (`Serializer.Decode`, `copyKindDefaults`), `pkg/runtime/generated.proto` (`Unknown`,
//! `TypeMeta`), `pkg/runtime/schema/group_version.go` (`ParseGroupVersion`) and
//! `pkg/apis/meta/v1/register.go` (the kinds every group version carries).

use crate::error::ProtobufError;
use crate::schema::{message, message_index, package_for_group_version};
use crate::wire::{LEN, Reader};

/// The four bytes every Kubernetes protobuf body starts with: `k8s\0`.
pub const PROTOBUF_MAGIC: [u8; 4] = [0x6b, 0x38, 0x73, 0x00];

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

const META_V1_PACKAGE: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";

/// `metav1.AddToGroupVersion` registers these in every API group version.
const PER_GROUP_VERSION_META_KINDS: [&str; 7] = [
    "ListOptions",
    "GetOptions",
    "DeleteOptions",
    "CreateOptions",
    "UpdateOptions",
    "PatchOptions",
    "WatchEvent",
];

/// Unversioned kinds, recognised by kind alone in any group version.
const UNVERSIONED_META_KINDS: [&str; 5] = [
    "Status",
    "APIVersions",
    "APIGroupList",
    "APIGroup",
    "APIResourceList",
];

/// A group, version and kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupVersionKind {
    /// The API group (`""` for the core group).
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind.
    pub kind: String,
}

impl GroupVersionKind {
    /// A GVK from its parts.
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        GroupVersionKind {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The GVK of an `apiVersion` and `kind` (`schema.FromAPIVersionAndKind`): an
    /// `apiVersion` with more than one `/` leaves group and version empty.
    pub fn from_api_version_and_kind(api_version: &str, kind: &str) -> Self {
        let (group, version) = parse_group_version(api_version).unwrap_or_default();
        GroupVersionKind {
            group,
            version,
            kind: kind.to_string(),
        }
    }

    /// `group/version`, or just `version` for the core group (`GroupVersion.String`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// `schema.ParseGroupVersion`.
fn parse_group_version(api_version: &str) -> Option<(String, String)> {
    if api_version.is_empty() || api_version == "/" {
        return Some((String::new(), String::new()));
    }
    match api_version.matches('/').count() {
        0 => Some((String::new(), api_version.to_string())),
        1 => {
            let (group, version) = api_version.split_once('/')?;
            Some((group.to_string(), version.to_string()))
        }
        _ => None,
    }
}

/// The decoded `runtime.Unknown` envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `typeMeta.apiVersion`.
    pub api_version: String,
    /// `typeMeta.kind`.
    pub kind: String,
    /// `raw`: the object's own protobuf bytes (`None` when absent).
    pub raw: Option<Vec<u8>>,
    /// `contentEncoding` (unused by the apiserver's decoder).
    pub content_encoding: String,
    /// `contentType` (unused by the apiserver's decoder).
    pub content_type: String,
}

/// True when `body` starts with the Kubernetes protobuf magic.
pub fn is_protobuf(body: &[u8]) -> bool {
    body.starts_with(&PROTOBUF_MAGIC)
}

/// Checks the magic and decodes the `runtime.Unknown` envelope.
pub fn decode_envelope(body: &[u8]) -> Result<Envelope, ProtobufError> {
    if body.is_empty() {
        return Err(ProtobufError::EmptyData);
    }
    if !is_protobuf(body) {
        return Err(ProtobufError::BadPrefix);
    }
    if body.len() == PROTOBUF_MAGIC.len() {
        return Err(ProtobufError::EmptyBody);
    }
    let mut envelope = Envelope::default();
    let mut reader = Reader::new(&body[PROTOBUF_MAGIC.len()..]);
    while !reader.is_empty() {
        let key_start = reader.position();
        let key = reader.key()?;
        check_key("Unknown", key)?;
        match key.number {
            1 => {
                expect_len("Unknown", "typeMeta", key.wire_type)?;
                // A repeated embedded message merges into the first.
                decode_type_meta(reader.length_delimited()?, &mut envelope)?;
            }
            2 => {
                expect_len("Unknown", "raw", key.wire_type)?;
                envelope.raw = Some(reader.length_delimited()?.to_vec());
            }
            3 => {
                expect_len("Unknown", "contentEncoding", key.wire_type)?;
                envelope.content_encoding = lossy(reader.length_delimited()?);
            }
            4 => {
                expect_len("Unknown", "contentType", key.wire_type)?;
                envelope.content_type = lossy(reader.length_delimited()?);
            }
            _ => reader.skip_field_from(key_start)?,
        }
    }
    Ok(envelope)
}

fn decode_type_meta(data: &[u8], envelope: &mut Envelope) -> Result<(), ProtobufError> {
    let mut reader = Reader::new(data);
    while !reader.is_empty() {
        let key_start = reader.position();
        let key = reader.key()?;
        check_key("TypeMeta", key)?;
        match key.number {
            1 => {
                expect_len("TypeMeta", "apiVersion", key.wire_type)?;
                envelope.api_version = lossy(reader.length_delimited()?);
            }
            2 => {
                expect_len("TypeMeta", "kind", key.wire_type)?;
                envelope.kind = lossy(reader.length_delimited()?);
            }
            _ => reader.skip_field_from(key_start)?,
        }
    }
    Ok(())
}

fn check_key(message: &str, key: crate::wire::Key) -> Result<(), ProtobufError> {
    if key.wire_type == crate::wire::END_GROUP {
        return Err(ProtobufError::EndGroupForNonGroup {
            message: message.to_string(),
        });
    }
    if key.number <= 0 {
        return Err(ProtobufError::IllegalTag {
            message: message.to_string(),
            number: key.number,
            wire_type: key.wire_type,
        });
    }
    Ok(())
}

fn expect_len(message: &str, field: &str, wire_type: u8) -> Result<(), ProtobufError> {
    if wire_type == LEN {
        Ok(())
    } else {
        Err(ProtobufError::WrongWireType {
            message: message.to_string(),
            field: field.to_string(),
            wire_type,
        })
    }
}

fn lossy(bytes: &[u8]) -> String {
    crate::golang::go_string(bytes)
}

/// The GVK the decoder uses: the envelope's, with empty parts filled from `defaults`
/// (`copyKindDefaults`), and the missing-kind/version checks of `Serializer.Decode`.
pub(crate) fn resolve_gvk(
    envelope: &Envelope,
    defaults: Option<&GroupVersionKind>,
) -> Result<GroupVersionKind, ProtobufError> {
    let mut actual =
        GroupVersionKind::from_api_version_and_kind(&envelope.api_version, &envelope.kind);
    if let Some(defaults) = defaults {
        if actual.kind.is_empty() {
            actual.kind = defaults.kind.clone();
        }
        if actual.version.is_empty() && !defaults.version.is_empty() {
            actual.group = defaults.group.clone();
            actual.version = defaults.version.clone();
        }
    }
    let type_meta = || {
        format!(
            "runtime.TypeMeta{{APIVersion:{:?}, Kind:{:?}}}",
            envelope.api_version, envelope.kind
        )
    };
    if actual.kind.is_empty() {
        return Err(ProtobufError::MissingKind(type_meta()));
    }
    if actual.version.is_empty() {
        return Err(ProtobufError::MissingVersion(type_meta()));
    }
    Ok(actual)
}

/// The schema index of the message that a GVK names, if the decoder knows the kind.
///
/// A kind resolves in its group version's package when that package has a message of that
/// name which embeds `TypeMeta` (so `PodSpec` is not a kind); the meta kinds every group
/// version carries resolve to `meta/v1`.
pub(crate) fn message_index_for(gvk: &GroupVersionKind) -> Option<usize> {
    let in_meta = || message_index(&format!("{META_V1_PACKAGE}.{}", gvk.kind));
    if gvk.group == "meta.k8s.io" && gvk.version == "v1" {
        return in_meta().filter(|&index| is_kind(index));
    }
    if let Some(package) = package_for_group_version(&gvk.group, &gvk.version) {
        if let Some(index) = message_index(&format!("{package}.{}", gvk.kind))
            && is_kind(index)
        {
            return Some(index);
        }
        if PER_GROUP_VERSION_META_KINDS.contains(&gvk.kind.as_str()) {
            return in_meta();
        }
    }
    if UNVERSIONED_META_KINDS.contains(&gvk.kind.as_str()) {
        return in_meta();
    }
    None
}

/// Whether a message is a kind (a struct embedding `TypeMeta`).
pub(crate) fn is_kind(index: usize) -> bool {
    message(index).fields.iter().any(|field| {
        field.inline
            && field.number == 0
            && matches!(field.ty, crate::schema::FieldType::One(crate::schema::Elem::M(child))
                if message(child).name == "k8s.io.apimachinery.pkg.apis.meta.v1.TypeMeta")
    })
}
