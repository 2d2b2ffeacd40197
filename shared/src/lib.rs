//! The shared library of the kubectl-runbook plugins: flags, client, output, findings,
//! quantities, prompts, and the pod, event and rollout analysis several plugins need.

pub mod cli;
pub mod client;
pub mod error;
pub mod exit;
pub mod findings;
pub mod flags;
pub mod output;
pub mod prompt;

pub use error::{Error, KubeResultExt, Op, Result};
pub use findings::{Finding, Severity};
