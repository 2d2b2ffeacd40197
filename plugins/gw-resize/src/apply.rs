//! Sending the patches: the template (strategic merge on the workload) and the replicas
//! (merge patch on the scale subresource), each under its resourceVersion precondition.
//! A 409 Conflict comes back as [`Sent::Conflict`] for the caller to re-plan.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v1::Scale;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use runbook::error::from_kube;
use runbook::workload::{Workload, WorkloadKind};
use runbook::{Op, Result};
use serde_json::Value;

use crate::plan::Plan;
use crate::report::PatchRecord;

/// The answer to one patch.
#[derive(Debug)]
pub enum Sent<T> {
    /// Stored (or, in a dry run, what would be stored).
    Done(T),
    /// The object changed since it was read (the server's message).
    Conflict(String),
}

/// Sends patches with the run's dry-run mode and field manager.
#[derive(Clone)]
pub struct Patcher {
    client: Client,
    params: PatchParams,
}

impl Patcher {
    /// A patcher; `dry_run` sends dryRun=All.
    pub fn new(client: Client, dry_run: bool, field_manager: &str) -> Patcher {
        Patcher {
            client,
            params: PatchParams {
                dry_run,
                field_manager: Some(field_manager.to_string()),
                ..PatchParams::default()
            },
        }
    }

    /// Strategic-merge-patches the workload.
    pub async fn template(&self, plan: &Plan, body: &Value) -> Result<Sent<Workload>> {
        let ns = plan.namespace.as_str();
        let op = Op::new("patch", plan.kind.resource())
            .ns(ns)
            .name(&plan.name);
        let patch = Patch::Strategic(body);
        let answer = match plan.kind {
            WorkloadKind::Deployment => Api::<Deployment>::namespaced(self.client.clone(), ns)
                .patch(&plan.name, &self.params, &patch)
                .await
                .map(|d| Workload::Deployment(Box::new(d))),
            WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(self.client.clone(), ns)
                .patch(&plan.name, &self.params, &patch)
                .await
                .map(|s| Workload::StatefulSet(Box::new(s))),
        };
        sent(answer, &op)
    }

    /// Merge-patches the scale subresource.
    pub async fn scale(&self, plan: &Plan, body: &Value) -> Result<Sent<Scale>> {
        let ns = plan.namespace.as_str();
        let resource = format!("{}/scale", plan.kind.resource());
        let op = Op::new("patch", resource).ns(ns).name(&plan.name);
        let patch = Patch::Merge(body);
        let answer = match plan.kind {
            WorkloadKind::Deployment => {
                Api::<Deployment>::namespaced(self.client.clone(), ns)
                    .patch_scale(&plan.name, &self.params, &patch)
                    .await
            }
            WorkloadKind::StatefulSet => {
                Api::<StatefulSet>::namespaced(self.client.clone(), ns)
                    .patch_scale(&plan.name, &self.params, &patch)
                    .await
            }
        };
        sent(answer, &op)
    }
}

fn sent<T>(answer: std::result::Result<T, kube::Error>, op: &Op) -> Result<Sent<T>> {
    match answer {
        Ok(v) => Ok(Sent::Done(v)),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Sent::Conflict(s.message)),
        Err(e) => Err(from_kube(e, op)),
    }
}

/// The API path of the workload (or its scale subresource), for `--dry-run=client`.
pub fn api_path(plan: &Plan, scale: bool) -> String {
    let plural = match plan.kind {
        WorkloadKind::Deployment => "deployments",
        WorkloadKind::StatefulSet => "statefulsets",
    };
    format!(
        "/apis/apps/v1/namespaces/{}/{plural}/{}{}",
        plan.namespace,
        plan.name,
        if scale { "/scale" } else { "" }
    )
}

/// The bodies the plan needs, in the order they are sent (template, then scale).
pub fn patch_records(plan: &Plan, resource_version: &str) -> Vec<PatchRecord> {
    let mut out = Vec::new();
    if let Some(body) = crate::patch::template_patch(plan) {
        out.push(PatchRecord {
            path: api_path(plan, false),
            content_type: "application/strategic-merge-patch+json",
            body,
        });
    }
    if let Some(body) = crate::patch::scale_patch(plan, resource_version) {
        out.push(PatchRecord {
            path: api_path(plan, true),
            content_type: "application/merge-patch+json",
            body,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ReplicaPlan;
    use crate::test_support::plan_with;
    use serde_json::json;

    #[test]
    fn records_list_the_template_patch_then_the_scale_patch() {
        let mut plan = plan_with(
            json!({"limits": {"cpu": "1"}}),
            json!({"limits": {"cpu": "2"}}),
        );
        plan.replicas = Some(ReplicaPlan { from: 2, to: 3 });
        let records = patch_records(&plan, "41");
        let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/apis/apps/v1/namespaces/gateway-system/deployments/gw",
                "/apis/apps/v1/namespaces/gateway-system/deployments/gw/scale"
            ]
        );
        assert_eq!(
            records[0].content_type,
            "application/strategic-merge-patch+json"
        );
        assert_eq!(records[1].content_type, "application/merge-patch+json");
        assert_eq!(records[1].body["spec"]["replicas"], 3);
    }
}
