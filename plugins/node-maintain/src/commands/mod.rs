//! One module per subcommand: connect, fetch, analyse, print, act. The API calls several
//! commands share (patching a node, asking who we are) live here.

pub mod check;
pub mod cordon;
pub mod drain;
pub mod remove;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use runbook::flags::DryRun;
use runbook::{KubeResultExt, Op, Result};
use serde_json::Value;

/// Merge-patches a node (`spec.unschedulable` and the maintenance annotation), with
/// `--dry-run=server` and the field manager.
pub async fn patch_node(
    client: &Client,
    name: &str,
    patch: &Value,
    dry_run: DryRun,
    field_manager: &str,
) -> Result<Node> {
    let api: Api<Node> = Api::all(client.clone());
    let pp = PatchParams {
        dry_run: dry_run == DryRun::Server,
        field_manager: Some(field_manager.to_string()),
        ..Default::default()
    };
    api.patch(name, &pp, &Patch::Merge(patch))
        .await
        .during(Op::new("patch", "nodes").name(name))
}

/// The user the API server sees (SelfSubjectReview), else the local login: recorded as who
/// started the maintenance. A refused review is said on stderr, not fatal.
pub async fn who_am_i(client: &Client) -> String {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = match api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
    {
        Ok(r) => r.status.and_then(|s| s.user_info?.username),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            eprintln!(
                "warning: forbidden: cannot create selfsubjectreviews.authentication.k8s.io \
                 ({}): recording the local login as who started the maintenance",
                status.message
            );
            None
        }
        Err(_) => None,
    }
    .filter(|u| !u.is_empty());
    review.unwrap_or_else(|| {
        std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_string())
    })
}

/// ` (server dry run)` / ` (dry run)` after an action's line, as kubectl prints it.
pub fn dry_run_suffix(dry_run: DryRun) -> &'static str {
    match dry_run {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    }
}
