//! The Deployment controller: ReplicaSets per pod template, rolling updates, Recreate,
//! revisions, proportional scaling, history cleanup and the `Progressing` / `Available`
//! conditions that `kubectl rollout status` reads.
//!
//! Upstream: `pkg/controller/deployment/deployment_controller.go` (handlers, `syncDeployment`),
//! `sync.go` (`getNewReplicaSet`, `scale`, `cleanupDeployment`, `calculateStatus`,
//! `syncDeploymentStatus`, `isScalingEvent`, `checkPausedConditions`), `rolling.go`,
//! `recreate.go`, `progress.go` (`syncRolloutStatus`, `requeueStuckDeployment`),
//! `util/deployment_util.go` (revisions, annotations, `NewRSNewReplicas`, `MaxSurge`,
//! `MaxUnavailable`, `ResolveFenceposts`, `GetProportion`, `DeploymentComplete`,
//! `DeploymentProgressing`, `DeploymentTimedOut`), `pkg/controller/controller_utils.go`
//! (`ComputeHash`, the ReplicaSet sort orders).
//!
//! Knowingly different: `pod-template-hash` is FNV-32a over the template's canonical JSON
//! (plus the collision count), rendered like upstream with `SafeEncodeString`; upstream hashes
//! go-spew's dump of the Go struct, so the values differ from a real cluster's (the format,
//! stability and collision handling are the same).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_runtime::informer::{Event, Informer, meta_key, split_key};
use kubetwin_runtime::{SimTime, WorkQueue};

use crate::util::{
    EventRecorder, SyncError, controller_of, from_written, is_already_exists, is_not_found,
    labels_of, new_controller_ref, now_seconds, patch_owner_refs, scaled_value, selector_of,
    to_json, update_typed,
};

/// `deployment.kubernetes.io/revision`.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// `deployment.kubernetes.io/revision-history`.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// `deployment.kubernetes.io/desired-replicas`.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// `deployment.kubernetes.io/max-replicas`.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
/// `pod-template-hash` (`DefaultDeploymentUniqueLabelKey`).
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// `kubectl.kubernetes.io/last-applied-configuration`, never copied to ReplicaSets.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// `deprecated.deployment.rollback.to` (`apps.DeprecatedRollbackTo`).
const DEPRECATED_ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// `maxRevHistoryLengthInChars`.
const MAX_REV_HISTORY_CHARS: usize = 2000;

/// Condition reasons (`deployment_util.go`).
pub mod reason {
    /// A ReplicaSet was scaled as part of the rollout.
    pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
    /// The new ReplicaSet could not be created.
    pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";
    /// The new ReplicaSet was created.
    pub const NEW_REPLICA_SET: &str = "NewReplicaSetCreated";
    /// An existing ReplicaSet matches the template.
    pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
    /// The rollout completed.
    pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
    /// No progress within `progressDeadlineSeconds`.
    pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
    /// The deployment is paused.
    pub const PAUSED: &str = "DeploymentPaused";
    /// The deployment was resumed.
    pub const RESUMED: &str = "DeploymentResumed";
    /// Enough replicas are available.
    pub const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
    /// Too few replicas are available.
    pub const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (util/deployment_util.go, controller_utils.go)
// ---------------------------------------------------------------------------------------------

/// `rand.SafeEncodeString`: each byte mapped into an alphabet without vowels or look-alikes.
pub fn safe_encode_string(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// FNV-1a, 32 bits.
fn fnv32a(data: &[u8], mut hash: u32) -> u32 {
    for b in data {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// `ComputeHash`: the pod-template-hash of a template and collision count.
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    // Canonical JSON: serde_json maps are sorted, so equal templates hash equally.
    let canonical = serde_json::to_vec(template).unwrap_or_default();
    let mut h = fnv32a(&canonical, 0x811c_9dc5);
    if let Some(c) = collision_count {
        h = fnv32a(&(c as u32).to_le_bytes(), h);
    }
    safe_encode_string(&h.to_string())
}

/// `EqualIgnoreHash` (`pkg/controller/deployment/util/deployment_util.go`): templates equal
/// once the pod-template-hash label is removed; labels left empty count as none, as
/// `Semantic.DeepEqual` treats an empty map like a nil one.
///
/// Only the metadata is copied to drop the label: a Deployment sync compares its template with
/// every ReplicaSet's, and copying (and re-encoding) whole pod specs for it was most of the sync.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    fn strip(meta: Option<&ObjectMeta>) -> Option<ObjectMeta> {
        let mut meta = meta?.clone();
        if let Some(labels) = meta.labels.as_mut() {
            labels.remove(POD_TEMPLATE_HASH);
            if labels.is_empty() {
                meta.labels = None;
            }
        }
        Some(meta)
    }
    a.spec == b.spec && strip(a.metadata.as_ref()) == strip(b.metadata.as_ref())
}

fn replicas_of(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn set_replicas(rs: &mut ReplicaSet, n: i32) {
    rs.spec.get_or_insert_with(ReplicaSetSpec::default).replicas = Some(n);
}

fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

fn available_replicas(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

fn ready_replicas(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

fn d_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

fn name_of(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// `Revision`: the revision annotation as a number (0 when absent; `None` when invalid).
pub fn revision(meta: &ObjectMeta) -> Option<i64> {
    match annotation(meta, REVISION_ANNOTATION) {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

/// `MaxRevision`.
pub fn max_revision(rss: &[ReplicaSet]) -> i64 {
    rss.iter()
        .filter_map(|rs| revision(&rs.metadata))
        .max()
        .unwrap_or(0)
        .max(0)
}

/// `IsRollingUpdate`.
pub fn is_rolling_update(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

/// `ResolveFenceposts`: (maxSurge, maxUnavailable) for `desired` replicas; both zero become
/// an unavailability of one.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), SyncError> {
    let zero = IntOrString::Int(0);
    let surge = scaled_value(max_surge.unwrap_or(&zero), desired, true)?;
    let mut unavailable = scaled_value(max_unavailable.unwrap_or(&zero), desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

fn rolling_params(d: &Deployment) -> (Option<IntOrString>, Option<IntOrString>) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    (
        ru.and_then(|r| r.max_surge.clone()),
        ru.and_then(|r| r.max_unavailable.clone()),
    )
}

/// `MaxSurge`.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    let (s, u) = rolling_params(d);
    resolve_fenceposts(s.as_ref(), u.as_ref(), d_replicas(d)).map_or(0, |(s, _)| s)
}

/// `MaxUnavailable`.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling_update(d) || d_replicas(d) == 0 {
        return 0;
    }
    let (s, u) = rolling_params(d);
    let unavailable = resolve_fenceposts(s.as_ref(), u.as_ref(), d_replicas(d)).map_or(0, |x| x.1);
    unavailable.min(d_replicas(d))
}

/// `NewRSNewReplicas`: how far the new ReplicaSet may grow now.
pub fn new_rs_new_replicas(
    d: &Deployment,
    all: &[ReplicaSet],
    new_rs: &ReplicaSet,
) -> Result<i32, SyncError> {
    if is_rolling_update(d) {
        let (s, _) = rolling_params(d);
        let surge = scaled_value(
            s.as_ref().unwrap_or(&IntOrString::Int(0)),
            d_replicas(d),
            true,
        )?;
        let current: i32 = all.iter().map(replicas_of).sum();
        let max_total = d_replicas(d) + surge;
        if current >= max_total {
            return Ok(replicas_of(new_rs));
        }
        let scale_up = (max_total - current).min(d_replicas(d) - replicas_of(new_rs));
        Ok(replicas_of(new_rs) + scale_up)
    } else {
        Ok(d_replicas(d))
    }
}

/// `ReplicaSetsByCreationTimestamp`: older first, then by name.
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let ta = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let tb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if ta == tb {
        name_of(&a.metadata).cmp(name_of(&b.metadata))
    } else {
        ta.cmp(&tb)
    }
}

/// `ReplicaSetsByRevision`: lower revision first (creation order on ties or bad values).
pub fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    match (revision(&a.metadata), revision(&b.metadata)) {
        (Some(ra), Some(rb)) if ra != rb => ra.cmp(&rb),
        _ => by_creation(a, b),
    }
}

/// `ReplicaSetsBySizeOlder`: larger first, older first on ties.
fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    replicas_of(b)
        .cmp(&replicas_of(a))
        .then_with(|| by_creation(a, b))
}

/// `ReplicaSetsBySizeNewer`: larger first, newer first on ties.
fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    replicas_of(b)
        .cmp(&replicas_of(a))
        .then_with(|| by_creation(b, a))
}

fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    annotation(&rs.metadata, key)?.parse().ok()
}

/// `getReplicaSetFraction`: this ReplicaSet's share of a proportional scaling.
fn replica_set_fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    if d_replicas(d) == 0 {
        return -replicas_of(rs);
    }
    let deployment_replicas = d_replicas(d) + max_surge(d);
    let annotated = int_annotation(rs, MAX_REPLICAS_ANNOTATION)
        .unwrap_or_else(|| d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0));
    if annotated == 0 {
        return 0;
    }
    let size = f64::from(replicas_of(rs)) * f64::from(deployment_replicas) / f64::from(annotated);
    // `integer.RoundToInt32`: halves away from zero.
    size.round() as i32 - replicas_of(rs)
}

/// `GetProportion`.
pub fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if replicas_of(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = replica_set_fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// `IsSaturated`: the new ReplicaSet runs the whole deployment.
pub fn is_saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else {
        return false;
    };
    let Some(desired) = int_annotation(rs, DESIRED_REPLICAS_ANNOTATION) else {
        return false;
    };
    replicas_of(rs) == d_replicas(d)
        && desired == d_replicas(d)
        && available_replicas(rs) == d_replicas(d)
}

/// `ReplicasAnnotationsNeedUpdate`.
fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    annotation(&rs.metadata, DESIRED_REPLICAS_ANNOTATION) != Some(desired.to_string().as_str())
        || annotation(&rs.metadata, MAX_REPLICAS_ANNOTATION) != Some(max.to_string().as_str())
}

/// `SetReplicasAnnotations`.
fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let a = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in [
        (DESIRED_REPLICAS_ANNOTATION, desired.to_string()),
        (MAX_REPLICAS_ANNOTATION, max.to_string()),
    ] {
        if a.get(k) != Some(&v) {
            a.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

fn skip_copy_annotation(key: &str) -> bool {
    matches!(
        key,
        LAST_APPLIED
            | REVISION_ANNOTATION
            | REVISION_HISTORY_ANNOTATION
            | DESIRED_REPLICAS_ANNOTATION
            | MAX_REPLICAS_ANNOTATION
            | DEPRECATED_ROLLBACK_TO
    )
}

/// `SetNewReplicaSetAnnotations`: copies the deployment's annotations, raises the revision
/// (keeping the history of a rolled-back-to ReplicaSet), and sets the replica annotations
/// of a ReplicaSet about to be created. Returns whether anything changed.
pub fn set_new_replica_set_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: &str,
    exists: bool,
) -> bool {
    let mut changed = false;
    let d_annotations = d.metadata.annotations.clone().unwrap_or_default();
    let a = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in &d_annotations {
        if skip_copy_annotation(k) || a.get(k) == Some(v) {
            continue;
        }
        a.insert(k.clone(), v.clone());
        changed = true;
    }
    let old_revision = a.get(REVISION_ANNOTATION).cloned();
    let old_int = match old_revision.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    let Ok(new_int) = new_revision.parse::<i64>() else {
        return false;
    };
    if old_int < new_int {
        a.insert(REVISION_ANNOTATION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old_revision {
            let history = a
                .get(REVISION_HISTORY_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            if history.is_empty() {
                a.insert(REVISION_HISTORY_ANNOTATION.into(), old);
            } else {
                let mut parts: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REV_HISTORY_CHARS && start < parts.len() {
                    total -= parts[start].len() + 1;
                    start += 1;
                }
                if total <= MAX_REV_HISTORY_CHARS {
                    parts = parts.split_off(start);
                    parts.push(&old);
                    let joined = parts.join(",");
                    a.insert(REVISION_HISTORY_ANNOTATION.into(), joined);
                }
            }
        }
    }
    if !exists && set_replicas_annotations(rs, d_replicas(d), d_replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// `GetDeploymentCondition`.
pub fn condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// `NewDeploymentCondition` at `now`.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// `SetDeploymentCondition`: no change when status and reason are the same; the transition
/// time is kept when only the reason changes.
pub fn set_condition(status: &mut DeploymentStatus, mut c: DeploymentCondition) {
    if let Some(cur) = condition(status, &c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove_condition(status, &c.type_);
    status.conditions.get_or_insert_with(Vec::new).push(c);
}

/// `RemoveDeploymentCondition`.
pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = status.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
    }
}

/// `HasProgressDeadline`.
pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_some_and(|p| p != i32::MAX)
}

/// `HasRevisionHistoryLimit`.
fn revision_history_limit(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .filter(|l| *l != i32::MAX)
}

/// `DeploymentComplete`.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let want = d_replicas(d);
    s.updated_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
        && s.available_replicas.unwrap_or(0) == want
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`: more updated, ready or available replicas, or fewer old ones.
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_old = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_old = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_old < old_old
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

/// `DeploymentTimedOut`.
pub fn deployment_timed_out(d: &Deployment, new: &DeploymentStatus, now: Timestamp) -> bool {
    if !has_progress_deadline(d) {
        return false;
    }
    let Some(c) = condition(new, "Progressing") else {
        return false;
    };
    match c.reason.as_deref() {
        Some(reason::NEW_RS_AVAILABLE) => return false,
        Some(reason::TIMED_OUT) => return true,
        _ => {}
    }
    let Some(from) = c.last_update_time.as_ref() else {
        return false;
    };
    let deadline = d
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    from.0
        .checked_add(jiff::SignedDuration::from_secs(i64::from(deadline)))
        .is_ok_and(|at| at < now)
}

/// `calculateStatus`: counts over all ReplicaSets and the `Available` condition.
pub fn calculate_status(
    all: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    d: &Deployment,
    now: Timestamp,
) -> DeploymentStatus {
    let available: i32 = all.iter().map(available_replicas).sum();
    let total: i32 = all.iter().map(replicas_of).sum();
    let unavailable = (total - available).max(0);
    let old = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: Some(d.metadata.generation.unwrap_or(0)),
        replicas: Some(all.iter().map(status_replicas).sum()),
        updated_replicas: Some(new_rs.map_or(0, status_replicas)),
        ready_replicas: Some(all.iter().map(ready_replicas).sum()),
        available_replicas: Some(available),
        unavailable_replicas: Some(unavailable),
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
        terminating_replicas: None,
    };
    if available >= d_replicas(d) - max_unavailable(d) {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "True",
                reason::MIN_AVAILABLE,
                "Deployment has minimum availability.",
                now,
            ),
        );
    } else {
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "False",
                reason::MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.",
                now,
            ),
        );
    }
    status
}

/// Status equality the way upstream compares with `reflect.DeepEqual` after a JSON round trip
/// (zero counts and absent counts are the same).
fn same_status(a: &DeploymentStatus, b: &DeploymentStatus) -> bool {
    fn norm(s: &DeploymentStatus) -> DeploymentStatus {
        let z = |v: Option<i32>| v.filter(|x| *x != 0);
        DeploymentStatus {
            observed_generation: s.observed_generation.filter(|x| *x != 0),
            replicas: z(s.replicas),
            updated_replicas: z(s.updated_replicas),
            ready_replicas: z(s.ready_replicas),
            available_replicas: z(s.available_replicas),
            unavailable_replicas: z(s.unavailable_replicas),
            terminating_replicas: z(s.terminating_replicas),
            collision_count: s.collision_count,
            conditions: s.conditions.clone().filter(|c| !c.is_empty()),
        }
    }
    norm(a) == norm(b)
}

/// One planned ReplicaSet resize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleOp {
    /// The ReplicaSet's name.
    pub name: String,
    /// Its new `spec.replicas`.
    pub replicas: i32,
}

/// `reconcileNewReplicaSet` as a plan: the new ReplicaSet's target size, if it changes.
pub fn plan_new_replica_set(
    all: &[ReplicaSet],
    new_rs: &ReplicaSet,
    d: &Deployment,
) -> Result<Option<i32>, SyncError> {
    let cur = replicas_of(new_rs);
    if cur == d_replicas(d) {
        return Ok(None);
    }
    if cur > d_replicas(d) {
        return Ok(Some(d_replicas(d)));
    }
    let n = new_rs_new_replicas(d, all, new_rs)?;
    Ok((n != cur).then_some(n))
}

/// `cleanupUnhealthyReplicas` as a plan: scales old ReplicaSets (oldest first) down by their
/// unavailable replicas, at most `max_cleanup` in all. Returns the updated ReplicaSets (in
/// creation order), the resizes and the number cleaned up.
pub fn plan_cleanup_unhealthy(
    old: &[ReplicaSet],
    max_cleanup: i32,
) -> (Vec<ReplicaSet>, Vec<ScaleOp>, i32) {
    let mut ops = Vec::new();
    let mut olds: Vec<ReplicaSet> = old.to_vec();
    olds.sort_by(by_creation);
    let mut cleaned = 0;
    for rs in &mut olds {
        if cleaned >= max_cleanup {
            break;
        }
        let cur = replicas_of(rs);
        if cur == 0 || cur == available_replicas(rs) {
            continue;
        }
        let down = (max_cleanup - cleaned).min(cur - available_replicas(rs));
        let target = cur - down;
        set_replicas(rs, target);
        ops.push(ScaleOp {
            name: name_of(&rs.metadata).to_string(),
            replicas: target,
        });
        cleaned += down;
    }
    (olds, ops, cleaned)
}

/// `reconcileOldReplicaSets` as a plan (`cleanupUnhealthyReplicas`, then
/// `scaleDownOldReplicaSetsForRollingUpdate` over the updated sizes).
pub fn plan_old_replica_sets(
    all: &[ReplicaSet],
    old: &[ReplicaSet],
    new_rs: &ReplicaSet,
    d: &Deployment,
) -> Vec<ScaleOp> {
    let old_pods: i32 = old.iter().map(replicas_of).sum();
    if old_pods == 0 {
        return Vec::new();
    }
    let all_pods: i32 = all.iter().map(replicas_of).sum();
    let min_available = d_replicas(d) - max_unavailable(d);
    let new_unavailable = replicas_of(new_rs) - available_replicas(new_rs);
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let (mut olds, mut ops, _) = plan_cleanup_unhealthy(old, max_scaled_down);
    // scaleDownOldReplicaSetsForRollingUpdate over old (updated) + new
    let available: i32 =
        olds.iter().map(available_replicas).sum::<i32>() + available_replicas(new_rs);
    if available > min_available {
        let total_down = available - min_available;
        let mut scaled = 0;
        for rs in &mut olds {
            if scaled >= total_down {
                break;
            }
            let cur = replicas_of(rs);
            if cur == 0 {
                continue;
            }
            let down = cur.min(total_down - scaled);
            let target = cur - down;
            set_replicas(rs, target);
            if let Some(op) = ops.iter_mut().find(|o| o.name == name_of(&rs.metadata)) {
                op.replicas = target;
            } else {
                ops.push(ScaleOp {
                    name: name_of(&rs.metadata).to_string(),
                    replicas: target,
                });
            }
            scaled += down;
        }
    }
    ops
}

/// `FindActiveOrLatest`.
fn find_active_or_latest<'a>(
    new_rs: Option<&'a ReplicaSet>,
    old: &'a [ReplicaSet],
) -> Option<&'a ReplicaSet> {
    if new_rs.is_none() && old.is_empty() {
        return None;
    }
    let mut olds: Vec<&ReplicaSet> = old.iter().collect();
    olds.sort_by(|a, b| by_creation(b, a));
    let mut all: Vec<&ReplicaSet> = olds.clone();
    if let Some(n) = new_rs {
        all.push(n);
    }
    let active: Vec<&ReplicaSet> = all.into_iter().filter(|r| replicas_of(r) > 0).collect();
    match active.len() {
        0 => new_rs.or_else(|| olds.first().copied()),
        1 => Some(active[0]),
        _ => None,
    }
}

/// `scale` (sync.go) as a plan: the sizes of every ReplicaSet after a scaling event.
pub fn plan_scale(d: &Deployment, new_rs: Option<&ReplicaSet>, old: &[ReplicaSet]) -> Vec<ScaleOp> {
    if let Some(rs) = find_active_or_latest(new_rs, old) {
        if replicas_of(rs) == d_replicas(d) {
            return Vec::new();
        }
        return vec![ScaleOp {
            name: name_of(&rs.metadata).to_string(),
            replicas: d_replicas(d),
        }];
    }
    if is_saturated(d, new_rs) {
        return old
            .iter()
            .filter(|r| replicas_of(r) > 0)
            .map(|r| ScaleOp {
                name: name_of(&r.metadata).to_string(),
                replicas: 0,
            })
            .collect();
    }
    if !is_rolling_update(d) {
        return Vec::new();
    }
    let mut all: Vec<&ReplicaSet> = old.iter().collect();
    if let Some(n) = new_rs {
        all.push(n);
    }
    let mut all: Vec<&ReplicaSet> = all.into_iter().filter(|r| replicas_of(r) > 0).collect();
    let current: i32 = all.iter().map(|r| replicas_of(r)).sum();
    let allowed = if d_replicas(d) > 0 {
        d_replicas(d) + max_surge(d)
    } else {
        0
    };
    let to_add = allowed - current;
    match to_add.cmp(&0) {
        Ordering::Greater => all.sort_by(|a, b| by_size_newer(a, b)),
        Ordering::Less => all.sort_by(|a, b| by_size_older(a, b)),
        Ordering::Equal => {}
    }
    let mut added = 0;
    let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
    for rs in &all {
        if to_add != 0 {
            let p = proportion(rs, d, to_add, added);
            sizes.push(replicas_of(rs) + p);
            added += p;
        } else {
            sizes.push(replicas_of(rs));
        }
    }
    if to_add != 0
        && let Some(first) = sizes.first_mut()
    {
        *first = (*first + to_add - added).max(0);
    }
    all.iter()
        .zip(sizes)
        .filter(|(rs, size)| {
            replicas_of(rs) != *size
                || replicas_annotations_need_update(rs, d_replicas(d), d_replicas(d) + max_surge(d))
        })
        .map(|(rs, size)| ScaleOp {
            name: name_of(&rs.metadata).to_string(),
            replicas: size,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The controller
// ---------------------------------------------------------------------------------------------

/// The Deployment controller.
#[derive(Debug, Clone)]
pub struct DeploymentController {
    client: LocalClient,
    time: SimTime,
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

impl DeploymentController {
    /// A controller over shared informers (registers its handlers).
    pub fn new(
        client: LocalClient,
        time: SimTime,
        deployments: Informer<Deployment>,
        replica_sets: Informer<ReplicaSet>,
        pods: Informer<Pod>,
    ) -> Self {
        let recorder = EventRecorder::new(client.clone(), "deployment-controller", time.clone());
        let this = Self {
            queue: WorkQueue::new(time.clone()),
            client,
            time,
            deployments,
            replica_sets,
            pods,
            recorder,
        };
        this.register_handlers();
        this
    }

    /// The work queue.
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    fn register_handlers(&self) {
        let queue = self.queue.clone();
        self.deployments
            .add_handler(Arc::new(move |e: &Event<Deployment>| {
                let d = match e {
                    Event::Added(d) | Event::Deleted(d) | Event::Updated { new: d, .. } => d,
                };
                queue.add(meta_key(&d.metadata));
            }));
        let this = self.clone();
        self.replica_sets
            .add_handler(Arc::new(move |e: &Event<ReplicaSet>| match e {
                Event::Added(rs) | Event::Deleted(rs) => this.enqueue_for_rs(rs, true),
                Event::Updated { old, new } => {
                    if old.metadata.resource_version == new.metadata.resource_version {
                        return;
                    }
                    let old_ref = controller_of(&old.metadata);
                    let new_ref = controller_of(&new.metadata);
                    if old_ref != new_ref && old_ref.is_some() {
                        this.enqueue_for_rs(old, false);
                    }
                    let labels_changed = old.metadata.labels != new.metadata.labels;
                    this.enqueue_for_rs(new, labels_changed || old_ref != new_ref);
                }
            }));
        let this = self.clone();
        self.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            // `deletePod`: a Recreate deployment waits for its old pods to go away.
            if let Event::Deleted(pod) = e {
                this.enqueue_for_deleted_pod(pod);
            }
        }));
    }

    fn resolve(&self, ns: &str, r: &OwnerReference) -> Option<Arc<Deployment>> {
        if r.kind != "Deployment" || !r.api_version.starts_with("apps/") {
            return None;
        }
        self.deployments
            .get_named(Some(ns), &r.name)
            .filter(|d| d.metadata.uid.as_deref() == Some(r.uid.as_str()))
    }

    fn enqueue_for_rs(&self, rs: &ReplicaSet, orphan_lookup: bool) {
        let ns = rs.metadata.namespace.as_deref().unwrap_or("");
        if let Some(r) = controller_of(&rs.metadata) {
            if let Some(d) = self.resolve(ns, r) {
                self.queue.add(meta_key(&d.metadata));
            }
            return;
        }
        if !orphan_lookup {
            return;
        }
        // `getDeploymentsForReplicaSet`: deployments whose selector matches the orphan.
        let labels = labels_of(&rs.metadata);
        for d in self.deployments.list_namespace(ns) {
            let sel = selector_of(d.spec.as_ref().map(|s| &s.selector));
            if sel.is_ok_and(|s| !s.is_empty() && s.matches(labels)) {
                self.queue.add(meta_key(&d.metadata));
            }
        }
    }

    fn enqueue_for_deleted_pod(&self, pod: &Pod) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let Some(r) = controller_of(&pod.metadata) else {
            return;
        };
        if r.kind != "ReplicaSet" {
            return;
        }
        let Some(rs) = self
            .replica_sets
            .get_named(Some(ns), &r.name)
            .filter(|rs| rs.metadata.uid.as_deref() == Some(r.uid.as_str()))
        else {
            return;
        };
        if let Some(dr) = controller_of(&rs.metadata)
            && let Some(d) = self.resolve(ns, dr)
            && !is_rolling_update(&d)
        {
            self.queue.add(meta_key(&d.metadata));
        }
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "deployment sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    /// `syncDeployment`.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(cached) = self.deployments.get(key) else {
            return Ok(());
        };
        let mut d = (*cached).clone();
        let selector = d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        if selector
            .match_labels
            .as_ref()
            .is_none_or(BTreeMap::is_empty)
            && selector
                .match_expressions
                .as_ref()
                .is_none_or(Vec::is_empty)
        {
            self.event(
                &d,
                "Warning",
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            .await;
            let generation = d.metadata.generation.unwrap_or(0);
            let mut status = d.status.clone().unwrap_or_default();
            if status.observed_generation.unwrap_or(0) < generation {
                status.observed_generation = Some(generation);
                self.write_status(&d, status).await?;
            }
            return Ok(());
        }
        let rs_list = self.replica_sets_for(&d).await?;
        if d.metadata.deletion_timestamp.is_some() {
            let (new_rs, old) = self.all_replica_sets(&mut d, &rs_list, false).await?;
            return self
                .sync_deployment_status(&cached, &d, &old, new_rs.as_ref())
                .await;
        }
        self.check_paused_conditions(&mut d).await?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused || self.is_scaling_event(&mut d, &rs_list).await? {
            return self.sync_scale(&cached, &mut d, &rs_list).await;
        }
        if is_rolling_update(&d) {
            self.rollout_rolling(&cached, &mut d, &rs_list).await
        } else {
            self.rollout_recreate(&cached, &mut d, &rs_list).await
        }
    }

    async fn event(&self, d: &Deployment, type_: &str, reason: &str, message: &str) {
        self.recorder
            .event("apps/v1", "Deployment", &d.metadata, type_, reason, message)
            .await;
    }

    /// `getReplicaSetsForDeployment`: claims ReplicaSets by selector (adopting orphans,
    /// releasing owned ones that stopped matching).
    async fn replica_sets_for(&self, d: &Deployment) -> Result<Vec<ReplicaSet>, SyncError> {
        let ns = d.metadata.namespace.as_deref().unwrap_or("");
        let selector = selector_of(d.spec.as_ref().map(|s| &s.selector))?;
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let deleting = d.metadata.deletion_timestamp.is_some();
        let info = resource_of::<ReplicaSet>()?;
        let mut claimed = Vec::new();
        for rs in self.replica_sets.list_namespace(ns) {
            let matches = selector.matches(labels_of(&rs.metadata));
            let refs = rs.metadata.owner_references.clone().unwrap_or_default();
            match controller_of(&rs.metadata) {
                Some(r) if r.uid == uid => {
                    if matches {
                        claimed.push((*rs).clone());
                    } else if !deleting {
                        let kept: Vec<OwnerReference> =
                            refs.into_iter().filter(|r| r.uid != uid).collect();
                        match patch_owner_refs(&self.client, info, &rs.metadata, kept).await {
                            Ok(()) => {}
                            Err(e) if is_not_found(&e) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Some(_) => {}
                None => {
                    if deleting || !matches || rs.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    let fresh: Result<Deployment, _> =
                        self.client.get_typed(Some(ns), name_of(&d.metadata));
                    if !fresh.is_ok_and(|f| {
                        f.metadata.uid == d.metadata.uid && f.metadata.deletion_timestamp.is_none()
                    }) {
                        continue;
                    }
                    let mut refs = refs;
                    refs.push(new_controller_ref(&d.metadata, "apps/v1", "Deployment"));
                    match patch_owner_refs(&self.client, info, &rs.metadata, refs.clone()).await {
                        Ok(()) => {
                            let mut rs = (*rs).clone();
                            rs.metadata.owner_references = Some(refs);
                            claimed.push(rs);
                        }
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(claimed)
    }

    /// `FindNewReplicaSet`: the oldest ReplicaSet whose template equals the deployment's.
    fn find_new<'a>(d: &Deployment, rs_list: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
        let default_template = PodTemplateSpec::default();
        let template = d.spec.as_ref().map_or(&default_template, |s| &s.template);
        let mut sorted: Vec<&ReplicaSet> = rs_list.iter().collect();
        sorted.sort_by(|a, b| by_creation(a, b));
        sorted.into_iter().find(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| equal_ignore_hash(t, template))
        })
    }

    /// `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when asked) and all old
    /// ones.
    async fn all_replica_sets(
        &self,
        d: &mut Deployment,

        rs_list: &[ReplicaSet],
        create: bool,
    ) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>), SyncError> {
        let existing = Self::find_new(d, rs_list);
        let old: Vec<ReplicaSet> = rs_list
            .iter()
            .filter(|rs| {
                existing
                    .as_ref()
                    .is_none_or(|n| n.metadata.uid != rs.metadata.uid)
            })
            .cloned()
            .collect();
        let new_rs = self.get_new_replica_set(d, existing, &old, create).await?;
        Ok((new_rs, old))
    }

    /// `getNewReplicaSet`.
    async fn get_new_replica_set(
        &self,
        d: &mut Deployment,
        existing: Option<&ReplicaSet>,
        old: &[ReplicaSet],
        create: bool,
    ) -> Result<Option<ReplicaSet>, SyncError> {
        let new_revision = (max_revision(old) + 1).to_string();
        let now = now_seconds(&self.time);
        let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        if let Some(existing) = existing {
            let mut copy = existing.clone();
            let annotations_updated =
                set_new_replica_set_annotations(d, &mut copy, &new_revision, true);
            let min_ready_changed = copy
                .spec
                .as_ref()
                .and_then(|s| s.min_ready_seconds)
                .unwrap_or(0)
                != min_ready.unwrap_or(0);
            if annotations_updated || min_ready_changed {
                copy.spec
                    .get_or_insert_with(ReplicaSetSpec::default)
                    .min_ready_seconds = min_ready;
                let updated = update_typed(&self.client, &copy, "").await?;
                return Ok(Some(updated));
            }
            let rev = annotation(&copy.metadata, REVISION_ANNOTATION)
                .unwrap_or("")
                .to_string();
            let mut needs_update = set_deployment_revision(d, &rev);
            let mut status = d.status.clone().unwrap_or_default();
            if has_progress_deadline(d) && condition(&status, "Progressing").is_none() {
                let msg = format!("Found new replica set \"{}\"", name_of(&copy.metadata));
                set_condition(
                    &mut status,
                    new_condition("Progressing", "True", reason::FOUND_NEW_RS, &msg, now),
                );
                needs_update = true;
            }
            if needs_update {
                d.status = Some(status.clone());
                *d = self.write_status(d, status).await?;
            }
            return Ok(Some(copy));
        }
        if !create {
            return Ok(None);
        }
        let spec = d.spec.clone().unwrap_or_default();
        let mut template = spec.template.clone();
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = compute_hash(&template, collision);
        let tmeta = template.metadata.get_or_insert_with(ObjectMeta::default);
        tmeta
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{}-{hash}", name_of(&d.metadata));
        let mut new_rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: d.metadata.namespace.clone(),
                owner_references: Some(vec![new_controller_ref(
                    &d.metadata,
                    "apps/v1",
                    "Deployment",
                )]),
                labels: tmeta.labels.clone(),
                ..ObjectMeta::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: min_ready,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let mut all: Vec<ReplicaSet> = old.to_vec();
        all.push(new_rs.clone());
        let count = new_rs_new_replicas(d, &all, &new_rs)?;
        set_replicas(&mut new_rs, count);
        set_new_replica_set_annotations(d, &mut new_rs, &new_revision, false);
        let info = resource_of::<ReplicaSet>()?;
        let (created_rs, already_existed) = match self
            .client
            .create_shared(info, d.metadata.namespace.as_deref(), to_json(&new_rs)?)
            .await
        {
            Ok(v) => (from_written::<ReplicaSet>(&v)?, false),
            Err(e) if is_already_exists(&e) => {
                // Either our own ReplicaSet from an earlier sync, or a hash collision.
                let ns = d.metadata.namespace.as_deref();
                let current: ReplicaSet = self.client.get_typed(ns, &name)?;
                let ours = controller_of(&current.metadata)
                    .is_some_and(|r| Some(&r.uid) == d.metadata.uid.as_ref());
                let same = current
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| equal_ignore_hash(t, &spec.template));
                if !(ours && same) {
                    let mut status = d.status.clone().unwrap_or_default();
                    status.collision_count =
                        Some(status.collision_count.unwrap_or(0).saturating_add(1));
                    self.write_status(d, status).await?;
                    return Err(SyncError::Api(e));
                }
                (current, true)
            }
            Err(e) => {
                let msg = format!("Failed to create new replica set \"{name}\": {}", e.message);
                if has_progress_deadline(d) {
                    let mut status = d.status.clone().unwrap_or_default();
                    set_condition(
                        &mut status,
                        new_condition("Progressing", "False", reason::FAILED_RS_CREATE, &msg, now),
                    );
                    self.write_status(d, status).await?;
                }
                self.event(d, "Warning", "FailedCreate", &msg).await;
                return Err(SyncError::Api(e));
            }
        };
        if !already_existed && count > 0 {
            self.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {count}"),
            )
            .await;
        }
        let mut needs_update = set_deployment_revision(d, &new_revision);
        let mut status = d.status.clone().unwrap_or_default();
        if !already_existed && has_progress_deadline(d) {
            let msg = format!("Created new replica set \"{name}\"");
            set_condition(
                &mut status,
                new_condition("Progressing", "True", reason::NEW_REPLICA_SET, &msg, now),
            );
            needs_update = true;
        }
        if needs_update {
            d.status = Some(status.clone());
            *d = self.write_status(d, status).await?;
        }
        Ok(Some(created_rs))
    }

    /// Writes the deployment's status with its annotations in one `UpdateStatus`: the status
    /// strategy keeps the body's metadata but labels (upstream: `sync.go` `syncDeploymentStatus`,
    /// `getNewReplicaSet`; `pkg/registry/apps/deployment/strategy.go`). The cached
    /// resourceVersion makes a concurrent change a conflict, retried by the queue.
    async fn write_status(
        &self,
        d: &Deployment,
        status: DeploymentStatus,
    ) -> Result<Deployment, SyncError> {
        let mut next = d.clone();
        next.status = Some(status);
        next.metadata.managed_fields = None;
        update_typed(&self.client, &next, "status").await
    }

    /// `checkPausedConditions`.
    async fn check_paused_conditions(&self, d: &mut Deployment) -> Result<(), SyncError> {
        if !has_progress_deadline(d) {
            return Ok(());
        }
        let mut status = d.status.clone().unwrap_or_default();
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let paused_cond = condition(&status, "Progressing")
            .is_some_and(|c| c.reason.as_deref() == Some(reason::PAUSED));
        let now = now_seconds(&self.time);
        let needs = if paused && !paused_cond {
            set_condition(
                &mut status,
                new_condition(
                    "Progressing",
                    "Unknown",
                    reason::PAUSED,
                    "Deployment is paused",
                    now,
                ),
            );
            true
        } else if !paused && paused_cond {
            set_condition(
                &mut status,
                new_condition(
                    "Progressing",
                    "Unknown",
                    reason::RESUMED,
                    "Deployment is resumed",
                    now,
                ),
            );
            true
        } else {
            false
        };
        if needs {
            *d = self.write_status(d, status).await?;
        }
        Ok(())
    }

    /// `isScalingEvent`: an active ReplicaSet's desired-replicas annotation differs from the
    /// deployment's replicas.
    async fn is_scaling_event(
        &self,
        d: &mut Deployment,
        rs_list: &[ReplicaSet],
    ) -> Result<bool, SyncError> {
        let (new_rs, old) = self.all_replica_sets(d, rs_list, false).await?;
        let want = d_replicas(d);
        Ok(old
            .iter()
            .chain(new_rs.as_ref())
            .filter(|rs| replicas_of(rs) > 0)
            .any(|rs| int_annotation(rs, DESIRED_REPLICAS_ANNOTATION).is_some_and(|v| v != want)))
    }

    /// `sync` (scaling events and paused deployments).
    async fn sync_scale(
        &self,
        cached: &Deployment,
        d: &mut Deployment,
        rs_list: &[ReplicaSet],
    ) -> Result<(), SyncError> {
        let (mut new_rs, mut old) = self.all_replica_sets(d, rs_list, false).await?;
        let ops = plan_scale(d, new_rs.as_ref(), &old);
        for op in ops {
            self.apply_scale(d, &mut new_rs, &mut old, &op).await?;
        }
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused {
            self.cleanup(d, &old).await?;
        }
        self.sync_deployment_status(cached, d, &old, new_rs.as_ref())
            .await
    }

    /// `scaleReplicaSet` applied to whichever ReplicaSet the op names.
    async fn apply_scale(
        &self,
        d: &Deployment,
        new_rs: &mut Option<ReplicaSet>,
        old: &mut [ReplicaSet],
        op: &ScaleOp,
    ) -> Result<bool, SyncError> {
        let target = match new_rs.as_mut() {
            Some(n) if name_of(&n.metadata) == op.name => n,
            _ => match old.iter_mut().find(|r| name_of(&r.metadata) == op.name) {
                Some(r) => r,
                None => return Ok(false),
            },
        };
        let (scaled, updated) = self.scale_replica_set(target, op.replicas, d).await?;
        *target = updated;
        Ok(scaled)
    }

    /// `scaleReplicaSet`: new size and replica annotations; an event when the size changes.
    async fn scale_replica_set(
        &self,
        rs: &ReplicaSet,
        new_scale: i32,
        d: &Deployment,
    ) -> Result<(bool, ReplicaSet), SyncError> {
        let old_scale = replicas_of(rs);
        let size_changed = old_scale != new_scale;
        let max = d_replicas(d) + max_surge(d);
        let annotations_changed = replicas_annotations_need_update(rs, d_replicas(d), max);
        if !size_changed && !annotations_changed {
            return Ok((false, rs.clone()));
        }
        let mut copy = rs.clone();
        set_replicas(&mut copy, new_scale);
        set_replicas_annotations(&mut copy, d_replicas(d), max);
        let updated = update_typed(&self.client, &copy, "").await?;
        if size_changed {
            let op = if new_scale > old_scale { "up" } else { "down" };
            self.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!(
                    "Scaled {op} replica set {} from {old_scale} to {new_scale}",
                    name_of(&rs.metadata)
                ),
            )
            .await;
        }
        Ok((size_changed, updated))
    }

    /// `rolloutRolling`.
    async fn rollout_rolling(
        &self,
        cached: &Deployment,
        d: &mut Deployment,
        rs_list: &[ReplicaSet],
    ) -> Result<(), SyncError> {
        let (new_rs, mut old) = self.all_replica_sets(d, rs_list, true).await?;
        let Some(mut new_rs) = new_rs else {
            return Ok(());
        };
        let mut all: Vec<ReplicaSet> = old.clone();
        all.push(new_rs.clone());
        if let Some(target) = plan_new_replica_set(&all, &new_rs, d)? {
            let (scaled, updated) = self.scale_replica_set(&new_rs, target, d).await?;
            new_rs = updated;
            if scaled {
                return self
                    .sync_rollout_status(cached, d, &old, Some(&new_rs))
                    .await;
            }
        }
        let mut all: Vec<ReplicaSet> = old.clone();
        all.push(new_rs.clone());
        let active_old: Vec<ReplicaSet> =
            old.iter().filter(|r| replicas_of(r) > 0).cloned().collect();
        let ops = plan_old_replica_sets(&all, &active_old, &new_rs, d);
        let mut scaled_down = false;
        let mut none = None;
        for op in &ops {
            scaled_down |= self.apply_scale(d, &mut none, &mut old, op).await?;
        }
        if scaled_down {
            return self
                .sync_rollout_status(cached, d, &old, Some(&new_rs))
                .await;
        }
        if deployment_complete(d, &d.status.clone().unwrap_or_default()) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(cached, d, &old, Some(&new_rs))
            .await
    }

    /// `rolloutRecreate`.
    async fn rollout_recreate(
        &self,
        cached: &Deployment,
        d: &mut Deployment,
        rs_list: &[ReplicaSet],
    ) -> Result<(), SyncError> {
        let (mut new_rs, mut old) = self.all_replica_sets(d, rs_list, false).await?;
        // scaleDownOldReplicaSetsForRecreate
        let mut scaled = false;
        let mut none = None;
        let names: Vec<String> = old
            .iter()
            .filter(|r| replicas_of(r) > 0)
            .map(|r| name_of(&r.metadata).to_string())
            .collect();
        for name in names {
            scaled |= self
                .apply_scale(d, &mut none, &mut old, &ScaleOp { name, replicas: 0 })
                .await?;
        }
        if scaled {
            return self
                .sync_rollout_status(cached, d, &old, new_rs.as_ref())
                .await;
        }
        if self.old_pods_running(d, new_rs.as_ref(), &old) {
            return self
                .sync_rollout_status(cached, d, &old, new_rs.as_ref())
                .await;
        }
        if new_rs.is_none() {
            let (n, o) = self.all_replica_sets(d, rs_list, true).await?;
            new_rs = n;
            old = o;
        }
        if let Some(n) = new_rs.as_mut() {
            let (_, updated) = self.scale_replica_set(n, d_replicas(d), d).await?;
            *n = updated;
        }
        if deployment_complete(d, &d.status.clone().unwrap_or_default()) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(cached, d, &old, new_rs.as_ref())
            .await
    }

    /// `oldPodsRunning`: old ReplicaSets still report pods, or pods of old ReplicaSets are
    /// not yet terminal.
    fn old_pods_running(
        &self,
        d: &Deployment,
        new_rs: Option<&ReplicaSet>,
        old: &[ReplicaSet],
    ) -> bool {
        if old.iter().map(status_replicas).sum::<i32>() > 0 {
            return true;
        }
        let ns = d.metadata.namespace.as_deref().unwrap_or("");
        let old_uids: Vec<&str> = old
            .iter()
            .filter_map(|r| r.metadata.uid.as_deref())
            .collect();
        let new_uid = new_rs.and_then(|r| r.metadata.uid.as_deref());
        self.pods.list_namespace(ns).iter().any(|p| {
            let Some(r) = controller_of(&p.metadata) else {
                return false;
            };
            if Some(r.uid.as_str()) == new_uid || !old_uids.contains(&r.uid.as_str()) {
                return false;
            }
            !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Failed" | "Succeeded")
            )
        })
    }

    /// `cleanupDeployment`: deletes the oldest idle ReplicaSets beyond revisionHistoryLimit.
    async fn cleanup(&self, d: &Deployment, old: &[ReplicaSet]) -> Result<(), SyncError> {
        let Some(limit) = revision_history_limit(d) else {
            return Ok(());
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|r| r.metadata.deletion_timestamp.is_none())
            .collect();
        let diff = cleanable.len() as i64 - i64::from(limit);
        if diff <= 0 {
            return Ok(());
        }
        // `sort.Sort(ReplicaSetsByRevision)`: not a strict weak order when some revisions are
        // missing, so in Go's order (Rust's sort may panic on such a comparison).
        kubetwin_core::gosort::sort(&mut cleanable, |a, b| by_revision(a, b) == Ordering::Less);
        let info = resource_of::<ReplicaSet>()?;
        for rs in cleanable.into_iter().take(diff as usize) {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if status_replicas(rs) != 0
                || replicas_of(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
                || rs.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            match self
                .client
                .delete(
                    info,
                    rs.metadata.namespace.as_deref(),
                    name_of(&rs.metadata),
                    &DeleteOptions::default(),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(SyncError::Api(e)),
            }
        }
        Ok(())
    }

    /// `syncDeploymentStatus`.
    async fn sync_deployment_status(
        &self,
        cached: &Deployment,
        d: &Deployment,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<(), SyncError> {
        let mut all: Vec<ReplicaSet> = old.to_vec();
        all.extend(new_rs.cloned());
        let status = calculate_status(&all, new_rs, d, now_seconds(&self.time));
        if same_status(&d.status.clone().unwrap_or_default(), &status)
            && d.metadata.annotations == cached.metadata.annotations
        {
            return Ok(());
        }
        self.write_status(d, status).await?;
        Ok(())
    }

    /// `syncRolloutStatus`.
    async fn sync_rollout_status(
        &self,
        cached: &Deployment,
        d: &Deployment,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Result<(), SyncError> {
        let now = now_seconds(&self.time);
        let mut all: Vec<ReplicaSet> = old.to_vec();
        all.extend(new_rs.cloned());
        let mut status = calculate_status(&all, new_rs, d, now);
        if !has_progress_deadline(d) {
            remove_condition(&mut status, "Progressing");
        }
        let current = d.status.clone().unwrap_or_default();
        let current_cond = condition(&current, "Progressing").cloned();
        let complete = status.replicas == status.updated_replicas
            && current_cond
                .as_ref()
                .is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_RS_AVAILABLE));
        if has_progress_deadline(d) && !complete {
            let rs_name = new_rs.map(|r| name_of(&r.metadata).to_string());
            if deployment_complete(d, &status) {
                let msg = match &rs_name {
                    Some(n) => format!("ReplicaSet \"{n}\" has successfully progressed."),
                    None => format!(
                        "Deployment \"{}\" has successfully progressed.",
                        name_of(&d.metadata)
                    ),
                };
                set_condition(
                    &mut status,
                    new_condition("Progressing", "True", reason::NEW_RS_AVAILABLE, &msg, now),
                );
            } else if deployment_progressing(d, &status) {
                let msg = match &rs_name {
                    Some(n) => format!("ReplicaSet \"{n}\" is progressing."),
                    None => format!("Deployment \"{}\" is progressing.", name_of(&d.metadata)),
                };
                let mut c = new_condition(
                    "Progressing",
                    "True",
                    reason::REPLICA_SET_UPDATED,
                    &msg,
                    now,
                );
                if let Some(cur) = &current_cond {
                    if cur.status == "True" {
                        c.last_transition_time = cur.last_transition_time.clone();
                    }
                    remove_condition(&mut status, "Progressing");
                }
                set_condition(&mut status, c);
            } else if deployment_timed_out(d, &status, now) {
                let msg = match &rs_name {
                    Some(n) => format!("ReplicaSet \"{n}\" has timed out progressing."),
                    None => format!(
                        "Deployment \"{}\" has timed out progressing.",
                        name_of(&d.metadata)
                    ),
                };
                set_condition(
                    &mut status,
                    new_condition("Progressing", "False", reason::TIMED_OUT, &msg, now),
                );
            }
        }
        // `getReplicaFailures`: the new ReplicaSet's failure first, else an old one's.
        let failure = new_rs
            .into_iter()
            .chain(old.iter())
            .filter_map(|rs| {
                rs.status
                    .as_ref()?
                    .conditions
                    .as_deref()?
                    .iter()
                    .find(|c| c.type_ == "ReplicaFailure")
                    .cloned()
            })
            .next();
        match failure {
            Some(c) => set_condition(
                &mut status,
                DeploymentCondition {
                    type_: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                    last_update_time: c.last_transition_time.clone(),
                    last_transition_time: c.last_transition_time,
                },
            ),
            None => remove_condition(&mut status, "ReplicaFailure"),
        }
        if same_status(&current, &status) && d.metadata.annotations == cached.metadata.annotations {
            self.requeue_stuck(d, &status, now);
            return Ok(());
        }
        self.write_status(d, status).await?;
        Ok(())
    }

    /// `requeueStuckDeployment`: check again when the progress deadline passes.
    fn requeue_stuck(&self, d: &Deployment, new: &DeploymentStatus, now: Timestamp) {
        let current = d.status.clone().unwrap_or_default();
        let Some(c) = condition(&current, "Progressing") else {
            return;
        };
        if !has_progress_deadline(d)
            || deployment_complete(d, new)
            || c.reason.as_deref() == Some(reason::TIMED_OUT)
        {
            return;
        }
        let Some(updated) = c.last_update_time.as_ref() else {
            return;
        };
        let deadline = d
            .spec
            .as_ref()
            .and_then(|s| s.progress_deadline_seconds)
            .unwrap_or(600);
        let at = updated.0 + jiff::SignedDuration::from_secs(i64::from(deadline));
        let after = at.duration_since(now);
        let key = meta_key(&d.metadata);
        if after < jiff::SignedDuration::from_secs(1) {
            self.queue.add_rate_limited(key);
        } else {
            let wait = Duration::try_from(after).unwrap_or(Duration::ZERO) + Duration::from_secs(1);
            self.queue.add_after(key, wait);
        }
    }
}

/// `SetDeploymentRevision`.
fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let a = d.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if a.get(REVISION_ANNOTATION).map(String::as_str) != Some(revision) {
        a.insert(REVISION_ANNOTATION.into(), revision.to_string());
        true
    } else {
        false
    }
}

/// The namespace of a key (for callers enqueueing by key).
pub fn namespace_of_key(key: &str) -> Option<&str> {
    split_key(key).0
}

#[cfg(test)]
mod tests {
    // Test tables are tuples, one column per upstream field.
    #![allow(clippy::type_complexity)]

    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetStatus;
    use serde_json::{Value, json};

    fn d(replicas: i32, strategy: Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "foo", "namespace": "default", "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"foo": "bar"}},
                     "strategy": strategy,
                     "template": {"metadata": {"labels": {"foo": "bar"}}}}
        }))
        .expect("deployment")
    }

    fn rolling(surge: Value, unavailable: Value) -> Value {
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
    }

    fn rs(name: &str, replicas: i32, available: i32, created: i64) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: Some(Time(Timestamp::from_second(created).expect("t"))),
                ..ObjectMeta::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                ..ReplicaSetSpec::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas,
                available_replicas: Some(available),
                ..ReplicaSetStatus::default()
            }),
        }
    }

    /// Upstream: `deployment_util_test.go` `TestEqualIgnoreHash` (template name, node name,
    /// annotations, labels; `H` is the pod-template-hash label), each case in both orders,
    /// plus one of ours: only the hash label against no labels at all.
    #[test]
    fn equal_ignore_hash_cases() {
        const H: &str = POD_TEMPLATE_HASH;
        let template =
            |name: &str, node: &str, annotations: &[(&str, &str)], labels: &[(&str, &str)]| {
                let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                };
                PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        name: Some(name.into()),
                        annotations: Some(map(annotations)),
                        labels: Some(map(labels)),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(k8s_openapi::api::core::v1::PodSpec {
                        node_name: Some(node.into()),
                        ..Default::default()
                    }),
                }
            };
        let cases = [
            (
                "Same spec, same labels",
                template(
                    "foo",
                    "foo-node",
                    &[],
                    &[(H, "value-1"), ("something", "else")],
                ),
                template(
                    "foo",
                    "foo-node",
                    &[],
                    &[(H, "value-1"), ("something", "else")],
                ),
                true,
            ),
            (
                "Same spec, only pod-template-hash label value is different",
                template(
                    "foo",
                    "foo-node",
                    &[],
                    &[(H, "value-1"), ("something", "else")],
                ),
                template(
                    "foo",
                    "foo-node",
                    &[],
                    &[(H, "value-2"), ("something", "else")],
                ),
                true,
            ),
            (
                "Same spec, the former doesn't have pod-template-hash label",
                template("foo", "foo-node", &[], &[("something", "else")]),
                template(
                    "foo",
                    "foo-node",
                    &[],
                    &[(H, "value-2"), ("something", "else")],
                ),
                true,
            ),
            (
                "Same spec, the label is different, the former doesn't have pod-template-hash label, same number of labels",
                template("foo", "foo-node", &[], &[("something", "else")]),
                template("foo", "foo-node", &[], &[(H, "value-2")]),
                false,
            ),
            (
                "Same spec, the label is different, the latter doesn't have pod-template-hash label, same number of labels",
                template("foo", "foo-node", &[], &[(H, "value-1")]),
                template("foo", "foo-node", &[], &[("something", "else")]),
                false,
            ),
            (
                "Same spec, the label is different, and the pod-template-hash label value is the same",
                template("foo", "foo-node", &[], &[(H, "value-1")]),
                template(
                    "foo",
                    "foo-node",
                    &[],
                    &[(H, "value-1"), ("something", "else")],
                ),
                false,
            ),
            (
                "Different spec, same labels",
                template(
                    "foo",
                    "foo-node",
                    &[("former", "value")],
                    &[(H, "value-1"), ("something", "else")],
                ),
                template(
                    "foo",
                    "foo-node",
                    &[("latter", "value")],
                    &[(H, "value-1"), ("something", "else")],
                ),
                false,
            ),
            (
                "Different spec, different pod-template-hash label value",
                template(
                    "foo-1",
                    "foo-node",
                    &[],
                    &[(H, "value-1"), ("something", "else")],
                ),
                template(
                    "foo-2",
                    "foo-node",
                    &[],
                    &[(H, "value-2"), ("something", "else")],
                ),
                false,
            ),
            (
                "Different spec, the former doesn't have pod-template-hash label",
                template("foo-1", "foo-node-1", &[], &[("something", "else")]),
                template(
                    "foo-2",
                    "foo-node-2",
                    &[],
                    &[(H, "value-2"), ("something", "else")],
                ),
                false,
            ),
            (
                "Different spec, different labels",
                template("foo", "foo-node-1", &[], &[("something", "else")]),
                template("foo", "foo-node-2", &[], &[("nothing", "else")]),
                false,
            ),
            (
                "Only the hash label against no labels (ours)",
                template("foo", "foo-node", &[], &[(H, "value-1")]),
                PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        name: Some("foo".into()),
                        annotations: Some(BTreeMap::new()),
                        ..ObjectMeta::default()
                    }),
                    ..template("foo", "foo-node", &[], &[])
                },
                true,
            ),
        ];
        for (name, former, latter, expected) in &cases {
            assert_eq!(equal_ignore_hash(former, latter), *expected, "{name}");
            assert_eq!(
                equal_ignore_hash(latter, former),
                *expected,
                "{name} (reverse order)"
            );
            // The templates themselves keep their labels.
            assert!(
                former.metadata.as_ref().is_some_and(|m| m.labels.is_some()),
                "{name}"
            );
        }
    }

    /// Upstream: `deployment_util_test.go` `TestResolveFenceposts`.
    #[test]
    fn resolve_fenceposts_cases() {
        let cases: &[(Option<&str>, Option<&str>, i32, Result<(i32, i32), ()>)] = &[
            (Some("0%"), Some("0%"), 0, Ok((0, 1))),
            (Some("39%"), Some("39%"), 10, Ok((4, 3))),
            (Some("oops"), Some("39%"), 10, Err(())),
            (Some("55%"), Some("urg"), 10, Err(())),
            (None, Some("39%"), 10, Ok((0, 3))),
            (Some("39%"), None, 10, Ok((4, 0))),
            (None, None, 10, Ok((0, 1))),
        ];
        for (surge, unavailable, desired, expected) in cases {
            let s = surge.map(|v| IntOrString::String(v.into()));
            let u = unavailable.map(|v| IntOrString::String(v.into()));
            let got = resolve_fenceposts(s.as_ref(), u.as_ref(), *desired).map_err(|_| ());
            assert_eq!(&got, expected, "{surge:?} {unavailable:?} {desired}");
        }
    }

    /// Upstream: `deployment_util_test.go` `TestMaxUnavailable`.
    #[test]
    fn max_unavailable_cases() {
        let cases: &[(i32, Value, i32)] = &[
            (10, rolling(json!(0), json!(1)), 1),
            (10, rolling(json!(0), json!(25)), 10),
            (10, rolling(json!("0%"), json!("10%")), 1),
            (10, rolling(json!("0%"), json!("100%")), 10),
            (0, rolling(json!(0), json!(1)), 0),
            (10, json!({"type": "Recreate"}), 0),
            (3, rolling(json!(0), json!(10)), 3),
            (10, rolling(json!("0%"), json!("30%")), 3),
        ];
        for (replicas, strategy, expected) in cases {
            assert_eq!(
                max_unavailable(&d(*replicas, strategy.clone())),
                *expected,
                "{strategy}"
            );
        }
    }

    /// Upstream: `deployment_util_test.go` `TestNewRSNewReplicas`.
    #[test]
    fn new_rs_new_replicas_cases() {
        // (name, strategy, deployment replicas, new RS replicas, maxSurge, old RS replicas, expected)
        let cases: &[(&str, bool, i32, i32, i32, i32, i32)] = &[
            ("can not scale up - to newRSReplicas", true, 1, 5, 1, 5, 5),
            ("scale up - to depReplicas", true, 6, 2, 10, 5, 6),
            ("recreate - to depReplicas", false, 3, 1, 1, 1, 3),
        ];
        for (name, rolling_update, dr, nr, surge, or, expected) in cases {
            let strategy = if *rolling_update {
                rolling(json!(surge), json!(1))
            } else {
                json!({"type": "Recreate"})
            };
            let dep = d(*dr, strategy);
            let new_rs = rs("new", *nr, 0, 2);
            let all = vec![rs("old", *or, 0, 1), new_rs.clone()];
            assert_eq!(
                new_rs_new_replicas(&dep, &all, &new_rs).expect("ok"),
                *expected,
                "{name}"
            );
        }
    }

    /// Upstream: `rolling_test.go` `TestDeploymentController_reconcileNewReplicaSet`.
    #[test]
    fn reconcile_new_replica_set_cases() {
        // (deployment replicas, maxSurge, old replicas, new replicas, expected new size)
        let cases: &[(i32, i32, i32, i32, Option<i32>)] = &[
            (10, 0, 10, 0, None),
            (10, 2, 10, 0, Some(2)),
            (10, 2, 5, 0, Some(7)),
            (10, 2, 10, 2, None),
            (10, 2, 2, 11, Some(10)),
        ];
        for (i, (dr, surge, or, nr, expected)) in cases.iter().enumerate() {
            let dep = d(*dr, rolling(json!(surge), json!(0)));
            let new_rs = rs("foo-v2", *nr, 0, 2);
            let all = vec![new_rs.clone(), rs("foo-v1", *or, 0, 1)];
            assert_eq!(
                plan_new_replica_set(&all, &new_rs, &dep).expect("ok"),
                *expected,
                "case {i}"
            );
        }
    }

    /// Upstream: `rolling_test.go` `TestDeploymentController_reconcileOldReplicaSets`.
    #[test]
    fn reconcile_old_replica_sets_cases() {
        // (replicas, maxUnavailable, old replicas, new replicas, ready old, ready new, expected old size)
        let cases: &[(i32, i32, i32, i32, i32, i32, Option<i32>)] = &[
            (10, 0, 10, 0, 10, 0, Some(9)),
            (10, 2, 10, 0, 10, 0, Some(8)),
            (10, 2, 10, 0, 8, 0, Some(8)),
            (10, 2, 10, 0, 9, 0, Some(8)),
            (10, 2, 8, 2, 8, 0, None),
        ];
        for (i, (dr, mu, or, nr, ro, rn, expected)) in cases.iter().enumerate() {
            let dep = d(*dr, rolling(json!(0), json!(mu)));
            let old = rs("foo-old", *or, *ro, 1);
            let new_rs = rs("foo-new", *nr, *rn, 2);
            let all = vec![old.clone(), new_rs.clone()];
            let ops = plan_old_replica_sets(&all, &[old], &new_rs, &dep);
            let got = ops.iter().find(|o| o.name == "foo-old").map(|o| o.replicas);
            assert_eq!(got, *expected, "case {i}: {ops:?}");
        }
    }

    /// Upstream: `rolling_test.go` `TestDeploymentController_cleanupUnhealthyReplicas`.
    #[test]
    fn cleanup_unhealthy_replicas_cases() {
        // (old replicas, ready, max cleanup, cleaned)
        let cases: &[(i32, i32, i32, i32)] =
            &[(10, 8, 1, 1), (10, 8, 3, 2), (10, 8, 0, 0), (10, 10, 3, 0)];
        for (i, (replicas, ready, max_cleanup, expected)) in cases.iter().enumerate() {
            let old = rs("foo-v2", *replicas, *ready, 1);
            let (_, _, cleaned) = plan_cleanup_unhealthy(&[old], *max_cleanup);
            assert_eq!(cleaned, *expected, "case {i}");
        }
    }

    /// Upstream: `deployment_util_test.go` `TestDeploymentComplete`.
    #[test]
    fn deployment_complete_cases() {
        // (replicas, current, updated, available, maxSurge, expected)
        let cases: &[(&str, i32, i32, i32, i32, bool)] = &[
            (
                "not complete: min but not all pods become available",
                5,
                5,
                5,
                4,
                false,
            ),
            (
                "not complete: min availability is not honored",
                5,
                5,
                5,
                3,
                false,
            ),
            ("complete", 5, 5, 5, 5, true),
            (
                "not complete: all pods are available but not updated",
                5,
                5,
                4,
                5,
                false,
            ),
            ("not complete: still running old pods", 1, 2, 1, 1, false),
            (
                "not complete: one replica deployment never comes up",
                1,
                1,
                1,
                0,
                false,
            ),
        ];
        for (name, desired, current, updated, available, expected) in cases {
            let dep = d(*desired, rolling(json!(1), json!(1)));
            let s = DeploymentStatus {
                replicas: Some(*current),
                updated_replicas: Some(*updated),
                available_replicas: Some(*available),
                observed_generation: Some(1),
                ..DeploymentStatus::default()
            };
            assert_eq!(deployment_complete(&dep, &s), *expected, "{name}");
        }
    }

    /// Upstream: `deployment_util_test.go` `TestDeploymentProgressing`.
    #[test]
    fn deployment_progressing_cases() {
        let status = |current: i32, updated: i32, ready: i32, available: i32| DeploymentStatus {
            replicas: Some(current),
            updated_replicas: Some(updated),
            ready_replicas: Some(ready),
            available_replicas: Some(available),
            ..DeploymentStatus::default()
        };
        // (name, old status, new status, expected)
        let cases = [
            (
                "progressing: updated pods",
                status(10, 4, 4, 4),
                status(10, 6, 4, 4),
                true,
            ),
            (
                "not progressing: the overall number of pods didn't change",
                status(10, 4, 4, 4),
                status(10, 4, 4, 4),
                false,
            ),
            (
                "progressing: older pods removed",
                status(10, 4, 4, 4),
                status(8, 4, 4, 4),
                true,
            ),
            (
                "not progressing: less new pods",
                status(10, 7, 4, 4),
                status(10, 6, 4, 4),
                false,
            ),
            (
                "progressing: less overall but more new pods",
                status(10, 4, 4, 4),
                status(8, 6, 4, 4),
                true,
            ),
            (
                "progressing: more ready pods",
                status(10, 10, 4, 4),
                status(10, 10, 5, 4),
                true,
            ),
            (
                "progressing: more available pods",
                status(10, 10, 4, 4),
                status(10, 10, 4, 5),
                true,
            ),
        ];
        for (name, old, new, expected) in cases {
            let mut dep = d(10, rolling(json!(1), json!(1)));
            dep.status = Some(old);
            assert_eq!(deployment_progressing(&dep, &new), expected, "{name}");
        }
    }

    /// Upstream: `deployment_util_test.go` `TestDeploymentTimedOut`.
    #[test]
    fn deployment_timed_out_cases() {
        let now = Timestamp::from_second(1_735_689_600).expect("now");
        let before = |s: i64| now - jiff::SignedDuration::from_secs(s);
        // (name, progressDeadlineSeconds, condition reason, last update, expected)
        let cases: &[(&str, Option<i32>, &str, Timestamp, bool)] = &[
            (
                "nil progressDeadlineSeconds",
                None,
                reason::REPLICA_SET_UPDATED,
                before(1),
                false,
            ),
            (
                "infinite",
                Some(i32::MAX),
                reason::REPLICA_SET_UPDATED,
                before(1),
                false,
            ),
            (
                "no timeout",
                Some(30),
                reason::REPLICA_SET_UPDATED,
                before(1),
                false,
            ),
            (
                "timeout",
                Some(30),
                reason::REPLICA_SET_UPDATED,
                before(31),
                true,
            ),
            (
                "complete never times out",
                Some(30),
                reason::NEW_RS_AVAILABLE,
                before(31),
                false,
            ),
            (
                "already timed out",
                Some(30),
                reason::TIMED_OUT,
                before(1),
                true,
            ),
        ];
        for (name, pds, why, at, expected) in cases {
            let mut dep = d(1, rolling(json!(1), json!(1)));
            dep.spec.as_mut().expect("spec").progress_deadline_seconds = *pds;
            let mut s = DeploymentStatus::default();
            set_condition(&mut s, new_condition("Progressing", "True", why, "", *at));
            assert_eq!(deployment_timed_out(&dep, &s, now), *expected, "{name}");
        }
    }

    /// Upstream: `deployment_util_test.go` `TestAnnotationUtils` (revision bumps, history on
    /// rollback, replica annotations on creation, skipped annotations).
    #[test]
    fn new_replica_set_annotations() {
        let mut dep = d(3, rolling(json!(1), json!(0)));
        dep.metadata.annotations = Some(
            [
                ("team".to_string(), "a".to_string()),
                (LAST_APPLIED.to_string(), "{}".to_string()),
                (REVISION_ANNOTATION.to_string(), "9".to_string()),
            ]
            .into(),
        );
        let mut fresh = rs("new", 0, 0, 1);
        assert!(set_new_replica_set_annotations(
            &dep, &mut fresh, "1", false
        ));
        let a = fresh.metadata.annotations.clone().expect("annotations");
        assert_eq!(a[REVISION_ANNOTATION], "1");
        assert_eq!(a["team"], "a");
        assert_eq!(a[DESIRED_REPLICAS_ANNOTATION], "3");
        assert_eq!(a[MAX_REPLICAS_ANNOTATION], "4");
        assert!(!a.contains_key(LAST_APPLIED));
        // Same revision again: nothing changes.
        assert!(!set_new_replica_set_annotations(
            &dep, &mut fresh, "1", true
        ));
        // Rolled back to: revision 4, history keeps 1; then 6 appends 4.
        assert!(set_new_replica_set_annotations(&dep, &mut fresh, "4", true));
        assert!(set_new_replica_set_annotations(&dep, &mut fresh, "6", true));
        let a = fresh.metadata.annotations.expect("annotations");
        assert_eq!(a[REVISION_ANNOTATION], "6");
        assert_eq!(a[REVISION_HISTORY_ANNOTATION], "1,4");
    }

    /// Upstream: `controller_utils_test.go` `TestComputeHash` (collision counts change the
    /// hash) and `rand.SafeEncodeString`'s alphabet.
    #[test]
    fn compute_hash_depends_on_collision_count() {
        let t = PodTemplateSpec::default();
        for (a, b) in [(Some(1), Some(2)), (None, Some(i32::MAX))] {
            assert_ne!(compute_hash(&t, a), compute_hash(&t, b));
        }
        let h = compute_hash(&t, None);
        assert!(!h.is_empty() && h.len() <= 10);
        assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_eq!(safe_encode_string("0123"), "4567");
    }

    /// Proportional scaling as in upstream `sync_test.go` `TestScale` (values computed by hand
    /// from `GetProportion`: leftovers go to the first ReplicaSet in size order).
    #[test]
    fn proportional_scaling_cases() {
        let with_max = |mut r: ReplicaSet, max: i32| {
            r.metadata.annotations =
                Some([(MAX_REPLICAS_ANNOTATION.to_string(), max.to_string())].into());
            r
        };
        // (name, old deployment replicas, new deployment replicas, new RS, old RSs, expected sizes new..old)
        let dep = |replicas: i32| d(replicas, rolling(json!(3), json!(2)));
        // 5 -> 10 with maxSurge 3: 13 allowed, 8 to add; old 3·13/8 ≈ 5 (+2), new 2·13/8 ≈ 3
        // (+1); the 5 left over go to the larger (old) one.
        let new_rs = with_max(rs("new", 2, 0, 2), 8);
        let old = vec![with_max(rs("old", 3, 0, 1), 8)];
        let ops = plan_scale(&dep(10), Some(&new_rs), &old);
        let size = |n: &str| ops.iter().find(|o| o.name == n).map(|o| o.replicas);
        assert_eq!((size("new"), size("old")), (Some(3), Some(10)));
        // 5 -> 3: 6 allowed (3 + surge 3), one more than now; the sizes sum to 6.
        let ops = plan_scale(&dep(3), Some(&new_rs), &old);
        let size = |n: &str| ops.iter().find(|o| o.name == n).map(|o| o.replicas);
        assert_eq!(size("new").unwrap_or(2) + size("old").unwrap_or(3), 6);
        // Only one active ReplicaSet: it takes the whole size.
        let single = vec![rs("old", 0, 0, 1)];
        let ops = plan_scale(&dep(7), Some(&rs("new", 5, 5, 2)), &single);
        assert_eq!(
            ops,
            vec![ScaleOp {
                name: "new".into(),
                replicas: 7
            }]
        );
    }
}
