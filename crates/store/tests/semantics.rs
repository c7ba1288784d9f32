//! Table-driven etcd v3 semantics, run against both backends (memory and redb).
//!
//! Cases transcribed from go.etcd.io/etcd `server/storage/mvcc/kv_test.go`,
//! `server/storage/mvcc/kvstore_test.go` and `tests/integration/v3_grpc_test.go`; each table
//! names its upstream test.

mod common;

use bytes::Bytes;
use common::{Kind, TestStore, both};
use kubetwin_store::{
    Compare, CompareOp, CompareTarget, KeyValue, Op, OpResponse, RangeRequest, Store, StoreError,
    Txn,
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

/// Upstream `kv_test.go` `put3TestKVs`: foo, foo1, foo2 at revisions 2, 3, 4.
async fn put3(store: &Store) -> Vec<KeyValue> {
    store.put("foo", "bar").await.unwrap();
    store.put("foo1", "bar1").await.unwrap();
    store.put("foo2", "bar2").await.unwrap();
    vec![
        kv("foo", "bar", 2, 2, 1),
        kv("foo1", "bar1", 3, 3, 1),
        kv("foo2", "bar2", 4, 4, 1),
    ]
}

#[tokio::test]
async fn empty_store_is_at_revision_1() {
    // Upstream: kvstore.go NewStore (`currentRev: 1`), kvstore_test.go TestStoreRev.
    for t in both() {
        assert_eq!(t.store.current_revision(), 1, "{:?}", t.kind);
        assert_eq!(t.store.compacted_revision(), -1, "{:?}", t.kind);
        let first = t.store.put("a", "b").await.unwrap();
        assert_eq!(first.mod_revision, 2, "{:?}", t.kind);
    }
}

#[tokio::test]
async fn kv_range() {
    // Upstream: kv_test.go testKVRange. "Entire keyspace" is ("", "\0") in the gRPC API.
    type Case = (
        &'static str,
        &'static [u8],
        &'static [u8],
        std::ops::Range<usize>,
    );
    let cases: &[Case] = &[
        ("no keys", b"doo", b"foo", 0..0),
        ("no keys when key == end", b"foo", b"foo", 0..0),
        (
            "no keys when ranging a single missing key",
            b"doo",
            b"",
            0..0,
        ),
        ("all keys", b"foo", b"foo3", 0..3),
        ("partial keys", b"foo", b"foo1", 0..1),
        ("single key", b"foo", b"", 0..1),
        ("entire keyspace", b"", b"\0", 0..3),
        ("inverted range is empty", b"foo2", b"foo", 0..0),
    ];
    for t in both() {
        let kvs = put3(&t.store).await;
        for (name, key, end, want) in cases {
            let result = t.store.range(&RangeRequest::range(key, end)).unwrap();
            assert_eq!(result.revision, 4, "{:?} {name}", t.kind);
            assert_eq!(
                result.kvs,
                kvs[want.clone()].to_vec(),
                "{:?} {name}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn kv_range_rev() {
    // Upstream: kv_test.go testKVRangeRev: (read revision, header revision, kvs).
    let cases: &[(i64, i64, std::ops::Range<usize>)] = &[
        (-1, 4, 0..3),
        (0, 4, 0..3),
        (2, 4, 0..1),
        (3, 4, 0..2),
        (4, 4, 0..3),
    ];
    for t in both() {
        let kvs = put3(&t.store).await;
        for &(revision, want_revision, ref want) in cases {
            let request = RangeRequest::range("foo", "foo3").at_revision(revision);
            let result = t.store.range(&request).unwrap();
            assert_eq!(
                result.revision, want_revision,
                "{:?} rev {revision}",
                t.kind
            );
            assert_eq!(
                result.kvs,
                kvs[want.clone()].to_vec(),
                "{:?} rev {revision}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn kv_range_bad_rev() {
    // Upstream: kv_test.go testKVRangeBadRev (after Compact(4)).
    let compacted = Err(StoreError::Compacted {
        compact_revision: 4,
    });
    let future = |requested| {
        Err(StoreError::FutureRevision {
            requested,
            current: 4,
        })
    };
    let cases: Vec<(i64, Result<(), StoreError>)> = vec![
        (-1, Ok(())),
        (0, Ok(())),
        (1, compacted.clone()),
        (2, compacted.clone()),
        (4, Ok(())),
        (5, future(5)),
        (100, future(100)),
    ];
    for t in both() {
        put3(&t.store).await;
        t.store.compact(4).await.unwrap();
        for (revision, want) in &cases {
            let request = RangeRequest::range("foo", "foo3").at_revision(*revision);
            let got = t.store.range(&request).map(drop);
            assert_eq!(&got, want, "{:?} rev {revision}", t.kind);
        }
    }
}

#[tokio::test]
async fn kv_range_limit() {
    // Upstream: kv_test.go testKVRangeLimit (limit 0 = none), plus the `more` flag
    // (server/etcdserver/txn/range.go: more = count > len(kvs)).
    let cases: &[(usize, usize, bool)] = &[
        (0, 3, false),
        (1, 1, true),
        (2, 2, true),
        (3, 3, false),
        (100, 3, false),
    ];
    for t in both() {
        let kvs = put3(&t.store).await;
        for &(limit, want_len, want_more) in cases {
            let request = RangeRequest::range("foo", "foo3").with_limit(limit);
            let result = t.store.range(&request).unwrap();
            assert_eq!(
                result.kvs,
                kvs[..want_len].to_vec(),
                "{:?} limit {limit}",
                t.kind
            );
            assert_eq!(result.count, 3, "{:?} limit {limit}", t.kind);
            assert_eq!(result.more, want_more, "{:?} limit {limit}", t.kind);
            assert_eq!(result.revision, 4, "{:?} limit {limit}", t.kind);
        }
    }
}

#[tokio::test]
async fn paginated_list_at_fixed_revision_ignores_later_writes() {
    // What the API server does for `limit` + `continue`: read page 1 at the current revision,
    // then the next pages at that same revision, starting after the last key returned.
    for t in both() {
        for i in 0..10 {
            t.store
                .create(format!("/registry/pods/ns/p{i:02}"), "v1")
                .await
                .unwrap();
        }
        let first = t
            .store
            .range(&RangeRequest::prefix("/registry/pods/").with_limit(4))
            .unwrap();
        let list_revision = first.revision;
        assert!(first.more);
        // Concurrent changes after the list started.
        t.store.delete("/registry/pods/ns/p05", None).await.unwrap();
        t.store.put("/registry/pods/ns/p09", "v2").await.unwrap();
        t.store.create("/registry/pods/ns/p10", "v1").await.unwrap();
        let mut names: Vec<KeyValue> = first.kvs.clone();
        while let Some(last) = names.last() {
            let mut resume = last.key.to_vec();
            resume.push(0);
            let page = t
                .store
                .range(
                    &RangeRequest::prefix("/registry/pods/")
                        .starting_at(&resume)
                        .with_limit(4)
                        .at_revision(list_revision),
                )
                .unwrap();
            names.extend(page.kvs.iter().cloned());
            if !page.more {
                break;
            }
        }
        let keys: Vec<String> = names
            .iter()
            .map(|kv| kv.key_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = (0..10)
            .map(|i| format!("/registry/pods/ns/p{i:02}"))
            .collect();
        assert_eq!(keys, want, "{:?}", t.kind);
        assert!(names.iter().all(|kv| kv.value == "v1"), "{:?}", t.kind);
    }
}

#[tokio::test]
async fn kv_put_multiple_times() {
    // Upstream: kv_test.go testKVPutMultipleTimes.
    for t in both() {
        for i in 0..10 {
            let base = i + 1;
            let written = t.store.put("foo", "bar").await.unwrap();
            assert_eq!(written.mod_revision, base + 1, "{:?}", t.kind);
            let got = t.store.get("foo").unwrap();
            assert_eq!(
                got,
                Some(kv("foo", "bar", 2, base + 1, base)),
                "{:?}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn kv_delete_single_key() {
    // Upstream: kv_test.go testKVDeleteRange (single-key cases): (key, revision, deleted).
    let cases: &[(&str, i64, i64)] = &[("foo", 5, 1), ("foo1", 5, 1), ("foo3", 4, 0)];
    for (key, want_revision, want_deleted) in cases {
        for t in both() {
            put3(&t.store).await;
            let txn = Txn {
                success: vec![Op::delete(key)],
                ..Txn::default()
            };
            let response = t.store.txn(txn).await.unwrap();
            assert_eq!(response.revision, *want_revision, "{:?} {key}", t.kind);
            match &response.responses[..] {
                [OpResponse::Delete { deleted, .. }] => assert_eq!(deleted, want_deleted),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn kv_delete_multiple_times() {
    // Upstream: kv_test.go testKVDeleteMultipleTimes: deleting a missing key does not move
    // the revision.
    for t in both() {
        t.store.put("foo", "bar").await.unwrap();
        let first = t.store.txn(Txn {
            success: vec![Op::delete("foo")],
            ..Txn::default()
        });
        let first = first.await.unwrap();
        assert_eq!(first.revision, 3);
        for _ in 0..10 {
            let again = t.store.txn(Txn {
                success: vec![Op::delete("foo")],
                ..Txn::default()
            });
            let again = again.await.unwrap();
            assert_eq!(again.revision, 3, "{:?}", t.kind);
            assert_eq!(
                again.responses,
                vec![OpResponse::Delete {
                    deleted: 0,
                    prev_kv: None
                }]
            );
        }
        assert_eq!(t.store.delete("foo", None).await, Err(StoreError::NotFound));
    }
}

#[tokio::test]
async fn kv_operation_in_sequence() {
    // Upstream: kv_test.go TestKVOperationInSequence.
    for t in both() {
        for i in 0..10 {
            let base = i * 2 + 1;
            let put = t.store.put("foo", "bar").await.unwrap();
            assert_eq!(put.mod_revision, base + 1);
            let read = t
                .store
                .range(&RangeRequest::key("foo").at_revision(base + 1))
                .unwrap();
            assert_eq!(
                read.kvs,
                vec![kv("foo", "bar", base + 1, base + 1, 1)],
                "{:?}",
                t.kind
            );
            assert_eq!(read.revision, base + 1);
            let deleted = t.store.delete("foo", None).await.unwrap();
            assert_eq!(deleted.revision, base + 2);
            let read = t
                .store
                .range(&RangeRequest::key("foo").at_revision(base + 2))
                .unwrap();
            assert!(read.kvs.is_empty(), "{:?}", t.kind);
            assert_eq!(read.revision, base + 2);
        }
    }
}

#[tokio::test]
async fn kv_txn_operation_in_sequence() {
    // Upstream: kv_test.go TestKVTxnOperationInSequence: writes of one transaction share one
    // revision and its reads see its own writes. Upstream puts and deletes the same key in one
    // mvcc transaction; the gRPC layer (and this store) reject that as a duplicate key
    // (v3rpc/key.go checkIntervals), so the delete goes into a second transaction here.
    for t in both() {
        for i in 0..10 {
            let base = i * 2 + 1;
            let txn = Txn {
                success: vec![Op::get("foo"), Op::put("foo", "bar"), Op::get("foo")],
                ..Txn::default()
            };
            let response = t.store.txn(txn).await.unwrap();
            assert_eq!(response.revision, base + 1, "{:?}", t.kind);
            let written = kv("foo", "bar", base + 1, base + 1, 1);
            assert_eq!(
                response.responses,
                vec![
                    OpResponse::Get { kv: None },
                    OpResponse::Put {
                        kv: written.clone(),
                        prev_kv: None
                    },
                    OpResponse::Get {
                        kv: Some(written.clone())
                    },
                ],
                "{:?}",
                t.kind
            );
            let txn = Txn {
                success: vec![Op::delete("foo"), Op::get("foo"), Op::delete("foo")],
                ..Txn::default()
            };
            let response = t.store.txn(txn).await.unwrap();
            assert_eq!(response.revision, base + 2, "{:?}", t.kind);
            assert_eq!(
                response.responses,
                vec![
                    OpResponse::Delete {
                        deleted: 1,
                        prev_kv: Some(written)
                    },
                    OpResponse::Get { kv: None },
                    OpResponse::Delete {
                        deleted: 0,
                        prev_kv: None
                    },
                ],
                "{:?}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn kv_compact_reserve_last_value() {
    // Upstream: kv_test.go TestKVCompactReserveLastValue: after Compact(rev), a read at rev+1
    // still sees the value live at rev+1.
    let cases: Vec<(i64, Option<KeyValue>)> = vec![
        (1, Some(kv("foo", "bar0", 2, 2, 1))),
        (2, Some(kv("foo", "bar1", 2, 3, 2))),
        (3, None),
        (4, Some(kv("foo", "bar2", 5, 5, 1))),
    ];
    for t in both() {
        t.store.put("foo", "bar0").await.unwrap();
        t.store.put("foo", "bar1").await.unwrap();
        t.store.delete("foo", None).await.unwrap();
        t.store.put("foo", "bar2").await.unwrap();
        for (revision, want) in &cases {
            t.store.compact(*revision).await.unwrap();
            let read = t
                .store
                .range(&RangeRequest::key("foo").at_revision(revision + 1))
                .unwrap();
            assert_eq!(
                read.kvs.first(),
                want.as_ref(),
                "{:?} compact {revision}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn kv_compact_bad() {
    // Upstream: kv_test.go TestKVCompactBad (compactions run in sequence on one store).
    let cases: Vec<(i64, Result<(), StoreError>)> = vec![
        (0, Ok(())),
        (1, Ok(())),
        (
            1,
            Err(StoreError::Compacted {
                compact_revision: 1,
            }),
        ),
        (4, Ok(())),
        (
            5,
            Err(StoreError::FutureRevision {
                requested: 5,
                current: 4,
            }),
        ),
        (
            100,
            Err(StoreError::FutureRevision {
                requested: 100,
                current: 4,
            }),
        ),
    ];
    for t in both() {
        for value in ["bar0", "bar1", "bar2"] {
            t.store.put("foo", value).await.unwrap();
        }
        for (revision, want) in &cases {
            assert_eq!(
                &t.store.compact(*revision).await,
                want,
                "{:?} {revision}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn txn_revision() {
    // Upstream: v3_grpc_test.go TestV3TxnRevision: read-only and no-op transactions keep the
    // revision; a put moves it by one.
    for t in both() {
        let put = t.store.put("abc", "def").await.unwrap();
        let read = Txn {
            success: vec![Op::get("abc")],
            ..Txn::default()
        };
        assert_eq!(t.store.txn(read).await.unwrap().revision, put.mod_revision);
        let noop_delete = Txn {
            success: vec![Op::delete("def")],
            ..Txn::default()
        };
        assert_eq!(
            t.store.txn(noop_delete).await.unwrap().revision,
            put.mod_revision
        );
        let write = Txn {
            success: vec![Op::put("abc", "123")],
            ..Txn::default()
        };
        assert_eq!(
            t.store.txn(write).await.unwrap().revision,
            put.mod_revision + 1
        );
        assert_eq!(
            t.store.current_revision(),
            put.mod_revision + 1,
            "{:?}",
            t.kind
        );
    }
}

#[tokio::test]
async fn txn_duplicate_keys() {
    // Upstream: v3_grpc_test.go TestV3TxnDuplicateKeys (single-key forms; this store has no
    // range deletes or nested transactions).
    let cases: Vec<(&str, Vec<Op>, bool)> = vec![
        (
            "put, put",
            vec![Op::put("abc", "def"), Op::put("abc", "def")],
            false,
        ),
        (
            "put, delete same key",
            vec![Op::put("abc", "def"), Op::delete("abc")],
            false,
        ),
        (
            "delete then put same key",
            vec![Op::delete("abc"), Op::put("abc", "def")],
            false,
        ),
        (
            "deletes may repeat",
            vec![Op::delete("abc"), Op::delete("abc"), Op::delete("abc")],
            true,
        ),
        (
            "put and unrelated delete",
            vec![Op::put("abc", "def"), Op::delete("abb")],
            true,
        ),
        (
            "put and get",
            vec![Op::put("abc", "def"), Op::get("abc"), Op::get("abc")],
            true,
        ),
    ];
    for t in both() {
        for (name, ops, ok) in &cases {
            let txn = Txn {
                success: ops.clone(),
                ..Txn::default()
            };
            let got = t.store.txn(txn).await.map(drop);
            let want = if *ok {
                Ok(())
            } else {
                Err(StoreError::DuplicateKey)
            };
            assert_eq!(got, want, "{:?} {name}", t.kind);
            // The same ops in the failure branch are checked too.
            let txn = Txn {
                failure: ops.clone(),
                ..Txn::default()
            };
            assert_eq!(
                t.store.txn(txn).await.map(drop),
                want,
                "{:?} failure {name}",
                t.kind
            );
        }
    }
}

#[tokio::test]
async fn txn_compares() {
    // Upstream: server/etcdserver/txn/txn.go applyCompare/compareKV; cases in the style of
    // v3_grpc_test.go TestV3TxnRangeCompare (single keys): "a" created at 2, modified at 3
    // (version 2); "b" created at 4; "missing" never existed.
    use CompareOp::{Equal, Greater, Less, NotEqual};
    use CompareTarget::{CreateRevision, Exists, ModRevision, Value, Version};
    let value = |s: &'static str| Value(Bytes::from_static(s.as_bytes()));
    let cases: Vec<(&str, CompareTarget, CompareOp, bool)> = vec![
        ("a", ModRevision(3), Equal, true),
        ("a", ModRevision(2), Equal, false),
        ("a", ModRevision(3), NotEqual, false),
        ("a", ModRevision(4), Less, true),
        ("a", ModRevision(3), Less, false),
        ("a", ModRevision(2), Greater, true),
        ("a", CreateRevision(2), Equal, true),
        ("a", CreateRevision(3), Less, true),
        ("b", CreateRevision(4), Equal, true),
        ("a", Version(2), Equal, true),
        ("a", Version(1), Greater, true),
        ("a", value("v2"), Equal, true),
        ("a", value("v1"), Greater, true),
        ("a", value("v3"), Less, true),
        ("a", value("v1"), NotEqual, true),
        // A missing key has zero revisions and version.
        ("missing", ModRevision(0), Equal, true),
        ("missing", CreateRevision(0), Equal, true),
        ("missing", Version(0), Equal, true),
        ("missing", Version(1), Less, true),
        // A value compare on a missing key always fails, whatever the operator.
        ("missing", value(""), Equal, false),
        ("missing", value("x"), NotEqual, false),
        ("missing", value("x"), Less, false),
        ("a", Exists(true), Equal, true),
        ("missing", Exists(false), Equal, true),
        ("missing", Exists(true), NotEqual, true),
    ];
    for t in both() {
        t.store.put("a", "v1").await.unwrap();
        t.store.put("a", "v2").await.unwrap();
        t.store.put("b", "x").await.unwrap();
        for (key, target, op, want) in &cases {
            let txn = Txn {
                compares: vec![Compare::new(key, target.clone(), *op)],
                success: vec![Op::get("a")],
                failure: vec![Op::get("b")],
            };
            let response = t.store.txn(txn).await.unwrap();
            assert_eq!(
                response.succeeded, *want,
                "{:?} {key} {target:?} {op:?}",
                t.kind
            );
            assert_eq!(response.revision, 4);
        }
        // All compares must hold; an empty list holds.
        let mixed = Txn {
            compares: vec![
                Compare::mod_revision_is("a", 3),
                Compare::mod_revision_is("b", 1),
            ],
            ..Txn::default()
        };
        assert!(!t.store.txn(mixed).await.unwrap().succeeded);
        assert!(t.store.txn(Txn::default()).await.unwrap().succeeded);
    }
}

#[tokio::test]
async fn txn_is_atomic_with_branches() {
    // A failed guard runs the failure branch only: the API server's conflict path reads the
    // current object there (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go).
    for t in both() {
        t.store.put("k", "v1").await.unwrap();
        let txn = Txn {
            compares: vec![Compare::mod_revision_is("k", 99)],
            success: vec![Op::put("k", "v2"), Op::put("other", "x")],
            failure: vec![Op::get("k")],
        };
        let response = t.store.txn(txn).await.unwrap();
        assert!(!response.succeeded);
        assert_eq!(
            response.responses,
            vec![OpResponse::Get {
                kv: Some(kv("k", "v1", 2, 2, 1))
            }]
        );
        assert_eq!(t.store.get("other").unwrap(), None);
        // Two puts in one transaction share its revision.
        let txn = Txn {
            compares: vec![Compare::mod_revision_is("k", 2)],
            success: vec![Op::put("k", "v2"), Op::put("other", "x")],
            failure: vec![],
        };
        let response = t.store.txn(txn).await.unwrap();
        assert!(response.succeeded);
        assert_eq!(response.revision, 3);
        assert_eq!(t.store.get("k").unwrap().unwrap().mod_revision, 3);
        assert_eq!(t.store.get("other").unwrap().unwrap().mod_revision, 3);
    }
}

#[tokio::test]
async fn convenience_create_update_delete() {
    // The API server's create/update/delete (staging/src/k8s.io/apiserver/pkg/storage/etcd3/
    // store.go: Create, GuaranteedUpdate, conditionalDelete) as table rows on one store.
    for t in both() {
        let s = &t.store;
        let created = s.create("k", "v1").await.unwrap();
        assert_eq!(created, kv("k", "v1", 2, 2, 1));
        assert_eq!(
            s.create("k", "v9").await,
            Err(StoreError::AlreadyExists {
                existing: Box::new(created.clone())
            })
        );
        assert_eq!(
            s.update("k", "v2", 7).await,
            Err(StoreError::Conflict {
                current: Box::new(created.clone())
            })
        );
        assert_eq!(
            s.update("missing", "v2", 2).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(
            s.update("missing", "v2", 0).await,
            Err(StoreError::NotFound)
        );
        let updated = s.update("k", "v2", 2).await.unwrap();
        assert_eq!(updated, kv("k", "v2", 2, 3, 2));
        assert_eq!(
            s.delete("k", Some(2)).await,
            Err(StoreError::Conflict {
                current: Box::new(updated.clone())
            })
        );
        let deleted = s.delete("k", Some(3)).await.unwrap();
        assert_eq!(deleted.prev_kv, updated);
        assert_eq!(deleted.revision, 4);
        assert_eq!(s.delete("k", None).await, Err(StoreError::NotFound));
        assert_eq!(s.get("k").unwrap(), None);
        // Re-creation starts a new life: new create revision, version 1.
        assert_eq!(s.create("k", "v3").await.unwrap(), kv("k", "v3", 5, 5, 1));
        assert_eq!(s.current_revision(), 5, "{:?}", t.kind);
    }
}

#[tokio::test]
async fn compact_keep_last_policy() {
    for t in both() {
        for i in 0..10 {
            t.store.put("k", format!("v{i}")).await.unwrap();
        }
        // Revision 11 now; keep the last 3 revisions readable.
        assert_eq!(t.store.compact_keep_last(3).await.unwrap(), Some(8));
        assert_eq!(t.store.compact_keep_last(3).await.unwrap(), None);
        assert_eq!(t.store.compacted_revision(), 8);
        assert!(
            t.store
                .range(&RangeRequest::key("k").at_revision(8))
                .is_ok()
        );
        assert!(
            t.store
                .range(&RangeRequest::key("k").at_revision(7))
                .is_err()
        );
    }
}

#[tokio::test]
async fn reopen_restores_everything() {
    // Upstream: kv_test.go TestKVRestore / kvstore_test.go TestStoreRestore: a restored store
    // answers every read (at every retained revision) like the original, revision counters
    // included.
    let mut t = TestStore::new(Kind::Redb);
    let s = &t.store;
    s.put("foo", "bar0").await.unwrap(); // 2
    s.put("foo1", "bar1").await.unwrap(); // 3
    s.put("foo", "bar2").await.unwrap(); // 4
    s.delete("foo1", None).await.unwrap(); // 5
    s.put("foo2", "x").await.unwrap(); // 6
    s.compact(3).await.unwrap();
    s.delete("foo2", None).await.unwrap(); // 7
    let reads: Vec<_> = (3..=7)
        .map(|rev| s.range(&RangeRequest::prefix("").at_revision(rev)).unwrap())
        .collect();
    let (current, compacted) = (s.current_revision(), s.compacted_revision());
    t = t.reopen();
    assert_eq!(t.store.current_revision(), current);
    assert_eq!(t.store.compacted_revision(), compacted);
    for (i, rev) in (3..=7).enumerate() {
        let read = t
            .store
            .range(&RangeRequest::prefix("").at_revision(rev))
            .unwrap();
        assert_eq!(read, reads[i], "rev {rev}");
    }
    // The next write continues the revision sequence; watch history survived too.
    assert_eq!(
        t.store.put("foo", "bar3").await.unwrap(),
        kv("foo", "bar3", 2, 8, 3)
    );
    let mut watcher = t.store.watch("", 4).unwrap();
    let revisions: Vec<i64> = (0..5)
        .map(|_| watcher.try_recv().unwrap().unwrap().revision())
        .collect();
    assert_eq!(revisions, vec![4, 5, 6, 7, 8]);
    // A store whose last write was a compacted-away delete still knows its revision.
    t.store.delete("foo", None).await.unwrap(); // 9
    t.store.compact(9).await.unwrap();
    t = t.reopen();
    assert_eq!(
        (t.store.current_revision(), t.store.compacted_revision()),
        (9, 9)
    );
    assert_eq!(t.store.put("z", "z").await.unwrap().mod_revision, 10);
}

#[tokio::test]
async fn concurrent_writers_get_distinct_consecutive_revisions() {
    // Group commit must keep one revision per write transaction under concurrency.
    for t in both() {
        let mut tasks = Vec::new();
        for writer in 0..8 {
            let store = t.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut revisions = Vec::new();
                for i in 0..50 {
                    let kv = store.create(format!("/w{writer}/k{i}"), "v").await.unwrap();
                    revisions.push(kv.mod_revision);
                }
                revisions
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (2..402).collect::<Vec<i64>>(), "{:?}", t.kind);
        assert_eq!(
            t.store.range(&RangeRequest::prefix("/w")).unwrap().count,
            400
        );
        if t.kind == Kind::Redb {
            let t = t.reopen();
            assert_eq!(t.store.current_revision(), 401);
            assert_eq!(
                t.store.range(&RangeRequest::prefix("/w")).unwrap().count,
                400
            );
        }
    }
}
