//! The checks: pure functions from a [`ServiceView`](crate::index::ServiceView) to findings,
//! one file per area.

pub mod endpoints;
pub mod ports;
pub mod readiness;
pub mod selector;
pub mod service_type;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, Service};
use runbook::findings::subject;
use runbook::pods::OwnerKind;

use crate::index::ServiceView;

/// `service/namespace/name` for findings about the Service.
pub fn service_subject(view: &ServiceView) -> String {
    subject("service", view.namespace, view.name)
}

/// `pod/namespace/name`.
pub fn pod_subject(pod: &Pod) -> String {
    subject(
        "pod",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// The pod's name.
pub fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// The workload that owns the pod's template, as `kind/name` (`deployment/web`); `None`
/// for bare and mirror pods.
pub fn pod_owner(pod: &Pod) -> Option<String> {
    let owner = runbook::pods::owner_of(pod, &[]);
    match owner.kind {
        OwnerKind::None | OwnerKind::Node => None,
        kind => Some(format!("{}/{}", kind.as_str().to_lowercase(), owner.name)),
    }
}

/// The distinct owners of `pods`, sorted (`deployment/web`, `statefulset/db`).
pub fn owners_of<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> Vec<String> {
    pods.into_iter()
        .filter_map(pod_owner)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// "the pod template of deployment/web" or "the pods' template" when no owner is known.
pub fn template_of(owners: &[String]) -> String {
    if owners.is_empty() {
        "the pods' template".to_string()
    } else {
        format!("the pod template of {}", owners.join(", "))
    }
}

/// Up to `max` names, then "and N more".
pub fn list_names<S: AsRef<str>>(names: &[S], max: usize) -> String {
    let shown: Vec<&str> = names.iter().take(max).map(AsRef::as_ref).collect();
    let mut s = shown.join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}

/// The Service's type (`ClusterIP` when unset).
pub fn kind_of(svc: &Service) -> &str {
    svc.spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("ClusterIP")
}

/// True for `clusterIP: None` (headless).
pub fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// True when the pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    runbook::pods::is_pod_ready(pod)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_of_replicaset_pod_is_its_deployment() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-6d4f8-abcde", "labels": {"pod-template-hash": "6d4f8"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-6d4f8", "uid": "u", "controller": true}]}
        }))
        .unwrap();
        assert_eq!(pod_owner(&pod).as_deref(), Some("deployment/web"));
        let sts: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "db-0", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u", "controller": true}]}
        }))
        .unwrap();
        assert_eq!(pod_owner(&sts).as_deref(), Some("statefulset/db"));
        assert_eq!(list_names(&["a", "b", "c"], 2), "a, b and 1 more");
    }
}
