//! Deterministic large clusters for benchmarks: nodes, namespaces of 500 Services each, one
//! Deployment + ReplicaSet per Service, the pods (Running, statuses included), and the
//! Endpoints and EndpointSlices the controllers would write, so the cluster can be served
//! without controllers.
//!
//! As a scenario: `large:<services>:<pods>` (one node per 100 pods, at least 3) or
//! `large:<nodes>:<services>:<pods>`, e.g. `test-cluster serve --scenario large:5000:50000`.
//! One pod in 50 is not ready and one Service in 97 selects no pod, so checks have something
//! to find. The objects carry no placeholders or timestamps, so any loader can create them;
//! owner references name their owners without uids (the scenario loader fills them in).

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::controllers::pod_template_hash;
use crate::scenarios::Scenario;

/// Services per generated namespace.
const SERVICES_PER_NAMESPACE: usize = 500;

/// The `large:` scenario for `sizes` (`services:pods` or `nodes:services:pods`).
pub fn scenario(sizes: &str) -> anyhow::Result<Scenario> {
    let numbers: Vec<usize> = sizes
        .split(':')
        .map(|n| {
            n.parse::<usize>()
                .with_context(|| format!("large:{sizes}: {n:?} is not a number"))
        })
        .collect::<anyhow::Result<_>>()?;
    let (nodes, services, pods) = match numbers.as_slice() {
        [services, pods] => ((pods / 100).max(3), *services, *pods),
        [nodes, services, pods] => (*nodes, *services, *pods),
        _ => bail!(
            "large:{sizes}: expected large:<services>:<pods> or large:<nodes>:<services>:<pods>"
        ),
    };
    if nodes == 0 || services == 0 {
        bail!("large:{sizes}: a large cluster needs at least one node and one service");
    }
    Ok(Scenario {
        name: format!("large:{sizes}"),
        description: format!("{nodes} nodes, {services} services, {pods} pods (generated)"),
        runbooks: Vec::new(),
        rules: Default::default(),
        logs: Vec::new(),
        objects: large_cluster(nodes, services, pods),
    })
}

/// The objects of a generated cluster (deterministic: the same sizes give the same objects).
pub fn large_cluster(nodes: usize, services: usize, pods: usize) -> Vec<Value> {
    let mut objects =
        Vec::with_capacity(nodes + 4 * services + pods + services / SERVICES_PER_NAMESPACE + 1);
    let namespaces = services.div_ceil(SERVICES_PER_NAMESPACE).max(1);
    for n in 0..namespaces {
        objects.push(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace(n)}}),
        );
    }
    for n in 0..nodes {
        objects.push(node(n));
    }
    let mut pod_index = 0;
    for s in 0..services {
        let count = pods / services + usize::from(s < pods % services);
        let workload = Workload::new(s);
        objects.push(workload.deployment(count));
        objects.push(workload.replica_set(count));
        objects.push(workload.service());
        let mut members = Vec::with_capacity(count);
        for p in 0..count {
            let pod = workload.pod(p, pod_index, nodes);
            pod_index += 1;
            members.push(pod.clone());
            objects.push(pod);
        }
        let selected = if workload.selects_nothing() {
            Vec::new()
        } else {
            members
        };
        objects.push(workload.endpoints(&selected));
        objects.push(workload.endpoint_slice(&selected));
    }
    objects
}

fn namespace(n: usize) -> String {
    format!("bench-{n:03}")
}

fn node(n: usize) -> Value {
    let name = format!("node-{n:04}");
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": format!("zone-{}", n % 3)}},
        "spec": {"podCIDR": format!("10.{}.{}.0/24", 64 + n / 256, n % 256)},
        "status": {"capacity": {"cpu": "16", "memory": "65843124Ki", "pods": "250"},
            "allocatable": {"cpu": "15890m", "memory": "63148980Ki", "pods": "250"},
            "addresses": [{"type": "InternalIP", "address": format!("172.16.{}.{}", n / 250, n % 250 + 2)}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
            "nodeInfo": {"kubeletVersion": "v1.32.3", "containerRuntimeVersion": "containerd://1.7.24",
                "osImage": "Ubuntu 24.04.1 LTS", "kernelVersion": "6.8.0-49-generic", "architecture": "amd64", "operatingSystem": "linux"}}})
}

/// One generated application: a Deployment, its ReplicaSet and pods, and its Service.
struct Workload {
    index: usize,
    namespace: String,
    name: String,
    template: Value,
    hash: String,
}

impl Workload {
    fn new(index: usize) -> Workload {
        let name = format!("app-{index:05}");
        let template = json!({"metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": format!("registry.example.com/bench/app:{}", index % 7),
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}}]}});
        let hash = pod_template_hash(&template, 0);
        Workload {
            index,
            namespace: namespace(index / SERVICES_PER_NAMESPACE),
            name,
            template,
            hash,
        }
    }

    fn selects_nothing(&self) -> bool {
        self.index % 97 == 96
    }

    fn rs_name(&self) -> String {
        format!("{}-{}", self.name, self.hash)
    }

    fn deployment(&self, replicas: usize) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": self.name, "namespace": self.namespace, "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": self.name}}, "template": self.template},
            "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas}})
    }

    fn replica_set(&self, replicas: usize) -> Value {
        let mut template = self.template.clone();
        template["metadata"]["labels"]["pod-template-hash"] = json!(self.hash);
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": self.rs_name(), "namespace": self.namespace,
                "labels": {"app": self.name, "pod-template-hash": self.hash},
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name, "controller": true}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": self.name, "pod-template-hash": self.hash}}, "template": template},
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "observedGeneration": 1}})
    }

    fn service(&self) -> Value {
        let selector = if self.selects_nothing() {
            format!("{}-old", self.name)
        } else {
            self.name.clone()
        };
        let ip = format!("10.96.{}.{}", 1 + self.index / 250, 2 + self.index % 250);
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": {"app": self.name}},
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "selector": {"app": selector},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}})
    }

    fn pod(&self, ordinal: usize, global: usize, nodes: usize) -> Value {
        let node = global % nodes;
        let ip = format!(
            "10.{}.{}.{}",
            64 + node / 256,
            node % 256,
            2 + (global / nodes) % 250
        );
        let ready = global % 50 != 49;
        let name = format!(
            "{}-{}-{}",
            self.name,
            self.hash,
            crate::controllers::suffix(&format!("{}/{ordinal}", self.rs_name()))
        );
        let ready_status = if ready { "True" } else { "False" };
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": self.namespace, "labels": {"app": self.name, "pod-template-hash": self.hash},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": self.rs_name(), "controller": true}]},
            "spec": {"nodeName": format!("node-{node:04}"), "containers": self.template["spec"]["containers"]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "qosClass": "Burstable",
                "conditions": [{"type": "Ready", "status": ready_status, "lastTransitionTime": null},
                    {"type": "ContainersReady", "status": ready_status, "lastTransitionTime": null},
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": null}],
                "containerStatuses": [{"name": "app", "image": self.template["spec"]["containers"][0]["image"], "ready": ready,
                    "started": true, "restartCount": 0, "state": {"running": {}}}]}})
    }

    fn endpoints(&self, pods: &[Value]) -> Value {
        let address = |p: &Value| {
            json!({"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
            "targetRef": {"kind": "Pod", "namespace": self.namespace, "name": p["metadata"]["name"]}})
        };
        let ready: Vec<Value> = pods
            .iter()
            .filter(|p| p["status"]["conditions"][0]["status"] == "True")
            .map(address)
            .collect();
        let not_ready: Vec<Value> = pods
            .iter()
            .filter(|p| p["status"]["conditions"][0]["status"] != "True")
            .map(address)
            .collect();
        let mut endpoints = json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": {"app": self.name}}});
        if !pods.is_empty() {
            let mut subset = json!({"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]});
            if !ready.is_empty() {
                subset["addresses"] = Value::Array(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = Value::Array(not_ready);
            }
            endpoints["subsets"] = json!([subset]);
        }
        endpoints
    }

    fn endpoint_slice(&self, pods: &[Value]) -> Value {
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|p| {
                let ready = p["status"]["conditions"][0]["status"] == "True";
                json!({"addresses": [p["status"]["podIP"]], "nodeName": p["spec"]["nodeName"],
                    "conditions": {"ready": ready, "serving": ready, "terminating": false},
                    "targetRef": {"kind": "Pod", "namespace": self.namespace, "name": p["metadata"]["name"]}})
            })
            .collect();
        let mut slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": format!("{}-{}", self.name, crate::controllers::suffix(&self.name)), "namespace": self.namespace,
                "labels": {"app": self.name, "kubernetes.io/service-name": self.name,
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": self.name, "controller": true}]},
            "addressType": "IPv4", "endpoints": endpoints});
        if !pods.is_empty() {
            slice["ports"] = json!([{"name": "http", "port": 8080, "protocol": "TCP"}]);
        }
        slice
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_determinism() {
        let objects = large_cluster(4, 10, 95);
        let count = |kind: &str| objects.iter().filter(|o| o["kind"] == kind).count();
        assert_eq!(count("Node"), 4);
        assert_eq!(count("Service"), 10);
        assert_eq!(count("Pod"), 95);
        assert_eq!(count("EndpointSlice"), 10);
        assert_eq!(count("Endpoints"), 10);
        assert_eq!(objects, large_cluster(4, 10, 95));
        let names: std::collections::BTreeSet<&str> = objects
            .iter()
            .filter(|o| o["kind"] == "Pod")
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 95, "pod names are unique");
    }

    #[test]
    fn the_plain_loader_accepts_the_objects() {
        let objects = large_cluster(3, 4, 10);
        assert!(!serde_json::to_string(&objects).unwrap().contains("{now"));
        let store = crate::store::Store::new();
        crate::load(&store, objects).unwrap();
        assert_eq!(store.list("pods", None).len(), 10);
    }

    #[test]
    fn scenario_names_parse() {
        assert_eq!(
            scenario("5000:50000").unwrap().description,
            "500 nodes, 5000 services, 50000 pods (generated)"
        );
        assert!(scenario("3:10:20").is_ok());
        assert!(scenario("x:1").is_err());
        assert!(scenario("1").is_err());
    }
}
