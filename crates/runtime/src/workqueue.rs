//! A work queue with client-go's semantics, on [`SimTime`].
//!
//! Upstream: `staging/src/k8s.io/client-go/util/workqueue/queue.go` (dirty / processing sets:
//! an item added while queued is not queued twice, an item added while being processed is
//! queued again only when [`WorkQueue::done`] is called, so one key is never processed
//! concurrently), `delaying_queue.go` (`AddAfter`: a waiting item keeps its earliest ready
//! time), `rate_limiting_queue.go` and `default_rate_limiters.go`
//! (`DefaultTypedControllerRateLimiter`: the larger of a per-item exponential backoff from 5 ms
//! to 1000 s and an overall 10 qps token bucket with a burst of 100).
//!
//! Deliberate difference: items that become ready at the same instant are queued in the order
//! they were scheduled (Go's heap gives no order), so runs are deterministic.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use crate::time::SimTime;

/// Per-item failure counting with exponential backoff
/// (`TypedItemExponentialFailureRateLimiter`): `base × 2^failures`, capped at `max`.
#[derive(Debug, Clone)]
pub struct ItemExponentialFailureRateLimiter<K: Ord> {
    failures: BTreeMap<K, u32>,
    base: Duration,
    max: Duration,
}

impl<K: Ord + Clone> ItemExponentialFailureRateLimiter<K> {
    /// A limiter starting at `base` and capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            failures: BTreeMap::new(),
            base,
            max,
        }
    }

    /// The delay before the item's next retry; counts one more failure.
    pub fn when(&mut self, item: &K) -> Duration {
        let count = self.failures.entry(item.clone()).or_insert(0);
        let exp = *count;
        *count = count.saturating_add(1);
        // `float64(base) * 2^exp`, capped so that it never overflows.
        let backoff = self.base.as_nanos() as f64 * 2f64.powi(exp.min(2000) as i32);
        if !backoff.is_finite() || backoff > i64::MAX as f64 {
            return self.max;
        }
        let calculated = Duration::from_nanos(backoff as u64);
        calculated.min(self.max)
    }

    /// How many failures the item has had.
    pub fn num_requeues(&self, item: &K) -> u32 {
        self.failures.get(item).copied().unwrap_or(0)
    }

    /// Stops tracking the item.
    pub fn forget(&mut self, item: &K) {
        self.failures.remove(item);
    }
}

/// An overall token bucket (`TypedBucketRateLimiter` over `rate.Limiter`): `qps` tokens a
/// second, at most `burst` saved; a reservation may drive the bucket negative, and then waits.
#[derive(Debug, Clone)]
pub struct BucketRateLimiter {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Option<Duration>,
}

impl BucketRateLimiter {
    /// A full bucket.
    pub fn new(qps: f64, burst: u32) -> Self {
        Self {
            qps,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
        }
    }

    /// Reserves one token at time `now` (time since an arbitrary origin); returns the wait.
    pub fn reserve(&mut self, now: Duration) -> Duration {
        let elapsed = self.last.map_or(Duration::ZERO, |l| now.saturating_sub(l));
        self.last = Some(now.max(self.last.unwrap_or(Duration::ZERO)));
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.qps).min(self.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 || self.qps <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

/// `DefaultTypedControllerRateLimiter`: the larger of the per-item backoff and the bucket.
#[derive(Debug, Clone)]
pub struct DefaultControllerRateLimiter<K: Ord> {
    /// The per-item exponential part (5 ms → 1000 s).
    pub item: ItemExponentialFailureRateLimiter<K>,
    /// The overall part (10 qps, burst 100).
    pub bucket: BucketRateLimiter,
}

impl<K: Ord + Clone> Default for DefaultControllerRateLimiter<K> {
    fn default() -> Self {
        Self {
            item: ItemExponentialFailureRateLimiter::new(
                Duration::from_millis(5),
                Duration::from_secs(1000),
            ),
            bucket: BucketRateLimiter::new(10.0, 100),
        }
    }
}

impl<K: Ord + Clone> DefaultControllerRateLimiter<K> {
    /// The delay before the item's next retry, at time `now`.
    pub fn when(&mut self, item: &K, now: Duration) -> Duration {
        let a = self.item.when(item);
        let b = self.bucket.reserve(now);
        a.max(b)
    }
}

#[derive(Debug)]
struct State<K: Ord> {
    queue: VecDeque<K>,
    dirty: BTreeSet<K>,
    processing: BTreeSet<K>,
    /// Waiting items by (ready time, sequence), and each item's entry.
    waiting: BTreeMap<(Duration, u64), K>,
    waiting_by_item: BTreeMap<K, (Duration, u64)>,
    sequence: u64,
    shutting_down: bool,
    limiter: DefaultControllerRateLimiter<K>,
}

impl<K: Ord + Clone> State<K> {
    fn add(&mut self, item: K) -> bool {
        if self.shutting_down || self.dirty.contains(&item) {
            return false;
        }
        self.dirty.insert(item.clone());
        if self.processing.contains(&item) {
            return false;
        }
        self.queue.push_back(item);
        true
    }

    /// Moves every waiting item whose time has come into the queue.
    fn promote(&mut self, now: Duration) -> bool {
        let mut added = false;
        while let Some(entry) = self.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let item = entry.remove();
            self.waiting_by_item.remove(&item);
            added |= self.add(item);
        }
        added
    }
}

/// A rate-limited, delaying work queue of keys (`workqueue.TypedRateLimitingInterface`).
/// Cloning shares the queue.
#[derive(Debug)]
pub struct WorkQueue<K: Ord> {
    state: Arc<Mutex<State<K>>>,
    notify: Arc<Notify>,
    time: SimTime,
}

impl<K: Ord> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            notify: Arc::clone(&self.notify),
            time: self.time.clone(),
        }
    }
}

impl<K: Ord + Clone + Send + 'static> WorkQueue<K> {
    /// An empty queue on `time`, with the default controller rate limiter.
    pub fn new(time: SimTime) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                queue: VecDeque::new(),
                dirty: BTreeSet::new(),
                processing: BTreeSet::new(),
                waiting: BTreeMap::new(),
                waiting_by_item: BTreeMap::new(),
                sequence: 0,
                shutting_down: false,
                limiter: DefaultControllerRateLimiter::default(),
            })),
            notify: Arc::new(Notify::new()),
            time,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // A poisoned lock only means another task panicked mid-update; the sets stay usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `item` as needing processing (`Add`).
    pub fn add(&self, item: K) {
        let added = self.lock().add(item);
        if added {
            self.notify.notify_waiters();
        }
    }

    /// Adds `item` after `delay` (`AddAfter`); a waiting item keeps the earlier of its times.
    pub fn add_after(&self, item: K, delay: Duration) {
        if delay.is_zero() {
            self.add(item);
            return;
        }
        let ready_at = self.time.elapsed() + delay;
        {
            let mut state = self.lock();
            if state.shutting_down {
                return;
            }
            if let Some(existing) = state.waiting_by_item.get(&item).copied() {
                if existing.0 <= ready_at {
                    return;
                }
                state.waiting.remove(&existing);
            }
            state.sequence += 1;
            let entry = (ready_at, state.sequence);
            state.waiting.insert(entry, item.clone());
            state.waiting_by_item.insert(item, entry);
        }
        // A waiting worker must recompute how long to sleep.
        self.notify.notify_waiters();
    }

    /// Adds `item` after its rate-limited delay (`AddRateLimited`).
    pub fn add_rate_limited(&self, item: K) {
        let now = self.time.elapsed();
        let delay = self.lock().limiter.when(&item, now);
        self.add_after(item, delay);
    }

    /// Forgets the item's failures (`Forget`).
    pub fn forget(&self, item: &K) {
        self.lock().limiter.item.forget(item);
    }

    /// How many times the item was requeued with a rate limit (`NumRequeues`).
    pub fn num_requeues(&self, item: &K) -> u32 {
        self.lock().limiter.item.num_requeues(item)
    }

    /// Items ready to be processed now (`Len`).
    pub fn len(&self) -> usize {
        let now = self.time.elapsed();
        let mut state = self.lock();
        state.promote(now);
        state.queue.len()
    }

    /// Whether no item is ready now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next item (`Get`); `None` once the queue is shut down and empty.
    /// The caller must call [`WorkQueue::done`] with the item when finished.
    pub async fn get(&self) -> Option<K> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next_ready = {
                let now = self.time.elapsed();
                let mut state = self.lock();
                state.promote(now);
                if let Some(item) = state.queue.pop_front() {
                    state.dirty.remove(&item);
                    state.processing.insert(item.clone());
                    return Some(item);
                }
                if state.shutting_down {
                    return None;
                }
                state.waiting.first_key_value().map(|(k, _)| k.0)
            };
            match next_ready {
                Some(at) => {
                    let wait = at.saturating_sub(self.time.elapsed());
                    tokio::select! {
                        biased;
                        () = &mut notified => {}
                        () = self.time.sleep(wait) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks the item as processed (`Done`); re-queues it if it was added meanwhile.
    pub fn done(&self, item: &K) {
        let requeued = {
            let mut state = self.lock();
            state.processing.remove(item);
            if state.dirty.contains(item) {
                state.queue.push_back(item.clone());
                true
            } else {
                false
            }
        };
        if requeued {
            self.notify.notify_waiters();
        }
    }

    /// Stops accepting items (`ShutDown`); workers drain what is queued, then `get` ends.
    pub fn shut_down(&self) {
        self.lock().shutting_down = true;
        self.notify.notify_waiters();
    }

    /// Whether [`WorkQueue::shut_down`] was called.
    pub fn shutting_down(&self) -> bool {
        self.lock().shutting_down
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn time() -> SimTime {
        SimTime::new(Timestamp::from_second(1_735_689_600).expect("epoch"), 1.0)
    }

    /// Upstream: `default_rate_limiters_test.go` `TestItemExponentialFailureRateLimiter`.
    #[test]
    fn exponential_failure_rate_limiter() {
        let mut l = ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(1),
            Duration::from_secs(1),
        );
        let one = "one".to_string();
        let two = "two".to_string();
        for expected in [1, 2, 4, 8, 16] {
            assert_eq!(l.when(&one), Duration::from_millis(expected));
        }
        assert_eq!(l.num_requeues(&one), 5);
        assert_eq!(l.when(&two), Duration::from_millis(1));
        assert_eq!(l.when(&two), Duration::from_millis(2));
        assert_eq!(l.num_requeues(&two), 2);
        l.forget(&one);
        assert_eq!(l.num_requeues(&one), 0);
        assert_eq!(l.when(&one), Duration::from_millis(1));
    }

    /// Upstream: `default_rate_limiters_test.go` `TestItemExponentialFailureRateLimiterOverFlow`.
    #[test]
    fn exponential_failure_rate_limiter_overflow() {
        let cases: &[(Duration, Duration, usize, Duration)] = &[
            (
                Duration::from_millis(1),
                Duration::from_secs(1000),
                5,
                Duration::from_millis(32),
            ),
            (
                Duration::from_millis(1),
                Duration::from_secs(1000),
                1000,
                Duration::from_secs(1000),
            ),
            (
                Duration::from_secs(60),
                Duration::from_secs(1000 * 3600),
                2,
                Duration::from_secs(240),
            ),
            (
                Duration::from_secs(60),
                Duration::from_secs(1000 * 3600),
                1000,
                Duration::from_secs(1000 * 3600),
            ),
        ];
        for &(base, max, failures, expected) in cases {
            let mut l = ItemExponentialFailureRateLimiter::new(base, max);
            for _ in 0..failures {
                l.when(&"x");
            }
            assert_eq!(l.when(&"x"), expected, "base {base:?} after {failures}");
        }
    }

    /// The bucket: 100 free tokens, then one every 100 ms.
    #[test]
    fn bucket_limits_after_burst() {
        let mut b = BucketRateLimiter::new(10.0, 100);
        for _ in 0..100 {
            assert_eq!(b.reserve(Duration::ZERO), Duration::ZERO);
        }
        assert_eq!(b.reserve(Duration::ZERO), Duration::from_millis(100));
        assert_eq!(b.reserve(Duration::ZERO), Duration::from_millis(200));
        // After a second, ten tokens came back, which repays the debt of two and leaves eight.
        assert_eq!(b.reserve(Duration::from_secs(1)), Duration::ZERO);
    }

    /// Upstream: `queue_test.go` `TestAddWhileProcessing` and dedup of `Add`.
    #[tokio::test(start_paused = true)]
    async fn dedup_while_queued_and_requeue_after_done() {
        let q = WorkQueue::new(time());
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let first = q.get().await.expect("item");
        assert_eq!(first, "a");
        // Added while processing: not handed out until done.
        q.add("a");
        assert_eq!(q.get().await, Some("b"));
        assert!(q.is_empty());
        q.done(&"a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await, Some("a"));
        q.done(&"a");
        q.done(&"b");
        assert!(q.is_empty());
    }

    /// Upstream: `delaying_queue_test.go` `TestSimpleQueue`, `TestDeduping` (earliest time wins).
    #[tokio::test(start_paused = true)]
    async fn add_after_keeps_earliest_and_waits_virtual_time() {
        let t = time();
        let q = WorkQueue::new(t.clone());
        q.add_after("a", Duration::from_millis(50));
        q.add_after("a", Duration::from_millis(70));
        q.add_after("b", Duration::from_millis(60));
        q.add_after("b", Duration::from_millis(10));
        assert!(q.is_empty());
        assert_eq!(q.get().await, Some("b"));
        assert_eq!(t.elapsed(), Duration::from_millis(10));
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(t.elapsed(), Duration::from_millis(50));
        q.done(&"a");
        q.done(&"b");
    }

    /// Upstream: `rate_limiting_queue_test.go` `TestRateLimitingQueue`.
    #[tokio::test(start_paused = true)]
    async fn rate_limited_requeue_backs_off() {
        let t = time();
        let q = WorkQueue::new(t.clone());
        q.add_rate_limited("one");
        q.add_rate_limited("one");
        assert_eq!(q.num_requeues(&"one"), 2);
        assert_eq!(q.get().await, Some("one"));
        // The first delay (5 ms) wins: the second (10 ms) does not postpone it.
        assert_eq!(t.elapsed(), Duration::from_millis(5));
        q.forget(&"one");
        assert_eq!(q.num_requeues(&"one"), 0);
        q.done(&"one");
    }

    #[tokio::test(start_paused = true)]
    async fn shut_down_drains_then_ends() {
        let q = WorkQueue::new(time());
        q.add(1);
        q.shut_down();
        q.add(2);
        assert_eq!(q.get().await, Some(1));
        assert_eq!(q.get().await, None);
        assert!(q.shutting_down());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_worker_wakes_on_add() {
        let q: WorkQueue<u32> = WorkQueue::new(time());
        let worker = {
            let q = q.clone();
            tokio::spawn(async move { q.get().await })
        };
        tokio::task::yield_now().await;
        q.add(7);
        assert_eq!(worker.await.expect("join"), Some(7));
    }
}
