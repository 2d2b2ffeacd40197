//! The snapshot joined in memory: each profile component with its Deployment, ReplicaSets,
//! pods, Services, PodDisruptionBudgets and events. Pure: built from [`Fetched`] only.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, Event, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use runbook::events::EventSummary;
use runbook::pods::PodSummary;

use crate::fetch::Fetched;
use crate::profiles::{ComponentSpec, Profile};
use crate::selector;

/// One gateway: a profile and the namespace it was found in.
#[derive(Debug)]
pub struct GatewayView<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// The namespace its components live in.
    pub namespace: String,
    /// Its components, in profile order.
    pub components: Vec<ComponentView<'a>>,
}

/// One component: a Deployment and everything about it.
#[derive(Debug)]
pub struct ComponentView<'a> {
    /// The profile's entry.
    pub spec: &'a ComponentSpec,
    /// Namespace searched.
    pub namespace: String,
    /// The Deployment, when it exists.
    pub deployment: Option<&'a Deployment>,
    /// Other namespaces holding a Deployment of that name (for a missing component's hint).
    pub found_elsewhere: Vec<String>,
    /// Its ReplicaSets, newest revision first.
    pub replicasets: Vec<&'a ReplicaSet>,
    /// Its pods (every ReplicaSet's).
    pub pods: Vec<&'a Pod>,
    /// Those pods summarised (same order).
    pub summaries: Vec<PodSummary>,
    /// Services selecting its pods.
    pub services: Vec<&'a Service>,
    /// PodDisruptionBudgets covering its pods.
    pub pdbs: Vec<&'a PodDisruptionBudget>,
    /// Events about the Deployment, its ReplicaSets and pods, merged with counts, newest first.
    pub events: Vec<EventSummary>,
}

impl ComponentView<'_> {
    /// The Deployment's name.
    pub fn name(&self) -> &str {
        &self.spec.deployment
    }

    /// `deployment/namespace/name`, the subject of findings about the component.
    pub fn subject(&self) -> String {
        runbook::findings::subject("deployment", &self.namespace, self.name())
    }

    /// The pod template's labels.
    pub fn template_labels(&self) -> BTreeMap<String, String> {
        self.deployment.map(template_labels).unwrap_or_default()
    }

    /// The pod template's containers (init containers excluded).
    pub fn containers(&self) -> &[Container] {
        self.deployment
            .and_then(|d| d.spec.as_ref())
            .and_then(|s| s.template.spec.as_ref())
            .map_or(&[], |s| s.containers.as_slice())
    }

    /// How many containers the pod template has.
    pub fn container_count(&self) -> usize {
        self.containers().len()
    }

    /// `spec.replicas` (1 when unset, as the API defaults it).
    pub fn desired_replicas(&self) -> i32 {
        self.deployment
            .and_then(|d| d.spec.as_ref())
            .and_then(|s| s.replicas)
            .unwrap_or(1)
    }

    /// Nodes its pods run on, each once.
    pub fn nodes(&self) -> BTreeSet<String> {
        self.summaries
            .iter()
            .filter(|p| !p.terminating)
            .filter_map(|p| p.node.clone())
            .collect()
    }
}

impl GatewayView<'_> {
    /// Nodes hosting any component's pods.
    pub fn nodes(&self) -> BTreeSet<String> {
        self.components.iter().flat_map(|c| c.nodes()).collect()
    }

    /// The component whose Deployment is `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentView<'_>> {
        self.components.iter().find(|c| c.name() == name)
    }
}

/// Joins `profile` (its components living in `namespace`) with the snapshot.
pub fn join<'a>(fetched: &'a Fetched, profile: &'a Profile, namespace: &str) -> GatewayView<'a> {
    GatewayView {
        profile,
        namespace: namespace.to_string(),
        components: profile
            .components
            .iter()
            .map(|spec| join_component(fetched, spec, namespace))
            .collect(),
    }
}

fn in_namespace(meta_ns: Option<&String>, namespace: &str) -> bool {
    meta_ns.is_some_and(|ns| ns == namespace)
}

fn join_component<'a>(
    fetched: &'a Fetched,
    spec: &'a ComponentSpec,
    namespace: &str,
) -> ComponentView<'a> {
    let name = spec.deployment.as_str();
    let deployment = fetched.deployments.iter().find(|d| {
        d.metadata.name.as_deref() == Some(name)
            && in_namespace(d.metadata.namespace.as_ref(), namespace)
    });
    let found_elsewhere = fetched
        .deployments
        .iter()
        .filter(|d| d.metadata.name.as_deref() == Some(name))
        .filter_map(|d| d.metadata.namespace.clone())
        .filter(|ns| ns != namespace)
        .collect();
    let mut view = ComponentView {
        spec,
        namespace: namespace.to_string(),
        deployment,
        found_elsewhere,
        replicasets: Vec::new(),
        pods: Vec::new(),
        summaries: Vec::new(),
        services: Vec::new(),
        pdbs: Vec::new(),
        events: Vec::new(),
    };
    let Some(deployment) = deployment else {
        return view;
    };
    let mut replicasets = runbook::workload::owned_replicasets(deployment, &fetched.replicasets);
    replicasets.sort_by_key(|rs| std::cmp::Reverse(revision(rs)));
    let rs_names: BTreeSet<&str> = replicasets
        .iter()
        .filter_map(|rs| rs.metadata.name.as_deref())
        .collect();
    let selector = deployment.spec.as_ref().map(|s| &s.selector);
    let ns_replicasets: Vec<ReplicaSet> = replicasets.iter().map(|rs| (*rs).clone()).collect();
    let pods: Vec<&Pod> = fetched
        .pods
        .iter()
        .filter(|p| in_namespace(p.metadata.namespace.as_ref(), namespace))
        .filter(|p| {
            let by_owner = p
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "ReplicaSet" && rs_names.contains(o.name.as_str()));
            // Without ReplicaSets in the snapshot, fall back to the Deployment's selector.
            let by_selector = rs_names.is_empty()
                && p.metadata.owner_references.is_none()
                && selector.is_some_and(|s| {
                    selector::matches(s, p.metadata.labels.as_ref().unwrap_or(&BTreeMap::new()))
                });
            by_owner || by_selector
        })
        .collect();
    let summaries: Vec<PodSummary> = pods
        .iter()
        .map(|p| runbook::pods::summarize(p, &ns_replicasets))
        .collect();
    let labels = template_labels(deployment);
    let services = fetched
        .services
        .iter()
        .filter(|s| in_namespace(s.metadata.namespace.as_ref(), namespace))
        .filter(|s| {
            s.spec
                .as_ref()
                .and_then(|sp| sp.selector.as_ref())
                .is_some_and(|sel| selector::service_selects(sel, &labels))
        })
        .collect();
    let pdbs = fetched
        .pdbs
        .iter()
        .filter(|p| in_namespace(p.metadata.namespace.as_ref(), namespace))
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .is_some_and(|sel| selector::matches(sel, &labels))
        })
        .collect();
    let pod_names: BTreeSet<&str> = pods
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    let about: Vec<Event> = fetched
        .events
        .iter()
        .filter(|e| {
            let o = &e.involved_object;
            let ns_ok = o.namespace.as_deref().is_none_or(|ns| ns == namespace);
            let obj = o.name.as_deref().unwrap_or_default();
            ns_ok
                && match o.kind.as_deref() {
                    Some("Deployment") => obj == name,
                    Some("ReplicaSet") => rs_names.contains(obj),
                    Some("Pod") => pod_names.contains(obj),
                    _ => false,
                }
        })
        .cloned()
        .collect();
    view.events = runbook::events::summarize(&about, None);
    view.replicasets = replicasets;
    view.pods = pods;
    view.summaries = summaries;
    view.services = services;
    view.pdbs = pdbs;
    view
}

/// The pod template's labels of a Deployment.
pub fn template_labels(d: &Deployment) -> BTreeMap<String, String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// The revision number of a ReplicaSet (0 when absent).
pub fn revision(rs: &ReplicaSet) -> i64 {
    runbook::workload::revision(&rs.metadata)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}
