//! The pure core of kubetwin: helpers over Kubernetes API objects that every other crate
//! shares. Nothing here does I/O, reads the wall clock or draws OS randomness; time and
//! randomness come in through [`clock::Clock`] and [`rng::DetRng`].

pub mod clock;
pub mod fields;
pub mod gosort;
pub mod json;
pub mod labels;
pub mod quantity;
pub mod rng;
pub mod validation;

pub use quantity::Quantity;
