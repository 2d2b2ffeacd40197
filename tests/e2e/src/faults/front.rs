//! A recording, tampering front for a test cluster. A plugin pointed at it (through
//! [`Front::write_kubeconfig`]) reaches the same store, faults and deny rules as the cluster
//! itself, while the front logs every request (method, path, query, Authorization header) and
//! can, for chosen requests: mangle the answer (truncated JSON, unknown fields, no `status`),
//! answer a resumed watch with a 410 Expired event, or let a concurrent writer change the
//! store just before the request goes through.
//!
//! The cluster's `reset` fault closes the connection from the cluster's own accept loop, which
//! the front does not have: run reset faults against the cluster's URL.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use testcluster::TestCluster;
use testcluster::server::{App, router};
use testcluster::store::Store;
use tower::ServiceExt;

/// One request the front saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query string ("" when none).
    pub query: String,
    /// The Authorization header as sent, if any.
    pub authorization: Option<String>,
}

impl Seen {
    /// Whether the query has `key` (as `key=...`).
    pub fn has_param(&self, key: &str) -> bool {
        self.param(key).is_some()
    }

    /// The value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .split('&')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    /// A watch request (`?watch=true` or `?watch=1`).
    pub fn is_watch(&self) -> bool {
        matches!(self.param("watch"), Some("true" | "1"))
    }
}

/// How an answer is spoiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mangle {
    /// Only the first half of the body arrives.
    Truncate,
    /// Every object (and list) gains fields no schema knows.
    UnknownFields,
    /// Every object loses its `status`.
    DropStatus,
}

/// What happens to a matching request.
#[derive(Clone)]
enum Action {
    Mangle(Mangle),
    ExpireResumedWatch,
    Before(Arc<dyn Fn(&Store) + Send + Sync>),
}

/// "The next `left` requests with `method` whose path contains `path` get `action`".
struct Rule {
    method: Option<Method>,
    path: String,
    left: usize,
    action: Action,
}

struct Shared {
    store: Store,
    upstream: axum::Router,
    log: Mutex<Vec<Seen>>,
    rules: Mutex<Vec<Rule>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running front; stops when dropped.
pub struct Front {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Front {
    /// Serves a front for `cluster` on a free 127.0.0.1 port.
    pub async fn start(cluster: &TestCluster) -> Front {
        let app = App {
            store: cluster.store().clone(),
            faults: cluster.faults().clone(),
            rbac: cluster.rbac().clone(),
        };
        let shared = Arc::new(Shared {
            store: app.store.clone(),
            upstream: router(app),
            log: Mutex::new(Vec::new()),
            rules: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the front");
        let url = format!("http://{}", listener.local_addr().expect("front address"));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Front { url, shared, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Writes a kubeconfig pointing at the front.
    pub fn write_kubeconfig(&self, path: &std::path::Path) {
        testcluster::kubeconfig::write(&self.url, path).expect("write the front's kubeconfig");
    }

    /// Every request seen so far, oldest first.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Spoils the answers of the next `count` requests (`method`, path containing `path`).
    pub fn mangle(&self, count: usize, method: Option<Method>, path: &str, how: Mangle) {
        self.add(count, method, path, Action::Mangle(how));
    }

    /// Answers the next `count` resumed watches (a `resourceVersion` other than "" and "0") on
    /// paths containing `path` with a 410 Expired event, as the watch cache does when the
    /// version is too old.
    pub fn expire_resumed_watches(&self, count: usize, path: &str) {
        self.add(count, Some(Method::GET), path, Action::ExpireResumedWatch);
    }

    /// Runs `change` on the store just before the next `count` matching requests reach it:
    /// a concurrent writer that got in first.
    pub fn before(
        &self,
        count: usize,
        method: Method,
        path: &str,
        change: impl Fn(&Store) + Send + Sync + 'static,
    ) {
        self.add(count, Some(method), path, Action::Before(Arc::new(change)));
    }

    /// How many uses of the rules are left (0 once every rule fired as often as asked).
    pub fn rules_left(&self) -> usize {
        lock(&self.shared.rules).iter().map(|r| r.left).sum()
    }

    fn add(&self, count: usize, method: Option<Method>, path: &str, action: Action) {
        if count > 0 {
            lock(&self.shared.rules).push(Rule {
                method,
                path: path.to_string(),
                left: count,
                action,
            });
        }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    /// The action of the first rule matching `seen`, using it up once.
    fn take(&self, seen: &Seen) -> Option<Action> {
        let mut rules = lock(&self.rules);
        let index = rules.iter().position(|r| {
            seen.path.contains(&r.path)
                && r.method.as_ref().is_none_or(|m| m.as_str() == seen.method)
                && match r.action {
                    Action::ExpireResumedWatch => {
                        seen.is_watch()
                            && seen
                                .param("resourceVersion")
                                .is_some_and(|rv| !rv.is_empty() && rv != "0")
                    }
                    Action::Mangle(_) => !seen.is_watch(),
                    Action::Before(_) => true,
                }
        })?;
        let rule = &mut rules[index];
        rule.left -= 1;
        let action = rule.action.clone();
        if rule.left == 0 {
            rules.remove(index);
        }
        Some(action)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let seen = Seen {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: request.uri().query().unwrap_or_default().to_string(),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    lock(&shared.log).push(seen.clone());
    let action = shared.take(&seen);
    if let Some(Action::Before(change)) = &action {
        change(&shared.store);
    }
    if let Some(Action::ExpireResumedWatch) = action {
        return expired_watch();
    }
    let response = match shared.upstream.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    match action {
        Some(Action::Mangle(how)) => mangle(response, how).await,
        _ => response,
    }
}

/// A watch stream holding only the 410 Expired error event.
fn expired_watch() -> Response {
    let event = json!({"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version (injected by the test front)",
        "reason": "Expired", "code": 410}});
    let mut line = event.to_string();
    line.push('\n');
    let mut response = Response::new(Body::from(line));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn mangle(response: Response, how: Mangle) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let spoiled = match how {
        Mangle::Truncate => bytes[..bytes.len() / 2].to_vec(),
        Mangle::UnknownFields | Mangle::DropStatus => match serde_json::from_slice(&bytes) {
            Ok(mut value) => {
                spoil(&mut value, how);
                serde_json::to_vec(&value).unwrap_or_default()
            }
            Err(_) => bytes.to_vec(),
        },
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    if parts.status == StatusCode::NOT_MODIFIED {
        parts.status = StatusCode::OK;
    }
    Response::from_parts(parts, Body::from(spoiled))
}

/// Adds unknown fields to, or removes `status` from, an object or a list and its items.
fn spoil(value: &mut Value, how: Mangle) {
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    match how {
        Mangle::UnknownFields => {
            obj.insert(
                "zzUnknownField".into(),
                json!({"nested": [1, "two", {"three": null}]}),
            );
            for key in ["metadata", "spec", "status"] {
                if let Some(inner) = obj.get_mut(key).and_then(Value::as_object_mut) {
                    inner.insert("zzUnknownField".into(), json!(["x", 2, false]));
                }
            }
        }
        Mangle::DropStatus => {
            if obj.get("kind").and_then(Value::as_str) != Some("Status") {
                obj.remove("status");
            }
        }
        Mangle::Truncate => {}
    }
    if let Some(items) = obj.get_mut("items").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(|item| spoil(item, how));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_read_exactly() {
        let seen = Seen {
            method: "GET".into(),
            path: "/api/v1/pods".into(),
            query: "watch=true&resourceVersion=41&resourceVersionMatch=x".into(),
            authorization: None,
        };
        assert!(seen.is_watch());
        assert_eq!(seen.param("resourceVersion"), Some("41"));
        assert!(!seen.has_param("labelSelector"));
    }

    #[test]
    fn spoiling_reaches_list_items() {
        let mut list =
            json!({"kind": "PodList", "items": [{"metadata": {}, "status": {"phase": "Running"}}]});
        spoil(&mut list, Mangle::DropStatus);
        assert_eq!(list["items"][0].get("status"), None);
        spoil(&mut list, Mangle::UnknownFields);
        assert!(list["items"][0]["metadata"]["zzUnknownField"].is_array());
        assert!(list["zzUnknownField"].is_object());
    }
}
