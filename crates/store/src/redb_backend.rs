//! The durable backend: a redb file written by one group-commit writer thread.
//!
//! Layout (see `docs/STORE.md`), the same shape as etcd's bbolt `key` bucket, which is keyed by
//! revision, with the key index rebuilt in memory at start-up (upstream:
//! `server/storage/mvcc/kvstore.go`, `restore`):
//! - table `history`: `(revision: u64, sub: u32)` → encoded change (key, tombstone flag,
//!   create revision, version, value); every retained version of every key;
//! - table `meta`: `&str` → `i64`: `format_version`, `current_revision`, `compacted_revision`.
//!
//! Group commit: callers send requests over a bounded channel; the writer thread takes every
//! request already queued (up to `max_batch`), applies them to the in-memory state (staged,
//! invisible to readers), writes their rows in ONE redb write transaction, commits it (one fsync
//! with [`Durability::Immediate`]), then publishes the new revision and answers the callers.
//! An acknowledged write is therefore on disk. If a commit fails the store stops accepting
//! writes (like a database after a failed fsync); reads keep serving the last durable revision.
//!
//! The writer is an OS thread, not a tokio task, because redb's commit blocks on I/O.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::{mpsc, oneshot};

use crate::mvcc::{Change, MvccState, RemovedRows, Version};
use crate::store::{Core, WakeSender};
use crate::types::{StoreError, Txn, TxnResponse};

const HISTORY: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("history");
const META: TableDefinition<&str, i64> = TableDefinition::new("meta");
const META_FORMAT: &str = "format_version";
const META_CURRENT: &str = "current_revision";
const META_COMPACTED: &str = "compacted_revision";
const FORMAT_VERSION: i64 = 1;

const TAG_PUT: u8 = 0;
const TAG_DELETE: u8 = 1;
/// tag (1) + create revision (8) + version (8) + key length (4).
const ROW_HEADER: usize = 21;

/// When a commit is considered durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// fsync at every commit: an acknowledged write survives a crash.
    #[default]
    Immediate,
    /// No fsync (redb `Durability::None`): fast, for simulations; a crash may lose recent
    /// writes (a clean shutdown still flushes them).
    None,
}

/// Options of the redb backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedbOptions {
    /// Commit durability.
    pub durability: Durability,
    /// Batch concurrent writers into one commit. `false` = one commit (one fsync) per write,
    /// for comparison.
    pub group_commit: bool,
    /// Maximum requests per commit with group commit.
    pub max_batch: usize,
    /// Requests that may wait for the writer before callers wait to enqueue (back-pressure).
    pub queue_capacity: usize,
}

impl Default for RedbOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Immediate,
            group_commit: true,
            max_batch: 4096,
            queue_capacity: 8192,
        }
    }
}

fn backend_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

fn revision_key(revision: i64) -> Result<u64, StoreError> {
    u64::try_from(revision)
        .map_err(|_| StoreError::Backend(format!("negative revision {revision}")))
}

/// Encodes a change's row value.
fn encode_row(change: &Change, out: &mut Vec<u8>) -> Result<(), StoreError> {
    out.clear();
    let version = &change.version;
    out.push(if version.value.is_some() {
        TAG_PUT
    } else {
        TAG_DELETE
    });
    out.extend_from_slice(&version.create_revision.to_be_bytes());
    out.extend_from_slice(&version.version.to_be_bytes());
    let key_len = u32::try_from(change.key.len())
        .map_err(|_| StoreError::Backend("key longer than 4 GiB".to_owned()))?;
    out.extend_from_slice(&key_len.to_be_bytes());
    out.extend_from_slice(&change.key);
    if let Some(value) = &version.value {
        out.extend_from_slice(value);
    }
    Ok(())
}

/// Decodes a row back into a change.
fn decode_row(revision: u64, sub: u32, row: &[u8]) -> Result<Change, StoreError> {
    let corrupt = || StoreError::Backend(format!("corrupt history row at revision {revision}"));
    let header = row.get(..ROW_HEADER).ok_or_else(corrupt)?;
    let field = |range: std::ops::Range<usize>| header.get(range).ok_or_else(corrupt);
    let tag = header.first().copied().ok_or_else(corrupt)?;
    let create_revision = i64::from_be_bytes(field(1..9)?.try_into().map_err(|_| corrupt())?);
    let version = i64::from_be_bytes(field(9..17)?.try_into().map_err(|_| corrupt())?);
    let key_len = u32::from_be_bytes(field(17..21)?.try_into().map_err(|_| corrupt())?);
    let key_end = ROW_HEADER.checked_add(usize::try_from(key_len).map_err(|_| corrupt())?);
    let key_end = key_end.ok_or_else(corrupt)?;
    let key = row.get(ROW_HEADER..key_end).ok_or_else(corrupt)?;
    let rest = row.get(key_end..).ok_or_else(corrupt)?;
    let value = match tag {
        TAG_PUT => Some(Bytes::copy_from_slice(rest).into()),
        TAG_DELETE if rest.is_empty() => None,
        _ => return Err(corrupt()),
    };
    let mod_revision = i64::try_from(revision).map_err(|_| corrupt())?;
    Ok(Change {
        key: Bytes::copy_from_slice(key),
        version: Version {
            mod_revision,
            sub,
            create_revision,
            version,
            value,
        },
        // Filled in by `MvccState::restore`, which sees the key's earlier versions.
        prev: None,
    })
}

/// Opens or creates the database and rebuilds the in-memory state from it.
pub(crate) fn open(path: &Path) -> Result<(Database, MvccState), StoreError> {
    let db = Database::create(path).map_err(backend_error)?;
    let write = db.begin_write().map_err(backend_error)?;
    {
        write.open_table(HISTORY).map_err(backend_error)?;
        let mut meta = write.open_table(META).map_err(backend_error)?;
        let format = meta
            .get(META_FORMAT)
            .map_err(backend_error)?
            .map(|g| g.value());
        match format {
            None => {
                meta.insert(META_FORMAT, FORMAT_VERSION)
                    .map_err(backend_error)?;
                meta.insert(META_CURRENT, 1).map_err(backend_error)?;
                meta.insert(META_COMPACTED, -1).map_err(backend_error)?;
            }
            Some(FORMAT_VERSION) => {}
            Some(other) => {
                return Err(StoreError::Backend(format!(
                    "unsupported store format {other}"
                )));
            }
        }
    }
    write.commit().map_err(backend_error)?;

    let read = db.begin_read().map_err(backend_error)?;
    let meta = read.open_table(META).map_err(backend_error)?;
    let meta_value = |name: &str, default: i64| -> Result<i64, StoreError> {
        Ok(meta
            .get(name)
            .map_err(backend_error)?
            .map_or(default, |g| g.value()))
    };
    let current = meta_value(META_CURRENT, 1)?;
    let compacted = meta_value(META_COMPACTED, -1)?;
    let history = read.open_table(HISTORY).map_err(backend_error)?;
    let mut changes = Vec::new();
    for row in history.iter().map_err(backend_error)? {
        let (key, value) = row.map_err(backend_error)?;
        let (revision, sub) = key.value();
        changes.push(decode_row(revision, sub, value.value())?);
    }
    drop(history);
    drop(meta);
    drop(read);
    let state = MvccState::restore(changes, current, compacted)?;
    Ok((db, state))
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Txn(Txn, Reply<TxnResponse>),
    Compact(i64, Reply<()>),
}

/// The outcome of one request of a batch, before the batch is durable.
enum Staged {
    Txn(Result<TxnResponse, StoreError>, Reply<TxnResponse>),
    Compact(Result<(), StoreError>, Reply<()>),
}

impl Staged {
    /// Answers the caller; a failed commit turns every outcome into that failure.
    fn reply(self, commit_error: Option<&StoreError>) {
        // A caller that stopped waiting (dropped future) is not an error.
        match self {
            Staged::Txn(result, reply) => {
                let _ = reply.send(commit_error.map_or(result, |e| Err(e.clone())));
            }
            Staged::Compact(result, reply) => {
                let _ = reply.send(commit_error.map_or(result, |e| Err(e.clone())));
            }
        }
    }
}

/// Counters of the writer, for benchmarks and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// redb write transactions committed (with `Durability::Immediate`: fsyncs).
    pub commits: u64,
    /// Requests (transactions and compactions) processed; `requests / commits` is the mean
    /// group-commit batch size.
    pub requests: u64,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    requests: AtomicU64,
}

/// Handle to the writer thread.
#[derive(Debug)]
pub(crate) struct RedbWriter {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Txn(..) => f.write_str("Request::Txn"),
            Request::Compact(revision, _) => write!(f, "Request::Compact({revision})"),
        }
    }
}

impl RedbWriter {
    /// Starts the writer thread.
    pub(crate) fn spawn(
        db: Database,
        core: Arc<Core>,
        wake: WakeSender,
        options: RedbOptions,
    ) -> Result<Self, StoreError> {
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let writer = WriterLoop {
            db,
            core,
            wake,
            options,
            failure: None,
            counters: counters.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("kubetwin-store-writer".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(backend_error)?;
        Ok(Self {
            requests: Some(sender),
            thread: Some(thread),
            counters,
        })
    }

    async fn submit<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let requests = self.requests.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        requests
            .send(make(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs a transaction; resolves once its batch is durable.
    pub(crate) async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        self.submit(|reply| Request::Txn(txn, reply)).await
    }

    /// Compacts; resolves once durable.
    pub(crate) async fn compact(&self, revision: i64) -> Result<(), StoreError> {
        self.submit(|reply| Request::Compact(revision, reply)).await
    }

    /// The writer's counters.
    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
        }
    }

    /// Stops the writer after the queued requests and waits for it (flushing a
    /// `Durability::None` database).
    pub(crate) fn shutdown(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            // A panicked writer has nothing left to flush.
            let _ = thread.join();
        }
    }
}

struct WriterLoop {
    db: Database,
    core: Arc<Core>,
    wake: WakeSender,
    options: RedbOptions,
    /// Set by a failed commit: every later write fails with it.
    failure: Option<StoreError>,
    counters: Arc<Counters>,
}

impl WriterLoop {
    fn run(mut self, mut receiver: mpsc::Receiver<Request>) {
        let max_batch = if self.options.group_commit {
            self.options.max_batch.max(1)
        } else {
            1
        };
        let mut unflushed = false;
        let mut batch = Vec::with_capacity(max_batch);
        while let Some(first) = receiver.blocking_recv() {
            batch.push(first);
            while batch.len() < max_batch {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            unflushed |= self.process(&mut batch);
        }
        if unflushed && self.failure.is_none() {
            // Durability::None commits reach the disk only with a later Immediate commit.
            let _ = self.flush();
        }
    }

    /// Stages, commits and answers one batch. Returns whether it committed without fsync.
    fn process(&mut self, batch: &mut Vec<Request>) -> bool {
        if let Some(failure) = &self.failure {
            for request in batch.drain(..) {
                match request {
                    Request::Txn(_, reply) => drop(reply.send(Err(failure.clone()))),
                    Request::Compact(_, reply) => drop(reply.send(Err(failure.clone()))),
                }
            }
            return false;
        }
        self.counters
            .requests
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut staged = Vec::with_capacity(batch.len());
        let mut rows: Vec<Change> = Vec::new();
        let mut removed: RemovedRows = Vec::new();
        let mut compacted = false;
        let (current, compact_revision) = {
            let mut state = self.core.write();
            for request in batch.drain(..) {
                match request {
                    Request::Txn(txn, reply) => {
                        let result = state.apply(&txn).map(|(response, changes)| {
                            rows.extend(changes);
                            response
                        });
                        staged.push(Staged::Txn(result, reply));
                    }
                    Request::Compact(revision, reply) => {
                        let result = state.compact(revision).map(|rows| {
                            removed.extend(rows);
                            compacted = true;
                        });
                        staged.push(Staged::Compact(result, reply));
                    }
                }
            }
            (state.current_revision(), state.compacted_revision())
        };
        let dirty = !rows.is_empty() || compacted;
        if dirty {
            if let Err(error) = self.commit(&rows, &removed, current, compact_revision) {
                tracing::error!(%error, "store commit failed; refusing further writes");
                self.failure = Some(error.clone());
                staged.into_iter().for_each(|s| s.reply(Some(&error)));
                return false;
            }
            self.counters.commits.fetch_add(1, Ordering::Relaxed);
            self.core.write().publish();
            self.wake.notify();
        }
        staged.into_iter().for_each(|s| s.reply(None));
        dirty && self.options.durability == Durability::None
    }

    fn commit(
        &self,
        rows: &[Change],
        removed: &RemovedRows,
        current: i64,
        compacted: i64,
    ) -> Result<(), StoreError> {
        let mut write = self.db.begin_write().map_err(backend_error)?;
        let durability = match self.options.durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::None => redb::Durability::None,
        };
        write.set_durability(durability).map_err(backend_error)?;
        {
            let mut history = write.open_table(HISTORY).map_err(backend_error)?;
            let mut buffer = Vec::new();
            for change in rows {
                encode_row(change, &mut buffer)?;
                let key = (
                    revision_key(change.version.mod_revision)?,
                    change.version.sub,
                );
                history
                    .insert(key, buffer.as_slice())
                    .map_err(backend_error)?;
            }
            for &(revision, sub) in removed {
                history
                    .remove((revision_key(revision)?, sub))
                    .map_err(backend_error)?;
            }
            let mut meta = write.open_table(META).map_err(backend_error)?;
            meta.insert(META_CURRENT, current).map_err(backend_error)?;
            meta.insert(META_COMPACTED, compacted)
                .map_err(backend_error)?;
        }
        write.commit().map_err(backend_error)
    }

    /// An empty Immediate commit, which makes earlier non-durable commits durable.
    fn flush(&self) -> Result<(), StoreError> {
        let mut write = self.db.begin_write().map_err(backend_error)?;
        write
            .set_durability(redb::Durability::Immediate)
            .map_err(backend_error)?;
        write.commit().map_err(backend_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_reject_garbage() {
        let change = Change {
            key: Bytes::from_static(b"/registry/pods/default/a"),
            version: Version {
                mod_revision: 7,
                sub: 2,
                create_revision: 5,
                version: 3,
                value: Some(Bytes::from_static(b"{}").into()),
            },
            prev: None,
        };
        let mut buffer = Vec::new();
        encode_row(&change, &mut buffer).unwrap();
        assert_eq!(decode_row(7, 2, &buffer).unwrap(), change);
        let tombstone = Change {
            key: change.key.clone(),
            version: Version {
                value: None,
                create_revision: 0,
                version: 0,
                ..change.version
            },
            prev: None,
        };
        encode_row(&tombstone, &mut buffer).unwrap();
        assert_eq!(decode_row(7, 2, &buffer).unwrap(), tombstone);
        for garbage in [
            &b""[..],
            &[9; 21],
            &[
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255,
            ],
        ] {
            assert!(decode_row(1, 0, garbage).is_err());
        }
    }
}
