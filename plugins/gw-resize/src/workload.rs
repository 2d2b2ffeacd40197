//! What gw-resize reads from a fetched Deployment or StatefulSet beyond the shared
//! accessors: identity for messages and preconditions, replicas, surge, rollout state.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use runbook::workload::{Workload, label_selector_string, revision};

use crate::target::short;

/// gw-resize's view of a [`Workload`].
pub trait WorkloadExt {
    /// The object's namespace.
    fn namespace(&self) -> &str;
    /// The resourceVersion read, the precondition of every patch.
    fn resource_version(&self) -> &str;
    /// `deployment/ns/name`, the subject of findings.
    fn subject(&self) -> String;
    /// `deploy/name`, as the user would type it.
    fn reference(&self) -> String;
    /// `spec.replicas` (1 when unset, as the API defaults it).
    fn replicas(&self) -> i32;
    /// The pod selector as a label-selector string for list calls.
    fn selector_string(&self) -> Option<String>;
    /// The Deployment's revision (annotation), or the StatefulSet's update revision.
    fn revision(&self) -> Option<String>;
    /// How many pods above `replicas` a rolling update may create at once: the
    /// Deployment's maxSurge (default 25%, rounded up as the controller does); 0 for
    /// Recreate and for StatefulSets, which replace pods one by one.
    fn surge(&self) -> i32;
    /// True for a StatefulSet with `updateStrategy: OnDelete`.
    fn updates_on_delete(&self) -> bool;
    /// True when the Deployment is paused: a template change does not roll out.
    fn paused(&self) -> bool;
    /// Why a rollout is still under way, as `kubectl rollout status` would say it; `None`
    /// when the last rollout finished.
    fn rollout_in_progress(&self) -> Option<String>;
    /// Why a rollout that a rerun should follow is still under way: as
    /// [`WorkloadExt::rollout_in_progress`], without a rollout that already failed on its
    /// progress deadline, and with new pods not yet available while the controller still
    /// reports the rollout as progressing.
    fn rollout_to_resume(&self) -> Option<String>;
}

impl WorkloadExt for Workload {
    fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or_default()
    }

    fn resource_version(&self) -> &str {
        self.metadata()
            .resource_version
            .as_deref()
            .unwrap_or_default()
    }

    fn subject(&self) -> String {
        runbook::findings::subject(self.kind().word(), self.namespace(), self.name())
    }

    fn reference(&self) -> String {
        format!("{}/{}", short(self.kind()), self.name())
    }

    fn replicas(&self) -> i32 {
        match self {
            Workload::Deployment(d) => d.spec.as_ref().and_then(|s| s.replicas),
            Workload::StatefulSet(s) => s.spec.as_ref().and_then(|s| s.replicas),
        }
        .unwrap_or(1)
    }

    fn selector_string(&self) -> Option<String> {
        let sel = match self {
            Workload::Deployment(d) => d.spec.as_ref().map(|s| &s.selector),
            Workload::StatefulSet(s) => s.spec.as_ref().map(|s| &s.selector),
        };
        sel.map(label_selector_string).filter(|s| !s.is_empty())
    }

    fn revision(&self) -> Option<String> {
        match self {
            Workload::Deployment(d) => revision(&d.metadata),
            Workload::StatefulSet(s) => s.status.as_ref().and_then(|s| s.update_revision.clone()),
        }
    }

    fn surge(&self) -> i32 {
        let Workload::Deployment(d) = self else {
            return 0;
        };
        let strategy = d.spec.as_ref().and_then(|s| s.strategy.as_ref());
        if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
            return 0;
        }
        let max_surge = strategy
            .and_then(|s| s.rolling_update.as_ref())
            .and_then(|r| r.max_surge.clone())
            .unwrap_or(IntOrString::String("25%".into()));
        scaled_value(&max_surge, self.replicas(), true)
    }

    fn updates_on_delete(&self) -> bool {
        match self {
            Workload::StatefulSet(s) => {
                s.spec
                    .as_ref()
                    .and_then(|s| s.update_strategy.as_ref())
                    .and_then(|u| u.type_.as_deref())
                    == Some("OnDelete")
            }
            Workload::Deployment(_) => false,
        }
    }

    fn paused(&self) -> bool {
        match self {
            Workload::Deployment(d) => d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false),
            Workload::StatefulSet(_) => false,
        }
    }

    fn rollout_in_progress(&self) -> Option<String> {
        match self {
            Workload::Deployment(d) => deployment_progress(d),
            Workload::StatefulSet(s) => statefulset_progress(s),
        }
    }

    fn rollout_to_resume(&self) -> Option<String> {
        match self {
            Workload::Deployment(d) => deployment_to_resume(d),
            Workload::StatefulSet(s) => {
                if self.updates_on_delete() {
                    None
                } else {
                    statefulset_progress(s)
                }
            }
        }
    }
}

/// [`deployment_progress`] for a rerun: a rollout past its deadline has ended (failed);
/// updated pods not yet available count while the Progressing condition says
/// `ReplicaSetUpdated` (the controller has not declared the new ReplicaSet available).
fn deployment_to_resume(d: &Deployment) -> Option<String> {
    let status = d.status.as_ref()?;
    let progressing = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing");
    if progressing.is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
        return None;
    }
    if let Some(why) = deployment_progress(d) {
        return Some(why);
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let rolling = progressing.is_some_and(|c| c.reason.as_deref() == Some("ReplicaSetUpdated"));
    (rolling && available < updated)
        .then(|| format!("{available} of {updated} updated replicas are available"))
}

/// kubectl's `DeploymentStatusViewer`, minus its last rule (available < updated): pods that
/// are unavailable after a finished rollout (crash-looping, the runbook's case) are not a
/// rollout in progress, and the change may be their fix.
fn deployment_progress(d: &Deployment) -> Option<String> {
    let status = d.status.as_ref()?;
    let generation = d.metadata.generation.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        return Some("the controller has not yet observed the latest change".into());
    }
    let deadline = status.conditions.iter().flatten().any(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if deadline {
        return Some("the last rollout exceeded its progress deadline".into());
    }
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if updated < want {
        return Some(format!(
            "{updated} of {want} new replicas have been updated"
        ));
    }
    if total > updated {
        return Some(format!(
            "{} old replicas are pending termination",
            total - updated
        ));
    }
    None
}

/// kubectl's `StatefulSetStatusViewer` (RollingUpdate without partition), minus its
/// readiness rule, for the same reason as for Deployments.
fn statefulset_progress(s: &StatefulSet) -> Option<String> {
    let status = s.status.as_ref()?;
    if status.observed_generation.unwrap_or(0) < s.metadata.generation.unwrap_or(0) {
        return Some("the controller has not yet observed the latest change".into());
    }
    let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let on_delete = s
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete");
    if !on_delete
        && status.update_revision.is_some()
        && status.update_revision != status.current_revision
    {
        return Some(format!(
            "{} of {want} pods run the latest revision",
            status.updated_replicas.unwrap_or(0)
        ));
    }
    None
}

/// An int-or-percent of `total`, rounded up or down as the controllers do.
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> i32 {
    match v {
        IntOrString::Int(n) => *n,
        IntOrString::String(s) => {
            let Some(pct) = s
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<i64>().ok())
            else {
                return 0;
            };
            let scaled = i64::from(total) * pct;
            let value = if round_up {
                (scaled + 99).div_euclid(100)
            } else {
                scaled.div_euclid(100)
            };
            i32::try_from(value).unwrap_or(i32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runbook::workload::REVISION_ANNOTATION;
    use serde_json::json;

    fn deployment(v: serde_json::Value) -> Workload {
        Workload::Deployment(Box::new(serde_json::from_value(v).unwrap()))
    }

    fn base(status: serde_json::Value, strategy: serde_json::Value) -> Workload {
        deployment(json!({
            "metadata": {"name": "gw", "namespace": "gateway-system", "generation": 3,
                          "resourceVersion": "41", "annotations": {REVISION_ANNOTATION: "3"}},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "gw"}},
                      "strategy": strategy,
                      "template": {"metadata": {"labels": {"app": "gw"}},
                                   "spec": {"containers": [{"name": "proxy"}]}}},
            "status": status
        }))
    }

    #[test]
    fn reads_identity_and_defaults() {
        let w = base(json!({}), json!({}));
        assert_eq!(w.subject(), "deployment/gateway-system/gw");
        assert_eq!(w.reference(), "deploy/gw");
        assert_eq!(w.replicas(), 4);
        assert_eq!(w.resource_version(), "41");
        assert_eq!(w.revision().as_deref(), Some("3"));
        assert_eq!(w.selector_string().as_deref(), Some("app=gw"));
    }

    #[test]
    fn surge_follows_the_strategy() {
        assert_eq!(
            base(json!({}), json!({})).surge(),
            1,
            "25% of 4 rounds up to 1"
        );
        let two = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}});
        assert_eq!(base(json!({}), two).surge(), 2);
        let pct = json!({"rollingUpdate": {"maxSurge": "30%"}});
        assert_eq!(base(json!({}), pct).surge(), 2, "30% of 4 = 1.2 rounds up");
        assert_eq!(base(json!({}), json!({"type": "Recreate"})).surge(), 0);
    }

    #[test]
    fn rollout_progress_as_kubectl_rollout_status() {
        let done = json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 4,
                          "availableReplicas": 4});
        assert_eq!(base(done, json!({})).rollout_in_progress(), None);
        let old = json!({"observedGeneration": 3, "replicas": 5, "updatedReplicas": 4,
                         "availableReplicas": 4});
        assert_eq!(
            base(old, json!({})).rollout_in_progress().as_deref(),
            Some("1 old replicas are pending termination")
        );
        let crashing = json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 4,
                              "availableReplicas": 0});
        assert_eq!(
            base(crashing, json!({})).rollout_in_progress(),
            None,
            "unavailable is not rolling"
        );
        let unseen = json!({"observedGeneration": 2});
        assert!(
            base(unseen, json!({}))
                .rollout_in_progress()
                .unwrap()
                .contains("not yet observed")
        );
    }
}
