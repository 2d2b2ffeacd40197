//! `kubectl svc-check`: why a Service hangs, refuses connections or does not balance.
//!
//! Layers: [`fetch`] lists each kind once, [`index`] joins them in memory, [`checks`] are pure
//! functions to findings, [`report`] assembles them, [`probe`] port-forwards on request, and
//! [`print`] writes tables or structured output.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod complete;
pub mod fetch;
pub mod index;
pub mod print;
pub mod probe;
pub mod report;

use std::io::Write;

use runbook::completion::{self, CompletionCommand};
use runbook::findings::exit_code_for;
use runbook::output::Style;
use runbook::{Error, Result};

use crate::cli::Cli;
use crate::index::Index;
use crate::print::PrintOptions;
use crate::report::Report;

pub use complete::complete;

/// Runs the command; returns the exit code (0 ok, 1 warnings, 2 critical).
pub async fn run(cli: Cli) -> Result<u8> {
    if let Some(CompletionCommand::Completion(args)) = &cli.command {
        let mut out = std::io::stdout().lock();
        return completion::setup::run(<Cli as clap::CommandFactory>::command(), args, &mut out);
    }
    let wanted = cli.wanted().map_err(Error::Usage)?;
    let conn = runbook::client::connect(&cli.connect).await?;
    let scope = wanted.scope(&conn.namespace);
    let fetched = fetch::fetch(&conn.client, &scope, cli.scope.selector.as_deref()).await?;
    for note in &fetched.notes {
        eprintln!("note: {note}");
    }
    let mut report = report::analyse(&fetched, jiff::Timestamp::now(), &cli.report.ignore);
    if cli.probe {
        probe_services(&conn.client, &fetched, &mut report, &cli).await;
    }
    let opts = PrintOptions {
        format: cli.output.output.clone(),
        headers: !cli.output.no_headers,
        style: Style::new(cli.output.color.enabled()),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    print::write(&mut out, &report, &scope, &opts)?;
    out.flush()?;
    let findings: Vec<runbook::Finding> = report.findings().cloned().collect();
    Ok(exit_code_for(
        &findings,
        cli.report.fail_on,
        cli.report.exit_zero,
    ))
}

/// `--probe`: one port-forward per TCP port of each checked Service, to a ready backing pod.
async fn probe_services(
    client: &kube::Client,
    fetched: &fetch::Fetched,
    report: &mut Report,
    cli: &Cli,
) {
    let index = Index::build(fetched);
    for svc in &fetched.services {
        let view = index.view(svc);
        let targets = probe::targets(svc, &view.pods);
        let Some(sr) = report
            .services
            .iter_mut()
            .find(|s| s.namespace == view.namespace && s.name == view.name)
        else {
            continue;
        };
        if targets.is_empty() {
            continue;
        }
        eprintln!(
            "probing {} port(s) of service/{} through port-forward...",
            targets.len(),
            view.name
        );
        let results = probe::run(client, view.namespace, &targets, cli.probe_timeout).await;
        sr.add_findings(
            probe::findings(view.namespace, view.name, &results),
            &cli.report.ignore,
        );
        sr.probes = results;
    }
    report.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn usage_errors_come_before_connecting() {
        let cli = <Cli as clap::Parser>::try_parse_from([
            "svc-check",
            "web",
            "-A",
            "--kubeconfig",
            "/nonexistent",
        ])
        .unwrap();
        let err = run(cli).await.unwrap_err();
        assert_eq!(err.exit_code(), 64, "{err}");
    }
}
