//! The shipped examples parse, expand to the documented nodes, and give well-formed v1 Node
//! objects with the labels a cloud controller manager and the kubelet would set.

use std::collections::{BTreeMap, BTreeSet};

use kubetwin_cluster::{
    Cluster, HYBRID_SMALL_YAML, LABEL_LIFECYCLE, LABEL_REGION, LABEL_ZONE, LARGE_5000_YAML,
    default_cluster,
};
use serde_json::json;

#[test]
fn hybrid_small_has_the_documented_shape() {
    let cluster = default_cluster();
    assert_eq!(cluster.name(), "hybrid-small");
    assert_eq!(cluster.nodes().len(), 17);
    let per_pool: BTreeMap<&str, usize> =
        cluster.nodes().iter().fold(BTreeMap::new(), |mut m, n| {
            *m.entry(n.pool.as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        per_pool,
        BTreeMap::from([
            ("aws-general", 3),
            ("aws-spot", 3),
            ("gcp-general", 2),
            ("gcp-gpu", 1),
            ("hcloud-general", 4),
            ("pve-general", 4),
        ])
    );
    let providers: BTreeSet<&str> = cluster
        .nodes()
        .iter()
        .map(|n| n.provider.as_str())
        .collect();
    assert_eq!(
        providers,
        BTreeSet::from(["aws", "gcp", "hetzner", "proxmox"])
    );
    let zones: BTreeSet<&str> = cluster
        .nodes()
        .iter()
        .map(|n| n.labels[LABEL_ZONE].as_str())
        .collect();
    assert_eq!(zones.len(), 8, "{zones:?}");
    // Spot nodes, and only they, carry the lifecycle label.
    for node in cluster.nodes() {
        assert_eq!(
            node.labels.get(LABEL_LIFECYCLE).map(String::as_str),
            node.is_spot().then_some("spot"),
            "{}",
            node.name
        );
    }
    assert_eq!(cluster.nodes().iter().filter(|n| n.is_spot()).count(), 3);
    // One GPU node, tainted.
    let gpu: Vec<_> = cluster
        .nodes()
        .iter()
        .filter(|n| n.capacity.contains_key("nvidia.com/gpu"))
        .collect();
    assert_eq!(gpu.len(), 1);
    assert_eq!(gpu[0].taints.len(), 1);
    // VMs alternate between the two hypervisor hosts.
    let hosts: Vec<_> = cluster
        .hypervisor_hosts()
        .iter()
        .map(|h| (h.name.as_str(), h.nodes.clone()))
        .collect();
    assert_eq!(
        hosts,
        vec![
            (
                "pve1",
                vec![
                    "pve-general-pve-fra-1-0".to_string(),
                    "pve-general-pve-fra-1-2".to_string()
                ]
            ),
            (
                "pve2",
                vec![
                    "pve-general-pve-fra-1-1".to_string(),
                    "pve-general-pve-fra-1-3".to_string()
                ]
            ),
        ]
    );
}

#[test]
fn hybrid_small_first_aws_node_object() {
    let cluster = default_cluster();
    let node = cluster
        .node("aws-general-us-east-1a-0")
        .expect("node exists");
    let object = node.to_node_json();
    assert_eq!(object["apiVersion"], "v1");
    assert_eq!(object["kind"], "Node");
    let labels = &object["metadata"]["labels"];
    for (key, value) in [
        ("kubernetes.io/hostname", "aws-general-us-east-1a-0"),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
        ("node.kubernetes.io/instance-type", "m5.xlarge"),
        ("beta.kubernetes.io/instance-type", "m5.xlarge"),
        ("topology.kubernetes.io/region", "us-east-1"),
        ("topology.kubernetes.io/zone", "us-east-1a"),
        ("failure-domain.beta.kubernetes.io/region", "us-east-1"),
        ("failure-domain.beta.kubernetes.io/zone", "us-east-1a"),
        ("node.cloudprovider.kubernetes.io/platform", "aws"),
        (
            "node.cloudprovider.kubernetes.io/clustername",
            "hybrid-small",
        ),
        ("kubetwin.io/pool", "aws-general"),
        ("kubetwin.io/provider", "aws"),
        ("node-role.kubernetes.io/worker", ""),
    ] {
        assert_eq!(labels[key], json!(value), "label {key}");
    }
    assert!(labels.get(LABEL_LIFECYCLE).is_none());
    let provider_id = object["spec"]["providerID"].as_str().unwrap();
    assert!(
        provider_id.starts_with("aws:///us-east-1a/i-0"),
        "{provider_id}"
    );
    assert_eq!(provider_id.len(), "aws:///us-east-1a/".len() + 19);
    // Pod CIDRs are handed out in node order: 4 Proxmox and 4 Hetzner nodes come first.
    assert_eq!(object["spec"]["podCIDR"], "10.244.8.0/24");
    assert_eq!(object["spec"]["podCIDRs"], json!(["10.244.8.0/24"]));
    assert_eq!(
        object["status"]["capacity"],
        json!({
            "cpu": "4",
            "ephemeral-storage": "80Gi",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": "16Gi",
            "pods": "58",
        })
    );
    // cpu: 4 − 80m kube − 50m system; memory: 16Gi − 893Mi − 384Mi − 100Mi (eviction);
    // ephemeral-storage: 80Gi − 1Gi − 256Mi − 10% (float32) of 80Gi.
    assert_eq!(
        object["status"]["allocatable"],
        json!({
            "cpu": "3870m",
            "ephemeral-storage": "75967233920",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": "15007Mi",
            "pods": "58",
        })
    );
    assert_eq!(
        object["status"]["addresses"],
        json!([
            {"type": "InternalIP", "address": node.internal_ip.to_string()},
            {"type": "Hostname", "address": "aws-general-us-east-1a-0"},
        ])
    );
    let info = &object["status"]["nodeInfo"];
    assert_eq!(info["kubeletVersion"], "v1.34.0-kubetwin");
    assert_eq!(info["kubeProxyVersion"], "");
    assert_eq!(info["operatingSystem"], "linux");
    assert_eq!(info["architecture"], "amd64");
    assert_eq!(info["machineID"].as_str().unwrap().len(), 32);
    assert_eq!(
        object["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"],
        10250
    );
    assert_eq!(node.kubelet.image_pull_delay.as_secs(), 2);
}

#[test]
fn provider_id_schemes() {
    let cluster = default_cluster();
    let id = |name: &str| cluster.node(name).unwrap().provider_id.clone();
    assert_eq!(id("pve-general-pve-fra-1-0"), "proxmox://pve-fra/100");
    assert_eq!(id("pve-general-pve-fra-1-3"), "proxmox://pve-fra/103");
    assert_eq!(id("hcloud-general-fsn1-dc14-0"), "hcloud://50000001");
    assert_eq!(id("hcloud-general-nbg1-dc3-1"), "hcloud://50000004");
    assert_eq!(
        id("gcp-gpu-europe-west4-a-0"),
        "gce://kubetwin-demo/europe-west4-a/gcp-gpu-europe-west4-a-0"
    );
}

#[test]
fn addresses_come_from_zone_subnets() {
    let cluster = default_cluster();
    let ip = |name: &str| cluster.node(name).unwrap().internal_ip.to_string();
    assert_eq!(ip("pve-general-pve-fra-1-0"), "192.168.10.10");
    assert_eq!(ip("pve-general-pve-fra-1-3"), "192.168.10.13");
    // Zones without nodeSubnet get consecutive /20s of 10.0.0.0/12, in declaration order.
    assert_eq!(ip("hcloud-general-fsn1-dc14-0"), "10.0.0.10");
    assert_eq!(ip("hcloud-general-nbg1-dc3-0"), "10.0.16.10");
    assert_eq!(ip("aws-general-us-east-1a-0"), "10.0.32.10");
    assert_eq!(ip("aws-spot-us-east-1a-0"), "10.0.32.11");
    let unique: BTreeSet<_> = cluster.nodes().iter().map(|n| n.internal_ip).collect();
    assert_eq!(unique.len(), cluster.nodes().len());
}

#[test]
fn node_objects_are_deterministic() {
    let a = Cluster::from_yaml(HYBRID_SMALL_YAML)
        .unwrap()
        .node_objects();
    let b = Cluster::from_yaml(HYBRID_SMALL_YAML)
        .unwrap()
        .node_objects();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn spec_round_trips_through_yaml() {
    for text in [HYBRID_SMALL_YAML, LARGE_5000_YAML] {
        let cluster = Cluster::from_yaml(text).unwrap();
        let again = Cluster::from_yaml(&cluster.to_yaml().unwrap()).unwrap();
        assert_eq!(cluster.spec(), again.spec());
        assert_eq!(cluster.nodes(), again.nodes());
    }
}

/// Generating 5,000 nodes must stay linear; this only checks it completes.
#[test]
fn large_5000_expands() {
    let cluster = Cluster::from_yaml(LARGE_5000_YAML).unwrap();
    assert_eq!(cluster.nodes().len(), 5000);
    let objects = cluster.node_objects();
    assert_eq!(objects.len(), 5000);
    let names: BTreeSet<&str> = cluster.nodes().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.len(), 5000);
    let cidrs: BTreeSet<_> = cluster.nodes().iter().map(|n| n.pod_cidr).collect();
    assert_eq!(cidrs.len(), 5000);
    let regions: BTreeSet<&str> = cluster
        .nodes()
        .iter()
        .map(|n| n.labels[LABEL_REGION].as_str())
        .collect();
    assert_eq!(regions.len(), 4);
    assert_eq!(cluster.nodes().iter().filter(|n| n.is_spot()).count(), 600);
    assert_eq!(
        cluster
            .nodes()
            .iter()
            .filter(|n| n.capacity.contains_key("nvidia.com/gpu"))
            .count(),
        200
    );
    for host in cluster.hypervisor_hosts() {
        assert_eq!(host.nodes.len(), 20, "{}", host.name);
    }
    assert_eq!(
        cluster
            .nodes()
            .iter()
            .filter(|n| n.arch == kubetwin_cluster::Arch::Arm64)
            .count(),
        300
    );
}

/// Pool fields override `settings`, which override the defaults; reservation maps replace
/// each other whole, as kubelet flags do.
#[test]
fn settings_and_pool_layers() {
    let cluster = Cluster::from_yaml(include_str!("fixtures/all-fields.yaml")).unwrap();
    let vm = cluster.node("metal-vms-dc-1-0").unwrap();
    let spot = cluster.node("other-spot-other-z-0").unwrap();

    assert_eq!(vm.kubelet.registration_delay.as_secs(), 30);
    assert!(vm.kubelet.image_pull_delay.is_zero());
    assert_eq!(vm.kubelet.node_lease_duration_seconds, 60);
    assert_eq!(vm.kubelet.lease_renew_interval().as_secs(), 15);
    assert!(vm.kubelet.serialize_image_pulls);
    assert_eq!(spot.kubelet.image_pull_delay.as_millis(), 1500);
    assert_eq!(spot.kubelet.job_duration.as_secs(), 90);
    assert!(!spot.kubelet.serialize_image_pulls);
    assert!((spot.kubelet.delay_jitter - 0.1).abs() < 1e-12);

    let text = |node: &kubetwin_cluster::SimNode, key: &str| node.allocatable[key].to_string();
    // Pool: kube memory 512Mi, system cpu 100m, eviction memory.available 5% (no nodefs).
    assert_eq!(text(vm, "cpu"), "7900m");
    assert_eq!(text(vm, "ephemeral-storage"), "200Gi");
    assert_eq!(text(vm, "nvidia.com/gpu"), "2");
    assert_eq!(text(vm, "pods"), "250");
    // 32Gi − 512Mi − int64(32Gi × float32(0.05)).
    assert_eq!(
        vm.allocatable["memory"].value(),
        34_359_738_368 - 536_870_912 - 1_717_986_944
    );
    // Settings: kube 100m/256Mi/1Gi, system 50m/192Mi, eviction 200Mi and 10%.
    assert_eq!(text(spot, "cpu"), "1850m");
    assert_eq!(text(spot, "memory"), "3448Mi");

    let hugepages: Vec<&str> = vm
        .capacity
        .keys()
        .filter(|k| k.starts_with("hugepages-"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        hugepages,
        [
            "hugepages-1Gi",
            "hugepages-2Mi",
            "hugepages-32Mi",
            "hugepages-64Ki"
        ]
    );
    assert_eq!(vm.node_info.os_image, "Talos (v1.11.1)");
    assert_eq!(spot.node_info.os_image, "Ubuntu 24.04.2 LTS");
    assert_eq!(spot.node_info.kubelet_version, "v1.34.1");
    assert_eq!(vm.provider_id, "talos://metal/172.20.0.10");
    assert_eq!(spot.provider_id, "kubetwin://other/other-spot-other-z-0");
    assert_eq!(vm.hypervisor_host.as_deref(), Some("host-1"));
    assert_eq!(vm.labels["kubetwin.io/hypervisor-host"], "host-1");
    assert_eq!(vm.labels["team"], "infra");
    assert_eq!(vm.annotations["example.com/owner"], "infra");
    assert_eq!(
        spot.labels["node.cloudprovider.kubernetes.io/platform"],
        "other"
    );
    assert_eq!(spot.labels[LABEL_LIFECYCLE], "spot");
    let taints = vm.to_node_json()["spec"]["taints"].clone();
    assert_eq!(
        taints,
        json!([
            {"key": "dedicated", "value": "infra", "effect": "NoSchedule"},
            {"key": "example.com/drain", "effect": "NoExecute"},
            {"key": "example.com/soft", "effect": "PreferNoSchedule"},
        ])
    );
    assert!(spot.to_node_json()["spec"].get("taints").is_none());
    // Zone subnets of the given prefix: the fixture asks for /22s.
    assert_eq!(spot.internal_ip.to_string(), "10.0.0.10");
    assert!((cluster.hourly_cost() - 0.5).abs() < 1e-12);
}

#[test]
fn ready_conditions_follow_the_kubelet() {
    let conditions = kubetwin_cluster::ready_conditions("2025-01-01T00:00:00Z");
    let kinds: Vec<&str> = conditions
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    );
    assert_eq!(conditions[3]["status"], "True");
    assert_eq!(conditions[3]["reason"], "KubeletReady");
    let node = default_cluster().nodes()[0].to_ready_node_json("2025-01-01T00:00:00Z");
    assert_eq!(node["status"]["conditions"], conditions);
}

/// Transcribed from upstream `TestAllocateOrOccupyCIDRSuccess`
/// (pkg/controller/nodeipam/ipam/range_allocator_test.go): the first node gets the first block
/// of the cluster CIDR, or the first block after the Service range when it lies inside.
/// (Upstream's "no Service CIDR" case uses a Service range outside the cluster CIDR here.)
#[test]
fn node_ipam_range_allocator_cases() {
    let cases = [
        (
            "When there's no ServiceCIDR return first CIDR in range",
            "10.96.0.0/12",
            "127.123.234.0/30",
        ),
        (
            "Correctly filter out ServiceCIDR",
            "127.123.234.0/26",
            "127.123.234.64/30",
        ),
    ];
    for (name, service_cidr, first) in cases {
        let text = format!(
            "apiVersion: kubetwin.io/v1alpha1
kind: Cluster
metadata: {{name: ipam}}
settings: {{podCIDR: 127.123.234.0/24, nodeCIDRMaskSize: 30, serviceCIDR: {service_cidr}}}
providers:
  - {{name: p, type: generic, regions: [{{name: r, zones: [{{name: z}}]}}]}}
pools:
  - {{name: a, provider: p, count: 2, instanceType: {{name: t, cpu: 1, memory: 1Gi}}}}
"
        );
        let cluster = Cluster::from_yaml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cluster.nodes()[0].pod_cidr.to_string(), first, "{name}");
    }
}
