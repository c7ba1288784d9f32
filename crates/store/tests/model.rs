//! Property test: random operation sequences give identical results on the memory backend, the
//! redb backend and a trivial model (one full snapshot per revision). Watches replayed at the
//! end must match the model's per-revision changes.

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use kubetwin_store::{
    Compare, CompareOp, CompareTarget, Event, EventKind, KeyValue, Op, OpResponse, RangeRequest,
    RangeResult, Store, StoreError, Txn, TxnResponse,
};
use proptest::prelude::*;

const KEYS: &[&str] = &["a", "ab", "abc", "b", "/x/1", "/x/2", "/y/1"];

#[derive(Clone, Debug)]
enum Action {
    Txn(Txn),
    Create(usize, u8),
    Update(usize, u8, i64),
    Delete(usize, Option<i64>),
    Compact(i64),
    Range {
        start: usize,
        end: u8,
        limit: usize,
        back: i64,
    },
}

fn key(i: usize) -> &'static str {
    KEYS[i % KEYS.len()]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..KEYS.len(), any::<u8>()).prop_map(|(k, v)| Op::put(key(k), vec![v % 4])),
        (0..KEYS.len()).prop_map(|k| Op::delete(key(k))),
        (0..KEYS.len()).prop_map(|k| Op::get(key(k))),
    ]
}

fn compare_strategy() -> impl Strategy<Value = Compare> {
    let target = prop_oneof![
        (0i64..12).prop_map(CompareTarget::ModRevision),
        (0i64..12).prop_map(CompareTarget::CreateRevision),
        (0i64..4).prop_map(CompareTarget::Version),
        any::<u8>().prop_map(|v| CompareTarget::Value(Bytes::from(vec![v % 4]))),
        any::<bool>().prop_map(CompareTarget::Exists),
    ];
    let op = prop_oneof![
        Just(CompareOp::Equal),
        Just(CompareOp::NotEqual),
        Just(CompareOp::Less),
        Just(CompareOp::Greater),
    ];
    (0..KEYS.len(), target, op).prop_map(|(k, target, op)| Compare::new(key(k), target, op))
}

fn action_strategy() -> impl Strategy<Value = Action> {
    let txn = (
        proptest::collection::vec(compare_strategy(), 0..3),
        proptest::collection::vec(op_strategy(), 0..4),
        proptest::collection::vec(op_strategy(), 0..3),
    )
        .prop_map(|(compares, success, failure)| {
            Action::Txn(Txn {
                compares,
                success,
                failure,
            })
        });
    prop_oneof![
        4 => txn,
        2 => (0..KEYS.len(), any::<u8>()).prop_map(|(k, v)| Action::Create(k, v % 4)),
        2 => (0..KEYS.len(), any::<u8>(), 0i64..14).prop_map(|(k, v, r)| Action::Update(k, v % 4, r)),
        2 => (0..KEYS.len(), proptest::option::of(0i64..14)).prop_map(|(k, r)| Action::Delete(k, r)),
        1 => (0i64..6).prop_map(Action::Compact),
        3 => (0..KEYS.len(), 0u8..4, 0usize..4, -1i64..6)
            .prop_map(|(start, end, limit, back)| Action::Range { start, end, limit, back }),
    ]
}

/// The trivial model: one full snapshot per revision (index 0 = revision 1).
struct Model {
    snapshots: Vec<BTreeMap<Bytes, KeyValue>>,
    events: BTreeMap<i64, Vec<Event>>,
    compacted: i64,
}

impl Model {
    fn new() -> Self {
        Self {
            snapshots: vec![BTreeMap::new()],
            events: BTreeMap::new(),
            compacted: -1,
        }
    }

    fn current(&self) -> i64 {
        self.snapshots.len() as i64
    }

    fn latest(&self) -> &BTreeMap<Bytes, KeyValue> {
        self.snapshots.last().unwrap()
    }

    fn holds(&self, compare: &Compare) -> bool {
        let kv = self.latest().get(&compare.key);
        let ordering = match (&compare.target, kv) {
            (CompareTarget::Value(_), None) => return false,
            (CompareTarget::Value(v), Some(kv)) => kv.value.cmp(v),
            (CompareTarget::ModRevision(r), kv) => kv.map_or(0, |kv| kv.mod_revision).cmp(r),
            (CompareTarget::CreateRevision(r), kv) => kv.map_or(0, |kv| kv.create_revision).cmp(r),
            (CompareTarget::Version(r), kv) => kv.map_or(0, |kv| kv.version).cmp(r),
            (CompareTarget::Exists(e), kv) => kv.is_some().cmp(e),
        };
        match compare.op {
            CompareOp::Equal => ordering.is_eq(),
            CompareOp::NotEqual => ordering.is_ne(),
            CompareOp::Less => ordering.is_lt(),
            CompareOp::Greater => ordering.is_gt(),
        }
    }

    fn txn(&mut self, txn: &Txn) -> Result<TxnResponse, StoreError> {
        for ops in [&txn.success, &txn.failure] {
            let puts: Vec<&Bytes> = ops
                .iter()
                .filter_map(|op| {
                    if let Op::Put { key, .. } = op {
                        Some(key)
                    } else {
                        None
                    }
                })
                .collect();
            for (i, key) in puts.iter().enumerate() {
                if puts[..i].contains(key) {
                    return Err(StoreError::DuplicateKey);
                }
            }
            if ops
                .iter()
                .any(|op| matches!(op, Op::Delete { key } if puts.contains(&key)))
            {
                return Err(StoreError::DuplicateKey);
            }
        }
        let succeeded = txn.compares.iter().all(|c| self.holds(c));
        let ops = if succeeded {
            &txn.success
        } else {
            &txn.failure
        };
        let revision = self.current() + 1;
        let mut next = self.latest().clone();
        let mut events = Vec::new();
        let mut responses = Vec::new();
        for op in ops {
            responses.push(match op {
                Op::Put { key, value } => {
                    let prev = next.get(key).cloned();
                    let kv = KeyValue {
                        key: key.clone(),
                        value: value.clone(),
                        create_revision: prev.as_ref().map_or(revision, |p| p.create_revision),
                        mod_revision: revision,
                        version: prev.as_ref().map_or(0, |p| p.version) + 1,
                    };
                    next.insert(key.clone(), kv.clone());
                    events.push(Event {
                        kind: EventKind::Put,
                        kv: kv.clone(),
                        prev_kv: prev.clone(),
                    });
                    OpResponse::Put { kv, prev_kv: prev }
                }
                Op::Delete { key } => match next.remove(key) {
                    Some(prev) => {
                        let kv = KeyValue {
                            key: key.clone(),
                            value: Bytes::new().into(),
                            create_revision: 0,
                            mod_revision: revision,
                            version: 0,
                        };
                        events.push(Event {
                            kind: EventKind::Delete,
                            kv,
                            prev_kv: Some(prev.clone()),
                        });
                        OpResponse::Delete {
                            deleted: 1,
                            prev_kv: Some(prev),
                        }
                    }
                    None => OpResponse::Delete {
                        deleted: 0,
                        prev_kv: None,
                    },
                },
                Op::Get { key } => OpResponse::Get {
                    kv: next.get(key).cloned(),
                },
            });
        }
        let revision = if events.is_empty() {
            self.current()
        } else {
            self.snapshots.push(next);
            self.events.insert(revision, events);
            revision
        };
        Ok(TxnResponse {
            succeeded,
            revision,
            responses,
        })
    }

    fn compact(&mut self, revision: i64) -> Result<(), StoreError> {
        if revision <= self.compacted {
            return Err(StoreError::Compacted {
                compact_revision: self.compacted,
            });
        }
        if revision > self.current() {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current: self.current(),
            });
        }
        self.compacted = revision;
        Ok(())
    }

    fn range(&self, request: &RangeRequest) -> Result<RangeResult, StoreError> {
        let current = self.current();
        let revision = if request.revision <= 0 {
            current
        } else {
            request.revision
        };
        if revision > current {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current,
            });
        }
        if revision < self.compacted {
            return Err(StoreError::Compacted {
                compact_revision: self.compacted,
            });
        }
        let snapshot = &self.snapshots[(revision - 1) as usize];
        let (start, end) = (&request.key[..], &request.range_end[..]);
        let matching: Vec<KeyValue> = snapshot
            .values()
            .filter(|kv| {
                let k = &kv.key[..];
                if end.is_empty() {
                    k == start
                } else if end == [0] {
                    k >= start
                } else {
                    k >= start && k < end
                }
            })
            .cloned()
            .collect();
        let count = matching.len() as i64;
        let kvs: Vec<KeyValue> = if request.limit == 0 {
            matching
        } else {
            matching.into_iter().take(request.limit).collect()
        };
        Ok(RangeResult {
            more: (kvs.len() as i64) < count,
            kvs,
            count,
            revision: current,
        })
    }
}

/// Runs one action against a store, normalising the result for comparison.
async fn run(store: &Store, action: &Action) -> String {
    match action {
        Action::Txn(txn) => format!("{:?}", store.txn(txn.clone()).await),
        Action::Create(k, v) => format!("{:?}", store.create(key(*k), vec![*v]).await),
        Action::Update(k, v, r) => format!("{:?}", store.update(key(*k), vec![*v], *r).await),
        Action::Delete(k, r) => format!("{:?}", store.delete(key(*k), *r).await),
        Action::Compact(back) => {
            format!("{:?}", store.compact(store.current_revision() - back).await)
        }
        Action::Range { .. } => {
            let request = range_request(action, store.current_revision());
            format!("{:?}", store.range(&request))
        }
    }
}

fn range_request(action: &Action, current: i64) -> RangeRequest {
    let Action::Range {
        start,
        end,
        limit,
        back,
    } = action
    else {
        unreachable!()
    };
    let start = key(*start);
    let request = match end {
        0 => RangeRequest::key(start),
        1 => RangeRequest::prefix(start),
        2 => RangeRequest::range(start, "\0"),
        _ => RangeRequest::range(start, "/y"),
    };
    let revision = if *back < 0 { 0 } else { current - back };
    request.with_limit(*limit).at_revision(revision)
}

/// The model's answer, formatted like [`run`]'s, built from the store-level convenience
/// semantics (create = put if absent, etc.).
fn model_run(model: &mut Model, action: &Action) -> String {
    match action {
        Action::Txn(txn) => format!("{:?}", model.txn(txn)),
        Action::Create(k, v) => {
            let result = match model.latest().get(key(*k).as_bytes()).cloned() {
                Some(existing) => Err(StoreError::AlreadyExists {
                    existing: Box::new(existing),
                }),
                None => put(model, *k, *v),
            };
            format!("{result:?}")
        }
        Action::Update(k, v, r) => {
            let result = match model.latest().get(key(*k).as_bytes()).cloned() {
                None => Err(StoreError::NotFound),
                Some(current) if current.mod_revision != *r => Err(StoreError::Conflict {
                    current: Box::new(current),
                }),
                Some(_) => put(model, *k, *v),
            };
            format!("{result:?}")
        }
        Action::Delete(k, r) => {
            let result = match model.latest().get(key(*k).as_bytes()).cloned() {
                None => Err(StoreError::NotFound),
                Some(current) if r.is_some_and(|r| r != current.mod_revision) => {
                    Err(StoreError::Conflict {
                        current: Box::new(current),
                    })
                }
                Some(_) => {
                    let response = model
                        .txn(&Txn {
                            success: vec![Op::delete(key(*k))],
                            ..Txn::default()
                        })
                        .unwrap();
                    match response.responses.into_iter().next() {
                        Some(OpResponse::Delete {
                            prev_kv: Some(prev_kv),
                            ..
                        }) => Ok(kubetwin_store::DeleteResult {
                            prev_kv,
                            revision: response.revision,
                        }),
                        _ => unreachable!(),
                    }
                }
            };
            format!("{result:?}")
        }
        Action::Compact(back) => format!("{:?}", model.compact(model.current() - back)),
        Action::Range { .. } => {
            format!("{:?}", model.range(&range_request(action, model.current())))
        }
    }
}

fn put(model: &mut Model, k: usize, v: u8) -> Result<KeyValue, StoreError> {
    let response = model.txn(&Txn {
        success: vec![Op::put(key(k), vec![v])],
        ..Txn::default()
    })?;
    match response.responses.into_iter().next() {
        Some(OpResponse::Put { kv, .. }) => Ok(kv),
        _ => unreachable!(),
    }
}

fn watch_all(store: &Store, start: i64) -> Result<Vec<Event>, StoreError> {
    let mut watcher = store.watch_range("", "\0", start)?;
    let mut events = Vec::new();
    while let Some(event) = watcher.try_recv().unwrap() {
        events.push(event);
    }
    Ok(events)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn backends_match_the_model(actions in proptest::collection::vec(action_strategy(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let memory = Store::memory();
            let (redb, dir) = common::redb_fast();
            let mut model = Model::new();
            for (i, action) in actions.iter().enumerate() {
                let want = model_run(&mut model, action);
                prop_assert_eq!(&run(&memory, action).await, &want, "memory, step {} {:?}", i, action);
                prop_assert_eq!(&run(&redb, action).await, &want, "redb, step {} {:?}", i, action);
            }
            prop_assert_eq!(memory.current_revision(), model.current());
            prop_assert_eq!(memory.compacted_revision(), model.compacted);
            // Watches from every allowed start revision replay exactly the model's changes.
            let first = (model.compacted + 1).max(1);
            for start in first..=model.current() + 1 {
                let want: Vec<Event> = model.events.range(start..).flat_map(|(_, e)| e.clone()).collect();
                prop_assert_eq!(&watch_all(&memory, start).unwrap(), &want, "memory watch from {}", start);
                prop_assert_eq!(&watch_all(&redb, start).unwrap(), &want, "redb watch from {}", start);
            }
            // A reopened redb store answers the same.
            drop(redb);
            let reopened = Store::open_redb(dir.path().join("store.redb"), Default::default()).unwrap();
            prop_assert_eq!(reopened.current_revision(), model.current());
            prop_assert_eq!(reopened.compacted_revision(), model.compacted);
            for revision in first.max(model.compacted)..=model.current() {
                let request = RangeRequest::range("", "\0").at_revision(revision);
                prop_assert_eq!(reopened.range(&request), model.range(&request), "reopened at {}", revision);
            }
            for start in first..=model.current() + 1 {
                let want: Vec<Event> = model.events.range(start..).flat_map(|(_, e)| e.clone()).collect();
                prop_assert_eq!(&watch_all(&reopened, start).unwrap(), &want, "reopened watch from {}", start);
            }
            Ok(())
        })?;
    }
}
