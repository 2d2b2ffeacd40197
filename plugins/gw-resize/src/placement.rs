//! Which nodes would accept a pod of a template, and how much room each has left: the
//! scheduler's filters that matter for a resize (cordon, readiness, taints, nodeSelector,
//! required node affinity, allocatable minus what scheduled pods request).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodTemplateSpec, Taint, Toleration,
};
use runbook::pods::{CpuMemory, pod_requests};
use runbook::quantity::Quantity;
use serde::Serialize;

/// One node as the scheduler would see a new pod of the template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeVerdict {
    /// The node's name.
    pub node: String,
    /// Why the pod cannot go there at all (empty: it may), ignoring capacity.
    pub refusals: Vec<String>,
    /// Allocatable minus what scheduled pods request.
    pub free: CpuMemory,
    /// Pods the node can still take.
    pub free_pods: i128,
}

impl NodeVerdict {
    /// True when no filter refuses the pod.
    pub fn accepts(&self) -> bool {
        self.refusals.is_empty()
    }

    /// True when the node accepts the pod and has room for `need`.
    pub fn fits(&self, need: CpuMemory) -> bool {
        self.accepts()
            && self.free.cpu_millis >= need.cpu_millis
            && self.free.memory_bytes >= need.memory_bytes
            && self.free_pods >= 1
    }
}

/// A toleration tolerates a taint as Kubernetes' `ToleratesTaint` decides.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty())
        && effect != taint.effect
    {
        return false;
    }
    let key = t.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            !key.is_empty()
                && t.value.as_deref().unwrap_or_default()
                    == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

/// `key=value:Effect` as kubectl prints taints.
pub fn taint_text(taint: &Taint) -> String {
    match taint.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => format!("{}={v}:{}", taint.key, taint.effect),
        None => format!("{}:{}", taint.key, taint.effect),
    }
}

fn requirement_matches(r: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let value = labels.get(&r.key);
    let values = r.values.as_deref().unwrap_or_default();
    let as_int = |s: &str| s.parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| as_int(v)),
                values.first().and_then(|b| as_int(b)),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

fn term_matches(term: &NodeSelectorTerm, node: &Node, labels: &BTreeMap<String, String>) -> bool {
    let name = node.metadata.name.clone().unwrap_or_default();
    let fields = BTreeMap::from([("metadata.name".to_string(), name)]);
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let field_exprs = term.match_fields.as_deref().unwrap_or_default();
    (!exprs.is_empty() || !field_exprs.is_empty())
        && exprs.iter().all(|r| requirement_matches(r, labels))
        && field_exprs.iter().all(|r| requirement_matches(r, &fields))
}

fn node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True")
}

/// Why the scheduler would refuse a pod of `template` on `node`, ignoring capacity.
pub fn refusals(template: &PodTemplateSpec, node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    let spec = template.spec.as_ref();
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        out.push("cordoned".to_string());
    }
    if !node_ready(node) {
        out.push("not Ready".to_string());
    }
    let tolerations = spec
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    for taint in node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
    {
        if taint.effect == "PreferNoSchedule" {
            continue;
        }
        if !tolerations.iter().any(|t| tolerates(t, taint)) {
            out.push(format!("untolerated taint {}", taint_text(taint)));
        }
    }
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    for (k, v) in spec
        .and_then(|s| s.node_selector.as_ref())
        .into_iter()
        .flatten()
    {
        if labels.get(k) != Some(v) {
            out.push(format!("nodeSelector {k}={v} not matched"));
        }
    }
    let required = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if let Some(req) = required
        && !req
            .node_selector_terms
            .iter()
            .any(|t| term_matches(t, node, labels))
    {
        out.push("required node affinity not matched".to_string());
    }
    out
}

fn allocatable(node: &Node, resource: &str) -> Option<Quantity> {
    node.status
        .as_ref()?
        .allocatable
        .as_ref()?
        .get(resource)
        .and_then(|q| Quantity::try_from(q).ok())
}

fn is_active(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Every node's verdict for a new pod of `template`. `scheduled` are the pods bound to nodes;
/// `freed` are pods that the change removes before it creates new ones (their requests count
/// as free on their node).
pub fn verdicts(
    template: &PodTemplateSpec,
    nodes: &[Node],
    scheduled: &[Pod],
    freed: &[Pod],
) -> Vec<NodeVerdict> {
    let is_freed = |p: &Pod| {
        freed
            .iter()
            .any(|f| f.metadata.uid.is_some() && f.metadata.uid == p.metadata.uid)
    };
    nodes
        .iter()
        .map(|node| {
            let name = node.metadata.name.clone().unwrap_or_default();
            let on_node: Vec<&Pod> = scheduled
                .iter()
                .filter(|p| {
                    is_active(p)
                        && p.spec.as_ref().and_then(|s| s.node_name.as_deref())
                            == Some(name.as_str())
                })
                .filter(|p| !is_freed(p))
                .collect();
            let used = on_node.iter().fold(CpuMemory::default(), |acc, p| {
                let r = pod_requests(p);
                CpuMemory {
                    cpu_millis: acc.cpu_millis + r.cpu_millis,
                    memory_bytes: acc.memory_bytes + r.memory_bytes,
                }
            });
            let alloc_cpu = allocatable(node, "cpu").map_or(0, |q| q.to_millis());
            let alloc_mem = allocatable(node, "memory").map_or(0, |q| q.to_bytes());
            let alloc_pods = allocatable(node, "pods").map_or(110, |q| q.to_bytes());
            NodeVerdict {
                refusals: refusals(template, node),
                free: CpuMemory {
                    cpu_millis: alloc_cpu - used.cpu_millis,
                    memory_bytes: alloc_mem - used.memory_bytes,
                },
                free_pods: alloc_pods - on_node.len() as i128,
                node: name,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    pub fn node(name: &str, extra: Value) -> Node {
        let mut n = json!({
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True"}]}
        });
        merge(&mut n, extra);
        serde_json::from_value(n).unwrap()
    }

    fn merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }

    pub fn pod_on(node: &str, uid: &str, memory: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": uid, "uid": uid},
            "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"memory": memory, "cpu": "100m"}}}]},
            "status": {"phase": "Running"}
        }))
        .unwrap()
    }

    fn template(spec_extra: Value) -> PodTemplateSpec {
        let mut spec = json!({"containers": [{"name": "proxy"}]});
        merge(&mut spec, spec_extra);
        serde_json::from_value(json!({"spec": spec})).unwrap()
    }

    #[test]
    fn taints_need_a_matching_toleration() {
        let n = node(
            "n1",
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gw", "effect": "NoSchedule"}]}}),
        );
        assert_eq!(
            refusals(&template(json!({})), &n),
            ["untolerated taint dedicated=gw:NoSchedule"]
        );
        let ok = template(
            json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gw", "effect": "NoSchedule"}]}),
        );
        assert!(refusals(&ok, &n).is_empty());
        let exists = template(json!({"tolerations": [{"operator": "Exists"}]}));
        assert!(
            refusals(&exists, &n).is_empty(),
            "an empty key with Exists tolerates everything"
        );
        let wrong = template(
            json!({"tolerations": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}),
        );
        assert_eq!(refusals(&wrong, &n).len(), 1);
    }

    #[test]
    fn cordon_readiness_selector_and_affinity() {
        let cordoned = node("n1", json!({"spec": {"unschedulable": true}}));
        assert_eq!(refusals(&template(json!({})), &cordoned), ["cordoned"]);
        let not_ready = node(
            "n2",
            json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
        );
        assert_eq!(refusals(&template(json!({})), &not_ready), ["not Ready"]);
        let n = node("n3", json!({"metadata": {"labels": {"role": "gateway"}}}));
        let sel = template(json!({"nodeSelector": {"role": "db"}}));
        assert_eq!(refusals(&sel, &n), ["nodeSelector role=db not matched"]);
        let aff = template(
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "role", "operator": "In", "values": ["gateway"]}]}]}}}}),
        );
        assert!(refusals(&aff, &n).is_empty());
        let other = node("n4", json!({}));
        assert_eq!(
            refusals(&aff, &other),
            ["required node affinity not matched"]
        );
    }

    #[test]
    fn free_capacity_subtracts_scheduled_pods_except_freed_ones() {
        let nodes = [node("n1", json!({}))];
        let pods = [pod_on("n1", "a", "3Gi"), pod_on("n2", "b", "1Gi")];
        let v = verdicts(&template(json!({})), &nodes, &pods, &[]);
        assert_eq!(v[0].free.memory_bytes, 1 << 30);
        assert_eq!(v[0].free.cpu_millis, 1900);
        let v = verdicts(&template(json!({})), &nodes, &pods, &pods[..1]);
        assert_eq!(v[0].free.memory_bytes, 4 << 30);
        let need = CpuMemory {
            cpu_millis: 100,
            memory_bytes: 2 << 30,
        };
        assert!(v[0].fits(need));
    }
}
