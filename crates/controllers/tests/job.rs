//! In-process tests under virtual time: Jobs run to completion or failure with pod
//! tracking finalizers, and finished Jobs are removed after their TTL.

mod common;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use serde_json::{Value, json};

use common::cluster;

fn job_manifest(name: &str, spec: Value, exit_code: &str) -> Value {
    let mut spec = spec;
    spec["template"] = json!({
        "metadata": {"annotations": {"kubetwin.io/run-duration": "5s", "kubetwin.io/exit-code": exit_code}},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
    });
    json!({"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

fn true_conditions(job: &Job) -> Vec<String> {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.status == "True")
        .map(|c| format!("{}/{}", c.type_, c.reason.unwrap_or_default()))
        .collect()
}

async fn create(client: &LocalClient, manifest: Value) {
    let info = resource_of::<Job>().expect("jobs");
    client
        .create(info, Some("default"), manifest)
        .await
        .expect("job");
}

#[tokio::test(start_paused = true)]
async fn job_completes_then_expires() {
    let (client, time) = cluster(true).await;
    create(
        &client,
        job_manifest(
            "pi",
            json!({"completions": 3, "parallelism": 2, "ttlSecondsAfterFinished": 30}),
            "0",
        ),
    )
    .await;
    time.sleep(Duration::from_secs(3)).await;
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 2, "parallelism 2");
    let labels = pods[0].metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("batch.kubernetes.io/job-name")
            .map(String::as_str),
        Some("pi")
    );
    assert_eq!(
        pods[0].metadata.finalizers.clone().unwrap_or_default(),
        vec!["batch.kubernetes.io/job-tracking".to_string()]
    );
    time.sleep(Duration::from_secs(20)).await;
    let job = client.get_typed::<Job>(Some("default"), "pi").expect("job");
    let status = job.status.clone().unwrap_or_default();
    assert_eq!(
        (status.succeeded, status.failed, status.active),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(
        true_conditions(&job),
        vec![
            "SuccessCriteriaMet/CompletionsReached",
            "Complete/CompletionsReached"
        ]
    );
    assert!(status.completion_time.is_some());
    let pods = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods");
    assert_eq!(pods.len(), 3);
    assert!(
        pods.iter()
            .all(|p| p.metadata.finalizers.clone().unwrap_or_default().is_empty()),
        "tracking finalizers removed"
    );
    // TTL: gone 30 s after completion, with its pods (foreground deletion).
    time.sleep(Duration::from_secs(40)).await;
    assert!(client.get_typed::<Job>(Some("default"), "pi").is_err());
    assert!(
        client
            .list_typed::<Pod>(Some("default"), None)
            .expect("pods")
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn job_fails_after_backoff_limit() {
    let (client, time) = cluster(true).await;
    create(
        &client,
        job_manifest("bad", json!({"completions": 1, "backoffLimit": 1}), "1"),
    )
    .await;
    time.sleep(Duration::from_secs(60)).await;
    let job = client
        .get_typed::<Job>(Some("default"), "bad")
        .expect("job");
    let status = job.status.clone().unwrap_or_default();
    assert_eq!((status.failed, status.active), (Some(2), Some(0)));
    assert_eq!(
        true_conditions(&job),
        vec![
            "FailureTarget/BackoffLimitExceeded",
            "Failed/BackoffLimitExceeded"
        ]
    );
    // The replacement waited out the 10 s pod failure backoff after the first failure
    // (ready after 1 s, failed 5 s later).
    let mut created: Vec<i64> = client
        .list_typed::<Pod>(Some("default"), None)
        .expect("pods")
        .iter()
        .filter_map(|p| {
            p.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
        .collect();
    created.sort();
    assert_eq!(created.len(), 2);
    assert!(created[1] - created[0] >= 16, "{created:?}");
}
