//! Schema-driven decoding of a message's bytes into the values a Go struct would hold after
//! the gogo-generated `Unmarshal`.
//!
//! The semantics copied from the generated code (upstream: any `generated.pb.go`, e.g.
//! `staging/src/k8s.io/api/core/v1/generated.pb.go`):
//! * a singular scalar or string seen twice keeps the last value;
//! * a singular message seen twice is decoded *into* the first one (fields merge), except
//!   `metav1.Time`/`MicroTime` whose hand-written `Unmarshal` replaces the value
//!   (`apimachinery/pkg/apis/meta/v1/time_proto.go`, `micro_time_proto.go`);
//! * a repeated field appends, numeric ones accepting both packed and unpacked encodings;
//! * a map entry assigns `m[key] = value`, a missing key or value being the zero value;
//! * unknown fields are skipped; a known field with the wrong wire type is an error;
//! * `resource.Quantity` parses its string as it is read (`quantity_proto.go`), so an
//!   invalid quantity is a decoding error.
//!
//! Known, deliberate strictness: a map entry's key/value are read inside the entry's bytes
//! and with the expected wire type (Go reads them with any wire type and bounds-checks only
//! against the whole buffer). Well-formed bodies decode identically.

use std::collections::BTreeMap;

use crate::error::ProtobufError;
use crate::schema::{Elem, FieldSchema, FieldType, MessageSchema, Scalar, Special, message};
use crate::wire::{FIXED32, FIXED64, LEN, Reader, VARINT};

/// How deep messages may nest; deeper input is rejected rather than risk the stack.
pub const MAX_DEPTH: usize = 100;

/// A decoded scalar or message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A string (raw bytes: Go strings need not be UTF-8).
    Str(Vec<u8>),
    /// A bool.
    Bool(bool),
    /// A signed integer (`int32` already truncated like Go's conversion).
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A float.
    Float(f64),
    /// A `[]byte` that is non-nil (possibly empty).
    Bytes(Vec<u8>),
    /// A message.
    Message(Box<MessageValue>),
}

/// A decoded message: the fields that appeared on the wire, by index into the schema's
/// field list. Absent fields keep their Go zero value (or `nil`, for pointers).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct MessageValue {
    /// Field index → value.
    pub fields: BTreeMap<usize, FieldValue>,
    /// The message came from a non-empty byte string (matters for `Time`, whose `Unmarshal`
    /// treats empty input as the zero time but any other input as a timestamp).
    pub from_bytes: bool,
}

/// A decoded field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue {
    /// A singular field.
    One(Value),
    /// A repeated field (never empty: an empty Go slice cannot come off the wire).
    List(Vec<Value>),
    /// A map field; `None` values are the element type's zero value (the entry had no value).
    Map(BTreeMap<Vec<u8>, Option<Value>>),
}

impl MessageValue {
    /// The singular value of field `index`, if present.
    pub(crate) fn one(&self, index: usize) -> Option<&Value> {
        match self.fields.get(&index) {
            Some(FieldValue::One(value)) => Some(value),
            _ => None,
        }
    }
}

/// Decodes `data` as the message at `index` in the schema table.
pub(crate) fn decode_message(
    index: usize,
    data: &[u8],
    depth: usize,
) -> Result<MessageValue, ProtobufError> {
    let mut value = MessageValue::default();
    decode_into(index, data, depth, &mut value)?;
    Ok(value)
}

fn decode_into(
    index: usize,
    data: &[u8],
    depth: usize,
    target: &mut MessageValue,
) -> Result<(), ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep(MAX_DEPTH));
    }
    let schema = message(index);
    if !data.is_empty() {
        target.from_bytes = true;
    }
    let mut reader = Reader::new(data);
    while !reader.is_empty() {
        let key_start = reader.position();
        let key = reader.key()?;
        if key.wire_type == crate::wire::END_GROUP {
            return Err(ProtobufError::EndGroupForNonGroup {
                message: schema.name.to_string(),
            });
        }
        if key.number <= 0 {
            return Err(ProtobufError::IllegalTag {
                message: schema.name.to_string(),
                number: key.number,
                wire_type: key.wire_type,
            });
        }
        let Some(field_index) = schema.field_index(key.number as u32) else {
            reader.skip_field_from(key_start)?;
            continue;
        };
        let field = &schema.fields[field_index];
        let wrong_wire_type = || ProtobufError::WrongWireType {
            message: schema.name.to_string(),
            field: field_label(field),
            wire_type: key.wire_type,
        };
        match field.ty {
            FieldType::One(Elem::S(scalar)) => {
                let value = read_scalar(&mut reader, scalar, key.wire_type, schema, field)?;
                if schema.special == Special::Quantity {
                    check_quantity(&value)?;
                }
                target.fields.insert(field_index, FieldValue::One(value));
            }
            FieldType::One(Elem::M(child)) => {
                if key.wire_type != LEN {
                    return Err(wrong_wire_type());
                }
                let bytes = reader.length_delimited()?;
                let replaces = matches!(message(child).special, Special::Time | Special::MicroTime);
                match target.fields.get_mut(&field_index) {
                    Some(FieldValue::One(Value::Message(existing))) if !replaces => {
                        decode_into(child, bytes, depth + 1, existing)?;
                    }
                    _ => {
                        let fresh = decode_message(child, bytes, depth + 1)?;
                        target.fields.insert(
                            field_index,
                            FieldValue::One(Value::Message(Box::new(fresh))),
                        );
                    }
                }
            }
            FieldType::List(elem) => {
                let mut items = Vec::new();
                match elem {
                    Elem::M(child) => {
                        if key.wire_type != LEN {
                            return Err(wrong_wire_type());
                        }
                        let bytes = reader.length_delimited()?;
                        let item = decode_message(child, bytes, depth + 1)?;
                        items.push(Value::Message(Box::new(item)));
                    }
                    Elem::S(scalar) if key.wire_type == LEN && is_packable(scalar) => {
                        // Packed encoding: a run of values inside one length-delimited field.
                        let bytes = reader.length_delimited()?;
                        let mut packed = Reader::new(bytes);
                        while !packed.is_empty() {
                            items.push(read_scalar(
                                &mut packed,
                                scalar,
                                natural_wire_type(scalar),
                                schema,
                                field,
                            )?);
                        }
                    }
                    Elem::S(scalar) => {
                        items.push(read_scalar(
                            &mut reader,
                            scalar,
                            key.wire_type,
                            schema,
                            field,
                        )?);
                    }
                }
                match target.fields.get_mut(&field_index) {
                    Some(FieldValue::List(existing)) => existing.extend(items),
                    _ => {
                        if !items.is_empty() {
                            target.fields.insert(field_index, FieldValue::List(items));
                        }
                    }
                }
            }
            FieldType::Map(elem) => {
                if key.wire_type != LEN {
                    return Err(wrong_wire_type());
                }
                let entry = reader.length_delimited()?;
                let (map_key, map_value) = read_map_entry(entry, elem, depth, schema, field)?;
                match target.fields.get_mut(&field_index) {
                    Some(FieldValue::Map(existing)) => {
                        existing.insert(map_key, map_value);
                    }
                    _ => {
                        let mut map = BTreeMap::new();
                        map.insert(map_key, map_value);
                        target.fields.insert(field_index, FieldValue::Map(map));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A map entry: `key = 1` (string), `value = 2`; unknown fields skipped.
fn read_map_entry(
    entry: &[u8],
    elem: Elem,
    depth: usize,
    schema: &MessageSchema,
    field: &FieldSchema,
) -> Result<(Vec<u8>, Option<Value>), ProtobufError> {
    let mut reader = Reader::new(entry);
    let mut map_key = Vec::new();
    let mut map_value = None;
    while !reader.is_empty() {
        let key_start = reader.position();
        let key = reader.key()?;
        let wrong_wire_type = || ProtobufError::WrongWireType {
            message: schema.name.to_string(),
            field: field_label(field),
            wire_type: key.wire_type,
        };
        match key.number {
            1 => {
                if key.wire_type != LEN {
                    return Err(wrong_wire_type());
                }
                map_key = reader.length_delimited()?.to_vec();
            }
            2 => match elem {
                Elem::S(scalar) => {
                    let value = read_scalar(&mut reader, scalar, key.wire_type, schema, field)?;
                    map_value = Some(value);
                }
                Elem::M(child) => {
                    if key.wire_type != LEN {
                        return Err(wrong_wire_type());
                    }
                    let bytes = reader.length_delimited()?;
                    // Each value occurrence is a fresh message (gogo allocates a new one).
                    let value = decode_message(child, bytes, depth + 1)?;
                    map_value = Some(Value::Message(Box::new(value)));
                }
            },
            _ => reader.skip_field_from(key_start)?,
        }
    }
    Ok((map_key, map_value))
}

fn is_packable(scalar: Scalar) -> bool {
    !matches!(scalar, Scalar::Str | Scalar::Bytes)
}

fn natural_wire_type(scalar: Scalar) -> u8 {
    match scalar {
        Scalar::Str | Scalar::Bytes => LEN,
        Scalar::Double => FIXED64,
        Scalar::Float => FIXED32,
        Scalar::Bool | Scalar::Int32 | Scalar::Int64 | Scalar::Uint32 | Scalar::Uint64 => VARINT,
    }
}

fn read_scalar(
    reader: &mut Reader<'_>,
    scalar: Scalar,
    wire_type: u8,
    schema: &MessageSchema,
    field: &FieldSchema,
) -> Result<Value, ProtobufError> {
    if wire_type != natural_wire_type(scalar) {
        return Err(ProtobufError::WrongWireType {
            message: schema.name.to_string(),
            field: field_label(field),
            wire_type,
        });
    }
    Ok(match scalar {
        Scalar::Str => Value::Str(reader.length_delimited()?.to_vec()),
        Scalar::Bytes => Value::Bytes(reader.length_delimited()?.to_vec()),
        Scalar::Bool => Value::Bool(reader.varint()? != 0),
        // Go accumulates the varint into an int32: only the low 32 bits survive.
        Scalar::Int32 => Value::Int(i64::from(reader.varint()? as u32 as i32)),
        Scalar::Int64 => Value::Int(reader.varint()? as i64),
        Scalar::Uint32 => Value::Uint(u64::from(reader.varint()? as u32)),
        Scalar::Uint64 => Value::Uint(reader.varint()?),
        Scalar::Double => Value::Float(f64::from_bits(reader.fixed64()?)),
        Scalar::Float => Value::Float(f64::from(f32::from_bits(reader.fixed32()?))),
    })
}

/// `Quantity.Unmarshal` runs `ParseQuantity` on every string it reads.
fn check_quantity(value: &Value) -> Result<(), ProtobufError> {
    if let Value::Str(bytes) = value {
        let text = String::from_utf8_lossy(bytes);
        if let Err(error) = kubetwin_core::Quantity::parse(&text) {
            return Err(ProtobufError::InvalidQuantity {
                value: text.into_owned(),
                reason: error.to_string(),
            });
        }
    }
    Ok(())
}

/// A field's name for error messages.
pub(crate) fn field_label(field: &FieldSchema) -> String {
    match field.json {
        Some(name) => name.to_string(),
        None => format!("#{}", field.number),
    }
}
