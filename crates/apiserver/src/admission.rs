//! Admission plugins with upstream semantics: `LimitRanger` (defaults and min/max/ratio
//! checks), `ResourceQuota` (usage checks that charge `status.used`) and `DefaultStorageClass`.
//!
//! Each plugin is a set of pure functions over JSON objects ([`limitranger`],
//! [`resourcequota`], [`storageclass`]); this module holds the glue that reads LimitRanges,
//! ResourceQuotas and StorageClasses from storage and writes quota status back with a
//! compare-and-swap, as upstream's quota accessor does with `UpdateStatus`.
//!
//! Order, as kube-apiserver's plugin chain (`pkg/kubeapiserver/options/plugins.go`
//! `AllOrderedPlugins`): mutating `LimitRanger`, then the pod plugins (ServiceAccount,
//! Priority, DefaultTolerationSeconds), `DefaultStorageClass`; after the object validates,
//! the validating `LimitRanger` and, last, `ResourceQuota`.

pub mod limitranger;
pub mod resourcequota;
pub mod storageclass;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use kubetwin_core::quantity::Quantity;
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::{self, ResourceInfo};
use crate::storage::StorageError;
use crate::{ApiServer, convert, defaults, object};

/// Named quantities (`corev1.ResourceList`), sorted by name so every iteration is stable.
pub type ResourceList = BTreeMap<String, Quantity>;

/// Reads a `ResourceList` from JSON (`{"cpu": "100m", ...}`); entries that are not
/// quantities are skipped (validation rejects them before admission runs).
pub fn resource_list(value: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    if let Some(map) = value.as_object() {
        for (name, v) in map {
            let parsed = match v {
                Value::String(s) => Quantity::parse(s).ok(),
                Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
                _ => None,
            };
            if let Some(q) = parsed {
                out.insert(name.clone(), q);
            }
        }
    }
    out
}

/// Writes a `ResourceList` as JSON, each quantity in its `String()` form.
pub fn resource_list_json(list: &ResourceList) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.to_string())))
            .collect(),
    )
}

/// Sets `obj.status.<field>` to `list`.
pub fn resource_json_into(obj: &mut Value, field: &str, list: &ResourceList) {
    if !obj["status"].is_object() {
        obj["status"] = serde_json::json!({});
    }
    obj["status"][field] = resource_list_json(list);
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is; several, deduplicated, joined
/// by ", " inside brackets.
pub fn aggregate(errors: &[String]) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => None,
        1 => Some(seen[0].to_string()),
        _ => Some(format!("[{}]", seen.join(", "))),
    }
}

/// The name admission errors carry: the object's name, else its generateName
/// (`admission.extractResourceName`).
fn admission_name(obj: &Value) -> &str {
    let name = object::name(obj);
    if name.is_empty() {
        object::meta_str(obj, "generateName")
    } else {
        name
    }
}

/// One lock per (server, namespace): upstream's quota evaluator works a namespace at a time
/// (`controller.go` `getWork`/`completeWork`), so concurrent creates in a namespace are
/// checked one after the other rather than racing on the quota's resourceVersion.
type NamespaceLocks = BTreeMap<(usize, String), Arc<tokio::sync::Mutex<()>>>;
static QUOTA_LOCKS: LazyLock<Mutex<NamespaceLocks>> = LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn namespace_lock(server: &ApiServer, namespace: &str) -> Arc<tokio::sync::Mutex<()>> {
    let key = (std::ptr::from_ref(server) as usize, namespace.to_string());
    let mut locks = QUOTA_LOCKS.lock().unwrap_or_else(|e| e.into_inner());
    locks.entry(key).or_default().clone()
}

/// How many times a quota status write is retried after a conflict (`checkQuotas(..., 3)`).
const QUOTA_UPDATE_RETRIES: usize = 3;

impl ApiServer {
    /// Objects of `resource` in `namespace` (or cluster-wide), with their revisions, sorted by
    /// name (the store's key order).
    fn admission_list(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
    ) -> Result<Vec<(Value, i64)>, ApiError> {
        let page = self
            .storage
            .list_page(
                &info.key_prefix(namespace),
                None,
                self.storage.revision(),
                0,
                &|_| true,
            )
            .map_err(ApiError::internal)?;
        Ok(page
            .items
            .into_iter()
            .map(|v| {
                let rev = object::meta_str(&v, "resourceVersion").parse().unwrap_or(0);
                (convert::to_view(info, v), rev)
            })
            .collect())
    }

    fn limit_ranges(&self, namespace: &str) -> Result<Vec<Value>, ApiError> {
        let Some(info) = registry::lookup("", "v1", "limitranges") else {
            return Ok(Vec::new());
        };
        Ok(self
            .admission_list(info, Some(namespace))?
            .into_iter()
            .map(|(v, _)| v)
            .collect())
    }

    /// Mutating admission on create: `LimitRanger` defaults for pods
    /// (`plugin/pkg/admission/limitranger/admission.go` `Admit`) and `DefaultStorageClass` for
    /// claims (`plugin/pkg/admission/storage/storageclass/setdefault/admission.go`).
    pub(crate) fn admit_create_mutating(
        &self,
        info: &ResourceInfo,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        if !info.group.is_empty() {
            return Ok(());
        }
        match info.resource {
            "pods" => {
                let ranges = self.limit_ranges(object::namespace(obj))?;
                for range in &ranges {
                    limitranger::pod_mutate_limit(range, obj);
                }
                // Upstream computes the QoS class in the pod strategy's `PrepareForCreate`,
                // after mutating admission: defaulted requests and limits count.
                if !ranges.is_empty() && obj["status"].is_object() {
                    obj["status"]["qosClass"] = Value::from(defaults::qos_class(obj));
                }
            }
            "persistentvolumeclaims" if !storageclass::claim_has_class(obj) => {
                let Some(sc) = registry::lookup("storage.k8s.io", "v1", "storageclasses") else {
                    return Ok(());
                };
                let classes: Vec<Value> = self
                    .admission_list(sc, None)?
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect();
                storageclass::set_default_class(obj, &classes);
            }
            _ => {}
        }
        Ok(())
    }

    /// Validating admission on create: when the namespace has LimitRanges, the object is
    /// validated again (their defaults may have changed it, and upstream validates after
    /// mutating admission), then checked against each of them.
    pub(crate) fn admit_create_validating(
        &self,
        info: &ResourceInfo,
        obj: &Value,
    ) -> Result<(), ApiError> {
        if !info.group.is_empty() || !matches!(info.resource, "pods" | "persistentvolumeclaims") {
            return Ok(());
        }
        let ranges = self.limit_ranges(object::namespace(obj))?;
        if ranges.is_empty() {
            return Ok(());
        }
        let errors = defaults::validate(info, obj);
        if !errors.is_empty() {
            return Err(ApiError::invalid(info, object::name(obj), &errors));
        }
        self.check_limit_ranges(info, obj, &ranges)
    }

    /// `LimitRanger.Validate`: each LimitRange of the namespace in name order; the first
    /// that rejects the object answers 403.
    fn check_limit_ranges(
        &self,
        info: &ResourceInfo,
        obj: &Value,
        ranges: &[Value],
    ) -> Result<(), ApiError> {
        for range in ranges {
            let verdict = match info.resource {
                "pods" => limitranger::pod_validate_limit(range, obj),
                _ => limitranger::pvc_validate_limit(range, obj),
            };
            if let Err(why) = verdict {
                return Err(ApiError::forbidden(info, admission_name(obj), &why));
            }
        }
        Ok(())
    }

    /// Validating admission on update: `LimitRanger` for claims (not pods: their containers
    /// are immutable, `SupportsAttributes`), skipped for objects being deleted, then
    /// `ResourceQuota`.
    pub(crate) async fn admit_update(
        &self,
        info: &ResourceInfo,
        subresource: &str,
        current: &Value,
        next: &Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        if info.group.is_empty()
            && info.resource == "persistentvolumeclaims"
            && subresource.is_empty()
            && !object::is_terminating(current)
        {
            let ranges = self.limit_ranges(object::namespace(next))?;
            self.check_limit_ranges(info, next, &ranges)?;
        }
        self.admit_quota(info, subresource, Some(current), next, dry_run)
            .await
    }

    /// `ResourceQuota` admission (`staging/src/k8s.io/apiserver/pkg/admission/plugin/
    /// resourcequota/{admission,controller,resource_access}.go`): checks the request against
    /// every matching quota of the namespace and charges the usage into `status.used` with a
    /// compare-and-swap on the quota's resourceVersion, re-reading and re-checking the quotas
    /// whose write conflicted (three retries). Dry runs are checked, never charged.
    pub(crate) async fn admit_quota(
        &self,
        info: &ResourceInfo,
        subresource: &str,
        old: Option<&Value>,
        obj: &Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let namespace = object::namespace(obj);
        // Cluster-scoped objects and namespace creation are never quota'd.
        if !info.namespaced() || namespace.is_empty() {
            return Ok(());
        }
        let Some(evaluator) = resourcequota::Evaluator::for_resource(info.group, info.resource)
        else {
            return Ok(());
        };
        let attributes = resourcequota::Attributes {
            operation: if old.is_some() {
                resourcequota::Operation::Update
            } else {
                resourcequota::Operation::Create
            },
            subresource,
            object: obj,
            old_object: old,
        };
        if !evaluator.handles(&attributes) {
            return Ok(());
        }
        let Some(rq_info) = registry::lookup("", "v1", "resourcequotas") else {
            return Ok(());
        };
        if self.admission_list(rq_info, Some(namespace))?.is_empty() {
            return Ok(());
        }
        let lock = namespace_lock(self, namespace);
        let _guard = lock.lock().await;
        let now = self.clock.now();
        let mut quotas = self.admission_list(rq_info, Some(namespace))?;
        for attempt in 0..=QUOTA_UPDATE_RETRIES {
            let values: Vec<Value> = quotas.iter().map(|(v, _)| v.clone()).collect();
            let updated = resourcequota::check_request(&values, &attributes, &evaluator, now)
                .map_err(|e| match e {
                    resourcequota::QuotaError::Forbidden(why) => {
                        ApiError::forbidden(info, admission_name(obj), &why)
                    }
                    resourcequota::QuotaError::Internal(why) => ApiError::internal(why),
                })?;
            if dry_run {
                return Ok(());
            }
            let mut failed = Vec::new();
            for ((before, rev), after) in quotas.iter().zip(&updated) {
                if resourcequota::equals(
                    &resource_list(&before["status"]["used"]),
                    &resource_list(&after["status"]["used"]),
                ) {
                    continue;
                }
                let key = rq_info.key(Some(namespace), object::name(after));
                match self
                    .storage
                    .update(&key, &convert::to_storage(rq_info, after), *rev)
                    .await
                {
                    Ok(_) => {}
                    Err(StorageError::Conflict) | Err(StorageError::NotFound) => {
                        failed.push(object::name(after).to_string());
                    }
                    Err(e) => return Err(ApiError::internal(e)),
                }
            }
            let Some(last_failed) = failed.last() else {
                return Ok(());
            };
            if attempt == QUOTA_UPDATE_RETRIES {
                return Err(ApiError::stale(rq_info, last_failed));
            }
            // Only the quotas whose write failed are checked again; a deleted one drops out.
            quotas = self
                .admission_list(rq_info, Some(namespace))?
                .into_iter()
                .filter(|(q, _)| failed.iter().any(|f| f == object::name(q)))
                .collect();
            if quotas.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_matches_utilerrors() {
        // Upstream: staging/src/k8s.io/apimachinery/pkg/util/errors/errors_test.go
        assert_eq!(aggregate(&[]), None);
        assert_eq!(aggregate(&["a".into()]).as_deref(), Some("a"));
        assert_eq!(
            aggregate(&["a".into(), "b".into(), "a".into()]).as_deref(),
            Some("[a, b]")
        );
        assert_eq!(aggregate(&["a".into(), "a".into()]).as_deref(), Some("a"));
    }

    #[test]
    fn resource_lists_read_strings_and_numbers() {
        let list = resource_list(&serde_json::json!({"cpu": "100m", "pods": 2, "bad": "x!"}));
        assert_eq!(list.len(), 2);
        assert_eq!(list["cpu"].to_string(), "100m");
        assert_eq!(list["pods"].to_string(), "2");
    }
}
