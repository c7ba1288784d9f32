//! Taints and tolerations: whether a toleration tolerates a taint, and the first untolerated
//! taint among those a filter cares about.
//!
//! Upstream: staging/src/k8s.io/api/core/v1/toleration.go (`ToleratesTaint`),
//! staging/src/k8s.io/component-helpers/scheduling/corev1/helpers.go (`TolerationsTolerateTaint`,
//! `FindMatchingUntoleratedTaint`), pkg/scheduler/framework/plugins/helper/taint.go.

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// `NoSchedule`.
pub const NO_SCHEDULE: &str = "NoSchedule";
/// `PreferNoSchedule`.
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
/// `NoExecute`.
pub const NO_EXECUTE: &str = "NoExecute";

/// Whether one toleration tolerates the taint (`Toleration.ToleratesTaint`): effect empty or equal,
/// key empty or equal, and operator `Exists`, or `Equal`/empty with an equal value.
pub fn toleration_tolerates_taint(t: &Toleration, taint: &Taint) -> bool {
    let effect = t.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// Whether any toleration tolerates the taint (`TolerationsTolerateTaint`).
pub fn tolerations_tolerate_taint(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations
        .iter()
        .any(|t| toleration_tolerates_taint(t, taint))
}

/// The first taint, in node order, that passes `filter` and no toleration tolerates
/// (`FindMatchingUntoleratedTaint`).
pub fn find_matching_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    filter: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| filter(t))
        .find(|t| !tolerations_tolerate_taint(tolerations, t))
}

/// The taints a filter checks: effect `NoSchedule` or `NoExecute` (`DoNotScheduleTaintsFilterFunc`).
pub fn do_not_schedule_taints_filter(t: &Taint) -> bool {
    t.effect == NO_SCHEDULE || t.effect == NO_EXECUTE
}
