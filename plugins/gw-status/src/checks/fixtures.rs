//! Objects for the checks' unit tests, built from JSON as the API would return them.

use serde_json::{Value, json};

use crate::fetch::{Availability, Fetched};
use crate::objects::GatewayApiObjects;

/// The fixed "now" of every fixture.
pub const NOW: &str = "2026-11-05T10:00:00Z";
/// Ten minutes before [`NOW`].
pub const EARLIER: &str = "2026-11-05T09:50:00Z";

/// A snapshot under construction.
#[derive(Default)]
pub struct World {
    pub f: Fetched,
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture must deserialize")
}

impl World {
    pub fn new() -> World {
        let mut w = World::default();
        w.f.now = NOW.parse().unwrap();
        w.f.pod_metrics = Availability::Served(Vec::new());
        w.f.node_metrics = Availability::Served(Vec::new());
        w
    }

    /// A Deployment `name` in `ns` with one ReplicaSet (`name-abc`, revision 1), `replicas`
    /// desired of which `ready` are ready, and that many Running pods on `node-1`.
    pub fn component(mut self, ns: &str, name: &str, replicas: i32, ready: i32) -> World {
        self.f
            .deployments
            .push(from(deployment(ns, name, replicas, ready)));
        self.f.replicasets.push(from(replicaset(ns, name)));
        for i in 0..replicas {
            self.f
                .pods
                .push(from(pod(ns, name, i, "node-1", i < ready)));
        }
        self.f.nodes.push(from(node("node-1")));
        self.f
            .nodes
            .dedup_by(|a, b| a.metadata.name == b.metadata.name);
        self
    }

    pub fn pod(mut self, v: Value) -> World {
        self.f.pods.push(from(v));
        self
    }

    pub fn node(mut self, v: Value) -> World {
        self.f
            .nodes
            .retain(|n| n.metadata.name.as_deref() != v["metadata"]["name"].as_str());
        self.f.nodes.push(from(v));
        self
    }

    pub fn service(mut self, v: Value) -> World {
        self.f.services.push(from(v));
        self
    }

    pub fn slice(mut self, v: Value) -> World {
        self.f.endpoint_slices.push(from(v));
        self
    }

    pub fn event(mut self, v: Value) -> World {
        self.f.events.push(from(v));
        self
    }

    pub fn pdb(mut self, v: Value) -> World {
        self.f.pdbs.push(from(v));
        self
    }

    /// Edits the first pod named `name` through its JSON form.
    pub fn edit_pod(mut self, name: &str, edit: impl FnOnce(&mut Value)) -> World {
        let i = self
            .f
            .pods
            .iter()
            .position(|p| p.metadata.name.as_deref() == Some(name))
            .expect("pod exists");
        let mut v = serde_json::to_value(&self.f.pods[i]).unwrap();
        edit(&mut v);
        self.f.pods[i] = from(v);
        self
    }

    /// Edits the Deployment `name` through its JSON form.
    pub fn edit_deployment(mut self, name: &str, edit: impl FnOnce(&mut Value)) -> World {
        let i = self
            .f
            .deployments
            .iter()
            .position(|d| d.metadata.name.as_deref() == Some(name))
            .expect("deployment exists");
        let mut v = serde_json::to_value(&self.f.deployments[i]).unwrap();
        edit(&mut v);
        self.f.deployments[i] = from(v);
        self
    }
}

pub fn deployment(ns: &str, name: &str, replicas: i32, ready: i32) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "generation": 1,
                     "creationTimestamp": EARLIER},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "proxy", "image": "proxy:1",
                    "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                  "limits": {"cpu": "500m", "memory": "512Mi"}}
                }]}
            }
        },
        "status": {
            "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": ready, "availableReplicas": ready,
            "conditions": [
                {"type": "Available", "status": if ready > 0 { "True" } else { "False" },
                 "reason": if ready > 0 { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
            ]
        }
    })
}

pub fn replicaset(ns: &str, deploy: &str) -> Value {
    json!({
        "metadata": {"name": format!("{deploy}-abc"), "namespace": ns,
                     "annotations": {"deployment.kubernetes.io/revision": "1"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy,
                                          "uid": format!("uid-{deploy}"), "controller": true}]},
        "spec": {"selector": {"matchLabels": {"app": deploy}}}
    })
}

pub fn pod(ns: &str, deploy: &str, i: i32, node: &str, ready: bool) -> Value {
    let r = if ready { "True" } else { "False" };
    json!({
        "metadata": {"name": format!("{deploy}-abc-{i}"), "namespace": ns, "uid": format!("uid-{deploy}-{i}"),
                     "labels": {"app": deploy, "pod-template-hash": "abc"},
                     "creationTimestamp": EARLIER,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{deploy}-abc"),
                                          "uid": "rs-uid", "controller": true}]},
        "spec": {"nodeName": node, "containers": [{
            "name": "proxy", "image": "proxy:1",
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                          "limits": {"cpu": "500m", "memory": "512Mi"}}
        }]},
        "status": {
            "phase": "Running",
            "podIP": format!("10.0.0.{}", i + 10),
            "conditions": [{"type": "Ready", "status": r}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "proxy", "ready": ready, "restartCount": 0, "image": "proxy:1",
                                   "imageID": "", "state": {"running": {"startedAt": EARLIER}}}]
        }
    })
}

pub fn node(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                {"type": "MemoryPressure", "status": "False"},
                {"type": "DiskPressure", "status": "False"},
                {"type": "PIDPressure", "status": "False"}
            ]
        }
    })
}

pub fn warning_event(
    ns: &str,
    kind: &str,
    name: &str,
    reason: &str,
    message: &str,
    count: i32,
) -> Value {
    json!({
        "metadata": {"name": format!("{name}.{reason}"), "namespace": ns},
        "involvedObject": {"kind": kind, "namespace": ns, "name": name},
        "type": "Warning", "reason": reason, "message": message, "count": count,
        "firstTimestamp": EARLIER, "lastTimestamp": NOW,
        "source": {"component": "kubelet"}
    })
}

pub fn service(ns: &str, name: &str, app: &str, ports: &[i32]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|p| json!({"name": format!("p{p}"), "port": p, "protocol": "TCP"}))
        .collect();
    json!({
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.5.249", "selector": {"app": app}, "ports": ports}
    })
}

pub fn slice(ns: &str, service: &str, ready: &[bool]) -> Value {
    let endpoints: Vec<Value> = ready
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"addresses": [format!("10.0.0.{}", i + 10)], "conditions": {"ready": r}}))
        .collect();
    json!({
        "metadata": {"name": format!("{service}-xyz"), "namespace": ns,
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": endpoints
    })
}

/// Runbook 001: istiod and the ingress gateway on node-1, istiod's Service with one endpoint
/// (`ready` or not), a validating webhook failing open and a mutating one failing closed.
pub fn istio_world(ready: bool) -> World {
    let mut w = World::new()
        .component("istio-system", "istiod", 1, 1)
        .component("istio-system", "istio-ingressgateway", 1, 1)
        .service(service("istio-system", "istiod", "istiod", &[15012, 443]))
        .slice(slice("istio-system", "istiod", &[ready]));
    w.f.validating_webhooks = Availability::Served(vec![serde_json::from_value(json!({
        "metadata": {"name": "istiod-istio-system"},
        "webhooks": [{"name": "validation.istio.io", "failurePolicy": "Ignore",
            "clientConfig": {"service": {"namespace": "istio-system", "name": "istiod", "path": "/validate"}},
            "sideEffects": "None", "admissionReviewVersions": ["v1"]}]
    }))
    .unwrap()]);
    w.f.mutating_webhooks = Availability::Served(vec![serde_json::from_value(json!({
        "metadata": {"name": "istio-sidecar-injector"},
        "webhooks": [{"name": "sidecar-injector.istio.io", "failurePolicy": "Fail",
            "clientConfig": {"service": {"namespace": "istio-system", "name": "istiod", "path": "/inject"}},
            "sideEffects": "None", "admissionReviewVersions": ["v1"]}]
    }))
    .unwrap()]);
    w
}

/// Runbook 002: the Nantian control plane, GatewayClass `nantian-gw`, Gateway `public` with
/// a broken https listener, and three HTTPRoutes (backend missing, parent not accepted,
/// another gateway's).
pub fn nantian_world(class_accepted: &str, gateway_programmed: &str) -> World {
    let mut w = World::new()
        .component("nantian-gw", "nantian-gw-controlplane", 1, 1)
        .service(service("apps", "web", "web", &[8080]))
        .slice(slice("apps", "web", &[true]));
    w.f.gateway_api = Availability::Served(GatewayApiObjects {
        classes: vec![serde_json::from_value(json!({
            "metadata": {"name": "nantian-gw"},
            "spec": {"controllerName": "gateway.networking.k8s.io/nantian-gw"},
            "status": {"conditions": [{"type": "Accepted", "status": class_accepted, "reason": "Accepted"}]}
        }))
        .unwrap()],
        gateways: vec![serde_json::from_value(json!({
            "metadata": {"name": "public", "namespace": "nantian-gw"},
            "spec": {"gatewayClassName": "nantian-gw", "listeners": [
                {"name": "http", "port": 80, "protocol": "HTTP"},
                {"name": "https", "port": 443, "protocol": "HTTPS"}
            ]},
            "status": {
                "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted"},
                    {"type": "Programmed", "status": gateway_programmed, "reason": "Invalid", "message": "listener https invalid"}
                ],
                "listeners": [
                    {"name": "http", "attachedRoutes": 1, "conditions": [
                        {"type": "Programmed", "status": "True", "reason": "Programmed"},
                        {"type": "Accepted", "status": "True", "reason": "Accepted"}]},
                    {"name": "https", "attachedRoutes": 0, "conditions": [
                        {"type": "Accepted", "status": "True", "reason": "Accepted"},
                        {"type": "ResolvedRefs", "status": "False", "reason": "InvalidCertificateRef",
                         "message": "secret nantian-gw/tls not found"}]}
                ]
            }
        }))
        .unwrap()],
        routes: vec![
            serde_json::from_value(json!({
                "metadata": {"name": "shop", "namespace": "apps"},
                "spec": {"parentRefs": [{"name": "public", "namespace": "nantian-gw"}],
                         "rules": [{"backendRefs": [{"name": "web", "port": 8080}, {"name": "cart", "port": 80}]}]},
                "status": {"parents": [{"parentRef": {"name": "public", "namespace": "nantian-gw"},
                    "controllerName": "gateway.networking.k8s.io/nantian-gw",
                    "conditions": [
                        {"type": "ResolvedRefs", "status": "False", "reason": "BackendNotFound", "message": "service apps/cart not found"},
                        {"type": "Accepted", "status": "True", "reason": "Accepted"}]}]}
            }))
            .unwrap(),
            serde_json::from_value(json!({
                "metadata": {"name": "admin", "namespace": "apps"},
                "spec": {"parentRefs": [{"name": "public", "namespace": "nantian-gw", "sectionName": "admin"}],
                         "rules": [{"backendRefs": [{"name": "web", "port": 8080}]}]},
                "status": {"parents": [{"parentRef": {"name": "public", "namespace": "nantian-gw", "sectionName": "admin"},
                    "controllerName": "gateway.networking.k8s.io/nantian-gw",
                    "conditions": [{"type": "Accepted", "status": "False", "reason": "NoMatchingParent",
                                    "message": "no listener named admin"}]}]}
            }))
            .unwrap(),
            serde_json::from_value(json!({
                "metadata": {"name": "elsewhere", "namespace": "apps"},
                "spec": {"parentRefs": [{"name": "other", "namespace": "x"}],
                         "rules": [{"backendRefs": [{"name": "nope", "port": 1}]}]}
            }))
            .unwrap(),
        ],
    });
    w
}
