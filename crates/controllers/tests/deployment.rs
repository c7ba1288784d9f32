//! In-process Deployment and ReplicaSet controller tests under virtual time: creation,
//! rolling update bounds observed from the watch stream, rollback, Recreate, scaling.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kubetwin_apiserver::local::resource_of;
use serde_json::{Value, json};

use common::{cluster, deployment};

fn condition<'a>(d: &'a Deployment, type_: &str) -> (&'a str, &'a str) {
    let c = d
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
        .expect("condition");
    (c.status.as_str(), c.reason.as_deref().unwrap_or(""))
}

fn rs_by_revision(client: &kubetwin_apiserver::local::LocalClient) -> BTreeMap<String, ReplicaSet> {
    client
        .list_typed::<ReplicaSet>(Some("default"), None)
        .expect("rs")
        .into_iter()
        .map(|rs| {
            let rev = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .cloned()
                .unwrap_or_default();
            (rev, rs)
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn deployment_rolls_out_updates_within_bounds_and_rolls_back() {
    let (client, time) = cluster(true).await;
    let info = resource_of::<Deployment>().expect("deployments");
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    client
        .create(
            info,
            Some("default"),
            deployment("web", 3, "nginx:1", strategy),
        )
        .await
        .expect("create");
    time.sleep(Duration::from_secs(30)).await;

    let d: Deployment = client.get_typed(Some("default"), "web").expect("get");
    let s = d.status.clone().expect("status");
    assert_eq!(
        (
            s.replicas,
            s.updated_replicas,
            s.ready_replicas,
            s.available_replicas
        ),
        (Some(3), Some(3), Some(3), Some(3))
    );
    assert_eq!(s.observed_generation, d.metadata.generation);
    assert_eq!(
        condition(&d, "Available"),
        ("True", "MinimumReplicasAvailable")
    );
    assert_eq!(
        condition(&d, "Progressing"),
        ("True", "NewReplicaSetAvailable")
    );
    assert_eq!(
        d.metadata.annotations.as_ref().expect("annotations")["deployment.kubernetes.io/revision"],
        "1"
    );
    let rss = rs_by_revision(&client);
    let first = rss.get("1").expect("revision 1").clone();
    let hash = first.metadata.labels.as_ref().expect("labels")["pod-template-hash"].clone();
    assert_eq!(
        first.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    let owner = &first.metadata.owner_references.as_ref().expect("owner")[0];
    assert_eq!(
        (
            owner.kind.as_str(),
            owner.controller,
            owner.block_owner_deletion
        ),
        ("Deployment", Some(true), Some(true))
    );
    let ann = first.metadata.annotations.as_ref().expect("annotations");
    assert_eq!(ann["deployment.kubernetes.io/desired-replicas"], "3");
    assert_eq!(ann["deployment.kubernetes.io/max-replicas"], "4");
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let name = p.metadata.name.as_deref().unwrap_or("");
        assert!(
            name.starts_with(&format!("web-{hash}-"))
                && name.len() == format!("web-{hash}-").len() + 5,
            "{name}"
        );
    }

    // Rolling update: watch pods and check the bounds at every event.
    let pod_info = resource_of::<Pod>().expect("pods");
    let rv = client
        .list(pod_info, Some("default"), None, None)
        .expect("list")
        .resource_version;
    let mut watch = client
        .watch(pod_info, Some("default"), rv, None, None)
        .expect("watch");
    client
        .merge_patch(info, Some("default"), "web", "", &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}}))
        .await
        .expect("patch image");
    let mut live: BTreeMap<String, Value> = pods
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap_or_default(),
                serde_json::to_value(p).expect("json"),
            )
        })
        .collect();
    let mut max_total = 0;
    let mut min_ready = usize::MAX;
    let checker = async {
        while let Some(e) = watch.recv().await {
            let name = e.object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if e.event_type == "DELETED" {
                live.remove(&name);
            } else {
                live.insert(name, Value::clone(&e.object));
            }
            let total = live
                .values()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .count();
            let ready = live
                .values()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .filter(|p| {
                    p["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
                })
                .count();
            max_total = max_total.max(total);
            min_ready = min_ready.min(ready);
        }
    };
    tokio::select! {
        biased;
        () = checker => {}
        () = time.sleep(Duration::from_secs(60)) => {}
    }
    assert!(max_total <= 4, "maxSurge 1 exceeded: {max_total} pods");
    assert!(
        min_ready >= 3,
        "maxUnavailable 0 violated: {min_ready} ready"
    );

    let d: Deployment = client.get_typed(Some("default"), "web").expect("get");
    let s = d.status.clone().expect("status");
    assert_eq!(
        (s.replicas, s.updated_replicas, s.available_replicas),
        (Some(3), Some(3), Some(3))
    );
    assert_eq!(
        condition(&d, "Progressing"),
        ("True", "NewReplicaSetAvailable")
    );
    let rss = rs_by_revision(&client);
    assert_eq!(rss.len(), 2);
    assert_eq!(rss["1"].spec.as_ref().and_then(|s| s.replicas), Some(0));
    assert_eq!(rss["2"].spec.as_ref().and_then(|s| s.replicas), Some(3));

    // `kubectl rollout undo`: the template goes back; the old ReplicaSet becomes revision 3.
    let old_template = serde_json::to_value(
        rss["1"]
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .expect("template"),
    )
    .expect("json");
    let mut template = old_template.clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .expect("labels")
        .remove("pod-template-hash");
    client
        .merge_patch(
            info,
            Some("default"),
            "web",
            "",
            &json!({"spec": {"template": template}}),
        )
        .await
        .expect("undo");
    time.sleep(Duration::from_secs(60)).await;
    let rss = rs_by_revision(&client);
    let back = rss.get("3").expect("revision 3");
    assert_eq!(back.metadata.name, first.metadata.name);
    assert_eq!(
        back.metadata.annotations.as_ref().expect("a")["deployment.kubernetes.io/revision-history"],
        "1"
    );
    assert_eq!(back.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let d: Deployment = client.get_typed(Some("default"), "web").expect("get");
    assert_eq!(
        d.metadata.annotations.as_ref().expect("a")["deployment.kubernetes.io/revision"],
        "3"
    );
}

#[tokio::test(start_paused = true)]
async fn recreate_scales_old_to_zero_before_new() {
    let (client, time) = cluster(true).await;
    let info = resource_of::<Deployment>().expect("deployments");
    client
        .create(
            info,
            Some("default"),
            deployment("db", 2, "pg:1", json!({"type": "Recreate"})),
        )
        .await
        .expect("create");
    time.sleep(Duration::from_secs(20)).await;
    client
        .merge_patch(info, Some("default"), "db", "", &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "pg:2"}]}}}}))
        .await
        .expect("patch");
    time.sleep(Duration::from_secs(30)).await;
    let rss = rs_by_revision(&client);
    assert_eq!(rss["1"].spec.as_ref().and_then(|s| s.replicas), Some(0));
    assert_eq!(rss["2"].spec.as_ref().and_then(|s| s.replicas), Some(2));
    let d: Deployment = client.get_typed(Some("default"), "db").expect("get");
    assert_eq!(
        d.status.as_ref().and_then(|s| s.available_replicas),
        Some(2)
    );
    assert_eq!(
        condition(&d, "Progressing"),
        ("True", "NewReplicaSetAvailable")
    );
}

#[tokio::test(start_paused = true)]
async fn scaling_and_revision_history_limit() {
    let (client, time) = cluster(true).await;
    let info = resource_of::<Deployment>().expect("deployments");
    let mut manifest = deployment("api", 2, "a:1", json!({"type": "RollingUpdate"}));
    manifest["spec"]["revisionHistoryLimit"] = json!(1);
    client
        .create(info, Some("default"), manifest)
        .await
        .expect("create");
    time.sleep(Duration::from_secs(20)).await;
    for image in ["a:2", "a:3"] {
        client
            .merge_patch(info, Some("default"), "api", "", &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}}))
            .await
            .expect("patch");
        time.sleep(Duration::from_secs(30)).await;
    }
    // Revision 1 was cleaned up: one old ReplicaSet is kept.
    let rss = rs_by_revision(&client);
    assert_eq!(rss.keys().cloned().collect::<Vec<_>>(), ["2", "3"]);
    // A scaling event: every active ReplicaSet goes to the new size.
    client
        .merge_patch(
            info,
            Some("default"),
            "api",
            "",
            &json!({"spec": {"replicas": 5}}),
        )
        .await
        .expect("scale");
    time.sleep(Duration::from_secs(20)).await;
    let rss = rs_by_revision(&client);
    assert_eq!(rss["3"].spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(
        rss["3"].metadata.annotations.as_ref().expect("a")["deployment.kubernetes.io/desired-replicas"],
        "5"
    );
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 5);
}

#[tokio::test(start_paused = true)]
async fn replica_set_adopts_orphans_and_scales_down() {
    let (client, time) = cluster(false).await;
    let pod_info = resource_of::<Pod>().expect("pods");
    client
        .create(pod_info, Some("default"), json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "orphan", "namespace": "default", "labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}))
        .await
        .expect("orphan");
    let info = resource_of::<ReplicaSet>().expect("rs");
    client
        .create(info, Some("default"), json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "x", "namespace": "default"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}))
        .await
        .expect("rs");
    time.sleep(Duration::from_secs(10)).await;
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 3);
    let orphan = pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("orphan"))
        .expect("orphan");
    assert_eq!(
        orphan.metadata.owner_references.as_ref().expect("adopted")[0].name,
        "x"
    );
    let rs: ReplicaSet = client.get_typed(Some("default"), "x").expect("rs");
    let status = rs.status.expect("status");
    assert_eq!(
        (
            status.replicas,
            status.fully_labeled_replicas,
            status.ready_replicas
        ),
        (3, Some(3), Some(0))
    );
    assert_eq!(status.observed_generation, rs.metadata.generation);
    client
        .merge_patch(
            info,
            Some("default"),
            "x",
            "",
            &json!({"spec": {"replicas": 1}}),
        )
        .await
        .expect("scale");
    time.sleep(Duration::from_secs(10)).await;
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 1);
    let events = client
        .list(
            kubetwin_apiserver::registry::lookup("", "v1", "events").expect("events"),
            Some("default"),
            None,
            None,
        )
        .expect("events")
        .items;
    assert!(events.iter().any(|e| e["reason"] == "SuccessfulCreate"
        && e["source"]["component"] == "replicaset-controller"));
    assert!(events.iter().any(|e| e["reason"] == "SuccessfulDelete"));
}
