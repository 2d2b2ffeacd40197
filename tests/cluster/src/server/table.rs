//! Server-side printing: `meta.k8s.io/v1 Table` responses with the columns and cells of the
//! real API server's printers (`pkg/printers/internalversion`) and of the Gateway API CRDs'
//! printer columns, so `kubectl get` prints what it prints against a real cluster.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::resources::ResourceType;
use crate::selector::labels_of;

use super::response::ListMeta;

/// What each Table row carries in `object` (`includeObject`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The full object.
    Object,
}

struct Column {
    name: &'static str,
    kind: &'static str,
    priority: u8,
}

const fn col(name: &'static str) -> Column {
    Column {
        name,
        kind: "string",
        priority: 0,
    }
}

const fn wide(name: &'static str) -> Column {
    Column {
        name,
        kind: "string",
        priority: 1,
    }
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        kind: "integer",
        priority: 0,
    }
}

/// A Table of `items` (with the list's metadata, if a list) and row objects as metadata.
pub fn render(resource: &ResourceType, items: &[Arc<Value>], meta: Option<&ListMeta>) -> Value {
    render_with(resource, items, meta, IncludeObject::Metadata)
}

/// A Table of `items` with the given row objects.
pub fn render_with(
    resource: &ResourceType,
    items: &[Arc<Value>],
    meta: Option<&ListMeta>,
    include: IncludeObject,
) -> Value {
    let now = jiff::Timestamp::now();
    let (columns, printer) = printer(resource);
    let definitions: Vec<Value> = std::iter::once(&Column { name: "Name", kind: "string", priority: 0 })
        .chain(columns.iter())
        .map(|c| {
            let format = if c.name == "Name" { "name" } else { "" };
            json!({"name": c.name, "type": c.kind, "format": format, "description": c.name, "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let mut cells = vec![json!(obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(""))];
            cells.extend(printer(obj, now));
            let mut row = json!({"cells": cells});
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                           "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))});
                }
                IncludeObject::Object => row["object"] = (**obj).clone(),
            }
            row
        })
        .collect();
    let mut metadata = json!({});
    if let Some(meta) = meta {
        metadata["resourceVersion"] = json!(meta.resource_version.to_string());
        if let Some(token) = &meta.continue_token {
            metadata["continue"] = json!(token);
        }
        if let Some(remaining) = meta.remaining {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
           "columnDefinitions": definitions, "rows": rows})
}

type Printer = fn(&Value, jiff::Timestamp) -> Vec<Value>;

fn printer(resource: &ResourceType) -> (&'static [Column], Printer) {
    match (resource.group, resource.kind) {
        ("", "Pod") => (POD_COLUMNS, pod_cells),
        ("apps", "Deployment") => (DEPLOYMENT_COLUMNS, deployment_cells),
        ("apps", "ReplicaSet") => (REPLICASET_COLUMNS, replicaset_cells),
        ("apps", "StatefulSet") => (STATEFULSET_COLUMNS, statefulset_cells),
        ("apps", "DaemonSet") => (DAEMONSET_COLUMNS, daemonset_cells),
        ("", "Service") => (SERVICE_COLUMNS, service_cells),
        ("", "Node") => (NODE_COLUMNS, node_cells),
        ("", "Namespace") => (NAMESPACE_COLUMNS, namespace_cells),
        ("", "Event") => (EVENT_COLUMNS, event_cells),
        ("", "Endpoints") => (ENDPOINTS_COLUMNS, endpoints_cells),
        ("discovery.k8s.io", "EndpointSlice") => (ENDPOINTSLICE_COLUMNS, endpointslice_cells),
        ("", "ConfigMap") => (CONFIGMAP_COLUMNS, configmap_cells),
        ("", "Secret") => (SECRET_COLUMNS, secret_cells),
        ("", "ServiceAccount") => (SERVICEACCOUNT_COLUMNS, serviceaccount_cells),
        ("policy", "PodDisruptionBudget") => (PDB_COLUMNS, pdb_cells),
        ("autoscaling", "HorizontalPodAutoscaler") => (HPA_COLUMNS, hpa_cells),
        ("", "ResourceQuota") => (QUOTA_COLUMNS, quota_cells),
        ("gateway.networking.k8s.io", "GatewayClass") => (GATEWAYCLASS_COLUMNS, gatewayclass_cells),
        ("gateway.networking.k8s.io", "Gateway") => (GATEWAY_COLUMNS, gateway_cells),
        ("gateway.networking.k8s.io", "HTTPRoute") => (HTTPROUTE_COLUMNS, httproute_cells),
        _ => (DEFAULT_COLUMNS, default_cells),
    }
}

fn text(obj: &Value, pointer: &str) -> String {
    match obj.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn or_none(text: String) -> String {
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    }
}

fn array<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `duration.HumanDuration` of the time since `timestamp` (`<unknown>` when absent).
pub fn age(timestamp: &str, now: jiff::Timestamp) -> String {
    match timestamp.parse::<jiff::Timestamp>() {
        Ok(then) => human_duration(now.as_second() - then.as_second()),
        Err(_) => "<unknown>".to_string(),
    }
}

fn object_age(obj: &Value, now: jiff::Timestamp) -> String {
    age(&text(obj, "/metadata/creationTimestamp"), now)
}

/// kubectl's `duration.HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn format_labels(map: Option<&Value>) -> String {
    let Some(map) = map.and_then(Value::as_object) else {
        return "<none>".to_string();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    or_none(pairs.join(","))
}

/// A `metav1.LabelSelector` as `kubectl` prints it.
fn format_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector else {
        return "<none>".to_string();
    };
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for expression in array(selector, "/matchExpressions") {
        let key = text(expression, "/key");
        let values: Vec<&str> = array(expression, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match text(expression, "/operator").as_str() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key,
            "DoesNotExist" => format!("!{key}"),
            other => format!("{key} {other}"),
        });
    }
    parts.sort();
    or_none(parts.join(","))
}

fn containers_and_images(template_spec: &Value) -> (String, String) {
    let containers = array(template_spec, "/containers");
    let names: Vec<String> = containers.iter().map(|c| text(c, "/name")).collect();
    let images: Vec<String> = containers.iter().map(|c| text(c, "/image")).collect();
    (names.join(","), images.join(","))
}

const POD_COLUMNS: &[Column] = &[
    col("Ready"),
    col("Status"),
    col("Restarts"),
    col("Age"),
    wide("IP"),
    wide("Node"),
    wide("Nominated Node"),
    wide("Readiness Gates"),
];

/// The STATUS column of `kubectl get pods` (`printPod`).
pub fn pod_status(pod: &Value) -> (String, usize, usize, i64, Option<String>) {
    let mut reason = text(pod, "/status/phase");
    let status_reason = text(pod, "/status/reason");
    if !status_reason.is_empty() {
        reason = status_reason.clone();
    }
    let spec_containers = array(pod, "/spec/containers").len();
    let init_specs = array(pod, "/spec/initContainers");
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| text(c, "/name") == name && text(c, "/restartPolicy") == "Always")
    };
    let total = spec_containers
        + init_specs
            .iter()
            .filter(|c| text(c, "/restartPolicy") == "Always")
            .count();
    let mut restarts = 0;
    let mut ready = 0;
    let mut last_restart: Option<String> = None;
    let mut note_restart = |status: &Value| {
        let finished = text(status, "/lastState/terminated/finishedAt");
        if !finished.is_empty()
            && last_restart
                .as_deref()
                .is_none_or(|l| finished.as_str() > l)
        {
            last_restart = Some(finished);
        }
    };
    let mut initializing = false;
    let init_statuses = array(pod, "/status/initContainerStatuses");
    for (i, status) in init_statuses.iter().enumerate() {
        restarts += int_at(status, "/restartCount");
        note_restart(status);
        let terminated = status.pointer("/state/terminated");
        let waiting_reason = text(status, "/state/waiting/reason");
        if terminated.is_some() && int_at(status, "/state/terminated/exitCode") == 0 {
            continue;
        }
        if restartable(&text(status, "/name"))
            && status.get("started").and_then(Value::as_bool) == Some(true)
        {
            if status.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if terminated.is_some() {
            let terminated_reason = text(status, "/state/terminated/reason");
            reason = if !terminated_reason.is_empty() {
                format!("Init:{terminated_reason}")
            } else if int_at(status, "/state/terminated/signal") != 0 {
                format!("Init:Signal:{}", int_at(status, "/state/terminated/signal"))
            } else {
                format!(
                    "Init:ExitCode:{}",
                    int_at(status, "/state/terminated/exitCode")
                )
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = array(pod, "/status/conditions")
        .iter()
        .any(|c| text(c, "/type") == "Initialized" && text(c, "/status") == "True");
    if !initializing || initialized {
        restarts = 0;
        for status in init_statuses {
            if restartable(&text(status, "/name")) {
                restarts += int_at(status, "/restartCount");
            }
        }
        let mut has_running = false;
        for status in array(pod, "/status/containerStatuses").iter().rev() {
            restarts += int_at(status, "/restartCount");
            note_restart(status);
            let waiting = text(status, "/state/waiting/reason");
            let terminated = status.pointer("/state/terminated");
            let terminated_reason = text(status, "/state/terminated/reason");
            if !waiting.is_empty() {
                reason = waiting;
            } else if terminated.is_some() && !terminated_reason.is_empty() {
                reason = terminated_reason;
            } else if terminated.is_some() {
                let signal = int_at(status, "/state/terminated/signal");
                reason = if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{}", int_at(status, "/state/terminated/exitCode"))
                };
            } else if status.get("ready").and_then(Value::as_bool) == Some(true)
                && status.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = array(pod, "/status/conditions")
                .iter()
                .any(|c| text(c, "/type") == "Ready" && text(c, "/status") == "True");
            reason = if pod_ready {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }
    let phase = text(pod, "/status/phase");
    let terminal = phase == "Succeeded" || phase == "Failed";
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        if status_reason == "NodeLost" {
            reason = "Unknown".to_string();
        } else if !terminal {
            reason = "Terminating".to_string();
        }
    }
    (reason, ready, total, restarts, last_restart)
}

fn pod_cells(pod: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let (reason, ready, total, restarts, last_restart) = pod_status(pod);
    let restarts = match last_restart {
        Some(when) if restarts != 0 => format!("{restarts} ({} ago)", age(&when, now)),
        _ => restarts.to_string(),
    };
    let gates = array(pod, "/spec/readinessGates");
    let gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let satisfied = gates
            .iter()
            .filter(|g| {
                let kind = text(g, "/conditionType");
                array(pod, "/status/conditions")
                    .iter()
                    .any(|c| text(c, "/type") == kind && text(c, "/status") == "True")
            })
            .count();
        format!("{satisfied}/{}", gates.len())
    };
    vec![
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts),
        json!(object_age(pod, now)),
        json!(or_none(text(pod, "/status/podIP"))),
        json!(or_none(text(pod, "/spec/nodeName"))),
        json!(or_none(text(pod, "/status/nominatedNodeName"))),
        json!(gates),
    ]
}

const DEPLOYMENT_COLUMNS: &[Column] = &[
    col("Ready"),
    int("Up-to-date"),
    int("Available"),
    col("Age"),
    wide("Containers"),
    wide("Images"),
    wide("Selector"),
];

fn deployment_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let (containers, images) =
        containers_and_images(obj.pointer("/spec/template/spec").unwrap_or(&Value::Null));
    vec![
        json!(format!(
            "{}/{}",
            int_at(obj, "/status/readyReplicas"),
            int_at(obj, "/spec/replicas")
        )),
        json!(int_at(obj, "/status/updatedReplicas")),
        json!(int_at(obj, "/status/availableReplicas")),
        json!(object_age(obj, now)),
        json!(containers),
        json!(images),
        json!(format_selector(obj.pointer("/spec/selector"))),
    ]
}

const REPLICASET_COLUMNS: &[Column] = &[
    int("Desired"),
    int("Current"),
    int("Ready"),
    col("Age"),
    wide("Containers"),
    wide("Images"),
    wide("Selector"),
];

fn replicaset_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let (containers, images) =
        containers_and_images(obj.pointer("/spec/template/spec").unwrap_or(&Value::Null));
    vec![
        json!(int_at(obj, "/spec/replicas")),
        json!(int_at(obj, "/status/replicas")),
        json!(int_at(obj, "/status/readyReplicas")),
        json!(object_age(obj, now)),
        json!(containers),
        json!(images),
        json!(format_selector(obj.pointer("/spec/selector"))),
    ]
}

const STATEFULSET_COLUMNS: &[Column] =
    &[col("Ready"), col("Age"), wide("Containers"), wide("Images")];

fn statefulset_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let (containers, images) =
        containers_and_images(obj.pointer("/spec/template/spec").unwrap_or(&Value::Null));
    vec![
        json!(format!(
            "{}/{}",
            int_at(obj, "/status/readyReplicas"),
            int_at(obj, "/spec/replicas")
        )),
        json!(object_age(obj, now)),
        json!(containers),
        json!(images),
    ]
}

const DAEMONSET_COLUMNS: &[Column] = &[
    int("Desired"),
    int("Current"),
    int("Ready"),
    int("Up-to-date"),
    int("Available"),
    col("Node Selector"),
    col("Age"),
    wide("Containers"),
    wide("Images"),
    wide("Selector"),
];

fn daemonset_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let (containers, images) =
        containers_and_images(obj.pointer("/spec/template/spec").unwrap_or(&Value::Null));
    vec![
        json!(int_at(obj, "/status/desiredNumberScheduled")),
        json!(int_at(obj, "/status/currentNumberScheduled")),
        json!(int_at(obj, "/status/numberReady")),
        json!(int_at(obj, "/status/updatedNumberScheduled")),
        json!(int_at(obj, "/status/numberAvailable")),
        json!(format_labels(
            obj.pointer("/spec/template/spec/nodeSelector")
        )),
        json!(object_age(obj, now)),
        json!(containers),
        json!(images),
        json!(format_selector(obj.pointer("/spec/selector"))),
    ]
}

const SERVICE_COLUMNS: &[Column] = &[
    col("Type"),
    col("Cluster-IP"),
    col("External-IP"),
    col("Port(s)"),
    col("Age"),
    wide("Selector"),
];

fn load_balancer_addresses(obj: &Value) -> String {
    let addresses: Vec<String> = array(obj, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| {
            let ip = text(i, "/ip");
            if ip.is_empty() {
                text(i, "/hostname")
            } else {
                ip
            }
        })
        .filter(|a| !a.is_empty())
        .collect();
    let joined = addresses.join(",");
    if joined.len() > 16 {
        format!("{}...", &joined[..13])
    } else {
        joined
    }
}

/// The EXTERNAL-IP column of `kubectl get svc`.
pub fn service_external_ip(obj: &Value) -> String {
    let external: Vec<String> = array(obj, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    match text(obj, "/spec/type").as_str() {
        "ClusterIP" | "NodePort" | "" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_addresses(obj);
            let mut all = external;
            if !lb.is_empty() {
                all.push(lb);
            }
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => text(obj, "/spec/externalName"),
        _ => "<unknown>".to_string(),
    }
}

fn service_ports(obj: &Value) -> String {
    let ports: Vec<String> = array(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = text(p, "/protocol");
            let protocol = if protocol.is_empty() {
                "TCP".to_string()
            } else {
                protocol
            };
            let node_port = int_at(p, "/nodePort");
            if node_port > 0 {
                format!("{}:{node_port}/{protocol}", int_at(p, "/port"))
            } else {
                format!("{}/{protocol}", int_at(p, "/port"))
            }
        })
        .collect();
    or_none(ports.join(","))
}

fn service_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(text(obj, "/spec/type")),
        json!(or_none(text(obj, "/spec/clusterIP"))),
        json!(service_external_ip(obj)),
        json!(service_ports(obj)),
        json!(object_age(obj, now)),
        json!(format_labels(obj.pointer("/spec/selector"))),
    ]
}

const NODE_COLUMNS: &[Column] = &[
    col("Status"),
    col("Roles"),
    col("Age"),
    col("Version"),
    wide("Internal-IP"),
    wide("External-IP"),
    wide("OS-Image"),
    wide("Kernel-Version"),
    wide("Container-Runtime"),
];

/// The STATUS column of `kubectl get nodes`.
pub fn node_status(node: &Value) -> String {
    let mut status = Vec::new();
    match array(node, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == "Ready")
    {
        Some(c) if text(c, "/status") == "True" => status.push("Ready".to_string()),
        Some(_) => status.push("NotReady".to_string()),
        None => status.push("Unknown".to_string()),
    }
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".to_string());
    }
    status.join(",")
}

fn node_cells(node: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let mut roles: Vec<String> = labels_of(node)
        .into_iter()
        .filter_map(|(k, v)| {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then(|| role.to_string())
            } else if k == "kubernetes.io/role" {
                (!v.is_empty()).then_some(v)
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    let address = |kind: &str| {
        array(node, "/status/addresses")
            .iter()
            .find(|a| text(a, "/type") == kind)
            .map(|a| text(a, "/address"))
    };
    vec![
        json!(node_status(node)),
        json!(or_none(roles.join(","))),
        json!(object_age(node, now)),
        json!(text(node, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP").unwrap_or_else(|| "<none>".to_string())),
        json!(address("ExternalIP").unwrap_or_else(|| "<none>".to_string())),
        json!(or_unknown(text(node, "/status/nodeInfo/osImage"))),
        json!(or_unknown(text(node, "/status/nodeInfo/kernelVersion"))),
        json!(or_unknown(text(
            node,
            "/status/nodeInfo/containerRuntimeVersion"
        ))),
    ]
}

fn or_unknown(text: String) -> String {
    if text.is_empty() {
        "<unknown>".to_string()
    } else {
        text
    }
}

const NAMESPACE_COLUMNS: &[Column] = &[col("Status"), col("Age")];

fn namespace_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(text(obj, "/status/phase")),
        json!(object_age(obj, now)),
    ]
}

const EVENT_COLUMNS: &[Column] = &[
    col("Last Seen"),
    col("Type"),
    col("Reason"),
    col("Object"),
    wide("Subobject"),
    wide("Source"),
    col("Message"),
    wide("First Seen"),
    wide("Count"),
    wide("Name"),
];

fn event_cells(event: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let first = text(event, "/firstTimestamp");
    let first = if first.is_empty() {
        text(event, "/eventTime")
    } else {
        first
    };
    let last = [
        text(event, "/series/lastObservedTime"),
        text(event, "/lastTimestamp"),
        text(event, "/eventTime"),
    ]
    .into_iter()
    .find(|t| !t.is_empty())
    .unwrap_or_default();
    let first_seen = if first.is_empty() {
        "<unknown>".to_string()
    } else {
        age(&first, now)
    };
    let last_seen = if last.is_empty() {
        first_seen.clone()
    } else {
        age(&last, now)
    };
    let source = text(event, "/source/component");
    let source = if source.is_empty() {
        text(event, "/reportingComponent")
    } else {
        source
    };
    let host = text(event, "/source/host");
    let source = if host.is_empty() {
        source
    } else {
        format!("{source}, {host}")
    };
    let count = int_at(event, "/series/count").max(int_at(event, "/count"));
    vec![
        json!(last_seen),
        json!(text(event, "/type")),
        json!(text(event, "/reason")),
        json!(format!(
            "{}/{}",
            text(event, "/involvedObject/kind").to_lowercase(),
            text(event, "/involvedObject/name")
        )),
        json!(text(event, "/involvedObject/fieldPath")),
        json!(source),
        json!(text(event, "/message").trim().to_string()),
        json!(first_seen),
        json!(count),
        json!(text(event, "/metadata/name")),
    ]
}

const ENDPOINTS_COLUMNS: &[Column] = &[col("Endpoints"), col("Age")];

fn endpoints_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let mut all = Vec::new();
    for subset in array(obj, "/subsets") {
        let ports = array(subset, "/ports");
        for address in array(subset, "/addresses") {
            let ip = text(address, "/ip");
            if ports.is_empty() {
                all.push(ip.clone());
            }
            for port in ports {
                all.push(format!("{ip}:{}", int_at(port, "/port")));
            }
        }
    }
    let shown = if all.len() > 3 {
        format!("{} + {} more...", all[..3].join(","), all.len() - 3)
    } else {
        or_none(all.join(","))
    };
    vec![json!(shown), json!(object_age(obj, now))]
}

const ENDPOINTSLICE_COLUMNS: &[Column] = &[
    col("AddressType"),
    col("Ports"),
    col("Endpoints"),
    col("Age"),
];

fn endpointslice_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let ports: Vec<String> = array(obj, "/ports")
        .iter()
        .map(|p| int_at(p, "/port").to_string())
        .collect();
    let addresses: Vec<String> = array(obj, "/endpoints")
        .iter()
        .flat_map(|e| {
            array(e, "/addresses")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let shown = if addresses.len() > 3 {
        format!(
            "{} + {} more...",
            addresses[..3].join(","),
            addresses.len() - 3
        )
    } else if addresses.is_empty() {
        "<unset>".to_string()
    } else {
        addresses.join(",")
    };
    let ports = if ports.is_empty() {
        "<unset>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        json!(text(obj, "/addressType")),
        json!(ports),
        json!(shown),
        json!(object_age(obj, now)),
    ]
}

const CONFIGMAP_COLUMNS: &[Column] = &[int("Data"), col("Age")];

fn configmap_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let count = ["/data", "/binaryData"]
        .iter()
        .filter_map(|p| obj.pointer(p).and_then(Value::as_object))
        .map(|m| m.len())
        .sum::<usize>();
    vec![json!(count), json!(object_age(obj, now))]
}

const SECRET_COLUMNS: &[Column] = &[col("Type"), int("Data"), col("Age")];

fn secret_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let count = obj
        .pointer("/data")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    vec![
        json!(text(obj, "/type")),
        json!(count),
        json!(object_age(obj, now)),
    ]
}

const SERVICEACCOUNT_COLUMNS: &[Column] = &[int("Secrets"), col("Age")];

fn serviceaccount_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(array(obj, "/secrets").len()),
        json!(object_age(obj, now)),
    ]
}

const PDB_COLUMNS: &[Column] = &[
    col("Min Available"),
    col("Max Unavailable"),
    int("Allowed Disruptions"),
    col("Age"),
];

fn pdb_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let or_na = |pointer: &str| {
        let value = text(obj, pointer);
        if value.is_empty() {
            "N/A".to_string()
        } else {
            value
        }
    };
    vec![
        json!(or_na("/spec/minAvailable")),
        json!(or_na("/spec/maxUnavailable")),
        json!(int_at(obj, "/status/disruptionsAllowed")),
        json!(object_age(obj, now)),
    ]
}

const HPA_COLUMNS: &[Column] = &[
    col("Reference"),
    col("Targets"),
    int("MinPods"),
    int("MaxPods"),
    int("Replicas"),
    col("Age"),
];

fn hpa_targets(obj: &Value) -> String {
    let mut shown = Vec::new();
    for metric in array(obj, "/spec/metrics") {
        if text(metric, "/type") != "Resource" {
            shown.push("<unknown>/<unknown>".to_string());
            continue;
        }
        let name = text(metric, "/resource/name");
        let target = metric.pointer("/resource/target").unwrap_or(&Value::Null);
        let current = array(obj, "/status/currentMetrics")
            .iter()
            .find(|c| text(c, "/type") == "Resource" && text(c, "/resource/name") == name)
            .and_then(|c| c.pointer("/resource/current"));
        let (current, wanted) = if text(target, "/type") == "Utilization" {
            let current = current
                .and_then(|c| c.get("averageUtilization"))
                .and_then(Value::as_i64)
                .map_or("<unknown>".to_string(), |v| format!("{v}%"));
            (
                current,
                format!("{}%", int_at(target, "/averageUtilization")),
            )
        } else {
            let current = current
                .map(|c| text(c, "/averageValue"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "<unknown>".to_string());
            (current, text(target, "/averageValue"))
        };
        shown.push(format!("{name}: {current}/{wanted}"));
    }
    or_none(shown.join(", "))
}

fn hpa_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let min = obj
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    vec![
        json!(format!(
            "{}/{}",
            text(obj, "/spec/scaleTargetRef/kind"),
            text(obj, "/spec/scaleTargetRef/name")
        )),
        json!(hpa_targets(obj)),
        json!(min),
        json!(int_at(obj, "/spec/maxReplicas")),
        json!(int_at(obj, "/status/currentReplicas")),
        json!(object_age(obj, now)),
    ]
}

const QUOTA_COLUMNS: &[Column] = &[col("Age"), col("Request"), col("Limit")];

fn quota_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let hard = obj
        .pointer("/status/hard")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut names: Vec<&String> = hard.keys().collect();
    names.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for name in names {
        let used = text(obj, &format!("/status/used/{}", name.replace('/', "~1")));
        let entry = format!(
            "{name}: {}/{}",
            if used.is_empty() {
                "0".to_string()
            } else {
                used
            },
            hard[name].as_str().unwrap_or("")
        );
        if name.starts_with("limits") {
            limits.push(entry)
        } else {
            requests.push(entry)
        }
    }
    vec![
        json!(object_age(obj, now)),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
    ]
}

fn condition_status(obj: &Value, kind: &str) -> String {
    array(obj, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == kind)
        .map(|c| text(c, "/status"))
        .unwrap_or_default()
}

const GATEWAYCLASS_COLUMNS: &[Column] = &[
    col("Controller"),
    col("Accepted"),
    col("Age"),
    wide("Description"),
];

fn gatewayclass_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        json!(text(obj, "/spec/controllerName")),
        json!(condition_status(obj, "Accepted")),
        json!(object_age(obj, now)),
        json!(text(obj, "/spec/description")),
    ]
}

const GATEWAY_COLUMNS: &[Column] = &[col("Class"), col("Address"), col("Programmed"), col("Age")];

fn gateway_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let addresses: Vec<String> = array(obj, "/status/addresses")
        .iter()
        .map(|a| text(a, "/value"))
        .collect();
    vec![
        json!(text(obj, "/spec/gatewayClassName")),
        json!(addresses.join(",")),
        json!(condition_status(obj, "Programmed")),
        json!(object_age(obj, now)),
    ]
}

const HTTPROUTE_COLUMNS: &[Column] = &[col("Hostnames"), col("Age")];

fn httproute_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let hostnames = obj
        .pointer("/spec/hostnames")
        .map(Value::to_string)
        .unwrap_or_default();
    vec![json!(hostnames), json!(object_age(obj, now))]
}

const DEFAULT_COLUMNS: &[Column] = &[Column {
    name: "Created At",
    kind: "date",
    priority: 0,
}];

fn default_cells(obj: &Value, _now: jiff::Timestamp) -> Vec<Value> {
    vec![json!(text(obj, "/metadata/creationTimestamp"))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources;

    #[test]
    fn human_durations_match_kubectl() {
        for (seconds, shown) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (10 * 3600, "10h"),
            (50 * 3600, "2d2h"),
            (30 * 86400, "30d"),
            (800 * 86400, "2y70d"),
        ] {
            assert_eq!(human_duration(seconds), shown, "{seconds}s");
        }
    }

    #[test]
    fn pod_status_column() {
        let crash = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"finishedAt": "2020-01-01T00:00:00Z"}}}]}});
        let (reason, ready, total, restarts, last) = pod_status(&crash);
        assert_eq!(
            (reason.as_str(), ready, total, restarts),
            ("CrashLoopBackOff", 1, 2, 4)
        );
        assert_eq!(last.as_deref(), Some("2020-01-01T00:00:00Z"));
        let mut deleting = crash.clone();
        deleting["metadata"] = json!({"deletionTimestamp": "2020-01-01T00:00:00Z"});
        assert_eq!(pod_status(&deleting).0, "Terminating");
        let init = json!({"spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"waiting": {"reason": "PodInitializing"}}}]}});
        assert_eq!(pod_status(&init).0, "Init:0/1");
        let evicted = json!({"status": {"phase": "Failed", "reason": "Evicted"}});
        assert_eq!(pod_status(&evicted).0, "Evicted");
    }

    #[test]
    fn service_and_node_columns() {
        let lb = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]}});
        assert_eq!(service_external_ip(&lb), "<pending>");
        assert_eq!(service_ports(&lb), "80:31000/TCP");
        let node = json!({"spec": {"unschedulable": true}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert_eq!(node_status(&node), "NotReady,SchedulingDisabled");
    }

    #[test]
    fn table_shape() {
        let rt = resources::by_plural("deployments").unwrap();
        let obj = Arc::new(
            json!({"metadata": {"name": "web", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}),
        );
        let table = render(rt, &[obj], None);
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["columnDefinitions"][1]["name"], "Ready");
        assert_eq!(table["rows"][0]["cells"][0], "web");
        assert_eq!(table["rows"][0]["cells"][1], "2/3");
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    }
}
