//! Is a rollout done, still going, or failed? A pure decision over the workload and the pods
//! of its newest revision: kubectl's `rollout status` rules, plus the failures kubectl does
//! not notice (new pods crash-looping, OOMKilled, unable to pull or start, unschedulable).

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use crate::pods::{self, ContainerSummary};

/// The Progressing condition reason of a Deployment past its `progressDeadlineSeconds`.
pub const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";

/// Waiting reasons that will not fix themselves: the rollout has failed.
const FATAL_WAITING_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
];

/// Why a rollout failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum RolloutFailure {
    /// The Deployment's Progressing condition says ProgressDeadlineExceeded (its message).
    DeadlineExceeded { message: String },
    /// A new pod's container crash-loops or was OOMKilled.
    CrashLoop {
        pod: String,
        container: String,
        /// `OOMKilled` or `CrashLoopBackOff`.
        reason: String,
        restarts: i32,
        /// Exit code of the last run, when known.
        exit_code: Option<i32>,
    },
    /// A new pod's container cannot start: image pull or configuration failure.
    CannotStart {
        pod: String,
        container: String,
        /// `ImagePullBackOff`, `CreateContainerConfigError`, ...
        reason: String,
        message: String,
    },
    /// A new pod cannot be scheduled (the scheduler's message).
    Unschedulable { pod: String, message: String },
}

impl RolloutFailure {
    /// A short stable name of the cause: `deadline-exceeded`, `oom-killed`, `crash-loop`,
    /// `cannot-start`, `unschedulable`.
    pub fn kind(&self) -> &'static str {
        match self {
            RolloutFailure::DeadlineExceeded { .. } => "deadline-exceeded",
            RolloutFailure::CrashLoop { reason, .. } if reason == pods::OOM_KILLED => "oom-killed",
            RolloutFailure::CrashLoop { .. } => "crash-loop",
            RolloutFailure::CannotStart { .. } => "cannot-start",
            RolloutFailure::Unschedulable { .. } => "unschedulable",
        }
    }
}

impl fmt::Display for RolloutFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolloutFailure::DeadlineExceeded { message } => {
                write!(f, "progress deadline exceeded: {message}")
            }
            RolloutFailure::CrashLoop {
                pod,
                container,
                reason,
                restarts,
                exit_code,
            } => {
                write!(f, "new pod {pod}: container {container} ")?;
                if reason == pods::OOM_KILLED {
                    write!(f, "was OOMKilled (memory limit too low)")?;
                } else {
                    write!(f, "is in {reason}")?;
                    if let Some(code) = exit_code {
                        write!(f, " (last exit code {code})")?;
                    }
                }
                let plural = if *restarts == 1 { "" } else { "s" };
                write!(f, ", {restarts} restart{plural}")
            }
            RolloutFailure::CannotStart {
                pod,
                container,
                reason,
                message,
            } => {
                write!(
                    f,
                    "new pod {pod}: container {container} cannot start: {reason}"
                )?;
                if !message.is_empty() {
                    write!(f, ": {}", one_line(message))?;
                }
                Ok(())
            }
            RolloutFailure::Unschedulable { pod, message } => {
                write!(
                    f,
                    "new pod {pod} cannot be scheduled: {}",
                    one_line(message)
                )
            }
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The verdict on a rollout at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assessment {
    /// Complete, with kubectl's message.
    Done(String),
    /// Still going: a status line such as `2 of 3 updated replicas are available`.
    Progressing(String),
    /// Failed, with the cause.
    Failed(RolloutFailure),
    /// Not something a rollout can be followed for (StatefulSet with OnDelete updates).
    Unsupported(String),
}

/// What the verdict depends on besides the objects.
#[derive(Clone, Copy, Debug)]
pub struct AssessContext {
    /// The current time.
    pub now: Timestamp,
    /// When the rollout started: OOM kills that ended before it are ignored (they belong to
    /// an earlier rollout of the same template). `None` counts every one.
    pub since: Option<Timestamp>,
    /// How long a new pod may stay unschedulable before the rollout counts as failed (old
    /// pods being terminated may free the room meanwhile).
    pub unschedulable_grace: Duration,
}

/// The default [`AssessContext::unschedulable_grace`].
pub const DEFAULT_UNSCHEDULABLE_GRACE: Duration = Duration::from_secs(60);

impl AssessContext {
    /// A context at `now`, counting every OOM kill, with the default unschedulable grace.
    pub fn at(now: Timestamp) -> AssessContext {
        AssessContext {
            now,
            since: None,
            unschedulable_grace: DEFAULT_UNSCHEDULABLE_GRACE,
        }
    }
}

/// Assesses a Deployment rollout: `new_pods` are the pods of its newest ReplicaSet.
///
/// Done exactly when kubectl says so: `observedGeneration >= generation`, `updatedReplicas
/// == spec.replicas`, no old replicas left, `availableReplicas >= updatedReplicas`. Failed on
/// ProgressDeadlineExceeded, and (unlike kubectl) on a new pod that crash-loops, was
/// OOMKilled since the rollout started, cannot pull its image or load its configuration, or
/// stayed unschedulable past the grace.
pub fn assess(deploy: &Deployment, new_pods: &[Pod], ctx: &AssessContext) -> Assessment {
    let generation = deploy.metadata.generation.unwrap_or(0);
    let status = deploy.status.clone().unwrap_or_default();
    if generation > status.observed_generation.unwrap_or(0) {
        return Assessment::Progressing(
            "waiting for the deployment controller to observe the new spec".into(),
        );
    }
    let deadline = status.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some(PROGRESS_DEADLINE_EXCEEDED)
    });
    if let Some(c) = deadline {
        return Assessment::Failed(RolloutFailure::DeadlineExceeded {
            message: c.message.clone().unwrap_or_default(),
        });
    }
    if let Some(failure) = pod_failure(new_pods, ctx) {
        return Assessment::Failed(failure);
    }
    let spec = deploy.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas);
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let paused = spec.and_then(|s| s.paused).unwrap_or(false);
    let progressing = |line: String| {
        Assessment::Progressing(if paused {
            format!("{line} (the deployment is paused: kubectl rollout resume)")
        } else {
            line
        })
    };
    if let Some(desired) = desired
        && updated < desired
    {
        return progressing(format!(
            "{updated} out of {desired} new replicas have been updated"
        ));
    }
    if replicas > updated {
        return progressing(format!(
            "{} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return progressing(format!(
            "{available} of {updated} updated replicas are available"
        ));
    }
    let name = deploy.metadata.name.as_deref().unwrap_or_default();
    Assessment::Done(format!("deployment \"{name}\" successfully rolled out"))
}

/// Assesses a StatefulSet rollout: `new_pods` are the pods at its update revision.
///
/// Done as kubectl's status viewer: spec observed, `readyReplicas >= spec.replicas`, every
/// pod above the partition updated, and (without a partition) `currentRevision ==
/// updateRevision`. Fails on the same new-pod causes as [`assess`].
pub fn assess_statefulset(sts: &StatefulSet, new_pods: &[Pod], ctx: &AssessContext) -> Assessment {
    let spec = sts.spec.as_ref();
    let strategy = spec
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate");
    if strategy != "RollingUpdate" {
        return Assessment::Unsupported(format!(
            "statefulset uses the {strategy} update strategy: pods change only when deleted, there is no rollout to follow"
        ));
    }
    let status = sts.status.clone().unwrap_or_default();
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || sts.metadata.generation.unwrap_or(0) > observed {
        return Assessment::Progressing(
            "waiting for the statefulset controller to observe the new spec".into(),
        );
    }
    if let Some(failure) = pod_failure(new_pods, ctx) {
        return Assessment::Failed(failure);
    }
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < desired {
        return Assessment::Progressing(format!(
            "waiting for {} pods to be ready",
            desired - ready
        ));
    }
    let partition = spec
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let target = (desired - partition).max(0);
    if updated < target {
        return Assessment::Progressing(format!(
            "{updated} out of {target} new pods have been updated"
        ));
    }
    let update_revision = status.update_revision.unwrap_or_default();
    if partition > 0 {
        return Assessment::Done(format!(
            "partitioned roll out complete: {updated} new pods have been updated"
        ));
    }
    if status.current_revision.as_deref() != Some(update_revision.as_str()) {
        return Assessment::Progressing(format!(
            "waiting for the rolling update to complete: {updated} pods at revision {update_revision}"
        ));
    }
    Assessment::Done(format!(
        "statefulset rolling update complete {} pods at revision {update_revision}",
        status.current_replicas.unwrap_or(updated)
    ))
}

/// The first failure among the new pods: containers first (more telling), then scheduling.
fn pod_failure(new_pods: &[Pod], ctx: &AssessContext) -> Option<RolloutFailure> {
    let mut sorted: Vec<&Pod> = new_pods.iter().collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let summaries: Vec<_> = sorted.iter().map(|p| pods::summarize(p, &[])).collect();
    for pod in &summaries {
        for c in &pod.containers {
            if let Some(f) = container_failure(&pod.name, c, ctx) {
                return Some(f);
            }
        }
    }
    for (pod, summary) in sorted.iter().zip(&summaries) {
        let Some(message) = &summary.unschedulable else {
            continue;
        };
        let since = pods::condition(pod.status.as_ref(), "PodScheduled")
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
            .or(summary.age_since);
        let waited = since.map(|t| ctx.now.duration_since(t));
        let grace = jiff::SignedDuration::try_from(ctx.unschedulable_grace).unwrap_or_default();
        if waited.is_none_or(|w| w >= grace) {
            return Some(RolloutFailure::Unschedulable {
                pod: summary.name.clone(),
                message: message.clone(),
            });
        }
    }
    None
}

fn container_failure(
    pod: &str,
    c: &ContainerSummary,
    ctx: &AssessContext,
) -> Option<RolloutFailure> {
    let last = c.last_termination.as_ref();
    let recent_oom = last.is_some_and(|t| {
        t.oom_killed()
            && ctx
                .since
                .is_none_or(|since| t.finished_at.is_none_or(|f| f >= since))
    });
    let oom_now = c.state == "Terminated" && c.reason.as_deref() == Some(pods::OOM_KILLED);
    if c.crash_looping() || recent_oom || oom_now {
        let oom = oom_now || recent_oom || (c.crash_looping() && c.oom_killed());
        return Some(RolloutFailure::CrashLoop {
            pod: pod.to_string(),
            container: c.name.clone(),
            reason: if oom {
                pods::OOM_KILLED
            } else {
                "CrashLoopBackOff"
            }
            .to_string(),
            restarts: c.restarts,
            exit_code: c.exit_code.or(last.map(|t| t.exit_code)),
        });
    }
    let reason = c
        .broken_reason()
        .filter(|r| FATAL_WAITING_REASONS.contains(r))?;
    Some(RolloutFailure::CannotStart {
        pod: pod.to_string(),
        container: c.name.clone(),
        reason: reason.to_string(),
        message: c.message.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ctx() -> AssessContext {
        AssessContext {
            now: ts("2026-11-05T10:00:00Z"),
            since: Some(ts("2026-11-05T09:55:00Z")),
            unschedulable_grace: Duration::from_secs(60),
        }
    }

    fn deploy(generation: i64, status: Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "gw", "namespace": "gw", "generation": generation},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "gw"}}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    fn rolled(updated: i32, replicas: i32, available: i32) -> Deployment {
        deploy(
            2,
            json!({"observedGeneration": 2, "updatedReplicas": updated, "replicas": replicas,
                   "availableReplicas": available}),
        )
    }

    fn pod(name: &str, status: Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "gw", "creationTimestamp": "2026-11-05T09:56:00Z"},
            "spec": {"containers": [{"name": "proxy"}]},
            "status": status,
        }))
        .unwrap()
    }

    fn container(state: Value, last: Value, restarts: i32) -> Value {
        json!({"phase": "Running", "containerStatuses": [{
            "name": "proxy", "image": "envoy", "imageID": "", "ready": false,
            "restartCount": restarts, "state": state, "lastState": last
        }]})
    }

    fn crashloop_pod(name: &str, last_reason: &str, finished: &str) -> Pod {
        pod(
            name,
            container(
                json!({"waiting": {"reason": "CrashLoopBackOff"}}),
                json!({"terminated": {"reason": last_reason, "exitCode": if last_reason == "OOMKilled" { 137 } else { 1 },
                                      "finishedAt": finished}}),
                3,
            ),
        )
    }

    fn unschedulable_pod(name: &str, since: &str) -> Pod {
        pod(
            name,
            json!({"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "lastTransitionTime": since,
                "message": "0/5 nodes are available: 5 Insufficient memory."}]}),
        )
    }

    fn progressing(a: Assessment) -> String {
        match a {
            Assessment::Progressing(line) => line,
            other => panic!("expected Progressing, got {other:?}"),
        }
    }

    fn failed(a: Assessment) -> RolloutFailure {
        match a {
            Assessment::Failed(f) => f,
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn waits_until_the_spec_is_observed() {
        let d = deploy(
            3,
            json!({"observedGeneration": 2, "updatedReplicas": 3, "replicas": 3, "availableReplicas": 3}),
        );
        assert!(progressing(assess(&d, &[], &ctx())).contains("observe the new spec"));
        let never_observed = deploy(1, json!({}));
        assert!(progressing(assess(&never_observed, &[], &ctx())).contains("observe"));
    }

    #[test]
    fn each_kubectl_rule_in_order() {
        assert_eq!(
            progressing(assess(&rolled(1, 4, 3), &[], &ctx())),
            "1 out of 3 new replicas have been updated"
        );
        assert_eq!(
            progressing(assess(&rolled(3, 4, 3), &[], &ctx())),
            "1 old replicas are pending termination"
        );
        assert_eq!(
            progressing(assess(&rolled(3, 3, 2), &[], &ctx())),
            "2 of 3 updated replicas are available"
        );
        assert_eq!(
            assess(&rolled(3, 3, 3), &[], &ctx()),
            Assessment::Done("deployment \"gw\" successfully rolled out".into())
        );
    }

    #[test]
    fn paused_deployment_says_so() {
        let mut d = rolled(1, 3, 3);
        if let Some(s) = d.spec.as_mut() {
            s.paused = Some(true);
        }
        assert!(
            progressing(assess(&d, &[], &ctx()))
                .ends_with("(the deployment is paused: kubectl rollout resume)")
        );
    }

    #[test]
    fn progress_deadline_exceeded_fails_first() {
        let d = deploy(
            2,
            json!({"observedGeneration": 2, "updatedReplicas": 1, "replicas": 3, "availableReplicas": 2,
                   "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                   "message": "ReplicaSet \"gw-7d9f\" has timed out progressing."}]}),
        );
        let pods = [crashloop_pod("gw-7d9f-a", "Error", "2026-11-05T09:59:00Z")];
        let f = failed(assess(&d, &pods, &ctx()));
        assert_eq!(f.kind(), "deadline-exceeded");
        assert_eq!(
            f.to_string(),
            "progress deadline exceeded: ReplicaSet \"gw-7d9f\" has timed out progressing."
        );
    }

    #[test]
    fn crash_looping_new_pod_fails_where_kubectl_waits() {
        let pods = [crashloop_pod("gw-7d9f-b", "Error", "2026-11-05T09:59:00Z")];
        let f = failed(assess(&rolled(3, 3, 2), &pods, &ctx()));
        assert_eq!(
            f,
            RolloutFailure::CrashLoop {
                pod: "gw-7d9f-b".into(),
                container: "proxy".into(),
                reason: "CrashLoopBackOff".into(),
                restarts: 3,
                exit_code: Some(1),
            }
        );
        assert_eq!(f.kind(), "crash-loop");
        assert_eq!(
            f.to_string(),
            "new pod gw-7d9f-b: container proxy is in CrashLoopBackOff (last exit code 1), 3 restarts"
        );
    }

    #[test]
    fn oom_killed_new_pod_fails_even_when_running_again() {
        let running_after_oom = pod(
            "gw-7d9f-c",
            container(
                json!({"running": {"startedAt": "2026-11-05T09:59:30Z"}}),
                json!({"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-11-05T09:59:20Z"}}),
                1,
            ),
        );
        let f = failed(assess(
            &rolled(3, 3, 3),
            std::slice::from_ref(&running_after_oom),
            &ctx(),
        ));
        assert_eq!(f.kind(), "oom-killed");
        assert_eq!(
            f.to_string(),
            "new pod gw-7d9f-c: container proxy was OOMKilled (memory limit too low), 1 restart"
        );
        let mut before = ctx();
        before.since = Some(ts("2026-11-05T09:59:25Z"));
        assert!(matches!(
            assess(&rolled(3, 3, 3), &[running_after_oom], &before),
            Assessment::Done(_)
        ));

        let looping_oom = crashloop_pod("gw-7d9f-d", "OOMKilled", "2026-11-05T09:00:00Z");
        let f = failed(assess(&rolled(3, 3, 2), &[looping_oom], &ctx()));
        assert_eq!(
            f.kind(),
            "oom-killed",
            "a crash loop of OOM kills is an OOM whenever it began"
        );
    }

    #[test]
    fn image_and_config_errors_fail_but_transient_pull_errors_wait() {
        let pull = pod(
            "gw-7d9f-e",
            container(
                json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"envoy:typo\""}}),
                json!({}),
                0,
            ),
        );
        let f = failed(assess(&rolled(3, 3, 2), &[pull], &ctx()));
        assert_eq!(f.kind(), "cannot-start");
        assert_eq!(
            f.to_string(),
            "new pod gw-7d9f-e: container proxy cannot start: ImagePullBackOff: Back-off pulling image \"envoy:typo\""
        );
        let config = pod(
            "gw-7d9f-f",
            container(
                json!({"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"tls\" not found"}}),
                json!({}),
                0,
            ),
        );
        assert_eq!(
            failed(assess(&rolled(3, 3, 2), &[config], &ctx())).kind(),
            "cannot-start"
        );
        let transient = pod(
            "gw-7d9f-g",
            container(json!({"waiting": {"reason": "ErrImagePull"}}), json!({}), 0),
        );
        let creating = pod(
            "gw-7d9f-h",
            container(
                json!({"waiting": {"reason": "ContainerCreating"}}),
                json!({}),
                0,
            ),
        );
        assert!(matches!(
            assess(&rolled(3, 3, 2), &[transient, creating], &ctx()),
            Assessment::Progressing(_)
        ));
    }

    #[test]
    fn unschedulable_new_pod_fails_after_the_grace() {
        let recent = unschedulable_pod("gw-7d9f-i", "2026-11-05T09:59:30Z");
        assert_eq!(
            progressing(assess(&rolled(2, 3, 2), &[recent], &ctx())),
            "2 out of 3 new replicas have been updated"
        );
        let old = unschedulable_pod("gw-7d9f-j", "2026-11-05T09:58:00Z");
        let f = failed(assess(&rolled(2, 3, 2), std::slice::from_ref(&old), &ctx()));
        assert_eq!(f.kind(), "unschedulable");
        assert_eq!(
            f.to_string(),
            "new pod gw-7d9f-j cannot be scheduled: 0/5 nodes are available: 5 Insufficient memory."
        );
        let crash = crashloop_pod("gw-7d9f-z", "Error", "2026-11-05T09:59:00Z");
        assert_eq!(
            failed(assess(&rolled(2, 3, 2), &[old, crash], &ctx())).kind(),
            "crash-loop",
            "a container failure is reported before a scheduling one"
        );
    }

    fn sts(generation: i64, strategy: Value, status: Value) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "db", "namespace": "gw", "generation": generation},
            "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {}, "updateStrategy": strategy},
            "status": status,
        }))
        .unwrap()
    }

    fn sts_status(ready: i32, updated: i32, current: &str, update: &str) -> Value {
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": ready, "updatedReplicas": updated,
               "currentReplicas": 3, "currentRevision": current, "updateRevision": update})
    }

    #[test]
    fn statefulset_rules() {
        let rolling = json!({"type": "RollingUpdate"});
        let on_delete = sts(2, json!({"type": "OnDelete"}), sts_status(3, 3, "a", "a"));
        assert!(matches!(
            assess_statefulset(&on_delete, &[], &ctx()),
            Assessment::Unsupported(_)
        ));
        let unobserved = sts(2, rolling.clone(), json!({"replicas": 3}));
        assert!(progressing(assess_statefulset(&unobserved, &[], &ctx())).contains("observe"));
        let not_ready = sts(2, rolling.clone(), sts_status(2, 3, "b", "b"));
        assert_eq!(
            progressing(assess_statefulset(&not_ready, &[], &ctx())),
            "waiting for 1 pods to be ready"
        );
        let updating = sts(2, rolling.clone(), sts_status(3, 1, "a", "b"));
        assert_eq!(
            progressing(assess_statefulset(&updating, &[], &ctx())),
            "1 out of 3 new pods have been updated"
        );
        let revision_pending = sts(2, rolling.clone(), sts_status(3, 3, "a", "b"));
        assert!(
            progressing(assess_statefulset(&revision_pending, &[], &ctx())).contains("revision b")
        );
        let done = sts(2, rolling.clone(), sts_status(3, 3, "b", "b"));
        assert_eq!(
            assess_statefulset(&done, &[], &ctx()),
            Assessment::Done("statefulset rolling update complete 3 pods at revision b".into())
        );
        let crash = crashloop_pod("db-2", "OOMKilled", "2026-11-05T09:59:00Z");
        assert_eq!(
            failed(assess_statefulset(&updating, &[crash], &ctx())).kind(),
            "oom-killed"
        );
    }

    #[test]
    fn statefulset_partition() {
        let partitioned = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
        let waiting = sts(2, partitioned.clone(), sts_status(3, 0, "a", "b"));
        assert_eq!(
            progressing(assess_statefulset(&waiting, &[], &ctx())),
            "0 out of 1 new pods have been updated"
        );
        let done = sts(2, partitioned, sts_status(3, 1, "a", "b"));
        assert_eq!(
            assess_statefulset(&done, &[], &ctx()),
            Assessment::Done("partitioned roll out complete: 1 new pods have been updated".into())
        );
    }
}
