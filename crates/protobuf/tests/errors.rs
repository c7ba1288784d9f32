//! Malformed bodies: each is an error (never a panic), the variant matching the Go decoder's
//! failure (`protobuf.go` `Serializer.Decode`, gogo `Unmarshal`, the custom `MarshalJSON`s).

mod common;

use common::{Msg, body, meta};
use kubetwin_protobuf::{ProtobufError, decode_to_json};

fn prefixed(bytes: &[u8]) -> Vec<u8> {
    let mut out = b"k8s\0".to_vec();
    out.extend_from_slice(bytes);
    out
}

type Check = fn(&ProtobufError) -> bool;

#[test]
fn malformed_bodies_are_errors() {
    let configmap = |raw: Msg| body("v1", "ConfigMap", raw);
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        ("empty data", vec![], |e| *e == ProtobufError::EmptyData),
        (
            "JSON is not protobuf",
            b"{\"kind\":\"Pod\"}".to_vec(),
            |e| *e == ProtobufError::BadPrefix,
        ),
        ("short prefix", b"k8s".to_vec(), |e| {
            *e == ProtobufError::BadPrefix
        }),
        ("magic only", b"k8s\0".to_vec(), |e| {
            *e == ProtobufError::EmptyBody
        }),
        ("truncated length varint", prefixed(&[0x0a]), |e| {
            *e == ProtobufError::UnexpectedEof
        }),
        (
            "truncated continuation byte",
            prefixed(&[0x0a, 0x80]),
            |e| *e == ProtobufError::UnexpectedEof,
        ),
        ("length past the end", prefixed(&[0x12, 0x05, 0x01]), |e| {
            *e == ProtobufError::UnexpectedEof
        }),
        (
            "eleven-byte varint",
            prefixed(&[
                0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ]),
            |e| *e == ProtobufError::IntegerOverflow,
        ),
        (
            "negative length",
            prefixed(&[
                0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ]),
            |e| *e == ProtobufError::InvalidLength,
        ),
        ("typeMeta as a varint", prefixed(&[0x08, 0x01]), |e| {
            matches!(e, ProtobufError::WrongWireType { wire_type: 0, .. })
        }),
        ("field number 0", prefixed(&[0x02, 0x00]), |e| {
            matches!(e, ProtobufError::IllegalTag { number: 0, .. })
        }),
        ("end group at top level", prefixed(&[0x0c]), |e| {
            matches!(e, ProtobufError::EndGroupForNonGroup { .. })
        }),
        ("unknown field with wire type 7", prefixed(&[0x2f]), |e| {
            *e == ProtobufError::IllegalWireType(7)
        }),
        ("unterminated group", prefixed(&[0x2b, 0x08, 0x01]), |e| {
            *e == ProtobufError::UnexpectedEof
        }),
        ("no kind", body("v1", "", Msg::new()), |e| {
            matches!(e, ProtobufError::MissingKind(_))
        }),
        ("no version", body("", "Pod", Msg::new()), |e| {
            matches!(e, ProtobufError::MissingVersion(_))
        }),
        (
            "two slashes in apiVersion",
            body("a/b/c", "Pod", Msg::new()),
            |e| matches!(e, ProtobufError::MissingVersion(_)),
        ),
        ("unknown kind", body("v1", "Frobnicator", Msg::new()), |e| {
            matches!(e, ProtobufError::NotRegistered { .. })
        }),
        (
            "unknown group version",
            body("example.com/v1", "Widget", Msg::new()),
            |e| matches!(e, ProtobufError::NotRegistered { .. }),
        ),
        (
            "a nested struct is not a kind",
            body("v1", "PodSpec", Msg::new()),
            |e| matches!(e, ProtobufError::NotRegistered { .. }),
        ),
        (
            "string field sent as varint",
            configmap(Msg::new().message(1, Msg::new().varint(1, 5))),
            |e| matches!(e, ProtobufError::WrongWireType { field, .. } if field == "name"),
        ),
        (
            "message field sent as fixed64",
            configmap(Msg::new().key(1, 1).raw(&[0; 8])),
            |e| matches!(e, ProtobufError::WrongWireType { field, .. } if field == "metadata"),
        ),
        (
            "map entry key as varint",
            configmap(Msg::new().message(2, Msg::new().varint(1, 1))),
            |e| matches!(e, ProtobufError::WrongWireType { .. }),
        ),
        (
            "truncated nested message",
            configmap(Msg::new().message(1, Msg::new().raw(&[0x0a, 0x09, b'x']))),
            |e| *e == ProtobufError::UnexpectedEof,
        ),
        (
            "invalid quantity",
            body(
                "v1",
                "ResourceQuota",
                Msg::new().message(2, Msg::new().map_msg(1, "cpu", common::quantity("lots"))),
            ),
            |e| matches!(e, ProtobufError::InvalidQuantity { .. }),
        ),
        (
            "IntOrString of type 2",
            body(
                "v1",
                "Service",
                Msg::new().message(
                    2,
                    Msg::new().message(1, Msg::new().message(4, Msg::new().varint(1, 2))),
                ),
            ),
            |e| *e == ProtobufError::ImpossibleIntOrString,
        ),
        (
            "RawExtension that is not JSON",
            body(
                "apps/v1",
                "ControllerRevision",
                Msg::new().message(2, Msg::new().bytes(1, b"xyz")),
            ),
            |e| *e == ProtobufError::UnrecognizedRawContentType,
        ),
        (
            "empty RawExtension",
            body(
                "apps/v1",
                "ControllerRevision",
                Msg::new().message(2, Msg::new().bytes(1, b"")),
            ),
            |e| *e == ProtobufError::UnrecognizedRawContentType,
        ),
        (
            "RawExtension with broken JSON",
            body(
                "apps/v1",
                "ControllerRevision",
                Msg::new().message(2, Msg::new().bytes(1, b"{\"a\"")),
            ),
            |e| {
                matches!(
                    e,
                    ProtobufError::InvalidEmbeddedJson {
                        what: "RawExtension",
                        ..
                    }
                )
            },
        ),
        (
            "RawExtension holding CBOR",
            body(
                "apps/v1",
                "ControllerRevision",
                Msg::new().message(2, Msg::new().bytes(1, &[0xd9, 0xd9, 0xf7, 0xa0])),
            ),
            |e| *e == ProtobufError::UnsupportedCbor("RawExtension"),
        ),
        (
            "FieldsV1 holding CBOR",
            configmap(Msg::new().message(
                1,
                meta("cm", "").message(17, Msg::new().message(7, Msg::new().bytes(1, &[0xa0]))),
            )),
            |e| *e == ProtobufError::UnsupportedCbor("FieldsV1"),
        ),
        (
            "FieldsV1 empty",
            configmap(Msg::new().message(
                1,
                meta("cm", "").message(17, Msg::new().message(7, Msg::new().bytes(1, b""))),
            )),
            |e| {
                matches!(
                    e,
                    ProtobufError::InvalidEmbeddedJson {
                        what: "FieldsV1",
                        ..
                    }
                )
            },
        ),
    ];
    for (name, bytes, check) in cases {
        match decode_to_json(&bytes) {
            Ok(json) => panic!("{name}: decoded to {json}"),
            Err(error) => assert!(check(&error), "{name}: unexpected error {error:?}"),
        }
    }
}
