//! Events of objects: fetched once (paginated), filtered by the involved object, deduplicated
//! with their counts added up, newest first, and printed as `kubectl describe` does.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::error::{KubeResultExt, Op, Result};
use crate::output::Table;

/// Page size of event lists.
const PAGE_SIZE: u32 = 500;

/// One event, or several identical ones merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventSummary {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `FailedScheduling`, `BackOff`, `Killing`, `SystemOOM`...
    pub reason: String,
    /// The event's message.
    pub message: String,
    /// How many times it happened (event counts and series counts added up).
    pub count: i32,
    /// The first occurrence.
    pub first_seen: Option<Timestamp>,
    /// The latest occurrence.
    pub last_seen: Option<Timestamp>,
    /// The reporting component (`kubelet`, `default-scheduler`, ...).
    pub source: String,
    /// The involved object as `kind/namespace/name` (kind lower-cased, as findings).
    pub subject: String,
    /// The involved object's kind as the API spells it (`Pod`).
    pub kind: String,
    /// The involved object's name.
    pub name: String,
}

impl EventSummary {
    /// True for `Warning` events.
    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }

    /// The AGE cell of `kubectl describe`: `5m`, or `2m (x4 over 10m)` when repeated.
    pub fn age_text(&self, now: Timestamp) -> String {
        let age = |t: Option<Timestamp>| match t {
            Some(t) => crate::time::age(t, now),
            None => "<unknown>".to_string(),
        };
        if self.count > 1 {
            format!(
                "{} (x{} over {})",
                age(self.last_seen),
                self.count,
                age(self.first_seen)
            )
        } else {
            age(self.first_seen.or(self.last_seen))
        }
    }
}

fn involved_subject(r: &ObjectReference) -> String {
    crate::findings::subject(
        &r.kind.clone().unwrap_or_default().to_lowercase(),
        r.namespace.as_deref().unwrap_or_default(),
        r.name.as_deref().unwrap_or_default(),
    )
}

/// One event as a summary (not merged yet).
fn summary_of(e: &Event) -> EventSummary {
    let series_last = e
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0);
    let event_time = e.event_time.as_ref().map(|t| t.0);
    let created = e.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let first_seen = e
        .first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(event_time)
        .or(created);
    let last_seen = series_last
        .or(e.last_timestamp.as_ref().map(|t| t.0))
        .or(event_time)
        .or(created);
    let count = e
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(1);
    let source = e
        .source
        .as_ref()
        .and_then(|s| s.component.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| e.reporting_component.clone().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "<unknown>".to_string());
    EventSummary {
        type_: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default().trim().to_string(),
        count,
        first_seen,
        last_seen,
        source,
        subject: involved_subject(&e.involved_object),
        kind: e.involved_object.kind.clone().unwrap_or_default(),
        name: e.involved_object.name.clone().unwrap_or_default(),
    }
}

/// Merges identical events (same object, type, reason and message), adds their counts,
/// keeps the earliest first and latest last occurrence; newest first.
fn merge(events: impl Iterator<Item = EventSummary>) -> Vec<EventSummary> {
    let mut merged: Vec<EventSummary> = Vec::new();
    let mut index: HashMap<(String, String, String, String), usize> = HashMap::new();
    for e in events {
        let key = (
            e.subject.clone(),
            e.type_.clone(),
            e.reason.clone(),
            e.message.clone(),
        );
        match index.get(&key) {
            Some(&i) => {
                let m = &mut merged[i];
                m.count = m.count.saturating_add(e.count);
                m.first_seen = min_some(m.first_seen, e.first_seen);
                if e.last_seen > m.last_seen {
                    m.last_seen = e.last_seen;
                    m.source = e.source;
                }
            }
            None => {
                index.insert(key, merged.len());
                merged.push(e);
            }
        }
    }
    merged.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    merged
}

fn min_some(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Summaries of `events` whose involved object's uid is in `uids` (all events when `None`),
/// deduplicated with counts added up, newest first.
pub fn summarize(events: &[Event], uids: Option<&HashSet<String>>) -> Vec<EventSummary> {
    merge(
        events
            .iter()
            .filter(|e| {
                uids.is_none_or(|set| {
                    e.involved_object
                        .uid
                        .as_ref()
                        .is_some_and(|u| set.contains(u))
                })
            })
            .map(summary_of),
    )
}

/// The object an event is about, for [`for_object`].
#[derive(Clone, Copy, Debug)]
pub struct ObjectKey<'a> {
    /// Kind as the API spells it (`Pod`, `Deployment`, `Node`).
    pub kind: &'a str,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: &'a str,
    /// Name.
    pub name: &'a str,
    /// The uid, when known: then events of an older object of the same name are left out.
    pub uid: Option<&'a str>,
}

impl ObjectKey<'_> {
    /// True when the event is about this object: same uid when both are known, else the
    /// same kind, namespace and name.
    pub fn matches(&self, r: &ObjectReference) -> bool {
        let same_name = r.kind.as_deref() == Some(self.kind)
            && r.name.as_deref() == Some(self.name)
            && r.namespace.as_deref().unwrap_or_default() == self.namespace;
        match (self.uid, r.uid.as_deref().filter(|u| !u.is_empty())) {
            (Some(want), Some(got)) => want == got,
            _ => same_name,
        }
    }
}

/// Summaries of the events about one object, newest first.
pub fn for_object(events: &[Event], object: ObjectKey<'_>) -> Vec<EventSummary> {
    merge(
        events
            .iter()
            .filter(|e| object.matches(&e.involved_object))
            .map(summary_of),
    )
}

/// Lists core/v1 events in `namespace` (all namespaces when `None`), page by page.
pub async fn list_events(client: &kube::Client, namespace: Option<&str>) -> Result<Vec<Event>> {
    let api: Api<Event> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let op = || match namespace {
        Some(ns) => Op::new("list", "events").ns(ns),
        None => Op::new("list", "events"),
    };
    list_pages(&api, ListParams::default(), op).await
}

/// The events about one object, fetched with a field selector on the involved object
/// (filtered again here, should a server ignore the selector), summarised newest first.
pub async fn events_for(
    client: &kube::Client,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<Vec<EventSummary>> {
    let api: Api<Event> = if namespace.is_empty() {
        Api::all(client.clone())
    } else {
        Api::namespaced(client.clone(), namespace)
    };
    let selector = format!("involvedObject.kind={kind},involvedObject.name={name}");
    let lp = ListParams::default().fields(&selector);
    let op = || {
        let op = Op::new("list", "events");
        if namespace.is_empty() {
            op
        } else {
            op.ns(namespace)
        }
    };
    let events = list_pages(&api, lp, op).await?;
    Ok(for_object(
        &events,
        ObjectKey {
            kind,
            namespace,
            name,
            uid: None,
        },
    ))
}

async fn list_pages(api: &Api<Event>, base: ListParams, op: impl Fn() -> Op) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = base.clone().limit(PAGE_SIZE);
        if let Some(t) = token.take() {
            lp = lp.continue_token(&t);
        }
        let page = api.list(&lp).await.during(op())?;
        out.extend(page.items);
        match page.metadata.continue_ {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// The Events table of `kubectl describe`: TYPE, REASON, AGE, FROM, MESSAGE.
pub fn events_table(events: &[EventSummary], now: Timestamp) -> Table {
    let mut table = Table::new(["type", "reason", "age", "from", "message"]);
    for e in events {
        table.row([
            e.type_.clone(),
            e.reason.clone(),
            e.age_text(now),
            e.source.clone(),
            e.message.replace('\n', " "),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(uid: &str, reason: &str, message: &str, extra: Value) -> Event {
        let mut v = json!({
            "metadata": {"name": format!("e-{reason}-{uid}"), "namespace": "gw"},
            "involvedObject": {"kind": "Pod", "namespace": "gw", "name": format!("pod-{uid}"), "uid": uid},
            "type": "Warning",
            "reason": reason,
            "message": message,
            "source": {"component": "kubelet"},
        });
        if let (Some(base), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn filters_by_uid_merges_and_sorts_newest_first() {
        let events = vec![
            event(
                "a",
                "BackOff",
                "Back-off restarting failed container",
                json!({
                "count": 3, "firstTimestamp": "2026-11-05T09:00:00Z", "lastTimestamp": "2026-11-05T09:10:00Z"}),
            ),
            event(
                "a",
                "BackOff",
                "Back-off restarting failed container",
                json!({
                "count": 2, "firstTimestamp": "2026-11-05T08:50:00Z", "lastTimestamp": "2026-11-05T09:20:00Z",
                "source": {"component": "kubelet-2"}}),
            ),
            event(
                "a",
                "Pulled",
                "image pulled",
                json!({
                "type": "Normal", "firstTimestamp": "2026-11-05T09:15:00Z", "lastTimestamp": "2026-11-05T09:15:00Z"}),
            ),
            event(
                "b",
                "BackOff",
                "Back-off restarting failed container",
                json!({
                "count": 7, "lastTimestamp": "2026-11-05T09:30:00Z"}),
            ),
        ];
        let uids: HashSet<String> = ["a".to_string()].into();
        let got = summarize(&events, Some(&uids));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].reason, "BackOff");
        assert_eq!(got[0].count, 5);
        assert_eq!(got[0].first_seen, Some(ts("2026-11-05T08:50:00Z")));
        assert_eq!(got[0].last_seen, Some(ts("2026-11-05T09:20:00Z")));
        assert_eq!(got[0].source, "kubelet-2");
        assert_eq!(got[0].subject, "pod/gw/pod-a");
        assert!(got[0].is_warning());
        assert_eq!(got[1].reason, "Pulled");
        assert!(!got[1].is_warning());
        assert_eq!(summarize(&events, None).len(), 3);
    }

    #[test]
    fn series_and_event_time_of_new_style_events() {
        let e = event(
            "a",
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient memory.",
            json!({
                "eventTime": "2026-11-05T09:00:00.000000Z",
                "reportingComponent": "default-scheduler",
                "source": {},
                "series": {"count": 12, "lastObservedTime": "2026-11-05T09:30:00.000000Z"}
            }),
        );
        let got = summarize(&[e], None);
        assert_eq!(got[0].count, 12);
        assert_eq!(got[0].first_seen, Some(ts("2026-11-05T09:00:00Z")));
        assert_eq!(got[0].last_seen, Some(ts("2026-11-05T09:30:00Z")));
        assert_eq!(got[0].source, "default-scheduler");
        let now = ts("2026-11-05T09:40:00Z");
        assert_eq!(got[0].age_text(now), "10m (x12 over 40m)");
    }

    #[test]
    fn object_key_prefers_uid_and_falls_back_to_name() {
        let events = vec![
            event(
                "old",
                "Killing",
                "Stopping container",
                json!({
                "involvedObject": {"kind": "Pod", "namespace": "gw", "name": "proxy-0", "uid": "old"}}),
            ),
            event(
                "new",
                "Started",
                "Started container",
                json!({
                "involvedObject": {"kind": "Pod", "namespace": "gw", "name": "proxy-0", "uid": "new"}}),
            ),
            event(
                "",
                "Scheduled",
                "Assigned",
                json!({
                "involvedObject": {"kind": "Pod", "namespace": "gw", "name": "proxy-0"}}),
            ),
            event(
                "x",
                "Started",
                "Started container",
                json!({
                "involvedObject": {"kind": "Node", "name": "proxy-0", "uid": "x"}}),
            ),
        ];
        let key = ObjectKey {
            kind: "Pod",
            namespace: "gw",
            name: "proxy-0",
            uid: Some("new"),
        };
        let reasons: Vec<_> = for_object(&events, key)
            .into_iter()
            .map(|e| e.reason)
            .collect();
        assert_eq!(reasons.len(), 2);
        assert!(
            reasons.contains(&"Started".to_string()) && reasons.contains(&"Scheduled".to_string())
        );
        let by_name = ObjectKey { uid: None, ..key };
        assert_eq!(for_object(&events, by_name).len(), 3);
    }

    #[test]
    fn describe_table() {
        let e = event(
            "a",
            "OOMKilling",
            "Memory cgroup out of memory",
            json!({
            "firstTimestamp": "2026-11-05T09:38:00Z", "lastTimestamp": "2026-11-05T09:38:00Z"}),
        );
        let t = events_table(&summarize(&[e], None), ts("2026-11-05T09:40:00Z"));
        let mut out = Vec::new();
        t.write(&mut out, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "TYPE      REASON       AGE   FROM      MESSAGE\n\
             Warning   OOMKilling   2m    kubelet   Memory cgroup out of memory\n"
        );
    }
}
