//! IPv4 CIDR blocks: parsing, overlap, splitting into per-node or per-zone subnets and host
//! addresses.
//!
//! Splitting follows kube-controller-manager's node IPAM: a cluster CIDR of prefix `P` split
//! into node CIDRs of prefix `M` holds `2^(M − P)` blocks, numbered from the start of the range,
//! and at most 16 bits of difference are allowed.
//! Upstream: `pkg/controller/nodeipam/ipam/cidrset/cidr_set.go` (`NewCIDRSet`,
//! `clusterSubnetMaxDiff`, `indexToCIDRBlock`).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most bits a node CIDR may add to the cluster CIDR (`clusterSubnetMaxDiff`).
pub const MAX_SUBNET_DIFF: u8 = 16;

/// An IPv4 network in CIDR notation (`10.244.0.0/16`); host bits are always zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl Ipv4Cidr {
    /// A CIDR from a network address and a prefix length; `None` if the prefix is over 32 or
    /// host bits are set.
    pub fn new(network: Ipv4Addr, prefix: u8) -> Option<Self> {
        if prefix > 32 {
            return None;
        }
        let bits = u32::from(network);
        if bits & !mask(prefix) != 0 {
            return None;
        }
        Some(Self {
            network: bits,
            prefix,
        })
    }

    /// Parses `a.b.c.d/p`; the address must be the network address.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid CIDR address: {text}");
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let address = Ipv4Addr::from_str(address).map_err(|_| invalid())?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if prefix > 32 {
            return Err(invalid());
        }
        let masked = Ipv4Addr::from(u32::from(address) & mask(prefix));
        Self::new(address, prefix).ok_or_else(|| {
            format!("{text} has host bits set: the network address is {masked}/{prefix}")
        })
    }

    /// The network address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the block holds.
    pub fn size(&self) -> u64 {
        1_u64 << (32 - u32::from(self.prefix))
    }

    fn first(&self) -> u64 {
        u64::from(self.network)
    }

    fn last(&self) -> u64 {
        self.first() + self.size() - 1
    }

    /// Whether the address is inside the block.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        let a = u64::from(u32::from(address));
        self.first() <= a && a <= self.last()
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }

    /// How many blocks of prefix `sub_prefix` the block splits into (0 if `sub_prefix` is
    /// shorter than the block's own prefix or over 32).
    pub fn subnet_count(&self, sub_prefix: u8) -> u64 {
        if sub_prefix < self.prefix || sub_prefix > 32 {
            return 0;
        }
        1_u64 << u32::from(sub_prefix - self.prefix)
    }

    /// The `index`-th block of prefix `sub_prefix`, counting from the start of the range.
    pub fn subnet(&self, sub_prefix: u8, index: u64) -> Option<Ipv4Cidr> {
        if index >= self.subnet_count(sub_prefix) {
            return None;
        }
        let start = self.first() + index * (1_u64 << (32 - u32::from(sub_prefix)));
        let network = u32::try_from(start).ok()?;
        Some(Self {
            network,
            prefix: sub_prefix,
        })
    }

    /// The address `offset` places after the network address, if still inside the block.
    pub fn host(&self, offset: u64) -> Option<Ipv4Addr> {
        if offset >= self.size() {
            return None;
        }
        u32::try_from(self.first() + offset)
            .ok()
            .map(Ipv4Addr::from)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Ipv4Cidr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Ipv4Cidr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IPv4 CIDR such as \"10.244.0.0/16\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ipv4Cidr, E> {
                Ipv4Cidr::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("10.244.0.0/16", Ok("10.244.0.0/16")),
            ("0.0.0.0/0", Ok("0.0.0.0/0")),
            ("192.168.1.7/32", Ok("192.168.1.7/32")),
            (
                "10.244.1.0/16",
                Err("10.244.1.0/16 has host bits set: the network address is 10.244.0.0/16"),
            ),
            ("10.244.0.0", Err("invalid CIDR address: 10.244.0.0")),
            ("10.244.0.0/33", Err("invalid CIDR address: 10.244.0.0/33")),
            ("10.244.0.0/+1", Err("invalid CIDR address: 10.244.0.0/+1")),
            ("10.244.0.0/", Err("invalid CIDR address: 10.244.0.0/")),
            (
                "010.244.0.0/16",
                Err("invalid CIDR address: 010.244.0.0/16"),
            ),
            ("fd00::/64", Err("invalid CIDR address: fd00::/64")),
        ];
        for (input, want) in cases {
            let got = Ipv4Cidr::parse(input).map(|c| c.to_string());
            assert_eq!(
                got,
                want.map(str::to_string).map_err(str::to_string),
                "{input}"
            );
        }
    }

    /// Mirrors the block arithmetic of upstream `TestCIDRSetFullyAllocated` and
    /// `TestIndexToCIDRBlock` (cidr_set_test.go): blocks are numbered from the range start.
    #[test]
    fn subnets_count_from_the_start() {
        let cluster = Ipv4Cidr::parse("10.244.0.0/16").unwrap();
        assert_eq!(cluster.subnet_count(24), 256);
        assert_eq!(cluster.subnet(24, 0).unwrap().to_string(), "10.244.0.0/24");
        assert_eq!(
            cluster.subnet(24, 255).unwrap().to_string(),
            "10.244.255.0/24"
        );
        assert_eq!(cluster.subnet(24, 256), None);
        let small = Ipv4Cidr::parse("127.123.3.0/30").unwrap();
        assert_eq!(small.subnet_count(30), 1);
        assert_eq!(small.subnet(30, 0).unwrap().to_string(), "127.123.3.0/30");
        let wide = Ipv4Cidr::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            wide.subnet(24, 65535).unwrap().to_string(),
            "10.255.255.0/24"
        );
        assert_eq!(wide.subnet_count(7), 0);
    }

    #[test]
    fn overlap_and_hosts() {
        let a = Ipv4Cidr::parse("10.96.0.0/12").unwrap();
        let b = Ipv4Cidr::parse("10.100.0.0/16").unwrap();
        let c = Ipv4Cidr::parse("10.244.0.0/16").unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert_eq!(c.host(10), Some(Ipv4Addr::new(10, 244, 0, 10)));
        assert_eq!(c.host(65536), None);
        assert!(c.contains(Ipv4Addr::new(10, 244, 255, 255)));
        assert!(!c.contains(Ipv4Addr::new(10, 245, 0, 0)));
    }
}
