//! Every check id gw-resize reports, with its worst severity and what it means.
//! Critical findings refuse the change (exit 2) before anything is sent.

use runbook::Severity;
use runbook::findings::CheckInfo;

/// The catalog of pre-flight checks (the README lists the same table).
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: "resize.request-above-limit",
        severity: Severity::Critical,
        summary: "a container's new request is above its limit: the API server rejects the template",
    },
    CheckInfo {
        id: "resize.quota-exceeded",
        severity: Severity::Critical,
        summary: "the namespace ResourceQuota has too little headroom for the new pods during the rolling update: they would never be created",
    },
    CheckInfo {
        id: "resize.limitrange-violation",
        severity: Severity::Critical,
        summary: "a new value is outside the namespace LimitRange (min, max, maxLimitRequestRatio, or its default limit below the request): pods would be rejected",
    },
    CheckInfo {
        id: "resize.no-node-fits",
        severity: Severity::Warning,
        summary: "no schedulable node has enough allocatable left for one new pod: it would stay Pending",
    },
    CheckInfo {
        id: "resize.hpa-owns-replicas",
        severity: Severity::Critical,
        summary: "a HorizontalPodAutoscaler owns the replica count: --replicas would be undone (refused unless --force; change the HPA instead)",
    },
    CheckInfo {
        id: "resize.hpa-utilization",
        severity: Severity::Info,
        summary: "an HPA scales on utilization relative to the request being changed: its readings shift",
    },
    CheckInfo {
        id: "resize.rollout-in-progress",
        severity: Severity::Warning,
        summary: "a rollout is still under way: the change starts another one on top of it",
    },
    CheckInfo {
        id: "resize.paused",
        severity: Severity::Warning,
        summary: "the Deployment is paused: a template change does not roll out until it is resumed",
    },
    CheckInfo {
        id: "resize.on-delete",
        severity: Severity::Warning,
        summary: "the StatefulSet updates OnDelete: pods keep the old template until deleted",
    },
    CheckInfo {
        id: "resize.scale-to-zero",
        severity: Severity::Warning,
        summary: "--replicas leaves no pod running: the workload stops serving",
    },
    CheckInfo {
        id: "resize.oom-not-raised",
        severity: Severity::Warning,
        summary: "pods of the workload were OOMKilled and the change does not raise that container's memory limit",
    },
    CheckInfo {
        id: "resize.no-limit",
        severity: Severity::Info,
        summary: "a changed container has no memory limit: one leak can exhaust the node (runbook 001)",
    },
    CheckInfo {
        id: "resize.toleration-unplaced",
        severity: Severity::Warning,
        summary: "after the toleration change, still no node accepts the pods",
    },
    CheckInfo {
        id: "resize.pod-target",
        severity: Severity::Info,
        summary: "TARGET named a pod: the change goes to the workload that owns it",
    },
    CheckInfo {
        id: "resize.check-skipped",
        severity: Severity::Info,
        summary: "a pre-flight check could not read what it needs (forbidden, unavailable) and was skipped",
    },
];

/// The catalog entry of `id`.
pub fn lookup(id: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sources that emit findings.
    const EMITTERS: [&str; 9] = [
        include_str!("preflight/mod.rs"),
        include_str!("preflight/hpa.rs"),
        include_str!("preflight/limitrange.rs"),
        include_str!("preflight/limits.rs"),
        include_str!("preflight/nodes.rs"),
        include_str!("preflight/pods.rs"),
        include_str!("preflight/quota.rs"),
        include_str!("preflight/rollout.rs"),
        include_str!("resolve.rs"),
    ];

    #[test]
    fn every_emitted_id_is_in_the_catalog() {
        let mut emitted = std::collections::BTreeSet::new();
        for source in EMITTERS {
            for (i, _) in source.match_indices("\"resize.") {
                let rest = &source[i + 1..];
                let id = &rest[..rest.find('"').unwrap()];
                emitted.insert(id.to_string());
            }
        }
        for id in &emitted {
            assert!(
                lookup(id).is_some(),
                "{id} is emitted but not in the catalog"
            );
        }
        for c in CHECKS {
            assert!(
                emitted.contains(c.id),
                "{} is in the catalog but never emitted",
                c.id
            );
        }
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in CHECKS {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            let (area, what) = c.id.split_once('.').expect("area.what");
            assert_eq!(area, "resize");
            assert!(
                what.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{}",
                c.id
            );
        }
    }
}
