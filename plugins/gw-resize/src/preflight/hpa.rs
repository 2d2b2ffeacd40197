//! HorizontalPodAutoscalers targeting the workload: they own the replica count, and their
//! utilization targets are relative to the requests being changed.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use runbook::Finding;

use crate::plan::Plan;

fn targets(hpa: &HorizontalPodAutoscaler, plan: &Plan) -> bool {
    hpa.spec.as_ref().is_some_and(|s| {
        let r = &s.scale_target_ref;
        r.kind == plan.kind.as_str()
            && r.name == plan.name
            && r.api_version
                .as_deref()
                .is_none_or(|v| v.starts_with("apps/"))
    })
}

/// `resize.hpa-owns-replicas` (refused without `--force`, a warning with it) and
/// `resize.hpa-utilization` (info when a request the HPA measures against changes).
pub fn check_hpa(plan: &Plan, hpas: &[HorizontalPodAutoscaler], force: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for hpa in hpas.iter().filter(|h| targets(h, plan)) {
        let name = hpa.metadata.name.as_deref().unwrap_or_default();
        let Some(spec) = hpa.spec.as_ref() else {
            continue;
        };
        let min = spec.min_replicas.unwrap_or(1);
        let max = spec.max_replicas;
        if let Some(r) = plan.replicas.filter(|r| r.from != r.to) {
            let hint = format!(
                "change the HPA instead: kubectl patch hpa {name} -n {} -p '{{\"spec\":{{\"minReplicas\":{}}}}}' (or maxReplicas){}",
                plan.namespace,
                r.to.max(1),
                if force {
                    ""
                } else {
                    "; --force overrides it until the next sync"
                }
            );
            let message = format!(
                "HorizontalPodAutoscaler {name} owns the replica count (min {min}, max {max}): it would set it back from {} at its next sync",
                r.to
            );
            out.push(if force {
                Finding::warning("resize.hpa-owns-replicas", plan.subject(), message, hint)
            } else {
                Finding::critical("resize.hpa-owns-replicas", plan.subject(), message, hint)
            });
        }
        for resource in ["cpu", "memory"] {
            let measures = spec.metrics.iter().flatten().any(|m| {
                m.resource
                    .as_ref()
                    .is_some_and(|r| r.name == resource && r.target.type_ == "Utilization")
            });
            let changed = plan.changed_containers().any(|c| {
                c.resources
                    .iter()
                    .any(|r| r.resource == resource && r.request.changed())
            });
            if measures && changed {
                out.push(Finding::info(
                    "resize.hpa-utilization",
                    plan.subject(),
                    format!(
                        "HorizontalPodAutoscaler {name} scales on {resource} utilization relative to the request: changing the request shifts its readings (a larger request reads lower and scales in)"
                    ),
                    "review the HPA's averageUtilization target after the change",
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ReplicaPlan;
    use crate::test_support::plan_with;
    use runbook::Severity;
    use serde_json::json;

    fn hpa(target: &str) -> HorizontalPodAutoscaler {
        serde_json::from_value(json!({
            "metadata": {"name": "gw", "namespace": "gateway-system"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": 2, "maxReplicas": 6,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                  "target": {"type": "Utilization", "averageUtilization": 70}}}]}
        }))
        .unwrap()
    }

    fn scale_plan() -> Plan {
        let mut plan = plan_with(json!({}), json!({}));
        plan.replicas = Some(ReplicaPlan { from: 2, to: 4 });
        plan
    }

    #[test]
    fn replicas_with_an_hpa_are_refused_unless_forced() {
        let f = check_hpa(&scale_plan(), &[hpa("gw")], false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.hpa-owns-replicas");
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].hint.contains("\"minReplicas\":4"), "{}", f[0].hint);
        let forced = check_hpa(&scale_plan(), &[hpa("gw")], true);
        assert_eq!(forced[0].severity, Severity::Warning);
        assert!(check_hpa(&scale_plan(), &[hpa("other")], false).is_empty());
    }

    #[test]
    fn cpu_request_change_under_a_cpu_hpa_is_noted() {
        let plan = plan_with(
            json!({"requests": {"cpu": "100m"}}),
            json!({"requests": {"cpu": "200m"}}),
        );
        let f = check_hpa(&plan, &[hpa("gw")], false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.hpa-utilization");
        let mem = plan_with(
            json!({"requests": {"memory": "1Gi"}}),
            json!({"requests": {"memory": "2Gi"}}),
        );
        assert!(check_hpa(&mem, &[hpa("gw")], false).is_empty());
    }
}
