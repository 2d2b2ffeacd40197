//! The installed `kubectl` against scenarios with their controllers running: rollouts (status,
//! restart, set resources, undo) and node maintenance (drain past a blocking
//! PodDisruptionBudget, uncordon) must behave as on a real cluster.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testcluster::{TestCluster, scenarios};

const KUBECTL: &str = "/usr/bin/kubectl";

/// kubectl with a kubeconfig for one cluster and a private HOME (no discovery cache sharing).
struct Kubectl {
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    home: PathBuf,
}

impl Kubectl {
    fn new(cluster: &TestCluster) -> Kubectl {
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        Kubectl {
            _dir: dir,
            kubeconfig,
            home,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(KUBECTL);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("kubectl runs")
    }

    /// A command that must succeed; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&args)).expect("kubectl prints JSON")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts")
    }
}

async fn running(scenario: &str) -> (TestCluster, Kubectl) {
    let cluster = scenarios::start(scenario, true)
        .await
        .expect("scenario starts");
    let kubectl = Kubectl::new(&cluster);
    (cluster, kubectl)
}

fn revision(deployment: &Value) -> &str {
    deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn set_resources_then_rollout_status_succeeds_and_undo_brings_the_crashes_back() {
    let (cluster, kubectl) = running("gateway-oom").await;
    let status = kubectl.run(&[
        "-n",
        "gateway",
        "rollout",
        "status",
        "deploy/gateway-proxy",
        "--timeout=2s",
    ]);
    assert!(
        !status.status.success(),
        "a crash-looping deployment is not rolled out"
    );

    let out = kubectl.ok(&[
        "-n",
        "gateway",
        "set",
        "resources",
        "deploy/gateway-proxy",
        "-c",
        "proxy",
        "--requests=memory=756Mi",
        "--limits=memory=1012Mi",
    ]);
    assert_eq!(
        out.trim(),
        "deployment.apps/gateway-proxy resource requirements updated"
    );
    let out = kubectl.ok(&[
        "-n",
        "gateway",
        "rollout",
        "status",
        "deploy/gateway-proxy",
        "--timeout=60s",
    ]);
    assert!(
        out.trim_end()
            .ends_with("deployment \"gateway-proxy\" successfully rolled out"),
        "{out}"
    );
    let deployment = kubectl.json(&["-n", "gateway", "get", "deploy", "gateway-proxy"]);
    assert_eq!(revision(&deployment), "2");
    assert_eq!(deployment["status"]["availableReplicas"], 3);
    let pods = kubectl.json(&["-n", "gateway", "get", "pods", "-l", "app=gateway-proxy"]);
    let limits: Vec<&Value> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"].get("deletionTimestamp").is_none())
        .map(|p| &p["spec"]["containers"][0]["resources"]["limits"]["memory"])
        .collect();
    assert!(limits.iter().all(|l| *l == "1012Mi"), "{limits:?}");

    let out = kubectl.ok(&["-n", "gateway", "rollout", "undo", "deploy/gateway-proxy"]);
    assert_eq!(out.trim(), "deployment.apps/gateway-proxy rolled back");
    let stuck = kubectl.run(&[
        "-n",
        "gateway",
        "rollout",
        "status",
        "deploy/gateway-proxy",
        "--timeout=3s",
    ]);
    assert!(!stuck.status.success());
    assert!(
        String::from_utf8_lossy(&stuck.stdout)
            .contains("1 out of 3 new replicas have been updated")
    );
    let deployment = kubectl.json(&["-n", "gateway", "get", "deploy", "gateway-proxy"]);
    assert_eq!(
        revision(&deployment),
        "3",
        "the first ReplicaSet comes back as revision 3"
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "512Mi"
    );
    let history = kubectl.ok(&[
        "-n",
        "gateway",
        "rollout",
        "history",
        "deploy/gateway-proxy",
    ]);
    assert!(
        history.contains("\n2 ") && history.contains("\n3 "),
        "{history}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn rollout_restart_replaces_every_pod() {
    let (cluster, kubectl) = running("healthy").await;
    let before: Vec<String> = pod_names(&kubectl, "gateway", "app=gateway-proxy");
    let out = kubectl.ok(&[
        "-n",
        "gateway",
        "rollout",
        "restart",
        "deploy/gateway-proxy",
    ]);
    assert_eq!(out.trim(), "deployment.apps/gateway-proxy restarted");
    let out = kubectl.ok(&[
        "-n",
        "gateway",
        "rollout",
        "status",
        "deploy/gateway-proxy",
        "--timeout=60s",
    ]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let deployment = kubectl.json(&["-n", "gateway", "get", "deploy", "gateway-proxy"]);
    assert!(deployment["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string());
    assert_eq!(revision(&deployment), "2");
    wait_until(|| {
        let after = pod_names(&kubectl, "gateway", "app=gateway-proxy");
        after.len() == 3 && after.iter().all(|p| !before.contains(p))
    });
    let events = kubectl.ok(&[
        "-n",
        "gateway",
        "get",
        "events",
        "--field-selector",
        "reason=ScalingReplicaSet",
    ]);
    assert!(
        events.contains("Scaled down replica set gateway-proxy-"),
        "{events}"
    );
    cluster.shutdown().await;
}

fn pod_names(kubectl: &Kubectl, namespace: &str, selector: &str) -> Vec<String> {
    let pods = kubectl.json(&["-n", namespace, "get", "pods", "-l", selector]);
    pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"].get("deletionTimestamp").is_none())
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn wait_until(mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn drain_retries_while_a_budget_blocks_then_completes_and_uncordon_restores() {
    let (cluster, kubectl) = running("healthy").await;
    let web = kubectl.json(&["-n", "shop", "get", "pods", "-l", "app=web"]);
    let node = web["items"][0]["spec"]["nodeName"]
        .as_str()
        .unwrap()
        .to_string();
    kubectl.ok(&[
        "-n",
        "shop",
        "patch",
        "pdb",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"minAvailable":2}}"#,
    ]);
    wait_until(|| {
        kubectl.json(&["-n", "shop", "get", "pdb", "web"])["status"]["disruptionsAllowed"] == 0
    });

    let mut drain = kubectl.spawn(&[
        "drain",
        &node,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=90s",
    ]);
    let mut stderr = drain.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut buffer = [0u8; 4096];
        while let Ok(read) = stderr.read(&mut buffer) {
            if read == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buffer[..read]));
            if text.contains("will retry after 5s") {
                break;
            }
        }
        (text, stderr)
    });
    let (blocked, mut stderr) = reader.join().unwrap();
    assert!(
        blocked.contains("Cannot evict pod as it would violate the pod's disruption budget."),
        "{blocked}"
    );
    let cordoned = kubectl.json(&["get", "node", &node]);
    assert_eq!(cordoned["spec"]["unschedulable"], true);

    kubectl.ok(&[
        "-n",
        "shop",
        "patch",
        "pdb",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"minAvailable":1}}"#,
    ]);
    let status = drain.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut stdout = String::new();
    drain
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "drain failed: {rest}");
    assert!(
        stdout.contains(&format!("node/{node} cordoned")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("node/{node} drained")), "{stdout}");
    assert!(
        blocked.contains("Warning: ignoring DaemonSet-managed Pods: monitoring/node-exporter-"),
        "{blocked}"
    );

    let left = kubectl.json(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ]);
    let remaining: Vec<&str> = left["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"].get("deletionTimestamp").is_none())
        .map(|p| p["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(remaining, ["monitoring"], "only the DaemonSet pod stays");
    let taints = kubectl.json(&["get", "node", &node])["spec"]["taints"].clone();
    assert!(
        taints
            .to_string()
            .contains("node.kubernetes.io/unschedulable"),
        "{taints}"
    );
    wait_until(|| pod_names(&kubectl, "shop", "app=web").len() == 2);

    let out = kubectl.ok(&["uncordon", &node]);
    assert_eq!(out.trim(), format!("node/{node} uncordoned"));
    let node_obj = kubectl.json(&["get", "node", &node]);
    assert!(node_obj["spec"].get("unschedulable").is_none());
    wait_until(|| {
        kubectl.json(&["get", "node", &node])["spec"]
            .get("taints")
            .is_none()
    });
    cluster.shutdown().await;
}

/// Writes `manifest` into the kubectl's temporary directory; returns the path.
fn manifest_file(kubectl: &Kubectl, name: &str, manifest: &Value) -> String {
    let path = kubectl.kubeconfig.with_file_name(name);
    std::fs::write(&path, manifest.to_string()).expect("manifest");
    path.to_str().expect("utf-8 path").to_string()
}

fn bare_pod(namespace: &str, name: &str, labels: Value) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
}

#[tokio::test]
async fn a_failing_injector_refuses_kubectl_create_until_istiod_is_ready_again() {
    let (cluster, kubectl) = running("istio-outage").await;
    let pod = manifest_file(
        &kubectl,
        "pod.json",
        &bare_pod("shop", "debug", serde_json::json!({"app": "debug"})),
    );
    let out = kubectl.run(&["create", "-f", &pod]);
    assert!(!out.status.success(), "the pod must be refused");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "Error from server (InternalError): error when creating \"{pod}\": Internal error occurred: \
             failed calling webhook \"sidecar-injector.istio.io\": failed to call webhook: Post \
             \"https://istiod.istio-system.svc:443/inject?timeout=10s\": dial tcp 10.96.5.249:443: connect: connection refused"
        )
    );
    let missing = kubectl.run(&["-n", "shop", "get", "pod", "debug"]);
    assert!(!missing.status.success(), "nothing was stored");
    let dry_run = kubectl.run(&["create", "--dry-run=server", "-f", &pod]);
    assert!(
        String::from_utf8_lossy(&dry_run.stderr).contains("failed calling webhook"),
        "dry runs are admitted too"
    );

    let opted_out = manifest_file(
        &kubectl,
        "opted-out.json",
        &bare_pod(
            "shop",
            "no-sidecar",
            serde_json::json!({"sidecar.istio.io/inject": "false"}),
        ),
    );
    assert_eq!(
        kubectl.ok(&["create", "-f", &opted_out]).trim(),
        "pod/no-sidecar created",
        "the object selector leaves opted-out pods alone"
    );
    let elsewhere = manifest_file(
        &kubectl,
        "elsewhere.json",
        &bare_pod("default", "debug", serde_json::json!({"app": "debug"})),
    );
    assert_eq!(
        kubectl.ok(&["create", "-f", &elsewhere]).trim(),
        "pod/debug created",
        "namespaces without istio-injection=enabled are not intercepted"
    );
    let labeled = kubectl.ok(&[
        "-n",
        "shop",
        "label",
        "pods",
        "-l",
        "app=storefront",
        "checked=yes",
    ]);
    assert_eq!(
        labeled.lines().filter(|l| l.ends_with(" labeled")).count(),
        2,
        "the injector intercepts CREATE only: {labeled}"
    );

    kubectl.ok(&["-n", "istio-system", "rollout", "restart", "deploy/istiod"]);
    kubectl.ok(&[
        "-n",
        "istio-system",
        "rollout",
        "status",
        "deploy/istiod",
        "--timeout=60s",
    ]);
    wait_until(|| {
        kubectl.json(&["-n", "istio-system", "get", "endpoints", "istiod"])["subsets"][0]
            ["addresses"]
            .is_array()
    });
    assert_eq!(
        kubectl.ok(&["create", "-f", &pod]).trim(),
        "pod/debug created"
    );
    cluster.shutdown().await;
}
