//! The node diagnosis: pure checks over a [`CheckSnapshot`], one file per area.

pub mod capacity;
pub mod conditions;
pub mod events;
pub mod evicted;
pub mod unknown;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use runbook::Finding;
use runbook::events::{ObjectKey, for_object};
use runbook::findings::{Severity, sort_findings, worst};
use serde::Serialize;

use crate::fetch::{CheckSnapshot, node_name};
use crate::maintenance::{MaintenanceRecord, is_unschedulable, record_of};
use capacity::NodeCapacity;

/// One node's row of the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    /// Node name.
    pub name: String,
    /// `Ready`, `NotReady` or `Unknown`.
    pub status: String,
    /// True when cordoned.
    pub unschedulable: bool,
    /// The maintenance record, when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceRecord>,
    /// Allocatable, requests, limits and use.
    pub capacity: NodeCapacity,
    /// The worst finding about this node or its pods.
    pub worst: Option<Severity>,
}

/// The whole diagnosis: nodes worst first, and every finding worst first.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// One row per node.
    pub nodes: Vec<NodeRow>,
    /// What was found.
    pub findings: Vec<Finding>,
}

/// Every check on one node and the pods bound to it.
pub fn check_node(
    snapshot: &CheckSnapshot,
    node: &Node,
    since: Duration,
) -> (NodeRow, Vec<Finding>) {
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let pods: Vec<&Pod> = snapshot
        .pods
        .iter()
        .filter(|p| node_name(p) == Some(name))
        .collect();
    let events = for_object(
        &snapshot.node_events,
        ObjectKey {
            kind: "Node",
            namespace: "",
            name,
            uid: None,
        },
    );
    let usage = snapshot.usage.as_ref().and_then(|u| u.get(name).copied());
    let cap = capacity::capacity_of(node, &pods, usage);
    let status = conditions::ready_status(node);
    let now = snapshot.now;
    let mut findings = Vec::new();
    findings.extend(conditions::check_ready(node, now));
    findings.extend(conditions::check_pressure(node, now));
    findings.extend(conditions::check_scheduling(node, now));
    findings.extend(events::check_events(
        name,
        &events,
        since,
        status == "Ready",
        now,
    ));
    findings.extend(capacity::check_capacity(name, &cap));
    findings.extend(evicted::check_evicted(name, &pods));
    findings.extend(unknown::check_unreplaced(node, &pods, now));
    let row = NodeRow {
        name: name.to_string(),
        status: status.to_string(),
        unschedulable: is_unschedulable(node),
        maintenance: record_of(node).and_then(Result::ok),
        capacity: cap,
        worst: worst(&findings),
    };
    (row, findings)
}

/// Checks every node of the snapshot; `ignored` check ids are dropped before anything is
/// ranked, so an ignored finding does not make its node look worse.
pub fn check_all(snapshot: &CheckSnapshot, since: Duration, ignored: &[String]) -> CheckReport {
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for node in &snapshot.nodes {
        let (mut row, mut found) = check_node(snapshot, node, since);
        runbook::findings::drop_ignored(&mut found, ignored);
        row.worst = worst(&found);
        rows.push(row);
        findings.extend(found);
    }
    rows.sort_by(|a, b| b.worst.cmp(&a.worst).then_with(|| a.name.cmp(&b.name)));
    sort_findings(&mut findings);
    CheckReport {
        nodes: rows,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{node, now, pod, with_condition};
    use serde_json::json;

    fn snapshot(nodes: Vec<Node>, pods: Vec<Pod>, events: serde_json::Value) -> CheckSnapshot {
        CheckSnapshot {
            nodes,
            pods,
            node_events: serde_json::from_value(events).unwrap(),
            usage: None,
            now: now(),
        }
    }

    #[test]
    fn worst_node_first_and_every_id_in_the_catalog() {
        let sick = with_condition(
            node("b-sick", json!({})),
            "Ready",
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
            30,
        );
        let disk = with_condition(
            node("c-disk", json!({})),
            "DiskPressure",
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
            10,
        );
        let events = json!([{
            "metadata": {"name": "e1", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": "c-disk", "uid": "c-disk"},
            "reason": "ImageGCFailed", "type": "Warning", "count": 3,
            "message": "failed to garbage collect required amount of images",
            "firstTimestamp": crate::fixtures::ago(40), "lastTimestamp": crate::fixtures::ago(3)
        }]);
        let pods = vec![
            pod("db", "redis-0", "b-sick", "StatefulSet/redis", json!({})),
            pod("web", "shop-1", "a-fine", "ReplicaSet/shop-7d9f", json!({})),
        ];
        let snap = snapshot(vec![node("a-fine", json!({})), sick, disk], pods, events);
        let report = check_all(&snap, Duration::from_secs(3600), &[]);
        let order: Vec<&str> = report.nodes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["b-sick", "c-disk", "a-fine"]);
        assert_eq!(report.nodes[2].worst, None);
        assert_eq!(report.nodes[2].capacity.pods, 1);
        let ids: Vec<&str> = report.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            ids,
            [
                "node.unknown",
                "node.disk-pressure",
                "node.unreplaced-pods",
                "node.image-gc-failed"
            ]
        );
        for f in &report.findings {
            assert!(
                crate::catalog::lookup(&f.check).is_some(),
                "{} not in catalog",
                f.check
            );
        }
        let ignored = check_all(
            &snap,
            Duration::from_secs(3600),
            &["node.disk-pressure".into()],
        );
        assert_eq!(ignored.findings.len(), 3);
        assert_eq!(ignored.nodes[1].worst, Some(Severity::Warning));
    }
}
