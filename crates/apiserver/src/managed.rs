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

use std::collections::BTreeSet;

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
        let mut v = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(&self.fields),
        });
        if !self.subresource.is_empty() {
            v["subresource"] = json!(self.subresource);
        }
        v
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

/// The fields `obj` sets, as owned by a write of `part`.
pub fn fields_of(obj: &Value, schema: Option<&'static TypeSchema>, part: Part) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(root) = obj.as_object() else {
        return out;
    };
    let mut path = Vec::new();
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
        path.push(format!("f:{k}"));
        if k == "metadata" {
            if let Some(meta) = v.as_object() {
                for (mk, mv) in meta {
                    if STRIPPED_META.contains(&mk.as_str()) {
                        continue;
                    }
                    path.push(format!("f:{mk}"));
                    let field = schema
                        .and_then(|s| s.field("metadata"))
                        .and_then(|f| f.ty)
                        .and_then(|t| t.field(mk));
                    walk_value(mv, field, &mut path, &mut out);
                    path.pop();
                }
            }
        } else {
            let field = schema.and_then(|s| s.field(k));
            walk_value(v, field, &mut path, &mut out);
        }
        path.pop();
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
            let is_map = field.is_some_and(|f| f.shape == FieldShape::Map)
                || field.is_none_or(|f| f.ty.is_none());
            if is_map && field.is_some() {
                path.push(".".into());
                out.insert(path.clone());
                path.pop();
            }
            let ty = field.and_then(|f| f.ty);
            for (k, child) in m {
                path.push(format!("f:{k}"));
                walk_value(child, ty.and_then(|t| t.field(k)), path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let strategy = field.map(|f| f.strategy).unwrap_or("");
            let merge_key = field.map(|f| f.merge_key).unwrap_or("");
            if strategy.contains("merge") && !merge_key.is_empty() {
                for (i, item) in items.iter().enumerate() {
                    let element = match item.get(merge_key) {
                        Some(key) if !key.is_null() => {
                            let mut k = Map::new();
                            k.insert(merge_key.to_string(), key.clone());
                            format!("k:{}", Value::Object(k))
                        }
                        _ => format!("i:{i}"),
                    };
                    path.push(element);
                    path.push(".".into());
                    out.insert(path.clone());
                    path.pop();
                    if let Some(m) = item.as_object() {
                        let ty = field.and_then(|f| f.ty);
                        for (k, child) in m {
                            path.push(format!("f:{k}"));
                            walk_value(child, ty.and_then(|t| t.field(k)), path, out);
                            path.pop();
                        }
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
}
