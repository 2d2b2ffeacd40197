//! `test-cluster apply`: writes a scenario's objects, statuses included, into any cluster a
//! kubeconfig names (a kwok or envtest-style API server without real kubelets is the intended
//! target: real controllers would overwrite the statuses). Each object is server-side applied
//! (field manager `test-cluster`), then its status through the status subresource; owner
//! references get the uids the cluster assigned. PodMetrics, NodeMetrics and container logs
//! cannot be written to a real cluster and are reported as skipped.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

use crate::resources::{self, METRICS_GROUP, ResourceType};
use crate::scenarios::{self, Scenario, fill_uids, prepare};

/// The field manager of every write.
const FIELD_MANAGER: &str = "test-cluster";

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// Objects created.
    pub created: usize,
    /// Objects that existed and were updated.
    pub configured: usize,
    /// Objects (and log seeds) that cannot be written to a real cluster.
    pub skipped: usize,
}

/// A client for the kubeconfig at `path`, or the usual inference (`KUBECONFIG`, in-cluster).
pub async fn client(path: Option<&Path>) -> anyhow::Result<Client> {
    let config = match path {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?
        }
        None => Config::infer().await.context("finding a kubeconfig")?,
    };
    Ok(Client::try_from(config)?)
}

/// Applies the named scenario through `client`, reporting one line per object to `out` in
/// kubectl's style (`deployment.apps/gateway-proxy created`).
pub async fn apply(
    name: &str,
    client: Client,
    out: &mut impl Write,
) -> anyhow::Result<ApplySummary> {
    let scenario = scenarios::load(name)?;
    apply_scenario(&scenario, client, out).await
}

/// Applies a loaded scenario.
pub async fn apply_scenario(
    scenario: &Scenario,
    client: Client,
    out: &mut impl Write,
) -> anyhow::Result<ApplySummary> {
    let objects = prepare(scenario.objects.clone(), jiff::Timestamp::now())?;
    let mut uids: HashMap<(String, String, String), String> = HashMap::new();
    let mut summary = ApplySummary::default();
    for mut obj in objects {
        let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
        let kind = obj["kind"].as_str().unwrap_or("").to_string();
        let resource = resources::by_kind(&api_version, &kind)
            .with_context(|| format!("{kind} in {api_version} is not known"))?;
        if resource.group == METRICS_GROUP {
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let display = display_name(resource, name);
            writeln!(
                out,
                "{display} skipped (metrics.k8s.io is served by metrics-server, not written)"
            )?;
            summary.skipped += 1;
            continue;
        }
        fill_uids(&mut obj, &|_, kind, namespace, name| {
            uids.get(&(kind.to_string(), namespace.to_string(), name.to_string()))
                .cloned()
        })?;
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let display = display_name(resource, &name);
        let namespace = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let api = api_for(&client, resource, &namespace);
        let existed = api
            .get_opt(&name)
            .await
            .with_context(|| format!("reading {display}"))?
            .is_some();
        let status = if resource.has_status() {
            obj.as_object_mut().and_then(|o| o.remove("status"))
        } else {
            None
        };
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let applied = api
            .patch(&name, &params, &Patch::Apply(&obj))
            .await
            .with_context(|| format!("applying {display}"))?;
        if let Some(status) = status {
            let body = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "status": status});
            api.patch_status(&name, &params, &Patch::Apply(&body))
                .await
                .with_context(|| format!("writing the status of {display}"))?;
        }
        if let Some(uid) = applied.metadata.uid {
            uids.insert((kind.clone(), namespace.clone(), name.clone()), uid);
        }
        if existed {
            summary.configured += 1;
            writeln!(out, "{display} configured")?;
        } else {
            summary.created += 1;
            writeln!(out, "{display} created")?;
        }
    }
    if !scenario.logs.is_empty() {
        writeln!(
            out,
            "{} container log seed(s) skipped (logs come from the containers of a real cluster)",
            scenario.logs.len()
        )?;
        summary.skipped += scenario.logs.len();
    }
    Ok(summary)
}

/// `deployment.apps/name`, `service/name`: how kubectl names what it applied.
fn display_name(resource: &ResourceType, name: &str) -> String {
    let kind = resource.kind.to_lowercase();
    if resource.group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{}/{name}", resource.group)
    }
}

fn api_for(client: &Client, resource: &ResourceType, namespace: &str) -> Api<DynamicObject> {
    let api_resource = ApiResource {
        group: resource.group.to_string(),
        version: resource.version.to_string(),
        api_version: resource.api_version(),
        kind: resource.kind.to_string(),
        plural: resource.plural.to_string(),
    };
    if resource.namespaced {
        Api::namespaced_with(client.clone(), namespace, &api_resource)
    } else {
        Api::all_with(client.clone(), &api_resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestCluster;

    #[test]
    fn names_read_like_kubectl() {
        let deployments = resources::by_kind("apps/v1", "Deployment").unwrap();
        assert_eq!(
            display_name(deployments, "gateway-proxy"),
            "deployment.apps/gateway-proxy"
        );
        let services = resources::by_kind("v1", "Service").unwrap();
        assert_eq!(display_name(services, "web"), "service/web");
    }

    #[tokio::test]
    async fn a_scenario_applies_to_an_empty_cluster_with_statuses_and_owners() {
        let cluster = TestCluster::start(Vec::new(), None, false).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).unwrap();
        let client = client(Some(&kubeconfig)).await.unwrap();
        let mut out = Vec::new();
        let summary = apply("gateway-oom", client.clone(), &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("deployment.apps/gateway-proxy created"),
            "{text}"
        );
        assert!(text.contains("skipped"), "{text}");
        assert!(summary.created > 10);
        let store = cluster.store();
        let pods = store.list("pods", Some("gateway"));
        assert_eq!(pods.len(), 3);
        assert_eq!(
            pods[0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
        let rs = store.list("replicasets", Some("gateway"));
        assert_eq!(
            pods[0]["metadata"]["ownerReferences"][0]["uid"],
            rs[0]["metadata"]["uid"]
        );
        let again = apply("gateway-oom", client, &mut Vec::new()).await.unwrap();
        assert_eq!(again.created, 0);
        assert_eq!(again.configured, summary.created);
        cluster.shutdown().await;
    }
}
