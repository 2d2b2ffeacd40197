//! Deployments and StatefulSets: naming them on the command line (`deploy/x`, `sts/x`, `x`),
//! fetching them, their replica counts and conditions, and their ReplicaSets by revision
//! (the new one of a rollout, the previous one for `rollout undo`).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::error::{Error, KubeResultExt, Op, Result};
use crate::pods::{POD_TEMPLATE_HASH_LABEL, controller_ref};

/// The annotation holding a Deployment's (and its ReplicaSets') revision number.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// The label a StatefulSet puts on its pods: the controller revision they were made from.
pub const CONTROLLER_REVISION_LABEL: &str = "controller-revision-hash";

/// The kinds of workload the suite rolls out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

impl WorkloadKind {
    /// The kind as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }

    /// The resource as RBAC names it (`deployments.apps`), for error messages.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments.apps",
            WorkloadKind::StatefulSet => "statefulsets.apps",
        }
    }

    /// The lower-case kind used in subjects and messages (`deployment`).
    pub fn word(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
        }
    }
}

/// A workload named on the command line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum WorkloadRef {
    Deployment(String),
    StatefulSet(String),
}

impl WorkloadRef {
    /// Its kind.
    pub fn kind(&self) -> WorkloadKind {
        match self {
            WorkloadRef::Deployment(_) => WorkloadKind::Deployment,
            WorkloadRef::StatefulSet(_) => WorkloadKind::StatefulSet,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            WorkloadRef::Deployment(n) | WorkloadRef::StatefulSet(n) => n,
        }
    }

    fn with_kind(kind: WorkloadKind, name: String) -> WorkloadRef {
        match kind {
            WorkloadKind::Deployment => WorkloadRef::Deployment(name),
            WorkloadKind::StatefulSet => WorkloadRef::StatefulSet(name),
        }
    }
}

impl fmt::Display for WorkloadRef {
    /// `deployment/name` or `statefulset/name`, as kubectl prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind().word(), self.name())
    }
}

/// A parsed workload argument: the target and whether the kind was written out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadArg {
    /// The workload (a bare name means a Deployment).
    pub target: WorkloadRef,
    /// False for a bare name: [`fetch_workload`] then also tries a StatefulSet.
    pub kind_given: bool,
}

impl WorkloadArg {
    /// Parses `deploy/x`, `deployment/x`, `deployments.apps/x`, `sts/x`, `statefulset/x`,
    /// `statefulsets.apps/x`, or a bare `x`. Anything else is a usage error.
    pub fn parse(arg: &str) -> Result<WorkloadArg> {
        let arg = arg.trim();
        let Some((kind, name)) = arg.split_once('/') else {
            check_name(arg, arg)?;
            return Ok(WorkloadArg {
                target: WorkloadRef::Deployment(arg.to_string()),
                kind_given: false,
            });
        };
        let kind = match kind.to_lowercase().as_str() {
            "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps" => {
                WorkloadKind::Deployment
            }
            "sts" | "statefulset" | "statefulsets" | "statefulset.apps" | "statefulsets.apps" => {
                WorkloadKind::StatefulSet
            }
            other => {
                return Err(Error::usage(format!(
                    "unsupported workload kind {other:?} in {arg:?}: use deployment/NAME or statefulset/NAME"
                )));
            }
        };
        check_name(name, arg)?;
        Ok(WorkloadArg {
            target: WorkloadRef::with_kind(kind, name.to_string()),
            kind_given: true,
        })
    }
}

/// A DNS-1123 subdomain check, enough to catch typos like `deploy/` or `a/b/c`.
fn check_name(name: &str, arg: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid workload {arg:?}: expected NAME, deployment/NAME or statefulset/NAME"
        )))
    }
}

/// A fetched workload.
#[derive(Clone, Debug)]
pub enum Workload {
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
}

impl Workload {
    /// Its kind.
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Workload::Deployment(_) => WorkloadKind::Deployment,
            Workload::StatefulSet(_) => WorkloadKind::StatefulSet,
        }
    }

    /// Its metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Workload::Deployment(d) => &d.metadata,
            Workload::StatefulSet(s) => &s.metadata,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// Its replica counts and conditions.
    pub fn replica_status(&self) -> ReplicaStatus {
        match self {
            Workload::Deployment(d) => replica_status(d),
            Workload::StatefulSet(s) => statefulset_replica_status(s),
        }
    }

    /// Its pod template.
    pub fn template(&self) -> Option<&PodTemplateSpec> {
        match self {
            Workload::Deployment(d) => d.spec.as_ref().map(|s| &s.template),
            Workload::StatefulSet(s) => s.spec.as_ref().map(|s| &s.template),
        }
    }
}

/// Gets the workload `arg` names in `namespace`. A bare name that is no Deployment is
/// tried as a StatefulSet; NotFound names close matches among both kinds.
pub async fn fetch_workload(
    client: &kube::Client,
    namespace: &str,
    arg: &WorkloadArg,
) -> Result<Workload> {
    let name = arg.target.name();
    let first = get_kind(client, namespace, arg.target.kind(), name).await?;
    if let Some(w) = first {
        return Ok(w);
    }
    if !arg.kind_given
        && let Some(w) = get_kind(client, namespace, WorkloadKind::StatefulSet, name).await?
    {
        return Ok(w);
    }
    let mut candidates = list_names(client, namespace, arg.target.kind()).await;
    if !arg.kind_given {
        candidates.extend(list_names(client, namespace, WorkloadKind::StatefulSet).await);
    }
    let kind = if arg.kind_given {
        arg.target.kind().word()
    } else {
        "deployment or statefulset"
    };
    Err(Error::not_found(
        kind,
        name,
        Some(namespace),
        candidates.iter().map(String::as_str),
    ))
}

async fn get_kind(
    client: &kube::Client,
    namespace: &str,
    kind: WorkloadKind,
    name: &str,
) -> Result<Option<Workload>> {
    let op = Op::new("get", kind.resource()).ns(namespace).name(name);
    Ok(match kind {
        WorkloadKind::Deployment => Api::<Deployment>::namespaced(client.clone(), namespace)
            .get_opt(name)
            .await
            .during(op)?
            .map(|d| Workload::Deployment(Box::new(d))),
        WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .get_opt(name)
            .await
            .during(op)?
            .map(|s| Workload::StatefulSet(Box::new(s))),
    })
}

/// Names of the workloads of `kind` in `namespace`, for did-you-mean; empty when listing fails.
async fn list_names(client: &kube::Client, namespace: &str, kind: WorkloadKind) -> Vec<String> {
    let lp = ListParams::default();
    let metas = match kind {
        WorkloadKind::Deployment => Api::<Deployment>::namespaced(client.clone(), namespace)
            .list_metadata(&lp)
            .await
            .map(|l| l.items.into_iter().map(|o| o.metadata).collect::<Vec<_>>()),
        WorkloadKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .list_metadata(&lp)
            .await
            .map(|l| l.items.into_iter().map(|o| o.metadata).collect::<Vec<_>>()),
    };
    metas
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.name)
        .collect()
}

/// One status condition: type, status, reason, message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

/// Replica counts of a Deployment or StatefulSet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaStatus {
    /// `spec.replicas` (default 1).
    pub desired: i32,
    /// Pods at all revisions (`status.replicas`).
    pub current: i32,
    /// Pods of the newest template.
    pub updated: i32,
    /// Pods passing readiness.
    pub ready: i32,
    /// Pods ready for at least `minReadySeconds`.
    pub available: i32,
    /// Desired minus available (never negative).
    pub unavailable: i32,
    /// The controller has seen the latest spec (`observedGeneration >= generation`).
    pub observed_generation_current: bool,
    /// Deployment: the revision annotation; StatefulSet: `status.updateRevision`.
    pub revision: Option<String>,
    /// Status conditions.
    pub conditions: Vec<Condition>,
}

impl ReplicaStatus {
    /// The condition of type `type_`, if reported.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

fn observed_current(meta: &ObjectMeta, observed: Option<i64>) -> bool {
    observed.unwrap_or(0) >= meta.generation.unwrap_or(0)
}

/// A Deployment's replica counts, conditions and revision.
pub fn replica_status(d: &Deployment) -> ReplicaStatus {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.clone().unwrap_or_default();
    let available = st.available_replicas.unwrap_or(0);
    ReplicaStatus {
        desired,
        current: st.replicas.unwrap_or(0),
        updated: st.updated_replicas.unwrap_or(0),
        ready: st.ready_replicas.unwrap_or(0),
        available,
        unavailable: (desired - available).max(0),
        observed_generation_current: observed_current(&d.metadata, st.observed_generation),
        revision: revision(&d.metadata),
        conditions: st
            .conditions
            .unwrap_or_default()
            .into_iter()
            .map(|c| Condition {
                type_: c.type_,
                status: c.status,
                reason: c.reason.unwrap_or_default(),
                message: c.message.unwrap_or_default(),
            })
            .collect(),
    }
}

/// A StatefulSet's replica counts, conditions and update revision.
pub fn statefulset_replica_status(s: &StatefulSet) -> ReplicaStatus {
    let desired = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = s.status.clone().unwrap_or_default();
    let available = st.available_replicas.unwrap_or(0);
    ReplicaStatus {
        desired,
        current: st.replicas,
        updated: st.updated_replicas.unwrap_or(0),
        ready: st.ready_replicas.unwrap_or(0),
        available,
        unavailable: (desired - available).max(0),
        // kubectl treats an observedGeneration of 0 as not observed yet.
        observed_generation_current: st.observed_generation.unwrap_or(0) > 0
            && observed_current(&s.metadata, st.observed_generation),
        revision: st.update_revision.clone(),
        conditions: st
            .conditions
            .unwrap_or_default()
            .into_iter()
            .map(|c| Condition {
                type_: c.type_,
                status: c.status,
                reason: c.reason.unwrap_or_default(),
                message: c.message.unwrap_or_default(),
            })
            .collect(),
    }
}

/// The `deployment.kubernetes.io/revision` annotation.
pub fn revision(meta: &ObjectMeta) -> Option<String> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .cloned()
}

fn revision_number(meta: &ObjectMeta) -> Option<i64> {
    revision(meta)?.parse().ok()
}

/// A label selector in the query syntax (`app=gw,tier in (a,b),!canary`).
pub fn label_selector_string(sel: &LabelSelector) -> String {
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    parts.join(",")
}

/// The ReplicaSets `d` controls (by owner uid, or by name when uids are missing).
pub fn owned_replicasets<'a>(d: &Deployment, rss: &'a [ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let uid = d.metadata.uid.as_deref().filter(|u| !u.is_empty());
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let namespace = d.metadata.namespace.as_deref().unwrap_or_default();
    rss.iter()
        .filter(|rs| rs.metadata.namespace.as_deref().unwrap_or_default() == namespace)
        .filter(|rs| {
            controller_ref(&rs.metadata).is_some_and(|r| {
                r.kind == "Deployment"
                    && match uid {
                        Some(uid) if !r.uid.is_empty() => r.uid == uid,
                        _ => r.name == name,
                    }
            })
        })
        .collect()
}

/// A pod template as JSON without the `pod-template-hash` label, for comparison.
fn template_without_hash(t: &PodTemplateSpec) -> serde_json::Value {
    let mut t = t.clone();
    let labels = t
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .take();
    let labels: BTreeMap<String, String> = labels
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != POD_TEMPLATE_HASH_LABEL)
        .collect();
    if let Some(meta) = t.metadata.as_mut() {
        meta.labels = (!labels.is_empty()).then_some(labels);
    }
    serde_json::to_value(&t).unwrap_or_default()
}

/// The ReplicaSet of the Deployment's current template (kubectl's `GetNewReplicaSet`: the
/// oldest owned ReplicaSet whose template equals the Deployment's, ignoring the hash label).
/// `None` until the controller has created it.
pub fn new_replicaset<'a>(d: &Deployment, rss: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let want = template_without_hash(&d.spec.as_ref()?.template);
    let mut owned = owned_replicasets(d, rss);
    owned.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .cmp(&b.metadata.creation_timestamp)
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    owned.into_iter().find(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| template_without_hash(t) == want)
    })
}

/// The ReplicaSet at the second-highest revision: what `kubectl rollout undo` goes back to.
pub fn previous_replicaset<'a>(d: &Deployment, rss: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let mut by_revision: Vec<(i64, &ReplicaSet)> = owned_replicasets(d, rss)
        .into_iter()
        .filter_map(|rs| Some((revision_number(&rs.metadata)?, rs)))
        .collect();
    by_revision.sort_by_key(|(rev, _)| std::cmp::Reverse(*rev));
    by_revision.get(1).map(|(_, rs)| *rs)
}

/// The owned ReplicaSet at `revision` (`kubectl rollout undo --to-revision`).
pub fn replicaset_at_revision<'a>(
    d: &Deployment,
    rss: &'a [ReplicaSet],
    revision: i64,
) -> Option<&'a ReplicaSet> {
    owned_replicasets(d, rss)
        .into_iter()
        .find(|rs| revision_number(&rs.metadata) == Some(revision))
}

/// The pod template to put back on the Deployment to roll back to `rs` (its template
/// without the `pod-template-hash` label, as kubectl's rollback does).
pub fn rollback_template(rs: &ReplicaSet) -> Option<PodTemplateSpec> {
    let mut t = rs.spec.as_ref()?.template.clone()?;
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    Some(t)
}

/// The `pod-template-hash` of a ReplicaSet (its pods carry the same label).
pub fn template_hash(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .labels
        .as_ref()?
        .get(POD_TEMPLATE_HASH_LABEL)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn parses_workload_arguments() {
        let cases = [
            ("gateway", WorkloadRef::Deployment("gateway".into()), false),
            (
                "deploy/gateway",
                WorkloadRef::Deployment("gateway".into()),
                true,
            ),
            (
                "deployment/gateway",
                WorkloadRef::Deployment("gateway".into()),
                true,
            ),
            (
                "deployments.apps/gateway",
                WorkloadRef::Deployment("gateway".into()),
                true,
            ),
            (
                "Deployment.apps/gw",
                WorkloadRef::Deployment("gw".into()),
                true,
            ),
            ("sts/db", WorkloadRef::StatefulSet("db".into()), true),
            (
                "statefulset/db-0.x",
                WorkloadRef::StatefulSet("db-0.x".into()),
                true,
            ),
            (
                "statefulsets.apps/db",
                WorkloadRef::StatefulSet("db".into()),
                true,
            ),
        ];
        for (arg, target, kind_given) in cases {
            let got = WorkloadArg::parse(arg).unwrap();
            assert_eq!(got, WorkloadArg { target, kind_given }, "{arg}");
        }
        for bad in ["ds/x", "deploy/", "", "a/b/c", "Gateway", "deploy/-x"] {
            let err = WorkloadArg::parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{bad}");
        }
        assert_eq!(
            WorkloadRef::StatefulSet("db".into()).to_string(),
            "statefulset/db"
        );
    }

    fn deployment(v: Value) -> Deployment {
        serde_json::from_value(v).unwrap()
    }

    fn template(image: &str, hash: Option<&str>) -> Value {
        let mut labels = json!({"app": "gw"});
        if let Some(h) = hash {
            labels[POD_TEMPLATE_HASH_LABEL] = json!(h);
        }
        json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "proxy", "image": image}]}})
    }

    fn rs(name: &str, revision: &str, image: &str, created: &str) -> ReplicaSet {
        let hash = name.rsplit('-').next().unwrap_or_default();
        serde_json::from_value(json!({
            "metadata": {
                "name": name, "namespace": "gw", "creationTimestamp": created,
                "labels": {"app": "gw", POD_TEMPLATE_HASH_LABEL: hash},
                "annotations": {REVISION_ANNOTATION: revision},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "gw", "uid": "d-1", "controller": true}]
            },
            "spec": {"selector": {"matchLabels": {"app": "gw"}}, "template": template(image, Some(hash))}
        }))
        .unwrap()
    }

    fn gw(image: &str) -> Deployment {
        deployment(json!({
            "metadata": {"name": "gw", "namespace": "gw", "uid": "d-1", "generation": 4,
                         "annotations": {REVISION_ANNOTATION: "3"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "gw"}}, "template": template(image, None)},
            "status": {"observedGeneration": 4, "replicas": 4, "updatedReplicas": 2, "readyReplicas": 3,
                       "availableReplicas": 2,
                       "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": "m"}]}
        }))
    }

    #[test]
    fn replica_status_of_a_deployment() {
        let s = replica_status(&gw("envoy:2"));
        assert_eq!(
            (
                s.desired,
                s.current,
                s.updated,
                s.ready,
                s.available,
                s.unavailable
            ),
            (3, 4, 2, 3, 2, 1)
        );
        assert!(s.observed_generation_current);
        assert_eq!(s.revision.as_deref(), Some("3"));
        assert_eq!(
            s.condition("Progressing").map(|c| c.reason.as_str()),
            Some("ReplicaSetUpdated")
        );
        let mut d = gw("envoy:2");
        d.metadata.generation = Some(5);
        assert!(!replica_status(&d).observed_generation_current);
    }

    #[test]
    fn replica_status_of_a_statefulset() {
        let s: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "db", "generation": 2},
            "spec": {"replicas": 3, "serviceName": "db", "selector": {}, "template": {}},
            "status": {"replicas": 3, "observedGeneration": 2, "readyReplicas": 3, "availableReplicas": 3,
                       "updatedReplicas": 1, "currentRevision": "db-a", "updateRevision": "db-b"}
        }))
        .unwrap();
        let st = statefulset_replica_status(&s);
        assert_eq!(
            (st.desired, st.updated, st.ready, st.unavailable),
            (3, 1, 3, 0)
        );
        assert_eq!(st.revision.as_deref(), Some("db-b"));
        assert!(st.observed_generation_current);
    }

    #[test]
    fn new_and_previous_replicasets() {
        let rss = vec![
            rs("gw-aaa", "1", "envoy:1", "2026-11-01T00:00:00Z"),
            rs("gw-bbb", "2", "envoy:2", "2026-11-02T00:00:00Z"),
            rs("gw-ccc", "3", "envoy:3", "2026-11-03T00:00:00Z"),
        ];
        let d = gw("envoy:2");
        assert_eq!(
            new_replicaset(&d, &rss).and_then(|r| r.metadata.name.as_deref()),
            Some("gw-bbb")
        );
        assert!(new_replicaset(&gw("envoy:9"), &rss).is_none());
        assert_eq!(
            previous_replicaset(&d, &rss).and_then(|r| r.metadata.name.as_deref()),
            Some("gw-bbb")
        );
        assert_eq!(
            replicaset_at_revision(&d, &rss, 1).and_then(|r| r.metadata.name.as_deref()),
            Some("gw-aaa")
        );
        assert_eq!(template_hash(&rss[0]), Some("aaa"));
        let back = rollback_template(&rss[0]).unwrap();
        let labels = back.metadata.unwrap().labels.unwrap();
        assert!(!labels.contains_key(POD_TEMPLATE_HASH_LABEL));
        assert_eq!(labels.get("app").map(String::as_str), Some("gw"));

        let mut other = rs("other-ddd", "9", "envoy:2", "2026-10-01T00:00:00Z");
        other.metadata.owner_references = None;
        let with_foreign: Vec<_> = rss.iter().cloned().chain([other]).collect();
        assert_eq!(owned_replicasets(&d, &with_foreign).len(), 3);
        assert_eq!(
            previous_replicaset(&d, &rss[..1]).map(|r| r.metadata.name.clone()),
            None
        );
    }

    #[test]
    fn selector_string() {
        let sel: LabelSelector = serde_json::from_value(json!({
            "matchLabels": {"app": "gw"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "Exists"},
                {"key": "env", "operator": "NotIn", "values": ["dev"]}
            ]
        }))
        .unwrap();
        assert_eq!(
            label_selector_string(&sel),
            "app=gw,tier in (a,b),!canary,zone,env notin (dev)"
        );
    }
}
