//! The engine: builds a paused tokio runtime (virtual time), the API server on a memory store
//! with the run's [`SimTime`] as its clock, starts the whole twin with `kubetwin_sim::start`
//! (the same code path as `kubetwin serve`), the recorder, then plays the timeline with
//! `sleep_until` — tokio moves virtual time forward whenever every task is idle.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::write::{DeleteOptions, Propagation, WriteOptions};
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage, registry};
use kubetwin_cluster::SimNode;
use kubetwin_core::clock::Clock;
use kubetwin_core::rng::DetRng;
use kubetwin_runtime::SimTime;
use kubetwin_sim::Twin;
use kubetwin_store::Store;
use serde_json::{Value, json};

use crate::drain::{self, DrainOutcome};
use crate::recorder::{self, Shared, millis_since, ms};
use crate::report::{self, Report};
use crate::spec::{Action, Check, DrainOptions, NodeTarget, Scenario, TimedAction};

/// The field manager of the scenario's own writes (`kubectl apply --server-side`).
pub const FIELD_MANAGER: &str = "kubetwin-scenario";
/// How long the engine waits for the initial nodes to be Ready before applying manifests.
pub const CLUSTER_READY_TIMEOUT: Duration = Duration::from_secs(120);

/// How a run is asked for.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Called as virtual time advances (the binary draws a progress bar with it).
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("seed", &self.seed)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// How far the run is, in virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Virtual time elapsed.
    pub elapsed: Duration,
    /// The run's virtual duration.
    pub total: Duration,
}

/// Why a run could not take place (problems during the run are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The tokio runtime could not be built.
    #[error("building the runtime: {0}")]
    Runtime(String),
    /// The API server could not bootstrap.
    #[error("bootstrapping the API server: {0}")]
    Bootstrap(String),
    /// The twin could not start.
    #[error("starting the twin: {0}")]
    Start(String),
}

/// What happened to one action (the report's `actions`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionLog {
    /// Position in the file.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Action type.
    pub kind: String,
    /// When (ms after the start).
    pub at: i64,
    /// The target, described.
    pub target: String,
    /// The nodes it touched.
    pub nodes: Vec<String>,
    /// What happened, with times (ms after the start).
    pub notes: Vec<(i64, String)>,
    /// Errors.
    pub errors: Vec<String>,
    /// When a long action (drain, interruption, pool removal) finished.
    pub completed_at: Option<i64>,
    /// Whether the action disrupts pods.
    pub disruptive: bool,
}

struct World {
    twin: Twin,
    live: BTreeMap<String, SimNode>,
    /// Every node that ever existed (expectations name removed nodes too).
    all: BTreeMap<String, SimNode>,
    log: Vec<ActionLog>,
}

#[derive(Clone)]
struct Ctx {
    client: LocalClient,
    time: SimTime,
    recorder: Shared,
    world: Arc<Mutex<World>>,
    start: Timestamp,
    end: Timestamp,
    seed: u64,
}

impl Ctx {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> i64 {
        millis_since(self.start, self.time.now())
    }

    fn note(&self, log: usize, text: impl Into<String>) {
        let t = self.now_ms();
        if let Some(entry) = self.world().log.get_mut(log) {
            entry.notes.push((t, text.into()));
        }
    }

    fn error(&self, log: usize, text: impl Into<String>) {
        if let Some(entry) = self.world().log.get_mut(log) {
            entry.errors.push(text.into());
        }
    }

    fn complete(&self, log: usize) {
        let t = self.now_ms();
        if let Some(entry) = self.world().log.get_mut(log) {
            entry.completed_at = Some(t);
        }
    }

    fn resolve(&self, target: &NodeTarget) -> Vec<String> {
        self.world()
            .live
            .values()
            .filter(|n| target.matches(n))
            .map(|n| n.name.clone())
            .collect()
    }

    fn at(&self, offset: Duration) -> Timestamp {
        self.start
            .checked_add(SignedDuration::try_from(offset).unwrap_or(SignedDuration::MAX))
            .unwrap_or(self.end)
    }
}

fn sleep_target(start: Timestamp, offset: Duration) -> Timestamp {
    start
        .checked_add(SignedDuration::try_from(offset).unwrap_or(SignedDuration::MAX))
        .unwrap_or(start)
}

/// The workloads the expectations name (the recorder keeps their series).
fn tracked_workloads(scenario: &Scenario) -> BTreeSet<String> {
    scenario
        .expectations
        .iter()
        .filter_map(|e| match &e.check {
            Check::PodsReady { workload, .. } | Check::MinReady { workload, .. } => {
                Some(workload.key())
            }
            _ => None,
        })
        .collect()
}

/// Runs the scenario under virtual time and returns its report. Deterministic: the same
/// scenario and seed give the same report.
pub fn run(scenario: &Scenario, mut options: RunOptions<'_>) -> Result<Report, RunError> {
    // Everything runs on this thread: the offload thread's spin takes the idle core.
    kubetwin_apiserver::offload::spin_before_sleeping();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| RunError::Runtime(e.to_string()))?;
    let seed = options.seed.unwrap_or(scenario.seed);
    let report = runtime.block_on(run_inner(scenario, seed, options.progress.take()))?;
    // Dropping the runtime ends every component's task.
    drop(runtime);
    Ok(report)
}

async fn run_inner(
    scenario: &Scenario,
    seed: u64,
    mut progress: Option<&mut dyn FnMut(Progress)>,
) -> Result<Report, RunError> {
    let start = scenario.epoch;
    let time = SimTime::new(start, 1.0);
    let server = ApiServer::new(
        Storage::new(Store::memory()),
        Arc::new(time.clone()),
        seed,
        ApiServerConfig::default(),
    );
    server
        .bootstrap()
        .await
        .map_err(|e| RunError::Bootstrap(e.message))?;
    let recorder = Shared::new(start, tracked_workloads(scenario));
    tokio::spawn(recorder::run(
        LocalClient::new(server.clone(), "kubetwin-scenario-recorder"),
        time.clone(),
        recorder.clone(),
        scenario.sample_interval,
    ));
    let twin = kubetwin_sim::start(&server, &time, Some(&scenario.cluster), seed)
        .map_err(|e| RunError::Start(e.to_string()))?;
    let nodes: BTreeMap<String, SimNode> = scenario
        .cluster
        .nodes()
        .iter()
        .map(|n| (n.name.clone(), n.clone()))
        .collect();
    let end = sleep_target(start, scenario.duration);
    let ctx = Ctx {
        client: LocalClient::new(server.clone(), FIELD_MANAGER),
        time: time.clone(),
        recorder: recorder.clone(),
        world: Arc::new(Mutex::new(World {
            twin,
            all: nodes.clone(),
            live: nodes,
            log: Vec::new(),
        })),
        start,
        end,
        seed,
    };

    let cluster_ready_at = wait_for_nodes(&ctx, scenario.cluster.nodes().len()).await;
    let mut setup_errors = Vec::new();
    for (i, manifest) in scenario.manifests.iter().enumerate() {
        if let Err(e) = apply(&ctx, manifest).await {
            setup_errors.push(format!("manifests[{i}]: {e}"));
        }
    }

    let step = progress_step(scenario.duration);
    let mut next_progress = step;
    let report_progress = |elapsed: Duration, progress: &mut Option<&mut dyn FnMut(Progress)>| {
        if let Some(callback) = progress.as_deref_mut() {
            callback(Progress {
                elapsed: elapsed.min(scenario.duration),
                total: scenario.duration,
            });
        }
    };
    for action in &scenario.timeline {
        while next_progress < action.at {
            time.sleep_until(sleep_target(start, next_progress)).await;
            report_progress(next_progress, &mut progress);
            next_progress += step;
        }
        time.sleep_until(sleep_target(start, action.at)).await;
        let index = {
            let mut world = ctx.world();
            world.log.push(ActionLog {
                index: action.index,
                name: action.name.clone(),
                kind: action.action.kind().to_string(),
                at: ms(action.at),
                disruptive: action.action.is_disruptive(),
                ..ActionLog::default()
            });
            world.log.len() - 1
        };
        execute(&ctx, action, index).await;
    }
    while next_progress < scenario.duration {
        time.sleep_until(sleep_target(start, next_progress)).await;
        report_progress(next_progress, &mut progress);
        next_progress += step;
    }
    time.sleep_until(end).await;
    // Let the recorder take in what happened at the last instant.
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
    report_progress(scenario.duration, &mut progress);
    let end_ms = ms(scenario.duration);
    let (log, all_nodes) = {
        let world = ctx.world();
        (world.log.clone(), world.all.clone())
    };
    let api_writes = server.storage.store().current_revision();
    let mut recording = recorder.lock();
    recording.api_writes = api_writes;
    recording.advance_to(end_ms);
    if recording.samples.last().is_none_or(|s| s.t < end_ms) {
        recording.sample(end_ms);
    }
    recording.commit();
    Ok(report::build(
        scenario,
        seed,
        &recording,
        &log,
        &all_nodes,
        cluster_ready_at,
        setup_errors,
    ))
}

/// A progress step: a hundredth of the run, at least a second.
fn progress_step(total: Duration) -> Duration {
    (total / 100).max(Duration::from_secs(1))
}

/// Waits (virtual time) until `want` nodes are Ready; returns when (ms after the start).
async fn wait_for_nodes(ctx: &Ctx, want: usize) -> Option<i64> {
    let nodes = registry::lookup("", "v1", "nodes")?;
    let deadline = ctx.at(CLUSTER_READY_TIMEOUT);
    loop {
        let ready = ctx
            .client
            .list(nodes, None, None, None)
            .map(|l| {
                l.items
                    .iter()
                    .filter(|n| kubetwin_sim::cloud::node_is_ready(n))
                    .count()
            })
            .unwrap_or(0);
        if ready >= want {
            return Some(ctx.now_ms());
        }
        if ctx.time.now() >= deadline {
            return None;
        }
        ctx.time.sleep(Duration::from_millis(100)).await;
    }
}

/// Server-side apply of one object (`kubectl apply --server-side --force-conflicts`).
async fn apply(ctx: &Ctx, manifest: &Value) -> Result<(), String> {
    let api_version = manifest["apiVersion"].as_str().unwrap_or("");
    let kind = manifest["kind"].as_str().unwrap_or("");
    let info = registry::lookup_kind(api_version, kind)
        .ok_or(format!("{api_version} {kind} is not served"))?;
    let name = manifest["metadata"]["name"].as_str().unwrap_or("");
    let namespace = manifest["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let ns = info.namespaced().then_some(namespace);
    let mut body = manifest.clone();
    if info.namespaced() {
        body["metadata"]["namespace"] = Value::String(namespace.to_string());
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let options = WriteOptions {
        field_manager: Some(FIELD_MANAGER.into()),
        force: true,
        ..WriteOptions::default()
    };
    ctx.client
        .server()
        .patch(
            info,
            ns,
            name,
            "",
            "application/apply-patch+yaml",
            &bytes,
            &options,
        )
        .await
        .map(|_| ())
        .map_err(|e| format!("{kind} {name}: {}", e.message))
}

async fn execute(ctx: &Ctx, action: &TimedAction, log: usize) {
    match &action.action {
        Action::Apply { manifests } => {
            for manifest in manifests {
                match apply(ctx, manifest).await {
                    Ok(()) => ctx.note(
                        log,
                        format!(
                            "applied {} {}",
                            manifest["kind"].as_str().unwrap_or(""),
                            manifest["metadata"]["name"].as_str().unwrap_or("")
                        ),
                    ),
                    Err(e) => ctx.error(log, e),
                }
            }
        }
        Action::Delete { objects } => {
            for object in objects {
                let Some(info) = object.resource() else {
                    continue;
                };
                let ns = info.namespaced().then_some(object.namespace.as_str());
                let options = DeleteOptions {
                    propagation: Some(Propagation::Background),
                    ..DeleteOptions::default()
                };
                match ctx.client.delete(info, ns, &object.name, &options).await {
                    Ok(_) => ctx.note(log, format!("deleted {}", object.display())),
                    Err(e) => ctx.error(log, format!("delete {}: {}", object.display(), e.message)),
                }
            }
        }
        Action::Patch {
            object,
            patch_type,
            patch,
        } => {
            let Some(info) = object.resource() else {
                return;
            };
            let ns = info.namespaced().then_some(object.namespace.as_str());
            let body = serde_json::to_vec(patch).unwrap_or_default();
            let options = WriteOptions {
                field_manager: Some(FIELD_MANAGER.into()),
                ..WriteOptions::default()
            };
            match ctx
                .client
                .server()
                .patch(
                    info,
                    ns,
                    &object.name,
                    "",
                    patch_type.content_type(),
                    &body,
                    &options,
                )
                .await
            {
                Ok(_) => ctx.note(log, format!("patched {}", object.display())),
                Err(e) => ctx.error(log, format!("patch {}: {}", object.display(), e.message)),
            }
        }
        Action::Scale { object, replicas } => {
            let Some(info) = object.resource() else {
                return;
            };
            let ns = info.namespaced().then_some(object.namespace.as_str());
            let patch = json!({"spec": {"replicas": replicas}});
            match ctx
                .client
                .merge_patch(info, ns, &object.name, "scale", &patch)
                .await
            {
                Ok(_) => ctx.note(log, format!("scaled {} to {replicas}", object.display())),
                Err(e) => ctx.error(log, format!("scale {}: {}", object.display(), e.message)),
            }
        }
        Action::Cordon { target } | Action::Uncordon { target } => {
            let cordon = matches!(action.action, Action::Cordon { .. });
            let nodes = targeted(ctx, log, target);
            for node in &nodes {
                if let Err(e) = drain::set_unschedulable(&ctx.client, node, cordon).await {
                    ctx.error(log, format!("{node}: {e}"));
                }
            }
        }
        Action::Drain { target, options } => {
            let nodes = targeted(ctx, log, target);
            let deadline = options.timeout.map(|t| ctx.at(action.at + t));
            let ctx = ctx.clone();
            let options = options.clone();
            tokio::spawn(async move {
                drain_nodes(&ctx, log, &nodes, &options, deadline, "drain").await;
                ctx.complete(log);
            });
        }
        Action::Fail { target, duration } => {
            let nodes = targeted(ctx, log, target);
            set_kubelets(ctx, &nodes, KubeletChange::Stop);
            ctx.note(log, format!("{} kubelets stopped", nodes.len()));
            if let Some(d) = duration {
                let ctx = ctx.clone();
                let d = *d;
                tokio::spawn(async move {
                    ctx.time.sleep(d).await;
                    set_kubelets(&ctx, &nodes, KubeletChange::Start);
                    ctx.note(log, format!("{} kubelets started again", nodes.len()));
                    ctx.complete(log);
                });
            }
        }
        Action::Recover { target } => {
            let nodes = targeted(ctx, log, target);
            set_kubelets(ctx, &nodes, KubeletChange::Start);
            ctx.note(log, format!("{} kubelets started", nodes.len()));
        }
        Action::ApiLoadBalancerOutage {
            target,
            node_local_api_proxy,
            duration,
        } => {
            let nodes = targeted(ctx, log, target);
            if *node_local_api_proxy {
                ctx.note(
                    log,
                    "the nodes' local API proxy reaches the API servers directly: kubelets stay connected",
                );
                return;
            }
            set_kubelets(ctx, &nodes, KubeletChange::Disconnect);
            ctx.note(log, format!("{} kubelets lost the API server", nodes.len()));
            if let Some(d) = duration {
                let ctx = ctx.clone();
                let d = *d;
                tokio::spawn(async move {
                    ctx.time.sleep(d).await;
                    set_kubelets(&ctx, &nodes, KubeletChange::Reconnect);
                    ctx.note(
                        log,
                        format!("load balancer back: {} kubelets reconnected", nodes.len()),
                    );
                    ctx.complete(log);
                });
            }
        }
        Action::ApiLoadBalancerRecover { target } => {
            let nodes = targeted(ctx, log, target);
            set_kubelets(ctx, &nodes, KubeletChange::Reconnect);
            ctx.note(log, format!("{} kubelets reconnected", nodes.len()));
        }
        Action::SpotInterruption {
            target,
            count,
            fraction,
            notice,
            spread,
        } => {
            spot_interruption(
                ctx, action, log, target, *count, *fraction, *notice, *spread,
            );
        }
        Action::AddNodePool { pool, cluster } => {
            let new_nodes: Vec<SimNode> = cluster
                .nodes()
                .iter()
                .filter(|n| &n.pool == pool)
                .cloned()
                .collect();
            let mut world = ctx.world();
            let mut added = Vec::new();
            for node in new_nodes {
                match world.twin.add_node(&node) {
                    Ok(_) => {
                        added.push(node.name.clone());
                        world.all.insert(node.name.clone(), node.clone());
                        world.live.insert(node.name.clone(), node);
                    }
                    Err(e) => {
                        if let Some(entry) = world.log.get_mut(log) {
                            entry.errors.push(e.to_string());
                        }
                    }
                }
            }
            if let Some(entry) = world.log.get_mut(log) {
                entry.target = format!("pool={pool}");
                let t = millis_since(ctx.start, ctx.time.now());
                entry.notes.push((
                    t,
                    format!(
                        "{} nodes boot and register: {}",
                        added.len(),
                        added.join(", ")
                    ),
                ));
                entry.nodes = added;
            }
        }
        Action::RemoveNodePool {
            pool,
            drain,
            drain_timeout,
        } => {
            let target = NodeTarget {
                pools: vec![pool.clone()],
                ..NodeTarget::default()
            };
            let nodes = targeted(ctx, log, &target);
            let ctx = ctx.clone();
            let (drain, deadline) = (*drain, ctx.at(action.at + *drain_timeout));
            tokio::spawn(async move {
                if drain {
                    let options = DrainOptions {
                        force: true,
                        ..DrainOptions::default()
                    };
                    drain_nodes(
                        &ctx,
                        log,
                        &nodes,
                        &options,
                        Some(deadline),
                        "removeNodePool",
                    )
                    .await;
                }
                for node in &nodes {
                    terminate(&ctx, log, node);
                }
                ctx.note(log, format!("{} instances terminated", nodes.len()));
                ctx.complete(log);
            });
        }
    }
}

/// Resolves a target against the live nodes and records it in the log.
fn targeted(ctx: &Ctx, log: usize, target: &NodeTarget) -> Vec<String> {
    let nodes = ctx.resolve(target);
    let mut world = ctx.world();
    if let Some(entry) = world.log.get_mut(log) {
        entry.target = target.describe();
        entry.nodes = nodes.clone();
        if nodes.is_empty() {
            entry
                .errors
                .push(format!("no live node matches {}", target.describe()));
        }
    }
    nodes
}

#[derive(Clone, Copy)]
enum KubeletChange {
    Stop,
    Start,
    Disconnect,
    Reconnect,
}

fn set_kubelets(ctx: &Ctx, nodes: &[String], change: KubeletChange) {
    let world = ctx.world();
    for node in nodes {
        if let Some(kubelet) = world.twin.kubelet(node) {
            match change {
                KubeletChange::Stop => kubelet.stop(),
                KubeletChange::Start => kubelet.start(),
                KubeletChange::Disconnect => kubelet.disconnect(),
                KubeletChange::Reconnect => kubelet.reconnect(),
            }
        }
    }
}

/// `kubectl drain` of several nodes: all are cordoned first, then drained one after another.
async fn drain_nodes(
    ctx: &Ctx,
    log: usize,
    nodes: &[String],
    options: &DrainOptions,
    deadline: Option<Timestamp>,
    reason: &str,
) {
    for node in nodes {
        if let Err(e) = drain::set_unschedulable(&ctx.client, node, true).await {
            ctx.error(log, format!("cordon {node}: {e}"));
        }
    }
    let deadline = Some(deadline.unwrap_or(ctx.end));
    for node in nodes {
        let outcome = drain::drain_node(
            &ctx.client,
            &ctx.time,
            &ctx.recorder,
            node,
            options,
            deadline,
            reason,
        )
        .await;
        note_drain(ctx, log, node, &outcome);
    }
}

fn note_drain(ctx: &Ctx, log: usize, node: &str, outcome: &DrainOutcome) {
    let mut text = format!("{node}: {} pods evicted", outcome.evicted);
    if outcome.skipped > 0 {
        text.push_str(&format!(", {} DaemonSet/mirror pods left", outcome.skipped));
    }
    if outcome.completed_at.is_some() {
        text.push_str(", drained");
    }
    ctx.note(log, text);
    if let Some(e) = &outcome.error {
        ctx.error(log, format!("{node}: {e}"));
    }
}

/// The instance behind `node` is gone: its kubelet ends; the Node is deleted by the cloud
/// node lifecycle controller once it is not Ready.
fn terminate(ctx: &Ctx, log: usize, node: &str) {
    let mut world = ctx.world();
    match world.twin.terminate_node(node) {
        Ok(()) => {
            world.live.remove(node);
        }
        Err(e) => {
            if let Some(entry) = world.log.get_mut(log) {
                entry.errors.push(e.to_string());
            }
        }
    }
}

/// Picks the interrupted nodes with the seed and plays, per node, what the AWS node
/// termination handler does on an interruption notice (cordon and drain, pods' own grace
/// periods, DaemonSets ignored) until the instance is terminated when the notice ends.
#[allow(clippy::too_many_arguments)]
fn spot_interruption(
    ctx: &Ctx,
    action: &TimedAction,
    log: usize,
    target: &NodeTarget,
    count: Option<u64>,
    fraction: Option<f64>,
    notice: Duration,
    spread: Duration,
) {
    let candidates = targeted(ctx, log, target);
    let wanted = match (count, fraction) {
        (Some(c), _) => usize::try_from(c)
            .unwrap_or(usize::MAX)
            .min(candidates.len()),
        (None, Some(f)) => ((candidates.len() as f64) * f).ceil() as usize,
        (None, None) => candidates.len(),
    }
    .min(candidates.len());
    let mut rng =
        DetRng::new(ctx.seed ^ (action.index as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut pool = candidates;
    let mut chosen = Vec::new();
    for _ in 0..wanted {
        let i = rng.below(pool.len() as u64) as usize;
        chosen.push(pool.swap_remove(i));
    }
    let spread_ms = ms(spread).max(0) as u64;
    let mut plan: Vec<(u64, String)> = chosen
        .into_iter()
        .map(|node| {
            (
                if spread_ms > 0 {
                    rng.below(spread_ms + 1)
                } else {
                    0
                },
                node,
            )
        })
        .collect();
    plan.sort();
    {
        let mut world = ctx.world();
        if let Some(entry) = world.log.get_mut(log) {
            entry.nodes = plan.iter().map(|(_, n)| n.clone()).collect();
        }
    }
    let remaining = Arc::new(Mutex::new(plan.len()));
    for (offset, node) in plan {
        let ctx = ctx.clone();
        let remaining = remaining.clone();
        tokio::spawn(async move {
            ctx.time.sleep(Duration::from_millis(offset)).await;
            ctx.note(log, format!("{node}: interruption notice"));
            let termination = ctx
                .time
                .now()
                .checked_add(SignedDuration::try_from(notice).unwrap_or(SignedDuration::ZERO))
                .unwrap_or(ctx.end);
            let drain_ctx = ctx.clone();
            let drain_node = node.clone();
            let drain = tokio::spawn(async move {
                let options = DrainOptions {
                    force: true,
                    ..DrainOptions::default()
                };
                let outcome = drain::drain_node(
                    &drain_ctx.client,
                    &drain_ctx.time,
                    &drain_ctx.recorder,
                    &drain_node,
                    &options,
                    Some(termination),
                    "spotInterruption",
                )
                .await;
                note_drain(&drain_ctx, log, &drain_node, &outcome);
            });
            ctx.time.sleep_until(termination).await;
            drain.abort();
            terminate(&ctx, log, &node);
            ctx.note(log, format!("{node}: instance terminated"));
            let done = {
                let mut left = remaining.lock().unwrap_or_else(|p| p.into_inner());
                *left = left.saturating_sub(1);
                *left == 0
            };
            if done {
                ctx.complete(log);
            }
        });
    }
}
