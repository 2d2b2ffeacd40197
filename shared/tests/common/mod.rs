//! A small in-process API server for the integration tests of the shared library: objects
//! per resource in one namespace, lists (paginated when asked), GETs by name, watches that
//! resume from a resourceVersion, RBAC refusals, and a log of every query string.

#![allow(dead_code)] // each test binary uses a part of the fake

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// The fake API server.
pub struct Fake {
    state: Mutex<FakeState>,
    changes: broadcast::Sender<Change>,
}

#[derive(Default)]
struct FakeState {
    version: u64,
    objects: HashMap<String, Vec<Value>>,
    history: Vec<Change>,
    forbidden: Option<String>,
    page_size: Option<usize>,
    queries: Vec<String>,
}

#[derive(Clone)]
struct Change {
    version: u64,
    resource: String,
    event: Value,
}

fn resource_of(kind: &str) -> String {
    match kind {
        "Deployment" => "deployments".into(),
        "StatefulSet" => "statefulsets".into(),
        "ReplicaSet" => "replicasets".into(),
        "Pod" => "pods".into(),
        "Event" => "events".into(),
        other => format!("{}s", other.to_lowercase()),
    }
}

impl Fake {
    /// An empty server.
    pub fn new() -> Arc<Fake> {
        Arc::new(Fake {
            state: Mutex::new(FakeState::default()),
            changes: broadcast::channel(64).0,
        })
    }

    /// Adds or replaces an object (by kind and name) and tells the watchers.
    pub fn apply(&self, mut obj: Value) {
        let mut st = self.state.lock().unwrap();
        st.version += 1;
        let version = st.version;
        obj["metadata"]["resourceVersion"] = json!(version.to_string());
        let resource = resource_of(obj["kind"].as_str().unwrap_or_default());
        let list = st.objects.entry(resource.clone()).or_default();
        let name = obj["metadata"]["name"].clone();
        let kind = match list.iter().position(|o| o["metadata"]["name"] == name) {
            Some(i) => {
                list[i] = obj.clone();
                "MODIFIED"
            }
            None => {
                list.push(obj.clone());
                "ADDED"
            }
        };
        let change = Change {
            version,
            resource,
            event: json!({"type": kind, "object": obj}),
        };
        st.history.push(change.clone());
        let _ = self.changes.send(change);
    }

    /// Every request on `resource` answers 403.
    pub fn forbid(&self, resource: &str) {
        self.state.lock().unwrap().forbidden = Some(resource.to_string());
    }

    /// Lists answer at most `n` items per page (with a continue token).
    pub fn page_size(&self, n: usize) {
        self.state.lock().unwrap().page_size = Some(n);
    }

    /// The query strings of every request so far.
    pub fn queries(&self) -> Vec<String> {
        self.state.lock().unwrap().queries.clone()
    }

    /// A client talking to this server in-process.
    pub fn client(self: &Arc<Fake>) -> kube::Client {
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(self));
        kube::Client::new(router, "gw")
    }
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                      "code": code, "reason": reason, "message": message});
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn json_response(v: &Value) -> Response {
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

async fn handle(State(fake): State<Arc<Fake>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (resource, name) = match segments.as_slice() {
        [.., "namespaces", _, r] => (r.to_string(), None),
        [.., "namespaces", _, r, n] => (r.to_string(), Some(n.to_string())),
        _ => return status(404, "NotFound", "no such path"),
    };
    let param = |key: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .map(str::to_string)
    };
    let receiver = fake.changes.subscribe();
    let mut st = fake.state.lock().unwrap();
    st.queries.push(query.clone());
    if st.forbidden.as_deref() == Some(resource.as_str()) {
        return status(
            403,
            "Forbidden",
            &format!("{resource} is forbidden: User \"bob\" cannot list resource"),
        );
    }
    let objects = st.objects.get(&resource).cloned().unwrap_or_default();
    if let Some(name) = name {
        return match objects
            .iter()
            .find(|o| o["metadata"]["name"] == json!(name))
        {
            Some(o) => json_response(o),
            None => status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
        };
    }
    if param("watch").as_deref() == Some("true") {
        let from: u64 = param("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let past: Vec<Change> = st
            .history
            .iter()
            .filter(|c| c.version > from && c.resource == resource)
            .cloned()
            .collect();
        let last_past = past.last().map_or(from, |c| c.version);
        drop(st);
        let live = futures::stream::unfold(receiver, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(c) => return Some((c, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        let wanted = resource.clone();
        let lines = futures::stream::iter(past)
            .chain(live.filter(move |c| {
                let keep = c.resource == wanted && c.version > last_past;
                async move { keep }
            }))
            .map(|c| Ok::<_, std::convert::Infallible>(format!("{}\n", c.event)));
        return Response::builder()
            .header("content-type", "application/json")
            .body(Body::from_stream(lines))
            .unwrap();
    }
    let start: usize = param("continue")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(objects.len());
    let end = st
        .page_size
        .map_or(objects.len(), |n| (start + n).min(objects.len()));
    let next = if end < objects.len() {
        end.to_string()
    } else {
        String::new()
    };
    json_response(&json!({
        "kind": "List", "apiVersion": "v1",
        "metadata": {"resourceVersion": st.version.to_string(), "continue": next},
        "items": objects[start..end],
    }))
}
