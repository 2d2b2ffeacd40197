//! The default scheduler, reduced to what the runbooks need: the filter plugins
//! NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit and InterPodAffinity (in
//! that order, first failure per node), a spreading and least-allocated score, binding, and the
//! real FailedScheduling message with its preemption part.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::events::{self, Event, Source};
use super::labels::{map_matches, selector_matches};
use super::objects::{self, meta};
use super::{quantity, rules::Rules};
use crate::store::Store;

/// Why one node cannot take the pod.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFailure {
    /// The plugin reasons, e.g. `Insufficient memory` (NodeResourcesFit may give several).
    pub reasons: Vec<String>,
    /// Whether evicting lower-priority pods could help (Unschedulable, not
    /// UnschedulableAndUnresolvable).
    pub preemption_might_help: bool,
}

/// Free resources on a node: what is left after the pods bound to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeUsage {
    /// Requested cpu (cores).
    pub cpu: f64,
    /// Requested memory (bytes).
    pub memory: f64,
    /// Pods bound.
    pub pods: usize,
}

/// One pass: binds every pending pod that fits, marks the others unschedulable.
pub fn reconcile(store: &Store, rules: &Rules, now: Timestamp) -> bool {
    let (all_pods, _) = store.list_shared("pods", None);
    let mut pending: Vec<Value> = all_pods
        .iter()
        .filter(|p| wants_scheduling(p))
        .map(|p| (**p).clone())
        .collect();
    if pending.is_empty() {
        return false;
    }
    pending.sort_by(|a, b| {
        meta(a, "creationTimestamp")
            .cmp(meta(b, "creationTimestamp"))
            .then(meta(a, "name").cmp(meta(b, "name")))
    });
    let nodes = store.list("nodes", None);
    let mut bound: Vec<Value> = all_pods
        .iter()
        .filter(|p| {
            !objects::node_name(p).is_empty()
                && !matches!(objects::phase(p), "Succeeded" | "Failed")
        })
        .map(|p| (**p).clone())
        .collect();
    let mut changed = false;
    for pod in pending {
        match schedule(&pod, &nodes, &bound) {
            Ok(node) => {
                if let Some(placed) = bind(store, &pod, &node, now) {
                    bound.push(placed);
                    changed = true;
                }
            }
            Err(message) => changed |= mark_unschedulable(store, rules, &pod, &message, now),
        }
    }
    changed
}

fn wants_scheduling(pod: &Value) -> bool {
    objects::node_name(pod).is_empty()
        && !objects::is_terminating(pod)
        && matches!(objects::phase(pod), "" | "Pending")
        && matches!(
            objects::text(pod, "/spec/schedulerName"),
            "" | "default-scheduler"
        )
        && objects::list(pod, "/spec/schedulingGates").is_empty()
}

/// The node the pod goes to, or the FailedScheduling message.
pub fn schedule(pod: &Value, nodes: &[Value], bound: &[Value]) -> Result<String, String> {
    if nodes.is_empty() {
        return Err("no nodes available to schedule pods".to_string());
    }
    let mut usage: HashMap<&str, NodeUsage> = HashMap::new();
    for other in bound {
        let (cpu, memory) = objects::pod_requests(other);
        let entry = usage.entry(objects::node_name(other)).or_insert(NodeUsage {
            cpu: 0.0,
            memory: 0.0,
            pods: 0,
        });
        entry.cpu += cpu;
        entry.memory += memory;
        entry.pods += 1;
    }
    let empty = NodeUsage {
        cpu: 0.0,
        memory: 0.0,
        pods: 0,
    };
    let mut failures: Vec<NodeFailure> = Vec::new();
    let mut feasible: Vec<&Value> = Vec::new();
    for node in nodes {
        let used = usage.get(meta(node, "name")).copied().unwrap_or(empty);
        match filter(pod, node, used, nodes, bound) {
            Ok(()) => feasible.push(node),
            Err(failure) => failures.push(failure),
        }
    }
    if feasible.is_empty() {
        return Err(fit_error_message(nodes.len(), &failures));
    }
    let best = feasible
        .into_iter()
        .map(|node| {
            let used = usage.get(meta(node, "name")).copied().unwrap_or(empty);
            (score(pod, node, used, bound), node)
        })
        .max_by(|(a, na), (b, nb)| a.total_cmp(b).then(meta(nb, "name").cmp(meta(na, "name"))))
        .map(|(_, node)| meta(node, "name").to_string());
    best.ok_or_else(|| fit_error_message(nodes.len(), &failures))
}

/// Runs the filter plugins in the default profile's order; the first failing one decides.
pub fn filter(
    pod: &Value,
    node: &Value,
    used: NodeUsage,
    nodes: &[Value],
    bound: &[Value],
) -> Result<(), NodeFailure> {
    let unresolvable = |reason: String| NodeFailure {
        reasons: vec![reason],
        preemption_might_help: false,
    };
    let unschedulable_taint =
        json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"});
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true)
        && !tolerates(pod, &unschedulable_taint)
    {
        return Err(unresolvable("node(s) were unschedulable".into()));
    }
    if let Some(taint) = untolerated_taint(pod, node) {
        let message = format!(
            "node(s) had untolerated taint {{{}: {}}}",
            taint["key"].as_str().unwrap_or(""),
            taint["value"].as_str().unwrap_or("")
        );
        return Err(unresolvable(message));
    }
    if !node_affinity_matches(pod, node) {
        return Err(unresolvable(
            "node(s) didn't match Pod's node affinity/selector".into(),
        ));
    }
    let reasons = insufficient_resources(pod, node, used);
    if !reasons.is_empty() {
        return Err(NodeFailure {
            reasons,
            preemption_might_help: true,
        });
    }
    inter_pod_affinity(pod, node, nodes, bound)
}

/// `v1.Toleration.ToleratesTaint` for any of the pod's tolerations.
pub fn tolerates(pod: &Value, taint: &Value) -> bool {
    objects::list(pod, "/spec/tolerations")
        .iter()
        .any(|toleration| {
            let field = |v: &Value, f: &str| v[f].as_str().unwrap_or("").to_string();
            let effect = field(toleration, "effect");
            let key = field(toleration, "key");
            if !effect.is_empty() && effect != field(taint, "effect") {
                return false;
            }
            if !key.is_empty() && key != field(taint, "key") {
                return false;
            }
            match toleration["operator"].as_str().unwrap_or("") {
                "" | "Equal" => field(toleration, "value") == field(taint, "value"),
                "Exists" => true,
                _ => false,
            }
        })
}

/// The first NoSchedule / NoExecute taint of the node the pod does not tolerate.
pub fn untolerated_taint<'a>(pod: &Value, node: &'a Value) -> Option<&'a Value> {
    objects::list(node, "/spec/taints")
        .iter()
        .filter(|t| matches!(t["effect"].as_str(), Some("NoSchedule" | "NoExecute")))
        .find(|t| !tolerates(pod, t))
}

/// nodeSelector and required node affinity.
pub fn node_affinity_matches(pod: &Value, node: &Value) -> bool {
    let labels = node.pointer("/metadata/labels");
    if let Some(selector) = pod.pointer("/spec/nodeSelector")
        && !map_matches(selector, labels)
    {
        return false;
    }
    let Some(required) =
        pod.pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution")
    else {
        return true;
    };
    objects::list(required, "/nodeSelectorTerms")
        .iter()
        .any(|term| node_selector_term_matches(term, node))
}

/// A NodeSelectorTerm: all its expressions and fields must match; an empty term matches nothing.
pub fn node_selector_term_matches(term: &Value, node: &Value) -> bool {
    let expressions = objects::list(term, "/matchExpressions");
    let fields = objects::list(term, "/matchFields");
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    let label = |key: &str| {
        node.pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    };
    let field = |key: &str| (key == "metadata.name").then(|| meta(node, "name"));
    expressions.iter().all(|e| requirement_matches(e, label))
        && fields.iter().all(|e| requirement_matches(e, field))
}

fn requirement_matches<'a>(requirement: &Value, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
    let value = lookup(requirement["key"].as_str().unwrap_or(""));
    let values: Vec<&str> = objects::list(requirement, "/values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let number = |text: &str| text.parse::<i64>().ok();
    match requirement["operator"].as_str().unwrap_or("") {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a > b)
        }
        "Lt" => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a < b)
        }
        _ => false,
    }
}

fn allocatable(node: &Value, resource: &str) -> Option<f64> {
    node.pointer(&format!("/status/allocatable/{resource}"))
        .or_else(|| node.pointer(&format!("/status/capacity/{resource}")))
        .and_then(quantity::parse_value)
}

/// NodeResourcesFit: `Too many pods`, `Insufficient cpu`, `Insufficient memory`.
pub fn insufficient_resources(pod: &Value, node: &Value, used: NodeUsage) -> Vec<String> {
    let (cpu, memory) = objects::pod_requests(pod);
    let mut reasons = Vec::new();
    if let Some(max_pods) = allocatable(node, "pods")
        && used.pods as f64 + 1.0 > max_pods
    {
        reasons.push("Too many pods".to_string());
    }
    if cpu > 0.0 && allocatable(node, "cpu").is_some_and(|free| used.cpu + cpu > free + 1e-9) {
        reasons.push("Insufficient cpu".to_string());
    }
    if memory > 0.0 && allocatable(node, "memory").is_some_and(|free| used.memory + memory > free) {
        reasons.push("Insufficient memory".to_string());
    }
    reasons
}

/// Required pod affinity and anti-affinity of the incoming pod.
fn inter_pod_affinity(
    pod: &Value,
    node: &Value,
    nodes: &[Value],
    bound: &[Value],
) -> Result<(), NodeFailure> {
    let topology = |n: &Value, key: &str| {
        n.pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let node_of = |p: &Value| {
        nodes
            .iter()
            .find(|n| meta(n, "name") == objects::node_name(p))
    };
    let matching_domains = |term: &Value| -> Vec<Option<String>> {
        let key = term["topologyKey"].as_str().unwrap_or("");
        let namespaces: Vec<&str> = objects::list(term, "/namespaces")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        bound
            .iter()
            .filter(|other| objects::is_active(other))
            .filter(|other| {
                let ns = meta(other, "namespace");
                if namespaces.is_empty() {
                    ns == meta(pod, "namespace")
                } else {
                    namespaces.contains(&ns)
                }
            })
            .filter(|other| {
                selector_matches(term.get("labelSelector"), other.pointer("/metadata/labels"))
            })
            .filter_map(node_of)
            .map(|n| topology(n, key))
            .collect()
    };
    let anti = objects::list(
        pod,
        "/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution",
    );
    for term in anti {
        let here = topology(node, term["topologyKey"].as_str().unwrap_or(""));
        if here.is_some() && matching_domains(term).contains(&here) {
            return Err(NodeFailure {
                reasons: vec!["node(s) didn't match pod anti-affinity rules".into()],
                preemption_might_help: true,
            });
        }
    }
    let affinity = objects::list(
        pod,
        "/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution",
    );
    for term in affinity {
        let domains = matching_domains(term);
        let here = topology(node, term["topologyKey"].as_str().unwrap_or(""));
        let first_of_its_kind = domains.is_empty()
            && selector_matches(term.get("labelSelector"), pod.pointer("/metadata/labels"));
        if !first_of_its_kind && (here.is_none() || !domains.contains(&here)) {
            return Err(NodeFailure {
                reasons: vec!["node(s) didn't match pod affinity rules".into()],
                preemption_might_help: false,
            });
        }
    }
    Ok(())
}

/// Spreading (pods of the same owner on the node, weight 2) plus least-allocated and
/// balanced-allocation scores, each 0..100.
fn score(pod: &Value, node: &Value, used: NodeUsage, bound: &[Value]) -> f64 {
    let (cpu, memory) = objects::pod_requests(pod);
    let fraction = |requested: f64, resource: &str| match allocatable(node, resource) {
        Some(total) if total > 0.0 => ((requested) / total).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let cpu_fraction = fraction(used.cpu + cpu, "cpu");
    let memory_fraction = fraction(used.memory + memory, "memory");
    let least_allocated = ((1.0 - cpu_fraction) + (1.0 - memory_fraction)) * 50.0;
    let balanced = (1.0 - (cpu_fraction - memory_fraction).abs()) * 100.0;
    let owner = objects::controller_ref(pod).and_then(|r| r["uid"].as_str());
    let siblings = bound
        .iter()
        .filter(|other| objects::node_name(other) == meta(node, "name"))
        .filter(|other| {
            owner.is_some()
                && objects::controller_ref(other).and_then(|r| r["uid"].as_str()) == owner
        })
        .count();
    let spread = 100.0 / (1.0 + siblings as f64);
    2.0 * spread + least_allocated + balanced
}

/// `FitError.Error()` plus the DefaultPreemption post-filter message.
pub fn fit_error_message(node_count: usize, failures: &[NodeFailure]) -> String {
    let mut histogram: BTreeMap<&str, usize> = BTreeMap::new();
    let mut preemption: BTreeMap<&str, usize> = BTreeMap::new();
    for failure in failures {
        for reason in &failure.reasons {
            *histogram.entry(reason).or_default() += 1;
        }
        let verdict = if failure.preemption_might_help {
            "No preemption victims found for incoming pod"
        } else {
            "Preemption is not helpful for scheduling"
        };
        *preemption.entry(verdict).or_default() += 1;
    }
    let sorted = |counts: BTreeMap<&str, usize>| {
        let mut parts: Vec<String> = counts
            .into_iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        parts.sort();
        parts.join(", ")
    };
    format!(
        "0/{node_count} nodes are available: {}. preemption: 0/{node_count} nodes are available: {}.",
        sorted(histogram),
        sorted(preemption)
    )
}

fn set_pod_condition(pod: &mut Value, condition: Value) {
    if !pod.get("status").is_some_and(Value::is_object) {
        pod["status"] = json!({});
    }
    let kind = condition["type"].clone();
    let mut conditions: Vec<Value> = objects::list(pod, "/status/conditions").to_vec();
    match conditions.iter_mut().find(|c| c["type"] == kind) {
        Some(existing) => {
            let mut condition = condition;
            if existing["status"] == condition["status"] {
                condition["lastTransitionTime"] = existing["lastTransitionTime"].clone();
            }
            *existing = condition;
        }
        None => conditions.push(condition),
    }
    pod["status"]["conditions"] = Value::Array(conditions);
}

fn bind(store: &Store, pod: &Value, node: &str, now: Timestamp) -> Option<Value> {
    let mut next = pod.clone();
    next["spec"]["nodeName"] = json!(node);
    set_pod_condition(
        &mut next,
        json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
               "lastTransitionTime": objects::format_time(now)}),
    );
    let placed = store.update("pods", next).ok()?;
    let message = format!("Successfully assigned {} to {node}", objects::key(pod));
    events::record(
        store,
        now,
        Source::SCHEDULER,
        &placed,
        Event::normal("Scheduled", &message),
    );
    Some(placed)
}

fn mark_unschedulable(
    store: &Store,
    rules: &Rules,
    pod: &Value,
    message: &str,
    now: Timestamp,
) -> bool {
    let current = objects::pod_condition(pod, "PodScheduled");
    let unchanged = current.is_some_and(|c| c["status"] == "False" && c["message"] == message);
    if unchanged {
        let due = events::last_seen(store, pod, "FailedScheduling").is_none_or(|last| {
            objects::seconds_between(last, now) >= rules.scheduler_retry_seconds
        });
        if !due {
            return false;
        }
        return events::record(
            store,
            now,
            Source::SCHEDULER,
            pod,
            Event::warning("FailedScheduling", message),
        );
    }
    let mut next = pod.clone();
    set_pod_condition(
        &mut next,
        json!({"type": "PodScheduled", "status": "False", "lastProbeTime": null,
               "lastTransitionTime": objects::format_time(now), "reason": "Unschedulable", "message": message}),
    );
    next["status"]["phase"] = json!("Pending");
    let Ok(written) = store.update_status("pods", next) else {
        return false;
    };
    events::record(
        store,
        now,
        Source::SCHEDULER,
        &written,
        Event::warning("FailedScheduling", message),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, memory: &str, taints: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {"taints": taints},
            "status": {"allocatable": {"cpu": "4", "memory": memory, "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn pod(memory: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gateway-proxy-1", "namespace": "gateway"},
            "spec": {"containers": [{"name": "proxy", "resources": {"requests": {"memory": memory, "cpu": "100m"}}}]},
            "status": {"phase": "Pending"}})
    }

    #[test]
    fn the_message_reads_like_the_real_scheduler() {
        let gateway_taint =
            json!([{"key": "node-role.kubernetes.io/gateway", "effect": "NoSchedule"}]);
        let nodes = vec![
            node("node-1", "8Gi", gateway_taint),
            node("node-2", "1Gi", json!([])),
            node("node-3", "1Gi", json!([])),
        ];
        let err = schedule(&pod("2Gi"), &nodes, &[]).unwrap_err();
        assert_eq!(
            err,
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/gateway: }, \
             2 Insufficient memory. preemption: 0/3 nodes are available: \
             1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn only_taints_give_the_common_message() {
        let taint = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
        let nodes = vec![node("a", "8Gi", taint.clone()), node("b", "8Gi", taint)];
        assert_eq!(
            schedule(&pod("1Gi"), &nodes, &[]).unwrap_err(),
            "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
        assert_eq!(
            schedule(&pod("1Gi"), &[], &[]).unwrap_err(),
            "no nodes available to schedule pods"
        );
    }

    #[test]
    fn toleration_rules() {
        let taint =
            json!({"key": "node-role.kubernetes.io/gateway", "value": "", "effect": "NoSchedule"});
        let with = |tolerations: Value| json!({"spec": {"tolerations": tolerations}});
        assert!(tolerates(
            &with(json!([{"key": "node-role.kubernetes.io/gateway", "operator": "Exists"}])),
            &taint
        ));
        assert!(tolerates(&with(json!([{"operator": "Exists"}])), &taint));
        assert!(tolerates(
            &with(
                json!([{"key": "node-role.kubernetes.io/gateway", "operator": "Equal", "value": "", "effect": "NoSchedule"}])
            ),
            &taint
        ));
        assert!(!tolerates(
            &with(
                json!([{"key": "node-role.kubernetes.io/gateway", "operator": "Exists", "effect": "NoExecute"}])
            ),
            &taint
        ));
        assert!(!tolerates(
            &with(json!([{"key": "other", "operator": "Exists"}])),
            &taint
        ));
        assert!(!tolerates(
            &with(json!([{"key": "node-role.kubernetes.io/gateway", "value": "x"}])),
            &taint
        ));
        let prefer = json!({"spec": {"taints": [{"key": "soft", "effect": "PreferNoSchedule"}]}});
        assert!(
            untolerated_taint(&with(json!([])), &prefer).is_none(),
            "PreferNoSchedule does not filter"
        );
    }

    #[test]
    fn resources_count_pods_already_bound() {
        let nodes = vec![
            node("node-1", "1Gi", json!([])),
            node("node-2", "2Gi", json!([])),
        ];
        let mut existing = pod("1536Mi");
        existing["spec"]["nodeName"] = json!("node-2");
        assert_eq!(
            schedule(&pod("768Mi"), &nodes, &[existing]).unwrap(),
            "node-1"
        );
        let err = schedule(
            &pod("1Gi"),
            &nodes,
            &[pod_on("node-1", "512Mi"), pod_on("node-2", "1536Mi")],
        )
        .unwrap_err();
        assert!(
            err.starts_with("0/2 nodes are available: 2 Insufficient memory."),
            "{err}"
        );
    }

    fn pod_on(node: &str, memory: &str) -> Value {
        let mut p = pod(memory);
        p["spec"]["nodeName"] = json!(node);
        p
    }

    #[test]
    fn cordoned_nodes_and_selectors() {
        let mut cordoned = node("a", "8Gi", json!([]));
        cordoned["spec"]["unschedulable"] = json!(true);
        let mut labelled = node("b", "8Gi", json!([]));
        labelled["metadata"]["labels"]["role"] = json!("edge");
        let mut p = pod("1Gi");
        p["spec"]["nodeSelector"] = json!({"role": "core"});
        assert_eq!(
            schedule(&p, &[cordoned.clone(), labelled.clone()], &[]).unwrap_err(),
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. \
             preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
        let mut daemon = pod("1Gi");
        daemon["spec"]["tolerations"] = json!([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]);
        daemon["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["a"]}]}]}}});
        assert_eq!(schedule(&daemon, &[cordoned, labelled], &[]).unwrap(), "a");
    }

    #[test]
    fn spreading_prefers_nodes_without_siblings() {
        let nodes = vec![
            node("node-1", "8Gi", json!([])),
            node("node-2", "8Gi", json!([])),
        ];
        let owner = json!([{"uid": "rs-1", "controller": true, "kind": "ReplicaSet", "name": "x"}]);
        let mut sibling = pod_on("node-1", "1Gi");
        sibling["metadata"]["ownerReferences"] = owner.clone();
        let mut p = pod("1Gi");
        p["metadata"]["ownerReferences"] = owner;
        assert_eq!(schedule(&p, &nodes, &[sibling]).unwrap(), "node-2");
    }

    #[test]
    fn required_anti_affinity_keeps_replicas_apart() {
        let nodes = vec![
            node("node-1", "8Gi", json!([])),
            node("node-2", "8Gi", json!([])),
        ];
        let mut running = pod_on("node-1", "1Gi");
        running["metadata"]["labels"] = json!({"app": "gw"});
        let mut p = pod("1Gi");
        p["metadata"]["labels"] = json!({"app": "gw"});
        p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "gw"}}, "topologyKey": "kubernetes.io/hostname"}]}});
        assert_eq!(schedule(&p, &nodes, &[running.clone()]).unwrap(), "node-2");
        let mut second = pod_on("node-2", "1Gi");
        second["metadata"]["labels"] = json!({"app": "gw"});
        let err = schedule(&p, &nodes, &[running, second]).unwrap_err();
        assert!(
            err.contains("2 node(s) didn't match pod anti-affinity rules"),
            "{err}"
        );
    }

    #[test]
    fn binding_and_failure_are_written_with_events() {
        let store = Store::new();
        store
            .create("nodes", node("node-1", "1Gi", json!([])))
            .unwrap();
        store.create("pods", pod("512Mi")).unwrap();
        let mut big = pod("4Gi");
        big["metadata"]["name"] = json!("big");
        store.create("pods", big).unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert!(reconcile(&store, &Rules::default(), now));
        let placed = store
            .get("pods", Some("gateway"), "gateway-proxy-1")
            .unwrap();
        assert_eq!(placed["spec"]["nodeName"], "node-1");
        let big = store.get("pods", Some("gateway"), "big").unwrap();
        let condition = objects::pod_condition(&big, "PodScheduled").unwrap();
        assert_eq!(condition["reason"], "Unschedulable");
        assert!(
            !reconcile(&store, &Rules::default(), now),
            "no event spam while nothing changes"
        );
        let later = objects::plus_seconds(now, 61);
        assert!(reconcile(&store, &Rules::default(), later));
        let events = store.list("events", Some("gateway"));
        let failed = events
            .iter()
            .find(|e| e["reason"] == "FailedScheduling")
            .unwrap();
        assert_eq!(failed["count"], 2);
        assert_eq!(failed["source"]["component"], "default-scheduler");
        let scheduled = events.iter().find(|e| e["reason"] == "Scheduled").unwrap();
        assert_eq!(
            scheduled["message"],
            "Successfully assigned gateway/gateway-proxy-1 to node-1"
        );
    }
}
