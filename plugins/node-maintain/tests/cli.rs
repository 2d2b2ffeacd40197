//! The binary's command line: help, usage errors and a missing kubeconfig, without a cluster.

use assert_cmd::Command;

fn cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-node_maintain"));
    c.env_remove("KUBECONFIG").env("HOME", "/nonexistent");
    c
}

#[test]
fn help_lists_subcommands_and_runbook_examples() {
    let out = cmd().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "check",
        "drain",
        "cordon",
        "uncordon",
        "remove",
        "instead of: kubectl drain",
    ] {
        assert!(text.contains(word), "help lacks {word:?}:\n{text}");
    }
    assert!(text.contains("Usage: kubectl node-maintain"), "{text}");
}

#[test]
fn drain_help_names_kubectl_flags() {
    let out = cmd().args(["drain", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--grace-period",
        "--timeout",
        "--pod-selector",
        "--disable-eviction",
        "--skip-wait-for-delete-timeout",
        "--dry-run",
        "--uncordon-on-failure",
    ] {
        assert!(text.contains(flag), "drain help lacks {flag}");
    }
}

#[test]
fn usage_errors_exit_64() {
    for args in [
        vec!["drain"],
        vec!["drain", "node-1", "--timeout", "soon"],
        vec!["frobnicate"],
        vec!["check", "--output", "xml"],
    ] {
        let out = cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
    }
}

#[test]
fn missing_kubeconfig_is_one_line_exit_3() {
    for args in [
        vec!["check", "--kubeconfig", "/nonexistent/kubeconfig"],
        vec![
            "drain",
            "node-1",
            "--yes",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ],
    ] {
        let out = cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: cannot read kubeconfig"), "{err}");
    }
}

#[test]
fn hidden_complete_offers_commands_and_completion_has_a_subcommand() {
    let out = cmd().args(["__complete", "un"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("uncordon\t"), "{text}");
    assert!(text.ends_with("\n:4\n"), "{text}");
    let out = cmd().args(["completion", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kubectl-node_maintain"));
}
