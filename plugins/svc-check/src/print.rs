//! Printing the report: one Service in sections (service, selector, endpoints, ports, pods,
//! probes, findings); a namespace or the cluster as a summary table worst first, then the
//! findings. `-o json|yaml|jsonpath` serialise the [`Report`]; `-o name` lists the Services
//! with a warning or worse.

use std::io::Write;

use runbook::Severity;
use runbook::output::{OutputFormat, Style, Table, write_findings, write_structured};

use crate::fetch::Scope;
use crate::report::{Report, ServiceReport};

/// How to print.
#[derive(Clone, Debug)]
pub struct PrintOptions {
    /// `-o`.
    pub format: OutputFormat,
    /// Not `--no-headers`.
    pub headers: bool,
    /// Colours.
    pub style: Style,
}

/// Writes `report` for `scope`.
pub fn write(
    w: &mut dyn Write,
    report: &Report,
    scope: &Scope,
    opts: &PrintOptions,
) -> runbook::Result<()> {
    if write_structured(w, report, &opts.format)? {
        return Ok(());
    }
    match opts.format {
        OutputFormat::Name => {
            for s in report
                .services
                .iter()
                .filter(|s| s.worst >= Some(Severity::Warning))
            {
                writeln!(w, "service/{}", s.name)?;
            }
        }
        _ => {
            let wide = opts.format == OutputFormat::Wide;
            match scope {
                Scope::Service { .. } => {
                    for s in &report.services {
                        write_service(w, s, opts, wide)?;
                    }
                }
                Scope::Namespace(_) => write_summary(w, report, false, opts, wide)?,
                Scope::AllNamespaces => write_summary(w, report, true, opts, wide)?,
            }
        }
    }
    Ok(())
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.to_string()
    }
}

/// The sections of one Service.
pub fn write_service(
    w: &mut dyn Write,
    s: &ServiceReport,
    opts: &PrintOptions,
    wide: bool,
) -> std::io::Result<()> {
    let style = opts.style;
    let mut address = format!("{} {}", s.kind, dash(&s.cluster_ip));
    if !s.external.is_empty() {
        address.push_str(&format!(", external {}", s.external.join(",")));
    } else if s.kind == "LoadBalancer" {
        address.push_str(", external <pending>");
    }
    writeln!(
        w,
        "{}  {}/{}   {address}",
        style.bold("Service:  "),
        s.namespace,
        s.name
    )?;
    if s.kind != "ExternalName" {
        let selector = if s.selector.is_empty() {
            "<none>".to_string()
        } else {
            crate::checks::selector::format_selector(&s.selector)
        };
        writeln!(
            w,
            "{}  {selector}   ({} pod(s) match)",
            style.bold("Selector: "),
            s.matched_pods
        )?;
        let e = &s.endpoints;
        writeln!(
            w,
            "{}  {} ready, {} serving, {} terminating, {} not ready",
            style.bold("Endpoints:"),
            e.ready,
            e.serving,
            e.terminating,
            e.not_ready
        )?;
    }
    if !s.ports.is_empty() {
        writeln!(w)?;
        let mut t = Table::new(["port", "name", "protocol", "target", "nodeport", "resolved"]);
        for p in &s.ports {
            t.row([
                p.port.to_string(),
                dash(&p.name),
                p.protocol.clone(),
                p.target_port.clone(),
                p.node_port
                    .map_or_else(|| "<none>".to_string(), |n| n.to_string()),
                if p.resolved.is_empty() {
                    "<none>".to_string()
                } else {
                    p.resolved.join(",")
                },
            ]);
        }
        t.write(w, opts.headers)?;
    }
    if !s.pods.is_empty() {
        writeln!(w)?;
        let mut t = Table::new(["pod", "ready", "status", "node", "ip"]);
        for p in &s.pods {
            t.row([
                p.name.clone(),
                p.ready.clone(),
                p.status.clone(),
                p.node.clone(),
                p.ip.clone(),
            ]);
        }
        t.write(w, opts.headers)?;
    }
    if !s.probes.is_empty() {
        writeln!(w)?;
        let mut t = Table::new(["probe", "pod", "pod port", "result", "detail"]);
        for p in &s.probes {
            let label = p.verdict.label();
            let result = match p.verdict {
                crate::probe::Verdict::Connected(_) => style.ok(label),
                crate::probe::Verdict::Failed(_) => style.paint_severity(Severity::Info, label),
                _ => style.paint_severity(Severity::Critical, label),
            };
            t.row([
                p.service_port.clone(),
                p.pod.clone(),
                p.pod_port.to_string(),
                result,
                p.verdict.detail().to_string(),
            ]);
        }
        t.write(w, opts.headers)?;
    }
    writeln!(w)?;
    write_findings(w, &s.findings, style, wide, opts.headers)
}

fn write_summary(
    w: &mut dyn Write,
    report: &Report,
    all: bool,
    opts: &PrintOptions,
    wide: bool,
) -> std::io::Result<()> {
    let style = opts.style;
    if report.services.is_empty() {
        return writeln!(w, "No Services found.");
    }
    let mut headers = Vec::new();
    if all {
        headers.push("namespace");
    }
    headers.extend(["service", "type", "endpoints", "worst", "findings"]);
    let mut t = Table::new(headers);
    for s in &report.services {
        let mut row = Vec::new();
        if all {
            row.push(s.namespace.clone());
        }
        let endpoints = if s.kind == "ExternalName" {
            "<n/a>".to_string()
        } else {
            format!("{}/{}", s.endpoints.ready, s.endpoints.total())
        };
        let worst = match s.worst {
            Some(sev) => style.severity(sev),
            None => style.ok("OK"),
        };
        row.extend([
            s.name.clone(),
            s.kind.clone(),
            endpoints,
            worst,
            finding_ids(s),
        ]);
        t.row(row);
    }
    t.write(w, opts.headers)?;
    let sum = &report.summary;
    writeln!(w)?;
    writeln!(
        w,
        "{} Service(s): {} critical, {} warning, {} ok",
        sum.services, sum.critical, sum.warning, sum.ok
    )?;
    let findings: Vec<runbook::Finding> = report.findings().cloned().collect();
    if !findings.is_empty() {
        writeln!(w)?;
        write_findings(w, &findings, style, wide, opts.headers)?;
    }
    Ok(())
}

/// `svc.not-ready-pods(x3),svc.no-readiness-probe`: the check ids, worst first, with counts.
fn finding_ids(s: &ServiceReport) -> String {
    let mut ids: Vec<(&str, usize)> = Vec::new();
    for f in &s.findings {
        match ids.iter_mut().find(|(id, _)| *id == f.check) {
            Some((_, n)) => *n += 1,
            None => ids.push((&f.check, 1)),
        }
    }
    if ids.is_empty() {
        return "<none>".to_string();
    }
    ids.iter()
        .map(|(id, n)| {
            if *n > 1 {
                format!("{id}(x{n})")
            } else {
                id.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::{fetched, pod};
    use crate::report::analyse;
    use serde_json::json;

    fn report() -> Report {
        let f = fetched(
            vec![
                json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"clusterIP": "10.96.0.10", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
                json!({"metadata": {"name": "lost", "namespace": "a"}, "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 80}]}}),
            ],
            vec![pod("a", "web-1", json!({"app": "web"}))],
            vec![
                json!({"metadata": {"name": "web-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "web"}},
                "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}}]}),
            ],
            vec![],
        );
        analyse(&f, "2026-11-05T10:00:00Z".parse().unwrap(), &[])
    }

    fn render(scope: &Scope, format: OutputFormat) -> String {
        let opts = PrintOptions {
            format,
            headers: true,
            style: Style::new(false),
        };
        let mut out = Vec::new();
        write(&mut out, &report(), scope, &opts).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn namespace_summary_is_worst_first() {
        let out = render(&Scope::Namespace("a".into()), OutputFormat::Table);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "SERVICE   TYPE        ENDPOINTS   WORST      FINDINGS"
        );
        assert_eq!(
            lines[1],
            "lost      ClusterIP   0/0         CRITICAL   svc.no-pods"
        );
        assert_eq!(
            lines[2],
            "web       ClusterIP   1/1         OK         <none>"
        );
        assert!(out.contains("2 Service(s): 1 critical, 0 warning, 1 ok"));
        assert!(out.contains("What to do:"));
    }

    #[test]
    fn one_service_prints_sections() {
        let mut r = report();
        r.services.retain(|s| s.name == "web");
        let opts = PrintOptions {
            format: OutputFormat::Table,
            headers: true,
            style: Style::new(false),
        };
        let mut out = Vec::new();
        write(
            &mut out,
            &r,
            &Scope::Service {
                namespace: "a".into(),
                name: "web".into(),
            },
            &opts,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("Service:    a/web   ClusterIP 10.96.0.10"),
            "{out}"
        );
        assert!(
            out.contains("Selector:   app=web   (1 pod(s) match)"),
            "{out}"
        );
        assert!(
            out.contains("Endpoints:  1 ready, 1 serving, 0 terminating, 0 not ready"),
            "{out}"
        );
        assert!(
            out.contains("80     http   TCP        http     <none>     app:8080/TCP"),
            "{out}"
        );
        assert!(
            out.contains("web-1   1/1     Running   node-1   10.0.0.1"),
            "{out}"
        );
        assert!(out.contains("No problems found."));
    }

    #[test]
    fn name_and_json_outputs() {
        assert_eq!(
            render(&Scope::Namespace("a".into()), OutputFormat::Name),
            "service/lost\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&Scope::AllNamespaces, OutputFormat::Json)).unwrap();
        assert_eq!(json["summary"]["critical"], 1);
        assert_eq!(json["services"][0]["findings"][0]["check"], "svc.no-pods");
        assert_eq!(json["services"][1]["endpoints"]["ready"], 1);
    }
}
