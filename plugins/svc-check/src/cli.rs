//! Command-line flags of `kubectl svc-check`.

use std::time::Duration;

use clap::Parser;
use runbook::completion::CompletionCommand;
use runbook::flags::{ConnectArgs, OutputArgs, ReportArgs, ScopeArgs, parse_duration};

use crate::fetch::Scope;

const EXAMPLES: &str = "\
Examples:
  # Why does the checkout Service hang or refuse? (instead of: kubectl get svc checkout -o yaml;
  # kubectl get endpointslices -l kubernetes.io/service-name=checkout; kubectl get pods --show-labels;
  # kubectl describe pod ...)
  kubectl svc-check checkout -n shop

  # Every Service of a namespace, worst first
  kubectl svc-check -n shop

  # The whole cluster: one line per Service, worst first (instead of: kubectl get svc -A and a look at each)
  kubectl svc-check -A

  # Does the app listen? Connect to one ready pod per port through a port-forward
  # (instead of: kubectl port-forward pod/checkout-7d9f 8080 & curl localhost:8080)
  kubectl svc-check checkout -n shop --probe

  # In CI: fail on critical findings only, as JSON
  kubectl svc-check -A --fail-on critical -o json

  # Let `kubectl svc-check <TAB>` complete Service names and namespaces (kubectl 1.26+)
  kubectl svc-check completion --install

A Service named \"completion\" is reached as svc/completion (the bare word is the subcommand).

Exit codes: 0 no problem, 1 warnings, 2 critical findings, 3 could not check, 64 usage error.";

/// `kubectl svc-check`.
#[derive(Parser, Debug)]
#[command(
    name = "svc-check",
    bin_name = "kubectl svc-check",
    version = runbook::cli::LONG_VERSION,
    about = "Why a Service hangs, refuses connections or does not balance: selector, endpoints, ports, readiness, type-specific checks",
    after_help = EXAMPLES,
    disable_help_subcommand = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The Service to check (`NAME` or `service/NAME`); without it, every Service of the
    /// namespace (or of the cluster with -A).
    #[arg(value_name = "SERVICE")]
    pub service: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Connect through a port-forward to one ready pod per Service port and say connected,
    /// refused or timed out (needs SERVICE).
    #[arg(long)]
    pub probe: bool,
    /// How long --probe waits for each port.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_probe_timeout, requires = "probe")]
    pub probe_timeout: Duration,
    #[command(subcommand)]
    pub command: Option<CompletionCommand>,
}

fn parse_probe_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("the probe timeout must be more than 0".into());
    }
    Ok(d)
}

impl Cli {
    /// The Service name from `NAME`, `svc/NAME` or `service/NAME`.
    pub fn service_name(&self) -> Result<Option<String>, String> {
        let Some(raw) = self.service.as_deref() else {
            return Ok(None);
        };
        let name = match raw.split_once('/') {
            Some(("svc" | "service" | "services", name)) => name,
            Some((kind, _)) => {
                return Err(format!(
                    "{raw:?} is not a Service: give NAME or service/NAME (not {kind})"
                ));
            }
            None => raw,
        };
        if name.is_empty() || name.len() > 63 || !is_dns_label(name) {
            return Err(format!(
                "{name:?} is not a valid Service name (lowercase letters, digits and '-', at most 63)"
            ));
        }
        Ok(Some(name.to_string()))
    }

    /// What to check, from SERVICE, -A, -l and --probe; judged before connecting so that a
    /// usage error is reported as one (exit 64).
    pub fn wanted(&self) -> Result<Wanted, String> {
        let name = self.service_name()?;
        match (name, self.scope.all_namespaces) {
            (Some(_), true) => Err("give a SERVICE or -A, not both".into()),
            (Some(_), false) if self.scope.selector.is_some() => {
                Err("-l selects Services: use it without SERVICE".into())
            }
            (Some(name), false) => Ok(Wanted::Service(name)),
            (None, _) if self.probe => {
                Err("--probe needs a SERVICE: it port-forwards to that Service's pods".into())
            }
            (None, true) => Ok(Wanted::AllNamespaces),
            (None, false) => Ok(Wanted::Namespace),
        }
    }
}

/// What the arguments ask for, before the namespace is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// One Service of the namespace.
    Service(String),
    /// Every Service of the namespace.
    Namespace,
    /// Every Service of the cluster.
    AllNamespaces,
}

impl Wanted {
    /// The scope in `namespace` (the connection's: -n, the context's, or default).
    pub fn scope(self, namespace: &str) -> Scope {
        match self {
            Wanted::Service(name) => Scope::Service {
                namespace: namespace.to_string(),
                name,
            },
            Wanted::Namespace => Scope::Namespace(namespace.to_string()),
            Wanted::AllNamespaces => Scope::AllNamespaces,
        }
    }
}

fn is_dns_label(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("svc-check").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn scopes_from_arguments() {
        assert_eq!(
            parse(&["web"]).wanted().unwrap().scope("a"),
            Scope::Service {
                namespace: "a".into(),
                name: "web".into()
            }
        );
        assert_eq!(
            parse(&["svc/web"]).wanted().unwrap().scope("a"),
            Scope::Service {
                namespace: "a".into(),
                name: "web".into()
            }
        );
        assert_eq!(
            parse(&[]).wanted().unwrap().scope("a"),
            Scope::Namespace("a".into())
        );
        assert_eq!(
            parse(&["-A"]).wanted().unwrap().scope("a"),
            Scope::AllNamespaces
        );
    }

    #[test]
    fn completion_is_a_subcommand_only_as_the_first_word() {
        assert!(parse(&["completion", "bash"]).command.is_some());
        let cli = parse(&["svc/completion"]);
        assert_eq!(cli.service_name().unwrap().as_deref(), Some("completion"));
        assert!(Cli::try_parse_from(["svc-check", "web", "completion"]).is_err());
    }

    #[test]
    fn conflicting_or_bad_arguments_are_refused() {
        assert!(parse(&["web", "-A"]).wanted().is_err());
        assert!(parse(&["web", "-l", "app=x"]).wanted().is_err());
        assert!(parse(&["--probe"]).wanted().is_err());
        assert!(parse(&["deploy/web"]).wanted().is_err());
        assert!(parse(&["Web_1"]).wanted().is_err());
        assert!(
            Cli::try_parse_from(["svc-check", "web", "--probe-timeout", "5s"]).is_err(),
            "--probe-timeout requires --probe"
        );
        assert!(
            Cli::try_parse_from(["svc-check", "web", "--probe", "--probe-timeout", "0"]).is_err()
        );
    }
}
