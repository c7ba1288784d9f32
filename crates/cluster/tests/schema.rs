//! `docs/cluster-spec.schema.json` agrees with the Rust types: it parses, names every
//! top-level field, every example validates against it (with a small structural checker, not a
//! full JSON Schema validator: `pattern` is not checked), and a fixture setting every field of
//! the types covers every property the schema declares.

use std::collections::BTreeSet;

use kubetwin_cluster::{Cluster, HYBRID_SMALL_YAML, LARGE_5000_YAML};
use serde_json::Value;

const SCHEMA: &str = include_str!("../../../docs/cluster-spec.schema.json");
const ALL_FIELDS: &str = include_str!("fixtures/all-fields.yaml");

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("the schema is JSON")
}

fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("example YAML parses")
}

/// Structural validation of `value` against `schema`; problems are pushed with their path.
fn check(root: &Value, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        match root["$defs"].get(name) {
            Some(target) => check(root, target, value, path, problems),
            None => problems.push(format!("{path}: unknown $ref {reference}")),
        }
        return;
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = options.iter().any(|option| {
            let mut inner = Vec::new();
            check(root, option, value, path, &mut inner);
            inner.is_empty()
        });
        if !fits {
            problems.push(format!("{path}: matches no anyOf option: {value}"));
        }
        return;
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        problems.push(format!("{path}: want {expected}, got {value}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        problems.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            _ => false,
        };
        if !ok {
            problems.push(format!("{path}: want {kind}, got {value}"));
            return;
        }
    }
    if let Some(text) = value.as_str() {
        let len = text.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            problems.push(format!("{path}: too short"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            problems.push(format!("{path}: too long"));
        }
    }
    if let Some(number) = value.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| number < m)
        {
            problems.push(format!("{path}: below minimum"));
        }
        if schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| number > m)
        {
            problems.push(format!("{path}: above maximum"));
        }
    }
    if let Some(items) = value.as_array() {
        if schema
            .get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| (items.len() as u64) < m)
        {
            problems.push(format!("{path}: too few items"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(root, item_schema, item, &format!("{path}[{i}]"), problems);
            }
        }
    }
    if let Some(object) = value.as_object() {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(required) {
                problems.push(format!("{path}: missing {required}"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, field) in object {
            let at = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if let Some(names) = schema.get("propertyNames") {
                check(root, names, &Value::String(key.clone()), &at, problems);
            }
            match properties.and_then(|p| p.get(key)) {
                Some(field_schema) => check(root, field_schema, field, &at, problems),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => problems.push(format!("{at}: unknown field")),
                    Some(extra) if extra.is_object() => check(root, extra, field, &at, problems),
                    _ => {}
                },
            }
        }
    }
}

fn problems_of(document: &Value) -> Vec<String> {
    let root = schema();
    let mut problems = Vec::new();
    check(&root, &root, document, "", &mut problems);
    problems
}

#[test]
fn schema_parses_and_names_every_top_level_field() {
    let root = schema();
    let names: BTreeSet<&str> = root["properties"]
        .as_object()
        .expect("top-level properties")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "apiVersion",
            "kind",
            "metadata",
            "settings",
            "providers",
            "pools"
        ])
    );
    assert_eq!(root["additionalProperties"], Value::Bool(false));
}

#[test]
fn every_example_validates() {
    for (name, text) in [
        ("hybrid-small", HYBRID_SMALL_YAML),
        ("large-5000", LARGE_5000_YAML),
        ("all-fields", ALL_FIELDS),
    ] {
        Cluster::from_yaml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let problems = problems_of(&yaml_to_json(text));
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

#[test]
fn the_checker_catches_mistakes() {
    let mut document = yaml_to_json(HYBRID_SMALL_YAML);
    document["pools"][0]["cnt"] = Value::from(1);
    document["providers"][0]["type"] = Value::from("azure");
    document["pools"][1]["instanceType"]["cpu"] = Value::Bool(true);
    document.as_object_mut().unwrap().remove("kind");
    let problems = problems_of(&document);
    assert_eq!(problems.len(), 4, "{problems:#?}");
}

/// Every property the schema declares is used by the all-fields fixture, which the typed
/// parser (with `deny_unknown_fields`) accepts: the schema has no field the types lack, and
/// the types have none the schema lacks (`every_example_validates` rejects unknown fields).
#[test]
fn all_fields_fixture_covers_the_schema() {
    fn declared(root: &Value, schema: &Value, path: &str, out: &mut BTreeSet<String>) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/$defs/");
            declared(root, &root["$defs"][name], path, out);
            return;
        }
        if let Some(items) = schema.get("items") {
            declared(root, items, &format!("{path}[]"), out);
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, field) in properties {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                out.insert(at.clone());
                declared(root, field, &at, out);
            }
        }
    }
    fn used(value: &Value, path: &str, out: &mut BTreeSet<String>, maps: &BTreeSet<String>) {
        match value {
            Value::Array(items) => {
                for item in items {
                    used(item, &format!("{path}[]"), out, maps);
                }
            }
            Value::Object(object) if !maps.contains(path) => {
                for (key, field) in object {
                    let at = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    out.insert(at.clone());
                    used(field, &at, out, maps);
                }
            }
            _ => {}
        }
    }
    let root = schema();
    let mut schema_fields = BTreeSet::new();
    declared(&root, &root, "", &mut schema_fields);
    // Free-form maps: their keys are data, not fields.
    let maps: BTreeSet<String> = schema_fields
        .iter()
        .filter(|p| {
            [
                "labels",
                "annotations",
                "kubeReserved",
                "systemReserved",
                "evictionHard",
            ]
            .iter()
            .any(|m| p.ends_with(&format!(".{m}")))
        })
        .cloned()
        .collect();
    let mut fixture_fields = BTreeSet::new();
    used(&yaml_to_json(ALL_FIELDS), "", &mut fixture_fields, &maps);
    let missing: Vec<_> = schema_fields.difference(&fixture_fields).collect();
    assert!(
        missing.is_empty(),
        "schema fields the fixture never sets: {missing:#?}"
    );
    let extra: Vec<_> = fixture_fields.difference(&schema_fields).collect();
    assert!(
        extra.is_empty(),
        "fixture fields the schema lacks: {extra:#?}"
    );
}
