//! kube-scheduler's decisions as a pure library: queue, framework, default plugins, preemption, explanations.
