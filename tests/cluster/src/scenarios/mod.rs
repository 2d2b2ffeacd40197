//! The runbook incidents as scenarios: objects (statuses included), controller [`Rules`],
//! container logs and metrics, embedded from `tests/cluster/scenarios/*.yaml`, plus the
//! generated `large:<nodes>:<services>:<pods>` clusters for benchmarks (see
//! [`crate::generator`]).

mod loader;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

pub use loader::{fill_uids, prepare};

use crate::controllers::{Controllers, Rules};
use crate::store::Store;
use crate::{Reconciler, TestCluster, resources};

/// The embedded scenario files, by name.
const FILES: &[(&str, &str)] = &[
    (
        "gateway-oom",
        include_str!("../../scenarios/gateway-oom.yaml"),
    ),
    (
        "gateway-pending",
        include_str!("../../scenarios/gateway-pending.yaml"),
    ),
    (
        "istio-outage",
        include_str!("../../scenarios/istio-outage.yaml"),
    ),
    (
        "nantian-gateway",
        include_str!("../../scenarios/nantian-gateway.yaml"),
    ),
    (
        "node-trouble",
        include_str!("../../scenarios/node-trouble.yaml"),
    ),
    (
        "service-faults",
        include_str!("../../scenarios/service-faults.yaml"),
    ),
    ("healthy", include_str!("../../scenarios/healthy.yaml")),
];

/// A container log to serve through pods/log.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSeed {
    /// Namespace of the pod.
    pub namespace: String,
    /// The pod's name, or a prefix (`gateway-proxy` covers `gateway-proxy-<hash>-<id>`, pods
    /// created later included).
    pub pod: String,
    /// The container.
    pub container: String,
    /// The log of the previous (crashed) instance (`kubectl logs --previous`).
    #[serde(default)]
    pub previous: bool,
    /// The log text.
    pub text: String,
}

/// A scenario: what the cluster holds and how its controllers behave.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The name (`gateway-oom`).
    pub name: String,
    /// What it rebuilds.
    pub description: String,
    /// The runbooks (file number prefixes, `000`) it comes from.
    #[serde(default)]
    pub runbooks: Vec<String>,
    /// Controller settings and container faults.
    #[serde(default)]
    pub rules: Rules,
    /// Container logs.
    #[serde(default)]
    pub logs: Vec<LogSeed>,
    /// The objects, with the placeholders described in [`prepare`].
    #[serde(default)]
    pub objects: Vec<Value>,
}

/// The scenario names [`load`] accepts (besides `large:...`).
pub fn names() -> Vec<&'static str> {
    FILES.iter().map(|(name, _)| *name).collect()
}

/// Loads a scenario by name: an embedded file, or `large:<nodes>:<services>:<pods>`.
pub fn load(name: &str) -> anyhow::Result<Scenario> {
    if let Some(sizes) = name.strip_prefix("large:") {
        return crate::generator::scenario(sizes);
    }
    let (_, text) = FILES
        .iter()
        .find(|(known, _)| *known == name)
        .with_context(|| {
            format!(
                "unknown scenario {name:?} (known: {}, large:<nodes>:<services>:<pods>)",
                names().join(", ")
            )
        })?;
    parse(text).with_context(|| format!("scenario {name}"))
}

/// Parses a scenario file.
pub fn parse(text: &str) -> anyhow::Result<Scenario> {
    let scenario: Scenario = serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(scenario)
}

impl Scenario {
    /// Creates the scenario's objects (statuses included) and seeds its logs in `store`, which
    /// may already hold the built-in namespaces.
    pub fn install(self, store: &Store) -> anyhow::Result<()> {
        let now = jiff::Timestamp::now();
        let objects = prepare(self.objects, now)?;
        let objects_for_hashes: Vec<Value> = objects
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .cloned()
            .collect();
        let mut namespaces: Vec<String> = objects
            .iter()
            .filter_map(|o| o.pointer("/metadata/namespace").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        namespaces.sort();
        namespaces.dedup();
        for namespace in namespaces {
            if store.get("namespaces", None, &namespace).is_none()
                && !objects.iter().any(|o| {
                    o["kind"] == "Namespace" && o["metadata"]["name"] == namespace.as_str()
                })
            {
                let mut obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
                if let Some(resource) = resources::by_kind("v1", "Namespace") {
                    crate::defaults::apply(resource, &mut obj);
                }
                store
                    .create("namespaces", obj)
                    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            }
        }
        for mut obj in objects {
            let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
            let kind = obj["kind"].as_str().unwrap_or("").to_string();
            let resource = resources::by_kind(&api_version, &kind)
                .with_context(|| format!("{kind} is not served"))?;
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if kind == "Namespace" && store.get("namespaces", None, &name).is_some() {
                continue;
            }
            fill_uids(&mut obj, &|api_version, kind, namespace, name| {
                uid_in(store, api_version, kind, namespace, name)
            })?;
            store
                .create(&resource.store_key(), obj)
                .map_err(|e| anyhow::anyhow!("creating {kind} {name}: {}", e.message))?;
        }
        let hashes: Vec<(String, String)> = prepared_hashes(&objects_for_hashes);
        for log in self.logs {
            let pod = hashes.iter().fold(log.pod, |pod, (placeholder, hash)| {
                pod.replace(placeholder, hash)
            });
            let text = loader::replace_times(Value::String(log.text), now)?;
            let text = text.as_str().unwrap_or_default();
            store
                .logs()
                .set(&log.namespace, &pod, &log.container, log.previous, text);
        }
        Ok(())
    }
}

/// The uid of an existing object.
fn uid_in(
    store: &Store,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<String> {
    let resource = resources::by_kind(api_version, kind)
        .or_else(|| resources::RESOURCES.iter().find(|r| r.kind == kind))?;
    let scope = resource.namespaced.then_some(namespace);
    let found = store.get_shared(&resource.store_key(), scope, name)?;
    Some(crate::store::str_at(&found, "uid").to_string())
}

/// (`{hash:<deployment>}`, hash) of prepared Deployments, for the log seeds.
fn prepared_hashes(deployments: &[Value]) -> Vec<(String, String)> {
    deployments
        .iter()
        .map(|d| {
            let name = d
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            (
                format!("{{hash:{name}}}"),
                crate::controllers::pod_template_hash(&d["spec"]["template"], 0),
            )
        })
        .collect()
}

/// Controllers that do nothing until the scenario is installed, so that a free-running
/// cluster never acts on half-loaded objects.
struct Gated {
    controllers: Controllers,
    open: AtomicBool,
}

impl Reconciler for Gated {
    fn step(&self, store: &Store) -> bool {
        self.open.load(Ordering::Acquire) && self.controllers.step(store)
    }
}

/// Starts a test cluster holding the named scenario, with its controllers (none for the large
/// generated clusters, which are for reading), settled once.
pub async fn start(name: &str, free_running: bool) -> anyhow::Result<TestCluster> {
    start_on(0, name, free_running).await
}

/// [`start`] on a given port (0 picks a free one).
pub async fn start_on(port: u16, name: &str, free_running: bool) -> anyhow::Result<TestCluster> {
    let scenario = load(name)?;
    let with_controllers = !name.starts_with("large:");
    let gated = Arc::new(Gated {
        controllers: Controllers::new(scenario.rules.clone()),
        open: AtomicBool::new(false),
    });
    let reconciler: Option<Arc<dyn Reconciler>> =
        with_controllers.then(|| Arc::clone(&gated) as Arc<dyn Reconciler>);
    let cluster = TestCluster::start_on(port, Vec::new(), reconciler, free_running).await?;
    scenario.install(cluster.store())?;
    gated.open.store(true, Ordering::Release);
    cluster.settle();
    Ok(cluster)
}

#[cfg(test)]
mod tests;
