//! The scenario file (`apiVersion: kubetwin.io/v1alpha1`, `kind: Scenario`; reference in
//! `docs/SCENARIOS.md`): a cluster, initial manifests, a seed, a timeline of actions at virtual
//! times and expectations. Parsing never panics; every error names the field's document path.

use std::time::Duration;

use jiff::Timestamp;
use kubetwin_apiserver::registry;
use kubetwin_cluster::spec::ClusterSpec;
use kubetwin_cluster::{CapacityType, Cluster, ClusterError, FieldError, SimNode};
use kubetwin_core::labels::Selector;
use serde_json::Value;

use crate::fields::{Errors, Fields, describe, type_name};

/// The scenario file's `apiVersion`.
pub const API_VERSION: &str = "kubetwin.io/v1alpha1";
/// The scenario file's `kind`.
pub const KIND: &str = "Scenario";
/// The virtual start time when the file gives none.
pub const DEFAULT_EPOCH: &str = "2025-01-01T00:00:00Z";
/// How often utilization, node counts and cost are sampled by default.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_secs(60);
/// How long the run goes on after the last action when `duration` is not given.
pub const DEFAULT_TAIL: Duration = Duration::from_secs(15 * 60);
/// The notice of a spot interruption (AWS: two minutes).
pub const DEFAULT_SPOT_NOTICE: Duration = Duration::from_secs(120);
/// Longest run accepted (a guard against typos such as `duration: 1000h`).
pub const MAX_DURATION: Duration = Duration::from_secs(31 * 24 * 3600);
/// Most samples a run may take (duration / sampleInterval).
pub const MAX_SAMPLES: u64 = 100_000;

/// Why a scenario was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The YAML is malformed.
    #[error("{message}{}", location(*line, *column))]
    Syntax {
        /// What is wrong.
        message: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },
    /// A file the scenario names could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The document path of the field naming the file.
        path: String,
        /// Why.
        message: String,
    },
    /// The document breaks the rules of `docs/SCENARIOS.md`.
    #[error("invalid scenario: {}", join_errors(.0))]
    Invalid(Vec<FieldError>),
}

impl ScenarioError {
    /// Every field error.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            ScenarioError::Syntax { message, .. } => vec![FieldError::new(".", message.clone())],
            ScenarioError::Read { path, message } => {
                vec![FieldError::new(path.clone(), message.clone())]
            }
            ScenarioError::Invalid(errors) => errors.clone(),
        }
    }
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

fn join_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A parsed, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description`.
    pub description: String,
    /// The seed of every random choice (API server names, scheduler tie-breaks, kubelets,
    /// spot picks).
    pub seed: u64,
    /// Virtual time at the start.
    pub epoch: Timestamp,
    /// How long the run lasts in virtual time.
    pub duration: Duration,
    /// How often samples are taken.
    pub sample_interval: Duration,
    /// The cluster at the start.
    pub cluster: Cluster,
    /// Objects applied at the start, in order.
    pub manifests: Vec<Value>,
    /// The actions, sorted by time (stable: file order within one time).
    pub timeline: Vec<TimedAction>,
    /// What must hold.
    pub expectations: Vec<Expectation>,
}

/// One action at a virtual time.
#[derive(Debug, Clone)]
pub struct TimedAction {
    /// Position in the file's `timeline`.
    pub index: usize,
    /// Time after the start.
    pub at: Duration,
    /// The action's name (expectations refer to it); `<action>-<index>` when not given.
    pub name: String,
    /// What happens.
    pub action: Action,
}

/// A way of selecting nodes: every given criterion must match; within one criterion, any of
/// its values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeTarget {
    /// Node names.
    pub nodes: Vec<String>,
    /// Node pool names.
    pub pools: Vec<String>,
    /// Zones.
    pub zones: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Providers (names from the cluster spec).
    pub providers: Vec<String>,
    /// Hypervisor hosts (on-premises VMs).
    pub hosts: Vec<String>,
    /// Spot or on-demand capacity.
    pub capacity_type: Option<CapacityType>,
    /// A label selector over the nodes' labels (string form).
    pub label_selector: Option<String>,
}

impl NodeTarget {
    /// Whether no criterion is given (every node matches).
    pub fn is_empty(&self) -> bool {
        self == &NodeTarget::default()
    }

    /// Whether `node` matches.
    pub fn matches(&self, node: &SimNode) -> bool {
        let any =
            |values: &[String], value: &str| values.is_empty() || values.iter().any(|v| v == value);
        any(&self.nodes, &node.name)
            && any(&self.pools, &node.pool)
            && any(&self.zones, &node.zone)
            && any(&self.regions, &node.region)
            && any(&self.providers, &node.provider)
            && (self.hosts.is_empty()
                || node
                    .hypervisor_host
                    .as_ref()
                    .is_some_and(|h| self.hosts.contains(h)))
            && self.capacity_type.is_none_or(|c| c == node.capacity_type)
            && self.label_selector.as_deref().is_none_or(|s| {
                Selector::parse(s).is_ok_and(|selector| selector.matches(&node.labels))
            })
    }

    /// A short description (`zone=us-east-1a`), `all nodes` when empty.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |key: &str, values: &[String]| {
            if !values.is_empty() {
                parts.push(format!("{key}={}", values.join(",")));
            }
        };
        push("node", &self.nodes);
        push("pool", &self.pools);
        push("zone", &self.zones);
        push("region", &self.regions);
        push("provider", &self.providers);
        push("host", &self.hosts);
        if let Some(c) = self.capacity_type {
            parts.push(format!("capacityType={}", c.as_str()));
        }
        if let Some(s) = &self.label_selector {
            parts.push(format!("labelSelector={s}"));
        }
        if parts.is_empty() {
            "all nodes".into()
        } else {
            parts.join(" ")
        }
    }
}

/// An object named by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// The registry entry of the kind (checked at parse time).
    pub fn resource(&self) -> Option<&'static registry::ResourceInfo> {
        registry::lookup_kind(&self.api_version, &self.kind)
    }

    /// `Kind/namespace/name` or `Kind/name`.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The kinds of workloads expectations can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkloadKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// apps/v1 DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// Parses a kind as kubectl accepts it (`Deployment`, `deployments`, `deploy`, ...).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Some(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Some(WorkloadKind::StatefulSet),
            "replicaset" | "replicasets" | "rs" => Some(WorkloadKind::ReplicaSet),
            "daemonset" | "daemonsets" | "ds" => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }
}

/// A workload named by kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadRef {
    /// Kind.
    pub kind: WorkloadKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl WorkloadRef {
    /// `Kind/namespace/name`: the key the recorder uses.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

/// How `kubectl drain` is told to behave.
#[derive(Debug, Clone, PartialEq)]
pub struct DrainOptions {
    /// `--ignore-daemonsets` (default true here: a drain that refuses is rarely the question).
    pub ignore_daemon_sets: bool,
    /// `--delete-emptydir-data` (default true).
    pub delete_empty_dir_data: bool,
    /// `--force`: evict pods without a controller too (default false).
    pub force: bool,
    /// `--timeout` (default: until the end of the run).
    pub timeout: Option<Duration>,
}

impl Default for DrainOptions {
    fn default() -> Self {
        Self {
            ignore_daemon_sets: true,
            delete_empty_dir_data: true,
            force: false,
            timeout: None,
        }
    }
}

/// The patch formats of `kubectl patch --type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `strategic` (the default).
    Strategic,
    /// `merge` (JSON merge patch).
    Merge,
    /// `json` (JSON patch).
    Json,
}

impl PatchType {
    /// The request content type.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Json => "application/json-patch+json",
        }
    }
}

/// What an action does. Node-level faults select nodes with a [`NodeTarget`].
#[derive(Debug, Clone)]
pub enum Action {
    /// Server-side apply of manifests (`kubectl apply --server-side --force-conflicts`).
    Apply {
        /// The objects.
        manifests: Vec<Value>,
    },
    /// Delete objects (`kubectl delete`, background propagation).
    Delete {
        /// The objects.
        objects: Vec<ObjectRef>,
    },
    /// Patch one object (`kubectl patch --type`).
    Patch {
        /// The object.
        object: ObjectRef,
        /// The format.
        patch_type: PatchType,
        /// The patch.
        patch: Value,
    },
    /// Set replicas through the scale subresource (`kubectl scale`).
    Scale {
        /// The object.
        object: ObjectRef,
        /// The new replica count.
        replicas: u64,
    },
    /// Mark nodes unschedulable (`kubectl cordon`).
    Cordon {
        /// The nodes.
        target: NodeTarget,
    },
    /// Mark nodes schedulable again (`kubectl uncordon`).
    Uncordon {
        /// The nodes.
        target: NodeTarget,
    },
    /// Cordon and evict (`kubectl drain`).
    Drain {
        /// The nodes.
        target: NodeTarget,
        /// The flags.
        options: DrainOptions,
    },
    /// The nodes fail: their kubelets stop (no heartbeats, no status), pods stop being
    /// reachable once the node lifecycle controller marks them not Ready.
    Fail {
        /// The nodes.
        target: NodeTarget,
        /// Recover automatically after this long.
        duration: Option<Duration>,
    },
    /// Failed nodes come back: their kubelets start, re-list their pods and report again.
    Recover {
        /// The nodes.
        target: NodeTarget,
    },
    /// The load balancer in front of the API servers fails. Without a node-local API proxy
    /// (Talos KubePrism) the nodes' kubelets lose the API; with one they keep reporting.
    ApiLoadBalancerOutage {
        /// The nodes whose API path goes through the load balancer (default all).
        target: NodeTarget,
        /// Whether the nodes run a node-local API proxy that reaches the API servers directly.
        node_local_api_proxy: bool,
        /// Recover automatically after this long.
        duration: Option<Duration>,
    },
    /// The load balancer works again.
    ApiLoadBalancerRecover {
        /// The nodes (default all).
        target: NodeTarget,
    },
    /// Spot capacity is reclaimed: an interruption notice, during which the node termination
    /// handler cordons and drains the node, then the instance is terminated.
    SpotInterruption {
        /// The candidate nodes (default: every spot node).
        target: NodeTarget,
        /// How many candidates are interrupted (picked with the seed); default all.
        count: Option<u64>,
        /// Or which fraction of them (rounded up).
        fraction: Option<f64>,
        /// Time from notice to termination.
        notice: Duration,
        /// Notices are spread over this window (each at a seeded random offset).
        spread: Duration,
    },
    /// A new node pool joins (its nodes boot and register).
    AddNodePool {
        /// The pool's name.
        pool: String,
        /// The cluster spec after adding it.
        cluster: Box<Cluster>,
    },
    /// A node pool is removed: its nodes are cordoned and drained (unless `drain: false`),
    /// then terminated.
    RemoveNodePool {
        /// The pool's name.
        pool: String,
        /// Drain before terminating.
        drain: bool,
        /// The longest wait for the drain.
        drain_timeout: Duration,
    },
}

impl Action {
    /// The action's name in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Apply { .. } => "apply",
            Action::Delete { .. } => "delete",
            Action::Patch { .. } => "patch",
            Action::Scale { .. } => "scale",
            Action::Cordon { .. } => "cordon",
            Action::Uncordon { .. } => "uncordon",
            Action::Drain { .. } => "drain",
            Action::Fail { .. } => "fail",
            Action::Recover { .. } => "recover",
            Action::ApiLoadBalancerOutage { .. } => "apiLoadBalancerOutage",
            Action::ApiLoadBalancerRecover { .. } => "apiLoadBalancerRecover",
            Action::SpotInterruption { .. } => "spotInterruption",
            Action::AddNodePool { .. } => "addNodePool",
            Action::RemoveNodePool { .. } => "removeNodePool",
        }
    }

    /// Whether the action disrupts running pods (the report measures the time to recover
    /// after these).
    pub fn is_disruptive(&self) -> bool {
        matches!(
            self,
            Action::Drain { .. }
                | Action::Fail { .. }
                | Action::ApiLoadBalancerOutage { .. }
                | Action::SpotInterruption { .. }
                | Action::RemoveNodePool { .. }
        )
    }
}

/// A time window of the run: `[from, until]` after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Start (default the start of the run).
    pub from: Duration,
    /// End (default the end of the run).
    pub until: Option<Duration>,
}

/// An expectation: a name and a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The name shown in the report (default `<type> #<index>`).
    pub name: String,
    /// What is checked.
    pub check: Check,
}

/// What an expectation checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// All pods of the workload are Ready (ready ≥ desired) at `after + within`.
    PodsReady {
        /// The workload.
        workload: WorkloadRef,
        /// Reference time.
        after: Duration,
        /// Allowed time after `after`.
        within: Duration,
    },
    /// The workload never has fewer than `min` Ready pods in the window.
    MinReady {
        /// The workload.
        workload: WorkloadRef,
        /// Minimum Ready pods.
        min: u64,
        /// When.
        window: Window,
    },
    /// At most `max` pods are unscheduled (Pending without a node) at any time in the window.
    MaxPending {
        /// Maximum.
        max: u64,
        /// When.
        window: Window,
    },
    /// The number of evicted pods (of the workload, or all) in the window is within bounds.
    Evictions {
        /// The workload (all pods when absent).
        workload: Option<WorkloadRef>,
        /// Minimum.
        min: Option<u64>,
        /// Maximum.
        max: Option<u64>,
        /// When.
        window: Window,
    },
    /// The cluster is healthy again (no unscheduled pods, every Deployment and StatefulSet
    /// fully Ready) within `within` of the named action.
    RecoversWithin {
        /// The action's name.
        action: String,
        /// Allowed time.
        within: Duration,
    },
    /// The number of Ready nodes among the target at `at` is within bounds.
    NodesReady {
        /// The nodes.
        target: NodeTarget,
        /// When.
        at: Duration,
        /// Minimum.
        min: Option<u64>,
        /// Maximum.
        max: Option<u64>,
    },
    /// At the end, the number of pods (of the workload, or all) bound to the target nodes and
    /// not terminating is within bounds.
    PodsOnNodes {
        /// The workload (all pods when absent).
        workload: Option<WorkloadRef>,
        /// The nodes.
        target: NodeTarget,
        /// Minimum.
        min: Option<u64>,
        /// Maximum.
        max: Option<u64>,
    },
}

impl Check {
    /// The check's type name in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::PodsReady { .. } => "podsReady",
            Check::MinReady { .. } => "minReady",
            Check::MaxPending { .. } => "maxPending",
            Check::Evictions { .. } => "evictions",
            Check::RecoversWithin { .. } => "recoversWithin",
            Check::NodesReady { .. } => "nodesReady",
            Check::PodsOnNodes { .. } => "podsOnNodes",
        }
    }
}

/// Reads the files a scenario names (a cluster spec path, manifest files). Paths are as
/// written in the scenario; the reader resolves them (e.g. against the scenario's directory).
pub type FileReader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// A reader that refuses every file (scenarios given as text only).
pub fn no_files(path: &str) -> Result<String, String> {
    Err(format!(
        "cannot read {path}: no file access for this scenario"
    ))
}

impl Scenario {
    /// Parses a scenario that names no files.
    pub fn from_yaml(text: &str) -> Result<Self, ScenarioError> {
        Self::parse(text, &no_files)
    }

    /// Reads and parses a scenario file; the files it names are read relative to its
    /// directory.
    pub fn load(path: &std::path::Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let reader =
            move |name: &str| std::fs::read_to_string(base.join(name)).map_err(|e| e.to_string());
        Self::parse(&text, &reader)
    }

    /// Parses and validates a scenario; `read` reads the files it names.
    pub fn parse(text: &str, read: FileReader<'_>) -> Result<Self, ScenarioError> {
        let document: Value = serde_saphyr::from_str(text).map_err(|e| {
            let location = e.location();
            let rendered = e.without_snippet().to_string();
            ScenarioError::Syntax {
                message: rendered
                    .strip_prefix("error: ")
                    .unwrap_or(&rendered)
                    .to_string(),
                line: location.as_ref().map(|l| l.line() as usize),
                column: location.as_ref().map(|l| l.column() as usize),
            }
        })?;
        let mut errors = Errors::default();
        let scenario = parse_document(&document, read, &mut errors)?;
        match scenario {
            Some(s) if errors.0.is_empty() => Ok(s),
            _ => Err(ScenarioError::Invalid(errors.0)),
        }
    }
}

fn parse_document(
    document: &Value,
    read: FileReader<'_>,
    errors: &mut Errors,
) -> Result<Option<Scenario>, ScenarioError> {
    let Some(mut top) = Fields::of(document, "", errors) else {
        return Ok(None);
    };
    match top.string("apiVersion", errors).as_deref() {
        Some(API_VERSION) => {}
        Some(other) => errors.add(
            "apiVersion",
            format!("must be {API_VERSION}, not {other:?}"),
        ),
        None => errors.add("apiVersion", format!("is required ({API_VERSION})")),
    }
    match top.string("kind", errors).as_deref() {
        Some(KIND) => {}
        Some(other) => errors.add("kind", format!("must be {KIND}, not {other:?}")),
        None => errors.add("kind", format!("is required ({KIND})")),
    }
    let (name, description) = match top.raw("metadata") {
        Some(meta) => match Fields::of(meta, "metadata", errors) {
            Some(mut meta) => {
                let name = meta.required_string("name", errors).unwrap_or_default();
                let description = meta.string("description", errors).unwrap_or_default();
                meta.finish(errors);
                (name, description)
            }
            None => (String::new(), String::new()),
        },
        None => {
            errors.add("metadata.name", "is required");
            (String::new(), String::new())
        }
    };
    let seed = top.u64("seed", errors).unwrap_or(1);
    let epoch = match top.string("epoch", errors) {
        Some(text) => match text.parse::<Timestamp>() {
            Ok(t) => t,
            Err(e) => {
                errors.add("epoch", format!("must be an RFC 3339 time: {e}"));
                default_epoch()
            }
        },
        None => default_epoch(),
    };
    let sample_interval = top
        .duration("sampleInterval", errors)
        .unwrap_or(DEFAULT_SAMPLE_INTERVAL);
    if sample_interval < Duration::from_secs(1) {
        errors.add("sampleInterval", "must be at least 1s");
    }
    let duration = top.duration("duration", errors);
    let cluster = parse_cluster(top.raw("cluster"), read)?;
    let cluster = match cluster {
        Ok(c) => Some(c),
        Err(mut e) => {
            errors.0.append(&mut e);
            None
        }
    };
    let manifests = match top.list("manifests", errors) {
        Some(items) => parse_manifests(items, "manifests", read, errors)?,
        None => Vec::new(),
    };
    let timeline_items = top.list("timeline", errors).cloned().unwrap_or_default();
    let expectation_items = top
        .list("expectations", errors)
        .cloned()
        .unwrap_or_default();
    top.finish(errors);

    let Some(cluster) = cluster else {
        return Ok(None);
    };
    let mut timeline = Vec::new();
    let mut universe: Vec<SimNode> = cluster.nodes().to_vec();
    let mut current = cluster.clone();
    // Actions are validated in time order so that pools added earlier are known later.
    let mut ordered: Vec<(Duration, usize, &Value)> = Vec::new();
    for (index, item) in timeline_items.iter().enumerate() {
        let at = item
            .get("at")
            .and_then(Value::as_str)
            .and_then(|s| kubetwin_cluster::SpecDuration::parse(s).ok())
            .map(kubetwin_cluster::SpecDuration::get)
            .unwrap_or_default();
        ordered.push((at, index, item));
    }
    ordered.sort_by_key(|(at, index, _)| (*at, *index));
    for (_, index, item) in ordered {
        let path = format!("timeline[{index}]");
        if let Some(action) = parse_action(
            item,
            &path,
            index,
            read,
            &mut current,
            &mut universe,
            errors,
        )? {
            timeline.push(action);
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for action in &timeline {
        if !names.insert(action.name.clone()) {
            errors.add(
                format!("timeline[{}].name", action.index),
                format!("duplicate action name {:?}", action.name),
            );
        }
    }
    let last_action = timeline.iter().map(|a| a.at).max().unwrap_or_default();
    let duration = duration.unwrap_or(last_action + DEFAULT_TAIL);
    if duration.is_zero() {
        errors.add("duration", "must be positive");
    }
    if duration > MAX_DURATION {
        errors.add("duration", "must be at most 744h (31 days)");
    }
    if duration < last_action {
        errors.add("duration", "ends before the last action of the timeline");
    }
    if !sample_interval.is_zero()
        && duration.as_millis() / sample_interval.as_millis().max(1) > u128::from(MAX_SAMPLES)
    {
        errors.add(
            "sampleInterval",
            format!("gives more than {MAX_SAMPLES} samples over the run"),
        );
    }
    let mut expectations = Vec::new();
    for (index, item) in expectation_items.iter().enumerate() {
        let path = format!("expectations[{index}]");
        if let Some(e) = parse_expectation(item, &path, index, &names, &universe, errors) {
            expectations.push(e);
        }
    }
    Ok(Some(Scenario {
        name,
        description,
        seed,
        epoch,
        duration,
        sample_interval,
        cluster,
        manifests,
        timeline,
        expectations,
    }))
}

fn default_epoch() -> Timestamp {
    DEFAULT_EPOCH.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Cluster errors keep their own paths under `prefix` (line numbers refer to the re-encoded
/// document, so they are dropped).
fn cluster_errors(prefix: &str, error: &ClusterError) -> Vec<FieldError> {
    error
        .field_errors()
        .into_iter()
        .map(|e| {
            let path = if e.path.is_empty() || e.path == "." {
                prefix.to_string()
            } else {
                format!("{prefix}.{}", e.path)
            };
            FieldError::new(path, e.message)
        })
        .collect()
}

fn parse_cluster(
    value: Option<&Value>,
    read: FileReader<'_>,
) -> Result<Result<Cluster, Vec<FieldError>>, ScenarioError> {
    let value = value
        .cloned()
        .unwrap_or_else(|| Value::String("builtin:hybrid-small".into()));
    match &value {
        Value::String(s) if s == "builtin:hybrid-small" => {
            Ok(Cluster::from_yaml(kubetwin_cluster::HYBRID_SMALL_YAML)
                .map_err(|e| cluster_errors("cluster", &e)))
        }
        Value::String(s) if s.starts_with("builtin:") => Ok(Err(vec![FieldError::new(
            "cluster",
            format!("unknown built-in cluster {s:?} (known: builtin:hybrid-small)"),
        )])),
        Value::String(path) => {
            let text = read(path).map_err(|message| ScenarioError::Read {
                path: "cluster".into(),
                message,
            })?;
            Ok(Cluster::from_yaml(&text)
                .map_err(|e| cluster_errors(&format!("cluster ({path})"), &e)))
        }
        Value::Object(_) => {
            let text = serde_json::to_string(&value).unwrap_or_default();
            Ok(Cluster::from_yaml(&text).map_err(|e| cluster_errors("cluster", &e)))
        }
        other => Ok(Err(vec![FieldError::new(
            "cluster",
            format!(
                "must be a path, \"builtin:hybrid-small\" or an inline cluster spec, not {}",
                type_name(other)
            ),
        )])),
    }
}

/// Manifests: objects, or strings naming (multi-document) YAML files.
fn parse_manifests(
    items: &[Value],
    path: &str,
    read: FileReader<'_>,
    errors: &mut Errors,
) -> Result<Vec<Value>, ScenarioError> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        match item {
            Value::Object(_) => {
                if check_manifest(item, &item_path, errors) {
                    out.push(item.clone());
                }
            }
            Value::String(file) => {
                let text = read(file).map_err(|message| ScenarioError::Read {
                    path: item_path.clone(),
                    message,
                })?;
                let documents: Vec<Value> =
                    serde_saphyr::from_multiple(&text).map_err(|e| ScenarioError::Read {
                        path: item_path.clone(),
                        message: e.without_snippet().to_string(),
                    })?;
                for (d, doc) in documents.into_iter().enumerate() {
                    if doc.is_null() {
                        continue;
                    }
                    if check_manifest(&doc, &format!("{item_path} ({file} document {d})"), errors) {
                        out.push(doc);
                    }
                }
            }
            other => errors.add(
                item_path,
                format!("must be an object or a file name, not {}", type_name(other)),
            ),
        }
    }
    Ok(out)
}

/// A manifest needs apiVersion, a served kind and a name.
fn check_manifest(value: &Value, path: &str, errors: &mut Errors) -> bool {
    let api_version = value["apiVersion"].as_str().unwrap_or("");
    let kind = value["kind"].as_str().unwrap_or("");
    if api_version.is_empty() || kind.is_empty() {
        errors.add(path, "needs apiVersion and kind");
        return false;
    }
    if registry::lookup_kind(api_version, kind).is_none() {
        errors.add(
            format!("{path}.kind"),
            format!("{api_version} {kind} is not served"),
        );
        return false;
    }
    if value["metadata"]["name"].as_str().is_none_or(str::is_empty) {
        errors.add(format!("{path}.metadata.name"), "is required");
        return false;
    }
    true
}

/// The apiVersion of common kinds, so object references may leave it out.
fn default_api_version(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => "apps/v1",
        "Pod"
        | "Service"
        | "ConfigMap"
        | "Secret"
        | "Namespace"
        | "Node"
        | "PersistentVolumeClaim"
        | "PersistentVolume"
        | "ServiceAccount"
        | "ReplicationController" => "v1",
        "Job" | "CronJob" => "batch/v1",
        "PodDisruptionBudget" => "policy/v1",
        "PriorityClass" => "scheduling.k8s.io/v1",
        "StorageClass" => "storage.k8s.io/v1",
        _ => return None,
    })
}

/// An object reference: `{apiVersion?, kind, name, namespace?}` or `kind/name`.
fn parse_object_ref(value: &Value, path: &str, errors: &mut Errors) -> Option<ObjectRef> {
    let (api_version, kind, namespace, name) = match value {
        Value::String(s) => {
            let Some((kind, name)) = s.split_once('/') else {
                errors.add(path, format!("{s:?} must be KIND/NAME or a mapping"));
                return None;
            };
            let kind = match WorkloadKind::parse(kind) {
                Some(k) => k.as_str().to_string(),
                None => kind.to_string(),
            };
            (None, kind, None, name.to_string())
        }
        _ => {
            let mut f = Fields::of(value, path, errors)?;
            let api_version = f.string("apiVersion", errors);
            let kind = f.required_string("kind", errors);
            let name = f.required_string("name", errors);
            let namespace = f.string("namespace", errors);
            f.finish(errors);
            (api_version, kind?, namespace, name?)
        }
    };
    let api_version = match api_version {
        Some(v) => v,
        None => match default_api_version(&kind) {
            Some(v) => v.to_string(),
            None => {
                errors.add(path, format!("apiVersion is required for kind {kind}"));
                return None;
            }
        },
    };
    let Some(info) = registry::lookup_kind(&api_version, &kind) else {
        errors.add(path, format!("{api_version} {kind} is not served"));
        return None;
    };
    let namespace = if info.namespaced() {
        namespace.unwrap_or_else(|| "default".into())
    } else {
        String::new()
    };
    Some(ObjectRef {
        api_version,
        kind,
        namespace,
        name,
    })
}

/// A workload reference: `{kind, name, namespace?}` or `kind/name`.
fn parse_workload(value: &Value, path: &str, errors: &mut Errors) -> Option<WorkloadRef> {
    let (kind, namespace, name) = match value {
        Value::String(s) => {
            let Some((kind, name)) = s.split_once('/') else {
                errors.add(path, format!("{s:?} must be KIND/NAME or a mapping"));
                return None;
            };
            (kind.to_string(), None, name.to_string())
        }
        _ => {
            let mut f = Fields::of(value, path, errors)?;
            let kind = f.required_string("kind", errors);
            let name = f.required_string("name", errors);
            let namespace = f.string("namespace", errors);
            f.finish(errors);
            (kind?, namespace, name?)
        }
    };
    let Some(kind) = WorkloadKind::parse(&kind) else {
        errors.add(
            path,
            format!("kind {kind:?} is not one of Deployment, StatefulSet, ReplicaSet, DaemonSet"),
        );
        return None;
    };
    if name.is_empty() {
        errors.add(path, "name must not be empty");
        return None;
    }
    Some(WorkloadRef {
        kind,
        namespace: namespace.unwrap_or_else(|| "default".into()),
        name,
    })
}

const TARGET_KEYS: [&str; 8] = [
    "node",
    "pool",
    "zone",
    "region",
    "provider",
    "host",
    "capacityType",
    "labelSelector",
];

/// Reads the node target keys of an action or expectation and checks that the names exist in
/// the cluster (including pools added by the timeline).
fn parse_target(f: &mut Fields<'_>, universe: &[SimNode], errors: &mut Errors) -> NodeTarget {
    let mut target = NodeTarget::default();
    let check = |key: &'static str,
                 f: &mut Fields<'_>,
                 errors: &mut Errors,
                 known: &dyn Fn(&SimNode, &str) -> bool| {
        let values = f.strings(key, errors).unwrap_or_default();
        for v in &values {
            if !universe.iter().any(|n| known(n, v)) {
                errors.add(f.at(key), format!("no node has {key} {v:?}"));
            }
        }
        values
    };
    target.nodes = check("node", f, errors, &|n, v| n.name == v);
    target.pools = check("pool", f, errors, &|n, v| n.pool == v);
    target.zones = check("zone", f, errors, &|n, v| n.zone == v);
    target.regions = check("region", f, errors, &|n, v| n.region == v);
    target.providers = check("provider", f, errors, &|n, v| n.provider == v);
    target.hosts = check("host", f, errors, &|n, v| {
        n.hypervisor_host.as_deref() == Some(v)
    });
    target.capacity_type = match f.string("capacityType", errors).as_deref() {
        None => None,
        Some("spot") => Some(CapacityType::Spot),
        Some("on-demand") => Some(CapacityType::OnDemand),
        Some(other) => {
            errors.add(
                f.at("capacityType"),
                format!("must be spot or on-demand, not {other:?}"),
            );
            None
        }
    };
    target.label_selector = f.string("labelSelector", errors);
    if let Some(s) = &target.label_selector
        && let Err(e) = Selector::parse(s)
    {
        errors.add(f.at("labelSelector"), e.0);
    }
    target
}

#[allow(clippy::too_many_arguments)]
fn parse_action(
    item: &Value,
    path: &str,
    index: usize,
    read: FileReader<'_>,
    current: &mut Cluster,
    universe: &mut Vec<SimNode>,
    errors: &mut Errors,
) -> Result<Option<TimedAction>, ScenarioError> {
    let Some(mut f) = Fields::of(item, path, errors) else {
        return Ok(None);
    };
    let at = if f.has("at") {
        f.duration("at", errors)
    } else {
        f.raw("at");
        errors.add(f.at("at"), "is required");
        None
    };
    let kind = f.required_string("action", errors);
    let name = f.string("name", errors);
    let Some(kind) = kind else {
        return Ok(None);
    };
    let uses_target = matches!(
        kind.as_str(),
        "cordon"
            | "uncordon"
            | "drain"
            | "fail"
            | "recover"
            | "apiLoadBalancerOutage"
            | "apiLoadBalancerRecover"
            | "spotInterruption"
    );
    let target = if uses_target {
        parse_target(&mut f, universe, errors)
    } else {
        NodeTarget::default()
    };
    let needs_target = matches!(
        kind.as_str(),
        "cordon" | "uncordon" | "drain" | "fail" | "recover"
    );
    if needs_target && target.is_empty() {
        errors.add(
            path,
            format!(
                "{kind} needs a node target (one of: {})",
                TARGET_KEYS.join(", ")
            ),
        );
    }
    let action = match kind.as_str() {
        "apply" => {
            let manifests = match f.list("manifests", errors) {
                Some(items) => parse_manifests(items, &f.at("manifests"), read, errors)?,
                None => {
                    errors.add(f.at("manifests"), "is required");
                    Vec::new()
                }
            };
            Some(Action::Apply { manifests })
        }
        "delete" => {
            let mut objects = Vec::new();
            match f.raw("objects") {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(o) =
                            parse_object_ref(item, &format!("{}[{i}]", f.at("objects")), errors)
                        {
                            objects.push(o);
                        }
                    }
                }
                Some(other) => errors.add(
                    f.at("objects"),
                    format!("must be a list, not {}", type_name(other)),
                ),
                None => {}
            }
            if let Some(object) = f.raw("object")
                && let Some(o) = parse_object_ref(object, &f.at("object"), errors)
            {
                objects.push(o);
            }
            if objects.is_empty() {
                errors.add(path, "delete needs object or objects");
            }
            Some(Action::Delete { objects })
        }
        "patch" => {
            let object = match f.raw("object") {
                Some(o) => parse_object_ref(o, &f.at("object"), errors),
                None => {
                    errors.add(f.at("object"), "is required");
                    None
                }
            };
            let patch_type = match f.string("type", errors).as_deref() {
                None | Some("strategic") => PatchType::Strategic,
                Some("merge") => PatchType::Merge,
                Some("json") => PatchType::Json,
                Some(other) => {
                    errors.add(
                        f.at("type"),
                        format!("must be strategic, merge or json, not {other:?}"),
                    );
                    PatchType::Strategic
                }
            };
            let patch = f.raw("patch").cloned();
            match &patch {
                None => errors.add(f.at("patch"), "is required"),
                Some(Value::Array(_)) if patch_type == PatchType::Json => {}
                Some(Value::Object(_)) if patch_type != PatchType::Json => {}
                Some(other) => errors.add(
                    f.at("patch"),
                    format!(
                        "{} is not a {} patch",
                        type_name(other),
                        match patch_type {
                            PatchType::Json => "JSON (a list of operations)",
                            _ => "merge (a mapping)",
                        }
                    ),
                ),
            }
            object.zip(patch).map(|(object, patch)| Action::Patch {
                object,
                patch_type,
                patch,
            })
        }
        "scale" => {
            let object = match f.raw("object") {
                Some(o) => parse_object_ref(o, &f.at("object"), errors),
                None => {
                    errors.add(f.at("object"), "is required");
                    None
                }
            };
            if let Some(o) = &object
                && o.resource()
                    .is_some_and(|r| r.subresource("scale").is_none())
            {
                errors.add(
                    f.at("object"),
                    format!("{} has no scale subresource", o.kind),
                );
            }
            let replicas = if f.has("replicas") {
                f.u64("replicas", errors)
            } else {
                f.raw("replicas");
                errors.add(f.at("replicas"), "is required");
                None
            };
            if replicas.is_some_and(|r| r > i32::MAX as u64) {
                errors.add(f.at("replicas"), "is too large");
            }
            object
                .zip(replicas)
                .map(|(object, replicas)| Action::Scale { object, replicas })
        }
        "cordon" => Some(Action::Cordon { target }),
        "uncordon" => Some(Action::Uncordon { target }),
        "drain" => {
            let mut options = DrainOptions::default();
            if let Some(b) = f.bool("ignoreDaemonSets", errors) {
                options.ignore_daemon_sets = b;
            }
            if let Some(b) = f.bool("deleteEmptyDirData", errors) {
                options.delete_empty_dir_data = b;
            }
            if let Some(b) = f.bool("force", errors) {
                options.force = b;
            }
            options.timeout = f.duration("timeout", errors);
            Some(Action::Drain { target, options })
        }
        "fail" => {
            let duration = f.duration("duration", errors);
            Some(Action::Fail { target, duration })
        }
        "recover" => Some(Action::Recover { target }),
        "apiLoadBalancerOutage" => {
            let node_local_api_proxy = f.bool("nodeLocalApiProxy", errors).unwrap_or(false);
            let duration = f.duration("duration", errors);
            Some(Action::ApiLoadBalancerOutage {
                target,
                node_local_api_proxy,
                duration,
            })
        }
        "apiLoadBalancerRecover" => Some(Action::ApiLoadBalancerRecover { target }),
        "spotInterruption" => {
            let mut target = target;
            if target.capacity_type.is_none() && target.nodes.is_empty() {
                target.capacity_type = Some(CapacityType::Spot);
            }
            let count = f.u64("count", errors);
            let fraction = f.f64("fraction", errors);
            if fraction.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
                errors.add(f.at("fraction"), "must be between 0 and 1");
            }
            if count.is_some() && fraction.is_some() {
                errors.add(path, "give count or fraction, not both");
            }
            let notice = f.duration("notice", errors).unwrap_or(DEFAULT_SPOT_NOTICE);
            let spread = f.duration("spread", errors).unwrap_or_default();
            if !universe.iter().any(|n| target.matches(n)) {
                errors.add(path, format!("no node matches {}", target.describe()));
            }
            Some(Action::SpotInterruption {
                target,
                count,
                fraction,
                notice,
                spread,
            })
        }
        "addNodePool" => {
            let pool_path = f.at("pool");
            match f.raw("pool") {
                Some(pool) => {
                    let pool_name = pool["name"].as_str().unwrap_or("").to_string();
                    let spec: ClusterSpec = current.spec().clone();
                    let position = spec.pools.len();
                    let mut encoded = serde_json::to_value(&spec).unwrap_or(Value::Null);
                    if let Some(pools) = encoded.get_mut("pools").and_then(Value::as_array_mut) {
                        pools.push(pool.clone());
                    }
                    let text = serde_json::to_string(&encoded).unwrap_or_default();
                    match Cluster::from_yaml(&text) {
                        Ok(extended) => {
                            let unchanged = current.nodes().iter().all(|old| {
                                extended.node(&old.name).is_some_and(|new| {
                                    new.internal_ip == old.internal_ip
                                        && new.pod_cidr == old.pod_cidr
                                })
                            });
                            if !unchanged {
                                errors.add(
                                    &pool_path,
                                    "adding this pool would change existing nodes' addresses",
                                );
                            }
                            for node in extended.nodes() {
                                if node.pool == pool_name
                                    && !universe.iter().any(|n| n.name == node.name)
                                {
                                    universe.push(node.clone());
                                }
                            }
                            *current = extended.clone();
                            Some(Action::AddNodePool {
                                pool: pool_name,
                                cluster: Box::new(extended),
                            })
                        }
                        Err(e) => {
                            let prefix = format!("pools[{position}]");
                            for fe in e.field_errors() {
                                let p = match fe.path.strip_prefix(&prefix) {
                                    Some(rest) => format!("{pool_path}{rest}"),
                                    None => format!("{pool_path} (cluster {})", fe.path),
                                };
                                errors.add(p, fe.message);
                            }
                            None
                        }
                    }
                }
                None => {
                    errors.add(
                        pool_path,
                        "is required (a node pool as in the cluster spec)",
                    );
                    None
                }
            }
        }
        "removeNodePool" => {
            let pool = f.required_string("pool", errors);
            if let Some(p) = &pool
                && current.pool(p).is_none()
            {
                errors.add(f.at("pool"), format!("no node pool {p:?} at this time"));
            }
            let drain = f.bool("drain", errors).unwrap_or(true);
            let drain_timeout = f
                .duration("drainTimeout", errors)
                .unwrap_or(Duration::from_secs(600));
            pool.map(|pool| Action::RemoveNodePool {
                pool,
                drain,
                drain_timeout,
            })
        }
        other => {
            errors.add(
                f.at("action"),
                format!(
                    "unknown action {other:?}; expected one of: apply, delete, patch, scale, cordon, uncordon, drain, fail, recover, apiLoadBalancerOutage, apiLoadBalancerRecover, spotInterruption, addNodePool, removeNodePool"
                ),
            );
            // The rest of the fields are unknown too; one error is enough.
            return Ok(None);
        }
    };
    f.finish(errors);
    let (Some(at), Some(action)) = (at, action) else {
        return Ok(None);
    };
    let name = name.unwrap_or_else(|| format!("{}-{index}", action.kind()));
    Ok(Some(TimedAction {
        index,
        at,
        name,
        action,
    }))
}

fn parse_window(f: &mut Fields<'_>, errors: &mut Errors) -> Window {
    let from = f.duration("from", errors).unwrap_or_default();
    let until = f.duration("until", errors);
    if until.is_some_and(|u| u < from) {
        errors.add(f.at("until"), "is before from");
    }
    Window { from, until }
}

fn bounds(f: &mut Fields<'_>, errors: &mut Errors) -> (Option<u64>, Option<u64>) {
    let min = f.u64("min", errors);
    let max = f.u64("max", errors);
    if min.is_none() && max.is_none() {
        errors.add(f.path(), "needs min or max");
    }
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        errors.add(f.at("min"), "is greater than max");
    }
    (min, max)
}

fn parse_expectation(
    item: &Value,
    path: &str,
    index: usize,
    action_names: &std::collections::BTreeSet<String>,
    universe: &[SimNode],
    errors: &mut Errors,
) -> Option<Expectation> {
    let mut f = Fields::of(item, path, errors)?;
    let kind = f.required_string("type", errors)?;
    let name = f.string("name", errors);
    let workload =
        |f: &mut Fields<'_>, errors: &mut Errors, required: bool| -> Option<WorkloadRef> {
            match f.raw("workload") {
                Some(w) => parse_workload(w, &f.at("workload"), errors),
                None => {
                    if required {
                        errors.add(f.at("workload"), "is required");
                    }
                    None
                }
            }
        };
    let required_duration = |f: &mut Fields<'_>, key: &'static str, errors: &mut Errors| {
        if f.has(key) {
            f.duration(key, errors)
        } else {
            f.raw(key);
            errors.add(f.at(key), "is required");
            None
        }
    };
    let check = match kind.as_str() {
        "podsReady" => {
            let w = workload(&mut f, errors, true);
            let after = f.duration("after", errors).unwrap_or_default();
            let within = required_duration(&mut f, "within", errors);
            w.zip(within).map(|(workload, within)| Check::PodsReady {
                workload,
                after,
                within,
            })
        }
        "minReady" => {
            let w = workload(&mut f, errors, true);
            let min = f.u64("min", errors);
            if min.is_none() {
                errors.add(f.at("min"), "is required");
            }
            let window = parse_window(&mut f, errors);
            w.zip(min).map(|(workload, min)| Check::MinReady {
                workload,
                min,
                window,
            })
        }
        "maxPending" => {
            let max = f.u64("max", errors);
            if max.is_none() {
                errors.add(f.at("max"), "is required");
            }
            let window = parse_window(&mut f, errors);
            max.map(|max| Check::MaxPending { max, window })
        }
        "evictions" | "noEvictions" => {
            let w = workload(&mut f, errors, false);
            let (min, max) = if kind == "noEvictions" {
                (None, Some(0))
            } else {
                bounds(&mut f, errors)
            };
            let window = parse_window(&mut f, errors);
            Some(Check::Evictions {
                workload: w,
                min,
                max,
                window,
            })
        }
        "recoversWithin" => {
            let action = f.required_string("action", errors);
            if let Some(a) = &action
                && !action_names.contains(a)
            {
                errors.add(f.at("action"), format!("no action is named {a:?}"));
            }
            let within = required_duration(&mut f, "within", errors);
            action
                .zip(within)
                .map(|(action, within)| Check::RecoversWithin { action, within })
        }
        "nodesReady" => {
            let target = parse_target(&mut f, universe, errors);
            let at = required_duration(&mut f, "at", errors);
            let (min, max) = bounds(&mut f, errors);
            at.map(|at| Check::NodesReady {
                target,
                at,
                min,
                max,
            })
        }
        "podsOnNodes" => {
            let w = workload(&mut f, errors, false);
            let target = parse_target(&mut f, universe, errors);
            let (min, max) = bounds(&mut f, errors);
            Some(Check::PodsOnNodes {
                workload: w,
                target,
                min,
                max,
            })
        }
        other => {
            errors.add(
                f.at("type"),
                format!(
                    "unknown expectation {other:?}; expected one of: podsReady, minReady, maxPending, evictions, noEvictions, recoversWithin, nodesReady, podsOnNodes"
                ),
            );
            return None;
        }
    };
    f.finish(errors);
    let check = check?;
    let name = name.unwrap_or_else(|| format!("{} #{index}", check.kind()));
    Some(Expectation { name, check })
}

/// A value for messages (re-exported for the engine's errors).
pub fn describe_value(value: &Value) -> String {
    describe(value)
}
