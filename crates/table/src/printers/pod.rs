//! Pods and pod templates.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` `printPod`, `printPodTemplate`,
//! `hasPodReadyCondition`, `isPodInitializedConditionTrue`; `pkg/api/pod/util.go`
//! `IsRestartableInitContainer`; `pkg/api/v1/pod/util.go` `IsPodPhaseTerminal`;
//! `pkg/apis/core/v1/conversion.go` `Convert_v1_PodStatus_To_core_PodStatus` (pod IPs).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Ctx, s};
use crate::format::{age, container_cells, format_labels};
use crate::value::{
    at, bool_at, int_at, is_deleting, list_at, name, opt_bool, opt_str, str_at, string_map, time_at,
};

/// `node.NodeUnreachablePodReason` (`pkg/util/node/node.go`).
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";

/// `printPod`: Name, Ready, Status, Restarts, Age; wide: IP, Node, Nominated Node, Readiness Gates.
pub(crate) fn print_pod(pod: &Value, ctx: &Ctx) -> Vec<Value> {
    let spec_containers = list_at(pod, &["spec", "containers"]);
    let init_containers = list_at(pod, &["spec", "initContainers"]);
    let container_statuses = list_at(pod, &["status", "containerStatuses"]);
    let init_statuses = list_at(pod, &["status", "initContainerStatuses"]);

    let mut restarts: i64 = 0;
    let mut restartable_init_restarts: i64 = 0;
    let mut total_containers = spec_containers.len();
    let mut ready_containers: usize = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_init_restart: Option<Timestamp> = None;

    let phase = str_at(pod, &["status", "phase"]);
    let mut reason = phase.to_owned();
    if let Some(r) = opt_str(pod, &["status", "reason"]).filter(|r| !r.is_empty()) {
        reason = r.to_owned();
    }

    // A PodScheduled condition with reason SchedulingGated shows as `SchedulingGated`.
    for condition in list_at(pod, &["status", "conditions"]) {
        if str_at(condition, &["type"]) == "PodScheduled"
            && str_at(condition, &["reason"]) == "SchedulingGated"
        {
            reason = "SchedulingGated".to_owned();
        }
    }

    let is_restartable_init = |container_name: &str| {
        init_containers
            .iter()
            .rev() // a later duplicate name wins, as in the Go map built in order
            .find(|c| str_at(c, &["name"]) == container_name)
            .is_some_and(is_restartable_init_container)
    };
    total_containers += init_containers
        .iter()
        .filter(|c| is_restartable_init_container(c))
        .count();

    let mut initializing = false;
    for (i, container) in init_statuses.iter().enumerate() {
        let restart_count = int_at(container, &["restartCount"]);
        restarts += restart_count;
        let last_terminated = time_at(container, &["lastState", "terminated", "finishedAt"]);
        if has_terminated(container, "lastState") {
            later_of(&mut last_restart, last_terminated);
        }
        let restartable = is_restartable_init(str_at(container, &["name"]));
        if restartable {
            restartable_init_restarts += restart_count;
            if has_terminated(container, "lastState") {
                later_of(&mut last_restartable_init_restart, last_terminated);
            }
        }
        let terminated = at(container, &["state", "terminated"]);
        let waiting_reason = str_at(container, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|t| int_at(t, &["exitCode"]) == 0) {
            continue;
        } else if restartable && opt_bool(container, &["started"]) == Some(true) {
            if bool_at(container, &["ready"]) {
                ready_containers += 1;
            }
            continue;
        } else if let Some(terminated) = terminated {
            // Initialization failed.
            let terminated_reason = str_at(terminated, &["reason"]);
            reason = if terminated_reason.is_empty() {
                let signal = int_at(terminated, &["signal"]);
                if signal != 0 {
                    format!("Init:Signal:{signal}")
                } else {
                    format!("Init:ExitCode:{}", int_at(terminated, &["exitCode"]))
                }
            } else {
                format!("Init:{terminated_reason}")
            };
            initializing = true;
        } else if at(container, &["state", "waiting"]).is_some()
            && !waiting_reason.is_empty()
            && waiting_reason != "PodInitializing"
        {
            reason = format!("Init:{waiting_reason}");
            initializing = true;
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
            initializing = true;
        }
        break;
    }

    if !initializing || is_pod_initialized_condition_true(pod) {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for container in container_statuses.iter().rev() {
            restarts += int_at(container, &["restartCount"]);
            if has_terminated(container, "lastState") {
                later_of(
                    &mut last_restart,
                    time_at(container, &["lastState", "terminated", "finishedAt"]),
                );
            }
            let waiting_reason = str_at(container, &["state", "waiting", "reason"]);
            let terminated = at(container, &["state", "terminated"]);
            if at(container, &["state", "waiting"]).is_some() && !waiting_reason.is_empty() {
                reason = waiting_reason.to_owned();
            } else if let Some(terminated) = terminated {
                let terminated_reason = str_at(terminated, &["reason"]);
                reason = if !terminated_reason.is_empty() {
                    terminated_reason.to_owned()
                } else {
                    let signal = int_at(terminated, &["signal"]);
                    if signal != 0 {
                        format!("Signal:{signal}")
                    } else {
                        format!("ExitCode:{}", int_at(terminated, &["exitCode"]))
                    }
                };
            } else if bool_at(container, &["ready"])
                && at(container, &["state", "running"]).is_some()
            {
                has_running = true;
                ready_containers += 1;
            }
        }

        // Back to Running (or NotReady) while at least one container still runs.
        if reason == "Completed" && has_running {
            reason = if has_pod_ready_condition(pod) {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    if is_deleting(pod) && str_at(pod, &["status", "reason"]) == NODE_UNREACHABLE_POD_REASON {
        reason = "Unknown".to_owned();
    } else if is_deleting(pod) && !is_pod_phase_terminal(phase) {
        reason = "Terminating".to_owned();
    }

    let restarts_cell = match last_restart {
        Some(last) if restarts != 0 => format!("{restarts} ({} ago)", age(Some(last), ctx.now)),
        _ => restarts.to_string(),
    };

    let mut cells = vec![
        s(name(pod)),
        s(format!("{ready_containers}/{total_containers}")),
        s(reason),
        s(restarts_cell),
        s(age(
            time_at(pod, &["metadata", "creationTimestamp"]),
            ctx.now,
        )),
    ];
    if ctx.wide {
        let pod_ip = pod_ip(pod);
        let node_name = str_at(pod, &["spec", "nodeName"]);
        let nominated = str_at(pod, &["status", "nominatedNodeName"]);
        cells.push(s(none_if_empty(pod_ip)));
        cells.push(s(none_if_empty(node_name)));
        cells.push(s(none_if_empty(nominated)));
        cells.push(s(readiness_gates(pod)));
    }
    cells
}

/// The pod's first IP. v1 `podIP` is authoritative over `podIPs[0]` when both are set.
fn pod_ip(pod: &Value) -> &str {
    match opt_str(pod, &["status", "podIP"]).filter(|ip| !ip.is_empty()) {
        Some(ip) => ip,
        None => list_at(pod, &["status", "podIPs"])
            .first()
            .map_or("", |first| str_at(first, &["ip"])),
    }
}

/// `<none>` for an empty string.
fn none_if_empty(text: &str) -> &str {
    if text.is_empty() { "<none>" } else { text }
}

/// The `Readiness Gates` cell: `true/total` over `spec.readinessGates`, or `<none>`.
fn readiness_gates(pod: &Value) -> String {
    let gates = list_at(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let conditions = list_at(pod, &["status", "conditions"]);
    let true_conditions = gates
        .iter()
        .filter(|gate| {
            let wanted = str_at(gate, &["conditionType"]);
            conditions
                .iter()
                .find(|c| str_at(c, &["type"]) == wanted)
                .is_some_and(|c| str_at(c, &["status"]) == "True")
        })
        .count();
    format!("{true_conditions}/{}", gates.len())
}

/// Whether `state` (e.g. `lastState`) of a container status holds a `terminated` record.
fn has_terminated(container: &Value, state: &str) -> bool {
    at(container, &[state, "terminated"]).is_some()
}

/// `if latest.Before(&candidate) { latest = candidate }`, where an unset time is Go's zero time.
fn later_of(latest: &mut Option<Timestamp>, candidate: Option<Timestamp>) {
    if let Some(candidate) = candidate
        && latest.is_none_or(|current| current < candidate)
    {
        *latest = Some(candidate);
    }
}

/// `podutil.IsRestartableInitContainer`: `restartPolicy: Always` on an init container.
fn is_restartable_init_container(container: &Value) -> bool {
    str_at(container, &["restartPolicy"]) == "Always"
}

/// `podutilv1.IsPodPhaseTerminal`.
fn is_pod_phase_terminal(phase: &str) -> bool {
    phase == "Failed" || phase == "Succeeded"
}

/// `hasPodReadyCondition`: a `Ready` condition with status `True`.
fn has_pod_ready_condition(pod: &Value) -> bool {
    list_at(pod, &["status", "conditions"])
        .iter()
        .any(|c| str_at(c, &["type"]) == "Ready" && str_at(c, &["status"]) == "True")
}

/// `isPodInitializedConditionTrue`: the first `Initialized` condition decides.
fn is_pod_initialized_condition_true(pod: &Value) -> bool {
    list_at(pod, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Initialized")
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// `podSuccessConditions` / `podFailedConditions`: the row condition of a finished pod.
pub(crate) fn row_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match str_at(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{
        "type": "Completed",
        "status": "True",
        "reason": reason,
        "message": message,
    }]))
}

/// `printPodTemplate`: Name, Containers, Images, Pod Labels.
pub(crate) fn print_pod_template(template: &Value) -> Vec<Value> {
    let (names, images) = container_cells(list_at(template, &["template", "spec", "containers"]));
    vec![
        s(name(template)),
        s(names),
        s(images),
        s(format_labels(&string_map(
            template,
            &["template", "metadata", "labels"],
        ))),
    ]
}
