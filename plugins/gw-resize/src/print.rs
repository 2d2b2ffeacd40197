//! What a person reads: the plan, node placement, findings, patch bodies, the server's
//! dry-run answer. Everything prints into a `&mut dyn Write` (tested into a `Vec<u8>`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use k8s_openapi::api::core::v1::{Container, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use runbook::Finding;
use runbook::output::{Style, Table, write_findings};

use crate::figures;
use crate::placement::NodeVerdict;
use crate::plan::{Plan, ValueChange};
use crate::report::{PatchRecord, ServerAnswer};

fn value_text(v: &ValueChange) -> String {
    let show = |q: &Option<runbook::quantity::Quantity>| {
        q.map_or_else(|| "<none>".to_string(), |q| q.to_string())
    };
    if v.changed() {
        format!("{} → {}", show(&v.from), show(&v.to))
    } else {
        show(&v.from)
    }
}

fn toleration_text(t: &Toleration) -> String {
    let key = t.key.as_deref().unwrap_or("*");
    let mut s = key.to_string();
    if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
        s.push('=');
        s.push_str(v);
    }
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        s.push(':');
        s.push_str(e);
    }
    s
}

/// The plan: the workload line, the container table, then replicas, restart, tolerations.
pub fn write_plan(w: &mut dyn Write, plan: &Plan, style: Style, headers: bool) -> io::Result<()> {
    let revision = plan
        .revision
        .as_deref()
        .map(|r| format!("revision {r}, "))
        .unwrap_or_default();
    writeln!(
        w,
        "{} {} ({revision}{} replica{}):",
        style.bold("Plan for"),
        plan.subject(),
        plan.current_replicas,
        if plan.current_replicas == 1 { "" } else { "s" }
    )?;
    if !plan.containers.is_empty() {
        let mut t = Table::new(["container", "resource", "request", "limit"]);
        for c in &plan.containers {
            let name = if c.init {
                format!("{} (init)", c.name)
            } else {
                c.name.clone()
            };
            for r in &c.resources {
                t.row([
                    name.clone(),
                    r.resource.clone(),
                    value_text(&r.request),
                    value_text(&r.limit),
                ]);
            }
        }
        t.write(w, headers)?;
    }
    let mut extra = Table::new(["", ""]);
    if let Some(r) = plan.replicas {
        let text = if r.from == r.to {
            format!("{} (unchanged)", r.from)
        } else {
            format!("{} → {}", r.from, r.to)
        };
        extra.row(["REPLICAS".to_string(), text]);
    }
    if let Some(stamp) = &plan.restarted_at {
        extra.row([
            "RESTART".to_string(),
            format!("every pod is replaced (kubectl.kubernetes.io/restartedAt={stamp})"),
        ]);
    }
    if let Some(t) = &plan.tolerations {
        let added: Vec<String> =
            t.to.iter()
                .filter(|x| !t.from.contains(x))
                .map(|x| format!("+{}", toleration_text(x)))
                .collect();
        let removed: Vec<String> = t
            .from
            .iter()
            .filter(|x| !t.to.contains(x))
            .map(|x| format!("-{}", toleration_text(x)))
            .collect();
        let all: Vec<String> = removed.into_iter().chain(added).collect();
        let text = if all.is_empty() {
            "unchanged".to_string()
        } else {
            all.join(", ")
        };
        extra.row(["TOLERATIONS".to_string(), text]);
    }
    if !extra.is_empty() {
        extra.write(w, false)?;
    }
    if plan.is_noop() {
        writeln!(
            w,
            "{}",
            style.ok("Nothing to change: the workload already has these values.")
        )?;
    }
    Ok(())
}

/// Which nodes accept a pod of the new template (shown when tolerations change).
pub fn write_placement(
    w: &mut dyn Write,
    verdicts: &[NodeVerdict],
    headers: bool,
) -> io::Result<()> {
    writeln!(w)?;
    writeln!(w, "Nodes for the new pods:")?;
    let mut t = Table::new(["node", "accepts", "free cpu", "free memory", "why not"]);
    for v in verdicts {
        t.row([
            v.node.clone(),
            if v.accepts() { "yes" } else { "no" }.to_string(),
            figures::cpu(v.free.cpu_millis.max(0)),
            figures::bytes(v.free.memory_bytes.max(0)),
            v.refusals.join(", "),
        ]);
    }
    t.write(w, headers)
}

/// The pre-flight findings under a title.
pub fn write_preflight(
    w: &mut dyn Write,
    findings: &[Finding],
    style: Style,
    wide: bool,
    headers: bool,
) -> io::Result<()> {
    writeln!(w)?;
    writeln!(w, "{}", style.bold("Pre-flight checks:"))?;
    write_findings(w, findings, style, wide, headers)
}

/// The requests `--dry-run=client` would send.
pub fn write_patches(w: &mut dyn Write, patches: &[PatchRecord]) -> io::Result<()> {
    for p in patches {
        writeln!(w)?;
        writeln!(w, "PATCH {} ({})", p.path, p.content_type)?;
        let body = serde_json::to_string_pretty(&p.body).unwrap_or_default();
        writeln!(w, "{body}")?;
    }
    Ok(())
}

fn resources_text(map: Option<&BTreeMap<String, K8sQuantity>>) -> String {
    match map {
        Some(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.0))
            .collect::<Vec<_>>()
            .join(","),
        _ => "<none>".to_string(),
    }
}

/// What `--dry-run=server` says the API server would store.
pub fn write_server_answer(
    w: &mut dyn Write,
    answer: &ServerAnswer,
    headers: bool,
) -> io::Result<()> {
    writeln!(w)?;
    writeln!(w, "The API server would store (dry run, nothing changed):")?;
    if !answer.containers.is_empty() {
        let mut t = Table::new(["container", "requests", "limits"]);
        for c in &answer.containers {
            t.row([c.name.clone(), requests_of(c), limits_of(c)]);
        }
        t.write(w, headers)?;
    }
    if let Some(r) = answer.replicas {
        writeln!(w, "REPLICAS   {r}")?;
    }
    if let Some(stamp) = &answer.restarted_at {
        writeln!(w, "RESTART    kubectl.kubernetes.io/restartedAt={stamp}")?;
    }
    Ok(())
}

fn requests_of(c: &Container) -> String {
    resources_text(c.resources.as_ref().and_then(|r| r.requests.as_ref()))
}

fn limits_of(c: &Container) -> String {
    resources_text(c.resources.as_ref().and_then(|r| r.limits.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ReplicaPlan;
    use crate::test_support::plan_with;
    use serde_json::json;

    fn render(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plan_shows_old_and_new_per_container_and_replicas() {
        let mut plan = plan_with(
            json!({"requests": {"memory": "256Mi", "cpu": "100m"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "756Mi", "cpu": "100m"}, "limits": {"memory": "1012Mi"}}),
        );
        plan.replicas = Some(ReplicaPlan { from: 2, to: 3 });
        let text = render(|w| write_plan(w, &plan, Style::new(false), true));
        assert_eq!(
            text,
            "Plan for deployment/gateway-system/gw (revision 3, 2 replicas):\n\
             CONTAINER   RESOURCE   REQUEST         LIMIT\n\
             proxy       memory     256Mi → 756Mi   512Mi → 1012Mi\n\
             REPLICAS   2 → 3\n"
        );
    }

    #[test]
    fn a_noop_plan_says_so() {
        let plan = plan_with(
            json!({"limits": {"memory": "1Gi"}}),
            json!({"limits": {"memory": "1Gi"}}),
        );
        let text = render(|w| write_plan(w, &plan, Style::new(false), true));
        assert!(text.contains("Nothing to change"), "{text}");
    }
}
