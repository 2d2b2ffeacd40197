//! Placement: replicas of one component, or components that should be apart, on one node;
//! and the health and load of the nodes hosting the gateway (runbook 001: istiod and the
//! ingress gateway on one CPU-overloaded node).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Node, NodeCondition};
use runbook::Finding;
use runbook::quantity::{fmt_bytes, fmt_cpu};

use crate::fetch::Fetched;
use crate::hints;
use crate::usage::{self, percent};
use crate::view::GatewayView;

/// Node CPU or memory use (percent of allocatable) from which a warning is raised.
pub const NODE_WARNING_PERCENT: u32 = 80;
/// Node CPU or memory use (percent of allocatable) from which the node is saturated.
pub const NODE_CRITICAL_PERCENT: u32 = 90;

const PRESSURE_CONDITIONS: &[&str] = &["MemoryPressure", "DiskPressure", "PIDPressure"];

/// The node condition of type `type_`.
pub fn node_condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Placement and node findings of one gateway.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(same_node(gw));
    out.extend(apart(gw));
    for name in gw.nodes() {
        let hosted = hosted_components(gw, &name);
        match f
            .nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(&name))
        {
            Some(node) => out.extend(node_health(gw, node, &hosted, f)),
            None => out.push(Finding::critical(
                "node.not-ready",
                runbook::findings::subject("node", "", &name),
                format!(
                    "node {name} hosts {} but no longer exists",
                    hosted.join(", ")
                ),
                "its pods are stuck: delete them so their Deployments recreate them elsewhere",
            )),
        }
    }
    out
}

fn hosted_components(gw: &GatewayView<'_>, node: &str) -> Vec<String> {
    gw.components
        .iter()
        .filter(|c| c.nodes().contains(node))
        .map(|c| c.name().to_string())
        .collect()
}

fn same_node(gw: &GatewayView<'_>) -> Vec<Finding> {
    gw.components
        .iter()
        .filter_map(|c| {
            let running: Vec<&str> = c
                .summaries
                .iter()
                .filter(|s| !s.terminating && s.phase == "Running")
                .filter_map(|s| s.node.as_deref())
                .collect();
            let nodes: BTreeSet<&str> = running.iter().copied().collect();
            if running.len() < 2 || nodes.len() != 1 {
                return None;
            }
            let node = nodes.into_iter().next().unwrap_or_default();
            Some(Finding::warning(
                "placement.same-node",
                c.subject(),
                format!(
                    "all {} running replicas are on node {node}: losing that node takes {} down",
                    running.len(),
                    c.name()
                ),
                format!(
                    "spread them: add a topologySpreadConstraint (maxSkew 1, topologyKey kubernetes.io/hostname) to the pod template, then {}",
                    hints::restart(c)
                ),
            ))
        })
        .collect()
}

fn apart(gw: &GatewayView<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for group in &gw.profile.apart {
        let members: Vec<_> = group.iter().filter_map(|n| gw.component(n)).collect();
        let all_nodes: BTreeSet<String> = members.iter().flat_map(|c| c.nodes()).collect();
        for node in all_nodes {
            let sharing: Vec<_> = members
                .iter()
                .filter(|c| c.nodes().contains(&node))
                .collect();
            if sharing.len() < 2 {
                continue;
            }
            let names: Vec<&str> = sharing.iter().map(|c| c.name()).collect();
            let first = sharing[0];
            out.push(Finding::warning(
                "placement.same-node",
                runbook::findings::subject("node", "", &node),
                format!(
                    "{} share node {node}: one overloaded or failing node takes the control plane and the data plane down together",
                    names.join(" and ")
                ),
                format!(
                    "move one away ({}) and keep them apart with podAntiAffinity",
                    hints::restart(first)
                ),
            ));
        }
    }
    out
}

fn node_health(gw: &GatewayView<'_>, node: &Node, hosted: &[String], f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let subject = runbook::findings::subject("node", "", name);
    let hosts = format!("it hosts {}", hosted.join(", "));
    let move_hint = gw
        .components
        .iter()
        .find(|c| hosted.iter().any(|h| h == c.name()))
        .map(|c| format!("move the gateway pods away: {}", hints::restart(c)))
        .unwrap_or_default();
    match node_condition(node, "Ready") {
        Some(c) if c.status == "True" => {}
        other => {
            let (status, detail) = match other {
                Some(c) => (
                    c.status.clone(),
                    format!(
                        "{}: {}",
                        c.reason.as_deref().unwrap_or("no reason"),
                        c.message.as_deref().unwrap_or("no message")
                    ),
                ),
                None => ("Unknown".into(), "no Ready condition reported".into()),
            };
            out.push(Finding::critical(
                "node.not-ready",
                subject.clone(),
                format!("node {name} is not Ready ({status}, {detail}); {hosts}"),
                format!("diagnose it with kubectl node-maintain check {name}; {move_hint}"),
            ));
        }
    }
    for pressure in PRESSURE_CONDITIONS {
        if let Some(c) = node_condition(node, pressure).filter(|c| c.status == "True") {
            out.push(Finding::critical(
                "node.pressure",
                subject.clone(),
                format!(
                    "node {name} reports {pressure} ({}); {hosts}: the kubelet evicts pods",
                    c.message.as_deref().unwrap_or("no message")
                ),
                format!("diagnose it with kubectl node-maintain check {name}; {move_hint}"),
            ));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        out.push(Finding::info(
            "node.cordoned",
            subject.clone(),
            format!("node {name} is cordoned; {hosts}: a restart moves them elsewhere"),
            format!("kubectl node-maintain uncordon {name} when its maintenance is over"),
        ));
    }
    if let Some(used) = usage::node_usage(f, name) {
        let alloc = usage::allocatable(node);
        let readings = [
            (
                "node.cpu-saturated",
                "CPU",
                percent(used.cpu_millis, alloc.cpu_millis),
                used.cpu_millis.map(fmt_cpu),
                alloc.cpu_millis.map(fmt_cpu),
            ),
            (
                "node.memory-saturated",
                "memory",
                percent(used.memory_bytes, alloc.memory_bytes),
                used.memory_bytes.map(fmt_bytes),
                alloc.memory_bytes.map(fmt_bytes),
            ),
        ];
        for (id, what, pct, used, alloc) in readings {
            let Some(pct) = pct.filter(|p| *p >= NODE_WARNING_PERCENT) else {
                continue;
            };
            let busiest = if what == "CPU" {
                busiest_text(f, name)
            } else {
                String::new()
            };
            let message = format!(
                "node {name} uses {} of {} allocatable {what} ({pct}%){busiest}; {hosts}",
                used.unwrap_or_default(),
                alloc.unwrap_or_default()
            );
            let hint = format!(
                "{move_hint}; find what else is busy there: kubectl top pods -A --sort-by={}",
                if what == "CPU" { "cpu" } else { "memory" }
            );
            out.push(if pct >= NODE_CRITICAL_PERCENT {
                Finding::critical(id, subject.clone(), message, hint)
            } else {
                Finding::warning(id, subject.clone(), message, hint)
            });
        }
    }
    out
}

/// `; busiest: shop/file-download-9bq4w 3.1 CPU` (the top two pods by CPU).
fn busiest_text(f: &Fetched, node: &str) -> String {
    let top: Vec<String> = usage::busiest_on(f, node)
        .into_iter()
        .take(2)
        .map(|(pod, millis)| format!("{pod} {:.1} CPU", millis as f64 / 1000.0))
        .collect();
    if top.is_empty() {
        String::new()
    } else {
        format!("; busiest: {}", top.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{World, node};
    use crate::fetch::Availability;
    use crate::objects::{NodeMetrics, Usage};
    use crate::profiles::{builtin, generic};
    use crate::view::join;
    use runbook::Severity;
    use serde_json::json;

    #[test]
    fn istiod_and_the_gateway_on_one_saturated_node() {
        let mut w = World::new()
            .component("istio-system", "istiod", 1, 1)
            .component("istio-system", "istio-ingressgateway", 1, 1)
            .pod(json!({
                "metadata": {"name": "file-download-1", "namespace": "shop"},
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "dl:1"}]},
                "status": {"phase": "Running"}
            }));
        w.f.pod_metrics =
            Availability::Served(vec![serde_json::from_value(json!({
            "metadata": {"name": "file-download-1", "namespace": "shop"},
            "containers": [{"name": "app", "usage": {"cpu": "3104512233n", "memory": "1Gi"}}]
        }))
        .unwrap()]);
        w.f.node_metrics = Availability::Served(vec![NodeMetrics {
            metadata: serde_json::from_value(json!({"name": "node-1"})).unwrap(),
            usage: Usage {
                cpu: "3900m".into(),
                memory: "2Gi".into(),
            },
        }]);
        let p = builtin().remove(1);
        let found = check(&join(&w.f, &p, "istio-system"), &w.f);
        let got: Vec<(&str, Severity)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.severity))
            .collect();
        assert_eq!(
            got,
            [
                ("placement.same-node", Severity::Warning),
                ("node.cpu-saturated", Severity::Critical),
            ],
            "{found:#?}"
        );
        assert!(
            found[0]
                .message
                .starts_with("istiod and istio-ingressgateway share node node-1")
        );
        assert_eq!(
            found[1].message,
            "node node-1 uses 3.9 of 4 allocatable CPU (98%); busiest: shop/file-download-1 3.1 CPU; it hosts istiod, istio-ingressgateway"
        );
        assert!(
            found[1]
                .hint
                .contains("kubectl gw-resize deploy/istiod -n istio-system --restart")
        );
    }

    #[test]
    fn replicas_on_one_node_and_node_conditions() {
        let w = World::new()
            .component("gw", "gateway-proxy", 2, 2)
            .node({
                let mut n = node("node-1");
                n["spec"]["unschedulable"] = json!(true);
                n["status"]["conditions"][0] = json!({"type": "Ready", "status": "False",
                    "reason": "KubeletNotReady", "message": "PLEG is not healthy: pleg was last seen active 3m0s ago"});
                n["status"]["conditions"][1] = json!({"type": "MemoryPressure", "status": "True",
                    "message": "kubelet has insufficient memory available"});
                n
            });
        let p = generic("gateway-proxy", "gw");
        let found = check(&join(&w.f, &p, "gw"), &w.f);
        let checks: Vec<&str> = found.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            checks,
            [
                "placement.same-node",
                "node.not-ready",
                "node.pressure",
                "node.cordoned"
            ]
        );
        assert!(found[1].message.contains("PLEG is not healthy"));
    }

    #[test]
    fn spread_replicas_on_healthy_nodes_are_fine() {
        let w = World::new()
            .component("gw", "gateway-proxy", 2, 2)
            .node(node("node-2"))
            .edit_pod("gateway-proxy-abc-1", |p| {
                p["spec"]["nodeName"] = json!("node-2")
            });
        let p = generic("gateway-proxy", "gw");
        assert!(check(&join(&w.f, &p, "gw"), &w.f).is_empty());
    }
}
