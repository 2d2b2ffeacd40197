//! Shared helpers of the end-to-end tests: a started test-cluster scenario with its kubeconfig,
//! the plugin binaries, and the installed kubectl pointed at the scenario.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use testcluster::TestCluster;

/// The four plugin binaries, as kubectl finds them on PATH.
pub const PLUGINS: [&str; 4] = [
    "kubectl-gw_status",
    "kubectl-gw_resize",
    "kubectl-node_maintain",
    "kubectl-svc_check",
];

pub mod faults;

/// The directory holding the workspace's binaries (`target/debug`), from a test executable
/// (in `target/debug/deps`) or a binary of this crate (in `target/debug`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().expect("executable dir");
    if dir.ends_with("deps") {
        dir.parent().expect("profile dir").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Builds the plugin binaries once per test process, so `cargo test -p e2e` never runs stale ones.
pub fn ensure_built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--quiet", "--manifest-path"])
            .arg(&manifest);
        for p in [
            "kubectl-gw-status",
            "kubectl-gw-resize",
            "kubectl-node-maintain",
            "kubectl-svc-check",
        ] {
            cmd.args(["-p", p]);
        }
        let status = cmd
            .status()
            .expect("run cargo build for the plugin binaries");
        assert!(status.success(), "cargo build of the plugins failed");
        bin_dir()
    })
}

/// A started scenario: the cluster, a temp dir, and a kubeconfig pointing at it.
pub struct Env {
    /// The running test cluster.
    pub cluster: TestCluster,
    /// Kubeconfig written for the cluster.
    pub kubeconfig: PathBuf,
    /// Scratch directory (removed on drop).
    pub dir: tempfile::TempDir,
}

impl Env {
    /// Starts `scenario` with free-running controllers and writes its kubeconfig.
    pub async fn start(scenario: &str) -> Env {
        let cluster = testcluster::scenarios::start(scenario, true)
            .await
            .unwrap_or_else(|e| panic!("start scenario {scenario}: {e:#}"));
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .expect("write kubeconfig");
        Env {
            cluster,
            kubeconfig,
            dir,
        }
    }

    /// A command for a plugin binary (`kubectl-gw_status`), with KUBECONFIG set and no colour.
    pub fn plugin(&self, binary: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(ensure_built().join(binary));
        self.env(&mut cmd);
        cmd
    }

    /// The installed kubectl, with the plugin binaries first on PATH.
    pub fn kubectl(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("kubectl");
        self.env(&mut cmd);
        cmd
    }

    fn env(&self, cmd: &mut tokio::process::Command) {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![ensure_built().to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(paths).expect("PATH"))
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
    }
}

/// Runs a command to completion and returns its output.
pub async fn run(cmd: &mut tokio::process::Command) -> Output {
    cmd.output().await.expect("spawn command")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout parsed as JSON (panics with both streams when it is not).
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n--- stdout\n{}\n--- stderr\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

/// The check ids of the findings in a `-o json` report (any `findings` arrays, at any depth).
pub fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    let mut ids = Vec::new();
    collect_ids(report, &mut ids);
    ids.sort();
    ids.dedup();
    ids
}

fn collect_ids(v: &serde_json::Value, ids: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let (Some(check), Some(_)) = (map.get("check"), map.get("severity"))
                && let Some(c) = check.as_str()
            {
                ids.push(c.to_string());
            }
            map.values().for_each(|v| collect_ids(v, ids));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_ids(v, ids)),
        _ => {}
    }
}
