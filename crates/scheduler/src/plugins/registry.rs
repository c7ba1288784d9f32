//! The in-tree registry: builds a plugin by name from its (defaulted) args.
//!
//! Upstream: pkg/scheduler/framework/plugins/registry.go, pkg/scheduler/apis/config/v1/defaults.go
//! (`SetDefaults_NodeResourcesFitArgs`, `SetDefaults_NodeResourcesBalancedAllocationArgs`, …),
//! pkg/scheduler/apis/config/validation/validation_pluginargs.go.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::error::SchedulerError;
use crate::framework::Plugin;
use crate::helpers::normalize::ShapePoint;
use crate::plugins::noderesources::{
    BalancedAllocation, Fit, ResourceSpec, ScoringStrategy, default_resources,
};
use crate::plugins::{
    defaultbinder, defaultpreemption, dynamicresources, imagelocality, interpodaffinity, names,
    nodeaffinity, nodename, nodeports, nodeunschedulable, nodevolumelimits, podtopologyspread,
    queuesort, schedulinggates, tainttoleration, volumebinding, volumerestrictions, volumezone,
};

fn err(plugin: &str, msg: impl std::fmt::Display) -> SchedulerError {
    SchedulerError::Config(format!("pluginConfig {plugin}: {msg}"))
}

fn string_set(args: Option<&Value>, key: &str) -> BTreeSet<String> {
    args.and_then(|a| a.get(key))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn resources(
    v: Option<&Value>,
    plugin: &str,
    path: &str,
) -> Result<Option<Vec<ResourceSpec>>, SchedulerError> {
    let Some(arr) = v.and_then(Value::as_array) else {
        return Ok(None);
    };
    if arr.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (i, r) in arr.iter().enumerate() {
        let name = r
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| err(plugin, format!("{path}[{i}].name: required")))?;
        let weight = r.get("weight").and_then(Value::as_i64).unwrap_or(0);
        // Upstream defaults a missing weight to 1 and validates 1..=100.
        let weight = if weight == 0 { 1 } else { weight };
        if !(1..=100).contains(&weight) {
            return Err(err(
                plugin,
                format!(
                    "{path}[{i}].weight: Invalid value: {weight}: resource weight of {name} not in valid range [1, 100]"
                ),
            ));
        }
        out.push(ResourceSpec {
            name: name.to_owned(),
            weight,
        });
    }
    Ok(Some(out))
}

fn build_fit(args: Option<&Value>) -> Result<Fit, SchedulerError> {
    let plugin = names::NODE_RESOURCES_FIT;
    let strategy = args
        .and_then(|a| a.get("scoringStrategy"))
        .filter(|s| !s.is_null());
    let kind = strategy
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("LeastAllocated");
    let res = resources(
        strategy.and_then(|s| s.get("resources")),
        plugin,
        "scoringStrategy.resources",
    )?
    .unwrap_or_else(default_resources);
    let strategy = match kind {
        "LeastAllocated" => ScoringStrategy::LeastAllocated,
        "MostAllocated" => ScoringStrategy::MostAllocated,
        "RequestedToCapacityRatio" => {
            let shape = strategy
                .and_then(|s| s.get("requestedToCapacityRatio"))
                .and_then(|r| r.get("shape"))
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    err(
                        plugin,
                        "scoringStrategy.requestedToCapacityRatio.shape: Required value",
                    )
                })?;
            let mut points = Vec::new();
            for (i, p) in shape.iter().enumerate() {
                let u = p.get("utilization").and_then(Value::as_i64).unwrap_or(0);
                let s = p.get("score").and_then(Value::as_i64).unwrap_or(0);
                if !(0..=100).contains(&u) || !(0..=10).contains(&s) {
                    return Err(err(
                        plugin,
                        format!(
                            "scoringStrategy.requestedToCapacityRatio.shape[{i}]: Invalid value"
                        ),
                    ));
                }
                if let Some(prev) = points.last().map(|p: &ShapePoint| p.utilization)
                    && u <= prev
                {
                    return Err(err(
                        plugin,
                        format!(
                            "scoringStrategy.requestedToCapacityRatio.shape[{i}].utilization: Invalid value: {u}: utilization values must be sorted in increasing order"
                        ),
                    ));
                }
                points.push(ShapePoint {
                    utilization: u,
                    score: s,
                });
            }
            if points.is_empty() {
                return Err(err(
                    plugin,
                    "scoringStrategy.requestedToCapacityRatio.shape: Required value",
                ));
            }
            ScoringStrategy::RequestedToCapacityRatio(points)
        }
        other => {
            return Err(err(
                plugin,
                format!("scoringStrategy.type: Unsupported value: {other:?}"),
            ));
        }
    };
    Ok(Fit::new(
        string_set(args, "ignoredResources"),
        string_set(args, "ignoredResourceGroups"),
        strategy,
        res,
    ))
}

/// Builds the plugin `name` with `args` (`None` = defaults); `Ok(None)` when the name is unknown.
pub fn build(name: &str, args: Option<&Value>) -> Result<Option<Arc<dyn Plugin>>, SchedulerError> {
    let args = args.filter(|a| !a.is_null());
    let p: Arc<dyn Plugin> = match name {
        names::SCHEDULING_GATES => Arc::new(schedulinggates::SchedulingGates),
        names::PRIORITY_SORT => Arc::new(queuesort::PrioritySort),
        names::NODE_UNSCHEDULABLE => Arc::new(nodeunschedulable::NodeUnschedulable),
        names::NODE_NAME => Arc::new(nodename::NodeName),
        names::TAINT_TOLERATION => Arc::new(tainttoleration::TaintToleration),
        names::NODE_AFFINITY => {
            let added = match args
                .and_then(|a| a.get("addedAffinity"))
                .filter(|v| !v.is_null())
            {
                Some(v) => Some(
                    serde_json::from_value::<k8s_openapi::api::core::v1::NodeAffinity>(v.clone())
                        .map_err(|e| err(name, format!("addedAffinity: {e}")))?,
                ),
                None => None,
            };
            Arc::new(nodeaffinity::NodeAffinity::new(added.as_ref()).map_err(|e| err(name, e))?)
        }
        names::NODE_PORTS => Arc::new(nodeports::NodePorts),
        names::NODE_RESOURCES_FIT => Arc::new(build_fit(args)?),
        names::NODE_RESOURCES_BALANCED_ALLOCATION => {
            let res = resources(args.and_then(|a| a.get("resources")), name, "resources")?
                .unwrap_or_else(default_resources);
            Arc::new(BalancedAllocation::new(res))
        }
        names::IMAGE_LOCALITY => Arc::new(imagelocality::ImageLocality),
        names::DEFAULT_BINDER => Arc::new(defaultbinder::DefaultBinder),
        names::DYNAMIC_RESOURCES => Arc::new(dynamicresources::DynamicResources),
        names::VOLUME_RESTRICTIONS => Arc::new(volumerestrictions::VolumeRestrictions),
        names::NODE_VOLUME_LIMITS => Arc::new(nodevolumelimits::NodeVolumeLimits),
        names::VOLUME_BINDING => {
            let timeout = args
                .and_then(|a| a.get("bindTimeoutSeconds"))
                .and_then(Value::as_i64)
                .unwrap_or(600);
            if timeout < 0 {
                return Err(err(
                    name,
                    format!(
                        "bindTimeoutSeconds: Invalid value: {timeout}: invalid BindTimeoutSeconds, should not be a negative value"
                    ),
                ));
            }
            Arc::new(volumebinding::VolumeBinding)
        }
        names::VOLUME_ZONE => Arc::new(volumezone::VolumeZone),
        names::POD_TOPOLOGY_SPREAD => {
            let defaulting = args
                .and_then(|a| a.get("defaultingType"))
                .and_then(Value::as_str)
                .unwrap_or("System");
            let constraints: Vec<k8s_openapi::api::core::v1::TopologySpreadConstraint> = match args
                .and_then(|a| a.get("defaultConstraints"))
                .filter(|v| !v.is_null())
            {
                Some(v) => serde_json::from_value(v.clone())
                    .map_err(|e| err(name, format!("defaultConstraints: {e}")))?,
                None => Vec::new(),
            };
            if constraints.iter().any(|c| c.label_selector.is_some()) {
                return Err(err(
                    name,
                    "defaultConstraints.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod",
                ));
            }
            match defaulting {
                "System" if constraints.is_empty() => {
                    Arc::new(podtopologyspread::PodTopologySpread::default())
                }
                "System" => {
                    return Err(err(
                        name,
                        "defaultingType: Invalid value: \"System\": when .defaultConstraints are not empty",
                    ));
                }
                "List" => Arc::new(
                    podtopologyspread::PodTopologySpread::with_default_constraints(constraints),
                ),
                other => {
                    return Err(err(
                        name,
                        format!(
                            "defaultingType: Unsupported value: {other:?}: supported values: \"System\", \"List\""
                        ),
                    ));
                }
            }
        }
        names::INTER_POD_AFFINITY => {
            let weight = args
                .and_then(|a| a.get("hardPodAffinityWeight"))
                .and_then(Value::as_i64)
                .unwrap_or(1);
            if !(0..=100).contains(&weight) {
                return Err(err(
                    name,
                    format!(
                        "hardPodAffinityWeight: Invalid value: {weight}: not in valid range [0-100]"
                    ),
                ));
            }
            let ignore = args
                .and_then(|a| a.get("ignorePreferredTermsOfExistingPods"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Arc::new(interpodaffinity::InterPodAffinity::new(
                i32::try_from(weight).unwrap_or(1),
                ignore,
            ))
        }
        names::DEFAULT_PREEMPTION => {
            let pct = args
                .and_then(|a| a.get("minCandidateNodesPercentage"))
                .and_then(Value::as_i64)
                .unwrap_or(10);
            let abs = args
                .and_then(|a| a.get("minCandidateNodesAbsolute"))
                .and_then(Value::as_i64)
                .unwrap_or(100);
            if !(0..=100).contains(&pct) {
                return Err(err(
                    name,
                    format!(
                        "minCandidateNodesPercentage: Invalid value: {pct}: not in valid range [0, 100]"
                    ),
                ));
            }
            if abs < 0 {
                return Err(err(
                    name,
                    format!(
                        "minCandidateNodesAbsolute: Invalid value: {abs}: not in valid range [0, inf)"
                    ),
                ));
            }
            if pct == 0 && abs == 0 {
                return Err(err(
                    name,
                    "minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage",
                ));
            }
            Arc::new(defaultpreemption::DefaultPreemption::new(pct, abs))
        }
        _ => return Ok(None),
    };
    Ok(Some(p))
}
