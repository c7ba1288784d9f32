//! Simulated kubelets: register nodes, renew leases, run pods without containers on realistic
//! timings, report status and IPs, terminate gracefully.
//!
//! One [`Kubelet`] per node, driven by a [`kubetwin_apiserver::local::LocalClient`] and a
//! [`kubetwin_runtime::SimTime`]: with the same seed, node and pods it makes the same API
//! writes in the same order under virtual time. Behaviour is tuned by [`KubeletKnobs`] (per
//! node pool) and by pod annotations (see [`knobs`] for the list).
//!
//! The pure parts are separate modules with their own tests: [`status`] (pod phase and
//! conditions), [`admission`] (the kubelet's admission checks), [`node`] (node conditions,
//! registration object, lease), [`ipam`] (pod IPs from the pod CIDR), [`pod`] (the per-pod
//! state machine), [`duration`] (Go duration strings).

pub mod admission;
pub mod duration;
pub mod feed;
pub mod ids;
pub mod ipam;
pub mod knobs;
pub mod kubelet;
pub mod node;
pub mod pod;
pub mod runtime;
pub mod status;

pub use feed::PodFeed;
pub use knobs::{KubeletKnobs, PodProfile, annotations};
pub use kubelet::{ControlState, Kubelet, KubeletHandle};
pub use node::Pressure;
