//! Plugin results: the status codes and the `Status` value every extension point returns.
//!
//! Upstream: staging/src/k8s.io/kube-scheduler/framework/interface.go (`Code`, `Status`).

use std::borrow::Cow;
use std::fmt;

/// The outcome class of a plugin call (`fwk.Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The plugin ran correctly and found the pod schedulable.
    Success,
    /// An internal error, not a scheduling verdict.
    Error,
    /// The pod does not fit now, but preemption might help.
    Unschedulable,
    /// The pod does not fit, and preemption would not help.
    UnschedulableAndUnresolvable,
    /// A Permit plugin asks the pod to wait.
    Wait,
    /// The plugin has nothing to do for this pod in this cycle.
    Skip,
    /// The pod waits for something outside the scheduler.
    Pending,
}

impl Code {
    /// The upstream spelling of the code (`Code.String`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "Success",
            Code::Error => "Error",
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
            Code::Wait => "Wait",
            Code::Skip => "Skip",
            Code::Pending => "Pending",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reasons of a status; a single reason (the common rejection) is kept inline so that
/// rejecting thousands of nodes allocates nothing.
#[derive(Clone, Default)]
enum Reasons {
    #[default]
    None,
    One(Cow<'static, str>),
    Many(Vec<Cow<'static, str>>),
}

impl Reasons {
    fn from_vec(mut reasons: Vec<Cow<'static, str>>) -> Self {
        match reasons.len() {
            0 => Reasons::None,
            1 => reasons.pop().map_or(Reasons::None, Reasons::One),
            _ => Reasons::Many(reasons),
        }
    }

    fn as_slice(&self) -> &[Cow<'static, str>] {
        match self {
            Reasons::None => &[],
            Reasons::One(r) => std::slice::from_ref(r),
            Reasons::Many(v) => v,
        }
    }

    fn push(&mut self, reason: Cow<'static, str>) {
        *self = match std::mem::replace(self, Reasons::None) {
            Reasons::None => Reasons::One(reason),
            Reasons::One(first) => Reasons::Many(vec![first, reason]),
            Reasons::Many(mut v) => {
                v.push(reason);
                Reasons::Many(v)
            }
        };
    }
}

/// A status's reasons, kept by explanations: a copy that allocates nothing when the reasons
/// are static strings (the common rejection) or absent (a passing node).
#[derive(Clone, Default)]
pub struct StatusReasons(Reasons);

impl StatusReasons {
    /// The reasons, in order.
    pub fn as_slice(&self) -> &[Cow<'static, str>] {
        self.0.as_slice()
    }

    /// Whether there is no reason.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The reasons joined by `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.as_slice().join(separator)
    }

    /// An estimate of the heap bytes the reasons own (0 when they are static or absent).
    pub fn heap_bytes(&self) -> usize {
        let owned = |reason: &Cow<'static, str>| match reason {
            Cow::Borrowed(_) => 0,
            Cow::Owned(s) => s.capacity(),
        };
        match &self.0 {
            Reasons::None => 0,
            Reasons::One(r) => owned(r),
            Reasons::Many(v) => {
                v.capacity() * std::mem::size_of::<Cow<'static, str>>()
                    + v.iter().map(owned).sum::<usize>()
            }
        }
    }

    /// The reasons as owned strings.
    pub fn to_strings(&self) -> Vec<String> {
        self.as_slice().iter().map(|r| r.to_string()).collect()
    }
}

impl From<Vec<String>> for StatusReasons {
    fn from(reasons: Vec<String>) -> Self {
        Self(Reasons::from_vec(
            reasons.into_iter().map(Cow::Owned).collect(),
        ))
    }
}

impl PartialEq for StatusReasons {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.as_slice(), other.as_slice());
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_str(x, y))
    }
}

impl Eq for StatusReasons {}

impl fmt::Debug for StatusReasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A plugin result: a code, the reasons (each one line of a FitError histogram) and the plugin that
/// produced it. A success carries no reasons and costs no allocation.
#[derive(Clone)]
pub struct Status {
    code: Code,
    reasons: Reasons,
    plugin: &'static str,
}

/// String equality with a shortcut for the same static string (the common case when thousands
/// of nodes are rejected for the same reason).
fn same_str(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

impl PartialEq for Status {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.reasons.as_slice(), other.reasons.as_slice());
        self.code == other.code
            && same_str(self.plugin, other.plugin)
            && a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| same_str(x, y))
    }
}

impl Eq for Status {}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Status")
            .field("code", &self.code)
            .field("reasons", &self.reasons.as_slice())
            .field("plugin", &self.plugin)
            .finish()
    }
}

impl Default for Status {
    fn default() -> Self {
        Self::success()
    }
}

impl Status {
    /// The success status (upstream: a nil `*Status`).
    pub const fn success() -> Self {
        Self {
            code: Code::Success,
            reasons: Reasons::None,
            plugin: "",
        }
    }

    /// A status with `code` and `reasons` (`fwk.NewStatus`).
    pub fn new<I, S>(code: Code, reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            code,
            reasons: Reasons::from_vec(reasons.into_iter().map(|r| Cow::Owned(r.into())).collect()),
            plugin: "",
        }
    }

    /// A status with `code` and reasons that may be static strings (no copy).
    pub fn from_reasons(code: Code, reasons: Vec<Cow<'static, str>>) -> Self {
        Self {
            code,
            reasons: Reasons::from_vec(reasons),
            plugin: "",
        }
    }

    /// A status with `code` and a single reason.
    pub fn with_reason(code: Code, reason: impl Into<String>) -> Self {
        Self {
            code,
            reasons: Reasons::One(Cow::Owned(reason.into())),
            plugin: "",
        }
    }

    /// A status with `code` and a single reason that may be static (no copy).
    pub fn with_cow_reason(code: Code, reason: Cow<'static, str>) -> Self {
        Self {
            code,
            reasons: Reasons::One(reason),
            plugin: "",
        }
    }

    /// A status with `code` and a single static reason (no allocation).
    pub const fn with_static_reason(code: Code, reason: &'static str) -> Self {
        Self {
            code,
            reasons: Reasons::One(Cow::Borrowed(reason)),
            plugin: "",
        }
    }

    /// A status with `code` and no reason.
    pub fn code_only(code: Code) -> Self {
        Self {
            code,
            reasons: Reasons::None,
            plugin: "",
        }
    }

    /// An `Error` status carrying `message` (`fwk.AsStatus(err)`).
    pub fn error(message: impl Into<String>) -> Self {
        Self::with_reason(Code::Error, message)
    }

    /// The `Skip` status.
    pub fn skip() -> Self {
        Self::code_only(Code::Skip)
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The reasons, in order.
    pub fn reasons(&self) -> &[Cow<'static, str>] {
        self.reasons.as_slice()
    }

    /// A copy of the reasons (no allocation when they are static or absent).
    pub fn shared_reasons(&self) -> StatusReasons {
        StatusReasons(self.reasons.clone())
    }

    /// The plugin that produced the status ("" when unset).
    pub fn plugin(&self) -> &'static str {
        self.plugin
    }

    /// Sets the plugin name (`SetPlugin`).
    pub fn set_plugin(&mut self, plugin: &'static str) {
        self.plugin = plugin;
    }

    /// Returns the status with its plugin name set (`WithPlugin`).
    #[must_use]
    pub fn with_plugin(mut self, plugin: &'static str) -> Self {
        self.set_plugin(plugin);
        self
    }

    /// Appends a reason (`AppendReason`).
    pub fn append_reason(&mut self, reason: impl Into<String>) {
        self.reasons.push(Cow::Owned(reason.into()));
    }

    /// The reasons joined by ", " (`Message`).
    pub fn message(&self) -> String {
        self.reasons.as_slice().join(", ")
    }

    /// Whether the code is `Success`.
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    /// Whether the code is `Skip`.
    pub fn is_skip(&self) -> bool {
        self.code == Code::Skip
    }

    /// Whether the code is `Wait`.
    pub fn is_wait(&self) -> bool {
        self.code == Code::Wait
    }

    /// Whether the pod was rejected: `Unschedulable`, `UnschedulableAndUnresolvable` or `Pending`
    /// (`IsRejected`).
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable | Code::Pending
        )
    }

    /// The error message when the status is neither success, wait nor skip (`AsError`).
    pub fn as_error(&self) -> Option<String> {
        if self.is_success() || self.is_wait() || self.is_skip() {
            None
        } else {
            Some(self.message())
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_joins_reasons() {
        let s = Status::new(Code::Unschedulable, ["a", "b"]);
        assert_eq!(s.message(), "a, b");
        assert!(s.is_rejected());
        assert!(Status::success().as_error().is_none());
        assert_eq!(Status::error("boom").as_error().as_deref(), Some("boom"));
    }
}
