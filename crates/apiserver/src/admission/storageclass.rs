//! `DefaultStorageClass`: a claim created without a class gets the default StorageClass.
//!
//! Upstream: `plugin/pkg/admission/storage/storageclass/setdefault/admission.go` (`Admit`:
//! claims only, no subresource, create only; skipped when the claim has a class, including
//! `""` and the beta annotation), `pkg/volume/util/storageclass.go` `GetDefaultClass` (of
//! the classes annotated default, the newest by creationTimestamp, then the smallest name),
//! `pkg/apis/storage/util/helpers.go` `IsDefaultAnnotation` (GA or beta annotation = "true").

use serde_json::{Value, json};

/// The annotation that marks the default class.
pub const IS_DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// Its beta form, still honoured.
pub const BETA_IS_DEFAULT_CLASS_ANNOTATION: &str =
    "storageclass.beta.kubernetes.io/is-default-class";
/// The beta claim annotation that names a class (`api.BetaStorageClassAnnotation`).
pub const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// `IsDefaultAnnotation`.
pub fn is_default_class(class: &Value) -> bool {
    let annotations = &class["metadata"]["annotations"];
    annotations[IS_DEFAULT_CLASS_ANNOTATION] == "true"
        || annotations[BETA_IS_DEFAULT_CLASS_ANNOTATION] == "true"
}

/// `PersistentVolumeClaimHasClass`: `spec.storageClassName` present (even `""`) or the beta
/// annotation present.
pub fn claim_has_class(claim: &Value) -> bool {
    !claim["spec"]["storageClassName"].is_null()
        || !claim["metadata"]["annotations"][BETA_STORAGE_CLASS_ANNOTATION].is_null()
}

fn creation_nanos(class: &Value) -> i128 {
    class["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_nanosecond())
}

/// `GetDefaultClass`: the name of the default class, if any.
pub fn default_class(classes: &[Value]) -> Option<String> {
    let mut defaults: Vec<&Value> = classes.iter().filter(|c| is_default_class(c)).collect();
    defaults.sort_by(|a, b| {
        creation_nanos(b)
            .cmp(&creation_nanos(a))
            .then_with(|| crate::object::name(a).cmp(crate::object::name(b)))
    });
    defaults.first().map(|c| crate::object::name(c).to_string())
}

/// `Admit`: sets `spec.storageClassName` of a claim without a class to the default class.
/// Returns whether the claim changed.
pub fn set_default_class(claim: &mut Value, classes: &[Value]) -> bool {
    if claim_has_class(claim) {
        return false;
    }
    let Some(name) = default_class(classes) else {
        return false;
    };
    match claim.get_mut("spec").and_then(Value::as_object_mut) {
        Some(spec) => {
            spec.insert("storageClassName".into(), json!(name));
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, default: Option<&str>, created: &str) -> Value {
        let mut c =
            json!({"metadata": {"name": name, "creationTimestamp": created}, "provisioner": name});
        if let Some(d) = default {
            c["metadata"]["annotations"] = json!({IS_DEFAULT_CLASS_ANNOTATION: d});
        }
        c
    }

    /// Upstream: plugin/pkg/admission/storage/storageclass/setdefault/admission_test.go
    /// `TestAdmission` (two defaults: 1.26+ picks one instead of erroring).
    #[test]
    fn admission_table() {
        let t0 = "2025-01-01T00:00:00Z";
        let t1 = "2025-01-02T00:00:00Z";
        let default1 = class("default1", Some("true"), t0);
        let default2 = class("default2", Some("true"), t0);
        let newer_default = class("default0", Some("true"), t1);
        let false_default = class("nondefault1", Some("false"), t0);
        let no_default = class("nondefault2", None, t0);
        let empty_default = class("nondefault3", Some(""), t0);
        let beta_default = json!({"metadata": {"name": "beta", "creationTimestamp": t0,
            "annotations": {BETA_IS_DEFAULT_CLASS_ANNOTATION: "true"}}});
        let with_class = json!({"metadata": {"name": "c"}, "spec": {"storageClassName": "foo"}});
        let with_empty = json!({"metadata": {"name": "c"}, "spec": {"storageClassName": ""}});
        let without = json!({"metadata": {"name": "c"}, "spec": {}});
        let with_beta = json!({"metadata": {"name": "c", "annotations": {BETA_STORAGE_CLASS_ANNOTATION: "foo"}}, "spec": {}});
        let non_defaults = vec![
            false_default.clone(),
            no_default.clone(),
            empty_default.clone(),
        ];
        let one = [vec![default1.clone()], non_defaults.clone()].concat();
        let two = [
            vec![default1.clone(), default2.clone()],
            non_defaults.clone(),
        ]
        .concat();
        let cases: Vec<(&str, Vec<Value>, &Value, Option<&str>)> = vec![
            (
                "no default, no modification of PVCs",
                non_defaults.clone(),
                &without,
                None,
            ),
            (
                "one default, modify PVC with class=nil",
                one.clone(),
                &without,
                Some("default1"),
            ),
            (
                "one default, no modification of PVC with class=''",
                one.clone(),
                &with_empty,
                Some(""),
            ),
            (
                "one default, no modification of PVC with class='foo'",
                one.clone(),
                &with_class,
                Some("foo"),
            ),
            (
                "one default, no modification of PVC with the beta annotation",
                one.clone(),
                &with_beta,
                None,
            ),
            (
                "two defaults with the same creation time, the smaller name",
                two.clone(),
                &without,
                Some("default1"),
            ),
            (
                "two defaults, no modification of PVC with class=''",
                two.clone(),
                &with_empty,
                Some(""),
            ),
            (
                "two defaults, no modification of PVC with class='foo'",
                two.clone(),
                &with_class,
                Some("foo"),
            ),
            (
                "two defaults, the newer one",
                vec![default1.clone(), newer_default.clone()],
                &without,
                Some("default0"),
            ),
            (
                "the beta default annotation counts",
                vec![beta_default],
                &without,
                Some("beta"),
            ),
        ];
        for (name, classes, claim, expected) in cases {
            let mut claim = claim.clone();
            set_default_class(&mut claim, &classes);
            assert_eq!(
                claim["spec"]["storageClassName"].as_str(),
                expected,
                "{name}"
            );
        }
    }
}
