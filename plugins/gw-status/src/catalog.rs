//! Every check id gw-status can report, with its worst severity and what it means.

use runbook::Severity::{Critical, Info, Warning};
use runbook::findings::CheckInfo;

const fn info(id: &'static str, severity: runbook::Severity, summary: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        severity,
        summary,
    }
}

/// The catalog (the README lists it).
pub const CHECKS: &[CheckInfo] = &[
    info(
        "component.missing",
        Critical,
        "a Deployment of the profile does not exist in the namespace (the hint names where it runs)",
    ),
    info(
        "replicas.unavailable",
        Critical,
        "fewer replicas available than desired; none available (or scaled to 0) is critical",
    ),
    info(
        "rollout.stuck",
        Critical,
        "rollout failed (ProgressDeadlineExceeded), cannot create pods (ReplicaFailure), or is paused",
    ),
    info(
        "pod.crashloop",
        Critical,
        "a container is in CrashLoopBackOff (last exit code and reason)",
    ),
    info(
        "pod.oomkilled",
        Critical,
        "a container was OOMKilled, with its memory limit and live usage",
    ),
    info(
        "pod.image-pull",
        Critical,
        "a container cannot pull its image (ImagePullBackOff, ErrImagePull)",
    ),
    info(
        "pod.start-failed",
        Critical,
        "a container cannot start (CreateContainerConfigError and similar)",
    ),
    info(
        "pod.pending",
        Critical,
        "a pod cannot be scheduled: the scheduler's reasons per node count, taints linked to the nodes",
    ),
    info(
        "pod.evicted",
        Warning,
        "a pod was evicted by the kubelet (node short of memory or disk)",
    ),
    info(
        "pod.restarts",
        Warning,
        "a running container restarted 3 times or more",
    ),
    info(
        "pod.not-ready",
        Warning,
        "a pod is Running but not Ready: Services send it no traffic",
    ),
    info(
        "probe.failing",
        Warning,
        "liveness, readiness or startup probe failures (Unhealthy events, counted)",
    ),
    info(
        "events.warning",
        Warning,
        "other Warning events about the component, deduplicated with counts",
    ),
    info(
        "resources.no-limits",
        Warning,
        "a container has no CPU or memory limit (runbook 001 follow-up)",
    ),
    info(
        "resources.memory-near-limit",
        Critical,
        "memory use at 80% (warning) or 90% (critical) of the limit",
    ),
    info(
        "resources.cpu-throttle-risk",
        Warning,
        "CPU use at 90% of the limit: throttled, probes may time out",
    ),
    info(
        "metrics.unavailable",
        Info,
        "metrics.k8s.io is not served (404/503/403): live usage is not shown",
    ),
    info(
        "svc.no-endpoints",
        Critical,
        "a Service of the gateway has no ready endpoints: connections are refused",
    ),
    info(
        "svc.missing",
        Critical,
        "a Service the profile expects does not exist",
    ),
    info(
        "svc.port-missing",
        Warning,
        "a Service the profile expects lacks one of its fixed ports",
    ),
    info(
        "webhook.no-endpoints",
        Critical,
        "an admission webhook's Service has no ready endpoints; failurePolicy Fail is critical (creates rejected), Ignore a warning (fails open)",
    ),
    info(
        "placement.same-node",
        Warning,
        "every replica of a component, or components meant to be apart, on one node",
    ),
    info(
        "node.not-ready",
        Critical,
        "a node hosting the gateway is not Ready (reason and message, PLEG included) or is gone",
    ),
    info(
        "node.pressure",
        Critical,
        "a node hosting the gateway reports Memory, Disk or PID pressure",
    ),
    info(
        "node.cpu-saturated",
        Critical,
        "a node hosting the gateway uses 80% (warning) or 90% (critical) of its allocatable CPU",
    ),
    info(
        "node.memory-saturated",
        Critical,
        "a node hosting the gateway uses 80% (warning) or 90% (critical) of its allocatable memory",
    ),
    info(
        "node.cordoned",
        Info,
        "a node hosting the gateway is cordoned",
    ),
    info(
        "posture.single-replica",
        Warning,
        "a control-plane or data-plane component runs one replica",
    ),
    info(
        "posture.no-pdb",
        Warning,
        "no PodDisruptionBudget covers the component",
    ),
    info(
        "posture.no-anti-affinity",
        Warning,
        "several replicas without pod anti-affinity or topology spread",
    ),
    info(
        "posture.noisy-neighbour",
        Warning,
        "business pods without limits share a node with the gateway",
    ),
    info(
        "gatewayclass.missing",
        Critical,
        "the profile's GatewayClass (or the Gateway API itself) is missing",
    ),
    info(
        "gatewayclass.wrong-controller",
        Critical,
        "the GatewayClass names another controllerName",
    ),
    info(
        "gatewayclass.not-accepted",
        Critical,
        "the GatewayClass is Accepted=False (critical) or has no status yet (warning)",
    ),
    info(
        "gateway.not-accepted",
        Critical,
        "a Gateway of the class is Accepted=False",
    ),
    info(
        "gateway.not-programmed",
        Critical,
        "a Gateway of the class is Programmed=False (critical) or unreconciled (warning)",
    ),
    info(
        "listener.not-accepted",
        Critical,
        "a listener is Accepted=False",
    ),
    info(
        "listener.not-programmed",
        Critical,
        "a listener is Programmed=False",
    ),
    info(
        "listener.refs-unresolved",
        Critical,
        "a listener is ResolvedRefs=False (certificate Secret missing, ...)",
    ),
    info(
        "listener.conflicted",
        Critical,
        "a listener is Conflicted=True (port/hostname clash)",
    ),
    info(
        "httproute.parent-not-accepted",
        Critical,
        "an HTTPRoute is not accepted by its Gateway (critical) or has no status for it (warning)",
    ),
    info(
        "httproute.backend-unresolved",
        Critical,
        "an HTTPRoute backendRef does not resolve (ResolvedRefs=False, Service or port missing)",
    ),
    info(
        "httproute.backend-no-endpoints",
        Warning,
        "an HTTPRoute backend Service has no ready endpoints (503s)",
    ),
    info(
        "logs.errors",
        Critical,
        "--logs: failure signatures in recent log lines (xDS stream closed, CSR failed, connection refused with the Service named, webhook failures...)",
    ),
    info(
        "logs.unavailable",
        Info,
        "--logs: a container's log could not be read",
    ),
    info(
        "probe.endpoint-failed",
        Critical,
        "--probe: an admin endpoint (/livez, /readyz) did not answer 2xx",
    ),
    info(
        "probe.not-proxied",
        Info,
        "--probe: the API server would not proxy to the endpoint (403, or no services/proxy); the hint gives the port-forward",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate ids");
        for id in ids {
            let (area, what) = id.split_once('.').expect("area.what");
            assert!(!area.is_empty() && !what.is_empty());
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-'),
                "{id}"
            );
        }
    }

    /// Every id a check emits, found by reading the sources: each must be in the catalog.
    #[test]
    fn every_emitted_id_is_in_the_catalog() {
        let sources = [
            include_str!("checks/replicas.rs"),
            include_str!("checks/pods.rs"),
            include_str!("checks/resources.rs"),
            include_str!("checks/events.rs"),
            include_str!("checks/dependencies.rs"),
            include_str!("checks/placement.rs"),
            include_str!("checks/posture.rs"),
            include_str!("checks/gateway_api.rs"),
            include_str!("checks/logs.rs"),
            include_str!("checks/probe.rs"),
        ];
        let mut found = 0;
        for src in sources {
            for (i, _) in src.match_indices('"') {
                let rest = &src[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let lit = &rest[..end];
                let looks_like_id = lit.split_once('.').is_some_and(|(a, w)| {
                    [
                        "component",
                        "replicas",
                        "rollout",
                        "pod",
                        "probe",
                        "events",
                        "resources",
                        "metrics",
                        "svc",
                        "webhook",
                        "placement",
                        "node",
                        "posture",
                        "gatewayclass",
                        "gateway",
                        "listener",
                        "httproute",
                        "logs",
                    ]
                    .contains(&a)
                        && !w.is_empty()
                        && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                });
                if looks_like_id {
                    found += 1;
                    assert!(
                        CHECKS.iter().any(|c| c.id == lit),
                        "{lit} is emitted but not in the catalog"
                    );
                }
            }
        }
        assert!(found > 40, "the scan found only {found} ids");
    }
}
