//! Watchers: a cursor over the revision-ordered change log.
//!
//! A watcher does not own a buffer that writers fill. It holds `next_revision` and, when woken
//! by a revision change, reads the log from that revision up to the visible revision, keeping
//! the changes of its key range. Replay of history and live delivery are therefore the same code
//! path: there is no hand-over point where an event could be lost or duplicated, and events come
//! strictly in revision order (then in operation order within a revision).
//!
//! Slow watchers: writers never wait for watchers and never buffer per watcher, so a slow
//! watcher costs nothing but the retained history it still needs. If compaction removes a
//! revision the watcher has not read yet, the watcher ends with [`WatchError::Compacted`] and
//! the client re-lists, as an etcd watcher does when its start revision is compacted
//! (upstream: `server/storage/mvcc/watchable_store.go`, `syncWatchers`; `watcher_group.go`,
//! `chooseAll`). The bound on a slow watcher's lag is thus the compaction policy.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::store::Core;
use crate::types::{Event, WatchError};

/// Revisions read from the log per lock acquisition, so a watcher replaying a long history does
/// not hold the read lock for long.
const REVISIONS_PER_READ: usize = 1024;

/// Wakes every waiting watcher when the visible revision moves, **in the order they started
/// waiting**, and tells them when the store is gone.
///
/// Not a `tokio::sync::watch` channel: its receivers wait on one of eight `Notify`s picked
/// with tokio's per-runtime random generator, which is seeded from OS randomness, so the order
/// in which watchers (and the informers and controllers behind them) wake after a write would
/// change from run to run and break same-seed determinism of virtual-time runs. One `Notify`
/// wakes its waiters first-come first-served.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    notify: Notify,
    closed: AtomicBool,
}

impl Wake {
    /// A new revision is visible: wakes every waiting watcher.
    pub(crate) fn notify(&self) {
        self.notify.notify_waiters();
    }

    /// The store is gone: waiting watchers deliver what is left, then end with `Closed`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// A watch on a key range from a start revision. Obtain one with [`crate::Store::watch`].
#[derive(Debug)]
pub struct Watcher {
    core: Arc<Core>,
    start: Bytes,
    end: Bytes,
    next_revision: i64,
    pending: VecDeque<Event>,
    wake: Arc<Wake>,
    failed: Option<WatchError>,
}

impl Watcher {
    pub(crate) fn new(
        core: Arc<Core>,
        start: Bytes,
        end: Bytes,
        next_revision: i64,
        wake: Arc<Wake>,
    ) -> Self {
        Self {
            core,
            start,
            end,
            next_revision,
            pending: VecDeque::new(),
            wake,
            failed: None,
        }
    }

    /// The next event, waiting for one if needed. Cancel-safe (usable in `tokio::select!`).
    /// Returns `Err(Compacted)` once history this watcher needs is gone (then again on every
    /// call), and `Err(Closed)` after the store was dropped and every event was delivered.
    pub async fn recv(&mut self) -> Result<Event, WatchError> {
        loop {
            // Created before reading, so a write published after the read still wakes it
            // (`notify_waiters` completes every `Notified` created before the call).
            let wake = Arc::clone(&self.wake);
            let woken = wake.notify.notified();
            if let Some(event) = self.try_recv()? {
                return Ok(event);
            }
            if wake.is_closed() {
                // The store is gone: deliver what is left, then report closure.
                return match self.try_recv()? {
                    Some(event) => Ok(event),
                    None => Err(WatchError::Closed),
                };
            }
            woken.await;
        }
    }

    /// The next event if one is available now, without waiting.
    pub fn try_recv(&mut self) -> Result<Option<Event>, WatchError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            if let Some(error) = &self.failed {
                return Err(error.clone());
            }
            let state = self.core.read();
            if self.next_revision > state.visible_revision() {
                return Ok(None);
            }
            // Straight into the queue, whose capacity stays from read to read: a fresh vector
            // grown to up to 1,024 events at each read faulted in new pages.
            match state.events(
                self.next_revision,
                &self.start,
                &self.end,
                REVISIONS_PER_READ,
                &mut self.pending,
            ) {
                Ok(next) => {
                    self.next_revision = next;
                }
                Err(compact_revision) => {
                    self.failed = Some(WatchError::Compacted { compact_revision });
                }
            }
        }
    }

    /// Every change with a revision below this one has been delivered (or was outside the
    /// range): usable as a bookmark's resourceVersion once `recv` has nothing pending.
    pub fn progress_revision(&self) -> i64 {
        let first_pending = self.pending.front().map(Event::revision);
        first_pending.unwrap_or(self.next_revision) - 1
    }
}
