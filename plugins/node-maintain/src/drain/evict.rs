//! The eviction loop: sends evictions (or deletions) through the Eviction API with bounded
//! concurrency, retries 429 with backoff until `--timeout`, watches the node's pods until the
//! evicted ones are gone, and stops cleanly on Ctrl-C.
//!
//! Evictions are sent by hand rather than with kube's `evict()` (which drops the delete
//! options in kube 5), on a client that does not retry 429 silently (see
//! notes/rust-stack.md). Each eviction carries the planned pod's uid as a precondition, so a
//! replacement of the same name is never evicted by mistake.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::Eviction;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{DeleteOptions, ObjectMeta, Preconditions};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use runbook::cli::Interrupt;
use runbook::{Error, Op};
use tokio::time::{Instant, sleep_until};

use crate::drain::progress::{Change, DrainProgress, EvictionAnswer};
use crate::drain::report::Reporter;

/// How to remove the pods.
#[derive(Clone, Debug)]
pub struct EvictSettings {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// `--grace-period` (None: the pod's own).
    pub grace_period: Option<u32>,
    /// Server-side dry run: send with dryRun=All, do not wait.
    pub dry_run: bool,
    /// Delete instead of evict.
    pub disable_eviction: bool,
    /// Give up after this long (None: never).
    pub timeout: Option<Duration>,
    /// `--skip-wait-for-delete-timeout` (zero: always wait).
    pub skip_wait: Duration,
}

/// Why the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every pod reached a final state (done or failed).
    Settled,
    /// `--timeout` passed first.
    TimedOut,
    /// Ctrl-C.
    Interrupted,
}

/// The PDB name in a 429's causes ("The disruption budget shop needs 2 healthy pods...").
pub fn pdb_from_status(status: &kube::core::Status) -> Option<String> {
    status
        .details
        .as_ref()?
        .causes
        .iter()
        .filter(|c| c.reason == "DisruptionBudget" || c.message.contains("disruption budget"))
        .find_map(|c| {
            let rest = c.message.split_once("disruption budget ")?.1;
            rest.split_whitespace().next().map(str::to_string)
        })
}

/// The API's answer to an eviction or deletion, as the drain reads it.
pub fn classify(result: Result<(), kube::Error>) -> EvictionAnswer {
    let status = match result {
        Ok(()) => return EvictionAnswer::Accepted,
        Err(kube::Error::Api(status)) => status,
        Err(other) => return EvictionAnswer::Failed(other.to_string()),
    };
    match status.code {
        404 => EvictionAnswer::Gone,
        // The uid precondition failed: the name belongs to a replacement now.
        409 if status.message.contains("recondition") || status.message.contains("UID") => {
            EvictionAnswer::Gone
        }
        429 => EvictionAnswer::Blocked {
            pdb: pdb_from_status(&status),
            message: status.message.clone(),
        },
        500 if status.message.contains("more than one PodDisruptionBudget") => {
            EvictionAnswer::Failed(format!(
                "covered by more than one PodDisruptionBudget: the API refuses to evict it \
                 ({})",
                status.message
            ))
        }
        code => EvictionAnswer::Failed(format!("{} ({code} {})", status.message, status.reason)),
    }
}

async fn send(api: Api<Pod>, name: String, uid: String, settings: EvictSettings) -> EvictionAnswer {
    let preconditions = (!uid.is_empty()).then(|| Preconditions {
        uid: Some(uid.clone()),
        resource_version: None,
    });
    let result = if settings.disable_eviction {
        let dp = DeleteParams {
            dry_run: settings.dry_run,
            grace_period_seconds: settings.grace_period,
            preconditions: preconditions.map(|p| kube::api::Preconditions {
                uid: p.uid,
                resource_version: None,
            }),
            ..Default::default()
        };
        api.delete(&name, &dp).await.map(|_| ())
    } else {
        let body = Eviction {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: api.namespace().map(str::to_string),
                ..Default::default()
            },
            delete_options: Some(DeleteOptions {
                grace_period_seconds: settings.grace_period.map(i64::from),
                preconditions,
                dry_run: settings.dry_run.then(|| vec!["All".to_string()]),
                ..Default::default()
            }),
        };
        let pp = PostParams {
            dry_run: settings.dry_run,
            field_manager: None,
        };
        api.create_subresource::<_, serde_json::Value>("eviction", &name, &pp, &body)
            .await
            .map(|_| ())
    };
    classify(result)
}

/// The uid of a pod object.
fn uid_of(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

/// Applies one watch event to the progress; returns the indices of pods now gone.
fn on_watch_event(
    event: watcher::Event<Pod>,
    progress: &mut DrainProgress,
    listing: &mut Option<Vec<String>>,
    deleting_since: &mut BTreeMap<String, jiff::Timestamp>,
) -> Vec<usize> {
    let mut gone = Vec::new();
    let mut seen = |pod: &Pod, deleting_since: &mut BTreeMap<String, jiff::Timestamp>| {
        let uid = uid_of(pod);
        if let Some(t) = pod.metadata.deletion_timestamp.as_ref() {
            deleting_since.insert(uid.clone(), t.0);
        }
        // A pod of the same name with another uid replaced the one we planned for.
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let replaced: Vec<String> = progress
            .pods
            .iter()
            .filter(|p| p.namespace == ns && p.name == name && p.uid != uid && !p.uid.is_empty())
            .map(|p| p.uid.clone())
            .collect();
        replaced
            .iter()
            .filter_map(|u| progress.observe_gone(u))
            .collect::<Vec<_>>()
    };
    match event {
        watcher::Event::Init => *listing = Some(Vec::new()),
        watcher::Event::InitApply(pod) => {
            gone.extend(seen(&pod, deleting_since));
            if let Some(l) = listing.as_mut() {
                l.push(uid_of(&pod));
            }
        }
        watcher::Event::InitDone => {
            if let Some(present) = listing.take() {
                let missing: Vec<String> = progress
                    .pods
                    .iter()
                    .filter(|p| !present.contains(&p.uid))
                    .map(|p| p.uid.clone())
                    .collect();
                gone.extend(missing.iter().filter_map(|u| progress.observe_gone(u)));
            }
        }
        watcher::Event::Apply(pod) => gone.extend(seen(&pod, deleting_since)),
        watcher::Event::Delete(pod) => gone.extend(progress.observe_gone(&uid_of(&pod))),
    }
    gone
}

/// The suite's error for a watch failure the drain cannot wait out: refused (403) or
/// unauthorised (401). Other failures are retried by the watcher's backoff.
fn fatal_watch_error(err: watcher::Error) -> Option<Error> {
    let (e, verb) = match err {
        watcher::Error::InitialListFailed(e) => (e, "list"),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => (e, "watch"),
        watcher::Error::WatchError(status) => (kube::Error::Api(status), "watch"),
        watcher::Error::NoResourceVersion => return None,
    };
    match &e {
        kube::Error::Api(status) if matches!(status.code, 401 | 403) => {
            Some(runbook::error::from_kube(e, &Op::new(verb, "pods")))
        }
        _ => None,
    }
}

/// Runs evictions until every pod is settled, `--timeout` passes, or Ctrl-C; fails at once
/// when watching the node's pods is refused (403) or unauthorised (401).
pub async fn run_evictions(
    client: &Client,
    node: &str,
    progress: &mut DrainProgress,
    settings: &EvictSettings,
    interrupt: &mut Interrupt,
    reporter: &Reporter,
) -> Result<Stop, Error> {
    let started = Instant::now();
    let deadline = settings.timeout.map(|t| started + t);
    let mut watch = if settings.dry_run {
        futures::stream::pending().boxed()
    } else {
        let api: Api<Pod> = Api::all(client.clone());
        let cfg = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
        watcher(api, cfg).default_backoff().boxed()
    };
    let mut listing: Option<Vec<String>> = None;
    let mut deleting_since: BTreeMap<String, jiff::Timestamp> = BTreeMap::new();
    let mut in_flight = FuturesUnordered::new();
    let mut stop: Option<Stop> = None;
    let mut skip_tick = tokio::time::interval(Duration::from_secs(1));
    reporter.update(progress);
    loop {
        if stop.is_none() {
            while in_flight.len() < settings.concurrency {
                let Some(i) = progress.next_ready(Instant::now()) else {
                    break;
                };
                progress.start(i);
                let p = &progress.pods[i];
                reporter.line(&format!("evicting pod {}", p.key()));
                let api: Api<Pod> = Api::namespaced(client.clone(), &p.namespace);
                let fut = send(api, p.name.clone(), p.uid.clone(), settings.clone());
                in_flight.push(fut.map(move |answer| (i, answer)));
            }
        }
        if in_flight.is_empty() {
            if let Some(s) = stop {
                return Ok(s);
            }
            if progress.settled() {
                return Ok(Stop::Settled);
            }
        }
        let retry_at = progress.next_retry();
        tokio::select! {
            Some((i, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                let change = progress.record(i, answer, settings.dry_run, Instant::now());
                reporter.change(progress, i, &change);
            }
            Some(event) = watch.next() => {
                match event {
                    Ok(event) => {
                        for i in on_watch_event(event, progress, &mut listing, &mut deleting_since) {
                            reporter.change(progress, i, &Change::Gone);
                        }
                    }
                    Err(e) => {
                        if let Some(fatal) = fatal_watch_error(e) {
                            return Err(fatal);
                        }
                    }
                }
            }
            _ = skip_tick.tick(), if !settings.skip_wait.is_zero() => {
                let now = jiff::Timestamp::now();
                for (uid, since) in &deleting_since {
                    let age = now.duration_since(*since).unsigned_abs();
                    if progress.observe_deleting(uid, age, settings.skip_wait) {
                        reporter.update(progress);
                    }
                }
            }
            _ = sleep_until(retry_at.unwrap_or(started)), if retry_at.is_some() && stop.is_none() => {}
            _ = sleep_until(deadline.unwrap_or(started)), if deadline.is_some() && stop.is_none() => {
                stop = Some(Stop::TimedOut);
            }
            _ = interrupt.wait(), if stop.is_none() => {
                reporter.line("interrupted: no new evictions are sent");
                stop = Some(Stop::Interrupted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::{Status, response::StatusCause, response::StatusDetails};

    fn api_error(code: u16, reason: &str, message: &str, causes: Vec<StatusCause>) -> kube::Error {
        let mut s = Status::failure(message, reason).with_code(code);
        if !causes.is_empty() {
            s = s.with_details(StatusDetails {
                name: "shop".into(),
                group: "policy".into(),
                kind: "poddisruptionbudgets".into(),
                uid: String::new(),
                causes,
                retry_after_seconds: 0,
            });
        }
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn a_429_names_the_pdb_from_its_cause() {
        let cause = StatusCause {
            reason: "DisruptionBudget".into(),
            message: "The disruption budget shop needs 2 healthy pods and has 2 currently".into(),
            field: String::new(),
        };
        let answer = classify(Err(api_error(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
            vec![cause],
        )));
        assert_eq!(
            answer,
            EvictionAnswer::Blocked {
                pdb: Some("shop".into()),
                message: "Cannot evict pod as it would violate the pod's disruption budget.".into()
            }
        );
        let bare = classify(Err(api_error(429, "TooManyRequests", "slow down", vec![])));
        assert!(matches!(bare, EvictionAnswer::Blocked { pdb: None, .. }));
    }

    #[test]
    fn not_found_and_replaced_count_as_gone_and_overlap_fails() {
        assert_eq!(classify(Ok(())), EvictionAnswer::Accepted);
        assert_eq!(
            classify(Err(api_error(
                404,
                "NotFound",
                "pods \"a\" not found",
                vec![]
            ))),
            EvictionAnswer::Gone
        );
        assert_eq!(
            classify(Err(api_error(
                409,
                "Conflict",
                "Precondition failed: UID in precondition: x, UID in object meta: y",
                vec![]
            ))),
            EvictionAnswer::Gone
        );
        let overlap = classify(Err(api_error(
            500,
            "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            vec![],
        )));
        assert!(
            matches!(overlap, EvictionAnswer::Failed(m) if m.starts_with("covered by more than one"))
        );
        let forbidden = classify(Err(api_error(
            403,
            "Forbidden",
            "cannot create pods/eviction",
            vec![],
        )));
        assert_eq!(
            forbidden,
            EvictionAnswer::Failed("cannot create pods/eviction (403 Forbidden)".into())
        );
    }

    fn pod_event(name: &str, uid: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "web", "uid": uid}}))
        .unwrap()
    }

    #[test]
    fn watch_events_mark_deleted_replaced_and_vanished_pods() {
        use crate::drain::progress::{PodFate, TrackedPod};
        let tracked = |name: &str| TrackedPod {
            fate: PodFate::Terminating,
            ..TrackedPod::new("web", name, &format!("uid-{name}"), vec![])
        };
        let mut progress =
            DrainProgress::new(vec![tracked("a"), tracked("b"), tracked("c"), tracked("d")]);
        let mut listing = None;
        let mut deleting = BTreeMap::new();
        let mut feed = |e| on_watch_event(e, &mut progress, &mut listing, &mut deleting);
        assert!(feed(watcher::Event::Init).is_empty());
        assert!(feed(watcher::Event::InitApply(pod_event("a", "uid-a"))).is_empty());
        assert!(feed(watcher::Event::InitApply(pod_event("b", "uid-b"))).is_empty());
        assert!(feed(watcher::Event::InitApply(pod_event("c", "uid-c"))).is_empty());
        assert_eq!(
            feed(watcher::Event::InitDone),
            [3],
            "d was gone before the watch"
        );
        assert_eq!(feed(watcher::Event::Delete(pod_event("a", "uid-a"))), [0]);
        assert_eq!(
            feed(watcher::Event::Apply(pod_event("b", "uid-b2"))),
            [1],
            "b replaced"
        );
        assert!(feed(watcher::Event::Apply(pod_event("c", "uid-c"))).is_empty());
        assert_eq!(progress.counts().gone, 3);
    }
}
