//! Shared set-up of the kubelet's integration tests: the epoch, an in-process API server on
//! virtual time, and reading an HTTP watch the way kubectl does.

#![allow(dead_code)]

use std::sync::Arc;

use http_body_util::BodyExt;
use jiff::Timestamp;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_runtime::SimTime;
use kubetwin_store::Store;
use serde_json::Value;
use tower::ServiceExt;

/// The epoch of every test.
pub fn epoch() -> Timestamp {
    Timestamp::from_second(1_735_689_600).expect("epoch")
}

/// A bootstrapped API server over a memory store on `time`, and a client of it ("test").
pub async fn test_client(time: &SimTime, seed: u64) -> LocalClient {
    let server = ApiServer::new(
        Storage::new(Store::memory()),
        Arc::new(time.clone()),
        seed,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    LocalClient::new(server, "test")
}

/// Opens an HTTP watch at `uri` on the server's router (it must answer 200).
pub async fn open_watch(client: &LocalClient, uri: &str) -> axum::body::Body {
    let app = kubetwin_apiserver::router(client.server().clone());
    let request = axum::http::Request::builder()
        .uri(uri)
        .body(axum::body::Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    assert_eq!(response.status(), 200, "{uri}");
    response.into_body()
}

/// The next `count` events of a watch body: each event's type and `stamp` of its object.
pub async fn next_events(
    body: &mut axum::body::Body,
    count: usize,
    stamp: impl Fn(&Value) -> Timestamp,
) -> Vec<(String, Timestamp)> {
    let mut events = Vec::new();
    let mut buffer = Vec::new();
    while events.len() < count {
        let frame = body
            .frame()
            .await
            .expect("a frame")
            .expect("no error")
            .into_data()
            .unwrap_or_default();
        buffer.extend_from_slice(&frame);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let event: Value = serde_json::from_slice(&line).expect("json line");
            events.push((
                event["type"].as_str().unwrap_or("").to_string(),
                stamp(&event["object"]),
            ));
        }
    }
    events
}
