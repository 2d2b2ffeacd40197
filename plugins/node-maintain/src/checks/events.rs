//! Recent node events that `describe node` shows and nobody reads: image and container GC
//! failures, eviction thresholds, SystemOOM, NotReady flaps and reboots.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use runbook::Finding;
use runbook::events::EventSummary;
use runbook::findings::Severity;
use runbook::time::age;

/// One kind of trouble the kubelet or node controller reports as events.
struct EventRule {
    id: &'static str,
    reasons: &'static [&'static str],
    what: &'static str,
    hint: &'static str,
}

const RULES: &[EventRule] = &[
    EventRule {
        id: "node.image-gc-failed",
        reasons: &["ImageGCFailed", "FreeDiskSpaceFailed"],
        what: "the kubelet failed to free disk by removing unused images",
        hint: "unused images are not what fills the disk: running containers' writable layers, \
               logs or hostPath are; log in and clean up (`crictl rmi --prune`, `du` under \
               /var/lib/containerd or /var/lib/docker), cap ephemeral-storage with limits; \
               DiskPressure follows if this goes on (runbook 6.1.3)",
    },
    EventRule {
        id: "node.container-gc-failed",
        reasons: &["ContainerGCFailed"],
        what: "the kubelet failed to remove dead containers",
        hint: "the container runtime is not answering (often with PLEG not healthy, runbook \
               6.1.6): check `crictl ps` on the node and restart the runtime and kubelet",
    },
    EventRule {
        id: "node.eviction-threshold",
        reasons: &["EvictionThresholdMet"],
        what: "an eviction threshold was met; the kubelet evicts pods to reclaim it",
        hint: "free that resource on the node; see node.evicted-pods for the pods that went",
    },
    EventRule {
        id: "node.system-oom",
        reasons: &["SystemOOM"],
        what: "the kernel killed processes for lack of memory",
        hint: "compare the node's memory with its pods' limits (node.overcommitted) and set \
               memory limits; SystemOOM can also come from the runtime enforcing a container's \
               limit (runbook 6.1.7)",
    },
    EventRule {
        id: "node.flapping",
        reasons: &["NodeNotReady"],
        what: "the node went NotReady",
        hint: "it lost contact with the control plane: check the kubelet's load (PLEG, CPU) and \
               the node's network",
    },
    EventRule {
        id: "node.rebooted",
        reasons: &["Rebooted"],
        what: "the node rebooted",
        hint: "find out why on the node (`journalctl --list-boots`, kernel panic, OOM, \
               someone's maintenance)",
    },
];

/// Findings from the events of one node that happened within `window` before `now`.
/// `ready_now` silences `NodeNotReady` events when the node is not Ready: the current state
/// is reported by the conditions check.
pub fn check_events(
    node: &str,
    events: &[EventSummary],
    window: Duration,
    ready_now: bool,
    now: Timestamp,
) -> Vec<Finding> {
    let cutoff = now - SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX);
    let recent: Vec<&EventSummary> = events
        .iter()
        .filter(|e| e.last_seen.is_some_and(|t| t >= cutoff))
        .collect();
    RULES
        .iter()
        .filter(|rule| rule.id != "node.flapping" || ready_now)
        .filter_map(|rule| finding_for(rule, node, &recent, window, now))
        .collect()
}

fn finding_for(
    rule: &EventRule,
    node: &str,
    recent: &[&EventSummary],
    window: Duration,
    now: Timestamp,
) -> Option<Finding> {
    let matching: Vec<&&EventSummary> = recent
        .iter()
        .filter(|e| rule.reasons.contains(&e.reason.as_str()))
        .collect();
    let latest = matching.iter().max_by_key(|e| e.last_seen)?;
    let counts: Vec<String> = rule
        .reasons
        .iter()
        .filter_map(|reason| {
            let n: i64 = matching
                .iter()
                .filter(|e| e.reason == *reason)
                .map(|e| i64::from(e.count))
                .sum();
            (n > 0).then(|| format!("{reason} x{n}"))
        })
        .collect();
    let window_text = age(now - SignedDuration::try_from(window).ok()?, now);
    let last = latest
        .last_seen
        .map(|t| format!(", last {} ago", age(t, now)))
        .unwrap_or_default();
    let mut message = format!(
        "{} ({} in the last {window_text}{last})",
        rule.what,
        counts.join(", ")
    );
    if !latest.message.is_empty() {
        message.push_str(": ");
        message.push_str(&latest.message);
    }
    let mut hint = rule.hint.to_string();
    if latest.message.contains("DeadlineExceeded") {
        hint.push_str(
            "; \"DeadlineExceeded\" means the runtime answered too slowly: high CPU \
                       during garbage collection (runbook 6.1.5)",
        );
    }
    Some(Finding::new(
        Severity::Warning,
        rule.id,
        format!("node/{node}"),
        message,
        hint,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::now;

    fn ev(reason: &str, count: i32, minutes_ago: i64, message: &str) -> EventSummary {
        let t = now() - SignedDuration::from_mins(minutes_ago);
        EventSummary {
            type_: "Warning".into(),
            reason: reason.into(),
            message: message.into(),
            count,
            first_seen: Some(t - SignedDuration::from_mins(30)),
            last_seen: Some(t),
            source: "kubelet".into(),
            subject: "node/n1".into(),
            kind: "Node".into(),
            name: "n1".into(),
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn runbook_disk_events_become_one_finding_per_trouble() {
        let gc = "failed to garbage collect required amount of images. Wanted to free 4920913920 bytes, but freed 0 bytes";
        let events = vec![
            ev("ImageGCFailed", 1, 3, gc),
            ev("FreeDiskSpaceFailed", 3, 13, gc),
            ev("ImageGCFailed", 2, 18, gc),
            ev(
                "EvictionThresholdMet",
                19,
                8,
                "Attempting to reclaim ephemeral-storage",
            ),
            ev(
                "NodeHasDiskPressure",
                4,
                10,
                "Node n1 status is now: NodeHasDiskPressure",
            ),
        ];
        let f = check_events("n1", &events, HOUR, true, now());
        let ids: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(ids, ["node.image-gc-failed", "node.eviction-threshold"]);
        assert_eq!(
            f[0].message,
            format!(
                "the kubelet failed to free disk by removing unused images (ImageGCFailed x3, FreeDiskSpaceFailed x3 in the last 60m, last 3m ago): {gc}"
            )
        );
        assert!(f[1].message.contains("EvictionThresholdMet x19"));
        assert!(
            f[1].message
                .ends_with("Attempting to reclaim ephemeral-storage")
        );
    }

    #[test]
    fn old_events_are_ignored_and_flaps_only_count_when_ready() {
        let events = vec![
            ev(
                "SystemOOM",
                1,
                120,
                "System OOM encountered, victim process: java",
            ),
            ev("NodeNotReady", 2, 5, "Node n1 status is now: NodeNotReady"),
            ev("Rebooted", 1, 20, "Node n1 has been rebooted, boot id: abc"),
        ];
        let f = check_events("n1", &events, HOUR, true, now());
        let ids: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(ids, ["node.flapping", "node.rebooted"]);
        let f = check_events("n1", &events, HOUR, false, now());
        assert_eq!(f.len(), 1);
        let f = check_events("n1", &events, 3 * HOUR, false, now());
        assert!(f.iter().any(|f| f.check == "node.system-oom"));
    }

    #[test]
    fn deadline_exceeded_points_at_cpu_during_gc() {
        let events = vec![ev(
            "ImageGCFailed",
            1,
            45,
            "failed to get image stats: rpc error: code = DeadlineExceeded desc = context deadline exceeded",
        )];
        let f = check_events("n1", &events, HOUR, true, now());
        assert!(f[0].hint.contains("runbook 6.1.5"), "{}", f[0].hint);
    }
}
