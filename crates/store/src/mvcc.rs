//! The in-memory multi-version index shared by both backends: every retained version of every
//! key, plus a revision-ordered change log for watchers.
//!
//! Model (etcd v3): one global revision; each writing transaction takes the next revision and
//! gives each of its changes a `sub` index (op order). A key's history is its versions in
//! revision order; a delete appends a tombstone. Compaction at `R` keeps, per key, every version
//! newer than `R` plus the newest version at or below `R` when that one is live.
//!
//! Upstream: `server/storage/mvcc/kvstore_txn.go` (put/delete/range), `key_index.go` (history
//! per key, `compact`), `kvstore.go` (`currentRev` starts at 1, `compactMainRev`).
//!
//! Two revisions are tracked: `current` (last applied, possibly not yet durable) and `visible`
//! (last durable; the only one readers and watchers see). The memory backend keeps them equal;
//! the redb writer stages a batch (advancing `current`), commits it, then publishes `visible`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;

use bytes::Bytes;

use crate::types::{
    Compare, CompareOp, CompareTarget, Event, EventKind, KeyValue, Op, OpResponse, RangeRequest,
    RangeResult, StoreError, Txn, TxnResponse,
};
use crate::value::StoreValue;

/// One version of one key. `value == None` is a tombstone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// The revision that wrote this version.
    pub mod_revision: i64,
    /// Position of the change within its revision (etcd's `Revision.Sub`).
    pub sub: u32,
    /// Revision of the key's creation (0 for a tombstone).
    pub create_revision: i64,
    /// Puts since creation (0 for a tombstone).
    pub version: i64,
    /// The value, or `None` for a tombstone.
    pub value: Option<StoreValue>,
}

impl Version {
    fn to_kv(&self, key: &Bytes) -> Option<KeyValue> {
        self.value.as_ref().map(|value| KeyValue {
            key: key.clone(),
            value: value.clone(),
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
        })
    }
}

/// One change of one revision, as the durable backend stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// The key changed.
    pub key: Bytes,
    /// The version written (a tombstone for a delete).
    pub version: Version,
    /// The live version just before this change, if any (a watch event's `prev_kv`). Kept in
    /// the change so that each of many watchers need not look it up.
    pub prev: Option<Version>,
}

/// What compaction removed, for the durable backend to mirror: `(revision, sub)` rows.
pub(crate) type RemovedRows = Vec<(i64, u32)>;

/// The multi-version state.
#[derive(Debug)]
pub(crate) struct MvccState {
    /// Every retained version of every key, oldest first. A key whose history is empty is absent.
    keys: BTreeMap<Bytes, Vec<Version>>,
    /// Changes of revisions `log_base + 1 ..= current`, one entry per revision, for watchers.
    log: VecDeque<Vec<Change>>,
    /// Revision just before the first log entry (`max(compacted, 1)`: revision 1 has no changes).
    log_base: i64,
    /// Last applied revision (may be ahead of `visible` while a batch is being made durable).
    current: i64,
    /// Last revision visible to readers and watchers.
    visible: i64,
    /// Last compaction revision (-1 = never compacted, as etcd's `compactMainRev`).
    compacted: i64,
}

impl Default for MvccState {
    fn default() -> Self {
        Self::new()
    }
}

/// Latest version at or below `revision` in a history sorted by revision.
fn version_at(history: &[Version], revision: i64) -> Option<&Version> {
    // The common case reads the newest version: check it before searching.
    match history.last() {
        Some(last) if last.mod_revision <= revision => Some(last),
        Some(_) => {
            let idx = history.partition_point(|v| v.mod_revision <= revision);
            idx.checked_sub(1).and_then(|i| history.get(i))
        }
        None => None,
    }
}

/// A key range checked against many keys: a watcher's, against every change it scans. Keys
/// and bounds of 16 bytes or more (every API server key) are first compared by their first 16
/// bytes as one number, which decides nearly every check without comparing byte strings.
struct KeyRange<'a> {
    start: &'a [u8],
    end: &'a [u8],
    start_head: Option<u128>,
    end_head: Option<u128>,
}

/// The first 16 bytes of `bytes` as a big-endian number, if it has that many: two such
/// numbers are ordered as the two byte strings are, unless they are equal.
fn head(bytes: &[u8]) -> Option<u128> {
    bytes
        .first_chunk::<16>()
        .map(|first| u128::from_be_bytes(*first))
}

impl<'a> KeyRange<'a> {
    fn new(start: &'a [u8], end: &'a [u8]) -> Self {
        Self {
            start,
            end,
            start_head: head(start),
            end_head: head(end),
        }
    }

    /// Whether `key` lies in the etcd-style range `[start, end)` (see [`RangeRequest`]: an
    /// empty `end` is the key `start` alone, `[0]` everything from `start` on).
    fn contains(&self, key: &[u8]) -> bool {
        let key_head = head(key);
        let at_least = |bound: &[u8], bound_head: Option<u128>| match (key_head, bound_head) {
            (Some(k), Some(b)) if k != b => k > b,
            _ => key >= bound,
        };
        if self.end.is_empty() {
            key == self.start
        } else if self.end == [0] {
            at_least(self.start, self.start_head)
        } else {
            at_least(self.start, self.start_head) && !at_least(self.end, self.end_head)
        }
    }
}

impl MvccState {
    /// An empty store: revision 1, never compacted (etcd's `NewStore`).
    pub fn new() -> Self {
        Self {
            keys: BTreeMap::new(),
            log: VecDeque::new(),
            log_base: 1,
            current: 1,
            visible: 1,
            compacted: -1,
        }
    }

    /// Rebuilds the state from durable rows, which must come in `(revision, sub)` order.
    pub fn restore(
        rows: impl IntoIterator<Item = Change>,
        current: i64,
        compacted: i64,
    ) -> Result<Self, StoreError> {
        let mut state = Self::new();
        state.current = current.max(1);
        state.visible = state.current;
        state.compacted = compacted.max(-1);
        state.log_base = state.compacted.max(1);
        if state.compacted > state.current {
            return Err(StoreError::Backend(format!(
                "corrupt metadata: compacted revision {compacted} > current {current}"
            )));
        }
        let log_len = usize::try_from(state.current - state.log_base).unwrap_or(0);
        state.log = (0..log_len).map(|_| Vec::new()).collect();
        for mut change in rows {
            let rev = change.version.mod_revision;
            if rev > state.current {
                return Err(StoreError::Backend(format!(
                    "corrupt history: row at revision {rev} beyond current revision {current}"
                )));
            }
            let history = state.keys.entry(change.key.clone()).or_default();
            change.prev = history.last().filter(|v| v.value.is_some()).cloned();
            history.push(change.version.clone());
            if rev > state.log_base {
                let idx = usize::try_from(rev - state.log_base - 1).unwrap_or(usize::MAX);
                match state.log.get_mut(idx) {
                    Some(entry) => entry.push(change),
                    None => {
                        return Err(StoreError::Backend(format!(
                            "corrupt history: row at revision {rev} outside the log"
                        )));
                    }
                }
            }
        }
        Ok(state)
    }

    /// Revision visible to readers.
    pub fn visible_revision(&self) -> i64 {
        self.visible
    }

    /// Last applied revision (durable or staged).
    pub fn current_revision(&self) -> i64 {
        self.current
    }

    /// Last compaction revision (-1 = never).
    pub fn compacted_revision(&self) -> i64 {
        self.compacted
    }

    /// Makes every applied revision visible (after it became durable).
    pub fn publish(&mut self) {
        self.visible = self.current;
    }

    /// Reads a range at `req.revision` (or the visible revision).
    /// Upstream: `server/storage/mvcc/kvstore_txn.go` (`rangeKeys`): a future revision is
    /// checked first, then compaction; `count` ignores the limit; the result's revision is the
    /// current one.
    pub fn range(&self, req: &RangeRequest) -> Result<RangeResult, StoreError> {
        let current = self.visible;
        let revision = if req.revision <= 0 {
            current
        } else {
            req.revision
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
        let mut result = RangeResult {
            revision: current,
            ..RangeResult::default()
        };
        for (key, history) in self.scan(&req.key, &req.range_end) {
            if let Some(kv) = version_at(history, revision).and_then(|v| v.to_kv(key)) {
                result.count += 1;
                if req.limit == 0 || result.kvs.len() < req.limit {
                    result.kvs.push(kv);
                }
            }
        }
        result.more = usize::try_from(result.count).unwrap_or(usize::MAX) > result.kvs.len();
        Ok(result)
    }

    /// Histories of the keys in the etcd-style range `[start, end)`.
    fn scan<'a>(
        &'a self,
        start: &'a [u8],
        end: &'a [u8],
    ) -> Box<dyn Iterator<Item = (&'a Bytes, &'a Vec<Version>)> + 'a> {
        if end.is_empty() {
            return Box::new(self.keys.get_key_value(start).into_iter());
        }
        if end == [0] {
            return Box::new(
                self.keys
                    .range::<[u8], _>((Bound::Included(start), Bound::Unbounded)),
            );
        }
        if start >= end {
            // BTreeMap::range panics on an inverted range; etcd returns nothing.
            return Box::new(std::iter::empty());
        }
        Box::new(
            self.keys
                .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end))),
        )
    }

    /// The key's latest version, including staged writes (what a transaction sees).
    /// The key's latest version if it is live, including staged writes.
    fn latest_live(&self, key: &[u8]) -> Option<&Version> {
        self.keys.get(key)?.last().filter(|v| v.value.is_some())
    }

    fn latest(&self, key: &[u8]) -> Option<KeyValue> {
        let (key, history) = self.keys.get_key_value(key)?;
        history.last().and_then(|v| v.to_kv(key))
    }

    /// Evaluates one compare. Upstream: `server/etcdserver/txn/txn.go` (`applyCompare`,
    /// `compareKV`): a missing key compares as zero revisions/version; a value compare on a
    /// missing key fails whatever the operator.
    fn compare_holds(&self, compare: &Compare) -> bool {
        let kv = self.latest(&compare.key);
        let ordering = match (&compare.target, &kv) {
            (CompareTarget::Value(_), None) => return false,
            (CompareTarget::Value(operand), Some(kv)) => kv.value[..].cmp(&operand[..]),
            (CompareTarget::ModRevision(operand), kv) => {
                kv.as_ref().map_or(0, |kv| kv.mod_revision).cmp(operand)
            }
            (CompareTarget::CreateRevision(operand), kv) => {
                kv.as_ref().map_or(0, |kv| kv.create_revision).cmp(operand)
            }
            (CompareTarget::Version(operand), kv) => {
                kv.as_ref().map_or(0, |kv| kv.version).cmp(operand)
            }
            (CompareTarget::Exists(operand), kv) => kv.is_some().cmp(operand),
        };
        match compare.op {
            CompareOp::Equal => ordering.is_eq(),
            CompareOp::NotEqual => ordering.is_ne(),
            CompareOp::Less => ordering.is_lt(),
            CompareOp::Greater => ordering.is_gt(),
        }
    }

    /// Rejects a branch that puts a key twice or puts and deletes the same key.
    /// Upstream: `server/etcdserver/api/v3rpc/key.go` (`checkIntervals`); deletes may repeat.
    fn check_branch(ops: &[Op]) -> Result<(), StoreError> {
        let mut puts: BTreeSet<&[u8]> = BTreeSet::new();
        for op in ops {
            if let Op::Put { key, .. } = op
                && !puts.insert(&key[..])
            {
                return Err(StoreError::DuplicateKey);
            }
        }
        for op in ops {
            if let Op::Delete { key } = op
                && puts.contains(&key[..])
            {
                return Err(StoreError::DuplicateKey);
            }
        }
        Ok(())
    }

    /// Applies a transaction at the next revision. Returns the response and the changes written
    /// (empty when the transaction wrote nothing, in which case the revision did not move).
    pub fn apply(&mut self, txn: &Txn) -> Result<(TxnResponse, Vec<Change>), StoreError> {
        Self::check_branch(&txn.success)?;
        Self::check_branch(&txn.failure)?;
        let succeeded = txn.compares.iter().all(|c| self.compare_holds(c));
        let ops = if succeeded {
            &txn.success
        } else {
            &txn.failure
        };
        let revision = self.current + 1;
        let mut changes: Vec<Change> = Vec::new();
        let mut responses = Vec::with_capacity(ops.len());
        for op in ops {
            let response = match op {
                Op::Put { key, value } => {
                    let prev = self.latest_live(key).cloned();
                    let prev_kv = prev.as_ref().and_then(|p| p.to_kv(key));
                    let version = Version {
                        mod_revision: revision,
                        sub: u32::try_from(changes.len()).unwrap_or(u32::MAX),
                        create_revision: prev_kv.as_ref().map_or(revision, |p| p.create_revision),
                        version: prev_kv.as_ref().map_or(0, |p| p.version) + 1,
                        value: Some(value.clone()),
                    };
                    let kv = KeyValue {
                        key: key.clone(),
                        value: value.clone(),
                        create_revision: version.create_revision,
                        mod_revision: revision,
                        version: version.version,
                    };
                    self.keys
                        .entry(key.clone())
                        .or_default()
                        .push(version.clone());
                    changes.push(Change {
                        key: key.clone(),
                        version,
                        prev,
                    });
                    OpResponse::Put { kv, prev_kv }
                }
                Op::Delete { key } => match self.latest_live(key).cloned() {
                    Some(prev) => {
                        let prev_kv = prev.to_kv(key);
                        let tombstone = Version {
                            mod_revision: revision,
                            sub: u32::try_from(changes.len()).unwrap_or(u32::MAX),
                            create_revision: 0,
                            version: 0,
                            value: None,
                        };
                        self.keys
                            .entry(key.clone())
                            .or_default()
                            .push(tombstone.clone());
                        changes.push(Change {
                            key: key.clone(),
                            version: tombstone,
                            prev: Some(prev),
                        });
                        OpResponse::Delete {
                            deleted: 1,
                            prev_kv,
                        }
                    }
                    None => OpResponse::Delete {
                        deleted: 0,
                        prev_kv: None,
                    },
                },
                Op::Get { key } => OpResponse::Get {
                    kv: self.latest(key),
                },
            };
            responses.push(response);
        }
        let revision = if changes.is_empty() {
            self.current
        } else {
            self.current = revision;
            self.log.push_back(changes.clone());
            revision
        };
        Ok((
            TxnResponse {
                succeeded,
                revision,
                responses,
            },
            changes,
        ))
    }

    /// Compacts history at `revision`. Returns the `(revision, sub)` rows removed.
    /// Upstream: `server/storage/mvcc/kvstore.go` (`updateCompactRev`: a revision at or below the
    /// last compaction is `ErrCompacted`, one beyond the current revision `ErrFutureRev`) and
    /// `key_index.go` (`compact`: keep the newest version at or below the revision unless it is
    /// a tombstone).
    pub fn compact(&mut self, revision: i64) -> Result<RemovedRows, StoreError> {
        if revision <= self.compacted {
            return Err(StoreError::Compacted {
                compact_revision: self.compacted,
            });
        }
        if revision > self.current {
            return Err(StoreError::FutureRevision {
                requested: revision,
                current: self.current,
            });
        }
        // Only keys changed since the previous compaction can hold more than one version at or
        // below `revision`, or a tombstone there.
        let mut touched: BTreeSet<Bytes> = BTreeSet::new();
        while self.log_base < revision {
            if let Some(changes) = self.log.pop_front() {
                touched.extend(changes.into_iter().map(|c| c.key));
            }
            self.log_base += 1;
        }
        let mut removed = Vec::new();
        for key in touched {
            let Some(history) = self.keys.get_mut(&key) else {
                continue;
            };
            let newest_at_or_below = history.partition_point(|v| v.mod_revision <= revision);
            let Some(keep_idx) = newest_at_or_below.checked_sub(1) else {
                continue;
            };
            let drop_until = match history.get(keep_idx) {
                Some(v) if v.value.is_none() => keep_idx + 1,
                _ => keep_idx,
            };
            removed.extend(history.drain(..drop_until).map(|v| (v.mod_revision, v.sub)));
            if history.is_empty() {
                self.keys.remove(&key);
            }
        }
        self.compacted = revision;
        removed.sort_unstable();
        Ok(removed)
    }

    /// Events of visible revisions `from ..= up to at most from + max_revisions - 1` for keys in
    /// `[start, end)`, and the next revision to read. `from` must be above the compacted
    /// revision (see [`crate::Watcher`]).
    pub fn events(
        &self,
        from: i64,
        start: &[u8],
        end: &[u8],
        max_revisions: usize,
        out: &mut impl Extend<Event>,
    ) -> Result<i64, i64> {
        if from <= self.compacted {
            return Err(self.compacted);
        }
        let range = KeyRange::new(start, end);
        let last = self.visible;
        let mut revision = from.max(self.log_base + 1);
        let mut scanned = 0usize;
        while revision <= last && scanned < max_revisions {
            let idx = usize::try_from(revision - self.log_base - 1).unwrap_or(usize::MAX);
            if let Some(changes) = self.log.get(idx) {
                for change in changes {
                    if range.contains(&change.key) {
                        out.extend(std::iter::once(self.event(change)));
                    }
                }
            }
            revision += 1;
            scanned += 1;
        }
        Ok(revision.max(from))
    }

    /// Turns a logged change into a watch event, looking up the previous version.
    fn event(&self, change: &Change) -> Event {
        let prev_kv = change.prev.as_ref().and_then(|v| v.to_kv(&change.key));
        match change.version.to_kv(&change.key) {
            Some(kv) => Event {
                kind: EventKind::Put,
                kv,
                prev_kv,
            },
            None => Event {
                kind: EventKind::Delete,
                kv: KeyValue {
                    key: change.key.clone(),
                    value: StoreValue::default(),
                    create_revision: 0,
                    mod_revision: change.version.mod_revision,
                    version: 0,
                },
                prev_kv,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The range check, byte string against byte string: the model of [`KeyRange::contains`].
    fn key_in_range(key: &[u8], start: &[u8], end: &[u8]) -> bool {
        if end.is_empty() {
            key == start
        } else if end == [0] {
            key >= start
        } else {
            key >= start && key < end
        }
    }

    /// Byte strings around the 16-byte boundary, sharing prefixes, with zero bytes.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        let base = b"/registry/pods/default/a".to_vec();
        (
            0usize..=24,
            proptest::collection::vec(
                prop_oneof![Just(0u8), Just(b'a'), Just(b'z'), Just(255u8)],
                0..4,
            ),
        )
            .prop_map(move |(cut, tail)| {
                let mut k = base[..cut].to_vec();
                k.extend(tail);
                k
            })
    }

    proptest! {
        #[test]
        fn key_range_contains_what_key_in_range_does(
            k in key(),
            start in key(),
            end in prop_oneof![Just(Vec::new()), Just(vec![0u8]), key()],
        ) {
            prop_assert_eq!(KeyRange::new(&start, &end).contains(&k), key_in_range(&k, &start, &end));
        }
    }

    #[test]
    fn key_range_on_api_server_prefixes() {
        let start = b"/registry/pods/";
        let end = crate::prefix_range_end(start);
        let range = KeyRange::new(start, &end);
        for (key, inside) in [
            (&b"/registry/pods/default/web-1"[..], true),
            (b"/registry/pods/", true),
            (b"/registry/pods", false),
            (b"/registry/podsx/a", false),
            (b"/registry/events/default/web-1.1", false),
            (b"/registry/services/specs/default/web", false),
        ] {
            assert_eq!(
                range.contains(key),
                inside,
                "{}",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn compaction_keeps_newest_live_version_and_drops_tombstones() {
        let mut state = MvccState::new();
        let put = |k: &str, v: &str| Txn {
            success: vec![Op::put(k, v.to_owned())],
            ..Txn::default()
        };
        let del = |k: &str| Txn {
            success: vec![Op::delete(k)],
            ..Txn::default()
        };
        state.apply(&put("a", "1")).unwrap(); // 2
        state.apply(&put("a", "2")).unwrap(); // 3
        state.apply(&put("b", "1")).unwrap(); // 4
        state.apply(&del("b")).unwrap(); // 5
        state.publish();
        let removed = state.compact(5).unwrap();
        assert_eq!(removed, vec![(2, 0), (4, 0), (5, 0)]);
        assert!(!state.keys.contains_key(&b"b"[..]));
        assert_eq!(state.keys[&b"a"[..]].len(), 1);
        let at5 = state
            .range(&RangeRequest::prefix("").at_revision(5))
            .unwrap();
        assert_eq!(at5.kvs.len(), 1);
        assert_eq!(
            state.range(&RangeRequest::prefix("").at_revision(4)),
            Err(StoreError::Compacted {
                compact_revision: 5
            })
        );
    }
}
