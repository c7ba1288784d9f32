//! NodeAffinity: `nodeSelector` and required node affinity as a filter (with a PreFilter that
//! narrows the cycle to nodes named by `metadata.name` match fields), preferred node affinity as a
//! score, and the scheduler-enforced `addedAffinity` of the plugin args.
//!
//! Upstream: pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::NodeAffinity as ApiNodeAffinity;

use crate::cycle_state::CycleState;
use crate::framework::{
    FilterPlugin, Handle, MAX_NODE_SCORE, NodeScore, Plugin, PreFilterPlugin, PreFilterResult,
    PreScorePlugin, ScorePlugin,
};
use crate::helpers::nodeaffinity::{NodeSelector, PreferredTerms};
use crate::helpers::normalize::default_normalize_score;
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// The pod's selector or affinity does not match (`ErrReasonPod`).
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// The added affinity does not match (`errReasonEnforced`).
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
/// The `metadata.name` terms select no node (`errReasonConflict`).
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

const PRE_SCORE_STATE_KEY: &str = "PreScoreNodeAffinity";

#[derive(Clone)]
struct PreScoreState {
    preferred: Option<PreferredTerms>,
}

/// The NodeAffinity plugin with its args.
#[derive(Debug, Clone, Default)]
pub struct NodeAffinity {
    added_node_selector: Option<NodeSelector>,
    added_pref_terms: Option<PreferredTerms>,
}

impl NodeAffinity {
    /// Builds the plugin from `NodeAffinityArgs.addedAffinity`.
    pub fn new(added: Option<&ApiNodeAffinity>) -> Result<Self, String> {
        let mut pl = Self::default();
        if let Some(a) = added {
            if let Some(ns) = &a.required_during_scheduling_ignored_during_execution {
                let sel = NodeSelector::new(ns);
                if let Some(e) = sel.first_error() {
                    return Err(format!(
                        "parsing addedAffinity.requiredDuringSchedulingIgnoredDuringExecution: {e}"
                    ));
                }
                pl.added_node_selector = Some(sel);
            }
            if let Some(terms) = a
                .preferred_during_scheduling_ignored_during_execution
                .as_ref()
                .filter(|t| !t.is_empty())
            {
                pl.added_pref_terms = Some(PreferredTerms::new(terms).map_err(|e| {
                    format!(
                        "parsing addedAffinity.preferredDuringSchedulingIgnoredDuringExecution: {e}"
                    )
                })?);
            }
        }
        Ok(pl)
    }
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        names::NODE_AFFINITY
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

fn required_affinity(pod: &PodInfo) -> Option<&k8s_openapi::api::core::v1::NodeSelector> {
    pod.spec()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
}

fn preferred_terms(pod: &PodInfo) -> Result<Option<PreferredTerms>, String> {
    match pod
        .spec()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        }) {
        Some(terms) => PreferredTerms::new(terms).map(Some),
        None => Ok(None),
    }
}

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(
        &self,
        _h: &Handle<'_>,
        _state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let required = required_affinity(pod);
        let no_node_affinity = required.is_none();
        let node_selector_nil = pod.spec().is_none_or(|s| s.node_selector.is_none());
        if no_node_affinity && self.added_node_selector.is_none() && node_selector_nil {
            return (None, Status::skip());
        }
        let Some(required) = required else {
            return (None, Status::success());
        };
        if required.node_selector_terms.is_empty() {
            return (None, Status::success());
        }
        // Terms whose match fields all name nodes narrow the cycle: union over terms of the
        // intersection within a term; any term without such a field means all nodes.
        let mut node_names: Option<BTreeSet<String>> = None;
        for t in &required.node_selector_terms {
            let mut term_names: Option<BTreeSet<String>> = None;
            for r in t.match_fields.iter().flatten() {
                if r.key == "metadata.name" && r.operator == "In" {
                    let s: BTreeSet<String> = r.values.iter().flatten().cloned().collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(cur) => cur.intersection(&s).cloned().collect(),
                    });
                }
            }
            let Some(term_names) = term_names else {
                return (None, Status::success());
            };
            node_names
                .get_or_insert_with(BTreeSet::new)
                .extend(term_names);
        }
        match node_names {
            Some(n) if n.is_empty() => (
                None,
                Status::with_static_reason(Code::UnschedulableAndUnresolvable, ERR_REASON_CONFLICT),
            ),
            Some(n) => (
                Some(PreFilterResult {
                    node_names: Some(n),
                }),
                Status::success(),
            ),
            None => (None, Status::success()),
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn node_local(&self) -> bool {
        true
    }

    fn filter(
        &self,
        _h: &Handle<'_>,
        _state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let labels = &node.node.labels;
        if let Some(added) = &self.added_node_selector
            && !added.matches(labels, node.name())
        {
            return Status::with_static_reason(
                Code::UnschedulableAndUnresolvable,
                ERR_REASON_ENFORCED,
            );
        }
        if pod.required_node_affinity.matches(labels, node.name()) {
            Status::success()
        } else {
            Status::with_static_reason(Code::UnschedulableAndUnresolvable, ERR_REASON_POD)
        }
    }
}

impl PreScorePlugin for NodeAffinity {
    fn pre_score(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
    ) -> Status {
        let preferred = match preferred_terms(pod) {
            Ok(p) => p,
            Err(e) => return Status::error(e),
        };
        if preferred.is_none() && self.added_pref_terms.is_none() {
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE_KEY, PreScoreState { preferred });
        Status::success()
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        let labels = &node.node.labels;
        let mut count = 0;
        if let Some(added) = &self.added_pref_terms {
            count += added.score(labels, node.name());
        }
        match state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) {
            Some(s) => {
                if let Some(p) = &s.preferred {
                    count += p.score(labels, node.name());
                }
            }
            None => {
                if let Some(p) = preferred_terms(pod).map_err(Status::error)? {
                    count += p.score(labels, node.name());
                }
            }
        }
        Ok(count)
    }
    fn has_normalize(&self) -> bool {
        true
    }
    fn normalize(
        &self,
        _h: &Handle<'_>,
        _state: &CycleState,
        _pod: &PodInfo,
        scores: &mut [NodeScore<'_>],
    ) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}
