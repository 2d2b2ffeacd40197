//! The workload's own rollout state: one already under way, a paused Deployment, a
//! StatefulSet that updates only on delete, and scaling to zero.

use runbook::Finding;

use runbook::workload::Workload;

use crate::plan::Plan;
use crate::workload::WorkloadExt;

/// `resize.rollout-in-progress`, `resize.paused`, `resize.on-delete`, `resize.scale-to-zero`.
pub fn check_rollout(plan: &Plan, workload: &Workload) -> Vec<Finding> {
    let mut out = Vec::new();
    let reference = plan.reference();
    if let Some(why) = workload.rollout_in_progress() {
        out.push(Finding::warning(
            "resize.rollout-in-progress",
            plan.subject(),
            format!("a rollout is already under way: {why}"),
            format!(
                "let it finish first (kubectl rollout status {reference} -n {}) unless this change is the fix",
                plan.namespace
            ),
        ));
    }
    if plan.changes_template() && workload.paused() {
        out.push(Finding::warning(
            "resize.paused",
            plan.subject(),
            "the Deployment is paused: the new template will not roll out until it is resumed",
            format!("kubectl rollout resume {reference} -n {}", plan.namespace),
        ));
    }
    if plan.changes_template() && workload.updates_on_delete() {
        out.push(Finding::warning(
            "resize.on-delete",
            plan.subject(),
            "the StatefulSet's updateStrategy is OnDelete: running pods keep the old template until they are deleted",
            "delete the pods one at a time once the change is applied, or switch the updateStrategy to RollingUpdate",
        ));
    }
    if plan.replicas.is_some_and(|r| r.to == 0 && r.from > 0) {
        out.push(Finding::warning(
            "resize.scale-to-zero",
            plan.subject(),
            format!("--replicas leaves no pod running: {reference} stops serving"),
            "scale to at least 1 unless stopping it is the intent",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ReplicaPlan;
    use crate::test_support::plan_with;
    use serde_json::{Value, json};

    fn deployment(spec_extra: Value, status: Value) -> Workload {
        let mut spec = json!({"replicas": 2, "selector": {"matchLabels": {"app": "gw"}},
                               "template": {"spec": {"containers": [{"name": "proxy"}]}}});
        if let (Value::Object(s), Value::Object(extra)) = (&mut spec, spec_extra) {
            s.extend(extra);
        }
        Workload::Deployment(Box::new(
            serde_json::from_value(json!({
                "metadata": {"name": "gw", "namespace": "gateway-system", "generation": 2},
                "spec": spec, "status": status
            }))
            .unwrap(),
        ))
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.check.as_str()).collect()
    }

    #[test]
    fn a_settled_workload_has_no_findings() {
        let plan = plan_with(
            json!({"requests": {"cpu": "1"}}),
            json!({"requests": {"cpu": "2"}}),
        );
        let done = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2});
        assert!(check_rollout(&plan, &deployment(json!({}), done)).is_empty());
    }

    #[test]
    fn rollout_under_way_and_paused_are_warned() {
        let plan = plan_with(
            json!({"requests": {"cpu": "1"}}),
            json!({"requests": {"cpu": "2"}}),
        );
        let rolling = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2});
        let f = check_rollout(&plan, &deployment(json!({"paused": true}), rolling));
        assert_eq!(ids(&f), ["resize.rollout-in-progress", "resize.paused"]);
        assert!(
            f[0].message.contains("1 of 2 new replicas"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn scaling_to_zero_is_warned() {
        let mut plan = plan_with(json!({}), json!({}));
        plan.replicas = Some(ReplicaPlan { from: 2, to: 0 });
        let done = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(
            ids(&check_rollout(&plan, &deployment(json!({}), done))),
            ["resize.scale-to-zero"]
        );
    }
}
