//! The three Kubernetes patch types, applied as the 1.34 apiserver applies them, over
//! `serde_json::Value` and with no I/O:
//!
//! - [`strategic_merge_patch`] (`application/strategic-merge-patch+json`), driven by the
//!   patch metadata table in [`schema`] ([`schema_for`] gives a kind's schema);
//! - [`merge_patch`] (`application/merge-patch+json`, RFC 7386 as evanphx/json-patch v4);
//! - [`json_patch`] (`application/json-patch+json`, RFC 6902 as evanphx/json-patch v4).
//!
//! Every function returns a new value and leaves its inputs untouched; errors are
//! [`PatchError`]s carrying upstream's messages and the HTTP status the apiserver uses.

mod error;
mod go;
mod json_patch;
mod merge_patch;
pub mod schema;
mod strategic;

pub use error::PatchError;
pub use json_patch::{
    JSON_PATCH_MAX_COPY_BYTES, JSON_PATCH_MAX_OPERATIONS, json_patch, json_patch_with_copy_limit,
};
pub use merge_patch::merge_patch;
pub use schema::{FieldSchema, FieldShape, KindSchema, TypeSchema, kinds, schema_for};
pub use strategic::{strategic_merge_patch, strategic_merge_patch_owned};
