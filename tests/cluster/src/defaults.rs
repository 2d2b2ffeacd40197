//! Defaulting as the real API server applies it on every write (the fields kubectl and
//! controllers read back): workload replicas and strategies, pod spec and container defaults
//! (requests default to limits), Service type, ports, cluster IP and node ports, namespace phase.

use serde_json::{Map, Value, json};

use crate::quantity::Quantity;
use crate::resources::ResourceType;

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn object_at<'a>(obj: &'a mut Value, pointer: &str) -> Option<&'a mut Map<String, Value>> {
    obj.pointer_mut(pointer).and_then(Value::as_object_mut)
}

/// Fills in the defaults of `obj`, an object of `resource`. Idempotent.
pub fn apply(resource: &ResourceType, obj: &mut Value) {
    match resource.kind {
        "Pod" => {
            if let Some(spec) = object_at(obj, "/spec") {
                pod_spec(spec);
            }
        }
        "Deployment" => {
            if let Some(spec) = object_at(obj, "/spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(spec, "strategy", json!({"type": "RollingUpdate"}));
                if let Some(strategy) = spec.get_mut("strategy").and_then(Value::as_object_mut)
                    && strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate")
                {
                    set_default(strategy, "rollingUpdate", json!({}));
                    if let Some(rolling) = strategy
                        .get_mut("rollingUpdate")
                        .and_then(Value::as_object_mut)
                    {
                        set_default(rolling, "maxUnavailable", json!("25%"));
                        set_default(rolling, "maxSurge", json!("25%"));
                    }
                }
            }
            template(obj);
        }
        "ReplicaSet" => {
            if let Some(spec) = object_at(obj, "/spec") {
                set_default(spec, "replicas", json!(1));
            }
            template(obj);
        }
        "StatefulSet" => {
            if let Some(spec) = object_at(obj, "/spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                );
            }
            template(obj);
        }
        "DaemonSet" => {
            if let Some(spec) = object_at(obj, "/spec") {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                );
            }
            template(obj);
        }
        "Job" => template(obj),
        "Service" => {
            if let Some(spec) = object_at(obj, "/spec") {
                service_spec(spec);
            }
        }
        "Namespace" => {
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(map) = obj.as_object_mut() {
                set_default(map, "spec", json!({"finalizers": ["kubernetes"]}));
                set_default(map, "status", json!({"phase": "Active"}));
            }
            if let Some(meta) = object_at(obj, "/metadata") {
                set_default(meta, "labels", json!({}));
                if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
                    labels.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
            }
        }
        _ => {}
    }
}

fn template(obj: &mut Value) {
    if let Some(spec) = object_at(obj, "/spec/template/spec") {
        pod_spec(spec);
    }
}

fn pod_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            container_defaults(container);
        }
    }
}

fn container_defaults(container: &mut Map<String, Value>) {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    let last = image.rsplit('/').next().unwrap_or("");
    let pull = if image.contains('@') || (last.contains(':') && !last.ends_with(":latest")) {
        "IfNotPresent"
    } else {
        "Always"
    };
    set_default(container, "imagePullPolicy", json!(pull));
    set_default(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    set_default(container, "terminationMessagePolicy", json!("File"));
    set_default(container, "resources", json!({}));
    if let Some(ports) = container.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
        }
    }
    if let Some(resources) = container
        .get_mut("resources")
        .and_then(Value::as_object_mut)
    {
        let limits = resources
            .get("limits")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if !limits.is_empty() {
            set_default(resources, "requests", json!({}));
            if let Some(requests) = resources.get_mut("requests").and_then(Value::as_object_mut) {
                for (name, limit) in limits {
                    requests.entry(name).or_insert(limit);
                }
            }
        }
    }
}

fn service_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "type", json!("ClusterIP"));
    set_default(spec, "sessionAffinity", json!("None"));
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if service_type != "ExternalName" {
        set_default(spec, "clusterIP", json!(random_cluster_ip()));
        let ip = spec.get("clusterIP").cloned().unwrap_or(Value::Null);
        set_default(spec, "clusterIPs", json!([ip]));
        set_default(spec, "ipFamilies", json!(["IPv4"]));
        set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    let node_ports = matches!(service_type.as_str(), "NodePort" | "LoadBalancer");
    if node_ports {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
            let number = port.get("port").cloned().unwrap_or(Value::Null);
            set_default(port, "targetPort", number);
            if node_ports {
                set_default(port, "nodePort", json!(rand::random_range(30000..=32767)));
            }
        }
    }
}

fn random_cluster_ip() -> String {
    format!(
        "10.96.{}.{}",
        rand::random_range(0..=255u8),
        rand::random_range(1..=254u8)
    )
}

/// The QoS class of a pod spec: `Guaranteed`, `Burstable` or `BestEffort`.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|list| spec.get(*list).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any_set = false;
    let mut guaranteed = true;
    for container in containers {
        let requests = container
            .pointer("/resources/requests")
            .and_then(Value::as_object);
        let limits = container
            .pointer("/resources/limits")
            .and_then(Value::as_object);
        let quantity = |map: Option<&Map<String, Value>>, name: &str| {
            map.and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .and_then(|s| Quantity::parse(s).ok())
        };
        for name in ["cpu", "memory"] {
            let request = quantity(requests, name);
            let limit = quantity(limits, name);
            if request.is_some_and(|q| q.nanos() != 0) || limit.is_some_and(|q| q.nanos() != 0) {
                any_set = true;
            }
            if limit.is_none() || request.is_some_and(|r| Some(r) != limit) {
                guaranteed = false;
            }
        }
    }
    match (any_set, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources;

    #[test]
    fn deployment_defaults() {
        let rt = resources::by_plural("deployments").unwrap();
        let mut obj = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "nginx:1.25", "resources": {"limits": {"memory": "1Gi"}}}]}}}});
        apply(rt, &mut obj);
        assert_eq!(obj["spec"]["replicas"], 1);
        assert_eq!(obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let container = &obj["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(
            container["resources"]["requests"]["memory"], "1Gi",
            "requests default to limits"
        );
        assert_eq!(
            obj["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
            30
        );
        let once = obj.clone();
        apply(rt, &mut obj);
        assert_eq!(obj, once);
    }

    #[test]
    fn service_defaults() {
        let rt = resources::by_plural("services").unwrap();
        let mut obj = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}});
        apply(rt, &mut obj);
        let port = &obj["spec"]["ports"][0];
        assert_eq!(
            (port["protocol"].as_str(), port["targetPort"].as_i64()),
            (Some("TCP"), Some(80))
        );
        assert!(
            port["nodePort"]
                .as_i64()
                .is_some_and(|p| (30000..=32767).contains(&p))
        );
        assert!(
            obj["spec"]["clusterIP"]
                .as_str()
                .is_some_and(|ip| ip.starts_with("10.96."))
        );
        let mut headless = json!({"spec": {"clusterIP": "None"}});
        apply(rt, &mut headless);
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    }

    #[test]
    fn qos_classes() {
        let spec =
            |resources: Value| json!({"containers": [{"name": "c", "resources": resources}]});
        assert_eq!(qos_class(&spec(json!({}))), "BestEffort");
        assert_eq!(
            qos_class(&spec(
                json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
            )),
            "Guaranteed"
        );
        assert_eq!(
            qos_class(&spec(json!({"requests": {"cpu": "1"}}))),
            "Burstable"
        );
    }
}
