//! Per-pool kubelet behaviour, resolved from the spec: delays, failure rates and the kubelet
//! configuration values the simulated kubelet honours. The kubelet crate reads
//! [`KubeletBehavior`] from each [`crate::SimNode`].

use std::time::Duration;

use crate::spec::KubeletSpec;

/// How a simulated kubelet behaves. Delays are the mean values; the kubelet scales each draw by
/// a factor in `[1 − delay_jitter, 1 + delay_jitter]` from its seeded RNG.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeletBehavior {
    /// Delay between the twin starting and the node registering (default 0s).
    pub registration_delay: Duration,
    /// Time to pull an image the node doesn't have yet (default 2s).
    pub image_pull_delay: Duration,
    /// Time from image present to container running (default 1s).
    pub container_start_delay: Duration,
    /// Time a container takes to exit after SIGTERM, capped by the pod's grace period
    /// (default 1s).
    pub container_stop_delay: Duration,
    /// Run time of a Job pod without a run-time annotation (default 10s).
    pub job_duration: Duration,
    /// Relative jitter of every delay, in `[0, 1]` (default 0: exact delays).
    pub delay_jitter: f64,
    /// Probability in `[0, 1]` that an image pull fails (default 0).
    pub image_pull_failure_rate: f64,
    /// Probability in `[0, 1]` that a container exits with an error right after starting
    /// (default 0).
    pub container_start_failure_rate: f64,
    /// Pull one image at a time (kubelet `serializeImagePulls`, default true).
    pub serialize_image_pulls: bool,
    /// How often the kubelet computes node status (kubelet `nodeStatusUpdateFrequency`,
    /// default 10s).
    pub node_status_update_frequency: Duration,
    /// How often the kubelet posts unchanged node status (kubelet `nodeStatusReportFrequency`,
    /// default 5m).
    pub node_status_report_frequency: Duration,
    /// Lease duration (kubelet `nodeLeaseDurationSeconds`, default 40); the kubelet renews
    /// every quarter of it.
    pub node_lease_duration_seconds: u32,
}

impl Default for KubeletBehavior {
    /// Kubelet configuration defaults come from upstream
    /// `pkg/kubelet/apis/config/v1beta1/defaults.go` (`SetDefaults_KubeletConfiguration`); the
    /// simulation delays are ours.
    fn default() -> Self {
        Self {
            registration_delay: Duration::ZERO,
            image_pull_delay: Duration::from_secs(2),
            container_start_delay: Duration::from_secs(1),
            container_stop_delay: Duration::from_secs(1),
            job_duration: Duration::from_secs(10),
            delay_jitter: 0.0,
            image_pull_failure_rate: 0.0,
            container_start_failure_rate: 0.0,
            serialize_image_pulls: true,
            node_status_update_frequency: Duration::from_secs(10),
            node_status_report_frequency: Duration::from_secs(5 * 60),
            node_lease_duration_seconds: 40,
        }
    }
}

impl KubeletBehavior {
    /// The lease renew interval: a quarter of the lease duration.
    /// Upstream: `pkg/kubelet/kubelet.go` (`renewInterval = leaseDuration * 0.25`).
    pub fn lease_renew_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.node_lease_duration_seconds)) / 4
    }

    /// Applies the fields set in `spec` over `self`.
    pub fn overlay(&mut self, spec: &KubeletSpec) {
        let set = |target: &mut Duration, value: Option<crate::duration::SpecDuration>| {
            if let Some(value) = value {
                *target = value.get();
            }
        };
        set(&mut self.registration_delay, spec.registration_delay);
        set(&mut self.image_pull_delay, spec.image_pull_delay);
        set(&mut self.container_start_delay, spec.container_start_delay);
        set(&mut self.container_stop_delay, spec.container_stop_delay);
        set(&mut self.job_duration, spec.job_duration);
        set(
            &mut self.node_status_update_frequency,
            spec.node_status_update_frequency,
        );
        set(
            &mut self.node_status_report_frequency,
            spec.node_status_report_frequency,
        );
        if let Some(v) = spec.delay_jitter {
            self.delay_jitter = v;
        }
        if let Some(v) = spec.image_pull_failure_rate {
            self.image_pull_failure_rate = v;
        }
        if let Some(v) = spec.container_start_failure_rate {
            self.container_start_failure_rate = v;
        }
        if let Some(v) = spec.serialize_image_pulls {
            self.serialize_image_pulls = v;
        }
        if let Some(v) = spec.node_lease_duration_seconds {
            self.node_lease_duration_seconds = v;
        }
    }
}

/// Rule violations of a kubelet spec, as `(field, message)` pairs.
pub(crate) fn validate_kubelet_spec(spec: &KubeletSpec) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let rates = [
        ("delayJitter", spec.delay_jitter),
        ("imagePullFailureRate", spec.image_pull_failure_rate),
        (
            "containerStartFailureRate",
            spec.container_start_failure_rate,
        ),
    ];
    for (field, value) in rates {
        if let Some(v) = value
            && !(0.0..=1.0).contains(&v)
        {
            errors.push((field, format!("must be between 0 and 1, got {v}")));
        }
    }
    if spec.node_lease_duration_seconds == Some(0) {
        errors.push((
            "nodeLeaseDurationSeconds",
            "nodeLeaseDurationSeconds must be greater than 0".to_string(),
        ));
    }
    if let Some(d) = spec.node_status_update_frequency
        && d.get().is_zero()
    {
        errors.push((
            "nodeStatusUpdateFrequency",
            "nodeStatusUpdateFrequency must be greater than 0".to_string(),
        ));
    }
    if let Some(d) = spec.node_status_report_frequency
        && d.get().is_zero()
    {
        errors.push((
            "nodeStatusReportFrequency",
            "nodeStatusReportFrequency must be greater than 0".to_string(),
        ));
    }
    errors
}
