//! Command-line flags of `kubectl node-maintain`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use runbook::completion::CompletionArgs;
use runbook::flags::{ConnectArgs, DryRun, OutputArgs, ReportArgs, parse_duration};
use runbook::selector::parse_label_selector;

const EXAMPLES: &str = "\
Examples:
  # Why is a node sick? (instead of: kubectl describe node node-1, read by eye)
  kubectl node-maintain check node-1

  # Every node, worst first, as JSON for a script
  kubectl node-maintain check -o json

  # Read the drain plan without touching anything
  # (instead of: kubectl drain node-1 --ignore-daemonsets --delete-local-data --dry-run=client)
  kubectl node-maintain drain node-1 --delete-emptydir-data --dry-run

  # Maintain a node (instead of: kubectl cordon node-1;
  #   kubectl drain node-1 --ignore-daemonsets --delete-local-data; ...; kubectl uncordon node-1)
  kubectl node-maintain drain node-1 --delete-emptydir-data --reason 'kernel upgrade' --timeout 10m
  kubectl node-maintain uncordon node-1 --wait-ready

  # Remove a node (instead of: kubectl cordon; kubectl drain --ignore-daemonsets; kubectl delete node)
  kubectl node-maintain remove node-1 --delete-emptydir-data

  # Let `kubectl node-maintain drain <TAB>` complete node names (kubectl 1.26+)
  kubectl node-maintain completion --install

Exit codes: 0 ok; 1 warnings; 2 critical findings, or the drain did not complete;
3 could not check; 64 usage; 130 interrupted (the node stays cordoned).";

/// `kubectl node-maintain`.
#[derive(Parser, Debug)]
#[command(
    name = "node-maintain",
    bin_name = "kubectl node-maintain",
    version = runbook::cli::LONG_VERSION,
    about = "Diagnose nodes; cordon, drain (with a plan you read first), uncordon and remove them",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    /// How to reach the cluster.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Diagnose nodes: conditions, kubelet message, events, capacity, evicted and stuck pods.
    Check(CheckArgs),
    /// Print the drain plan, then cordon the node and evict its pods through the Eviction API.
    Drain(DrainArgs),
    /// Mark nodes unschedulable and record who did it and why.
    Cordon(CordonArgs),
    /// Mark nodes schedulable again and clear the maintenance record.
    Uncordon(UncordonArgs),
    /// Drain a node, then delete its Node object (asks you to type the node's name).
    Remove(RemoveArgs),
    /// Shell completion: print a bash, zsh or fish script, or --install kubectl's helper.
    ///
    /// `completion bash|zsh|fish` prints a script for the plugin run directly;
    /// `completion --install` makes `kubectl node-maintain <TAB>` complete (kubectl 1.26+).
    Completion(CompletionArgs),
}

/// `check [NODE...]`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Nodes to check (default: every node).
    #[arg(value_name = "NODE", value_parser = parse_node_name)]
    pub nodes: Vec<String>,
    /// Only nodes with these labels (`node-role.kubernetes.io/worker`, `zone=a`).
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "nodes",
          value_parser = parse_label_selector)]
    pub selector: Option<String>,
    /// How far back node events count as recent.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub since: Duration,
    /// Output format.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Which findings fail the run.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// The drain flags, named and meaning what they mean for `kubectl drain`.
#[derive(Args, Debug, Clone)]
pub struct DrainFlags {
    /// Leave DaemonSet pods in place (on by default: the DaemonSet would recreate them at once;
    /// `--ignore-daemonsets=false` refuses to drain a node running any).
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub ignore_daemonsets: bool,
    /// Evict pods with emptyDir volumes (their data is lost).
    #[arg(long, alias = "delete-local-data")]
    pub delete_emptydir_data: bool,
    /// Also delete pods no controller manages (they are gone for good).
    #[arg(long)]
    pub force: bool,
    /// Seconds each pod gets to stop; -1 uses the pod's own terminationGracePeriodSeconds.
    #[arg(long, value_name = "SECONDS", default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// Give up after this long (0: wait as long as it takes, as kubectl).
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Only drain pods matching this label selector.
    #[arg(long, value_name = "SELECTOR", value_parser = parse_label_selector)]
    pub pod_selector: Option<String>,
    /// Delete pods instead of evicting them: bypasses PodDisruptionBudgets.
    #[arg(long)]
    pub disable_eviction: bool,
    /// Stop waiting for pods whose deletion began more than this many seconds ago (0: always wait).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub skip_wait_for_delete_timeout: u64,
    /// List pods in pages of this many (0: one request).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub chunk_size: u32,
    /// How many evictions may be in flight at once.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub concurrency: u32,
    /// Why the node is under maintenance (recorded on the node, shown by `check`).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// If the drain fails, times out or is interrupted, uncordon a node that was schedulable
    /// before this command (a node someone else cordoned is never uncordoned).
    #[arg(long)]
    pub uncordon_on_failure: bool,
}

/// Flags of commands that change the cluster and ask first.
#[derive(Args, Debug, Clone)]
pub struct ChangeArgs {
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// client: print the plan only; server: send every change with dryRun=All.
    #[arg(long, value_name = "MODE", default_value = "none", num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Field manager recorded on the node's changed fields.
    #[arg(long, value_name = "NAME", default_value = "kubectl-node-maintain")]
    pub field_manager: String,
}

/// `drain NODE`.
#[derive(Args, Debug)]
pub struct DrainArgs {
    /// The node to drain.
    #[arg(value_name = "NODE", value_parser = parse_node_name)]
    pub node: String,
    /// Drain behaviour.
    #[command(flatten)]
    pub drain: DrainFlags,
    /// Confirmation and dry run.
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Output format of the plan and summary: table, or json/yaml for scripts.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `remove NODE`.
#[derive(Args, Debug)]
pub struct RemoveArgs {
    /// The node to drain and delete.
    #[arg(value_name = "NODE", value_parser = parse_node_name)]
    pub node: String,
    /// Drain behaviour.
    #[command(flatten)]
    pub drain: DrainFlags,
    /// Confirmation and dry run.
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Output format of the plan and summary.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Flags of cordon/uncordon: dry run and field manager (they do not ask).
#[derive(Args, Debug, Clone)]
pub struct MarkArgs {
    /// client: print what would change; server: send with dryRun=All.
    #[arg(long, value_name = "MODE", default_value = "none", num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Field manager recorded on the node's changed fields.
    #[arg(long, value_name = "NAME", default_value = "kubectl-node-maintain")]
    pub field_manager: String,
}

/// `cordon NODE...`.
#[derive(Args, Debug)]
pub struct CordonArgs {
    /// Nodes to cordon.
    #[arg(value_name = "NODE", required_unless_present = "selector", value_parser = parse_node_name)]
    pub nodes: Vec<String>,
    /// Cordon every node with these labels.
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "nodes",
          value_parser = parse_label_selector)]
    pub selector: Option<String>,
    /// Why (recorded on the node, shown by `check`).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Dry run and field manager.
    #[command(flatten)]
    pub mark: MarkArgs,
}

/// `uncordon NODE...`.
#[derive(Args, Debug)]
pub struct UncordonArgs {
    /// Nodes to uncordon.
    #[arg(value_name = "NODE", required_unless_present = "selector", value_parser = parse_node_name)]
    pub nodes: Vec<String>,
    /// Uncordon every node with these labels.
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "nodes",
          value_parser = parse_label_selector)]
    pub selector: Option<String>,
    /// Wait (by watch) for each node to be Ready before uncordoning it.
    #[arg(long)]
    pub wait_ready: bool,
    /// How long --wait-ready waits.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, requires = "wait_ready")]
    pub timeout: Duration,
    /// Dry run and field manager.
    #[command(flatten)]
    pub mark: MarkArgs,
}

/// Checks a node name as the API server would (a DNS-1123 subdomain: at most 253 lowercase
/// letters, digits, '-' and '.', each dot-separated part starting and ending alphanumeric),
/// before it is put in a request path.
pub fn parse_node_name(s: &str) -> Result<String, String> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    if s.is_empty() {
        return Err("a node name must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!(
            "invalid node name ({} characters): at most 253 are allowed",
            s.chars().count()
        ));
    }
    if !s.split('.').all(part_ok) {
        let shown: String = s.chars().take(80).collect();
        return Err(format!(
            "invalid node name {shown:?}: a node name is a DNS-1123 subdomain (lowercase letters, \
             digits, '-' and '.', starting and ending with a letter or digit)"
        ));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let mut full = vec!["kubectl-node_maintain"];
        full.extend_from_slice(args);
        Cli::try_parse_from(full).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn node_names_and_selectors_are_checked_before_any_request() {
        for good in ["node-1", "ip-10-0-0-1.ec2.internal", "a"] {
            assert_eq!(parse_node_name(good).as_deref(), Ok(good));
        }
        let long = "x".repeat(254);
        for bad in [
            "", "/", "a?b=c", "UPPER", ".", "..", "-", "a b", "a/b", &long,
        ] {
            assert!(parse_node_name(bad).is_err(), "{bad:?}");
        }
        for args in [
            &["drain", "a?b=c"][..],
            &["drain", ""],
            &["drain", "node-1", "--pod-selector", "a=b,("],
            &["cordon", "-l", "!!="],
        ] {
            let mut full = vec!["kubectl-node_maintain"];
            full.extend_from_slice(args);
            assert!(Cli::try_parse_from(full).is_err(), "{args:?}");
        }
    }

    fn drain(args: &[&str]) -> DrainArgs {
        match parse(args).command {
            Command::Drain(d) => d,
            other => panic!("not drain: {other:?}"),
        }
    }

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn drain_defaults_mirror_kubectl() {
        let d = drain(&["drain", "node-1"]);
        assert!(d.drain.ignore_daemonsets);
        assert!(!d.drain.delete_emptydir_data && !d.drain.force);
        assert_eq!(d.drain.grace_period, -1);
        assert_eq!(d.drain.timeout, Duration::ZERO);
        assert_eq!(d.change.dry_run, DryRun::None);
    }

    #[test]
    fn drain_accepts_kubectl_spellings() {
        let d = drain(&[
            "drain",
            "node-1",
            "--delete-local-data",
            "--ignore-daemonsets=false",
            "--grace-period",
            "-1",
            "--timeout=90s",
            "--dry-run",
        ]);
        assert!(d.drain.delete_emptydir_data);
        assert!(!d.drain.ignore_daemonsets);
        assert_eq!(d.drain.timeout, Duration::from_secs(90));
        assert_eq!(d.change.dry_run, DryRun::Client);
        let d = drain(&[
            "drain",
            "n",
            "--ignore-daemonsets",
            "--dry-run=server",
            "-n",
            "x",
        ]);
        assert!(d.drain.ignore_daemonsets);
        assert_eq!(d.change.dry_run, DryRun::Server);
    }

    #[test]
    fn usage_errors_are_rejected() {
        for bad in [
            vec!["kubectl-node_maintain", "drain"],
            vec!["kubectl-node_maintain", "drain", "n", "--timeout", "soon"],
            vec!["kubectl-node_maintain", "drain", "n", "--concurrency", "0"],
            vec!["kubectl-node_maintain", "cordon"],
            vec!["kubectl-node_maintain", "uncordon", "n", "--timeout", "1m"],
        ] {
            assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn check_takes_nodes_or_a_selector() {
        match parse(&["check", "a", "b", "--since", "30m"]).command {
            Command::Check(c) => {
                assert_eq!(c.nodes, ["a", "b"]);
                assert_eq!(c.since, Duration::from_secs(1800));
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["kubectl-node_maintain", "check", "a", "-l", "x=y"]).is_err());
    }
}
