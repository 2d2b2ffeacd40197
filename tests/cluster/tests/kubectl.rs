//! The installed `kubectl` against the test API server: every command must behave as on a
//! real cluster, with nothing on stderr for commands that succeed.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use testcluster::TestCluster;
use testcluster::rbac::ForbidRule;

/// The kubectl to run: `$KUBECTL` if set (e.g. a specific version), else the installed one.
fn kubectl_binary() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".to_string())
}

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
        let mut command = Command::new(kubectl_binary());
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

    /// Runs a command that must succeed silently on stderr; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "kubectl {args:?} failed: {stderr}");
        assert!(
            stderr.trim().is_empty(),
            "kubectl {args:?} wrote to stderr: {stderr}"
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn apply(&self, manifest: &Value) -> String {
        let path = self.kubeconfig.with_file_name("manifest.json");
        std::fs::write(&path, manifest.to_string()).expect("manifest");
        self.ok(&["apply", "-f", path.to_str().expect("utf-8 path")])
    }
}

fn ready_pod(name: &str, node: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"nodeName": node, "containers": [{"name": "nginx", "image": "nginx:1.25"}]},
        "status": {"phase": "Running", "podIP": "10.244.0.5", "hostIP": "192.168.0.10",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "nginx", "ready": true, "restartCount": 0, "image": "nginx:1.25",
                "imageID": "", "started": true, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}})
}

fn fixture() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "labels": {"node-role.kubernetes.io/worker": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.33.1"}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.25", "resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}},
                    {"name": "sidecar", "image": "busybox"}]}}},
            "status": {"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}}),
        ready_pod("web-a", "node-1"),
        ready_pod("web-b", "node-1"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "default"},
            "spec": {"gatewayClassName": "nantian-gw", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}),
    ]
}

async fn cluster() -> (TestCluster, Kubectl) {
    let cluster = TestCluster::start(fixture(), None, false)
        .await
        .expect("cluster starts");
    let kubectl = Kubectl::new(&cluster);
    (cluster, kubectl)
}

fn stored(cluster: &TestCluster, plural: &str, name: &str) -> Value {
    cluster
        .store()
        .get(plural, Some("default"), name)
        .unwrap_or_else(|| panic!("{plural}/{name} is stored"))
}

#[tokio::test]
async fn get_prints_server_side_tables() {
    let (cluster, kubectl) = cluster().await;
    let pods = kubectl.ok(&["get", "pods"]);
    let header: Vec<&str> = pods
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(pods.contains("web-a   1/1     Running   0"), "{pods}");
    let wide = kubectl.ok(&["get", "po", "-o", "wide"]);
    assert!(
        wide.contains("10.244.0.5") && wide.contains("node-1"),
        "{wide}"
    );
    let deployments = kubectl.ok(&["get", "deploy"]);
    assert!(
        deployments.contains("web    2/2     2            2"),
        "{deployments}"
    );
    let nodes = kubectl.ok(&["get", "nodes"]);
    assert!(nodes.contains("node-1   Ready    worker"), "{nodes}");
    let all = kubectl.ok(&["get", "all"]);
    assert!(
        all.contains("pod/web-a")
            && all.contains("service/web")
            && all.contains("deployment.apps/web"),
        "{all}"
    );
    let gateways = kubectl.ok(&["get", "gateways"]);
    assert!(gateways.contains("nantian-gw"), "{gateways}");
    let missing = kubectl.fails(&["get", "pod", "nope"]);
    assert_eq!(
        missing.trim(),
        "Error from server (NotFound): pods \"nope\" not found"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn get_json_describe_and_selectors() {
    let (cluster, kubectl) = cluster().await;
    let deployment: Value =
        serde_json::from_str(&kubectl.ok(&["get", "deploy", "web", "-o", "json"])).expect("json");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["strategy"]["type"], "RollingUpdate",
        "defaults are filled in"
    );
    let list: Value =
        serde_json::from_str(&kubectl.ok(&["get", "pods", "-o", "json"])).expect("json");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    let described = kubectl.ok(&["describe", "pod", "web-a"]);
    for expected in [
        "Name:",
        "web-a",
        "Node:",
        "node-1/192.168.0.10",
        "Status:",
        "Running",
        "QoS Class:",
    ] {
        assert!(
            described.contains(expected),
            "{expected} missing in {described}"
        );
    }
    let described = kubectl.ok(&["describe", "deploy", "web"]);
    assert!(
        described.contains("Replicas:") && described.contains("2 desired"),
        "{described}"
    );
    kubectl.ok(&["label", "pod", "web-a", "tier=front"]);
    assert_eq!(
        stored(&cluster, "pods", "web-a")["metadata"]["labels"]["tier"],
        "front"
    );
    let selected = kubectl.ok(&["get", "pods", "-l", "tier in (front),app", "-o", "name"]);
    assert_eq!(selected.trim(), "pod/web-a");
    let by_field = kubectl.ok(&[
        "get",
        "pods",
        "--field-selector",
        "metadata.name!=web-a",
        "-o",
        "name",
    ]);
    assert_eq!(by_field.trim(), "pod/web-b");
    let bad = kubectl.fails(&["get", "pods", "-l", "tier in (front"]);
    assert!(
        bad.contains("unable to parse requirement: found '', expected: ',' or ')'"),
        "{bad}"
    );
    let unsupported = kubectl.fails(&["get", "svc", "--field-selector", "spec.type=ClusterIP"]);
    assert!(
        unsupported.contains("field label not supported: spec.type"),
        "{unsupported}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn patch_in_every_format() {
    let (cluster, kubectl) = cluster().await;
    kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]);
    assert_eq!(
        stored(&cluster, "deployments", "web")["spec"]["replicas"],
        3
    );
    kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
    ]);
    assert_eq!(
        stored(&cluster, "deployments", "web")["spec"]["replicas"],
        4
    );
    let strategic = r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","resources":{"limits":{"memory":"1024Mi"}}}]}}}}"#;
    kubectl.ok(&["patch", "deploy", "web", "-p", strategic]);
    let deployment = stored(&cluster, "deployments", "web");
    let containers = &deployment["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers.as_array().map(Vec::len),
        Some(2),
        "strategic merge keeps the other container"
    );
    assert_eq!(
        containers[0]["resources"]["limits"]["memory"], "1Gi",
        "quantities are canonical"
    );
    assert_eq!(
        deployment["metadata"]["generation"], 4,
        "three spec changes"
    );
    let invalid = kubectl.fails(&["patch", "deploy", "web", "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","resources":{"requests":{"memory":"2Gi"}}}]}}}}"#]);
    assert_eq!(
        invalid.trim(),
        "The Deployment \"web\" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi"
    );
    let failed_test = kubectl.fails(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
    ]);
    assert!(
        failed_test.contains("the server rejected our request due to an error in our request"),
        "{failed_test}"
    );
    let crd = kubectl.fails(&[
        "patch",
        "gateway",
        "gw",
        "-p",
        r#"{"spec":{"gatewayClassName":"x"}}"#,
    ]);
    assert!(
        crd.contains("the body of the request was in an unknown format"),
        "{crd}"
    );
    kubectl.ok(&[
        "patch",
        "gateway",
        "gw",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"gatewayClassName":"x"}}"#,
    ]);
    assert_eq!(
        stored(&cluster, "gateways", "gw")["spec"]["gatewayClassName"],
        "x"
    );
    let status_ignored = kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"replicas":9}}"#,
    ]);
    assert!(status_ignored.contains("no change"), "{status_ignored}");
    kubectl.ok(&[
        "patch",
        "deploy",
        "web",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"replicas":9}}"#,
    ]);
    assert_eq!(
        stored(&cluster, "deployments", "web")["status"]["replicas"],
        9
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn scale_cordon_rollout_restart_and_apply() {
    let (cluster, kubectl) = cluster().await;
    assert_eq!(
        kubectl
            .ok(&["scale", "deploy", "web", "--replicas=5"])
            .trim(),
        "deployment.apps/web scaled"
    );
    assert_eq!(
        stored(&cluster, "deployments", "web")["spec"]["replicas"],
        5
    );
    let precondition = kubectl.fails(&[
        "scale",
        "deploy",
        "web",
        "--replicas=1",
        "--current-replicas=2",
    ]);
    assert!(
        precondition.contains("Expected replicas to be 2, was 5"),
        "{precondition}"
    );
    kubectl.ok(&["cordon", "node-1"]);
    let nodes = kubectl.ok(&["get", "nodes"]);
    assert!(nodes.contains("Ready,SchedulingDisabled"), "{nodes}");
    kubectl.ok(&["uncordon", "node-1"]);
    assert_ne!(
        cluster.store().get("nodes", None, "node-1").expect("node")["spec"]["unschedulable"],
        true
    );
    kubectl.ok(&["rollout", "restart", "deploy", "web"]);
    let annotations =
        &stored(&cluster, "deployments", "web")["spec"]["template"]["metadata"]["annotations"];
    assert!(
        annotations["kubectl.kubernetes.io/restartedAt"].is_string(),
        "{annotations}"
    );
    let out = kubectl.apply(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}));
    assert_eq!(out.trim(), "configmap/cfg created");
    let out = kubectl.apply(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "2"}}));
    assert_eq!(out.trim(), "configmap/cfg configured");
    assert_eq!(stored(&cluster, "configmaps", "cfg")["data"]["a"], "2");
    let dry = kubectl.ok(&["scale", "deploy", "web", "--replicas=7", "--dry-run=server"]);
    assert!(dry.contains("scaled (server dry run)"), "{dry}");
    assert_eq!(
        stored(&cluster, "deployments", "web")["spec"]["replicas"],
        5
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn delete_logs_and_forbidden() {
    let (cluster, kubectl) = cluster().await;
    kubectl.ok(&["delete", "pod", "web-a", "--wait=false"]);
    let terminating = stored(&cluster, "pods", "web-a");
    assert!(
        terminating["metadata"]["deletionTimestamp"].is_string(),
        "graceful deletion keeps the pod"
    );
    assert_eq!(terminating["metadata"]["deletionGracePeriodSeconds"], 30);
    let pods = kubectl.ok(&["get", "pods"]);
    assert!(pods.contains("Terminating"), "{pods}");
    kubectl.run(&["delete", "pod", "web-a", "--grace-period=0", "--force"]);
    assert!(
        cluster
            .store()
            .get("pods", Some("default"), "web-a")
            .is_none()
    );
    assert_eq!(
        kubectl.ok(&["delete", "deploy", "web"]).trim(),
        "deployment.apps \"web\" deleted"
    );
    assert!(
        cluster
            .store()
            .get("deployments", Some("default"), "web")
            .is_none()
    );

    cluster
        .store()
        .logs()
        .set("default", "web-b", "nginx", false, "one\ntwo\nthree\n");
    assert_eq!(kubectl.ok(&["logs", "web-b", "--tail=2"]), "two\nthree\n");
    let previous = kubectl.fails(&["logs", "web-b", "--previous"]);
    assert!(
        previous.contains("previous terminated container \"nginx\" in pod \"web-b\" not found"),
        "{previous}"
    );

    cluster
        .rbac()
        .forbid(ForbidRule::new("get", "pods").in_namespace("default"));
    let forbidden = kubectl.fails(&["get", "pod", "web-b"]);
    assert_eq!(
        forbidden.trim(),
        "Error from server (Forbidden): pods \"web-b\" is forbidden: User \"test-user\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    let can_i = kubectl.run(&["auth", "can-i", "get", "pods"]);
    assert_eq!(String::from_utf8_lossy(&can_i.stdout).trim(), "no");
    let can_i = kubectl.run(&["auth", "can-i", "list", "pods"]);
    assert_eq!(String::from_utf8_lossy(&can_i.stdout).trim(), "yes");
    cluster.shutdown().await;
}

#[tokio::test]
async fn get_watch_streams_changes_until_the_timeout() {
    let (cluster, kubectl) = cluster().await;
    let watcher = kubectl
        .command(&["get", "pods", "-w", "--request-timeout=3s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl get -w");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    cluster
        .store()
        .create("pods", ready_pod("web-c", "node-1"))
        .expect("create");
    let out = tokio::task::spawn_blocking(move || watcher.wait_with_output())
        .await
        .expect("join")
        .expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("web-a") && stdout.contains("web-c"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("NAME").count(), 1, "one header: {stdout}");
    cluster.shutdown().await;
}

#[tokio::test]
async fn pod_specs_are_immutable_except_images() {
    let (cluster, kubectl) = cluster().await;
    let resize =
        r#"{"spec":{"containers":[{"name":"nginx","resources":{"limits":{"memory":"1Gi"}}}]}}"#;
    let refused = kubectl.fails(&["patch", "pod", "web-a", "-p", resize]);
    assert!(
        refused.contains("The Pod \"web-a\" is invalid: spec: Forbidden: pod updates may not change fields other than"),
        "{refused}"
    );
    kubectl.ok(&["set", "image", "pod/web-a", "nginx=nginx:1.27"]);
    assert_eq!(
        stored(&cluster, "pods", "web-a")["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let bare = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    cluster
        .store()
        .create("pods", bare)
        .expect("a pod stored without defaults, as controllers do");
    kubectl.ok(&["label", "pod", "bare", "x=y"]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn conflicts_and_validation_errors_read_like_the_real_server() {
    let (cluster, kubectl) = cluster().await;
    let mut stale = stored(&cluster, "deployments", "web");
    kubectl.ok(&["scale", "deploy", "web", "--replicas=3"]);
    stale["spec"]["replicas"] = json!(1);
    let path = kubectl.kubeconfig.with_file_name("stale.json");
    std::fs::write(&path, stale.to_string()).expect("write");
    let conflict = kubectl.fails(&["replace", "-f", path.to_str().expect("utf-8")]);
    assert_eq!(
        conflict.trim(),
        "Error from server (Conflict): error when replacing \"".to_string()
            + path.to_str().expect("utf-8")
            + "\": Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let bad_name = kubectl.fails(&["create", "configmap", "Bad_Name"]);
    assert!(
        bad_name
            .contains("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"),
        "{bad_name}"
    );
    let exists = kubectl.fails(&[
        "create",
        "configmap",
        "kube-root",
        "--from-literal=a=b",
        "-n",
        "nowhere",
    ]);
    assert!(
        exists.contains("namespaces \"nowhere\" not found"),
        "{exists}"
    );
    cluster.shutdown().await;
}
