//! Field selectors (`apimachinery/pkg/fields/selector.go`).
//!
//! PLACEHOLDER API SURFACE — being implemented. Signatures are the contract other crates code against.

/// A parse failure, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldSelectorError(pub String);

/// The operator of one field requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `=` or `==`
    Equals,
    /// `!=`
    NotEquals,
}

/// One `field op value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `spec.nodeName`.
    pub field: String,
    /// The operator.
    pub op: FieldOp,
    /// The value compared against.
    pub value: String,
}

/// A parsed field selector: the AND of its requirements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    /// The requirements, in the order written.
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses the string form (`fields.ParseSelector`).
    pub fn parse(_s: &str) -> Result<Self, FieldSelectorError> {
        unimplemented!()
    }
    /// Whether the selector matches an object whose field values `get` returns
    /// (`None` for a field the object does not expose, which compares as the empty string).
    pub fn matches(&self, _get: &dyn Fn(&str) -> Option<String>) -> bool {
        unimplemented!()
    }
}
