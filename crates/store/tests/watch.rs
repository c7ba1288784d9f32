//! Watch semantics on both backends: replay from a revision, the replay/live boundary under
//! concurrent writers, deletes, compaction, closure.
//!
//! Cases transcribed from go.etcd.io/etcd `server/storage/mvcc/watchable_store_test.go` and
//! `server/storage/mvcc/kv_test.go` (TestWatchableKVWatch); each test names its upstream test.

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use common::{Kind, both};
use kubetwin_store::{
    Event, EventKind, KeyValue, Op, StoreError, Txn, WatchError, Watcher, prefix_range_end,
};

fn kv(key: &str, value: &str, create: i64, modified: i64, version: i64) -> KeyValue {
    KeyValue {
        key: Bytes::copy_from_slice(key.as_bytes()),
        value: Bytes::copy_from_slice(value.as_bytes()).into(),
        create_revision: create,
        mod_revision: modified,
        version,
    }
}

fn put_event(kv: KeyValue, prev_kv: Option<KeyValue>) -> Event {
    Event {
        kind: EventKind::Put,
        kv,
        prev_kv,
    }
}

fn delete_event(key: &str, revision: i64, prev_kv: KeyValue) -> Event {
    Event {
        kind: EventKind::Delete,
        kv: kv(key, "", 0, revision, 0),
        prev_kv: Some(prev_kv),
    }
}

/// Every event available now.
fn drain(watcher: &mut Watcher) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = watcher.try_recv().unwrap() {
        events.push(event);
    }
    events
}

#[tokio::test]
async fn watchable_kv_watch() {
    // Upstream: kv_test.go TestWatchableKVWatch.
    for t in both() {
        let mut watcher = t.store.watch_range("foo", "fop", 0).unwrap();
        t.store.put("foo", "bar").await.unwrap();
        let first = kv("foo", "bar", 2, 2, 1);
        assert_eq!(
            watcher.recv().await.unwrap(),
            put_event(first, None),
            "{:?}",
            t.kind
        );
        t.store.put("foo1", "bar1").await.unwrap();
        let second = kv("foo1", "bar1", 3, 3, 1);
        assert_eq!(
            watcher.recv().await.unwrap(),
            put_event(second.clone(), None)
        );

        // A new watcher from revision 3 replays revision 3, then goes live.
        let mut replaying = t.store.watch_range("foo1", "foo2", 3).unwrap();
        assert_eq!(
            replaying.recv().await.unwrap(),
            put_event(second.clone(), None)
        );
        t.store.put("foo1", "bar11").await.unwrap();
        let third = put_event(kv("foo1", "bar11", 3, 4, 2), Some(second));
        assert_eq!(replaying.recv().await.unwrap(), third, "{:?}", t.kind);
        assert_eq!(watcher.recv().await.unwrap(), third);
    }
}

#[tokio::test]
async fn range_events_windows() {
    // Upstream: watchable_store_test.go TestRangeEvents: puts of foo1, foo2, foo3 (revisions
    // 2-4), then one transaction deleting foo1 and foo2 (revision 5, two events in op order).
    // Each row: a watcher from `min` sees exactly the events with revision in [min, max).
    let foo1 = kv("foo1", "bar", 2, 2, 1);
    let foo2 = kv("foo2", "bar", 3, 3, 1);
    let foo3 = kv("foo3", "bar", 4, 4, 1);
    let all = [
        put_event(foo1.clone(), None),
        put_event(foo2.clone(), None),
        put_event(foo3, None),
        delete_event("foo1", 5, foo1),
        delete_event("foo2", 5, foo2),
    ];
    let rows: &[(i64, i64, std::ops::Range<usize>)] = &[
        (1, 6, 0..5),
        (1, 5, 0..3),
        (1, 4, 0..2),
        (1, 3, 0..1),
        (1, 2, 0..0),
        (2, 6, 0..5),
        (3, 6, 1..5),
        (4, 6, 2..5),
        (5, 6, 3..5),
        (6, 6, 0..0),
        (2, 2, 0..0),
        (2, 3, 0..1),
        (2, 4, 0..2),
        (3, 4, 1..2),
        (3, 5, 1..3),
        (4, 5, 2..3),
        (4, 6, 2..5),
        (5, 6, 3..5),
        (6, 6, 5..5),
    ];
    for t in both() {
        for key in ["foo1", "foo2", "foo3"] {
            t.store.put(key, "bar").await.unwrap();
        }
        let txn = Txn {
            success: vec![Op::delete("foo1"), Op::delete("foo2")],
            ..Txn::default()
        };
        assert_eq!(t.store.txn(txn).await.unwrap().revision, 5);
        for (min, max, want) in rows {
            let mut watcher = t.store.watch("foo", *min).unwrap();
            let got: Vec<Event> = drain(&mut watcher)
                .into_iter()
                .filter(|e| e.revision() < *max)
                .collect();
            assert_eq!(
                got,
                all[want.clone()].to_vec(),
                "{:?} [{min}, {max})",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn watch_compacted() {
    // Upstream: watchable_store_test.go TestWatchCompacted: 10 puts, compact at 5, a watch
    // from 4 gets the compaction error. Deliberate difference: a watch from exactly the
    // compacted revision is refused too (etcd would silently miss a delete at that revision).
    for t in both() {
        for _ in 0..10 {
            t.store.put("foo", "bar").await.unwrap();
        }
        t.store.compact(5).await.unwrap();
        let compacted = StoreError::Compacted {
            compact_revision: 5,
        };
        assert_eq!(
            t.store.watch("foo", 4).map(drop),
            Err(compacted.clone()),
            "{:?}",
            t.kind
        );
        assert_eq!(t.store.watch("foo", 5).map(drop), Err(compacted));
        let mut watcher = t.store.watch("foo", 6).unwrap();
        let revisions: Vec<i64> = drain(&mut watcher).iter().map(Event::revision).collect();
        assert_eq!(revisions, vec![6, 7, 8, 9, 10, 11]);
    }
}

#[tokio::test]
async fn watch_no_event_loss_on_compact() {
    // Upstream: watchable_store_test.go TestWatchNoEventLossOnCompact: watchers from below the
    // compaction are refused, a watcher from above it gets every later revision in order.
    for t in both() {
        for _ in 0..10 {
            t.store.put("foo", "bar").await.unwrap();
        }
        t.store.compact(5).await.unwrap();
        for start in [1, 1] {
            assert!(matches!(
                t.store.watch("foo", start),
                Err(StoreError::Compacted { .. })
            ));
        }
        let mut watcher = t.store.watch_range("foo", "", 6).unwrap();
        let revisions: Vec<i64> = drain(&mut watcher).iter().map(Event::revision).collect();
        assert_eq!(
            revisions,
            (6..=t.store.current_revision()).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn watch_future_rev() {
    // Upstream: watchable_store_test.go TestWatchFutureRev: a watch from revision 10 on a store
    // at revision 1 waits, and its first event is revision 10.
    for t in both() {
        let mut watcher = t.store.watch_range("foo", "", 10).unwrap();
        loop {
            let written = t.store.put("foo", "bar").await.unwrap();
            if written.mod_revision >= 10 {
                break;
            }
            assert_eq!(watcher.try_recv().unwrap(), None);
        }
        let event = watcher.recv().await.unwrap();
        assert_eq!(event.revision(), 10, "{:?}", t.kind);
        assert_eq!(event.kv.version, 9);
    }
}

#[tokio::test]
async fn watch_from_now_skips_history_and_reports_progress() {
    for t in both() {
        t.store.put("/a/1", "x").await.unwrap();
        let mut watcher = t.store.watch("/a/", 0).unwrap();
        assert_eq!(watcher.try_recv().unwrap(), None);
        assert_eq!(watcher.progress_revision(), 2);
        t.store.put("/b/1", "x").await.unwrap(); // 3, outside the prefix
        assert_eq!(watcher.try_recv().unwrap(), None);
        assert_eq!(watcher.progress_revision(), 3, "{:?}", t.kind);
        t.store.put("/a/2", "y").await.unwrap(); // 4
        t.store.put("/a/3", "z").await.unwrap(); // 5
        assert_eq!(watcher.recv().await.unwrap().revision(), 4);
        assert_eq!(watcher.progress_revision(), 4);
        assert_eq!(watcher.recv().await.unwrap().revision(), 5);
    }
}

#[tokio::test]
async fn delete_events_carry_revision_and_prev_kv() {
    // Upstream: api/mvccpb/kv.proto (Event.prev_kv), watchable_store.go (delete events hold the
    // key and the delete's revision only).
    for t in both() {
        let mut watcher = t.store.watch("/registry/pods/", 0).unwrap();
        let created = t.store.create("/registry/pods/ns/a", "v1").await.unwrap();
        let updated = t
            .store
            .update("/registry/pods/ns/a", "v2", created.mod_revision)
            .await;
        let updated = updated.unwrap();
        let deleted = t
            .store
            .delete("/registry/pods/ns/a", Some(updated.mod_revision))
            .await;
        let deleted = deleted.unwrap();
        let events = [
            watcher.recv().await,
            watcher.recv().await,
            watcher.recv().await,
        ];
        let events: Vec<Event> = events.into_iter().map(Result::unwrap).collect();
        assert!(events[0].is_create());
        assert!(!events[1].is_create());
        assert_eq!(
            events,
            vec![
                put_event(created.clone(), None),
                put_event(updated.clone(), Some(created)),
                delete_event("/registry/pods/ns/a", deleted.revision, updated),
            ],
            "{:?}",
            t.kind
        );
    }
}

#[tokio::test]
async fn slow_watcher_overtaken_by_compaction_must_relist() {
    // The slow-watcher policy: writers never wait; a watcher whose next revision is compacted
    // ends with Compacted (and keeps returning it).
    for t in both() {
        for i in 0..20 {
            t.store.put("k", format!("v{i}")).await.unwrap();
        }
        // This watcher already read its history (events are read ahead of delivery): the
        // compaction below does not take them away.
        let mut ahead = t.store.watch("k", 2).unwrap();
        assert_eq!(ahead.recv().await.unwrap().revision(), 2);
        // This one has read nothing yet when history it needs is compacted.
        let mut slow = t.store.watch("k", 2).unwrap();
        t.store.compact(10).await.unwrap();
        let compacted = Err(WatchError::Compacted {
            compact_revision: 10,
        });
        assert_eq!(slow.recv().await, compacted, "{:?}", t.kind);
        assert_eq!(slow.try_recv(), compacted.map(Some));
        let rest: Vec<i64> = drain(&mut ahead).iter().map(Event::revision).collect();
        assert_eq!(rest, (3..=21).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn watcher_ends_with_closed_after_store_drop() {
    for t in both() {
        let mut watcher = t.store.watch("", 0).unwrap();
        t.store.put("a", "1").await.unwrap();
        t.store.put("b", "2").await.unwrap();
        drop(t);
        assert_eq!(watcher.recv().await.unwrap().revision(), 2);
        assert_eq!(watcher.recv().await.unwrap().revision(), 3);
        assert_eq!(watcher.recv().await, Err(WatchError::Closed));
    }
}

/// Expected events of a watcher on the whole keyspace from `start`, from the writers' own
/// record of (revision → key, value or delete).
fn check_stream(
    kind: Kind,
    start: i64,
    events: &[Event],
    log: &BTreeMap<i64, (String, Option<String>)>,
) {
    let expected: Vec<(i64, String, Option<String>)> = log
        .range(start..)
        .map(|(rev, (key, value))| (*rev, key.clone(), value.clone()))
        .collect();
    let got: Vec<(i64, String, Option<String>)> = events
        .iter()
        .map(|e| {
            let key = e.kv.key_str().unwrap().to_owned();
            let value = match e.kind {
                EventKind::Put => Some(String::from_utf8(e.kv.value.to_vec()).unwrap()),
                EventKind::Delete => None,
            };
            (e.revision(), key, value)
        })
        .collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "{kind:?} watcher from {start}: gap or duplicate"
    );
    assert_eq!(got, expected, "{kind:?} watcher from {start}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_then_live_has_no_gap_and_no_duplicate_under_concurrent_writes() {
    // Watchers are created while 4 writers run, each from a revision in the past (replay) or
    // the current one; each must then see every later revision exactly once, in order.
    const WRITERS: usize = 4;
    const WRITES: usize = 300;
    for t in both() {
        let store = t.store.clone();
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let store = store.clone();
            writers.push(tokio::spawn(async move {
                let mut log = Vec::new();
                for i in 0..WRITES {
                    let key = format!("/w{w}/k{}", i % 7);
                    if i % 5 == 4 {
                        if let Ok(deleted) = store.delete(&key, None).await {
                            log.push((deleted.revision, key, None));
                        }
                    } else {
                        let value = format!("{w}-{i}");
                        let kv = store.put(&key, value.clone()).await.unwrap();
                        log.push((kv.mod_revision, key, Some(value)));
                    }
                    if i % 16 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                log
            }));
        }
        // Start watchers at staggered moments and revisions while the writers run.
        let mut watchers = Vec::new();
        for round in 0..12 {
            tokio::task::yield_now().await;
            let current = store.current_revision();
            let start = match round % 3 {
                0 => current + 1,
                1 => (current - 50).max(1),
                _ => (current / 2).max(1),
            };
            let mut watcher = store
                .watch_range("/w", prefix_range_end(b"/w"), start)
                .unwrap();
            watchers.push(tokio::spawn(async move {
                let mut events = Vec::new();
                let total = (WRITERS * WRITES) as i64; // upper bound; stop on the sentinel
                while (events.len() as i64) < total {
                    let event: Event = watcher.recv().await.unwrap();
                    if event.kv.key == "/w/done" {
                        break;
                    }
                    events.push(event);
                }
                (start, events)
            }));
        }
        let mut log = BTreeMap::new();
        for writer in writers {
            for (rev, key, value) in writer.await.unwrap() {
                assert!(log.insert(rev, (key, value)).is_none(), "revision reused");
            }
        }
        store.put("/w/done", "").await.unwrap();
        for watcher in watchers {
            let (start, events) = watcher.await.unwrap();
            check_stream(t.kind, start, &events, &log);
        }
    }
}

#[tokio::test]
async fn many_watchers_on_different_prefixes_see_only_their_keys() {
    for t in both() {
        let mut watchers: Vec<(String, Watcher)> = (0..10)
            .map(|i| {
                let prefix = format!("/registry/r{i}/");
                let watcher = t.store.watch(&prefix, 0).unwrap();
                (prefix, watcher)
            })
            .collect();
        for n in 0..50 {
            t.store
                .put(format!("/registry/r{}/ns/o{n}", n % 10), "v")
                .await
                .unwrap();
        }
        for (prefix, watcher) in &mut watchers {
            let events = drain(watcher);
            assert_eq!(events.len(), 5, "{:?} {prefix}", t.kind);
            assert!(
                events
                    .iter()
                    .all(|e| e.kv.key.starts_with(prefix.as_bytes()))
            );
            assert!(events.windows(2).all(|w| w[0].revision() < w[1].revision()));
        }
    }
}

/// Not an upstream case: watchers wake in the order they started waiting, on every run.
/// Virtual-time runs of the twin rely on it for same-seed determinism (a `tokio::sync::watch`
/// wake-up, which this store once used, wakes its receivers in a randomly seeded order).
#[tokio::test]
async fn watchers_wake_in_the_order_they_started_waiting() {
    let store = kubetwin_store::Store::memory();
    let woken = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..32 {
        let mut watcher = store.watch("", 0).unwrap();
        let woken = woken.clone();
        tasks.push(tokio::spawn(async move {
            watcher.recv().await.unwrap();
            woken.lock().unwrap().push(i);
        }));
        // Let this watcher start waiting before the next one is spawned.
        tokio::task::yield_now().await;
    }
    store.put("k", "v").await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*woken.lock().unwrap(), (0..32).collect::<Vec<_>>());
}
