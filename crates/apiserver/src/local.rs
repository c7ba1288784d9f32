//! The in-process client: what controllers, simulated kubelets and the scheduler use to talk to
//! the API server without HTTP. Every call goes through the same [`ApiServer`] verbs as a
//! kubectl request (defaulting, validation, admission, managedFields, watch semantics), so what
//! kubectl sees is what the components see.
//!
//! Calls take and return JSON values; the `*_typed` helpers convert through the `k8s-openapi`
//! types for callers that prefer them.

use std::sync::Arc;

use k8s_openapi::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::list::ListOptions;
use crate::registry::{self, ResourceInfo};
use crate::request::Query;
use crate::watch::SharedObject;
use crate::watch::WatchEvent;
use crate::write::{DeleteOptions, DeleteOutcome, WriteOptions};
use crate::{ApiServer, object};

/// The registry entry of a `k8s-openapi` resource type.
pub fn resource_of<K: Resource>() -> Result<&'static ResourceInfo, ApiError> {
    registry::lookup(K::GROUP, K::VERSION, K::URL_PATH_SEGMENT)
        .ok_or_else(|| ApiError::internal(format!("{} is not served", K::URL_PATH_SEGMENT)))
}

/// A client bound to one field manager (the component's name, e.g. `deployment-controller`).
#[derive(Debug, Clone)]
pub struct LocalClient {
    server: Arc<ApiServer>,
    manager: String,
}

/// A list: items and the list's resourceVersion.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The objects.
    pub items: Vec<Value>,
    /// The resourceVersion to watch from.
    pub resource_version: i64,
}

impl LocalClient {
    /// A client writing as `manager`.
    pub fn new(server: Arc<ApiServer>, manager: impl Into<String>) -> Self {
        Self {
            server,
            manager: manager.into(),
        }
    }

    /// The server.
    pub fn server(&self) -> &Arc<ApiServer> {
        &self.server
    }

    fn write_options(&self) -> WriteOptions {
        WriteOptions {
            field_manager: Some(self.manager.clone()),
            ..WriteOptions::default()
        }
    }

    /// GET one object.
    pub fn get(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let mut object = self.server.get(info, namespace, name)?;
        self.server
            .heartbeats
            .materialize(&mut object, self.server.clock.now());
        Ok(object)
    }

    /// LIST with optional label and field selectors (string forms).
    pub fn list(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Listed, ApiError> {
        let opts = Self::options(info, label_selector, field_selector, false)?;
        let result = self.server.list(info, namespace, &opts)?;
        Ok(Listed {
            items: result.items,
            resource_version: result.revision,
        })
    }

    fn options(
        info: &ResourceInfo,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        watch: bool,
    ) -> Result<ListOptions, ApiError> {
        let mut query = Query::default();
        if let Some(l) = label_selector {
            query.0.insert("labelSelector".into(), l.into());
        }
        if let Some(f) = field_selector {
            query.0.insert("fieldSelector".into(), f.into());
        }
        ListOptions::parse(&query, info, watch)
    }

    /// WATCH changes after `resource_version` (0: current state as ADDED events first).
    pub fn watch(
        &self,
        info: &'static ResourceInfo,
        namespace: Option<&str>,
        resource_version: i64,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<mpsc::Receiver<WatchEvent>, ApiError> {
        let mut opts = Self::options(info, label_selector, field_selector, true)?;
        opts.resource_version = resource_version.to_string();
        // In-process watches live as long as their receiver: no server-side timeout.
        opts.timeout_seconds = Some(u64::MAX / 4);
        self.server.watch(info, namespace, opts)
    }

    /// CREATE; the stored object comes back as a value of its own (a copy when watches share
    /// it: callers that can read a shared object use [`LocalClient::create_shared`]).
    pub async fn create(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        obj: Value,
    ) -> Result<Value, ApiError> {
        Ok(SharedObject::into_value(
            self.create_shared(info, namespace, obj).await?,
        ))
    }

    /// CREATE; the stored object comes back shared with the watches that deliver it.
    pub async fn create_shared(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        obj: Value,
    ) -> Result<Arc<SharedObject>, ApiError> {
        Ok(self
            .server
            .create(info, namespace, obj, &self.write_options())
            .await?
            .object)
    }

    /// UPDATE (PUT) of the object, or of its `status` subresource when `subresource` is "status";
    /// the stored object comes back as a value of its own (see [`LocalClient::create`]).
    pub async fn update(
        &self,
        info: &ResourceInfo,
        subresource: &str,
        obj: Value,
    ) -> Result<Value, ApiError> {
        Ok(SharedObject::into_value(
            self.update_shared(info, subresource, obj).await?,
        ))
    }

    /// [`LocalClient::update`], the stored object shared with the watches that deliver it.
    pub async fn update_shared(
        &self,
        info: &ResourceInfo,
        subresource: &str,
        obj: Value,
    ) -> Result<Arc<SharedObject>, ApiError> {
        let name = object::name(&obj).to_string();
        let namespace = object::namespace(&obj).to_string();
        let ns = if info.namespaced() {
            Some(namespace.as_str())
        } else {
            None
        };
        Ok(self
            .server
            .update(info, ns, &name, subresource, obj, &self.write_options())
            .await?
            .object)
    }

    /// PATCH with a merge patch (`application/merge-patch+json`), on the object or a
    /// subresource; the stored object comes back as a value of its own (see
    /// [`LocalClient::create`]).
    pub async fn merge_patch(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        patch: &Value,
    ) -> Result<Value, ApiError> {
        Ok(SharedObject::into_value(
            self.merge_patch_shared(info, namespace, name, subresource, patch)
                .await?,
        ))
    }

    /// [`LocalClient::merge_patch`], the stored object shared with the watches that deliver it.
    pub async fn merge_patch_shared(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        patch: &Value,
    ) -> Result<Arc<SharedObject>, ApiError> {
        let out = self
            .server
            .merge_patch(
                info,
                namespace,
                name,
                subresource,
                patch.clone(),
                &self.write_options(),
            )
            .await?;
        Ok(out.object)
    }

    /// DELETE.
    pub async fn delete(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let outcome = self.server.delete(info, namespace, name, options).await?;
        if outcome.deleted && info.resource == "leases" {
            self.server.heartbeats.lease_deleted(namespace, name);
        }
        Ok(outcome)
    }

    /// POST `pods/<name>/binding`.
    pub async fn bind(&self, namespace: &str, name: &str, node: &str) -> Result<(), ApiError> {
        let binding = serde_json::json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        self.server.bind(namespace, name, &binding).await
    }

    /// POST `pods/<name>/eviction`.
    pub async fn evict(&self, namespace: &str, name: &str) -> Result<(), ApiError> {
        let eviction = serde_json::json!({
            "apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        });
        self.server.evict(namespace, name, &eviction).await
    }

    /// GET as a typed object.
    pub fn get_typed<K: Resource + DeserializeOwned>(
        &self,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<K, ApiError> {
        from_value(self.get(resource_of::<K>()?, namespace, name)?)
    }

    /// LIST as typed objects.
    pub fn list_typed<K: Resource + DeserializeOwned>(
        &self,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<K>, ApiError> {
        self.list(resource_of::<K>()?, namespace, label_selector, None)?
            .items
            .into_iter()
            .map(from_value)
            .collect()
    }

    /// CREATE from a typed object.
    pub async fn create_typed<K: Resource + Serialize + DeserializeOwned>(
        &self,
        obj: &K,
    ) -> Result<K, ApiError> {
        let created = self.create_typed_shared(obj).await?;
        K::deserialize(&**created).map_err(ApiError::internal)
    }

    /// [`LocalClient::create_typed`] for a caller that does not read the stored object back
    /// (an event recorder): it comes back shared, not decoded.
    pub async fn create_typed_shared<K: Resource + Serialize>(
        &self,
        obj: &K,
    ) -> Result<Arc<SharedObject>, ApiError> {
        let value = to_value(obj)?;
        let ns = object::namespace(&value).to_string();
        let info = resource_of::<K>()?;
        let ns = if info.namespaced() {
            Some(ns.as_str())
        } else {
            None
        };
        self.create_shared(info, ns, value).await
    }
}

fn from_value<K: DeserializeOwned>(v: Value) -> Result<K, ApiError> {
    serde_json::from_value(v).map_err(ApiError::internal)
}

fn to_value<K: Serialize + Resource>(obj: &K) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(obj).map_err(ApiError::internal)?;
    v["apiVersion"] = Value::String(K::API_VERSION.into());
    v["kind"] = Value::String(K::KIND.into());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kubetwin_core::clock::ManualClock;
    use kubetwin_store::{RangeRequest, Store};

    use crate::{ApiServerConfig, Storage};

    async fn test_client() -> LocalClient {
        let server = ApiServer::new(
            Storage::new(Store::memory()),
            Arc::new(ManualClock::at_default_epoch()),
            1,
            ApiServerConfig::default(),
        );
        server.bootstrap().await.expect("bootstrap");
        LocalClient::new(server, "test-controller")
    }

    #[tokio::test]
    async fn typed_round_trip_and_watch() {
        let client = test_client().await;
        let cms = resource_of::<ConfigMap>().expect("configmaps");
        let mut watch = client
            .watch(
                cms,
                Some("default"),
                client
                    .list(cms, Some("default"), None, None)
                    .expect("list")
                    .resource_version,
                None,
                None,
            )
            .expect("watch");
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": "c", "namespace": "default"}, "data": {"k": "v"}})).expect("cm");
        let created = client.create_typed(&cm).await.expect("create");
        assert_eq!(
            created.metadata.managed_fields.expect("managed")[0]
                .manager
                .as_deref(),
            Some("test-controller")
        );
        let event = watch.recv().await.expect("event");
        assert_eq!(event.event_type, "ADDED");
        assert_eq!(event.object["data"]["k"], "v");
        let got: ConfigMap = client.get_typed(Some("default"), "c").expect("get");
        assert_eq!(got.data.expect("data")["k"], "v");
    }

    /// Watches share one decoded object per change; an object that stops matching a label
    /// selector is reported DELETED with its old content at the change's revision (upstream
    /// `cache_watcher.go`, `convertToWatchEvent`), and a deleted one with its last content at
    /// the delete's revision.
    #[tokio::test]
    async fn watches_share_objects_and_report_selector_exits_with_the_old_object() {
        let client = test_client().await;
        let cms = resource_of::<ConfigMap>().expect("configmaps");
        let from = client
            .list(cms, Some("default"), None, None)
            .expect("list")
            .resource_version;
        let mut all = client
            .watch(cms, Some("default"), from, None, None)
            .expect("watch");
        let mut other = client
            .watch(cms, Some("default"), from, None, None)
            .expect("watch");
        let mut selected = client
            .watch(cms, Some("default"), from, Some("team=a"), None)
            .expect("watch");
        let created = client
            .create(
                cms,
                Some("default"),
                serde_json::json!({"metadata": {"name": "c", "namespace": "default",
                    "labels": {"team": "a"}}, "data": {"k": "v"}}),
            )
            .await
            .expect("create");
        let relabeled = client
            .merge_patch(
                cms,
                Some("default"),
                "c",
                "",
                &serde_json::json!({"metadata": {"labels": {"team": "b"}}}),
            )
            .await
            .expect("patch");
        client
            .delete(cms, Some("default"), "c", &DeleteOptions::default())
            .await
            .expect("delete");
        let rv = |v: &Value| {
            v["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };

        let (a, b) = (all.recv().await.expect("a"), other.recv().await.expect("b"));
        assert_eq!(a.event_type, "ADDED");
        assert!(
            Arc::ptr_eq(&a.object, &b.object),
            "one decoded object per change"
        );
        assert_eq!(rv(&a.object), rv(&created));
        // What the write kept for the watches is what decoding the stored bytes gives.
        let created_at: i64 = rv(&created).parse().expect("rv");
        let kv = client
            .server()
            .storage
            .store()
            .range(&RangeRequest::key(cms.key(Some("default"), "c")).at_revision(created_at))
            .expect("range")
            .kvs
            .pop()
            .expect("stored");
        assert_eq!(**a.object, crate::storage::decode(&kv).expect("decode"));
        let typed_a = a.object.typed::<ConfigMap>().expect("typed");
        let typed_b = b.object.typed::<ConfigMap>().expect("typed");
        assert!(
            Arc::ptr_eq(&typed_a, &typed_b),
            "one typed object per change"
        );
        assert_eq!(typed_a.data.as_ref().expect("data")["k"], "v");

        let added = selected.recv().await.expect("added");
        assert_eq!(added.event_type, "ADDED");
        let left = selected.recv().await.expect("left");
        assert_eq!(left.event_type, "DELETED");
        assert_eq!(left.object["metadata"]["labels"]["team"], "a");
        assert_eq!(rv(&left.object), rv(&relabeled));

        let modified = all.recv().await.expect("modified");
        assert_eq!(modified.event_type, "MODIFIED");
        let deleted = all.recv().await.expect("deleted");
        assert_eq!(deleted.event_type, "DELETED");
        assert_eq!(deleted.object["metadata"]["labels"]["team"], "b");
        let delete_rv: i64 = rv(&deleted.object).parse().expect("rv");
        assert!(delete_rv > rv(&relabeled).parse::<i64>().expect("rv"));
        assert!(
            selected.try_recv().is_err(),
            "nothing more for the selector"
        );
    }
}
