//! The command line of `kubectl gw-resize`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use runbook::completion::CompletionCommand;
use runbook::flags::{ConnectArgs, MutateArgs, OutputArgs};

use runbook::resize_edit::{ReplicaEdit, ResourceEdit};

use crate::change::TolerationSpec;

const EXAMPLES: &str = "\
Examples:
  # Raise a crash-looping gateway's memory request and limit by 500Mi, then follow the rollout
  # instead of: kubectl edit po gateway-proxy-pod  (+ kubectl rollout status deployment gateway-proxy)
  kubectl gw-resize deploy/gateway-proxy -n gateway-system --memory +500Mi

  # The same, undoing the change if the new pods still fail (OOMKilled, crash loop, Pending)
  kubectl gw-resize gateway-proxy -n gateway-system --memory +500Mi --rollback --timeout 5m

  # Set the CPU limit of one container of a multi-container workload
  # instead of: kubectl set resources deploy/istio-ingressgateway -c istio-proxy --limits=cpu=2
  kubectl gw-resize deploy/istio-ingressgateway -n istio-system -c istio-proxy --cpu-limit 2

  # Scale the data plane by two replicas
  # instead of: kubectl scale deployment/nantian-gw-dataplane -n nantian-gw --replicas=4
  kubectl gw-resize deploy/nantian-gw-dataplane -n nantian-gw --replicas +2

  # Restart every pod of istiod (rolling)
  # instead of: kubectl patch deployment istiod -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"date\":\"...\"}}}}}'
  #             kubectl rollout restart deploy/istiod -n istio-system && kubectl rollout status deploy/istiod
  kubectl gw-resize deploy/istiod -n istio-system --restart

  # Let pods Pending on a tainted node schedule there (runbook 000), checking first which nodes accept them
  kubectl gw-resize deploy/gateway-proxy -n gateway-system --add-toleration dedicated=gateway:NoSchedule

  # Show what the API server would store, changing nothing
  kubectl gw-resize gateway-proxy -n gateway-system --memory x1.5 --dry-run=server

  # Let `kubectl gw-resize <TAB>` complete workloads, components, namespaces (kubectl 1.26+)
  kubectl gw-resize completion --install

A workload named \"completion\" is reached as deploy/completion or sts/completion (the bare
word is the subcommand).

Quantities are absolute (2Gi, 500m) or relative (+500Mi, -250m, x1.5, 150%).
--memory and --cpu move the request and the limit together.

Exit codes: 0 done (rollout complete); 1 dry run with warnings; 2 refused, or the rollout failed
(also after --rollback); 3 could not check (unreachable, forbidden, not found); 64 usage or no
terminal to confirm on; 130 interrupted (a change already sent keeps rolling out).";

/// `kubectl gw-resize`: change requests, limits, replicas or restart a workload safely.
#[derive(Parser, Debug)]
#[command(
    name = "gw-resize",
    bin_name = "kubectl gw-resize",
    version = runbook::cli::LONG_VERSION,
    about = "Change a workload's requests, limits or replicas, or restart it, safely: plan, \
             pre-flight checks, confirmation, a conflict-safe patch, then follow the rollout",
    after_help = EXAMPLES,
    disable_help_subcommand = true,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// What to change: deploy/NAME, sts/NAME, pod/NAME (resolved to its owner), a bare name,
    /// or a gateway component (gateway-proxy, istio/istiod, nantian/nantian-gw-dataplane, or
    /// PROFILE/DEPLOYMENT of a profile from the profiles file).
    #[arg(value_name = "TARGET", required = true)]
    pub target: Option<String>,

    /// The container to change (required when the workload has several).
    #[arg(short = 'c', long, value_name = "NAME")]
    pub container: Option<String>,

    /// Memory request and limit together: absolute (1Gi) or relative (+500Mi, -256Mi, x1.5, 150%).
    #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true, conflicts_with_all = ["memory_request", "memory_limit"])]
    pub memory: Option<ResourceEdit>,

    /// Memory request only.
    #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true)]
    pub memory_request: Option<ResourceEdit>,

    /// Memory limit only.
    #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true)]
    pub memory_limit: Option<ResourceEdit>,

    /// CPU request and limit together: absolute (500m, 2) or relative (+250m, x2, 150%).
    #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true, conflicts_with_all = ["cpu_request", "cpu_limit"])]
    pub cpu: Option<ResourceEdit>,

    /// CPU request only.
    #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true)]
    pub cpu_request: Option<ResourceEdit>,

    /// CPU limit only.
    #[arg(long, value_name = "QUANTITY", allow_hyphen_values = true)]
    pub cpu_limit: Option<ResourceEdit>,

    /// Replica count: absolute (4) or relative (+2, -1); sent through the scale subresource.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub replicas: Option<ReplicaEdit>,

    /// Restart every pod (sets kubectl.kubernetes.io/restartedAt on the template, as
    /// `kubectl rollout restart`).
    #[arg(long)]
    pub restart: bool,

    /// Add a toleration to the pod template: KEY[=VALUE]:EFFECT (repeatable).
    #[arg(long, value_name = "KEY[=VALUE]:EFFECT", value_parser = TolerationSpec::parse_add)]
    pub add_toleration: Vec<TolerationSpec>,

    /// Remove the tolerations of KEY (and EFFECT, if given): KEY[:EFFECT] (repeatable).
    #[arg(long, value_name = "KEY[:EFFECT]", value_parser = TolerationSpec::parse_remove)]
    pub remove_toleration: Vec<TolerationSpec>,

    /// If the rollout fails or times out, restore the previous pod template (as `kubectl
    /// rollout undo`) and follow that rollout; the command still exits 2.
    #[arg(long, conflicts_with = "no_wait")]
    pub rollback: bool,

    /// How long to follow the rollout: 90s, 5m, 1h ("0" waits until it completes or fails).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = runbook::flags::parse_duration)]
    pub timeout: Duration,

    /// Do not follow the rollout: exit once the change is accepted.
    #[arg(long)]
    pub no_wait: bool,

    /// The gateway profiles file, as gw-status's (default:
    /// $XDG_CONFIG_HOME/kubectl-runbook/profiles.yaml): its components are TARGETs too.
    #[arg(long, value_name = "PATH", env = runbook::profiles::PROFILES_ENV)]
    pub profiles: Option<PathBuf>,

    /// Change --replicas even though a HorizontalPodAutoscaler owns the replica count (it will
    /// undo the change at its next sync).
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub mutate: MutateArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub connect: ConnectArgs,

    #[command(subcommand)]
    pub command: Option<CompletionCommand>,
}

impl Cli {
    /// `--timeout`, `None` for "0" (wait until the rollout completes or fails).
    pub fn rollout_timeout(&self) -> Option<Duration> {
        (!self.timeout.is_zero()).then_some(self.timeout)
    }
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
    fn completion_needs_no_target_but_a_run_does() {
        let cli = Cli::try_parse_from(["gw-resize", "completion", "zsh"]).unwrap();
        assert!(cli.command.is_some() && cli.target.is_none());
        assert!(Cli::try_parse_from(["gw-resize", "--restart"]).is_err());
        let cli = Cli::try_parse_from(["gw-resize", "deploy/completion", "--restart"]).unwrap();
        assert_eq!(cli.target.as_deref(), Some("deploy/completion"));
        assert!(Cli::try_parse_from(["gw-resize", "gw", "completion", "bash"]).is_err());
    }
}
