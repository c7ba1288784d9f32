//! Turns an HTTP method, path and query into a typed [`RequestInfo`]: verb, group, version,
//! resource, namespace, name, subresource and options. Handlers never look at raw paths.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`
//! (`RequestInfoFactory.NewRequestInfo`).

use std::collections::BTreeMap;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestInfo {
    /// Whether the path addresses a resource (`/api/v1/...` or `/apis/g/v/...` below the version).
    pub is_resource_request: bool,
    /// The raw path.
    pub path: String,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or the
    /// lower-cased HTTP method for non-resource requests.
    pub verb: String,
    /// `api` or `apis`.
    pub api_prefix: String,
    /// API group (`""` for core).
    pub api_group: String,
    /// API version.
    pub api_version: String,
    /// Namespace, when the path names one.
    pub namespace: String,
    /// Plural resource name.
    pub resource: String,
    /// Subresource, e.g. `status`.
    pub subresource: String,
    /// Object name.
    pub name: String,
    /// The remaining path parts below the resource (used for errors).
    pub parts: Vec<String>,
}

/// The query parameters of a request: last value wins, as Go's `url.Values.Get` takes the first —
/// we keep the first to match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(pub BTreeMap<String, String>);

impl Query {
    /// Parses a raw query string; tolerates `?&a=b`, empty keys and bad escapes.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut map = BTreeMap::new();
        if let Some(raw) = raw {
            for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
                if k.is_empty() {
                    continue;
                }
                map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
            }
        }
        Query(map)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether `key` is set to a true value (`true` or `1`, as `strconv.ParseBool` accepts others too).
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.get(key),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True")
        )
    }
}

// Upstream `namespaceSubResources`: paths under a namespace that address the namespace itself.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// Parses `method` + `path` (+ query for the watch flag) into a [`RequestInfo`].
pub fn parse_request(method: &str, path: &str, query: &Query) -> RequestInfo {
    let mut info = RequestInfo {
        path: path.to_string(),
        verb: method.to_ascii_lowercase(),
        ..Default::default()
    };
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let mut rest: &[&str] = &parts;

    // /api/v1/... or /apis/<group>/<version>/...
    match rest.first() {
        Some(&"api") => {
            if rest.len() < 2 {
                return info;
            }
            info.api_prefix = "api".into();
            info.api_version = rest[1].into();
            rest = &rest[2..];
        }
        Some(&"apis") => {
            if rest.len() < 3 {
                return info;
            }
            info.api_prefix = "apis".into();
            info.api_group = rest[1].into();
            info.api_version = rest[2].into();
            rest = &rest[3..];
        }
        _ => return info,
    }
    if rest.is_empty() {
        // A group-version discovery document, not a resource.
        return info;
    }
    info.is_resource_request = true;

    info.verb = match method {
        "POST" => "create",
        "GET" | "HEAD" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        other => {
            return RequestInfo {
                verb: other.to_ascii_lowercase(),
                ..info
            };
        }
    }
    .into();

    // The deprecated /watch/ path prefix.
    if rest[0] == "watch" {
        info.verb = "watch".into();
        rest = &rest[1..];
    }

    if rest.first() == Some(&"namespaces") && rest.len() > 1 {
        info.namespace = rest[1].into();
        // /namespaces/<ns>/<resource>... addresses a resource in the namespace; but
        // /namespaces/<ns> and /namespaces/<ns>/status|finalize address the namespace.
        if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
            rest = &rest[2..];
        }
    }

    info.parts = rest.iter().map(|s| s.to_string()).collect();
    if let Some(r) = rest.first() {
        info.resource = (*r).into();
    }
    if let Some(n) = rest.get(1) {
        info.name = (*n).into();
    }
    if let Some(s) = rest.get(2) {
        info.subresource = (*s).into();
    }
    if info.name.is_empty() && info.verb == "get" {
        info.verb = "list".into();
    }
    if info.name.is_empty() && info.verb == "delete" {
        info.verb = "deletecollection".into();
    }
    if (info.verb == "list" || info.verb == "get") && query.flag("watch") {
        info.verb = "watch".into();
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        upstream: &'static str,
        method: &'static str,
        path: &'static str,
        query: &'static str,
        verb: &'static str,
        prefix: &'static str,
        group: &'static str,
        version: &'static str,
        namespace: &'static str,
        resource: &'static str,
        subresource: &'static str,
        name: &'static str,
    }

    // Transcribed from requestinfo_test.go `TestGetAPIRequestInfo` (Kubernetes 1.34), in our format.
    const CASES: &[Case] = &[
        Case {
            upstream: "TestGetAPIRequestInfo/get pod",
            method: "GET",
            path: "/api/v1/namespaces/other/pods/foo",
            query: "",
            verb: "get",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "foo",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/list pods in ns",
            method: "GET",
            path: "/api/v1/namespaces/other/pods",
            query: "",
            verb: "list",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/list all pods",
            method: "GET",
            path: "/api/v1/pods",
            query: "",
            verb: "list",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/create",
            method: "POST",
            path: "/api/v1/namespaces/other/pods",
            query: "",
            verb: "create",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/update",
            method: "PUT",
            path: "/api/v1/namespaces/other/pods/foo",
            query: "",
            verb: "update",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "foo",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/patch",
            method: "PATCH",
            path: "/api/v1/namespaces/other/pods/foo",
            query: "",
            verb: "patch",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "foo",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/delete",
            method: "DELETE",
            path: "/api/v1/namespaces/other/pods/foo",
            query: "",
            verb: "delete",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "foo",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/deletecollection",
            method: "DELETE",
            path: "/api/v1/namespaces/other/pods",
            query: "",
            verb: "deletecollection",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/watch path",
            method: "GET",
            path: "/api/v1/watch/namespaces/other/pods",
            query: "",
            verb: "watch",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/watch param",
            method: "GET",
            path: "/api/v1/namespaces/other/pods",
            query: "watch=true",
            verb: "watch",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/watch=1",
            method: "GET",
            path: "/api/v1/pods",
            query: "watch=1",
            verb: "watch",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/watch=false is a list",
            method: "GET",
            path: "/api/v1/pods",
            query: "watch=false",
            verb: "list",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "",
            resource: "pods",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/subresource",
            method: "GET",
            path: "/api/v1/namespaces/other/pods/foo/status",
            query: "",
            verb: "get",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "pods",
            subresource: "status",
            name: "foo",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/group",
            method: "GET",
            path: "/apis/extensions/v1beta1/namespaces/other/deployments/foo",
            query: "",
            verb: "get",
            prefix: "apis",
            group: "extensions",
            version: "v1beta1",
            namespace: "other",
            resource: "deployments",
            subresource: "",
            name: "foo",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/namespace itself",
            method: "GET",
            path: "/api/v1/namespaces/other",
            query: "",
            verb: "get",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "namespaces",
            subresource: "",
            name: "other",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/namespace status",
            method: "PUT",
            path: "/api/v1/namespaces/other/status",
            query: "",
            verb: "update",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "namespaces",
            subresource: "status",
            name: "other",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/namespace finalize",
            method: "PUT",
            path: "/api/v1/namespaces/other/finalize",
            query: "",
            verb: "update",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "other",
            resource: "namespaces",
            subresource: "finalize",
            name: "other",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/list namespaces",
            method: "GET",
            path: "/api/v1/namespaces",
            query: "",
            verb: "list",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "",
            resource: "namespaces",
            subresource: "",
            name: "",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/cluster scoped",
            method: "GET",
            path: "/api/v1/nodes/n1",
            query: "",
            verb: "get",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "",
            resource: "nodes",
            subresource: "",
            name: "n1",
        },
        Case {
            upstream: "TestGetAPIRequestInfo/eviction",
            method: "POST",
            path: "/api/v1/namespaces/default/pods/p/eviction",
            query: "",
            verb: "create",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "default",
            resource: "pods",
            subresource: "eviction",
            name: "p",
        },
        Case {
            upstream: "kube-rs leading ampersand",
            method: "GET",
            path: "/api/v1/namespaces/default/pods",
            query: "&watch=true&timeoutSeconds=290",
            verb: "watch",
            prefix: "api",
            group: "",
            version: "v1",
            namespace: "default",
            resource: "pods",
            subresource: "",
            name: "",
        },
    ];

    #[test]
    fn parses_upstream_cases() {
        for c in CASES {
            let info = parse_request(c.method, c.path, &Query::parse(Some(c.query)));
            assert!(info.is_resource_request, "{}", c.upstream);
            assert_eq!(
                (
                    info.verb.as_str(),
                    info.api_prefix.as_str(),
                    info.api_group.as_str(),
                    info.api_version.as_str(),
                    info.namespace.as_str(),
                    info.resource.as_str(),
                    info.subresource.as_str(),
                    info.name.as_str()
                ),
                (
                    c.verb,
                    c.prefix,
                    c.group,
                    c.version,
                    c.namespace,
                    c.resource,
                    c.subresource,
                    c.name
                ),
                "{}",
                c.upstream
            );
        }
    }

    #[test]
    fn non_resource_requests() {
        // Upstream: TestGetNonAPIRequestInfo.
        for path in [
            "/",
            "/api",
            "/apis",
            "/apis/apps",
            "/apis/apps/v1",
            "/api/v1",
            "/version",
            "/healthz",
            "/openapi/v3",
        ] {
            let info = parse_request("GET", path, &Query::default());
            assert!(!info.is_resource_request, "{path}");
        }
    }

    #[test]
    fn query_keeps_first_value_and_decodes() {
        let q = Query::parse(Some("&labelSelector=app%3Dweb&limit=500&limit=1"));
        assert_eq!(q.get("labelSelector"), Some("app=web"));
        assert_eq!(q.get("limit"), Some("500"));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn never_panics(method in "(GET|POST|PUT|PATCH|DELETE|OPTIONS)", path in "(/[a-z0-9.%-]{0,12}){0,9}/?", query in ".{0,40}") {
                let q = Query::parse(Some(&query));
                let info = parse_request(&method, &path, &q);
                if info.is_resource_request {
                    prop_assert!(!info.resource.is_empty());
                }
            }
        }
    }
}
