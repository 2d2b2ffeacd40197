//! The DaemonSet controller: one pod per eligible node (node selector and affinity match, taints
//! tolerated with the tolerations the controller adds to daemon pods, so cordoned and
//! not-ready nodes keep theirs), pinned by node affinity and placed by the scheduler; rolling
//! updates one node at a time; status counts.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::events::{self, Event, Source};
use super::objects::{self, meta};
use super::scheduler::{node_affinity_matches, tolerates, untolerated_taint};
use super::{admission, names, rules::Rules};
use crate::store::{DeleteOptions, Store};

/// The tolerations `AddOrUpdateDaemonPodTolerations` gives every daemon pod.
fn daemon_tolerations() -> Vec<Value> {
    let mut tolerations = vec![
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}),
    ];
    for key in [
        "disk-pressure",
        "memory-pressure",
        "pid-pressure",
        "unschedulable",
    ] {
        tolerations.push(json!({"key": format!("node.kubernetes.io/{key}"), "operator": "Exists", "effect": "NoSchedule"}));
    }
    tolerations
}

/// One pass over every DaemonSet.
pub fn reconcile(store: &Store, _rules: &Rules, now: Timestamp) -> bool {
    let nodes = store.list("nodes", None);
    let mut changed = false;
    for set in store.list("daemonsets", None) {
        if objects::is_terminating(&set) {
            continue;
        }
        let pods: Vec<Value> = store
            .list("pods", Some(meta(&set, "namespace")))
            .into_iter()
            .filter(|p| objects::is_controlled_by(p, meta(&set, "uid")))
            .collect();
        changed |= sync(store, &set, &nodes, &pods, now);
    }
    changed
}

/// The daemon pod template with the added tolerations, as a pod for eligibility checks.
fn template_pod(set: &Value) -> Value {
    let mut pod = json!({"spec": set.pointer("/spec/template/spec").cloned().unwrap_or(json!({}))});
    let mut tolerations = objects::list(&pod, "/spec/tolerations").to_vec();
    tolerations.extend(daemon_tolerations());
    pod["spec"]["tolerations"] = Value::Array(tolerations);
    pod
}

/// `NodeShouldRunDaemonPod`: (should run, should continue running). A pod already on a node
/// whose NoSchedule taints it does not tolerate (a not-ready node) keeps running as long as it
/// tolerates the NoExecute ones.
pub fn should_run(set: &Value, node: &Value) -> (bool, bool) {
    let pod = template_pod(set);
    if !node_affinity_matches(&pod, node) {
        return (false, false);
    }
    match untolerated_taint(&pod, node) {
        None => (true, true),
        Some(_) => {
            let no_execute = objects::list(node, "/spec/taints")
                .iter()
                .filter(|t| t["effect"] == "NoExecute")
                .any(|t| !tolerates(&pod, t));
            (false, !no_execute)
        }
    }
}

/// The node a daemon pod is pinned to by its `metadata.name` node affinity.
fn pinned_node(pod: &Value) -> &str {
    let node = objects::node_name(pod);
    if !node.is_empty() {
        return node;
    }
    objects::list(pod, "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .iter()
        .flat_map(|t| objects::list(t, "/matchFields"))
        .find(|f| f["key"] == "metadata.name")
        .and_then(|f| f["values"][0].as_str())
        .unwrap_or("")
}

/// The `controller-revision-hash` of the set's current template.
pub fn revision(set: &Value) -> String {
    names::pod_template_hash(set.pointer("/spec/template").unwrap_or(&Value::Null), 0)
}

/// The daemon pod for `node`, named `name`, as the controller creates it: the template plus
/// revision labels, the daemon tolerations and a node affinity pinning it to the node.
pub fn daemon_pod(set: &Value, node: &str, name: &str) -> Value {
    let template = set.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut pod = objects::pod_from_template(&template, set, name);
    pod["metadata"]["labels"]["controller-revision-hash"] = json!(revision(set));
    pod["metadata"]["labels"]["pod-template-generation"] =
        json!(objects::int(set, "/metadata/generation", 1).to_string());
    pod["spec"]["tolerations"] = template_pod(set)["spec"]["tolerations"].clone();
    pod["spec"]["affinity"]["nodeAffinity"] = json!({"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}});
    pod
}

fn sync(store: &Store, set: &Value, nodes: &[Value], pods: &[Value], now: Timestamp) -> bool {
    let namespace = meta(set, "namespace");
    let revision = revision(set);
    let mut changed = false;
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
            let message = format!("Deleted pod: {}", meta(pod, "name"));
            events::record(
                store,
                now,
                Source::DAEMONSET,
                set,
                Event::normal("SuccessfulDelete", &message),
            );
        }
        deleted
    };
    let live: Vec<&Value> = pods
        .iter()
        .filter(|p| !objects::is_terminating(p))
        .collect();
    for node in nodes {
        let node_name = meta(node, "name");
        let here: Vec<&&Value> = live
            .iter()
            .filter(|p| pinned_node(p) == node_name)
            .collect();
        let (wanted, may_stay) = should_run(set, node);
        for pod in &here {
            let failed = objects::phase(pod) == "Failed";
            if !may_stay || failed {
                changed |= delete(pod);
            }
        }
        for extra in here.iter().skip(1) {
            changed |= delete(extra);
        }
        if wanted && here.is_empty() {
            let taken = |name: &str| store.get("pods", Some(namespace), name).is_some();
            let prefix = format!("{}-", meta(set, "name"));
            let name = names::generate(
                &prefix,
                &format!("{namespace}/{}/{node_name}", meta(set, "name")),
                taken,
            );
            let pod = daemon_pod(set, node_name, &name);
            let failed = |error: &str| format!("Error creating: {error}");
            if let Ok(true) = admission::create_pod(store, now, Source::DAEMONSET, set, pod, failed)
            {
                let message = format!("Created pod: {name}");
                let event = Event::normal("SuccessfulCreate", &message);
                events::record(store, now, Source::DAEMONSET, set, event);
                changed = true;
            }
        }
    }
    let rolling = objects::text(set, "/spec/updateStrategy/type") != "OnDelete";
    let all_ready = live.iter().all(|p| objects::is_ready(p)) && live.len() == pods.len();
    if rolling
        && all_ready
        && let Some(outdated) = live
            .iter()
            .find(|p| objects::text(p, "/metadata/labels/controller-revision-hash") != revision)
    {
        changed |= delete(outdated);
    }
    changed | update_status(store, set, nodes, &live, &revision)
}

fn update_status(
    store: &Store,
    set: &Value,
    nodes: &[Value],
    live: &[&Value],
    revision: &str,
) -> bool {
    let eligible: Vec<&str> = nodes
        .iter()
        .filter(|n| should_run(set, n).0)
        .map(|n| meta(n, "name"))
        .collect();
    let on_eligible: Vec<&&Value> = live
        .iter()
        .filter(|p| eligible.contains(&pinned_node(p)))
        .collect();
    let scheduled = on_eligible.len();
    let ready = on_eligible.iter().filter(|p| objects::is_ready(p)).count();
    let misscheduled = live
        .iter()
        .filter(|p| !objects::node_name(p).is_empty() && !eligible.contains(&pinned_node(p)))
        .count();
    let updated = on_eligible
        .iter()
        .filter(|p| objects::text(p, "/metadata/labels/controller-revision-hash") == revision)
        .count();
    let mut status = json!({
        "currentNumberScheduled": scheduled,
        "desiredNumberScheduled": eligible.len(),
        "numberMisscheduled": misscheduled,
        "numberReady": ready,
        "numberAvailable": ready,
        "numberUnavailable": eligible.len().saturating_sub(ready),
        "updatedNumberScheduled": updated,
        "observedGeneration": objects::int(set, "/metadata/generation", 1),
    });
    for omitted_when_zero in [
        "numberAvailable",
        "numberUnavailable",
        "updatedNumberScheduled",
    ] {
        if status[omitted_when_zero] == 0 {
            status.as_object_mut().map(|s| s.remove(omitted_when_zero));
        }
    }
    if set.get("status") == Some(&status) {
        return false;
    }
    let mut next = set.clone();
    next["status"] = status;
    objects::update_status(store, "daemonsets", next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {}}, "spec": spec,
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    }

    #[test]
    fn one_pod_per_eligible_node_cordoned_included() {
        let store = Store::new();
        store.create("nodes", node("node-1", json!({}))).unwrap();
        store
            .create(
                "nodes",
                node(
                    "node-2",
                    json!({"unschedulable": true,
            "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]}),
                ),
            )
            .unwrap();
        store
            .create(
                "nodes",
                node(
                    "gpu-1",
                    json!({"taints": [{"key": "gpu", "effect": "NoSchedule"}]}),
                ),
            )
            .unwrap();
        store.create("daemonsets", json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "node-exporter", "namespace": "monitoring"},
            "spec": {"selector": {"matchLabels": {"app": "node-exporter"}},
                "template": {"metadata": {"labels": {"app": "node-exporter"}}, "spec": {"containers": [{"name": "exporter", "image": "prom/node-exporter"}]}}}})).unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        reconcile(&store, &Rules::default(), now);
        let pods = store.list("pods", Some("monitoring"));
        let mut placed: Vec<&str> = pods.iter().map(pinned_node).collect();
        placed.sort();
        assert_eq!(placed, ["node-1", "node-2"]);
        assert!(
            pods.iter().all(|p| objects::node_name(p).is_empty()),
            "the scheduler binds daemon pods"
        );
        reconcile(&store, &Rules::default(), now);
        let set = store
            .get("daemonsets", Some("monitoring"), "node-exporter")
            .unwrap();
        assert_eq!(set["status"]["desiredNumberScheduled"], 2);
        assert_eq!(set["status"]["currentNumberScheduled"], 2);
        assert!(!reconcile(&store, &Rules::default(), now));
    }
}
