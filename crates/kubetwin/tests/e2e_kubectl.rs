//! End-to-end: the real `kubetwin serve` binary on a loopback port, driven by the real
//! `kubectl` through every command of issue 2's acceptance list.
//!
//! The suite runs twice, with `--kube-minor 29` and `--kube-minor 32`: the kubectl on PATH is
//! a dispatcher that runs kubectl 1.<minor> chosen by the server's `/version`, so each minor
//! exercises that kubectl's request shapes (discovery v2beta1 vs v2, OpenAPI v3, SMP).
//! Each case gets its own namespace (and node names) on the server shared by its minor, and
//! its own `HOME`, so cases run in parallel without seeing each other or a stale discovery
//! cache. kubectl's exit code is never the only check: every case reads back the state.
//!
//! Request shapes per command: `shared/research/apiserver.md` §3; gotchas: §10.

#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::kubectl::Kubectl;

const APP: &str = include_str!("fixtures/app.yaml");
const APP_EDITED: &str = include_str!("fixtures/app-edited.yaml");
const NODE: &str = include_str!("fixtures/node.yaml");
const POD: &str = include_str!("fixtures/pod.yaml");

/// kubectl for one case: the shared server of `minor`, a namespace named after the case.
fn kubectl_for(case: &str, minor: u32, create_namespace: bool) -> Kubectl {
    let endpoint = support::shared_memory_server(minor);
    let namespace = format!("{}-{minor}", case.replace('_', "-"));
    let kubectl = Kubectl::new(endpoint, &namespace);
    if create_namespace {
        // `apply`, not `create namespace`: the latter is a case of its own.
        kubectl.apply(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
        ));
    }
    kubectl
}

fn app(kubectl: &Kubectl) -> String {
    APP.replace("__NAMESPACE__", kubectl.namespace())
}

fn app_edited(kubectl: &Kubectl) -> String {
    APP_EDITED.replace("__NAMESPACE__", kubectl.namespace())
}

fn node(name: &str) -> String {
    NODE.replace("__NODE__", name)
}

/// A ConfigMap manifest with labels and one data key.
fn config_map(name: &str, labels: &[(&str, &str)]) -> String {
    let mut manifest = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    if !labels.is_empty() {
        manifest.push_str("  labels:\n");
        for (key, value) in labels {
            manifest.push_str(&format!("    {key}: \"{value}\"\n"));
        }
    }
    manifest.push_str("data:\n  key: value\n");
    manifest
}

/// The lines of `kubectl get ... -o name`, as a set.
fn names(kubectl: &Kubectl, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "name"]);
    kubectl
        .ok(&all)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// The first line of a table (its header).
fn header(table: &str) -> &str {
    table.lines().next().unwrap_or_default()
}

/// The table row whose first cell is `name`.
fn row<'a>(table: &'a str, name: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"))
}

fn labels(object: &Value) -> Value {
    object["metadata"]["labels"].clone()
}

fn container_names(deployment: &Value) -> BTreeSet<String> {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .map(|containers| {
            containers
                .iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn image_of(deployment: &Value, container: &str) -> String {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|containers| containers.iter().find(|c| c["name"] == container))
        .and_then(|c| c["image"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// `spec.taints` of a node as (key, value, effect) triples; absent or null is empty.
fn taints(node: &Value) -> Vec<(String, String, String)> {
    node["spec"]["taints"]
        .as_array()
        .map(|taints| {
            taints
                .iter()
                .map(|t| {
                    let text = |field: &str| t[field].as_str().unwrap_or_default().to_string();
                    (text("key"), text("value"), text("effect"))
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// the premise: the dispatcher runs kubectl 1.<minor>

fn dispatcher_runs_the_matching_kubectl(minor: u32) {
    let k = kubectl_for("version", minor, false);
    let version: Value =
        serde_json::from_str(&k.ok(&["version", "-o", "json"])).expect("version JSON");
    assert_eq!(version["serverVersion"]["major"], "1");
    assert_eq!(version["serverVersion"]["minor"], minor.to_string());
    // The dispatcher itself is a 1.32 build and reports "32+" when it runs itself.
    assert_eq!(
        version["clientVersion"]["minor"]
            .as_str()
            .map(|m| m.trim_end_matches('+')),
        Some(minor.to_string().as_str()),
        "the suite for {minor} must really run kubectl 1.{minor}: {version}"
    );
    let raw: Value =
        serde_json::from_str(&k.ok(&["get", "--raw", "/version"])).expect("/version JSON");
    assert!(
        raw["gitVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with(&format!("v1.{minor}."))),
        "{raw}"
    );
    for probe in ["/healthz", "/livez", "/readyz"] {
        assert_eq!(k.ok(&["get", "--raw", probe]).trim(), "ok", "{probe}");
    }
}

fn api_resources_lists_every_issue_resource(minor: u32) {
    let k = kubectl_for("api-resources", minor, false);
    let table = k.ok(&["api-resources"]);
    // (name, short names, apiVersion, namespaced, kind); short names from each resource's
    // upstream REST storage (`ShortNames()` in pkg/registry/**/storage/storage.go).
    let expected: [(&str, &str, &str, &str, &str); 34] = [
        ("configmaps", "cm", "v1", "true", "ConfigMap"),
        ("endpoints", "ep", "v1", "true", "Endpoints"),
        ("events", "ev", "v1", "true", "Event"),
        ("limitranges", "limits", "v1", "true", "LimitRange"),
        ("namespaces", "ns", "v1", "false", "Namespace"),
        ("nodes", "no", "v1", "false", "Node"),
        (
            "persistentvolumeclaims",
            "pvc",
            "v1",
            "true",
            "PersistentVolumeClaim",
        ),
        ("persistentvolumes", "pv", "v1", "false", "PersistentVolume"),
        ("pods", "po", "v1", "true", "Pod"),
        ("resourcequotas", "quota", "v1", "true", "ResourceQuota"),
        ("secrets", "", "v1", "true", "Secret"),
        ("serviceaccounts", "sa", "v1", "true", "ServiceAccount"),
        ("services", "svc", "v1", "true", "Service"),
        (
            "controllerrevisions",
            "",
            "apps/v1",
            "true",
            "ControllerRevision",
        ),
        ("daemonsets", "ds", "apps/v1", "true", "DaemonSet"),
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        ("replicasets", "rs", "apps/v1", "true", "ReplicaSet"),
        ("statefulsets", "sts", "apps/v1", "true", "StatefulSet"),
        (
            "horizontalpodautoscalers",
            "hpa",
            "autoscaling/v2",
            "true",
            "HorizontalPodAutoscaler",
        ),
        ("cronjobs", "cj", "batch/v1", "true", "CronJob"),
        ("jobs", "", "batch/v1", "true", "Job"),
        ("leases", "", "coordination.k8s.io/v1", "true", "Lease"),
        (
            "endpointslices",
            "",
            "discovery.k8s.io/v1",
            "true",
            "EndpointSlice",
        ),
        ("events", "ev", "events.k8s.io/v1", "true", "Event"),
        (
            "ingressclasses",
            "",
            "networking.k8s.io/v1",
            "false",
            "IngressClass",
        ),
        (
            "ingresses",
            "ing",
            "networking.k8s.io/v1",
            "true",
            "Ingress",
        ),
        (
            "networkpolicies",
            "netpol",
            "networking.k8s.io/v1",
            "true",
            "NetworkPolicy",
        ),
        (
            "poddisruptionbudgets",
            "pdb",
            "policy/v1",
            "true",
            "PodDisruptionBudget",
        ),
        (
            "clusterrolebindings",
            "",
            "rbac.authorization.k8s.io/v1",
            "false",
            "ClusterRoleBinding",
        ),
        (
            "clusterroles",
            "",
            "rbac.authorization.k8s.io/v1",
            "false",
            "ClusterRole",
        ),
        (
            "rolebindings",
            "",
            "rbac.authorization.k8s.io/v1",
            "true",
            "RoleBinding",
        ),
        ("roles", "", "rbac.authorization.k8s.io/v1", "true", "Role"),
        (
            "priorityclasses",
            "pc",
            "scheduling.k8s.io/v1",
            "false",
            "PriorityClass",
        ),
        (
            "storageclasses",
            "sc",
            "storage.k8s.io/v1",
            "false",
            "StorageClass",
        ),
    ];
    let rows: BTreeSet<Vec<String>> = table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().map(String::from).collect())
        .collect();
    for (name, short, api_version, namespaced, kind) in expected {
        let mut cells = vec![name.to_string()];
        if !short.is_empty() {
            cells.push(short.to_string());
        }
        cells.extend([api_version, namespaced, kind].map(String::from));
        assert!(rows.contains(&cells), "no row {cells:?} in:\n{table}");
    }
    // Short names resolve through discovery.
    assert_eq!(names(&k, &["deploy,svc,cm"]), set(&[]));
    let namespaces = names(&k, &["ns"]);
    assert!(
        namespaces.contains("namespace/kube-system"),
        "{namespaces:?}"
    );
}

// ---------------------------------------------------------------------------------------
// apply

fn apply_multi_document_creates_every_object(minor: u32) {
    let k = kubectl_for("apply-multi", minor, false);
    let ns = k.namespace().to_string();
    let out = k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    for line in [
        format!("namespace/{ns} created"),
        "deployment.apps/web created".into(),
        "service/web created".into(),
        "configmap/web-config created".into(),
    ] {
        assert!(out.contains(&line), "apply output lacks {line:?}:\n{out}");
    }

    let namespace = k.get_json(&["namespace", &ns]);
    assert_eq!(namespace["metadata"]["labels"]["team"], "blue");
    assert_eq!(namespace["status"]["phase"], "Active");

    let deployment = k.get_json(&["deployment", "web"]);
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(image_of(&deployment, "nginx"), "nginx:1.25");
    assert_eq!(deployment["metadata"]["generation"], 1);
    assert!(
        deployment["metadata"]["uid"]
            .as_str()
            .is_some_and(|uid| !uid.is_empty())
    );
    let last_applied =
        deployment["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap_or_else(|| panic!("no last-applied annotation: {deployment}"));
    let last_applied: Value = serde_json::from_str(last_applied).expect("last-applied is JSON");
    assert_eq!(last_applied["spec"]["replicas"], 2);

    let service = k.get_json(&["service", "web"]);
    assert_eq!(service["spec"]["ports"][0]["port"], 80);
    assert_eq!(service["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert!(
        service["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| !ip.is_empty() && ip != "None"),
        "a ClusterIP service gets an address: {service}"
    );

    let config = k.get_json(&["configmap", "web-config"]);
    assert_eq!(config["data"], json!({"color": "blue", "size": "large"}));

    // Applying the same file again changes nothing.
    let again = k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    for line in [
        "deployment.apps/web unchanged",
        "service/web unchanged",
        "configmap/web-config unchanged",
    ] {
        assert!(
            again.contains(line),
            "second apply lacks {line:?}:\n{again}"
        );
    }
    let unchanged = k.get_json(&["deployment", "web"]);
    assert_eq!(
        unchanged["metadata"]["resourceVersion"], deployment["metadata"]["resourceVersion"],
        "a no-op apply must not write"
    );
}

fn reapply_after_edit_is_a_three_way_strategic_merge(minor: u32) {
    let k = kubectl_for("reapply", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    let before = k.get_json(&["deployment", "web"]);
    // A change made by someone else: a three-way merge keeps it.
    k.ok(&["label", "deployment", "web", "owner=ops"]);

    let out = k.ok_with(&["apply", "-f", "-"], Some(&app_edited(&k)), &[]);
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    assert!(out.contains("configmap/web-config configured"), "{out}");
    assert!(out.contains("service/web unchanged"), "{out}");

    let after = k.get_json(&["deployment", "web"]);
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(after["spec"]["replicas"], 4, "replicas patched");
    assert_eq!(image_of(&after, "nginx"), "nginx:1.27", "image patched");
    assert_eq!(
        after["metadata"]["generation"], 2,
        "a spec change bumps generation"
    );
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "MODE", "value": "green"}]),
        "env merged by name: MODE changed, LEVEL (dropped from the file) deleted"
    );
    assert_eq!(
        labels(&after),
        json!({"app": "web", "owner": "ops"}),
        "tier (dropped from the file) removed, owner (not ours) kept"
    );
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        80
    );

    let config = k.get_json(&["configmap", "web-config"]);
    assert_eq!(config["data"], json!({"color": "green"}), "size removed");
}

fn diff_and_server_dry_run_do_not_persist(minor: u32) {
    let k = kubectl_for("diff", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    let before = k.get_json(&["deployment", "web"]);

    // `diff` sends the apply patch with dryRun=All: exit 1 and a unified diff when the file
    // differs, exit 0 and nothing when it does not.
    let same = k.run_with(&["diff", "-f", "-"], Some(&app(&k)), &[]);
    assert!(same.success && same.stdout.trim().is_empty(), "{same}");
    let changed = k.run_with(&["diff", "-f", "-"], Some(&app_edited(&k)), &[]);
    assert_eq!(changed.stderr.trim(), "", "{changed}");
    for line in [
        "-  replicas: 2",
        "+  replicas: 4",
        "-        image: nginx:1.25",
        "+        image: nginx:1.27",
    ] {
        assert!(
            changed.stdout.lines().any(|l| l.trim_end() == line),
            "diff lacks {line:?}:\n{changed}"
        );
    }
    let after = k.get_json(&["deployment", "web"]);
    assert_eq!(
        after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
        "diff must not write"
    );

    // --dry-run=server: the server answers as if it wrote, and writes nothing.
    let out = k.ok_with(
        &["apply", "--dry-run=server", "-f", "-"],
        Some(&app_edited(&k)),
        &[],
    );
    assert!(
        out.contains("deployment.apps/web configured (server dry run)"),
        "{out}"
    );
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 2);
    let out = k.ok_with(
        &["create", "--dry-run=server", "-f", "-"],
        Some(&config_map("dry", &[])),
        &[],
    );
    assert!(
        out.contains("configmap/dry created (server dry run)"),
        "{out}"
    );
    assert!(!k.exists("configmap", "dry"));
}

fn server_side_apply_updates_and_prunes(minor: u32) {
    let k = kubectl_for("ssa", minor, false);
    let out = k.ok_with(&["apply", "--server-side", "-f", "-"], Some(&app(&k)), &[]);
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let created = k.get_json(&["deployment", "web"]);
    assert_eq!(created["spec"]["replicas"], 2);

    let out = k.ok_with(
        &["apply", "--server-side", "-f", "-"],
        Some(&app_edited(&k)),
        &[],
    );
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let updated = k.get_json(&["deployment", "web"]);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(updated["spec"]["replicas"], 4);
    assert_eq!(image_of(&updated, "nginx"), "nginx:1.27");
    // Fields the sole manager stopped applying are removed.
    // Upstream: structured-merge-diff apply semantics (fieldmanager).
    assert_eq!(
        updated["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "MODE", "value": "green"}]),
        "LEVEL is no longer applied by anyone"
    );
    assert_eq!(
        k.get_json(&["configmap", "web-config"])["data"],
        json!({"color": "green"}),
        "size is no longer applied by anyone"
    );
    let with_fields = k.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let with_fields: Value = serde_json::from_str(&with_fields).expect("json");
    let managers: Vec<&str> = with_fields["metadata"]["managedFields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f["manager"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(managers.contains(&"kubectl"), "{with_fields}");

    // A conflicting client-side change is reported unless forced.
    k.ok(&["scale", "deployment", "web", "--replicas=7"]);
    let conflict = k.fails_with(
        &["apply", "--server-side", "-f", "-"],
        Some(&app_edited(&k)),
    );
    assert!(
        conflict.contains("conflict") && conflict.contains(".spec.replicas"),
        "{conflict}"
    );
    k.ok_with(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        Some(&app_edited(&k)),
        &[],
    );
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 4);
}

// ---------------------------------------------------------------------------------------
// get

fn get_output_formats(minor: u32) {
    let k = kubectl_for("get-formats", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    k.apply(POD);

    let wide = k.ok(&["get", "deployment", "web", "-o", "wide"]);
    for column in [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ] {
        assert!(header(&wide).contains(column), "no {column} in:\n{wide}");
    }
    let cells: Vec<&str> = row(&wide, "web").split_whitespace().collect();
    assert!(
        cells[1].ends_with("/2"),
        "READY counts against 2 replicas: {wide}"
    );
    assert!(
        cells.contains(&"nginx:1.25") && cells.contains(&"app=web"),
        "{wide}"
    );

    let pods = k.ok(&["get", "pods", "-o", "wide"]);
    let pod_header: Vec<&str> = header(&pods).split_whitespace().collect();
    assert_eq!(
        pod_header,
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ],
        "{pods}"
    );
    let cells: Vec<&str> = row(&pods, "solo").split_whitespace().collect();
    assert_eq!(&cells[1..4], ["0/1", "Pending", "0"], "{pods}");

    let plain = k.ok(&["get", "pods"]);
    let plain_header: Vec<&str> = header(&plain).split_whitespace().collect();
    assert_eq!(plain_header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);

    // -o yaml and -o json describe the same object.
    let yaml = k.ok(&["get", "deployment", "web", "-o", "yaml"]);
    let from_yaml: Value = serde_saphyr::from_str(&yaml)
        .unwrap_or_else(|e| panic!("-o yaml is not YAML ({e}):\n{yaml}"));
    let from_json = k.get_json(&["deployment", "web"]);
    assert_eq!(from_yaml, from_json);
    assert_eq!(from_json["kind"], "Deployment");
    assert_eq!(from_json["apiVersion"], "apps/v1");
    assert!(yaml.contains("kind: Deployment"), "{yaml}");

    let list = k.get_json(&["configmaps"]);
    assert_eq!(list["kind"], "List");
    assert!(
        list["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["metadata"]["name"] == "web-config")),
        "{list}"
    );

    let listed = names(&k, &["deployments,services,pods"]);
    assert!(
        set(&["deployment.apps/web", "service/web", "pod/solo"]).is_subset(&listed),
        "{listed:?}"
    );
    assert_eq!(
        k.ok(&["get", "service", "web", "-o", "name"]).trim(),
        "service/web"
    );
    let jsonpath = k.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(jsonpath, "nginx:1.25");
}

fn get_with_label_selectors(minor: u32) {
    let k = kubectl_for("get-labels", minor, true);
    for (name, labels) in [
        ("a", &[("tier", "front"), ("env", "prod")][..]),
        ("b", &[("tier", "back"), ("env", "prod")][..]),
        ("c", &[("tier", "front")][..]),
        ("d", &[][..]),
    ] {
        k.apply(&config_map(name, labels));
    }
    // Upstream semantics: staging/src/k8s.io/apimachinery/pkg/labels/selector.go
    // (`!=` and `notin` match objects without the key).
    let cases: [(&str, &[&str]); 9] = [
        ("tier=front", &["a", "c"]),
        ("tier==front", &["a", "c"]),
        ("tier!=front", &["b", "d"]),
        ("env in (prod)", &["a", "b"]),
        ("tier notin (front)", &["b", "d"]),
        ("env", &["a", "b"]),
        ("!env", &["c", "d"]),
        ("tier=front,env=prod", &["a"]),
        ("tier in (front,back),!env", &["c"]),
    ];
    for (selector, expected) in cases {
        let expected: BTreeSet<String> =
            expected.iter().map(|n| format!("configmap/{n}")).collect();
        assert_eq!(
            names(&k, &["configmaps", "-l", selector]),
            expected,
            "selector {selector:?}"
        );
    }
    let table = k.ok(&["get", "configmaps", "-l", "tier=front"]);
    assert!(table.contains("a ") && table.contains("c "), "{table}");
    let none = k.run(&["get", "configmaps", "-l", "tier=nowhere"]);
    assert!(none.success, "{none}");
    assert!(none.stderr.contains("No resources found"), "{none}");

    let bad = k.fails(&["get", "configmaps", "-l", "tier in (front"]);
    assert!(
        bad.to_lowercase().contains("error") || bad.contains("unable to parse"),
        "{bad}"
    );
}

fn get_with_field_selectors(minor: u32) {
    let k = kubectl_for("get-fields", minor, true);
    for name in ["a", "b", "c"] {
        k.apply(&config_map(
            name,
            &[("group", if name == "c" { "y" } else { "x" })],
        ));
    }
    k.apply(POD);
    assert_eq!(
        names(&k, &["configmaps", "--field-selector", "metadata.name=b"]),
        set(&["configmap/b"])
    );
    assert_eq!(
        names(
            &k,
            &[
                "configmaps",
                "--field-selector",
                "metadata.name!=b",
                "-l",
                "group"
            ]
        ),
        set(&["configmap/a", "configmap/c"])
    );
    assert_eq!(
        names(
            &k,
            &[
                "configmaps",
                "--field-selector",
                "metadata.name!=a",
                "-l",
                "group=x"
            ]
        ),
        set(&["configmap/b"])
    );
    assert_eq!(
        names(
            &k,
            &[
                "configmaps",
                "--field-selector",
                &format!("metadata.namespace={}", k.namespace()),
                "-l",
                "group"
            ]
        ),
        set(&["configmap/a", "configmap/b", "configmap/c"])
    );
    // Pod field selectors: pkg/registry/core/pod/strategy.go (ToSelectableFields).
    assert_eq!(
        names(&k, &["pods", "--field-selector", "status.phase=Pending"]),
        set(&["pod/solo"])
    );
    assert_eq!(
        names(
            &k,
            &[
                "pods",
                "--field-selector",
                "status.phase!=Pending,spec.nodeName="
            ]
        ),
        set(&[])
    );
    assert_eq!(
        names(&k, &["pods", "--field-selector", "spec.nodeName="]),
        set(&["pod/solo"]),
        "an unscheduled pod has an empty nodeName"
    );
    assert_eq!(
        names(
            &k,
            &[
                "pods",
                "--all-namespaces",
                "--field-selector",
                "spec.nodeName=no-such-node"
            ]
        ),
        set(&[])
    );
    let unsupported = k.fails(&["get", "configmaps", "--field-selector", "spec.foo=x"]);
    assert!(
        unsupported.contains("BadRequest") && unsupported.contains("spec.foo"),
        "an unsupported field label is a 400 naming it:\n{unsupported}"
    );
}

fn get_show_labels(minor: u32) {
    let k = kubectl_for("get-show-labels", minor, true);
    k.apply(&config_map("tagged", &[("tier", "front"), ("env", "prod")]));
    k.apply(&config_map("bare", &[]));
    let table = k.ok(&["get", "configmaps", "--show-labels"]);
    assert!(header(&table).ends_with("LABELS"), "{table}");
    assert!(
        row(&table, "tagged")
            .trim_end()
            .ends_with("env=prod,tier=front"),
        "labels sorted by key, comma-joined:\n{table}"
    );
    assert!(
        row(&table, "bare").trim_end().ends_with("<none>"),
        "{table}"
    );
    let columns = k.ok(&["get", "configmaps", "-L", "tier"]);
    assert!(header(&columns).ends_with("TIER"), "{columns}");
    assert!(
        row(&columns, "tagged").trim_end().ends_with("front"),
        "{columns}"
    );
}

fn get_all(minor: u32) {
    let k = kubectl_for("get-all", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    k.apply(POD);
    let all = k.ok(&["get", "all"]);
    for expected in ["pod/solo", "service/web", "deployment.apps/web"] {
        assert!(all.contains(expected), "get all lacks {expected}:\n{all}");
    }
    assert!(
        !all.contains("configmap/"),
        "configmaps are not in the `all` category:\n{all}"
    );
    // A superset: once controllers run, the Deployment's ReplicaSet and Pods join in.
    let listed = names(&k, &["all"]);
    assert!(
        set(&["pod/solo", "service/web", "deployment.apps/web"]).is_subset(&listed),
        "{listed:?}"
    );
    assert!(listed.iter().all(|name| !name.starts_with("configmap/")));
}

// ---------------------------------------------------------------------------------------
// describe, explain

fn describe_objects(minor: u32) {
    let k = kubectl_for("describe", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    k.apply(POD);
    let node_name = format!("describe-node-{minor}");
    k.apply(&node(&node_name));

    let deployment = k.ok(&["describe", "deployment", "web"]);
    for expected in [
        "Name:",
        "web",
        &format!("Namespace:              {}", k.namespace()),
        "Selector:               app=web",
        "Replicas:               2 desired",
        "StrategyType:           RollingUpdate",
        "nginx:1.25",
        "MODE:",
    ] {
        assert!(
            deployment.contains(expected),
            "no {expected:?} in:\n{deployment}"
        );
    }

    let service = k.ok(&["describe", "service", "web"]);
    for expected in ["Type:", "ClusterIP", "Port:", "http  80/TCP", "Selector:"] {
        assert!(service.contains(expected), "no {expected:?} in:\n{service}");
    }

    let config = k.ok(&["describe", "configmap", "web-config"]);
    for expected in ["Data\n====", "color:", "blue", "size:", "large"] {
        assert!(config.contains(expected), "no {expected:?} in:\n{config}");
    }

    let pod = k.ok(&["describe", "pod", "solo"]);
    for expected in ["Status:           Pending", "busybox:1.36", "QoS Class:"] {
        assert!(pod.contains(expected), "no {expected:?} in:\n{pod}");
    }

    let node_text = k.ok(&["describe", "node", &node_name]);
    for expected in [
        format!("Name:               {node_name}"),
        "Taints:             <none>".into(),
        "Unschedulable:      false".into(),
        "kubetwin.test/e2e=true".into(),
    ] {
        assert!(
            node_text.contains(&expected),
            "no {expected:?} in:\n{node_text}"
        );
    }

    let namespace = k.ok(&["describe", "namespace", k.namespace()]);
    assert!(
        namespace.contains("Status:") && namespace.contains("Active"),
        "{namespace}"
    );

    let by_label = k.ok(&["describe", "configmaps", "-l", "app=web"]);
    assert!(by_label.contains("web-config"), "{by_label}");

    k.ok(&["delete", "node", &node_name]);
}

fn explain_pod_spec(minor: u32) {
    let k = kubectl_for("explain", minor, false);
    let pod_spec = k.ok(&["explain", "pod.spec"]);
    for expected in [
        "KIND:",
        "Pod",
        "VERSION:",
        "v1",
        "FIELDS:",
        "containers",
        "nodeName",
    ] {
        assert!(
            pod_spec.contains(expected),
            "no {expected:?} in:\n{pod_spec}"
        );
    }
    assert!(
        pod_spec.contains("<[]Container> -required-"),
        "containers is a required list:\n{pod_spec}"
    );
    let replicas = k.ok(&["explain", "deployment.spec.replicas"]);
    assert!(
        replicas.contains("apps") && replicas.contains("<integer>"),
        "{replicas}"
    );
    let recursive = k.ok(&["explain", "service.spec.ports", "--recursive"]);
    assert!(recursive.contains("targetPort"), "{recursive}");
    let missing = k.fails(&["explain", "pod.spec.noSuchField"]);
    assert!(missing.contains("noSuchField"), "{missing}");
}

// ---------------------------------------------------------------------------------------
// edit, patch, label, annotate

fn edit_with_scripted_editor(minor: u32) {
    let k = kubectl_for("edit", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    let editor = k.write_file(
        "editor.sh",
        "#!/bin/sh\nsed -i -e 's/^  replicas: 2$/  replicas: 3/' -e 's/image: nginx:1.25/image: nginx:1.26/' \"$1\"\n",
    );
    make_executable(&editor);
    let editor = editor.display().to_string();
    let out = k.ok_with(
        &["edit", "deployment", "web"],
        None,
        &[("KUBE_EDITOR", editor.as_str())],
    );
    assert!(out.contains("deployment.apps/web edited"), "{out}");
    let deployment = k.get_json(&["deployment", "web"]);
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(image_of(&deployment, "nginx"), "nginx:1.26");

    // An edit the server rejects leaves the object unchanged. kubectl re-opens the editor
    // with the server's causes as comments at the top; the script keeps every version it saw.
    let seen_log = k.scratch().join("editor-saw.yaml");
    let breaker = k.write_file(
        "breaker.sh",
        &format!(
            "#!/bin/sh\ncat \"$1\" >> '{}'\nsed -i -e 's/^  replicas: 3$/  replicas: -1/' \"$1\"\n",
            seen_log.display()
        ),
    );
    make_executable(&breaker);
    let breaker = breaker.display().to_string();
    let rejected = k.run_with(
        &["edit", "deployment", "web"],
        None,
        &[("KUBE_EDITOR", breaker.as_str())],
    );
    assert!(
        !rejected.success
            && rejected
                .all_output()
                .contains("deployments.apps \"web\" is invalid"),
        "{rejected}"
    );
    let seen = std::fs::read_to_string(&seen_log).unwrap_or_default();
    assert!(
        seen.contains("spec.replicas: Invalid value: -1"),
        "the second editor round shows the cause naming the field:\n{seen}"
    );
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 3);

    // An editor that changes nothing: kubectl says so and writes nothing.
    let rv = k.get_json(&["configmap", "web-config"])["metadata"]["resourceVersion"].clone();
    let untouched = k.run_with(
        &["edit", "configmap", "web-config"],
        None,
        &[("KUBE_EDITOR", "true")],
    );
    assert!(
        untouched.all_output().contains("Edit cancelled"),
        "{untouched}"
    );
    assert_eq!(
        k.get_json(&["configmap", "web-config"])["metadata"]["resourceVersion"],
        rv
    );
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path).expect("stat").permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).expect("chmod");
}

fn patch_strategic_merge_and_json(minor: u32) {
    let k = kubectl_for("patch", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);

    // Strategic merge patch (kubectl's default): containers merge by name.
    let out = k.ok(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}"#,
    ]);
    assert!(out.contains("deployment.apps/web patched"), "{out}");
    let deployment = k.get_json(&["deployment", "web"]);
    assert_eq!(container_names(&deployment), set(&["nginx", "sidecar"]));
    assert_eq!(
        image_of(&deployment, "nginx"),
        "nginx:1.25",
        "nginx kept as it was"
    );
    assert_eq!(image_of(&deployment, "sidecar"), "busybox:1.36");

    // SMP `$patch: delete` removes one list element by merge key.
    k.ok(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#,
    ]);
    assert_eq!(
        container_names(&k.get_json(&["deployment", "web"])),
        set(&["nginx"])
    );

    // JSON merge patch: maps merge, null deletes, lists would be replaced.
    k.ok(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"patched":"merge","tier":null}}}"#,
    ]);
    assert_eq!(
        labels(&k.get_json(&["deployment", "web"])),
        json!({"app": "web", "patched": "merge"})
    );
    k.ok(&[
        "patch",
        "configmap",
        "web-config",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"size":null,"shape":"round"}}"#,
    ]);
    assert_eq!(
        k.get_json(&["configmap", "web-config"])["data"],
        json!({"color": "blue", "shape": "round"})
    );

    // JSON patch.
    k.ok(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":5},{"op":"add","path":"/metadata/annotations/note","value":"json"}]"#,
    ]);
    let deployment = k.get_json(&["deployment", "web"]);
    assert_eq!(deployment["spec"]["replicas"], 5);
    assert_eq!(deployment["metadata"]["annotations"]["note"], "json");

    // A failing `test` op rejects the whole patch.
    let rv = deployment["metadata"]["resourceVersion"].clone();
    let failed = k.fails(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":9},{"op":"test","path":"/spec/replicas","value":99}]"#,
    ]);
    assert!(failed.to_lowercase().contains("test"), "{failed}");
    let unchanged = k.get_json(&["deployment", "web"]);
    assert_eq!(unchanged["spec"]["replicas"], 5);
    assert_eq!(unchanged["metadata"]["resourceVersion"], rv);

    // A patch that makes the object invalid is a 422 and changes nothing.
    let invalid = k.fails(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":-3}}"#,
    ]);
    assert!(
        invalid.contains("is invalid") && invalid.contains("spec.replicas"),
        "{invalid}"
    );
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 5);

    // Patching something that does not exist is NotFound.
    let missing = k.fails(&["patch", "configmap", "nope", "-p", r#"{"data":{"a":"b"}}"#]);
    assert!(
        missing.contains("NotFound") || missing.contains("not found"),
        "{missing}"
    );
}

fn label_and_annotate(minor: u32) {
    let k = kubectl_for("label-annotate", minor, true);
    k.apply(&config_map("target", &[("app", "demo")]));

    let out = k.ok(&["label", "configmap", "target", "env=prod"]);
    assert!(out.contains("configmap/target labeled"), "{out}");
    assert_eq!(
        labels(&k.get_json(&["configmap", "target"])),
        json!({"app": "demo", "env": "prod"})
    );

    let refused = k.fails(&["label", "configmap", "target", "env=dev"]);
    assert!(refused.contains("already has a value"), "{refused}");
    k.ok(&["label", "configmap", "target", "env=dev", "--overwrite"]);
    assert_eq!(
        k.get_json(&["configmap", "target"])["metadata"]["labels"]["env"],
        "dev"
    );

    let out = k.ok(&["label", "configmap", "target", "env-"]);
    assert!(out.contains("configmap/target unlabeled"), "{out}");
    assert_eq!(
        labels(&k.get_json(&["configmap", "target"])),
        json!({"app": "demo"})
    );

    let invalid = k.fails(&["label", "configmap", "target", "bad=-value-"]);
    assert!(
        invalid.contains("invalid") || invalid.contains("Invalid"),
        "{invalid}"
    );

    // Label every object matching a selector.
    k.apply(&config_map("other", &[("app", "demo")]));
    k.ok(&["label", "configmaps", "-l", "app=demo", "wave=1"]);
    assert_eq!(
        names(&k, &["configmaps", "-l", "wave=1"]),
        set(&["configmap/target", "configmap/other"])
    );

    let out = k.ok(&["annotate", "configmap", "target", "note=hello world"]);
    assert!(out.contains("configmap/target annotated"), "{out}");
    assert_eq!(
        k.get_json(&["configmap", "target"])["metadata"]["annotations"]["note"],
        "hello world"
    );
    let refused = k.fails(&["annotate", "configmap", "target", "note=again"]);
    assert!(refused.contains("already has a value"), "{refused}");
    k.ok(&[
        "annotate",
        "configmap",
        "target",
        "note=again",
        "--overwrite",
    ]);
    assert_eq!(
        k.get_json(&["configmap", "target"])["metadata"]["annotations"]["note"],
        "again"
    );
    k.ok(&["annotate", "configmap", "target", "note-"]);
    let annotations = k.get_json(&["configmap", "target"])["metadata"]["annotations"].clone();
    assert!(annotations.get("note").is_none(), "{annotations}");
}

// ---------------------------------------------------------------------------------------
// nodes: taint, cordon

fn taint_and_remove_taints(minor: u32) {
    let k = kubectl_for("taint", minor, false);
    let name = format!("taint-node-{minor}");
    k.apply(&node(&name));

    let out = k.ok(&["taint", "nodes", &name, "dedicated=gpu:NoSchedule"]);
    assert!(out.contains(&format!("node/{name} tainted")), "{out}");
    assert_eq!(
        taints(&k.get_json(&["node", &name])),
        [("dedicated".into(), "gpu".into(), "NoSchedule".into())]
    );

    k.ok(&["taint", "nodes", &name, "spot=true:PreferNoSchedule"]);
    let both: BTreeSet<_> = taints(&k.get_json(&["node", &name])).into_iter().collect();
    assert_eq!(
        both,
        [
            ("dedicated".into(), "gpu".into(), "NoSchedule".into()),
            ("spot".into(), "true".into(), "PreferNoSchedule".into()),
        ]
        .into_iter()
        .collect::<BTreeSet<(String, String, String)>>()
    );
    let described = k.ok(&["describe", "node", &name]);
    assert!(
        described.contains("dedicated=gpu:NoSchedule"),
        "{described}"
    );

    let refused = k.fails(&["taint", "nodes", &name, "dedicated=cpu:NoSchedule"]);
    assert!(refused.contains("--overwrite"), "{refused}");
    k.ok(&[
        "taint",
        "nodes",
        &name,
        "dedicated=cpu:NoSchedule",
        "--overwrite",
    ]);
    assert!(taints(&k.get_json(&["node", &name])).contains(&(
        "dedicated".into(),
        "cpu".into(),
        "NoSchedule".into()
    )));

    // Removing one of two sends the full remaining list (spec.taints has no merge key).
    let out = k.ok(&["taint", "nodes", &name, "dedicated:NoSchedule-"]);
    assert!(out.contains(&format!("node/{name} untainted")), "{out}");
    assert_eq!(
        taints(&k.get_json(&["node", &name])),
        [("spot".into(), "true".into(), "PreferNoSchedule".into())]
    );

    // Removing the last one sends `"taints": null`.
    k.ok(&["taint", "nodes", &name, "spot-"]);
    let node = k.get_json(&["node", &name]);
    assert!(taints(&node).is_empty(), "{node}");

    let missing = k.fails(&["taint", "nodes", &name, "spot-"]);
    assert!(missing.contains("not found"), "{missing}");
    k.ok(&["delete", "node", &name]);
}

fn cordon_and_uncordon(minor: u32) {
    let k = kubectl_for("cordon", minor, false);
    let name = format!("cordon-node-{minor}");
    k.apply(&node(&name));

    let out = k.ok(&["cordon", &name]);
    assert!(out.contains(&format!("node/{name} cordoned")), "{out}");
    assert_eq!(k.get_json(&["node", &name])["spec"]["unschedulable"], true);
    let table = k.ok(&["get", "node", &name]);
    assert!(row(&table, &name).contains("SchedulingDisabled"), "{table}");

    let again = k.ok(&["cordon", &name]);
    assert!(again.contains("already cordoned"), "{again}");

    let out = k.ok(&["uncordon", &name]);
    assert!(out.contains(&format!("node/{name} uncordoned")), "{out}");
    let node = k.get_json(&["node", &name]);
    assert_ne!(node["spec"]["unschedulable"], true, "{node}");
    let table = k.ok(&["get", "node", &name]);
    assert!(
        !row(&table, &name).contains("SchedulingDisabled"),
        "{table}"
    );
    k.ok(&["delete", "node", &name]);
}

// ---------------------------------------------------------------------------------------
// scale, delete

fn scale_deployment(minor: u32) {
    let k = kubectl_for("scale", minor, false);
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    let out = k.ok(&["scale", "deployment", "web", "--replicas=5"]);
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 5);

    // The precondition is checked against the live object.
    let refused = k.fails(&[
        "scale",
        "deployment",
        "web",
        "--current-replicas=3",
        "--replicas=6",
    ]);
    assert!(
        refused.contains("Expected replicas to be 3, was 5"),
        "{refused}"
    );
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 5);

    k.ok(&[
        "scale",
        "deployment",
        "web",
        "--current-replicas=5",
        "--replicas=0",
    ]);
    assert_eq!(k.get_json(&["deployment", "web"])["spec"]["replicas"], 0);

    // Through the scale subresource directly.
    let scale: Value = serde_json::from_str(&k.ok(&[
        "get",
        "--raw",
        &format!(
            "/apis/apps/v1/namespaces/{}/deployments/web/scale",
            k.namespace()
        ),
    ]))
    .expect("scale is JSON");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 0);
    assert_eq!(scale["status"]["selector"], "app=web");
}

fn delete_by_name_label_and_all(minor: u32) {
    let k = kubectl_for("delete", minor, true);
    for (name, group) in [("a", "x"), ("b", "x"), ("c", "y"), ("d", "y"), ("e", "z")] {
        k.apply(&config_map(name, &[("group", group)]));
    }
    let out = k.ok(&["delete", "configmap", "a"]);
    assert!(out.contains("configmap \"a\" deleted"), "{out}");
    assert!(!k.exists("configmap", "a"));

    let out = k.ok(&["delete", "configmaps", "-l", "group=y"]);
    assert!(
        out.contains("configmap \"c\" deleted") && out.contains("configmap \"d\" deleted"),
        "{out}"
    );
    assert_eq!(
        names(&k, &["configmaps", "-l", "group"]),
        set(&["configmap/b", "configmap/e"])
    );

    let missing = k.fails(&["delete", "configmap", "a"]);
    assert!(
        missing.contains("NotFound") && missing.contains("configmaps \"a\" not found"),
        "{missing}"
    );
    k.ok(&["delete", "configmap", "a", "--ignore-not-found"]);

    let out = k.ok(&["delete", "configmaps", "--all"]);
    assert!(
        out.contains("configmap \"b\" deleted") && out.contains("configmap \"e\" deleted"),
        "{out}"
    );
    assert_eq!(names(&k, &["configmaps", "-l", "group"]), set(&[]));

    // `delete -f` deletes what a manifest names; apps objects delete like core ones.
    k.ok_with(&["apply", "-f", "-"], Some(&app(&k)), &[]);
    k.ok(&["delete", "deployment", "web"]);
    assert!(!k.exists("deployment", "web"));
    let service_and_config: String = app(&k)
        .split("\n---\n")
        .filter(|doc| doc.contains("kind: Service") || doc.contains("kind: ConfigMap"))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let out = k.ok_with(&["delete", "-f", "-"], Some(&service_and_config), &[]);
    assert!(
        out.contains("service \"web\" deleted") && out.contains("configmap \"web-config\" deleted"),
        "{out}"
    );
    assert!(!k.exists("service", "web"));
    assert!(!k.exists("configmap", "web-config"));
}

fn delete_pods_and_namespaces_gracefully(minor: u32) {
    let k = kubectl_for("delete-graceful", minor, true);
    // Upstream: pkg/registry/core/pod/strategy.go (CheckGracefulDelete): a pod that was never
    // scheduled is deleted at once; a bound pod waits for its kubelet (grace period 30 s).
    k.apply(POD);
    let out = k.ok(&["delete", "pod", "solo"]);
    assert!(out.contains("pod \"solo\" deleted"), "{out}");
    assert!(!k.exists("pod", "solo"));

    let bound = POD
        .replace("name: solo", "name: bound")
        .replace("spec:\n", "spec:\n  nodeName: no-kubelet-here\n");
    k.apply(&bound);
    k.ok(&["delete", "pod", "bound", "--wait=false"]);
    let pod = k.get_json(&["pod", "bound"]);
    assert!(pod["metadata"]["deletionTimestamp"].is_string(), "{pod}");
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 30);
    let table = k.ok(&["get", "pods"]);
    assert!(row(&table, "bound").contains("Terminating"), "{table}");
    let out = k.run(&["delete", "pod", "bound", "--grace-period=0", "--force"]);
    assert!(out.stdout.contains("force deleted"), "{out}");
    assert!(!k.exists("pod", "bound"));

    // A deleted namespace is Terminating (its `kubernetes` finalizer is a controller's job)
    // and refuses new content with 403 Forbidden.
    // Upstream: plugin/pkg/admission/namespace/lifecycle/admission.go.
    let doomed = format!("doomed-{minor}");
    k.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {doomed}\n"
    ));
    k.ok(&["delete", "namespace", &doomed, "--wait=false"]);
    let namespace = k.run(&["get", "namespace", &doomed, "-o", "json"]);
    if namespace.success {
        let namespace: Value = serde_json::from_str(&namespace.stdout).expect("json");
        assert_eq!(namespace["status"]["phase"], "Terminating", "{namespace}");
        assert!(namespace["metadata"]["deletionTimestamp"].is_string());
        let refused = k.fails_with(
            &["apply", "--namespace", &doomed, "-f", "-"],
            Some(&config_map("late", &[])),
        );
        assert!(
            refused.contains("Forbidden")
                && refused.contains(&format!(
                    "unable to create new content in namespace {doomed} because it is being terminated"
                )),
            "{refused}"
        );
    } else {
        assert!(namespace.stderr.contains("NotFound"), "{namespace}");
    }
}

// ---------------------------------------------------------------------------------------
// watch

/// The first cell (event type) of each `--output-watch-events` row about `name`.
fn events_for(lines: &[String], name: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells.get(1) == Some(&name)).then(|| cells[0].to_string())
        })
        .collect()
}

fn is_event(line: &str, event: &str, name: &str) -> bool {
    let cells: Vec<&str> = line.split_whitespace().collect();
    cells.first() == Some(&event) && cells.get(1) == Some(&name)
}

fn watch_sees_added_modified_deleted(minor: u32) {
    let k = kubectl_for("watch", minor, true);
    k.apply(&config_map("pre", &[("watch", "yes")]));
    // --request-timeout only bounds a hang; the test stops the watch once it saw everything.
    let mut watch = k.spawn_lines(&[
        "get",
        "configmaps",
        "-l",
        "watch=yes",
        "--watch",
        "--output-watch-events",
        "--request-timeout=120s",
    ]);
    watch.wait_for("the initial ADDED of pre", |line| {
        is_event(line, "ADDED", "pre")
    });
    assert_eq!(
        watch.seen()[0].split_whitespace().collect::<Vec<_>>(),
        ["EVENT", "NAME", "DATA", "AGE"]
    );

    k.apply(&config_map("w1", &[("watch", "yes")]));
    k.ok(&["label", "configmap", "w1", "step=modified"]);
    k.ok(&["delete", "configmap", "w1"]);
    watch.wait_for("DELETED w1", |line| is_event(line, "DELETED", "w1"));

    // An object that stops matching the selector is DELETED for this watcher.
    k.apply(&config_map("w2", &[("watch", "yes")]));
    k.ok(&["label", "configmap", "w2", "watch=no", "--overwrite"]);
    watch.wait_for("DELETED w2", |line| is_event(line, "DELETED", "w2"));
    // ... and one that starts matching is ADDED.
    k.apply(&config_map("w3", &[("watch", "no")]));
    k.ok(&["label", "configmap", "w3", "watch=yes", "--overwrite"]);
    watch.wait_for("ADDED w3", |line| is_event(line, "ADDED", "w3"));
    watch.stop();

    let seen = watch.seen().to_vec();
    let w1 = events_for(&seen, "w1");
    assert_eq!(w1.first().map(String::as_str), Some("ADDED"), "{seen:#?}");
    assert_eq!(w1.last().map(String::as_str), Some("DELETED"), "{seen:#?}");
    assert!(w1.iter().any(|event| event == "MODIFIED"), "{seen:#?}");
    assert_eq!(events_for(&seen, "w2"), ["ADDED", "DELETED"], "{seen:#?}");
    assert_eq!(events_for(&seen, "pre"), ["ADDED"], "{seen:#?}");
}

fn watch_one_object_by_name(minor: u32) {
    let k = kubectl_for("watch-one", minor, true);
    k.apply(&config_map("target", &[]));
    k.apply(&config_map("bystander", &[]));
    let mut watch = k.spawn_lines(&[
        "get",
        "configmap",
        "target",
        "--watch",
        "--output-watch-events",
        "--request-timeout=120s",
    ]);
    watch.wait_for("the initial ADDED of target", |line| {
        is_event(line, "ADDED", "target")
    });
    k.ok(&["label", "configmap", "bystander", "touched=yes"]);
    k.ok(&["label", "configmap", "target", "touched=yes"]);
    watch.wait_for("MODIFIED target", |line| {
        is_event(line, "MODIFIED", "target")
    });
    k.ok(&["delete", "configmap", "target"]);
    watch.wait_for("DELETED target", |line| is_event(line, "DELETED", "target"));
    watch.stop();
    assert!(
        events_for(watch.seen(), "bystander").is_empty(),
        "a watch on one name sees only that object: {:#?}",
        watch.seen()
    );
}

fn watch_ends_at_request_timeout(minor: u32) {
    let k = kubectl_for("watch-timeout", minor, true);
    k.apply(&config_map("steady", &[]));
    let mut watch = k.spawn_lines(&["get", "configmaps", "-w", "--request-timeout=3s"]);
    let (success, stderr) = watch.wait_exit();
    assert!(
        success,
        "the watch ends cleanly at its timeout; stderr:\n{stderr}"
    );
    let seen = watch.seen();
    assert_eq!(
        seen.first()
            .map(|line| line.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NAME", "DATA", "AGE"]),
        "{seen:#?}"
    );
    assert!(
        seen.iter().any(|line| line.starts_with("steady ")),
        "{seen:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// create

fn create_namespace(minor: u32) {
    let k = kubectl_for("create-ns", minor, false);
    let name = k.namespace().to_string();
    let out = k.ok(&["create", "namespace", &name]);
    assert!(out.contains(&format!("namespace/{name} created")), "{out}");
    let namespace = k.get_json(&["namespace", &name]);
    assert_eq!(namespace["status"]["phase"], "Active");
    // Upstream: pkg/registry/core/namespace/strategy.go (PrepareForCreate) adds the
    // `kubernetes` finalizer.
    assert_eq!(namespace["spec"]["finalizers"], json!(["kubernetes"]));
    let table = k.ok(&["get", "namespaces"]);
    assert!(row(&table, &name).contains("Active"), "{table}");

    let again = k.fails(&["create", "namespace", &name]);
    assert!(
        again.contains("AlreadyExists")
            && again.contains(&format!("namespaces \"{name}\" already exists")),
        "{again}"
    );
    let invalid = k.fails(&["create", "namespace", "Not_A_DNS_Label"]);
    assert!(invalid.contains("is invalid"), "{invalid}");
}

fn create_from_generators(minor: u32) {
    let k = kubectl_for("create-gen", minor, true);
    let out = k.ok(&[
        "create",
        "configmap",
        "generated",
        "--from-literal=a=1",
        "--from-literal=b=2",
    ]);
    assert!(out.contains("configmap/generated created"), "{out}");
    assert_eq!(
        k.get_json(&["configmap", "generated"])["data"],
        json!({"a": "1", "b": "2"})
    );
    let out = k.ok(&[
        "create",
        "deployment",
        "gen",
        "--image=nginx:1.27",
        "--replicas=2",
    ]);
    assert!(out.contains("deployment.apps/gen created"), "{out}");
    let deployment = k.get_json(&["deployment", "gen"]);
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(image_of(&deployment, "nginx"), "nginx:1.27");
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"],
        json!({"app": "gen"})
    );
    let out = k.ok(&[
        "create",
        "secret",
        "generic",
        "creds",
        "--from-literal=user=admin",
    ]);
    assert!(out.contains("secret/creds created"), "{out}");
    assert_eq!(
        k.get_json(&["secret", "creds"])["data"]["user"],
        "YWRtaW4=",
        "secret data is base64"
    );
    let duplicate = k.fails(&["create", "configmap", "generated"]);
    assert!(
        duplicate.contains("configmaps \"generated\" already exists"),
        "{duplicate}"
    );
}

// ---------------------------------------------------------------------------------------
// bad input

fn invalid_objects_are_rejected(minor: u32) {
    let k = kubectl_for("invalid", minor, true);
    let bad_name = k.fails_with(
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\ndata:\n  a: b\n"),
    );
    assert!(
        bad_name.contains("is invalid")
            && bad_name.contains("metadata.name: Invalid value: \"Bad_Name\""),
        "{bad_name}"
    );
    assert!(!k.exists("configmap", "Bad_Name"));

    let bad_label = k.fails_with(
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad-label\n  labels:\n    \"bad key!\": v\n"),
    );
    assert!(
        bad_label.contains("is invalid") && bad_label.contains("metadata.labels"),
        "{bad_label}"
    );
    assert!(!k.exists("configmap", "bad-label"));

    let no_image = k.fails_with(
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: Pod\nmetadata:\n  name: no-image\nspec:\n  containers:\n  - name: main\n"),
    );
    assert!(
        no_image.contains("is invalid")
            && no_image.contains("spec.containers[0].image: Required value"),
        "{no_image}"
    );
    assert!(!k.exists("pod", "no-image"));

    let mismatch = k.fails_with(
        &["apply", "-f", "-"],
        Some("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mismatch\nspec:\n  selector:\n    matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: b}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"),
    );
    assert!(
        mismatch.contains("is invalid") && mismatch.contains("spec.template.metadata.labels"),
        "{mismatch}"
    );
    assert!(!k.exists("deployment", "mismatch"));

    let negative = k.fails_with(
        &["apply", "-f", "-"],
        Some("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: negative\nspec:\n  replicas: -1\n  selector:\n    matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: a}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"),
    );
    assert!(
        negative.contains("is invalid") && negative.contains("spec.replicas"),
        "{negative}"
    );
    assert!(!k.exists("deployment", "negative"));

    // Malformed YAML: kubectl refuses it before sending; nothing is created.
    let malformed = k.fails_with(
        &["apply", "-f", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n"),
    );
    assert!(malformed.contains("error"), "{malformed}");
}

fn unknown_fields_follow_the_validate_flag(minor: u32) {
    let k = kubectl_for("validate", minor, true);
    let manifest = |name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels: {{app: a}}\n  template:\n    metadata:\n      labels: {{app: a}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        imagePullPolcy: Always\n"
        )
    };
    // Strict (kubectl's default, sent as fieldValidation=Strict): a 400 naming the field.
    let strict = k.fails_with(
        &["apply", "--validate=strict", "-f", "-"],
        Some(&manifest("strict")),
    );
    assert!(
        strict.contains("BadRequest")
            && strict
                .contains(r#"unknown field "spec.template.spec.containers[0].imagePullPolcy""#),
        "{strict}"
    );
    assert!(!k.exists("deployment", "strict"));
    let default = k.fails_with(&["apply", "-f", "-"], Some(&manifest("default")));
    assert!(default.contains("imagePullPolcy"), "{default}");

    // Warn: created, with a warning naming the field.
    let warn = k.run_with(
        &["apply", "--validate=warn", "-f", "-"],
        Some(&manifest("warned")),
        &[],
    );
    assert!(warn.success, "{warn}");
    assert!(
        warn.stderr
            .contains("Warning: unknown field \"spec.template.spec.containers[0].imagePullPolcy\""),
        "{warn}"
    );
    assert!(k.exists("deployment", "warned"));
    let stored = k.get_json(&["deployment", "warned"]);
    assert!(
        stored["spec"]["template"]["spec"]["containers"][0]
            .get("imagePullPolcy")
            .is_none(),
        "unknown fields are dropped: {stored}"
    );

    // Ignore: created silently.
    let ignore = k.run_with(
        &["apply", "--validate=false", "-f", "-"],
        Some(&manifest("ignored")),
        &[],
    );
    assert!(
        ignore.success && !ignore.stderr.contains("Warning"),
        "{ignore}"
    );
    assert!(k.exists("deployment", "ignored"));
}

fn not_found_and_already_exists(minor: u32) {
    let k = kubectl_for("notfound", minor, true);
    let missing = k.fails(&["get", "configmap", "nope"]);
    assert!(
        missing.contains("Error from server (NotFound): configmaps \"nope\" not found"),
        "{missing}"
    );
    let missing_apps = k.fails(&["get", "deployment", "nope"]);
    assert!(
        missing_apps.contains("deployments.apps \"nope\" not found"),
        "{missing_apps}"
    );
    let missing_describe = k.fails(&["describe", "configmap", "nope"]);
    assert!(missing_describe.contains("not found"), "{missing_describe}");

    let manifest = config_map("once", &[]);
    let out = k.ok_with(&["create", "-f", "-"], Some(&manifest), &[]);
    assert!(out.contains("configmap/once created"), "{out}");
    let twice = k.fails_with(&["create", "-f", "-"], Some(&manifest));
    assert!(
        twice.contains("AlreadyExists") && twice.contains("configmaps \"once\" already exists"),
        "{twice}"
    );

    // A namespace that does not exist: lists are empty, creates are NotFound.
    let empty = k.run(&["get", "configmaps", "--namespace", "no-such-namespace"]);
    assert!(
        empty.success && empty.stderr.contains("No resources found"),
        "{empty}"
    );
    let orphan = k.fails_with(
        &["apply", "--namespace", "no-such-namespace", "-f", "-"],
        Some(&config_map("orphan", &[])),
    );
    assert!(
        orphan.contains("namespaces \"no-such-namespace\" not found"),
        "{orphan}"
    );
}

fn stale_resource_version_conflicts(minor: u32) {
    let k = kubectl_for("stale-rv", minor, true);
    k.apply(&config_map("cas", &[]));
    let old = k.ok(&["get", "configmap", "cas", "-o", "json"]);
    k.ok(&["label", "configmap", "cas", "changed=yes"]);

    // `replace` sends the object with its (now stale) resourceVersion: 409 Conflict.
    let stale = old.replace("\"value\"", "\"overwritten\"");
    let conflict = k.fails_with(&["replace", "-f", "-"], Some(&stale));
    assert!(
        conflict.contains("Conflict")
            && conflict.contains(
                "Operation cannot be fulfilled on configmaps \"cas\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        "{conflict}"
    );
    let current = k.get_json(&["configmap", "cas"]);
    assert_eq!(current["data"]["key"], "value");
    assert_eq!(current["metadata"]["labels"]["changed"], "yes");

    // A patch carrying a resourceVersion is a precondition.
    let old_rv: Value =
        serde_json::from_str::<Value>(&old).expect("json")["metadata"]["resourceVersion"].clone();
    let patch =
        json!({"metadata": {"resourceVersion": old_rv}, "data": {"key": "patched"}}).to_string();
    let conflict = k.fails(&["patch", "configmap", "cas", "--type", "merge", "-p", &patch]);
    assert!(conflict.contains("Conflict"), "{conflict}");
    assert_eq!(k.get_json(&["configmap", "cas"])["data"]["key"], "value");

    // Without a resourceVersion, replace is unconditional.
    let mut fresh = k.get_json(&["configmap", "cas"]);
    fresh["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("resourceVersion");
    fresh["data"]["key"] = json!("replaced");
    k.ok_with(&["replace", "-f", "-"], Some(&fresh.to_string()), &[]);
    assert_eq!(k.get_json(&["configmap", "cas"])["data"]["key"], "replaced");
}

fn raw_bad_bodies_are_rejected(minor: u32) {
    let k = kubectl_for("raw-bodies", minor, true);
    let path = format!("/api/v1/namespaces/{}/configmaps", k.namespace());

    let malformed = k.write_file(
        "malformed.json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"#,
    );
    let out = k.fails(&[
        "create",
        "--raw",
        &path,
        "-f",
        &malformed.display().to_string(),
    ]);
    assert!(
        out.contains("BadRequest"),
        "malformed JSON is a 400:\n{out}"
    );

    let wrong_kind = k.write_file(
        "pod.json",
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"wrong-kind"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#,
    );
    let out = k.fails(&[
        "create",
        "--raw",
        &path,
        "-f",
        &wrong_kind.display().to_string(),
    ]);
    assert!(
        out.contains("BadRequest"),
        "a Pod sent to configmaps is a 400:\n{out}"
    );

    let mut huge = String::from(
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"blob":""#,
    );
    // Just over the 3 MiB limit, so that a server that reads up to its limit (as upstream's
    // limitedReadBody does) leaves almost nothing unread and kubectl sees the 413 itself.
    huge.push_str(&"x".repeat(3 * 1024 * 1024));
    huge.push_str(r#""}}"#);
    let huge = k.write_file("huge.json", &huge);
    let out = k.fails(&["create", "--raw", &path, "-f", &huge.display().to_string()]);
    assert!(
        out.contains("RequestEntityTooLarge") || out.contains("413"),
        "{out}"
    );

    assert!(!k.exists("configmap", "huge"));
    assert!(!k.exists("configmap", "wrong-kind"));
    assert!(!k.exists("pod", "wrong-kind"));
}

// ---------------------------------------------------------------------------------------
// One #[test] per (case, kubectl minor).

macro_rules! for_each_kubectl_minor {
    ($($(#[$attribute:meta])* $case:ident),* $(,)?) => {
        /// The suite with `--kube-minor 29`: kubectl 1.29 (aggregated discovery v2beta1).
        mod kubectl_1_29 {
            $( $(#[$attribute])* #[test] fn $case() { super::$case(29) } )*
        }
        /// The suite with `--kube-minor 32`: kubectl 1.32 (aggregated discovery v2).
        mod kubectl_1_32 {
            $( $(#[$attribute])* #[test] fn $case() { super::$case(32) } )*
        }
    };
}

for_each_kubectl_minor!(
    dispatcher_runs_the_matching_kubectl,
    api_resources_lists_every_issue_resource,
    apply_multi_document_creates_every_object,
    reapply_after_edit_is_a_three_way_strategic_merge,
    diff_and_server_dry_run_do_not_persist,
    server_side_apply_updates_and_prunes,
    get_output_formats,
    get_with_label_selectors,
    get_with_field_selectors,
    get_show_labels,
    get_all,
    describe_objects,
    explain_pod_spec,
    edit_with_scripted_editor,
    patch_strategic_merge_and_json,
    label_and_annotate,
    taint_and_remove_taints,
    cordon_and_uncordon,
    scale_deployment,
    delete_by_name_label_and_all,
    delete_pods_and_namespaces_gracefully,
    watch_sees_added_modified_deleted,
    watch_one_object_by_name,
    watch_ends_at_request_timeout,
    create_namespace,
    create_from_generators,
    invalid_objects_are_rejected,
    unknown_fields_follow_the_validate_flag,
    not_found_and_already_exists,
    stale_resource_version_conflicts,
    raw_bad_bodies_are_rejected,
);
