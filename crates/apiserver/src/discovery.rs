//! Discovery documents: aggregated (`apidiscovery.k8s.io` v2 and v2beta1) and legacy
//! (`APIVersions`, `APIGroupList`, `APIGroup`, `APIResourceList`), all generated from the
//! resource registry, plus exact `Accept` negotiation between them.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/handler.go`,
//! `.../discovery/{legacy,group,version}.go`; clients decide by the response Content-Type
//! (`client-go/discovery/discovery_client.go` `ContentTypeIsGVK`).

use serde_json::{Value, json};

use crate::registry::{self, ResourceInfo};

/// Which discovery format to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryFormat {
    /// `apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`.
    AggregatedV2,
    /// `apidiscovery.k8s.io/v2beta1` `APIGroupDiscoveryList`.
    AggregatedV2Beta1,
    /// `APIVersions` / `APIGroupList`.
    Legacy,
}

impl DiscoveryFormat {
    /// The response Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::AggregatedV2 => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
            Self::AggregatedV2Beta1 => {
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            }
            Self::Legacy => "application/json",
        }
    }
}

/// One media range of an `Accept` header: type/subtype plus parameters (lower-cased keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    /// `application/json`, `*/*`, …
    pub essence: String,
    /// Parameters such as `g`, `v`, `as`.
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    /// The value of parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an `Accept` header into media ranges, in the order given (q-values are ignored,
/// as client-go never sends them). Parameter order does not matter.
pub fn parse_accept(header: Option<&str>) -> Vec<MediaRange> {
    let Some(header) = header else {
        return Vec::new();
    };
    header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let essence = pieces.next()?.trim().to_ascii_lowercase();
            if essence.is_empty() {
                return None;
            }
            let params = pieces
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_string(),
                    ))
                })
                .collect();
            Some(MediaRange { essence, params })
        })
        .collect()
}

/// Picks the discovery format from an `Accept` header: the first media range we can serve wins.
/// A missing header, `application/json`, `*/*` or anything unknown gets the legacy format.
pub fn negotiate(accept: Option<&str>) -> DiscoveryFormat {
    for range in parse_accept(accept) {
        if range.essence != "application/json" {
            continue;
        }
        if range.param("g") == Some("apidiscovery.k8s.io")
            && range.param("as") == Some("APIGroupDiscoveryList")
        {
            match range.param("v") {
                Some("v2") => return DiscoveryFormat::AggregatedV2,
                Some("v2beta1") => return DiscoveryFormat::AggregatedV2Beta1,
                _ => continue,
            }
        }
        if range.param("as").is_none() {
            return DiscoveryFormat::Legacy;
        }
    }
    DiscoveryFormat::Legacy
}

fn response_kind(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn aggregated_resource(r: &ResourceInfo) -> Value {
    let mut out = json!({
        "resource": r.resource,
        "responseKind": response_kind(r.group, r.version, r.kind),
        "scope": if r.namespaced() { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        out["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        out["categories"] = json!(r.categories);
    }
    if !r.subresources.is_empty() {
        out["subresources"] = r
            .subresources
            .iter()
            .map(|s| {
                json!({
                    "subresource": s.name,
                    "responseKind": response_kind(s.group, s.version, s.kind),
                    "verbs": s.verbs,
                })
            })
            .collect();
    }
    out
}

fn aggregated_group(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = registry::resources_of(group, version)
        .map(aggregated_resource)
        .collect();
    json!({
        "metadata": {"name": group, "creationTimestamp": null},
        "versions": [{"version": version, "resources": resources, "freshness": "Current"}],
    })
}

fn aggregated_list(format: DiscoveryFormat, items: Vec<Value>) -> Value {
    let api_version = match format {
        DiscoveryFormat::AggregatedV2Beta1 => "apidiscovery.k8s.io/v2beta1",
        _ => "apidiscovery.k8s.io/v2",
    };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items})
}

/// `GET /api` in `format`.
pub fn api_root(format: DiscoveryFormat, server_address: &str) -> Value {
    match format {
        DiscoveryFormat::Legacy => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }),
        aggregated => aggregated_list(aggregated, vec![aggregated_group("", "v1")]),
    }
}

fn group_version_entry(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

fn legacy_group(group: &str, version: &str) -> Value {
    json!({
        "name": group,
        "versions": [group_version_entry(group, version)],
        "preferredVersion": group_version_entry(group, version),
    })
}

/// `GET /apis` in `format`.
pub fn apis_root(format: DiscoveryFormat) -> Value {
    let groups = registry::groups();
    match format {
        DiscoveryFormat::Legacy => json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": groups.iter().map(|(g, v)| legacy_group(g, v)).collect::<Vec<_>>(),
        }),
        aggregated => aggregated_list(
            aggregated,
            groups.iter().map(|(g, v)| aggregated_group(g, v)).collect(),
        ),
    }
}

/// `GET /apis/<group>`, if the group is served.
pub fn api_group(group: &str) -> Option<Value> {
    let (g, v) = registry::groups().into_iter().find(|(g, _)| *g == group)?;
    let mut doc = legacy_group(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `GET /api/v1` or `GET /apis/<group>/<version>`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in registry::resources_of(group, version) {
        let mut entry = json!({
            "name": r.resource,
            "singularName": r.singular,
            "namespaced": r.namespaced(),
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        resources.push(entry);
        for s in r.subresources {
            let mut sub = json!({
                "name": format!("{}/{}", r.resource, s.name),
                "singularName": "",
                "namespaced": r.namespaced(),
                "kind": s.kind,
                "verbs": s.verbs,
            });
            if s.group != r.group || s.version != r.version {
                sub["group"] = json!(s.group);
                sub["version"] = json!(s.version);
            }
            resources.push(sub);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_is_exact() {
        // kubectl 1.30+ sends both; v2 comes first.
        let modern = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(Some(modern)), DiscoveryFormat::AggregatedV2);
        // kubectl 1.27–1.29 send only v2beta1: a v2 answer would make them see no resources.
        let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(Some(old)), DiscoveryFormat::AggregatedV2Beta1);
        // Parameter order does not matter.
        let shuffled = "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io";
        assert_eq!(negotiate(Some(shuffled)), DiscoveryFormat::AggregatedV2);
        assert_eq!(negotiate(None), DiscoveryFormat::Legacy);
        assert_eq!(negotiate(Some("application/json")), DiscoveryFormat::Legacy);
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf,application/json")),
            DiscoveryFormat::Legacy
        );
        assert_eq!(negotiate(Some("*/*")), DiscoveryFormat::Legacy);
    }

    #[test]
    fn legacy_v1_lists_eviction_in_policy() {
        let doc = resource_list("", "v1").expect("v1");
        let eviction = doc["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == "pods/eviction"))
            .expect("pods/eviction");
        assert_eq!(eviction["group"], "policy");
        assert_eq!(eviction["version"], "v1");
        assert_eq!(eviction["kind"], "Eviction");
    }

    #[test]
    fn aggregated_has_response_kinds_and_categories() {
        let doc = apis_root(DiscoveryFormat::AggregatedV2);
        let apps = doc["items"]
            .as_array()
            .and_then(|i| i.iter().find(|g| g["metadata"]["name"] == "apps"))
            .expect("apps");
        let deploy = &apps["versions"][0]["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["resource"] == "deployments").cloned())
            .expect("deployments");
        assert_eq!(deploy["responseKind"]["kind"], "Deployment");
        assert_eq!(deploy["categories"][0], "all");
        assert_eq!(apps["versions"][0]["freshness"], "Current");
    }
}
