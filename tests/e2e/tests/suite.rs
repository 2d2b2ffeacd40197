//! The four plugins as one product (issue 3's acceptance): the installed kubectl finds and runs
//! them, `--help` and `--version` read right, and every exit code of the suite's table comes out
//! of a real invocation against the test cluster.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use e2e::{Env, ensure_built, stderr, stdout};
use testcluster::rbac::ForbidRule;

/// A plugin, and arguments that make it read the cluster without changing anything.
struct Plugin {
    binary: &'static str,
    command: &'static str,
    read: &'static [&'static str],
}

const SUITE: [Plugin; 4] = [
    Plugin {
        binary: "kubectl-gw_status",
        command: "gw-status",
        read: &[],
    },
    Plugin {
        binary: "kubectl-gw_resize",
        command: "gw-resize",
        read: &[
            "deploy/gateway-proxy",
            "-n",
            "gateway",
            "--restart",
            "--dry-run=server",
            "--yes",
        ],
    },
    Plugin {
        binary: "kubectl-node_maintain",
        command: "node-maintain",
        read: &["check"],
    },
    Plugin {
        binary: "kubectl-svc_check",
        command: "svc-check",
        read: &["-A"],
    },
];

/// How long any one command may take before the test calls it hung.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// The installed kubectl with the workspace's binaries first on PATH and no cluster configured.
fn kubectl(args: &[&str]) -> Output {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::iter::once(ensure_built().to_path_buf()).chain(std::env::split_paths(&inherited));
    std::process::Command::new("kubectl")
        .args(args)
        .env("PATH", std::env::join_paths(path).expect("PATH"))
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the installed kubectl")
}

/// A plugin binary run directly, with no cluster configured.
fn plugin(binary: &str, args: &[&str]) -> Output {
    std::process::Command::new(ensure_built().join(binary))
        .args(args)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("HOME", "/nonexistent")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the plugin")
}

/// Runs a command against a scenario, failing the test if it hangs.
async fn finish(cmd: &mut tokio::process::Command) -> Output {
    tokio::time::timeout(COMMAND_LIMIT, cmd.output())
        .await
        .expect("the command finished in time")
        .expect("spawn the command")
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

fn assert_exit(o: &Output, code: i32, what: &str) {
    assert_eq!(o.status.code(), Some(code), "{what}: {}", describe(o));
}

/// The error as the suite promises it: exactly one line on stderr, no panic, no backtrace.
fn one_error_line(o: &Output, what: &str) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: one error line: {}", describe(o));
    for leak in [
        "panicked",
        "backtrace",
        "RUST_BACKTRACE",
        "Error {",
        "Api(",
        "kind:",
    ] {
        assert!(
            !err.contains(leak),
            "{what}: stderr leaks {leak:?}: {}",
            describe(o)
        );
    }
    lines[0].to_string()
}

#[test]
fn kubectl_plugin_list_shows_the_four_plugins() {
    let list = kubectl(&["plugin", "list"]);
    let listed = stdout(&list);
    for p in &SUITE {
        let ours = ensure_built().join(p.binary);
        assert!(
            listed.lines().any(|l| Path::new(l.trim()) == ours),
            "kubectl plugin list lacks {}: {}",
            ours.display(),
            describe(&list)
        );
    }
}

#[test]
fn kubectl_runs_our_help_with_kubectl_usage_and_examples() {
    for p in &SUITE {
        let help = kubectl(&[p.command, "--help"]);
        assert_exit(&help, 0, &format!("kubectl {} --help", p.command));
        let text = stdout(&help);
        let usage = format!("Usage: kubectl {}", p.command);
        assert!(
            text.lines().any(|l| l.starts_with(&usage)),
            "kubectl {} --help: no line starts with {usage:?}:\n{text}",
            p.command
        );
        let example = format!("  kubectl {} ", p.command);
        assert!(
            text.contains("Examples:") && text.contains(&example),
            "kubectl {} --help has no examples of the command:\n{text}",
            p.command
        );
        assert!(
            !text.contains(p.binary),
            "kubectl {} --help names the file {} instead of the command:\n{text}",
            p.command,
            p.binary
        );
    }
}

#[test]
fn version_prints_the_version_and_the_git_commit() {
    for p in &SUITE {
        let version = kubectl(&[p.command, "--version"]);
        assert_exit(&version, 0, &format!("kubectl {} --version", p.command));
        let text = stdout(&version);
        assert!(
            text.contains(env!("CARGO_PKG_VERSION")),
            "kubectl {} --version lacks {}: {text}",
            p.command,
            env!("CARGO_PKG_VERSION")
        );
        let commit = text
            .split("commit ")
            .nth(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).count());
        assert!(
            commit.is_some_and(|n| n >= 7),
            "kubectl {} --version names no git commit: {text}",
            p.command
        );
    }
}

#[test]
fn a_bad_flag_value_exits_64_not_clap_2() {
    for p in &SUITE {
        let mut args: Vec<&str> = p.read.to_vec();
        args.extend(["--request-timeout", "soon"]);
        let out = plugin(p.binary, &args);
        assert_exit(&out, 64, &format!("{} {args:?}", p.binary));
        assert!(
            stderr(&out).contains("soon"),
            "{}: the usage error names the bad value: {}",
            p.binary,
            describe(&out)
        );
        let unknown = plugin(p.binary, &["--no-such-flag"]);
        assert_exit(&unknown, 64, &format!("{} --no-such-flag", p.binary));
    }
}

#[test]
fn a_missing_kubeconfig_exits_3_with_one_line() {
    for p in &SUITE {
        let mut args: Vec<&str> = p.read.to_vec();
        args.extend(["--kubeconfig", "/nonexistent/kc"]);
        let out = plugin(p.binary, &args);
        let what = format!("{} {args:?}", p.binary);
        assert_exit(&out, 3, &what);
        let line = one_error_line(&out, &what);
        assert!(
            line.contains("/nonexistent/kc"),
            "{what}: the error names the kubeconfig: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_3_naming_the_url() {
    let env = Env::start("healthy").await;
    for p in &SUITE {
        let mut args: Vec<&str> = p.read.to_vec();
        args.extend(["-s", "http://127.0.0.1:1", "--request-timeout", "10s"]);
        let out = finish(env.plugin(p.binary).args(&args)).await;
        let what = format!("{} {args:?}", p.binary);
        assert_exit(&out, 3, &what);
        let line = one_error_line(&out, &what);
        assert!(
            line.contains("127.0.0.1:1"),
            "{what}: the error names the URL: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_object_exits_3_with_not_found() {
    let env = Env::start("healthy").await;
    let cases: [(&str, &[&str]); 4] = [
        ("kubectl-gw_status", &["no-such-gateway", "-n", "gateway"]),
        (
            "kubectl-gw_resize",
            &[
                "deploy/no-such-gateway",
                "-n",
                "gateway",
                "--restart",
                "--yes",
            ],
        ),
        ("kubectl-node_maintain", &["check", "no-such-node"]),
        ("kubectl-svc_check", &["no-such-service", "-n", "default"]),
    ];
    for (binary, args) in cases {
        let out = finish(env.plugin(binary).args(args)).await;
        let what = format!("{binary} {args:?}");
        assert_exit(&out, 3, &what);
        let line = one_error_line(&out, &what);
        assert!(
            line.contains("not found") && line.contains("no-such-"),
            "{what}: the error says what was not found: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_request_exits_3_naming_verb_and_resource() {
    let env = Env::start("healthy").await;
    let cases = [
        ("list", "pods", &SUITE[0]),
        ("get", "deployments", &SUITE[1]),
        ("list", "nodes", &SUITE[2]),
        ("list", "services", &SUITE[3]),
    ];
    for (verb, resource, p) in cases {
        env.cluster.rbac().clear();
        env.cluster.rbac().forbid(ForbidRule::new(verb, resource));
        let out = finish(env.plugin(p.binary).args(p.read)).await;
        let what = format!("{} {:?} without {verb} {resource}", p.binary, p.read);
        assert_exit(&out, 3, &what);
        let line = one_error_line(&out, &what);
        assert!(
            line.contains(verb) && line.contains(resource),
            "{what}: the error names the verb and the resource: {line}"
        );
    }
    env.cluster.rbac().clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_cluster_exits_0_through_kubectl() {
    let env = Env::start("healthy").await;
    for p in &SUITE {
        if p.command == "gw-resize" {
            continue;
        }
        let out = finish(env.kubectl().arg(p.command).args(p.read)).await;
        assert_exit(
            &out,
            0,
            &format!("kubectl {} {:?} on healthy", p.command, p.read),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_findings_exit_2_through_kubectl() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "gateway-oom",
            &["gw-status", "gateway-proxy", "-n", "gateway"],
        ),
        ("node-trouble", &["node-maintain", "check"]),
        ("service-faults", &["svc-check", "-A"]),
    ];
    for (scenario, args) in cases {
        let env = Env::start(scenario).await;
        let out = finish(env.kubectl().args(args)).await;
        assert_exit(&out, 2, &format!("kubectl {args:?} on {scenario}"));
    }
}

/// A Deployment whose pods have no readinessProbe behind a Service: a warning, nothing critical.
const NO_READINESS_PROBE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default, labels: {app: echo}}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
        - name: echo
          image: registry.example/echo:1.0
          ports: [{name: http, containerPort: 8080}]
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 100m, memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_only_exit_1_and_fail_on_critical_exits_0() {
    let env = Env::start("healthy").await;
    let manifest = env.dir.path().join("echo.yaml");
    std::fs::write(&manifest, NO_READINESS_PROBE).expect("write manifest");
    let apply = finish(env.kubectl().args(["create", "-f"]).arg(&manifest)).await;
    assert_exit(&apply, 0, "kubectl create the echo Deployment and Service");

    let mut last = None;
    for _ in 0..50 {
        let out = finish(
            env.kubectl()
                .args(["svc-check", "echo", "-n", "default", "-o", "json"]),
        )
        .await;
        let ready = out.status.code() == Some(1);
        last = Some(out);
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = last.expect("ran svc-check");
    assert_exit(
        &out,
        1,
        "kubectl svc-check echo (pods without readinessProbe)",
    );
    let ids = e2e::finding_ids(&e2e::json(&out));
    assert!(
        ids.iter().any(|id| id == "svc.no-readiness-probe"),
        "the warning is the missing readinessProbe: {ids:?}"
    );
    let relaxed = finish(env.kubectl().args([
        "svc-check",
        "echo",
        "-n",
        "default",
        "--fail-on",
        "critical",
    ]))
    .await;
    assert_exit(&relaxed, 0, "kubectl svc-check echo --fail-on critical");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_on_a_slow_server_exits_130() {
    let env = Env::start("healthy").await;
    env.cluster.faults().set_latency(Duration::from_secs(30));
    for p in &SUITE {
        let child = env
            .kubectl()
            .arg(p.command)
            .args(p.read)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let pid = child.id().expect("the plugin is running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("send SIGINT");
        let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {} did not stop within 10s of SIGINT", p.command))
            .expect("wait for the plugin");
        assert_exit(
            &out,
            130,
            &format!("kubectl {} {:?} interrupted", p.command, p.read),
        );
    }
}
