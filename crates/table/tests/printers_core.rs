//! Core-group rows, transcribed from `pkg/printers/internalversion/printers_test.go` (Kubernetes
//! 1.34): TestPrintEvent, TestPrintNamespace, TestPrintSecret, TestPrintServiceAccount,
//! TestPrintNodeStatus, TestPrintNodeRole, TestPrintNodeOSImage, TestPrintNodeKernelVersion,
//! TestPrintNodeContainerRuntimeVersion, TestPrintNodeName, TestPrintNodeExternalIP,
//! TestPrintNodeInternalIP, TestPrintServiceLoadBalancer, TestPrintService, TestPrintServiceList,
//! TestPrintConfigMap, TestPrintPersistentVolume, TestPrintPersistentVolumeClaim,
//! TestPrintEndpoint, TestPrintEndpointSlice, TestPrintResourceQuota.

mod common;

use common::*;
use serde_json::{Value, json};

#[test]
fn test_print_event() {
    let event = |name: &str, kind: &str, obj_name: &str, extra: Value| {
        let mut e = json!({"metadata": {"name": name},
            "involvedObject": {"kind": kind, "name": obj_name, "fieldPath": "spec.containers{foo}"},
            "reason": "Event Reason", "message": "Message Data"});
        if let (Some(map), Some(extra)) = (e.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        e
    };
    let wide_row = |last: &str, first: &str, count: i64, name: &str, source: &str| {
        json!([
            last,
            "Warning",
            "Event Reason",
            "deployment/Deployment Name",
            "spec.containers{foo}",
            source,
            "Message Data",
            first,
            count,
            name
        ])
    };
    run(
        "TestPrintEvent",
        "",
        "events",
        vec![
            Case {
                name: "basic event; no generate options",
                wide: false,
                obj: event(
                    "event1",
                    "Pod",
                    "Pod Name",
                    json!({"source": {"component": "kubelet"},
                "firstTimestamp": add_date(0, -3), "lastTimestamp": add_date(0, -2), "count": 6, "type": "Normal"}),
                ),
                want: json!([
                    "2d",
                    "Normal",
                    "Event Reason",
                    "pod/Pod Name",
                    "Message Data"
                ]),
            },
            Case {
                name: "basic event; wide",
                wide: true,
                obj: event(
                    "event2",
                    "Deployment",
                    "Deployment Name",
                    json!({"source": {"component": "kubelet", "host": "Node1"},
                "firstTimestamp": add_date(0, -3), "lastTimestamp": add_date(0, -2), "count": 6, "type": "Warning"}),
                ),
                want: wide_row("2d", "3d", 6, "event2", "kubelet, Node1"),
            },
            Case {
                name: "without FirstTimestamp",
                wide: true,
                obj: event(
                    "event3",
                    "Deployment",
                    "Deployment Name",
                    json!({"source": {"component": "kubelet", "host": "Node1"},
                "eventTime": add_date(0, -3), "lastTimestamp": add_date(0, -3), "count": 1, "type": "Warning"}),
                ),
                want: wide_row("3d", "3d", 1, "event3", "kubelet, Node1"),
            },
            Case {
                name: "without LastTimestamp",
                wide: true,
                obj: event(
                    "event4",
                    "Deployment",
                    "Deployment Name",
                    json!({"source": {"component": "kubelet", "host": "Node1"},
                "eventTime": add_date(0, -3), "firstTimestamp": add_date(0, -3), "count": 1, "type": "Warning"}),
                ),
                want: wide_row("3d", "3d", 1, "event4", "kubelet, Node1"),
            },
            Case {
                name: "without FirstTimestamp and LastTimestamp",
                wide: true,
                obj: event(
                    "event5",
                    "Deployment",
                    "Deployment Name",
                    json!({"source": {"component": "kubelet", "host": "Node1"},
                "eventTime": add_date(0, -3), "count": 1, "type": "Warning"}),
                ),
                want: wide_row("3d", "3d", 1, "event5", "kubelet, Node1"),
            },
            Case {
                name: "event series without FirstTimestamp, LastTimestamp and Count",
                wide: true,
                obj: event(
                    "event6",
                    "Deployment",
                    "Deployment Name",
                    json!({"source": {"component": "kubelet", "host": "Node1"},
                "series": {"count": 2, "lastObservedTime": add_date(0, -2)}, "eventTime": add_date(0, -3), "type": "Warning"}),
                ),
                want: wide_row("2d", "3d", 2, "event6", "kubelet, Node1"),
            },
            Case {
                name: "singleton event without FirstTimestamp, LastTimestamp and Count",
                wide: true,
                obj: event(
                    "event7",
                    "Deployment",
                    "Deployment Name",
                    json!({"source": {"component": "kubelet", "host": "Node1"},
                "eventTime": add_date(0, -3), "type": "Warning"}),
                ),
                want: wide_row("3d", "3d", 1, "event7", "kubelet, Node1"),
            },
            Case {
                name: "empty source; reporting controller and instance",
                wide: true,
                obj: event(
                    "event2",
                    "Deployment",
                    "Deployment Name",
                    json!({"reportingComponent": "kubelet",
                "reportingInstance": "test", "firstTimestamp": add_date(0, -3), "lastTimestamp": add_date(0, -2),
                "count": 6, "type": "Warning"}),
                ),
                want: wide_row("2d", "3d", 6, "event2", "kubelet, test"),
            },
        ],
    );
}

/// events.k8s.io/v1 Events print with the core printer after `Convert_v1_Event_To_core_Event`.
#[test]
fn kubetwin_events_k8s_io_event() {
    let event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"},
        "regarding": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "reason": "Pulled", "note": "  Container image pulled  ", "type": "Normal",
        "eventTime": ago(90.0), "reportingController": "kubelet", "reportingInstance": "node-1",
        "series": {"count": 4, "lastObservedTime": ago(30.0)}});
    run(
        "kubetwin events.k8s.io Event",
        "events.k8s.io",
        "events",
        vec![
            Case {
                name: "series",
                obj: event,
                wide: true,
                want: json!([
                    "30s",
                    "Normal",
                    "Pulled",
                    "pod/web-1",
                    "spec.containers{app}",
                    "kubelet, node-1",
                    "Container image pulled",
                    "90s",
                    4,
                    "e1"
                ]),
            },
            Case {
                name: "deprecated fields and no name",
                wide: true,
                obj: json!({"metadata": {"name": "e2"}, "regarding": {"kind": "Node"}, "reason": "R", "type": "Warning",
                "deprecatedSource": {"component": "c"}, "deprecatedFirstTimestamp": ago(600.0),
                "deprecatedLastTimestamp": ago(60.0), "deprecatedCount": 3}),
                want: json!(["60s", "Warning", "R", "node", "", "c", "", "10m", 3, "e2"]),
            },
        ],
    );
}

#[test]
fn test_print_namespace_secret_service_account() {
    run(
        "TestPrintNamespace",
        "",
        "namespaces",
        vec![
            Case {
                name: "status and age",
                wide: false,
                obj: json!({"metadata": {"name": "namespace1", "creationTimestamp": at_offset(1.9)}, "status": {"phase": "FooStatus"}}),
                want: json!(["namespace1", "FooStatus", "0s"]),
            },
            Case {
                name: "no status or age",
                wide: false,
                obj: json!({"metadata": {"name": "namespace2"}}),
                want: json!(["namespace2", "", "<unknown>"]),
            },
        ],
    );
    run(
        "TestPrintSecret",
        "",
        "secrets",
        vec![
            Case {
                name: "type, data and age",
                wide: false,
                obj: json!({"metadata": {"name": "secret1", "creationTimestamp": at_offset(1.9)},
                "type": "kubernetes.io/service-account-token", "data": {"token": "c2VjcmV0IGRhdGE="}}),
                want: json!(["secret1", "kubernetes.io/service-account-token", 1, "0s"]),
            },
            Case {
                name: "no data",
                wide: false,
                obj: json!({"metadata": {"name": "secret1", "creationTimestamp": at_offset(1.9)},
                "type": "kubernetes.io/service-account-token"}),
                want: json!(["secret1", "kubernetes.io/service-account-token", 0, "0s"]),
            },
        ],
    );
    run(
        "TestPrintServiceAccount",
        "",
        "serviceaccounts",
        vec![
            Case {
                name: "no secrets",
                wide: false,
                obj: json!({"metadata": {"name": "sa1", "creationTimestamp": at_offset(1.9)}, "secrets": []}),
                want: json!(["sa1", 0, "0s"]),
            },
            Case {
                name: "two secrets",
                wide: false,
                obj: json!({"metadata": {"name": "sa1", "creationTimestamp": at_offset(1.9)},
                "secrets": [{"name": "Secret1"}, {"name": "Secret2"}]}),
                want: json!(["sa1", 2, "0s"]),
            },
        ],
    );
}

fn node(name: &str, extra: Value) -> Value {
    let mut n = json!({"metadata": {"name": name}});
    if let (Some(map), Some(extra)) = (n.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    n
}

#[test]
fn test_print_node_status() {
    let ready =
        |status: &str| json!({"status": {"conditions": [{"type": "Ready", "status": status}]}});
    let unschedulable = |conditions: Value| json!({"spec": {"unschedulable": true}, "status": {"conditions": conditions}});
    let row = |name: &str, status: &str| json!([name, status, "<none>", "<unknown>", ""]);
    run(
        "TestPrintNodeStatus",
        "",
        "nodes",
        vec![
            Case {
                name: "ready",
                wide: false,
                obj: node("foo1", ready("True")),
                want: row("foo1", "Ready"),
            },
            Case {
                name: "ready, unschedulable",
                wide: false,
                obj: node(
                    "foo2",
                    unschedulable(json!([{"type": "Ready", "status": "True"}])),
                ),
                want: row("foo2", "Ready,SchedulingDisabled"),
            },
            Case {
                name: "duplicate ready conditions",
                wide: false,
                obj: node(
                    "foo3",
                    json!({"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "True"}]}}),
                ),
                want: row("foo3", "Ready"),
            },
            Case {
                name: "not ready",
                wide: false,
                obj: node("foo4", ready("False")),
                want: row("foo4", "NotReady"),
            },
            Case {
                name: "not ready, unschedulable",
                wide: false,
                obj: node(
                    "foo5",
                    unschedulable(json!([{"type": "Ready", "status": "False"}])),
                ),
                want: row("foo5", "NotReady,SchedulingDisabled"),
            },
            Case {
                name: "invalid condition type",
                wide: false,
                obj: node(
                    "foo6",
                    json!({"status": {"conditions": [{"type": "InvalidValue", "status": "True"}]}}),
                ),
                want: row("foo6", "Unknown"),
            },
            Case {
                name: "empty condition",
                wide: false,
                obj: node("foo7", json!({"status": {"conditions": [{}]}})),
                want: row("foo7", "Unknown"),
            },
            Case {
                name: "invalid condition type, unschedulable",
                wide: false,
                obj: node(
                    "foo8",
                    unschedulable(json!([{"type": "InvalidValue", "status": "True"}])),
                ),
                want: row("foo8", "Unknown,SchedulingDisabled"),
            },
            Case {
                name: "empty condition, unschedulable",
                wide: false,
                obj: node("foo9", unschedulable(json!([{}]))),
                want: row("foo9", "Unknown,SchedulingDisabled"),
            },
        ],
    );
    run(
        "kubetwin printNode",
        "",
        "nodes",
        vec![
            Case {
                name: "Unknown status (node lifecycle controller)",
                wide: false,
                obj: node("n", ready("Unknown")),
                want: row("n", "NotReady"),
            },
            Case {
                name: "the last Ready condition wins",
                wide: false,
                obj: node(
                    "n",
                    json!({"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"}]}}),
                ),
                want: row("n", "NotReady"),
            },
        ],
    );
}

#[test]
fn test_print_node_role_and_name() {
    let mut foo10 = node("foo10", json!({}));
    foo10["metadata"]["labels"] = json!({"node-role.kubernetes.io/master": "", "node-role.kubernetes.io/control-plane": "",
        "node-role.kubernetes.io/proxy": "", "kubernetes.io/role": "node"});
    let mut foo11 = node("foo11", json!({}));
    foo11["metadata"]["labels"] = json!({"kubernetes.io/role": "node"});
    run(
        "TestPrintNodeRole",
        "",
        "nodes",
        vec![
            Case {
                name: "no labels",
                wide: false,
                obj: node("foo9", json!({})),
                want: json!(["foo9", "Unknown", "<none>", "<unknown>", ""]),
            },
            Case {
                name: "role labels",
                wide: false,
                obj: foo10,
                want: json!([
                    "foo10",
                    "Unknown",
                    "control-plane,master,node,proxy",
                    "<unknown>",
                    ""
                ]),
            },
            Case {
                name: "kubernetes.io/role",
                wide: false,
                obj: foo11,
                want: json!(["foo11", "Unknown", "node", "<unknown>", ""]),
            },
        ],
    );
    run(
        "TestPrintNodeName",
        "",
        "nodes",
        vec![
            Case {
                name: "IP-like name",
                wide: false,
                obj: node("127.0.0.1", json!({"status": {}})),
                want: json!(["127.0.0.1", "Unknown", "<none>", "<unknown>", ""]),
            },
            Case {
                name: "empty name",
                wide: false,
                obj: node("", json!({"status": {}})),
                want: json!(["", "Unknown", "<none>", "<unknown>", ""]),
            },
        ],
    );
}

fn wide_node_row(
    name: &str,
    internal: &str,
    external: &str,
    os: &str,
    kernel: &str,
    runtime: &str,
) -> Value {
    json!([
        name,
        "Unknown",
        "<none>",
        "<unknown>",
        "",
        internal,
        external,
        os,
        kernel,
        runtime
    ])
}

#[test]
fn test_print_node_wide_columns() {
    let ext = json!([{"type": "ExternalIP", "address": "1.1.1.1"}]);
    let info = |info: Value| json!({"status": {"nodeInfo": info, "addresses": ext}});
    run(
        "TestPrintNodeOSImage",
        "",
        "nodes",
        vec![
            Case {
                name: "os image",
                wide: true,
                obj: node("foo1", info(json!({"osImage": "fake-os-image"}))),
                want: wide_node_row(
                    "foo1",
                    "<none>",
                    "1.1.1.1",
                    "fake-os-image",
                    "<unknown>",
                    "<unknown>",
                ),
            },
            Case {
                name: "kernel only",
                wide: true,
                obj: node(
                    "foo2",
                    info(json!({"kernelVersion": "fake-kernel-version"})),
                ),
                want: wide_node_row(
                    "foo2",
                    "<none>",
                    "1.1.1.1",
                    "<unknown>",
                    "fake-kernel-version",
                    "<unknown>",
                ),
            },
        ],
    );
    run(
        "TestPrintNodeKernelVersion",
        "",
        "nodes",
        vec![
            Case {
                name: "kernel",
                wide: true,
                obj: node(
                    "foo1",
                    info(json!({"kernelVersion": "fake-kernel-version"})),
                ),
                want: wide_node_row(
                    "foo1",
                    "<none>",
                    "1.1.1.1",
                    "<unknown>",
                    "fake-kernel-version",
                    "<unknown>",
                ),
            },
            Case {
                name: "os only",
                wide: true,
                obj: node("foo2", info(json!({"osImage": "fake-os-image"}))),
                want: wide_node_row(
                    "foo2",
                    "<none>",
                    "1.1.1.1",
                    "fake-os-image",
                    "<unknown>",
                    "<unknown>",
                ),
            },
        ],
    );
    run(
        "TestPrintNodeContainerRuntimeVersion",
        "",
        "nodes",
        vec![
            Case {
                name: "runtime",
                wide: true,
                obj: node(
                    "foo1",
                    info(json!({"containerRuntimeVersion": "foo://1.2.3"})),
                ),
                want: wide_node_row(
                    "foo1",
                    "<none>",
                    "1.1.1.1",
                    "<unknown>",
                    "<unknown>",
                    "foo://1.2.3",
                ),
            },
            Case {
                name: "empty info",
                wide: true,
                obj: node("foo2", info(json!({}))),
                want: wide_node_row(
                    "foo2",
                    "<none>",
                    "1.1.1.1",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
        ],
    );
    let addrs = |addresses: Value| json!({"status": {"addresses": addresses}});
    let three = |first: &str, second: &str| {
        json!([{"type": first, "address": "2.2.2.2"}, {"type": second, "address": "3.3.3.3"},
        {"type": first, "address": "4.4.4.4"}])
    };
    run(
        "TestPrintNodeExternalIP",
        "",
        "nodes",
        vec![
            Case {
                name: "external",
                wide: true,
                obj: node(
                    "foo1",
                    addrs(json!([{"type": "ExternalIP", "address": "1.1.1.1"}])),
                ),
                want: wide_node_row(
                    "foo1",
                    "<none>",
                    "1.1.1.1",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
            Case {
                name: "internal",
                wide: true,
                obj: node(
                    "foo2",
                    addrs(json!([{"type": "InternalIP", "address": "1.1.1.1"}])),
                ),
                want: wide_node_row(
                    "foo2",
                    "1.1.1.1",
                    "<none>",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
            Case {
                name: "first of each",
                wide: true,
                obj: node("foo3", addrs(three("ExternalIP", "InternalIP"))),
                want: wide_node_row(
                    "foo3",
                    "3.3.3.3",
                    "2.2.2.2",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
        ],
    );
    run(
        "TestPrintNodeInternalIP",
        "",
        "nodes",
        vec![
            Case {
                name: "internal",
                wide: true,
                obj: node(
                    "foo1",
                    addrs(json!([{"type": "InternalIP", "address": "1.1.1.1"}])),
                ),
                want: wide_node_row(
                    "foo1",
                    "1.1.1.1",
                    "<none>",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
            Case {
                name: "external",
                wide: true,
                obj: node(
                    "foo2",
                    addrs(json!([{"type": "ExternalIP", "address": "1.1.1.1"}])),
                ),
                want: wide_node_row(
                    "foo2",
                    "<none>",
                    "1.1.1.1",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
            Case {
                name: "first of each",
                wide: true,
                obj: node("foo3", addrs(three("InternalIP", "ExternalIP"))),
                want: wide_node_row(
                    "foo3",
                    "2.2.2.2",
                    "3.3.3.3",
                    "<unknown>",
                    "<unknown>",
                    "<unknown>",
                ),
            },
        ],
    );
}

fn service(name: &str, spec: Value, ingress: Option<Value>) -> Value {
    let mut svc = json!({"metadata": {"name": name}, "spec": spec});
    if let Some(ingress) = ingress {
        svc["status"] = json!({"loadBalancer": {"ingress": ingress}});
    }
    svc
}

#[test]
fn test_print_service_load_balancer() {
    let lb = |ip: &str, ports: Value| json!({"clusterIPs": [ip], "type": "LoadBalancer", "ports": ports});
    let three_ports = json!([{"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"}, {"port": 8000, "protocol": "TCP"}]);
    let three_ingress =
        json!([{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}, {"ip": "5.6.7.8", "hostname": "host5678"}]);
    let mut wide_spec = lb("1.5.6.7", three_ports.clone());
    wide_spec["selector"] = json!({"foo": "bar"});
    run(
        "TestPrintServiceLoadBalancer",
        "",
        "services",
        vec![
            Case {
                name: "multiple external IPs",
                wide: false,
                obj: service(
                    "service1",
                    lb("1.2.3.4", json!([{"port": 80, "protocol": "TCP"}])),
                    Some(json!([{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}])),
                ),
                want: json!([
                    "service1",
                    "LoadBalancer",
                    "1.2.3.4",
                    "2.3.4.5,3.4.5.6",
                    "80/TCP",
                    "<unknown>"
                ]),
            },
            Case {
                name: "pending external IP",
                wide: false,
                obj: service(
                    "service2",
                    lb(
                        "1.3.4.5",
                        json!([{"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"},
                {"port": 8000, "protocol": "TCP"}, {"port": 7777, "protocol": "SCTP"}]),
                    ),
                    None,
                ),
                want: json!([
                    "service2",
                    "LoadBalancer",
                    "1.3.4.5",
                    "<pending>",
                    "80/TCP,8090/UDP,8000/TCP,7777/SCTP",
                    "<unknown>"
                ]),
            },
            Case {
                name: "multiple ports",
                wide: false,
                obj: service(
                    "service3",
                    lb("1.4.5.6", three_ports.clone()),
                    Some(json!([{"ip": "2.3.4.5"}])),
                ),
                want: json!([
                    "service3",
                    "LoadBalancer",
                    "1.4.5.6",
                    "2.3.4.5",
                    "80/TCP,8090/UDP,8000/TCP",
                    "<unknown>"
                ]),
            },
            Case {
                name: "long external IP list gets elided",
                wide: false,
                obj: service(
                    "service4",
                    lb("1.5.6.7", three_ports),
                    Some(three_ingress.clone()),
                ),
                want: json!([
                    "service4",
                    "LoadBalancer",
                    "1.5.6.7",
                    "2.3.4.5,3.4.5...",
                    "80/TCP,8090/UDP,8000/TCP",
                    "<unknown>"
                ]),
            },
            Case {
                name: "wide: full list and selector",
                wide: true,
                obj: service("service4", wide_spec, Some(three_ingress)),
                want: json!([
                    "service4",
                    "LoadBalancer",
                    "1.5.6.7",
                    "2.3.4.5,3.4.5.6,5.6.7.8",
                    "80/TCP,8090/UDP,8000/TCP",
                    "<unknown>",
                    "foo=bar"
                ]),
            },
        ],
    );
}

#[test]
fn test_print_service() {
    let spec = |svc_type: &str, port: Value, external: Option<Value>| {
        let mut spec = json!({"type": svc_type, "ports": [port], "clusterIPs": ["10.9.8.7"]});
        if let Some(external) = external {
            spec["externalIPs"] = external;
        }
        spec
    };
    let mut with_selector = spec("ClusterIP", json!({"protocol": "tcp", "port": 2233}), None);
    with_selector["selector"] = json!({"foo": "bar"});
    run(
        "TestPrintService",
        "",
        "services",
        vec![
            Case {
                name: "name, cluster ip, port with protocol",
                wide: false,
                obj: service("test1", with_selector.clone(), None),
                want: json!([
                    "test1",
                    "ClusterIP",
                    "10.9.8.7",
                    "<none>",
                    "2233/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "wide includes selectors",
                wide: true,
                obj: service("test1", with_selector, None),
                want: json!([
                    "test1",
                    "ClusterIP",
                    "10.9.8.7",
                    "<none>",
                    "2233/tcp",
                    "<unknown>",
                    "foo=bar"
                ]),
            },
            Case {
                name: "NodePort",
                wide: false,
                obj: service(
                    "test2",
                    spec(
                        "NodePort",
                        json!({"protocol": "tcp", "port": 8888, "nodePort": 9999}),
                        None,
                    ),
                    None,
                ),
                want: json!([
                    "test2",
                    "NodePort",
                    "10.9.8.7",
                    "<none>",
                    "8888:9999/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "LoadBalancer",
                wide: false,
                obj: service(
                    "test3",
                    spec(
                        "LoadBalancer",
                        json!({"protocol": "tcp", "port": 8888}),
                        None,
                    ),
                    None,
                ),
                want: json!([
                    "test3",
                    "LoadBalancer",
                    "10.9.8.7",
                    "<pending>",
                    "8888/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "LoadBalancer with a single ExternalIP and no status",
                wide: false,
                obj: service(
                    "test4",
                    spec(
                        "LoadBalancer",
                        json!({"protocol": "tcp", "port": 8888}),
                        Some(json!(["80.11.12.10"])),
                    ),
                    None,
                ),
                want: json!([
                    "test4",
                    "LoadBalancer",
                    "10.9.8.7",
                    "80.11.12.10",
                    "8888/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "LoadBalancer with a single ExternalIP",
                wide: false,
                obj: service(
                    "test5",
                    spec(
                        "LoadBalancer",
                        json!({"protocol": "tcp", "port": 8888}),
                        Some(json!(["80.11.12.10"])),
                    ),
                    Some(json!([{"ip": "3.4.5.6", "hostname": "test.cluster.com"}])),
                ),
                want: json!([
                    "test5",
                    "LoadBalancer",
                    "10.9.8.7",
                    "3.4.5.6,80.11.12.10",
                    "8888/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "LoadBalancer with multiple ExternalIPs",
                wide: false,
                obj: service(
                    "test6",
                    spec(
                        "LoadBalancer",
                        json!({"protocol": "tcp", "port": 8888}),
                        Some(json!(["80.11.12.10", "80.11.12.11"])),
                    ),
                    Some(
                        json!([{"ip": "2.3.4.5", "hostname": "test.cluster.local"}, {"ip": "3.4.5.6", "hostname": "test.cluster.com"}]),
                    ),
                ),
                want: json!([
                    "test6",
                    "LoadBalancer",
                    "10.9.8.7",
                    "2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11",
                    "8888/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "ExternalName",
                wide: false,
                obj: service(
                    "test7",
                    json!({"type": "ExternalName", "externalName": "my.database.example.com"}),
                    None,
                ),
                want: json!([
                    "test7",
                    "ExternalName",
                    "<none>",
                    "my.database.example.com",
                    "<none>",
                    "<unknown>"
                ]),
            },
        ],
    );
    run(
        "TestPrintServiceList",
        "",
        "services",
        vec![
            Case {
                name: "service1",
                wide: false,
                obj: service(
                    "service1",
                    json!({"type": "ClusterIP", "ports": [{"protocol": "tcp", "port": 2233}], "clusterIPs": ["10.9.8.7"]}),
                    None,
                ),
                want: json!([
                    "service1",
                    "ClusterIP",
                    "10.9.8.7",
                    "<none>",
                    "2233/tcp",
                    "<unknown>"
                ]),
            },
            Case {
                name: "service2",
                wide: false,
                obj: service(
                    "service2",
                    json!({"type": "NodePort", "ports": [{"protocol": "udp", "port": 5566}], "clusterIPs": ["1.2.3.4"]}),
                    None,
                ),
                want: json!([
                    "service2",
                    "NodePort",
                    "1.2.3.4",
                    "<none>",
                    "5566/udp",
                    "<unknown>"
                ]),
            },
        ],
    );
    run(
        "kubetwin printService",
        "",
        "services",
        vec![
            Case {
                name: "v1 defaults: type ClusterIP, protocol TCP, clusterIP",
                wide: true,
                obj: service(
                    "s",
                    json!({"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}),
                    None,
                ),
                want: json!([
                    "s",
                    "ClusterIP",
                    "10.0.0.1",
                    "<none>",
                    "80/TCP",
                    "<unknown>",
                    "<none>"
                ]),
            },
            Case {
                name: "headless",
                wide: false,
                obj: service(
                    "s",
                    json!({"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432, "protocol": "TCP"}]}),
                    None,
                ),
                want: json!(["s", "ClusterIP", "None", "<none>", "5432/TCP", "<unknown>"]),
            },
            Case {
                name: "ClusterIP with external IPs",
                wide: false,
                obj: service(
                    "s",
                    json!({"type": "ClusterIP", "clusterIPs": ["10.0.0.1"], "externalIPs": ["1.1.1.1", "2.2.2.2"]}),
                    None,
                ),
                want: json!([
                    "s",
                    "ClusterIP",
                    "10.0.0.1",
                    "1.1.1.1,2.2.2.2",
                    "<none>",
                    "<unknown>"
                ]),
            },
            Case {
                name: "LoadBalancer hostname when no IP",
                wide: false,
                obj: service(
                    "s",
                    json!({"type": "LoadBalancer", "clusterIPs": ["10.0.0.1"], "ports": [{"port": 443, "protocol": "TCP", "nodePort": 30443}]}),
                    Some(json!([{"hostname": "lb.example"}])),
                ),
                want: json!([
                    "s",
                    "LoadBalancer",
                    "10.0.0.1",
                    "lb.example",
                    "443:30443/TCP",
                    "<unknown>"
                ]),
            },
        ],
    );
}

#[test]
fn test_print_config_map() {
    let cm = |name: &str, extra: Value| {
        let mut c = json!({"metadata": {"name": name, "creationTimestamp": at_offset(1.9)}});
        if let (Some(map), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        c
    };
    run(
        "TestPrintConfigMap",
        "",
        "configmaps",
        vec![
            Case {
                name: "no data",
                wide: false,
                obj: cm("configmap1", json!({})),
                want: json!(["configmap1", 0, "0s"]),
            },
            Case {
                name: "one data entry",
                wide: false,
                obj: cm("configmap2", json!({"data": {"foo": "bar"}})),
                want: json!(["configmap2", 1, "0s"]),
            },
            Case {
                name: "data and binary data",
                wide: false,
                obj: cm(
                    "configmap3",
                    json!({"data": {"foo": "bar"}, "binaryData": {"bin": "YmluYXJ5IGRhdGE="}}),
                ),
                want: json!(["configmap3", 2, "0s"]),
            },
        ],
    );
}

fn pv(
    name: &str,
    phase: &str,
    modes: Value,
    size: &str,
    class: Option<&str>,
    vac: Option<&str>,
) -> Value {
    let mut spec = json!({"claimRef": {"name": "test", "namespace": "default"}, "accessModes": modes,
        "capacity": {"storage": size}});
    if let Some(class) = class {
        spec["storageClassName"] = json!(class);
    }
    if let Some(vac) = vac {
        spec["volumeAttributesClassName"] = json!(vac);
    }
    json!({"metadata": {"name": name}, "spec": spec, "status": {"phase": phase}})
}

#[test]
fn test_print_persistent_volume() {
    let row = |name: &str, size: &str, modes: &str, phase: &str, class: &str, vac: &str| {
        json!([
            name,
            size,
            modes,
            "",
            phase,
            "default/test",
            class,
            vac,
            "",
            "<unknown>",
            "<unset>"
        ])
    };
    run(
        "TestPrintPersistentVolume",
        "",
        "persistentvolumes",
        vec![
            Case {
                name: "bound",
                wide: false,
                obj: pv("test1", "Bound", json!(["ReadOnlyMany"]), "4Gi", None, None),
                want: row("test1", "4Gi", "ROX", "Bound", "", "<unset>"),
            },
            Case {
                name: "failed",
                wide: false,
                obj: pv(
                    "test2",
                    "Failed",
                    json!(["ReadOnlyMany"]),
                    "4Gi",
                    None,
                    None,
                ),
                want: row("test2", "4Gi", "ROX", "Failed", "", "<unset>"),
            },
            Case {
                name: "pending",
                wide: false,
                obj: pv(
                    "test3",
                    "Pending",
                    json!(["ReadWriteMany"]),
                    "10Gi",
                    None,
                    None,
                ),
                want: row("test3", "10Gi", "RWX", "Pending", "", "<unset>"),
            },
            Case {
                name: "pending, storage class",
                wide: false,
                obj: pv(
                    "test4",
                    "Pending",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                    Some("my-scn"),
                    None,
                ),
                want: row("test4", "10Gi", "RWO", "Pending", "my-scn", "<unset>"),
            },
            Case {
                name: "pending, storage class, volume attributes class",
                wide: false,
                obj: pv(
                    "test4",
                    "Pending",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                    Some("my-scn"),
                    Some("my-vacn"),
                ),
                want: row("test4", "10Gi", "RWO", "Pending", "my-scn", "my-vacn"),
            },
            Case {
                name: "available",
                wide: false,
                obj: pv(
                    "test5",
                    "Available",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                    Some("my-scn"),
                    None,
                ),
                want: row("test5", "10Gi", "RWO", "Available", "my-scn", "<unset>"),
            },
            Case {
                name: "released",
                wide: false,
                obj: pv(
                    "test6",
                    "Released",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                    Some("my-scn"),
                    None,
                ),
                want: row("test6", "10Gi", "RWO", "Released", "my-scn", "<unset>"),
            },
        ],
    );
    run(
        "kubetwin printPersistentVolume",
        "",
        "persistentvolumes",
        vec![Case {
            name: "terminating, all modes deduplicated, beta class annotation, reason",
            wide: false,
            obj: json!({"metadata": {"name": "pv", "deletionTimestamp": ago(1.0),
                    "annotations": {"volume.beta.kubernetes.io/storage-class": "beta"}},
                "spec": {"accessModes": ["ReadWriteOncePod", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce", "ReadOnlyMany"],
                    "capacity": {"storage": "1Ti"}, "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "ga",
                    "volumeMode": "Block"},
                "status": {"phase": "Released", "reason": "Recycled"}}),
            want: json!([
                "pv",
                "1Ti",
                "RWO,ROX,RWX,RWOP",
                "Retain",
                "Terminating",
                "",
                "beta",
                "<unset>",
                "Recycled",
                "<unknown>",
                "Block"
            ]),
        }],
    );
}

#[test]
fn test_print_persistent_volume_claim() {
    let pvc = |name: &str,
               volume: Option<&str>,
               mode: bool,
               class: bool,
               vac: bool,
               phase: &str,
               modes: Value,
               size: &str| {
        let mut spec = json!({});
        if let Some(volume) = volume {
            spec["volumeName"] = json!(volume);
        }
        if mode {
            spec["volumeMode"] = json!("Filesystem");
        }
        if class {
            spec["storageClassName"] = json!("my-scn");
        }
        if vac {
            spec["volumeAttributesClassName"] = json!("my-vacn");
        }
        json!({"metadata": {"name": name}, "spec": spec,
            "status": {"phase": phase, "accessModes": modes, "capacity": {"storage": size}}})
    };
    run(
        "TestPrintPersistentVolumeClaim",
        "",
        "persistentvolumeclaims",
        vec![
            Case {
                name: "bound",
                wide: false,
                obj: pvc(
                    "test1",
                    Some("my-volume"),
                    true,
                    false,
                    false,
                    "Bound",
                    json!(["ReadOnlyMany"]),
                    "4Gi",
                ),
                want: json!([
                    "test1",
                    "Bound",
                    "my-volume",
                    "4Gi",
                    "ROX",
                    "",
                    "<unset>",
                    "<unknown>",
                    "Filesystem"
                ]),
            },
            Case {
                name: "lost, no volume",
                wide: false,
                obj: pvc(
                    "test2",
                    None,
                    true,
                    false,
                    false,
                    "Lost",
                    json!(["ReadOnlyMany"]),
                    "4Gi",
                ),
                want: json!([
                    "test2",
                    "Lost",
                    "",
                    "",
                    "",
                    "",
                    "<unset>",
                    "<unknown>",
                    "Filesystem"
                ]),
            },
            Case {
                name: "pending with volume",
                wide: false,
                obj: pvc(
                    "test3",
                    Some("my-volume"),
                    true,
                    false,
                    false,
                    "Pending",
                    json!(["ReadWriteMany"]),
                    "10Gi",
                ),
                want: json!([
                    "test3",
                    "Pending",
                    "my-volume",
                    "10Gi",
                    "RWX",
                    "",
                    "<unset>",
                    "<unknown>",
                    "Filesystem"
                ]),
            },
            Case {
                name: "storage class",
                wide: false,
                obj: pvc(
                    "test4",
                    Some("my-volume"),
                    true,
                    true,
                    false,
                    "Pending",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                ),
                want: json!([
                    "test4",
                    "Pending",
                    "my-volume",
                    "10Gi",
                    "RWO",
                    "my-scn",
                    "<unset>",
                    "<unknown>",
                    "Filesystem"
                ]),
            },
            Case {
                name: "no volume mode",
                wide: false,
                obj: pvc(
                    "test5",
                    Some("my-volume"),
                    false,
                    true,
                    false,
                    "Pending",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                ),
                want: json!([
                    "test5",
                    "Pending",
                    "my-volume",
                    "10Gi",
                    "RWO",
                    "my-scn",
                    "<unset>",
                    "<unknown>",
                    "<unset>"
                ]),
            },
            Case {
                name: "volume attributes class",
                wide: false,
                obj: pvc(
                    "test5",
                    Some("my-volume"),
                    false,
                    true,
                    true,
                    "Pending",
                    json!(["ReadWriteOnce"]),
                    "10Gi",
                ),
                want: json!([
                    "test5",
                    "Pending",
                    "my-volume",
                    "10Gi",
                    "RWO",
                    "my-scn",
                    "my-vacn",
                    "<unknown>",
                    "<unset>"
                ]),
            },
        ],
    );
}

#[test]
fn test_print_endpoint() {
    let ep = |name: &str, created: String, subsets: Value| json!({"metadata": {"name": name, "creationTimestamp": created}, "subsets": subsets});
    let addresses = |ips: &[&str]| Value::Array(ips.iter().map(|ip| json!({"ip": ip})).collect());
    run(
        "TestPrintEndpoint",
        "",
        "endpoints",
        vec![
            Case {
                name: "no IPs",
                wide: false,
                obj: json!({"metadata": {"name": "endpoint1", "creationTimestamp": at_offset(1.9)}}),
                want: json!(["endpoint1", "<none>", "0s"]),
            },
            Case {
                name: "no ports",
                wide: false,
                obj: ep(
                    "endpoint3",
                    ago(300.0),
                    json!([{"addresses": addresses(&["1.2.3.4", "5.6.7.8"])}]),
                ),
                want: json!(["endpoint3", "1.2.3.4,5.6.7.8", "5m"]),
            },
            Case {
                name: "two IPs and one port",
                wide: false,
                obj: ep(
                    "endpoint2",
                    at_offset(1.9),
                    json!([{"addresses": addresses(&["1.2.3.4", "5.6.7.8"]),
                "ports": [{"port": 8001, "protocol": "tcp"}]}]),
                ),
                want: json!(["endpoint2", "1.2.3.4:8001,5.6.7.8:8001", "0s"]),
            },
            Case {
                name: "more than three IPs",
                wide: false,
                obj: ep(
                    "endpoint2",
                    at_offset(1.9),
                    json!([{"addresses": addresses(&["1.2.3.4", "5.6.7.8", "9.8.7.6", "6.6.6.6"]),
                "ports": [{"port": 8001, "protocol": "tcp"}]}]),
                ),
                want: json!([
                    "endpoint2",
                    "1.2.3.4:8001,5.6.7.8:8001,9.8.7.6:8001 + 1 more...",
                    "0s"
                ]),
            },
        ],
    );
    run(
        "kubetwin printEndpoints",
        "",
        "endpoints",
        vec![Case {
            name: "IPv6 addresses are bracketed",
            wide: false,
            obj: ep(
                "e",
                at_offset(0.0),
                json!([{"addresses": addresses(&["fd00::1"]), "ports": [{"port": 80}]}]),
            ),
            want: json!(["e", "[fd00::1]:80", "0s"]),
        }],
    );
}

#[test]
fn test_print_endpoint_slice() {
    let port = |name: &str, number: i64| json!({"name": name, "port": number, "protocol": "TCP"});
    let endpoints = json!([{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]}, {"addresses": ["10.2.3.4", "2001:db8::2345:6789"]}]);
    run(
        "TestPrintEndpointSlice",
        "discovery.k8s.io",
        "endpointslices",
        vec![
            Case {
                name: "one port",
                wide: false,
                obj: json!({"metadata": {"name": "abcslice.123", "creationTimestamp": at_offset(1.9)}, "addressType": "IPv4",
                "ports": [port("http", 80)], "endpoints": [{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]}]}),
                want: json!([
                    "abcslice.123",
                    "IPv4",
                    "80",
                    "10.1.2.3,2001:db8::1234:5678",
                    "0s"
                ]),
            },
            Case {
                name: "two ports, four addresses",
                wide: false,
                obj: json!({"metadata": {"name": "longerslicename.123", "creationTimestamp": ago(300.0)}, "addressType": "IPv6",
                "ports": [port("http", 80), port("https", 443)], "endpoints": endpoints}),
                want: json!([
                    "longerslicename.123",
                    "IPv6",
                    "80,443",
                    "10.1.2.3,2001:db8::1234:5678,10.2.3.4 + 1 more...",
                    "5m"
                ]),
            },
            Case {
                name: "four ports",
                wide: false,
                obj: json!({"metadata": {"name": "multiportslice.123", "creationTimestamp": ago(300.0)}, "addressType": "IPv4",
                "ports": [port("http", 80), port("https", 443), port("extra1", 3000), port("extra2", 3001)], "endpoints": endpoints}),
                want: json!([
                    "multiportslice.123",
                    "IPv4",
                    "80,443,3000 + 1 more...",
                    "10.1.2.3,2001:db8::1234:5678,10.2.3.4 + 1 more...",
                    "5m"
                ]),
            },
        ],
    );
    run(
        "kubetwin printEndpointSlice",
        "discovery.k8s.io",
        "endpointslices",
        vec![
            Case {
                name: "unset ports and endpoints; named and wildcard ports",
                wide: false,
                obj: json!({"metadata": {"name": "s"}, "addressType": "IPv4"}),
                want: json!(["s", "IPv4", "<unset>", "<unset>", "<unknown>"]),
            },
            Case {
                name: "port without number",
                wide: false,
                obj: json!({"metadata": {"name": "s"}, "addressType": "FQDN", "ports": [{"name": "dns"}, {}]}),
                want: json!(["s", "FQDN", "dns,*", "<unset>", "<unknown>"]),
            },
        ],
    );
}

#[test]
fn test_print_resource_quota() {
    let quota = json!({"metadata": {"name": "test-resourcequota", "creationTimestamp": ago(300.0)}, "spec": {},
        "status": {
            "used": {"cpu": "1", "memory": "1Gi", "pods": "1", "services": "1", "replicationcontrollers": "1",
                "resourcequotas": "1", "limits.cpu": "2", "limits.memory": "2Gi"},
            "hard": {"cpu": "100", "memory": "4Gi", "pods": "10", "services": "10", "replicationcontrollers": "10",
                "resourcequotas": "1", "limits.cpu": "200", "limits.memory": "8Gi"}}});
    run(
        "TestPrintResourceQuota",
        "",
        "resourcequotas",
        vec![Case {
            name: "requests and limits",
            wide: false,
            obj: quota,
            want: json!([
                "test-resourcequota",
                "cpu: 1/100, memory: 1Gi/4Gi, pods: 1/10, replicationcontrollers: 1/10, resourcequotas: 1/1, services: 1/10",
                "limits.cpu: 2/200, limits.memory: 2Gi/8Gi",
                "5m"
            ]),
        }],
    );
    run(
        "kubetwin printResourceQuota",
        "",
        "resourcequotas",
        vec![Case {
            name: "unused resources print 0; `limits` alone is not a limit",
            wide: false,
            obj: json!({"metadata": {"name": "q"}, "status": {"hard": {"limits": "1", "requests.cpu": "2"}}}),
            want: json!(["q", "limits: 0/1, requests.cpu: 0/2", "", "<unknown>"]),
        }],
    );
}
