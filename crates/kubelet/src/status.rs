//! Pure pod status computations: the pod phase from container statuses and the kubelet-owned
//! pod conditions (`PodReadyToStartContainers`, `Initialized`, `Ready`, `ContainersReady`).
//!
//! Upstream: `pkg/kubelet/kubelet_pods.go` (`getPhase`, `generateAPIPodStatus`),
//! `pkg/kubelet/status/generate.go` (condition generation),
//! `pkg/kubelet/container/helpers.go` (`HasAnyRegularContainerStarted`),
//! `pkg/api/v1/pod/util.go` (`IsRestartableInitContainer`).

use k8s_openapi::api::core::v1::{Container, ContainerStatus, PodCondition, PodSpec};

/// `UnknownContainerStatuses`: all container statuses are unknown.
pub const UNKNOWN_CONTAINER_STATUSES: &str = "UnknownContainerStatuses";
/// `PodCompleted`: all containers succeeded.
pub const POD_COMPLETED: &str = "PodCompleted";
/// `PodFailed`: the pod failed.
pub const POD_FAILED: &str = "PodFailed";
/// `ContainersNotReady`: some container is not ready.
pub const CONTAINERS_NOT_READY: &str = "ContainersNotReady";
/// `ContainersNotInitialized`: some init container has not succeeded.
pub const CONTAINERS_NOT_INITIALIZED: &str = "ContainersNotInitialized";
/// `ReadinessGatesNotReady`: some readiness gate is not True.
pub const READINESS_GATES_NOT_READY: &str = "ReadinessGatesNotReady";

/// A pod condition as the kubelet generates it (times are added when it is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCondition {
    /// `type`.
    pub type_: &'static str,
    /// `status`: True, False or Unknown.
    pub status: &'static str,
    /// `reason` (empty: none).
    pub reason: String,
    /// `message` (empty: none).
    pub message: String,
}

impl GeneratedCondition {
    fn new(type_: &'static str, status: &'static str, reason: &str, message: String) -> Self {
        Self {
            type_,
            status,
            reason: reason.to_string(),
            message,
        }
    }
}

/// Whether an init container is a sidecar (`restartPolicy: Always`).
pub fn is_restartable_init_container(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

fn find<'a>(statuses: &'a [ContainerStatus], name: &str) -> Option<&'a ContainerStatus> {
    statuses.iter().find(|s| s.name == name)
}

fn is_running(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.running.is_some())
}

fn terminated_exit(s: &ContainerStatus) -> Option<i32> {
    s.state
        .as_ref()
        .and_then(|st| st.terminated.as_ref())
        .map(|t| t.exit_code)
}

fn is_waiting(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.waiting.is_some())
}

fn last_terminated_exit(s: &ContainerStatus) -> Option<i32> {
    s.last_state
        .as_ref()
        .and_then(|st| st.terminated.as_ref())
        .map(|t| t.exit_code)
}

/// Go's `%s` of a string slice: `[a b]`.
fn go_list(names: &[String]) -> String {
    format!("[{}]", names.join(" "))
}

/// Whether a regular container is running or has terminated (`HasAnyRegularContainerStarted`).
pub fn has_any_regular_container_started(spec: &PodSpec, statuses: &[ContainerStatus]) -> bool {
    statuses.iter().any(|s| {
        spec.containers.iter().any(|c| c.name == s.name)
            && s.state
                .as_ref()
                .is_some_and(|st| st.running.is_some() || st.terminated.is_some())
    })
}

/// The pod phase (`getPhase`). `statuses` holds init and regular container statuses;
/// `pod_is_terminal` says the pod will not restart any container (it is being deleted or has
/// finished).
pub fn get_phase(
    spec: &PodSpec,
    statuses: &[ContainerStatus],
    pod_is_terminal: bool,
) -> &'static str {
    let init = spec.init_containers.as_deref().unwrap_or_default();
    // Upstream passes `HasAnyActiveRegularContainerStarted` over the runtime's latest
    // container of each name, running or exited: here, any regular status running or
    // terminated.
    let pod_has_initialized = has_any_regular_container_started(spec, statuses);
    let restart_policy = spec.restart_policy.as_deref().unwrap_or("Always");
    let mut pending_regular_init = 0;
    let mut pending_restartable_init = 0;
    let mut failed_initialization = 0;
    for c in init.iter().filter(|c| !is_restartable_init_container(c)) {
        let Some(s) = find(statuses, &c.name) else {
            pending_regular_init += 1;
            continue;
        };
        if is_running(s) {
            pending_regular_init += 1;
        } else if let Some(code) = terminated_exit(s) {
            if code != 0 {
                failed_initialization += 1;
            }
        } else if is_waiting(s) {
            match last_terminated_exit(s) {
                Some(code) if code != 0 => failed_initialization += 1,
                Some(_) => {}
                None => pending_regular_init += 1,
            }
        } else {
            pending_regular_init += 1;
        }
    }
    let (mut unknown, mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0, 0);
    for c in init.iter().filter(|c| is_restartable_init_container(c)) {
        let Some(s) = find(statuses, &c.name) else {
            unknown += 1;
            continue;
        };
        if is_running(s) {
            if s.started != Some(true) {
                pending_restartable_init += 1;
            }
            running += 1;
        } else if terminated_exit(s).is_some() {
            // Terminated sidecars do not count.
        } else if is_waiting(s) {
            if last_terminated_exit(s).is_none() {
                pending_restartable_init += 1;
            }
        } else {
            pending_restartable_init += 1;
            unknown += 1;
        }
    }
    for c in &spec.containers {
        let Some(s) = find(statuses, &c.name) else {
            unknown += 1;
            continue;
        };
        if is_running(s) {
            running += 1;
        } else if let Some(code) = terminated_exit(s) {
            stopped += 1;
            if code == 0 {
                succeeded += 1;
            }
        } else if is_waiting(s) {
            if last_terminated_exit(s).is_some() {
                stopped += 1;
            } else {
                waiting += 1;
            }
        } else {
            unknown += 1;
        }
    }
    if failed_initialization > 0 && restart_policy == "Never" {
        return "Failed";
    }
    if pending_regular_init > 0 || (pending_restartable_init > 0 && !pod_has_initialized) {
        return "Pending";
    }
    if waiting > 0 {
        return "Pending";
    }
    if running > 0 && unknown == 0 {
        return "Running";
    }
    if running == 0 && stopped > 0 && unknown == 0 {
        if pod_is_terminal {
            return if stopped == succeeded {
                "Succeeded"
            } else {
                "Failed"
            };
        }
        if restart_policy == "Always" {
            return "Running";
        }
        if stopped == succeeded {
            return "Succeeded";
        }
        if restart_policy == "Never" {
            return "Failed";
        }
        return "Running";
    }
    "Pending"
}

fn terminal_condition(type_: &'static str, phase: &str) -> GeneratedCondition {
    let reason = match phase {
        "Failed" => POD_FAILED,
        "Succeeded" => POD_COMPLETED,
        _ => "",
    };
    GeneratedCondition::new(type_, "False", reason, String::new())
}

/// The `ContainersReady` condition (`GenerateContainersReadyCondition`). `statuses` is `None`
/// when the kubelet knows no container status yet.
pub fn containers_ready_condition(
    spec: &PodSpec,
    statuses: Option<&[ContainerStatus]>,
    phase: &str,
) -> GeneratedCondition {
    let Some(statuses) = statuses else {
        return GeneratedCondition::new(
            "ContainersReady",
            "False",
            UNKNOWN_CONTAINER_STATUSES,
            String::new(),
        );
    };
    let mut unknown = Vec::new();
    let mut unready = Vec::new();
    let init = spec.init_containers.as_deref().unwrap_or_default();
    let relevant = init
        .iter()
        .filter(|c| is_restartable_init_container(c))
        .chain(spec.containers.iter());
    for c in relevant {
        match find(statuses, &c.name) {
            Some(s) if !s.ready => unready.push(c.name.clone()),
            Some(_) => {}
            None => unknown.push(c.name.clone()),
        }
    }
    if (phase == "Succeeded" && unknown.is_empty()) || phase == "Failed" {
        return terminal_condition("ContainersReady", phase);
    }
    let mut messages = Vec::new();
    if !unknown.is_empty() {
        messages.push(format!(
            "containers with unknown status: {}",
            go_list(&unknown)
        ));
    }
    if !unready.is_empty() {
        messages.push(format!(
            "containers with unready status: {}",
            go_list(&unready)
        ));
    }
    if messages.is_empty() {
        GeneratedCondition::new("ContainersReady", "True", "", String::new())
    } else {
        GeneratedCondition::new(
            "ContainersReady",
            "False",
            CONTAINERS_NOT_READY,
            messages.join(", "),
        )
    }
}

/// The `Ready` condition (`GeneratePodReadyCondition`): ContainersReady plus readiness gates,
/// read from the pod's current `conditions`.
pub fn pod_ready_condition(
    spec: &PodSpec,
    conditions: &[PodCondition],
    statuses: Option<&[ContainerStatus]>,
    phase: &str,
) -> GeneratedCondition {
    let containers_ready = containers_ready_condition(spec, statuses, phase);
    if containers_ready.status != "True" {
        return GeneratedCondition {
            type_: "Ready",
            ..containers_ready
        };
    }
    let mut messages = Vec::new();
    for gate in spec.readiness_gates.as_deref().unwrap_or_default() {
        match conditions.iter().find(|c| c.type_ == gate.condition_type) {
            None => messages.push(format!(
                "corresponding condition of pod readiness gate {:?} does not exist.",
                gate.condition_type
            )),
            Some(c) if c.status != "True" => messages.push(format!(
                "the status of pod readiness gate {:?} is not \"True\", but {}",
                gate.condition_type, c.status
            )),
            Some(_) => {}
        }
    }
    if messages.is_empty() {
        GeneratedCondition::new("Ready", "True", "", String::new())
    } else {
        GeneratedCondition::new(
            "Ready",
            "False",
            READINESS_GATES_NOT_READY,
            messages.join(", "),
        )
    }
}

/// The `Initialized` condition (`GeneratePodInitializedCondition`).
pub fn initialized_condition(
    spec: &PodSpec,
    statuses: Option<&[ContainerStatus]>,
    phase: &str,
) -> GeneratedCondition {
    let init = spec.init_containers.as_deref().unwrap_or_default();
    let statuses = match statuses {
        Some(s) => s,
        None if !init.is_empty() => {
            return GeneratedCondition::new(
                "Initialized",
                "False",
                UNKNOWN_CONTAINER_STATUSES,
                String::new(),
            );
        }
        None => &[],
    };
    let mut unknown = Vec::new();
    let mut incomplete = Vec::new();
    for c in init {
        let Some(s) = find(statuses, &c.name) else {
            unknown.push(c.name.clone());
            continue;
        };
        let initialized = if is_restartable_init_container(c) {
            s.started == Some(true)
        } else {
            s.ready
        };
        if !initialized {
            incomplete.push(c.name.clone());
        }
    }
    if phase == "Succeeded" && unknown.is_empty() {
        return GeneratedCondition::new("Initialized", "True", POD_COMPLETED, String::new());
    }
    if has_any_regular_container_started(spec, statuses) {
        return GeneratedCondition::new("Initialized", "True", "", String::new());
    }
    let mut messages = Vec::new();
    if !unknown.is_empty() {
        messages.push(format!(
            "containers with unknown status: {}",
            go_list(&unknown)
        ));
    }
    if !incomplete.is_empty() {
        messages.push(format!(
            "containers with incomplete status: {}",
            go_list(&incomplete)
        ));
    }
    if messages.is_empty() {
        GeneratedCondition::new("Initialized", "True", "", String::new())
    } else {
        GeneratedCondition::new(
            "Initialized",
            "False",
            CONTAINERS_NOT_INITIALIZED,
            messages.join(", "),
        )
    }
}

/// The `PodReadyToStartContainers` condition: True once the sandbox and its network exist
/// (`GeneratePodReadyToStartContainersCondition`).
pub fn ready_to_start_containers_condition(sandbox_ready: bool) -> GeneratedCondition {
    let status = if sandbox_ready { "True" } else { "False" };
    GeneratedCondition::new("PodReadyToStartContainers", status, "", String::new())
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // Case tables are tuples.
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
        PodReadinessGate,
    };

    fn container(name: &str) -> Container {
        Container {
            name: name.into(),
            ..Default::default()
        }
    }

    fn sidecar(name: &str) -> Container {
        Container {
            name: name.into(),
            restart_policy: Some("Always".into()),
            ..Default::default()
        }
    }

    fn spec(init: Vec<Container>, containers: Vec<Container>, restart: &str) -> PodSpec {
        PodSpec {
            init_containers: (!init.is_empty()).then_some(init),
            containers,
            restart_policy: Some(restart.into()),
            ..Default::default()
        }
    }

    fn named(name: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            ..Default::default()
        }
    }
    fn ready(name: &str) -> ContainerStatus {
        ContainerStatus {
            ready: true,
            ..named(name)
        }
    }
    fn not_ready(name: &str) -> ContainerStatus {
        named(name)
    }
    fn started(name: &str, yes: bool) -> ContainerStatus {
        ContainerStatus {
            started: Some(yes),
            ..named(name)
        }
    }
    fn with_state(name: &str, state: ContainerState) -> ContainerStatus {
        ContainerStatus {
            state: Some(state),
            ..named(name)
        }
    }
    fn running(name: &str) -> ContainerStatus {
        with_state(
            name,
            ContainerState {
                running: Some(ContainerStateRunning::default()),
                ..Default::default()
            },
        )
    }
    fn started_running(name: &str) -> ContainerStatus {
        ContainerStatus {
            started: Some(true),
            ..running(name)
        }
    }
    fn terminated(name: &str, code: i32) -> ContainerStatus {
        with_state(
            name,
            ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: code,
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
    }
    fn waiting(name: &str) -> ContainerStatus {
        with_state(
            name,
            ContainerState {
                waiting: Some(ContainerStateWaiting::default()),
                ..Default::default()
            },
        )
    }
    fn waiting_after(name: &str, code: i32) -> ContainerStatus {
        ContainerStatus {
            last_state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: code,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..waiting(name)
        }
    }

    fn cond(
        type_: &'static str,
        status: &'static str,
        reason: &str,
        msg: &str,
    ) -> GeneratedCondition {
        GeneratedCondition::new(type_, status, reason, msg.to_string())
    }

    /// Upstream: pkg/kubelet/status/generate_test.go `TestGenerateContainersReadyCondition`.
    #[test]
    fn containers_ready_condition_cases() {
        let two = || vec![container("1234"), container("5678")];
        let sidecars = || vec![sidecar("restartable-init-1"), sidecar("restartable-init-2")];
        let cases: Vec<(
            PodSpec,
            Option<Vec<ContainerStatus>>,
            &str,
            GeneratedCondition,
        )> = vec![
            (
                PodSpec::default(),
                None,
                "Running",
                cond("ContainersReady", "False", UNKNOWN_CONTAINER_STATUSES, ""),
            ),
            (
                PodSpec::default(),
                Some(vec![]),
                "Running",
                cond("ContainersReady", "True", "", ""),
            ),
            (
                spec(vec![], vec![container("1234")], "Always"),
                Some(vec![]),
                "Running",
                cond(
                    "ContainersReady",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unknown status: [1234]",
                ),
            ),
            (
                spec(vec![], two(), "Always"),
                Some(vec![ready("1234"), ready("5678")]),
                "Running",
                cond("ContainersReady", "True", "", ""),
            ),
            (
                spec(vec![], two(), "Always"),
                Some(vec![ready("1234")]),
                "Running",
                cond(
                    "ContainersReady",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unknown status: [5678]",
                ),
            ),
            (
                spec(vec![], two(), "Always"),
                Some(vec![ready("1234"), not_ready("5678")]),
                "Running",
                cond(
                    "ContainersReady",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unready status: [5678]",
                ),
            ),
            (
                spec(vec![], vec![container("1234")], "Always"),
                Some(vec![not_ready("1234")]),
                "Succeeded",
                cond("ContainersReady", "False", POD_COMPLETED, ""),
            ),
            (
                spec(
                    vec![sidecar("restartable-init-1")],
                    vec![container("regular-1")],
                    "Always",
                ),
                Some(vec![ready("regular-1")]),
                "Running",
                cond(
                    "ContainersReady",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unknown status: [restartable-init-1]",
                ),
            ),
            (
                spec(sidecars(), vec![container("regular-1")], "Always"),
                Some(vec![
                    ready("restartable-init-1"),
                    ready("restartable-init-2"),
                    ready("regular-1"),
                ]),
                "Running",
                cond("ContainersReady", "True", "", ""),
            ),
            (
                spec(sidecars(), vec![container("regular-1")], "Always"),
                Some(vec![ready("restartable-init-1"), ready("regular-1")]),
                "Running",
                cond(
                    "ContainersReady",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unknown status: [restartable-init-2]",
                ),
            ),
            (
                spec(sidecars(), vec![container("regular-1")], "Always"),
                Some(vec![
                    ready("restartable-init-1"),
                    not_ready("restartable-init-2"),
                    ready("regular-1"),
                ]),
                "Running",
                cond(
                    "ContainersReady",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unready status: [restartable-init-2]",
                ),
            ),
        ];
        for (i, (spec, statuses, phase, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                containers_ready_condition(&spec, statuses.as_deref(), phase),
                want,
                "case {i}"
            );
        }
    }

    /// Upstream: pkg/kubelet/status/generate_test.go `TestGeneratePodReadyCondition`.
    #[test]
    fn pod_ready_condition_cases() {
        let gates = |names: &[&str]| PodSpec {
            readiness_gates: Some(
                names
                    .iter()
                    .map(|n| PodReadinessGate {
                        condition_type: n.to_string(),
                    })
                    .collect(),
            ),
            ..Default::default()
        };
        let gate_cond = |t: &str, s: &str| PodCondition {
            type_: t.into(),
            status: s.into(),
            ..Default::default()
        };
        let two = || vec![container("1234"), container("5678")];
        let mut one_with_gate = gates(&["gate1"]);
        one_with_gate.containers = vec![container("1234")];
        let cases: Vec<(
            PodSpec,
            Vec<PodCondition>,
            Option<Vec<ContainerStatus>>,
            &str,
            GeneratedCondition,
        )> = vec![
            (
                PodSpec::default(),
                vec![],
                None,
                "Running",
                cond("Ready", "False", UNKNOWN_CONTAINER_STATUSES, ""),
            ),
            (
                PodSpec::default(),
                vec![],
                Some(vec![]),
                "Running",
                cond("Ready", "True", "", ""),
            ),
            (
                spec(vec![], vec![container("1234")], "Always"),
                vec![],
                Some(vec![]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unknown status: [1234]",
                ),
            ),
            (
                spec(vec![], two(), "Always"),
                vec![],
                Some(vec![ready("1234"), ready("5678")]),
                "Running",
                cond("Ready", "True", "", ""),
            ),
            (
                spec(vec![], two(), "Always"),
                vec![],
                Some(vec![ready("1234")]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unknown status: [5678]",
                ),
            ),
            (
                spec(vec![], two(), "Always"),
                vec![],
                Some(vec![ready("1234"), not_ready("5678")]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unready status: [5678]",
                ),
            ),
            (
                spec(vec![], vec![container("1234")], "Always"),
                vec![],
                Some(vec![not_ready("1234")]),
                "Succeeded",
                cond("Ready", "False", POD_COMPLETED, ""),
            ),
            (
                gates(&["gate1"]),
                vec![],
                Some(vec![]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    READINESS_GATES_NOT_READY,
                    r#"corresponding condition of pod readiness gate "gate1" does not exist."#,
                ),
            ),
            (
                gates(&["gate1"]),
                vec![gate_cond("gate1", "False")],
                Some(vec![]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    READINESS_GATES_NOT_READY,
                    r#"the status of pod readiness gate "gate1" is not "True", but False"#,
                ),
            ),
            (
                gates(&["gate1"]),
                vec![gate_cond("gate1", "True")],
                Some(vec![]),
                "Running",
                cond("Ready", "True", "", ""),
            ),
            (
                gates(&["gate1", "gate2"]),
                vec![gate_cond("gate1", "True")],
                Some(vec![]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    READINESS_GATES_NOT_READY,
                    r#"corresponding condition of pod readiness gate "gate2" does not exist."#,
                ),
            ),
            (
                gates(&["gate1", "gate2"]),
                vec![gate_cond("gate1", "True"), gate_cond("gate2", "False")],
                Some(vec![]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    READINESS_GATES_NOT_READY,
                    r#"the status of pod readiness gate "gate2" is not "True", but False"#,
                ),
            ),
            (
                gates(&["gate1", "gate2"]),
                vec![gate_cond("gate1", "True"), gate_cond("gate2", "True")],
                Some(vec![]),
                "Running",
                cond("Ready", "True", "", ""),
            ),
            (
                one_with_gate,
                vec![gate_cond("gate1", "True")],
                Some(vec![not_ready("1234")]),
                "Running",
                cond(
                    "Ready",
                    "False",
                    CONTAINERS_NOT_READY,
                    "containers with unready status: [1234]",
                ),
            ),
        ];
        for (i, (spec, conditions, statuses, phase, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                pod_ready_condition(&spec, &conditions, statuses.as_deref(), phase),
                want,
                "case {i}"
            );
        }
    }

    /// Upstream: pkg/kubelet/status/generate_test.go `TestGeneratePodInitializedCondition`
    /// (type, status and reason are compared, as upstream does).
    #[test]
    fn initialized_condition_cases() {
        let no_init = PodSpec::default();
        let one_init = spec(
            vec![container("1234")],
            vec![container("regular")],
            "Always",
        );
        let two_init = spec(
            vec![container("1234"), container("5678")],
            vec![container("regular")],
            "Always",
        );
        let one_sidecar = spec(vec![sidecar("1234")], vec![container("regular")], "Always");
        let cases: Vec<(&PodSpec, Option<Vec<ContainerStatus>>, &str, &str, &str)> = vec![
            (
                &two_init,
                None,
                "Running",
                "False",
                UNKNOWN_CONTAINER_STATUSES,
            ),
            (&no_init, Some(vec![]), "Running", "True", ""),
            (
                &one_init,
                Some(vec![]),
                "Running",
                "False",
                CONTAINERS_NOT_INITIALIZED,
            ),
            (
                &two_init,
                Some(vec![ready("1234"), ready("5678")]),
                "Running",
                "True",
                "",
            ),
            (
                &two_init,
                Some(vec![ready("1234")]),
                "Running",
                "False",
                CONTAINERS_NOT_INITIALIZED,
            ),
            (
                &two_init,
                Some(vec![ready("1234"), not_ready("5678")]),
                "Running",
                "False",
                CONTAINERS_NOT_INITIALIZED,
            ),
            (
                &one_init,
                Some(vec![ready("1234")]),
                "Succeeded",
                "True",
                POD_COMPLETED,
            ),
            (
                &one_sidecar,
                Some(vec![started("1234", false)]),
                "Pending",
                "False",
                CONTAINERS_NOT_INITIALIZED,
            ),
            (
                &one_sidecar,
                Some(vec![started("1234", true)]),
                "Running",
                "True",
                "",
            ),
            (
                &one_sidecar,
                Some(vec![started("1234", false), running("regular")]),
                "Running",
                "True",
                "",
            ),
            (
                &one_init,
                Some(vec![waiting("1234"), terminated("regular", 0)]),
                "Running",
                "True",
                "",
            ),
        ];
        for (i, (spec, statuses, phase, status, reason)) in cases.into_iter().enumerate() {
            let got = initialized_condition(spec, statuses.as_deref(), phase);
            assert_eq!(
                (got.type_, got.status, got.reason.as_str()),
                ("Initialized", status, reason),
                "case {i}"
            );
        }
    }

    /// Upstream: pkg/kubelet/kubelet_pods_test.go `TestPodPhaseWithRestartAlways`,
    /// `TestPodPhaseWithRestartAlwaysRestartableInitContainers` (terminal cases),
    /// `TestPodPhaseWithRestartAlwaysAndPodHasRun`, `TestPodPhaseWithRestartNever`,
    /// `TestPodPhaseWithRestartNeverInitContainers`,
    /// `TestPodPhaseWithRestartNeverRestartableInitContainers`,
    /// `TestPodPhaseWithRestartOnFailure`.
    #[test]
    fn phase_cases() {
        let ab = || vec![container("containerA"), container("containerB")];
        let always = spec(vec![], ab(), "Always");
        let always_sidecar = spec(vec![sidecar("containerX")], ab(), "Always");
        let has_run = spec(
            vec![container("containerX"), sidecar("containerY")],
            vec![container("containerA")],
            "Always",
        );
        let never = spec(vec![], ab(), "Never");
        let never_init = spec(vec![container("containerX")], ab(), "Never");
        let never_sidecar = spec(vec![sidecar("containerX")], ab(), "Never");
        let on_failure = spec(vec![], ab(), "OnFailure");
        let (a, b, x, y) = ("containerA", "containerB", "containerX", "containerY");
        let cases: Vec<(&str, &PodSpec, Vec<ContainerStatus>, bool, &str)> = vec![
            ("always: waiting", &always, vec![], false, "Pending"),
            (
                "always: all running",
                &always,
                vec![running(a), running(b)],
                false,
                "Running",
            ),
            (
                "always: all stopped",
                &always,
                vec![terminated(a, 0), terminated(b, 0)],
                false,
                "Running",
            ),
            (
                "always: mixed #1",
                &always,
                vec![terminated(a, 0), running(b)],
                false,
                "Running",
            ),
            (
                "always: mixed #2",
                &always,
                vec![running(a)],
                false,
                "Pending",
            ),
            (
                "always: backoff",
                &always,
                vec![running(a), waiting_after(b, 0)],
                false,
                "Running",
            ),
            (
                "always: terminal, all succeeded",
                &always,
                vec![terminated(a, 0), terminated(b, 0)],
                true,
                "Succeeded",
            ),
            (
                "always: terminal, one failed",
                &always,
                vec![terminated(a, 0), terminated(b, -1)],
                true,
                "Failed",
            ),
            (
                "sidecar: started, regular running",
                &always_sidecar,
                vec![started_running(x), running(a), running(b)],
                false,
                "Running",
            ),
            (
                "sidecar: running, regular running",
                &always_sidecar,
                vec![running(x), running(a), running(b)],
                false,
                "Running",
            ),
            (
                "sidecar: stopped, regular running",
                &always_sidecar,
                vec![terminated(x, 0), running(a), running(b)],
                false,
                "Running",
            ),
            (
                "sidecar: backoff, regular running",
                &always_sidecar,
                vec![waiting_after(x, 0), running(a), running(b)],
                false,
                "Running",
            ),
            (
                "sidecar: failed, terminal",
                &always_sidecar,
                vec![terminated(x, -1), terminated(a, 0), terminated(b, 0)],
                true,
                "Succeeded",
            ),
            (
                "sidecar: succeeded, terminal",
                &always_sidecar,
                vec![terminated(x, 0), terminated(a, 0), terminated(b, 0)],
                true,
                "Succeeded",
            ),
            (
                "has run: all running",
                &has_run,
                vec![running(x), running(y), running(a)],
                false,
                "Pending",
            ),
            (
                "has run: regular stopped",
                &has_run,
                vec![running(x), running(y), terminated(a, 0)],
                false,
                "Pending",
            ),
            (
                "has run: init done, regular stopped",
                &has_run,
                vec![terminated(x, 0), running(y), terminated(a, 0)],
                false,
                "Running",
            ),
            (
                "has run: init done, all running",
                &has_run,
                vec![terminated(x, 0), running(y), running(a)],
                false,
                "Running",
            ),
            ("never: waiting", &never, vec![], false, "Pending"),
            (
                "never: all running",
                &never,
                vec![running(a), running(b)],
                false,
                "Running",
            ),
            (
                "never: all succeeded",
                &never,
                vec![terminated(a, 0), terminated(b, 0)],
                false,
                "Succeeded",
            ),
            (
                "never: all failed",
                &never,
                vec![terminated(a, -1), terminated(b, -1)],
                false,
                "Failed",
            ),
            (
                "never: mixed #1",
                &never,
                vec![running(a), terminated(b, 0)],
                false,
                "Running",
            ),
            (
                "never: mixed #2",
                &never,
                vec![running(a)],
                false,
                "Pending",
            ),
            (
                "never: mixed #3",
                &never,
                vec![running(a), waiting(b)],
                false,
                "Pending",
            ),
            ("never init: empty", &never_init, vec![], false, "Pending"),
            (
                "never init: running",
                &never_init,
                vec![running(x)],
                false,
                "Pending",
            ),
            (
                "never init: failed",
                &never_init,
                vec![terminated(x, -1)],
                false,
                "Failed",
            ),
            (
                "never init: waiting after zero",
                &never_init,
                vec![waiting_after(x, 0)],
                false,
                "Pending",
            ),
            (
                "never init: waiting after non-zero",
                &never_init,
                vec![waiting_after(x, -1)],
                false,
                "Failed",
            ),
            (
                "never init: waiting",
                &never_init,
                vec![waiting(x)],
                false,
                "Pending",
            ),
            (
                "never init: succeeded",
                &never_init,
                vec![terminated(x, 0), running(a), running(b)],
                false,
                "Running",
            ),
            (
                "never sidecar: empty",
                &never_sidecar,
                vec![],
                false,
                "Pending",
            ),
            (
                "never sidecar: running",
                &never_sidecar,
                vec![running(x)],
                false,
                "Pending",
            ),
            (
                "never sidecar: stopped",
                &never_sidecar,
                vec![terminated(x, 0)],
                false,
                "Pending",
            ),
            (
                "never sidecar: waiting after zero",
                &never_sidecar,
                vec![waiting_after(x, 0)],
                false,
                "Pending",
            ),
            (
                "never sidecar: waiting after non-zero",
                &never_sidecar,
                vec![waiting_after(x, -1)],
                false,
                "Pending",
            ),
            (
                "never sidecar: waiting",
                &never_sidecar,
                vec![waiting(x)],
                false,
                "Pending",
            ),
            (
                "never sidecar: started, one main running",
                &never_sidecar,
                vec![started_running(x), running(a)],
                false,
                "Pending",
            ),
            (
                "never sidecar: started, mains succeeded",
                &never_sidecar,
                vec![started_running(x), terminated(a, 0), terminated(b, 0)],
                false,
                "Running",
            ),
            (
                "never sidecar: running, mains succeeded",
                &never_sidecar,
                vec![running(x), terminated(a, 0), terminated(b, 0)],
                false,
                "Running",
            ),
            (
                "never sidecar: all succeeded",
                &never_sidecar,
                vec![terminated(x, 0), terminated(a, 0), terminated(b, 0)],
                false,
                "Succeeded",
            ),
            (
                "never sidecar: failed, mains succeeded",
                &never_sidecar,
                vec![terminated(x, -1), terminated(a, 0), terminated(b, 0)],
                false,
                "Succeeded",
            ),
            (
                "never sidecar: backoff, mains succeeded",
                &never_sidecar,
                vec![waiting_after(x, 0), terminated(a, 0), terminated(b, 0)],
                false,
                "Succeeded",
            ),
            (
                "never sidecar: backoff non-zero, mains succeeded",
                &never_sidecar,
                vec![waiting_after(x, -1), terminated(a, 0), terminated(b, 0)],
                false,
                "Succeeded",
            ),
            ("onfailure: waiting", &on_failure, vec![], false, "Pending"),
            (
                "onfailure: all running",
                &on_failure,
                vec![running(a), running(b)],
                false,
                "Running",
            ),
            (
                "onfailure: all succeeded",
                &on_failure,
                vec![terminated(a, 0), terminated(b, 0)],
                false,
                "Succeeded",
            ),
            (
                "onfailure: all failed",
                &on_failure,
                vec![terminated(a, -1), terminated(b, -1)],
                false,
                "Running",
            ),
            (
                "onfailure: mixed #1",
                &on_failure,
                vec![running(a), terminated(b, 0)],
                false,
                "Running",
            ),
        ];
        for (name, spec, statuses, terminal, want) in cases {
            assert_eq!(get_phase(spec, &statuses, terminal), want, "{name}");
        }
    }

    #[test]
    fn ready_to_start_containers() {
        assert_eq!(ready_to_start_containers_condition(true).status, "True");
        assert_eq!(ready_to_start_containers_condition(false).status, "False");
    }
}
