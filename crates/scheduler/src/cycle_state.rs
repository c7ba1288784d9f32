//! Per-cycle plugin state: typed data written at PreFilter/PreScore and read later in the cycle,
//! plus the plugins skipped at Filter and Score.
//!
//! Upstream: staging/src/k8s.io/kube-scheduler/framework/cycle_state.go.

use std::any::{Any, TypeId};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Data a plugin keeps in the cycle state; cloned when the state is cloned (preemption dry runs,
/// nominated pods).
pub trait StateData: Any + Send + Sync {
    /// A deep copy.
    fn clone_data(&self) -> Box<dyn StateData>;
}

impl<T: Any + Send + Sync + Clone> StateData for T {
    fn clone_data(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
}

/// The cycle state (`CycleState`).
///
/// Entries are found by the value's type first (a plugin's state has its own type), then by key,
/// so the per-node reads of Filter and Score cost no string comparison in the common case.
/// Entries are shared between clones and copied on first write (preemption dry runs clone the
/// state once per candidate node but rarely modify it).
#[derive(Default)]
pub struct CycleState {
    data: Vec<(TypeId, &'static str, Arc<dyn StateData>)>,
    skip_filter_plugins: BTreeSet<&'static str>,
    skip_score_plugins: BTreeSet<&'static str>,
    skip_filter_mask: u64,
    skip_score_mask: u64,
}

fn same_key(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

impl std::fmt::Debug for CycleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CycleState")
            .field(
                "keys",
                &self.data.iter().map(|(_, k, _)| *k).collect::<Vec<_>>(),
            )
            .field("skip_filter_plugins", &self.skip_filter_plugins)
            .field("skip_score_plugins", &self.skip_score_plugins)
            .finish()
    }
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            skip_filter_plugins: self.skip_filter_plugins.clone(),
            skip_score_plugins: self.skip_score_plugins.clone(),
            skip_filter_mask: self.skip_filter_mask,
            skip_score_mask: self.skip_score_mask,
        }
    }
}

impl CycleState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value` under `key` (`Write`).
    pub fn write<T: StateData>(&mut self, key: &'static str, value: T) {
        let t = TypeId::of::<T>();
        match self.data.iter_mut().find(|(_, k, _)| same_key(k, key)) {
            Some(slot) => *slot = (t, key, Arc::new(value)),
            None => self.data.push((t, key, Arc::new(value))),
        }
    }

    /// Reads the value under `key` if it has type `T` (`Read`).
    pub fn read<T: StateData>(&self, key: &'static str) -> Option<&T> {
        let t = TypeId::of::<T>();
        let (_, _, v) = self
            .data
            .iter()
            .find(|(ty, k, _)| *ty == t && same_key(k, key))?;
        let data: &dyn Any = v.as_ref();
        data.downcast_ref::<T>()
    }

    /// Mutable access to the value under `key` if it has type `T` (copied first when a clone of
    /// this state shares it).
    pub fn read_mut<T: StateData>(&mut self, key: &'static str) -> Option<&mut T> {
        let t = TypeId::of::<T>();
        let (_, _, v) = self
            .data
            .iter_mut()
            .find(|(ty, k, _)| *ty == t && same_key(k, key))?;
        if Arc::get_mut(v).is_none() {
            *v = Arc::from((**v).clone_data());
        }
        let data: &mut dyn Any = Arc::get_mut(v)?;
        data.downcast_mut::<T>()
    }

    /// Removes the value under `key` (`Delete`).
    pub fn delete(&mut self, key: &'static str) {
        self.data.retain(|(_, k, _)| !same_key(k, key));
    }

    /// The plugins whose Filter is skipped this cycle.
    pub fn skip_filter_plugins(&self) -> &BTreeSet<&'static str> {
        &self.skip_filter_plugins
    }

    /// Sets the plugins whose Filter is skipped.
    pub fn set_skip_filter_plugins(&mut self, set: BTreeSet<&'static str>) {
        self.skip_filter_plugins = set;
    }

    /// Bit `i` set: the framework's plugin number `i` skips Filter (the fast form of the set).
    pub fn skip_filter_mask(&self) -> u64 {
        self.skip_filter_mask
    }

    /// Sets the Filter skip bits.
    pub fn set_skip_filter_mask(&mut self, mask: u64) {
        self.skip_filter_mask = mask;
    }

    /// Bit `i` set: the framework's plugin number `i` skips Score.
    pub fn skip_score_mask(&self) -> u64 {
        self.skip_score_mask
    }

    /// Sets the Score skip bits.
    pub fn set_skip_score_mask(&mut self, mask: u64) {
        self.skip_score_mask = mask;
    }

    /// The plugins whose Score is skipped this cycle.
    pub fn skip_score_plugins(&self) -> &BTreeSet<&'static str> {
        &self.skip_score_plugins
    }

    /// Sets the plugins whose Score is skipped.
    pub fn set_skip_score_plugins(&mut self, set: BTreeSet<&'static str>) {
        self.skip_score_plugins = set;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trip_and_clone() {
        let mut s = CycleState::new();
        s.write("k", 5_i64);
        assert_eq!(s.read::<i64>("k"), Some(&5));
        assert_eq!(s.read::<u8>("k"), None);
        let mut c = s.clone();
        *c.read_mut::<i64>("k").unwrap() = 6;
        assert_eq!(s.read::<i64>("k"), Some(&5));
        assert_eq!(c.read::<i64>("k"), Some(&6));
    }
}
