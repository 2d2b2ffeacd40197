//! Replicas and rollout: the runbook 000 questions `.status.replicas` vs
//! `.status.availableReplicas`, plus a stuck or failed rollout and a missing component.

use k8s_openapi::api::apps::v1::Deployment;
use runbook::Finding;
use runbook::workload::replica_status;

use crate::fetch::Fetched;
use crate::hints;
use crate::profiles::Role;
use crate::view::{ComponentView, GatewayView};

/// Replica, rollout and presence findings of every component.
pub fn check(gw: &GatewayView<'_>, _f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &gw.components {
        match c.deployment {
            None => out.push(missing(gw, c)),
            Some(d) => {
                out.extend(unavailable(c, d));
                out.extend(rollout(c, d));
            }
        }
    }
    out
}

fn missing(gw: &GatewayView<'_>, c: &ComponentView<'_>) -> Finding {
    let hint = match c.found_elsewhere.as_slice() {
        [] => format!(
            "install it, or point gw-status at the right namespace: kubectl gw-status {} -n NAMESPACE",
            gw.profile.name
        ),
        [ns] => format!(
            "it runs in namespace {ns}: kubectl gw-status {} -n {ns}",
            gw.profile.name
        ),
        many => format!(
            "it runs in namespaces {}: add -n NAMESPACE",
            many.join(", ")
        ),
    };
    let message = format!(
        "deployment {} not found in namespace {}",
        c.name(),
        c.namespace
    );
    if c.spec.role == Role::Addon {
        Finding::warning("component.missing", c.subject(), message, hint)
    } else {
        Finding::critical("component.missing", c.subject(), message, hint)
    }
}

fn unavailable(c: &ComponentView<'_>, d: &Deployment) -> Option<Finding> {
    let n = replica_status(d);
    if n.desired == 0 {
        let message = "scaled to 0 replicas: nothing serves".to_string();
        let hint = hints::resize(c, None, "--replicas 2");
        return Some(if c.spec.role == Role::Addon {
            Finding::warning("replicas.unavailable", c.subject(), message, hint)
        } else {
            Finding::critical("replicas.unavailable", c.subject(), message, hint)
        });
    }
    if n.available >= n.desired {
        return None;
    }
    let message = format!(
        "{}/{} replicas available ({} updated, {} ready)",
        n.available, n.desired, n.updated, n.ready
    );
    let hint = "the pod findings of this component name the cause; fix it, then follow the \
                rollout with kubectl gw-resize (it waits for the rollout)"
        .to_string();
    let down = n.available == 0 && c.spec.role != Role::Addon;
    Some(if down {
        Finding::critical("replicas.unavailable", c.subject(), message, hint)
    } else {
        Finding::warning("replicas.unavailable", c.subject(), message, hint)
    })
}

fn rollout(c: &ComponentView<'_>, d: &Deployment) -> Vec<Finding> {
    let mut out = Vec::new();
    let status = replica_status(d);
    if let Some(p) = status
        .condition("Progressing")
        .filter(|p| p.status == "False" && p.reason == "ProgressDeadlineExceeded")
    {
        out.push(Finding::critical(
            "rollout.stuck",
            c.subject(),
            format!(
                "rollout failed: ProgressDeadlineExceeded ({})",
                or_none(&p.message)
            ),
            format!(
                "fix what stops the new pods (see the pod findings), or roll back: kubectl rollout undo deployment/{} -n {}",
                c.name(),
                c.namespace
            ),
        ));
    }
    if let Some(r) = status
        .condition("ReplicaFailure")
        .filter(|r| r.status == "True")
    {
        out.push(Finding::critical(
            "rollout.stuck",
            c.subject(),
            format!("cannot create pods: {} ({})", r.reason, or_none(&r.message)),
            "free quota or fix the pod template named in the message (kubectl describe rs)"
                .to_string(),
        ));
    }
    if d.spec.as_ref().and_then(|s| s.paused) == Some(true) {
        out.push(Finding::warning(
            "rollout.stuck",
            c.subject(),
            "rollout is paused: template changes are not rolled out",
            format!(
                "kubectl rollout resume deployment/{} -n {}",
                c.name(),
                c.namespace
            ),
        ));
    }
    out
}

fn or_none(message: &str) -> &str {
    if message.is_empty() {
        "no message"
    } else {
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::World;
    use crate::profiles::{builtin, generic};
    use crate::view::join;
    use runbook::Severity;
    use serde_json::json;

    #[test]
    fn all_unavailable_is_critical_and_partial_is_a_warning() {
        let w = World::new().component("gw", "gateway-proxy", 2, 0);
        let p = generic("gateway-proxy", "gw");
        let found = check(&join(&w.f, &p, "gw"), &w.f);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "replicas.unavailable");
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(
            found[0].message,
            "0/2 replicas available (2 updated, 0 ready)"
        );

        let w = World::new().component("gw", "gateway-proxy", 2, 1);
        let found = check(&join(&w.f, &p, "gw"), &w.f);
        assert_eq!(found[0].severity, Severity::Warning);

        let w = World::new().component("gw", "gateway-proxy", 2, 2);
        assert!(check(&join(&w.f, &p, "gw"), &w.f).is_empty());
    }

    #[test]
    fn missing_component_points_at_the_namespace_it_runs_in() {
        let w = World::new().component("gateway", "gateway-proxy", 1, 1);
        let p = builtin().remove(0);
        let found = check(&join(&w.f, &p, "gateway-system"), &w.f);
        assert_eq!(found[0].check, "component.missing");
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].hint.contains("-n gateway"), "{}", found[0].hint);
    }

    #[test]
    fn progress_deadline_and_scaled_to_zero() {
        let w = World::new()
            .component("gw", "gateway-proxy", 1, 1)
            .edit_deployment("gateway-proxy", |d| {
                d["status"]["conditions"][1] = json!({"type": "Progressing", "status": "False",
                    "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"gateway-proxy-def\" has timed out progressing."});
            });
        let p = generic("gateway-proxy", "gw");
        let found = check(&join(&w.f, &p, "gw"), &w.f);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "rollout.stuck");
        assert!(
            found[0]
                .hint
                .contains("rollout undo deployment/gateway-proxy -n gw")
        );

        let w = World::new()
            .component("gw", "gateway-proxy", 0, 0)
            .edit_deployment("gateway-proxy", |d| d["spec"]["replicas"] = json!(0));
        let found = check(&join(&w.f, &p, "gw"), &w.f);
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].hint.contains("--replicas 2"));
    }
}
