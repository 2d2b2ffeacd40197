//! `kubectl gw-resize`: change a workload's requests, limits or replicas, or restart it,
//! safely: a plan and pre-flight checks before anything is sent, confirmation, patches that
//! change only what was asked under a resourceVersion precondition, then the rollout
//! followed to its end (and undone on failure with `--rollback`).

pub mod apply;
pub mod catalog;
pub mod change;
pub mod cli;
pub mod complete;
pub mod fetch;
pub mod figures;
pub mod follow;
pub mod patch;
pub mod placement;
pub mod plan;
pub mod preflight;
pub mod print;
pub mod report;
pub mod resolve;
pub mod rollback;
pub mod session;
pub mod target;
#[cfg(test)]
mod test_support;
pub mod workload;

use change::ChangeRequest;
use cli::Cli;
use resolve::{Chooser, Scope, resolve};
use runbook::completion::{self, CompletionCommand};
use runbook::profiles;
use session::Session;
use target::parse_target;

pub use complete::complete;

/// Runs `kubectl gw-resize` and returns the exit code.
pub async fn run(cli: Cli) -> runbook::Result<u8> {
    if let Some(CompletionCommand::Completion(args)) = &cli.command {
        let mut out = std::io::stdout().lock();
        return completion::setup::run(<Cli as clap::CommandFactory>::command(), args, &mut out);
    }
    let Some(target) = cli.target.as_deref() else {
        return Err(runbook::Error::usage(
            "missing TARGET: see kubectl gw-resize --help",
        ));
    };
    let request = ChangeRequest::from_cli(&cli)?;
    let user = profiles::load_user_profiles(cli.profiles.as_deref())?;
    let profiles = profiles::all_profiles(&user);
    let target = parse_target(target, &profiles)?;
    let conn = runbook::client::connect(&cli.connect).await?;
    let chooser = Chooser::for_session(cli.mutate.yes);
    let scope = Scope {
        namespace: &conn.namespace,
        namespace_given: cli.connect.namespace.is_some(),
        profiles: &profiles,
    };
    let resolved = resolve(&conn.client, scope, &target, chooser).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    Session::new(&cli, conn.client, &mut out)
        .run(request, resolved)
        .await
}
