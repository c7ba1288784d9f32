//! Conformance: the volume plugins of the default profile.
//! Upstream tests (pkg/scheduler/framework/plugins/...):
//! volumerestrictions/volume_restrictions_test.go (`TestGCEDiskConflicts`, `TestAWSDiskConflicts`,
//! `TestRBDDiskConflicts`, `TestISCSIDiskConflicts`, `TestAccessModeConflicts`),
//! volumezone/volume_zone_test.go (`TestSingleZone`, `TestMultiZone`, `TestWithBinding`),
//! nodevolumelimits/csi_test.go (`TestCSILimits`, the cases without VolumeAttachments),
//! volumebinding/volume_binding_test.go (`TestVolumeBinding`, Filter outcomes).
//!
//! Not-found messages are those of the real informer listers (`persistentvolumeclaim "x" not
//! found`, `storageclass.storage.k8s.io "x" not found`); upstream's fake listers in some tests
//! print the plural resource instead.

#![allow(clippy::type_complexity)] // Case tables are tuples, as upstream's are structs.

mod common;

use common::{World, assert_status, ok, st, uau, unsched};
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod, Volume};
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use kubetwin_scheduler::cycle_state::CycleState;
use kubetwin_scheduler::framework::Plugin;
use kubetwin_scheduler::plugins::nodevolumelimits::{
    ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED, NodeVolumeLimits,
};
use kubetwin_scheduler::plugins::volumebinding::{
    ERR_REASON_BIND_CONFLICT, ERR_REASON_NODE_CONFLICT, ERR_REASON_PV_NOT_EXIST,
    ERR_REASON_UNBOUND_IMMEDIATE, VolumeBinding,
};
use kubetwin_scheduler::plugins::volumerestrictions::{
    ERR_REASON_DISK_CONFLICT, ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT, VolumeRestrictions,
};
use kubetwin_scheduler::plugins::volumezone::{ERR_REASON_CONFLICT, VolumeZone};
use kubetwin_scheduler::status::{Code, Status};
use kubetwin_scheduler::testing::{make_node, make_pod};
use kubetwin_scheduler::types::PodInfo;
use serde_json::{Value, json};

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("object")
}

fn vol(v: Value) -> Volume {
    obj(v)
}

/// The PreFilter status (Skip included) and, when PreFilter succeeded, the Filter status on
/// `node`, as upstream's tests check them.
fn run(world: &World, plugin: &dyn Plugin, pod: &Pod, node: &str) -> (Status, Option<Status>) {
    let info = PodInfo::new(pod.clone()).expect("pod");
    let h = world.handle();
    let mut state = CycleState::new();
    let pre = match plugin.as_pre_filter() {
        Some(pf) => pf.pre_filter(&h, &mut state, &info).1,
        None => Status::success(),
    };
    if !pre.is_success() {
        return (pre, None);
    }
    let n = world.snapshot.get(node).expect("node exists");
    let f = plugin
        .as_filter()
        .expect("filter")
        .filter(&h, &state, &info, n);
    (pre, Some(f))
}

fn skip() -> Status {
    Status::skip()
}

/// A world with one node "node" holding `existing`.
fn node_with(existing: Vec<Pod>) -> World {
    let pods = existing
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            p.metadata.name = Some(format!("existing-{i}"));
            p.spec.get_or_insert_with(Default::default).node_name = Some("node".into());
            p
        })
        .collect();
    World::new(vec![make_node("node").obj()], pods)
}

fn disk_cases(name: &str, v1: Volume, v2: Volume) {
    let pod = |v: Option<&Volume>| {
        let mut b = make_pod("pod");
        if let Some(v) = v {
            b = b.volume(v.clone());
        }
        b.obj()
    };
    let cases: Vec<(&str, Pod, Vec<Pod>, Status, Option<Status>)> = vec![
        ("nothing", pod(None), vec![], skip(), None),
        ("one state", pod(None), vec![pod(Some(&v1))], skip(), None),
        (
            "same state",
            pod(Some(&v1)),
            vec![pod(Some(&v1))],
            ok(),
            Some(unsched(&[ERR_REASON_DISK_CONFLICT])),
        ),
        (
            "different state",
            pod(Some(&v2)),
            vec![pod(Some(&v1))],
            ok(),
            Some(ok()),
        ),
    ];
    for (case, p, existing, want_pre, want_filter) in cases {
        let w = node_with(existing);
        let (pre, filter) = run(&w, &VolumeRestrictions, &p, "node");
        let case = format!("{name}: {case}");
        assert_status(&case, &pre, &want_pre);
        match (filter, want_filter) {
            (Some(got), Some(want)) => assert_status(&case, &got, &want),
            (None, None) => {}
            (got, want) => panic!("{case}: filter {got:?} want {want:?}"),
        }
    }
}

/// Upstream: TestGCEDiskConflicts (+ "pod with a volume that doesn't have restrictions").
#[test]
fn gce_disk_conflicts() {
    disk_cases(
        "TestGCEDiskConflicts",
        vol(json!({"name": "v", "gcePersistentDisk": {"pdName": "foo"}})),
        vol(json!({"name": "v", "gcePersistentDisk": {"pdName": "bar"}})),
    );
    let p = make_pod("pod")
        .volume(vol(
            json!({"name": "volume with no restriction", "emptyDir": {}}),
        ))
        .obj();
    let (pre, _) = run(&node_with(vec![]), &VolumeRestrictions, &p, "node");
    assert_status(
        "pod with a volume that doesn't have restrictions",
        &pre,
        &skip(),
    );
}

/// Upstream: TestAWSDiskConflicts.
#[test]
fn aws_disk_conflicts() {
    disk_cases(
        "TestAWSDiskConflicts",
        vol(json!({"name": "v", "awsElasticBlockStore": {"volumeID": "foo"}})),
        vol(json!({"name": "v", "awsElasticBlockStore": {"volumeID": "bar"}})),
    );
}

/// Upstream: TestRBDDiskConflicts.
#[test]
fn rbd_disk_conflicts() {
    disk_cases(
        "TestRBDDiskConflicts",
        vol(
            json!({"name": "v", "rbd": {"monitors": ["a", "b"], "pool": "foo", "image": "bar", "fsType": "ext4"}}),
        ),
        vol(
            json!({"name": "v", "rbd": {"monitors": ["c", "d"], "pool": "foo", "image": "bar", "fsType": "ext4"}}),
        ),
    );
}

/// Upstream: TestISCSIDiskConflicts.
#[test]
fn iscsi_disk_conflicts() {
    disk_cases(
        "TestISCSIDiskConflicts",
        vol(
            json!({"name": "v", "iscsi": {"targetPortal": "127.0.0.1:3260", "iqn": "iqn.2016-12.server:storage.target01", "fsType": "ext4", "lun": 0}}),
        ),
        vol(
            json!({"name": "v", "iscsi": {"targetPortal": "127.0.0.1:3260", "iqn": "iqn.2017-12.server:storage.target01", "fsType": "ext4", "lun": 0}}),
        ),
    );
}

/// Read-only GCE PDs may be shared; both must be read-only (volume_restrictions.go).
#[test]
fn gce_read_only_sharing() {
    let ro = vol(json!({"name": "v", "gcePersistentDisk": {"pdName": "foo", "readOnly": true}}));
    let rw = vol(json!({"name": "v", "gcePersistentDisk": {"pdName": "foo"}}));
    let cases = [
        ("both read-only", ro.clone(), ro.clone(), ok()),
        (
            "one read-write",
            ro.clone(),
            rw.clone(),
            unsched(&[ERR_REASON_DISK_CONFLICT]),
        ),
    ];
    for (case, a, b, want) in cases {
        let w = node_with(vec![make_pod("e").volume(b).obj()]);
        let (_, f) = run(
            &w,
            &VolumeRestrictions,
            &make_pod("p").volume(a).obj(),
            "node",
        );
        assert_status(case, &f.expect("filter"), &want);
    }
}

fn pvc(name: &str, spec: Value) -> PersistentVolumeClaim {
    obj(json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec}))
}

/// Upstream: TestAccessModeConflicts.
#[test]
fn access_mode_conflicts() {
    let on_node = |name: &str, claims: &[&str]| {
        let mut b = make_pod(name).node("node-1");
        for c in claims {
            b = b.pvc(c);
        }
        b.obj()
    };
    let pod_with_one_pvc = on_node("pod-with-one-pvc", &["claim-with-rwop-1"]);
    let pod_with_two_pvcs = on_node(
        "pod-with-two-pvcs",
        &["claim-with-rwop-1", "claim-with-rwop-2"],
    );
    let pod_with_one_conflict = on_node("pod-with-one-conflict", &["claim-with-rwop-1"]);
    let pod_with_two_conflicts = on_node(
        "pod-with-two-conflicts",
        &["claim-with-rwop-1", "claim-with-rwop-2"],
    );
    let pod_rwx = on_node("pod-with-rwx", &["claim-with-rwx"]);
    let rwop1 = pvc(
        "claim-with-rwop-1",
        json!({"accessModes": ["ReadWriteOncePod"]}),
    );
    let rwop2 = pvc(
        "claim-with-rwop-2",
        json!({"accessModes": ["ReadWriteOncePod"]}),
    );
    let rwx = pvc("claim-with-rwx", json!({"accessModes": ["ReadWriteMany"]}));
    let unassigned = |p: &Pod| {
        let mut p = p.clone();
        if let Some(s) = p.spec.as_mut() {
            s.node_name = None;
        }
        p
    };
    let cases: Vec<(
        &str,
        Pod,
        Vec<Pod>,
        Vec<PersistentVolumeClaim>,
        Status,
        Option<Status>,
    )> = vec![
        ("nothing", make_pod("p").obj(), vec![], vec![], skip(), None),
        (
            "failed to get PVC",
            unassigned(&pod_with_one_pvc),
            vec![],
            vec![],
            uau("persistentvolumeclaim \"claim-with-rwop-1\" not found"),
            None,
        ),
        (
            "no access mode conflict",
            unassigned(&pod_with_one_pvc),
            vec![pod_rwx.clone()],
            vec![rwop1.clone(), rwx.clone()],
            skip(),
            None,
        ),
        (
            "access mode conflict, unschedulable",
            unassigned(&pod_with_one_conflict),
            vec![pod_with_one_pvc.clone(), pod_rwx.clone()],
            vec![rwop1.clone(), rwx.clone()],
            ok(),
            Some(unsched(&[ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT])),
        ),
        (
            "two conflicts, unschedulable",
            unassigned(&pod_with_two_conflicts),
            vec![pod_with_two_pvcs.clone(), pod_rwx.clone()],
            vec![rwop1.clone(), rwop2.clone(), rwx.clone()],
            ok(),
            Some(unsched(&[ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT])),
        ),
    ];
    for (case, p, existing, pvcs, want_pre, want_filter) in cases {
        let mut w = World::new(vec![make_node("node-1").obj()], existing);
        for c in pvcs {
            w.objects.persistent_volume_claims.insert(
                format!("default/{}", c.metadata.name.clone().unwrap_or_default()),
                c,
            );
        }
        let (pre, filter) = run(&w, &VolumeRestrictions, &p, "node-1");
        assert_status(case, &pre, &want_pre);
        match (filter, want_filter) {
            (Some(got), Some(want)) => assert_status(case, &got, &want),
            (None, None) => {}
            (got, want) => panic!("{case}: filter {got:?} want {want:?}"),
        }
    }
}

fn pv(v: Value) -> PersistentVolume {
    obj(v)
}

fn add_pvs(w: &mut World, pvs: &[PersistentVolume]) {
    for p in pvs {
        w.objects
            .persistent_volumes
            .insert(p.metadata.name.clone().unwrap_or_default(), p.clone());
    }
}

fn add_pvcs(w: &mut World, pvcs: &[PersistentVolumeClaim]) {
    for c in pvcs {
        w.objects.persistent_volume_claims.insert(
            format!(
                "{}/{}",
                c.metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()),
                c.metadata.name.clone().unwrap_or_default()
            ),
            c.clone(),
        );
    }
}

fn add_scs(w: &mut World, scs: &[StorageClass]) {
    for c in scs {
        w.objects
            .storage_classes
            .insert(c.metadata.name.clone().unwrap_or_default(), c.clone());
    }
}

fn labeled_node(labels: &[(&str, &str)]) -> Node {
    let mut b = make_node("host1");
    for (k, v) in labels {
        b = b.label(k, v);
    }
    b.obj()
}

const BZ: &str = "failure-domain.beta.kubernetes.io/zone";
const BR: &str = "failure-domain.beta.kubernetes.io/region";
const Z: &str = "topology.kubernetes.io/zone";
const R: &str = "topology.kubernetes.io/region";

fn zone_world(node: Node, pvs: Vec<(&str, Vec<(&str, &str)>)>, pvcs: Vec<(&str, &str)>) -> World {
    let mut w = World::new(vec![node], vec![]);
    let pvs: Vec<PersistentVolume> = pvs
        .into_iter()
        .map(|(n, l)| {
            let labels: serde_json::Map<String, Value> = l
                .into_iter()
                .map(|(k, v)| (k.to_owned(), json!(v)))
                .collect();
            pv(json!({"metadata": {"name": n, "labels": labels}}))
        })
        .collect();
    add_pvs(&mut w, &pvs);
    let pvcs: Vec<PersistentVolumeClaim> = pvcs
        .into_iter()
        .map(|(n, v)| pvc(n, json!({"volumeName": v})))
        .collect();
    add_pvcs(&mut w, &pvcs);
    w
}

fn zone_check(case: &str, w: &World, pod: &Pod, want_pre: &Status, want_filter: &Status) {
    let info = PodInfo::new(pod.clone()).expect("pod");
    let h = w.handle();
    let mut state = CycleState::new();
    let pre = VolumeZone
        .as_pre_filter()
        .expect("pf")
        .pre_filter(&h, &mut state, &info)
        .1;
    assert_status(case, &pre, want_pre);
    // Upstream's test runs Filter whatever PreFilter said (Filter recomputes without state).
    let f = VolumeZone.as_filter().expect("f").filter(
        &h,
        &state,
        &info,
        w.snapshot.get("host1").expect("node"),
    );
    assert_status(case, &f, want_filter);
}

fn pod_with_volume(claim: &str) -> Pod {
    make_pod("pod_1").pvc(claim).obj()
}

/// Upstream: TestSingleZone.
#[test]
fn volume_zone_single_zone() {
    let pvs = || {
        vec![
            ("Vol_1", vec![(BZ, "us-west1-a")]),
            ("Vol_2", vec![(BR, "us-west1"), ("uselessLabel", "none")]),
            ("Vol_3", vec![(BR, "us-west1")]),
            ("Vol_Stable_1", vec![(Z, "us-west1-a")]),
            (
                "Vol_Stable_2",
                vec![(R, "us-west1"), ("uselessLabel", "none")],
            ),
            ("Vol_Stable_3", vec![(Z, "us-west1-a"), (R, "us-west1-a")]),
        ]
    };
    let pvcs = || {
        vec![
            ("PVC_1", "Vol_1"),
            ("PVC_2", "Vol_2"),
            ("PVC_3", "Vol_3"),
            ("PVC_4", "Vol_not_exist"),
            ("PVC_Stable_1", "Vol_Stable_1"),
            ("PVC_Stable_2", "Vol_Stable_2"),
            ("PVC_Stable_3", "Vol_Stable_3"),
        ]
    };
    let conflict = uau(ERR_REASON_CONFLICT);
    let cases: Vec<(&str, Pod, Vec<(&str, &str)>, Status, Status)> = vec![
        (
            "pod without volume",
            make_pod("pod_1").obj(),
            vec![(BZ, "us-west1-a")],
            skip(),
            ok(),
        ),
        (
            "node without labels",
            pod_with_volume("PVC_1"),
            vec![],
            ok(),
            ok(),
        ),
        (
            "beta zone label matched",
            pod_with_volume("PVC_1"),
            vec![(BZ, "us-west1-a"), ("uselessLabel", "none")],
            ok(),
            ok(),
        ),
        (
            "beta region label matched",
            pod_with_volume("PVC_2"),
            vec![(BR, "us-west1"), ("uselessLabel", "none")],
            ok(),
            ok(),
        ),
        (
            "beta region label doesn't match",
            pod_with_volume("PVC_2"),
            vec![(BR, "no_us-west1"), ("uselessLabel", "none")],
            ok(),
            conflict.clone(),
        ),
        (
            "beta zone label doesn't match",
            pod_with_volume("PVC_1"),
            vec![(BZ, "no_us-west1-a"), ("uselessLabel", "none")],
            ok(),
            conflict.clone(),
        ),
        (
            "zone label matched",
            pod_with_volume("PVC_Stable_1"),
            vec![(Z, "us-west1-a"), ("uselessLabel", "none")],
            ok(),
            ok(),
        ),
        (
            "region label matched",
            pod_with_volume("PVC_Stable_2"),
            vec![(R, "us-west1"), ("uselessLabel", "none")],
            ok(),
            ok(),
        ),
        (
            "region label doesn't match",
            pod_with_volume("PVC_Stable_2"),
            vec![(R, "no_us-west1"), ("uselessLabel", "none")],
            ok(),
            conflict.clone(),
        ),
        (
            "zone label doesn't match",
            pod_with_volume("PVC_Stable_1"),
            vec![(Z, "no_us-west1-a"), ("uselessLabel", "none")],
            ok(),
            conflict.clone(),
        ),
        (
            "pv with zone and region, node with only zone",
            pod_with_volume("PVC_Stable_3"),
            vec![(Z, "us-west1-a")],
            ok(),
            conflict.clone(),
        ),
        (
            "pv with zone,node with beta zone",
            pod_with_volume("PVC_Stable_1"),
            vec![(BZ, "us-west1-a")],
            ok(),
            conflict.clone(),
        ),
        (
            "pv with beta label,node with ga label, matched",
            pod_with_volume("PVC_1"),
            vec![(Z, "us-west1-a")],
            ok(),
            ok(),
        ),
        (
            "pv with beta label,node with ga label, don't match",
            pod_with_volume("PVC_1"),
            vec![(Z, "us-west1-b")],
            ok(),
            conflict.clone(),
        ),
    ];
    for (case, pod, node_labels, want_pre, want_filter) in cases {
        let w = zone_world(labeled_node(&node_labels), pvs(), pvcs());
        zone_check(case, &w, &pod, &want_pre, &want_filter);
    }
}

/// Upstream: TestMultiZone.
#[test]
fn volume_zone_multi_zone() {
    let pvs = || {
        vec![
            ("Vol_1", vec![(BZ, "us-west1-a")]),
            ("Vol_2", vec![(BZ, "us-west1-b"), ("uselessLabel", "none")]),
            ("Vol_3", vec![(BZ, "us-west1-c__us-west1-a")]),
            ("Vol_Stable_1", vec![(Z, "us-west1-a")]),
            ("Vol_Stable_2", vec![(Z, "us-west1-c__us-west1-a")]),
        ]
    };
    let pvcs = || {
        vec![
            ("PVC_1", "Vol_1"),
            ("PVC_2", "Vol_2"),
            ("PVC_3", "Vol_3"),
            ("PVC_4", "Vol_not_exist"),
            ("PVC_Stable_1", "Vol_Stable_1"),
            ("PVC_Stable_2", "Vol_Stable_2"),
        ]
    };
    let conflict = uau(ERR_REASON_CONFLICT);
    let cases: Vec<(&str, &str, Vec<(&str, &str)>, Status)> = vec![
        ("node without labels", "PVC_3", vec![], ok()),
        (
            "beta zone label matched",
            "PVC_3",
            vec![(BZ, "us-west1-a"), ("uselessLabel", "none")],
            ok(),
        ),
        (
            "beta zone label doesn't match",
            "PVC_1",
            vec![(BZ, "us-west1-b"), ("uselessLabel", "none")],
            conflict.clone(),
        ),
        (
            "zone label matched",
            "PVC_Stable_2",
            vec![(Z, "us-west1-a"), ("uselessLabel", "none")],
            ok(),
        ),
        (
            "zone label doesn't match",
            "PVC_Stable_1",
            vec![(Z, "us-west1-b"), ("uselessLabel", "none")],
            conflict.clone(),
        ),
    ];
    for (case, claim, node_labels, want_filter) in cases {
        let w = zone_world(labeled_node(&node_labels), pvs(), pvcs());
        zone_check(case, &w, &pod_with_volume(claim), &ok(), &want_filter);
    }
}

fn sc(name: &str, extra: Value) -> StorageClass {
    let mut v = json!({"metadata": {"name": name}, "provisioner": "kubernetes.io/fake"});
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            m.insert(k.clone(), x.clone());
        }
    }
    obj(v)
}

/// Upstream: TestWithBinding.
#[test]
fn volume_zone_with_binding() {
    let mut w = zone_world(
        labeled_node(&[(BZ, "us-west1-a"), ("uselessLabel", "none")]),
        vec![("Vol_1", vec![(BZ, "us-west1-a")])],
        vec![("PVC_1", "Vol_1")],
    );
    add_pvcs(
        &mut w,
        &[
            pvc("PVC_NoSC", json!({"storageClassName": "Class_0"})),
            pvc("PVC_EmptySC", json!({})),
            pvc("PVC_WaitSC", json!({"storageClassName": "Class_Wait"})),
            pvc(
                "PVC_ImmediateSC",
                json!({"storageClassName": "Class_Immediate"}),
            ),
        ],
    );
    add_scs(
        &mut w,
        &[
            sc("Class_Immediate", json!({})),
            sc(
                "Class_Wait",
                json!({"volumeBindingMode": "WaitForFirstConsumer"}),
            ),
        ],
    );
    let no_name = uau("PersistentVolumeClaim had no pv name and storageClass name");
    let no_sc = uau("storageclass.storage.k8s.io \"Class_0\" not found");
    let no_mode = uau("VolumeBindingMode not set for StorageClass \"Class_Immediate\"");
    let cases: Vec<(&str, &str, Status, Status)> = vec![
        ("label zone failure domain matched", "PVC_1", ok(), ok()),
        (
            "unbound volume empty storage class",
            "PVC_EmptySC",
            no_name.clone(),
            no_name,
        ),
        (
            "unbound volume no storage class",
            "PVC_NoSC",
            no_sc.clone(),
            no_sc,
        ),
        (
            "unbound volume immediate binding mode",
            "PVC_ImmediateSC",
            no_mode.clone(),
            no_mode,
        ),
        (
            "unbound volume wait binding mode",
            "PVC_WaitSC",
            skip(),
            ok(),
        ),
    ];
    for (case, claim, want_pre, want_filter) in cases {
        zone_check(case, &w, &pod_with_volume(claim), &want_pre, &want_filter);
    }
}

const EBS: &str = "ebs.csi.aws.com";
const GCE: &str = "pd.csi.storage.gke.io";
const IN_TREE_EBS: &str = "kubernetes.io/aws-ebs";
const HOSTPATH: &str = "kubernetes.io/hostpath";

/// The listers of csi_test.go (`getFakeCSIPVLister`, `getFakeCSIPVCLister`,
/// `getFakeCSIStorageClassLister`, `getFakeCSINodeLister`).
fn csi_world(
    existing: Vec<Pod>,
    drivers: &[&str],
    max_vols: i32,
    limit_source: &str,
    migration: bool,
    extra_claims: Vec<PersistentVolumeClaim>,
) -> World {
    let mut w = node_with(existing);
    let mut pvs = Vec::new();
    let mut pvcs = Vec::new();
    for d in drivers {
        for j in 0..4 {
            let handle = format!("csi-{d}-{j}");
            let source = match *d {
                IN_TREE_EBS => json!({"awsElasticBlockStore": {"volumeID": handle}}),
                HOSTPATH => json!({"hostPath": {"path": "/tmp"}}),
                _ => json!({"csi": {"driver": d, "volumeHandle": handle}}),
            };
            pvs.push(pv(json!({"metadata": {"name": handle}, "spec": source})));
            pvcs.push(pvc(&handle, json!({"volumeName": handle})));
        }
    }
    pvcs.push(pvc("csi-4", json!({"storageClassName": "csi-sc"})));
    pvcs.push(pvc("csi-5", json!({})));
    pvcs.push(pvc(
        "csi-6",
        json!({"storageClassName": "csi-sc", "volumeName": "missing-in-action"}),
    ));
    pvcs.extend(extra_claims);
    add_pvs(&mut w, &pvs);
    add_pvcs(&mut w, &pvcs);
    let provisioner = drivers.first().copied().unwrap_or(EBS);
    add_scs(
        &mut w,
        &[obj(
            json!({"metadata": {"name": "csi-sc"}, "provisioner": provisioner}),
        )],
    );
    if !limit_source.is_empty() {
        let drivers: Vec<Value> = drivers
            .iter()
            .map(|d| {
                let mut e = json!({"name": d, "nodeID": "node"});
                if limit_source == "csinode" {
                    e["allocatable"] = json!({"count": max_vols});
                }
                e
            })
            .collect();
        let mut meta = json!({"name": "node"});
        if migration {
            meta["annotations"] =
                json!({"storage.alpha.kubernetes.io/migrated-plugins": IN_TREE_EBS});
        }
        let node: CSINode = obj(json!({"metadata": meta, "spec": {"drivers": drivers}}));
        w.objects.csi_nodes.insert("node".into(), node);
    }
    w
}

/// Upstream: TestCSILimits (cases without VolumeAttachments).
#[test]
fn csi_limits() {
    let pvc_pod = |claims: &[&str]| {
        let mut b = make_pod("p");
        for c in claims {
            b = b.pvc(c);
        }
        b.obj()
    };
    let running = pvc_pod(&["csi-ebs.csi.aws.com-3"]);
    let pending = pvc_pod(&["csi-4"]);
    let unbound2 = pvc_pod(&["csi-4"]);
    let missing_pv = pvc_pod(&["csi-6"]);
    let no_sc = pvc_pod(&["csi-5"]);
    let gce_two = pvc_pod(&["csi-pd.csi.storage.gke.io-1", "csi-pd.csi.storage.gke.io-2"]);
    let in_tree_one = pvc_pod(&["csi-kubernetes.io/aws-ebs-0"]);
    let in_tree_two = pvc_pod(&["csi-kubernetes.io/aws-ebs-1", "csi-kubernetes.io/aws-ebs-2"]);
    let ebs_one = pvc_pod(&["csi-ebs.csi.aws.com-0"]);
    let ebs_two = pvc_pod(&["csi-ebs.csi.aws.com-1", "csi-ebs.csi.aws.com-2"]);
    let non_migratable = pvc_pod(&["csi-kubernetes.io/hostpath-0"]);
    let inline = make_pod("p")
        .volume(vol(
            json!({"name": "v", "awsElasticBlockStore": {"volumeID": "aws-inline1"}}),
        ))
        .obj();
    let inline_same_id = make_pod("p")
        .volume(vol(
            json!({"name": "v", "awsElasticBlockStore": {"volumeID": "csi-ebs.csi.aws.com-1"}}),
        ))
        .obj();
    let config_and_secret = make_pod("p")
        .volume(vol(json!({"name": "a", "configMap": {}})))
        .volume(vol(json!({"name": "b", "secret": {}})))
        .obj();
    let pvc_with_config = make_pod("p")
        .volume(vol(json!({"name": "a", "configMap": {}})))
        .volume(vol(json!({"name": "b", "secret": {}})))
        .pvc("csi-ebs.csi.aws.com-0")
        .obj();
    let ephemeral: Pod = obj(json!({
        "metadata": {"name": "abc", "namespace": "test", "uid": "12345"},
        "spec": {"containers": [], "volumes": [{"name": "xyz", "ephemeral": {}}]}
    }));
    let eph_claim = |owned: bool| -> PersistentVolumeClaim {
        let mut meta = json!({"name": "abc-xyz", "namespace": "test"});
        if owned {
            meta["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Pod", "name": "abc", "uid": "12345", "controller": true}]);
        }
        obj(json!({"metadata": meta, "spec": {"storageClassName": "csi-sc"}}))
    };
    let exceeded = unsched(&[ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED]);
    let cases: Vec<(
        &str,
        Pod,
        Vec<Pod>,
        &[&str],
        i32,
        &str,
        bool,
        Vec<PersistentVolumeClaim>,
        Status,
        Status,
    )> = vec![
        (
            "fits when node volume limit >= new pods CSI volume",
            ebs_one.clone(),
            vec![running.clone(), ebs_two.clone()],
            &[EBS],
            4,
            "csinode",
            false,
            vec![],
            ok(),
            ok(),
        ),
        (
            "doesn't when node volume limit <= pods CSI volume",
            ebs_one.clone(),
            vec![running.clone(), ebs_two.clone()],
            &[EBS],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "should when driver does not support volume limits",
            ebs_one.clone(),
            vec![running.clone(), ebs_two.clone()],
            &[EBS],
            2,
            "csinode-with-no-limit",
            false,
            vec![],
            ok(),
            ok(),
        ),
        (
            "count pending PVCs towards volume limit <= pods CSI volume",
            ebs_one.clone(),
            vec![pending.clone(), ebs_two.clone()],
            &[EBS],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "count multiple pending pvcs towards volume limit >= pods CSI volume",
            ebs_one.clone(),
            vec![pending.clone(), unbound2.clone(), ebs_two.clone()],
            &[EBS],
            4,
            "csinode",
            false,
            vec![],
            ok(),
            ok(),
        ),
        (
            "should count PVCs with invalid PV name but valid SC",
            ebs_one.clone(),
            vec![missing_pv.clone(), ebs_two.clone()],
            &[EBS],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "don't count pvcs with missing SC towards volume limit",
            ebs_one.clone(),
            vec![running.clone(), no_sc.clone()],
            &[EBS],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            ok(),
        ),
        (
            "count pvcs with the same type towards volume limit",
            ebs_one.clone(),
            vec![gce_two.clone(), ebs_two.clone()],
            &[EBS, GCE],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "don't count pvcs with different type towards volume limit",
            gce_two.clone(),
            vec![ebs_two.clone(), running.clone()],
            &[EBS, GCE],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            ok(),
        ),
        (
            "should count in-tree volumes if migration is enabled",
            in_tree_one.clone(),
            vec![in_tree_two.clone()],
            &[IN_TREE_EBS, EBS],
            2,
            "csinode",
            true,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "nil csi node",
            inline.clone(),
            vec![in_tree_two.clone()],
            &[IN_TREE_EBS, EBS],
            0,
            "",
            true,
            vec![],
            ok(),
            ok(),
        ),
        (
            "should count unbound in-tree volumes if migration is enabled",
            pending.clone(),
            vec![in_tree_two.clone()],
            &[IN_TREE_EBS, EBS],
            2,
            "csinode",
            true,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "should not limit pod if volume used does not report limits",
            in_tree_one.clone(),
            vec![in_tree_two.clone()],
            &[IN_TREE_EBS, EBS],
            2,
            "csinode-with-no-limit",
            true,
            vec![],
            ok(),
            ok(),
        ),
        (
            "should not count non-migratable in-tree volumes",
            non_migratable.clone(),
            vec![ebs_two.clone()],
            &[HOSTPATH, EBS],
            2,
            "csinode",
            true,
            vec![],
            ok(),
            ok(),
        ),
        (
            "should count in-tree inline volumes if migration is enabled",
            inline.clone(),
            vec![in_tree_two.clone()],
            &[IN_TREE_EBS, EBS],
            2,
            "csinode",
            true,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "should count in-tree and csi volumes if migration is enabled (when scheduling in-tree volumes)",
            in_tree_one.clone(),
            vec![ebs_two.clone()],
            &[IN_TREE_EBS, EBS],
            2,
            "csinode",
            true,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "should count in-tree, inline and csi volumes if migration is enabled (when scheduling in-tree volumes)",
            inline.clone(),
            vec![ebs_two.clone(), in_tree_one.clone()],
            &[IN_TREE_EBS, EBS],
            3,
            "csinode",
            true,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "should not count in-tree, inline and csi volumes if migration is enabled (when scheduling in-tree volumes)",
            inline_same_id.clone(),
            vec![ebs_two.clone(), in_tree_one.clone()],
            &[IN_TREE_EBS, EBS],
            3,
            "csinode",
            true,
            vec![],
            ok(),
            ok(),
        ),
        (
            "should count in-tree and csi volumes if migration is enabled (when scheduling csi volumes)",
            ebs_one.clone(),
            vec![in_tree_two.clone()],
            &[IN_TREE_EBS, EBS],
            2,
            "csinode",
            true,
            vec![],
            ok(),
            exceeded.clone(),
        ),
        (
            "ephemeral volume missing",
            ephemeral.clone(),
            vec![],
            &[EBS],
            0,
            "csinode-with-no-limit",
            false,
            vec![],
            ok(),
            uau("looking up PVC test/abc-xyz: persistentvolumeclaim \"abc-xyz\" not found"),
        ),
        (
            "ephemeral volume not owned",
            ephemeral.clone(),
            vec![],
            &[EBS],
            0,
            "csinode-with-no-limit",
            false,
            vec![eph_claim(false)],
            ok(),
            st(
                Code::Error,
                &["PVC test/abc-xyz was not created for pod test/abc (pod is not owner)"],
            ),
        ),
        (
            "ephemeral volume unbound",
            ephemeral.clone(),
            vec![],
            &[EBS],
            0,
            "csinode-with-no-limit",
            false,
            vec![eph_claim(true)],
            ok(),
            ok(),
        ),
        (
            "ephemeral doesn't when node volume limit <= pods ephemeral CSI volume",
            ephemeral.clone(),
            vec![running.clone(), ebs_two.clone()],
            &[EBS],
            2,
            "csinode",
            false,
            vec![eph_claim(true)],
            ok(),
            exceeded.clone(),
        ),
        (
            "skip Filter when the pod only uses secrets and configmaps",
            config_and_secret,
            vec![],
            &[EBS],
            2,
            "csinode",
            false,
            vec![],
            skip(),
            ok(),
        ),
        (
            "don't skip Filter when the pod has pvcs",
            pvc_with_config,
            vec![],
            &[EBS],
            2,
            "csinode",
            false,
            vec![],
            ok(),
            ok(),
        ),
    ];
    for (case, p, existing, drivers, max, source, migration, extra, want_pre, want_filter) in cases
    {
        let w = csi_world(existing, drivers, max, source, migration, extra);
        let (pre, filter) = run(&w, &NodeVolumeLimits, &p, "node");
        assert_status(case, &pre, &want_pre);
        if let Some(f) = filter {
            assert_status(case, &f, &want_filter);
        }
    }
}

/// The helpers of volume_binding_test.go: `makePVC(name, class)` (optionally bound with
/// `withBoundPV`, i.e. volumeName + bind-completed) and `makePV(name, class)`.
fn binding_pvc(
    name: &str,
    class: &str,
    bound_pv: Option<&str>,
    extra: Value,
) -> PersistentVolumeClaim {
    let mut meta = json!({"name": name, "namespace": "default", "uid": format!("uid-{name}")});
    let mut spec = json!({"storageClassName": class});
    if let Some(pv) = bound_pv {
        spec["volumeName"] = json!(pv);
        meta["annotations"] = json!({"pv.kubernetes.io/bind-completed": "true"});
    }
    if let (Some(m), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    obj(json!({"metadata": meta, "spec": spec}))
}

fn binding_pv(
    name: &str,
    class: &str,
    phase: &str,
    affinity: Option<(&str, &str)>,
    capacity: Option<&str>,
) -> PersistentVolume {
    let mut spec = json!({"storageClassName": class});
    if let Some((k, v)) = affinity {
        spec["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": k, "operator": "In", "values": [v]}]}]}});
    }
    if let Some(c) = capacity {
        spec["capacity"] = json!({"storage": c});
    }
    obj(json!({"metadata": {"name": name}, "spec": spec, "status": {"phase": phase}}))
}

/// Upstream: TestVolumeBinding (PreFilter and Filter outcomes; scoring needs the
/// StorageCapacityScoring gate, off in 1.34) plus the allowed-topology and selected-node paths of
/// `checkVolumeProvisions` and `FindPodVolumes`.
#[test]
fn volume_binding() {
    let wait = || {
        sc(
            "wait-sc",
            json!({"volumeBindingMode": "WaitForFirstConsumer"}),
        )
    };
    let immediate = || sc("immediate-sc", json!({"volumeBindingMode": "Immediate"}));
    let topo = || {
        sc(
            "topo-sc",
            json!({"volumeBindingMode": "WaitForFirstConsumer", "allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]}]}),
        )
    };
    let no_prov = || {
        sc(
            "local-sc",
            json!({"volumeBindingMode": "WaitForFirstConsumer", "provisioner": "kubernetes.io/no-provisioner"}),
        )
    };
    let pod = |claims: &[&str]| {
        let mut b = make_pod("pod-a");
        for c in claims {
            b = b.pvc(c);
        }
        b.obj()
    };
    let node = |name: &str, labels: &[(&str, &str)]| {
        let mut b = make_node(name);
        for (k, v) in labels {
            b = b.label(k, v);
        }
        b.obj()
    };
    let host = "kubernetes.io/hostname";
    let cases: Vec<(
        &str,
        Pod,
        Vec<Node>,
        Vec<PersistentVolumeClaim>,
        Vec<PersistentVolume>,
        Status,
        Vec<Status>,
    )> = vec![
        (
            "pod has not pvcs",
            pod(&[]),
            vec![node("node-a", &[])],
            vec![],
            vec![],
            skip(),
            vec![],
        ),
        (
            "all bound",
            pod(&["pvc-a"]),
            vec![node("node-a", &[])],
            vec![binding_pvc("pvc-a", "wait-sc", Some("pv-a"), json!({}))],
            vec![binding_pv("pv-a", "wait-sc", "Available", None, None)],
            ok(),
            vec![ok()],
        ),
        (
            "all bound with local volumes",
            pod(&["pvc-a", "pvc-b"]),
            vec![
                node("node-a", &[(host, "node-a")]),
                node("node-b", &[(host, "node-b")]),
            ],
            vec![
                binding_pvc("pvc-a", "wait-sc", Some("pv-a"), json!({})),
                binding_pvc("pvc-b", "wait-sc", Some("pv-b"), json!({})),
            ],
            vec![
                binding_pv("pv-a", "wait-sc", "Bound", Some((host, "node-a")), None),
                binding_pv("pv-b", "wait-sc", "Bound", Some((host, "node-a")), None),
            ],
            ok(),
            vec![ok(), uau(ERR_REASON_NODE_CONFLICT)],
        ),
        (
            "PVC does not exist",
            pod(&["pvc-a"]),
            vec![node("node-a", &[])],
            vec![],
            vec![],
            uau("persistentvolumeclaim \"pvc-a\" not found"),
            vec![],
        ),
        (
            "Part of PVCs do not exist",
            pod(&["pvc-a", "pvc-b"]),
            vec![node("node-a", &[])],
            vec![binding_pvc("pvc-a", "wait-sc", Some("pv-a"), json!({}))],
            vec![],
            uau("persistentvolumeclaim \"pvc-b\" not found"),
            vec![],
        ),
        (
            "immediate claims not bound",
            pod(&["pvc-a"]),
            vec![node("node-a", &[])],
            vec![binding_pvc("pvc-a", "immediate-sc", None, json!({}))],
            vec![],
            uau(ERR_REASON_UNBOUND_IMMEDIATE),
            vec![],
        ),
        (
            "unbound claims no matches",
            pod(&["pvc-a"]),
            vec![node("node-a", &[])],
            vec![binding_pvc("pvc-a", "local-sc", None, json!({}))],
            vec![],
            ok(),
            vec![uau(ERR_REASON_BIND_CONFLICT)],
        ),
        (
            "bound and unbound unsatisfied",
            pod(&["pvc-a", "pvc-b"]),
            vec![node("node-a", &[("foo", "barbar")])],
            vec![
                binding_pvc("pvc-a", "local-sc", Some("pv-a"), json!({})),
                binding_pvc("pvc-b", "local-sc", None, json!({})),
            ],
            vec![binding_pv(
                "pv-a",
                "local-sc",
                "Available",
                Some(("foo", "bar")),
                None,
            )],
            ok(),
            vec![st(
                Code::UnschedulableAndUnresolvable,
                &[ERR_REASON_NODE_CONFLICT, ERR_REASON_BIND_CONFLICT],
            )],
        ),
        (
            "pv not found",
            pod(&["pvc-a"]),
            vec![node("node-a", &[])],
            vec![binding_pvc("pvc-a", "wait-sc", Some("pv-a"), json!({}))],
            vec![],
            ok(),
            vec![uau(ERR_REASON_PV_NOT_EXIST)],
        ),
        (
            "pv not found claim lost",
            pod(&["pvc-a"]),
            vec![node("node-a", &[])],
            vec![{
                let mut c = binding_pvc("pvc-a", "wait-sc", Some("pv-a"), json!({}));
                c.status = Some(obj(json!({"phase": "Lost"})));
                c
            }],
            vec![],
            uau("persistentvolumeclaim \"pvc-a\" bound to non-existent persistentvolume \"pv-a\""),
            vec![],
        ),
        (
            "local volumes with close capacity: the nodes with a big enough PV fit",
            pod(&["pvc-a"]),
            vec![
                node("node-a", &[(host, "node-a")]),
                node("node-b", &[(host, "node-b")]),
                node("node-c", &[(host, "node-c")]),
            ],
            vec![binding_pvc(
                "pvc-a",
                "local-sc",
                None,
                json!({"resources": {"requests": {"storage": "50Gi"}}}),
            )],
            vec![
                binding_pv(
                    "pv-a-0",
                    "local-sc",
                    "Available",
                    Some((host, "node-a")),
                    Some("200Gi"),
                ),
                binding_pv(
                    "pv-a-1",
                    "local-sc",
                    "Available",
                    Some((host, "node-a")),
                    Some("200Gi"),
                ),
                binding_pv(
                    "pv-b-0",
                    "local-sc",
                    "Available",
                    Some((host, "node-b")),
                    Some("100Gi"),
                ),
                binding_pv(
                    "pv-b-1",
                    "local-sc",
                    "Available",
                    Some((host, "node-b")),
                    Some("100Gi"),
                ),
            ],
            ok(),
            vec![ok(), ok(), uau(ERR_REASON_BIND_CONFLICT)],
        ),
        (
            "dynamic provisioning honours allowedTopologies",
            pod(&["pvc-a"]),
            vec![
                node("node-a", &[("zone", "a")]),
                node("node-b", &[("zone", "b")]),
            ],
            vec![binding_pvc("pvc-a", "topo-sc", None, json!({}))],
            vec![],
            ok(),
            vec![ok(), uau(ERR_REASON_BIND_CONFLICT)],
        ),
        (
            "a claim with selected-node only fits that node",
            pod(&["pvc-a"]),
            vec![node("node-a", &[]), node("node-b", &[])],
            vec![{
                let mut c = binding_pvc("pvc-a", "wait-sc", None, json!({}));
                c.metadata.annotations = Some(
                    [(
                        "volume.kubernetes.io/selected-node".to_owned(),
                        "node-b".to_owned(),
                    )]
                    .into_iter()
                    .collect(),
                );
                c
            }],
            vec![],
            ok(),
            vec![uau(ERR_REASON_BIND_CONFLICT), ok()],
        ),
    ];
    for (case, p, nodes, pvcs, pvs, want_pre, want_filters) in cases {
        let names: Vec<String> = nodes
            .iter()
            .map(|n| n.metadata.name.clone().unwrap_or_default())
            .collect();
        let mut w = World::new(nodes, vec![]);
        add_pvcs(&mut w, &pvcs);
        add_pvs(&mut w, &pvs);
        add_scs(&mut w, &[wait(), immediate(), topo(), no_prov()]);
        let info = PodInfo::new(p.clone()).expect("pod");
        let h = w.handle();
        let mut state = CycleState::new();
        let pre = VolumeBinding
            .as_pre_filter()
            .expect("pf")
            .pre_filter(&h, &mut state, &info)
            .1;
        assert_status(case, &pre, &want_pre);
        if !pre.is_success() {
            continue;
        }
        for (name, want) in names.iter().zip(&want_filters) {
            let f = VolumeBinding.as_filter().expect("f").filter(
                &h,
                &state,
                &info,
                w.snapshot.get(name).expect("node"),
            );
            assert_status(&format!("{case} on {name}"), &f, want);
        }
        let ps = VolumeBinding
            .as_pre_score()
            .expect("ps")
            .pre_score(&h, &mut state, &info, &[]);
        assert!(
            ps.is_skip(),
            "{case}: PreScore skips without StorageCapacityScoring"
        );
    }
}
