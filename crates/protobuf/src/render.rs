//! Rendering decoded values as the apiserver's `encoding/json` would encode the Go struct.
//!
//! The rules, from Go `src/encoding/json/encode.go`:
//! * fields in struct order under their `json:` names; embedded structs without a name are
//!   inlined, the outer struct's own fields winning over embedded ones of the same name;
//! * `omitempty` drops false, 0, "", nil pointers and empty slices/maps, never a struct;
//!   `omitzero` drops the zero value, asking `IsZero()` where the type has it;
//! * a nil pointer, slice, map or `[]byte` is `null`; `[]byte` is base64;
//! * invalid UTF-8 in strings becomes U+FFFD;
//! * NaN and infinities are errors.
//!
//! And the custom `MarshalJSON`s of the special types:
//! * `metav1.Time`: `null` when zero, else RFC 3339 in UTC with whole seconds
//!   (`apimachinery/pkg/apis/meta/v1/time.go`; `time_proto.go` drops the nanoseconds);
//! * `metav1.MicroTime`: likewise with six fractional digits (`micro_time.go`,
//!   `micro_time_proto.go` truncates to microseconds);
//! * `metav1.Duration`: `time.Duration.String()` (`duration.go`);
//! * `intstr.IntOrString`: the int or the string by `type`, other types an error
//!   (`apimachinery/pkg/util/intstr/intstr.go`);
//! * `resource.Quantity`: its `String()` (`apimachinery/pkg/api/resource/quantity.go`);
//! * `runtime.RawExtension`: the raw bytes when they look like JSON, `null` when nil
//!   (`apimachinery/pkg/runtime/extension.go`);
//! * `metav1.FieldsV1`: the raw bytes, `null` when nil (`apimachinery/pkg/apis/meta/v1/helpers.go`).

use serde_json::{Map, Number, Value as Json};

use crate::decode::{FieldValue, MessageValue, Value};
use crate::error::ProtobufError;
use crate::golang::{
    ZERO_TIME_UNIX_SECONDS, base64_std, duration_string, format_rfc3339, format_rfc3339_micro,
    go_string, normalize_unix,
};
use crate::schema::{Elem, FieldSchema, FieldType, Omit, Scalar, Special, message};

/// Renders the message at `index`; `None` is the Go zero value of the struct.
pub(crate) fn render_message(
    index: usize,
    value: Option<&MessageValue>,
) -> Result<Json, ProtobufError> {
    let schema = message(index);
    match schema.special {
        Special::Plain => {
            let mut object = Map::new();
            render_fields(index, value, &mut object)?;
            Ok(Json::Object(object))
        }
        Special::Time => Ok(match time_of(value) {
            None => Json::Null,
            Some((seconds, _)) => Json::String(format_rfc3339(seconds)),
        }),
        Special::MicroTime => Ok(match micro_time_of(value) {
            None => Json::Null,
            Some((seconds, nanos)) => Json::String(format_rfc3339_micro(seconds, nanos)),
        }),
        Special::Duration => {
            let nanos = int_field(value, 0).unwrap_or(0);
            Ok(Json::String(duration_string(nanos)))
        }
        Special::IntOrString => {
            // Fields: type (int64), intVal (int32), strVal (string).
            match int_field(value, 0).unwrap_or(0) {
                0 => Ok(Json::Number(Number::from(int_field(value, 1).unwrap_or(0)))),
                1 => Ok(Json::String(
                    str_field(value, 2).map(go_string).unwrap_or_default(),
                )),
                _ => Err(ProtobufError::ImpossibleIntOrString),
            }
        }
        Special::Quantity => {
            let text = str_field(value, 0).map(go_string);
            match text {
                // The zero Quantity prints as "0".
                None => Ok(Json::String("0".to_string())),
                Some(text) => match kubetwin_core::Quantity::parse(&text) {
                    Ok(quantity) => Ok(Json::String(quantity.to_string())),
                    Err(error) => Err(ProtobufError::InvalidQuantity {
                        value: text,
                        reason: error.to_string(),
                    }),
                },
            }
        }
        Special::RawExtension => render_raw_extension(bytes_field(value, 0)),
        Special::FieldsV1 => render_fields_v1(bytes_field(value, 0)),
        Special::StringList => {
            let items = match value.and_then(|v| v.fields.get(&0)) {
                Some(FieldValue::List(items)) => items,
                _ => return Ok(Json::Null),
            };
            items
                .iter()
                .map(|item| render_value(Elem::S(Scalar::Str), item))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array)
        }
    }
}

/// Writes the fields of a plain struct into `object` (inlined structs included).
fn render_fields(
    index: usize,
    value: Option<&MessageValue>,
    object: &mut Map<String, Json>,
) -> Result<(), ProtobufError> {
    let schema = message(index);
    let mut inlined: Vec<(String, Json)> = Vec::new();
    for (field_index, field) in schema.fields.iter().enumerate() {
        let field_value = value.and_then(|v| v.fields.get(&field_index));
        if field.inline {
            let FieldType::One(Elem::M(child)) = field.ty else {
                continue;
            };
            let child_value = match field_value {
                Some(FieldValue::One(Value::Message(m))) => Some(m.as_ref()),
                _ => None,
            };
            if field.pointer && child_value.is_none() {
                continue; // a nil embedded pointer contributes nothing
            }
            let mut inner = Map::new();
            render_fields(child, child_value, &mut inner)?;
            inlined.extend(inner);
            continue;
        }
        let Some(name) = field.json else {
            continue;
        };
        if omitted(field, field_value) {
            continue;
        }
        let json = render_field(field, field_value)?;
        object.insert(name.to_string(), json);
    }
    for (name, json) in inlined {
        object.entry(name).or_insert(json);
    }
    Ok(())
}

/// Whether `encoding/json` leaves the field out.
fn omitted(field: &FieldSchema, value: Option<&FieldValue>) -> bool {
    let (empty, zero) = match field.omit {
        Omit::Never => return false,
        Omit::Empty => (true, false),
        Omit::Zero => (false, true),
        Omit::EmptyOrZero => (true, true),
    };
    (empty && is_empty(field, value)) || (zero && is_zero(field, value))
}

/// `omitempty`'s test (`isEmptyValue`).
fn is_empty(field: &FieldSchema, value: Option<&FieldValue>) -> bool {
    if field.pointer {
        return value.is_none();
    }
    match (field.ty, value) {
        (FieldType::List(_) | FieldType::Map(_), None) => true,
        (FieldType::List(_) | FieldType::Map(_), Some(_)) => false,
        (FieldType::One(Elem::S(_)), None) => true,
        (FieldType::One(Elem::S(_)), Some(FieldValue::One(scalar))) => is_empty_scalar(scalar),
        // Structs are never empty, but a named slice type (StringList) is a slice.
        (FieldType::One(Elem::M(child)), value)
            if message(child).special == Special::StringList =>
        {
            !matches!(
                value,
                Some(FieldValue::One(Value::Message(m))) if m.fields.contains_key(&0)
            )
        }
        _ => false,
    }
}

fn is_empty_scalar(value: &Value) -> bool {
    match value {
        Value::Str(s) | Value::Bytes(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::Message(_) => false,
    }
}

/// `omitzero`'s test: `IsZero()` for the types that have one, else `reflect.Value.IsZero`.
fn is_zero(field: &FieldSchema, value: Option<&FieldValue>) -> bool {
    if field.pointer {
        return value.is_none();
    }
    match (field.ty, value) {
        (_, None) => true,
        (FieldType::List(_) | FieldType::Map(_), Some(_)) => false,
        (FieldType::One(Elem::S(_)), Some(FieldValue::One(scalar))) => match scalar {
            // A non-nil empty []byte is not the zero value.
            Value::Bytes(_) => false,
            other => is_empty_scalar(other),
        },
        (FieldType::One(Elem::M(child)), Some(FieldValue::One(Value::Message(m)))) => {
            is_zero_message(child, m)
        }
        _ => false,
    }
}

fn is_zero_message(index: usize, value: &MessageValue) -> bool {
    match message(index).special {
        Special::Time => time_of(Some(value)).is_none(),
        Special::MicroTime => micro_time_of(Some(value)).is_none(),
        Special::Quantity => match str_field(Some(value), 0) {
            None => true,
            Some(text) => kubetwin_core::Quantity::parse(&go_string(text))
                .map(|q| q.is_zero())
                .unwrap_or(false),
        },
        _ => message(index)
            .fields
            .iter()
            .enumerate()
            .all(|(i, field)| is_zero(field, value.fields.get(&i))),
    }
}

/// The JSON of a field that is not omitted.
fn render_field(field: &FieldSchema, value: Option<&FieldValue>) -> Result<Json, ProtobufError> {
    match (field.ty, value) {
        (_, None) if field.pointer => Ok(Json::Null),
        (FieldType::List(_) | FieldType::Map(_), None) => Ok(Json::Null),
        (FieldType::One(elem), None) => render_zero(elem),
        (FieldType::One(elem), Some(FieldValue::One(v))) => render_value(elem, v),
        (FieldType::List(elem), Some(FieldValue::List(items))) => items
            .iter()
            .map(|item| render_value(elem, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array),
        (FieldType::Map(elem), Some(FieldValue::Map(entries))) => {
            let mut object = Map::new();
            for (key, entry) in entries {
                let json = match entry {
                    Some(v) => render_value(elem, v)?,
                    None => render_zero(elem)?,
                };
                object.insert(go_string(key), json);
            }
            Ok(Json::Object(object))
        }
        // The decoder only builds values matching the field type.
        _ => Ok(Json::Null),
    }
}

/// The JSON of a Go zero value of an element type.
fn render_zero(elem: Elem) -> Result<Json, ProtobufError> {
    Ok(match elem {
        Elem::S(Scalar::Str) => Json::String(String::new()),
        Elem::S(Scalar::Bool) => Json::Bool(false),
        Elem::S(Scalar::Int32 | Scalar::Int64 | Scalar::Uint32 | Scalar::Uint64) => {
            Json::Number(Number::from(0))
        }
        Elem::S(Scalar::Double | Scalar::Float) => Json::Number(Number::from(0)),
        Elem::S(Scalar::Bytes) => Json::Null,
        Elem::M(child) => render_message(child, None)?,
    })
}

fn render_value(elem: Elem, value: &Value) -> Result<Json, ProtobufError> {
    Ok(match value {
        Value::Str(bytes) => Json::String(go_string(bytes)),
        Value::Bytes(bytes) => Json::String(base64_std(bytes)),
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number(Number::from(*i)),
        Value::Uint(u) => Json::Number(Number::from(*u)),
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => return Err(ProtobufError::UnsupportedFloat(format!("{f}"))),
        },
        Value::Message(m) => match elem {
            Elem::M(child) => render_message(child, Some(m))?,
            Elem::S(_) => Json::Null,
        },
    })
}

/// `Time` after `Unmarshal`: `None` is the zero time.
fn time_of(value: Option<&MessageValue>) -> Option<(i64, u32)> {
    let value = value.filter(|v| v.from_bytes)?;
    // `time_proto.go` keeps the seconds only.
    let seconds = int_field(Some(value), 0).unwrap_or(0);
    if seconds == ZERO_TIME_UNIX_SECONDS {
        return None;
    }
    Some((seconds, 0))
}

/// `MicroTime` after `Unmarshal`: nanoseconds truncated to microseconds, then normalised.
fn micro_time_of(value: Option<&MessageValue>) -> Option<(i64, u32)> {
    let value = value.filter(|v| v.from_bytes)?;
    let seconds = int_field(Some(value), 0).unwrap_or(0);
    let nanos = int_field(Some(value), 1).unwrap_or(0);
    // time.Duration(nanos).Truncate(time.Microsecond): toward zero.
    let truncated = nanos - nanos % 1000;
    let (seconds, nanos) = normalize_unix(seconds, truncated);
    if seconds == ZERO_TIME_UNIX_SECONDS && nanos == 0 {
        return None;
    }
    Some((seconds, nanos))
}

fn int_field(value: Option<&MessageValue>, index: usize) -> Option<i64> {
    match value?.one(index)? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn str_field(value: Option<&MessageValue>, index: usize) -> Option<&[u8]> {
    match value?.one(index)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn bytes_field(value: Option<&MessageValue>, index: usize) -> Option<&[u8]> {
    match value?.one(index)? {
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// CBOR's self-described tag (`runtime.cborSelfDescribed`).
const CBOR_SELF_DESCRIBED: [u8; 3] = [0xd9, 0xd9, 0xf7];

fn render_raw_extension(raw: Option<&[u8]>) -> Result<Json, ProtobufError> {
    let Some(raw) = raw else {
        return Ok(Json::Null);
    };
    if raw.starts_with(&CBOR_SELF_DESCRIBED) {
        return Err(ProtobufError::UnsupportedCbor("RawExtension"));
    }
    match raw.first() {
        Some(
            b'\t'
            | b'\r'
            | b'\n'
            | b' '
            | b'{'
            | b'['
            | b'n'
            | b't'
            | b'f'
            | b'"'
            | b'-'
            | b'0'..=b'9',
        ) => parse_embedded_json(raw, "RawExtension"),
        _ => Err(ProtobufError::UnrecognizedRawContentType),
    }
}

fn render_fields_v1(raw: Option<&[u8]>) -> Result<Json, ProtobufError> {
    let Some(raw) = raw else {
        return Ok(Json::Null);
    };
    if let Some(&first) = raw.first()
        && (first == 0xf6 || (0xa0..=0xbf).contains(&first) || (0xc6..=0xdb).contains(&first))
    {
        return Err(ProtobufError::UnsupportedCbor("FieldsV1"));
    }
    parse_embedded_json(raw, "FieldsV1")
}

fn parse_embedded_json(raw: &[u8], what: &'static str) -> Result<Json, ProtobufError> {
    serde_json::from_slice(raw).map_err(|error| ProtobufError::InvalidEmbeddedJson {
        what,
        reason: error.to_string(),
    })
}
