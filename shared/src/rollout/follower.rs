//! Following a rollout on the server: watch the workload, its ReplicaSets and its pods
//! (resuming watches, re-listing after 410 Gone), judge each change with [`assess`], show
//! progress, stop on completion, failure, timeout or Ctrl-C.

use std::fmt;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use futures::stream::{self, BoxStream, StreamExt};
use jiff::Timestamp;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Api;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::assess::{AssessContext, Assessment, DEFAULT_UNSCHEDULABLE_GRACE, RolloutFailure};
use super::assess::{assess, assess_statefulset};
use super::progress::Progress;
use crate::cli::Interrupt;
use crate::error::{Error, KubeResultExt, Op, Result, from_kube};
use crate::pods::POD_TEMPLATE_HASH_LABEL;
use crate::workload::{self, CONTROLLER_REVISION_LABEL, WorkloadKind};

/// How often the verdict is re-taken without any change (grace periods, elapsed time).
const TICK: Duration = Duration::from_secs(2);

/// How a followed rollout ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RolloutOutcome {
    /// Complete by kubectl's rules, with no failing new pod.
    Complete {
        revision: Option<String>,
        #[serde(with = "secs")]
        elapsed: Duration,
    },
    /// Failed, with the cause.
    Failed {
        cause: RolloutFailure,
        #[serde(with = "secs")]
        elapsed: Duration,
    },
    /// Neither within the timeout; the last status line seen.
    TimedOut {
        #[serde(with = "secs")]
        elapsed: Duration,
        last_status: String,
    },
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_millis() as f64) / 1000.0)
    }
}

impl RolloutOutcome {
    /// True when the rollout completed.
    pub fn is_complete(&self) -> bool {
        matches!(self, RolloutOutcome::Complete { .. })
    }

    /// The suite exit code: 0 when complete, 2 when failed or timed out.
    pub fn exit_code(&self) -> u8 {
        if self.is_complete() {
            crate::exit::OK
        } else {
            crate::exit::FAILED
        }
    }

    /// Time spent following.
    pub fn elapsed(&self) -> Duration {
        match self {
            RolloutOutcome::Complete { elapsed, .. }
            | RolloutOutcome::Failed { elapsed, .. }
            | RolloutOutcome::TimedOut { elapsed, .. } => *elapsed,
        }
    }
}

fn human(d: Duration) -> String {
    crate::time::age(Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH + d)
}

impl fmt::Display for RolloutOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolloutOutcome::Complete { revision, elapsed } => {
                write!(f, "rollout complete")?;
                if let Some(rev) = revision {
                    write!(f, " (revision {rev})")?;
                }
                write!(f, " in {}", human(*elapsed))
            }
            RolloutOutcome::Failed { cause, elapsed } => {
                write!(f, "rollout failed after {}: {cause}", human(*elapsed))
            }
            RolloutOutcome::TimedOut {
                elapsed,
                last_status,
            } => write!(
                f,
                "rollout not finished after {}: {last_status}",
                human(*elapsed)
            ),
        }
    }
}

/// Follows one rollout until it completes, fails or times out.
pub struct RolloutFollower {
    client: kube::Client,
    namespace: String,
    name: String,
    kind: WorkloadKind,
    timeout: Option<Duration>,
    progress: bool,
    interrupt: Option<Interrupt>,
    since: Option<Timestamp>,
    unschedulable_grace: Duration,
}

impl RolloutFollower {
    /// A follower of `kind/name` in `namespace`: no timeout, no progress display, OOM
    /// kills counted from now on.
    pub fn new(
        client: kube::Client,
        namespace: impl Into<String>,
        kind: WorkloadKind,
        name: impl Into<String>,
    ) -> RolloutFollower {
        RolloutFollower {
            client,
            namespace: namespace.into(),
            name: name.into(),
            kind,
            timeout: None,
            progress: false,
            interrupt: None,
            since: Some(Timestamp::now()),
            unschedulable_grace: DEFAULT_UNSCHEDULABLE_GRACE,
        }
    }

    /// Gives up after `timeout` (`None` or zero: wait for ever, as kubectl's `--timeout=0`).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout.filter(|t| !t.is_zero());
        self
    }

    /// Shows progress on stderr (a spinner on a terminal, plain lines otherwise).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Stops with [`Error::Interrupted`] on Ctrl-C.
    pub fn interrupt(mut self, interrupt: Option<Interrupt>) -> Self {
        self.interrupt = interrupt;
        self
    }

    /// OOM kills that ended before `since` are not failures (default: when the follower
    /// was made; set it to when the change was applied, or `None` to count all).
    pub fn since(mut self, since: Option<Timestamp>) -> Self {
        self.since = since;
        self
    }

    /// How long a new pod may stay unschedulable before the rollout fails (default 60s).
    pub fn unschedulable_grace(mut self, grace: Duration) -> Self {
        self.unschedulable_grace = grace;
        self
    }

    /// Watches until the rollout ends. API errors that make following impossible (401,
    /// 403, 404) are returned as errors; passing watch failures are retried with backoff.
    pub async fn follow(&self) -> Result<RolloutOutcome> {
        match self.kind {
            WorkloadKind::Deployment => self.follow_target::<Deployment>().await,
            WorkloadKind::StatefulSet => self.follow_target::<StatefulSet>().await,
        }
    }

    async fn follow_target<K: Target>(&self) -> Result<RolloutOutcome> {
        let started = Instant::now();
        let ns = self.namespace.as_str();
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        let first = api
            .get(&self.name)
            .await
            .during(Op::new("get", K::KIND.resource()).ns(ns).name(&self.name))?;
        let selector = first
            .selector()
            .map(workload::label_selector_string)
            .unwrap_or_default();
        if selector.is_empty() {
            return Err(Error::Failed(format!(
                "{}/{} has no pod selector: nothing to follow",
                K::KIND.word(),
                self.name
            )));
        }

        let by_name = watcher::Config::default().fields(&format!("metadata.name={}", self.name));
        let by_selector = watcher::Config::default().labels(&selector);
        let workload_events = watcher(api, by_name)
            .default_backoff()
            .map(Change::of(K::KIND.resource(), Change::Workload))
            .boxed();
        let rs_events: BoxStream<'static, Change<K>> = if K::USES_REPLICASETS {
            let rs_api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
            watcher(rs_api, by_selector.clone())
                .default_backoff()
                .map(Change::of("replicasets.apps", Change::ReplicaSet))
                .boxed()
        } else {
            stream::pending().boxed()
        };
        let pod_api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let pod_events = watcher(pod_api, by_selector)
            .default_backoff()
            .map(Change::of("pods", Change::Pod))
            .boxed();
        let mut changes = stream::select_all([workload_events, rs_events, pod_events]);

        let mut workloads: Writer<K> = Writer::default();
        let mut replicasets: Writer<ReplicaSet> = Writer::default();
        let mut pods: Writer<Pod> = Writer::default();
        let mut synced = Synced {
            workload: false,
            replicasets: !K::USES_REPLICASETS,
            pods: false,
        };
        let mut progress =
            Progress::new(self.progress, format!("{}/{}", K::KIND.word(), self.name));
        progress.update("waiting for the rollout to start");
        let mut last_error: Option<String> = None;
        let mut tick = tokio::time::interval(TICK);
        let deadline = self.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut interrupt = self.interrupt.clone();

        loop {
            tokio::select! {
                change = changes.next() => match change {
                    Some(Change::Workload(ev)) => {
                        synced.workload |= matches!(ev, watcher::Event::InitDone);
                        workloads.apply_watcher_event(&ev);
                    }
                    Some(Change::ReplicaSet(ev)) => {
                        synced.replicasets |= matches!(ev, watcher::Event::InitDone);
                        replicasets.apply_watcher_event(&ev);
                    }
                    Some(Change::Pod(ev)) => {
                        synced.pods |= matches!(ev, watcher::Event::InitDone);
                        pods.apply_watcher_event(&ev);
                    }
                    Some(Change::Failed(resource, e)) => {
                        if let Some(fatal) = fatal_watch_error(&e, &Op::new("watch", resource).ns(ns)) {
                            return Err(fatal);
                        }
                        last_error = Some(e.to_string());
                    }
                    None => return Err(Error::Failed("the watch streams ended unexpectedly".into())),
                },
                _ = tick.tick() => {}
                _ = sleep_until(deadline) => {
                    let mut last_status = progress.last().unwrap_or("no status yet").to_string();
                    if let Some(e) = &last_error {
                        last_status.push_str(&format!(" (last watch error: {e})"));
                    }
                    return Ok(RolloutOutcome::TimedOut { elapsed: started.elapsed(), last_status });
                }
                _ = wait_interrupt(&mut interrupt) => {
                    return Err(Error::Interrupted(format!(
                        ": stopped following {}/{}; the rollout continues on the server (kubectl rollout status {}/{} -n {ns})",
                        K::KIND.word(), self.name, K::KIND.word(), self.name
                    )));
                }
            }
            if !synced.all() {
                continue;
            }
            let key = kube::runtime::reflector::ObjectRef::<K>::new(&self.name).within(ns);
            let Some(current) = workloads.as_reader().get(&key) else {
                return Err(Error::Failed(format!(
                    "{}/{} was deleted while its rollout was followed",
                    K::KIND.word(),
                    self.name
                )));
            };
            let rss: Vec<ReplicaSet> = replicasets
                .as_reader()
                .state()
                .iter()
                .map(|r| (**r).clone())
                .collect();
            let all_pods: Vec<Pod> = pods
                .as_reader()
                .state()
                .iter()
                .map(|p| (**p).clone())
                .collect();
            let ctx = AssessContext {
                now: Timestamp::now(),
                since: self.since,
                unschedulable_grace: self.unschedulable_grace,
            };
            match current.judge(&rss, &all_pods, &ctx) {
                Assessment::Done(_) => {
                    return Ok(RolloutOutcome::Complete {
                        revision: current.revision(),
                        elapsed: started.elapsed(),
                    });
                }
                Assessment::Failed(cause) => {
                    return Ok(RolloutOutcome::Failed {
                        cause,
                        elapsed: started.elapsed(),
                    });
                }
                Assessment::Unsupported(msg) => {
                    return Err(Error::usage(format!(
                        "{}/{}: {msg}",
                        K::KIND.word(),
                        self.name
                    )));
                }
                Assessment::Progressing(line) => progress.update(&line),
            }
        }
    }
}

/// Which watch streams have delivered their first complete list.
struct Synced {
    workload: bool,
    replicasets: bool,
    pods: bool,
}

impl Synced {
    fn all(&self) -> bool {
        self.workload && self.replicasets && self.pods
    }
}

/// One item of the merged watch streams.
enum Change<K> {
    Workload(watcher::Event<K>),
    ReplicaSet(watcher::Event<ReplicaSet>),
    Pod(watcher::Event<Pod>),
    /// A watch failure on `resource` (RBAC name).
    Failed(String, watcher::Error),
}

impl<K> Change<K> {
    fn of<E>(resource: &str, wrap: fn(E) -> Change<K>) -> impl Fn(watcher::Result<E>) -> Change<K> {
        let resource = resource.to_string();
        move |r| match r {
            Ok(ev) => wrap(ev),
            Err(e) => Change::Failed(resource.clone(), e),
        }
    }
}

/// 401, 403 and 404 do not pass by retrying: following is impossible.
fn fatal_watch_error(e: &watcher::Error, op: &Op) -> Option<Error> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
            if matches!(s.code, 401 | 403 | 404) =>
        {
            Some(from_kube(kube::Error::Api(s.clone()), op))
        }
        _ => None,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn wait_interrupt(interrupt: &mut Option<Interrupt>) {
    match interrupt {
        Some(i) => i.wait().await,
        None => std::future::pending().await,
    }
}

/// A workload kind the follower can watch.
trait Target:
    kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    const KIND: WorkloadKind;
    /// Whether its pods come from ReplicaSets (then those are watched too).
    const USES_REPLICASETS: bool;
    fn selector(&self) -> Option<&LabelSelector>;
    fn revision(&self) -> Option<String>;
    /// The verdict given its ReplicaSets and the pods matching its selector.
    fn judge(&self, rss: &[ReplicaSet], pods: &[Pod], ctx: &AssessContext) -> Assessment;
}

fn pods_with_label(pods: &[Pod], key: &str, value: &str) -> Vec<Pod> {
    pods.iter()
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(key))
                .is_some_and(|v| v == value)
        })
        .cloned()
        .collect()
}

impl Target for Deployment {
    const KIND: WorkloadKind = WorkloadKind::Deployment;
    const USES_REPLICASETS: bool = true;

    fn selector(&self) -> Option<&LabelSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }

    fn revision(&self) -> Option<String> {
        workload::revision(&self.metadata)
    }

    fn judge(&self, rss: &[ReplicaSet], pods: &[Pod], ctx: &AssessContext) -> Assessment {
        let new_pods = workload::new_replicaset(self, rss)
            .and_then(workload::template_hash)
            .map(|hash| pods_with_label(pods, POD_TEMPLATE_HASH_LABEL, hash))
            .unwrap_or_default();
        assess(self, &new_pods, ctx)
    }
}

impl Target for StatefulSet {
    const KIND: WorkloadKind = WorkloadKind::StatefulSet;
    const USES_REPLICASETS: bool = false;

    fn selector(&self) -> Option<&LabelSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }

    fn revision(&self) -> Option<String> {
        self.status.as_ref().and_then(|s| s.update_revision.clone())
    }

    fn judge(&self, _rss: &[ReplicaSet], pods: &[Pod], ctx: &AssessContext) -> Assessment {
        let new_pods = self
            .status
            .as_ref()
            .and_then(|s| s.update_revision.as_deref())
            .map(|rev| pods_with_label(pods, CONTROLLER_REVISION_LABEL, rev))
            .unwrap_or_default();
        assess_statefulset(self, &new_pods, ctx)
    }
}
