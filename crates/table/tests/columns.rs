//! Column definitions: every resource kubetwin serves gets columns led by `Name` (events lead with
//! `Last Seen`, as in `AddHandlers`), rows are exactly as wide as their columns, and the JSON form
//! matches `metav1.TableColumnDefinition`'s serialization.

mod common;

use common::*;
use kubetwin_table::{
    column_definitions, column_definitions_json, has_printer, row_cells, table_row,
};
use serde_json::{Value, json};

/// Every built-in resource the brief lists, as (group, resource).
const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "nodes"),
    ("", "namespaces"),
    ("", "services"),
    ("", "endpoints"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "serviceaccounts"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("", "replicationcontrollers"),
    ("", "podtemplates"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "volumeattachments"),
    ("coordination.k8s.io", "leases"),
    ("discovery.k8s.io", "endpointslices"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "networkpolicies"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("node.k8s.io", "runtimeclasses"),
];

/// Resources upstream leaves to the default convertor.
const DEFAULT_TABLE: &[(&str, &str)] = &[
    ("", "limitranges"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "clusterroles"),
];

#[test]
fn every_resource_has_columns_led_by_name() {
    for &(group, resource) in RESOURCES {
        let columns = column_definitions(group, resource);
        assert!(!columns.is_empty(), "{group}/{resource}");
        let first = columns[0];
        if resource == "events" {
            assert_eq!(
                (first.name, first.format),
                ("Last Seen", ""),
                "{group}/{resource}"
            );
            let name = columns
                .iter()
                .find(|c| c.name == "Name")
                .expect("events have a Name column");
            assert_eq!((name.format, name.priority), ("name", 1));
        } else {
            assert_eq!(
                (first.name, first.type_, first.format),
                ("Name", "string", "name"),
                "{group}/{resource}"
            );
        }
        assert_eq!(
            has_printer(group, resource),
            !DEFAULT_TABLE.contains(&(group, resource)),
            "{group}/{resource}"
        );
    }
}

#[test]
fn default_table_for_unknown_resources() {
    for (group, resource) in [
        ("example.com", "widgets"),
        ("", "limitranges"),
        ("apps", "nonsense"),
    ] {
        assert!(!has_printer(group, resource));
        let names: Vec<(&str, &str)> = column_definitions(group, resource)
            .iter()
            .map(|c| (c.name, c.type_))
            .collect();
        assert_eq!(names, vec![("Name", "string"), ("Created At", "date")]);
    }
}

/// `TestTableRowDeepCopyShouldNotPanic`: every printer prints an empty object, and (the server
/// being wide) every row has one cell per column.
#[test]
fn rows_match_column_counts_even_for_empty_objects() {
    let samples = [
        json!({}),
        json!({"metadata": {"name": "x"}}),
        json!(null),
        json!([]),
        json!("text"),
    ];
    for &(group, resource) in RESOURCES {
        for sample in &samples {
            let cells = row_cells(group, resource, sample, now()).expect("printable");
            assert_eq!(
                cells.len(),
                column_definitions(group, resource).len(),
                "{group}/{resource} {sample}"
            );
        }
    }
}

#[test]
fn pod_columns_as_upstream_serializes_them() {
    let columns = column_definitions_json("", "pods");
    let summary: Vec<Value> = columns
        .as_array()
        .expect("array")
        .iter()
        .map(|c| json!([c["name"], c["type"], c["format"], c["priority"]]))
        .collect();
    assert_eq!(
        Value::Array(summary),
        json!([
            ["Name", "string", "name", 0],
            ["Ready", "string", "", 0],
            ["Status", "string", "", 0],
            ["Restarts", "string", "", 0],
            ["Age", "string", "", 0],
            ["IP", "string", "", 1],
            ["Node", "string", "", 1],
            ["Nominated Node", "string", "", 1],
            ["Readiness Gates", "string", "", 1]
        ])
    );
    let name = &columns[0]["description"];
    assert!(
        name.as_str()
            .is_some_and(|d| d.starts_with("Name must be unique within a namespace."))
    );
    assert!(
        columns[4]["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("CreationTimestamp is a timestamp"))
    );
    // Every field is present, as metav1.TableColumnDefinition has no omitempty.
    for column in columns.as_array().expect("array") {
        let keys: Vec<&String> = column.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 5);
    }
}

/// The research sample (`samples/table-pods.json`, a 1.28-era pod table) agrees on the columns it
/// has; 1.34 adds Nominated Node and Readiness Gates.
#[test]
fn pod_columns_agree_with_research_sample() {
    let sample = [
        ("Name", "string", "name", 0),
        ("Ready", "string", "", 0),
        ("Status", "string", "", 0),
        ("Restarts", "string", "", 0),
        ("Age", "string", "", 0),
        ("IP", "string", "", 1),
        ("Node", "string", "", 1),
    ];
    let columns = column_definitions("", "pods");
    for (column, expected) in columns.iter().zip(sample) {
        assert_eq!(
            (column.name, column.type_, column.format, column.priority),
            expected
        );
    }
}

#[test]
fn wide_only_columns() {
    let wide = |group: &str, resource: &str| -> Vec<&str> {
        column_definitions(group, resource)
            .iter()
            .filter(|c| c.priority == 1)
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(
        wide("", "nodes"),
        [
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    assert_eq!(
        wide("", "events"),
        ["Subobject", "Source", "First Seen", "Count", "Name"]
    );
    assert_eq!(
        wide("apps", "deployments"),
        ["Containers", "Images", "Selector"]
    );
    assert_eq!(wide("", "persistentvolumes"), ["VolumeMode"]);
    assert!(wide("scheduling.k8s.io", "priorityclasses").is_empty());
    let job: Vec<&str> = column_definitions("batch", "jobs")
        .iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        job,
        [
            "Name",
            "Status",
            "Completions",
            "Duration",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    let runtime = column_definitions("node.k8s.io", "runtimeclasses");
    assert_eq!(
        runtime[1].description, "",
        "Handler reads ObjectMeta's doc map, which has no handler key"
    );
}

#[test]
fn table_row_carries_conditions_only_for_finished_pods() {
    let done = json!({"metadata": {"name": "p"}, "status": {"phase": "Succeeded"}});
    let row = table_row("", "pods", &done, now()).expect("printable");
    assert_eq!(row["conditions"][0]["type"], json!("Completed"));
    assert_eq!(row["cells"].as_array().map(Vec::len), Some(9));
    let running = json!({"metadata": {"name": "p"}, "status": {"phase": "Running"}});
    let row = table_row("", "pods", &running, now()).expect("printable");
    assert!(row.get("conditions").is_none());
    let row = table_row("apps", "deployments", &done, now()).expect("printable");
    assert!(row.get("conditions").is_none());
}
