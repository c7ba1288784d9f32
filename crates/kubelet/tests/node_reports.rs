//! The kubelet's periodic node status report made implicit (`kubetwin_apiserver::heartbeat`):
//! what any reader of the Node sees is what a kubelet writing every report leaves, across the
//! jittered ticks, status changes, stops, cuts and explicit mode; and an HTTP Node watch sees
//! every report as a MODIFIED event.
//!
//! Upstream: `pkg/kubelet/kubelet_node_status.go` (`updateNodeStatus`, `tryUpdateNodeStatus`:
//! patch when the status changed or `nodeStatusReportFrequency` has passed since the last
//! report; its test `TestUpdateNodeStatusWithLease` walks the same steps: first report, no
//! report within the frequency without change, report past the frequency, report on change),
//! `pkg/kubelet/nodestatus/setters.go` (the conditions whose `lastHeartbeatTime` a report
//! refreshes: MemoryPressure, DiskPressure, PIDPressure, Ready).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use kubetwin_apiserver::heartbeat::ObserverGuard;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, ResourceInfo};
use kubetwin_core::clock::Clock;
use kubetwin_kubelet::{Kubelet, KubeletHandle, KubeletKnobs, Pressure};
use kubetwin_runtime::SimTime;
use serde_json::{Value, json};

const KUBELET_CONDITIONS: [&str; 4] = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"];

mod common;
use common::{epoch, next_events, open_watch, test_client};

fn nodes() -> &'static ResourceInfo {
    registry::lookup("", "v1", "nodes").expect("served")
}

struct Env {
    time: SimTime,
    client: LocalClient,
    handle: KubeletHandle,
    _observer: Option<ObserverGuard>,
}

fn node_template() -> Value {
    json!({
        "metadata": {"name": "node-1", "labels": {"topology.kubernetes.io/zone": "z1"}},
        "spec": {"podCIDR": "10.244.7.0/24"},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "addresses": [{"type": "InternalIP", "address": "192.168.1.7"}],
        },
    })
}

/// A kubelet on its own API server on `time`; `explicit` holds a Node observer from the
/// start, so the kubelet writes every report (the reference: a kubelet as upstream's).
async fn start_on(time: SimTime, seed: u64, explicit: bool) -> Env {
    let client = test_client(&time, seed).await;
    let observer = explicit.then(|| client.server().heartbeats.observe_nodes());
    let kubelet = Kubelet::new(
        LocalClient::new(client.server().clone(), "kubelet"),
        time.clone(),
        node_template(),
        KubeletKnobs::default(),
        seed,
    );
    let handle = kubelet.handle();
    tokio::spawn(kubelet.run());
    Env {
        time,
        client,
        handle,
        _observer: observer,
    }
}

async fn start(seed: u64, explicit: bool) -> Env {
    let time = SimTime::new(epoch(), 1.0);
    let env = start_on(time.clone(), seed, explicit).await;
    time.sleep(Duration::from_millis(10)).await;
    env
}

async fn at(env: &Env, seconds: f64) {
    env.time
        .sleep_until(epoch() + SignedDuration::from_secs_f64(seconds))
        .await;
}

/// What a reader sees of the kubelet's conditions: (type, status, heartbeat, transition).
fn conditions_of(node: &Value) -> Vec<(String, String, String, String)> {
    node["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (
                field("type"),
                field("status"),
                field("lastHeartbeatTime"),
                field("lastTransitionTime"),
            )
        })
        .collect()
}

fn heartbeat(node: &Value) -> Timestamp {
    node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .and_then(|c| c["lastHeartbeatTime"].as_str())
        .and_then(|t| t.parse().ok())
        .expect("Ready heartbeat")
}

fn read(env: &Env) -> Value {
    env.client.get(nodes(), None, "node-1").expect("node")
}

/// The Node as stored (no materialization).
fn stored(env: &Env) -> Value {
    env.client
        .server()
        .get(nodes(), None, "node-1")
        .expect("stored node")
}

fn rv(node: &Value) -> i64 {
    node["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Pressure(bool),
    Stop,
    Start,
    Disconnect,
    Reconnect,
    /// Someone else labels the Node (no status change: no write by the kubelet).
    Label,
    /// Someone else sets Ready False (the kubelet reconciles: a write).
    ForeignNotReady,
}

async fn act(env: &Env, action: Action) {
    match action {
        Action::Pressure(on) => env.handle.set_pressure(Pressure {
            memory: on,
            ..Pressure::default()
        }),
        Action::Stop => env.handle.stop(),
        Action::Start => env.handle.start(),
        Action::Disconnect => env.handle.disconnect(),
        Action::Reconnect => env.handle.reconnect(),
        Action::Label => {
            let patch = json!({"metadata": {"labels": {"team": "a"}}});
            env.client
                .merge_patch(nodes(), None, "node-1", "", &patch)
                .await
                .expect("label");
        }
        Action::ForeignNotReady => {
            let mut node = read(env);
            if let Some(conditions) = node["status"]["conditions"].as_array_mut() {
                for c in conditions.iter_mut().filter(|c| c["type"] == "Ready") {
                    c["status"] = json!("False");
                    c["reason"] = json!("Foreign");
                }
            }
            let patch = json!({"status": {"conditions": node["status"]["conditions"]}});
            env.client
                .merge_patch(nodes(), None, "node-1", "status", &patch)
                .await
                .expect("foreign status");
        }
    }
}

/// Actions at virtual seconds.
type Script = Vec<(f64, Action)>;

/// Implicit reports against a kubelet writing every report: at every read instant (every
/// 5 s, off the millisecond grid of the ticks) the implicit kubelet's Node reads the same
/// conditions (heartbeats and transitions) as the reference's stored Node, with far fewer
/// writes. (case, seed, actions at seconds, end at seconds.)
#[tokio::test(start_paused = true)]
async fn implicit_reports_read_as_written_reports() {
    let cases: Vec<(&str, u64, Script, f64)> = vec![
        // TestUpdateNodeStatusWithLease: the first report, none within the frequency without
        // change, one past the frequency; over an hour of jittered ticks.
        ("quiet node, seed 1", 1, vec![], 3_700.0),
        ("quiet node, seed 9", 9, vec![], 3_700.0),
        // ... and a report on change: pressure on and off restart the schedule.
        (
            "pressure changes",
            2,
            vec![
                (700.0, Action::Pressure(true)),
                (1_000.0, Action::Pressure(false)),
            ],
            2_000.0,
        ),
        (
            "stop and start",
            3,
            vec![(650.0, Action::Stop), (710.0, Action::Start)],
            2_000.0,
        ),
        (
            "stopped past the grace period",
            4,
            vec![(950.0, Action::Stop), (1_500.0, Action::Start)],
            2_500.0,
        ),
        (
            "cut off and back",
            5,
            vec![(400.0, Action::Disconnect), (1_100.0, Action::Reconnect)],
            2_000.0,
        ),
        (
            "someone else's label: no write, the schedule runs on",
            6,
            vec![(500.0, Action::Label)],
            1_500.0,
        ),
        (
            "someone else's condition: reconciled by a write",
            7,
            vec![(820.0, Action::ForeignNotReady)],
            1_800.0,
        ),
    ];
    for (name, seed, actions, end) in cases {
        // One clock for both, so that reads happen at the same virtual instant.
        let time = SimTime::new(epoch(), 1.0);
        let implicit = start_on(time.clone(), seed, false).await;
        let reference = start_on(time.clone(), seed, true).await;
        time.sleep(Duration::from_millis(10)).await;
        let first_rv = rv(&stored(&implicit));
        let mut pending = actions.into_iter().peekable();
        let mut reference_writes = 0;
        let mut last_reference_rv = rv(&stored(&reference));
        let mut t = 5.0005;
        while t < end {
            while let Some((when, action)) = pending.next_if(|(when, _)| *when <= t) {
                at(&implicit, when).await;
                act(&implicit, action).await;
                act(&reference, action).await;
            }
            at(&implicit, t).await;
            let want = stored(&reference);
            assert_eq!(
                conditions_of(&read(&reference)),
                conditions_of(&want),
                "{name} at {t}: the reference writes every report"
            );
            assert_eq!(
                conditions_of(&read(&implicit)),
                conditions_of(&want),
                "{name} at {t}"
            );
            if rv(&want) != last_reference_rv {
                reference_writes += 1;
                last_reference_rv = rv(&want);
            }
            t += 5.0;
        }
        let implicit_writes = rv(&stored(&implicit)) - first_rv;
        assert!(
            reference_writes >= 4,
            "{name}: the reference wrote {reference_writes} times"
        );
        assert!(
            implicit_writes < rv(&stored(&reference)) - first_rv,
            "{name}: fewer writes ({implicit_writes})"
        );
        implicit.handle.shutdown();
        reference.handle.shutdown();
    }
}

/// A quiet node: reads show a new heartbeat every report (300 s plus the first tick past it:
/// at most one jittered 10 s tick more), and the stored Node is not written at all.
#[tokio::test(start_paused = true)]
async fn quiet_reports_write_nothing() {
    let env = start(11, false).await;
    at(&env, 1.0).await;
    let first = read(&env);
    let mut seen = vec![heartbeat(&first)];
    let mut t = 1.0;
    while t < 3_500.0 {
        t += 5.0;
        at(&env, t).await;
        let node = read(&env);
        assert_eq!(rv(&node), rv(&first), "no write at {t}");
        if heartbeat(&node) != seen[seen.len() - 1] {
            seen.push(heartbeat(&node));
        }
    }
    assert_eq!(seen.len(), 12, "{seen:?}");
    for pair in seen.windows(2) {
        let gap = pair[1].duration_since(pair[0]).as_secs_f64();
        assert!((300.0..=311.0).contains(&gap), "gap {gap} in {seen:?}");
    }
    for type_ in KUBELET_CONDITIONS {
        let c = read(&env)["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == type_).cloned())
            .unwrap_or_default();
        assert_eq!(
            c["lastHeartbeatTime"].as_str().and_then(|t| t.parse().ok()),
            Some(seen[seen.len() - 1]),
            "{type_}"
        );
    }
}

/// A stop writes the last implicit report: the stored Node is then what a per-report kubelet
/// leaves, and it stays so while the kubelet is stopped.
#[tokio::test(start_paused = true)]
async fn stop_writes_the_last_report() {
    let env = start(12, false).await;
    at(&env, 1_000.0).await;
    let before = read(&env);
    assert!(heartbeat(&before) > heartbeat(&stored(&env)), "implicit");
    env.handle.stop();
    at(&env, 1_001.0).await;
    let after = stored(&env);
    assert_eq!(conditions_of(&after), conditions_of(&before));
    assert_ne!(rv(&after), rv(&before), "written");
    at(&env, 1_030.0).await;
    assert_eq!(conditions_of(&read(&env)), conditions_of(&before));
}

/// What `kubectl get nodes -w` does: an HTTP watch. It gets the Node first (its latest
/// implicit report), then every report as a MODIFIED event (the first one the kubelet's
/// switch to explicit writes, never older than what the list showed); closing it makes the
/// reports implicit again.
#[tokio::test(start_paused = true)]
async fn http_node_watch_sees_reports() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let env = start(13, false).await;
    at(&env, 700.0).await;
    let heartbeats = env.client.server().heartbeats.clone();
    let app = kubetwin_apiserver::router(env.client.server().clone());
    // What `kubectl get node -o yaml` and `kubectl describe node` read: the implicit reports.
    for uri in ["/api/v1/nodes/node-1", "/api/v1/nodes"] {
        let request = axum::http::Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), 200, "{uri}");
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body: Value = serde_json::from_slice(&bytes).expect("json");
        let node = if body["kind"] == "NodeList" {
            body["items"][0].clone()
        } else {
            body
        };
        assert_eq!(conditions_of(&node), conditions_of(&read(&env)), "{uri}");
        assert_eq!(
            rv(&node),
            rv(&stored(&env)),
            "{uri}: the stored resourceVersion"
        );
        assert!(
            heartbeat(&node) > heartbeat(&stored(&env)),
            "{uri}: implicit"
        );
    }
    assert!(!heartbeats.reports_explicit(), "reads do not observe");
    let mut body = open_watch(&env.client, "/api/v1/nodes?watch=true").await;
    assert!(heartbeats.reports_explicit());
    let events = next_events(&mut body, 5, heartbeat).await;
    assert_eq!(events[0].0, "ADDED");
    assert!(
        events[0].1 > epoch() + SignedDuration::from_secs(550),
        "the list shows the implicit reports: {events:?}"
    );
    assert_eq!(events[1].0, "MODIFIED");
    assert_eq!(
        events[1].1, events[0].1,
        "the switch writes the report the list showed"
    );
    for pair in events[1..].windows(2) {
        assert_eq!(pair[1].0, "MODIFIED");
        let gap = pair[1].1.duration_since(pair[0].1).as_secs_f64();
        assert!((300.0..=311.0).contains(&gap), "gap {gap} in {events:?}");
    }
    drop(body);
    assert!(!heartbeats.reports_explicit(), "the watch is closed");
    let written = rv(&stored(&env));
    let now = env.time.now().duration_since(epoch()).as_secs_f64();
    at(&env, now + 1_200.0).await;
    assert_eq!(rv(&stored(&env)), written, "implicit again");
    assert!(heartbeat(&read(&env)) >= events[4].1 + SignedDuration::from_secs(600));
}
