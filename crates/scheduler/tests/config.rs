//! Conformance: the default profile and configuration handling.
//! Upstream: pkg/scheduler/apis/config/testing/defaults/defaults.go (`ExpandedPluginsV1`),
//! pkg/scheduler/apis/config/v1/default_plugins_test.go (`TestMergePlugins`),
//! pkg/scheduler/framework/runtime/framework_test.go (MultiPoint expansion and weights),
//! pkg/scheduler/framework/plugins/defaultpreemption/default_preemption_test.go
//! (`TestCalculateNumCandidates`).

use kubetwin_scheduler::config::{PluginRef, PluginSet, SchedulerConfiguration, merge_plugin_set};
use kubetwin_scheduler::framework::ExtensionPoint;
use kubetwin_scheduler::plugins::defaultpreemption::DefaultPreemption;

fn names(list: Vec<(&'static str, i64)>) -> Vec<&'static str> {
    list.into_iter().map(|(n, _)| n).collect()
}

/// Upstream: ExpandedPluginsV1 (1.34). DynamicResources' Reserve/PreBind are not modelled
/// (claim-less pods only), so those points list VolumeBinding alone.
#[test]
fn default_profile_expansion() {
    let fws = SchedulerConfiguration::default()
        .build_frameworks()
        .expect("default");
    let fw = &fws[0];
    assert_eq!(fw.profile_name(), "default-scheduler");
    let cases: Vec<(ExtensionPoint, Vec<&str>)> = vec![
        (
            ExtensionPoint::PreEnqueue,
            vec!["SchedulingGates", "DynamicResources"],
        ),
        (ExtensionPoint::QueueSort, vec!["PrioritySort"]),
        (
            ExtensionPoint::PreFilter,
            vec![
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "NodeVolumeLimits",
                "VolumeBinding",
                "VolumeZone",
                "PodTopologySpread",
                "InterPodAffinity",
                "DynamicResources",
            ],
        ),
        (
            ExtensionPoint::Filter,
            vec![
                "NodeUnschedulable",
                "NodeName",
                "TaintToleration",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "NodeVolumeLimits",
                "VolumeBinding",
                "VolumeZone",
                "PodTopologySpread",
                "InterPodAffinity",
            ],
        ),
        (
            ExtensionPoint::PostFilter,
            vec!["DynamicResources", "DefaultPreemption"],
        ),
        (
            ExtensionPoint::PreScore,
            vec![
                "TaintToleration",
                "NodeAffinity",
                "NodeResourcesFit",
                "VolumeBinding",
                "PodTopologySpread",
                "InterPodAffinity",
                "NodeResourcesBalancedAllocation",
            ],
        ),
        (ExtensionPoint::Reserve, vec!["VolumeBinding"]),
        (ExtensionPoint::PreBind, vec!["VolumeBinding"]),
        (ExtensionPoint::Bind, vec!["DefaultBinder"]),
    ];
    for (point, want) in cases {
        assert_eq!(names(fw.list_plugins(point)), want, "{point:?}");
    }
    assert_eq!(
        fw.list_plugins(ExtensionPoint::Score),
        vec![
            ("TaintToleration", 3),
            ("NodeAffinity", 2),
            ("NodeResourcesFit", 1),
            ("VolumeBinding", 1),
            ("PodTopologySpread", 2),
            ("InterPodAffinity", 2),
            ("NodeResourcesBalancedAllocation", 1),
            ("ImageLocality", 1),
        ],
        "Score weights"
    );
}

fn p(name: &str, weight: i64) -> PluginRef {
    PluginRef {
        name: name.into(),
        weight,
    }
}

/// Upstream: TestMergePlugins (default_plugins_test.go).
#[test]
fn merge_plugins() {
    let default = PluginSet {
        enabled: vec![p("DefaultPlugin1", 0), p("DefaultPlugin2", 0)],
        disabled: vec![],
    };
    let cases: Vec<(&str, PluginSet, Vec<PluginRef>)> = vec![
        (
            "AppendCustomPlugin",
            PluginSet {
                enabled: vec![p("CustomPlugin", 0)],
                disabled: vec![],
            },
            vec![
                p("DefaultPlugin1", 0),
                p("DefaultPlugin2", 0),
                p("CustomPlugin", 0),
            ],
        ),
        (
            "InsertAfterDefaultPlugins2",
            PluginSet {
                enabled: vec![p("CustomPlugin", 0), p("DefaultPlugin2", 0)],
                disabled: vec![p("DefaultPlugin2", 0)],
            },
            vec![
                p("DefaultPlugin1", 0),
                p("CustomPlugin", 0),
                p("DefaultPlugin2", 0),
            ],
        ),
        (
            "InsertBeforeAllPlugins",
            PluginSet {
                enabled: vec![
                    p("CustomPlugin", 0),
                    p("DefaultPlugin1", 0),
                    p("DefaultPlugin2", 0),
                ],
                disabled: vec![p("*", 0)],
            },
            vec![
                p("CustomPlugin", 0),
                p("DefaultPlugin1", 0),
                p("DefaultPlugin2", 0),
            ],
        ),
        (
            "ReorderDefaultPlugins",
            PluginSet {
                enabled: vec![p("DefaultPlugin2", 0), p("DefaultPlugin1", 0)],
                disabled: vec![p("*", 0)],
            },
            vec![p("DefaultPlugin2", 0), p("DefaultPlugin1", 0)],
        ),
        (
            "ApplyNilCustomPlugin",
            PluginSet::default(),
            vec![p("DefaultPlugin1", 0), p("DefaultPlugin2", 0)],
        ),
        (
            "CustomPluginOverrideDefaultPlugin",
            PluginSet {
                enabled: vec![p("DefaultPlugin1", 2)],
                disabled: vec![],
            },
            vec![p("DefaultPlugin1", 2), p("DefaultPlugin2", 0)],
        ),
        (
            "OrderPreserveAfterOverride",
            PluginSet {
                enabled: vec![p("DefaultPlugin2", 2), p("DefaultPlugin1", 1)],
                disabled: vec![],
            },
            vec![p("DefaultPlugin1", 1), p("DefaultPlugin2", 2)],
        ),
        (
            "RepeatedCustomPlugin",
            PluginSet {
                enabled: vec![
                    p("DefaultPlugin1", 0),
                    p("DefaultPlugin2", 2),
                    p("DefaultPlugin2", 4),
                ],
                disabled: vec![],
            },
            // The last repetition replaces the default in place; the others are appended.
            vec![
                p("DefaultPlugin1", 0),
                p("DefaultPlugin2", 4),
                p("DefaultPlugin2", 2),
            ],
        ),
    ];
    for (name, custom, want) in cases {
        assert_eq!(merge_plugin_set(&default, &custom).enabled, want, "{name}");
    }
}

/// Configuration files: disabling and reordering plugins, weights, args, percentage.
#[test]
fn configuration_files() {
    let cfg = SchedulerConfiguration::from_yaml(
        r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 50
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint:
      enabled:
      - {name: NodeResourcesBalancedAllocation, weight: 5}
      disabled:
      - {name: ImageLocality}
    score:
      enabled:
      - {name: TaintToleration, weight: 7}
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 3}, {name: memory, weight: 1}]
- schedulerName: bin-packer
  percentageOfNodesToScore: 100
"#,
    )
    .expect("config");
    assert_eq!(cfg.percentage_of_nodes_to_score, 50);
    let fws = cfg.build_frameworks().expect("frameworks");
    let score = fws[0].list_plugins(ExtensionPoint::Score);
    assert!(
        !score.iter().any(|(n, _)| *n == "ImageLocality"),
        "ImageLocality disabled: {score:?}"
    );
    assert_eq!(
        score[0],
        ("TaintToleration", 7),
        "explicit Score weight wins and comes first"
    );
    assert!(
        score.contains(&("NodeResourcesBalancedAllocation", 5)),
        "MultiPoint weight override"
    );
    assert_eq!(fws[1].profile_name(), "bin-packer");
    assert_eq!(fws[1].percentage_of_nodes_to_score(), Some(100));
    for (bad, why) in [
        ("apiVersion: v1\nkind: Pod\n", "kind"),
        (
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 101\n",
            "range",
        ),
        (
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins: {score: {enabled: [{name: NoSuchPlugin}]}}\n",
            "unknown plugin",
        ),
        (
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Best}}}]\n",
            "strategy",
        ),
    ] {
        let r =
            SchedulerConfiguration::from_yaml(bad).and_then(|c| c.build_frameworks().map(|_| ()));
        assert!(r.is_err(), "{why}");
    }
}

/// Upstream: TestCalculateNumCandidates (default_preemption_test.go).
#[test]
fn calculate_num_candidates() {
    let cases: &[(&str, i64, i64, i64, i64)] = &[
        ("no nodes", 5, 50, 0, 0),
        (
            "nodes*minCandidateNodesPercentage >= minCandidateNodesAbsolute",
            50,
            10,
            100,
            50,
        ),
        (
            "nodes*minCandidateNodesPercentage < minCandidateNodesAbsolute",
            10,
            500,
            1000,
            500,
        ),
        ("nodes < minCandidateNodesAbsolute", 10, 500, 200, 200),
        ("minCandidateNodesPercentage=0", 0, 10, 100, 10),
        ("minCandidateNodesAbsolute=0", 50, 0, 100, 50),
        ("all nodes", 100, 0, 100, 100),
    ];
    for (name, pct, abs, nodes, want) in cases {
        assert_eq!(
            DefaultPreemption::new(*pct, *abs).calculate_num_candidates(*nodes),
            *want,
            "{name}"
        );
    }
}
