//! The scheduler's FailedScheduling message broken into per-cause node counts:
//! `0/5 nodes are available: 2 node(s) had untolerated taint {role: gateway}, 3 Insufficient
//! memory. preemption: ...` → 0 of 5 available; 2 × taint, 3 × insufficient memory.

use serde::Serialize;

/// Why a number of nodes refused the pod, classified from the scheduler's wording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum SchedulingCause {
    /// `Insufficient cpu` / `Insufficient memory` / any extended resource.
    Insufficient(String),
    /// `node(s) had untolerated taint {key: value}`: the taint as printed.
    UntoleratedTaint(String),
    /// `node(s) didn't match Pod's node affinity/selector`.
    NodeAffinity,
    /// `node(s) were unschedulable`: cordoned.
    Cordoned,
    /// `node(s) didn't match pod affinity rules` / `pod anti-affinity rules`.
    PodAffinity,
    /// `node(s) didn't match pod topology spread constraints`.
    TopologySpread,
    /// `node(s) didn't have free ports for the requested pod ports`.
    HostPorts,
    /// A volume could not be used there (zone/node affinity conflict, attach limits).
    Volume,
    /// `Too many pods`.
    TooManyPods,
    /// Anything else, as the scheduler worded it.
    Other,
}

/// One cause with the number of nodes it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CauseCount {
    /// How many nodes.
    pub nodes: usize,
    /// The scheduler's text for it, without the count.
    pub text: String,
    /// The classified cause.
    pub cause: SchedulingCause,
}

/// A parsed FailedScheduling (or PodScheduled=False) message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchedulingFailure {
    /// Nodes that could take the pod (usually 0).
    pub available: usize,
    /// Nodes considered.
    pub total: usize,
    /// Per-cause counts, in the scheduler's order (largest first as it prints them).
    pub causes: Vec<CauseCount>,
    /// The scheduler's preemption verdict, if given (`preemption: ...`).
    pub preemption: Option<String>,
}

impl SchedulingFailure {
    /// `2 × untolerated taint {..}, 3 × Insufficient memory` style one-liner.
    pub fn summary(&self) -> String {
        let causes: Vec<String> = self
            .causes
            .iter()
            .map(|c| format!("{} × {}", c.nodes, c.text))
            .collect();
        format!(
            "{}/{} nodes available: {}",
            self.available,
            self.total,
            causes.join(", ")
        )
    }
}

/// Parses `N/M nodes are available: <count> <cause>, <count> <cause>. preemption: ...`.
/// `None` when the message is not in that form (for example "pod has unbound immediate
/// PersistentVolumeClaims"): callers then show it as is.
pub fn parse_failed_scheduling(msg: &str) -> Option<SchedulingFailure> {
    let msg = msg.trim();
    let (counts, rest) = msg.split_once(" nodes are available")?;
    let (available, total) = counts.trim().split_once('/')?;
    let available = available.trim().parse().ok()?;
    let total = total.trim().parse().ok()?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (causes_text, preemption) = match rest.split_once(" preemption:") {
        Some((c, p)) => (c, Some(p.trim().trim_end_matches('.').to_string())),
        None => (rest, None),
    };
    let causes_text = causes_text.trim().trim_end_matches('.');
    let causes = split_causes(causes_text)
        .into_iter()
        .filter_map(|part| {
            let (n, text) = part.split_once(' ')?;
            let nodes = n.parse().ok()?;
            let text = text.trim().to_string();
            Some(CauseCount {
                nodes,
                cause: classify(&text),
                text,
            })
        })
        .collect();
    Some(SchedulingFailure {
        available,
        total,
        causes,
        preemption,
    })
}

/// Splits at `, ` where the next part starts with a count (commas inside taints or
/// affinity texts stay), ignoring commas inside `{...}`.
fn split_causes(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                let next = text[i + 1..].trim_start();
                if next
                    .split(' ')
                    .next()
                    .is_some_and(|w| w.parse::<usize>().is_ok())
                {
                    parts.push(text[start..i].trim());
                    start = i + 1;
                }
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        parts.push(last);
    }
    parts
}

fn classify(text: &str) -> SchedulingCause {
    let lower = text.to_lowercase();
    if let Some(resource) = text.strip_prefix("Insufficient ") {
        return SchedulingCause::Insufficient(resource.trim().to_string());
    }
    if lower.contains("taint") {
        let taint = match (text.find('{'), text.rfind('}')) {
            (Some(a), Some(b)) if a < b => &text[a..=b],
            _ => text,
        };
        return SchedulingCause::UntoleratedTaint(taint.to_string());
    }
    if lower.contains("node affinity/selector") || lower.contains("node selector") {
        SchedulingCause::NodeAffinity
    } else if lower.contains("were unschedulable") {
        SchedulingCause::Cordoned
    } else if lower.contains("pod affinity") || lower.contains("anti-affinity") {
        SchedulingCause::PodAffinity
    } else if lower.contains("topology spread") {
        SchedulingCause::TopologySpread
    } else if lower.contains("free ports") {
        SchedulingCause::HostPorts
    } else if lower.contains("volume") || lower.contains("persistentvolume") {
        SchedulingCause::Volume
    } else if lower.contains("too many pods") {
        SchedulingCause::TooManyPods
    } else {
        SchedulingCause::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taint_and_memory() {
        let f = parse_failed_scheduling(
            "0/5 nodes are available: 2 node(s) had untolerated taint {node-role.kubernetes.io/gateway: }, \
             3 Insufficient memory. preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, \
             3 No preemption victims found for incoming pod.",
        )
        .unwrap();
        assert_eq!((f.available, f.total), (0, 5));
        assert_eq!(f.causes.len(), 2);
        assert_eq!(f.causes[0].nodes, 2);
        assert_eq!(
            f.causes[0].cause,
            SchedulingCause::UntoleratedTaint("{node-role.kubernetes.io/gateway: }".into())
        );
        assert_eq!(f.causes[1].nodes, 3);
        assert_eq!(
            f.causes[1].cause,
            SchedulingCause::Insufficient("memory".into())
        );
        assert!(
            f.preemption
                .unwrap()
                .starts_with("0/5 nodes are available: 2 Preemption")
        );
        assert_eq!(
            parse_failed_scheduling("0/3 nodes are available: 3 Insufficient cpu.")
                .unwrap()
                .summary(),
            "0/3 nodes available: 3 × Insufficient cpu"
        );
    }

    #[test]
    fn commas_inside_a_cause_stay() {
        let f = parse_failed_scheduling(
            "0/5 nodes are available: 1 node(s) had untolerated taint {a: b, c}, 1 node(s) were unschedulable, \
             2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had taint {old: }, that the pod didn't tolerate.",
        )
        .unwrap();
        let kinds: Vec<_> = f
            .causes
            .iter()
            .map(|c| (c.nodes, c.cause.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, SchedulingCause::UntoleratedTaint("{a: b, c}".into())),
                (1, SchedulingCause::Cordoned),
                (2, SchedulingCause::NodeAffinity),
                (1, SchedulingCause::UntoleratedTaint("{old: }".into())),
            ]
        );
        assert_eq!(f.preemption, None);
    }

    #[test]
    fn other_causes_classify() {
        let f = parse_failed_scheduling(
            "1/6 nodes are available: 1 node(s) didn't match pod anti-affinity rules, \
             1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't have free ports for the requested pod ports, \
             1 node(s) had volume node affinity conflict, 1 Too many pods, 1 node(s) had unknown thing.",
        )
        .unwrap();
        assert_eq!(f.available, 1);
        let kinds: Vec<_> = f.causes.iter().map(|c| c.cause.clone()).collect();
        assert_eq!(
            kinds,
            [
                SchedulingCause::PodAffinity,
                SchedulingCause::TopologySpread,
                SchedulingCause::HostPorts,
                SchedulingCause::Volume,
                SchedulingCause::TooManyPods,
                SchedulingCause::Other,
            ]
        );
    }

    #[test]
    fn other_forms_are_not_parsed() {
        assert_eq!(
            parse_failed_scheduling("pod has unbound immediate PersistentVolumeClaims"),
            None
        );
        assert_eq!(
            parse_failed_scheduling("x/5 nodes are available: 5 Insufficient cpu."),
            None
        );
        assert_eq!(parse_failed_scheduling(""), None);
    }
}
