//! Who owns a pod: the controller chain pod → ReplicaSet → Deployment (or StatefulSet,
//! DaemonSet, Job → CronJob), mirror pods of static manifests, or nobody.

use std::fmt;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;

/// The annotation the kubelet puts on the API mirror of a static pod.
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The label a Deployment puts on its ReplicaSets and pods.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// The kind of the top-level owner of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum OwnerKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    /// A ReplicaSet not owned by a Deployment.
    ReplicaSet,
    Job,
    CronJob,
    /// A mirror pod of a static manifest: the node's kubelet owns it.
    Node,
    /// Any other controller kind (ReplicationController, an operator's CRD...).
    Other(String),
    /// No controller: a bare pod, deleted for good by a drain.
    None,
}

impl OwnerKind {
    fn from_kind(kind: &str) -> OwnerKind {
        match kind {
            "Deployment" => OwnerKind::Deployment,
            "StatefulSet" => OwnerKind::StatefulSet,
            "DaemonSet" => OwnerKind::DaemonSet,
            "ReplicaSet" => OwnerKind::ReplicaSet,
            "Job" => OwnerKind::Job,
            "CronJob" => OwnerKind::CronJob,
            "Node" => OwnerKind::Node,
            other => OwnerKind::Other(other.to_string()),
        }
    }

    /// The kind as the API spells it (`Deployment`), or `<none>`.
    pub fn as_str(&self) -> &str {
        match self {
            OwnerKind::Deployment => "Deployment",
            OwnerKind::StatefulSet => "StatefulSet",
            OwnerKind::DaemonSet => "DaemonSet",
            OwnerKind::ReplicaSet => "ReplicaSet",
            OwnerKind::Job => "Job",
            OwnerKind::CronJob => "CronJob",
            OwnerKind::Node => "Node",
            OwnerKind::Other(kind) => kind,
            OwnerKind::None => "<none>",
        }
    }
}

/// The top-level owner of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Owner {
    /// What kind of owner.
    pub kind: OwnerKind,
    /// Its name (the node's name for a mirror pod; empty for [`OwnerKind::None`]).
    pub name: String,
}

impl Owner {
    /// No owner.
    pub fn none() -> Owner {
        Owner {
            kind: OwnerKind::None,
            name: String::new(),
        }
    }

    /// `Kind/name` (`Deployment/gateway`), or `<none>`.
    pub fn reference(&self) -> String {
        match self.kind {
            OwnerKind::None => "<none>".to_string(),
            _ => format!("{}/{}", self.kind.as_str(), self.name),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reference())
    }
}

/// The owner reference marked `controller: true`, as kubectl's `metav1.GetControllerOf`.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// True for the API mirror of a static pod (annotation `kubernetes.io/config.mirror`).
pub fn is_mirror_pod(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION))
}

/// True when a DaemonSet controls the pod (drain never deletes these).
pub fn is_daemonset_pod(pod: &Pod) -> bool {
    controller_ref(&pod.metadata).is_some_and(|r| r.kind == "DaemonSet")
}

/// The top-level owner of `pod`. A ReplicaSet found in `replicasets` (same namespace and
/// name) resolves to its controlling Deployment; one not given resolves to a Deployment when
/// the pod carries a `pod-template-hash` label matching the ReplicaSet's name suffix (how
/// Deployments name them), else stays a ReplicaSet. Jobs stay Jobs: see [`resolve_job`].
pub fn owner_of(pod: &Pod, replicasets: &[ReplicaSet]) -> Owner {
    let Some(ctrl) = controller_ref(&pod.metadata) else {
        if is_mirror_pod(pod) {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            return Owner {
                kind: OwnerKind::Node,
                name: node,
            };
        }
        return Owner::none();
    };
    if ctrl.kind != "ReplicaSet" {
        return Owner {
            kind: OwnerKind::from_kind(&ctrl.kind),
            name: ctrl.name.clone(),
        };
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let found = replicasets.iter().find(|rs| {
        rs.metadata.name.as_deref() == Some(ctrl.name.as_str())
            && rs.metadata.namespace.as_deref().unwrap_or_default() == namespace
    });
    if let Some(rs) = found {
        return match controller_ref(&rs.metadata) {
            Some(up) => Owner {
                kind: OwnerKind::from_kind(&up.kind),
                name: up.name.clone(),
            },
            None => Owner {
                kind: OwnerKind::ReplicaSet,
                name: ctrl.name.clone(),
            },
        };
    }
    let hash = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(POD_TEMPLATE_HASH_LABEL));
    match hash.and_then(|h| ctrl.name.strip_suffix(h.as_str())?.strip_suffix('-')) {
        Some(deployment) if !deployment.is_empty() => Owner {
            kind: OwnerKind::Deployment,
            name: deployment.to_string(),
        },
        _ => Owner {
            kind: OwnerKind::ReplicaSet,
            name: ctrl.name.clone(),
        },
    }
}

/// Lifts a Job owner to its CronJob when the Job (found in `jobs`) is controlled by one.
pub fn resolve_job(owner: Owner, namespace: &str, jobs: &[Job]) -> Owner {
    if owner.kind != OwnerKind::Job {
        return owner;
    }
    let cron = jobs
        .iter()
        .find(|j| {
            j.metadata.name.as_deref() == Some(owner.name.as_str())
                && j.metadata.namespace.as_deref().unwrap_or_default() == namespace
        })
        .and_then(|j| controller_ref(&j.metadata))
        .filter(|r| r.kind == "CronJob");
    match cron {
        Some(r) => Owner {
            kind: OwnerKind::CronJob,
            name: r.name.clone(),
        },
        None => owner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    fn owned_pod(kind: &str, name: &str, hash: Option<&str>) -> Pod {
        let mut labels = serde_json::Map::new();
        if let Some(h) = hash {
            labels.insert(POD_TEMPLATE_HASH_LABEL.into(), json!(h));
        }
        pod(json!({
            "metadata": {
                "name": "p", "namespace": "gw", "labels": labels,
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Other", "name": "not-controller", "uid": "0"},
                    {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "1", "controller": true}
                ]
            }
        }))
    }

    fn rs(name: &str, owner: Option<(&str, &str)>) -> ReplicaSet {
        let refs: Vec<_> = owner
            .map(|(k, n)| json!({"apiVersion": "apps/v1", "kind": k, "name": n, "uid": "2", "controller": true}))
            .into_iter()
            .collect();
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "gw", "ownerReferences": refs}
        }))
        .unwrap()
    }

    #[test]
    fn replicaset_resolves_to_its_deployment() {
        let p = owned_pod("ReplicaSet", "proxy-7d9f", None);
        let got = owner_of(&p, &[rs("proxy-7d9f", Some(("Deployment", "proxy")))]);
        assert_eq!(got.reference(), "Deployment/proxy");
        let bare = owner_of(&p, &[rs("proxy-7d9f", None)]);
        assert_eq!(bare.reference(), "ReplicaSet/proxy-7d9f");
    }

    #[test]
    fn unlisted_replicaset_is_inferred_from_the_template_hash() {
        let p = owned_pod("ReplicaSet", "proxy-canary-7d9f", Some("7d9f"));
        assert_eq!(owner_of(&p, &[]).reference(), "Deployment/proxy-canary");
        let p = owned_pod("ReplicaSet", "proxy-7d9f", Some("abcd"));
        assert_eq!(owner_of(&p, &[]).reference(), "ReplicaSet/proxy-7d9f");
        let p = owned_pod("ReplicaSet", "proxy-7d9f", None);
        assert_eq!(owner_of(&p, &[]).kind, OwnerKind::ReplicaSet);
    }

    #[test]
    fn other_controllers_and_no_controller() {
        assert_eq!(
            owner_of(&owned_pod("StatefulSet", "db", None), &[]).reference(),
            "StatefulSet/db"
        );
        let ds = owned_pod("DaemonSet", "node-exporter", None);
        assert!(is_daemonset_pod(&ds));
        assert_eq!(owner_of(&ds, &[]).kind, OwnerKind::DaemonSet);
        let custom = owner_of(&owned_pod("Rollout", "r", None), &[]);
        assert_eq!(custom.kind, OwnerKind::Other("Rollout".into()));
        let bare = pod(json!({"metadata": {"name": "debug", "namespace": "gw"}}));
        assert_eq!(owner_of(&bare, &[]), Owner::none());
        assert_eq!(Owner::none().to_string(), "<none>");
        assert!(!is_daemonset_pod(&bare));
    }

    #[test]
    fn mirror_pod_is_owned_by_its_node() {
        let p = pod(json!({
            "metadata": {"name": "etcd-n1", "namespace": "kube-system",
                         "annotations": {MIRROR_POD_ANNOTATION: "abc"}},
            "spec": {"nodeName": "n1", "containers": []}
        }));
        assert!(is_mirror_pod(&p));
        assert_eq!(owner_of(&p, &[]).reference(), "Node/n1");
    }

    #[test]
    fn job_lifts_to_its_cronjob() {
        let p = owned_pod("Job", "backup-2900", None);
        let owner = owner_of(&p, &[]);
        let job: Job = serde_json::from_value(json!({"metadata": {
            "name": "backup-2900", "namespace": "gw",
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "backup", "uid": "3", "controller": true}]
        }}))
        .unwrap();
        assert_eq!(
            resolve_job(owner.clone(), "gw", std::slice::from_ref(&job)).reference(),
            "CronJob/backup"
        );
        assert_eq!(
            resolve_job(owner.clone(), "other", &[job]).reference(),
            "Job/backup-2900"
        );
        assert_eq!(resolve_job(owner, "gw", &[]).reference(), "Job/backup-2900");
    }
}
