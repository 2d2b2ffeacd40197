//! The disruption controller: PodDisruptionBudget status (expected and healthy pods,
//! disruptions allowed, the DisruptionAllowed condition), computed with the same arithmetic
//! the eviction subresource uses ([`crate::eviction`]), so what `kubectl get pdb` shows is what
//! an eviction will get.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::objects::{self, meta};
use super::rules::Rules;
use crate::eviction::{Budget, compute_budget, expected_scale, pdb_pods};
use crate::store::Store;

/// How long an entry of `status.disruptedPods` is kept (the controller's DeletionTimeout).
const DISRUPTION_TIMEOUT_SECONDS: i64 = 120;

/// One pass over every PDB.
pub fn reconcile(store: &Store, _rules: &Rules, now: Timestamp) -> bool {
    let mut changed = false;
    for pdb in store.list("poddisruptionbudgets", None) {
        let pods = pdb_pods(store, &pdb);
        let budget = compute_budget(&pdb, &pods, expected_scale(store, &pods));
        let alive: Vec<&str> = pods
            .iter()
            .filter(|p| !objects::is_terminating(p))
            .map(|p| meta(p, "name"))
            .collect();
        let next = with_status(&pdb, &budget, &alive, now);
        if next != pdb {
            changed |= objects::update_status(store, "poddisruptionbudgets", next);
        }
    }
    changed
}

/// `status.disruptedPods` entries (written by evictions) whose pod is still there and that are
/// less than two minutes old.
fn recent_disruptions(pdb: &Value, alive: &[&str], now: Timestamp) -> Map<String, Value> {
    let mut recent = Map::new();
    if let Some(entries) = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
    {
        for (name, when) in entries {
            let fresh = when
                .as_str()
                .and_then(objects::parse_time)
                .is_some_and(|t| objects::seconds_between(t, now) < DISRUPTION_TIMEOUT_SECONDS);
            if fresh && alive.contains(&name.as_str()) {
                recent.insert(name.clone(), when.clone());
            }
        }
    }
    recent
}

/// The PDB with its status recomputed; the condition's transition time moves only on a flip.
pub fn with_status(pdb: &Value, budget: &Budget, alive: &[&str], now: Timestamp) -> Value {
    let generation = objects::int(pdb, "/metadata/generation", 1);
    let (status, reason) = if budget.disruptions_allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let previous = objects::list(pdb, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "DisruptionAllowed");
    let transition = match previous {
        Some(p) if p["status"] == status => p["lastTransitionTime"].clone(),
        _ => json!(objects::format_time(now)),
    };
    let mut conditions: Vec<Value> = objects::list(pdb, "/status/conditions")
        .iter()
        .filter(|c| c["type"] != "DisruptionAllowed")
        .cloned()
        .collect();
    conditions.push(
        json!({"type": "DisruptionAllowed", "status": status, "reason": reason, "message": "",
        "observedGeneration": generation, "lastTransitionTime": transition}),
    );
    let mut next = pdb.clone();
    next["status"] = json!({
        "currentHealthy": budget.current_healthy,
        "desiredHealthy": budget.desired_healthy,
        "expectedPods": budget.expected,
        "disruptionsAllowed": budget.disruptions_allowed,
        "observedGeneration": generation,
        "conditions": conditions,
    });
    let disrupted = recent_disruptions(pdb, alive, now);
    if !disrupted.is_empty() {
        next["status"]["disruptedPods"] = Value::Object(disrupted);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn setup(min_available: i64, ready: &[bool]) -> Store {
        let store = Store::new();
        store
            .create(
                "poddisruptionbudgets",
                json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "gw", "namespace": "gateway"},
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": "gw"}}}}),
            )
            .unwrap();
        for (i, ready) in ready.iter().enumerate() {
            store.create("pods", json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("gw-{i}"), "namespace": "gateway", "labels": {"app": "gw"}}, "spec": {},
                "status": {"conditions": [{"type": "Ready", "status": if *ready { "True" } else { "False" }}]}})).unwrap();
        }
        store
    }

    #[test]
    fn a_budget_with_room_allows_disruptions() {
        let store = setup(1, &[true, true]);
        assert!(reconcile(&store, &Rules::default(), now()));
        let pdb = store
            .get("poddisruptionbudgets", Some("gateway"), "gw")
            .unwrap();
        assert_eq!(pdb["status"]["disruptionsAllowed"], 1);
        assert_eq!(pdb["status"]["currentHealthy"], 2);
        assert_eq!(pdb["status"]["desiredHealthy"], 1);
        assert_eq!(pdb["status"]["expectedPods"], 2);
        assert_eq!(pdb["status"]["conditions"][0]["reason"], "SufficientPods");
        assert!(
            !reconcile(&store, &Rules::default(), now()),
            "a settled pass changes nothing"
        );
    }

    #[test]
    fn min_available_equal_to_the_replicas_blocks() {
        let store = setup(2, &[true, true]);
        reconcile(&store, &Rules::default(), now());
        let pdb = store
            .get("poddisruptionbudgets", Some("gateway"), "gw")
            .unwrap();
        assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
        assert_eq!(pdb["status"]["conditions"][0]["status"], "False");
        assert_eq!(pdb["status"]["conditions"][0]["reason"], "InsufficientPods");
    }

    #[test]
    fn old_disruption_records_are_dropped() {
        let pdb = json!({"metadata": {"generation": 1}, "status": {"disruptedPods": {
            "gw-0": "2026-11-23T09:59:30Z", "gw-1": "2026-11-23T09:50:00Z", "gone": "2026-11-23T09:59:59Z"}}});
        let budget = Budget {
            expected: 2,
            desired_healthy: 1,
            current_healthy: 1,
            disruptions_allowed: 0,
        };
        let next = with_status(&pdb, &budget, &["gw-0", "gw-1"], now());
        assert_eq!(
            next["status"]["disruptedPods"],
            json!({"gw-0": "2026-11-23T09:59:30Z"})
        );
    }
}
