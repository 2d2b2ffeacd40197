//! The node's own status: Ready / NotReady / Unknown (with how long and the kubelet's message,
//! "PLEG is not healthy" read out of it), pressure conditions, NetworkUnavailable, cordon
//! with its maintenance record, and taints.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, NodeCondition};
use runbook::Finding;
use runbook::time::age;

use crate::maintenance::{is_unschedulable, record_of};
use crate::selector::taint_text;

/// Taints the node lifecycle controller and kubelet set from conditions and cordon: the
/// conditions themselves are reported, so these are not repeated as taints.
const CONDITION_TAINTS: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.cloudprovider.kubernetes.io/uninitialized",
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
];

const HINT_NOT_READY: &str = "look at the kubelet on the node: `systemctl status kubelet`, \
    `journalctl -u kubelet --since -1h`; its pods keep running but nothing new is placed there";
const HINT_UNKNOWN: &str = "the node is unreachable or its kubelet is down: check the machine \
    (power, network, `systemctl restart kubelet`); its pods are not replaced until it returns \
    or is removed (see node.unreplaced-pods)";
const HINT_PLEG: &str = "the container runtime is stuck (runbook 6.1.6, 6.1.8): on the node \
    run `crictl ps` (or `docker ps`); if it hangs, `systemctl daemon-reexec`, restart \
    containerd/docker, then `systemctl restart kubelet`; find the container that broke it \
    (it will break any node it runs on); reboot if that fails";
const HINT_DISK: &str = "free disk on the node: prune unused images (`crictl rmi --prune`), \
    find what fills the disk (container logs, writable layers, hostPath); cap pods with \
    ephemeral-storage limits; check the kubelet's --eviction-hard thresholds (runbook 6.1.4)";
const HINT_MEMORY: &str = "find the pods using the most memory on this node and set memory \
    limits; drain the node if it keeps evicting";
const HINT_PID: &str = "find the processes leaking pids on the node; cap pods with the \
    kubelet's podPidsLimit";
const HINT_NETWORK: &str = "routes or the CNI plugin are not set up: check the CNI pods on the \
    node and RouteController events (a VPC route quota exceeded, runbook 6.8.5)";

/// The condition of type `type_`, if reported.
pub fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// `Ready`, `NotReady` or `Unknown`, as `kubectl get nodes` prints it.
pub fn ready_status(node: &Node) -> &'static str {
    match condition(node, "Ready").map(|c| c.status.as_str()) {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    }
}

fn name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or_default()
}

fn subject(node: &Node) -> String {
    format!("node/{}", name(node))
}

fn since(c: &NodeCondition, now: Timestamp) -> String {
    c.last_transition_time
        .as_ref()
        .map(|t| format!(" for {}", age(t.0, now)))
        .unwrap_or_default()
}

fn detail(c: &NodeCondition) -> String {
    let reason = c.reason.as_deref().unwrap_or_default();
    let message = c.message.as_deref().unwrap_or_default().trim();
    match (reason.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({reason})"),
        (true, false) => format!(": {message}"),
        (false, false) => format!(" ({reason}): {message}"),
    }
}

/// The "PLEG is not healthy: ..." part of a kubelet message, if there.
pub fn pleg_message(message: &str) -> Option<&str> {
    message.find("PLEG is not healthy").map(|i| {
        let rest = &message[i..];
        rest.split(['\n', ',']).next().unwrap_or(rest).trim()
    })
}

/// Ready, NotReady (PLEG read out of the message), Unknown.
pub fn check_ready(node: &Node, now: Timestamp) -> Vec<Finding> {
    let Some(c) = condition(node, "Ready") else {
        return vec![Finding::warning(
            "node.not-ready",
            subject(node),
            "the node reports no Ready condition: its kubelet never posted status",
            HINT_NOT_READY,
        )];
    };
    match c.status.as_str() {
        "True" => Vec::new(),
        "False" => {
            let message = c.message.as_deref().unwrap_or_default();
            if let Some(pleg) = pleg_message(message) {
                vec![Finding::critical(
                    "node.pleg",
                    subject(node),
                    format!("NotReady{}: {pleg}", since(c, now)),
                    HINT_PLEG,
                )]
            } else {
                vec![Finding::critical(
                    "node.not-ready",
                    subject(node),
                    format!("NotReady{}{}", since(c, now), detail(c)),
                    HINT_NOT_READY,
                )]
            }
        }
        _ => {
            let heartbeat = c
                .last_heartbeat_time
                .as_ref()
                .or(c.last_transition_time.as_ref())
                .map(|t| format!("; last heartbeat {} ago", age(t.0, now)))
                .unwrap_or_default();
            vec![Finding::critical(
                "node.unknown",
                subject(node),
                format!("status Unknown{}{}{heartbeat}", since(c, now), detail(c)),
                HINT_UNKNOWN,
            )]
        }
    }
}

/// DiskPressure, MemoryPressure, PIDPressure and NetworkUnavailable when True.
pub fn check_pressure(node: &Node, now: Timestamp) -> Vec<Finding> {
    let kinds = [
        ("DiskPressure", "node.disk-pressure", HINT_DISK),
        ("MemoryPressure", "node.memory-pressure", HINT_MEMORY),
        ("PIDPressure", "node.pid-pressure", HINT_PID),
        (
            "NetworkUnavailable",
            "node.network-unavailable",
            HINT_NETWORK,
        ),
    ];
    kinds
        .into_iter()
        .filter_map(|(type_, id, hint)| {
            let c = condition(node, type_).filter(|c| c.status == "True")?;
            Some(Finding::critical(
                id,
                subject(node),
                format!("{type_}{}{}", since(c, now), detail(c)),
                hint,
            ))
        })
        .collect()
}

/// Cordon (with the maintenance record when there is one) and taints.
pub fn check_scheduling(node: &Node, now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    match (is_unschedulable(node), record_of(node)) {
        (true, Some(Ok(record))) => out.push(Finding::info(
            "node.maintenance",
            subject(node),
            format!("under maintenance: {}", record.describe(now)),
            format!(
                "when done: kubectl node-maintain uncordon {} --wait-ready",
                name(node)
            ),
        )),
        (true, _) => out.push(Finding::warning(
            "node.unschedulable",
            subject(node),
            "cordoned (SchedulingDisabled) with no record of who did it or why",
            format!(
                "ask around, then `kubectl node-maintain uncordon {}`, or record why with \
                 `kubectl node-maintain cordon {} --reason ...`",
                name(node),
                name(node)
            ),
        )),
        (false, Some(_)) => out.push(Finding::info(
            "node.maintenance",
            subject(node),
            "schedulable, but a maintenance record is left on it",
            format!("clear it: kubectl node-maintain uncordon {}", name(node)),
        )),
        (false, None) => {}
    }
    let taints: Vec<String> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !CONDITION_TAINTS.contains(&t.key.as_str()))
        .map(taint_text)
        .collect();
    if !taints.is_empty() {
        out.push(Finding::info(
            "node.tainted",
            subject(node),
            format!(
                "taints keep pods without a toleration off: {}",
                taints.join(", ")
            ),
            "pods Pending with \"untolerated taint\" need a toleration, or remove the taint",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{node, now, with_condition};
    use runbook::Severity;
    use serde_json::json;

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.check.as_str()).collect()
    }

    #[test]
    fn ready_node_has_no_findings() {
        let n = node("a", json!({}));
        assert!(check_ready(&n, now()).is_empty());
        assert!(check_pressure(&n, now()).is_empty());
        assert!(check_scheduling(&n, now()).is_empty());
        assert_eq!(ready_status(&n), "Ready");
    }

    #[test]
    fn pleg_is_read_out_of_the_kubelet_message() {
        let msg = "PLEG is not healthy: pleg was last seen active 27h14m51.413818128s ago; threshold is 3m0s";
        let n = with_condition(
            node("a", json!({})),
            "Ready",
            "False",
            "KubeletNotReady",
            msg,
            27 * 60,
        );
        let f = check_ready(&n, now());
        assert_eq!(ids(&f), ["node.pleg"]);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(
            f[0].message
                .starts_with("NotReady for 27h: PLEG is not healthy"),
            "{}",
            f[0].message
        );
        assert!(f[0].hint.contains("crictl"));
    }

    #[test]
    fn not_ready_and_unknown_say_how_long() {
        let n = with_condition(
            node("a", json!({})),
            "Ready",
            "False",
            "KubeletNotReady",
            "container runtime network not ready",
            5,
        );
        let f = check_ready(&n, now());
        assert_eq!(ids(&f), ["node.not-ready"]);
        assert_eq!(
            f[0].message,
            "NotReady for 5m (KubeletNotReady): container runtime network not ready"
        );

        let n = with_condition(
            node("b", json!({})),
            "Ready",
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
            90,
        );
        let f = check_ready(&n, now());
        assert_eq!(ids(&f), ["node.unknown"]);
        assert!(f[0].message.contains("for 90m"), "{}", f[0].message);
        assert_eq!(ready_status(&n), "Unknown");
    }

    #[test]
    fn pressures_and_network() {
        let n = with_condition(
            node("a", json!({})),
            "DiskPressure",
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
            10,
        );
        let n = with_condition(
            n,
            "NetworkUnavailable",
            "True",
            "NoRouteCreated",
            "RouteController failed to create a route",
            30,
        );
        let n = with_condition(
            n,
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "",
            30,
        );
        let f = check_pressure(&n, now());
        assert_eq!(ids(&f), ["node.disk-pressure", "node.network-unavailable"]);
        assert!(f.iter().all(|f| f.severity == Severity::Critical));
        assert!(f[0].message.starts_with("DiskPressure for 10m"));
    }

    #[test]
    fn cordon_with_and_without_a_record_and_taints() {
        let bare = node("a", json!({"spec": {"unschedulable": true}}));
        let f = check_scheduling(&bare, now());
        assert_eq!(ids(&f), ["node.unschedulable"]);
        assert_eq!(f[0].severity, Severity::Warning);

        let record =
            r#"{"by":"alice","at":"2026-11-05T11:00:00Z","reason":"kernel","command":"drain"}"#;
        let kept = node(
            "a",
            json!({
                "metadata": {"annotations": {crate::maintenance::ANNOTATION: record}},
                "spec": {"unschedulable": true, "taints": [
                    {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                    {"key": "dedicated", "value": "gateway", "effect": "NoSchedule"}
                ]}
            }),
        );
        let f = check_scheduling(&kept, now());
        assert_eq!(ids(&f), ["node.maintenance", "node.tainted"]);
        assert!(
            f[0].message.contains("alice 60m ago (drain): kernel"),
            "{}",
            f[0].message
        );
        assert!(f[1].message.ends_with("dedicated=gateway:NoSchedule"));
    }
}
