//! Pod IP allocation from the node's `spec.podCIDRs`, as the `host-local` IPAM plugin of a
//! bridge CNI does: the range runs from network+2 (network+1 is the bridge gateway) to the last
//! address before the IPv4 broadcast; addresses are handed out round-robin after the last one
//! reserved, so a freed address is reused only after the range wraps (deterministic order).
//!
//! Upstream: containernetworking/plugins `plugins/ipam/host-local/backend/allocator/range.go`
//! (`Canonicalize`: gateway = network+1, rangeEnd excludes the IPv4 broadcast) and
//! `allocator.go` (`GetIter`: start after the last reserved IP, wrap around, skip the gateway
//! and reserved IPs).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why no address could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    /// The CIDR does not parse.
    #[error("invalid CIDR address: {0}")]
    InvalidCidr(String),
    /// Every address of a range is taken (host-local's message).
    #[error("no IP addresses available in range set: {first}-{last}")]
    Exhausted {
        /// First allocatable address.
        first: String,
        /// Last allocatable address.
        last: String,
    },
}

#[derive(Debug, Clone)]
struct Range {
    v6: bool,
    network: u128,
    /// Offsets from `network` that may be allocated, inclusive.
    first: u128,
    last: u128,
    last_reserved: Option<u128>,
    used: BTreeSet<u128>,
}

impl Range {
    fn parse(cidr: &str) -> Result<Self, IpamError> {
        let bad = || IpamError::InvalidCidr(cidr.to_string());
        let (addr, prefix) = cidr.trim().split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u32 = prefix.parse().map_err(|_| bad())?;
        let (v6, bits, value) = match addr {
            IpAddr::V4(a) => (false, 32u32, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, 128u32, u128::from(a)),
        };
        if prefix > bits {
            return Err(bad());
        }
        let host_bits = bits - prefix;
        let host_mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let network = value & !host_mask;
        // host-local: gateway = network+1, so allocation starts at +2; IPv4 excludes broadcast.
        let last = if v6 {
            host_mask
        } else {
            host_mask.saturating_sub(1)
        };
        Ok(Self {
            v6,
            network,
            first: 2,
            last,
            last_reserved: None,
            used: BTreeSet::new(),
        })
    }

    fn render(&self, offset: u128) -> String {
        let value = self.network.wrapping_add(offset);
        if self.v6 {
            Ipv6Addr::from(value).to_string()
        } else {
            Ipv4Addr::from(u32::try_from(value & u128::from(u32::MAX)).unwrap_or(0)).to_string()
        }
    }

    fn exhausted(&self) -> IpamError {
        IpamError::Exhausted {
            first: self.render(self.first),
            last: self.render(self.last),
        }
    }

    fn allocate(&mut self) -> Result<u128, IpamError> {
        if self.last < self.first {
            return Err(self.exhausted());
        }
        let span = self.last - self.first + 1;
        let start = match self.last_reserved {
            Some(prev) if prev < self.last => prev + 1,
            _ => self.first,
        };
        // Walk at most the whole range once; stop early in huge (IPv6) ranges since the
        // used set is small.
        let limit = span.min(self.used.len() as u128 + 1);
        let mut candidate = start;
        for _ in 0..limit {
            if !self.used.contains(&candidate) {
                self.used.insert(candidate);
                self.last_reserved = Some(candidate);
                return Ok(candidate);
            }
            candidate = if candidate >= self.last {
                self.first
            } else {
                candidate + 1
            };
        }
        Err(self.exhausted())
    }
}

/// Allocates pod IPs from a node's pod CIDRs (one address per CIDR, dual-stack in order).
#[derive(Debug, Clone)]
pub struct PodIpAllocator {
    ranges: Vec<Range>,
    by_pod: BTreeMap<String, Vec<u128>>,
}

impl PodIpAllocator {
    /// An allocator over `cidrs` (the node's `spec.podCIDRs`, or `[spec.podCIDR]`).
    pub fn new<S: AsRef<str>>(cidrs: &[S]) -> Result<Self, IpamError> {
        Ok(Self {
            ranges: cidrs
                .iter()
                .map(|c| Range::parse(c.as_ref()))
                .collect::<Result<_, _>>()?,
            by_pod: BTreeMap::new(),
        })
    }

    /// Whether there is any range to allocate from.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The addresses of `pod` (a key such as its UID), allocating them on first use.
    pub fn allocate(&mut self, pod: &str) -> Result<Vec<String>, IpamError> {
        if let Some(offsets) = self.by_pod.get(pod) {
            return Ok(self.render(offsets));
        }
        let mut offsets = Vec::with_capacity(self.ranges.len());
        for i in 0..self.ranges.len() {
            match self.ranges[i].allocate() {
                Ok(o) => offsets.push(o),
                Err(e) => {
                    for (range, o) in self.ranges.iter_mut().zip(&offsets) {
                        range.used.remove(o);
                    }
                    return Err(e);
                }
            }
        }
        let rendered = self.render(&offsets);
        self.by_pod.insert(pod.to_string(), offsets);
        Ok(rendered)
    }

    /// Marks addresses as taken by `pod` (a pod found running when the kubelet starts).
    pub fn reserve(&mut self, pod: &str, ips: &[String]) {
        let mut offsets = Vec::new();
        for (range, ip) in self.ranges.iter_mut().zip(ips) {
            let Ok(addr) = ip.parse::<IpAddr>() else {
                return;
            };
            let value = match addr {
                IpAddr::V4(a) => u128::from(u32::from(a)),
                IpAddr::V6(a) => u128::from(a),
            };
            let offset = value.wrapping_sub(range.network);
            if offset < range.first || offset > range.last {
                return;
            }
            range.used.insert(offset);
            offsets.push(offset);
        }
        self.by_pod.insert(pod.to_string(), offsets);
    }

    /// Frees the addresses of `pod`.
    pub fn release(&mut self, pod: &str) {
        if let Some(offsets) = self.by_pod.remove(pod) {
            for (range, o) in self.ranges.iter_mut().zip(&offsets) {
                range.used.remove(o);
            }
        }
    }

    fn render(&self, offsets: &[u128]) -> Vec<String> {
        self.ranges
            .iter()
            .zip(offsets)
            .map(|(r, o)| r.render(*o))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn allocates_from_network_plus_two_and_wraps_before_reusing() {
        let mut ipam = PodIpAllocator::new(&["10.244.1.0/29"]).expect("cidr");
        // /29: .0 network, .1 gateway, .7 broadcast -> .2 .. .6
        let got: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|p| ipam.allocate(p).expect("ip")[0].clone())
            .collect();
        assert_eq!(got, ["10.244.1.2", "10.244.1.3", "10.244.1.4"]);
        assert_eq!(ipam.allocate("a").expect("same")[0], "10.244.1.2");
        ipam.release("a");
        // Round-robin: the freed .2 is reused only after the range wraps.
        assert_eq!(ipam.allocate("d").expect("ip")[0], "10.244.1.5");
        assert_eq!(ipam.allocate("e").expect("ip")[0], "10.244.1.6");
        assert_eq!(ipam.allocate("f").expect("ip")[0], "10.244.1.2");
        assert_eq!(
            ipam.allocate("g").expect_err("full").to_string(),
            "no IP addresses available in range set: 10.244.1.2-10.244.1.6"
        );
    }

    #[test]
    fn dual_stack_gives_one_address_per_family() {
        let mut ipam = PodIpAllocator::new(&["10.244.0.0/24", "fd00:10:244::/64"]).expect("cidrs");
        assert_eq!(
            ipam.allocate("p").expect("ips"),
            ["10.244.0.2", "fd00:10:244::2"]
        );
        assert_eq!(
            ipam.allocate("q").expect("ips"),
            ["10.244.0.3", "fd00:10:244::3"]
        );
    }

    #[test]
    fn reserve_marks_existing_addresses() {
        let mut ipam = PodIpAllocator::new(&["10.0.0.0/24"]).expect("cidr");
        ipam.reserve("old", &["10.0.0.2".to_string()]);
        assert_eq!(ipam.allocate("new").expect("ip")[0], "10.0.0.3");
    }

    #[test]
    fn bad_cidrs_are_errors() {
        for cidr in ["10.0.0.0", "10.0.0.0/33", "x/24", "10.0.0.0/-1", "::/129"] {
            assert!(PodIpAllocator::new(&[cidr]).is_err(), "{cidr}");
        }
        let mut tiny = PodIpAllocator::new(&["10.0.0.0/31"]).expect("cidr");
        assert!(tiny.allocate("p").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            if let Ok(mut ipam) = PodIpAllocator::new(&[s.as_str()]) {
                let _ = ipam.allocate("p");
            }
        }

        #[test]
        fn addresses_are_unique_and_inside(prefix in 24u32..=30, ops in proptest::collection::vec((0u8..20, any::<bool>()), 0..64)) {
            let cidr = format!("10.1.2.0/{prefix}");
            let mut ipam = PodIpAllocator::new(&[cidr.as_str()]).expect("cidr");
            let mut live: BTreeMap<String, String> = BTreeMap::new();
            for (pod, free) in ops {
                let key = format!("p{pod}");
                if free {
                    ipam.release(&key);
                    live.remove(&key);
                } else if let Ok(ips) = ipam.allocate(&key) {
                    live.insert(key, ips[0].clone());
                }
            }
            let distinct: BTreeSet<&String> = live.values().collect();
            prop_assert_eq!(distinct.len(), live.len());
            for ip in live.values() {
                let last: u32 = ip.rsplit('.').next().and_then(|o| o.parse().ok()).unwrap_or(0);
                prop_assert!(last >= 2);
            }
        }
    }
}
