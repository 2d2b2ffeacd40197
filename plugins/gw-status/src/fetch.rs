//! The fetch layer: every API call gw-status makes, run concurrently, one list per kind (per
//! namespace where the kind is only needed there), into a plain [`Fetched`] snapshot that the
//! checks read without a server.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::{join_all, try_join_all};
use jiff::Timestamp;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{ApiResource, DynamicObject, ListParams, LogParams};
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use runbook::{KubeResultExt, Op, Result};

use crate::objects::{
    Gateway, GatewayApiObjects, GatewayClass, HttpRoute, NodeMetrics, PodMetrics,
};

/// An optional API: served, or not (with the reason to print).
#[derive(Clone, Debug, PartialEq)]
pub enum Availability<T> {
    /// The API answered.
    Served(T),
    /// The API is not served or not readable here: `404 Not Found`, `503 Service Unavailable`,
    /// `403 Forbidden`, with the resource named.
    Unavailable(String),
}

impl<T> Availability<T> {
    /// The value when served.
    pub fn served(&self) -> Option<&T> {
        match self {
            Availability::Served(t) => Some(t),
            Availability::Unavailable(_) => None,
        }
    }
}

impl<T: Default> Default for Availability<T> {
    fn default() -> Self {
        Availability::Served(T::default())
    }
}

/// The last lines of one container's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerLog {
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// The previous (crashed) instance's log.
    pub previous: bool,
    /// The text, or why it could not be read.
    pub text: std::result::Result<String, String>,
}

/// Everything the checks look at, fetched once.
#[derive(Clone, Debug, Default)]
pub struct Fetched {
    /// When the snapshot was taken (ages and "last seen" are relative to it).
    pub now: Timestamp,
    /// Deployments of every namespace (few; lets a missing component be found elsewhere).
    pub deployments: Vec<Deployment>,
    /// ReplicaSets of the gateway namespaces.
    pub replicasets: Vec<ReplicaSet>,
    /// Pods of every namespace (the gateway's and their node neighbours').
    pub pods: Vec<Pod>,
    /// Services of every namespace (webhook and route backends live anywhere).
    pub services: Vec<Service>,
    /// EndpointSlices of every namespace.
    pub endpoint_slices: Vec<EndpointSlice>,
    /// Events of the gateway namespaces.
    pub events: Vec<Event>,
    /// PodDisruptionBudgets of the gateway namespaces.
    pub pdbs: Vec<PodDisruptionBudget>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Validating webhook configurations.
    pub validating_webhooks: Availability<Vec<ValidatingWebhookConfiguration>>,
    /// Mutating webhook configurations.
    pub mutating_webhooks: Availability<Vec<MutatingWebhookConfiguration>>,
    /// Gateway API objects (unavailable when the CRDs are not installed).
    pub gateway_api: Availability<GatewayApiObjects>,
    /// Pod usage from metrics.k8s.io (every namespace).
    pub pod_metrics: Availability<Vec<PodMetrics>>,
    /// Node usage from metrics.k8s.io.
    pub node_metrics: Availability<Vec<NodeMetrics>>,
    /// Container logs (only with `--logs`).
    pub logs: Vec<ContainerLog>,
    /// How far back the logs were read.
    pub logs_since: Duration,
    /// Admin endpoint answers (only with `--probe`).
    pub probes: Vec<ProbeAnswer>,
}

/// Lists Deployments of every namespace: the first call, which decides where each profile's
/// components live.
pub async fn list_deployments(client: &Client) -> Result<Vec<Deployment>> {
    list_everywhere(client, "deployments.apps").await
}

/// Fetches the snapshot for gateways living in `namespaces`, every list at once.
/// `deployments` comes from [`list_deployments`].
pub async fn fetch(
    client: &Client,
    namespaces: &BTreeSet<String>,
    deployments: Vec<Deployment>,
) -> Result<Fetched> {
    let (
        (replicasets, events, pdbs, pods, services, endpoint_slices, nodes),
        (validating_webhooks, mutating_webhooks, gateway_api, pod_metrics, node_metrics),
    ) = tokio::try_join!(
        async {
            tokio::try_join!(
                list_in::<ReplicaSet>(client, namespaces, "replicasets.apps"),
                list_in::<Event>(client, namespaces, "events"),
                list_in::<PodDisruptionBudget>(client, namespaces, "poddisruptionbudgets.policy"),
                list_everywhere::<Pod>(client, "pods"),
                list_everywhere::<Service>(client, "services"),
                list_everywhere::<EndpointSlice>(client, "endpointslices.discovery.k8s.io"),
                list_everywhere::<Node>(client, "nodes"),
            )
        },
        async {
            tokio::try_join!(
                optional_list::<ValidatingWebhookConfiguration>(
                    client,
                    "validatingwebhookconfigurations.admissionregistration.k8s.io"
                ),
                optional_list::<MutatingWebhookConfiguration>(
                    client,
                    "mutatingwebhookconfigurations.admissionregistration.k8s.io"
                ),
                fetch_gateway_api(client),
                fetch_pod_metrics(client),
                fetch_node_metrics(client),
            )
        },
    )?;
    Ok(Fetched {
        now: Timestamp::now(),
        deployments,
        replicasets,
        pods,
        services,
        endpoint_slices,
        events,
        pdbs,
        nodes,
        validating_webhooks,
        mutating_webhooks,
        gateway_api,
        pod_metrics,
        node_metrics,
        logs: Vec::new(),
        logs_since: Duration::ZERO,
        probes: Vec::new(),
    })
}

/// One container whose log to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container.
    pub container: String,
    /// Read the previous (crashed) instance's log, as `kubectl logs --previous`.
    pub previous: bool,
}

/// Reads the last `tail` lines written within `since` of each target, concurrently. A log
/// that cannot be read is kept with its reason (a Pending pod has none yet).
pub async fn fetch_logs(
    client: &Client,
    targets: &[LogTarget],
    since: Duration,
    tail: i64,
) -> Vec<ContainerLog> {
    let since_seconds = i64::try_from(since.as_secs().max(1)).unwrap_or(i64::MAX);
    join_all(targets.iter().map(|t| async move {
        let params = LogParams {
            container: Some(t.container.clone()),
            previous: t.previous,
            // A crashed instance stopped writing some time ago: take its last lines whenever.
            since_seconds: (!t.previous).then_some(since_seconds),
            tail_lines: Some(tail),
            ..LogParams::default()
        };
        let text = Api::<Pod>::namespaced(client.clone(), &t.namespace)
            .logs(&t.pod, &params)
            .await
            .during(Op::new("get", "pods/log").ns(&t.namespace).name(&t.pod))
            .map_err(|e| e.to_string());
        ContainerLog {
            namespace: t.namespace.clone(),
            pod: t.pod.clone(),
            container: t.container.clone(),
            previous: t.previous,
            text,
        }
    }))
    .await
}

async fn list_everywhere<K>(client: &Client, resource: &'static str) -> Result<Vec<K>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
        .during(Op::new("list", resource))
        .map(|l| l.items)
}

async fn list_in<K>(
    client: &Client,
    namespaces: &BTreeSet<String>,
    resource: &'static str,
) -> Result<Vec<K>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let lists = try_join_all(namespaces.iter().map(|ns| async move {
        Api::<K>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
            .during(Op::new("list", resource).ns(ns))
            .map(|l| l.items)
    }))
    .await?;
    Ok(lists.into_iter().flatten().collect())
}

/// Turns "not served" answers (403, 404, 503) into [`Availability::Unavailable`].
fn optional<T>(result: std::result::Result<T, kube::Error>, op: &Op) -> Result<Availability<T>> {
    match result {
        Ok(v) => Ok(Availability::Served(v)),
        Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404 | 503) => {
            let what = match status.code {
                403 => "403 Forbidden",
                404 => "404 Not Found: not served by this cluster",
                _ => "503 Service Unavailable",
            };
            Ok(Availability::Unavailable(format!(
                "{} {}: {what}",
                op.verb, op.resource
            )))
        }
        Err(e) => Err(runbook::error::from_kube(e, op)),
    }
}

async fn optional_list<K>(client: &Client, resource: &'static str) -> Result<Availability<Vec<K>>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let op = Op::new("list", resource);
    let result = Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items);
    optional(result, &op)
}

fn api_resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: format!("{group}/{version}"),
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

async fn list_dynamic<T: DeserializeOwned>(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> std::result::Result<Vec<T>, kube::Error> {
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    };
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| {
            serde_json::to_value(o)
                .ok()
                .and_then(|v| serde_json::from_value(v).ok())
        })
        .collect())
}

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
const METRICS_GROUP: &str = "metrics.k8s.io";

async fn fetch_gateway_api(client: &Client) -> Result<Availability<GatewayApiObjects>> {
    let classes = api_resource(GATEWAY_GROUP, "v1", "GatewayClass", "gatewayclasses");
    let gateways = api_resource(GATEWAY_GROUP, "v1", "Gateway", "gateways");
    let routes = api_resource(GATEWAY_GROUP, "v1", "HTTPRoute", "httproutes");
    // Each list keeps its own name, so a refusal names the resource actually refused.
    let named = |plural: &'static str| move |e: kube::Error| (e, plural);
    let result = tokio::try_join!(
        async {
            list_dynamic::<GatewayClass>(client, &classes, None)
                .await
                .map_err(named("gatewayclasses.gateway.networking.k8s.io"))
        },
        async {
            list_dynamic::<Gateway>(client, &gateways, None)
                .await
                .map_err(named("gateways.gateway.networking.k8s.io"))
        },
        async {
            list_dynamic::<HttpRoute>(client, &routes, None)
                .await
                .map_err(named("httproutes.gateway.networking.k8s.io"))
        },
    );
    match result {
        Ok((classes, gateways, routes)) => Ok(Availability::Served(GatewayApiObjects {
            classes,
            gateways,
            routes,
        })),
        Err((e, resource)) => optional(Err(e), &Op::new("list", resource)),
    }
}

/// Whether the namespace given with `-n` exists: `Some(false)` only on 404. A refused or
/// failed read is a `note:` on stderr and `None` (the lists decide then).
pub async fn namespace_exists(client: &Client, namespace: Option<&str>) -> Option<bool> {
    let ns = namespace?;
    match Api::<Namespace>::all(client.clone()).get_opt(ns).await {
        Ok(found) => Some(found.is_some()),
        Err(kube::Error::Api(s)) if s.code == 403 => {
            eprintln!(
                "note: report incomplete: forbidden: cannot get namespaces {ns:?}: 403 Forbidden"
            );
            None
        }
        Err(_) => None,
    }
}

/// One `note:` line per optional read the server refused (403): the report is incomplete
/// there, and the line names the verb and resource to ask access for.
pub fn incomplete_notes(f: &Fetched) -> Vec<String> {
    [
        match &f.validating_webhooks {
            Availability::Unavailable(r) => Some(r),
            Availability::Served(_) => None,
        },
        match &f.mutating_webhooks {
            Availability::Unavailable(r) => Some(r),
            Availability::Served(_) => None,
        },
        match &f.gateway_api {
            Availability::Unavailable(r) => Some(r),
            Availability::Served(_) => None,
        },
        match &f.pod_metrics {
            Availability::Unavailable(r) => Some(r),
            Availability::Served(_) => None,
        },
        match &f.node_metrics {
            Availability::Unavailable(r) => Some(r),
            Availability::Served(_) => None,
        },
    ]
    .into_iter()
    .flatten()
    .filter(|r| r.contains("403"))
    .map(|r| format!("note: report incomplete: forbidden: cannot {r}"))
    .collect()
}

/// Pod metrics of every namespace: one request, and it names the busy neighbours of a
/// saturated node.
async fn fetch_pod_metrics(client: &Client) -> Result<Availability<Vec<PodMetrics>>> {
    let resource = api_resource(METRICS_GROUP, "v1beta1", "PodMetrics", "pods");
    let result = list_dynamic::<PodMetrics>(client, &resource, None).await;
    optional(result, &Op::new("list", "pods.metrics.k8s.io"))
}

async fn fetch_node_metrics(client: &Client) -> Result<Availability<Vec<NodeMetrics>>> {
    let resource = api_resource(METRICS_GROUP, "v1beta1", "NodeMetrics", "nodes");
    let result = list_dynamic::<NodeMetrics>(client, &resource, None).await;
    optional(result, &Op::new("list", "nodes.metrics.k8s.io"))
}

/// The answer of one admin endpoint (`--probe`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeAnswer {
    /// Namespace of the Service.
    pub namespace: String,
    /// The Service.
    pub service: String,
    /// Its port.
    pub port: i32,
    /// The path asked (`/readyz`).
    pub path: String,
    /// What came back.
    pub outcome: ProbeOutcome,
}

/// The result of asking one admin endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// 2xx: the body's first line.
    Answered(String),
    /// The endpoint (or the Service in front of it) failed: status code and message.
    Failed(String),
    /// The API server would not proxy (403, or no services/proxy subresource): not a verdict
    /// on the endpoint.
    NotProxied(String),
}

impl ProbeOutcome {
    fn from_error(e: kube::Error) -> ProbeOutcome {
        match e {
            kube::Error::Api(s)
                if s.code == 403
                    || (s.code == 404
                        && s.message.contains("could not find the requested resource")) =>
            {
                ProbeOutcome::NotProxied(format!("{} {}: {}", s.code, s.reason, s.message))
            }
            kube::Error::Api(s) => {
                ProbeOutcome::Failed(format!("{} {}: {}", s.code, s.reason, s.message))
            }
            other => ProbeOutcome::Failed(other.to_string()),
        }
    }
}

/// Asks each profile admin endpoint through the API server's service proxy
/// (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`), concurrently: the same request
/// as the runbook's port-forward + curl, without a local port.
pub async fn fetch_probes(
    client: &Client,
    namespace: &str,
    probes: &[crate::profiles::ProbeSpec],
) -> Vec<ProbeAnswer> {
    let asks = probes.iter().flat_map(|p| {
        p.paths
            .iter()
            .map(move |path| (p.service.clone(), p.port, path.clone()))
    });
    join_all(asks.map(|(service, port, path)| async move {
        let url = format!("/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy{path}");
        let outcome = match http::Request::get(&url).body(Vec::new()) {
            Ok(req) => match client.request_text(req).await {
                Ok(body) => ProbeOutcome::Answered(
                    body.lines().next().unwrap_or_default().trim().to_string(),
                ),
                Err(e) => ProbeOutcome::from_error(e),
            },
            Err(e) => ProbeOutcome::Failed(e.to_string()),
        };
        ProbeAnswer {
            namespace: namespace.to_string(),
            service,
            port,
            path,
            outcome,
        }
    }))
    .await
}
