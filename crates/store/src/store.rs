//! The [`Store`] handle: reads, transactions and their convenience forms, watches, compaction,
//! over the memory or the redb backend.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;

use crate::mvcc::MvccState;
use crate::redb_backend::{RedbOptions, RedbWriter, WriteStats};
use crate::types::{
    Compare, DeleteResult, KeyValue, Op, OpResponse, RangeRequest, RangeResult, StoreError, Txn,
    TxnResponse, prefix_range_end,
};
use crate::value::StoreValue;
use crate::watch::{Wake, Watcher};

/// The shared multi-version state, read by readers and watchers, written by the writer.
#[derive(Debug)]
pub(crate) struct Core {
    state: RwLock<MvccState>,
}

impl Core {
    pub(crate) fn new(state: MvccState) -> Self {
        Self {
            state: RwLock::new(state),
        }
    }

    /// Read access. A writer that panicked cannot leave the state half-written in a way readers
    /// could observe (publication happens last), so a poisoned lock is still usable.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, MvccState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write access (see [`Core::read`] about poisoning).
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, MvccState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Wakes watchers when the visible revision moves (see [`Wake`]).
pub(crate) type WakeSender = Arc<Wake>;

#[derive(Debug)]
enum Backend {
    /// Writes apply in the caller under the state lock.
    Memory,
    /// Writes go through the group-commit writer thread.
    Redb(RedbWriter),
}

#[derive(Debug)]
struct Inner {
    core: Arc<Core>,
    wake: WakeSender,
    backend: Backend,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Stop and join the writer before closing, so watchers see every committed revision
        // before `Closed`.
        if let Backend::Redb(writer) = &mut self.backend {
            writer.shutdown();
        }
        self.wake.close();
    }
}

/// A revisioned key-value store with etcd v3 semantics. Cheap to clone (a shared handle).
///
/// Reads are synchronous and never wait for a commit; writes are async because the durable
/// backend resolves them only once their batch is on disk.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// An empty in-memory store (revision 1). Writes apply inline under the state lock: no
    /// threads, no I/O, suitable for virtual-time simulations.
    pub fn memory() -> Self {
        let core = Arc::new(Core::new(MvccState::new()));
        let wake = Arc::new(Wake::default());
        Self {
            inner: Arc::new(Inner {
                core,
                wake,
                backend: Backend::Memory,
            }),
        }
    }

    /// Opens (or creates) a redb database file, restoring every retained revision.
    pub fn open_redb(path: impl AsRef<Path>, options: RedbOptions) -> Result<Self, StoreError> {
        let (db, state) = crate::redb_backend::open(path.as_ref())?;
        Self::with_backend(state, move |core, wake| {
            Ok(Backend::Redb(RedbWriter::spawn(db, core, wake, options)?))
        })
    }

    fn with_backend(
        state: MvccState,
        make: impl FnOnce(Arc<Core>, WakeSender) -> Result<Backend, StoreError>,
    ) -> Result<Self, StoreError> {
        let core = Arc::new(Core::new(state));
        let wake = Arc::new(Wake::default());
        let backend = make(core.clone(), wake.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                core,
                wake,
                backend,
            }),
        })
    }

    /// The revision of the last committed (durable) write; 1 for an empty store.
    pub fn current_revision(&self) -> i64 {
        self.inner.core.read().visible_revision()
    }

    /// The last compaction revision; -1 if never compacted (etcd's `compactMainRev`). Reads at
    /// revisions at or above it succeed; watches must start above it.
    pub fn compacted_revision(&self) -> i64 {
        self.inner.core.read().compacted_revision()
    }

    /// Whether writes apply inline, when they are called (the memory backend): then nothing
    /// reads a put's value before the write returns, so a [`StoreValue::later`] can be
    /// provided right after. The durable backend writes the bytes to disk before it answers.
    pub fn applies_writes_inline(&self) -> bool {
        matches!(self.inner.backend, Backend::Memory)
    }

    /// Counters of the durable writer (all zero for the memory backend).
    pub fn write_stats(&self) -> WriteStats {
        match &self.inner.backend {
            Backend::Memory => WriteStats::default(),
            Backend::Redb(writer) => writer.stats(),
        }
    }

    /// The current value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<KeyValue>, StoreError> {
        let mut result = self.range(&RangeRequest::key(key))?;
        Ok(result.kvs.pop())
    }

    /// Reads a key or key range, now or at a retained past revision (a consistent snapshot).
    pub fn range(&self, request: &RangeRequest) -> Result<RangeResult, StoreError> {
        self.inner.core.read().range(request)
    }

    /// Runs a transaction atomically; resolves once it is durable.
    pub async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        match &self.inner.backend {
            Backend::Memory => {
                let (response, wrote) = {
                    let mut state = self.inner.core.write();
                    let (response, changes) = state.apply(&txn)?;
                    state.publish();
                    (response, !changes.is_empty())
                };
                if wrote {
                    self.inner.wake.notify();
                }
                Ok(response)
            }
            Backend::Redb(writer) => writer.txn(txn).await,
        }
    }

    /// Sets `key` to `value` unconditionally; returns the key as written.
    pub async fn put(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<StoreValue>,
    ) -> Result<KeyValue, StoreError> {
        let response = self
            .txn(Txn {
                success: vec![Op::put(key, value)],
                ..Txn::default()
            })
            .await?;
        match response.responses.into_iter().next() {
            Some(OpResponse::Put { kv, .. }) => Ok(kv),
            _ => Err(inconsistent()),
        }
    }

    /// Creates `key`; fails with [`StoreError::AlreadyExists`] (carrying the existing key) if it
    /// exists. Upstream: `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go` (`Create`:
    /// compare `ModRevision == 0`, then put).
    pub async fn create(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<StoreValue>,
    ) -> Result<KeyValue, StoreError> {
        let key = key.as_ref();
        let txn = Txn {
            compares: vec![Compare::mod_revision_is(key, 0)],
            success: vec![Op::put(key, value)],
            failure: vec![Op::get(key)],
        };
        let response = self.txn(txn).await?;
        match response.responses.into_iter().next() {
            Some(OpResponse::Put { kv, .. }) if response.succeeded => Ok(kv),
            Some(OpResponse::Get { kv: Some(existing) }) => Err(StoreError::AlreadyExists {
                existing: Box::new(existing),
            }),
            _ => Err(inconsistent()),
        }
    }

    /// Replaces the value of an existing `key` whose `mod_revision` is `expected_mod_revision`.
    /// Fails with [`StoreError::NotFound`] or [`StoreError::Conflict`] (carrying the current key).
    /// Upstream: `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go` (`GuaranteedUpdate`:
    /// compare `ModRevision == origRev`, put, else get).
    pub async fn update(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<StoreValue>,
        expected_mod_revision: i64,
    ) -> Result<KeyValue, StoreError> {
        let key = key.as_ref();
        let txn = Txn {
            compares: vec![
                Compare::exists(key, true),
                Compare::mod_revision_is(key, expected_mod_revision),
            ],
            success: vec![Op::put(key, value)],
            failure: vec![Op::get(key)],
        };
        let response = self.txn(txn).await?;
        match response.responses.into_iter().next() {
            Some(OpResponse::Put { kv, .. }) if response.succeeded => Ok(kv),
            Some(OpResponse::Get { kv: Some(current) }) => Err(StoreError::Conflict {
                current: Box::new(current),
            }),
            Some(OpResponse::Get { kv: None }) => Err(StoreError::NotFound),
            _ => Err(inconsistent()),
        }
    }

    /// Deletes `key`, only if its `mod_revision` is `expected_mod_revision` when given.
    /// Fails with [`StoreError::NotFound`] or [`StoreError::Conflict`].
    /// Upstream: `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go` (`conditionalDelete`).
    pub async fn delete(
        &self,
        key: impl AsRef<[u8]>,
        expected_mod_revision: Option<i64>,
    ) -> Result<DeleteResult, StoreError> {
        let key = key.as_ref();
        let mut compares = vec![Compare::exists(key, true)];
        if let Some(expected) = expected_mod_revision {
            compares.push(Compare::mod_revision_is(key, expected));
        }
        let txn = Txn {
            compares,
            success: vec![Op::delete(key)],
            failure: vec![Op::get(key)],
        };
        let response = self.txn(txn).await?;
        let revision = response.revision;
        match response.responses.into_iter().next() {
            Some(OpResponse::Delete {
                prev_kv: Some(prev_kv),
                ..
            }) if response.succeeded => Ok(DeleteResult { prev_kv, revision }),
            Some(OpResponse::Get { kv: Some(current) }) => Err(StoreError::Conflict {
                current: Box::new(current),
            }),
            Some(OpResponse::Get { kv: None }) => Err(StoreError::NotFound),
            _ => Err(inconsistent()),
        }
    }

    /// Watches every key starting with `prefix`, from `start_revision` (inclusive; 0 or less
    /// means "changes after the current revision"). Fails with [`StoreError::Compacted`] if
    /// `start_revision` is at or below the compacted revision.
    pub fn watch(
        &self,
        prefix: impl AsRef<[u8]>,
        start_revision: i64,
    ) -> Result<Watcher, StoreError> {
        let prefix = prefix.as_ref();
        self.watch_range(prefix, &prefix_range_end(prefix)[..], start_revision)
    }

    /// Watches the etcd-style key range `[key, range_end)` (empty `range_end`: the single key;
    /// `[0]`: every key from `key`), from `start_revision` as in [`Store::watch`].
    ///
    /// Deliberate difference from etcd: etcd accepts `start_revision == compacted revision`
    /// but may then miss a delete made at exactly that revision (its tombstone is compacted);
    /// this store refuses it, so a watch that starts never misses an event.
    pub fn watch_range(
        &self,
        key: impl AsRef<[u8]>,
        range_end: impl AsRef<[u8]>,
        start_revision: i64,
    ) -> Result<Watcher, StoreError> {
        let wake = self.inner.wake.clone();
        let state = self.inner.core.read();
        let start = if start_revision <= 0 {
            state.visible_revision() + 1
        } else {
            start_revision
        };
        let compacted = state.compacted_revision();
        if start <= compacted {
            return Err(StoreError::Compacted {
                compact_revision: compacted,
            });
        }
        drop(state);
        Ok(Watcher::new(
            self.inner.core.clone(),
            Bytes::copy_from_slice(key.as_ref()),
            Bytes::copy_from_slice(range_end.as_ref()),
            start,
            wake,
        ))
    }

    /// Drops history older than `revision`: reads below it fail with
    /// [`StoreError::Compacted`], and so do watchers that had not yet read past it.
    pub async fn compact(&self, revision: i64) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Memory => self.inner.core.write().compact(revision).map(drop),
            Backend::Redb(writer) => writer.compact(revision).await,
        }
    }

    /// Retention helper: compacts so that the last `keep` revisions stay readable. Returns the
    /// compaction revision, or `None` when there was nothing to compact.
    /// Upstream analogue: etcd's `--auto-compaction-mode=revision`
    /// (`server/etcdserver/api/v3compactor/revision.go`).
    pub async fn compact_keep_last(&self, keep: i64) -> Result<Option<i64>, StoreError> {
        let target = self.current_revision().saturating_sub(keep.max(0));
        if target <= self.compacted_revision() {
            return Ok(None);
        }
        match self.compact(target).await {
            Ok(()) => Ok(Some(target)),
            // A concurrent compaction got there first: nothing left to do.
            Err(StoreError::Compacted { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

fn inconsistent() -> StoreError {
    StoreError::Backend("transaction response does not match its request".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn handles_and_futures_cross_threads() {
        assert_send_sync::<Store>();
        assert_send_sync::<Watcher>();
        let store = Store::memory();
        assert_send(&store.txn(Txn::default()));
        assert_send(&store.create("k", "v"));
        let mut watcher = store.watch("", 0).unwrap();
        assert_send(&watcher.recv());
    }
}
