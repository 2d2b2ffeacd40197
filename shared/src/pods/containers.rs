//! Per-container state: running, waiting (and why), terminated (reason, exit code), restarts,
//! the last termination (OOMKilled).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, ContainerStatus, Pod};
use serde::Serialize;

/// The reason the kubelet gives a container killed by the kernel's OOM killer.
pub const OOM_KILLED: &str = "OOMKilled";

/// Waiting reasons that mean the container is broken, not merely starting.
const BROKEN_WAITING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
    "PostStartHookError",
];

/// How a container ended (current state or its previous run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Termination {
    /// `OOMKilled`, `Error`, `Completed`, ... (empty when the runtime gave none).
    pub reason: String,
    /// The process exit code (137 = SIGKILL, often the OOM killer).
    pub exit_code: i32,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
}

impl Termination {
    fn from_api(t: &ContainerStateTerminated) -> Termination {
        Termination {
            reason: t.reason.clone().unwrap_or_default(),
            exit_code: t.exit_code,
            finished_at: t.finished_at.as_ref().map(|t| t.0),
        }
    }

    /// True when the kernel's OOM killer ended the container.
    pub fn oom_killed(&self) -> bool {
        self.reason == OOM_KILLED
    }
}

/// The state of one container, as `kubectl describe pod` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainerSummary {
    /// Container name.
    pub name: String,
    /// An init container (including restartable sidecars).
    pub init: bool,
    /// The readiness probe passes.
    pub ready: bool,
    /// Restart count.
    pub restarts: i32,
    /// `Running`, `Waiting`, `Terminated`, or `Unknown` when no state is reported yet.
    pub state: String,
    /// Waiting or termination reason: `CrashLoopBackOff`, `ImagePullBackOff`,
    /// `ErrImagePull`, `CreateContainerConfigError`, `OOMKilled`, `Error`, `Completed`...
    pub reason: Option<String>,
    /// The message with the reason, if any.
    pub message: Option<String>,
    /// Exit code when the current state is terminated.
    pub exit_code: Option<i32>,
    /// How the previous run ended (`lastState.terminated`).
    pub last_termination: Option<Termination>,
}

impl ContainerSummary {
    /// Summarises one status entry.
    pub fn from_status(status: &ContainerStatus, init: bool) -> ContainerSummary {
        let (state, reason, message, exit_code) = describe_state(status.state.as_ref());
        ContainerSummary {
            name: status.name.clone(),
            init,
            ready: status.ready,
            restarts: status.restart_count,
            state,
            reason,
            message,
            exit_code,
            last_termination: status
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .map(Termination::from_api),
        }
    }

    /// True when the current or the previous run was OOMKilled.
    pub fn oom_killed(&self) -> bool {
        (self.state == "Terminated" && self.reason.as_deref() == Some(OOM_KILLED))
            || self
                .last_termination
                .as_ref()
                .is_some_and(Termination::oom_killed)
    }

    /// True when the container waits in `CrashLoopBackOff`.
    pub fn crash_looping(&self) -> bool {
        self.state == "Waiting" && self.reason.as_deref() == Some("CrashLoopBackOff")
    }

    /// The waiting reason when it means the container is broken (crash loop, image pull,
    /// bad config), not merely starting (`ContainerCreating`, `PodInitializing`).
    pub fn broken_reason(&self) -> Option<&str> {
        if self.state != "Waiting" {
            return None;
        }
        self.reason
            .as_deref()
            .filter(|r| BROKEN_WAITING_REASONS.contains(r))
    }
}

fn describe_state(
    state: Option<&ContainerState>,
) -> (String, Option<String>, Option<String>, Option<i32>) {
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    match state {
        Some(ContainerState {
            waiting: Some(w), ..
        }) => (
            "Waiting".into(),
            non_empty(&w.reason),
            non_empty(&w.message),
            None,
        ),
        Some(ContainerState {
            terminated: Some(t),
            ..
        }) => (
            "Terminated".into(),
            non_empty(&t.reason),
            non_empty(&t.message),
            Some(t.exit_code),
        ),
        Some(ContainerState {
            running: Some(_), ..
        }) => ("Running".into(), None, None, None),
        _ => ("Unknown".into(), None, None, None),
    }
}

/// Every container of the pod, init containers first, in status order.
pub fn container_summaries(pod: &Pod) -> Vec<ContainerSummary> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let init = status.init_container_statuses.iter().flatten();
    let main = status.container_statuses.iter().flatten();
    init.map(|s| ContainerSummary::from_status(s, true))
        .chain(main.map(|s| ContainerSummary::from_status(s, false)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(v: serde_json::Value) -> ContainerStatus {
        let mut base = json!({"name": "proxy", "image": "envoy", "imageID": "", "ready": false, "restartCount": 0});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), v.as_object()) {
            b.extend(extra.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn crashloop_after_oom() {
        let s = ContainerSummary::from_status(
            &status(json!({
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                              "finishedAt": "2026-11-05T10:00:00Z"}}
            })),
            false,
        );
        assert_eq!(s.state, "Waiting");
        assert!(s.crash_looping());
        assert!(s.oom_killed());
        assert_eq!(s.broken_reason(), Some("CrashLoopBackOff"));
        assert_eq!(s.restarts, 4);
        let last = s.last_termination.unwrap();
        assert_eq!(last.exit_code, 137);
        assert_eq!(
            last.finished_at.unwrap().to_string(),
            "2026-11-05T10:00:00Z"
        );
    }

    #[test]
    fn running_and_starting_are_not_broken() {
        let running = ContainerSummary::from_status(
            &status(
                json!({"ready": true, "state": {"running": {"startedAt": "2026-11-05T10:00:00Z"}}}),
            ),
            false,
        );
        assert_eq!(running.state, "Running");
        assert!(running.ready && !running.oom_killed() && !running.crash_looping());
        let creating = ContainerSummary::from_status(
            &status(json!({"state": {"waiting": {"reason": "ContainerCreating"}}})),
            false,
        );
        assert_eq!(creating.broken_reason(), None);
        let config = ContainerSummary::from_status(
            &status(
                json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"x\" not found"}}}),
            ),
            false,
        );
        assert_eq!(config.broken_reason(), Some("CreateContainerConfigError"));
        assert_eq!(config.message.as_deref(), Some("secret \"x\" not found"));
        let unknown = ContainerSummary::from_status(&status(json!({})), false);
        assert_eq!(unknown.state, "Unknown");
    }

    #[test]
    fn terminated_now_with_oom() {
        let s = ContainerSummary::from_status(
            &status(json!({"state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}})),
            true,
        );
        assert!(s.init);
        assert_eq!(s.exit_code, Some(137));
        assert!(s.oom_killed());
        let err = ContainerSummary::from_status(
            &status(json!({"state": {"terminated": {"reason": "Error", "exitCode": 1}}})),
            false,
        );
        assert!(!err.oom_killed());
    }
}
