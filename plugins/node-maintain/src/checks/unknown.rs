//! On a node that is Unknown, or NotReady for longer than pods tolerate it (5 minutes by
//! default), the pods Kubernetes will not replace by itself: a StatefulSet waits for the old
//! pod to be gone before recreating its identity (and the stuck kubelet or runtime never
//! confirms it), and nobody recreates a bare pod (runbook 6.1.6, 6.6.2).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Node, Pod};
use runbook::Finding;
use runbook::pods::{OwnerKind, owner_of};

use crate::checks::conditions::condition;
use crate::resources::holds_resources;

/// How long pods tolerate a NotReady or unreachable node by default (the
/// DefaultTolerationSeconds admission plugin) before the node controller evicts them.
const DEFAULT_TOLERATION: SignedDuration = SignedDuration::from_secs(300);

/// `Unknown`, or `NotReady` when the node has been so long enough that its pods are being
/// evicted and cannot be confirmed gone; `None` otherwise.
fn lost_status(node: &Node, now: Timestamp) -> Option<&'static str> {
    let ready = condition(node, "Ready")?;
    let since = ready.last_transition_time.as_ref().map(|t| t.0);
    let long = since.is_none_or(|t| now.duration_since(t) > DEFAULT_TOLERATION);
    match ready.status.as_str() {
        "Unknown" => Some("Unknown"),
        "False" if long => Some("NotReady"),
        _ => None,
    }
}

/// One critical finding per StatefulSet or bare pod on `node` when the node is Unknown, or
/// NotReady beyond the default toleration.
pub fn check_unreplaced(node: &Node, pods: &[&Pod], now: Timestamp) -> Vec<Finding> {
    let Some(status) = lost_status(node, now) else {
        return Vec::new();
    };
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    pods.iter()
        .filter(|p| holds_resources(p))
        .filter_map(|p| {
            let owner = owner_of(p, &[]);
            let ns = p.metadata.namespace.as_deref().unwrap_or_default();
            let name = p.metadata.name.as_deref().unwrap_or_default();
            let force_delete = format!(
                "kubectl delete pod -n {ns} {name} --grace-period=0 --force"
            );
            let out_of_service = format!(
                "kubectl taint node {node_name} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"
            );
            let (message, hint) = match owner.kind {
                OwnerKind::StatefulSet => (
                    format!(
                        "on node {node_name} ({status}): StatefulSet {} will not start a \
                         replacement until this pod is gone, so requests to it keep failing",
                        owner.name
                    ),
                    format!(
                        "make sure the node is really down (powered off: no second copy may \
                         run), then `{out_of_service}` (deletes its pods, detaches volumes) or \
                         `{force_delete}`"
                    ),
                ),
                OwnerKind::None => (
                    format!(
                        "bare pod on node {node_name} ({status}): no controller will \
                         recreate it elsewhere"
                    ),
                    format!(
                        "recreate it on a healthy node from its manifest (better: under a \
                         Deployment), then `{force_delete}`"
                    ),
                ),
                _ => return None,
            };
            Some(Finding::critical(
                "node.unreplaced-pods",
                format!("pod/{ns}/{name}"),
                message,
                hint,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{node, now, pod, with_condition};
    use serde_json::json;

    #[test]
    fn statefulset_and_bare_pods_on_an_unknown_node() {
        let n = with_condition(
            node("n1", json!({})),
            "Ready",
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
            30,
        );
        let pods = [
            pod("db", "redis-0", "n1", "StatefulSet/redis", json!({})),
            pod(
                "web",
                "shop-7d9f-abcde",
                "n1",
                "ReplicaSet/shop-7d9f",
                json!({}),
            ),
            pod("ops", "debug", "n1", "", json!({})),
            pod("kube-system", "proxy-x", "n1", "DaemonSet/proxy", json!({})),
            pod(
                "db",
                "old-0",
                "n1",
                "StatefulSet/old",
                json!({"status": {"phase": "Failed"}}),
            ),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let f = check_unreplaced(&n, &refs, now());
        let subjects: Vec<&str> = f.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, ["pod/db/redis-0", "pod/ops/debug"]);
        assert!(
            f[0].message
                .contains("StatefulSet redis will not start a replacement")
        );
        assert!(f[0].hint.contains("node.kubernetes.io/out-of-service"));
        assert!(
            f[1].hint
                .contains("kubectl delete pod -n ops debug --grace-period=0 --force")
        );
    }

    #[test]
    fn not_ready_counts_only_beyond_the_default_toleration() {
        let pods = [pod("db", "redis-0", "n1", "StatefulSet/redis", json!({}))];
        let refs: Vec<&Pod> = pods.iter().collect();
        assert!(check_unreplaced(&node("n1", json!({})), &refs, now()).is_empty());
        let brief = with_condition(
            node("n1", json!({})),
            "Ready",
            "False",
            "KubeletNotReady",
            "",
            4,
        );
        assert!(check_unreplaced(&brief, &refs, now()).is_empty());
        let pleg = with_condition(
            node("n1", json!({})),
            "Ready",
            "False",
            "KubeletNotReady",
            "PLEG is not healthy",
            27 * 60,
        );
        let f = check_unreplaced(&pleg, &refs, now());
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("on node n1 (NotReady)"),
            "{}",
            f[0].message
        );
    }
}
