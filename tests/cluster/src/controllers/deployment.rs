//! The Deployment controller (`pkg/controller/deployment`): one ReplicaSet per pod template
//! (`<deployment>-<pod-template-hash>`), revisions, rolling updates bounded by maxSurge /
//! maxUnavailable, Recreate, proportional scaling, pausing, history cleanup, and the status with
//! its Available and Progressing conditions.
//!
//! Where it differs: ReplicaSets created in the same second are ordered by revision (the real
//! controller orders by creation time, then name) because the store keeps whole seconds.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::events::{self, Event, Source};
use super::labels::selector_matches;
use super::objects::{self, meta};
use super::{names, rules::Rules};
use crate::store::{DeleteOptions, Store};

const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
/// The API server's default `spec.progressDeadlineSeconds`.
const DEFAULT_PROGRESS_DEADLINE: i64 = 600;
/// The API server's default `spec.revisionHistoryLimit`.
const DEFAULT_REVISION_HISTORY_LIMIT: i64 = 10;

/// One pass over every Deployment.
pub fn reconcile(store: &Store, _rules: &Rules, now: Timestamp) -> bool {
    let (deployments, _) = store.list_shared("deployments", None);
    let mut changed = false;
    for deployment in deployments {
        let namespace = meta(&deployment, "namespace");
        let replicasets = store.list("replicasets", Some(namespace));
        let pods = store.list("pods", Some(namespace));
        let mut sync = DeploymentSync::new(store, (*deployment).clone(), now);
        sync.run(replicasets, &pods);
        changed |= sync.changed;
    }
    changed
}

/// `intstr.GetScaledValueFromIntOrPercent` of a rolling-update bound (absent: the API
/// default, 25%).
pub fn scaled_value(value: Option<&Value>, total: i64, round_up: bool) -> i64 {
    let default = json!("25%");
    crate::eviction::scaled_value(value.unwrap_or(&default), total, round_up).unwrap_or(0)
}

fn replicas(d: &Value) -> i64 {
    objects::int(d, "/spec/replicas", 1)
}

fn is_rolling_update(d: &Value) -> bool {
    matches!(
        objects::text(d, "/spec/strategy/type"),
        "" | "RollingUpdate"
    )
}

/// `ResolveFenceposts`: (maxSurge, maxUnavailable), never both zero.
pub fn fenceposts(d: &Value) -> (i64, i64) {
    let desired = replicas(d);
    let surge = scaled_value(
        d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
        desired,
        true,
    );
    let unavailable = scaled_value(
        d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
        desired,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// `MaxSurge`: 0 unless RollingUpdate.
pub fn max_surge(d: &Value) -> i64 {
    if is_rolling_update(d) {
        fenceposts(d).0
    } else {
        0
    }
}

/// `MaxUnavailable`: 0 unless RollingUpdate with replicas; never more than the replicas.
pub fn max_unavailable(d: &Value) -> i64 {
    if !is_rolling_update(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

fn rs_replicas(rs: &Value) -> i64 {
    objects::int(rs, "/spec/replicas", 1)
}

fn rs_status(rs: &Value, field: &str) -> i64 {
    objects::int(rs, &format!("/status/{field}"), 0)
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

fn revision(rs: &Value) -> i64 {
    annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn set_annotation(obj: &mut Value, key: &str, value: String) -> bool {
    if annotation(obj, key) == Some(value.as_str()) {
        return false;
    }
    let meta = crate::store::metadata_mut(obj);
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if !annotations.is_object() {
        *annotations = json!({});
    }
    annotations[key] = json!(value);
    true
}

/// Creation order; revision breaks ties of the same second, then the name.
fn by_age(a: &Value, b: &Value) -> std::cmp::Ordering {
    meta(a, "creationTimestamp")
        .cmp(meta(b, "creationTimestamp"))
        .then(revision(a).cmp(&revision(b)))
        .then(meta(a, "name").cmp(meta(b, "name")))
}

/// `NewRSNewReplicas`: how big the new ReplicaSet may be now.
pub fn new_rs_new_replicas(d: &Value, all_rs_replicas: i64, new_rs_replicas: i64) -> i64 {
    if !is_rolling_update(d) {
        return replicas(d);
    }
    let max_total = replicas(d) + max_surge(d);
    if all_rs_replicas >= max_total {
        return new_rs_replicas;
    }
    let scale_up = (max_total - all_rs_replicas).min(replicas(d) - new_rs_replicas);
    new_rs_replicas + scale_up
}

/// The state of one deployment's sync: the deployment as it will be written back, its
/// ReplicaSets as they are after this pass's writes.
struct DeploymentSync<'a> {
    store: &'a Store,
    now: Timestamp,
    original: Value,
    d: Value,
    new_rs: Option<usize>,
    replicasets: Vec<Value>,
    changed: bool,
}

impl<'a> DeploymentSync<'a> {
    fn new(store: &'a Store, d: Value, now: Timestamp) -> DeploymentSync<'a> {
        DeploymentSync {
            store,
            now,
            original: d.clone(),
            d,
            new_rs: None,
            replicasets: Vec::new(),
            changed: false,
        }
    }

    fn run(&mut self, namespace_replicasets: Vec<Value>, pods: &[Value]) {
        self.claim_replicasets(namespace_replicasets);
        if objects::is_terminating(&self.d) {
            self.find_new_rs();
            self.sync_deployment_status();
        } else {
            self.check_paused_conditions();
            if self.d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true)
                || self.is_scaling_event()
            {
                self.sync_scale();
            } else if is_rolling_update(&self.d) {
                self.rollout_rolling();
            } else {
                self.rollout_recreate(pods);
            }
        }
        self.write_deployment();
    }

    fn uid(&self) -> String {
        meta(&self.d, "uid").to_string()
    }

    /// The ReplicaSets this deployment controls, adopting orphans that match its selector.
    fn claim_replicasets(&mut self, namespace_replicasets: Vec<Value>) {
        let uid = self.uid();
        let selector = self.d.pointer("/spec/selector").cloned();
        for rs in namespace_replicasets {
            if objects::is_controlled_by(&rs, &uid) {
                self.replicasets.push(rs);
            } else if objects::controller_ref(&rs).is_none()
                && !objects::is_terminating(&self.d)
                && selector_matches(selector.as_ref(), rs.pointer("/metadata/labels"))
            {
                let mut adopted = rs.clone();
                let mut refs = objects::list(&rs, "/metadata/ownerReferences").to_vec();
                refs.push(objects::controller_reference(&self.d));
                adopted["metadata"]["ownerReferences"] = Value::Array(refs);
                if let Ok(adopted) = self.store.update("replicasets", adopted) {
                    self.changed = true;
                    self.replicasets.push(adopted);
                }
            }
        }
        self.replicasets.sort_by(by_age);
    }

    fn find_new_rs(&mut self) {
        let wanted = objects::template_without_hash(
            self.d.pointer("/spec/template").unwrap_or(&Value::Null),
        );
        self.new_rs = self.replicasets.iter().position(|rs| {
            objects::template_without_hash(rs.pointer("/spec/template").unwrap_or(&Value::Null))
                == wanted
        });
    }

    fn old_indices(&self) -> Vec<usize> {
        (0..self.replicasets.len())
            .filter(|i| Some(*i) != self.new_rs)
            .collect()
    }

    fn active_indices(&self) -> Vec<usize> {
        (0..self.replicasets.len())
            .filter(|i| rs_replicas(&self.replicasets[*i]) > 0)
            .collect()
    }

    fn sum_replicas(&self, indices: &[usize]) -> i64 {
        indices
            .iter()
            .map(|i| rs_replicas(&self.replicasets[*i]))
            .sum()
    }

    fn sum_status(&self, indices: &[usize], field: &str) -> i64 {
        indices
            .iter()
            .map(|i| rs_status(&self.replicasets[*i], field))
            .sum()
    }

    fn max_old_revision(&self) -> i64 {
        self.old_indices()
            .iter()
            .map(|i| revision(&self.replicasets[*i]))
            .max()
            .unwrap_or(0)
    }

    /// `getAllReplicaSetsAndSyncRevision`: finds (or creates) the new ReplicaSet and syncs the
    /// revision annotations.
    fn sync_revision(&mut self, create: bool) {
        self.find_new_rs();
        let new_revision = self.max_old_revision() + 1;
        match self.new_rs {
            Some(index) => {
                let mut rs = self.replicasets[index].clone();
                let mut updated = self.set_new_rs_annotations(&mut rs, new_revision, true);
                let min_ready = objects::int(&self.d, "/spec/minReadySeconds", 0);
                if objects::int(&rs, "/spec/minReadySeconds", 0) != min_ready {
                    rs["spec"]["minReadySeconds"] = json!(min_ready);
                    updated = true;
                }
                if updated {
                    if let Ok(written) = self.store.update("replicasets", rs) {
                        self.replicasets[index] = written;
                        self.changed = true;
                    }
                    return;
                }
                let rs_revision = annotation(&self.replicasets[index], REVISION)
                    .unwrap_or("")
                    .to_string();
                set_annotation(&mut self.d, REVISION, rs_revision);
                if self.has_progress_deadline() && self.condition("Progressing").is_none() {
                    let message = format!(
                        "Found new replica set \"{}\"",
                        meta(&self.replicasets[index], "name")
                    );
                    self.set_condition("Progressing", "True", "FoundNewReplicaSet", &message);
                }
            }
            None if create => self.create_new_rs(new_revision),
            None => {}
        }
    }

    /// `SetNewReplicaSetAnnotations`.
    fn set_new_rs_annotations(&self, rs: &mut Value, new_revision: i64, exists: bool) -> bool {
        let mut changed = false;
        if let Some(annotations) = self
            .d
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            for (key, value) in annotations {
                if ANNOTATIONS_TO_SKIP.contains(&key.as_str()) {
                    continue;
                }
                changed |= set_annotation(rs, key, value.as_str().unwrap_or("").to_string());
            }
        }
        let old = annotation(rs, REVISION).map(str::to_string);
        let old_revision: i64 = old.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0);
        if old_revision < new_revision {
            changed |= set_annotation(rs, REVISION, new_revision.to_string());
            if let Some(old) = old {
                let history = match annotation(rs, REVISION_HISTORY) {
                    Some(history) if !history.is_empty() => format!("{history},{old}"),
                    _ => old,
                };
                set_annotation(rs, REVISION_HISTORY, history);
            }
        }
        if !exists {
            changed |= self.set_replicas_annotations(rs);
        }
        changed
    }

    /// `SetReplicasAnnotations`: desired and max replicas of the deployment, on the ReplicaSet.
    fn set_replicas_annotations(&self, rs: &mut Value) -> bool {
        let desired = replicas(&self.d);
        let changed = set_annotation(rs, DESIRED_REPLICAS, desired.to_string());
        set_annotation(rs, MAX_REPLICAS, (desired + max_surge(&self.d)).to_string()) || changed
    }

    fn create_new_rs(&mut self, new_revision: i64) {
        let template = self
            .d
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(json!({}));
        let collisions = objects::int(&self.d, "/status/collisionCount", 0);
        let hash = names::pod_template_hash(&template, collisions);
        let mut template = template;
        let mut labels = template
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        labels["pod-template-hash"] = json!(hash);
        crate::store::metadata_mut(&mut template).insert("labels".into(), labels.clone());
        let mut selector = self
            .d
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or(json!({}));
        let mut match_labels = selector.get("matchLabels").cloned().unwrap_or(json!({}));
        match_labels["pod-template-hash"] = json!(hash);
        selector["matchLabels"] = match_labels;
        let name = format!("{}-{hash}", meta(&self.d, "name"));
        let mut rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": meta(&self.d, "namespace"),
                "labels": labels,
                "ownerReferences": [objects::controller_reference(&self.d)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": objects::int(&self.d, "/spec/minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        });
        let all = self.sum_replicas(&(0..self.replicasets.len()).collect::<Vec<_>>());
        let new_replicas = new_rs_new_replicas(&self.d, all, 0);
        rs["spec"]["replicas"] = json!(new_replicas);
        self.set_new_rs_annotations(&mut rs, new_revision, false);
        let created = match self.store.create("replicasets", rs) {
            Ok(created) => created,
            Err(err) if err.code == 409 => {
                let existing =
                    self.store
                        .get("replicasets", Some(meta(&self.d, "namespace")), &name);
                let same = existing.as_ref().is_some_and(|e| {
                    objects::is_controlled_by(e, &self.uid())
                        && objects::template_without_hash(&e["spec"]["template"])
                            == objects::template_without_hash(&self.d["spec"]["template"])
                });
                if !same {
                    self.d["status"]["collisionCount"] = json!(collisions + 1);
                }
                return;
            }
            Err(_) => return,
        };
        self.changed = true;
        if new_replicas > 0 {
            let message = format!("Scaled up replica set {name} from 0 to {new_replicas}");
            events::record(
                self.store,
                self.now,
                Source::DEPLOYMENT,
                &self.original,
                Event::normal("ScalingReplicaSet", &message),
            );
        }
        set_annotation(&mut self.d, REVISION, new_revision.to_string());
        if self.has_progress_deadline() {
            let message = format!("Created new replica set \"{name}\"");
            self.set_condition("Progressing", "True", "NewReplicaSetCreated", &message);
        }
        self.replicasets.push(created);
        self.new_rs = Some(self.replicasets.len() - 1);
    }

    /// `scaleReplicaSet`: writes the size and the replicas annotations; records the event.
    fn scale_rs(&mut self, index: usize, new_scale: i64) -> bool {
        let mut rs = self.replicasets[index].clone();
        let old_scale = rs_replicas(&rs);
        let size_changes = old_scale != new_scale;
        let annotations_change = self.set_replicas_annotations(&mut rs);
        if !size_changes && !annotations_change {
            return false;
        }
        rs["spec"]["replicas"] = json!(new_scale);
        let Ok(written) = self.store.update("replicasets", rs) else {
            return false;
        };
        self.replicasets[index] = written;
        self.changed = true;
        if size_changes {
            let direction = if new_scale > old_scale { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} replica set {} from {old_scale} to {new_scale}",
                meta(&self.replicasets[index], "name")
            );
            events::record(
                self.store,
                self.now,
                Source::DEPLOYMENT,
                &self.original,
                Event::normal("ScalingReplicaSet", &message),
            );
        }
        size_changes
    }

    fn rollout_rolling(&mut self) {
        self.sync_revision(true);
        if self.reconcile_new_rs() || self.reconcile_old_rss() {
            self.sync_rollout_status();
            return;
        }
        if self.deployment_complete(&self.d.get("status").cloned().unwrap_or(json!({}))) {
            self.cleanup();
        }
        self.sync_rollout_status();
    }

    fn reconcile_new_rs(&mut self) -> bool {
        let Some(new) = self.new_rs else { return false };
        let desired = replicas(&self.d);
        let current = rs_replicas(&self.replicasets[new]);
        if current == desired {
            return false;
        }
        if current > desired {
            return self.scale_rs(new, desired);
        }
        let all = self.sum_replicas(&(0..self.replicasets.len()).collect::<Vec<_>>());
        let target = new_rs_new_replicas(&self.d, all, current);
        self.scale_rs(new, target)
    }

    fn reconcile_old_rss(&mut self) -> bool {
        let Some(new) = self.new_rs else { return false };
        let old: Vec<usize> = self
            .old_indices()
            .into_iter()
            .filter(|i| rs_replicas(&self.replicasets[*i]) > 0)
            .collect();
        if self.sum_replicas(&old) == 0 {
            return false;
        }
        let all = self.sum_replicas(&(0..self.replicasets.len()).collect::<Vec<_>>());
        let min_available = replicas(&self.d) - max_unavailable(&self.d);
        let new_unavailable = rs_replicas(&self.replicasets[new])
            - rs_status(&self.replicasets[new], "availableReplicas");
        let max_scaled_down = all - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let cleaned = self.cleanup_unhealthy(&old, max_scaled_down);
        let scaled = self.scale_down_old_for_rolling_update(&old);
        cleaned + scaled > 0
    }

    /// Scales down old ReplicaSets' unavailable replicas first (they block the rollout).
    fn cleanup_unhealthy(&mut self, old: &[usize], max_cleanup: i64) -> i64 {
        let mut total = 0;
        for &index in old {
            if total >= max_cleanup {
                break;
            }
            let rs = &self.replicasets[index];
            let (current, available) = (rs_replicas(rs), rs_status(rs, "availableReplicas"));
            if current == 0 || current == available {
                continue;
            }
            let count = (max_cleanup - total).min(current - available);
            self.scale_rs(index, current - count);
            total += count;
        }
        total
    }

    fn scale_down_old_for_rolling_update(&mut self, old: &[usize]) -> i64 {
        let min_available = replicas(&self.d) - max_unavailable(&self.d);
        let all: Vec<usize> = (0..self.replicasets.len()).collect();
        let available = self.sum_status(&all, "availableReplicas");
        if available <= min_available {
            return 0;
        }
        let to_scale_down = available - min_available;
        let mut total = 0;
        for &index in old {
            if total >= to_scale_down {
                break;
            }
            let current = rs_replicas(&self.replicasets[index]);
            if current == 0 {
                continue;
            }
            let count = current.min(to_scale_down - total);
            self.scale_rs(index, current - count);
            total += count;
        }
        total
    }

    fn rollout_recreate(&mut self, pods: &[Value]) {
        self.sync_revision(false);
        let old_active: Vec<usize> = self
            .old_indices()
            .into_iter()
            .filter(|i| rs_replicas(&self.replicasets[*i]) > 0)
            .collect();
        let mut scaled_down = false;
        for index in old_active {
            scaled_down |= self.scale_rs(index, 0);
        }
        if scaled_down || self.old_pods_running(pods) {
            self.sync_rollout_status();
            return;
        }
        if self.new_rs.is_none() {
            self.sync_revision(true);
        }
        if let Some(new) = self.new_rs {
            let desired = replicas(&self.d);
            if rs_replicas(&self.replicasets[new]) != desired {
                self.scale_rs(new, desired);
            }
        }
        if self.deployment_complete(&self.d.get("status").cloned().unwrap_or(json!({}))) {
            self.cleanup();
        }
        self.sync_rollout_status();
    }

    /// Whether pods of old ReplicaSets still run (Recreate waits for them to finish).
    fn old_pods_running(&self, pods: &[Value]) -> bool {
        let old = self.old_indices();
        if self.sum_status(&old, "replicas") > 0 {
            return true;
        }
        let old_uids: Vec<&str> = old
            .iter()
            .map(|i| meta(&self.replicasets[*i], "uid"))
            .collect();
        pods.iter().any(|pod| {
            objects::controller_ref(pod)
                .and_then(|r| r["uid"].as_str())
                .is_some_and(|uid| old_uids.contains(&uid))
                && !matches!(objects::phase(pod), "Failed" | "Succeeded")
        })
    }

    /// `isScalingEvent`: an active ReplicaSet was sized for another replica count.
    fn is_scaling_event(&mut self) -> bool {
        self.sync_revision(false);
        let desired = replicas(&self.d).to_string();
        self.active_indices()
            .iter()
            .filter_map(|i| annotation(&self.replicasets[*i], DESIRED_REPLICAS))
            .any(|annotated| annotated != desired)
    }

    /// `sync`: scaling (proportional during a rollout) for paused deployments and scaling events.
    fn sync_scale(&mut self) {
        self.sync_revision(false);
        self.scale();
        if self.d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
            self.cleanup();
        }
        self.sync_deployment_status();
    }

    fn scale(&mut self) {
        let desired = replicas(&self.d);
        if let Some(index) = self.active_or_latest() {
            if rs_replicas(&self.replicasets[index]) != desired {
                self.scale_rs(index, desired);
            }
            return;
        }
        if let Some(new) = self.new_rs {
            let rs = &self.replicasets[new];
            let saturated = annotation(rs, DESIRED_REPLICAS) == Some(desired.to_string().as_str())
                && rs_replicas(rs) == desired
                && rs_status(rs, "availableReplicas") == desired;
            if saturated {
                for index in self.old_indices() {
                    if rs_replicas(&self.replicasets[index]) > 0 {
                        self.scale_rs(index, 0);
                    }
                }
                return;
            }
        }
        if is_rolling_update(&self.d) {
            self.scale_proportionally();
        }
    }

    /// `FindActiveOrLatest`: the only active ReplicaSet, or the newest when none is active.
    fn active_or_latest(&self) -> Option<usize> {
        if self.replicasets.is_empty() {
            return None;
        }
        let active = self.active_indices();
        match active.len() {
            0 => self.new_rs.or_else(|| self.old_indices().last().copied()),
            1 => Some(active[0]),
            _ => None,
        }
    }

    fn scale_proportionally(&mut self) {
        let desired = replicas(&self.d);
        let mut active = self.active_indices();
        let current = self.sum_replicas(&active);
        let allowed = if desired > 0 {
            desired + max_surge(&self.d)
        } else {
            0
        };
        let to_add = allowed - current;
        if to_add == 0 {
            return;
        }
        // Larger first; equal sizes: newer first when scaling up, older first when scaling down.
        active.sort_by(|a, b| {
            let (ra, rb) = (&self.replicasets[*a], &self.replicasets[*b]);
            rs_replicas(rb).cmp(&rs_replicas(ra)).then_with(|| {
                if to_add > 0 {
                    by_age(rb, ra)
                } else {
                    by_age(ra, rb)
                }
            })
        });
        let mut added = 0;
        let mut sizes: Vec<i64> = Vec::with_capacity(active.len());
        for &index in &active {
            let proportion = self.proportion(&self.replicasets[index], to_add, added);
            sizes.push(rs_replicas(&self.replicasets[index]) + proportion);
            added += proportion;
        }
        if let Some(first) = sizes.first_mut() {
            *first = (*first + to_add - added).max(0);
        }
        for (index, size) in active.into_iter().zip(sizes) {
            self.scale_rs(index, size);
        }
    }

    /// `GetProportion`: this ReplicaSet's share of the replicas to add or remove.
    fn proportion(&self, rs: &Value, to_add: i64, added: i64) -> i64 {
        if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let fraction = if replicas(&self.d) == 0 {
            -rs_replicas(rs)
        } else {
            let deployment_replicas = replicas(&self.d) + max_surge(&self.d);
            let annotated = annotation(rs, MAX_REPLICAS)
                .and_then(|m| m.parse::<i64>().ok())
                .unwrap_or_else(|| objects::int(&self.d, "/status/replicas", 0));
            if annotated == 0 {
                0
            } else {
                let size = (rs_replicas(rs) * deployment_replicas) as f64 / annotated as f64;
                size.round() as i64 - rs_replicas(rs)
            }
        };
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// `cleanupDeployment`: deletes the oldest empty ReplicaSets beyond revisionHistoryLimit.
    fn cleanup(&mut self) {
        let limit = objects::int(
            &self.d,
            "/spec/revisionHistoryLimit",
            DEFAULT_REVISION_HISTORY_LIMIT,
        );
        let old = self.old_indices();
        let mut candidates: Vec<usize> = old
            .into_iter()
            .filter(|i| {
                let rs = &self.replicasets[*i];
                rs_replicas(rs) == 0
                    && rs_status(rs, "replicas") == 0
                    && !objects::is_terminating(rs)
            })
            .collect();
        let old_count = self.old_indices().len() as i64;
        let excess = old_count - limit;
        if excess <= 0 {
            return;
        }
        candidates.sort_by(|a, b| by_age(&self.replicasets[*a], &self.replicasets[*b]));
        let doomed: Vec<usize> = candidates.into_iter().take(excess as usize).collect();
        for index in doomed.iter().rev() {
            let rs = &self.replicasets[*index];
            let deleted = self.store.delete(
                "replicasets",
                Some(meta(rs, "namespace")),
                meta(rs, "name"),
                &DeleteOptions::default(),
            );
            if deleted.is_ok() {
                self.changed = true;
            }
        }
        let mut index = 0;
        self.replicasets.retain(|_| {
            let keep = !doomed.contains(&index);
            index += 1;
            keep
        });
        self.find_new_rs();
    }

    fn has_progress_deadline(&self) -> bool {
        let deadline = objects::int(
            &self.d,
            "/spec/progressDeadlineSeconds",
            DEFAULT_PROGRESS_DEADLINE,
        );
        deadline != i64::from(i32::MAX)
    }

    fn condition(&self, kind: &str) -> Option<&Value> {
        objects::list(&self.d, "/status/conditions")
            .iter()
            .find(|c| c["type"] == kind)
    }

    /// `SetDeploymentCondition`: no-op when status and reason are unchanged; keeps the
    /// transition time when only the reason changes.
    fn set_condition(&mut self, kind: &str, status: &str, reason: &str, message: &str) {
        let stamp = objects::format_time(self.now);
        let mut transition = stamp.clone();
        if let Some(current) = self.condition(kind) {
            if current["status"] == status && current["reason"] == reason {
                return;
            }
            if current["status"] == status {
                transition = current["lastTransitionTime"]
                    .as_str()
                    .unwrap_or(&stamp)
                    .to_string();
            }
        }
        let condition = json!({
            "type": kind, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": transition, "reason": reason, "message": message,
        });
        self.push_condition(kind, condition);
    }

    fn push_condition(&mut self, kind: &str, condition: Value) {
        if !self.d.get("status").is_some_and(Value::is_object) {
            self.d["status"] = json!({});
        }
        let mut conditions: Vec<Value> = objects::list(&self.d, "/status/conditions")
            .iter()
            .filter(|c| c["type"] != kind)
            .cloned()
            .collect();
        conditions.push(condition);
        self.d["status"]["conditions"] = Value::Array(conditions);
    }

    fn remove_condition(&mut self, kind: &str) {
        if self.condition(kind).is_some() {
            let conditions: Vec<Value> = objects::list(&self.d, "/status/conditions")
                .iter()
                .filter(|c| c["type"] != kind)
                .cloned()
                .collect();
            self.d["status"]["conditions"] = Value::Array(conditions);
        }
    }

    /// `checkPausedConditions`.
    fn check_paused_conditions(&mut self) {
        if !self.has_progress_deadline() {
            return;
        }
        let reason = self
            .condition("Progressing")
            .and_then(|c| c["reason"].as_str())
            .unwrap_or("")
            .to_string();
        if reason == "ProgressDeadlineExceeded" {
            return;
        }
        let paused = self.d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
        if paused && reason != "DeploymentPaused" {
            self.set_condition(
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
            );
        } else if !paused && reason == "DeploymentPaused" {
            self.set_condition(
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
            );
        }
    }

    /// `calculateStatus`: counts from the ReplicaSets plus the Available condition.
    fn calculate_status(&self) -> Value {
        let all: Vec<usize> = (0..self.replicasets.len()).collect();
        let available = self.sum_status(&all, "availableReplicas");
        let desired = replicas(&self.d);
        let mut status = self
            .d
            .get("status")
            .cloned()
            .filter(Value::is_object)
            .unwrap_or(json!({}));
        status["observedGeneration"] = json!(objects::int(&self.d, "/metadata/generation", 1));
        status["replicas"] = json!(self.sum_status(&all, "replicas"));
        status["updatedReplicas"] = json!(
            self.new_rs
                .map_or(0, |i| rs_status(&self.replicasets[i], "replicas"))
        );
        status["readyReplicas"] = json!(self.sum_status(&all, "readyReplicas"));
        status["availableReplicas"] = json!(available);
        status["unavailableReplicas"] = json!((desired - available).max(0));
        for zero_is_absent in [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ] {
            if status[zero_is_absent] == 0 {
                status.as_object_mut().map(|s| s.remove(zero_is_absent));
            }
        }
        status
    }

    fn apply_availability(&mut self, status: Value) {
        let available = status["availableReplicas"].as_i64().unwrap_or(0);
        let conditions = self.d.pointer("/status/conditions").cloned();
        self.d["status"] = status;
        if let Some(conditions) = conditions {
            self.d["status"]["conditions"] = conditions;
        }
        if available >= replicas(&self.d) - max_unavailable(&self.d) {
            self.set_condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            );
        } else {
            self.set_condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            );
        }
    }

    /// `syncDeploymentStatus`: counts and availability only (paused, scaling, deleting).
    fn sync_deployment_status(&mut self) {
        let status = self.calculate_status();
        self.apply_availability(status);
    }

    /// `DeploymentComplete`.
    fn deployment_complete(&self, status: &Value) -> bool {
        let desired = replicas(&self.d);
        let field = |f: &str| status[f].as_i64().unwrap_or(0);
        field("updatedReplicas") == desired
            && field("replicas") == desired
            && field("availableReplicas") == desired
            && field("observedGeneration") >= objects::int(&self.d, "/metadata/generation", 1)
    }

    /// `syncRolloutStatus`: counts, availability, the Progressing and ReplicaFailure conditions.
    fn sync_rollout_status(&mut self) {
        let status = self.calculate_status();
        self.apply_availability(status);
        self.progress_condition();
        self.copy_replica_failure();
    }

    /// The Progressing condition: complete, progressing, or past its deadline.
    fn progress_condition(&mut self) {
        let previous = self.original.get("status").cloned().unwrap_or(json!({}));
        if !self.has_progress_deadline() {
            self.remove_condition("Progressing");
            return;
        }
        let current = self.condition("Progressing").cloned();
        let new_status = self.d["status"].clone();
        let field = |s: &Value, f: &str| s[f].as_i64().unwrap_or(0);
        let complete_already = field(&new_status, "replicas")
            == field(&new_status, "updatedReplicas")
            && current
                .as_ref()
                .is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
        if complete_already {
            return;
        }
        let rs_name = self
            .new_rs
            .map(|i| meta(&self.replicasets[i], "name").to_string());
        let subject = match &rs_name {
            Some(name) => format!("ReplicaSet \"{name}\""),
            None => format!("Deployment \"{}\"", meta(&self.d, "name")),
        };
        let progressed = field(&new_status, "updatedReplicas")
            > field(&previous, "updatedReplicas")
            || field(&new_status, "readyReplicas") > field(&previous, "readyReplicas")
            || field(&new_status, "replicas") - field(&new_status, "updatedReplicas")
                < field(&previous, "replicas") - field(&previous, "updatedReplicas")
            || field(&new_status, "availableReplicas") > field(&previous, "availableReplicas");
        if self.deployment_complete(&new_status) {
            let message = format!("{subject} has successfully progressed.");
            self.set_condition("Progressing", "True", "NewReplicaSetAvailable", &message);
        } else if progressed {
            let stamp = objects::format_time(self.now);
            let transition = match &current {
                Some(c) if c["status"] == "True" => c["lastTransitionTime"]
                    .as_str()
                    .unwrap_or(&stamp)
                    .to_string(),
                _ => stamp.clone(),
            };
            let condition = json!({
                "type": "Progressing", "status": "True", "lastUpdateTime": stamp,
                "lastTransitionTime": transition, "reason": "ReplicaSetUpdated",
                "message": format!("{subject} is progressing."),
            });
            self.push_condition("Progressing", condition);
        } else if self.timed_out(current.as_ref()) {
            let message = format!("{subject} has timed out progressing.");
            self.set_condition("Progressing", "False", "ProgressDeadlineExceeded", &message);
        }
    }

    /// `getReplicaFailures`: the ReplicaFailure of the new ReplicaSet (else of an old one)
    /// becomes the deployment's.
    fn copy_replica_failure(&mut self) {
        let failure_of = |rs: &Value| {
            objects::list(rs, "/status/conditions")
                .iter()
                .find(|c| c["type"] == "ReplicaFailure")
                .cloned()
        };
        let failure = self
            .new_rs
            .and_then(|i| failure_of(&self.replicasets[i]))
            .or_else(|| self.replicasets.iter().find_map(failure_of));
        match failure {
            Some(c) => {
                let (status, reason) = (
                    c["status"].as_str().unwrap_or("True"),
                    c["reason"].as_str().unwrap_or(""),
                );
                self.set_condition(
                    "ReplicaFailure",
                    status,
                    reason,
                    c["message"].as_str().unwrap_or(""),
                );
            }
            None => self.remove_condition("ReplicaFailure"),
        }
    }

    /// `DeploymentTimedOut`: no progress for progressDeadlineSeconds since the last update.
    fn timed_out(&self, current: Option<&Value>) -> bool {
        let Some(condition) = current else {
            return false;
        };
        match condition["reason"].as_str() {
            Some("NewReplicaSetAvailable") => return false,
            Some("ProgressDeadlineExceeded") => return true,
            _ => {}
        }
        let deadline = objects::int(
            &self.d,
            "/spec/progressDeadlineSeconds",
            DEFAULT_PROGRESS_DEADLINE,
        );
        condition["lastUpdateTime"]
            .as_str()
            .and_then(objects::parse_time)
            .is_some_and(|since| objects::plus_seconds(since, deadline) < self.now)
    }

    fn write_deployment(&mut self) {
        if self.d == self.original {
            return;
        }
        if objects::update(self.store, "deployments", self.d.clone()) {
            self.changed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i64, strategy: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gateway-proxy", "namespace": "gateway", "generation": 1},
            "spec": {"replicas": replicas, "strategy": strategy,
                "selector": {"matchLabels": {"app": "gateway-proxy"}},
                "template": {"metadata": {"labels": {"app": "gateway-proxy"}},
                    "spec": {"containers": [{"name": "proxy", "image": "proxy:1"}]}}}})
    }

    #[test]
    fn int_or_percent_rounding() {
        assert_eq!(scaled_value(Some(&json!("25%")), 3, true), 1);
        assert_eq!(scaled_value(Some(&json!("25%")), 3, false), 0);
        assert_eq!(scaled_value(Some(&json!("25%")), 10, true), 3);
        assert_eq!(scaled_value(Some(&json!("25%")), 10, false), 2);
        assert_eq!(scaled_value(Some(&json!(2)), 10, false), 2);
        assert_eq!(scaled_value(None, 4, true), 1);
    }

    #[test]
    fn fenceposts_default_to_25_percent_and_never_both_zero() {
        let d = deployment(3, json!({"type": "RollingUpdate"}));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (1, 0));
        let d = deployment(
            10,
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}),
        );
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 1));
        let d = deployment(
            2,
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 5}}),
        );
        assert_eq!((max_surge(&d), max_unavailable(&d)), (1, 2));
        let d = deployment(3, json!({"type": "Recreate"}));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 0));
    }

    #[test]
    fn new_replica_set_growth_is_bounded_by_max_surge() {
        let d = deployment(3, json!({"type": "RollingUpdate"}));
        assert_eq!(new_rs_new_replicas(&d, 3, 0), 1, "3 old + surge 1");
        assert_eq!(new_rs_new_replicas(&d, 4, 1), 1, "at the surge limit");
        assert_eq!(new_rs_new_replicas(&d, 3, 1), 2);
        assert_eq!(new_rs_new_replicas(&d, 0, 0), 3);
        let recreate = deployment(3, json!({"type": "Recreate"}));
        assert_eq!(new_rs_new_replicas(&recreate, 3, 0), 3);
    }
}
