//! End-to-end tests of `kubectl node-maintain`: the real binary (and the installed kubectl)
//! against the `node-trouble` scenario of runbooks 003 and 004. node-1 is the node to drain:
//! a DaemonSet pod, a bare pod, an emptyDir pod, a `web` pod, and both replicas of
//! `checkout` behind a PDB with minAvailable 2 (it allows a disruption only once `checkout`
//! is scaled up and the new replica is ready).

use std::collections::BTreeSet;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use e2e::{Env, ensure_built, finding_ids, json, run, stderr, stdout};
use serde_json::Value;

const BIN: &str = "kubectl-node_maintain";
const RECORD: &str = "node-maintain.kubectl-runbook.io/maintenance";

fn node(env: &Env, name: &str) -> Option<Value> {
    env.cluster.store().get("nodes", None, name)
}

fn unschedulable(env: &Env, name: &str) -> bool {
    node(env, name).is_some_and(|n| n.pointer("/spec/unschedulable") == Some(&Value::Bool(true)))
}

fn record(env: &Env, name: &str) -> Option<Value> {
    let n = node(env, name)?;
    let raw = n.pointer("/metadata/annotations")?.get(RECORD)?.as_str()?;
    serde_json::from_str(raw).ok()
}

/// `namespace/name` of the pods bound to `node` and not being deleted.
fn pods_on(env: &Env, node: &str) -> BTreeSet<String> {
    env.cluster
        .store()
        .list("pods", None)
        .into_iter()
        .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node))
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or_default(),
                p["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

fn explain(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// Waits until `cond` holds (checked every 100ms), or panics after `limit`.
async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Scales `checkout` to 3 with the installed kubectl: its PDB then allows one disruption at a
/// time as replacements become ready elsewhere.
async fn scale_checkout(env: &Env) {
    let out =
        run(env
            .kubectl()
            .args(["scale", "deployment/checkout", "-n", "shop", "--replicas=3"]))
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_each_runbook_node_problem() {
    let env = Env::start("node-trouble").await;
    let out = run(env.plugin(BIN).args(["check", "-o", "json"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let report = json(&out);
    let by = |check: &str, subject: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == check && f["subject"] == subject)
            .unwrap_or_else(|| panic!("no {check} on {subject}: {report:#}"))
            .clone()
    };
    // 6.1.3 / 6.1.4: DiskPressure with image GC failures, eviction threshold, evicted pods.
    assert_eq!(
        by("node.disk-pressure", "node/node-2")["severity"],
        "critical"
    );
    let gc = by("node.image-gc-failed", "node/node-2");
    assert_eq!(gc["severity"], "warning");
    assert!(
        gc["message"]
            .as_str()
            .unwrap()
            .contains("FreeDiskSpaceFailed x8"),
        "{gc}"
    );
    assert!(
        by("node.eviction-threshold", "node/node-2")["message"]
            .as_str()
            .unwrap()
            .contains("EvictionThresholdMet x19")
    );
    let evicted = by("node.evicted-pods", "node/node-2");
    assert!(
        evicted["message"]
            .as_str()
            .unwrap()
            .starts_with("2 pod(s) evicted by the kubelet (2 for ephemeral-storage)")
    );
    // 6.1.6 / 6.6.2: PLEG, a runtime that does not answer, and the StatefulSet pod stuck there.
    let pleg = by("node.pleg", "node/node-3");
    assert_eq!(pleg["severity"], "critical");
    assert!(
        pleg["message"]
            .as_str()
            .unwrap()
            .starts_with("NotReady for 27h: PLEG is not healthy")
    );
    by("node.container-gc-failed", "node/node-3");
    let stuck = by("node.unreplaced-pods", "pod/data/redis-2");
    assert_eq!(stuck["severity"], "critical");
    assert!(
        stuck["hint"]
            .as_str()
            .unwrap()
            .contains("node.kubernetes.io/out-of-service")
    );
    // 6.1.7: SystemOOM.
    assert!(
        by("node.system-oom", "node/node-4")["message"]
            .as_str()
            .unwrap()
            .contains("victim process: java")
    );
    // Worst node first; the healthy node-1 last-but-not-failing.
    let nodes: Vec<&str> = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(&nodes[..2], ["node-2", "node-3"], "{report:#}");
    assert_eq!(report["nodes"][1]["status"], "NotReady");

    let healthy = run(env.plugin(BIN).args(["check", "node-1"])).await;
    assert_eq!(healthy.status.code(), Some(0), "{}", explain(&healthy));
    assert!(stdout(&healthy).contains("No problems found."));
    let typo = run(env.plugin(BIN).args(["check", "node-9"])).await;
    assert_eq!(typo.status.code(), Some(3));
    assert!(stderr(&typo).contains("did you mean"), "{}", explain(&typo));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_plan_names_every_blocker_and_dry_runs_change_nothing() {
    let env = Env::start("node-trouble").await;
    let before = pods_on(&env, "node-1");
    let refused = run(env.plugin(BIN).args(["drain", "node-1", "-o", "json"])).await;
    assert_eq!(refused.status.code(), Some(2), "{}", explain(&refused));
    assert!(stderr(&refused).contains("need --delete-emptydir-data and --force"));
    let plan = &json(&refused)["plan"];
    let verdict = |prefix: &str| {
        plan["pods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"].as_str().unwrap().starts_with(prefix))
            .map(|p| p["verdict"].clone())
            .unwrap()
    };
    assert_eq!(verdict("node-exporter")["action"], "skip");
    assert_eq!(verdict("debug-shell")["reasons"][0], "noController");
    assert_eq!(verdict("cache-warmer")["reasons"][0], "emptyDir");
    assert_eq!(verdict("checkout")["action"], "evict");
    assert_eq!(
        finding_ids(plan),
        [
            "drain.bare-pod",
            "drain.emptydir",
            "drain.last-replica",
            "drain.pdb-blocks"
        ]
    );
    assert!(
        !unschedulable(&env, "node-1"),
        "a refused plan changes nothing"
    );

    for mode in ["--dry-run", "--dry-run=server"] {
        let out = run(env.plugin(BIN).args([
            "drain",
            "node-1",
            "--force",
            "--delete-emptydir-data",
            "--yes",
            mode,
        ]))
        .await;
        let text = stdout(&out);
        assert!(text.contains("pdb/shop/checkout"), "{}", explain(&out));
        assert!(
            text.contains("never will as it stands"),
            "{}",
            explain(&out)
        );
        assert!(!unschedulable(&env, "node-1"), "{mode} cordoned the node");
        assert_eq!(pods_on(&env, "node-1"), before, "{mode} removed pods");
        assert!(record(&env, "node-1").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_blocked_by_a_pdb_exits_2_names_it_and_stays_cordoned() {
    let env = Env::start("node-trouble").await;
    let out = run(env.plugin(BIN).args([
        "drain",
        "node-1",
        "--force",
        "--delete-emptydir-data",
        "--yes",
        "--timeout",
        "6s",
        "--reason",
        "kernel upgrade",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    let err = stderr(&out);
    assert!(err.contains("timed out"), "{err}");
    assert!(
        err.contains("blocked by PDB shop/checkout: shop/checkout-"),
        "{err}"
    );
    assert!(err.contains("scale Deployment/checkout up"), "{err}");
    assert!(err.contains("stays cordoned"), "{err}");
    assert!(stdout(&out).contains("2 blocked"), "{}", explain(&out));
    assert!(unschedulable(&env, "node-1"));
    let rec = record(&env, "node-1").expect("maintenance record");
    assert_eq!(rec["reason"], "kernel upgrade");
    assert_eq!(rec["command"], "drain");
    let left: Vec<String> = pods_on(&env, "node-1").into_iter().collect();
    assert_eq!(
        left.len(),
        3,
        "DaemonSet pod and the two checkout pods stay: {left:?}"
    );
    assert!(
        left.iter()
            .all(|p| p.starts_with("monitoring/node-exporter") || p.starts_with("shop/checkout-"))
    );

    // What `check` shows while the node is under maintenance.
    let check = run(env.plugin(BIN).args(["check", "node-1", "-o", "json"])).await;
    assert!(finding_ids(&json(&check)).contains(&"node.maintenance".to_string()));
    assert!(stdout(&check).contains("kernel upgrade"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_waits_on_the_pdb_finishes_when_it_allows_then_uncordon_clears_the_record() {
    let env = Env::start("node-trouble").await;
    let drain = env
        .plugin(BIN)
        .args([
            "drain",
            "node-1",
            "--force",
            "--delete-emptydir-data",
            "--yes",
            "--timeout",
            "90s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn drain");
    wait_for("the cordon", Duration::from_secs(20), || {
        unschedulable(&env, "node-1")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let checkouts = |env: &Env| {
        pods_on(env, "node-1")
            .into_iter()
            .filter(|p| p.starts_with("shop/checkout-"))
            .count()
    };
    assert_eq!(checkouts(&env), 2, "the PDB holds both checkout pods");
    scale_checkout(&env).await;
    let out = tokio::time::timeout(Duration::from_secs(120), drain.wait_with_output())
        .await
        .expect("drain finished")
        .expect("drain output");
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let err = stderr(&out);
    assert!(
        err.contains("(will retry after"),
        "it waited on a 429: {err}"
    );
    assert!(err.contains("node/node-1 drained"), "{err}");
    assert!(
        stdout(&out).contains("Summary for node/node-1: 5 evicted, 1 left in place"),
        "{}",
        explain(&out)
    );
    let left: Vec<String> = pods_on(&env, "node-1").into_iter().collect();
    assert_eq!(left.len(), 1, "only the DaemonSet pod stays: {left:?}");
    // The replacements landed on other nodes.
    let elsewhere = env
        .cluster
        .store()
        .list("pods", Some("shop"))
        .into_iter()
        .filter(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .starts_with("checkout-")
        })
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .filter(|p| {
            p.pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .is_some_and(|n| n != "node-1")
        })
        .count();
    assert_eq!(elsewhere, 3, "checkout runs 3 replicas off node-1");

    let out = run(env.kubectl().args(["node-maintain", "uncordon", "node-1"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("node/node-1 uncordoned (was cordoned by"),
        "{}",
        explain(&out)
    );
    assert!(!unschedulable(&env, "node-1"));
    assert!(
        record(&env, "node-1").is_none(),
        "uncordon clears the record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_the_node_cordoned_and_a_rerun_resumes() {
    let env = Env::start("node-trouble").await;
    let drain = env
        .plugin(BIN)
        .args([
            "drain",
            "node-1",
            "--force",
            "--delete-emptydir-data",
            "--yes",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn drain");
    wait_for("the cordon", Duration::from_secs(20), || {
        unschedulable(&env, "node-1")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = drain.id().expect("pid");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("send SIGINT");
    let out = tokio::time::timeout(Duration::from_secs(30), drain.wait_with_output())
        .await
        .expect("drain stopped")
        .expect("drain output");
    assert_eq!(out.status.code(), Some(130), "{}", explain(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("blocked by PDB shop/checkout"), "{err}");
    assert!(
        err.contains("Run the same command again to resume"),
        "{err}"
    );
    assert!(unschedulable(&env, "node-1"));

    scale_checkout(&env).await;
    let out = run(env.plugin(BIN).args([
        "drain",
        "node-1",
        "--force",
        "--delete-emptydir-data",
        "--yes",
        "--timeout",
        "90s",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stderr(&out).contains("Resuming the maintenance cordoned by"),
        "{}",
        explain(&out)
    );
    assert!(
        stderr(&out).contains("node/node-1 already cordoned"),
        "{}",
        explain(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drain_and_node_maintain_evict_the_same_pods() {
    let ours = Env::start("node-trouble").await;
    let theirs = Env::start("node-trouble").await;
    for env in [&ours, &theirs] {
        scale_checkout(env).await;
        wait_for("a third checkout replica", Duration::from_secs(30), || {
            env.cluster
                .store()
                .get("deployments", Some("shop"), "checkout")
                .is_some_and(|d| {
                    d.pointer("/status/readyReplicas").and_then(Value::as_i64) == Some(3)
                })
        })
        .await;
    }
    let before = pods_on(&ours, "node-1");
    assert_eq!(before, pods_on(&theirs, "node-1"));
    let out = run(ours.plugin(BIN).args([
        "drain",
        "node-1",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--yes",
        "--timeout",
        "90s",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let out = run(theirs.kubectl().args([
        "drain",
        "node-1",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--timeout=90s",
    ]))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "kubectl drain: {}",
        explain(&out)
    );
    let evicted = |env: &Env| -> BTreeSet<String> {
        before
            .difference(&pods_on(env, "node-1"))
            .cloned()
            .collect()
    };
    assert_eq!(evicted(&ours), evicted(&theirs));
    assert_eq!(evicted(&ours).len(), 5);
    assert!(unschedulable(&ours, "node-1") && unschedulable(&theirs, "node-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncordon_wait_ready_keeps_a_sick_node_cordoned() {
    let env = Env::start("node-trouble").await;
    let out = run(env
        .plugin(BIN)
        .args(["cordon", "node-3", "--reason", "PLEG"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert_eq!(record(&env, "node-3").expect("record")["reason"], "PLEG");
    let out = run(env
        .plugin(BIN)
        .args(["uncordon", "node-3", "--wait-ready", "--timeout", "2s"]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        stderr(&out).contains("did not become Ready"),
        "{}",
        explain(&out)
    );
    assert!(unschedulable(&env, "node-3"));
    let out = run(env
        .plugin(BIN)
        .args(["uncordon", "node-3", "--dry-run=server"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        unschedulable(&env, "node-3"),
        "a server dry run changes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_drains_then_deletes_the_node() {
    let env = Env::start("node-trouble").await;
    let out = run(env.plugin(BIN).args([
        "remove",
        "node-4",
        "--delete-emptydir-data",
        "--force",
        "--yes",
        "--timeout",
        "90s",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    assert!(
        stdout(&out).contains("node/node-4 deleted"),
        "{}",
        explain(&out)
    );
    assert!(node(&env, "node-4").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_the_healthy_scenario_finds_nothing_critical() {
    let env = Env::start("healthy").await;
    let out = run(env.plugin(BIN).args(["check", "-o", "json"])).await;
    let report = json(&out);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        explain(&out)
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "critical"),
        "{report:#}"
    );
    assert!(
        report["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "Ready")
    );
}

/// Requests a run made, from `-v` lines (ours: `GET /path 200 in 3 ms`) or kubectl's `-v=6`
/// (`"Response" verb="GET" ...`).
fn request_count(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| {
            l.contains("\"Response\" verb=")
                || ["GET ", "POST ", "PATCH ", "PUT ", "DELETE "]
                    .iter()
                    .any(|m| l.starts_with(m))
        })
        .count()
}

/// Drain wall time and request count for a node with 110 pods, next to `kubectl drain` on the
/// same generated cluster (`large:3:10:330`: 3 nodes of 110 pods, no controllers, so both
/// use --grace-period=0). Run with `cargo test -p e2e --test node_maintain -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_drain_a_node_with_110_pods() {
    let scenario = "large:3:10:330";
    let ours = Env::start(scenario).await;
    let theirs = Env::start(scenario).await;
    let node = "node-0000";
    assert_eq!(pods_on(&ours, node).len(), 110);
    ensure_built();
    let flags = [
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--grace-period=0",
    ];
    let start = Instant::now();
    let out = run(ours
        .plugin(BIN)
        .args(["drain", node, "--yes", "-v", "--timeout", "120s"])
        .args(flags))
    .await;
    let our_time = start.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let our_requests = request_count(&stderr(&out));
    let start = Instant::now();
    let out = run(theirs
        .kubectl()
        .args(["drain", node, "-v=6", "--timeout=120s"])
        .args(flags))
    .await;
    let their_time = start.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let their_requests = request_count(&stderr(&out));
    assert_eq!(pods_on(&ours, node).len(), 0);
    assert_eq!(pods_on(&theirs, node).len(), 0);
    println!("drain of a node with 110 pods ({scenario}):");
    println!("  {:<24} {:>10} {:>10}", "TOOL", "WALL", "REQUESTS");
    println!(
        "  {:<24} {:>8}ms {:>10}",
        "kubectl node-maintain",
        our_time.as_millis(),
        our_requests
    );
    println!(
        "  {:<24} {:>8}ms {:>10}",
        "kubectl drain",
        their_time.as_millis(),
        their_requests
    );
}
