//! Property tests: no input panics, and encoded random objects decode to the JSON they were
//! built from.

mod common;

use std::collections::BTreeMap;

use common::{Msg, body, from_hex};
use kubetwin_protobuf::{decode_message_to_json, decode_to_json, message_names};
use proptest::prelude::*;
use serde_json::{Value, json};

const NAMESPACE_BODY: &str = include_str!("fixtures/kubectl/namespace.hex");
const DEPLOYMENT_BODY: &str = include_str!("fixtures/kubectl/deployment.hex");

/// Kinds to wrap random payloads in.
const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("v1", "Node"),
    ("v1", "DeleteOptions"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ControllerRevision"),
    ("batch/v1", "CronJob"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("events.k8s.io/v1", "Event"),
    ("coordination.k8s.io/v1", "Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("policy/v1", "Eviction"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_to_json(&bytes);
        let mut prefixed = b"k8s\0".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = decode_to_json(&prefixed);
    }

    #[test]
    fn arbitrary_payloads_of_real_kinds_never_panic(
        kind in 0..KINDS.len(),
        payload in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let (api_version, kind) = KINDS[kind];
        let _ = decode_to_json(&body(api_version, kind, Msg::new().raw(&payload)));
    }

    #[test]
    fn arbitrary_bytes_as_any_message_never_panic(
        index in 0usize..2000,
        payload in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let names: Vec<&str> = message_names().collect();
        let name = names[index % names.len()];
        let _ = decode_message_to_json(name, &payload);
    }

    #[test]
    fn mutated_captured_bodies_never_panic(
        which in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = from_hex(if which { NAMESPACE_BODY } else { DEPLOYMENT_BODY });
        for (position, byte, op) in edits {
            let position = position % (bytes.len() + 1);
            match op {
                0 if position < bytes.len() => bytes[position] = byte,
                1 => bytes.insert(position, byte),
                _ if position < bytes.len() => { bytes.remove(position); }
                _ => {}
            }
        }
        let _ = decode_to_json(&bytes);
    }

    /// A random ConfigMap, encoded field by field, decodes to the JSON built from the same
    /// data (labels and data as string maps, binaryData as base64, immutable pointer).
    #[test]
    fn configmaps_round_trip(
        name in "[a-z0-9][a-z0-9.-]{0,20}",
        labels in proptest::collection::btree_map("[a-z/.]{1,10}", "[ -~]{0,10}", 0..4),
        data in proptest::collection::btree_map("[A-Za-z_.]{1,10}", "\\PC{0,16}", 0..4),
        binary in proptest::collection::btree_map("[a-z]{1,8}", proptest::collection::vec(any::<u8>(), 0..16), 0..3),
        immutable in proptest::option::of(any::<bool>()),
    ) {
        let mut meta = Msg::new().string(1, &name);
        for (key, value) in &labels {
            meta = meta.map_str(11, key, value);
        }
        let mut raw = Msg::new().message(1, meta);
        for (key, value) in &data {
            raw = raw.map_str(2, key, value);
        }
        for (key, value) in &binary {
            raw = raw.message(3, Msg::new().string(1, key).bytes(2, value));
        }
        if let Some(immutable) = immutable {
            raw = raw.boolean(4, immutable);
        }
        let got = decode_to_json(&body("v1", "ConfigMap", raw)).unwrap();

        let mut want_meta = serde_json::Map::new();
        if !name.is_empty() {
            want_meta.insert("name".into(), json!(name));
        }
        if !labels.is_empty() {
            want_meta.insert("labels".into(), json!(labels));
        }
        let mut want = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": want_meta});
        if !data.is_empty() {
            want["data"] = json!(data);
        }
        if !binary.is_empty() {
            let encoded: BTreeMap<&String, String> =
                binary.iter().map(|(k, v)| (k, base64(v))).collect();
            want["binaryData"] = json!(encoded);
        }
        if let Some(immutable) = immutable {
            want["immutable"] = json!(immutable);
        }
        prop_assert_eq!(got, want);
    }

    /// IntOrString and int64 values survive the varint encoding exactly.
    #[test]
    fn int_or_string_round_trips(int in any::<i32>(), text in "[a-z0-9-]{0,15}", as_int in any::<bool>()) {
        let port = if as_int { common::int_or_string_int(int) } else { common::int_or_string_str(&text) };
        let got = decode_message_to_json("k8s.io.apimachinery.pkg.util.intstr.IntOrString", &port.build()).unwrap();
        let want: Value = if as_int { json!(int) } else { json!(text) };
        prop_assert_eq!(got, want);
    }
}

/// Standard base64, written independently of the crate's.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = String::new();
    for byte in bytes {
        bits.push_str(&format!("{byte:08b}"));
    }
    while !bits.len().is_multiple_of(6) {
        bits.push('0');
    }
    let mut out: String = bits
        .as_bytes()
        .chunks(6)
        .map(|six| {
            let index = usize::from_str_radix(std::str::from_utf8(six).unwrap(), 2).unwrap();
            char::from(ALPHABET[index])
        })
        .collect();
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}
