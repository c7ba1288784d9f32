//! Shared helpers of the conformance tests: a snapshot from pods and nodes, and runners that call
//! one plugin's extension points the way upstream's unit tests do.
#![allow(dead_code)]

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use kubetwin_core::rng::SharedRng;
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::{Handle, NodeScore, Plugin};
use kubetwin_scheduler::objects::{ClusterObjects, Nominator};
use kubetwin_scheduler::snapshot::Snapshot;
use kubetwin_scheduler::status::{Code, Status};
use kubetwin_scheduler::types::{NodeData, PodInfo};

/// A cluster for one test case.
pub struct World {
    pub snapshot: Snapshot,
    pub objects: ClusterObjects,
    pub nominator: Nominator,
    pub rng: SharedRng,
}

impl World {
    /// Nodes (in order) and assigned pods.
    pub fn new(nodes: Vec<Node>, pods: Vec<Pod>) -> Self {
        let mut snapshot = Snapshot::new();
        for n in nodes {
            snapshot
                .add_node(NodeData::new(n).expect("node"))
                .expect("add node");
        }
        for p in pods {
            let info = PodInfo::new(p).expect("pod");
            if snapshot.get(&info.node_name).is_some() {
                snapshot.add_pod(Arc::new(info)).expect("add pod");
            }
        }
        Self {
            snapshot,
            objects: ClusterObjects::default(),
            nominator: Nominator::default(),
            rng: SharedRng::new(1),
        }
    }

    pub fn handle(&self) -> Handle<'_> {
        Handle {
            snapshot: &self.snapshot,
            objects: &self.objects,
            nominator: &self.nominator,
            rng: &self.rng,
        }
    }

    /// PreFilter then Filter of `plugin` on `node`; the PreFilter status when it is not success
    /// or skip, else the Filter status (Filter is not run after Skip, as the framework does).
    pub fn filter(&self, plugin: &dyn Plugin, pod: &Pod, node: &str) -> Status {
        let info = PodInfo::new(pod.clone()).expect("pod");
        let h = self.handle();
        let mut state = CycleState::new();
        if let Some(pf) = plugin.as_pre_filter() {
            let (_, s) = pf.pre_filter(&h, &mut state, &info);
            if s.is_skip() {
                return Status::success();
            }
            if !s.is_success() {
                return s;
            }
        }
        let n = self.snapshot.get(node).expect("node exists");
        plugin
            .as_filter()
            .expect("filter")
            .filter(&h, &state, &info, n)
    }

    /// PreScore (if any), Score of every node in list order, then NormalizeScore.
    pub fn scores(&self, plugin: &dyn Plugin, pod: &Pod) -> Vec<(String, i64)> {
        let info = PodInfo::new(pod.clone()).expect("pod");
        let h = self.handle();
        let mut state = CycleState::new();
        if let Some(pf) = plugin.as_pre_filter() {
            let _ = pf.pre_filter(&h, &mut state, &info);
        }
        let nodes: Vec<_> = self.snapshot.list().collect();
        if let Some(ps) = plugin.as_pre_score() {
            let s = ps.pre_score(&h, &mut state, &info, &nodes);
            if s.is_skip() {
                return nodes.iter().map(|n| (n.name().to_owned(), 0)).collect();
            }
            assert!(s.is_success(), "prescore: {s}");
        }
        let sp = plugin.as_score().expect("score");
        let mut list: Vec<NodeScore<'_>> = nodes
            .iter()
            .map(|n| NodeScore {
                name: n.name(),
                score: sp.score(&h, &state, &info, n).expect("score"),
            })
            .collect();
        if sp.has_normalize() {
            let s = sp.normalize(&h, &state, &info, &mut list);
            assert!(s.is_success());
        }
        list.iter().map(|s| (s.name.to_owned(), s.score)).collect()
    }
}

/// A status from a code and reasons.
pub fn st(code: Code, reasons: &[&str]) -> Status {
    Status::new(code, reasons.iter().copied())
}

/// Success.
pub fn ok() -> Status {
    Status::success()
}

/// UnschedulableAndUnresolvable with one reason.
pub fn uau(reason: &str) -> Status {
    Status::with_reason(Code::UnschedulableAndUnresolvable, reason)
}

/// Unschedulable with reasons.
pub fn unsched(reasons: &[&str]) -> Status {
    st(Code::Unschedulable, reasons)
}

/// Asserts code and reasons (not the plugin name).
pub fn assert_status(case: &str, got: &Status, want: &Status) {
    assert_eq!(
        (got.code(), got.reasons()),
        (want.code(), want.reasons()),
        "case: {case}"
    );
}
