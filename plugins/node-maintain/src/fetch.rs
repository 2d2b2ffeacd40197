//! API calls: everything `check` and `drain` look at, fetched once per kind, concurrently,
//! into plain structs the pure checks and the drain planner read.

use std::collections::BTreeMap;
use std::fmt::Debug;

use jiff::Timestamp;
use k8s_metrics::v1beta1::NodeMetrics;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use runbook::quantity::Quantity;
use runbook::{Error, KubeResultExt, Op, Result};
use serde::de::DeserializeOwned;

use crate::resources::Resources;

/// Page size of list calls unless `--chunk-size` says otherwise.
pub const DEFAULT_PAGE: u32 = 500;

/// What `check` looks at.
#[derive(Debug)]
pub struct CheckSnapshot {
    /// The nodes to check.
    pub nodes: Vec<Node>,
    /// Pods bound to those nodes (every phase: evicted pods stay bound).
    pub pods: Vec<Pod>,
    /// Events about nodes.
    pub node_events: Vec<Event>,
    /// Measured use per node name; `None` when metrics.k8s.io is not served.
    pub usage: Option<BTreeMap<String, Resources>>,
    /// When the snapshot was taken.
    pub now: Timestamp,
}

/// What `drain` plans from.
#[derive(Debug)]
pub struct DrainSnapshot {
    /// The node to drain.
    pub node: Node,
    /// Its pods (with `--pod-selector` applied).
    pub node_pods: Vec<Pod>,
    /// Every pod of the cluster (replica counts, room on other nodes).
    pub all_pods: Vec<Pod>,
    /// Every node.
    pub nodes: Vec<Node>,
    /// Every PodDisruptionBudget.
    pub pdbs: Vec<PodDisruptionBudget>,
    /// Every DaemonSet (a DaemonSet pod whose DaemonSet is gone is an orphan).
    pub daemonsets: Vec<DaemonSet>,
    /// When the snapshot was taken.
    pub now: Timestamp,
}

/// Lists every object matching `lp`, `page` at a time (0: in one request).
pub async fn list_all<K>(api: &Api<K>, lp: &ListParams, page: u32, op: Op) -> Result<Vec<K>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = lp.clone();
        if page > 0 {
            params = params.limit(page);
        }
        if let Some(t) = token.take() {
            params = params.continue_token(&t);
        }
        let list = api.list(&params).await.during(op.clone())?;
        out.extend(list.items);
        match list.metadata.continue_ {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// Gets one node; a missing node is an error naming close node names.
pub async fn get_node(client: &Client, name: &str) -> Result<Node> {
    let api: Api<Node> = Api::all(client.clone());
    match api
        .get_opt(name)
        .await
        .during(Op::new("get", "nodes").name(name))?
    {
        Some(node) => Ok(node),
        None => {
            let names = list_all(
                &api,
                &ListParams::default(),
                DEFAULT_PAGE,
                Op::new("list", "nodes"),
            )
            .await
            .map(|nodes| names_of(&nodes))
            .unwrap_or_default();
            Err(Error::not_found(
                "node",
                name,
                None,
                names.iter().map(String::as_str),
            ))
        }
    }
}

fn names_of(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

/// The nodes named (each must exist), or all nodes matching `selector` (at least one).
pub async fn select_nodes(
    client: &Client,
    names: &[String],
    selector: Option<&str>,
) -> Result<Vec<Node>> {
    if names.is_empty() {
        let api: Api<Node> = Api::all(client.clone());
        let mut lp = ListParams::default();
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        let nodes = list_all(&api, &lp, DEFAULT_PAGE, Op::new("list", "nodes")).await?;
        if nodes.is_empty() {
            return Err(Error::Api(match selector {
                Some(s) => format!("no node matches the selector {s:?}"),
                None => "the cluster has no nodes".to_string(),
            }));
        }
        return Ok(nodes);
    }
    futures::future::try_join_all(names.iter().map(|n| get_node(client, n))).await
}

/// Pods bound to `node` (all of them), matching `selector` when given.
pub async fn pods_on_node(
    client: &Client,
    node: &str,
    selector: Option<&str>,
    page: u32,
) -> Result<Vec<Pod>> {
    let api: Api<Pod> = Api::all(client.clone());
    let mut lp = ListParams::default().fields(&format!("spec.nodeName={node}"));
    if let Some(s) = selector {
        lp = lp.labels(s);
    }
    let pods = list_all(&api, &lp, page, Op::new("list", "pods")).await?;
    // Filter again should a server ignore the field selector.
    Ok(pods
        .into_iter()
        .filter(|p| node_name(p) == Some(node))
        .collect())
}

/// The node a pod is bound to.
pub fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.node_name.as_deref()
}

async fn all_of<K>(client: &Client, resource: &str, page: u32) -> Result<Vec<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let api: Api<K> = Api::all(client.clone());
    list_all(
        &api,
        &ListParams::default(),
        page,
        Op::new("list", resource),
    )
    .await
}

/// Measured CPU and memory per node, or `None` when metrics.k8s.io is not served (or not
/// readable): usage is optional, the rest of the check carries on.
pub async fn node_usage(client: &Client) -> Option<BTreeMap<String, Resources>> {
    let api: Api<NodeMetrics> = Api::all(client.clone());
    let list = api.list(&ListParams::default()).await.ok()?;
    Some(
        list.items
            .iter()
            .filter_map(|m| {
                let cpu = Quantity::try_from(&m.usage.cpu).ok()?;
                let memory = Quantity::try_from(&m.usage.memory).ok()?;
                Some((
                    m.metadata.name.clone()?,
                    Resources {
                        cpu_millis: cpu.to_millis(),
                        memory_bytes: memory.to_bytes(),
                    },
                ))
            })
            .collect(),
    )
}

/// Everything `check` needs: the nodes, their pods, node events and usage.
pub async fn check_snapshot(
    client: &Client,
    names: &[String],
    selector: Option<&str>,
) -> Result<CheckSnapshot> {
    let nodes = select_nodes(client, names, selector).await?;
    let pods = async {
        match nodes.as_slice() {
            [only] => {
                let name = only.metadata.name.as_deref().unwrap_or_default();
                pods_on_node(client, name, None, DEFAULT_PAGE).await
            }
            _ => all_of::<Pod>(client, "pods", DEFAULT_PAGE).await,
        }
    };
    let events = async {
        let api: Api<Event> = Api::all(client.clone());
        let lp = ListParams::default().fields("involvedObject.kind=Node");
        let events = list_all(&api, &lp, DEFAULT_PAGE, Op::new("list", "events")).await?;
        Ok(events
            .into_iter()
            .filter(|e| e.involved_object.kind.as_deref() == Some("Node"))
            .collect::<Vec<_>>())
    };
    let (pods, node_events, usage) =
        tokio::try_join!(pods, events, async { Ok(node_usage(client).await) })?;
    let wanted: std::collections::BTreeSet<&str> = nodes
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    let pods = pods
        .into_iter()
        .filter(|p| node_name(p).is_some_and(|n| wanted.contains(n)))
        .collect();
    Ok(CheckSnapshot {
        nodes,
        pods,
        node_events,
        usage,
        now: Timestamp::now(),
    })
}

/// Everything `drain` plans from, fetched concurrently.
pub async fn drain_snapshot(
    client: &Client,
    node: &str,
    pod_selector: Option<&str>,
    page: u32,
) -> Result<DrainSnapshot> {
    let (node, node_pods, all_pods, nodes, pdbs, daemonsets) = tokio::try_join!(
        get_node(client, node),
        pods_on_node(client, node, pod_selector, page),
        all_of::<Pod>(client, "pods", page),
        all_of::<Node>(client, "nodes", page),
        all_of::<PodDisruptionBudget>(client, "poddisruptionbudgets.policy", page),
        all_of::<DaemonSet>(client, "daemonsets.apps", page),
    )?;
    Ok(DrainSnapshot {
        node,
        node_pods,
        all_pods,
        nodes,
        pdbs,
        daemonsets,
        now: Timestamp::now(),
    })
}
