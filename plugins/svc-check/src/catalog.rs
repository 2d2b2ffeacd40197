//! Every check id svc-check can report, with its worst severity and what it means.

use runbook::findings::{CheckInfo, Severity};

/// The selector matches no (running) pod: requests hang until they time out.
pub const NO_PODS: &str = "svc.no-pods";
/// No pod matches, but some carry labels one typo away from the selector.
pub const SELECTOR_TYPO: &str = "svc.selector-typo";
/// No pod matches, but some carry the selector's labels with another value or without one key.
pub const SELECTOR_MISMATCH: &str = "svc.selector-mismatch";
/// No selector and no manual Endpoints/EndpointSlices: nothing to route to.
pub const NO_SELECTOR_NO_ENDPOINTS: &str = "svc.no-selector-no-endpoints";
/// Pods match but no endpoint is ready.
pub const NO_READY_ENDPOINTS: &str = "svc.no-ready-endpoints";
/// A matched pod is not ready, with the reason.
pub const NOT_READY_PODS: &str = "svc.not-ready-pods";
/// A named targetPort that no matched pod's container declares.
pub const TARGET_PORT_UNKNOWN_NAME: &str = "svc.target-port-unknown-name";
/// A numeric targetPort that no container declares (it may still listen).
pub const TARGET_PORT_UNDECLARED: &str = "svc.target-port-undeclared";
/// The Service port's protocol differs from the container port's.
pub const PROTOCOL_MISMATCH: &str = "svc.protocol-mismatch";
/// A nodePort outside the default node port range.
pub const NODE_PORT_RANGE: &str = "svc.node-port-range";
/// Matched pods without a readinessProbe get traffic before they are ready.
pub const NO_READINESS_PROBE: &str = "svc.no-readiness-probe";
/// exec probes fork a process in the container at every period.
pub const EXEC_PROBE: &str = "svc.exec-probe";
/// publishNotReadyAddresses sends traffic to pods that are not ready.
pub const PUBLISH_NOT_READY: &str = "svc.publish-not-ready";
/// A headless Service: DNS returns every pod, no load balancing.
pub const HEADLESS: &str = "svc.headless";
/// A LoadBalancer Service without an ingress IP or hostname (`<pending>`).
pub const LB_PENDING: &str = "svc.lb-pending";
/// Two LoadBalancer Services share an ingress address and a port.
pub const LB_SHARED_PORT: &str = "svc.lb-shared-port";
/// An ExternalName Service: a DNS CNAME, no proxying, no endpoints.
pub const EXTERNALNAME: &str = "svc.externalname";
/// externalTrafficPolicy Local with nodes that have no local endpoint.
pub const LOCAL_POLICY_NO_ENDPOINTS: &str = "svc.local-policy-no-endpoints";
/// sessionAffinity ClientIP pins each client to one pod.
pub const SESSION_AFFINITY: &str = "svc.session-affinity";
/// `--probe`: the backing pod refused the connection on the target port.
pub const PROBE_REFUSED: &str = "svc.probe-refused";
/// `--probe`: the connection to the backing pod timed out.
pub const PROBE_TIMEOUT: &str = "svc.probe-timeout";
/// `--probe`: the port-forward could not be opened, so nothing was learnt.
pub const PROBE_FAILED: &str = "svc.probe-failed";

/// The catalog the README lists.
pub const CHECKS: &[CheckInfo] = &[
    check(
        NO_PODS,
        Severity::Critical,
        "the selector matches no running pod: requests hang until they time out",
    ),
    check(
        SELECTOR_TYPO,
        Severity::Critical,
        "no pod matches, but pods carry a label one typo away from the selector",
    ),
    check(
        SELECTOR_MISMATCH,
        Severity::Critical,
        "no pod matches, but pods carry the selector's labels with another value or without one key",
    ),
    check(
        NO_SELECTOR_NO_ENDPOINTS,
        Severity::Critical,
        "no selector and no manual Endpoints or EndpointSlices: nothing to route to",
    ),
    check(
        NO_READY_ENDPOINTS,
        Severity::Critical,
        "pods match but none is a ready endpoint: connections are refused",
    ),
    check(
        NOT_READY_PODS,
        Severity::Warning,
        "a matched pod is not ready (reason from its conditions, containers and probe events)",
    ),
    check(
        TARGET_PORT_UNKNOWN_NAME,
        Severity::Critical,
        "a named targetPort that no matched pod's container declares: the port gets no endpoints",
    ),
    check(
        TARGET_PORT_UNDECLARED,
        Severity::Warning,
        "a numeric targetPort that no container declares (the app may still listen on it)",
    ),
    check(
        PROTOCOL_MISMATCH,
        Severity::Critical,
        "the Service port's protocol differs from the container port's (a named targetPort then resolves nowhere)",
    ),
    check(
        NODE_PORT_RANGE,
        Severity::Warning,
        "a nodePort outside the default range 30000-32767",
    ),
    check(
        NO_READINESS_PROBE,
        Severity::Warning,
        "matched pods without a readinessProbe get traffic before they are ready (connection refused)",
    ),
    check(
        EXEC_PROBE,
        Severity::Info,
        "exec probes fork a process at every period; busy nodes fail them (prefer tcpSocket/httpGet)",
    ),
    check(
        PUBLISH_NOT_READY,
        Severity::Info,
        "publishNotReadyAddresses sends traffic to pods that are not ready",
    ),
    check(
        HEADLESS,
        Severity::Warning,
        "headless Service: DNS returns every pod and clients use one, no load balancing",
    ),
    check(
        LB_PENDING,
        Severity::Critical,
        "LoadBalancer without an external address (<pending>), with the service controller's events",
    ),
    check(
        LB_SHARED_PORT,
        Severity::Critical,
        "two LoadBalancer Services share an external address and a port: traffic goes to either",
    ),
    check(
        EXTERNALNAME,
        Severity::Warning,
        "ExternalName Service: a DNS CNAME to another name, no proxying and no endpoints",
    ),
    check(
        LOCAL_POLICY_NO_ENDPOINTS,
        Severity::Warning,
        "externalTrafficPolicy Local: nodes without a local ready endpoint drop the traffic",
    ),
    check(
        SESSION_AFFINITY,
        Severity::Info,
        "sessionAffinity ClientIP pins each client to one pod: load looks unbalanced",
    ),
    check(
        PROBE_REFUSED,
        Severity::Critical,
        "--probe: the pod refused a connection on the target port: the app does not listen",
    ),
    check(
        PROBE_TIMEOUT,
        Severity::Critical,
        "--probe: no answer from the pod on the target port within the timeout",
    ),
    check(
        PROBE_FAILED,
        Severity::Info,
        "--probe: the port-forward could not be opened, so the port was not tried",
    ),
];

const fn check(id: &'static str, severity: Severity, summary: &'static str) -> CheckInfo {
    CheckInfo {
        id,
        severity,
        summary,
    }
}

/// True when `id` is in the catalog.
pub fn is_known(id: &str) -> bool {
    CHECKS.iter().any(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
        for id in ids {
            let (area, what) = id.split_once('.').expect("area.what");
            assert_eq!(area, "svc");
            assert!(
                what.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
    }
}
