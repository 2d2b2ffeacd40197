//! The state of a running drain, pod by pod: what was tried, what the API answered, what is
//! gone. Pure: the eviction loop feeds it answers and watch events and asks what to do next,
//! so every decision (retry when, done when, blocked by what) is tested without a server.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

/// The first wait after a 429; doubled on each refusal up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
/// The longest wait between two evictions of the same pod (kubectl always waits 5s).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// The wait before attempt `refusals + 1` after `refusals` refusals: 1s, 2s, 4s, then 5s.
pub fn retry_delay(refusals: u32) -> Duration {
    let doubled = FIRST_RETRY_DELAY.saturating_mul(1u32 << refusals.saturating_sub(1).min(8));
    doubled.min(MAX_RETRY_DELAY)
}

/// What the API answered to one eviction (or deletion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvictionAnswer {
    /// Accepted: the pod is terminating.
    Accepted,
    /// 404, or the uid precondition failed (409): the pod we planned for is already gone.
    Gone,
    /// 429: a PodDisruptionBudget (named when the API said which) refuses for now.
    Blocked {
        /// The PDB's name, from the API's cause, when given.
        pdb: Option<String>,
        /// The API's message.
        message: String,
    },
    /// Any other refusal: not retried.
    Failed(String),
}

/// Where one pod stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum PodFate {
    /// Not tried yet.
    Waiting,
    /// A request is in flight.
    Evicting,
    /// Refused with 429; tried again later.
    Blocked {
        /// What refuses it (`PDB web/shop`, or the API's message).
        by: String,
        /// Refusals so far.
        refusals: u32,
        /// When to try again.
        #[serde(skip)]
        retry_at: Option<Instant>,
    },
    /// Accepted; waiting for the pod to be gone.
    Terminating,
    /// Deleted (or replaced by a pod with another uid).
    Gone,
    /// Accepted by a server-side dry run.
    WouldGo,
    /// Its deletion began longer ago than `--skip-wait-for-delete-timeout`: not waited for.
    SkippedWait,
    /// Refused for good.
    Failed {
        /// The API's message.
        error: String,
    },
}

impl PodFate {
    /// One word for the STATE column.
    pub fn label(&self) -> &'static str {
        match self {
            PodFate::Waiting => "not started",
            PodFate::Evicting => "evicting",
            PodFate::Blocked { .. } => "blocked",
            PodFate::Terminating => "terminating",
            PodFate::Gone => "evicted",
            PodFate::WouldGo => "would evict",
            PodFate::SkippedWait => "not waited for",
            PodFate::Failed { .. } => "failed",
        }
    }

    /// The WHY column.
    pub fn detail(&self) -> String {
        match self {
            PodFate::Blocked { by, refusals, .. } => format!("{by} (refused {refusals}x)"),
            PodFate::Failed { error } => error.clone(),
            PodFate::Terminating => "eviction accepted; the pod has not stopped yet".into(),
            PodFate::Waiting => "the drain stopped before its turn".into(),
            _ => String::new(),
        }
    }

    /// True when nothing more will happen to the pod.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PodFate::Gone | PodFate::WouldGo | PodFate::SkippedWait | PodFate::Failed { .. }
        )
    }

    /// True when the pod left as planned.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            PodFate::Gone | PodFate::WouldGo | PodFate::SkippedWait
        )
    }
}

/// One pod the drain removes.
#[derive(Clone, Debug, Serialize)]
pub struct TrackedPod {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The uid planned for: a pod of the same name with another uid is a replacement.
    pub uid: String,
    /// PDBs the plan found covering it (named when the API does not say).
    #[serde(skip)]
    pub pdbs: Vec<String>,
    /// Where it stands.
    #[serde(flatten)]
    pub fate: PodFate,
    /// 429 answers so far (kept while a retry is in flight).
    #[serde(skip)]
    pub refusals: u32,
    /// What refused it last.
    #[serde(skip)]
    pub last_blocker: Option<String>,
}

impl TrackedPod {
    /// A pod not tried yet.
    pub fn new(namespace: &str, name: &str, uid: &str, pdbs: Vec<String>) -> Self {
        TrackedPod {
            namespace: namespace.to_string(),
            name: name.to_string(),
            uid: uid.to_string(),
            pdbs,
            fate: PodFate::Waiting,
            refusals: 0,
            last_blocker: None,
        }
    }

    /// `ns/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What changed after an answer or an event, for the progress output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing worth printing.
    None,
    /// The pod is gone.
    Gone,
    /// Refused; tried again after the delay. `first` on the first refusal or a new reason.
    Blocked {
        /// What refuses it.
        by: String,
        /// Retry after this long.
        retry_in: Duration,
        /// True when this reason was not printed before.
        first: bool,
    },
    /// Accepted; now waiting for it to go.
    Accepted,
    /// Refused for good.
    Failed(String),
}

/// Counts for the summary and progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Gone (or accepted by a dry run, or not waited for).
    pub gone: usize,
    /// Accepted, not gone yet.
    pub terminating: usize,
    /// Refused by a PDB for now.
    pub blocked: usize,
    /// Refused for good.
    pub failed: usize,
    /// Not tried (the drain stopped first).
    pub waiting: usize,
}

/// The drain's progress over every pod it removes.
#[derive(Clone, Debug, Default)]
pub struct DrainProgress {
    /// The pods, in plan order.
    pub pods: Vec<TrackedPod>,
}

impl DrainProgress {
    /// Tracks these pods, none tried yet.
    pub fn new(pods: Vec<TrackedPod>) -> Self {
        DrainProgress { pods }
    }

    /// The next pod to send a request for at `now`: a waiting pod, or a blocked one whose
    /// delay has passed.
    pub fn next_ready(&self, now: Instant) -> Option<usize> {
        self.pods.iter().position(|p| match &p.fate {
            PodFate::Waiting => true,
            PodFate::Blocked { retry_at, .. } => retry_at.is_none_or(|t| t <= now),
            _ => false,
        })
    }

    /// Marks pod `i` as having a request in flight.
    pub fn start(&mut self, i: usize) {
        if let Some(p) = self.pods.get_mut(i) {
            p.fate = PodFate::Evicting;
        }
    }

    /// Records the API's answer for pod `i` at `now`. `dry_run` answers end the pod there.
    pub fn record(
        &mut self,
        i: usize,
        answer: EvictionAnswer,
        dry_run: bool,
        now: Instant,
    ) -> Change {
        let Some(p) = self.pods.get_mut(i) else {
            return Change::None;
        };
        let previous = std::mem::replace(&mut p.fate, PodFate::Evicting);
        let (fate, change) = match answer {
            EvictionAnswer::Accepted if dry_run => (PodFate::WouldGo, Change::Accepted),
            EvictionAnswer::Accepted => (PodFate::Terminating, Change::Accepted),
            EvictionAnswer::Gone => (PodFate::Gone, Change::Gone),
            EvictionAnswer::Blocked { pdb, message } => {
                let by = match (pdb, p.pdbs.as_slice()) {
                    (Some(name), _) => format!("PDB {}/{name}", p.namespace),
                    (None, [only]) => format!("PDB {only}"),
                    (None, _) => message.clone(),
                };
                p.refusals += 1;
                let refusals = p.refusals;
                let first = p.last_blocker.as_deref() != Some(by.as_str());
                p.last_blocker = Some(by.clone());
                if dry_run {
                    (
                        PodFate::Failed {
                            error: format!("would be refused now: {by}"),
                        },
                        Change::Failed(by),
                    )
                } else {
                    let retry_in = retry_delay(refusals);
                    (
                        PodFate::Blocked {
                            by: by.clone(),
                            refusals,
                            retry_at: Some(now + retry_in),
                        },
                        Change::Blocked {
                            by,
                            retry_in,
                            first,
                        },
                    )
                }
            }
            EvictionAnswer::Failed(error) => (
                PodFate::Failed {
                    error: error.clone(),
                },
                Change::Failed(error),
            ),
        };
        // A watch event may have seen the pod go while the request was in flight.
        if previous == PodFate::Gone {
            p.fate = PodFate::Gone;
            return Change::None;
        }
        p.fate = fate;
        change
    }

    /// The pod with `uid` was deleted (or its name now belongs to another uid). Returns its
    /// index when this is news.
    pub fn observe_gone(&mut self, uid: &str) -> Option<usize> {
        let i = self.pods.iter().position(|p| p.uid == uid)?;
        let p = &mut self.pods[i];
        if p.fate.is_final() {
            return None;
        }
        p.fate = PodFate::Gone;
        Some(i)
    }

    /// A terminating pod whose deletion began `age` ago, under `--skip-wait-for-delete-timeout`
    /// of `limit`: stop waiting for it once `age` exceeds `limit`. Returns true when this is news.
    pub fn observe_deleting(&mut self, uid: &str, age: Duration, limit: Duration) -> bool {
        if limit.is_zero() || age <= limit {
            return false;
        }
        match self.pods.iter_mut().find(|p| p.uid == uid) {
            Some(p) if p.fate == PodFate::Terminating => {
                p.fate = PodFate::SkippedWait;
                true
            }
            _ => false,
        }
    }

    /// When the earliest blocked pod may be tried again.
    pub fn next_retry(&self) -> Option<Instant> {
        self.pods
            .iter()
            .filter_map(|p| match &p.fate {
                PodFate::Blocked { retry_at, .. } => *retry_at,
                _ => None,
            })
            .min()
    }

    /// True when every pod is in a final state.
    pub fn settled(&self) -> bool {
        self.pods.iter().all(|p| p.fate.is_final())
    }

    /// True when every pod left as planned.
    pub fn complete(&self) -> bool {
        self.pods.iter().all(|p| p.fate.is_done())
    }

    /// Counts by state.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for p in &self.pods {
            match p.fate {
                PodFate::Gone | PodFate::WouldGo | PodFate::SkippedWait => c.gone += 1,
                PodFate::Terminating => c.terminating += 1,
                PodFate::Blocked { .. } => c.blocked += 1,
                PodFate::Failed { .. } => c.failed += 1,
                PodFate::Waiting | PodFate::Evicting => c.waiting += 1,
            }
        }
        c
    }

    /// Blocked pods grouped by what blocks them: `(blocker, pods)`.
    pub fn blockers(&self) -> Vec<(String, Vec<String>)> {
        let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for p in &self.pods {
            if let PodFate::Blocked { by: b, .. } = &p.fate {
                by.entry(b.clone()).or_default().push(p.key());
            }
        }
        by.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(name: &str, pdbs: &[&str]) -> TrackedPod {
        let pdbs = pdbs.iter().map(|s| s.to_string()).collect();
        TrackedPod::new("web", name, &format!("uid-{name}"), pdbs)
    }

    fn blocked(pdb: Option<&str>) -> EvictionAnswer {
        EvictionAnswer::Blocked {
            pdb: pdb.map(str::to_string),
            message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
        }
    }

    #[test]
    fn backoff_doubles_to_five_seconds() {
        let d: Vec<u64> = (1..=6).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 5, 5, 5]);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY_DELAY);
    }

    #[test]
    fn a_blocked_pod_is_retried_after_its_delay_and_named_by_pdb() {
        let t0 = Instant::now();
        let mut p = DrainProgress::new(vec![tracked("a", &["web/shop"]), tracked("b", &[])]);
        assert_eq!(p.next_ready(t0), Some(0));
        p.start(0);
        assert_eq!(p.next_ready(t0), Some(1));
        let change = p.record(0, blocked(None), false, t0);
        assert_eq!(
            change,
            Change::Blocked {
                by: "PDB web/shop".into(),
                retry_in: Duration::from_secs(1),
                first: true
            }
        );
        p.start(1);
        assert_eq!(
            p.record(1, EvictionAnswer::Accepted, false, t0),
            Change::Accepted
        );
        assert_eq!(p.next_ready(t0), None, "a is waiting out its delay");
        assert_eq!(p.next_retry(), Some(t0 + Duration::from_secs(1)));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(p.next_ready(t1), Some(0));
        p.start(0);
        let again = p.record(0, blocked(Some("shop")), false, t1);
        assert!(
            matches!(again, Change::Blocked { first: false, retry_in, .. } if retry_in == Duration::from_secs(2))
        );
        assert_eq!(
            p.blockers(),
            [("PDB web/shop".to_string(), vec!["web/a".to_string()])]
        );
        assert_eq!(
            p.counts(),
            Counts {
                blocked: 1,
                terminating: 1,
                ..Default::default()
            }
        );
        assert!(!p.settled());
    }

    #[test]
    fn watch_events_finish_pods_and_not_found_counts_as_evicted() {
        let t0 = Instant::now();
        let mut p = DrainProgress::new(vec![
            tracked("a", &[]),
            tracked("b", &[]),
            tracked("c", &[]),
        ]);
        p.start(0);
        p.record(0, EvictionAnswer::Accepted, false, t0);
        p.start(1);
        assert_eq!(p.record(1, EvictionAnswer::Gone, false, t0), Change::Gone);
        assert_eq!(p.observe_gone("uid-a"), Some(0));
        assert_eq!(p.observe_gone("uid-a"), None, "already counted");
        assert_eq!(p.observe_gone("uid-unknown"), None);
        // c disappears while its request is in flight: the late answer does not resurrect it.
        p.start(2);
        assert_eq!(p.observe_gone("uid-c"), Some(2));
        assert_eq!(
            p.record(2, EvictionAnswer::Accepted, false, t0),
            Change::None
        );
        assert!(p.complete());
    }

    #[test]
    fn failures_settle_without_completing_and_skip_wait_applies_to_terminating_pods() {
        let t0 = Instant::now();
        let mut p = DrainProgress::new(vec![tracked("a", &[]), tracked("b", &[])]);
        p.start(0);
        p.record(
            0,
            EvictionAnswer::Failed("500: more than one PodDisruptionBudget".into()),
            false,
            t0,
        );
        p.start(1);
        p.record(1, EvictionAnswer::Accepted, false, t0);
        let limit = Duration::from_secs(30);
        assert!(!p.observe_deleting("uid-b", Duration::from_secs(10), limit));
        assert!(p.observe_deleting("uid-b", Duration::from_secs(31), limit));
        assert!(!p.observe_deleting("uid-b", Duration::from_secs(31), Duration::ZERO));
        assert!(p.settled());
        assert!(!p.complete());
        assert_eq!(p.counts().failed, 1);
        assert_eq!(p.pods[1].fate, PodFate::SkippedWait);
    }

    #[test]
    fn server_dry_run_answers_are_final() {
        let t0 = Instant::now();
        let mut p = DrainProgress::new(vec![tracked("a", &["web/shop"]), tracked("b", &[])]);
        p.start(0);
        p.record(0, blocked(None), true, t0);
        p.start(1);
        p.record(1, EvictionAnswer::Accepted, true, t0);
        assert!(p.settled());
        assert_eq!(p.pods[1].fate, PodFate::WouldGo);
        assert_eq!(p.pods[0].fate.label(), "failed");
        assert!(
            p.pods[0]
                .fate
                .detail()
                .contains("would be refused now: PDB web/shop")
        );
    }
}
