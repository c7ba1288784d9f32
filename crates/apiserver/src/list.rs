//! List and watch options, selectors over stored objects, continue tokens, and the list verb.
//!
//! Upstream: `apimachinery/pkg/apis/meta/internalversion/validation/validation.go`
//! (`ValidateListOptions`), `apiserver/pkg/storage/continue.go` (token format),
//! `apiserver/pkg/storage/etcd3/store.go` (`GetList`: paging with predicates).

use base64::Engine;
use serde_json::{Value, json};

use kubetwin_core::fields::{FieldOp, FieldSelector};
use kubetwin_core::labels::Selector;

use kubetwin_core::validation::field::FieldError;

use crate::error::ApiError;
use crate::object;
use crate::registry::{ResourceInfo, selectable_field_value};
use crate::request::Query;
use crate::{ApiServer, convert, storage};

/// How a list or watch chooses its starting resourceVersion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RvMatch {
    /// `resourceVersionMatch` unset.
    Unset,
    /// `NotOlderThan`.
    NotOlderThan,
    /// `Exact`.
    Exact,
}

/// Parsed list/watch options.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// `labelSelector`.
    pub label_selector: Selector,
    /// `fieldSelector`.
    pub field_selector: FieldSelector,
    /// `limit` (0 = none).
    pub limit: usize,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `resourceVersion` as given ("" when absent).
    pub resource_version: String,
    /// `resourceVersionMatch`.
    pub rv_match: RvMatch,
    /// `timeoutSeconds` for watches.
    pub timeout_seconds: Option<u64>,
    /// `allowWatchBookmarks`.
    pub allow_bookmarks: bool,
    /// `sendInitialEvents`, when given.
    pub send_initial_events: Option<bool>,
}

fn list_options_invalid(error: FieldError) -> ApiError {
    ApiError::invalid_options("ListOptions", "meta.k8s.io", &[error])
}

impl ListOptions {
    /// Parses and validates the options of a list (`watch=false`) or watch request on `info`.
    pub fn parse(query: &Query, info: &ResourceInfo, watch: bool) -> Result<Self, ApiError> {
        let label_selector = match query.get("labelSelector") {
            Some(s) if !s.trim().is_empty() => Selector::parse(s)
                .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?,
            _ => Selector::everything(),
        };
        let field_selector = match query.get("fieldSelector") {
            Some(s) if !s.trim().is_empty() => {
                let sel =
                    FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?;
                for r in &sel.requirements {
                    if !info.field_selectable(&r.field) {
                        return Err(ApiError::bad_request(format!(
                            "field label not supported: {}",
                            r.field
                        )));
                    }
                }
                sel
            }
            _ => FieldSelector::default(),
        };
        let limit = match query.get("limit") {
            Some(l) if !l.is_empty() => l
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?
                .max(0) as usize,
            _ => 0,
        };
        let resource_version = query.get("resourceVersion").unwrap_or("").to_string();
        let rv_match = match query.get("resourceVersionMatch").unwrap_or("") {
            "" => RvMatch::Unset,
            "NotOlderThan" => RvMatch::NotOlderThan,
            "Exact" => RvMatch::Exact,
            other => {
                return Err(list_options_invalid(FieldError::not_supported(
                    "resourceVersionMatch",
                    other,
                    &["Exact", "NotOlderThan", ""],
                )));
            }
        };
        let send_initial_events = query
            .get("sendInitialEvents")
            .map(|v| matches!(v, "true" | "1" | "True" | "TRUE" | "t" | "T"));
        // ValidateListOptions: a match needs a version; Exact needs a non-zero one; streaming lists need NotOlderThan.
        if let Some(true) = send_initial_events {
            if !watch {
                return Err(list_options_invalid(FieldError::forbidden(
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for list",
                )));
            }
            if rv_match != RvMatch::NotOlderThan {
                return Err(list_options_invalid(FieldError::forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )));
            }
        } else if rv_match != RvMatch::Unset {
            if watch {
                return Err(list_options_invalid(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                )));
            }
            if resource_version.is_empty() {
                return Err(list_options_invalid(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                )));
            }
            if rv_match == RvMatch::Exact && resource_version == "0" {
                return Err(list_options_invalid(FieldError::forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                )));
            }
        }
        let continue_token = query
            .get("continue")
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if continue_token.is_some() && !resource_version.is_empty() && resource_version != "0" {
            return Err(list_options_invalid(FieldError::forbidden(
                "resourceVersion",
                "specifying resource version is not allowed when using continue",
            )));
        }
        let timeout_seconds = query
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok());
        Ok(Self {
            label_selector,
            field_selector,
            limit,
            continue_token,
            resource_version,
            rv_match,
            timeout_seconds,
            allow_bookmarks: query.flag("allowWatchBookmarks"),
            send_initial_events,
        })
    }

    /// Whether `obj` passes both selectors.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = object::labels(obj);
        self.label_selector.matches(&labels)
            && self
                .field_selector
                .matches(&|field: &str| Some(selectable_field_value(obj, field)))
    }

    /// Byte strings every stored object the field selector accepts contains: for each `=`
    /// term whose value can only be matched by a JSON string (not empty, not a number, a
    /// boolean, an object or an array, which the field's value would be printed as), the
    /// encoded `"<last path segment>":"<value>"`. A cheap necessary condition checked on the
    /// stored bytes before decoding (upstream serves such lists from the watch cache's
    /// indexes, e.g. pods by `spec.nodeName`).
    pub fn encoded_needles(&self) -> Vec<Vec<u8>> {
        self.field_selector
            .requirements
            .iter()
            .filter(|r| r.op == FieldOp::Equals && only_a_string_matches(&r.value))
            .filter_map(|r| {
                let key = r.field.rsplit('.').next()?;
                let key = serde_json::to_string(key).ok()?;
                let value = serde_json::to_string(&r.value).ok()?;
                Some(format!("{key}:{value}").into_bytes())
            })
            .collect()
    }

    /// The node a `spec.nodeName=NODE` field selector pins (a non-empty NODE), which the
    /// pods-by-node index answers.
    pub fn pinned_node_name(&self) -> Option<&str> {
        self.field_selector
            .requirements
            .iter()
            .find(|r| r.field == "spec.nodeName" && r.op == FieldOp::Equals && !r.value.is_empty())
            .map(|r| r.value.as_str())
    }

    /// Whether any selector is set (upstream then omits `remainingItemCount`).
    pub fn has_selectors(&self) -> bool {
        !self.label_selector.is_empty() || !self.field_selector.requirements.is_empty()
    }

    /// The `metadata.name` a field selector pins, if it does with `=`.
    pub fn pinned_name(&self) -> Option<&str> {
        self.field_selector
            .requirements
            .iter()
            .find(|r| r.field == "metadata.name" && r.op == FieldOp::Equals)
            .map(|r| r.value.as_str())
    }
}

/// Parses a resourceVersion query value.
pub fn parse_rv(rv: &str) -> Result<i64, ApiError> {
    rv.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {rv}")))
}

/// A decoded continue token: the revision the list is pinned at and the key to resume after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinueToken {
    /// The list's revision.
    pub revision: i64,
    /// The key (relative to the resource prefix) to start from, inclusive.
    pub start: String,
}

impl ContinueToken {
    /// Encodes as upstream does: base64url of `{"v":"meta.k8s.io/v1","rv":N,"start":"…"}`.
    pub fn encode(&self) -> String {
        let body = json!({"v": "meta.k8s.io/v1", "rv": self.revision, "start": self.start});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
    }

    /// Decodes a token; any malformed token is a 400.
    pub fn decode(token: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::bad_request(format!("continue key is not valid: {token}"));
        let trimmed = token.trim_end_matches('=');
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .map_err(|_| bad())?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if v["v"] != "meta.k8s.io/v1" {
            return Err(bad());
        }
        let revision = v["rv"].as_i64().filter(|r| *r > 0).ok_or_else(bad)?;
        let start = v["start"].as_str().ok_or_else(bad)?.to_string();
        if start.contains("..") || start.starts_with('/') {
            return Err(bad());
        }
        Ok(Self { revision, start })
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListResult {
    /// Matching objects, each with its resourceVersion set.
    pub items: Vec<Value>,
    /// The list's resourceVersion.
    pub revision: i64,
    /// The continue token, when more may follow.
    pub continue_token: Option<String>,
    /// `remainingItemCount`, when known.
    pub remaining: Option<i64>,
}

impl ApiServer {
    /// The list verb: objects of `info` (in `namespace`, or all namespaces) passing `opts`.
    pub fn list(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListResult, ApiError> {
        let prefix = info.key_prefix(namespace);
        let current = self.storage.revision();
        let (revision, start_key) = if let Some(token) = &opts.continue_token {
            let token = ContinueToken::decode(token)?;
            (
                Some(token.revision),
                Some(format!("{prefix}{}", token.start)),
            )
        } else {
            let rev = match (opts.resource_version.as_str(), opts.rv_match) {
                ("", _) | ("0", _) => None,
                (rv, RvMatch::Exact) => Some(parse_rv(rv)?),
                (rv, _) => {
                    let wanted = parse_rv(rv)?;
                    if wanted > current {
                        return Err(ApiError::resource_version_too_large(wanted, current));
                    }
                    None
                }
            };
            (rev, None)
        };
        let read_at = revision.unwrap_or(current);
        let keep = |obj: &Value| {
            if convert::converts(info) {
                opts.matches(&convert::to_view(info, obj.clone()))
            } else {
                opts.matches(obj)
            }
        };
        let indexed = match opts.pinned_node_name() {
            Some(node) if info.resource == "pods" => self.storage.list_pods_on_node(
                &prefix,
                start_key.as_deref(),
                read_at,
                opts.limit,
                node,
                &keep,
            ),
            _ => None,
        };
        let page = indexed
            .unwrap_or_else(|| {
                let needles = if convert::converts(info) {
                    Vec::new()
                } else {
                    opts.encoded_needles()
                };
                self.storage.list_page_prefiltered(
                    &prefix,
                    start_key.as_deref(),
                    read_at,
                    opts.limit,
                    &needles,
                    &keep,
                )
            })
            .map_err(|e| match e {
                storage::StorageError::Compacted { .. } if opts.continue_token.is_some() => ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                ),
                storage::StorageError::Compacted { compacted } => ApiError::expired(format!(
                    "too old resource version: {} ({})",
                    revision.unwrap_or(0),
                    compacted
                )),
                storage::StorageError::Future { requested, current } => ApiError::resource_version_too_large(requested, current),
                other => ApiError::internal(other),
            })?;
        let continue_token = page.next_key.map(|key| {
            ContinueToken {
                revision: read_at,
                start: key.strip_prefix(&prefix).unwrap_or(&key).to_string(),
            }
            .encode()
        });
        let mut items = if convert::converts(info) {
            page.items
                .into_iter()
                .map(|o| convert::to_view(info, o))
                .collect()
        } else {
            page.items
        };
        if info.resource == "leases" || info.resource == "nodes" {
            // Implicit node Lease renewals and node status reports show on every read
            // (`heartbeat`).
            self.heartbeats
                .materialize_all(&mut items, self.clock.now());
        }
        let remaining = if continue_token.is_some() && !opts.has_selectors() {
            Some(page.remaining)
        } else {
            None
        };
        Ok(ListResult {
            items,
            revision: read_at,
            continue_token,
            remaining,
        })
    }
}

/// The JSON list object for `result`.
pub fn list_object(info: &ResourceInfo, result: ListResult) -> Value {
    let mut metadata = json!({"resourceVersion": result.revision.to_string()});
    if let Some(c) = result.continue_token {
        metadata["continue"] = json!(c);
    }
    if let Some(r) = result.remaining {
        metadata["remainingItemCount"] = json!(r);
    }
    json!({
        "kind": format!("{}List", info.kind),
        "apiVersion": info.api_version(),
        "metadata": metadata,
        "items": result.items,
    })
}

/// Whether a selected field equals `value` only when it is a JSON string
/// ([`crate::registry::selectable_field_value`] prints other values: `3`, `true`, `{…}`).
fn only_a_string_matches(value: &str) -> bool {
    !value.is_empty()
        && value.parse::<f64>().is_err()
        && !matches!(value, "true" | "false" | "null")
        && !value.starts_with(['{', '[', '"'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_fields(selector: &str) -> ListOptions {
        ListOptions {
            label_selector: Selector::everything(),
            field_selector: FieldSelector::parse(selector).expect("selector"),
            limit: 0,
            continue_token: None,
            resource_version: String::new(),
            rv_match: RvMatch::Unset,
            timeout_seconds: None,
            allow_bookmarks: false,
            send_initial_events: None,
        }
    }

    /// Which field-selector terms give a byte string to look for before decoding, and that
    /// every object the selector accepts contains it.
    #[test]
    fn encoded_needles_are_necessary_conditions() {
        let cases: &[(&str, &[&str])] = &[
            ("spec.nodeName=n1", &[r#""nodeName":"n1""#]),
            (
                "spec.nodeName==n1,status.phase=Running",
                &[r#""nodeName":"n1""#, r#""phase":"Running""#],
            ),
            ("spec.nodeName!=n1", &[]),
            ("spec.nodeName=", &[]),
            ("spec.replicas=3", &[]),
            ("spec.unschedulable=true", &[]),
        ];
        for (selector, expected) in cases {
            let opts = with_fields(selector);
            let needles: Vec<String> = opts
                .encoded_needles()
                .into_iter()
                .map(|n| String::from_utf8(n).expect("utf-8"))
                .collect();
            assert_eq!(needles, *expected, "{selector}");
        }
        let pod = serde_json::json!({"metadata": {"name": "p"},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let encoded = serde_json::to_vec(&pod).expect("encode");
        let opts = with_fields("spec.nodeName=n1,status.phase=Running");
        assert!(opts.matches(&pod));
        for needle in opts.encoded_needles() {
            assert!(encoded.windows(needle.len()).any(|w| w == needle));
        }
    }

    #[test]
    fn continue_token_round_trips_in_upstream_format() {
        let token = ContinueToken {
            revision: 123,
            start: "default/nginx\u{0}".into(),
        };
        let encoded = token.encode();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&encoded)
            .expect("base64");
        let v: Value = serde_json::from_slice(&raw).expect("json");
        assert_eq!(v["v"], "meta.k8s.io/v1");
        assert_eq!(v["rv"], 123);
        assert_eq!(ContinueToken::decode(&encoded).expect("decodes"), token);
        assert!(ContinueToken::decode("not-a-token").is_err());
    }
}
