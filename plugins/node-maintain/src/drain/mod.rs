//! Draining a node: the plan (pure), the progress state (pure), the eviction loop and its
//! progress output.

pub mod evict;
pub mod plan;
pub mod progress;
pub mod report;

use serde::Serialize;

use evict::Stop;
use progress::{Counts, DrainProgress, PodFate, TrackedPod};

/// How a drain ended, for the summary and `-o json`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainOutcome {
    /// The node.
    pub node: String,
    /// Every pod the drain removes, with where it stands.
    pub pods: Vec<TrackedPod>,
    /// How many pods the plan leaves in place.
    pub skipped: usize,
    /// True when every pod left as planned.
    pub complete: bool,
    /// True when `--timeout` passed first.
    pub timed_out: bool,
    /// True when Ctrl-C stopped it.
    pub interrupted: bool,
}

impl DrainOutcome {
    /// The outcome of `progress` after the loop stopped for `stop`.
    pub fn new(node: &str, progress: &DrainProgress, skipped: usize, stop: Stop) -> Self {
        DrainOutcome {
            node: node.to_string(),
            pods: progress.pods.clone(),
            skipped,
            complete: progress.complete(),
            timed_out: stop == Stop::TimedOut,
            interrupted: stop == Stop::Interrupted,
        }
    }

    /// Counts by state.
    pub fn counts(&self) -> Counts {
        DrainProgress::new(self.pods.clone()).counts()
    }

    /// Pods not gone, grouped by what holds them: `(reason, pods)`.
    pub fn remaining(&self) -> Vec<(String, Vec<String>)> {
        let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for p in self.pods.iter().filter(|p| !p.fate.is_done()) {
            let reason = match &p.fate {
                PodFate::Blocked { by, .. } => format!("blocked by {by}"),
                PodFate::Failed { error } => format!("failed: {error}"),
                PodFate::Terminating => "evicted, still terminating".to_string(),
                _ => "not evicted yet".to_string(),
            };
            by.entry(reason).or_default().push(p.key());
        }
        by.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_groups_unfinished_pods_by_reason() {
        let pod = |name: &str, fate: PodFate| TrackedPod {
            fate,
            ..TrackedPod::new("web", name, name, vec![])
        };
        let blocked = || PodFate::Blocked {
            by: "PDB web/shop".into(),
            refusals: 3,
            retry_at: None,
        };
        let progress = DrainProgress::new(vec![
            pod("a", PodFate::Gone),
            pod("b", blocked()),
            pod("c", blocked()),
            pod("d", PodFate::Waiting),
        ]);
        let outcome = DrainOutcome::new("n1", &progress, 2, Stop::TimedOut);
        assert!(!outcome.complete && outcome.timed_out && !outcome.interrupted);
        assert_eq!(
            outcome.remaining(),
            [
                (
                    "blocked by PDB web/shop".to_string(),
                    vec!["web/b".to_string(), "web/c".to_string()]
                ),
                ("not evicted yet".to_string(), vec!["web/d".to_string()]),
            ]
        );
        assert_eq!(outcome.counts().gone, 1);
    }
}
