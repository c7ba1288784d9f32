//! A tiny protobuf encoder for building test bodies, and hex helpers.

#![allow(dead_code)]

/// Builds one message's bytes field by field.
#[derive(Debug, Clone, Default)]
pub struct Msg(pub Vec<u8>);

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

impl Msg {
    /// An empty message.
    pub fn new() -> Self {
        Msg(Vec::new())
    }

    /// A raw key.
    pub fn key(mut self, field: u32, wire_type: u8) -> Self {
        put_varint(&mut self.0, (u64::from(field) << 3) | u64::from(wire_type));
        self
    }

    /// A varint field.
    pub fn varint(self, field: u32, value: u64) -> Self {
        let mut out = self.key(field, 0);
        put_varint(&mut out.0, value);
        out
    }

    /// A signed integer field (negative values as ten-byte varints, like Go).
    pub fn int(self, field: u32, value: i64) -> Self {
        self.varint(field, value as u64)
    }

    /// A bool field.
    pub fn boolean(self, field: u32, value: bool) -> Self {
        self.varint(field, u64::from(value))
    }

    /// A length-delimited field holding `bytes`.
    pub fn bytes(self, field: u32, bytes: &[u8]) -> Self {
        let mut out = self.key(field, 2);
        put_varint(&mut out.0, bytes.len() as u64);
        out.0.extend_from_slice(bytes);
        out
    }

    /// A string field.
    pub fn string(self, field: u32, value: &str) -> Self {
        self.bytes(field, value.as_bytes())
    }

    /// An embedded message field.
    pub fn message(self, field: u32, message: Msg) -> Self {
        self.bytes(field, &message.0)
    }

    /// A `map<string, string>` entry.
    pub fn map_str(self, field: u32, key: &str, value: &str) -> Self {
        self.message(field, Msg::new().string(1, key).string(2, value))
    }

    /// A `map<string, Message>` entry.
    pub fn map_msg(self, field: u32, key: &str, value: Msg) -> Self {
        self.message(field, Msg::new().string(1, key).message(2, value))
    }

    /// Appends raw bytes.
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The bytes.
    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// `metav1.ObjectMeta` with a name (field 1) and namespace (field 3).
pub fn meta(name: &str, namespace: &str) -> Msg {
    let meta = Msg::new().string(1, name);
    if namespace.is_empty() {
        meta
    } else {
        meta.string(3, namespace)
    }
}

/// `resource.Quantity` holding `value`.
pub fn quantity(value: &str) -> Msg {
    Msg::new().string(1, value)
}

/// `metav1.Time`/`MicroTime` (`seconds = 1`, `nanos = 2`).
pub fn timestamp(seconds: i64, nanos: i32) -> Msg {
    Msg::new().int(1, seconds).int(2, i64::from(nanos))
}

/// `intstr.IntOrString` holding an int.
pub fn int_or_string_int(value: i32) -> Msg {
    Msg::new()
        .varint(1, 0)
        .int(2, i64::from(value))
        .string(3, "")
}

/// `intstr.IntOrString` holding a string.
pub fn int_or_string_str(value: &str) -> Msg {
    Msg::new().varint(1, 1).varint(2, 0).string(3, value)
}

/// A full body: magic, then `runtime.Unknown{typeMeta, raw}`.
pub fn body(api_version: &str, kind: &str, raw: Msg) -> Vec<u8> {
    let type_meta = Msg::new().string(1, api_version).string(2, kind);
    let unknown = Msg::new()
        .message(1, type_meta)
        .bytes(2, &raw.0)
        .string(3, "")
        .string(4, "");
    let mut out = b"k8s\0".to_vec();
    out.extend_from_slice(&unknown.0);
    out
}

/// Hex to bytes (panics on bad test data).
pub fn from_hex(hex: &str) -> Vec<u8> {
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}
