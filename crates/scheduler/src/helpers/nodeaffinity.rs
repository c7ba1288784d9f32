//! Node selector matching: `NodeSelectorTerm`s (ORed), their `matchExpressions` (ANDed; In, NotIn,
//! Exists, DoesNotExist, Gt, Lt) and `matchFields` (only `metadata.name`, In/NotIn with one value),
//! preferred terms with weights, and the pod's required node affinity (`nodeSelector` AND required
//! affinity).
//!
//! Upstream: staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go,
//! staging/src/k8s.io/apimachinery/pkg/labels/selector.go (`NewRequirement`, `Requirement.Matches`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    NodeSelector as ApiNodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
};

use crate::resource::{is_qualified_name, is_valid_label_value};

/// A label-selector operator of a node selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOp {
    /// The label value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's integer value is greater than the one value.
    Gt,
    /// The label's integer value is less than the one value.
    Lt,
}

/// A validated label requirement (`labels.Requirement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRequirement {
    key: String,
    op: LabelOp,
    values: Vec<String>,
    bound: i64,
}

impl LabelRequirement {
    /// Validates and builds a requirement (`labels.NewRequirement`); `Err` carries the reason.
    pub fn new(key: &str, op: LabelOp, values: &[String]) -> Result<Self, String> {
        if !is_qualified_name(key) {
            return Err(format!("invalid label key {key:?}"));
        }
        let mut bound = 0;
        match op {
            LabelOp::In | LabelOp::NotIn => {
                if values.is_empty() {
                    return Err("for 'in', 'notin' operators, values set can't be empty".into());
                }
            }
            LabelOp::Exists | LabelOp::DoesNotExist => {
                if !values.is_empty() {
                    return Err("values set must be empty for exists and does not exist".into());
                }
            }
            LabelOp::Gt | LabelOp::Lt => {
                if values.len() != 1 {
                    return Err("for 'Gt', 'Lt' operators, exactly one value is required".into());
                }
                bound = values[0].parse::<i64>().map_err(|_| {
                    "for 'Gt', 'Lt' operators, the value must be an integer".to_owned()
                })?;
            }
        }
        for v in values {
            if !is_valid_label_value(v) {
                return Err(format!("invalid label value: {v:?}"));
            }
        }
        Ok(Self {
            key: key.to_owned(),
            op,
            values: values.to_vec(),
            bound,
        })
    }

    /// Whether the labels satisfy the requirement (`Requirement.Matches`).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.op {
            LabelOp::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            LabelOp::NotIn => value.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            LabelOp::Exists => value.is_some(),
            LabelOp::DoesNotExist => value.is_none(),
            LabelOp::Gt => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > self.bound),
            LabelOp::Lt => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < self.bound),
        }
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn op(&self) -> LabelOp {
        self.op
    }

    /// The values.
    pub fn values(&self) -> &[String] {
        &self.values
    }
}

/// A field requirement on `metadata.name` (or another field, which a node never has).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldRequirement {
    key: String,
    equal: bool,
    value: String,
}

/// One parsed `NodeSelectorTerm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTerm {
    /// `None` when the term has no match expressions.
    labels: Option<Vec<LabelRequirement>>,
    /// `None` when the term has no match fields.
    fields: Option<Vec<FieldRequirement>>,
    /// Set when the term failed to parse: it then matches nothing.
    parse_error: Option<String>,
}

impl ParsedTerm {
    /// Parses a term (`newNodeSelectorTerm`).
    pub fn new(term: &NodeSelectorTerm) -> Self {
        let mut out = ParsedTerm {
            labels: None,
            fields: None,
            parse_error: None,
        };
        let exprs = term.match_expressions.as_deref().unwrap_or_default();
        if !exprs.is_empty() {
            match requirements_as_selector(exprs) {
                Ok(reqs) => out.labels = Some(reqs),
                Err(e) => out.parse_error = Some(e),
            }
        }
        let fields = term.match_fields.as_deref().unwrap_or_default();
        if !fields.is_empty() {
            match requirements_as_field_selector(fields) {
                Ok(reqs) => out.fields = Some(reqs),
                Err(e) => {
                    out.parse_error.get_or_insert(e);
                }
            }
        }
        out
    }

    /// Whether a node with `labels` and `name` matches (`nodeSelectorTerm.match`).
    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        if self.parse_error.is_some() {
            return false;
        }
        if let Some(reqs) = &self.labels
            && !reqs.iter().all(|r| r.matches(labels))
        {
            return false;
        }
        if let Some(fields) = &self.fields
            && !node_name.is_empty()
        {
            for f in fields {
                let actual = if f.key == "metadata.name" {
                    node_name
                } else {
                    ""
                };
                if (actual == f.value) != f.equal {
                    return false;
                }
            }
        }
        true
    }

    /// The parse error, if the term is invalid.
    pub fn parse_error(&self) -> Option<&str> {
        self.parse_error.as_deref()
    }
}

fn parse_op(op: &str) -> Option<LabelOp> {
    Some(match op {
        "In" => LabelOp::In,
        "NotIn" => LabelOp::NotIn,
        "Exists" => LabelOp::Exists,
        "DoesNotExist" => LabelOp::DoesNotExist,
        "Gt" => LabelOp::Gt,
        "Lt" => LabelOp::Lt,
        _ => return None,
    })
}

fn requirements_as_selector(
    reqs: &[NodeSelectorRequirement],
) -> Result<Vec<LabelRequirement>, String> {
    let mut out = Vec::with_capacity(reqs.len());
    for r in reqs {
        let op =
            parse_op(&r.operator).ok_or_else(|| format!("Unsupported value: {:?}", r.operator))?;
        out.push(LabelRequirement::new(
            &r.key,
            op,
            r.values.as_deref().unwrap_or_default(),
        )?);
    }
    Ok(out)
}

fn requirements_as_field_selector(
    reqs: &[NodeSelectorRequirement],
) -> Result<Vec<FieldRequirement>, String> {
    let mut out = Vec::with_capacity(reqs.len());
    for r in reqs {
        let values = r.values.as_deref().unwrap_or_default();
        let equal = match r.operator.as_str() {
            "In" => true,
            "NotIn" => false,
            other => return Err(format!("Unsupported value: {other:?}")),
        };
        if values.len() != 1 {
            return Err("must have one element".into());
        }
        out.push(FieldRequirement {
            key: r.key.clone(),
            equal,
            value: values[0].clone(),
        });
    }
    Ok(out)
}

fn is_empty_term(term: &NodeSelectorTerm) -> bool {
    term.match_expressions
        .as_deref()
        .unwrap_or_default()
        .is_empty()
        && term.match_fields.as_deref().unwrap_or_default().is_empty()
}

/// A parsed `NodeSelector` whose invalid terms match nothing (`LazyErrorNodeSelector`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeSelector {
    terms: Vec<ParsedTerm>,
    /// The original terms (non-empty ones), for PreFilter's `metadata.name` analysis.
    raw: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    /// Parses a node selector, dropping empty terms (`NewLazyErrorNodeSelector`).
    pub fn new(ns: &ApiNodeSelector) -> Self {
        let mut terms = Vec::new();
        let mut raw = Vec::new();
        for term in &ns.node_selector_terms {
            if is_empty_term(term) {
                continue;
            }
            terms.push(ParsedTerm::new(term));
            raw.push(term.clone());
        }
        Self { terms, raw }
    }

    /// Whether any term matches the node.
    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        self.terms.iter().any(|t| t.matches(labels, node_name))
    }

    /// The first parse error of any term (`NewNodeSelector` fails on it).
    pub fn first_error(&self) -> Option<&str> {
        self.terms.iter().find_map(ParsedTerm::parse_error)
    }

    /// The non-empty terms as written.
    pub fn raw_terms(&self) -> &[NodeSelectorTerm] {
        &self.raw
    }
}

/// Preferred terms with weights (`PreferredSchedulingTerms`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreferredTerms {
    terms: Vec<(ParsedTerm, i64)>,
}

impl PreferredTerms {
    /// Parses preferred terms, skipping zero weights and empty terms; `Err` if any term is invalid.
    pub fn new(
        terms: &[k8s_openapi::api::core::v1::PreferredSchedulingTerm],
    ) -> Result<Self, String> {
        let mut out = Vec::new();
        for t in terms {
            if t.weight == 0 || is_empty_term(&t.preference) {
                continue;
            }
            let parsed = ParsedTerm::new(&t.preference);
            if let Some(e) = parsed.parse_error() {
                return Err(e.to_owned());
            }
            out.push((parsed, i64::from(t.weight)));
        }
        Ok(Self { terms: out })
    }

    /// The sum of the weights of matching terms.
    pub fn score(&self, labels: &BTreeMap<String, String>, node_name: &str) -> i64 {
        self.terms
            .iter()
            .filter(|(t, _)| t.matches(labels, node_name))
            .map(|(_, w)| *w)
            .sum()
    }

    /// Whether there are no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// A pod's required node affinity: `spec.nodeSelector` AND required node affinity terms
/// (`RequiredNodeAffinity`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequiredNodeAffinity {
    node_selector: Option<BTreeMap<String, String>>,
    affinity: Option<NodeSelector>,
}

impl RequiredNodeAffinity {
    /// Extracts the pod's required node affinity (`GetRequiredNodeAffinity`).
    pub fn from_pod(pod: &Pod) -> Self {
        let spec = pod.spec.as_ref();
        let node_selector = spec
            .and_then(|s| s.node_selector.clone())
            .filter(|m| !m.is_empty());
        let affinity = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(NodeSelector::new);
        Self {
            node_selector,
            affinity,
        }
    }

    /// Whether the node matches both parts (`RequiredNodeAffinity.Match`).
    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        if let Some(sel) = &self.node_selector
            && !sel.iter().all(|(k, v)| labels.get(k) == Some(v))
        {
            return false;
        }
        match &self.affinity {
            Some(a) => a.matches(labels, node_name),
            None => true,
        }
    }

    /// Whether neither a node selector nor required affinity is set.
    pub fn is_empty(&self) -> bool {
        self.node_selector.is_none() && self.affinity.is_none()
    }

    /// The required affinity's node selector, if any.
    pub fn affinity(&self) -> Option<&NodeSelector> {
        self.affinity.as_ref()
    }
}
