//! Event fetching against the test cluster: pagination with continue tokens, the
//! involved-object field selector, and summaries of the result; the requests sent are read
//! from the cluster's request log.

use runbook::events::{events_for, list_events};
use serde_json::{Value, json};
use testcluster::TestCluster;
use testcluster::faults::RecordedRequest;

/// Events beyond the five of [`sample`], so that a list takes three pages of 500.
const FILLER_EVENTS: usize = 1000;

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

/// Five events about `gw-1`, `gw-2` and Deployment `gw-1`, and `filler` about other pods.
async fn sample(filler: usize) -> TestCluster {
    let mut objects = vec![
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
    ];
    objects.extend((0..filler).map(|n| {
        event(
            &format!("filler-{n}"),
            "Pod",
            &format!("batch-{n}"),
            "Pulled",
            "2026-11-05T08:00:00Z",
        )
    }));
    TestCluster::start(objects, None, false)
        .await
        .expect("test cluster starts")
}

fn client(cluster: &TestCluster) -> kube::Client {
    let url = cluster.url().parse().expect("cluster URL");
    kube::Client::try_from(kube::Config::new(url)).expect("client")
}

/// The event lists the cluster answered.
fn event_lists(cluster: &TestCluster) -> Vec<RecordedRequest> {
    cluster
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces/gw/events")
        .collect()
}

#[tokio::test]
async fn lists_every_page() {
    let cluster = sample(FILLER_EVENTS).await;
    let events = list_events(&client(&cluster), Some("gw")).await.unwrap();
    assert_eq!(events.len(), 5 + FILLER_EVENTS);
    let lists = event_lists(&cluster);
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert!(
        lists
            .iter()
            .all(|r| r.param("limit").as_deref() == Some("500")),
        "{lists:?}"
    );
    assert_eq!(lists[0].param("continue"), None);
    assert!(
        lists[1..].iter().all(|r| r.param("continue").is_some()),
        "{lists:?}"
    );
}

#[tokio::test]
async fn events_for_one_object_are_selected_merged_and_newest_first() {
    let cluster = sample(0).await;
    let got = events_for(&client(&cluster), "gw", "Pod", "gw-1")
        .await
        .unwrap();
    let reasons: Vec<(&str, i32)> = got.iter().map(|e| (e.reason.as_str(), e.count)).collect();
    assert_eq!(reasons, [("BackOff", 2), ("OOMKilling", 1)]);
    let lists = event_lists(&cluster);
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(
        lists[0].param("fieldSelector").as_deref(),
        Some("involvedObject.kind=Pod,involvedObject.name=gw-1")
    );
}
