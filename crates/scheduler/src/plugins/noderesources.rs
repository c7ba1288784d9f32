//! NodeResourcesFit (filter on free capacity; LeastAllocated, MostAllocated or
//! RequestedToCapacityRatio scoring) and NodeResourcesBalancedAllocation.
//!
//! Upstream: pkg/scheduler/framework/plugins/noderesources/{fit.go, resource_allocation.go,
//! least_allocated.go, most_allocated.go, requested_to_capacity_ratio.go, balanced_allocation.go}.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::cycle_state::CycleState;
use crate::framework::{
    FilterPlugin, Handle, MAX_NODE_SCORE, Plugin, PreFilterPlugin, PreFilterResult, PreScorePlugin,
    ScorePlugin,
};
use crate::helpers::normalize::{ShapePoint, broken_linear};
use crate::plugins::names;
use crate::resource::{
    self, CPU, EPHEMERAL_STORAGE, MEMORY, Resource, is_extended_resource_name,
    is_scalar_resource_name,
};
use crate::status::{Code, Status};
use crate::types::{NodeInfo, PodInfo};

const PRE_FILTER_STATE_KEY: &str = "PreFilterNodeResourcesFit";
const PRE_SCORE_STATE_KEY: &str = "PreScoreNodeResourcesFit";
const BALANCED_PRE_SCORE_STATE_KEY: &str = "PreScoreNodeResourcesBalancedAllocation";
/// Scores in a RequestedToCapacityRatio shape go up to this (`MaxCustomPriorityScore`).
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// A resource and its weight in scoring (`ResourceSpec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Resource name.
    pub name: String,
    /// Weight (≥ 1).
    pub weight: i64,
}

/// The default scored resources: cpu and memory with weight 1.
pub fn default_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec {
            name: CPU.into(),
            weight: 1,
        },
        ResourceSpec {
            name: MEMORY.into(),
            weight: 1,
        },
    ]
}

/// How NodeResourcesFit scores (`ScoringStrategyType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer emptier nodes.
    LeastAllocated,
    /// Prefer fuller nodes.
    MostAllocated,
    /// A piecewise-linear function of utilization; points are (utilization 0..=100, score 0..=10).
    RequestedToCapacityRatio(Vec<ShapePoint>),
}

/// One insufficient resource (`InsufficientResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsufficientResource {
    /// Resource name.
    pub resource_name: Cow<'static, str>,
    /// The reason text.
    pub reason: Cow<'static, str>,
    /// Requested by the pod.
    pub requested: i64,
    /// Already used on the node.
    pub used: i64,
    /// Allocatable on the node.
    pub capacity: i64,
    /// The request exceeds allocatable (1.34: UnschedulableAndUnresolvable).
    pub unresolvable: bool,
}

/// Which resources `fits_request` reports as insufficient (`fitsRequest`).
pub fn fits_request(
    req: &Resource,
    node: &NodeInfo,
    ignored: &BTreeSet<String>,
    ignored_groups: &BTreeSet<String>,
) -> Vec<InsufficientResource> {
    let mut out = Vec::new();
    for_each_insufficient(req, node, ignored, ignored_groups, |r| out.push(r));
    out
}

/// Calls `out` with each insufficient resource, in `fitsRequest`'s order.
fn for_each_insufficient(
    req: &Resource,
    node: &NodeInfo,
    ignored: &BTreeSet<String>,
    ignored_groups: &BTreeSet<String>,
    mut out: impl FnMut(InsufficientResource),
) {
    let alloc = node.allocatable();
    let used = &node.requested;
    let pods = i64::try_from(node.pods.len()).unwrap_or(i64::MAX);
    if pods + 1 > alloc.allowed_pod_number {
        out(InsufficientResource {
            resource_name: Cow::Borrowed(resource::PODS),
            reason: Cow::Borrowed("Too many pods"),
            requested: 1,
            used: pods,
            capacity: alloc.allowed_pod_number,
            unresolvable: false,
        });
    }
    if req.milli_cpu == 0 && req.memory == 0 && req.ephemeral_storage == 0 && req.scalar.is_empty()
    {
        return;
    }
    let mut check = |name: &'static str, reason: &'static str, r: i64, a: i64, u: i64| {
        if r > 0 && r > a - u {
            out(InsufficientResource {
                resource_name: Cow::Borrowed(name),
                reason: Cow::Borrowed(reason),
                requested: r,
                used: u,
                capacity: a,
                unresolvable: r > a,
            });
        }
    };
    check(
        CPU,
        "Insufficient cpu",
        req.milli_cpu,
        alloc.milli_cpu,
        used.milli_cpu,
    );
    check(
        MEMORY,
        "Insufficient memory",
        req.memory,
        alloc.memory,
        used.memory,
    );
    check(
        EPHEMERAL_STORAGE,
        "Insufficient ephemeral-storage",
        req.ephemeral_storage,
        alloc.ephemeral_storage,
        used.ephemeral_storage,
    );
    for (name, &q) in &req.scalar {
        if q == 0 {
            continue;
        }
        if is_extended_resource_name(name) {
            let prefix = name.split('/').next().unwrap_or("");
            if ignored.contains(name)
                || (!ignored_groups.is_empty() && ignored_groups.contains(prefix))
            {
                continue;
            }
        }
        let a = alloc.scalar(name);
        let u = used.scalar(name);
        if q > a - u {
            out(InsufficientResource {
                resource_name: Cow::Owned(name.clone()),
                reason: Cow::Owned(format!("Insufficient {name}")),
                requested: q,
                used: u,
                capacity: a,
                unresolvable: q > a,
            });
        }
    }
}

/// The shared scorer over a list of resources (`resourceAllocationScorer`).
#[derive(Debug, Clone)]
struct AllocationScorer {
    use_requested: bool,
    resources: Vec<ResourceSpec>,
    /// Per resource, what its name denotes (decided once, not per node).
    kinds: Vec<ScoredResource>,
}

/// What a scored resource's name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScoredResource {
    Cpu,
    Memory,
    EphemeralStorage,
    /// Any other resource; `scalar`: `IsScalarResourceName`.
    Other {
        scalar: bool,
    },
}

impl ScoredResource {
    fn of(name: &str) -> Self {
        match name {
            CPU => Self::Cpu,
            MEMORY => Self::Memory,
            EPHEMERAL_STORAGE => Self::EphemeralStorage,
            other => Self::Other {
                scalar: is_scalar_resource_name(other),
            },
        }
    }

    fn is_scalar(self) -> bool {
        matches!(self, Self::Other { scalar: true })
    }
}

impl AllocationScorer {
    fn new(use_requested: bool, resources: Vec<ResourceSpec>) -> Self {
        Self {
            use_requested,
            kinds: resources
                .iter()
                .map(|r| ScoredResource::of(&r.name))
                .collect(),
            resources,
        }
    }

    fn pod_requests(&self, pod: &PodInfo) -> Result<Vec<i64>, Status> {
        self.resources
            .iter()
            .map(|r| {
                resource::scorer_request(&pod.pod, &r.name, self.use_requested)
                    .map_err(|e| Status::error(e.to_string()))
            })
            .collect()
    }

    /// (allocatable, requested) of scored resource `i` on the node
    /// (`calculateResourceAllocatableRequest`).
    fn alloc_and_request(&self, node: &NodeInfo, i: usize, pod_request: i64) -> (i64, i64) {
        let (Some(spec), Some(&kind)) = (self.resources.get(i), self.kinds.get(i)) else {
            return (0, 0);
        };
        let requested = if self.use_requested {
            &node.requested
        } else {
            &node.non_zero_requested
        };
        if pod_request == 0 && kind.is_scalar() {
            return (0, 0);
        }
        let alloc = node.allocatable();
        match kind {
            ScoredResource::Cpu => (alloc.milli_cpu, requested.milli_cpu + pod_request),
            ScoredResource::Memory => (alloc.memory, requested.memory + pod_request),
            ScoredResource::EphemeralStorage => (
                alloc.ephemeral_storage,
                node.requested.ephemeral_storage + pod_request,
            ),
            ScoredResource::Other { .. } => match alloc.scalar.get(&spec.name) {
                Some(&a) => (a, node.requested.scalar(&spec.name) + pod_request),
                None => (0, 0),
            },
        }
    }

    /// Requested and allocatable per scored resource (at most [`MAX_SCORED`] resources are scored
    /// without allocating).
    fn vectors(&self, node: &NodeInfo, pod_requests: &[i64]) -> (Vec<i64>, Vec<i64>) {
        let mut requested = vec![0; self.resources.len()];
        let mut allocatable = vec![0; self.resources.len()];
        self.fill(node, pod_requests, &mut requested, &mut allocatable);
        (requested, allocatable)
    }

    fn fill(
        &self,
        node: &NodeInfo,
        pod_requests: &[i64],
        requested: &mut [i64],
        allocatable: &mut [i64],
    ) {
        for i in 0..self.resources.len() {
            let (a, q) = self.alloc_and_request(node, i, pod_requests.get(i).copied().unwrap_or(0));
            if a == 0 {
                continue;
            }
            allocatable[i] = a;
            requested[i] = q;
        }
    }

    /// Calls `f` with the requested and allocatable slices, on the stack when they are short.
    fn with_vectors<R>(
        &self,
        node: &NodeInfo,
        pod_requests: &[i64],
        f: impl FnOnce(&[i64], &[i64]) -> R,
    ) -> R {
        let n = self.resources.len();
        if n <= MAX_SCORED {
            let mut req = [0i64; MAX_SCORED];
            let mut alloc = [0i64; MAX_SCORED];
            self.fill(node, pod_requests, &mut req[..n], &mut alloc[..n]);
            f(&req[..n], &alloc[..n])
        } else {
            let (req, alloc) = self.vectors(node, pod_requests);
            f(&req, &alloc)
        }
    }
}

/// Scored resources handled without allocation.
const MAX_SCORED: usize = 8;

/// `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `mostRequestedScore`.
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

fn weighted_average(
    resources: &[ResourceSpec],
    requested: &[i64],
    allocatable: &[i64],
    f: impl Fn(i64, i64) -> i64,
) -> i64 {
    let (mut score, mut weights) = (0, 0);
    for (i, r) in resources.iter().enumerate() {
        if allocatable[i] == 0 {
            continue;
        }
        score += f(requested[i], allocatable[i]) * r.weight;
        weights += r.weight;
    }
    if weights == 0 { 0 } else { score / weights }
}

/// The RequestedToCapacityRatio node score (`buildRequestedToCapacityRatioScorerFunction`);
/// `shape` scores are already scaled to 0..=100.
pub fn requested_to_capacity_ratio_score(
    shape: &[ShapePoint],
    resources: &[ResourceSpec],
    requested: &[i64],
    allocatable: &[i64],
) -> i64 {
    let per = |req: i64, cap: i64| {
        if cap == 0 || req > cap {
            broken_linear(shape, 100)
        } else {
            broken_linear(shape, req * 100 / cap)
        }
    };
    let (mut score, mut weights) = (0_i64, 0_i64);
    for (i, r) in resources.iter().enumerate() {
        if allocatable[i] == 0 {
            continue;
        }
        let s = per(requested[i], allocatable[i]);
        if s > 0 {
            score += s * r.weight;
            weights += r.weight;
        }
    }
    if weights == 0 {
        return 0;
    }
    (score as f64 / weights as f64).round() as i64
}

/// The BalancedAllocation score (`balancedResourceScorer`).
pub fn balanced_resource_score(requested: &[i64], allocatable: &[i64]) -> i64 {
    // The fractions stay on the stack for the usual few resources (this runs per node).
    let mut inline = [0.0_f64; MAX_SCORED];
    let mut spilled: Vec<f64> = Vec::new();
    let mut len = 0;
    let mut total = 0.0_f64;
    for (r, a) in requested.iter().zip(allocatable) {
        if *a == 0 {
            continue;
        }
        let f = (*r as f64 / *a as f64).min(1.0);
        total += f;
        if len < MAX_SCORED {
            inline[len] = f;
        } else {
            if spilled.is_empty() {
                spilled.extend_from_slice(&inline);
            }
            spilled.push(f);
        }
        len += 1;
    }
    let fractions: &[f64] = if len <= MAX_SCORED {
        &inline[..len]
    } else {
        &spilled
    };
    let std = match fractions.len() {
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n if n > 2 => {
            let mean = total / n as f64;
            let sum: f64 = fractions.iter().map(|f| (f - mean) * (f - mean)).sum();
            (sum / n as f64).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// The NodeResourcesFit plugin.
#[derive(Debug, Clone)]
pub struct Fit {
    ignored_resources: BTreeSet<String>,
    ignored_resource_groups: BTreeSet<String>,
    strategy: ScoringStrategy,
    scorer: AllocationScorer,
}

#[derive(Clone)]
struct FitPreFilterState(Resource);

#[derive(Clone)]
struct PodRequestsState(Vec<i64>);

impl Default for Fit {
    fn default() -> Self {
        Self::new(
            BTreeSet::new(),
            BTreeSet::new(),
            ScoringStrategy::LeastAllocated,
            default_resources(),
        )
    }
}

impl Fit {
    /// Builds the plugin from its args; `resources` are the scored resources.
    pub fn new(
        ignored_resources: BTreeSet<String>,
        ignored_resource_groups: BTreeSet<String>,
        strategy: ScoringStrategy,
        resources: Vec<ResourceSpec>,
    ) -> Self {
        Self {
            ignored_resources,
            ignored_resource_groups,
            strategy,
            scorer: AllocationScorer::new(false, resources),
        }
    }

    fn node_score(&self, node: &NodeInfo, pod_requests: &[i64]) -> i64 {
        let res = &self.scorer.resources;
        self.scorer
            .with_vectors(node, pod_requests, |req, alloc| match &self.strategy {
                ScoringStrategy::LeastAllocated => {
                    weighted_average(res, req, alloc, least_requested_score)
                }
                ScoringStrategy::MostAllocated => {
                    weighted_average(res, req, alloc, most_requested_score)
                }
                ScoringStrategy::RequestedToCapacityRatio(shape) => {
                    let scaled: Vec<ShapePoint> = shape
                        .iter()
                        .map(|p| ShapePoint {
                            utilization: p.utilization,
                            score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
                        })
                        .collect();
                    requested_to_capacity_ratio_score(&scaled, res, req, alloc)
                }
            })
    }
}

impl Plugin for Fit {
    fn name(&self) -> &'static str {
        names::NODE_RESOURCES_FIT
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
}

impl PreFilterPlugin for Fit {
    fn pre_filter(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
    ) -> (Option<PreFilterResult>, Status) {
        state.write(
            PRE_FILTER_STATE_KEY,
            FitPreFilterState(pod.fit_request.clone()),
        );
        (None, Status::success())
    }
}

impl FilterPlugin for Fit {
    fn node_local(&self) -> bool {
        true
    }

    fn filter(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        let _ = pod;
        let Some(FitPreFilterState(req)) = state.read::<FitPreFilterState>(PRE_FILTER_STATE_KEY)
        else {
            // Upstream: Filter without PreFilter fails with the cycle state's ErrNotFound.
            return Status::error(format!(
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        // The reasons are gathered without a list: most rejections have a single static one.
        let mut first: Option<Cow<'static, str>> = None;
        let mut more: Vec<Cow<'static, str>> = Vec::new();
        let mut unresolvable = false;
        for_each_insufficient(
            req,
            node,
            &self.ignored_resources,
            &self.ignored_resource_groups,
            |r| {
                unresolvable |= r.unresolvable;
                if first.is_none() {
                    first = Some(r.reason);
                } else {
                    more.push(r.reason);
                }
            },
        );
        let Some(first) = first else {
            return Status::success();
        };
        let code = if unresolvable {
            Code::UnschedulableAndUnresolvable
        } else {
            Code::Unschedulable
        };
        if more.is_empty() {
            return Status::with_cow_reason(code, first);
        }
        more.insert(0, first);
        Status::from_reasons(code, more)
    }
}

impl PreScorePlugin for Fit {
    fn pre_score(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
    ) -> Status {
        match self.scorer.pod_requests(pod) {
            Ok(r) => {
                state.write(PRE_SCORE_STATE_KEY, PodRequestsState(r));
                Status::success()
            }
            Err(s) => s,
        }
    }
}

impl ScorePlugin for Fit {
    fn score(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        if self.scorer.resources.is_empty() {
            return Err(Status::error("resources not found"));
        }
        match state.read::<PodRequestsState>(PRE_SCORE_STATE_KEY) {
            Some(s) => Ok(self.node_score(node, &s.0)),
            None => Ok(self.node_score(node, &self.scorer.pod_requests(pod)?)),
        }
    }
}

/// The NodeResourcesBalancedAllocation plugin.
#[derive(Debug, Clone)]
pub struct BalancedAllocation {
    scorer: AllocationScorer,
}

impl Default for BalancedAllocation {
    fn default() -> Self {
        Self::new(default_resources())
    }
}

impl BalancedAllocation {
    /// Builds the plugin for the given resources.
    pub fn new(resources: Vec<ResourceSpec>) -> Self {
        Self {
            scorer: AllocationScorer::new(true, resources),
        }
    }
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        names::NODE_RESOURCES_BALANCED_ALLOCATION
    }
    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for BalancedAllocation {
    fn pre_score(
        &self,
        _h: &Handle<'_>,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[&NodeInfo],
    ) -> Status {
        let reqs = match self.scorer.pod_requests(pod) {
            Ok(r) => r,
            Err(s) => return s,
        };
        // 1.33+: best-effort pods are not scored.
        if reqs.iter().all(|&r| r == 0) {
            return Status::skip();
        }
        state.write(BALANCED_PRE_SCORE_STATE_KEY, PodRequestsState(reqs));
        Status::success()
    }
}

impl ScorePlugin for BalancedAllocation {
    fn score(
        &self,
        _h: &Handle<'_>,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Result<i64, Status> {
        let computed;
        let reqs = match state.read::<PodRequestsState>(BALANCED_PRE_SCORE_STATE_KEY) {
            Some(s) => &s.0,
            None => {
                computed = self.scorer.pod_requests(pod)?;
                if computed.iter().all(|&r| r == 0) {
                    return Ok(0);
                }
                &computed
            }
        };
        if self.scorer.resources.is_empty() {
            return Err(Status::error("resources not found"));
        }
        Ok(self
            .scorer
            .with_vectors(node, reqs, balanced_resource_score))
    }
}
