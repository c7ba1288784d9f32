//! Reuse of node-local Filter verdicts across scheduling cycles.
//!
//! Upstream runs every Filter plugin on every examined node in every cycle. Most default
//! plugins (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts,
//! NodeResourcesFit) decide from the node and a few pod fields only, so when consecutive pods
//! agree on those fields (replicas of one workload), a node whose pods have not changed since
//! gets the same verdict. This cache keeps, per snapshot node, the verdict of the chain's
//! node-local prefix with the node's generation; any difference in the pod fields, the plugins
//! or the node set empties it. The verdicts are the ones the plugins would return: only the work
//! is saved. See docs/SCHEDULER.md.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Toleration;

use crate::framework::{FilterChain, Plugin};
use crate::helpers::nodeaffinity::RequiredNodeAffinity;
use crate::resource::Resource;
use crate::snapshot::{Snapshot, SnapshotId};
use crate::status::Status;
use crate::types::{HostPort, PodInfo};

/// The pod fields node-local Filter plugins may read (see
/// [`crate::framework::FilterPlugin::node_local`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PodFilterKey {
    /// `spec.nodeName` (NodeName).
    pub spec_node_name: Option<String>,
    /// Tolerations (NodeUnschedulable, TaintToleration).
    pub tolerations: Vec<Toleration>,
    /// `nodeSelector` and required node affinity (NodeAffinity).
    pub required_node_affinity: RequiredNodeAffinity,
    /// Host ports (NodePorts).
    pub host_ports: Vec<HostPort>,
    /// What NodeResourcesFit checks against free capacity.
    pub fit_request: Resource,
}

fn spec_node_name(pod: &PodInfo) -> Option<&str> {
    pod.spec().and_then(|s| s.node_name.as_deref())
}

impl PodFilterKey {
    /// The key of `pod`.
    pub fn of(pod: &PodInfo) -> Self {
        Self {
            spec_node_name: spec_node_name(pod).map(str::to_owned),
            tolerations: pod.tolerations.clone(),
            required_node_affinity: pod.required_node_affinity.clone(),
            host_ports: pod.host_ports.clone(),
            fit_request: pod.fit_request.clone(),
        }
    }

    /// Whether `pod` has this key (compared without copying).
    pub fn matches(&self, pod: &PodInfo) -> bool {
        self.spec_node_name.as_deref() == spec_node_name(pod)
            && self.tolerations == pod.tolerations
            && self.required_node_affinity == pod.required_node_affinity
            && self.host_ports == pod.host_ports
            && self.fit_request == pod.fit_request
    }
}

/// What the cached verdicts were computed for.
struct CacheKey {
    snapshot: SnapshotId,
    node_set_version: u64,
    plugins: Vec<Arc<dyn Plugin>>,
    pod: PodFilterKey,
}

/// Verdicts of the node-local prefix of the Filter chain, per snapshot node.
#[derive(Default)]
pub struct FilterCache {
    key: Option<CacheKey>,
    /// Distinct verdicts.
    statuses: Vec<Status>,
    /// Per list position: (node generation + 1, verdict index); 0: none.
    entries: Vec<(u64, u32)>,
}

impl std::fmt::Debug for FilterCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterCache")
            .field("statuses", &self.statuses.len())
            .field(
                "entries",
                &self.entries.iter().filter(|(g, _)| *g != 0).count(),
            )
            .finish()
    }
}

impl FilterCache {
    /// Prepares the cache for a cycle of `pod` over `snapshot` with `chain`; returns how many
    /// plugins at the start of the chain the cached verdicts cover (0: the cache is unused).
    pub fn begin(&mut self, snapshot: &Snapshot, chain: &FilterChain<'_>, pod: &PodInfo) -> usize {
        let prefix = chain.node_local_prefix();
        if prefix == 0 {
            return 0;
        }
        let plugins = chain.plugins_prefix(prefix);
        let same = self.key.as_ref().is_some_and(|k| {
            k.snapshot == snapshot.id()
                && k.node_set_version == snapshot.node_set_version()
                && k.plugins.len() == plugins.len()
                && k.plugins
                    .iter()
                    .zip(plugins)
                    .all(|(a, b)| Arc::ptr_eq(a, b))
                && k.pod.matches(pod)
        });
        // Distinct verdicts only accumulate while the key stays; bound them.
        if !same || self.statuses.len() > 4 * snapshot.num_nodes() + 64 {
            self.key = Some(CacheKey {
                snapshot: snapshot.id(),
                node_set_version: snapshot.node_set_version(),
                plugins: plugins.iter().map(|p| Arc::clone(p)).collect(),
                pod: PodFilterKey::of(pod),
            });
            self.statuses.clear();
            self.entries.clear();
            self.entries.resize(snapshot.num_nodes(), (0, 0));
        }
        prefix
    }

    /// The cached verdict of the snapshot node at list position `pos`, if its pods have not
    /// changed since.
    /// Also returns the verdict's index, which identifies it until the next
    /// [`FilterCache::begin`].
    pub fn get(&self, snapshot: &Snapshot, pos: usize) -> Option<(u32, &Status)> {
        let &(generation, index) = self.entries.get(pos)?;
        if generation == 0 || Some(generation - 1) != snapshot.generation_at(pos) {
            return None;
        }
        self.statuses.get(index as usize).map(|s| (index, s))
    }

    /// Records the verdict of the snapshot node at list position `pos`; returns its index (as
    /// [`FilterCache::get`]).
    pub fn put(&mut self, snapshot: &Snapshot, pos: usize, status: &Status) -> Option<u32> {
        let generation = snapshot.generation_at(pos).filter(|g| *g != u64::MAX)?;
        let slot = self.entries.get_mut(pos)?;
        let index = match self.statuses.last() {
            Some(last) if last == status => self.statuses.len() - 1,
            _ => {
                self.statuses.push(status.clone());
                self.statuses.len() - 1
            }
        };
        let index = u32::try_from(index).ok()?;
        *slot = (generation + 1, index);
        Some(index)
    }
}
