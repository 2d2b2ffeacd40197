//! Namespace LimitRanges, as the LimitRanger admission plugin applies them to new pods:
//! first the defaults (`default` limit, `defaultRequest`), then min, max and
//! maxLimitRequestRatio per container, and the same bounds on the pod's sums.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, LimitRange, LimitRangeItem};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use runbook::Finding;
use runbook::pods::{pod_limits, pod_requests};
use runbook::quantity::Quantity;

use crate::figures::{bytes as fmt_bytes, cpu as fmt_cpu};

use crate::plan::{Plan, all_containers, container_value};
use crate::preflight::pod_of;

const RESOURCES: [&str; 2] = ["cpu", "memory"];

/// An amount in millicores (cpu) or bytes (memory).
fn amount(resource: &str, q: &Quantity) -> i128 {
    if resource == "cpu" {
        q.to_millis()
    } else {
        q.to_bytes()
    }
}

fn show(resource: &str, v: i128) -> String {
    if resource == "cpu" {
        fmt_cpu(v)
    } else {
        fmt_bytes(v)
    }
}

fn bound(map: Option<&BTreeMap<String, K8sQuantity>>, resource: &str) -> Option<Quantity> {
    map?.get(resource).and_then(|q| Quantity::try_from(q).ok())
}

/// The item's default limit and default request for `resource`, with the API server's
/// defaulting of LimitRange items (`SetDefaults_LimitRangeItem`): the default limit falls
/// back to max, the default request to the default limit, then to min.
fn defaults(item: &LimitRangeItem, resource: &str) -> (Option<Quantity>, Option<Quantity>) {
    let limit =
        bound(item.default.as_ref(), resource).or_else(|| bound(item.max.as_ref(), resource));
    let request = bound(item.default_request.as_ref(), resource)
        .or(limit)
        .or_else(|| bound(item.min.as_ref(), resource));
    (limit, request)
}

/// A container's request and limit as admission sees them: an unset request equals the
/// limit (pod defaulting), then LimitRanger fills what is still unset from the defaults.
/// The flag says whether the limit came from the LimitRange.
fn effective(
    c: &Container,
    item: &LimitRangeItem,
    resource: &str,
) -> (Option<i128>, Option<i128>, bool) {
    let (default_limit, default_request) = defaults(item, resource);
    let explicit_limit = container_value(c, resource, true);
    let request = container_value(c, resource, false)
        .or(explicit_limit)
        .or(default_request);
    let limit = explicit_limit.or(default_limit);
    (
        request.map(|q| amount(resource, &q)),
        limit.map(|q| amount(resource, &q)),
        explicit_limit.is_none() && limit.is_some(),
    )
}

/// Why (request, limit) break the item's bounds for `resource`, one sentence each.
fn violations(
    item: &LimitRangeItem,
    resource: &str,
    request: Option<i128>,
    limit: Option<i128>,
    limit_defaulted: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let min = bound(item.min.as_ref(), resource).map(|q| amount(resource, &q));
    let max = bound(item.max.as_ref(), resource).map(|q| amount(resource, &q));
    if let (Some(min), Some(req)) = (min, request)
        && req < min
    {
        out.push(format!(
            "{resource} request {} is below the minimum {}",
            show(resource, req),
            show(resource, min)
        ));
    }
    if let (Some(max), Some(lim)) = (max, limit)
        && lim > max
    {
        out.push(format!(
            "{resource} limit {} is above the maximum {}",
            show(resource, lim),
            show(resource, max)
        ));
    }
    if let (Some(max), None) = (max, limit) {
        out.push(format!(
            "{resource} has no limit but the LimitRange sets a maximum {}, so one is required",
            show(resource, max)
        ));
    }
    if let (Some(req), Some(lim)) = (request, limit)
        && limit_defaulted
        && req > lim
    {
        out.push(format!(
            "{resource} request {} is above the default limit {} the LimitRange would add",
            show(resource, req),
            show(resource, lim)
        ));
    }
    if let Some(ratio) = bound(item.max_limit_request_ratio.as_ref(), resource)
        && let (Some(req), Some(lim)) = (request, limit)
        && (req == 0 || lim * 1_000_000_000 > ratio.nanos() * req)
    {
        out.push(format!(
            "{resource} limit/request ratio {:.2} is above maxLimitRequestRatio {ratio}",
            if req == 0 {
                f64::INFINITY
            } else {
                lim as f64 / req as f64
            }
        ));
    }
    out
}

/// `resize.limitrange-violation`: the new template breaks a LimitRange, so every new pod
/// would be rejected at admission.
pub fn check_limit_ranges(plan: &Plan, ranges: &[LimitRange]) -> Vec<Finding> {
    if !plan.changes_template() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for lr in ranges {
        let name = lr.metadata.name.as_deref().unwrap_or_default();
        let items = lr
            .spec
            .as_ref()
            .map(|s| s.limits.as_slice())
            .unwrap_or_default();
        for item in items {
            let mut problems: Vec<(String, String)> = Vec::new();
            match item.type_.as_str() {
                "Container" => {
                    for (c, _) in all_containers(&plan.new_template) {
                        for resource in RESOURCES {
                            let (req, lim, defaulted) = effective(c, item, resource);
                            for v in violations(item, resource, req, lim, defaulted) {
                                problems.push((format!("container {}", c.name), v));
                            }
                        }
                    }
                }
                "Pod" => {
                    let pod = pod_of(&plan.new_template);
                    let (req, lim) = (pod_requests(&pod), pod_limits(&pod));
                    let every_limit = |r: &str| {
                        all_containers(&plan.new_template)
                            .all(|(c, _)| container_value(c, r, true).is_some())
                    };
                    for resource in RESOURCES {
                        let (r, l) = if resource == "cpu" {
                            (req.cpu_millis, lim.cpu_millis)
                        } else {
                            (req.memory_bytes, lim.memory_bytes)
                        };
                        let limit = every_limit(resource).then_some(l);
                        for v in violations(item, resource, Some(r), limit, false) {
                            problems.push(("the pod".to_string(), v));
                        }
                    }
                }
                _ => {}
            }
            for (who, why) in problems {
                out.push(Finding::critical(
                    "resize.limitrange-violation",
                    plan.subject(),
                    format!("LimitRange {name} ({} bounds): {who}: {why}", item.type_),
                    format!(
                        "ask for values within the LimitRange (kubectl describe limitrange {name} -n {}): the API server would reject every new pod",
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
    use crate::test_support::plan_with;
    use serde_json::{Value, json};

    fn range(kind: &str, item: Value) -> LimitRange {
        let mut item = item;
        item["type"] = json!(kind);
        serde_json::from_value(json!({
            "metadata": {"name": "bounds", "namespace": "gateway-system"},
            "spec": {"limits": [item]}
        }))
        .unwrap()
    }

    fn to(new: Value) -> Plan {
        plan_with(
            json!({"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}),
            new,
        )
    }

    #[test]
    fn max_and_min_per_container() {
        let lr = range(
            "Container",
            json!({"max": {"memory": "1Gi"}, "min": {"memory": "128Mi"}}),
        );
        let over = to(json!({"requests": {"memory": "756Mi"}, "limits": {"memory": "1500Mi"}}));
        let f = check_limit_ranges(&over, std::slice::from_ref(&lr));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "resize.limitrange-violation");
        assert!(
            f[0].message
                .contains("memory limit 1500Mi is above the maximum 1Gi"),
            "{}",
            f[0].message
        );
        let under = to(json!({"requests": {"memory": "64Mi"}, "limits": {"memory": "512Mi"}}));
        let f = check_limit_ranges(&under, std::slice::from_ref(&lr));
        assert!(
            f[0].message.contains("below the minimum 128Mi"),
            "{}",
            f[0].message
        );
        let fine = to(json!({"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}}));
        assert!(check_limit_ranges(&fine, &[lr]).is_empty());
    }

    #[test]
    fn ratio_is_enforced() {
        let lr = range(
            "Container",
            json!({"maxLimitRequestRatio": {"memory": "2"}}),
        );
        let wide = to(json!({"requests": {"memory": "256Mi"}, "limits": {"memory": "1Gi"}}));
        let f = check_limit_ranges(&wide, std::slice::from_ref(&lr));
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("ratio 4.00 is above maxLimitRequestRatio 2"),
            "{}",
            f[0].message
        );
        let ok = to(json!({"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}}));
        assert!(check_limit_ranges(&ok, &[lr]).is_empty());
    }

    #[test]
    fn a_default_limit_below_the_new_request_is_caught() {
        let lr = range("Container", json!({"default": {"memory": "512Mi"}}));
        let plan = plan_with(
            json!({"requests": {"memory": "256Mi"}}),
            json!({"requests": {"memory": "1Gi"}}),
        );
        let f = check_limit_ranges(&plan, &[lr]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("above the default limit 512Mi"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_max_without_default_becomes_the_default_limit() {
        let lr = range("Container", json!({"max": {"memory": "2Gi"}}));
        let plan = plan_with(
            json!({"requests": {"memory": "256Mi"}}),
            json!({"requests": {"memory": "1Gi"}}),
        );
        assert!(
            check_limit_ranges(&plan, std::slice::from_ref(&lr)).is_empty(),
            "the limit defaults to 2Gi"
        );
        let over = plan_with(
            json!({"requests": {"memory": "256Mi"}}),
            json!({"requests": {"memory": "3Gi"}}),
        );
        let f = check_limit_ranges(&over, &[lr]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("above the default limit 2Gi"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn pod_bounds_use_the_sums() {
        let lr = range("Pod", json!({"max": {"memory": "768Mi"}}));
        let plan = to(json!({"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}}));
        let f = check_limit_ranges(&plan, &[lr]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("the pod: memory limit 1Gi is above the maximum 768Mi"),
            "{}",
            f[0].message
        );
    }
}
