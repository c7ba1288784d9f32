//! Patch metadata: which list and map fields merge, replace or retain keys, and by which
//! merge key, for the built-in kinds the twin serves.
//!
//! Upstream the apiserver reads these facts from Go struct tags
//! (`patchStrategy:"merge" patchMergeKey:"name"`) through
//! `k8s.io/apimachinery/pkg/util/strategicpatch/meta.go` (`PatchMetaFromStruct`). The same
//! facts appear as `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` in the
//! OpenAPI documents. Here they are a static table ([`generated`]), produced from the
//! Kubernetes 1.34 Go types by `crates/patch/tools/gen_schema.py`; every entry cites the
//! Go field it comes from.

pub mod generated;

/// The JSON shape of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldShape {
    /// A string, number or boolean (also `Quantity`, `Time`, `IntOrString`, `[]byte`).
    Scalar,
    /// A JSON array.
    List,
    /// A JSON object with free-form keys (`map[string]...`) or an opaque object
    /// (`RawExtension`, `FieldsV1`).
    Map,
    /// A JSON object of a known struct type.
    Struct,
}

/// One field of a struct type, with its patch metadata.
#[derive(Debug)]
pub struct FieldSchema {
    /// The JSON field name.
    pub name: &'static str,
    /// The JSON shape of the value.
    pub shape: FieldShape,
    /// The `patchStrategy` tag as written upstream: `""`, `"merge"`, `"replace"`,
    /// `"retainKeys"` or `"merge,retainKeys"`.
    pub strategy: &'static str,
    /// The `patchMergeKey` tag (`""` when none).
    pub merge_key: &'static str,
    /// The struct type of the value (of the elements, for a list), when the table lists it.
    pub ty: Option<&'static TypeSchema>,
    /// Where the fact comes from: `<Go file> <Type>.<Field>`.
    pub source: &'static str,
}

/// A struct type: the fields that matter to strategic merge patch.
///
/// Fields that are not listed behave like upstream fields without a patch strategy: maps
/// merge recursively, lists are replaced.
#[derive(Debug)]
pub struct TypeSchema {
    /// `<group>/<version>.<GoType>`, e.g. `core/v1.PodSpec`.
    pub name: &'static str,
    /// The fields.
    pub fields: &'static [FieldSchema],
}

/// A kind served by the twin and the schema of its objects.
#[derive(Debug)]
pub struct KindSchema {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Schema of the whole object.
    pub schema: &'static TypeSchema,
}

/// Builds a [`FieldSchema`]; keeps the generated table one line per field.
pub const fn field(
    name: &'static str,
    shape: FieldShape,
    strategy: &'static str,
    merge_key: &'static str,
    ty: Option<&'static TypeSchema>,
    source: &'static str,
) -> FieldSchema {
    FieldSchema {
        name,
        shape,
        strategy,
        merge_key,
        ty,
        source,
    }
}

impl TypeSchema {
    /// The field with this JSON name.
    ///
    /// Like Go's `encoding/json` field matching (which upstream's lookup reuses,
    /// `third_party/forked/golang/json/fields.go`), an exact match wins, otherwise the first
    /// case-insensitive match is used.
    pub fn field(&self, json_name: &str) -> Option<&'static FieldSchema> {
        let fields: &'static [FieldSchema] = self.fields;
        fields.iter().find(|f| f.name == json_name).or_else(|| {
            fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(json_name))
        })
    }

    /// Walks down a path of JSON field names (through struct fields and list elements) and
    /// returns the last field, e.g. `["spec", "template", "spec", "containers"]`.
    pub fn field_at(&self, path: &[&str]) -> Option<&'static FieldSchema> {
        let (first, rest) = path.split_first()?;
        let field = self.field(first)?;
        if rest.is_empty() {
            return Some(field);
        }
        field.ty?.field_at(rest)
    }
}

/// The schema of a kind, e.g. `schema_for("apps", "v1", "Deployment")`; `None` for kinds
/// without a table entry (custom resources, kinds the twin does not serve).
pub fn schema_for(group: &str, version: &str, kind: &str) -> Option<&'static TypeSchema> {
    generated::KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.kind == kind)
        .map(|k| k.schema)
}

/// Every kind in the table.
pub fn kinds() -> &'static [KindSchema] {
    generated::KINDS
}
