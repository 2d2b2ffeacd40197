//! Pre-flight checks: pure functions from the plan and the fetched objects around the
//! workload to findings. Critical findings refuse the change before anything is sent.

pub mod hpa;
pub mod limitrange;
pub mod limits;
pub mod nodes;
pub mod pods;
pub mod quota;
pub mod rollout;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{LimitRange, Node, Pod, PodTemplateSpec, ResourceQuota};
use runbook::Finding;
use runbook::findings::sort_findings;

use crate::plan::Plan;
use runbook::workload::Workload;

/// A list a check needs, or why it could not be read (forbidden, not served).
pub type Fetched<T> = Result<Vec<T>, String>;

/// The objects around the workload that the checks read.
#[derive(Clone, Debug)]
pub struct Surroundings {
    /// The namespace's ResourceQuotas.
    pub quotas: Fetched<ResourceQuota>,
    /// The namespace's LimitRanges.
    pub limit_ranges: Fetched<LimitRange>,
    /// Every node.
    pub nodes: Fetched<Node>,
    /// Every pod bound to a node and not finished (all namespaces): what nodes have reserved.
    pub scheduled_pods: Fetched<Pod>,
    /// The namespace's HorizontalPodAutoscalers.
    pub hpas: Fetched<HorizontalPodAutoscaler>,
    /// The workload's own pods.
    pub workload_pods: Fetched<Pod>,
}

/// Runs every check, worst first.
pub fn run_checks(
    plan: &Plan,
    workload: &Workload,
    around: &Surroundings,
    force: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(limits::check_request_above_limit(plan));
    findings.extend(limits::check_no_limit(plan));
    findings.extend(with(&around.quotas, plan, "ResourceQuotas", |q| {
        quota::check_quota(plan, q)
    }));
    findings.extend(with(&around.limit_ranges, plan, "LimitRanges", |l| {
        limitrange::check_limit_ranges(plan, l)
    }));
    match (&around.nodes, &around.scheduled_pods) {
        (Ok(nodes), Ok(pods)) => {
            let own = around.workload_pods.as_deref().unwrap_or_default();
            findings.extend(nodes::check_node_fit(plan, nodes, pods, own));
            findings.extend(nodes::check_toleration_placement(plan, nodes));
        }
        (Err(why), _) | (_, Err(why)) => {
            if plan.changes_template() || plan.new_replicas() > plan.current_replicas {
                findings.push(skipped(plan, "node capacity", why));
            }
        }
    }
    findings.extend(with(&around.hpas, plan, "HorizontalPodAutoscalers", |h| {
        hpa::check_hpa(plan, h, force)
    }));
    findings.extend(rollout::check_rollout(plan, workload));
    findings.extend(with(
        &around.workload_pods,
        plan,
        "the workload's pods",
        |p| pods::check_oom_not_raised(plan, p),
    ));
    sort_findings(&mut findings);
    findings
}

fn with<T>(
    fetched: &Fetched<T>,
    plan: &Plan,
    what: &str,
    check: impl FnOnce(&[T]) -> Vec<Finding>,
) -> Vec<Finding> {
    match fetched {
        Ok(items) => check(items),
        Err(why) => vec![skipped(plan, what, why)],
    }
}

fn skipped(plan: &Plan, what: &str, why: &str) -> Finding {
    Finding::info(
        "resize.check-skipped",
        plan.subject(),
        format!("could not check {what}: {why}"),
        "",
    )
}

/// A pod built from a template, for the shared request arithmetic.
pub fn pod_of(t: &PodTemplateSpec) -> Pod {
    Pod {
        spec: t.spec.clone(),
        ..Pod::default()
    }
}
