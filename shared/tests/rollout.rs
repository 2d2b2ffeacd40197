//! The rollout follower against a small in-process API server: lists, watches (with resume
//! by resourceVersion), RBAC refusals, timeouts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::StreamExt;
use runbook::rollout::{RolloutFailure, RolloutFollower, RolloutOutcome};
use runbook::workload::WorkloadKind;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// A fake API server holding deployments, replicasets and pods in namespace `gw`.
struct Fake {
    state: Mutex<FakeState>,
    changes: broadcast::Sender<Change>,
}

#[derive(Default)]
struct FakeState {
    version: u64,
    objects: HashMap<String, Vec<Value>>,
    history: Vec<Change>,
    forbidden: Option<String>,
}

#[derive(Clone)]
struct Change {
    version: u64,
    resource: String,
    event: Value,
}

fn resource_of(kind: &str) -> &'static str {
    match kind {
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        "ReplicaSet" => "replicasets",
        _ => "pods",
    }
}

impl Fake {
    fn new() -> Arc<Fake> {
        Arc::new(Fake {
            state: Mutex::new(FakeState::default()),
            changes: broadcast::channel(64).0,
        })
    }

    /// Adds or replaces an object (by name) and tells the watchers.
    fn apply(&self, mut obj: Value) {
        let mut st = self.state.lock().unwrap();
        st.version += 1;
        let version = st.version;
        obj["metadata"]["resourceVersion"] = json!(version.to_string());
        let resource = resource_of(obj["kind"].as_str().unwrap_or_default()).to_string();
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

    fn forbid(&self, resource: &str) {
        self.state.lock().unwrap().forbidden = Some(resource.to_string());
    }

    fn client(self: &Arc<Fake>) -> kube::Client {
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
    let st = fake.state.lock().unwrap();
    if st.forbidden.as_deref() == Some(resource.as_str()) {
        return status(403, "Forbidden", &format!("{resource} is forbidden: User \"bob\" cannot list resource"));
    }
    let objects = st.objects.get(&resource).cloned().unwrap_or_default();
    if let Some(name) = name {
        return match objects.iter().find(|o| o["metadata"]["name"] == json!(name)) {
            Some(o) => json_response(o),
            None => status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
        };
    }
    if param("watch").as_deref() == Some("true") {
        let from: u64 = param("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
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
    json_response(&json!({
        "kind": "List", "apiVersion": "v1",
        "metadata": {"resourceVersion": st.version.to_string()},
        "items": objects,
    }))
}

fn template(image: &str, hash: Option<&str>) -> Value {
    let mut labels = json!({"app": "gw"});
    if let Some(h) = hash {
        labels["pod-template-hash"] = json!(h);
    }
    json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "proxy", "image": image}]}})
}

fn deployment(generation: i64, status: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "gw", "namespace": "gw", "uid": "d-1", "generation": generation,
                     "annotations": {"deployment.kubernetes.io/revision": "2"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "gw"}}, "template": template("envoy:2", None)},
        "status": status,
    })
}

fn progressing() -> Value {
    deployment(
        2,
        json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}),
    )
}

fn complete() -> Value {
    deployment(
        2,
        json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
    )
}

fn new_replicaset() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "gw-b2", "namespace": "gw", "creationTimestamp": "2026-11-05T09:00:00Z",
                     "labels": {"app": "gw", "pod-template-hash": "b2"},
                     "annotations": {"deployment.kubernetes.io/revision": "2"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "gw", "uid": "d-1", "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": "gw"}}, "template": template("envoy:2", Some("b2"))}
    })
}

fn new_pod(name: &str, container_status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "gw", "labels": {"app": "gw", "pod-template-hash": "b2"}},
        "spec": {"containers": [{"name": "proxy", "image": "envoy:2"}]},
        "status": {"phase": "Running", "containerStatuses": [container_status]}
    })
}

fn follower(fake: &Arc<Fake>) -> RolloutFollower {
    RolloutFollower::new(fake.client(), "gw", WorkloadKind::Deployment, "gw")
        .timeout(Some(Duration::from_secs(10)))
        .since(None)
}

#[tokio::test]
async fn completes_when_a_watch_event_finishes_the_rollout() {
    let fake = Fake::new();
    fake.apply(progressing());
    fake.apply(new_replicaset());
    let writer = Arc::clone(&fake);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        writer.apply(complete());
    });
    let outcome = follower(&fake).follow().await.unwrap();
    match outcome {
        RolloutOutcome::Complete { revision, elapsed } => {
            assert_eq!(revision.as_deref(), Some("2"));
            assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
        }
        other => panic!("expected Complete, got {other:?}"),
    }
}

#[tokio::test]
async fn fails_on_a_new_pod_oom_killed_while_kubectl_would_wait() {
    let fake = Fake::new();
    fake.apply(progressing());
    fake.apply(new_replicaset());
    fake.apply(new_pod(
        "gw-b2-x",
        json!({"name": "proxy", "image": "envoy:2", "imageID": "", "ready": true, "restartCount": 0,
               "state": {"running": {}}}),
    ));
    let writer = Arc::clone(&fake);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer.apply(new_pod(
            "gw-b2-x",
            json!({"name": "proxy", "image": "envoy:2", "imageID": "", "ready": false, "restartCount": 1,
                   "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                   "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}),
        ));
    });
    let outcome = follower(&fake).follow().await.unwrap();
    let RolloutOutcome::Failed { cause, .. } = &outcome else {
        panic!("expected Failed, got {outcome:?}");
    };
    assert_eq!(cause.kind(), "oom-killed");
    assert!(matches!(cause, RolloutFailure::CrashLoop { pod, .. } if pod == "gw-b2-x"));
    assert_eq!(outcome.exit_code(), 2);
    assert!(outcome.to_string().starts_with("rollout failed after "), "{outcome}");
}

#[tokio::test]
async fn pods_of_old_replicasets_do_not_fail_the_rollout() {
    let fake = Fake::new();
    fake.apply(complete());
    fake.apply(new_replicaset());
    let mut old = new_pod(
        "gw-a1-y",
        json!({"name": "proxy", "image": "envoy:1", "imageID": "", "ready": false, "restartCount": 9,
               "state": {"waiting": {"reason": "CrashLoopBackOff"}}}),
    );
    old["metadata"]["labels"]["pod-template-hash"] = json!("a1");
    fake.apply(old);
    let outcome = follower(&fake).follow().await.unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
}

#[tokio::test]
async fn times_out_with_the_last_status() {
    let fake = Fake::new();
    fake.apply(progressing());
    fake.apply(new_replicaset());
    let outcome = follower(&fake)
        .timeout(Some(Duration::from_millis(500)))
        .follow()
        .await
        .unwrap();
    match &outcome {
        RolloutOutcome::TimedOut { last_status, .. } => {
            assert_eq!(last_status, "1 out of 2 new replicas have been updated");
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert_eq!(outcome.exit_code(), 2);
}

#[tokio::test]
async fn forbidden_watch_is_one_clear_error() {
    let fake = Fake::new();
    fake.apply(progressing());
    fake.forbid("pods");
    let err = follower(&fake).follow().await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(msg.starts_with("forbidden: cannot watch pods in namespace \"gw\""), "{msg}");
}

#[tokio::test]
async fn missing_deployment_is_not_found() {
    let fake = Fake::new();
    let err = follower(&fake).follow().await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(err.to_string(), "deployment \"gw\" not found in namespace \"gw\"");
}
