//! End-to-end tests of `kubectl gw-resize`: the real binary (and the installed kubectl)
//! against the test cluster holding runbook 000's incidents (gateway-proxy OOM-killed at its
//! 512Mi limit; gateway-proxy Pending on untolerated node taints).

use std::time::Duration;

use e2e::{Env, finding_ids, json, run, stderr, stdout};
use serde_json::{Value, json};

const BIN: &str = "kubectl-gw_resize";
const NS: &str = "gateway";

/// Runs gw-resize with `args`; returns the output.
async fn resize(env: &Env, args: &[&str]) -> std::process::Output {
    run(env.plugin(BIN).args(args)).await
}

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn explain(out: &std::process::Output) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", stdout(out), stderr(out))
}

fn deployment(env: &Env) -> Value {
    env.cluster
        .store()
        .get("deployments", Some(NS), "gateway-proxy")
        .expect("gateway-proxy exists")
}

fn template(env: &Env) -> Value {
    deployment(env)["spec"]["template"].clone()
}

fn proxy(template: &Value) -> Value {
    template["spec"]["containers"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "proxy"))
        .cloned()
        .expect("container proxy")
}

/// The gateway-proxy pods that are not being deleted.
fn live_pods(env: &Env) -> Vec<Value> {
    env.cluster
        .store()
        .list("pods", Some(NS))
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "gateway-proxy")
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn pod_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn create(env: &Env, plural: &str, obj: Value) {
    env.cluster
        .store()
        .create(plural, obj)
        .unwrap_or_else(|e| panic!("create {plural}: {}", e.message));
}

#[tokio::test]
async fn raising_memory_by_500mi_rolls_out_and_the_new_pods_run() {
    let env = Env::start("gateway-oom").await;
    let before = template(&env);
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--yes",
            "--timeout",
            "2m",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["outcome"], "completed", "{report:#}");
    assert_eq!(report["rollout"]["outcome"], "complete");

    let after = template(&env);
    let (old, new) = (proxy(&before), proxy(&after));
    assert_eq!(
        new["resources"]["requests"],
        json!({"cpu": "250m", "memory": "756Mi"})
    );
    assert_eq!(
        new["resources"]["limits"],
        json!({"cpu": "1", "memory": "1012Mi"})
    );
    // Nothing lost: every other field of the container and of the template is as before.
    for field in [
        "args",
        "image",
        "ports",
        "livenessProbe",
        "readinessProbe",
        "volumeMounts",
    ] {
        assert_eq!(old[field], new[field], "{field} changed");
    }
    assert_eq!(before["spec"]["volumes"], after["spec"]["volumes"]);
    assert_eq!(before["metadata"], after["metadata"]);

    let pods = live_pods(&env);
    assert_eq!(pods.len(), 3, "{pods:#?}");
    for p in &pods {
        assert!(pod_ready(p), "pod not ready: {p:#}");
        assert_eq!(
            proxy(&json!({"spec": p["spec"]}))["resources"]["limits"]["memory"],
            "1012Mi"
        );
    }
}

#[tokio::test]
async fn a_change_that_still_ooms_fails_and_rollback_restores_the_old_template() {
    let env = Env::start("gateway-oom").await;
    let before = template(&env);
    let out = resize(
        &env,
        &[
            "deploy/gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+100Mi",
            "--rollback",
            "--yes",
            "--timeout",
            "40s",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["outcome"], "rolled-back", "{report:#}");
    assert_eq!(report["rollout"]["outcome"], "failed", "{report:#}");
    assert_eq!(
        report["rollout"]["cause"]["reason"], "OOMKilled",
        "{report:#}"
    );
    // The old template was crash-looping too: its rollout is followed, whatever its end.
    assert!(
        report["rollback"]["rollout"]["outcome"].is_string(),
        "{report:#}"
    );
    assert_eq!(
        template(&env),
        before,
        "the template is back exactly as it was"
    );
}

#[tokio::test]
async fn a_failed_rollout_without_rollback_says_why_in_the_table() {
    let env = Env::start("gateway-oom").await;
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+100Mi",
            "--yes",
            "--timeout",
            "2m",
        ],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("OOMKilled"), "{text}");
    assert!(
        text.contains("kubectl rollout undo deploy/gateway-proxy -n gateway"),
        "{text}"
    );
    assert_eq!(
        proxy(&template(&env))["resources"]["limits"]["memory"],
        "612Mi"
    );
}

#[tokio::test]
async fn replicas_are_refused_while_an_hpa_owns_them() {
    let env = Env::start("gateway-oom").await;
    create(
        &env,
        "horizontalpodautoscalers",
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "gateway-proxy", "namespace": NS},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway-proxy"},
                     "minReplicas": 3, "maxReplicas": 6}
        }),
    );
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--replicas",
            "+2",
            "--yes",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["outcome"], "refused");
    assert!(finding_ids(&report).contains(&"resize.hpa-owns-replicas".to_string()));
    assert_eq!(deployment(&env)["spec"]["replicas"], 3);

    let forced = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--replicas",
            "+2",
            "--force",
            "--yes",
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(code(&forced), 0, "{}", explain(&forced));
    assert_eq!(deployment(&env)["spec"]["replicas"], 5);
}

#[tokio::test]
async fn quota_and_request_above_limit_are_refused_before_anything_is_sent() {
    let env = Env::start("gateway-oom").await;
    let before = template(&env);
    create(
        &env,
        "resourcequotas",
        json!({
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "compute", "namespace": NS},
            "spec": {"hard": {"requests.memory": "1Gi"}}
        }),
    );
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--yes",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(finding_ids(&json(&out)).contains(&"resize.quota-exceeded".to_string()));

    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory-request",
            "600Mi",
            "--yes",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(finding_ids(&json(&out)).contains(&"resize.request-above-limit".to_string()));
    assert_eq!(template(&env), before);
}

#[tokio::test]
async fn dry_run_server_shows_the_stored_values_and_changes_nothing() {
    let env = Env::start("gateway-oom").await;
    let before = deployment(&env);
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--dry-run=server",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let report = json(&out);
    assert_eq!(report["outcome"], "dry-run-server");
    let stored = &report["serverAnswer"]["containers"][0]["resources"];
    assert_eq!(stored["limits"]["memory"], "1012Mi", "{report:#}");
    let after = deployment(&env);
    assert_eq!(after["spec"], before["spec"]);
    assert_eq!(
        after["metadata"]["generation"],
        before["metadata"]["generation"]
    );
}

#[tokio::test]
async fn dry_run_client_prints_only_the_changed_fields() {
    let env = Env::start("gateway-oom").await;
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--cpu-limit",
            "2",
            "--dry-run=client",
            "-o",
            "json",
        ],
    )
    .await;
    let report = json(&out);
    assert_eq!(report["outcome"], "dry-run-client");
    let body = &report["patches"][0]["body"];
    assert_eq!(
        body["spec"],
        json!({"template": {"spec": {"containers": [{"name": "proxy", "resources": {"limits": {"cpu": "2"}}}]}}})
    );
    assert!(body["metadata"]["resourceVersion"].is_string());
    assert!(
        finding_ids(&report).contains(&"resize.oom-not-raised".to_string()),
        "{report:#}"
    );
}

#[tokio::test]
async fn a_concurrent_edit_between_plan_and_patch_is_replanned_not_overwritten() {
    let env = Env::start("gateway-oom").await;
    // Every request waits 1s: the plugin reads at ~1s, lists at ~2s and patches at ~3s.
    env.cluster.faults().set_latency(Duration::from_secs(1));
    let child = env
        .plugin(BIN)
        .args([
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--yes",
            "--no-wait",
            "-o",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn gw-resize");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    env.cluster
        .store()
        .modify("deployments", Some(NS), "gateway-proxy", false, |current| {
            let mut next = current.clone();
            next["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] =
                json!("300Mi");
            Ok(next)
        })
        .expect("concurrent edit");
    let out = child.wait_with_output().await.expect("gw-resize output");
    env.cluster.faults().set_latency(Duration::ZERO);
    assert_eq!(code(&out), 0, "{}", explain(&out));
    assert!(
        stderr(&out).contains("changed since it was read"),
        "{}",
        explain(&out)
    );
    assert_eq!(json(&out)["attempts"], 2);
    let resources = &proxy(&template(&env))["resources"];
    assert_eq!(
        resources["requests"]["memory"], "800Mi",
        "planned anew from 300Mi, not 256Mi"
    );
    assert_eq!(resources["limits"]["memory"], "1012Mi");
}

#[tokio::test]
async fn without_a_terminal_or_yes_nothing_is_changed() {
    let env = Env::start("gateway-oom").await;
    let before = template(&env);
    let out = resize(&env, &["gateway-proxy", "-n", NS, "--memory", "+500Mi"]).await;
    assert_eq!(code(&out), 64, "{}", explain(&out));
    assert!(stderr(&out).contains("--yes"), "{}", explain(&out));
    assert_eq!(template(&env), before);
}

#[tokio::test]
async fn restart_replaces_every_pod() {
    let env = Env::start("gateway-oom").await;
    let fixed = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--yes",
            "--timeout",
            "2m",
        ],
    )
    .await;
    assert_eq!(code(&fixed), 0, "{}", explain(&fixed));
    let names = |pods: Vec<Value>| -> Vec<String> {
        pods.iter()
            .map(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let old = names(live_pods(&env));
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--restart",
            "--yes",
            "--timeout",
            "2m",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let stamp = &template(&env)["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"];
    let parsed = serde_json::from_value::<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>(
        stamp.clone(),
    );
    assert!(parsed.is_ok(), "restartedAt is not RFC 3339: {stamp}");
    let new = names(live_pods(&env));
    assert_eq!(new.len(), 3);
    assert!(
        new.iter().all(|n| !old.contains(n)),
        "old {old:?} new {new:?}"
    );
}

#[tokio::test]
async fn adding_the_toleration_lets_pending_pods_schedule() {
    let env = Env::start("gateway-pending").await;
    let dry = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--add-toleration",
            "node-role.kubernetes.io/gateway:NoSchedule",
            "--dry-run=client",
        ],
    )
    .await;
    let text = stdout(&dry);
    assert!(
        text.contains("Nodes for the new pods:"),
        "{}",
        explain(&dry)
    );
    assert!(text.contains("node-1   yes"), "{text}");
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--add-toleration",
            "node-role.kubernetes.io/gateway:NoSchedule",
            "--yes",
            "--timeout",
            "2m",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let pods = live_pods(&env);
    assert!(!pods.is_empty());
    assert!(
        pods.iter()
            .all(|p| p["spec"]["nodeName"].is_string() && pod_ready(p)),
        "{pods:#?}"
    );
}

#[tokio::test]
async fn a_pod_target_resizes_its_owner_and_says_so() {
    let env = Env::start("gateway-oom").await;
    let pod = live_pods(&env)[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let out = resize(
        &env,
        &[
            &format!("pod/{pod}"),
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--dry-run=client",
            "-o",
            "json",
        ],
    )
    .await;
    let report = json(&out);
    assert_eq!(report["plan"]["name"], "gateway-proxy");
    assert!(
        finding_ids(&report).contains(&"resize.pod-target".to_string()),
        "{report:#}"
    );
}

#[tokio::test]
async fn through_kubectl_the_same_change_as_kubectl_set_resources_gives_the_same_template() {
    let env = Env::start("gateway-oom").await;
    // A copy of the workload in another namespace, changed by kubectl set resources.
    create(
        &env,
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "copy"}}),
    );
    let original = deployment(&env);
    let copy = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "gateway-proxy", "namespace": "copy"},
        "spec": {"replicas": 0, "selector": original["spec"]["selector"], "template": original["spec"]["template"]}
    });
    create(&env, "deployments", copy);
    let ours = run(env.kubectl().args([
        "gw-resize",
        "gateway-proxy",
        "-n",
        NS,
        "--memory",
        "+500Mi",
        "--cpu-limit",
        "2",
        "--yes",
        "--no-wait",
    ]))
    .await;
    assert_eq!(code(&ours), 0, "{}", explain(&ours));
    let theirs = run(env.kubectl().args([
        "set",
        "resources",
        "deployment/gateway-proxy",
        "-n",
        "copy",
        "-c",
        "proxy",
        "--requests=memory=756Mi",
        "--limits=memory=1012Mi,cpu=2",
    ]))
    .await;
    assert_eq!(code(&theirs), 0, "{}", explain(&theirs));
    let copied = env
        .cluster
        .store()
        .get("deployments", Some("copy"), "gateway-proxy")
        .unwrap();
    assert_eq!(template(&env), copied["spec"]["template"]);
}

#[tokio::test]
async fn nothing_but_the_named_values_changes_in_a_multi_container_template() {
    let env = Env::start("gateway-oom").await;
    create(
        &env,
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multi"}}),
    );
    let container = |name: &str, memory: &str| {
        json!({
            "name": name, "image": format!("{name}:1"),
            "env": [{"name": "MODE", "value": name}],
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}],
            "resources": {"requests": {"cpu": "100m", "memory": memory}, "limits": {"memory": memory}}
        })
    };
    // Created through the API server, so that the stored template carries its defaults.
    let edge = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "edge", "namespace": "multi"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "edge"}},
                     "template": {"metadata": {"labels": {"app": "edge"}, "annotations": {"team": "gw"}},
                                  "spec": {"initContainers": [container("init-config", "64Mi"),
                                                              json!({"name": "istio-proxy", "image": "proxyv2:1", "restartPolicy": "Always"})],
                                           "containers": [container("proxy", "512Mi"), container("sidecar", "128Mi")],
                                           "volumes": [{"name": "config", "emptyDir": {}}]}}}
    });
    let file = env.dir.path().join("edge.json");
    std::fs::write(&file, edge.to_string()).expect("write edge.json");
    let created = run(env.kubectl().arg("create").arg("-f").arg(&file)).await;
    assert_eq!(code(&created), 0, "{}", explain(&created));
    let read = || {
        env.cluster
            .store()
            .get("deployments", Some("multi"), "edge")
            .unwrap()["spec"]["template"]
            .clone()
    };
    let before = read();
    let out = resize(
        &env,
        &[
            "deploy/edge",
            "-n",
            "multi",
            "--memory",
            "+500Mi",
            "--yes",
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(
        code(&out),
        64,
        "several containers need -c: {}",
        explain(&out)
    );
    assert!(
        stderr(&out).contains("proxy, sidecar; init: init-config, istio-proxy"),
        "{}",
        explain(&out)
    );
    let out = resize(
        &env,
        &[
            "deploy/edge",
            "-n",
            "multi",
            "-c",
            "sidecar",
            "--memory",
            "+500Mi",
            "--yes",
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let mut expected = before.clone();
    expected["spec"]["containers"][1]["resources"]["requests"]["memory"] = json!("628Mi");
    expected["spec"]["containers"][1]["resources"]["limits"]["memory"] = json!("628Mi");
    assert_eq!(
        read(),
        expected,
        "only the sidecar's memory request and limit changed"
    );
}

#[tokio::test]
async fn forbidden_reads_skip_their_check_and_a_forbidden_patch_is_one_line() {
    use testcluster::rbac::ForbidRule;
    let env = Env::start("gateway-oom").await;
    env.cluster.rbac().forbid(ForbidRule::new("list", "nodes"));
    let out = resize(
        &env,
        &[
            "gateway-proxy",
            "-n",
            NS,
            "--memory",
            "+500Mi",
            "--dry-run=client",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let report = json(&out);
    assert!(
        finding_ids(&report).contains(&"resize.check-skipped".to_string()),
        "{report:#}"
    );

    env.cluster
        .rbac()
        .forbid(ForbidRule::new("patch", "deployments"));
    let before = template(&env);
    let out = resize(
        &env,
        &["gateway-proxy", "-n", NS, "--memory", "+500Mi", "--yes"],
    )
    .await;
    assert_eq!(code(&out), 3, "{}", explain(&out));
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("forbidden: cannot patch deployments.apps"),
        "{err}"
    );
    assert_eq!(template(&env), before);
}
