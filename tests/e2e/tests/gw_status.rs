//! End-to-end tests of `kubectl gw-status`: the real binary (and the installed kubectl) against
//! the test cluster holding the gateway incidents of runbooks 000, 001 and 002.

use std::time::{Duration, Instant};

use e2e::{Env, finding_ids, json, run, stderr, stdout};
use serde_json::{Value, json};

const BIN: &str = "kubectl-gw_status";

/// Runs gw-status with `args` and `-o json`; returns (exit code, report).
async fn report(env: &Env, args: &[&str]) -> (i32, Value) {
    let out = run(env.plugin(BIN).args(args).args(["-o", "json"])).await;
    (out.status.code().unwrap_or(-1), json(&out))
}

/// The findings of `check`.
fn findings<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["check"] == check).collect())
        .unwrap_or_default()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[tokio::test]
async fn runbook_000_oom_crash_loop_names_limit_usage_and_resize() {
    let env = Env::start("gateway-oom").await;
    let (code, r) = report(&env, &["gateway-proxy"]).await;
    assert_eq!(code, 2, "{r:#}");
    assert_eq!(r["status"], "down");
    assert_eq!(r["gateways"][0]["namespace"], "gateway");
    let oom = findings(&r, "pod.oomkilled");
    assert_eq!(oom.len(), 3, "{r:#}");
    for f in &oom {
        assert_eq!(f["severity"], "critical");
        assert!(
            text(&f["message"]).contains("memory limit 512Mi, using 50"),
            "{f}"
        );
        assert!(text(&f["message"]).contains("(99%)"), "{f}");
        assert_eq!(
            f["hint"],
            "raise the memory request and limit: kubectl gw-resize deploy/gateway-proxy -n gateway --memory +500Mi"
        );
    }
    let ids = finding_ids(&r);
    for id in ["replicas.unavailable", "svc.no-endpoints", "probe.failing"] {
        assert!(ids.contains(&id.to_string()), "{id} missing: {ids:?}");
    }
    let c = &r["components"][0];
    assert_eq!(c["replicas"]["desired"], 3);
    assert_eq!(c["replicas"]["available"], 0);
    assert_eq!(c["containers"][0]["limits"]["memory"], "512Mi");
    assert_eq!(c["containers"][0]["memoryPercentOfLimit"], 99);
}

#[tokio::test]
async fn runbook_000_table_and_jsonpath_answer_the_runbook_questions() {
    let env = Env::start("gateway-oom").await;
    let out = run(env.plugin(BIN).args([
        "gateway-proxy",
        "-n",
        "gateway",
        "-o",
        "jsonpath={.components[0].replicas.desired} {.components[0].replicas.available}",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "3 0");

    let out = run(env.plugin(BIN).args(["gateway-proxy", "-n", "gateway"])).await;
    assert_eq!(out.status.code(), Some(2));
    let table = stdout(&out);
    let first = table.lines().next().unwrap_or_default();
    assert!(first.starts_with("gateway-proxy: DOWN - "), "{first}");
    for needle in [
        "Replicas:    3 desired | 3 updated | 0 ready | 0 available",
        "CrashLoopBackOff",
        "OOMKilled (137)",
        "512Mi",
        "(99%)",
        "What to do:",
        "kubectl gw-resize deploy/gateway-proxy -n gateway --memory +500Mi",
    ] {
        assert!(table.contains(needle), "{needle:?} missing:\n{table}");
    }
    assert!(!table.contains('\u{1b}'), "NO_COLOR must give plain text");

    let out = run(env
        .plugin(BIN)
        .args(["gateway-proxy", "-n", "gateway", "-o", "name"]))
    .await;
    assert_eq!(stdout(&out), "deployment.apps/gateway-proxy\n");
    let out = run(env
        .plugin(BIN)
        .args(["gateway-proxy", "-n", "gateway", "-o", "yaml"]))
    .await;
    assert!(stdout(&out).contains("status: down"), "{}", stdout(&out));
}

#[tokio::test]
async fn runbook_000_pending_names_the_untolerated_taint_and_its_nodes() {
    let env = Env::start("gateway-pending").await;
    let (code, r) = report(&env, &["gateway-proxy", "-n", "gateway"]).await;
    assert_eq!(code, 2, "{r:#}");
    let pending = findings(&r, "pod.pending");
    assert!(!pending.is_empty(), "{r:#}");
    let f = pending[0];
    assert_eq!(f["severity"], "critical");
    assert!(text(&f["message"]).contains("untolerated taint"), "{f}");
    assert!(
        text(&f["hint"])
            .contains("pods need a toleration for node-role.kubernetes.io/gateway:NoSchedule"),
        "{f}"
    );
    assert!(
        text(&f["hint"]).contains(
            "kubectl gw-resize deploy/gateway-proxy -n gateway --add-toleration node-role.kubernetes.io/gateway:NoSchedule"
        ),
        "{f}"
    );
}

#[tokio::test]
async fn runbook_001_everything_running_still_exits_2_with_the_cause() {
    let env = Env::start("istio-outage").await;
    let (code, r) = report(&env, &["istio", "--logs"]).await;
    assert_eq!(code, 2, "{r:#}");
    let pods: Vec<&Value> = r["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["pods"].as_array().unwrap().iter())
        .collect();
    assert!(!pods.is_empty());
    assert!(pods.iter().all(|p| p["phase"] == "Running"), "{pods:?}");

    let svc = findings(&r, "svc.no-endpoints");
    assert!(
        svc.iter()
            .any(|f| f["subject"] == "service/istio-system/istiod"),
        "{r:#}"
    );
    let hooks = findings(&r, "webhook.no-endpoints");
    assert!(
        hooks
            .iter()
            .any(|f| f["severity"] == "critical"
                && text(&f["message"]).contains("failurePolicy Fail")),
        "{r:#}"
    );
    assert!(
        hooks
            .iter()
            .any(|f| text(&f["message"]).contains("sidecar-injector.istio.io")),
        "{hooks:#?}"
    );
    let apart = findings(&r, "placement.same-node");
    assert!(
        apart.iter().any(|f| f["subject"] == "node/node-2"
            && text(&f["message"])
                .starts_with("istiod and istio-ingressgateway share node node-2")),
        "{r:#}"
    );
    let cpu = findings(&r, "node.cpu-saturated");
    assert!(
        cpu.iter()
            .any(|f| f["subject"] == "node/node-2" && f["severity"] == "critical"),
        "{r:#}"
    );
    assert!(finding_ids(&r).contains(&"posture.noisy-neighbour".to_string()));
    let logs = findings(&r, "logs.errors");
    let refused = logs
        .iter()
        .find(|f| text(&f["message"]).contains("connections are refused"))
        .unwrap_or_else(|| panic!("no connection-refused log finding: {r:#}"));
    assert!(
        text(&refused["message"]).contains("(Service istio-system/istiod)"),
        "{refused}"
    );
    assert_eq!(
        refused["hint"],
        "istiod is unreachable though its pods may show Running: restart it onto a healthy node: kubectl gw-resize deploy/istiod -n istio-system --restart"
    );
    assert!(
        logs.iter()
            .any(|f| text(&f["message"]).contains("certificate signing requests fail")),
        "{logs:#?}"
    );
}

#[tokio::test]
async fn runbook_002_route_problems_are_read_by_condition_type() {
    let env = Env::start("nantian-gateway").await;
    let not_accepted = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "admin", "namespace": "shop", "uid": "route-admin-uid",
                     "creationTimestamp": "2026-11-05T09:00:00Z", "resourceVersion": "1"},
        "spec": {"parentRefs": [{"name": "public", "namespace": "nantian-gw", "sectionName": "admin"}],
                 "rules": [{"backendRefs": [{"name": "storefront", "port": 8080}]}]},
        "status": {"parents": [{
            "parentRef": {"name": "public", "namespace": "nantian-gw", "sectionName": "admin"},
            "controllerName": "gateway.networking.k8s.io/nantian-gw",
            "conditions": [{"type": "Accepted", "status": "False", "reason": "NoMatchingParent",
                            "message": "no listener named admin", "lastTransitionTime": "2026-11-05T09:00:00Z"}]}]}
    });
    env.cluster
        .store()
        .create("httproutes", not_accepted)
        .unwrap_or_else(|e| panic!("seed HTTPRoute: {}", e.message));

    let (code, r) = report(&env, &["nantian"]).await;
    assert_eq!(code, 2, "{r:#}");
    let unresolved = findings(&r, "httproute.backend-unresolved");
    assert_eq!(unresolved.len(), 1, "{r:#}");
    assert_eq!(unresolved[0]["subject"], "httproute/shop/payments");
    assert!(text(&unresolved[0]["message"]).contains("BackendNotFound"));
    assert!(
        text(&unresolved[0]["hint"]).contains("backend Service shop/payments-v2 does not exist")
    );
    let parent = findings(&r, "httproute.parent-not-accepted");
    assert!(
        parent
            .iter()
            .any(|f| f["subject"] == "httproute/shop/admin" && f["severity"] == "critical"),
        "{r:#}"
    );
    // The Gateway says Programmed=True while its https listener says False: both are read.
    assert!(findings(&r, "gateway.not-programmed").is_empty(), "{r:#}");
    let listener = findings(&r, "listener.not-programmed");
    assert_eq!(listener.len(), 1, "{r:#}");
    assert_eq!(listener[0]["subject"], "gateway/nantian-gw/public/https");
    assert!(!findings(&r, "listener.refs-unresolved").is_empty());
    let class = &r["gatewayApi"][0];
    assert_eq!(
        class["controllerName"],
        "gateway.networking.k8s.io/nantian-gw"
    );
    assert_eq!(class["accepted"]["status"], "True");
}

#[tokio::test]
async fn healthy_cluster_exits_0() {
    let env = Env::start("healthy").await;
    let out = run(&mut env.plugin(BIN)).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("HEALTHY"), "{}", stdout(&out));
}

#[tokio::test]
async fn discovery_and_the_installed_kubectl() {
    let env = Env::start("istio-outage").await;
    let out = run(env.kubectl().args(["gw-status", "-o", "json"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let r = json(&out);
    let profiles: Vec<&str> = r["gateways"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| text(&g["profile"]))
        .collect();
    assert_eq!(profiles, ["istio"]);

    let out = run(env.kubectl().args(["gw-status", "--help"])).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("kubectl gw-status"));
}

#[tokio::test]
async fn exit_codes_follow_fail_on_ignore_and_errors() {
    let env = Env::start("gateway-oom").await;
    let run_code = |args: Vec<&'static str>| {
        let mut cmd = env.plugin(BIN);
        cmd.args(args);
        async move { run(&mut cmd).await }
    };
    let out = run_code(vec!["gateway-proxy", "--exit-zero"]).await;
    assert_eq!(out.status.code(), Some(0));
    let out = run_code(vec![
        "gateway-proxy",
        "--ignore",
        "pod.*",
        "--ignore",
        "replicas.*",
        "--ignore",
        "svc.*",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let out = run_code(vec!["deploy/nope", "-n", "gateway"]).await;
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = run_code(vec!["deploy/gateway-prxy", "-n", "gateway"]).await;
    assert!(
        stderr(&out).contains("did you mean gateway-proxy"),
        "{}",
        stderr(&out)
    );

    env.cluster
        .rbac()
        .forbid(testcluster::rbac::ForbidRule::new("list", "nodes"));
    let out = run_code(vec!["gateway-proxy", "-n", "gateway"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: forbidden: cannot list nodes"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn watch_prints_again_when_a_pod_changes() {
    let env = Env::start("gateway-oom").await;
    let mut child = env
        .plugin(BIN)
        .args([
            "gateway-proxy",
            "--watch",
            "-o",
            "jsonpath={.components[0].replicas.desired}",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    let mut scaled = false;
    while Instant::now() < deadline && seen.lines().filter(|l| !l.is_empty()).count() < 2 {
        if !scaled && seen.contains('3') {
            let out = run(env.kubectl().args([
                "scale",
                "deployment/gateway-proxy",
                "-n",
                "gateway",
                "--replicas=4",
            ]))
            .await;
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            scaled = true;
        }
        match tokio::time::timeout(Duration::from_secs(1), stdout.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            _ => {}
        }
    }
    let _ = child.kill().await;
    let lines: Vec<&str> = seen.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.first(), Some(&"3"), "{seen:?}");
    assert!(lines.contains(&"4"), "no refresh after the scale: {seen:?}");
}

/// Not a timed test: prints gw-status's wall time and request count next to runbook 000's
/// manual `kubectl get/describe/logs` sequence, with 20 ms injected per request.
/// Run: cargo test -p e2e --test gw_status benchmark -- --ignored --nocapture
#[tokio::test]
#[ignore = "benchmark: prints figures, asserts nothing about time"]
async fn benchmark_against_runbook_000_kubectl_sequence() {
    let env = Env::start("gateway-oom").await;
    e2e::ensure_built();
    env.cluster.faults().set_latency(Duration::from_millis(20));

    let start = Instant::now();
    let out = run(env
        .plugin(BIN)
        .args(["gateway-proxy", "-n", "gateway", "-v", "-o", "json"]))
    .await;
    let ours = start.elapsed();
    let our_requests = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("GET ") || l.starts_with("POST "))
        .count();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let sequence: [&[&str]; 6] = [
        &[
            "get",
            "deployments",
            "gateway-proxy",
            "-n",
            "gateway",
            "-o",
            "json",
        ],
        &[
            "get",
            "deployments",
            "gateway-proxy",
            "-n",
            "gateway",
            "-o",
            "json",
        ],
        &[
            "get",
            "pods",
            "-n",
            "gateway",
            "-l",
            "app=gateway-proxy",
            "-o",
            "json",
        ],
        &["describe", "deployment", "gateway-proxy", "-n", "gateway"],
        &[
            "describe",
            "pods",
            "-n",
            "gateway",
            "-l",
            "app=gateway-proxy",
        ],
        &[
            "logs",
            "-n",
            "gateway",
            "deploy/gateway-proxy",
            "--tail=100",
        ],
    ];
    let start = Instant::now();
    let mut kubectl_requests = 0;
    for args in sequence {
        let out = run(env.kubectl().args(args).arg("-v=6")).await;
        kubectl_requests += stderr(&out)
            .lines()
            .filter(|l| l.contains(" GET ") || l.contains("\"GET\"") || l.contains("GET http"))
            .count();
    }
    let theirs = start.elapsed();
    println!(
        "gw-status gateway-proxy: {:>6} ms, {our_requests} requests (one screen, every check)",
        ours.as_millis()
    );
    println!(
        "runbook 000 by hand:     {:>6} ms, {kubectl_requests} requests (6 kubectl commands)",
        theirs.as_millis()
    );
}
