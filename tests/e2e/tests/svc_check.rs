//! End-to-end tests of `kubectl svc-check`: the real binary (and the installed kubectl) against
//! the test cluster holding the Service faults of runbooks 003 and 004.

use e2e::{Env, ensure_built, json, run, stderr, stdout};
use serde_json::{Value, json};
use testcluster::TestCluster;

const BIN: &str = "kubectl-svc_check";

/// A pod of a Deployment (`owner` is the Deployment), Running; `ready` sets its Ready
/// condition; `probe` adds a readinessProbe; the container declares `port` as `http`.
fn pod(name: &str, owner: &str, labels: Value, ready: bool, probe: bool, port: i32) -> Value {
    let hash = "7d9f5c";
    let mut labels = labels;
    labels["pod-template-hash"] = json!(hash);
    let mut container = json!({"name": "app", "image": "registry.example/app:1", "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}]});
    if probe {
        container["readinessProbe"] =
            json!({"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 5});
    }
    let waiting = json!({"name": "app", "ready": false, "restartCount": 9, "image": "registry.example/app:1", "imageID": "",
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=app"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}});
    let running = json!({"name": "app", "ready": true, "restartCount": 0, "image": "registry.example/app:1", "imageID": "",
        "state": {"running": {"startedAt": "2026-11-05T09:00:00Z"}}});
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{owner}-{hash}"), "uid": "rs-uid", "controller": true}]},
        "spec": {"nodeName": "node-1", "containers": [container]},
        "status": {"phase": "Running", "podIP": "10.244.1.10",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [if ready { running } else { waiting }]}
    })
}

fn service(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"}, "spec": spec})
}

fn load_balancer(name: &str, ip: Option<&str>) -> Value {
    let mut svc = service(
        name,
        json!({"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 443, "targetPort": "http", "nodePort": 31443}]}),
    );
    svc["status"] = match ip {
        Some(ip) => json!({"loadBalancer": {"ingress": [{"ip": ip}]}}),
        None => json!({"loadBalancer": {}}),
    };
    svc
}

/// An EndpointSlice of `service` with one endpoint per (pod, ready).
fn slice(service: &str, pods: &[(&str, bool)], port: i32) -> Value {
    let endpoints: Vec<Value> = pods
        .iter()
        .enumerate()
        .map(|(i, (pod, ready))| {
            json!({"addresses": [format!("10.244.1.{}", 10 + i)], "nodeName": "node-1",
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "targetRef": {"kind": "Pod", "namespace": "shop", "name": pod}})
        })
        .collect();
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-abcde"), "namespace": "shop", "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4", "endpoints": endpoints, "ports": [{"port": port, "protocol": "TCP"}]})
}

/// The Service faults of runbooks 003/004, one Service each, plus a healthy `web`.
fn objects() -> Vec<Value> {
    let http = json!([{"name": "http", "port": 80, "targetPort": "http"}]);
    vec![
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        // Healthy: two ready pods with readiness probes behind a named port.
        pod(
            "web-7d9f5c-a",
            "web",
            json!({"app": "web"}),
            true,
            true,
            8080,
        ),
        pod(
            "web-7d9f5c-b",
            "web",
            json!({"app": "web"}),
            true,
            true,
            8080,
        ),
        service("web", json!({"selector": {"app": "web"}, "ports": http})),
        slice(
            "web",
            &[("web-7d9f5c-a", true), ("web-7d9f5c-b", true)],
            8080,
        ),
        // 004: a selector with a typo, pods run but nothing matches.
        pod(
            "checkout-7d9f5c-a",
            "checkout",
            json!({"app": "checkout", "tier": "web"}),
            true,
            true,
            8080,
        ),
        service(
            "checkout",
            json!({"selector": {"app": "checkuot", "tier": "web"}, "ports": http}),
        ),
        // 003 6.4.2: no readinessProbe, and a targetPort no container declares.
        pod(
            "api-7d9f5c-a",
            "api",
            json!({"app": "api"}),
            true,
            false,
            8080,
        ),
        service(
            "api",
            json!({"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 9090}]}),
        ),
        slice("api", &[("api-7d9f5c-a", true)], 9090),
        // Crash-looping pods: no ready endpoint.
        pod(
            "orders-7d9f5c-a",
            "orders",
            json!({"app": "orders"}),
            false,
            true,
            8080,
        ),
        service(
            "orders",
            json!({"selector": {"app": "orders"}, "ports": http}),
        ),
        slice("orders", &[("orders-7d9f5c-a", false)], 8080),
        // 003 6.4.3: headless in front of a Deployment.
        service(
            "consul",
            json!({"clusterIP": "None", "selector": {"app": "web"}, "ports": http}),
        ),
        slice(
            "consul",
            &[("web-7d9f5c-a", true), ("web-7d9f5c-b", true)],
            8080,
        ),
        // 003 6.8.2: a LoadBalancer stuck <pending>, with the service controller's failure.
        load_balancer("edge", None),
        slice(
            "edge",
            &[("web-7d9f5c-a", true), ("web-7d9f5c-b", true)],
            8080,
        ),
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "edge.1", "namespace": "shop"},
            "involvedObject": {"kind": "Service", "namespace": "shop", "name": "edge"},
            "reason": "SyncLoadBalancerFailed", "type": "Warning", "count": 6, "source": {"component": "service-controller"},
            "message": "Error syncing load balancer: failed to ensure load balancer: quota exceeded"}),
        // 003 6.8.6: two LoadBalancers on one address and port.
        load_balancer("shop-a", Some("47.100.1.2")),
        load_balancer("shop-b", Some("47.100.1.2")),
        slice(
            "shop-a",
            &[("web-7d9f5c-a", true), ("web-7d9f5c-b", true)],
            8080,
        ),
        slice(
            "shop-b",
            &[("web-7d9f5c-a", true), ("web-7d9f5c-b", true)],
            8080,
        ),
    ]
}

async fn start() -> Env {
    ensure_built();
    let cluster = TestCluster::start(objects(), None, false)
        .await
        .expect("start the test cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    cluster
        .write_kubeconfig(&kubeconfig)
        .expect("write kubeconfig");
    Env {
        cluster,
        kubeconfig,
        dir,
    }
}

fn ids(service: &Value) -> Vec<String> {
    service["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| f["check"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn by_name<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("service {name} in report: {report:#}"))
}

#[tokio::test]
async fn each_runbook_fault_is_named_with_its_severity_and_hint() {
    let env = start().await;
    let out = run(env.plugin(BIN).args(["-n", "shop", "-o", "json"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report = json(&out);
    let expect = [
        ("checkout", "svc.selector-typo", "critical"),
        ("api", "svc.target-port-undeclared", "warning"),
        ("api", "svc.no-readiness-probe", "warning"),
        ("orders", "svc.no-ready-endpoints", "critical"),
        ("orders", "svc.not-ready-pods", "warning"),
        ("consul", "svc.headless", "warning"),
        ("edge", "svc.lb-pending", "critical"),
        ("shop-a", "svc.lb-shared-port", "critical"),
        ("shop-b", "svc.lb-shared-port", "critical"),
    ];
    for (name, check, severity) in expect {
        let svc = by_name(&report, name);
        let finding = svc["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["check"] == check))
            .unwrap_or_else(|| panic!("{name} should report {check}: {:?}", ids(svc)));
        assert_eq!(finding["severity"], severity, "{name} {check}");
        assert!(
            !finding["hint"].as_str().unwrap_or_default().is_empty(),
            "{name} {check} has a hint"
        );
    }
    assert_eq!(
        ids(by_name(&report, "web")),
        Vec::<String>::new(),
        "the healthy Service passes"
    );
    assert_eq!(report["summary"]["services"], 8);
    assert_eq!(report["services"][0]["worst"], "critical", "worst first");
    let orders = by_name(&report, "orders");
    let not_ready = orders["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "svc.not-ready-pods")
        .unwrap();
    assert!(
        not_ready["message"]
            .as_str()
            .unwrap()
            .contains("CrashLoopBackOff"),
        "{not_ready}"
    );
    let edge = by_name(&report, "edge");
    assert!(
        edge["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("quota exceeded (x6)"),
        "{edge}"
    );
}

#[tokio::test]
async fn the_near_miss_selector_names_the_typo_and_the_patch() {
    let env = start().await;
    let out = run(env.plugin(BIN).args(["checkout", "-n", "shop"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Selector:   app=checkuot,tier=web   (0 pod(s) match)"),
        "{text}"
    );
    assert!(
        text.contains(
            "1 pod(s) carry app=checkout (selector wants app=checkuot): checkout-7d9f5c-a"
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"kubectl patch service/checkout -n shop --type=merge -p '{"spec":{"selector":{"app":"checkout"}}}'"#),
        "{text}"
    );
    assert!(text.contains("deployment/checkout"), "{text}");
}

#[tokio::test]
async fn a_healthy_service_passes_through_kubectl_too() {
    let env = start().await;
    let out = run(env.plugin(BIN).args(["web", "-n", "shop"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("Endpoints:  2 ready, 2 serving, 0 terminating, 0 not ready"),
        "{text}"
    );
    assert!(text.contains("No problems found."), "{text}");
    let via_kubectl = run(env
        .kubectl()
        .args(["svc-check", "web", "-n", "shop", "-o", "json"]))
    .await;
    assert_eq!(
        via_kubectl.status.code(),
        Some(0),
        "{}",
        stderr(&via_kubectl)
    );
    assert_eq!(json(&via_kubectl)["services"][0]["endpoints"]["ready"], 2);
}

#[tokio::test]
async fn all_namespaces_summary_is_worst_first_and_exit_codes_follow_flags() {
    let env = start().await;
    let out = run(env.plugin(BIN).arg("-A")).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE   SERVICE"), "{text}");
    assert!(lines[0].ends_with("WORST      FINDINGS"), "{text}");
    assert!(lines[1].contains("CRITICAL"), "{text}");
    let web = lines
        .iter()
        .position(|l| l.contains(" web "))
        .expect("web row");
    let api = lines
        .iter()
        .position(|l| l.contains(" api "))
        .expect("api row");
    assert!(api < web, "warnings before healthy: {text}");
    assert!(
        text.contains("Service(s): 5 critical, 2 warning, 1 ok"),
        "{text}"
    );

    let out = run(env.plugin(BIN).args(["-A", "-o", "name"])).await;
    let listed = stdout(&out);
    let names: Vec<&str> = listed.lines().collect();
    assert_eq!(
        names.len(),
        7,
        "every Service with a warning or worse: {names:?}"
    );
    assert!(!names.contains(&"service/web"), "{names:?}");
    let out = run(env
        .plugin(BIN)
        .args(["api", "-n", "shop", "--fail-on", "critical"]))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings do not fail with --fail-on critical"
    );
    let out = run(env.plugin(BIN).args(["-n", "shop", "--ignore", "svc.*"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(env.plugin(BIN).args(["api", "-n", "shop"])).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "warnings exit 1: {}",
        stdout(&out)
    );
    let out = run(env.plugin(BIN).args(["api", "-n", "shop", "--exit-zero"])).await;
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test]
async fn a_missing_service_names_close_ones_and_exits_3() {
    let env = start().await;
    let out = run(env.plugin(BIN).args(["chekout", "-n", "shop"])).await;
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out).trim(),
        "error: service \"chekout\" not found in namespace \"shop\"; did you mean checkout?"
    );
}

#[tokio::test]
async fn probe_reports_when_the_server_cannot_port_forward() {
    let env = start().await;
    let out = run(env.plugin(BIN).args([
        "web",
        "-n",
        "shop",
        "--probe",
        "--probe-timeout",
        "2s",
        "-o",
        "json",
    ]))
    .await;
    let report = json(&out);
    let probes = report["services"][0]["probes"]
        .as_array()
        .expect("probes")
        .clone();
    assert_eq!(probes.len(), 1, "{report:#}");
    assert_eq!(probes[0]["pod"], "web-7d9f5c-a");
    assert_eq!(probes[0]["podPort"], 8080);
    let verdict = probes[0]["verdict"].as_str().unwrap();
    // The test cluster serves no pods/portforward: the probe must say so, not claim a verdict.
    assert_eq!(verdict, "failed", "{report:#}");
    assert_eq!(ids(&report["services"][0]), ["svc.probe-failed"]);
    assert_eq!(out.status.code(), Some(0), "an unprobed port is info only");
}
