//! The command line of `kubectl gw-status`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use runbook::completion::CompletionCommand;
use runbook::flags::{ConnectArgs, OutputArgs, ReportArgs, parse_duration};

const EXAMPLES: &str = "\
Examples:
  # Every known gateway found in the cluster (gateway-proxy, istio, nantian, your profiles)
  kubectl gw-status

  # Runbook 000: replicas, pods, requests/limits and usage of the GatewayProxy
  # instead of: kubectl get deployments gateway-proxy -ojson | jq '.status.replicas'
  #             kubectl get deployments gateway-proxy -ojson | jq '.status.availableReplicas'
  #             kubectl get po gateway-proxy-pod -ojson | jq '.spec.containers[].resources'
  #             kubectl describe deployment gateway-proxy; kubectl describe pod ...
  kubectl gw-status gateway-proxy -n gateway-system

  # Runbook 001: istiod and the ingress gateway, with their logs scanned for xDS/CSR failures
  # instead of: kubectl get pods -n istio-system -o wide; kubectl logs --since 5m istio-ingressgateway-...
  kubectl gw-status istio --logs --since 5m

  # Runbook 002: Nantian Gateway with its GatewayClass, Gateways, HTTPRoutes and admin endpoints
  # instead of: kubectl get gatewayclass nantian-gw; kubectl describe gateway/httproute ...;
  #             kubectl port-forward svc/nantian-gw-controlplane-admin 18081 + curl /livez /readyz
  kubectl gw-status nantian --probe

  # Any Deployment, as a one-component gateway
  kubectl gw-status deploy/edge-proxy -n edge

  # Answer the runbook's own question in a script
  kubectl gw-status gateway-proxy -n gateway-system -o jsonpath='{.components[0].replicas.available}'

  # Follow the report as the cluster changes
  kubectl gw-status istio --watch

  # Let `kubectl gw-status <TAB>` complete profiles, Deployments, namespaces (kubectl 1.26+)
  kubectl gw-status completion --install

A Deployment named \"completion\" is reached as deploy/completion (the bare word is the
subcommand).

Profiles file: $XDG_CONFIG_HOME/kubectl-runbook/profiles.yaml (else ~/.config/...), or --profiles
PATH / $KUBECTL_RUNBOOK_PROFILES. Format (YAML):
  profiles:
    - name: edge
      namespace: edge
      components: [{deployment: edge-ctrl, role: control-plane}, {deployment: edge-proxy}]
      services: [{name: edge-admin, ports: [9000]}]
      gatewayClass: {name: edge, controllerName: example.com/edge}
      probes: [{service: edge-admin, port: 9000, paths: [/livez, /readyz]}]
      apart: [[edge-ctrl, edge-proxy]]

Exit codes: 0 healthy; 1 warnings; 2 critical findings; 3 could not check (unreachable,
unauthorised, forbidden, not found, timeout); 64 usage error; 130 interrupted.";

/// `kubectl gw-status`: the gateway health report.
#[derive(Parser, Debug)]
#[command(
    name = "gw-status",
    bin_name = "kubectl gw-status",
    version = runbook::cli::LONG_VERSION,
    about = "Health report of a gateway: replicas, pods, resources and usage, events, Services and \
             webhooks, placement, resilience posture, Gateway API status and log signatures, \
             with what to do about each finding",
    after_help = EXAMPLES,
    disable_help_subcommand = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A profile (gateway-proxy, istio, nantian, or one from the profiles file) or a Deployment
    /// ([deploy/]NAME). Without it: every known gateway found in the cluster.
    #[arg(value_name = "PROFILE|DEPLOYMENT")]
    pub target: Option<String>,

    /// Scan the recent log lines of each component's pods for known failure signatures.
    #[arg(long)]
    pub logs: bool,

    /// With --logs: how far back to read (as kubectl logs --since).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, requires = "logs")]
    pub since: Duration,

    /// With --logs: at most this many lines per container.
    #[arg(long, value_name = "LINES", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..), requires = "logs")]
    pub tail: i64,

    /// Ask the profile's admin endpoints (/livez, /readyz) through the API server's service proxy.
    #[arg(long)]
    pub probe: bool,

    /// Print the report again each time the gateway's objects change (watch, not poll).
    #[arg(short = 'w', long)]
    pub watch: bool,

    /// The profiles file (default: $XDG_CONFIG_HOME/kubectl-runbook/profiles.yaml).
    #[arg(long, value_name = "PATH", env = runbook::profiles::PROFILES_ENV)]
    pub profiles: Option<PathBuf>,

    /// List the known profiles and exit.
    #[arg(long, conflicts_with = "target")]
    pub list_profiles: bool,

    /// List every check id with its worst severity and exit.
    #[arg(long, conflicts_with = "target")]
    pub list_checks: bool,

    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,

    #[command(subcommand)]
    pub command: Option<CompletionCommand>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn completion_is_a_subcommand_only_as_the_first_word() {
        let cli = Cli::try_parse_from(["gw-status", "completion", "bash"]).unwrap();
        assert!(cli.command.is_some() && cli.target.is_none());
        let cli = Cli::try_parse_from(["gw-status", "deploy/completion"]).unwrap();
        assert_eq!(cli.target.as_deref(), Some("deploy/completion"));
        assert!(Cli::try_parse_from(["gw-status", "istio", "completion"]).is_err());
        assert!(Cli::try_parse_from(["gw-status", "--logs", "completion", "bash"]).is_err());
        let cli = Cli::try_parse_from(["gw-status", "help"]).unwrap();
        assert_eq!(cli.target.as_deref(), Some("help"), "no help subcommand");
    }

    #[test]
    fn log_window_flags_need_logs() {
        assert!(Cli::try_parse_from(["gw-status", "istio", "--since", "1m"]).is_err());
        let cli = Cli::try_parse_from(["gw-status", "istio", "--logs", "--since", "90s"]).unwrap();
        assert_eq!(cli.since, Duration::from_secs(90));
        assert_eq!(cli.tail, 1000);
        assert!(Cli::try_parse_from(["gw-status", "--logs", "--tail", "0"]).is_err());
    }
}
