//! Label selectors (`apimachinery/pkg/labels/selector.go`, `apis/meta/v1/helpers.go`).
//!
//! PLACEHOLDER API SURFACE — being implemented. Signatures are the contract other crates code against.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// A parse or conversion failure, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// A set of labels a selector can be matched against.
pub trait Labels {
    /// The value of `key`, if present.
    fn get(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
}

/// A parsed label selector: the AND of its requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    _todo: (),
}

impl Selector {
    /// Parses the string form (`labels.Parse`).
    pub fn parse(_s: &str) -> Result<Self, SelectorError> {
        unimplemented!()
    }
    /// Converts a `metav1.LabelSelector` (`metav1.LabelSelectorAsSelector`): `None` selects nothing,
    /// an empty selector selects everything.
    pub fn from_label_selector(_ls: Option<&LabelSelector>) -> Result<Self, SelectorError> {
        unimplemented!()
    }
    /// The selector that matches every label set.
    pub fn everything() -> Self {
        unimplemented!()
    }
    /// The selector that matches nothing.
    pub fn nothing() -> Self {
        unimplemented!()
    }
    /// Whether the selector matches `labels`.
    pub fn matches(&self, _labels: &dyn Labels) -> bool {
        unimplemented!()
    }
    /// Whether the selector has no requirements (matches everything).
    pub fn is_empty(&self) -> bool {
        unimplemented!()
    }
}

impl std::fmt::Display for Selector {
    /// The canonical string form (`Selector.String`).
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        unimplemented!()
    }
}
