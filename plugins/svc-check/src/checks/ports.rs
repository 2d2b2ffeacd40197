//! Port checks: each Service port's targetPort (number or name) resolved against the matched
//! pods' containers as the EndpointSlice controller does (`FindPort`: a name must match a
//! container port's name and protocol); numbers no container declares; protocol mismatches;
//! nodePorts outside the default range.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use runbook::Finding;
use serde::Serialize;

use super::{list_names, owners_of, pod_name, service_subject, template_of};
use crate::catalog;
use crate::index::ServiceView;

/// The default `--service-node-port-range` of the API server.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<i32> = 30000..=32767;

/// One Service port and where it lands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortReport {
    /// The port's name (may be empty for a single-port Service).
    pub name: String,
    /// The Service port.
    pub port: i32,
    /// TCP, UDP or SCTP.
    pub protocol: String,
    /// The targetPort as written (number or name).
    pub target_port: String,
    /// The nodePort, for NodePort and LoadBalancer Services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
    /// Where the matched pods take it: `container:port/protocol`, distinct.
    pub resolved: Vec<String>,
}

/// What a targetPort is, once defaulted: a number or a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A port number on the pod.
    Number(i32),
    /// A container port name.
    Name(String),
}

impl Target {
    /// The targetPort of `port` (defaults to the port itself).
    pub fn of(port: &ServicePort) -> Target {
        match &port.target_port {
            Some(IntOrString::Int(n)) => Target::Number(*n),
            Some(IntOrString::String(s)) => match s.parse::<i32>() {
                Ok(n) => Target::Number(n),
                Err(_) => Target::Name(s.clone()),
            },
            None => Target::Number(port.port),
        }
    }

    fn shown(&self) -> String {
        match self {
            Target::Number(n) => n.to_string(),
            Target::Name(s) => s.clone(),
        }
    }
}

/// The protocol of a Service or container port (`TCP` when unset).
pub fn protocol(p: Option<&String>) -> &str {
    p.map(String::as_str).unwrap_or("TCP")
}

/// The containers whose ports the EndpointSlice controller considers: regular containers and
/// restartable (sidecar) init containers.
pub fn serving_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = pod.spec.as_ref();
    let regular = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let sidecars = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    regular.iter().chain(sidecars)
}

fn ports_of(c: &Container) -> &[ContainerPort] {
    c.ports.as_deref().unwrap_or_default()
}

/// The container and port a pod gives `target` for protocol `proto`, as `FindPort` does: a
/// name must match name and protocol; a number is taken as is (the container port that
/// declares it, if any, is returned for display).
pub fn resolve<'p>(pod: &'p Pod, target: &Target, proto: &str) -> Option<(&'p str, i32)> {
    match target {
        Target::Name(name) => serving_containers(pod).find_map(|c| {
            ports_of(c)
                .iter()
                .find(|p| p.name.as_deref() == Some(name) && protocol(p.protocol.as_ref()) == proto)
                .map(|p| (c.name.as_str(), p.container_port))
        }),
        Target::Number(n) => serving_containers(pod).find_map(|c| {
            ports_of(c)
                .iter()
                .find(|p| p.container_port == *n && protocol(p.protocol.as_ref()) == proto)
                .map(|p| (c.name.as_str(), p.container_port))
        }),
    }
}

/// The port number `pod` serves `port` on, if it can be known (for `--probe`).
pub fn pod_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match Target::of(port) {
        Target::Number(n) => Some(n),
        target @ Target::Name(_) => {
            resolve(pod, &target, protocol(port.protocol.as_ref())).map(|(_, n)| n)
        }
    }
}

/// Every declared container port of `pods`, as `container:port/PROTO[(name)]`, distinct.
fn declared(pods: &[&Pod]) -> Vec<String> {
    let set: BTreeSet<String> = pods
        .iter()
        .flat_map(|p| serving_containers(p))
        .flat_map(|c| {
            ports_of(c).iter().map(move |p| {
                let name = p
                    .name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                format!(
                    "{}:{}/{}{name}",
                    c.name,
                    p.container_port,
                    protocol(p.protocol.as_ref())
                )
            })
        })
        .collect();
    set.into_iter().collect()
}

/// The ports of the Service with their resolution, and the port findings.
pub fn check(view: &ServiceView) -> (Vec<PortReport>, Vec<Finding>) {
    let spec = view.service.spec.as_ref();
    let ports = spec.and_then(|s| s.ports.as_deref()).unwrap_or_default();
    let external_name = spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName");
    let mut reports = Vec::new();
    let mut findings = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let target = Target::of(port);
        let proto = protocol(port.protocol.as_ref());
        let resolved: BTreeSet<String> = view
            .pods
            .iter()
            .filter_map(|p| resolve(p, &target, proto))
            .map(|(c, n)| format!("{c}:{n}/{proto}"))
            .collect();
        let report = PortReport {
            name: port.name.clone().unwrap_or_default(),
            port: port.port,
            protocol: proto.to_string(),
            target_port: target.shown(),
            node_port: port.node_port,
            resolved: resolved.into_iter().collect(),
        };
        if let Some(np) = port.node_port
            && !NODE_PORT_RANGE.contains(&np)
        {
            findings.push(Finding::warning(
                catalog::NODE_PORT_RANGE,
                service_subject(view),
                format!("{} has nodePort {np}, outside the default range 30000-32767", describe(port)),
                "make sure the API server's --service-node-port-range and the node firewalls allow it, or remove nodePort to get one from the range",
            ));
        }
        if !external_name && !view.pods.is_empty() {
            findings.extend(check_target(view, index, port, &target, proto));
        }
        reports.push(report);
    }
    (reports, findings)
}

fn describe(port: &ServicePort) -> String {
    match port.name.as_deref() {
        Some(n) if !n.is_empty() => format!(
            "port {n} ({}/{})",
            port.port,
            protocol(port.protocol.as_ref())
        ),
        _ => format!("port {}/{}", port.port, protocol(port.protocol.as_ref())),
    }
}

fn patch_target(view: &ServiceView, index: usize, value: &str) -> String {
    format!(
        "kubectl patch service/{} -n {} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/ports/{index}/targetPort\",\"value\":{value}}}]'",
        view.name, view.namespace
    )
}

fn check_target(
    view: &ServiceView,
    index: usize,
    port: &ServicePort,
    target: &Target,
    proto: &str,
) -> Vec<Finding> {
    let unresolved: Vec<&Pod> = view
        .pods
        .iter()
        .copied()
        .filter(|p| resolve(p, target, proto).is_none())
        .collect();
    if unresolved.is_empty() {
        return Vec::new();
    }
    let subject = service_subject(view);
    let declared = declared(&unresolved);
    let declared_text = if declared.is_empty() {
        "their containers declare no port".to_string()
    } else {
        format!("they declare {}", declared.join(", "))
    };
    let owners = owners_of(unresolved.iter().copied());
    let all = unresolved.len() == view.pods.len();
    let which = if all {
        format!("any of the {} matched pod(s)", view.pods.len())
    } else {
        format!(
            "{} of {} matched pods ({})",
            unresolved.len(),
            view.pods.len(),
            list_names(
                &unresolved.iter().map(|p| pod_name(p)).collect::<Vec<_>>(),
                3
            )
        )
    };
    // A container port with the right name or number but another protocol.
    let other_protocol = unresolved
        .iter()
        .flat_map(|p| serving_containers(p))
        .flat_map(|c| ports_of(c).iter())
        .find(|p| {
            let same_port = match target {
                Target::Name(n) => p.name.as_deref() == Some(n.as_str()),
                Target::Number(n) => p.container_port == *n,
            };
            same_port && protocol(p.protocol.as_ref()) != proto
        });
    if let Some(p) = other_protocol {
        let theirs = protocol(p.protocol.as_ref());
        let effect = match target {
            Target::Name(_) => "the name does not resolve, so the port gets no endpoints",
            Target::Number(_) => "traffic arrives on a protocol the container does not declare",
        };
        let message = format!(
            "{} targets {} over {proto} but the container declares it over {theirs} in {which}: {effect}",
            describe(port),
            target.shown()
        );
        let hint = format!(
            "set the Service port's protocol to {theirs}, or declare the port as {proto} in {}",
            template_of(&owners)
        );
        let severity_named = matches!(target, Target::Name(_)) && all;
        return vec![if severity_named {
            Finding::critical(catalog::PROTOCOL_MISMATCH, subject, message, hint)
        } else {
            Finding::warning(catalog::PROTOCOL_MISMATCH, subject, message, hint)
        }];
    }
    let candidates: Vec<i32> = unresolved
        .iter()
        .flat_map(|p| serving_containers(p))
        .flat_map(|c| ports_of(c).iter())
        .filter(|p| protocol(p.protocol.as_ref()) == proto)
        .map(|p| p.container_port)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let change = match candidates.as_slice() {
        [only] => format!(
            "set targetPort to {only}: {}",
            patch_target(view, index, &only.to_string())
        ),
        _ => "set targetPort to a port the container declares".to_string(),
    };
    match target {
        Target::Name(name) => {
            let message = format!(
                "{} targets the port named {name:?}, which no container declares in {which} ({declared_text}): that port gets no endpoints",
                describe(port)
            );
            let hint = format!(
                "{change}, or name the container port {name:?} in {}",
                template_of(&owners)
            );
            vec![if all {
                Finding::critical(catalog::TARGET_PORT_UNKNOWN_NAME, subject, message, hint)
            } else {
                Finding::warning(catalog::TARGET_PORT_UNKNOWN_NAME, subject, message, hint)
            }]
        }
        Target::Number(n) => vec![Finding::warning(
            catalog::TARGET_PORT_UNDECLARED,
            subject,
            format!(
                "{} targets port {n}, which no container declares in {which} ({declared_text}); the app may still listen on it",
                describe(port)
            ),
            format!(
                "{change}, or declare containerPort {n} in {}; kubectl svc-check {} -n {} --probe tells whether it listens",
                template_of(&owners),
                view.name,
                view.namespace
            ),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;
    use crate::index::tests::{fetched, pod};
    use serde_json::{Value, json};

    fn run(ports: Value, pods: Vec<Value>) -> (Vec<PortReport>, Vec<Finding>) {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}, "ports": ports}});
        let f = fetched(vec![svc], pods, vec![], vec![]);
        let idx = Index::build(&f);
        check(&idx.view(&f.services[0]))
    }

    fn web() -> Value {
        pod("a", "web-1", json!({"app": "web"}))
    }

    #[test]
    fn declared_number_and_name_resolve() {
        let (reports, findings) = run(
            json!([{"name": "h", "port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8080}]),
            vec![web()],
        );
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(reports[0].resolved, ["app:8080/TCP"]);
        assert_eq!(reports[1].target_port, "8080");
    }

    #[test]
    fn undeclared_number_warns_with_the_declared_port() {
        let (_, findings) = run(json!([{"port": 80, "targetPort": 9090}]), vec![web()]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].check, catalog::TARGET_PORT_UNDECLARED);
        assert_eq!(findings[0].severity, runbook::Severity::Warning);
        assert!(
            findings[0].message.contains("app:8080/TCP (http)"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[0]
                .hint
                .contains(r#""path":"/spec/ports/0/targetPort","value":8080"#),
            "{}",
            findings[0].hint
        );
    }

    #[test]
    fn unknown_name_is_critical_when_no_pod_resolves_it() {
        let (_, findings) = run(json!([{"port": 80, "targetPort": "web"}]), vec![web()]);
        assert_eq!(findings[0].check, catalog::TARGET_PORT_UNKNOWN_NAME);
        assert_eq!(findings[0].severity, runbook::Severity::Critical);
    }

    #[test]
    fn protocol_mismatch_on_a_named_port_is_critical() {
        let (_, findings) = run(
            json!([{"port": 53, "targetPort": "http", "protocol": "UDP"}]),
            vec![web()],
        );
        assert_eq!(findings[0].check, catalog::PROTOCOL_MISMATCH);
        assert_eq!(findings[0].severity, runbook::Severity::Critical);
        let (_, findings) = run(
            json!([{"port": 53, "targetPort": 8080, "protocol": "UDP"}]),
            vec![web()],
        );
        assert_eq!(findings[0].severity, runbook::Severity::Warning);
    }

    #[test]
    fn node_port_outside_the_range_and_no_pods_no_port_findings() {
        let (reports, findings) = run(json!([{"port": 80, "nodePort": 8080}]), vec![]);
        assert_eq!(reports[0].node_port, Some(8080));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].check, catalog::NODE_PORT_RANGE);
    }

    #[test]
    fn pod_port_resolves_names_for_probing() {
        let f = fetched(vec![], vec![web()], vec![], vec![]);
        let port: ServicePort =
            serde_json::from_value(json!({"port": 80, "targetPort": "http"})).unwrap();
        assert_eq!(pod_port(&f.pods[0], &port), Some(8080));
        let port: ServicePort = serde_json::from_value(json!({"port": 80})).unwrap();
        assert_eq!(pod_port(&f.pods[0], &port), Some(80));
    }
}
