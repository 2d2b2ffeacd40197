//! Pods the kubelet evicted from the node (they stay listed, phase Failed, reason Evicted),
//! and which resource ran out.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use runbook::Finding;

/// The resource an eviction message names (`The node was low on resource: memory.`), or
/// `other` (taints, preemption, API-initiated evictions).
pub fn eviction_resource(message: &str) -> &str {
    message
        .split_once("low on resource: ")
        .and_then(|(_, rest)| rest.split(['.', ',', ' ']).next())
        .filter(|r| !r.is_empty())
        .unwrap_or("other")
}

fn is_evicted(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.phase.as_deref() == Some("Failed") && s.reason.as_deref() == Some("Evicted")
    })
}

/// One finding per node with evicted pods: how many, by resource, and the latest message.
pub fn check_evicted(node: &str, pods: &[&Pod]) -> Vec<Finding> {
    let evicted: Vec<&&Pod> = pods.iter().filter(|p| is_evicted(p)).collect();
    let Some(example) = evicted.last() else {
        return Vec::new();
    };
    let mut by_resource: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &evicted {
        let msg = p
            .status
            .as_ref()
            .and_then(|s| s.message.as_deref())
            .unwrap_or_default();
        *by_resource.entry(eviction_resource(msg)).or_default() += 1;
    }
    let breakdown: Vec<String> = by_resource
        .iter()
        .map(|(r, n)| format!("{n} for {r}"))
        .collect();
    let example_msg = example
        .status
        .as_ref()
        .and_then(|s| s.message.as_deref())
        .unwrap_or_default()
        .trim();
    let example_name = format!(
        "{}/{}",
        example.metadata.namespace.as_deref().unwrap_or_default(),
        example.metadata.name.as_deref().unwrap_or_default()
    );
    let storage = by_resource.contains_key("ephemeral-storage");
    let hint = format!(
        "{}clean up the records: kubectl delete pods -A --field-selector=spec.nodeName={node},status.phase=Failed",
        if storage {
            "set ephemeral-storage requests and limits (and emptyDir sizeLimit) on the pods that \
             write to local disk (runbook 6.2.4); "
        } else {
            "set requests close to real use on the evicted pods' containers; "
        }
    );
    vec![Finding::warning(
        "node.evicted-pods",
        format!("node/{node}"),
        format!(
            "{} pod(s) evicted by the kubelet ({}); e.g. {example_name}: {example_msg}",
            evicted.len(),
            breakdown.join(", ")
        ),
        hint,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pod;
    use serde_json::json;

    fn evicted(name: &str, message: &str) -> Pod {
        pod(
            "db",
            name,
            "n1",
            "ReplicaSet/codis-1",
            json!({"status": {
            "phase": "Failed", "reason": "Evicted", "message": message, "conditions": null}}),
        )
    }

    #[test]
    fn counts_by_resource_and_quotes_the_kubelet() {
        let storage = "The node was low on resource: ephemeral-storage. Container codis-proxy was using 10619440Ki, which exceeds its request of 0.";
        let pods = [
            evicted(
                "codis-a",
                "The node was low on resource: memory. Container x was using 2Gi.",
            ),
            pod("db", "healthy", "n1", "ReplicaSet/codis-1", json!({})),
            evicted("codis-b", storage),
            evicted("codis-c", storage),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let f = check_evicted("n1", &refs);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            format!(
                "3 pod(s) evicted by the kubelet (2 for ephemeral-storage, 1 for memory); e.g. db/codis-c: {storage}"
            )
        );
        assert!(f[0].hint.contains("ephemeral-storage requests and limits"));
        assert!(f[0].hint.contains("spec.nodeName=n1,status.phase=Failed"));
    }

    #[test]
    fn no_evicted_pods_no_finding() {
        let pods = [pod("db", "a", "n1", "", json!({}))];
        let refs: Vec<&Pod> = pods.iter().collect();
        assert!(check_evicted("n1", &refs).is_empty());
        assert_eq!(
            eviction_resource("Pod was terminated in response to imminent node shutdown."),
            "other"
        );
    }
}
