//! Errors of the scheduler library: bad input objects and bad configuration.

/// An input object the scheduler cannot use, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    /// The field path, e.g. `spec.containers[0].resources.requests[cpu]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    /// An error about `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Errors of the scheduler as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    /// An object could not be used.
    #[error("{object}: {source}")]
    Input {
        /// `Kind namespace/name` of the object.
        object: String,
        /// The field-level error.
        source: InputError,
    },
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A plugin returned an internal error.
    #[error("{0}")]
    Internal(String),
}
