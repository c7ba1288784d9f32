//! The reuse of node-local Filter verdicts across cycles (`filter_cache`) changes no decision:
//! random clusters and pod sequences (taints, cordons, node selectors, host ports, requests,
//! priorities with preemption, deletions, node churn) are scheduled with and without it and
//! every outcome must match.

use std::sync::Arc;

use kubetwin_scheduler::config::default_frameworks;
use kubetwin_scheduler::schedule::{CycleOutcome, Scheduler};
use kubetwin_scheduler::testing::{make_node, make_pod, taint, toleration};
use kubetwin_scheduler::types::{NodeData, PodInfo};
use proptest::prelude::*;

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Step {
    /// Schedule a pod: (shape index, priority).
    Pod(u8, u8),
    /// Delete the n-th scheduled pod (modulo their number).
    Delete(u8),
    /// Remove then re-add the n-th node (modulo), cordoned or not.
    Churn(u8, bool),
}

fn node(i: usize, cordoned: bool) -> NodeData {
    let mut b = make_node(&format!("n{i}"))
        .label("zone", ["a", "b", "c"][i % 3])
        .capacity(&[
            ("cpu", ["1", "2", "4"][i % 3]),
            ("memory", "4Gi"),
            ("pods", ["3", "110"][i % 2]),
        ]);
    if i % 4 == 1 {
        b = b.taint(taint("dedicated", "db", "NoSchedule"));
    }
    if cordoned || i % 7 == 3 {
        b = b.unschedulable();
    }
    NodeData::new(b.obj()).expect("node")
}

fn pod(name: &str, shape: u8, priority: u8) -> PodInfo {
    let cpu = ["100m", "500m", "900m", "1500m"][usize::from(shape % 4)];
    let mut b = make_pod(name)
        .priority(i32::from(priority % 3) * 10)
        .req(&[("cpu", cpu), ("memory", "256Mi")]);
    if shape & 4 != 0 {
        b = b.toleration(toleration("dedicated", "Equal", "db", "NoSchedule"));
    }
    if shape & 8 != 0 {
        b = b.node_selector("zone", "b");
    }
    if shape & 16 != 0 {
        b = b.host_port("", "TCP", 8080);
    }
    PodInfo::new(b.obj()).expect("pod")
}

/// Runs the scenario; returns every outcome (with retries after preemption, as upstream would
/// after the victims are gone).
/// `explain`: record every decision's explanation (names each examined node).
fn run(steps: &[Step], nodes: usize, cache: bool, explain: bool) -> Vec<CycleOutcome> {
    let mut s = Scheduler::new(default_frameworks().expect("profile"), 7);
    s.set_filter_cache_enabled(cache);
    for i in 0..nodes {
        s.snapshot.add_node(node(i, false)).expect("add node");
    }
    let mut placed: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (k, step) in steps.iter().enumerate() {
        match step {
            Step::Pod(shape, prio) => {
                let p = Arc::new(pod(&format!("p{k}"), *shape, *prio));
                let mut o = s.schedule_one(&p, explain);
                if o.node.is_none()
                    && let Some(n) = o.nominated_node.clone()
                {
                    let mut retry = (*p).clone();
                    retry.nominated_node_name = n;
                    out.push(o);
                    o = s.schedule_one(&Arc::new(retry), explain);
                }
                if o.node.is_some() {
                    placed.push(o.pod.clone());
                }
                placed.retain(|key| s.snapshot.node_of_pod(key).is_some());
                out.push(o);
            }
            Step::Delete(i) => {
                if !placed.is_empty() {
                    let key = placed.remove(usize::from(*i) % placed.len());
                    let _ = s.snapshot.remove_pod(&key);
                }
            }
            Step::Churn(i, cordon) => {
                let i = usize::from(*i) % nodes;
                if let Ok(old) = s.snapshot.remove_node(&format!("n{i}")) {
                    s.snapshot.add_node(node(i, *cordon)).expect("re-add node");
                    for p in old.pods {
                        let _ = s.snapshot.add_pod(p);
                    }
                }
            }
        }
    }
    out
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Step::Pod(a, b)),
        2 => any::<u8>().prop_map(Step::Delete),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(a, b)| Step::Churn(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn same_outcomes_with_and_without_the_cache(
        steps in prop::collection::vec(step(), 1..60),
        nodes in 1usize..12,
    ) {
        prop_assert_eq!(run(&steps, nodes, true, false), run(&steps, nodes, false, false));
    }

    /// Explanations too (each examined node named from the snapshot's list of names, checked
    /// against the node itself in debug builds, through node churn that reorders the list).
    #[test]
    fn same_explanations_with_and_without_the_cache(
        steps in prop::collection::vec(step(), 1..60),
        nodes in 1usize..12,
    ) {
        prop_assert_eq!(run(&steps, nodes, true, true), run(&steps, nodes, false, true));
    }
}

/// A full cluster where every pod preempts (the PreemptionAsync shape, small): identical.
#[test]
fn preemption_storm_is_identical() {
    let steps: Vec<Step> = (0..40)
        .map(|i| Step::Pod(if i < 20 { 2 } else { 2 | 4 }, if i < 20 { 0 } else { 2 }))
        .collect();
    let with = run(&steps, 6, true, false);
    assert_eq!(with, run(&steps, 6, false, false));
    assert!(with.iter().any(|o| !o.preempted.is_empty()));
}
