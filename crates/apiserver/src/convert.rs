//! Conversion between a served version and the stored form, for resources served under two
//! groups from one storage: events are stored as core/v1 `Event` and also served as
//! events.k8s.io/v1 `Event`.
//!
//! Upstream: `pkg/apis/events/v1/conversion.go` (field renames between the two versions) and
//! `pkg/registry/core/rest/storage_core.go` / `pkg/registry/events/rest/storage_events.go`
//! (both groups over the one `events` storage).

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::registry::ResourceInfo;
use crate::watch::SharedObject;

/// Pairs of (core/v1 field, events.k8s.io/v1 field).
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

/// Whether `info` is served in a form other than its stored one.
pub fn converts(info: &ResourceInfo) -> bool {
    is_events_v1(info)
}

fn is_events_v1(info: &ResourceInfo) -> bool {
    info.group == "events.k8s.io" && info.resource == "events"
}

fn rename(
    obj: Value,
    pairs: impl Iterator<Item = (&'static str, &'static str)>,
    api_version: &str,
) -> Value {
    let Value::Object(mut m) = obj else {
        return obj;
    };
    let mut renamed = Map::new();
    for (from, to) in pairs {
        if let Some(v) = m.remove(from) {
            renamed.insert(to.to_string(), v);
        }
    }
    m.extend(renamed);
    m.insert("apiVersion".into(), Value::String(api_version.into()));
    m.insert("kind".into(), Value::String("Event".into()));
    Value::Object(m)
}

/// The stored object as `info` serves it.
pub fn to_view(info: &ResourceInfo, stored: Value) -> Value {
    if !is_events_v1(info) {
        return stored;
    }
    rename(stored, EVENT_FIELDS.iter().copied(), "events.k8s.io/v1")
}

/// [`to_view`] of a shared object: the same object unless `info` renames fields.
pub fn to_view_shared(info: &ResourceInfo, stored: Arc<SharedObject>) -> Arc<SharedObject> {
    if !is_events_v1(info) {
        return stored;
    }
    Arc::new(SharedObject::new(to_view(info, Value::clone(&stored))))
}

/// [`to_storage`] of an object the caller gives up (no copy unless the versions differ).
pub fn to_storage_owned(info: &ResourceInfo, view: Value) -> Value {
    if !is_events_v1(info) {
        return view;
    }
    rename(
        view,
        EVENT_FIELDS.iter().map(|(core, v1)| (*v1, *core)),
        "v1",
    )
}

/// An object as `info` serves it, in its stored form.
pub fn to_storage<'a>(info: &ResourceInfo, view: &'a Value) -> std::borrow::Cow<'a, Value> {
    if !is_events_v1(info) {
        return std::borrow::Cow::Borrowed(view);
    }
    std::borrow::Cow::Owned(rename(
        view.clone(),
        EVENT_FIELDS.iter().map(|(core, v1)| (*v1, *core)),
        "v1",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lookup;
    use serde_json::json;

    #[test]
    fn events_round_trip_between_versions() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "0/3 nodes are available", "reason": "FailedScheduling",
            "reportingComponent": "default-scheduler", "count": 2, "type": "Warning"});
        let events = lookup("events.k8s.io", "v1", "events").expect("events.k8s.io");
        let view = to_view(events, core.clone());
        assert_eq!(view["apiVersion"], "events.k8s.io/v1");
        assert_eq!(view["regarding"]["name"], "p");
        assert_eq!(view["note"], "0/3 nodes are available");
        assert_eq!(view["reportingController"], "default-scheduler");
        assert_eq!(view["deprecatedCount"], 2);
        assert!(view.get("message").is_none());
        assert_eq!(to_storage(events, &view).into_owned(), core);
        let core_events = lookup("", "v1", "events").expect("events");
        assert_eq!(to_view(core_events, core.clone()), core);
    }
}
