//! Printing the node report, the drain plan and the drain summary as kubectl-style tables.

use std::io::{self, Write};

use jiff::Timestamp;
use runbook::output::{Style, Table, write_findings};

use crate::checks::{CheckReport, NodeRow};
use crate::drain::evict::{DrainOutcome, PodFate};
use crate::drain::plan::{DrainPlan, Verdict};
use crate::resources::{format_cpu, format_memory, percent};

fn status_text(row: &NodeRow) -> String {
    if row.unschedulable {
        format!("{},SchedulingDisabled", row.status)
    } else {
        row.status.clone()
    }
}

fn share(used: i128, total: i128, fmt: fn(i128) -> String) -> String {
    format!("{}/{} ({}%)", fmt(used), fmt(total), percent(used, total))
}

/// The node table followed by the findings.
pub fn write_check_report(
    w: &mut dyn Write,
    report: &CheckReport,
    style: Style,
    wide: bool,
    headers: bool,
    now: Timestamp,
) -> io::Result<()> {
    let mut columns = vec!["name", "status", "cpu req/alloc", "memory req/alloc", "pods", "worst"];
    if wide {
        columns.extend(["cpu use", "memory use", "memory limits", "maintenance"]);
    }
    let mut table = Table::new(columns);
    for row in &report.nodes {
        let cap = &row.capacity;
        let worst = match row.worst {
            Some(s) => style.severity(s),
            None => style.ok("OK"),
        };
        let mut cells = vec![
            row.name.clone(),
            status_text(row),
            share(cap.requests.cpu_millis, cap.allocatable.cpu_millis, format_cpu),
            share(
                cap.requests.memory_bytes,
                cap.allocatable.memory_bytes,
                format_memory,
            ),
            cap.pods.to_string(),
            worst,
        ];
        if wide {
            let alloc = cap.allocatable;
            let (cpu_use, mem_use) = match cap.usage {
                Some(u) => (
                    share(u.cpu_millis, alloc.cpu_millis, format_cpu),
                    share(u.memory_bytes, alloc.memory_bytes, format_memory),
                ),
                None => ("<none>".to_string(), "<none>".to_string()),
            };
            cells.push(cpu_use);
            cells.push(mem_use);
            cells.push(share(
                cap.limits.memory_bytes,
                alloc.memory_bytes,
                format_memory,
            ));
            cells.push(
                row.maintenance
                    .as_ref()
                    .map(|m| m.describe(now))
                    .unwrap_or_else(|| "<none>".into()),
            );
        }
        table.row(cells);
    }
    table.write(w, headers)?;
    writeln!(w)?;
    write_findings(w, &report.findings, style, wide, headers)
}

/// `node/NAME` per line (`-o name`).
pub fn write_node_names(w: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    for row in &report.nodes {
        writeln!(w, "node/{}", row.name)?;
    }
    Ok(())
}

fn verdict_text(v: &Verdict) -> &'static str {
    match v {
        Verdict::Evict => "evict",
        Verdict::Delete => "delete",
        Verdict::Skip(_) => "skip",
        Verdict::Refuse(_) => "REFUSED",
    }
}

/// The drain plan: one row per pod (what happens and why), then its blockers as findings.
pub fn write_plan(
    w: &mut dyn Write,
    plan: &DrainPlan,
    style: Style,
    headers: bool,
) -> io::Result<()> {
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "Drain plan for node/{}: {} to evict, {} skipped, {} refused",
            plan.node,
            plan.to_remove().count(),
            plan.skipped().count(),
            plan.refused().count()
        ))
    )?;
    if plan.ignore_daemonsets_default {
        writeln!(
            w,
            "DaemonSet pods stay (--ignore-daemonsets is on by default; the DaemonSet would recreate them at once)."
        )?;
    }
    if plan.pods.is_empty() {
        writeln!(w, "No pods on the node.")?;
    } else {
        let mut table = Table::new(["namespace", "pod", "owner", "action", "why"]);
        for p in &plan.pods {
            let action = match &p.verdict {
                Verdict::Refuse(_) => style.paint_severity(runbook::Severity::Critical, "REFUSED"),
                v => verdict_text(v).to_string(),
            };
            table.row([
                p.namespace.clone(),
                p.name.clone(),
                p.owner.clone(),
                action,
                p.why(),
            ]);
        }
        table.write(w, headers)?;
    }
    writeln!(w)?;
    if plan.findings.is_empty() {
        writeln!(w, "{}", style.ok("No blockers found."))
    } else {
        write_findings(w, &plan.findings, style, false, headers)
    }
}

/// The summary at the end of a drain: evicted, skipped, still blocked and by what.
pub fn write_outcome(
    w: &mut dyn Write,
    outcome: &DrainOutcome,
    style: Style,
    headers: bool,
) -> io::Result<()> {
    let counts = outcome.counts();
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "Summary for node/{}: {} evicted, {} skipped, {} not gone yet, {} blocked, {} failed",
            outcome.node,
            counts.gone,
            outcome.skipped.len(),
            counts.terminating,
            counts.blocked,
            counts.failed
        ))
    )?;
    let unfinished: Vec<_> = outcome
        .pods
        .iter()
        .filter(|p| !matches!(p.fate, PodFate::Gone | PodFate::SkippedWait))
        .collect();
    if !unfinished.is_empty() {
        let mut table = Table::new(["namespace", "pod", "state", "why"]);
        for p in unfinished {
            table.row([
                p.namespace.clone(),
                p.name.clone(),
                p.fate.label().to_string(),
                p.fate.detail(),
            ]);
        }
        table.write(w, headers)?;
    }
    Ok(())
}
