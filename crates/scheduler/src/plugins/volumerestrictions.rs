//! VolumeRestrictions: a pod may not share a GCE PD, AWS EBS, RBD or iSCSI disk with a pod on the
//! node unless both mount it read-only (EBS: never), and a ReadWriteOncePod claim may be used by
//! one pod only in the whole cluster.
//!
//! Upstream: pkg/scheduler/framework/plugins/volumerestrictions/volume_restrictions.go.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, Volume};

use crate::cycle_state::CycleState;
use crate::framework::{FilterPlugin, Handle, Plugin, PreFilterPlugin, PreFilterResult};
use crate::helpers::storage::{PVC_RESOURCE, not_found};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// A disk is used by a pod on the node (`ErrReasonDiskConflict`).
pub const ERR_REASON_DISK_CONFLICT: &str = "node(s) had no available disk";
/// A ReadWriteOncePod claim is in use (`ErrReasonReadWriteOncePodConflict`).
pub const ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT: &str = "node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod";
const PRE_FILTER_STATE_KEY: &str = "PreFilterVolumeRestrictions";

#[derive(Debug, Clone)]
struct PreFilterState {
    /// Names of the pod's claims with the ReadWriteOncePod access mode.
    read_write_once_pod_pvcs: BTreeSet<String>,
    /// How many pods in the cluster use one of them.
    conflicting_pvc_ref_count: i64,
}

impl PreFilterState {
    fn conflicts_of(&self, pod: &PodInfo) -> i64 {
        let n = volumes(pod.pod.as_ref())
            .iter()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .filter(|c| self.read_write_once_pod_pvcs.contains(&c.claim_name))
            .count();
        i64::try_from(n).unwrap_or(i64::MAX)
    }
}

fn volumes(pod: &Pod) -> &[Volume] {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default()
}

/// Whether `volume` conflicts with a volume of `existing` (`isVolumeConflict`).
fn is_volume_conflict(volume: &Volume, existing: &Pod) -> bool {
    for ev in volumes(existing) {
        if let (Some(d), Some(e)) = (&volume.gce_persistent_disk, &ev.gce_persistent_disk)
            && d.pd_name == e.pd_name
            && !(d.read_only == Some(true) && e.read_only == Some(true))
        {
            return true;
        }
        if let (Some(d), Some(e)) = (&volume.aws_elastic_block_store, &ev.aws_elastic_block_store)
            && d.volume_id == e.volume_id
        {
            return true;
        }
        if let (Some(d), Some(e)) = (&volume.iscsi, &ev.iscsi)
            && d.iqn == e.iqn
            && !(d.read_only == Some(true) && e.read_only == Some(true))
        {
            return true;
        }
        if let (Some(d), Some(e)) = (&volume.rbd, &ev.rbd)
            && d.monitors.iter().any(|m| e.monitors.contains(m))
            && d.pool == e.pool
            && d.image == e.image
            && !(d.read_only == Some(true) && e.read_only == Some(true))
        {
            return true;
        }
    }
    false
}

/// Whether the volume is of a kind this plugin checks (`needsRestrictionsCheck`).
fn needs_restrictions_check(v: &Volume) -> bool {
    v.gce_persistent_disk.is_some()
        || v.aws_elastic_block_store.is_some()
        || v.rbd.is_some()
        || v.iscsi.is_some()
}

/// Whether no disk of the pod is used by a pod on the node (`satisfyVolumeConflicts`).
fn satisfy_volume_conflicts(pod: &Pod, node: &NodeInfo) -> bool {
    volumes(pod)
        .iter()
        .filter(|v| needs_restrictions_check(v))
        .all(|v| !node.pods.iter().any(|e| is_volume_conflict(v, &e.pod)))
}

/// The VolumeRestrictions plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeRestrictions;

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        names::VOLUME_RESTRICTIONS
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for VolumeRestrictions {
    fn pre_filter(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        let vols = volumes(&pod.pod);
        if vols.is_empty() {
            return (None, Status::skip());
        }
        let needs_check = vols.iter().any(needs_restrictions_check);
        // Upstream: readWriteOncePodPVCsForPod — every claim must exist.
        let mut rwop = BTreeSet::new();
        for c in vols
            .iter()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
        {
            let Some(pvc) = h.objects.pvc(&pod.namespace, &c.claim_name) else {
                return (
                    None,
                    Status::with_reason(
                        Code::UnschedulableAndUnresolvable,
                        not_found(PVC_RESOURCE, &c.claim_name),
                    ),
                );
            };
            let rwop_mode = pvc
                .spec
                .as_ref()
                .and_then(|s| s.access_modes.as_ref())
                .is_some_and(|m| m.iter().any(|x| x == "ReadWriteOncePod"));
            if rwop_mode {
                rwop.insert(c.claim_name.clone());
            }
        }
        // Upstream: calPreFilterState.
        let conflicting = rwop
            .iter()
            .filter(|name| {
                h.snapshot
                    .is_pvc_used_by_pods(&format!("{}/{}", pod.namespace, name))
            })
            .count();
        let s = PreFilterState {
            read_write_once_pod_pvcs: rwop,
            conflicting_pvc_ref_count: i64::try_from(conflicting).unwrap_or(i64::MAX),
        };
        if !needs_check && s.conflicting_pvc_ref_count == 0 {
            return (None, Status::skip());
        }
        state.write(PRE_FILTER_STATE_KEY, s);
        (None, Status::success())
    }

    fn has_extensions(&self) -> bool {
        true
    }

    fn add_pod(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        _pod: &PodInfo,
        to_add: &PodInfo,
        _node: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Some(s) => {
                s.conflicting_pvc_ref_count += s.conflicts_of(to_add);
                Status::success()
            }
            None => Status::error(format!(
                "cannot read {PRE_FILTER_STATE_KEY:?} from cycleState"
            )),
        }
    }

    fn remove_pod(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        _pod: &PodInfo,
        to_remove: &PodInfo,
        _node: &NodeInfo,
    ) -> Status {
        match state.read_mut::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Some(s) => {
                s.conflicting_pvc_ref_count -= s.conflicts_of(to_remove);
                Status::success()
            }
            None => Status::error(format!(
                "cannot read {PRE_FILTER_STATE_KEY:?} from cycleState"
            )),
        }
    }
}

impl FilterPlugin for VolumeRestrictions {
    fn filter(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        if !satisfy_volume_conflicts(&pod.pod, node) {
            return Status::with_static_reason(Code::Unschedulable, ERR_REASON_DISK_CONFLICT);
        }
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) else {
            return Status::error(format!(
                "cannot read {PRE_FILTER_STATE_KEY:?} from cycleState"
            ));
        };
        if s.conflicting_pvc_ref_count > 0 {
            return Status::with_static_reason(
                Code::Unschedulable,
                ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT,
            );
        }
        Status::success()
    }
}
