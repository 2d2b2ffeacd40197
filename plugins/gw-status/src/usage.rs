//! Live usage (metrics.k8s.io) and node capacity, looked up in the snapshot: what a container
//! uses against its limit, what a node uses and how much of its allocatable is requested.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use runbook::pods::CpuMemory;
use runbook::quantity::Quantity;
use serde::Serialize;

use crate::fetch::Fetched;

/// CPU (millicores) and memory (bytes) amounts, each optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    /// CPU in millicores.
    pub cpu_millis: Option<i128>,
    /// Memory in bytes.
    pub memory_bytes: Option<i128>,
}

fn quantity(map: Option<&BTreeMap<String, K8sQuantity>>, name: &str) -> Option<Quantity> {
    map?.get(name).and_then(|q| Quantity::try_from(q).ok())
}

fn amounts(map: Option<&BTreeMap<String, K8sQuantity>>) -> Amounts {
    Amounts {
        cpu_millis: quantity(map, "cpu").map(|q| q.to_millis()),
        memory_bytes: quantity(map, "memory").map(|q| q.to_bytes()),
    }
}

/// A container's requests, from its spec.
pub fn requests(c: &Container) -> Amounts {
    amounts(c.resources.as_ref().and_then(|r| r.requests.as_ref()))
}

/// A container's limits, from its spec.
pub fn limits(c: &Container) -> Amounts {
    amounts(c.resources.as_ref().and_then(|r| r.limits.as_ref()))
}

fn parse_usage(cpu: &str, memory: &str) -> Amounts {
    Amounts {
        cpu_millis: cpu.parse::<Quantity>().ok().map(|q| q.to_millis()),
        memory_bytes: memory.parse::<Quantity>().ok().map(|q| q.to_bytes()),
    }
}

/// A container's live usage, when metrics are served and list it.
pub fn container_usage(
    f: &Fetched,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Option<Amounts> {
    let metrics = f.pod_metrics.served()?;
    let pm = metrics.iter().find(|m| {
        m.metadata.name.as_deref() == Some(pod)
            && m.metadata.namespace.as_deref() == Some(namespace)
    })?;
    let c = pm.containers.iter().find(|c| c.name == container)?;
    Some(parse_usage(&c.usage.cpu, &c.usage.memory))
}

/// The pods on `node` using the most CPU (`namespace/name`, millicores), busiest first.
pub fn busiest_on(f: &Fetched, node: &str) -> Vec<(String, i128)> {
    let Some(metrics) = f.pod_metrics.served() else {
        return Vec::new();
    };
    let mut busy: Vec<(String, i128)> = pods_on(f, node)
        .filter_map(|p| {
            let ns = p.metadata.namespace.as_deref()?;
            let name = p.metadata.name.as_deref()?;
            let m = metrics.iter().find(|m| {
                m.metadata.name.as_deref() == Some(name)
                    && m.metadata.namespace.as_deref() == Some(ns)
            })?;
            let cpu: i128 = m
                .containers
                .iter()
                .filter_map(|c| parse_usage(&c.usage.cpu, &c.usage.memory).cpu_millis)
                .sum();
            Some((format!("{ns}/{name}"), cpu))
        })
        .collect();
    busy.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    busy
}

/// A node's live usage, when metrics are served and list it.
pub fn node_usage(f: &Fetched, node: &str) -> Option<Amounts> {
    let metrics = f.node_metrics.served()?;
    let nm = metrics
        .iter()
        .find(|m| m.metadata.name.as_deref() == Some(node))?;
    Some(parse_usage(&nm.usage.cpu, &nm.usage.memory))
}

/// A node's allocatable CPU and memory.
pub fn allocatable(node: &Node) -> Amounts {
    amounts(node.status.as_ref().and_then(|s| s.allocatable.as_ref()))
}

/// True for pods that hold node resources (not finished).
pub fn is_active(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

/// The pods (of every namespace) bound to `node` and still active.
pub fn pods_on<'a>(f: &'a Fetched, node: &str) -> impl Iterator<Item = &'a Pod> + use<'a> {
    let node = node.to_string();
    f.pods.iter().filter(move |p| {
        is_active(p) && p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node.as_str())
    })
}

/// The sum of the effective requests of the active pods on `node`.
pub fn requested_on(f: &Fetched, node: &str) -> CpuMemory {
    pods_on(f, node)
        .map(runbook::pods::pod_requests)
        .fold(CpuMemory::default(), |acc, r| CpuMemory {
            cpu_millis: acc.cpu_millis + r.cpu_millis,
            memory_bytes: acc.memory_bytes + r.memory_bytes,
        })
}

/// `part` as a whole percentage of `whole` (`None` when `whole` is unknown or zero).
pub fn percent(part: Option<i128>, whole: Option<i128>) -> Option<u32> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0 && p >= 0 => u32::try_from((p * 100 + w / 2) / w).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_and_refuses_unknown() {
        assert_eq!(percent(Some(508), Some(512)), Some(99));
        assert_eq!(percent(Some(1), Some(3)), Some(33));
        assert_eq!(percent(Some(5), None), None);
        assert_eq!(percent(Some(5), Some(0)), None);
    }

    #[test]
    fn usage_parses_metrics_server_units() {
        let a = parse_usage("250000000n", "524288Ki");
        assert_eq!(a.cpu_millis, Some(250));
        assert_eq!(a.memory_bytes, Some(512 * 1024 * 1024));
    }
}
