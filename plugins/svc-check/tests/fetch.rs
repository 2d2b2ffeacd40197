//! The fetch layer against a small in-process API server: one paginated list per kind, the
//! request count does not grow with the number of Services, a missing Service names close
//! ones, and unreadable nodes or events are noted instead of failing the check.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use kubectl_svc_check::fetch::{Scope, fetch};
use serde_json::{Value, json};

/// Serves objects by collection path, `page` per page, and records every request path.
struct Fake {
    objects: Vec<(String, Value)>,
    page: usize,
    forbidden: Vec<&'static str>,
    requests: Mutex<Vec<String>>,
}

fn respond(code: u16, body: Value) -> Response {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    respond(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message, "code": code}),
    )
}

async fn handle(State(fake): State<Arc<Fake>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    fake.requests
        .lock()
        .unwrap()
        .push(format!("{path}?{query}"));
    if fake.forbidden.iter().any(|f| path.ends_with(f)) {
        return status(
            403,
            "Forbidden",
            "nodes is forbidden: User \"dev\" cannot list resource \"nodes\"",
        );
    }
    if let Some(obj) = fake
        .objects
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, o)| o.clone())
    {
        return respond(200, obj);
    }
    let selector = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("labelSelector="))
        .map(|s| s.replace("%2F", "/").replace("%3D", "="));
    let all_namespaces = !path.contains("/namespaces/");
    let kind = path.rsplit('/').next().unwrap_or_default();
    let items: Vec<Value> = fake
        .objects
        .iter()
        .filter(|(p, _)| {
            let (collection, _) = p.rsplit_once('/').unwrap();
            collection == path
                || (all_namespaces
                    && collection.ends_with(&format!("/{kind}"))
                    && p.starts_with(path.split("/namespaces").next().unwrap()))
        })
        .filter(|(_, o)| match &selector {
            Some(sel) => {
                let (k, v) = sel.split_once('=').unwrap();
                o["metadata"]["labels"][k] == v
            }
            None => true,
        })
        .map(|(_, o)| o.clone())
        .collect();
    if items.is_empty()
        && ![
            "pods",
            "services",
            "endpointslices",
            "events",
            "nodes",
            "endpoints",
        ]
        .contains(&kind)
    {
        return status(404, "NotFound", &format!("{path} not found"));
    }
    let start: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("continue="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let end = (start + fake.page).min(items.len());
    let next = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    respond(
        200,
        json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "9", "continue": next}, "items": items[start..end]}),
    )
}

fn service(ns: &str, name: &str) -> (String, Value) {
    (
        format!("/api/v1/namespaces/{ns}/services/{name}"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}),
    )
}

fn pod(ns: &str, name: &str, app: &str) -> (String, Value) {
    (
        format!("/api/v1/namespaces/{ns}/pods/{name}"),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": app},
            "managedFields": [{"manager": "kubectl"}]},
            "spec": {"containers": [{"name": "app", "env": [{"name": "SECRETISH", "value": "x"}]}]}}),
    )
}

fn slice(ns: &str, svc: &str) -> (String, Value) {
    (
        format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices/{svc}-1"),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": format!("{svc}-1"), "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "endpoints": []}),
    )
}

fn cluster(services: usize, page: usize) -> Arc<Fake> {
    let mut objects = Vec::new();
    for i in 0..services {
        objects.push(service("shop", &format!("svc-{i}")));
        objects.push(slice("shop", &format!("svc-{i}")));
        objects.push(pod("shop", &format!("svc-{i}-pod"), &format!("svc-{i}")));
    }
    objects.push(service("shop", "checkout"));
    objects.push(slice("shop", "checkout"));
    Arc::new(Fake {
        objects,
        page,
        forbidden: vec!["/api/v1/nodes"],
        requests: Mutex::default(),
    })
}

fn client(fake: &Arc<Fake>) -> kube::Client {
    kube::Client::new(
        axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(fake)),
        "shop",
    )
}

#[tokio::test]
async fn one_paginated_list_per_kind_whatever_the_number_of_services() {
    for services in [3, 40] {
        let fake = cluster(services, 500);
        let f = fetch(&client(&fake), &Scope::Namespace("shop".into()), None)
            .await
            .unwrap();
        assert_eq!(f.services.len(), services + 1);
        assert_eq!(f.pods.len(), services);
        assert_eq!(f.slices.len(), services + 1);
        let requests = fake.requests.lock().unwrap().clone();
        assert_eq!(
            requests.len(),
            5,
            "services, pods, endpointslices, events, nodes: {requests:?}"
        );
        assert_eq!(f.requests, 5);
    }
}

#[tokio::test]
async fn every_page_is_read_and_objects_are_slimmed() {
    let fake = cluster(5, 2);
    let f = fetch(&client(&fake), &Scope::Namespace("shop".into()), None)
        .await
        .unwrap();
    assert_eq!(f.pods.len(), 5);
    let requests = fake.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/pods?") && r.contains("continue=4")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| !r.contains("/pods?") || r.contains("limit=500")),
        "{requests:?}"
    );
    let pod = &f.pods[0];
    assert!(pod.metadata.managed_fields.is_none());
    assert!(pod.spec.as_ref().unwrap().containers[0].env.is_none());
}

#[tokio::test]
async fn unreadable_nodes_are_a_note_not_a_failure() {
    let fake = cluster(1, 500);
    let f = fetch(&client(&fake), &Scope::Namespace("shop".into()), None)
        .await
        .unwrap();
    assert!(f.nodes.is_none());
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("nodes not read") && n.contains("forbidden")),
        "{:?}",
        f.notes
    );
}

#[tokio::test]
async fn one_service_reads_its_slices_by_label() {
    let fake = cluster(3, 500);
    let scope = Scope::Service {
        namespace: "shop".into(),
        name: "checkout".into(),
    };
    let f = fetch(&client(&fake), &scope, None).await.unwrap();
    assert_eq!(f.services.len(), 1);
    assert_eq!(f.slices.len(), 1);
    let requests = fake.requests.lock().unwrap().clone();
    assert!(
        requests.iter().any(|r| r.contains("endpointslices?")
            && r.contains("labelSelector=kubernetes.io%2Fservice-name%3Dcheckout")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn missing_service_names_close_ones() {
    let fake = cluster(1, 500);
    let scope = Scope::Service {
        namespace: "shop".into(),
        name: "chekout".into(),
    };
    let err = fetch(&client(&fake), &scope, None).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        "service \"chekout\" not found in namespace \"shop\"; did you mean checkout?"
    );
}
