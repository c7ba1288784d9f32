//! Further printers, transcribed from `pkg/printers/internalversion/printers_test.go` (Kubernetes
//! 1.34): TestPrintCertificateSigningRequest, TestPrintComponentStatus, TestPrintFlowSchema,
//! TestPrintPriorityLevelConfiguration, TestPrintVolumeAttributesClass, TestPrintServiceCIDR,
//! TestPrintServiceCIDRList, TestPrintIPAddress, TestPrintIPAddressList; webhook configurations
//! and CSIStorageCapacity are checked against the Go printer code.

mod common;

use common::*;
use serde_json::{Value, json};

#[test]
fn test_print_certificate_signing_request() {
    let csr = |name: &str, spec: Value, status: Value| json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9)}, "spec": spec, "status": status});
    let approved = json!({"conditions": [{"type": "Approved"}]});
    run(
        "TestPrintCertificateSigningRequest",
        "certificates.k8s.io",
        "certificatesigningrequests",
        vec![
            Case {
                name: "no spec or status: Pending",
                wide: false,
                obj: csr("csr1", json!({}), json!({})),
                want: json!(["csr1", "0s", "<none>", "", "<none>", "Pending"]),
            },
            Case {
                name: "approved",
                wide: false,
                obj: csr(
                    "csr2",
                    json!({"username": "CSR Requestor"}),
                    approved.clone(),
                ),
                want: json!([
                    "csr2",
                    "0s",
                    "<none>",
                    "CSR Requestor",
                    "<none>",
                    "Approved"
                ]),
            },
            Case {
                name: "signer name",
                wide: false,
                obj: csr(
                    "csr2",
                    json!({"username": "CSR Requestor", "signerName": "example.com/test-signer"}),
                    approved.clone(),
                ),
                want: json!([
                    "csr2",
                    "0s",
                    "example.com/test-signer",
                    "CSR Requestor",
                    "<none>",
                    "Approved"
                ]),
            },
            Case {
                name: "signer name and expiration seconds",
                wide: false,
                obj: csr(
                    "csr2",
                    json!({"username": "CSR Requestor", "signerName": "example.com/test-signer",
                "expirationSeconds": (7 * 24 + 1) * 3600}),
                    approved.clone(),
                ),
                want: json!([
                    "csr2",
                    "0s",
                    "example.com/test-signer",
                    "CSR Requestor",
                    "7d1h",
                    "Approved"
                ]),
            },
            Case {
                name: "approved and issued",
                wide: false,
                obj: csr(
                    "csr2",
                    json!({"username": "CSR Requestor"}),
                    json!({"conditions": [{"type": "Approved"}], "certificate": "Y2VydCBkYXRh"}),
                ),
                want: json!([
                    "csr2",
                    "0s",
                    "<none>",
                    "CSR Requestor",
                    "<none>",
                    "Approved,Issued"
                ]),
            },
            Case {
                name: "denied",
                wide: false,
                obj: csr(
                    "csr3",
                    json!({"username": "CSR Requestor"}),
                    json!({"conditions": [{"type": "Denied"}]}),
                ),
                want: json!(["csr3", "0s", "<none>", "CSR Requestor", "<none>", "Denied"]),
            },
        ],
    );
}

#[test]
fn test_print_component_status() {
    let cs = |name: &str, conditions: Value| json!({"metadata": {"name": name}, "conditions": conditions});
    run(
        "TestPrintComponentStatus",
        "",
        "componentstatuses",
        vec![
            Case {
                name: "no conditions",
                wide: false,
                obj: cs("cs1", json!([])),
                want: json!(["cs1", "Unknown", "", ""]),
            },
            Case {
                name: "healthy",
                wide: false,
                obj: cs(
                    "cs2",
                    json!([{"type": "Healthy", "status": "True", "message": "test message", "error": "test error"}]),
                ),
                want: json!(["cs2", "Healthy", "test message", "test error"]),
            },
            Case {
                name: "unhealthy",
                wide: false,
                obj: cs(
                    "cs3",
                    json!([{"type": "Healthy", "status": "False", "message": "test message", "error": "test error"}]),
                ),
                want: json!(["cs3", "Unhealthy", "test message", "test error"]),
            },
        ],
    );
}

#[test]
fn test_print_flow_schema() {
    let fs = |name: &str, created: String, precedence: i64, method: Option<&str>, status: Value| {
        let mut spec = json!({"priorityLevelConfiguration": {"name": "allee"}, "matchingPrecedence": precedence,
            "rules": [{"subjects": [{"kind": "Group", "group": {"name": "system:authenticated"}}]}]});
        if let Some(method) = method {
            spec["distinguisherMethod"] = json!({"type": method});
        }
        json!({"metadata": {"name": name, "creationTimestamp": created}, "spec": spec, "status": status})
    };
    run(
        "TestPrintFlowSchema",
        "flowcontrol.apiserver.k8s.io",
        "flowschemas",
        vec![
            Case {
                name: "all-matcher",
                wide: false,
                obj: fs(
                    "all-matcher",
                    at_offset(1.9),
                    i64::from(i32::MAX),
                    Some("ByUser"),
                    json!({}),
                ),
                want: json!(["all-matcher", "allee", i32::MAX, "ByUser", "0s", "?"]),
            },
            Case {
                name: "dangling",
                wide: false,
                obj: fs(
                    "some-matcher",
                    ago(300.0),
                    0,
                    Some("ByNamespace"),
                    json!({"conditions": [{"type": "Dangling", "status": "True", "lastTransitionTime": ago(HOUR)}]}),
                ),
                want: json!(["some-matcher", "allee", 0, "ByNamespace", "5m", "True"]),
            },
            Case {
                name: "exempt, no distinguisher",
                wide: false,
                obj: fs("exempt", ago(300.0), 0, None, json!({})),
                want: json!(["exempt", "allee", 0, "<none>", "5m", "?"]),
            },
        ],
    );
}

#[test]
fn test_print_priority_level_configuration() {
    let pl = |name: &str, spec: Value| json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9)}, "spec": spec});
    run(
        "TestPrintPriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
        vec![
            Case {
                name: "exempt",
                wide: false,
                obj: pl("unlimited", json!({"type": "Exempt"})),
                want: json!([
                    "unlimited",
                    "Exempt",
                    "<none>",
                    "<none>",
                    "<none>",
                    "<none>",
                    "0s"
                ]),
            },
            Case {
                name: "limited, rejecting",
                wide: false,
                obj: pl(
                    "unqueued",
                    json!({"type": "Limited", "limited": {"nominalConcurrencyShares": 47,
                "limitResponse": {"type": "Reject"}}}),
                ),
                want: json!([
                    "unqueued", "Limited", 47, "<none>", "<none>", "<none>", "0s"
                ]),
            },
            Case {
                name: "limited, queuing",
                wide: false,
                obj: pl(
                    "queued",
                    json!({"type": "Limited", "limited": {"nominalConcurrencyShares": 42,
                "limitResponse": {"type": "Queue", "queuing": {"queues": 8, "handSize": 3, "queueLengthLimit": 4}}}}),
                ),
                want: json!(["queued", "Limited", 42, 8, 3, 4, "0s"]),
            },
        ],
    );
    run(
        "kubetwin printPriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
        vec![Case {
            name: "flowcontrol/v1 defaults",
            wide: false,
            obj: pl(
                "d",
                json!({"type": "Limited", "limited": {"limitResponse": {"type": "Queue", "queuing": {}}}}),
            ),
            want: json!(["d", "Limited", 30, 64, 8, 50, "0s"]),
        }],
    );
}

#[test]
fn test_print_volume_attributes_class_and_capacity() {
    run(
        "TestPrintVolumeAttributesClass",
        "storage.k8s.io",
        "volumeattributesclasses",
        vec![
            Case {
                name: "vac1",
                wide: false,
                obj: json!({"metadata": {"name": "vac1", "creationTimestamp": at_offset(1.9)}, "driverName": "fake"}),
                want: json!(["vac1", "fake", "0s"]),
            },
            Case {
                name: "vac2",
                wide: false,
                obj: json!({"metadata": {"name": "vac2", "creationTimestamp": ago(300.0)}, "driverName": "fake",
                "parameters": {"iops": "500", "throughput": "50MiB/s"}}),
                want: json!(["vac2", "fake", "5m"]),
            },
        ],
    );
    run(
        "printCSIStorageCapacity",
        "storage.k8s.io",
        "csistoragecapacities",
        vec![
            Case {
                name: "capacity",
                wide: false,
                obj: json!({"metadata": {"name": "c"}, "storageClassName": "fast", "capacity": "100Gi"}),
                want: json!(["c", "fast", "100Gi"]),
            },
            Case {
                name: "unset capacity",
                wide: false,
                obj: json!({"metadata": {"name": "c"}, "storageClassName": "fast"}),
                want: json!(["c", "fast", "<unset>"]),
            },
        ],
    );
}

#[test]
fn test_print_service_cidr_and_ip_address() {
    let cidr =
        |name: &str, cidrs: Value| json!({"metadata": {"name": name}, "spec": {"cidrs": cidrs}});
    run(
        "TestPrintServiceCIDR",
        "networking.k8s.io",
        "servicecidrs",
        vec![
            Case {
                name: "IPv4 only",
                wide: false,
                obj: cidr("test1", json!(["10.1.0.0/16"])),
                want: json!(["test1", "10.1.0.0/16", "<unknown>"]),
            },
            Case {
                name: "IPv6 only",
                wide: false,
                obj: cidr("test5", json!(["fd00:1:1::/64"])),
                want: json!(["test5", "fd00:1:1::/64", "<unknown>"]),
            },
            Case {
                name: "dual stack",
                wide: false,
                obj: cidr("test9", json!(["10.1.0.0/16", "fd00:1:1::/64"])),
                want: json!(["test9", "10.1.0.0/16,fd00:1:1::/64", "<unknown>"]),
            },
        ],
    );
    run(
        "TestPrintServiceCIDRList",
        "networking.k8s.io",
        "servicecidrs",
        vec![
            Case {
                name: "ccc1",
                wide: true,
                obj: cidr("ccc1", json!(["10.1.0.0/16", "fd00:1:1::/64"])),
                want: json!(["ccc1", "10.1.0.0/16,fd00:1:1::/64", "<unknown>"]),
            },
            Case {
                name: "ccc2",
                wide: true,
                obj: cidr("ccc2", json!(["10.2.0.0/16", "fd00:2:1::/64"])),
                want: json!(["ccc2", "10.2.0.0/16,fd00:2:1::/64", "<unknown>"]),
            },
        ],
    );
    let ip = |name: &str, created: Option<String>, suffix: &str| {
        let mut obj = json!({"metadata": {"name": name}, "spec": {"parentRef": {"group": format!("mygroup{suffix}"),
            "resource": format!("myresource{suffix}"), "namespace": format!("mynamespace{suffix}"), "name": format!("myname{suffix}")}}});
        if let Some(created) = created {
            obj["metadata"]["creationTimestamp"] = json!(created);
        }
        obj
    };
    run(
        "TestPrintIPAddress",
        "networking.k8s.io",
        "ipaddresses",
        vec![Case {
            name: "parent ref",
            wide: false,
            obj: ip("192.168.2.2", Some(ago(10.0 * YEAR_365)), ""),
            want: json!([
                "192.168.2.2",
                "myresource.mygroup/mynamespace/myname",
                "10y"
            ]),
        }],
    );
    run(
        "TestPrintIPAddressList",
        "networking.k8s.io",
        "ipaddresses",
        vec![
            Case {
                name: "first",
                wide: false,
                obj: ip("192.168.2.2", None, ""),
                want: json!([
                    "192.168.2.2",
                    "myresource.mygroup/mynamespace/myname",
                    "<unknown>"
                ]),
            },
            Case {
                name: "second",
                wide: false,
                obj: ip("2001:db8::2", None, "2"),
                want: json!([
                    "2001:db8::2",
                    "myresource2.mygroup2/mynamespace2/myname2",
                    "<unknown>"
                ]),
            },
        ],
    );
}

#[test]
fn webhook_configurations() {
    for resource in [
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
    ] {
        run(
            "printMutatingWebhook / printValidatingWebhook",
            "admissionregistration.k8s.io",
            resource,
            vec![Case {
                name: "two webhooks",
                wide: false,
                obj: json!({"metadata": {"name": "w", "creationTimestamp": ago(DAY)}, "webhooks": [{"name": "a"}, {"name": "b"}]}),
                want: json!(["w", 2, "24h"]),
            }],
        );
    }
}
