//! The in-memory join: pods by namespace and by label, EndpointSlices and Endpoints by Service,
//! events by object. Built once from [`Fetched`]; each Service then gets its [`ServiceView`]
//! without scanning every pod.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Endpoints, Event, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::fetch::{Fetched, SERVICE_NAME_LABEL};

/// Pods of one namespace with an inverted label index.
#[derive(Default)]
struct NamespacePods<'a> {
    pods: Vec<&'a Pod>,
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
}

/// Lookups over the fetched objects.
pub struct Index<'a> {
    pods: HashMap<&'a str, NamespacePods<'a>>,
    slices: HashMap<(&'a str, &'a str), Vec<&'a EndpointSlice>>,
    endpoints: HashMap<(&'a str, &'a str), &'a Endpoints>,
    events: HashMap<String, Vec<&'a Event>>,
    nodes: Option<&'a [Node]>,
}

/// Everything known about one Service: the inputs of every check.
pub struct ServiceView<'a> {
    /// The Service.
    pub service: &'a Service,
    /// Its namespace.
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Pods its selector matches that have not finished (Succeeded/Failed excluded).
    pub pods: Vec<&'a Pod>,
    /// Pods its selector matches that finished (evicted, completed): never endpoints.
    pub finished_pods: Vec<&'a Pod>,
    /// Every pod of the namespace (for the near-miss selector search).
    pub namespace_pods: &'a [&'a Pod],
    /// Its EndpointSlices.
    pub slices: Vec<&'a EndpointSlice>,
    /// Its Endpoints object, read for selector-less Services only.
    pub endpoints: Option<&'a Endpoints>,
    /// Events about the Service.
    pub service_events: Vec<&'a Event>,
    /// Events about each matched pod, by pod name.
    pub pod_events: HashMap<&'a str, Vec<&'a Event>>,
    /// Nodes, when readable.
    pub nodes: Option<&'a [Node]>,
}

impl<'a> Index<'a> {
    /// Indexes everything in `f` (one pass per kind).
    pub fn build(f: &'a Fetched) -> Self {
        let mut pods: HashMap<&str, NamespacePods> = HashMap::new();
        for pod in &f.pods {
            let entry = pods.entry(namespace_of(&pod.metadata)).or_default();
            let i = entry.pods.len();
            entry.pods.push(pod);
            for (k, v) in pod.metadata.labels.iter().flatten() {
                entry
                    .by_label
                    .entry((k.as_str(), v.as_str()))
                    .or_default()
                    .push(i);
            }
        }
        let mut slices: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
        for slice in &f.slices {
            if let Some(svc) = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
            {
                slices
                    .entry((namespace_of(&slice.metadata), svc.as_str()))
                    .or_default()
                    .push(slice);
            }
        }
        let endpoints = f
            .endpoints
            .iter()
            .filter_map(|e| Some(((namespace_of(&e.metadata), e.metadata.name.as_deref()?), e)))
            .collect();
        let mut events: HashMap<String, Vec<&Event>> = HashMap::new();
        for ev in &f.events {
            let obj = &ev.involved_object;
            if let (Some(kind), Some(name)) = (obj.kind.as_deref(), obj.name.as_deref()) {
                let ns = obj
                    .namespace
                    .as_deref()
                    .unwrap_or_else(|| namespace_of(&ev.metadata));
                events
                    .entry(event_key(kind, ns, name))
                    .or_default()
                    .push(ev);
            }
        }
        Index {
            pods,
            slices,
            endpoints,
            events,
            nodes: f.nodes.as_deref(),
        }
    }

    /// Pods of `namespace`.
    pub fn pods_in(&self, namespace: &str) -> &[&'a Pod] {
        self.pods
            .get(namespace)
            .map(|p| p.pods.as_slice())
            .unwrap_or_default()
    }

    /// Pods of `namespace` whose labels contain every pair of `selector` (empty selector:
    /// none, as a Service without selector selects nothing).
    pub fn select(&self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<&'a Pod> {
        let Some(ns) = self.pods.get(namespace) else {
            return Vec::new();
        };
        if selector.is_empty() {
            return Vec::new();
        }
        let mut postings = Vec::with_capacity(selector.len());
        for (k, v) in selector {
            match ns.by_label.get(&(k.as_str(), v.as_str())) {
                Some(p) => postings.push(p),
                None => return Vec::new(),
            }
        }
        postings.sort_by_key(|p| p.len());
        let (first, rest) = postings.split_first().expect("selector is not empty");
        first
            .iter()
            .filter(|i| rest.iter().all(|p| p.binary_search(i).is_ok()))
            .map(|&i| ns.pods[i])
            .collect()
    }

    /// Events about the object `kind`/`namespace`/`name`, newest last as listed.
    pub fn events_for(&self, kind: &str, namespace: &str, name: &str) -> &[&'a Event] {
        self.events
            .get(&event_key(kind, namespace, name))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The joined view of one Service.
    pub fn view<'s>(&'s self, service: &'a Service) -> ServiceView<'s> {
        let namespace = namespace_of(&service.metadata);
        let name = service.metadata.name.as_deref().unwrap_or_default();
        let selector = service.spec.as_ref().and_then(|s| s.selector.as_ref());
        let is_external_name =
            service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
        let matched = match selector {
            Some(sel) if !is_external_name => self.select(namespace, sel),
            _ => Vec::new(),
        };
        let (finished_pods, pods): (Vec<&Pod>, Vec<&Pod>) =
            matched.into_iter().partition(|p| is_finished(p));
        let pod_events = pods
            .iter()
            .filter_map(|p| {
                let pod_name = p.metadata.name.as_deref()?;
                let evs = self.events_for("Pod", namespace, pod_name);
                (!evs.is_empty()).then(|| (pod_name, evs.to_vec()))
            })
            .collect();
        ServiceView {
            service,
            namespace,
            name,
            pods,
            finished_pods,
            namespace_pods: self.pods_in(namespace),
            slices: self
                .slices
                .get(&(namespace, name))
                .cloned()
                .unwrap_or_default(),
            endpoints: self.endpoints.get(&(namespace, name)).copied(),
            service_events: self.events_for("Service", namespace, name).to_vec(),
            pod_events,
            nodes: self.nodes,
        }
    }
}

fn event_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

fn namespace_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

/// True for pods in phase Succeeded or Failed (evicted pods are Failed): never endpoints.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A pod in `ns` with `labels`, Running and Ready unless `extra` says otherwise.
    pub fn pod(ns: &str, name: &str, labels: Value) -> Value {
        json!({
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "i", "imageID": "", "state": {"running": {}}}]}
        })
    }

    fn parse<T: serde::de::DeserializeOwned>(values: Vec<Value>) -> Vec<T> {
        values
            .into_iter()
            .map(|o| serde_json::from_value(o).unwrap())
            .collect()
    }

    /// A Fetched from JSON values.
    pub fn fetched(
        services: Vec<Value>,
        pods: Vec<Value>,
        slices: Vec<Value>,
        events: Vec<Value>,
    ) -> Fetched {
        Fetched {
            services: parse(services),
            pods: parse(pods),
            slices: parse(slices),
            events: parse(events),
            ..Fetched::default()
        }
    }

    #[test]
    fn select_intersects_label_postings() {
        let f = fetched(
            vec![],
            vec![
                pod("a", "web-1", json!({"app": "web", "tier": "fe"})),
                pod("a", "web-2", json!({"app": "web", "tier": "be"})),
                pod("b", "web-3", json!({"app": "web", "tier": "fe"})),
            ],
            vec![],
            vec![],
        );
        let idx = Index::build(&f);
        let sel: BTreeMap<String, String> =
            [("app".into(), "web".into()), ("tier".into(), "fe".into())].into();
        let got: Vec<_> = idx
            .select("a", &sel)
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(got, ["web-1"]);
        assert!(idx.select("a", &BTreeMap::new()).is_empty());
        assert_eq!(idx.pods_in("b").len(), 1);
        assert!(idx.select("c", &sel).is_empty());
    }

    #[test]
    fn view_joins_slices_events_and_splits_finished_pods() {
        let mut evicted = pod("a", "web-old", json!({"app": "web"}));
        evicted["status"]["phase"] = json!("Failed");
        let f = fetched(
            vec![
                json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}}}),
            ],
            vec![pod("a", "web-1", json!({"app": "web"})), evicted],
            vec![
                json!({"metadata": {"name": "web-x", "namespace": "a", "labels": {"kubernetes.io/service-name": "web"}},
                "addressType": "IPv4", "endpoints": []}),
            ],
            vec![
                json!({"metadata": {"name": "e1", "namespace": "a"}, "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "a"},
                "reason": "Unhealthy", "message": "Readiness probe failed"}),
            ],
        );
        let idx = Index::build(&f);
        let view = idx.view(&f.services[0]);
        assert_eq!(view.pods.len(), 1);
        assert_eq!(view.finished_pods.len(), 1);
        assert_eq!(view.slices.len(), 1);
        assert_eq!(view.pod_events.get("web-1").map(Vec::len), Some(1));
    }
}
