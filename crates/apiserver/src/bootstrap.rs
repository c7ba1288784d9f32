//! Objects every cluster has from its first second: the system namespaces and the built-in
//! priority classes (`pkg/controlplane/controller/systemnamespaces`,
//! `pkg/registry/scheduling/rest/storage_scheduling.go`).

use serde_json::json;

use crate::write::WriteOptions;
use crate::{ApiError, ApiServer, registry};

impl ApiServer {
    /// Creates the system namespaces and priority classes that are missing.
    pub async fn bootstrap(&self) -> Result<(), ApiError> {
        let namespaces = registry::lookup("", "v1", "namespaces")
            .ok_or_else(|| ApiError::internal("no namespaces"))?;
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            match self
                .create(namespaces, None, obj, &WriteOptions::default())
                .await
            {
                Ok(_) => {}
                Err(e) if e.code == 409 => {}
                Err(e) => return Err(e),
            }
        }
        // The `kubernetes` service every cluster has in `default` (`pkg/controlplane/controller/kubernetesservice`).
        let services = registry::lookup("", "v1", "services")
            .ok_or_else(|| ApiError::internal("no services"))?;
        let kubernetes = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        });
        match self
            .create(
                services,
                Some("default"),
                kubernetes,
                &WriteOptions::default(),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
        let classes = registry::lookup("scheduling.k8s.io", "v1", "priorityclasses")
            .ok_or_else(|| ApiError::internal("no priorityclasses"))?;
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
            match self
                .create(classes, None, obj, &WriteOptions::default())
                .await
            {
                Ok(_) => {}
                Err(e) if e.code == 409 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
