//! The axum glue: one fallback handler that parses every request into a
//! [`RequestInfo`](crate::request::RequestInfo), dispatches to [`ApiServer`] verbs, and encodes
//! the answer (JSON object, `Table`, `PartialObjectMetadata`, watch stream, or `Status`).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use serde_json::{Value, json};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::discovery::{self, parse_accept};
use crate::error::{ApiError, success_status};
use crate::list::{ListOptions, list_object};
use crate::registry::{self, ResourceInfo};
use crate::request::{Query, RequestInfo, parse_request};
use crate::watch::SharedObject;
use crate::write::{DeleteOptions, WriteOptions, parse_body};
use crate::{ApiServer, object, openapi};

/// The router serving the whole API.
pub fn router(server: Arc<ApiServer>) -> Router {
    Router::new().fallback(handle).with_state(server)
}

/// What representation the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Representation {
    Object,
    Table,
    PartialMetadata,
}

fn representation(headers: &HeaderMap) -> Representation {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    for range in parse_accept(accept) {
        if range.essence != "application/json" {
            continue;
        }
        match (range.param("as"), range.param("g")) {
            (Some("Table"), Some("meta.k8s.io")) => return Representation::Table,
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Representation::PartialMetadata;
            }
            (None, _) => return Representation::Object,
            _ => {}
        }
    }
    Representation::Object
}

fn json_response(code: StatusCode, value: &Value, warnings: &[String]) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

fn error_response(err: &ApiError) -> Response {
    let code = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(code, &err.to_status(), &[]);
    if let Some(secs) = err.retry_after_seconds
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn text_response(code: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn handle(
    State(server): State<Arc<ApiServer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = server.config.max_body_bytes;
    let body = match read_body(body, limit).await {
        Some(b) => b,
        None => return error_response(&ApiError::too_large(&format!("limit is {limit}"))),
    };
    let query = Query::parse(uri.query());
    tracing::debug!(%method, %uri, content_type = ?headers.get(header::CONTENT_TYPE), accept = ?headers.get(header::ACCEPT), "request");
    let info = parse_request(method.as_str(), uri.path(), &query);
    let result = if info.is_resource_request {
        resource_request(&server, &info, &query, &headers, body).await
    } else {
        non_resource_request(&server, &method, uri.path(), &headers)
    };
    result.unwrap_or_else(|e| error_response(&e))
}

fn non_resource_request(
    server: &ApiServer,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::path_not_found());
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let discovery_response = |value: Value, format: discovery::DiscoveryFormat| {
        let mut r = json_response(StatusCode::OK, &value, &[]);
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
        r
    };
    match parts.as_slice() {
        ["version"] => Ok(json_response(
            StatusCode::OK,
            &version_info(server.config.minor),
            &[],
        )),
        ["healthz"] | ["livez"] | ["readyz"] => Ok(text_response(StatusCode::OK, "ok".into())),
        [probe, _] if matches!(*probe, "healthz" | "livez" | "readyz") => {
            Ok(text_response(StatusCode::OK, "ok".into()))
        }
        ["api"] => {
            let format = discovery::negotiate(accept);
            Ok(discovery_response(
                discovery::api_root(format, &server.config.server_address),
                format,
            ))
        }
        ["apis"] => {
            let format = discovery::negotiate(accept);
            Ok(discovery_response(discovery::apis_root(format), format))
        }
        ["apis", group] => discovery::api_group(group)
            .map(|v| json_response(StatusCode::OK, &v, &[]))
            .ok_or_else(ApiError::path_not_found),
        ["api", version] => discovery::resource_list("", version)
            .map(|v| json_response(StatusCode::OK, &v, &[]))
            .ok_or_else(ApiError::path_not_found),
        ["apis", group, version] => discovery::resource_list(group, version)
            .map(|v| json_response(StatusCode::OK, &v, &[]))
            .ok_or_else(ApiError::path_not_found),
        ["openapi", "v3"] => Ok(json_response(StatusCode::OK, &openapi::index(), &[])),
        ["openapi", "v3", "api", version] => openapi_doc("", version),
        ["openapi", "v3", "apis", group, version] => openapi_doc(group, version),
        _ => Err(ApiError::path_not_found()),
    }
}

fn openapi_doc(group: &str, version: &str) -> Result<Response, ApiError> {
    let doc = openapi::document(group, version).ok_or_else(ApiError::path_not_found)?;
    let mut response = Response::new(Body::from(Bytes::from_static(doc)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Reads a request body of at most `limit` bytes. A larger body is still read (up to twice the
/// limit) before the 413 goes out, so that a client still writing it sees the error rather than a
/// broken pipe (upstream reads limit + 1 bytes; Go's server then drains some more).
async fn read_body(body: Body, limit: usize) -> Option<Bytes> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return None };
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > limit.saturating_mul(2) {
                return None;
            }
        }
    }
    (seen <= limit).then(|| buf.freeze())
}

/// `/version`: what `kubectl version`, the kubectl dispatcher and kube-rs read.
pub fn version_info(minor: u32) -> Value {
    json!({
        "major": "1",
        "minor": minor.to_string(),
        "emulationMajor": "1",
        "emulationMinor": minor.to_string(),
        "gitVersion": format!("v1.{minor}.0-kubetwin"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn write_options(query: &Query, headers: &HeaderMap) -> Result<WriteOptions, ApiError> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    Ok(WriteOptions::parse(query)?.with_user_agent(user_agent))
}

/// 201 for a write that created the object, 200 otherwise.
fn written(out: &crate::write::WriteOutcome) -> Response {
    let code = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    json_response(code, &out.object, &out.warnings)
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string()
}

async fn resource_request(
    server: &Arc<ApiServer>,
    info: &RequestInfo,
    query: &Query,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let res = registry::lookup(&info.api_group, &info.api_version, &info.resource)
        .ok_or_else(ApiError::path_not_found)?;
    // A cluster-scoped resource under /namespaces/<ns>/ does not exist; a namespace-scoped one
    // named without a namespace is only listable or watchable across namespaces.
    let namespace: Option<&str> = if res.namespaced() {
        if info.namespace.is_empty() {
            let cross_namespace = matches!(info.verb.as_str(), "list" | "watch");
            let binding = info.verb == "create" && res.resource == "bindings";
            if !(cross_namespace || binding) {
                return Err(ApiError::path_not_found());
            }
            None
        } else {
            Some(info.namespace.as_str())
        }
    } else {
        if !info.namespace.is_empty() && res.resource != "namespaces" {
            return Err(ApiError::path_not_found());
        }
        None
    };
    if info.parts.len() > 3 {
        return Err(ApiError::path_not_found());
    }
    let repr = representation(headers);
    if !info.subresource.is_empty() {
        return subresource_request(server, res, namespace, info, query, headers, &body).await;
    }
    if !res.allows(&info.verb) {
        return Err(ApiError::method_not_supported(res, &info.verb));
    }
    let now = server.clock.now();
    match info.verb.as_str() {
        "get" => {
            let mut obj = server.get(res, namespace, &info.name)?;
            server.heartbeats.materialize(&mut obj, now);
            Ok(match repr {
                Representation::Table => json_response(
                    StatusCode::OK,
                    &table(res, &[obj], None, None, query, now),
                    &[],
                ),
                Representation::PartialMetadata => {
                    json_response(StatusCode::OK, &object::partial_object_metadata(&obj), &[])
                }
                Representation::Object => json_response(StatusCode::OK, &obj, &[]),
            })
        }
        "list" => {
            let opts = ListOptions::parse(query, res, false)?;
            let result = server.list(res, namespace, &opts)?;
            Ok(match repr {
                Representation::Table => {
                    let rv = result.revision;
                    let value = table(
                        res,
                        &result.items,
                        Some(rv),
                        result.continue_token.clone(),
                        query,
                        now,
                    );
                    json_response(StatusCode::OK, &value, &[])
                }
                Representation::PartialMetadata => {
                    let mut list = list_object(res, result);
                    if let Some(items) = list["items"].as_array_mut() {
                        for item in items.iter_mut() {
                            *item = object::partial_object_metadata(item);
                        }
                    }
                    list["kind"] = json!("PartialObjectMetadataList");
                    list["apiVersion"] = json!("meta.k8s.io/v1");
                    json_response(StatusCode::OK, &list, &[])
                }
                Representation::Object => {
                    json_response(StatusCode::OK, &list_object(res, result), &[])
                }
            })
        }
        "watch" => {
            let opts = ListOptions::parse(query, res, true)?;
            let include = query
                .get("includeObject")
                .unwrap_or("PartialObjectMetadata")
                .to_string();
            let render: crate::watch::Render = match repr {
                Representation::Table => Box::new(move |obj: &Value, first: bool| {
                    let mut t = table_rows(res, std::slice::from_ref(obj), &include, now);
                    if !first {
                        t.as_object_mut().map(|m| m.remove("columnDefinitions"));
                    }
                    t
                }),
                Representation::PartialMetadata => {
                    Box::new(|obj: &Value, _| object::partial_object_metadata(obj))
                }
                Representation::Object => Box::new(|obj: &Value, _| obj.clone()),
            };
            // A Lease (Node) watch from outside makes node Lease renewals (node status
            // reports) explicit while it is open (`heartbeat`): the guard lives as long as the
            // response stream.
            let observer = match res.resource {
                "leases" if namespace.is_none_or(|ns| ns == crate::heartbeat::LEASE_NAMESPACE) => {
                    Some(server.heartbeats.observe())
                }
                "nodes" => Some(server.heartbeats.observe_nodes()),
                _ => None,
            };
            let rx = server.watch(res, namespace, opts)?;
            let mut render = render;
            let mut first = true;
            let stream = ReceiverStream::new(rx).map(move |event| {
                let _observing = &observer;
                Ok::<Bytes, std::convert::Infallible>(event.encode(&mut render, &mut first))
            });
            let mut response = Response::new(Body::from_stream(stream));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        "create" => {
            let opts = write_options(query, headers)?;
            let obj = parse_body(&body, &content_type(headers))?;
            if res.resource == "bindings" {
                let name = object::name(&obj).to_string();
                server.bind(namespace.unwrap_or(""), &name, &obj).await?;
                return Ok(json_response(
                    StatusCode::CREATED,
                    &success_status(None, "", None),
                    &[],
                ));
            }
            let out = server.create(res, namespace, obj, &opts).await?;
            Ok(written(&out))
        }
        "update" => {
            let opts = write_options(query, headers)?;
            let obj = parse_body(&body, &content_type(headers))?;
            let out = server
                .update(res, namespace, &info.name, "", obj, &opts)
                .await?;
            Ok(written(&out))
        }
        "patch" => {
            let opts = write_options(query, headers)?;
            let out = server
                .patch(
                    res,
                    namespace,
                    &info.name,
                    "",
                    &content_type(headers),
                    &body,
                    &opts,
                )
                .await?;
            Ok(written(&out))
        }
        "delete" => {
            let opts = DeleteOptions::parse(&body, query)?;
            let out = server.delete(res, namespace, &info.name, &opts).await?;
            if out.deleted && res.resource == "leases" {
                server.heartbeats.lease_deleted(namespace, &info.name);
            }
            if out.deleted && !res.delete_returns_object {
                let uid = object::meta_str(&out.object, "uid").to_string();
                return Ok(json_response(
                    StatusCode::OK,
                    &success_status(Some(res), &info.name, Some(&uid)),
                    &[],
                ));
            }
            Ok(json_response(StatusCode::OK, &out.object, &[]))
        }
        "deletecollection" => {
            let opts = DeleteOptions::parse(&body, query)?;
            let list_opts = ListOptions::parse(query, res, false)?;
            let listed = server.list(
                res,
                namespace,
                &ListOptions {
                    limit: 0,
                    continue_token: None,
                    ..list_opts
                },
            )?;
            let mut items = Vec::new();
            for item in &listed.items {
                let ns = object::namespace(item).to_string();
                let ns = if res.namespaced() {
                    Some(ns.as_str())
                } else {
                    None
                };
                match server.delete(res, ns, object::name(item), &opts).await {
                    Ok(out) => {
                        if out.deleted && res.resource == "leases" {
                            server.heartbeats.lease_deleted(ns, object::name(item));
                        }
                        items.push(SharedObject::into_value(out.object))
                    }
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            let rv = server.storage.revision();
            let list = list_object(
                res,
                crate::list::ListResult {
                    items,
                    revision: rv,
                    continue_token: None,
                    remaining: None,
                },
            );
            Ok(json_response(StatusCode::OK, &list, &[]))
        }
        other => Err(ApiError::method_not_supported(res, other)),
    }
}

async fn subresource_request(
    server: &Arc<ApiServer>,
    res: &'static ResourceInfo,
    namespace: Option<&str>,
    info: &RequestInfo,
    query: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let sub = res
        .subresource(&info.subresource)
        .ok_or_else(ApiError::path_not_found)?;
    if !sub.verbs.contains(&info.verb.as_str()) {
        return Err(ApiError::method_not_supported(res, &info.verb));
    }
    let name = info.name.as_str();
    let ct = content_type(headers);
    match (sub.name, info.verb.as_str()) {
        ("status", "get") => Ok(json_response(
            StatusCode::OK,
            &server.get(res, namespace, name)?,
            &[],
        )),
        ("status", "update") | ("finalize", "update") => {
            let opts = write_options(query, headers)?;
            let obj = parse_body(body, &ct)?;
            if sub.name == "finalize" {
                let finalizers = obj["spec"]["finalizers"].clone();
                let mutate = move |current: &Value| -> Result<Value, ApiError> {
                    let mut next = current.clone();
                    next["spec"]["finalizers"] = finalizers.clone();
                    Ok(next)
                };
                let out = server
                    .update_with(res, namespace, name, "", &opts, &mutate)
                    .await?;
                return Ok(written(&out));
            }
            let out = server
                .update(res, namespace, name, "status", obj, &opts)
                .await?;
            Ok(written(&out))
        }
        ("status", "patch") => {
            let opts = write_options(query, headers)?;
            let out = server
                .patch(res, namespace, name, "status", &ct, body, &opts)
                .await?;
            Ok(written(&out))
        }
        ("scale", "get") => Ok(json_response(
            StatusCode::OK,
            &server.get_scale(res, namespace, name)?,
            &[],
        )),
        ("scale", "update") => {
            let opts = write_options(query, headers)?;
            let desired = parse_body(body, &ct)?;
            let f = move |_: &Value| Ok(desired.clone());
            Ok(json_response(
                StatusCode::OK,
                &server.write_scale(res, namespace, name, &opts, &f).await?,
                &[],
            ))
        }
        ("scale", "patch") => {
            let opts = write_options(query, headers)?;
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let patch = parse_body(body, &essence)?;
            let f = move |scale: &Value| -> Result<Value, ApiError> {
                let r = match essence.as_str() {
                    "application/json-patch+json" => kubetwin_patch::json_patch(scale, &patch),
                    "application/merge-patch+json" => kubetwin_patch::merge_patch(scale, &patch),
                    "application/strategic-merge-patch+json" | "application/apply-patch+yaml" => {
                        kubetwin_patch::strategic_merge_patch(scale, &patch, None)
                    }
                    _ => {
                        return Err(ApiError::unsupported_media_type(&[
                            "application/merge-patch+json",
                        ]));
                    }
                };
                r.map_err(|e| crate::write::patch_error(res, name, &e))
            };
            Ok(json_response(
                StatusCode::OK,
                &server.write_scale(res, namespace, name, &opts, &f).await?,
                &[],
            ))
        }
        ("binding", "create") => {
            let binding = parse_body(body, &ct)?;
            server.bind(namespace.unwrap_or(""), name, &binding).await?;
            Ok(json_response(
                StatusCode::CREATED,
                &success_status(None, "", None),
                &[],
            ))
        }
        ("eviction", "create") => {
            let eviction = parse_body(body, &ct)?;
            server
                .evict(namespace.unwrap_or(""), name, &eviction)
                .await?;
            Ok(json_response(
                StatusCode::CREATED,
                &success_status(None, "", None),
                &[],
            ))
        }
        ("log", "get") => {
            let text = server.pod_log(namespace.unwrap_or(""), name, query.get("container"))?;
            Ok(text_response(StatusCode::OK, text))
        }
        _ => Err(ApiError::method_not_supported(res, &info.verb)),
    }
}

fn table_rows(res: &ResourceInfo, items: &[Value], include: &str, now: jiff::Timestamp) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            // A row that cannot be printed (e.g. a malformed owner reference) keeps its name only.
            let mut row = kubetwin_table::table_row(res.group, res.resource, obj, now)
                .unwrap_or_else(|_| json!({"cells": [object::name(obj)]}));
            match include {
                "None" => {}
                "Object" => row["object"] = obj.clone(),
                _ => row["object"] = object::partial_object_metadata(obj),
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": kubetwin_table::column_definitions_json(res.group, res.resource),
        "rows": rows,
    })
}

fn table(
    res: &ResourceInfo,
    items: &[Value],
    rv: Option<i64>,
    cont: Option<String>,
    query: &Query,
    now: jiff::Timestamp,
) -> Value {
    let include = query
        .get("includeObject")
        .unwrap_or("PartialObjectMetadata");
    let mut t = table_rows(res, items, include, now);
    if let Some(rv) = rv {
        t["metadata"]["resourceVersion"] = json!(rv.to_string());
    }
    if let Some(c) = cont {
        t["metadata"]["continue"] = json!(c);
    }
    t
}
