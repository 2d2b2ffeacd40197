//! The run as data (`-o json|yaml|jsonpath=`): plan, findings, what was sent, what the
//! server answered, how the rollout (and any rollback) ended.

use k8s_openapi::api::core::v1::Container;
use runbook::Finding;
use runbook::rollout::RolloutOutcome;
use serde::Serialize;
use serde_json::Value;

use crate::plan::Plan;

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The values asked for are already set: nothing sent.
    Unchanged,
    /// A critical pre-flight finding refused the change: nothing sent.
    Refused,
    /// The user answered no: nothing sent.
    Cancelled,
    /// `--dry-run=client`: the plan and the bodies, nothing sent.
    DryRunClient,
    /// `--dry-run=server`: sent with dryRun=All, nothing stored.
    DryRunServer,
    /// Applied; the rollout was not followed (`--no-wait`, or nothing rolls).
    Applied,
    /// Applied and the rollout completed.
    Completed,
    /// Applied and the rollout failed or timed out.
    Failed,
    /// Applied, the rollout failed, and the previous template was restored.
    RolledBack,
}

/// One request body, as `--dry-run=client` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchRecord {
    /// The API path.
    pub path: String,
    /// The patch content type.
    pub content_type: &'static str,
    /// The body.
    pub body: Value,
}

/// What `--dry-run=server` says would be stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerAnswer {
    /// The changed containers as the server would store them.
    pub containers: Vec<Container>,
    /// The replica count the scale subresource would store.
    pub replicas: Option<i32>,
    /// The restartedAt annotation the server would store.
    pub restarted_at: Option<String>,
}

/// What `--rollback` did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackReport {
    /// The revision restored (Deployment revision or ControllerRevision name), if known.
    pub to_revision: Option<String>,
    /// Why nothing was restored, when it was not.
    pub skipped: Option<String>,
    /// How the restoring rollout ended.
    pub rollout: Option<RolloutOutcome>,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The last plan made (after any re-plan).
    pub plan: Plan,
    /// Pre-flight findings, worst first.
    pub findings: Vec<Finding>,
    /// How it ended.
    pub outcome: Outcome,
    /// How many times the change was planned (more than 1 after conflicts).
    pub attempts: u32,
    /// The request bodies of the plan (with the resourceVersion it was made from).
    pub patches: Vec<PatchRecord>,
    /// The server's dry-run answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_answer: Option<ServerAnswer>,
    /// How the followed rollout ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutOutcome>,
    /// What `--rollback` did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackReport>,
}
