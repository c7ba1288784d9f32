//! In-process tests under virtual time: CronJobs create Jobs on schedule (names
//! `<cronjob>-<unix minutes>`), honour Forbid, record schedule/success times and trim history.

mod common;

use std::time::Duration;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use kubetwin_apiserver::local::{LocalClient, resource_of};
use serde_json::{Value, json};

use common::{cluster, epoch};

fn cron_manifest(policy: &str, run: &str, history: i32) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob",
           "metadata": {"name": "tick", "namespace": "default"},
           "spec": {"schedule": "* * * * *", "concurrencyPolicy": policy,
                    "successfulJobsHistoryLimit": history,
                    "jobTemplate": {"spec": {"template": {
                        "metadata": {"annotations": {"kubetwin.io/run-duration": run}},
                        "spec": {"restartPolicy": "Never",
                                 "containers": [{"name": "c", "image": "busybox"}]}}}}}})
}

fn job_names(client: &LocalClient) -> Vec<String> {
    client
        .list_typed::<Job>(Some("default"), None)
        .expect("jobs")
        .into_iter()
        .filter(|j| j.metadata.deletion_timestamp.is_none())
        .filter_map(|j| j.metadata.name)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn cronjob_schedules_every_minute_and_trims_history() {
    let (client, time) = cluster(true).await;
    let info = resource_of::<CronJob>().expect("cronjobs");
    client
        .create(info, Some("default"), cron_manifest("Allow", "10s", 2))
        .await
        .expect("cronjob");
    time.sleep(Duration::from_secs(65)).await;
    let minute = epoch().as_second() / 60 + 1;
    assert_eq!(job_names(&client), vec![format!("tick-{minute}")]);
    time.sleep(Duration::from_secs(250)).await;
    let names = job_names(&client);
    assert_eq!(
        names,
        vec![
            format!("tick-{}", minute + 3),
            format!("tick-{}", minute + 4)
        ],
        "history limit 2 keeps the newest finished Jobs"
    );
    let cj = client
        .get_typed::<CronJob>(Some("default"), "tick")
        .expect("cronjob");
    let status = cj.status.unwrap_or_default();
    let last = status.last_schedule_time.expect("lastScheduleTime").0;
    assert_eq!(last.as_second(), (minute + 4) * 60);
    assert!(status.last_successful_time.is_some());
    assert!(status.active.unwrap_or_default().is_empty());
}

#[tokio::test(start_paused = true)]
async fn forbid_skips_while_a_job_runs() {
    let (client, time) = cluster(true).await;
    let info = resource_of::<CronJob>().expect("cronjobs");
    client
        .create(info, Some("default"), cron_manifest("Forbid", "150s", 10))
        .await
        .expect("cronjob");
    // 00:01 starts a Job running until ~00:03:31; 00:02 and 00:03 are skipped while it runs.
    // A skip does not advance lastScheduleTime, so when the Job finishes the most recent
    // unmet time (00:03) starts late, as upstream; 00:04 is then skipped again.
    time.sleep(Duration::from_secs(270)).await;
    let minute = epoch().as_second() / 60;
    assert_eq!(
        job_names(&client),
        vec![
            format!("tick-{}", minute + 1),
            format!("tick-{}", minute + 3)
        ]
    );
}
