//! Shared helpers of the in-process client tests: a server built the way `kubetwin serve`
//! builds it (in-memory store, manual clock, fixed seed), a kube-rs client over its router
//! (no sockets), and raw requests that return the HTTP status and the JSON body as sent.

use std::sync::Arc;

use http_body_util::BodyExt;
use kube::Client;
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_core::clock::ManualClock;
use kubetwin_store::Store;
use serde_json::Value;

/// A bootstrapped server and a kube-rs client talking to its router in process.
pub struct TestServer {
    /// The server (for store-level actions such as compaction).
    pub server: Arc<ApiServer>,
    /// The client, defaulting to namespace `default`.
    pub client: Client,
}

/// Starts a fresh server over an in-memory store.
pub async fn start() -> TestServer {
    let storage = Storage::new(Store::memory());
    let server = ApiServer::new(
        storage,
        Arc::new(ManualClock::at_default_epoch()),
        42,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    let client = Client::new(kubetwin_apiserver::router(server.clone()), "default");
    TestServer { server, client }
}

/// An HTTP answer: status code and body parsed as JSON (`Null` when it is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status code.
    pub code: u16,
    /// The body as JSON.
    pub body: Value,
    /// The body as text.
    pub text: String,
}

impl TestServer {
    /// Sends one request with `content_type` and `body`; returns what came back, whatever the
    /// status (unlike `Client::request_text`, which folds error statuses into `Error::Api`).
    pub async fn raw(&self, method: &str, uri: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(http::header::ACCEPT, "application/json")
            .body(kube::client::Body::from(body))
            .expect("request");
        let response = self.client.send(request).await.expect("transport");
        let code = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { code, body, text }
    }

    /// `raw` with a JSON body.
    pub async fn raw_json(&self, method: &str, uri: &str, body: &Value) -> Answer {
        self.raw(
            method,
            uri,
            "application/json",
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }

    /// `GET uri`.
    pub async fn get(&self, uri: &str) -> Answer {
        self.raw("GET", uri, "application/json", Vec::new()).await
    }
}

/// Asserts `answer` is a `Status` failure with `code` and `reason`, consistent with the HTTP
/// status; returns the Status body.
#[track_caller]
pub fn assert_status(answer: &Answer, code: u16, reason: &str) -> Value {
    assert_eq!(answer.code, code, "HTTP status; body: {}", answer.text);
    let status = &answer.body;
    assert_eq!(status["kind"], "Status", "{}", answer.text);
    assert_eq!(status["apiVersion"], "v1", "{}", answer.text);
    assert_eq!(status["status"], "Failure", "{}", answer.text);
    assert_eq!(status["code"], code, "{}", answer.text);
    assert_eq!(status["reason"], reason, "{}", answer.text);
    assert!(
        status["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a Status has a message: {}",
        answer.text
    );
    status.clone()
}

/// The `Status` inside a kube-rs API error; panics on any other outcome.
#[track_caller]
pub fn api_error<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error Status, got {other:?}"),
    }
}
