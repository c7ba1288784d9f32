//! Events expire an hour after their last write, as kube-apiserver's `--event-ttl` (default
//! `1h`, `cmd/kube-apiserver/app/options/options.go`) makes them: the event storage's `TTLFunc`
//! (`pkg/registry/core/event/storage/storage.go`) gives every create and update of an Event
//! that TTL, and the etcd3 store attaches the key to an etcd lease of that length
//! (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`). When the lease expires, etcd
//! deletes every key still attached to it, in one transaction.
//!
//! Leases are shared the way the etcd3 store's `leaseManager` shares them
//! (`storage/etcd3/lease_manager.go`, Kubernetes 1.34): a write reuses the previous lease when
//! that lease outlives the TTL by less than the reuse window (5 % of the TTL, at most 60 s)
//! and has fewer than 1,000 objects attached; otherwise a new lease of TTL + the reuse window
//! is granted. A key written again moves to the lease of that write, as an etcd `Put` with a
//! lease does. So the events of one minute expire together, an hour and a minute later.
//!
//! This registry is the in-memory half (which key is on which lease, and when each lease
//! expires); `kubetwin_sim` runs the task that deletes expired keys at the virtual or wall
//! time they expire. Leases are not persisted: after a restart over a redb store, the Events
//! stored before it expire a TTL after the restart (etcd keeps their leases' expiry).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// kube-apiserver's `--event-ttl` default.
pub const EVENT_TTL: Duration = Duration::from_secs(3600);

/// Where Events are stored (events.k8s.io Events are the same objects).
pub const EVENTS_PREFIX: &str = "/registry/events/";

/// The lease manager's settings (`LeaseManagerConfig` defaults and `newDefaultLeaseManager`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeaseSettings {
    /// The longest reuse window, in seconds (`ReuseDurationSeconds`: 60).
    pub reuse_seconds: i64,
    /// The reuse window as a share of the TTL (0.05).
    pub reuse_share: f64,
    /// How many writes one lease takes (`MaxObjectCount`: 1,000).
    pub max_objects: i64,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        Self {
            reuse_seconds: 60,
            reuse_share: 0.05,
            max_objects: 1000,
        }
    }
}

impl LeaseSettings {
    /// `getReuseDurationSecondsLocked`: the smaller of the share of `ttl` and the longest
    /// window (the share truncated to whole seconds, as Go's `int64(float64)`).
    pub fn reuse_window(&self, ttl_seconds: i64) -> i64 {
        // Truncation toward zero, as Go's conversion; TTLs are small positive numbers.
        let share = (self.reuse_share * ttl_seconds as f64) as i64;
        share.min(self.reuse_seconds)
    }
}

/// The lease a write was attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseGrant {
    /// The lease's id (increasing with each grant).
    pub id: u64,
    /// When the lease expires.
    pub expires: Timestamp,
}

/// `leaseManager`: the previous lease and how many writes it took.
#[derive(Debug, Default)]
struct LeaseManager {
    settings: LeaseSettings,
    previous: Option<LeaseGrant>,
    attached_count: i64,
    next_id: u64,
}

impl LeaseManager {
    /// `GetLease`: the previous lease if it can be reused, else a new one.
    fn get_lease(&mut self, now: Timestamp, ttl_seconds: i64) -> LeaseGrant {
        let reuse = self.settings.reuse_window(ttl_seconds);
        // Every call counts, as upstream's (one object per call).
        self.attached_count += 1;
        if let Some(previous) = self.previous {
            let valid = after(now, ttl_seconds) < previous.expires;
            // Upstream's test is strict (`After`), but its wall clock never reads the same
            // instant twice; under virtual time many writes share the grant's instant, and the
            // lease granted then is exactly long enough for them.
            let sufficient = after(now, ttl_seconds + reuse) >= previous.expires;
            if valid && sufficient && self.attached_count <= self.settings.max_objects {
                return previous;
            }
        }
        self.next_id += 1;
        let grant = LeaseGrant {
            id: self.next_id,
            expires: after(now, ttl_seconds + reuse),
        };
        self.previous = Some(grant);
        self.attached_count = 1;
        grant
    }
}

fn after(now: Timestamp, seconds: i64) -> Timestamp {
    now.checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(Timestamp::MAX)
}

#[derive(Debug, Default)]
struct State {
    manager: LeaseManager,
    /// Live leases by id (ids grow with expiry: every lease has the same length) and the
    /// keys written with each.
    leases: BTreeMap<u64, (Timestamp, Vec<String>)>,
    /// The lease each key was last written with.
    attached: BTreeMap<String, u64>,
}

/// The leases of Event keys.
#[derive(Debug, Default)]
pub struct EventLeases {
    state: Mutex<State>,
}

impl EventLeases {
    /// A registry with other lease manager settings (tests).
    pub fn with_settings(settings: LeaseSettings) -> Self {
        let leases = Self::default();
        leases.lock().manager.settings = settings;
        leases
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Attaches `key`, written at `now`, to a lease of `ttl`; does nothing for keys other
    /// than Events', nor for a TTL under a second (the etcd3 store writes without a lease
    /// when the TTL, in whole seconds, is 0).
    pub fn written(&self, key: &str, now: Timestamp, ttl: Duration) {
        // Called for every write: the key is checked first.
        if !key.starts_with(EVENTS_PREFIX) {
            return;
        }
        let ttl_seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        if ttl_seconds == 0 {
            return;
        }
        let mut state = self.lock();
        let grant = state.manager.get_lease(now, ttl_seconds);
        state
            .leases
            .entry(grant.id)
            .or_insert_with(|| (grant.expires, Vec::new()))
            .1
            .push(key.to_string());
        state.attached.insert(key.to_string(), grant.id);
    }

    /// How many writes the current lease took (upstream's `leaseAttachedObjectCount`).
    pub fn attached_count(&self) -> i64 {
        self.lock().manager.attached_count
    }

    /// When the next lease expires.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.lock().leases.values().next().map(|(at, _)| *at)
    }

    /// Ends the leases expired at `now` and returns, one list per lease in order, the keys
    /// still attached to them (to delete, each list in one transaction).
    pub fn expire(&self, now: Timestamp) -> Vec<Vec<String>> {
        let mut state = self.lock();
        let mut expired = Vec::new();
        while let Some(entry) = state.leases.first_entry() {
            if entry.get().0 > now {
                break;
            }
            let (id, (_, keys)) = entry.remove_entry();
            let mut attached = Vec::new();
            for key in keys {
                if state.attached.get(&key) == Some(&id) {
                    state.attached.remove(&key);
                    attached.push(key);
                }
            }
            if !attached.is_empty() {
                expired.push(attached);
            }
        }
        expired
    }
}

impl crate::ApiServer {
    /// Puts the Events already stored (a restart over a redb store) on a lease from now:
    /// their original leases were not kept, and without one they would never expire.
    pub fn adopt_stored_events(&self) {
        let prefix = EVENTS_PREFIX.as_bytes();
        let request =
            kubetwin_store::RangeRequest::range(prefix, kubetwin_store::prefix_range_end(prefix));
        let Ok(stored) = self.storage.store().range(&request) else {
            return;
        };
        let now = self.clock.now();
        for kv in &stored.kvs {
            if let Ok(key) = std::str::from_utf8(&kv.key) {
                self.event_leases.written(key, now, self.config.event_ttl);
            }
        }
    }

    /// Deletes the Events whose leases expired by now, a transaction per lease as etcd's
    /// revocation does. `kubetwin_sim` calls it at each expiry.
    pub async fn expire_events(&self) {
        for keys in self.event_leases.expire(self.clock.now()) {
            if let Err(e) = self.storage.delete_existing(&keys).await {
                tracing::warn!(error = %e, "expiring events failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).expect("valid")
    }

    /// Upstream `TestGetReuseDurationSeconds`.
    #[test]
    fn reuse_window_is_five_percent_of_the_ttl_at_most_a_minute() {
        let cases = [(3600, 60), (1000, 50)];
        for (ttl, window) in cases {
            assert_eq!(
                LeaseSettings::default().reuse_window(ttl),
                window,
                "ttl {ttl}"
            );
        }
    }

    /// Upstream `TestLeaseMaxObjectCount`: with two objects per lease, the third write gets
    /// a new lease and the count starts again.
    #[test]
    fn a_lease_takes_at_most_max_objects() {
        let leases = EventLeases::with_settings(LeaseSettings {
            max_objects: 2,
            ..LeaseSettings::default()
        });
        let cases = [
            ("/registry/events/default/testkey1", 1),
            ("/registry/events/default/testkey2", 2),
            ("/registry/events/default/testkey3", 1),
        ];
        for (key, count) in cases {
            leases.written(key, at(0), Duration::from_secs(120));
            assert_eq!(leases.attached_count(), count, "{key}");
        }
    }

    #[test]
    fn writes_within_the_reuse_window_share_a_lease() {
        // (write at, seconds after the start) → (lease id, expiry): the first lease is
        // granted for TTL + 60 s; writes until 60 s later reuse it (valid: now + TTL before
        // its expiry), the write at 60 s does not.
        let cases = [
            (0, 1, 3660),
            (30, 1, 3660),
            (59, 1, 3660),
            (60, 2, 3720),
            (61, 2, 3720),
        ];
        let mut manager = LeaseManager::default();
        for (now, id, expires) in cases {
            let grant = manager.get_lease(at(now), 3600);
            assert_eq!(
                grant,
                LeaseGrant {
                    id,
                    expires: at(expires)
                },
                "write at {now} s"
            );
        }
    }

    #[test]
    fn a_zero_ttl_writes_without_a_lease() {
        let leases = EventLeases::default();
        leases.written("/registry/events/default/a", at(0), Duration::ZERO);
        assert_eq!(leases.next_expiry(), None);
        assert!(leases.expire(at(1_000_000)).is_empty());
    }

    #[test]
    fn expiry_deletes_the_keys_still_on_the_lease() {
        let leases = EventLeases::default();
        let ttl = EVENT_TTL;
        leases.written("/registry/events/default/a", at(0), ttl);
        leases.written("/registry/events/default/b", at(10), ttl);
        leases.written("/registry/pods/default/p", at(10), ttl);
        // `b` written again on a later lease: it outlives the first.
        leases.written("/registry/events/default/b", at(100), ttl);
        assert_eq!(leases.next_expiry(), Some(at(3660)));
        assert!(leases.expire(at(3659)).is_empty());
        assert_eq!(
            leases.expire(at(3660)),
            vec![vec!["/registry/events/default/a".to_string()]]
        );
        assert_eq!(leases.next_expiry(), Some(at(3760)));
        assert_eq!(
            leases.expire(at(4000)),
            vec![vec!["/registry/events/default/b".to_string()]]
        );
        assert_eq!(leases.next_expiry(), None);
    }
}
