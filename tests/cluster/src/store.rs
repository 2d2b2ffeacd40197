//! The object store: every object as a `serde_json::Value`, indexed by resource and namespace,
//! with a global resource version, a bounded history of changes for watches, and a broadcast of
//! every change.
//!
//! Server-managed metadata follows the real API server: `uid`, `creationTimestamp` and
//! `resourceVersion` are set here and cannot be changed by clients; `generation` starts at 1
//! for objects with a `spec` and grows when the spec changes. A write that changes nothing
//! keeps the resource version and emits no event.
//!
//! Deletion ([`Store::delete`]) is graceful for pods: like the real server it only sets
//! `metadata.deletionTimestamp` to *now + grace period* and `deletionGracePeriodSeconds`;
//! the kubelet model removes the pod once that time has passed ([`Store::remove`]). Objects
//! of other kinds with finalizers also get a `deletionTimestamp` and go when an update empties
//! their finalizers. Deleting an owner never cascades here: the garbage collector does that.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use crate::errors::{ApiError, FieldCause};
use crate::logs::PodLogs;
use crate::resources;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed (including a graceful deletion starting).
    Modified,
    /// Removed from the store.
    Deleted,
}

impl EventType {
    /// `ADDED`, `MODIFIED` or `DELETED`, as in a watch stream.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// A change, as broadcast to [`Store::subscribe`] receivers.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    /// Added, modified or deleted.
    pub kind: EventType,
    /// Store key of the resource (`pods`, `deployments`, `pods.metrics.k8s.io`).
    pub plural: String,
    /// The object after the change (for a deletion: the last state).
    pub object: Value,
    /// Resource version of the change.
    pub resource_version: u64,
}

/// A change kept in the history window, sharing the object with the store.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Added, modified or deleted.
    pub kind: EventType,
    /// Store key of the resource.
    pub plural: Arc<str>,
    /// The object after the change.
    pub object: Arc<Value>,
    /// Resource version of the change.
    pub resource_version: u64,
}

/// Options of a deletion, from a `DeleteOptions` body and the query string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`; `None` uses the object's own (pods: `terminationGracePeriodSeconds`, else 30).
    pub grace_period_seconds: Option<i64>,
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_resource_version: Option<String>,
    /// `propagationPolicy`: `Orphan` strips the owner references of dependents here.
    pub propagation_policy: Option<String>,
    /// `dryRun=All`: compute, do not store.
    pub dry_run: bool,
}

/// The result of [`Store::delete`].
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion {
    /// The object is gone; this is its last state.
    Removed(Value),
    /// The object stays with a `deletionTimestamp` (graceful pod deletion, finalizers).
    Terminating(Value),
}

type Bucket = BTreeMap<String, BTreeMap<String, Arc<Value>>>;

struct State {
    resource_version: u64,
    objects: HashMap<String, Bucket>,
    history: VecDeque<StoredEvent>,
    /// Every event with a resource version up to this one may have left the history.
    forgotten_up_to: u64,
}

struct Shared {
    state: RwLock<State>,
    logs: PodLogs,
    events: broadcast::Sender<WatchEvent>,
    latest: watch::Sender<u64>,
    history_limit: usize,
}

/// The shared, thread-safe object store. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// How many changes the history keeps by default (watches from older versions get 410 Gone).
pub const DEFAULT_HISTORY: usize = 10_000;

impl Store {
    /// An empty store with the default history window.
    pub fn new() -> Store {
        Store::with_history_limit(DEFAULT_HISTORY)
    }

    /// An empty store remembering the last `history_limit` changes for watches.
    pub fn with_history_limit(history_limit: usize) -> Store {
        let (events, _) = broadcast::channel(4096);
        let (latest, _) = watch::channel(0);
        let state = State {
            resource_version: 0,
            objects: HashMap::new(),
            history: VecDeque::new(),
            forgotten_up_to: 0,
        };
        Store {
            shared: Arc::new(Shared {
                state: RwLock::new(state),
                logs: PodLogs::default(),
                events,
                latest,
                history_limit: history_limit.max(1),
            }),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.shared
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.shared
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The object `name` of `plural` in `ns` (`None` for cluster-scoped).
    pub fn get(&self, plural: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        self.get_shared(plural, ns, name).map(|o| (*o).clone())
    }

    /// Like [`Store::get`] without copying the object.
    pub fn get_shared(&self, plural: &str, ns: Option<&str>, name: &str) -> Option<Arc<Value>> {
        let state = self.read();
        state
            .objects
            .get(plural)?
            .get(ns.unwrap_or(""))?
            .get(name)
            .cloned()
    }

    /// Every object of `plural` in `ns` (`None`: all namespaces), sorted by namespace and name.
    pub fn list(&self, plural: &str, ns: Option<&str>) -> Vec<Value> {
        self.list_shared(plural, ns)
            .0
            .into_iter()
            .map(|o| (*o).clone())
            .collect()
    }

    /// Like [`Store::list`] without copying, with the resource version the list was taken at.
    pub fn list_shared(&self, plural: &str, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let state = self.read();
        let items = match state.objects.get(plural) {
            None => Vec::new(),
            Some(bucket) => match ns {
                Some(ns) => bucket
                    .get(ns)
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default(),
                None => bucket.values().flat_map(|m| m.values().cloned()).collect(),
            },
        };
        (items, state.resource_version)
    }

    /// The container logs served by pods/log.
    pub fn logs(&self) -> &PodLogs {
        &self.shared.logs
    }

    /// The current (latest) resource version.
    pub fn resource_version(&self) -> u64 {
        self.read().resource_version
    }

    /// A receiver of every change from now on (lagging receivers lose the oldest events).
    pub fn subscribe(&self) -> broadcast::Receiver<WatchEvent> {
        self.shared.events.subscribe()
    }

    /// A receiver whose value is the latest resource version; it changes with every write.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.latest.subscribe()
    }

    /// The changes after `resource_version`, oldest first, or 410 Gone when the history no
    /// longer reaches back that far.
    pub fn events_since(&self, resource_version: u64) -> Result<Vec<StoredEvent>, ApiError> {
        let state = self.read();
        if resource_version < state.forgotten_up_to {
            return Err(ApiError::gone(format!(
                "too old resource version: {resource_version} ({})",
                state.forgotten_up_to
            )));
        }
        let start = state
            .history
            .partition_point(|e| e.resource_version <= resource_version);
        Ok(state.history.range(start..).cloned().collect())
    }

    /// Creates `obj` (namespace taken from the object, `default` if a namespaced kind has none).
    pub fn create(&self, plural: &str, obj: Value) -> Result<Value, ApiError> {
        self.create_with(plural, obj, false)
    }

    /// [`Store::create`], optionally as a dry run that computes the object without storing it.
    pub fn create_with(
        &self,
        plural: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the object to create is not a JSON object",
            ));
        }
        let namespaced = is_namespaced(plural, &obj);
        let mut state = self.write();
        let meta = metadata_mut(&mut obj);
        if namespaced {
            if meta
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                meta.insert("namespace".into(), json!("default"));
            }
        } else {
            meta.remove("namespace");
        }
        let ns = str_at(&obj, "namespace").to_string();
        let name = match str_at(&obj, "name") {
            "" => {
                let prefix = str_at(&obj, "generateName").to_string();
                if prefix.is_empty() {
                    let (kind, group) = kind_and_group(plural, &obj);
                    return Err(ApiError::invalid(
                        &kind,
                        &group,
                        "",
                        &[FieldCause::required(
                            "metadata.name",
                            "name or generateName is required",
                        )],
                    ));
                }
                let taken = |candidate: &str| state.lookup(plural, &ns, candidate).is_some();
                let name = generate_name(&prefix, taken);
                metadata_mut(&mut obj).insert("name".into(), json!(name));
                name
            }
            name => name.to_string(),
        };
        if state.lookup(plural, &ns, &name).is_some() {
            return Err(ApiError::already_exists(plural, &name));
        }
        let has_spec = obj.get("spec").is_some();
        let meta = metadata_mut(&mut obj);
        meta.insert("uid".into(), json!(new_uid()));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        for server_only in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            meta.remove(server_only);
        }
        if has_spec {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        if dry_run {
            return Ok(obj);
        }
        Ok(self.commit(&mut state, EventType::Added, plural, obj))
    }

    /// Replaces an object. A `metadata.resourceVersion` in `obj` must match the stored one
    /// (else 409 Conflict). The object is stored as given, status included; the HTTP layer
    /// applies the status-subresource rules.
    pub fn update(&self, plural: &str, obj: Value) -> Result<Value, ApiError> {
        self.update_with(plural, obj, false)
    }

    /// [`Store::update`], optionally as a dry run.
    pub fn update_with(&self, plural: &str, obj: Value, dry_run: bool) -> Result<Value, ApiError> {
        let ns = namespace_of(plural, &obj);
        let name = str_at(&obj, "name").to_string();
        self.modify(plural, ns.as_deref(), &name, dry_run, |_| Ok(obj))
    }

    /// Replaces only `.status` of the stored object with `obj.status` (the status subresource).
    pub fn update_status(&self, plural: &str, obj: Value) -> Result<Value, ApiError> {
        self.update_status_with(plural, obj, false)
    }

    /// [`Store::update_status`], optionally as a dry run.
    pub fn update_status_with(
        &self,
        plural: &str,
        obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let ns = namespace_of(plural, &obj);
        let name = str_at(&obj, "name").to_string();
        let precondition = obj.pointer("/metadata/resourceVersion").cloned();
        let status = obj.get("status").cloned();
        self.modify(plural, ns.as_deref(), &name, dry_run, move |current| {
            let mut next = current.clone();
            let map = next
                .as_object_mut()
                .expect("stored objects are JSON objects");
            match status {
                Some(status) => map.insert("status".into(), status),
                None => map.remove("status"),
            };
            if let Some(rv) = precondition {
                metadata_mut(&mut next).insert("resourceVersion".into(), rv);
            }
            Ok(next)
        })
    }

    /// Atomically replaces the object with `change(current)`, under the same rules as
    /// [`Store::update`] (resource version precondition, server-managed metadata, generation).
    pub fn modify<F>(
        &self,
        plural: &str,
        ns: Option<&str>,
        name: &str,
        dry_run: bool,
        change: F,
    ) -> Result<Value, ApiError>
    where
        F: FnOnce(&Value) -> Result<Value, ApiError>,
    {
        let mut state = self.write();
        let ns_key = ns.unwrap_or("");
        let current = state
            .lookup(plural, ns_key, name)
            .ok_or_else(|| ApiError::not_found(plural, name))?;
        let mut next = change(&current)?;
        if !next.is_object() {
            return Err(ApiError::bad_request("the object is not a JSON object"));
        }
        let wanted_rv = next
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !wanted_rv.is_empty() && wanted_rv != str_at(&current, "resourceVersion") {
            return Err(ApiError::conflict(plural, name));
        }
        let wanted_uid = str_at(&next, "uid");
        if !wanted_uid.is_empty() && wanted_uid != str_at(&current, "uid") {
            return Err(ApiError::conflict_because(
                plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {wanted_uid}, UID in object meta: {}",
                    str_at(&current, "uid")
                ),
            ));
        }
        if str_at(&next, "name") != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                str_at(&next, "name")
            )));
        }
        keep_server_metadata(&current, &mut next, ns);
        if next.get("spec") != current.get("spec")
            && let Some(generation) = current
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
        {
            metadata_mut(&mut next).insert("generation".into(), json!(generation + 1));
        }
        if next == *current {
            return Ok(next);
        }
        let finalized = current.pointer("/metadata/deletionTimestamp").is_some()
            && plural != "pods"
            && next
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        if dry_run {
            return Ok(next);
        }
        if finalized {
            state.take(plural, ns_key, name);
            return Ok(self.commit(&mut state, EventType::Deleted, plural, next));
        }
        Ok(self.commit(&mut state, EventType::Modified, plural, next))
    }

    /// Removes an object at once (no grace period, no finalizers) and emits DELETED.
    pub fn remove(&self, plural: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        let mut state = self.write();
        let old = state.take(plural, ns.unwrap_or(""), name)?;
        Some(self.commit(&mut state, EventType::Deleted, plural, (*old).clone()))
    }

    /// Deletes an object as the real API server does: graceful for scheduled pods, pending for
    /// objects with finalizers, immediate otherwise; a namespace takes its objects with it.
    pub fn delete(
        &self,
        plural: &str,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deletion, ApiError> {
        let mut state = self.write();
        let ns_key = ns.unwrap_or("");
        let current = state
            .lookup(plural, ns_key, name)
            .ok_or_else(|| ApiError::not_found(plural, name))?;
        check_delete_preconditions(plural, name, &current, opts)?;
        if plural == "pods" {
            if let Some(grace) = pod_grace_period(&current, opts) {
                let next = begin_graceful_deletion(&current, grace);
                if opts.dry_run || next == *current {
                    return Ok(Deletion::Terminating(next));
                }
                return Ok(Deletion::Terminating(self.commit(
                    &mut state,
                    EventType::Modified,
                    plural,
                    next,
                )));
            }
        } else if has_finalizers(&current) {
            if current.pointer("/metadata/deletionTimestamp").is_some() || opts.dry_run {
                return Ok(Deletion::Terminating(begin_graceful_deletion(&current, 0)));
            }
            let next = begin_graceful_deletion(&current, 0);
            return Ok(Deletion::Terminating(self.commit(
                &mut state,
                EventType::Modified,
                plural,
                next,
            )));
        }
        if opts.dry_run {
            return Ok(Deletion::Removed((*current).clone()));
        }
        if opts.propagation_policy.as_deref() == Some("Orphan") {
            let uid = str_at(&current, "uid").to_string();
            self.orphan_dependents(&mut state, ns, &uid);
        }
        if plural == "namespaces" {
            self.remove_namespace_contents(&mut state, name);
        }
        state.take(plural, ns_key, name);
        Ok(Deletion::Removed(self.commit(
            &mut state,
            EventType::Deleted,
            plural,
            (*current).clone(),
        )))
    }

    /// Strips owner references to `owner_uid` from objects in `ns` (every namespace if `None`).
    fn orphan_dependents(&self, state: &mut State, ns: Option<&str>, owner_uid: &str) {
        let mut orphans = Vec::new();
        for (plural, bucket) in &state.objects {
            for (obj_ns, objects) in bucket {
                if ns.is_some_and(|ns| ns != obj_ns) {
                    continue;
                }
                for obj in objects.values() {
                    let refs = obj
                        .pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array);
                    if refs.is_some_and(|refs| refs.iter().any(|r| r["uid"] == owner_uid)) {
                        orphans.push((plural.clone(), Arc::clone(obj)));
                    }
                }
            }
        }
        for (plural, obj) in orphans {
            let mut next = (*obj).clone();
            if let Some(refs) = next
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            {
                refs.retain(|r| r["uid"] != owner_uid);
            }
            self.commit(state, EventType::Modified, &plural, next);
        }
    }

    fn remove_namespace_contents(&self, state: &mut State, namespace: &str) {
        let mut doomed = Vec::new();
        for (plural, bucket) in &mut state.objects {
            if let Some(objects) = bucket.remove(namespace) {
                doomed.extend(objects.into_values().map(|o| (plural.clone(), o)));
            }
        }
        for (plural, obj) in doomed {
            self.commit(state, EventType::Deleted, &plural, (*obj).clone());
        }
    }

    /// Stamps a new resource version on `obj`, stores it (unless deleted), records and broadcasts the change.
    fn commit(&self, state: &mut State, kind: EventType, plural: &str, mut obj: Value) -> Value {
        state.resource_version += 1;
        let rv = state.resource_version;
        metadata_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        let ns = str_at(&obj, "namespace").to_string();
        let name = str_at(&obj, "name").to_string();
        let shared = Arc::new(obj);
        if kind != EventType::Deleted {
            state
                .objects
                .entry(plural.to_string())
                .or_default()
                .entry(ns)
                .or_default()
                .insert(name, Arc::clone(&shared));
        }
        state.history.push_back(StoredEvent {
            kind,
            plural: Arc::from(plural),
            object: Arc::clone(&shared),
            resource_version: rv,
        });
        while state.history.len() > self.shared.history_limit {
            if let Some(old) = state.history.pop_front() {
                state.forgotten_up_to = old.resource_version;
            }
        }
        if self.shared.events.receiver_count() > 0 {
            let event = WatchEvent {
                kind,
                plural: plural.to_string(),
                object: (*shared).clone(),
                resource_version: rv,
            };
            let _ = self.shared.events.send(event);
        }
        self.shared.latest.send_replace(rv);
        (*shared).clone()
    }
}

impl State {
    fn lookup(&self, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects.get(plural)?.get(ns)?.get(name).cloned()
    }

    fn take(&mut self, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let bucket = self.objects.get_mut(plural)?;
        let objects = bucket.get_mut(ns)?;
        let old = objects.remove(name);
        if objects.is_empty() {
            bucket.remove(ns);
        }
        old
    }
}

fn check_delete_preconditions(
    plural: &str,
    name: &str,
    current: &Value,
    opts: &DeleteOptions,
) -> Result<(), ApiError> {
    if let Some(uid) = opts.precondition_uid.as_deref() {
        let actual = str_at(current, "uid");
        if uid != actual {
            return Err(ApiError::conflict_because(
                plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                ),
            ));
        }
    }
    if let Some(rv) = opts.precondition_resource_version.as_deref() {
        let actual = str_at(current, "resourceVersion");
        if rv != actual {
            return Err(ApiError::conflict_because(
                plural,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
                ),
            ));
        }
    }
    Ok(())
}

/// The grace period of a pod deletion, or `None` when the pod goes at once (grace 0, never
/// scheduled, or already finished), as in the real pod strategy's `CheckGracefulDelete`.
fn pod_grace_period(pod: &Value, opts: &DeleteOptions) -> Option<i64> {
    let own = pod
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    let mut grace = opts.grace_period_seconds.unwrap_or(own).max(0);
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() || phase == "Succeeded" || phase == "Failed" {
        grace = 0;
    }
    if let Some(current) = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
    {
        grace = grace.min(current);
    }
    if grace == 0 && !has_finalizers(pod) {
        return None;
    }
    Some(grace)
}

/// The object with `deletionTimestamp` = now + `grace` seconds and `deletionGracePeriodSeconds`
/// (an existing, earlier deletion time is kept).
fn begin_graceful_deletion(current: &Value, grace: i64) -> Value {
    let mut next = current.clone();
    let existing_grace = current
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if current.pointer("/metadata/deletionTimestamp").is_some()
        && existing_grace.is_some_and(|g| g <= grace)
    {
        return next;
    }
    let when = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(grace))
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let meta = metadata_mut(&mut next);
    meta.insert("deletionTimestamp".into(), json!(format_time(when)));
    meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
    next
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// Copies the metadata clients cannot change from `current` into `next`.
fn keep_server_metadata(current: &Value, next: &mut Value, ns: Option<&str>) {
    let old_meta = current
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let meta = metadata_mut(next);
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "resourceVersion",
    ] {
        match old_meta.get(field) {
            Some(value) => meta.insert(field.into(), value.clone()),
            None => meta.remove(field),
        };
    }
    match ns {
        Some(ns) => meta.insert("namespace".into(), json!(ns)),
        None => meta.remove("namespace"),
    };
}

fn is_namespaced(plural: &str, obj: &Value) -> bool {
    match resources::by_plural(plural) {
        Some(r) => r.namespaced,
        None => !str_at(obj, "namespace").is_empty(),
    }
}

fn namespace_of(plural: &str, obj: &Value) -> Option<String> {
    if is_namespaced(plural, obj) {
        Some(match str_at(obj, "namespace") {
            "" => "default".to_string(),
            ns => ns.to_string(),
        })
    } else {
        None
    }
}

fn kind_and_group(plural: &str, obj: &Value) -> (String, String) {
    match resources::by_plural(plural) {
        Some(r) => (r.kind.to_string(), r.group.to_string()),
        None => (
            obj["kind"].as_str().unwrap_or(plural).to_string(),
            String::new(),
        ),
    }
}

/// `metadata.<field>` as a string, "" when absent.
pub fn str_at<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The `metadata` map of `obj`, created if missing.
pub fn metadata_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("just made an object");
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("just made an object")
}

/// The current time as the API server writes it (`2026-11-02T10:00:00Z`).
pub fn now_rfc3339() -> String {
    format_time(jiff::Timestamp::now())
}

/// A timestamp in whole seconds, RFC 3339 UTC.
pub fn format_time(when: jiff::Timestamp) -> String {
    when.round(jiff::Unit::Second)
        .unwrap_or(when)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random version-4 UUID.
pub fn new_uid() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `prefix` plus five random characters from the alphabet the real server uses, avoiding `taken`.
pub fn generate_name(prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    loop {
        let suffix: String = (0..5)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect();
        let name = format!("{prefix}{suffix}");
        if !taken(&name) {
            return name;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(name: &str, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": "default"},
               "spec": {"replicas": replicas}})
    }

    fn pod(name: &str, node: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
               "spec": {"nodeName": node, "terminationGracePeriodSeconds": 10},
               "status": {"phase": "Running"}})
    }

    #[test]
    fn create_sets_server_metadata_and_refuses_duplicates() {
        let store = Store::new();
        let created = store.create("deployments", deployment("web", 1)).unwrap();
        assert_eq!(created["metadata"]["generation"], 1);
        assert_eq!(created["metadata"]["resourceVersion"], "1");
        assert_eq!(str_at(&created, "uid").len(), 36);
        assert!(str_at(&created, "creationTimestamp").ends_with('Z'));
        let again = store
            .create("deployments", deployment("web", 1))
            .unwrap_err();
        assert_eq!((again.code, again.reason.as_str()), (409, "AlreadyExists"));
        assert_eq!(again.message, "deployments.apps \"web\" already exists");
    }

    #[test]
    fn create_generates_names_and_requires_one() {
        let store = Store::new();
        let obj = json!({"metadata": {"generateName": "web-", "namespace": "ns"}, "data": {}});
        let created = store.create("configmaps", obj).unwrap();
        let name = str_at(&created, "name");
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        assert!(created["metadata"].get("generation").is_none());
        let err = store
            .create("configmaps", json!({"metadata": {}}))
            .unwrap_err();
        assert_eq!(err.code, 422);
        assert!(
            err.message.contains("metadata.name: Required value"),
            "{}",
            err.message
        );
    }

    #[test]
    fn stale_resource_version_is_a_conflict() {
        let store = Store::new();
        let created = store.create("deployments", deployment("web", 1)).unwrap();
        let mut first = created.clone();
        first["spec"]["replicas"] = json!(2);
        let updated = store.update("deployments", first).unwrap();
        assert_eq!(updated["metadata"]["generation"], 2);
        let mut stale = created;
        stale["spec"]["replicas"] = json!(3);
        let err = store.update("deployments", stale).unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");
        assert!(err.message.contains("the object has been modified"));
    }

    #[test]
    fn generation_ignores_status_and_metadata_and_noops_keep_the_version() {
        let store = Store::new();
        store.create("deployments", deployment("web", 1)).unwrap();
        let mut labelled = store.get("deployments", Some("default"), "web").unwrap();
        labelled["metadata"]["labels"] = json!({"a": "b"});
        let labelled = store.update("deployments", labelled).unwrap();
        assert_eq!(labelled["metadata"]["generation"], 1);
        let mut with_status = labelled.clone();
        with_status["status"] = json!({"replicas": 1});
        let with_status = store.update_status("deployments", with_status).unwrap();
        assert_eq!(with_status["metadata"]["generation"], 1);
        assert_eq!(with_status["status"]["replicas"], 1);
        let rv = store.resource_version();
        let same = store.update("deployments", with_status.clone()).unwrap();
        assert_eq!(store.resource_version(), rv);
        assert_eq!(same, with_status);
    }

    #[test]
    fn clients_cannot_change_uid_or_creation_time() {
        let store = Store::new();
        let created = store.create("deployments", deployment("web", 1)).unwrap();
        let mut forged = created.clone();
        forged["metadata"]["creationTimestamp"] = json!("2000-01-01T00:00:00Z");
        forged["metadata"]["resourceVersion"] = json!("");
        let updated = store.update("deployments", forged).unwrap();
        assert_eq!(
            updated["metadata"]["creationTimestamp"],
            created["metadata"]["creationTimestamp"]
        );
        let mut other_uid = updated;
        other_uid["metadata"]["uid"] = json!("nope");
        assert_eq!(
            store.update("deployments", other_uid).unwrap_err().code,
            409
        );
    }

    #[test]
    fn history_replays_and_forgets() {
        let store = Store::with_history_limit(3);
        for i in 0..5 {
            store
                .create("configmaps", json!({"metadata": {"name": format!("c{i}")}}))
                .unwrap();
        }
        let replay = store.events_since(3).unwrap();
        assert_eq!(
            replay
                .iter()
                .map(|e| e.resource_version)
                .collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert_eq!(replay[0].kind, EventType::Added);
        assert!(store.events_since(2).is_ok());
        let err = store.events_since(1).unwrap_err();
        assert_eq!((err.code, err.reason.as_str()), (410, "Expired"));
    }

    #[test]
    fn pods_delete_gracefully_other_kinds_at_once() {
        let store = Store::new();
        store.create("pods", pod("p", "node-1")).unwrap();
        let out = store
            .delete("pods", Some("default"), "p", &DeleteOptions::default())
            .unwrap();
        let Deletion::Terminating(terminating) = out else {
            panic!("pod should be terminating")
        };
        assert_eq!(terminating["metadata"]["deletionGracePeriodSeconds"], 10);
        assert!(store.get("pods", Some("default"), "p").is_some());
        let forced = DeleteOptions {
            grace_period_seconds: Some(0),
            ..DeleteOptions::default()
        };
        assert!(matches!(
            store.delete("pods", Some("default"), "p", &forced),
            Ok(Deletion::Removed(_))
        ));
        assert!(store.get("pods", Some("default"), "p").is_none());

        store.create("pods", pod("unscheduled", "")).unwrap();
        let out = store
            .delete(
                "pods",
                Some("default"),
                "unscheduled",
                &DeleteOptions::default(),
            )
            .unwrap();
        assert!(matches!(out, Deletion::Removed(_)));

        store.create("deployments", deployment("web", 1)).unwrap();
        let out = store
            .delete(
                "deployments",
                Some("default"),
                "web",
                &DeleteOptions::default(),
            )
            .unwrap();
        assert!(matches!(out, Deletion::Removed(_)));
        let err = store
            .delete(
                "deployments",
                Some("default"),
                "web",
                &DeleteOptions::default(),
            )
            .unwrap_err();
        assert_eq!(err.code, 404);
    }

    #[test]
    fn finalizers_hold_an_object_until_emptied() {
        let store = Store::new();
        store
            .create(
                "configmaps",
                json!({"metadata": {"name": "c", "finalizers": ["x/y"]}}),
            )
            .unwrap();
        let out = store
            .delete(
                "configmaps",
                Some("default"),
                "c",
                &DeleteOptions::default(),
            )
            .unwrap();
        assert!(matches!(out, Deletion::Terminating(_)));
        let mut held = store.get("configmaps", Some("default"), "c").unwrap();
        held["metadata"]["finalizers"] = json!([]);
        store.update("configmaps", held).unwrap();
        assert!(store.get("configmaps", Some("default"), "c").is_none());
    }

    #[test]
    fn delete_preconditions_and_dry_run() {
        let store = Store::new();
        store.create("deployments", deployment("web", 1)).unwrap();
        let wrong = DeleteOptions {
            precondition_uid: Some("x".into()),
            ..DeleteOptions::default()
        };
        let err = store
            .delete("deployments", Some("default"), "web", &wrong)
            .unwrap_err();
        assert!(
            err.message
                .contains("Precondition failed: UID in precondition: x"),
            "{}",
            err.message
        );
        let dry = DeleteOptions {
            dry_run: true,
            ..DeleteOptions::default()
        };
        store
            .delete("deployments", Some("default"), "web", &dry)
            .unwrap();
        assert!(store.get("deployments", Some("default"), "web").is_some());
    }

    #[test]
    fn orphan_propagation_strips_owner_references() {
        let store = Store::new();
        let owner = store.create("deployments", deployment("web", 1)).unwrap();
        let uid = str_at(&owner, "uid").to_string();
        let rs = json!({"metadata": {"name": "web-1", "namespace": "default",
                        "ownerReferences": [{"uid": uid, "kind": "Deployment", "name": "web"}]}, "spec": {}});
        store.create("replicasets", rs).unwrap();
        let orphan = DeleteOptions {
            propagation_policy: Some("Orphan".into()),
            ..DeleteOptions::default()
        };
        store
            .delete("deployments", Some("default"), "web", &orphan)
            .unwrap();
        let rs = store.get("replicasets", Some("default"), "web-1").unwrap();
        assert_eq!(rs["metadata"]["ownerReferences"], json!([]));
    }

    #[test]
    fn list_is_sorted_and_scoped() {
        let store = Store::new();
        for (ns, name) in [("b", "x"), ("a", "z"), ("a", "y")] {
            store
                .create(
                    "configmaps",
                    json!({"metadata": {"name": name, "namespace": ns}}),
                )
                .unwrap();
        }
        let all: Vec<String> = store
            .list("configmaps", None)
            .iter()
            .map(|o| format!("{}/{}", str_at(o, "namespace"), str_at(o, "name")))
            .collect();
        assert_eq!(all, ["a/y", "a/z", "b/x"]);
        assert_eq!(store.list("configmaps", Some("b")).len(), 1);
        assert!(store.list("secrets", None).is_empty());
    }
}
