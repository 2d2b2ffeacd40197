//! Command-line flags shared by every plugin, named and behaving as kubectl's.
//!
//! kubectl hands every argument after the plugin name to the plugin unchanged, so each plugin
//! parses these itself. A plugin flattens the groups it needs (`#[command(flatten)]`).

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::exit::FailOn;
use crate::output::{ColorChoice, OutputFormat};

/// How to reach the cluster: kubectl's global connection flags.
#[derive(Args, Clone, Debug, Default)]
pub struct ConnectArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, merged, or ~/.kube/config).
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, value_name = "NAME", global = true)]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, value_name = "URL", global = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, value_name = "TOKEN", global = true)]
    pub token: Option<String>,
    /// Username to impersonate for the operation.
    #[arg(long = "as", value_name = "USER", global = true)]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation (repeatable).
    #[arg(long = "as-group", value_name = "GROUP", global = true)]
    pub as_group: Vec<String>,
    /// Do not verify the server's certificate (insecure).
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Namespace to use (default: the context's namespace, else "default").
    #[arg(short = 'n', long, value_name = "NS", global = true)]
    pub namespace: Option<String>,
    /// Time limit of each API request, as kubectl: "0" for none, "30s", "1m", or seconds.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_request_timeout, global = true)]
    pub request_timeout: RequestTimeout,
    /// Print each API request (method, path, status, milliseconds) on stderr; twice for headers.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// `--request-timeout`: `None` is kubectl's "0" (no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<Duration>);

fn parse_request_timeout(s: &str) -> Result<RequestTimeout, String> {
    let d = parse_duration(s)?;
    Ok(RequestTimeout(if d.is_zero() { None } else { Some(d) }))
}

/// Parses a Go-style duration as kubectl accepts it: `90s`, `5m`, `1h30m`, `250ms`, or a bare
/// number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration: use a value like 30s, 5m or 1h".into());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("invalid duration {s:?}: missing unit (ms, s, m, h)"))?;
        if digits == 0 {
            return Err(format!("invalid duration {s:?}: expected a number"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}: bad number"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "invalid duration {s:?}: unknown unit {other:?} (use ms, s, m, h)"
                ));
            }
        };
        rest = &rest[unit_len..];
        let secs = value * unit;
        if !secs.is_finite() || secs > 1e9 {
            return Err(format!("invalid duration {s:?}: too large"));
        }
        total += Duration::from_secs_f64(secs);
    }
    Ok(total)
}

/// How to print results.
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Output format: table (default), wide, json, yaml, name, or jsonpath=TEMPLATE
    /// (kubectl's {.path} / {range}...{end} syntax).
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "table", value_parser = OutputFormat::parse)]
    pub output: OutputFormat,
    /// Do not print table headers.
    #[arg(long)]
    pub no_headers: bool,
    /// When to colour output: auto (only on a terminal, never with NO_COLOR), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", global = true)]
    pub color: ColorChoice,
}

/// How findings decide the exit code, and which checks to skip.
#[derive(Args, Clone, Debug, Default)]
pub struct ReportArgs {
    /// Skip a check by id (repeatable; `area.*` skips a whole area).
    #[arg(long = "ignore", value_name = "CHECK_ID")]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the run fail: warning (exit 1/2) or critical (exit 2 only).
    #[arg(long, value_name = "SEVERITY", default_value = "warning")]
    pub fail_on: FailOn,
    /// Always exit 0 when the check itself ran, whatever was found.
    #[arg(long)]
    pub exit_zero: bool,
}

/// Where to look: `-A` and `-l` for commands that list.
#[derive(Args, Clone, Debug, Default)]
pub struct ScopeArgs {
    /// Look in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Label selector to filter on, as kubectl (`app=gw,tier!=db`).
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = crate::selector::parse_label_selector)]
    pub selector: Option<String>,
}

/// Flags of commands that change the cluster.
#[derive(Args, Clone, Debug)]
pub struct MutateArgs {
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// none: act; client: print the plan only; server: send with dryRun=All and show the result.
    #[arg(long, value_name = "MODE", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Name of the field manager recorded on changed fields (default: the plugin's name).
    #[arg(long, value_name = "NAME")]
    pub field_manager: Option<String>,
}

/// `--dry-run` as kubectl.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Change the cluster.
    #[default]
    None,
    /// Change nothing: print what would be done.
    Client,
    /// Ask the server to validate and compute the change without storing it.
    Server,
}

impl MutateArgs {
    /// The field manager: `--field-manager`, else the plugin's name.
    pub fn field_manager<'a>(&'a self, plugin: &'a str) -> &'a str {
        self.field_manager.as_deref().unwrap_or(plugin)
    }

    /// `dryRun=All` for server dry runs, as kube's PostParams/PatchParams want it.
    pub fn server_dry_run(&self) -> bool {
        self.dry_run == DryRun::Server
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_kubectl() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in ["", "s", "5x", "-1s", "1e9h", "5 m"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn request_timeout_zero_means_none() {
        assert_eq!(parse_request_timeout("0").unwrap(), RequestTimeout(None));
        assert_eq!(
            parse_request_timeout("2s").unwrap(),
            RequestTimeout(Some(Duration::from_secs(2)))
        );
    }
}
