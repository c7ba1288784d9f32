//! Bad specs are rejected with the document path of the offending field.

use kubetwin_cluster::{Cluster, ClusterError, FieldError};

const HEADER: &str = "apiVersion: kubetwin.io/v1alpha1\nkind: Cluster\nmetadata: {name: t}\n";

const AWS: &str = "providers:
  - name: aws
    type: aws
    regions:
      - name: us-east-1
        zones: [{name: us-east-1a}, {name: us-east-1b}]
";

const PROXMOX: &str = "  - name: pve
    type: proxmox
    regions:
      - name: pve-r
        zones: [{name: pve-z}]
    hypervisorHosts:
      - {name: h1, zone: pve-z, memory: 20Gi}
";

fn pool(extra: &str) -> String {
    format!(
        "pools:
  - name: general
    provider: aws
    count: 2
    instanceType: {{name: m5.large, cpu: 2, memory: 8Gi}}
{extra}"
    )
}

fn doc(parts: &[&str]) -> String {
    let mut text = HEADER.to_string();
    for part in parts {
        text.push_str(part);
    }
    text
}

fn parse_error(text: &str) -> (String, String) {
    match Cluster::from_yaml(text) {
        Err(ClusterError::Parse { path, message, .. }) => (path, message),
        Ok(_) => panic!("expected a parse error, got a valid cluster\n{text}"),
        Err(other) => panic!("expected a parse error, got {other}\n{text}"),
    }
}

fn field_errors(text: &str) -> Vec<FieldError> {
    match Cluster::from_yaml(text) {
        Err(ClusterError::Invalid(errors)) => errors,
        Ok(_) => panic!("expected validation errors, got a valid cluster\n{text}"),
        Err(other) => panic!("expected validation errors, got {other}\n{text}"),
    }
}

#[test]
fn the_base_document_is_valid() {
    let cluster = Cluster::from_yaml(&doc(&[AWS, &pool("")])).unwrap();
    assert_eq!(cluster.nodes().len(), 2);
    let names: Vec<&str> = cluster.nodes().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["general-us-east-1a-0", "general-us-east-1b-0"]);
}

/// Structural errors: the path comes from the deserializer, the message from serde or from our
/// quantity/duration/CIDR parsers.
#[test]
fn parse_errors_name_the_path() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            doc(&[AWS, &pool("").replace("cpu: 2", "cpu: x")]),
            "pools[0].instanceType.cpu",
            "invalid quantity \"x\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ),
        (
            doc(&[AWS, &pool("    cnt: 3\n")]),
            "pools[0].cnt",
            "unknown field `cnt`, expected one of",
        ),
        (
            doc(&[&AWS.replace("type: aws", "type: azure")]),
            "providers[0].type",
            "unknown variant `azure`, expected one of",
        ),
        (
            doc(&[AWS, &pool("").replace("count: 2", "count: -1")]),
            "pools[0].count",
            "invalid u32",
        ),
        (
            doc(&[AWS, &pool("    kubelet: {imagePullDelay: 1d}\n")]),
            "pools[0].kubelet.imagePullDelay",
            "time: unknown unit \"d\" in duration \"1d\"",
        ),
        (
            doc(&[AWS, &pool("    kubelet: {containerStopDelay: -2s}\n")]),
            "pools[0].kubelet.containerStopDelay",
            "invalid duration \"-2s\": must not be negative",
        ),
        (
            doc(&["settings: {podCIDR: 10.244.0.0/33}\n", AWS]),
            "settings.podCIDR",
            "invalid CIDR address: 10.244.0.0/33",
        ),
        (
            doc(&["settings: {podCIDR: 10.244.1.0/16}\n", AWS]),
            "settings.podCIDR",
            "10.244.1.0/16 has host bits set: the network address is 10.244.0.0/16",
        ),
        (
            doc(&[AWS, &pool("    taints: [{key: a, effect: Sometimes}]\n")]),
            "pools[0].taints[0].effect",
            "unknown variant `Sometimes`",
        ),
        (
            doc(&[AWS, &pool("    capacityType: reserved\n")]),
            "pools[0].capacityType",
            "unknown variant `reserved`",
        ),
        (
            HEADER.replace("metadata: {name: t}\n", ""),
            ".",
            "missing field `metadata`",
        ),
    ];
    for (text, path, message) in cases {
        let (got_path, got_message) = parse_error(&text);
        assert_eq!(got_path, path, "{text}");
        assert!(
            got_message.starts_with(message),
            "{got_message:?} should start with {message:?}"
        );
    }
}

#[test]
fn yaml_syntax_errors_have_a_location() {
    let err = Cluster::from_yaml("apiVersion: [\n").unwrap_err();
    match &err {
        ClusterError::Parse { line, column, .. } => {
            assert_eq!((*line, *column), (Some(1), Some(13)));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("(line 1, column 13)"), "{err}");
    assert!(Cluster::from_yaml("").is_err());
    assert!(Cluster::from_yaml("- a\n- b\n").is_err());
}

#[test]
fn display_names_path_and_location() {
    let text = doc(&[AWS, &pool("").replace("cpu: 2", "cpu: x")]);
    let err = Cluster::from_yaml(&text).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("pools[0].instanceType.cpu: invalid quantity \"x\""),
        "{shown}"
    );
    assert!(shown.ends_with("(line 14, column 41)"), "{shown}");
}

/// Rule violations found after parsing; all of them are reported at once.
#[test]
fn validation_errors_name_the_path() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            doc(&[AWS, &pool("")]).replace("kubetwin.io/v1alpha1", "kubetwin.io/v1"),
            "apiVersion",
            "unsupported value \"kubetwin.io/v1\": supported values: \"kubetwin.io/v1alpha1\"",
        ),
        (
            doc(&[AWS, &pool("")]).replace("name: t}", "name: T_T}"),
            "metadata.name",
            "invalid name \"T_T\": a lowercase RFC 1123 label must consist of",
        ),
        (
            doc(&[AWS, &pool("").replace("provider: aws", "provider: azure")]),
            "pools[0].provider",
            "unknown provider \"azure\"",
        ),
        (
            doc(&[AWS, &pool("    zones: [us-east-1a, us-east-1z]\n")]),
            "pools[0].zones[1]",
            "zone \"us-east-1z\" is not a zone of region \"us-east-1\"",
        ),
        (
            doc(&[AWS, &pool("    zones: [us-east-1a, us-east-1a]\n")]),
            "pools[0].zones[1]",
            "duplicate zone \"us-east-1a\"",
        ),
        (
            doc(&[AWS, &pool(""), &pool("").replace("pools:\n", "")]),
            "pools[1].name",
            "duplicate pool name \"general\" (also pools[0])",
        ),
        (
            doc(&[AWS, &pool("    labels: {topology.kubernetes.io/zone: x}\n")]),
            "pools[0].labels[topology.kubernetes.io/zone]",
            "label \"topology.kubernetes.io/zone\" is set from the spec and may not be overridden",
        ),
        (
            doc(&[AWS, &pool("    labels: {team: \"a b\"}\n")]),
            "pools[0].labels[team]",
            "invalid value \"a b\": a valid label must be",
        ),
        (
            doc(&[AWS, &pool("    labels: {\"-bad\": x}\n")]),
            "pools[0].labels[-bad]",
            "invalid label key \"-bad\": name part must consist of",
        ),
        (
            doc(&[
                AWS,
                &pool(
                    "    taints: [{key: a, effect: NoSchedule}, {key: a, value: b, effect: NoSchedule}]\n",
                ),
            ]),
            "pools[0].taints[1]",
            "taints must be unique by key and effect pair",
        ),
        (
            doc(&[
                AWS,
                &pool("    taints: [{key: \"a b\", effect: NoSchedule}]\n"),
            ]),
            "pools[0].taints[0].key",
            "invalid value \"a b\": name part must consist of",
        ),
        (
            doc(&[AWS, &pool("").replace("memory: 8Gi", "memory: \"0\"")]),
            "pools[0].instanceType.memory",
            "must be greater than zero",
        ),
        (
            doc(&[
                AWS,
                &pool("").replace("cpu: 2,", "cpu: 2, hourlyPrice: -1,"),
            ]),
            "pools[0].instanceType.hourlyPrice",
            "must be a non-negative number, got -1",
        ),
        (
            doc(&[
                AWS,
                &pool("    reservations: {kubeReserved: {memory: 9Gi}}\n"),
            ]),
            "pools[0]",
            "invalid Node Allocatable configuration. Resource \"memory\" has an allocatable of 9316Mi, capacity of -1124Mi",
        ),
        (
            doc(&[AWS, &pool("    reservations: {kubeReserved: {gpu: 1}}\n")]),
            "pools[0].reservations.kubeReserved[gpu]",
            "cannot reserve \"gpu\" resource: supported resources are cpu, memory, ephemeral-storage, pid",
        ),
        (
            doc(&[AWS, &pool("    reservations: {kubeReserved: {cpu: -1}}\n")]),
            "pools[0].reservations.kubeReserved[cpu]",
            "resource quantity for \"cpu\" cannot be negative: -1",
        ),
        (
            doc(&[
                AWS,
                &pool("    reservations: {evictionHard: {memory.free: 1Gi}}\n"),
            ]),
            "pools[0].reservations.evictionHard[memory.free]",
            "unsupported eviction signal memory.free",
        ),
        (
            doc(&[
                "settings: {reservations: {evictionHard: {nodefs.available: \"-5%\"}}}\n",
                AWS,
            ]),
            "settings.reservations.evictionHard[nodefs.available]",
            "eviction percentage threshold nodefs.available must be >= 0%: -5%",
        ),
        (
            doc(&["settings: {podCIDR: 10.244.0.0/24}\n", AWS, &pool("")]),
            "settings.podCIDR",
            "10.244.0.0/24 holds 1 /24 node CIDRs outside the service range, but the pools have 2 nodes",
        ),
        (
            doc(&[
                "settings: {podCIDR: 10.0.0.0/8, nodeCIDRMaskSize: 26, nodeNetwork: 172.16.0.0/12}\n",
                AWS,
            ]),
            "settings.nodeCIDRMaskSize",
            "must be between 8 and 24 for podCIDR 10.0.0.0/8",
        ),
        (
            doc(&[&AWS.replace(
                "{name: us-east-1b}",
                "{name: us-east-1b, nodeSubnet: 10.244.3.0/24}",
            )]),
            "providers[0].regions[0].zones[1].nodeSubnet",
            "10.244.3.0/24 overlaps 10.244.0.0/16 (settings.podCIDR)",
        ),
        (
            doc(&[&AWS.replace("{name: us-east-1b}", "{name: us-east-1a}")]),
            "providers[0].regions[0].zones[1].name",
            "duplicate zone \"us-east-1a\" (also providers[0].regions[0].zones[0])",
        ),
        (
            doc(&[
                AWS,
                PROXMOX,
                &pool("")
                    .replace("provider: aws", "provider: pve")
                    .replace("count: 2", "count: 3"),
            ]),
            "providers[1].hypervisorHosts[0].memory",
            "the VMs placed on host \"h1\" need 24Gi of memory, more than its 20Gi",
        ),
        (
            doc(&[
                AWS,
                PROXMOX,
                &pool("    capacityType: spot\n").replace("provider: aws", "provider: pve"),
            ]),
            "pools[0].capacityType",
            "spot capacity needs a cloud provider (kind: cloud)",
        ),
        (
            doc(&[
                AWS,
                PROXMOX,
                &pool("    hypervisorHosts: [h2]\n").replace("provider: aws", "provider: pve"),
            ]),
            "pools[0].hypervisorHosts[0]",
            "unknown hypervisor host \"h2\" of provider \"pve\"",
        ),
        (
            doc(&[AWS, &pool("    hypervisorHosts: [h1]\n")]),
            "pools[0].hypervisorHosts",
            "only pools of on-premises providers run on hypervisor hosts",
        ),
        (
            doc(&[&AWS.replace(
                "zones: [{name: us-east-1a}, {name: us-east-1b}]",
                "zones: []",
            )]),
            "providers[0].regions[0].zones",
            "must have at least one zone",
        ),
        (
            doc(&[
                AWS,
                &pool("").replace(
                    "name: general",
                    "name: a-very-long-pool-name-that-goes-on-and-on-and-on-and-on",
                ),
            ]),
            "pools[0].name",
            "node name \"a-very-long-pool-name-that-goes-on-and-on-and-on-and-on-us-east-1a-0\" (<pool>-<zone>-<n>) would be longer than 63 characters",
        ),
        (
            doc(&[AWS, &pool("    kubelet: {imagePullFailureRate: 1.5}\n")]),
            "pools[0].kubelet.imagePullFailureRate",
            "must be between 0 and 1, got 1.5",
        ),
        (
            doc(&[AWS, &pool("").replace("count: 2", "count: 100001")]),
            "pools",
            "the pools add up to 100001 nodes; at most 100000 are supported",
        ),
        (
            doc(&[
                &AWS.replace(
                    "{name: us-east-1a}",
                    "{name: us-east-1a, nodeSubnet: 192.168.0.0/28}",
                ),
                &pool("").replace("count: 2", "count: 12"),
            ]),
            "pools[0].zones[0]",
            "zone \"us-east-1a\" subnet 192.168.0.0/28 has no address left for node \"general-us-east-1a-5\"",
        ),
        (
            doc(&["settings: {kubernetesVersion: \"1.34\"}\n", AWS]),
            "settings.kubernetesVersion",
            "invalid version \"1.34\"",
        ),
        (
            doc(&["providers: []\n"]),
            "providers",
            "must have at least one provider",
        ),
    ];
    for (text, path, message) in cases {
        let errors = field_errors(&text);
        assert!(
            errors
                .iter()
                .any(|e| e.path == path && e.message.starts_with(message)),
            "want {path}: {message}\ngot {errors:#?}\n{text}"
        );
    }
}

#[test]
fn several_errors_are_reported_together() {
    let text = doc(&[
        AWS,
        &pool("    labels: {kubernetes.io/hostname: x}\n")
            .replace("provider: aws", "provider: aws\n    region: nowhere"),
    ])
    .replace("name: t}", "name: Bad}");
    let errors = field_errors(&text);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["metadata.name", "pools[0].region"], "{errors:#?}");
    let shown = Cluster::from_yaml(&text).unwrap_err().to_string();
    assert!(
        shown.starts_with("invalid cluster spec: metadata.name: "),
        "{shown}"
    );
    assert!(
        shown.contains("; pools[0].region: region \"nowhere\""),
        "{shown}"
    );
}

/// Deep nesting and alias bombs are refused by the parser's budgets, not by a stack overflow.
#[test]
fn hostile_documents_are_refused() {
    for text in [
        "[".repeat(100_000),
        "{a: ".repeat(50_000),
        "- ".repeat(50_000),
        format!(
            "a: &a [x, x, x, x, x, x, x, x, x]\n{}",
            (b'b'..=b'z')
                .map(|c| {
                    let prev = (c - 1) as char;
                    let c = c as char;
                    format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n")
                })
                .collect::<String>()
        ),
    ] {
        assert!(Cluster::from_yaml(&text).is_err());
    }
}
