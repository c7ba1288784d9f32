//! Admission plugins: `LimitRanger`, `ResourceQuota` and `DefaultStorageClass`.
//!
//! The pure functions run against tables transcribed from upstream's unit tests
//! (`plugin/pkg/admission/limitranger/admission_test.go`); the server tests create objects
//! in process through [`LocalClient`] and check what is stored and the 403 `Status`
//! messages (`plugin/pkg/admission/limitranger/admission.go`,
//! `staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go`,
//! `plugin/pkg/admission/storage/storageclass/setdefault/admission.go`).

use std::sync::Arc;

use kubetwin_apiserver::admission::limitranger::{
    self, LIMIT_RANGER_ANNOTATION, default_container_resource_requirements,
    merge_pod_resource_requirements, pod_mutate_limit, pod_validate_limit, pvc_validate_limit,
};
use kubetwin_apiserver::admission::resource_list;
use kubetwin_apiserver::local::LocalClient;
use kubetwin_apiserver::registry;
use kubetwin_apiserver::write::WriteOptions;
use kubetwin_apiserver::{ApiServer, ApiServerConfig, Storage};
use kubetwin_core::clock::ManualClock;
use kubetwin_store::Store;
use proptest::prelude::*;
use serde_json::{Value, json};

// ----- fixtures (admission_test.go helpers, as JSON) -----

/// `getComputeResourceList`.
fn c(cpu: &str, memory: &str) -> Value {
    let mut m = serde_json::Map::new();
    if !cpu.is_empty() {
        m.insert("cpu".into(), json!(cpu));
    }
    if !memory.is_empty() {
        m.insert("memory".into(), json!(memory));
    }
    Value::Object(m)
}

/// `getLocalStorageResourceList`.
fn s(storage: &str) -> Value {
    if storage.is_empty() {
        json!({})
    } else {
        json!({"ephemeral-storage": storage})
    }
}

fn e() -> Value {
    json!({})
}

/// `validPod`: `n` containers `foo-<i>` with the same requirements.
fn valid_pod(name: &str, n: usize, requests: Value, limits: Value) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| {
            json!({"name": format!("foo-{i}"), "image": format!("foo:V{i}"),
                         "resources": {"requests": requests, "limits": limits}})
        })
        .collect();
    json!({"metadata": {"name": name, "namespace": "test"}, "spec": {"containers": containers}})
}

/// `validPodInit`: appends init containers.
fn with_init(mut pod: Value, inits: &[(Value, Value)]) -> Value {
    let list: Vec<Value> = inits
        .iter()
        .enumerate()
        .map(|(i, (r, l))| {
            json!({"name": format!("foo-{i}"), "image": format!("foo:V{i}"),
                                   "resources": {"requests": r, "limits": l}})
        })
        .collect();
    pod["spec"]["initContainers"] = json!(list);
    pod
}

/// `createLimitRange` with one item.
fn limit_range(
    ty: &str,
    min: Value,
    max: Value,
    default: Value,
    default_request: Value,
    ratio: Value,
) -> Value {
    json!({"metadata": {"name": "abc", "namespace": "test"}, "spec": {"limits": [{
        "type": ty, "min": min, "max": max, "default": default,
        "defaultRequest": default_request, "maxLimitRequestRatio": ratio}]}})
}

fn min(ty: &str, m: Value) -> Value {
    limit_range(ty, m, e(), e(), e(), e())
}
fn max(ty: &str, m: Value) -> Value {
    limit_range(ty, e(), m, e(), e(), e())
}

/// `validLimitRange`.
fn valid_limit_range() -> Value {
    json!({"metadata": {"name": "abc", "namespace": "test"}, "spec": {"limits": [
        {"type": "Pod", "max": c("200m", "4Gi"), "min": c("50m", "2Mi")},
        {"type": "Container", "max": c("100m", "2Gi"), "min": c("25m", "1Mi"),
         "default": c("75m", "10Mi"), "defaultRequest": c("50m", "5Mi")}]}})
}

/// `validLimitRangeNoDefaults`.
fn valid_limit_range_no_defaults() -> Value {
    json!({"metadata": {"name": "abc", "namespace": "test"}, "spec": {"limits": [
        {"type": "Pod", "max": c("200m", "4Gi"), "min": c("50m", "2Mi")},
        {"type": "Container", "max": c("100m", "2Gi"), "min": c("25m", "1Mi")}]}})
}

// ----- LimitRanger tables -----

/// Upstream: `TestDefaultContainerResourceRequirements`.
#[test]
fn default_container_resource_requirements_of_valid_limit_range() {
    let d = default_container_resource_requirements(&valid_limit_range());
    assert_eq!(d.requests, resource_list(&c("50m", "5Mi")));
    assert_eq!(d.limits, resource_list(&c("75m", "10Mi")));
}

/// Upstream: `TestMergePodResourceRequirements`.
#[test]
fn merge_pod_resource_requirements_table() {
    let defaults = default_container_resource_requirements(&valid_limit_range());
    // No resources: everything from the defaults.
    let mut pod = valid_pod("empty-resources", 1, e(), e());
    merge_pod_resource_requirements(&mut pod, &defaults);
    let res = &pod["spec"]["containers"][0]["resources"];
    assert_eq!(res["requests"], c("50m", "5Mi"));
    assert_eq!(res["limits"], c("75m", "10Mi"));
    assert_eq!(
        pod["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for container foo-0; cpu, memory limit for container foo-0"
    );
    // Some resources: only the missing ones, in containers and init containers.
    let input = (c("", "512Mi"), e());
    let mut pod = with_init(
        valid_pod("limit-memory", 1, input.0.clone(), input.1.clone()),
        &[input],
    );
    merge_pod_resource_requirements(&mut pod, &defaults);
    for field in ["containers", "initContainers"] {
        let res = &pod["spec"][field][0]["resources"];
        assert_eq!(res["requests"], c("50m", "512Mi"), "{field}");
        assert_eq!(res["limits"], c("75m", "10Mi"), "{field}");
    }
    assert_eq!(
        pod["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION],
        "LimitRanger plugin set: cpu request for container foo-0; cpu, memory limit for container foo-0; cpu request for init container foo-0; cpu, memory limit for init container foo-0"
    );
    // Everything set: nothing merged, no annotation.
    let mut pod = with_init(
        valid_pod("limit-memory", 1, c("100m", "512Mi"), c("200m", "1G")),
        &[(c("200m", "1G"), c("400m", "2G"))],
    );
    let before = pod.clone();
    merge_pod_resource_requirements(&mut pod, &defaults);
    assert_eq!(pod, before);
}

/// Upstream: `TestLimitRangerAdmitPod` (the pure part): without defaults, a pod that sets
/// no resources fails the min constraints.
#[test]
fn limit_range_without_defaults_rejects_empty_pods() {
    let range = valid_limit_range_no_defaults();
    let mut pod = valid_pod("testPod", 1, e(), e());
    pod_mutate_limit(&range, &mut pod);
    assert!(pod["metadata"]["annotations"].is_null());
    assert!(pod_validate_limit(&range, &pod).is_err());
}

/// Upstream: `TestPodLimitFuncApplyDefault`.
#[test]
fn pod_limit_func_applies_defaults_to_all_containers() {
    let mut pod = with_init(valid_pod("foo", 1, e(), e()), &[(e(), e())]);
    pod_mutate_limit(&valid_limit_range(), &mut pod);
    for field in ["containers", "initContainers"] {
        let res = &pod["spec"][field][0]["resources"];
        assert_eq!(res["limits"], json!({"cpu": "75m", "memory": "10Mi"}));
        assert_eq!(res["requests"], json!({"cpu": "50m", "memory": "5Mi"}));
    }
}

/// A pod and the LimitRange it is checked against.
type LimitCase = (Value, Value);

/// The success and error cases of `TestPodLimitFunc`.
fn pod_limit_cases() -> (Vec<LimitCase>, Vec<LimitCase>) {
    let ctr = "Container";
    let pod = "Pod";
    let success = vec![
        (
            valid_pod("ctr-min-cpu-request", 1, c("100m", ""), e()),
            min(ctr, c("50m", "")),
        ),
        (
            valid_pod("ctr-min-cpu-request-limit", 1, c("100m", ""), c("200m", "")),
            min(ctr, c("50m", "")),
        ),
        (
            valid_pod("ctr-min-memory-request", 1, c("", "60Mi"), e()),
            min(ctr, c("", "50Mi")),
        ),
        (
            valid_pod(
                "ctr-min-memory-request-limit",
                1,
                c("", "60Mi"),
                c("", "100Mi"),
            ),
            min(ctr, c("", "50Mi")),
        ),
        (
            valid_pod("ctr-max-cpu-request-limit", 1, c("500m", ""), c("1", "")),
            max(ctr, c("2", "")),
        ),
        (
            valid_pod("ctr-max-cpu-limit", 1, e(), c("1", "")),
            max(ctr, c("2", "")),
        ),
        (
            valid_pod(
                "ctr-max-mem-request-limit",
                1,
                c("", "250Mi"),
                c("", "500Mi"),
            ),
            max(ctr, c("", "1Gi")),
        ),
        (
            valid_pod("ctr-max-cpu-ratio", 1, c("500m", ""), c("750m", "")),
            limit_range(ctr, e(), e(), e(), e(), c("1.5", "")),
        ),
        (
            valid_pod("ctr-max-mem-limit", 1, e(), c("", "500Mi")),
            max(ctr, c("", "1Gi")),
        ),
        (
            valid_pod("pod-min-cpu-request", 2, c("75m", ""), e()),
            min(pod, c("100m", "")),
        ),
        (
            valid_pod("pod-min-cpu-request-limit", 2, c("75m", ""), c("200m", "")),
            min(pod, c("100m", "")),
        ),
        (
            valid_pod("pod-min-memory-request", 2, c("", "60Mi"), e()),
            min(pod, c("", "100Mi")),
        ),
        (
            valid_pod(
                "pod-min-memory-request-limit",
                2,
                c("", "60Mi"),
                c("", "100Mi"),
            ),
            min(pod, c("", "100Mi")),
        ),
        (
            with_init(
                valid_pod("pod-init-min-memory-request", 2, c("", "60Mi"), e()),
                &[(c("", "100Mi"), e())],
            ),
            min(pod, c("", "100Mi")),
        ),
        (
            with_init(
                valid_pod(
                    "pod-init-min-memory-request-limit",
                    2,
                    c("", "60Mi"),
                    c("", "100Mi"),
                ),
                &[(c("", "80Mi"), c("", "100Mi"))],
            ),
            min(pod, c("", "100Mi")),
        ),
        (
            valid_pod("pod-max-cpu-request-limit", 2, c("500m", ""), c("1", "")),
            max(pod, c("2", "")),
        ),
        (
            valid_pod("pod-max-cpu-limit", 2, e(), c("1", "")),
            max(pod, c("2", "")),
        ),
        (
            with_init(
                valid_pod(
                    "pod-init-max-cpu-request-limit",
                    2,
                    c("500m", ""),
                    c("1", ""),
                ),
                &[(c("1", ""), c("2", "")), (c("1", ""), c("1", ""))],
            ),
            max(pod, c("2", "")),
        ),
        (
            with_init(
                valid_pod("pod-init-max-cpu-limit", 2, e(), c("1", "")),
                &[(e(), c("2", "")), (e(), c("2", ""))],
            ),
            max(pod, c("2", "")),
        ),
        (
            valid_pod(
                "pod-max-mem-request-limit",
                2,
                c("", "250Mi"),
                c("", "500Mi"),
            ),
            max(pod, c("", "1Gi")),
        ),
        (
            valid_pod("pod-max-mem-limit", 2, e(), c("", "500Mi")),
            max(pod, c("", "1Gi")),
        ),
        (
            valid_pod("pod-max-mem-ratio", 3, c("", "300Mi"), c("", "450Mi")),
            limit_range(pod, e(), c("", "2Gi"), e(), e(), c("", "1.5")),
        ),
        (
            valid_pod(
                "ctr-1-min-local-ephemeral-storage-request",
                1,
                s("60Mi"),
                e(),
            ),
            min(ctr, s("50Mi")),
        ),
        (
            valid_pod(
                "ctr-1-min-local-ephemeral-storage-request-limit",
                1,
                s("60Mi"),
                s("100Mi"),
            ),
            min(ctr, s("50Mi")),
        ),
        (
            valid_pod(
                "ctr-1-max-local-ephemeral-storage-request-limit",
                1,
                s("250Mi"),
                s("500Mi"),
            ),
            max(ctr, s("1Gi")),
        ),
        (
            valid_pod(
                "ctr-1-max-local-ephemeral-storage-limit",
                1,
                e(),
                s("500Mi"),
            ),
            max(ctr, s("1Gi")),
        ),
        (
            valid_pod(
                "ctr-2-min-local-ephemeral-storage-request",
                2,
                s("60Mi"),
                e(),
            ),
            min(ctr, s("50Mi")),
        ),
        (
            valid_pod(
                "ctr-2-min-local-ephemeral-storage-request-limit",
                2,
                s("60Mi"),
                s("100Mi"),
            ),
            min(ctr, s("50Mi")),
        ),
        (
            valid_pod(
                "ctr-2-max-local-ephemeral-storage-request-limit",
                2,
                s("250Mi"),
                s("500Mi"),
            ),
            max(ctr, s("600Mi")),
        ),
        (
            valid_pod(
                "ctr-2-max-local-ephemeral-storage-limit",
                2,
                e(),
                s("500Mi"),
            ),
            max(ctr, s("600Mi")),
        ),
        (
            valid_pod("pod-min-local-ephemeral-storage-request", 2, s("60Mi"), e()),
            min(pod, s("100Mi")),
        ),
        (
            valid_pod(
                "pod-min-local-ephemeral-storage-request-limit",
                2,
                s("60Mi"),
                s("100Mi"),
            ),
            min(pod, s("100Mi")),
        ),
        (
            with_init(
                valid_pod(
                    "pod-init-min-local-ephemeral-storage-request",
                    2,
                    s("60Mi"),
                    e(),
                ),
                &[(s("100Mi"), e())],
            ),
            min(pod, s("100Mi")),
        ),
        (
            with_init(
                valid_pod(
                    "pod-init-min-local-ephemeral-storage-request-limit",
                    2,
                    s("60Mi"),
                    s("100Mi"),
                ),
                &[(s("80Mi"), s("100Mi"))],
            ),
            min(pod, s("100Mi")),
        ),
        (
            valid_pod(
                "pod-max-local-ephemeral-storage-request-limit",
                2,
                s("250Mi"),
                s("500Mi"),
            ),
            max(pod, s("1Gi")),
        ),
        (
            valid_pod("pod-max-local-ephemeral-storage-limit", 2, e(), s("500Mi")),
            max(pod, s("1Gi")),
        ),
        (
            valid_pod(
                "pod-max-local-ephemeral-storage-ratio",
                3,
                s("300Mi"),
                s("450Mi"),
            ),
            limit_range(pod, e(), s("2Gi"), e(), e(), s("1.5")),
        ),
    ];
    let mut sidecar = valid_pod(
        "ctr-max-cpu-limit-restartable-init-container",
        1,
        c("1000m", ""),
        c("1500m", ""),
    );
    sidecar["spec"]["initContainers"] = json!([{"name": "foo-0", "image": "foo:V0", "restartPolicy": "Always",
        "resources": {"requests": c("1500m", ""), "limits": e()}}]);
    let mut errors = vec![
        (
            valid_pod("ctr-min-cpu-request", 1, c("40m", ""), e()),
            min(ctr, c("50m", "")),
        ),
        (
            valid_pod("ctr-min-cpu-request-limit", 1, c("40m", ""), c("200m", "")),
            min(ctr, c("50m", "")),
        ),
        (
            valid_pod("ctr-min-cpu-no-request-limit", 1, e(), e()),
            min(ctr, c("50m", "")),
        ),
        (
            valid_pod("ctr-min-memory-request", 1, c("", "40Mi"), e()),
            min(ctr, c("", "50Mi")),
        ),
        (
            valid_pod(
                "ctr-min-memory-request-limit",
                1,
                c("", "40Mi"),
                c("", "100Mi"),
            ),
            min(ctr, c("", "50Mi")),
        ),
        (
            valid_pod("ctr-min-memory-no-request-limit", 1, e(), e()),
            min(ctr, c("", "50Mi")),
        ),
        (
            valid_pod(
                "ctr-max-cpu-request-limit",
                1,
                c("500m", ""),
                c("2500m", ""),
            ),
            max(ctr, c("2", "")),
        ),
        (
            valid_pod("ctr-max-cpu-limit", 1, e(), c("2500m", "")),
            max(ctr, c("2", "")),
        ),
        (
            valid_pod("ctr-max-cpu-no-request-limit", 1, e(), e()),
            max(ctr, c("2", "")),
        ),
        (
            valid_pod("ctr-max-cpu-ratio", 1, c("1250m", ""), c("2500m", "")),
            limit_range(ctr, e(), e(), e(), e(), c("1", "")),
        ),
        (
            valid_pod("ctr-max-mem-request-limit", 1, c("", "250Mi"), c("", "2Gi")),
            max(ctr, c("", "1Gi")),
        ),
        (
            valid_pod("ctr-max-mem-limit", 1, e(), c("", "2Gi")),
            max(ctr, c("", "1Gi")),
        ),
        (
            valid_pod("ctr-max-mem-no-request-limit", 1, e(), e()),
            max(ctr, c("", "1Gi")),
        ),
        (
            valid_pod("pod-min-cpu-request", 1, c("75m", ""), e()),
            min(pod, c("100m", "")),
        ),
        (
            valid_pod("pod-min-cpu-request-limit", 1, c("75m", ""), c("200m", "")),
            min(pod, c("100m", "")),
        ),
        (
            valid_pod("pod-min-memory-request", 1, c("", "60Mi"), e()),
            min(pod, c("", "100Mi")),
        ),
        (
            valid_pod(
                "pod-min-memory-request-limit",
                1,
                c("", "60Mi"),
                c("", "100Mi"),
            ),
            min(pod, c("", "100Mi")),
        ),
        (
            valid_pod("pod-max-cpu-request-limit", 3, c("500m", ""), c("1", "")),
            max(pod, c("2", "")),
        ),
        (
            valid_pod("pod-max-cpu-limit", 3, e(), c("1", "")),
            max(pod, c("2", "")),
        ),
        (
            valid_pod(
                "pod-max-mem-request-limit",
                3,
                c("", "250Mi"),
                c("", "500Mi"),
            ),
            max(pod, c("", "1Gi")),
        ),
        (
            valid_pod("pod-max-mem-limit", 3, e(), c("", "500Mi")),
            max(pod, c("", "1Gi")),
        ),
        (
            with_init(
                valid_pod("pod-init-max-mem-limit", 1, e(), c("", "500Mi")),
                &[(e(), c("", "1.5Gi"))],
            ),
            max(pod, c("", "1Gi")),
        ),
        (
            valid_pod("pod-max-mem-ratio", 3, c("", "250Mi"), c("", "500Mi")),
            limit_range(pod, e(), c("", "2Gi"), e(), e(), c("", "1.5")),
        ),
        (
            valid_pod("pod-min-local-ephemeral-storage-request", 1, s("60Mi"), e()),
            min(pod, s("100Mi")),
        ),
        (
            valid_pod(
                "pod-min-local-ephemeral-storage-request-limit",
                1,
                s("60Mi"),
                s("100Mi"),
            ),
            min(pod, s("100Mi")),
        ),
        (
            valid_pod(
                "pod-max-local-ephemeral-storage-request-limit",
                3,
                s("250Mi"),
                s("500Mi"),
            ),
            max(pod, s("1Gi")),
        ),
        (
            valid_pod("pod-max-local-ephemeral-storage-limit", 3, e(), s("500Mi")),
            max(pod, s("1Gi")),
        ),
        (
            with_init(
                valid_pod(
                    "pod-init-max-local-ephemeral-storage-limit",
                    1,
                    e(),
                    s("500Mi"),
                ),
                &[(e(), s("1.5Gi"))],
            ),
            max(pod, s("1Gi")),
        ),
        (
            valid_pod(
                "pod-max-local-ephemeral-storage-ratio",
                3,
                s("250Mi"),
                s("500Mi"),
            ),
            limit_range(pod, e(), s("2Gi"), e(), e(), s("1.5")),
        ),
        (sidecar, max(pod, c("2", ""))),
    ];
    for n in [1, 2] {
        errors.extend([
            (
                valid_pod(
                    &format!("ctr-{n}-min-local-ephemeral-storage-request"),
                    n,
                    s("40Mi"),
                    e(),
                ),
                min(ctr, s("50Mi")),
            ),
            (
                valid_pod(
                    &format!("ctr-{n}-min-local-ephemeral-storage-request-limit"),
                    n,
                    s("40Mi"),
                    s("100Mi"),
                ),
                min(ctr, s("50Mi")),
            ),
            (
                valid_pod(
                    &format!("ctr-{n}-min-local-ephemeral-storage-no-request-limit"),
                    n,
                    e(),
                    e(),
                ),
                min(ctr, s("50Mi")),
            ),
            (
                valid_pod(
                    &format!("ctr-{n}-max-local-ephemeral-storage-request-limit"),
                    n,
                    s("250Mi"),
                    s("2Gi"),
                ),
                max(ctr, s("1Gi")),
            ),
            (
                valid_pod(
                    &format!("ctr-{n}-max-local-ephemeral-storage-limit"),
                    n,
                    e(),
                    s("2Gi"),
                ),
                max(ctr, s("1Gi")),
            ),
            (
                valid_pod(
                    &format!("ctr-{n}-max-local-ephemeral-storage-no-request-limit"),
                    n,
                    e(),
                    e(),
                ),
                max(ctr, s("1Gi")),
            ),
        ]);
    }
    (success, errors)
}

/// Upstream: `TestPodLimitFunc` (success and error cases, mutate then validate).
#[test]
fn pod_limit_func_table() {
    let (success, errors) = pod_limit_cases();
    assert_eq!(success.len(), 37);
    assert_eq!(errors.len(), 42);
    for (mut pod, range) in success {
        pod_mutate_limit(&range, &mut pod);
        let name = pod["metadata"]["name"].clone();
        assert_eq!(pod_validate_limit(&range, &pod), Ok(()), "{name}");
    }
    for (mut pod, range) in errors {
        pod_mutate_limit(&range, &mut pod);
        let name = pod["metadata"]["name"].clone();
        assert!(pod_validate_limit(&range, &pod).is_err(), "{name}");
    }
}

/// The messages of `minConstraint`, `maxConstraint` and `limitRequestRatioConstraint`.
#[test]
fn limit_messages_are_upstreams() {
    let cases = [
        (
            valid_pod("a", 1, c("40m", ""), e()),
            min("Container", c("50m", "")),
            "minimum cpu usage per Container is 50m, but request is 40m",
        ),
        (
            valid_pod("a", 1, e(), e()),
            min("Container", c("", "50Mi")),
            "minimum memory usage per Container is 50Mi.  No request is specified",
        ),
        (
            valid_pod("a", 1, e(), c("4", "")),
            max("Container", c("2", "")),
            "maximum cpu usage per Container is 2, but limit is 4",
        ),
        (
            valid_pod("a", 1, e(), e()),
            max("Container", c("2", "")),
            "maximum cpu usage per Container is 2.  No limit is specified",
        ),
        (
            valid_pod("a", 1, c("1250m", ""), c("2500m", "")),
            limit_range("Container", e(), e(), e(), e(), c("1", "")),
            "cpu max limit to request ratio per Container is 1, but provided ratio is 2.000000",
        ),
        (
            valid_pod("a", 1, e(), c("1", "")),
            limit_range("Container", e(), e(), e(), e(), c("1", "")),
            "cpu max limit to request ratio per Container is 1, but no request is specified or request is 0",
        ),
        (
            valid_pod("a", 3, e(), c("1", "")),
            max("Pod", c("2", "")),
            "maximum cpu usage per Pod is 2, but limit is 3",
        ),
        (
            valid_pod("a", 1, e(), e()),
            max("Container", c("2", "1Gi")),
            "[maximum cpu usage per Container is 2.  No limit is specified, maximum memory usage per Container is 1Gi.  No limit is specified]",
        ),
    ];
    for (pod, range, expected) in cases {
        assert_eq!(pod_validate_limit(&range, &pod), Err(expected.to_string()));
    }
}

/// Upstream: `TestPersistentVolumeClaimLimitFunc`.
#[test]
fn persistent_volume_claim_limit_func_table() {
    let pvc = |name: &str, storage: &str| {
        json!({"metadata": {"name": name, "namespace": "test"},
               "spec": {"resources": {"requests": {"storage": storage}}}})
    };
    let st = |q: &str| {
        if q.is_empty() {
            json!({})
        } else {
            json!({"storage": q})
        }
    };
    let range =
        |mn: &str, mx: &str| limit_range("PersistentVolumeClaim", st(mn), st(mx), e(), e(), e());
    let success = [
        (pvc("pvc-is-min-storage-request", "1Gi"), range("1Gi", "")),
        (pvc("pvc-is-max-storage-request", "1Gi"), range("", "1Gi")),
        (pvc("pvc-no-minmax-storage-request", "100Gi"), range("", "")),
        (
            pvc("pvc-within-minmax-storage-request", "5Gi"),
            range("1Gi", "10Gi"),
        ),
    ];
    for (claim, r) in success {
        assert_eq!(
            pvc_validate_limit(&r, &claim),
            Ok(()),
            "{}",
            claim["metadata"]["name"]
        );
    }
    assert_eq!(
        pvc_validate_limit(
            &range("1Gi", ""),
            &pvc("pvc-below-min-storage-request", "500Mi")
        ),
        Err("minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi".into())
    );
    assert_eq!(
        pvc_validate_limit(
            &range("1Gi", "1Gi"),
            &pvc("pvc-exceeds-max-storage-request", "100Gi")
        ),
        Err("maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 100Gi".into())
    );
}

/// The pod-level aggregation of the plugin: sidecars add up, other init containers count
/// with the sidecars started before them; pod-level resources override (`podRequests`).
#[test]
fn pod_aggregate_with_sidecars_and_pod_level_resources() {
    let mut pod = valid_pod("p", 1, c("1", ""), e());
    pod["spec"]["initContainers"] = json!([
        {"name": "s", "restartPolicy": "Always", "resources": {"requests": c("500m", "")}},
        {"name": "i", "resources": {"requests": c("2", "")}}]);
    assert_eq!(
        limitranger::pod_aggregate(&pod, "requests")["cpu"].to_string(),
        "2500m"
    );
    pod["spec"]["resources"] = json!({"requests": c("3", "")});
    assert_eq!(
        limitranger::pod_aggregate(&pod, "requests")["cpu"].to_string(),
        "3"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Admission over arbitrary quantities and shapes never panics.
    #[test]
    fn limit_ranger_never_panics(
        cpu in "[0-9]{0,4}(m|Ki|Gi|e3|\\.5)?",
        mem in "[-+]?[0-9]{0,12}(Mi|Gi|k|E)?",
        ty in prop_oneof![Just("Container"), Just("Pod"), Just("PersistentVolumeClaim"), Just("x")],
        n in 0usize..3,
    ) {
        let range = limit_range(ty, c(&cpu, &mem), c(&mem, &cpu), c(&cpu, ""), c("", &mem), c(&cpu, &mem));
        let mut pod = with_init(valid_pod("p", n, c(&mem, &cpu), c(&cpu, &mem)), &[(c(&cpu, ""), json!(["bad"]))]);
        pod_mutate_limit(&range, &mut pod);
        let _ = pod_validate_limit(&range, &pod);
        let _ = pvc_validate_limit(&range, &json!({"spec": {"resources": {"requests": {"storage": mem}}}}));
        let _ = pod_validate_limit(&json!({"spec": {"limits": "nope"}}), &json!(null));
    }
}

// ----- through the server -----

async fn server() -> (Arc<ApiServer>, LocalClient) {
    let server = ApiServer::new(
        Storage::new(Store::memory()),
        Arc::new(ManualClock::at_default_epoch()),
        7,
        ApiServerConfig::default(),
    );
    server.bootstrap().await.expect("bootstrap");
    let client = LocalClient::new(server.clone(), "test");
    (server, client)
}

fn info(group: &str, resource: &str) -> &'static registry::ResourceInfo {
    registry::lookup(group, "v1", resource).expect("resource")
}

fn pod_manifest(name: &str, resources: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "resources": resources}]}})
}

/// Upstream: `TestLimitRangerAdmitPod` end to end: defaults and the annotation are stored;
/// an over-limit pod is refused with 403 and upstream's message.
#[tokio::test]
async fn limit_ranger_defaults_and_rejects_pods() {
    let (_server, client) = server().await;
    let mut range = valid_limit_range();
    range["metadata"]["namespace"] = json!("default");
    client
        .create(info("", "limitranges"), Some("default"), range)
        .await
        .expect("limitrange");
    let pod = client
        .create(
            info("", "pods"),
            Some("default"),
            pod_manifest("defaulted", json!({})),
        )
        .await
        .expect("pod");
    let res = &pod["spec"]["containers"][0]["resources"];
    assert_eq!(res["requests"], json!({"cpu": "50m", "memory": "5Mi"}));
    assert_eq!(res["limits"], json!({"cpu": "75m", "memory": "10Mi"}));
    assert_eq!(
        pod["metadata"]["annotations"][LIMIT_RANGER_ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"
    );
    // The defaulted requests make the pod Burstable (QoS is computed after admission).
    assert_eq!(pod["status"]["qosClass"], "Burstable");
    let err = client
        .create(
            info("", "pods"),
            Some("default"),
            pod_manifest("big", json!({"limits": {"cpu": "4", "memory": "10Mi"}})),
        )
        .await
        .expect_err("over the limit");
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        "pods \"big\" is forbidden: [maximum cpu usage per Pod is 200m, but limit is 4, maximum cpu usage per Container is 100m, but limit is 4]"
    );
    // A request above the defaulted limit makes the pod invalid (422): validation runs
    // before the validating admission, as upstream.
    let err = client
        .create(
            info("", "pods"),
            Some("default"),
            pod_manifest("inverted", json!({"requests": {"cpu": "90m"}})),
        )
        .await
        .expect_err("request above limit");
    assert_eq!(err.code, 422, "{}", err.message);
    assert!(
        err.message
            .contains("must be less than or equal to cpu limit of 75m"),
        "{}",
        err.message
    );
}

/// LimitRanger on claims: create and resize are checked.
#[tokio::test]
async fn limit_ranger_checks_claims() {
    let (_server, client) = server().await;
    let mut range = limit_range(
        "PersistentVolumeClaim",
        json!({"storage": "1Gi"}),
        json!({"storage": "10Gi"}),
        e(),
        e(),
        e(),
    );
    range["metadata"]["namespace"] = json!("default");
    client
        .create(info("", "limitranges"), Some("default"), range)
        .await
        .expect("limitrange");
    let claim = |name: &str, size: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"storageClassName": "", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}})
    };
    let err = client
        .create(
            info("", "persistentvolumeclaims"),
            Some("default"),
            claim("huge", "100Gi"),
        )
        .await
        .expect_err("too big");
    assert_eq!(
        err.message,
        "persistentvolumeclaims \"huge\" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 100Gi"
    );
    client
        .create(
            info("", "persistentvolumeclaims"),
            Some("default"),
            claim("ok", "5Gi"),
        )
        .await
        .expect("fits");
}

fn quota_manifest(name: &str, hard: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name, "namespace": "default"},
           "spec": {"hard": hard}})
}

/// Creates a quota and sets its status as the controller would on its first sync.
async fn quota_with_status(client: &LocalClient, name: &str, hard: Value, used: Value) {
    let rq = info("", "resourcequotas");
    let mut q = client
        .create(rq, Some("default"), quota_manifest(name, hard.clone()))
        .await
        .expect("quota");
    q["status"] = json!({"hard": hard, "used": used});
    client.update(rq, "status", q).await.expect("status");
}

fn used(client: &LocalClient, name: &str) -> Value {
    client
        .get(info("", "resourcequotas"), Some("default"), name)
        .expect("quota")["status"]["used"]
        .clone()
}

/// Upstream: resourcequota `TestAdmitBelowQuotaLimit`, `TestAdmitExceedQuotaLimit`,
/// `TestAdmitEnforceQuotaConstraints`, `TestAdmitRejectsNegativeUsage`-style messages, and
/// `TestAdmitHandlesDryRun` (no charge on dry run), through the server.
#[tokio::test]
async fn resource_quota_charges_and_rejects() {
    let (server, client) = server().await;
    quota_with_status(
        &client,
        "compute",
        json!({"cpu": "2", "memory": "1Gi", "pods": "3"}),
        json!({"cpu": "0", "memory": "0", "pods": "0"}),
    )
    .await;
    let pods = info("", "pods");
    let fits = json!({"requests": {"cpu": "1", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "100Mi"}});
    client
        .create(pods, Some("default"), pod_manifest("a", fits.clone()))
        .await
        .expect("a");
    assert_eq!(
        used(&client, "compute"),
        json!({"cpu": "1", "memory": "100Mi", "pods": "1"})
    );
    // Dry run: checked, not charged.
    let opts = WriteOptions {
        dry_run: true,
        ..WriteOptions::default()
    };
    server
        .create(
            pods,
            Some("default"),
            pod_manifest("dry", fits.clone()),
            &opts,
        )
        .await
        .expect("dry run");
    assert_eq!(
        used(&client, "compute"),
        json!({"cpu": "1", "memory": "100Mi", "pods": "1"})
    );
    client
        .create(pods, Some("default"), pod_manifest("b", fits.clone()))
        .await
        .expect("b");
    let err = client
        .create(pods, Some("default"), pod_manifest("c", fits.clone()))
        .await
        .expect_err("over quota");
    assert_eq!(err.code, 403);
    assert_eq!(err.reason, "Forbidden");
    assert_eq!(
        err.message,
        "pods \"c\" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=2, limited: cpu=2"
    );
    let err = client
        .create(pods, Some("default"), pod_manifest("d", json!({})))
        .await
        .expect_err("must specify");
    assert_eq!(
        err.message,
        "pods \"d\" is forbidden: failed quota: compute: must specify cpu for: c; memory for: c"
    );
    // Nothing rejected was charged.
    assert_eq!(
        used(&client, "compute"),
        json!({"cpu": "2", "memory": "200Mi", "pods": "2"})
    );
}

/// A quota whose usage the controller has not measured yet refuses what it tracks
/// (`status unknown for quota`); one without `status.hard` matches nothing (`Matches` reads
/// the status). Object counts (`count/configmaps`, the legacy `configmaps`) are charged.
#[tokio::test]
async fn resource_quota_status_unknown_and_object_counts() {
    let (_server, client) = server().await;
    let rq = info("", "resourcequotas");
    let mut q = client
        .create(
            rq,
            Some("default"),
            quota_manifest("fresh", json!({"services": "1"})),
        )
        .await
        .expect("quota");
    let svc = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
               "spec": {"ports": [{"port": 80}]}})
    };
    client
        .create(info("", "services"), Some("default"), svc("before-sync"))
        .await
        .expect("no status.hard: not matched");
    q["status"] = json!({"hard": {"services": "1"}});
    client.update(rq, "status", q).await.expect("status");
    let err = client
        .create(info("", "services"), Some("default"), svc("s"))
        .await
        .expect_err("unknown");
    assert_eq!(
        err.message,
        "services \"s\" is forbidden: status unknown for quota: fresh, resources: services"
    );

    quota_with_status(
        &client,
        "objects",
        json!({"count/configmaps": "1", "configmaps": "5"}),
        json!({"count/configmaps": "0", "configmaps": "0"}),
    )
    .await;
    let cm = |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}});
    client
        .create(info("", "configmaps"), Some("default"), cm("one"))
        .await
        .expect("one");
    assert_eq!(
        used(&client, "objects"),
        json!({"configmaps": "1", "count/configmaps": "1"})
    );
    let err = client
        .create(info("", "configmaps"), Some("default"), cm("two"))
        .await
        .expect_err("count");
    assert_eq!(
        err.message,
        "configmaps \"two\" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"
    );
}

/// Concurrent creates in one namespace never overrun the quota, and each admitted one is
/// charged exactly once (upstream serializes a namespace's checks and writes status with a
/// resourceVersion precondition).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_respect_the_quota() {
    let (_server, client) = server().await;
    quota_with_status(&client, "pods", json!({"pods": "5"}), json!({"pods": "0"})).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .create(
                    info("", "pods"),
                    Some("default"),
                    pod_manifest(&format!("p{i}"), json!({})),
                )
                .await
                .is_ok()
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        if t.await.expect("task") {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5);
    assert_eq!(used(&client, "pods"), json!({"pods": "5"}));
}

/// Scopes through the server: a Terminating quota only counts pods with
/// activeDeadlineSeconds; a PriorityClass scope selector only matching classes.
#[tokio::test]
async fn quota_scopes_select_pods() {
    let (_server, client) = server().await;
    let rq = info("", "resourcequotas");
    let mut q = quota_manifest("terminating", json!({"pods": "1"}));
    q["spec"]["scopes"] = json!(["Terminating"]);
    let mut q = client.create(rq, Some("default"), q).await.expect("quota");
    q["status"] = json!({"hard": {"pods": "1"}, "used": {"pods": "1"}});
    client.update(rq, "status", q).await.expect("status");
    client
        .create(
            info("", "pods"),
            Some("default"),
            pod_manifest("long-running", json!({})),
        )
        .await
        .expect("not in scope");
    let mut job_pod = pod_manifest("job", json!({}));
    job_pod["spec"]["activeDeadlineSeconds"] = json!(60);
    let err = client
        .create(info("", "pods"), Some("default"), job_pod)
        .await
        .expect_err("in scope");
    assert_eq!(
        err.message,
        "pods \"job\" is forbidden: exceeded quota: terminating, requested: pods=1, used: pods=1, limited: pods=1"
    );
}

/// Upstream: setdefault `TestAdmission` through the server: a claim without a class gets
/// the newest default class; `""` and explicit classes are kept.
#[tokio::test]
async fn default_storage_class_is_set_on_claims_without_class() {
    let (_server, client) = server().await;
    let classes = info("storage.k8s.io", "storageclasses");
    for (name, default) in [("slow", "true"), ("other", "false")] {
        client
            .create(classes, None, json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": default}},
                "provisioner": "example.com/disk"}))
            .await
            .expect("class");
    }
    let claim = |name: &str, class: Option<&str>| {
        let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        if let Some(class) = class {
            c["spec"]["storageClassName"] = json!(class);
        }
        c
    };
    let pvcs = info("", "persistentvolumeclaims");
    let got = client
        .create(pvcs, Some("default"), claim("none", None))
        .await
        .expect("claim");
    assert_eq!(got["spec"]["storageClassName"], "slow");
    let got = client
        .create(pvcs, Some("default"), claim("empty", Some("")))
        .await
        .expect("claim");
    assert_eq!(got["spec"]["storageClassName"], "");
    let got = client
        .create(pvcs, Some("default"), claim("explicit", Some("other")))
        .await
        .expect("claim");
    assert_eq!(got["spec"]["storageClassName"], "other");
}
