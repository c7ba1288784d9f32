//! `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1): loading, defaulting (the default
//! plugins and args), merging custom plugin sets into the defaults, MultiPoint expansion, score
//! weights, and building the frameworks of the profiles.
//!
//! Upstream: pkg/scheduler/apis/config/v1/default_plugins.go (`getDefaultPlugins`, `mergePlugins`,
//! `mergePluginSet`), pkg/scheduler/apis/config/v1/defaults.go, pkg/scheduler/apis/config/types.go,
//! pkg/scheduler/framework/runtime/framework.go (`expandMultiPointPlugins`, `updatePluginList`,
//! `getScoreWeights`), pkg/scheduler/framework/plugins/registry.go.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::error::SchedulerError;
use crate::framework::{ExtensionPoint, Framework, Plugin};
use crate::plugins::registry;

/// One plugin reference with an optional weight (`Plugin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRef {
    /// Plugin name ("*" in disabled lists means all).
    pub name: String,
    /// Score weight (0 = default 1).
    pub weight: i64,
}

/// Enabled and disabled plugins of an extension point (`PluginSet`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSet {
    /// Enabled, in order.
    pub enabled: Vec<PluginRef>,
    /// Disabled.
    pub disabled: Vec<PluginRef>,
}

/// The extension points of a profile (`Plugins`), MultiPoint first.
pub const POINTS: [(&str, Option<ExtensionPoint>); 12] = [
    ("multiPoint", None),
    ("preEnqueue", Some(ExtensionPoint::PreEnqueue)),
    ("queueSort", Some(ExtensionPoint::QueueSort)),
    ("preFilter", Some(ExtensionPoint::PreFilter)),
    ("filter", Some(ExtensionPoint::Filter)),
    ("postFilter", Some(ExtensionPoint::PostFilter)),
    ("preScore", Some(ExtensionPoint::PreScore)),
    ("score", Some(ExtensionPoint::Score)),
    ("reserve", Some(ExtensionPoint::Reserve)),
    ("permit", Some(ExtensionPoint::Permit)),
    ("preBind", Some(ExtensionPoint::PreBind)),
    ("bind", Some(ExtensionPoint::Bind)),
];

/// A profile (`KubeSchedulerProfile`) after defaulting.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// `schedulerName`.
    pub scheduler_name: String,
    /// `percentageOfNodesToScore`.
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Plugin sets per extension point, in [`POINTS`] order.
    pub plugins: Vec<PluginSet>,
    /// `pluginConfig` args by plugin name.
    pub plugin_config: Vec<(String, Value)>,
}

/// A loaded configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfiguration {
    /// Global `percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: i32,
    /// `podInitialBackoffSeconds`.
    pub pod_initial_backoff_seconds: i64,
    /// `podMaxBackoffSeconds`.
    pub pod_max_backoff_seconds: i64,
    /// Profiles.
    pub profiles: Vec<Profile>,
}

/// The default MultiPoint plugins of 1.34 with weights (`getDefaultPlugins` + the
/// DynamicResourceAllocation gate, GA in 1.34).
pub fn default_multi_point() -> Vec<PluginRef> {
    let p = |name: &str, weight: i64| PluginRef {
        name: name.to_owned(),
        weight,
    };
    vec![
        p("SchedulingGates", 0),
        p("PrioritySort", 0),
        p("NodeUnschedulable", 0),
        p("NodeName", 0),
        p("TaintToleration", 3),
        p("NodeAffinity", 2),
        p("NodePorts", 0),
        p("NodeResourcesFit", 1),
        p("VolumeRestrictions", 0),
        p("NodeVolumeLimits", 0),
        p("VolumeBinding", 0),
        p("VolumeZone", 0),
        p("PodTopologySpread", 2),
        p("InterPodAffinity", 2),
        p("DynamicResources", 0),
        p("DefaultPreemption", 0),
        p("NodeResourcesBalancedAllocation", 1),
        p("ImageLocality", 1),
        p("DefaultBinder", 0),
    ]
}

impl Default for SchedulerConfiguration {
    fn default() -> Self {
        Self {
            percentage_of_nodes_to_score: 0,
            pod_initial_backoff_seconds: 1,
            pod_max_backoff_seconds: 10,
            profiles: vec![default_profile("default-scheduler")],
        }
    }
}

/// The default profile under `name`.
pub fn default_profile(name: &str) -> Profile {
    let mut plugins = vec![PluginSet::default(); POINTS.len()];
    plugins[0].enabled = default_multi_point();
    Profile {
        scheduler_name: name.to_owned(),
        percentage_of_nodes_to_score: None,
        plugins,
        plugin_config: Vec::new(),
    }
}

fn cfg_err(msg: impl Into<String>) -> SchedulerError {
    SchedulerError::Config(msg.into())
}

fn parse_plugin_list(v: Option<&Value>, path: &str) -> Result<Vec<PluginRef>, SchedulerError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    if v.is_null() {
        return Ok(Vec::new());
    }
    let arr = v
        .as_array()
        .ok_or_else(|| cfg_err(format!("{path}: expected a list")))?;
    arr.iter()
        .enumerate()
        .map(|(i, p)| {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| cfg_err(format!("{path}[{i}].name: required")))?;
            let weight = match p.get("weight") {
                None | Some(Value::Null) => 0,
                Some(w) => w
                    .as_i64()
                    .ok_or_else(|| cfg_err(format!("{path}[{i}].weight: expected an integer")))?,
            };
            Ok(PluginRef {
                name: name.to_owned(),
                weight,
            })
        })
        .collect()
}

/// Merges a custom plugin set into the default one (`mergePluginSet`).
pub fn merge_plugin_set(default: &PluginSet, custom: &PluginSet) -> PluginSet {
    let mut disabled_names = BTreeSet::new();
    let mut disabled = Vec::new();
    for d in custom.disabled.iter().chain(&default.disabled) {
        disabled.push(PluginRef {
            name: d.name.clone(),
            weight: 0,
        });
        disabled_names.insert(d.name.clone());
    }
    let mut replaced = BTreeSet::new();
    let mut enabled = Vec::new();
    if !disabled_names.contains("*") {
        for p in &default.enabled {
            if disabled_names.contains(&p.name) {
                continue;
            }
            match custom.enabled.iter().rposition(|c| c.name == p.name) {
                Some(i) => {
                    replaced.insert(i);
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push(p.clone()),
            }
        }
    }
    for (i, p) in custom.enabled.iter().enumerate() {
        if !replaced.contains(&i) {
            enabled.push(p.clone());
        }
    }
    PluginSet { enabled, disabled }
}

impl SchedulerConfiguration {
    /// Parses a YAML or JSON `KubeSchedulerConfiguration` and applies the v1 defaults.
    pub fn from_yaml(text: &str) -> Result<Self, SchedulerError> {
        let v: Value =
            serde_saphyr::from_str(text).map_err(|e| cfg_err(format!("parsing: {e}")))?;
        Self::from_value(&v)
    }

    /// Interprets a parsed configuration.
    pub fn from_value(v: &Value) -> Result<Self, SchedulerError> {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "KubeSchedulerConfiguration" {
            return Err(cfg_err(format!(
                "kind: expected KubeSchedulerConfiguration, got {kind:?}"
            )));
        }
        let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api != "kubescheduler.config.k8s.io/v1" {
            return Err(cfg_err(format!(
                "apiVersion: expected kubescheduler.config.k8s.io/v1, got {api:?}"
            )));
        }
        let int = |key: &str, default: i64| -> Result<i64, SchedulerError> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(x) => x
                    .as_i64()
                    .ok_or_else(|| cfg_err(format!("{key}: expected an integer"))),
            }
        };
        let pct = int("percentageOfNodesToScore", 0)?;
        if !(0..=100).contains(&pct) {
            return Err(cfg_err(format!(
                "percentageOfNodesToScore: Invalid value: {pct}: not in valid range [0-100]"
            )));
        }
        let mut cfg = SchedulerConfiguration {
            percentage_of_nodes_to_score: i32::try_from(pct).unwrap_or(0),
            pod_initial_backoff_seconds: int("podInitialBackoffSeconds", 1)?,
            pod_max_backoff_seconds: int("podMaxBackoffSeconds", 10)?,
            profiles: Vec::new(),
        };
        let profiles = v
            .get("profiles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if profiles.is_empty() {
            cfg.profiles.push(default_profile("default-scheduler"));
        }
        for (i, p) in profiles.iter().enumerate() {
            let path = format!("profiles[{i}]");
            let name = p
                .get("schedulerName")
                .and_then(Value::as_str)
                .unwrap_or("default-scheduler");
            let mut profile = default_profile(name);
            if let Some(x) = p.get("percentageOfNodesToScore").filter(|x| !x.is_null()) {
                let n = x.as_i64().ok_or_else(|| {
                    cfg_err(format!(
                        "{path}.percentageOfNodesToScore: expected an integer"
                    ))
                })?;
                if !(0..=100).contains(&n) {
                    return Err(cfg_err(format!(
                        "{path}.percentageOfNodesToScore: Invalid value: {n}: not in valid range [0-100]"
                    )));
                }
                profile.percentage_of_nodes_to_score = i32::try_from(n).ok();
            }
            if let Some(plugins) = p.get("plugins").filter(|x| !x.is_null()) {
                for (j, (key, _)) in POINTS.iter().enumerate() {
                    let set = plugins.get(*key);
                    let custom = PluginSet {
                        enabled: parse_plugin_list(
                            set.and_then(|s| s.get("enabled")),
                            &format!("{path}.plugins.{key}.enabled"),
                        )?,
                        disabled: parse_plugin_list(
                            set.and_then(|s| s.get("disabled")),
                            &format!("{path}.plugins.{key}.disabled"),
                        )?,
                    };
                    profile.plugins[j] = merge_plugin_set(&profile.plugins[j], &custom);
                }
            }
            for (j, pc) in p
                .get("pluginConfig")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let pname = pc
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| cfg_err(format!("{path}.pluginConfig[{j}].name: required")))?;
                if profile.plugin_config.iter().any(|(n, _)| n == pname) {
                    return Err(cfg_err(format!(
                        "{path}.pluginConfig[{j}]: Duplicate value: {pname:?}"
                    )));
                }
                profile.plugin_config.push((
                    pname.to_owned(),
                    pc.get("args").cloned().unwrap_or(Value::Null),
                ));
            }
            if cfg
                .profiles
                .iter()
                .any(|q: &Profile| q.scheduler_name == profile.scheduler_name)
            {
                return Err(cfg_err(format!(
                    "{path}.schedulerName: Duplicate value: {:?}",
                    profile.scheduler_name
                )));
            }
            cfg.profiles.push(profile);
        }
        Ok(cfg)
    }

    /// Builds the frameworks of all profiles.
    pub fn build_frameworks(&self) -> Result<Vec<Framework>, SchedulerError> {
        self.profiles.iter().map(build_framework).collect()
    }
}

/// Instantiates a profile's plugins and fills the extension points (`NewFramework`).
pub fn build_framework(profile: &Profile) -> Result<Framework, SchedulerError> {
    let mut fw = Framework::new(&profile.scheduler_name);
    fw.set_percentage_of_nodes_to_score(profile.percentage_of_nodes_to_score);
    // Instantiate every plugin named anywhere (`pluginsNeeded`).
    let mut needed: Vec<String> = Vec::new();
    for set in &profile.plugins {
        for p in &set.enabled {
            if !needed.contains(&p.name) {
                needed.push(p.name.clone());
            }
        }
    }
    let mut instances: Vec<(String, Arc<dyn Plugin>)> = Vec::new();
    for name in &needed {
        let args = profile
            .plugin_config
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a);
        match registry::build(name, args)? {
            Some(p) => instances.push((name.clone(), p)),
            None => return Err(cfg_err(format!("plugin {name:?} does not exist"))),
        }
    }
    let lookup = |name: &str| {
        instances
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
    };
    let multi = &profile.plugins[0];
    // Score weights: the Score set's weights take precedence over MultiPoint's (`getScoreWeights`).
    let score_set = &profile.plugins[7];
    let weight_of = |name: &str| -> i64 {
        score_set
            .enabled
            .iter()
            .chain(&multi.enabled)
            .find(|p| p.name == name)
            .map_or(1, |p| if p.weight == 0 { 1 } else { p.weight })
    };
    for (j, (key, point)) in POINTS.iter().enumerate().skip(1) {
        let Some(point) = *point else { continue };
        let set = &profile.plugins[j];
        let disabled: BTreeSet<&str> = set.disabled.iter().map(|p| p.name.as_str()).collect();
        let mut seen = BTreeSet::new();
        for p in &set.enabled {
            if !seen.insert(p.name.clone()) {
                return Err(cfg_err(format!(
                    "plugin {:?} already registered as {key}",
                    p.name
                )));
            }
        }
        let explicit: Vec<&str> = set.enabled.iter().map(|p| p.name.as_str()).collect();
        let mut order: Vec<String> = Vec::new();
        if !disabled.contains("*") {
            // Upstream: expandMultiPointPlugins — explicitly configured plugins that are also in
            // MultiPoint come first, then MultiPoint plugins, then the other explicit ones.
            let mut overrides = Vec::new();
            let mut multi_enabled = Vec::new();
            for ep in &multi.enabled {
                let Some(pl) = lookup(&ep.name) else { continue };
                if !implements(pl.as_ref(), point) || disabled.contains(ep.name.as_str()) {
                    continue;
                }
                if explicit.contains(&ep.name.as_str()) {
                    overrides.push(ep.name.clone());
                    continue;
                }
                if multi_enabled.contains(&ep.name) {
                    return Err(cfg_err(format!(
                        "plugin {:?} already registered as {key}",
                        ep.name
                    )));
                }
                multi_enabled.push(ep.name.clone());
            }
            for name in &explicit {
                if overrides.iter().any(|o| o == name) {
                    order.push((*name).to_owned());
                }
            }
            order.extend(multi_enabled);
            for name in &explicit {
                if !overrides.iter().any(|o| o == name) {
                    order.push((*name).to_owned());
                }
            }
        } else {
            order.extend(explicit.iter().map(|s| (*s).to_owned()));
        }
        for name in order {
            let Some(pl) = lookup(&name) else { continue };
            if !fw.enable(point, pl, weight_of(&name)) {
                return Err(cfg_err(format!(
                    "plugin {name:?} does not extend {key} plugin"
                )));
            }
        }
    }
    Ok(fw)
}

fn implements(p: &dyn Plugin, point: ExtensionPoint) -> bool {
    match point {
        ExtensionPoint::PreEnqueue => p.as_pre_enqueue().is_some(),
        ExtensionPoint::QueueSort => p.as_queue_sort().is_some(),
        ExtensionPoint::PreFilter => p.as_pre_filter().is_some(),
        ExtensionPoint::Filter => p.as_filter().is_some(),
        ExtensionPoint::PostFilter => p.as_post_filter().is_some(),
        ExtensionPoint::PreScore => p.as_pre_score().is_some(),
        ExtensionPoint::Score => p.as_score().is_some(),
        ExtensionPoint::Reserve => p.as_reserve().is_some(),
        ExtensionPoint::Permit => p.as_permit().is_some(),
        ExtensionPoint::PreBind => p.as_pre_bind().is_some(),
        ExtensionPoint::Bind => p.as_bind().is_some(),
    }
}

/// The frameworks of the default configuration.
pub fn default_frameworks() -> Result<Vec<Framework>, SchedulerError> {
    SchedulerConfiguration::default().build_frameworks()
}
