//! VolumeZone: the zone and region labels of the PVs bound to a pod's claims must match the
//! node's (a PV label may list several zones joined by `__`); nodes without any topology label
//! accept everything.
//!
//! Upstream: pkg/scheduler/framework/plugins/volumezone/volume_zone.go,
//! staging/src/k8s.io/cloud-provider/volume/helpers/zones.go (`LabelZonesToSet`).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PersistentVolume;

use crate::cycle_state::CycleState;
use crate::framework::{FilterPlugin, Handle, Plugin, PreFilterPlugin, PreFilterResult};
use crate::helpers::storage::{
    PV_RESOURCE, PVC_RESOURCE, STORAGE_CLASS_RESOURCE, not_found, pvc_class, pvc_volume_name,
};
use crate::plugins::names;
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

/// The node's zone does not match the volume's (`ErrReasonConflict`).
pub const ERR_REASON_CONFLICT: &str = "node(s) had no available volume zone";
const PRE_FILTER_STATE_KEY: &str = "PreFilterVolumeZone";
const BETA_ZONE: &str = "failure-domain.beta.kubernetes.io/zone";
const BETA_REGION: &str = "failure-domain.beta.kubernetes.io/region";
const GA_ZONE: &str = "topology.kubernetes.io/zone";
const GA_REGION: &str = "topology.kubernetes.io/region";
/// The topology labels, in upstream's order (`topologyLabels`).
const TOPOLOGY_LABELS: [&str; 4] = [BETA_ZONE, BETA_REGION, GA_ZONE, GA_REGION];

/// One topology label of a PV (`pvTopology`).
#[derive(Debug, Clone)]
struct PvTopology {
    key: &'static str,
    values: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct PreFilterState(Vec<PvTopology>);

fn translate_to_ga_label(label: &str) -> &str {
    match label {
        BETA_REGION => GA_REGION,
        BETA_ZONE => GA_ZONE,
        other => other,
    }
}

/// Splits a label value on `__`; an empty element makes the label unusable
/// (`LabelZonesToSet`).
fn label_zones_to_set(value: &str) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for z in value.split("__") {
        let z = z.trim();
        if z.is_empty() {
            return None;
        }
        out.insert(z.to_owned());
    }
    Some(out)
}

fn pv_topologies(pv: &PersistentVolume) -> Vec<PvTopology> {
    let labels = pv.metadata.labels.as_ref();
    TOPOLOGY_LABELS
        .iter()
        .filter_map(|key| {
            let value = labels?.get(*key)?;
            // Unparsable values are ignored, as upstream (logged there).
            label_zones_to_set(value).map(|values| PvTopology { key, values })
        })
        .collect()
}

/// The VolumeZone plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeZone;

impl Plugin for VolumeZone {
    fn name(&self) -> &'static str {
        names::VOLUME_ZONE
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl VolumeZone {
    /// The topologies of the PVs bound to the pod's claims (`getPVbyPod`).
    fn pv_by_pod(h: &Handle<'_>, pod: &PodInfo) -> Result<Vec<PvTopology>, Status> {
        let uau = |msg: String| Status::with_reason(Code::UnschedulableAndUnresolvable, msg);
        let mut out = Vec::new();
        let claims = pod
            .spec()
            .and_then(|s| s.volumes.as_deref())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.persistent_volume_claim.as_ref());
        for c in claims {
            if c.claim_name.is_empty() {
                return Err(uau("PersistentVolumeClaim had no name".into()));
            }
            let Some(pvc) = h.objects.pvc(&pod.namespace, &c.claim_name) else {
                return Err(uau(not_found(PVC_RESOURCE, &c.claim_name)));
            };
            let pv_name = pvc_volume_name(pvc);
            if pv_name.is_empty() {
                let class = pvc_class(pvc);
                if class.is_empty() {
                    return Err(uau(
                        "PersistentVolumeClaim had no pv name and storageClass name".into(),
                    ));
                }
                let Some(sc) = h.objects.storage_classes.get(&class) else {
                    return Err(uau(not_found(STORAGE_CLASS_RESOURCE, &class)));
                };
                match sc.volume_binding_mode.as_deref() {
                    None => {
                        return Err(uau(format!(
                            "VolumeBindingMode not set for StorageClass {class:?}"
                        )));
                    }
                    // Unbound volumes of delayed binding are skipped.
                    Some("WaitForFirstConsumer") => continue,
                    Some(_) => return Err(uau("PersistentVolume had no name".into())),
                }
            }
            let Some(pv) = h.objects.persistent_volumes.get(pv_name) else {
                return Err(uau(not_found(PV_RESOURCE, pv_name)));
            };
            out.extend(pv_topologies(pv));
        }
        Ok(out)
    }
}

impl PreFilterPlugin for VolumeZone {
    fn pre_filter(
        &self,
        h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        match Self::pv_by_pod(h, pod) {
            Err(s) => (None, s),
            Ok(t) if t.is_empty() => (None, Status::skip()),
            Ok(t) => {
                state.write(PRE_FILTER_STATE_KEY, PreFilterState(t));
                (None, Status::success())
            }
        }
    }
}

impl FilterPlugin for VolumeZone {
    fn filter(&self, h: &Handle<'_>, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let has_volumes = pod
            .spec()
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|v| !v.is_empty());
        if !has_volumes {
            return Status::success();
        }
        let computed;
        let topologies = match state.read::<PreFilterState>(PRE_FILTER_STATE_KEY) {
            Some(s) => &s.0,
            None => {
                // Upstream falls back to computing the list here.
                computed = match Self::pv_by_pod(h, pod) {
                    Ok(t) => t,
                    Err(s) => return s,
                };
                &computed
            }
        };
        let labels = &node.node.labels;
        if !TOPOLOGY_LABELS.iter().any(|k| labels.contains_key(*k)) {
            return Status::success();
        }
        for t in topologies {
            let value = labels
                .get(t.key)
                .or_else(|| labels.get(translate_to_ga_label(t.key)));
            if !value.is_some_and(|v| t.values.contains(v)) {
                return Status::with_static_reason(
                    Code::UnschedulableAndUnresolvable,
                    ERR_REASON_CONFLICT,
                );
            }
        }
        Status::success()
    }
}
