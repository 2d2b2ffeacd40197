//! Will a new pod find a node? One pod of the new template must fit on some schedulable
//! node (allocatable minus what scheduled pods request), or it stays Pending.

use crate::figures::{bytes as fmt_bytes, cpu as fmt_cpu};
use k8s_openapi::api::core::v1::{Node, Pod};
use runbook::Finding;
use runbook::pods::pod_requests;

use crate::placement::{NodeVerdict, verdicts};
use crate::plan::Plan;
use crate::preflight::pod_of;

/// `resize.no-node-fits`: no node accepts and has room for one new pod. When the workload
/// replaces pods without surge (Recreate, StatefulSet), its own pods free their room first.
pub fn check_node_fit(plan: &Plan, nodes: &[Node], scheduled: &[Pod], own: &[Pod]) -> Vec<Finding> {
    let adds_pods = plan.new_replicas() > plan.current_replicas;
    if !(plan.changes_template() || adds_pods) || plan.new_replicas() == 0 {
        return Vec::new();
    }
    let freed = if plan.changes_template() && plan.surge == 0 {
        own
    } else {
        &[]
    };
    let need = pod_requests(&pod_of(&plan.new_template));
    let all = verdicts(&plan.new_template, nodes, scheduled, freed);
    if all.iter().any(|v| v.fits(need)) {
        return Vec::new();
    }
    let accepting: Vec<&NodeVerdict> = all.iter().filter(|v| v.accepts()).collect();
    if accepting.is_empty() && plan.tolerations.is_some() && !all.is_empty() {
        // resize.toleration-unplaced says it, with the taints.
        return Vec::new();
    }
    let refused = all.len() - accepting.len();
    let best = accepting.iter().max_by_key(|v| {
        (
            v.free.memory_bytes.min(v.free.cpu_millis * (1 << 20)),
            v.free.memory_bytes,
        )
    });
    let detail = match best {
        Some(b) => format!(
            "the roomiest accepting node {} has {} CPU and {} memory free{}",
            b.node,
            fmt_cpu(b.free.cpu_millis.max(0)),
            fmt_bytes(b.free.memory_bytes.max(0)),
            if refused > 0 {
                format!(
                    " ({refused} of {} nodes refuse the pod: cordoned, not Ready, taints or selectors)",
                    all.len()
                )
            } else {
                String::new()
            }
        ),
        None if all.is_empty() => "the cluster has no nodes".to_string(),
        None => {
            let reasons: Vec<String> = all
                .iter()
                .take(3)
                .map(|v| format!("{}: {}", v.node, v.refusals.join(", ")))
                .collect();
            format!(
                "all {} nodes refuse the pod ({}{})",
                all.len(),
                reasons.join("; "),
                if all.len() > 3 { "; ..." } else { "" }
            )
        }
    };
    vec![Finding::warning(
        "resize.no-node-fits",
        plan.subject(),
        format!(
            "no schedulable node has room for a new pod requesting {} CPU and {} memory: {detail}",
            fmt_cpu(need.cpu_millis),
            fmt_bytes(need.memory_bytes),
        ),
        "the new pods would stay Pending: ask for less, free room on a node, or add one",
    )]
}

/// `resize.toleration-unplaced`: after a toleration change, still no node accepts the pods.
pub fn check_toleration_placement(plan: &Plan, nodes: &[Node]) -> Vec<Finding> {
    if plan.tolerations.is_none() || nodes.is_empty() {
        return Vec::new();
    }
    let all = verdicts(&plan.new_template, nodes, &[], &[]);
    if all.iter().any(NodeVerdict::accepts) {
        return Vec::new();
    }
    let reasons: Vec<String> = all
        .iter()
        .take(3)
        .map(|v| format!("{}: {}", v.node, v.refusals.join(", ")))
        .collect();
    vec![Finding::warning(
        "resize.toleration-unplaced",
        plan.subject(),
        format!(
            "with the new tolerations no node accepts the pods yet ({}{})",
            reasons.join("; "),
            if all.len() > 3 { "; ..." } else { "" }
        ),
        "tolerate the taints the nodes actually carry (kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints)",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::tests::{node, pod_on};
    use crate::plan::{ReplicaPlan, TolerationPlan};
    use crate::test_support::plan_with;
    use serde_json::json;

    fn grow_to(memory: &str) -> Plan {
        plan_with(
            json!({"requests": {"memory": "512Mi", "cpu": "100m"}}),
            json!({"requests": {"memory": memory, "cpu": "100m"}}),
        )
    }

    #[test]
    fn warns_when_no_node_has_room() {
        let nodes = [
            node("n1", json!({})),
            node("n2", json!({"spec": {"unschedulable": true}})),
        ];
        let scheduled = [pod_on("n1", "a", "3Gi")];
        let f = check_node_fit(&grow_to("2Gi"), &nodes, &scheduled, &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.no-node-fits");
        assert!(
            f[0].message
                .contains("n1 has 1900m CPU and 1Gi memory free"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("1 of 2 nodes refuse the pod"),
            "{}",
            f[0].message
        );
        assert!(check_node_fit(&grow_to("1Gi"), &nodes, &scheduled, &[]).is_empty());
    }

    #[test]
    fn without_surge_the_workloads_own_pods_make_room() {
        let nodes = [node("n1", json!({}))];
        let own = [pod_on("n1", "a", "3Gi")];
        let mut plan = grow_to("2Gi");
        assert_eq!(
            check_node_fit(&plan, &nodes, &own, &own).len(),
            1,
            "surge 1: no room"
        );
        plan.surge = 0;
        assert!(check_node_fit(&plan, &nodes, &own, &own).is_empty());
    }

    #[test]
    fn replicas_only_changes_check_when_adding_pods() {
        let nodes = [node("n1", json!({"spec": {"unschedulable": true}}))];
        let mut plan = grow_to("512Mi");
        plan.new_template = plan.old_template.clone();
        plan.replicas = Some(ReplicaPlan { from: 2, to: 1 });
        assert!(check_node_fit(&plan, &nodes, &[], &[]).is_empty());
        plan.replicas = Some(ReplicaPlan { from: 2, to: 3 });
        assert_eq!(check_node_fit(&plan, &nodes, &[], &[]).len(), 1);
    }

    #[test]
    fn toleration_change_that_places_nowhere_is_flagged() {
        let nodes = [node(
            "n1",
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gw", "effect": "NoSchedule"}]}}),
        )];
        let mut plan = grow_to("512Mi");
        plan.tolerations = Some(TolerationPlan {
            from: vec![],
            to: vec![],
        });
        let f = check_toleration_placement(&plan, &nodes);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("n1: untolerated taint dedicated=gw:NoSchedule"),
            "{}",
            f[0].message
        );
        plan.new_template.spec.as_mut().unwrap().tolerations = Some(vec![
            serde_json::from_value(
                json!({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}),
            )
            .unwrap(),
        ]);
        assert!(check_toleration_placement(&plan, &nodes).is_empty());
    }
}
