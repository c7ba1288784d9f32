//! Name, label and annotation validation (`apimachinery/pkg/util/validation/validation.go`,
//! `apimachinery/pkg/api/validation/objectmeta.go`, `apis/meta/v1/validation/validation.go`).
//!
//! PLACEHOLDER API SURFACE — being implemented. Each function returns Go's error messages
//! (empty when valid), so callers can build `field.Invalid` causes with the same text.

/// `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(_value: &str) -> Vec<String> {
    unimplemented!()
}
/// `IsDNS1123Label`.
pub fn is_dns1123_label(_value: &str) -> Vec<String> {
    unimplemented!()
}
/// `IsQualifiedName` (label and annotation keys).
pub fn is_qualified_name(_value: &str) -> Vec<String> {
    unimplemented!()
}
/// `IsValidLabelValue`.
pub fn is_valid_label_value(_value: &str) -> Vec<String> {
    unimplemented!()
}
