//! Same scenario and seed → byte-identical report.json; different seeds change what the seed
//! decides (which spot nodes are interrupted and when, names, tie-breaks).

use std::path::Path;

use kubetwin_scenario::{RunOptions, Scenario, run};

fn example(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios")
        .join(name);
    Scenario::load(&path).expect("the example loads")
}

fn spot_wave() -> Scenario {
    example("spot-interruption-wave.yaml")
}

fn report_with_seed(scenario: &Scenario, seed: u64) -> kubetwin_scenario::Report {
    run(
        scenario,
        RunOptions {
            seed: Some(seed),
            progress: None,
        },
    )
    .expect("the run starts")
}

#[test]
fn same_seed_gives_a_byte_identical_report() {
    let scenario = example("zone-outage-no-spread.yaml");
    let first = report_with_seed(&scenario, 3).to_json();
    let second = report_with_seed(&scenario, 3).to_json();
    assert_eq!(first, second);
    assert!(first.contains("\"schema\": \"kubetwin.io/scenario-report/v1\""));
}

/// Drains through the eviction API with a PodDisruptionBudget: the disruption, deployment and
/// ReplicaSet controllers react to the same writes at the same virtual instant, so the order
/// in which their watches wake decides the order of the API server's random draws (UIDs,
/// generated names). That order once came from tokio's randomly seeded `watch` channel
/// wake-ups and changed between runs; a few runs of each scenario must now agree.
#[test]
fn drains_with_a_disruption_budget_are_byte_identical() {
    for name in ["proxmox-host-drain.yaml", "spot-interruption-wave.yaml"] {
        let scenario = example(name);
        let reports: std::collections::BTreeSet<String> = (0..3)
            .map(|_| report_with_seed(&scenario, 1).to_json())
            .collect();
        assert_eq!(reports.len(), 1, "{name}: same seed, different reports");
    }
}

#[test]
fn different_seeds_pick_different_spot_nodes_and_times() {
    let scenario = spot_wave();
    let mut picks = std::collections::BTreeSet::new();
    let mut reports = std::collections::BTreeSet::new();
    for seed in 1..=4 {
        let report = report_with_seed(&scenario, seed);
        let wave = report
            .actions
            .iter()
            .find(|a| a.name == "spot-wave")
            .expect("the wave ran");
        let notices: Vec<String> = wave
            .notes
            .iter()
            .filter(|n| n.text.ends_with("interruption notice"))
            .map(|n| format!("{}@{}", n.text, n.t))
            .collect();
        picks.insert(notices);
        reports.insert(report.to_json());
    }
    assert!(
        picks.len() > 1,
        "the seed decides which nodes get a notice and when: {picks:?}"
    );
    assert_eq!(reports.len(), 4, "every seed gives its own report");
}
