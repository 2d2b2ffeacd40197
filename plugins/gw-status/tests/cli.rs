//! The binary's command line: help, usage errors, and a missing kubeconfig, without a cluster.

use assert_cmd::Command;

fn gw_status() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-gw_status"));
    cmd.env_remove("KUBECONFIG")
        .env_remove("KUBECTL_RUNBOOK_PROFILES")
        .env("XDG_CONFIG_HOME", "/nonexistent-config");
    cmd
}

#[test]
fn help_shows_examples_and_exits_0() {
    let out = gw_status().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Usage: kubectl gw-status"), "{text}");
    assert!(text.contains("# instead of: kubectl get deployments gateway-proxy -ojson"));
    assert!(text.contains("profiles.yaml"));
}

#[test]
fn usage_errors_exit_64() {
    for args in [
        vec!["--output", "xml"],
        vec!["istio", "--since", "5m"],
        vec!["svc/web"],
        vec!["--logs", "--tail", "0"],
    ] {
        let out = gw_status().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(64),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn missing_kubeconfig_is_one_line_and_exit_3() {
    let out = gw_status()
        .args(["istio", "--kubeconfig", "/nonexistent/kubeconfig"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot read kubeconfig /nonexistent/kubeconfig"),
        "{err}"
    );
}

#[test]
fn profiles_file_is_read_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.yaml");
    std::fs::write(
        &path,
        "profiles:\n  - name: edge\n    namespace: edge\n    components:\n      - deployment: edge-proxy\n",
    )
    .unwrap();
    let out = gw_status()
        .args(["--list-profiles", "--profiles"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("PROFILE"));
    assert!(text.contains("edge-proxy"), "{text}");
    assert!(text.contains("nantian-gw-controlplane,nantian-gw-dataplane"));

    std::fs::write(&path, "profiles:\n  - name: edge\n    namespace: edge\n").unwrap();
    let out = gw_status()
        .args(["--list-profiles", "--profiles"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn check_catalog_is_listed() {
    let out = gw_status().arg("--list-checks").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("webhook.no-endpoints"));
    assert!(text.contains("httproute.backend-unresolved"));
}

#[test]
fn hidden_complete_answers_in_cobra_format_without_a_cluster() {
    let out = gw_status()
        .args(["__complete", "--kubeconfig", "/nonexistent", "na"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "nantian\tNantian Gateway, a Gateway API implementation (runbook 002)\n:4\n"
    );
}

#[test]
fn completion_prints_a_script_and_installs_the_kubectl_helper() {
    let out = gw_status().args(["completion", "fish"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("complete -c kubectl-gw_status"));
    let dir = tempfile::tempdir().unwrap();
    let out = gw_status()
        .args(["completion", "--install", "--dir"])
        .arg(dir.path())
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let helper = dir.path().join("kubectl_complete-gw_status");
    let script = std::fs::read_to_string(&helper).unwrap();
    assert!(script.contains(" __complete \"$@\""), "{script}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("wrote "));
}
