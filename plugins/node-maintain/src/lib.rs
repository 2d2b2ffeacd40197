//! `kubectl node-maintain`: diagnose nodes (conditions, kubelet message, events, capacity,
//! evicted and stuck pods) and cordon, drain, uncordon or remove them with a plan printed
//! before anything changes.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod complete;
pub mod drain;
pub mod fetch;
pub mod maintenance;
pub mod print;
pub mod resources;
pub mod selector;

#[cfg(test)]
mod fixtures;

use cli::{Cli, Command};

pub use complete::complete;

/// Runs one command and returns the suite exit code.
pub async fn run(cli: Cli) -> runbook::Result<u8> {
    match cli.command {
        Command::Check(args) => commands::check::run(&cli.connect, args).await,
        Command::Drain(args) => commands::drain::run(&cli.connect, args).await,
        Command::Cordon(args) => commands::cordon::run_cordon(&cli.connect, args).await,
        Command::Uncordon(args) => commands::cordon::run_uncordon(&cli.connect, args).await,
        Command::Remove(args) => commands::remove::run(&cli.connect, args).await,
        Command::Completion(args) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            runbook::completion::setup::run(cmd, &args, &mut std::io::stdout().lock())
        }
    }
}
