//! The store's request, response, event and error types (etcd v3 shaped, Rust named).
//!
//! Upstream: `api/etcdserverpb/rpc.proto` (RangeRequest, Compare, RequestOp, TxnResponse) and
//! `api/mvccpb/kv.proto` (KeyValue, Event) in go.etcd.io/etcd.

use bytes::Bytes;

use crate::value::StoreValue;

/// One key at one revision, as etcd's `mvccpb.KeyValue` (without leases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key (for the API server: `/registry/<resource>/<namespace>/<name>`).
    pub key: Bytes,
    /// The value bytes (opaque to the store). Empty in a delete event's `kv`.
    pub value: StoreValue,
    /// Revision of the put that created the key in its current life (0 in a delete event).
    pub create_revision: i64,
    /// Revision of the last write of the key (for a delete event: the delete's revision).
    pub mod_revision: i64,
    /// Number of puts since the key was (re)created: 1 after creation (0 in a delete event).
    pub version: i64,
}

impl KeyValue {
    /// The key as UTF-8, if it is.
    pub fn key_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.key).ok()
    }
}

/// The smallest key greater than every key starting with `prefix`: the `range_end` that turns a
/// range into a prefix scan. An empty prefix or a prefix of only `0xff` bytes gives `[0]`
/// ("to the end of the keyspace").
///
/// Upstream: `client/v3/op.go` (`getPrefix`).
pub fn prefix_range_end(prefix: &[u8]) -> Bytes {
    let mut end = prefix.to_vec();
    while let Some(last) = end.last_mut() {
        if *last < 0xff {
            *last += 1;
            return Bytes::from(end);
        }
        end.pop();
    }
    Bytes::from_static(&[0])
}

/// A read of a single key or a key range, optionally at a past revision.
///
/// `range_end` follows etcd: empty means the single key `key`; `[0]` means every key `>= key`;
/// otherwise the half-open range `[key, range_end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeRequest {
    /// First key of the range (or the single key).
    pub key: Bytes,
    /// End of the range, exclusive (see the type's doc).
    pub range_end: Bytes,
    /// Maximum number of keys returned; 0 means no limit.
    pub limit: usize,
    /// Revision to read at; 0 (or negative) means the current revision.
    pub revision: i64,
}

impl RangeRequest {
    /// A read of exactly one key.
    pub fn key(key: impl AsRef<[u8]>) -> Self {
        Self {
            key: Bytes::copy_from_slice(key.as_ref()),
            ..Self::default()
        }
    }

    /// A read of every key starting with `prefix`.
    pub fn prefix(prefix: impl AsRef<[u8]>) -> Self {
        let prefix = prefix.as_ref();
        Self {
            key: Bytes::copy_from_slice(prefix),
            range_end: prefix_range_end(prefix),
            ..Self::default()
        }
    }

    /// A read of the half-open key range `[start, end)`.
    pub fn range(start: impl AsRef<[u8]>, end: impl AsRef<[u8]>) -> Self {
        Self {
            key: Bytes::copy_from_slice(start.as_ref()),
            range_end: Bytes::copy_from_slice(end.as_ref()),
            ..Self::default()
        }
    }

    /// Replaces the first key, keeping the end: how a `continue` token resumes a prefix scan
    /// (start at the last returned key followed by a `0` byte).
    pub fn starting_at(mut self, key: impl AsRef<[u8]>) -> Self {
        self.key = Bytes::copy_from_slice(key.as_ref());
        self
    }

    /// Sets the maximum number of keys returned (0 = no limit).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Reads at `revision` instead of the current revision.
    pub fn at_revision(mut self, revision: i64) -> Self {
        self.revision = revision;
        self
    }
}

/// The answer to a [`RangeRequest`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeResult {
    /// Live keys of the range at the read revision, sorted by key, at most `limit` of them.
    pub kvs: Vec<KeyValue>,
    /// True when the range holds more keys than were returned (`count > kvs.len()`).
    pub more: bool,
    /// Number of live keys in the whole range at the read revision (ignores `limit`).
    pub count: i64,
    /// The store's current revision when the read happened (etcd's `header.revision`), NOT the
    /// requested past revision: a caller paginating at a fixed revision keeps its own.
    pub revision: i64,
}

/// What a [`Compare`] looks at, with the operand to compare against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompareTarget {
    /// The key's `mod_revision` (0 if the key does not exist).
    ModRevision(i64),
    /// The key's `create_revision` (0 if the key does not exist).
    CreateRevision(i64),
    /// The key's `version` (0 if the key does not exist).
    Version(i64),
    /// The key's value. Upstream: a value compare on a missing key always fails.
    Value(Bytes),
    /// Whether the key exists (`false < true` for the ordering operators). Not an etcd target:
    /// sugar for `Version` against 0.
    Exists(bool),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `stored == operand`
    Equal,
    /// `stored != operand`
    NotEqual,
    /// `stored < operand`
    Less,
    /// `stored > operand`
    Greater,
}

/// One guard of a [`Txn`]: compares the current state of `key` with an operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compare {
    /// The key compared.
    pub key: Bytes,
    /// What is compared, and the operand.
    pub target: CompareTarget,
    /// How it is compared (stored value on the left).
    pub op: CompareOp,
}

impl Compare {
    /// A compare of `key` by `target` and `op`.
    pub fn new(key: impl AsRef<[u8]>, target: CompareTarget, op: CompareOp) -> Self {
        Self {
            key: Bytes::copy_from_slice(key.as_ref()),
            target,
            op,
        }
    }

    /// `mod_revision(key) == revision`: kube-apiserver's optimistic-concurrency guard.
    pub fn mod_revision_is(key: impl AsRef<[u8]>, revision: i64) -> Self {
        Self::new(key, CompareTarget::ModRevision(revision), CompareOp::Equal)
    }

    /// The key exists (`exists == true`) or does not (`exists == false`).
    pub fn exists(key: impl AsRef<[u8]>, exists: bool) -> Self {
        Self::new(key, CompareTarget::Exists(exists), CompareOp::Equal)
    }
}

/// One operation of a [`Txn`] branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Sets `key` to `value` (creating it if absent).
    Put {
        /// The key written.
        key: Bytes,
        /// The new value.
        value: StoreValue,
    },
    /// Deletes `key` if it exists (a no-op otherwise).
    Delete {
        /// The key deleted.
        key: Bytes,
    },
    /// Reads `key`, seeing the writes of earlier operations of the same transaction.
    Get {
        /// The key read.
        key: Bytes,
    },
}

impl Op {
    /// A put of `value` at `key`.
    pub fn put(key: impl AsRef<[u8]>, value: impl Into<StoreValue>) -> Self {
        Op::Put {
            key: Bytes::copy_from_slice(key.as_ref()),
            value: value.into(),
        }
    }

    /// A delete of `key`.
    pub fn delete(key: impl AsRef<[u8]>) -> Self {
        Op::Delete {
            key: Bytes::copy_from_slice(key.as_ref()),
        }
    }

    /// A read of `key`.
    pub fn get(key: impl AsRef<[u8]>) -> Self {
        Op::Get {
            key: Bytes::copy_from_slice(key.as_ref()),
        }
    }
}

/// An atomic transaction: if every compare holds, run `success`, else run `failure`.
/// All writes of the transaction share one new revision; a transaction that writes nothing
/// does not advance the revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Txn {
    /// Guards, all of which must hold (an empty list holds).
    pub compares: Vec<Compare>,
    /// Operations run when the guards hold.
    pub success: Vec<Op>,
    /// Operations run when a guard fails.
    pub failure: Vec<Op>,
}

/// The result of one [`Op`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResponse {
    /// Result of [`Op::Put`].
    Put {
        /// The key as written (its `mod_revision` is the transaction's revision).
        kv: KeyValue,
        /// The key before the put, if it existed.
        prev_kv: Option<KeyValue>,
    },
    /// Result of [`Op::Delete`].
    Delete {
        /// Number of keys deleted (0 or 1).
        deleted: i64,
        /// The key before the delete, if it existed.
        prev_kv: Option<KeyValue>,
    },
    /// Result of [`Op::Get`].
    Get {
        /// The key, if it exists.
        kv: Option<KeyValue>,
    },
}

/// The result of a [`Txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnResponse {
    /// Whether the compares held (and `success` ran).
    pub succeeded: bool,
    /// The transaction's revision if it wrote, else the current revision.
    pub revision: i64,
    /// One response per operation of the branch that ran, in order.
    pub responses: Vec<OpResponse>,
}

/// The result of [`crate::Store::delete`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteResult {
    /// The key as it was just before the delete.
    pub prev_kv: KeyValue,
    /// The revision of the delete.
    pub revision: i64,
}

/// Kind of a watch [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    /// The key was created or modified.
    Put,
    /// The key was deleted.
    Delete,
}

/// One change seen by a watcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// For a put: the key as written. For a delete: the key with `mod_revision` = the delete's
    /// revision and empty value, zero `create_revision` and `version` (as etcd).
    pub kv: KeyValue,
    /// The key just before this change, if it existed (always filled, like etcd's `prev_kv`
    /// watch option).
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision of the change.
    pub fn revision(&self) -> i64 {
        self.kv.mod_revision
    }

    /// A put that created the key. Upstream: `api/mvccpb/event.go` (`IsCreate`).
    pub fn is_create(&self) -> bool {
        self.kind == EventKind::Put && self.kv.create_revision == self.kv.mod_revision
    }
}

/// Errors of store operations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The requested revision is older than the compacted revision.
    /// Upstream: `server/storage/mvcc/kvstore.go` (`ErrCompacted`).
    #[error("required revision has been compacted (compacted revision {compact_revision})")]
    Compacted {
        /// The store's compacted revision.
        compact_revision: i64,
    },
    /// The requested revision is newer than the current revision.
    /// Upstream: `server/storage/mvcc/kvstore.go` (`ErrFutureRev`).
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: i64,
        /// The store's current revision.
        current: i64,
    },
    /// [`crate::Store::create`]: the key already exists.
    #[error("key already exists")]
    AlreadyExists {
        /// The existing key.
        existing: Box<KeyValue>,
    },
    /// [`crate::Store::update`] / [`crate::Store::delete`]: the key does not exist.
    #[error("key not found")]
    NotFound,
    /// [`crate::Store::update`] / [`crate::Store::delete`]: the key's `mod_revision` differs
    /// from the expected one.
    #[error("mod revision mismatch (current {})", current.mod_revision)]
    Conflict {
        /// The key as it is now.
        current: Box<KeyValue>,
    },
    /// A transaction branch writes the same key twice (put/put or put/delete).
    /// Upstream: `server/etcdserver/api/v3rpc/key.go` (`checkIntervals`, `ErrGRPCDuplicateKey`).
    #[error("duplicate key given in txn request")]
    DuplicateKey,
    /// The durable backend failed (I/O, corruption); the store refuses further writes.
    #[error("storage backend failure: {0}")]
    Backend(String),
    /// The store's writer has stopped.
    #[error("store is closed")]
    Closed,
}

/// Errors ending a watch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// History the watcher still needed was compacted (the watcher was too slow, or started too
    /// far back): the client must re-list. Upstream: `server/storage/mvcc/watchable_store.go`.
    #[error("watched revision has been compacted (compacted revision {compact_revision})")]
    Compacted {
        /// The store's compacted revision.
        compact_revision: i64,
    },
    /// The store was dropped; every event up to its last revision was delivered.
    #[error("store is closed")]
    Closed,
}
