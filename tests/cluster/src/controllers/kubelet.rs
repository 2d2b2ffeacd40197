//! The kubelets of every node: start bound pods (IPs, container statuses, conditions, events),
//! play the scenario's container faults (OOM kills and crashes into CrashLoopBackOff with the
//! kubelet's doubling back-off, image pull errors, readiness that never passes), and remove
//! terminating pods. Pods on a node that is not Ready keep their last status, as with a kubelet
//! that stopped reporting.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::events::{self, Event};
use super::names;
use super::objects::{self, meta};
use super::rules::{ContainerFault, FaultEffect, Rules};
use crate::store::Store;

/// The kubelet's maximum crash-loop back-off.
const MAX_BACKOFF_SECONDS: i64 = 300;

/// One pass over every bound pod.
pub fn reconcile(store: &Store, rules: &Rules, now: Timestamp) -> bool {
    let nodes = store.list("nodes", None);
    let (pods, _) = store.list_shared("pods", None);
    let mut used_ips: HashMap<String, BTreeSet<String>> = HashMap::new();
    for pod in &pods {
        let ip = objects::text(pod, "/status/podIP");
        if !ip.is_empty() {
            used_ips
                .entry(objects::node_name(pod).to_string())
                .or_default()
                .insert(ip.to_string());
        }
    }
    let mut changed = false;
    for pod in pods {
        let Some((index, node)) = nodes
            .iter()
            .enumerate()
            .find(|(_, n)| meta(n, "name") == objects::node_name(&pod))
        else {
            continue;
        };
        if !objects::node_is_ready(node) {
            continue;
        }
        if objects::is_terminating(&pod) {
            changed |= terminate(store, rules, &pod, now);
        } else if !matches!(objects::phase(&pod), "Succeeded" | "Failed") {
            let ips = used_ips.entry(meta(node, "name").to_string()).or_default();
            let addresses = Addresses {
                node,
                node_index: index,
                used: ips,
            };
            changed |= run(store, rules, &pod, addresses, now);
        }
    }
    changed
}

/// Where a pod lives: its node and the pod IPs already taken there.
struct Addresses<'a> {
    node: &'a Value,
    node_index: usize,
    used: &'a mut BTreeSet<String>,
}

impl Addresses<'_> {
    fn host_ip(&self) -> String {
        objects::list(self.node, "/status/addresses")
            .iter()
            .find(|a| a["type"] == "InternalIP")
            .and_then(|a| a["address"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("10.0.0.{}", 10 + self.node_index))
    }

    /// The lowest free address in the node's pod CIDR (`spec.podCIDR`, else 10.244.<n>.0/24).
    fn allocate_pod_ip(&mut self) -> String {
        let cidr = objects::text(self.node, "/spec/podCIDR");
        let prefix = match cidr.rsplit_once('.') {
            Some((prefix, _)) if !cidr.is_empty() => prefix.to_string(),
            _ => format!("10.244.{}", self.node_index + 1),
        };
        let ip = (2..255)
            .map(|host| format!("{prefix}.{host}"))
            .find(|ip| !self.used.contains(ip))
            .unwrap_or_else(|| format!("{prefix}.254"));
        self.used.insert(ip.clone());
        ip
    }
}

/// Removes a terminating pod: at once when none of its containers runs (crash-looping, never
/// started), else after min(its grace period, the scenario's cap).
fn terminate(store: &Store, rules: &Rules, pod: &Value, now: Timestamp) -> bool {
    let grace = objects::int(pod, "/metadata/deletionGracePeriodSeconds", 0).max(0);
    let Some(deadline) = objects::time_at(pod, "/metadata/deletionTimestamp") else {
        return false;
    };
    let requested = objects::plus_seconds(deadline, -grace);
    let host = objects::node_name(pod).to_string();
    let running: Vec<&str> = objects::list(pod, "/status/containerStatuses")
        .iter()
        .filter(|s| s.pointer("/state/running").is_some())
        .filter_map(|s| s["name"].as_str())
        .collect();
    let mut changed = false;
    for name in &running {
        let message = format!("Stopping container {name}");
        if !events::recorded(store, pod, "Killing", &message) {
            let field_path = format!("spec.containers{{{name}}}");
            let event = Event::normal("Killing", &message).on_container(&field_path);
            changed |= events::record(store, now, events::kubelet(&host), pod, event);
        }
    }
    let stopped = running.is_empty()
        || objects::seconds_between(requested, now) >= grace.min(rules.termination_cap_seconds);
    if stopped {
        changed |= store
            .remove("pods", Some(meta(pod, "namespace")), meta(pod, "name"))
            .is_some();
    }
    changed
}

/// The back-off before the next restart of a container that restarted `restarts` times.
pub fn backoff_seconds(rules: &Rules, restarts: i64) -> i64 {
    let doubled = rules
        .backoff_base_seconds
        .saturating_mul(1i64 << restarts.clamp(0, 20));
    doubled.min(MAX_BACKOFF_SECONDS)
}

fn run(
    store: &Store,
    rules: &Rules,
    pod: &Value,
    mut addresses: Addresses<'_>,
    now: Timestamp,
) -> bool {
    let mut next = pod.clone();
    let mut pending_events: Vec<(String, Event<'static>, String)> = Vec::new();
    let mut kubelet = Kubelet {
        rules,
        now,
        pod,
        events: &mut pending_events,
    };
    if pod.pointer("/status/containerStatuses").is_none() {
        kubelet.start(&mut next, &mut addresses);
    } else {
        kubelet.advance(&mut next, store);
    }
    update_conditions(&mut next, now);
    let host = objects::node_name(pod).to_string();
    let mut changed = false;
    let before = meta(pod, "resourceVersion").to_string();
    let written = if next != *pod {
        store
            .update_status("pods", next)
            .ok()
            .filter(|w| meta(w, "resourceVersion") != before)
    } else {
        None
    };
    if let Some(written) = &written {
        changed = true;
        for (field_path, event, message) in &pending_events {
            let event = Event { message, ..*event }.on_container(field_path);
            events::record(store, now, events::kubelet(&host), written, event);
        }
    } else {
        for (field_path, event, message) in &pending_events {
            let event = Event { message, ..*event }.on_container(field_path);
            changed |= events::record(store, now, events::kubelet(&host), pod, event);
        }
    }
    changed
}

/// One kubelet pass over one pod, collecting the events to record once the status is written.
struct Kubelet<'a> {
    rules: &'a Rules,
    now: Timestamp,
    pod: &'a Value,
    events: &'a mut Vec<(String, Event<'static>, String)>,
}

impl Kubelet<'_> {
    fn emit(&mut self, container: &str, event: Event<'static>, message: String) {
        self.events
            .push((format!("spec.containers{{{container}}}"), event, message));
    }

    fn stamp(&self) -> String {
        objects::format_time(self.now)
    }

    fn container_id(&self, name: &str, restarts: i64) -> String {
        let seed = format!("{}/{name}/{restarts}", meta(self.pod, "uid"));
        let hex: String = (0..8)
            .map(|i| format!("{:08x}", names::fnv32a(format!("{seed}/{i}").as_bytes())))
            .collect();
        format!("containerd://{hex}")
    }

    fn start(&mut self, pod: &mut Value, addresses: &mut Addresses<'_>) {
        let pod_ip = addresses.allocate_pod_ip();
        let host_ip = addresses.host_ip();
        let stamp = self.stamp();
        let status = pod["status"]
            .as_object_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        pod["status"] = Value::Object(status);
        pod["status"]["hostIP"] = json!(host_ip);
        pod["status"]["hostIPs"] = json!([{"ip": host_ip}]);
        pod["status"]["podIP"] = json!(pod_ip);
        pod["status"]["podIPs"] = json!([{"ip": pod_ip}]);
        pod["status"]["startTime"] = json!(stamp);
        if pod["status"].get("qosClass").is_none() {
            pod["status"]["qosClass"] = json!(objects::qos_class(pod));
        }
        let init: Vec<Value> = objects::list(pod, "/spec/initContainers")
            .iter()
            .map(|c| {
                let name = c["name"].as_str().unwrap_or("");
                json!({"name": name, "image": c["image"], "imageID": image_id(c["image"].as_str().unwrap_or("")),
                    "containerID": self.container_id(name, 0), "ready": true, "restartCount": 0, "started": false,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp,
                        "containerID": self.container_id(name, 0)}}, "lastState": {}})
            })
            .collect();
        if !init.is_empty() {
            pod["status"]["initContainerStatuses"] = Value::Array(init);
        }
        let containers: Vec<Value> = objects::list(self.pod, "/spec/containers").to_vec();
        let statuses: Vec<Value> = containers
            .iter()
            .map(|c| self.start_container(c, 0))
            .collect();
        pod["status"]["containerStatuses"] = Value::Array(statuses);
        let running = objects::list(pod, "/status/containerStatuses")
            .iter()
            .any(|s| s.pointer("/state/running").is_some());
        pod["status"]["phase"] = json!(if running { "Running" } else { "Pending" });
    }

    /// The status of a container (re)started now, with its events.
    fn start_container(&mut self, container: &Value, restarts: i64) -> Value {
        let name = container["name"].as_str().unwrap_or("").to_string();
        let image = container["image"].as_str().unwrap_or("").to_string();
        let fault = self.rules.fault_for(self.pod, container).cloned();
        let mut status = json!({"name": name, "image": image, "imageID": image_id(&image),
            "ready": false, "restartCount": restarts, "started": false, "lastState": {}});
        if fault
            .as_ref()
            .is_some_and(|f| f.effect == FaultEffect::ImagePull)
        {
            let reason = fault
                .as_ref()
                .and_then(|f| f.message.clone())
                .unwrap_or_else(|| format!("rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"));
            status["imageID"] = json!("");
            status["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\": ErrImagePull: {reason}")}});
            self.emit(
                &name,
                Event::normal("Pulling", ""),
                format!("Pulling image \"{image}\""),
            );
            self.emit(
                &name,
                Event::warning("Failed", ""),
                format!("Failed to pull image \"{image}\": {reason}"),
            );
            self.emit(
                &name,
                Event::warning("Failed", ""),
                "Error: ErrImagePull".to_string(),
            );
            self.emit(
                &name,
                Event::normal("BackOff", ""),
                format!("Back-off pulling image \"{image}\""),
            );
            self.emit(
                &name,
                Event::warning("Failed", ""),
                "Error: ImagePullBackOff".to_string(),
            );
            return status;
        }
        status["containerID"] = json!(self.container_id(&name, restarts));
        status["started"] = json!(true);
        status["state"] = json!({"running": {"startedAt": self.stamp()}});
        let ready_now = fault.is_none()
            && (container.get("readinessProbe").is_none()
                || self.rules.readiness_delay_seconds <= 0);
        status["ready"] = json!(ready_now);
        self.emit(
            &name,
            Event::normal("Pulled", ""),
            format!("Container image \"{image}\" already present on machine"),
        );
        self.emit(
            &name,
            Event::normal("Created", ""),
            format!("Created container: {name}"),
        );
        self.emit(
            &name,
            Event::normal("Started", ""),
            format!("Started container {name}"),
        );
        status
    }

    fn advance(&mut self, pod: &mut Value, store: &Store) {
        let containers: Vec<Value> = objects::list(self.pod, "/spec/containers").to_vec();
        let mut statuses: Vec<Value> =
            objects::list(self.pod, "/status/containerStatuses").to_vec();
        for status in statuses.iter_mut() {
            let Some(container) = containers.iter().find(|c| c["name"] == status["name"]) else {
                continue;
            };
            let fault = self.rules.fault_for(self.pod, container).cloned();
            self.advance_container(container, status, fault.as_ref(), store);
        }
        pod["status"]["containerStatuses"] = Value::Array(statuses);
        let any_ran = objects::list(pod, "/status/containerStatuses")
            .iter()
            .any(|s| {
                s.pointer("/state/running").is_some()
                    || s.pointer("/lastState/terminated").is_some()
            });
        if any_ran {
            pod["status"]["phase"] = json!("Running");
        }
    }

    fn advance_container(
        &mut self,
        container: &Value,
        status: &mut Value,
        fault: Option<&ContainerFault>,
        store: &Store,
    ) {
        let restarts = status["restartCount"].as_i64().unwrap_or(0);
        let effect = fault.map(|f| f.effect);
        if let Some(started) = status
            .pointer("/state/running/startedAt")
            .and_then(Value::as_str)
            .and_then(objects::parse_time)
        {
            let alive = objects::seconds_between(started, self.now);
            match effect {
                Some(FaultEffect::OomKilled | FaultEffect::Crash)
                    if alive >= self.rules.crash_after_seconds =>
                {
                    self.crash(container, status, fault, started);
                }
                Some(FaultEffect::NeverReady) => {
                    status["ready"] = json!(false);
                    self.report_unready(container, fault, store);
                }
                Some(_) => {}
                None => {
                    let delay = if container.get("readinessProbe").is_some() {
                        self.rules.readiness_delay_seconds
                    } else {
                        0
                    };
                    if alive >= delay {
                        status["ready"] = json!(true);
                    }
                }
            }
            return;
        }
        let waiting = status
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
            .unwrap_or("");
        if waiting == "CrashLoopBackOff" {
            let finished = status
                .pointer("/lastState/terminated/finishedAt")
                .and_then(Value::as_str)
                .and_then(objects::parse_time);
            if finished.is_some_and(|f| {
                objects::seconds_between(f, self.now) >= backoff_seconds(self.rules, restarts)
            }) {
                let mut restarted = self.start_container(container, restarts + 1);
                restarted["lastState"] = status["lastState"].clone();
                *status = restarted;
            }
        } else if waiting == "ImagePullBackOff" && effect != Some(FaultEffect::ImagePull) {
            *status = self.start_container(container, restarts);
        }
    }

    fn crash(
        &mut self,
        container: &Value,
        status: &mut Value,
        fault: Option<&ContainerFault>,
        started: Timestamp,
    ) {
        let name = container["name"].as_str().unwrap_or("").to_string();
        let oom = fault.is_some_and(|f| f.effect == FaultEffect::OomKilled);
        let (code, reason) = if oom {
            (137, "OOMKilled")
        } else {
            (1, "Error")
        };
        let restarts = status["restartCount"].as_i64().unwrap_or(0);
        status["lastState"] = json!({"terminated": {
            "exitCode": code, "reason": reason,
            "startedAt": objects::format_time(started), "finishedAt": self.stamp(),
            "containerID": status["containerID"],
        }});
        let backoff = go_duration(backoff_seconds(self.rules, restarts));
        status["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!(
            "back-off {backoff} restarting failed container={name} pod={}_{}({})",
            meta(self.pod, "name"), meta(self.pod, "namespace"), meta(self.pod, "uid"))}});
        status["ready"] = json!(false);
        status["started"] = json!(false);
        let pod_ip = objects::text(self.pod, "/status/podIP").to_string();
        let probe_failure =
            fault.and_then(|f| f.message.as_ref().map(|m| m.replace("{podIP}", &pod_ip)));
        for (probe, label) in [
            ("livenessProbe", "Liveness"),
            ("readinessProbe", "Readiness"),
        ] {
            if let Some(spec) = container.get(probe) {
                let detail = probe_failure
                    .clone()
                    .unwrap_or_else(|| refused(self.pod, container, spec));
                self.emit(
                    &name,
                    Event::warning("Unhealthy", ""),
                    format!("{label} probe failed: {detail}"),
                );
            }
        }
        self.emit(
            &name,
            Event::warning("BackOff", ""),
            format!(
                "Back-off restarting failed container {name} in pod {}_{}({})",
                meta(self.pod, "name"),
                meta(self.pod, "namespace"),
                meta(self.pod, "uid")
            ),
        );
    }

    /// A never-ready container: an Unhealthy event per probe period.
    fn report_unready(&mut self, container: &Value, fault: Option<&ContainerFault>, store: &Store) {
        let Some(probe) = container.get("readinessProbe") else {
            return;
        };
        let period = probe["periodSeconds"].as_i64().unwrap_or(10);
        let due = events::last_seen(store, self.pod, "Unhealthy")
            .is_none_or(|last| objects::seconds_between(last, self.now) >= period);
        if !due {
            return;
        }
        let pod_ip = objects::text(self.pod, "/status/podIP").to_string();
        let detail = fault
            .and_then(|f| f.message.as_ref().map(|m| m.replace("{podIP}", &pod_ip)))
            .unwrap_or_else(|| {
                if probe.get("httpGet").is_some() {
                    "HTTP probe failed with statuscode: 503".to_string()
                } else {
                    refused(self.pod, container, probe)
                }
            });
        let name = container["name"].as_str().unwrap_or("").to_string();
        self.emit(
            &name,
            Event::warning("Unhealthy", ""),
            format!("Readiness probe failed: {detail}"),
        );
    }
}

/// What a probe sees when nothing listens: `dial tcp <ip>:<port>: connect: connection refused`.
fn refused(pod: &Value, container: &Value, probe: &Value) -> String {
    let ip = objects::text(pod, "/status/podIP");
    let handler = probe
        .get("httpGet")
        .or_else(|| probe.get("tcpSocket"))
        .or_else(|| probe.get("grpc"));
    let Some(handler) = handler else {
        return "command terminated with non-zero exit code".to_string();
    };
    let port = match &handler["port"] {
        Value::String(named) => objects::list(container, "/ports")
            .iter()
            .find(|p| p["name"] == named.as_str())
            .and_then(|p| p["containerPort"].as_i64())
            .map_or_else(|| named.clone(), |p| p.to_string()),
        other => other.to_string(),
    };
    let dial = format!("dial tcp {ip}:{port}: connect: connection refused");
    match probe.get("httpGet") {
        Some(http) => {
            let scheme = http["scheme"].as_str().unwrap_or("HTTP").to_lowercase();
            let path = http["path"].as_str().unwrap_or("/");
            format!("Get \"{scheme}://{ip}:{port}{path}\": {dial}")
        }
        None => dial,
    }
}

/// A duration as Go prints it: `10s`, `1m20s`, `5m0s`.
pub fn go_duration(seconds: i64) -> String {
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// A plausible image digest reference for `image`.
fn image_id(image: &str) -> String {
    let repository = image.split('@').next().unwrap_or(image);
    let repository = match repository.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => repository,
    };
    let repository = match repository.split('/').count() {
        1 => format!("docker.io/library/{repository}"),
        2 if !is_registry(repository.split('/').next().unwrap_or("")) => {
            format!("docker.io/{repository}")
        }
        _ => repository.to_string(),
    };
    let digest: String = (0..8)
        .map(|i| format!("{:08x}", names::fnv32a(format!("{image}/{i}").as_bytes())))
        .collect();
    format!("{repository}@sha256:{digest}")
}

fn is_registry(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

/// Recomputes Initialized, Ready, ContainersReady, PodScheduled and PodReadyToStartContainers
/// from the container statuses (transition times move only when a status flips).
fn update_conditions(pod: &mut Value, now: Timestamp) {
    let statuses = objects::list(pod, "/status/containerStatuses").to_vec();
    if statuses.is_empty() {
        return;
    }
    let unready: Vec<String> = statuses
        .iter()
        .filter(|s| s["ready"] != true)
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect();
    let ready = unready.is_empty();
    let message = format!("containers with unready status: [{}]", unready.join(" "));
    let stamp = objects::format_time(now);
    let existing = objects::list(pod, "/status/conditions").to_vec();
    let condition = |kind: &str, status: bool, reason: Option<&str>| {
        let status = if status { "True" } else { "False" };
        let previous = existing.iter().find(|c| c["type"] == kind);
        let transition = match previous {
            Some(p) if p["status"] == status => p["lastTransitionTime"].clone(),
            _ => json!(stamp),
        };
        let mut c = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": transition});
        if let Some(reason) = reason {
            c["reason"] = json!(reason);
            c["message"] = json!(message);
        }
        c
    };
    let not_ready_reason = (!ready).then_some("ContainersNotReady");
    let conditions = vec![
        condition("PodReadyToStartContainers", true, None),
        condition("Initialized", true, None),
        condition("Ready", ready, not_ready_reason),
        condition("ContainersReady", ready, not_ready_reason),
        condition("PodScheduled", true, None),
    ];
    pod["status"]["conditions"] = Value::Array(conditions);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn setup(memory_limit: &str) -> Store {
        let store = Store::new();
        store
            .create(
                "nodes",
                json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
                "spec": {"podCIDR": "10.244.1.0/24"},
                "status": {"conditions": [{"type": "Ready", "status": "True"}],
                    "addresses": [{"type": "InternalIP", "address": "192.168.0.11"}]}}),
            )
            .unwrap();
        store
            .create("pods", json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "gateway-proxy-abcde", "namespace": "gateway", "labels": {"app": "gateway-proxy"}},
                "spec": {"nodeName": "node-1", "containers": [{"name": "proxy", "image": "gateway/proxy:1.2",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                    "resources": {"limits": {"memory": memory_limit}}}]},
                "status": {"phase": "Pending"}}))
            .unwrap();
        store
    }

    fn oom_rules() -> Rules {
        serde_json::from_value(
            json!({"faults": [{"effect": "OomKilled", "selector": {"app": "gateway-proxy"},
            "memory_limit_below": "700Mi"}]}),
        )
        .unwrap()
    }

    fn pod(store: &Store) -> Value {
        store
            .get("pods", Some("gateway"), "gateway-proxy-abcde")
            .unwrap()
    }

    #[test]
    fn a_healthy_pod_starts_running_and_ready() {
        let store = setup("1Gi");
        assert!(reconcile(&store, &oom_rules(), now()));
        let p = pod(&store);
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(p["status"]["podIP"], "10.244.1.2");
        assert_eq!(p["status"]["hostIP"], "192.168.0.11");
        assert!(objects::is_ready(&p));
        let status = &p["status"]["containerStatuses"][0];
        assert_eq!(status["ready"], true);
        assert!(
            status["containerID"]
                .as_str()
                .unwrap()
                .starts_with("containerd://")
        );
        assert!(
            status["imageID"]
                .as_str()
                .unwrap()
                .starts_with("docker.io/gateway/proxy@sha256:")
        );
        assert!(
            !reconcile(&store, &oom_rules(), now()),
            "a settled pass changes nothing"
        );
        let reasons: Vec<String> = store
            .list("events", Some("gateway"))
            .iter()
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(reasons.len(), 3);
        for reason in ["Pulled", "Created", "Started"] {
            assert!(reasons.iter().any(|r| r == reason), "{reasons:?}");
        }
    }

    #[test]
    fn a_small_memory_limit_crash_loops_with_oom_kills() {
        let store = setup("512Mi");
        let rules = oom_rules();
        reconcile(&store, &rules, now());
        assert!(!objects::is_ready(&pod(&store)));
        let t1 = objects::plus_seconds(now(), 1);
        assert!(reconcile(&store, &rules, t1));
        let p = pod(&store);
        let status = &p["status"]["containerStatuses"][0];
        assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(status["lastState"]["terminated"]["reason"], "OOMKilled");
        assert_eq!(status["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(status["restartCount"], 0);
        assert_eq!(p["status"]["phase"], "Running");
        let events = store.list("events", Some("gateway"));
        let backoff = events.iter().find(|e| e["reason"] == "BackOff").unwrap();
        assert!(backoff["message"].as_str().unwrap().starts_with(
            "Back-off restarting failed container proxy in pod gateway-proxy-abcde_gateway("
        ));
        let unhealthy = events.iter().find(|e| e["reason"] == "Unhealthy").unwrap();
        assert_eq!(
            unhealthy["message"],
            "Liveness probe failed: Get \"http://10.244.1.2:8080/healthz\": dial tcp 10.244.1.2:8080: connect: connection refused"
        );
        assert!(
            !reconcile(&store, &rules, objects::plus_seconds(t1, 9)),
            "still backing off"
        );
        assert!(reconcile(&store, &rules, objects::plus_seconds(t1, 10)));
        let status = pod(&store)["status"]["containerStatuses"][0].clone();
        assert_eq!(status["restartCount"], 1);
        assert!(status["state"]["running"].is_object());
        assert_eq!(status["lastState"]["terminated"]["reason"], "OOMKilled");
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(10), "10s");
        assert_eq!(go_duration(80), "1m20s");
        assert_eq!(go_duration(300), "5m0s");
        assert_eq!(go_duration(3725), "1h2m5s");
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let rules = Rules::default();
        assert_eq!(backoff_seconds(&rules, 0), 10);
        assert_eq!(backoff_seconds(&rules, 1), 20);
        assert_eq!(backoff_seconds(&rules, 4), 160);
        assert_eq!(backoff_seconds(&rules, 5), 300);
        assert_eq!(backoff_seconds(&rules, 40), 300);
    }

    #[test]
    fn terminating_pods_go_after_the_capped_grace_period_only_on_ready_nodes() {
        let store = setup("1Gi");
        reconcile(&store, &Rules::default(), now());
        let options = crate::store::DeleteOptions::default();
        store
            .delete("pods", Some("gateway"), "gateway-proxy-abcde", &options)
            .unwrap();
        let requested = objects::time_at(&pod(&store), "/metadata/deletionTimestamp").unwrap();
        let requested = objects::plus_seconds(requested, -30);
        reconcile(&store, &Rules::default(), requested);
        assert!(
            store
                .get("pods", Some("gateway"), "gateway-proxy-abcde")
                .is_some()
        );
        assert!(
            store
                .list("events", Some("gateway"))
                .iter()
                .any(|e| e["reason"] == "Killing" && e["message"] == "Stopping container proxy")
        );
        let mut node = store.get("nodes", None, "node-1").unwrap();
        node["status"]["conditions"][0]["status"] = json!("Unknown");
        store.update("nodes", node).unwrap();
        reconcile(
            &store,
            &Rules::default(),
            objects::plus_seconds(requested, 5),
        );
        assert!(
            store
                .get("pods", Some("gateway"), "gateway-proxy-abcde")
                .is_some(),
            "stuck on an unreachable node"
        );
        let mut node = store.get("nodes", None, "node-1").unwrap();
        node["status"]["conditions"][0]["status"] = json!("True");
        store.update("nodes", node).unwrap();
        reconcile(
            &store,
            &Rules::default(),
            objects::plus_seconds(requested, 1),
        );
        assert!(
            store
                .get("pods", Some("gateway"), "gateway-proxy-abcde")
                .is_none()
        );
    }

    #[test]
    fn a_crash_looping_pod_goes_at_once_when_deleted() {
        let store = setup("512Mi");
        let rules = oom_rules();
        reconcile(&store, &rules, now());
        reconcile(&store, &rules, objects::plus_seconds(now(), 1));
        let options = crate::store::DeleteOptions::default();
        store
            .delete("pods", Some("gateway"), "gateway-proxy-abcde", &options)
            .unwrap();
        assert!(reconcile(&store, &rules, objects::plus_seconds(now(), 1)));
        assert!(
            store
                .get("pods", Some("gateway"), "gateway-proxy-abcde")
                .is_none()
        );
        let stopping = store.list("events", Some("gateway"));
        assert!(
            !stopping.iter().any(|e| e["reason"] == "Killing"),
            "nothing ran to stop"
        );
    }

    #[test]
    fn readiness_waits_for_the_delay_and_never_ready_pods_report_probe_failures() {
        let store = setup("1Gi");
        let mut p = pod(&store);
        p["spec"]["containers"][0]["readinessProbe"] =
            json!({"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5});
        store.update("pods", p).unwrap();
        let delayed = Rules {
            readiness_delay_seconds: 2,
            ..Rules::default()
        };
        reconcile(&store, &delayed, now());
        assert!(!objects::is_ready(&pod(&store)));
        let condition = objects::pod_condition(&pod(&store), "Ready")
            .unwrap()
            .clone();
        assert_eq!(condition["reason"], "ContainersNotReady");
        assert_eq!(
            condition["message"],
            "containers with unready status: [proxy]"
        );
        reconcile(&store, &delayed, objects::plus_seconds(now(), 2));
        assert!(objects::is_ready(&pod(&store)));

        let never: Rules = serde_json::from_value(
            json!({"faults": [{"effect": "NeverReady", "namespace": "gateway"}]}),
        )
        .unwrap();
        reconcile(&store, &never, objects::plus_seconds(now(), 3));
        assert!(!objects::is_ready(&pod(&store)));
        let unhealthy = store
            .list("events", Some("gateway"))
            .into_iter()
            .find(|e| e["reason"] == "Unhealthy")
            .unwrap();
        assert_eq!(
            unhealthy["message"],
            "Readiness probe failed: HTTP probe failed with statuscode: 503"
        );
        assert!(!reconcile(&store, &never, objects::plus_seconds(now(), 4)));
        reconcile(&store, &never, objects::plus_seconds(now(), 8));
        let unhealthy = store
            .list("events", Some("gateway"))
            .into_iter()
            .find(|e| e["reason"] == "Unhealthy")
            .unwrap();
        assert_eq!(unhealthy["count"], 2);
    }

    #[test]
    fn image_ids_are_plausible() {
        assert!(image_id("nginx:1.27").starts_with("docker.io/library/nginx@sha256:"));
        assert!(
            image_id("registry.k8s.io/pause:3.10").starts_with("registry.k8s.io/pause@sha256:")
        );
        assert!(image_id("localhost:5000/app").starts_with("localhost:5000/app@sha256:"));
    }
}
