//! Workload controllers and their helpers: ReplicationController, ReplicaSet, DaemonSet,
//! StatefulSet, Deployment, Job, CronJob, ControllerRevision, PodDisruptionBudget,
//! HorizontalPodAutoscaler.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`printReplicationController`,
//! `printReplicaSet`, `printDaemonSet`, `printStatefulSet`, `printDeployment`, `printJob`,
//! `printCronJob`, `printControllerRevision`, `formatResourceName`, `printPodDisruptionBudget`,
//! `printHorizontalPodAutoscaler`, `formatHPAMetrics`, `printBoolPtr`, `hasJobCondition`).

use serde_json::Value;

use super::{Ctx, n, s};
use crate::TableError;
use crate::duration::human_duration;
use crate::format::{
    age, container_cells, format_label_selector, format_labels, label_selector_string,
    nanos_between, template_containers,
};
use crate::value::{
    at, int_at, int_or_string, is_deleting, list_at, name, opt_bool, opt_int, opt_str,
    quantity_ptr_at, str_at, string_map, time_at,
};

/// `spec.replicas`, defaulted to 1 as v1 defaulting does for workload controllers.
fn desired_replicas(obj: &Value) -> i64 {
    opt_int(obj, &["spec", "replicas"]).unwrap_or(1)
}

/// The object's creation age.
fn creation_age(obj: &Value, ctx: &Ctx) -> Value {
    s(age(
        time_at(obj, &["metadata", "creationTimestamp"]),
        ctx.now,
    ))
}

/// The wide Containers and Images cells of the pod template at `template_path`.
fn push_containers(cells: &mut Vec<Value>, obj: &Value, template_path: &[&str]) {
    let (names, images) = container_cells(template_containers(obj, template_path));
    cells.push(s(names));
    cells.push(s(images));
}

/// `printReplicationController`: Name, Desired, Current, Ready, Age; wide: Containers, Images,
/// Selector (a plain label map).
pub(crate) fn print_replication_controller(rc: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut cells = vec![
        s(name(rc)),
        n(desired_replicas(rc)),
        n(int_at(rc, &["status", "replicas"])),
        n(int_at(rc, &["status", "readyReplicas"])),
        creation_age(rc, ctx),
    ];
    if ctx.wide {
        push_containers(&mut cells, rc, &["spec", "template"]);
        cells.push(s(format_labels(&string_map(rc, &["spec", "selector"]))));
    }
    cells
}

/// `printReplicaSet`: Name, Desired, Current, Ready, Age; wide: Containers, Images, Selector.
pub(crate) fn print_replica_set(rs: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut cells = vec![
        s(name(rs)),
        n(desired_replicas(rs)),
        n(int_at(rs, &["status", "replicas"])),
        n(int_at(rs, &["status", "readyReplicas"])),
        creation_age(rs, ctx),
    ];
    if ctx.wide {
        push_containers(&mut cells, rs, &["spec", "template"]);
        cells.push(s(format_label_selector(at(rs, &["spec", "selector"]))));
    }
    cells
}

/// `printDaemonSet`: Name, Desired, Current, Ready, Up-to-date, Available, Node Selector, Age;
/// wide: Containers, Images, Selector.
pub(crate) fn print_daemon_set(ds: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut cells = vec![
        s(name(ds)),
        n(int_at(ds, &["status", "desiredNumberScheduled"])),
        n(int_at(ds, &["status", "currentNumberScheduled"])),
        n(int_at(ds, &["status", "numberReady"])),
        n(int_at(ds, &["status", "updatedNumberScheduled"])),
        n(int_at(ds, &["status", "numberAvailable"])),
        s(format_labels(&string_map(
            ds,
            &["spec", "template", "spec", "nodeSelector"],
        ))),
        creation_age(ds, ctx),
    ];
    if ctx.wide {
        push_containers(&mut cells, ds, &["spec", "template"]);
        cells.push(s(format_label_selector(at(ds, &["spec", "selector"]))));
    }
    cells
}

/// `printStatefulSet`: Name, Ready (`ready/desired`), Age; wide: Containers, Images.
pub(crate) fn print_stateful_set(sts: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut cells = vec![
        s(name(sts)),
        s(format!(
            "{}/{}",
            int_at(sts, &["status", "readyReplicas"]),
            desired_replicas(sts)
        )),
        creation_age(sts, ctx),
    ];
    if ctx.wide {
        push_containers(&mut cells, sts, &["spec", "template"]);
    }
    cells
}

/// `printDeployment`: Name, Ready (`ready/desired`), Up-to-date, Available, Age; wide:
/// Containers, Images, Selector (`<invalid>` for an unconvertible selector, `""` when empty).
pub(crate) fn print_deployment(deploy: &Value, ctx: &Ctx) -> Vec<Value> {
    let mut cells = vec![
        s(name(deploy)),
        s(format!(
            "{}/{}",
            int_at(deploy, &["status", "readyReplicas"]),
            desired_replicas(deploy)
        )),
        n(int_at(deploy, &["status", "updatedReplicas"])),
        n(int_at(deploy, &["status", "availableReplicas"])),
        creation_age(deploy, ctx),
    ];
    if ctx.wide {
        push_containers(&mut cells, deploy, &["spec", "template"]);
        let selector = label_selector_string(at(deploy, &["spec", "selector"]))
            .unwrap_or_else(|_| "<invalid>".to_owned());
        cells.push(s(selector));
    }
    cells
}

/// `hasJobCondition`: the first condition of `condition_type` decides.
fn has_job_condition(job: &Value, condition_type: &str) -> bool {
    list_at(job, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == condition_type)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// `printJob`: Name, Status, Completions, Duration, Age; wide: Containers, Images, Selector.
pub(crate) fn print_job(job: &Value, ctx: &Ctx) -> Vec<Value> {
    let succeeded = int_at(job, &["status", "succeeded"]);
    let completions = match opt_int(job, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => {
            let parallelism = opt_int(job, &["spec", "parallelism"]).unwrap_or(0);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let duration = match (
        time_at(job, &["status", "startTime"]),
        time_at(job, &["status", "completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(nanos_between(start, ctx.now)),
        (Some(start), Some(end)) => human_duration(nanos_between(start, end)),
    };
    let status = if has_job_condition(job, "Complete") {
        "Complete"
    } else if has_job_condition(job, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_job_condition(job, "Suspended") {
        "Suspended"
    } else if has_job_condition(job, "FailureTarget") {
        "FailureTarget"
    } else if has_job_condition(job, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let mut cells = vec![
        s(name(job)),
        s(status),
        s(completions),
        s(duration),
        creation_age(job, ctx),
    ];
    if ctx.wide {
        push_containers(&mut cells, job, &["spec", "template"]);
        cells.push(s(format_label_selector(at(job, &["spec", "selector"]))));
    }
    cells
}

/// `printBoolPtr`: `True`, `False` or `<unset>`.
fn bool_ptr(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

/// `printCronJob`: Name, Schedule, Timezone, Suspend, Active, Last Schedule, Age; wide:
/// Containers, Images, Selector. `spec.suspend` defaults to false as in batch/v1.
pub(crate) fn print_cron_job(cron: &Value, ctx: &Ctx) -> Vec<Value> {
    let last_schedule = match at(cron, &["status", "lastScheduleTime"]) {
        Some(_) => age(time_at(cron, &["status", "lastScheduleTime"]), ctx.now),
        None => "<none>".to_owned(),
    };
    let time_zone = opt_str(cron, &["spec", "timeZone"]).unwrap_or("<none>");
    let suspend = opt_bool(cron, &["spec", "suspend"]).or(Some(false));
    let mut cells = vec![
        s(name(cron)),
        s(str_at(cron, &["spec", "schedule"])),
        s(time_zone),
        s(bool_ptr(suspend)),
        n(crate::format::count(
            list_at(cron, &["status", "active"]).len(),
        )),
        s(last_schedule),
        creation_age(cron, ctx),
    ];
    if ctx.wide {
        push_containers(
            &mut cells,
            cron,
            &["spec", "jobTemplate", "spec", "template"],
        );
        cells.push(s(format_label_selector(at(
            cron,
            &["spec", "jobTemplate", "spec", "selector"],
        ))));
    }
    cells
}

/// `printControllerRevision`: Name, Controller (`kind.group/name` of the controller owner, or
/// `<none>`), Revision (an integer), Age.
pub(crate) fn print_controller_revision(
    revision: &Value,
    ctx: &Ctx,
) -> Result<Vec<Value>, TableError> {
    // metav1.GetControllerOf: the first owner reference marked as controller.
    let controller = list_at(revision, &["metadata", "ownerReferences"])
        .iter()
        .find(|owner| opt_bool(owner, &["controller"]) == Some(true));
    let controller_name = match controller {
        None => "<none>".to_owned(),
        Some(owner) => {
            let group = parse_group(str_at(owner, &["apiVersion"]))?;
            format_resource_name(group, str_at(owner, &["kind"]), str_at(owner, &["name"]))
        }
    };
    Ok(vec![
        s(name(revision)),
        s(controller_name),
        n(int_at(revision, &["revision"])),
        creation_age(revision, ctx),
    ])
}

/// The group of `schema.ParseGroupVersion(api_version)`.
fn parse_group(api_version: &str) -> Result<&str, TableError> {
    if api_version.is_empty() || api_version == "/" {
        return Ok("");
    }
    match api_version.matches('/').count() {
        0 => Ok(""),
        1 => Ok(api_version.split('/').next().unwrap_or("")),
        _ => Err(TableError::GroupVersion(api_version.to_owned())),
    }
}

/// `formatResourceName` with `withKind`: `kind.group/name` lower-cased, or just the name when the
/// group kind is empty.
pub(crate) fn format_resource_name(group: &str, kind: &str, name: &str) -> String {
    if group.is_empty() && kind.is_empty() {
        return name.to_owned();
    }
    let group_kind = if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

/// `printPodDisruptionBudget`: Name, Min Available, Max Unavailable (`N/A` when unset), Allowed
/// Disruptions, Age.
pub(crate) fn print_pod_disruption_budget(pdb: &Value, ctx: &Ctx) -> Vec<Value> {
    let int_or_na =
        |field: &str| at(pdb, &["spec", field]).map_or_else(|| "N/A".to_owned(), int_or_string);
    vec![
        s(name(pdb)),
        s(int_or_na("minAvailable")),
        s(int_or_na("maxUnavailable")),
        n(int_at(pdb, &["status", "disruptionsAllowed"])),
        creation_age(pdb, ctx),
    ]
}

/// `autoscaling.DefaultCPUUtilization` (`pkg/apis/autoscaling/types.go`).
const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// One metric spec and the matching status, as the internal HPA holds them.
struct Metric {
    spec: Value,
    status: Option<Value>,
}

/// The HPA's metrics in internal form. autoscaling/v1 objects carry only a CPU target, which
/// `pkg/apis/autoscaling/v1/conversion.go` turns into one Resource metric (80% when unset);
/// autoscaling/v2 objects are used as they are.
fn hpa_metrics(hpa: &Value) -> (Vec<Value>, Vec<Value>) {
    if str_at(hpa, &["apiVersion"]) == "autoscaling/v1" {
        let target = opt_int(hpa, &["spec", "targetCPUUtilizationPercentage"])
            .unwrap_or(DEFAULT_CPU_UTILIZATION);
        let spec = serde_json::json!({
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}},
        });
        let statuses = opt_int(hpa, &["status", "currentCPUUtilizationPercentage"])
            .map(|current| {
                vec![serde_json::json!({
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": current}},
                })]
            })
            .unwrap_or_default();
        return (vec![spec], statuses);
    }
    (
        list_at(hpa, &["spec", "metrics"]).to_vec(),
        list_at(hpa, &["status", "currentMetrics"]).to_vec(),
    )
}

/// `formatHPAMetrics`: up to two `current/target` pairs, then ` + N more...`; `<none>` without
/// metrics.
fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    const MAX: usize = 2;
    let metrics: Vec<Metric> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| Metric {
            spec: spec.clone(),
            status: statuses.get(i).cloned(),
        })
        .collect();
    let mut list: Vec<String> = metrics.iter().map(format_hpa_metric).collect();
    let count = list.len();
    let more = count > MAX;
    list.truncate(MAX);
    let joined = list.join(", ");
    if more {
        return format!("{joined} + {} more...", count - MAX);
    }
    joined
}

/// One entry of `formatHPAMetrics`.
fn format_hpa_metric(metric: &Metric) -> String {
    let spec = &metric.spec;
    let status = metric.status.as_ref();
    // The status of the same source, when the status list has an entry at this index.
    let current = |source: &str| status.and_then(|st| at(st, &[source]));
    match str_at(spec, &["type"]) {
        "External" => value_or_average(spec, "external", current("external")),
        "Pods" => {
            let current = current("pods").map_or_else(
                || "<unknown>".to_owned(),
                |c| quantity_ptr_at(c, &["current", "averageValue"]),
            );
            format!(
                "{current}/{}",
                quantity_ptr_at(spec, &["pods", "target", "averageValue"])
            )
        }
        "Object" => value_or_average(spec, "object", current("object")),
        "Resource" => resource_metric(spec, "resource", current("resource")),
        "ContainerResource" => {
            resource_metric(spec, "containerResource", current("containerResource"))
        }
        _ => "<unknown type>".to_owned(),
    }
}

/// External and Object metrics: `current/target (avg)` for an average-value target, else
/// `current/target` on the plain value.
fn value_or_average(spec: &Value, source: &str, current: Option<&Value>) -> String {
    if at(spec, &[source, "target", "averageValue"]).is_some() {
        let current = current
            .filter(|c| at(c, &["current", "averageValue"]).is_some())
            .map_or_else(
                || "<unknown>".to_owned(),
                |c| quantity_ptr_at(c, &["current", "averageValue"]),
            );
        format!(
            "{current}/{} (avg)",
            quantity_ptr_at(spec, &[source, "target", "averageValue"])
        )
    } else {
        let current = current.map_or_else(
            || "<unknown>".to_owned(),
            |c| quantity_ptr_at(c, &["current", "value"]),
        );
        format!(
            "{current}/{}",
            quantity_ptr_at(spec, &[source, "target", "value"])
        )
    }
}

/// Resource and ContainerResource metrics: `name: current/target` as values or percentages.
fn resource_metric(spec: &Value, source: &str, current: Option<&Value>) -> String {
    let resource_name = str_at(spec, &[source, "name"]);
    if at(spec, &[source, "target", "averageValue"]).is_some() {
        let current = current.map_or_else(
            || "<unknown>".to_owned(),
            |c| quantity_ptr_at(c, &["current", "averageValue"]),
        );
        format!(
            "{resource_name}: {current}/{}",
            quantity_ptr_at(spec, &[source, "target", "averageValue"])
        )
    } else {
        let current = current
            .and_then(|c| opt_int(c, &["current", "averageUtilization"]))
            .map_or_else(|| "<unknown>".to_owned(), |u| format!("{u}%"));
        let target = opt_int(spec, &[source, "target", "averageUtilization"])
            .map_or_else(|| "<auto>".to_owned(), |u| format!("{u}%"));
        format!("{resource_name}: {current}/{target}")
    }
}

/// `printHorizontalPodAutoscaler`: Name, Reference (`Kind/name`), Targets, MinPods (a string,
/// `<unset>`), MaxPods, Replicas, Age.
pub(crate) fn print_horizontal_pod_autoscaler(hpa: &Value, ctx: &Ctx) -> Vec<Value> {
    let reference = format!(
        "{}/{}",
        str_at(hpa, &["spec", "scaleTargetRef", "kind"]),
        str_at(hpa, &["spec", "scaleTargetRef", "name"])
    );
    let (specs, statuses) = hpa_metrics(hpa);
    let min_pods = opt_int(hpa, &["spec", "minReplicas"])
        .map_or_else(|| "<unset>".to_owned(), |m| m.to_string());
    vec![
        s(name(hpa)),
        s(reference),
        s(format_hpa_metrics(&specs, &statuses)),
        s(min_pods),
        n(int_at(hpa, &["spec", "maxReplicas"])),
        n(int_at(hpa, &["status", "currentReplicas"])),
        creation_age(hpa, ctx),
    ]
}
