//! The request bodies gw-resize sends, built from the plan: only the fields that change,
//! each with the resourceVersion the plan was made from as its precondition (the API
//! server answers 409 Conflict when the object changed meanwhile).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Map, Value, json};

use crate::plan::{Plan, RESTARTED_AT_ANNOTATION};

/// Annotations of a Deployment that `kubectl rollout undo` never copies from a ReplicaSet
/// (`annotationsToSkip` in kubectl's rollback.go).
const ROLLBACK_SKIPPED_ANNOTATIONS: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// The strategic merge patch of the template change, `None` when the template stays.
///
/// Containers merge by name, so the body names each changed container and only the
/// request/limit values that change; every other field (env, probes, mounts, other
/// containers) is left to the server as it is. Tolerations have no merge key: the whole new
/// list is sent (`null` when it becomes empty).
pub fn template_patch(plan: &Plan) -> Option<Value> {
    if !plan.changes_template() {
        return None;
    }
    let mut pod_spec = Map::new();
    let mut containers = Vec::new();
    let mut init_containers = Vec::new();
    for c in plan.changed_containers() {
        let mut requests = Map::new();
        let mut limits = Map::new();
        for r in &c.resources {
            if let Some(to) = r.request.to.filter(|_| r.request.changed()) {
                requests.insert(r.resource.clone(), json!(to.to_string()));
            }
            if let Some(to) = r.limit.to.filter(|_| r.limit.changed()) {
                limits.insert(r.resource.clone(), json!(to.to_string()));
            }
        }
        let mut resources = Map::new();
        if !requests.is_empty() {
            resources.insert("requests".into(), Value::Object(requests));
        }
        if !limits.is_empty() {
            resources.insert("limits".into(), Value::Object(limits));
        }
        let entry = json!({"name": c.name, "resources": resources});
        if c.init {
            init_containers.push(entry);
        } else {
            containers.push(entry);
        }
    }
    if !containers.is_empty() {
        pod_spec.insert("containers".into(), Value::Array(containers));
    }
    if !init_containers.is_empty() {
        pod_spec.insert("initContainers".into(), Value::Array(init_containers));
    }
    if let Some(t) = plan.tolerations.as_ref().filter(|t| t.from != t.to) {
        let list = if t.to.is_empty() {
            Value::Null
        } else {
            serde_json::to_value(&t.to).unwrap_or(Value::Null)
        };
        pod_spec.insert("tolerations".into(), list);
    }
    let mut template = Map::new();
    if let Some(stamp) = &plan.restarted_at {
        template.insert(
            "metadata".into(),
            json!({"annotations": {RESTARTED_AT_ANNOTATION: stamp}}),
        );
    }
    if !pod_spec.is_empty() {
        template.insert("spec".into(), Value::Object(pod_spec));
    }
    Some(json!({
        "metadata": {"resourceVersion": plan.resource_version},
        "spec": {"template": template}
    }))
}

/// The merge patch of the scale subresource, `None` when the replica count stays.
/// `resource_version` is the workload's (the scale subresource shares it).
pub fn scale_patch(plan: &Plan, resource_version: &str) -> Option<Value> {
    let r = plan.replicas.filter(|r| r.from != r.to)?;
    Some(json!({
        "metadata": {"resourceVersion": resource_version},
        "spec": {"replicas": r.to}
    }))
}

/// The JSON patch `kubectl rollout undo` sends to a Deployment to go back to `template` (the
/// previous ReplicaSet's template without its pod-template-hash label, with that
/// ReplicaSet's annotations), preceded by a `test` of the resourceVersion so that a change
/// made by someone else meanwhile is not overwritten.
pub fn deployment_rollback_patch(
    current: &Deployment,
    template: &PodTemplateSpec,
    replicaset_annotations: &BTreeMap<String, String>,
) -> Value {
    let mut annotations: BTreeMap<String, String> = BTreeMap::new();
    let own = current.metadata.annotations.clone().unwrap_or_default();
    for key in ROLLBACK_SKIPPED_ANNOTATIONS {
        if let Some(v) = own.get(key) {
            annotations.insert(key.to_string(), v.clone());
        }
    }
    for (k, v) in replicaset_annotations {
        if !ROLLBACK_SKIPPED_ANNOTATIONS.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    json!([
        {"op": "test", "path": "/metadata/resourceVersion",
         "value": current.metadata.resource_version.clone().unwrap_or_default()},
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
}

/// The strategic merge patch `kubectl rollout undo` sends to a StatefulSet: the previous
/// ControllerRevision's `data` (the template with `$patch: replace`), with the
/// resourceVersion as precondition.
pub fn statefulset_rollback_patch(revision_data: &Value, resource_version: &str) -> Value {
    let mut patch = revision_data.clone();
    if let Some(obj) = patch.as_object_mut() {
        obj.insert(
            "metadata".into(),
            json!({"resourceVersion": resource_version}),
        );
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ReplicaPlan, TolerationPlan};
    use crate::test_support::plan_with;

    #[test]
    fn memory_change_patches_only_the_changed_values() {
        let plan = plan_with(
            json!({"requests": {"memory": "256Mi", "cpu": "100m"}, "limits": {"memory": "512Mi"}}),
            json!({"requests": {"memory": "756Mi", "cpu": "100m"}, "limits": {"memory": "1012Mi"}}),
        );
        assert_eq!(
            template_patch(&plan).unwrap(),
            json!({
                "metadata": {"resourceVersion": "41"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "proxy", "resources": {"requests": {"memory": "756Mi"},
                                                    "limits": {"memory": "1012Mi"}}}
                ]}}}
            })
        );
    }

    #[test]
    fn a_limit_only_change_sends_no_requests() {
        let plan = plan_with(
            json!({"requests": {"cpu": "100m"}}),
            json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "2"}}),
        );
        assert_eq!(
            template_patch(&plan).unwrap()["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "proxy", "resources": {"limits": {"cpu": "2"}}})
        );
    }

    #[test]
    fn restart_and_tolerations_patch_the_template_only() {
        let mut plan = plan_with(json!({}), json!({}));
        plan.containers.clear();
        plan.restarted_at = Some("2026-11-05T10:00:00Z".into());
        plan.new_template
            .metadata
            .get_or_insert_with(Default::default)
            .annotations = Some(BTreeMap::from([(
            RESTARTED_AT_ANNOTATION.to_string(),
            "2026-11-05T10:00:00Z".to_string(),
        )]));
        assert_eq!(
            template_patch(&plan).unwrap(),
            json!({
                "metadata": {"resourceVersion": "41"},
                "spec": {"template": {"metadata": {"annotations": {
                    "kubectl.kubernetes.io/restartedAt": "2026-11-05T10:00:00Z"}}}}
            })
        );
        let tol = serde_json::from_value(
            json!({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}),
        )
        .unwrap();
        plan.tolerations = Some(TolerationPlan {
            from: vec![],
            to: vec![tol],
        });
        let body = template_patch(&plan).unwrap();
        assert_eq!(
            body["spec"]["template"]["spec"],
            json!({"tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]})
        );
    }

    #[test]
    fn no_template_change_no_template_patch() {
        let mut plan = plan_with(
            json!({"requests": {"cpu": "1"}}),
            json!({"requests": {"cpu": "1"}}),
        );
        assert_eq!(template_patch(&plan), None);
        assert_eq!(scale_patch(&plan, "41"), None);
        plan.replicas = Some(ReplicaPlan { from: 2, to: 5 });
        assert_eq!(
            scale_patch(&plan, "42").unwrap(),
            json!({"metadata": {"resourceVersion": "42"}, "spec": {"replicas": 5}})
        );
        plan.replicas = Some(ReplicaPlan { from: 2, to: 2 });
        assert_eq!(scale_patch(&plan, "42"), None);
    }

    #[test]
    fn rollback_mirrors_kubectl_rollout_undo() {
        let current: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "gw", "resourceVersion": "90", "annotations": {
                "deployment.kubernetes.io/revision": "4", "team": "edge", "change-cause": "resize"}},
            "spec": {"selector": {}, "template": {}}
        }))
        .unwrap();
        let template: PodTemplateSpec = serde_json::from_value(json!({
            "metadata": {"labels": {"app": "gw"}}, "spec": {"containers": [{"name": "proxy"}]}
        }))
        .unwrap();
        let rs_annotations = BTreeMap::from([
            (
                "deployment.kubernetes.io/revision".to_string(),
                "3".to_string(),
            ),
            ("change-cause".to_string(), "initial".to_string()),
        ]);
        let patch = deployment_rollback_patch(&current, &template, &rs_annotations);
        assert_eq!(
            patch,
            json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "90"},
                {"op": "replace", "path": "/spec/template", "value": {
                    "metadata": {"labels": {"app": "gw"}}, "spec": {"containers": [{"name": "proxy"}]}}},
                {"op": "replace", "path": "/metadata/annotations", "value": {
                    "deployment.kubernetes.io/revision": "4", "change-cause": "initial"}},
            ])
        );
    }

    #[test]
    fn statefulset_rollback_is_the_revision_data_with_a_precondition() {
        let data = json!({"spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "db"}]}}}});
        let patch = statefulset_rollback_patch(&data, "77");
        assert_eq!(patch["metadata"], json!({"resourceVersion": "77"}));
        assert_eq!(patch["spec"], data["spec"]);
    }
}
