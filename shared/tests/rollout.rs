//! The rollout follower against a small in-process API server: lists, watches (with resume
//! by resourceVersion), RBAC refusals, timeouts.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Fake;
use runbook::rollout::{RolloutFailure, RolloutFollower, RolloutOutcome};
use runbook::workload::WorkloadKind;
use serde_json::{Value, json};

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
    fake.page_size(1);
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
    assert!(
        outcome.to_string().starts_with("rollout failed after "),
        "{outcome}"
    );
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
    assert!(
        msg.starts_with("forbidden: cannot watch pods in namespace \"gw\""),
        "{msg}"
    );
}

#[tokio::test]
async fn missing_deployment_is_not_found() {
    let fake = Fake::new();
    let err = follower(&fake).follow().await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        "deployment \"gw\" not found in namespace \"gw\""
    );
}

#[tokio::test]
async fn statefulset_completes_at_its_update_revision() {
    let fake = Fake::new();
    let sts = |current: &str| {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "gw", "generation": 3},
            "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db"}]}}},
            "status": {"observedGeneration": 3, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2,
                       "currentReplicas": 2, "currentRevision": current, "updateRevision": "db-v2"}
        })
    };
    fake.apply(sts("db-v1"));
    let writer = Arc::clone(&fake);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer.apply(sts("db-v2"));
    });
    let outcome = RolloutFollower::new(fake.client(), "gw", WorkloadKind::StatefulSet, "db")
        .timeout(Some(Duration::from_secs(10)))
        .follow()
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RolloutOutcome::Complete {
            revision: Some("db-v2".into()),
            elapsed: outcome.elapsed()
        }
    );
    assert!(outcome.elapsed() >= Duration::from_millis(150));
}

/// A client of a scenario cluster of the test cluster crate.
async fn scenario_client(name: &str) -> (testcluster::TestCluster, kube::Client) {
    let cluster = testcluster::scenarios::start(name, true).await.unwrap();
    let url = cluster.url().parse().unwrap();
    let client = kube::Client::try_from(kube::Config::new(url)).unwrap();
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
