//! Node capacity and allocatable: what the kubelet reports in `status.capacity` and
//! `status.allocatable`.
//!
//! Allocatable = capacity − kube-reserved − system-reserved − hard-eviction reservation, per
//! resource, clamped at zero; hugepages are then taken out of memory. Only the
//! `memory.available` and `nodefs.available` hard thresholds reserve anything (memory and
//! ephemeral-storage respectively); a percentage threshold reserves that share of capacity.
//! Upstream: `pkg/kubelet/cm/node_container_manager_linux.go` (`GetNodeAllocatableReservation`,
//! `validateNodeAllocatable`), `pkg/kubelet/cm/helpers.go` (`hardEvictionReservation`),
//! `pkg/kubelet/nodestatus/setters.go` (`MachineInfo`), `pkg/kubelet/eviction/helpers.go`
//! (`ParseThresholdConfig`, `parsePercentage`), `pkg/kubelet/eviction/api/types.go`
//! (`GetThresholdQuantity`), `pkg/kubelet/apis/config/v1beta1/defaults_linux.go`
//! (`DefaultEvictionHard`).

use std::collections::BTreeMap;

use kubetwin_core::quantity::{Format, Quantity};

/// Resource name → quantity, in name order.
pub type ResourceList = BTreeMap<String, Quantity>;

/// `cpu`.
pub const RESOURCE_CPU: &str = "cpu";
/// `memory`.
pub const RESOURCE_MEMORY: &str = "memory";
/// `ephemeral-storage`.
pub const RESOURCE_EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// `pods`.
pub const RESOURCE_PODS: &str = "pods";
/// `pid` (reservable, never part of node status).
pub const RESOURCE_PID: &str = "pid";
/// The NVIDIA device plugin's resource name.
pub const RESOURCE_GPU: &str = "nvidia.com/gpu";

/// Resources `--kube-reserved` and `--system-reserved` accept.
pub const RESERVABLE_RESOURCES: &[&str] = &[
    RESOURCE_CPU,
    RESOURCE_MEMORY,
    RESOURCE_EPHEMERAL_STORAGE,
    RESOURCE_PID,
];

/// The kubelet's default `--eviction-hard` on Linux.
pub const DEFAULT_EVICTION_HARD: &[(&str, &str)] = &[
    ("imagefs.available", "15%"),
    ("imagefs.inodesFree", "5%"),
    ("memory.available", "100Mi"),
    ("nodefs.available", "10%"),
    ("nodefs.inodesFree", "5%"),
];

/// Eviction signals the kubelet knows (`signalToResource` keys plus the allocatable signal).
/// Upstream: `pkg/kubelet/eviction/api/types.go`.
pub const EVICTION_SIGNALS: &[&str] = &[
    "memory.available",
    "allocatableMemory.available",
    "nodefs.available",
    "nodefs.inodesFree",
    "imagefs.available",
    "imagefs.inodesFree",
    "containerfs.available",
    "containerfs.inodesFree",
    "pid.available",
];

/// The value of a hard eviction threshold.
#[derive(Debug, Clone, PartialEq)]
pub enum ThresholdValue {
    /// An absolute amount (`100Mi`).
    Quantity(Quantity),
    /// A share of capacity, as the kubelet keeps it: a float32 fraction (`10%` → 0.1).
    Percentage(f32),
}

/// One hard eviction threshold (`signal < value`).
#[derive(Debug, Clone, PartialEq)]
pub struct EvictionThreshold {
    /// The signal, e.g. `memory.available`.
    pub signal: String,
    /// The threshold.
    pub value: ThresholdValue,
}

/// What a kubelet keeps back from pods.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reservations {
    /// `--kube-reserved`.
    pub kube_reserved: ResourceList,
    /// `--system-reserved`.
    pub system_reserved: ResourceList,
    /// `--eviction-hard`, parsed; thresholds set to `0%`/`100%` are dropped as the kubelet does.
    pub eviction_hard: Vec<EvictionThreshold>,
}

impl Reservations {
    /// The kubelet defaults: nothing reserved, default hard eviction thresholds.
    pub fn kubelet_defaults() -> Self {
        let map: BTreeMap<String, String> = DEFAULT_EVICTION_HARD
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        Self {
            kube_reserved: ResourceList::new(),
            system_reserved: ResourceList::new(),
            // The defaults are valid by construction.
            eviction_hard: parse_eviction_hard(&map).unwrap_or_default(),
        }
    }
}

/// Parses an `--eviction-hard` map. On error, returns the offending signal and the kubelet's
/// message.
pub fn parse_eviction_hard(
    map: &BTreeMap<String, String>,
) -> Result<Vec<EvictionThreshold>, (String, String)> {
    let mut thresholds = Vec::new();
    for (signal, value) in map {
        if let Some(threshold) =
            parse_threshold(signal, value).map_err(|message| (signal.clone(), message))?
        {
            thresholds.push(threshold);
        }
    }
    Ok(thresholds)
}

/// One threshold statement (`parseThresholdStatement`); `None` for the ignored `0%`/`100%`.
fn parse_threshold(signal: &str, value: &str) -> Result<Option<EvictionThreshold>, String> {
    if !EVICTION_SIGNALS.contains(&signal) {
        return Err(format!("unsupported eviction signal {signal}"));
    }
    if value.ends_with('%') {
        if value == "0%" || value == "100%" {
            return Ok(None);
        }
        let number = value.trim_end_matches('%');
        let parsed: f32 = number
            .parse()
            .map_err(|_| format!("invalid percentage {value:?}"))?;
        // Known difference: Go accepts NaN and infinities here; they make no sense as a share.
        if !parsed.is_finite() {
            return Err(format!("invalid percentage {value:?}"));
        }
        let percentage = parsed / 100.0;
        if percentage < 0.0 {
            return Err(format!(
                "eviction percentage threshold {signal} must be >= 0%: {value}"
            ));
        }
        // Upstream compares the fraction (not the percent) with 100: kept as is.
        if percentage > 100.0 {
            return Err(format!(
                "eviction percentage threshold {signal} must be <= 100%: {value}"
            ));
        }
        return Ok(Some(EvictionThreshold {
            signal: signal.to_string(),
            value: ThresholdValue::Percentage(percentage),
        }));
    }
    let quantity = Quantity::parse(value).map_err(|e| e.to_string())?;
    if quantity.sign() <= 0 {
        return Err(format!(
            "eviction threshold {signal} must be positive: {quantity}"
        ));
    }
    Ok(Some(EvictionThreshold {
        signal: signal.to_string(),
        value: ThresholdValue::Quantity(quantity),
    }))
}

/// The amount a threshold stands for on a resource of the given capacity
/// (`GetThresholdQuantity`): percentages are `int64(float64(capacity) * float64(fraction))`.
pub fn threshold_quantity(value: &ThresholdValue, capacity: &Quantity) -> Quantity {
    match value {
        ThresholdValue::Quantity(q) => q.clone(),
        ThresholdValue::Percentage(fraction) => {
            let bytes = (capacity.value() as f64 * f64::from(*fraction)) as i64;
            Quantity::new(bytes, Format::BinarySI)
        }
    }
}

/// What hard eviction thresholds reserve (`hardEvictionReservation`).
pub fn hard_eviction_reservation(
    thresholds: &[EvictionThreshold],
    capacity: &ResourceList,
) -> ResourceList {
    let mut reserved = ResourceList::new();
    for threshold in thresholds {
        let resource = match threshold.signal.as_str() {
            "memory.available" => RESOURCE_MEMORY,
            "nodefs.available" => RESOURCE_EPHEMERAL_STORAGE,
            _ => continue,
        };
        let capacity_of = capacity.get(resource).cloned().unwrap_or_default();
        reserved.insert(
            resource.to_string(),
            threshold_quantity(&threshold.value, &capacity_of),
        );
    }
    reserved
}

/// Everything kept back from pods, per resource present in capacity; zero entries are left out
/// (`GetNodeAllocatableReservation`).
pub fn node_allocatable_reservation(
    reservations: &Reservations,
    capacity: &ResourceList,
) -> ResourceList {
    let eviction = hard_eviction_reservation(&reservations.eviction_hard, capacity);
    let mut result = ResourceList::new();
    for name in capacity.keys() {
        let mut value = Quantity::new(0, Format::DecimalSI);
        for list in [
            &reservations.system_reserved,
            &reservations.kube_reserved,
            &eviction,
        ] {
            if let Some(amount) = list.get(name) {
                value.add(amount);
            }
        }
        if !value.is_zero() {
            result.insert(name.clone(), value);
        }
    }
    result
}

/// The kubelet's refusal to start when reservations exceed capacity
/// (`validateNodeAllocatable`), with its message.
pub fn validate_node_allocatable(
    reservations: &Reservations,
    capacity: &ResourceList,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for (name, reserved) in node_allocatable_reservation(reservations, capacity) {
        let mut left = capacity.get(&name).cloned().unwrap_or_default();
        left.sub(&reserved);
        if left.sign() < 0 {
            // Upstream's wording swaps the two numbers; kept for fidelity.
            problems.push(format!(
                "Resource {name:?} has an allocatable of {reserved}, capacity of {left}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "invalid Node Allocatable configuration. {}",
            problems.join(" ")
        ))
    }
}

/// Whether a resource name is a hugepages size (`hugepages-2Mi`).
pub fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// `status.allocatable` from `status.capacity` (the `MachineInfo` setter): capacity minus the
/// reservation, clamped at zero, then hugepages taken out of memory.
pub fn allocatable(capacity: &ResourceList, reservations: &Reservations) -> ResourceList {
    let reservation = node_allocatable_reservation(reservations, capacity);
    let mut result = ResourceList::new();
    for (name, amount) in capacity {
        let mut value = amount.clone();
        if let Some(reserved) = reservation.get(name) {
            value.sub(reserved);
        }
        if value.sign() < 0 {
            value = Quantity::new(0, value.format());
        }
        result.insert(name.clone(), value);
    }
    let hugepages: Vec<Quantity> = capacity
        .iter()
        .filter(|(name, _)| is_hugepages(name))
        .map(|(_, amount)| amount.clone())
        .collect();
    if let Some(memory) = result.get_mut(RESOURCE_MEMORY) {
        for pages in &hugepages {
            memory.sub(pages);
            if memory.sign() < 0 {
                *memory = Quantity::new(0, memory.format());
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[(&str, &str)]) -> ResourceList {
        entries
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_string(), Quantity::parse(v).unwrap()))
            .collect()
    }

    fn cpu_mem(cpu: &str, memory: &str) -> ResourceList {
        list(&[(RESOURCE_CPU, cpu), (RESOURCE_MEMORY, memory)])
    }

    fn storage(amount: &str) -> ResourceList {
        list(&[(RESOURCE_EPHEMERAL_STORAGE, amount)])
    }

    fn threshold(signal: &str, value: Option<ThresholdValue>) -> Vec<EvictionThreshold> {
        // Upstream's table sets a threshold with an empty value when none is given; that
        // reserves nothing, the same as no threshold at all.
        value
            .map(|value| EvictionThreshold {
                signal: signal.to_string(),
                value,
            })
            .into_iter()
            .collect()
    }

    fn quantity(text: &str) -> Option<ThresholdValue> {
        Some(ThresholdValue::Quantity(Quantity::parse(text).unwrap()))
    }

    fn assert_same_milli(got: &ResourceList, want: &ResourceList, case: usize) {
        for (name, value) in got {
            let expected = want
                .get(name)
                .unwrap_or_else(|| panic!("case {case}: unexpected resource {name}"));
            assert_eq!(
                value.milli_value(),
                expected.milli_value(),
                "case {case}: resource {name}"
            );
        }
    }

    /// Transcribed from upstream `TestNodeAllocatableReservationForScheduling`
    /// (pkg/kubelet/cm/node_container_manager_linux_test.go), cpu/memory table.
    #[test]
    fn reservation_for_scheduling_cpu_memory() {
        let cases: Vec<(
            ResourceList,
            ResourceList,
            ResourceList,
            Option<ThresholdValue>,
            ResourceList,
        )> = vec![
            (
                cpu_mem("100m", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                None,
                cpu_mem("150m", "150Mi"),
            ),
            (
                cpu_mem("100m", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                quantity("100Mi"),
                cpu_mem("150m", "250Mi"),
            ),
            (
                cpu_mem("100m", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                Some(ThresholdValue::Percentage(0.05)),
                cpu_mem("150m", "694157320"),
            ),
            (
                ResourceList::new(),
                ResourceList::new(),
                cpu_mem("10", "10Gi"),
                None,
                cpu_mem("", ""),
            ),
            (
                cpu_mem("", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                None,
                cpu_mem("50m", "150Mi"),
            ),
            (
                cpu_mem("50m", "100Mi"),
                cpu_mem("", "50Mi"),
                cpu_mem("10", "10Gi"),
                None,
                cpu_mem("50m", "150Mi"),
            ),
            (
                cpu_mem("", "100Mi"),
                cpu_mem("", "50Mi"),
                cpu_mem("10", ""),
                None,
                cpu_mem("", "150Mi"),
            ),
        ];
        for (index, (kube, system, capacity, hard, expected)) in cases.into_iter().enumerate() {
            let reservations = Reservations {
                kube_reserved: kube,
                system_reserved: system,
                eviction_hard: threshold("memory.available", hard),
            };
            let got = node_allocatable_reservation(&reservations, &capacity);
            assert_same_milli(&got, &expected, index + 1);
        }
    }

    /// Transcribed from upstream `TestNodeAllocatableReservationForScheduling`, ephemeral
    /// storage table.
    #[test]
    fn reservation_for_scheduling_ephemeral_storage() {
        let cases: Vec<(
            ResourceList,
            ResourceList,
            Option<ThresholdValue>,
            ResourceList,
        )> = vec![
            (storage("100Mi"), storage("10Gi"), None, storage("100Mi")),
            (
                storage("100Mi"),
                storage("10Gi"),
                quantity("100Mi"),
                storage("200Mi"),
            ),
            (
                storage("150Mi"),
                storage("10Gi"),
                Some(ThresholdValue::Percentage(0.05)),
                storage("694157320"),
            ),
            (ResourceList::new(), storage("10Gi"), None, storage("")),
        ];
        for (index, (kube, capacity, hard, expected)) in cases.into_iter().enumerate() {
            let reservations = Reservations {
                kube_reserved: kube,
                system_reserved: ResourceList::new(),
                eviction_hard: threshold("nodefs.available", hard),
            };
            let got = node_allocatable_reservation(&reservations, &capacity);
            assert_same_milli(&got, &expected, index + 1);
        }
    }

    /// Transcribed from upstream `TestNodeAllocatableInputValidation`.
    #[test]
    fn input_validation() {
        let cpu_mem_cases: Vec<(
            ResourceList,
            ResourceList,
            ResourceList,
            Option<ThresholdValue>,
            bool,
        )> = vec![
            (
                cpu_mem("100m", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                None,
                false,
            ),
            (
                cpu_mem("100m", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                quantity("100Mi"),
                false,
            ),
            (
                cpu_mem("100m", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                Some(ThresholdValue::Percentage(0.05)),
                false,
            ),
            (
                ResourceList::new(),
                ResourceList::new(),
                cpu_mem("10", "10Gi"),
                None,
                false,
            ),
            (
                cpu_mem("", "100Mi"),
                cpu_mem("50m", "50Mi"),
                cpu_mem("10", "10Gi"),
                None,
                false,
            ),
            (
                cpu_mem("50m", "100Mi"),
                cpu_mem("", "50Mi"),
                cpu_mem("10", "10Gi"),
                None,
                false,
            ),
            (
                cpu_mem("", "100Mi"),
                cpu_mem("", "50Mi"),
                cpu_mem("10", ""),
                None,
                false,
            ),
            (
                cpu_mem("5", "10Gi"),
                cpu_mem("5", "10Gi"),
                cpu_mem("10", "11Gi"),
                quantity("2Gi"),
                true,
            ),
        ];
        for (index, (kube, system, capacity, hard, invalid)) in
            cpu_mem_cases.into_iter().enumerate()
        {
            let reservations = Reservations {
                kube_reserved: kube,
                system_reserved: system,
                eviction_hard: threshold("memory.available", hard),
            };
            let result = validate_node_allocatable(&reservations, &capacity);
            assert_eq!(result.is_err(), invalid, "case {}: {result:?}", index + 1);
        }
        let storage_cases: Vec<(ResourceList, ResourceList, Option<ThresholdValue>, bool)> = vec![
            (storage("100Mi"), storage("500Mi"), None, false),
            (storage("20Gi"), storage("20Gi"), quantity("100Mi"), true),
        ];
        for (index, (kube, capacity, hard, invalid)) in storage_cases.into_iter().enumerate() {
            let reservations = Reservations {
                kube_reserved: kube,
                system_reserved: ResourceList::new(),
                eviction_hard: threshold("nodefs.available", hard),
            };
            let result = validate_node_allocatable(&reservations, &capacity);
            assert_eq!(
                result.is_err(),
                invalid,
                "storage case {}: {result:?}",
                index + 1
            );
        }
    }

    #[test]
    fn validation_message_matches_upstream_wording() {
        let reservations = Reservations {
            kube_reserved: cpu_mem("", "2Gi"),
            ..Default::default()
        };
        let err = validate_node_allocatable(&reservations, &cpu_mem("1", "1Gi")).unwrap_err();
        assert_eq!(
            err,
            "invalid Node Allocatable configuration. Resource \"memory\" has an allocatable of 2Gi, capacity of -1Gi"
        );
    }

    /// Threshold statements as upstream `TestParseThresholdConfig`
    /// (pkg/kubelet/eviction/helpers_test.go) accepts or rejects them.
    #[test]
    fn parse_thresholds() {
        let ok: BTreeMap<String, String> = [
            ("memory.available", "150Mi"),
            ("nodefs.available", "10%"),
            ("imagefs.available", "0%"),
            ("nodefs.inodesFree", "100%"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        let parsed = parse_eviction_hard(&ok).unwrap();
        assert_eq!(parsed.len(), 2, "0% and 100% are ignored");
        assert_eq!(parsed[1].value, ThresholdValue::Percentage(0.1));
        let bad: &[(&str, &str, &str)] = &[
            (
                "mem.available",
                "150Mi",
                "unsupported eviction signal mem.available",
            ),
            (
                "memory.available",
                "-150Mi",
                "eviction threshold memory.available must be positive: -150Mi",
            ),
            (
                "memory.available",
                "0",
                "eviction threshold memory.available must be positive: 0",
            ),
            (
                "nodefs.available",
                "-15%",
                "eviction percentage threshold nodefs.available must be >= 0%: -15%",
            ),
            ("nodefs.available", "x%", "invalid percentage \"x%\""),
        ];
        for (signal, value, want) in bad {
            let map = BTreeMap::from([((*signal).to_string(), (*value).to_string())]);
            assert_eq!(
                parse_eviction_hard(&map),
                Err(((*signal).to_string(), (*want).to_string()))
            );
        }
    }

    /// The float32 fraction makes 10% of 100Gi a little more than a tenth, as on a real node.
    #[test]
    fn default_reservations_on_a_node() {
        let capacity = list(&[
            (RESOURCE_CPU, "4"),
            (RESOURCE_MEMORY, "16Gi"),
            (RESOURCE_EPHEMERAL_STORAGE, "100Gi"),
            ("hugepages-2Mi", "0"),
            (RESOURCE_PODS, "110"),
        ]);
        let got = allocatable(&capacity, &Reservations::kubelet_defaults());
        let text: BTreeMap<&str, String> = got
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect();
        assert_eq!(text["cpu"], "4");
        assert_eq!(text["memory"], "16284Mi");
        assert_eq!(text["ephemeral-storage"], "96636764000");
        assert_eq!(text["pods"], "110");
        assert_eq!(text["hugepages-2Mi"], "0");
    }
}
