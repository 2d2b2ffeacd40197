//! The shared library of the kubectl-runbook plugins: flags, client, output, findings,
//! quantities, prompts, and the pod, event and rollout analysis several plugins need.

pub mod cli;
pub mod client;
pub mod completion;
pub mod error;
pub mod events;
pub mod exit;
pub mod findings;
pub mod flags;
pub mod jsonpath;
pub mod output;
pub mod pods;
pub mod profiles;
pub mod prompt;
pub mod quantity;
pub mod resize_edit;
pub mod rollout;
pub mod selector;
pub mod time;
pub mod workload;

pub use error::{Error, KubeResultExt, Op, Result};
pub use findings::{Finding, Severity};
