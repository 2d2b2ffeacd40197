//! The drain plan, computed before anything changes: a verdict for every pod on the node
//! (kubectl drain's filters, in its order) and the blockers `kubectl drain` only discovers
//! while looping: PodDisruptionBudgets allowing 0 disruptions, workloads whose every ready
//! replica is on the node, and no room elsewhere for the evicted pods.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use runbook::Finding;
use runbook::findings::Severity;
use runbook::pods::{OwnerKind, controller_ref, is_mirror_pod, is_pod_ready, owner_of};
use serde::Serialize;

use crate::checks::conditions::ready_status;
use crate::fetch::{DrainSnapshot, node_name};
use crate::maintenance::is_unschedulable;
use crate::resources::{Resources, allocatable, holds_resources, pod_requests};
use crate::selector::{node_selector_matches, selects, untolerated_taints};

/// How many pod names a blocker message lists before "and N more".
const NAMES_SHOWN: usize = 5;

/// The drain flags that change verdicts.
#[derive(Clone, Copy, Debug, Default)]
pub struct DrainOptions {
    /// `--ignore-daemonsets`.
    pub ignore_daemonsets: bool,
    /// `--delete-emptydir-data`.
    pub delete_emptydir_data: bool,
    /// `--force`.
    pub force: bool,
    /// `--disable-eviction`: delete instead of evict.
    pub disable_eviction: bool,
    /// `--skip-wait-for-delete-timeout` in seconds (0: off).
    pub skip_wait_for_delete_timeout: u64,
}

/// Why a pod stays on the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// Managed by a DaemonSet (`--ignore-daemonsets`).
    DaemonSet,
    /// The API mirror of a static pod: the kubelet owns it.
    Mirror,
    /// Its deletion began longer ago than `--skip-wait-for-delete-timeout`.
    DeletedLongAgo,
}

/// Why the drain refuses to start because of a pod (a flag would allow it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RefuseReason {
    /// A DaemonSet pod with `--ignore-daemonsets=false`.
    DaemonSet,
    /// A DaemonSet pod whose DaemonSet is gone, without `--force`.
    OrphanedDaemonSet,
    /// emptyDir data, without `--delete-emptydir-data`.
    EmptyDir,
    /// No controller, without `--force`.
    NoController,
}

impl RefuseReason {
    /// The flag that overrides this refusal.
    pub fn flag(&self) -> &'static str {
        match self {
            RefuseReason::DaemonSet => "--ignore-daemonsets",
            RefuseReason::EmptyDir => "--delete-emptydir-data",
            RefuseReason::OrphanedDaemonSet | RefuseReason::NoController => "--force",
        }
    }
}

/// What happens to one pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "reasons", rename_all = "camelCase")]
pub enum Verdict {
    /// Evicted through the Eviction API (PDBs apply).
    Evict,
    /// Deleted (`--disable-eviction`: PDBs do not apply).
    Delete,
    /// Left alone.
    Skip(SkipReason),
    /// The drain refuses to start: each reason with the flag that overrides it. kubectl stops
    /// at the first reason; listing them all saves a round of retries.
    Refuse(Vec<RefuseReason>),
}

impl Verdict {
    /// True for pods the drain removes.
    pub fn removes(&self) -> bool {
        matches!(self, Verdict::Evict | Verdict::Delete)
    }
}

/// One pod of the plan.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedPod {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID, to tell the pod from a replacement of the same name.
    pub uid: String,
    /// `Kind/name` of the top-level owner, or `<none>`.
    pub owner: String,
    /// What happens to it.
    pub verdict: Verdict,
    /// Consequences worth saying (data lost, gone for good, already terminating).
    pub notes: Vec<String>,
    /// PodDisruptionBudgets covering it.
    pub pdbs: Vec<String>,
    /// Its requests (for the room check).
    pub requests: Resources,
    /// True when a controller recreates it elsewhere.
    pub replaced: bool,
    /// True when the pod already finished (Succeeded/Failed).
    pub finished: bool,
}

impl PlannedPod {
    /// `ns/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The WHY column: skip or refusal reasons, then notes.
    pub fn why(&self) -> String {
        let mut parts: Vec<String> = match &self.verdict {
            Verdict::Skip(SkipReason::DaemonSet) => {
                vec!["DaemonSet pod (--ignore-daemonsets)".into()]
            }
            Verdict::Skip(SkipReason::Mirror) => vec!["static pod: the kubelet owns it".into()],
            Verdict::Skip(SkipReason::DeletedLongAgo) => {
                vec!["deletion began long ago (--skip-wait-for-delete-timeout)".into()]
            }
            Verdict::Refuse(reasons) => reasons
                .iter()
                .map(|r| {
                    let what = match r {
                        RefuseReason::DaemonSet => "DaemonSet pod",
                        RefuseReason::OrphanedDaemonSet => "its DaemonSet is gone",
                        RefuseReason::EmptyDir => "emptyDir data",
                        RefuseReason::NoController => "no controller",
                    };
                    format!("{what}: needs {}", r.flag())
                })
                .collect(),
            Verdict::Evict | Verdict::Delete => Vec::new(),
        };
        parts.extend(self.notes.iter().cloned());
        if !self.pdbs.is_empty() && self.verdict == Verdict::Evict {
            parts.push(format!("PDB {}", self.pdbs.join(", ")));
        }
        parts.join("; ")
    }
}

/// The plan: every pod's verdict and the blockers found.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainPlan {
    /// The node.
    pub node: String,
    /// True when the node was cordoned before this command.
    pub was_unschedulable: bool,
    /// True when DaemonSet pods are left because `--ignore-daemonsets` defaults on.
    pub ignore_daemonsets_default: bool,
    /// Every pod on the node, in namespace/name order.
    pub pods: Vec<PlannedPod>,
    /// Blockers and risks (`drain.*`), worst first.
    pub findings: Vec<Finding>,
}

impl DrainPlan {
    /// Pods the drain evicts or deletes.
    pub fn to_remove(&self) -> impl Iterator<Item = &PlannedPod> {
        self.pods.iter().filter(|p| p.verdict.removes())
    }

    /// Pods left alone.
    pub fn skipped(&self) -> impl Iterator<Item = &PlannedPod> {
        self.pods
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::Skip(_)))
    }

    /// Pods that stop the drain from starting.
    pub fn refused(&self) -> impl Iterator<Item = &PlannedPod> {
        self.pods
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::Refuse(_)))
    }

    /// The flags that would let the drain start, deduplicated.
    pub fn missing_flags(&self) -> Vec<&'static str> {
        let set: BTreeSet<&'static str> = self
            .pods
            .iter()
            .filter_map(|p| match &p.verdict {
                Verdict::Refuse(r) => Some(r.iter().map(RefuseReason::flag)),
                _ => None,
            })
            .flatten()
            .collect();
        set.into_iter().collect()
    }
}

fn is_finished(pod: &Pod) -> bool {
    !holds_resources(pod)
}

fn has_empty_dir(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|v| v.iter().any(|v| v.empty_dir.is_some()))
}

fn deleted_long_ago(pod: &Pod, timeout_secs: u64, now: Timestamp) -> bool {
    let Some(t) = pod.metadata.deletion_timestamp.as_ref() else {
        return false;
    };
    timeout_secs > 0 && now.duration_since(t.0) > SignedDuration::from_secs(timeout_secs as i64)
}

/// The verdict for one pod, with notes, following kubectl's filter order: deleted long ago →
/// DaemonSet → mirror → emptyDir → no controller. Finished pods always go.
fn verdict_for(
    pod: &Pod,
    daemonsets: &[DaemonSet],
    opts: &DrainOptions,
    now: Timestamp,
) -> (Verdict, Vec<String>) {
    let finished = is_finished(pod);
    let removal = if opts.disable_eviction {
        Verdict::Delete
    } else {
        Verdict::Evict
    };
    let mut notes = Vec::new();
    if deleted_long_ago(pod, opts.skip_wait_for_delete_timeout, now) {
        return (Verdict::Skip(SkipReason::DeletedLongAgo), notes);
    }
    let ctrl = controller_ref(&pod.metadata);
    if let Some(ds) = ctrl.filter(|c| c.kind == "DaemonSet")
        && !finished
    {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let exists = daemonsets.iter().any(|d| {
            d.metadata.name.as_deref() == Some(ds.name.as_str())
                && d.metadata.namespace.as_deref() == Some(ns)
        });
        if !exists {
            if !opts.force {
                return (
                    Verdict::Refuse(vec![RefuseReason::OrphanedDaemonSet]),
                    notes,
                );
            }
            notes.push(format!("orphaned: DaemonSet {} is gone", ds.name));
        } else if opts.ignore_daemonsets {
            return (Verdict::Skip(SkipReason::DaemonSet), notes);
        } else {
            return (Verdict::Refuse(vec![RefuseReason::DaemonSet]), notes);
        }
    }
    if is_mirror_pod(pod) {
        return (Verdict::Skip(SkipReason::Mirror), notes);
    }
    if finished {
        notes.push("finished".into());
        return (removal, notes);
    }
    let mut refusals = Vec::new();
    if has_empty_dir(pod) {
        if opts.delete_emptydir_data {
            notes.push("emptyDir data is lost".into());
        } else {
            refusals.push(RefuseReason::EmptyDir);
        }
    }
    if ctrl.is_none() {
        if opts.force {
            notes.push("no controller: gone for good".into());
        } else {
            refusals.push(RefuseReason::NoController);
        }
    }
    if pod.metadata.deletion_timestamp.is_some() {
        notes.push("already terminating".into());
    }
    if refusals.is_empty() {
        (removal, notes)
    } else {
        (Verdict::Refuse(refusals), notes)
    }
}

fn pdb_key(pdb: &PodDisruptionBudget) -> String {
    format!(
        "{}/{}",
        pdb.metadata.namespace.as_deref().unwrap_or_default(),
        pdb.metadata.name.as_deref().unwrap_or_default()
    )
}

/// The PDBs whose selector covers `pod` (same namespace; a PDB without selector covers
/// nothing, an empty selector everything).
pub fn pdbs_covering<'a>(
    pod: &Pod,
    pdbs: &'a [PodDisruptionBudget],
) -> Vec<&'a PodDisruptionBudget> {
    let ns = pod.metadata.namespace.as_deref();
    pdbs.iter()
        .filter(|b| b.metadata.namespace.as_deref() == ns)
        .filter(|b| {
            b.spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .is_some_and(|sel| selects(sel, pod.metadata.labels.as_ref()))
        })
        .collect()
}

/// Computes the plan. Pure: everything comes from the snapshot.
pub fn build_plan(snap: &DrainSnapshot, opts: &DrainOptions) -> DrainPlan {
    let node = snap.node.metadata.name.clone().unwrap_or_default();
    let mut pods: Vec<&Pod> = snap.node_pods.iter().collect();
    pods.sort_by_key(|p| (p.metadata.namespace.clone(), p.metadata.name.clone()));
    let planned: Vec<PlannedPod> = pods
        .iter()
        .map(|pod| {
            let (verdict, notes) = verdict_for(pod, &snap.daemonsets, opts, snap.now);
            let owner = owner_of(pod, &[]);
            let replaced = !matches!(
                owner.kind,
                OwnerKind::None | OwnerKind::DaemonSet | OwnerKind::Node
            );
            PlannedPod {
                namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                name: pod.metadata.name.clone().unwrap_or_default(),
                uid: pod.metadata.uid.clone().unwrap_or_default(),
                owner: owner.reference(),
                verdict,
                notes,
                pdbs: pdbs_covering(pod, &snap.pdbs)
                    .iter()
                    .map(|b| pdb_key(b))
                    .collect(),
                requests: pod_requests(pod),
                replaced,
                finished: is_finished(pod),
            }
        })
        .collect();
    let has_daemonset_pods = planned
        .iter()
        .any(|p| p.verdict == Verdict::Skip(SkipReason::DaemonSet));
    let mut plan = DrainPlan {
        node: node.clone(),
        was_unschedulable: is_unschedulable(&snap.node),
        ignore_daemonsets_default: opts.ignore_daemonsets && has_daemonset_pods,
        pods: planned,
        findings: Vec::new(),
    };
    let mut findings = refusal_findings(&plan, opts);
    findings.extend(pdb_findings(snap, &plan, opts));
    findings.extend(last_replica_findings(snap, &plan));
    findings.extend(room_findings(snap, &plan));
    runbook::findings::sort_findings(&mut findings);
    plan.findings = findings;
    plan
}

fn list_names<'a>(names: impl Iterator<Item = &'a PlannedPod>) -> String {
    let all: Vec<String> = names.map(PlannedPod::key).collect();
    let mut shown = all
        .iter()
        .take(NAMES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > NAMES_SHOWN {
        shown.push_str(&format!(" and {} more", all.len() - NAMES_SHOWN));
    }
    shown
}

/// DaemonSet, bare and emptyDir pods: critical when they stop the drain, else what is lost.
fn refusal_findings(plan: &DrainPlan, opts: &DrainOptions) -> Vec<Finding> {
    let subject = format!("node/{}", plan.node);
    let refused_for = |reason: RefuseReason| {
        plan.pods.iter().filter(move |p| match &p.verdict {
            Verdict::Refuse(r) => r.contains(&reason),
            _ => false,
        })
    };
    let noted = |note: &'static str| {
        plan.pods
            .iter()
            .filter(move |p| p.verdict.removes() && p.notes.iter().any(|n| n.starts_with(note)))
    };
    let mut out = Vec::new();
    let mut push =
        |id: &str, severity: Severity, pods: Vec<&PlannedPod>, what: String, hint: String| {
            if !pods.is_empty() {
                out.push(Finding::new(
                    severity,
                    id,
                    subject.clone(),
                    format!(
                        "{} pod(s) {what}: {}",
                        pods.len(),
                        list_names(pods.into_iter())
                    ),
                    hint,
                ));
            }
        };
    push(
        "drain.daemonset",
        Severity::Critical,
        refused_for(RefuseReason::DaemonSet).collect(),
        "managed by a DaemonSet, and --ignore-daemonsets=false refuses them".into(),
        "drop --ignore-daemonsets=false: DaemonSet pods stay and are recreated at once anyway"
            .into(),
    );
    let mut bare: Vec<&PlannedPod> = refused_for(RefuseReason::NoController).collect();
    bare.extend(refused_for(RefuseReason::OrphanedDaemonSet));
    push(
        "drain.bare-pod",
        Severity::Critical,
        bare,
        "have no controller: the drain refuses to start".into(),
        "they are gone for good once deleted: recreate them elsewhere first (better: under a \
         Deployment), then add --force"
            .into(),
    );
    if opts.force {
        push(
            "drain.bare-pod",
            Severity::Warning,
            noted("no controller").chain(noted("orphaned")).collect(),
            "have no controller and are deleted for good (--force)".into(),
            "recreate them elsewhere from their manifests if they are still needed".into(),
        );
    }
    push(
        "drain.emptydir",
        Severity::Critical,
        refused_for(RefuseReason::EmptyDir).collect(),
        "keep data in emptyDir volumes: the drain refuses to start".into(),
        "that data is lost with the pod: if it is only a cache, add --delete-emptydir-data \
         (the old --delete-local-data)"
            .into(),
    );
    if opts.delete_emptydir_data {
        push(
            "drain.emptydir",
            Severity::Info,
            noted("emptyDir").collect(),
            "lose their emptyDir data (--delete-emptydir-data)".into(),
            String::new(),
        );
    }
    out
}

/// PDBs allowing 0 disruptions now, PDBs that let the pods go one batch at a time, and pods
/// covered by two PDBs.
fn pdb_findings(snap: &DrainSnapshot, plan: &DrainPlan, opts: &DrainOptions) -> Vec<Finding> {
    if opts.disable_eviction {
        return Vec::new();
    }
    let mut out = Vec::new();
    let pod_by_key: BTreeMap<String, &Pod> = snap
        .node_pods
        .iter()
        .map(|p| {
            (
                format!(
                    "{}/{}",
                    p.metadata.namespace.as_deref().unwrap_or_default(),
                    p.metadata.name.as_deref().unwrap_or_default()
                ),
                p,
            )
        })
        .collect();
    // Eviction ignores PDBs for finished, pending and terminating pods (the API server's
    // canIgnorePDB).
    let guarded = |p: &&PlannedPod| {
        p.verdict == Verdict::Evict
            && !p.finished
            && pod_by_key.get(&p.key()).is_some_and(|pod| {
                pod.metadata.deletion_timestamp.is_none()
                    && pod.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Pending")
            })
    };
    for pdb in &snap.pdbs {
        let key = pdb_key(pdb);
        let covered: Vec<&PlannedPod> = plan
            .pods
            .iter()
            .filter(guarded)
            .filter(|p| p.pdbs.len() == 1 && p.pdbs[0] == key)
            .collect();
        if covered.is_empty() {
            continue;
        }
        let Some(status) = pdb
            .status
            .as_ref()
            .filter(|s| s.observed_generation.is_some())
        else {
            out.push(Finding::warning(
                "drain.pdb-blocks",
                format!("pdb/{key}"),
                format!(
                    "has no status yet (the disruption controller has not evaluated it): the API \
                     may refuse evictions of {}",
                    list_names(covered.into_iter())
                ),
                "check the PDB (`kubectl get pdb -A`) and the kube-controller-manager",
            ));
            continue;
        };
        let allowed = status.disruptions_allowed;
        let healthy = status.current_healthy;
        let desired = status.desired_healthy;
        let expected = status.expected_pods;
        let owners: BTreeSet<&str> = covered.iter().map(|p| p.owner.as_str()).collect();
        let owners = owners.into_iter().collect::<Vec<_>>().join(", ");
        let unready: Vec<&PlannedPod> = covered
            .iter()
            .copied()
            .filter(|p| {
                pod_by_key
                    .get(&p.key())
                    .is_some_and(|pod| !is_pod_ready(pod))
            })
            .collect();
        let always_allow = pdb
            .spec
            .as_ref()
            .and_then(|s| s.unhealthy_pod_eviction_policy.as_deref())
            == Some("AlwaysAllow");
        let numbers = format!("{healthy} healthy of {expected} expected, needs {desired}");
        if allowed <= 0 {
            let never = expected <= desired;
            let mut hint = if never {
                format!(
                    "it can never allow one as it stands: scale {owners} up first (so a replica \
                     runs elsewhere), or relax the PDB (maxUnavailable: 1)"
                )
            } else {
                format!(
                    "the drain waits until {} more of its pods are ready; or scale {owners} up",
                    desired + 1 - healthy
                )
            };
            if !unready.is_empty() && !always_allow {
                hint.push_str(&format!(
                    "; {} covered pod(s) are not ready: `unhealthyPodEvictionPolicy: \
                     AlwaysAllow` on the PDB lets unready pods be evicted",
                    unready.len()
                ));
            }
            out.push(Finding::new(
                if never {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                "drain.pdb-blocks",
                format!("pdb/{key}"),
                format!(
                    "allows 0 disruptions now ({numbers}){}: blocks {}",
                    if never {
                        " and never will as it stands"
                    } else {
                        ""
                    },
                    list_names(covered.into_iter())
                ),
                hint,
            ));
        } else if (allowed as usize) < covered.len() {
            out.push(Finding::info(
                "drain.pdb-blocks",
                format!("pdb/{key}"),
                format!(
                    "allows {allowed} disruption(s) now ({numbers}) for {} pods here: they go \
                     {allowed} at a time as replacements become ready",
                    covered.len()
                ),
                "",
            ));
        }
    }
    let overlapping: Vec<&PlannedPod> = plan
        .pods
        .iter()
        .filter(|p| p.verdict == Verdict::Evict && !p.finished && p.pdbs.len() > 1)
        .collect();
    for p in overlapping {
        out.push(Finding::critical(
            "drain.pdb-overlap",
            format!("pod/{}", p.key()),
            format!(
                "covered by {} PodDisruptionBudgets ({}): the API refuses to evict it (500)",
                p.pdbs.len(),
                p.pdbs.join(", ")
            ),
            "make the PDB selectors disjoint so each pod has one budget",
        ));
    }
    out
}

/// `(namespace, owner)` of a pod, for replicated owners only.
fn workload_key(pod: &Pod) -> Option<(String, String)> {
    let owner = owner_of(pod, &[]);
    match owner.kind {
        OwnerKind::None
        | OwnerKind::DaemonSet
        | OwnerKind::Node
        | OwnerKind::Job
        | OwnerKind::CronJob => None,
        _ => Some((
            pod.metadata.namespace.clone().unwrap_or_default(),
            owner.reference(),
        )),
    }
}

/// Workloads whose every ready replica runs on this node (runbook 004's warning).
fn last_replica_findings(snap: &DrainSnapshot, plan: &DrainPlan) -> Vec<Finding> {
    let removed: BTreeSet<String> = plan.to_remove().map(|p| p.uid.clone()).collect();
    let mut ready_total: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut ready_here: BTreeMap<(String, String), usize> = BTreeMap::new();
    for pod in snap.all_pods.iter().filter(|p| is_pod_ready(p)) {
        let Some(key) = workload_key(pod) else {
            continue;
        };
        *ready_total.entry(key.clone()).or_default() += 1;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if node_name(pod) == Some(plan.node.as_str()) && removed.contains(&uid) {
            *ready_here.entry(key).or_default() += 1;
        }
    }
    ready_here
        .into_iter()
        .filter(|(key, here)| ready_total.get(key) == Some(here))
        .map(|((ns, owner), here)| {
            let (kind, name) = owner.split_once('/').unwrap_or((&owner, ""));
            Finding::warning(
                "drain.last-replica",
                format!("{}/{ns}/{name}", kind.to_lowercase()),
                format!(
                    "all {here} ready replica(s) run on node {}: it serves nothing until \
                     replacements are ready elsewhere",
                    plan.node
                ),
                format!(
                    "scale it up first so a replica runs elsewhere (`kubectl scale {}/{name} -n \
                     {ns} --replicas=<one more>`), or accept the outage; a PodDisruptionBudget \
                     would make drains wait instead (runbook 004)",
                    kind.to_lowercase()
                ),
            )
        })
        .collect()
}

/// Free room on one candidate node.
struct Room<'a> {
    node: &'a Node,
    free: Resources,
    free_pods: i64,
}

/// Whether the other schedulable nodes can take the replaced pods' requests: first fit,
/// biggest first, honouring taints, nodeSelector, CPU, memory and pod count. Affinity,
/// topology spread and host ports are not modelled: a pod reported placeable may still wait.
fn room_findings(snap: &DrainSnapshot, plan: &DrainPlan) -> Vec<Finding> {
    let mut to_place: Vec<(&PlannedPod, &Pod)> = plan
        .to_remove()
        .filter(|p| p.replaced && !p.finished)
        .filter_map(|p| {
            let pod = snap
                .node_pods
                .iter()
                .find(|q| q.metadata.uid.as_deref() == Some(p.uid.as_str()))?;
            Some((p, pod))
        })
        .collect();
    if to_place.is_empty() {
        return Vec::new();
    }
    to_place
        .sort_by_key(|(p, _)| std::cmp::Reverse((p.requests.memory_bytes, p.requests.cpu_millis)));
    let mut rooms: Vec<Room> = snap
        .nodes
        .iter()
        .filter(|n| n.metadata.name.as_deref() != Some(plan.node.as_str()))
        .filter(|n| !is_unschedulable(n) && ready_status(n) == "Ready")
        .map(|n| {
            let name = n.metadata.name.as_deref();
            let bound: Vec<&Pod> = snap
                .all_pods
                .iter()
                .filter(|p| node_name(p) == name && holds_resources(p))
                .collect();
            let used = bound
                .iter()
                .map(|p| pod_requests(p))
                .fold(Resources::default(), Resources::plus);
            let max_pods = n
                .status
                .as_ref()
                .and_then(|s| s.allocatable.as_ref())
                .and_then(|a| a.get("pods"))
                .and_then(|q| q.0.parse::<i64>().ok())
                .unwrap_or(110);
            Room {
                node: n,
                free: allocatable(n).minus(used),
                free_pods: max_pods - bound.len() as i64,
            }
        })
        .collect();
    let candidates = rooms.len();
    let mut unplaced: Vec<&PlannedPod> = Vec::new();
    for (planned, pod) in to_place {
        let slot = rooms.iter_mut().find(|r| {
            r.free_pods > 0
                && planned.requests.fits_in(r.free)
                && untolerated_taints(pod, r.node).is_empty()
                && node_selector_matches(pod, r.node)
        });
        match slot {
            Some(r) => {
                r.free = r.free.minus(planned.requests);
                r.free_pods -= 1;
            }
            None => unplaced.push(planned),
        }
    }
    if unplaced.is_empty() {
        return Vec::new();
    }
    let detail: Vec<String> = unplaced
        .iter()
        .take(NAMES_SHOWN)
        .map(|p| {
            if p.requests.is_zero() {
                p.key()
            } else {
                format!("{} ({})", p.key(), p.requests.describe())
            }
        })
        .collect();
    let more = unplaced.len().saturating_sub(NAMES_SHOWN);
    let pods = if more > 0 {
        format!("{} and {more} more", detail.join(", "))
    } else {
        detail.join(", ")
    };
    let message = if candidates == 0 {
        format!(
            "no other node is schedulable (Ready and not cordoned): the replacements of {} \
             evicted pod(s) stay Pending: {pods}",
            unplaced.len()
        )
    } else {
        format!(
            "{} of the evicted pods do not fit on the {candidates} other schedulable node(s) \
             (requests, taints, nodeSelector, pod count): {pods}; their replacements stay Pending",
            unplaced.len()
        )
    };
    vec![Finding::warning(
        "drain.no-room",
        format!("node/{}", plan.node),
        message,
        "add a node or free room before draining, or accept that these wait Pending",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{node, now, pdb, pod};
    use serde_json::json;

    fn snapshot(
        node_pods: Vec<Pod>,
        other_pods: Vec<Pod>,
        pdbs: Vec<PodDisruptionBudget>,
    ) -> DrainSnapshot {
        let ds: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "proxy", "namespace": "kube-system"}}))
        .unwrap();
        let mut all = node_pods.clone();
        all.extend(other_pods);
        DrainSnapshot {
            node: node("n1", json!({})),
            node_pods,
            all_pods: all,
            nodes: vec![node("n1", json!({})), node("n2", json!({}))],
            pdbs,
            daemonsets: vec![ds],
            now: now(),
        }
    }

    fn kinds_of_pods() -> Vec<Pod> {
        vec![
            pod(
                "kube-system",
                "proxy-abc",
                "n1",
                "DaemonSet/proxy",
                json!({}),
            ),
            pod(
                "kube-system",
                "etcd-n1",
                "n1",
                "",
                json!({"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}}),
            ),
            pod("ops", "debug", "n1", "", json!({})),
            pod(
                "web",
                "cache-5f6d-aaaaa",
                "n1",
                "ReplicaSet/cache-5f6d",
                json!({"spec": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}),
            ),
            pod("db", "redis-0", "n1", "StatefulSet/redis", json!({})),
            pod(
                "web",
                "shop-7d9f-bbbbb",
                "n1",
                "ReplicaSet/shop-7d9f",
                json!({"metadata": {"labels": {"pod-template-hash": "7d9f"}}}),
            ),
            pod(
                "batch",
                "report-xyz",
                "n1",
                "Job/report",
                json!({"status": {"phase": "Succeeded"}}),
            ),
            pod(
                "ops",
                "done",
                "n1",
                "",
                json!({"status": {"phase": "Failed"}}),
            ),
            pod("kube-system", "orphan-x", "n1", "DaemonSet/gone", json!({})),
        ]
    }

    fn verdicts(plan: &DrainPlan) -> Vec<(String, Verdict)> {
        plan.pods
            .iter()
            .map(|p| (p.key(), p.verdict.clone()))
            .collect()
    }

    #[test]
    fn default_flags_refuse_like_kubectl_with_every_reason() {
        let plan = build_plan(
            &snapshot(kinds_of_pods(), vec![], vec![]),
            &DrainOptions {
                ignore_daemonsets: true,
                ..Default::default()
            },
        );
        let v = verdicts(&plan);
        let get = |k: &str| v.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(
            get("kube-system/proxy-abc"),
            Verdict::Skip(SkipReason::DaemonSet)
        );
        assert_eq!(
            get("kube-system/etcd-n1"),
            Verdict::Skip(SkipReason::Mirror)
        );
        assert_eq!(
            get("ops/debug"),
            Verdict::Refuse(vec![RefuseReason::NoController])
        );
        assert_eq!(
            get("web/cache-5f6d-aaaaa"),
            Verdict::Refuse(vec![RefuseReason::EmptyDir])
        );
        assert_eq!(get("db/redis-0"), Verdict::Evict);
        assert_eq!(get("web/shop-7d9f-bbbbb"), Verdict::Evict);
        assert_eq!(
            get("batch/report-xyz"),
            Verdict::Evict,
            "finished pods always go"
        );
        assert_eq!(
            get("ops/done"),
            Verdict::Evict,
            "finished bare pods need no --force"
        );
        assert_eq!(
            get("kube-system/orphan-x"),
            Verdict::Refuse(vec![RefuseReason::OrphanedDaemonSet])
        );
        assert_eq!(plan.missing_flags(), ["--delete-emptydir-data", "--force"]);
        assert!(plan.ignore_daemonsets_default);
        let ids: Vec<&str> = plan.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            ids,
            [
                "drain.bare-pod",
                "drain.emptydir",
                "drain.last-replica",
                "drain.last-replica"
            ],
            "redis and shop have no ready replica elsewhere"
        );
        assert!(
            plan.findings[0]
                .message
                .starts_with("2 pod(s) have no controller"),
            "{}",
            plan.findings[0].message
        );
        let shop = plan
            .pods
            .iter()
            .find(|p| p.name.starts_with("shop"))
            .unwrap();
        assert_eq!(shop.owner, "Deployment/shop");
    }

    #[test]
    fn flags_turn_refusals_into_notes() {
        let plan = build_plan(
            &snapshot(kinds_of_pods(), vec![], vec![]),
            &DrainOptions {
                ignore_daemonsets: true,
                delete_emptydir_data: true,
                force: true,
                ..Default::default()
            },
        );
        assert_eq!(plan.refused().count(), 0);
        assert_eq!(plan.to_remove().count(), 7);
        assert_eq!(plan.skipped().count(), 2);
        let debug = plan.pods.iter().find(|p| p.name == "debug").unwrap();
        assert_eq!(debug.why(), "no controller: gone for good");
        let orphan = plan.pods.iter().find(|p| p.name == "orphan-x").unwrap();
        assert_eq!(orphan.verdict, Verdict::Evict);
        let severities: Vec<(&str, Severity)> = plan
            .findings
            .iter()
            .filter(|f| f.check != "drain.last-replica")
            .map(|f| (f.check.as_str(), f.severity))
            .collect();
        assert_eq!(
            severities,
            [
                ("drain.bare-pod", Severity::Warning),
                ("drain.emptydir", Severity::Info)
            ]
        );
    }

    #[test]
    fn daemonsets_refused_when_not_ignored_and_a_bare_emptydir_pod_lists_both_flags() {
        let pods = vec![
            pod(
                "kube-system",
                "proxy-abc",
                "n1",
                "DaemonSet/proxy",
                json!({}),
            ),
            pod(
                "ops",
                "scratch",
                "n1",
                "",
                json!({"spec": {"volumes": [{"name": "d", "emptyDir": {}}]}}),
            ),
        ];
        let plan = build_plan(&snapshot(pods, vec![], vec![]), &DrainOptions::default());
        assert_eq!(
            plan.pods[0].verdict,
            Verdict::Refuse(vec![RefuseReason::DaemonSet])
        );
        assert_eq!(
            plan.pods[1].verdict,
            Verdict::Refuse(vec![RefuseReason::EmptyDir, RefuseReason::NoController])
        );
        assert_eq!(
            plan.pods[1].why(),
            "emptyDir data: needs --delete-emptydir-data; no controller: needs --force"
        );
        assert!(!plan.ignore_daemonsets_default);
        assert!(plan.findings.iter().any(|f| f.check == "drain.daemonset"));
    }

    #[test]
    fn disable_eviction_deletes_and_ignores_pdbs() {
        let pods = vec![pod(
            "web",
            "shop-1",
            "n1",
            "ReplicaSet/shop-7d9f",
            json!({}),
        )];
        let pdbs = vec![pdb("web", "shop", "shop", 0, 1, 1, 1)];
        let plan = build_plan(
            &snapshot(pods, vec![], pdbs),
            &DrainOptions {
                disable_eviction: true,
                ..Default::default()
            },
        );
        assert_eq!(plan.pods[0].verdict, Verdict::Delete);
        assert!(plan.findings.iter().all(|f| f.check != "drain.pdb-blocks"));
    }

    #[test]
    fn deleted_long_ago_is_skipped_only_with_the_timeout() {
        let pods = vec![pod(
            "web",
            "old-1",
            "n1",
            "ReplicaSet/old-1",
            json!({
            "metadata": {"deletionTimestamp": crate::fixtures::ago(10)}}),
        )];
        let plan = build_plan(
            &snapshot(pods.clone(), vec![], vec![]),
            &DrainOptions {
                skip_wait_for_delete_timeout: 60,
                ..Default::default()
            },
        );
        assert_eq!(
            plan.pods[0].verdict,
            Verdict::Skip(SkipReason::DeletedLongAgo)
        );
        let plan = build_plan(&snapshot(pods, vec![], vec![]), &DrainOptions::default());
        assert_eq!(plan.pods[0].verdict, Verdict::Evict);
        assert_eq!(plan.pods[0].notes, ["already terminating"]);
    }

    #[test]
    fn pdbs_that_block_now_never_or_in_batches() {
        let pods = vec![
            pod("web", "shop-1", "n1", "ReplicaSet/shop-7d9f", json!({})),
            pod("web", "shop-2", "n1", "ReplicaSet/shop-7d9f", json!({})),
            pod("db", "redis-0", "n1", "StatefulSet/redis", json!({})),
            pod(
                "api",
                "api-1",
                "n1",
                "ReplicaSet/api-55",
                json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
            ),
            pod(
                "pay",
                "pay-1",
                "n1",
                "ReplicaSet/pay-1",
                json!({"metadata": {"labels": {"app": "pay", "tier": "x"}}}),
            ),
        ];
        let pdbs = vec![
            pdb("web", "shop", "shop", 1, 3, 2, 3),
            pdb("db", "redis", "redis", 0, 1, 1, 1),
            pdb("api", "api", "api", 0, 1, 2, 3),
            pdb("pay", "pay-a", "pay", 1, 1, 0, 1),
            serde_json::from_value(json!({"metadata": {"name": "pay-b", "namespace": "pay"},
                "spec": {"selector": {"matchLabels": {"tier": "x"}}}, "status": {"disruptionsAllowed": 1}})).unwrap(),
        ];
        let plan = build_plan(&snapshot(pods, vec![], pdbs), &DrainOptions::default());
        let f: Vec<(&str, &str, Severity)> = plan
            .findings
            .iter()
            .map(|f| (f.check.as_str(), f.subject.as_str(), f.severity))
            .collect();
        assert!(
            f.contains(&("drain.pdb-blocks", "pdb/db/redis", Severity::Critical)),
            "{f:?}"
        );
        assert!(
            f.contains(&("drain.pdb-blocks", "pdb/api/api", Severity::Warning)),
            "{f:?}"
        );
        assert!(
            f.contains(&("drain.pdb-blocks", "pdb/web/shop", Severity::Info)),
            "{f:?}"
        );
        assert!(
            f.contains(&("drain.pdb-overlap", "pod/pay/pay-1", Severity::Critical)),
            "{f:?}"
        );
        let redis = plan
            .findings
            .iter()
            .find(|f| f.subject == "pdb/db/redis")
            .unwrap();
        assert_eq!(
            redis.message,
            "allows 0 disruptions now (1 healthy of 1 expected, needs 1) and never will as it stands: blocks db/redis-0"
        );
        assert!(redis.hint.contains("scale StatefulSet/redis up"));
        let api = plan
            .findings
            .iter()
            .find(|f| f.subject == "pdb/api/api")
            .unwrap();
        assert!(api.hint.contains("waits until 2 more"), "{}", api.hint);
        assert!(
            api.hint.contains("unhealthyPodEvictionPolicy: AlwaysAllow"),
            "{}",
            api.hint
        );
        let shop = plan.pods.iter().find(|p| p.name == "shop-1").unwrap();
        assert_eq!(shop.why(), "PDB web/shop");
    }

    #[test]
    fn a_pdb_without_status_is_a_warning_not_a_verdict() {
        let pods = vec![pod("web", "shop-1", "n1", "ReplicaSet/shop-1", json!({}))];
        let fresh: PodDisruptionBudget = serde_json::from_value(json!({
            "metadata": {"name": "shop", "namespace": "web"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "shop"}}}}))
        .unwrap();
        let plan = build_plan(
            &snapshot(pods, vec![], vec![fresh]),
            &DrainOptions::default(),
        );
        let f = plan
            .findings
            .iter()
            .find(|f| f.check == "drain.pdb-blocks")
            .unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.starts_with("has no status yet"), "{}", f.message);
    }

    #[test]
    fn last_ready_replicas_on_this_node() {
        let here = vec![
            pod(
                "web",
                "shop-7d9f-a",
                "n1",
                "ReplicaSet/shop-7d9f",
                json!({"metadata": {"labels": {"pod-template-hash": "7d9f"}}}),
            ),
            pod(
                "web",
                "shop-7d9f-b",
                "n1",
                "ReplicaSet/shop-7d9f",
                json!({"metadata": {"labels": {"pod-template-hash": "7d9f"}}}),
            ),
            pod("web", "cart-1", "n1", "ReplicaSet/cart-1", json!({})),
        ];
        let elsewhere = vec![
            pod(
                "web",
                "shop-7d9f-c",
                "n2",
                "ReplicaSet/shop-7d9f",
                json!({"metadata": {"labels": {"pod-template-hash": "7d9f"}},
                "status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
            ),
            pod("web", "cart-2", "n2", "ReplicaSet/cart-1", json!({})),
        ];
        let plan = build_plan(&snapshot(here, elsewhere, vec![]), &DrainOptions::default());
        let last: Vec<&Finding> = plan
            .findings
            .iter()
            .filter(|f| f.check == "drain.last-replica")
            .collect();
        assert_eq!(last.len(), 1, "{:?}", plan.findings);
        assert_eq!(last[0].subject, "deployment/web/shop");
        assert!(
            last[0]
                .message
                .starts_with("all 2 ready replica(s) run on node n1")
        );
        assert!(
            last[0]
                .hint
                .contains("kubectl scale deployment/shop -n web --replicas=<one more>")
        );
    }

    #[test]
    fn no_other_schedulable_node_means_no_room() {
        let pods = vec![pod("web", "shop-1", "n1", "ReplicaSet/shop-1", json!({}))];
        let mut snap = snapshot(pods, vec![], vec![]);
        snap.nodes = vec![
            node("n1", json!({})),
            node("n2", json!({"spec": {"unschedulable": true}})),
        ];
        let plan = build_plan(&snap, &DrainOptions::default());
        let room = plan
            .findings
            .iter()
            .find(|f| f.check == "drain.no-room")
            .unwrap();
        assert!(
            room.message.starts_with("no other node is schedulable"),
            "{}",
            room.message
        );
        assert!(
            room.message
                .ends_with("web/shop-1 (cpu 100m, memory 128Mi)"),
            "{}",
            room.message
        );
    }

    #[test]
    fn room_on_other_nodes_counts_requests_taints_and_selectors() {
        let big = |name: &str, mem: &str, extra: serde_json::Value| {
            let mut p = json!({"spec": {"containers": [{"name": "m", "resources": {"requests": {"cpu": "1", "memory": mem}}}]}});
            crate::fixtures::merge(&mut p, extra);
            pod("web", name, "n1", "ReplicaSet/big-1", p)
        };
        let here = vec![
            big("big-a", "5Gi", json!({})),
            big("big-b", "5Gi", json!({})),
            big(
                "picky",
                "1Gi",
                json!({"spec": {"nodeSelector": {"disk": "ssd"}}}),
            ),
            pod(
                "ops",
                "bare",
                "n1",
                "",
                json!({"spec": {"containers": [{"name": "m", "resources": {"requests": {"memory": "7Gi"}}}]}}),
            ),
        ];
        let elsewhere = vec![pod(
            "web",
            "other",
            "n2",
            "ReplicaSet/x-1",
            json!({
            "spec": {"containers": [{"name": "m", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}]}}),
        )];
        let mut snap = snapshot(here, elsewhere, vec![]);
        snap.nodes.push(node(
            "n3-tainted",
            json!({"spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}}),
        ));
        snap.nodes.push(node(
            "n4-cordoned",
            json!({"spec": {"unschedulable": true}}),
        ));
        let plan = build_plan(
            &snap,
            &DrainOptions {
                force: true,
                ..Default::default()
            },
        );
        let room: Vec<&Finding> = plan
            .findings
            .iter()
            .filter(|f| f.check == "drain.no-room")
            .collect();
        assert_eq!(room.len(), 1, "{:?}", plan.findings);
        assert!(
            room[0]
                .message
                .starts_with("2 of the evicted pods do not fit on the 2 other schedulable node(s)"),
            "{}",
            room[0].message
        );
        assert!(
            room[0].message.contains("web/big-b (cpu 1, memory 5Gi)"),
            "{}",
            room[0].message
        );
        assert!(room[0].message.contains("web/picky"), "{}", room[0].message);
        assert!(
            !room[0].message.contains("ops/bare"),
            "bare pods are not recreated"
        );
    }
}
