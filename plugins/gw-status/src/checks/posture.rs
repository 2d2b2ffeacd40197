//! Resilience posture, the follow-ups of the 001 post-mortem: more replicas, a
//! PodDisruptionBudget, replicas kept apart, and business pods without limits kept off the
//! gateway's nodes.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use runbook::Finding;

use crate::fetch::Fetched;
use crate::hints;
use crate::profiles::Role;
use crate::usage;
use crate::view::{ComponentView, GatewayView};

/// Namespaces whose pods are the platform's, not business pods.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Posture findings of one gateway.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in gw.components.iter().filter(|c| c.deployment.is_some()) {
        if c.spec.role == Role::Addon || c.desired_replicas() == 0 {
            continue;
        }
        out.extend(single_replica(c));
        out.extend(no_pdb(c));
        out.extend(no_anti_affinity(c));
    }
    out.extend(noisy_neighbours(gw, f));
    out
}

fn single_replica(c: &ComponentView<'_>) -> Option<Finding> {
    if c.desired_replicas() != 1 {
        return None;
    }
    let why = match c.spec.role {
        Role::ControlPlane => {
            "when its pod or node fails, no proxy gets configuration or certificates (runbook 001)"
        }
        _ => "when its pod or node fails, the gateway serves nothing",
    };
    Some(Finding::warning(
        "posture.single-replica",
        c.subject(),
        format!("runs a single replica: {why}"),
        hints::resize(c, None, "--replicas 2"),
    ))
}

/// The Deployment's selector in query syntax (for `kubectl create pdb --selector`).
fn selector_text(c: &ComponentView<'_>) -> String {
    c.deployment
        .and_then(|d| d.spec.as_ref())
        .map(|s| runbook::workload::label_selector_string(&s.selector))
        .unwrap_or_default()
}

fn no_pdb(c: &ComponentView<'_>) -> Option<Finding> {
    if !c.pdbs.is_empty() {
        return None;
    }
    Some(Finding::warning(
        "posture.no-pdb",
        c.subject(),
        "no PodDisruptionBudget: a node drain may evict every replica at once",
        format!(
            "kubectl create poddisruptionbudget {} -n {} --selector {} --max-unavailable 1",
            c.name(),
            c.namespace,
            selector_text(c)
        ),
    ))
}

fn no_anti_affinity(c: &ComponentView<'_>) -> Option<Finding> {
    if c.desired_replicas() < 2 {
        return None;
    }
    let spec = c
        .deployment
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref())?;
    let anti = spec
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .is_some();
    let spread = spec
        .topology_spread_constraints
        .as_ref()
        .is_some_and(|t| !t.is_empty());
    if anti || spread {
        return None;
    }
    Some(Finding::warning(
        "posture.no-anti-affinity",
        c.subject(),
        "no pod anti-affinity or topology spread: the scheduler may put every replica on one node",
        "add topologySpreadConstraints (maxSkew 1, topologyKey kubernetes.io/hostname, \
         whenUnsatisfiable ScheduleAnyway) to the pod template",
    ))
}

/// True when some container of `pod` lacks a CPU or a memory limit.
fn lacks_limits(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|s| {
        s.containers.iter().any(|c| {
            let l = usage::limits(c);
            l.cpu_millis.is_none() || l.memory_bytes.is_none()
        })
    })
}

fn is_daemon(pod: &Pod) -> bool {
    runbook::pods::is_daemonset_pod(pod) || runbook::pods::is_mirror_pod(pod)
}

fn noisy_neighbours(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let ours: BTreeSet<(String, String)> = gw
        .components
        .iter()
        .flat_map(|c| c.summaries.iter())
        .map(|s| (s.namespace.clone(), s.name.clone()))
        .collect();
    let mut out = Vec::new();
    for node in gw.nodes() {
        let noisy: Vec<String> = usage::pods_on(f, &node)
            .filter(|p| {
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                let name = p.metadata.name.clone().unwrap_or_default();
                !ours.contains(&(ns.clone(), name))
                    && ns != gw.namespace
                    && !SYSTEM_NAMESPACES.contains(&ns.as_str())
                    && !is_daemon(p)
                    && lacks_limits(p)
            })
            .map(|p| {
                format!(
                    "{}/{}",
                    p.metadata.namespace.as_deref().unwrap_or_default(),
                    p.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect();
        if noisy.is_empty() {
            continue;
        }
        let shown: Vec<&str> = noisy.iter().take(3).map(String::as_str).collect();
        let more = if noisy.len() > 3 {
            format!(" and {} more", noisy.len() - 3)
        } else {
            String::new()
        };
        out.push(Finding::warning(
            "posture.noisy-neighbour",
            runbook::findings::subject("node", "", &node),
            format!(
                "node {node} runs the gateway next to {} business pod(s) without limits ({}{more}): one of them can starve it (runbook 001)",
                noisy.len(),
                shown.join(", ")
            ),
            format!(
                "give those pods limits (a LimitRange sets defaults), or dedicate nodes to the gateway: \
                 kubectl taint node {node} dedicated=gateway:NoSchedule and add the toleration with kubectl gw-resize --add-toleration dedicated=gateway:NoSchedule"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::World;
    use crate::profiles::builtin;
    use crate::view::join;
    use serde_json::json;

    fn ids(found: &[Finding]) -> Vec<(&str, &str)> {
        found
            .iter()
            .map(|f| (f.check.as_str(), f.subject.as_str()))
            .collect()
    }

    #[test]
    fn the_001_follow_ups() {
        let w = World::new()
            .component("istio-system", "istiod", 1, 1)
            .component("istio-system", "istio-ingressgateway", 2, 2)
            .pod(json!({
                "metadata": {"name": "file-download-1", "namespace": "shop"},
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "dl:1"}]},
                "status": {"phase": "Running"}
            }))
            .pod(json!({
                "metadata": {"name": "kube-proxy-x", "namespace": "kube-system"},
                "spec": {"nodeName": "node-1", "containers": [{"name": "kp", "image": "kp:1"}]},
                "status": {"phase": "Running"}
            }));
        let p = builtin().remove(1);
        let found = check(&join(&w.f, &p, "istio-system"), &w.f);
        assert_eq!(
            ids(&found),
            [
                ("posture.single-replica", "deployment/istio-system/istiod"),
                ("posture.no-pdb", "deployment/istio-system/istiod"),
                (
                    "posture.no-pdb",
                    "deployment/istio-system/istio-ingressgateway"
                ),
                (
                    "posture.no-anti-affinity",
                    "deployment/istio-system/istio-ingressgateway"
                ),
                ("posture.noisy-neighbour", "node/node-1"),
            ],
            "{found:#?}"
        );
        assert!(found[0].message.contains("certificates"));
        assert_eq!(
            found[1].hint,
            "kubectl create poddisruptionbudget istiod -n istio-system --selector app=istiod --max-unavailable 1"
        );
        assert!(found[4].message.contains("shop/file-download-1"));
        assert!(!found[4].message.contains("kube-proxy"));
    }

    #[test]
    fn pdb_and_spread_satisfy_the_posture() {
        let w = World::new()
            .component("gw", "gateway-proxy", 2, 2)
            .pdb(json!({
                "metadata": {"name": "gateway-proxy", "namespace": "gw"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "gateway-proxy"}}}
            }))
            .edit_deployment("gateway-proxy", |d| {
                d["spec"]["template"]["spec"]["topologySpreadConstraints"] = json!([{
                    "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": "gateway-proxy"}}
                }]);
            });
        let p = crate::profiles::generic("gateway-proxy", "gw");
        assert!(check(&join(&w.f, &p, "gw"), &w.f).is_empty());
    }
}
