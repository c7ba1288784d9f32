//! Compact JSON text of a `serde_json::Value`, byte for byte what `serde_json::to_writer`
//! writes, faster.
//!
//! Every write the API server stores is encoded (and the kubelets keep their pods' statuses as
//! text), so serialization was about a tenth of a virtual-time run's main thread, half of it in
//! `serde_json`'s string escaping, which looks up every byte in a table. Here strings are
//! scanned eight bytes at a time for the few bytes JSON escapes, and the text of a run
//! without any is copied whole; the output, escapes included, is `serde_json`'s (the same
//! `\b \t \n \f \r \" \\` and lowercase `\u00XX` for the other control bytes, non-ASCII text
//! as UTF-8, integers through `itoa` as `serde_json` writes them, floats through `serde_json`).
//! A property test holds the two equal.

use serde_json::{Number, Value};

/// The compact JSON text of `value`.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_value(value, &mut out);
    out
}

/// The compact JSON text of `value`, as a `String`.
pub fn to_string(value: &Value) -> String {
    // Everything written is UTF-8: the input strings are, and the rest is ASCII.
    String::from_utf8(to_vec(value)).unwrap_or_default()
}

/// Appends the compact JSON text of `value` to `out`.
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map.iter(), out, |_, item, out| write_value(item, out)),
    }
}

/// Appends an object of `members`, each member's value written by `write_item`. Inlined into
/// each caller: as a call it cost about 0.1 G more instructions in the callgrind benchmark run.
#[inline(always)]
fn write_object<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    out: &mut Vec<u8>,
    mut write_item: impl FnMut(&'a String, &'a Value, &mut Vec<u8>),
) {
    out.push(b'{');
    for (i, (key, item)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(key, out);
        out.push(b':');
        write_item(key, item, out);
    }
    out.push(b'}');
}

/// Appends the compact JSON text of `value` as if the object member `member` of the object
/// `value` lacked its members named in `omitted` (the API server stores an object without
/// `metadata.resourceVersion`, which a read gives it), without copying the value to remove
/// them. Anything else is written as [`write_value`] writes it.
pub fn write_value_omitting(value: &Value, member: &str, omitted: &[&str], out: &mut Vec<u8>) {
    let Value::Object(map) = value else {
        return write_value(value, out);
    };
    write_object(map.iter(), out, |key, item, out| match item {
        Value::Object(inner) if key == member => {
            let kept = inner.iter().filter(|(k, _)| !omitted.contains(&k.as_str()));
            write_object(kept, out, |_, item, out| write_value(item, out));
        }
        _ => write_value(item, out),
    });
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else {
        // Floats are rare in API objects: `serde_json`'s own spelling (`1e+300`), through it.
        // Writing into a `Vec` cannot fail.
        let _ = serde_json::to_writer(out, n);
    }
}

/// What follows the backslash of each byte's escape: 0 for bytes written as they are, `u`
/// for `\u00XX` (serde_json's table).
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is zero (exact for the word as a whole).
const fn has_zero_byte(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGHS != 0
}

/// Whether any of the eight bytes of `word` needs an escape: a control byte (below 0x20), a
/// quote or a backslash.
const fn needs_escape(word: u64) -> bool {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0;
    below_space
        || has_zero_byte(word ^ (ONES * b'"' as u64))
        || has_zero_byte(word ^ (ONES * b'\\' as u64))
}

/// Whether any byte of `bytes` needs an escape, eight at a time.
fn has_escapes(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        match <[u8; 8]>::try_from(word) {
            Ok(word) if !needs_escape(u64::from_le_bytes(word)) => {}
            _ => return true,
        }
    }
    words
        .remainder()
        .iter()
        .any(|&byte| ESCAPES[usize::from(byte)] != 0)
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if has_escapes(bytes) {
        write_escaped(bytes, out);
    } else {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    }
}

/// [`write_str`] of text with escapes: apart, so the common case stays a short function.
#[cold]
#[inline(never)]
fn write_escaped(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    // `bytes[copied..i]` is written as it is at the next escape (or the end).
    let mut copied = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPES[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[copied..i]);
        out.push(b'\\');
        out.push(escape);
        if escape == b'u' {
            out.extend_from_slice(b"00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xF)]);
        }
        copied = i + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn omitting_members_writes_the_value_without_them() {
        let omitted = ["resourceVersion", "selfLink"];
        let cases = [
            json!({"metadata": {"name": "a", "resourceVersion": "7", "uid": "u"}, "spec": {}}),
            json!({"metadata": {"resourceVersion": "7"}}),
            json!({"metadata": {"resourceVersion": "7", "selfLink": "/x"}, "a": 1}),
            json!({"metadata": {"name": "only"}}),
            json!({"metadata": "not an object", "resourceVersion": "kept"}),
            json!({"spec": {"resourceVersion": "kept: not the member"}}),
            json!({"metadata": {"a": {"resourceVersion": "kept: nested deeper"}}}),
            json!([{"metadata": {"resourceVersion": "kept: not an object at the top"}}]),
            json!("text"),
            json!({}),
        ];
        for case in cases {
            let mut expected = case.clone();
            if let Some(meta) = expected.get_mut("metadata").and_then(Value::as_object_mut) {
                for name in omitted {
                    meta.remove(name);
                }
            }
            let mut written = Vec::new();
            write_value_omitting(&case, "metadata", &omitted, &mut written);
            assert_eq!(written, to_vec(&expected), "{case}");
        }
    }

    #[test]
    fn matches_serde_json_on_cases() {
        let cases = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(0.1),
            json!(""),
            json!("plain text, longer than one eight-byte word"),
            json!("quote \" backslash \\ slash / tab \t newline \n cr \r"),
            json!("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f} control"),
            json!("ünïcødé ✓ 𝄞 and \u{2028}"),
            json!("k:{\"type\":\"Ready\"}"),
            json!([]),
            json!({}),
            json!([1, "a", null, [true], {"b": {}}]),
            json!({"z": 1, "a": [1, 2], "m": {"k\"ey": "v\\al"}}),
        ];
        for case in &cases {
            assert_eq!(
                to_vec(case),
                serde_json::to_vec(case).unwrap(),
                "case {case:?}"
            );
        }
    }

    #[test]
    fn every_single_byte_and_position_matches() {
        // Each ASCII byte at each offset of a 17-byte string (both sides of a word boundary).
        for byte in 0u8..0x80 {
            for at in 0..17 {
                let mut text = vec![b'x'; 17];
                text[at] = byte;
                let s = String::from_utf8(text).unwrap();
                let v = Value::String(s);
                assert_eq!(
                    to_vec(&v),
                    serde_json::to_vec(&v).unwrap(),
                    "byte {byte} at {at}"
                );
            }
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            any::<String>().prop_map(Value::String),
            "[\"\\\\\\x00-\\x1f a-z]{0,24}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn matches_serde_json(v in value()) {
            prop_assert_eq!(to_vec(&v), serde_json::to_vec(&v).unwrap());
            prop_assert_eq!(to_string(&v), serde_json::to_string(&v).unwrap());
        }
    }
}
