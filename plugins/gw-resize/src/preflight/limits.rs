//! A container's own request and limit: request above limit (refused), no memory limit (info).

use runbook::Finding;

use crate::plan::{Plan, container_value, find_container};

/// `resize.request-above-limit`: a changed container's request would exceed its limit, which
/// the API server rejects ("must be less than or equal to limit").
pub fn check_request_above_limit(plan: &Plan) -> Vec<Finding> {
    let mut out = Vec::new();
    for cp in plan.changed_containers() {
        let Some(c) = find_container(&plan.new_template, &cp.name) else {
            continue;
        };
        for resource in ["cpu", "memory"] {
            let (Some(req), Some(lim)) = (
                container_value(c, resource, false),
                container_value(c, resource, true),
            ) else {
                continue;
            };
            if req > lim {
                let flag = if resource == "cpu" {
                    "--cpu"
                } else {
                    "--memory"
                };
                out.push(Finding::critical(
                    "resize.request-above-limit",
                    plan.subject(),
                    format!(
                        "container {}: the {resource} request {req} would be above its limit {lim}, which the API server rejects",
                        cp.name
                    ),
                    format!(
                        "raise the limit as well ({flag} moves both, or {flag}-limit), or ask for a smaller request"
                    ),
                ));
            }
        }
    }
    out
}

/// `resize.no-limit`: a changed container still has no memory limit.
pub fn check_no_limit(plan: &Plan) -> Vec<Finding> {
    plan.changed_containers()
        .filter_map(|cp| find_container(&plan.new_template, &cp.name))
        .filter(|c| container_value(c, "memory", true).is_none())
        .map(|c| {
            Finding::info(
                "resize.no-limit",
                plan.subject(),
                format!("container {} has no memory limit", c.name),
                "set one with --memory-limit so a leak cannot exhaust the node (runbook 001)",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plan_with;
    use serde_json::json;

    #[test]
    fn request_above_limit_is_refused() {
        let plan = plan_with(
            json!({"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}}),
        );
        let f = check_request_above_limit(&plan);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.request-above-limit");
        assert_eq!(f[0].severity, runbook::Severity::Critical);
        assert!(
            f[0].message
                .contains("memory request 1Gi would be above its limit 512Mi"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn equal_or_missing_limit_is_fine_and_missing_limit_is_noted() {
        let equal = plan_with(
            json!({"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "512Mi"}, "limits": {"memory": "512Mi"}}),
        );
        assert!(check_request_above_limit(&equal).is_empty());
        assert!(check_no_limit(&equal).is_empty());
        let unlimited = plan_with(
            json!({"requests": {"memory": "256Mi"}}),
            json!({"requests": {"memory": "2Gi"}}),
        );
        assert!(check_request_above_limit(&unlimited).is_empty());
        let f = check_no_limit(&unlimited);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.no-limit");
    }
}
