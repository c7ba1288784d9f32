//! Errors of protobuf decoding. The messages follow the Go ones (gogo-generated `Unmarshal`,
//! `protobuf.Serializer.Decode`, the custom `MarshalJSON`s) where there is one.

use thiserror::Error;

/// Why a protobuf body could not be turned into JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtobufError {
    /// The body is empty.
    #[error("empty data")]
    EmptyData,
    /// The body does not start with the `k8s\0` magic.
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )]
    BadPrefix,
    /// The body is just the magic.
    #[error("empty body")]
    EmptyBody,
    /// A varint, length or value runs past the end of its buffer.
    #[error("unexpected EOF")]
    UnexpectedEof,
    /// A varint longer than ten bytes.
    #[error("proto: integer overflow")]
    IntegerOverflow,
    /// A length prefix that is negative as a Go `int`.
    #[error("proto: negative length found during unmarshaling")]
    InvalidLength,
    /// An end-group key where a field was expected.
    #[error("proto: {message}: wiretype end group for non-group")]
    EndGroupForNonGroup {
        /// The message being decoded.
        message: String,
    },
    /// A field number ≤ 0.
    #[error("proto: {message}: illegal tag {number} (wire type {wire_type})")]
    IllegalTag {
        /// The message being decoded.
        message: String,
        /// The field number read.
        number: i32,
        /// The wire type read.
        wire_type: u8,
    },
    /// A known field carried with a wire type its type cannot have.
    #[error("proto: wrong wireType = {wire_type} for field {field} of {message}")]
    WrongWireType {
        /// The message being decoded.
        message: String,
        /// The field (JSON name, or number for fields without one).
        field: String,
        /// The wire type read.
        wire_type: u8,
    },
    /// Wire type 6 or 7 in an unknown field.
    #[error("proto: illegal wireType {0}")]
    IllegalWireType(u8),
    /// An end-group key without a start.
    #[error("proto: unexpected end of group")]
    UnexpectedEndOfGroup,
    /// The envelope names no kind (and no default was given).
    #[error("Object 'Kind' is missing in '{0}'")]
    MissingKind(String),
    /// The envelope names no version (and no default was given).
    #[error("Object 'apiVersion' is missing in '{0}'")]
    MissingVersion(String),
    /// The envelope names a kind this decoder has no schema for.
    #[error("no kind \"{kind}\" is registered for version \"{api_version}\"")]
    NotRegistered {
        /// `group/version` (or `version` for the core group).
        api_version: String,
        /// The kind.
        kind: String,
    },
    /// No message of that fully-qualified name in the schema table.
    #[error("unknown protobuf message {0}")]
    UnknownMessage(String),
    /// A `resource.Quantity` whose string does not parse (`ParseQuantity`).
    #[error("invalid quantity {value:?}: {reason}")]
    InvalidQuantity {
        /// The string on the wire (lossily decoded).
        value: String,
        /// The parse error.
        reason: String,
    },
    /// An `IntOrString` whose type is neither 0 (int) nor 1 (string).
    #[error("impossible IntOrString.Type")]
    ImpossibleIntOrString,
    /// A `RawExtension` or `FieldsV1` whose bytes are not valid JSON.
    #[error("invalid embedded JSON in {what}: {reason}")]
    InvalidEmbeddedJson {
        /// `RawExtension` or `FieldsV1`.
        what: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// A `RawExtension` or `FieldsV1` holding CBOR, which this decoder does not read.
    #[error("{0} holds CBOR, which is not supported")]
    UnsupportedCbor(&'static str),
    /// A non-empty `RawExtension` whose first byte is neither JSON nor CBOR.
    #[error("cannot convert RawExtension with unrecognized content type to unstructured")]
    UnrecognizedRawContentType,
    /// A NaN or infinite float, which JSON cannot hold.
    #[error("json: unsupported value: {0}")]
    UnsupportedFloat(String),
    /// Messages nested deeper than [`crate::MAX_DEPTH`].
    #[error("messages nested deeper than {0}")]
    TooDeep(usize),
}
