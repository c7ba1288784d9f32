//! API errors as Kubernetes `Status` objects: the code, reason, message and details that
//! clients (kubectl, client-go, kube-rs) branch on.
//!
//! Upstream: `staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go` (message formats of
//! `NewNotFound`, `NewAlreadyExists`, `NewConflict`, `NewInvalid`, …).

use kubetwin_core::validation::field::{FieldError, aggregate_message, invalid_message};
use serde_json::{Value, json};

use crate::registry::ResourceInfo;

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `type`, e.g. `FieldValueInvalid`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// The field path, e.g. `metadata.name`.
    pub field: String,
}

/// A failed API call, rendered as a `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `StatusReason`.
    pub reason: &'static str,
    /// Message.
    pub message: String,
    /// `details.name`.
    pub name: Option<String>,
    /// `details.group`.
    pub group: Option<String>,
    /// `details.kind` (the resource, or the kind for Invalid).
    pub kind: Option<String>,
    /// `details.causes`.
    pub causes: Vec<Cause>,
    /// `details.retryAfterSeconds`.
    pub retry_after_seconds: Option<u32>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            name: None,
            group: None,
            kind: None,
            causes: Vec::new(),
            retry_after_seconds: None,
        }
    }

    fn with_resource(mut self, info: &ResourceInfo, name: &str) -> Self {
        if !name.is_empty() {
            self.name = Some(name.to_string());
        }
        self.group = Some(info.group.to_string());
        self.kind = Some(info.resource.to_string());
        self
    }

    /// 404 `pods "x" not found`.
    pub fn not_found(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", info.qualified_resource(), name),
        )
        .with_resource(info, name)
    }

    /// 404 for a path that addresses nothing.
    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 409 `pods "x" already exists`.
    pub fn already_exists(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", info.qualified_resource(), name),
        )
        .with_resource(info, name)
    }

    /// 409 Conflict with the optimistic-lock message.
    pub fn conflict(info: &ResourceInfo, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                info.qualified_resource(),
                name,
                why
            ),
        )
        .with_resource(info, name)
    }

    /// The optimistic-lock conflict (`storage.OptimisticLockErrorMsg`).
    pub fn stale(info: &ResourceInfo, name: &str) -> Self {
        Self::conflict(
            info,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 for a server-side apply that would change fields other managers own
    /// (`errors.NewApplyConflict`, message from `managedfields/internal/conflict.go`).
    pub fn apply_conflict(conflicts: &[crate::managed::Conflict]) -> Self {
        let mut err = Self::new(409, "Conflict", crate::managed::conflict_message(conflicts));
        err.causes = conflicts
            .iter()
            .map(|c| Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with {}", c.manager),
                field: c.path.clone(),
            })
            .collect();
        err
    }

    /// 422 `Kind.group "name" is invalid: …`, with one cause per field error (`errors.NewInvalid`).
    pub fn invalid(info: &ResourceInfo, name: &str, errors: &[FieldError]) -> Self {
        let mut err = Self::new(
            422,
            "Invalid",
            invalid_message(info.group, info.kind, name, errors),
        );
        err.name = Some(name.to_string());
        err.group = Some(info.group.to_string());
        err.kind = Some(info.kind.to_string());
        err.causes = causes_of(errors);
        err
    }

    /// 422 for invalid request options (e.g. `ListOptions`), which have no name.
    pub fn invalid_options(kind: &str, group: &str, errors: &[FieldError]) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let message = match aggregate_message(errors) {
            Some(agg) => format!("{qualified} \"\" is invalid: {agg}"),
            None => format!("{qualified} \"\" is invalid"),
        };
        let mut err = Self::new(422, "Invalid", message);
        err.group = Some(group.to_string());
        err.kind = Some(kind.to_string());
        err.causes = causes_of(errors);
        err
    }

    /// 400 BadRequest with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 403 `pods "x" is forbidden: why`.
    pub fn forbidden(info: &ResourceInfo, name: &str, why: &str) -> Self {
        let message = if name.is_empty() {
            format!("{} is forbidden: {}", info.qualified_resource(), why)
        } else {
            format!(
                "{} \"{}\" is forbidden: {}",
                info.qualified_resource(),
                name,
                why
            )
        };
        Self::new(403, "Forbidden", message).with_resource(info, name)
    }

    /// 405 `<verb> is not supported on resources of kind "<resource>"`.
    pub fn method_not_supported(info: &ResourceInfo, verb: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "{} is not supported on resources of kind \"{}\"",
                verb,
                info.qualified_resource()
            ),
        )
        .with_resource(info, "")
    }

    /// 406 NotAcceptable.
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 410 Expired (an old resourceVersion or continue token).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(message: &str) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: {message}"),
        )
    }

    /// 415 UnsupportedMediaType for an unknown body format.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 429 TooManyRequests.
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: u32) -> Self {
        let mut err = Self::new(429, "TooManyRequests", message);
        err.retry_after_seconds = Some(retry_after_seconds);
        err
    }

    /// 500 InternalError.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let detail = detail.to_string();
        let mut err = Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {detail}"),
        );
        err.causes.push(Cause {
            reason: String::new(),
            message: detail,
            field: String::new(),
        });
        err
    }

    /// 504 for a resourceVersion newer than the server knows.
    pub fn resource_version_too_large(requested: i64, current: i64) -> Self {
        let mut err = Self::new(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
        );
        err.causes.push(Cause {
            reason: "ResourceVersionTooLarge".into(),
            message: "Too large resource version".into(),
            field: String::new(),
        });
        err.retry_after_seconds = Some(1);
        err
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let mut details = serde_json::Map::new();
        if let Some(name) = &self.name {
            details.insert("name".into(), json!(name));
        }
        if let Some(group) = &self.group
            && !group.is_empty()
        {
            details.insert("group".into(), json!(group));
        }
        if let Some(kind) = &self.kind {
            details.insert("kind".into(), json!(kind));
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut m = serde_json::Map::new();
                    if !c.reason.is_empty() {
                        m.insert("reason".into(), json!(c.reason));
                    }
                    m.insert("message".into(), json!(c.message));
                    if !c.field.is_empty() {
                        m.insert("field".into(), json!(c.field));
                    }
                    Value::Object(m)
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(secs) = self.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), json!(secs));
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

fn causes_of(errors: &[FieldError]) -> Vec<Cause> {
    errors
        .iter()
        .map(|e| Cause {
            reason: e.reason().to_string(),
            message: e.body(),
            field: e.field.clone(),
        })
        .collect()
}

/// A success `Status` (delete of resources that do not return the object, eviction, binding).
pub fn success_status(info: Option<&ResourceInfo>, name: &str, uid: Option<&str>) -> Value {
    let mut status =
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"});
    if let Some(info) = info {
        let mut details = json!({"name": name, "kind": info.resource});
        if !info.group.is_empty() {
            details["group"] = json!(info.group);
        }
        if let Some(uid) = uid {
            details["uid"] = json!(uid);
        }
        status["details"] = details;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lookup;

    #[test]
    fn messages_match_upstream_formats() {
        let pods = lookup("", "v1", "pods").expect("pods");
        let deploy = lookup("apps", "v1", "deployments").expect("deploy");
        assert_eq!(
            ApiError::not_found(pods, "x").message,
            "pods \"x\" not found"
        );
        assert_eq!(
            ApiError::not_found(deploy, "nginx").message,
            "deployments.apps \"nginx\" not found"
        );
        assert_eq!(
            ApiError::already_exists(pods, "x").message,
            "pods \"x\" already exists"
        );
        assert_eq!(
            ApiError::stale(deploy, "nginx").message,
            "Operation cannot be fulfilled on deployments.apps \"nginx\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let invalid = ApiError::invalid(
            deploy,
            "x",
            &[FieldError::invalid(
                "spec.replicas",
                -1,
                "must be greater than or equal to 0",
            )],
        );
        assert_eq!(
            invalid.message,
            "Deployment.apps \"x\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let status = invalid.to_status();
        assert_eq!(status["code"], 422);
        assert_eq!(status["details"]["kind"], "Deployment");
        assert_eq!(status["details"]["group"], "apps");
        assert_eq!(status["details"]["causes"][0]["field"], "spec.replicas");
    }
}
