//! Checks that depend on the Service's type and traffic settings: headless Services (runbook
//! 6.4.3), LoadBalancers stuck `<pending>` (6.8.2), two LoadBalancers sharing an address and a
//! port (6.8.6), ExternalName, sessionAffinity, and externalTrafficPolicy Local.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Service;
use runbook::Finding;
use runbook::findings::subject;

use super::endpoints::{event_time, node_is_ready};
use super::{is_headless, kind_of, list_names, owners_of, service_subject};
use crate::catalog;
use crate::fetch::ingress_addresses;
use crate::index::ServiceView;

/// A LoadBalancer younger than this is still being provisioned (warning, not critical).
pub const LB_GRACE_SECONDS: i64 = 300;

/// The label that keeps a node out of external load balancers.
const EXCLUDE_FROM_LB: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// The type checks of one Service (the shared address check is [`shared_lb_ports`]).
pub fn check(view: &ServiceView, now: Timestamp) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(headless(view));
    findings.extend(lb_pending(view, now));
    findings.extend(external_name(view));
    findings.extend(session_affinity(view));
    findings.extend(local_policy(view));
    findings
}

fn headless(view: &ServiceView) -> Option<Finding> {
    if !is_headless(view.service) || kind_of(view.service) != "ClusterIP" {
        return None;
    }
    let owners = owners_of(view.pods.iter().copied());
    let stateful = owners.iter().any(|o| o.starts_with("statefulset/"));
    let subject = service_subject(view);
    let how = "DNS returns every pod IP and most clients use the first one: no load balancing (runbook 6.4.3)";
    if !stateful && view.pods.len() > 1 {
        let of = if owners.is_empty() {
            String::new()
        } else {
            format!(" of {}", owners.join(", "))
        };
        return Some(Finding::warning(
            catalog::HEADLESS,
            subject,
            format!(
                "headless (clusterIP: None) in front of {} pods{of}: {how}",
                view.pods.len()
            ),
            format!(
                "to balance, recreate it with a cluster IP (clusterIP is immutable): kubectl get service/{name} -n {ns} -o yaml > svc.yaml, delete the clusterIP and clusterIPs lines, kubectl replace --force -f svc.yaml",
                name = view.name,
                ns = view.namespace
            ),
        ));
    }
    Some(Finding::info(
        catalog::HEADLESS,
        subject,
        format!("headless (clusterIP: None): {how}; expected for a StatefulSet's peer discovery"),
        "",
    ))
}

fn lb_pending(view: &ServiceView, now: Timestamp) -> Option<Finding> {
    if kind_of(view.service) != "LoadBalancer" || !ingress_addresses(view.service).is_empty() {
        return None;
    }
    let created = view
        .service
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0);
    let age_secs = created.map(|c| now.as_second() - c.as_second());
    let age = created
        .map(|c| runbook_age(c, now))
        .unwrap_or_else(|| "an unknown time".to_string());
    let mut events = view.service_events.clone();
    events.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    let failed = events.iter().any(|e| e.type_.as_deref() == Some("Warning"));
    let class = view
        .service
        .spec
        .as_ref()
        .and_then(|s| s.load_balancer_class.as_deref());
    let controller = match class {
        Some(c) => format!("the controller of loadBalancerClass {c}"),
        None => "the cloud controller manager".to_string(),
    };
    let story = match events.first() {
        Some(e) => {
            let count = e.count.unwrap_or(1);
            let times = if count > 1 {
                format!(" (x{count})")
            } else {
                String::new()
            };
            let from = e
                .source
                .as_ref()
                .and_then(|s| s.component.clone())
                .or_else(|| e.reporting_component.clone())
                .unwrap_or_else(|| "?".into());
            format!(
                "latest event from {from}: {} {}{times}",
                e.reason.as_deref().unwrap_or_default(),
                e.message.as_deref().unwrap_or_default()
            )
        }
        None => format!("no event from {controller}: nothing is provisioning it"),
    };
    let message = format!("EXTERNAL-IP <pending> for {age}; {story}");
    let hint = format!(
        "check {controller}: kubectl get pods -n kube-system | grep cloud-controller; if its leader election is stuck, deleting the failing pod restarts it (runbook 6.8.2); kubectl describe service/{} -n {}",
        view.name, view.namespace
    );
    let young = age_secs.is_some_and(|s| s < LB_GRACE_SECONDS);
    Some(if young && !failed {
        Finding::warning(catalog::LB_PENDING, service_subject(view), message, hint)
    } else {
        Finding::critical(catalog::LB_PENDING, service_subject(view), message, hint)
    })
}

fn runbook_age(since: Timestamp, now: Timestamp) -> String {
    runbook::time::age(since, now)
}

fn external_name(view: &ServiceView) -> Option<Finding> {
    let spec = view.service.spec.as_ref()?;
    if spec.type_.as_deref() != Some("ExternalName") {
        return None;
    }
    let target = spec.external_name.as_deref().unwrap_or_default();
    let subject = service_subject(view);
    let problem = if target.is_empty() {
        Some("has no externalName".to_string())
    } else if target.parse::<IpAddr>().is_ok() {
        Some(format!(
            "points at the IP address {target}: DNS answers a CNAME to a name that does not resolve"
        ))
    } else if target.contains("://") || target.contains('/') || target.contains(':') {
        Some(format!(
            "points at {target:?}, which is not a DNS name (no scheme, path or port allowed)"
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return Some(Finding::warning(
            catalog::EXTERNALNAME,
            subject,
            format!("ExternalName Service {problem}"),
            "set externalName to a plain DNS name; for an IP use a selector-less Service with an EndpointSlice",
        ));
    }
    let ignored = if spec.selector.as_ref().is_some_and(|s| !s.is_empty()) {
        "; its selector is ignored"
    } else {
        ""
    };
    Some(Finding::info(
        catalog::EXTERNALNAME,
        subject,
        format!(
            "ExternalName: DNS answers a CNAME to {target}; no cluster IP, no endpoints, ports are not remapped{ignored}"
        ),
        format!(
            "check {target} resolves and answers from a pod; HTTP and TLS clients still send the Service's own name as Host/SNI"
        ),
    ))
}

fn session_affinity(view: &ServiceView) -> Option<Finding> {
    let spec = view.service.spec.as_ref()?;
    if spec.session_affinity.as_deref() != Some("ClientIP") {
        return None;
    }
    let timeout = spec
        .session_affinity_config
        .as_ref()
        .and_then(|c| c.client_ip.as_ref())
        .and_then(|c| c.timeout_seconds)
        .unwrap_or(10800);
    Some(Finding::info(
        catalog::SESSION_AFFINITY,
        service_subject(view),
        format!(
            "sessionAffinity ClientIP: each client IP sticks to one pod for {timeout}s, so a few clients (or one proxy) load one pod"
        ),
        "set sessionAffinity: None if the app keeps no per-client state",
    ))
}

fn local_policy(view: &ServiceView) -> Option<Finding> {
    let spec = view.service.spec.as_ref()?;
    let kind = kind_of(view.service);
    if spec.external_traffic_policy.as_deref() != Some("Local")
        || !matches!(kind, "NodePort" | "LoadBalancer")
    {
        return None;
    }
    let nodes = view.nodes?;
    let with_endpoint: BTreeSet<&str> = view
        .slices
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
        .filter_map(|e| e.node_name.as_deref())
        .collect();
    if with_endpoint.is_empty() {
        return None;
    }
    let eligible: Vec<&str> = nodes
        .iter()
        .filter(|n| node_is_ready(n))
        .filter(|n| {
            kind != "LoadBalancer"
                || !n
                    .metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(EXCLUDE_FROM_LB))
        })
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    let without: Vec<&str> = eligible
        .iter()
        .copied()
        .filter(|n| !with_endpoint.contains(n))
        .collect();
    if without.is_empty() {
        return None;
    }
    let message = format!(
        "externalTrafficPolicy Local: {} of {} ready nodes have no ready endpoint ({}): traffic that reaches them on the node port is dropped",
        without.len(),
        eligible.len(),
        list_names(&without, 5)
    );
    let hint = "run a pod on every node that receives traffic (a DaemonSet, or topologySpreadConstraints), or set externalTrafficPolicy: Cluster if the client source IP is not needed";
    let subject = service_subject(view);
    if kind != "LoadBalancer" {
        return Some(Finding::warning(
            catalog::LOCAL_POLICY_NO_ENDPOINTS,
            subject,
            message,
            hint,
        ));
    }
    let lb = "the load balancer's health check (healthCheckNodePort) keeps it off those nodes, but balances per node, not per pod";
    Some(if with_endpoint.len() == 1 {
        Finding::warning(
            catalog::LOCAL_POLICY_NO_ENDPOINTS,
            subject,
            format!(
                "{message}; {lb}, and every endpoint sits on one node: losing that node stops the Service"
            ),
            hint,
        )
    } else {
        Finding::info(
            catalog::LOCAL_POLICY_NO_ENDPOINTS,
            subject,
            format!("{message}; {lb}"),
            hint,
        )
    })
}

/// Two or more LoadBalancer Services with the same ingress address and the same port and
/// protocol: the balancer forwards that port to either (runbook 6.8.6). One finding per
/// Service involved, naming the others.
pub fn shared_lb_ports(load_balancers: &[Service]) -> Vec<Finding> {
    let mut by_listener: BTreeMap<(String, i32, String), Vec<String>> = BTreeMap::new();
    for svc in load_balancers {
        let name = subject(
            "service",
            svc.metadata.namespace.as_deref().unwrap_or_default(),
            svc.metadata.name.as_deref().unwrap_or_default(),
        );
        let ports = svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_deref())
            .unwrap_or_default();
        let addresses: BTreeSet<&str> = ingress_addresses(svc).into_iter().collect();
        for addr in addresses {
            for p in ports {
                let proto = super::ports::protocol(p.protocol.as_ref()).to_string();
                let users = by_listener
                    .entry((addr.to_string(), p.port, proto))
                    .or_default();
                if !users.contains(&name) {
                    users.push(name.clone());
                }
            }
        }
    }
    let mut findings = Vec::new();
    for ((addr, port, proto), users) in by_listener.into_iter().filter(|(_, u)| u.len() > 1) {
        for me in &users {
            let others: Vec<&str> = users
                .iter()
                .filter(|u| *u != me)
                .map(String::as_str)
                .collect();
            findings.push(Finding::critical(
                catalog::LB_SHARED_PORT,
                me.clone(),
                format!("shares load balancer address {addr} and port {port}/{proto} with {}: the balancer forwards that port to either, at random", others.join(", ")),
                "give one of them another port, or its own load balancer (runbook 6.8.6: Services sharing one balancer must use distinct listener ports)",
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;
    use crate::index::tests::{fetched, pod};
    use k8s_openapi::api::core::v1::Node;
    use serde_json::{Value, json};

    const NOW: &str = "2026-11-05T10:00:00Z";

    fn run_with(
        svc: Value,
        pods: Vec<Value>,
        slices: Vec<Value>,
        events: Vec<Value>,
        nodes: Option<Vec<Node>>,
    ) -> Vec<Finding> {
        let mut f = fetched(vec![svc], pods, slices, events);
        f.nodes = nodes;
        let idx = Index::build(&f);
        check(&idx.view(&f.services[0]), NOW.parse().unwrap())
    }

    fn run(svc: Value, pods: Vec<Value>) -> Vec<Finding> {
        run_with(svc, pods, vec![], vec![], None)
    }

    fn owned(name: &str, kind: &str, owner: &str) -> Value {
        let mut p = pod("a", name, json!({"app": "x"}));
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": owner, "uid": "u", "controller": true}]);
        p
    }

    #[test]
    fn headless_warns_for_deployments_and_informs_for_statefulsets() {
        let svc = json!({"metadata": {"name": "consul", "namespace": "a"}, "spec": {"clusterIP": "None", "selector": {"app": "x"}}});
        let f = run(
            svc.clone(),
            vec![
                owned("x-1", "ReplicaSet", "x-5d"),
                owned("x-2", "ReplicaSet", "x-5d"),
            ],
        );
        assert_eq!(f[0].check, catalog::HEADLESS);
        assert_eq!(f[0].severity, runbook::Severity::Warning);
        assert!(f[0].hint.contains("replace --force"));
        let f = run(
            svc,
            vec![
                owned("x-0", "StatefulSet", "x"),
                owned("x-1", "StatefulSet", "x"),
            ],
        );
        assert_eq!(f[0].severity, runbook::Severity::Info);
    }

    #[test]
    fn pending_load_balancer_reports_age_and_controller_events() {
        let svc = json!({"metadata": {"name": "web", "namespace": "a", "creationTimestamp": "2026-11-05T09:48:00Z"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}, "status": {"loadBalancer": {}}});
        let f = run(svc.clone(), vec![]);
        assert_eq!(f[0].check, catalog::LB_PENDING);
        assert_eq!(f[0].severity, runbook::Severity::Critical);
        assert!(
            f[0].message.contains("<pending> for 12m"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message
                .contains("no event from the cloud controller manager")
        );
        let ev = json!({"metadata": {"name": "e", "namespace": "a"}, "involvedObject": {"kind": "Service", "name": "web", "namespace": "a"},
            "reason": "SyncLoadBalancerFailed", "type": "Warning", "count": 4, "source": {"component": "service-controller"},
            "message": "Error syncing load balancer: quota exceeded"});
        let f = run_with(svc, vec![], vec![], vec![ev], None);
        assert!(f[0].message.contains("service-controller: SyncLoadBalancerFailed Error syncing load balancer: quota exceeded (x4)"), "{}", f[0].message);
        let young = json!({"metadata": {"name": "web", "namespace": "a", "creationTimestamp": "2026-11-05T09:59:00Z"},
            "spec": {"type": "LoadBalancer"}});
        assert_eq!(run(young, vec![])[0].severity, runbook::Severity::Warning);
    }

    #[test]
    fn shared_address_and_port_is_reported_for_both() {
        let lb = |ns: &str, name: &str, port: i32| -> Service {
            serde_json::from_value(json!({"metadata": {"name": name, "namespace": ns},
                "spec": {"type": "LoadBalancer", "ports": [{"port": port}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "47.1.2.3"}]}}}))
            .unwrap()
        };
        let f = shared_lb_ports(&[
            lb("a", "web", 443),
            lb("b", "api", 443),
            lb("c", "admin", 8443),
        ]);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].subject, "service/a/web");
        assert!(
            f[0].message
                .contains("47.1.2.3 and port 443/TCP with service/b/api"),
            "{}",
            f[0].message
        );
        assert!(shared_lb_ports(&[lb("a", "web", 443), lb("b", "api", 80)]).is_empty());
    }

    #[test]
    fn external_name_ip_is_a_warning() {
        let svc = |target: &str| json!({"metadata": {"name": "db", "namespace": "a"}, "spec": {"type": "ExternalName", "externalName": target}});
        assert_eq!(
            run(svc("db.example.com"), vec![])[0].severity,
            runbook::Severity::Info
        );
        let f = run(svc("10.1.2.3"), vec![]);
        assert_eq!(f[0].severity, runbook::Severity::Warning);
        assert!(f[0].message.contains("IP address"));
    }

    #[test]
    fn session_affinity_and_local_policy() {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"},
            "spec": {"type": "NodePort", "selector": {"app": "x"}, "sessionAffinity": "ClientIP", "externalTrafficPolicy": "Local"}});
        let slice = json!({"metadata": {"name": "web-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"], "nodeName": "node-1", "conditions": {"ready": true}}]});
        let node = |n: &str| -> Node {
            serde_json::from_value(json!({"metadata": {"name": n}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}})).unwrap()
        };
        let f = run_with(
            svc,
            vec![pod("a", "x-1", json!({"app": "x"}))],
            vec![slice],
            vec![],
            Some(vec![node("node-1"), node("node-2")]),
        );
        let ids: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            ids,
            [
                catalog::SESSION_AFFINITY,
                catalog::LOCAL_POLICY_NO_ENDPOINTS
            ]
        );
        assert!(
            f[1].message
                .contains("1 of 2 ready nodes have no ready endpoint (node-2)"),
            "{}",
            f[1].message
        );
        assert_eq!(f[1].severity, runbook::Severity::Warning);
    }

    #[test]
    fn local_policy_on_a_load_balancer_warns_only_when_one_node_holds_every_endpoint() {
        let svc = json!({"metadata": {"name": "edge", "namespace": "a"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "externalTrafficPolicy": "Local"},
            "status": {"loadBalancer": {"ingress": [{"ip": "47.1.2.3"}]}}});
        let node = |n: &str| -> Node {
            serde_json::from_value(json!({"metadata": {"name": n}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}})).unwrap()
        };
        let slice = |nodes: &[&str]| {
            let eps: Vec<Value> = nodes
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"addresses": [format!("10.0.0.{i}")], "nodeName": n}))
                .collect();
            json!({"metadata": {"name": "edge-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "edge"}},
                "addressType": "IPv4", "endpoints": eps})
        };
        let nodes = || Some(vec![node("node-1"), node("node-2"), node("node-3")]);
        let one = run_with(
            svc.clone(),
            vec![],
            vec![slice(&["node-1", "node-1"])],
            vec![],
            nodes(),
        );
        assert_eq!(one[0].severity, runbook::Severity::Warning);
        assert!(
            one[0].message.contains("2 of 3 ready nodes"),
            "{}",
            one[0].message
        );
        let two = run_with(
            svc,
            vec![],
            vec![slice(&["node-1", "node-2"])],
            vec![],
            nodes(),
        );
        assert_eq!(two[0].severity, runbook::Severity::Info);
    }
}
