//! Evaluates expectations against the recording (after the run; the recording holds the
//! series the checks need, so "at any time" checks see every virtual instant).

use std::collections::{BTreeMap, BTreeSet};

use kubetwin_cluster::SimNode;

use crate::recorder::{Recording, ms};
use crate::report::{ActionReport, format_offset};
use crate::spec::{Check, Expectation, NodeTarget, Window};

/// The outcome of one expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether it holds.
    pub passed: bool,
    /// What was measured.
    pub detail: String,
}

fn window_bounds(window: &Window, end: i64) -> (i64, i64) {
    (ms(window.from), window.until.map_or(end, ms).min(end))
}

fn within(value: u64, min: Option<u64>, max: Option<u64>) -> bool {
    min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m)
}

fn bounds_text(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) if a == b => format!("exactly {a}"),
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any".into(),
    }
}

fn nodes_of(target: &NodeTarget, nodes: &BTreeMap<String, SimNode>) -> BTreeSet<String> {
    nodes
        .values()
        .filter(|n| target.matches(n))
        .map(|n| n.name.clone())
        .collect()
}

/// Evaluates one expectation.
pub fn evaluate(
    expectation: &Expectation,
    recording: &Recording,
    actions: &[ActionReport],
    nodes: &BTreeMap<String, SimNode>,
    end: i64,
) -> Verdict {
    match &expectation.check {
        Check::PodsReady {
            workload,
            after,
            within: allowed,
        } => {
            let key = workload.key();
            let deadline = (ms(*after) + ms(*allowed)).min(end);
            let series = recording.workload_series.get(&key);
            let at_deadline = series.and_then(|s| s.at(deadline)).copied();
            let ready_since = series.and_then(|s| {
                let mut since = None;
                for (t, (ready, desired)) in &s.points {
                    if *t > deadline {
                        break;
                    }
                    let full = *desired > 0 && ready >= desired;
                    match (full, since) {
                        (true, None) => since = Some(*t),
                        (false, _) => since = None,
                        _ => {}
                    }
                }
                since
            });
            match at_deadline {
                Some((ready, desired)) if desired > 0 && ready >= desired => Verdict {
                    passed: true,
                    detail: format!(
                        "{ready}/{desired} Ready at {} (fully Ready since {})",
                        format_offset(deadline),
                        ready_since.map_or("?".into(), format_offset)
                    ),
                },
                Some((ready, desired)) => Verdict {
                    passed: false,
                    detail: format!("{ready}/{desired} Ready at {}", format_offset(deadline)),
                },
                None => Verdict {
                    passed: false,
                    detail: format!("{key} did not exist at {}", format_offset(deadline)),
                },
            }
        }
        Check::MinReady {
            workload,
            min,
            window,
        } => {
            let key = workload.key();
            let (from, until) = window_bounds(window, end);
            let Some(series) = recording.workload_series.get(&key) else {
                return Verdict {
                    passed: false,
                    detail: format!("{key} was never seen"),
                };
            };
            let mut lowest: Option<(i64, i64)> = None;
            if let Some((ready, _)) = series.at(from) {
                lowest = Some((*ready, from));
            }
            for (t, (ready, _)) in series
                .points
                .iter()
                .filter(|(t, _)| *t > from && *t <= until)
            {
                if lowest.is_none_or(|(l, _)| *ready < l) {
                    lowest = Some((*ready, *t));
                }
            }
            match lowest {
                Some((ready, t)) => Verdict {
                    passed: ready >= i64::try_from(*min).unwrap_or(i64::MAX),
                    detail: format!("lowest Ready count {ready} (at {})", format_offset(t)),
                },
                None => Verdict {
                    passed: false,
                    detail: format!("{key} did not exist in the window"),
                },
            }
        }
        Check::MaxPending { max, window } => {
            let (from, until) = window_bounds(window, end);
            let mut highest = (0_u64, from);
            if let Some(v) = recording.unscheduled.at(from) {
                highest = (*v, from);
            }
            for (t, v) in recording
                .unscheduled
                .points
                .iter()
                .filter(|(t, _)| *t > from && *t <= until)
            {
                if *v > highest.0 {
                    highest = (*v, *t);
                }
            }
            Verdict {
                passed: highest.0 <= *max,
                detail: format!(
                    "at most {} pods unscheduled (first reached at {})",
                    highest.0,
                    format_offset(highest.1)
                ),
            }
        }
        Check::Evictions {
            workload,
            min,
            max,
            window,
        } => {
            let (from, until) = window_bounds(window, end);
            let key = workload.as_ref().map(|w| w.key());
            let count = recording
                .evictions
                .iter()
                .filter(|e| e.t >= from && e.t <= until)
                .filter(|e| key.as_ref().is_none_or(|k| e.workload.as_ref() == Some(k)))
                .count() as u64;
            Verdict {
                passed: within(count, *min, *max),
                detail: format!(
                    "{count} pods evicted (expected {})",
                    bounds_text(*min, *max)
                ),
            }
        }
        Check::RecoversWithin {
            action,
            within: allowed,
        } => {
            let Some(report) = actions.iter().find(|a| &a.name == action) else {
                return Verdict {
                    passed: false,
                    detail: format!("action {action} did not run"),
                };
            };
            match (
                &report.recovery,
                report.recovery.as_ref().and_then(|r| r.seconds_to_recover),
            ) {
                (Some(r), Some(seconds)) => Verdict {
                    passed: seconds * 1000.0 <= ms(*allowed) as f64,
                    detail: match r.unhealthy_at {
                        Some(_) => format!("recovered {}s after the action", seconds),
                        None => "never became unhealthy".into(),
                    },
                },
                _ => Verdict {
                    passed: false,
                    detail: "not recovered by the end of the run".into(),
                },
            }
        }
        Check::NodesReady {
            target,
            at,
            min,
            max,
        } => {
            let t = ms(*at).min(end);
            let count = nodes_of(target, nodes)
                .iter()
                .filter(|n| {
                    recording
                        .node_ready
                        .get(*n)
                        .and_then(|s| s.at(t))
                        .is_some_and(|v| *v == Some(true))
                })
                .count() as u64;
            Verdict {
                passed: within(count, *min, *max),
                detail: format!(
                    "{count} Ready nodes among {} at {} (expected {})",
                    target.describe(),
                    format_offset(t),
                    bounds_text(*min, *max)
                ),
            }
        }
        Check::PodsOnNodes {
            workload,
            target,
            min,
            max,
        } => {
            let names = nodes_of(target, nodes);
            let key = workload.as_ref().map(|w| w.key());
            let count = recording.pods_on_nodes(&names, key.as_deref());
            Verdict {
                passed: within(count, *min, *max),
                detail: format!(
                    "{count} pods{} on {} at the end (expected {})",
                    key.map_or(String::new(), |k| format!(" of {k}")),
                    target.describe(),
                    bounds_text(*min, *max)
                ),
            }
        }
    }
}
