//! Fetching the workload a command names, against the test cluster: kind given or not,
//! StatefulSet fallback for a bare name, NotFound with close names.

use runbook::workload::{Workload, WorkloadArg, WorkloadKind, fetch_workload};
use serde_json::json;
use testcluster::TestCluster;

/// Deployment `gateway-proxy` and StatefulSet `gateway-cache` in `gw`.
async fn sample() -> TestCluster {
    let template = |app: &str| {
        json!({"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": format!("{app}:1")}]}})
    };
    let objects = vec![
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gateway-proxy", "namespace": "gw"},
            "spec": {"selector": {"matchLabels": {"app": "gw"}}, "template": template("gw")}
        }),
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "gateway-cache", "namespace": "gw"},
            "spec": {"selector": {"matchLabels": {"app": "cache"}}, "serviceName": "c",
                     "template": template("cache")}
        }),
    ];
    TestCluster::start(objects, None, false)
        .await
        .expect("test cluster starts")
}

async fn fetch(cluster: &TestCluster, arg: &str) -> runbook::Result<Workload> {
    let url = cluster.url().parse().expect("cluster URL");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    fetch_workload(&client, "gw", &WorkloadArg::parse(arg)?).await
}

#[tokio::test]
async fn bare_names_fall_back_to_statefulsets() {
    let cluster = sample().await;
    let d = fetch(&cluster, "gateway-proxy").await.unwrap();
    assert_eq!(
        (d.kind(), d.name()),
        (WorkloadKind::Deployment, "gateway-proxy")
    );
    let s = fetch(&cluster, "gateway-cache").await.unwrap();
    assert_eq!(
        (s.kind(), s.name()),
        (WorkloadKind::StatefulSet, "gateway-cache")
    );
}

#[tokio::test]
async fn an_explicit_kind_does_not_fall_back() {
    let cluster = sample().await;
    let err = fetch(&cluster, "deploy/gateway-cache").await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        "deployment \"gateway-cache\" not found in namespace \"gw\""
    );
}

#[tokio::test]
async fn not_found_names_close_matches_of_both_kinds() {
    let cluster = sample().await;
    let err = fetch(&cluster, "gateway-prxy").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("deployment or statefulset \"gateway-prxy\" not found in namespace \"gw\"; did you mean gateway-proxy"),
        "{msg}"
    );
}
