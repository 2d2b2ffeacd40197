//! The README's first command: `tests/demo.sh` runs every runbook incident through the installed
//! kubectl, exits 0 and shows the findings a user would see.
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The demo must stay quick enough for a newcomer to watch (and for this test).
const DEMO_LIMIT: Duration = Duration::from_secs(90);

/// What each incident must show: the finding a person reading the runbook looks for.
const EXPECTED_FINDINGS: [(&str, &str); 8] = [
    ("gateway-oom", "pod.oomkilled"),
    ("gateway-pending", "untolerated taint"),
    ("istio-outage", "webhook.no-endpoints"),
    ("istio-outage", "logs.errors"),
    ("nantian-gateway", "httproute.backend-unresolved"),
    ("node-trouble", "node.pleg"),
    ("node-trouble", "drain.pdb-blocks"),
    ("service-faults", "svc.selector-typo"),
];

fn build_test_cluster(target_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "testcluster",
            "--bin",
            "test-cluster",
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", target_dir)
        .status()
        .expect("run cargo build for test-cluster");
    assert!(status.success(), "cargo build of test-cluster failed");
}

#[test]
fn demo_runs_every_incident_and_exits_0() {
    let bin_dir = e2e::ensure_built();
    let target_dir = bin_dir.parent().expect("target dir");
    build_test_cluster(target_dir);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo.sh");
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(script)
        .env("DEMO_SKIP_BUILD", "1")
        .env("CARGO_TARGET_DIR", target_dir)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/demo.sh");
    let stdout_pipe = child.stdout.take().expect("stdout");
    let stderr_pipe = child.stderr.take().expect("stderr");
    let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = read_all(Box::new(stdout_pipe));
    let err = read_all(Box::new(stderr_pipe));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the demo") {
            break status;
        }
        if started.elapsed() > DEMO_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tests/demo.sh ran longer than {DEMO_LIMIT:?}:\n{}",
                out.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = out.join().expect("stdout reader");
    let err = err.join().expect("stderr reader");
    let transcript = format!("--- stdout\n{out}\n--- stderr\n{err}");

    assert_eq!(
        status.code(),
        Some(0),
        "tests/demo.sh exited {status}:\n{transcript}"
    );
    assert!(
        out.contains("Every step behaved as expected."),
        "{transcript}"
    );
    assert!(
        !out.contains(", expected "),
        "a step exited with an unexpected code:\n{transcript}"
    );
    for (scenario, check) in EXPECTED_FINDINGS {
        let section = out
            .split("━━━ ")
            .find(|s| s.contains(&format!("test cluster {scenario}:")))
            .unwrap_or_else(|| panic!("the demo has no {scenario} section:\n{transcript}"));
        assert!(
            section.contains(check),
            "the {scenario} section does not show {check}:\n{section}"
        );
    }
    for command in [
        "+ kubectl gw-status",
        "+ kubectl gw-resize",
        "+ kubectl node-maintain check",
        "+ kubectl node-maintain drain node-1 --dry-run",
        "+ kubectl node-maintain uncordon",
        "+ kubectl svc-check -A",
    ] {
        assert!(
            out.contains(command),
            "the demo does not show {command:?}:\n{transcript}"
        );
    }
}
