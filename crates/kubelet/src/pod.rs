//! One pod on a simulated kubelet: a deterministic state machine over virtual time that
//! creates the sandbox, pulls images, starts init containers one by one and then the regular
//! containers, runs startup/readiness/liveness probes on their schedule, restarts containers
//! with the kubelet's crash-loop back-off, finishes Job containers after their run time, and
//! terminates gracefully on deletion. It never talks to the API: it reports [`Effect`]s and
//! renders the pod status; the kubelet loop writes them.
//!
//! Upstream: `pkg/kubelet/kuberuntime/kuberuntime_manager.go` (`SyncPod`: sandbox, then init
//! containers one at a time, then containers in order; `computePodActions`; `doBackOff` with
//! `client-go/util/flowcontrol/backoff.go`: 10 s doubling to 300 s, reset after 2 × max),
//! `pkg/kubelet/prober/worker.go` (initialDelaySeconds, periodSeconds, success/failure
//! thresholds; readiness and liveness wait for startup), `pkg/kubelet/prober/prober_manager.go`
//! (`UpdatePodStatus`: started/ready), `pkg/kubelet/kubelet_pods.go`
//! (`convertToAPIContainerStatuses`: default waiting reasons `ContainerCreating` /
//! `PodInitializing`, terminal pods' unstarted containers as `ContainerStatusUnknown`),
//! `pkg/kubelet/status/status_manager.go` (condition transition times, terminal phases).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Pod, PodCondition, PodSpec, Probe,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kubetwin_core::clock::format_time;
use serde_json::{Value, json};

use crate::duration;
use crate::ids;
use crate::knobs::PodProfile;
use crate::runtime::{ImageOutcome, NodeRuntime};
use crate::status;

/// Initial crash-loop back-off (`kubelet.go` `backOffPeriod`).
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(10);
/// Maximum crash-loop back-off (`MaxContainerBackOff`).
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// Exit code of a container killed after its grace period (SIGKILL).
pub const EXIT_KILLED: i32 = 137;

/// Something the kubelet loop must do for this pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Record an Event about the pod.
    Event {
        /// `Normal` or `Warning`.
        type_: &'static str,
        /// The reason, e.g. `Pulling`.
        reason: &'static str,
        /// The message.
        message: String,
        /// `involvedObject.fieldPath`, e.g. `spec.containers{web}` (empty for the pod).
        field_path: String,
    },
    /// Delete the pod with grace period 0 (its termination is complete).
    Delete,
}

/// Which list a container belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular init container (runs to completion).
    Init,
    /// A restartable init container (sidecar).
    Sidecar,
    /// A regular container.
    Regular,
}

#[derive(Debug, Clone, PartialEq)]
struct ProbeSpec {
    initial_delay: i64,
    period: i64,
    success_threshold: u32,
    failure_threshold: u32,
}

impl ProbeSpec {
    fn from(p: &Probe) -> Self {
        Self {
            initial_delay: i64::from(p.initial_delay_seconds.unwrap_or(0).max(0)),
            period: i64::from(p.period_seconds.unwrap_or(10).max(1)),
            success_threshold: u32::try_from(p.success_threshold.unwrap_or(1).max(1)).unwrap_or(1),
            failure_threshold: u32::try_from(p.failure_threshold.unwrap_or(3).max(1)).unwrap_or(3),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ProbeRun {
    next_at: Option<Timestamp>,
    attempt: u64,
    successes: u32,
    failures: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct Terminated {
    exit_code: i32,
    reason: String,
    started_at: Timestamp,
    finished_at: Timestamp,
    container_id: String,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Not started yet (initial), or waiting out a back-off until `until`.
    Waiting {
        reason: String,
        message: String,
        until: Option<Timestamp>,
    },
    /// Pulling its image until the time given (reported as ContainerCreating).
    Pulling {
        requested: Timestamp,
        until: Timestamp,
    },
    /// Being created and started; running at the time given.
    Creating { running_at: Timestamp },
    /// Running since the time given.
    Running { since: Timestamp },
    /// Asked to stop; exits at `done_at` with this code.
    Stopping {
        since: Timestamp,
        done_at: Timestamp,
        exit_code: i32,
        reason: String,
        restart_after: bool,
    },
    /// Exited.
    Terminated(Terminated),
}

#[derive(Debug, Clone)]
struct Backoff {
    duration: Duration,
    last_update: Timestamp,
}

#[derive(Debug, Clone)]
struct ContainerSim {
    name: String,
    spec_image: String,
    image: String,
    pull_policy: String,
    kind: Kind,
    startup: Option<ProbeSpec>,
    readiness: Option<ProbeSpec>,
    liveness: Option<ProbeSpec>,
    resources: Value,
    state: State,
    restart_count: i32,
    last_terminated: Option<Terminated>,
    backoff: Option<Backoff>,
    started: bool,
    ready: bool,
    container_id: String,
    run_ends_at: Option<Timestamp>,
    startup_run: ProbeRun,
    readiness_run: ProbeRun,
    liveness_run: ProbeRun,
    ever_started: bool,
    /// Became `started` at least once (a sidecar no longer blocks the next init container).
    started_once: bool,
    /// An init container exited 0 at least once.
    completed_once: bool,
}

impl ContainerSim {
    fn new(c: &Container, kind: Kind) -> Self {
        let image = c.image.clone().unwrap_or_default();
        let normalized = ids::normalize_image(&image);
        // Defaulting (`SetDefaults_Container`): Always for `:latest` or untagged images.
        let default_policy = if normalized.ends_with(":latest") && !image.contains('@') {
            "Always"
        } else {
            "IfNotPresent"
        };
        Self {
            name: c.name.clone(),
            spec_image: image,
            image: normalized,
            pull_policy: c
                .image_pull_policy
                .clone()
                .unwrap_or_else(|| default_policy.to_string()),
            kind,
            startup: c.startup_probe.as_ref().map(ProbeSpec::from),
            readiness: c.readiness_probe.as_ref().map(ProbeSpec::from),
            liveness: c.liveness_probe.as_ref().map(ProbeSpec::from),
            resources: c
                .resources
                .as_ref()
                .and_then(|r| serde_json::to_value(r).ok())
                .unwrap_or(Value::Null),
            state: State::Waiting {
                reason: String::new(),
                message: String::new(),
                until: None,
            },
            restart_count: 0,
            last_terminated: None,
            backoff: None,
            started: false,
            ready: false,
            container_id: String::new(),
            run_ends_at: None,
            startup_run: ProbeRun::default(),
            readiness_run: ProbeRun::default(),
            liveness_run: ProbeRun::default(),
            ever_started: false,
            started_once: false,
            completed_once: false,
        }
    }

    fn field_path(&self) -> String {
        match self.kind {
            Kind::Regular => format!("spec.containers{{{}}}", self.name),
            Kind::Init | Kind::Sidecar => format!("spec.initContainers{{{}}}", self.name),
        }
    }

    fn is_running(&self) -> bool {
        matches!(self.state, State::Running { .. } | State::Stopping { .. })
    }

    fn not_launched(&self) -> bool {
        matches!(&self.state, State::Waiting { until: None, reason, .. } if reason.is_empty())
    }

    /// The earliest instant this container has something to do (called for every pod at
    /// every kubelet tick, so it allocates nothing).
    fn next_wakeup(&self) -> Option<Timestamp> {
        match &self.state {
            State::Waiting { until: Some(t), .. } => Some(*t),
            State::Pulling { until, .. } => Some(*until),
            State::Creating { running_at } => Some(*running_at),
            State::Running { .. } => [&self.startup_run, &self.readiness_run, &self.liveness_run]
                .into_iter()
                .filter_map(|run| run.next_at)
                .chain(self.run_ends_at)
                .min(),
            State::Stopping { done_at, .. } => Some(*done_at),
            _ => None,
        }
    }
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO))
        .unwrap_or(t)
}

fn add_secs(t: Timestamp, s: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(s)).unwrap_or(t)
}

fn time_json(t: Timestamp) -> Value {
    json!(format_time(t))
}

/// The simulated pod.
#[derive(Debug, Clone)]
pub struct PodSim {
    /// `namespace/name`.
    pub key: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The pod as admitted, shared with the watch's typed object and the kubelet's admission
    /// view rather than copied (its spec is what the simulation reads).
    pod: Arc<Pod>,
    profile: PodProfile,
    seed: u64,
    restart_policy: String,
    containers: Vec<ContainerSim>,
    admitted_at: Timestamp,
    sandbox_ready_at: Option<Timestamp>,
    /// Pod IPs (empty until the sandbox exists).
    pub ips: Vec<String>,
    ip_retry_at: Option<Timestamp>,
    termination: Option<Timestamp>,
    /// The pod reached Succeeded or Failed on its own.
    pub finished: bool,
    /// The kubelet asked for the pod to be deleted.
    pub delete_requested: bool,
    /// The rendered status changed since it was last written.
    pub dirty: bool,
    /// Pulled images announced to the node (for `status.images`).
    host_network: bool,
    /// Readiness gates' conditions etc. from the last seen pod.
    last_conditions: Vec<PodCondition>,
}

/// A pod's spec; an empty one for a pod without (the API server defaults one).
fn spec_of(pod: &Pod) -> &PodSpec {
    static EMPTY: LazyLock<PodSpec> = LazyLock::new(PodSpec::default);
    pod.spec.as_ref().unwrap_or(&EMPTY)
}

impl PodSim {
    /// A pod admitted at `now`.
    pub fn new(pod: &Arc<Pod>, profile: PodProfile, seed: u64, now: Timestamp) -> Self {
        let spec = spec_of(pod);
        let mut containers = Vec::new();
        for c in spec.init_containers.as_deref().unwrap_or_default() {
            let kind = if status::is_restartable_init_container(c) {
                Kind::Sidecar
            } else {
                Kind::Init
            };
            containers.push(ContainerSim::new(c, kind));
        }
        for c in &spec.containers {
            containers.push(ContainerSim::new(c, Kind::Regular));
        }
        let meta = &pod.metadata;
        let namespace = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        Self {
            key: format!("{namespace}/{name}"),
            namespace,
            name,
            uid: meta.uid.clone().unwrap_or_default(),
            restart_policy: spec
                .restart_policy
                .clone()
                .unwrap_or_else(|| "Always".into()),
            host_network: spec.host_network.unwrap_or(false),
            pod: Arc::clone(pod),
            profile,
            seed,
            containers,
            admitted_at: now,
            sandbox_ready_at: None,
            ips: Vec::new(),
            ip_retry_at: None,
            termination: None,
            finished: false,
            delete_requested: false,
            dirty: true,
            last_conditions: pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default(),
        }
    }

    /// Notes the latest pod object seen (conditions set by others, deletion).
    pub fn observe(&mut self, pod: &Pod, now: Timestamp) -> Vec<Effect> {
        self.last_conditions = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        let mut effects = Vec::new();
        if let Some(deletion) = pod.metadata.deletion_timestamp.as_ref()
            && self.termination.is_none()
        {
            self.begin_termination(deletion.0, now, &mut effects);
        }
        effects
    }

    /// The next time this pod needs [`PodSim::advance`].
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        if self.delete_requested {
            return None;
        }
        let sandbox = self
            .sandbox_ready_at
            .filter(|_| self.ips.is_empty() && !self.finished && self.termination.is_none())
            .map(|t| self.ip_retry_at.unwrap_or(t));
        self.containers
            .iter()
            .filter_map(ContainerSim::next_wakeup)
            .chain(sandbox)
            .min()
    }

    /// Whether the pod still uses node resources (for admission of other pods).
    pub fn is_active(&self) -> bool {
        !self.finished && !self.delete_requested
    }

    /// Runs everything due at or before `now`.
    pub fn advance(&mut self, now: Timestamp, rt: &mut NodeRuntime) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.delete_requested {
            return effects;
        }
        rt.finish_pulls(now);
        if self.termination.is_some() {
            self.advance_termination(now, &mut effects);
            return effects;
        }
        if self.finished {
            return effects;
        }
        // 1. The sandbox and its network.
        let sandbox_at = *self
            .sandbox_ready_at
            .get_or_insert_with(|| add(self.admitted_at, self.profile.sandbox_delay));
        if now < sandbox_at {
            return effects;
        }
        if self.ips.is_empty() {
            if self.ip_retry_at.is_some_and(|t| now < t) {
                return effects;
            }
            match self.allocate_ips(rt) {
                Ok(ips) => {
                    // Not a status write of its own: upstream's `SyncPod` reports its status
                    // before it creates the sandbox and starts the containers, and the next
                    // status (from the PLEG, once they run or fail) is the first with the IP.
                    self.ips = ips;
                    self.ip_retry_at = None;
                }
                Err(message) => {
                    effects.push(Effect::Event {
                        type_: "Warning",
                        reason: "FailedCreatePodSandBox",
                        message: format!(
                            "Failed to create pod sandbox: plugin type=\"bridge\" failed (add): failed to allocate for range 0: {message}"
                        ),
                        field_path: String::new(),
                    });
                    self.ip_retry_at = Some(add_secs(now, 10));
                    return effects;
                }
            }
        }
        // 2. Work through the containers; each pass may unblock the next step.
        for _ in 0..(self.containers.len() * 8 + 8) {
            if !self.step(now, rt, &mut effects) {
                break;
            }
        }
        // 3. Terminal?
        self.check_finished(now, &mut effects);
        effects
    }

    fn allocate_ips(&mut self, rt: &mut NodeRuntime) -> Result<Vec<String>, String> {
        if self.host_network {
            return Ok(rt.host_ips.clone());
        }
        match rt.ipam.as_mut() {
            Some(ipam) => ipam.allocate(&self.uid).map_err(|e| e.to_string()),
            None => Err("no podCIDR set on the node".to_string()),
        }
    }

    /// One step of progress; true when something changed.
    fn step(&mut self, now: Timestamp, rt: &mut NodeRuntime, effects: &mut Vec<Effect>) -> bool {
        let mut changed = false;
        // Time-driven transitions of running / stopping / backing-off containers.
        for i in 0..self.containers.len() {
            changed |= self.advance_container(i, now, rt, effects);
        }
        // Restarts are not ordered by the start pipeline.
        for i in 0..self.containers.len() {
            if self.containers[i].ever_started && self.containers[i].not_launched() {
                changed |= self.launch(i, now, rt, effects);
            }
        }
        // First starts: init containers one at a time (a sidecar once started), then the
        // regular containers in order, each after the previous one is running.
        for i in 0..self.containers.len() {
            let c = &self.containers[i];
            let first_start_pending = !c.ever_started && c.not_launched();
            match c.kind {
                Kind::Init => {
                    if c.completed_once {
                        continue;
                    }
                    if first_start_pending {
                        changed |= self.launch(i, now, rt, effects);
                    }
                    return changed;
                }
                Kind::Sidecar => {
                    if c.started_once {
                        continue;
                    }
                    if first_start_pending {
                        changed |= self.launch(i, now, rt, effects);
                        if self.containers[i].started_once {
                            continue;
                        }
                    }
                    return changed;
                }
                Kind::Regular => {
                    if first_start_pending {
                        changed |= self.launch(i, now, rt, effects);
                    }
                    if !self.containers[i].ever_started {
                        return changed;
                    }
                }
            }
        }
        changed
    }

    /// Starts the image/create pipeline of container `i` at `now`.
    fn launch(
        &mut self,
        i: usize,
        now: Timestamp,
        rt: &mut NodeRuntime,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let pull_delay = self.profile.image_pull_delay;
        let start_delay = self.profile.container_start_delay;
        let c = &mut self.containers[i];
        let field_path = c.field_path();
        match rt.ensure_image(&c.image, &c.pull_policy, now, pull_delay) {
            ImageOutcome::Present => {
                effects.push(Effect::Event {
                    type_: "Normal",
                    reason: "Pulled",
                    message: format!(
                        "Container image {:?} already present on machine",
                        c.spec_image
                    ),
                    field_path,
                });
                c.state = State::Creating {
                    running_at: add(now, start_delay),
                };
            }
            ImageOutcome::PullUntil(until) => {
                effects.push(Effect::Event {
                    type_: "Normal",
                    reason: "Pulling",
                    message: format!("Pulling image {:?}", c.spec_image),
                    field_path,
                });
                c.state = State::Pulling {
                    requested: now,
                    until,
                };
            }
            ImageOutcome::NeverPull => {
                let message = format!(
                    "Container image {:?} is not present with pull policy of Never",
                    c.spec_image
                );
                effects.push(Effect::Event {
                    type_: "Warning",
                    reason: "ErrImageNeverPull",
                    message: message.clone(),
                    field_path,
                });
                c.state = State::Waiting {
                    reason: "ErrImageNeverPull".into(),
                    message,
                    until: None,
                };
                self.dirty = true;
                return false;
            }
        }
        self.advance_container(i, now, rt, effects);
        true
    }

    /// Time-driven transitions of container `i` up to `now`; true when its state changed.
    fn advance_container(
        &mut self,
        i: usize,
        now: Timestamp,
        rt: &mut NodeRuntime,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let mut changed = false;
        let mut visible = false;
        for _ in 0..64 {
            let was_pulling = matches!(self.containers[i].state, State::Pulling { .. });
            let step = self.container_transition(i, now, rt, effects);
            if !step {
                break;
            }
            changed = true;
            // A finished pull shows nothing new (the container still waits in
            // ContainerCreating) and happens inside upstream's `SyncPod`, which reports no
            // status while it pulls: not a status write of its own.
            let pull_done =
                was_pulling && matches!(self.containers[i].state, State::Creating { .. });
            visible |= !pull_done;
        }
        if visible {
            self.dirty = true;
        }
        changed
    }

    fn container_transition(
        &mut self,
        i: usize,
        now: Timestamp,
        rt: &mut NodeRuntime,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let start_delay = self.profile.container_start_delay;
        let state = self.containers[i].state.clone();
        match state {
            State::Waiting {
                until: Some(until), ..
            } if until <= now => {
                // The back-off is over: restart (Next() doubles the back-off).
                let c = &mut self.containers[i];
                c.backoff = Some(next_backoff(c.backoff.as_ref(), until));
                c.state = State::Waiting {
                    reason: String::new(),
                    message: String::new(),
                    until: None,
                };
                self.launch(i, until, rt, effects);
                true
            }
            State::Pulling { requested, until } if until <= now => {
                rt.finish_pulls(until);
                let c = &mut self.containers[i];
                let pulled_for = duration::format(
                    until
                        .duration_since(requested)
                        .unsigned_abs()
                        .min(self.profile.image_pull_delay),
                );
                let waited = duration::format(until.duration_since(requested).unsigned_abs());
                effects.push(Effect::Event {
                    type_: "Normal",
                    reason: "Pulled",
                    message: format!(
                        "Successfully pulled image {:?} in {} ({} including waiting). Image size: {} bytes.",
                        c.spec_image,
                        pulled_for,
                        waited,
                        ids::image_size(&c.image)
                    ),
                    field_path: c.field_path(),
                });
                c.state = State::Creating {
                    running_at: add(until, start_delay),
                };
                true
            }
            State::Creating { running_at } if running_at <= now => {
                self.start_container(i, running_at, effects);
                true
            }
            State::Running { since } => self.running_transition(i, since, now, effects),
            State::Stopping {
                since,
                done_at,
                exit_code,
                reason,
                restart_after,
            } if done_at <= now => {
                let c = &mut self.containers[i];
                let t = Terminated {
                    exit_code,
                    reason,
                    started_at: since,
                    finished_at: done_at,
                    container_id: c.container_id.clone(),
                };
                c.started = false;
                c.ready = false;
                c.state = State::Terminated(t);
                if restart_after && self.termination.is_none() {
                    self.schedule_restart(i, done_at);
                }
                true
            }
            _ => false,
        }
    }

    fn start_container(&mut self, i: usize, at: Timestamp, effects: &mut Vec<Effect>) {
        let readiness_delay = self.profile.readiness_delay;
        let run_duration = match self.containers[i].kind {
            Kind::Regular => self.profile.run_duration,
            Kind::Init => Some(self.profile.init_run_duration),
            Kind::Sidecar => None,
        };
        let seed = self.seed;
        let uid = self.uid.clone();
        let c = &mut self.containers[i];
        if c.ever_started {
            c.restart_count += 1;
        }
        c.ever_started = true;
        c.container_id = ids::container_id(seed, &uid, &c.name, c.restart_count);
        let field_path = c.field_path();
        effects.push(Effect::Event {
            type_: "Normal",
            reason: "Created",
            message: format!("Created container: {}", c.name),
            field_path: field_path.clone(),
        });
        effects.push(Effect::Event {
            type_: "Normal",
            reason: "Started",
            message: format!("Started container {}", c.name),
            field_path,
        });
        c.state = State::Running { since: at };
        c.run_ends_at = run_duration.map(|d| add(at, d));
        c.startup_run = ProbeRun::default();
        c.readiness_run = ProbeRun::default();
        c.liveness_run = ProbeRun::default();
        // Upstream: started = no startup probe (or it succeeded); ready = started and no
        // readiness probe (or it succeeded). Init containers are "ready" once completed.
        c.started = c.startup.is_none();
        c.ready = false;
        if let Some(p) = &c.startup {
            c.startup_run.next_at = Some(add_secs(at, p.initial_delay));
        }
        if c.started {
            Self::after_started(c, at, readiness_delay);
        }
    }

    /// Once started: readiness probing begins (or ready at once), liveness is scheduled.
    fn after_started(c: &mut ContainerSim, at: Timestamp, _readiness_delay: Duration) {
        c.started_once = true;
        let since = match c.state {
            State::Running { since } => since,
            _ => at,
        };
        match &c.readiness {
            None => c.ready = c.kind != Kind::Init,
            Some(p) => {
                // The prober triggers a readiness probe as soon as the container started,
                // but not before initialDelaySeconds.
                c.readiness_run.next_at = Some(add_secs(since, p.initial_delay).max(at));
            }
        }
        if let Some(p) = &c.liveness {
            c.liveness_run.next_at = Some(add_secs(since, p.initial_delay).max(at));
        }
    }

    fn probe_succeeds(
        &self,
        i: usize,
        kind: &str,
        at: Timestamp,
        since: Timestamp,
        attempt: u64,
    ) -> bool {
        let c = &self.containers[i];
        let warm = at >= add(since, self.profile.readiness_delay);
        let deterministic = match kind {
            "startup" => !self.profile.startup_fails && warm,
            "readiness" => !self.profile.readiness_fails && warm,
            _ => self
                .profile
                .liveness_fails_after
                .is_none_or(|d| at < add(since, d)),
        };
        if !deterministic {
            return false;
        }
        if self.profile.probe_failure_rate <= 0.0 {
            return true;
        }
        let attempt = attempt.to_string();
        let restart = c.restart_count.to_string();
        ids::unit_draw(self.seed, &[&self.uid, &c.name, &restart, kind, &attempt])
            >= self.profile.probe_failure_rate
    }

    fn running_transition(
        &mut self,
        i: usize,
        since: Timestamp,
        now: Timestamp,
        effects: &mut Vec<Effect>,
    ) -> bool {
        // The earliest due event among run end and probes.
        let c = &self.containers[i];
        let mut due: Vec<(Timestamp, u8)> = Vec::new();
        if let Some(t) = c.run_ends_at.filter(|t| *t <= now) {
            due.push((t, 0));
        }
        for (n, run) in [&c.startup_run, &c.liveness_run, &c.readiness_run]
            .into_iter()
            .enumerate()
        {
            if let Some(t) = run.next_at.filter(|t| *t <= now) {
                due.push((t, n as u8 + 1));
            }
        }
        let Some(&(at, what)) = due.iter().min() else {
            return false;
        };
        match what {
            0 => {
                let restart = self.containers[i].restart_count.to_string();
                let exit_code = match self.profile.exit_code {
                    Some(code) => code,
                    None if self.containers[i].kind == Kind::Regular
                        && self.profile.failure_rate > 0.0
                        && ids::unit_draw(
                            self.seed,
                            &[&self.uid, &self.containers[i].name, &restart, "exit"],
                        ) < self.profile.failure_rate =>
                    {
                        1
                    }
                    None => 0,
                };
                let exit_code = if self.containers[i].kind == Kind::Init {
                    0
                } else {
                    exit_code
                };
                self.exit_container(i, since, at, exit_code);
            }
            1 => self.probe_startup(i, since, at, effects),
            2 => self.probe_liveness(i, since, at, effects),
            _ => self.probe_readiness(i, since, at),
        }
        true
    }

    fn probe_startup(
        &mut self,
        i: usize,
        since: Timestamp,
        at: Timestamp,
        effects: &mut Vec<Effect>,
    ) {
        let attempt = self.containers[i].startup_run.attempt;
        let ok = self.probe_succeeds(i, "startup", at, since, attempt);
        let readiness_delay = self.profile.readiness_delay;
        let c = &mut self.containers[i];
        let Some(p) = c.startup.clone() else {
            c.startup_run.next_at = None;
            return;
        };
        c.startup_run.attempt += 1;
        if ok {
            c.startup_run.failures = 0;
            c.startup_run.successes += 1;
            if c.startup_run.successes >= p.success_threshold {
                c.started = true;
                c.startup_run.next_at = None;
                Self::after_started(c, at, readiness_delay);
                return;
            }
        } else {
            c.startup_run.successes = 0;
            c.startup_run.failures += 1;
            effects.push(Effect::Event {
                type_: "Warning",
                reason: "Unhealthy",
                message: "Startup probe failed: simulated probe failure".into(),
                field_path: c.field_path(),
            });
            if c.startup_run.failures >= p.failure_threshold {
                c.startup_run.next_at = None;
                let message = format!(
                    "Container {} failed startup probe, will be restarted",
                    c.name
                );
                self.kill_container(i, since, at, message, effects);
                return;
            }
        }
        let c = &mut self.containers[i];
        c.startup_run.next_at = Some(add_secs(at, p.period));
    }

    fn probe_liveness(
        &mut self,
        i: usize,
        since: Timestamp,
        at: Timestamp,
        effects: &mut Vec<Effect>,
    ) {
        let attempt = self.containers[i].liveness_run.attempt;
        let ok = self.probe_succeeds(i, "liveness", at, since, attempt);
        let rate = self.profile.probe_failure_rate;
        let fails_after = self.profile.liveness_fails_after;
        let c = &mut self.containers[i];
        let Some(p) = c.liveness.clone() else {
            c.liveness_run.next_at = None;
            return;
        };
        c.liveness_run.attempt += 1;
        if ok {
            c.liveness_run.failures = 0;
            c.liveness_run.next_at = if rate > 0.0 {
                Some(add_secs(at, p.period))
            } else if let Some(d) = fails_after {
                // Skip the attempts that are sure to succeed.
                let fail_from = add(since, d);
                let mut next = add_secs(at, p.period);
                if next < fail_from {
                    let gap = fail_from.duration_since(next).as_secs().max(0);
                    let periods = (gap + p.period - 1) / p.period;
                    next = add_secs(next, periods * p.period);
                    c.liveness_run.attempt += u64::try_from(periods).unwrap_or(0);
                }
                Some(next)
            } else {
                None
            };
            return;
        }
        c.liveness_run.failures += 1;
        effects.push(Effect::Event {
            type_: "Warning",
            reason: "Unhealthy",
            message: "Liveness probe failed: simulated probe failure".into(),
            field_path: c.field_path(),
        });
        if c.liveness_run.failures >= p.failure_threshold {
            c.liveness_run.next_at = None;
            let message = format!(
                "Container {} failed liveness probe, will be restarted",
                c.name
            );
            self.kill_container(i, since, at, message, effects);
        } else {
            c.liveness_run.next_at = Some(add_secs(at, p.period));
        }
    }

    fn probe_readiness(&mut self, i: usize, since: Timestamp, at: Timestamp) {
        let attempt = self.containers[i].readiness_run.attempt;
        let ok = self.probe_succeeds(i, "readiness", at, since, attempt);
        let rate = self.profile.probe_failure_rate;
        let always_fails = self.profile.readiness_fails;
        let c = &mut self.containers[i];
        let Some(p) = c.readiness.clone() else {
            c.readiness_run.next_at = None;
            return;
        };
        c.readiness_run.attempt += 1;
        if ok {
            c.readiness_run.failures = 0;
            c.readiness_run.successes += 1;
            if c.readiness_run.successes >= p.success_threshold && !c.ready {
                c.ready = true;
            }
        } else {
            c.readiness_run.successes = 0;
            c.readiness_run.failures += 1;
            if c.readiness_run.failures >= p.failure_threshold && c.ready {
                c.ready = false;
            }
        }
        // Once the outcome cannot change any more, stop probing (nothing to report).
        let settled = rate <= 0.0 && ((c.ready && ok) || always_fails);
        c.readiness_run.next_at = if settled {
            None
        } else {
            Some(add_secs(at, p.period))
        };
    }

    /// Kills a running container (probe failure): it stops after the termination delay.
    fn kill_container(
        &mut self,
        i: usize,
        since: Timestamp,
        at: Timestamp,
        message: String,
        effects: &mut Vec<Effect>,
    ) {
        let grace = self.grace_seconds();
        let delay = self.profile.termination_delay;
        let restart_after = self.restart_policy != "Never";
        let c = &mut self.containers[i];
        effects.push(Effect::Event {
            type_: "Normal",
            reason: "Killing",
            message,
            field_path: c.field_path(),
        });
        // An unhealthy container is assumed not to exit cleanly: reported as killed.
        let (done_at, _, _) = stop_outcome(at, delay, grace);
        c.ready = false;
        c.state = State::Stopping {
            since,
            done_at,
            exit_code: EXIT_KILLED,
            reason: "Error".into(),
            restart_after: restart_after || c.kind == Kind::Sidecar,
        };
    }

    fn grace_seconds(&self) -> i64 {
        spec_of(&self.pod)
            .termination_grace_period_seconds
            .unwrap_or(30)
            .max(0)
    }

    fn exit_container(&mut self, i: usize, since: Timestamp, at: Timestamp, exit_code: i32) {
        let c = &mut self.containers[i];
        let t = Terminated {
            exit_code,
            reason: if exit_code == 0 {
                "Completed".into()
            } else {
                "Error".into()
            },
            started_at: since,
            finished_at: at,
            container_id: c.container_id.clone(),
        };
        c.started = false;
        c.ready = c.kind == Kind::Init && exit_code == 0;
        c.completed_once |= c.kind == Kind::Init && exit_code == 0;
        c.run_ends_at = None;
        c.state = State::Terminated(t);
        // Upstream: sidecars always restart; init containers restart on failure unless
        // Never; regular containers per restartPolicy.
        let restart = match c.kind {
            Kind::Sidecar => true,
            Kind::Init => exit_code != 0 && self.restart_policy != "Never",
            Kind::Regular => {
                self.restart_policy == "Always"
                    || (self.restart_policy == "OnFailure" && exit_code != 0)
            }
        };
        if restart {
            self.schedule_restart(i, at);
        }
    }

    /// Restarts an exited container, now or after the crash-loop back-off (`doBackOff`).
    fn schedule_restart(&mut self, i: usize, exited_at: Timestamp) {
        let name = self.containers[i].name.clone();
        let pod_desc = format!("{}_{}({})", self.name, self.namespace, self.uid);
        let c = &mut self.containers[i];
        let Some(State::Terminated(t)) = Some(c.state.clone()) else {
            return;
        };
        c.last_terminated = Some(t);
        let in_backoff = c
            .backoff
            .as_ref()
            .filter(|b| exited_at.duration_since(b.last_update).unsigned_abs() <= 2 * BACKOFF_MAX);
        match in_backoff {
            Some(b) => {
                let until = add(exited_at, b.duration);
                c.state = State::Waiting {
                    reason: "CrashLoopBackOff".into(),
                    message: format!(
                        "back-off {} restarting failed container={} pod={}",
                        duration::format(b.duration),
                        name,
                        pod_desc
                    ),
                    until: Some(until),
                };
            }
            None => {
                c.backoff = Some(next_backoff(c.backoff.as_ref(), exited_at));
                c.state = State::Waiting {
                    reason: String::new(),
                    message: String::new(),
                    until: None,
                };
            }
        }
    }

    fn check_finished(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        if self.finished || self.termination.is_some() {
            return;
        }
        // All regular containers exited for good?
        let regular_done = self
            .containers
            .iter()
            .filter(|c| c.kind == Kind::Regular)
            .all(|c| matches!(c.state, State::Terminated(_)));
        let init_failed_for_good = self.restart_policy == "Never"
            && self.containers.iter().any(|c| {
                c.kind == Kind::Init && matches!(&c.state, State::Terminated(t) if t.exit_code != 0)
            });
        if !(regular_done || init_failed_for_good) {
            return;
        }
        // Sidecars are stopped once the main containers are done.
        let delay = self.profile.termination_delay;
        let grace = self.grace_seconds();
        let mut stopping = false;
        for c in self
            .containers
            .iter_mut()
            .filter(|c| c.kind == Kind::Sidecar)
        {
            match c.state.clone() {
                State::Running { since } => {
                    let (done_at, exit_code, reason) = stop_outcome(now, delay, grace);
                    effects.push(Effect::Event {
                        type_: "Normal",
                        reason: "Killing",
                        message: format!("Stopping container {}", c.name),
                        field_path: c.field_path(),
                    });
                    c.state = State::Stopping {
                        since,
                        done_at,
                        exit_code,
                        reason,
                        restart_after: false,
                    };
                    c.ready = false;
                    stopping = true;
                }
                State::Stopping { .. } => stopping = true,
                State::Waiting { .. } | State::Pulling { .. } | State::Creating { .. } => {
                    c.state = State::Waiting {
                        reason: "PodInitializing".into(),
                        message: String::new(),
                        until: None,
                    };
                }
                State::Terminated(_) => {}
            }
        }
        if stopping {
            self.dirty = true;
            return;
        }
        self.finished = true;
        self.dirty = true;
    }

    fn begin_termination(
        &mut self,
        deletion: Timestamp,
        now: Timestamp,
        effects: &mut Vec<Effect>,
    ) {
        self.termination = Some(deletion);
        let remaining = if deletion > now {
            deletion.duration_since(now).as_secs()
        } else {
            0
        };
        let delay = self.profile.termination_delay;
        for c in &mut self.containers {
            match c.state.clone() {
                State::Running { since } => {
                    effects.push(Effect::Event {
                        type_: "Normal",
                        reason: "Killing",
                        message: format!("Stopping container {}", c.name),
                        field_path: c.field_path(),
                    });
                    let (done_at, exit_code, reason) = stop_outcome(now, delay, remaining);
                    c.state = State::Stopping {
                        since,
                        done_at,
                        exit_code,
                        reason,
                        restart_after: false,
                    };
                }
                State::Stopping {
                    since,
                    done_at,
                    exit_code,
                    reason,
                    ..
                } => {
                    c.state = State::Stopping {
                        since,
                        done_at,
                        exit_code,
                        reason,
                        restart_after: false,
                    };
                }
                State::Terminated(_) => {}
                State::Waiting { .. } | State::Pulling { .. } | State::Creating { .. } => {
                    // Never (re)started: reported as unknown once the pod is terminal.
                    c.state = State::Waiting {
                        reason: "Terminating".into(),
                        message: String::new(),
                        until: None,
                    };
                }
            }
            c.run_ends_at = None;
            c.startup_run.next_at = None;
            c.readiness_run.next_at = None;
            c.liveness_run.next_at = None;
        }
        self.dirty = true;
    }

    fn advance_termination(&mut self, now: Timestamp, effects: &mut Vec<Effect>) {
        let mut pending = false;
        for c in &mut self.containers {
            if let State::Stopping {
                since,
                done_at,
                exit_code,
                reason,
                ..
            } = c.state.clone()
            {
                if done_at <= now {
                    c.state = State::Terminated(Terminated {
                        exit_code,
                        reason,
                        started_at: since,
                        finished_at: done_at,
                        container_id: c.container_id.clone(),
                    });
                    c.ready = false;
                    c.started = false;
                    self.dirty = true;
                } else {
                    pending = true;
                }
            }
        }
        if !pending {
            self.finished = true;
            self.delete_requested = true;
            self.dirty = true;
            effects.push(Effect::Delete);
        }
    }

    /// The pod phase now.
    pub fn phase(&self) -> &'static str {
        let statuses = self.api_statuses(true);
        status::get_phase(spec_of(&self.pod), &statuses, self.pod_is_terminal())
    }

    fn pod_is_terminal(&self) -> bool {
        self.finished
    }

    /// Container statuses as typed values (init first, then regular), for phase/conditions.
    fn api_statuses(&self, include_init: bool) -> Vec<ContainerStatus> {
        self.containers
            .iter()
            .filter(|c| include_init || c.kind == Kind::Regular)
            .map(|c| self.typed_status(c))
            .collect()
    }

    fn has_init(&self) -> bool {
        self.containers.iter().any(|c| c.kind != Kind::Regular)
    }

    fn typed_status(&self, c: &ContainerSim) -> ContainerStatus {
        let waiting = |reason: &str, message: &str| ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.to_string()),
                message: (!message.is_empty()).then(|| message.to_string()),
            }),
            ..Default::default()
        };
        let terminated = |t: &Terminated| ContainerState {
            terminated: Some(ContainerStateTerminated {
                container_id: Some(t.container_id.clone()).filter(|s| !s.is_empty()),
                exit_code: t.exit_code,
                reason: Some(t.reason.clone()),
                started_at: Some(Time(t.started_at)),
                finished_at: Some(Time(t.finished_at)),
                ..Default::default()
            }),
            ..Default::default()
        };
        let inits_done = self
            .containers
            .iter()
            .filter(|o| o.kind == Kind::Init)
            .all(|o| o.completed_once);
        // `convertToAPIContainerStatuses`: PodInitializing while init containers run.
        let default_reason = if c.kind == Kind::Regular && inits_done {
            "ContainerCreating"
        } else if self.has_init() {
            "PodInitializing"
        } else {
            "ContainerCreating"
        };
        let state = match &c.state {
            State::Waiting {
                reason, message, ..
            } if reason == "Terminating" || reason.is_empty() => {
                if self.finished {
                    ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: EXIT_KILLED,
                            reason: Some("ContainerStatusUnknown".into()),
                            message: Some(
                                "The container could not be located when the pod was terminated"
                                    .into(),
                            ),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }
                } else {
                    waiting(default_reason, "")
                }
            }
            State::Waiting {
                reason, message, ..
            } => waiting(reason, message),
            State::Pulling { .. } | State::Creating { .. } => waiting(default_reason, ""),
            State::Running { since } | State::Stopping { since, .. } => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Time(*since)),
                }),
                ..Default::default()
            },
            State::Terminated(t) => terminated(t),
        };
        let running_or_done = c.ever_started;
        ContainerStatus {
            name: c.name.clone(),
            image: if running_or_done {
                c.image.clone()
            } else {
                c.spec_image.clone()
            },
            image_id: if running_or_done {
                ids::image_id(&c.image)
            } else {
                String::new()
            },
            container_id: running_or_done.then(|| c.container_id.clone()),
            ready: c.ready,
            started: Some(c.started && c.is_running()),
            restart_count: c.restart_count,
            state: Some(state),
            last_state: Some(
                c.last_terminated
                    .as_ref()
                    .map(terminated)
                    .unwrap_or_default(),
            ),
            ..Default::default()
        }
    }

    /// The pod status to write, given the pod's current status (kept: qosClass, conditions
    /// owned by others, PodScheduled's transition time, startTime).
    pub fn render_status(
        &self,
        current: &Value,
        generation: Option<i64>,
        now: Timestamp,
        host_ips: &[String],
    ) -> Value {
        let now_text = format_time(now);
        let init_statuses: Vec<ContainerStatus> = self
            .containers
            .iter()
            .filter(|c| c.kind != Kind::Regular)
            .map(|c| self.typed_status(c))
            .collect();
        let statuses: Vec<ContainerStatus> = self
            .containers
            .iter()
            .filter(|c| c.kind == Kind::Regular)
            .map(|c| self.typed_status(c))
            .collect();
        let all: Vec<ContainerStatus> = init_statuses.iter().chain(&statuses).cloned().collect();
        let phase = status::get_phase(spec_of(&self.pod), &all, self.pod_is_terminal());
        let mut phase = phase;
        if self.finished && !matches!(phase, "Succeeded" | "Failed") {
            phase = "Failed";
        }
        let sandbox_ready = !self.ips.is_empty() && !self.finished;
        let conditions_now = [
            status::ready_to_start_containers_condition(sandbox_ready),
            status::initialized_condition(spec_of(&self.pod), Some(&all), phase),
            status::pod_ready_condition(
                spec_of(&self.pod),
                &self.last_conditions,
                Some(&all),
                phase,
            ),
            status::containers_ready_condition(spec_of(&self.pod), Some(&all), phase),
        ];
        let current_conditions = current["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let by_kubelet = [
            "PodScheduled",
            "Ready",
            "Initialized",
            "ContainersReady",
            "PodReadyToStartContainers",
            "PodResizePending",
            "PodResizeInProgress",
        ];
        let mut conditions: Vec<Value> = current_conditions
            .iter()
            .filter(|c| !c["type"].as_str().is_some_and(|t| by_kubelet.contains(&t)))
            .cloned()
            .collect();
        let transition = |type_: &str, status: &str| -> Value {
            match current_conditions.iter().find(|c| c["type"] == type_) {
                Some(old) if old["status"] == status && !old["lastTransitionTime"].is_null() => {
                    old["lastTransitionTime"].clone()
                }
                _ => json!(now_text),
            }
        };
        for g in &conditions_now {
            let mut c = json!({
                "type": g.type_,
                "status": g.status,
                "lastProbeTime": null,
                "lastTransitionTime": transition(g.type_, g.status),
            });
            if let Some(observed) = generation {
                c["observedGeneration"] = json!(observed);
            }
            if !g.reason.is_empty() {
                c["reason"] = json!(g.reason);
            }
            if !g.message.is_empty() {
                c["message"] = json!(g.message);
            }
            conditions.push(c);
        }
        let mut scheduled = json!({
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": null,
            "lastTransitionTime": transition("PodScheduled", "True"),
        });
        if let Some(observed) = generation {
            scheduled["observedGeneration"] = json!(observed);
        }
        conditions.push(scheduled);

        let mut out = json!({
            "phase": phase,
            "conditions": conditions,
            "hostIP": host_ips.first().cloned().unwrap_or_default(),
            "hostIPs": host_ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>(),
            "startTime": current.get("startTime").filter(|v| !v.is_null()).cloned().unwrap_or_else(|| time_json(self.admitted_at)),
            "containerStatuses": self.status_values(&statuses, Kind::Regular),
        });
        if let Some(observed) = generation {
            out["observedGeneration"] = json!(observed);
        }
        if !init_statuses.is_empty() {
            out["initContainerStatuses"] = self.status_values(&init_statuses, Kind::Init);
        }
        if let Some(qos) = current.get("qosClass").filter(|v| !v.is_null()) {
            out["qosClass"] = qos.clone();
        }
        if !self.ips.is_empty() {
            out["podIP"] = json!(self.ips[0]);
            out["podIPs"] = json!(
                self.ips
                    .iter()
                    .map(|ip| json!({"ip": ip}))
                    .collect::<Vec<_>>()
            );
        } else if let Some(ip) = current.get("podIP").filter(|v| !v.is_null()) {
            out["podIP"] = ip.clone();
            out["podIPs"] = current["podIPs"].clone();
        }
        out
    }

    fn status_values(&self, statuses: &[ContainerStatus], kind: Kind) -> Value {
        let sims: Vec<&ContainerSim> = self
            .containers
            .iter()
            .filter(|c| (kind == Kind::Regular) == (c.kind == Kind::Regular))
            .collect();
        Value::Array(
            statuses
                .iter()
                .zip(sims)
                .map(|(s, c)| {
                    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
                    // Always present on the wire, even when false/zero/empty.
                    v["ready"] = json!(s.ready);
                    v["restartCount"] = json!(s.restart_count);
                    v["imageID"] = json!(s.image_id);
                    if v.get("lastState").is_none_or(Value::is_null) {
                        v["lastState"] = json!({});
                    }
                    if c.resources.is_object() {
                        v["resources"] = c.resources.clone();
                    }
                    v
                })
                .collect(),
        )
    }

    /// Readiness of every container, for tests and introspection.
    pub fn containers_ready(&self) -> BTreeMap<String, bool> {
        self.containers
            .iter()
            .map(|c| (c.name.clone(), c.ready))
            .collect()
    }

    /// Restart counts by container, for tests and introspection.
    pub fn restart_counts(&self) -> BTreeMap<String, i32> {
        self.containers
            .iter()
            .map(|c| (c.name.clone(), c.restart_count))
            .collect()
    }
}

/// `flowcontrol.Backoff.Next`: first 10 s, then doubling to 300 s; reset after 2 × max idle.
fn next_backoff(previous: Option<&Backoff>, at: Timestamp) -> Backoff {
    match previous {
        Some(b) if at.duration_since(b.last_update).unsigned_abs() <= 2 * BACKOFF_MAX => Backoff {
            duration: (b.duration * 2).min(BACKOFF_MAX),
            last_update: at,
        },
        _ => Backoff {
            duration: BACKOFF_INITIAL,
            last_update: at,
        },
    }
}

/// When a container asked to stop at `at` exits: after the termination delay with code 0 if
/// that fits in the grace period, else killed at the end of the grace period (137).
fn stop_outcome(at: Timestamp, delay: Duration, grace_seconds: i64) -> (Timestamp, i32, String) {
    let grace = Duration::from_secs(u64::try_from(grace_seconds.max(0)).unwrap_or(0));
    if delay <= grace {
        (add(at, delay), 0, "Completed".into())
    } else {
        (add(at, grace), EXIT_KILLED, "Error".into())
    }
}
