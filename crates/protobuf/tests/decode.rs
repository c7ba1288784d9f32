//! Hand-encoded bodies (see `common::Msg`) decoded and compared with the JSON Go's
//! `encoding/json` writes for the same struct, one table row per behaviour: special types,
//! omission rules, inline embedding, pointers, maps, merging, and the envelope.

mod common;

use common::{Msg, body, int_or_string_int, int_or_string_str, meta, quantity, timestamp};
use kubetwin_protobuf::{
    GroupVersionKind, ProtobufError, decode_message_to_json, decode_to_json, decode_with_defaults,
    message_name_for,
};
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    api_version: &'static str,
    kind: &'static str,
    raw: Msg,
    want: Value,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "namespace: structs are never omitted, creationTimestamp omitzero",
            api_version: "v1",
            kind: "Namespace",
            raw: Msg::new().message(1, meta("x", "")),
            want: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"},
                         "spec": {}, "status": {}}),
        },
        Case {
            name: "pod: Time drops nanoseconds, empty pointer Time is null, inline probe handler and \
                   volume source, IntOrString both ways, Quantity canonical",
            api_version: "v1",
            kind: "Pod",
            raw: Msg::new()
                .message(
                    1,
                    meta("p", "default")
                        .message(8, timestamp(1_700_000_000, 999))
                        .message(9, Msg::new())
                        .map_str(11, "app", "web")
                        .map_str(12, "note", ""),
                )
                .message(
                    2,
                    Msg::new()
                        .message(
                            1,
                            Msg::new().string(1, "scratch").message(
                                2,
                                Msg::new().message(2, Msg::new().message(2, quantity("1Gi"))),
                            ),
                        )
                        .message(
                            2,
                            Msg::new()
                                .string(1, "c")
                                .string(2, "nginx")
                                .message(6, Msg::new().int(3, 80))
                                .message(7, Msg::new().string(1, "EMPTY").string(2, ""))
                                .message(
                                    8,
                                    Msg::new()
                                        .map_msg(1, "cpu", quantity("500m"))
                                        .map_msg(1, "memory", quantity("128Mi"))
                                        .map_msg(2, "cpu", quantity("1000m")),
                                )
                                .message(
                                    10,
                                    Msg::new()
                                        .message(
                                            1,
                                            Msg::new().message(
                                                2,
                                                Msg::new()
                                                    .string(1, "/healthz")
                                                    .message(2, int_or_string_str("http")),
                                            ),
                                        )
                                        .int(2, 5),
                                )
                                .message(
                                    11,
                                    Msg::new().message(
                                        1,
                                        Msg::new().message(
                                            3,
                                            Msg::new().message(1, int_or_string_int(8080)),
                                        ),
                                    ),
                                ),
                        ),
                ),
            want: json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "default",
                             "creationTimestamp": "2023-11-14T22:13:20Z",
                             "deletionTimestamp": null,
                             "labels": {"app": "web"}, "annotations": {"note": ""}},
                "spec": {
                    "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
                    "containers": [{
                        "name": "c", "image": "nginx",
                        "ports": [{"containerPort": 80}],
                        "env": [{"name": "EMPTY"}],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                      "requests": {"cpu": "1"}},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                                          "initialDelaySeconds": 5},
                        "readinessProbe": {"tcpSocket": {"port": 8080}}
                    }]
                },
                "status": {}
            }),
        },
        Case {
            name: "pod without spec: non-omitempty nil slice is null",
            api_version: "v1",
            kind: "Pod",
            raw: Msg::new(),
            want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {},
                         "spec": {"containers": null}, "status": {}}),
        },
        Case {
            name: "secret: []byte map values are base64, a missing value is null",
            api_version: "v1",
            kind: "Secret",
            raw: Msg::new()
                .message(1, meta("s", "ns"))
                .message(2, Msg::new().string(1, "password").bytes(2, b"hunter2"))
                .message(2, Msg::new().string(1, "empty").bytes(2, b""))
                .message(2, Msg::new().string(1, "nil"))
                .string(3, "Opaque")
                .map_str(4, "plain", "text")
                .boolean(5, false),
            want: json!({"apiVersion": "v1", "kind": "Secret",
                         "metadata": {"name": "s", "namespace": "ns"},
                         "immutable": false,
                         "data": {"password": "aHVudGVyMg==", "empty": "", "nil": null},
                         "stringData": {"plain": "text"}, "type": "Opaque"}),
        },
        Case {
            name: "controllerrevision: RawExtension is the embedded JSON, revision 0 written",
            api_version: "apps/v1",
            kind: "ControllerRevision",
            raw: Msg::new()
                .message(1, meta("rev", "ns"))
                .message(2, Msg::new().bytes(1, br#" {"spec":{"replicas":2}}"#)),
            want: json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                         "metadata": {"name": "rev", "namespace": "ns"},
                         "data": {"spec": {"replicas": 2}}, "revision": 0}),
        },
        Case {
            name: "controllerrevision: nil RawExtension is null",
            api_version: "apps/v1",
            kind: "ControllerRevision",
            raw: Msg::new().int(3, 7),
            want: json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                         "metadata": {}, "data": null, "revision": 7}),
        },
        Case {
            name: "events.k8s.io event: MicroTime keeps microseconds, zero Time structs are null",
            api_version: "events.k8s.io/v1",
            kind: "Event",
            raw: Msg::new()
                .message(1, meta("e", "ns"))
                .message(2, timestamp(1_700_000_000, 123_456_789))
                .string(7, "Started"),
            want: json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                         "metadata": {"name": "e", "namespace": "ns"},
                         "eventTime": "2023-11-14T22:13:20.123456Z", "reason": "Started",
                         "regarding": {}, "deprecatedSource": {},
                         "deprecatedFirstTimestamp": null, "deprecatedLastTimestamp": null}),
        },
        Case {
            name: "lease: pointer zero values are written, MicroTime at the epoch is not zero",
            api_version: "coordination.k8s.io/v1",
            kind: "Lease",
            raw: Msg::new().message(1, meta("l", "kube-node-lease")).message(
                2,
                Msg::new()
                    .string(1, "")
                    .int(2, 0)
                    .message(3, timestamp(0, 0))
                    .message(4, timestamp(-1, -1_500)),
            ),
            want: json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                         "metadata": {"name": "l", "namespace": "kube-node-lease"},
                         "spec": {"holderIdentity": "", "leaseDurationSeconds": 0,
                                  "acquireTime": "1970-01-01T00:00:00.000000Z",
                                  "renewTime": "1969-12-31T23:59:58.999999Z"}}),
        },
        Case {
            name: "service: an absent IntOrString targetPort is 0 (structs ignore omitempty)",
            api_version: "v1",
            kind: "Service",
            raw: Msg::new().message(1, meta("svc", "")).message(
                2,
                Msg::new()
                    .message(1, Msg::new().string(1, "http").string(2, "TCP").int(3, 80))
                    .map_str(2, "app", "web")
                    .string(4, "ClusterIP"),
            ),
            want: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                         "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80,
                                             "targetPort": 0}],
                                  "selector": {"app": "web"}, "type": "ClusterIP"},
                         "status": {"loadBalancer": {}}}),
        },
        Case {
            name: "eviction: nested DeleteOptions has no apiVersion/kind (as kubectl drain sends)",
            api_version: "policy/v1",
            kind: "Eviction",
            raw: Msg::new()
                .message(1, meta("web-1", "default"))
                .message(2, Msg::new().int(1, 30)),
            want: json!({"apiVersion": "policy/v1", "kind": "Eviction",
                         "metadata": {"name": "web-1", "namespace": "default"},
                         "deleteOptions": {"gracePeriodSeconds": 30}}),
        },
        Case {
            name: "DeleteOptions in the core group version resolves to meta/v1",
            api_version: "v1",
            kind: "DeleteOptions",
            raw: Msg::new()
                .message(2, Msg::new().string(1, "uid-1"))
                .string(4, "Foreground")
                .string(5, "All"),
            want: json!({"apiVersion": "v1", "kind": "DeleteOptions",
                         "preconditions": {"uid": "uid-1"},
                         "propagationPolicy": "Foreground", "dryRun": ["All"]}),
        },
        Case {
            name: "DeleteOptions in apps/v1 and meta.k8s.io/v1",
            api_version: "meta.k8s.io/v1",
            kind: "DeleteOptions",
            raw: Msg::new().boolean(3, true),
            want: json!({"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions",
                         "orphanDependents": true}),
        },
        Case {
            name: "scale: replicas 0 is omitempty",
            api_version: "autoscaling/v1",
            kind: "Scale",
            raw: Msg::new()
                .message(1, meta("web", "ns"))
                .message(2, Msg::new().int(1, 0))
                .message(3, Msg::new().int(1, 3).string(2, "app=web")),
            want: json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
                         "metadata": {"name": "web", "namespace": "ns"}, "spec": {},
                         "status": {"replicas": 3, "selector": "app=web"}}),
        },
        Case {
            name: "subjectaccessreview: ExtraValue map values are plain arrays (nil is null)",
            api_version: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            raw: Msg::new().message(
                2,
                Msg::new()
                    .string(3, "alice")
                    .string(4, "devs")
                    .string(4, "ops")
                    .map_msg(5, "scopes", Msg::new().string(1, "a").string(1, "b"))
                    .map_msg(5, "none", Msg::new()),
            ),
            want: json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                         "metadata": {},
                         "spec": {"user": "alice", "groups": ["devs", "ops"],
                                  "extra": {"scopes": ["a", "b"], "none": null}},
                         "status": {"allowed": false}}),
        },
        Case {
            name: "managedFields: FieldsV1 is its raw JSON, pointer Time set",
            api_version: "v1",
            kind: "ConfigMap",
            raw: Msg::new().message(
                1,
                meta("cm", "").message(
                    17,
                    Msg::new()
                        .string(1, "kubectl")
                        .string(2, "Update")
                        .string(3, "v1")
                        .message(4, timestamp(1_700_000_000, 0))
                        .string(6, "FieldsV1")
                        .message(7, Msg::new().bytes(1, br#"{"f:data":{".":{}}}"#)),
                ),
            ),
            want: json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "cm", "managedFields": [{
                             "manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                             "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1",
                             "fieldsV1": {"f:data": {".": {}}}}]}}),
        },
        Case {
            name: "merging: a repeated embedded message merges, scalars keep the last value, \
                   lists append across occurrences",
            api_version: "v1",
            kind: "ConfigMap",
            raw: Msg::new()
                .message(1, Msg::new().string(1, "first").string(14, "f1"))
                .map_str(2, "k", "v1")
                .message(1, Msg::new().string(3, "ns").string(14, "f2"))
                .map_str(2, "k", "v2")
                .message(1, Msg::new().string(1, "last")),
            want: json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "last", "namespace": "ns",
                                      "finalizers": ["f1", "f2"]},
                         "data": {"k": "v2"}}),
        },
        Case {
            name: "packed and unpacked repeated int64, int32 truncation, negative int32",
            api_version: "v1",
            kind: "Pod",
            raw: Msg::new().message(
                2,
                Msg::new()
                    .message(
                        14,
                        Msg::new()
                            .int(4, 1)
                            // packed run [2, 300]
                            .bytes(4, &[0x02, 0xac, 0x02])
                            .int(4, -5),
                    )
                    // priority: 2^32 + 7 keeps the low 32 bits
                    .varint(25, (1u64 << 32) + 7)
                    .int(4, -1),
            ),
            want: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {},
                         "spec": {"containers": null, "terminationGracePeriodSeconds": -1,
                                  "securityContext": {"supplementalGroups": [1, 2, 300, -5]},
                                  "priority": 7},
                         "status": {}}),
        },
        Case {
            name: "unknown fields of every wire type (groups too) are skipped",
            api_version: "v1",
            kind: "ConfigMap",
            raw: Msg::new()
                .varint(99, 5)
                .key(98, 1)
                .raw(&[0; 8])
                .string(97, "junk")
                .key(96, 5)
                .raw(&[0; 4])
                .key(95, 3)
                .varint(1, 1)
                .key(95, 4)
                .message(1, meta("cm", "")),
            want: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}),
        },
        Case {
            name: "invalid UTF-8 becomes one U+FFFD per byte",
            api_version: "v1",
            kind: "ConfigMap",
            raw: Msg::new().message(1, Msg::new().bytes(1, b"a\xe2\x82z")),
            want: json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "a\u{fffd}\u{fffd}z"}}),
        },
        Case {
            name: "Time exactly at Go's zero instant is null; empty Time bytes are null",
            api_version: "v1",
            kind: "Namespace",
            raw: Msg::new().message(
                1,
                Msg::new()
                    .message(8, timestamp(-62_135_596_800, 0))
                    .message(9, Msg::new()),
            ),
            want: json!({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"deletionTimestamp": null}, "spec": {}, "status": {}}),
        },
    ]
}

#[test]
fn hand_encoded_bodies_decode_to_go_json() {
    for case in cases() {
        let encoded = body(case.api_version, case.kind, case.raw);
        let got = decode_to_json(&encoded).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(got, case.want, "{}", case.name);
    }
}

#[test]
fn defaults_fill_a_missing_kind_and_version() {
    // Upstream: protobuf.go copyKindDefaults; api testdata core.v1.WatchEvent.pb has an empty
    // TypeMeta (WatchEvent embeds none), decoded with the expected GVK as default.
    let raw = Msg::new()
        .string(1, "ADDED")
        .message(2, Msg::new().bytes(1, br#"{"kind":"Pod"}"#));
    let encoded = body("", "", raw);
    let defaults = GroupVersionKind::new("", "v1", "WatchEvent");
    let decoded = decode_with_defaults(&encoded, Some(&defaults)).unwrap();
    assert_eq!(decoded.gvk, defaults);
    assert_eq!(
        decoded.object,
        json!({"type": "ADDED", "object": {"kind": "Pod"}})
    );
    assert!(matches!(
        decode_to_json(&encoded),
        Err(ProtobufError::MissingKind(_))
    ));
    // A kind without a version takes the default's group and version.
    let encoded = body("", "ConfigMap", Msg::new());
    let decoded =
        decode_with_defaults(&encoded, Some(&GroupVersionKind::new("", "v1", ""))).unwrap();
    assert_eq!(decoded.gvk, GroupVersionKind::new("", "v1", "ConfigMap"));
}

#[test]
fn bare_messages_and_kind_lookup() {
    let quantity = decode_message_to_json(
        "k8s.io.apimachinery.pkg.api.resource.Quantity",
        &quantity("0.5").build(),
    )
    .unwrap();
    assert_eq!(quantity, json!("500m"));
    let zero =
        decode_message_to_json("k8s.io.apimachinery.pkg.api.resource.Quantity", &[]).unwrap();
    assert_eq!(zero, json!("0"));
    let duration = decode_message_to_json(
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
        &Msg::new().int(1, 90_500_000_000).build(),
    )
    .unwrap();
    assert_eq!(duration, json!("1m30.5s"));
    assert!(matches!(
        decode_message_to_json("no.such.Message", &[]),
        Err(ProtobufError::UnknownMessage(_))
    ));
    assert_eq!(
        message_name_for(&GroupVersionKind::new("apps", "v1", "Deployment")),
        Some("k8s.io.api.apps.v1.Deployment")
    );
    assert_eq!(
        message_name_for(&GroupVersionKind::new("batch", "v1", "Status")),
        Some("k8s.io.apimachinery.pkg.apis.meta.v1.Status")
    );
    assert_eq!(
        message_name_for(&GroupVersionKind::new("", "v1", "PodSpec")),
        None
    );
}

/// Every kind the kubetwin apiserver serves has a message.
#[test]
fn served_kinds_resolve() {
    let served: &[(&str, &str, &[&str])] = &[
        (
            "",
            "v1",
            &[
                "Namespace",
                "Node",
                "Pod",
                "Service",
                "Endpoints",
                "ConfigMap",
                "Secret",
                "Event",
                "ServiceAccount",
                "PersistentVolume",
                "PersistentVolumeClaim",
                "ResourceQuota",
                "LimitRange",
                "Binding",
                "DeleteOptions",
            ],
        ),
        (
            "apps",
            "v1",
            &[
                "Deployment",
                "ReplicaSet",
                "StatefulSet",
                "DaemonSet",
                "ControllerRevision",
            ],
        ),
        ("batch", "v1", &["Job", "CronJob"]),
        ("policy", "v1", &["PodDisruptionBudget", "Eviction"]),
        ("autoscaling", "v1", &["Scale", "HorizontalPodAutoscaler"]),
        ("autoscaling", "v2", &["HorizontalPodAutoscaler"]),
        ("scheduling.k8s.io", "v1", &["PriorityClass"]),
        (
            "storage.k8s.io",
            "v1",
            &["StorageClass", "CSINode", "CSIDriver"],
        ),
        ("coordination.k8s.io", "v1", &["Lease"]),
        ("discovery.k8s.io", "v1", &["EndpointSlice"]),
        ("events.k8s.io", "v1", &["Event"]),
        (
            "networking.k8s.io",
            "v1",
            &["Ingress", "IngressClass", "NetworkPolicy"],
        ),
        (
            "rbac.authorization.k8s.io",
            "v1",
            &["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"],
        ),
        ("authorization.k8s.io", "v1", &["SelfSubjectAccessReview"]),
        ("meta.k8s.io", "v1", &["DeleteOptions"]),
    ];
    for (group, version, kinds) in served {
        for kind in *kinds {
            let gvk = GroupVersionKind::new(group, version, kind);
            let name = message_name_for(&gvk);
            assert!(name.is_some(), "{gvk:?}");
            // And an empty object of each decodes.
            let encoded = body(&gvk.api_version(), kind, Msg::new());
            let object = decode_to_json(&encoded).unwrap_or_else(|e| panic!("{gvk:?}: {e}"));
            assert_eq!(object["kind"], json!(kind));
        }
    }
}
