//! One pod at a glance: the STATUS column exactly as `kubectl get pods` prints it, READY,
//! RESTARTS (with the last restart), node, IP, age, owner, and every container's state.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodStatus};
use serde::Serialize;

use super::containers::{ContainerSummary, container_summaries};
use super::owner::{Owner, owner_of};

/// `status.reason` of a pod whose node stopped answering (kubectl prints `Unknown`).
const NODE_UNREACHABLE_REASON: &str = "NodeLost";

/// A pod summarised for reports and checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodSummary {
    pub namespace: String,
    pub name: String,
    /// `status.phase`: Pending, Running, Succeeded, Failed, Unknown.
    pub phase: String,
    /// The STATUS column of `kubectl get pods`: Running, Pending, ContainerCreating,
    /// CrashLoopBackOff, OOMKilled, Init:0/1, Init:CrashLoopBackOff, Terminating, Evicted,
    /// Completed, Error, NotReady, SchedulingGated, Unknown (node lost)...
    pub status: String,
    /// READY numerator: ready containers (and started ready sidecars).
    pub ready_containers: usize,
    /// READY denominator: containers plus restartable init containers (sidecars).
    pub total_containers: usize,
    /// RESTARTS as kubectl counts them.
    pub restarts: i32,
    /// When the most recent restart's previous run ended.
    pub last_restart: Option<Timestamp>,
    /// `spec.nodeName`.
    pub node: Option<String>,
    /// `status.podIP`.
    pub ip: Option<String>,
    /// `metadata.creationTimestamp` (for AGE).
    pub age_since: Option<Timestamp>,
    /// The Ready condition is True.
    pub ready: bool,
    /// A deletion timestamp is set.
    pub terminating: bool,
    /// The eviction message when the kubelet evicted the pod.
    pub evicted: Option<String>,
    /// The scheduler's message when PodScheduled is False with reason Unschedulable.
    pub unschedulable: Option<String>,
    /// The top-level owner.
    pub owner: Owner,
    /// Every container, init containers first.
    pub containers: Vec<ContainerSummary>,
}

impl PodSummary {
    /// READY as kubectl prints it: `1/2`.
    pub fn ready_text(&self) -> String {
        format!("{}/{}", self.ready_containers, self.total_containers)
    }

    /// RESTARTS as kubectl prints it: `0`, or `3 (5m ago)` when the last restart is known.
    pub fn restarts_text(&self, now: Timestamp) -> String {
        match self.last_restart {
            Some(t) if self.restarts != 0 => {
                format!("{} ({} ago)", self.restarts, crate::time::age(t, now))
            }
            _ => self.restarts.to_string(),
        }
    }

    /// `pod/namespace/name`, the subject of findings about this pod.
    pub fn subject(&self) -> String {
        crate::findings::subject("pod", &self.namespace, &self.name)
    }

    /// True when any container was OOMKilled (now or in its previous run).
    pub fn oom_killed(&self) -> bool {
        self.containers.iter().any(ContainerSummary::oom_killed)
    }
}

/// Summarises `pod`; `replicasets` (may be empty) lets the owner resolve to a Deployment.
pub fn summarize(pod: &Pod, replicasets: &[ReplicaSet]) -> PodSummary {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let columns = kubectl_columns(pod);
    let pod_reason = status.and_then(|s| s.reason.as_deref());
    PodSummary {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        status: columns.status,
        ready_containers: columns.ready,
        total_containers: columns.total,
        restarts: columns.restarts,
        last_restart: columns.last_restart,
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        ip: status.and_then(|s| s.pod_ip.clone()),
        age_since: meta.creation_timestamp.as_ref().map(|t| t.0),
        ready: is_pod_ready(pod),
        terminating: meta.deletion_timestamp.is_some(),
        evicted: (pod_reason == Some("Evicted"))
            .then(|| status.and_then(|s| s.message.clone()).unwrap_or_default()),
        unschedulable: condition(status, "PodScheduled")
            .filter(|c| c.status == "False" && c.reason.as_deref() == Some("Unschedulable"))
            .map(|c| c.message.clone().unwrap_or_default()),
        owner: owner_of(pod, replicasets),
        containers: container_summaries(pod),
    }
}

/// True when the pod's Ready condition is True.
pub fn is_pod_ready(pod: &Pod) -> bool {
    condition(pod.status.as_ref(), "Ready").is_some_and(|c| c.status == "True")
}

/// The pod condition of type `type_`, if reported.
pub fn condition<'a>(status: Option<&'a PodStatus>, type_: &str) -> Option<&'a PodCondition> {
    status?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The READY, STATUS and RESTARTS columns.
struct Columns {
    status: String,
    ready: usize,
    total: usize,
    restarts: i32,
    last_restart: Option<Timestamp>,
}

fn is_restartable(c: Option<&Container>) -> bool {
    c.and_then(|c| c.restart_policy.as_deref()) == Some("Always")
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A port of kubectl's `printPod` (pkg/printers/internalversion/printers.go).
fn kubectl_columns(pod: &Pod) -> Columns {
    let empty = PodStatus::default();
    let status = pod.status.as_ref().unwrap_or(&empty);
    let init_specs: &[Container] = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let init_spec = |name: &str| init_specs.iter().find(|c| c.name == name);
    let mut total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    total += init_specs
        .iter()
        .filter(|c| is_restartable(Some(c)))
        .count();

    let phase = status.phase.clone().unwrap_or_default();
    let mut reason = match status.reason.as_deref() {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => phase.clone(),
    };
    if status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".into();
    }

    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart = None;
    let mut last_sidecar_restart = None;
    let mut initializing = false;
    let init_statuses = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    for (i, c) in init_statuses.iter().enumerate() {
        let finished = c
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.finished_at.as_ref())
            .map(|t| t.0);
        restarts += c.restart_count;
        last_restart = later(last_restart, finished);
        let sidecar = is_restartable(init_spec(&c.name));
        if sidecar {
            sidecar_restarts += c.restart_count;
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let state = c.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && c.started == Some(true) {
            if c.ready {
                ready += 1;
            }
            continue;
        }
        initializing = true;
        reason = if let Some(t) = terminated {
            match t.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => match t.signal {
                    Some(sig) if sig != 0 => format!("Init:Signal:{sig}"),
                    _ => format!("Init:ExitCode:{}", t.exit_code),
                },
            }
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            format!("Init:{r}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        break;
    }

    let initialized = condition(Some(status), "Initialized").is_some_and(|c| c.status == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in status.container_statuses.iter().flatten().rev() {
            restarts += c.restart_count;
            let finished = c
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| t.finished_at.as_ref())
                .map(|t| t.0);
            last_restart = later(last_restart, finished);
            let state = c.state.as_ref();
            let waiting = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match t.reason.as_deref() {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => match t.signal {
                        Some(sig) if sig != 0 => format!("Signal:{sig}"),
                        _ => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if c.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = condition(Some(status), "Ready").is_some_and(|c| c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.reason.as_deref() == Some(NODE_UNREACHABLE_REASON) {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }

    Columns {
        status: reason,
        ready,
        total,
        restarts,
        last_restart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(spec: Value, status: Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "gw-1", "namespace": "gw", "creationTimestamp": "2026-11-05T09:00:00Z"},
            "spec": spec,
            "status": status,
        }))
        .unwrap()
    }

    fn containers(names: &[&str]) -> Value {
        json!({"containers": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()})
    }

    fn cs(name: &str, ready: bool, restarts: i32, state: Value) -> Value {
        json!({"name": name, "image": "i", "imageID": "", "ready": ready, "restartCount": restarts, "state": state})
    }

    fn status_of(p: &Pod) -> String {
        summarize(p, &[]).status
    }

    #[test]
    fn running_and_ready() {
        let p = pod(
            containers(&["a", "b"]),
            json!({"phase": "Running", "podIP": "10.0.0.5",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                cs("a", true, 0, json!({"running": {}})),
                cs("b", true, 2, json!({"running": {}}))
            ]}),
        );
        let s = summarize(&p, &[]);
        assert_eq!(s.status, "Running");
        assert_eq!(s.ready_text(), "2/2");
        assert_eq!(s.restarts, 2);
        assert!(s.ready);
        assert_eq!(s.ip.as_deref(), Some("10.0.0.5"));
        assert_eq!(s.subject(), "pod/gw/gw-1");
    }

    #[test]
    fn waiting_reasons_show_as_status() {
        let p = pod(
            containers(&["proxy"]),
            json!({"phase": "Running", "containerStatuses": [
                {"name": "proxy", "image": "i", "imageID": "", "ready": false, "restartCount": 5,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-11-05T09:55:00Z"}}}
            ]}),
        );
        let s = summarize(&p, &[]);
        assert_eq!(s.status, "CrashLoopBackOff");
        assert_eq!(s.ready_text(), "0/1");
        assert!(s.oom_killed());
        let now: Timestamp = "2026-11-05T10:00:00Z".parse().unwrap();
        assert_eq!(s.restarts_text(now), "5 (5m ago)");

        let creating = pod(
            containers(&["proxy"]),
            json!({"phase": "Pending", "containerStatuses": [cs("proxy", false, 0, json!({"waiting": {"reason": "ContainerCreating"}}))]}),
        );
        assert_eq!(status_of(&creating), "ContainerCreating");
    }

    #[test]
    fn terminated_containers_show_reason_signal_or_exit_code() {
        let oom = pod(
            containers(&["a"]),
            json!({"phase": "Running", "containerStatuses": [cs("a", false, 0, json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}}))]}),
        );
        assert_eq!(status_of(&oom), "OOMKilled");
        let sig = pod(
            containers(&["a"]),
            json!({"phase": "Running", "containerStatuses": [cs("a", false, 0, json!({"terminated": {"exitCode": 137, "signal": 9}}))]}),
        );
        assert_eq!(status_of(&sig), "Signal:9");
        let code = pod(
            containers(&["a"]),
            json!({"phase": "Failed", "containerStatuses": [cs("a", false, 0, json!({"terminated": {"exitCode": 3}}))]}),
        );
        assert_eq!(status_of(&code), "ExitCode:3");
        let done = pod(
            containers(&["a"]),
            json!({"phase": "Succeeded", "containerStatuses": [cs("a", false, 0, json!({"terminated": {"reason": "Completed", "exitCode": 0}}))]}),
        );
        assert_eq!(status_of(&done), "Completed");
    }

    #[test]
    fn completed_with_a_running_container_is_running_or_not_ready() {
        let st = |ready: &str| {
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": ready}],
            "containerStatuses": [
                cs("a", true, 0, json!({"running": {}})),
                cs("b", false, 0, json!({"terminated": {"reason": "Completed", "exitCode": 0}}))
            ]})
        };
        assert_eq!(
            status_of(&pod(containers(&["a", "b"]), st("True"))),
            "Running"
        );
        assert_eq!(
            status_of(&pod(containers(&["a", "b"]), st("False"))),
            "NotReady"
        );
    }

    #[test]
    fn init_containers() {
        let spec = json!({"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]});
        let waiting = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [
                cs("i1", false, 0, json!({"terminated": {"exitCode": 0, "reason": "Completed"}})),
                cs("i2", false, 0, json!({"running": {}}))
            ], "containerStatuses": [cs("a", false, 0, json!({"waiting": {"reason": "PodInitializing"}}))]}),
        );
        assert_eq!(status_of(&waiting), "Init:1/2");
        let crash = pod(
            spec.clone(),
            json!({"phase": "Pending", "initContainerStatuses": [
                cs("i1", false, 3, json!({"waiting": {"reason": "CrashLoopBackOff"}}))
            ]}),
        );
        let s = summarize(&crash, &[]);
        assert_eq!(s.status, "Init:CrashLoopBackOff");
        assert_eq!(s.restarts, 3);
        let failed = pod(
            spec,
            json!({"phase": "Pending", "initContainerStatuses": [
                cs("i1", false, 0, json!({"terminated": {"exitCode": 2}}))
            ]}),
        );
        assert_eq!(status_of(&failed), "Init:ExitCode:2");
    }

    #[test]
    fn started_sidecar_counts_in_ready_and_total() {
        let spec = json!({"initContainers": [{"name": "mesh", "restartPolicy": "Always"}], "containers": [{"name": "a"}]});
        let p = pod(
            spec,
            json!({"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                   "initContainerStatuses": [{"name": "mesh", "image": "i", "imageID": "", "ready": true, "started": true, "restartCount": 1, "state": {"running": {}}}],
                   "containerStatuses": [cs("a", true, 2, json!({"running": {}}))]}),
        );
        let s = summarize(&p, &[]);
        assert_eq!(s.status, "Running");
        assert_eq!(s.ready_text(), "2/2");
        assert_eq!(s.restarts, 3);
    }

    #[test]
    fn pod_level_reasons() {
        let evicted = pod(
            containers(&["a"]),
            json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}),
        );
        let s = summarize(&evicted, &[]);
        assert_eq!(s.status, "Evicted");
        assert_eq!(
            s.evicted.as_deref(),
            Some("The node was low on resource: memory.")
        );

        let pending = pod(
            containers(&["a"]),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                   "message": "0/3 nodes are available: 3 Insufficient memory."}]}),
        );
        let s = summarize(&pending, &[]);
        assert_eq!(s.status, "Pending");
        assert_eq!(
            s.unschedulable.as_deref(),
            Some("0/3 nodes are available: 3 Insufficient memory.")
        );

        let gated = pod(
            containers(&["a"]),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
        );
        assert_eq!(status_of(&gated), "SchedulingGated");
        assert_eq!(summarize(&gated, &[]).unschedulable, None);
    }

    #[test]
    fn deletion_gives_terminating_or_unknown() {
        let mut p = pod(
            containers(&["a"]),
            json!({"phase": "Running", "containerStatuses": [cs("a", true, 0, json!({"running": {}}))]}),
        );
        p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-11-05T10:00:00Z".parse().unwrap(),
        ));
        assert_eq!(status_of(&p), "Terminating");
        assert!(summarize(&p, &[]).terminating);
        if let Some(s) = p.status.as_mut() {
            s.reason = Some("NodeLost".into());
        }
        assert_eq!(status_of(&p), "Unknown");
        if let Some(s) = p.status.as_mut() {
            s.reason = None;
            s.phase = Some("Succeeded".into());
            s.container_statuses = None;
        }
        assert_eq!(status_of(&p), "Succeeded");
    }

    #[test]
    fn empty_pod_does_not_panic() {
        let p: Pod = serde_json::from_value(json!({"metadata": {}})).unwrap();
        let s = summarize(&p, &[]);
        assert_eq!(s.status, "");
        assert_eq!(s.ready_text(), "0/0");
        assert!(!s.ready);
    }
}
