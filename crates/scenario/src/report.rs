//! The report: `report.json` (schema `kubetwin.io/scenario-report/v1`, documented in
//! `docs/SCENARIOS.md` and `docs/scenario-report.schema.json`) and `report.md` for people.
//! Everything in it derives from virtual time and the seed, never from the wall clock, so the
//! same scenario and seed give byte-identical reports.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kubetwin_cluster::SimNode;
use serde::Serialize;

use crate::engine::ActionLog;
use crate::expect;
use crate::recorder::{Capacity, Recording, Sample, ms};
use crate::spec::Scenario;

/// The report's schema identifier.
pub const SCHEMA: &str = "kubetwin.io/scenario-report/v1";
/// Most evictions listed one by one (all are counted).
pub const MAX_LISTED_EVICTIONS: usize = 1000;
/// Most node events listed.
pub const MAX_LISTED_NODE_EVENTS: usize = 2000;

/// Seconds (with millisecond precision) from milliseconds.
fn seconds(t: i64) -> f64 {
    t as f64 / 1000.0
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10_f64.powi(digits);
    let rounded = (value * scale).round() / scale;
    // No negative zero (an empty float sum is -0.0).
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// `+1h2m3s` style offsets from the start.
pub fn format_offset(t: i64) -> String {
    let total_ms = t.max(0);
    let secs = total_ms / 1000;
    let millis = total_ms % 1000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::from("+");
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}m");
    }
    if millis > 0 {
        let _ = write!(out, "{s}.{millis:03}s");
    } else {
        let _ = write!(out, "{s}s");
    }
    out
}

/// The report.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// What ran.
    pub scenario: ScenarioInfo,
    /// Every expectation passed and no action failed.
    pub passed: bool,
    /// Headline numbers.
    pub summary: Summary,
    /// Errors applying the initial manifests.
    pub setup_errors: Vec<String>,
    /// Each expectation's verdict.
    pub expectations: Vec<ExpectationReport>,
    /// Each action: what it touched, what happened, the time to recover.
    pub actions: Vec<ActionReport>,
    /// Unscheduled pods over time with the scheduler's reasons (samples with any).
    pub pending: Vec<PendingPoint>,
    /// The state of the cluster at every sample.
    pub samples: Vec<SampleReport>,
    /// Evicted pods.
    pub evictions: EvictionsReport,
    /// Node readiness and existence changes.
    pub node_events: Vec<NodeEventReport>,
    /// Whether `node_events` was cut at [`MAX_LISTED_NODE_EVENTS`].
    pub node_events_truncated: bool,
}

/// What ran.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioInfo {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description`.
    pub description: String,
    /// The seed used.
    pub seed: u64,
    /// Virtual start time (RFC 3339).
    pub epoch: String,
    /// Virtual duration (s).
    pub duration_seconds: f64,
    /// Sample interval (s).
    pub sample_interval_seconds: f64,
    /// The cluster spec's name.
    pub cluster: String,
    /// Nodes at the start.
    pub initial_nodes: usize,
}

/// Headline numbers.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Expectations that passed.
    pub expectations_passed: usize,
    /// Expectations that failed.
    pub expectations_failed: usize,
    /// Errors reported by actions.
    pub action_errors: usize,
    /// Pods evicted.
    pub evictions: usize,
    /// Pods bound to a node during the run.
    pub pods_scheduled: usize,
    /// Highest number of unscheduled pods at any virtual instant.
    pub peak_unscheduled_pods: u64,
    /// Highest number of pods at once.
    pub peak_pods: u64,
    /// When every initial node was Ready (s), if it happened.
    pub cluster_ready_seconds: Option<f64>,
    /// Cost of the nodes over the run (hourly prices × time).
    pub total_cost: f64,
    /// Hourly cost once the initial nodes are Ready.
    pub hourly_cost_start: f64,
    /// Hourly cost at the end.
    pub hourly_cost_end: f64,
    /// Nodes at the end.
    pub final_nodes: u64,
    /// Ready nodes at the end.
    pub final_ready_nodes: u64,
    /// Writes the API server made during the run (the store's last revision).
    pub api_writes: i64,
}

/// One expectation's verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExpectationReport {
    /// Name.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it holds.
    pub passed: bool,
    /// What was measured.
    pub detail: String,
}

/// The time to recover after a disruptive action.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Recovery {
    /// When the cluster first became unhealthy after the action (s), if it did before the
    /// next disruptive action.
    pub unhealthy_at: Option<f64>,
    /// When it was healthy again (s).
    pub recovered_at: Option<f64>,
    /// `recovered_at − action time` (0 when it never became unhealthy); absent when it did
    /// not recover by the end.
    pub seconds_to_recover: Option<f64>,
}

/// One action.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionReport {
    /// Position in the file's timeline.
    pub index: usize,
    /// Name.
    pub name: String,
    /// Action type.
    pub action: String,
    /// When (s).
    pub at: f64,
    /// The target, described.
    pub target: String,
    /// The nodes touched.
    pub nodes: Vec<String>,
    /// What happened.
    pub notes: Vec<Note>,
    /// Errors.
    pub errors: Vec<String>,
    /// When a long action finished (s).
    pub completed_at: Option<f64>,
    /// Pods evicted from the action until the next disruptive action.
    pub evictions: usize,
    /// Pods bound to nodes in that window, by zone.
    pub scheduled_by_zone: BTreeMap<String, usize>,
    /// Time to recover (disruptive actions only).
    pub recovery: Option<Recovery>,
}

/// A timed note.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// When (s).
    pub t: f64,
    /// What.
    pub text: String,
}

/// Unscheduled pods at a sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingPoint {
    /// When (s).
    pub t: f64,
    /// Unscheduled pods.
    pub pods: u64,
    /// The scheduler's messages (`0/17 nodes are available: ...`) and how many pods have each.
    pub reasons: Vec<Reason>,
}

/// One scheduler message.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// The message.
    pub message: String,
    /// Pods with it.
    pub pods: u64,
}

/// Capacity of a zone or provider at a sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CapacityReport {
    /// `provider/region/zone` or the provider.
    pub name: String,
    /// Nodes.
    pub nodes: u64,
    /// Ready nodes.
    pub ready_nodes: u64,
    /// CPU requested (millicores).
    pub cpu_requested_millis: i64,
    /// CPU allocatable (millicores).
    pub cpu_allocatable_millis: i64,
    /// Requested / allocatable CPU.
    pub cpu_utilization: f64,
    /// Memory requested / allocatable.
    pub memory_utilization: f64,
    /// Hourly cost of the nodes.
    pub hourly_cost: f64,
}

fn capacity_report(name: &str, c: &Capacity) -> CapacityReport {
    let ratio = |a: i64, b: i64| {
        if b > 0 {
            round(a as f64 / b as f64, 4)
        } else {
            0.0
        }
    };
    CapacityReport {
        name: name.to_string(),
        nodes: c.nodes,
        ready_nodes: c.ready_nodes,
        cpu_requested_millis: c.cpu_requested_millis,
        cpu_allocatable_millis: c.cpu_allocatable_millis,
        cpu_utilization: ratio(c.cpu_requested_millis, c.cpu_allocatable_millis),
        memory_utilization: ratio(c.memory_requested_bytes, c.memory_allocatable_bytes),
        hourly_cost: round(c.hourly_cost, 4),
    }
}

/// The cluster at one sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SampleReport {
    /// When (s).
    pub t: f64,
    /// Nodes.
    pub nodes: u64,
    /// Ready nodes.
    pub ready_nodes: u64,
    /// Cordoned nodes.
    pub cordoned_nodes: u64,
    /// Running pods.
    pub running_pods: u64,
    /// Pods bound but not running yet.
    pub starting_pods: u64,
    /// Unscheduled pods.
    pub unscheduled_pods: u64,
    /// Terminating pods.
    pub terminating_pods: u64,
    /// Hourly cost of the nodes.
    pub hourly_cost: f64,
    /// Per zone.
    pub zones: Vec<CapacityReport>,
    /// Per provider.
    pub providers: Vec<CapacityReport>,
}

fn sample_report(s: &Sample) -> SampleReport {
    SampleReport {
        t: seconds(s.t),
        nodes: s.nodes,
        ready_nodes: s.ready_nodes,
        cordoned_nodes: s.cordoned_nodes,
        running_pods: s.running_pods,
        starting_pods: s.starting_pods,
        unscheduled_pods: s.unscheduled_pods,
        terminating_pods: s.terminating_pods,
        hourly_cost: round(s.providers.values().map(|c| c.hourly_cost).sum(), 4),
        zones: s.zones.iter().map(|(k, c)| capacity_report(k, c)).collect(),
        providers: s
            .providers
            .iter()
            .map(|(k, c)| capacity_report(k, c))
            .collect(),
    }
}

/// Evicted pods.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EvictionsReport {
    /// All evictions.
    pub total: usize,
    /// By reason.
    pub by_reason: BTreeMap<String, usize>,
    /// By workload (`Kind/namespace/name`, `-` for none).
    pub by_workload: BTreeMap<String, usize>,
    /// By zone of the node the pod ran on.
    pub by_zone: BTreeMap<String, usize>,
    /// The first [`MAX_LISTED_EVICTIONS`].
    pub items: Vec<EvictionItem>,
    /// Whether `items` was cut.
    pub truncated: bool,
}

/// One eviction.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EvictionItem {
    /// When (s).
    pub t: f64,
    /// `namespace/name`.
    pub pod: String,
    /// Node.
    pub node: String,
    /// Zone.
    pub zone: String,
    /// Workload.
    pub workload: Option<String>,
    /// Reason.
    pub reason: String,
}

/// A node event.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeEventReport {
    /// When (s).
    pub t: f64,
    /// Node.
    pub node: String,
    /// `Registered`, `Ready`, `NotReady`, `Cordoned`, `Uncordoned`, `Deleted`.
    pub event: String,
}

fn recovery(recording: &Recording, at: i64, next_disruption: i64, end: i64) -> Recovery {
    let healthy = &recording.healthy;
    let mut unhealthy_at = None;
    if healthy.at(at).is_some_and(|h| !*h) {
        unhealthy_at = Some(at);
    } else {
        unhealthy_at = healthy
            .points
            .iter()
            .find(|(t, h)| *t > at && *t < next_disruption && !*h)
            .map(|(t, _)| *t)
            .or(unhealthy_at);
    }
    let Some(down) = unhealthy_at else {
        return Recovery {
            unhealthy_at: None,
            recovered_at: None,
            seconds_to_recover: Some(0.0),
        };
    };
    let back = healthy
        .points
        .iter()
        .find(|(t, h)| *t > down && *t <= end && *h)
        .map(|(t, _)| *t);
    Recovery {
        unhealthy_at: Some(seconds(down)),
        recovered_at: back.map(seconds),
        seconds_to_recover: back.map(|b| seconds(b - at)),
    }
}

/// Builds the report from the recording and the action log.
pub fn build(
    scenario: &Scenario,
    seed: u64,
    recording: &Recording,
    log: &[ActionLog],
    nodes: &BTreeMap<String, SimNode>,
    cluster_ready_at: Option<i64>,
    setup_errors: Vec<String>,
) -> Report {
    let end = ms(scenario.duration);
    let disruptions: Vec<i64> = log.iter().filter(|a| a.disruptive).map(|a| a.at).collect();
    let zones = recording.zone_names();
    let actions: Vec<ActionReport> = log
        .iter()
        .map(|a| {
            let next = disruptions
                .iter()
                .copied()
                .find(|t| *t > a.at)
                .unwrap_or(end + 1);
            let evictions = recording
                .evictions
                .iter()
                .filter(|e| e.t >= a.at && e.t < next)
                .count();
            let mut scheduled_by_zone = BTreeMap::new();
            for (t, zone) in &recording.bindings {
                if *t >= a.at && *t < next {
                    let name = zones.get(*zone as usize).cloned().unwrap_or_default();
                    *scheduled_by_zone.entry(name).or_insert(0) += 1;
                }
            }
            ActionReport {
                index: a.index,
                name: a.name.clone(),
                action: a.kind.clone(),
                at: seconds(a.at),
                target: a.target.clone(),
                nodes: a.nodes.clone(),
                notes: a
                    .notes
                    .iter()
                    .map(|(t, text)| Note {
                        t: seconds(*t),
                        text: text.clone(),
                    })
                    .collect(),
                errors: a.errors.clone(),
                completed_at: a.completed_at.map(seconds),
                evictions,
                scheduled_by_zone,
                recovery: a.disruptive.then(|| recovery(recording, a.at, next, end)),
            }
        })
        .collect();
    let expectations: Vec<ExpectationReport> = scenario
        .expectations
        .iter()
        .map(|e| {
            let verdict = expect::evaluate(e, recording, &actions, nodes, end);
            ExpectationReport {
                name: e.name.clone(),
                kind: e.check.kind().to_string(),
                passed: verdict.passed,
                detail: verdict.detail,
            }
        })
        .collect();
    let mut total_cost = 0.0;
    for (i, (t, cost)) in recording.hourly_cost.points.iter().enumerate() {
        let until = recording
            .hourly_cost
            .points
            .get(i + 1)
            .map_or(end, |(next, _)| *next)
            .min(end);
        if until > *t {
            total_cost += cost * (until - t) as f64 / 3_600_000.0;
        }
    }
    let mut evictions = EvictionsReport {
        total: recording.evictions.len(),
        by_reason: BTreeMap::new(),
        by_workload: BTreeMap::new(),
        by_zone: BTreeMap::new(),
        items: Vec::new(),
        truncated: recording.evictions.len() > MAX_LISTED_EVICTIONS,
    };
    for e in &recording.evictions {
        *evictions.by_reason.entry(e.reason.clone()).or_insert(0) += 1;
        *evictions
            .by_workload
            .entry(e.workload.clone().unwrap_or_else(|| "-".into()))
            .or_insert(0) += 1;
        *evictions.by_zone.entry(e.zone.clone()).or_insert(0) += 1;
        if evictions.items.len() < MAX_LISTED_EVICTIONS {
            evictions.items.push(EvictionItem {
                t: seconds(e.t),
                pod: format!("{}/{}", e.namespace, e.pod),
                node: e.node.clone(),
                zone: e.zone.clone(),
                workload: e.workload.clone(),
                reason: e.reason.clone(),
            });
        }
    }
    let pending = recording
        .samples
        .iter()
        .filter(|s| s.unscheduled_pods > 0)
        .map(|s| {
            let mut reasons: Vec<Reason> = s
                .pending_reasons
                .iter()
                .map(|(message, pods)| Reason {
                    message: message.clone(),
                    pods: *pods,
                })
                .collect();
            reasons.sort_by(|a, b| b.pods.cmp(&a.pods).then_with(|| a.message.cmp(&b.message)));
            PendingPoint {
                t: seconds(s.t),
                pods: s.unscheduled_pods,
                reasons,
            }
        })
        .collect();
    let last = recording.samples.last();
    let expectations_passed = expectations.iter().filter(|e| e.passed).count();
    let action_errors: usize = actions.iter().map(|a| a.errors.len()).sum();
    let summary = Summary {
        expectations_passed,
        expectations_failed: expectations.len() - expectations_passed,
        action_errors,
        evictions: recording.evictions.len(),
        pods_scheduled: recording.bindings.len(),
        peak_unscheduled_pods: recording
            .unscheduled
            .points
            .iter()
            .map(|(_, v)| *v)
            .max()
            .unwrap_or(0),
        peak_pods: recording.peak_pods,
        cluster_ready_seconds: cluster_ready_at.map(seconds),
        total_cost: round(total_cost, 4),
        hourly_cost_start: round(
            recording
                .hourly_cost
                .at(cluster_ready_at.unwrap_or(0))
                .copied()
                .unwrap_or(0.0),
            4,
        ),
        hourly_cost_end: round(
            recording.hourly_cost.points.last().map_or(0.0, |(_, c)| *c),
            4,
        ),
        final_nodes: last.map_or(0, |s| s.nodes),
        final_ready_nodes: last.map_or(0, |s| s.ready_nodes),
        api_writes: recording.api_writes,
    };
    let node_events: Vec<NodeEventReport> = recording
        .node_log
        .iter()
        .take(MAX_LISTED_NODE_EVENTS)
        .map(|e| NodeEventReport {
            t: seconds(e.t),
            node: e.node.clone(),
            event: e.event.to_string(),
        })
        .collect();
    Report {
        schema: SCHEMA.into(),
        scenario: ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            seed,
            epoch: scenario.epoch.to_string(),
            duration_seconds: seconds(end),
            sample_interval_seconds: seconds(ms(scenario.sample_interval)),
            cluster: scenario.cluster.name().to_string(),
            initial_nodes: scenario.cluster.nodes().len(),
        },
        passed: expectations_passed == expectations.len()
            && action_errors == 0
            && setup_errors.is_empty(),
        summary,
        setup_errors,
        expectations,
        actions,
        pending,
        samples: recording.samples.iter().map(sample_report).collect(),
        evictions,
        node_events_truncated: recording.node_log.len() > MAX_LISTED_NODE_EVENTS,
        node_events,
    }
}

impl Report {
    /// `report.json`: pretty-printed, keys in a fixed order, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
        text.push('\n');
        text
    }

    /// `report.md`: the report for people.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.scenario;
        let _ = writeln!(md, "# Scenario report: {}\n", s.name);
        if !s.description.is_empty() {
            let _ = writeln!(md, "{}\n", s.description);
        }
        let _ = writeln!(
            md,
            "**{}** — cluster `{}` ({} nodes), seed {}, {} of virtual time from {}, sampled every {}s.\n",
            if self.passed { "PASSED" } else { "FAILED" },
            s.cluster,
            s.initial_nodes,
            s.seed,
            format_offset((s.duration_seconds * 1000.0) as i64).trim_start_matches('+'),
            s.epoch,
            s.sample_interval_seconds
        );
        let sum = &self.summary;
        let _ = writeln!(md, "## Summary\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(
            md,
            "| expectations | {} passed, {} failed |",
            sum.expectations_passed, sum.expectations_failed
        );
        let _ = writeln!(md, "| action errors | {} |", sum.action_errors);
        let _ = writeln!(
            md,
            "| cluster Ready after | {} |",
            sum.cluster_ready_seconds
                .map_or("never".into(), |t| format!("{t}s"))
        );
        let _ = writeln!(md, "| pods scheduled | {} |", sum.pods_scheduled);
        let _ = writeln!(md, "| pods evicted | {} |", sum.evictions);
        let _ = writeln!(
            md,
            "| peak unscheduled pods | {} |",
            sum.peak_unscheduled_pods
        );
        let _ = writeln!(
            md,
            "| nodes at the end | {} ({} Ready) |",
            sum.final_nodes, sum.final_ready_nodes
        );
        let _ = writeln!(
            md,
            "| hourly cost | {:.4} at the start, {:.4} at the end |",
            sum.hourly_cost_start, sum.hourly_cost_end
        );
        let _ = writeln!(md, "| cost of the run | {:.4} |", sum.total_cost);
        let _ = writeln!(md, "| API writes | {} |\n", sum.api_writes);
        if !self.setup_errors.is_empty() {
            let _ = writeln!(md, "## Setup errors\n");
            for e in &self.setup_errors {
                let _ = writeln!(md, "- {e}");
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## Expectations\n");
        if self.expectations.is_empty() {
            let _ = writeln!(md, "None.\n");
        } else {
            let _ = writeln!(md, "| | expectation | type | measured |\n|---|---|---|---|");
            for e in &self.expectations {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    if e.passed { "✅" } else { "❌" },
                    e.name,
                    e.kind,
                    e.detail
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## Timeline\n");
        let _ = writeln!(
            md,
            "| at | action | target | nodes | evictions | rescheduled | recovery |\n|---|---|---|---|---|---|---|"
        );
        for a in &self.actions {
            let scheduled: usize = a.scheduled_by_zone.values().sum();
            let recovery = match &a.recovery {
                None => "—".to_string(),
                Some(r) => match (r.unhealthy_at, r.seconds_to_recover) {
                    (None, _) => "never unhealthy".into(),
                    (Some(_), Some(s)) => format_offset((s * 1000.0) as i64)
                        .trim_start_matches('+')
                        .to_string(),
                    (Some(_), None) => "not recovered".into(),
                },
            };
            let _ = writeln!(
                md,
                "| {} | {} ({}) | {} | {} | {} | {} | {} |",
                format_offset((a.at * 1000.0) as i64),
                a.name,
                a.action,
                a.target,
                a.nodes.len(),
                a.evictions,
                scheduled,
                recovery
            );
        }
        md.push('\n');
        for a in &self.actions {
            if a.notes.is_empty() && a.errors.is_empty() {
                continue;
            }
            let _ = writeln!(
                md,
                "### {} at {}\n",
                a.name,
                format_offset((a.at * 1000.0) as i64)
            );
            for n in a.notes.iter().take(50) {
                let _ = writeln!(md, "- {} {}", format_offset((n.t * 1000.0) as i64), n.text);
            }
            if a.notes.len() > 50 {
                let _ = writeln!(md, "- … {} more notes in report.json", a.notes.len() - 50);
            }
            for e in &a.errors {
                let _ = writeln!(md, "- **error:** {e}");
            }
            if !a.scheduled_by_zone.is_empty() {
                let zones: Vec<String> = a
                    .scheduled_by_zone
                    .iter()
                    .map(|(z, n)| format!("{z}: {n}"))
                    .collect();
                let _ = writeln!(
                    md,
                    "- pods scheduled until the next disruption, by zone: {}",
                    zones.join(", ")
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## Pending pods\n");
        if self.pending.is_empty() {
            let _ = writeln!(md, "No sample saw an unscheduled pod.\n");
        } else {
            let _ = writeln!(md, "Rows where the count or the reasons change.\n");
            let _ = writeln!(
                md,
                "| from | unscheduled | why (scheduler) |\n|---|---|---|"
            );
            let mut previous: Option<&PendingPoint> = None;
            let mut rows = 0;
            for p in &self.pending {
                if previous.is_some_and(|q| q.pods == p.pods && q.reasons == p.reasons) {
                    continue;
                }
                previous = Some(p);
                rows += 1;
                if rows > 100 {
                    let _ = writeln!(md, "| … | | more in report.json |");
                    break;
                }
                let why: Vec<String> = p
                    .reasons
                    .iter()
                    .take(3)
                    .map(|r| format!("{} × {}", r.pods, r.message.replace('|', "/")))
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    format_offset((p.t * 1000.0) as i64),
                    p.pods,
                    why.join("<br>")
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## Evictions\n");
        if self.evictions.total == 0 {
            let _ = writeln!(md, "None.\n");
        } else {
            let join = |m: &BTreeMap<String, usize>| {
                m.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(md, "{} pods evicted.\n", self.evictions.total);
            let _ = writeln!(md, "- by reason: {}", join(&self.evictions.by_reason));
            let _ = writeln!(md, "- by workload: {}", join(&self.evictions.by_workload));
            let _ = writeln!(md, "- by zone: {}\n", join(&self.evictions.by_zone));
        }
        let _ = writeln!(md, "## Capacity over time\n");
        let providers: Vec<String> = self
            .samples
            .iter()
            .flat_map(|s| s.providers.iter().map(|p| p.name.clone()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let _ = write!(
            md,
            "| at | nodes Ready/total | running | unscheduled | cost/h |"
        );
        for p in &providers {
            let _ = write!(md, " {p} CPU |");
        }
        let _ = write!(md, "\n|---|---|---|---|---|");
        for _ in &providers {
            md.push_str("---|");
        }
        md.push('\n');
        let stride = self.samples.len().div_ceil(60).max(1);
        for (i, sample) in self.samples.iter().enumerate() {
            if i % stride != 0 && i + 1 != self.samples.len() {
                continue;
            }
            let _ = write!(
                md,
                "| {} | {}/{} | {} | {} | {:.4} |",
                format_offset((sample.t * 1000.0) as i64),
                sample.ready_nodes,
                sample.nodes,
                sample.running_pods,
                sample.unscheduled_pods,
                sample.hourly_cost
            );
            for p in &providers {
                match sample.providers.iter().find(|c| &c.name == p) {
                    Some(c) => {
                        let _ = write!(
                            md,
                            " {:.0}% ({}/{} nodes) |",
                            c.cpu_utilization * 100.0,
                            c.ready_nodes,
                            c.nodes
                        );
                    }
                    None => md.push_str(" — |"),
                }
            }
            md.push('\n');
        }
        md.push('\n');
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        for (ms, text) in [
            (0, "+0s"),
            (1500, "+1.500s"),
            (65_000, "+1m5s"),
            (3_600_000, "+1h0m0s"),
            (3_723_004, "+1h2m3.004s"),
        ] {
            assert_eq!(format_offset(ms), text);
        }
    }

    #[test]
    fn rounding_has_no_negative_zero() {
        let empty: f64 = Vec::<f64>::new().iter().sum();
        assert_eq!(round(empty, 4).to_string(), "0");
        assert_eq!(round(0.123_456, 4), 0.1235);
    }
}
