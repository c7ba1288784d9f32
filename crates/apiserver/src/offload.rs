//! Work with no observable effect, done on a thread of its own: decoding a written pod into
//! the typed form its watchers will ask for, encoding written objects into the bytes the
//! store keeps, and freeing decoded objects.
//!
//! Under virtual time every component of the twin runs on one thread, so the machine's other
//! core idled while that thread spent about 6 % of a scenario decoding each pod change into a
//! `Pod` and about 7 % freeing `Value` trees (a pod's is about fifty B-tree maps). Both are
//! pure: a decode gives the same `Pod` whichever thread makes it (the first caller makes it,
//! any other waits for it: [`crate::watch::SharedObject::typed`]), and freeing changes
//! nothing anyone reads. So the same run stays byte for byte the same run; only the wall time
//! changes.
//!
//! The same holds for encoding: a written object's stored bytes are the same whichever thread
//! writes them, and under virtual time they are almost never read (the watches and the writes
//! read the decoded object), yet encoding was about 7 % of the main thread. The store keeps a
//! value whose bytes are made later ([`kubetwin_store::StoreValue::later`]); this thread makes
//! them, or a reader that comes first does.
//!
//! One thread takes every job, decodes first: a decode is wanted soon (the watches deliver
//! the change as soon as the writer yields), stored bytes seldom, a drop never.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use kubetwin_store::StoreValue;

use crate::watch::SharedObject;

/// Anything whose drop may happen later, elsewhere.
pub type Garbage = Box<dyn Send>;

/// A decode to do ahead of its readers.
type Decode = (Arc<SharedObject>, fn(&SharedObject));

#[derive(Default)]
struct Jobs {
    decodes: VecDeque<Decode>,
    /// Stored values whose bytes are still to be made.
    encodes: VecDeque<StoreValue>,
    drops: VecDeque<Garbage>,
    /// The thread waits for work: only then does a push wake it (a wake is a system call,
    /// which cost the pushing thread more than a small drop).
    idle: bool,
}

#[derive(Default)]
struct Queue {
    jobs: Mutex<Jobs>,
    ready: Condvar,
    /// Jobs pushed so far: what the thread watches while it spins before it sleeps.
    pushed: AtomicU64,
}

/// How many times the thread looks for a new job before it sleeps (about a millisecond), when
/// [`spin_before_sleeping`] asked it to. Under virtual time writes come every few hundred
/// microseconds, and waking a sleeping thread is a `futex` call on the writer's side: with
/// the thread sleeping as soon as its queue was empty, those calls were 4 % of the main thread
/// of the 24-hour scenario benchmark.
const SPINS_BEFORE_SLEEP: u32 = 1 << 15;

/// Whether the thread spins before it sleeps: see [`spin_before_sleeping`].
static SPIN: AtomicBool = AtomicBool::new(false);

/// Makes the offload thread look for work for about a millisecond before it sleeps, from now
/// on. For a process whose work runs on one thread (virtual time), where the spin takes an
/// idle core; a multi-threaded runtime would lose some of its cores' time to it.
pub fn spin_before_sleeping() {
    SPIN.store(true, Ordering::Relaxed);
}

/// Jobs of one kind that may wait: beyond it the work is done where it arises, so a thread
/// that cannot keep up (one core) bounds the memory its queue holds.
const MOST_WAITING: usize = 1 << 16;

impl Queue {
    /// Queues `job` in the list `of` picks, or gives it back if that list is full.
    fn push<T>(&self, job: T, of: impl FnOnce(&mut Jobs) -> &mut VecDeque<T>) -> Option<T> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let list = of(&mut jobs);
        if list.len() >= MOST_WAITING {
            return Some(job);
        }
        list.push_back(job);
        self.pushed.fetch_add(1, Ordering::Release);
        let wake = std::mem::take(&mut jobs.idle);
        drop(jobs);
        if wake {
            self.ready.notify_one();
        }
        None
    }

    /// Waits, without sleeping, until a job is pushed after the count `seen` or
    /// [`SPINS_BEFORE_SLEEP`] looks found none.
    fn spin_while_none_pushed(&self, seen: u64) {
        if !SPIN.load(Ordering::Relaxed) {
            return;
        }
        for _ in 0..SPINS_BEFORE_SLEEP {
            if self.pushed.load(Ordering::Acquire) != seen {
                return;
            }
            std::hint::spin_loop();
        }
    }

    /// Runs jobs for ever, decodes first; a job's objects are dropped here once it is done.
    fn work(&self) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some((object, decode)) = jobs.decodes.pop_front() {
                drop(jobs);
                decode(&object);
                drop(object);
            } else if let Some(value) = jobs.encodes.pop_front() {
                drop(jobs);
                value.make();
                drop(value);
            } else if let Some(garbage) = jobs.drops.pop_front() {
                drop(jobs);
                drop(garbage);
            } else {
                let seen = self.pushed.load(Ordering::Acquire);
                drop(jobs);
                self.spin_while_none_pushed(seen);
                jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
                if jobs.decodes.is_empty() && jobs.encodes.is_empty() && jobs.drops.is_empty() {
                    jobs.idle = true;
                    // A spurious wake finds no job and waits again.
                    jobs = self.ready.wait(jobs).unwrap_or_else(|e| e.into_inner());
                }
                continue;
            }
            jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The offload thread's queue (`None`: the thread could not be started, and the work is done
/// where it arises: drops at once, decodes by their first reader).
fn queue() -> Option<&'static Queue> {
    static QUEUE: OnceLock<Option<&'static Queue>> = OnceLock::new();
    *QUEUE.get_or_init(|| {
        let queue: &'static Queue = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("kubetwin-offload".into())
            .spawn(move || queue.work())
            .ok()
            .map(|_| queue)
    })
}

/// Drops `garbage` on the offload thread, or here if there is none or it is behind.
pub fn drop_later(garbage: Garbage) {
    if let Some(queue) = queue() {
        drop(queue.push(garbage, |jobs| &mut jobs.drops));
    }
}

/// Runs `decode` on `object` on the offload thread, unless there is none or it is behind
/// (the object's first reader decodes it then).
pub fn decode_soon(object: Arc<SharedObject>, decode: fn(&SharedObject)) {
    if let Some(queue) = queue() {
        drop(queue.push((object, decode), |jobs| &mut jobs.decodes));
    }
}

/// What the offload thread derives from every written pod after its typed decode
/// ([`SharedObject::derived`] memos registered by the pods' readers).
static POD_DERIVATIONS: Mutex<Vec<fn(&SharedObject)>> = Mutex::new(Vec::new());

/// Has the offload thread run `derive` on every pod written from now on, after its typed
/// decode (the scheduler's view of a pod, made ahead of the scheduler). `derive` must only
/// fill a memo of the object ([`SharedObject::derived`]); registering it twice runs it once.
pub fn derive_from_pods(derive: fn(&SharedObject)) {
    let mut derivations = POD_DERIVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    if !derivations.contains(&derive) {
        derivations.push(derive);
    }
}

/// A written pod's typed decode, then the registered derivations (see [`derive_from_pods`]).
pub(crate) fn decode_pod(pod: &SharedObject) {
    let _ = pod.typed::<k8s_openapi::api::core::v1::Pod>();
    let derivations = POD_DERIVATIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for derive in derivations {
        derive(pod);
    }
}

/// Makes `value`'s bytes on the offload thread, or here if there is none or it is behind.
pub fn encode_soon(value: StoreValue) {
    match queue() {
        Some(queue) => {
            if let Some(value) = queue.push(value, |jobs| &mut jobs.encodes) {
                value.make();
            }
        }
        None => value.make(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    #[test]
    fn a_decode_done_ahead_is_the_one_readers_get() {
        let object = Arc::new(SharedObject::new(json!({
            "metadata": {"name": "p", "managedFields": [{"manager": "m"}]},
            "spec": {"containers": [{"name": "c"}]}
        })));
        decode_soon(Arc::clone(&object), |o| {
            let _ = o.typed::<Pod>();
        });
        let first = object.typed::<Pod>().expect("decodes");
        let again = object.typed::<Pod>().expect("decodes");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.metadata.name.as_deref(), Some("p"));
        assert_eq!(first.metadata.managed_fields, None);
    }

    #[test]
    fn garbage_is_dropped_elsewhere() {
        let (tx, rx) = std::sync::mpsc::channel();
        struct Tell(std::sync::mpsc::Sender<std::thread::ThreadId>);
        impl Drop for Tell {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().id());
            }
        }
        drop_later(Box::new(Tell(tx)));
        let dropped_on = rx.recv().expect("dropped");
        assert_ne!(dropped_on, std::thread::current().id());
    }
}
