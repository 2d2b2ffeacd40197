//! The binary's command line: help, usage errors, an unreadable kubeconfig.

use assert_cmd::Command;

fn gw_resize() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-gw_resize"));
    cmd.env_remove("KUBECONFIG").env("HOME", "/nonexistent");
    cmd
}

#[test]
fn help_lists_flags_and_runbook_examples() {
    let out = gw_resize().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Usage: kubectl gw-resize"), "{text}");
    for needle in [
        "--memory <QUANTITY>",
        "--replicas <N>",
        "--rollback",
        "--dry-run",
        "# instead of: kubectl edit po gateway-proxy-pod",
        "kubectl gw-resize deploy/gateway-proxy -n gateway-system --memory +500Mi",
    ] {
        assert!(text.contains(needle), "help lacks {needle:?}:\n{text}");
    }
}

#[test]
fn usage_errors_exit_64() {
    for args in [
        vec!["deploy/gw"],
        vec!["deploy/gw", "--memory", "lots"],
        vec!["deploy/gw", "--memory", "+500Mi", "--memory-limit", "1Gi"],
        vec!["deploy/gw", "--replicas", "many"],
        vec!["ds/node-exporter", "--restart"],
        vec!["deploy/gw", "--add-toleration", "dedicated"],
        vec!["deploy/gw", "--restart", "--rollback", "--no-wait"],
    ] {
        let out = gw_resize().args(&args).output().unwrap();
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
    let out = gw_resize()
        .args([
            "deploy/gw",
            "--memory",
            "+500Mi",
            "--kubeconfig",
            "/nonexistent",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot read kubeconfig /nonexistent"),
        "{err}"
    );
}

#[test]
fn hidden_complete_offers_gateway_components_without_a_cluster() {
    let out = gw_resize()
        .args(["__complete", "--kubeconfig", "/nonexistent", "nantian/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    let values: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "nantian/nantian-gw-controlplane",
            "nantian/nantian-gw-dataplane",
            ":4"
        ]
    );
}
