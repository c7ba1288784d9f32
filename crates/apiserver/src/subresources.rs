//! Subresources with their own kinds: `scale` (autoscaling/v1 Scale), `pods/binding`,
//! `pods/eviction` (PodDisruptionBudget-aware) and `pods/log`.
//!
//! Upstream: `pkg/registry/apps/deployment/storage/storage.go` (ScaleREST),
//! `pkg/registry/core/pod/storage/storage.go` (BindingREST), `.../pod/storage/eviction.go`
//! (EvictionREST), `pkg/registry/core/pod/rest/log.go`.

use serde_json::{Value, json};

use kubetwin_core::labels::Selector;

use kubetwin_core::validation::field::FieldError;

use crate::error::{ApiError, Cause};
use crate::list::ListOptions;
use crate::registry::{self, ResourceInfo};
use crate::request::Query;
use crate::write::{DeleteOptions, WriteOptions};
use crate::{ApiServer, object};

/// The `Scale` view of a scalable object.
pub fn scale_of(obj: &Value) -> Value {
    let selector = obj["spec"]["selector"].clone();
    let selector_string = serde_json::from_value(selector)
        .ok()
        .and_then(|ls| Selector::from_label_selector(Some(&ls)).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let meta = &obj["metadata"];
    let mut scale = json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0)},
    });
    if !selector_string.is_empty() {
        scale["status"]["selector"] = json!(selector_string);
    }
    scale
}

impl ApiServer {
    /// GET `…/scale`.
    pub fn get_scale(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        Ok(scale_of(&self.get(info, namespace, name)?))
    }

    /// PUT or PATCH `…/scale`: `to_scale` turns the current Scale into the desired one; its
    /// `spec.replicas` is written to the parent (with its resourceVersion as precondition).
    pub async fn write_scale(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        opts: &WriteOptions,
        to_scale: &(dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync),
    ) -> Result<Value, ApiError> {
        let mutate = |current: &Value| -> Result<Value, ApiError> {
            let desired = to_scale(&scale_of(current))?;
            let replicas = match &desired["spec"]["replicas"] {
                Value::Number(n) if n.as_i64().is_some_and(|r| r >= 0) => n.as_i64().unwrap_or(0),
                Value::Null => 0,
                other => {
                    return Err(ApiError::invalid(
                        info,
                        name,
                        &[FieldError::invalid(
                            "spec.replicas",
                            other.clone(),
                            "must be greater than or equal to 0",
                        )],
                    ));
                }
            };
            let mut next = current.clone();
            let rv = object::meta_str(&desired, "resourceVersion").to_string();
            object::set_meta_str(&mut next, "resourceVersion", &rv);
            next["spec"]["replicas"] = json!(replicas);
            Ok(next)
        };
        let outcome = self
            .update_with(info, namespace, name, "", opts, &mutate)
            .await?;
        Ok(scale_of(&outcome.object))
    }

    /// POST `pods/<name>/binding` (or `bindings`): assigns the pod to a node.
    pub async fn bind(&self, namespace: &str, name: &str, binding: &Value) -> Result<(), ApiError> {
        let pods =
            registry::lookup("", "v1", "pods").ok_or_else(|| ApiError::internal("no pods"))?;
        let target = binding["target"]["name"].as_str().unwrap_or("").to_string();
        if target.is_empty() {
            return Err(ApiError::invalid(
                pods,
                name,
                &[FieldError::required("target.name", "")],
            ));
        }
        let annotations = binding["metadata"]["annotations"].clone();
        let pinned_uid = binding["metadata"]["uid"].as_str().map(str::to_string);
        let mutate = move |current: &Value| -> Result<Value, ApiError> {
            if let Some(uid) = &pinned_uid
                && object::meta_str(current, "uid") != uid
            {
                return Err(ApiError::conflict(
                    pods,
                    name,
                    "the UID in the binding does not match the pod",
                ));
            }
            if object::is_terminating(current) {
                return Err(ApiError::conflict(
                    pods,
                    name,
                    "pod is being deleted, cannot be assigned to a host",
                ));
            }
            let assigned = current["spec"]["nodeName"].as_str().unwrap_or("");
            if !assigned.is_empty() {
                return Err(ApiError::conflict(
                    pods,
                    name,
                    &format!("pod {name} is already assigned to node \"{assigned}\""),
                ));
            }
            let mut next = current.clone();
            next["spec"]["nodeName"] = json!(target);
            if let Some(a) = annotations.as_object() {
                let meta = object::meta_mut(&mut next);
                let existing = meta.entry("annotations").or_insert_with(|| json!({}));
                if let Some(e) = existing.as_object_mut() {
                    for (k, v) in a {
                        e.insert(k.clone(), v.clone());
                    }
                }
            }
            // The PodScheduled condition is the scheduler's to set; binding adds it as upstream's
            // `setPodHostAndAnnotations` does.
            let conditions = next["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut conditions: Vec<Value> = conditions
                .into_iter()
                .filter(|c| c["type"] != "PodScheduled")
                .collect();
            conditions.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": null}));
            next["status"]["conditions"] = Value::Array(conditions);
            Ok(next)
        };
        // Binding writes spec and status together, as the binding storage does.
        let key = pods.key(Some(namespace), name);
        for _ in 0..16 {
            let (current, rev) = self.read_shared(pods, Some(namespace), name)?;
            let mut next = mutate(&current)?;
            if let Some(t) = next["status"]["conditions"].as_array_mut() {
                for c in t.iter_mut().filter(|c| c["type"] == "PodScheduled") {
                    c["lastTransitionTime"] = json!(self.now_string());
                }
            }
            match self.storage.update_shared(&key, next, rev).await {
                Ok(_) => return Ok(()),
                Err(crate::storage::StorageError::Conflict) => continue,
                Err(e) => return Err(ApiError::internal(e)),
            }
        }
        Err(ApiError::stale(pods, name))
    }

    /// POST `pods/<name>/eviction`: deletes the pod unless a PodDisruptionBudget forbids it.
    pub async fn evict(
        &self,
        namespace: &str,
        name: &str,
        eviction: &Value,
    ) -> Result<(), ApiError> {
        let pods =
            registry::lookup("", "v1", "pods").ok_or_else(|| ApiError::internal("no pods"))?;
        let pdbs = registry::lookup("policy", "v1", "poddisruptionbudgets")
            .ok_or_else(|| ApiError::internal("no pdbs"))?;
        let pod = self.get(pods, Some(namespace), name)?;
        let delete_options = match eviction.get("deleteOptions") {
            Some(o) if !o.is_null() => DeleteOptions::parse(
                &serde_json::to_vec(o).unwrap_or_default(),
                &Query::default(),
            )?,
            _ => DeleteOptions::default(),
        };
        // canIgnorePDB: terminal, pending or already-terminating pods are deleted directly.
        let phase = pod["status"]["phase"].as_str().unwrap_or("");
        let ignore_pdb =
            matches!(phase, "Succeeded" | "Failed" | "Pending") || object::is_terminating(&pod);
        if !ignore_pdb {
            let labels = object::labels(&pod);
            let all = self.list(
                pdbs,
                Some(namespace),
                &ListOptions::parse(&Query::default(), pdbs, false)?,
            )?;
            let matching: Vec<Value> = all
                .items
                .into_iter()
                .filter(|pdb| {
                    serde_json::from_value(pdb["spec"]["selector"].clone())
                        .ok()
                        .and_then(|ls| Selector::from_label_selector(Some(&ls)).ok())
                        .is_some_and(|s| !s.is_empty() && s.matches(&labels))
                })
                .collect();
            if matching.len() > 1 {
                return Err(ApiError::internal(
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                ));
            }
            if let Some(pdb) = matching.first() {
                let pdb_name = object::name(pdb).to_string();
                let observed = pdb["status"]["observedGeneration"].as_i64().unwrap_or(0);
                if observed < object::generation(pdb) {
                    return Err(disruption_error(&format!(
                        "The disruption budget {pdb_name} is still being processed by the server."
                    )));
                }
                let allowed = pdb["status"]["disruptionsAllowed"].as_i64().unwrap_or(0);
                if allowed <= 0 {
                    let desired = pdb["status"]["desiredHealthy"].as_i64().unwrap_or(0);
                    let current = pdb["status"]["currentHealthy"].as_i64().unwrap_or(0);
                    return Err(disruption_error(&format!(
                        "The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently"
                    )));
                }
                // Record the disruption, as EvictionREST does, before deleting.
                let pod_name = name.to_string();
                let now = self.now_string();
                let mutate = move |current: &Value| -> Result<Value, ApiError> {
                    let mut next = current.clone();
                    // No resourceVersion precondition: a conflict with the disruption
                    // controller's status write re-reads and re-checks the budget, as
                    // EvictionREST's `RetryOnConflict` around `checkAndDecrement` does.
                    if let Some(meta) = next["metadata"].as_object_mut() {
                        meta.remove("resourceVersion");
                    }
                    let allowed = next["status"]["disruptionsAllowed"].as_i64().unwrap_or(0);
                    if allowed <= 0 {
                        return Err(disruption_error(
                            "The disruption budget has no disruptions left.",
                        ));
                    }
                    next["status"]["disruptionsAllowed"] = json!(allowed - 1);
                    if !next["status"]["disruptedPods"].is_object() {
                        next["status"]["disruptedPods"] = json!({});
                    }
                    next["status"]["disruptedPods"][&pod_name] = json!(now);
                    Ok(next)
                };
                self.update_with(
                    pdbs,
                    Some(namespace),
                    &pdb_name,
                    "status",
                    &WriteOptions::default(),
                    &mutate,
                )
                .await?;
            }
        }
        self.delete(pods, Some(namespace), name, &delete_options)
            .await?;
        Ok(())
    }

    /// GET `pods/<name>/log`: the simulated container's output.
    pub fn pod_log(
        &self,
        namespace: &str,
        name: &str,
        container: Option<&str>,
    ) -> Result<String, ApiError> {
        let pods =
            registry::lookup("", "v1", "pods").ok_or_else(|| ApiError::internal("no pods"))?;
        let pod = self.get(pods, Some(namespace), name)?;
        let containers: Vec<String> = pod["spec"]["containers"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let container = match container {
            Some(c) if containers.iter().any(|x| x == c) => c.to_string(),
            Some(c) => {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            None if containers.len() == 1 => containers[0].clone(),
            None => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.join(" ")
                )));
            }
        };
        if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
            )));
        }
        Ok(format!(
            "kubetwin: simulated container {container} of pod {namespace}/{name} has no real output\n"
        ))
    }
}

fn disruption_error(detail: &str) -> ApiError {
    let mut err = ApiError::too_many_requests(
        "Cannot evict pod as it would violate the pod's disruption budget.",
        0,
    );
    err.retry_after_seconds = None;
    err.causes.push(Cause {
        reason: "DisruptionBudget".into(),
        message: detail.into(),
        field: String::new(),
    });
    err
}
