//! The test API server through the `kube` client: conflicts, pagination, watches (replay,
//! selectors, 410 Gone), eviction against disruption budgets, dry runs and injected faults.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::api::policy::v1::Eviction;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Client, Config};
use serde_json::{Value, json};
use testcluster::TestCluster;
use testcluster::faults::FaultAction;

async fn client(cluster: &TestCluster) -> Client {
    let mut config = Config::new(cluster.url().parse().expect("url"));
    config.default_namespace = "default".into();
    config.default_retry = false;
    Client::try_from(config).expect("client")
}

fn config_map(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": labels}, "data": {}})
}

fn pod(name: &str, ready: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

fn api_error(err: kube::Error) -> kube::core::Status {
    match err {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn stale_updates_conflict_and_dry_runs_store_nothing() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    let cluster = TestCluster::start(vec![deployment], None, false)
        .await
        .expect("cluster");
    let api: Api<Deployment> = Api::default_namespaced(client(&cluster).await);
    let mut first = api.get("web").await.expect("get");
    let second = api.get("web").await.expect("get");
    first.spec.as_mut().expect("spec").replicas = Some(2);
    api.replace("web", &PostParams::default(), &first)
        .await
        .expect("replace");
    let err = api_error(
        api.replace("web", &PostParams::default(), &second)
            .await
            .expect_err("stale"),
    );
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    let dry = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let preview = api
        .patch("web", &dry, &Patch::Merge(json!({"spec": {"replicas": 7}})))
        .await
        .expect("dry run");
    assert_eq!(preview.spec.and_then(|s| s.replicas), Some(7));
    assert_eq!(
        api.get("web")
            .await
            .expect("get")
            .spec
            .and_then(|s| s.replicas),
        Some(2)
    );
    let missing = api_error(api.get("nope").await.expect_err("missing"));
    assert_eq!(
        (missing.code, missing.message.as_str()),
        (404, "deployments.apps \"nope\" not found")
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn lists_page_with_continue_tokens_and_filter_by_selectors() {
    let objects: Vec<Value> = (0..25)
        .map(|i| {
            config_map(
                &format!("cm-{i:02}"),
                json!({"parity": if i % 2 == 0 { "even" } else { "odd" }}),
            )
        })
        .collect();
    let cluster = TestCluster::start(objects, None, false)
        .await
        .expect("cluster");
    let api: Api<ConfigMap> = Api::default_namespaced(client(&cluster).await);
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(10);
    let mut pages = 0;
    loop {
        let page = api.list(&params).await.expect("list");
        pages += 1;
        names.extend(page.items.iter().filter_map(|c| c.metadata.name.clone()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 25);
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "sorted and without repeats"
    );
    let metadata = api
        .list_metadata(&ListParams::default().labels("parity=even"))
        .await
        .expect("metadata list");
    assert_eq!(metadata.items.len(), 13);
    assert_eq!(metadata.items[0].metadata.name.as_deref(), Some("cm-00"));
    let odd = api
        .list(&ListParams::default().labels("parity=odd"))
        .await
        .expect("list");
    assert_eq!(odd.items.len(), 12);
    let none = api
        .list(&ListParams::default().labels("parity notin (odd,even)"))
        .await
        .expect("list");
    assert!(none.items.is_empty());
    let bad = api_error(
        api.list(&ListParams::default().labels("parity in (odd"))
            .await
            .expect_err("bad selector"),
    );
    assert_eq!((bad.code, bad.reason.as_str()), (400, "BadRequest"));
    cluster.shutdown().await;
}

#[tokio::test]
async fn pages_across_namespaces_follow_the_store_order() {
    let in_ns = |ns: &str, name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}});
    let objects = vec![
        in_ns("a", "z"),
        in_ns("a-b", "m"),
        in_ns("a", "y"),
        in_ns("ab", "k"),
    ];
    let cluster = TestCluster::start(objects, None, false)
        .await
        .expect("cluster");
    let api: Api<ConfigMap> = Api::all(client(&cluster).await);
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(1);
    loop {
        let page = api.list(&params).await.expect("list");
        seen.extend(page.items.iter().map(|c| {
            format!(
                "{}/{}",
                c.metadata.namespace.as_deref().unwrap_or(""),
                c.metadata.name.as_deref().unwrap_or("")
            )
        }));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(seen, ["a/y", "a/z", "a-b/m", "ab/k"]);
    cluster.shutdown().await;
}

async fn collect_events(
    api: &Api<ConfigMap>,
    params: &WatchParams,
    rv: &str,
) -> Vec<WatchEvent<ConfigMap>> {
    let stream = api.watch(params, rv).await.expect("watch");
    stream.try_collect().await.expect("events")
}

fn describe(events: &[WatchEvent<ConfigMap>]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(c) => format!("ADDED {}", c.metadata.name.as_deref().unwrap_or("")),
            WatchEvent::Modified(c) => {
                format!("MODIFIED {}", c.metadata.name.as_deref().unwrap_or(""))
            }
            WatchEvent::Deleted(c) => {
                format!("DELETED {}", c.metadata.name.as_deref().unwrap_or(""))
            }
            WatchEvent::Bookmark(_) => "BOOKMARK".to_string(),
            WatchEvent::Error(e) => format!("ERROR {}", e.code),
        })
        .collect()
}

#[tokio::test]
async fn watches_replay_history_follow_selectors_and_expire() {
    let cluster = TestCluster::start(vec![config_map("a", json!({"app": "x"}))], None, false)
        .await
        .expect("cluster");
    let api: Api<ConfigMap> = Api::default_namespaced(client(&cluster).await);
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let store = cluster.store();
    store
        .create("configmaps", config_map("b", json!({"app": "x"})))
        .expect("create");
    let mut b = store.get("configmaps", Some("default"), "b").expect("b");
    b["metadata"]["labels"]["app"] = json!("y");
    store.update("configmaps", b).expect("relabel");
    store.remove("configmaps", Some("default"), "a");
    let params = WatchParams::default().timeout(1);
    assert_eq!(
        describe(&collect_events(&api, &params, &rv).await),
        ["ADDED b", "MODIFIED b", "DELETED a"]
    );
    let selected = WatchParams::default().labels("app=x").timeout(1);
    assert_eq!(
        describe(&collect_events(&api, &selected, &rv).await),
        ["ADDED b", "DELETED b", "DELETED a"],
        "leaving the selection reads as a deletion"
    );
    assert_eq!(
        describe(&collect_events(&api, &params, "0").await),
        ["ADDED b"],
        "rv 0 starts with the current objects"
    );

    for i in 0..testcluster::store::DEFAULT_HISTORY {
        store
            .create("configmaps", config_map(&format!("bulk-{i}"), json!({})))
            .expect("bulk");
    }
    let expired = collect_events(&api, &params, &rv).await;
    assert_eq!(describe(&expired), ["ERROR 410"]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn eviction_respects_the_disruption_budget() {
    let budget = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}});
    let cluster = TestCluster::start(
        vec![pod("web-1", true), pod("web-2", true), budget],
        None,
        false,
    )
    .await
    .expect("cluster");
    let pods: Api<Pod> = Api::default_namespaced(client(&cluster).await);
    let eviction: Eviction =
        serde_json::from_value(json!({"metadata": {"name": "web-1", "namespace": "default"}}))
            .expect("eviction");
    pods.create_subresource::<_, Value>("eviction", "web-1", &PostParams::default(), &eviction)
        .await
        .expect("first eviction is allowed");
    assert!(
        pods.get("web-1")
            .await
            .expect("still there")
            .metadata
            .deletion_timestamp
            .is_some()
    );
    let second: Eviction =
        serde_json::from_value(json!({"metadata": {"name": "web-2", "namespace": "default"}}))
            .expect("eviction");
    let err = pods
        .create_subresource::<_, Value>("eviction", "web-2", &PostParams::default(), &second)
        .await
        .expect_err("budget exhausted");
    let status = api_error(err);
    assert_eq!(status.code, 429);
    assert_eq!(
        status.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    let cause = &status.details.expect("details").causes[0];
    assert_eq!(cause.reason, "DisruptionBudget");
    assert_eq!(
        cause.message,
        "The disruption budget web needs 1 healthy pods and has 1 currently"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn injected_faults_and_latency() {
    let cluster = TestCluster::start(vec![config_map("a", json!({}))], None, false)
        .await
        .expect("cluster");
    let api: Api<ConfigMap> = Api::default_namespaced(client(&cluster).await);
    cluster
        .faults()
        .fail_next(1, Some("GET"), "/configmaps/a", FaultAction::Status(503));
    let err = api_error(api.get("a").await.expect_err("injected 503"));
    assert_eq!((err.code, err.reason.as_str()), (503, "ServiceUnavailable"));
    api.get("a").await.expect("only one failure was asked for");

    cluster
        .faults()
        .fail_next(1, None, "/configmaps", FaultAction::Reset);
    let reset = api.get("a").await.expect_err("connection closed");
    assert!(
        !matches!(reset, kube::Error::Api(_)),
        "a reset is not an API answer: {reset:?}"
    );

    cluster.faults().set_latency(Duration::from_millis(300));
    let started = std::time::Instant::now();
    api.get("a").await.expect("slow but fine");
    assert!(started.elapsed() >= Duration::from_millis(300));
    cluster.faults().clear();

    cluster.faults().drop_watches_after(Some(1));
    let events = collect_events(&api, &WatchParams::default().timeout(5), "0").await;
    assert_eq!(
        describe(&events),
        ["ADDED a"],
        "the watch ends after one event, long before its timeout"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn control_api_over_http() {
    let cluster = TestCluster::start(vec![config_map("a", json!({}))], None, false)
        .await
        .expect("cluster");
    let client = client(&cluster).await;
    let post = |path: &str, body: Value| {
        http::Request::post(path)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&body).expect("json"))
            .expect("request")
    };
    let rules: Value = client
        .request(post(
            "/testcluster/rbac",
            json!({"verb": "list", "resource": "configmaps"}),
        ))
        .await
        .expect("forbid");
    assert_eq!(rules[0]["resource"], "configmaps");
    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let err = api_error(
        api.list(&ListParams::default())
            .await
            .expect_err("forbidden"),
    );
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        "configmaps is forbidden: User \"test-user\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let faults: Value = client
        .request(post(
            "/testcluster/faults",
            json!({"fail": {"path": "/configmaps/a", "count": 1, "action": {"status": 500}}}),
        ))
        .await
        .expect("fault");
    assert_eq!(faults["failures"][0]["count"], 1);
    assert_eq!(
        api_error(api.get("a").await.expect_err("injected")).code,
        500
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn watch_streams_live_changes() {
    let cluster = TestCluster::start(Vec::new(), None, false)
        .await
        .expect("cluster");
    let api: Api<ConfigMap> = Api::default_namespaced(client(&cluster).await);
    let rv = cluster.store().resource_version().to_string();
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .expect("watch")
        .boxed();
    let store = cluster.store().clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        store
            .create("configmaps", config_map("late", json!({})))
            .expect("create");
    });
    let first = tokio::time::timeout(Duration::from_secs(3), stream.next())
        .await
        .expect("an event in time");
    match first {
        Some(Ok(WatchEvent::Added(cm))) => assert_eq!(cm.metadata.name.as_deref(), Some("late")),
        other => panic!("unexpected {other:?}"),
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn self_subject_review_names_the_test_user() {
    let cluster = TestCluster::start(vec![], None, false)
        .await
        .expect("cluster");
    let client = client(&cluster).await;
    let body = serde_json::to_vec(&json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"
    }))
    .expect("body");
    let request = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
        .header("content-type", "application/json")
        .body(body)
        .expect("request");
    let review: Value = client.request(request).await.expect("create review");
    assert_eq!(review["status"]["userInfo"]["username"], "test-user");
}
