//! `remove NODE`: drain, then delete the Node object after the user types its name.

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DeleteParams};
use runbook::flags::{ConnectArgs, DryRun};
use runbook::{KubeResultExt, Op, Result, exit};

use super::drain::{DrainRequest, execute};
use super::dry_run_suffix;
use crate::cli::RemoveArgs;

/// `remove`.
pub async fn run(connect: &ConnectArgs, args: RemoveArgs) -> Result<u8> {
    let conn = runbook::client::connect_with(connect, false).await?;
    let request = DrainRequest {
        node: &args.node,
        flags: &args.drain,
        change: &args.change,
        output: &args.output,
        command: "remove",
    };
    let drained = execute(&conn.client, &request).await?;
    let dry_run = args.change.dry_run;
    if dry_run == DryRun::Client {
        if drained.code < exit::FAILED {
            eprintln!("Then node/{} would be deleted.", args.node);
        }
        return Ok(drained.code);
    }
    if !drained.complete {
        if drained.code != exit::OK {
            eprintln!(
                "node/{} is not deleted: its drain did not complete",
                args.node
            );
        }
        return Ok(drained.code);
    }
    let question = format!(
        "Delete node/{}{}? Its kubelet may register it again unless the machine is shut down.",
        args.node,
        dry_run_suffix(dry_run)
    );
    if !runbook::prompt::confirm_typed(&question, &args.node, args.change.yes)? {
        eprintln!("node/{} is drained and cordoned, not deleted.", args.node);
        return Ok(exit::OK);
    }
    let api: Api<Node> = Api::all(conn.client.clone());
    let dp = DeleteParams {
        dry_run: dry_run == DryRun::Server,
        ..Default::default()
    };
    api.delete(&args.node, &dp)
        .await
        .during(Op::new("delete", "nodes").name(&args.node))?;
    println!("node/{} deleted{}", args.node, dry_run_suffix(dry_run));
    Ok(exit::OK)
}
