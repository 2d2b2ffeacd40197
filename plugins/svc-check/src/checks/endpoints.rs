//! Endpoint checks: ready, serving and terminating counts from the EndpointSlices, and for
//! each matched pod that is not ready, the reason read from its conditions, its containers'
//! states and its probe events.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use runbook::Finding;
use serde::Serialize;

use super::{is_ready, pod_name, pod_subject, service_subject};
use crate::catalog;
use crate::index::ServiceView;

/// Endpoint counts of one Service (each address counted once across slices).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCounts {
    /// Endpoints that receive new connections.
    pub ready: usize,
    /// Endpoints whose pod can serve (ready, or terminating but still serving).
    pub serving: usize,
    /// Endpoints whose pod is shutting down.
    pub terminating: usize,
    /// Endpoints neither ready nor terminating.
    pub not_ready: usize,
}

impl EndpointCounts {
    /// All endpoints.
    pub fn total(&self) -> usize {
        self.ready + self.terminating + self.not_ready
    }
}

/// Counts endpoints from the Service's EndpointSlices, or from its Endpoints object when it has
/// no slice (manual Endpoints of a selector-less Service). Unset conditions count as ready,
/// serving and not terminating, as the API documents.
pub fn counts(view: &ServiceView) -> EndpointCounts {
    let mut c = EndpointCounts::default();
    if view.slices.is_empty() {
        for subset in view
            .endpoints
            .and_then(|e| e.subsets.as_ref())
            .into_iter()
            .flatten()
        {
            let ready = subset.addresses.as_ref().map_or(0, Vec::len);
            c.ready += ready;
            c.serving += ready;
            c.not_ready += subset.not_ready_addresses.as_ref().map_or(0, Vec::len);
        }
        return c;
    }
    let mut seen = BTreeSet::new();
    for ep in view.slices.iter().flat_map(|s| s.endpoints.iter()) {
        let key = ep
            .target_ref
            .as_ref()
            .and_then(|r| r.uid.clone().or_else(|| r.name.clone()))
            .or_else(|| ep.addresses.first().cloned());
        if let Some(key) = key
            && !seen.insert(key)
        {
            continue;
        }
        let cond = ep.conditions.as_ref();
        let ready = cond.and_then(|c| c.ready) != Some(false);
        let serving = cond.and_then(|c| c.serving) != Some(false);
        let terminating = cond.and_then(|c| c.terminating) == Some(true);
        if serving {
            c.serving += 1;
        }
        if terminating {
            c.terminating += 1;
        } else if ready {
            c.ready += 1;
        } else {
            c.not_ready += 1;
        }
    }
    c
}

/// The endpoint checks of one Service.
pub fn check(view: &ServiceView, counts: &EndpointCounts) -> Vec<Finding> {
    let mut findings = Vec::new();
    if view.pods.is_empty() {
        return findings;
    }
    let not_ready: Vec<&Pod> = view
        .pods
        .iter()
        .copied()
        .filter(|p| !is_ready(p) && p.metadata.deletion_timestamp.is_none())
        .collect();
    if counts.ready == 0 {
        let (message, hint) = if view.slices.is_empty() && not_ready.is_empty() {
            (
                format!("{} ready pod(s) match but the Service has no EndpointSlice: nothing routes to them", view.pods.len()),
                "the EndpointSlice controller (kube-controller-manager) is not running or cannot write: check it".to_string(),
            )
        } else {
            let reasons: BTreeSet<String> =
                not_ready.iter().map(|p| short_reason(p, view)).collect();
            (
                format!(
                    "{} pod(s) match, none is a ready endpoint: connections are refused or hang ({})",
                    view.pods.len(),
                    reasons.into_iter().collect::<Vec<_>>().join("; ")
                ),
                format!(
                    "fix the pods (see the not-ready findings below): kubectl describe pods -n {} -l {}",
                    view.namespace,
                    selector_arg(view)
                ),
            )
        };
        findings.push(Finding::critical(
            catalog::NO_READY_ENDPOINTS,
            service_subject(view),
            message,
            hint,
        ));
    }
    for pod in not_ready {
        let reason = not_ready_reason(
            pod,
            view.pod_events
                .get(pod_name(pod))
                .map(Vec::as_slice)
                .unwrap_or_default(),
            view.nodes,
        );
        findings.push(Finding::warning(
            catalog::NOT_READY_PODS,
            pod_subject(pod),
            format!(
                "not ready, so not an endpoint of service/{}: {}",
                view.name, reason.text
            ),
            reason.hint(pod, view.namespace),
        ));
    }
    findings
}

fn selector_arg(view: &ServiceView) -> String {
    view.service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .map(super::selector::format_selector)
        .unwrap_or_default()
}

fn short_reason(pod: &Pod, view: &ServiceView) -> String {
    let r = not_ready_reason(
        pod,
        view.pod_events
            .get(pod_name(pod))
            .map(Vec::as_slice)
            .unwrap_or_default(),
        view.nodes,
    );
    r.kind.label().to_string()
}

/// What keeps a pod from being ready, in the order a person would look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotReadyKind {
    /// The pod is being deleted.
    Terminating,
    /// The scheduler found no node.
    Unschedulable,
    /// Its node is not Ready.
    NodeNotReady,
    /// A container keeps crashing.
    Crashing,
    /// The image cannot be pulled.
    ImagePull,
    /// A container waits for another reason (config error, creating).
    Waiting,
    /// Running, but the readiness probe fails.
    ProbeFailing,
    /// Running, not ready, no more detail known.
    NotReady,
}

impl NotReadyKind {
    /// A short label for summaries.
    pub fn label(self) -> &'static str {
        match self {
            NotReadyKind::Terminating => "terminating",
            NotReadyKind::Unschedulable => "unschedulable",
            NotReadyKind::NodeNotReady => "node not ready",
            NotReadyKind::Crashing => "crashing",
            NotReadyKind::ImagePull => "image pull failing",
            NotReadyKind::Waiting => "containers waiting",
            NotReadyKind::ProbeFailing => "readiness probe failing",
            NotReadyKind::NotReady => "not ready",
        }
    }
}

/// Why a pod is not ready: a kind and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReadyReason {
    /// The kind of cause.
    pub kind: NotReadyKind,
    /// The detail, from the pod's own status and events.
    pub text: String,
}

impl NotReadyReason {
    fn hint(&self, pod: &Pod, namespace: &str) -> String {
        let name = pod_name(pod);
        match self.kind {
            NotReadyKind::Crashing => format!("read why it exits: kubectl logs {name} -n {namespace} --previous"),
            NotReadyKind::ImagePull => format!("check the image name, tag and pull secret: kubectl describe pod {name} -n {namespace}"),
            NotReadyKind::Unschedulable => "free capacity or fix the tolerations/affinity named in the FailedScheduling message".to_string(),
            NotReadyKind::NodeNotReady => "diagnose the node (kubectl node-maintain NODE) or move the pod: delete it so its controller reschedules it".to_string(),
            NotReadyKind::ProbeFailing => "check the readinessProbe's port, path and timeoutSeconds against the app, and the node's load (runbook 6.2.3)".to_string(),
            NotReadyKind::Waiting | NotReadyKind::NotReady | NotReadyKind::Terminating => {
                format!("kubectl describe pod {name} -n {namespace}")
            }
        }
    }
}

/// Reads why `pod` is not ready from its conditions, container states, node and events.
pub fn not_ready_reason(pod: &Pod, events: &[&Event], nodes: Option<&[Node]>) -> NotReadyReason {
    let reason = |kind, text: String| NotReadyReason { kind, text };
    if pod.metadata.deletion_timestamp.is_some() {
        return reason(NotReadyKind::Terminating, "terminating".into());
    }
    let status = pod.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    if let Some(c) = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    {
        let msg = c
            .message
            .clone()
            .or_else(|| latest(events, "FailedScheduling"))
            .unwrap_or_default();
        return reason(
            NotReadyKind::Unschedulable,
            format!("Pending, not scheduled: {msg}"),
        );
    }
    let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    if let (Some(node), Some(nodes)) = (node, nodes)
        && let Some(n) = nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(node))
        && !node_is_ready(n)
    {
        return reason(
            NotReadyKind::NodeNotReady,
            format!("its node {node} is not Ready"),
        );
    }
    let containers = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    for cs in containers.iter().filter(|c| !c.ready) {
        let state = cs.state.as_ref();
        if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
            let why = w.reason.as_deref().unwrap_or("Waiting");
            let last = cs
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .map(|t| {
                    format!(
                        ", last exit {} (code {})",
                        t.reason.as_deref().unwrap_or("Error"),
                        t.exit_code
                    )
                })
                .unwrap_or_default();
            let msg = w
                .message
                .as_deref()
                .map(|m| format!(": {}", first_line(m)))
                .unwrap_or_default();
            let kind = match why {
                "CrashLoopBackOff" | "RunContainerError" => NotReadyKind::Crashing,
                "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => NotReadyKind::ImagePull,
                _ => NotReadyKind::Waiting,
            };
            return reason(
                kind,
                format!(
                    "container {} {why}{msg} ({} restarts{last})",
                    cs.name, cs.restart_count
                ),
            );
        }
        if state.and_then(|s| s.running.as_ref()).is_some() {
            return match probe_failure(events) {
                Some(p) => reason(
                    NotReadyKind::ProbeFailing,
                    format!("container {} running, {p}", cs.name),
                ),
                None => reason(
                    NotReadyKind::NotReady,
                    format!(
                        "container {} running but not ready (readiness probe not passing yet)",
                        cs.name
                    ),
                ),
            };
        }
        if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            return reason(
                NotReadyKind::Crashing,
                format!(
                    "container {} terminated: {} (code {})",
                    cs.name,
                    t.reason.as_deref().unwrap_or("Error"),
                    t.exit_code
                ),
            );
        }
    }
    if let Some(p) = probe_failure(events) {
        return reason(NotReadyKind::ProbeFailing, p);
    }
    let ready = conditions.iter().find(|c| c.type_ == "Ready");
    let detail = ready
        .map(|c| {
            [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            format!(
                "phase {}",
                status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown")
            )
        });
    reason(NotReadyKind::NotReady, detail)
}

/// The newest `Readiness probe failed` event, with its count.
fn probe_failure(events: &[&Event]) -> Option<String> {
    let ev = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Unhealthy"))
        .filter(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("Readiness probe"))
        })
        .max_by_key(|e| event_time(e))?;
    let count = ev
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(ev.count)
        .unwrap_or(1);
    let msg = first_line(ev.message.as_deref().unwrap_or_default());
    Some(if count > 1 {
        format!("{msg} (x{count})")
    } else {
        msg.to_string()
    })
}

fn latest(events: &[&Event], reason: &str) -> Option<String> {
    events
        .iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .max_by_key(|e| event_time(e))
        .and_then(|e| e.message.clone())
}

/// When an event last happened (lastTimestamp, else eventTime, else creation).
pub fn event_time(e: &Event) -> Option<jiff::Timestamp> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default().trim()
}

/// True when the node's Ready condition is True.
pub fn node_is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;
    use crate::index::tests::{fetched, pod};
    use serde_json::{Value, json};

    fn slice(svc: &str, eps: Value) -> Value {
        json!({"metadata": {"name": format!("{svc}-abc"), "namespace": "a", "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "endpoints": eps})
    }

    fn crashing(name: &str) -> Value {
        let mut p = pod("a", name, json!({"app": "web"}));
        p["status"]["conditions"] =
            json!([{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]);
        p["status"]["containerStatuses"] = json!([{"name": "app", "ready": false, "restartCount": 7, "image": "i", "imageID": "",
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]);
        p
    }

    #[test]
    fn counts_follow_conditions_and_dedupe_addresses() {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}}});
        let eps = json!([
            {"addresses": ["10.0.0.1"], "conditions": {"ready": true, "serving": true, "terminating": false}},
            {"addresses": ["10.0.0.2"], "conditions": {"ready": false, "serving": false, "terminating": false}},
            {"addresses": ["10.0.0.3"], "conditions": {"ready": false, "serving": true, "terminating": true}},
            {"addresses": ["10.0.0.4"]}
        ]);
        let dup = json!([{"addresses": ["10.0.0.1"], "conditions": {"ready": true}}]);
        let f = fetched(
            vec![svc],
            vec![],
            vec![slice("web", eps), slice("web", dup)],
            vec![],
        );
        let idx = Index::build(&f);
        let c = counts(&idx.view(&f.services[0]));
        assert_eq!(
            c,
            EndpointCounts {
                ready: 2,
                serving: 3,
                terminating: 1,
                not_ready: 1
            }
        );
        assert_eq!(c.total(), 4);
    }

    #[test]
    fn no_ready_endpoint_is_critical_and_names_the_crash() {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}}});
        let eps = json!([{"addresses": ["10.0.0.1"], "conditions": {"ready": false}}]);
        let f = fetched(
            vec![svc],
            vec![crashing("web-1")],
            vec![slice("web", eps)],
            vec![],
        );
        let idx = Index::build(&f);
        let view = idx.view(&f.services[0]);
        let findings = check(&view, &counts(&view));
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].check, catalog::NO_READY_ENDPOINTS);
        assert!(
            findings[0].message.contains("crashing"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[1].check, catalog::NOT_READY_PODS);
        assert_eq!(findings[1].subject, "pod/a/web-1");
        assert!(
            findings[1].message.contains("CrashLoopBackOff"),
            "{}",
            findings[1].message
        );
        assert!(
            findings[1].message.contains("OOMKilled"),
            "{}",
            findings[1].message
        );
        assert!(findings[1].hint.contains("--previous"));
    }

    #[test]
    fn probe_events_explain_running_unready_pods() {
        let mut p = pod("a", "web-1", json!({"app": "web"}));
        p["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        p["status"]["containerStatuses"][0]["ready"] = json!(false);
        let ev = json!({"metadata": {"name": "e", "namespace": "a"}, "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "a"},
            "reason": "Unhealthy", "type": "Warning", "count": 12,
            "message": "Readiness probe failed: dial tcp 10.0.0.1:8080: connect: connection refused"});
        let f = fetched(vec![], vec![p], vec![], vec![ev]);
        let idx = Index::build(&f);
        let events = idx.events_for("Pod", "a", "web-1");
        let r = not_ready_reason(&f.pods[0], events, None);
        assert_eq!(r.kind, NotReadyKind::ProbeFailing);
        assert!(r.text.ends_with("connection refused (x12)"), "{}", r.text);
    }

    #[test]
    fn pending_and_node_not_ready_pods() {
        let mut pending = pod("a", "p", json!({}));
        pending["status"] = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient memory."}]});
        let mut lost = pod("a", "q", json!({}));
        lost["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        let node: Node = serde_json::from_value(json!({"metadata": {"name": "node-1"},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}))
        .unwrap();
        let f = fetched(vec![], vec![pending, lost], vec![], vec![]);
        let nodes = [node];
        let r = not_ready_reason(&f.pods[0], &[], Some(&nodes));
        assert_eq!(r.kind, NotReadyKind::Unschedulable);
        assert!(r.text.contains("Insufficient memory"));
        assert_eq!(
            not_ready_reason(&f.pods[1], &[], Some(&nodes)).kind,
            NotReadyKind::NodeNotReady
        );
    }

    #[test]
    fn ready_service_has_no_findings() {
        let svc = json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}}});
        let eps = json!([{"addresses": ["10.0.0.1"], "conditions": {"ready": true}}]);
        let f = fetched(
            vec![svc],
            vec![pod("a", "web-1", json!({"app": "web"}))],
            vec![slice("web", eps)],
            vec![],
        );
        let idx = Index::build(&f);
        let view = idx.view(&f.services[0]);
        assert!(check(&view, &counts(&view)).is_empty());
    }
}
