//! The StatefulSet controller: pods `<set>-0..n-1` with stable names, hostname and subdomain,
//! created in order (OrderedReady waits for each to be Running and Ready) and removed from the
//! highest ordinal, rolling updates from the highest ordinal down to the partition, status with
//! current and update revisions. A pod stuck on an unreachable node is not replaced: it exists.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::events::{self, Event, Source};
use super::objects::{self, meta};
use super::{admission, names, rules::Rules};
use crate::store::{DeleteOptions, Store};

/// One pass over every StatefulSet.
pub fn reconcile(store: &Store, _rules: &Rules, now: Timestamp) -> bool {
    let mut changed = false;
    for set in store.list("statefulsets", None) {
        if objects::is_terminating(&set) {
            continue;
        }
        let pods: Vec<Value> = store
            .list("pods", Some(meta(&set, "namespace")))
            .into_iter()
            .filter(|p| objects::is_controlled_by(p, meta(&set, "uid")))
            .collect();
        changed |= sync(store, &set, &pods, now);
    }
    changed
}

/// `<set>-<hash of the template>`, the `controller-revision-hash` of its pods.
pub fn update_revision(set: &Value) -> String {
    let template = set.pointer("/spec/template").cloned().unwrap_or(json!({}));
    format!(
        "{}-{}",
        meta(set, "name"),
        names::pod_template_hash(&template, 0)
    )
}

/// The ordinal of a pod named `<set>-<n>`.
fn ordinal(set: &Value, pod: &Value) -> Option<i64> {
    meta(pod, "name")
        .strip_prefix(&format!("{}-", meta(set, "name")))?
        .parse()
        .ok()
}

fn revision_of(pod: &Value) -> &str {
    objects::text(pod, "/metadata/labels/controller-revision-hash")
}

fn running_and_ready(pod: &Value) -> bool {
    objects::phase(pod) == "Running" && objects::is_ready(pod) && !objects::is_terminating(pod)
}

/// The pod of ordinal `index`, as the controller creates it.
pub fn stateful_pod(set: &Value, index: i64, revision: &str) -> Value {
    let name = format!("{}-{index}", meta(set, "name"));
    let template = set.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut pod = objects::pod_from_template(&template, set, &name);
    pod["metadata"]
        .as_object_mut()
        .map(|m| m.remove("generateName"));
    let labels = &mut pod["metadata"]["labels"];
    labels["controller-revision-hash"] = json!(revision);
    labels["statefulset.kubernetes.io/pod-name"] = json!(name);
    labels["apps.kubernetes.io/pod-index"] = json!(index.to_string());
    pod["spec"]["hostname"] = json!(name);
    if let Some(service) = set.pointer("/spec/serviceName").and_then(Value::as_str) {
        pod["spec"]["subdomain"] = json!(service);
    }
    let claims: Vec<Value> = objects::list(set, "/spec/volumeClaimTemplates")
        .iter()
        .filter_map(|claim| claim.pointer("/metadata/name").and_then(Value::as_str))
        .map(|claim| json!({"name": claim, "persistentVolumeClaim": {"claimName": format!("{claim}-{name}")}}))
        .collect();
    if !claims.is_empty() {
        let mut volumes = objects::list(&pod, "/spec/volumes").to_vec();
        volumes.extend(claims);
        pod["spec"]["volumes"] = Value::Array(volumes);
    }
    pod
}

fn sync(store: &Store, set: &Value, pods: &[Value], now: Timestamp) -> bool {
    let replicas = objects::int(set, "/spec/replicas", 1);
    let parallel = objects::text(set, "/spec/podManagementPolicy") == "Parallel";
    let revision = update_revision(set);
    let namespace = meta(set, "namespace");
    let set_name = meta(set, "name");
    let record = |verb: &str, pod: &str| {
        let message = format!("{verb} Pod {pod} in StatefulSet {set_name} successful");
        let reason = if verb == "create" {
            "SuccessfulCreate"
        } else {
            "SuccessfulDelete"
        };
        events::record(
            store,
            now,
            Source::STATEFULSET,
            set,
            Event::normal(reason, &message),
        );
    };
    let delete = |pod: &Value| {
        let deleted = store
            .delete(
                "pods",
                Some(namespace),
                meta(pod, "name"),
                &DeleteOptions::default(),
            )
            .is_ok();
        if deleted {
            record("delete", meta(pod, "name"));
        }
        deleted
    };
    let mut changed = false;
    for pod in pods.iter().filter(|p| {
        matches!(objects::phase(p), "Failed" | "Succeeded") && !objects::is_terminating(p)
    }) {
        changed |= delete(pod);
    }
    let by_ordinal = |index: i64| pods.iter().find(|p| ordinal(set, p) == Some(index));
    for index in 0..replicas {
        if by_ordinal(index).is_some() {
            continue;
        }
        let predecessors_ready = (0..index).all(|i| by_ordinal(i).is_some_and(running_and_ready));
        if !parallel && !predecessors_ready {
            break;
        }
        let pod_name = format!("{set_name}-{index}");
        let failed = |error: &str| {
            format!("create Pod {pod_name} in StatefulSet {set_name} failed error: {error}")
        };
        match admission::create_pod(
            store,
            now,
            Source::STATEFULSET,
            set,
            stateful_pod(set, index, &revision),
            failed,
        ) {
            Ok(true) => {
                record("create", &pod_name);
                changed = true;
            }
            Ok(false) => {}
            Err(_) => break,
        }
        if !parallel {
            break;
        }
    }
    let all_settled = pods.iter().all(|p| !objects::is_terminating(p));
    if all_settled {
        let mut surplus: Vec<&Value> = pods
            .iter()
            .filter(|p| ordinal(set, p).is_none_or(|i| i >= replicas))
            .collect();
        surplus.sort_by_key(|p| std::cmp::Reverse(ordinal(set, p)));
        if let Some(highest) = surplus.first() {
            changed |= delete(highest);
        } else if pods.iter().all(running_and_ready) && pods.len() as i64 == replicas {
            let partition = objects::int(set, "/spec/updateStrategy/rollingUpdate/partition", 0);
            let rolling = objects::text(set, "/spec/updateStrategy/type") != "OnDelete";
            let outdated = pods
                .iter()
                .filter(|p| {
                    revision_of(p) != revision && ordinal(set, p).is_some_and(|i| i >= partition)
                })
                .max_by_key(|p| ordinal(set, p));
            if let (true, Some(pod)) = (rolling, outdated) {
                changed |= delete(pod);
            }
        }
    }
    changed | update_status(store, set, pods, &revision)
}

fn update_status(store: &Store, set: &Value, pods: &[Value], revision: &str) -> bool {
    let active: Vec<&Value> = pods
        .iter()
        .filter(|p| !objects::is_terminating(p))
        .collect();
    let updated = active.iter().filter(|p| revision_of(p) == revision).count();
    let current_revision = match set
        .pointer("/status/currentRevision")
        .and_then(Value::as_str)
    {
        Some(current) if updated != active.len() || active.is_empty() => current.to_string(),
        _ => revision.to_string(),
    };
    let current = active
        .iter()
        .filter(|p| revision_of(p) == current_revision)
        .count();
    let ready = active.iter().filter(|p| objects::is_ready(p)).count();
    let mut status = json!({
        "observedGeneration": objects::int(set, "/metadata/generation", 1),
        "replicas": active.len(),
        "readyReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "availableReplicas": ready,
        "currentRevision": current_revision,
        "updateRevision": revision,
        "collisionCount": 0,
    });
    for omitted_when_zero in ["readyReplicas", "currentReplicas", "updatedReplicas"] {
        if status[omitted_when_zero] == 0 {
            status.as_object_mut().map(|s| s.remove(omitted_when_zero));
        }
    }
    if set.get("status") == Some(&status) {
        return false;
    }
    let mut next = set.clone();
    next["status"] = status;
    objects::update_status(store, "statefulsets", next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn make_ready(store: &Store) {
        for mut pod in store.list("pods", Some("db")) {
            pod["status"] =
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
            store.update("pods", pod).unwrap();
        }
    }

    #[test]
    fn pods_are_created_in_order_and_wait_for_readiness() {
        let store = Store::new();
        store.create("statefulsets", json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "redis", "namespace": "db"},
            "spec": {"replicas": 2, "serviceName": "redis", "selector": {"matchLabels": {"app": "redis"}},
                "template": {"metadata": {"labels": {"app": "redis"}}, "spec": {"containers": [{"name": "redis", "image": "redis:7"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}})).unwrap();
        reconcile(&store, &Rules::default(), now());
        let pods = store.list("pods", Some("db"));
        assert_eq!(pods.len(), 1);
        let first = &pods[0];
        assert_eq!(meta(first, "name"), "redis-0");
        assert_eq!(first["spec"]["hostname"], "redis-0");
        assert_eq!(first["spec"]["subdomain"], "redis");
        assert_eq!(
            first["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
            "redis-0"
        );
        assert_eq!(
            first["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "data-redis-0"
        );
        reconcile(&store, &Rules::default(), now());
        assert_eq!(
            store.list("pods", Some("db")).len(),
            1,
            "redis-1 waits for redis-0 to be ready"
        );
        make_ready(&store);
        reconcile(&store, &Rules::default(), now());
        assert_eq!(store.list("pods", Some("db")).len(), 2);
        make_ready(&store);
        reconcile(&store, &Rules::default(), now());
        let set = store.get("statefulsets", Some("db"), "redis").unwrap();
        assert_eq!(set["status"]["readyReplicas"], 2);
        assert_eq!(
            set["status"]["currentRevision"],
            set["status"]["updateRevision"]
        );
        assert!(!reconcile(&store, &Rules::default(), now()));
        let events = store.list("events", Some("db"));
        assert!(
            events
                .iter()
                .any(|e| e["message"] == "create Pod redis-1 in StatefulSet redis successful")
        );
    }
}
