//! Every example scenario under `examples/scenarios/` runs and its report is checked against
//! the expectations written in the scenario (CI runs them all; each takes seconds).

use std::path::{Path, PathBuf};

use kubetwin_scenario::{RunOptions, Scenario, run};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_scenario_meets_its_expectations() {
    let only = std::env::var("SCENARIO_FILTER").ok();
    let files = examples();
    assert!(files.len() >= 7, "the issue's examples are all there");
    let mut failures = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if only.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let scenario = match Scenario::load(&file) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let report = run(&scenario, RunOptions::default()).expect("the run starts");
        if !report.passed {
            failures.push(format!("{name}:\n{}", report.to_markdown()));
        } else if std::env::var("SCENARIO_PRINT").is_ok() {
            println!("{}", report.to_markdown());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
