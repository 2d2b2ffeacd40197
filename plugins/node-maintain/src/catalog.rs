//! Every check id `node-maintain` can report, with its worst severity and what it means.

use runbook::Severity::{Critical, Info, Warning};
use runbook::findings::CheckInfo;

/// The catalog of checks (the README lists the same table).
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        id: "node.not-ready",
        severity: Critical,
        summary: "Ready=False: the kubelet reports the node unhealthy; new pods are not placed there",
    },
    CheckInfo {
        id: "node.unknown",
        severity: Critical,
        summary: "Ready=Unknown: the kubelet stopped posting status; nobody knows if its pods still run",
    },
    CheckInfo {
        id: "node.pleg",
        severity: Critical,
        summary: "\"PLEG is not healthy\": the container runtime stopped answering the kubelet",
    },
    CheckInfo {
        id: "node.disk-pressure",
        severity: Critical,
        summary: "DiskPressure: the kubelet evicts pods and the node takes no new ones",
    },
    CheckInfo {
        id: "node.memory-pressure",
        severity: Critical,
        summary: "MemoryPressure: the kubelet evicts pods to reclaim memory",
    },
    CheckInfo {
        id: "node.pid-pressure",
        severity: Critical,
        summary: "PIDPressure: the node is running out of process ids",
    },
    CheckInfo {
        id: "node.network-unavailable",
        severity: Critical,
        summary: "NetworkUnavailable: routes or the CNI are not set up; pods there have no network",
    },
    CheckInfo {
        id: "node.unschedulable",
        severity: Warning,
        summary: "cordoned with no maintenance record saying who did it and why",
    },
    CheckInfo {
        id: "node.maintenance",
        severity: Info,
        summary: "under maintenance: who cordoned it, when and why (recorded by node-maintain)",
    },
    CheckInfo {
        id: "node.tainted",
        severity: Info,
        summary: "taints that keep pods off the node (other than the condition taints)",
    },
    CheckInfo {
        id: "node.image-gc-failed",
        severity: Warning,
        summary: "ImageGCFailed / FreeDiskSpaceFailed events: the kubelet cannot free disk, DiskPressure follows",
    },
    CheckInfo {
        id: "node.container-gc-failed",
        severity: Warning,
        summary: "ContainerGCFailed events: the container runtime does not answer (often with PLEG)",
    },
    CheckInfo {
        id: "node.eviction-threshold",
        severity: Warning,
        summary: "EvictionThresholdMet events: the kubelet is reclaiming a resource by evicting pods",
    },
    CheckInfo {
        id: "node.system-oom",
        severity: Warning,
        summary: "SystemOOM events: the kernel killed processes for lack of memory",
    },
    CheckInfo {
        id: "node.flapping",
        severity: Warning,
        summary: "NodeNotReady events on a node that is Ready now: it went NotReady recently",
    },
    CheckInfo {
        id: "node.rebooted",
        severity: Warning,
        summary: "Rebooted events: the node restarted recently",
    },
    CheckInfo {
        id: "node.overcommitted",
        severity: Warning,
        summary: "requests or limits of the pods exceed what the node can allocate",
    },
    CheckInfo {
        id: "node.high-usage",
        severity: Warning,
        summary: "measured CPU or memory use (metrics.k8s.io) near the node's allocatable",
    },
    CheckInfo {
        id: "node.evicted-pods",
        severity: Warning,
        summary: "pods the kubelet evicted from the node, and which resource ran out",
    },
    CheckInfo {
        id: "node.unreplaced-pods",
        severity: Critical,
        summary: "pods on an Unknown or long NotReady node that Kubernetes will not replace (StatefulSet, bare)",
    },
    CheckInfo {
        id: "drain.daemonset",
        severity: Critical,
        summary: "DaemonSet pods with --ignore-daemonsets=false: the drain refuses to start",
    },
    CheckInfo {
        id: "drain.bare-pod",
        severity: Critical,
        summary: "pods no controller manages: need --force, and are gone for good",
    },
    CheckInfo {
        id: "drain.emptydir",
        severity: Critical,
        summary: "pods with emptyDir data: need --delete-emptydir-data, and the data is lost",
    },
    CheckInfo {
        id: "drain.pdb-blocks",
        severity: Critical,
        summary: "a PodDisruptionBudget allows 0 disruptions now: evictions of its pods wait",
    },
    CheckInfo {
        id: "drain.pdb-overlap",
        severity: Critical,
        summary: "a pod covered by two PodDisruptionBudgets: the API refuses to evict it (500)",
    },
    CheckInfo {
        id: "drain.last-replica",
        severity: Warning,
        summary: "every ready replica of a workload is on this node: it is down until replacements are ready",
    },
    CheckInfo {
        id: "drain.no-room",
        severity: Warning,
        summary: "the other schedulable nodes lack room for the evicted pods' requests",
    },
];

/// The catalog entry of `id`, if any.
pub fn lookup(id: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CHECKS {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            let (area, what) = c.id.split_once('.').expect("area.what");
            assert!(["node", "drain"].contains(&area), "{}", c.id);
            assert!(
                what.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{}",
                c.id
            );
        }
        assert!(lookup("node.pleg").is_some());
        assert!(lookup("node.nope").is_none());
    }

    #[test]
    fn the_readme_lists_every_check() {
        let readme = include_str!("../README.md");
        for c in CHECKS {
            assert!(
                readme.contains(&format!("| `{}` |", c.id)),
                "README lacks {}",
                c.id
            );
        }
    }
}
