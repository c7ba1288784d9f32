//! The Job controller (NonIndexed completion mode) and the TTL-after-finished controller.
//!
//! Upstream: `pkg/controller/job/job_controller.go` (`syncJob`: pods tracked with the
//! `batch.kubernetes.io/job-tracking` finalizer through `status.uncountedTerminatedPods`;
//! `FailureTarget` / `SuccessCriteriaMet` interim conditions before `Failed` / `Complete`
//! once no pod is left running or terminating; `BackoffLimitExceeded`, `DeadlineExceeded`,
//! `CompletionsReached` reasons; `manageJob` creating `min(parallelism, completions −
//! succeeded)` pods, burst 500, after the pod failure backoff of 10 s doubling up to 10 min;
//! `Suspended` condition), `pkg/controller/job/backoff_utils.go` (`backoffRecord`), `pkg/controller/job/util/utils.go`
//! (`IsJobFinished`), `pkg/registry/batch/job/strategy.go` (the pod labels
//! `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`, `controller-uid`,
//! `job-name`) and `pkg/controller/ttlafterfinished/ttlafterfinished_controller.go` (delete
//! with foreground propagation `ttlSecondsAfterFinished` after the finish condition's time).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::{DeleteOptions, Propagation};
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, meta_key};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};
use serde_json::json;

use crate::util::{
    EventRecorder, Expectations, SyncError, controller_of, is_pod_ready, new_controller_ref,
    now_seconds, update_typed,
};

/// `batch.JobTrackingFinalizer`.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// `batch.JobNameLabel`.
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
/// `batch.ControllerUidLabel`.
pub const LABEL_CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
/// Default `spec.backoffLimit`.
pub const DEFAULT_BACKOFF_LIMIT: i32 = 6;
/// Pods created or deleted per sync at most (`MaxPodCreateDeletePerSync`).
pub const MAX_POD_CHANGES_PER_SYNC: usize = 500;

/// `DefaultJobPodFailureBackOff`.
pub const POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// `MaxJobPodFailureBackOff`.
pub const MAX_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(600);

/// `backoffRecord`: failures since the last success and when the last one happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BackoffRecord {
    /// `failuresAfterLastSuccess`.
    pub failures_after_last_success: u32,
    /// `lastFailureTime`.
    pub last_failure: Option<Timestamp>,
}

impl BackoffRecord {
    /// `newBackoffRecord`: folds newly finished pods, (finish time, succeeded), in time order.
    pub fn observe(mut self, mut finished: Vec<(Timestamp, bool)>) -> Self {
        finished.sort();
        for (at, succeeded) in finished {
            if succeeded {
                self.failures_after_last_success = 0;
                self.last_failure = None;
            } else {
                self.failures_after_last_success += 1;
                self.last_failure = Some(self.last_failure.map_or(at, |l| l.max(at)));
            }
        }
        self
    }

    /// `getRemainingTimePerIndex` for NonIndexed Jobs: 10 s doubling per failure since the
    /// last success, at most 10 min, counted from the last failure.
    pub fn remaining(&self, now: Timestamp) -> Duration {
        let Some(last) = self.last_failure else {
            return Duration::ZERO;
        };
        if self.failures_after_last_success == 0 {
            return Duration::ZERO;
        }
        let exponent = (self.failures_after_last_success - 1).min(20);
        let delay = POD_FAILURE_BACKOFF
            .saturating_mul(1 << exponent)
            .min(MAX_POD_FAILURE_BACKOFF);
        let elapsed = Duration::try_from(now.duration_since(last)).unwrap_or_default();
        delay.saturating_sub(elapsed)
    }
}

/// `getFinishedTime`: the latest container finish, else the Ready condition's transition,
/// else the deletion time, else `now`.
pub fn finished_time(pod: &Pod, now: Timestamp) -> Timestamp {
    let status = pod.status.as_ref();
    let finished = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[])
        .iter()
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(|t| t.0)
        .max();
    finished
        .or_else(|| {
            status?
                .conditions
                .as_deref()?
                .iter()
                .find(|c| c.type_ == "Ready")?
                .last_transition_time
                .as_ref()
                .map(|t| t.0)
        })
        .or_else(|| pod.metadata.deletion_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(now)
}

fn condition_true(job: &Job, type_: &str) -> Option<JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
        .cloned()
}

/// `IsJobFinished`: a `Complete` or `Failed` condition that is True.
pub fn is_finished(job: &Job) -> Option<JobCondition> {
    condition_true(job, "Complete").or_else(|| condition_true(job, "Failed"))
}

fn is_terminal(pod: &Pod) -> Option<bool> {
    match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Succeeded") => Some(true),
        Some("Failed") => Some(false),
        _ => None,
    }
}

/// How a job pod counts: Some(true) succeeded, Some(false) failed (including a pod deleted
/// before it finished: `podReplacementPolicy` TerminatingOrFailed), None still running.
pub fn pod_outcome(pod: &Pod) -> Option<bool> {
    is_terminal(pod).or_else(|| pod.metadata.deletion_timestamp.is_some().then_some(false))
}

fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .any(|f| f == TRACKING_FINALIZER)
}

/// A Job condition with both times set to `now` (`newCondition`).
pub fn new_condition(type_: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

fn ensure_condition(status: &mut JobStatus, cond: JobCondition) -> bool {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if conditions
        .iter()
        .any(|c| c.type_ == cond.type_ && c.status == cond.status)
    {
        return false;
    }
    conditions.retain(|c| c.type_ != cond.type_);
    conditions.push(cond);
    true
}

/// What one sync of a Job should do.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobPlan {
    /// The new status.
    pub status: JobStatus,
    /// Pods to create.
    pub create: usize,
    /// Pods to delete (names).
    pub delete: Vec<String>,
    /// Events (type, reason, message).
    pub events: Vec<(String, String, String)>,
    /// When to look again (active deadline).
    pub requeue_after: Option<Duration>,
}

/// The pure part of `syncJob` for a Job whose terminated pods were already counted into
/// `counted` (succeeded, failed). `pods` are the Job's pods.
pub fn plan_job(job: &Job, pods: &[Arc<Pod>], counted: (i32, i32), now: Timestamp) -> JobPlan {
    let spec = job.spec.clone().unwrap_or_default();
    let mut status = job.status.clone().unwrap_or_default();
    let mut plan = JobPlan::default();
    let (succeeded, failed) = counted;
    status.succeeded = Some(succeeded);
    status.failed = Some(failed);
    let active: Vec<&Arc<Pod>> = pods.iter().filter(|p| pod_outcome(p).is_none()).collect();
    let terminating = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_some() && is_terminal(p).is_none())
        .count();
    let suspended = spec.suspend.unwrap_or(false);
    if status.start_time.is_none() && !suspended {
        status.start_time = Some(Time(now));
    }
    let backoff_limit = spec.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT);
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    // Interim conditions first (upstream: `FailureTarget`, `SuccessCriteriaMet`).
    let mut failure = condition_true(job, "FailureTarget");
    let mut success = condition_true(job, "SuccessCriteriaMet");
    if failure.is_none() && success.is_none() {
        if failed > backoff_limit {
            failure = Some(new_condition(
                "FailureTarget",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                now,
            ));
        } else if let (Some(ads), Some(start)) = (spec.active_deadline_seconds, &status.start_time)
            && !suspended
        {
            let deadline = start.0 + jiff::SignedDuration::from_secs(ads);
            if deadline <= now {
                failure = Some(new_condition(
                    "FailureTarget",
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                    now,
                ));
            } else {
                plan.requeue_after = Duration::try_from(deadline.duration_since(now)).ok();
            }
        }
        if failure.is_none() {
            let complete = match spec.completions {
                Some(c) => succeeded >= c,
                None => succeeded > 0 && active.is_empty(),
            };
            if complete {
                success = Some(new_condition(
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    now,
                ));
            }
        }
    }
    let finishing = failure.clone().or_else(|| success.clone());
    if let Some(interim) = finishing {
        let is_failure = interim.type_ == "FailureTarget";
        ensure_condition(&mut status, interim.clone());
        plan.delete = active
            .iter()
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        let remaining_active = 0;
        if plan.delete.is_empty() && terminating == 0 {
            let reason = interim.reason.clone().unwrap_or_default();
            let message = interim.message.clone().unwrap_or_default();
            let final_type = if is_failure { "Failed" } else { "Complete" };
            if ensure_condition(
                &mut status,
                new_condition(final_type, &reason, &message, now),
            ) {
                if is_failure {
                    plan.events
                        .push(("Warning".into(), reason.clone(), message.clone()));
                } else {
                    status.completion_time = Some(Time(now));
                    plan.events
                        .push(("Normal".into(), "Completed".into(), "Job completed".into()));
                }
            }
        }
        status.active = Some(remaining_active);
        status.ready = Some(0);
        status.terminating = Some(i32::try_from(terminating + plan.delete.len()).unwrap_or(0));
        plan.requeue_after = None;
        plan.status = status;
        return plan;
    }
    if suspended {
        ensure_condition(
            &mut status,
            new_condition("Suspended", "JobSuspended", "Job suspended", now),
        );
    } else if status
        .conditions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .any(|c| c.type_ == "Suspended" && c.status == "True")
    {
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        for c in conditions.iter_mut().filter(|c| c.type_ == "Suspended") {
            c.status = "False".into();
            c.reason = Some("JobResumed".into());
            c.message = Some("Job resumed".into());
            c.last_transition_time = Some(Time(now));
            c.last_probe_time = Some(Time(now));
        }
    }
    let want = if suspended {
        0
    } else {
        match spec.completions {
            Some(c) => parallelism.min((c - succeeded).max(0)),
            // After a success, whatever runs keeps running; nothing new starts.
            None if succeeded > 0 => i32::try_from(active.len()).unwrap_or(i32::MAX),
            None => parallelism,
        }
    };
    let want = usize::try_from(want).unwrap_or(0);
    if active.len() < want {
        plan.create = (want - active.len()).min(MAX_POD_CHANGES_PER_SYNC);
    } else if active.len() > want {
        // Upstream: not-ready pods go first (`ActivePods` ordering), then the newest.
        let mut victims: Vec<&Arc<Pod>> = active.clone();
        victims.sort_by_key(|p| (is_pod_ready(p), std::cmp::Reverse(p.metadata.name.clone())));
        plan.delete = victims
            .into_iter()
            .take((active.len() - want).min(MAX_POD_CHANGES_PER_SYNC))
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
    }
    let still_active = active.len() - plan.delete.len() + plan.create;
    status.active = Some(i32::try_from(still_active).unwrap_or(i32::MAX));
    let ready = active
        .iter()
        .filter(|p| {
            is_pod_ready(p)
                && !plan
                    .delete
                    .contains(p.metadata.name.as_ref().unwrap_or(&String::new()))
        })
        .count();
    status.ready = Some(i32::try_from(ready).unwrap_or(0));
    status.terminating = Some(i32::try_from(terminating + plan.delete.len()).unwrap_or(0));
    plan.status = status;
    plan
}

/// A pod from the Job's template (`GetPodFromTemplate` + the Job labels the API server's
/// strategy adds to the template upstream).
pub fn job_pod(job: &Job) -> Pod {
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let mut meta = template.metadata.unwrap_or_default();
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(LABEL_CONTROLLER_UID.into(), uid.clone());
    labels.insert(LABEL_JOB_NAME.into(), name.clone());
    labels.insert("controller-uid".into(), uid);
    labels.insert("job-name".into(), name.clone());
    let mut prefix = name;
    prefix.truncate(57);
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{prefix}-")),
            namespace: job.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: meta.annotations,
            finalizers: Some(vec![TRACKING_FINALIZER.into()]),
            owner_references: Some(vec![new_controller_ref(&job.metadata, "batch/v1", "Job")]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// The Job controller.
#[derive(Debug, Clone)]
pub struct JobController {
    client: LocalClient,
    time: SimTime,
    jobs: Informer<Job>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    expectations: Expectations,
    recorder: EventRecorder,
    /// `backoffRecordStore`, per Job key.
    backoff: Arc<std::sync::Mutex<BTreeMap<String, BackoffRecord>>>,
}

impl JobController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        jobs: Informer<Job>,
        pods: Informer<Pod>,
    ) -> Self {
        let this = Self {
            recorder: EventRecorder::new(client.clone(), "job-controller", time.clone()),
            client,
            time: time.clone(),
            jobs,
            pods,
            queue: WorkQueue::new(time),
            expectations: Expectations::default(),
            backoff: Arc::default(),
        };
        let queue = this.queue.clone();
        let expectations = this.expectations.clone();
        let backoff = Arc::clone(&this.backoff);
        this.jobs
            .add_handler(Arc::new(move |e: &Event<Job>| match e {
                Event::Added(j) | Event::Updated { new: j, .. } => queue.add(meta_key(&j.metadata)),
                Event::Deleted(j) => {
                    let key = meta_key(&j.metadata);
                    expectations.delete(&key);
                    backoff
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    queue.add(key);
                }
            }));
        let queue = this.queue.clone();
        let expectations = this.expectations.clone();
        let jobs = this.jobs.clone();
        this.pods.add_handler(Arc::new(move |e: &Event<Pod>| {
            let (pod, added, deleted) = match e {
                Event::Added(p) => (p, true, false),
                Event::Updated { new, .. } => (new, false, false),
                Event::Deleted(p) => (p, false, true),
            };
            let Some(owner) = controller_of(&pod.metadata) else {
                return;
            };
            if owner.kind != "Job" {
                return;
            }
            let ns = pod.metadata.namespace.as_deref();
            let Some(job) = jobs
                .get_named(ns, &owner.name)
                .filter(|j| j.metadata.uid.as_deref() == Some(owner.uid.as_str()))
            else {
                return;
            };
            let key = meta_key(&job.metadata);
            if added {
                expectations.creation_observed(&key);
            }
            if deleted || (pod.metadata.deletion_timestamp.is_some() && !added) {
                expectations.deletion_observed(&key, &meta_key(&pod.metadata));
            }
            queue.add(key);
        }));
        this
    }

    /// The work queue.
    pub fn queue(&self) -> &WorkQueue<String> {
        &self.queue
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "job sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    fn owned_pods(&self, job: &Job) -> Vec<Arc<Pod>> {
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let uid = job.metadata.uid.as_deref().unwrap_or("");
        self.pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| controller_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect()
    }

    async fn remove_finalizer(&self, pod: &Pod) -> Result<(), SyncError> {
        let info = resource_of::<Pod>()?;
        let rest: Vec<String> = pod
            .metadata
            .finalizers
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|f| *f != TRACKING_FINALIZER)
            .cloned()
            .collect();
        let patch = json!({"metadata": {"finalizers": rest, "uid": pod.metadata.uid}});
        match self
            .client
            .merge_patch_shared(
                info,
                pod.metadata.namespace.as_deref(),
                pod.metadata.name.as_deref().unwrap_or(""),
                "",
                &patch,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `syncJob`.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(job) = self.jobs.get(key) else {
            return Ok(());
        };
        let pods = self.owned_pods(&job);
        if is_finished(&job).is_some() {
            // Finished: only release the pods still holding the tracking finalizer.
            for pod in pods.iter().filter(|p| has_tracking_finalizer(p)) {
                self.remove_finalizer(pod).await?;
            }
            return Ok(());
        }
        if !self.expectations.satisfied(key, self.time.elapsed()) {
            return Ok(());
        }
        let now = now_seconds(&self.time);
        // Phase 1: record newly terminated pods in uncountedTerminatedPods.
        let old_status = job.status.clone().unwrap_or_default();
        let mut uncounted = old_status
            .uncounted_terminated_pods
            .clone()
            .unwrap_or_default();
        let mut succ: BTreeSet<String> = uncounted
            .succeeded
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut fail: BTreeSet<String> = uncounted
            .failed
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut to_release = Vec::new();
        let mut newly_finished = Vec::new();
        for pod in pods.iter().filter(|p| has_tracking_finalizer(p)) {
            let Some(outcome) = pod_outcome(pod) else {
                continue;
            };
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if !succ.contains(&uid) && !fail.contains(&uid) {
                newly_finished.push((finished_time(pod, now), outcome));
            }
            if outcome {
                succ.insert(uid);
            } else {
                fail.insert(uid);
            }
            to_release.push(Arc::clone(pod));
        }
        let mut job_now = job.as_ref().clone();
        let grew = succ.len() != uncounted.succeeded.as_ref().map_or(0, Vec::len)
            || fail.len() != uncounted.failed.as_ref().map_or(0, Vec::len);
        if grew {
            uncounted.succeeded = Some(succ.iter().cloned().collect());
            uncounted.failed = Some(fail.iter().cloned().collect());
            let mut status = old_status.clone();
            status.uncounted_terminated_pods = Some(uncounted);
            job_now.status = Some(status);
            job_now = update_typed(&self.client, &job_now, "status").await?;
        }
        // Phase 2: release the pods, then count them.
        for pod in &to_release {
            self.remove_finalizer(pod).await?;
        }
        let counted = (
            old_status.succeeded.unwrap_or(0) + i32::try_from(succ.len()).unwrap_or(0),
            old_status.failed.unwrap_or(0) + i32::try_from(fail.len()).unwrap_or(0),
        );
        let mut plan = plan_job(&job_now, &pods, counted, now);
        plan.status.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
        // Pod failure backoff: replacements wait (`manageJob` with `remainingTime`).
        let record = {
            let mut store = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
            let record = store
                .get(key)
                .copied()
                .unwrap_or_default()
                .observe(newly_finished);
            store.insert(key.to_string(), record);
            record
        };
        let wait = record.remaining(now);
        if plan.create > 0 && !wait.is_zero() {
            let deferred = i32::try_from(plan.create).unwrap_or(0);
            plan.status.active = plan.status.active.map(|a| a - deferred);
            plan.create = 0;
            plan.requeue_after = Some(plan.requeue_after.map_or(wait, |r| r.min(wait)));
        }
        // Create and delete pods.
        let info = resource_of::<Pod>()?;
        if plan.create > 0 {
            self.expectations
                .expect_creations(key, plan.create as i64, self.time.elapsed());
            let template = job_pod(&job);
            for _ in 0..plan.create {
                match self.client.create_typed(&template).await {
                    Ok(p) => {
                        let name = p.metadata.name.unwrap_or_default();
                        self.event(
                            &job,
                            "Normal",
                            "SuccessfulCreate",
                            &format!("Created pod: {name}"),
                        )
                        .await;
                    }
                    Err(e) => {
                        self.expectations.creation_observed(key);
                        self.event(
                            &job,
                            "Warning",
                            "FailedCreate",
                            &format!("Error creating: {e}"),
                        )
                        .await;
                        return Err(e.into());
                    }
                }
            }
        }
        if !plan.delete.is_empty() {
            let ns = job.metadata.namespace.clone().unwrap_or_default();
            let keys: Vec<String> = plan.delete.iter().map(|n| format!("{ns}/{n}")).collect();
            self.expectations
                .expect_deletions(key, &keys, self.time.elapsed());
            for (name, pod_key) in plan.delete.iter().zip(&keys) {
                match self
                    .client
                    .delete(info, Some(&ns), name, &DeleteOptions::default())
                    .await
                {
                    Ok(_) => {
                        self.event(
                            &job,
                            "Normal",
                            "SuccessfulDelete",
                            &format!("Deleted pod: {name}"),
                        )
                        .await;
                    }
                    Err(e) => {
                        self.expectations.deletion_observed(key, pod_key);
                        if e.code != 404 {
                            return Err(e.into());
                        }
                    }
                }
            }
        }
        if job_now.status.as_ref() != Some(&plan.status) {
            let mut next = job_now.clone();
            next.status = Some(plan.status.clone());
            update_typed(&self.client, &next, "status").await?;
        }
        for (kind, reason, message) in &plan.events {
            self.event(&job, kind, reason, message).await;
        }
        if let Some(after) = plan.requeue_after {
            self.queue.add_after(key.to_string(), after);
        }
        Ok(())
    }

    async fn event(&self, job: &Job, kind: &str, reason: &str, message: &str) {
        self.recorder
            .event("batch/v1", "Job", &job.metadata, kind, reason, message)
            .await;
    }
}

/// When a finished Job expires (`timeLeft`): finish time + ttlSecondsAfterFinished.
pub fn ttl_expiry(job: &Job) -> Option<Timestamp> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let finished = is_finished(job)?;
    let at = finished.last_transition_time?.0;
    at.checked_add(jiff::SignedDuration::from_secs(i64::from(ttl)))
        .ok()
}

/// The TTL-after-finished controller: deletes finished Jobs once their TTL has passed.
#[derive(Debug, Clone)]
pub struct TtlAfterFinishedController {
    client: LocalClient,
    time: SimTime,
    jobs: Informer<Job>,
    queue: WorkQueue<String>,
}

impl TtlAfterFinishedController {
    /// A controller over the shared Job informer.
    pub fn new(client: LocalClient, time: SimTime, jobs: Informer<Job>) -> Self {
        let this = Self {
            client,
            time: time.clone(),
            jobs,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.jobs.add_handler(Arc::new(move |e: &Event<Job>| {
            if let Event::Added(j) | Event::Updated { new: j, .. } = e
                && j.metadata.deletion_timestamp.is_none()
                && ttl_expiry(j).is_some()
            {
                queue.add(meta_key(&j.metadata));
            }
        }));
        this
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(()) => self.queue.forget(&key),
                Err(e) => {
                    tracing::debug!(%key, error = %e, "ttl sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    /// `processJob`: delete when expired (foreground, uid precondition), else requeue.
    pub async fn sync(&self, key: &str) -> Result<(), SyncError> {
        let Some(job) = self.jobs.get(key) else {
            return Ok(());
        };
        let Some(expiry) = ttl_expiry(&job) else {
            return Ok(());
        };
        let now = self.time.now();
        if expiry > now {
            let wait = Duration::try_from(expiry.duration_since(now)).unwrap_or_default();
            self.queue.add_after(key.to_string(), wait);
            return Ok(());
        }
        let info = resource_of::<Job>()?;
        let options = DeleteOptions {
            propagation: Some(Propagation::Foreground),
            precondition_uid: job.metadata.uid.clone(),
            ..DeleteOptions::default()
        };
        match self
            .client
            .delete(
                info,
                job.metadata.namespace.as_deref(),
                job.metadata.name.as_deref().unwrap_or(""),
                &options,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    fn job(completions: Option<i32>, parallelism: i32, backoff: i32) -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                namespace: Some("default".into()),
                uid: Some("job-uid".into()),
                ..ObjectMeta::default()
            },
            spec: Some(JobSpec {
                completions,
                parallelism: Some(parallelism),
                backoff_limit: Some(backoff),
                ..JobSpec::default()
            }),
            status: None,
        }
    }

    fn pods(active: usize, ready: bool) -> Vec<Arc<Pod>> {
        (0..active)
            .map(|i| {
                Arc::new(Pod {
                    metadata: ObjectMeta {
                        name: Some(format!("pi-{i}")),
                        ..ObjectMeta::default()
                    },
                    status: Some(PodStatus {
                        phase: Some("Running".into()),
                        conditions: Some(vec![PodCondition {
                            type_: "Ready".into(),
                            status: if ready { "True" } else { "False" }.into(),
                            ..PodCondition::default()
                        }]),
                        ..PodStatus::default()
                    }),
                    ..Pod::default()
                })
            })
            .collect()
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn types(status: &JobStatus) -> Vec<String> {
        status
            .conditions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|c| c.status == "True")
            .map(|c| format!("{}/{}", c.type_, c.reason.as_deref().unwrap_or("")))
            .collect()
    }

    /// Upstream: `job_controller_test.go` `TestControllerSyncJob` — cases "job start",
    /// "WQ job start", "correct # of pods", "too few active pods", "too many active pods",
    /// "too few active pods and active back-off" (counts only), "job finish", "WQ job
    /// finishing"/"WQ job all finished", "more active pods than parallelism", "too many
    /// job failures" (BackoffLimitExceeded), "suspending a job", plus
    /// `TestSyncJobPastDeadline`. Each case: (name, completions, parallelism, backoffLimit,
    /// active pods, counted (succeeded, failed), expected (creates, deletes, active),
    /// expected true conditions).
    #[test]
    fn sync_job_cases() {
        let cases: Vec<(
            &str,
            Option<i32>,
            i32,
            i32,
            usize,
            (i32, i32),
            (usize, usize, i32),
            Vec<&str>,
        )> = vec![
            ("job start", Some(5), 2, 6, 0, (0, 0), (2, 0, 2), vec![]),
            ("WQ job start", None, 2, 6, 0, (0, 0), (2, 0, 2), vec![]),
            (
                "correct # of pods",
                Some(5),
                2,
                6,
                2,
                (0, 0),
                (0, 0, 2),
                vec![],
            ),
            (
                "too few active pods",
                Some(5),
                2,
                6,
                1,
                (1, 0),
                (1, 0, 2),
                vec![],
            ),
            (
                "too few active pods, with failures",
                Some(5),
                2,
                6,
                1,
                (0, 1),
                (1, 0, 2),
                vec![],
            ),
            (
                "too many active pods",
                Some(5),
                2,
                6,
                3,
                (0, 0),
                (0, 1, 2),
                vec![],
            ),
            (
                "more active pods than remaining completions",
                Some(5),
                3,
                6,
                3,
                (3, 0),
                (0, 1, 2),
                vec![],
            ),
            (
                "job finish",
                Some(5),
                2,
                6,
                0,
                (5, 0),
                (0, 0, 0),
                vec![
                    "SuccessCriteriaMet/CompletionsReached",
                    "Complete/CompletionsReached",
                ],
            ),
            ("WQ job finishing", None, 2, 6, 1, (1, 0), (0, 0, 1), vec![]),
            (
                "WQ job all finished",
                None,
                2,
                6,
                0,
                (2, 0),
                (0, 0, 0),
                vec![
                    "SuccessCriteriaMet/CompletionsReached",
                    "Complete/CompletionsReached",
                ],
            ),
            (
                "success with active pods left: interim condition, pods deleted",
                Some(2),
                3,
                6,
                1,
                (2, 0),
                (0, 1, 0),
                vec!["SuccessCriteriaMet/CompletionsReached"],
            ),
            (
                "too many job failures",
                Some(5),
                2,
                0,
                0,
                (0, 1),
                (0, 0, 0),
                vec![
                    "FailureTarget/BackoffLimitExceeded",
                    "Failed/BackoffLimitExceeded",
                ],
            ),
            (
                "failures with active pods: FailureTarget first",
                Some(5),
                2,
                1,
                2,
                (0, 2),
                (0, 2, 0),
                vec!["FailureTarget/BackoffLimitExceeded"],
            ),
            (
                "failures within the limit",
                Some(5),
                2,
                6,
                2,
                (0, 6),
                (0, 0, 2),
                vec![],
            ),
        ];
        for (
            name,
            completions,
            parallelism,
            backoff,
            active,
            counted,
            (create, delete, active_after),
            conditions,
        ) in cases
        {
            let j = job(completions, parallelism, backoff);
            let plan = plan_job(&j, &pods(active, true), counted, now());
            assert_eq!(
                (plan.create, plan.delete.len(), plan.status.active),
                (create, delete, Some(active_after)),
                "{name}"
            );
            assert_eq!(types(&plan.status), conditions, "{name}");
            assert_eq!(plan.status.start_time, Some(Time(now())), "{name}");
        }
    }

    /// Upstream: `TestSyncJobPastDeadline` ("activeDeadlineSeconds less than single pod
    /// execution", "activeDeadlineSeconds bigger than single pod execution") and
    /// `TestSyncJobSuspend`-style suspension.
    #[test]
    fn deadline_and_suspend() {
        let mut j = job(Some(1), 1, 6);
        if let Some(s) = j.spec.as_mut() {
            s.active_deadline_seconds = Some(10);
        }
        j.status = Some(JobStatus {
            start_time: Some(Time(
                Timestamp::from_second(now().as_second() - 15).unwrap_or(now()),
            )),
            ..JobStatus::default()
        });
        let plan = plan_job(&j, &pods(1, true), (0, 0), now());
        assert_eq!(types(&plan.status), vec!["FailureTarget/DeadlineExceeded"]);
        assert_eq!(plan.delete.len(), 1);
        let plan = plan_job(&j, &[], (0, 0), now());
        assert_eq!(
            types(&plan.status),
            vec!["FailureTarget/DeadlineExceeded", "Failed/DeadlineExceeded"]
        );
        // Not yet past the deadline: a requeue at the deadline.
        j.status = Some(JobStatus {
            start_time: Some(Time(
                Timestamp::from_second(now().as_second() - 4).unwrap_or(now()),
            )),
            ..JobStatus::default()
        });
        let plan = plan_job(&j, &pods(1, true), (0, 0), now());
        assert_eq!(plan.requeue_after, Some(Duration::from_secs(6)));
        // Suspended: active pods deleted, Suspended condition.
        let mut s = job(Some(4), 2, 6);
        if let Some(spec) = s.spec.as_mut() {
            spec.suspend = Some(true);
        }
        let plan = plan_job(&s, &pods(2, true), (0, 0), now());
        assert_eq!((plan.create, plan.delete.len()), (0, 2));
        assert_eq!(types(&plan.status), vec!["Suspended/JobSuspended"]);
        assert!(plan.status.start_time.is_none());
    }

    /// Upstream: `backoff_utils_test.go` `TestNewBackoffRecord` and
    /// `TestGetRemainingBackoffTime` (10 s doubling, capped at 10 min, reset on success).
    #[test]
    fn backoff_cases() {
        let t = |s: i64| Timestamp::from_second(1_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH);
        let cases: Vec<(&str, Vec<(i64, bool)>, i64, u64)> = vec![
            ("no failures", vec![], 0, 0),
            ("one failure, just now", vec![(0, false)], 0, 10),
            ("one failure, 4 s ago", vec![(0, false)], 4, 6),
            ("two failures", vec![(0, false), (1, false)], 1, 20),
            (
                "three failures",
                vec![(0, false), (1, false), (2, false)],
                2,
                40,
            ),
            ("success resets", vec![(0, false), (1, true)], 1, 0),
            (
                "failure after success",
                vec![(0, false), (1, true), (2, false)],
                2,
                10,
            ),
            (
                "capped at 10 min",
                (0..12).map(|i| (i, false)).collect(),
                11,
                600,
            ),
            ("expired", vec![(0, false)], 30, 0),
        ];
        for (name, finished, now, want) in cases {
            let record = BackoffRecord::default()
                .observe(finished.into_iter().map(|(s, ok)| (t(s), ok)).collect());
            assert_eq!(
                record.remaining(t(now)),
                Duration::from_secs(want),
                "{name}"
            );
        }
    }

    #[test]
    fn pod_template_labels_and_finalizer() {
        let p = job_pod(&job(Some(1), 1, 6));
        let labels = p.metadata.labels.unwrap_or_default();
        assert_eq!(labels.get(LABEL_JOB_NAME).map(String::as_str), Some("pi"));
        assert_eq!(
            labels.get(LABEL_CONTROLLER_UID).map(String::as_str),
            Some("job-uid")
        );
        assert_eq!(labels.get("job-name").map(String::as_str), Some("pi"));
        assert_eq!(
            p.metadata.finalizers,
            Some(vec![TRACKING_FINALIZER.to_string()])
        );
        assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-"));
    }
}
