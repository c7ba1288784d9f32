//! Server-side strategic merge patch (`application/strategic-merge-patch+json`).
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`
//! (`StrategicMergeMapPatchUsingLookupPatchMeta`, `mergeMap`, `mergeSlice`, ...) with the
//! server's options: parallel lists (`$deleteFromPrimitiveList`, `$setElementOrder`) are
//! applied and nulls that match nothing are dropped (`MergeParallelList` and
//! `IgnoreUnmatchedNulls` both true). Function names below mirror upstream's so the two can
//! be read side by side.
//!
//! Known, deliberate differences: where Go panics (comparing two maps with `==`, hashing a
//! map, a `null` first list element) we return [`PatchError::UpstreamPanic`]; Go's slice
//! aliasing artefacts (a list shifted in place by a deletion and later read as the "server
//! order") are not reproduced: we use the original order, which only differs when one
//! patch deletes and re-adds the same merge key.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::PatchError;
use crate::go::{
    GO_MAP_TYPE, GO_SLICE_TYPE, GoKind, go_eq, go_fmt_s, go_fmt_v, go_fmt_v_lists, go_key, go_kind,
    go_slice_stable, go_type_name,
};
use crate::schema::TypeSchema;

type JsonMap = Map<String, Value>;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

static NULL: Value = Value::Null;

/// Applies a strategic merge patch to `original`, as the apiserver does for
/// `application/strategic-merge-patch+json`.
///
/// `schema` gives the patch strategy and merge key of each field (see
/// [`crate::schema_for`]); `None`, or a field the schema does not list, behaves like a field
/// without a strategy: maps merge recursively and lists are replaced.
///
/// Both documents must be JSON objects (`null` counts as `{}`), otherwise
/// [`PatchError::BadJsonDoc`]. The result may still hold directive keys that upstream also
/// leaves in place (e.g. `$setElementOrder/x` inside a map the original did not have);
/// the apiserver drops them when it decodes the result into the typed object.
pub fn strategic_merge_patch(
    original: &Value,
    patch: &Value,
    schema: Option<&TypeSchema>,
) -> Result<Value, PatchError> {
    strategic_merge_patch_owned(original.clone(), patch.clone(), schema)
}

/// [`strategic_merge_patch`] taking ownership of its inputs (saves two deep copies).
pub fn strategic_merge_patch_owned(
    original: Value,
    patch: Value,
    schema: Option<&TypeSchema>,
) -> Result<Value, PatchError> {
    let original = into_document(original)?;
    let patch = into_document(patch)?;
    merge_map(original, patch, Schema(schema)).map(Value::Object)
}

/// Upstream `handleUnmarshal`: a JSON object, or `null` meaning an empty one.
fn into_document(value: Value) -> Result<JsonMap, PatchError> {
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(JsonMap::new()),
        _ => Err(PatchError::BadJsonDoc),
    }
}

/// A position in the schema: the struct type whose fields we are merging, if known.
#[derive(Clone, Copy)]
struct Schema<'a>(Option<&'a TypeSchema>);

/// Upstream `PatchMeta`: the strategies (the tag split at commas) and the merge key.
struct PatchMeta<'a> {
    strategies: Vec<&'a str>,
    merge_key: &'a str,
}

impl<'a> Schema<'a> {
    /// Upstream `LookupPatchMetadataForStruct` / `...ForSlice`: the sub-schema of a field
    /// (of its elements, for a list) and its patch metadata. Unknown fields have none.
    fn lookup(self, key: &str) -> (Schema<'a>, PatchMeta<'a>) {
        match self.0.and_then(|t| t.field(key)) {
            Some(field) => (
                Schema(field.ty),
                PatchMeta {
                    strategies: field.strategy.split(',').collect(),
                    merge_key: field.merge_key,
                },
            ),
            None => (
                Schema(None),
                PatchMeta {
                    strategies: Vec::new(),
                    merge_key: "",
                },
            ),
        }
    }
}

/// Upstream `extractRetainKeysPatchStrategy`: the non-retainKeys strategy of a field.
fn extract_retain_keys_patch_strategy<'a>(strategies: &[&'a str]) -> Result<&'a str, PatchError> {
    let unexpected = || PatchError::UnexpectedPatchStrategy {
        strategies: format!("[{}]", strategies.join(" ")),
    };
    match strategies {
        [] => Ok(""),
        [single] => Ok(if *single == RETAIN_KEYS_STRATEGY {
            ""
        } else {
            single
        }),
        [first, second] if *first == RETAIN_KEYS_STRATEGY => Ok(second),
        [first, second] if *second == RETAIN_KEYS_STRATEGY => Ok(first),
        _ => Err(unexpected()),
    }
}

/// Upstream `mergeMap` (server options).
fn merge_map(
    mut original: JsonMap,
    mut patch: JsonMap,
    schema: Schema<'_>,
) -> Result<JsonMap, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER).cloned() {
        return handle_directive_in_merge_map(&directive, patch);
    }
    apply_retain_keys_directive(&mut original, &mut patch)?;
    merge_patch_into_original(&mut original, &mut patch, schema)?;

    for (patch_key, patch_value) in patch {
        let (is_delete_list, key) = if patch_key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            let stripped = extract_key(&patch_key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            // Upstream only renames the key when the stripped name is non-empty.
            let key = if stripped.is_empty() {
                patch_key.clone()
            } else {
                stripped.to_string()
            };
            (true, key)
        } else {
            (false, patch_key)
        };

        // `null` deletes the key; an unmatched null is simply dropped.
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }

        let Some(original_value) = original.remove(&key) else {
            if !is_delete_list {
                insert_patch_value(&mut original, key, patch_value);
            }
            continue;
        };

        if go_kind(&original_value) != go_kind(&patch_value) {
            if is_delete_list {
                original.insert(key, original_value);
            } else {
                insert_patch_value(&mut original, key, patch_value);
            }
            continue;
        }

        match (original_value, patch_value) {
            (Value::Object(original_map), Value::Object(patch_map)) => {
                let (subschema, meta) = schema.lookup(&key);
                let strategy = extract_retain_keys_patch_strategy(&meta.strategies)?;
                let merged = merge_map_handler(original_map, patch_map, subschema, strategy)?;
                original.insert(key, Value::Object(merged));
            }
            (Value::Array(original_list), Value::Array(patch_list)) => {
                let (subschema, meta) = schema.lookup(&key);
                let strategy = extract_retain_keys_patch_strategy(&meta.strategies)?;
                let merged = merge_slice_handler(
                    original_list,
                    patch_list,
                    subschema,
                    strategy,
                    meta.merge_key,
                    is_delete_list,
                )?;
                original.insert(key, Value::Array(merged));
            }
            (_, patch_value) => {
                if let Some(value) = remove_directives(patch_value) {
                    original.insert(key, value);
                }
            }
        }
    }
    Ok(original)
}

/// A patch value that replaces (or adds) a field: nested nulls are dropped and elements or
/// fields carrying `$patch` are removed (upstream `discardNullValuesFromPatch` followed by
/// `removeDirectives`).
fn insert_patch_value(original: &mut JsonMap, key: String, mut patch_value: Value) {
    discard_null_values_from_patch(&mut patch_value);
    if let Some(value) = remove_directives(patch_value) {
        original.insert(key, value);
    }
}

/// Upstream `handleDirectiveInMergeMap`.
fn handle_directive_in_merge_map(
    directive: &Value,
    mut patch: JsonMap,
) -> Result<JsonMap, PatchError> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.remove(DIRECTIVE_MARKER);
            Ok(patch)
        }
        Some(DELETE_DIRECTIVE) => Ok(JsonMap::new()),
        _ => Err(PatchError::BadPatchType {
            patch_type: go_fmt_s(directive),
            map: go_fmt_v(&Value::Object(patch)),
        }),
    }
}

/// Upstream `extractKey`: the field name after `<prefix>/`.
fn extract_key<'k>(key: &'k str, prefix: &str) -> Result<&'k str, PatchError> {
    match key.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
            Err(PatchError::BadPatchFormatForPrimitiveList)
        }
        _ => Err(PatchError::BadPatchFormatForSetElementOrderList),
    }
}

/// Upstream `applyRetainKeysDirective` (server side): clear the original's fields that the
/// `$retainKeys` list does not name, after checking the patch only sets listed fields.
fn apply_retain_keys_directive(
    original: &mut JsonMap,
    patch: &mut JsonMap,
) -> Result<(), PatchError> {
    let Some(retain_keys) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain_keys) = retain_keys else {
        return Err(PatchError::BadPatchFormatForRetainKeys);
    };
    let mut retained = BTreeSet::new();
    for key in &retain_keys {
        retained.insert(go_key(key)?);
    }
    let listed = |key: &str| retained.contains(&crate::go::GoKey::Str(key.to_string()));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !listed(key) {
            return Err(PatchError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|key, _| listed(key));
    Ok(())
}

/// Upstream `mergePatchIntoOriginal` (server side): merge each list that has a
/// `$setElementOrder/<field>` directive and order the result. Precedence of order:
/// `$setElementOrder` > order in the patch list > order in the live list.
fn merge_patch_into_original(
    original: &mut JsonMap,
    patch: &mut JsonMap,
    schema: Schema<'_>,
) -> Result<(), PatchError> {
    let order_keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for directive_key in order_keys {
        let Some(order_value) = patch.remove(&directive_key) else {
            continue;
        };
        let Value::Array(order_list) = order_value else {
            return Err(PatchError::BadArgType {
                expected: GO_SLICE_TYPE,
                actual: go_type_name(&order_value),
            });
        };
        let field = extract_key(&directive_key, SET_ELEMENT_ORDER_PREFIX)?.to_string();
        let original_list = take_list(original, &field)?;
        let patch_list = take_list(patch, &field)?;
        let (subschema, meta) = schema.lookup(&field);
        let strategy = extract_retain_keys_patch_strategy(&meta.strategies)?;
        let merge_key = meta.merge_key;
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or(&[]),
            &order_list,
            merge_key,
        )?;

        let mut original_list_or_empty = original_list.clone().unwrap_or_default();
        let patch_list_or_empty = patch_list.clone().unwrap_or_default();
        let merges_by_key = strategy == MERGE_DIRECTIVE && !merge_key.is_empty();
        let merged = match (original_list, patch_list) {
            // No change to the list's content.
            (Some(original_list), None) => original_list,
            // The list is added.
            (None, Some(patch_list)) => patch_list
                .into_iter()
                .filter_map(remove_directives)
                .collect(),
            (Some(original_list), Some(patch_list)) => merge_slice_handler(
                original_list,
                patch_list,
                subschema,
                strategy,
                merge_key,
                false,
            )?,
            (None, None) => continue,
        };
        if merges_by_key && !patch_list_or_empty.is_empty() {
            original_list_or_empty =
                go_aliased_original(&original_list_or_empty, &patch_list_or_empty, merge_key);
        }

        let (patch_items, server_only_items) = if merge_key.is_empty() {
            partition_primitives_by_present_in_list(merged, &order_list)?
        } else {
            partition_maps_by_present_in_list(merged, &order_list, merge_key)?
        };
        let kind = slice_element_type(&[&original_list_or_empty, &patch_list_or_empty])?;
        let ordered = normalize_element_order(
            patch_items,
            server_only_items,
            &order_list,
            &original_list_or_empty,
            merge_key,
            kind,
        )?;
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// What upstream's `originalFieldValue` holds after `mergeSlice` ran on it.
///
/// Upstream merges in place: deleting an element shifts the rest of the shared backing
/// array left (leaving the last slot duplicated), and appending a new element writes into
/// the backing array while it has room. `mergePatchIntoOriginal` then reads the original
/// slice (its old length, same backing array) as the "server order". Capacity does not
/// matter here: only slots below the old length are visible, and those are always room.
/// Lists of scalars are not replayed (upstream's aliasing there needs duplicate entries).
fn go_aliased_original(original: &[Value], patch: &[Value], merge_key: &str) -> Vec<Value> {
    let visible = original.len();
    let mut view = original.to_vec();
    let mut current = original.to_vec();
    let matches = |item: &Value, wanted: &Value| {
        item.as_object()
            .and_then(|m| m.get(merge_key))
            .is_some_and(|v| go_eq(v, wanted).unwrap_or(false))
    };
    let mut replace = false;
    for element in patch {
        let Some(map) = element.as_object() else {
            return view;
        };
        match map.get(DIRECTIVE_MARKER).map(|d| d.as_str()) {
            None => {}
            Some(Some(DELETE_DIRECTIVE)) => {
                let Some(wanted) = map.get(merge_key) else {
                    return view;
                };
                while let Some(index) = current.iter().position(|item| matches(item, wanted)) {
                    // append(s[:i], s[i+1:]...) copies left within the backing array.
                    for slot in index..current.len() - 1 {
                        view[slot] = view[slot + 1].clone();
                    }
                    current.remove(index);
                }
            }
            Some(Some(REPLACE_DIRECTIVE)) => replace = true,
            Some(_) => return view,
        }
    }
    if replace {
        // The merge then works on a fresh slice; only the deletions touched the original.
        return view;
    }
    for element in patch {
        let Some(map) = element.as_object() else {
            return view;
        };
        if map.contains_key(DIRECTIVE_MARKER) {
            continue;
        }
        let Some(wanted) = map.get(merge_key) else {
            return view;
        };
        if !current.iter().any(|item| matches(item, wanted)) {
            if current.len() < visible {
                view[current.len()] = element.clone();
            }
            current.push(element.clone());
        }
    }
    view
}

/// Removes and returns the list at `key`; a non-list value is an error (upstream's type
/// assertion).
fn take_list(map: &mut JsonMap, key: &str) -> Result<Option<Vec<Value>>, PatchError> {
    match map.remove(key) {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list)),
        Some(other) => Err(PatchError::BadArgType {
            expected: GO_SLICE_TYPE,
            actual: go_type_name(&other),
        }),
    }
}

/// Upstream `validatePatchWithSetOrderList`: the patch list must be a subsequence of the
/// `$setElementOrder` list (deletions and other directives aside).
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order_list: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if order_list.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<Value> = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < non_delete.len() && order_index < order_list.len() {
        if contains_directive_marker(&non_delete[patch_index]) {
            patch_index += 1;
            continue;
        }
        if merge_key_value_equal(
            &non_delete[patch_index],
            &order_list[order_index],
            merge_key,
        )? {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < non_delete.len() && order_index >= order_list.len() {
        return Err(PatchError::SetElementOrderMismatch {
            patch_list: go_fmt_v(&Value::Array(patch_list.to_vec())),
            order_list: go_fmt_v(&Value::Array(order_list.to_vec())),
        });
    }
    Ok(())
}

fn contains_directive_marker(item: &Value) -> bool {
    item.as_object()
        .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
}

/// Upstream `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return go_eq(left, right);
    }
    let left_map = expect_map(left)?;
    let right_map = expect_map(right)?;
    let left_value = merge_key_of(left_map, merge_key)?;
    let right_value = merge_key_of(right_map, merge_key)?;
    go_eq(left_value, right_value)
}

fn expect_map(value: &Value) -> Result<&JsonMap, PatchError> {
    value.as_object().ok_or_else(|| PatchError::BadArgType {
        expected: GO_MAP_TYPE,
        actual: go_type_name(value),
    })
}

fn merge_key_of<'v>(map: &'v JsonMap, merge_key: &str) -> Result<&'v Value, PatchError> {
    map.get(merge_key)
        .ok_or_else(|| no_merge_key(map, merge_key))
}

fn no_merge_key(map: &JsonMap, merge_key: &str) -> PatchError {
    PatchError::NoMergeKey {
        map: go_fmt_v(&Value::Object(map.clone())),
        merge_key: merge_key.to_string(),
    }
}

/// Upstream `removeDirectives`: drops every map that carries `$patch` (returns `None` when
/// the value itself is one).
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                map.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// Upstream `discardNullValuesFromPatch`: drops `null` fields of maps, at any depth (null
/// list elements stay).
fn discard_null_values_from_patch(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for v in map.values_mut() {
                discard_null_values_from_patch(v);
            }
        }
        Value::Array(items) => {
            for v in items {
                discard_null_values_from_patch(v);
            }
        }
        _ => {}
    }
}

/// Upstream `mergeMapHandler`.
fn merge_map_handler(
    original: JsonMap,
    patch: JsonMap,
    schema: Schema<'_>,
    strategy: &str,
) -> Result<JsonMap, PatchError> {
    if strategy == REPLACE_DIRECTIVE {
        Ok(patch)
    } else {
        merge_map(original, patch, schema)
    }
}

/// Upstream `mergeSliceHandler`: merge for `merge` lists and deletion lists, else replace.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema<'_>,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if strategy == MERGE_DIRECTIVE || is_delete_list {
        merge_slice(original, patch, schema, merge_key, is_delete_list)
    } else {
        Ok(patch)
    }
}

/// Upstream `mergeSlice`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema<'_>,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = slice_element_type(&[&original, &patch])?;

    let (merged, patch, original) = if kind != GoKind::Map {
        if is_delete_list {
            return delete_from_slice(original, &patch);
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (deduplicate_scalars(both)?, patch, original)
    } else {
        if merge_key.is_empty() {
            return Err(PatchError::NoMergeKeyForList {
                type_name: "struct".to_string(),
            });
        }
        let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
        let merged =
            merge_slice_without_special_elements(original.clone(), &patch, merge_key, schema)?;
        (merged, patch, original)
    };

    // Enforce the order: patch items in patch order, server-only items in live order.
    let (patch_items, server_only_items) = if merge_key.is_empty() {
        partition_primitives_by_present_in_list(merged, &patch)?
    } else {
        partition_maps_by_present_in_list(merged, &patch, merge_key)?
    };
    normalize_element_order(
        patch_items,
        server_only_items,
        &patch,
        &original,
        merge_key,
        kind,
    )
}

/// Upstream `sliceElementType`: the one Go type of every element of the lists.
fn slice_element_type(lists: &[&[Value]]) -> Result<GoKind, PatchError> {
    let mut previous: Option<GoKind> = None;
    for list in lists {
        for value in list.iter() {
            let current = go_kind(value);
            match previous {
                None => {
                    if current == GoKind::Nil {
                        // Upstream calls a method on the nil reflect.Type here.
                        return Err(PatchError::UpstreamPanic {
                            message:
                                "runtime error: invalid memory address or nil pointer dereference"
                                    .to_string(),
                        });
                    }
                    if current == GoKind::Slice {
                        return Err(PatchError::NoListOfLists);
                    }
                    previous = Some(current);
                }
                Some(kind) if kind != current => {
                    return Err(PatchError::ListElementTypesNotIdentical {
                        lists: go_fmt_v_lists(lists),
                    });
                }
                Some(_) => {}
            }
        }
    }
    previous.ok_or(PatchError::NoElements)
}

/// Upstream `deduplicateScalars`, including its element order (the last element moves into
/// each duplicate's place).
fn deduplicate_scalars(mut items: Vec<Value>) -> Result<Vec<Value>, PatchError> {
    let mut length = items.len() as isize - 1;
    let mut i: isize = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if go_eq(&items[i as usize], &items[j as usize])? {
                items[j as usize] = items[length as usize].clone();
                items.truncate(length as usize);
                length -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    Ok(items)
}

/// Upstream `deleteFromSlice`: `$deleteFromPrimitiveList` removes every listed value.
fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Result<Vec<Value>, PatchError> {
    let mut doomed = BTreeSet::new();
    for value in to_delete {
        doomed.insert(go_key(value)?);
    }
    let mut kept = Vec::with_capacity(current.len());
    for value in current {
        if !doomed.contains(&go_key(&value)?) {
            kept.push(value);
        }
    }
    Ok(kept)
}

/// Upstream `mergeSliceWithSpecialElements`: apply `$patch: delete` elements to the original
/// and handle `$patch: replace`; returns the original and the patch without special elements.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut without_special = Vec::with_capacity(patch.len());
    let mut replace = false;
    for value in patch {
        let Value::Object(map) = &value else {
            return Err(not_a_map_panic(&value));
        };
        let Some(directive) = map.get(DIRECTIVE_MARKER) else {
            without_special.push(value);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => match map.get(merge_key) {
                Some(merge_value) => {
                    original = delete_matching_entries(original, merge_key, merge_value)?;
                }
                None => return Err(no_merge_key(map, merge_key)),
            },
            // Keep going: later `$patch` elements are still pruned.
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => return Err(PatchError::MergeDirectiveInList),
            _ => {
                return Err(PatchError::BadPatchType {
                    patch_type: go_fmt_s(directive),
                    map: go_fmt_v(&value),
                });
            }
        }
    }
    if replace {
        Ok((without_special, Vec::new()))
    } else {
        Ok((original, without_special))
    }
}

/// Upstream's unchecked type assertion to a map; unreachable after `slice_element_type`.
fn not_a_map_panic(value: &Value) -> PatchError {
    PatchError::UpstreamPanic {
        message: format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            go_type_name(value)
        ),
    }
}

/// Upstream `deleteMatchingEntries`: remove every element whose merge key matches.
fn delete_matching_entries(
    mut original: Vec<Value>,
    merge_key: &str,
    merge_value: &Value,
) -> Result<Vec<Value>, PatchError> {
    while let Some(index) = find_map_in_slice_based_on_key_value(&original, merge_key, merge_value)?
    {
        original.remove(index);
    }
    Ok(original)
}

/// Upstream `mergeSliceWithoutSpecialElements`: merge each patch element into the original
/// element with the same merge key, or append it.
fn merge_slice_without_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    schema: Schema<'_>,
) -> Result<Vec<Value>, PatchError> {
    for value in patch {
        let Value::Object(patch_map) = value else {
            return Err(not_a_map_panic(value));
        };
        let merge_value = merge_key_of(patch_map, merge_key)?;
        match find_map_in_slice_based_on_key_value(&original, merge_key, merge_value)? {
            Some(index) => {
                let Value::Object(original_map) = std::mem::take(&mut original[index]) else {
                    return Err(PatchError::ListElementNotAMap { index });
                };
                let merged = merge_map(original_map, patch_map.clone(), schema)?;
                original[index] = Value::Object(merged);
            }
            // Upstream appends the patch element as is (directives and nulls included).
            None => original.push(value.clone()),
        }
    }
    Ok(original)
}

/// Upstream `findMapInSliceBasedOnKeyValue`: index of the first element whose merge key
/// equals `value`.
fn find_map_in_slice_based_on_key_value(
    list: &[Value],
    merge_key: &str,
    value: &Value,
) -> Result<Option<usize>, PatchError> {
    for (index, item) in list.iter().enumerate() {
        let Some(map) = item.as_object() else {
            return Err(PatchError::ListElementNotAMap { index });
        };
        if let Some(candidate) = map.get(merge_key)
            && go_eq(candidate, value)?
        {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// Upstream `partitionPrimitivesByPresentInList`.
fn partition_primitives_by_present_in_list(
    items: Vec<Value>,
    partition_by: &[Value],
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = BTreeSet::new();
    for value in partition_by {
        present.insert(go_key(value)?);
    }
    let (mut in_list, mut not_in_list) = (Vec::new(), Vec::new());
    for value in items {
        if present.contains(&go_key(&value)?) {
            in_list.push(value);
        } else {
            not_in_list.push(value);
        }
    }
    Ok((in_list, not_in_list))
}

/// Upstream `partitionMapsByPresentInList`.
fn partition_maps_by_present_in_list(
    items: Vec<Value>,
    partition_by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let (mut in_list, mut not_in_list) = (Vec::new(), Vec::new());
    for value in items {
        let map = expect_map(&value)?;
        let merge_value = merge_key_of(map, merge_key)?;
        if find_map_in_slice_based_on_key_value(partition_by, merge_key, merge_value)?.is_some() {
            in_list.push(value);
        } else {
            not_in_list.push(value);
        }
    }
    Ok((in_list, not_in_list))
}

/// Upstream `normalizeElementOrder`: sort the patch items by `patch_order` and the
/// server-only items by `server_order`, then interleave them keeping both relative orders.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only_items: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Result<Vec<Value>, PatchError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, kind)?;
    let server_only_items =
        normalize_slice_order(server_only_items, server_order, merge_key, kind)?;
    merge_sorted_slice(
        server_only_items,
        patch_items,
        server_order,
        merge_key,
        kind,
    )
}

/// Upstream `validateMergeKeyInLists`.
fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> Result<(), PatchError> {
    for list in lists {
        for item in list.iter() {
            let map = expect_map(item)?;
            merge_key_of(map, merge_key)?;
        }
    }
    Ok(())
}

/// Upstream `extractToDeleteItems`: split off the `$patch: delete` elements.
fn extract_to_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let (mut keep, mut delete) = (Vec::new(), Vec::new());
    for value in list {
        let map = expect_map(&value)?;
        let is_delete = map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE);
        if is_delete {
            delete.push(value);
        } else {
            keep.push(value);
        }
    }
    Ok((keep, delete))
}

/// Upstream `index`: position of `value` in `list`, comparing merge key values for maps and
/// whole values otherwise; -1 when absent.
fn index_in(
    list: &[Value],
    value: &Value,
    merge_key: &str,
    kind: GoKind,
) -> Result<isize, PatchError> {
    let key_of = |item: &'_ Value| -> Value {
        if kind == GoKind::Map {
            item.as_object()
                .and_then(|m| m.get(merge_key))
                .cloned()
                .unwrap_or(Value::Null)
        } else {
            item.clone()
        }
    };
    let wanted = key_of(value);
    for (i, item) in list.iter().enumerate() {
        let candidate = if kind == GoKind::Map {
            item.as_object()
                .and_then(|m| m.get(merge_key))
                .unwrap_or(&NULL)
        } else {
            item
        };
        if go_eq(&wanted, candidate)? {
            return Ok(i as isize);
        }
    }
    Ok(-1)
}

/// Upstream `normalizeSliceOrder`: a `sort.SliceStable` by position in `order`, with
/// upstream's comparison (an element missing from `order` is "less" than anything), and the
/// `$patch: delete` elements moved to the end.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Result<Vec<Value>, PatchError> {
    let (to_sort, to_delete) = if kind == GoKind::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut sorted = to_sort;
    if sorted.len() >= 2 {
        let mut keyed = Vec::with_capacity(sorted.len());
        for value in sorted {
            keyed.push((index_in(order, &value, merge_key, kind)?, value));
        }
        go_slice_stable(&mut keyed, |(left, _), (right, _)| {
            if *left >= 0 && *right >= 0 {
                left < right
            } else {
                true
            }
        });
        sorted = keyed.into_iter().map(|(_, value)| value).collect();
    }
    sorted.extend(to_delete);
    Ok(sorted)
}

/// Upstream `mergeSortedSlice`: insert each server-only item (`left`) into the patch items
/// (`right`) before the first patch item that comes after it in the live order.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Result<Vec<Value>, PatchError> {
    if left.is_empty() || right.is_empty() {
        let mut all = left;
        all.extend(right);
        return Ok(all);
    }
    let mut left_keyed = Vec::with_capacity(left.len());
    for value in left {
        left_keyed.push((index_in(server_order, &value, merge_key, kind)?, value));
    }
    let mut right_keyed = Vec::with_capacity(right.len());
    for value in right {
        right_keyed.push((index_in(server_order, &value, merge_key, kind)?, value));
    }
    let mut merged = Vec::with_capacity(left_keyed.len() + right_keyed.len());
    let mut left_iter = left_keyed.into_iter().peekable();
    let mut right_iter = right_keyed.into_iter().peekable();
    loop {
        let take_left = match (left_iter.peek(), right_iter.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((l, _)), Some((r, _))) => *l >= 0 && *r >= 0 && l < r,
        };
        let next = if take_left {
            left_iter.next()
        } else {
            right_iter.next()
        };
        if let Some((_, value)) = next {
            merged.push(value);
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dedupe_moves_last_into_duplicate_slot() {
        let out = deduplicate_scalars(vec![json!(1), json!(2), json!(1), json!(3)]).unwrap();
        assert_eq!(out, vec![json!(1), json!(2), json!(3)]);
        let out =
            deduplicate_scalars(vec![json!("a"), json!("a"), json!("b"), json!("c")]).unwrap();
        assert_eq!(out, vec![json!("a"), json!("c"), json!("b")]);
    }

    #[test]
    fn retain_keys_strategy_extraction() {
        assert_eq!(
            extract_retain_keys_patch_strategy(&["merge", "retainKeys"]).unwrap(),
            "merge"
        );
        assert_eq!(
            extract_retain_keys_patch_strategy(&["retainKeys"]).unwrap(),
            ""
        );
        assert_eq!(extract_retain_keys_patch_strategy(&[""]).unwrap(), "");
        assert!(extract_retain_keys_patch_strategy(&["merge", "replace"]).is_err());
    }
}
