//! Field ownership (`metadata.managedFields`) and server-side apply: which manager set which
//! field, apply conflicts (409 with `FieldManagerConflict` causes), forced applies, and pruning
//! of fields an applier stopped sending.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/`
//! (`fieldmanager.go`, `structuredmerge.go`, `conflict.go`, `managedfields.go`) and
//! `sigs.k8s.io/structured-merge-diff` (`fieldpath/serialize-pe.go` for the `FieldsV1` keys,
//! `merge/update.go` for conflicts and ownership changes).
//!
//! Simplifications, listed in docs/FIDELITY.md: list and map semantics come from the strategic
//! merge patch table (`kubetwin-patch`), not from OpenAPI `x-kubernetes-list-type`; the applied
//! configuration is merged into the live object with strategic merge patch.

use std::collections::{BTreeMap, BTreeSet};

use kubetwin_patch::{FieldShape, TypeSchema};
use serde_json::{Map, Value, json};

/// One owned field: a path of `FieldsV1` keys (`f:spec`, `k:{"name":"c"}`, `v:"x"`, `i:0`);
/// a trailing `.` means the list element or map itself.
pub type FieldPath = Vec<String>;

/// A set of owned fields.
pub type FieldSet = BTreeSet<FieldPath>;

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `manager`.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// `apiVersion`.
    pub api_version: String,
    /// `time`.
    pub time: String,
    /// `subresource` ("" for the main resource).
    pub subresource: String,
    /// The fields.
    pub fields: FieldSet,
}

impl Entry {
    fn to_json(&self) -> Value {
        entry_json(
            &self.manager,
            &self.operation,
            &self.api_version,
            &self.time,
            &self.subresource,
            to_fields_v1(&self.fields),
        )
    }

    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            manager: v["manager"].as_str().unwrap_or("").to_string(),
            operation: v["operation"].as_str()?.to_string(),
            api_version: v["apiVersion"].as_str().unwrap_or("").to_string(),
            time: v["time"].as_str().unwrap_or("").to_string(),
            subresource: v["subresource"].as_str().unwrap_or("").to_string(),
            fields: from_fields_v1(&v["fieldsV1"]),
        })
    }

    /// How conflict messages name the manager (`conflict.go` `printManager`, without time, as
    /// the manager identity carries none).
    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {:?}", self.subresource);
        }
        if self.operation == "Update" {
            format!("{s} using {}", self.api_version)
        } else {
            s
        }
    }

    fn same_identity(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// One `managedFields` entry's JSON, with its `fieldsV1` tree. The map is built by hand: the
/// `json!` macro would serialize the tree into a copy.
fn entry_json(
    manager: &str,
    operation: &str,
    api_version: &str,
    time: &str,
    subresource: &str,
    fields_v1: Value,
) -> Value {
    let text = |s: &str| Value::String(s.to_string());
    let mut entry = Map::new();
    entry.insert("manager".into(), text(manager));
    entry.insert("operation".into(), text(operation));
    entry.insert("apiVersion".into(), text(api_version));
    entry.insert("time".into(), text(time));
    entry.insert("fieldsType".into(), text("FieldsV1"));
    entry.insert("fieldsV1".into(), fields_v1);
    if !subresource.is_empty() {
        entry.insert("subresource".into(), text(subresource));
    }
    Value::Object(entry)
}

/// Reads `metadata.managedFields`.
pub fn entries_of(obj: &Value) -> Vec<Entry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| a.iter().filter_map(Entry::from_json).collect())
        .unwrap_or_default()
}

/// Writes `metadata.managedFields` (dropping entries that own nothing).
pub fn set_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(Entry::to_json)
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// `FieldsV1` JSON from a set.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for key in path {
            let next = node.entry(key.clone()).or_insert_with(|| json!({}));
            if !next.is_object() {
                *next = json!({});
            }
            node = next.as_object_mut().expect("made an object");
        }
    }
    Value::Object(root)
}

/// A set from `FieldsV1` JSON.
pub fn from_fields_v1(v: &Value) -> FieldSet {
    fn walk(v: &Value, path: &mut FieldPath, out: &mut FieldSet) {
        let Some(m) = v.as_object() else { return };
        for (k, child) in m {
            path.push(k.clone());
            if child.as_object().is_none_or(Map::is_empty) {
                out.insert(path.clone());
            } else {
                walk(child, path, out);
            }
            path.pop();
        }
    }
    let mut out = FieldSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// Which part of an object a write owns: everything but status, or only status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The main resource (status excluded when it has a status subresource).
    Main {
        /// Whether `status` belongs to a subresource.
        status_is_subresource: bool,
    },
    /// The `status` subresource.
    Status,
}

// Fields the field manager never tracks (`managedfields/internal/stripmeta.go`).
const STRIPPED_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

/// A part of an object whose owned fields are found on their own: a top-level field, or a field
/// of `metadata` (the field manager skips some of those, and `metadata` itself is never owned).
struct Segment<'a> {
    /// The value.
    value: &'a Value,
    /// Its schema, when known.
    field: Option<&'static kubetwin_patch::FieldSchema>,
}

/// Where a segment sits: the top-level field `field`, or (`meta_field`) a field of `metadata`.
/// Its path (`[f:spec]`, `[f:metadata, f:labels]`) is spelled only where it is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SegmentName<'a> {
    field: &'a str,
    meta_field: Option<&'a str>,
}

impl SegmentName<'_> {
    /// The path prefix of the segment's fields.
    fn path(&self) -> FieldPath {
        match self.meta_field {
            None => vec![field_segment(self.field)],
            Some(meta_field) => vec![field_segment(self.field), field_segment(meta_field)],
        }
    }

    /// Whether `prefix` is the segment's path.
    fn is_path<S: AsRef<str>>(&self, prefix: &[S]) -> bool {
        let is_field = |segment: &S, name: &str| segment.as_ref().strip_prefix("f:") == Some(name);
        match (self.meta_field, prefix) {
            (None, [field]) => is_field(field, self.field),
            (Some(meta_field), [field, inner]) => {
                is_field(field, self.field) && is_field(inner, meta_field)
            }
            _ => false,
        }
    }
}

/// The segments of `obj` a write of `part` owns, by where they sit.
fn segments<'a>(
    obj: &'a Value,
    schema: Option<&'static TypeSchema>,
    part: Part,
) -> BTreeMap<SegmentName<'a>, Segment<'a>> {
    let mut out = BTreeMap::new();
    let Some(root) = obj.as_object() else {
        return out;
    };
    for (k, v) in root {
        let keep = match (part, k.as_str()) {
            (_, "apiVersion" | "kind") => false,
            (Part::Status, key) => key == "status",
            (
                Part::Main {
                    status_is_subresource,
                },
                "status",
            ) => !status_is_subresource,
            _ => true,
        };
        if !keep {
            continue;
        }
        if k == "metadata" {
            let Some(meta) = v.as_object() else {
                continue;
            };
            let meta_type = schema.and_then(|s| s.field("metadata")).and_then(|f| f.ty);
            for (mk, mv) in meta {
                if STRIPPED_META.contains(&mk.as_str()) {
                    continue;
                }
                out.insert(
                    SegmentName {
                        field: k,
                        meta_field: Some(mk),
                    },
                    Segment {
                        value: mv,
                        field: meta_type.and_then(|t| t.field(mk)),
                    },
                );
            }
        } else {
            out.insert(
                SegmentName {
                    field: k,
                    meta_field: None,
                },
                Segment {
                    value: v,
                    field: schema.and_then(|s| s.field(k)),
                },
            );
        }
    }
    out
}

/// The fields `obj` sets, as owned by a write of `part`.
pub fn fields_of(obj: &Value, schema: Option<&'static TypeSchema>, part: Part) -> FieldSet {
    let mut out = FieldSet::new();
    for (name, segment) in &segments(obj, schema, part) {
        let mut path = name.path();
        walk_value(segment.value, segment.field, &mut path, &mut out);
    }
    out
}

fn walk_value(
    v: &Value,
    field: Option<&'static kubetwin_patch::FieldSchema>,
    path: &mut FieldPath,
    out: &mut FieldSet,
) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            if marks_itself(field) {
                path.push(".".into());
                out.insert(path.clone());
                path.pop();
            }
            walk_fields(m, field.and_then(|f| f.ty), path, out);
        }
        Value::Array(items) if !items.is_empty() => {
            let strategy = field.map(|f| f.strategy).unwrap_or("");
            let merge_key = field.map(|f| f.merge_key).unwrap_or("");
            if strategy.contains("merge") && !merge_key.is_empty() {
                for (i, item) in items.iter().enumerate() {
                    let element = element_segment(item, merge_key, i);
                    path.push(element);
                    path.push(".".into());
                    out.insert(path.clone());
                    path.pop();
                    if let Some(m) = item.as_object() {
                        walk_fields(m, field.and_then(|f| f.ty), path, out);
                    }
                    path.pop();
                }
            } else if strategy.contains("merge") {
                for item in items {
                    path.push(format!("v:{item}"));
                    out.insert(path.clone());
                    path.pop();
                }
            } else {
                out.insert(path.clone());
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

/// [`walk_value`] over the fields of an object (or of a merge-list element) of type `ty`.
fn walk_fields(
    m: &Map<String, Value>,
    ty: Option<&'static TypeSchema>,
    path: &mut FieldPath,
    out: &mut FieldSet,
) {
    for (k, child) in m {
        path.push(field_segment(k));
        walk_value(child, ty.and_then(|t| t.field(k)), path, out);
        path.pop();
    }
}

/// `to_fields_v1(&fields_of(obj, schema, part))`, built in one walk: each node of the tree is
/// made once, where the path set clones every path and the tree is then rebuilt from them (a
/// create's whole object, every pod and event).
fn fields_v1_of(
    obj: &Value,
    schema: Option<&'static TypeSchema>,
    part: Part,
) -> Map<String, Value> {
    let mut root = Map::new();
    for (name, segment) in &segments(obj, schema, part) {
        let mut node = child_node(&mut root, field_segment(name.field));
        if let Some(meta_field) = name.meta_field {
            node = child_node(node, field_segment(meta_field));
        }
        walk_tree(segment.value, segment.field, node);
    }
    root
}

/// The node under `key`, made empty if missing.
fn child_node(node: &mut Map<String, Value>, key: String) -> &mut Map<String, Value> {
    let child = node.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    match child {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// `f:<name>`, the path segment of an object field. Spelled by copying rather than through
/// `format!`, whose machinery cost several times the copy (these are spelled for every field a
/// write's field manager walks: about 2 % of a virtual-time run's main thread went to it).
fn field_segment(name: &str) -> String {
    ["f:", name].concat()
}

/// [`walk_value`] into a `fieldsV1` tree: `here` is the node of the current path, which the
/// walk's leaves already are.
fn walk_tree(
    v: &Value,
    field: Option<&'static kubetwin_patch::FieldSchema>,
    here: &mut Map<String, Value>,
) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            if marks_itself(field) {
                child_node(here, ".".into());
            }
            walk_tree_fields(m, field.and_then(|f| f.ty), here);
        }
        Value::Array(items) if !items.is_empty() => {
            let strategy = field.map(|f| f.strategy).unwrap_or("");
            let merge_key = field.map(|f| f.merge_key).unwrap_or("");
            if strategy.contains("merge") && !merge_key.is_empty() {
                for (i, item) in items.iter().enumerate() {
                    let element = element_segment(item, merge_key, i);
                    let element_node = child_node(here, element);
                    child_node(element_node, ".".into());
                    if let Some(m) = item.as_object() {
                        walk_tree_fields(m, field.and_then(|f| f.ty), element_node);
                    }
                }
            } else if strategy.contains("merge") {
                for item in items {
                    child_node(here, format!("v:{item}"));
                }
            }
        }
        _ => {}
    }
}

/// [`walk_tree`] over the fields of an object (or of a merge-list element) of type `ty`.
fn walk_tree_fields(
    m: &Map<String, Value>,
    ty: Option<&'static TypeSchema>,
    here: &mut Map<String, Value>,
) {
    for (k, child) in m {
        walk_tree(
            child,
            ty.and_then(|t| t.field(k)),
            child_node(here, field_segment(k)),
        );
    }
}

/// The path segment naming a merge list's element: by its merge key, or `i:<index>` for an
/// element without one.
fn element_segment(item: &Value, merge_key: &str, index: usize) -> String {
    match item.get(merge_key) {
        Some(key) if !key.is_null() => key_segment(merge_key, key),
        _ => format!("i:{index}"),
    }
}

/// `k:{"<merge key>":<value>}`, as `fieldsV1` names an element by its merge key.
fn key_segment(merge_key: &str, key: &Value) -> String {
    // The JSON text of `{merge key: value}`, written straight into the segment: writing JSON
    // into a `Vec` cannot fail, and what serde_json writes is UTF-8.
    let mut out = Vec::with_capacity(merge_key.len() + 24);
    out.extend_from_slice(b"k:{");
    let _ = serde_json::to_writer(&mut out, merge_key);
    out.push(b':');
    let _ = serde_json::to_writer(&mut out, key);
    out.push(b'}');
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Whether a non-empty object of `field` owns a `.` entry of its own besides its fields: a
/// map (or an object of unknown type) named by the schema.
fn marks_itself(field: Option<&'static kubetwin_patch::FieldSchema>) -> bool {
    let is_map =
        field.is_some_and(|f| f.shape == FieldShape::Map) || field.is_none_or(|f| f.ty.is_none());
    is_map && field.is_some()
}

/// Whether [`walk_value`] from `v` would insert `rest` (the path below where the walk starts):
/// the same rules followed along one path instead of over the whole tree, so asking about one
/// field costs no allocation per field of the object.
fn walk_contains<S: AsRef<str>>(
    v: &Value,
    field: Option<&'static kubetwin_patch::FieldSchema>,
    rest: &[S],
) -> bool {
    let Some((segment, below)) = rest.split_first() else {
        // The walk inserts the path itself for leaves, empty containers and atomic lists.
        return owned_whole(v, field);
    };
    let segment = segment.as_ref();
    match v {
        Value::Object(m) if !m.is_empty() => {
            if segment == "." {
                return below.is_empty() && marks_itself(field);
            }
            let Some(key) = segment.strip_prefix("f:") else {
                return false;
            };
            let ty = field.and_then(|f| f.ty);
            m.get(key)
                .is_some_and(|child| walk_contains(child, ty.and_then(|t| t.field(key)), below))
        }
        Value::Array(items) if !items.is_empty() => {
            let strategy = field.map(|f| f.strategy).unwrap_or("");
            let merge_key = field.map(|f| f.merge_key).unwrap_or("");
            if strategy.contains("merge") && !merge_key.is_empty() {
                let Some((inner, deeper)) = below.split_first() else {
                    return false;
                };
                let inner = inner.as_ref();
                let ty = field.and_then(|f| f.ty);
                let naming = ElementNaming::of(segment, merge_key);
                items.iter().enumerate().any(|(i, item)| {
                    if !naming.names(item, i) {
                        return false;
                    }
                    if inner == "." {
                        return deeper.is_empty();
                    }
                    let Some(key) = inner.strip_prefix("f:") else {
                        return false;
                    };
                    item.as_object()
                        .and_then(|m| m.get(key))
                        .is_some_and(|child| {
                            walk_contains(child, ty.and_then(|t| t.field(key)), deeper)
                        })
                })
            } else if strategy.contains("merge") {
                below.is_empty() && items.iter().any(|item| segment == format!("v:{item}"))
            } else {
                false
            }
        }
        _ => false,
    }
}

/// Which elements of a merge list a path segment names: by its merge key (`k:{"name":"c"}`)
/// or, for elements without one, by position (`i:3`), spelled as [`walk_value`] spells it.
struct ElementNaming<'s> {
    segment: &'s str,
    merge_key: &'s str,
    /// The spelling of the merge key's value, for a `k:` segment of this merge key.
    key_spelling: Option<&'s str>,
    /// The position, for an `i:` segment.
    index: Option<usize>,
}

impl<'s> ElementNaming<'s> {
    fn of(segment: &'s str, merge_key: &'s str) -> Self {
        Self {
            segment,
            merge_key,
            key_spelling: segment
                .strip_prefix("k:{\"")
                .and_then(|rest| rest.strip_prefix(merge_key))
                .and_then(|rest| rest.strip_prefix("\":"))
                .and_then(|rest| rest.strip_suffix('}')),
            index: segment.strip_prefix("i:").and_then(|i| i.parse().ok()),
        }
    }

    /// Whether the segment names `item`, the list's element at `index`.
    fn names(&self, item: &Value, index: usize) -> bool {
        match item.get(self.merge_key) {
            Some(key) if !key.is_null() => self
                .key_spelling
                .is_some_and(|spelled| spells(spelled, key)),
            _ => self.index == Some(index) && format!("i:{index}") == self.segment,
        }
    }
}

/// Whether `spelled` is `value` as compact JSON (how [`walk_value`] names list elements),
/// without allocating for the usual plain string keys.
fn spells(spelled: &str, value: &Value) -> bool {
    match value {
        Value::String(s) if !s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) => spelled
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .is_some_and(|inner| inner == s),
        _ => serde_json::to_string(value).is_ok_and(|json| json == spelled),
    }
}

/// The value at `path` in `obj`, if present.
pub fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut current = obj;
    for key in path {
        if key == "." {
            return Some(current);
        }
        current = step(current, key)?;
    }
    Some(current)
}

fn step<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(field) = key.strip_prefix("f:") {
        return v.get(field);
    }
    let items = v.as_array()?;
    if let Some(k) = key.strip_prefix("k:") {
        let wanted: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items
            .iter()
            .find(|item| wanted.iter().all(|(wk, wv)| item.get(wk) == Some(wv)));
    }
    if let Some(val) = key.strip_prefix("v:") {
        let wanted: Value = serde_json::from_str(val).ok()?;
        return items.iter().find(|item| **item == wanted);
    }
    let i: usize = key.strip_prefix("i:")?.parse().ok()?;
    items.get(i)
}

/// Removes the field (or list element, for a path ending in `.`) at `path`.
fn remove_at(obj: &mut Value, path: &[String]) {
    let (target, parent_path) = match path.split_last() {
        Some((last, rest)) if last == "." => match rest.split_last() {
            Some((element, parent)) => (element.clone(), parent.to_vec()),
            None => return,
        },
        Some((last, rest)) => (last.clone(), rest.to_vec()),
        None => return,
    };
    let mut current = obj;
    for key in &parent_path {
        let next = if let Some(field) = key.strip_prefix("f:") {
            current.get_mut(field)
        } else {
            let idx = current.as_array().and_then(|items| {
                items
                    .iter()
                    .position(|item| step(&Value::Array(vec![item.clone()]), key).is_some())
            });
            match idx {
                Some(i) => current.get_mut(i),
                None => None,
            }
        };
        match next {
            Some(n) => current = n,
            None => return,
        }
    }
    if let Some(field) = target.strip_prefix("f:") {
        if let Some(m) = current.as_object_mut() {
            m.remove(field);
        }
    } else if let Some(items) = current.as_array_mut() {
        let probe: Vec<Value> = items.clone();
        if let Some(i) = probe
            .iter()
            .position(|item| step(&Value::Array(vec![item.clone()]), &target).is_some())
        {
            items.remove(i);
        }
    }
}

/// `fieldpath.Path.String()`: `.spec.containers[name="c"].image`, `[="x"]`, `[0]`.
pub fn path_string(path: &[String]) -> String {
    let mut s = String::new();
    for key in path {
        if key == "." {
            continue;
        }
        if let Some(f) = key.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = key.strip_prefix("k:") {
            let m: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = key.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = key.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// One apply conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// How the other manager is named in messages.
    pub manager: String,
    /// The field, as `fieldpath.Path.String()`.
    pub path: String,
}

/// The message of an apply conflict error (`conflict.go` `getConflictMessage`).
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager, only.path
        );
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {m}:"));
        for c in conflicts.iter().filter(|c| c.manager == m) {
            lines.push(format!("- {}", c.path));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Records a non-apply write by `manager`: it owns what it changed; others lose it.
/// If the client wrote `managedFields` itself, its value stands (as upstream allows).
///
/// Upstream: `managedfields/internal/fieldmanager.go` (`UpdateNoErrors`), `structuredmerge.go`
/// (`Update`) and structured-merge-diff `merge/update.go` (`Updater.update`: the changed fields
/// are the compared objects' difference; other managers lose them).
///
/// Only what differs between `old` and `new` is walked: a top-level field (or a field of
/// `metadata`) equal on both sides holds the same owned fields and no change. Entries already
/// in the form [`set_entries`] writes are edited as their `fieldsV1` trees, and kept as stored
/// when they own none of the changed fields, so the output is byte for byte that of parsing
/// every entry into a path set and re-encoding it.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    schema: Option<&'static TypeSchema>,
    part: Part,
    api_version: &str,
    now: &str,
) {
    track_update_known(old, new, manager, schema, part, api_version, now, false);
}

/// [`track_update`] when the caller knows whether `new` carries `old`'s `managedFields`
/// unchanged (`entries_as_stored`), so they are not compared again.
#[allow(clippy::too_many_arguments)]
pub fn track_update_known(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    schema: Option<&'static TypeSchema>,
    part: Part,
    api_version: &str,
    now: &str,
    entries_as_stored: bool,
) {
    let subresource = if part == Part::Status { "status" } else { "" };
    let Some(old) = old else {
        // Create: the manager owns everything it set, built as the `fieldsV1` tree directly.
        let owned = fields_v1_of(new, schema, part);
        let entry = (!owned.is_empty()).then(|| {
            entry_json(
                manager,
                "Update",
                api_version,
                now,
                subresource,
                Value::Object(owned),
            )
        });
        if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            match entry {
                Some(entry) => {
                    meta.insert("managedFields".into(), Value::Array(vec![entry]));
                }
                None => {
                    meta.remove("managedFields");
                }
            }
        }
        return;
    };
    if !entries_as_stored
        && new["metadata"]["managedFields"] != old["metadata"]["managedFields"]
        && !new["metadata"]["managedFields"].is_null()
    {
        return;
    }
    // `new` carries the stored entries (or none): move them out rather than copy them. The
    // field manager never tracks `managedFields`, so the diff below does not see them go.
    let stored = match new
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("managedFields"))
    {
        Some(Value::Array(entries)) => entries,
        _ => old["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    };
    let diff = UpdateDiff::new(old, new, schema, part);
    let changed = !diff.changed.is_empty();
    let mut slots: Vec<Slot> = Vec::with_capacity(stored.len() + 1);
    let mut mine: Option<usize> = None;
    for raw in stored {
        let Some(operation) = raw["operation"].as_str() else {
            // Not an entry (`Entry::from_json` drops it).
            continue;
        };
        let is_mine = raw["manager"].as_str().unwrap_or("") == manager
            && operation == "Update"
            && raw["subresource"].as_str().unwrap_or("") == subresource;
        let canonical = is_canonical_entry(&raw);
        if is_mine && mine.is_none() && changed {
            mine = Some(slots.len());
            slots.push(if canonical {
                Slot::Raw(raw)
            } else {
                Slot::parsed(&raw)
            });
            continue;
        }
        let loses_fields = !is_mine && diff.owned_by(&raw);
        slots.push(match (canonical, loses_fields) {
            (true, false) => Slot::Raw(raw),
            (true, true) => {
                let mut raw = raw;
                if let Some(tree) = raw.get_mut("fieldsV1").and_then(Value::as_object_mut) {
                    diff.changed.remove_from(tree);
                }
                Slot::Raw(raw)
            }
            (false, _) => {
                let mut slot = Slot::parsed(&raw);
                if let (Slot::Parsed(entry), false) = (&mut slot, is_mine) {
                    entry.fields.retain(|p| !diff.changed.contains(p));
                }
                slot
            }
        });
    }
    if changed {
        match mine.and_then(|i| slots.get_mut(i)) {
            Some(Slot::Parsed(e)) => {
                diff.owned.add_paths(&mut Vec::new(), &mut e.fields);
                e.fields.retain(|p| diff.is_new_field(p));
                e.time = now.to_string();
                e.api_version = api_version.to_string();
            }
            Some(Slot::Raw(raw)) => {
                if let Some(tree) = raw.get_mut("fieldsV1").and_then(Value::as_object_mut) {
                    diff.keep_new_fields(tree);
                    diff.owned.add_to_tree(tree);
                }
                raw["time"] = Value::String(now.to_string());
                raw["apiVersion"] = Value::String(api_version.to_string());
            }
            None => {
                let mut tree = Map::new();
                diff.owned.add_to_tree(&mut tree);
                slots.push(Slot::Raw(entry_json(
                    manager,
                    "Update",
                    api_version,
                    now,
                    subresource,
                    Value::Object(tree),
                )));
            }
        }
    }
    let list: Vec<Value> = slots
        .into_iter()
        .filter_map(|slot| match slot {
            // An edited tree left empty: the entry owns nothing.
            Slot::Raw(raw) if raw["fieldsV1"].as_object().is_some_and(Map::is_empty) => None,
            Slot::Raw(raw) => Some(raw),
            Slot::Parsed(e) if !e.fields.is_empty() => Some(e.to_json()),
            Slot::Parsed(_) => None,
        })
        .collect();
    drop(diff);
    if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// One `managedFields` entry on its way through [`track_update`].
enum Slot {
    /// In the form [`Entry::to_json`] writes (see [`is_canonical_entry`]): kept as is, or its
    /// `fieldsV1` tree edited in place.
    Raw(Value),
    /// Parsed, to be changed or re-encoded.
    Parsed(Entry),
}

impl Slot {
    fn parsed(raw: &Value) -> Self {
        match Entry::from_json(raw) {
            Some(entry) => Self::Parsed(entry),
            // Unreachable for the callers, which checked `operation`; an empty entry is dropped.
            None => Self::Parsed(Entry {
                manager: String::new(),
                operation: String::new(),
                api_version: String::new(),
                time: String::new(),
                subresource: String::new(),
                fields: FieldSet::new(),
            }),
        }
    }
}

/// Whether an entry's JSON is exactly what `Entry::to_json(Entry::from_json(raw))` gives: the
/// six keys (seven with a non-empty `subresource`), strings where strings belong, and a
/// non-empty `fieldsV1` tree whose every value is an object (a leaf is `{}`). Such a tree is
/// `to_fields_v1` of its own path set, so editing the tree is editing the set.
fn is_canonical_entry(raw: &Value) -> bool {
    fn is_tree(m: &Map<String, Value>) -> bool {
        m.values().all(|v| v.as_object().is_some_and(is_tree))
    }
    let Some(m) = raw.as_object() else {
        return false;
    };
    let is_string = |k: &str| m.get(k).is_some_and(Value::is_string);
    let keys = match m.get("subresource") {
        None => 6,
        Some(Value::String(s)) if !s.is_empty() => 7,
        Some(_) => return false,
    };
    m.len() == keys
        && is_string("manager")
        && is_string("operation")
        && is_string("apiVersion")
        && is_string("time")
        && m.get("fieldsType").and_then(Value::as_str) == Some("FieldsV1")
        && matches!(m.get("fieldsV1"), Some(Value::Object(f)) if !f.is_empty() && is_tree(f))
}

/// Whether a `fieldsV1` node is a leaf, i.e. a path of `from_fields_v1`'s set ends there.
fn is_leaf(node: &Value) -> bool {
    node.as_object().is_none_or(Map::is_empty)
}

/// A set of field paths as a tree of path segments: building it allocates a segment once per
/// node rather than once per path. A node can be a member and have members below it, as a
/// set of changed fields can hold both a field that became an object and that object's fields.
#[derive(Default)]
struct PathTree {
    member: bool,
    children: BTreeMap<String, PathTree>,
}

impl PathTree {
    fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for key in path {
            if !node.children.contains_key(key.as_str()) {
                node.children.insert(key.clone(), Self::default());
            }
            let Some(child) = node.children.get_mut(key.as_str()) else {
                return;
            };
            node = child;
        }
        node.member = true;
    }

    /// Adds the members of `tree` below `path`.
    fn graft(&mut self, path: &[String], tree: PathTree) {
        let Some((last, init)) = path.split_last() else {
            self.merge(tree);
            return;
        };
        let mut node = self;
        for key in init {
            node = node.children.entry(key.clone()).or_default();
        }
        node.adopt(last.clone(), tree);
    }

    /// Adds the members of `tree` below the child `key`: the tree itself when there is no
    /// such child yet (the diff's usual case), rather than its members one by one.
    fn adopt(&mut self, key: String, tree: PathTree) {
        match self.children.entry(key) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(tree);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => slot.get_mut().merge(tree),
        }
    }

    fn merge(&mut self, other: PathTree) {
        self.member |= other.member;
        if self.children.is_empty() {
            self.children = other.children;
            return;
        }
        for (key, child) in other.children {
            self.adopt(key, child);
        }
    }

    fn contains(&self, path: &[String]) -> bool {
        let mut node = self;
        for key in path {
            match node.children.get(key.as_str()) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.member
    }

    /// Nodes are only made on the way to a member, so a tree without children holds at most
    /// the empty path.
    fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Adds every member, below `prefix`, to `out`.
    fn add_paths(&self, prefix: &mut FieldPath, out: &mut FieldSet) {
        if self.member {
            out.insert(prefix.clone());
        }
        for (key, child) in &self.children {
            prefix.push(key.clone());
            child.add_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Merges the members into a `fieldsV1` tree (`to_fields_v1` of the union of the sets).
    fn add_to_tree(&self, tree: &mut Map<String, Value>) {
        for (key, child) in &self.children {
            child.add_to_tree(child_node(tree, key.clone()));
        }
    }

    /// Whether a `fieldsV1` tree holds a member as a leaf.
    fn owns_leaf_of(&self, tree: &Map<String, Value>) -> bool {
        self.children
            .iter()
            .any(|(key, child)| match tree.get(key) {
                Some(node) if is_leaf(node) => child.member,
                Some(Value::Object(below)) => child.owns_leaf_of(below),
                _ => false,
            })
    }

    /// Removes from a canonical `fieldsV1` tree the leaves that are members, and the nodes
    /// left without leaves.
    fn remove_from(&self, tree: &mut Map<String, Value>) {
        for (key, child) in &self.children {
            let emptied = match tree.get_mut(key) {
                Some(node) if is_leaf(node) => child.member,
                Some(Value::Object(below)) => {
                    child.remove_from(below);
                    below.is_empty()
                }
                _ => false,
            };
            if emptied {
                tree.remove(key);
            }
        }
    }
}

/// The changed fields of an update below one path, and those of them the new object sets
/// (the writer's to own), as trees relative to that path. The diff fills them while it
/// recurses: a change costs its own node, not a walk from the root along its whole path.
#[derive(Default)]
struct Changes {
    /// Set differently, added, or removed.
    all: PathTree,
    /// Set differently or added: `all` ∩ `fields_of(new)`.
    owned: PathTree,
}

impl Changes {
    /// The field here is one the new object sets, with another value than before.
    fn set(&mut self) {
        self.all.member = true;
        self.owned.member = true;
    }

    /// The field here is one the old object set and the new one does not.
    fn removed(&mut self) {
        self.all.member = true;
    }

    /// A field below, by its path relative to here (from a walk of the values).
    fn set_below(&mut self, path: &[String]) {
        self.all.insert(path);
        self.owned.insert(path);
    }

    fn removed_below(&mut self, path: &[String]) {
        self.all.insert(path);
    }

    /// Collects the changes below the segment `key` with `diff`, and keeps them (spelling
    /// the segment) only when there are some.
    fn below(&mut self, key: impl FnOnce() -> String, diff: impl FnOnce(&mut Changes)) {
        let mut child = Changes::default();
        diff(&mut child);
        if child.all.is_empty() {
            return;
        }
        let key = key();
        if !child.owned.is_empty() {
            self.owned.adopt(key.clone(), child.owned);
        }
        self.all.adopt(key, child.all);
    }
}

/// Adds to `here` the changed fields below the path it stands for, whose values are `old`
/// and `new`: the fields of `new` whose values differ between the objects ([`value_at`]), and
/// the fields of `old` that `new` lacks.
///
/// `old` and `new` must be what [`value_at`] finds at that path in each object, and the only
/// values whose walk gives fields under it (true of object fields, and of list elements
/// whose merge keys are all present and distinct), and must differ (every caller has
/// compared them already: comparing again would walk their equal leading fields twice). Two
/// objects are compared field by field, two such lists element by element; anything else is
/// walked whole and compared field by field.
fn diff_node(
    old: Option<&Value>,
    new: Option<&Value>,
    field: Option<&'static kubetwin_patch::FieldSchema>,
    here: &mut Changes,
) {
    // Values the walk owns whole (scalars, empty containers, atomic lists) own just their
    // path: no need to walk them for it.
    if old.is_none_or(|v| owned_whole(v, field)) && new.is_none_or(|v| owned_whole(v, field)) {
        if new.is_some() {
            here.set();
        } else {
            here.removed();
        }
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) if !a.is_empty() && !b.is_empty() => {
            // The map itself (`walk_value` owns it on both sides): its value changed.
            if marks_itself(field) {
                here.below(|| ".".into(), Changes::set);
            }
            diff_fields(a, b, field.and_then(|f| f.ty), here);
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if !a.is_empty() && !b.is_empty() => {
            let keyed = field.and_then(|f| {
                if !f.strategy.contains("merge") || f.merge_key.is_empty() {
                    return None;
                }
                Some((
                    keyed_elements(a, f.merge_key)?,
                    keyed_elements(b, f.merge_key)?,
                ))
            });
            let Some((old_items, new_items)) = keyed else {
                diff_whole(old, new, field, here);
                return;
            };
            let ty = field.and_then(|f| f.ty);
            let empty = Map::new();
            let keys = old_items
                .keys()
                .chain(new_items.keys().filter(|k| !old_items.contains_key(*k)));
            let merge_key = field.map_or("", |f| f.merge_key);
            for key in keys {
                let before = old_items.get(key).copied();
                let after = new_items.get(key).copied();
                if before == after {
                    continue;
                }
                here.below(
                    || {
                        let element = after.or(before).and_then(|e| e.get(merge_key));
                        key_segment(merge_key, element.unwrap_or(&Value::Null))
                    },
                    |element| {
                        // The element itself: added, removed, or set to another value.
                        element.below(
                            || ".".into(),
                            |itself| {
                                if after.is_some() {
                                    itself.set();
                                } else {
                                    itself.removed();
                                }
                            },
                        );
                        let a = before.and_then(Value::as_object).unwrap_or(&empty);
                        let b = after.and_then(Value::as_object).unwrap_or(&empty);
                        diff_fields(a, b, ty, element);
                    },
                );
            }
        }
        _ => diff_whole(old, new, field, here),
    }
}

/// Whether [`walk_value`] of `v` gives only the path it starts from.
fn owned_whole(v: &Value, field: Option<&'static kubetwin_patch::FieldSchema>) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(items) => {
            items.is_empty() || !field.is_some_and(|f| f.strategy.contains("merge"))
        }
        _ => true,
    }
}

/// [`diff_node`] over the fields of two objects; equal fields are skipped before their path
/// segment is spelled.
fn diff_fields(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    ty: Option<&'static TypeSchema>,
    here: &mut Changes,
) {
    for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
        let (before, after) = (a.get(k), b.get(k));
        if before == after {
            continue;
        }
        here.below(
            || field_segment(k),
            |child| diff_node(before, after, ty.and_then(|t| t.field(k)), child),
        );
    }
}

/// The elements of a merge list by their merge key, when every element has it and no two
/// share it. The `k:` segment is spelled only for the elements that changed.
fn keyed_elements<'a>(
    items: &'a [Value],
    merge_key: &str,
) -> Option<BTreeMap<ElementKey<'a>, &'a Value>> {
    let mut out = BTreeMap::new();
    for item in items {
        let key = item.get(merge_key).filter(|k| !k.is_null())?;
        if out.insert(ElementKey::of(key), item).is_some() {
            return None;
        }
    }
    Some(out)
}

/// A merge key's value, ordered without spelling it when it is a string (the usual case).
/// Two keys are equal exactly when their `k:` segments are.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum ElementKey<'a> {
    Text(&'a str),
    /// Another JSON value, as JSON text.
    Other(String),
}

impl<'a> ElementKey<'a> {
    fn of(key: &'a Value) -> Self {
        match key {
            Value::String(text) => Self::Text(text),
            other => Self::Other(other.to_string()),
        }
    }
}

/// [`diff_node`] the long way: both values walked whole (from here), every field of `new`
/// compared.
fn diff_whole(
    old: Option<&Value>,
    new: Option<&Value>,
    field: Option<&'static kubetwin_patch::FieldSchema>,
    here: &mut Changes,
) {
    let mut path = FieldPath::new();
    let mut old_fields = FieldSet::new();
    if let Some(v) = old {
        walk_value(v, field, &mut path, &mut old_fields);
    }
    let mut new_fields = FieldSet::new();
    if let Some(v) = new {
        walk_value(v, field, &mut path, &mut new_fields);
    }
    for p in &old_fields {
        if !new_fields.contains(p) {
            here.removed_below(p);
        }
    }
    for p in &new_fields {
        if old.and_then(|v| value_at(v, p)) != new.and_then(|v| value_at(v, p)) {
            here.set_below(p);
        }
    }
}

/// What an update changed, found segment by segment.
struct UpdateDiff<'a> {
    /// The changed fields: set differently, added, or removed.
    changed: PathTree,
    /// The changed fields the new object sets.
    owned: PathTree,
    /// The new object's segments.
    new_segments: BTreeMap<SegmentName<'a>, Segment<'a>>,
}

impl<'a> UpdateDiff<'a> {
    fn new(old: &Value, new: &'a Value, schema: Option<&'static TypeSchema>, part: Part) -> Self {
        let old_segments = segments(old, schema, part);
        let new_segments = segments(new, schema, part);
        let mut changes = Changes::default();
        let names: BTreeSet<SegmentName<'_>> = old_segments
            .keys()
            .chain(new_segments.keys())
            .copied()
            .collect();
        for name in names {
            let before = old_segments.get(&name);
            let after = new_segments.get(&name);
            if before.map(|s| s.value) == after.map(|s| s.value) {
                continue;
            }
            let field = after.or(before).and_then(|s| s.field);
            let mut found = Changes::default();
            diff_node(
                before.map(|s| s.value),
                after.map(|s| s.value),
                field,
                &mut found,
            );
            if found.all.is_empty() {
                continue;
            }
            let prefix = name.path();
            if !found.owned.is_empty() {
                changes.owned.graft(&prefix, found.owned);
            }
            changes.all.graft(&prefix, found.all);
        }
        Self {
            changed: changes.all,
            owned: changes.owned,
            new_segments,
        }
    }

    /// The segment of the new object that `path` falls in, and the rest of the path below it.
    fn segment_of<'p, S: AsRef<str>>(&self, path: &'p [S]) -> Option<(&Segment<'a>, &'p [S])> {
        let prefix_len = if path.first().is_some_and(|k| k.as_ref() == "f:metadata") {
            2
        } else {
            1
        };
        let prefix = path.get(..prefix_len)?;
        let segment = self
            .new_segments
            .iter()
            .find(|(name, _)| name.is_path(prefix))
            .map(|(_, segment)| segment)?;
        Some((segment, &path[prefix_len..]))
    }

    /// Whether the new object sets `path` (`fields_of(new)` contains it).
    fn is_new_field<S: AsRef<str>>(&self, path: &[S]) -> bool {
        self.segment_of(path)
            .is_some_and(|(segment, rest)| walk_contains(segment.value, segment.field, rest))
    }

    /// Keeps in a canonical `fieldsV1` tree only the leaves the new object sets (and the nodes
    /// that still lead to one): the tree of its set ∩ `fields_of(new)`.
    ///
    /// The tree and the new object are walked together, each node's value found once from its
    /// parent's, rather than asking [`Self::is_new_field`] of every leaf (a walk from the root
    /// each time).
    fn keep_new_fields(&self, tree: &mut Map<String, Value>) {
        tree.retain(|key, node| {
            if key != "f:metadata" {
                return self.keep_in_segment(&[key.as_str()], node);
            }
            // The fields of `metadata` are segments of their own; `metadata` itself is no field.
            match node {
                Value::Object(fields) if !fields.is_empty() => {
                    fields.retain(|field, below| {
                        self.keep_in_segment(&[key.as_str(), field.as_str()], below)
                    });
                    !fields.is_empty()
                }
                _ => false,
            }
        });
    }

    /// [`Self::keep_new_fields`] for the subtree of the segment `prefix`.
    fn keep_in_segment(&self, prefix: &[&str], node: &mut Value) -> bool {
        match self.segment_of(prefix) {
            Some((segment, _)) => keep_set_fields(node, segment.value, segment.field),
            None => false,
        }
    }

    /// Whether the stored entry `raw` owns a changed field.
    fn owned_by(&self, raw: &Value) -> bool {
        raw["fieldsV1"]
            .as_object()
            .is_some_and(|tree| self.changed.owns_leaf_of(tree))
    }
}

/// Keeps in the `fieldsV1` node `node` (whose path is that of `v`) the leaves [`walk_value`]
/// from `v` gives (every leaf below for which [`walk_contains`] holds), and the nodes that
/// still lead to one; says whether anything is left. Follows [`walk_contains`]' rules one
/// level at a time.
fn keep_set_fields(
    node: &mut Value,
    v: &Value,
    field: Option<&'static kubetwin_patch::FieldSchema>,
) -> bool {
    let Value::Object(children) = node else {
        return owned_whole(v, field);
    };
    if children.is_empty() {
        return owned_whole(v, field);
    }
    match v {
        Value::Object(m) if !m.is_empty() => {
            let ty = field.and_then(|f| f.ty);
            children.retain(|key, child| {
                if key == "." {
                    return is_leaf(child) && marks_itself(field);
                }
                let Some(name) = key.strip_prefix("f:") else {
                    return false;
                };
                m.get(name).is_some_and(|value| {
                    keep_set_fields(child, value, ty.and_then(|t| t.field(name)))
                })
            });
        }
        Value::Array(items) if !items.is_empty() => {
            let strategy = field.map(|f| f.strategy).unwrap_or("");
            let merge_key = field.map(|f| f.merge_key).unwrap_or("");
            if strategy.contains("merge") && !merge_key.is_empty() {
                let ty = field.and_then(|f| f.ty);
                children.retain(|segment, element| {
                    let Value::Object(inner) = element else {
                        return false;
                    };
                    let naming = ElementNaming::of(segment, merge_key);
                    let named: Vec<&Value> = items
                        .iter()
                        .enumerate()
                        .filter(|&(i, item)| naming.names(item, i))
                        .map(|(_, item)| item)
                        .collect();
                    if named.is_empty() {
                        return false;
                    }
                    inner.retain(|key, below| {
                        if key == "." {
                            return is_leaf(below);
                        }
                        let Some(name) = key.strip_prefix("f:") else {
                            return false;
                        };
                        let field = ty.and_then(|t| t.field(name));
                        match named.as_slice() {
                            [item] => item
                                .get(name)
                                .is_some_and(|value| keep_set_fields(below, value, field)),
                            // Elements sharing a name: a leaf stays if any of them sets it.
                            _ => retain_leaves(below, &mut Vec::new(), &|rest| {
                                named.iter().any(|item| {
                                    item.get(name)
                                        .is_some_and(|value| walk_contains(value, field, rest))
                                })
                            }),
                        }
                    });
                    !inner.is_empty()
                });
            } else if strategy.contains("merge") {
                children.retain(|segment, child| {
                    is_leaf(child)
                        && segment
                            .strip_prefix("v:")
                            .is_some_and(|spelled| items.iter().any(|item| spells(spelled, item)))
                });
            } else {
                children.clear();
            }
        }
        _ => children.clear(),
    }
    !children.is_empty()
}

/// Keeps the leaves of a `fieldsV1` node for which `keep` holds of their path below it, and
/// the nodes that still lead to one; says whether anything is left.
fn retain_leaves(
    node: &mut Value,
    path: &mut Vec<String>,
    keep: &dyn Fn(&[String]) -> bool,
) -> bool {
    match node {
        Value::Object(children) if !children.is_empty() => {
            children.retain(|key, child| {
                path.push(key.clone());
                let kept = retain_leaves(child, path, keep);
                path.pop();
                kept
            });
            !children.is_empty()
        }
        _ => keep(path),
    }
}

/// Server-side apply of `applied` by `manager` onto `live` (`None` to create). Returns the new
/// object with its `managedFields`, or the conflicts when `force` is off.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    schema: Option<&'static TypeSchema>,
    part: Part,
    api_version: &str,
    now: &str,
) -> Result<Value, ApplyError> {
    let subresource = if part == Part::Status { "status" } else { "" };
    let applied_fields = fields_of(applied, schema, part);
    let Some(live) = live else {
        let mut obj = applied.clone();
        let entry = Entry {
            manager: manager.into(),
            operation: "Apply".into(),
            api_version: api_version.into(),
            time: now.into(),
            subresource: subresource.into(),
            fields: applied_fields,
        };
        set_entries(&mut obj, &[entry]);
        return Ok(obj);
    };
    let mut to_merge = applied.clone();
    if let Some(meta) = to_merge.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    let mut merged = kubetwin_patch::strategic_merge_patch(live, &to_merge, schema)
        .map_err(ApplyError::Patch)?;
    let mut entries = entries_of(live);

    let mut conflicts = Vec::new();
    for e in entries.iter() {
        if e.same_identity(manager, "Apply", subresource) {
            continue;
        }
        for p in e.fields.intersection(&applied_fields) {
            if p.last().is_some_and(|k| k == ".") {
                continue;
            }
            if value_at(live, p) != value_at(&merged, p) {
                conflicts.push((
                    e.manager.clone(),
                    e.operation.clone(),
                    e.subresource.clone(),
                    p.clone(),
                    e.describe(),
                ));
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(ApplyError::Conflicts(
                conflicts
                    .into_iter()
                    .map(|(_, _, _, p, m)| Conflict {
                        manager: m,
                        path: path_string(&p),
                    })
                    .collect(),
            ));
        }
        for (m, op, sub, p, _) in &conflicts {
            if let Some(e) = entries.iter_mut().find(|e| e.same_identity(m, op, sub)) {
                e.fields.remove(p);
            }
        }
    }

    // Prune what this manager applied before, no longer applies, and nobody else owns.
    let previous = entries
        .iter()
        .find(|e| e.same_identity(manager, "Apply", subresource))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others: FieldSet = entries
        .iter()
        .filter(|e| !e.same_identity(manager, "Apply", subresource))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let mut removed: Vec<FieldPath> = previous
        .iter()
        .filter(|p| !applied_fields.contains(*p) && !others.contains(*p))
        .cloned()
        .collect();
    removed.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in &removed {
        remove_at(&mut merged, p);
    }

    match entries
        .iter_mut()
        .find(|e| e.same_identity(manager, "Apply", subresource))
    {
        Some(e) => {
            e.fields = applied_fields;
            e.time = now.to_string();
            e.api_version = api_version.to_string();
        }
        None => entries.insert(
            0,
            Entry {
                manager: manager.into(),
                operation: "Apply".into(),
                api_version: api_version.into(),
                time: now.into(),
                subresource: subresource.into(),
                fields: applied_fields,
            },
        ),
    }
    set_entries(&mut merged, &entries);
    Ok(merged)
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyError {
    /// Fields owned by other managers would change.
    Conflicts(Vec<Conflict>),
    /// The merge itself failed.
    Patch(kubetwin_patch::PatchError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm_schema() -> Option<&'static TypeSchema> {
        kubetwin_patch::schema_for("", "v1", "ConfigMap")
    }

    /// Keeping a stored entry's fields that the new object still sets, walking the tree and the
    /// object together: set lists, elements sharing a merge key, elements named by position,
    /// map markers, `metadata` itself, and fields the object lacks.
    #[test]
    fn keep_new_fields_keeps_the_fields_the_object_sets() {
        let schema = kubetwin_patch::schema_for("", "v1", "Pod");
        let obj = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
            "spec": {
                "containers": [{"name": "c", "image": "i"},
                    {"name": "c", "image": "j", "ports": [{"containerPort": 80}]}],
                "initContainers": [{"image": "x"}]}});
        // (owned path, whether the object sets it)
        let table: &[(&[&str], bool)] = &[
            (&["f:metadata"], false),
            (&["f:metadata", "f:finalizers", "v:\"a\""], true),
            (&["f:metadata", "f:finalizers", "v:\"z\""], false),
            (&["f:metadata", "f:finalizers", "v:\"b\"", "f:x"], false),
            (&["f:metadata", "f:labels", "."], true),
            (&["f:metadata", "f:labels", "f:app"], true),
            (&["f:metadata", "f:labels", "f:gone"], false),
            (&["f:spec", "f:containers", "k:{\"name\":\"c\"}", "."], true),
            (
                &["f:spec", "f:containers", "k:{\"name\":\"c\"}", "f:image"],
                true,
            ),
            (
                &["f:spec", "f:containers", "k:{\"name\":\"c\"}", "f:ports"],
                false,
            ),
            (
                &[
                    "f:spec",
                    "f:containers",
                    "k:{\"name\":\"c\"}",
                    "f:ports",
                    "k:{\"containerPort\":80}",
                    ".",
                ],
                true,
            ),
            (
                &[
                    "f:spec",
                    "f:containers",
                    "k:{\"name\":\"c\"}",
                    "f:ports",
                    "k:{\"containerPort\":81}",
                    ".",
                ],
                false,
            ),
            (
                &["f:spec", "f:containers", "k:{\"name\":\"d\"}", "."],
                false,
            ),
            (&["f:spec", "f:initContainers", "i:0", "."], true),
            (&["f:spec", "f:initContainers", "i:0", "f:image"], true),
            (&["f:spec", "f:initContainers", "i:1", "."], false),
            (&["f:spec", "f:nodeName"], false),
            (&["f:data"], false),
            (&["."], false),
        ];
        let path = |p: &[&str]| -> FieldPath { p.iter().map(|s| s.to_string()).collect() };
        let owned: FieldSet = table.iter().map(|(p, _)| path(p)).collect();
        let kept: FieldSet = table
            .iter()
            .filter(|(_, k)| *k)
            .map(|(p, _)| path(p))
            .collect();
        let part = Part::Main {
            status_is_subresource: true,
        };
        let fields = fields_of(&obj, schema, part);
        let expected: FieldSet = owned
            .iter()
            .filter(|p| fields.contains(*p))
            .cloned()
            .collect();
        assert_eq!(expected, kept);
        let Value::Object(mut tree) = to_fields_v1(&owned) else {
            panic!("a tree")
        };
        UpdateDiff::new(&json!({}), &obj, schema, part).keep_new_fields(&mut tree);
        assert_eq!(Value::Object(tree), to_fields_v1(&expected));
    }

    /// A `k:` segment is the JSON text of the one-key object, escapes and all.
    #[test]
    fn key_segments_spell_the_merge_key_object() {
        for (merge_key, key) in [
            ("type", json!("Ready")),
            ("name", json!("a \"quoted\" \u{e9}\\ name")),
            ("containerPort", json!(8080)),
            ("port", json!(-1.5)),
            ("odd\"key", json!({"b": [1, null], "a": true})),
        ] {
            let mut object = Map::new();
            object.insert(merge_key.to_string(), key.clone());
            assert_eq!(
                key_segment(merge_key, &key),
                format!("k:{}", Value::Object(object))
            );
        }
    }

    #[test]
    fn fields_v1_round_trips_and_names_paths() {
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}});
        let schema = kubetwin_patch::schema_for("apps", "v1", "Deployment");
        let set = fields_of(
            &deploy,
            schema,
            Part::Main {
                status_is_subresource: true,
            },
        );
        let v1 = to_fields_v1(&set);
        assert_eq!(v1["f:spec"]["f:replicas"], json!({}));
        assert_eq!(
            v1["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]["f:image"],
            json!({})
        );
        assert!(v1["f:metadata"]["f:labels"]["f:app"].is_object());
        assert!(v1["f:metadata"].get("f:name").is_none());
        assert_eq!(from_fields_v1(&v1), set);
        let image = vec![
            "f:spec".to_string(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"nginx\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(
            path_string(&image),
            ".spec.template.spec.containers[name=\"nginx\"].image"
        );
        assert_eq!(value_at(&deploy, &image), Some(&json!("nginx")));
    }

    #[test]
    fn apply_conflicts_force_and_prune() {
        let part = Part::Main {
            status_is_subresource: false,
        };
        let alice = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "shared": "x"}});
        let live =
            apply(None, &alice, "alice", false, cm_schema(), part, "v1", "t0").expect("create");
        let bob = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"shared": "y"}});
        let Err(ApplyError::Conflicts(c)) = apply(
            Some(&live),
            &bob,
            "bob",
            false,
            cm_schema(),
            part,
            "v1",
            "t1",
        ) else {
            panic!("expected a conflict");
        };
        assert_eq!(
            conflict_message(&c),
            "Apply failed with 1 conflict: conflict with \"alice\": .data.shared"
        );
        // Same value: shared ownership, no conflict.
        let bob_same = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"shared": "x"}});
        let shared = apply(
            Some(&live),
            &bob_same,
            "bob",
            false,
            cm_schema(),
            part,
            "v1",
            "t1",
        )
        .expect("no conflict");
        assert_eq!(entries_of(&shared).len(), 2);
        // Forced: bob takes the field.
        let forced = apply(
            Some(&live),
            &bob,
            "bob",
            true,
            cm_schema(),
            part,
            "v1",
            "t2",
        )
        .expect("forced");
        assert_eq!(forced["data"]["shared"], "y");
        // Alice stops applying `a`: pruned.
        let alice2 =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}});
        let pruned = apply(
            Some(&forced),
            &alice2,
            "alice",
            false,
            cm_schema(),
            part,
            "v1",
            "t3",
        )
        .expect("prune");
        assert!(pruned["data"].get("a").is_none(), "{pruned}");
        assert_eq!(pruned["data"]["shared"], "y");
    }

    #[test]
    fn updates_take_ownership_of_what_they_change() {
        let part = Part::Main {
            status_is_subresource: false,
        };
        let mut created = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        track_update(
            None,
            &mut created,
            "kubectl-create",
            cm_schema(),
            part,
            "v1",
            "t0",
        );
        let mut edited = created.clone();
        edited["data"]["a"] = json!("2");
        track_update(
            Some(&created),
            &mut edited,
            "kubectl-edit",
            cm_schema(),
            part,
            "v1",
            "t1",
        );
        let entries = entries_of(&edited);
        let edit = entries
            .iter()
            .find(|e| e.manager == "kubectl-edit")
            .expect("edit entry");
        assert!(
            edit.fields
                .contains(&vec!["f:data".to_string(), "f:a".to_string()])
        );
        assert!(entries.iter().all(|e| {
            e.manager != "kubectl-create"
                || !e
                    .fields
                    .contains(&vec!["f:data".to_string(), "f:a".to_string()])
        }));
    }

    /// The bookkeeping as it was before [`track_update`] learnt to skip unchanged segments
    /// and entries: every entry parsed, both objects' whole field sets, every entry re-encoded.
    /// The property test below holds the two to byte-identical output.
    mod reference {
        use super::super::*;

        pub fn track_update(
            old: Option<&Value>,
            new: &mut Value,
            manager: &str,
            schema: Option<&'static TypeSchema>,
            part: Part,
            api_version: &str,
            now: &str,
        ) {
            if let Some(old) = old
                && new["metadata"]["managedFields"] != old["metadata"]["managedFields"]
                && !new["metadata"]["managedFields"].is_null()
            {
                return;
            }
            let subresource = if part == Part::Status { "status" } else { "" };
            let mut entries = old.map(entries_of).unwrap_or_default();
            let new_fields = fields_of(new, schema, part);
            let changed: FieldSet = match old {
                None => new_fields.clone(),
                Some(old) => {
                    let old_fields = fields_of(old, schema, part);
                    let mut changed: FieldSet = new_fields
                        .iter()
                        .filter(|p| value_at(old, p) != value_at(new, p))
                        .cloned()
                        .collect();
                    changed.extend(old_fields.difference(&new_fields).cloned());
                    changed
                }
            };
            if changed.is_empty() {
                set_entries(new, &entries);
                return;
            }
            for e in entries.iter_mut() {
                if !e.same_identity(manager, "Update", subresource) {
                    e.fields.retain(|p| !changed.contains(p));
                }
            }
            let owned: FieldSet = changed.intersection(&new_fields).cloned().collect();
            match entries
                .iter_mut()
                .find(|e| e.same_identity(manager, "Update", subresource))
            {
                Some(e) => {
                    e.fields.extend(owned);
                    e.fields.retain(|p| new_fields.contains(p));
                    e.time = now.to_string();
                    e.api_version = api_version.to_string();
                }
                None => entries.push(Entry {
                    manager: manager.to_string(),
                    operation: "Update".into(),
                    api_version: api_version.to_string(),
                    time: now.to_string(),
                    subresource: subresource.to_string(),
                    fields: owned,
                }),
            }
            set_entries(new, &entries);
        }
    }

    fn pod_schema() -> Option<&'static TypeSchema> {
        kubetwin_patch::schema_for("", "v1", "Pod")
    }

    fn pod(status: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "u", "resourceVersion": "5",
                "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
            "status": status})
    }

    fn status(phase: &str, ready: &str) -> Value {
        json!({"phase": phase, "hostIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": ready, "lastProbeTime": null},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null}],
            "containerStatuses": [{"name": "c", "ready": ready == "True", "restartCount": 0,
                "state": {"running": {"startedAt": "t"}}}]})
    }

    /// Runs both implementations on the same input; their outputs must be the same bytes.
    #[allow(clippy::too_many_arguments)]
    fn assert_like_reference(
        name: &str,
        old: Option<&Value>,
        new: &Value,
        manager: &str,
        schema: Option<&'static TypeSchema>,
        part: Part,
    ) -> Value {
        let mut expected = new.clone();
        reference::track_update(old, &mut expected, manager, schema, part, "v1", "t9");
        let mut got = new.clone();
        track_update(old, &mut got, manager, schema, part, "v1", "t9");
        assert_eq!(
            serde_json::to_string(&got).expect("json"),
            serde_json::to_string(&expected).expect("json"),
            "{name}"
        );
        got
    }

    /// The kubelet's status writes over a pod created by a controller: the controller's entry
    /// keeps its stored JSON, the kubelet's status entry follows what it set.
    #[test]
    fn status_writes_keep_other_entries_and_match_the_reference() {
        let main = Part::Main {
            status_is_subresource: true,
        };
        let mut created = pod(json!({}));
        track_update(
            None,
            &mut created,
            "kube-controller-manager",
            pod_schema(),
            main,
            "v1",
            "t0",
        );
        let controller_entry = created["metadata"]["managedFields"][0].clone();
        let mut current = created;
        for (i, next_status) in [
            status("Pending", "False"),
            status("Running", "False"),
            status("Running", "True"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut next = current.clone();
            next["status"] = next_status;
            let got = assert_like_reference(
                &format!("status write {i}"),
                Some(&current),
                &next,
                "kubelet",
                pod_schema(),
                Part::Status,
            );
            assert_eq!(got["metadata"]["managedFields"][0], controller_entry);
            let kubelet = &got["metadata"]["managedFields"][1];
            assert_eq!(kubelet["manager"], "kubelet");
            assert_eq!(kubelet["subresource"], "status");
            assert!(kubelet["fieldsV1"]["f:status"]["f:conditions"]["k:{\"type\":\"Ready\"}"]["f:status"].is_object());
            current = got;
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// `managedFields` entries as stored: canonical ones of several managers (and a
        /// duplicate), and ones that re-encoding changes or drops.
        fn entry_pool() -> Vec<Value> {
            let entry = |manager: &str, sub: Option<&str>, fields: Value| {
                let mut e = json!({"manager": manager, "operation": "Update", "apiVersion": "v1",
                    "time": "t0", "fieldsType": "FieldsV1", "fieldsV1": fields});
                if let Some(s) = sub {
                    e["subresource"] = json!(s);
                }
                e
            };
            let status_fields = json!({"f:status": {"f:phase": {}, "f:hostIP": {},
                "f:conditions": {".": {}, "k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}, "f:type": {}}}}});
            let spec_fields = json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:nodeName": {}, "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}});
            let mut weird_leaf = entry("weird", None, json!({"f:data": {"f:a": 1}}));
            weird_leaf["time"] = json!("t0");
            let mut extra_key = entry("extra", None, spec_fields.clone());
            extra_key["other"] = json!(true);
            let mut empty_sub = entry("emptysub", None, status_fields.clone());
            empty_sub["subresource"] = json!("");
            let mut no_time = entry("notime", None, spec_fields.clone());
            no_time.as_object_mut().map(|m| m.remove("time"));
            let mut apply = entry("kubectl", None, spec_fields.clone());
            apply["operation"] = json!("Apply");
            vec![
                entry("kubelet", Some("status"), status_fields.clone()),
                entry("kube-controller-manager", None, spec_fields.clone()),
                entry("kubectl-edit", None, json!({"f:spec": {"f:nodeName": {}}})),
                entry(
                    "kubelet",
                    Some("status"),
                    json!({"f:status": {"f:podIP": {}}}),
                ),
                entry("kubectl-edit", None, json!({})),
                entry(
                    "both",
                    None,
                    json!({"f:spec": {"f:nodeName": {}}, "f:status": {"f:phase": {}}}),
                ),
                weird_leaf,
                extra_key,
                empty_sub,
                no_time,
                apply,
                entry(
                    "default-scheduler",
                    Some("status"),
                    json!({"f:status": {"f:conditions": {
                    "k:{\"type\":\"PodScheduled\"}": {".": {}, "f:status": {}}}}}),
                ),
                json!({"manager": "broken"}),
                json!("not an entry"),
            ]
        }

        /// How many edits [`edit_pool`] holds.
        const EDITS: usize = 38;

        /// Edits an update may make.
        fn edit_pool() -> Vec<(&'static [&'static str], Value)> {
            vec![
                (&["status", "phase"][..], json!("Running")),
                (&["status", "phase"][..], Value::Null),
                (&["status", "podIP"][..], json!("10.1.0.1")),
                (
                    &["status", "conditions"][..],
                    json!([{"type": "Ready", "status": "True"}]),
                ),
                (
                    &["status", "conditions"][..],
                    json!([{"status": "True"}, {"type": "X"}]),
                ),
                (&["status"][..], Value::Null),
                (&["status"][..], json!("scalar")),
                (&["spec", "nodeName"][..], json!("n2")),
                (&["spec", "nodeName"][..], json!({"now": "an object"})),
                (
                    &["spec", "containers"][..],
                    json!([{"name": "c", "image": "j"}]),
                ),
                (
                    &["spec", "tolerations"][..],
                    json!([{"key": "k", "operator": "Exists"}]),
                ),
                (
                    &["metadata", "labels"][..],
                    json!({"app": "web", "tier": "x"}),
                ),
                (&["metadata", "labels"][..], Value::Null),
                (&["metadata", "annotations"][..], json!({"a": "b"})),
                (&["metadata", "resourceVersion"][..], json!("9")),
                (&["metadata", "generation"][..], json!(3)),
                (&["metadata"][..], json!("scalar")),
                (&["data"][..], json!({"k": "v"})),
                // Merge lists: an element's field, a nested merge list, reordering, elements
                // added and removed, duplicate and missing merge keys, non-objects.
                (
                    &["spec", "containers"][..],
                    json!([{"name": "c", "image": "i2",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}]}]),
                ),
                (
                    &["spec", "containers"][..],
                    json!([{"name": "c", "image": "i",
                    "ports": [{"containerPort": 81, "protocol": "TCP"}, {"containerPort": 80}]}]),
                ),
                (
                    &["spec", "containers"][..],
                    json!([{"name": "d", "image": "x"},
                    {"name": "c", "image": "i", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]),
                ),
                (
                    &["spec", "containers"][..],
                    json!([{"name": "c", "image": "i"}, {"name": "c", "image": "j"}]),
                ),
                (
                    &["spec", "containers"][..],
                    json!([{"image": "i"}, {"name": "c"}]),
                ),
                (&["spec", "containers"][..], json!([1, "c"])),
                (
                    &["spec", "containers"][..],
                    json!([{"name": null, "image": "i"}]),
                ),
                (
                    &["status", "conditions"][..],
                    json!([{"type": "PodScheduled", "status": "True", "lastProbeTime": null},
                    {"type": "Ready", "status": "True", "lastProbeTime": null}]),
                ),
                (
                    &["status", "conditions"][..],
                    json!([{"type": "Ready", "status": "False", "lastProbeTime": null}]),
                ),
                (
                    &["status", "conditions"][..],
                    json!([{"type": "Ready", "status": "False", "lastProbeTime": null, "reason": "X"},
                    {"type": "PodScheduled", "status": "True", "lastProbeTime": null}]),
                ),
                (
                    &["status", "containerStatuses"][..],
                    json!([{"name": "c", "ready": false, "restartCount": 1,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]),
                ),
                (&["status", "containerStatuses"][..], json!([])),
                (&["status", "conditions"][..], json!({})),
                (&["metadata", "labels"][..], json!({"app": "other"})),
                (&["metadata", "labels"][..], json!({})),
                (&["spec", "nodeSelector"][..], json!({"zone": "a"})),
                (
                    &["spec", "tolerations"][..],
                    json!([{"key": "k", "operator": "Exists"}, {"key": "k"}]),
                ),
                (
                    &["spec", "containers"][..],
                    json!([{"name": "d", "image": "x"}]),
                ),
                // A set (a merge list without a merge key).
                (&["metadata", "finalizers"][..], json!(["a", "b"])),
                (&["metadata", "finalizers"][..], json!(["b", {"c": 1}])),
            ]
        }

        use crate::object::set_path;

        /// The parts a write can own, picked by index in the property tests.
        const PARTS: [Part; 3] = [
            Part::Status,
            Part::Main {
                status_is_subresource: true,
            },
            Part::Main {
                status_is_subresource: false,
            },
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Whatever the stored entries and the update, the output is byte for byte the
            /// reference implementation's.
            #[test]
            fn track_update_matches_the_reference(
                entries in proptest::collection::vec(0..14usize, 0..5),
                edits in proptest::collection::vec(0..EDITS, 0..4),
                managed in 0..3usize,
                manager in 0..4usize,
                part in 0..3usize,
                create in any::<bool>(),
                known_schema in any::<bool>(),
            ) {
                prop_assert_eq!(edit_pool().len(), EDITS);
                let pool = entry_pool();
                let mut old = pod(status("Pending", "False"));
                let list: Vec<Value> = entries.iter().map(|&i| pool[i].clone()).collect();
                if !list.is_empty() {
                    old["metadata"]["managedFields"] = Value::Array(list);
                }
                let mut new = old.clone();
                for &e in &edits {
                    let (path, value) = edit_pool().swap_remove(e);
                    set_path(&mut new, path, value);
                }
                if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                    match managed {
                        // The client removed them, or wrote its own.
                        1 => { meta.remove("managedFields"); }
                        2 => { meta.insert("managedFields".into(), json!([pool[1].clone()])); }
                        _ => {}
                    }
                }
                let manager = ["kubelet", "kube-controller-manager", "kubectl-edit", "new-one"][manager];
                let part = PARTS[part];
                let schema = if known_schema { pod_schema() } else { None };
                let old = if create { None } else { Some(&old) };
                assert_like_reference("generated", old, &new, manager, schema, part);
            }

            /// The one-walk `fieldsV1` tree is the tree of the path set.
            #[test]
            fn fields_v1_of_is_the_tree_of_the_path_set(
                edits in proptest::collection::vec(0..EDITS, 0..6),
                part in 0..3usize,
                known_schema in any::<bool>(),
            ) {
                let part = PARTS[part];
                let schema = if known_schema { pod_schema() } else { None };
                let mut obj = pod(status("Running", "True"));
                for &e in &edits {
                    let (path, value) = edit_pool().swap_remove(e);
                    set_path(&mut obj, path, value);
                }
                prop_assert_eq!(
                    Value::Object(fields_v1_of(&obj, schema, part)),
                    to_fields_v1(&fields_of(&obj, schema, part))
                );
            }

            /// Asking whether one field is set gives what the whole walk gives, for the fields
            /// an object sets, the fields other objects set, and their prefixes.
            #[test]
            fn walk_contains_agrees_with_the_whole_walk(
                edits in proptest::collection::vec(0..EDITS, 0..4),
                others in proptest::collection::vec(0..EDITS, 0..4),
                part in 0..3usize,
                known_schema in any::<bool>(),
            ) {
                let part = PARTS[part];
                let schema = if known_schema { pod_schema() } else { None };
                let edited = |picks: &[usize]| {
                    let mut obj = pod(status("Running", "True"));
                    for &e in picks {
                        let (path, value) = edit_pool().swap_remove(e);
                        set_path(&mut obj, path, value);
                    }
                    obj
                };
                let obj = edited(&edits);
                let other = edited(&others);
                let fields = fields_of(&obj, schema, part);
                let mut candidates = fields.clone();
                candidates.extend(fields_of(&other, schema, part));
                for path in candidates.clone() {
                    for len in 0..path.len() {
                        candidates.insert(path[..len].to_vec());
                    }
                }
                let segments = segments(&obj, schema, part);
                for path in &candidates {
                    let found = segments.iter().any(|(name, segment)| {
                        let prefix = name.path();
                        path.starts_with(&prefix)
                            && walk_contains(segment.value, segment.field, &path[prefix.len()..])
                    });
                    prop_assert_eq!(found, fields.contains(path), "{:?}", path);
                }
                // Keeping the fields the object sets in a tree of all those paths, walking
                // both together, leaves the tree of those the object sets.
                let mut tree = match to_fields_v1(&candidates) {
                    Value::Object(tree) => tree,
                    _ => Map::new(),
                };
                let diff = UpdateDiff::new(&other, &obj, schema, part);
                diff.keep_new_fields(&mut tree);
                let leaves: FieldSet = from_fields_v1(&to_fields_v1(&candidates))
                    .into_iter()
                    .filter(|p| fields.contains(p))
                    .collect();
                prop_assert_eq!(Value::Object(tree), to_fields_v1(&leaves));
            }
        }
    }
}
