//! The shape of the generated schema table and look-ups over it.
//!
//! One [`MessageSchema`] per protobuf message of `k8s.io/api` and the apimachinery packages the
//! API types use. Its fields are listed in Go struct order (the order the apiserver's
//! `encoding/json` writes them) and carry both what the wire decoder needs (field number,
//! protobuf type) and what the JSON renderer needs (JSON name, `omitempty`/`omitzero`, inline
//! embedding, Go pointer-ness).

use crate::schema_generated::{GROUP_VERSIONS, MESSAGES};

/// A protobuf scalar type. The 1.34 table uses no floats or unsigned integers; the decoder
/// supports them so that a regenerated table may.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// `string` (Go `string` or a named string type).
    Str,
    /// `bool`.
    Bool,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `bytes` (Go `[]byte`, base64 in JSON).
    Bytes,
    /// `double` (Go `float64`).
    Double,
    /// `float` (Go `float32`).
    Float,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
}

/// The element type of a field, a list or a map value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    /// A scalar.
    S(Scalar),
    /// A message: index into the message table.
    M(usize),
}

/// A field's protobuf type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// `optional` (a single value).
    One(Elem),
    /// `repeated` (a Go slice).
    List(Elem),
    /// `map<string, V>` (a Go map with string keys).
    Map(Elem),
}

/// The `encoding/json` omission rule of a field. (1.34 has `omitzero` only together with
/// `omitempty`, on `creationTimestamp`; plain `Zero` is there for regenerated tables.)
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Omit {
    /// Always written.
    Never,
    /// `omitempty`: false, 0, "", nil pointer, empty slice or map (never a struct).
    Empty,
    /// `omitzero`: the Go zero value, or `IsZero()` where the type has it.
    Zero,
    /// Both `omitempty` and `omitzero`: omitted when either says so.
    EmptyOrZero,
}

/// Messages whose Go type has a JSON encoding (or a protobuf decoding) of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// An ordinary struct.
    Plain,
    /// `metav1.Time`.
    Time,
    /// `metav1.MicroTime`.
    MicroTime,
    /// `metav1.Duration`.
    Duration,
    /// `metav1.FieldsV1`.
    FieldsV1,
    /// `runtime.RawExtension`.
    RawExtension,
    /// `intstr.IntOrString`.
    IntOrString,
    /// `resource.Quantity`.
    Quantity,
    /// A named `[]string` type carried as `message { repeated string items = 1; }`
    /// (`ExtraValue`, `metav1.Verbs`): a plain JSON array.
    StringList,
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSchema {
    /// Protobuf field number; 0 for Go-only fields (the embedded `TypeMeta`), never on the wire.
    pub number: u32,
    /// JSON key; `None` for inline embeddings and for `json:"-"` fields.
    pub json: Option<&'static str>,
    /// An embedded struct whose fields `encoding/json` writes into the parent object.
    pub inline: bool,
    /// The omission rule.
    pub omit: Omit,
    /// The Go field is a pointer: absent on the wire means `nil` (JSON `null`), not the zero
    /// value.
    pub pointer: bool,
    /// The protobuf type.
    pub ty: FieldType,
}

/// One message.
#[derive(Debug)]
pub(crate) struct MessageSchema {
    /// Fully-qualified protobuf name, e.g. `k8s.io.api.core.v1.Pod`.
    pub name: &'static str,
    /// Custom encoding, if any.
    pub special: Special,
    /// Fields in Go struct order.
    pub fields: &'static [FieldSchema],
}

impl MessageSchema {
    /// The index of the field with this wire number.
    pub(crate) fn field_index(&self, number: u32) -> Option<usize> {
        if number == 0 {
            return None;
        }
        self.fields.iter().position(|f| f.number == number)
    }
}

/// The message at `index` (indices come from the table itself, so they are in range).
pub(crate) fn message(index: usize) -> &'static MessageSchema {
    &MESSAGES[index]
}

/// The index of a message by fully-qualified protobuf name.
pub(crate) fn message_index(name: &str) -> Option<usize> {
    MESSAGES.binary_search_by(|m| m.name.cmp(name)).ok()
}

/// The protobuf package of an API group version (`""`/`"v1"` → `k8s.io.api.core.v1`).
pub(crate) fn package_for_group_version(group: &str, version: &str) -> Option<&'static str> {
    GROUP_VERSIONS
        .iter()
        .find(|(g, v, _)| *g == group && *v == version)
        .map(|(_, _, p)| *p)
}

/// Every message name in the table (for tests and tools).
pub(crate) fn message_names() -> impl Iterator<Item = &'static str> {
    MESSAGES.iter().map(|m| m.name)
}
