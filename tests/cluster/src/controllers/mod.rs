//! The controllers of the test cluster: deterministic models of the Kubernetes control plane
//! (deployment, replicaset, statefulset, daemonset, scheduler, endpoints, disruption, garbage
//! collector, node lifecycle) and of the kubelets and metrics-server, driven by a scenario's
//! [`Rules`]. One [`Controllers::step_at`] is one pass of each, in the order a change
//! propagates (a template change becomes a ReplicaSet, pods, bindings, running containers and
//! endpoints within one pass).

mod admission;
mod clock;
mod daemonset;
mod deployment;
mod endpoints;
mod events;
mod gc;
mod kubelet;
mod labels;
mod metrics;
mod names;
mod nodelifecycle;
mod objects;
mod pdb;
mod quantity;
mod replicaset;
mod rules;
mod scheduler;
mod statefulset;

use jiff::Timestamp;

pub use admission::{FailingWebhooks, Operation, Phase, Write, create_refused};
pub use clock::Clock;
pub use daemonset::daemon_pod;
pub use names::{fnv32a, pod_template_hash, suffix};
pub use rules::{ContainerFault, FaultEffect, Rules};
pub use scheduler::fit_error_message;
pub use statefulset::{stateful_pod, update_revision as stateful_revision};

use crate::store::Store;

/// One controller pass.
type Pass = fn(&Store, &Rules, Timestamp) -> bool;

/// The passes in propagation order.
const PASSES: &[(&str, Pass)] = &[
    ("nodelifecycle", nodelifecycle::reconcile),
    ("deployment", deployment::reconcile),
    ("replicaset", replicaset::reconcile),
    ("statefulset", statefulset::reconcile),
    ("daemonset", daemonset::reconcile),
    ("scheduler", scheduler::reconcile),
    ("kubelet", kubelet::reconcile),
    ("endpoints", endpoints::reconcile),
    ("disruption", pdb::reconcile),
    ("garbagecollector", gc::reconcile),
    ("metrics", metrics::reconcile),
];

/// Every controller, with the scenario's rules and a clock.
#[derive(Debug, Clone, Default)]
pub struct Controllers {
    rules: Rules,
    clock: Clock,
}

impl Controllers {
    /// Controllers on the system clock.
    pub fn new(rules: Rules) -> Controllers {
        Controllers {
            rules,
            clock: Clock::System,
        }
    }

    /// Controllers reading time from `clock` (a manual clock makes time-based behaviour, such
    /// as back-offs and progress deadlines, testable).
    pub fn with_clock(rules: Rules, clock: Clock) -> Controllers {
        Controllers { rules, clock }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The clock in use.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// One pass of every controller at `now` (taken in whole seconds, the resolution of the
    /// timestamps objects carry); true if anything changed.
    pub fn step_at(&self, store: &Store, now: Timestamp) -> bool {
        let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
        PASSES.iter().fold(false, |changed, (_, pass)| {
            pass(store, &self.rules, now) | changed
        })
    }
}

impl crate::Reconciler for Controllers {
    fn step(&self, store: &Store) -> bool {
        self.step_at(store, self.clock.now())
    }
}

#[cfg(test)]
mod tests;
