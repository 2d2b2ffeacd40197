//! Requests, limits and live usage: containers without limits, memory close to the limit
//! (runbook 000's 99% alert), CPU at the limit (throttling), and metrics not being served.

use runbook::Finding;
use runbook::quantity::{fmt_bytes, fmt_cpu};

use crate::fetch::{Availability, Fetched};
use crate::hints;
use crate::profiles::Role;
use crate::usage::{self, percent};
use crate::view::{ComponentView, GatewayView};

/// Memory use (percent of the limit) from which a warning is raised.
pub const MEMORY_WARNING_PERCENT: u32 = 80;
/// Memory use (percent of the limit) from which the next allocation may be OOMKilled.
pub const MEMORY_CRITICAL_PERCENT: u32 = 90;
/// CPU use (percent of the limit) from which the container is throttled.
pub const CPU_WARNING_PERCENT: u32 = 90;

/// Resource findings of every component, and whether usage could be read at all.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &gw.components {
        if c.spec.role != Role::Addon {
            out.extend(no_limits(c));
        }
        out.extend(usage_against_limits(c, f));
    }
    if let Availability::Unavailable(reason) = &f.pod_metrics {
        out.push(Finding::info(
            "metrics.unavailable",
            "apiservice/v1beta1.metrics.k8s.io",
            format!("live usage is not shown: {reason}"),
            "install metrics-server to see usage against limits (kubectl top works again too)",
        ));
    }
    out
}

fn no_limits(c: &ComponentView<'_>) -> Vec<Finding> {
    c.containers()
        .iter()
        .filter_map(|container| {
            let limits = usage::limits(container);
            let requests = usage::requests(container);
            let mut missing = Vec::new();
            let mut args = Vec::new();
            if limits.cpu_millis.is_none() {
                missing.push("cpu");
                let suggested = requests.cpu_millis.map_or(1000, |r| (r * 2).max(500));
                args.push(format!("--cpu-limit {}", fmt_cpu(suggested)));
            }
            if limits.memory_bytes.is_none() {
                missing.push("memory");
                let suggested = requests
                    .memory_bytes
                    .map_or(1 << 30, |r| (r * 2).max(256 << 20));
                args.push(format!("--memory-limit {}", fmt_bytes(suggested)));
            }
            if missing.is_empty() {
                return None;
            }
            Some(Finding::warning(
                "resources.no-limits",
                c.subject(),
                format!(
                    "container {} has no {} limit: one busy neighbour or leak can starve the node it shares (runbook 001 follow-up)",
                    container.name,
                    missing.join(" or ")
                ),
                format!(
                    "set limits (values are a starting point): {}",
                    hints::resize(c, Some(&container.name), &args.join(" "))
                ),
            ))
        })
        .collect()
}

fn usage_against_limits(c: &ComponentView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &c.summaries {
        for container in c.containers() {
            let Some(used) = usage::container_usage(f, &s.namespace, &s.name, &container.name)
            else {
                continue;
            };
            let limits = usage::limits(container);
            let oom_reported = s
                .containers
                .iter()
                .any(|cs| cs.name == container.name && cs.oom_killed());
            if let Some(pct) = percent(used.memory_bytes, limits.memory_bytes)
                && pct >= MEMORY_WARNING_PERCENT
                && !oom_reported
            {
                let message = format!(
                    "container {} uses {} of its {} memory limit ({pct}%)",
                    container.name,
                    fmt_bytes(used.memory_bytes.unwrap_or(0)),
                    fmt_bytes(limits.memory_bytes.unwrap_or(0)),
                );
                let hint = format!(
                    "raise the memory request and limit before it is OOMKilled: {}",
                    hints::resize(c, Some(&container.name), "--memory +500Mi")
                );
                let subject = s.subject();
                out.push(if pct >= MEMORY_CRITICAL_PERCENT {
                    Finding::critical("resources.memory-near-limit", subject, message, hint)
                } else {
                    Finding::warning("resources.memory-near-limit", subject, message, hint)
                });
            }
            if let Some(pct) = percent(used.cpu_millis, limits.cpu_millis)
                && pct >= CPU_WARNING_PERCENT
            {
                out.push(Finding::warning(
                    "resources.cpu-throttle-risk",
                    s.subject(),
                    format!(
                        "container {} uses {} of its {} CPU limit ({pct}%): it is being throttled, probes may time out",
                        container.name,
                        fmt_cpu(used.cpu_millis.unwrap_or(0)),
                        fmt_cpu(limits.cpu_millis.unwrap_or(0)),
                    ),
                    format!(
                        "give it more CPU: {}",
                        hints::resize(c, Some(&container.name), "--cpu +500m")
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::World;
    use crate::objects::{ContainerMetrics, PodMetrics, Usage};
    use crate::profiles::generic;
    use crate::view::join;
    use runbook::Severity;
    use serde_json::json;

    fn metrics(pod: &str, cpu: &str, memory: &str) -> PodMetrics {
        PodMetrics {
            metadata: serde_json::from_value(json!({"name": pod, "namespace": "gw"})).unwrap(),
            containers: vec![ContainerMetrics {
                name: "proxy".into(),
                usage: Usage {
                    cpu: cpu.into(),
                    memory: memory.into(),
                },
            }],
        }
    }

    fn run(w: &World) -> Vec<Finding> {
        let p = generic("gateway-proxy", "gw");
        check(&join(&w.f, &p, "gw"), &w.f)
    }

    #[test]
    fn memory_near_the_limit_and_cpu_throttling() {
        let mut w = World::new().component("gw", "gateway-proxy", 2, 2);
        w.f.pod_metrics = Availability::Served(vec![
            metrics("gateway-proxy-abc-0", "480m", "507Mi"),
            metrics("gateway-proxy-abc-1", "100m", "420Mi"),
        ]);
        let found = run(&w);
        let got: Vec<(&str, Severity, &str)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.severity, f.subject.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "resources.memory-near-limit",
                    Severity::Critical,
                    "pod/gw/gateway-proxy-abc-0"
                ),
                (
                    "resources.cpu-throttle-risk",
                    Severity::Warning,
                    "pod/gw/gateway-proxy-abc-0"
                ),
                (
                    "resources.memory-near-limit",
                    Severity::Warning,
                    "pod/gw/gateway-proxy-abc-1"
                ),
            ]
        );
        assert_eq!(
            found[0].message,
            "container proxy uses 507Mi of its 512Mi memory limit (99%)"
        );
        assert!(
            found[0]
                .hint
                .ends_with("kubectl gw-resize deploy/gateway-proxy -n gw --memory +500Mi")
        );
    }

    #[test]
    fn containers_without_limits_get_suggested_values() {
        let w = World::new()
            .component("gw", "gateway-proxy", 1, 1)
            .edit_deployment("gateway-proxy", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["resources"] =
                    json!({"requests": {"cpu": "100m", "memory": "256Mi"}});
            });
        let found = run(&w);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "resources.no-limits");
        assert!(found[0].message.contains("no cpu or memory limit"));
        assert!(
            found[0]
                .hint
                .ends_with("--cpu-limit 500m --memory-limit 512Mi"),
            "{}",
            found[0].hint
        );
    }

    #[test]
    fn unserved_metrics_are_said_plainly() {
        let mut w = World::new().component("gw", "gateway-proxy", 1, 1);
        w.f.pod_metrics = Availability::Unavailable(
            "list pods.metrics.k8s.io: 404 Not Found: not served by this cluster".into(),
        );
        let found = run(&w);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "metrics.unavailable");
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0].message.contains("404 Not Found"));
    }
}
