//! The snapshot's incremental topology indexes (domain ids per topology key, matching pods per
//! node) change no PodTopologySpread result: a snapshot taken through random node additions,
//! label and status updates, removals and pod churn — with the indexes built part-way, so that
//! later changes go through their incremental upkeep — gives the same Filter verdicts and the
//! same normalized scores as a snapshot built afresh from the final nodes and pods.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kubetwin_core::rng::SharedRng;
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::{
    FilterPlugin, Handle, NodeScore, PreFilterPlugin, PreScorePlugin, ScorePlugin,
};
use kubetwin_scheduler::objects::{ClusterObjects, Nominator};
use kubetwin_scheduler::plugins::podtopologyspread::PodTopologySpread;
use kubetwin_scheduler::snapshot::Snapshot;
use kubetwin_scheduler::testing::{make_node, make_pod, selector};
use kubetwin_scheduler::types::{NodeData, PodInfo};
use proptest::prelude::*;

/// One change to the cluster.
#[derive(Debug, Clone)]
enum Step {
    /// Add or relabel node n (zone choice, rack choice, allocatable choice).
    Node(u8, u8, u8, u8),
    /// Remove node n (if present).
    RemoveNode(u8),
    /// Add a pod with app choice on node n (if present).
    Pod(u8, u8),
    /// Remove the k-th pod (modulo their number).
    RemovePod(u8),
    /// Run every probe on the churned snapshot (builds the indexes there).
    Probe,
}

const ZONES: [Option<&str>; 4] = [Some("z1"), Some("z2"), Some("z3"), None];
const RACKS: [Option<&str>; 3] = [Some("r1"), Some(""), None];
const APPS: [&str; 3] = ["a", "b", "c"];

fn node_data(n: u8, zone: u8, rack: u8, cpu: u8) -> NodeData {
    let name = format!("n{n}");
    let mut b = make_node(&name)
        .label("kubernetes.io/hostname", &name)
        .capacity(&[("cpu", ["2", "4"][usize::from(cpu % 2)]), ("pods", "110")]);
    if let Some(z) = ZONES[usize::from(zone) % ZONES.len()] {
        b = b.label("topology.kubernetes.io/zone", z);
    }
    if let Some(r) = RACKS[usize::from(rack) % RACKS.len()] {
        b = b.label("rack", r);
    }
    NodeData::new(b.obj()).expect("node")
}

fn pod_on(name: &str, app: u8, node: &str) -> Arc<PodInfo> {
    let app = APPS[usize::from(app) % APPS.len()];
    Arc::new(PodInfo::new(make_pod(name).label("app", app).node(node).obj()).expect("pod"))
}

/// The incoming pods compared: soft and hard constraints on the zone, the hostname and a rack
/// label that some nodes lack or leave empty.
fn probes() -> Vec<Pod> {
    let mut out = Vec::new();
    for (when, key) in [
        ("ScheduleAnyway", "topology.kubernetes.io/zone"),
        ("ScheduleAnyway", "kubernetes.io/hostname"),
        ("ScheduleAnyway", "rack"),
        ("DoNotSchedule", "topology.kubernetes.io/zone"),
        ("DoNotSchedule", "kubernetes.io/hostname"),
        ("DoNotSchedule", "rack"),
    ] {
        out.push(
            make_pod("incoming")
                .label("app", "a")
                .spread(1, key, when, Some(selector(&[("app", "a")])), None)
                .obj(),
        );
    }
    out.push(
        make_pod("incoming")
            .label("app", "b")
            .spread(
                2,
                "topology.kubernetes.io/zone",
                "ScheduleAnyway",
                Some(selector(&[("app", "b")])),
                None,
            )
            .spread(
                1,
                "kubernetes.io/hostname",
                "ScheduleAnyway",
                Some(selector(&[("app", "b")])),
                None,
            )
            .obj(),
    );
    out
}

/// Per probe: Filter verdict per node name, then normalized scores per node name.
type Results = Vec<(BTreeMap<String, String>, BTreeMap<String, i64>)>;

fn evaluate(snapshot: &Snapshot) -> Results {
    let objects = ClusterObjects::default();
    let nominator = Nominator::default();
    let rng = SharedRng::new(1);
    let h = Handle {
        snapshot,
        objects: &objects,
        nominator: &nominator,
        rng: &rng,
    };
    let plugin = PodTopologySpread::default();
    let nodes: Vec<_> = snapshot.list().collect();
    probes()
        .into_iter()
        .map(|p| {
            let pod = PodInfo::new(p).expect("pod");
            let mut state = CycleState::new();
            let (_, pre_filter) = plugin.pre_filter(&h, &mut state, &pod);
            let verdicts = nodes
                .iter()
                .map(|n| {
                    let verdict = if pre_filter.is_success() {
                        let s = plugin.filter(&h, &state, &pod, n);
                        format!("{:?} {:?}", s.code(), s.reasons())
                    } else {
                        format!("prefilter {:?}", pre_filter.code())
                    };
                    (n.name().to_owned(), verdict)
                })
                .collect();
            let mut scores = BTreeMap::new();
            if plugin.pre_score(&h, &mut state, &pod, &nodes).is_success() {
                let mut list: Vec<NodeScore<'_>> = nodes
                    .iter()
                    .map(|n| NodeScore {
                        name: n.name(),
                        score: plugin.score(&h, &state, &pod, n).expect("score"),
                    })
                    .collect();
                assert!(plugin.normalize(&h, &state, &pod, &mut list).is_success());
                scores = list.iter().map(|s| (s.name.to_owned(), s.score)).collect();
            }
            (verdicts, scores)
        })
        .collect()
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..8, any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(n, z, r, c)| Step::Node(n, z, r, c)),
        1 => (0u8..8).prop_map(Step::RemoveNode),
        4 => (any::<u8>(), 0u8..8).prop_map(|(a, n)| Step::Pod(a, n)),
        2 => any::<u8>().prop_map(Step::RemovePod),
        2 => Just(Step::Probe),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn churned_snapshot_matches_a_fresh_one(steps in prop::collection::vec(step(), 1..60)) {
        let mut churned = Snapshot::new();
        let mut nodes: BTreeMap<u8, NodeData> = BTreeMap::new();
        let mut pods: Vec<Arc<PodInfo>> = Vec::new();
        let mut next_pod = 0;
        for s in &steps {
            match s {
                Step::Node(n, z, r, c) => {
                    let data = node_data(*n, *z, *r, *c);
                    churned.update_node(data.clone()).expect("update");
                    nodes.insert(*n, data);
                }
                Step::RemoveNode(n) => {
                    if nodes.remove(n).is_some() {
                        churned.remove_node(&format!("n{n}")).expect("remove");
                        let name = format!("n{n}");
                        pods.retain(|p| p.node_name != name);
                    }
                }
                Step::Pod(app, n) => {
                    if nodes.contains_key(n) {
                        next_pod += 1;
                        let p = pod_on(&format!("p{next_pod}"), *app, &format!("n{n}"));
                        churned.add_pod(p.clone()).expect("add pod");
                        pods.push(p);
                    }
                }
                Step::RemovePod(k) => {
                    if !pods.is_empty() {
                        let p = pods.remove(usize::from(*k) % pods.len());
                        churned.remove_pod(&p.key).expect("remove pod");
                    }
                }
                Step::Probe => {
                    let _ = evaluate(&churned);
                }
            }
        }
        let mut fresh = Snapshot::new();
        for data in nodes.values() {
            fresh.add_node(data.clone()).expect("add");
        }
        for p in &pods {
            fresh.add_pod(p.clone()).expect("add pod");
        }
        prop_assert_eq!(evaluate(&churned), evaluate(&fresh));
    }
}
