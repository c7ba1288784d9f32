//! VolumeBinding: a pod's claims must be bound or bindable on the node. Bound claims need their
//! PV to exist and its node affinity to match; unbound claims of a `WaitForFirstConsumer` class
//! need an available matching PV (smallest fit) or a class that can provision there (allowed
//! topologies); unbound claims of an immediate class reject the pod at PreFilter. Reserve
//! assumes the chosen PVs and provisioning node; the scheduler applies them once the pod is bound
//! (see [`VolumeBindings`]), as the PV controller and provisioner would.
//!
//! Upstream: pkg/scheduler/framework/plugins/volumebinding/{volume_binding.go, binder.go},
//! staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go (`FindMatchingVolume`).
//!
//! Not modelled: CSIStorageCapacity (no CSIDriver objects are loaded, so capacity is always
//! sufficient, as upstream without a driver that reports capacity), in-tree PV translation to
//! CSI for node affinity, and the StorageCapacityScoring score (gate off in 1.34: PreScore skips).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kubetwin_core::labels::Selector;

use crate::cycle_state::CycleState;
use crate::framework::{
    FilterPlugin, Handle, Plugin, PreBindPlugin, PreFilterPlugin, PreFilterResult, PreScorePlugin,
    ReservePlugin, ScorePlugin,
};
use crate::helpers::storage::{
    ANN_BIND_COMPLETED, ANN_SELECTED_NODE, NOT_SUPPORTED_PROVISIONER, PVC_RESOURCE, annotation,
    check_node_affinity, ephemeral_volume_is_for_pod, has_annotation, is_delay_binding_mode,
    match_topology_selector_terms, not_found, pv_capacity, pv_class, pvc_class, pvc_volume_name,
    requested_storage, volume_claim,
};
use crate::objects::ClusterObjects;
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// No PV can be bound on the node (`ErrReasonBindConflict`).
pub const ERR_REASON_BIND_CONFLICT: &str =
    "node(s) didn't find available persistent volumes to bind";
/// A bound PV's node affinity excludes the node (`ErrReasonNodeConflict`).
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) didn't match PersistentVolume's node affinity";
/// Not enough storage capacity (`ErrReasonNotEnoughSpace`).
pub const ERR_REASON_NOT_ENOUGH_SPACE: &str = "node(s) did not have enough free storage";
/// A bound claim's PV does not exist (`ErrReasonPVNotExist`).
pub const ERR_REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// PreFilter rejection for unbound claims of an immediate class.
pub const ERR_REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// The cycle-state key of the bindings Reserve assumed.
pub const BINDINGS_STATE_KEY: &str = "VolumeBindingBindings";
const STATE_KEY: &str = "VolumeBinding";

/// The pod's claims, classified at PreFilter (`PodVolumeClaims`).
#[derive(Debug, Clone, Default)]
struct StateData {
    has_claims: bool,
    bound_claims: Vec<PersistentVolumeClaim>,
    unbound_claims_delay_binding: Vec<PersistentVolumeClaim>,
    /// PVs per storage class of the delayed claims, by name.
    unbound_volumes_delay_binding: BTreeMap<String, Vec<PersistentVolume>>,
}

/// What Reserve assumed for the chosen node: PVs to bind to claims and claims to provision
/// there. The scheduler applies these to its cluster objects after the pod is bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeBindings {
    /// The node.
    pub node: String,
    /// (PV name, claim `namespace/name`) pairs to bind.
    pub static_bindings: Vec<(String, String)>,
    /// Claims (`namespace/name`) to provision on the node.
    pub provisions: Vec<String>,
}

/// The node-specific outcome of `FindPodVolumes`.
#[derive(Debug, Default)]
struct PodVolumes {
    static_bindings: Vec<(String, String)>,
    provisions: Vec<String>,
}

/// The VolumeBinding plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeBinding;

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        names::VOLUME_BINDING
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
    fn as_reserve(&self) -> Option<&dyn ReservePlugin> {
        Some(self)
    }
    fn as_pre_bind(&self) -> Option<&dyn PreBindPlugin> {
        Some(self)
    }
}

fn claim_key(pvc: &PersistentVolumeClaim) -> String {
    format!(
        "{}/{}",
        pvc.metadata.namespace.as_deref().unwrap_or(""),
        pvc.metadata.name.as_deref().unwrap_or("")
    )
}

/// Whether the claim is bound and the binding completed (`isPVCFullyBound`).
fn is_pvc_fully_bound(pvc: &PersistentVolumeClaim) -> bool {
    !pvc_volume_name(pvc).is_empty() && has_annotation(&pvc.metadata, ANN_BIND_COMPLETED)
}

/// Whether the PV is pre-bound or bound to the claim (`IsVolumeBoundToClaim`).
fn is_volume_bound_to_claim(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    if r.name.as_deref() != pvc.metadata.name.as_deref()
        || r.namespace.as_deref() != pvc.metadata.namespace.as_deref()
    {
        return false;
    }
    let ref_uid = r.uid.as_deref().unwrap_or("");
    ref_uid.is_empty() || Some(ref_uid) == pvc.metadata.uid.as_deref()
}

/// Whether the claim and the volume ask for different volume modes (`CheckVolumeModeMismatches`).
fn volume_mode_mismatch(pvc: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let want = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_mode.as_deref())
        .unwrap_or("Filesystem");
    let have = pv
        .spec
        .as_ref()
        .and_then(|s| s.volume_mode.as_deref())
        .unwrap_or("Filesystem");
    want != have
}

/// Whether the volume offers every access mode the claim asks for (`CheckAccessModes`).
fn check_access_modes(pvc: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let have: BTreeSet<&str> = pv
        .spec
        .as_ref()
        .and_then(|s| s.access_modes.as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    pvc.spec
        .as_ref()
        .and_then(|s| s.access_modes.as_ref())
        .into_iter()
        .flatten()
        .all(|m| have.contains(m.as_str()))
}

/// The best PV for the claim on the node: one already bound to it, else the smallest available
/// match (`FindMatchingVolume` with delayBinding and VolumeAttributesClass on, as in 1.34).
fn find_matching_volume<'a>(
    pvc: &PersistentVolumeClaim,
    volumes: &'a [PersistentVolume],
    node: &NodeInfo,
    excluded: &BTreeSet<String>,
) -> Result<Option<&'a PersistentVolume>, String> {
    let requested = requested_storage(pvc);
    let class = pvc_class(pvc);
    let selector = match pvc.spec.as_ref().and_then(|s| s.selector.as_ref()) {
        Some(sel) => Some(Selector::from_label_selector(Some(sel)).map_err(|e| {
            format!(
                "error creating internal label selector for claim: {}: {e}",
                claim_key(pvc)
            )
        })?),
        None => None,
    };
    let claim_vac = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_attributes_class_name.as_deref())
        .unwrap_or("");
    let mut smallest: Option<(&PersistentVolume, kubetwin_core::quantity::Quantity)> = None;
    for pv in volumes {
        let name = pv.metadata.name.as_deref().unwrap_or("");
        if excluded.contains(name) {
            continue;
        }
        let spec = pv.spec.as_ref();
        if spec.and_then(|s| s.claim_ref.as_ref()).is_some() && !is_volume_bound_to_claim(pv, pvc) {
            continue;
        }
        let capacity = pv_capacity(pv);
        if capacity < requested {
            continue;
        }
        if volume_mode_mismatch(pvc, pv) {
            continue;
        }
        let volume_vac = spec
            .and_then(|s| s.volume_attributes_class_name.as_deref())
            .unwrap_or("");
        if claim_vac != volume_vac {
            continue;
        }
        if pv.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let node_affinity_valid = check_node_affinity(pv, &node.node.labels);
        if is_volume_bound_to_claim(pv, pvc) {
            return Ok(node_affinity_valid.then_some(pv));
        }
        let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
        if phase != Some("Available") {
            continue;
        }
        if let Some(sel) = &selector {
            let labels = pv.metadata.labels.clone().unwrap_or_default();
            if !sel.matches(&labels) {
                continue;
            }
        }
        if pv_class(pv) != class || !node_affinity_valid || !check_access_modes(pvc, pv) {
            continue;
        }
        if smallest.as_ref().is_none_or(|(_, q)| *q > capacity) {
            smallest = Some((pv, capacity));
        }
    }
    Ok(smallest.map(|(pv, _)| pv))
}

/// `FindPodVolumes`: the bindings on the node, or the reasons it cannot host the claims.
fn find_pod_volumes(
    objects: &ClusterObjects,
    s: &StateData,
    node: &NodeInfo,
) -> Result<(PodVolumes, Vec<&'static str>), String> {
    let mut out = PodVolumes::default();
    let mut bound_satisfied = true;
    let mut unbound_satisfied = true;
    let sufficient_storage = true;
    let mut bound_pvs_found = true;
    'check: {
        // Upstream: checkBoundClaims.
        for pvc in &s.bound_claims {
            let Some(pv) = objects.persistent_volumes.get(pvc_volume_name(pvc)) else {
                bound_pvs_found = false;
                break;
            };
            if !check_node_affinity(pv, &node.node.labels) {
                bound_satisfied = false;
                break;
            }
        }
        if s.unbound_claims_delay_binding.is_empty() {
            break 'check;
        }
        let mut to_match: Vec<&PersistentVolumeClaim> = Vec::new();
        let mut to_provision: Vec<&PersistentVolumeClaim> = Vec::new();
        for pvc in &s.unbound_claims_delay_binding {
            match annotation(&pvc.metadata, ANN_SELECTED_NODE) {
                Some(selected) if selected != node.name() => {
                    unbound_satisfied = false;
                    break 'check;
                }
                Some(_) => to_provision.push(pvc),
                None => to_match.push(pvc),
            }
        }
        if !to_match.is_empty() {
            // Upstream: findMatchingVolumes, smallest claims first (a stable sort here).
            to_match.sort_by_key(|p| requested_storage(p));
            let mut chosen = BTreeSet::new();
            let empty = Vec::new();
            for pvc in to_match {
                let pvs = s
                    .unbound_volumes_delay_binding
                    .get(&pvc_class(pvc))
                    .unwrap_or(&empty);
                match find_matching_volume(pvc, pvs, node, &chosen)? {
                    Some(pv) => {
                        let name = pv.metadata.name.clone().unwrap_or_default();
                        chosen.insert(name.clone());
                        out.static_bindings.push((name, claim_key(pvc)));
                    }
                    None => {
                        unbound_satisfied = false;
                        to_provision.push(pvc);
                    }
                }
            }
        }
        if !to_provision.is_empty() {
            // Upstream: checkVolumeProvisions.
            unbound_satisfied = true;
            for pvc in to_provision {
                let class_name = pvc_class(pvc);
                if class_name.is_empty() {
                    return Err(format!("no class for claim {:?}", claim_key(pvc)));
                }
                let Some(class) = objects.storage_classes.get(&class_name) else {
                    return Err(format!("failed to find storage class {class_name:?}"));
                };
                if class.provisioner.is_empty() || class.provisioner == NOT_SUPPORTED_PROVISIONER {
                    unbound_satisfied = false;
                    break 'check;
                }
                let terms = class.allowed_topologies.as_deref().unwrap_or_default();
                if !match_topology_selector_terms(terms, &node.node.labels) {
                    unbound_satisfied = false;
                    break 'check;
                }
                out.provisions.push(claim_key(pvc));
            }
        }
    }
    let mut reasons = Vec::new();
    if !bound_satisfied {
        reasons.push(ERR_REASON_NODE_CONFLICT);
    }
    if !unbound_satisfied {
        reasons.push(ERR_REASON_BIND_CONFLICT);
    }
    if !sufficient_storage {
        reasons.push(ERR_REASON_NOT_ENOUGH_SPACE);
    }
    if !bound_pvs_found {
        reasons.push(ERR_REASON_PV_NOT_EXIST);
    }
    Ok((out, reasons))
}

impl VolumeBinding {
    /// Whether the pod uses claims, checking that each exists and is usable (`podHasPVCs`).
    fn pod_has_pvcs(h: &Handle<'_>, pod: &PodInfo) -> Result<bool, String> {
        let mut has = false;
        let volumes = pod
            .spec()
            .and_then(|s| s.volumes.as_deref())
            .unwrap_or_default();
        for v in volumes {
            let Some((claim, ephemeral)) = volume_claim(&pod.pod, v) else {
                continue;
            };
            has = true;
            let Some(pvc) = h.objects.pvc(&pod.namespace, &claim) else {
                return Err(if ephemeral {
                    format!(
                        "waiting for ephemeral volume controller to create the persistentvolumeclaim {claim:?}"
                    )
                } else {
                    not_found(PVC_RESOURCE, &claim)
                });
            };
            if pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Lost") {
                return Err(format!(
                    "persistentvolumeclaim {claim:?} bound to non-existent persistentvolume {:?}",
                    pvc_volume_name(pvc)
                ));
            }
            if pvc.metadata.deletion_timestamp.is_some() {
                return Err(format!("persistentvolumeclaim {claim:?} is being deleted"));
            }
            if ephemeral {
                ephemeral_volume_is_for_pod(&pod.pod, pvc)?;
            }
        }
        Ok(has)
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        match Self::pod_has_pvcs(h, pod) {
            Err(msg) => {
                return (
                    None,
                    Status::with_reason(Code::UnschedulableAndUnresolvable, msg),
                );
            }
            Ok(false) => {
                state.write(STATE_KEY, StateData::default());
                return (None, Status::skip());
            }
            Ok(true) => {}
        }
        // Upstream: GetPodVolumeClaims.
        let mut s = StateData {
            has_claims: true,
            ..Default::default()
        };
        let mut immediate = 0usize;
        let volumes = pod
            .spec()
            .and_then(|sp| sp.volumes.as_deref())
            .unwrap_or_default();
        for v in volumes {
            let Some((claim, _)) = volume_claim(&pod.pod, v) else {
                continue;
            };
            let Some(pvc) = h.objects.pvc(&pod.namespace, &claim) else {
                return (
                    None,
                    Status::error(format!(
                        "error getting PVC \"{}/{claim}\": {}",
                        pod.namespace,
                        not_found(PVC_RESOURCE, &claim)
                    )),
                );
            };
            if is_pvc_fully_bound(pvc) {
                s.bound_claims.push(pvc.clone());
                continue;
            }
            let delay = match is_delay_binding_mode(pvc, h.objects) {
                Ok(d) => d,
                Err(e) => return (None, Status::error(e)),
            };
            if delay && pvc_volume_name(pvc).is_empty() {
                s.unbound_claims_delay_binding.push(pvc.clone());
            } else {
                immediate += 1;
            }
        }
        for pvc in &s.unbound_claims_delay_binding {
            let class = pvc_class(pvc);
            if s.unbound_volumes_delay_binding.contains_key(&class) {
                continue;
            }
            let pvs: Vec<PersistentVolume> = h
                .objects
                .persistent_volumes
                .values()
                .filter(|pv| pv_class(pv) == class)
                .cloned()
                .collect();
            s.unbound_volumes_delay_binding.insert(class, pvs);
        }
        if immediate > 0 {
            return (
                None,
                Status::with_static_reason(
                    Code::UnschedulableAndUnresolvable,
                    ERR_REASON_UNBOUND_IMMEDIATE,
                ),
            );
        }
        state.write(STATE_KEY, s);
        (None, Status::success())
    }
}

impl FilterPlugin for VolumeBinding {
    fn filter(
        &self,
        h: &Handle<'_>,
        state: &CycleState,
        _pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let Some(s) = state.read::<StateData>(STATE_KEY) else {
            return Status::error(format!("reading {STATE_KEY:?} from cycleState: not found"));
        };
        match find_pod_volumes(h.objects, s, node) {
            Err(e) => Status::error(e),
            Ok((_, reasons)) if reasons.is_empty() => Status::success(),
            Ok((_, reasons)) => Status::new(Code::UnschedulableAndUnresolvable, reasons),
        }
    }
}

impl PreScorePlugin for VolumeBinding {
    fn pre_score(
        &self,
        _h: &Handle<'_>,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
    ) -> Status {
        // The scorer exists only with StorageCapacityScoring (off in 1.34).
        Status::skip()
    }
}

impl ScorePlugin for VolumeBinding {
    fn score(
        &self,
        _h: &Handle<'_>,
        _state: &CycleState,
        _pod: &PodInfo,
        _node: &NodeInfo,
    ) -> Result<i64, Status> {
        Ok(0)
    }
}

impl ReservePlugin for VolumeBinding {
    fn reserve(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        _pod: &PodInfo,
        node: &str,
    ) -> Status {
        let Some(s) = state.read::<StateData>(STATE_KEY) else {
            return Status::error(format!("reading {STATE_KEY:?} from cycleState: not found"));
        };
        // Upstream keeps each node's PodVolumes from Filter; they are recomputed here (same
        // inputs, same result). All claims bound: nothing to do (`AssumePodVolumes`).
        if !s.has_claims || s.unbound_claims_delay_binding.is_empty() {
            return Status::success();
        }
        let Some(info) = h.snapshot.get(node) else {
            return Status::error(format!("node {node:?} not found"));
        };
        let volumes = match find_pod_volumes(h.objects, s, info) {
            Ok((v, reasons)) if reasons.is_empty() => v,
            Ok(_) => return Status::error(format!("no pod volume found for node {node:?}")),
            Err(e) => return Status::error(e),
        };
        state.write(
            BINDINGS_STATE_KEY,
            VolumeBindings {
                node: node.to_owned(),
                static_bindings: volumes.static_bindings,
                provisions: volumes.provisions,
            },
        );
        Status::success()
    }

    fn unreserve(&self, _h: &Handle<'_>, state: &mut CycleState, _pod: &PodInfo, _node: &str) {
        state.delete(BINDINGS_STATE_KEY);
    }
}

impl PreBindPlugin for VolumeBinding {
    fn pre_bind(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        _pod: &PodInfo,
        _node: &str,
    ) -> Status {
        // Upstream binds through the API and waits for the PV controller; the scheduler applies
        // the assumed bindings after Bind instead (`Scheduler::apply_volume_bindings`).
        if state.read::<VolumeBindings>(BINDINGS_STATE_KEY).is_none() {
            return Status::skip();
        }
        Status::success()
    }
}

/// Applies assumed bindings to the cluster objects as the PV controller and a provisioner
/// would: a bound PV gets the claim reference and phase Bound, its claim the volume name and the
/// `bind-completed` annotation; a claim to provision gets the `selected-node` annotation.
pub fn apply_volume_bindings(objects: &mut ClusterObjects, b: &VolumeBindings) {
    use crate::helpers::storage::ANN_BOUND_BY_CONTROLLER;
    use k8s_openapi::api::core::v1::PersistentVolumeClaimStatus;
    use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolumeStatus};
    for (pv_name, claim) in &b.static_bindings {
        let Some(pvc) = objects.persistent_volume_claims.get(claim).cloned() else {
            continue;
        };
        if let Some(pv) = objects.persistent_volumes.get_mut(pv_name) {
            let spec = pv.spec.get_or_insert_with(Default::default);
            let already = spec.claim_ref.as_ref().is_some_and(|r| {
                r.name.as_deref() == pvc.metadata.name.as_deref()
                    && r.namespace.as_deref() == pvc.metadata.namespace.as_deref()
            });
            spec.claim_ref = Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolumeClaim".into()),
                name: pvc.metadata.name.clone(),
                namespace: pvc.metadata.namespace.clone(),
                uid: pvc.metadata.uid.clone(),
                ..Default::default()
            });
            if !already {
                pv.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .entry(ANN_BOUND_BY_CONTROLLER.into())
                    .or_insert_with(|| "yes".into());
            }
            pv.status
                .get_or_insert_with(PersistentVolumeStatus::default)
                .phase = Some("Bound".into());
        }
        if let Some(pvc) = objects.persistent_volume_claims.get_mut(claim) {
            pvc.spec.get_or_insert_with(Default::default).volume_name = Some(pv_name.clone());
            let ann = pvc
                .metadata
                .annotations
                .get_or_insert_with(Default::default);
            ann.insert(ANN_BIND_COMPLETED.into(), "yes".into());
            ann.entry(ANN_BOUND_BY_CONTROLLER.into())
                .or_insert_with(|| "yes".into());
            pvc.status
                .get_or_insert_with(PersistentVolumeClaimStatus::default)
                .phase = Some("Bound".into());
        }
    }
    for claim in &b.provisions {
        if let Some(pvc) = objects.persistent_volume_claims.get_mut(claim) {
            pvc.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(ANN_SELECTED_NODE.into(), b.node.clone());
        }
    }
}
