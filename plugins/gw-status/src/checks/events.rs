//! Warning events of the components, merged with counts: failing probes get their own finding
//! (runbook 000's Liveness/Readiness failures); other warnings not already explained by a pod
//! finding are reported as they are.

use runbook::Finding;
use runbook::events::EventSummary;

use crate::fetch::Fetched;
use crate::hints;
use crate::view::{ComponentView, GatewayView};

/// Reasons whose meaning a pod or replica check already reports with a better hint.
const EXPLAINED_ELSEWHERE: &[&str] = &[
    "BackOff",
    "FailedScheduling",
    "Evicted",
    "OOMKilling",
    "Unhealthy",
    "Failed",
    "ProgressDeadlineExceeded",
];

/// Probe and warning-event findings of every component.
pub fn check(gw: &GatewayView<'_>, _f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &gw.components {
        out.extend(probes(c));
        out.extend(
            c.events
                .iter()
                .filter(|e| e.is_warning() && !EXPLAINED_ELSEWHERE.contains(&e.reason.as_str()))
                .map(|e| {
                    Finding::warning(
                        "events.warning",
                        e.subject.clone(),
                        format!("{} (x{}): {}", e.reason, e.count, e.message),
                        format!(
                            "kubectl describe {} -n {} {}",
                            e.kind.to_lowercase(),
                            c.namespace,
                            e.name
                        ),
                    )
                }),
        );
    }
    out
}

/// Which probe an Unhealthy event is about.
fn probe_kind(e: &EventSummary) -> Option<&'static str> {
    if e.reason != "Unhealthy" {
        return None;
    }
    ["Liveness", "Readiness", "Startup"]
        .into_iter()
        .find(|k| e.message.starts_with(k))
}

/// One finding per probe kind for the component, the counts of its pods' Unhealthy events
/// added up (three crash-looping replicas give one finding, not three).
fn probes(c: &ComponentView<'_>) -> Vec<Finding> {
    let mut grouped: Vec<(&'static str, i32, Vec<&str>, &EventSummary)> = Vec::new();
    for e in &c.events {
        let Some(kind) = probe_kind(e) else { continue };
        match grouped.iter_mut().find(|(k, ..)| *k == kind) {
            Some((_, count, pods, _)) => {
                *count += e.count;
                if !pods.contains(&e.name.as_str()) {
                    pods.push(&e.name);
                }
            }
            None => grouped.push((kind, e.count, vec![e.name.as_str()], e)),
        }
    }
    grouped
        .into_iter()
        .map(|(kind, count, pods, latest)| {
            let effect = match kind {
                "Liveness" => "the kubelet kills and restarts the container",
                "Readiness" => "the pods are taken out of their Services",
                _ => "the container never finishes starting",
            };
            Finding::warning(
                "probe.failing",
                c.subject(),
                format!(
                    "{kind} probe failed {count} times on {} pod(s) ({}): {effect}",
                    pods.len(),
                    latest.message.trim_start_matches(&format!("{kind} probe failed: "))
                ),
                format!(
                    "probes time out under load: give it CPU ({}) or raise the probe's timeoutSeconds/failureThreshold",
                    hints::resize(c, None, "--cpu +500m")
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{World, warning_event};
    use crate::profiles::generic;
    use crate::view::join;

    #[test]
    fn unhealthy_events_become_one_probe_finding_per_kind() {
        let w = World::new()
            .component("gw", "gateway-proxy", 2, 0)
            .event(warning_event("gw", "Pod", "gateway-proxy-abc-0", "Unhealthy",
                "Liveness probe failed: Get \"http://10.0.0.10:8080/healthz\": context deadline exceeded", 5))
            .event(warning_event("gw", "Pod", "gateway-proxy-abc-0", "Unhealthy",
                "Liveness probe failed: HTTP probe failed with statuscode: 503", 2))
            .event(warning_event("gw", "Pod", "gateway-proxy-abc-0", "Unhealthy",
                "Readiness probe failed: connection refused", 3))
            .event(warning_event("gw", "Pod", "gateway-proxy-abc-1", "Unhealthy",
                "Readiness probe failed: connection refused", 4))
            .event(warning_event("gw", "Pod", "gateway-proxy-abc-0", "BackOff",
                "Back-off restarting failed container", 9))
            .event(warning_event("gw", "Pod", "gateway-proxy-abc-0", "FailedMount",
                "MountVolume.SetUp failed for volume \"certs\": secret \"gw-tls\" not found", 4))
            .event(warning_event("other", "Pod", "web-1", "FailedMount", "not ours", 1));
        let p = generic("gateway-proxy", "gw");
        let found = check(&join(&w.f, &p, "gw"), &w.f);
        let summary: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.message.split(':').next().unwrap()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "probe.failing",
                    "Liveness probe failed 7 times on 1 pod(s) (Get \"http"
                ),
                (
                    "probe.failing",
                    "Readiness probe failed 7 times on 2 pod(s) (connection refused)"
                ),
                ("events.warning", "FailedMount (x4)"),
            ],
            "{found:#?}"
        );
    }
}
