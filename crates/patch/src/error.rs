//! The one error type of the crate, with upstream's error texts.
//!
//! Strategic merge patch messages follow `k8s.io/apimachinery/pkg/util/mergepatch/errors.go`
//! and `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`; JSON merge patch and JSON
//! patch messages follow `gopkg.in/evanphx/json-patch.v4` (v4.12.0, the version the
//! 1.34 apiserver links).

/// Everything that can go wrong while applying a patch.
///
/// `Display` gives upstream's message. [`PatchError::http_status`] gives the status code
/// the apiserver answers with (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The original document or the patch is not a JSON object (`mergepatch.ErrBadJSONDoc`).
    #[error("invalid JSON document")]
    BadJsonDoc,
    /// A list whose elements are lists (`mergepatch.ErrNoListOfLists`).
    #[error("lists of lists are not supported")]
    NoListOfLists,
    /// A malformed `$deleteFromPrimitiveList/<field>` key.
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    /// A `$retainKeys` directive that is not a list, or a patch key missing from it.
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    /// A malformed `$setElementOrder/<field>` key.
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    /// A list element without the merge key the field declares (`mergepatch.ErrNoMergeKey`).
    #[error("map: {map} does not contain declared merge key: {merge_key}")]
    NoMergeKey {
        /// The element, printed as Go's `%v` would.
        map: String,
        /// The declared merge key.
        merge_key: String,
    },
    /// A value of the wrong JSON type (`mergepatch.ErrBadArgType`).
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        /// The Go type upstream expected, e.g. `map[string]interface {}`.
        expected: &'static str,
        /// The Go type it found.
        actual: &'static str,
    },
    /// A `$patch` directive with an unknown value (`mergepatch.ErrBadPatchType`).
    #[error("unknown patch type: {patch_type} in map: {map}")]
    BadPatchType {
        /// The directive value, printed as Go's `%s` would.
        patch_type: String,
        /// The map holding the directive, printed as Go's `%v` would.
        map: String,
    },
    /// The elements of the original and patch lists differ in JSON type.
    #[error("list element types are not identical: {lists}")]
    ListElementTypesNotIdentical {
        /// The lists, printed as Go's `%v` would.
        lists: String,
    },
    /// Element type needed but every list involved is empty.
    #[error("no elements in any of the given slices")]
    NoElements,
    /// A list of maps to merge, but the field declares no merge key.
    #[error("cannot merge lists without merge key for {type_name}")]
    NoMergeKeyForList {
        /// Upstream prints the kind of the element schema (`struct`).
        type_name: String,
    },
    /// `$patch: merge` on a list element.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// The patch list is not ordered as its `$setElementOrder` list says.
    #[error(
        "The order in patch list:\n{patch_list}\n doesn't match $setElementOrder list:\n{order_list}\n"
    )]
    SetElementOrderMismatch {
        /// The patch list, printed as Go's `%v` would.
        patch_list: String,
        /// The `$setElementOrder` list, printed as Go's `%v` would.
        order_list: String,
    },
    /// A merge list holding a non-object element.
    #[error("value for key {index} is not a map")]
    ListElementNotAMap {
        /// The position of the element.
        index: usize,
    },
    /// A field's patch strategy cannot be interpreted.
    #[error("unexpected patch strategy: {strategies}")]
    UnexpectedPatchStrategy {
        /// The strategies, printed as Go's `%v` would.
        strategies: String,
    },
    /// Input on which upstream's Go code panics (e.g. comparing two maps with `==`); the
    /// apiserver turns such a panic into a 500. We return an error instead.
    #[error("{message}")]
    UpstreamPanic {
        /// The Go runtime message.
        message: String,
    },
    /// JSON merge patch: the document is `null` (`jsonpatch.ErrBadJSONDoc`).
    #[error("Invalid JSON Document")]
    MergePatchBadDocument,
    /// JSON merge patch: the patch is `null` or a scalar (`jsonpatch.ErrBadJSONPatch`).
    #[error("Invalid JSON Patch")]
    MergePatchBadPatch,
    /// JSON patch: the body is not a list of operation objects (decoding failed).
    #[error("{message}")]
    JsonPatchDecode {
        /// Go's `encoding/json` message.
        message: String,
    },
    /// JSON patch: more operations than the apiserver accepts.
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    JsonPatchTooManyOperations {
        /// The limit (10000).
        max: usize,
        /// The number of operations sent.
        got: usize,
    },
    /// JSON patch: an operation failed (missing path, failed `test`, bad index, ...).
    #[error("{message}")]
    JsonPatchApply {
        /// evanphx/json-patch's message, e.g. `testing value /a failed: test failed`.
        message: String,
    },
}

impl PatchError {
    /// The HTTP status code the apiserver answers with for this error.
    ///
    /// Strategic merge patch: `interpretStrategicMergePatchError` maps the malformed-patch
    /// errors to 400, lists of lists to 422, and passes everything else through as a 500.
    /// JSON merge patch: a bad patch is 400, anything else 500. JSON patch: decoding is 400,
    /// too many operations 413, a failing operation 422.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::BadJsonDoc
            | PatchError::BadPatchFormatForPrimitiveList
            | PatchError::BadPatchFormatForRetainKeys
            | PatchError::BadPatchFormatForSetElementOrderList
            | PatchError::MergePatchBadPatch
            | PatchError::JsonPatchDecode { .. } => 400,
            PatchError::NoListOfLists | PatchError::JsonPatchApply { .. } => 422,
            PatchError::JsonPatchTooManyOperations { .. } => 413,
            _ => 500,
        }
    }
}
