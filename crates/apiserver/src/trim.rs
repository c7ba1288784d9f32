//! Typed decoding for the in-process components, without `metadata.managedFields`.
//!
//! Upstream's scheduler and controller manager drop `managedFields` from every object their
//! informers keep, to save memory (`pkg/scheduler/scheduler.go` `newPodInformer`'s transform,
//! `cmd/kube-controller-manager/app/controllermanager.go`'s informer factory transform); none
//! of them reads those fields. Our components do the same, and skip the fields while decoding
//! rather than after: a pod's `fieldsV1` trees are a large share of the object, and decoding
//! them into typed form only to drop them cost as much as the rest of the pod.
//!
//! An object decoded this way and written back by PUT carries no `managedFields`; the server
//! then keeps the stored ones, as upstream's field manager does for a client that does not
//! know the field (`write.rs`, `keep_stored_managed_fields`).

use serde::Deserializer;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde_json::Value;

/// `value` as `K`, as if its `metadata.managedFields` were absent.
pub fn decode_trimmed<K: DeserializeOwned>(value: &Value) -> Result<K, serde_json::Error> {
    K::deserialize(Trimmed {
        value,
        level: Level::Object,
    })
}

/// Where in the object a [`Trimmed`] deserializer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The object itself: its `metadata` is trimmed.
    Object,
    /// The object's `metadata`: `managedFields` is skipped.
    Metadata,
}

impl Level {
    /// The key skipped at this level, and the level of a kept key's value (`None`: the value
    /// is decoded as it is).
    fn rule(self, key: &str) -> Rule {
        match (self, key) {
            (Level::Object, "metadata") => Rule::Descend(Level::Metadata),
            (Level::Metadata, "managedFields") => Rule::Skip,
            _ => Rule::Plain,
        }
    }
}

enum Rule {
    Skip,
    Descend(Level),
    Plain,
}

/// A JSON value that deserializes like serde_json's `&Value`, skipping the trimmed keys.
struct Trimmed<'a> {
    value: &'a Value,
    level: Level,
}

impl<'de> Deserializer<'de> for Trimmed<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(map) => visitor.visit_map(TrimmedMap {
                entries: map.iter(),
                level: self.level,
                pending: None,
            }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
    }
}

struct TrimmedMap<'a> {
    entries: serde_json::map::Iter<'a>,
    level: Level,
    /// The value of the key just returned, and how to decode it.
    pending: Option<(&'a Value, Option<Level>)>,
}

impl<'de> MapAccess<'de> for TrimmedMap<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        for (key, value) in self.entries.by_ref() {
            let descend = match self.level.rule(key) {
                Rule::Skip => continue,
                Rule::Descend(level) => Some(level),
                Rule::Plain => None,
            };
            self.pending = Some((value, descend));
            return seed
                .deserialize(BorrowedStrDeserializer::<serde_json::Error>::new(key))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        match self.pending.take() {
            Some((value, Some(level))) => seed.deserialize(Trimmed { value, level }),
            Some((value, None)) => seed.deserialize(value),
            None => Err(serde::de::Error::custom("value asked before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use serde::Deserialize;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "p", "namespace": "default", "labels": {"app": "web"},
                "managedFields": [{"manager": "kubectl", "operation": "Update",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}}],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "rs", "uid": "u", "controller": true}]
            },
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                "resources": {"requests": {"cpu": "100m"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        })
    }

    #[test]
    fn decodes_everything_but_the_managed_fields() {
        let value = pod();
        let trimmed: Pod = decode_trimmed(&value).expect("decode");
        let mut full: Pod = Pod::deserialize(&value).expect("decode");
        assert!(full.metadata.managed_fields.is_some());
        full.metadata.managed_fields = None;
        assert_eq!(trimmed, full);
    }

    /// Cases: the trimmed decode equals the full decode minus `managedFields`, including for
    /// objects without metadata, with null members, and for types that are not objects.
    #[test]
    fn agrees_with_the_full_decode() {
        let cases = [
            json!({"apiVersion": "v1", "kind": "Pod"}),
            json!({"metadata": null, "spec": null}),
            json!({"metadata": {"managedFields": null, "name": "x"}}),
            json!({"metadata": {"managedFields": [], "annotations": {"a": "b"}}}),
        ];
        for value in cases {
            let trimmed: Pod = decode_trimmed(&value).expect("trimmed");
            let mut full: Pod = Pod::deserialize(&value).expect("full");
            full.metadata.managed_fields = None;
            assert_eq!(trimmed, full, "{value}");
        }
        let list: Vec<i64> = decode_trimmed(&json!([1, 2])).expect("seq");
        assert_eq!(list, [1, 2]);
        let err = decode_trimmed::<Pod>(&json!({"spec": {"containers": 3}})).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
