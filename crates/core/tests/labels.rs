//! Label selector tests transcribed from upstream
//! `staging/src/k8s.io/apimachinery/pkg/labels/selector_test.go` and
//! `pkg/apis/meta/v1/helpers_test.go` (each test names its Go source), plus property tests.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kubetwin_core::labels::{Lexer, Operator, Requirement, Selector, Token, tokens};
use proptest::prelude::*;

fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(s: &str) -> Selector {
    match Selector::parse(s) {
        Ok(sel) => sel,
        Err(e) => panic!("{s:?}: {e}"),
    }
}

/// Go's `getRequirement(key, op, sets.NewString(vals...))`: values sorted and de-duplicated.
fn req(key: &str, op: Operator, vals: &[&str]) -> Requirement {
    let mut values: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
    values.sort();
    values.dedup();
    match Requirement::new(key, op, values) {
        Ok(r) => r,
        Err(e) => panic!("{key} {op:?} {vals:?}: {e}"),
    }
}

fn selector(reqs: Vec<Requirement>) -> Selector {
    Selector::everything().add(reqs)
}

/// Upstream: TestSelectorParse.
#[test]
fn selector_parse() {
    for good in [
        "x=a,y=b,z=c",
        "",
        "x!=a,y=b",
        "x=",
        "x= ",
        "x=,z= ",
        "x= ,z= ",
        "!x",
        "x>1",
        "x>1,z<5",
    ] {
        assert_eq!(parse(good).to_string(), good.replace(' ', ""), "{good}");
    }
    for bad in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
        assert!(Selector::parse(bad).is_err(), "{bad}");
    }
}

/// Go's exact messages for the bad strings of TestSelectorParse and TestParseOperator.
#[test]
fn selector_parse_error_messages() {
    let label_value_msg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    let ops = "in, notin, =, ==, !=, gt, lt";
    let cases = [
        ("x=a||y=b", format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {label_value_msg}")),
        ("x==a==b", "found '==', expected: ',' or 'end of string'".to_string()),
        ("!x=a", "found '=', expected: ',' or 'end of string'".to_string()),
        (
            "x<a",
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer"
                .to_string(),
        ),
        ("x ! y", format!("unable to parse requirement: found '!', expected: {ops}")),
        ("x ( y", format!("unable to parse requirement: found '(', expected: {ops}")),
        ("x,,y", "found ',', expected: identifier after ','".to_string()),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'".to_string()),
        ("x nott in (y)", format!("unable to parse requirement: found 'nott', expected: {ops}")),
        ("a in (xyz),", "found '', expected: identifier after ','".to_string()),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'".to_string()),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'".to_string()),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier".to_string()),
        ("a (", format!("unable to parse requirement: found '(', expected: {ops}")),
        ("(", "found '(', expected: !, identifier, or 'end of string'".to_string()),
        ("x in y", "unable to parse requirement: found 'y' expected: '('".to_string()),
        (
            "a/b/c=d",
            "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_string(),
        ),
    ];
    for (input, want) in cases {
        match Selector::parse(input) {
            Ok(sel) => panic!("{input}: parsed as {sel}"),
            Err(e) => assert_eq!(e.to_string(), want, "{input}"),
        }
    }
}

/// Upstream: TestDeterministicParse.
#[test]
fn deterministic_parse() {
    assert_eq!(parse("x=a,a=x").to_string(), parse("a=x,x=a").to_string());
}

/// Upstream: TestEverything, TestNilMapIsValid, TestSetIsEmpty, TestMatchesNothing.
#[test]
fn everything_and_nothing() {
    assert!(Selector::everything().matches(&set(&[("x", "y")])));
    assert!(Selector::everything().is_empty());
    assert!(Selector::from_set(&BTreeMap::new()).is_empty());
    assert!(!Selector::nothing().matches(&set(&[("x", "y")])));
    assert!(!Selector::nothing().is_empty());
    assert!(Selector::nothing().is_nothing());
    assert_eq!(Selector::nothing().to_string(), "");
}

/// Upstream: TestSelectorMatches.
#[test]
fn selector_matches() {
    let matches = [
        ("", set(&[("x", "y")])),
        ("x=y", set(&[("x", "y")])),
        ("x=y,z=w", set(&[("x", "y"), ("z", "w")])),
        ("x!=y,z!=w", set(&[("x", "z"), ("z", "a")])),
        ("notin=in", set(&[("notin", "in")])),
        ("x", set(&[("x", "z")])),
        ("!x", set(&[("y", "z")])),
        ("x>1", set(&[("x", "2")])),
        ("x<1", set(&[("x", "0")])),
    ];
    for (sel, labels) in matches {
        assert!(parse(sel).matches(&labels), "{sel} should match {labels:?}");
    }
    let no_matches = [
        ("x=z", set(&[])),
        ("x=y", set(&[("x", "z")])),
        ("x=y,z=w", set(&[("x", "w"), ("z", "w")])),
        ("x!=y,z!=w", set(&[("x", "z"), ("z", "w")])),
        ("x", set(&[("y", "z")])),
        ("!x", set(&[("x", "z")])),
        ("x>1", set(&[("x", "0")])),
        ("x<1", set(&[("x", "2")])),
    ];
    for (sel, labels) in no_matches {
        assert!(
            !parse(sel).matches(&labels),
            "{sel} should not match {labels:?}"
        );
    }
    let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
    for sel in ["foo=bar", "baz=blah", "foo=bar,baz=blah"] {
        assert!(parse(sel).matches(&labelset), "{sel}");
    }
    for sel in ["foo=blah", "baz=bar", "foo=bar,foobar=bar,baz=blah"] {
        assert!(!parse(sel).matches(&labelset), "{sel}");
    }
}

/// Upstream: TestSetMatches.
#[test]
fn set_matches() {
    let labelset = set(&[("foo", "bar"), ("baz", "blah")]);
    for s in [
        set(&[]),
        set(&[("foo", "bar")]),
        set(&[("baz", "blah")]),
        set(&[("foo", "bar"), ("baz", "blah")]),
    ] {
        assert!(Selector::from_set(&s).matches(&labelset), "{s:?}");
    }
}

/// Upstream: TestLexer.
#[test]
fn lexer() {
    let cases = [
        ("", Token::EndOfString),
        (",", Token::Comma),
        ("notin", Token::NotIn),
        ("in", Token::In),
        ("=", Token::Equals),
        ("==", Token::DoubleEquals),
        (">", Token::GreaterThan),
        ("<", Token::LessThan),
        ("!", Token::DoesNotExist),
        ("!=", Token::NotEquals),
        ("(", Token::OpenPar),
        (")", Token::ClosedPar),
        ("~", Token::Identifier),
        ("||", Token::Identifier),
    ];
    for (input, want) in cases {
        let (token, lit) = Lexer::new(input).lex();
        assert_eq!(token, want, "{input}");
        assert_eq!(lit, input);
    }
}

/// Upstream: TestLexerSequence and TestParserLookahead (the scanned items end with
/// EndOfString).
#[test]
fn lexer_sequence() {
    use Token::*;
    let cases: Vec<(&str, Vec<Token>)> = vec![
        (
            "key in ( value )",
            vec![Identifier, In, OpenPar, Identifier, ClosedPar],
        ),
        (
            "key notin ( value )",
            vec![Identifier, NotIn, OpenPar, Identifier, ClosedPar],
        ),
        (
            "key in ( value1, value2 )",
            vec![
                Identifier, In, OpenPar, Identifier, Comma, Identifier, ClosedPar,
            ],
        ),
        ("key", vec![Identifier]),
        ("!key", vec![DoesNotExist, Identifier]),
        ("()", vec![OpenPar, ClosedPar]),
        ("", vec![]),
        (
            "x in (),y",
            vec![Identifier, In, OpenPar, ClosedPar, Comma, Identifier],
        ),
        (
            "== != (), = notin",
            vec![
                DoubleEquals,
                NotEquals,
                OpenPar,
                ClosedPar,
                Comma,
                Equals,
                NotIn,
            ],
        ),
        ("key>2", vec![Identifier, GreaterThan, Identifier]),
        ("key<1", vec![Identifier, LessThan, Identifier]),
    ];
    for (input, mut want) in cases {
        want.push(EndOfString);
        let got: Vec<Token> = tokens(input).into_iter().map(|(t, _)| t).collect();
        assert_eq!(got, want, "{input}");
    }
}

/// Upstream: TestRequirementConstructor (with Go's full messages).
#[test]
fn requirement_constructor() {
    let label_value_re = "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    let cases: Vec<(String, Operator, Vec<&str>, Option<String>)> = vec![
        (
            "x1".into(),
            Operator::In,
            vec![],
            Some("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty".into()),
        ),
        (
            "x2".into(),
            Operator::NotIn,
            vec![],
            Some("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty".into()),
        ),
        ("x3".into(), Operator::In, vec!["foo"], None),
        ("x4".into(), Operator::NotIn, vec!["foo"], None),
        (
            "x5".into(),
            Operator::Equals,
            vec!["bar", "foo"],
            Some(r#"values: Invalid value: ["bar","foo"]: exact-match compatibility requires one single value"#.into()),
        ),
        ("x6".into(), Operator::Exists, vec![], None),
        ("x7".into(), Operator::DoesNotExist, vec![], None),
        (
            "x8".into(),
            Operator::Exists,
            vec!["foo"],
            Some(r#"values: Invalid value: ["foo"]: values set must be empty for exists and does not exist"#.into()),
        ),
        ("x9".into(), Operator::In, vec!["bar"], None),
        ("x10".into(), Operator::In, vec!["bar"], None),
        ("x11".into(), Operator::GreaterThan, vec!["1"], None),
        ("x12".into(), Operator::LessThan, vec!["6"], None),
        (
            "x13".into(),
            Operator::GreaterThan,
            vec![],
            Some("values: Invalid value: []: for 'Gt', 'Lt' operators, exactly one value is required".into()),
        ),
        (
            "x14".into(),
            Operator::GreaterThan,
            vec!["bar"],
            Some(r#"values[0]: Invalid value: "bar": for 'Gt', 'Lt' operators, the value must be an integer"#.into()),
        ),
        (
            "x15".into(),
            Operator::LessThan,
            vec!["bar"],
            Some(r#"values[0]: Invalid value: "bar": for 'Gt', 'Lt' operators, the value must be an integer"#.into()),
        ),
        (
            "a".repeat(254),
            Operator::Exists,
            vec![],
            Some(format!(
                "key: Invalid value: \"{}\": name part must be no more than 63 characters",
                "a".repeat(254)
            )),
        ),
        (
            "x16".into(),
            Operator::Equals,
            vec!["a".repeat(254).leak()],
            Some(format!(
                "values[0][x16]: Invalid value: \"{}\": must be no more than 63 characters",
                "a".repeat(254)
            )),
        ),
        (
            "x17".into(),
            Operator::Equals,
            vec!["a b"],
            Some(format!(
                "values[0][x17]: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character {label_value_re}"
            )),
        ),
    ];
    for (key, op, vals, want) in cases {
        let got = Requirement::new(&key, op, vals.iter().map(|v| v.to_string()).collect());
        assert_eq!(got.err().map(|e| e.0), want, "{key}");
    }
}

/// Upstream: TestToString.
#[test]
fn to_string() {
    use Operator::*;
    let cases = [
        (
            vec![
                req("x", In, &["abc", "def"]),
                req("y", NotIn, &["jkl"]),
                req("z", Exists, &[]),
            ],
            "x in (abc,def),y notin (jkl),z",
        ),
        (
            vec![
                req("x", NotIn, &["abc", "def"]),
                req("y", NotEquals, &["jkl"]),
                req("z", DoesNotExist, &[]),
            ],
            "x notin (abc,def),y!=jkl,!z",
        ),
        (
            vec![
                req("x", NotIn, &["abc"]),
                req("y", In, &["jkl", "mno"]),
                req("z", NotIn, &[""]),
            ],
            "x notin (abc),y in (jkl,mno),z notin ()",
        ),
        (
            vec![
                req("x", Equals, &["abc"]),
                req("y", DoubleEquals, &["jkl"]),
                req("z", NotEquals, &["a"]),
                req("z", Exists, &[]),
            ],
            "x=abc,y==jkl,z!=a,z",
        ),
        (
            vec![
                req("x", GreaterThan, &["2"]),
                req("y", LessThan, &["8"]),
                req("z", Exists, &[]),
            ],
            "x>2,y<8,z",
        ),
    ];
    for (reqs, want) in cases {
        assert_eq!(selector(reqs).to_string(), want);
    }
}

/// Upstream: TestRequirementSelectorMatching.
#[test]
fn requirement_selector_matching() {
    use Operator::*;
    let cases = [
        (
            set(&[("x", "foo"), ("y", "baz")]),
            vec![req("x", In, &["foo"]), req("y", NotIn, &["alpha"])],
            true,
        ),
        (
            set(&[("x", "foo"), ("y", "baz")]),
            vec![req("x", In, &["foo"]), req("y", In, &["alpha"])],
            false,
        ),
        (
            set(&[("y", "")]),
            vec![req("x", NotIn, &[""]), req("y", Exists, &[])],
            true,
        ),
        (
            set(&[("y", "")]),
            vec![req("x", DoesNotExist, &[]), req("y", Exists, &[])],
            true,
        ),
        (
            set(&[("y", "")]),
            vec![req("x", NotIn, &[""]), req("y", DoesNotExist, &[])],
            false,
        ),
        (set(&[("y", "baz")]), vec![req("x", In, &[""])], false),
        (
            set(&[("z", "2")]),
            vec![req("z", GreaterThan, &["1"])],
            true,
        ),
        (
            set(&[("z", "v2")]),
            vec![req("z", GreaterThan, &["1"])],
            false,
        ),
    ];
    for (labels, reqs, want) in cases {
        let sel = selector(reqs);
        assert_eq!(sel.matches(&labels), want, "{sel} vs {labels:?}");
    }
}

/// Upstream: TestSetSelectorParser.
#[test]
fn set_selector_parser() {
    use Operator::*;
    let good: Vec<(&str, Vec<Requirement>)> = vec![
        ("", vec![]),
        ("\rx", vec![req("x", Exists, &[])]),
        (
            "this-is-a-dns.domain.com/key-with-dash",
            vec![req("this-is-a-dns.domain.com/key-with-dash", Exists, &[])],
        ),
        (
            "this-is-another-dns.domain.com/key-with-dash in (so,what)",
            vec![req(
                "this-is-another-dns.domain.com/key-with-dash",
                In,
                &["so", "what"],
            )],
        ),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            vec![req(
                "0.1.2.domain/99",
                NotIn,
                &["10.10.100.1", "tick.tack.clock"],
            )],
        ),
        ("foo  in\t (abc)", vec![req("foo", In, &["abc"])]),
        ("x notin\n (abc)", vec![req("x", NotIn, &["abc"])]),
        (
            "x  notin\t\t\t(abc,def)",
            vec![req("x", NotIn, &["abc", "def"])],
        ),
        ("x in (abc,def)", vec![req("x", In, &["abc", "def"])]),
        ("x in (abc,)", vec![req("x", In, &["abc", ""])]),
        ("x in ()", vec![req("x", In, &[""])]),
        (
            "x notin (abc,,def),bar,z in (),w",
            vec![
                req("bar", Exists, &[]),
                req("w", Exists, &[]),
                req("x", NotIn, &["abc", "", "def"]),
                req("z", In, &[""]),
            ],
        ),
        ("x=a", vec![req("x", Equals, &["a"])]),
        ("x>1", vec![req("x", GreaterThan, &["1"])]),
        ("x<7", vec![req("x", LessThan, &["7"])]),
        (
            "x=a,y!=b",
            vec![req("x", Equals, &["a"]), req("y", NotEquals, &["b"])],
        ),
        (
            "x=a,y!=b,z in (h,i,j)",
            vec![
                req("x", Equals, &["a"]),
                req("y", NotEquals, &["b"]),
                req("z", In, &["h", "i", "j"]),
            ],
        ),
        ("x notin ( )", vec![req("x", NotIn, &[""])]),
        ("x notin (, a)", vec![req("x", NotIn, &["", "a"])]),
        ("a ", vec![req("a", Exists, &[])]),
        (
            "a in (x,y,notin, z,in)",
            vec![req("a", In, &["in", "notin", "x", "y", "z"])],
        ),
    ];
    for (input, want) in good {
        assert_eq!(parse(input), selector(want), "{input:?}");
    }
    // Valid but not equal to the listed output in Go either ("x,y in (a)").
    assert_eq!(parse("x,y in (a)").to_string(), "x,y in (a)");
    for bad in [
        "x=a||y=b",
        "x,,y",
        ",x,y",
        "x nott in (y)",
        "a in (xyz),",
        "a in (xyz)b notin ()",
        "a in (xyz abc)",
        "a notin(",
        "a (",
        "(",
    ] {
        assert!(Selector::parse(bad).is_err(), "{bad}");
    }
}

/// Upstream: TestRequiresExactMatch.
#[test]
fn requires_exact_match() {
    use Operator::*;
    let raw = |k: &str, op, vals: &[&str]| {
        Requirement::new(k, op, vals.iter().map(|v| v.to_string()).collect())
    };
    let cases: Vec<(Vec<Requirement>, &str, Option<&str>)> = vec![
        (
            vec![raw("key", In, &["value"]).unwrap_or_else(|e| panic!("{e}"))],
            "key",
            Some("value"),
        ),
        (
            vec![raw("key", In, &["value", "value2"]).unwrap_or_else(|e| panic!("{e}"))],
            "key",
            None,
        ),
        (
            vec![
                raw("key", In, &["value", "value1"]).unwrap_or_else(|e| panic!("{e}")),
                raw("key2", In, &["value2"]).unwrap_or_else(|e| panic!("{e}")),
            ],
            "key2",
            Some("value2"),
        ),
        (
            vec![raw("key", Equals, &["value"]).unwrap_or_else(|e| panic!("{e}"))],
            "key",
            Some("value"),
        ),
        (
            vec![raw("key", DoubleEquals, &["value"]).unwrap_or_else(|e| panic!("{e}"))],
            "key",
            Some("value"),
        ),
        (
            vec![raw("key", NotEquals, &["value"]).unwrap_or_else(|e| panic!("{e}"))],
            "key",
            None,
        ),
        (
            vec![
                raw("key", In, &["value"]).unwrap_or_else(|e| panic!("{e}")),
                raw("key2", In, &["value2"]).unwrap_or_else(|e| panic!("{e}")),
            ],
            "key",
            Some("value"),
        ),
    ];
    for (reqs, label, want) in cases {
        let sel = selector(reqs);
        assert_eq!(sel.requires_exact_match(label), want, "{sel} {label}");
    }
}

/// Upstream: TestValidatedSelectorFromSet and TestSetSelectorString.
#[test]
fn validated_selector_from_set() {
    let ok =
        Selector::from_set_validated(&set(&[("key", "val")])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.to_string(), "key=val");
    let long = "axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui";
    let err = Selector::from_set_validated(&set(&[("Key", long)]))
        .err()
        .map(|e| e.0);
    assert_eq!(
        err,
        Some(format!(
            "values[0][Key]: Invalid value: \"{long}\": must be no more than 63 characters"
        ))
    );
    for (s, want) in [
        (set(&[]), ""),
        (set(&[("app", "foo")]), "app=foo"),
        (set(&[("app", "foo"), ("a", "b")]), "a=b,app=foo"),
    ] {
        assert_eq!(Selector::from_set(&s).to_string(), want);
    }
}

fn label_selector(json: serde_json::Value) -> LabelSelector {
    serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
}

/// Upstream: helpers_test.go TestLabelSelectorAsSelector (plus Go's error messages).
#[test]
fn label_selector_as_selector() {
    use serde_json::json;
    assert!(
        Selector::from_label_selector(None)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_nothing()
    );
    let empty = Selector::from_label_selector(Some(&label_selector(json!({}))))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(empty.is_empty());
    let exprs = json!([{"key": "baz", "operator": "In", "values": ["qux", "norf"]}]);
    let cases = [
        (json!({"matchLabels": {"foo": "bar"}}), "foo=bar"),
        (json!({"matchExpressions": exprs}), "baz in (norf,qux)"),
        (
            json!({"matchLabels": {"foo": "bar"}, "matchExpressions": exprs}),
            "baz in (norf,qux),foo=bar",
        ),
    ];
    for (input, want) in cases {
        let sel = Selector::from_label_selector(Some(&label_selector(input.clone())))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sel.to_string(), want, "{input}");
        assert_eq!(sel.to_string(), parse(want).to_string());
    }
    let errors = [
        (
            json!({"matchExpressions": [{"key": "baz", "operator": "Exists", "values": ["qux", "norf"]}]}),
            r#"values: Invalid value: ["qux","norf"]: values set must be empty for exists and does not exist"#,
        ),
        (
            json!({"matchExpressions": [{"key": "baz", "operator": "In"}]}),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            json!({"matchExpressions": [{"key": "baz", "operator": "Gt", "values": ["1"]}]}),
            r#""Gt" is not a valid label selector operator"#,
        ),
    ];
    for (input, want) in errors {
        let got = Selector::from_label_selector(Some(&label_selector(input.clone())));
        assert_eq!(got.err().map(|e| e.0), Some(want.to_string()), "{input}");
    }
}

/// Requirement accessors used by the scheduler.
#[test]
fn requirement_accessors() {
    let sel = parse("b in (y,x),a");
    let reqs = sel.requirements();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].key(), reqs[0].operator(), reqs[0].values()),
        ("a", Operator::Exists, &[][..])
    );
    assert_eq!(reqs[1].values(), &["x".to_string(), "y".to_string()][..]);
    assert_eq!(Operator::GreaterThan.as_str(), "gt");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Parsing arbitrary strings never panics.
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = Selector::parse(&s).map(|sel| sel.to_string());
    }

    /// Selector-shaped strings: whatever parses re-parses from its canonical string to an
    /// equal selector.
    #[test]
    fn display_round_trips(s in "(!?[a-c]{1,2}( ?(=|==|!=| in | notin |>|<) ?(\\(([a-c1-3]{0,2},?){0,3}\\)|[a-c1-3]{0,2}))?,?){0,4}") {
        if let Ok(sel) = Selector::parse(&s) {
            let printed = sel.to_string();
            let again = Selector::parse(&printed);
            prop_assert_eq!(again.as_ref().ok(), Some(&sel), "{} -> {}", s, printed);
        }
    }
}
