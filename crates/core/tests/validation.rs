//! Validation tests transcribed from upstream
//! `staging/src/k8s.io/apimachinery/pkg/util/validation/{validation_test.go,field/errors_test.go}`
//! and `pkg/api/validation/objectmeta_test.go` (each test names its Go source).

use kubetwin_core::validation::field::{FieldError, aggregate_message, invalid_message};
use kubetwin_core::validation::objectmeta::{
    TOTAL_ANNOTATION_SIZE_LIMIT_B, validate_annotations, validate_object_meta,
    validate_object_meta_update,
};
use kubetwin_core::validation::*;
use serde_json::json;

fn check(name: &str, f: fn(&str) -> Vec<String>, good: &[String], bad: &[String]) {
    for v in good {
        assert!(f(v).is_empty(), "{name}({v:?}) = {:?}", f(v));
    }
    for v in bad {
        assert!(!f(v).is_empty(), "{name}({v:?}) should fail");
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Upstream: TestIsDNS1123Label.
#[test]
fn dns1123_label() {
    let mut good = strs(&[
        "a",
        "ab",
        "abc",
        "a1",
        "a-1",
        "a--1--2--b",
        "0",
        "01",
        "012",
        "1a",
        "1-a",
        "1--a--b--2",
    ]);
    good.push("a".repeat(63));
    let mut bad = strs(&[
        "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a",
        "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a",
        "a b", "1 ", " 1", "1 2",
    ]);
    bad.push("a".repeat(64));
    check("IsDNS1123Label", is_dns1123_label, &good, &bad);
    assert_eq!(
        is_dns1123_label("a.b"),
        vec!["must not contain dots".to_string()]
    );
    assert_eq!(
        is_dns1123_label("A"),
        vec!["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string()]
    );
}

/// Upstream: TestIsDNS1123Subdomain.
#[test]
fn dns1123_subdomain() {
    let mut good = strs(&[
        "a",
        "ab",
        "abc",
        "a1",
        "a-1",
        "a--1--2--b",
        "0",
        "01",
        "012",
        "1a",
        "1-a",
        "1--a--b--2",
        "a.a",
        "ab.a",
        "abc.a",
        "a1.a",
        "a-1.a",
        "a--1--2--b.a",
        "a.1",
        "ab.1",
        "abc.1",
        "a1.1",
        "a-1.1",
        "a--1--2--b.1",
        "0.a",
        "01.a",
        "012.a",
        "1a.a",
        "1-a.a",
        "1--a--b--2",
        "0.1",
        "01.1",
        "012.1",
        "1a.1",
        "1-a.1",
        "1--a--b--2.1",
        "a.b.c.d.e",
        "aa.bb.cc.dd.ee",
        "1.2.3.4.5",
        "11.22.33.44.55",
    ]);
    good.push("a".repeat(253));
    let mut bad = strs(&[
        "",
        "A",
        "ABC",
        "aBc",
        "A1",
        "A-1",
        "1-A",
        "-",
        "a-",
        "-a",
        "1-",
        "-1",
        "_",
        "a_",
        "_a",
        "a_b",
        "1_",
        "_1",
        "1_2",
        ".",
        "a.",
        ".a",
        "a..b",
        "1.",
        ".1",
        "1..2",
        " ",
        "a ",
        " a",
        "a b",
        "1 ",
        " 1",
        "1 2",
        "A.a",
        "aB.a",
        "ab.A",
        "A1.a",
        "a1.A",
        "A.1",
        "aB.1",
        "A1.1",
        "1A.1",
        "0.A",
        "01.A",
        "012.A",
        "1A.a",
        "1a.A",
        "A.B.C.D.E",
        "AA.BB.CC.DD.EE",
        "a.B.c.d.e",
        "aa.bB.cc.dd.ee",
        "a@b",
        "a,b",
        "a_b",
        "a;b",
        "a:b",
        "a%b",
        "a?b",
        "a$b",
    ]);
    bad.push("a".repeat(254));
    check("IsDNS1123Subdomain", is_dns1123_subdomain, &good, &bad);
    assert_eq!(
        is_dns1123_subdomain(&"a".repeat(254)),
        vec!["must be no more than 253 characters".to_string()]
    );
}

/// Upstream: TestIsDNS1035Label.
#[test]
fn dns1035_label() {
    let mut good = strs(&["a", "ab", "abc", "a1", "a-1", "a--1--2--b"]);
    good.push("a".repeat(63));
    let mut bad = strs(&[
        "0",
        "01",
        "012",
        "1a",
        "1-a",
        "1--a--b--2",
        "",
        "A",
        "ABC",
        "aBc",
        "A1",
        "A-1",
        "1-A",
        "-",
        "a-",
        "-a",
        "1-",
        "-1",
        "_",
        "a_",
        "_a",
        "a_b",
        "1_",
        "_1",
        "1_2",
        ".",
        "a.",
        ".a",
        "a.b",
        "1.",
        ".1",
        "1.2",
        " ",
        "a ",
        " a",
        "a b",
        "1 ",
        " 1",
        "1 2",
    ]);
    bad.push("a".repeat(64));
    check("IsDNS1035Label", is_dns1035_label, &good, &bad);
}

/// Upstream: TestIsCIdentifier.
#[test]
fn c_identifier() {
    let good = strs(&[
        "a",
        "ab",
        "abc",
        "a1",
        "_a",
        "a_",
        "a_b",
        "a_1",
        "a__1__2__b",
        "__abc_123",
        "A",
        "AB",
        "AbC",
        "A1",
        "_A",
        "A_",
        "A_B",
        "A_1",
        "A__1__2__B",
        "__123_ABC",
    ]);
    let bad = strs(&[
        "", "1", "123", "1a", "-", "a-", "-a", "1-", "-1", "1_", "1_2", ".", "a.", ".a", "a.b",
        "1.", ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", "#a#",
    ]);
    check("IsCIdentifier", is_c_identifier, &good, &bad);
}

/// Upstream: TestIsValidPortNum, TestIsInRange, TestIsValidPortName.
#[test]
fn ports_and_ranges() {
    for p in [1, 2, 1000, 16384, 32768, 65535] {
        assert!(is_valid_port_num(p).is_empty(), "{p}");
    }
    for p in [0, -1, 65536, 100000] {
        assert_eq!(
            is_valid_port_num(p),
            vec!["must be between 1 and 65535, inclusive".to_string()],
            "{p}"
        );
    }
    for (v, lo, hi) in [(1, 0, 10), (5, 5, 20), (25, 10, 25)] {
        assert!(is_in_range(v, lo, hi).is_empty());
    }
    for (v, lo, hi) in [(1, 2, 10), (5, -4, 2), (25, 100, 120)] {
        assert!(!is_in_range(v, lo, hi).is_empty());
    }
    let good = strs(&[
        "telnet",
        "re-mail-ck",
        "pop3",
        "a",
        "a-1",
        "1-a",
        "a-1-b-2-c",
        "1-a-2-b-3",
    ]);
    let mut bad = strs(&[
        "longerthan15characters",
        "",
        "12345",
        "1-2-3-4",
        "-begin",
        "end-",
        "two--hyphens",
        "whois++",
    ]);
    bad.push("a".repeat(16));
    check("IsValidPortName", is_valid_port_name, &good, &bad);
}

/// Upstream: TestIsQualifiedName.
#[test]
fn qualified_name() {
    let mut good = strs(&[
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with-dashes/simple",
        "now-with-dashes/now-with-dashes",
        "now.with.dots/simple",
        "now-with.dashes-and.dots/simple",
        "1-num.2-num/3-num",
        "1234/5678",
        "1.2.3.4/5678",
        "Uppercase_Is_OK_123",
        "example.com/Uppercase_Is_OK_123",
        "requests.storage-foo",
    ]);
    good.push("a".repeat(63));
    good.push(format!("{}/{}", "a".repeat(253), "b".repeat(63)));
    let mut bad = strs(&[
        "nospecialchars%^=@",
        "cantendwithadash-",
        "-cantstartwithadash-",
        "only/one/slash",
        "Example.com/abc",
        "example_com/abc",
        "example.com/",
        "/simple",
    ]);
    bad.push("a".repeat(64));
    bad.push(format!("{}/abc", "a".repeat(254)));
    check("IsQualifiedName", is_qualified_name, &good, &bad);
    assert_eq!(
        is_qualified_name("/simple"),
        vec!["prefix part must be non-empty".to_string()]
    );
    assert_eq!(
        is_qualified_name("example.com/"),
        vec![
            "name part must be non-empty".to_string(),
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_string(),
        ]
    );
}

/// Upstream: TestIsValidLabelValue.
#[test]
fn label_value() {
    let mut good = strs(&[
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "end-with-num-1",
        "1234",
        "",
    ]);
    good.push("a".repeat(63));
    let mut bad = strs(&[
        "nospecialchars%^=@",
        "Tama-nui-te-rā.is.Māori.sun",
        "\\backslashes\\are\\bad",
        "-starts-with-dash",
        "ends-with-dash-",
        ".starts.with.dot",
        "ends.with.dot.",
    ]);
    bad.push("a".repeat(64));
    check("IsValidLabelValue", is_valid_label_value, &good, &bad);
}

/// Upstream: TestIsHTTPHeaderName, TestIsValidPercent, TestIsConfigMapKey.
#[test]
fn header_percent_config_key() {
    let good = strs(&[
        "Accept-Encoding",
        "Host",
        "If-Modified-Since",
        "X-Forwarded-For",
        "a",
        "ab",
        "abc",
        "a1",
        "-a",
        "a-",
        "a-b",
        "a-1",
        "a--1--2--b",
        "--abc-123",
        "A",
        "AB",
        "AbC",
        "A1",
        "-A",
        "A-",
        "A-B",
        "A-1",
        "A--1--2--B",
        "--123-ABC",
    ]);
    let bad = strs(&[
        "Host:",
        "X-Forwarded-For:",
        "X-@Home",
        "",
        "_",
        "a_",
        "_a",
        "1_",
        "1_2",
        ".",
        "a.",
        ".a",
        "a.b",
        "1.",
        ".1",
        "1.2",
        " ",
        "a ",
        " a",
        "a b",
        "1 ",
        " 1",
        "1 2",
        "#a#",
        "^",
        ",",
        ";",
        "=",
        "<",
        "?",
        "@",
        "{",
    ]);
    check("IsHTTPHeaderName", is_http_header_name, &good, &bad);
    let good = strs(&["0%", "00000%", "1%", "01%", "99%", "100%", "101%"]);
    let bad = strs(&[
        "", "0", "100", "0.0%", "99.9%", "hundred", " 1%", "1% ", "-0%", "-1%", "+1%",
    ]);
    check("IsValidPercent", is_valid_percent, &good, &bad);
    let good = strs(&[
        "a",
        "good",
        "good-good",
        "still.good",
        "this.is.also.good",
        ".so.is.this",
        "THIS_IS_GOOD",
        "so_is_this_17",
    ]);
    let bad = strs(&[".", "..", "..bad", "b*d", "bad!&bad"]);
    check("IsConfigMapKey", is_config_map_key, &good, &bad);
    assert_eq!(
        is_config_map_key(".."),
        vec!["must not be '..'".to_string()]
    );
}

/// Upstream: validation/path/name_test.go (ValidatePathSegmentName) and generic.go name functions.
#[test]
fn path_segment_and_name_functions() {
    assert_eq!(
        is_valid_path_segment_name("."),
        vec!["may not be '.'".to_string()]
    );
    assert_eq!(
        is_valid_path_segment_name(".."),
        vec!["may not be '..'".to_string()]
    );
    assert_eq!(
        is_valid_path_segment_name("a/b%c"),
        vec![
            "may not contain '/'".to_string(),
            "may not contain '%'".to_string()
        ]
    );
    assert!(is_valid_path_segment_name("system:controller:foo").is_empty());
    assert!(validate_path_segment_name("..", true).is_empty());
    // generateName prefixes may end in '-' (Go masks the dash and the byte before it).
    assert!(name_is_dns_subdomain("foo-", true).is_empty());
    assert!(!name_is_dns_subdomain("foo-", false).is_empty());
    assert!(name_is_dns_label("a-", true).is_empty());
    assert!(is_valid_ip("10.9.8.7").is_empty());
    assert!(is_valid_ip("2001:db8::ffff").is_empty());
    assert!(!is_valid_ip("10.9.8").is_empty());
}

/// Upstream: field/errors_test.go TestErrorFormatting and TestMakeFuncs.
#[test]
fn error_formatting() {
    let p = "path.to.field";
    let mut required = FieldError::invalid(p, "the value", "the details");
    required.error_type = kubetwin_core::validation::field::ErrorType::Required;
    let cases: Vec<(FieldError, &str)> = vec![
        (required, "path.to.field: Required value: the details"),
        (
            FieldError::required(p, "the details"),
            "path.to.field: Required value: the details",
        ),
        (
            FieldError::forbidden(p, "the details"),
            "path.to.field: Forbidden: the details",
        ),
        (
            FieldError::too_long(p, 1),
            "path.to.field: Too long: may not be more than 1 byte",
        ),
        (
            FieldError::too_long(p, 2),
            "path.to.field: Too long: may not be more than 2 bytes",
        ),
        (
            FieldError::too_long(p, -1),
            "path.to.field: Too long: value is too long",
        ),
        (
            FieldError::too_many(p, 2, 1),
            "path.to.field: Too many: 2: must have at most 1 item",
        ),
        (
            FieldError::too_many(p, 3, 2),
            "path.to.field: Too many: 3: must have at most 2 items",
        ),
        (
            FieldError::too_many(p, 2, -1),
            "path.to.field: Too many: 2: has too many items",
        ),
        (
            FieldError::too_many(p, -1, 1),
            "path.to.field: Too many: must have at most 1 item",
        ),
        (
            FieldError::internal(p, "the error"),
            "path.to.field: Internal error: the error",
        ),
        (
            FieldError::invalid(p, "the value", "the details"),
            r#"path.to.field: Invalid value: "the value": the details"#,
        ),
        (
            FieldError::invalid(p, -42, "the details"),
            "path.to.field: Invalid value: -42: the details",
        ),
        (
            FieldError::invalid(p, true, "the details"),
            "path.to.field: Invalid value: true: the details",
        ),
        (
            FieldError::invalid(p, json!(["one", "two", "three"]), "the details"),
            r#"path.to.field: Invalid value: ["one","two","three"]: the details"#,
        ),
        (
            FieldError::invalid(p, json!({"one": 1, "two": 2, "three": 3}), "the details"),
            r#"path.to.field: Invalid value: {"one":1,"three":3,"two":2}: the details"#,
        ),
        (
            FieldError::invalid(p, serde_json::Value::Null, "the details"),
            "path.to.field: Invalid value: null: the details",
        ),
        (
            FieldError::not_found(p, "the value"),
            r#"path.to.field: Not found: "the value""#,
        ),
        (
            FieldError::duplicate(p, "the value"),
            r#"path.to.field: Duplicate value: "the value""#,
        ),
        (
            FieldError::not_supported(p, "x", &["Always", "Never"]),
            r#"path.to.field: Unsupported value: "x": supported values: "Always", "Never""#,
        ),
        (
            FieldError::type_invalid(p, "x", "d"),
            r#"path.to.field: Invalid value: "x": d"#,
        ),
    ];
    for (err, want) in cases {
        assert_eq!(err.to_string(), want);
    }
    assert_eq!(
        FieldError::invalid(p, "v", "d").reason(),
        "FieldValueInvalid"
    );
    assert_eq!(FieldError::required(p, "").reason(), "FieldValueRequired");
    assert_eq!(FieldError::required(p, "").body(), "Required value");
}

/// Upstream: field/errors_test.go TestToAggregate, util/errors aggregate and
/// api/errors NewInvalid messages.
#[test]
fn aggregate_and_invalid_messages() {
    let a = FieldError::invalid("f", "v", "d");
    let b = FieldError::internal("", "e");
    assert_eq!(aggregate_message(&[]), None);
    assert_eq!(
        aggregate_message(std::slice::from_ref(&a)).as_deref(),
        Some(r#"f: Invalid value: "v": d"#)
    );
    assert_eq!(
        aggregate_message(&[a.clone(), a.clone()]).as_deref(),
        Some(r#"f: Invalid value: "v": d"#)
    );
    assert_eq!(
        aggregate_message(&[a.clone(), b.clone()]).as_deref(),
        Some(r#"[f: Invalid value: "v": d, : Internal error: e]"#)
    );
    let name_required = FieldError::required("metadata.name", "name or generateName is required");
    assert_eq!(
        invalid_message(
            "apps",
            "Deployment",
            "web",
            std::slice::from_ref(&name_required)
        ),
        r#"Deployment.apps "web" is invalid: metadata.name: Required value: name or generateName is required"#
    );
    assert_eq!(
        invalid_message("", "Pod", "p", &[name_required, a]),
        r#"Pod "p" is invalid: [metadata.name: Required value: name or generateName is required, f: Invalid value: "v": d]"#
    );
    assert_eq!(
        invalid_message("", "Pod", "p", &[]),
        r#"Pod "p" is invalid"#
    );
}

fn messages(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

/// Upstream: objectmeta_test.go TestValidateObjectMetaCustomName, ...Namespaces,
/// ...TrimsTrailingSlash, TestValidateFinalizersPreventConflictingFinalizers.
#[test]
fn object_meta_create() {
    fn custom(s: &str, _prefix: bool) -> Vec<String> {
        if s == "test" {
            Vec::new()
        } else {
            vec!["name-gen".to_string()]
        }
    }
    fn any(_: &str, _: bool) -> Vec<String> {
        Vec::new()
    }
    let errs = validate_object_meta(
        &json!({"name": "test", "generateName": "foo"}),
        false,
        custom,
    );
    assert_eq!(
        messages(&errs),
        vec![r#"metadata.generateName: Invalid value: "foo": name-gen"#.to_string()]
    );

    let errs = validate_object_meta(&json!({"name": "test", "namespace": "foo.bar"}), true, any);
    assert_eq!(
        messages(&errs),
        vec![r#"metadata.namespace: Invalid value: "foo.bar": must not contain dots"#.to_string()]
    );
    let long_ns = "A".repeat(64);
    let errs = validate_object_meta(&json!({"name": "test", "namespace": long_ns}), true, any);
    assert_eq!(errs.len(), 2);
    assert!(errs.iter().all(|e| e.to_string().contains("Invalid value")));

    assert!(
        validate_object_meta(
            &json!({"name": "test", "generateName": "foo-"}),
            false,
            name_is_dns_subdomain
        )
        .is_empty()
    );

    let errs = validate_object_meta(
        &json!({"finalizers": ["orphan", "foregroundDeletion"], "name": "test"}),
        false,
        name_is_dns_subdomain,
    );
    assert_eq!(
        messages(&errs),
        vec![r#"metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set"#.to_string()]
    );

    let errs = validate_object_meta(&json!({}), true, name_is_dns_subdomain);
    assert_eq!(
        messages(&errs),
        vec![
            "metadata.name: Required value: name or generateName is required".to_string(),
            "metadata.namespace: Required value".to_string(),
        ]
    );
    let errs = validate_object_meta(
        &json!({"name": "n", "namespace": "x"}),
        false,
        name_is_dns_subdomain,
    );
    assert_eq!(
        messages(&errs),
        vec!["metadata.namespace: Forbidden: not allowed on this type".to_string()]
    );

    let errs = validate_object_meta(
        &json!({"name": "n", "generation": -1, "labels": {"a b": "c d"}}),
        false,
        name_is_dns_subdomain,
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert_eq!(
        errs[0].to_string(),
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    );
    assert!(
        errs[1]
            .to_string()
            .starts_with(r#"metadata.labels: Invalid value: "a b": name part must consist of"#)
    );
    assert!(
        errs[2]
            .to_string()
            .starts_with(r#"metadata.labels: Invalid value: "c d": a valid label must be"#)
    );
}

/// Upstream: objectmeta_test.go TestValidateObjectMetaOwnerReferences.
#[test]
fn object_meta_owner_references() {
    let ok_ref = |uid: &str, controller: Option<bool>| {
        let mut r = json!({"apiVersion": "customresourceVersion", "kind": "customresourceKind", "name": "name", "uid": uid});
        if let Some(c) = controller {
            r["controller"] = json!(c);
        }
        r
    };
    let cases = [
        (json!([ok_ref("1", None)]), None),
        (
            json!([{"apiVersion": "v1", "kind": "Event", "name": "name", "uid": "1"}]),
            Some("is disallowed from being an owner"),
        ),
        (
            json!([
                ok_ref("1", Some(false)),
                ok_ref("2", Some(true)),
                ok_ref("3", Some(false)),
                ok_ref("4", None)
            ]),
            None,
        ),
        (
            json!([
                {"apiVersion": "customresourceVersion", "kind": "customresourceKind1", "name": "name", "uid": "1", "controller": false},
                {"apiVersion": "customresourceVersion", "kind": "customresourceKind2", "name": "name", "uid": "2", "controller": true},
                {"apiVersion": "customresourceVersion", "kind": "customresourceKind3", "name": "name", "uid": "3", "controller": true},
                {"apiVersion": "customresourceVersion", "kind": "customresourceKind4", "name": "name", "uid": "4"}
            ]),
            Some(
                "Only one reference can have Controller set to true. Found \"true\" in references for customresourceKind2/name and customresourceKind3/name",
            ),
        ),
        (
            json!([{}]),
            Some(
                r#"metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty"#,
            ),
        ),
    ];
    for (refs, want) in cases {
        let errs = validate_object_meta(
            &json!({"name": "test", "namespace": "test", "ownerReferences": refs}),
            true,
            |_, _| Vec::new(),
        );
        match want {
            None => assert!(errs.is_empty(), "{errs:?}"),
            Some(w) => assert!(
                errs.first().is_some_and(|e| e.to_string().contains(w)),
                "{errs:?} should contain {w}"
            ),
        }
    }
}

/// Upstream: objectmeta_test.go TestValidateObjectMetaUpdateIgnoresCreationTimestamp,
/// TestValidateFinalizersUpdate, TestValidateObjectMetaUpdatePreventsDeletionFieldMutation,
/// TestObjectMetaGenerationUpdate.
#[test]
fn object_meta_update() {
    let base = json!({"name": "test", "resourceVersion": "1"});
    let with = |extra: serde_json::Value| {
        let mut m = base.clone();
        if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
            m.extend(extra.clone());
        }
        m
    };
    let now = "1970-01-01T00:16:40Z";
    let later = "1970-01-01T00:33:20Z";
    let cases: Vec<(serde_json::Value, serde_json::Value, Vec<&str>)> = vec![
        (
            with(json!({})),
            with(json!({"creationTimestamp": "1970-01-01T00:00:10Z"})),
            vec!["metadata.creationTimestamp: Invalid value: null: field is immutable"],
        ),
        (with(json!({})), with(json!({})), vec![]),
        (
            with(json!({"deletionTimestamp": now, "deletionGracePeriodSeconds": 30})),
            with(json!({"deletionTimestamp": now, "deletionGracePeriodSeconds": 30})),
            vec![],
        ),
        (
            with(json!({"deletionTimestamp": now})),
            with(json!({})),
            vec![
                r#"metadata.deletionTimestamp: Invalid value: "1970-01-01T00:16:40Z": field is immutable"#,
            ],
        ),
        (
            with(json!({})),
            with(json!({"deletionTimestamp": now})),
            vec!["metadata.deletionTimestamp: Invalid value: null: field is immutable"],
        ),
        (
            with(json!({"deletionTimestamp": later})),
            with(json!({"deletionTimestamp": now})),
            vec![
                r#"metadata.deletionTimestamp: Invalid value: "1970-01-01T00:33:20Z": field is immutable"#,
            ],
        ),
        (
            with(json!({"deletionGracePeriodSeconds": 30})),
            with(json!({})),
            vec!["metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"],
        ),
        (
            with(json!({})),
            with(json!({"deletionGracePeriodSeconds": 30})),
            vec!["metadata.deletionGracePeriodSeconds: Invalid value: null: field is immutable"],
        ),
        (
            with(json!({"deletionGracePeriodSeconds": 40})),
            with(json!({"deletionGracePeriodSeconds": 30})),
            vec!["metadata.deletionGracePeriodSeconds: Invalid value: 40: field is immutable"],
        ),
        (
            with(json!({"generation": 4})),
            with(json!({"generation": 5})),
            vec!["metadata.generation: Invalid value: 4: must not be decremented"],
        ),
        (
            with(json!({"generation": 2})),
            with(json!({"generation": 1})),
            vec![],
        ),
        (
            with(json!({"deletionTimestamp": now, "finalizers": ["x/a", "y/b"]})),
            with(json!({"deletionTimestamp": now, "finalizers": ["x/a"]})),
            vec![
                r#"metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"y/b"}"#,
            ],
        ),
        (
            with(json!({"deletionTimestamp": now, "finalizers": ["x/a"]})),
            with(json!({"deletionTimestamp": now, "finalizers": ["x/a", "y/b"]})),
            vec![],
        ),
        (
            with(json!({"finalizers": ["x/a", "y/b"]})),
            with(json!({"finalizers": ["x/a"]})),
            vec![],
        ),
        (
            json!({"name": "test"}),
            with(json!({})),
            vec![r#"metadata.resourceVersion: Invalid value: "": must be specified for an update"#],
        ),
    ];
    for (new, old, want) in cases {
        let errs = validate_object_meta_update(&new, &old);
        assert_eq!(messages(&errs), want, "{new} vs {old}");
    }
}

/// Upstream: objectmeta_test.go TestValidateAnnotations.
#[test]
fn annotations() {
    let path = kubetwin_core::validation::field::Path::new("field");
    let pairs = |v: &[(&str, String)]| {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Vec<_>>()
    };
    let limit = TOTAL_ANNOTATION_SIZE_LIMIT_B;
    let good = [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with-dashes/simple",
        "now-with-dashes/now-with-dashes",
        "now.with.dots/simple",
        "now-with.dashes-and.dots/simple",
        "1-num.2-num/3-num",
        "1234/5678",
        "1.2.3.4/5678",
        "UpperCase123",
    ];
    for k in good {
        assert!(
            validate_annotations(&pairs(&[(k, "bar".into())]), &path).is_empty(),
            "{k}"
        );
    }
    assert!(validate_annotations(&pairs(&[("a", "b".repeat(limit - 1))]), &path).is_empty());
    assert!(
        validate_annotations(
            &pairs(&[
                ("a", "b".repeat(limit / 2 - 1)),
                ("c", "d".repeat(limit / 2 - 1))
            ]),
            &path
        )
        .is_empty()
    );
    let long_key = "a".repeat(254);
    for (k, want) in [
        ("nospecialchars^=@", "name part must consist of"),
        ("cantendwithadash-", "name part must consist of"),
        ("only/one/slash", "a qualified name must consist of"),
        (long_key.as_str(), "must be no more than"),
    ] {
        let errs = validate_annotations(&pairs(&[(k, "bar".into())]), &path);
        assert_eq!(errs.len(), 1, "{k}: {errs:?}");
        assert!(errs[0].detail.contains(want), "{k}: {}", errs[0].detail);
    }
    for big in [
        pairs(&[("a", "b".repeat(limit))]),
        pairs(&[("a", "b".repeat(limit / 2)), ("c", "d".repeat(limit / 2))]),
    ] {
        let errs = validate_annotations(&big, &path);
        assert_eq!(
            messages(&errs),
            vec!["field: Too long: may not be more than 262144 bytes".to_string()]
        );
    }
}
