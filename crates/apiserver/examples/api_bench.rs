//! API benchmark: pod creates per second through HTTP with a real client (kube-rs), on the
//! memory and redb stores, watch fan-out latency with 100 watchers, and the simulated kubelet's
//! pod status writes (three merge patches of `pods/status` per pod, in process).
//!
//! `cargo run --release -p kubetwin-apiserver --example api_bench -- [PODS] [CONCURRENCY] [PHASE]`
//!
//! Timing uses the wall clock, which is allowed here only: this program measures, it decides nothing.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_core::clock::ManualClock;
use kubetwin_store::{RedbOptions, Store};

#[path = "../../bench-support/proc_stats.rs"]
mod proc_stats;

#[path = "../../kubetwin/src/allocator.rs"]
mod allocator;

// As in the `kubetwin` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
    }))
    .expect("valid pod")
}

async fn start(store: Store) -> (kube::Client, tokio::task::JoinHandle<()>) {
    let (addr, handle) = start_raw(store).await;
    let config = kube::Config::new(format!("http://{addr}").parse().expect("url"));
    (kube::Client::try_from(config).expect("client"), handle)
}

async fn creates_per_second(
    label: &str,
    store: Store,
    pods: usize,
    concurrency: usize,
    target: f64,
) {
    let (client, handle) = start(store).await;
    let api: Api<Pod> = Api::namespaced(client, "default");
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let api = api.clone();
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= pods {
                    return;
                }
                api.create(&PostParams::default(), &pod(&format!("p-{i}")))
                    .await
                    .expect("create");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label:<40} {pods:>7} pods in {secs:>6.2} s = {:>8.0} creates/s   (target ≥ {target:.0}/s)",
        pods as f64 / secs
    );
    handle.abort();
}

/// A bootstrapped server over `store`.
async fn bootstrapped(store: Store) -> Arc<ApiServer> {
    let server = ApiServer::new(
        Storage::new(store),
        Arc::new(ManualClock::at_default_epoch()),
        1,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    server
}

/// Starts a server and returns its address (for the raw HTTP client).
async fn start_raw(store: Store) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let server = bootstrapped(store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = kubetwin_apiserver::router(server);
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, handle)
}

/// A minimal keep-alive HTTP/1.1 client: POSTs a body and reads the response (status line,
/// headers, `content-length` body). Its cost is small next to the server's, so the figure is
/// the server's throughput.
struct RawClient {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
}

impl RawClient {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream: tokio::io::BufReader::new(stream),
        }
    }

    async fn post(&mut self, path: &str, body: &[u8]) -> u16 {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).await.expect("write");
        s.write_all(body).await.expect("write");
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status");
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await.expect("body");
        status
    }
}

async fn raw_creates_per_second(
    label: &str,
    store: Store,
    pods: usize,
    concurrency: usize,
    target: f64,
) {
    let (addr, handle) = start_raw(store).await;
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let mut client = RawClient::connect(addr).await;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= pods {
                    return;
                }
                let body = serde_json::to_vec(&pod(&format!("p-{i}"))).expect("json");
                let status = client.post("/api/v1/namespaces/default/pods", &body).await;
                assert_eq!(status, 201, "create p-{i}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label:<40} {pods:>7} pods in {secs:>6.2} s = {:>8.0} creates/s   (target ≥ {target:.0}/s)",
        pods as f64 / secs
    );
    handle.abort();
}

/// Creates through the in-process API (no HTTP, no client): the server's own cost per create.
async fn in_process_creates(pods: usize) {
    let server = bootstrapped(Store::memory()).await;
    let info = kubetwin_apiserver::registry::lookup("", "v1", "pods").expect("pods");
    let opts = kubetwin_apiserver::write::WriteOptions::default();
    let started = Instant::now();
    for i in 0..pods {
        let body = serde_json::to_value(pod(&format!("p-{i}"))).expect("json");
        server
            .create(info, Some("default"), body, &opts)
            .await
            .expect("create");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:<40} {pods:>7} pods in {secs:>6.2} s = {:>8.0} creates/s   (one task, no HTTP)",
        "in-process, memory store",
        pods as f64 / secs
    );
}

/// A pod as a ReplicaSet creates it: owner reference, labels, a container with requests, limits,
/// ports, probes and environment (what a status write's managedFields and decode walk over).
fn replica_pod(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "generateName": "web-7d4b9c-",
            "labels": {"app": "web", "pod-template-hash": "7d4b9c", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c",
                "uid": "6f1c1e7a-0000-4000-8000-000000000001", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {
            "containers": [{"name": "web", "image": "registry.example/web:1.2.3",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "production"}, {"name": "LOG", "value": "info"}],
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                    "limits": {"cpu": "1", "memory": "512Mi"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}}],
            "nodeName": "node-1",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 300}],
        },
    })
}

/// The kubelet's three status writes of a pod: created (containers waiting), started (running,
/// not ready), ready. Each is the whole status, as the simulated kubelet sends it.
fn kubelet_statuses(started_at: &str, ready_at: &str) -> [serde_json::Value; 3] {
    use serde_json::json;
    let condition = |type_: &str, status: &str, at: &str, reason: Option<&str>| {
        let mut c = json!({"type": type_, "status": status, "lastProbeTime": null,
            "lastTransitionTime": at, "observedGeneration": 1});
        if let Some(r) = reason {
            c["reason"] = json!(r);
        }
        c
    };
    let t0 = "2025-01-01T00:00:01Z";
    let host = json!({"hostIP": "10.0.0.1", "hostIPs": [{"ip": "10.0.0.1"}], "startTime": t0,
        "qosClass": "Burstable", "observedGeneration": 1});
    let with = |mut base: serde_json::Value, extra: serde_json::Value| {
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        base
    };
    let container = |state: serde_json::Value, ready: bool, started: bool| {
        json!({"name": "web", "image": "registry.example/web:1.2.3",
            "imageID": if started { "registry.example/web@sha256:0123" } else { "" },
            "containerID": if started { "containerd://abc123" } else { "" },
            "ready": ready, "started": started, "restartCount": 0, "state": state, "lastState": {},
            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"}}})
    };
    let pending = with(
        host.clone(),
        json!({"phase": "Pending",
        "conditions": [
            condition("PodReadyToStartContainers", "False", t0, None),
            condition("Initialized", "True", t0, None),
            condition("Ready", "False", t0, Some("ContainersNotReady")),
            condition("ContainersReady", "False", t0, Some("ContainersNotReady")),
            condition("PodScheduled", "True", t0, None)],
        "containerStatuses": [container(json!({"waiting": {"reason": "ContainerCreating"}}), false, false)]}),
    );
    let running = with(
        host.clone(),
        json!({"phase": "Running",
        "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
        "conditions": [
            condition("PodReadyToStartContainers", "True", started_at, None),
            condition("Initialized", "True", t0, None),
            condition("Ready", "False", t0, Some("ContainersNotReady")),
            condition("ContainersReady", "False", t0, Some("ContainersNotReady")),
            condition("PodScheduled", "True", t0, None)],
        "containerStatuses": [container(json!({"running": {"startedAt": started_at}}), false, true)]}),
    );
    let ready = with(
        host,
        json!({"phase": "Running",
        "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
        "conditions": [
            condition("PodReadyToStartContainers", "True", started_at, None),
            condition("Initialized", "True", t0, None),
            condition("Ready", "True", ready_at, None),
            condition("ContainersReady", "True", ready_at, None),
            condition("PodScheduled", "True", t0, None)],
        "containerStatuses": [container(json!({"running": {"startedAt": started_at}}), true, true)]}),
    );
    [pending, running, ready]
}

/// The simulated kubelet's pod status writes, in process: `pods` pods created, then three merge
/// patches of `pods/status` each (as `LocalClient::merge_patch_shared` with the kubelet's
/// manager).
async fn status_patches(pods: usize) {
    let server = bootstrapped(Store::memory()).await;
    let info = kubetwin_apiserver::registry::lookup("", "v1", "pods").expect("pods");
    let controller =
        kubetwin_apiserver::local::LocalClient::new(Arc::clone(&server), "kube-controller-manager");
    // Pods are always watched in a cluster (scheduler, informers, kubelets), so writes keep a
    // decoded copy for the watches; an open watch makes this phase do the same.
    let _pods_watched = server
        .storage
        .watch("/registry/pods/", server.storage.revision())
        .expect("watch pods");
    let kubelet = kubetwin_apiserver::local::LocalClient::new(server, "kubelet");
    for i in 0..pods {
        controller
            .create_shared(info, Some("default"), replica_pod(&format!("web-{i}")))
            .await
            .expect("create");
    }
    let statuses = kubelet_statuses("2025-01-01T00:00:03Z", "2025-01-01T00:00:08Z");
    let cpu_before = proc_stats::process_cpu_seconds();
    let started = Instant::now();
    for status in &statuses {
        let patch = serde_json::json!({ "status": status });
        for i in 0..pods {
            kubelet
                .merge_patch_shared(info, Some("default"), &format!("web-{i}"), "status", &patch)
                .await
                .expect("status patch");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = proc_stats::process_cpu_seconds() - cpu_before;
    let patches = pods * statuses.len();
    println!(
        "{:<40} {patches:>7} patches in {secs:>6.2} s = {:>8.0} patches/s, {:>6.1} µs/patch ({cpu:.2} CPU s = {:.1} CPU µs/patch)",
        "in-process pods/status merge patches",
        patches as f64 / secs,
        secs * 1e6 / patches as f64,
        cpu * 1e6 / patches as f64,
    );
}

async fn watch_fan_out(watchers: usize, events: usize) {
    let (client, handle) = start(Store::memory()).await;
    let api: Api<Pod> = Api::namespaced(client, "default");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    for _ in 0..watchers {
        let api = api.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut stream = api
                .watch(&WatchParams::default().timeout(290), "0")
                .await
                .expect("watch")
                .boxed();
            while let Some(Ok(event)) = stream.next().await {
                if let WatchEvent::Added(p) = event {
                    let _ = tx.send((p.metadata.name.unwrap_or_default(), Instant::now()));
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut latencies = Vec::new();
    for i in 0..events {
        let name = format!("w-{i}");
        let sent = Instant::now();
        api.create(&PostParams::default(), &pod(&name))
            .await
            .expect("create");
        let mut seen = 0;
        while seen < watchers {
            let (got, at) = rx.recv().await.expect("event");
            if got == name {
                latencies.push(at.duration_since(sent));
                seen += 1;
            }
        }
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "watch fan-out: {watchers} watchers × {events} creates: p50 {:?}, p99 {:?}, max {:?} (create to delivery)",
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    handle.abort();
}

#[tokio::main]
async fn main() {
    // Re-executes the whole process (runtime threads included) when the setting is missing.
    allocator::tune();
    let args: Vec<String> = std::env::args().collect();
    let pods: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    println!(
        "kubetwin API benchmark ({pods} pods, {concurrency} concurrent clients over loopback; clients share the machine with the server)"
    );
    // An optional third argument runs only the phases whose name contains it
    // (e.g. `raw` for the HTTP/1.1 keep-alive phases, for profiling).
    let only = args.get(3).cloned().unwrap_or_default();
    let wanted = |phase: &str| only.is_empty() || phase.contains(only.as_str());
    let dir = tempfile::tempdir().expect("tempdir");
    let open =
        |name: &str| Store::open_redb(dir.path().join(name), RedbOptions::default()).expect("redb");
    if wanted("in-process") {
        in_process_creates(pods).await;
    }
    if wanted("status-patch") {
        status_patches(pods).await;
    }
    if wanted("raw memory") {
        raw_creates_per_second(
            "HTTP/1.1 keep-alive, memory store",
            Store::memory(),
            pods,
            concurrency,
            20_000.0,
        )
        .await;
    }
    if wanted("raw redb") {
        raw_creates_per_second(
            "HTTP/1.1 keep-alive, redb (fsync, group)",
            open("raw.redb"),
            pods,
            concurrency,
            5_000.0,
        )
        .await;
    }
    if wanted("kube memory") {
        creates_per_second(
            "kube-rs client, memory store",
            Store::memory(),
            pods,
            concurrency,
            20_000.0,
        )
        .await;
    }
    if wanted("kube redb") {
        creates_per_second(
            "kube-rs client, redb (fsync, group)",
            open("kube.redb"),
            pods,
            concurrency,
            5_000.0,
        )
        .await;
    }
    if wanted("watch") {
        watch_fan_out(100, 100).await;
    }
    println!("peak RSS: {} MiB", proc_stats::peak_rss_mib());
}
