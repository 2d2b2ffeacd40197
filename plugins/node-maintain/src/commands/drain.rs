//! `drain NODE`: plan, ask, cordon with a maintenance record, evict, watch, summarise.

use std::io::{IsTerminal, Write};

use jiff::Timestamp;
use kube::Client;
use runbook::cli::Interrupt;
use runbook::findings::exit_code_for;
use runbook::flags::{ConnectArgs, DryRun, OutputArgs};
use runbook::output::{OutputFormat, Style, write_structured};
use runbook::{Error, Result, exit};
use serde::Serialize;

use super::cordon::{cordon_node, uncordon_node};
use super::{dry_run_suffix, who_am_i};
use crate::cli::{ChangeArgs, DrainArgs, DrainFlags, MarkArgs};
use crate::drain::DrainOutcome;
use crate::drain::evict::{EvictSettings, Stop, run_evictions};
use crate::drain::plan::{DrainOptions, DrainPlan, build_plan};
use crate::drain::progress::{DrainProgress, PodFate, TrackedPod};
use crate::drain::report::Reporter;
use crate::maintenance::{may_restore_schedulable, new_record, record_of};
use crate::{fetch, print};

/// `-o json|yaml` of a drain: the plan and, once it ran, the outcome.
#[derive(Serialize)]
struct DrainReport<'a> {
    plan: &'a DrainPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a DrainOutcome>,
}

/// How a drain ended, for `drain` and `remove`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drained {
    /// The exit code so far.
    pub code: u8,
    /// True when every planned pod is gone (or would be, in a server dry run).
    pub complete: bool,
}

/// Everything one drain needs, from `drain` or `remove`.
pub struct DrainRequest<'a> {
    /// The node.
    pub node: &'a str,
    /// Drain flags.
    pub flags: &'a DrainFlags,
    /// --yes, --dry-run, --field-manager.
    pub change: &'a ChangeArgs,
    /// Output format.
    pub output: &'a OutputArgs,
    /// `drain` or `remove` (recorded on the node).
    pub command: &'static str,
}

/// `drain`.
pub async fn run(connect: &ConnectArgs, args: DrainArgs) -> Result<u8> {
    let conn = runbook::client::connect_with(connect, false).await?;
    let request = DrainRequest {
        node: &args.node,
        flags: &args.drain,
        change: &args.change,
        output: &args.output,
        command: "drain",
    };
    Ok(execute(&conn.client, &request).await?.code)
}

fn options(flags: &DrainFlags) -> DrainOptions {
    DrainOptions {
        ignore_daemonsets: flags.ignore_daemonsets,
        delete_emptydir_data: flags.delete_emptydir_data,
        force: flags.force,
        disable_eviction: flags.disable_eviction,
        skip_wait_for_delete_timeout: flags.skip_wait_for_delete_timeout,
    }
}

fn settings(flags: &DrainFlags, dry_run: DryRun) -> EvictSettings {
    EvictSettings {
        concurrency: flags.concurrency as usize,
        grace_period: u32::try_from(flags.grace_period).ok(),
        dry_run: dry_run == DryRun::Server,
        disable_eviction: flags.disable_eviction,
        timeout: (!flags.timeout.is_zero()).then_some(flags.timeout),
        skip_wait: std::time::Duration::from_secs(flags.skip_wait_for_delete_timeout),
    }
}

fn is_structured(format: &OutputFormat) -> bool {
    matches!(
        format,
        OutputFormat::Json | OutputFormat::Yaml | OutputFormat::JsonPath(_)
    )
}

/// Plans, asks, cordons, evicts and reports one drain.
pub async fn execute(client: &Client, req: &DrainRequest<'_>) -> Result<Drained> {
    let flags = req.flags;
    let snap = fetch::drain_snapshot(
        client,
        req.node,
        flags.pod_selector.as_deref(),
        flags.chunk_size,
    )
    .await?;
    let plan = build_plan(&snap, &options(flags));
    let structured = is_structured(&req.output.output);
    let style = Style::new(req.output.color.enabled());
    let headers = !req.output.no_headers;
    let stdout = std::io::stdout();
    let emit = |outcome: Option<&DrainOutcome>| -> Result<()> {
        let mut out = stdout.lock();
        if structured {
            write_structured(
                &mut out,
                &DrainReport {
                    plan: &plan,
                    outcome,
                },
                &req.output.output,
            )?;
        } else if let Some(o) = outcome {
            writeln!(out)?;
            print::write_outcome(&mut out, o, style, headers)?;
        }
        Ok(())
    };
    if !structured {
        let wide = req.output.output == OutputFormat::Wide;
        print::write_plan(&mut stdout.lock(), &plan, style, wide, headers)?;
    }
    if plan.refused().next().is_some() {
        emit(None)?;
        return Err(Error::Failed(format!(
            "cannot drain node/{}: {} pod(s) need {} (see the plan); nothing was changed",
            req.node,
            plan.refused().count(),
            plan.missing_flags().join(" and ")
        )));
    }
    if req.change.dry_run == DryRun::Client {
        emit(None)?;
        if !structured {
            writeln!(stdout.lock(), "\nDry run: nothing was changed.")?;
        }
        return Ok(Drained {
            code: exit_code_for(&plan.findings, Default::default(), false),
            complete: false,
        });
    }
    let verb = if flags.disable_eviction {
        "delete"
    } else {
        "evict"
    };
    let question = format!(
        "Cordon node/{} and {verb} {} pod(s){}?",
        req.node,
        plan.to_remove().count(),
        dry_run_suffix(req.change.dry_run)
    );
    if !runbook::prompt::confirm(&question, req.change.yes)? {
        eprintln!("Nothing was changed.");
        return Ok(Drained {
            code: exit::OK,
            complete: false,
        });
    }
    let now = Timestamp::now();
    let who = who_am_i(client).await;
    let plan_record = |n: &k8s_openapi::api::core::v1::Node| {
        new_record(n, &who, flags.reason.as_deref(), req.command, now)
    };
    if plan_record(&snap.node).is_none()
        && let Some(Ok(r)) = record_of(&snap.node)
    {
        eprintln!("Resuming the maintenance {}.", r.describe(now));
    }
    let mark = MarkArgs {
        dry_run: req.change.dry_run,
        field_manager: req.change.field_manager.clone(),
    };
    // The node as it was when the cordon went through: a concurrent cordon makes the record
    // say it was already unschedulable, and --uncordon-on-failure then leaves it cordoned.
    let (cordoned_from, _) = cordon_node(client, &snap.node, plan_record, &mark).await?;
    eprintln!(
        "node/{} {}cordoned{}",
        req.node,
        if plan.was_unschedulable {
            "already "
        } else {
            ""
        },
        dry_run_suffix(req.change.dry_run)
    );

    let mut interrupt = Interrupt::take();
    let tracked: Vec<TrackedPod> = plan
        .to_remove()
        .map(|p| TrackedPod::new(&p.namespace, &p.name, &p.uid, p.pdbs.clone()))
        .collect();
    let mut progress = DrainProgress::new(tracked);
    let settings = settings(flags, req.change.dry_run);
    let terminal = std::io::stderr().is_terminal() && !settings.dry_run;
    let reporter = Reporter::new(progress.pods.len(), terminal);
    let stop = run_evictions(
        client,
        req.node,
        &mut progress,
        &settings,
        &mut interrupt,
        &reporter,
    )
    .await;
    reporter.finish();
    let mut stop = stop?;
    if stop != Stop::Interrupted
        && !progress.complete()
        && !progress.blockers().is_empty()
        && !settings.dry_run
        && offer_delete(&progress, req)
    {
        for p in progress.pods.iter_mut() {
            if matches!(p.fate, PodFate::Blocked { .. }) {
                p.fate = PodFate::Waiting;
            }
        }
        let delete = EvictSettings {
            disable_eviction: true,
            ..settings.clone()
        };
        let reporter = Reporter::new(progress.pods.len(), terminal);
        let deleted = run_evictions(
            client,
            req.node,
            &mut progress,
            &delete,
            &mut interrupt,
            &reporter,
        )
        .await;
        reporter.finish();
        stop = deleted?;
    }
    let outcome = DrainOutcome::new(req.node, &progress, plan.skipped().count(), stop);
    emit(Some(&outcome))?;
    if outcome.complete {
        eprintln!(
            "node/{} drained{}",
            req.node,
            dry_run_suffix(req.change.dry_run)
        );
        return Ok(Drained {
            code: exit::OK,
            complete: true,
        });
    }
    explain_remaining(&outcome, &plan);
    if flags.uncordon_on_failure && req.change.dry_run == DryRun::None {
        if may_restore_schedulable(&cordoned_from) {
            uncordon_node(client, req.node, &mark).await?;
            eprintln!(
                "node/{} uncordoned again: it was schedulable before this maintenance (--uncordon-on-failure)",
                req.node
            );
        } else {
            eprintln!(
                "node/{} stays cordoned: someone cordoned it before this maintenance",
                req.node
            );
        }
    } else {
        eprintln!(
            "node/{node} stays cordoned. Run the same command again to resume; undo with: kubectl node-maintain uncordon {node}",
            node = req.node
        );
    }
    Ok(Drained {
        code: if outcome.interrupted {
            exit::INTERRUPTED
        } else {
            exit::FAILED
        },
        complete: false,
    })
}

/// Says why the drain is incomplete and what would unblock each blocker (the plan's advice
/// for that PDB when it found one).
fn explain_remaining(outcome: &DrainOutcome, plan: &DrainPlan) {
    let why = if outcome.interrupted {
        "interrupted"
    } else if outcome.timed_out {
        "timed out"
    } else {
        "incomplete"
    };
    eprintln!("error: drain of node/{} {why}:", outcome.node);
    for (reason, pods) in outcome.remaining() {
        eprintln!("  {reason}: {}", pods.join(", "));
        let advice = reason
            .strip_prefix("blocked by PDB ")
            .and_then(|pdb| {
                plan.findings.iter().find(|f| {
                    f.subject == format!("pdb/{pdb}") && f.message.starts_with("allows 0")
                })
            })
            .map(|f| f.hint.clone())
            .or_else(|| {
                reason.starts_with("blocked by").then(|| {
                    "scale the workload up, or relax its PodDisruptionBudget; if the covered pods \
                     are unready, `unhealthyPodEvictionPolicy: AlwaysAllow` lets them be evicted"
                        .to_string()
                })
            });
        if let Some(a) = advice {
            eprintln!("    → {a}");
        }
    }
}

/// Asks twice, on a terminal only and never with --yes, whether to delete the pods still
/// blocked by their PDBs.
fn offer_delete(progress: &DrainProgress, req: &DrainRequest<'_>) -> bool {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if req.change.yes || !interactive {
        return false;
    }
    let blocked: Vec<String> = progress
        .blockers()
        .into_iter()
        .flat_map(|(_, pods)| pods)
        .collect();
    let first = format!(
        "{} pod(s) are still blocked by their PodDisruptionBudgets ({}). Delete them instead of \
         evicting? This ignores the budgets and may take the service down",
        blocked.len(),
        blocked.join(", ")
    );
    runbook::prompt::confirm(&first, false).unwrap_or(false)
        && runbook::prompt::confirm_typed(
            "Deleting bypasses every PodDisruptionBudget.",
            req.node,
            false,
        )
        .unwrap_or(false)
}
