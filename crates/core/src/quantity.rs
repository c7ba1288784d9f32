//! Kubernetes resource quantities (`apimachinery/pkg/api/resource`), exact as Go.
//!
//! PLACEHOLDER API SURFACE — being implemented. Signatures are the contract other crates code against.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// How a quantity prints itself (`resource.Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `e3`, `e6`, …
    DecimalExponent,
    /// `Ki`, `Mi`, …
    BinarySI,
    /// `m`, `k`, `M`, …
    DecimalSI,
}

/// A parse failure, with Go's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    Format,
    /// `unable to parse quantity's suffix`
    #[error("unable to parse quantity's suffix")]
    Suffix,
    /// `numeric value too large`
    #[error("numeric value too large")]
    TooLarge,
}

/// A fixed-point number with a format, as `resource.Quantity`.
#[derive(Debug, Clone)]
pub struct Quantity {
    _todo: (),
}

impl Quantity {
    /// Parses a quantity string (`resource.ParseQuantity`).
    pub fn parse(_s: &str) -> Result<Self, QuantityError> {
        unimplemented!("quantity parsing is being implemented")
    }
    /// A quantity of `value × 10^scale` in `format` (`resource.NewScaledQuantity` / `NewQuantity`).
    pub fn new_scaled(_value: i64, _scale: i32, _format: Format) -> Self {
        unimplemented!()
    }
    /// `NewMilliQuantity`.
    pub fn from_milli(_milli: i64, _format: Format) -> Self {
        unimplemented!()
    }
    /// The value rounded up to an integer (`Quantity.Value`).
    pub fn value(&self) -> i64 {
        unimplemented!()
    }
    /// The value in thousandths, rounded up (`Quantity.MilliValue`).
    pub fn milli_value(&self) -> i64 {
        unimplemented!()
    }
    /// Whether the quantity is zero.
    pub fn is_zero(&self) -> bool {
        unimplemented!()
    }
    /// `self += other`.
    pub fn add(&mut self, _other: &Quantity) {
        unimplemented!()
    }
    /// `self -= other`.
    pub fn sub(&mut self, _other: &Quantity) {
        unimplemented!()
    }
    /// The format the quantity prints in.
    pub fn format(&self) -> Format {
        unimplemented!()
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Quantity {
    /// The canonical form (`Quantity.String`).
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        unimplemented!()
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Quantity {}
impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Quantity {
    /// `Quantity.Cmp`.
    fn cmp(&self, _other: &Self) -> Ordering {
        unimplemented!()
    }
}

impl TryFrom<&k8s_openapi::apimachinery::pkg::api::resource::Quantity> for Quantity {
    type Error = QuantityError;
    fn try_from(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Result<Self, Self::Error> {
        Self::parse(&q.0)
    }
}
