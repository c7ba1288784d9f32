//! In-process tests of the simulated kubelet against a real in-memory API server, under
//! virtual time (`start_paused`): the node registers Ready, the lease is renewed on its
//! cadence, pods start after the configured delays and become Ready, Job pods succeed, graceful
//! deletions complete, maxPods is enforced, and the same seed gives the same writes.

use std::time::Duration;

use jiff::Timestamp;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_kubelet::{Kubelet, KubeletHandle, KubeletKnobs, PodFeed};
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};

mod common;
use common::{epoch, next_events, open_watch, test_client};

fn res(group: &str, resource: &str) -> &'static ResourceInfo {
    registry::lookup(group, "v1", resource).expect("served")
}

struct Env {
    time: SimTime,
    client: LocalClient,
    handle: KubeletHandle,
}

fn node_template(name: &str, pods: &str) -> Value {
    json!({
        "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": "z1"}},
        "spec": {"podCIDR": "10.244.7.0/24"},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": pods, "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": pods, "ephemeral-storage": "100Gi"},
            "addresses": [{"type": "InternalIP", "address": "192.168.1.7"}, {"type": "Hostname", "address": name}],
        },
    })
}

async fn start(pods: &str, knobs: KubeletKnobs, seed: u64) -> Env {
    let time = SimTime::new(epoch(), 1.0);
    let client = test_client(&time, seed).await;
    let kubelet = Kubelet::new(
        LocalClient::new(client.server().clone(), "kubelet"),
        time.clone(),
        node_template("node-1", pods),
        knobs,
        seed,
    );
    let handle = kubelet.handle();
    tokio::spawn(kubelet.run());
    // Let the kubelet register.
    time.sleep(Duration::from_millis(10)).await;
    Env {
        time,
        client,
        handle,
    }
}

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["nodeName"] = json!("node-1");
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

async fn create_pod(env: &Env, obj: Value) {
    env.client
        .create(res("", "pods"), Some("default"), obj)
        .await
        .expect("create pod");
}

fn get_pod(env: &Env, name: &str) -> Option<Value> {
    env.client.get(res("", "pods"), Some("default"), name).ok()
}

fn condition<'a>(obj: &'a Value, type_: &str) -> &'a Value {
    obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

async fn at(env: &Env, seconds: f64) {
    let target = epoch() + jiff::SignedDuration::from_secs_f64(seconds);
    env.time.sleep_until(target).await;
}

#[tokio::test(start_paused = true)]
async fn node_registers_ready_with_kubelet_fields() {
    let env = start("110", KubeletKnobs::default(), 1).await;
    at(&env, 1.0).await;
    let node = env
        .client
        .get(res("", "nodes"), None, "node-1")
        .expect("node");
    assert_eq!(condition(&node, "Ready")["status"], "True");
    assert_eq!(condition(&node, "Ready")["reason"], "KubeletReady");
    assert_eq!(
        condition(&node, "MemoryPressure")["reason"],
        "KubeletHasSufficientMemory"
    );
    assert_eq!(
        node["metadata"]["labels"]["kubernetes.io/hostname"],
        "node-1"
    );
    assert_eq!(
        node["metadata"]["labels"]["topology.kubernetes.io/zone"],
        "z1"
    );
    assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], "v1.34.1");
    let lease = env
        .client
        .get(
            res("coordination.k8s.io", "leases"),
            Some("kube-node-lease"),
            "node-1",
        )
        .expect("lease");
    assert_eq!(lease["spec"]["holderIdentity"], "node-1");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(lease["metadata"]["ownerReferences"][0]["kind"], "Node");
    assert_eq!(
        lease["metadata"]["ownerReferences"][0]["uid"],
        node["metadata"]["uid"]
    );
}

#[tokio::test(start_paused = true)]
async fn lease_is_renewed_every_quarter_duration_with_small_jitter() {
    let env = start("110", KubeletKnobs::default(), 2).await;
    let leases = res("coordination.k8s.io", "leases");
    let mut renewals: Vec<Timestamp> = Vec::new();
    let mut last = String::new();
    for step in 0..600 {
        at(&env, f64::from(step) * 0.1).await;
        if let Ok(l) = env.client.get(leases, Some("kube-node-lease"), "node-1") {
            let t = l["spec"]["renewTime"].as_str().unwrap_or("").to_string();
            if t != last {
                renewals.push(t.parse().expect("micro time"));
                last = t;
            }
        }
    }
    assert!(renewals.len() >= 5, "{renewals:?}");
    for pair in renewals.windows(2) {
        let gap = pair[1].duration_since(pair[0]).as_secs_f64();
        assert!((10.0..=10.41).contains(&gap), "gap {gap}");
    }
    // Stopped kubelet: no renewals; started again: renewals resume.
    env.handle.stop();
    let frozen = last.clone();
    at(&env, 100.0).await;
    let l = env
        .client
        .get(leases, Some("kube-node-lease"), "node-1")
        .expect("lease");
    assert_eq!(l["spec"]["renewTime"], frozen.as_str());
    env.handle.start();
    at(&env, 101.0).await;
    let l = env
        .client
        .get(leases, Some("kube-node-lease"), "node-1")
        .expect("lease");
    assert_ne!(l["spec"]["renewTime"], frozen.as_str());
}

#[tokio::test(start_paused = true)]
async fn pod_runs_and_becomes_ready_after_configured_delays() {
    // sandbox 0.5 s, pull 2 s, start 0.5 s: running at ~3 s; readiness probe initialDelay 5 s.
    let env = start("110", KubeletKnobs::default(), 3).await;
    create_pod(
        &env,
        pod(
            "web",
            json!({"containers": [{
                "name": "nginx", "image": "nginx:1.25",
                "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 5, "periodSeconds": 10},
            }]}),
        ),
    )
    .await;
    // Before the sandbox exists: no IP yet.
    at(&env, 0.2).await;
    let p = get_pod(&env, "web").expect("pod");
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    assert_eq!(
        condition(&p, "PodReadyToStartContainers")["status"],
        "False"
    );
    assert_eq!(p["status"]["hostIP"], "192.168.1.7");
    assert!(p["status"]["podIP"].is_null());
    assert!(p["status"]["startTime"].is_string());
    // Sandbox ready (0.5 s), image pulling: still the first status. Upstream's `SyncPod`
    // (pkg/kubelet/kubelet.go) reports before it creates the sandbox and pulls, and the next
    // status comes once the containers run (`tests/pod_status_writes.rs`).
    at(&env, 2.0).await;
    let p = get_pod(&env, "web").expect("pod");
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(
        condition(&p, "PodReadyToStartContainers")["status"],
        "False"
    );
    assert!(p["status"]["podIP"].is_null());

    at(&env, 4.0).await;
    let p = get_pod(&env, "web").expect("pod");
    assert_eq!(p["status"]["phase"], "Running");
    let cs = &p["status"]["containerStatuses"][0];
    assert!(cs["state"]["running"]["startedAt"].is_string());
    assert_eq!(cs["ready"], false);
    assert_eq!(cs["started"], true);
    assert_eq!(cs["restartCount"], 0);
    assert_eq!(cs["image"], "docker.io/library/nginx:1.25");
    assert!(
        cs["imageID"]
            .as_str()
            .unwrap_or("")
            .starts_with("docker.io/library/nginx@sha256:")
    );
    assert!(
        cs["containerID"]
            .as_str()
            .unwrap_or("")
            .starts_with("containerd://")
    );
    assert_eq!(p["status"]["podIP"], "10.244.7.2");
    assert_eq!(p["status"]["podIPs"][0]["ip"], "10.244.7.2");
    assert_eq!(condition(&p, "PodReadyToStartContainers")["status"], "True");
    assert_eq!(condition(&p, "Initialized")["status"], "True");
    assert_eq!(condition(&p, "Ready")["status"], "False");
    assert_eq!(condition(&p, "Ready")["reason"], "ContainersNotReady");
    assert_eq!(
        condition(&p, "Ready")["message"],
        "containers with unready status: [nginx]"
    );
    assert_eq!(condition(&p, "PodScheduled")["status"], "True");
    assert_eq!(p["status"]["qosClass"], "BestEffort");

    at(&env, 9.0).await;
    let p = get_pod(&env, "web").expect("pod");
    assert_eq!(condition(&p, "Ready")["status"], "True");
    assert_eq!(condition(&p, "ContainersReady")["status"], "True");
    assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);

    // kubelet events for describe.
    let events = env
        .client
        .list(res("", "events"), Some("default"), None, None)
        .expect("events");
    let reasons: Vec<&str> = events
        .items
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    for want in ["Pulling", "Pulled", "Created", "Started"] {
        assert!(reasons.contains(&want), "{reasons:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn init_containers_complete_before_containers_start() {
    let env = start("110", KubeletKnobs::default(), 4).await;
    create_pod(
        &env,
        pod(
            "with-init",
            json!({
                "initContainers": [{"name": "setup", "image": "busybox:1.36"}],
                "containers": [{"name": "app", "image": "busybox:1.36"}],
            }),
        ),
    )
    .await;
    at(&env, 1.0).await;
    let p = get_pod(&env, "with-init").expect("pod");
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(
        condition(&p, "Initialized")["reason"],
        "ContainersNotInitialized"
    );
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    // setup: pull 0.5..2.5, running 3.0, exits 4.0; app: image present, running 4.5.
    at(&env, 5.0).await;
    let p = get_pod(&env, "with-init").expect("pod");
    assert_eq!(p["status"]["phase"], "Running");
    let init = &p["status"]["initContainerStatuses"][0];
    assert_eq!(init["state"]["terminated"]["reason"], "Completed");
    assert_eq!(init["state"]["terminated"]["exitCode"], 0);
    assert_eq!(init["ready"], true);
    assert_eq!(condition(&p, "Initialized")["status"], "True");
    assert_eq!(condition(&p, "Ready")["status"], "True");
}

#[tokio::test(start_paused = true)]
async fn job_pod_succeeds_after_its_run_duration() {
    let env = start("110", KubeletKnobs::default(), 5).await;
    let mut job_pod = pod(
        "job-x",
        json!({"restartPolicy": "Never", "containers": [{"name": "work", "image": "busybox:1.36"}]}),
    );
    job_pod["metadata"]["annotations"] = json!({"kubetwin.io/run-duration": "30s"});
    job_pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "x", "uid": "u-1", "controller": true}]);
    create_pod(&env, job_pod).await;
    at(&env, 20.0).await;
    assert_eq!(
        get_pod(&env, "job-x").expect("pod")["status"]["phase"],
        "Running"
    );
    at(&env, 40.0).await;
    let p = get_pod(&env, "job-x").expect("pod");
    assert_eq!(p["status"]["phase"], "Succeeded");
    let t = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["reason"], "Completed");
    assert_eq!(t["exitCode"], 0);
    assert_eq!(condition(&p, "Ready")["reason"], "PodCompleted");

    // A failing pod with OnFailure restarts (first at once, then with back-off).
    let mut failing = pod(
        "job-fail",
        json!({"restartPolicy": "OnFailure", "containers": [{"name": "work", "image": "busybox:1.36"}]}),
    );
    failing["metadata"]["annotations"] =
        json!({"kubetwin.io/run-duration": "5s", "kubetwin.io/exit-code": "1"});
    create_pod(&env, failing).await;
    at(&env, 80.0).await;
    let p = get_pod(&env, "job-fail").expect("pod");
    assert_eq!(p["status"]["phase"], "Running");
    let cs = &p["status"]["containerStatuses"][0];
    assert!(cs["restartCount"].as_i64().unwrap_or(0) >= 2, "{cs}");
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(cs["lastState"]["terminated"]["reason"], "Error");

    // Never: the failure is final.
    let mut never = pod(
        "job-never",
        json!({"restartPolicy": "Never", "containers": [{"name": "work", "image": "busybox:1.36"}]}),
    );
    never["metadata"]["annotations"] =
        json!({"kubetwin.io/run-duration": "5s", "kubetwin.io/exit-code": "2"});
    create_pod(&env, never).await;
    at(&env, 100.0).await;
    let p = get_pod(&env, "job-never").expect("pod");
    assert_eq!(p["status"]["phase"], "Failed");
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        2
    );
}

#[tokio::test(start_paused = true)]
async fn graceful_deletion_is_completed_by_the_kubelet() {
    let env = start("110", KubeletKnobs::default(), 6).await;
    create_pod(
        &env,
        pod(
            "doomed",
            json!({"containers": [{"name": "c", "image": "nginx:1.25"}]}),
        ),
    )
    .await;
    at(&env, 10.0).await;
    assert_eq!(
        get_pod(&env, "doomed").expect("pod")["status"]["phase"],
        "Running"
    );
    let out = env
        .client
        .delete(
            res("", "pods"),
            Some("default"),
            "doomed",
            &DeleteOptions::default(),
        )
        .await
        .expect("delete");
    assert!(
        !out.deleted,
        "a scheduled running pod is deleted gracefully"
    );
    at(&env, 10.5).await;
    let p = get_pod(&env, "doomed").expect("still terminating");
    assert!(p["metadata"]["deletionTimestamp"].is_string());
    // termination delay 1 s (< 30 s grace): gone shortly after.
    at(&env, 12.0).await;
    assert!(
        get_pod(&env, "doomed").is_none(),
        "the kubelet deleted it with grace 0"
    );
    // The IP is released and reused only after the range wraps (host-local round robin).
    create_pod(
        &env,
        pod(
            "next",
            json!({"containers": [{"name": "c", "image": "nginx:1.25"}]}),
        ),
    )
    .await;
    at(&env, 20.0).await;
    assert_eq!(
        get_pod(&env, "next").expect("pod")["status"]["podIP"],
        "10.244.7.3"
    );
}

#[tokio::test(start_paused = true)]
async fn max_pods_rejects_with_out_of_pods() {
    let env = start("1", KubeletKnobs::default(), 7).await;
    create_pod(
        &env,
        pod(
            "first",
            json!({"containers": [{"name": "c", "image": "nginx:1.25"}]}),
        ),
    )
    .await;
    at(&env, 1.0).await;
    create_pod(
        &env,
        pod(
            "second",
            json!({"containers": [{"name": "c", "image": "nginx:1.25"}]}),
        ),
    )
    .await;
    at(&env, 2.0).await;
    let p = get_pod(&env, "second").expect("pod");
    assert_eq!(p["status"]["phase"], "Failed");
    assert_eq!(p["status"]["reason"], "OutOfpods");
    assert_eq!(
        p["status"]["message"],
        "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1"
    );
    at(&env, 5.0).await;
    assert_eq!(
        get_pod(&env, "first").expect("pod")["status"]["phase"],
        "Running"
    );
}

#[tokio::test(start_paused = true)]
async fn readiness_failure_annotation_keeps_pod_unready_and_liveness_failure_restarts() {
    let env = start("110", KubeletKnobs::default(), 8).await;
    let mut unready = pod(
        "unready",
        json!({"containers": [{"name": "c", "image": "nginx:1.25",
            "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5}}]}),
    );
    unready["metadata"]["annotations"] = json!({"kubetwin.io/readiness-fails": "true"});
    create_pod(&env, unready).await;
    let mut sick = pod(
        "sick",
        json!({"containers": [{"name": "c", "image": "nginx:1.25",
            "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5, "failureThreshold": 2}}]}),
    );
    sick["metadata"]["annotations"] = json!({"kubetwin.io/liveness-fails-after": "20s"});
    create_pod(&env, sick).await;
    at(&env, 60.0).await;
    let p = get_pod(&env, "unready").expect("pod");
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(condition(&p, "Ready")["status"], "False");
    let p = get_pod(&env, "sick").expect("pod");
    let cs = &p["status"]["containerStatuses"][0];
    assert!(cs["restartCount"].as_i64().unwrap_or(0) >= 1, "{cs}");
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 137);
}

/// Everything the API stored during a run, in write order.
async fn recorded_run(seed: u64) -> Vec<(String, String, String)> {
    let env = start("110", KubeletKnobs::default(), seed).await;
    for (i, image) in ["nginx:1.25", "redis:7", "nginx:1.25"].iter().enumerate() {
        create_pod(
            &env,
            pod(
                &format!("p{i}"),
                json!({"containers": [{"name": "c", "image": image,
                    "readinessProbe": {"exec": {"command": ["true"]}, "initialDelaySeconds": 2}}]}),
            ),
        )
        .await;
    }
    at(&env, 45.0).await;
    env.client
        .delete(
            res("", "pods"),
            Some("default"),
            "p1",
            &DeleteOptions::default(),
        )
        .await
        .expect("delete");
    at(&env, 60.0).await;
    env.handle.shutdown();
    let mut out = Vec::new();
    for (group, resource, ns) in [
        ("", "pods", Some("default")),
        ("", "nodes", None),
        ("coordination.k8s.io", "leases", Some("kube-node-lease")),
        ("", "events", Some("default")),
    ] {
        let listed = env
            .client
            .list(res(group, resource), ns, None, None)
            .expect("list");
        for item in listed.items {
            out.push((
                item["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                format!(
                    "{resource}/{}",
                    item["metadata"]["name"].as_str().unwrap_or("")
                ),
                item.to_string(),
            ));
        }
    }
    out.sort();
    out
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_writes() {
    let a = recorded_run(11).await;
    let b = recorded_run(11).await;
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[tokio::test(start_paused = true)]
async fn kubelets_share_one_pod_feed() {
    let time = SimTime::new(epoch(), 1.0);
    let client = test_client(&time, 9).await;
    let server = client.server().clone();
    let feed = PodFeed::new(LocalClient::new(server.clone(), "kubelet"), time.clone());
    let mut handles = Vec::new();
    for (i, name) in ["node-a", "node-b"].iter().enumerate() {
        let mut template = node_template(name, "110");
        template["spec"]["podCIDR"] = json!(format!("10.244.{i}.0/24"));
        let kubelet = Kubelet::new(
            LocalClient::new(server.clone(), "kubelet"),
            time.clone(),
            template,
            KubeletKnobs::default(),
            9,
        )
        .with_pod_feed(feed.subscribe(name));
        handles.push(kubelet.handle());
        tokio::spawn(kubelet.run());
    }
    tokio::spawn(feed.clone().run());
    time.sleep(Duration::from_millis(10)).await;
    for (name, node) in [("pa", "node-a"), ("pb", "node-b")] {
        let mut p = pod(
            name,
            json!({"containers": [{"name": "c", "image": "nginx:1.25"}]}),
        );
        p["spec"]["nodeName"] = json!(node);
        client
            .create(res("", "pods"), Some("default"), p)
            .await
            .expect("create");
    }
    time.sleep(Duration::from_secs(10)).await;
    let pa = client
        .get(res("", "pods"), Some("default"), "pa")
        .expect("pa");
    let pb = client
        .get(res("", "pods"), Some("default"), "pb")
        .expect("pb");
    assert_eq!(pa["status"]["phase"], "Running");
    assert_eq!(pb["status"]["phase"], "Running");
    assert_eq!(pa["status"]["podIP"], "10.244.0.2");
    assert_eq!(pb["status"]["podIP"], "10.244.1.2");
    // Stop and start one kubelet: it re-lists and keeps going; deletion still completes.
    handles[1].stop();
    time.sleep(Duration::from_secs(5)).await;
    handles[1].start();
    client
        .delete(
            res("", "pods"),
            Some("default"),
            "pb",
            &DeleteOptions::default(),
        )
        .await
        .expect("delete");
    time.sleep(Duration::from_secs(5)).await;
    assert!(client.get(res("", "pods"), Some("default"), "pb").is_err());
    for h in handles {
        h.shutdown();
    }
}

#[tokio::test(start_paused = true)]
async fn disconnected_kubelet_keeps_running_pods_and_posts_on_reconnect() {
    let env = start("110", KubeletKnobs::default(), 12).await;
    let mut job_pod = pod(
        "offline-job",
        json!({"restartPolicy": "Never", "containers": [{"name": "work", "image": "busybox:1.36"}]}),
    );
    job_pod["metadata"]["annotations"] = json!({"kubetwin.io/run-duration": "20s"});
    create_pod(&env, job_pod).await;
    at(&env, 10.0).await;
    assert_eq!(
        get_pod(&env, "offline-job").expect("pod")["status"]["phase"],
        "Running"
    );
    env.handle.disconnect();
    let leases = res("coordination.k8s.io", "leases");
    let before = env
        .client
        .get(leases, Some("kube-node-lease"), "node-1")
        .expect("lease")["spec"]["renewTime"]
        .clone();
    at(&env, 60.0).await;
    // Nothing posted while cut off, though the container finished locally.
    assert_eq!(
        get_pod(&env, "offline-job").expect("pod")["status"]["phase"],
        "Running"
    );
    let lease = env
        .client
        .get(leases, Some("kube-node-lease"), "node-1")
        .expect("lease");
    assert_eq!(lease["spec"]["renewTime"], before);
    env.handle.reconnect();
    at(&env, 61.0).await;
    assert_eq!(
        get_pod(&env, "offline-job").expect("pod")["status"]["phase"],
        "Succeeded"
    );
    let lease = env
        .client
        .get(leases, Some("kube-node-lease"), "node-1")
        .expect("lease");
    assert_ne!(lease["spec"]["renewTime"], before);
}

/// Upstream: `pkg/kubelet/status/status_manager.go` `needsReconcile` — when another writer
/// (the node lifecycle controller's MarkPodsNotReady while the node was unreachable) flips a
/// condition the kubelet owns, the kubelet writes its own status again.
#[tokio::test(start_paused = true)]
async fn a_foreign_ready_false_is_reconciled_by_the_kubelet() {
    let env = start("110", KubeletKnobs::default(), 13).await;
    create_pod(
        &env,
        pod(
            "web",
            json!({"containers": [{"name": "web", "image": "nginx:1.27"}]}),
        ),
    )
    .await;
    at(&env, 30.0).await;
    let running = get_pod(&env, "web").expect("pod");
    assert_eq!(condition(&running, "Ready")["status"], "True");
    let mut marked = running.clone();
    if let Some(conditions) = marked["status"]["conditions"].as_array_mut() {
        for c in conditions.iter_mut().filter(|c| c["type"] == "Ready") {
            c["status"] = json!("False");
        }
    }
    env.client
        .update(res("", "pods"), "status", marked)
        .await
        .expect("mark not ready");
    assert_eq!(
        condition(&get_pod(&env, "web").expect("pod"), "Ready")["status"],
        "False"
    );
    at(&env, 31.0).await;
    assert_eq!(
        condition(&get_pod(&env, "web").expect("pod"), "Ready")["status"],
        "True",
        "the kubelet restores the condition it owns"
    );
}

fn lease_of(env: &Env) -> Value {
    env.client
        .get(
            res("coordination.k8s.io", "leases"),
            Some("kube-node-lease"),
            "node-1",
        )
        .expect("lease")
}

fn renew_time(lease: &Value) -> Timestamp {
    lease["spec"]["renewTime"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("renewTime")
}

fn rv(obj: &Value) -> String {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Implicit renewals (`kubetwin_apiserver::heartbeat`): reads show the Lease renewed on the
/// upstream cadence (lease/controller.go: every quarter of the duration, 4% jitter) while the
/// stored object, its resourceVersion included, stays as written; an observer makes every
/// renewal a write again, seen as MODIFIED events, and its departure ends them.
#[tokio::test(start_paused = true)]
async fn implicit_renewals_write_nothing_until_observed() {
    let env = start("110", KubeletKnobs::default(), 4).await;
    at(&env, 1.0).await;
    let first = lease_of(&env);
    at(&env, 60.0).await;
    let later = lease_of(&env);
    let gap = renew_time(&later).duration_since(renew_time(&first));
    assert!(
        (50.0..=52.05).contains(&gap.as_secs_f64()),
        "five renewals since: {gap:?}"
    );
    assert_eq!(rv(&later), rv(&first), "no write for implicit renewals");

    let heartbeats = env.client.server().heartbeats.clone();
    let observer = heartbeats.observe();
    let leases = res("coordination.k8s.io", "leases");
    let from: i64 = rv(&later).parse().expect("rv");
    let mut watch = env
        .client
        .watch(leases, Some("kube-node-lease"), from, None, None)
        .expect("watch");
    at(&env, 100.0).await;
    let mut seen: Vec<Timestamp> = vec![renew_time(&later)];
    while let Ok(event) = watch.try_recv() {
        assert_eq!(event.event_type, "MODIFIED");
        seen.push(renew_time(&event.object));
    }
    assert!(
        seen.len() >= 4,
        "explicit renewals while observed: {seen:?}"
    );
    for pair in seen.windows(2) {
        let gap = pair[1].duration_since(pair[0]).as_secs_f64();
        assert!((10.0..=10.41).contains(&gap), "gap {gap} in {seen:?}");
    }
    assert_eq!(renew_time(&lease_of(&env)), seen[seen.len() - 1]);

    drop(observer);
    at(&env, 101.0).await;
    while watch.try_recv().is_ok() {}
    at(&env, 160.0).await;
    assert!(watch.try_recv().is_err(), "no writes once unobserved");
    assert!(
        renew_time(&lease_of(&env)) > seen[seen.len() - 1] + jiff::SignedDuration::from_secs(50)
    );
}

/// A kubelet stop writes the last implicit renewal (the state per-renewal writes leave); a
/// start writes a renewal at once (the one missed); a deleted Lease comes back at the next
/// renewal, as upstream's `ensureLease` creates it after a 404.
#[tokio::test(start_paused = true)]
async fn stop_writes_the_last_renewal_and_a_deleted_lease_comes_back() {
    let env = start("110", KubeletKnobs::default(), 5).await;
    at(&env, 35.0).await;
    let before_stop = lease_of(&env);
    env.handle.stop();
    at(&env, 36.0).await;
    let stopped = lease_of(&env);
    assert_eq!(renew_time(&stopped), renew_time(&before_stop));
    assert_ne!(
        rv(&stopped),
        rv(&before_stop),
        "the last renewal is written"
    );
    at(&env, 100.0).await;
    assert_eq!(lease_of(&env), stopped, "nothing moves while stopped");
    env.handle.start();
    at(&env, 100.5).await;
    assert_eq!(
        renew_time(&lease_of(&env)),
        epoch() + jiff::SignedDuration::from_secs(100)
    );

    let leases = res("coordination.k8s.io", "leases");
    env.client
        .delete(
            leases,
            Some("kube-node-lease"),
            "node-1",
            &DeleteOptions::default(),
        )
        .await
        .expect("delete");
    assert!(
        env.client
            .get(leases, Some("kube-node-lease"), "node-1")
            .is_err()
    );
    at(&env, 111.0).await;
    let back = lease_of(&env);
    assert_eq!(back["spec"]["holderIdentity"], "node-1");
    assert!(renew_time(&back) > epoch() + jiff::SignedDuration::from_secs(110));
}

/// What `kubectl get lease -n kube-node-lease -w` does: an HTTP watch. It gets the Lease
/// first, then every renewal as a MODIFIED event; closing it ends the explicit renewals.
#[tokio::test(start_paused = true)]
async fn http_lease_watch_sees_renewals() {
    let env = start("110", KubeletKnobs::default(), 6).await;
    at(&env, 30.0).await;
    let heartbeats = env.client.server().heartbeats.clone();
    let mut body = open_watch(
        &env.client,
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?watch=true",
    )
    .await;
    assert!(heartbeats.observed());
    let events = next_events(&mut body, 4, renew_time).await;
    assert_eq!(events[0].0, "ADDED");
    for pair in events.windows(2) {
        assert_eq!(pair[1].0, "MODIFIED");
        let gap = pair[1].1.duration_since(pair[0].1).as_secs_f64();
        assert!((10.0..=10.41).contains(&gap), "gap {gap} in {events:?}");
    }
    drop(body);
    assert!(!heartbeats.observed(), "the watch is closed");
}
