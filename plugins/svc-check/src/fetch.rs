//! The API calls: one paginated list per kind (Services, Pods, EndpointSlices, Endpoints,
//! Events, Nodes), run concurrently, into a plain [`Fetched`] struct. No request per Service.

use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::{Endpoints, Event, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use runbook::{Error, KubeResultExt, Op, Result};

/// Objects per list page (kubectl's default chunk size).
pub const PAGE_SIZE: u32 = 500;

/// The label the EndpointSlice controller puts on each slice: the Service's name.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// What to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One Service.
    Service {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Every Service of a namespace.
    Namespace(String),
    /// Every Service of the cluster.
    AllNamespaces,
}

impl Scope {
    /// The namespace lists are limited to, `None` for the whole cluster.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Scope::Service { namespace, .. } | Scope::Namespace(namespace) => Some(namespace),
            Scope::AllNamespaces => None,
        }
    }
}

/// Everything the checks need, fetched once.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The Services to check.
    pub services: Vec<Service>,
    /// Every LoadBalancer Service that could share an address with a checked one (the whole
    /// cluster when readable), for the shared address and port check.
    pub load_balancers: Vec<Service>,
    /// Pods of the scope.
    pub pods: Vec<Pod>,
    /// EndpointSlices of the scope.
    pub slices: Vec<EndpointSlice>,
    /// Endpoints of selector-less Services (read only when one has no EndpointSlice).
    pub endpoints: Vec<Endpoints>,
    /// Events of the scope (probe failures, the service controller's load balancer events).
    pub events: Vec<Event>,
    /// Nodes, `None` when they could not be read (the node-local checks are skipped).
    pub nodes: Option<Vec<Node>>,
    /// What could not be read and which checks were therefore skipped.
    pub notes: Vec<String>,
    /// How many API requests the fetch made.
    pub requests: usize,
}

/// Fetches everything for `scope`. `service_selector` is `-l` (filters Services only).
pub async fn fetch(
    client: &Client,
    scope: &Scope,
    service_selector: Option<&str>,
) -> Result<Fetched> {
    let counter = AtomicUsize::new(0);
    let ns = scope.namespace();
    let lister = Lister {
        client,
        namespace: ns,
        counter: &counter,
    };

    let services = async {
        match scope {
            Scope::Service { namespace, name } => {
                lister.get_service(namespace, name).await.map(|s| vec![s])
            }
            _ => {
                let lp = with_labels(service_selector);
                lister.list::<Service>(lp, "services", slim_service).await
            }
        }
    };
    let slices = async {
        let lp = match scope {
            Scope::Service { name, .. } => {
                ListParams::default().labels(&format!("{SERVICE_NAME_LABEL}={name}"))
            }
            _ => ListParams::default(),
        };
        lister
            .list::<EndpointSlice>(lp, "endpointslices.discovery.k8s.io", slim_slice)
            .await
    };
    let pods = lister.list::<Pod>(ListParams::default(), "pods", slim_pod);
    let events = optional(lister.list::<Event>(ListParams::default(), "events", slim_event));
    let nodes = optional(lister.cluster_list::<Node>("nodes", slim_node));

    let (services, slices, pods, events, nodes) =
        tokio::try_join!(services, slices, pods, events, nodes)?;

    let mut fetched = Fetched {
        services,
        slices,
        pods,
        ..Fetched::default()
    };
    match events {
        Ok(events) => fetched.events = events,
        Err(e) => fetched.notes.push(format!(
            "events not read ({e}): not-ready reasons and load balancer events are incomplete"
        )),
    }
    match nodes {
        Ok(nodes) => fetched.nodes = Some(nodes),
        Err(e) => fetched.notes.push(format!(
            "nodes not read ({e}): externalTrafficPolicy Local check skipped"
        )),
    }

    let endpoints = fetch_manual_endpoints(&lister, scope, &fetched);
    let load_balancers = fetch_load_balancers(&lister, scope, service_selector, &fetched);
    let (endpoints, load_balancers) = tokio::join!(endpoints, load_balancers);
    match endpoints {
        Ok(e) => fetched.endpoints = e,
        Err(e) => fetched.notes.push(format!(
            "endpoints not read ({e}): selector-less Services judged on EndpointSlices only"
        )),
    }
    match load_balancers {
        Ok(lbs) => fetched.load_balancers = lbs,
        Err(e) => {
            fetched.notes.push(format!("Services of other namespaces not read ({e}): shared load balancer ports compared within the namespace only"));
            fetched.load_balancers = fetched
                .services
                .iter()
                .filter(|s| is_load_balancer(s))
                .cloned()
                .collect();
        }
    }
    fetched.requests = counter.load(Ordering::Relaxed);
    Ok(fetched)
}

/// Endpoints objects are read only for selector-less Services that have no EndpointSlice
/// (manual Endpoints not mirrored into slices): one get for one Service, else one list.
async fn fetch_manual_endpoints(
    lister: &Lister<'_>,
    scope: &Scope,
    fetched: &Fetched,
) -> Result<Vec<Endpoints>> {
    let wanted: Vec<&Service> = fetched
        .services
        .iter()
        .filter(|s| is_selectorless(s) && !has_slice(&fetched.slices, s))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    match scope {
        Scope::Service { namespace, name } => lister
            .get_endpoints(namespace, name)
            .await
            .map(|e| e.into_iter().collect()),
        _ => {
            lister
                .list::<Endpoints>(ListParams::default(), "endpoints", |_| {})
                .await
        }
    }
}

/// LoadBalancer Services of the whole cluster, when a checked LoadBalancer has an address and
/// the fetched Services are not already the whole cluster.
async fn fetch_load_balancers(
    lister: &Lister<'_>,
    scope: &Scope,
    service_selector: Option<&str>,
    fetched: &Fetched,
) -> Result<Vec<Service>> {
    let lbs = || {
        fetched
            .services
            .iter()
            .filter(|s| is_load_balancer(s))
            .cloned()
            .collect()
    };
    let has_address = fetched
        .services
        .iter()
        .any(|s| is_load_balancer(s) && !ingress_addresses(s).is_empty());
    if !has_address || (*scope == Scope::AllNamespaces && service_selector.is_none()) {
        return Ok(lbs());
    }
    let all = Lister {
        namespace: None,
        ..*lister
    };
    let mut services = all
        .list::<Service>(ListParams::default(), "services", slim_service)
        .await?;
    services.retain(is_load_balancer);
    Ok(services)
}

/// One request helper bound to a namespace (or the cluster), counting requests.
#[derive(Clone, Copy)]
struct Lister<'a> {
    client: &'a Client,
    namespace: Option<&'a str>,
    counter: &'a AtomicUsize,
}

impl Lister<'_> {
    fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        match self.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    fn op(&self, verb: &'static str, resource: &str) -> Op {
        let op = Op::new(verb, resource);
        match self.namespace {
            Some(ns) => op.ns(ns),
            None => op,
        }
    }

    /// All pages of a namespaced list, each object slimmed as it arrives.
    async fn list<K>(&self, lp: ListParams, resource: &str, slim: fn(&mut K)) -> Result<Vec<K>>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as Resource>::DynamicType: Default,
    {
        paginate(
            &self.api::<K>(),
            lp,
            self.op("list", resource),
            self.counter,
            slim,
        )
        .await
    }

    /// All pages of a cluster-scoped list.
    async fn cluster_list<K>(&self, resource: &str, slim: fn(&mut K)) -> Result<Vec<K>>
    where
        K: Resource<Scope = k8s_openapi::ClusterResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as Resource>::DynamicType: Default,
    {
        let api: Api<K> = Api::all(self.client.clone());
        paginate(
            &api,
            ListParams::default(),
            Op::new("list", resource),
            self.counter,
            slim,
        )
        .await
    }

    /// The named Service; NotFound names the close Service names of the namespace.
    async fn get_service(&self, namespace: &str, name: &str) -> Result<Service> {
        let api: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        self.counter.fetch_add(1, Ordering::Relaxed);
        let op = Op::new("get", "services").ns(namespace).name(name);
        match api.get_opt(name).await.during(op)? {
            Some(mut svc) => {
                slim_service(&mut svc);
                Ok(svc)
            }
            None => {
                self.counter.fetch_add(1, Ordering::Relaxed);
                let names = api
                    .list_metadata(&ListParams::default())
                    .await
                    .during(Op::new("list", "services").ns(namespace))?;
                let names: Vec<String> = names
                    .items
                    .into_iter()
                    .filter_map(|m| m.metadata.name)
                    .collect();
                Err(Error::not_found(
                    "service",
                    name,
                    Some(namespace),
                    names.iter().map(String::as_str),
                ))
            }
        }
    }

    /// The Endpoints object of one Service, `None` when there is none.
    async fn get_endpoints(&self, namespace: &str, name: &str) -> Result<Option<Endpoints>> {
        let api: Api<Endpoints> = Api::namespaced(self.client.clone(), namespace);
        self.counter.fetch_add(1, Ordering::Relaxed);
        api.get_opt(name)
            .await
            .during(Op::new("get", "endpoints").ns(namespace).name(name))
    }
}

async fn paginate<K>(
    api: &Api<K>,
    lp: ListParams,
    op: Op,
    counter: &AtomicUsize,
    slim: fn(&mut K),
) -> Result<Vec<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut lp = lp.limit(PAGE_SIZE);
    loop {
        counter.fetch_add(1, Ordering::Relaxed);
        let page = api.list(&lp).await.during(op.clone())?;
        // Reserve the whole list once (the first page says how many follow), so 50,000 pods
        // are not copied through doubling buffers.
        let remaining = page
            .metadata
            .remaining_item_count
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        items.reserve_exact(page.items.len() + remaining);
        items.extend(page.items.into_iter().map(|mut o| {
            slim(&mut o);
            o
        }));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => lp = lp.continue_token(&token),
            _ => return Ok(items),
        }
    }
}

/// Runs a fetch whose failure (403, 404 of the kind, an answer that does not decode) should
/// not stop the check: the error comes back as a value and the caller notes it. Failures to
/// reach or authenticate to the server still stop the run.
async fn optional<T>(
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<std::result::Result<T, Error>> {
    match fut.await {
        Ok(v) => Ok(Ok(v)),
        Err(e @ (Error::Unreachable { .. } | Error::Unauthorized { .. } | Error::Timeout(_))) => {
            Err(e)
        }
        Err(e) => Ok(Err(e)),
    }
}

fn with_labels(selector: Option<&str>) -> ListParams {
    match selector {
        Some(s) => ListParams::default().labels(s),
        None => ListParams::default(),
    }
}

/// True for `type: LoadBalancer`.
pub fn is_load_balancer(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

/// True for a Service without a selector that is not an ExternalName.
pub fn is_selectorless(svc: &Service) -> bool {
    let spec = svc.spec.as_ref();
    spec.and_then(|s| s.type_.as_deref()) != Some("ExternalName")
        && spec
            .and_then(|s| s.selector.as_ref())
            .is_none_or(|s| s.is_empty())
}

fn has_slice(slices: &[EndpointSlice], svc: &Service) -> bool {
    slices.iter().any(|s| {
        s.metadata.namespace == svc.metadata.namespace
            && s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
                == svc.metadata.name.as_ref()
    })
}

/// The ingress IPs and hostnames of a LoadBalancer Service.
pub fn ingress_addresses(svc: &Service) -> Vec<&str> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|ingress| {
            ingress
                .iter()
                .filter_map(|i| i.ip.as_deref().or(i.hostname.as_deref()))
                .collect()
        })
        .unwrap_or_default()
}

// Slimming: fields no check reads are dropped as pages arrive, so that 50,000 pods fit.

fn slim_service(svc: &mut Service) {
    svc.metadata.managed_fields = None;
    svc.metadata.annotations = None;
}

fn slim_slice(slice: &mut EndpointSlice) {
    slice.metadata.managed_fields = None;
    slice.metadata.annotations = None;
}

fn slim_event(event: &mut Event) {
    event.metadata.managed_fields = None;
    event.metadata.annotations = None;
}

fn slim_node(node: &mut Node) {
    node.metadata.managed_fields = None;
    node.metadata.annotations = None;
    if let Some(status) = node.status.as_mut() {
        status.images = None;
        status.volumes_attached = None;
        status.volumes_in_use = None;
    }
}

fn slim_pod(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    pod.metadata.annotations = None;
    pod.metadata.finalizers = None;
    if let Some(spec) = pod.spec.as_mut() {
        *spec = k8s_openapi::api::core::v1::PodSpec {
            containers: std::mem::take(&mut spec.containers),
            init_containers: spec.init_containers.take(),
            node_name: spec.node_name.take(),
            ..Default::default()
        };
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            *c = k8s_openapi::api::core::v1::Container {
                name: std::mem::take(&mut c.name),
                ports: c.ports.take(),
                readiness_probe: c.readiness_probe.take(),
                liveness_probe: c.liveness_probe.take(),
                restart_policy: c.restart_policy.take(),
                ..Default::default()
            };
        }
    }
    if let Some(status) = pod.status.as_mut() {
        status.pod_ips = None;
        status.host_ips = None;
        status.qos_class = None;
        status.start_time = None;
        if let Some(conditions) = status.conditions.as_mut() {
            conditions.retain(|c| matches!(c.type_.as_str(), "Ready" | "PodScheduled"));
        }
        for cs in status.container_statuses.iter_mut().flatten() {
            cs.image = String::new();
            cs.image_id = String::new();
            cs.container_id = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(v: serde_json::Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn selectorless_excludes_external_name() {
        let plain = svc(
            serde_json::json!({"metadata": {"name": "db"}, "spec": {"ports": [{"port": 5432}]}}),
        );
        assert!(is_selectorless(&plain));
        let ext = svc(
            serde_json::json!({"metadata": {"name": "x"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
        );
        assert!(!is_selectorless(&ext));
        let web =
            svc(serde_json::json!({"metadata": {"name": "w"}, "spec": {"selector": {"app": "w"}}}));
        assert!(!is_selectorless(&web));
    }

    #[test]
    fn ingress_addresses_take_ip_or_hostname() {
        let lb = svc(serde_json::json!({
            "metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example.com"}]}}
        }));
        assert!(is_load_balancer(&lb));
        assert_eq!(ingress_addresses(&lb), ["1.2.3.4", "lb.example.com"]);
    }

    #[test]
    fn slimming_keeps_what_checks_read() {
        let mut pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "labels": {"app": "a"}, "annotations": {"big": "x"}},
            "spec": {"containers": [{"name": "c", "env": [{"name": "A", "value": "1"}],
                "ports": [{"containerPort": 80}], "readinessProbe": {"tcpSocket": {"port": 80}}}]}
        }))
        .unwrap();
        slim_pod(&mut pod);
        assert!(pod.metadata.annotations.is_none());
        let c = &pod.spec.as_ref().unwrap().containers[0];
        assert!(c.env.is_none());
        assert!(c.ports.is_some() && c.readiness_probe.is_some());
        assert!(pod.metadata.labels.is_some());
    }
}
