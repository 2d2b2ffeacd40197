//! Namespace ResourceQuota headroom: the quota admission plugin refuses pods that would push
//! `used` above `hard`, so the ReplicaSet never creates them (FailedCreate) and the rollout
//! hangs. Compared here: the extra usage at the worst moment of the rolling update.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use runbook::Finding;
use runbook::pods::{CpuMemory, pod_limits, pod_requests};
use runbook::quantity::Quantity;

use crate::figures::{bytes as fmt_bytes, cpu as fmt_cpu};

use crate::plan::Plan;
use crate::preflight::pod_of;

/// Quota scopes that the workload's pods (long-running, with resources) fall under.
const MATCHING_SCOPES: [&str; 2] = ["NotTerminating", "NotBestEffort"];

/// What one pod counts against a quota key, before and after the change.
#[derive(Clone, Copy, Debug)]
struct PerPod {
    old: i128,
    new: i128,
}

/// How a quota key's amount prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Millicores,
    Bytes,
    Count,
}

impl Unit {
    fn show(self, v: i128) -> String {
        match self {
            Unit::Millicores => fmt_cpu(v),
            Unit::Bytes => fmt_bytes(v),
            Unit::Count => v.to_string(),
        }
    }

    fn read(self, q: &K8sQuantity) -> Option<i128> {
        let q = Quantity::try_from(q).ok()?;
        Some(match self {
            Unit::Millicores => q.to_millis(),
            Unit::Bytes | Unit::Count => q.to_bytes(),
        })
    }
}

fn per_pod(
    key: &str,
    old: (CpuMemory, CpuMemory),
    new: (CpuMemory, CpuMemory),
) -> Option<(PerPod, Unit)> {
    let pick = |side: (CpuMemory, CpuMemory), limits: bool, cpu: bool| {
        let amounts = if limits { side.1 } else { side.0 };
        if cpu {
            amounts.cpu_millis
        } else {
            amounts.memory_bytes
        }
    };
    let (limits, cpu) = match key {
        "pods" => return Some((PerPod { old: 1, new: 1 }, Unit::Count)),
        "cpu" | "requests.cpu" => (false, true),
        "memory" | "requests.memory" => (false, false),
        "limits.cpu" => (true, true),
        "limits.memory" => (true, false),
        _ => return None,
    };
    let unit = if cpu { Unit::Millicores } else { Unit::Bytes };
    Some((
        PerPod {
            old: pick(old, limits, cpu),
            new: pick(new, limits, cpu),
        },
        unit,
    ))
}

/// The extra usage at the worst moment of the change. A rolling update with surge `s`
/// first adds `s` new pods next to the old ones, and ends with every new pod running while
/// up to `s` old ones are still terminating; without surge (Recreate, StatefulSet) old pods
/// go before new ones come. A change of replicas alone adds or removes pods of the current
/// template.
fn peak_extra(p: PerPod, plan: &Plan) -> i128 {
    let r = i128::from(plan.current_replicas);
    let r2 = i128::from(plan.new_replicas());
    let s = i128::from(plan.surge);
    let extra = if !plan.changes_template() {
        (r2 - r) * p.new
    } else if s > 0 {
        (r2 * p.new + s * p.old - r * p.old).max(s * p.new)
    } else {
        r2 * p.new - r * p.old
    };
    extra.max(0)
}

fn applies(q: &ResourceQuota) -> bool {
    let Some(spec) = q.spec.as_ref() else {
        return true;
    };
    spec.scope_selector.is_none()
        && spec
            .scopes
            .iter()
            .flatten()
            .all(|s| MATCHING_SCOPES.contains(&s.as_str()))
}

/// `resize.quota-exceeded`: a quota key whose headroom (hard − used) is smaller than the
/// extra the rollout needs at its peak.
pub fn check_quota(plan: &Plan, quotas: &[ResourceQuota]) -> Vec<Finding> {
    let old_pod = pod_of(&plan.old_template);
    let new_pod = pod_of(&plan.new_template);
    let old = (pod_requests(&old_pod), pod_limits(&old_pod));
    let new = (pod_requests(&new_pod), pod_limits(&new_pod));
    let mut out = Vec::new();
    for q in quotas.iter().filter(|q| applies(q)) {
        let name = q.metadata.name.as_deref().unwrap_or_default();
        let status = q.status.as_ref();
        let empty = BTreeMap::new();
        let hard = status
            .and_then(|s| s.hard.as_ref())
            .or_else(|| q.spec.as_ref().and_then(|s| s.hard.as_ref()))
            .unwrap_or(&empty);
        let used = status.and_then(|s| s.used.as_ref()).unwrap_or(&empty);
        for (key, hard_q) in hard {
            let Some((p, unit)) = per_pod(key, old, new) else {
                continue;
            };
            let extra = peak_extra(p, plan);
            if extra == 0 {
                continue;
            }
            let (Some(hard_v), used_v) =
                (unit.read(hard_q), used.get(key).and_then(|u| unit.read(u)))
            else {
                continue;
            };
            let used_v = used_v.unwrap_or(0);
            let left = (hard_v - used_v).max(0);
            if extra > left {
                out.push(Finding::critical(
                    "resize.quota-exceeded",
                    plan.subject(),
                    format!(
                        "ResourceQuota {name}: {key} needs {} more at the peak of the rollout ({} pods at {} each, up to {} extra during the rolling update) but only {} is left ({} of {} used)",
                        unit.show(extra),
                        plan.new_replicas(),
                        unit.show(p.new),
                        plan.surge,
                        unit.show(left),
                        unit.show(used_v),
                        unit.show(hard_v),
                    ),
                    format!(
                        "raise {key} in ResourceQuota {name} (kubectl edit resourcequota {name} -n {}) or ask for less: pods over quota are never created",
                        plan.namespace
                    ),
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
    use serde_json::{Value, json};

    fn quota(hard: Value, used: Value) -> ResourceQuota {
        serde_json::from_value(json!({
            "metadata": {"name": "compute", "namespace": "gateway-system"},
            "spec": {"hard": hard},
            "status": {"hard": hard, "used": used}
        }))
        .unwrap()
    }

    fn memory_plan() -> Plan {
        plan_with(
            json!({"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "756Mi"}, "limits": {"memory": "1012Mi"}}),
        )
    }

    #[test]
    fn peak_counts_new_pods_and_the_surge_of_old_ones() {
        // 2 replicas, surge 1: end of rollout = 2 × 756Mi + 1 × 256Mi − 2 × 256Mi = 1256Mi.
        let plan = memory_plan();
        let q = quota(
            json!({"requests.memory": "2Gi"}),
            json!({"requests.memory": "800Mi"}),
        );
        let f = check_quota(&plan, &[q]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.quota-exceeded");
        assert!(
            f[0].message.contains("needs 1256Mi more"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("only 1248Mi is left"),
            "{}",
            f[0].message
        );
        let roomy = quota(
            json!({"requests.memory": "4Gi"}),
            json!({"requests.memory": "512Mi"}),
        );
        assert!(check_quota(&plan, &[roomy]).is_empty());
    }

    #[test]
    fn limits_and_pods_keys_are_checked_and_unknown_keys_ignored() {
        let plan = memory_plan();
        let q = quota(
            json!({"limits.memory": "1536Mi", "pods": "10", "services": "1"}),
            json!({"limits.memory": "1Gi", "pods": "2", "services": "5"}),
        );
        let f = check_quota(&plan, &[q]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .starts_with("ResourceQuota compute: limits.memory")
        );
    }

    #[test]
    fn pods_key_counts_the_surge_and_new_replicas() {
        let mut plan = memory_plan();
        plan.replicas = Some(ReplicaPlan { from: 2, to: 4 });
        let q = quota(json!({"pods": "4"}), json!({"pods": "2"}));
        let f = check_quota(&plan, &[q]);
        assert_eq!(f.len(), 1, "4 new + 1 surge − 2 = 3 pods more, 2 left");
        assert!(f[0].message.contains("needs 3 more"), "{}", f[0].message);
    }

    #[test]
    fn lowering_a_request_needs_only_the_surge() {
        let plan = plan_with(
            json!({"requests": {"memory": "1Gi"}}),
            json!({"requests": {"memory": "512Mi"}}),
        );
        let q = quota(
            json!({"requests.memory": "2560Mi"}),
            json!({"requests.memory": "2Gi"}),
        );
        assert!(
            check_quota(&plan, &[q]).is_empty(),
            "one 512Mi surge pod fits in 512Mi"
        );
    }

    #[test]
    fn scoped_quotas_that_do_not_match_are_skipped() {
        let plan = memory_plan();
        let mut q = quota(
            json!({"requests.memory": "1Gi"}),
            json!({"requests.memory": "1Gi"}),
        );
        q.spec.as_mut().unwrap().scopes = Some(vec!["BestEffort".into()]);
        assert!(check_quota(&plan, &[q]).is_empty());
    }
}
