//! Objects every cluster has from its first second: the system namespaces, the `kubernetes`
//! service and the built-in priority classes (`pkg/controlplane/controller/systemnamespaces`,
//! `pkg/controlplane/controller/kubernetesservice`, `pkg/registry/scheduling/rest/storage_scheduling.go`).

use serde_json::{Value, json};

use crate::registry::ResourceInfo;
use crate::write::WriteOptions;
use crate::{ApiError, ApiServer, object, registry};

impl ApiServer {
    /// Creates `obj` unless an object of that name exists (a restart over the same data finds
    /// everything the first start made).
    async fn ensure(&self, info: &ResourceInfo, obj: Value) -> Result<(), ApiError> {
        let namespace = object::namespace(&obj).to_string();
        let namespace = if namespace.is_empty() {
            None
        } else {
            Some(namespace.as_str())
        };
        if self.read(info, namespace, object::name(&obj)).is_ok() {
            return Ok(());
        }
        match self
            .create(info, namespace, obj.clone(), &WriteOptions::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Creates the system objects that are missing.
    pub async fn bootstrap(&self) -> Result<(), ApiError> {
        let lookup = |g: &str, r: &str| {
            registry::lookup(g, "v1", r).ok_or_else(|| ApiError::internal(format!("no {r}")))
        };
        let namespaces = lookup("", "namespaces")?;
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            self.ensure(
                namespaces,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await?;
        }
        let kubernetes = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        });
        self.ensure(lookup("", "services")?, kubernetes).await?;
        let classes = lookup("scheduling.k8s.io", "priorityclasses")?;
        for (name, value, description) in [
            (
                "system-node-critical",
                2_000_001_000,
                "Used for system critical pods that must not be moved from their current node.",
            ),
            (
                "system-cluster-critical",
                2_000_000_000,
                "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
            ),
        ] {
            let obj = json!({
                "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": name}, "value": value, "description": description,
            });
            self.ensure(classes, obj).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kubetwin_core::clock::ManualClock;
    use kubetwin_store::Store;

    use crate::{ApiServer, ApiServerConfig, Storage};

    #[tokio::test]
    async fn bootstrap_twice_over_the_same_store_succeeds() {
        let store = Store::memory();
        let clock = Arc::new(ManualClock::at_default_epoch());
        let first = ApiServer::new(
            Storage::new(store.clone()),
            clock.clone(),
            1,
            ApiServerConfig::default(),
        );
        first.bootstrap().await.expect("first start");
        // A restart over the same data must not collide with what the first start created.
        let second = ApiServer::new(Storage::new(store), clock, 2, ApiServerConfig::default());
        second.bootstrap().await.expect("second start");
    }
}
