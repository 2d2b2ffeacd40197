//! Every scenario loads, installs and settles, and shows the incident it rebuilds.

use serde_json::{Value, json};

use super::*;
use crate::controllers::{Clock, Controllers};
use crate::store::str_at;

/// A store holding the scenario, with controllers on a manual clock starting now.
fn installed(name: &str) -> (Store, Controllers) {
    let scenario = load(name).unwrap();
    let store = Store::new();
    let controllers = Controllers::with_clock(
        scenario.rules.clone(),
        Clock::manual(jiff::Timestamp::now()),
    );
    scenario.install(&store).unwrap();
    settle(&store, &controllers);
    (store, controllers)
}

fn settle(store: &Store, controllers: &Controllers) {
    let now = controllers.clock().now();
    let passes = (0..100)
        .take_while(|_| controllers.step_at(store, now))
        .count();
    assert!(passes < 100, "never settled");
}

fn run_for(store: &Store, controllers: &Controllers, seconds: i64) {
    for _ in 0..seconds {
        controllers.clock().advance(1);
        settle(store, controllers);
    }
}

fn pods(store: &Store, namespace: &str, prefix: &str) -> Vec<Value> {
    store
        .list("pods", Some(namespace))
        .into_iter()
        .filter(|p| str_at(p, "name").starts_with(prefix))
        .collect()
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn endpoints(store: &Store, namespace: &str, name: &str) -> Value {
    store
        .get("endpoints", Some(namespace), name)
        .unwrap_or(Value::Null)
}

fn addresses(endpoints: &Value, field: &str) -> usize {
    endpoints["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s[field].as_array().map_or(0, Vec::len))
        .sum()
}

#[test]
fn every_scenario_loads_installs_and_settles() {
    for name in names() {
        let (store, controllers) = installed(name);
        assert!(
            !controllers.step_at(&store, controllers.clock().now()),
            "{name} does not stay settled"
        );
    }
    assert!(
        load("nope")
            .unwrap_err()
            .to_string()
            .contains("unknown scenario")
    );
}

#[test]
fn gateway_oom_crash_loops_until_memory_is_raised_by_500mi() {
    let (store, controllers) = installed("gateway-oom");
    let crashing = pods(&store, "gateway", "gateway-proxy-");
    assert_eq!(crashing.len(), 3);
    for pod in &crashing {
        let status = &pod["status"]["containerStatuses"][0];
        assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(status["lastState"]["terminated"]["reason"], "OOMKilled");
        assert_eq!(status["restartCount"], 7);
    }
    assert_eq!(
        addresses(
            &endpoints(&store, "gateway", "gateway-proxy"),
            "notReadyAddresses"
        ),
        3
    );
    let deployment = store
        .get("deployments", Some("gateway"), "gateway-proxy")
        .unwrap();
    assert_eq!(deployment["status"]["replicas"], 3);
    assert!(deployment["status"].get("availableReplicas").is_none());
    let metrics = store.list("pods.metrics.k8s.io", Some("gateway"));
    assert_eq!(metrics.len(), 3);
    let events = store.list("events", Some("gateway"));
    let backoff = events.iter().find(|e| e["reason"] == "BackOff").unwrap();
    assert!(
        !backoff["message"].as_str().unwrap().contains("{uid}"),
        "the pod uid is filled in"
    );
    let previous = store
        .logs()
        .get("gateway", str_at(&crashing[0], "name"), "proxy", true)
        .unwrap();
    assert!(
        previous.contains("(99.0%)") && !previous.contains("{now"),
        "{previous}"
    );

    let mut raised = deployment;
    let resources = &mut raised["spec"]["template"]["spec"]["containers"][0]["resources"];
    resources["requests"]["memory"] = json!("756Mi");
    resources["limits"]["memory"] = json!("1012Mi");
    store.update("deployments", raised).unwrap();
    settle(&store, &controllers);
    run_for(&store, &controllers, 5);
    let deployment = store
        .get("deployments", Some("gateway"), "gateway-proxy")
        .unwrap();
    assert_eq!(deployment["status"]["availableReplicas"], 3);
    assert_eq!(deployment["status"]["updatedReplicas"], 3);
    assert_eq!(
        deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let running = pods(&store, "gateway", "gateway-proxy-");
    assert_eq!(running.len(), 3);
    assert!(running.iter().all(ready));
}

#[test]
fn gateway_pending_explains_every_node() {
    let (store, _) = installed("gateway-pending");
    let pending = pods(&store, "gateway", "gateway-proxy-");
    assert_eq!(pending.len(), 2);
    let expected = "0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint \
        {node-role.kubernetes.io/gateway: }. preemption: 0/3 nodes are available: \
        1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    for pod in &pending {
        assert_eq!(pod["status"]["phase"], "Pending");
        let scheduled = pod["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "PodScheduled")
            .unwrap();
        assert_eq!(scheduled["message"], expected);
    }
    let events = store.list("events", Some("gateway"));
    assert!(events.iter().any(|e| e["reason"] == "FailedScheduling"
        && e["message"] == expected
        && e["type"] == "Warning"));
}

#[test]
fn istio_outage_heals_when_istiod_moves_off_the_busy_node() {
    let (store, controllers) = installed("istio-outage");
    let istiod = pods(&store, "istio-system", "istiod-");
    assert_eq!(istiod.len(), 1);
    assert_eq!(istiod[0]["spec"]["nodeName"], "node-2");
    assert_eq!(istiod[0]["status"]["phase"], "Running");
    assert!(!ready(&istiod[0]));
    let ep = endpoints(&store, "istio-system", "istiod");
    assert_eq!(addresses(&ep, "addresses"), 0);
    assert_eq!(addresses(&ep, "notReadyAddresses"), 1);
    assert!(ready(
        &pods(&store, "istio-system", "istio-ingressgateway-")[0]
    ));
    assert!(
        store
            .logs()
            .get(
                "istio-system",
                str_at(
                    &pods(&store, "istio-system", "istio-ingressgateway-")[0],
                    "name"
                ),
                "istio-proxy",
                false
            )
            .unwrap()
            .contains("10.96.5.249:15012: connect: connection refused")
    );

    let mut restarted = store
        .get("deployments", Some("istio-system"), "istiod")
        .unwrap();
    restarted["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
        json!("2026-11-23T10:00:00Z");
    store.update("deployments", restarted).unwrap();
    settle(&store, &controllers);
    run_for(&store, &controllers, 3);
    let istiod = pods(&store, "istio-system", "istiod-");
    assert_eq!(istiod.len(), 1);
    assert_ne!(istiod[0]["spec"]["nodeName"], "node-2");
    assert!(ready(&istiod[0]));
    assert_eq!(
        addresses(&endpoints(&store, "istio-system", "istiod"), "addresses"),
        1
    );
}

#[test]
fn istio_outage_refuses_pods_in_the_injected_namespace_until_istiod_is_ready() {
    let (store, controllers) = installed("istio-outage");
    assert_eq!(
        pods(&store, "shop", "storefront-").len(),
        2,
        "created before the outage"
    );
    let mut scaled = store
        .get("deployments", Some("shop"), "storefront")
        .unwrap();
    scaled["spec"]["replicas"] = json!(3);
    store.update("deployments", scaled).unwrap();
    settle(&store, &controllers);
    assert_eq!(pods(&store, "shop", "storefront-").len(), 2);
    let events = store.list("events", Some("shop"));
    let failed = events
        .iter()
        .find(|e| e["reason"] == "FailedCreate")
        .unwrap();
    assert!(
        failed["message"].as_str().unwrap().starts_with(
            "Error creating: Internal error occurred: failed calling webhook \"sidecar-injector.istio.io\""
        ),
        "{failed}"
    );
    let deployment = store
        .get("deployments", Some("shop"), "storefront")
        .unwrap();
    let failure = deployment["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ReplicaFailure")
        .unwrap();
    assert_eq!(failure["reason"], "FailedCreate");

    let mut restarted = store
        .get("deployments", Some("istio-system"), "istiod")
        .unwrap();
    restarted["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
        json!("2026-11-23T10:00:00Z");
    store.update("deployments", restarted).unwrap();
    settle(&store, &controllers);
    run_for(&store, &controllers, 11);
    assert_eq!(
        pods(&store, "shop", "storefront-").len(),
        3,
        "created once the injector answers"
    );
    let deployment = store
        .get("deployments", Some("shop"), "storefront")
        .unwrap();
    assert!(
        !deployment["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "ReplicaFailure")
    );
}

#[test]
fn node_trouble_keeps_its_broken_state() {
    let (store, controllers) = installed("node-trouble");
    run_for(&store, &controllers, 3);
    let taints = |node: &str| -> Vec<String> {
        let node = store.get("nodes", None, node).unwrap();
        node["spec"]["taints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                format!(
                    "{}:{}",
                    t["key"].as_str().unwrap(),
                    t["effect"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        taints("node-2"),
        ["node.kubernetes.io/disk-pressure:NoSchedule"]
    );
    assert!(taints("node-3").contains(&"node.kubernetes.io/not-ready:NoExecute".to_string()));
    let redis = store.get("pods", Some("data"), "redis-2").unwrap();
    assert_eq!(redis["status"]["phase"], "Running");
    assert!(!ready(&redis), "stuck on the NotReady node");
    assert!(
        store
            .get("pods", Some("monitoring"), "node-exporter-w5h2n")
            .is_some(),
        "daemon pods stay on not-ready nodes"
    );
    assert_eq!(pods(&store, "monitoring", "node-exporter-").len(), 4);
    let checkout = store
        .get("poddisruptionbudgets", Some("shop"), "checkout")
        .unwrap();
    assert_eq!(checkout["status"]["disruptionsAllowed"], 0);
    assert_eq!(checkout["status"]["currentHealthy"], 2);
    let shippers = pods(&store, "logging", "log-shipper-");
    assert_eq!(
        shippers.len(),
        3,
        "two evicted pods and their running replacement"
    );
    assert_eq!(
        shippers
            .iter()
            .filter(|p| p["status"]["reason"] == "Evicted")
            .count(),
        2
    );
    let node1: Vec<String> = store
        .list("pods", None)
        .iter()
        .filter(|p| p["spec"]["nodeName"] == "node-1")
        .map(|p| str_at(p, "name").to_string())
        .collect();
    assert_eq!(node1.len(), 6, "{node1:?}");
    let events = store.list("events", Some("default"));
    for reason in [
        "ImageGCFailed",
        "FreeDiskSpaceFailed",
        "EvictionThresholdMet",
        "SystemOOM",
        "ContainerGCFailed",
    ] {
        assert!(events.iter().any(|e| e["reason"] == reason), "{reason}");
    }
}

#[test]
fn service_faults_show_every_kind_of_broken_service() {
    let (store, _) = installed("service-faults");
    assert!(
        endpoints(&store, "shop", "payment")
            .get("subsets")
            .is_none(),
        "the selector matches no pod"
    );
    assert_eq!(pods(&store, "shop", "payment-").len(), 2);
    assert!(
        endpoints(&store, "shop", "search").get("subsets").is_none(),
        "the named targetPort does not exist"
    );
    let orders = endpoints(&store, "shop", "orders");
    assert_eq!(orders["subsets"][0]["ports"][0]["port"], 9090);
    let reports = endpoints(&store, "shop", "reports");
    assert_eq!(addresses(&reports, "notReadyAddresses"), 2);
    assert_eq!(
        addresses(&endpoints(&store, "shop", "notifications"), "addresses"),
        2
    );
    let inventory = endpoints(&store, "shop", "inventory");
    assert_eq!(
        inventory["metadata"]["labels"]["service.kubernetes.io/headless"],
        ""
    );
    assert!(store.get("endpoints", Some("shop"), "legacy-db").is_none());
    let storefront = store.get("services", Some("shop"), "storefront").unwrap();
    assert_eq!(storefront["status"]["loadBalancer"], json!({}));
    let edge_nodes: Vec<Value> = pods(&store, "shop", "edge-proxy-")
        .iter()
        .map(|p| p["spec"]["nodeName"].clone())
        .collect();
    assert_eq!(edge_nodes, [json!("node-1"), json!("node-1")]);
}

#[test]
fn nantian_gateway_serves_its_fixed_services() {
    let (store, _) = installed("nantian-gateway");
    for service in [
        "nantian-gw-controlplane-grpc",
        "nantian-gw-controlplane-admin",
        "nantian-gw-controlplane-metrics",
        "nantian-gw-dataplane-admin",
        "nantian-gw-dataplane-metrics",
        "nantian-gw-dashboard",
    ] {
        assert!(
            addresses(&endpoints(&store, "nantian-gw", service), "addresses") >= 1,
            "{service}"
        );
    }
    let class = store.get("gatewayclasses", None, "nantian-gw").unwrap();
    assert_eq!(
        class["spec"]["controllerName"],
        "gateway.networking.k8s.io/nantian-gw"
    );
    let route = store.get("httproutes", Some("shop"), "payments").unwrap();
    assert_eq!(
        route["status"]["parents"][0]["conditions"][1]["reason"],
        "BackendNotFound"
    );
}

#[test]
fn healthy_is_healthy() {
    let (store, _) = installed("healthy");
    let gateway = pods(&store, "gateway", "gateway-proxy-");
    assert_eq!(gateway.len(), 3);
    assert!(gateway.iter().all(ready));
    let nodes: std::collections::BTreeSet<String> = gateway
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(nodes.len(), 3);
    let pdb = store
        .get("poddisruptionbudgets", Some("gateway"), "gateway-proxy")
        .unwrap();
    assert_eq!(pdb["status"]["disruptionsAllowed"], 1);
    assert_eq!(pods(&store, "monitoring", "node-exporter-").len(), 3);
}

#[test]
fn large_scenarios_are_generated() {
    let scenario = load("large:4:20:100").unwrap();
    let store = Store::new();
    scenario.install(&store).unwrap();
    assert_eq!(store.list("pods", None).len(), 100);
    assert_eq!(store.list("endpointslices", None).len(), 20);
    let pod = &store.list("pods", None)[0];
    assert!(
        !pod["metadata"]["ownerReferences"][0]["uid"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn start_serves_a_settled_scenario() {
    let cluster = start("healthy", false).await.unwrap();
    assert!(cluster.url().starts_with("http://127.0.0.1:"));
    assert_eq!(cluster.settle(), 0, "already settled");
    assert_eq!(cluster.store().list("pods", Some("gateway")).len(), 3);
    cluster.shutdown().await;
}
