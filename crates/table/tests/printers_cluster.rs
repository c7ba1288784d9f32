//! Cluster-level and networking rows, transcribed from `pkg/printers/internalversion/printers_test.go`
//! (Kubernetes 1.34): TestPrintIngress, TestPrintIngressClass, TestPrintNetworkPolicy,
//! TestPrintRoleBinding, TestPrintClusterRoleBinding, TestPrintStorageClass, TestPrintLease,
//! TestPrintPriorityClass, TestPrintRuntimeClass; plus cases for printers upstream tests only for
//! not panicking (TestTableRowDeepCopyShouldNotPanic): VolumeAttachment, CSINode, CSIDriver; and
//! the default table (`apiserver/pkg/registry/rest/table.go`).

mod common;

use common::*;
use serde_json::{Value, json};

#[test]
fn test_print_ingress() {
    let ingress = json!({"metadata": {"name": "test1", "creationTimestamp": ago(10.0 * YEAR_365)},
        "spec": {"ingressClassName": "foo", "defaultBackend": {"service": {"name": "default-backend",
            "port": {"name": "default-backend", "number": 80}}}},
        "status": {"loadBalancer": {"ingress": [{"ip": "2.3.4.5", "hostname": "localhost.localdomain"}]}}});
    run(
        "TestPrintIngress",
        "networking.k8s.io",
        "ingresses",
        vec![Case {
            name: "default backend",
            obj: ingress,
            wide: false,
            want: json!(["test1", "foo", "*", "2.3.4.5", "80", "10y"]),
        }],
    );
    let rules = |hosts: &[&str]| Value::Array(hosts.iter().map(|h| json!({"host": h})).collect());
    run(
        "kubetwin printIngress",
        "networking.k8s.io",
        "ingresses",
        vec![
            Case {
                name: "hosts past three, TLS, no class",
                wide: false,
                obj: json!({"metadata": {"name": "i"}, "spec": {"rules": rules(&["a.example", "", "b.example", "c.example", "d.example"]),
                "tls": [{"hosts": ["a.example"]}]}}),
                want: json!([
                    "i",
                    "<none>",
                    "a.example,b.example,c.example + 2 more...",
                    "",
                    "80, 443",
                    "<unknown>"
                ]),
            },
            Case {
                name: "long address list is clipped unless wide",
                wide: false,
                obj: json!({"metadata": {"name": "i"}, "status": {"loadBalancer": {"ingress": [{"ip": "10.10.10.10"}, {"ip": "10.10.10.11"}]}}}),
                want: json!(["i", "<none>", "*", "10.10.10.10,1...", "80", "<unknown>"]),
            },
            Case {
                name: "the server's wide output keeps the full address list",
                wide: true,
                obj: json!({"metadata": {"name": "i"}, "status": {"loadBalancer": {"ingress": [{"ip": "10.10.10.10"}, {"ip": "10.10.10.11"}]}}}),
                want: json!([
                    "i",
                    "<none>",
                    "*",
                    "10.10.10.10,10.10.10.11",
                    "80",
                    "<unknown>"
                ]),
            },
        ],
    );
}

#[test]
fn test_print_ingress_class() {
    let class = |name: &str, years: f64, spec: Value| json!({"metadata": {"name": name, "creationTimestamp": ago(years * YEAR_365)}, "spec": spec});
    run(
        "TestPrintIngressClass",
        "networking.k8s.io",
        "ingressclasses",
        vec![
            Case {
                name: "example with params",
                wide: false,
                obj: class(
                    "test1",
                    10.0,
                    json!({"controller": "example.com/controller", "parameters": {"kind": "customgroup", "name": "example"}}),
                ),
                want: json!([
                    "test1",
                    "example.com/controller",
                    "customgroup/example",
                    "10y"
                ]),
            },
            Case {
                name: "example with params + API Group",
                wide: false,
                obj: class(
                    "test1",
                    10.0,
                    json!({"controller": "example.com/controller",
                "parameters": {"apiGroup": "example.com", "kind": "customgroup", "name": "example"}}),
                ),
                want: json!([
                    "test1",
                    "example.com/controller",
                    "customgroup.example.com/example",
                    "10y"
                ]),
            },
            Case {
                name: "example without params",
                wide: false,
                obj: class(
                    "test2",
                    11.0,
                    json!({"controller": "example.com/controller2"}),
                ),
                want: json!(["test2", "example.com/controller2", "<none>", "11y"]),
            },
        ],
    );
}

#[test]
fn test_print_network_policy() {
    run(
        "TestPrintNetworkPolicy",
        "networking.k8s.io",
        "networkpolicies",
        vec![
            Case {
                name: "empty spec",
                wide: false,
                obj: json!({"metadata": {"name": "policy1", "creationTimestamp": at_offset(1.9)}, "spec": {}}),
                want: json!(["policy1", "<none>", "0s"]),
            },
            Case {
                name: "pod selector",
                wide: false,
                obj: json!({"metadata": {"name": "policy2", "creationTimestamp": at_offset(1.9)},
                "spec": {"podSelector": {"matchLabels": {"foo": "bar"}}}}),
                want: json!(["policy2", "foo=bar", "0s"]),
            },
        ],
    );
    run(
        "kubetwin printNetworkPolicy",
        "networking.k8s.io",
        "networkpolicies",
        vec![
            Case {
                name: "an invalid selector prints <error>",
                wide: false,
                obj: json!({"metadata": {"name": "p"}, "spec": {"podSelector": {"matchExpressions": [
                {"key": "a", "operator": "Exists", "values": ["x"]}]}}}),
                want: json!(["p", "<error>", "<unknown>"]),
            },
            Case {
                name: "invalid label key",
                wide: false,
                obj: json!({"metadata": {"name": "p"}, "spec": {"podSelector": {"matchLabels": {"bad key": "x"}}}}),
                want: json!(["p", "<error>", "<unknown>"]),
            },
            Case {
                name: "prefixed keys and empty values are valid",
                wide: false,
                obj: json!({"metadata": {"name": "p"}, "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "", "tier": "web"}}}}),
                want: json!(["p", "app.kubernetes.io/name=,tier=web", "<unknown>"]),
            },
        ],
    );
}

fn binding(name: &str, subjects: Value, role: &str) -> Value {
    json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9)}, "subjects": subjects,
        "roleRef": {"kind": "Role", "name": role}})
}

#[test]
fn test_print_role_bindings() {
    let all_kinds = json!([{"kind": "User", "name": "user-name"}, {"kind": "Group", "name": "group-name"},
        {"kind": "ServiceAccount", "name": "service-account-name", "namespace": "service-account-namespace"}]);
    for (upstream, resource) in [
        ("TestPrintRoleBinding", "rolebindings"),
        ("TestPrintClusterRoleBinding", "clusterrolebindings"),
    ] {
        run(
            upstream,
            "rbac.authorization.k8s.io",
            resource,
            vec![
                Case {
                    name: "basic",
                    wide: false,
                    obj: binding(
                        "binding1",
                        json!([{"kind": "User", "name": "system:kube-controller-manager"}]),
                        "extension-apiserver-authentication-reader",
                    ),
                    want: json!([
                        "binding1",
                        "Role/extension-apiserver-authentication-reader",
                        "0s"
                    ]),
                },
                Case {
                    name: "wide: subjects and roles",
                    wide: true,
                    obj: binding("binding2", all_kinds.clone(), "role-name"),
                    want: json!([
                        "binding2",
                        "Role/role-name",
                        "0s",
                        "user-name",
                        "group-name",
                        "service-account-namespace/service-account-name"
                    ]),
                },
            ],
        );
    }
    run(
        "kubetwin printRoleBinding",
        "rbac.authorization.k8s.io",
        "rolebindings",
        vec![Case {
            name: "several of a kind join with comma-space",
            wide: true,
            obj: binding(
                "b",
                json!([{"kind": "User", "name": "a"}, {"kind": "User", "name": "b"}, {"kind": "Other", "name": "x"}]),
                "r",
            ),
            want: json!(["b", "Role/r", "0s", "a, b", "", ""]),
        }],
    );
}

#[test]
fn test_print_storage_class() {
    let class = |name: &str, created: String, provisioner: &str, extra: Value| {
        let mut c = json!({"metadata": {"name": name, "creationTimestamp": created}, "provisioner": provisioner});
        if let (Some(map), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        c
    };
    run(
        "TestPrintStorageClass",
        "storage.k8s.io",
        "storageclasses",
        vec![
            Case {
                name: "sc1",
                wide: false,
                obj: class("sc1", at_offset(1.9), "kubernetes.io/glusterfs", json!({})),
                want: json!([
                    "sc1",
                    "kubernetes.io/glusterfs",
                    "Delete",
                    "Immediate",
                    false,
                    "0s"
                ]),
            },
            Case {
                name: "sc2",
                wide: false,
                obj: class("sc2", ago(300.0), "kubernetes.io/nfs", json!({})),
                want: json!([
                    "sc2",
                    "kubernetes.io/nfs",
                    "Delete",
                    "Immediate",
                    false,
                    "5m"
                ]),
            },
            Case {
                name: "sc3",
                wide: false,
                obj: class(
                    "sc3",
                    ago(300.0),
                    "kubernetes.io/nfs",
                    json!({"reclaimPolicy": "Delete"}),
                ),
                want: json!([
                    "sc3",
                    "kubernetes.io/nfs",
                    "Delete",
                    "Immediate",
                    false,
                    "5m"
                ]),
            },
            Case {
                name: "sc4",
                wide: false,
                obj: class(
                    "sc4",
                    ago(300.0),
                    "kubernetes.io/nfs",
                    json!({"reclaimPolicy": "Retain", "volumeBindingMode": "Immediate"}),
                ),
                want: json!([
                    "sc4",
                    "kubernetes.io/nfs",
                    "Retain",
                    "Immediate",
                    false,
                    "5m"
                ]),
            },
            Case {
                name: "sc5",
                wide: false,
                obj: class(
                    "sc5",
                    ago(300.0),
                    "kubernetes.io/nfs",
                    json!({"reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"}),
                ),
                want: json!([
                    "sc5",
                    "kubernetes.io/nfs",
                    "Retain",
                    "WaitForFirstConsumer",
                    false,
                    "5m"
                ]),
            },
            Case {
                name: "sc6",
                wide: false,
                obj: class(
                    "sc6",
                    ago(300.0),
                    "kubernetes.io/nfs",
                    json!({"reclaimPolicy": "Retain", "allowVolumeExpansion": true,
                "volumeBindingMode": "WaitForFirstConsumer"}),
                ),
                want: json!([
                    "sc6",
                    "kubernetes.io/nfs",
                    "Retain",
                    "WaitForFirstConsumer",
                    true,
                    "5m"
                ]),
            },
        ],
    );
    let mut default_ga = class("standard", ago(300.0), "rancher.io/local-path", json!({}));
    default_ga["metadata"]["annotations"] =
        json!({"storageclass.kubernetes.io/is-default-class": "true"});
    let mut default_beta = class("old", ago(300.0), "p", json!({}));
    default_beta["metadata"]["annotations"] =
        json!({"storageclass.beta.kubernetes.io/is-default-class": "true"});
    let mut not_default = class("other", ago(300.0), "p", json!({}));
    not_default["metadata"]["annotations"] =
        json!({"storageclass.kubernetes.io/is-default-class": "false"});
    run(
        "kubetwin printStorageClass",
        "storage.k8s.io",
        "storageclasses",
        vec![
            Case {
                name: "default class (GA annotation)",
                wide: false,
                obj: default_ga,
                want: json!([
                    "standard (default)",
                    "rancher.io/local-path",
                    "Delete",
                    "Immediate",
                    false,
                    "5m"
                ]),
            },
            Case {
                name: "default class (beta annotation)",
                wide: false,
                obj: default_beta,
                want: json!(["old (default)", "p", "Delete", "Immediate", false, "5m"]),
            },
            Case {
                name: "annotation false",
                wide: false,
                obj: not_default,
                want: json!(["other", "p", "Delete", "Immediate", false, "5m"]),
            },
        ],
    );
}

#[test]
fn test_print_lease_priority_runtime_class() {
    run(
        "TestPrintLease",
        "coordination.k8s.io",
        "leases",
        vec![
            Case {
                name: "lease1",
                wide: false,
                obj: json!({"metadata": {"name": "lease1", "creationTimestamp": at_offset(1.9)}, "spec": {"holderIdentity": "holder1"}}),
                want: json!(["lease1", "holder1", "0s"]),
            },
            Case {
                name: "lease2",
                wide: false,
                obj: json!({"metadata": {"name": "lease2", "creationTimestamp": ago(300.0)}, "spec": {"holderIdentity": "holder2"}}),
                want: json!(["lease2", "holder2", "5m"]),
            },
        ],
    );
    let pc = |name: &str, created: String, value: i64, global: bool, policy: Option<&str>| {
        let mut p = json!({"metadata": {"name": name, "creationTimestamp": created}, "value": value, "globalDefault": global});
        if let Some(policy) = policy {
            p["preemptionPolicy"] = json!(policy);
        }
        p
    };
    run(
        "TestPrintPriorityClass",
        "scheduling.k8s.io",
        "priorityclasses",
        vec![
            Case {
                name: "PreemptNever policy",
                wide: false,
                obj: pc("pc1", at_offset(1.9), 1, false, Some("Never")),
                want: json!(["pc1", 1, false, "0s"]),
            },
            Case {
                name: "PreemptLowerPriority policy",
                wide: false,
                obj: pc(
                    "pc2",
                    ago(300.0),
                    1_000_000_000,
                    true,
                    Some("PreemptLowerPriority"),
                ),
                want: json!(["pc2", 1_000_000_000, true, "5m"]),
            },
            Case {
                name: "PreemptLowerPriority policy and wide output",
                wide: true,
                obj: pc(
                    "pc2",
                    ago(300.0),
                    1_000_000_000,
                    true,
                    Some("PreemptLowerPriority"),
                ),
                want: json!(["pc2", 1_000_000_000, true, "5m", "PreemptLowerPriority"]),
            },
            Case {
                name: "no policy",
                wide: true,
                obj: pc("pc2", ago(300.0), 1_000_000_000, true, None),
                want: json!(["pc2", 1_000_000_000, true, "5m", ""]),
            },
        ],
    );
    run(
        "TestPrintRuntimeClass",
        "node.k8s.io",
        "runtimeclasses",
        vec![
            Case {
                name: "rc1",
                wide: false,
                obj: json!({"metadata": {"name": "rc1", "creationTimestamp": at_offset(1.9)}, "handler": "h1"}),
                want: json!(["rc1", "h1", "0s"]),
            },
            Case {
                name: "rc2",
                wide: false,
                obj: json!({"metadata": {"name": "rc2", "creationTimestamp": ago(300.0)}, "handler": "h2"}),
                want: json!(["rc2", "h2", "5m"]),
            },
        ],
    );
}

#[test]
fn storage_printers() {
    run(
        "printVolumeAttachment",
        "storage.k8s.io",
        "volumeattachments",
        vec![
            Case {
                name: "attached",
                wide: false,
                obj: json!({"metadata": {"name": "csi-123", "creationTimestamp": ago(120.0)},
                "spec": {"attacher": "ebs.csi.aws.com", "nodeName": "node-1", "source": {"persistentVolumeName": "pv-1"}},
                "status": {"attached": true}}),
                want: json!(["csi-123", "ebs.csi.aws.com", "pv-1", "node-1", true, "2m"]),
            },
            Case {
                name: "empty (TestTableRowDeepCopyShouldNotPanic)",
                wide: true,
                obj: json!({}),
                want: json!(["", "", "", "", false, "<unknown>"]),
            },
        ],
    );
    run(
        "printCSINode",
        "storage.k8s.io",
        "csinodes",
        vec![Case {
            name: "two drivers",
            wide: false,
            obj: json!({"metadata": {"name": "node-1", "creationTimestamp": ago(3600.0)},
                "spec": {"drivers": [{"name": "a", "nodeID": "n"}, {"name": "b", "nodeID": "n"}]}}),
            want: json!(["node-1", 2, "60m"]),
        }],
    );
    run(
        "printCSIDriver",
        "storage.k8s.io",
        "csidrivers",
        vec![
            Case {
                name: "defaults",
                wide: false,
                obj: json!({"metadata": {"name": "d"}, "spec": {}}),
                want: json!([
                    "d",
                    true,
                    false,
                    false,
                    "<unset>",
                    false,
                    "<none>",
                    "<unknown>"
                ]),
            },
            Case {
                name: "everything set",
                wide: false,
                obj: json!({"metadata": {"name": "d"}, "spec": {"attachRequired": false, "podInfoOnMount": true,
                "storageCapacity": true, "tokenRequests": [{"audience": "a"}, {"audience": "b", "expirationSeconds": 600}],
                "requiresRepublish": true, "volumeLifecycleModes": ["Persistent", "Ephemeral"]}}),
                want: json!([
                    "d",
                    false,
                    true,
                    true,
                    "a,b",
                    true,
                    "Persistent,Ephemeral",
                    "<unknown>"
                ]),
            },
            Case {
                name: "empty token request list",
                wide: false,
                obj: json!({"metadata": {"name": "d"}, "spec": {"tokenRequests": []}}),
                want: json!(["d", true, false, false, "", false, "<none>", "<unknown>"]),
            },
        ],
    );
}

/// `defaultTableConvertor`: Name and the creation time in RFC 3339 (UTC).
#[test]
fn default_table() {
    let role = json!({"metadata": {"name": "pod-reader", "creationTimestamp": "2024-03-05T07:08:09Z"}, "rules": []});
    assert_eq!(
        wide_cells("rbac.authorization.k8s.io", "roles", &role),
        vec![json!("pod-reader"), json!("2024-03-05T07:08:09Z")]
    );
    let micro =
        json!({"metadata": {"name": "x", "creationTimestamp": "2024-03-05T07:08:09.123456+02:00"}});
    assert_eq!(
        wide_cells("example.com", "widgets", &micro)[1],
        json!("2024-03-05T05:08:09Z")
    );
    // Go's zero time when unset.
    assert_eq!(
        wide_cells("", "limitranges", &json!({"metadata": {"name": "lr"}})),
        vec![json!("lr"), json!("0001-01-01T00:00:00Z")]
    );
}
