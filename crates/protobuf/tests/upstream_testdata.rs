//! Cross-check against upstream's serialization fixtures: `k8s.io/api/testdata/<version>/`
//! holds, for every kind, a fuzzed object fully populated with every field, serialized both
//! as protobuf (`<group>.<version>.<Kind>.pb`) and as JSON (`….json`) by the Go code
//! (upstream: `staging/src/k8s.io/api/roundtrip_test.go`). Decoding each `.pb` must give
//! exactly the `.json`.
//!
//! The upstream files are not committed; point `KUBETWIN_K8S_API_TESTDATA` at a checkout's
//! `testdata/HEAD` (Kubernetes 1.34) and run
//! `cargo test -p kubetwin-protobuf --test upstream_testdata -- --ignored`.
//! At 1.34.10 all 182 fixtures match (`core.v1.WatchEvent`'s envelope carries no kind, as
//! WatchEvent embeds no TypeMeta: the file name's GVK is passed as the default).

use std::path::PathBuf;

use kubetwin_protobuf::{GroupVersionKind, decode_with_defaults};
use serde_json::Value;

#[test]
#[ignore = "needs KUBETWIN_K8S_API_TESTDATA=<k8s.io/api checkout>/testdata/HEAD"]
fn upstream_protobuf_fixtures_decode_to_their_json() {
    let dir = PathBuf::from(
        std::env::var("KUBETWIN_K8S_API_TESTDATA").expect("KUBETWIN_K8S_API_TESTDATA is set"),
    );
    let mut bodies: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata dir")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "pb"))
        .collect();
    bodies.sort();
    assert!(!bodies.is_empty(), "no .pb files in {}", dir.display());
    let mut failures = Vec::new();
    for path in &bodies {
        let body = std::fs::read(path).unwrap();
        let want: Value =
            serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
        // File names are <group>.<version>.<Kind>.pb; the GVK is the default, as the
        // upstream round-trip test decodes into the expected type.
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut parts: Vec<&str> = stem.split('.').collect();
        let kind = parts.pop().unwrap_or_default().to_string();
        let version = parts.pop().unwrap_or_default().to_string();
        let group = if parts == ["core"] {
            String::new()
        } else {
            parts.join(".")
        };
        let defaults = GroupVersionKind {
            group,
            version,
            kind,
        };
        match decode_with_defaults(&body, Some(&defaults)) {
            Ok(decoded) if decoded.object == want => {}
            Ok(decoded) => failures.push(format!("{stem}: got {}", decoded.object)),
            Err(error) => failures.push(format!("{stem}: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        bodies.len(),
        failures.join("\n")
    );
}
