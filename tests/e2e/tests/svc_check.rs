//! End-to-end tests of `kubectl svc-check`: the real binary (and the installed kubectl) against
//! the test cluster's `service-faults` scenario (the Service faults of runbooks 003 and 004)
//! and its `healthy` cluster.

use e2e::{Env, json, run, stderr, stdout};
use serde_json::Value;
use testcluster::rbac::ForbidRule;

const BIN: &str = "kubectl-svc_check";

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

fn finding<'a>(report: &'a Value, service: &str, check: &str) -> &'a Value {
    let svc = by_name(report, service);
    svc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == check))
        .unwrap_or_else(|| panic!("{service} should report {check}: {:?}", ids(svc)))
}

#[tokio::test]
async fn each_runbook_fault_is_named_with_its_severity_and_hint() {
    let env = Env::start("service-faults").await;
    let out = run(env.plugin(BIN).args(["-n", "shop", "-o", "json"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report = json(&out);
    let expect = [
        (
            "payment",
            "svc.selector-typo",
            "critical",
            "kubectl patch service/payment",
        ),
        (
            "reports",
            "svc.no-ready-endpoints",
            "critical",
            "kubectl describe pods -n shop -l app=reports",
        ),
        ("reports", "svc.not-ready-pods", "warning", "readinessProbe"),
        (
            "search",
            "svc.target-port-unknown-name",
            "critical",
            "\"path\":\"/spec/ports/0/targetPort\",\"value\":8080",
        ),
        (
            "orders",
            "svc.target-port-undeclared",
            "warning",
            "set targetPort to 8080",
        ),
        (
            "notifications",
            "svc.no-readiness-probe",
            "warning",
            "readinessProbe: {tcpSocket: {port: 8080}",
        ),
        (
            "inventory",
            "svc.headless",
            "warning",
            "kubectl replace --force",
        ),
        (
            "storefront",
            "svc.lb-pending",
            "critical",
            "cloud-controller",
        ),
        ("web-a", "svc.lb-shared-port", "critical", "another port"),
        ("web-b", "svc.lb-shared-port", "critical", "another port"),
        (
            "edge",
            "svc.local-policy-no-endpoints",
            "warning",
            "externalTrafficPolicy: Cluster",
        ),
        (
            "legacy-db",
            "svc.externalname",
            "info",
            "db.legacy.example.com",
        ),
    ];
    for (service, check, severity, hint) in expect {
        let f = finding(&report, service, check);
        assert_eq!(f["severity"], severity, "{service} {check}: {f}");
        assert!(
            f["hint"].as_str().unwrap_or_default().contains(hint),
            "{service} {check} hint: {f}"
        );
    }
    let not_ready = finding(&report, "reports", "svc.not-ready-pods");
    assert!(
        not_ready["message"]
            .as_str()
            .unwrap()
            .contains("Readiness probe failed"),
        "{not_ready}"
    );
    let pending = finding(&report, "storefront", "svc.lb-pending");
    let message = pending["message"].as_str().unwrap();
    assert!(message.contains("EXTERNAL-IP <pending> for"), "{message}");
    assert!(
        message.contains("service-controller: SyncLoadBalancerFailed"),
        "{message}"
    );
    let shared = finding(&report, "web-a", "svc.lb-shared-port");
    assert!(
        shared["message"]
            .as_str()
            .unwrap()
            .contains("47.98.122.15 and port 80/TCP with service/shop/web-b"),
        "{shared}"
    );
    let reports = by_name(&report, "reports");
    assert_eq!(reports["endpoints"]["ready"], 0);
    assert_eq!(reports["endpoints"]["notReady"], 2);
    assert_eq!(report["summary"]["services"], 11);
    assert_eq!(report["services"][0]["worst"], "critical", "worst first");
}

#[tokio::test]
async fn the_near_miss_selector_finds_the_typod_label() {
    let env = Env::start("service-faults").await;
    let out = run(env.plugin(BIN).args(["payment", "-n", "shop"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Selector:   app=payment   (0 pod(s) match)"),
        "{text}"
    );
    assert!(text.contains("svc.selector-typo"), "{text}");
    assert!(
        text.contains("2 pod(s) carry app=paymnet (selector wants app=payment)"),
        "{text}"
    );
    assert!(
        text.contains(r#"kubectl patch service/payment -n shop --type=merge -p '{"spec":{"selector":{"app":"paymnet"}}}'"#),
        "{text}"
    );
    assert!(
        text.contains("the pod template of deployment/payment"),
        "{text}"
    );
}

#[tokio::test]
async fn a_service_prints_its_sections() {
    let env = Env::start("service-faults").await;
    let out = run(env.plugin(BIN).args(["search", "-n", "shop"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Endpoints:  2 ready, 2 serving, 0 terminating, 0 not ready"),
        "{text}"
    );
    let ports = text
        .lines()
        .skip_while(|l| !l.starts_with("PORT"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        ports.starts_with("9000") && ports.contains("grpc") && ports.ends_with("<none>"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("POD ") && l.contains("STATUS")),
        "{text}"
    );
    assert!(text.contains("What to do:"), "{text}");
}

#[tokio::test]
async fn a_healthy_cluster_passes_through_kubectl() {
    let env = Env::start("healthy").await;
    let out = run(env.kubectl().args(["svc-check", "-A"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.starts_with("NAMESPACE   SERVICE"), "{text}");
    assert!(text.contains("0 critical, 0 warning"), "{text}");
    let out = run(env
        .kubectl()
        .args(["svc-check", "web", "-n", "shop", "-o", "json"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(ids(&report["services"][0]), Vec::<String>::new());
    assert!(
        report["services"][0]["endpoints"]["ready"]
            .as_u64()
            .unwrap()
            > 0,
        "{report:#}"
    );
}

#[tokio::test]
async fn all_namespaces_summary_is_worst_first_and_exit_codes_follow_flags() {
    let env = Env::start("service-faults").await;
    let out = run(env.plugin(BIN).arg("-A")).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE   SERVICE"), "{text}");
    assert!(lines[0].ends_with("WORST      FINDINGS"), "{text}");
    let rank = |word: &str| match word {
        "CRITICAL" => 0,
        "WARNING" => 1,
        "INFO" => 2,
        _ => 3,
    };
    let worst: Vec<i32> = lines[1..]
        .iter()
        .take_while(|l| !l.is_empty())
        .map(|l| rank(l.split_whitespace().nth(4).unwrap_or_default()))
        .collect();
    assert_eq!(worst.len(), 11, "{text}");
    assert!(
        worst.windows(2).all(|w| w[0] <= w[1]),
        "worst first: {text}"
    );
    assert!(
        text.contains("11 Service(s): 6 critical, 4 warning, 1 ok"),
        "{text}"
    );

    let out = run(env.plugin(BIN).args(["-A", "-o", "name"])).await;
    let listed = stdout(&out);
    assert_eq!(
        listed.lines().count(),
        10,
        "every Service with a warning or worse: {listed}"
    );
    assert!(listed.lines().any(|l| l == "service/payment"), "{listed}");
    let out = run(env.plugin(BIN).args(["orders", "-n", "shop"])).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "warnings exit 1: {}",
        stdout(&out)
    );
    let out = run(env
        .plugin(BIN)
        .args(["orders", "-n", "shop", "--fail-on", "critical"]))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings do not fail with --fail-on critical"
    );
    let out = run(env
        .plugin(BIN)
        .args(["payment", "-n", "shop", "--exit-zero"]))
    .await;
    assert_eq!(out.status.code(), Some(0));
    let out = run(env
        .plugin(BIN)
        .args(["payment", "-n", "shop", "--ignore", "svc.selector-typo"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[tokio::test]
async fn a_missing_service_names_close_ones_and_exits_3() {
    let env = Env::start("service-faults").await;
    let out = run(env.plugin(BIN).args(["payments", "-n", "shop"])).await;
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out).trim(),
        "error: service \"payments\" not found in namespace \"shop\"; did you mean payment?"
    );
}

#[tokio::test]
async fn unreadable_nodes_are_noted_and_unreadable_pods_stop_the_check() {
    let env = Env::start("service-faults").await;
    env.cluster.rbac().forbid(ForbidRule::new("list", "nodes"));
    let out = run(env.plugin(BIN).args(["-n", "shop", "-o", "json"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("note: nodes not read"),
        "{}",
        stderr(&out)
    );
    let report = json(&out);
    assert!(!ids(by_name(&report, "edge")).contains(&"svc.local-policy-no-endpoints".to_string()));
    env.cluster.rbac().forbid(ForbidRule::new("list", "pods"));
    let out = run(env.plugin(BIN).args(["-n", "shop"])).await;
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: forbidden: cannot list pods in namespace \"shop\""),
        "{err}"
    );
}

#[tokio::test]
async fn probe_says_when_the_server_cannot_port_forward() {
    let env = Env::start("service-faults").await;
    let out = run(env.plugin(BIN).args([
        "orders",
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
    assert_eq!(probes.len(), 1, "one ready pod per TCP port: {report:#}");
    assert_eq!(probes[0]["podPort"], 9090);
    assert!(probes[0]["pod"].as_str().unwrap().starts_with("orders-"));
    // The test cluster serves no pods/portforward: the probe must say so, not invent a verdict.
    assert_eq!(probes[0]["verdict"], "failed", "{report:#}");
    assert!(ids(&report["services"][0]).contains(&"svc.probe-failed".to_string()));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the warning decides, an unprobed port is info only"
    );
}
