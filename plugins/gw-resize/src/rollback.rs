//! `--rollback`: after a failed rollout, put the previous template back exactly as
//! `kubectl rollout undo` does (the previous ReplicaSet's template without its
//! pod-template-hash label, or the previous ControllerRevision of a StatefulSet), and the
//! previous replica count. Someone else's later edit is never rolled back.

use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use runbook::pods::controller_ref;
use runbook::workload::{
    WorkloadKind, label_selector_string, previous_replicaset, revision, rollback_template,
};
use runbook::{Error, KubeResultExt, Op, Result};
use serde_json::{Value, json};

use crate::patch::{deployment_rollback_patch, statefulset_rollback_patch};
use crate::plan::Plan;

/// How often a rollback is re-read and re-sent when the object moves under it (status
/// updates change the resourceVersion while a rollout fails).
const ATTEMPTS: usize = 5;

/// What the rollback did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RollbackDone {
    /// The previous template (and replica count) is back; the revision restored, if known.
    Restored(Option<String>),
    /// Nothing restored, and why.
    Skipped(String),
}

/// Restores what `plan` changed. `applied` is the template as stored by gw-resize's patch
/// (`None` when only replicas changed).
pub async fn roll_back(
    client: &Client,
    plan: &Plan,
    applied: Option<&PodTemplateSpec>,
    field_manager: &str,
) -> Result<RollbackDone> {
    let params = PatchParams {
        field_manager: Some(field_manager.to_string()),
        ..PatchParams::default()
    };
    let mut restored = None;
    if let Some(applied) = applied {
        let done = match plan.kind {
            WorkloadKind::Deployment => deployment(client, plan, applied, &params).await?,
            WorkloadKind::StatefulSet => statefulset(client, plan, applied, &params).await?,
        };
        match done {
            RollbackDone::Restored(rev) => restored = rev,
            skipped => return Ok(skipped),
        }
    }
    if let Some(r) = plan.replicas.filter(|r| r.from != r.to) {
        let body = json!({"spec": {"replicas": r.from}});
        let op = Op::new("patch", format!("{}/scale", plan.kind.resource()))
            .ns(&plan.namespace)
            .name(&plan.name);
        match plan.kind {
            WorkloadKind::Deployment => {
                Api::<Deployment>::namespaced(client.clone(), &plan.namespace)
                    .patch_scale(&plan.name, &params, &Patch::Merge(&body))
                    .await
                    .during(op)?
            }
            WorkloadKind::StatefulSet => {
                Api::<StatefulSet>::namespaced(client.clone(), &plan.namespace)
                    .patch_scale(&plan.name, &params, &Patch::Merge(&body))
                    .await
                    .during(op)?
            }
        };
    }
    Ok(RollbackDone::Restored(restored))
}

fn changed_by_someone_else(plan: &Plan) -> RollbackDone {
    RollbackDone::Skipped(format!(
        "{} changed after gw-resize applied its change: not rolling back someone else's edit",
        plan.reference()
    ))
}

/// True for the answers a moved object gets: 409 (precondition) or 422 (failed `test`).
fn moved(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 || s.code == 422)
}

async fn deployment(
    client: &Client,
    plan: &Plan,
    applied: &PodTemplateSpec,
    params: &PatchParams,
) -> Result<RollbackDone> {
    let ns = plan.namespace.as_str();
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let get = Op::new("get", "deployments.apps").ns(ns).name(&plan.name);
    let patch_op = Op::new("patch", "deployments.apps").ns(ns).name(&plan.name);
    for _ in 0..ATTEMPTS {
        let current = api.get(&plan.name).await.during(get.clone())?;
        if current.spec.as_ref().map(|s| &s.template) != Some(applied) {
            return Ok(changed_by_someone_else(plan));
        }
        let selector = current
            .spec
            .as_ref()
            .map(|s| label_selector_string(&s.selector))
            .unwrap_or_default();
        let rss = Api::<ReplicaSet>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels(&selector))
            .await
            .during(Op::new("list", "replicasets.apps").ns(ns))?
            .items;
        let previous = previous_replicaset(&current, &rss);
        let (template, annotations, to_revision) = match previous.and_then(|rs| {
            Some((
                rollback_template(rs)?,
                rs.metadata.annotations.clone().unwrap_or_default(),
                revision(&rs.metadata),
            ))
        }) {
            Some(found) => found,
            // No previous ReplicaSet kept (revisionHistoryLimit: 0): the template read
            // before the change is the same one.
            None => (
                plan.old_template.clone(),
                current.metadata.annotations.clone().unwrap_or_default(),
                plan.revision.clone(),
            ),
        };
        let body = deployment_rollback_patch(&current, &template, &annotations);
        match api
            .patch(
                &plan.name,
                params,
                &Patch::Json::<()>(
                    serde_json::from_value(body).map_err(|e| {
                        Error::Failed(format!("cannot build the rollback patch: {e}"))
                    })?,
                ),
            )
            .await
        {
            Ok(_) => return Ok(RollbackDone::Restored(to_revision)),
            Err(e) if moved(&e) => continue,
            Err(e) => return Err(runbook::error::from_kube(e, &patch_op)),
        }
    }
    Err(Error::Conflict(format!(
        "{} kept changing: the rollback was not applied after {ATTEMPTS} attempts",
        plan.reference()
    )))
}

async fn statefulset(
    client: &Client,
    plan: &Plan,
    applied: &PodTemplateSpec,
    params: &PatchParams,
) -> Result<RollbackDone> {
    let ns = plan.namespace.as_str();
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let get = Op::new("get", "statefulsets.apps").ns(ns).name(&plan.name);
    let patch_op = Op::new("patch", "statefulsets.apps")
        .ns(ns)
        .name(&plan.name);
    for _ in 0..ATTEMPTS {
        let current = api.get(&plan.name).await.during(get.clone())?;
        if current.spec.as_ref().map(|s| &s.template) != Some(applied) {
            return Ok(changed_by_someone_else(plan));
        }
        let selector = current
            .spec
            .as_ref()
            .map(|s| label_selector_string(&s.selector))
            .unwrap_or_default();
        let revisions = Api::<ControllerRevision>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels(&selector))
            .await
            .during(Op::new("list", "controllerrevisions.apps").ns(ns))?
            .items;
        let (data, to_revision) = match previous_revision(&current, &revisions) {
            Some(cr) => (
                cr.data.clone().map(|d| d.0).unwrap_or(Value::Null),
                cr.metadata.name.clone(),
            ),
            None => (
                json!({"spec": {"template": replace_directive(&plan.old_template)}}),
                None,
            ),
        };
        let rv = current
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        let body = statefulset_rollback_patch(&data, &rv);
        match api
            .patch(&plan.name, params, &Patch::Strategic(&body))
            .await
        {
            Ok(_) => return Ok(RollbackDone::Restored(to_revision)),
            Err(e) if moved(&e) => continue,
            Err(e) => return Err(runbook::error::from_kube(e, &patch_op)),
        }
    }
    Err(Error::Conflict(format!(
        "{} kept changing: the rollback was not applied after {ATTEMPTS} attempts",
        plan.reference()
    )))
}

/// A template as the `data` of a ControllerRevision holds it (`$patch: replace`).
fn replace_directive(t: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("$patch".into(), json!("replace"));
    }
    v
}

/// The ControllerRevision before the newest one owned by `sts` (kubectl's undo target).
fn previous_revision<'a>(
    sts: &StatefulSet,
    all: &'a [ControllerRevision],
) -> Option<&'a ControllerRevision> {
    let uid = sts.metadata.uid.as_deref();
    let mut owned: Vec<&ControllerRevision> = all
        .iter()
        .filter(|cr| {
            controller_ref(&cr.metadata)
                .is_some_and(|r| r.kind == "StatefulSet" && Some(r.uid.as_str()) == uid)
        })
        .collect();
    owned.sort_by_key(|cr| std::cmp::Reverse(cr.revision));
    owned.get(1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision_of(name: &str, rev: i64, owner_uid: &str) -> ControllerRevision {
        serde_json::from_value(json!({
            "metadata": {"name": name, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                          "name": "db", "uid": owner_uid, "controller": true}]},
            "revision": rev
        }))
        .unwrap()
    }

    #[test]
    fn previous_revision_is_the_second_newest_owned_one() {
        let sts: StatefulSet =
            serde_json::from_value(json!({"metadata": {"name": "db", "uid": "u1"}})).unwrap();
        let all = [
            revision_of("db-a", 1, "u1"),
            revision_of("db-c", 3, "u1"),
            revision_of("db-b", 2, "u1"),
            revision_of("other", 9, "u2"),
        ];
        assert_eq!(
            previous_revision(&sts, &all).and_then(|c| c.metadata.name.as_deref()),
            Some("db-b")
        );
        assert!(previous_revision(&sts, &all[..1]).is_none());
    }

    #[test]
    fn replace_directive_marks_the_template() {
        let t: PodTemplateSpec =
            serde_json::from_value(json!({"spec": {"containers": [{"name": "db"}]}})).unwrap();
        assert_eq!(replace_directive(&t)["$patch"], "replace");
    }
}
