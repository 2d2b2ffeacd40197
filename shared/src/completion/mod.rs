//! Shell completion of the plugins, as kubectl (>= 1.26) asks for it: for `kubectl gw-status
//! <TAB>` it runs `kubectl_complete-gw_status WORD... CURRENT` from PATH and reads cobra's
//! `__complete` answer. That helper (written by `completion --install`, see [`setup`]) runs
//! the plugin with the hidden first argument `__complete`, which [`serve`] answers.
//!
//! Flag names come from the clap command, the values of the shared flags from here (`-n`:
//! live namespaces, `--context`: the kubeconfig, `-o`: formats, enumerations, paths), and
//! positionals (profiles, Deployments, nodes, Services) from the plugin. Live names are
//! fetched within [`LIVE_BUDGET`] honouring `--kubeconfig`, `--context` and `-n` on the line;
//! on any failure there are simply fewer candidates, never a message.

mod candidates;
mod live;
mod protocol;
pub mod setup;

use std::process::ExitCode;

use clap::{Command, CommandFactory};

pub use live::{LIVE_BUDGET, Live, connect_args};
pub use protocol::{Answer, Candidate, Request, Slot, directive, parse_request};
pub use setup::{CompletionArgs, CompletionCommand};

pub use candidates::{check_ids, kind_names, profile_names};

use candidates::{
    KubeconfigList, flag_names, kubeconfig_names, output_formats, positional_values,
    possible_values, subcommand_names, value_directive,
};

/// The hidden first argument asking a plugin for completions (cobra's name for it).
pub const COMPLETE_ARG: &str = "__complete";

/// When the process runs as `PLUGIN __complete WORD...`, prints the answer and returns the
/// exit code (always success: completion never fails loudly); otherwise `None` and the plugin
/// runs normally. `plugin` offers what only the plugin knows (see [`complete`]).
///
/// ```ignore
/// fn main() -> ExitCode {
///     if let Some(code) = runbook::completion::serve::<Cli, _>(kubectl_gw_status::complete) {
///         return code;
///     }
///     runbook::cli::main::<Cli, _, _>(kubectl_gw_status::run)
/// }
/// ```
pub fn serve<C, H>(plugin: H) -> Option<ExitCode>
where
    C: CommandFactory,
    H: AsyncFnOnce(&Request, &Live) -> Option<Vec<Candidate>>,
{
    let mut args = std::env::args_os().skip(1);
    if args.next()? != COMPLETE_ARG {
        return None;
    }
    let words: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let answer = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let answer = runtime.block_on(complete(C::command(), &words, plugin));
            runtime.shutdown_background();
            answer
        }
        Err(_) => Answer {
            candidates: Vec::new(),
            directive: directive::NO_FILE_COMP,
        },
    };
    let _ = answer.write(&mut std::io::stdout().lock());
    Some(ExitCode::SUCCESS)
}

/// Completes `words` (those after the plugin's name, the last under the cursor) for the
/// plugin whose clap command is `cmd`.
///
/// `plugin` is asked first for positionals and flag values and answers `None` to leave the
/// slot to the defaults; live lookups go through the [`Live`] it is given. Candidates are
/// then filtered by what was typed, with duplicates removed.
pub async fn complete<H>(mut cmd: Command, words: &[String], plugin: H) -> Answer
where
    H: AsyncFnOnce(&Request, &Live) -> Option<Vec<Candidate>>,
{
    cmd.build();
    let request = parse_request(&cmd, words);
    let current = protocol::subcommand(&cmd, &request.path);
    let live = Live::new(connect_args(&request), LIVE_BUDGET);
    let from_plugin = match request.slot {
        Slot::FlagName => None,
        _ => plugin(&request, &live).await,
    };
    let (mut candidates, directive) = match (&request.slot, from_plugin) {
        (Slot::FlagName, _) => (flag_names(current, &request), directive::NO_FILE_COMP),
        (_, Some(found)) => (found, directive::NO_FILE_COMP),
        (Slot::FlagValue(id), None) => flag_value(current, id, &request, &live).await,
        (Slot::Positional(index), None) => {
            (positional_values(current, *index), directive::NO_FILE_COMP)
        }
    };
    if request.slot == Slot::Positional(0) && subcommand_may_follow(current, &request) {
        candidates.splice(0..0, subcommand_names(current));
    }
    finish(candidates, directive, &request.prefix)
}

/// False when a flag typed on the line rules a subcommand out: with
/// `args_conflicts_with_subcommands`, only global flags may precede one.
fn subcommand_may_follow(cmd: &Command, request: &Request) -> bool {
    !cmd.is_args_conflicts_with_subcommands_set()
        || request.typed().iter().all(|(id, _)| {
            cmd.get_arguments()
                .any(|a| a.get_id() == id.as_str() && a.is_global_set())
        })
}

/// The defaults for the value of flag `id`.
async fn flag_value(
    cmd: &Command,
    id: &str,
    request: &Request,
    live: &Live,
) -> (Vec<Candidate>, u8) {
    let kubeconfig = request.flag("kubeconfig");
    let found = match id {
        "namespace" => live
            .namespaces()
            .await
            .into_iter()
            .map(|n| Candidate::new(n, ""))
            .collect(),
        "context" => kubeconfig_names(KubeconfigList::Contexts, kubeconfig),
        "cluster" => kubeconfig_names(KubeconfigList::Clusters, kubeconfig),
        "user" => kubeconfig_names(KubeconfigList::Users, kubeconfig),
        "output" => output_formats(),
        _ => {
            let Some(arg) = cmd.get_arguments().find(|a| a.get_id() == id) else {
                return (Vec::new(), directive::NO_FILE_COMP);
            };
            let values = possible_values(arg);
            if values.is_empty() {
                return (Vec::new(), value_directive(arg));
            }
            values
        }
    };
    (found, directive::NO_FILE_COMP)
}

/// Keeps the candidates starting with `prefix`, first of each value; a candidate ending in
/// `=` or `/` (`jsonpath=`, `deploy/`) is continued, so no space follows it.
fn finish(candidates: Vec<Candidate>, mut directive: u8, prefix: &str) -> Answer {
    let mut kept: Vec<Candidate> = Vec::new();
    for c in candidates {
        if c.value.starts_with(prefix) && !kept.iter().any(|k| k.value == c.value) {
            kept.push(c);
        }
    }
    if kept.iter().any(|c| c.value.ends_with(['=', '/'])) {
        directive |= directive::NO_SPACE;
    }
    Answer {
        candidates: kept,
        directive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{ConnectArgs, OutputArgs, ReportArgs};
    use clap::Parser;

    /// A plugin shaped like ours: a positional, the shared flag groups, `completion`.
    #[derive(Parser, Debug)]
    #[command(
        name = "gw-status",
        disable_help_subcommand = true,
        args_conflicts_with_subcommands = true
    )]
    struct Demo {
        /// A profile or Deployment.
        target: Option<String>,
        /// Scan logs.
        #[arg(long)]
        logs: bool,
        #[command(flatten)]
        report: ReportArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        connect: ConnectArgs,
        #[command(subcommand)]
        command: Option<CompletionCommand>,
    }

    async fn plugin(request: &Request, _live: &Live) -> Option<Vec<Candidate>> {
        request.is_positional(&[], 0).then(|| {
            vec![
                Candidate::new("istio", "built-in profile"),
                Candidate::new("nantian", "built-in profile"),
                Candidate::new("istio", "a Deployment too"),
                Candidate::new("deploy/", "a Deployment by kind"),
            ]
        })
    }

    async fn answer(words: &[&str]) -> Answer {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        // No cluster: live lookups must give up at once.
        let words = [
            vec!["--kubeconfig".to_string(), "/nonexistent".to_string()],
            words,
        ]
        .concat();
        complete(Demo::command(), &words, plugin).await
    }

    fn values(a: &Answer) -> Vec<&str> {
        a.candidates.iter().map(|c| c.value.as_str()).collect()
    }

    #[tokio::test]
    async fn positionals_come_from_the_plugin_after_subcommands() {
        let a = answer(&[""]).await;
        assert_eq!(values(&a), ["completion", "istio", "nantian", "deploy/"]);
        assert_eq!(a.directive, directive::NO_FILE_COMP | directive::NO_SPACE);
        let a = answer(&["is"]).await;
        assert_eq!(values(&a), ["istio"]);
        assert_eq!(a.candidates[0].description, "built-in profile");
        assert_eq!(a.directive, directive::NO_FILE_COMP);
    }

    #[tokio::test]
    async fn flag_names_of_the_command_and_the_shared_groups() {
        let a = answer(&["--l"]).await;
        assert_eq!(values(&a), ["--logs"]);
        let a = answer(&["--n"]).await;
        assert_eq!(values(&a), ["--no-headers", "--namespace"]);
        assert_eq!(a.directive, directive::NO_FILE_COMP);
    }

    #[tokio::test]
    async fn shared_flag_values() {
        let a = answer(&["-o", ""]).await;
        assert!(values(&a).contains(&"jsonpath="));
        assert_eq!(a.directive & directive::NO_SPACE, directive::NO_SPACE);
        let a = answer(&["--fail-on", ""]).await;
        assert_eq!(values(&a), ["warning", "critical"]);
        let a = answer(&["--color="]).await;
        assert_eq!(values(&a), ["auto", "always", "never"]);
        let a = answer(&["--kubeconfig", ""]).await;
        assert_eq!(
            (a.candidates.len(), a.directive),
            (0, directive::DEFAULT),
            "files"
        );
        let a = answer(&["-n", ""]).await;
        assert_eq!(
            (a.candidates.len(), a.directive),
            (0, directive::NO_FILE_COMP)
        );
    }

    #[tokio::test]
    async fn the_completion_subcommand_completes_its_shells() {
        let a = answer(&["completion", ""]).await;
        assert_eq!(values(&a), ["bash", "elvish", "fish", "powershell", "zsh"]);
        let a = answer(&["completion", "--d"]).await;
        assert_eq!(values(&a), ["--dir"]);
    }

    #[tokio::test]
    async fn subcommands_are_offered_only_where_clap_accepts_them() {
        let a = answer(&["-n", "gw", ""]).await;
        assert_eq!(values(&a)[0], "completion", "global flags may precede it");
        let a = answer(&["--logs", ""]).await;
        assert_eq!(values(&a), ["istio", "nantian", "deploy/"]);
    }

    #[tokio::test]
    async fn a_later_positional_without_candidates_offers_nothing() {
        let a = answer(&["istio", ""]).await;
        assert_eq!(
            (a.candidates.len(), a.directive),
            (0, directive::NO_FILE_COMP)
        );
    }
}
