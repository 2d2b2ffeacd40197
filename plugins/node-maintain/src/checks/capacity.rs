//! What the node can allocate against what its pods request, may use (limits) and use now
//! (metrics.k8s.io, when served).

use k8s_openapi::api::core::v1::{Node, Pod};
use runbook::Finding;
use serde::Serialize;

use crate::resources::{
    Resources, allocatable, format_cpu, format_memory, holds_resources, percent, pod_limits,
    pod_requests,
};

/// Measured use at or above this share of allocatable is reported.
const HIGH_USAGE_PERCENT: i128 = 90;

/// One node's capacity picture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeCapacity {
    /// What the scheduler may hand out.
    pub allocatable: Resources,
    /// Sum of the requests of pods holding resources there.
    pub requests: Resources,
    /// Sum of their limits.
    pub limits: Resources,
    /// Measured use, when metrics.k8s.io is served.
    pub usage: Option<Resources>,
    /// Pods holding resources (not Succeeded or Failed).
    pub pods: usize,
}

/// Adds up the pods bound to `node` (pods of other nodes are ignored).
pub fn capacity_of(node: &Node, pods: &[&Pod], usage: Option<Resources>) -> NodeCapacity {
    let active: Vec<&&Pod> = pods.iter().filter(|p| holds_resources(p)).collect();
    NodeCapacity {
        allocatable: allocatable(node),
        requests: active
            .iter()
            .map(|p| pod_requests(p))
            .fold(Resources::default(), Resources::plus),
        limits: active
            .iter()
            .map(|p| pod_limits(p))
            .fold(Resources::default(), Resources::plus),
        usage,
        pods: active.len(),
    }
}

/// Requests beyond allocatable, memory limits beyond allocatable, use near allocatable.
pub fn check_capacity(node: &str, cap: &NodeCapacity) -> Vec<Finding> {
    let subject = format!("node/{node}");
    let alloc = cap.allocatable;
    let mut out = Vec::new();
    if alloc.is_zero() {
        return out;
    }
    let mut over_requests = Vec::new();
    if cap.requests.cpu_millis > alloc.cpu_millis {
        over_requests.push(format!(
            "cpu {} of {}",
            format_cpu(cap.requests.cpu_millis),
            format_cpu(alloc.cpu_millis)
        ));
    }
    if cap.requests.memory_bytes > alloc.memory_bytes {
        over_requests.push(format!(
            "memory {} of {}",
            format_memory(cap.requests.memory_bytes),
            format_memory(alloc.memory_bytes)
        ));
    }
    if !over_requests.is_empty() {
        out.push(Finding::warning(
            "node.overcommitted",
            subject.clone(),
            format!(
                "pods request more than the node can allocate ({}): allocatable shrank under \
                 them (more reserved for the system?)",
                over_requests.join(", ")
            ),
            "move pods off (drain) or give the node more room; check kube-reserved and \
             system-reserved after upgrades (runbook 6.8.4)",
        ));
    }
    let mem_limit_pct = percent(cap.limits.memory_bytes, alloc.memory_bytes);
    if mem_limit_pct > 100 {
        out.push(Finding::warning(
            "node.overcommitted",
            subject.clone(),
            format!(
                "memory limits add up to {mem_limit_pct}% of allocatable ({} of {}): under load \
                 the node runs out of memory and pods are OOM-killed or evicted",
                format_memory(cap.limits.memory_bytes),
                format_memory(alloc.memory_bytes)
            ),
            "bring memory requests closer to limits for the big pods, or spread them over more nodes",
        ));
    }
    if let Some(usage) = cap.usage {
        let cpu = percent(usage.cpu_millis, alloc.cpu_millis);
        let mem = percent(usage.memory_bytes, alloc.memory_bytes);
        let mut high = Vec::new();
        if cpu >= HIGH_USAGE_PERCENT {
            high.push(format!(
                "cpu {cpu}% ({} of {})",
                format_cpu(usage.cpu_millis),
                format_cpu(alloc.cpu_millis)
            ));
        }
        if mem >= HIGH_USAGE_PERCENT {
            high.push(format!(
                "memory {mem}% ({} of {})",
                format_memory(usage.memory_bytes),
                format_memory(alloc.memory_bytes)
            ));
        }
        if !high.is_empty() {
            out.push(Finding::warning(
                "node.high-usage",
                subject,
                format!("the node is busy: {} in use", high.join(", ")),
                "an overloaded node slows every pod on it, probes fail and control-plane \
                 components stop answering (runbook 001): find the heaviest pods \
                 (`kubectl top pods -A`), set limits, or move critical pods elsewhere",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{node, pod};
    use serde_json::json;

    fn heavy(name: &str, phase: &str) -> Pod {
        pod(
            "shop",
            name,
            "n1",
            "ReplicaSet/web-1",
            json!({
                "spec": {"containers": [{"name": "main", "resources": {
                    "requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "4Gi"}}}]},
                "status": {"phase": phase}
            }),
        )
    }

    #[test]
    fn adds_up_only_pods_holding_resources() {
        let n = node("n1", json!({}));
        let pods = [
            heavy("a", "Running"),
            heavy("b", "Pending"),
            heavy("c", "Succeeded"),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let cap = capacity_of(&n, &refs, None);
        assert_eq!(cap.pods, 2);
        assert_eq!(cap.requests.cpu_millis, 2000);
        assert_eq!(cap.limits.memory_bytes, 8 << 30);
        let f = check_capacity("n1", &cap);
        assert_eq!(f.len(), 0, "8Gi of 8Gi is not over: {f:?}");
    }

    #[test]
    fn memory_limits_beyond_allocatable_warn() {
        let n = node("n1", json!({}));
        let pods = [
            heavy("a", "Running"),
            heavy("b", "Running"),
            heavy("c", "Running"),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let f = check_capacity("n1", &capacity_of(&n, &refs, None));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "node.overcommitted");
        assert!(
            f[0].message
                .starts_with("memory limits add up to 150% of allocatable (12Gi of 8Gi)"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn requests_beyond_allocatable_and_high_usage() {
        let n = node(
            "n1",
            json!({"status": {"allocatable": {"cpu": "1500m", "memory": "8Gi"}}}),
        );
        let pods = [heavy("a", "Running"), heavy("b", "Running")];
        let refs: Vec<&Pod> = pods.iter().collect();
        let usage = Resources {
            cpu_millis: 1400,
            memory_bytes: 1 << 30,
        };
        let f = check_capacity("n1", &capacity_of(&n, &refs, Some(usage)));
        let ids: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(ids, ["node.overcommitted", "node.high-usage"]);
        assert!(f[0].message.contains("cpu 2 of 1.5"), "{}", f[0].message);
        assert_eq!(
            f[1].message,
            "the node is busy: cpu 93% (1.4 of 1.5) in use"
        );
    }
}
