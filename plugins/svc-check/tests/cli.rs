//! The binary's command line: help, usage errors and a missing kubeconfig.

use assert_cmd::Command;

fn svc_check() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-svc_check"));
    cmd.env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent-home");
    cmd
}

#[test]
fn help_exits_0_with_examples() {
    let out = svc_check().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kubectl svc-check checkout -n shop --probe"),
        "{text}"
    );
    assert!(text.contains("instead of:"), "{text}");
    assert!(text.contains("Exit codes:"), "{text}");
}

#[test]
fn usage_errors_exit_64() {
    let bad_flag = svc_check()
        .args(["web", "--output", "xml"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(64));
    let out = svc_check()
        .args(["web", "-A", "--kubeconfig", "/nonexistent/kubeconfig"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(64),
        "arguments are judged before connecting"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
    let no_service = svc_check()
        .args(["--probe-timeout", "2s"])
        .output()
        .unwrap();
    assert_eq!(no_service.status.code(), Some(64));
}

#[test]
fn missing_kubeconfig_is_one_line_exit_3() {
    let out = svc_check()
        .args(["web", "--kubeconfig", "/nonexistent/kubeconfig"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot read kubeconfig /nonexistent/kubeconfig"),
        "{err}"
    );
}

#[test]
fn hidden_complete_answers_without_a_cluster_and_completion_prints_scripts() {
    let out = svc_check()
        .args([
            "__complete",
            "--kubeconfig",
            "/nonexistent",
            "--fail-on",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("warning\t"), "{text}");
    assert!(text.ends_with("\n:4\n"), "{text}");
    let out = svc_check().args(["completion", "zsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("#compdef kubectl-svc_check"));
}
