//! A metrics-server stand-in: PodMetrics for running pods and NodeMetrics for Ready nodes that
//! have none. Usage is a steady share of the requests (memory near the limit for containers
//! whose fault says so); objects a scenario wrote are never overwritten, and metrics of pods
//! that are gone are removed.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::objects::{self, meta};
use super::{quantity, rules::Rules};
use crate::store::{DeleteOptions, Store};

const POD_METRICS: &str = "pods.metrics.k8s.io";
const NODE_METRICS: &str = "nodes.metrics.k8s.io";
/// A container without requests still uses something.
const IDLE_CPU: f64 = 0.002;
const IDLE_MEMORY: f64 = 16.0 * 1024.0 * 1024.0;

/// One pass: add missing metrics, drop those of vanished pods.
pub fn reconcile(store: &Store, rules: &Rules, now: Timestamp) -> bool {
    if !rules.generate_metrics {
        return false;
    }
    let pods = store.list("pods", None);
    let mut changed = false;
    let mut usage_by_node: HashMap<String, (f64, f64)> = HashMap::new();
    for pod in pods
        .iter()
        .filter(|p| objects::phase(p) == "Running" && !objects::is_terminating(p))
    {
        let containers = container_usage(rules, pod);
        let entry = usage_by_node
            .entry(objects::node_name(pod).to_string())
            .or_default();
        for (_, cpu, memory) in &containers {
            entry.0 += cpu;
            entry.1 += memory;
        }
        if store
            .get_shared(POD_METRICS, Some(meta(pod, "namespace")), meta(pod, "name"))
            .is_none()
        {
            changed |= store
                .create(POD_METRICS, pod_metrics(pod, &containers, now))
                .is_ok();
        }
    }
    for metrics in store.list_shared(POD_METRICS, None).0 {
        let running = pods.iter().any(|p| {
            meta(p, "namespace") == meta(&metrics, "namespace")
                && meta(p, "name") == meta(&metrics, "name")
                && objects::phase(p) == "Running"
        });
        if !running {
            changed |= store
                .delete(
                    POD_METRICS,
                    Some(meta(&metrics, "namespace")),
                    meta(&metrics, "name"),
                    &DeleteOptions::default(),
                )
                .is_ok();
        }
    }
    for node in store.list("nodes", None) {
        let name = meta(&node, "name");
        if !objects::node_is_ready(&node) || store.get_shared(NODE_METRICS, None, name).is_some() {
            continue;
        }
        let (cpu, memory) = usage_by_node.get(name).copied().unwrap_or_default();
        let allocatable = |r: &str| {
            node.pointer(&format!("/status/allocatable/{r}"))
                .and_then(quantity::parse_value)
                .unwrap_or(0.0)
        };
        let system = (allocatable("cpu") * 0.05, allocatable("memory") * 0.08);
        let metrics = json!({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "NodeMetrics",
            "metadata": {"name": name, "labels": node.pointer("/metadata/labels").cloned().unwrap_or(json!({}))},
            "timestamp": objects::format_time(now), "window": "20.05s",
            "usage": {"cpu": quantity::format_cpu(cpu + system.0), "memory": quantity::format_memory(memory + system.1)}});
        changed |= store.create(NODE_METRICS, metrics).is_ok();
    }
    changed
}

/// (container, cpu cores, memory bytes) in use.
fn container_usage(rules: &Rules, pod: &Value) -> Vec<(String, f64, f64)> {
    objects::list(pod, "/spec/containers")
        .iter()
        .map(|container| {
            let request = |r: &str| {
                container
                    .pointer(&format!("/resources/requests/{r}"))
                    .and_then(quantity::parse_value)
            };
            let cpu = request("cpu").map_or(IDLE_CPU, |c| c * 0.3);
            let fault_share = rules
                .fault_for(pod, container)
                .and_then(|f| f.memory_usage_of_limit);
            let memory = match (fault_share, objects::memory_limit(container)) {
                (Some(share), Some(limit)) => limit * share,
                _ => request("memory").map_or(IDLE_MEMORY, |m| m * 0.6),
            };
            (
                container["name"].as_str().unwrap_or("").to_string(),
                cpu,
                memory,
            )
        })
        .collect()
}

fn pod_metrics(pod: &Value, containers: &[(String, f64, f64)], now: Timestamp) -> Value {
    json!({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
        "metadata": {"name": meta(pod, "name"), "namespace": meta(pod, "namespace"),
            "labels": pod.pointer("/metadata/labels").cloned().unwrap_or(json!({}))},
        "timestamp": objects::format_time(now), "window": "18.413s",
        "containers": containers.iter().map(|(name, cpu, memory)| json!({"name": name,
            "usage": {"cpu": quantity::format_cpu(*cpu), "memory": quantity::format_memory(*memory)}})).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_pods_get_metrics_and_faulty_ones_sit_near_their_limit() {
        let store = Store::new();
        store.create("nodes", json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}})).unwrap();
        store.create("pods", json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "gw-1", "namespace": "gateway", "labels": {"app": "gw"}},
            "spec": {"nodeName": "node-1", "containers": [{"name": "proxy",
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}}]},
            "status": {"phase": "Running"}})).unwrap();
        let rules: Rules = serde_json::from_value(
            json!({"faults": [{"effect": "OomKilled", "selector": {"app": "gw"},
            "memory_usage_of_limit": 0.99}]}),
        )
        .unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert!(reconcile(&store, &rules, now));
        let metrics = store.get(POD_METRICS, Some("gateway"), "gw-1").unwrap();
        let memory = quantity::parse(
            metrics["containers"][0]["usage"]["memory"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert!((memory / (512.0 * 1024.0 * 1024.0) - 0.99).abs() < 0.001);
        assert!(store.get(NODE_METRICS, None, "node-1").is_some());
        assert!(!reconcile(&store, &rules, now));
        store.remove("pods", Some("gateway"), "gw-1");
        assert!(reconcile(&store, &rules, now));
        assert!(store.get(POD_METRICS, Some("gateway"), "gw-1").is_none());
    }
}
