//! The rollout follower against the test cluster: rollouts made by its controllers (deployment,
//! replicaset, statefulset, scheduler, kubelet), watched as on a real API server; RBAC
//! refusals, missing workloads, timeouts.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use runbook::rollout::{RolloutFailure, RolloutFollower, RolloutOutcome};
use runbook::workload::WorkloadKind;
use serde_json::{Value, json};
use testcluster::TestCluster;
use testcluster::controllers::{Controllers, Rules};
use testcluster::rbac::ForbidRule;

fn node() -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True"}]}})
}

fn pod_template(app: &str, container: &str, image: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": container, "image": image,
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]}})
}

/// Deployment `gw/gw`: two replicas of container `proxy`.
fn deployment(image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "gw", "namespace": "gw"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "gw"}},
                 "template": pod_template("gw", "proxy", image)}})
}

/// StatefulSet `gw/db`: two replicas of container `db`.
fn statefulset(image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "gw"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": pod_template("db", "db", image)}})
}

/// Controller rules with the given container faults.
fn rules(faults: Value) -> Rules {
    serde_json::from_value(json!({"faults": faults})).expect("valid rules")
}

/// A test cluster holding `objects` with its controllers, settled (the workloads rolled out).
async fn start(objects: Vec<Value>, rules: Rules, free_running: bool) -> TestCluster {
    let mut objects = objects;
    objects.insert(0, node());
    let controllers = Arc::new(Controllers::new(rules));
    let cluster = TestCluster::start(objects, Some(controllers), free_running)
        .await
        .expect("test cluster starts");
    cluster.settle();
    cluster
}

fn client(cluster: &TestCluster) -> kube::Client {
    let url = cluster.url().parse().expect("cluster URL");
    kube::Client::try_from(kube::Config::new(url)).expect("client")
}

/// Runs the controllers of `cluster` from `after` on, while the cluster lives: a control
/// plane that acts only once the follower is watching.
fn run_controllers_after(cluster: &Arc<TestCluster>, after: Duration) {
    let cluster: Weak<TestCluster> = Arc::downgrade(cluster);
    std::thread::spawn(move || {
        std::thread::sleep(after);
        while let Some(cluster) = cluster.upgrade() {
            cluster.settle();
            drop(cluster);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
}

/// Sets the image of `container` of `kind/name` in `gw`, as `kubectl set image` does.
async fn set_image(
    client: &kube::Client,
    kind: WorkloadKind,
    name: &str,
    container: &str,
    image: &str,
) {
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}});
    let params = kube::api::PatchParams::default();
    let patch = kube::api::Patch::Strategic(&patch);
    match kind {
        WorkloadKind::Deployment => {
            let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
                kube::Api::namespaced(client.clone(), "gw");
            api.patch(name, &params, &patch).await.map(drop)
        }
        WorkloadKind::StatefulSet => {
            let api: kube::Api<k8s_openapi::api::apps::v1::StatefulSet> =
                kube::Api::namespaced(client.clone(), "gw");
            api.patch(name, &params, &patch).await.map(drop)
        }
    }
    .expect("image set");
}

fn follower(client: &kube::Client) -> RolloutFollower {
    RolloutFollower::new(client.clone(), "gw", WorkloadKind::Deployment, "gw")
        .timeout(Some(Duration::from_secs(30)))
        .since(None)
}

/// Waits until some pod of `gw` satisfies `done`.
async fn wait_for_pod(cluster: &TestCluster, done: impl Fn(&Value) -> bool) {
    let start = Instant::now();
    while !cluster.store().list("pods", Some("gw")).iter().any(&done) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for a pod"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn completes_when_a_watch_event_finishes_the_rollout() {
    let cluster = Arc::new(start(vec![deployment("envoy:1")], Rules::default(), false).await);
    let client = client(&cluster);
    set_image(&client, WorkloadKind::Deployment, "gw", "proxy", "envoy:2").await;
    run_controllers_after(&cluster, Duration::from_millis(300));
    let outcome = follower(&client).follow().await.unwrap();
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
    let oom = rules(json!([{"effect": "OomKilled", "image": "envoy:2"}]));
    let cluster = start(vec![deployment("envoy:1")], oom, true).await;
    let client = client(&cluster);
    set_image(&client, WorkloadKind::Deployment, "gw", "proxy", "envoy:2").await;
    let outcome = follower(&client).follow().await.unwrap();
    let RolloutOutcome::Failed { cause, .. } = &outcome else {
        panic!("expected Failed, got {outcome:?}");
    };
    assert_eq!(cause.kind(), "oom-killed");
    let RolloutFailure::CrashLoop { pod, .. } = cause else {
        panic!("expected CrashLoop, got {cause:?}");
    };
    let failed = cluster.store().get("pods", Some("gw"), pod).unwrap();
    assert_eq!(
        failed["spec"]["containers"][0]["image"], "envoy:2",
        "a pod of the new ReplicaSet"
    );
    assert_eq!(outcome.exit_code(), 2);
    assert!(
        outcome.to_string().starts_with("rollout failed after "),
        "{outcome}"
    );
}

#[tokio::test]
async fn pods_of_old_replicasets_do_not_fail_the_rollout() {
    let crash_old = rules(json!([{"effect": "Crash", "image": "envoy:1"}]));
    let cluster = start(vec![deployment("envoy:1")], crash_old, true).await;
    wait_for_pod(&cluster, |pod| {
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    })
    .await;
    let client = client(&cluster);
    set_image(&client, WorkloadKind::Deployment, "gw", "proxy", "envoy:2").await;
    let outcome = follower(&client).follow().await.unwrap();
    assert!(outcome.is_complete(), "{outcome:?}");
}

#[tokio::test]
async fn times_out_with_the_last_status() {
    let never_ready = rules(json!([{"effect": "NeverReady", "image": "envoy:2"}]));
    let cluster = start(vec![deployment("envoy:1")], never_ready, false).await;
    let client = client(&cluster);
    set_image(&client, WorkloadKind::Deployment, "gw", "proxy", "envoy:2").await;
    cluster.settle();
    let outcome = follower(&client)
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
    let cluster = start(vec![deployment("envoy:1")], Rules::default(), false).await;
    let client = client(&cluster);
    set_image(&client, WorkloadKind::Deployment, "gw", "proxy", "envoy:2").await;
    cluster
        .rbac()
        .forbid(ForbidRule::new("watch", "pods").in_namespace("gw"));
    let err = follower(&client).follow().await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(
        msg.starts_with("forbidden: cannot watch pods in namespace \"gw\""),
        "{msg}"
    );
}

#[tokio::test]
async fn missing_deployment_is_not_found() {
    let cluster = start(Vec::new(), Rules::default(), false).await;
    let err = follower(&client(&cluster)).follow().await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        "deployment \"gw\" not found in namespace \"gw\""
    );
}

#[tokio::test]
async fn statefulset_completes_at_its_update_revision() {
    let cluster = Arc::new(start(vec![statefulset("postgres:16")], Rules::default(), false).await);
    let revision = |cluster: &TestCluster, field: &str| {
        let sts = cluster
            .store()
            .get("statefulsets", Some("gw"), "db")
            .unwrap();
        sts["status"][field]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let before = revision(&cluster, "currentRevision");
    let client = client(&cluster);
    set_image(
        &client,
        WorkloadKind::StatefulSet,
        "db",
        "db",
        "postgres:17",
    )
    .await;
    run_controllers_after(&cluster, Duration::from_millis(200));
    let outcome = RolloutFollower::new(client, "gw", WorkloadKind::StatefulSet, "db")
        .timeout(Some(Duration::from_secs(30)))
        .follow()
        .await
        .unwrap();
    let after = revision(&cluster, "updateRevision");
    assert_ne!(before, after, "a new revision was rolled out");
    assert_eq!(
        outcome,
        RolloutOutcome::Complete {
            revision: Some(after),
            elapsed: outcome.elapsed()
        }
    );
    assert!(outcome.elapsed() >= Duration::from_millis(150));
}

/// A client of a scenario cluster of the test cluster crate.
async fn scenario_client(name: &str) -> (testcluster::TestCluster, kube::Client) {
    let cluster = testcluster::scenarios::start(name, true).await.unwrap();
    let client = client(&cluster);
    (cluster, client)
}

/// Patches the proxy container's memory of `gateway-proxy` (and a template annotation, so
/// that every call makes a new revision).
async fn set_proxy_memory(client: &kube::Client, memory: &str) {
    let api: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(client.clone(), "gateway");
    let patch = json!({"spec": {"template": {
        "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": jiff::Timestamp::now().to_string()}},
        "spec": {"containers": [{"name": "proxy", "resources": {
            "requests": {"memory": memory}, "limits": {"memory": memory}}}]}}}});
    api.patch(
        "gateway-proxy",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Strategic(&patch),
    )
    .await
    .unwrap();
}

fn gateway_follower(client: &kube::Client) -> RolloutFollower {
    RolloutFollower::new(
        client.clone(),
        "gateway",
        WorkloadKind::Deployment,
        "gateway-proxy",
    )
    .timeout(Some(Duration::from_secs(60)))
    .progress(true)
}

#[tokio::test]
async fn test_cluster_rollout_with_enough_memory_completes() {
    let (cluster, client) = scenario_client("gateway-oom").await;
    set_proxy_memory(&client, "1Gi").await;
    let outcome = gateway_follower(&client).follow().await.unwrap();
    assert!(outcome.is_complete(), "{outcome}");
    assert!(
        matches!(outcome, RolloutOutcome::Complete { revision: Some(ref r), .. } if r == "2"),
        "{outcome:?}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn test_cluster_rollout_that_still_ooms_fails_with_the_cause() {
    let (cluster, client) = scenario_client("gateway-oom").await;
    set_proxy_memory(&client, "600Mi").await;
    let outcome = gateway_follower(&client).follow().await.unwrap();
    let RolloutOutcome::Failed { cause, .. } = &outcome else {
        panic!("expected Failed, got {outcome:?}");
    };
    assert_eq!(cause.kind(), "oom-killed", "{cause}");
    assert!(
        cause.to_string().contains("container proxy was OOMKilled"),
        "{cause}"
    );
    cluster.shutdown().await;
}
