//! Field selector tests transcribed from upstream
//! `staging/src/k8s.io/apimachinery/pkg/fields/selector_test.go` (each test names its Go
//! source), plus property tests.

use std::collections::BTreeMap;

use kubetwin_core::fields::{FieldOp, FieldSelector, escape_value, unescape_value};
use proptest::prelude::*;

fn parse(s: &str) -> FieldSelector {
    FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn getter(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |field: &str| map.get(field).cloned()
}

/// Upstream: TestSelectorParse and TestDeterministicParse.
#[test]
fn selector_parse() {
    for good in ["x=a,y=b,z=c", "", "x!=a,y=b", r"x=a||y\=b", r"x=a\=\=b"] {
        assert_eq!(parse(good).to_string(), good, "{good}");
    }
    let bad = [
        (
            "x=a||y=b",
            "invalid field selector: unescaped character in value: 61",
        ),
        (
            "x==a==b",
            "invalid field selector: unescaped character in value: 61",
        ),
        ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
        (
            "x in (a)",
            "invalid selector: 'x in (a)'; can't understand 'x in (a)'",
        ),
        (
            "x in (a,b,c)",
            "invalid selector: 'x in (a,b,c)'; can't understand 'b'",
        ),
        ("x", "invalid selector: 'x'; can't understand 'x'"),
        (
            r"x=\a",
            r"invalid field selector: invalid escape sequence: \a",
        ),
        (
            r"x=a\",
            r"invalid field selector: invalid escape sequence: \",
        ),
        ("x=a,y=b,", "ok"),
    ];
    for (input, want) in bad {
        match FieldSelector::parse(input) {
            Ok(_) if want == "ok" => {}
            Ok(sel) => panic!("{input}: parsed as {sel}"),
            Err(e) => assert_eq!(e.to_string(), want, "{input}"),
        }
    }
    assert_eq!(parse("x=a,a=x").to_string(), parse("a=x,x=a").to_string());
    assert_eq!(parse("b==x,a=y").to_string(), "a=y,b=x");
}

/// Upstream: TestSplitTerms / TestSplitTerm, observed through parsing.
#[test]
fn split_terms_and_term() {
    // Terms are sorted by their raw text: "k2=v2" sorts before "k=…".
    let value_of = |sel: &FieldSelector, field: &str| {
        sel.requirements
            .iter()
            .find(|r| r.field == field)
            .map(|r| r.value.clone())
    };
    let sel = parse(r"k=\,,k2=v2");
    assert_eq!(value_of(&sel, "k").as_deref(), Some(","));
    assert_eq!(sel.requirements[0].field, "k2");
    let sel = parse(r"k=\\,k2=v2");
    assert_eq!(value_of(&sel, "k").as_deref(), Some("\\"));
    assert_eq!(sel.requirements.len(), 2);
    let sel = parse(r"k=\\\,,k2=v2");
    assert_eq!(value_of(&sel, "k").as_deref(), Some("\\,"));
    let sel = parse("함=수,목=록");
    assert_eq!(sel.requirements.len(), 2);
    assert_eq!(
        (
            sel.requirements[1].field.as_str(),
            sel.requirements[1].value.as_str()
        ),
        ("함", "수")
    );
    let sel = parse("a=avalue,b==bvalue,c!=cvalue");
    let ops: Vec<FieldOp> = sel.requirements.iter().map(|r| r.op).collect();
    assert_eq!(
        ops,
        vec![FieldOp::Equals, FieldOp::Equals, FieldOp::NotEquals]
    );
    assert_eq!(sel.to_string(), "a=avalue,b=bvalue,c!=cvalue");
    assert!(parse(",a=a").requirements.len() == 1);
    // A term with an empty field and value is dropped by the identity transform.
    assert!(parse("=").is_empty());
    assert!(parse("!=").is_empty());
}

/// Upstream: TestEscapeValue.
#[test]
fn escape_and_unescape() {
    for (raw, escaped) in [
        ("", ""),
        ("a", "a"),
        ("=", r"\="),
        (",", r"\,"),
        ("\\", r"\\"),
        (r"\=\,\", r"\\\=\\\,\\"),
    ] {
        assert_eq!(escape_value(raw), escaped);
        assert_eq!(unescape_value(escaped).ok().as_deref(), Some(raw));
    }
    for invalid in [r"\", r"\\\", r"\a"] {
        let err = unescape_value(invalid)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with("invalid field selector: invalid escape sequence: "),
            "{invalid}: {err}"
        );
    }
}

/// Upstream: TestEverything, TestSelectorMatches, TestOneTermEqualSelector.
#[test]
fn selector_matches() {
    assert!(FieldSelector::everything().matches(&getter(&[("x", "y")])));
    assert!(FieldSelector::everything().is_empty());
    let matches = [
        ("", vec![("x", "y")]),
        ("x=y", vec![("x", "y")]),
        ("x=y,z=w", vec![("x", "y"), ("z", "w")]),
        ("x!=y,z!=w", vec![("x", "z"), ("z", "a")]),
        ("notin=in", vec![("notin", "in")]),
    ];
    for (sel, fields) in matches {
        assert!(parse(sel).matches(&getter(&fields)), "{sel}");
    }
    let no_matches = [
        ("x=y", vec![("x", "z")]),
        ("x=y,z=w", vec![("x", "w"), ("z", "w")]),
        ("x!=y,z!=w", vec![("x", "z"), ("z", "w")]),
    ];
    for (sel, fields) in no_matches {
        assert!(!parse(sel).matches(&getter(&fields)), "{sel}");
    }
    let fieldset = getter(&[("foo", "bar"), ("baz", "blah"), ("complex", r"=value\,\")]);
    for sel in [
        "foo=bar",
        "baz=blah",
        "foo=bar,baz=blah",
        r"foo=bar,baz=blah,complex=\=value\\\,\\",
    ] {
        assert!(parse(sel).matches(&fieldset), "{sel}");
    }
    for sel in ["foo=blah", "baz=bar", "foo=bar,foobar=bar,baz=blah"] {
        assert!(!parse(sel).matches(&fieldset), "{sel}");
    }
    assert!(FieldSelector::one_term_equal("x", "y").matches(&getter(&[("x", "y")])));
    assert!(!FieldSelector::one_term_equal("x", "y").matches(&getter(&[("x", "z")])));
    // A missing field compares as "".
    assert!(parse("spec.nodeName=").matches(&getter(&[])));
    assert!(parse("status.phase!=Failed").matches(&getter(&[])));
}

/// Upstream: TestRequiresExactMatch.
#[test]
fn requires_exact_match() {
    let cases = [
        ("", "test", None),
        ("a=b", "test", None),
        ("test=b", "test", Some("b")),
        ("test=", "test", Some("")),
        ("test!=b", "test", None),
        ("test!=", "test", None),
        ("a=x,test=b", "test", Some("b")),
    ];
    for (sel, field, want) in cases {
        assert_eq!(parse(sel).requires_exact_match(field), want, "{sel}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Parsing arbitrary strings never panics.
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = FieldSelector::parse(&s).map(|sel| sel.to_string());
    }

    /// Whatever parses prints a string that parses back to the same requirements (Go orders
    /// terms by their raw text, so the order may differ between the two parses).
    #[test]
    fn display_round_trips(s in "([a-c.]{1,3}(=|==|!=)([a-c,=\\\\]|\\\\[,=\\\\]){0,4},?){0,4}") {
        if let Ok(sel) = FieldSelector::parse(&s) {
            let printed = sel.to_string();
            let key = |r: &kubetwin_core::fields::FieldRequirement| (r.field.clone(), r.op == FieldOp::Equals, r.value.clone());
            let mut want: Vec<_> = sel.requirements.iter().map(key).collect();
            want.sort();
            let again = FieldSelector::parse(&printed);
            prop_assert!(again.is_ok(), "{} -> {}", s, printed);
            let mut got: Vec<_> = again.map(|a| a.requirements.iter().map(key).collect()).unwrap_or_default();
            got.sort();
            prop_assert_eq!(got, want, "{} -> {}", s, printed);
        }
    }
}
