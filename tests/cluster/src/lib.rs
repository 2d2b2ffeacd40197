//! `testcluster`: a stateful Kubernetes API server for tests, serving the REST API over plain
//! HTTP on 127.0.0.1, with fault injection, a deny-list RBAC and pluggable controllers.

pub mod errors;
pub mod faults;
pub mod kubeconfig;
pub mod quantity;
pub mod rbac;
pub mod resources;
pub mod selector;
pub mod store;
pub mod validation;

use store::Store;

/// The controllers of the cluster, run by [`TestCluster`].
pub trait Reconciler: Send + Sync + 'static {
    /// One pass of every controller; true if anything changed.
    fn step(&self, store: &Store) -> bool;
}
