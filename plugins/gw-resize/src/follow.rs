//! After the change is applied: follow the rollout with the shared follower, say how it
//! ended, and with `--rollback` restore the previous template and follow that rollout too.

use std::io::Write;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::Client;
use runbook::cli::Interrupt;
use runbook::output::Style;
use runbook::rollout::{RolloutFailure, RolloutFollower, RolloutOutcome};
use runbook::{Error, Result, Severity};

use crate::cli::Cli;
use crate::plan::Plan;
use crate::report::{Outcome, Report, RollbackReport};
use crate::rollback::{RollbackDone, roll_back};
use crate::session::FIELD_MANAGER;

/// What was changed: the plan and the template as the server stored it.
pub struct Applied {
    /// The plan that was applied.
    pub plan: Plan,
    /// The template after the patch (`None` when only replicas changed).
    pub template: Option<PodTemplateSpec>,
    /// True when nothing was sent and this run follows a rollout still under way (a rerun
    /// after Ctrl-C, or someone else's change).
    pub resumed: bool,
}

/// How to look at a rollout that continues without us.
fn check_commands(plan: &Plan) -> String {
    format!(
        "kubectl gw-status {} -n {} (or kubectl rollout status {} -n {})",
        plan.reference(),
        plan.namespace,
        plan.reference(),
        plan.namespace
    )
}

/// The error for Ctrl-C once the change was sent (exit 130).
pub fn interrupted_after_apply(plan: &Plan) -> Error {
    Error::Interrupted(format!(
        ": the change to {} was applied and its rollout continues on the server; check it with {}",
        plan.reference(),
        check_commands(plan)
    ))
}

/// What to do after a failed rollout, by cause.
fn failure_hint(plan: &Plan, outcome: &RolloutOutcome) -> String {
    let ns = &plan.namespace;
    let reference = plan.reference();
    match outcome {
        RolloutOutcome::Failed { cause, .. } => match cause {
            RolloutFailure::CrashLoop { pod, .. } if cause.kind() == "oom-killed" => format!(
                "the new memory limit is still too low: raise it further (kubectl gw-resize {reference} -n {ns} --memory +500Mi); the OOM happened in pod {pod}"
            ),
            RolloutFailure::CrashLoop { pod, container, .. } => {
                format!("read why it crashes: kubectl logs {pod} -c {container} -n {ns} --previous")
            }
            RolloutFailure::CannotStart { pod, .. } => {
                format!("kubectl describe pod {pod} -n {ns}")
            }
            RolloutFailure::Unschedulable { .. } => format!(
                "no node takes the new pods: ask for less, free or add capacity, or tolerate the nodes' taints (kubectl gw-status {reference} -n {ns})"
            ),
            RolloutFailure::DeadlineExceeded { .. } => {
                format!("kubectl describe {reference} -n {ns}")
            }
        },
        RolloutOutcome::TimedOut { .. } => format!(
            "it may still finish: kubectl rollout status {reference} -n {ns}, or follow longer with --timeout"
        ),
        RolloutOutcome::Complete { .. } => String::new(),
    }
}

async fn follow_once(
    client: &Client,
    cli: &Cli,
    plan: &Plan,
    interrupt: Option<Interrupt>,
) -> Result<RolloutOutcome> {
    RolloutFollower::new(client.clone(), &plan.namespace, plan.kind, &plan.name)
        .timeout(cli.rollout_timeout())
        .progress(true)
        .interrupt(interrupt)
        .since(Some(Timestamp::now()))
        .follow()
        .await
}

/// Follows the rollout of the applied change (unless `--no-wait` or nothing rolls), then
/// rolls back on failure with `--rollback`. Fills `report` and returns the exit code.
pub async fn follow_and_rollback(
    client: &Client,
    cli: &Cli,
    applied: &Applied,
    interrupt: Option<Interrupt>,
    report: &mut Report,
    out: &mut dyn Write,
    style: Style,
) -> Result<u8> {
    let plan = &applied.plan;
    let table = cli.output.output.is_table();
    report.outcome = Outcome::Applied;
    if cli.no_wait {
        eprintln!(
            "Not following the rollout (--no-wait); check it with {}",
            check_commands(plan)
        );
        return Ok(runbook::exit::OK);
    }
    let stalled = report
        .findings
        .iter()
        .any(|f| matches!(f.check.as_str(), "resize.paused" | "resize.on-delete"));
    if !(applied.resumed || plan.changes_template() || plan.changes_replicas()) {
        return Ok(runbook::exit::OK);
    }
    if stalled && !plan.changes_replicas() {
        eprintln!(
            "Not following the rollout: it will not start on its own (see the pre-flight warning)"
        );
        return Ok(runbook::exit::OK);
    }
    let outcome = match follow_once(client, cli, plan, interrupt.clone()).await {
        Ok(o) => o,
        Err(Error::Interrupted(_)) => return Err(interrupted_after_apply(plan)),
        Err(e) => {
            eprintln!(
                "The change to {} was applied, but its rollout cannot be followed; check it with {}",
                plan.reference(),
                check_commands(plan)
            );
            return Err(e);
        }
    };
    report.rollout = Some(outcome.clone());
    if outcome.is_complete() {
        report.outcome = Outcome::Completed;
        if table {
            writeln!(
                out,
                "{}: {}",
                plan.reference(),
                style.ok(&outcome.to_string())
            )?;
        }
        return Ok(runbook::exit::OK);
    }
    report.outcome = Outcome::Failed;
    if table {
        writeln!(
            out,
            "{}: {}",
            plan.reference(),
            style.paint_severity(Severity::Critical, &outcome.to_string())
        )?;
        writeln!(out, "  → {}", failure_hint(plan, &outcome))?;
    }
    if !cli.rollback {
        if table {
            writeln!(
                out,
                "  → to undo the change: kubectl rollout undo {} -n {} (or run again with --rollback)",
                plan.reference(),
                plan.namespace
            )?;
        }
        return Ok(runbook::exit::FAILED);
    }
    let field_manager = cli.mutate.field_manager(FIELD_MANAGER);
    match roll_back(client, plan, applied.template.as_ref(), field_manager).await? {
        RollbackDone::Skipped(why) => {
            if table {
                writeln!(out, "{}: not rolled back: {why}", plan.reference())?;
            }
            report.rollback = Some(RollbackReport {
                to_revision: None,
                skipped: Some(why),
                rollout: None,
            });
        }
        RollbackDone::Restored(to_revision) => {
            if table {
                let rev = to_revision
                    .as_deref()
                    .map(|r| format!(" (revision {r})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}: rolled back to the previous template{rev}",
                    plan.reference()
                )?;
            }
            report.outcome = Outcome::RolledBack;
            let back = match follow_once(client, cli, plan, interrupt).await {
                Ok(o) => o,
                Err(Error::Interrupted(_)) => {
                    return Err(Error::Interrupted(format!(
                        ": the rollback of {} was applied and its rollout continues on the server; check it with {}",
                        plan.reference(),
                        check_commands(plan)
                    )));
                }
                Err(e) => return Err(e),
            };
            if table {
                let text = format!("after the rollback, {back}");
                let painted = if back.is_complete() {
                    style.ok(&text)
                } else {
                    style.paint_severity(Severity::Critical, &text)
                };
                writeln!(out, "{}: {painted}", plan.reference())?;
            }
            report.rollback = Some(RollbackReport {
                to_revision,
                skipped: None,
                rollout: Some(back),
            });
        }
    }
    Ok(runbook::exit::FAILED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plan_with;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn oom_failure_suggests_more_memory() {
        let plan = plan_with(json!({}), json!({}));
        let outcome = RolloutOutcome::Failed {
            cause: RolloutFailure::CrashLoop {
                pod: "gw-2".into(),
                container: "proxy".into(),
                reason: "OOMKilled".into(),
                restarts: 2,
                exit_code: Some(137),
            },
            elapsed: Duration::from_secs(30),
        };
        let hint = failure_hint(&plan, &outcome);
        assert!(hint.contains("--memory +500Mi"), "{hint}");
        assert!(
            hint.contains("kubectl gw-resize deploy/gw -n gateway-system"),
            "{hint}"
        );
    }

    #[test]
    fn interruption_says_the_change_continues() {
        let plan = plan_with(json!({}), json!({}));
        let e = interrupted_after_apply(&plan);
        assert_eq!(e.exit_code(), 130);
        let msg = e.to_string();
        assert!(
            msg.contains("was applied and its rollout continues"),
            "{msg}"
        );
        assert!(
            msg.contains("kubectl gw-status deploy/gw -n gateway-system"),
            "{msg}"
        );
    }
}
