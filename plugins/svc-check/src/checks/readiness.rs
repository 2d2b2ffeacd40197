//! Readiness checks: matched pods whose serving containers have no readinessProbe (traffic
//! reaches them before they are ready, runbook 6.4.2), exec probes (runbook 003: prefer
//! tcpSocket/httpGet under load), and publishNotReadyAddresses.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use runbook::Finding;

use super::ports::{Target, protocol, resolve, serving_containers};
use super::{owners_of, service_subject, template_of};
use crate::catalog;
use crate::index::ServiceView;

/// The containers of `pod` that serve the Service: those that resolve one of its target ports,
/// or every serving container when none does.
fn serving<'p>(pod: &'p Pod, view: &ServiceView) -> Vec<&'p Container> {
    let ports = view
        .service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    let names: BTreeSet<&str> = ports
        .iter()
        .filter_map(|p| resolve(pod, &Target::of(p), protocol(p.protocol.as_ref())).map(|(c, _)| c))
        .collect();
    let all: Vec<&Container> = serving_containers(pod).collect();
    if names.is_empty() {
        all
    } else {
        all.into_iter()
            .filter(|c| names.contains(c.name.as_str()))
            .collect()
    }
}

/// The first target port number the pod serves, for the probe suggested in hints.
fn first_port(pod: &Pod, view: &ServiceView) -> Option<i32> {
    let ports = view
        .service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    ports.iter().find_map(|p| super::ports::pod_port(pod, p))
}

/// The readiness checks of one Service.
pub fn check(view: &ServiceView) -> Vec<Finding> {
    let mut findings = Vec::new();
    let spec = view.service.spec.as_ref();
    if spec.and_then(|s| s.publish_not_ready_addresses) == Some(true) && !view.pods.is_empty() {
        findings.push(Finding::info(
            catalog::PUBLISH_NOT_READY,
            service_subject(view),
            "publishNotReadyAddresses is true: pods get traffic (and DNS records) before their readinessProbe passes",
            "keep it only for peer discovery (StatefulSet clusters); remove it for client traffic",
        ));
    }
    findings.extend(missing_probes(view));
    findings.extend(exec_probes(view));
    findings
}

fn missing_probes(view: &ServiceView) -> Option<Finding> {
    let mut containers = BTreeSet::new();
    let mut pods = Vec::new();
    for pod in &view.pods {
        let missing: Vec<&str> = serving(pod, view)
            .into_iter()
            .filter(|c| c.readiness_probe.is_none())
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            containers.extend(missing);
            pods.push(*pod);
        }
    }
    let first = pods.first()?;
    let owners = owners_of(pods.iter().copied());
    let port = first_port(first, view).map_or_else(|| "PORT".to_string(), |p| p.to_string());
    let containers: Vec<&str> = containers.into_iter().collect();
    Some(Finding::warning(
        catalog::NO_READINESS_PROBE,
        service_subject(view),
        format!(
            "{} of {} matched pod(s) have no readinessProbe on container {}: they get traffic as soon as they start, so clients see connection refused while the app starts or stalls",
            pods.len(),
            view.pods.len(),
            containers.join(", ")
        ),
        format!(
            "add to container {} in {}: readinessProbe: {{tcpSocket: {{port: {port}}}, periodSeconds: 5}} (or httpGet on a health path)",
            containers.join(", "),
            template_of(&owners)
        ),
    ))
}

/// `readiness every 5s` for an exec probe.
fn exec_probe(kind: &str, probe: Option<&Probe>) -> Option<String> {
    let p = probe?;
    p.exec.as_ref()?;
    Some(format!("{kind} every {}s", p.period_seconds.unwrap_or(10)))
}

fn exec_probes(view: &ServiceView) -> Option<Finding> {
    let mut seen = BTreeSet::new();
    let mut pods = Vec::new();
    for pod in &view.pods {
        let mut has = false;
        for c in serving(pod, view) {
            for probe in [
                exec_probe("readinessProbe", c.readiness_probe.as_ref()),
                exec_probe("livenessProbe", c.liveness_probe.as_ref()),
            ]
            .into_iter()
            .flatten()
            {
                seen.insert(format!("container {} {probe}", c.name));
                has = true;
            }
        }
        if has {
            pods.push(*pod);
        }
    }
    if pods.is_empty() {
        return None;
    }
    let timeouts = pods.iter().any(|p| {
        let name = super::pod_name(p);
        view.pod_events.get(name).into_iter().flatten().any(|e| {
            e.reason.as_deref() == Some("Unhealthy")
                && e.message
                    .as_deref()
                    .is_some_and(|m| m.contains("timed out") || m.contains("deadline exceeded"))
        })
    });
    let busy = if timeouts {
        "; probe timeouts were reported on these pods, a sign the node or pod is busy"
    } else {
        ""
    };
    let owners = owners_of(pods.iter().copied());
    Some(Finding::info(
        catalog::EXEC_PROBE,
        service_subject(view),
        format!(
            "{} matched pod(s) run exec probes ({}): each run starts a process in the container, and on a busy node exec probes time out and the pod flaps{busy}",
            pods.len(),
            seen.into_iter().collect::<Vec<_>>().join(", ")
        ),
        format!(
            "prefer tcpSocket or httpGet probes in {} (runbook 003)",
            template_of(&owners)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;
    use crate::index::tests::{fetched, pod};
    use serde_json::{Value, json};

    fn run(svc_spec: Value, pods: Vec<Value>, events: Vec<Value>) -> Vec<Finding> {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": svc_spec});
        let f = fetched(vec![svc], pods, vec![], events);
        let idx = Index::build(&f);
        check(&idx.view(&f.services[0]))
    }

    fn spec() -> Value {
        json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})
    }

    #[test]
    fn probe_present_is_quiet() {
        assert!(
            run(
                spec(),
                vec![pod("a", "web-1", json!({"app": "web"}))],
                vec![]
            )
            .is_empty()
        );
    }

    #[test]
    fn missing_probe_names_container_and_port() {
        let mut p = pod("a", "web-1", json!({"app": "web"}));
        p["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("readinessProbe");
        p["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "readinessProbe": {"exec": {"command": ["true"]}}}));
        let f = run(spec(), vec![p], vec![]);
        let missing = f
            .iter()
            .find(|f| f.check == catalog::NO_READINESS_PROBE)
            .expect("missing probe finding");
        assert!(
            missing
                .message
                .contains("1 of 1 matched pod(s) have no readinessProbe on container app"),
            "{}",
            missing.message
        );
        assert!(
            missing.hint.contains("tcpSocket: {port: 8080}"),
            "{}",
            missing.hint
        );
        assert!(
            f.iter().all(|f| f.check != catalog::EXEC_PROBE),
            "the sidecar does not serve the port"
        );
    }

    #[test]
    fn exec_probes_are_info_and_mention_timeouts() {
        let mut p = pod("a", "web-1", json!({"app": "web"}));
        p["spec"]["containers"][0]["readinessProbe"] =
            json!({"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 2});
        let ev = json!({"metadata": {"name": "e", "namespace": "a"}, "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "a"},
            "reason": "Unhealthy", "message": "Readiness probe errored: command timed out"});
        let f = run(spec(), vec![p], vec![ev]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, catalog::EXEC_PROBE);
        assert_eq!(f[0].severity, runbook::Severity::Info);
        assert!(f[0].message.contains("readinessProbe every 2s"));
        assert!(f[0].message.contains("busy"));
    }

    #[test]
    fn publish_not_ready_is_reported() {
        let mut s = spec();
        s["publishNotReadyAddresses"] = json!(true);
        let f = run(s, vec![pod("a", "web-1", json!({"app": "web"}))], vec![]);
        assert_eq!(f[0].check, catalog::PUBLISH_NOT_READY);
    }
}
