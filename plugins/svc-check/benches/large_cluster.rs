//! Benchmark (`cargo bench -p kubectl-svc-check --bench large_cluster`): `kubectl svc-check -A`
//! on a generated cluster of 5,000 Services and 50,000 Pods, next to
//! `kubectl get svc,endpointslices,pods -A -o json > /dev/null` on the same test cluster.
//! Prints wall time (median of the runs), peak memory (max RSS) and API requests of each.
//!
//! The cluster is the `large:` scenario of `testcluster::generator::large_cluster` (Services with their Deployment,
//! ReplicaSet, pods, Endpoints and EndpointSlices), served without controllers.
//!
//! Sizes: `SVC_CHECK_BENCH_SERVICES`, `SVC_CHECK_BENCH_PODS`, `SVC_CHECK_BENCH_NODES`,
//! `SVC_CHECK_BENCH_RUNS` override the defaults (5000, 50000, 100, 3).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// Set in the child that measures one command (it runs the command and prints its max RSS).
const MEASURE_ENV: &str = "SVC_CHECK_BENCH_MEASURE";

fn main() {
    if std::env::var_os(MEASURE_ENV).is_some() {
        measure_child();
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: skip the long run there.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!(
            "large_cluster: run it with `cargo bench -p kubectl-svc-check --bench large_cluster`"
        );
        return;
    }
    let size = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let services = size("SVC_CHECK_BENCH_SERVICES", 5000);
    let pods = size("SVC_CHECK_BENCH_PODS", 50_000);
    let nodes = size("SVC_CHECK_BENCH_NODES", 100);
    let runs = size("SVC_CHECK_BENCH_RUNS", 3).max(1);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(bench(nodes, services, pods, runs));
}

async fn bench(nodes: usize, services: usize, pods: usize, runs: usize) {
    let start = Instant::now();
    let scenario = format!("large:{nodes}:{services}:{pods}");
    let cluster = testcluster::scenarios::start(&scenario, false)
        .await
        .expect("start the test cluster");
    eprintln!(
        "started {scenario} in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let plugin = env!("CARGO_BIN_EXE_kubectl-svc_check");

    let svc_check = Measured::of(
        runs,
        &kubeconfig,
        dir.path(),
        plugin,
        &["-A", "-o", "json"],
        &["-v"],
        |line| line.starts_with("GET "),
    );
    let kubectl = Measured::of(
        runs,
        &kubeconfig,
        dir.path(),
        "kubectl",
        &["get", "svc,endpointslices,pods", "-A", "-o", "json"],
        &["-v=6"],
        // klog prints `GET http://...` or, structured, `"Response" verb="GET" url=...`.
        |line| line.contains(" GET http") || line.contains("verb=\"GET\""),
    );
    println!(
        "test cluster {scenario} (testcluster::generator::large_cluster): {nodes} nodes, {services} services, {pods} pods"
    );
    println!();
    println!(
        "{:<58} {:>9} {:>10} {:>9}",
        "COMMAND", "WALL", "PEAK RSS", "REQUESTS"
    );
    for (label, m) in [
        ("kubectl svc-check -A -o json > /dev/null", &svc_check),
        (
            "kubectl get svc,endpointslices,pods -A -o json > /dev/null",
            &kubectl,
        ),
    ] {
        println!(
            "{:<58} {:>8.2}s {:>6} MiB {:>9}",
            label,
            m.wall.as_secs_f64(),
            m.max_rss_kib / 1024,
            m.requests
        );
    }
    println!();
    println!(
        "(wall: median of {runs} runs; requests counted from each client's request log in a separate run)"
    );
    cluster.shutdown().await;
}

/// The figures of one command.
struct Measured {
    wall: Duration,
    max_rss_kib: i64,
    requests: usize,
}

impl Measured {
    /// Runs `program args` `runs` times for time and memory (stdout to /dev/null), then once
    /// more with `verbose` to count the requests it logs.
    fn of(
        runs: usize,
        kubeconfig: &Path,
        home: &Path,
        program: &str,
        args: &[&str],
        verbose: &[&str],
        is_request: impl Fn(&str) -> bool,
    ) -> Measured {
        let mut walls = Vec::new();
        let mut max_rss_kib = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let out = Command::new(std::env::current_exe().expect("bench executable"))
                .env(MEASURE_ENV, "1")
                .env("KUBECONFIG", kubeconfig)
                .env("HOME", home)
                .arg(program)
                .args(args)
                .stderr(Stdio::inherit())
                .output()
                .expect("run the measuring child");
            walls.push(started.elapsed());
            let rss: i64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("max rss from the measuring child");
            max_rss_kib = max_rss_kib.max(rss);
        }
        walls.sort();
        let out = Command::new(program)
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", home)
            .args(args)
            .args(verbose)
            .stdout(Stdio::null())
            .output()
            .expect("run the command with request logging");
        let requests = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| is_request(l))
            .count();
        Measured {
            wall: walls[walls.len() / 2],
            max_rss_kib,
            requests,
        }
    }
}

/// In the measuring child: runs the command (stdout to /dev/null), then prints the largest
/// resident set of its children, that is of that command alone, in KiB.
fn measure_child() {
    let mut args = std::env::args().skip(1);
    let program = args.next().expect("program to measure");
    let status = Command::new(&program)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    // svc-check exits 1 or 2 when it finds problems; 3 and above mean it could not check.
    assert!(
        status.code().is_some_and(|c| c <= 2),
        "{program} failed: {status}"
    );
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    println!("{}", usage.max_rss());
}
