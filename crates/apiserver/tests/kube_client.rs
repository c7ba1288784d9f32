//! In-process client tests: kube-rs (the Rust client most controllers use) against the API
//! server's router, with no sockets. Covers issue 2's "create/get/list/watch (plain and
//! streaming-list), patch, conflicts" and the bad-input `Status` bodies.
//!
//! Expected codes, reasons and messages follow upstream:
//! `staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go` (Status constructors),
//! `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/{create,update,patch,rest}.go`
//! (decoding errors, body limits, content types),
//! `staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go` (410 on too-old watches) and
//! `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go` (continue tokens).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::runtime::watcher;
use serde_json::{Value, json};
use support::{TestServer, api_error, assert_status, start};

/// Safety net for streams: a hang fails the test instead of blocking the suite. Not a
/// timing assertion.
const STREAM_WAIT: Duration = Duration::from_secs(30);

fn config_map(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: (!labels.is_empty()).then(|| {
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    }
}

fn deployment(name: &str, image: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]}
            }
        }
    }))
    .expect("deployment")
}

fn config_maps(t: &TestServer) -> Api<ConfigMap> {
    Api::namespaced(t.client.clone(), "default")
}

fn rv_of(meta: &ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_else(|| panic!("resourceVersion is a decimal revision: {meta:?}"))
}

async fn next_within<S: Stream + Unpin>(stream: &mut S, what: &str) -> S::Item {
    tokio::time::timeout(STREAM_WAIT, stream.next())
        .await
        .unwrap_or_else(|_| panic!("no {what} within the safety timeout"))
        .unwrap_or_else(|| panic!("stream ended before {what}"))
}

fn data_of(cm: &ConfigMap) -> Value {
    serde_json::to_value(cm.data.clone().unwrap_or_default()).expect("data")
}

// ---------------------------------------------------------------------------------------
// create / get / list

#[tokio::test]
async fn create_get_list_round_trip() {
    let t = start().await;
    let api = config_maps(&t);
    let created = api
        .create(
            &PostParams::default(),
            &config_map("first", &[("app", "demo")], &[("k", "v")]),
        )
        .await
        .expect("create");
    let meta = &created.metadata;
    assert_eq!(meta.name.as_deref(), Some("first"));
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert!(
        meta.uid.as_deref().is_some_and(|uid| uid.len() == 36),
        "{meta:?}"
    );
    assert!(meta.creation_timestamp.is_some(), "{meta:?}");
    assert!(rv_of(meta) > 0);

    let fetched = api.get("first").await.expect("get");
    assert_eq!(fetched.metadata.uid, meta.uid);
    assert_eq!(fetched.metadata.resource_version, meta.resource_version);
    assert_eq!(data_of(&fetched), json!({"k": "v"}));

    let list = api.list(&ListParams::default()).await.expect("list");
    assert!(
        list.metadata
            .resource_version
            .as_deref()
            .is_some_and(|rv| rv.parse::<u64>().is_ok_and(|rv| rv >= rv_of(meta))),
        "a list carries its snapshot revision: {:?}",
        list.metadata
    );
    assert_eq!(
        list.items
            .iter()
            .filter_map(|cm| cm.metadata.name.clone())
            .collect::<Vec<_>>(),
        ["first"]
    );

    // Cluster-scoped: the bootstrapped namespaces.
    let namespaces: Api<Namespace> = Api::all(t.client.clone());
    let names: BTreeSet<String> = namespaces
        .list(&ListParams::default())
        .await
        .expect("list namespaces")
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .collect();
    for expected in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(names.contains(expected), "{names:?}");
    }
}

#[tokio::test]
async fn create_with_generate_name() {
    let t = start().await;
    let api = config_maps(&t);
    let mut template = config_map("", &[], &[("k", "v")]);
    template.metadata.name = None;
    template.metadata.generate_name = Some("gen-".into());
    let first = api
        .create(&PostParams::default(), &template)
        .await
        .expect("create");
    let second = api
        .create(&PostParams::default(), &template)
        .await
        .expect("create");
    for created in [&first, &second] {
        let name = created.metadata.name.clone().unwrap_or_default();
        // Upstream: staging/src/k8s.io/apiserver/pkg/storage/names/generate.go (5 random
        // characters from apimachinery/pkg/util/rand's alphabet).
        let suffix = name
            .strip_prefix("gen-")
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(suffix.len(), 5, "{name}");
        assert!(
            suffix
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
            "{name}"
        );
    }
    assert_ne!(first.metadata.name, second.metadata.name);
}

#[tokio::test]
async fn already_exists_is_409_with_details() {
    let t = start().await;
    let api = config_maps(&t);
    let cm = config_map("dup", &[], &[("k", "v")]);
    api.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let status = api_error(api.create(&PostParams::default(), &cm).await);
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "AlreadyExists");
    assert_eq!(status.message, r#"configmaps "dup" already exists"#);
    let details = status.details.expect("details");
    assert_eq!(details.name, "dup");
    assert_eq!(details.kind, "configmaps");

    let deployments: Api<Deployment> = Api::namespaced(t.client.clone(), "default");
    deployments
        .create(&PostParams::default(), &deployment("web", "nginx", 1))
        .await
        .expect("create deployment");
    let status = api_error(
        deployments
            .create(&PostParams::default(), &deployment("web", "nginx", 1))
            .await,
    );
    assert_eq!(status.message, r#"deployments.apps "web" already exists"#);
    assert_eq!(status.details.expect("details").group, "apps");
}

#[tokio::test]
async fn not_found_is_404_for_every_verb() {
    let t = start().await;
    let api = config_maps(&t);
    let expected = r#"configmaps "ghost" not found"#;
    for status in [
        api_error(api.get("ghost").await),
        api_error(api.delete("ghost", &DeleteParams::default()).await),
        api_error(
            api.replace(
                "ghost",
                &PostParams::default(),
                &config_map("ghost", &[], &[]),
            )
            .await,
        ),
        api_error(
            api.patch(
                "ghost",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"a": "b"}})),
            )
            .await,
        ),
    ] {
        assert_eq!(status.code, 404);
        assert_eq!(status.reason, "NotFound");
        assert_eq!(status.message, expected);
        assert_eq!(status.details.expect("details").name, "ghost");
    }

    // Creating in a namespace that does not exist.
    let elsewhere: Api<ConfigMap> = Api::namespaced(t.client.clone(), "no-such-namespace");
    let status = api_error(
        elsewhere
            .create(&PostParams::default(), &config_map("x", &[], &[]))
            .await,
    );
    assert_eq!(status.code, 404);
    assert_eq!(
        status.message,
        r#"namespaces "no-such-namespace" not found"#
    );
}

#[tokio::test]
async fn metadata_only_lists_and_gets() {
    let t = start().await;
    let api = config_maps(&t);
    api.create(
        &PostParams::default(),
        &config_map("meta", &[("k", "v")], &[("big", "data")]),
    )
    .await
    .expect("create");
    // kube-rs asks for `as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`.
    let list = api
        .list_metadata(&ListParams::default())
        .await
        .expect("list_metadata");
    assert!(list.metadata.resource_version.is_some());
    let item = list.items.first().expect("one item");
    assert_eq!(item.metadata.name.as_deref(), Some("meta"));
    assert_eq!(
        item.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("k"))
            .map(String::as_str),
        Some("v")
    );
    let one = api.get_metadata("meta").await.expect("get_metadata");
    assert_eq!(one.metadata.uid, item.metadata.uid);
}

#[tokio::test]
async fn discovery_serves_every_issue_resource() {
    let t = start().await;
    for discovery in [
        kube::Discovery::new(t.client.clone())
            .run()
            .await
            .expect("legacy discovery"),
        kube::Discovery::new(t.client.clone())
            .run_aggregated()
            .await
            .expect("aggregated discovery"),
    ] {
        // (group, version, kind, namespaced)
        let expected = [
            ("", "v1", "Namespace", false),
            ("", "v1", "Node", false),
            ("", "v1", "Pod", true),
            ("", "v1", "Service", true),
            ("", "v1", "Endpoints", true),
            ("", "v1", "ConfigMap", true),
            ("", "v1", "Secret", true),
            ("", "v1", "Event", true),
            ("", "v1", "ServiceAccount", true),
            ("", "v1", "PersistentVolume", false),
            ("", "v1", "PersistentVolumeClaim", true),
            ("", "v1", "ResourceQuota", true),
            ("", "v1", "LimitRange", true),
            ("events.k8s.io", "v1", "Event", true),
            ("apps", "v1", "Deployment", true),
            ("apps", "v1", "ReplicaSet", true),
            ("apps", "v1", "StatefulSet", true),
            ("apps", "v1", "DaemonSet", true),
            ("apps", "v1", "ControllerRevision", true),
            ("batch", "v1", "Job", true),
            ("batch", "v1", "CronJob", true),
            ("policy", "v1", "PodDisruptionBudget", true),
            ("scheduling.k8s.io", "v1", "PriorityClass", false),
            ("storage.k8s.io", "v1", "StorageClass", false),
            ("coordination.k8s.io", "v1", "Lease", true),
            ("discovery.k8s.io", "v1", "EndpointSlice", true),
            ("autoscaling", "v2", "HorizontalPodAutoscaler", true),
            ("networking.k8s.io", "v1", "Ingress", true),
            ("networking.k8s.io", "v1", "IngressClass", false),
            ("networking.k8s.io", "v1", "NetworkPolicy", true),
            ("rbac.authorization.k8s.io", "v1", "Role", true),
            ("rbac.authorization.k8s.io", "v1", "RoleBinding", true),
            ("rbac.authorization.k8s.io", "v1", "ClusterRole", false),
            (
                "rbac.authorization.k8s.io",
                "v1",
                "ClusterRoleBinding",
                false,
            ),
        ];
        for (group, version, kind, namespaced) in expected {
            let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
            let (resource, caps) = discovery
                .resolve_gvk(&gvk)
                .unwrap_or_else(|| panic!("{group}/{version} {kind} not discovered"));
            assert_eq!(
                caps.scope == kube::discovery::Scope::Namespaced,
                namespaced,
                "{kind} scope"
            );
            for verb in [
                "create", "get", "list", "watch", "delete", "patch", "update",
            ] {
                assert!(
                    caps.supports_operation(verb),
                    "{kind} ({}) lacks {verb}: {:?}",
                    resource.plural,
                    caps.operations
                );
            }
        }
        let (_, deployment) = discovery
            .resolve_gvk(&kube::api::GroupVersionKind::gvk(
                "apps",
                "v1",
                "Deployment",
            ))
            .expect("deployments");
        let subresources: BTreeSet<String> = deployment
            .subresources
            .iter()
            .map(|(r, _)| r.plural.clone())
            .collect();
        assert!(
            subresources.contains("scale") && subresources.contains("status"),
            "{subresources:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// update / conflicts

#[tokio::test]
async fn replace_with_stale_resource_version_is_409_conflict() {
    let t = start().await;
    let api = config_maps(&t);
    let created = api
        .create(
            &PostParams::default(),
            &config_map("cas", &[], &[("v", "1")]),
        )
        .await
        .expect("create");

    let mut fresh = created.clone();
    fresh.data = Some([("v".to_string(), "2".to_string())].into());
    let updated = api
        .replace("cas", &PostParams::default(), &fresh)
        .await
        .expect("replace with the current resourceVersion");
    assert!(rv_of(&updated.metadata) > rv_of(&created.metadata));
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    let mut stale = created.clone();
    stale.data = Some([("v".to_string(), "stale".to_string())].into());
    let status = api_error(api.replace("cas", &PostParams::default(), &stale).await);
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert_eq!(
        status.message,
        r#"Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again"#
    );
    assert_eq!(
        data_of(&api.get("cas").await.expect("get")),
        json!({"v": "2"})
    );

    // A patch carrying a stale resourceVersion is a precondition and conflicts the same way.
    let status = api_error(
        api.patch(
            "cas",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "metadata": {"resourceVersion": created.metadata.resource_version},
                "data": {"v": "stale-patch"}
            })),
        )
        .await,
    );
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");

    // Without a resourceVersion, an update is unconditional.
    let mut unconditional = updated.clone();
    unconditional.metadata.resource_version = None;
    unconditional.data = Some([("v".to_string(), "3".to_string())].into());
    api.replace("cas", &PostParams::default(), &unconditional)
        .await
        .expect("unconditional replace");
}

#[tokio::test]
async fn update_keeps_creation_timestamp_and_rejects_a_different_uid() {
    let t = start().await;
    let api = config_maps(&t);
    let created = api
        .create(&PostParams::default(), &config_map("immutable", &[], &[]))
        .await
        .expect("create");
    // Upstream: staging/src/k8s.io/apiserver/pkg/registry/rest/update.go (BeforeUpdate)
    // silently keeps the stored creationTimestamp.
    let mut backdated = created.clone();
    backdated.metadata.creation_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2001-01-01T00:00:00Z".parse().expect("timestamp"),
        ));
    let replaced = api
        .replace("immutable", &PostParams::default(), &backdated)
        .await
        .expect("replace");
    assert_eq!(
        replaced.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );

    let mut changed = replaced.clone();
    changed.metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
    // Upstream: the update handler turns the body's uid into a precondition
    // (rest.DefaultUpdatedObjectInfo.Preconditions), which storage checks
    // (storage.Preconditions.Check) and the registry reports as 409 Conflict.
    let status = api_error(
        api.replace("immutable", &PostParams::default(), &changed)
            .await,
    );
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert!(
        status.message.contains(
            "Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000"
        ),
        "{}",
        status.message
    );
    assert_eq!(
        api.get("immutable").await.expect("get").metadata.uid,
        created.metadata.uid
    );
}

// ---------------------------------------------------------------------------------------
// patch

#[tokio::test]
async fn patch_merge_json_and_strategic() {
    let t = start().await;
    let api: Api<Deployment> = Api::namespaced(t.client.clone(), "default");
    api.create(&PostParams::default(), &deployment("web", "nginx:1.25", 2))
        .await
        .expect("create");

    // JSON merge patch (RFC 7386): null deletes, lists are replaced whole.
    let merged = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "front", "app": null}}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(
        serde_json::to_value(&merged.metadata.labels).expect("labels"),
        json!({"tier": "front"})
    );

    // JSON patch (RFC 6902).
    let json_patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "add", "path": "/metadata/annotations", "value": {"note": "json"}}
    ]))
    .expect("json patch");
    let patched = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Json::<()>(json_patch),
        )
        .await
        .expect("json patch");
    assert_eq!(patched.spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(
        patched
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("note"))
            .map(String::as_str),
        Some("json")
    );

    // A failing `test` op rejects the whole patch and writes nothing.
    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 9},
        {"op": "test", "path": "/spec/replicas", "value": 1}
    ]))
    .expect("json patch");
    let status = api_error(
        api.patch("web", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await,
    );
    assert!(matches!(status.code, 422 | 500 | 400), "{status:?}");
    let unchanged = api.get("web").await.expect("get");
    assert_eq!(unchanged.spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(
        unchanged.metadata.resource_version,
        patched.metadata.resource_version
    );

    // Strategic merge patch: containers merge by name; `$patch: delete` removes one.
    let strategic = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox"},
                {"name": "main", "image": "nginx:1.27"}
            ]}}}})),
        )
        .await
        .expect("strategic patch");
    let containers = |d: &Deployment| -> Vec<(String, String)> {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .map(|s| {
                s.containers
                    .iter()
                    .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut found = containers(&strategic);
    found.sort();
    assert_eq!(
        found,
        [
            ("main".to_string(), "nginx:1.27".to_string()),
            ("sidecar".to_string(), "busybox".to_string())
        ]
    );
    assert_eq!(
        strategic.metadata.generation,
        Some(3),
        "two spec changes so far"
    );
    let deleted = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "$patch": "delete"}
            ]}}}})),
        )
        .await
        .expect("strategic delete");
    assert_eq!(
        containers(&deleted),
        [("main".to_string(), "nginx:1.27".to_string())]
    );
}

#[tokio::test]
async fn server_side_apply_tracks_managers_and_conflicts() {
    let t = start().await;
    let api = config_maps(&t);
    let manifest = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "applied"},
        "data": {"owned": "by-alice", "shared": "alice"}
    });
    let created = api
        .patch(
            "applied",
            &PatchParams::apply("alice"),
            &Patch::Apply(&manifest),
        )
        .await
        .expect("apply creates");
    assert_eq!(
        data_of(&created),
        json!({"owned": "by-alice", "shared": "alice"})
    );
    server_side_apply_field_ownership(&api, &created).await;
}

#[tokio::test]
async fn server_side_apply_creates_then_updates() {
    let t = start().await;
    let api = config_maps(&t);
    let first = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "applied", "labels": {"via": "ssa"}},
        "data": {"a": "1"}
    });
    let created = api
        .patch(
            "applied",
            &PatchParams::apply("alice"),
            &Patch::Apply(&first),
        )
        .await
        .expect("apply creates a missing object");
    assert!(created.metadata.uid.is_some());
    assert_eq!(data_of(&created), json!({"a": "1"}));
    let second = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "applied", "labels": {"via": "ssa"}},
        "data": {"a": "2", "b": "3"}
    });
    let updated = api
        .patch(
            "applied",
            &PatchParams::apply("alice"),
            &Patch::Apply(&second),
        )
        .await
        .expect("apply updates");
    assert_eq!(updated.metadata.uid, created.metadata.uid);
    assert_eq!(data_of(&updated), json!({"a": "2", "b": "3"}));
    assert!(rv_of(&updated.metadata) > rv_of(&created.metadata));
    // Applying without a field manager is a 422 on PatchOptions.
    // Upstream: staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go
    // (ValidatePatchOptions: "is required for apply patch").
    let answer = t
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/applied",
            "application/apply-patch+yaml",
            serde_json::to_vec(&second).expect("json"),
        )
        .await;
    let status = assert_status(&answer, 422, "Invalid");
    assert_eq!(status["details"]["kind"], "PatchOptions");
    assert_eq!(status["details"]["causes"][0]["field"], "fieldManager");
}

/// Field ownership of server-side apply: managedFields, conflicts between managers, forcing,
/// and removal of fields a manager stops applying.
/// Upstream: staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager (structured-merge-diff).
async fn server_side_apply_field_ownership(api: &Api<ConfigMap>, created: &ConfigMap) {
    let managers: Vec<(String, String)> = created
        .metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("alice".into(), "Apply".into())),
        "{managers:?}"
    );

    // A second manager setting a field alice owns: 409 Conflict naming the field, unless forced.
    let bob = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "applied"},
        "data": {"shared": "bob"}
    });
    let status = api_error(
        api.patch("applied", &PatchParams::apply("bob"), &Patch::Apply(&bob))
            .await,
    );
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    let causes = status.details.map(|d| d.causes).unwrap_or_default();
    assert!(
        causes
            .iter()
            .any(|c| c.reason == "FieldManagerConflict" && c.field.contains("shared")),
        "{causes:?}"
    );
    let forced = api
        .patch(
            "applied",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&bob),
        )
        .await
        .expect("forced apply");
    assert_eq!(
        data_of(&forced),
        json!({"owned": "by-alice", "shared": "bob"})
    );

    // Alice re-applies without `owned`: the field she alone managed is removed.
    let alice_again = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "applied"},
        "data": {}
    });
    let pruned = api
        .patch(
            "applied",
            &PatchParams::apply("alice"),
            &Patch::Apply(&alice_again),
        )
        .await
        .expect("re-apply");
    assert_eq!(data_of(&pruned), json!({"shared": "bob"}));
}

#[tokio::test]
async fn status_scale_and_binding_subresources() {
    let t = start().await;
    let deployments: Api<Deployment> = Api::namespaced(t.client.clone(), "default");
    let created = deployments
        .create(&PostParams::default(), &deployment("sub", "nginx", 2))
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));

    // status: only status changes, and generation does not move.
    // Upstream: pkg/registry/apps/deployment/strategy.go (deploymentStatusStrategy).
    let after_status = deployments
        .patch_status(
            "sub",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "spec": {"replicas": 9},
                "status": {"observedGeneration": 1, "replicas": 2}
            })),
        )
        .await
        .expect("patch status");
    assert_eq!(after_status.spec.as_ref().and_then(|s| s.replicas), Some(2));
    assert_eq!(
        after_status.status.as_ref().and_then(|s| s.replicas),
        Some(2)
    );
    assert_eq!(after_status.metadata.generation, Some(1));

    // A main-resource update cannot change status.
    let after_main = deployments
        .patch(
            "sub",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}, "metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("patch");
    assert_eq!(after_main.status.as_ref().and_then(|s| s.replicas), Some(2));

    // scale: autoscaling/v1 Scale over spec.replicas; writing it bumps generation.
    let scale = deployments.get_scale("sub").await.expect("get scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(2));
    assert_eq!(
        scale.status.as_ref().and_then(|s| s.selector.as_deref()),
        Some("app=sub")
    );
    let scaled = deployments
        .patch_scale(
            "sub",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect("patch scale");
    assert_eq!(scaled.spec.as_ref().and_then(|s| s.replicas), Some(5));
    let fetched = deployments.get("sub").await.expect("get");
    assert_eq!(fetched.spec.as_ref().and_then(|s| s.replicas), Some(5));
    assert_eq!(fetched.metadata.generation, Some(2));
    let status = api_error(
        deployments
            .patch_scale(
                "sub",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": -1}})),
            )
            .await,
    );
    assert_eq!(status.code, 422);

    // pods/binding sets spec.nodeName once; a second binding is a 409.
    // Upstream: pkg/registry/core/pod/storage/storage.go (BindingREST, assignPod).
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(t.client.clone(), "default");
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "bindme"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    }))
    .expect("pod");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": "bindme"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"}
    });
    let answer = t
        .raw_json(
            "POST",
            "/api/v1/namespaces/default/pods/bindme/binding",
            &binding,
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.text);
    let bound = pods.get("bindme").await.expect("get pod");
    assert_eq!(
        bound.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        Some("node-a")
    );
    let again = t
        .raw_json(
            "POST",
            "/api/v1/namespaces/default/pods/bindme/binding",
            &binding,
        )
        .await;
    assert_status(&again, 409, "Conflict");
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let t = start().await;
    let api = config_maps(&t);
    let mut held = config_map("held", &[], &[]);
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &held)
        .await
        .expect("create");
    let from = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut stream = api
        .watch(&WatchParams::default().timeout(60), &from)
        .await
        .expect("watch")
        .boxed();

    // Upstream: staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go
    // (Delete with finalizers: set deletionTimestamp, keep the object, answer 200 with it).
    let deleted = api
        .delete("held", &DeleteParams::default())
        .await
        .expect("delete");
    let pending = deleted
        .left()
        .expect("the object comes back while finalizers remain");
    assert!(pending.metadata.deletion_timestamp.is_some());
    let still_there = api.get("held").await.expect("still readable");
    assert!(still_there.metadata.deletion_timestamp.is_some());
    assert_eq!(still_there.metadata.deletion_grace_period_seconds, Some(0));

    // New finalizers cannot be added once deletion started.
    // Upstream: staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go
    // (ValidateObjectMetaUpdate: "no new finalizers can be added if the object is being deleted").
    let status = api_error(
        api.patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}),
            ),
        )
        .await,
    );
    assert_eq!(status.code, 422, "{status:?}");
    assert_eq!(
        status.details.expect("details").causes[0].field,
        "metadata.finalizers"
    );

    // Removing the last finalizer completes the deletion.
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("remove finalizers");
    assert_eq!(api_error(api.get("held").await).code, 404);

    let mut kinds = Vec::new();
    while kinds.last() != Some(&"DELETED") {
        match next_within(&mut stream, "a watch event")
            .await
            .expect("event")
        {
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => kinds.push("DELETED"),
            WatchEvent::Added(_) => kinds.push("ADDED"),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(status) => panic!("watch error: {status:?}"),
        }
    }
    assert_eq!(kinds, ["MODIFIED", "DELETED"]);
}

// ---------------------------------------------------------------------------------------
// list: selectors and paging

#[tokio::test]
async fn list_with_label_selectors() {
    let t = start().await;
    let api = config_maps(&t);
    for (name, labels) in [
        ("a", &[("tier", "front"), ("env", "prod")][..]),
        ("b", &[("tier", "back"), ("env", "prod")][..]),
        ("c", &[("tier", "front")][..]),
        ("d", &[][..]),
    ] {
        api.create(&PostParams::default(), &config_map(name, labels, &[]))
            .await
            .expect("create");
    }
    // Upstream: staging/src/k8s.io/apimachinery/pkg/labels/selector.go.
    let cases: [(&str, &[&str]); 8] = [
        ("tier=front", &["a", "c"]),
        ("tier!=front", &["b", "d"]),
        ("env in (prod)", &["a", "b"]),
        ("tier notin (front)", &["b", "d"]),
        ("env", &["a", "b"]),
        ("!env", &["c", "d"]),
        ("tier=front,env=prod", &["a"]),
        ("tier in (front,back),!env", &["c"]),
    ];
    for (selector, expected) in cases {
        let names: Vec<String> = api
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap_or_else(|e| panic!("list {selector:?}: {e}"))
            .items
            .into_iter()
            .filter_map(|cm| cm.metadata.name)
            .collect();
        assert_eq!(names, expected, "selector {selector:?}");
    }
    let by_field: Vec<String> = api
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .expect("field selector")
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .collect();
    assert_eq!(by_field, ["b"]);

    let status = api_error(
        api.list(&ListParams::default().labels("tier in (front"))
            .await,
    );
    assert_eq!(status.code, 400);
    assert_eq!(status.reason, "BadRequest");
    let status = api_error(api.list(&ListParams::default().fields("data.k=v")).await);
    assert_eq!(status.code, 400);
    assert!(status.message.contains("data.k"), "{status:?}");
}

#[tokio::test]
async fn list_pages_with_limit_and_continue_over_one_snapshot() {
    let t = start().await;
    let api = config_maps(&t);
    for i in 0..25 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("cm-{i:02}"), &[("batch", "one")], &[]),
        )
        .await
        .expect("create");
    }
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(10);
    let mut pages = 0;
    let mut first_rv = None;
    loop {
        let page = api.list(&params).await.expect("list page");
        pages += 1;
        assert!(page.items.len() <= 10);
        first_rv.get_or_insert(page.metadata.resource_version.clone());
        if pages == 1 {
            // Written after the first page: not part of this snapshot.
            api.create(&PostParams::default(), &config_map("cm-late", &[], &[]))
                .await
                .expect("create between pages");
            assert_eq!(page.metadata.remaining_item_count, Some(15));
        }
        names.extend(page.items.into_iter().filter_map(|cm| cm.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                params = ListParams::default().limit(10).continue_token(&token);
            }
            _ => break,
        }
        assert!(pages < 10, "paging does not terminate");
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("cm-{i:02}")).collect();
    assert_eq!(
        names, expected,
        "every object once, in key order, from one snapshot"
    );

    // With a label selector, paging still visits every match exactly once.
    let mut selected = Vec::new();
    let mut params = ListParams::default().labels("batch=one").limit(7);
    loop {
        let page = api.list(&params).await.expect("list page");
        selected.extend(page.items.into_iter().filter_map(|cm| cm.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                params = ListParams::default()
                    .labels("batch=one")
                    .limit(7)
                    .continue_token(&token);
            }
            _ => break,
        }
    }
    assert_eq!(selected, expected);

    let status = api_error(
        api.list(&ListParams::default().limit(5).continue_token("not-a-token"))
            .await,
    );
    assert_eq!(status.code, 400, "{status:?}");
}

// ---------------------------------------------------------------------------------------
// watch

#[tokio::test]
async fn watch_from_a_resource_version_sees_later_changes_in_order() {
    let t = start().await;
    let api = config_maps(&t);
    api.create(&PostParams::default(), &config_map("before", &[], &[]))
        .await
        .expect("create");
    let list = api.list(&ListParams::default()).await.expect("list");
    let from = list.metadata.resource_version.clone().expect("list rv");

    api.create(&PostParams::default(), &config_map("after", &[], &[]))
        .await
        .expect("create");
    api.patch(
        "before",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"changed": "yes"}})),
    )
    .await
    .expect("patch");
    api.delete("after", &DeleteParams::default())
        .await
        .expect("delete");

    let mut stream = api
        .watch(&WatchParams::default().timeout(60), &from)
        .await
        .expect("watch")
        .boxed();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match next_within(&mut stream, "a watch event")
            .await
            .expect("event")
        {
            WatchEvent::Added(cm) => seen.push(("ADDED", cm.metadata.name.unwrap_or_default())),
            WatchEvent::Modified(cm) => {
                assert_eq!(data_of(&cm), json!({"changed": "yes"}));
                seen.push(("MODIFIED", cm.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Deleted(cm) => seen.push(("DELETED", cm.metadata.name.unwrap_or_default())),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(status) => panic!("watch error: {status:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            ("ADDED", "after".to_string()),
            ("MODIFIED", "before".to_string()),
            ("DELETED", "after".to_string())
        ],
        "no initial events when watching from a resourceVersion"
    );
}

#[tokio::test]
async fn watch_with_label_selector_reports_objects_leaving_and_entering() {
    let t = start().await;
    let api = config_maps(&t);
    api.create(
        &PostParams::default(),
        &config_map("mover", &[("pick", "yes")], &[]),
    )
    .await
    .expect("create");
    let from = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut stream = api
        .watch(
            &WatchParams::default().labels("pick=yes").timeout(60),
            &from,
        )
        .await
        .expect("watch")
        .boxed();
    api.patch(
        "mover",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"pick": "no"}}})),
    )
    .await
    .expect("leave");
    api.patch(
        "mover",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"pick": "yes"}}})),
    )
    .await
    .expect("enter");
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        match next_within(&mut stream, "a watch event")
            .await
            .expect("event")
        {
            WatchEvent::Added(_) => kinds.push("ADDED"),
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => kinds.push("DELETED"),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(status) => panic!("watch error: {status:?}"),
        }
    }
    assert_eq!(kinds, ["DELETED", "ADDED"]);
}

async fn run_watcher(config: watcher::Config) {
    let t = start().await;
    let api = config_maps(&t);
    for name in ["one", "two"] {
        api.create(
            &PostParams::default(),
            &config_map(name, &[("w", "x")], &[]),
        )
        .await
        .expect("create");
    }
    let mut stream = watcher(api.clone(), config.labels("w=x")).boxed();
    let mut initial = BTreeSet::new();
    loop {
        match next_within(&mut stream, "a watcher event").await {
            Ok(watcher::Event::Init) => {}
            Ok(watcher::Event::InitApply(cm)) => {
                initial.insert(cm.metadata.name.unwrap_or_default());
            }
            Ok(watcher::Event::InitDone) => break,
            Ok(other) => panic!("unexpected event before InitDone: {other:?}"),
            Err(e) => panic!("watcher error during init: {e}"),
        }
    }
    assert_eq!(initial, ["one".to_string(), "two".to_string()].into());

    api.create(
        &PostParams::default(),
        &config_map("three", &[("w", "x")], &[]),
    )
    .await
    .expect("create");
    api.delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    let mut changes = Vec::new();
    while changes.len() < 2 {
        match next_within(&mut stream, "a watcher event").await {
            Ok(watcher::Event::Apply(cm)) => {
                changes.push(("apply", cm.metadata.name.unwrap_or_default()))
            }
            Ok(watcher::Event::Delete(cm)) => {
                changes.push(("delete", cm.metadata.name.unwrap_or_default()))
            }
            Ok(other) => panic!("unexpected event after InitDone: {other:?}"),
            Err(e) => panic!("watcher error: {e}"),
        }
    }
    assert_eq!(
        changes,
        [
            ("apply", "three".to_string()),
            ("delete", "one".to_string())
        ]
    );
}

#[tokio::test]
async fn runtime_watcher_list_then_watch() {
    run_watcher(watcher::Config::default()).await;
}

#[tokio::test]
async fn runtime_watcher_streaming_list() {
    run_watcher(watcher::Config::default().streaming_lists()).await;
}

#[tokio::test]
async fn streaming_list_ends_initial_events_with_a_bookmark() {
    let t = start().await;
    let api = config_maps(&t);
    api.create(&PostParams::default(), &config_map("x", &[], &[]))
        .await
        .expect("create");
    let answer = t
        .get("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=1")
        .await;
    assert_eq!(answer.code, 200, "{}", answer.text);
    let events: Vec<Value> = answer
        .text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
        .collect();
    assert_eq!(events[0]["type"], "ADDED", "{events:?}");
    assert_eq!(events[0]["object"]["metadata"]["name"], "x");
    let bookmark = events
        .iter()
        .find(|e| e["type"] == "BOOKMARK")
        .unwrap_or_else(|| panic!("no bookmark: {events:?}"));
    // Upstream: KEP-3157; staging/src/k8s.io/apiserver/pkg/storage/cacher/cacher.go.
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(bookmark["object"]["kind"], "ConfigMap");

    // sendInitialEvents without resourceVersionMatch=NotOlderThan is invalid.
    let invalid = t
        .get("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true")
        .await;
    assert_status(&invalid, 422, "Invalid");
}

#[tokio::test]
async fn too_old_resource_version_after_compaction_is_410_expired() {
    let t = start().await;
    let api = config_maps(&t);
    let first = api
        .create(&PostParams::default(), &config_map("old", &[], &[]))
        .await
        .expect("create");
    let old_rv = first.metadata.resource_version.clone().expect("rv");
    let page = api
        .list(&ListParams::default().limit(1))
        .await
        .expect("list");
    for i in 0..5 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("n{i}"), &[], &[]),
        )
        .await
        .expect("create");
    }
    let store = t.server.storage.store();
    store
        .compact(store.current_revision())
        .await
        .expect("compact");

    // A watch from a compacted revision: HTTP 200, then one ERROR event with 410 Expired.
    let answer = t
        .get(&format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={old_rv}&timeoutSeconds=5"
        ))
        .await;
    assert_eq!(answer.code, 200, "{}", answer.text);
    let event: Value = serde_json::from_str(answer.text.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {}", answer.text));
    assert_eq!(event["type"], "ERROR", "{}", answer.text);
    assert_eq!(event["object"]["kind"], "Status");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
    assert!(
        event["object"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("too old resource version")),
        "{event}"
    );

    // kube-rs sees the same as WatchEvent::Error.
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &old_rv)
        .await
        .expect("watch")
        .boxed();
    match next_within(&mut stream, "the ERROR event")
        .await
        .expect("event")
    {
        WatchEvent::Error(status) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
        }
        other => panic!("expected an ERROR event, got {other:?}"),
    }

    // An exact list at a compacted revision, and a continue token from before compaction.
    let exact = t
        .get(&format!(
            "/api/v1/namespaces/default/configmaps?resourceVersion={old_rv}&resourceVersionMatch=Exact"
        ))
        .await;
    assert_status(&exact, 410, "Expired");
    if let Some(token) = page.metadata.continue_.filter(|t| !t.is_empty()) {
        let status = api_error(
            api.list(&ListParams::default().limit(1).continue_token(&token))
                .await,
        );
        assert_eq!(status.code, 410);
        assert_eq!(status.reason, "Expired");
    }
}

#[tokio::test]
async fn future_resource_versions_and_invalid_list_options() {
    let t = start().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let future = t.server.storage.revision() + 1000;
    // Upstream: staging/src/k8s.io/apiserver/pkg/storage/errors.go
    // (NewTooLargeResourceVersionError: 504 Timeout, cause ResourceVersionTooLarge).
    for query in [
        format!("watch=true&resourceVersion={future}&timeoutSeconds=1"),
        format!("resourceVersion={future}"),
    ] {
        let status = assert_status(&t.get(&format!("{base}?{query}")).await, 504, "Timeout");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("Too large resource version: {future}"))),
            "{status}"
        );
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "ResourceVersionTooLarge"
        );
    }
    // Upstream: staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go.
    let status = assert_status(
        &t.get(&format!("{base}?resourceVersionMatch=Exact")).await,
        422,
        "Invalid",
    );
    assert_eq!(status["details"]["kind"], "ListOptions");
    assert_eq!(status["details"]["group"], "meta.k8s.io");
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "resourceVersionMatch"
    );
    assert_status(
        &t.get(&format!(
            "{base}?resourceVersion=0&resourceVersionMatch=Exact"
        ))
        .await,
        422,
        "Invalid",
    );
}

// ---------------------------------------------------------------------------------------
// bad input: Status bodies

#[tokio::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let t = start().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let before = t.server.storage.revision();
    for body in [
        &br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"#[..],
        b"not json at all",
        b"",
        b"[1,2,3]",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"k":5}}"#,
        b"\xff\xfe\x00garbage",
    ] {
        let answer = t.raw("POST", path, "application/json", body.to_vec()).await;
        let status = assert_status(&answer, 400, "BadRequest");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| !m.contains("panick")),
            "{status}"
        );
    }
    // Malformed YAML with a YAML content type.
    let answer = t
        .raw(
            "POST",
            path,
            "application/yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n".to_vec(),
        )
        .await;
    assert_status(&answer, 400, "BadRequest");

    // The same bodies to update and patch endpoints.
    config_maps(&t)
        .create(
            &PostParams::default(),
            &config_map("target", &[], &[("k", "v")]),
        )
        .await
        .expect("create");
    let after_create = t.server.storage.revision();
    let target = format!("{path}/target");
    let answer = t
        .raw(
            "PUT",
            &target,
            "application/json",
            b"{\"metadata\":".to_vec(),
        )
        .await;
    assert_status(&answer, 400, "BadRequest");
    for content_type in [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
        "application/apply-patch+yaml",
    ] {
        let answer = t
            .raw("PATCH", &target, content_type, b"{\"data\": [".to_vec())
            .await;
        assert_status(&answer, 400, "BadRequest");
    }
    assert_eq!(
        t.server.storage.revision(),
        after_create,
        "rejected requests never write"
    );
    assert_eq!(after_create, before + 1);
}

#[tokio::test]
async fn wrong_kind_or_group_version_is_400() {
    let t = start().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "wrong-kind"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}
    });
    let status = assert_status(&t.raw_json("POST", path, &pod).await, 400, "BadRequest");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("ConfigMap")),
        "the message names the expected kind: {status}"
    );
    let other_group = json!({
        "apiVersion": "apps/v1", "kind": "ConfigMap",
        "metadata": {"name": "wrong-group"}
    });
    let status = assert_status(
        &t.raw_json("POST", path, &other_group).await,
        400,
        "BadRequest",
    );
    // Upstream: handlers/create.go (AcceptsGroupVersion check).
    assert_eq!(
        status["message"],
        "the API version in the data (apps/v1) does not match the expected API version (v1)"
    );
    for name in ["wrong-kind", "wrong-group"] {
        let missing = t
            .get(&format!("/api/v1/namespaces/default/configmaps/{name}"))
            .await;
        assert_status(&missing, 404, "NotFound");
    }

    // A body namespace that differs from the URL's.
    let elsewhere = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "elsewhere", "namespace": "kube-system"}
    });
    let status = assert_status(
        &t.raw_json("POST", path, &elsewhere).await,
        400,
        "BadRequest",
    );
    assert_eq!(
        status["message"],
        "the namespace of the provided object does not match the namespace sent on the request"
    );
    // A body name that differs from the URL's on update.
    let renamed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}});
    config_maps(&t)
        .create(&PostParams::default(), &config_map("named", &[], &[]))
        .await
        .expect("create");
    assert_status(
        &t.raw_json("PUT", &format!("{path}/named"), &renamed).await,
        400,
        "BadRequest",
    );
}

#[tokio::test]
async fn invalid_names_are_422_with_causes() {
    let t = start().await;
    let api = config_maps(&t);
    let status = api_error(
        api.create(&PostParams::default(), &config_map("Bad_Name", &[], &[]))
            .await,
    );
    assert_eq!(status.code, 422);
    assert_eq!(status.reason, "Invalid");
    assert!(
        status.message.starts_with(
            r#"ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name""#
        ),
        "{}",
        status.message
    );
    let details = status.details.expect("details");
    assert_eq!(details.name, "Bad_Name");
    assert_eq!(details.kind, "ConfigMap");
    assert_eq!(details.causes.len(), 1, "{:?}", details.causes);
    assert_eq!(details.causes[0].reason, "FieldValueInvalid");
    assert_eq!(details.causes[0].field, "metadata.name");

    let too_long = "a".repeat(254);
    let status = api_error(
        api.create(&PostParams::default(), &config_map(&too_long, &[], &[]))
            .await,
    );
    assert_eq!(status.code, 422);
    assert_eq!(
        status.details.expect("details").causes[0].field,
        "metadata.name"
    );

    // No name at all (and no generateName): a required value.
    let mut nameless = config_map("", &[], &[]);
    nameless.metadata.name = None;
    let status = api_error(api.create(&PostParams::default(), &nameless).await);
    assert_eq!(status.code, 422);
    let causes = status.details.expect("details").causes;
    assert_eq!(causes[0].reason, "FieldValueRequired");
    assert_eq!(causes[0].field, "metadata.name");

    // Invalid label key and value: one cause each.
    let status = api_error(
        api.create(
            &PostParams::default(),
            &config_map(
                "labels",
                &[("bad key!", "ok"), ("good", "-bad-value-")],
                &[],
            ),
        )
        .await,
    );
    assert_eq!(status.code, 422);
    let fields: Vec<String> = status
        .details
        .expect("details")
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(fields, ["metadata.labels", "metadata.labels"], "{fields:?}");

    // A Deployment with a negative replica count names the field.
    let deployments: Api<Deployment> = Api::namespaced(t.client.clone(), "default");
    let status = api_error(
        deployments
            .create(&PostParams::default(), &deployment("neg", "nginx", -1))
            .await,
    );
    assert_eq!(status.code, 422);
    assert!(
        status
            .message
            .starts_with(r#"Deployment.apps "neg" is invalid"#),
        "{}",
        status.message
    );
    let causes = status.details.expect("details").causes;
    assert!(
        causes.iter().any(|c| c.field == "spec.replicas"),
        "{causes:?}"
    );
    assert!(
        api.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn oversized_body_is_413() {
    let t = start().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let mut body =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"blob":""#
            .to_vec();
    body.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    body.extend_from_slice(br#""}}"#);
    let answer = t.raw("POST", path, "application/json", body).await;
    let status = assert_status(&answer, 413, "RequestEntityTooLarge");
    // Upstream: handlers/rest.go limitedReadBody + errors.NewRequestEntityTooLargeError.
    assert_eq!(
        status["message"],
        "Request entity too large: limit is 3145728"
    );
    let missing = t.get(&format!("{path}/huge")).await;
    assert_status(&missing, 404, "NotFound");

    // Just under the limit is accepted by the transport (and then by validation, as a
    // ConfigMap's 1 MiB data limit does not apply at 1 KiB).
    let small = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "small"}, "data": {"blob": "x".repeat(1024)}});
    assert_eq!(t.raw_json("POST", path, &small).await.code, 201);
}

#[tokio::test]
async fn unsupported_media_types_are_415() {
    let t = start().await;
    let api = config_maps(&t);
    api.create(&PostParams::default(), &config_map("media", &[], &[]))
        .await
        .expect("create");
    let answer = t
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/media",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_status(&answer, 415, "UnsupportedMediaType");
    let answer = t
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_status(&answer, 415, "UnsupportedMediaType");
}

#[tokio::test]
async fn unknown_fields_with_strict_validation_are_400() {
    let t = start().await;
    let body = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "strict"},
        "data": {"k": "v"},
        "bogus": true
    });
    let path = "/api/v1/namespaces/default/configmaps";
    let status = assert_status(
        &t.raw_json("POST", &format!("{path}?fieldValidation=Strict"), &body)
            .await,
        400,
        "BadRequest",
    );
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains(r#"strict decoding error: unknown field "bogus""#)),
        "{status}"
    );
    assert_status(&t.get(&format!("{path}/strict")).await, 404, "NotFound");
    // Ignore (and the default, Warn) accept it and drop the field.
    let created = t
        .raw_json("POST", &format!("{path}?fieldValidation=Ignore"), &body)
        .await;
    assert_eq!(created.code, 201, "{}", created.text);
    assert!(created.body.get("bogus").is_none(), "{}", created.text);
}

#[tokio::test]
async fn dry_run_validates_but_does_not_persist() {
    let t = start().await;
    let api = config_maps(&t);
    let before = t.server.storage.revision();
    let dry = api
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &config_map("dry", &[], &[]),
        )
        .await
        .expect("dry-run create");
    assert_eq!(dry.metadata.name.as_deref(), Some("dry"));
    assert!(dry.metadata.uid.is_some());
    assert_eq!(t.server.storage.revision(), before);
    let status = api_error(api.get("dry").await);
    assert_eq!(status.code, 404);
    let status = api_error(
        api.create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &config_map("Bad_Name", &[], &[]),
        )
        .await,
    );
    assert_eq!(status.code, 422, "dry run still validates");
}

#[tokio::test]
async fn delete_and_delete_collection() {
    let t = start().await;
    let api = config_maps(&t);
    for (name, group) in [("a", "x"), ("b", "x"), ("c", "y")] {
        api.create(
            &PostParams::default(),
            &config_map(name, &[("g", group)], &[]),
        )
        .await
        .expect("create");
    }
    api.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert_eq!(api_error(api.get("a").await).code, 404);
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("g=x"),
    )
    .await
    .expect("deletecollection");
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .collect();
    assert_eq!(left, ["c"]);

    // A delete with a stale uid precondition is a 409 Conflict.
    let status = api_error(
        api.delete(
            "c",
            &DeleteParams {
                preconditions: Some(kube::api::Preconditions {
                    uid: Some("00000000-0000-0000-0000-000000000000".into()),
                    resource_version: None,
                }),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert!(api.get("c").await.is_ok());
}
