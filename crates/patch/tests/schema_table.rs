//! Consistency of the patch metadata table (`src/schema/generated.rs`) and spot checks of
//! facts that matter to kubectl (upstream Go struct tags in `k8s.io/api/*/types.go`).

use kubetwin_patch::schema::generated::ALL_TYPES;
use kubetwin_patch::{FieldShape, TypeSchema, kinds, schema_for};

fn reachable() -> Vec<&'static TypeSchema> {
    let mut seen: Vec<&'static TypeSchema> = Vec::new();
    let mut stack: Vec<&'static TypeSchema> = kinds().iter().map(|k| k.schema).collect();
    while let Some(schema) = stack.pop() {
        if seen.iter().any(|s| std::ptr::eq(*s, schema)) {
            continue;
        }
        seen.push(schema);
        stack.extend(schema.fields.iter().filter_map(|f| f.ty));
    }
    seen
}

#[test]
fn every_type_is_reachable_and_listed() {
    let reachable = reachable();
    for schema in ALL_TYPES {
        assert!(
            reachable.iter().any(|s| std::ptr::eq(*s, *schema)),
            "{} is not reachable from any kind",
            schema.name
        );
    }
    for schema in &reachable {
        assert!(
            ALL_TYPES.iter().any(|s| std::ptr::eq(*s, *schema)),
            "{} is reachable but not in ALL_TYPES",
            schema.name
        );
    }
}

#[test]
fn every_merge_key_is_a_field_of_the_element_type() {
    for schema in ALL_TYPES {
        for field in schema.fields {
            let strategies: Vec<&str> = field.strategy.split(',').collect();
            for strategy in &strategies {
                assert!(
                    ["", "merge", "replace", "retainKeys"].contains(strategy),
                    "{}.{}: strategy {:?}",
                    schema.name,
                    field.name,
                    field.strategy
                );
            }
            assert!(
                field.source.contains("types.go"),
                "{}.{}: no source",
                schema.name,
                field.name
            );
            if field.merge_key.is_empty() {
                continue;
            }
            assert!(
                strategies.contains(&"merge"),
                "{}.{}: merge key without merge",
                schema.name,
                field.name
            );
            let element = field.ty.unwrap_or_else(|| {
                panic!(
                    "{}.{}: merge list without element type",
                    schema.name, field.name
                )
            });
            let key = element.field(field.merge_key).unwrap_or_else(|| {
                panic!(
                    "{}.{}: merge key {} is not a field of {}",
                    schema.name, field.name, field.merge_key, element.name
                )
            });
            assert_eq!(
                key.shape,
                FieldShape::Scalar,
                "{}.{}: merge key not a scalar",
                schema.name,
                field.name
            );
        }
    }
}

#[test]
fn field_names_are_unique_per_type() {
    for schema in ALL_TYPES {
        for (i, field) in schema.fields.iter().enumerate() {
            assert!(
                schema.fields[i + 1..].iter().all(|f| f.name != field.name),
                "{}.{} listed twice",
                schema.name,
                field.name
            );
        }
    }
}

#[test]
fn every_requested_kind_has_a_schema() {
    let wanted = [
        ("", "v1", "Namespace"),
        ("", "v1", "Node"),
        ("", "v1", "Pod"),
        ("", "v1", "Service"),
        ("", "v1", "Endpoints"),
        ("", "v1", "ConfigMap"),
        ("", "v1", "Secret"),
        ("", "v1", "Event"),
        ("events.k8s.io", "v1", "Event"),
        ("", "v1", "ServiceAccount"),
        ("", "v1", "PersistentVolume"),
        ("", "v1", "PersistentVolumeClaim"),
        ("", "v1", "ResourceQuota"),
        ("", "v1", "LimitRange"),
        ("apps", "v1", "Deployment"),
        ("apps", "v1", "ReplicaSet"),
        ("apps", "v1", "StatefulSet"),
        ("apps", "v1", "DaemonSet"),
        ("apps", "v1", "ControllerRevision"),
        ("batch", "v1", "Job"),
        ("batch", "v1", "CronJob"),
        ("policy", "v1", "PodDisruptionBudget"),
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        ("storage.k8s.io", "v1", "StorageClass"),
        ("coordination.k8s.io", "v1", "Lease"),
        ("discovery.k8s.io", "v1", "EndpointSlice"),
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        ("autoscaling", "v1", "HorizontalPodAutoscaler"),
        ("networking.k8s.io", "v1", "Ingress"),
        ("networking.k8s.io", "v1", "IngressClass"),
        ("networking.k8s.io", "v1", "NetworkPolicy"),
        ("rbac.authorization.k8s.io", "v1", "Role"),
        ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ];
    for (group, version, kind) in wanted {
        let schema = schema_for(group, version, kind)
            .unwrap_or_else(|| panic!("no schema for {group}/{version} {kind}"));
        // Every object has metadata with ownerReferences merging on uid.
        let owners = schema
            .field_at(&["metadata", "ownerReferences"])
            .expect("ownerReferences");
        assert_eq!(
            (owners.strategy, owners.merge_key),
            ("merge", "uid"),
            "{kind}"
        );
    }
    assert!(schema_for("example.com", "v1", "Widget").is_none());
}

/// (group, version, kind) of an object.
type Gvk = (&'static str, &'static str, &'static str);

/// (kind, path, strategy, merge key): a fact from the upstream struct tags.
type Fact = (Gvk, &'static [&'static str], &'static str, &'static str);

const FACTS: &[Fact] = &[
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "containers"],
        "merge",
        "name",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "containers", "ports"],
        "merge",
        "containerPort",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "containers", "env"],
        "merge",
        "name",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "containers", "volumeMounts"],
        "merge",
        "mountPath",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "containers", "volumeDevices"],
        "merge",
        "devicePath",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "containers", "args"],
        "",
        "",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "initContainers"],
        "merge",
        "name",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "volumes"],
        "merge,retainKeys",
        "name",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "imagePullSecrets"],
        "merge",
        "name",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "hostAliases"],
        "merge",
        "ip",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "topologySpreadConstraints"],
        "merge",
        "topologyKey",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "template", "spec", "tolerations"],
        "",
        "",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["spec", "strategy"],
        "retainKeys",
        "",
    ),
    (
        ("apps", "v1", "Deployment"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (("", "v1", "Node"), &["spec", "taints"], "", ""),
    (("", "v1", "Node"), &["spec", "podCIDRs"], "merge", ""),
    (
        ("", "v1", "Node"),
        &["status", "addresses"],
        "merge",
        "type",
    ),
    (
        ("", "v1", "Node"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (("", "v1", "Node"), &["metadata", "finalizers"], "merge", ""),
    (("", "v1", "Pod"), &["spec", "tolerations"], "", ""),
    (
        ("", "v1", "Pod"),
        &["spec", "ephemeralContainers"],
        "merge",
        "name",
    ),
    (
        ("", "v1", "Pod"),
        &["spec", "schedulingGates"],
        "merge",
        "name",
    ),
    (
        ("", "v1", "Pod"),
        &["spec", "resourceClaims"],
        "merge,retainKeys",
        "name",
    ),
    (
        ("", "v1", "Pod"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (("", "v1", "Pod"), &["status", "podIPs"], "merge", "ip"),
    (("", "v1", "Pod"), &["status", "hostIPs"], "merge", "ip"),
    (("", "v1", "Service"), &["spec", "ports"], "merge", "port"),
    (("", "v1", "ServiceAccount"), &["secrets"], "merge", "name"),
    (
        ("", "v1", "Namespace"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (
        ("", "v1", "PersistentVolumeClaim"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (("", "v1", "Endpoints"), &["subsets"], "", ""),
    (
        ("batch", "v1", "Job"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (
        ("batch", "v1", "CronJob"),
        &[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers",
        ],
        "merge",
        "name",
    ),
    (
        ("policy", "v1", "PodDisruptionBudget"),
        &["spec", "selector"],
        "replace",
        "",
    ),
    (
        ("policy", "v1", "PodDisruptionBudget"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        &["status", "conditions"],
        "merge",
        "type",
    ),
    (
        ("networking.k8s.io", "v1", "Ingress"),
        &["spec", "rules"],
        "",
        "",
    ),
    (
        ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
        &["rules"],
        "",
        "",
    ),
    (
        ("storage.k8s.io", "v1", "CSINode"),
        &["spec", "drivers"],
        "merge",
        "name",
    ),
];

#[test]
fn upstream_struct_tag_facts() {
    for ((group, version, kind), path, strategy, merge_key) in FACTS {
        let schema = schema_for(group, version, kind).expect("kind");
        // Types without any strategy below them are left out of the table; their fields
        // behave as "no strategy", which is what the fact must then say.
        let (actual_strategy, actual_key) = schema
            .field_at(path)
            .map_or(("", ""), |f| (f.strategy, f.merge_key));
        assert_eq!(
            (actual_strategy, actual_key),
            (*strategy, *merge_key),
            "{kind} {}",
            path.join(".")
        );
    }
}
