//! Resource quantities as written in the spec (`cpu: 4`, `memory: 16Gi`): the text is kept for
//! round trips, the parsed [`Quantity`] for arithmetic.

use std::fmt;

use kubetwin_core::quantity::Quantity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kubernetes quantity from the spec, with the text it was written as.
#[derive(Debug, Clone)]
pub struct SpecQuantity {
    text: String,
    quantity: Quantity,
}

impl SpecQuantity {
    /// Parses a quantity (`resource.ParseQuantity`); the error names the input.
    pub fn parse(text: &str) -> Result<Self, String> {
        let quantity = Quantity::parse(text)
            .map_err(|e| format!("invalid quantity {}: {e}", go_quote(text)))?;
        Ok(Self {
            text: text.to_string(),
            quantity,
        })
    }

    /// The parsed quantity.
    pub fn quantity(&self) -> &Quantity {
        &self.quantity
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn go_quote(text: &str) -> String {
    format!("{text:?}")
}

impl PartialEq for SpecQuantity {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for SpecQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for SpecQuantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for SpecQuantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SpecQuantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as \"4\", \"500m\" or \"16Gi\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SpecQuantity, E> {
                SpecQuantity::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SpecQuantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SpecQuantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<SpecQuantity, E> {
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
