//! The write verbs: create, update (PUT), patch, delete and deletecollection, with the
//! metadata rules of the real apiserver.
//!
//! Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/{create,update,patch,delete}.go`,
//! `staging/src/k8s.io/apiserver/pkg/registry/rest/{create,update,delete}.go`,
//! `staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`.

use std::sync::Arc;

use serde_json::{Value, json};

use kubetwin_core::validation::field::FieldError;

use crate::error::ApiError;
use crate::registry::{self, ResourceInfo};
use crate::request::Query;
use crate::storage::StorageError;
use crate::watch::SharedObject;
use crate::{ApiServer, convert, defaults, managed, object, typed};

/// `fieldValidation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop unknown fields silently.
    Ignore,
    /// Drop them and warn (the server default).
    Warn,
    /// Reject them with 400.
    Strict,
}

/// Options common to writes.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// The manager recorded when `fieldManager` is absent: the User-Agent up to its first `/`
    /// (`managedfields/internal/fieldmanager.go` `prefixFromUserAgent`).
    pub user_agent_manager: String,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// `force` (apply patches).
    pub force: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            field_manager: None,
            user_agent_manager: "unknown".into(),
            field_validation: FieldValidation::Warn,
            force: false,
        }
    }
}

impl WriteOptions {
    /// Parses write options from the query string.
    pub fn parse(query: &Query) -> Result<Self, ApiError> {
        let dry_run = match query.get("dryRun") {
            None | Some("") => false,
            Some("All") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid dryRun value: dryRun: Unsupported value: \"{other}\": supported values: \"All\""
                )));
            }
        };
        let field_validation = match query.get("fieldValidation") {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Ignore") => FieldValidation::Ignore,
            Some("Strict") => FieldValidation::Strict,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "invalid fieldValidation directive: {other}"
                )));
            }
        };
        let force = query.flag("force");
        Ok(Self {
            dry_run,
            field_manager: query.get("fieldManager").map(str::to_string),
            user_agent_manager: "unknown".into(),
            field_validation,
            force,
        })
    }
}

impl WriteOptions {
    /// Sets the fallback manager from a User-Agent header.
    pub fn with_user_agent(mut self, user_agent: Option<&str>) -> Self {
        if let Some(ua) = user_agent.filter(|u| !u.is_empty()) {
            let prefix: String = ua
                .split('/')
                .next()
                .unwrap_or(ua)
                .chars()
                .take(128)
                .collect();
            self.user_agent_manager = prefix;
        }
        self
    }

    /// The manager that owns what this write changes.
    pub fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.user_agent_manager)
    }
}

fn part_of(info: &ResourceInfo, subresource: &str) -> managed::Part {
    if subresource == "status" {
        managed::Part::Status
    } else {
        managed::Part::Main {
            status_is_subresource: info.has_status_subresource(),
        }
    }
}

/// The result of a write.
#[derive(Debug, Clone)]
pub struct WriteOutcome {
    /// The object as stored (or as it would be, for dry runs), with its resourceVersion; shared
    /// with the watches that deliver the change (the write copies nothing for them).
    pub object: Arc<SharedObject>,
    /// `Warning` headers to send.
    pub warnings: Vec<String>,
    /// Whether the write created the object (201 rather than 200).
    pub created: bool,
}

/// Parses a request body (JSON, or YAML for YAML content types) into an object.
pub fn parse_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let value: Value = match essence.as_str() {
        ""
        | "application/json"
        | "*/*"
        | "application/merge-patch+json"
        | "application/strategic-merge-patch+json"
        | "application/json-patch+json" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?,
        // kubectl's typed clients (create namespace, drain, …) send protobuf.
        "application/vnd.kubernetes.protobuf" => kubetwin_protobuf::decode_to_json(body)
            .map_err(|e| ApiError::bad_request(format!("failed to decode protobuf body: {e}")))?,
        "application/yaml" | "application/apply-patch+yaml" | "text/yaml" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("the body of the request is not valid UTF-8"))?;
            serde_saphyr::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))?
        }
        _ => {
            return Err(ApiError::unsupported_media_type(&[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ]));
        }
    };
    Ok(value)
}

impl ApiServer {
    fn check_kind(&self, info: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(format!(
                "couldn't get version/kind; json parse error: expected an object, got {}",
                type_name(obj)
            )));
        }
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !api_version.is_empty() && api_version != info.api_version() {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version ({})",
                info.api_version()
            )));
        }
        if !kind.is_empty() && kind != info.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({}) for {}",
                info.kind,
                info.qualified_resource()
            )));
        }
        obj["apiVersion"] = json!(info.api_version());
        obj["kind"] = json!(info.kind);
        Ok(())
    }

    /// Decodes through the type: unknown fields are dropped (and rejected under Strict).
    fn decode_typed(
        &self,
        info: &ResourceInfo,
        obj: Value,
        opts: &WriteOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Value, ApiError> {
        let decoded = typed::decode(info.group, info.kind, obj);
        Self::check_decoded(info, decoded, opts, warnings)
    }

    /// [`Self::decode_typed`] for an update of `current`: only what changed goes through the
    /// type (the stored object went through it when it was written), with the same outcome.
    fn decode_typed_update(
        &self,
        info: &ResourceInfo,
        current: &Value,
        obj: Value,
        same_outside_status: bool,
        opts: &WriteOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Value, ApiError> {
        let only = same_outside_status.then_some("status");
        let decoded = typed::decode_update_within(info.group, info.kind, current, obj, only);
        Self::check_decoded(info, decoded, opts, warnings)
    }

    /// The outcome of a typed decode as upstream's strict decoding reports it: a type error is a
    /// 400 naming the kind; unknown fields are a 400 under Strict, warnings under Warn.
    /// Upstream: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go`
    /// (`fieldValidation`), `apimachinery/pkg/runtime/serializer/json/json.go` (strict errors).
    fn check_decoded(
        info: &ResourceInfo,
        decoded: Result<typed::Decoded, String>,
        opts: &WriteOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Value, ApiError> {
        let decoded = decoded.map_err(|e| {
            ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: {e}",
                info.kind, info.version, info.kind
            ))
        })?;
        if !decoded.unknown_fields.is_empty() {
            match opts.field_validation {
                FieldValidation::Strict => {
                    let list: Vec<String> = decoded
                        .unknown_fields
                        .iter()
                        .map(|f| format!("unknown field \"{f}\""))
                        .collect();
                    return Err(ApiError::bad_request(format!(
                        "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                        info.kind,
                        info.version,
                        info.kind,
                        list.join(", ")
                    )));
                }
                FieldValidation::Warn => {
                    warnings.extend(
                        decoded
                            .unknown_fields
                            .iter()
                            .map(|f| format!("unknown field \"{f}\"")),
                    );
                }
                FieldValidation::Ignore => {}
            }
        }
        Ok(decoded.object)
    }

    /// Checks that `namespace` exists and is not terminating (`NamespaceLifecycle` admission).
    fn check_namespace(
        &self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let ns_info = registry::lookup("", "v1", "namespaces")
            .ok_or_else(|| ApiError::internal("no namespaces"))?;
        match self.namespace_terminating(&ns_info.key(None, namespace), namespace)? {
            None => Err(ApiError::not_found(ns_info, namespace)),
            Some(true) => Err(ApiError::forbidden(
                info,
                name,
                &format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                ),
            )),
            Some(false) => Ok(()),
        }
    }

    /// Whether the namespace stored at `key` is terminating (`None`: it does not exist),
    /// decoded once per revision of it.
    fn namespace_terminating(&self, key: &str, namespace: &str) -> Result<Option<bool>, ApiError> {
        let Some(kv) = self.storage.store().get(key).map_err(ApiError::internal)? else {
            return Ok(None);
        };
        let mut states = self
            .namespace_states
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(&(revision, terminating)) = states.get(namespace)
            && revision == kv.mod_revision
        {
            return Ok(Some(terminating));
        }
        let terminating =
            object::is_terminating(&crate::storage::decode(&kv).map_err(ApiError::internal)?);
        states.insert(namespace.to_string(), (kv.mod_revision, terminating));
        Ok(Some(terminating))
    }

    fn validate(&self, info: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
        let errors = defaults::validate(info, obj);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(info, object::name(obj), &errors))
        }
    }

    /// The create verb.
    pub async fn create(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        let mut warnings = Vec::new();
        self.check_kind(info, &mut obj)?;
        let mut obj = self.decode_typed(info, obj, opts, &mut warnings)?;

        // Namespace: filled from the URL; a different one in the body is a 400.
        if info.namespaced() {
            let url_ns = namespace.unwrap_or("");
            let body_ns = object::namespace(&obj).to_string();
            if body_ns.is_empty() {
                object::set_meta_str(&mut obj, "namespace", url_ns);
            } else if !url_ns.is_empty() && body_ns != url_ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        } else {
            object::meta_mut(&mut obj).remove("namespace");
        }

        // rest.BeforeCreate: system fields are the server's.
        let now = self.now_string();
        {
            let meta = object::meta_mut(&mut obj);
            for f in [
                "uid",
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ] {
                meta.remove(f);
            }
            meta.insert("creationTimestamp".into(), json!(now));
            meta.insert("uid".into(), json!(self.rng.with(|r| r.uuid_v4())));
        }
        if defaults::tracks_generation(info) {
            object::meta_mut(&mut obj).insert("generation".into(), json!(1));
        } else {
            object::meta_mut(&mut obj).remove("generation");
        }
        let generate_name = object::meta_str(&obj, "generateName").to_string();
        let mut generated = false;
        if object::name(&obj).is_empty() && !generate_name.is_empty() {
            let name = self.generated_name(&generate_name);
            object::set_meta_str(&mut obj, "name", &name);
            generated = true;
        }
        defaults::prepare_for_create(info, &mut obj);
        defaults::apply_defaults(info, &mut obj);
        self.validate(info, &obj)?;
        let name = object::name(&obj).to_string();
        let ns = object::namespace(&obj).to_string();
        if info.namespaced() {
            self.check_namespace(info, &ns, &name)?;
        }
        self.admit_create(info, &mut obj)?;
        self.admit_quota(info, "", None, &obj, opts.dry_run).await?;
        if obj["metadata"]["managedFields"].is_null() {
            let schema = kubetwin_patch::schema_for(info.group, info.version, info.kind);
            managed::track_update(
                None,
                &mut obj,
                opts.manager(),
                schema,
                part_of(info, ""),
                &info.api_version(),
                &now,
            );
        }
        if opts.dry_run {
            return Ok(WriteOutcome {
                object: Arc::new(SharedObject::new(obj)),
                warnings,
                created: true,
            });
        }
        // Generated names retry on collision (`RetryGenerateName`: up to 8 attempts).
        let mut attempts = 0;
        loop {
            let key = info.key(Some(&ns), object::name(&obj));
            match self
                .storage
                .create_shared(&key, convert::to_storage_owned(info, obj))
                .await
            {
                Ok((_, stored)) => {
                    self.event_leases
                        .written(&key, self.clock.now(), self.config.event_ttl);
                    return Ok(WriteOutcome {
                        object: convert::to_view_shared(info, stored),
                        warnings,
                        created: true,
                    });
                }
                Err((error, returned)) => {
                    obj = convert::to_view(info, returned);
                    match error {
                        StorageError::AlreadyExists if generated && attempts < 7 => {
                            attempts += 1;
                            let name = self.generated_name(&generate_name);
                            object::set_meta_str(&mut obj, "name", &name);
                        }
                        StorageError::AlreadyExists => {
                            return Err(ApiError::already_exists(info, object::name(&obj)));
                        }
                        e => return Err(ApiError::internal(e)),
                    }
                }
            }
        }
    }

    /// `generateName` + 5 random characters; the prefix is cut to fit 63 characters
    /// (`apiserver/pkg/storage/names/generate.go`).
    fn generated_name(&self, base: &str) -> String {
        const MAX_GENERATED_NAME_LENGTH: usize = 63 - 5;
        let base: String = base.chars().take(MAX_GENERATED_NAME_LENGTH).collect();
        format!("{base}{}", self.rng.with(|r| r.name_suffix(5)))
    }

    /// Admission on create: LimitRanger defaults, ServiceAccount, DefaultTolerationSeconds,
    /// Priority, DefaultStorageClass, then the validating LimitRanger (see [`crate::admission`]).
    fn admit_create(&self, info: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
        self.admit_create_mutating(info, obj)?;
        if info.group.is_empty() && info.resource == "pods" {
            defaults::admit_pod(obj, &|name| self.priority_class_value(name))
                .map_err(|msg| ApiError::forbidden(info, object::name(obj), &msg))?;
        }
        if info.group.is_empty() && info.resource == "services" {
            self.allocate_service_addresses(info, obj)?;
        }
        self.admit_create_validating(info, obj)
    }

    /// Allocates a cluster IP from the service CIDR (10.96.0.0/12, kube-apiserver's default) and
    /// node ports from 30000–32767, as `pkg/registry/core/service/ipallocator` and
    /// `portallocator` do: random free values, drawn from the injected RNG.
    fn allocate_service_addresses(
        &self,
        info: &ResourceInfo,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        let svc_type = obj["spec"]["type"]
            .as_str()
            .unwrap_or("ClusterIP")
            .to_string();
        if svc_type == "ExternalName" {
            return Ok(());
        }
        let existing = self.storage.list_page(
            &info.key_prefix(None),
            None,
            self.storage.revision(),
            0,
            &|_| true,
        );
        let existing = existing.map_err(ApiError::internal)?.items;
        let requested = obj["spec"]["clusterIP"].as_str().unwrap_or("").to_string();
        let ip = if requested == "None" {
            "None".to_string()
        } else if !requested.is_empty() {
            if existing
                .iter()
                .any(|s| s["spec"]["clusterIP"] == requested.as_str())
            {
                return Err(ApiError::invalid(
                    info,
                    object::name(obj),
                    &[FieldError::invalid(
                        "spec.clusterIPs",
                        requested.clone(),
                        format!(
                            "failed to allocate IP {requested}: provided IP is already allocated"
                        ),
                    )],
                ));
            }
            requested
        } else {
            // 10.96.0.0/12 holds 2^20 addresses; skip the network address and the first ten
            // (10.96.0.1 is the `kubernetes` service).
            let used: std::collections::BTreeSet<String> = existing
                .iter()
                .filter_map(|s| s["spec"]["clusterIP"].as_str().map(str::to_string))
                .collect();
            let mut chosen = None;
            for _ in 0..64 {
                let offset = 10 + self.rng.with(|r| r.below((1 << 20) - 11)) as u32;
                let addr = std::net::Ipv4Addr::from(
                    u32::from(std::net::Ipv4Addr::new(10, 96, 0, 0)) + offset,
                )
                .to_string();
                if !used.contains(&addr) {
                    chosen = Some(addr);
                    break;
                }
            }
            chosen.ok_or_else(|| ApiError::internal("the service IP range is full"))?
        };
        let spec = obj["spec"]
            .as_object_mut()
            .ok_or_else(|| ApiError::bad_request("spec must be an object"))?;
        spec.insert("clusterIP".into(), json!(ip));
        spec.insert("clusterIPs".into(), json!([ip]));
        if ip != "None" {
            spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
        }
        spec.entry("ipFamilyPolicy")
            .or_insert_with(|| json!("SingleStack"));
        if matches!(svc_type.as_str(), "NodePort" | "LoadBalancer") {
            let used: std::collections::BTreeSet<i64> = existing
                .iter()
                .flat_map(|s| s["spec"]["ports"].as_array().cloned().unwrap_or_default())
                .filter_map(|p| p["nodePort"].as_i64())
                .collect();
            let mut taken = used;
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut() {
                    if p["nodePort"].as_i64().is_some() {
                        continue;
                    }
                    let mut port = None;
                    for _ in 0..64 {
                        let candidate = 30000 + self.rng.with(|r| r.below(2768)) as i64;
                        if !taken.contains(&candidate) {
                            port = Some(candidate);
                            break;
                        }
                    }
                    let port =
                        port.ok_or_else(|| ApiError::internal("the node port range is full"))?;
                    taken.insert(port);
                    p["nodePort"] = json!(port);
                }
            }
        }
        Ok(())
    }

    fn priority_class_value(&self, name: &str) -> Option<(i64, Option<String>)> {
        let pc = registry::lookup("scheduling.k8s.io", "v1", "priorityclasses")?;
        let (obj, _) = self.storage.get(&pc.key(None, name)).ok()??;
        let value = obj.get("value").and_then(Value::as_i64)?;
        let policy = obj
            .get("preemptionPolicy")
            .and_then(Value::as_str)
            .map(str::to_string);
        Some((value, policy))
    }

    /// Reads the object at `key`, or 404.
    pub fn read(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Value, i64), ApiError> {
        let (stored, rev) = self
            .storage
            .get(&info.key(namespace, name))
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(info, name))?;
        Ok((convert::to_view(info, stored), rev))
    }

    /// [`ApiServer::read`] sharing the decoded object when there is one (no copy).
    pub fn read_shared(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Arc<SharedObject>, i64), ApiError> {
        let (stored, rev) = self
            .storage
            .get_shared(&info.key(namespace, name))
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(info, name))?;
        Ok((convert::to_view_shared(info, stored), rev))
    }

    /// The get verb.
    pub fn get(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        Ok(self.read(info, namespace, name)?.0)
    }

    /// Read-modify-write of one object: `mutate` turns the current object into the desired one
    /// (or an error); retried on conflict unless `mutate` pins a resourceVersion.
    /// This is upstream's `GuaranteedUpdate`.
    pub async fn update_with(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        opts: &WriteOptions,
        mutate: &(dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync),
    ) -> Result<WriteOutcome, ApiError> {
        let key = info.key(namespace, name);
        let mut warnings = Vec::new();
        for _ in 0..16 {
            let (shared, current_rev) = self.read_shared(info, namespace, name)?;
            let current: &Value = &shared;
            let mut desired = mutate(current)?;
            self.check_kind(info, &mut desired)?;
            // A status write (the kubelet's, a controller's) usually leaves all but `status`
            // as stored. Found out once here, that spares the typed decode, `prepare_update`
            // and the field manager comparing the rest again, each on its own.
            let same_outside_status =
                subresource == "status" && equal_but_status(&desired, current);
            let desired = self.decode_typed_update(
                info,
                current,
                desired,
                same_outside_status,
                opts,
                &mut warnings,
            )?;
            let desired = keep_stored_managed_fields(desired, current);
            // A resourceVersion in the new object is a precondition.
            let pinned = object::meta_str(&desired, "resourceVersion").to_string();
            if !pinned.is_empty() && pinned != current_rev.to_string() {
                return Err(ApiError::stale(info, name));
            }
            // A uid in the body is a precondition (`rest.DefaultUpdatedObjectInfo.Preconditions`).
            let body_uid = object::meta_str(&desired, "uid");
            let current_uid = object::meta_str(current, "uid");
            if !body_uid.is_empty() && body_uid != current_uid {
                return Err(ApiError::conflict(
                    info,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {body_uid}, UID in object meta: {current_uid}"
                    ),
                ));
            }
            if object::name(&desired) != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    object::name(&desired)
                )));
            }
            let Some(mut next) =
                self.prepare_update(info, subresource, current, desired, same_outside_status)?
            else {
                // A no-op write stores nothing and keeps the resourceVersion.
                return Ok(WriteOutcome {
                    object: Arc::clone(&shared),
                    warnings,
                    created: false,
                });
            };
            let schema = kubetwin_patch::schema_for(info.group, info.version, info.kind);
            let now = self.now_string();
            managed::track_update_known(
                Some(current),
                &mut next,
                opts.manager(),
                schema,
                part_of(info, subresource),
                &info.api_version(),
                &now,
                same_outside_status,
            );
            self.admit_update(info, subresource, current, &next, opts.dry_run)
                .await?;
            if opts.dry_run {
                return Ok(WriteOutcome {
                    object: Arc::new(SharedObject::new(next)),
                    warnings,
                    created: false,
                });
            }
            // The last finalizer gone from an object being deleted: delete it now.
            let finished = object::is_terminating(&next)
                && object::finalizers(&next).is_empty()
                && !defaults::awaits_kubelet(info, &next);
            let written = if finished {
                match self.storage.delete(&key, current_rev).await {
                    Ok(rev) => {
                        object::set_resource_version(&mut next, rev);
                        Ok(Arc::new(SharedObject::new(next)))
                    }
                    Err(e) => Err(e),
                }
            } else {
                self.storage
                    .update_shared(&key, convert::to_storage_owned(info, next), current_rev)
                    .await
                    .map(|(_, stored)| convert::to_view_shared(info, stored))
            };
            match written {
                Ok(object) => {
                    if !finished {
                        self.event_leases
                            .written(&key, self.clock.now(), self.config.event_ttl);
                    }
                    return Ok(WriteOutcome {
                        object,
                        warnings,
                        created: false,
                    });
                }
                Err(StorageError::Conflict) if pinned.is_empty() => continue,
                Err(StorageError::Conflict) => return Err(ApiError::stale(info, name)),
                Err(StorageError::NotFound) => return Err(ApiError::not_found(info, name)),
                Err(e) => return Err(ApiError::internal(e)),
            }
        }
        Err(ApiError::stale(info, name))
    }

    /// `rest.BeforeUpdate` + the strategy's `PrepareForUpdate`: server-owned fields kept,
    /// status or spec kept depending on the subresource, generation bumped on spec changes.
    /// `None` when the update changes nothing (the write is then a no-op).
    ///
    /// What is kept from `current` is copied only where `desired` differs from it: a status
    /// write's body usually carries the stored metadata (managedFields and all) and spec.
    /// `same_outside_status`: `desired` is known to equal `current` on every top-level key
    /// but `status`, so those are not compared again.
    fn prepare_update(
        &self,
        info: &ResourceInfo,
        subresource: &str,
        current: &Value,
        desired: Value,
        same_outside_status: bool,
    ) -> Result<Option<Value>, ApiError> {
        let mut next = desired;
        if !next.is_object() {
            next = json!({});
        }
        if same_outside_status {
            // What the branches below would copy from `current` is there already.
        } else if subresource == "status" && keeps_metadata_on_status_update(info) {
            // Upstream: pkg/registry/apps/deployment/strategy.go (`deploymentStatusStrategy.
            // PrepareForUpdate`): only spec and labels are reset, so the controller's status
            // update also carries its annotations (revision, desired/max replicas).
            assign_field(&mut next, current, "spec");
            if next.get("spec").is_some_and(Value::is_null) {
                next.as_object_mut().map(|m| m.remove("spec"));
            }
            let meta = object::meta_mut(&mut next);
            match current.get("metadata").and_then(|m| m.get("labels")) {
                Some(labels) => assign(meta.entry("labels").or_insert(Value::Null), labels),
                None => {
                    meta.remove("labels");
                }
            }
        } else if subresource == "status" {
            // Only status changes (`ResetObjectMetaForStatus` keeps metadata but managed fields).
            assign_all_but_status(&mut next, current);
            if next.get("status").is_some_and(Value::is_null) {
                next.as_object_mut().map(|m| m.remove("status"));
            }
        } else if info.has_status_subresource() {
            assign_field(&mut next, current, "status");
        }
        {
            let cur_meta = current.get("metadata").and_then(Value::as_object);
            let meta = object::meta_mut(&mut next);
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "namespace",
            ] {
                match cur_meta.and_then(|m| m.get(f)) {
                    Some(v) => assign(meta.entry(f).or_insert(Value::Null), v),
                    None => {
                        meta.remove(f);
                    }
                }
            }
            meta.remove("resourceVersion");
            meta.remove("selfLink");
        }
        if object::is_terminating(current) {
            // New finalizers cannot be added once deletion has started.
            let before = object::finalizers(current);
            if object::finalizers(&next)
                .iter()
                .any(|f| !before.contains(f))
            {
                return Err(ApiError::invalid(
                    info,
                    object::name(current),
                    &[FieldError::forbidden(
                        "metadata.finalizers",
                        "no new finalizers can be added if the object is being deleted",
                    )],
                ));
            }
        }
        if subresource != "status" {
            defaults::apply_defaults(info, &mut next);
            self.validate(info, &next)?;
        }
        if same_outside_status {
            // Only the status or the metadata's server fields can differ: no spec change,
            // and a no-op when neither does.
            if next.get("status").is_some_and(Value::is_null) {
                next.as_object_mut().map(|m| m.remove("status"));
            }
            if next.get("status") == current.get("status")
                && same_keys_but_resource_version(&next, current)
            {
                return Ok(None);
            }
            return Ok(Some(next));
        }
        if defaults::tracks_generation(info) && spec_parts_differ(&next, current) {
            let generation = object::generation(current) + 1;
            object::meta_mut(&mut next).insert("generation".into(), json!(generation));
        }
        if equal_but_resource_version(&next, current) {
            return Ok(None);
        }
        Ok(Some(next))
    }

    /// The update verb (PUT), on the object or its `status` subresource.
    pub async fn update(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        let body_ns = object::namespace(&body).to_string();
        if info.namespaced() && !body_ns.is_empty() && Some(body_ns.as_str()) != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let mutate = move |_current: &Value| -> Result<Value, ApiError> { Ok(body.clone()) };
        self.update_with(info, namespace, name, subresource, opts, &mutate)
            .await
    }

    /// The patch verb: applies a JSON, merge, strategic-merge or apply patch to the current object.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        content_type: &str,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let kind = PatchKind::from_content_type(&essence).ok_or_else(|| {
            ApiError::unsupported_media_type(&[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ])
        })?;
        let patch = parse_body(body, &essence)?;
        self.patch_parsed(info, namespace, name, subresource, kind, patch, opts)
            .await
    }

    /// A merge patch (`application/merge-patch+json`) given as a value: [`ApiServer::patch`]
    /// without encoding the body only to parse it again (the in-process clients).
    pub async fn merge_patch(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        patch: Value,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        self.patch_parsed(
            info,
            namespace,
            name,
            subresource,
            PatchKind::Merge,
            patch,
            opts,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn patch_parsed(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        kind: PatchKind,
        patch: Value,
        opts: &WriteOptions,
    ) -> Result<WriteOutcome, ApiError> {
        if kind == PatchKind::Apply {
            if opts.field_manager.as_deref().unwrap_or("").is_empty() {
                return Err(ApiError::invalid_options(
                    "PatchOptions",
                    "meta.k8s.io",
                    &[FieldError::required(
                        "fieldManager",
                        "is required for apply patch",
                    )],
                ));
            }
            // Server-side apply creates a missing object.
            if subresource.is_empty()
                && self
                    .storage
                    .get(&info.key(namespace, name))
                    .map_err(ApiError::internal)?
                    .is_none()
            {
                let mut obj = patch;
                if object::name(&obj).is_empty() {
                    object::set_meta_str(&mut obj, "name", name);
                }
                let schema = kubetwin_patch::schema_for(info.group, info.version, info.kind);
                let obj = managed::apply(
                    None,
                    &obj,
                    opts.manager(),
                    opts.force,
                    schema,
                    part_of(info, ""),
                    &info.api_version(),
                    &self.now_string(),
                )
                .map_err(|e| apply_error(info, name, e))?;
                return self.create(info, namespace, obj, opts).await;
            }
        } else if opts.force {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                "meta.k8s.io",
                &[FieldError::forbidden(
                    "force",
                    "may not be specified for non-apply patch",
                )],
            ));
        }
        let schema = kubetwin_patch::schema_for(info.group, info.version, info.kind);
        let now = self.now_string();
        let manager = opts.manager().to_string();
        let force = opts.force;
        let part = part_of(info, subresource);
        let mutate = move |current: &Value| -> Result<Value, ApiError> {
            let result = match kind {
                PatchKind::Json => kubetwin_patch::json_patch(current, &patch),
                PatchKind::Merge => kubetwin_patch::merge_patch(current, &patch),
                PatchKind::Strategic => {
                    kubetwin_patch::strategic_merge_patch(current, &patch, schema)
                }
                PatchKind::Apply => {
                    return managed::apply(
                        Some(current),
                        &patch,
                        &manager,
                        force,
                        schema,
                        part,
                        &info.api_version(),
                        &now,
                    )
                    .map_err(|e| apply_error(info, name, e));
                }
            };
            result.map_err(|e| patch_error(info, name, &e))
        };
        self.update_with(info, namespace, name, subresource, opts, &mutate)
            .await
    }

    /// The delete verb.
    pub async fn delete(
        &self,
        info: &ResourceInfo,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let key = info.key(namespace, name);
        for _ in 0..16 {
            let (current, rev) = self.read_shared(info, namespace, name)?;
            if let Some(uid) = &options.precondition_uid
                && object::meta_str(&current, "uid") != uid
            {
                return Err(ApiError::conflict(
                    info,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        object::meta_str(&current, "uid")
                    ),
                ));
            }
            if let Some(rv) = &options.precondition_rv
                && *rv != rev.to_string()
            {
                return Err(ApiError::conflict(
                    info,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {rev}"
                    ),
                ));
            }
            let mut next = Value::clone(&current);
            let mut finalizers = object::finalizers(&next);
            let policy = options.propagation.unwrap_or(Propagation::Background);
            // store.go `deletionFinalizersForGarbageCollection`: the policy becomes a finalizer.
            if !object::is_terminating(&current) || !finalizers.is_empty() {
                match policy {
                    Propagation::Orphan if !finalizers.contains(&"orphan".to_string()) => {
                        finalizers.retain(|f| f != "foregroundDeletion");
                        finalizers.push("orphan".into());
                    }
                    Propagation::Foreground
                        if !finalizers.contains(&"foregroundDeletion".to_string()) =>
                    {
                        finalizers.retain(|f| f != "orphan");
                        finalizers.push("foregroundDeletion".into());
                    }
                    _ => {}
                }
            }
            let grace =
                defaults::graceful_deletion_seconds(info, &current, options.grace_period_seconds);
            let immediate = finalizers.is_empty() && grace.is_none();
            if immediate {
                if options.dry_run {
                    return Ok(DeleteOutcome {
                        object: current,
                        deleted: true,
                    });
                }
                match self.storage.delete(&key, rev).await {
                    Ok(_) => {
                        return Ok(DeleteOutcome {
                            object: current,
                            deleted: true,
                        });
                    }
                    Err(StorageError::Conflict) => continue,
                    Err(StorageError::NotFound) => return Err(ApiError::not_found(info, name)),
                    Err(e) => return Err(ApiError::internal(e)),
                }
            }
            // Graceful or finalized deletion: mark and keep.
            object::set_finalizers(&mut next, &finalizers);
            if !object::is_terminating(&current) {
                let seconds = grace.unwrap_or(0);
                let at = self.clock.now() + jiff::SignedDuration::from_secs(seconds);
                let meta = object::meta_mut(&mut next);
                meta.insert(
                    "deletionTimestamp".into(),
                    json!(kubetwin_core::clock::format_time(at)),
                );
                meta.insert("deletionGracePeriodSeconds".into(), json!(seconds));
                if object::generation(&current) > 0 {
                    meta.insert("generation".into(), json!(object::generation(&current) + 1));
                }
                defaults::on_deletion_started(info, &mut next);
            } else if let Some(seconds) = grace {
                // A shorter grace period may replace a longer one.
                let current_grace = current["metadata"]["deletionGracePeriodSeconds"]
                    .as_i64()
                    .unwrap_or(i64::MAX);
                if seconds < current_grace {
                    let at = self.clock.now() + jiff::SignedDuration::from_secs(seconds);
                    let meta = object::meta_mut(&mut next);
                    meta.insert(
                        "deletionTimestamp".into(),
                        json!(kubetwin_core::clock::format_time(at)),
                    );
                    meta.insert("deletionGracePeriodSeconds".into(), json!(seconds));
                }
            }
            object::meta_mut(&mut next).remove("resourceVersion");
            if options.dry_run {
                return Ok(DeleteOutcome {
                    object: Arc::new(SharedObject::new(next)),
                    deleted: false,
                });
            }
            if equal_but_resource_version(&next, &current) {
                return Ok(DeleteOutcome {
                    object: current,
                    deleted: false,
                });
            }
            match self
                .storage
                .update_shared(&key, convert::to_storage_owned(info, next), rev)
                .await
            {
                Ok((_, stored)) => {
                    return Ok(DeleteOutcome {
                        object: convert::to_view_shared(info, stored),
                        deleted: false,
                    });
                }
                Err(StorageError::Conflict) => continue,
                Err(StorageError::NotFound) => return Err(ApiError::not_found(info, name)),
                Err(e) => return Err(ApiError::internal(e)),
            }
        }
        Err(ApiError::stale(info, name))
    }
}

/// The `Status` for a patch that cannot be applied, with the code upstream uses for it.
pub fn patch_error(info: &ResourceInfo, name: &str, err: &kubetwin_patch::PatchError) -> ApiError {
    match err.http_status() {
        422 => ApiError::invalid(
            info,
            name,
            &[FieldError::invalid("", Value::Null, err.to_string())],
        ),
        413 => ApiError::too_large(&err.to_string()),
        400 => ApiError::bad_request(err.to_string()),
        _ => ApiError::internal(err),
    }
}

fn apply_error(info: &ResourceInfo, name: &str, err: managed::ApplyError) -> ApiError {
    match err {
        managed::ApplyError::Conflicts(conflicts) => ApiError::apply_conflict(&conflicts),
        managed::ApplyError::Patch(e) => patch_error(info, name, &e),
    }
}

/// Patch content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml`
    Apply,
}

impl PatchKind {
    fn from_content_type(essence: &str) -> Option<Self> {
        match essence {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// `propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Orphan dependents.
    Orphan,
    /// Delete dependents in the background.
    Background,
    /// Delete dependents first.
    Foreground,
}

/// Parsed `DeleteOptions`.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy` (or the deprecated `orphanDependents`).
    pub propagation: Option<Propagation>,
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_rv: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Reads options from the body (a `DeleteOptions` object, possibly empty) and the query.
    pub fn parse(body: &[u8], query: &Query) -> Result<Self, ApiError> {
        let mut opts = Self::default();
        let body_value: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
            })?
        };
        let get = |k: &str| -> Option<Value> {
            body_value
                .get(k)
                .cloned()
                .filter(|v| !v.is_null())
                .or_else(|| query.get(k).map(|s| json!(s)))
        };
        if let Some(g) = get("gracePeriodSeconds") {
            let g = match &g {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            };
            opts.grace_period_seconds =
                Some(g.ok_or_else(|| ApiError::bad_request("invalid gracePeriodSeconds"))?);
        }
        if let Some(p) = get("propagationPolicy") {
            opts.propagation = Some(match p.as_str().unwrap_or("") {
                "Orphan" => Propagation::Orphan,
                "Background" => Propagation::Background,
                "Foreground" => Propagation::Foreground,
                other => {
                    return Err(ApiError::invalid_options(
                        "DeleteOptions",
                        "meta.k8s.io",
                        &[FieldError::not_supported(
                            "propagationPolicy",
                            other,
                            &["Foreground", "Background", "Orphan", "nil"],
                        )],
                    ));
                }
            });
        } else if let Some(o) = get("orphanDependents") {
            let orphan = o
                .as_bool()
                .or_else(|| o.as_str().map(|s| s == "true"))
                .unwrap_or(false);
            opts.propagation = Some(if orphan {
                Propagation::Orphan
            } else {
                Propagation::Background
            });
        }
        if let Some(pre) = body_value.get("preconditions") {
            opts.precondition_uid = pre.get("uid").and_then(Value::as_str).map(str::to_string);
            opts.precondition_rv = pre
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let dry = get("dryRun").map(|d| match d {
            Value::Array(a) => a.iter().any(|x| x == "All"),
            Value::String(s) => s == "All",
            _ => false,
        });
        opts.dry_run = dry.unwrap_or(false);
        Ok(opts)
    }
}

/// The result of a delete.
#[derive(Debug, Clone)]
pub struct DeleteOutcome {
    /// The object (as deleted, or as marked for deletion), shared with the watches that
    /// deliver the change.
    pub object: Arc<SharedObject>,
    /// Whether it is gone now (false: it waits for finalizers or a kubelet).
    pub deleted: bool,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Makes `target` equal to `source`, copying only the parts that differ (objects are compared
/// key by key, so an unchanged subtree is never copied).
fn assign(target: &mut Value, source: &Value) {
    match (&mut *target, source) {
        (Value::Object(t), Value::Object(s)) => {
            t.retain(|k, _| s.contains_key(k));
            for (k, v) in s {
                match t.get_mut(k) {
                    Some(existing) => assign(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, s) => {
            if *t != *s {
                *t = s.clone();
            }
        }
    }
}

/// Sets the top-level `key` of `target` to that of `source` (removing it when `source` lacks
/// it), copying only what differs. `target` must be an object.
fn assign_field(target: &mut Value, source: &Value, key: &str) {
    let Some(t) = target.as_object_mut() else {
        return;
    };
    match source.get(key) {
        Some(v) => assign(t.entry(key).or_insert(Value::Null), v),
        None => {
            t.remove(key);
        }
    }
}

/// Makes `target` equal to `source` on every top-level key but `status` (which stays as in
/// `target`), copying only what differs. `target` must be an object.
fn assign_all_but_status(target: &mut Value, source: &Value) {
    let Some(t) = target.as_object_mut() else {
        return;
    };
    let empty = serde_json::Map::new();
    let s = source.as_object().unwrap_or(&empty);
    t.retain(|k, _| k == "status" || s.contains_key(k));
    for (k, v) in s.iter().filter(|(k, _)| *k != "status") {
        assign(t.entry(k.as_str()).or_insert(Value::Null), v);
    }
}

/// The entries of `obj` (an object, else none) but those whose key `skip` names.
fn entries_but(
    obj: Option<&Value>,
    skip: fn(&str) -> bool,
) -> impl Iterator<Item = (&String, &Value)> {
    obj.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(move |(k, _)| !skip(k))
}

/// Whether the fields a change of bumps `generation` differ ([`object::spec_part`] of both),
/// compared in place.
fn spec_parts_differ(a: &Value, b: &Value) -> bool {
    let not_spec = |k: &str| matches!(k, "metadata" | "status" | "apiVersion" | "kind");
    !entries_but(Some(a), not_spec).eq(entries_but(Some(b), not_spec))
}

/// Whether `next` (which has no resourceVersion) equals `current` but for `current`'s
/// resourceVersion, compared in place.
/// An update whose body has no managedFields (absent, null or an empty list) keeps the stored
/// ones, so a client that does not know the field (our components decode objects without it:
/// [`crate::trim`]) neither erases them nor turns a no-op into a write. Upstream:
/// `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/fieldmanager.go` (`Update`
/// falls back to the live object's entries when the new object's decode to none).
fn keep_stored_managed_fields(mut desired: Value, current: &Value) -> Value {
    let sent = desired.get("metadata").and_then(|m| m.get("managedFields"));
    let none_sent = match sent {
        None | Some(Value::Null) => true,
        Some(Value::Array(entries)) => entries.is_empty(),
        Some(_) => false,
    };
    if none_sent
        && desired.is_object()
        && let Some(stored) = current.get("metadata").and_then(|m| m.get("managedFields"))
        && desired.get("metadata").is_none_or(Value::is_object)
    {
        object::meta_mut(&mut desired).insert("managedFields".into(), stored.clone());
    }
    desired
}

fn equal_but_resource_version(next: &Value, current: &Value) -> bool {
    if !next.is_object() || !current.is_object() {
        return false;
    }
    // Stored objects always have metadata; an odd one is compared the slow way.
    let meta_is_object = |v: &Value| v.get("metadata").is_none_or(Value::is_object);
    if !meta_is_object(next) || !meta_is_object(current) {
        let mut current_no_rv = current.clone();
        object::meta_mut(&mut current_no_rv).remove("resourceVersion");
        return *next == current_no_rv;
    }
    let is_meta = |k: &str| k == "metadata";
    let is_rv = |k: &str| k == "resourceVersion";
    entries_but(Some(next), is_meta).eq(entries_but(Some(current), is_meta))
        && entries_but(next.get("metadata"), is_rv).eq(entries_but(current.get("metadata"), is_rv))
}

/// Whether two objects are equal on every top-level key but `status` (compared in place).
fn equal_but_status(a: &Value, b: &Value) -> bool {
    let is_status = |k: &str| k == "status";
    a.is_object()
        && b.is_object()
        && entries_but(Some(a), is_status).eq(entries_but(Some(b), is_status))
}

/// For a `next` made from `current` (equal values under the keys both have): whether their
/// metadata holds the same keys but `resourceVersion`, i.e. whether the metadata is equal
/// but for it.
fn same_keys_but_resource_version(next: &Value, current: &Value) -> bool {
    fn keys(v: &Value) -> impl Iterator<Item = &String> {
        v.get("metadata")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| *k != "resourceVersion")
    }
    keys(next).eq(keys(current))
}

/// Whether a `/status` update keeps the body's metadata (all but labels), as the resource's
/// status strategy does upstream; other resources keep only `.status` from the body.
fn keeps_metadata_on_status_update(info: &ResourceInfo) -> bool {
    // Upstream: pkg/registry/apps/deployment/strategy.go (`deploymentStatusStrategy`).
    info.group == "apps" && info.kind == "Deployment"
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kubetwin_core::clock::ManualClock;
    use kubetwin_store::Store;
    use serde_json::json;

    use serde_json::Value;

    use super::{FieldValidation, WriteOptions, WriteOutcome};
    use crate::error::ApiError;
    use crate::local::LocalClient;
    use crate::registry::lookup;
    use crate::{ApiServer, ApiServerConfig, Storage};

    /// Upstream: `pkg/registry/apps/deployment/strategy_test.go` (`TestStatusUpdates`): a
    /// status update keeps the body's annotations and status, while spec and labels stay as
    /// stored. ReplicaSets keep only the status from the body.
    #[tokio::test]
    async fn deployment_status_update_keeps_annotations_resets_spec_and_labels() {
        let server = ApiServer::new(
            Storage::new(Store::memory()),
            Arc::new(ManualClock::at_default_epoch()),
            1,
            ApiServerConfig::default(),
        );
        server.bootstrap().await.expect("bootstrap");
        let client = LocalClient::new(server, "test");
        let template = json!({"metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}});
        let deployments = lookup("apps", "v1", "deployments").expect("deployments");
        let created = client
            .create(
                deployments,
                Some("default"),
                json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "d", "namespace": "default", "labels": {"l": "1"}},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
                        "template": template}}),
            )
            .await
            .expect("create");
        let mut body = Value::clone(&created);
        body["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
        body["metadata"]["labels"] = json!({"l": "2"});
        body["spec"]["replicas"] = json!(5);
        body["status"] = json!({"observedGeneration": 1, "replicas": 1});
        let stored = client
            .update(deployments, "status", body)
            .await
            .expect("status update");
        assert_eq!(
            stored["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "1"
        );
        assert_eq!(stored["metadata"]["labels"], json!({"l": "1"}));
        assert_eq!(stored["spec"]["replicas"], 1);
        assert_eq!(stored["status"]["replicas"], 1);

        let replica_sets = lookup("apps", "v1", "replicasets").expect("replicasets");
        let created = client
            .create(
                replica_sets,
                Some("default"),
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": "r", "namespace": "default"},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
                        "template": template}}),
            )
            .await
            .expect("create");
        let mut body = Value::clone(&created);
        body["metadata"]["annotations"] = json!({"x": "y"});
        body["status"] = json!({"replicas": 1});
        let stored = client
            .update(replica_sets, "status", body)
            .await
            .expect("status update");
        assert!(stored["metadata"].get("annotations").is_none());
        assert_eq!(stored["status"]["replicas"], 1);
    }

    fn server() -> Arc<ApiServer> {
        ApiServer::new(
            Storage::new(Store::memory()),
            Arc::new(ManualClock::at_default_epoch()),
            1,
            ApiServerConfig::default(),
        )
    }

    fn options(validation: FieldValidation, manager: &str) -> WriteOptions {
        WriteOptions {
            field_manager: Some(manager.into()),
            field_validation: validation,
            ..WriteOptions::default()
        }
    }

    /// `validBodyJSON` of `test/integration/apiserver/field_validation_test.go`.
    fn valid_deployment(name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": "nginx"}},
            "spec": {"selector": {"matchLabels": {"app": "nginx"}},
                "template": {"metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:latest",
                        "imagePullPolicy": "Always"}]}}}})
    }

    /// The unknown fields of `invalidBodyJSON` / `mergePatchBody` / `smpBody` (the duplicate
    /// keys of those bodies have no JSON-value form here), in the order strict decoding
    /// reports them.
    const UNKNOWN: [&str; 3] = [
        "unknown field \"spec.template.spec.containers[0].unknownNested\"",
        "unknown field \"spec.unknown1\"",
        "unknown field \"spec.unknownDupe\"",
    ];

    /// Upstream: `test/integration/apiserver/field_validation_test.go`
    /// (`testFieldValidationPut`, `testFieldValidationPatchTyped` merge-patch cases,
    /// `testFieldValidationSMP`): an update or patch of an existing object that adds unknown
    /// fields is rejected under Strict (nothing stored), warned about under Warn and by
    /// default, and silently pruned under Ignore.
    #[tokio::test]
    async fn unknown_fields_in_updates_and_patches() {
        let server = server();
        server.bootstrap().await.expect("bootstrap");
        let deployments = lookup("apps", "v1", "deployments").expect("deployments");
        let merge_patch = json!({"spec": {"unknown1": "val1", "unknownDupe": "valDupe2",
            "paused": false, "template": {"spec": {"containers": [{"name": "nginx",
                "image": "nginx:latest", "unknownNested": "val1", "imagePullPolicy": "Never"}]}}}});
        let smp = json!({"spec": {"unknown1": "val1", "unknownDupe": "valDupe2", "paused": false,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [
                {"name": "nginx", "unknownNested": "val1", "imagePullPolicy": "Never"}]}}}});
        let cases = [
            (
                "put-strict-validation",
                "put",
                FieldValidation::Strict,
                true,
            ),
            ("put-warn-validation", "put", FieldValidation::Warn, false),
            (
                "put-ignore-validation",
                "put",
                FieldValidation::Ignore,
                false,
            ),
            (
                "merge-patch-strict-validation",
                "merge",
                FieldValidation::Strict,
                true,
            ),
            (
                "merge-patch-warn-validation",
                "merge",
                FieldValidation::Warn,
                false,
            ),
            (
                "merge-patch-ignore-validation",
                "merge",
                FieldValidation::Ignore,
                false,
            ),
            (
                "smp-strict-validation",
                "smp",
                FieldValidation::Strict,
                true,
            ),
            ("smp-warn-validation", "smp", FieldValidation::Warn, false),
            (
                "smp-ignore-validation",
                "smp",
                FieldValidation::Ignore,
                false,
            ),
        ];
        for (name, verb, validation, rejected) in cases {
            let created = server
                .create(
                    deployments,
                    Some("default"),
                    valid_deployment(name),
                    &options(FieldValidation::Strict, "test"),
                )
                .await
                .expect("create")
                .object;
            let opts = options(validation, "test");
            let result = match verb {
                "put" => {
                    let mut body = valid_deployment(name);
                    body["spec"]["unknown1"] = json!("val1");
                    body["spec"]["unknownDupe"] = json!("valDupe2");
                    body["spec"]["paused"] = json!(false);
                    body["spec"]["template"]["spec"]["containers"][0]["unknownNested"] =
                        json!("val1");
                    body["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
                        json!("Never");
                    server
                        .update(deployments, Some("default"), name, "", body, &opts)
                        .await
                }
                "merge" => {
                    let body = serde_json::to_vec(&merge_patch).expect("json");
                    server
                        .patch(
                            deployments,
                            Some("default"),
                            name,
                            "",
                            "application/merge-patch+json",
                            &body,
                            &opts,
                        )
                        .await
                }
                _ => {
                    let body = serde_json::to_vec(&smp).expect("json");
                    server
                        .patch(
                            deployments,
                            Some("default"),
                            name,
                            "",
                            "application/strategic-merge-patch+json",
                            &body,
                            &opts,
                        )
                        .await
                }
            };
            let stored = server.get(deployments, Some("default"), name).expect("get");
            if rejected {
                let err = result.expect_err(name);
                assert_eq!(err.code, 400, "{name}");
                assert_eq!(
                    err.message,
                    format!(
                        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: {}",
                        UNKNOWN.join(", ")
                    ),
                    "{name}"
                );
                assert_eq!(stored, **created, "{name}: nothing stored");
                continue;
            }
            let outcome = result.expect(name);
            let expected: Vec<String> = if validation == FieldValidation::Warn {
                UNKNOWN.iter().map(|w| w.to_string()).collect()
            } else {
                Vec::new()
            };
            assert_eq!(outcome.warnings, expected, "{name}");
            assert_eq!(**outcome.object, stored, "{name}");
            assert!(stored["spec"].get("unknown1").is_none(), "{name}");
            assert!(
                stored["spec"]["template"]["spec"]["containers"][0]
                    .get("unknownNested")
                    .is_none(),
                "{name}"
            );
            assert_eq!(
                stored["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Never",
                "{name}"
            );
            assert_eq!(stored["spec"]["paused"], false, "{name}");
        }
    }

    async fn pod_server() -> (
        Arc<ApiServer>,
        &'static crate::registry::ResourceInfo,
        Value,
    ) {
        let server = server();
        server.bootstrap().await.expect("bootstrap");
        let pods = lookup("", "v1", "pods").expect("pods");
        let created = server
            .create(
                pods,
                Some("default"),
                json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]}}),
                &options(FieldValidation::Strict, "test"),
            )
            .await
            .expect("create")
            .object;
        (server, pods, Value::clone(&created))
    }

    async fn patch_status(
        server: &ApiServer,
        pods: &crate::registry::ResourceInfo,
        patch: &Value,
        validation: FieldValidation,
    ) -> Result<WriteOutcome, ApiError> {
        let body = serde_json::to_vec(patch).expect("json");
        server
            .patch(
                pods,
                Some("default"),
                "p",
                "status",
                "application/merge-patch+json",
                &body,
                &options(validation, "kubelet"),
            )
            .await
    }

    /// Status writes that leave the rest as stored (the kubelet's merge patch of `status`) and
    /// one that also sends other changes: the first is stored with the kubelet's managedFields
    /// entry and no new generation, the same status again is a no-op that keeps the
    /// resourceVersion, and the other changes of the last are dropped as upstream's status
    /// strategy drops them (`ResetObjectMetaForStatus`, spec from the stored object).
    #[tokio::test]
    async fn status_writes_with_and_without_other_changes() {
        let (server, pods, created) = pod_server().await;
        let running = json!({"status": {"phase": "Running", "podIP": "10.0.0.5"}});
        let first = patch_status(&server, pods, &running, FieldValidation::Strict)
            .await
            .expect("status");
        let stored = server.get(pods, Some("default"), "p").expect("get");
        assert_eq!(stored, **first.object);
        assert_eq!(stored["status"]["phase"], "Running");
        assert_eq!(stored["spec"], created["spec"]);
        assert_eq!(
            stored["metadata"]["generation"],
            created["metadata"]["generation"]
        );
        assert_ne!(
            stored["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        let kubelet_entry = stored["metadata"]["managedFields"]
            .as_array()
            .expect("managed")
            .iter()
            .find(|e| e["manager"] == "kubelet")
            .expect("kubelet's entry");
        assert_eq!(kubelet_entry["subresource"], "status");
        assert_eq!(
            kubelet_entry["fieldsV1"],
            json!({"f:status": {"f:phase": {}, "f:podIP": {}}})
        );

        let again = patch_status(&server, pods, &running, FieldValidation::Strict)
            .await
            .expect("same status");
        assert_eq!(
            again.object["metadata"]["resourceVersion"],
            stored["metadata"]["resourceVersion"]
        );
        assert_eq!(server.get(pods, Some("default"), "p").expect("get"), stored);

        let mixed = json!({"metadata": {"labels": {"tier": "x"}},
            "spec": {"activeDeadlineSeconds": 30}, "status": {"phase": "Succeeded"}});
        patch_status(&server, pods, &mixed, FieldValidation::Strict)
            .await
            .expect("mixed");
        let after = server.get(pods, Some("default"), "p").expect("get");
        assert_eq!(after["status"]["phase"], "Succeeded");
        assert_eq!(after["spec"], created["spec"]);
        assert_eq!(after["metadata"]["labels"], created["metadata"]["labels"]);
        assert_eq!(
            after["metadata"]["generation"],
            created["metadata"]["generation"]
        );
    }

    /// A kubelet-style status patch carrying unknown fields, at the top of `status` and inside
    /// a list element: Strict rejects it (nothing stored), Warn stores it without them.
    #[tokio::test]
    async fn status_patch_with_unknown_fields() {
        let (server, pods, created) = pod_server().await;
        let patch = json!({"status": {"phase": "Running", "bogus": 1,
            "conditions": [{"type": "Ready", "status": "True", "extra": "x"}]}});
        let err = patch_status(&server, pods, &patch, FieldValidation::Strict)
            .await
            .expect_err("strict");
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"status.bogus\", unknown field \"status.conditions[0].extra\""
        );
        assert_eq!(
            server.get(pods, Some("default"), "p").expect("get"),
            created
        );

        let outcome = patch_status(&server, pods, &patch, FieldValidation::Warn)
            .await
            .expect("warn");
        assert_eq!(
            outcome.warnings,
            vec![
                "unknown field \"status.bogus\"".to_string(),
                "unknown field \"status.conditions[0].extra\"".to_string()
            ]
        );
        let stored = server.get(pods, Some("default"), "p").expect("get");
        assert_eq!(stored, **outcome.object);
        assert_eq!(stored["status"]["phase"], "Running");
        assert!(stored["status"].get("bogus").is_none());
        assert_eq!(
            stored["status"]["conditions"][0],
            json!({"type": "Ready", "status": "True"})
        );
        assert_eq!(stored["spec"], created["spec"]);
    }

    /// A type error in the changed part of a status patch is a 400 naming the kind, with the
    /// decoder's message; nothing is stored.
    #[tokio::test]
    async fn status_patch_with_a_type_error() {
        let (server, pods, created) = pod_server().await;
        for validation in [
            FieldValidation::Strict,
            FieldValidation::Warn,
            FieldValidation::Ignore,
        ] {
            let err = patch_status(&server, pods, &json!({"status": {"phase": 3}}), validation)
                .await
                .expect_err("type error");
            assert_eq!(err.code, 400);
            assert_eq!(
                err.message,
                "Pod in version \"v1\" cannot be handled as a Pod: invalid type: integer `3`, expected a string"
            );
            let err = patch_status(
                &server,
                pods,
                &json!({"status": {"conditions": "Ready"}}),
                validation,
            )
            .await
            .expect_err("type error");
            assert_eq!(
                err.message,
                "Pod in version \"v1\" cannot be handled as a Pod: invalid type: string \"Ready\", expected a sequence"
            );
        }
        assert_eq!(
            server.get(pods, Some("default"), "p").expect("get"),
            created
        );
    }

    /// A PUT of a pod changing spec and status (and adding unknown fields to both): every
    /// unknown field is reported, as decoding comes before the strategy resets status; spec
    /// changes, status stays as stored, generation moves on.
    #[tokio::test]
    async fn update_changing_spec_and_status() {
        let (server, pods, created) = pod_server().await;
        let mut body = created.clone();
        body["spec"]["activeDeadlineSeconds"] = json!(30);
        body["spec"]["bogus"] = json!(true);
        body["status"] = json!({"phase": "Running", "bogus": 1});
        body["metadata"]["labels"]["tier"] = json!("x");
        let outcome = server
            .update(
                pods,
                Some("default"),
                "p",
                "",
                body.clone(),
                &options(FieldValidation::Warn, "kubectl-edit"),
            )
            .await
            .expect("update");
        assert_eq!(
            outcome.warnings,
            vec![
                "unknown field \"spec.bogus\"".to_string(),
                "unknown field \"status.bogus\"".to_string()
            ]
        );
        let stored = server.get(pods, Some("default"), "p").expect("get");
        assert_eq!(stored, **outcome.object);
        assert_eq!(stored["spec"]["activeDeadlineSeconds"], 30);
        assert!(stored["spec"].get("bogus").is_none());
        assert_eq!(stored["status"], created["status"]);
        assert_eq!(stored["metadata"]["labels"]["tier"], "x");
        assert_eq!(stored["metadata"]["generation"], 2);
        let managers: Vec<&str> = stored["metadata"]["managedFields"]
            .as_array()
            .expect("managed")
            .iter()
            .filter_map(|e| e["manager"].as_str())
            .collect();
        assert_eq!(managers, ["test", "kubectl-edit"]);

        let err = server
            .update(
                pods,
                Some("default"),
                "p",
                "",
                body,
                &options(FieldValidation::Strict, "kubectl-edit"),
            )
            .await
            .expect_err("strict");
        assert_eq!(
            err.message,
            "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.bogus\", unknown field \"status.bogus\""
        );
        // The same body again (without the unknown fields) changes nothing: no write.
        let mut same = stored.clone();
        same["status"] = json!({"phase": "Running"});
        let again = server
            .update(
                pods,
                Some("default"),
                "p",
                "",
                same,
                &options(FieldValidation::Strict, "kubectl-edit"),
            )
            .await
            .expect("no-op");
        assert_eq!(**again.object, stored);
    }

    mod helpers {
        use super::super::*;
        use proptest::prelude::*;

        fn small_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (0..3i64).prop_map(|n| json!(n)),
                "[ab]{0,2}".prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    proptest::collection::btree_map(
                        prop_oneof![
                            Just("metadata".to_string()),
                            Just("status".to_string()),
                            Just("spec".to_string()),
                            Just("resourceVersion".to_string()),
                            Just("kind".to_string()),
                            "[xy]".prop_map(String::from),
                        ],
                        inner,
                        0..4,
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// The in-place helpers of `prepare_update` agree with the copying forms they
            /// replace.
            #[test]
            fn in_place_helpers_match_their_copying_forms(a in small_value(), b in small_value()) {
                let mut target = a.clone();
                assign(&mut target, &b);
                prop_assert_eq!(&target, &b);

                if a.is_object() {
                    let mut in_place = a.clone();
                    assign_all_but_status(&mut in_place, &b);
                    let mut copied = if b.is_object() { b.clone() } else { json!({}) };
                    match a.get("status") {
                        Some(s) => { copied["status"] = s.clone(); }
                        None => { copied.as_object_mut().map(|m| m.remove("status")); }
                    }
                    prop_assert_eq!(&in_place, &copied);

                    let mut field = a.clone();
                    assign_field(&mut field, &b, "spec");
                    let mut expected = a.clone();
                    match b.get("spec") {
                        Some(s) => { expected["spec"] = s.clone(); }
                        None => { expected.as_object_mut().map(|m| m.remove("spec")); }
                    }
                    prop_assert_eq!(&field, &expected);
                }

                prop_assert_eq!(
                    spec_parts_differ(&a, &b),
                    object::spec_part(&a) != object::spec_part(&b)
                );

                let mut next = a.clone();
                if let Some(m) = next.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("resourceVersion");
                }
                if next.is_object() && b.is_object() {
                    let mut current_no_rv = b.clone();
                    object::meta_mut(&mut current_no_rv).remove("resourceVersion");
                    let mut next_meta = next.clone();
                    object::meta_mut(&mut next_meta);
                    // `prepare_update` always leaves `next` with an object `metadata`.
                    prop_assert_eq!(
                        equal_but_resource_version(&next_meta, &b),
                        next_meta == current_no_rv
                    );
                }
            }
        }
    }
}
