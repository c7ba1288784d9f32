//! End-to-end for the living cluster (issue 4): `kubetwin serve` with the built-in hybrid demo
//! cluster, driven by the real kubectl — nodes in several zones and providers, a Deployment
//! spread over zones rolling out to Running pods, a rolling update and its undo, and a pod too
//! big for any node carrying kube-scheduler's exact FailedScheduling message.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use support::kubectl::Kubectl;
use support::{OwnedServer, ServeOptions};

fn deployment(replicas: u32, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {{app: web}}
      containers:
      - name: web
        image: {image}
        resources:
          requests: {{cpu: 100m, memory: 64Mi}}
"#
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..120 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("timed out waiting for {what}");
}

/// `kubetwin serve` with the built-in hybrid cluster on the memory store.
fn start_default_cluster(
    data: &std::path::Path,
    extra_args: &'static [&'static str],
) -> OwnedServer {
    OwnedServer::start(
        data,
        &ServeOptions {
            store: "memory",
            kube_minor: 32,
            cluster: None,
            extra_args,
        },
    )
}

#[test]
fn hybrid_cluster_deployment_spread_rollout_undo_and_unschedulable_pod() {
    let data = tempfile::tempdir().expect("data dir");
    let server = start_default_cluster(data.path(), &[]);
    let kubectl = Kubectl::new(server.endpoint.clone(), "shop");

    // Nodes register through their kubelets, labelled as a cloud controller manager would.
    let mut nodes = Value::Null;
    wait_until("17 Ready nodes", || {
        nodes = kubectl.get_json(&["nodes"]);
        let items = nodes["items"].as_array().cloned().unwrap_or_default();
        items.len() == 17
            && items.iter().all(|n| {
                n["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
    });
    let zone_of: BTreeMap<String, String> = nodes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let name = n["metadata"]["name"].as_str().unwrap_or("").to_string();
            let zone = n["metadata"]["labels"]["topology.kubernetes.io/zone"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (name, zone)
        })
        .collect();
    let zones: std::collections::BTreeSet<&String> = zone_of.values().collect();
    assert!(zones.len() >= 6, "zones: {zones:?}");
    let table = kubectl.ok(&["get", "nodes", "-L", "topology.kubernetes.io/zone"]);
    assert!(
        table.contains("ZONE") && table.contains("us-east-1a") && table.contains("pve-fra-1"),
        "{table}"
    );

    // A Deployment with a zone spread constraint rolls out; pods run spread over zones.
    kubectl.ok(&["create", "namespace", "shop"]);
    kubectl.apply(&deployment(14, "nginx:1.27"));
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let pods = kubectl.get_json(&["pods", "-l", "app=web"]);
    let mut per_zone: BTreeMap<String, i64> = BTreeMap::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        assert_eq!(pod["status"]["phase"], "Running", "{pod}");
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        *per_zone
            .entry(zone_of.get(node).cloned().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(per_zone.values().sum::<i64>(), 14);
    // Every zone has an untainted node, so every zone is a domain: skew at most 1.
    let counts: Vec<i64> = zones
        .iter()
        .map(|z| per_zone.get(*z).copied().unwrap_or(0))
        .collect();
    let (min, max) = (
        counts.iter().min().copied().unwrap_or(0),
        counts.iter().max().copied().unwrap_or(0),
    );
    assert!(max - min <= 1, "zone spread {per_zone:?} over {zones:?}");

    // A rolling update to a new image, then undo restores the first ReplicaSet's template.
    // maxSurge and maxUnavailable (25% of 14: 4 and 3) hold in every state of the watch
    // streams: the ReplicaSets' replicas never sum above 14 + 4 (upstream bounds replicas, not
    // pods: old pods may still be terminating while new ones start), and at least 14 - 3
    // pods that are not terminating are Ready.
    let mut pod_watch = kubectl.spawn_lines(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-w",
        "--output-watch-events",
        "-o",
        r#"jsonpath={.type} {.object.metadata.name} deleting={.object.metadata.deletionTimestamp} ready={.object.status.conditions[?(@.type=="Ready")].status}{"\n"}"#,
    ]);
    let mut rs_watch = kubectl.spawn_lines(&[
        "get",
        "replicasets",
        "-l",
        "app=web",
        "-w",
        "--output-watch-events",
        "-o",
        r#"jsonpath={.type} {.object.metadata.name} {.object.spec.replicas}{"\n"}"#,
    ]);
    let initial = std::cell::Cell::new(0);
    pod_watch.wait_for("the 14 existing pods", |line| {
        initial.set(initial.get() + usize::from(line.starts_with("ADDED")));
        initial.get() == 14
    });
    rs_watch.wait_for("the existing ReplicaSet", |line| line.starts_with("ADDED"));
    kubectl.apply(&deployment(14, "nginx:1.28"));
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let pod_lines = pod_watch.read_until_quiet(Duration::from_secs(2)).to_vec();
    pod_watch.stop();
    let rs_lines = rs_watch.read_until_quiet(Duration::from_secs(1)).to_vec();
    rs_watch.stop();
    let mut pods: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let mut fewest_ready = usize::MAX;
    for (i, line) in pod_lines.iter().enumerate() {
        let mut fields = line.split(' ');
        let (kind, name) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let deleting = fields.next().is_some_and(|f| f != "deleting=");
        let ready = fields.next() == Some("ready=True");
        if kind == "DELETED" {
            pods.remove(name);
        } else {
            pods.insert(name.to_string(), (deleting, ready));
        }
        if i + 1 >= 14 {
            let ready = pods.values().filter(|(d, r)| !d && *r).count();
            fewest_ready = fewest_ready.min(ready);
        }
    }
    assert!(
        fewest_ready >= 11,
        "maxUnavailable exceeded: {fewest_ready} Ready\n{}",
        pod_lines.join("\n")
    );
    let mut replicas: BTreeMap<String, i64> = BTreeMap::new();
    let mut most = 0;
    for line in &rs_lines {
        let fields: Vec<&str> = line.split(' ').collect();
        if let [kind, name, count] = fields[..] {
            if kind == "DELETED" {
                replicas.remove(name);
            } else {
                replicas.insert(name.to_string(), count.parse().unwrap_or(0));
            }
            most = most.max(replicas.values().sum::<i64>());
        }
    }
    assert!(
        (15..=18).contains(&most),
        "replicas peaked at {most} (maxSurge 4 allows 18, a surge shows above 14)\n{}",
        rs_lines.join("\n")
    );
    let image = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image.trim(), "nginx:1.28");
    kubectl.ok(&["rollout", "undo", "deployment/web"]);
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let image = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image.trim(), "nginx:1.27");
    let history = kubectl.ok(&["rollout", "history", "deployment/web"]);
    assert!(history.contains('2') && history.contains('3'), "{history}");

    // A Service over the pods: its EndpointSlice has every Ready pod as a ready endpoint; a pod
    // whose readiness probe fails is listed not ready, and the Endpoints object keeps it out of
    // its addresses.
    kubectl.apply(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
    );
    kubectl.apply(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-canary\n  namespace: shop\n  labels: {app: web}\n  annotations: {kubetwin.io/readiness-fails: 'true'}\nspec:\n  containers:\n  - {name: web, image: 'nginx:1.28', readinessProbe: {httpGet: {path: /, port: 80}}}\n",
    );
    let ready_ips = || -> std::collections::BTreeSet<String> {
        let pods = kubectl.get_json(&["pods", "-l", "app=web"]);
        pods["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| {
                p["metadata"]["deletionTimestamp"].is_null()
                    && p["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
            .collect()
    };
    let mut slice_ready = std::collections::BTreeSet::new();
    let mut slice_not_ready = Vec::new();
    wait_until(
        "the EndpointSlice of 14 ready pods and the unready canary",
        || {
            let slices =
                kubectl.get_json(&["endpointslices", "-l", "kubernetes.io/service-name=web"]);
            slice_ready.clear();
            slice_not_ready.clear();
            for endpoint in slices["items"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
            {
                let address = endpoint["addresses"][0].as_str().unwrap_or("").to_string();
                if endpoint["conditions"]["ready"] == true {
                    slice_ready.insert(address);
                } else {
                    slice_not_ready.push(endpoint["targetRef"]["name"].clone());
                }
            }
            slice_ready.len() == 14 && slice_not_ready.len() == 1
        },
    );
    assert_eq!(
        slice_ready,
        ready_ips(),
        "ready endpoints are the Ready pods"
    );
    assert_eq!(slice_not_ready, vec![Value::from("web-canary")]);
    let endpoints = kubectl.get_json(&["endpoints", "web"]);
    let subset = &endpoints["subsets"][0];
    assert_eq!(
        subset["addresses"].as_array().map(Vec::len),
        Some(14),
        "{endpoints}"
    );
    assert_eq!(
        subset["notReadyAddresses"][0]["targetRef"]["name"], "web-canary",
        "{endpoints}"
    );

    // A pod too big for any node stays Pending with the exact upstream message.
    kubectl.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: huge, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources: {requests: {cpu: '500'}}\n",
    );
    let expected = "0/17 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 16 Insufficient cpu. no new claims to deallocate, preemption: 0/17 nodes are available: 17 Preemption is not helpful for scheduling.";
    let mut described = String::new();
    wait_until("the FailedScheduling event", || {
        described = kubectl.ok(&["describe", "pod", "huge"]);
        described.contains("FailedScheduling")
    });
    let flat: String = described.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(expected), "{described}");
    let phase = kubectl.ok(&["get", "pod", "huge", "-o", "jsonpath={.status.phase}"]);
    assert_eq!(phase.trim(), "Pending");
}

/// Runs the kubetwin binary's client commands against the server.
fn kubetwin(server: &OwnedServer, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kubetwin"))
        .args(args)
        .arg("--kubeconfig")
        .arg(&server.endpoint.kubeconfig)
        .output()
        .expect("running kubetwin")
}

fn ready_condition(object: &Value) -> String {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .and_then(|c| c["status"].as_str())
        .unwrap_or("")
        .to_string()
}

const WORKLOADS: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: "fluent/fluent-bit:3.1", resources: {requests: {cpu: 10m, memory: 16Mi}}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: ops}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ops}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: postgres
        image: postgres:17
        resources: {requests: {cpu: 100m, memory: 128Mi}}
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: ops}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {kubetwin.io/run-duration: 5s}
        spec:
          restartPolicy: Never
          containers:
          - {name: tick, image: busybox:1.36, command: [sh, -c, "date"]}
"#;

const API_WITH_PDB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ops}
spec:
  replicas: 4
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: api, image: "nginx:1.27", resources: {requests: {cpu: 100m, memory: 64Mi}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: ops}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: api}}
"#;

/// Issue 4's operational acceptance points at `--speed 10` (ten seconds of cluster time per
/// wall second, so grace periods and tolerationSeconds pass quickly): a DaemonSet on every
/// eligible node, a StatefulSet's pods in order with their provisioned volumes, a CronJob's
/// Jobs completing, `kubetwin explain pod`, a drain that a PodDisruptionBudget blocks until
/// replacements are Ready, and a stopped kubelet: node NotReady and tainted, its pods evicted
/// after tolerationSeconds and replaced elsewhere.
#[test]
fn daemonset_statefulset_cronjob_drain_and_kubelet_stop_at_speed() {
    let data = tempfile::tempdir().expect("data dir");
    let server = start_default_cluster(data.path(), &["--speed", "10", "--seed", "42"]);
    let kubectl = Kubectl::new(server.endpoint.clone(), "ops");
    wait_until("17 Ready nodes", || {
        let nodes = kubectl.get_json(&["nodes"]);
        let items = nodes["items"].as_array().cloned().unwrap_or_default();
        items.len() == 17 && items.iter().all(|n| ready_condition(n) == "True")
    });
    kubectl.ok(&["create", "namespace", "ops"]);
    kubectl.apply(WORKLOADS);

    // DaemonSet: every node but the tainted GPU node.
    wait_until("the DaemonSet on 16 nodes", || {
        let ds = kubectl.get_json(&["daemonset", "agent"]);
        ds["status"]["desiredNumberScheduled"] == 16 && ds["status"]["numberReady"] == 16
    });
    let agents = kubectl.get_json(&["pods", "-l", "app=agent"]);
    let nodes: std::collections::BTreeSet<&str> = agents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["spec"]["nodeName"].as_str())
        .collect();
    assert_eq!(nodes.len(), 16, "one agent per eligible node: {nodes:?}");

    // StatefulSet: ordinals in order, each with a bound claim.
    kubectl.ok(&["rollout", "status", "statefulset/db", "--timeout=90s"]);
    let pods = kubectl.get_json(&["pods", "-l", "app=db"]);
    let mut created: Vec<(String, String)> = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                p["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    created.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let order: Vec<&str> = created.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        order,
        vec!["db-0", "db-1", "db-2"],
        "OrderedReady creation order"
    );
    let claims = kubectl.get_json(&["pvc"]);
    let bound: Vec<(String, String)> = claims["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["metadata"]["name"].as_str().unwrap_or("").to_string(),
                c["status"]["phase"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        bound,
        vec![
            ("data-db-0".to_string(), "Bound".to_string()),
            ("data-db-1".to_string(), "Bound".to_string()),
            ("data-db-2".to_string(), "Bound".to_string()),
        ]
    );

    // The scheduler's explanation of a decision.
    let explained = kubetwin(&server, &["explain", "pod", "db-0", "-n", "ops"]);
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(explained.status.success(), "{explained:?}");
    assert!(
        text.starts_with("Last scheduling decision at ") && text.contains("ops/db-0"),
        "{text}"
    );
    assert!(
        text.contains("filter ") && text.contains("score "),
        "{text}"
    );
    let missing = kubetwin(&server, &["explain", "pod", "nope", "-n", "ops"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no scheduling decision is known"),
        "{missing:?}"
    );

    // CronJob: a Job per minute whose pod completes.
    wait_until("a completed Job of the CronJob", || {
        let jobs = kubectl.get_json(&["jobs"]);
        jobs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|j| j["status"]["succeeded"] == 1)
    });

    // Drain: all api pods on one node; the PDB (minAvailable 3 of 4) lets one go at a time.
    let target = kubectl
        .ok(&[
            "get",
            "nodes",
            "-l",
            "node.kubernetes.io/instance-type=cpx41",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ])
        .trim()
        .to_string();
    let others = format!("kubernetes.io/hostname!={target}");
    kubectl.ok(&["cordon", "-l", &others]);
    kubectl.apply(API_WITH_PDB);
    kubectl.ok(&["rollout", "status", "deployment/api", "--timeout=90s"]);
    kubectl.ok(&["uncordon", "-l", &others]);
    let on_target = kubectl.get_json(&["pods", "-l", "app=api"]);
    assert!(
        on_target["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|p| p["spec"]["nodeName"] == target.as_str()),
        "{on_target}"
    );
    wait_until("the PDB to allow one disruption", || {
        kubectl.get_json(&["pdb", "api"])["status"]["disruptionsAllowed"] == 1
    });
    let drain = kubectl.run(&[
        "drain",
        &target,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=120s",
    ]);
    assert!(drain.success, "{drain}");
    let output = drain.all_output();
    assert!(
        output.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "the PDB blocked at least one eviction: {drain}"
    );
    assert!(
        output.contains(&format!("node/{target} drained")),
        "{drain}"
    );
    wait_until("4 api pods Running elsewhere", || {
        let pods = kubectl.get_json(&["pods", "-l", "app=api"]);
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let running: Vec<&Value> = items
            .iter()
            .filter(|p| {
                p["metadata"]["deletionTimestamp"].is_null() && ready_condition(p) == "True"
            })
            .collect();
        running.len() == 4
            && running
                .iter()
                .all(|p| p["spec"]["nodeName"] != target.as_str())
    });

    // A stopped kubelet: NotReady (Unknown), unreachable taints, pods evicted after the
    // default 300 s toleration and replaced elsewhere.
    let pods = kubectl.get_json(&["pods", "-l", "app=api"]);
    let victim_node = pods["items"][0]["spec"]["nodeName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let stopped = kubetwin(&server, &["kubelet", "stop", &victim_node]);
    assert!(stopped.status.success(), "{stopped:?}");
    assert!(String::from_utf8_lossy(&stopped.stdout).contains("\"stopped\":true"));
    wait_until("the node to go NotReady with the unreachable taint", || {
        let node = kubectl.get_json(&["node", &victim_node]);
        let taints = node["spec"]["taints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        ready_condition(&node) == "Unknown"
            && taints
                .iter()
                .any(|t| t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoExecute")
    });
    wait_until("the stopped node's api pods to be replaced", || {
        let pods = kubectl.get_json(&["pods", "-l", "app=api"]);
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let ready_elsewhere = items
            .iter()
            .filter(|p| {
                p["metadata"]["deletionTimestamp"].is_null()
                    && p["spec"]["nodeName"] != victim_node.as_str()
                    && ready_condition(p) == "True"
            })
            .count();
        ready_elsewhere == 4
    });
    let started = kubetwin(&server, &["kubelet", "start", &victim_node]);
    assert!(started.status.success(), "{started:?}");
    wait_until("the node to be Ready again", || {
        ready_condition(&kubectl.get_json(&["node", &victim_node])) == "True"
    });
}
