//! Test harness shared by the integration tests: the same table runs against every backend.

#![allow(dead_code)]

use kubetwin_store::{Durability, RedbOptions, Store};
use tempfile::TempDir;

/// Which backend a [`TestStore`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Store::memory()`.
    Memory,
    /// `Store::open_redb` with group commit and fsync.
    Redb,
}

/// A store under test, with the directory that holds its file (if any).
pub struct TestStore {
    /// The backend.
    pub kind: Kind,
    /// The store.
    pub store: Store,
    dir: Option<TempDir>,
}

impl TestStore {
    /// A fresh store of `kind`.
    pub fn new(kind: Kind) -> Self {
        match kind {
            Kind::Memory => Self {
                kind,
                store: Store::memory(),
                dir: None,
            },
            Kind::Redb => {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = Store::open_redb(dir.path().join("store.redb"), RedbOptions::default())
                    .expect("open redb");
                Self {
                    kind,
                    store,
                    dir: Some(dir),
                }
            }
        }
    }

    /// Closes and reopens a redb store from its file (a memory store is returned as is).
    pub fn reopen(self) -> Self {
        match self.dir {
            None => self,
            Some(dir) => {
                drop(self.store);
                let store = Store::open_redb(dir.path().join("store.redb"), RedbOptions::default())
                    .expect("reopen redb");
                Self {
                    kind: self.kind,
                    store,
                    dir: Some(dir),
                }
            }
        }
    }
}

/// One fresh store per backend.
pub fn both() -> Vec<TestStore> {
    vec![TestStore::new(Kind::Memory), TestStore::new(Kind::Redb)]
}

/// A redb store without fsync (fast), for property tests.
pub fn redb_fast() -> (Store, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = RedbOptions {
        durability: Durability::None,
        ..RedbOptions::default()
    };
    let store = Store::open_redb(dir.path().join("store.redb"), options).expect("open redb");
    (store, dir)
}
