//! The Endpoints and EndpointSlice controllers: for every Service with a selector, the ready
//! and not-ready addresses of its pods, target ports resolved by name through the pods'
//! container ports. Services without a selector keep the endpoints their users wrote.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::labels::{has_map_selector, map_matches};
use super::objects::{self, meta};
use super::{names, rules::Rules};
use crate::store::{DeleteOptions, Store};

/// `endpointslice.kubernetes.io/managed-by` of the slices this controller owns.
const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// The label naming a slice's Service.
const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Endpoints per slice (the controller's default `--max-endpoints-per-slice`).
const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// One resolved port of a Service for one pod.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResolvedPort {
    /// The Service port's name.
    pub name: String,
    /// The pod port traffic goes to.
    pub port: i64,
    /// TCP, UDP or SCTP.
    pub protocol: String,
}

impl ResolvedPort {
    fn to_json(&self) -> Value {
        let mut port = json!({"port": self.port, "protocol": self.protocol});
        if !self.name.is_empty() {
            port["name"] = json!(self.name);
        }
        port
    }
}

/// One pod behind a Service.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The pod.
    pub pod: Arc<Value>,
    /// Ready (or published although not ready).
    pub ready: bool,
    /// Being deleted.
    pub terminating: bool,
    /// The Service ports this pod serves (ports whose named target it lacks are left out).
    pub ports: Vec<ResolvedPort>,
}

/// One pass over every Service.
pub fn reconcile(store: &Store, _rules: &Rules, _now: Timestamp) -> bool {
    let (services, _) = store.list_shared("services", None);
    let (pods, _) = store.list_shared("pods", None);
    let mut pods_by_namespace: HashMap<&str, Vec<Arc<Value>>> = HashMap::new();
    for pod in &pods {
        pods_by_namespace
            .entry(meta(pod, "namespace"))
            .or_default()
            .push(Arc::clone(pod));
    }
    let zones: HashMap<String, String> = store
        .list_shared("nodes", None)
        .0
        .iter()
        .filter_map(|n| {
            let zone = n
                .pointer("/metadata/labels/topology.kubernetes.io~1zone")?
                .as_str()?;
            Some((meta(n, "name").to_string(), zone.to_string()))
        })
        .collect();
    let mut changed = false;
    for service in &services {
        if !has_map_selector(service.pointer("/spec/selector"))
            || objects::text(service, "/spec/type") == "ExternalName"
        {
            continue;
        }
        let namespace_pods = pods_by_namespace
            .get(meta(service, "namespace"))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let backends = backends(service, namespace_pods);
        changed |= sync_endpoints(store, service, &backends);
        changed |= sync_slices(store, service, &backends, &zones);
    }
    changed | remove_orphans(store, &services)
}

/// The pods a Service selects that have an IP and have not finished, with their ports.
pub fn backends(service: &Value, namespace_pods: &[Arc<Value>]) -> Vec<Backend> {
    let selector = service
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(json!({}));
    let publish_not_ready = service
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        == Some(true);
    let mut backends: Vec<Backend> = namespace_pods
        .iter()
        .filter(|pod| map_matches(&selector, pod.pointer("/metadata/labels")))
        .filter(|pod| !objects::text(pod, "/status/podIP").is_empty())
        .filter(|pod| !matches!(objects::phase(pod), "Succeeded" | "Failed"))
        .map(|pod| Backend {
            ready: objects::is_ready(pod) || publish_not_ready,
            terminating: objects::is_terminating(pod),
            ports: objects::list(service, "/spec/ports")
                .iter()
                .filter_map(|port| resolve_port(pod, port))
                .collect(),
            pod: Arc::clone(pod),
        })
        .collect();
    backends.sort_by(|a, b| {
        objects::text(&a.pod, "/status/podIP").cmp(objects::text(&b.pod, "/status/podIP"))
    });
    backends
}

/// `podutil.FindPort`: a numeric targetPort as is, a named one through the container ports
/// (None when no container declares that name with the port's protocol).
pub fn resolve_port(pod: &Value, service_port: &Value) -> Option<ResolvedPort> {
    let protocol = service_port["protocol"]
        .as_str()
        .unwrap_or("TCP")
        .to_string();
    let port = match service_port.get("targetPort") {
        Some(Value::String(name)) => match name.parse::<i64>() {
            Ok(number) => number,
            Err(_) => objects::list(pod, "/spec/containers")
                .iter()
                .flat_map(|c| objects::list(c, "/ports"))
                .find(|p| {
                    p["name"] == name.as_str()
                        && p["protocol"].as_str().unwrap_or("TCP") == protocol
                })?["containerPort"]
                .as_i64()?,
        },
        Some(Value::Number(number)) => number.as_i64()?,
        _ => service_port["port"].as_i64()?,
    };
    Some(ResolvedPort {
        name: service_port["name"].as_str().unwrap_or("").to_string(),
        port,
        protocol,
    })
}

fn service_labels(service: &Value) -> serde_json::Map<String, Value> {
    let mut labels = service
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if objects::text(service, "/spec/clusterIP") == "None" {
        labels.insert("service.kubernetes.io/headless".into(), json!(""));
    }
    labels
}

fn target_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "namespace": meta(pod, "namespace"), "name": meta(pod, "name"), "uid": meta(pod, "uid")})
}

/// The `subsets` of a Service's Endpoints, repacked: addresses sharing the same ports together.
pub fn subsets(service: &Value, backends: &[Backend]) -> Vec<Value> {
    let headless_without_ports = objects::list(service, "/spec/ports").is_empty();
    let mut groups: BTreeMap<Vec<ResolvedPort>, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    for backend in backends.iter().filter(|b| !b.terminating) {
        if backend.ports.is_empty() && !headless_without_ports {
            continue;
        }
        let mut address = json!({"ip": objects::text(&backend.pod, "/status/podIP"), "targetRef": target_ref(&backend.pod)});
        let node = objects::node_name(&backend.pod);
        if !node.is_empty() {
            address["nodeName"] = json!(node);
        }
        let mut ports = backend.ports.clone();
        ports.sort();
        let (ready, not_ready) = groups.entry(ports).or_default();
        if backend.ready {
            ready.push(address)
        } else {
            not_ready.push(address)
        }
    }
    groups
        .into_iter()
        .map(|(ports, (ready, not_ready))| {
            let mut subset = json!({});
            if !ready.is_empty() {
                subset["addresses"] = Value::Array(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = Value::Array(not_ready);
            }
            if !ports.is_empty() {
                subset["ports"] = Value::Array(ports.iter().map(ResolvedPort::to_json).collect());
            }
            subset
        })
        .collect()
}

fn sync_endpoints(store: &Store, service: &Value, backends: &[Backend]) -> bool {
    let namespace = meta(service, "namespace");
    let name = meta(service, "name");
    let subsets = subsets(service, backends);
    let labels = Value::Object(service_labels(service));
    match store.get("endpoints", Some(namespace), name) {
        Some(existing) => {
            let current_subsets = existing.get("subsets").cloned().unwrap_or(json!([]));
            let current_labels = existing
                .pointer("/metadata/labels")
                .cloned()
                .unwrap_or(json!({}));
            if current_subsets == Value::Array(subsets.clone()) && current_labels == labels {
                return false;
            }
            let mut next = existing;
            next["metadata"]["labels"] = labels;
            if subsets.is_empty() {
                next.as_object_mut().map(|e| e.remove("subsets"));
            } else {
                next["subsets"] = Value::Array(subsets);
            }
            objects::update(store, "endpoints", next)
        }
        None => {
            let mut endpoints = json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": labels}});
            if !subsets.is_empty() {
                endpoints["subsets"] = Value::Array(subsets);
            }
            store.create("endpoints", endpoints).is_ok()
        }
    }
}

/// The (ports, endpoints) of every slice the Service should have.
pub fn desired_slices(
    backends: &[Backend],
    zones: &HashMap<String, String>,
) -> Vec<(Vec<ResolvedPort>, Vec<Value>)> {
    let mut groups: BTreeMap<Vec<ResolvedPort>, Vec<Value>> = BTreeMap::new();
    for backend in backends {
        let pod = &backend.pod;
        let ready = backend.ready && !backend.terminating;
        let serving = if backend.terminating {
            objects::is_ready(pod)
        } else {
            backend.ready
        };
        let mut endpoint = json!({
            "addresses": [objects::text(pod, "/status/podIP")],
            "conditions": {"ready": ready, "serving": serving, "terminating": backend.terminating},
            "targetRef": target_ref(pod),
        });
        let node = objects::node_name(pod);
        if !node.is_empty() {
            endpoint["nodeName"] = json!(node);
            if let Some(zone) = zones.get(node) {
                endpoint["zone"] = json!(zone);
            }
        }
        let mut ports = backend.ports.clone();
        ports.sort();
        groups.entry(ports).or_default().push(endpoint);
    }
    let mut slices: Vec<(Vec<ResolvedPort>, Vec<Value>)> = Vec::new();
    for (ports, endpoints) in groups {
        for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
            slices.push((ports.clone(), chunk.to_vec()));
        }
    }
    if slices.is_empty() {
        slices.push((Vec::new(), Vec::new()));
    }
    slices
}

fn slice_content(slice: &Value) -> (Value, Value) {
    (
        slice.get("ports").cloned().unwrap_or(Value::Null),
        slice.get("endpoints").cloned().unwrap_or(json!([])),
    )
}

fn sync_slices(
    store: &Store,
    service: &Value,
    backends: &[Backend],
    zones: &HashMap<String, String>,
) -> bool {
    let namespace = meta(service, "namespace");
    let name = meta(service, "name");
    let mut existing: Vec<Value> = store
        .list_shared("endpointslices", Some(namespace))
        .0
        .iter()
        .filter(|s| {
            s.pointer("/metadata/labels")
                .and_then(|l| l.get(SERVICE_NAME))
                .and_then(Value::as_str)
                == Some(name)
        })
        .filter(|s| {
            s.pointer("/metadata/labels")
                .and_then(|l| l.get("endpointslice.kubernetes.io/managed-by"))
                .and_then(Value::as_str)
                == Some(MANAGED_BY)
        })
        .map(|s| (**s).clone())
        .collect();
    existing.sort_by(|a, b| meta(a, "name").cmp(meta(b, "name")));
    let desired: Vec<(Value, Value)> = desired_slices(backends, zones)
        .into_iter()
        .map(|(ports, endpoints)| {
            let ports = if ports.is_empty() {
                Value::Null
            } else {
                Value::Array(ports.iter().map(ResolvedPort::to_json).collect())
            };
            (ports, Value::Array(endpoints))
        })
        .collect();
    let mut labels = service_labels(service);
    labels.insert(SERVICE_NAME.into(), json!(name));
    labels.insert(
        "endpointslice.kubernetes.io/managed-by".into(),
        json!(MANAGED_BY),
    );
    let labels = Value::Object(labels);
    let current: Vec<(Value, Value)> = existing.iter().map(slice_content).collect();
    let labels_current = existing
        .iter()
        .all(|s| s.pointer("/metadata/labels") == Some(&labels));
    if current == desired && labels_current {
        return false;
    }
    let mut changed = false;
    let surplus = existing.len().saturating_sub(desired.len());
    for (index, (ports, endpoints)) in desired.into_iter().enumerate() {
        let mut slice = match existing.get(index) {
            Some(slice) => slice.clone(),
            None => {
                let seed = format!("{namespace}/{name}/{index}");
                let slice_name = names::generate(&format!("{name}-"), &seed, |candidate| {
                    store
                        .get("endpointslices", Some(namespace), candidate)
                        .is_some()
                });
                json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": slice_name, "generateName": format!("{name}-"), "namespace": namespace,
                        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                            "uid": meta(service, "uid"), "controller": true, "blockOwnerDeletion": true}]},
                    "addressType": "IPv4"})
            }
        };
        slice["metadata"]["labels"] = labels.clone();
        slice["endpoints"] = endpoints;
        match ports {
            Value::Null => {
                slice.as_object_mut().map(|s| s.remove("ports"));
            }
            ports => slice["ports"] = ports,
        }
        let written = if existing.get(index).is_some() {
            if existing[index] == slice {
                continue;
            } else {
                objects::update(store, "endpointslices", slice)
            }
        } else {
            store.create("endpointslices", slice).is_ok()
        };
        changed |= written;
    }
    for slice in existing.iter().rev().take(surplus) {
        changed |= store
            .delete(
                "endpointslices",
                Some(namespace),
                meta(slice, "name"),
                &DeleteOptions::default(),
            )
            .is_ok();
    }
    changed
}

/// Deletes the Endpoints of Services that no longer exist (the slices go with their owner).
fn remove_orphans(store: &Store, services: &[Arc<Value>]) -> bool {
    let mut changed = false;
    for endpoints in store.list_shared("endpoints", None).0 {
        let (namespace, name) = (meta(&endpoints, "namespace"), meta(&endpoints, "name"));
        let has_service = services
            .iter()
            .any(|s| meta(s, "namespace") == namespace && meta(s, "name") == name);
        let api_server = namespace == "default" && name == "kubernetes";
        if !has_service && !api_server {
            changed |= store
                .delete(
                    "endpoints",
                    Some(namespace),
                    name,
                    &DeleteOptions::default(),
                )
                .is_ok();
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ip: &str, ready: bool, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"), "labels": labels},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": ip,
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
    }

    fn service(ports: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "payment", "namespace": "shop", "uid": "svc-uid", "labels": {"app": "payment"}},
            "spec": {"selector": {"app": "payment"}, "clusterIP": "10.96.0.20", "ports": ports}})
    }

    #[test]
    fn target_ports_resolve_by_name_or_number() {
        let p = pod("a", "10.244.1.2", true, json!({}));
        let named = json!({"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"});
        assert_eq!(resolve_port(&p, &named).unwrap().port, 8080);
        let missing = json!({"name": "web", "port": 80, "targetPort": "https", "protocol": "TCP"});
        assert!(resolve_port(&p, &missing).is_none());
        let number = json!({"port": 80, "targetPort": 9999});
        assert_eq!(
            resolve_port(&p, &number).unwrap().port,
            9999,
            "an undeclared number is used as is"
        );
        assert_eq!(resolve_port(&p, &json!({"port": 80})).unwrap().port, 80);
    }

    #[test]
    fn ready_and_not_ready_addresses_are_separated() {
        let pods: Vec<Arc<Value>> = vec![
            Arc::new(pod("a", "10.244.1.3", true, json!({"app": "payment"}))),
            Arc::new(pod("b", "10.244.1.2", false, json!({"app": "payment"}))),
            Arc::new(pod("typo", "10.244.1.4", true, json!({"app": "paymnet"}))),
        ];
        let svc =
            service(json!([{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]));
        let subsets = subsets(&svc, &backends(&svc, &pods));
        assert_eq!(subsets.len(), 1);
        assert_eq!(subsets[0]["addresses"][0]["ip"], "10.244.1.3");
        assert_eq!(subsets[0]["addresses"][0]["targetRef"]["name"], "a");
        assert_eq!(subsets[0]["notReadyAddresses"][0]["ip"], "10.244.1.2");
        assert_eq!(
            subsets[0]["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
    }

    #[test]
    fn a_missing_named_target_port_leaves_no_endpoints() {
        let pods = vec![Arc::new(pod(
            "a",
            "10.244.1.3",
            true,
            json!({"app": "payment"}),
        ))];
        let svc = service(
            json!([{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]),
        );
        assert!(subsets(&svc, &backends(&svc, &pods)).is_empty());
    }

    #[test]
    fn the_controllers_write_endpoints_and_slices() {
        let store = Store::new();
        let svc = store
            .create(
                "services",
                service(
                    json!([{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]),
                ),
            )
            .unwrap();
        for (name, ip, ready) in [("a", "10.244.1.2", true), ("b", "10.244.1.3", false)] {
            let mut p = pod(name, ip, ready, json!({"app": "payment"}));
            p["metadata"].as_object_mut().unwrap().remove("uid");
            store.create("pods", p).unwrap();
        }
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert!(reconcile(&store, &Rules::default(), now));
        let endpoints = store.get("endpoints", Some("shop"), "payment").unwrap();
        assert_eq!(
            endpoints["subsets"][0]["addresses"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let slices = store.list("endpointslices", Some("shop"));
        assert_eq!(slices.len(), 1);
        let slice = &slices[0];
        assert!(meta(slice, "name").starts_with("payment-"));
        assert_eq!(slice["metadata"]["labels"][SERVICE_NAME], "payment");
        assert_eq!(
            slice["metadata"]["ownerReferences"][0]["uid"],
            meta(&svc, "uid")
        );
        assert_eq!(
            slice["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
        assert_eq!(
            slice["endpoints"][1]["conditions"],
            json!({"ready": false, "serving": false, "terminating": false})
        );
        assert!(
            !reconcile(&store, &Rules::default(), now),
            "a settled pass changes nothing"
        );

        store
            .delete(
                "services",
                Some("shop"),
                "payment",
                &DeleteOptions::default(),
            )
            .unwrap();
        reconcile(&store, &Rules::default(), now);
        assert!(store.get("endpoints", Some("shop"), "payment").is_none());
    }

    #[test]
    fn services_without_selectors_keep_user_endpoints() {
        let store = Store::new();
        store.create("services", json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"ports": [{"port": 5432}]}})).unwrap();
        let manual = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db", "namespace": "shop"},
            "subsets": [{"addresses": [{"ip": "192.168.10.5"}], "ports": [{"port": 5432}]}]});
        store.create("endpoints", manual).unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert!(!reconcile(&store, &Rules::default(), now));
        assert_eq!(
            store.get("endpoints", Some("shop"), "db").unwrap()["subsets"][0]["addresses"][0]["ip"],
            "192.168.10.5"
        );
    }

    #[test]
    fn empty_services_get_a_placeholder_slice() {
        let slices = desired_slices(&[], &HashMap::new());
        assert_eq!(slices, vec![(Vec::new(), Vec::new())]);
    }
}
