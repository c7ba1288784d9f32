//! The recorder: watches pods, nodes and workloads through the in-process client, like any
//! other client of the API, and keeps what the report and the expectations need — never the
//! objects themselves.
//!
//! Values that change within one virtual instant (a pod is created and bound at the same
//! virtual time) are recorded as they stand at the end of the instant: the series hold the
//! state after everything that happened at that time, so "at most N pods Pending at any
//! time" means at any virtual time, not between two API writes of the same instant.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_apiserver::watch::WatchEvent;
use kubetwin_cluster::{
    ANNOTATION_HOURLY_PRICE, LABEL_POOL, LABEL_PROVIDER, LABEL_REGION, LABEL_ZONE,
};
use kubetwin_core::Quantity;
use kubetwin_core::clock::Clock;
use kubetwin_runtime::SimTime;
use serde_json::Value;
use tokio::sync::mpsc;

/// A value over time: `(milliseconds after the start, value)`, one point per change.
#[derive(Debug, Clone, Default)]
pub struct Series<T> {
    /// The points, in time order.
    pub points: Vec<(i64, T)>,
}

impl<T: Clone + PartialEq> Series<T> {
    /// Appends `value` at `t` when it differs from the last value (replacing a point at the
    /// same time).
    pub fn push(&mut self, t: i64, value: T) {
        if let Some((last_t, last)) = self.points.last_mut() {
            if *last == value {
                return;
            }
            if *last_t == t {
                *last = value;
                return;
            }
        }
        self.points.push((t, value));
    }

    /// The value at `t` (the last point at or before it).
    pub fn at(&self, t: i64) -> Option<&T> {
        let index = self.points.partition_point(|(pt, _)| *pt <= t);
        index.checked_sub(1).map(|i| &self.points[i].1)
    }

    /// The values in force during `[from, until]`: the value at `from` and every later point
    /// up to `until`.
    pub fn during(&self, from: i64, until: i64) -> Vec<&T> {
        let mut out: Vec<&T> = self.at(from).into_iter().collect();
        out.extend(
            self.points
                .iter()
                .filter(|(t, _)| *t > from && *t <= until)
                .map(|(_, v)| v),
        );
        out
    }
}

/// One evicted pod.
#[derive(Debug, Clone, PartialEq)]
pub struct EvictionRecord {
    /// When (ms after the start).
    pub t: i64,
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// The node it ran on.
    pub node: String,
    /// That node's zone.
    pub zone: String,
    /// The owning workload (`Kind/namespace/name`), when known.
    pub workload: Option<String>,
    /// Why: the `DisruptionTarget` reason (`DeletionByTaintManager`, `PreemptionByScheduler`,
    /// ...) or the action that evicted it (`drain`, `spotInterruption`, `removeNodePool`).
    pub reason: String,
}

/// A node's readiness or existence changed.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLogEntry {
    /// When (ms after the start).
    pub t: i64,
    /// Node name.
    pub node: String,
    /// `Registered`, `Ready`, `NotReady`, `Cordoned`, `Uncordoned` or `Deleted`.
    pub event: &'static str,
}

/// Aggregates of a zone (or a provider) at a sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Capacity {
    /// Nodes that exist.
    pub nodes: u64,
    /// Nodes that are Ready.
    pub ready_nodes: u64,
    /// CPU requested by pods bound there (millicores).
    pub cpu_requested_millis: i64,
    /// CPU allocatable (millicores).
    pub cpu_allocatable_millis: i64,
    /// Memory requested (bytes).
    pub memory_requested_bytes: i64,
    /// Memory allocatable (bytes).
    pub memory_allocatable_bytes: i64,
    /// Sum of the nodes' hourly prices.
    pub hourly_cost: f64,
}

/// The state of the cluster at one sample time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// When (ms after the start).
    pub t: i64,
    /// Nodes that exist.
    pub nodes: u64,
    /// Nodes that are Ready.
    pub ready_nodes: u64,
    /// Nodes that are cordoned.
    pub cordoned_nodes: u64,
    /// Pods Running (not terminating).
    pub running_pods: u64,
    /// Pods bound to a node but not Running yet.
    pub starting_pods: u64,
    /// Pods without a node.
    pub unscheduled_pods: u64,
    /// Pods terminating.
    pub terminating_pods: u64,
    /// Per zone, keyed `provider/region/zone`.
    pub zones: BTreeMap<String, Capacity>,
    /// Per provider.
    pub providers: BTreeMap<String, Capacity>,
    /// Why pods are unscheduled: the scheduler's message and how many pods have it.
    pub pending_reasons: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default)]
struct PodRec {
    uid: String,
    node: String,
    cpu_millis: i64,
    memory_bytes: i64,
    phase: String,
    terminating: bool,
    owner: Option<(String, String)>,
    unscheduled_message: Option<String>,
}

impl PodRec {
    fn unscheduled(&self) -> bool {
        self.node.is_empty()
            && !self.terminating
            && (self.phase.is_empty() || self.phase == "Pending")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct NodeRec {
    zone: String,
    provider: String,
    /// `provider/region/zone`, the key of the node's zone in a [`Sample`].
    zone_key: String,
    pool: String,
    price: f64,
    ready: bool,
    cordoned: bool,
    cpu_millis: i64,
    memory_bytes: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct WorkloadRec {
    ready: i64,
    desired: i64,
    /// Counted in the cluster's health (Deployments, StatefulSets, ReplicaSets without an
    /// owner).
    counts: bool,
}

/// Everything recorded. Shared between the recorder task and the engine.
#[derive(Debug, Default)]
pub struct Recording {
    /// The start of the run.
    pub start: Option<Timestamp>,
    instant: i64,
    pods: BTreeMap<String, PodRec>,
    /// How many of `pods` are unscheduled, kept as they change (counted at every instant).
    unscheduled_pods: u64,
    nodes: BTreeMap<String, NodeRec>,
    workloads: BTreeMap<String, WorkloadRec>,
    replica_set_owner: BTreeMap<String, String>,
    tracked: BTreeSet<String>,
    evicted_uids: BTreeSet<String>,
    zone_ids: Vec<String>,
    /// Unscheduled pods over time.
    pub unscheduled: Series<u64>,
    /// Whether the cluster is healthy: no unscheduled pod and every counted workload has as
    /// many Ready pods as it wants.
    pub healthy: Series<bool>,
    /// `(ready, desired)` of the workloads expectations name, keyed `Kind/namespace/name`.
    pub workload_series: BTreeMap<String, Series<(i64, i64)>>,
    /// Readiness of every node over time (`None`: the node does not exist).
    pub node_ready: BTreeMap<String, Series<Option<bool>>>,
    /// The cluster's hourly cost over time.
    pub hourly_cost: Series<f64>,
    /// Every eviction, in order.
    pub evictions: Vec<EvictionRecord>,
    /// Every first binding of a pod: time and zone index into [`Recording::zone_names`].
    pub bindings: Vec<(i64, u32)>,
    /// Node readiness and existence changes.
    pub node_log: Vec<NodeLogEntry>,
    /// The samples.
    pub samples: Vec<Sample>,
    /// Highest number of pods seen at once.
    pub peak_pods: u64,
    /// The store's revision at the end: how many writes the API server made.
    pub api_writes: i64,
}

/// The recording, shared.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<Mutex<Recording>>);

impl Shared {
    /// A recording that keeps series for the `tracked` workloads (`Kind/namespace/name`).
    pub fn new(start: Timestamp, tracked: BTreeSet<String>) -> Self {
        let recording = Recording {
            start: Some(start),
            tracked,
            ..Recording::default()
        };
        Self(Arc::new(Mutex::new(recording)))
    }

    /// Locks the recording.
    pub fn lock(&self) -> MutexGuard<'_, Recording> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Milliseconds from `start` to `now`.
pub fn millis_since(start: Timestamp, now: Timestamp) -> i64 {
    now.duration_since(start).as_millis() as i64
}

/// CPU (millicores) and memory (bytes) a pod requests: the larger of the sum over app
/// containers (plus restartable init containers) and the largest init container, plus the
/// pod overhead. Upstream: `staging/src/k8s.io/component-helpers/resource/helpers.go`
/// (`PodRequests`, `AggregateContainerRequests`).
pub fn pod_requests(pod: &Value) -> (i64, i64) {
    let request = |container: &Value, resource: &str, milli: bool| -> i64 {
        container["resources"]["requests"][resource]
            .as_str()
            .and_then(|q| Quantity::parse(q).ok())
            .map(|q| if milli { q.milli_value() } else { q.value() })
            .unwrap_or(0)
    };
    let spec = &pod["spec"];
    let empty = Vec::new();
    let containers = spec["containers"].as_array().unwrap_or(&empty);
    let init = spec["initContainers"].as_array().unwrap_or(&empty);
    let mut cpu: i64 = containers.iter().map(|c| request(c, "cpu", true)).sum();
    let mut memory: i64 = containers.iter().map(|c| request(c, "memory", false)).sum();
    // Init containers run in order; restartable ones (sidecars) keep running and add up.
    let (mut sidecar_cpu, mut sidecar_memory) = (0_i64, 0_i64);
    let (mut init_cpu, mut init_memory) = (0_i64, 0_i64);
    for c in init {
        let (c_cpu, c_memory) = (request(c, "cpu", true), request(c, "memory", false));
        if c["restartPolicy"] == "Always" {
            sidecar_cpu += c_cpu;
            sidecar_memory += c_memory;
            init_cpu = init_cpu.max(sidecar_cpu);
            init_memory = init_memory.max(sidecar_memory);
        } else {
            init_cpu = init_cpu.max(sidecar_cpu + c_cpu);
            init_memory = init_memory.max(sidecar_memory + c_memory);
        }
    }
    cpu = (cpu + sidecar_cpu).max(init_cpu);
    memory = (memory + sidecar_memory).max(init_memory);
    let overhead = |resource: &str, milli: bool| -> i64 {
        spec["overhead"][resource]
            .as_str()
            .and_then(|q| Quantity::parse(q).ok())
            .map(|q| if milli { q.milli_value() } else { q.value() })
            .unwrap_or(0)
    };
    (
        cpu + overhead("cpu", true),
        memory + overhead("memory", false),
    )
}

fn quantity(value: &Value, milli: bool) -> i64 {
    value
        .as_str()
        .and_then(|q| Quantity::parse(q).ok())
        .map(|q| if milli { q.milli_value() } else { q.value() })
        .unwrap_or(0)
}

fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn key_of(obj: &Value) -> String {
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

fn controller_owner(obj: &Value) -> Option<(String, String)> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|o| o["controller"] == true)
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or("").to_string(),
                o["name"].as_str().unwrap_or("").to_string(),
            )
        })
}

impl Recording {
    fn now_ms(&self, now: Timestamp) -> i64 {
        self.start.map_or(0, |s| millis_since(s, now))
    }

    /// Closes the current instant if `t` is later: records the series as they stand.
    pub fn advance_to(&mut self, t: i64) {
        if t > self.instant {
            self.commit();
            self.instant = t;
        }
    }

    /// Records the series at the current instant.
    pub fn commit(&mut self) {
        let t = self.instant;
        let unscheduled = self.unscheduled_pods;
        self.unscheduled.push(t, unscheduled);
        let healthy = unscheduled == 0
            && self
                .workloads
                .values()
                .all(|w| !w.counts || w.ready >= w.desired);
        self.healthy.push(t, healthy);
        for key in &self.tracked {
            let value = self
                .workloads
                .get(key)
                .map_or((0, 0), |w| (w.ready, w.desired));
            self.workload_series
                .entry(key.clone())
                .or_default()
                .push(t, value);
        }
        let cost: f64 = self.nodes.values().map(|n| n.price).sum();
        self.hourly_cost.push(t, (cost * 1e6).round() / 1e6 + 0.0);
        self.peak_pods = self.peak_pods.max(self.pods.len() as u64);
    }

    /// The owning workload of a pod (`Kind/namespace/name`), following a ReplicaSet to its
    /// Deployment.
    fn workload_of(&self, namespace: &str, owner: Option<&(String, String)>) -> Option<String> {
        let (kind, name) = owner?;
        if kind == "ReplicaSet"
            && let Some(deployment) = self.replica_set_owner.get(&format!("{namespace}/{name}"))
        {
            return Some(format!("Deployment/{namespace}/{deployment}"));
        }
        Some(format!("{kind}/{namespace}/{name}"))
    }

    fn zone_id(&mut self, zone: &str) -> u32 {
        match self.zone_ids.iter().position(|z| z == zone) {
            Some(i) => i as u32,
            None => {
                self.zone_ids.push(zone.to_string());
                (self.zone_ids.len() - 1) as u32
            }
        }
    }

    /// The zone names [`Recording::bindings`] refer to.
    pub fn zone_names(&self) -> &[String] {
        &self.zone_ids
    }

    /// Records an eviction the engine performed (drains); a pod is counted once.
    pub fn record_eviction(&mut self, now: Timestamp, pod: &Value, reason: &str) {
        let t = self.now_ms(now);
        self.advance_to(t);
        self.push_eviction(t, pod, reason);
    }

    fn push_eviction(&mut self, t: i64, pod: &Value, reason: &str) {
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        if !self.evicted_uids.insert(uid) {
            return;
        }
        let namespace = pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        let zone = self
            .nodes
            .get(&node)
            .map(|n| n.zone.clone())
            .unwrap_or_default();
        let owner = controller_owner(pod);
        self.evictions.push(EvictionRecord {
            t,
            workload: self.workload_of(&namespace, owner.as_ref()),
            namespace,
            pod: pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
            node,
            zone,
            reason: reason.to_string(),
        });
    }

    /// A pod's change; `key` is its `namespace/name`.
    fn on_pod(&mut self, t: i64, event_type: &str, pod: &Value, key: String) {
        if event_type == "DELETED" {
            self.set_pod(key, None);
            return;
        }
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        let previous = self.pods.get(&key);
        let was_unbound = previous.is_none_or(|p| p.node.is_empty());
        let (cpu_millis, memory_bytes) = match previous {
            Some(p) if p.uid == pod["metadata"]["uid"].as_str().unwrap_or("") => {
                (p.cpu_millis, p.memory_bytes)
            }
            _ => pod_requests(pod),
        };
        let unscheduled_message = condition(pod, "PodScheduled")
            .filter(|c| c["status"] == "False")
            .and_then(|c| c["message"].as_str())
            .map(str::to_string);
        let rec = PodRec {
            uid: pod["metadata"]["uid"].as_str().unwrap_or("").to_string(),
            node: node.clone(),
            cpu_millis,
            memory_bytes,
            phase: pod["status"]["phase"].as_str().unwrap_or("").to_string(),
            terminating: !pod["metadata"]["deletionTimestamp"].is_null(),
            owner: controller_owner(pod),
            unscheduled_message,
        };
        if !node.is_empty() && was_unbound {
            let zone = self
                .nodes
                .get(&node)
                .map(|n| n.zone.clone())
                .unwrap_or_default();
            let zone = self.zone_id(&zone);
            self.bindings.push((t, zone));
        }
        if let Some(c) = condition(pod, "DisruptionTarget")
            && c["status"] == "True"
        {
            let reason = c["reason"]
                .as_str()
                .unwrap_or("DisruptionTarget")
                .to_string();
            self.push_eviction(t, pod, &reason);
        }
        self.set_pod(key, Some(rec));
    }

    /// Replaces the record of the pod `key` (`None`: removes it), keeping the count of
    /// unscheduled pods in step.
    fn set_pod(&mut self, key: String, rec: Option<PodRec>) {
        let added = rec.as_ref().is_some_and(PodRec::unscheduled);
        let replaced = match rec {
            Some(rec) => self.pods.insert(key, rec),
            None => self.pods.remove(&key),
        };
        let removed = replaced.as_ref().is_some_and(PodRec::unscheduled);
        self.unscheduled_pods =
            (self.unscheduled_pods + u64::from(added)).saturating_sub(u64::from(removed));
    }

    fn on_node(&mut self, t: i64, event_type: &str, node: &Value) {
        let name = node["metadata"]["name"].as_str().unwrap_or("").to_string();
        if event_type == "DELETED" {
            if self.nodes.remove(&name).is_some() {
                self.node_log.push(NodeLogEntry {
                    t,
                    node: name.clone(),
                    event: "Deleted",
                });
            }
            self.node_ready.entry(name).or_default().push(t, None);
            return;
        }
        let labels = &node["metadata"]["labels"];
        let label = |key: &str| labels[key].as_str().unwrap_or("").to_string();
        let ready = condition(node, "Ready").is_some_and(|c| c["status"] == "True");
        let (zone, provider) = (label(LABEL_ZONE), label(LABEL_PROVIDER));
        let rec = NodeRec {
            zone_key: format!("{provider}/{}/{zone}", label(LABEL_REGION)),
            zone,
            provider,
            pool: label(LABEL_POOL),
            price: node["metadata"]["annotations"][ANNOTATION_HOURLY_PRICE]
                .as_str()
                .and_then(|p| p.parse::<f64>().ok())
                .filter(|p| p.is_finite())
                .unwrap_or(0.0),
            ready,
            cordoned: node["spec"]["unschedulable"] == true,
            cpu_millis: quantity(&node["status"]["allocatable"]["cpu"], true),
            memory_bytes: quantity(&node["status"]["allocatable"]["memory"], false),
        };
        let before = self.nodes.insert(name.clone(), rec.clone());
        let mut log = |event: &'static str| {
            self.node_log.push(NodeLogEntry {
                t,
                node: name.clone(),
                event,
            })
        };
        match &before {
            None => {
                log("Registered");
                if ready {
                    log("Ready");
                }
            }
            Some(b) => {
                if b.ready != ready {
                    log(if ready { "Ready" } else { "NotReady" });
                }
                if b.cordoned != rec.cordoned {
                    log(if rec.cordoned {
                        "Cordoned"
                    } else {
                        "Uncordoned"
                    });
                }
            }
        }
        self.node_ready
            .entry(name)
            .or_default()
            .push(t, Some(ready));
    }

    fn on_workload(&mut self, kind: &str, event_type: &str, obj: &Value) {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
        let name = obj["metadata"]["name"].as_str().unwrap_or("");
        let key = format!("{kind}/{ns}/{name}");
        if kind == "ReplicaSet" {
            let rs_key = format!("{ns}/{name}");
            if event_type == "DELETED" {
                self.replica_set_owner.remove(&rs_key);
            } else if let Some((owner_kind, owner)) = controller_owner(obj)
                && owner_kind == "Deployment"
            {
                self.replica_set_owner.insert(rs_key, owner);
            }
        }
        if event_type == "DELETED" {
            self.workloads.remove(&key);
            return;
        }
        let int = |v: &Value| v.as_i64().unwrap_or(0);
        let (ready, desired) = match kind {
            "DaemonSet" => (
                int(&obj["status"]["numberReady"]),
                int(&obj["status"]["desiredNumberScheduled"]),
            ),
            _ => (
                int(&obj["status"]["readyReplicas"]),
                obj["spec"]["replicas"].as_i64().unwrap_or(1),
            ),
        };
        let counts = match kind {
            "Deployment" | "StatefulSet" => true,
            "ReplicaSet" => controller_owner(obj).is_none(),
            _ => false,
        };
        self.workloads.insert(
            key,
            WorkloadRec {
                ready,
                desired,
                counts,
            },
        );
    }

    /// Takes a sample of the current state at `t`.
    pub fn sample(&mut self, t: i64) {
        let mut sample = Sample {
            t,
            ..Sample::default()
        };
        for node in self.nodes.values() {
            sample.nodes += 1;
            sample.ready_nodes += u64::from(node.ready);
            sample.cordoned_nodes += u64::from(node.cordoned);
            for (map, key) in [
                (&mut sample.zones, &node.zone_key),
                (&mut sample.providers, &node.provider),
            ] {
                add_to(map, key, |c| {
                    c.nodes += 1;
                    c.ready_nodes += u64::from(node.ready);
                    c.cpu_allocatable_millis += node.cpu_millis;
                    c.memory_allocatable_bytes += node.memory_bytes;
                    c.hourly_cost = ((c.hourly_cost + node.price) * 1e6).round() / 1e6;
                });
            }
        }
        for pod in self.pods.values() {
            if pod.terminating {
                sample.terminating_pods += 1;
            } else if pod.node.is_empty() {
                if pod.unscheduled() {
                    sample.unscheduled_pods += 1;
                    let reason = pod
                        .unscheduled_message
                        .clone()
                        .unwrap_or_else(|| "not scheduled yet".into());
                    *sample.pending_reasons.entry(reason).or_default() += 1;
                }
                continue;
            } else if pod.phase == "Running" {
                sample.running_pods += 1;
            } else if pod.phase == "Pending" || pod.phase.is_empty() {
                sample.starting_pods += 1;
            }
            if pod.phase == "Succeeded" || pod.phase == "Failed" {
                continue;
            }
            if let Some(node) = self.nodes.get(&pod.node) {
                for (map, key) in [
                    (&mut sample.zones, &node.zone_key),
                    (&mut sample.providers, &node.provider),
                ] {
                    add_to(map, key, |c| {
                        c.cpu_requested_millis += pod.cpu_millis;
                        c.memory_requested_bytes += pod.memory_bytes;
                    });
                }
            }
        }
        self.samples.push(sample);
    }

    /// Pods bound to `nodes` (not terminating, not finished), optionally of one workload.
    pub fn pods_on_nodes(&self, nodes: &BTreeSet<String>, workload: Option<&str>) -> u64 {
        self.pods
            .iter()
            .filter(|(_, p)| {
                nodes.contains(&p.node)
                    && !p.terminating
                    && p.phase != "Succeeded"
                    && p.phase != "Failed"
            })
            .filter(|(key, p)| {
                workload.is_none_or(|w| {
                    let ns = key.split_once('/').map_or("", |(ns, _)| ns);
                    self.workload_of(ns, p.owner.as_ref()).as_deref() == Some(w)
                })
            })
            .count() as u64
    }

    /// The nodes that exist now, with their pool.
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }
}

/// One watched kind.
struct Stream {
    info: &'static ResourceInfo,
    kind: &'static str,
    rx: Option<mpsc::Receiver<WatchEvent>>,
    known: BTreeSet<String>,
}

impl Stream {
    fn new(kind: &'static str, group: &str, resource: &str) -> Option<Self> {
        Some(Self {
            info: registry::lookup(group, "v1", resource)?,
            kind,
            rx: None,
            known: BTreeSet::new(),
        })
    }

    /// Lists, reports what changed since the last list, and watches from there.
    fn resync(&mut self, client: &LocalClient) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        let Ok(listed) = client.list(self.info, None, None, None) else {
            return out;
        };
        let keys: BTreeSet<String> = listed.items.iter().map(key_of).collect();
        for gone in self.known.difference(&keys) {
            let (namespace, name) = gone.split_once('/').unwrap_or(("", gone));
            let mut metadata = serde_json::Map::new();
            metadata.insert("name".into(), Value::String(name.into()));
            if !namespace.is_empty() {
                metadata.insert("namespace".into(), Value::String(namespace.into()));
            }
            let mut obj = serde_json::Map::new();
            obj.insert("metadata".into(), Value::Object(metadata));
            out.push(("DELETED", Value::Object(obj)));
        }
        for item in listed.items {
            out.push(("MODIFIED", item));
        }
        self.known = keys;
        self.rx = client
            .watch(self.info, None, listed.resource_version, None, None)
            .ok();
        out
    }
}

async fn next(rx: &mut Option<mpsc::Receiver<WatchEvent>>) -> Option<WatchEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Runs the recorder until its task is dropped: applies watch events and samples every
/// `interval` (the first sample at the start).
pub async fn run(client: LocalClient, time: SimTime, shared: Shared, interval: Duration) {
    let Some(start) = shared.lock().start else {
        return;
    };
    let specs: [(&'static str, &str, &str); 6] = [
        ("Node", "", "nodes"),
        ("Pod", "", "pods"),
        ("Deployment", "apps", "deployments"),
        ("StatefulSet", "apps", "statefulsets"),
        ("ReplicaSet", "apps", "replicasets"),
        ("DaemonSet", "apps", "daemonsets"),
    ];
    let mut streams: Vec<Stream> = specs
        .iter()
        .filter_map(|(kind, group, resource)| Stream::new(kind, group, resource))
        .collect();
    let mut next_sample = start;
    loop {
        for stream in &mut streams {
            if stream.rx.is_none() {
                let kind = stream.kind;
                let changes = stream.resync(&client);
                let t = millis_since(start, time.now());
                let mut rec = shared.lock();
                rec.advance_to(t);
                for (event_type, obj) in changes {
                    apply(&mut rec, t, kind, event_type, &obj, key_of(&obj));
                }
            }
        }
        let [
            nodes,
            pods,
            deployments,
            stateful_sets,
            replica_sets,
            daemon_sets,
        ] = &mut streams[..]
        else {
            return;
        };
        let sleep_time = time.clone();
        let (kind, event) = tokio::select! {
            biased;
            e = next(&mut nodes.rx) => (nodes.kind, e),
            e = next(&mut pods.rx) => (pods.kind, e),
            e = next(&mut replica_sets.rx) => (replica_sets.kind, e),
            e = next(&mut deployments.rx) => (deployments.kind, e),
            e = next(&mut stateful_sets.rx) => (stateful_sets.kind, e),
            e = next(&mut daemon_sets.rx) => (daemon_sets.kind, e),
            () = sleep_time.sleep_until(next_sample) => {
                let t = millis_since(start, time.now());
                let mut rec = shared.lock();
                rec.advance_to(t);
                rec.sample(t);
                next_sample = next_sample
                    .checked_add(jiff::SignedDuration::try_from(interval).unwrap_or(jiff::SignedDuration::from_secs(60)))
                    .unwrap_or(next_sample);
                continue;
            }
        };
        let t = millis_since(start, time.now());
        let stream = streams.iter_mut().find(|s| s.kind == kind);
        match event {
            Some(e) if e.event_type != "ERROR" && e.event_type != "BOOKMARK" => {
                let key = key_of(&e.object);
                if let Some(stream) = stream {
                    if e.event_type == "DELETED" {
                        stream.known.remove(&key);
                    } else if !stream.known.contains(&key) {
                        stream.known.insert(key.clone());
                    }
                }
                let mut rec = shared.lock();
                rec.advance_to(t);
                apply(&mut rec, t, kind, e.event_type, &e.object, key);
            }
            Some(e) if e.event_type == "BOOKMARK" => {}
            _ => {
                // The watch ended or failed: list again on the next turn.
                if let Some(stream) = stream {
                    stream.rx = None;
                }
            }
        }
    }
}

/// Records a change of `obj`, whose [`key_of`] is `key`.
fn apply(rec: &mut Recording, t: i64, kind: &str, event_type: &str, obj: &Value, key: String) {
    match kind {
        "Pod" => rec.on_pod(t, event_type, obj, key),
        "Node" => rec.on_node(t, event_type, obj),
        other => rec.on_workload(other, event_type, obj),
    }
}

/// Changes the aggregate under `key` (added empty if missing) with `change`; the key is copied
/// only when added (a sample visits every pod).
fn add_to(map: &mut BTreeMap<String, Capacity>, key: &str, change: impl FnOnce(&mut Capacity)) {
    match map.get_mut(key) {
        Some(capacity) => change(capacity),
        None => {
            let mut capacity = Capacity::default();
            change(&mut capacity);
            map.insert(key.to_string(), capacity);
        }
    }
}

/// Milliseconds of a duration (saturating).
pub fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn series_keeps_changes_and_answers_at_and_during() {
        let mut s = Series::default();
        s.push(0, 1);
        s.push(0, 2); // same instant: replaced
        s.push(5, 2); // unchanged: dropped
        s.push(10, 3);
        assert_eq!(s.points, vec![(0, 2), (10, 3)]);
        assert_eq!(s.at(-1), None);
        assert_eq!(s.at(9), Some(&2));
        assert_eq!(s.at(10), Some(&3));
        assert_eq!(s.during(3, 20), vec![&2, &3]);
        assert_eq!(s.during(10, 20), vec![&3]);
    }

    /// Cases after `TestPodRequestsAndLimits` / `TestPodResourceRequests`
    /// (`staging/src/k8s.io/component-helpers/resource/helpers_test.go`): app containers add
    /// up, an init container counts when larger, restartable init containers (sidecars) add to
    /// everything after them, the overhead is added.
    #[test]
    fn pod_requests_table() {
        let c =
            |cpu: &str, mem: &str| json!({"resources": {"requests": {"cpu": cpu, "memory": mem}}});
        let sidecar =
            |cpu: &str| json!({"restartPolicy": "Always", "resources": {"requests": {"cpu": cpu}}});
        let cases = vec![
            (
                "containers add up",
                json!({"spec": {"containers": [c("100m", "1Mi"), c("200m", "2Mi")]}}),
                (300, 3 << 20),
            ),
            (
                "larger init container wins",
                json!({"spec": {"containers": [c("100m", "1Mi")], "initContainers": [c("1", "1Mi")]}}),
                (1000, 1 << 20),
            ),
            (
                "smaller init container ignored",
                json!({"spec": {"containers": [c("500m", "1Mi")], "initContainers": [c("100m", "1Mi")]}}),
                (500, 1 << 20),
            ),
            (
                "sidecar adds to containers",
                json!({"spec": {"containers": [c("100m", "0")], "initContainers": [sidecar("50m")]}}),
                (150, 0),
            ),
            (
                "init after sidecar includes it",
                json!({"spec": {"containers": [c("100m", "0")], "initContainers": [sidecar("50m"), c("500m", "0")]}}),
                (550, 0),
            ),
            (
                "overhead added",
                json!({"spec": {"containers": [c("100m", "1Mi")], "overhead": {"cpu": "10m", "memory": "1Mi"}}}),
                (110, 2 << 20),
            ),
            ("no requests", json!({"spec": {"containers": [{}]}}), (0, 0)),
        ];
        for (case, pod, expected) in cases {
            assert_eq!(pod_requests(&pod), expected, "{case}");
        }
    }

    #[test]
    fn instants_are_committed_when_time_moves() {
        let mut rec = Recording {
            start: Some(jiff::Timestamp::UNIX_EPOCH),
            ..Recording::default()
        };
        let pending = json!({"metadata": {"name": "p", "namespace": "d", "uid": "u"}, "spec": {}, "status": {"phase": "Pending"}});
        let bound = json!({"metadata": {"name": "p", "namespace": "d", "uid": "u"}, "spec": {"nodeName": "n"}, "status": {"phase": "Pending"}});
        // Created and bound within the same instant: never counted.
        rec.advance_to(1000);
        rec.on_pod(1000, "ADDED", &pending, key_of(&pending));
        rec.on_pod(1000, "MODIFIED", &bound, key_of(&bound));
        rec.advance_to(2000);
        assert_eq!(
            rec.unscheduled.points.iter().map(|(_, v)| *v).max(),
            Some(0)
        );
        let other = json!({"metadata": {"name": "q", "namespace": "d", "uid": "v"}, "spec": {}, "status": {"phase": "Pending"}});
        rec.on_pod(2000, "ADDED", &other, key_of(&other));
        rec.advance_to(3000);
        assert_eq!(rec.unscheduled.at(2500), Some(&1));
        assert_eq!(rec.bindings.len(), 1);
        // The count follows deletes too.
        rec.on_pod(3000, "DELETED", &other, key_of(&other));
        rec.on_pod(3000, "DELETED", &bound, key_of(&bound));
        rec.advance_to(4000);
        assert_eq!(rec.unscheduled.at(3500), Some(&0));
    }
}
