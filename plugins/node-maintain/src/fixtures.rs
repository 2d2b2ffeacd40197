//! Objects for unit tests, built from JSON the way the API server would send them.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::{Value, json};

/// The fixed "now" of every test.
pub fn now() -> Timestamp {
    "2026-11-05T12:00:00Z".parse().unwrap()
}

/// An RFC 3339 time `minutes` before [`now`].
pub fn ago(minutes: i64) -> String {
    (now() - jiff::SignedDuration::from_mins(minutes)).to_string()
}

/// A Ready node with 4 CPU and 8Gi allocatable; `patch` is merged over it.
pub fn node(name: &str, patch: Value) -> Node {
    let mut base = json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name},
                     "creationTimestamp": ago(60 * 24 * 40)},
        "spec": {},
        "status": {
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status",
                 "lastHeartbeatTime": ago(1), "lastTransitionTime": ago(60 * 24)},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                 "lastHeartbeatTime": ago(1), "lastTransitionTime": ago(60 * 24)}
            ]
        }
    });
    merge(&mut base, patch);
    serde_json::from_value(base).unwrap()
}

/// Sets one condition of a node (replacing one of the same type).
pub fn with_condition(
    mut node: Node,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    since_min: i64,
) -> Node {
    let cond = serde_json::from_value(json!({
        "type": type_, "status": status, "reason": reason, "message": message,
        "lastHeartbeatTime": ago(since_min.min(1)), "lastTransitionTime": ago(since_min)
    }))
    .unwrap();
    let conds = node
        .status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new);
    conds.retain(|c| c.type_ != type_);
    conds.push(cond);
    node
}

/// A running, ready pod on `node` owned by `owner` (`Kind/name`, or "" for a bare pod),
/// requesting 100m CPU and 128Mi; `patch` is merged over it.
pub fn pod(namespace: &str, name: &str, node: &str, owner: &str, patch: Value) -> Pod {
    let mut base = json!({
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}"),
                     "labels": {"app": name.split('-').next().unwrap_or(name)}},
        "spec": {"nodeName": node, "containers": [{"name": "main",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    });
    if let Some((kind, owner_name)) = owner.split_once('/') {
        base["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "apps/v1", "kind": kind, "name": owner_name,
            "uid": format!("uid-{owner_name}"), "controller": true
        }]);
    }
    merge(&mut base, patch);
    serde_json::from_value(base).unwrap()
}

/// A PodDisruptionBudget selecting `app=<app>` with the given status numbers.
pub fn pdb(
    namespace: &str,
    name: &str,
    app: &str,
    allowed: i32,
    healthy: i32,
    desired: i32,
    expected: i32,
) -> PodDisruptionBudget {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"minAvailable": desired, "selector": {"matchLabels": {"app": app}}},
        "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": healthy,
                   "desiredHealthy": desired, "expectedPods": expected}
    }))
    .unwrap()
}

/// JSON merge patch (RFC 7386) of `patch` into `base`.
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}
