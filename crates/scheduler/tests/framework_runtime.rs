//! Conformance: host selection, node order, queue backoff and ordering, framework runners.
//! Upstream: pkg/scheduler/schedule_one_test.go (`TestSelectHost`),
//! pkg/scheduler/backend/cache/node_tree_test.go (`TestNodeTree_AddNode`, `TestNodeTreeMultiOperations`),
//! pkg/scheduler/backend/queue/backoff_queue_test.go (`TestBackoffQueue_calculateBackoffDuration`),
//! pkg/scheduler/framework/runtime/framework_test.go (`TestPreFilterPlugins` result merging).

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::World;
use kubetwin_core::rng::SharedRng;
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::{
    ExtensionPoint, Framework, Handle, NodePluginScores, Plugin, PreFilterPlugin, PreFilterResult,
    QueuedPodInfo,
};
use kubetwin_scheduler::queue::SchedulingQueue;
use kubetwin_scheduler::schedule::select_host;
use kubetwin_scheduler::snapshot::Snapshot;
use kubetwin_scheduler::status::{Code, Status};
use kubetwin_scheduler::testing::{make_node, make_pod};
use kubetwin_scheduler::types::{NodeData, PodInfo};

fn nps(list: &[(&str, i64)]) -> Vec<NodePluginScores> {
    list.iter()
        .map(|(n, s)| NodePluginScores {
            name: (*n).into(),
            scores: vec![],
            total_score: *s,
        })
        .collect()
}

/// Upstream: TestSelectHost — the chosen host is always one of the top-scored ones.
#[test]
fn select_host_cases() {
    let cases: Vec<(&str, Vec<(&str, i64)>, Vec<&str>)> = vec![
        (
            "unique properly ordered scores",
            vec![("node1.1", 1), ("node2.1", 2)],
            vec!["node2.1"],
        ),
        (
            "equal scores",
            vec![
                ("node1.1", 1),
                ("node1.2", 2),
                ("node1.3", 2),
                ("node2.1", 2),
            ],
            vec!["node1.2", "node1.3", "node2.1"],
        ),
        (
            "out of order scores",
            vec![
                ("node1.1", 3),
                ("node1.2", 3),
                ("node2.1", 2),
                ("node3.1", 1),
                ("node1.3", 3),
            ],
            vec!["node1.1", "node1.2", "node1.3"],
        ),
        ("single node", vec![("node1.1", 7)], vec!["node1.1"]),
    ];
    for (name, list, possible) in cases {
        let mut seen = BTreeSet::new();
        for seed in 0..64 {
            let host = select_host(nps(&list), &SharedRng::new(seed)).expect("host");
            assert!(possible.contains(&host.as_str()), "{name}: {host}");
            seen.insert(host);
        }
        // Reservoir sampling reaches every tied node.
        assert_eq!(seen.len(), possible.len(), "{name}: {seen:?}");
    }
    assert!(
        select_host(vec![], &SharedRng::new(1)).is_err(),
        "empty priority list"
    );
}

fn zoned(name: &str, region: &str, zone: &str) -> NodeData {
    let mut b = make_node(name);
    if !region.is_empty() {
        b = b.label("topology.kubernetes.io/region", region);
    }
    if !zone.is_empty() {
        b = b.label("topology.kubernetes.io/zone", zone);
    }
    NodeData::new(b.obj()).expect("node")
}

/// Upstream: TestNodeTree_AddNode / TestNodeTreeMultiOperations — round-robin over zones in
/// first-seen order, nodes within a zone in insertion order, removal keeps the rest in place.
#[test]
fn node_tree_order() {
    let nodes = [
        ("node-0", "region-1", "zone-1"),
        ("node-1", "region-1", "zone-2"),
        ("node-2", "region-2", "zone-2"),
        ("node-3", "region-2", "zone-2"),
        ("node-4", "region-1", "zone-1"),
        ("node-5", "", ""),
        ("node-6", "region-1", "zone-2"),
    ];
    let list = |s: &Snapshot| s.list().map(|n| n.name().to_owned()).collect::<Vec<_>>();
    let mut s = Snapshot::new();
    for (n, r, z) in nodes.iter().take(3) {
        s.add_node(zoned(n, r, z)).expect("add");
    }
    assert_eq!(
        list(&s),
        vec!["node-0", "node-1", "node-2"],
        "add nodes to a new and to an existing zone"
    );
    for (n, r, z) in nodes.iter().skip(3) {
        s.add_node(zoned(n, r, z)).expect("add");
    }
    assert_eq!(
        list(&s),
        vec![
            "node-0", "node-1", "node-2", "node-5", "node-4", "node-6", "node-3"
        ],
        "interleaved by zone"
    );
    s.remove_node("node-1").expect("remove");
    assert_eq!(
        list(&s),
        vec!["node-0", "node-6", "node-2", "node-5", "node-4", "node-3"],
        "remove a node from a zone"
    );
    s.remove_node("node-5").expect("remove");
    assert_eq!(
        list(&s),
        vec!["node-0", "node-6", "node-2", "node-4", "node-3"],
        "remove the last node of a zone"
    );
    assert!(
        s.add_node(zoned("node-0", "", "")).is_err(),
        "adding an existing node fails"
    );
    assert!(
        s.remove_node("nope").is_err(),
        "removing an unknown node fails"
    );
}

/// Upstream: TestBackoffQueue_calculateBackoffDuration (initial 1 s, max 10 s).
#[test]
fn backoff_durations() {
    let q = SchedulingQueue::new(1, 10);
    let qp = |unsched: u32, errors: u32| QueuedPodInfo {
        pod: Arc::new(PodInfo::new(make_pod("p").obj()).expect("pod")),
        timestamp: 0,
        sequence: 0,
        attempts: 0,
        unschedulable_count: unsched,
        consecutive_errors_count: errors,
        unschedulable_plugins: BTreeSet::new(),
        gating_plugin: String::new(),
    };
    let s = 1_000_000_000i128;
    let cases = [
        ("normal", 1, 0, s),
        ("normal second", 2, 0, 2 * s),
        ("normal third", 3, 0, 4 * s),
        ("normal fourth", 4, 0, 8 * s),
        ("overflow_32bit", 5, 0, 10 * s),
        ("overflow_64bit", 100, 0, 10 * s),
        ("no backoff without attempts", 0, 0, 0),
        ("consecutive errors take precedence", 1, 3, 4 * s),
    ];
    for (name, u, e, want) in cases {
        assert_eq!(q.backoff_duration(&qp(u, e)), want, "{name}");
    }
}

/// Active-queue order: priority, then queue time, then arrival; backoff expiry moves pods back.
#[test]
fn queue_order_and_backoff() {
    let mut q = SchedulingQueue::new(1, 10);
    let pod =
        |n: &str, prio: i32| Arc::new(PodInfo::new(make_pod(n).priority(prio).obj()).expect("pod"));
    q.add(pod("low", 0), 0, "");
    q.add(pod("high", 10), 5, "");
    q.add(pod("low2", 0), 0, "");
    q.add(pod("gated", 100), 0, "SchedulingGates");
    let order: Vec<String> = std::iter::from_fn(|| q.pop())
        .map(|p| p.pod.name.clone())
        .collect();
    assert_eq!(
        order,
        vec!["high", "low", "low2"],
        "priority, then timestamp, then arrival"
    );
    let first = {
        q.add(pod("retry", 0), 0, "");
        q.pop().expect("pod")
    };
    q.add_unschedulable(first, 100, BTreeSet::new(), true, false);
    assert!(q.pop().is_none(), "backing off");
    assert_eq!(q.next_backoff_expiry(), Some(100 + 1_000_000_000));
    q.flush_backoff_completed(100 + 1_000_000_000);
    assert_eq!(
        q.pop().map(|p| p.pod.name.clone()),
        Some("retry".to_owned()),
        "back after the backoff"
    );
}

struct NamesPlugin(&'static str, Option<Vec<&'static str>>, Code);

impl Plugin for NamesPlugin {
    fn name(&self) -> &'static str {
        self.0
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for NamesPlugin {
    fn pre_filter(
        &self,
        _h: &Handle<'_>,
        _s: &mut CycleState,
        _p: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let r = self
            .1
            .as_ref()
            .map(|v| PreFilterResult::nodes(v.iter().map(|s| (*s).to_owned())));
        (r, Status::code_only(self.2))
    }
}

/// Upstream: TestRunPreFilterPlugins — results intersect; an empty intersection is
/// UnschedulableAndUnresolvable naming the plugins; Skip is recorded; UAU stops at once.
#[test]
fn pre_filter_runner() {
    let w = World::new(
        vec![make_node("node1").obj(), make_node("node2").obj()],
        vec![],
    );
    let pod = PodInfo::new(make_pod("p").obj()).expect("pod");
    type Spec = (&'static str, Option<Vec<&'static str>>, Code);
    let run = |plugins: Vec<Spec>| {
        let mut fw = Framework::new("default-scheduler");
        for (n, r, c) in plugins {
            fw.enable(ExtensionPoint::PreFilter, Arc::new(NamesPlugin(n, r, c)), 0);
        }
        let mut state = CycleState::new();
        let (res, s, _) = fw.run_pre_filter_plugins(&w.handle(), &mut state, &pod);
        (
            res.and_then(|r| r.node_names)
                .map(|n| n.into_iter().collect::<Vec<_>>()),
            s,
            state.skip_filter_plugins().clone(),
        )
    };
    let ok = Code::Success;
    let (res, s, _) = run(vec![
        ("A", Some(vec!["node1", "node2"]), ok),
        ("B", Some(vec!["node2"]), ok),
    ]);
    assert_eq!(
        (res, s.code()),
        (Some(vec!["node2".to_owned()]), ok),
        "intersection"
    );
    let (_, s, _) = run(vec![
        ("A", Some(vec!["node1"]), ok),
        ("B", Some(vec!["node2"]), ok),
    ]);
    assert_eq!(s.code(), Code::UnschedulableAndUnresolvable, "disjoint");
    assert_eq!(
        s.message(),
        "node(s) didn't satisfy plugin(s) [A B] simultaneously"
    );
    let (_, s, _) = run(vec![("A", Some(vec![]), ok)]);
    assert_eq!(
        s.message(),
        "node(s) didn't satisfy plugin A",
        "one plugin with no nodes"
    );
    let (_, _, skipped) = run(vec![("A", None, Code::Skip), ("B", None, ok)]);
    assert!(
        skipped.contains("A") && !skipped.contains("B"),
        "skip recorded"
    );
    let (_, s, _) = run(vec![("A", None, Code::Unschedulable), ("B", None, ok)]);
    assert_eq!(
        (s.code(), s.plugin()),
        (Code::Unschedulable, "A"),
        "Unschedulable remembered while the rest run"
    );
    let (_, s, _) = run(vec![
        ("A", None, Code::UnschedulableAndUnresolvable),
        ("B", None, Code::Unschedulable),
    ]);
    assert_eq!(
        (s.code(), s.plugin()),
        (Code::UnschedulableAndUnresolvable, "A"),
        "UAU stops at once"
    );
    let (_, s, _) = run(vec![("A", None, Code::Error)]);
    assert_eq!(s.code(), Code::Error, "error");
}
