//! The scenario file: defaults, every validation error naming its field path, and a property
//! test that no input makes the parser panic.

use std::time::Duration;

use kubetwin_scenario::Scenario;
use kubetwin_scenario::spec::{Action, Check, ScenarioError};
use proptest::prelude::*;

const HEADER: &str = "apiVersion: kubetwin.io/v1alpha1\nkind: Scenario\nmetadata: {name: t}\n";

fn parse(body: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_yaml(&format!("{HEADER}{body}"))
}

#[test]
fn defaults() {
    let s = parse("").expect("a minimal scenario is valid");
    assert_eq!(s.seed, 1);
    assert_eq!(s.epoch.to_string(), "2025-01-01T00:00:00Z");
    assert_eq!(s.sample_interval, Duration::from_secs(60));
    assert_eq!(s.duration, Duration::from_secs(15 * 60));
    assert_eq!(s.cluster.name(), "hybrid-small");
    assert!(s.timeline.is_empty() && s.expectations.is_empty());
}

#[test]
fn timeline_is_sorted_by_time_then_file_order_and_named() {
    let s = parse(
        "timeline:\n  - {at: 10m, action: recover, zone: us-east-1a}\n  - {at: 5m, action: fail, zone: us-east-1a, name: down}\n  - {at: 10m, action: uncordon, pool: aws-spot}\n",
    )
    .expect("valid");
    let names: Vec<&str> = s.timeline.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["down", "recover-0", "uncordon-2"]);
    assert_eq!(
        s.duration,
        Duration::from_secs(25 * 60),
        "last action + 15m"
    );
}

#[test]
fn spot_interruption_defaults_to_spot_nodes_and_two_minutes() {
    let s = parse("timeline:\n  - {at: 1m, action: spotInterruption}\n").expect("valid");
    match &s.timeline[0].action {
        Action::SpotInterruption {
            target,
            notice,
            count,
            ..
        } => {
            assert_eq!(target.describe(), "capacityType=spot");
            assert_eq!(*notice, Duration::from_secs(120));
            assert_eq!(*count, None);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn added_pools_are_known_to_later_actions_and_expectations() {
    let s = parse(
        "timeline:\n  - at: 1m\n    action: addNodePool\n    pool: {name: extra, provider: aws, count: 2, instanceType: {name: m5.large, cpu: 2, memory: 8Gi, hourlyPrice: 0.096}}\n  - {at: 2m, action: cordon, pool: extra}\n  - {at: 3m, action: removeNodePool, pool: extra}\nexpectations:\n  - {type: podsOnNodes, pool: extra, max: 0}\n",
    )
    .expect("valid");
    match &s.timeline[0].action {
        Action::AddNodePool { cluster, pool } => {
            assert_eq!(pool, "extra");
            assert_eq!(cluster.nodes().len(), 19);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(s.expectations[0].check, Check::PodsOnNodes { .. }));
}

/// `(case, body, path, message fragment)`: each invalid document names the offending field.
const INVALID: &[(&str, &str, &str, &str)] = &[
    (
        "unknown top-level field",
        "seeds: 3\n",
        "seeds",
        "unknown field",
    ),
    ("seed type", "seed: -1\n", "seed", "non-negative integer"),
    ("bad epoch", "epoch: yesterday\n", "epoch", "RFC 3339"),
    (
        "bad duration",
        "duration: 5 minutes\n",
        "duration",
        "unknown unit",
    ),
    (
        "sample interval too small",
        "sampleInterval: 10ms\n",
        "sampleInterval",
        "at least 1s",
    ),
    (
        "duration too long",
        "duration: 1000h\n",
        "duration",
        "at most 744h",
    ),
    (
        "unknown builtin",
        "cluster: builtin:nope\n",
        "cluster",
        "unknown built-in",
    ),
    ("cluster type", "cluster: 3\n", "cluster", "must be a path"),
    (
        "inline cluster error",
        "cluster: {apiVersion: kubetwin.io/v1alpha1, kind: Cluster, metadata: {name: c}, providers: [], pools: [], extra: 1}\n",
        "cluster",
        "unknown field",
    ),
    (
        "manifest without kind",
        "manifests:\n  - {apiVersion: v1, metadata: {name: x}}\n",
        "manifests[0]",
        "needs apiVersion and kind",
    ),
    (
        "manifest kind not served",
        "manifests:\n  - {apiVersion: v1, kind: Gizmo, metadata: {name: x}}\n",
        "manifests[0].kind",
        "not served",
    ),
    (
        "manifest without name",
        "manifests:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {}}\n",
        "manifests[0].metadata.name",
        "required",
    ),
    (
        "manifest file without file access",
        "manifests: [more.yaml]\n",
        "manifests[0]",
        "no file access",
    ),
    (
        "action without at",
        "timeline:\n  - {action: fail, zone: us-east-1a}\n",
        "timeline[0].at",
        "required",
    ),
    (
        "unknown action",
        "timeline:\n  - {at: 1m, action: explode}\n",
        "timeline[0].action",
        "unknown action",
    ),
    (
        "unknown action field",
        "timeline:\n  - {at: 1m, action: fail, zone: us-east-1a, zome: x}\n",
        "timeline[0].zome",
        "unknown field",
    ),
    (
        "fail without target",
        "timeline:\n  - {at: 1m, action: fail}\n",
        "timeline[0]",
        "needs a node target",
    ),
    (
        "unknown zone",
        "timeline:\n  - {at: 1m, action: fail, zone: mars-1a}\n",
        "timeline[0].zone",
        "no node has zone",
    ),
    (
        "unknown host",
        "timeline:\n  - {at: 1m, action: drain, host: pve9}\n",
        "timeline[0].host",
        "no node has host",
    ),
    (
        "bad capacity type",
        "timeline:\n  - {at: 1m, action: cordon, pool: aws-spot, capacityType: cheap}\n",
        "timeline[0].capacityType",
        "spot or on-demand",
    ),
    (
        "bad label selector",
        "timeline:\n  - {at: 1m, action: cordon, labelSelector: 'a in (b'}\n",
        "timeline[0].labelSelector",
        "",
    ),
    (
        "spot fraction range",
        "timeline:\n  - {at: 1m, action: spotInterruption, fraction: 1.5}\n",
        "timeline[0].fraction",
        "between 0 and 1",
    ),
    (
        "spot count and fraction",
        "timeline:\n  - {at: 1m, action: spotInterruption, fraction: 0.5, count: 1}\n",
        "timeline[0]",
        "not both",
    ),
    (
        "spot without spot nodes",
        "timeline:\n  - {at: 1m, action: spotInterruption, pool: aws-general}\n",
        "timeline[0]",
        "no node matches",
    ),
    (
        "scale without replicas",
        "timeline:\n  - {at: 1m, action: scale, object: deployment/web}\n",
        "timeline[0].replicas",
        "required",
    ),
    (
        "scale of a kind without scale",
        "timeline:\n  - {at: 1m, action: scale, object: {apiVersion: v1, kind: ConfigMap, name: c}, replicas: 2}\n",
        "timeline[0].object",
        "no scale subresource",
    ),
    (
        "object ref shape",
        "timeline:\n  - {at: 1m, action: delete, object: web}\n",
        "timeline[0].object",
        "KIND/NAME",
    ),
    (
        "object ref kind",
        "timeline:\n  - {at: 1m, action: delete, object: {kind: Gizmo, name: g}}\n",
        "timeline[0].object",
        "apiVersion is required",
    ),
    (
        "patch type",
        "timeline:\n  - {at: 1m, action: patch, object: deployment/web, type: yaml, patch: {}}\n",
        "timeline[0].type",
        "strategic, merge or json",
    ),
    (
        "json patch must be a list",
        "timeline:\n  - {at: 1m, action: patch, object: deployment/web, type: json, patch: {a: 1}}\n",
        "timeline[0].patch",
        "JSON",
    ),
    (
        "remove unknown pool",
        "timeline:\n  - {at: 1m, action: removeNodePool, pool: nope}\n",
        "timeline[0].pool",
        "no node pool",
    ),
    (
        "add invalid pool",
        "timeline:\n  - {at: 1m, action: addNodePool, pool: {name: p, provider: nowhere, count: 1, instanceType: {name: t, cpu: 1, memory: 1Gi}}}\n",
        "timeline[0].pool",
        "",
    ),
    (
        "duplicate action names",
        "timeline:\n  - {at: 1m, action: cordon, pool: aws-spot, name: x}\n  - {at: 2m, action: uncordon, pool: aws-spot, name: x}\n",
        "timeline[1].name",
        "duplicate",
    ),
    (
        "duration before last action",
        "duration: 1m\ntimeline:\n  - {at: 5m, action: cordon, pool: aws-spot}\n",
        "duration",
        "before the last action",
    ),
    (
        "unknown expectation",
        "expectations:\n  - {type: vibes}\n",
        "expectations[0].type",
        "unknown expectation",
    ),
    (
        "workload kind",
        "expectations:\n  - {type: podsReady, workload: pod/x, within: 1m}\n",
        "expectations[0].workload",
        "not one of",
    ),
    (
        "podsReady needs within",
        "expectations:\n  - {type: podsReady, workload: deployment/web}\n",
        "expectations[0].within",
        "required",
    ),
    (
        "minReady needs min",
        "expectations:\n  - {type: minReady, workload: deployment/web}\n",
        "expectations[0].min",
        "required",
    ),
    (
        "window order",
        "expectations:\n  - {type: maxPending, max: 0, from: 5m, until: 1m}\n",
        "expectations[0].until",
        "before from",
    ),
    (
        "bounds needed",
        "expectations:\n  - {type: evictions}\n",
        "expectations[0]",
        "needs min or max",
    ),
    (
        "min above max",
        "expectations:\n  - {type: evictions, min: 3, max: 1}\n",
        "expectations[0].min",
        "greater than max",
    ),
    (
        "recovery of unknown action",
        "expectations:\n  - {type: recoversWithin, action: nope, within: 1m}\n",
        "expectations[0].action",
        "no action is named",
    ),
    (
        "nodesReady needs at",
        "expectations:\n  - {type: nodesReady, min: 1}\n",
        "expectations[0].at",
        "required",
    ),
];

#[test]
fn invalid_documents_name_the_field() {
    for (case, body, path, fragment) in INVALID {
        let errors = match parse(body) {
            Ok(_) => panic!("{case}: accepted"),
            Err(e) => e.field_errors(),
        };
        assert!(
            errors
                .iter()
                .any(|e| e.path.starts_with(path) && e.message.contains(fragment)),
            "{case}: expected an error at {path} containing {fragment:?}, got {errors:?}"
        );
    }
}

#[test]
fn header_and_syntax_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "kind: Scenario\nmetadata: {name: t}\n",
            "apiVersion",
            "required",
        ),
        (
            "apiVersion: v1\nkind: Scenario\nmetadata: {name: t}\n",
            "apiVersion",
            "must be",
        ),
        (
            "apiVersion: kubetwin.io/v1alpha1\nkind: Cluster\nmetadata: {name: t}\n",
            "kind",
            "must be",
        ),
        (
            "apiVersion: kubetwin.io/v1alpha1\nkind: Scenario\n",
            "metadata.name",
            "required",
        ),
        ("- a\n- b\n", ".", "mapping"),
    ];
    for (text, path, fragment) in cases {
        let errors = Scenario::from_yaml(text).expect_err(text).field_errors();
        assert!(
            errors
                .iter()
                .any(|e| e.path == *path && e.message.contains(fragment)),
            "{text:?}: {errors:?}"
        );
    }
    assert!(matches!(
        Scenario::from_yaml("a: [1,"),
        Err(ScenarioError::Syntax { .. })
    ));
}

fn yaml_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("1".to_string()),
        Just("-3".to_string()),
        Just("5m".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("us-east-1a".to_string()),
        Just("deployment/web".to_string()),
        "[a-z0-9./-]{0,8}".prop_map(|s| format!("'{s}'")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let keys = prop_oneof![
            Just("at"),
            Just("action"),
            Just("zone"),
            Just("pool"),
            Just("type"),
            Just("workload"),
            Just("min"),
            Just("max"),
            Just("within"),
            Just("count"),
            Just("fraction"),
            Just("name"),
            Just("replicas"),
            Just("object"),
            Just("manifests"),
            Just("kind"),
            Just("apiVersion"),
            Just("metadata"),
            Just("patch"),
            Just("host"),
            Just("from"),
            Just("until"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((keys, inner), 0..4).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", body.join(", "))
            }),
        ]
    })
}

fn action_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("apply"),
        Just("delete"),
        Just("patch"),
        Just("scale"),
        Just("cordon"),
        Just("uncordon"),
        Just("drain"),
        Just("fail"),
        Just("recover"),
        Just("apiLoadBalancerOutage"),
        Just("apiLoadBalancerRecover"),
        Just("spotInterruption"),
        Just("addNodePool"),
        Just("removeNodePool"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Scenario::from_yaml(&text);
    }

    #[test]
    fn arbitrary_structures_never_panic(
        top in yaml_value(),
        action in action_name(),
        fields in prop::collection::vec(yaml_value(), 0..3),
        expectation in yaml_value(),
    ) {
        let extra: Vec<String> = fields.iter().enumerate().map(|(i, v)| {
            let key = ["zone", "pool", "object", "manifests", "pool", "count"][i % 6];
            format!("{key}: {v}")
        }).collect();
        let text = format!(
            "{HEADER}seed: 1\ntimeline:\n  - {{at: 1m, action: {action}, {}}}\n  - {top}\nexpectations:\n  - {expectation}\n",
            extra.join(", ")
        );
        let _ = Scenario::from_yaml(&text);
    }
}
