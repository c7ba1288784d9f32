//! Behaviour knobs of a simulated kubelet (per node pool in the cluster spec) and their per-pod
//! overrides by annotation.
//!
//! Annotations a pod may carry (all optional; a value that does not parse is ignored and the
//! knob applies):
//!
//! | annotation | value | effect |
//! |---|---|---|
//! | `kubetwin.io/run-duration` | duration or `never` | regular containers exit after running this long (default: the `jobRunDuration` knob for pods owned by a Job, forever otherwise) |
//! | `kubetwin.io/exit-code` | integer | exit code of a container whose run ends (default 0, or 1 with probability `failureRate`) |
//! | `kubetwin.io/readiness-fails` | `"true"` | every readiness probe fails (the pod runs but never becomes Ready) |
//! | `kubetwin.io/startup-fails` | `"true"` | every startup probe fails (the container is killed after `failureThreshold` failures and restarted) |
//! | `kubetwin.io/liveness-fails-after` | duration | liveness probes fail once the container has run this long (it is killed and restarted) |
//! | `kubetwin.io/image-pull-delay` | duration | overrides `imagePullDelay` |
//! | `kubetwin.io/container-start-delay` | duration | overrides `containerStartDelay` |
//! | `kubetwin.io/readiness-delay` | duration | overrides `readinessDelay` |
//! | `kubetwin.io/init-run-duration` | duration | overrides `initContainerRunDuration` |
//! | `kubetwin.io/termination-delay` | duration | overrides `terminationDelay` |

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{self, serde_go};

/// Annotation names read by the simulated kubelet.
pub mod annotations {
    /// Regular containers exit after running this long (`never`: they run until deleted).
    pub const RUN_DURATION: &str = "kubetwin.io/run-duration";
    /// The exit code of a container whose run ends.
    pub const EXIT_CODE: &str = "kubetwin.io/exit-code";
    /// `"true"`: readiness probes always fail.
    pub const READINESS_FAILS: &str = "kubetwin.io/readiness-fails";
    /// `"true"`: startup probes always fail.
    pub const STARTUP_FAILS: &str = "kubetwin.io/startup-fails";
    /// Liveness probes fail once a container has run this long.
    pub const LIVENESS_FAILS_AFTER: &str = "kubetwin.io/liveness-fails-after";
    /// Overrides the image pull delay.
    pub const IMAGE_PULL_DELAY: &str = "kubetwin.io/image-pull-delay";
    /// Overrides the container start delay.
    pub const CONTAINER_START_DELAY: &str = "kubetwin.io/container-start-delay";
    /// Overrides the readiness delay.
    pub const READINESS_DELAY: &str = "kubetwin.io/readiness-delay";
    /// Overrides how long each init container runs.
    pub const INIT_RUN_DURATION: &str = "kubetwin.io/init-run-duration";
    /// Overrides how long containers take to stop after being asked to.
    pub const TERMINATION_DELAY: &str = "kubetwin.io/termination-delay";
}

/// How a simulated kubelet behaves. Every field has a default; in YAML/JSON the names are
/// camelCase and durations are Go duration strings (`"2s"`, `"1m30s"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct KubeletKnobs {
    /// Time to pull an image that is not on the node (default `2s`).
    #[serde(with = "serde_go")]
    pub image_pull_delay: Duration,
    /// Time from "image present" to "container running" (create + start; default `500ms`).
    #[serde(with = "serde_go")]
    pub container_start_delay: Duration,
    /// Time to create the pod sandbox and its network (pod IP) before containers start
    /// (default `500ms`).
    #[serde(with = "serde_go")]
    pub sandbox_delay: Duration,
    /// Simulated application warm-up: startup and readiness probes fail until a container
    /// has run this long (default `0s`). Containers without probes are ready when running,
    /// as upstream.
    #[serde(with = "serde_go")]
    pub readiness_delay: Duration,
    /// How long each (non-restartable) init container runs before exiting 0 (default `1s`).
    #[serde(with = "serde_go")]
    pub init_container_run_duration: Duration,
    /// How long regular containers of pods owned by a Job run before exiting (default `10s`).
    #[serde(with = "serde_go")]
    pub job_run_duration: Duration,
    /// How long containers take to stop once asked (deletion, liveness kill); capped by the
    /// grace period (default `1s`).
    #[serde(with = "serde_go")]
    pub termination_delay: Duration,
    /// Probability that a finite container run exits with code 1 instead of 0 (default 0).
    pub failure_rate: f64,
    /// Probability that any single probe attempt fails (default 0).
    pub probe_failure_rate: f64,
    /// Pull one image at a time per node, as the kubelet's default `serializeImagePulls: true`.
    pub serialize_image_pulls: bool,
    /// Images present on the node from the start (no pull delay).
    pub preloaded_images: Vec<String>,
    /// Record kubelet Events (Pulling, Pulled, Created, Started, Killing, Unhealthy, ...).
    pub emit_events: bool,
    /// `leaseDurationSeconds` of the node Lease (default 40); renewed every quarter of it.
    pub lease_duration_seconds: i32,
    /// How often the node status is computed (`nodeStatusUpdateFrequency`, default `10s`).
    #[serde(with = "serde_go")]
    pub node_status_update_frequency: Duration,
    /// How often an unchanged node status is still posted (`nodeStatusReportFrequency`,
    /// default `5m`).
    #[serde(with = "serde_go")]
    pub node_status_report_frequency: Duration,
    /// `status.nodeInfo.kubeletVersion` (and kubeProxyVersion).
    pub kubelet_version: String,
    /// `status.nodeInfo.containerRuntimeVersion`.
    pub container_runtime_version: String,
    /// `status.nodeInfo.osImage`.
    pub os_image: String,
    /// `status.nodeInfo.kernelVersion`.
    pub kernel_version: String,
}

impl Default for KubeletKnobs {
    fn default() -> Self {
        Self {
            image_pull_delay: Duration::from_secs(2),
            container_start_delay: Duration::from_millis(500),
            sandbox_delay: Duration::from_millis(500),
            readiness_delay: Duration::ZERO,
            init_container_run_duration: Duration::from_secs(1),
            job_run_duration: Duration::from_secs(10),
            termination_delay: Duration::from_secs(1),
            failure_rate: 0.0,
            probe_failure_rate: 0.0,
            serialize_image_pulls: true,
            preloaded_images: Vec::new(),
            emit_events: true,
            lease_duration_seconds: 40,
            node_status_update_frequency: Duration::from_secs(10),
            node_status_report_frequency: Duration::from_secs(300),
            kubelet_version: "v1.34.1".into(),
            container_runtime_version: "containerd://2.1.4".into(),
            os_image: "Ubuntu 24.04.3 LTS".into(),
            kernel_version: "6.8.0-85-generic".into(),
        }
    }
}

/// The behaviour of one pod: the knobs with the pod's annotations applied.
#[derive(Debug, Clone, PartialEq)]
pub struct PodProfile {
    /// Image pull delay.
    pub image_pull_delay: Duration,
    /// Container create + start delay.
    pub container_start_delay: Duration,
    /// Sandbox (network) setup delay.
    pub sandbox_delay: Duration,
    /// Application warm-up before startup/readiness probes succeed.
    pub readiness_delay: Duration,
    /// Run time of each init container.
    pub init_run_duration: Duration,
    /// Run time of regular containers (`None`: until deleted).
    pub run_duration: Option<Duration>,
    /// Exit code forced by annotation (`None`: 0, or 1 by `failure_rate`).
    pub exit_code: Option<i32>,
    /// Probability that a finite run fails.
    pub failure_rate: f64,
    /// Probability that a probe attempt fails.
    pub probe_failure_rate: f64,
    /// Readiness probes always fail.
    pub readiness_fails: bool,
    /// Startup probes always fail.
    pub startup_fails: bool,
    /// Liveness probes fail after a container ran this long.
    pub liveness_fails_after: Option<Duration>,
    /// Time containers take to stop.
    pub termination_delay: Duration,
}

impl PodProfile {
    /// Resolves the profile of a pod from the knobs, its annotations and whether a Job owns it.
    pub fn resolve(
        knobs: &KubeletKnobs,
        annotations: &BTreeMap<String, String>,
        owned_by_job: bool,
    ) -> Self {
        let dur = |key: &str, default: Duration| {
            annotations
                .get(key)
                .and_then(|v| duration::parse(v).ok())
                .unwrap_or(default)
        };
        let flag = |key: &str| annotations.get(key).is_some_and(|v| v.trim() == "true");
        let default_run = owned_by_job.then_some(knobs.job_run_duration);
        let run_duration = match annotations.get(annotations::RUN_DURATION) {
            Some(v) if matches!(v.trim(), "never" | "forever") => None,
            Some(v) => duration::parse(v).ok().or(default_run),
            None => default_run,
        };
        Self {
            image_pull_delay: dur(annotations::IMAGE_PULL_DELAY, knobs.image_pull_delay),
            container_start_delay: dur(
                annotations::CONTAINER_START_DELAY,
                knobs.container_start_delay,
            ),
            sandbox_delay: knobs.sandbox_delay,
            readiness_delay: dur(annotations::READINESS_DELAY, knobs.readiness_delay),
            init_run_duration: dur(
                annotations::INIT_RUN_DURATION,
                knobs.init_container_run_duration,
            ),
            run_duration,
            exit_code: annotations
                .get(annotations::EXIT_CODE)
                .and_then(|v| v.trim().parse().ok()),
            failure_rate: knobs.failure_rate.clamp(0.0, 1.0),
            probe_failure_rate: knobs.probe_failure_rate.clamp(0.0, 1.0),
            readiness_fails: flag(annotations::READINESS_FAILS),
            startup_fails: flag(annotations::STARTUP_FAILS),
            liveness_fails_after: annotations
                .get(annotations::LIVENESS_FAILS_AFTER)
                .and_then(|v| duration::parse(v).ok()),
            termination_delay: dur(annotations::TERMINATION_DELAY, knobs.termination_delay),
        }
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // Case tables are tuples.
mod tests {
    use super::*;

    #[test]
    fn knobs_round_trip_and_default_from_empty() {
        let knobs: KubeletKnobs = serde_json::from_str("{}").expect("empty");
        assert_eq!(knobs, KubeletKnobs::default());
        let text = serde_json::to_string(&knobs).expect("encode");
        assert!(text.contains("\"imagePullDelay\":\"2s\""), "{text}");
        let back: KubeletKnobs = serde_json::from_str(&text).expect("decode");
        assert_eq!(back, knobs);
        let custom: KubeletKnobs =
            serde_json::from_str(r#"{"imagePullDelay":"1m30s","failureRate":0.25}"#)
                .expect("custom");
        assert_eq!(custom.image_pull_delay, Duration::from_secs(90));
        assert_eq!(custom.failure_rate, 0.25);
        assert!(serde_json::from_str::<KubeletKnobs>(r#"{"imagePullDelay":"soon"}"#).is_err());
        assert!(serde_json::from_str::<KubeletKnobs>(r#"{"bogus":1}"#).is_err());
    }

    #[test]
    fn profile_applies_annotations_over_knobs() {
        let knobs = KubeletKnobs::default();
        let none = BTreeMap::new();
        // (annotations, owned by a Job) -> run duration
        let cases: Vec<(Vec<(&str, &str)>, bool, Option<Duration>)> = vec![
            (vec![], false, None),
            (vec![], true, Some(Duration::from_secs(10))),
            (
                vec![(annotations::RUN_DURATION, "30s")],
                false,
                Some(Duration::from_secs(30)),
            ),
            (vec![(annotations::RUN_DURATION, "never")], true, None),
            (
                vec![(annotations::RUN_DURATION, "bogus")],
                true,
                Some(Duration::from_secs(10)),
            ),
        ];
        for (pairs, job, want) in cases {
            let ann: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(
                PodProfile::resolve(&knobs, &ann, job).run_duration,
                want,
                "{pairs:?}"
            );
        }
        let ann: BTreeMap<String, String> = [
            (annotations::READINESS_FAILS, "true"),
            (annotations::EXIT_CODE, "3"),
            (annotations::IMAGE_PULL_DELAY, "5s"),
            (annotations::LIVENESS_FAILS_AFTER, "1m"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = PodProfile::resolve(&knobs, &ann, false);
        assert!(p.readiness_fails && !p.startup_fails);
        assert_eq!(p.exit_code, Some(3));
        assert_eq!(p.image_pull_delay, Duration::from_secs(5));
        assert_eq!(p.liveness_fails_after, Some(Duration::from_secs(60)));
        let d = PodProfile::resolve(&knobs, &none, false);
        assert_eq!(d.image_pull_delay, knobs.image_pull_delay);
    }
}
