//! The ReplicaSet controller (`pkg/controller/replicaset`): creates or deletes pods to match
//! `spec.replicas`, choosing the least valuable pods first on scale-down, and reports status.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::events::{self, Event, Source};
use super::labels::selector_matches;
use super::objects::{self, meta};
use super::{admission, names, rules::Rules};
use crate::store::{DeleteOptions, Store};

/// Pods created per ReplicaSet and pass at most (the real controller's burst).
const BURST_REPLICAS: usize = 500;

/// The annotation that makes a pod cheaper (lower) or dearer to delete.
const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// One pass over every ReplicaSet.
pub fn reconcile(store: &Store, _rules: &Rules, now: Timestamp) -> bool {
    let (replicasets, _) = store.list_shared("replicasets", None);
    if replicasets.is_empty() {
        return false;
    }
    let pods_by_namespace = group_by_namespace(store.list_shared("pods", None).0);
    let mut changed = false;
    for rs in replicasets {
        let pods = pods_by_namespace
            .get(meta(&rs, "namespace"))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        changed |= sync(store, &rs, pods, now);
    }
    changed
}

/// Objects grouped by namespace.
pub fn group_by_namespace(objects: Vec<Arc<Value>>) -> HashMap<String, Vec<Arc<Value>>> {
    let mut grouped: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
    for obj in objects {
        grouped
            .entry(meta(&obj, "namespace").to_string())
            .or_default()
            .push(obj);
    }
    grouped
}

fn sync(store: &Store, rs: &Value, namespace_pods: &[Arc<Value>], now: Timestamp) -> bool {
    let uid = meta(rs, "uid");
    let selector = rs.pointer("/spec/selector");
    let mut changed = false;
    let mut owned: Vec<Value> = Vec::new();
    for pod in namespace_pods {
        if objects::is_controlled_by(pod, uid) {
            owned.push((**pod).clone());
        } else if objects::controller_ref(pod).is_none()
            && objects::is_active(pod)
            && selector_matches(selector, pod.pointer("/metadata/labels"))
            && !objects::is_terminating(rs)
            && let Some(adopted) = adopt(store, rs, pod)
        {
            owned.push(adopted);
            changed = true;
        }
    }
    let active: Vec<&Value> = owned.iter().filter(|p| objects::is_active(p)).collect();
    let mut failure = None;
    if !objects::is_terminating(rs) {
        let (managed, refusal) = manage_replicas(store, rs, &active, namespace_pods, now);
        changed |= managed;
        failure = refusal;
    }
    changed | update_status(store, rs, &active, failure.as_deref(), now)
}

fn adopt(store: &Store, rs: &Value, pod: &Value) -> Option<Value> {
    let mut next = pod.clone();
    let mut refs = objects::list(pod, "/metadata/ownerReferences").to_vec();
    refs.push(objects::controller_reference(rs));
    next["metadata"]["ownerReferences"] = Value::Array(refs);
    store.update("pods", next).ok()
}

fn desired_replicas(rs: &Value) -> usize {
    objects::int(rs, "/spec/replicas", 1).max(0) as usize
}

/// Creates or deletes pods; returns whether anything changed and the error of a refused
/// creation.
fn manage_replicas(
    store: &Store,
    rs: &Value,
    active: &[&Value],
    namespace_pods: &[Arc<Value>],
    now: Timestamp,
) -> (bool, Option<String>) {
    let wanted = desired_replicas(rs);
    let mut changed = false;
    if active.len() < wanted {
        let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let prefix = format!("{}-", meta(rs, "name"));
        let mut taken: Vec<String> = namespace_pods
            .iter()
            .map(|p| meta(p, "name").to_string())
            .collect();
        for _ in 0..(wanted - active.len()).min(BURST_REPLICAS) {
            let seed = format!(
                "{}/{}/{}",
                meta(rs, "namespace"),
                meta(rs, "name"),
                taken.len()
            );
            let name = names::generate(&prefix, &seed, |candidate| {
                taken.iter().any(|t| t == candidate)
                    || store
                        .get("pods", Some(meta(rs, "namespace")), candidate)
                        .is_some()
            });
            let pod = objects::pod_from_template(&template, rs, &name);
            let failed = |error: &str| format!("Error creating: {error}");
            match admission::create_pod(store, now, Source::REPLICASET, rs, pod, failed) {
                Ok(true) => {
                    let message = format!("Created pod: {name}");
                    let event = Event::normal("SuccessfulCreate", &message);
                    events::record(store, now, Source::REPLICASET, rs, event);
                    changed = true;
                }
                Ok(false) => {}
                Err(refusal) => return (changed, Some(refusal)),
            }
            taken.push(name);
        }
    } else if active.len() > wanted {
        let related: Vec<&Value> = namespace_pods.iter().map(|p| &**p).collect();
        for pod in pods_to_delete(active, &related, active.len() - wanted, now) {
            let deleted = store.delete(
                "pods",
                Some(meta(pod, "namespace")),
                meta(pod, "name"),
                &DeleteOptions::default(),
            );
            if deleted.is_ok() {
                let message = format!("Deleted pod: {}", meta(pod, "name"));
                events::record(
                    store,
                    now,
                    Source::REPLICASET,
                    rs,
                    Event::normal("SuccessfulDelete", &message),
                );
                changed = true;
            }
        }
    }
    (changed, None)
}

/// `getPodsToDelete`: the `count` least valuable pods, ranked as `ActivePodsWithRanks` does
/// (rank = how many related pods share the node).
pub fn pods_to_delete<'a>(
    candidates: &[&'a Value],
    related: &[&Value],
    count: usize,
    now: Timestamp,
) -> Vec<&'a Value> {
    let mut on_node: HashMap<&str, usize> = HashMap::new();
    for pod in related.iter().filter(|p| objects::is_active(p)) {
        *on_node.entry(objects::node_name(pod)).or_default() += 1;
    }
    let rank = |pod: &Value| on_node.get(objects::node_name(pod)).copied().unwrap_or(0);
    let mut sorted: Vec<&Value> = candidates.to_vec();
    sorted.sort_by(|a, b| compare_for_deletion(a, b, rank(a), rank(b), now));
    sorted.truncate(count);
    sorted
}

/// Orders pods from the one to delete first: unscheduled, pending, not ready, lower deletion
/// cost, doubled up on a node, ready for less time, more restarts, newer.
fn compare_for_deletion(
    a: &Value,
    b: &Value,
    rank_a: usize,
    rank_b: usize,
    now: Timestamp,
) -> Ordering {
    let assigned = |p: &Value| !objects::node_name(p).is_empty();
    let phase_rank = |p: &Value| match objects::phase(p) {
        "Pending" | "" => 0,
        "Unknown" => 1,
        _ => 2,
    };
    let cost = |p: &Value| {
        p.pointer(&format!(
            "/metadata/annotations/{}",
            DELETION_COST.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0)
    };
    let ready_since = |p: &Value| {
        objects::pod_condition(p, "Ready")
            .filter(|c| c["status"] == "True")
            .and_then(|c| c["lastTransitionTime"].as_str())
            .and_then(objects::parse_time)
            .unwrap_or(now)
    };
    let restarts = |p: &Value| -> i64 {
        objects::list(p, "/status/containerStatuses")
            .iter()
            .map(|c| c["restartCount"].as_i64().unwrap_or(0))
            .max()
            .unwrap_or(0)
    };
    let created = |p: &Value| meta(p, "creationTimestamp").to_string();
    assigned(a)
        .cmp(&assigned(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(objects::is_ready(a).cmp(&objects::is_ready(b)))
        .then(cost(a).cmp(&cost(b)))
        .then(rank_b.cmp(&rank_a))
        .then(ready_since(b).cmp(&ready_since(a)))
        .then(restarts(b).cmp(&restarts(a)))
        .then(created(b).cmp(&created(a)))
        .then(meta(b, "name").cmp(meta(a, "name")))
}

/// Counts, and the ReplicaFailure condition while pod creation is refused.
fn update_status(
    store: &Store,
    rs: &Value,
    active: &[&Value],
    failure: Option<&str>,
    now: Timestamp,
) -> bool {
    let min_ready = objects::int(rs, "/spec/minReadySeconds", 0);
    let template_labels = rs
        .pointer("/spec/template/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    let fully_labeled = active
        .iter()
        .filter(|p| super::labels::map_matches(&template_labels, p.pointer("/metadata/labels")))
        .count();
    let ready = active.iter().filter(|p| objects::is_ready(p)).count();
    let available = active
        .iter()
        .filter(|p| objects::is_available(p, min_ready, now))
        .count();
    let mut status = rs.get("status").cloned().unwrap_or(json!({}));
    if !status.is_object() {
        status = json!({});
    }
    status["replicas"] = json!(active.len());
    status["fullyLabeledReplicas"] = json!(fully_labeled);
    status["readyReplicas"] = json!(ready);
    status["availableReplicas"] = json!(available);
    status["observedGeneration"] = json!(objects::int(rs, "/metadata/generation", 1));
    for omitted_when_zero in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
        if status[omitted_when_zero] == 0 {
            status.as_object_mut().map(|s| s.remove(omitted_when_zero));
        }
    }
    let previous = objects::list(rs, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "ReplicaFailure");
    let mut conditions: Vec<Value> = objects::list(rs, "/status/conditions")
        .iter()
        .filter(|c| c["type"] != "ReplicaFailure")
        .cloned()
        .collect();
    if let Some(message) = failure {
        let since = previous.map_or_else(
            || json!(objects::format_time(now)),
            |p| p["lastTransitionTime"].clone(),
        );
        conditions.push(
            json!({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
            "message": message, "lastTransitionTime": since}),
        );
    }
    match conditions.is_empty() {
        true => status.as_object_mut().map(|s| s.remove("conditions")),
        false => status
            .as_object_mut()
            .map(|s| s.insert("conditions".into(), Value::Array(conditions))),
    };
    if rs.get("status") == Some(&status) {
        return false;
    }
    let mut next = rs.clone();
    next["status"] = status;
    objects::update_status(store, "replicasets", next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn replicaset(store: &Store, replicas: i64) -> Value {
        store
            .create(
                "replicasets",
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": "web-5d9c7b8f6", "namespace": "shop"},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "5d9c7b8f6"}},
                            "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}),
            )
            .unwrap()
    }

    #[test]
    fn creates_missing_pods_owned_and_labelled() {
        let store = Store::new();
        let rs = replicaset(&store, 3);
        assert!(reconcile(&store, &Rules::default(), now()));
        let pods = store.list("pods", Some("shop"));
        assert_eq!(pods.len(), 3);
        for pod in &pods {
            assert!(meta(pod, "name").starts_with("web-5d9c7b8f6-"));
            assert_eq!(meta(pod, "name").len(), "web-5d9c7b8f6-".len() + 5);
            assert!(objects::is_controlled_by(pod, meta(&rs, "uid")));
            assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], "5d9c7b8f6");
            assert_eq!(pod["status"]["phase"], "Pending");
        }
        let events = store.list("events", Some("shop"));
        assert_eq!(events.len(), 3);
        assert!(events.iter().all(|e| {
            e["reason"] == "SuccessfulCreate"
                && e["source"]["component"] == "replicaset-controller"
                && e["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Created pod: web-5d9c7b8f6-")
        }));
        let rs = store
            .get("replicasets", Some("shop"), "web-5d9c7b8f6")
            .unwrap();
        assert_eq!(
            rs["status"]["replicas"], 0,
            "status counts the pods seen at the start of the pass"
        );
        reconcile(&store, &Rules::default(), now());
        let rs = store
            .get("replicasets", Some("shop"), "web-5d9c7b8f6")
            .unwrap();
        assert_eq!(rs["status"]["replicas"], 3);
        assert_eq!(rs["status"]["fullyLabeledReplicas"], 3);
        assert!(
            rs["status"].get("readyReplicas").is_none(),
            "zero counts are omitted"
        );
        assert!(
            !reconcile(&store, &Rules::default(), now()),
            "a settled pass changes nothing"
        );
    }

    #[test]
    fn scale_down_deletes_unscheduled_and_unready_pods_first() {
        let ready = |name: &str, node: &str, since: &str| {
            json!({"metadata": {"name": name, "creationTimestamp": "2026-11-23T09:00:00Z"},
                   "spec": {"nodeName": node},
                   "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": since}]}})
        };
        let unscheduled =
            json!({"metadata": {"name": "a"}, "spec": {}, "status": {"phase": "Pending"}});
        let not_ready = json!({"metadata": {"name": "b"}, "spec": {"nodeName": "n1"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}});
        let old_ready = ready("c", "n2", "2026-11-23T08:00:00Z");
        let new_ready = ready("d", "n3", "2026-11-23T09:30:00Z");
        let candidates = vec![&old_ready, &new_ready, &not_ready, &unscheduled];
        let chosen = pods_to_delete(&candidates, &candidates, 3, now());
        let names: Vec<&str> = chosen.iter().map(|p| meta(p, "name")).collect();
        assert_eq!(names, ["a", "b", "d"]);
    }

    #[test]
    fn scale_down_is_graceful_and_recorded() {
        let store = Store::new();
        replicaset(&store, 2);
        reconcile(&store, &Rules::default(), now());
        let mut rs = store
            .get("replicasets", Some("shop"), "web-5d9c7b8f6")
            .unwrap();
        rs["spec"]["replicas"] = json!(1);
        store.update("replicasets", rs).unwrap();
        for mut pod in store.list("pods", Some("shop")) {
            pod["spec"]["nodeName"] = json!("node-1");
            store.update("pods", pod).unwrap();
        }
        reconcile(&store, &Rules::default(), now());
        let pods = store.list("pods", Some("shop"));
        assert_eq!(pods.len(), 2, "a scheduled pod terminates gracefully");
        assert_eq!(
            pods.iter().filter(|p| objects::is_terminating(p)).count(),
            1
        );
        assert!(
            store
                .list("events", Some("shop"))
                .iter()
                .any(|e| e["reason"] == "SuccessfulDelete")
        );
    }

    #[test]
    fn orphans_matching_the_selector_are_adopted() {
        let store = Store::new();
        store
            .create(
                "pods",
                json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "stray", "namespace": "shop", "labels": {"app": "web"}},
                "spec": {}, "status": {"phase": "Pending"}}),
            )
            .unwrap();
        let rs = replicaset(&store, 1);
        reconcile(&store, &Rules::default(), now());
        let stray = store.get("pods", Some("shop"), "stray").unwrap();
        assert!(objects::is_controlled_by(&stray, meta(&rs, "uid")));
        assert_eq!(store.list("pods", Some("shop")).len(), 1);
    }
}
