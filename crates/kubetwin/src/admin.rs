//! The twin's own admin endpoints, served beside the Kubernetes API under `/kubetwin/v1/` (a
//! path no Kubernetes client discovers):
//!
//! - `GET /kubetwin/v1/namespaces/{ns}/pods/{name}/explanation[?output=json|table]`: the
//!   scheduler's last decision about the pod, per node and per plugin (`kubetwin explain pod`).
//! - `GET /kubetwin/v1/nodes/{name}/kubelet`: the simulated kubelet's control state.
//! - `POST /kubetwin/v1/nodes/{name}/kubelet/{stop|start|disconnect|reconnect}`: operate the
//!   node's kubelet (`kubetwin kubelet stop NODE`): a stopped kubelet stops renewing its Lease
//!   and posting status, so the node lifecycle controller marks the node NotReady and evicts.
//!
//! Errors are Kubernetes `Status` objects, as kubectl users expect.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kubetwin_kubelet::KubeletHandle;
use kubetwin_scheduler_driver::Explanations;
use serde_json::{Value, json};

/// What the admin endpoints operate on.
#[derive(Debug, Clone, Default)]
pub struct AdminState {
    /// The scheduler's last decisions (absent when no scheduler runs).
    pub explanations: Option<Explanations>,
    /// The simulated kubelets by node name.
    pub kubelets: Arc<BTreeMap<String, KubeletHandle>>,
}

/// The admin routes, to merge with the API router.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route(
            "/kubetwin/v1/namespaces/{namespace}/pods/{name}/explanation",
            get(explanation),
        )
        .route("/kubetwin/v1/nodes/{name}/kubelet", get(kubelet_state))
        .route(
            "/kubetwin/v1/nodes/{name}/kubelet/{action}",
            post(kubelet_action),
        )
        .with_state(state)
}

fn status(code: StatusCode, reason: &str, message: String, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code.as_u16(),
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn explanation(
    State(state): State<AdminState>,
    Path((namespace, name)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(explanations) = &state.explanations else {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "no scheduler runs in this twin (serve --cluster none)".into(),
            json!({}),
        );
    };
    let Some(decision) = explanations.get(&namespace, &name) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "no scheduling decision is known for pod {namespace}/{name} (never scheduled by kubetwin's scheduler, deleted, or older than the last {} decisions or {} MiB of explanations)",
                kubetwin_scheduler_driver::explain::DEFAULT_CAPACITY,
                kubetwin_scheduler_driver::explain::DEFAULT_BYTE_BUDGET >> 20
            ),
            json!({"name": name, "kind": "pods"}),
        );
    };
    match query.get("output").map(String::as_str) {
        None | Some("table") => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            decision.to_table(),
        )
            .into_response(),
        Some("json") => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            decision.to_json(),
        )
            .into_response(),
        Some(other) => status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("output: Unsupported value: {other:?}: supported values: \"json\", \"table\""),
            json!({}),
        ),
    }
}

fn kubelet_json(name: &str, handle: &KubeletHandle) -> String {
    let s = handle.state();
    json!({
        "node": name,
        "stopped": s.stopped,
        "disconnected": s.disconnected,
    })
    .to_string()
}

fn unknown_node(name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("no simulated kubelet runs for node {name:?}"),
        json!({"name": name, "kind": "nodes"}),
    )
}

async fn kubelet_state(State(state): State<AdminState>, Path(name): Path<String>) -> Response {
    match state.kubelets.get(&name) {
        Some(h) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            kubelet_json(&name, h),
        )
            .into_response(),
        None => unknown_node(&name),
    }
}

async fn kubelet_action(
    State(state): State<AdminState>,
    Path((name, action)): Path<(String, String)>,
) -> Response {
    let Some(handle) = state.kubelets.get(&name) else {
        return unknown_node(&name);
    };
    match action.as_str() {
        "stop" => handle.stop(),
        "start" => handle.start(),
        "disconnect" => handle.disconnect(),
        "reconnect" => handle.reconnect(),
        other => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!(
                    "action: Unsupported value: {other:?}: supported values: \"stop\", \"start\", \"disconnect\", \"reconnect\""
                ),
                json!({}),
            );
        }
    }
    tracing::info!(node = %name, action = %action, "kubelet operated through the admin endpoint");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        kubelet_json(&name, handle),
    )
        .into_response()
}
