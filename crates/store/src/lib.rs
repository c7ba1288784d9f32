//! Revisioned key-value store with etcd v3 semantics: memory and redb backends, watch,
//! compaction, group commit.
//!
//! The store knows nothing of Kubernetes objects: keys are byte strings (the API server uses
//! kube-apiserver's layout, `/registry/<resource>/<namespace>/<name>`) and values are opaque
//! bytes. Semantics follow etcd v3 (`go.etcd.io/etcd/server/v3/storage/mvcc`,
//! `api/etcdserverpb/rpc.proto`):
//!
//! - one global revision; an empty store is at revision 1 and the first write gets revision 2
//!   (upstream `kvstore.go`: `currentRev` starts at 1);
//! - every transaction that writes takes exactly one new revision; each key carries
//!   `create_revision`, `mod_revision` and `version`; deletes leave tombstones in history;
//! - reads at any revision at or above the compacted revision see that snapshot;
//! - watches deliver every change of a key range from a start revision, in revision order.
//!
//! See `docs/STORE.md` for the design, the on-disk layout and benchmark figures.

mod mvcc;
mod redb_backend;
mod retention;
mod store;
mod types;
mod value;
mod watch;

pub use bytes::Bytes;
pub use redb_backend::{Durability, RedbOptions, WriteStats};
pub use retention::TimeRetention;
pub use store::Store;
pub use types::{
    Compare, CompareOp, CompareTarget, DeleteResult, Event, EventKind, KeyValue, Op, OpResponse,
    RangeRequest, RangeResult, StoreError, Txn, TxnResponse, WatchError, prefix_range_end,
};
pub use value::{Provider, StoreValue};
pub use watch::Watcher;
