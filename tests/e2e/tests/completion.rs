//! Shell completion through the installed kubectl, as a shell asks for it: `kubectl __complete
//! PLUGIN WORD... ""`, with the `kubectl_complete-*` helpers written by `completion --install`
//! on PATH, against a started scenario.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::{Env, run, stderr, stdout};

/// Writes the completion helper of `binary` into `<scratch>/helpers` with `completion
/// --install --dir`, as a user would, and returns that directory.
async fn install_helper(env: &Env, binary: &str) -> PathBuf {
    let dir = env.dir.path().join("helpers");
    std::fs::create_dir_all(&dir).expect("helpers dir");
    let out = run(env
        .plugin(binary)
        .args(["completion", "--install", "--dir"])
        .arg(&dir))
    .await;
    // Exit 1: the directory is not on the test process's PATH (the plugin says so).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "install failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("wrote "), "{}", stdout(&out));
    dir
}

/// PATH with `helpers` first, then the plugin binaries, then the inherited PATH.
fn path_with(helpers: &Path) -> OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![helpers.to_path_buf(), e2e::ensure_built().to_path_buf()];
    paths.extend(std::env::split_paths(&inherited));
    std::env::join_paths(paths).expect("PATH")
}

/// Runs `kubectl __complete WORDS...` with the helpers on PATH; returns the candidate values
/// and the directive.
async fn kubectl_complete(env: &Env, helpers: &Path, words: &[&str]) -> (Vec<String>, u32) {
    let out = run(env
        .kubectl()
        .env("PATH", path_with(helpers))
        .arg("__complete")
        .args(words))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    parse_answer(&stdout(&out))
}

/// Cobra's answer: `value[\tdescription]` lines, then `:directive`.
fn parse_answer(text: &str) -> (Vec<String>, u32) {
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let directive = lines
        .pop()
        .and_then(|l| l.strip_prefix(':'))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no directive line in {text:?}"));
    let values = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    (values, directive)
}

fn has(values: &[String], want: &str) -> bool {
    values.iter().any(|v| v == want)
}

#[tokio::test]
async fn gw_status_completes_profiles_and_live_deployments() {
    let env = Env::start("gateway-oom").await;
    let helpers = install_helper(&env, "kubectl-gw_status").await;

    let (values, directive) = kubectl_complete(&env, &helpers, &["gw-status", ""]).await;
    for want in ["gateway-proxy", "istio", "nantian", "completion"] {
        assert!(has(&values, want), "{want} missing from {values:?}");
    }
    assert_eq!(directive, 4, "no file completion");

    // Deployments of the namespace typed on the line, from the cluster.
    let (values, directive) =
        kubectl_complete(&env, &helpers, &["gw-status", "-n", "gateway", "deploy/"]).await;
    assert_eq!(values, ["deploy/gateway-proxy"]);
    assert_eq!(directive, 4);
    let (values, _) =
        kubectl_complete(&env, &helpers, &["gw-status", "-n", "default", "deploy/"]).await;
    assert!(values.is_empty(), "{values:?}");

    // Flag values: live namespaces, kubeconfig contexts, formats.
    let (values, _) = kubectl_complete(&env, &helpers, &["gw-status", "-n", ""]).await;
    for want in ["gateway", "default"] {
        assert!(has(&values, want), "{want} missing from {values:?}");
    }
    let (values, _) = kubectl_complete(&env, &helpers, &["gw-status", "--context", ""]).await;
    assert_eq!(values, ["test-cluster"]);
    let (values, directive) = kubectl_complete(&env, &helpers, &["gw-status", "-o", "j"]).await;
    assert_eq!(values, ["json", "jsonpath="]);
    assert_eq!(directive, 4 | 2, "no space after jsonpath=");
    let (values, _) = kubectl_complete(&env, &helpers, &["gw-status", "--pro"]).await;
    assert_eq!(values, ["--probe", "--profiles"]);
}

#[tokio::test]
async fn gw_resize_completes_components_and_live_workloads() {
    let env = Env::start("gateway-oom").await;
    let helpers = install_helper(&env, "kubectl-gw_resize").await;
    let (values, _) = kubectl_complete(&env, &helpers, &["gw-resize", "istio/"]).await;
    assert_eq!(values, ["istio/istiod", "istio/istio-ingressgateway"]);
    let (values, _) =
        kubectl_complete(&env, &helpers, &["gw-resize", "-n", "gateway", "deploy/g"]).await;
    assert_eq!(values, ["deploy/gateway-proxy"]);
}

#[tokio::test]
async fn an_unreachable_cluster_still_completes_profiles_quickly_and_silently() {
    let env = Env::start("healthy").await;
    let helpers = install_helper(&env, "kubectl-gw_status").await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let kubeconfig = env.dir.path().join("unreachable");
    std::fs::write(
        &kubeconfig,
        std::fs::read_to_string(&env.kubeconfig)
            .expect("kubeconfig")
            .replace(&env.cluster.url(), &format!("http://{closed}")),
    )
    .expect("write kubeconfig");

    // The helper itself, as kubectl runs it: its stderr reaches the user's terminal.
    let started = Instant::now();
    let out = run(env
        .plugin("kubectl-gw_status")
        .env("KUBECONFIG", &kubeconfig)
        .env("PATH", path_with(&helpers))
        .args(["__complete", ""]))
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "completion must never print an error");
    let (values, directive) = parse_answer(&stdout(&out));
    assert!(
        has(&values, "istio") && has(&values, "gateway-proxy"),
        "{values:?}"
    );
    assert_eq!(directive, 4);

    let out = run(env
        .kubectl()
        .env("KUBECONFIG", &kubeconfig)
        .env("PATH", path_with(&helpers))
        .args(["__complete", "gw-status", "-n", ""]))
    .await;
    assert!(out.status.success());
    assert_eq!(parse_answer(&stdout(&out)), (Vec::new(), 4));
}

#[tokio::test]
async fn node_maintain_completes_commands_and_live_node_names() {
    let env = Env::start("node-trouble").await;
    let helpers = install_helper(&env, "kubectl-node_maintain").await;
    let (values, _) = kubectl_complete(&env, &helpers, &["node-maintain", ""]).await;
    for want in [
        "check",
        "drain",
        "cordon",
        "uncordon",
        "remove",
        "completion",
    ] {
        assert!(has(&values, want), "{want} missing from {values:?}");
    }
    let (values, directive) =
        kubectl_complete(&env, &helpers, &["node-maintain", "drain", ""]).await;
    assert_eq!(values, ["node-1", "node-2", "node-3", "node-4"]);
    assert_eq!(directive, 4);
    let (values, _) = kubectl_complete(
        &env,
        &helpers,
        &["node-maintain", "cordon", "node-2", "node-"],
    )
    .await;
    assert_eq!(
        values,
        ["node-1", "node-3", "node-4"],
        "typed nodes are left out"
    );
}

#[tokio::test]
async fn svc_check_completes_live_service_names() {
    let env = Env::start("service-faults").await;
    let helpers = install_helper(&env, "kubectl-svc_check").await;
    let (values, directive) =
        kubectl_complete(&env, &helpers, &["svc-check", "-n", "shop", ""]).await;
    for want in [
        "completion",
        "payment",
        "inventory",
        "storefront",
        "legacy-db",
    ] {
        assert!(has(&values, want), "{want} missing from {values:?}");
    }
    assert_eq!(directive, 4);
    let (values, _) =
        kubectl_complete(&env, &helpers, &["svc-check", "-n", "shop", "svc/web-"]).await;
    assert_eq!(values, ["svc/web-a", "svc/web-b"]);
    let (values, _) = kubectl_complete(&env, &helpers, &["svc-check", "-A", ""]).await;
    assert!(values.is_empty(), "-A takes no SERVICE: {values:?}");
    let (values, _) = kubectl_complete(&env, &helpers, &["svc-check", "--ignore", "svc.no-"]).await;
    assert!(has(&values, "svc.no-pods"), "{values:?}");
}
