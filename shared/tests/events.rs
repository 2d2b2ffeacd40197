//! Event fetching against a small in-process API server: pagination with continue tokens,
//! the involved-object field selector, and summaries of the result.

mod common;

use std::sync::Arc;

use common::Fake;
use serde_json::{Value, json};

fn event(name: &str, kind: &str, object: &str, reason: &str, last: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "gw"},
        "involvedObject": {"kind": kind, "namespace": "gw", "name": object},
        "type": "Warning", "reason": reason, "message": format!("{reason} happened"),
        "count": 1, "firstTimestamp": last, "lastTimestamp": last,
        "source": {"component": "kubelet"},
    })
}

fn sample() -> Arc<Fake> {
    let fake = Fake::new();
    fake.page_size(2);
    for e in [
        event("e1", "Pod", "gw-1", "BackOff", "2026-11-05T09:00:00Z"),
        event("e2", "Pod", "gw-1", "BackOff", "2026-11-05T09:05:00Z"),
        event("e3", "Pod", "gw-2", "Unhealthy", "2026-11-05T09:01:00Z"),
        event("e4", "Pod", "gw-1", "OOMKilling", "2026-11-05T09:03:00Z"),
        event(
            "e5",
            "Deployment",
            "gw-1",
            "ScalingReplicaSet",
            "2026-11-05T09:04:00Z",
        ),
    ] {
        fake.apply(e);
    }
    fake
}

#[tokio::test]
async fn lists_every_page() {
    let fake = sample();
    let events = runbook::events::list_events(&fake.client(), Some("gw"))
        .await
        .unwrap();
    assert_eq!(events.len(), 5);
    let queries = fake.queries();
    assert_eq!(queries.len(), 3, "{queries:?}");
    assert!(queries[1].contains("continue=2"), "{queries:?}");
    assert!(queries[0].contains("limit=500"), "{queries:?}");
}

#[tokio::test]
async fn events_for_one_object_are_selected_merged_and_newest_first() {
    let fake = sample();
    let got = runbook::events::events_for(&fake.client(), "gw", "Pod", "gw-1")
        .await
        .unwrap();
    let reasons: Vec<(&str, i32)> = got.iter().map(|e| (e.reason.as_str(), e.count)).collect();
    assert_eq!(reasons, [("BackOff", 2), ("OOMKilling", 1)]);
    let queries = fake.queries();
    assert!(
        queries[0].contains("fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dgw-1"),
        "{queries:?}"
    );
}
