//! Pod states: crash loops, OOM kills (with the limit and the usage), image pulls, Pending
//! with the scheduler's reasons linked to the nodes that refused, evictions, restarts, and
//! pods Running but not Ready.

use k8s_openapi::api::core::v1::{Node, Taint};
use runbook::Finding;
use runbook::pods::{
    ContainerSummary, PodSummary, SchedulingCause, SchedulingFailure, parse_failed_scheduling,
};
use runbook::quantity::{fmt_bytes, fmt_cpu};

use crate::fetch::Fetched;
use crate::hints;
use crate::usage::{self, percent};
use crate::view::{ComponentView, GatewayView};

const IMAGE_PULL_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
];

/// Restarts from which a container that runs now is still worth a warning.
const RESTART_WARNING: i32 = 3;

/// Pending pods younger than this are given time to schedule.
const PENDING_GRACE_SECONDS: i64 = 60;

/// Pod findings of every component.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &gw.components {
        for s in &c.summaries {
            out.extend(check_pod(c, s, f));
        }
    }
    out
}

fn check_pod(c: &ComponentView<'_>, s: &PodSummary, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(msg) = &s.evicted {
        out.push(Finding::warning(
            "pod.evicted",
            s.subject(),
            format!("evicted by the kubelet: {}", one_line(msg)),
            format!(
                "the node ran short (see node findings); remove the pod: kubectl delete pod -n {} {}",
                s.namespace, s.name
            ),
        ));
        return out;
    }
    if s.phase == "Pending" && s.node.is_none() {
        out.extend(pending(c, s, f));
        return out;
    }
    for cs in s.containers.iter() {
        out.extend(container(c, s, cs, f));
    }
    let all_running = !s.containers.is_empty()
        && s.containers
            .iter()
            .filter(|c| !c.init)
            .all(|c| c.state == "Running");
    if s.phase == "Running" && !s.ready && all_running && !s.terminating {
        out.push(Finding::warning(
            "pod.not-ready",
            s.subject(),
            format!(
                "Running but not Ready ({} containers ready): its readiness probe fails, so Services send it no traffic",
                s.ready_text()
            ),
            hints::status_with_logs(c),
        ));
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn container(
    c: &ComponentView<'_>,
    s: &PodSummary,
    cs: &ContainerSummary,
    f: &Fetched,
) -> Option<Finding> {
    let subject = s.subject();
    if cs.oom_killed() {
        let limit = c
            .containers()
            .iter()
            .find(|t| t.name == cs.name)
            .and_then(|t| usage::limits(t).memory_bytes);
        let used =
            usage::container_usage(f, &s.namespace, &s.name, &cs.name).and_then(|u| u.memory_bytes);
        let limit_text = match (limit, used) {
            (Some(l), Some(u)) => format!(
                "memory limit {}, using {} ({}%)",
                fmt_bytes(l),
                fmt_bytes(u),
                percent(Some(u), Some(l)).unwrap_or(0)
            ),
            (Some(l), None) => format!("memory limit {}", fmt_bytes(l)),
            (None, _) => "no memory limit: the node itself ran out of memory".to_string(),
        };
        let state = if cs.crash_looping() {
            "CrashLoopBackOff, ".to_string()
        } else {
            String::new()
        };
        let message = format!(
            "container {} was OOMKilled ({state}{} restarts; {limit_text})",
            cs.name, cs.restarts
        );
        let hint = format!(
            "raise the memory request and limit: {}",
            hints::resize(c, Some(&cs.name), "--memory +500Mi")
        );
        return Some(Finding::critical("pod.oomkilled", subject, message, hint));
    }
    if cs.crash_looping() {
        let last = cs
            .last_termination
            .as_ref()
            .map(|t| {
                format!(
                    "; last exit {} ({})",
                    t.exit_code,
                    if t.reason.is_empty() {
                        "no reason"
                    } else {
                        &t.reason
                    }
                )
            })
            .unwrap_or_default();
        return Some(Finding::critical(
            "pod.crashloop",
            subject,
            format!(
                "container {} is in CrashLoopBackOff ({} restarts{last})",
                cs.name, cs.restarts
            ),
            format!(
                "read why it exits: {}",
                hints::previous_logs(&s.namespace, &s.name, &cs.name)
            ),
        ));
    }
    if let Some(reason) = cs.broken_reason() {
        let detail = cs
            .message
            .as_deref()
            .map(|m| format!(": {}", one_line(m)))
            .unwrap_or_default();
        if IMAGE_PULL_REASONS.contains(&reason) {
            return Some(Finding::critical(
                "pod.image-pull",
                subject,
                format!(
                    "container {} cannot pull its image: {reason}{detail}",
                    cs.name
                ),
                "check the image name and tag, the registry's reachability and the pull secret \
                 (kubectl describe pod shows the registry's answer)"
                    .to_string(),
            ));
        }
        return Some(Finding::critical(
            "pod.start-failed",
            subject,
            format!("container {} cannot start: {reason}{detail}", cs.name),
            "create the ConfigMap/Secret or fix the setting the message names, then restart: "
                .to_string()
                + &hints::restart(c),
        ));
    }
    if cs.restarts >= RESTART_WARNING {
        let last = cs
            .last_termination
            .as_ref()
            .map(|t| {
                let reason = if t.reason.is_empty() {
                    "no reason"
                } else {
                    &t.reason
                };
                format!(", last exit {} ({reason})", t.exit_code)
            })
            .unwrap_or_default();
        return Some(Finding::warning(
            "pod.restarts",
            subject,
            format!(
                "container {} restarted {} times{last}",
                cs.name, cs.restarts
            ),
            format!(
                "read the previous run: {}",
                hints::previous_logs(&s.namespace, &s.name, &cs.name)
            ),
        ));
    }
    None
}

fn pending(c: &ComponentView<'_>, s: &PodSummary, f: &Fetched) -> Option<Finding> {
    let message = s.unschedulable.clone().or_else(|| {
        c.events
            .iter()
            .find(|e| e.reason == "FailedScheduling" && e.kind == "Pod" && e.name == s.name)
            .map(|e| e.message.clone())
    });
    let Some(message) = message else {
        let age = s
            .age_since
            .map_or(i64::MAX, |t| f.now.as_second() - t.as_second());
        if age < PENDING_GRACE_SECONDS {
            return None;
        }
        return Some(Finding::warning(
            "pod.pending",
            s.subject(),
            "Pending and not scheduled yet, with no scheduler message",
            "is the scheduler running? kubectl get pods -n kube-system -l component=kube-scheduler"
                .to_string(),
        ));
    };
    let failure = parse_failed_scheduling(&message);
    let (text, hint) = match &failure {
        Some(fail) => (fail.summary(), scheduling_hint(c, s, fail, f)),
        None => (
            one_line(&message),
            "kubectl describe pod shows the scheduler's full answer".to_string(),
        ),
    };
    Some(Finding::critical(
        "pod.pending",
        s.subject(),
        format!("Pending, cannot be scheduled: {text}"),
        hint,
    ))
}

/// What to do about the first cause of a scheduling failure, naming the nodes concerned.
fn scheduling_hint(
    c: &ComponentView<'_>,
    s: &PodSummary,
    fail: &SchedulingFailure,
    f: &Fetched,
) -> String {
    let nodes = &f.nodes;
    let mut hints = Vec::new();
    for cause in &fail.causes {
        match &cause.cause {
            SchedulingCause::UntoleratedTaint(text) => {
                let tainted = nodes_with_taint(nodes, text);
                let names: Vec<&str> = tainted.iter().map(|(n, _)| *n).collect();
                match tainted.first() {
                    Some((_, taint)) => {
                        let spec = toleration_spec(taint);
                        hints.push(format!(
                            "pods need a toleration for {spec} (taint of {}): {}",
                            names.join(", "),
                            hints::resize(c, None, &format!("--add-toleration {spec}"))
                        ));
                    }
                    None => hints.push(format!(
                        "pods need a toleration for the taint {text}: {}",
                        hints::resize(c, None, "--add-toleration KEY=VALUE:EFFECT")
                    )),
                }
            }
            SchedulingCause::Insufficient(resource) => {
                hints.push(insufficient_hint(c, s, resource, cause.nodes, f));
            }
            SchedulingCause::Cordoned => hints.push(format!(
                "{} node(s) are cordoned: uncordon one when its maintenance is over (kubectl node-maintain)",
                cause.nodes
            )),
            SchedulingCause::NodeAffinity => hints.push(
                "no node carries the labels the nodeSelector/affinity asks for: label a node or fix the selector"
                    .to_string(),
            ),
            _ => {}
        }
    }
    if hints.is_empty() {
        "kubectl describe pod shows the scheduler's full answer".to_string()
    } else {
        hints.join("; ")
    }
}

/// Names the untainted nodes and how much of `resource` each has free against the pod's
/// request, so the reader sees how far off the request is.
fn insufficient_hint(
    c: &ComponentView<'_>,
    s: &PodSummary,
    resource: &str,
    count: usize,
    f: &Fetched,
) -> String {
    let memory = resource.contains("memory");
    let pod = c
        .pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(s.name.as_str()));
    let wanted = pod.map(|p| runbook::pods::pod_requests(p));
    let show = |v: i128| if memory { fmt_bytes(v) } else { fmt_cpu(v) };
    let free: Vec<String> = f
        .nodes
        .iter()
        .filter(|n| {
            n.spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_none_or(|t| {
                    !t.iter()
                        .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
                })
        })
        .filter_map(|n| {
            let name = n.metadata.name.as_deref()?;
            let alloc = usage::allocatable(n);
            let used = usage::requested_on(f, name);
            let free = if memory {
                alloc.memory_bytes? - used.memory_bytes
            } else {
                alloc.cpu_millis? - used.cpu_millis
            };
            Some(format!("{name} has {} free", show(free.max(0))))
        })
        .collect();
    let request = wanted
        .map(|r| show(if memory { r.memory_bytes } else { r.cpu_millis }))
        .unwrap_or_else(|| "?".to_string());
    let free = if free.is_empty() {
        String::new()
    } else {
        format!(" ({})", free.join(", "))
    };
    format!(
        "{count} node(s) lack free {resource} for the {request} request{free}: free capacity or add nodes; lowering the request ({}) risks OOM kills",
        hints::resize(c, None, &format!("--{}-request", resource_flag(resource)))
    )
}

fn resource_flag(resource: &str) -> &str {
    if resource.contains("memory") {
        "memory"
    } else {
        "cpu"
    }
}

/// Nodes carrying the taint the scheduler printed as `{key: value}` (or `{key}`), with it.
fn nodes_with_taint<'a>(nodes: &'a [Node], text: &str) -> Vec<(&'a str, &'a Taint)> {
    let inner = text
        .find('{')
        .and_then(|start| {
            text[start + 1..]
                .find('}')
                .map(|end| &text[start + 1..start + 1 + end])
        })
        .unwrap_or(text);
    let (key, value) = match inner.split_once(':') {
        Some((k, v)) => (k.trim(), Some(v.trim()).filter(|v| !v.is_empty())),
        None => (inner.trim(), None),
    };
    nodes
        .iter()
        .filter_map(|n| {
            let name = n.metadata.name.as_deref()?;
            let taint = n.spec.as_ref()?.taints.as_ref()?.iter().find(|t| {
                t.key == key
                    && matches!(t.effect.as_str(), "NoSchedule" | "NoExecute")
                    && value.is_none_or(|v| t.value.as_deref() == Some(v))
            })?;
            Some((name, taint))
        })
        .collect()
}

/// `key=value:Effect` as `--add-toleration` takes it.
fn toleration_spec(t: &Taint) -> String {
    match t.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => format!("{}={v}:{}", t.key, t.effect),
        None => format!("{}:{}", t.key, t.effect),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{World, node, warning_event};
    use crate::fetch::Availability;
    use crate::objects::{ContainerMetrics, PodMetrics, Usage};
    use crate::profiles::generic;
    use crate::view::join;
    use runbook::Severity;
    use serde_json::json;

    fn run(w: &World) -> Vec<Finding> {
        let p = generic("gateway-proxy", "gw");
        check(&join(&w.f, &p, "gw"), &w.f)
    }

    #[test]
    fn oom_crash_loop_names_limit_usage_and_the_resize() {
        let mut w = World::new()
            .component("gw", "gateway-proxy", 1, 0)
            .edit_pod("gateway-proxy-abc-0", |p| {
                p["status"]["containerStatuses"][0]["restartCount"] = json!(7);
                p["status"]["containerStatuses"][0]["state"] =
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}});
                p["status"]["containerStatuses"][0]["lastState"] =
                    json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}});
            });
        w.f.pod_metrics = Availability::Served(vec![PodMetrics {
            metadata: serde_json::from_value(
                json!({"name": "gateway-proxy-abc-0", "namespace": "gw"}),
            )
            .unwrap(),
            containers: vec![ContainerMetrics {
                name: "proxy".into(),
                usage: Usage {
                    cpu: "120m".into(),
                    memory: "508Mi".into(),
                },
            }],
        }]);
        let found = run(&w);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.check, "pod.oomkilled");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.message,
            "container proxy was OOMKilled (CrashLoopBackOff, 7 restarts; memory limit 512Mi, using 508Mi (99%))"
        );
        assert_eq!(
            f.hint,
            "raise the memory request and limit: kubectl gw-resize deploy/gateway-proxy -n gw --memory +500Mi"
        );
    }

    #[test]
    fn pending_on_a_taint_names_the_node_and_the_toleration() {
        let w = World::new()
            .component("gw", "gateway-proxy", 1, 0)
            .node(json!({
                "metadata": {"name": "gw-node-1"},
                "spec": {"taints": [{"key": "node-role", "value": "gateway", "effect": "NoSchedule"}]},
                "status": {}
            }))
            .edit_pod("gateway-proxy-abc-0", |p| {
                p["spec"]["nodeName"] = json!(null);
                p["status"] = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/2 nodes are available: 1 node(s) had untolerated taint {node-role: gateway}, 1 Insufficient memory. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."}]});
            });
        let found = run(&w);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].check, "pod.pending");
        assert!(
            found[0].message.contains("0/2 nodes available"),
            "{}",
            found[0].message
        );
        assert!(
            found[0]
                .hint
                .contains("toleration for node-role=gateway:NoSchedule (taint of gw-node-1)"),
            "{}",
            found[0].hint
        );
        assert!(
            found[0]
                .hint
                .contains("--add-toleration node-role=gateway:NoSchedule")
        );
        assert!(
            found[0]
                .hint
                .contains("1 node(s) lack free memory for the 256Mi request (node-1 has 8Gi free)"),
            "{}",
            found[0].hint
        );
    }

    #[test]
    fn pending_reads_the_failed_scheduling_event_when_the_condition_is_missing() {
        let w = World::new()
            .component("gw", "gateway-proxy", 1, 0)
            .edit_pod("gateway-proxy-abc-0", |p| {
                p["spec"]["nodeName"] = json!(null);
                p["status"] = json!({"phase": "Pending"});
            })
            .event(warning_event(
                "gw",
                "Pod",
                "gateway-proxy-abc-0",
                "FailedScheduling",
                "0/3 nodes are available: 3 node(s) were unschedulable.",
                4,
            ));
        let found = run(&w);
        assert_eq!(found[0].check, "pod.pending");
        assert!(found[0].hint.contains("cordoned"), "{}", found[0].hint);
    }

    #[test]
    fn image_pull_evicted_restarts_and_not_ready() {
        let w = World::new()
            .component("gw", "gateway-proxy", 4, 4)
            .edit_pod("gateway-proxy-abc-0", |p| {
                p["status"]["containerStatuses"][0]["state"] =
                    json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"proxy:2\""}});
            })
            .edit_pod("gateway-proxy-abc-1", |p| {
                p["status"] = json!({"phase": "Failed", "reason": "Evicted",
                    "message": "The node was low on resource: memory."});
            })
            .edit_pod("gateway-proxy-abc-2", |p| {
                p["status"]["containerStatuses"][0]["restartCount"] = json!(4);
                p["status"]["containerStatuses"][0]["lastState"] =
                    json!({"terminated": {"reason": "Error", "exitCode": 1}});
            })
            .edit_pod("gateway-proxy-abc-3", |p| {
                p["status"]["conditions"][0]["status"] = json!("False");
                p["status"]["containerStatuses"][0]["ready"] = json!(false);
            });
        let mut checks: Vec<String> = run(&w).into_iter().map(|f| f.check).collect();
        checks.sort();
        assert_eq!(
            checks,
            [
                "pod.evicted",
                "pod.image-pull",
                "pod.not-ready",
                "pod.restarts"
            ]
        );
    }

    #[test]
    fn healthy_pods_say_nothing() {
        let w = World::new()
            .component("gw", "gateway-proxy", 2, 2)
            .node(node("node-1"));
        assert!(run(&w).is_empty());
    }
}
