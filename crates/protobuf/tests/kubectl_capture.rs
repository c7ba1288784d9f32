//! Bodies the real kubectl 1.32 sent (captured on loopback, see `fixtures/kubectl/README.md`)
//! decode to the JSON kubectl itself writes for the same objects.

mod common;

use std::path::Path;

use kubetwin_protobuf::{decode_envelope, decode_to_json, is_protobuf};
use serde_json::Value;

#[test]
fn captured_kubectl_bodies_decode_like_kubectl_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubectl");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".hex").map(str::to_string)
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 18, "fixtures: {names:?}");
    for name in names {
        let body =
            common::from_hex(&std::fs::read_to_string(dir.join(format!("{name}.hex"))).unwrap());
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        assert!(is_protobuf(&body), "{name}");
        let envelope = decode_envelope(&body).unwrap();
        assert_eq!(envelope.api_version, want["apiVersion"], "{name}");
        assert_eq!(envelope.kind, want["kind"], "{name}");
        let got = decode_to_json(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}");
    }
}
