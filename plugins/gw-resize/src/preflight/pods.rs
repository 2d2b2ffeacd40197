//! What the workload's running pods say about the change: containers OOMKilled whose memory
//! limit the change leaves as it is (runbook 000: raise memory, not something else).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use runbook::Finding;
use runbook::pods::container_summaries;

use crate::plan::{Plan, container_value, find_container};

/// `resize.oom-not-raised`: pods were OOMKilled in container C and the new template does not
/// give C a higher memory limit.
pub fn check_oom_not_raised(plan: &Plan, pods: &[Pod]) -> Vec<Finding> {
    let mut killed: BTreeMap<String, usize> = BTreeMap::new();
    for pod in pods {
        for c in container_summaries(pod).iter().filter(|c| c.oom_killed()) {
            *killed.entry(c.name.clone()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (name, count) in killed {
        let (Some(old), Some(new)) = (
            find_container(&plan.old_template, &name),
            find_container(&plan.new_template, &name),
        ) else {
            continue;
        };
        let before = container_value(old, "memory", true);
        let after = container_value(new, "memory", true);
        let raised = match (before, after) {
            (Some(b), Some(a)) => a > b,
            (Some(_), None) => true,
            (None, _) => true,
        };
        if !raised {
            let limit = after.map_or_else(|| "unset".to_string(), |q| q.to_string());
            out.push(Finding::warning(
                "resize.oom-not-raised",
                plan.subject(),
                format!(
                    "container {name} was OOMKilled in {count} pod(s) and its memory limit stays at {limit}: the new pods will be killed the same way"
                ),
                format!("raise its memory too: --memory +500Mi -c {name} (runbook 000 raises request and limit by 500Mi-1000Mi)"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::plan_with;
    use serde_json::json;

    fn oom_pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "gw-1"},
            "status": {"containerStatuses": [{"name": "proxy", "ready": false, "restartCount": 4, "image": "gw", "imageID": "",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn warns_when_an_oomkilled_container_keeps_its_limit() {
        let cpu_only = plan_with(
            json!({"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"cpu": "200m"}, "limits": {"memory": "512Mi"}}),
        );
        let f = check_oom_not_raised(&cpu_only, &[oom_pod()]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.oom-not-raised");
        assert!(f[0].message.contains("stays at 512Mi"), "{}", f[0].message);
        let raised = plan_with(
            json!({"limits": {"memory": "512Mi"}}),
            json!({"limits": {"memory": "1012Mi"}}),
        );
        assert!(check_oom_not_raised(&raised, &[oom_pod()]).is_empty());
    }
}
