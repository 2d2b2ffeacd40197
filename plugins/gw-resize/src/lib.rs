//! `kubectl gw-resize`: change a workload's requests, limits, replicas or restart it safely.

pub mod catalog;
pub mod change;
pub mod cli;
pub mod components;
pub mod figures;
pub mod placement;
pub mod plan;
pub mod preflight;
pub mod target;
pub mod workload;
