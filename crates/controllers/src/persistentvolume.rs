//! The PersistentVolume controller (binding claims and volumes) and the twin's simulated
//! external provisioner (creating a volume for a claim of its StorageClass, deleting it when
//! released), with the default StorageClass a cluster installer ships.
//!
//! Upstream: `pkg/controller/volume/persistentvolume/pv_controller.go` — `syncClaim` /
//! `syncUnboundClaim` (a volume pre-bound to the claim is bound; otherwise, for Immediate
//! classes, the smallest Available volume of the claim's class with the access modes and the
//! capacity (`findBestMatchForClaim`); WaitForFirstConsumer claims wait for the scheduler
//! (`WaitForFirstConsumer` event) or, once it chose a node, are provisioned; provisioning by an
//! external provisioner sets the `volume.kubernetes.io/storage-provisioner` annotations and
//! records `ExternalProvisioning`), `syncBoundClaim`, `bind` (volume claimRef, volume phase
//! Bound, claim volumeName with `pv.kubernetes.io/bind-completed` and
//! `pv.kubernetes.io/bound-by-controller`, claim phase Bound with capacity and access modes),
//! `syncVolume` (Available without a claim, Released when its claim is gone, then the reclaim
//! policy), periodic resync every 15 s (`--pvclaimbinder-sync-period`). The provisioner follows
//! `kubernetes-csi/external-provisioner` (`pvc-<claim uid>` volume names, the
//! `pv.kubernetes.io/provisioned-by` annotation, `Provisioning`/`ProvisioningSucceeded` events,
//! deletion of Released volumes with the Delete policy); its volumes are zonal, like cloud block
//! disks: node affinity to the zone of the node the scheduler selected.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubetwin_apiserver::error::ApiError;
use kubetwin_apiserver::local::{LocalClient, resource_of};
use kubetwin_apiserver::write::DeleteOptions;
use kubetwin_runtime::informer::{Event, WatchSpec};
use kubetwin_runtime::{Informer, SimTime, WorkQueue};
use serde_json::json;

use crate::util::{EventRecorder, SyncError, update_typed};

/// The provisioner (and CSI driver) name of the twin's simulated disks.
pub const SIMULATED_PROVISIONER: &str = "kubetwin.io/simulated-disk";
/// The default StorageClass's name (kind's and many installers' choice).
pub const DEFAULT_STORAGE_CLASS: &str = "standard";
/// `--pvclaimbinder-sync-period`.
pub const SYNC_PERIOD: Duration = Duration::from_secs(15);

const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
const ANN_PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
const ANN_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The default StorageClass of a simulated cluster: zonal disks bound when a pod first uses them.
pub fn default_storage_class() -> StorageClass {
    StorageClass {
        metadata: ObjectMeta {
            name: Some(DEFAULT_STORAGE_CLASS.into()),
            annotations: Some(BTreeMap::from([(ANN_DEFAULT_CLASS.into(), "true".into())])),
            ..ObjectMeta::default()
        },
        provisioner: SIMULATED_PROVISIONER.into(),
        reclaim_policy: Some("Delete".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        allow_volume_expansion: Some(true),
        ..StorageClass::default()
    }
}

/// Creates the default StorageClass unless one with its name exists.
pub async fn ensure_default_storage_class(client: &LocalClient) -> Result<(), SyncError> {
    match client.create_typed(&default_storage_class()).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(SyncError::Api(e)),
    }
}

fn claim_key(pvc: &PersistentVolumeClaim) -> String {
    format!(
        "{}/{}",
        pvc.metadata.namespace.as_deref().unwrap_or("default"),
        pvc.metadata.name.as_deref().unwrap_or("")
    )
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn class_of_claim(pvc: &PersistentVolumeClaim) -> &str {
    pvc.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

fn class_of_volume(pv: &PersistentVolume) -> &str {
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

fn volume_name(pvc: &PersistentVolumeClaim) -> Option<&str> {
    pvc.spec
        .as_ref()?
        .volume_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

fn claim_ref(pv: &PersistentVolume) -> Option<&ObjectReference> {
    pv.spec.as_ref()?.claim_ref.as_ref()
}

fn requested_storage(pvc: &PersistentVolumeClaim) -> Option<&Quantity> {
    pvc.spec
        .as_ref()?
        .resources
        .as_ref()?
        .requests
        .as_ref()?
        .get("storage")
}

fn bytes(q: Option<&Quantity>) -> i64 {
    q.and_then(|q| kubetwin_core::quantity::Quantity::parse(&q.0).ok())
        .map_or(0, |q| q.value())
}

/// Whether the volume is pre-bound to this claim (`IsVolumeBoundToClaim`: namespace and name
/// equal, and the uid equal when the reference has one).
pub fn is_volume_bound_to_claim(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let Some(r) = claim_ref(pv) else {
        return false;
    };
    r.name.as_deref() == pvc.metadata.name.as_deref()
        && r.namespace.as_deref() == pvc.metadata.namespace.as_deref()
        && r.uid
            .as_deref()
            .is_none_or(|uid| uid.is_empty() || Some(uid) == pvc.metadata.uid.as_deref())
}

/// `findBestMatchForClaim` (`pkg/controller/volume/persistentvolume/index.go` `findByClaim`):
/// a volume pre-bound to the claim wins; otherwise, unless binding is delayed, the smallest
/// unbound volume of the claim's class whose access modes include the claim's, with enough
/// capacity, the same volume mode, matching the claim's label selector, and not being deleted.
/// Ties go to the first by name.
pub fn find_best_match<'a>(
    pvc: &PersistentVolumeClaim,
    volumes: impl IntoIterator<Item = &'a PersistentVolume>,
    delay_binding: bool,
) -> Option<&'a PersistentVolume> {
    let spec = pvc.spec.as_ref();
    let wanted_modes: BTreeSet<&str> = spec
        .and_then(|s| s.access_modes.as_ref())
        .map(|m| m.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let request = bytes(requested_storage(pvc));
    let claim_mode = spec
        .and_then(|s| s.volume_mode.as_deref())
        .unwrap_or("Filesystem");
    let selector = spec
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| kubetwin_core::labels::Selector::from_label_selector(Some(s)).ok());
    let mut best: Option<(&PersistentVolume, i64)> = None;
    for pv in volumes {
        let Some(pv_spec) = pv.spec.as_ref() else {
            continue;
        };
        if is_volume_bound_to_claim(pv, pvc) {
            return Some(pv);
        }
        if delay_binding || claim_ref(pv).is_some() || pv.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if class_of_volume(pv) != class_of_claim(pvc) {
            continue;
        }
        let modes: BTreeSet<&str> = pv_spec
            .access_modes
            .as_ref()
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if !wanted_modes.is_subset(&modes) {
            continue;
        }
        if pv_spec.volume_mode.as_deref().unwrap_or("Filesystem") != claim_mode {
            continue;
        }
        if let Some(sel) = &selector {
            let labels = pv.metadata.labels.clone().unwrap_or_default();
            if !sel.matches(&labels) {
                continue;
            }
        }
        let size = bytes(pv_spec.capacity.as_ref().and_then(|c| c.get("storage")));
        if size < request {
            continue;
        }
        if best.is_none_or(|(_, s)| size < s) {
            best = Some((pv, size));
        }
    }
    best.map(|(pv, _)| pv)
}

/// The PersistentVolume controller and the simulated provisioner (one component here).
#[derive(Debug, Clone)]
pub struct PersistentVolumeController {
    client: LocalClient,
    time: SimTime,
    claims: Informer<PersistentVolumeClaim>,
    volumes: Informer<PersistentVolume>,
    classes: Informer<StorageClass>,
    claim_queue: WorkQueue<String>,
    volume_queue: WorkQueue<String>,
    binder_events: EventRecorder,
    provisioner_events: EventRecorder,
    /// (claim uid, reason) already reported, so resyncs don't repeat the same event.
    reported: Arc<Mutex<BTreeSet<(String, &'static str)>>>,
}

impl PersistentVolumeController {
    /// A controller with its own informers over claims, volumes and classes.
    pub fn new(client: LocalClient, time: SimTime) -> Result<Self, ApiError> {
        let this = Self {
            claims: Informer::new(
                client.clone(),
                resource_of::<PersistentVolumeClaim>()?,
                WatchSpec::default(),
                time.clone(),
            ),
            volumes: Informer::new(
                client.clone(),
                resource_of::<PersistentVolume>()?,
                WatchSpec::default(),
                time.clone(),
            ),
            classes: Informer::new(
                client.clone(),
                resource_of::<StorageClass>()?,
                WatchSpec::default(),
                time.clone(),
            ),
            claim_queue: WorkQueue::new(time.clone()),
            volume_queue: WorkQueue::new(time.clone()),
            binder_events: EventRecorder::new(
                client.clone(),
                "persistentvolume-controller",
                time.clone(),
            ),
            provisioner_events: EventRecorder::new(
                client.clone(),
                SIMULATED_PROVISIONER,
                time.clone(),
            ),
            reported: Arc::default(),
            client,
            time,
        };
        let queue = this.claim_queue.clone();
        this.claims
            .add_handler(Arc::new(move |e: &Event<PersistentVolumeClaim>| match e {
                Event::Added(c) | Event::Updated { new: c, .. } => queue.add(claim_key(c)),
                Event::Deleted(_) => {}
            }));
        let queue = this.volume_queue.clone();
        let claims = this.claim_queue.clone();
        this.volumes
            .add_handler(Arc::new(move |e: &Event<PersistentVolume>| {
                let (Event::Added(v) | Event::Updated { new: v, .. } | Event::Deleted(v)) = e;
                if let Some(r) = claim_ref(v) {
                    claims.add(format!(
                        "{}/{}",
                        r.namespace.as_deref().unwrap_or("default"),
                        r.name.as_deref().unwrap_or("")
                    ));
                }
                if !matches!(e, Event::Deleted(_)) {
                    queue.add(v.metadata.name.clone().unwrap_or_default());
                }
            }));
        // A deleted claim releases its volume.
        let volumes = this.volumes.clone();
        let queue = this.volume_queue.clone();
        this.claims
            .add_handler(Arc::new(move |e: &Event<PersistentVolumeClaim>| {
                if let Event::Deleted(c) = e
                    && let Some(v) = volume_name(c)
                    && volumes.get(v).is_some()
                {
                    queue.add(v.to_string());
                }
            }));
        Ok(this)
    }

    /// Starts the informers, then runs the claim and volume workers and the periodic resync.
    pub async fn run(self) {
        let informers = [
            self.claims.start(),
            self.volumes.start(),
            self.classes.start(),
        ];
        self.claims.wait_synced().await;
        self.volumes.wait_synced().await;
        self.classes.wait_synced().await;
        let claims = self.clone();
        let claim_worker = tokio::spawn(async move {
            while let Some(key) = claims.claim_queue.get().await {
                if let Err(e) = claims.sync_claim(&key).await {
                    tracing::debug!(claim = %key, error = %e, "claim sync failed; requeue");
                    claims.claim_queue.add_rate_limited(key.clone());
                } else {
                    claims.claim_queue.forget(&key);
                }
                claims.claim_queue.done(&key);
            }
        });
        let volumes = self.clone();
        let volume_worker = tokio::spawn(async move {
            while let Some(key) = volumes.volume_queue.get().await {
                if let Err(e) = volumes.sync_volume(&key).await {
                    tracing::debug!(volume = %key, error = %e, "volume sync failed; requeue");
                    volumes.volume_queue.add_rate_limited(key.clone());
                } else {
                    volumes.volume_queue.forget(&key);
                }
                volumes.volume_queue.done(&key);
            }
        });
        // `resync`: every claim and volume again each period.
        loop {
            self.time.sleep(SYNC_PERIOD).await;
            if claim_worker.is_finished() || volume_worker.is_finished() {
                break;
            }
            for key in self.claims.keys() {
                self.claim_queue.add(key);
            }
            for key in self.volumes.keys() {
                self.volume_queue.add(key);
            }
        }
        for informer in informers {
            informer.abort();
        }
    }

    fn report_once(&self, pvc: &PersistentVolumeClaim, reason: &'static str) -> bool {
        let uid = pvc.metadata.uid.clone().unwrap_or_default();
        self.reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((uid, reason))
    }

    fn class(&self, name: &str) -> Option<Arc<StorageClass>> {
        (!name.is_empty()).then(|| self.classes.get(name)).flatten()
    }

    /// `syncClaim`.
    pub async fn sync_claim(&self, key: &str) -> Result<(), SyncError> {
        let Some(pvc) = self.claims.get(key) else {
            self.reported
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(uid, _)| !uid.is_empty());
            return Ok(());
        };
        if pvc.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        match volume_name(&pvc) {
            None => self.sync_unbound_claim(&pvc).await,
            Some(name) => self.sync_bound_claim(&pvc, name).await,
        }
    }

    async fn sync_unbound_claim(&self, pvc: &PersistentVolumeClaim) -> Result<(), SyncError> {
        let class = self.class(class_of_claim(pvc));
        let delay = class
            .as_ref()
            .and_then(|c| c.volume_binding_mode.as_deref())
            == Some("WaitForFirstConsumer");
        let volumes = self.volumes.list();
        if let Some(pv) = find_best_match(pvc, volumes.iter().map(AsRef::as_ref), delay) {
            return self.bind(pv, pvc).await;
        }
        let selected = annotation(&pvc.metadata, ANN_SELECTED_NODE).is_some();
        if delay && !selected {
            if self.report_once(pvc, "WaitForFirstConsumer") {
                self.claim_event(
                    pvc,
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding",
                )
                .await;
            }
            return Ok(());
        }
        let Some(class) = class else {
            if self.report_once(pvc, "FailedBinding") {
                self.claim_event(
                    pvc,
                    "FailedBinding",
                    "no persistent volumes available for this claim and no storage class is set",
                )
                .await;
            }
            return Ok(());
        };
        // `provisionClaim` with an external provisioner: annotate, then wait for the volume.
        if annotation(&pvc.metadata, ANN_STORAGE_PROVISIONER) != Some(class.provisioner.as_str()) {
            let patch = json!({"metadata": {"annotations": {
                ANN_BETA_STORAGE_PROVISIONER: class.provisioner,
                ANN_STORAGE_PROVISIONER: class.provisioner,
            }}});
            let info = resource_of::<PersistentVolumeClaim>()?;
            let (ns, name) = key_parts(pvc);
            self.client
                .merge_patch_shared(info, Some(ns), name, "", &patch)
                .await?;
            if self.report_once(pvc, "ExternalProvisioning") {
                self.claim_event(
                    pvc,
                    "ExternalProvisioning",
                    &format!(
                        "Waiting for a volume to be created either by the external provisioner '{}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
                        class.provisioner
                    ),
                )
                .await;
            }
        }
        if class.provisioner == SIMULATED_PROVISIONER {
            self.provision(pvc, &class).await?;
        }
        Ok(())
    }

    async fn sync_bound_claim(
        &self,
        pvc: &PersistentVolumeClaim,
        volume: &str,
    ) -> Result<(), SyncError> {
        let Some(pv) = self.volumes.get(volume) else {
            let was_bound = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
            if was_bound {
                let mut lost = pvc.clone();
                lost.status.get_or_insert_with(Default::default).phase = Some("Lost".into());
                update_typed(&self.client, &lost, "status").await?;
                self.binder_events
                    .event(
                        "v1",
                        "PersistentVolumeClaim",
                        &pvc.metadata,
                        "Warning",
                        "ClaimLost",
                        "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
                    )
                    .await;
            }
            return Ok(());
        };
        match claim_ref(&pv) {
            None => self.bind(&pv, pvc).await,
            Some(_) if is_volume_bound_to_claim(&pv, pvc) => self.bind(&pv, pvc).await,
            Some(_) => {
                if self.report_once(pvc, "ClaimMisbound") {
                    self.binder_events
                        .event(
                            "v1",
                            "PersistentVolumeClaim",
                            &pvc.metadata,
                            "Warning",
                            "ClaimMisbound",
                            "Two claims are bound to the same volume, this one is bound incorrectly",
                        )
                        .await;
                }
                Ok(())
            }
        }
    }

    /// `bind`: each step only writes what differs, so a repeated sync is free.
    async fn bind(
        &self,
        pv: &PersistentVolume,
        pvc: &PersistentVolumeClaim,
    ) -> Result<(), SyncError> {
        let pv_name = pv.metadata.name.clone().unwrap_or_default();
        // 1. The volume's claim reference (`bindVolumeToClaim`).
        let mut volume = pv.clone();
        let needs_ref = claim_ref(pv).is_none_or(|r| r.uid.as_deref().is_none_or(str::is_empty));
        if needs_ref {
            let spec = volume
                .spec
                .get_or_insert_with(PersistentVolumeSpec::default);
            let set_by_us = spec.claim_ref.is_none();
            spec.claim_ref = Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolumeClaim".into()),
                namespace: pvc.metadata.namespace.clone(),
                name: pvc.metadata.name.clone(),
                uid: pvc.metadata.uid.clone(),
                resource_version: pvc.metadata.resource_version.clone(),
                field_path: None,
            });
            if set_by_us {
                volume
                    .metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
            }
            volume = update_typed(&self.client, &volume, "").await?;
        }
        // 2. The volume's phase.
        if volume.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound") {
            volume.status.get_or_insert_with(Default::default).phase = Some("Bound".into());
            update_typed(&self.client, &volume, "status").await?;
        }
        // 3. The claim's volume name and annotations (`bindClaimToVolume`).
        let mut claim = pvc.clone();
        let annotations = claim.metadata.annotations.clone().unwrap_or_default();
        let set_name = volume_name(pvc).is_none();
        if set_name || annotations.get(ANN_BIND_COMPLETED).map(String::as_str) != Some("yes") {
            claim.spec.get_or_insert_with(Default::default).volume_name = Some(pv_name.clone());
            let ann = claim.metadata.annotations.get_or_insert_with(BTreeMap::new);
            ann.insert(ANN_BIND_COMPLETED.into(), "yes".into());
            if set_name {
                ann.insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
            }
            claim = update_typed(&self.client, &claim, "").await?;
        }
        // 4. The claim's status.
        let status = claim.status.get_or_insert_with(Default::default);
        let capacity = volume.spec.as_ref().and_then(|s| s.capacity.clone());
        let modes = volume.spec.as_ref().and_then(|s| s.access_modes.clone());
        if status.phase.as_deref() != Some("Bound") || status.capacity != capacity {
            status.phase = Some("Bound".into());
            status.capacity = capacity;
            status.access_modes = modes;
            update_typed(&self.client, &claim, "status").await?;
        }
        Ok(())
    }

    /// `syncVolume`.
    pub async fn sync_volume(&self, name: &str) -> Result<(), SyncError> {
        let Some(pv) = self.volumes.get(name) else {
            return Ok(());
        };
        let phase = pv.status.as_ref().and_then(|s| s.phase.clone());
        let Some(r) = claim_ref(&pv) else {
            return self.set_volume_phase(&pv, "Available").await;
        };
        if r.uid.as_deref().is_none_or(str::is_empty) {
            // Pre-bound to a claim that may not exist yet: available to that claim only.
            return self.set_volume_phase(&pv, "Available").await;
        }
        let key = format!(
            "{}/{}",
            r.namespace.as_deref().unwrap_or("default"),
            r.name.as_deref().unwrap_or("")
        );
        let claim = self
            .claims
            .get(&key)
            .filter(|c| c.metadata.uid.as_deref() == r.uid.as_deref());
        match claim {
            Some(c) if volume_name(&c) == Some(name) => self.set_volume_phase(&pv, "Bound").await,
            Some(_) => {
                // The claim is not bound yet: its sync binds it.
                self.claim_queue.add(key);
                Ok(())
            }
            None if self.claims.get(&key).is_none() && self.live_claim_missing(&key)? => {
                if phase.as_deref() != Some("Released") && phase.as_deref() != Some("Failed") {
                    self.set_volume_phase(&pv, "Released").await?;
                }
                self.reclaim(&pv).await
            }
            None => Ok(()),
        }
    }

    /// The informer may lag: confirm with the API before releasing (upstream re-reads the
    /// claim from the server too).
    fn live_claim_missing(&self, key: &str) -> Result<bool, SyncError> {
        let info = resource_of::<PersistentVolumeClaim>()?;
        let Some((ns, name)) = key.split_once('/') else {
            return Ok(true);
        };
        match self.client.get(info, Some(ns), name) {
            Ok(_) => Ok(false),
            Err(e) if e.code == 404 => Ok(true),
            Err(e) => Err(SyncError::Api(e)),
        }
    }

    async fn set_volume_phase(&self, pv: &PersistentVolume, phase: &str) -> Result<(), SyncError> {
        if pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase) {
            return Ok(());
        }
        let mut volume = pv.clone();
        volume.status.get_or_insert_with(Default::default).phase = Some(phase.into());
        update_typed(&self.client, &volume, "status").await?;
        Ok(())
    }

    /// `reclaimVolume`: Retain keeps the volume; Delete has its provisioner delete it (ours
    /// does at once; foreign provisioners are not simulated, so their volumes stay Released).
    async fn reclaim(&self, pv: &PersistentVolume) -> Result<(), SyncError> {
        let policy = pv
            .spec
            .as_ref()
            .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
            .unwrap_or("Retain");
        let ours = annotation(&pv.metadata, ANN_PROVISIONED_BY) == Some(SIMULATED_PROVISIONER);
        if policy == "Delete" && ours && pv.metadata.deletion_timestamp.is_none() {
            let info = resource_of::<PersistentVolume>()?;
            let name = pv.metadata.name.as_deref().unwrap_or("");
            match self
                .client
                .delete(info, None, name, &DeleteOptions::default())
                .await
            {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(SyncError::Api(e)),
            }
        }
        Ok(())
    }

    /// The simulated external provisioner: a zonal volume for the claim, in the zone of the
    /// node the scheduler selected (or anywhere for Immediate classes).
    async fn provision(
        &self,
        pvc: &PersistentVolumeClaim,
        class: &StorageClass,
    ) -> Result<(), SyncError> {
        let uid = pvc.metadata.uid.clone().unwrap_or_default();
        let name = format!("pvc-{uid}");
        if self.volumes.get(&name).is_some() {
            return Ok(());
        }
        let zone = match annotation(&pvc.metadata, ANN_SELECTED_NODE) {
            Some(node) => match self.client.get_typed::<Node>(None, node) {
                Ok(n) => n
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(ZONE_LABEL).cloned()),
                Err(e) if e.code == 404 => None,
                Err(e) => return Err(SyncError::Api(e)),
            },
            None => None,
        };
        let (ns, claim_name) = key_parts(pvc);
        if self.report_once(pvc, "Provisioning") {
            self.claim_event_from(
                &self.provisioner_events,
                pvc,
                "Provisioning",
                &format!(
                    "External provisioner is provisioning volume for claim \"{ns}/{claim_name}\""
                ),
            )
            .await;
        }
        let spec = pvc.spec.clone().unwrap_or_default();
        let mut volume = json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {ANN_PROVISIONED_BY: SIMULATED_PROVISIONER}},
            "spec": {
                "capacity": {"storage": requested_storage(pvc).map_or("1Gi", |q| q.0.as_str())},
                "accessModes": spec.access_modes.unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
                "persistentVolumeReclaimPolicy": class.reclaim_policy.clone().unwrap_or_else(|| "Delete".into()),
                "storageClassName": class.metadata.name,
                "volumeMode": spec.volume_mode.unwrap_or_else(|| "Filesystem".into()),
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns,
                             "name": claim_name, "uid": uid,
                             "resourceVersion": pvc.metadata.resource_version},
                "csi": {"driver": SIMULATED_PROVISIONER, "volumeHandle": format!("vol-{uid}"), "fsType": "ext4"},
            },
        });
        if let Some(options) = &class.mount_options {
            volume["spec"]["mountOptions"] = json!(options);
        }
        if let Some(zone) = zone {
            volume["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [zone]}]}
            ]}});
        }
        let info = resource_of::<PersistentVolume>()?;
        match self.client.create(info, None, volume).await {
            Ok(_) => {
                self.claim_event_from(
                    &self.provisioner_events,
                    pvc,
                    "ProvisioningSucceeded",
                    &format!("Successfully provisioned volume {name}"),
                )
                .await;
                Ok(())
            }
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(SyncError::Api(e)),
        }
    }

    async fn claim_event(&self, pvc: &PersistentVolumeClaim, reason: &str, message: &str) {
        self.claim_event_from(&self.binder_events, pvc, reason, message)
            .await;
    }

    async fn claim_event_from(
        &self,
        recorder: &EventRecorder,
        pvc: &PersistentVolumeClaim,
        reason: &str,
        message: &str,
    ) {
        recorder
            .event(
                "v1",
                "PersistentVolumeClaim",
                &pvc.metadata,
                "Normal",
                reason,
                message,
            )
            .await;
    }
}

fn key_parts(pvc: &PersistentVolumeClaim) -> (&str, &str) {
    (
        pvc.metadata.namespace.as_deref().unwrap_or("default"),
        pvc.metadata.name.as_deref().unwrap_or(""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};

    fn pv(
        name: &str,
        class: &str,
        size: &str,
        modes: &[&str],
        bound_to: Option<(&str, &str)>,
    ) -> PersistentVolume {
        PersistentVolume {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeSpec {
                storage_class_name: Some(class.into()),
                capacity: Some(BTreeMap::from([("storage".into(), Quantity(size.into()))])),
                access_modes: Some(modes.iter().map(|m| (*m).to_string()).collect()),
                claim_ref: bound_to.map(|(ns, n)| ObjectReference {
                    namespace: Some(ns.into()),
                    name: Some(n.into()),
                    ..ObjectReference::default()
                }),
                ..PersistentVolumeSpec::default()
            }),
            status: None,
        }
    }

    fn pvc(class: &str, size: &str, modes: &[&str]) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("claim".into()),
                namespace: Some("ns".into()),
                uid: Some("uid-1".into()),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                storage_class_name: Some(class.into()),
                access_modes: Some(modes.iter().map(|m| (*m).to_string()).collect()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".into(), Quantity(size.into()))])),
                    ..VolumeResourceRequirements::default()
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            status: None,
        }
    }

    /// Upstream: `index_test.go` `TestMatchVolume` / `TestFindingPreboundVolumes` /
    /// `TestStorageObjectInUseProtectionFiltering` (the parts without selectors' edge cases):
    /// the smallest fitting volume of the class with the access modes; a pre-bound volume
    /// wins; bound volumes are skipped; delayed binding only takes pre-bound volumes.
    /// Each case: (name, claim (class, size, modes), delay, expected volume); the volume
    /// pre-bound to the claim is offered only in the cases that expect it.
    #[test]
    #[allow(clippy::type_complexity)]
    fn best_match_cases() {
        let volumes = [
            pv(
                "gce-pd-1",
                "",
                "1G",
                &["ReadWriteOnce", "ReadOnlyMany"],
                None,
            ),
            pv(
                "gce-pd-5",
                "",
                "5G",
                &["ReadWriteOnce", "ReadOnlyMany"],
                None,
            ),
            pv(
                "gce-pd-10",
                "",
                "10G",
                &["ReadWriteOnce", "ReadOnlyMany"],
                None,
            ),
            pv(
                "nfs-5",
                "",
                "5G",
                &["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"],
                None,
            ),
            pv(
                "nfs-1",
                "",
                "1G",
                &["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"],
                Some(("other", "claim")),
            ),
            pv("fast-1", "fast", "1G", &["ReadWriteOnce"], None),
            pv(
                "prebound",
                "slow",
                "1G",
                &["ReadWriteOnce"],
                Some(("ns", "claim")),
            ),
        ];
        let cases: Vec<(&str, (&str, &str, &[&str]), bool, Option<&str>)> = vec![
            (
                "smallest that fits",
                ("", "3G", &["ReadWriteOnce"]),
                false,
                Some("gce-pd-5"),
            ),
            (
                "exact size",
                ("", "1G", &["ReadWriteOnce"]),
                false,
                Some("gce-pd-1"),
            ),
            (
                "access modes narrow the choice",
                ("", "1G", &["ReadWriteMany"]),
                false,
                Some("nfs-5"),
            ),
            (
                "too big for every volume",
                ("", "20G", &["ReadWriteOnce"]),
                false,
                None,
            ),
            (
                "class must match",
                ("fast", "1G", &["ReadWriteOnce"]),
                false,
                Some("fast-1"),
            ),
            (
                "pre-bound volume wins over class and size",
                ("other-class", "100G", &["ReadWriteMany"]),
                false,
                Some("prebound"),
            ),
            (
                "delayed binding: only pre-bound",
                ("", "1G", &["ReadWriteOnce"]),
                true,
                Some("prebound"),
            ),
        ];
        for (name, (class, size, modes), delay, expected) in cases {
            let claim = pvc(class, size, modes);
            // The pre-bound volume takes part only in the cases about it.
            let with_prebound = expected == Some("prebound");
            let candidates = volumes
                .iter()
                .filter(|v| with_prebound || v.metadata.name.as_deref() != Some("prebound"));
            let got =
                find_best_match(&claim, candidates, delay).and_then(|v| v.metadata.name.as_deref());
            assert_eq!(got, expected, "{name}");
        }
        let claim = pvc("", "1G", &["ReadWriteOnce"]);
        let only_unbound: Vec<PersistentVolume> = volumes
            .iter()
            .filter(|v| v.metadata.name.as_deref() != Some("prebound"))
            .cloned()
            .collect();
        assert!(
            find_best_match(&claim, only_unbound.iter(), true).is_none(),
            "delayed binding never picks an unbound volume"
        );
    }
}
