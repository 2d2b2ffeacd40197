//! Core/v1 Events written as the real components write them, aggregated like client-go's
//! EventCorrelator: a repeat of the same reason and message bumps `count` and `lastTimestamp`.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{names, objects};
use crate::store::Store;

/// Who reports an event: `source.component` / `reportingComponent` and the host.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// `kubelet`, `default-scheduler`, `deployment-controller`, ...
    pub component: &'a str,
    /// The node, for kubelet events.
    pub host: Option<&'a str>,
}

impl Source<'static> {
    /// The deployment controller.
    pub const DEPLOYMENT: Source<'static> = Source {
        component: "deployment-controller",
        host: None,
    };
    /// The replica set controller.
    pub const REPLICASET: Source<'static> = Source {
        component: "replicaset-controller",
        host: None,
    };
    /// The statefulset controller.
    pub const STATEFULSET: Source<'static> = Source {
        component: "statefulset-controller",
        host: None,
    };
    /// The daemonset controller.
    pub const DAEMONSET: Source<'static> = Source {
        component: "daemonset-controller",
        host: None,
    };
    /// The scheduler.
    pub const SCHEDULER: Source<'static> = Source {
        component: "default-scheduler",
        host: None,
    };
}

/// The kubelet of `node`.
pub fn kubelet(node: &str) -> Source<'_> {
    Source {
        component: "kubelet",
        host: Some(node),
    }
}

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl Type {
    fn as_str(self) -> &'static str {
        match self {
            Type::Normal => "Normal",
            Type::Warning => "Warning",
        }
    }
}

/// One event about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// Normal or Warning.
    pub kind: Type,
    /// `ScalingReplicaSet`, `FailedScheduling`, `BackOff`, ...
    pub reason: &'a str,
    /// The human-readable message.
    pub message: &'a str,
    /// `spec.containers{name}` for container events.
    pub field_path: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// A Normal event.
    pub fn normal(reason: &'a str, message: &'a str) -> Event<'a> {
        Event {
            kind: Type::Normal,
            reason,
            message,
            field_path: None,
        }
    }

    /// A Warning event.
    pub fn warning(reason: &'a str, message: &'a str) -> Event<'a> {
        Event {
            kind: Type::Warning,
            reason,
            message,
            field_path: None,
        }
    }

    /// The same event about one container of a pod.
    pub fn on_container(mut self, field_path: &'a str) -> Event<'a> {
        self.field_path = Some(field_path);
        self
    }
}

/// The `involvedObject` reference of `obj` (nodes use their name as uid, as the kubelet does).
fn involved_object(obj: &Value, field_path: Option<&str>) -> Value {
    let kind = obj["kind"].as_str().unwrap_or("");
    let uid = if kind == "Node" {
        objects::meta(obj, "name")
    } else {
        objects::meta(obj, "uid")
    };
    let mut reference = json!({
        "apiVersion": obj["apiVersion"],
        "kind": kind,
        "name": objects::meta(obj, "name"),
        "uid": uid,
    });
    let namespace = objects::meta(obj, "namespace");
    if !namespace.is_empty() {
        reference["namespace"] = json!(namespace);
    }
    let resource_version = objects::meta(obj, "resourceVersion");
    if !resource_version.is_empty() && kind != "Node" {
        reference["resourceVersion"] = json!(resource_version);
    }
    if let Some(path) = field_path {
        reference["fieldPath"] = json!(path);
    }
    reference
}

/// Records `event` about `obj`; returns whether the store changed.
pub fn record(
    store: &Store,
    now: Timestamp,
    source: Source<'_>,
    obj: &Value,
    event: Event<'_>,
) -> bool {
    let namespace = match objects::meta(obj, "namespace") {
        "" => "default",
        ns => ns,
    };
    let involved = involved_object(obj, event.field_path);
    let same = |existing: &Value| {
        existing["reason"] == event.reason
            && existing["message"] == event.message
            && existing
                .pointer("/source/component")
                .and_then(Value::as_str)
                == Some(source.component)
            && existing.pointer("/involvedObject/uid") == involved.get("uid")
            && existing.pointer("/involvedObject/kind") == involved.get("kind")
            && existing.pointer("/involvedObject/fieldPath") == involved.get("fieldPath")
    };
    let stamp = objects::format_time(now);
    let (events, _) = store.list_shared("events", Some(namespace));
    if let Some(existing) = events.iter().find(|e| same(e)) {
        let mut next = (**existing).clone();
        next["count"] = json!(existing["count"].as_i64().unwrap_or(1) + 1);
        next["lastTimestamp"] = json!(stamp);
        return objects::update(store, "events", next);
    }
    let seed = format!(
        "{}/{}/{}/{}/{}",
        involved["uid"], involved["fieldPath"], event.reason, event.message, source.component
    );
    let hex = format!(
        "{:08x}{:08x}",
        names::fnv32a(seed.as_bytes()),
        names::fnv32a(stamp.as_bytes())
    );
    let mut source_json = json!({"component": source.component});
    if let Some(host) = source.host {
        source_json["host"] = json!(host);
    }
    let created = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{}.{hex}", objects::meta(obj, "name")), "namespace": namespace},
        "involvedObject": involved,
        "reason": event.reason,
        "message": event.message,
        "type": event.kind.as_str(),
        "source": source_json,
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "reportingComponent": source.component,
        "reportingInstance": source.host.unwrap_or(""),
    });
    store.create("events", created).is_ok()
}

/// Whether an event with this reason and message about `obj` exists.
pub fn recorded(store: &Store, obj: &Value, reason: &str, message: &str) -> bool {
    let namespace = match objects::meta(obj, "namespace") {
        "" => "default",
        ns => ns,
    };
    let uid = objects::meta(obj, "uid");
    let (events, _) = store.list_shared("events", Some(namespace));
    events.iter().any(|e| {
        e["reason"] == reason
            && e["message"] == message
            && e.pointer("/involvedObject/uid").and_then(Value::as_str) == Some(uid)
    })
}

/// The latest `lastTimestamp` of an event with this reason about `obj`, if one exists.
pub fn last_seen(store: &Store, obj: &Value, reason: &str) -> Option<Timestamp> {
    let namespace = match objects::meta(obj, "namespace") {
        "" => "default",
        ns => ns,
    };
    let uid = objects::meta(obj, "uid");
    let (events, _) = store.list_shared("events", Some(namespace));
    events
        .iter()
        .filter(|e| {
            e["reason"] == reason
                && e.pointer("/involvedObject/uid").and_then(Value::as_str) == Some(uid)
        })
        .filter_map(|e| objects::time_at(e, "/lastTimestamp"))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_bump_the_count() {
        let store = Store::new();
        let pod = store
            .create("pods", json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "gw"}, "spec": {}}))
            .unwrap();
        let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let event = Event::warning("BackOff", "Back-off restarting failed container proxy")
            .on_container("spec.containers{proxy}");
        assert!(record(&store, t0, kubelet("node-1"), &pod, event));
        let t1 = objects::plus_seconds(t0, 30);
        assert!(record(&store, t1, kubelet("node-1"), &pod, event));
        let events = store.list("events", Some("gw"));
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e["count"], 2);
        assert_eq!(e["firstTimestamp"], "2026-11-23T10:00:00Z");
        assert_eq!(e["lastTimestamp"], "2026-11-23T10:00:30Z");
        assert_eq!(
            e["source"],
            json!({"component": "kubelet", "host": "node-1"})
        );
        assert_eq!(e["involvedObject"]["fieldPath"], "spec.containers{proxy}");
        assert_eq!(e["type"], "Warning");
        assert_eq!(last_seen(&store, &pod, "BackOff"), Some(t1));
    }

    #[test]
    fn node_events_go_to_default_with_the_name_as_uid() {
        let store = Store::new();
        let node = store
            .create(
                "nodes",
                json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}),
            )
            .unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        record(
            &store,
            now,
            kubelet("node-1"),
            &node,
            Event::normal("NodeNotReady", "Node node-1 status is now: NodeNotReady"),
        );
        let events = store.list("events", Some("default"));
        assert_eq!(events[0]["involvedObject"]["uid"], "node-1");
    }
}
