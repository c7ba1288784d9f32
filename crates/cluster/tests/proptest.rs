//! Property tests: no input makes the parser panic; valid specs round-trip through YAML and
//! expand to nodes with unique names, addresses and pod CIDRs.

use std::collections::{BTreeMap, BTreeSet};

use kubetwin_cluster::spec::{
    ClusterMetadata, ClusterSpec, InstanceTypeSpec, PoolSpec, ProviderSpec, RegionSpec, ZoneSpec,
};
use kubetwin_cluster::{
    CapacityType, Cluster, HYBRID_SMALL_YAML, Ipv4Cidr, ProviderType, SpecQuantity,
    format_go_duration, parse_go_duration,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Fragments that are meaningful to the parser, to reach deeper than random bytes.
const TOKENS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "~",
    "\"",
    "'",
    "#",
    "|",
    ">",
    "---\n",
    "...\n",
    "apiVersion",
    "kubetwin.io/v1alpha1",
    "kind",
    "Cluster",
    "metadata",
    "name",
    "providers",
    "pools",
    "regions",
    "zones",
    "count",
    "instanceType",
    "cpu",
    "memory",
    "16Gi",
    "x",
    "-1",
    "0",
    "1e309",
    "4294967296",
    "aws",
    "proxmox",
    "type",
    "settings",
    "podCIDR",
    "10.244.0.0/16",
    "nodeSubnet",
    "taints",
    "labels",
    "kubelet",
    "imagePullDelay",
    "1h2m",
    "reservations",
    "evictionHard",
    "memory.available",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = Cluster::from_yaml(&text);
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..80)) {
        let _ = Cluster::from_yaml(&tokens.concat());
    }

    /// Cut the example at a random point and splice random tokens in.
    #[test]
    fn mutated_example_never_panics(
        cut in 0usize..HYBRID_SMALL_YAML.len(),
        keep in 0usize..400,
        tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..8),
    ) {
        let start = floor_char_boundary(HYBRID_SMALL_YAML, cut);
        let end = floor_char_boundary(HYBRID_SMALL_YAML, (start + keep).min(HYBRID_SMALL_YAML.len()));
        let text = format!(
            "{}{}{}",
            &HYBRID_SMALL_YAML[..start],
            tokens.concat(),
            &HYBRID_SMALL_YAML[end..]
        );
        let _ = Cluster::from_yaml(&text);
    }

    #[test]
    fn durations_never_panic_and_round_trip(text in ".{0,40}", nanos in any::<i64>()) {
        let _ = parse_go_duration(&text);
        prop_assert_eq!(parse_go_duration(&format_go_duration(nanos)), Ok(nanos));
    }

    #[test]
    fn cidrs_never_panic(text in "[0-9./a-f:]{0,24}") {
        if let Ok(cidr) = Ipv4Cidr::parse(&text) {
            prop_assert_eq!(Ipv4Cidr::parse(&cidr.to_string()), Ok(cidr));
        }
    }

    #[test]
    fn generated_specs_round_trip(spec in cluster_spec()) {
        let yaml = serde_saphyr::to_string(&spec).expect("a typed spec serializes");
        let parsed = Cluster::from_yaml(&yaml);
        let direct = Cluster::from_spec(spec.clone());
        prop_assert_eq!(parsed.is_ok(), direct.is_ok());
        if let Ok(cluster) = parsed {
            prop_assert_eq!(cluster.spec(), &spec);
            let again = Cluster::from_yaml(&cluster.to_yaml().expect("serializes")).expect("re-parses");
            prop_assert_eq!(again.nodes(), cluster.nodes());
            let total: u32 = spec.pools.iter().map(|p| p.count).sum();
            prop_assert_eq!(cluster.nodes().len(), total as usize);
            let names: BTreeSet<_> = cluster.nodes().iter().map(|n| &n.name).collect();
            let ips: BTreeSet<_> = cluster.nodes().iter().map(|n| n.internal_ip).collect();
            let cidrs: BTreeSet<_> = cluster.nodes().iter().map(|n| n.pod_cidr).collect();
            prop_assert_eq!(names.len(), cluster.nodes().len());
            prop_assert_eq!(ips.len(), cluster.nodes().len());
            prop_assert_eq!(cidrs.len(), cluster.nodes().len());
            for node in cluster.nodes() {
                prop_assert!(!node.pod_cidr.overlaps(&cluster.settings().service_cidr));
            }
        }
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn quantity(text: &str) -> SpecQuantity {
    SpecQuantity::parse(text).expect("test quantities are valid")
}

prop_compose! {
    fn pool_spec(index: usize)(
        provider in 0usize..2,
        count in 0u32..12,
        spot in any::<bool>(),
        cpu in prop::sample::select(vec!["1", "2", "500m", "0", "-1"]),
        memory in prop::sample::select(vec!["1Gi", "16Gi", "2G", "0"]),
        max_pods in prop::option::of(0u32..300),
        gpus in prop::option::of(0u32..3),
        price in prop::option::of(-1.0f64..2.0),
        zones in prop::option::of(prop::collection::vec(prop::sample::select(vec!["z-a", "z-b", "z-c", "onprem"]), 0..3)),
        labels in prop::collection::btree_map(
            prop::sample::select(vec!["team", "tier", "kubernetes.io/os", "bad key", "example.com/x"]),
            prop::sample::select(vec!["a", "", "b c"]),
            0..3,
        ),
    ) -> PoolSpec {
        PoolSpec {
            name: format!("p{index}"),
            provider: ["cloud", "onprem"][provider].to_string(),
            region: None,
            zones: zones.map(|z| z.into_iter().map(str::to_string).collect()),
            count,
            capacity_type: Some(if spot { CapacityType::Spot } else { CapacityType::OnDemand }),
            instance_type: InstanceTypeSpec {
                name: "t1".to_string(),
                cpu: quantity(cpu),
                memory: quantity(memory),
                ephemeral_storage: None,
                max_pods,
                gpus,
                arch: None,
                hourly_price: price,
            },
            labels: labels.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            annotations: BTreeMap::new(),
            taints: Vec::new(),
            hypervisor_hosts: None,
            kubelet: None,
            reservations: None,
            node_info: None,
        }
    }
}

fn cluster_spec() -> impl Strategy<Value = ClusterSpec> {
    (0usize..4)
        .prop_flat_map(|pools| (0..pools).map(pool_spec).collect::<Vec<_>>())
        .prop_map(|pools| ClusterSpec {
            api_version: "kubetwin.io/v1alpha1".to_string(),
            kind: "Cluster".to_string(),
            metadata: ClusterMetadata {
                name: "prop".to_string(),
                description: None,
            },
            settings: None,
            providers: vec![
                ProviderSpec {
                    name: "cloud".to_string(),
                    provider_type: ProviderType::Aws,
                    kind: None,
                    platform: None,
                    project: None,
                    regions: vec![RegionSpec {
                        name: "r1".to_string(),
                        zones: ["z-a", "z-b", "z-c"]
                            .iter()
                            .map(|z| ZoneSpec {
                                name: (*z).to_string(),
                                node_subnet: None,
                            })
                            .collect(),
                    }],
                    hypervisor_hosts: Vec::new(),
                },
                ProviderSpec {
                    name: "onprem".to_string(),
                    provider_type: ProviderType::Proxmox,
                    kind: None,
                    platform: None,
                    project: None,
                    regions: vec![RegionSpec {
                        name: "r2".to_string(),
                        zones: vec![ZoneSpec {
                            name: "onprem".to_string(),
                            node_subnet: Ipv4Cidr::parse("192.168.0.0/24").ok(),
                        }],
                    }],
                    hypervisor_hosts: Vec::new(),
                },
            ],
            pools,
        })
}
