//! The CronJob controller and its cron schedule parser, on `SimTime`.
//!
//! Upstream: `pkg/controller/cronjob/cronjob_controllerv2.go` (`syncCronJob`: prune the active
//! list, skip when suspended, the most recent unmet schedule time, `startingDeadlineSeconds`,
//! concurrencyPolicy Allow/Forbid/Replace, Job creation and requeue 100 ms after the next
//! schedule time, `cleanupFinishedJobs` with the history limits), `pkg/controller/cronjob/utils.go`
//! (`mostRecentScheduleTime`, `getJobFromTemplate2` with name `<cronjob>-<unix minutes>` and the
//! `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation, `nextScheduleTimeDuration`)
//! and `github.com/robfig/cron/v3` `parser.go` / `spec.go` (standard five-field syntax, names,
//! ranges, steps, `?`, descriptors `@yearly`…`@hourly`, `@every`, and the rule that
//! day-of-month and day-of-week are OR-ed unless either is `*`).

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, DateTime, Time as CivilTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::{DeleteOptions, Propagation};
use kubetwin_core::clock::Clock;
use kubetwin_runtime::informer::{Event, meta_key};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};

use crate::job::is_finished;
use crate::util::{EventRecorder, SyncError, controller_of, new_controller_ref, update_typed};

/// `batch.CronJobScheduledTimestampAnnotation`.
pub const ANNOTATION_SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Extra delay after the next schedule time before syncing again (`nextScheduleDelta`).
pub const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);

/// A parse error of a cron schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(pub String);

/// A parsed schedule: bit sets per field, or a fixed interval (`@every`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Five fields (`SpecSchedule`); bit 63 marks a `*` field.
    Spec {
        /// Minutes 0–59.
        minute: u64,
        /// Hours 0–23.
        hour: u64,
        /// Days of month 1–31.
        dom: u64,
        /// Months 1–12.
        month: u64,
        /// Days of week 0–6 (Sunday 0).
        dow: u64,
    },
    /// `@every <duration>` (`ConstantDelaySchedule`, rounded to whole seconds, ≥ 1 s).
    Every(Duration),
}

const STAR: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

fn parse_value(s: &str, b: &Bounds) -> Result<u32, CronError> {
    let lower = s.to_ascii_lowercase();
    if let Some((_, v)) = b.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    s.parse::<u32>()
        .map_err(|_| CronError(format!("failed to parse int from {s}")))
}

/// `getRange`: `*`/`?`, `a`, `a-b`, each with an optional `/step`.
fn parse_range(expr: &str, b: &Bounds) -> Result<u64, CronError> {
    let mut parts = expr.splitn(3, '/');
    let range = parts.next().unwrap_or("");
    let step_text = parts.next();
    if parts.next().is_some() {
        return Err(CronError(format!("too many slashes: {expr}")));
    }
    let (start, mut end, mut extra, single) = if range == "*" || range == "?" {
        (b.min, b.max, STAR, false)
    } else {
        let mut bounds = range.splitn(3, '-');
        let lo = parse_value(bounds.next().unwrap_or(""), b)?;
        match (bounds.next(), bounds.next()) {
            (None, _) => (lo, lo, 0, true),
            (Some(hi), None) => (lo, parse_value(hi, b)?, 0, false),
            (Some(_), Some(_)) => return Err(CronError(format!("too many hyphens: {expr}"))),
        }
    };
    let step = match step_text {
        None => 1,
        Some(t) => {
            let step = t
                .parse::<u32>()
                .map_err(|_| CronError(format!("failed to parse int from {t}")))?;
            if single {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
    };
    if start < b.min {
        return Err(CronError(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        )));
    }
    if end > b.max {
        return Err(CronError(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        )));
    }
    if start > end {
        return Err(CronError(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        )));
    }
    if step == 0 {
        return Err(CronError(format!(
            "step of range should be a positive number: {expr}"
        )));
    }
    let mut bits = 0u64;
    let mut v = start;
    while v <= end {
        bits |= 1 << v;
        v += step;
    }
    Ok(bits | extra)
}

fn parse_field(field: &str, b: &Bounds) -> Result<u64, CronError> {
    field
        .split(',')
        .try_fold(0u64, |acc, part| Ok(acc | parse_range(part, b)?))
}

fn parse_go_duration(s: &str) -> Option<Duration> {
    // A subset of Go's time.ParseDuration: sequences of <number><unit> with h, m, s, ms.
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total += number * unit;
    }
    (total.is_finite() && total < 1e12).then(|| Duration::from_secs_f64(total))
}

/// `cron.ParseStandard`.
pub fn parse_schedule(spec: &str) -> Result<Schedule, CronError> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(CronError("empty spec string".into()));
    }
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        // Upstream validation rejects time zones inside the schedule (use `spec.timeZone`).
        return Err(CronError(
            "CRON_TZ or TZ used in schedule is not supported".into(),
        ));
    }
    if let Some(descriptor) = spec.strip_prefix('@') {
        let fields = match descriptor {
            "yearly" | "annually" => "0 0 1 1 *",
            "monthly" => "0 0 1 * *",
            "weekly" => "0 0 * * 0",
            "daily" | "midnight" => "0 0 * * *",
            "hourly" => "0 * * * *",
            _ => {
                if let Some(d) = descriptor.strip_prefix("every ") {
                    let duration = parse_go_duration(d.trim())
                        .ok_or_else(|| CronError(format!("failed to parse duration {spec}")))?;
                    let secs = duration.as_secs().max(1);
                    return Ok(Schedule::Every(Duration::from_secs(secs)));
                }
                return Err(CronError(format!("unrecognized descriptor: {spec}")));
            }
        };
        return parse_schedule(fields);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(CronError(format!(
            "expected exactly 5 fields, found {}: {spec}",
            fields.len()
        )));
    }
    Ok(Schedule::Spec {
        minute: parse_field(fields[0], &MINUTES)?,
        hour: parse_field(fields[1], &HOURS)?,
        dom: parse_field(fields[2], &DOM)?,
        month: parse_field(fields[3], &MONTHS)?,
        dow: parse_field(fields[4], &DOW)?,
    })
}

fn has(bits: u64, v: i8) -> bool {
    v >= 0 && bits & (1 << v) != 0
}

/// `dayMatches`: OR of day-of-month and day-of-week unless either is `*`.
fn day_matches(dom: u64, dow: u64, date: Date) -> bool {
    let dom_match = has(dom, date.day());
    let dow_match = has(dow, date.weekday().to_sunday_zero_offset());
    if dom & STAR != 0 || dow & STAR != 0 {
        dom_match && dow_match
    } else {
        dom_match || dow_match
    }
}

impl Schedule {
    /// The first activation strictly after `after`, in `tz` (`SpecSchedule.Next`); `None`
    /// when nothing matches within five years.
    pub fn next(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        match self {
            Schedule::Every(d) => {
                // Upstream: the next whole second after `after` + d.
                let secs = after.as_second() + i64::try_from(d.as_secs()).ok()?;
                Timestamp::from_second(secs).ok()
            }
            Schedule::Spec {
                minute,
                hour,
                dom,
                month,
                dow,
            } => {
                let start = after.to_zoned(tz.clone()).datetime();
                let start_minute = start
                    .with()
                    .second(0)
                    .subsec_nanosecond(0)
                    .build()
                    .ok()?
                    .checked_add(1.minute())
                    .ok()?;
                let mut date = start_minute.date();
                for _ in 0..(366 * 5) {
                    if has(*month, date.month()) && day_matches(*dom, *dow, date) {
                        for h in 0..24i8 {
                            if !has(*hour, h) {
                                continue;
                            }
                            for m in 0..60i8 {
                                if !has(*minute, m) {
                                    continue;
                                }
                                let dt =
                                    DateTime::from_parts(date, CivilTime::new(h, m, 0, 0).ok()?);
                                if dt < start_minute {
                                    continue;
                                }
                                let ts = tz.to_ambiguous_zoned(dt).compatible().ok()?.timestamp();
                                if ts > after {
                                    return Some(ts);
                                }
                            }
                        }
                    }
                    date = date.tomorrow().ok()?;
                }
                None
            }
        }
    }
}

/// The result of `mostRecentScheduleTime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MostRecent {
    /// The latest schedule time not yet started (≤ now), if any.
    pub time: Option<Timestamp>,
    /// How many schedule times were missed (more than 100 raises `TooManyMissedTimes`).
    pub missed: u64,
}

/// `mostRecentScheduleTime`: from the last schedule time (or creation), bounded by
/// `startingDeadlineSeconds`, the latest unmet schedule time up to `now`.
pub fn most_recent_schedule_time(
    cj: &CronJob,
    now: Timestamp,
    schedule: &Schedule,
    tz: &TimeZone,
    include_deadline: bool,
) -> MostRecent {
    let created = cj
        .metadata
        .creation_timestamp
        .as_ref()
        .map_or(Timestamp::UNIX_EPOCH, |t| t.0);
    let mut earliest = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .map_or(created, |t| t.0);
    if include_deadline
        && let Some(sds) = cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds)
        && let Ok(deadline) = now.checked_sub(jiff::SignedDuration::from_secs(sds))
        && deadline > earliest
    {
        earliest = deadline;
    }
    let none = MostRecent {
        time: None,
        missed: 0,
    };
    if earliest > now {
        return none;
    }
    let Some(t1) = schedule.next(earliest, tz) else {
        return none;
    };
    if now < t1 {
        return none;
    }
    let mut latest = t1;
    let mut missed = 1u64;
    // Walk the schedule up to now (upstream computes the count arithmetically for fixed
    // intervals; walking gives the same answer for every schedule).
    while let Some(t) = schedule.next(latest, tz) {
        if t > now {
            break;
        }
        latest = t;
        missed += 1;
        if missed > 100_000 {
            break;
        }
    }
    MostRecent {
        time: Some(latest),
        missed,
    }
}

/// `getJobName`: `<cronjob>-<scheduled unix time in minutes>`.
pub fn job_name(cj: &CronJob, scheduled: Timestamp) -> String {
    format!(
        "{}-{}",
        cj.metadata.name.as_deref().unwrap_or(""),
        scheduled.as_second().div_euclid(60)
    )
}

/// `getJobFromTemplate2`.
pub fn job_from_template(cj: &CronJob, scheduled: Timestamp, tz: &TimeZone) -> Job {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(
        ANNOTATION_SCHEDULED_TIMESTAMP.into(),
        scheduled
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
            .replace("+00:00", "Z"),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(cj, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![new_controller_ref(
                &cj.metadata,
                "batch/v1",
                "CronJob",
            )]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    }
}

fn time_zone(cj: &CronJob) -> Result<TimeZone, String> {
    match cj.spec.as_ref().and_then(|s| s.time_zone.as_deref()) {
        None => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name).map_err(|_| name.to_string()),
    }
}

fn job_reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// The CronJob controller.
#[derive(Debug, Clone)]
pub struct CronJobController {
    client: LocalClient,
    time: SimTime,
    cron_jobs: Informer<CronJob>,
    jobs: Informer<Job>,
    queue: WorkQueue<String>,
    recorder: EventRecorder,
}

impl CronJobController {
    /// A controller over shared informers.
    pub fn new(
        client: LocalClient,
        time: SimTime,
        cron_jobs: Informer<CronJob>,
        jobs: Informer<Job>,
    ) -> Self {
        let this = Self {
            recorder: EventRecorder::new(client.clone(), "cronjob-controller", time.clone()),
            client,
            time: time.clone(),
            cron_jobs,
            jobs,
            queue: WorkQueue::new(time),
        };
        let queue = this.queue.clone();
        this.cron_jobs
            .add_handler(Arc::new(move |e: &Event<CronJob>| {
                if let Event::Added(c) | Event::Updated { new: c, .. } = e {
                    queue.add(meta_key(&c.metadata));
                }
            }));
        let queue = this.queue.clone();
        this.jobs.add_handler(Arc::new(move |e: &Event<Job>| {
            let j = match e {
                Event::Added(j) | Event::Deleted(j) | Event::Updated { new: j, .. } => j,
            };
            if let Some(owner) = controller_of(&j.metadata)
                && owner.kind == "CronJob"
            {
                queue.add(kubetwin_runtime::informer::key_of(
                    j.metadata.namespace.as_deref(),
                    &owner.name,
                ));
            }
        }));
        this
    }

    /// Runs one worker until the queue shuts down.
    pub async fn run(self) {
        while let Some(key) = self.queue.get().await {
            match self.sync(&key).await {
                Ok(requeue) => {
                    self.queue.forget(&key);
                    if let Some(after) = requeue {
                        self.queue.add_after(key.clone(), after);
                    }
                }
                Err(e) => {
                    tracing::debug!(%key, error = %e, "cronjob sync failed; requeue");
                    self.queue.add_rate_limited(key.clone());
                }
            }
            self.queue.done(&key);
        }
    }

    async fn event(&self, cj: &CronJob, kind: &str, reason: &str, message: &str) {
        self.recorder
            .event("batch/v1", "CronJob", &cj.metadata, kind, reason, message)
            .await;
    }

    fn owned_jobs(&self, cj: &CronJob) -> Vec<Arc<Job>> {
        let ns = cj.metadata.namespace.as_deref().unwrap_or("");
        let uid = cj.metadata.uid.as_deref().unwrap_or("");
        self.jobs
            .list_namespace(ns)
            .into_iter()
            .filter(|j| controller_of(&j.metadata).is_some_and(|r| r.uid == uid))
            .collect()
    }

    async fn delete_job(&self, cj: &CronJob, job: &Job) -> Result<(), SyncError> {
        let info = resource_of::<Job>()?;
        let options = DeleteOptions {
            propagation: Some(Propagation::Background),
            ..DeleteOptions::default()
        };
        let name = job.metadata.name.clone().unwrap_or_default();
        match self
            .client
            .delete(info, job.metadata.namespace.as_deref(), &name, &options)
            .await
        {
            Ok(_) => {
                self.event(
                    cj,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted job {name}"),
                )
                .await;
                Ok(())
            }
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// `sync` + `syncCronJob` + `cleanupFinishedJobs`; returns when to look again.
    pub async fn sync(&self, key: &str) -> Result<Option<Duration>, SyncError> {
        let Some(cj) = self.cron_jobs.get(key) else {
            return Ok(None);
        };
        let mut cj = cj.as_ref().clone();
        let jobs = self.owned_jobs(&cj);
        let now = self.time.now();
        let mut status = cj.status.clone().unwrap_or_default();
        let before = status.clone();
        // Prune the active list: gone or finished Jobs leave it.
        let mut active = status.active.clone().unwrap_or_default();
        let mut still = Vec::new();
        for r in active.drain(..) {
            // A Job that is gone simply leaves the list.
            if let Some(j) = jobs.iter().find(|j| j.metadata.uid == r.uid) {
                match is_finished(j) {
                    Some(c) => {
                        let name = j.metadata.name.clone().unwrap_or_default();
                        self.event(
                            &cj,
                            "Normal",
                            "SawCompletedJob",
                            &format!("Saw completed job: {name}, condition: {}", c.type_),
                        )
                        .await;
                        if c.type_ == "Complete"
                            && let Some(done) =
                                j.status.as_ref().and_then(|s| s.completion_time.clone())
                            && status
                                .last_successful_time
                                .as_ref()
                                .is_none_or(|t| t.0 < done.0)
                        {
                            status.last_successful_time = Some(done);
                        }
                    }
                    None => still.push(r),
                }
            }
        }
        // Unfinished owned Jobs missing from the list are added back (`jobControl` orphans).
        for j in &jobs {
            if is_finished(j).is_none() && !still.iter().any(|r| r.uid == j.metadata.uid) {
                still.push(job_reference(j));
            }
        }
        status.active = (!still.is_empty()).then_some(still);
        let mut requeue = None;
        if cj.metadata.deletion_timestamp.is_none() {
            requeue = self.schedule(&mut cj, &mut status, now).await?;
        }
        if status != before {
            cj.status = Some(status);
            cj = update_typed(&self.client, &cj, "status").await?;
        }
        self.cleanup_finished(&cj).await?;
        Ok(requeue)
    }

    async fn schedule(
        &self,
        cj: &mut CronJob,
        status: &mut k8s_openapi::api::batch::v1::CronJobStatus,
        now: Timestamp,
    ) -> Result<Option<Duration>, SyncError> {
        let spec = cj.spec.clone().unwrap_or_default();
        let tz = match time_zone(cj) {
            Ok(tz) => tz,
            Err(name) => {
                self.event(
                    cj,
                    "Warning",
                    "UnknownTimeZone",
                    &format!("invalid timeZone: {name:?}"),
                )
                .await;
                return Ok(None);
            }
        };
        if spec.suspend.unwrap_or(false) {
            return Ok(None);
        }
        let schedule = match parse_schedule(&spec.schedule) {
            Ok(s) => s,
            Err(e) => {
                self.event(
                    cj,
                    "Warning",
                    "UnparseableSchedule",
                    &format!("unparseable schedule: {:?} : {e}", spec.schedule),
                )
                .await;
                return Ok(None);
            }
        };
        let mut probe = cj.clone();
        probe.status = Some(status.clone());
        let recent = most_recent_schedule_time(&probe, now, &schedule, &tz, true);
        if recent.missed > 100 {
            self.event(cj, "Warning", "TooManyMissedTimes", &format!("too many missed start times: {}. Set or decrease .spec.startingDeadlineSeconds or check clock skew", recent.missed))
                .await;
        }
        let next_wait = |from: Timestamp| -> Option<Duration> {
            let next = schedule.next(from, &tz)?;
            let wait = Duration::try_from(next.duration_since(now)).unwrap_or_default();
            Some(wait + NEXT_SCHEDULE_DELTA)
        };
        let Some(scheduled) = recent.time else {
            return Ok(next_wait(now));
        };
        if let Some(sds) = spec.starting_deadline_seconds
            && scheduled + jiff::SignedDuration::from_secs(sds) < now
        {
            let text = scheduled
                .strftime("%a, %d %b %Y %H:%M:%S +0000")
                .to_string();
            self.event(
                cj,
                "Warning",
                "MissSchedule",
                &format!("Missed scheduled time to start a job: {text}"),
            )
            .await;
            return Ok(next_wait(now));
        }
        let name = job_name(cj, scheduled);
        let active = status.active.clone().unwrap_or_default();
        if active
            .iter()
            .any(|r| r.name.as_deref() == Some(name.as_str()))
            || self
                .jobs
                .get_named(cj.metadata.namespace.as_deref(), &name)
                .is_some()
        {
            return Ok(next_wait(now));
        }
        match spec.concurrency_policy.as_deref() {
            Some("Forbid") if !active.is_empty() => {
                self.event(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
                    .await;
                return Ok(next_wait(now));
            }
            Some("Replace") => {
                for r in &active {
                    let Some(job) = self
                        .jobs
                        .get_named(r.namespace.as_deref(), r.name.as_deref().unwrap_or(""))
                    else {
                        continue;
                    };
                    self.delete_job(cj, &job).await?;
                }
                status.active = None;
            }
            _ => {}
        }
        let job = job_from_template(cj, scheduled, &tz);
        match self.client.create_typed(&job).await {
            Ok(created) => {
                self.event(
                    cj,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("Created job {name}"),
                )
                .await;
                status
                    .active
                    .get_or_insert_with(Vec::new)
                    .push(job_reference(&created));
            }
            Err(e) if e.code == 409 => {}
            Err(e) => {
                self.event(
                    cj,
                    "Warning",
                    "FailedCreate",
                    &format!("Error creating job: {e}"),
                )
                .await;
                return Err(e.into());
            }
        }
        status.last_schedule_time = Some(Time(scheduled));
        Ok(next_wait(now))
    }

    /// `cleanupFinishedJobs`: keep the newest successful (default 3) and failed (default 1).
    async fn cleanup_finished(&self, cj: &CronJob) -> Result<(), SyncError> {
        let spec = cj.spec.clone().unwrap_or_default();
        let jobs = self.owned_jobs(cj);
        for (kind, limit) in [
            ("Complete", spec.successful_jobs_history_limit.unwrap_or(3)),
            ("Failed", spec.failed_jobs_history_limit.unwrap_or(1)),
        ] {
            let mut finished: Vec<&Arc<Job>> = jobs
                .iter()
                .filter(|j| is_finished(j).is_some_and(|c| c.type_ == kind))
                .collect();
            let limit = usize::try_from(limit.max(0)).unwrap_or(0);
            if finished.len() <= limit {
                continue;
            }
            // Oldest first by start time (then name), as `byJobStartTime`.
            finished.sort_by_key(|j| {
                (
                    j.status
                        .as_ref()
                        .and_then(|s| s.start_time.clone())
                        .map(|t| t.0),
                    j.metadata.name.clone(),
                )
            });
            let excess = finished.len() - limit;
            for job in finished.into_iter().take(excess) {
                self.delete_job(cj, job).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{CronJobSpec, CronJobStatus};
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Upstream: robfig/cron `parser_test.go` `TestParseScheduleErrors`, `TestStandardSpecSchedule`
    /// and `spec_test.go` `TestNext` / `TestActivation` (UTC).
    #[test]
    fn next_activation_cases() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "*/15 * * * *",
                "2012-07-09T14:45:00Z",
                "2012-07-09T15:00:00Z",
            ),
            (
                "*/15 * * * *",
                "2012-07-09T14:59:59Z",
                "2012-07-09T15:00:00Z",
            ),
            (
                "*/15 * * * *",
                "2012-07-09T23:46:00Z",
                "2012-07-10T00:00:00Z",
            ),
            (
                "0 */2 * * *",
                "2012-07-09T22:30:00Z",
                "2012-07-10T00:00:00Z",
            ),
            (
                "0 0 9 Jul *",
                "2012-07-09T23:35:00Z",
                "2013-07-09T00:00:00Z",
            ),
            (
                "0 0 29 Feb *",
                "2012-03-01T00:00:00Z",
                "2016-02-29T00:00:00Z",
            ),
            (
                "0 0 * * MON",
                "2012-07-09T12:00:00Z",
                "2012-07-16T00:00:00Z",
            ),
            (
                "0 0 1 * MON",
                "2012-07-09T12:00:00Z",
                "2012-07-16T00:00:00Z",
            ),
            (
                "0 0 */10 * SUN",
                "2012-07-09T12:00:00Z",
                "2012-07-11T00:00:00Z",
            ),
            ("0 0 1 * *", "2012-12-31T23:59:00Z", "2013-01-01T00:00:00Z"),
            ("@hourly", "2012-07-09T14:45:00Z", "2012-07-09T15:00:00Z"),
            ("@daily", "2012-07-09T14:45:00Z", "2012-07-10T00:00:00Z"),
            ("@weekly", "2012-07-09T14:45:00Z", "2012-07-15T00:00:00Z"),
            ("@monthly", "2012-07-09T14:45:00Z", "2012-08-01T00:00:00Z"),
            ("@yearly", "2012-07-09T14:45:00Z", "2013-01-01T00:00:00Z"),
            ("@every 90m", "2012-07-09T14:45:00Z", "2012-07-09T16:15:00Z"),
            (
                "5 4 * * sun-sat/2",
                "2012-07-09T14:45:00Z",
                "2012-07-10T04:05:00Z",
            ),
        ];
        for (spec, from, want) in cases {
            let schedule = parse_schedule(spec).unwrap_or(Schedule::Every(Duration::ZERO));
            assert_eq!(
                schedule.next(ts(from), &TimeZone::UTC),
                Some(ts(want)),
                "{spec} after {from}"
            );
        }
        let errors = [
            "",
            "* * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 7",
            "5-1 * * * *",
            "*/0 * * * *",
            "@unknown",
            "TZ=UTC * * * * *",
            "a * * * *",
            "1-2-3 * * * *",
        ];
        for spec in errors {
            assert!(parse_schedule(spec).is_err(), "{spec:?} must fail");
        }
    }

    /// Time zones: 09:00 in Europe/Berlin is 08:00 UTC in winter.
    #[test]
    fn time_zone_schedule() {
        let Ok(berlin) = TimeZone::get("Europe/Berlin") else {
            return; // no tz database on this host
        };
        let s = parse_schedule("0 9 * * *").unwrap_or(Schedule::Every(Duration::ZERO));
        assert_eq!(
            s.next(ts("2025-01-10T10:00:00Z"), &berlin),
            Some(ts("2025-01-11T08:00:00Z"))
        );
    }

    fn cron(schedule: &str, created: &str, last: Option<&str>, sds: Option<i64>) -> CronJob {
        CronJob {
            metadata: ObjectMeta {
                name: Some("cj".into()),
                creation_timestamp: Some(Time(ts(created))),
                ..ObjectMeta::default()
            },
            spec: Some(CronJobSpec {
                schedule: schedule.into(),
                starting_deadline_seconds: sds,
                ..CronJobSpec::default()
            }),
            status: Some(CronJobStatus {
                last_schedule_time: last.map(|l| Time(ts(l))),
                ..CronJobStatus::default()
            }),
        }
    }

    /// Upstream: `utils_test.go` `TestMostRecentScheduleTime` (cases "now before next
    /// schedule", "now just after next schedule", "missed 5 schedules", "with
    /// startingDeadlineSeconds", "rogue cronjob" style many misses).
    #[test]
    fn most_recent_cases() {
        let cases: Vec<(
            &str,
            &str,
            &str,
            Option<&str>,
            Option<i64>,
            &str,
            Option<&str>,
            u64,
        )> = vec![
            (
                "now before next schedule",
                "0 * * * *",
                "2016-05-19T10:00:00Z",
                None,
                None,
                "2016-05-19T10:30:00Z",
                None,
                0,
            ),
            (
                "now just after next schedule",
                "0 * * * *",
                "2016-05-19T10:00:00Z",
                None,
                None,
                "2016-05-19T11:00:01Z",
                Some("2016-05-19T11:00:00Z"),
                1,
            ),
            (
                "missed 5 schedules",
                "0 * * * *",
                "2016-05-19T10:00:00Z",
                Some("2016-05-19T10:00:00Z"),
                None,
                "2016-05-19T15:00:05Z",
                Some("2016-05-19T15:00:00Z"),
                5,
            ),
            (
                "startingDeadlineSeconds bounds the search",
                "0 * * * *",
                "2016-05-19T10:00:00Z",
                Some("2016-05-19T10:00:00Z"),
                Some(1800),
                "2016-05-19T15:10:00Z",
                Some("2016-05-19T15:00:00Z"),
                1,
            ),
            (
                "deadline passed: nothing",
                "0 * * * *",
                "2016-05-19T10:00:00Z",
                Some("2016-05-19T10:00:00Z"),
                Some(300),
                "2016-05-19T15:10:00Z",
                None,
                0,
            ),
            (
                "many missed",
                "* * * * *",
                "2016-05-19T10:00:00Z",
                None,
                None,
                "2016-05-19T12:00:30Z",
                Some("2016-05-19T12:00:00Z"),
                120,
            ),
        ];
        for (name, schedule, created, last, sds, now, want, missed) in cases {
            let cj = cron(schedule, created, last, sds);
            let s = parse_schedule(schedule).unwrap_or(Schedule::Every(Duration::ZERO));
            let got = most_recent_schedule_time(&cj, ts(now), &s, &TimeZone::UTC, true);
            assert_eq!((got.time, got.missed), (want.map(ts), missed), "{name}");
        }
    }

    /// Upstream: `utils_test.go` `TestGetJobFromTemplate2` (name, owner, scheduled annotation).
    #[test]
    fn job_from_template_case() {
        let mut cj = cron("* * * * *", "2016-05-19T10:00:00Z", None, None);
        cj.metadata.uid = Some("cj-uid".into());
        let job = job_from_template(&cj, ts("2016-05-19T10:05:00Z"), &TimeZone::UTC);
        assert_eq!(job.metadata.name.as_deref(), Some("cj-24394205"));
        let annotations = job.metadata.annotations.unwrap_or_default();
        assert_eq!(
            annotations
                .get(ANNOTATION_SCHEDULED_TIMESTAMP)
                .map(String::as_str),
            Some("2016-05-19T10:05:00Z")
        );
        let owner = &job.metadata.owner_references.unwrap_or_default()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
            ("CronJob", "cj-uid", Some(true))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Bad schedules never panic; good ones yield a next time after the start.
        #[test]
        fn parse_never_panics(spec in "[0-9a-zA-Z@*?/,\\- ]{0,30}") {
            if let Ok(s) = parse_schedule(&spec) {
                let from = ts("2020-01-01T00:00:00Z");
                if let Some(next) = s.next(from, &TimeZone::UTC) {
                    prop_assert!(next > from);
                }
            }
        }
    }
}
