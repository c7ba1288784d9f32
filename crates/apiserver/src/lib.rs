//! The Kubernetes REST API over the store: request parsing, discovery, OpenAPI, CRUD, watch,
//! patch, Table output.
//!
//! Shape: [`request`] turns HTTP into a typed [`request::RequestInfo`]; [`http`] is the axum
//! glue; [`ApiServer`] holds the verbs as HTTP-agnostic methods over [`storage::Storage`], so
//! in-process components call the same code that kubectl reaches over HTTP. Everything
//! resource-specific comes from the [`registry`] table.

// `ApiError` is a whole `Status` (message, details, causes); it is built once per failed
// request, so its size is not worth boxing away.
#![allow(clippy::result_large_err)]

pub mod admission;
pub mod bootstrap;
pub mod convert;
pub mod defaults;
pub mod discovery;
pub mod error;
pub mod event_ttl;
pub mod heartbeat;
pub mod http;
pub mod list;
pub mod local;
pub mod managed;
pub mod node_index;
pub mod object;
pub mod offload;
pub mod openapi;
pub mod registry;
pub mod request;
pub mod storage;
pub mod subresources;
pub mod trim;
pub mod typed;
pub mod watch;
pub mod write;

use std::sync::Arc;

use kubetwin_core::clock::SharedClock;
use kubetwin_core::rng::SharedRng;

pub use error::ApiError;
pub use http::router;
pub use storage::Storage;

/// Server-wide settings.
#[derive(Debug, Clone)]
pub struct ApiServerConfig {
    /// The Kubernetes minor version `/version` reports (the kubectl dispatcher picks its kubectl by it).
    pub minor: u32,
    /// The address clients reach the server at (legacy discovery's `serverAddressByClientCIDRs`).
    pub server_address: String,
    /// Largest accepted request body; upstream's limit is 3 MiB (`maxRequestBodyBytes`).
    pub max_body_bytes: usize,
    /// How long an Event lives after its last write (`--event-ttl`, [`event_ttl`]).
    pub event_ttl: std::time::Duration,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        Self {
            minor: 32,
            server_address: "127.0.0.1:6443".into(),
            max_body_bytes: 3 * 1024 * 1024,
            event_ttl: event_ttl::EVENT_TTL,
        }
    }
}

/// The API server: verbs over the store, shared by the HTTP layer and in-process callers.
#[derive(Debug)]
pub struct ApiServer {
    /// Storage.
    pub storage: Storage,
    /// The injected clock.
    pub clock: SharedClock,
    /// The injected random source (UIDs, generated names).
    pub rng: SharedRng,
    /// Settings.
    pub config: ApiServerConfig,
    /// Node Lease renewal schedules, materialized on reads ([`heartbeat`]).
    pub heartbeats: Arc<heartbeat::Heartbeats>,
    /// Per namespace, whether it was terminating at the revision noted: every namespaced
    /// create checks its namespace, and decoding the namespace each time cost more than the
    /// check.
    namespace_states: std::sync::Mutex<std::collections::BTreeMap<String, (i64, bool)>>,
    /// The leases Events are written with ([`event_ttl`]).
    pub event_leases: event_ttl::EventLeases,
}

impl ApiServer {
    /// A server over `storage` with the given clock, seed and settings.
    pub fn new(
        storage: Storage,
        clock: SharedClock,
        seed: u64,
        config: ApiServerConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            storage,
            clock,
            rng: SharedRng::new(seed),
            config,
            heartbeats: Arc::default(),
            namespace_states: std::sync::Mutex::default(),
            event_leases: event_ttl::EventLeases::default(),
        })
    }

    /// The current time as Kubernetes serializes `metav1.Time`.
    pub fn now_string(&self) -> String {
        kubetwin_core::clock::format_time(self.clock.now())
    }
}
