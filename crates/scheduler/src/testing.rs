//! Builders of pods and nodes for tests and benchmarks, in the spirit of upstream's
//! `st.MakePod()` / `st.MakeNode()` wrappers (pkg/scheduler/testing/wrappers.go).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerImage, ContainerPort, Node, NodeAffinity, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, NodeSpec, NodeStatus, Pod, PodAffinity,
    PodAffinityTerm, PodAntiAffinity, PodSpec, PodStatus, PreferredSchedulingTerm,
    ResourceRequirements, Taint, Toleration, TopologySpreadConstraint, Volume,
    WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta, Time,
};

/// A resource list from `(name, quantity)` pairs.
pub fn res(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity((*v).to_owned())))
        .collect()
}

/// A label map from pairs.
pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A label selector with match labels.
pub fn selector(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels(pairs)),
        match_expressions: None,
    }
}

/// A label selector with one expression.
pub fn selector_expr(key: &str, op: &str, values: &[&str]) -> LabelSelector {
    LabelSelector {
        match_labels: None,
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.to_owned(),
            operator: op.to_owned(),
            values: if values.is_empty() && (op == "Exists" || op == "DoesNotExist") {
                None
            } else {
                Some(values.iter().map(|s| (*s).to_owned()).collect())
            },
        }]),
    }
}

/// A node selector requirement.
pub fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.to_owned(),
        operator: op.to_owned(),
        values: if values.is_empty() {
            None
        } else {
            Some(values.iter().map(|s| (*s).to_owned()).collect())
        },
    }
}

/// A node selector term from expressions and fields.
pub fn term(
    exprs: Vec<NodeSelectorRequirement>,
    fields: Vec<NodeSelectorRequirement>,
) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: if exprs.is_empty() { None } else { Some(exprs) },
        match_fields: if fields.is_empty() {
            None
        } else {
            Some(fields)
        },
    }
}

/// A taint.
pub fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.to_owned(),
        value: Some(value.to_owned()).filter(|v| !v.is_empty()),
        effect: effect.to_owned(),
        time_added: None,
    }
}

/// A toleration (empty strings are unset).
pub fn toleration(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
    let opt = |s: &str| Some(s.to_owned()).filter(|v| !v.is_empty());
    Toleration {
        key: opt(key),
        operator: opt(op),
        value: opt(value),
        effect: opt(effect),
        toleration_seconds: None,
    }
}

/// Builds a pod.
#[derive(Debug, Clone)]
pub struct PodBuilder(pub Pod);

/// Starts a pod named `name` in namespace `default` with no containers.
pub fn make_pod(name: &str) -> PodBuilder {
    PodBuilder(Pod {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some("default".to_owned()),
            uid: Some(name.to_owned()),
            ..Default::default()
        },
        spec: Some(PodSpec::default()),
        status: Some(PodStatus::default()),
    })
}

impl PodBuilder {
    fn spec(&mut self) -> &mut PodSpec {
        self.0.spec.get_or_insert_with(Default::default)
    }
    fn affinity(&mut self) -> &mut Affinity {
        self.spec().affinity.get_or_insert_with(Default::default)
    }
    /// Sets the namespace.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.0.metadata.namespace = Some(ns.to_owned());
        self
    }
    /// Sets the UID.
    pub fn uid(mut self, uid: &str) -> Self {
        self.0.metadata.uid = Some(uid.to_owned());
        self
    }
    /// Adds a label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.to_owned(), v.to_owned());
        self
    }
    /// Sets the priority.
    pub fn priority(mut self, p: i32) -> Self {
        self.spec().priority = Some(p);
        self
    }
    /// Sets `spec.nodeName`.
    pub fn node(mut self, n: &str) -> Self {
        self.spec().node_name = Some(n.to_owned());
        self
    }
    /// Sets `status.nominatedNodeName`.
    pub fn nominated_node_name(mut self, n: &str) -> Self {
        self.0
            .status
            .get_or_insert_with(Default::default)
            .nominated_node_name = Some(n.to_owned());
        self
    }
    /// Sets `status.startTime` to `secs` after the epoch.
    pub fn start_time(mut self, secs: i64) -> Self {
        let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        self.0
            .status
            .get_or_insert_with(Default::default)
            .start_time = Some(Time(ts));
        self
    }
    /// Sets `metadata.creationTimestamp` to `secs` after the epoch.
    pub fn creation(mut self, secs: i64) -> Self {
        let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        self.0.metadata.creation_timestamp = Some(Time(ts));
        self
    }
    /// Marks the pod terminating.
    pub fn terminating(mut self) -> Self {
        self.0.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
        self
    }
    /// Adds a container with requests (`Req`).
    pub fn req(mut self, r: &[(&str, &str)]) -> Self {
        let n = self.spec().containers.len();
        self.spec().containers.push(Container {
            name: format!("c{n}"),
            image: Some("pause".into()),
            resources: Some(ResourceRequirements {
                requests: Some(res(r)),
                ..Default::default()
            }),
            ..Default::default()
        });
        self
    }
    /// Adds a container with no requests.
    pub fn container(mut self, image: &str) -> Self {
        let n = self.spec().containers.len();
        self.spec().containers.push(Container {
            name: format!("c{n}"),
            image: Some(image.to_owned()),
            ..Default::default()
        });
        self
    }
    /// Adds an init container with requests (`InitReq`); `sidecar` makes it restartable.
    pub fn init_req(mut self, r: &[(&str, &str)], sidecar: bool) -> Self {
        let list = self.spec().init_containers.get_or_insert_with(Vec::new);
        let n = list.len();
        list.push(Container {
            name: format!("init{n}"),
            image: Some("pause".into()),
            restart_policy: sidecar.then(|| "Always".to_owned()),
            resources: Some(ResourceRequirements {
                requests: Some(res(r)),
                ..Default::default()
            }),
            ..Default::default()
        });
        self
    }
    /// Sets the pod overhead.
    pub fn overhead(mut self, r: &[(&str, &str)]) -> Self {
        self.spec().overhead = Some(res(r));
        self
    }
    /// Sets pod-level requests.
    pub fn pod_level_req(mut self, r: &[(&str, &str)]) -> Self {
        self.spec().resources = Some(ResourceRequirements {
            requests: Some(res(r)),
            ..Default::default()
        });
        self
    }
    /// Adds a container with a host port.
    pub fn host_port(mut self, ip: &str, protocol: &str, port: i32) -> Self {
        let n = self.spec().containers.len();
        self.spec().containers.push(Container {
            name: format!("c{n}"),
            ports: Some(vec![ContainerPort {
                container_port: port,
                host_port: Some(port),
                host_ip: Some(ip.to_owned()).filter(|s| !s.is_empty()),
                protocol: Some(protocol.to_owned()).filter(|s| !s.is_empty()),
                ..Default::default()
            }]),
            ..Default::default()
        });
        self
    }
    /// Adds a node selector label.
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.spec()
            .node_selector
            .get_or_insert_with(Default::default)
            .insert(k.to_owned(), v.to_owned());
        self
    }
    /// Adds required node affinity terms.
    pub fn node_affinity_required(mut self, terms: Vec<NodeSelectorTerm>) -> Self {
        let na = self
            .affinity()
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        na.required_during_scheduling_ignored_during_execution
            .get_or_insert_with(|| NodeSelector {
                node_selector_terms: Vec::new(),
            })
            .node_selector_terms
            .extend(terms);
        self
    }
    /// Adds a preferred node affinity term.
    pub fn node_affinity_preferred(mut self, weight: i32, t: NodeSelectorTerm) -> Self {
        let na = self
            .affinity()
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        na.preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(PreferredSchedulingTerm {
                weight,
                preference: t,
            });
        self
    }
    /// Adds a toleration.
    pub fn toleration(mut self, t: Toleration) -> Self {
        self.spec().tolerations.get_or_insert_with(Vec::new).push(t);
        self
    }
    /// Adds required pod affinity.
    pub fn pod_affinity(mut self, topology_key: &str, sel: LabelSelector) -> Self {
        let t = PodAffinityTerm {
            label_selector: Some(sel),
            topology_key: topology_key.to_owned(),
            ..Default::default()
        };
        self.affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default)
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    /// Adds required pod anti-affinity.
    pub fn pod_anti_affinity(mut self, topology_key: &str, sel: LabelSelector) -> Self {
        let t = PodAffinityTerm {
            label_selector: Some(sel),
            topology_key: topology_key.to_owned(),
            ..Default::default()
        };
        self.affinity()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default)
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    /// Adds a full required affinity term.
    pub fn pod_affinity_term(mut self, t: PodAffinityTerm) -> Self {
        self.affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default)
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    /// Adds a full required anti-affinity term.
    pub fn pod_anti_affinity_term(mut self, t: PodAffinityTerm) -> Self {
        self.affinity()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default)
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    /// Adds preferred pod affinity.
    pub fn preferred_pod_affinity(mut self, weight: i32, t: PodAffinityTerm) -> Self {
        self.affinity()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default)
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                weight,
                pod_affinity_term: t,
            });
        self
    }
    /// Adds preferred pod anti-affinity.
    pub fn preferred_pod_anti_affinity(mut self, weight: i32, t: PodAffinityTerm) -> Self {
        self.affinity()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default)
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                weight,
                pod_affinity_term: t,
            });
        self
    }
    /// Adds a topology spread constraint.
    pub fn spread(
        mut self,
        max_skew: i32,
        key: &str,
        when: &str,
        sel: Option<LabelSelector>,
        min_domains: Option<i32>,
    ) -> Self {
        self.spec()
            .topology_spread_constraints
            .get_or_insert_with(Vec::new)
            .push(TopologySpreadConstraint {
                max_skew,
                topology_key: key.to_owned(),
                when_unsatisfiable: when.to_owned(),
                label_selector: sel,
                min_domains,
                ..Default::default()
            });
        self
    }
    /// Adds a full topology spread constraint.
    pub fn spread_constraint(mut self, c: TopologySpreadConstraint) -> Self {
        self.spec()
            .topology_spread_constraints
            .get_or_insert_with(Vec::new)
            .push(c);
        self
    }
    /// Adds a volume.
    pub fn volume(mut self, v: Volume) -> Self {
        self.spec().volumes.get_or_insert_with(Vec::new).push(v);
        self
    }
    /// Adds a PVC volume.
    pub fn pvc(self, claim: &str) -> Self {
        let v = Volume {
            name: claim.to_owned(),
            persistent_volume_claim: Some(
                k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                    claim_name: claim.to_owned(),
                    read_only: None,
                },
            ),
            ..Default::default()
        };
        self.volume(v)
    }
    /// Sets `spec.schedulingGates`.
    pub fn scheduling_gates(mut self, gates: &[&str]) -> Self {
        self.spec().scheduling_gates = Some(
            gates
                .iter()
                .map(|g| k8s_openapi::api::core::v1::PodSchedulingGate {
                    name: (*g).to_owned(),
                })
                .collect(),
        );
        self
    }
    /// Sets the preemption policy.
    pub fn preemption_policy(mut self, p: &str) -> Self {
        self.spec().preemption_policy = Some(p.to_owned());
        self
    }
    /// Sets the scheduler name.
    pub fn scheduler_name(mut self, n: &str) -> Self {
        self.spec().scheduler_name = Some(n.to_owned());
        self
    }
    /// The pod.
    pub fn obj(self) -> Pod {
        self.0
    }
}

/// Builds a node.
#[derive(Debug, Clone)]
pub struct NodeBuilder(pub Node);

/// Starts a node named `name`.
pub fn make_node(name: &str) -> NodeBuilder {
    NodeBuilder(Node {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus::default()),
    })
}

impl NodeBuilder {
    /// Adds a label.
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.to_owned(), v.to_owned());
        self
    }
    /// Sets capacity and allocatable.
    pub fn capacity(mut self, r: &[(&str, &str)]) -> Self {
        let st = self.0.status.get_or_insert_with(Default::default);
        st.capacity = Some(res(r));
        st.allocatable = Some(res(r));
        self
    }
    /// Adds a taint.
    pub fn taint(mut self, t: Taint) -> Self {
        self.0
            .spec
            .get_or_insert_with(Default::default)
            .taints
            .get_or_insert_with(Vec::new)
            .push(t);
        self
    }
    /// Cordons the node.
    pub fn unschedulable(mut self) -> Self {
        self.0
            .spec
            .get_or_insert_with(Default::default)
            .unschedulable = Some(true);
        self
    }
    /// Adds an image with its names and size.
    pub fn image(mut self, names: &[&str], size: i64) -> Self {
        self.0
            .status
            .get_or_insert_with(Default::default)
            .images
            .get_or_insert_with(Vec::new)
            .push(ContainerImage {
                names: Some(names.iter().map(|s| (*s).to_owned()).collect()),
                size_bytes: Some(size),
            });
        self
    }
    /// The node.
    pub fn obj(self) -> Node {
        self.0
    }
}
