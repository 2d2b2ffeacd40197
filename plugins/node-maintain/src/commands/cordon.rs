//! `cordon NODE...` and `uncordon NODE...`: `spec.unschedulable` patched by hand (kube's
//! cordon() takes no dry-run or field manager) together with the maintenance record.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::Api;
use kube::runtime::wait::await_condition;
use runbook::flags::{ConnectArgs, DryRun};
use runbook::{Error, Result, exit};

use super::{dry_run_suffix, patch_node, who_am_i};
use crate::checks::conditions::ready_status;
use crate::cli::{CordonArgs, MarkArgs, UncordonArgs};
use crate::fetch;
use crate::maintenance::{
    MaintenanceRecord, cordon_patch, is_unschedulable, new_record, record_of, uncordon_patch,
};

/// How many times a cordon whose precondition failed (409) is re-planned and sent again.
const CORDON_ATTEMPTS: usize = 5;

/// Cordons `node` with the maintenance record `plan` computes from it (`None` when it already
/// carries ours, as on a resumed drain). The patch carries the node's resourceVersion: when
/// someone changed the node meanwhile (409) it is read again, the record re-planned from the
/// fresh node, and sent again, a bounded number of times: another change is never
/// overwritten. Returns the node the successful cordon was planned from and its record.
/// Client dry runs change nothing.
pub async fn cordon_node(
    client: &Client,
    node: &Node,
    plan: impl Fn(&Node) -> Option<MaintenanceRecord>,
    mark: &MarkArgs,
) -> Result<(Node, Option<MaintenanceRecord>)> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let mut current = node.clone();
    let mut record = plan(&current);
    if mark.dry_run == DryRun::Client {
        return Ok((current, record));
    }
    let mut attempt = 1;
    loop {
        let mut patch = cordon_patch(record.as_ref());
        if let Some(rv) = current.metadata.resource_version.as_deref() {
            patch["metadata"]["resourceVersion"] = rv.into();
        }
        match patch_node(client, &name, &patch, mark.dry_run, &mark.field_manager).await {
            Ok(_) => return Ok((current, record)),
            Err(Error::Conflict(msg)) => {
                if attempt >= CORDON_ATTEMPTS {
                    return Err(Error::Conflict(format!(
                        "node/{name} kept changing while being cordoned ({attempt} attempts): {msg}"
                    )));
                }
                attempt += 1;
                current = fetch::get_node(client, &name).await?;
                record = plan(&current);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Uncordons `node` and clears the record.
pub async fn uncordon_node(client: &Client, name: &str, mark: &MarkArgs) -> Result<()> {
    if mark.dry_run != DryRun::Client {
        patch_node(
            client,
            name,
            &uncordon_patch(),
            mark.dry_run,
            &mark.field_manager,
        )
        .await?;
    }
    Ok(())
}

/// `cordon`.
pub async fn run_cordon(connect: &ConnectArgs, args: CordonArgs) -> Result<u8> {
    let conn = runbook::client::connect(connect).await?;
    let nodes = fetch::select_nodes(&conn.client, &args.nodes, args.selector.as_deref()).await?;
    let who = who_am_i(&conn.client).await;
    let now = Timestamp::now();
    for node in &nodes {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        match (is_unschedulable(node), record_of(node)) {
            (true, Some(Ok(r))) => {
                println!("node/{name} already cordoned ({})", r.describe(now));
                continue;
            }
            (true, _) if args.reason.is_none() => {
                println!("node/{name} already cordoned");
                continue;
            }
            _ => {}
        }
        let plan = |n: &Node| new_record(n, &who, args.reason.as_deref(), "cordon", now);
        cordon_node(&conn.client, node, plan, &args.mark).await?;
        println!("node/{name} cordoned{}", dry_run_suffix(args.mark.dry_run));
    }
    Ok(exit::OK)
}

/// Waits, by watching the node, until it is Ready or `timeout` passes.
async fn wait_ready(client: &Client, name: &str, timeout: Duration) -> Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    let ready = |n: Option<&Node>| n.is_some_and(|n| ready_status(n) == "Ready");
    match tokio::time::timeout(timeout, await_condition(api, name, ready)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::Api(format!("watch node {name}: {e}"))),
        Err(_) => Err(Error::Failed(format!(
            "node/{name} did not become Ready within {}s: it stays cordoned",
            timeout.as_secs()
        ))),
    }
}

/// `uncordon`.
pub async fn run_uncordon(connect: &ConnectArgs, args: UncordonArgs) -> Result<u8> {
    let conn = runbook::client::connect(connect).await?;
    let nodes = fetch::select_nodes(&conn.client, &args.nodes, args.selector.as_deref()).await?;
    let now = Timestamp::now();
    let mut code = exit::OK;
    for node in &nodes {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let record = record_of(node);
        if !is_unschedulable(node) && record.is_none() {
            println!("node/{name} already uncordoned");
            continue;
        }
        if args.wait_ready && ready_status(node) != "Ready" {
            eprintln!("waiting for node/{name} to be Ready...");
            if let Err(e) = wait_ready(&conn.client, name, args.timeout).await {
                eprintln!("error: {e}");
                code = code.max(e.exit_code());
                continue;
            }
        }
        uncordon_node(&conn.client, name, &args.mark).await?;
        let was = match record {
            Some(Ok(r)) => format!(" (was {})", r.describe(now)),
            _ => String::new(),
        };
        println!(
            "node/{name} uncordoned{}{was}",
            dry_run_suffix(args.mark.dry_run)
        );
    }
    Ok(code)
}
