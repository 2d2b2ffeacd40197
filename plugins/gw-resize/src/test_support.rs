//! Plans for the unit tests of the checks and patches.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Value, json};

use crate::plan::{ContainerPlan, Plan, ResourcePlan, ValueChange, container_value};
use runbook::workload::WorkloadKind;

/// A template with one container `proxy` carrying `resources`.
pub fn template(resources: Value) -> PodTemplateSpec {
    serde_json::from_value(json!({
        "metadata": {"labels": {"app": "gw"}},
        "spec": {"containers": [{"name": "proxy", "image": "gw:1", "resources": resources}]}
    }))
    .unwrap()
}

/// A plan changing container `proxy` of `deployment/gateway-system/gw` (2 replicas, surge 1)
/// from `old` to `new` resources.
pub fn plan_with(old: Value, new: Value) -> Plan {
    let old_template = template(old);
    let new_template = template(new);
    let old_c = &old_template.spec.as_ref().unwrap().containers[0];
    let new_c = &new_template.spec.as_ref().unwrap().containers[0];
    let resources = ["cpu", "memory"]
        .into_iter()
        .map(|r| ResourcePlan {
            resource: r.to_string(),
            request: ValueChange {
                from: container_value(old_c, r, false),
                to: container_value(new_c, r, false),
            },
            limit: ValueChange {
                from: container_value(old_c, r, true),
                to: container_value(new_c, r, true),
            },
        })
        .filter(ResourcePlan::changed)
        .collect();
    Plan {
        kind: WorkloadKind::Deployment,
        name: "gw".into(),
        namespace: "gateway-system".into(),
        resource_version: "41".into(),
        revision: Some("3".into()),
        containers: vec![ContainerPlan {
            name: "proxy".into(),
            init: false,
            resources,
        }],
        replicas: None,
        restarted_at: None,
        tolerations: None,
        current_replicas: 2,
        surge: 1,
        old_template,
        new_template,
    }
}
