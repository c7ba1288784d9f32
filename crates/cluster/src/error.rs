//! Errors of parsing and validating a cluster spec. Every error names the document path of the
//! offending field (`pools[2].instanceType.cpu`).

use std::fmt;

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Document path, e.g. `pools[2].instanceType.cpu` or `pools[0].labels[team]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a cluster spec was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// The YAML is malformed or does not fit the typed structure (unknown field, wrong type,
    /// bad quantity or duration).
    #[error("{}", render_parse(path, message, *line, *column))]
    Parse {
        /// Document path where parsing stopped (`.` for the document itself).
        path: String,
        /// What is wrong.
        message: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },
    /// The document parsed but breaks the rules of `docs/CLUSTER_SPEC.md`.
    #[error("invalid cluster spec: {}", join(.0))]
    Invalid(Vec<FieldError>),
}

impl ClusterError {
    /// Every field error (one for a parse error).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            ClusterError::Parse { path, message, .. } => {
                vec![FieldError::new(path.clone(), message.clone())]
            }
            ClusterError::Invalid(errors) => errors.clone(),
        }
    }
}

fn render_parse(path: &str, message: &str, line: Option<usize>, column: Option<usize>) -> String {
    let at = match (line, column) {
        (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
        (Some(line), None) => format!(" (line {line})"),
        _ => String::new(),
    };
    if path.is_empty() || path == "." {
        format!("{message}{at}")
    } else {
        format!("{path}: {message}{at}")
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
