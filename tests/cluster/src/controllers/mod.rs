//! The controllers of the test cluster: deterministic models of the Kubernetes control plane
//! and kubelets, run as one pass per [`Controllers::step_at`].

mod clock;
mod deployment;
mod events;
mod kubelet;
mod labels;
mod objects;
mod names;
mod quantity;
mod replicaset;
mod rules;
mod scheduler;

pub use clock::Clock;
pub use rules::{ContainerFault, FaultEffect, Rules};
