//! Runs one scenario file given in `SCENARIO` and prints its report (a development aid).
#[test]
fn run_scenario_from_env() {
    let Ok(path) = std::env::var("SCENARIO") else {
        return;
    };
    let scenario =
        kubetwin_scenario::Scenario::load(std::path::Path::new(&path)).expect("scenario");
    let report =
        kubetwin_scenario::run(&scenario, kubetwin_scenario::RunOptions::default()).expect("run");
    println!("{}", report.to_markdown());
}
