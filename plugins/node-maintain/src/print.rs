//! Printing the node report, the drain plan and the drain summary as kubectl-style tables.

use std::io::{self, Write};

use jiff::Timestamp;
use runbook::output::{Style, Table, write_findings};

use crate::checks::{CheckReport, NodeRow};
use crate::drain::DrainOutcome;
use crate::drain::plan::{DrainPlan, Verdict};
use crate::drain::progress::PodFate;
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
    let mut columns = vec![
        "name",
        "status",
        "cpu req/alloc",
        "memory req/alloc",
        "pods",
        "worst",
    ];
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
            share(
                cap.requests.cpu_millis,
                cap.allocatable.cpu_millis,
                format_cpu,
            ),
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

/// The drain plan: one row per pod (what happens and why), then its blockers as findings
/// (with a HINT column when `wide`).
pub fn write_plan(
    w: &mut dyn Write,
    plan: &DrainPlan,
    style: Style,
    wide: bool,
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
        write_findings(w, &plan.findings, style, wide, headers)
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
    let mut parts = vec![
        format!("{} evicted", counts.gone),
        format!("{} left in place", outcome.skipped),
    ];
    for (n, what) in [
        (counts.terminating, "still terminating"),
        (counts.blocked, "blocked"),
        (counts.failed, "failed"),
        (counts.waiting, "not evicted yet"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "Summary for node/{}: {}",
            outcome.node,
            parts.join(", ")
        ))
    )?;
    let unfinished: Vec<_> = outcome
        .pods
        .iter()
        .filter(|p| !matches!(p.fate, PodFate::Gone | PodFate::WouldGo))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drain::evict::Stop;
    use crate::drain::plan::{DrainOptions, build_plan};
    use crate::drain::progress::{DrainProgress, TrackedPod};
    use crate::fetch::DrainSnapshot;
    use crate::fixtures::{node, now, pdb, pod};
    use serde_json::json;

    fn render(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plan_lists_every_pod_with_its_action_and_the_blockers() {
        let snap = DrainSnapshot {
            node: node("n1", json!({})),
            node_pods: vec![
                pod("kube-system", "proxy-x", "n1", "DaemonSet/proxy", json!({})),
                pod("ops", "debug", "n1", "", json!({})),
                pod("web", "shop-1", "n1", "ReplicaSet/shop-1", json!({})),
            ],
            all_pods: vec![],
            nodes: vec![node("n1", json!({})), node("n2", json!({}))],
            pdbs: vec![pdb("web", "shop", "shop", 0, 1, 1, 1)],
            daemonsets: serde_json::from_value(
                json!([{"metadata": {"name": "proxy", "namespace": "kube-system"}}]),
            )
            .unwrap(),
            now: now(),
        };
        let plan = build_plan(
            &snap,
            &DrainOptions {
                ignore_daemonsets: true,
                ..Default::default()
            },
        );
        let text = render(|w| write_plan(w, &plan, Style::new(false), false, true));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "Drain plan for node/n1: 1 to evict, 1 skipped, 1 refused"
        );
        assert!(lines[1].starts_with("DaemonSet pods stay (--ignore-daemonsets is on by default"));
        assert_eq!(
            lines[2],
            "NAMESPACE     POD       OWNER               ACTION    WHY"
        );
        assert_eq!(
            lines[3],
            "kube-system   proxy-x   DaemonSet/proxy     skip      DaemonSet pod (--ignore-daemonsets)"
        );
        assert_eq!(
            lines[4],
            "ops           debug     <none>              REFUSED   no controller: needs --force"
        );
        assert_eq!(
            lines[5],
            "web           shop-1    ReplicaSet/shop-1   evict     PDB web/shop"
        );
        assert!(text.contains("CRITICAL   drain.bare-pod"), "{text}");
        assert!(
            text.contains("CRITICAL   drain.pdb-blocks   pdb/web/shop"),
            "{text}"
        );
    }

    #[test]
    fn outcome_counts_and_lists_what_is_left() {
        let mut progress = DrainProgress::new(vec![
            TrackedPod::new("web", "a", "ua", vec![]),
            TrackedPod::new("web", "b", "ub", vec!["web/shop".into()]),
        ]);
        let t = tokio::time::Instant::now();
        progress.start(0);
        progress.record(0, crate::drain::progress::EvictionAnswer::Gone, false, t);
        progress.start(1);
        progress.record(
            1,
            crate::drain::progress::EvictionAnswer::Blocked {
                pdb: None,
                message: "Cannot evict".into(),
            },
            false,
            t,
        );
        let outcome = DrainOutcome::new("n1", &progress, 3, Stop::TimedOut);
        let text = render(|w| write_outcome(w, &outcome, Style::new(false), true));
        assert_eq!(
            text,
            "Summary for node/n1: 1 evicted, 3 left in place, 1 blocked\n\
             NAMESPACE   POD   STATE     WHY\n\
             web         b     blocked   PDB web/shop (refused 1x)\n"
        );
    }
}
