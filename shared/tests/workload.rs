//! Fetching the workload a command names: kind given or not, StatefulSet fallback for a
//! bare name, NotFound with close names.

mod common;

use common::Fake;
use runbook::workload::{WorkloadArg, WorkloadKind, fetch_workload};
use serde_json::json;

fn sample() -> std::sync::Arc<Fake> {
    let fake = Fake::new();
    fake.apply(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "gateway-proxy", "namespace": "gw"},
        "spec": {"selector": {"matchLabels": {"app": "gw"}}, "template": {}}
    }));
    fake.apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "gateway-cache", "namespace": "gw"},
        "spec": {"selector": {"matchLabels": {"app": "cache"}}, "serviceName": "c", "template": {}}
    }));
    fake
}

async fn fetch(
    fake: &std::sync::Arc<Fake>,
    arg: &str,
) -> runbook::Result<runbook::workload::Workload> {
    fetch_workload(&fake.client(), "gw", &WorkloadArg::parse(arg)?).await
}

#[tokio::test]
async fn bare_names_fall_back_to_statefulsets() {
    let fake = sample();
    let d = fetch(&fake, "gateway-proxy").await.unwrap();
    assert_eq!(
        (d.kind(), d.name()),
        (WorkloadKind::Deployment, "gateway-proxy")
    );
    let s = fetch(&fake, "gateway-cache").await.unwrap();
    assert_eq!(
        (s.kind(), s.name()),
        (WorkloadKind::StatefulSet, "gateway-cache")
    );
}

#[tokio::test]
async fn an_explicit_kind_does_not_fall_back() {
    let fake = sample();
    let err = fetch(&fake, "deploy/gateway-cache").await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        "deployment \"gateway-cache\" not found in namespace \"gw\""
    );
}

#[tokio::test]
async fn not_found_names_close_matches_of_both_kinds() {
    let fake = sample();
    let err = fetch(&fake, "gateway-prxy").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("deployment or statefulset \"gateway-prxy\" not found in namespace \"gw\"; did you mean gateway-proxy"),
        "{msg}"
    );
}
