//! Watches: a chunked stream of newline-delimited `{"type": ..., "object": ...}` events.
//!
//! Without a resource version (or with `0`) the stream starts with synthetic ADDED events for
//! the current objects; with one it replays the history after it, or sends an ERROR event with
//! a 410 Expired `Status` when the history no longer reaches back that far (as the real watch
//! cache does). With selectors, objects moving in or out of the selection arrive as ADDED or
//! DELETED. `timeoutSeconds`, bookmarks, `sendInitialEvents` and the drop-after-K-events fault
//! are honoured.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, header};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::errors::ApiError;
use crate::resources::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{EventType, Store, StoredEvent, str_at};

use super::crud::Call;
use super::response::{Representation, error_response, partial_metadata};
use super::table::{self, IncludeObject};

/// How long a watch without `timeoutSeconds` lasts.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often bookmarks are sent when allowed.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// What one watch selects and how it renders events.
struct WatchSpec {
    store: Store,
    key: String,
    resource: &'static ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    name: Option<String>,
    representation: Representation,
    include_object: IncludeObject,
    bookmarks: bool,
}

impl WatchSpec {
    fn selects(&self, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| ns == str_at(obj, "namespace"))
            && self
                .name
                .as_deref()
                .is_none_or(|name| name == str_at(obj, "name"))
            && self.labels.matches(obj)
            && self.fields.matches(self.resource.plural, obj)
    }

    /// Whether some objects of the resource may be outside this watch's selection.
    fn filtered(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty() || self.name.is_some()
    }

    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        let object = match self.representation {
            _ if kind == "ERROR" || kind == "BOOKMARK" => obj.clone(),
            Representation::Table => table::render_with(
                self.resource,
                &[Arc::new(obj.clone())],
                None,
                self.include_object,
            ),
            Representation::Metadata => partial_metadata(obj),
            Representation::Object => obj.clone(),
        };
        let mut out =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        out.push(b'\n');
        Bytes::from(out)
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(), "metadata": metadata});
        self.line("BOOKMARK", &obj)
    }
}

/// Starts a watch for `call` and returns the streaming response.
pub fn serve(call: &Call<'_>) -> Response {
    let query = call.query;
    if let Err(message) = query.field_selector.check_supported(call.resource().plural) {
        return error_response(&ApiError::bad_request(message));
    }
    let start = match query.resource_version.as_deref() {
        None | Some("0") => None,
        Some(rv) => match rv.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return error_response(&ApiError::bad_request(format!(
                    "invalid resource version: {rv}"
                )));
            }
        },
    };
    let spec = WatchSpec {
        store: call.app.store.clone(),
        key: call.key(),
        resource: call.resource(),
        namespace: call.namespace().map(str::to_string),
        labels: query.label_selector.clone(),
        fields: query.field_selector.clone(),
        name: call
            .target
            .name
            .clone()
            .or_else(|| query.field_selector.required_name().map(str::to_string)),
        representation: call.representation,
        include_object: query.include_object,
        bookmarks: query.allow_watch_bookmarks,
    };
    let timeout = query
        .timeout_seconds
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let send_initial = query.send_initial_events.unwrap_or(start.is_none());
    let initial_end_bookmark =
        query.send_initial_events == Some(true) && query.allow_watch_bookmarks;
    let drop_after = call.app.faults.watch_drop_after();
    let (sender, receiver) = mpsc::channel::<Bytes>(256);
    let plan = Plan {
        start,
        send_initial,
        initial_end_bookmark,
        timeout,
        drop_after,
    };
    tokio::spawn(run(spec, plan, sender));
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), receiver))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Where a watch starts and when it ends.
struct Plan {
    /// Resource version to replay from; `None` starts at the current state.
    start: Option<u64>,
    /// Send ADDED events for the current objects first.
    send_initial: bool,
    /// Mark the end of the initial events with a bookmark.
    initial_end_bookmark: bool,
    /// When the stream ends.
    timeout: Duration,
    /// The drop-after-K-events fault.
    drop_after: Option<usize>,
}

/// Sends lines until the client goes away, the timeout passes or the fault drops the watch.
async fn run(spec: WatchSpec, plan: Plan, sender: mpsc::Sender<Bytes>) {
    let Plan {
        start,
        send_initial,
        initial_end_bookmark,
        timeout,
        drop_after,
    } = plan;
    let deadline = Instant::now() + timeout;
    let mut changes = spec.store.changes();
    changes.borrow_and_update();
    let mut sent = 0usize;
    let mut visible: HashSet<String> = HashSet::new();
    let mut last = match start {
        Some(rv) => {
            if spec.filtered() {
                let (objects, _) = spec.store.list_shared(&spec.key, spec.namespace.as_deref());
                visible.extend(
                    objects
                        .iter()
                        .filter(|o| spec.selects(o))
                        .map(|o| identity(o)),
                );
            }
            rv
        }
        None => spec.store.resource_version(),
    };
    if send_initial {
        let (objects, rv) = spec.store.list_shared(&spec.key, spec.namespace.as_deref());
        last = rv;
        for obj in objects.iter().filter(|o| spec.selects(o)) {
            visible.insert(identity(obj));
            if sender.send(spec.line("ADDED", obj)).await.is_err() {
                return;
            }
            sent += 1;
            if drop_after.is_some_and(|limit| sent >= limit) {
                return;
            }
        }
        if initial_end_bookmark && sender.send(spec.bookmark(last, true)).await.is_err() {
            return;
        }
    }
    let mut next_bookmark = Instant::now() + BOOKMARK_EVERY;
    loop {
        changes.borrow_and_update();
        match spec.store.events_since(last) {
            Err(err) => {
                let _ = sender.send(spec.line("ERROR", &err.to_status())).await;
                return;
            }
            Ok(events) => {
                for event in events {
                    last = event.resource_version;
                    let Some(kind) = classify(&spec, &event, &mut visible) else {
                        continue;
                    };
                    if sender.send(spec.line(kind, &event.object)).await.is_err() {
                        return;
                    }
                    sent += 1;
                    if drop_after.is_some_and(|limit| sent >= limit) {
                        return;
                    }
                }
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = tokio::time::sleep_until(deadline) => return,
            () = tokio::time::sleep_until(next_bookmark) => {
                next_bookmark = Instant::now() + BOOKMARK_EVERY;
                if spec.bookmarks && sender.send(spec.bookmark(last, false)).await.is_err() {
                    return;
                }
            }
            () = sender.closed() => return,
        }
    }
}

fn identity(obj: &Value) -> String {
    format!("{}/{}", str_at(obj, "namespace"), str_at(obj, "name"))
}

/// The event type this watch reports for a stored change, if any.
fn classify(
    spec: &WatchSpec,
    event: &StoredEvent,
    visible: &mut HashSet<String>,
) -> Option<&'static str> {
    if *event.plural != *spec.key {
        return None;
    }
    let obj = &event.object;
    if spec
        .namespace
        .as_deref()
        .is_some_and(|ns| ns != str_at(obj, "namespace"))
    {
        return None;
    }
    if !spec.filtered() {
        return Some(event.kind.as_str());
    }
    let id = identity(obj);
    let selected = spec.selects(obj);
    let was = visible.contains(&id);
    match event.kind {
        // The deleted object is its last state: it was visible if it matched then.
        EventType::Deleted => (visible.remove(&id) || selected).then_some("DELETED"),
        EventType::Added | EventType::Modified => match (was, selected) {
            (true, true) => Some(if event.kind == EventType::Added {
                "ADDED"
            } else {
                "MODIFIED"
            }),
            (false, true) => {
                visible.insert(id);
                Some("ADDED")
            }
            (true, false) => {
                visible.remove(&id);
                Some("DELETED")
            }
            (false, false) => None,
        },
    }
}
