//! The entry point `kubetwin run` uses (`cli::invoke`): exit 0 and both report files when every
//! expectation passes, 1 when one fails, an error (exit 2 in the binary) for bad input.

use std::path::Path;

use kubetwin_scenario::cli::{EXIT_FAILED, EXIT_PASSED, Invocation, InvocationError, invoke};

const FAILING: &str = "apiVersion: kubetwin.io/v1alpha1
kind: Scenario
metadata: {name: impossible}
duration: 3m
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: huge}
    spec:
      replicas: 2
      selector: {matchLabels: {app: huge}}
      template:
        metadata: {labels: {app: huge}}
        spec:
          containers: [{name: c, image: x, resources: {requests: {cpu: '500'}}}]
expectations:
  - {type: podsReady, workload: deployment/huge, within: 2m}
  - {type: maxPending, max: 0}
";

#[test]
fn a_passing_scenario_exits_zero_and_writes_both_reports() {
    let out = tempfile::tempdir().expect("tempdir");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/api-lb-outage-kubeprism.yaml");
    let mut progress = Vec::new();
    let mut on_progress = |p: kubetwin_scenario::Progress| progress.push(p.elapsed);
    let outcome = invoke(Invocation {
        scenario,
        out_dir: Some(out.path().join("reports")),
        seed: None,
        progress: Some(&mut on_progress),
    })
    .expect("runs");
    assert_eq!(outcome.exit_code, EXIT_PASSED);
    let json =
        std::fs::read_to_string(out.path().join("reports/report.json")).expect("report.json");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(parsed["passed"], true);
    assert_eq!(parsed["scenario"]["name"], "api-lb-outage-kubeprism");
    let md = std::fs::read_to_string(out.path().join("reports/report.md")).expect("report.md");
    assert!(md.starts_with("# Scenario report: api-lb-outage-kubeprism"));
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress only moves forward"
    );
    assert_eq!(
        progress.last().copied(),
        Some(std::time::Duration::from_secs(1800))
    );
}

#[test]
fn a_failed_expectation_exits_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("impossible.yaml");
    std::fs::write(&file, FAILING).expect("write");
    let outcome = invoke(Invocation {
        scenario: file,
        ..Invocation::default()
    })
    .expect("runs");
    assert_eq!(outcome.exit_code, EXIT_FAILED);
    assert!(!outcome.report.passed);
    assert_eq!(outcome.report.summary.expectations_failed, 2);
    assert!(
        outcome.written.is_empty(),
        "nothing is written without an output directory"
    );
    let pending = &outcome.report.pending;
    assert!(
        pending.iter().any(|p| p
            .reasons
            .iter()
            .any(|r| r.message.contains("Insufficient cpu"))),
        "the report carries the scheduler's reason: {pending:?}"
    );
}

#[test]
fn bad_input_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = invoke(Invocation {
        scenario: dir.path().join("nope.yaml"),
        ..Invocation::default()
    });
    assert!(matches!(missing, Err(InvocationError::Scenario { .. })));
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "apiVersion: kubetwin.io/v1alpha1\nkind: Scenario\nmetadata: {name: b}\ncluster: missing.yaml\n").expect("write");
    let err = invoke(Invocation {
        scenario: file,
        ..Invocation::default()
    })
    .expect_err("missing cluster file");
    assert!(err.to_string().contains("cluster"), "{err}");
}

/// A small JSON Schema check (the subset `report.schema.json` uses: type, const, enum,
/// properties with every key required and no others, items, additionalProperties, oneOf).
fn conforms(
    schema: &serde_json::Value,
    value: &serde_json::Value,
    path: &str,
) -> Result<(), String> {
    use serde_json::Value;
    if let Some(options) = schema["oneOf"].as_array() {
        return if options.iter().any(|o| conforms(o, value, path).is_ok()) {
            Ok(())
        } else {
            Err(format!("{path}: matches no oneOf option"))
        };
    }
    if let Some(c) = schema.get("const") {
        return if c == value {
            Ok(())
        } else {
            Err(format!("{path}: not {c}"))
        };
    }
    if let Some(options) = schema["enum"].as_array() {
        return if options.contains(value) {
            Ok(())
        } else {
            Err(format!("{path}: {value} not in enum"))
        };
    }
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    };
    let ok = match &schema["type"] {
        Value::String(t) => type_ok(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(type_ok),
        _ => true,
    };
    if !ok {
        return Err(format!("{path}: {value} is not {}", schema["type"]));
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
        for key in obj.keys() {
            if !props.contains_key(key) {
                return Err(format!("{path}.{key}: not in the schema"));
            }
        }
        for (key, sub) in props {
            let v = obj.get(key).ok_or(format!("{path}.{key}: missing"))?;
            conforms(sub, v, &format!("{path}.{key}"))?;
        }
    } else if let (Some(extra), Some(obj)) = (
        schema.get("additionalProperties").filter(|s| s.is_object()),
        value.as_object(),
    ) {
        for (key, v) in obj {
            conforms(extra, v, &format!("{path}.{key}"))?;
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            conforms(items, v, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

#[test]
fn reports_conform_to_the_published_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../report.schema.json")).expect("schema is JSON");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("impossible.yaml");
    std::fs::write(&file, FAILING).expect("write");
    let failing = invoke(Invocation {
        scenario: file,
        ..Invocation::default()
    })
    .expect("runs");
    let spot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/spot-interruption-wave.yaml");
    let passing = invoke(Invocation {
        scenario: spot,
        ..Invocation::default()
    })
    .expect("runs");
    for outcome in [failing, passing] {
        let value: serde_json::Value =
            serde_json::from_str(&outcome.report.to_json()).expect("JSON");
        if let Err(e) = conforms(&schema, &value, "$") {
            panic!("{}: {e}", outcome.report.scenario.name);
        }
    }
}
