//! Object metadata validation on raw JSON (`apimachinery/pkg/api/validation/objectmeta.go`,
//! `apimachinery/pkg/apis/meta/v1/validation/validation.go`): the checks every create and update
//! runs, with upstream's field paths (`metadata.name`, `metadata.labels`, …) and messages.
//!
//! Deliberate difference: Go walks label and annotation maps in random order, so the order of
//! several errors varies between runs there; here maps are walked in sorted key order.

use serde_json::{Map, Value};

use super::field::{FieldError, Path};
use super::{NameValidator, is_qualified_name, is_valid_label_value, validate_namespace_name};

/// `TotalAnnotationSizeLimitB`: 256 KiB of keys plus values.
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * (1 << 10);
/// `FieldManagerMaxLength`.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;
/// `MaxSubresourceNameLength`.
pub const MAX_SUBRESOURCE_NAME_LENGTH: usize = 256;
/// `FieldImmutableErrorMsg`.
pub const FIELD_IMMUTABLE_ERROR_MSG: &str = "field is immutable";
/// `IsNegativeErrorMsg` (generic.go).
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";

fn str_field<'a>(meta: &'a Value, key: &str) -> &'a str {
    meta.get(key).and_then(Value::as_str).unwrap_or("")
}

fn string_map(meta: &Value, key: &str) -> Vec<(String, String)> {
    let Some(Value::Object(map)) = meta.get(key) else {
        return Vec::new();
    };
    let mut entries: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    entries.sort();
    entries
}

/// `ValidateLabelName`.
pub fn validate_label_name(name: &str, path: &Path) -> Vec<FieldError> {
    is_qualified_name(name)
        .into_iter()
        .map(|msg| FieldError::invalid(path.as_str(), name, msg))
        .collect()
}

/// `v1validation.ValidateLabels`: keys are qualified names, values label values.
pub fn validate_labels(labels: &[(String, String)], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        errs.extend(validate_label_name(k, path));
        errs.extend(
            is_valid_label_value(v)
                .into_iter()
                .map(|msg| FieldError::invalid(path.as_str(), v.as_str(), msg)),
        );
    }
    errs
}

/// `ValidateAnnotations`: keys are qualified names ignoring case; total size at most
/// [`TOTAL_ANNOTATION_SIZE_LIMIT_B`].
pub fn validate_annotations(annotations: &[(String, String)], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, _) in annotations {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path.as_str(), k.as_str(), msg));
        }
    }
    let total: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        errs.push(FieldError::too_long(
            path.as_str(),
            TOTAL_ANNOTATION_SIZE_LIMIT_B as i64,
        ));
    }
    errs
}

/// `schema.FromAPIVersionAndKind`: (group, version).
fn parse_group_version(api_version: &str) -> (String, String) {
    if api_version.is_empty() || api_version == "/" {
        return (String::new(), String::new());
    }
    match api_version.matches('/').count() {
        0 => (String::new(), api_version.to_string()),
        1 => {
            let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
            (g.to_string(), v.to_string())
        }
        _ => (String::new(), String::new()),
    }
}

/// `ValidateOwnerReferences`: apiVersion/kind/name/uid present, no Event owners, at most one
/// controller.
pub fn validate_owner_references(refs: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let api_version = str_field(r, "apiVersion");
        let kind = str_field(r, "kind");
        let (group, version) = parse_group_version(api_version);
        if version.is_empty() {
            errs.push(FieldError::invalid(
                path.child("apiVersion").as_str(),
                api_version,
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            errs.push(FieldError::invalid(
                path.child("kind").as_str(),
                kind,
                "must not be empty",
            ));
        }
        let name = str_field(r, "name");
        if name.is_empty() {
            errs.push(FieldError::invalid(
                path.child("name").as_str(),
                name,
                "must not be empty",
            ));
        }
        let uid = str_field(r, "uid");
        if uid.is_empty() {
            errs.push(FieldError::invalid(
                path.child("uid").as_str(),
                uid,
                "must not be empty",
            ));
        }
        // BannedOwners: core/v1 Event.
        if group.is_empty() && version == "v1" && kind == "Event" {
            errs.push(FieldError::invalid(
                path.as_str(),
                r.clone(),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => errs.push(FieldError::invalid(
                    path.as_str(),
                    Value::Array(refs.to_vec()),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

/// `ValidateFinalizers`: qualified names, and not both `orphan` and `foregroundDeletion`.
pub fn validate_finalizers(finalizers: &[String], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in finalizers {
        errs.extend(
            is_qualified_name(f)
                .into_iter()
                .map(|msg| FieldError::invalid(path.as_str(), f.as_str(), msg)),
        );
    }
    if finalizers.iter().any(|f| f == "orphan")
        && finalizers.iter().any(|f| f == "foregroundDeletion")
    {
        errs.push(FieldError::invalid(
            path.as_str(),
            Value::from(finalizers.to_vec()),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// `ValidateFieldManager`: at most 128 bytes, printable characters only.
pub fn validate_field_manager(manager: &str, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        errs.push(FieldError::too_long(
            path.as_str(),
            FIELD_MANAGER_MAX_LENGTH as i64,
        ));
    }
    for (i, c) in manager.char_indices() {
        if c.is_control() || (c.is_whitespace() && c != ' ') {
            errs.push(FieldError::invalid(
                path.as_str(),
                manager,
                format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    errs
}

/// `ValidateManagedFields`.
pub fn validate_managed_fields(entries: &[Value], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let p = path.index(i);
        let operation = str_field(entry, "operation");
        if operation != "Apply" && operation != "Update" {
            errs.push(FieldError::invalid(
                p.child("operation").as_str(),
                operation,
                "must be `Apply` or `Update`",
            ));
        }
        let fields_type = str_field(entry, "fieldsType");
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            errs.push(FieldError::invalid(
                p.child("fieldsType").as_str(),
                fields_type,
                "must be `FieldsV1`",
            ));
        }
        errs.extend(validate_field_manager(
            str_field(entry, "manager"),
            &p.child("manager"),
        ));
        if str_field(entry, "subresource").len() > MAX_SUBRESOURCE_NAME_LENGTH {
            errs.push(FieldError::too_long(
                p.child("subresource").as_str(),
                MAX_SUBRESOURCE_NAME_LENGTH as i64,
            ));
        }
    }
    errs
}

fn array<'a>(meta: &'a Value, key: &str) -> &'a [Value] {
    meta.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn strings(meta: &Value, key: &str) -> Vec<String> {
    array(meta, key)
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect()
}

/// `ValidateObjectMetaAccessor` on an object's raw `metadata` (create): name or generateName,
/// name validity via `name_fn`, namespace presence/validity, generation, labels, annotations,
/// ownerReferences, finalizers and managedFields. Paths start at `metadata`.
pub fn validate_object_meta(
    meta: &Value,
    requires_namespace: bool,
    name_fn: NameValidator,
) -> Vec<FieldError> {
    let path = Path::new("metadata");
    let empty = Value::Object(Map::new());
    let meta = if meta.is_object() { meta } else { &empty };
    let mut errs = Vec::new();

    let generate_name = str_field(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in name_fn(generate_name, true) {
            errs.push(FieldError::invalid(
                path.child("generateName").as_str(),
                generate_name,
                msg,
            ));
        }
    }
    let name = str_field(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            path.child("name").as_str(),
            "name or generateName is required",
        ));
    } else {
        for msg in name_fn(name, false) {
            errs.push(FieldError::invalid(path.child("name").as_str(), name, msg));
        }
    }
    let namespace = str_field(meta, "namespace");
    if requires_namespace {
        if namespace.is_empty() {
            errs.push(FieldError::required(path.child("namespace").as_str(), ""));
        } else {
            for msg in validate_namespace_name(namespace, false) {
                errs.push(FieldError::invalid(
                    path.child("namespace").as_str(),
                    namespace,
                    msg,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            path.child("namespace").as_str(),
            "not allowed on this type",
        ));
    }
    if let Some(generation) = meta.get("generation").and_then(Value::as_i64)
        && generation < 0
    {
        errs.push(FieldError::invalid(
            path.child("generation").as_str(),
            generation,
            IS_NEGATIVE_ERROR_MSG,
        ));
    }
    errs.extend(validate_labels(
        &string_map(meta, "labels"),
        &path.child("labels"),
    ));
    errs.extend(validate_annotations(
        &string_map(meta, "annotations"),
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        array(meta, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_finalizers(
        &strings(meta, "finalizers"),
        &path.child("finalizers"),
    ));
    errs.extend(validate_managed_fields(
        array(meta, "managedFields"),
        &path.child("managedFields"),
    ));
    errs
}

/// `ValidateObjectMetaAccessorUpdate` on raw `metadata` (update): no new finalizers while
/// deleting, resourceVersion present, generation not decremented, immutable identity fields,
/// then the label/annotation/ownerReference/managedFields checks.
pub fn validate_object_meta_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let path = Path::new("metadata");
    let mut errs = Vec::new();
    if old.get("deletionTimestamp").is_some_and(|v| !v.is_null()) {
        let old_finalizers = strings(old, "finalizers");
        let mut extra: Vec<String> = strings(new, "finalizers")
            .into_iter()
            .filter(|f| !old_finalizers.contains(f))
            .collect();
        extra.sort();
        extra.dedup();
        if !extra.is_empty() {
            let listed: Vec<String> = extra.iter().map(|f| super::field::go_quote(f)).collect();
            errs.push(FieldError::forbidden(
                path.child("finalizers").as_str(),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    listed.join(", ")
                ),
            ));
        }
    }
    let rv = str_field(new, "resourceVersion");
    if rv.is_empty() {
        errs.push(FieldError::invalid(
            path.child("resourceVersion").as_str(),
            rv,
            "must be specified for an update",
        ));
    }
    let new_generation = new.get("generation").and_then(Value::as_i64).unwrap_or(0);
    let old_generation = old.get("generation").and_then(Value::as_i64).unwrap_or(0);
    if new_generation < old_generation {
        errs.push(FieldError::invalid(
            path.child("generation").as_str(),
            new_generation,
            "must not be decremented",
        ));
    }
    for key in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        let (n, o) = (
            new.get(key).unwrap_or(&Value::Null),
            old.get(key).unwrap_or(&Value::Null),
        );
        let empty_string = |v: &Value| v.is_null() || v.as_str() == Some("");
        if n != o && !(empty_string(n) && empty_string(o)) {
            errs.push(FieldError::invalid(
                path.child(key).as_str(),
                n.clone(),
                FIELD_IMMUTABLE_ERROR_MSG,
            ));
        }
    }
    errs.extend(validate_labels(
        &string_map(new, "labels"),
        &path.child("labels"),
    ));
    errs.extend(validate_annotations(
        &string_map(new, "annotations"),
        &path.child("annotations"),
    ));
    errs.extend(validate_owner_references(
        array(new, "ownerReferences"),
        &path.child("ownerReferences"),
    ));
    errs.extend(validate_managed_fields(
        array(new, "managedFields"),
        &path.child("managedFields"),
    ));
    errs
}
