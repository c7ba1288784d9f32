//! What in-process components (controllers, simulated kubelets, the API-connected scheduler)
//! share: [`time::SimTime`], the one source of "now" and of sleeping, which runs on the wall
//! clock (`serve`), N times faster (`serve --speed N`), or on virtual time (scenarios, under a
//! paused tokio runtime).

pub mod informer;
pub mod time;
pub mod workqueue;

pub use informer::{Event, HasMeta, Informer, MetaOnly, WatchSpec};
pub use time::SimTime;
pub use workqueue::WorkQueue;
