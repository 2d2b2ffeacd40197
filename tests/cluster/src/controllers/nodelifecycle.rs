//! The node lifecycle controller's taints: conditions become `node.kubernetes.io/*` taints
//! (not-ready, unreachable, memory/disk/pid pressure, network-unavailable) and a cordon becomes
//! `node.kubernetes.io/unschedulable:NoSchedule`, as TaintNodesByCondition and taint-based
//! eviction write them. Other taints are left alone. (Pods are not evicted from tainted nodes.)
//! Every node also gets its heartbeat Lease in `kube-node-lease`, renewed when its Ready
//! condition was last heard of.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::objects;
use super::rules::Rules;
use crate::store::Store;

/// The taint keys this controller owns.
const MANAGED: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/unschedulable",
];

/// One pass over every node.
pub fn reconcile(store: &Store, _rules: &Rules, now: Timestamp) -> bool {
    let mut changed = false;
    for node in store.list("nodes", None) {
        changed |= ensure_lease(store, &node, now);
        let wanted = condition_taints(&node);
        let current: Vec<&Value> = objects::list(&node, "/spec/taints")
            .iter()
            .filter(|t| MANAGED.contains(&t["key"].as_str().unwrap_or("")))
            .collect();
        let same = current.len() == wanted.len()
            && wanted.iter().all(|(key, effect)| {
                current
                    .iter()
                    .any(|t| t["key"] == *key && t["effect"] == *effect)
            });
        if same {
            continue;
        }
        let mut taints: Vec<Value> = objects::list(&node, "/spec/taints")
            .iter()
            .filter(|t| !MANAGED.contains(&t["key"].as_str().unwrap_or("")))
            .cloned()
            .collect();
        for (key, effect) in wanted {
            let kept = current
                .iter()
                .find(|t| t["key"] == key && t["effect"] == effect);
            let taint = match kept {
                Some(existing) => (*existing).clone(),
                None if effect == "NoExecute" => {
                    json!({"key": key, "effect": effect, "timeAdded": objects::format_time(now)})
                }
                None => json!({"key": key, "effect": effect}),
            };
            taints.push(taint);
        }
        let mut next = node.clone();
        if taints.is_empty() {
            next["spec"].as_object_mut().map(|s| s.remove("taints"));
        } else {
            next["spec"]["taints"] = Value::Array(taints);
        }
        changed |= objects::update(store, "nodes", next);
    }
    changed
}

/// Creates the node's Lease if it has none, renewed at the Ready condition's last heartbeat.
fn ensure_lease(store: &Store, node: &Value, now: Timestamp) -> bool {
    let name = objects::meta(node, "name");
    if store
        .get_shared("leases", Some("kube-node-lease"), name)
        .is_some()
    {
        return false;
    }
    let heartbeat = objects::list(node, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["lastHeartbeatTime"].as_str())
        .and_then(objects::parse_time)
        .unwrap_or(now);
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": objects::meta(node, "uid")}]},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
            "renewTime": heartbeat.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}});
    store.create("leases", lease).is_ok()
}

/// The (key, effect) taints a node's conditions and cordon call for.
pub fn condition_taints(node: &Value) -> Vec<(&'static str, &'static str)> {
    let mut taints = Vec::new();
    match objects::node_condition_status(node, "Ready") {
        "False" => taints.extend([
            ("node.kubernetes.io/not-ready", "NoSchedule"),
            ("node.kubernetes.io/not-ready", "NoExecute"),
        ]),
        "Unknown" => taints.extend([
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
        ]),
        _ => {}
    }
    for (condition, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        (
            "NetworkUnavailable",
            "node.kubernetes.io/network-unavailable",
        ),
    ] {
        if objects::node_condition_status(node, condition) == "True" {
            taints.push((key, "NoSchedule"));
        }
    }
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        taints.push(("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    taints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_and_cordons_become_taints_and_go_away() {
        let store = Store::new();
        store
            .create("nodes", json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-3"},
                "spec": {"unschedulable": true, "taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]},
                "status": {"conditions": [{"type": "Ready", "status": "Unknown"}, {"type": "DiskPressure", "status": "True"}]}}))
            .unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert!(reconcile(&store, &Rules::default(), now));
        let node = store.get("nodes", None, "node-3").unwrap();
        let keys: Vec<String> = objects::list(&node, "/spec/taints")
            .iter()
            .map(|t| {
                format!(
                    "{}:{}",
                    t["key"].as_str().unwrap(),
                    t["effect"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                "dedicated:NoSchedule",
                "node.kubernetes.io/unreachable:NoSchedule",
                "node.kubernetes.io/unreachable:NoExecute",
                "node.kubernetes.io/disk-pressure:NoSchedule",
                "node.kubernetes.io/unschedulable:NoSchedule",
            ]
        );
        assert_eq!(
            node["spec"]["taints"][2]["timeAdded"],
            "2026-11-23T10:00:00Z"
        );
        assert!(!reconcile(&store, &Rules::default(), now));
        let lease = store
            .get("leases", Some("kube-node-lease"), "node-3")
            .unwrap();
        assert_eq!(lease["spec"]["holderIdentity"], "node-3");
        assert_eq!(lease["spec"]["renewTime"], "2026-11-23T10:00:00.000000Z");

        let mut healed = node;
        healed["spec"]
            .as_object_mut()
            .unwrap()
            .remove("unschedulable");
        healed["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        store.update("nodes", healed).unwrap();
        reconcile(&store, &Rules::default(), now);
        let node = store.get("nodes", None, "node-3").unwrap();
        assert_eq!(
            node["spec"]["taints"],
            json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
        );
    }
}
