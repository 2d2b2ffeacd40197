//! Reading from the API server: the workload itself, and everything around it the
//! pre-flight checks look at (read concurrently; what cannot be read skips its check).

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{LimitRange, Node, Pod, ResourceQuota};
use kube::Client;
use kube::api::{Api, ListParams};
use runbook::error::from_kube;
use runbook::workload::{Workload, WorkloadKind};
use runbook::{KubeResultExt, Op, Result};
use serde::de::DeserializeOwned;

use crate::preflight::{Fetched, Surroundings};
use crate::workload::WorkloadExt;

/// Gets `kind/name` in `namespace` (NotFound names the object).
pub async fn workload(
    client: &Client,
    namespace: &str,
    kind: WorkloadKind,
    name: &str,
) -> Result<Workload> {
    let op = Op::new("get", kind.resource()).ns(namespace).name(name);
    Ok(match kind {
        WorkloadKind::Deployment => Workload::Deployment(Box::new(
            Api::<Deployment>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .during(op)?,
        )),
        WorkloadKind::StatefulSet => Workload::StatefulSet(Box::new(
            Api::<StatefulSet>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .during(op)?,
        )),
    })
}

async fn list_in<K>(api: Api<K>, lp: ListParams, op: Op) -> Fetched<K>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    api.list(&lp)
        .await
        .map(|l| l.items)
        .map_err(|e| from_kube(e, &op).to_string())
}

fn namespaced<K>(client: &Client, ns: &str) -> Api<K>
where
    K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    Api::namespaced(client.clone(), ns)
}

/// Reads quotas, LimitRanges, HPAs, nodes, scheduled pods and the workload's pods at once.
pub async fn surroundings(client: &Client, w: &Workload) -> Surroundings {
    let ns = w.namespace();
    let active = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    let selector = w.selector_string();
    let own_pods = async {
        match &selector {
            Some(sel) => {
                let lp = ListParams::default().labels(sel);
                list_in(
                    namespaced::<Pod>(client, ns),
                    lp,
                    Op::new("list", "pods").ns(ns),
                )
                .await
            }
            None => Ok(Vec::new()),
        }
    };
    let (quotas, limit_ranges, hpas, nodes, scheduled_pods, workload_pods) = tokio::join!(
        list_in(
            namespaced::<ResourceQuota>(client, ns),
            ListParams::default(),
            Op::new("list", "resourcequotas").ns(ns)
        ),
        list_in(
            namespaced::<LimitRange>(client, ns),
            ListParams::default(),
            Op::new("list", "limitranges").ns(ns)
        ),
        list_in(
            namespaced::<HorizontalPodAutoscaler>(client, ns),
            ListParams::default(),
            Op::new("list", "horizontalpodautoscalers.autoscaling").ns(ns)
        ),
        list_in(
            Api::<Node>::all(client.clone()),
            ListParams::default(),
            Op::new("list", "nodes")
        ),
        list_in(
            Api::<Pod>::all(client.clone()),
            active,
            Op::new("list", "pods")
        ),
        own_pods,
    );
    Surroundings {
        quotas,
        limit_ranges,
        nodes,
        scheduled_pods,
        hpas,
        workload_pods,
    }
}
