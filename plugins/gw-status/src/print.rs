//! The human report: a summary line per gateway, one screen per component (replicas, pods,
//! resources, events, Services), then nodes, webhooks, Gateway API, logs, probes and the
//! findings with what to do. kubectl-like sections and tables, no borders.

use std::io::{self, Write};

use runbook::output::{Style, Table, write_findings};

use crate::objects::{Condition, condition};
use crate::report::{ComponentReport, Health, Report};

/// How to print.
#[derive(Clone, Copy, Debug)]
pub struct PrintOptions {
    /// Colours.
    pub style: Style,
    /// `-o wide`: full messages and the HINT column.
    pub wide: bool,
    /// Table headers (`--no-headers` turns them off).
    pub headers: bool,
}

const MESSAGE_CHARS: usize = 100;

fn cut(s: &str, wide: bool) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if wide || one_line.chars().count() <= MESSAGE_CHARS {
        one_line
    } else {
        let mut t: String = one_line.chars().take(MESSAGE_CHARS - 3).collect();
        t.push_str("...");
        t
    }
}

fn or_none(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("<none>").to_string()
}

fn health(style: Style, h: Health) -> String {
    match h {
        Health::Healthy => style.ok(h.label()),
        Health::Degraded => style.paint_severity(runbook::Severity::Warning, h.label()),
        Health::Down => style.paint_severity(runbook::Severity::Critical, h.label()),
    }
}

fn cond_text(c: Option<&Condition>) -> String {
    match c {
        None => "<none>".to_string(),
        Some(c) if c.reason.is_empty() => c.status.clone(),
        Some(c) => format!("{} ({})", c.status, c.reason),
    }
}

/// Writes the whole report.
pub fn write_report(w: &mut dyn Write, r: &Report, o: PrintOptions) -> io::Result<()> {
    for g in &r.gateways {
        writeln!(
            w,
            "{}: {} - {} ({}, namespace {})",
            o.style.bold(&g.profile),
            health(o.style, g.status),
            g.counts.text(),
            g.origin,
            g.namespace
        )?;
    }
    for c in &r.components {
        writeln!(w)?;
        write_component(w, c, r, o)?;
    }
    write_nodes(w, r, o)?;
    write_webhooks(w, r, o)?;
    write_gateway_api(w, r, o)?;
    write_logs(w, r, o)?;
    write_probes(w, r, o)?;
    writeln!(w)?;
    writeln!(w, "{}", o.style.bold("Findings:"))?;
    write_findings(w, &r.findings, o.style, o.wide, o.headers)
}

fn section(w: &mut dyn Write, o: PrintOptions, title: &str) -> io::Result<()> {
    writeln!(w)?;
    writeln!(w, "{}", o.style.bold(title))
}

fn write_component(
    w: &mut dyn Write,
    c: &ComponentReport,
    r: &Report,
    o: PrintOptions,
) -> io::Result<()> {
    writeln!(
        w,
        "{} {}/{} ({}, profile {})",
        o.style.bold("Deployment"),
        c.namespace,
        c.name,
        c.role,
        c.profile
    )?;
    let Some(rep) = &c.replicas else {
        return writeln!(w, "  not found in namespace {}", c.namespace);
    };
    writeln!(
        w,
        "Replicas:    {} desired | {} updated | {} ready | {} available",
        rep.desired, rep.updated, rep.ready, rep.available
    )?;
    writeln!(w, "Revision:    {}", or_none(rep.revision.as_deref()))?;
    let conds: Vec<String> = rep
        .conditions
        .iter()
        .map(|c| {
            if c.reason.is_empty() {
                format!("{}={}", c.type_, c.status)
            } else {
                format!("{}={} ({})", c.type_, c.status, c.reason)
            }
        })
        .collect();
    writeln!(
        w,
        "Conditions:  {}",
        if conds.is_empty() {
            "<none>".into()
        } else {
            conds.join(", ")
        }
    )?;
    writeln!(
        w,
        "Protection:  PodDisruptionBudget {}",
        if c.pdbs.is_empty() {
            "<none>".to_string()
        } else {
            c.pdbs.join(", ")
        }
    )?;

    section(w, o, "Pods:")?;
    if c.pods.is_empty() {
        writeln!(w, "  no pods")?;
    } else {
        let mut t = Table::new([
            "name",
            "ready",
            "status",
            "restarts",
            "last termination",
            "node",
            "age",
        ]);
        if o.wide {
            t = Table::new([
                "name",
                "ready",
                "status",
                "restarts",
                "last termination",
                "node",
                "age",
                "message",
            ]);
        }
        for p in &c.pods {
            let mut row = vec![
                p.name.clone(),
                p.ready.clone(),
                p.status.clone(),
                p.restarts.to_string(),
                or_none(p.last_termination.as_deref()),
                or_none(p.node.as_deref()),
                p.age.clone(),
            ];
            if o.wide {
                row.push(
                    p.message
                        .as_deref()
                        .map(|m| cut(m, true))
                        .unwrap_or_default(),
                );
            }
            t.row(row);
        }
        t.write(w, o.headers)?;
        for p in c.pods.iter().filter(|p| p.message.is_some() && !o.wide) {
            writeln!(
                w,
                "  {}: {}",
                p.name,
                cut(p.message.as_deref().unwrap_or_default(), false)
            )?;
        }
    }

    section(w, o, "Resources:")?;
    if !r.metrics.served {
        writeln!(
            w,
            "  usage not shown: {}",
            r.metrics
                .reason
                .as_deref()
                .unwrap_or("metrics.k8s.io is not served")
        )?;
    }
    if !c.containers.is_empty() {
        let mut t = Table::new([
            "pod",
            "container",
            "cpu req",
            "cpu lim",
            "cpu use",
            "mem req",
            "mem lim",
            "mem use",
        ]);
        for k in &c.containers {
            let used = |v: Option<&String>, pct: Option<u32>| match (v, pct) {
                (Some(v), Some(p)) => format!("{v} ({p}%)"),
                (Some(v), None) => v.clone(),
                _ => "-".to_string(),
            };
            t.row([
                k.pod.clone(),
                k.container.clone(),
                or_none(k.requests.cpu.as_deref()),
                or_none(k.limits.cpu.as_deref()),
                used(
                    k.usage.as_ref().and_then(|u| u.cpu.as_ref()),
                    k.cpu_percent_of_limit,
                ),
                or_none(k.requests.memory.as_deref()),
                or_none(k.limits.memory.as_deref()),
                used(
                    k.usage.as_ref().and_then(|u| u.memory.as_ref()),
                    k.memory_percent_of_limit,
                ),
            ]);
        }
        t.write(w, o.headers)?;
    }

    if !c.events.is_empty() {
        section(w, o, "Warning events:")?;
        let mut t = Table::new(["last seen", "count", "reason", "object", "message"]);
        for e in &c.events {
            t.row([
                e.last_seen.clone(),
                e.count.to_string(),
                e.reason.clone(),
                e.object.clone(),
                cut(&e.message, o.wide),
            ]);
        }
        t.write(w, o.headers)?;
    }

    section(w, o, "Services:")?;
    if c.services.is_empty() {
        writeln!(w, "  no Service selects these pods")?;
    } else {
        let mut t = Table::new(["name", "type", "cluster-ip", "ports", "ready endpoints"]);
        for s in &c.services {
            let ready = if s.endpoints.not_ready > 0 {
                format!(
                    "{} ({} not ready)",
                    s.endpoints.ready, s.endpoints.not_ready
                )
            } else {
                s.endpoints.ready.to_string()
            };
            t.row([
                s.name.clone(),
                s.type_.clone(),
                or_none(s.cluster_ip.as_deref()),
                s.ports
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                ready,
            ]);
        }
        t.write(w, o.headers)?;
    }
    Ok(())
}

fn pct(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_string(), |p| format!("{p}%"))
}

fn write_nodes(w: &mut dyn Write, r: &Report, o: PrintOptions) -> io::Result<()> {
    if r.nodes.is_empty() {
        return Ok(());
    }
    section(w, o, "Nodes:")?;
    let mut t = Table::new([
        "name",
        "ready",
        "pressure",
        "cpu use",
        "mem use",
        "cpu requested",
        "mem requested",
        "components",
    ]);
    for n in &r.nodes {
        let ready = if n.unschedulable {
            format!("{},SchedulingDisabled", n.ready)
        } else {
            n.ready.clone()
        };
        t.row([
            n.name.clone(),
            ready,
            if n.pressure.is_empty() {
                "<none>".into()
            } else {
                n.pressure.join(",")
            },
            pct(n.cpu_percent),
            pct(n.memory_percent),
            pct(n.cpu_requested_percent),
            pct(n.memory_requested_percent),
            n.components.join(","),
        ]);
    }
    t.write(w, o.headers)
}

fn write_webhooks(w: &mut dyn Write, r: &Report, o: PrintOptions) -> io::Result<()> {
    if r.webhooks.is_empty() {
        return Ok(());
    }
    section(w, o, "Admission webhooks:")?;
    let mut t = Table::new([
        "kind",
        "webhook",
        "configuration",
        "service",
        "failure policy",
        "ready endpoints",
    ]);
    for h in &r.webhooks {
        t.row([
            h.kind.to_string(),
            h.name.clone(),
            h.configuration.clone(),
            h.service.clone(),
            h.failure_policy.clone(),
            if h.service_exists {
                h.ready_endpoints.to_string()
            } else {
                "no Service".into()
            },
        ]);
    }
    t.write(w, o.headers)
}

fn write_gateway_api(w: &mut dyn Write, r: &Report, o: PrintOptions) -> io::Result<()> {
    for class in &r.gateway_api {
        section(w, o, &format!("Gateway API (GatewayClass {}):", class.name))?;
        if !class.served {
            writeln!(
                w,
                "  not served: {}",
                class.reason.as_deref().unwrap_or_default()
            )?;
            continue;
        }
        if !class.found {
            writeln!(w, "  GatewayClass {} does not exist", class.name)?;
        } else {
            writeln!(
                w,
                "Controller:  {}\nAccepted:    {}",
                or_none(class.controller_name.as_deref()),
                cond_text(class.accepted.as_ref())
            )?;
        }
        if !class.gateways.is_empty() {
            writeln!(w)?;
            let mut t = Table::new(["gateway", "addresses", "accepted", "programmed"]);
            for g in &class.gateways {
                t.row([
                    format!("{}/{}", g.namespace, g.name),
                    if g.addresses.is_empty() {
                        "<pending>".into()
                    } else {
                        g.addresses.join(",")
                    },
                    cond_text(condition(&g.conditions, "Accepted")),
                    cond_text(condition(&g.conditions, "Programmed")),
                ]);
            }
            t.write(w, o.headers)?;
            writeln!(w)?;
            let mut t = Table::new([
                "listener",
                "port",
                "protocol",
                "routes",
                "accepted",
                "programmed",
                "resolved refs",
            ]);
            for g in &class.gateways {
                for l in &g.listeners {
                    t.row([
                        format!("{}/{}", g.name, l.name),
                        l.port.to_string(),
                        l.protocol.clone(),
                        l.attached_routes.to_string(),
                        cond_text(condition(&l.conditions, "Accepted")),
                        cond_text(condition(&l.conditions, "Programmed")),
                        cond_text(condition(&l.conditions, "ResolvedRefs")),
                    ]);
                }
            }
            t.write(w, o.headers)?;
        }
        if !class.routes.is_empty() {
            writeln!(w)?;
            let mut t = Table::new([
                "httproute",
                "parent",
                "accepted",
                "resolved refs",
                "backends",
            ]);
            for route in &class.routes {
                for p in &route.parents {
                    t.row([
                        format!("{}/{}", route.namespace, route.name),
                        p.parent.clone(),
                        cond_text(p.accepted.as_ref()),
                        cond_text(p.resolved_refs.as_ref()),
                        route.backends.join(","),
                    ]);
                }
            }
            t.write(w, o.headers)?;
        }
    }
    Ok(())
}

fn write_logs(w: &mut dyn Write, r: &Report, o: PrintOptions) -> io::Result<()> {
    if r.logs.is_empty() {
        return Ok(());
    }
    section(w, o, "Log signatures:")?;
    let mut t = Table::new(["pod", "container", "signature", "lines", "first line"]);
    let mut clean = 0;
    for l in &r.logs {
        let container = if l.previous {
            format!("{} (previous)", l.container)
        } else {
            l.container.clone()
        };
        if let Some(e) = &l.error {
            t.row([
                l.pod.clone(),
                container.clone(),
                "<unreadable>".into(),
                "-".into(),
                cut(e, o.wide),
            ]);
        }
        if l.hits.is_empty() && l.error.is_none() {
            clean += 1;
        }
        for h in &l.hits {
            t.row([
                l.pod.clone(),
                container.clone(),
                h.signature.to_string(),
                h.count.to_string(),
                cut(&h.sample, o.wide),
            ]);
        }
    }
    if !t.is_empty() {
        t.write(w, o.headers)?;
    }
    if clean > 0 {
        writeln!(
            w,
            "  {clean} container log(s) without known failure signatures"
        )?;
    }
    Ok(())
}

fn write_probes(w: &mut dyn Write, r: &Report, o: PrintOptions) -> io::Result<()> {
    if r.probes.is_empty() {
        return Ok(());
    }
    section(w, o, "Admin endpoints:")?;
    let mut t = Table::new(["endpoint", "ok", "answer"]);
    for p in &r.probes {
        t.row([
            p.endpoint.clone(),
            match (p.asked, p.ok) {
                (false, _) => "not asked".into(),
                (true, true) => "yes".into(),
                (true, false) => "NO".into(),
            },
            cut(&p.answer, o.wide),
        ]);
    }
    t.write(w, o.headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{
        World, istio_world, nantian_world, service, slice, warning_event,
    };
    use crate::discover::{Plan, Planned};
    use crate::fetch::Availability;
    use crate::objects::{ContainerMetrics, PodMetrics, Usage};
    use crate::profiles::builtin;
    use serde_json::json;

    /// Runbook 000: the GatewayProxy OOMKilled in a crash loop, memory at 99% of its limit.
    fn oom_world() -> World {
        let mut w = World::new()
            .component("gateway-system", "gateway-proxy", 2, 1)
            .service(service("gateway-system", "gateway-proxy", "gateway-proxy", &[80, 443]))
            .slice(slice("gateway-system", "gateway-proxy", &[true, false]))
            .edit_pod("gateway-proxy-abc-1", |p| {
                p["spec"]["nodeName"] = json!("node-2");
                p["status"]["containerStatuses"][0]["restartCount"] = json!(7);
                p["status"]["containerStatuses"][0]["state"] =
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}});
                p["status"]["containerStatuses"][0]["lastState"] =
                    json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}});
            })
            .node(crate::checks::fixtures::node("node-2"))
            .event(warning_event("gateway-system", "Pod", "gateway-proxy-abc-1", "BackOff",
                "Back-off restarting failed container proxy in pod gateway-proxy-abc-1", 31))
            .pdb(json!({
                "metadata": {"name": "gateway-proxy", "namespace": "gateway-system"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "gateway-proxy"}}}
            }))
            .edit_deployment("gateway-proxy", |d| {
                d["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "3"});
                d["spec"]["template"]["spec"]["topologySpreadConstraints"] = json!([{
                    "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}]);
            });
        w.f.pod_metrics = Availability::Served(vec![
            PodMetrics {
                metadata: serde_json::from_value(
                    json!({"name": "gateway-proxy-abc-0", "namespace": "gateway-system"}),
                )
                .unwrap(),
                containers: vec![ContainerMetrics {
                    name: "proxy".into(),
                    usage: Usage {
                        cpu: "120m".into(),
                        memory: "300Mi".into(),
                    },
                }],
            },
            PodMetrics {
                metadata: serde_json::from_value(
                    json!({"name": "gateway-proxy-abc-1", "namespace": "gateway-system"}),
                )
                .unwrap(),
                containers: vec![ContainerMetrics {
                    name: "proxy".into(),
                    usage: Usage {
                        cpu: "80m".into(),
                        memory: "508Mi".into(),
                    },
                }],
            },
        ]);
        w
    }

    fn render(w: &World, wide: bool) -> (String, Report) {
        render_profile(w, 0, "gateway-system", wide)
    }

    fn render_profile(w: &World, profile: usize, namespace: &str, wide: bool) -> (String, Report) {
        let plan = Plan {
            gateways: vec![Planned {
                profile: builtin().remove(profile),
                namespace: namespace.into(),
            }],
            notes: vec![],
        };
        let report = crate::evaluate(&plan, &w.f, &[]);
        let mut out = Vec::new();
        let opts = PrintOptions {
            style: Style::new(false),
            wide,
            headers: true,
        };
        write_report(&mut out, &report, opts).unwrap();
        (String::from_utf8(out).unwrap(), report)
    }

    #[test]
    fn the_000_oom_screen() {
        let (text, report) = render(&oom_world(), false);
        assert_eq!(report.status, Health::Degraded);
        insta::assert_snapshot!("oom_table", text);
    }

    #[test]
    fn the_001_screen_with_webhooks_and_nodes() {
        let (text, report) = render_profile(&istio_world(false), 1, "istio-system", false);
        assert_eq!(report.status, Health::Down);
        insta::assert_snapshot!("istio_table", text);
    }

    #[test]
    fn the_002_screen_with_the_gateway_api() {
        let (text, _) = render_profile(&nantian_world("True", "False"), 2, "nantian-gw", false);
        insta::assert_snapshot!("nantian_table", text);
    }

    #[test]
    fn wide_adds_hints_and_full_messages() {
        let (text, _) = render(&oom_world(), true);
        assert!(text.contains("HINT"), "{text}");
        assert!(
            text.contains(
                "kubectl gw-resize deploy/gateway-proxy -n gateway-system --memory +500Mi"
            )
        );
    }

    #[test]
    fn no_headers_drops_every_header_line() {
        let plan = Plan {
            gateways: vec![Planned {
                profile: builtin().remove(0),
                namespace: "gateway-system".into(),
            }],
            notes: vec![],
        };
        let report = crate::evaluate(&plan, &oom_world().f, &[]);
        let mut out = Vec::new();
        let opts = PrintOptions {
            style: Style::new(false),
            wide: false,
            headers: false,
        };
        write_report(&mut out, &report, opts).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("RESTARTS"));
        assert!(!text.contains("SEVERITY"));
        assert!(text.contains("gateway-proxy-abc-1"));
    }
}
