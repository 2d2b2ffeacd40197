//! The pods/eviction subresource, following the real `EvictionREST` and disruption controller:
//! the PodDisruptionBudget covering a pod is evaluated live (expected pods from the owning
//! controllers' replicas, healthy = Ready and not terminating), a budget with no disruption
//! left answers 429 with the real message and cause, two budgets answer 500, and an allowed
//! eviction deletes the pod gracefully and records the disruption in the budget's status.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::selector::LabelSelector;
use crate::store::{DeleteOptions, Store, now_rfc3339, str_at};

/// The arithmetic of one disruption budget (`status` fields of a PDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// `expectedPods`.
    pub expected: i64,
    /// `desiredHealthy`.
    pub desired_healthy: i64,
    /// `currentHealthy`.
    pub current_healthy: i64,
    /// `disruptionsAllowed`.
    pub disruptions_allowed: i64,
}

/// `intstr.GetScaledValueFromIntOrPercent`: an integer as is, `"N%"` of `total` (rounded up or down).
pub fn scaled_value(value: &Value, total: i64, round_up: bool) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => match s.strip_suffix('%') {
            Some(percent) => {
                let percent: i64 = percent.parse().ok()?;
                let scaled = percent * total;
                Some(if round_up {
                    (scaled + 99).div_euclid(100)
                } else {
                    scaled.div_euclid(100)
                })
            }
            None => s.parse().ok(),
        },
        _ => None,
    }
}

/// Whether a pod's `Ready` condition is `True`.
pub fn is_pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn is_terminating(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_some()
}

/// Healthy pods as the disruption controller counts them: ready and not being deleted.
pub fn count_healthy(pods: &[Arc<Value>]) -> i64 {
    pods.iter()
        .filter(|p| !is_terminating(p) && is_pod_ready(p))
        .count() as i64
}

/// The budget of `pdb` over its matching `pods`; `expected_scale` is the sum of the owning
/// controllers' replicas (used for `maxUnavailable` and percentage `minAvailable`).
pub fn compute_budget(pdb: &Value, pods: &[Arc<Value>], expected_scale: i64) -> Budget {
    let spec = pdb.get("spec").unwrap_or(&Value::Null);
    let (expected, desired_healthy) = if let Some(max_unavailable) = spec.get("maxUnavailable") {
        let unavailable = scaled_value(max_unavailable, expected_scale, true).unwrap_or(0);
        (expected_scale, (expected_scale - unavailable).max(0))
    } else if let Some(min_available) = spec.get("minAvailable") {
        if min_available.is_number() {
            (pods.len() as i64, min_available.as_i64().unwrap_or(0))
        } else {
            (
                expected_scale,
                scaled_value(min_available, expected_scale, true).unwrap_or(0),
            )
        }
    } else {
        (pods.len() as i64, 0)
    };
    let current_healthy = count_healthy(pods);
    let disruptions_allowed = if expected <= 0 {
        0
    } else {
        (current_healthy - desired_healthy).max(0)
    };
    Budget {
        expected,
        desired_healthy,
        current_healthy,
        disruptions_allowed,
    }
}

/// The pods a PDB selects (policy/v1: an empty selector selects every pod of the namespace).
pub fn pdb_pods(store: &Store, pdb: &Value) -> Vec<Arc<Value>> {
    let ns = str_at(pdb, "namespace");
    let Some(selector) = pdb
        .pointer("/spec/selector")
        .and_then(LabelSelector::from_label_selector)
    else {
        return Vec::new();
    };
    store
        .list_shared("pods", Some(ns))
        .0
        .into_iter()
        .filter(|p| selector.matches(p))
        .collect()
}

/// The sum of the replicas of the controllers owning `pods` (a ReplicaSet owned by a
/// Deployment counts as the Deployment); pods without a known controller count as one each.
pub fn expected_scale(store: &Store, pods: &[Arc<Value>]) -> i64 {
    let mut seen: Vec<String> = Vec::new();
    let mut total = 0;
    for pod in pods {
        let ns = str_at(pod, "namespace");
        let owner = controller_of(pod);
        let scale_owner = owner.and_then(|(kind, name)| match kind.as_str() {
            "ReplicaSet" => {
                let rs = store.get_shared("replicasets", Some(ns), &name)?;
                match controller_of(&rs) {
                    Some((owner_kind, owner_name)) if owner_kind == "Deployment" => {
                        let deployment = store.get_shared("deployments", Some(ns), &owner_name)?;
                        Some((format!("deployments/{owner_name}"), deployment))
                    }
                    _ => Some((format!("replicasets/{name}"), rs)),
                }
            }
            "StatefulSet" => store
                .get_shared("statefulsets", Some(ns), &name)
                .map(|s| (format!("statefulsets/{name}"), s)),
            _ => None,
        });
        match scale_owner {
            Some((id, owner)) => {
                if !seen.contains(&id) {
                    total += owner
                        .pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    seen.push(id);
                }
            }
            None => total += 1,
        }
    }
    total
}

fn controller_of(obj: &Value) -> Option<(String, String)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["name"].as_str().unwrap_or("").to_string(),
            )
        })
}

/// How an eviction went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvictionOutcome {
    /// The pod was deleted (or would be, in a dry run).
    Evicted,
    /// The pod was already terminating or finished: nothing to guard.
    AlreadyGone,
}

/// Evicts pod `name` in `ns` with the `Eviction` body `eviction`.
pub fn evict(
    store: &Store,
    ns: &str,
    name: &str,
    eviction: &Value,
    dry_run: bool,
) -> Result<EvictionOutcome, ApiError> {
    let body_name = eviction
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or(name);
    if body_name != name {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let pod = store
        .get_shared("pods", Some(ns), name)
        .ok_or_else(|| ApiError::not_found("pods", name))?;
    let options = delete_options(eviction, dry_run);
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if is_terminating(&pod) || matches!(phase, "Succeeded" | "Failed" | "Pending") {
        store.delete("pods", Some(ns), name, &options)?;
        return Ok(if is_terminating(&pod) {
            EvictionOutcome::AlreadyGone
        } else {
            EvictionOutcome::Evicted
        });
    }
    let labels = pod
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let budgets: Vec<Arc<Value>> = store
        .list_shared("poddisruptionbudgets", Some(ns))
        .0
        .into_iter()
        .filter(|pdb| {
            pdb.pointer("/spec/selector")
                .and_then(LabelSelector::from_label_selector)
                .is_some_and(|s| s.matches_labels(&labels))
        })
        .collect();
    let pdb = match budgets.as_slice() {
        [] => {
            store.delete("pods", Some(ns), name, &options)?;
            return Ok(EvictionOutcome::Evicted);
        }
        [one] => Arc::clone(one),
        _ => {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    let pods = pdb_pods(store, &pdb);
    let budget = compute_budget(&pdb, &pods, expected_scale(store, &pods));
    if !is_pod_ready(&pod) {
        let always_allow = pdb
            .pointer("/spec/unhealthyPodEvictionPolicy")
            .and_then(Value::as_str)
            == Some("AlwaysAllow");
        let budget_met =
            budget.desired_healthy > 0 && budget.current_healthy >= budget.desired_healthy;
        if always_allow || budget_met {
            store.delete("pods", Some(ns), name, &options)?;
            return Ok(EvictionOutcome::Evicted);
        }
    }
    if budget.disruptions_allowed <= 0 {
        return Err(blocked_by(&pdb, budget));
    }
    if dry_run {
        return Ok(EvictionOutcome::Evicted);
    }
    let (mut pdb, mut budget) = (pdb, budget);
    let mut attempts = 0;
    // The real eviction handler retries a conflicting PDB update (EvictionsRetry, 20 steps)
    // with a fresh PDB rather than answering 409 to the client.
    while let Err(e) = record_disruption(store, &pdb, name, budget) {
        attempts += 1;
        if e.code != 409 || attempts >= 20 {
            return Err(e);
        }
        pdb = store
            .get_shared("poddisruptionbudgets", Some(ns), str_at(&pdb, "name"))
            .ok_or_else(|| ApiError::not_found("poddisruptionbudgets", str_at(&pdb, "name")))?;
        let pods = pdb_pods(store, &pdb);
        budget = compute_budget(&pdb, &pods, expected_scale(store, &pods));
        if budget.disruptions_allowed <= 0 {
            return Err(blocked_by(&pdb, budget));
        }
    }
    store.delete("pods", Some(ns), name, &options)?;
    Ok(EvictionOutcome::Evicted)
}

/// The 429 the API server answers when `pdb` allows no disruption now.
fn blocked_by(pdb: &Value, budget: Budget) -> ApiError {
    ApiError::too_many_requests("Cannot evict pod as it would violate the pod's disruption budget.")
        .with_details(json!({"causes": [{
            "reason": "DisruptionBudget",
            "message": format!(
                "The disruption budget {} needs {} healthy pods and has {} currently",
                str_at(pdb, "name"), budget.desired_healthy, budget.current_healthy
            ),
        }]}))
}

fn delete_options(eviction: &Value, dry_run: bool) -> DeleteOptions {
    let opts = eviction.get("deleteOptions").unwrap_or(&Value::Null);
    let text = |pointer: &str| {
        opts.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let body_dry_run = opts
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().any(|x| x == "All"));
    DeleteOptions {
        grace_period_seconds: opts.get("gracePeriodSeconds").and_then(Value::as_i64),
        precondition_uid: text("/preconditions/uid"),
        precondition_resource_version: text("/preconditions/resourceVersion"),
        propagation_policy: text("/propagationPolicy"),
        dry_run: dry_run || body_dry_run,
    }
}

fn record_disruption(
    store: &Store,
    pdb: &Value,
    pod: &str,
    budget: Budget,
) -> Result<(), ApiError> {
    let mut status = pdb.get("status").cloned().unwrap_or_else(|| json!({}));
    let allowed = budget.disruptions_allowed - 1;
    status["disruptionsAllowed"] = json!(allowed);
    status["currentHealthy"] = json!(budget.current_healthy);
    status["desiredHealthy"] = json!(budget.desired_healthy);
    status["expectedPods"] = json!(budget.expected);
    if !status.get("disruptedPods").is_some_and(Value::is_object) {
        status["disruptedPods"] = json!({});
    }
    status["disruptedPods"][pod] = json!(now_rfc3339());
    if allowed == 0 {
        let condition = json!({"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods",
                               "message": "", "lastTransitionTime": now_rfc3339(),
                               "observedGeneration": pdb.pointer("/metadata/generation").cloned().unwrap_or(json!(1))});
        let conditions = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut conditions: Vec<Value> = conditions
            .into_iter()
            .filter(|c| c["type"] != "DisruptionAllowed")
            .collect();
        conditions.push(condition);
        status["conditions"] = Value::Array(conditions);
    }
    let mut next = pdb.clone();
    next["status"] = status;
    store
        .update_status("poddisruptionbudgets", next)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool, owner: Option<&str>) -> Value {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 30},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}});
        if let Some(owner) = owner {
            pod["metadata"]["ownerReferences"] =
                json!([{"kind": "ReplicaSet", "name": owner, "controller": true, "uid": "x"}]);
        }
        pod
    }

    fn pdb(name: &str, spec: Value) -> Value {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "web"}});
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": "default"}, "spec": spec})
    }

    fn shared(values: Vec<Value>) -> Vec<Arc<Value>> {
        values.into_iter().map(Arc::new).collect()
    }

    #[test]
    fn scaled_values_round_like_intstr() {
        assert_eq!(scaled_value(&json!(2), 10, true), Some(2));
        assert_eq!(scaled_value(&json!("50%"), 3, true), Some(2));
        assert_eq!(scaled_value(&json!("50%"), 3, false), Some(1));
        assert_eq!(scaled_value(&json!("25%"), 4, true), Some(1));
        assert_eq!(scaled_value(&json!("x%"), 4, true), None);
    }

    #[test]
    fn budget_arithmetic_for_min_and_max() {
        let pods = shared(vec![
            pod("a", true, None),
            pod("b", true, None),
            pod("c", false, None),
        ]);
        let min_int = compute_budget(&pdb("p", json!({"minAvailable": 2})), &pods, 3);
        assert_eq!(
            min_int,
            Budget {
                expected: 3,
                desired_healthy: 2,
                current_healthy: 2,
                disruptions_allowed: 0
            }
        );
        let min_pct = compute_budget(&pdb("p", json!({"minAvailable": "50%"})), &pods, 4);
        assert_eq!(
            (min_pct.desired_healthy, min_pct.disruptions_allowed),
            (2, 0)
        );
        let min_pct_low = compute_budget(&pdb("p", json!({"minAvailable": "30%"})), &pods, 3);
        assert_eq!(
            (min_pct_low.desired_healthy, min_pct_low.disruptions_allowed),
            (1, 1)
        );
        let max_int = compute_budget(&pdb("p", json!({"maxUnavailable": 1})), &pods, 3);
        assert_eq!(
            (max_int.desired_healthy, max_int.disruptions_allowed),
            (2, 0)
        );
        let max_pct = compute_budget(&pdb("p", json!({"maxUnavailable": "50%"})), &pods, 3);
        assert_eq!(
            (max_pct.desired_healthy, max_pct.disruptions_allowed),
            (1, 1)
        );
        let none = compute_budget(&pdb("p", json!({"maxUnavailable": 1})), &[], 0);
        assert_eq!(none.disruptions_allowed, 0);
    }

    fn store_with(pods: Vec<Value>, pdbs: Vec<Value>) -> Store {
        let store = Store::new();
        for p in pods {
            store.create("pods", p).unwrap();
        }
        for p in pdbs {
            store.create("poddisruptionbudgets", p).unwrap();
        }
        store
    }

    #[test]
    fn blocked_eviction_answers_429_with_the_budget_cause() {
        let store = store_with(
            vec![pod("a", true, None), pod("b", true, None)],
            vec![pdb("web-pdb", json!({"minAvailable": 2}))],
        );
        let err = evict(&store, "default", "a", &json!({}), false).unwrap_err();
        assert_eq!((err.code, err.reason.as_str()), (429, "TooManyRequests"));
        assert_eq!(
            err.message,
            "Cannot evict pod as it would violate the pod's disruption budget."
        );
        assert_eq!(
            err.details.unwrap()["causes"][0],
            json!({"reason": "DisruptionBudget", "message": "The disruption budget web-pdb needs 2 healthy pods and has 2 currently"})
        );
        assert!(
            store.get("pods", Some("default"), "a").unwrap()["metadata"]
                .get("deletionTimestamp")
                .is_none()
        );
    }

    #[test]
    fn allowed_eviction_deletes_gracefully_and_records_the_disruption() {
        let store = store_with(
            vec![pod("a", true, None), pod("b", true, None)],
            vec![pdb("web-pdb", json!({"minAvailable": 1}))],
        );
        assert_eq!(
            evict(&store, "default", "a", &json!({}), true),
            Ok(EvictionOutcome::Evicted)
        );
        assert!(
            store.get("pods", Some("default"), "a").unwrap()["metadata"]
                .get("deletionTimestamp")
                .is_none(),
            "dry run"
        );
        assert_eq!(
            evict(&store, "default", "a", &json!({}), false),
            Ok(EvictionOutcome::Evicted)
        );
        let evicted = store.get("pods", Some("default"), "a").unwrap();
        assert!(evicted["metadata"]["deletionTimestamp"].is_string());
        let status = store
            .get("poddisruptionbudgets", Some("default"), "web-pdb")
            .unwrap()["status"]
            .clone();
        assert_eq!(status["disruptionsAllowed"], 0);
        assert!(status["disruptedPods"]["a"].is_string());
        assert_eq!(
            evict(&store, "default", "b", &json!({}), false)
                .unwrap_err()
                .code,
            429
        );
        assert_eq!(
            evict(&store, "default", "a", &json!({}), false),
            Ok(EvictionOutcome::AlreadyGone)
        );
    }

    #[test]
    fn two_budgets_are_an_internal_error() {
        let store = store_with(
            vec![pod("a", true, None)],
            vec![
                pdb("one", json!({"maxUnavailable": 1})),
                pdb("two", json!({"maxUnavailable": 1})),
            ],
        );
        let err = evict(&store, "default", "a", &json!({}), false).unwrap_err();
        assert_eq!(err.code, 500);
        assert_eq!(
            err.message,
            "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
        );
    }

    #[test]
    fn unhealthy_pods_follow_the_eviction_policy() {
        let blocked = store_with(
            vec![pod("a", true, None), pod("b", false, None)],
            vec![pdb("p", json!({"minAvailable": 2}))],
        );
        assert_eq!(
            evict(&blocked, "default", "b", &json!({}), false)
                .unwrap_err()
                .code,
            429
        );
        let allow = store_with(
            vec![pod("a", true, None), pod("b", false, None)],
            vec![pdb(
                "p",
                json!({"minAvailable": 2, "unhealthyPodEvictionPolicy": "AlwaysAllow"}),
            )],
        );
        assert_eq!(
            evict(&allow, "default", "b", &json!({}), false),
            Ok(EvictionOutcome::Evicted)
        );
        let satisfied = store_with(
            vec![pod("a", true, None), pod("b", false, None)],
            vec![pdb("p", json!({"minAvailable": 1}))],
        );
        assert_eq!(
            evict(&satisfied, "default", "b", &json!({}), false),
            Ok(EvictionOutcome::Evicted)
        );
    }

    #[test]
    fn expected_scale_follows_owners() {
        let store = Store::new();
        store.create("deployments", json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 5}})).unwrap();
        store
            .create("replicasets", json!({"metadata": {"name": "web-1", "namespace": "default",
                "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true, "uid": "d"}]}, "spec": {"replicas": 2}}))
            .unwrap();
        let pods = shared(vec![
            pod("a", true, Some("web-1")),
            pod("b", true, Some("web-1")),
            pod("c", true, None),
        ]);
        assert_eq!(expected_scale(&store, &pods), 6);
    }

    #[test]
    fn no_budget_and_missing_pod() {
        let store = store_with(vec![pod("a", true, None)], vec![]);
        assert_eq!(
            evict(&store, "default", "a", &json!({}), false),
            Ok(EvictionOutcome::Evicted)
        );
        assert_eq!(
            evict(&store, "default", "zz", &json!({}), false)
                .unwrap_err()
                .code,
            404
        );
        let mismatch = json!({"metadata": {"name": "other"}});
        assert_eq!(
            evict(&store, "default", "a", &mismatch, false)
                .unwrap_err()
                .code,
            400
        );
    }
}
