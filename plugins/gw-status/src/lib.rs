//! `kubectl gw-status`: one health report for a gateway — replicas, pods, resources and
//! usage, events, Services and webhooks, placement, resilience posture, Gateway API status,
//! log signatures and admin endpoints — with what to do about each finding.
//!
//! Layers: [`cli`] (flags) → [`discover`] (which gateways) → [`fetch`] (all API calls,
//! concurrent, into a [`fetch::Fetched`] snapshot) → [`view`] (joined in memory) →
//! [`checks`] (pure functions to findings) → [`report`] (data) → [`print`] (tables).

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod complete;
pub mod discover;
pub mod fetch;
pub mod hints;
pub mod objects;
pub mod print;
pub mod profiles;
pub mod report;
pub mod selector;
pub mod usage;
pub mod view;
pub mod watch;

use std::io::Write;

use kube::Client;
use runbook::completion::{self, CompletionCommand};
use runbook::findings::{Finding, drop_ignored, exit_code_for, sort_findings};
use runbook::output::{OutputFormat, Style, Table, write_structured};
use runbook::{Error, Result};

use crate::cli::Cli;
use crate::discover::Plan;
use crate::fetch::{Fetched, LogTarget};
use crate::profiles::{Profile, Target};
use crate::report::Report;

pub use complete::complete;

/// Runs `kubectl gw-status` and returns the exit code.
pub async fn run(cli: Cli) -> Result<u8> {
    if let Some(CompletionCommand::Completion(args)) = &cli.command {
        let mut out = std::io::stdout().lock();
        return completion::setup::run(<Cli as clap::CommandFactory>::command(), args, &mut out);
    }
    let user = profiles::load_user_profiles(cli.profiles.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if cli.list_profiles {
        list_profiles(&mut out, &user, !cli.output.no_headers)?;
        return Ok(runbook::exit::OK);
    }
    if cli.list_checks {
        list_checks(&mut out, !cli.output.no_headers)?;
        return Ok(runbook::exit::OK);
    }
    drop(out);
    let target = profiles::resolve_target(cli.target.as_deref(), &user)?;
    let conn = runbook::client::connect(&cli.connect).await?;
    if cli.watch {
        return watch::run(&conn, &cli, &target, &user).await;
    }
    let report = inspect(&conn.client, &cli, &target, &user, &conn.namespace).await?;
    let mut out = std::io::stdout().lock();
    write_output(&mut out, &cli, &report)?;
    Ok(exit_code_for(
        &report.findings,
        cli.report.fail_on,
        cli.report.exit_zero,
    ))
}

/// Fetches, checks and builds the report (no printing).
pub async fn inspect(
    client: &Client,
    cli: &Cli,
    target: &Target,
    user: &[Profile],
    default_namespace: &str,
) -> Result<Report> {
    let namespace = cli.connect.namespace.as_deref();
    let (deployments, namespace_found) = tokio::join!(
        fetch::list_deployments(client),
        fetch::namespace_exists(client, namespace)
    );
    let deployments = deployments?;
    if let (Some(ns), Some(false)) = (namespace, namespace_found) {
        let known: std::collections::BTreeSet<&str> = deployments
            .iter()
            .filter_map(|d| d.metadata.namespace.as_deref())
            .collect();
        return Err(Error::not_found("namespace", ns, None, known));
    }
    let plan = discover::plan(
        target,
        user,
        &deployments,
        cli.connect.namespace.as_deref(),
        default_namespace,
    )?;
    for note in &plan.notes {
        eprintln!("{note}");
    }
    let mut fetched = fetch::fetch(client, &plan.namespaces(), deployments).await?;
    for note in fetch::incomplete_notes(&fetched) {
        eprintln!("{note}");
    }
    add_logs_and_probes(client, cli, &plan, &mut fetched).await;
    Ok(evaluate(&plan, &fetched, &cli.report.ignore))
}

async fn add_logs_and_probes(client: &Client, cli: &Cli, plan: &Plan, f: &mut Fetched) {
    let log_targets = if cli.logs {
        log_targets(plan, f)
    } else {
        Vec::new()
    };
    let probes = async {
        if !cli.probe {
            return Vec::new();
        }
        let asks = plan
            .gateways
            .iter()
            .map(|g| fetch::fetch_probes(client, &g.namespace, &g.profile.probes));
        futures::future::join_all(asks)
            .await
            .into_iter()
            .flatten()
            .collect()
    };
    let (logs, probes) = tokio::join!(
        fetch::fetch_logs(client, &log_targets, cli.since, cli.tail),
        probes
    );
    f.logs = logs;
    f.logs_since = cli.since;
    f.probes = probes;
}

/// Every container of every scheduled pod of the planned components, plus the previous
/// instance of each container that restarted (where a crash leaves its last words).
fn log_targets(plan: &Plan, f: &Fetched) -> Vec<LogTarget> {
    let mut targets = Vec::new();
    for g in &plan.gateways {
        let gw = view::join(f, &g.profile, &g.namespace);
        for c in &gw.components {
            for s in c.summaries.iter().filter(|s| s.node.is_some()) {
                for container in s.containers.iter().filter(|c| !c.init) {
                    let target = |previous| LogTarget {
                        namespace: s.namespace.clone(),
                        pod: s.name.clone(),
                        container: container.name.clone(),
                        previous,
                    };
                    targets.push(target(false));
                    if container.restarts > 0 {
                        targets.push(target(true));
                    }
                }
            }
        }
    }
    targets
}

/// Joins, checks and reports: pure over the snapshot.
pub fn evaluate(plan: &Plan, f: &Fetched, ignore: &[String]) -> Report {
    let gateways: Vec<(view::GatewayView<'_>, Vec<Finding>)> = plan
        .gateways
        .iter()
        .map(|g| {
            let gw = view::join(f, &g.profile, &g.namespace);
            let mut found = checks::run_all(&gw, f);
            drop_ignored(&mut found, ignore);
            sort_findings(&mut found);
            found.dedup();
            (gw, found)
        })
        .collect();
    let mut all: Vec<Finding> = gateways
        .iter()
        .flat_map(|(_, f)| f.iter().cloned())
        .collect();
    sort_findings(&mut all);
    all.dedup();
    report::build(&gateways, f, all)
}

/// Prints the report in the requested format.
pub fn write_output(out: &mut dyn Write, cli: &Cli, report: &Report) -> Result<()> {
    if write_structured(out, report, &cli.output.output)? {
        return Ok(());
    }
    match cli.output.output {
        OutputFormat::Name => {
            for c in report.components.iter().filter(|c| c.found) {
                writeln!(out, "deployment.apps/{}", c.name)?;
            }
        }
        _ => print::write_report(
            out,
            report,
            print::PrintOptions {
                style: Style::new(cli.output.color.enabled()),
                wide: cli.output.output == OutputFormat::Wide,
                headers: !cli.output.no_headers,
            },
        )?,
    }
    Ok(())
}

fn list_profiles(out: &mut dyn Write, user: &[Profile], headers: bool) -> Result<()> {
    let mut t = Table::new([
        "profile",
        "namespace",
        "components",
        "origin",
        "description",
    ]);
    for p in profiles::all_profiles(user) {
        let components: Vec<&str> = p.components.iter().map(|c| c.deployment.as_str()).collect();
        t.row([
            p.name.clone(),
            p.namespace.clone(),
            components.join(","),
            p.origin.label(),
            p.description.clone(),
        ]);
    }
    t.write(out, headers).map_err(Error::from)
}

fn list_checks(out: &mut dyn Write, headers: bool) -> Result<()> {
    let mut t = Table::new(["check", "worst", "summary"]);
    for c in catalog::CHECKS {
        t.row([
            c.id.to_string(),
            c.severity.label().to_string(),
            c.summary.to_string(),
        ]);
    }
    t.write(out, headers).map_err(Error::from)
}
