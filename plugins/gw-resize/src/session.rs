//! One run: plan, pre-flight checks, confirmation, the conflict-safe patches, then the
//! rollout (see [`crate::follow`]). A 409 Conflict re-reads the workload and re-plans:
//! the new plan is shown and confirmed again unless only the status moved meanwhile.

use std::io::Write;

use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::Client;
use runbook::cli::Interrupt;
use runbook::exit::FailOn;
use runbook::findings::{Severity, exit_code_for, sort_findings};
use runbook::flags::DryRun;
use runbook::output::{OutputFormat, Style, write_structured};
use runbook::workload::Workload;
use runbook::{Error, Finding, Result};

use crate::apply::{Patcher, Sent, patch_records};
use crate::change::ChangeRequest;
use crate::cli::Cli;
use crate::fetch;
use crate::follow::{self, Applied};
use crate::placement::verdicts;
use crate::plan::{Plan, RESTARTED_AT_ANNOTATION, build_plan, find_container, restart_stamp};
use crate::preflight::run_checks;
use crate::print;
use crate::report::{Outcome, Report, ServerAnswer};
use crate::resolve::Resolved;
use crate::workload::WorkloadExt;

/// How many times a change is re-planned after conflicts before giving up.
pub const MAX_ATTEMPTS: u32 = 5;

/// The name the changes are recorded under unless `--field-manager` says otherwise.
pub const FIELD_MANAGER: &str = "kubectl-gw-resize";

/// The state of one run.
pub struct Session<'a> {
    cli: &'a Cli,
    client: Client,
    style: Style,
    headers: bool,
    out: &'a mut dyn Write,
}

/// What the apply loop ended with.
struct Planned {
    plan: Plan,
    findings: Vec<Finding>,
    attempts: u32,
    template: Option<Workload>,
    scale: Option<Scale>,
    interrupt: Option<Interrupt>,
}

/// How the apply loop ended.
enum Stop {
    /// Nothing was sent (unchanged, refused, cancelled, client dry run): report and exit.
    Early(Box<Report>, u8),
    /// Sent (or sent as a server dry run).
    Sent(Box<Planned>),
    /// Nothing to send, but the workload's rollout is still under way: follow it.
    Resume(Box<Report>, Option<Box<PodTemplateSpec>>),
}

impl<'a> Session<'a> {
    /// A session printing into `out`.
    pub fn new(cli: &'a Cli, client: Client, out: &'a mut dyn Write) -> Session<'a> {
        Session {
            cli,
            client,
            style: Style::new(cli.output.color.enabled()),
            headers: !cli.output.no_headers,
            out,
        }
    }

    fn table(&self) -> bool {
        self.cli.output.output.is_table()
    }

    /// Runs the whole change and returns the exit code.
    pub async fn run(mut self, request: ChangeRequest, resolved: Resolved) -> Result<u8> {
        let planned = match self.plan_and_send(request, resolved).await? {
            Stop::Early(report, code) => {
                self.finish(&report)?;
                return Ok(code);
            }
            Stop::Resume(report, template) => {
                return self.resume(*report, template.map(|t| *t)).await;
            }
            Stop::Sent(p) => *p,
        };
        let mut report = Report {
            plan: planned.plan.clone(),
            findings: planned.findings.clone(),
            outcome: Outcome::Applied,
            attempts: planned.attempts,
            patches: patch_records(&planned.plan, &planned.plan.resource_version),
            server_answer: None,
            rollout: None,
            rollback: None,
        };
        if self.cli.mutate.dry_run == DryRun::Server {
            let answer = server_answer(&planned);
            if self.table() {
                print::write_server_answer(self.out, &answer, self.headers)?;
            }
            report.server_answer = Some(answer);
            report.outcome = Outcome::DryRunServer;
            self.finish(&report)?;
            return Ok(exit_code_for(&planned.findings, FailOn::Warning, false));
        }
        let applied = Applied {
            plan: planned.plan,
            template: planned.template.and_then(|w| w.template().cloned()),
            resumed: false,
        };
        if self.table() {
            writeln!(self.out)?;
            for line in applied_lines(
                &applied.plan,
                planned.scale.is_some(),
                applied.template.is_some(),
            ) {
                writeln!(self.out, "{line}")?;
            }
        }
        let interrupt = planned.interrupt;
        if interrupt.as_ref().is_some_and(Interrupt::is_set) {
            return Err(follow::interrupted_after_apply(&applied.plan));
        }
        let code = follow::follow_and_rollback(
            &self.client,
            self.cli,
            &applied,
            interrupt,
            &mut report,
            self.out,
            self.style,
        )
        .await?;
        self.finish(&report)?;
        Ok(code)
    }

    /// Follows a rollout still under way when the plan changes nothing (a rerun after
    /// Ctrl-C): to its end, with `--no-wait`, `--timeout` and `--rollback` as for a change.
    async fn resume(mut self, report: Report, template: Option<PodTemplateSpec>) -> Result<u8> {
        let mut report = report;
        let applied = Applied {
            plan: report.plan.clone(),
            template,
            resumed: true,
        };
        let interrupt = Some(Interrupt::take());
        let code = follow::follow_and_rollback(
            &self.client,
            self.cli,
            &applied,
            interrupt,
            &mut report,
            self.out,
            self.style,
        )
        .await?;
        self.finish(&report)?;
        Ok(code)
    }

    /// Prints the report in the structured formats (`-o json|yaml|jsonpath`, `-o name`).
    fn finish(&mut self, report: &Report) -> Result<()> {
        if self.cli.output.output == OutputFormat::Name {
            if !matches!(
                report.outcome,
                Outcome::Refused | Outcome::Cancelled | Outcome::Unchanged
            ) {
                writeln!(
                    self.out,
                    "{}.apps/{}",
                    report.plan.kind.word(),
                    report.plan.name
                )?;
            }
            return Ok(());
        }
        write_structured(self.out, report, &self.cli.output.output)?;
        Ok(())
    }

    fn early(&self, plan: Plan, findings: Vec<Finding>, attempts: u32, outcome: Outcome) -> Report {
        Report {
            patches: if outcome == Outcome::DryRunClient {
                patch_records(&plan, &plan.resource_version)
            } else {
                Vec::new()
            },
            plan,
            findings,
            outcome,
            attempts,
            server_answer: None,
            rollout: None,
            rollback: None,
        }
    }

    async fn plan_and_send(&mut self, request: ChangeRequest, resolved: Resolved) -> Result<Stop> {
        let cli = self.cli;
        let dry_run = cli.mutate.dry_run;
        let patcher = Patcher::new(
            self.client.clone(),
            dry_run == DryRun::Server,
            cli.mutate.field_manager(FIELD_MANAGER),
        );
        let stamp = restart_stamp();
        let mut request = request;
        let mut workload = resolved.workload;
        let notice = resolved.notice;
        let mut consented: Option<Plan> = None;
        let mut template: Option<Workload> = None;
        let mut template_plan: Option<Plan> = None;
        let mut interrupt: Option<Interrupt> = None;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let plan = build_plan(&workload, &request, &stamp)?;
            let around = fetch::surroundings(&self.client, &workload).await;
            let mut findings = run_checks(&plan, &workload, &around, cli.force);
            findings.extend(notice.clone());
            sort_findings(&mut findings);
            let needs_consent = consented
                .as_ref()
                .is_none_or(|c| changed_meanwhile(c, &plan, template.is_some()));
            if needs_consent && self.table() {
                if attempts > 1 {
                    writeln!(self.out)?;
                }
                print::write_plan(self.out, &plan, self.style, self.headers)?;
                if plan.tolerations.is_some()
                    && let Ok(nodes) = &around.nodes
                {
                    let scheduled = around.scheduled_pods.as_deref().unwrap_or_default();
                    let v = verdicts(&plan.new_template, nodes, scheduled, &[]);
                    print::write_placement(self.out, &v, self.headers)?;
                }
                if !plan.is_noop() {
                    let wide = cli.output.output == OutputFormat::Wide;
                    print::write_preflight(self.out, &findings, self.style, wide, self.headers)?;
                }
            }
            if plan.is_noop() && template.is_none() {
                if dry_run == DryRun::None
                    && let Some(why) = workload.rollout_to_resume()
                {
                    let revision = workload
                        .revision()
                        .map(|r| format!(" of revision {r}"))
                        .unwrap_or_default();
                    eprintln!(
                        "Nothing to change; a rollout{revision} of {} is still in progress ({why}): following it",
                        plan.reference()
                    );
                    let current = workload.template().cloned().map(Box::new);
                    let report = self.early(plan, findings, attempts, Outcome::Applied);
                    return Ok(Stop::Resume(Box::new(report), current));
                }
                let report = self.early(plan, findings, attempts, Outcome::Unchanged);
                return Ok(Stop::Early(Box::new(report), runbook::exit::OK));
            }
            if findings.iter().any(|f| f.severity == Severity::Critical) {
                eprintln!(
                    "error: refusing to change {}: a pre-flight check failed (see above); nothing was changed",
                    plan.reference()
                );
                let report = self.early(plan, findings, attempts, Outcome::Refused);
                return Ok(Stop::Early(Box::new(report), runbook::exit::FAILED));
            }
            if dry_run == DryRun::Client {
                if self.table() {
                    print::write_patches(self.out, &patch_records(&plan, &plan.resource_version))?;
                }
                let code = exit_code_for(&findings, FailOn::Warning, false);
                let report = self.early(plan, findings, attempts, Outcome::DryRunClient);
                return Ok(Stop::Early(Box::new(report), code));
            }
            if dry_run == DryRun::None && needs_consent {
                self.out.flush()?;
                let question = format!(
                    "Apply this change to {} in namespace {}?",
                    plan.reference(),
                    plan.namespace
                );
                if !runbook::prompt::confirm(&question, cli.mutate.yes)? {
                    eprintln!("Cancelled: nothing was changed.");
                    let report = self.early(plan, findings, attempts, Outcome::Cancelled);
                    return Ok(Stop::Early(Box::new(report), runbook::exit::OK));
                }
            }
            consented = Some(plan.clone());
            if dry_run == DryRun::None && interrupt.is_none() {
                interrupt = Some(Interrupt::take());
            }
            if template.is_none() && plan.changes_template() {
                match self.send_template(&patcher, &plan).await? {
                    Attempt::Done(w) => {
                        template = Some(w);
                        template_plan = Some(plan.clone());
                    }
                    Attempt::Changed(fresh, msg) => {
                        workload = self.changed(&plan, fresh, &msg, attempts)?;
                        continue;
                    }
                }
            }
            let rv = match (&template, dry_run) {
                (Some(w), DryRun::None) => w.resource_version().to_string(),
                _ => plan.resource_version.clone(),
            };
            let mut scale = None;
            if plan.changes_replicas() {
                match self.send_scale(&patcher, &plan, rv).await? {
                    Attempt::Done(s) => scale = Some(s),
                    Attempt::Changed(fresh, msg) => {
                        workload = self.changed(&plan, fresh, &msg, attempts)?;
                        if template.is_some() && dry_run == DryRun::None {
                            request = request.replicas_only();
                        }
                        continue;
                    }
                }
            }
            // After a re-plan of the replicas alone, the template part of the first plan
            // still describes what was changed.
            let plan = match template_plan {
                Some(mut first) => {
                    first.replicas = plan.replicas;
                    first.current_replicas = plan.current_replicas;
                    first
                }
                None => plan,
            };
            return Ok(Stop::Sent(Box::new(Planned {
                plan,
                findings,
                attempts,
                template,
                scale,
                interrupt,
            })));
        }
    }

    /// After the spec changed under a patch: says so, and gives up after [`MAX_ATTEMPTS`].
    fn changed(&self, plan: &Plan, fresh: Workload, msg: &str, attempts: u32) -> Result<Workload> {
        eprintln!(
            "{} changed since it was read ({msg}): planning anew from the new version",
            plan.reference()
        );
        if attempts >= MAX_ATTEMPTS {
            return Err(Error::Conflict(format!(
                "{} kept changing: gave up after {attempts} attempts without overwriting anything",
                plan.reference()
            )));
        }
        Ok(fresh)
    }

    /// Re-reads the workload after a 409.
    async fn reread(&self, plan: &Plan) -> Result<Workload> {
        fetch::workload(&self.client, &plan.namespace, plan.kind, &plan.name).await
    }

    /// Sends the template patch. A 409 whose re-read shows the same template (only the
    /// status moved, as it does all through a rollout) is re-sent with the new
    /// resourceVersion; a different template ends the attempt for a new plan.
    async fn send_template(&self, patcher: &Patcher, plan: &Plan) -> Result<Attempt<Workload>> {
        let mut plan = plan.clone();
        for retry in 0..STATUS_RETRIES {
            let Some(body) = crate::patch::template_patch(&plan) else {
                break;
            };
            match patcher.template(&plan, &body).await? {
                Sent::Done(w) => return Ok(Attempt::Done(w)),
                Sent::Conflict(msg) => {
                    let fresh = self.reread(&plan).await?;
                    if fresh.template() != Some(&plan.old_template) {
                        return Ok(Attempt::Changed(fresh, msg));
                    }
                    plan.resource_version = fresh.resource_version().to_string();
                    tokio::time::sleep(status_backoff(retry)).await;
                }
            }
        }
        Err(status_churn(&plan))
    }

    /// Sends the scale patch, re-sent like [`Session::send_template`] while the replica
    /// count itself stays as planned.
    async fn send_scale(
        &self,
        patcher: &Patcher,
        plan: &Plan,
        rv: String,
    ) -> Result<Attempt<Scale>> {
        let mut rv = rv;
        for retry in 0..STATUS_RETRIES {
            let Some(body) = crate::patch::scale_patch(plan, &rv) else {
                break;
            };
            match patcher.scale(plan, &body).await? {
                Sent::Done(s) => return Ok(Attempt::Done(s)),
                Sent::Conflict(msg) => {
                    let fresh = self.reread(plan).await?;
                    if fresh.replicas() != plan.current_replicas {
                        return Ok(Attempt::Changed(fresh, msg));
                    }
                    rv = fresh.resource_version().to_string();
                    tokio::time::sleep(status_backoff(retry)).await;
                }
            }
        }
        Err(status_churn(plan))
    }
}

/// How often a patch is re-sent at once when only the workload's status moved.
const STATUS_RETRIES: u32 = 10;

/// 20ms, 40ms, ... up to 640ms between re-sends through status churn.
fn status_backoff(retry: u32) -> std::time::Duration {
    std::time::Duration::from_millis(20 << retry.min(5))
}

fn status_churn(plan: &Plan) -> Error {
    Error::Conflict(format!(
        "the status of {} kept changing: the patch was refused {STATUS_RETRIES} times (nothing was overwritten); try again",
        plan.reference()
    ))
}

/// What sending one patch ended with.
enum Attempt<T> {
    /// Accepted (or validated, in a server dry run).
    Done(T),
    /// The spec changed since the plan: the fresh object and the server's message.
    Changed(Workload, String),
}

/// True when the re-read object differs in what the change is about (so the new plan
/// needs a new confirmation): the template, the replica count, or the planned values.
/// A status update alone (which also bumps the resourceVersion) does not count. Once the
/// template change is applied (`template_done`), only the replica part is compared.
pub fn changed_meanwhile(consented: &Plan, new: &Plan, template_done: bool) -> bool {
    if template_done {
        return consented.current_replicas != new.current_replicas
            || consented.replicas != new.replicas;
    }
    consented.old_template != new.old_template
        || consented.current_replicas != new.current_replicas
        || consented.containers != new.containers
        || consented.replicas != new.replicas
        || consented.tolerations != new.tolerations
}

/// kubectl-style lines for what was changed.
fn applied_lines(plan: &Plan, scaled: bool, patched: bool) -> Vec<String> {
    let object = format!("{}.apps/{}", plan.kind.word(), plan.name);
    let mut lines = Vec::new();
    if patched {
        let what = if plan.restarted_at.is_some()
            && plan.containers.is_empty()
            && plan.tolerations.is_none()
        {
            "restarted"
        } else {
            "patched"
        };
        lines.push(format!("{object} {what}"));
    }
    if scaled && let Some(r) = plan.replicas {
        lines.push(format!(
            "{object} scaled from {} to {} replicas",
            r.from, r.to
        ));
    }
    lines
}

/// What the server answered to the dry-run patches.
fn server_answer(p: &Planned) -> ServerAnswer {
    let template = p.template.as_ref().and_then(|w| w.template());
    let containers = template
        .map(|t| {
            p.plan
                .containers
                .iter()
                .filter_map(|c| find_container(t, &c.name).cloned())
                .collect()
        })
        .unwrap_or_default();
    let restarted_at = template
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT_ANNOTATION))
        .filter(|_| p.plan.restarted_at.is_some())
        .cloned();
    ServerAnswer {
        containers,
        replicas: p
            .scale
            .as_ref()
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.replicas),
        restarted_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ReplicaPlan;
    use crate::test_support::plan_with;
    use serde_json::json;

    fn memory_plan() -> Plan {
        plan_with(
            json!({"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "756Mi"}, "limits": {"memory": "1012Mi"}}),
        )
    }

    #[test]
    fn a_status_only_change_needs_no_new_consent() {
        let a = memory_plan();
        let mut b = memory_plan();
        b.resource_version = "99".into();
        assert!(!changed_meanwhile(&a, &b, false));
    }

    #[test]
    fn an_edit_of_the_template_or_replicas_needs_new_consent() {
        let a = memory_plan();
        let mut b = plan_with(
            json!({"requests": {"memory": "300Mi"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "800Mi"}, "limits": {"memory": "1012Mi"}}),
        );
        assert!(changed_meanwhile(&a, &b, false));
        assert!(
            !changed_meanwhile(&a, &b, true),
            "the template part is done already"
        );
        b = memory_plan();
        b.current_replicas = 3;
        assert!(changed_meanwhile(&a, &b, true));
        b = memory_plan();
        b.replicas = Some(ReplicaPlan { from: 2, to: 4 });
        assert!(changed_meanwhile(&a, &b, false));
    }

    #[test]
    fn applied_lines_read_like_kubectl() {
        let mut plan = memory_plan();
        plan.replicas = Some(ReplicaPlan { from: 2, to: 3 });
        assert_eq!(
            applied_lines(&plan, true, true),
            [
                "deployment.apps/gw patched",
                "deployment.apps/gw scaled from 2 to 3 replicas"
            ]
        );
    }
}
