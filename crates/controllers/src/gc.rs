//! The garbage collector: deletes dependents whose owners are gone (background), honours the
//! `foregroundDeletion` finalizer (dependents first, then the owner) and the `orphan`
//! finalizer (owner references removed, then the owner).
//!
//! Upstream: `pkg/controller/garbagecollector/garbagecollector.go` (`attemptToDeleteItem`:
//! owners classified as solid, dangling or waiting for dependents' deletion;
//! `processDeletingDependentsItem`; `orphanDependents`), `graph_builder.go` (the dependency
//! graph from metadata informers of every deletable resource; a deleted owner enqueues its
//! dependents; a foreground-deleting owner enqueues its blocking dependents).
//!
//! Simplification: owners are always looked up with a live GET (upstream caches absent
//! owners and uses the graph's virtual nodes); the graph serves the dependents index only.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry::{self, RESOURCES, ResourceInfo};
use kubetwin_apiserver::write::{DeleteOptions, Propagation};
use kubetwin_runtime::informer::{Event, MetaOnly, WatchSpec};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};
use serde_json::{Value, json};

use crate::util::SyncError;

/// The foreground finalizer.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The orphan finalizer.
pub const ORPHAN: &str = "orphan";

/// One object the collector works on: its resource (index into `RESOURCES`), namespace,
/// name and uid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    /// Index into `kubetwin_apiserver::registry::RESOURCES`.
    pub resource: usize,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

impl Item {
    fn info(&self) -> &'static ResourceInfo {
        &RESOURCES[self.resource]
    }

    fn ns(&self) -> Option<&str> {
        Some(self.namespace.as_str()).filter(|n| !n.is_empty())
    }
}

#[derive(Debug, Clone)]
struct Node {
    item: Item,
    owners: Vec<OwnerReference>,
    deleting_dependents: bool,
}

#[derive(Debug, Default)]
struct Graph {
    nodes: BTreeMap<String, Node>,
    dependents: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn remove(&mut self, uid: &str) -> Option<Node> {
        let node = self.nodes.remove(uid)?;
        for o in &node.owners {
            if let Some(set) = self.dependents.get_mut(&o.uid) {
                set.remove(uid);
                if set.is_empty() {
                    self.dependents.remove(&o.uid);
                }
            }
        }
        Some(node)
    }

    fn insert(&mut self, node: Node) {
        let uid = node.item.uid.clone();
        self.remove(&uid);
        for o in &node.owners {
            self.dependents
                .entry(o.uid.clone())
                .or_default()
                .insert(uid.clone());
        }
        self.nodes.insert(uid, node);
    }

    fn dependents_of(&self, uid: &str) -> Vec<Node> {
        self.dependents
            .get(uid)
            .map(|set| {
                set.iter()
                    .filter_map(|d| self.nodes.get(d).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Resources the collector watches: everything listable, watchable and deletable.
pub fn monitored_resources() -> Vec<usize> {
    let mut seen = BTreeSet::new();
    RESOURCES
        .iter()
        .enumerate()
        .filter(|(_, r)| r.allows("list") && r.allows("watch") && r.allows("delete"))
        // Upstream: graph_builder.go `ignoredResources` (DefaultIgnoredResources) — core and
        // events.k8s.io events are never monitored.
        .filter(|(_, r)| r.resource != "events")
        .filter(|(_, r)| seen.insert(r.storage_resource))
        .map(|(i, _)| i)
        .collect()
}

/// The garbage collector.
#[derive(Debug, Clone)]
pub struct GarbageCollector {
    client: LocalClient,
    informers: Vec<Informer<MetaOnly>>,
    graph: Arc<Mutex<Graph>>,
    attempt_to_delete: WorkQueue<Item>,
    attempt_to_orphan: WorkQueue<Item>,
}

fn has_finalizer(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    f: &str,
) -> bool {
    meta.finalizers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .any(|x| x == f)
}

impl GarbageCollector {
    /// A collector with its own metadata informers over every monitored resource.
    pub fn new(client: LocalClient, time: SimTime) -> Self {
        let informers = monitored_resources()
            .into_iter()
            .map(|i| {
                Informer::new(
                    client.clone(),
                    &RESOURCES[i],
                    WatchSpec::default(),
                    time.clone(),
                )
            })
            .collect();
        let this = Self {
            client,
            informers,
            graph: Arc::new(Mutex::new(Graph::default())),
            attempt_to_delete: WorkQueue::new(time.clone()),
            attempt_to_orphan: WorkQueue::new(time),
        };
        for (informer, index) in this.informers.iter().zip(monitored_resources()) {
            let gc = this.clone();
            informer.add_handler(Arc::new(move |e: &Event<MetaOnly>| gc.observe(index, e)));
        }
        this
    }

    fn graph(&self) -> std::sync::MutexGuard<'_, Graph> {
        self.graph.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The graph builder's `processGraphChanges`.
    fn observe(&self, resource: usize, event: &Event<MetaOnly>) {
        let (obj, deleted) = match event {
            Event::Added(o) | Event::Updated { new: o, .. } => (o, false),
            Event::Deleted(o) => (o, true),
        };
        let meta = &obj.metadata;
        let item = Item {
            resource,
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
        };
        let mut graph = self.graph();
        if deleted {
            if let Some(node) = graph.remove(&item.uid) {
                for o in &node.owners {
                    if let Some(owner) = graph.nodes.get(&o.uid)
                        && owner.deleting_dependents
                    {
                        self.attempt_to_delete.add(owner.item.clone());
                    }
                }
            }
            for dep in graph.dependents_of(&item.uid) {
                self.attempt_to_delete.add(dep.item);
            }
            return;
        }
        let owners = meta.owner_references.clone().unwrap_or_default();
        let terminating = meta.deletion_timestamp.is_some();
        let deleting_dependents = terminating && has_finalizer(meta, FOREGROUND);
        // Owners dropped from the references may be waiting for this dependent. Most updates
        // (a pod's status) keep the references: the node is then updated in place.
        let mut waiting_owners = Vec::new();
        let same_node = match graph.nodes.get(&item.uid) {
            Some(prev) => {
                for o in &prev.owners {
                    if !owners.iter().any(|n| n.uid == o.uid)
                        && let Some(owner) = graph.nodes.get(&o.uid)
                        && owner.deleting_dependents
                    {
                        waiting_owners.push(owner.item.clone());
                    }
                }
                prev.item == item && prev.owners == owners
            }
            None => false,
        };
        for owner in waiting_owners {
            self.attempt_to_delete.add(owner);
        }
        for o in &owners {
            match graph.nodes.get(&o.uid) {
                None => self.attempt_to_delete.add(item.clone()),
                Some(owner) if owner.deleting_dependents => {
                    self.attempt_to_delete.add(item.clone());
                }
                Some(_) => {}
            }
        }
        if terminating && has_finalizer(meta, ORPHAN) {
            self.attempt_to_orphan.add(item.clone());
        }
        if deleting_dependents {
            self.attempt_to_delete.add(item.clone());
            for dep in graph.dependents_of(&item.uid) {
                self.attempt_to_delete.add(dep.item);
            }
        }
        match graph.nodes.get_mut(&item.uid) {
            Some(node) if same_node => node.deleting_dependents = deleting_dependents,
            _ => graph.insert(Node {
                item,
                owners,
                deleting_dependents,
            }),
        }
    }

    /// Starts the informers and runs both workers until the queues shut down.
    pub async fn run(self) {
        let tasks: Vec<_> = self.informers.iter().map(Informer::start).collect();
        for i in &self.informers {
            i.wait_synced().await;
        }
        let deleter = {
            let gc = self.clone();
            tokio::spawn(async move {
                while let Some(item) = gc.attempt_to_delete.get().await {
                    match gc.attempt_to_delete_item(&item).await {
                        Ok(()) => gc.attempt_to_delete.forget(&item),
                        Err(e) => {
                            tracing::debug!(?item, error = %e, "gc: retry delete");
                            gc.attempt_to_delete.add_rate_limited(item.clone());
                        }
                    }
                    gc.attempt_to_delete.done(&item);
                }
            })
        };
        while let Some(item) = self.attempt_to_orphan.get().await {
            match self.orphan_dependents(&item).await {
                Ok(()) => self.attempt_to_orphan.forget(&item),
                Err(e) => {
                    tracing::debug!(?item, error = %e, "gc: retry orphan");
                    self.attempt_to_orphan.add_rate_limited(item.clone());
                }
            }
            self.attempt_to_orphan.done(&item);
        }
        let _ = deleter.await;
        for i in &self.informers {
            i.stop();
        }
        for t in tasks {
            let _ = t.await;
        }
    }

    /// The latest state of an item, if it still exists with the same uid.
    fn latest(&self, item: &Item) -> Result<Option<Value>, SyncError> {
        match self.client.get(item.info(), item.ns(), &item.name) {
            Ok(v) if v["metadata"]["uid"].as_str() == Some(item.uid.as_str()) => Ok(Some(v)),
            Ok(_) => Ok(None),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(SyncError::Api(e)),
        }
    }

    /// `attemptToDeleteItem`.
    async fn attempt_to_delete_item(&self, item: &Item) -> Result<(), SyncError> {
        let Some(latest) = self.latest(item)? else {
            return Ok(());
        };
        let meta: MetaOnly = serde_json::from_value(latest.clone())?;
        let meta = meta.metadata;
        if meta.deletion_timestamp.is_some() {
            if has_finalizer(&meta, FOREGROUND) {
                return self.process_deleting_dependents(item, &meta).await;
            }
            return Ok(());
        }
        let refs = meta.owner_references.clone().unwrap_or_default();
        if refs.is_empty() {
            return Ok(());
        }
        let (mut solid, mut dangling, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
        for r in &refs {
            match self.classify(item, r)? {
                OwnerState::Solid => solid.push(r.uid.clone()),
                OwnerState::Dangling => dangling.push(r.uid.clone()),
                OwnerState::Waiting => waiting.push(r.uid.clone()),
            }
        }
        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return Ok(());
            }
            // Keep the solid owners; drop the others' references.
            let kept: Vec<&OwnerReference> = refs
                .iter()
                .filter(|r| !dangling.contains(&r.uid) && !waiting.contains(&r.uid))
                .collect();
            let patch = json!({"metadata": {"ownerReferences": kept, "uid": item.uid}});
            return self.patch(item, &patch).await;
        }
        let has_dependents = !self.graph().dependents_of(&item.uid).is_empty();
        let policy = if !waiting.is_empty() && has_dependents {
            Propagation::Foreground
        } else if has_finalizer(&meta, ORPHAN) {
            Propagation::Orphan
        } else if has_finalizer(&meta, FOREGROUND) {
            Propagation::Foreground
        } else {
            Propagation::Background
        };
        let options = DeleteOptions {
            propagation: Some(policy),
            precondition_uid: Some(item.uid.clone()),
            ..DeleteOptions::default()
        };
        match self
            .client
            .delete(item.info(), item.ns(), &item.name, &options)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(SyncError::Api(e)),
        }
    }

    /// Solid, dangling (absent or a different uid) or waiting for its dependents' deletion.
    fn classify(&self, item: &Item, r: &OwnerReference) -> Result<OwnerState, SyncError> {
        let Some(info) = registry::lookup_kind(&r.api_version, &r.kind) else {
            // An owner kind the server does not serve cannot be checked: leave it.
            return Ok(OwnerState::Solid);
        };
        let ns = if info.namespaced() { item.ns() } else { None };
        if info.namespaced() && ns.is_none() {
            return Ok(OwnerState::Dangling);
        }
        match self.client.get(info, ns, &r.name) {
            Ok(owner) if owner["metadata"]["uid"].as_str() == Some(r.uid.as_str()) => {
                let terminating = owner["metadata"]["deletionTimestamp"].is_string();
                let foreground = owner["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == FOREGROUND));
                Ok(if terminating && foreground {
                    OwnerState::Waiting
                } else {
                    OwnerState::Solid
                })
            }
            Ok(_) => Ok(OwnerState::Dangling),
            Err(e) if e.code == 404 => Ok(OwnerState::Dangling),
            Err(e) => Err(SyncError::Api(e)),
        }
    }

    /// `processDeletingDependentsItem`: when no dependent blocks, drop the finalizer; else
    /// make sure the blocking dependents are being deleted.
    async fn process_deleting_dependents(
        &self,
        item: &Item,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) -> Result<(), SyncError> {
        let blocking: Vec<Node> = self
            .graph()
            .dependents_of(&item.uid)
            .into_iter()
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|o| o.uid == item.uid && o.block_owner_deletion == Some(true))
            })
            .collect();
        if blocking.is_empty() {
            return self.remove_finalizer(item, meta, FOREGROUND).await;
        }
        for dep in blocking {
            if !dep.deleting_dependents {
                self.attempt_to_delete.add(dep.item);
            }
        }
        Ok(())
    }

    /// `orphanDependents` then removal of the `orphan` finalizer.
    async fn orphan_dependents(&self, item: &Item) -> Result<(), SyncError> {
        let Some(latest) = self.latest(item)? else {
            return Ok(());
        };
        let meta: MetaOnly = serde_json::from_value(latest)?;
        if !has_finalizer(&meta.metadata, ORPHAN) || meta.metadata.deletion_timestamp.is_none() {
            return Ok(());
        }
        let dependents = self.graph().dependents_of(&item.uid);
        for dep in dependents {
            let Some(current) = self.latest(&dep.item)? else {
                continue;
            };
            let dep_meta: MetaOnly = serde_json::from_value(current)?;
            let refs = dep_meta.metadata.owner_references.unwrap_or_default();
            let kept: Vec<&OwnerReference> = refs.iter().filter(|r| r.uid != item.uid).collect();
            if kept.len() == refs.len() {
                continue;
            }
            let value = if kept.is_empty() {
                Value::Null
            } else {
                serde_json::to_value(&kept)?
            };
            let patch = json!({"metadata": {"ownerReferences": value, "uid": dep.item.uid}});
            self.patch(&dep.item, &patch).await?;
        }
        self.remove_finalizer(item, &meta.metadata, ORPHAN).await
    }

    async fn remove_finalizer(
        &self,
        item: &Item,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        finalizer: &str,
    ) -> Result<(), SyncError> {
        let kept: Vec<&String> = meta
            .finalizers
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .filter(|f| *f != finalizer)
            .collect();
        let value = if kept.is_empty() {
            Value::Null
        } else {
            serde_json::to_value(&kept)?
        };
        let patch = json!({"metadata": {"finalizers": value, "uid": item.uid,
            "resourceVersion": meta.resource_version}});
        self.patch(item, &patch).await
    }

    async fn patch(&self, item: &Item, patch: &Value) -> Result<(), SyncError> {
        match self
            .client
            .merge_patch_shared(item.info(), item.ns(), &item.name, "", patch)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(SyncError::Api(e)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnerState {
    Solid,
    Dangling,
    Waiting,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitors_core_workloads_once() {
        let names: Vec<&str> = monitored_resources()
            .into_iter()
            .map(|i| RESOURCES[i].resource)
            .collect();
        for r in [
            "pods",
            "replicasets",
            "deployments",
            "configmaps",
            "namespaces",
        ] {
            assert!(names.contains(&r), "{r} monitored");
        }
        // DefaultIgnoredResources: events are never monitored.
        assert!(!names.contains(&"events"));
        assert!(!names.contains(&"bindings"));
    }

    #[test]
    fn graph_indexes_dependents() {
        let item = |uid: &str| Item {
            resource: 0,
            namespace: "ns".into(),
            name: uid.into(),
            uid: uid.into(),
        };
        let owner_ref = |uid: &str| OwnerReference {
            uid: uid.into(),
            ..OwnerReference::default()
        };
        let mut g = Graph::default();
        g.insert(Node {
            item: item("child"),
            owners: vec![owner_ref("parent")],
            deleting_dependents: false,
        });
        assert_eq!(g.dependents_of("parent").len(), 1);
        // Re-inserting with other owners moves the edge.
        g.insert(Node {
            item: item("child"),
            owners: vec![owner_ref("other")],
            deleting_dependents: false,
        });
        assert!(g.dependents_of("parent").is_empty());
        assert_eq!(g.dependents_of("other").len(), 1);
        g.remove("child");
        assert!(g.dependents.is_empty());
    }
}
