//! In-process tests under virtual time: EndpointSlices and Endpoints follow a Deployment's
//! pods (ready, not ready, gone), Services without selectors keep hand-made Endpoints.

mod common;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use serde_json::json;

use common::{cluster, deployment};

fn slices(client: &LocalClient) -> Vec<EndpointSlice> {
    client
        .list_typed::<EndpointSlice>(Some("default"), None)
        .expect("slices")
        .into_iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .map(String::as_str)
                == Some("web")
        })
        .collect()
}

fn ready_count(slices: &[EndpointSlice]) -> (usize, usize) {
    let all: Vec<_> = slices.iter().flat_map(|s| s.endpoints.iter()).collect();
    let ready = all
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
        .count();
    (ready, all.len())
}

async fn web_service(client: &LocalClient) {
    let info = resource_of::<Service>().expect("services");
    client
        .create(
            info,
            Some("default"),
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "default", "labels": {"tier": "front"}},
                "spec": {"selector": {"app": "web"},
                         "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
            }),
        )
        .await
        .expect("service");
}

#[tokio::test(start_paused = true)]
async fn slices_and_endpoints_follow_pod_readiness() {
    let (client, time) = cluster(true).await;
    web_service(&client).await;
    time.sleep(Duration::from_secs(5)).await;
    // No pods yet: one placeholder slice without endpoints.
    let s = slices(&client);
    assert_eq!(s.len(), 1);
    assert!(s[0].endpoints.is_empty());

    let deployments = resource_of::<Deployment>().expect("deployments");
    client
        .create(
            deployments,
            Some("default"),
            deployment("web", 3, "nginx", json!({"type": "RollingUpdate"})),
        )
        .await
        .expect("deployment");
    time.sleep(Duration::from_secs(20)).await;
    let s = slices(&client);
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(ready_count(&s), (3, 3));
    let slice = &s[0];
    let labels = slice.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("endpointslice.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("endpointslice-controller.k8s.io")
    );
    assert_eq!(labels.get("tier").map(String::as_str), Some("front"));
    assert_eq!(slice.address_type, "IPv4");
    let port = &slice.ports.as_deref().unwrap_or(&[])[0];
    assert_eq!(
        (port.name.as_deref(), port.port),
        (Some("http"), Some(8080))
    );
    let owner = &slice.metadata.owner_references.as_deref().unwrap_or(&[])[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Service", "web")
    );
    let ep = client
        .get_typed::<Endpoints>(Some("default"), "web")
        .expect("endpoints");
    let subsets = ep.subsets.clone().unwrap_or_default();
    assert_eq!(subsets.len(), 1);
    assert_eq!(subsets[0].addresses.as_ref().map_or(0, Vec::len), 3);

    // One pod loses readiness: not ready in the slice, a notReadyAddress in Endpoints.
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    let name = pods[0].metadata.name.clone().unwrap_or_default();
    let pod_info = resource_of::<Pod>().expect("pods");
    client
        .merge_patch(
            pod_info,
            Some("default"),
            &name,
            "status",
            &json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        )
        .await
        .expect("patch");
    time.sleep(Duration::from_secs(2)).await;
    assert_eq!(ready_count(&slices(&client)), (2, 3));
    let ep = client
        .get_typed::<Endpoints>(Some("default"), "web")
        .expect("endpoints");
    let subsets = ep.subsets.clone().unwrap_or_default();
    assert_eq!(subsets[0].addresses.as_ref().map_or(0, Vec::len), 2);
    assert_eq!(
        subsets[0].not_ready_addresses.as_ref().map_or(0, Vec::len),
        1
    );

    // The Service goes: its Endpoints are deleted, its slices collected.
    let services = resource_of::<Service>().expect("services");
    client
        .delete(services, Some("default"), "web", &DeleteOptions::default())
        .await
        .expect("delete");
    time.sleep(Duration::from_secs(10)).await;
    assert!(slices(&client).is_empty());
    assert!(
        client
            .get_typed::<Endpoints>(Some("default"), "web")
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn services_without_selector_keep_hand_made_endpoints() {
    let (client, time) = cluster(true).await;
    let services = resource_of::<Service>().expect("services");
    client
        .create(
            services,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "web", "namespace": "default"},
                   "spec": {"ports": [{"port": 80}]}}),
        )
        .await
        .expect("service");
    let endpoints = resource_of::<Endpoints>().expect("endpoints");
    client
        .create(
            endpoints,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": "web", "namespace": "default"},
                   "subsets": [{"addresses": [{"ip": "192.0.2.7"}], "ports": [{"port": 80}]}]}),
        )
        .await
        .expect("endpoints");
    time.sleep(Duration::from_secs(10)).await;
    let ep = client
        .get_typed::<Endpoints>(Some("default"), "web")
        .expect("endpoints");
    let subsets = ep.subsets.unwrap_or_default();
    assert_eq!(
        subsets[0].addresses.as_deref().unwrap_or(&[])[0].ip,
        "192.0.2.7"
    );
    assert!(slices(&client).is_empty());
}
