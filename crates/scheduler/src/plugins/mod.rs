//! The in-tree plugins of the default profile, one module each.

pub mod defaultbinder;
pub mod defaultpreemption;
pub mod dynamicresources;
pub mod imagelocality;
pub mod interpodaffinity;
pub mod names;
pub mod nodeaffinity;
pub mod nodename;
pub mod nodeports;
pub mod noderesources;
pub mod nodeunschedulable;
pub mod nodevolumelimits;
pub mod podtopologyspread;
pub mod queuesort;
pub mod registry;
pub mod schedulinggates;
pub mod tainttoleration;
pub mod volumebinding;
pub mod volumerestrictions;
pub mod volumezone;
