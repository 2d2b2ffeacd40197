//! The maintenance record kept on a node while it is cordoned by `node-maintain`: who, when,
//! why, and whether the node was already cordoned before (so we never uncordon a node an
//! operator had cordoned). `check` shows it; `uncordon` clears it.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The node annotation holding the record (JSON).
pub const ANNOTATION: &str = "node-maintain.kubectl-runbook.io/maintenance";

/// Who put the node under maintenance, when and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceRecord {
    /// The user (as the API server knows them, else the local login).
    pub by: String,
    /// When, RFC 3339.
    pub at: String,
    /// `--reason`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The command that started it: cordon, drain or remove.
    pub command: String,
    /// True when the node was already unschedulable before this maintenance began.
    #[serde(default)]
    pub was_unschedulable: bool,
}

impl MaintenanceRecord {
    /// `cordoned by alice 20m ago (drain): kernel upgrade`.
    pub fn describe(&self, now: Timestamp) -> String {
        let when = self
            .at
            .parse::<Timestamp>()
            .map(|t| format!("{} ago", runbook::time::age(t, now)))
            .unwrap_or_else(|_| format!("at {}", self.at));
        let mut s = format!("cordoned by {} {when} ({})", self.by, self.command);
        if let Some(r) = self.reason.as_deref().filter(|r| !r.is_empty()) {
            s.push_str(": ");
            s.push_str(r);
        }
        s
    }
}

/// The node's record: `None` without the annotation, `Some(Err(raw))` when it is unreadable.
pub fn record_of(node: &Node) -> Option<Result<MaintenanceRecord, String>> {
    let raw = node.metadata.annotations.as_ref()?.get(ANNOTATION)?;
    Some(serde_json::from_str(raw).map_err(|_| raw.clone()))
}

/// True when `spec.unschedulable` is set.
pub fn is_unschedulable(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

/// The merge patch that cordons the node, recording `record` (`None` keeps the record already
/// on the node, so a resumed drain does not rewrite who started it).
pub fn cordon_patch(record: Option<&MaintenanceRecord>) -> Value {
    match record {
        Some(r) => json!({
            "metadata": {"annotations": {ANNOTATION: serde_json::to_string(r).unwrap_or_default()}},
            "spec": {"unschedulable": true}
        }),
        None => json!({"spec": {"unschedulable": true}}),
    }
}

/// The merge patch that uncordons the node and clears the record.
pub fn uncordon_patch() -> Value {
    json!({
        "metadata": {"annotations": {ANNOTATION: null}},
        "spec": {"unschedulable": null}
    })
}

/// The record to write when starting maintenance on `node` now, or `None` when the node
/// already carries a readable record of ours (a resumed drain keeps it).
pub fn new_record(
    node: &Node,
    by: &str,
    reason: Option<&str>,
    command: &str,
    now: Timestamp,
) -> Option<MaintenanceRecord> {
    if is_unschedulable(node) && matches!(record_of(node), Some(Ok(_))) {
        return None;
    }
    Some(MaintenanceRecord {
        by: by.to_string(),
        at: now.to_string(),
        reason: reason.map(str::to_string),
        command: command.to_string(),
        was_unschedulable: is_unschedulable(node),
    })
}

/// Whether abandoning the maintenance may uncordon the node: only when nobody had cordoned it
/// before node-maintain did.
pub fn may_restore_schedulable(node_before: &Node) -> bool {
    if !is_unschedulable(node_before) {
        return true;
    }
    matches!(record_of(node_before), Some(Ok(r)) if !r.was_unschedulable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(unschedulable: bool, record: Option<&MaintenanceRecord>) -> Node {
        let mut annotations = serde_json::Map::new();
        if let Some(r) = record {
            annotations.insert(ANNOTATION.into(), serde_json::to_string(r).unwrap().into());
        }
        serde_json::from_value(json!({
            "metadata": {"name": "n", "annotations": annotations},
            "spec": {"unschedulable": unschedulable}
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-05T12:00:00Z".parse().unwrap()
    }

    fn record(was: bool) -> MaintenanceRecord {
        MaintenanceRecord {
            by: "alice".into(),
            at: "2026-11-05T10:00:00Z".into(),
            reason: Some("kernel upgrade".into()),
            command: "drain".into(),
            was_unschedulable: was,
        }
    }

    #[test]
    fn record_round_trips_and_describes() {
        let r = record(false);
        let n = node(true, Some(&r));
        assert_eq!(record_of(&n), Some(Ok(r.clone())));
        assert_eq!(
            r.describe(now()),
            "cordoned by alice 120m ago (drain): kernel upgrade"
        );
        assert_eq!(record_of(&node(false, None)), None);
    }

    #[test]
    fn a_resumed_drain_keeps_the_first_record() {
        let first = new_record(&node(false, None), "bob", None, "drain", now()).unwrap();
        assert!(!first.was_unschedulable);
        assert_eq!(
            new_record(
                &node(true, Some(&record(false))),
                "bob",
                None,
                "drain",
                now()
            ),
            None
        );
        let operator_cordoned = new_record(&node(true, None), "bob", None, "drain", now()).unwrap();
        assert!(operator_cordoned.was_unschedulable);
    }

    #[test]
    fn never_uncordons_what_an_operator_cordoned() {
        assert!(may_restore_schedulable(&node(false, None)));
        assert!(!may_restore_schedulable(&node(true, None)));
        assert!(may_restore_schedulable(&node(true, Some(&record(false)))));
        assert!(!may_restore_schedulable(&node(true, Some(&record(true)))));
    }

    #[test]
    fn patches_set_and_clear() {
        let p = cordon_patch(Some(&record(false)));
        assert_eq!(p["spec"]["unschedulable"], true);
        assert!(
            p["metadata"]["annotations"][ANNOTATION]
                .as_str()
                .unwrap()
                .contains("alice")
        );
        assert!(cordon_patch(None).get("metadata").is_none());
        let u = uncordon_patch();
        assert!(u["metadata"]["annotations"][ANNOTATION].is_null());
        assert!(u["spec"]["unschedulable"].is_null());
    }
}
