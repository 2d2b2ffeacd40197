//! Whole-cluster behaviour of the controllers together, on a bare store with a manual clock.

use serde_json::{Value, json};

use super::objects::{self, meta};
use super::*;

/// Now, in whole seconds: graceful deletions are stamped by the store with the real time.
fn start() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap()
}

/// Steps until nothing changes (at most 50 passes), returning the passes that changed.
fn settle(controllers: &Controllers, store: &Store) -> usize {
    let now = controllers.clock().now();
    let passes = (0..50)
        .take_while(|_| controllers.step_at(store, now))
        .count();
    assert!(passes < 50, "the controllers never settled");
    passes
}

/// Advances the clock one second at a time, settling after each tick.
fn run_for(controllers: &Controllers, store: &Store, seconds: i64) {
    for _ in 0..seconds {
        controllers.clock().advance(1);
        settle(controllers, store);
    }
}

fn cluster(rules: Value) -> (Controllers, Store) {
    let store = Store::new();
    for i in 1..=3 {
        store
            .create("nodes", json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": format!("node-{i}"), "labels": {"kubernetes.io/hostname": format!("node-{i}")}},
                "spec": {"podCIDR": format!("10.244.{i}.0/24")},
                "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "addresses": [{"type": "InternalIP", "address": format!("192.168.0.{}", 10 + i)}]}}))
            .unwrap();
    }
    let rules: Rules = serde_json::from_value(rules).unwrap();
    (
        Controllers::with_clock(rules, Clock::manual(start())),
        store,
    )
}

fn gateway(memory_limit: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "gateway-proxy", "namespace": "gateway"},
        "spec": {"replicas": 3, "progressDeadlineSeconds": 60,
            "selector": {"matchLabels": {"app": "gateway-proxy"}},
            "template": {"metadata": {"labels": {"app": "gateway-proxy"}},
                "spec": {"containers": [{"name": "proxy", "image": "gateway/proxy:1.2",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                    "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": memory_limit}}}]}}}})
}

fn oom_rules() -> Value {
    json!({"faults": [{"effect": "OomKilled", "namespace": "gateway", "selector": {"app": "gateway-proxy"},
        "memory_limit_below": "700Mi", "memory_usage_of_limit": 0.99}]})
}

fn deployment(store: &Store) -> Value {
    store
        .get("deployments", Some("gateway"), "gateway-proxy")
        .unwrap()
}

fn condition<'a>(d: &'a Value, kind: &str) -> &'a Value {
    objects::list(d, "/status/conditions")
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap_or(&Value::Null)
}

fn set_memory_limit(store: &Store, limit: &str) {
    let mut d = deployment(store);
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!(limit);
    store.update("deployments", d).unwrap();
}

#[test]
fn a_new_deployment_rolls_out_and_reports_available() {
    let (controllers, store) = cluster(oom_rules());
    store.create("deployments", gateway("1Gi")).unwrap();
    settle(&controllers, &store);
    let d = deployment(&store);
    assert_eq!(d["status"]["replicas"], 3);
    assert_eq!(d["status"]["updatedReplicas"], 3);
    assert_eq!(d["status"]["readyReplicas"], 3);
    assert_eq!(d["status"]["availableReplicas"], 3);
    assert_eq!(d["status"]["observedGeneration"], 1);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(
        condition(&d, "Available")["reason"],
        "MinimumReplicasAvailable"
    );
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    let rs = store.list("replicasets", Some("gateway"));
    assert_eq!(rs.len(), 1);
    let hash = rs[0]["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(meta(&rs[0], "name"), format!("gateway-proxy-{hash}"));
    assert_eq!(
        rs[0]["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash
    );
    let pods = store.list("pods", Some("gateway"));
    assert_eq!(pods.len(), 3);
    let nodes: std::collections::BTreeSet<&str> = pods.iter().map(objects::node_name).collect();
    assert_eq!(nodes.len(), 3, "replicas spread over the nodes");
    assert!(
        pods.iter()
            .all(|p| p["status"]["phase"] == "Running" && objects::is_ready(p))
    );
    let events = store.list("events", Some("gateway"));
    assert!(events.iter().any(|e| e["reason"] == "ScalingReplicaSet"
        && e["message"] == format!("Scaled up replica set gateway-proxy-{hash} from 0 to 3")));
}

#[test]
fn oom_killed_pods_crash_loop_until_the_memory_limit_is_raised() {
    let (controllers, store) = cluster(oom_rules());
    store.create("deployments", gateway("512Mi")).unwrap();
    settle(&controllers, &store);
    run_for(&controllers, &store, 2);
    let pods = store.list("pods", Some("gateway"));
    assert!(pods.iter().all(
        |p| p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    ));
    let d = deployment(&store);
    assert!(d["status"].get("availableReplicas").is_none());
    assert_eq!(condition(&d, "Available")["status"], "False");

    set_memory_limit(&store, "1012Mi");
    settle(&controllers, &store);
    run_for(&controllers, &store, 5);
    let d = deployment(&store);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(d["status"]["updatedReplicas"], 3);
    assert_eq!(d["status"]["availableReplicas"], 3);
    assert_eq!(d["status"]["replicas"], 3, "old pods are gone");
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    let pods = store.list("pods", Some("gateway"));
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(objects::is_ready));
    let old = store
        .list("replicasets", Some("gateway"))
        .into_iter()
        .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1")
        .unwrap();
    assert_eq!(old["spec"]["replicas"], 0);
}

#[test]
fn rolling_update_respects_max_surge_and_max_unavailable() {
    let (controllers, store) = cluster(json!({"readiness_delay_seconds": 3}));
    store.create("deployments", gateway("1Gi")).unwrap();
    settle(&controllers, &store);
    run_for(&controllers, &store, 4);
    assert_eq!(deployment(&store)["status"]["availableReplicas"], 3);
    set_memory_limit(&store, "2Gi");
    for _ in 0..20 {
        controllers.clock().advance(1);
        for _ in 0..50 {
            let changed = controllers.step_at(&store, controllers.clock().now());
            let pods: Vec<Value> = store
                .list("pods", Some("gateway"))
                .into_iter()
                .filter(|p| !objects::is_terminating(p))
                .collect();
            assert!(
                pods.len() <= 4,
                "maxSurge 25% of 3 = 1 extra pod at most, saw {}",
                pods.len()
            );
            let ready = pods.iter().filter(|p| objects::is_ready(p)).count();
            assert!(
                ready >= 3 || pods.len() < 3,
                "maxUnavailable 25% of 3 = 0: {ready} ready"
            );
            if !changed {
                break;
            }
        }
    }
    let d = deployment(&store);
    assert_eq!(d["status"]["updatedReplicas"], 3);
    assert_eq!(d["status"]["availableReplicas"], 3);
}

#[test]
fn a_rollout_that_makes_no_progress_exceeds_its_deadline() {
    let (controllers, store) = cluster(oom_rules());
    store.create("deployments", gateway("1Gi")).unwrap();
    settle(&controllers, &store);
    set_memory_limit(&store, "600Mi");
    settle(&controllers, &store);
    run_for(&controllers, &store, 62);
    let d = deployment(&store);
    let progressing = condition(&d, "Progressing");
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["reason"], "ProgressDeadlineExceeded");
    assert!(
        progressing["message"]
            .as_str()
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    assert_eq!(d["status"]["availableReplicas"], 3, "old pods keep serving");
}

#[test]
fn rollback_to_an_old_template_reuses_its_replica_set_with_a_new_revision() {
    let (controllers, store) = cluster(json!({}));
    store.create("deployments", gateway("1Gi")).unwrap();
    settle(&controllers, &store);
    let first = store.list("replicasets", Some("gateway"))[0].clone();
    set_memory_limit(&store, "2Gi");
    settle(&controllers, &store);
    run_for(&controllers, &store, 2);
    // What `kubectl rollout undo` sends: the old template (hash label removed).
    let mut template = first["spec"]["template"].clone();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    let mut d = deployment(&store);
    d["spec"]["template"] = template;
    store.update("deployments", d).unwrap();
    settle(&controllers, &store);
    run_for(&controllers, &store, 2);
    let replicasets = store.list("replicasets", Some("gateway"));
    assert_eq!(replicasets.len(), 2);
    let reused = store
        .get("replicasets", Some("gateway"), meta(&first, "name"))
        .unwrap();
    assert_eq!(
        reused["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(
        reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );
    assert_eq!(reused["spec"]["replicas"], 3);
    assert_eq!(
        deployment(&store)["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
}

#[test]
fn scaling_and_pausing() {
    let (controllers, store) = cluster(json!({}));
    store.create("deployments", gateway("1Gi")).unwrap();
    settle(&controllers, &store);
    let mut d = deployment(&store);
    d["spec"]["replicas"] = json!(5);
    d["spec"]["paused"] = json!(true);
    store.update("deployments", d).unwrap();
    settle(&controllers, &store);
    let d = deployment(&store);
    assert_eq!(
        d["status"]["availableReplicas"], 5,
        "a paused deployment still scales"
    );
    assert_eq!(condition(&d, "Progressing")["reason"], "DeploymentPaused");
    set_memory_limit(&store, "2Gi");
    settle(&controllers, &store);
    assert_eq!(
        store.list("replicasets", Some("gateway")).len(),
        1,
        "no rollout while paused"
    );
    let mut d = deployment(&store);
    d["spec"]["paused"] = json!(false);
    store.update("deployments", d).unwrap();
    settle(&controllers, &store);
    run_for(&controllers, &store, 2);
    assert_eq!(store.list("replicasets", Some("gateway")).len(), 2);
    assert_eq!(deployment(&store)["status"]["updatedReplicas"], 5);
}

#[test]
fn recreate_stops_old_pods_before_starting_new_ones() {
    let (controllers, store) = cluster(json!({}));
    let mut d = gateway("1Gi");
    d["spec"]["strategy"] = json!({"type": "Recreate"});
    store.create("deployments", d).unwrap();
    settle(&controllers, &store);
    set_memory_limit(&store, "2Gi");
    controllers.step_at(&store, controllers.clock().now());
    let replicasets = store.list("replicasets", Some("gateway"));
    assert_eq!(
        replicasets.len(),
        1,
        "the new ReplicaSet waits for the old pods to stop"
    );
    assert_eq!(replicasets[0]["spec"]["replicas"], 0);
    run_for(&controllers, &store, 3);
    let d = deployment(&store);
    assert_eq!(d["status"]["updatedReplicas"], 3);
    assert_eq!(d["status"]["availableReplicas"], 3);
}

#[test]
fn a_settled_cluster_stays_settled() {
    let (controllers, store) = cluster(oom_rules());
    store.create("deployments", gateway("1Gi")).unwrap();
    store.create("services", json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "gateway-proxy", "namespace": "gateway"},
        "spec": {"selector": {"app": "gateway-proxy"}, "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}})).unwrap();
    settle(&controllers, &store);
    assert!(!controllers.step_at(&store, controllers.clock().now()));
    let endpoints = store
        .get("endpoints", Some("gateway"), "gateway-proxy")
        .unwrap();
    assert_eq!(
        endpoints["subsets"][0]["addresses"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn deleting_a_deployment_collects_its_replica_sets_and_pods() {
    let (controllers, store) = cluster(json!({}));
    store.create("deployments", gateway("1Gi")).unwrap();
    settle(&controllers, &store);
    store
        .delete(
            "deployments",
            Some("gateway"),
            "gateway-proxy",
            &crate::store::DeleteOptions::default(),
        )
        .unwrap();
    settle(&controllers, &store);
    run_for(&controllers, &store, 2);
    assert!(store.list("replicasets", Some("gateway")).is_empty());
    assert!(store.list("pods", Some("gateway")).is_empty());
}
