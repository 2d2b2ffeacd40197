//! The report: everything gw-status shows, as data. `-o json|yaml|jsonpath` print it as is;
//! the table printer reads it too. The schema is documented in the README and tested below.

use std::collections::BTreeSet;

use runbook::findings::{Finding, Severity, worst};
use runbook::quantity::{fmt_bytes, fmt_cpu};
use serde::Serialize;

use crate::checks::dependencies::{EndpointCounts, endpoints, find_service};
use crate::checks::gateway_api::{gateway_key, gateways_of, routes_of};
use crate::checks::logs::{Hit, scan};
use crate::checks::placement::node_condition;
use crate::fetch::{Availability, Fetched, ProbeOutcome};
use crate::objects::{Condition, condition};
use crate::usage::{self, percent};
use crate::view::{ComponentView, GatewayView};

/// Overall verdict of a gateway or of the whole report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// No warning or critical finding.
    Healthy,
    /// Warnings or critical findings, but traffic can still be served.
    Degraded,
    /// A traffic-carrying part is missing, has no available replica, or its Service has no
    /// ready endpoint, or the Gateway is not programmed.
    Down,
}

impl Health {
    /// Upper-case label for the summary line.
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "HEALTHY",
            Health::Degraded => "DEGRADED",
            Health::Down => "DOWN",
        }
    }
}

/// Critical checks that mean the gateway cannot serve.
const DOWN_CHECKS: &[&str] = &[
    "component.missing",
    "replicas.unavailable",
    "svc.no-endpoints",
    "gateway.not-programmed",
    "gatewayclass.missing",
    "gatewayclass.not-accepted",
];

/// The verdict for a set of findings.
pub fn health(findings: &[Finding]) -> Health {
    if findings
        .iter()
        .any(|f| f.severity == Severity::Critical && DOWN_CHECKS.contains(&f.check.as_str()))
    {
        return Health::Down;
    }
    match worst(findings) {
        Some(Severity::Critical | Severity::Warning) => Health::Degraded,
        _ => Health::Healthy,
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Worst verdict over the gateways.
    pub status: Health,
    /// Counts of findings by severity.
    pub counts: Counts,
    /// One entry per gateway reported on.
    pub gateways: Vec<GatewayReport>,
    /// Every component of every gateway, in order.
    pub components: Vec<ComponentReport>,
    /// The nodes hosting the gateways' pods.
    pub nodes: Vec<NodeReport>,
    /// Admission webhooks backed by a gateway Service, or whose Service has no ready endpoint.
    pub webhooks: Vec<WebhookReport>,
    /// Gateway API objects of the profiles' GatewayClasses.
    pub gateway_api: Vec<GatewayClassReport>,
    /// Whether metrics.k8s.io answered.
    pub metrics: MetricsReport,
    /// `--logs`: signatures found per container (empty without --logs).
    pub logs: Vec<LogReport>,
    /// `--probe`: admin endpoint answers (empty without --probe).
    pub probes: Vec<ProbeReport>,
    /// Every finding, worst first.
    pub findings: Vec<Finding>,
}

/// Findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Informational findings.
    pub info: usize,
}

impl Counts {
    /// Counts `findings`.
    pub fn of(findings: &[Finding]) -> Counts {
        let n = |s| findings.iter().filter(|f| f.severity == s).count();
        Counts {
            critical: n(Severity::Critical),
            warning: n(Severity::Warning),
            info: n(Severity::Info),
        }
    }

    /// `2 critical, 3 warnings, 1 info` (parts at zero left out), or `no findings`.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        if self.critical > 0 {
            parts.push(format!("{} critical", self.critical));
        }
        if self.warning > 0 {
            let s = if self.warning == 1 { "" } else { "s" };
            parts.push(format!("{} warning{s}", self.warning));
        }
        if self.info > 0 {
            parts.push(format!("{} info", self.info));
        }
        if parts.is_empty() {
            "no findings".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// One gateway.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayReport {
    /// Profile name.
    pub profile: String,
    /// `built-in profile`, `profile from PATH`, or `deployment`.
    pub origin: String,
    /// What the profile describes.
    pub description: String,
    /// Namespace of its components.
    pub namespace: String,
    /// Verdict from its own findings.
    pub status: Health,
    /// Its findings by severity.
    pub counts: Counts,
}

/// One component (Deployment).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentReport {
    /// Profile it belongs to.
    pub profile: String,
    /// Deployment name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// control-plane, data-plane or addon.
    pub role: &'static str,
    /// Whether the Deployment exists.
    pub found: bool,
    /// Replica counts and rollout state (absent when not found).
    pub replicas: Option<runbook::workload::ReplicaStatus>,
    /// Its pods.
    pub pods: Vec<PodReport>,
    /// Requests, limits and usage per pod and container.
    pub containers: Vec<ContainerReport>,
    /// Warning events, merged with counts, newest first.
    pub events: Vec<EventReport>,
    /// Services selecting its pods.
    pub services: Vec<ServiceReport>,
    /// PodDisruptionBudgets covering it.
    pub pdbs: Vec<String>,
    /// Nodes its pods run on.
    pub nodes: Vec<String>,
}

/// One pod, as `kubectl get pods -o wide` shows it, plus the last termination.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodReport {
    /// Pod name.
    pub name: String,
    /// status.phase.
    pub phase: String,
    /// kubectl's STATUS column (CrashLoopBackOff, OOMKilled, Pending, Evicted, ...).
    pub status: String,
    /// READY column (`1/1`).
    pub ready: String,
    /// Restarts.
    pub restarts: i32,
    /// How the last container run ended (`OOMKilled (137)`), if any did.
    pub last_termination: Option<String>,
    /// Node, if scheduled.
    pub node: Option<String>,
    /// Age (`5m`).
    pub age: String,
    /// Why it is not running: the scheduler's or the kubelet's message.
    pub message: Option<String>,
}

/// Requests, limits and usage of one container of one pod.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerReport {
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Requests (`cpu`, `memory` as quantities).
    pub requests: Amounts,
    /// Limits.
    pub limits: Amounts,
    /// Live usage (absent when metrics are not served).
    pub usage: Option<Amounts>,
    /// Memory usage as a percentage of the limit.
    pub memory_percent_of_limit: Option<u32>,
    /// CPU usage as a percentage of the limit.
    pub cpu_percent_of_limit: Option<u32>,
}

/// CPU and memory as printed quantities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Amounts {
    /// CPU (`500m`, `2`).
    pub cpu: Option<String>,
    /// Memory (`512Mi`).
    pub memory: Option<String>,
}

impl From<usage::Amounts> for Amounts {
    fn from(a: usage::Amounts) -> Self {
        Amounts {
            cpu: a.cpu_millis.map(fmt_cpu),
            memory: a.memory_bytes.map(fmt_bytes),
        }
    }
}

/// One merged event.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReport {
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub type_: String,
    /// Reason.
    pub reason: String,
    /// `kind/name` of the object.
    pub object: String,
    /// How many times.
    pub count: i32,
    /// Age of the last occurrence.
    pub last_seen: String,
    /// Message.
    pub message: String,
}

/// One Service with its endpoints.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// ClusterIP, NodePort, LoadBalancer, ExternalName.
    #[serde(rename = "type")]
    pub type_: String,
    /// The ClusterIP.
    pub cluster_ip: Option<String>,
    /// Ports.
    pub ports: Vec<i32>,
    /// Ready and not-ready endpoints.
    pub endpoints: EndpointCounts,
}

/// A node hosting the gateway.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// The Ready condition's status (True, False, Unknown), or `Missing` when the node is gone.
    pub ready: String,
    /// Pressure conditions that are True.
    pub pressure: Vec<String>,
    /// Cordoned.
    pub unschedulable: bool,
    /// Live usage.
    pub usage: Option<Amounts>,
    /// CPU usage as a percentage of allocatable.
    pub cpu_percent: Option<u32>,
    /// Memory usage as a percentage of allocatable.
    pub memory_percent: Option<u32>,
    /// Requested CPU as a percentage of allocatable.
    pub cpu_requested_percent: Option<u32>,
    /// Requested memory as a percentage of allocatable.
    pub memory_requested_percent: Option<u32>,
    /// Gateway components with pods there.
    pub components: Vec<String>,
}

/// An admission webhook and its backing Service.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookReport {
    /// validating or mutating.
    pub kind: &'static str,
    /// The configuration object's name.
    pub configuration: String,
    /// The webhook's name.
    pub name: String,
    /// `namespace/name` of its Service.
    pub service: String,
    /// Fail (default) or Ignore.
    pub failure_policy: String,
    /// Whether the Service exists.
    pub service_exists: bool,
    /// Its ready endpoints.
    pub ready_endpoints: usize,
}

/// A GatewayClass with its Gateways and routes.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayClassReport {
    /// Class name.
    pub name: String,
    /// Whether the Gateway API is served (and the reason when not).
    pub served: bool,
    /// Why not served.
    pub reason: Option<String>,
    /// Whether the class exists.
    pub found: bool,
    /// Its controllerName.
    pub controller_name: Option<String>,
    /// The Accepted condition.
    pub accepted: Option<Condition>,
    /// Its Gateways.
    pub gateways: Vec<GatewayObjectReport>,
    /// HTTPRoutes attached to those Gateways.
    pub routes: Vec<RouteReport>,
}

/// A Gateway.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayObjectReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Addresses assigned.
    pub addresses: Vec<String>,
    /// Its conditions, as reported.
    pub conditions: Vec<Condition>,
    /// Its listeners.
    pub listeners: Vec<ListenerReport>,
}

/// A listener with its status.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerReport {
    /// Name.
    pub name: String,
    /// Port.
    pub port: i32,
    /// Protocol.
    pub protocol: String,
    /// Routes attached.
    pub attached_routes: i32,
    /// Its conditions.
    pub conditions: Vec<Condition>,
}

/// An HTTPRoute with each parent's verdict.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Hostnames.
    pub hostnames: Vec<String>,
    /// One entry per parentRef.
    pub parents: Vec<RouteParentReport>,
    /// `namespace/name:port` of each backend Service.
    pub backends: Vec<String>,
}

/// One parent of a route.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentReport {
    /// `namespace/name[/section]`.
    pub parent: String,
    /// The Accepted condition, if the controller wrote one.
    pub accepted: Option<Condition>,
    /// The ResolvedRefs condition, if written.
    pub resolved_refs: Option<Condition>,
}

/// metrics.k8s.io availability.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsReport {
    /// Pod metrics answered.
    pub served: bool,
    /// Why not.
    pub reason: Option<String>,
}

/// Signatures found in one container's log.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogReport {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container.
    pub container: String,
    /// The previous (crashed) instance's log.
    pub previous: bool,
    /// Why the log could not be read.
    pub error: Option<String>,
    /// Signatures found.
    pub hits: Vec<Hit>,
}

/// One admin endpoint answer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    /// `namespace/service:port/path`.
    pub endpoint: String,
    /// Whether the API server proxied the request at all.
    pub asked: bool,
    /// 2xx.
    pub ok: bool,
    /// The body's first line or the error.
    pub answer: String,
}

/// Builds the report from the joined gateways, the snapshot and the (filtered, sorted) findings
/// of each gateway.
pub fn build(
    gateways: &[(GatewayView<'_>, Vec<Finding>)],
    f: &Fetched,
    findings: Vec<Finding>,
) -> Report {
    let gateway_reports: Vec<GatewayReport> = gateways
        .iter()
        .map(|(gw, own)| GatewayReport {
            profile: gw.profile.name.clone(),
            origin: gw.profile.origin.label(),
            description: gw.profile.description.clone(),
            namespace: gw.namespace.clone(),
            status: health(own),
            counts: Counts::of(own),
        })
        .collect();
    let components = gateways
        .iter()
        .flat_map(|(gw, _)| gw.components.iter().map(|c| component(gw, c, f)))
        .collect();
    let status = gateway_reports
        .iter()
        .map(|g| g.status)
        .max()
        .unwrap_or(Health::Healthy);
    Report {
        status,
        counts: Counts::of(&findings),
        gateways: gateway_reports,
        components,
        nodes: nodes(gateways, f),
        webhooks: webhooks(gateways, f),
        gateway_api: gateway_api(gateways, f),
        metrics: match &f.pod_metrics {
            Availability::Served(_) => MetricsReport {
                served: true,
                reason: None,
            },
            Availability::Unavailable(r) => MetricsReport {
                served: false,
                reason: Some(r.clone()),
            },
        },
        logs: f
            .logs
            .iter()
            .map(|l| LogReport {
                namespace: l.namespace.clone(),
                pod: l.pod.clone(),
                container: l.container.clone(),
                previous: l.previous,
                error: l.text.as_ref().err().cloned(),
                hits: l.text.as_deref().map(scan).unwrap_or_default(),
            })
            .collect(),
        probes: f
            .probes
            .iter()
            .map(|p| ProbeReport {
                endpoint: format!("{}/{}:{}{}", p.namespace, p.service, p.port, p.path),
                asked: !matches!(p.outcome, ProbeOutcome::NotProxied(_)),
                ok: matches!(p.outcome, ProbeOutcome::Answered(_)),
                answer: match &p.outcome {
                    ProbeOutcome::Answered(text) | ProbeOutcome::Failed(text) => text.clone(),
                    ProbeOutcome::NotProxied(text) => text.clone(),
                },
            })
            .collect(),
        findings,
    }
}

fn component(gw: &GatewayView<'_>, c: &ComponentView<'_>, f: &Fetched) -> ComponentReport {
    let pods = c
        .summaries
        .iter()
        .map(|s| PodReport {
            name: s.name.clone(),
            phase: s.phase.clone(),
            status: s.status.clone(),
            ready: s.ready_text(),
            restarts: s.restarts,
            last_termination: s
                .containers
                .iter()
                .filter_map(|c| c.last_termination.as_ref())
                .next()
                .map(|t| {
                    format!(
                        "{} ({})",
                        if t.reason.is_empty() {
                            "Unknown"
                        } else {
                            &t.reason
                        },
                        t.exit_code
                    )
                }),
            node: s.node.clone(),
            age: runbook::time::age_of(
                s.age_since
                    .map(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time)
                    .as_ref(),
                f.now,
            ),
            message: s
                .unschedulable
                .clone()
                .or_else(|| s.evicted.clone())
                .or_else(|| {
                    s.containers
                        .iter()
                        .find_map(|c| c.broken_reason().and(c.message.clone()))
                }),
        })
        .collect();
    let containers = c
        .summaries
        .iter()
        .flat_map(|s| {
            c.containers().iter().map(move |t| {
                let limits = usage::limits(t);
                let used = usage::container_usage(f, &s.namespace, &s.name, &t.name);
                ContainerReport {
                    pod: s.name.clone(),
                    container: t.name.clone(),
                    requests: usage::requests(t).into(),
                    limits: limits.into(),
                    usage: used.map(Into::into),
                    memory_percent_of_limit: used
                        .and_then(|u| percent(u.memory_bytes, limits.memory_bytes)),
                    cpu_percent_of_limit: used
                        .and_then(|u| percent(u.cpu_millis, limits.cpu_millis)),
                }
            })
        })
        .collect();
    ComponentReport {
        profile: gw.profile.name.clone(),
        name: c.name().to_string(),
        namespace: c.namespace.clone(),
        role: c.spec.role.label(),
        found: c.deployment.is_some(),
        replicas: c.deployment.map(runbook::workload::replica_status),
        pods,
        containers,
        events: c
            .events
            .iter()
            .filter(|e| e.is_warning())
            .map(|e| EventReport {
                type_: e.type_.clone(),
                reason: e.reason.clone(),
                object: format!("{}/{}", e.kind.to_lowercase(), e.name),
                count: e.count,
                last_seen: e
                    .last_seen
                    .map_or_else(|| "<unknown>".to_string(), |t| runbook::time::age(t, f.now)),
                message: e.message.clone(),
            })
            .collect(),
        services: c.services.iter().map(|s| service(s, f)).collect(),
        pdbs: c
            .pdbs
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect(),
        nodes: c.nodes().into_iter().collect(),
    }
}

fn service(s: &k8s_openapi::api::core::v1::Service, f: &Fetched) -> ServiceReport {
    let ns = s.metadata.namespace.clone().unwrap_or_default();
    let name = s.metadata.name.clone().unwrap_or_default();
    let spec = s.spec.as_ref();
    ServiceReport {
        endpoints: endpoints(f, &ns, &name),
        namespace: ns,
        name,
        type_: spec
            .and_then(|s| s.type_.clone())
            .unwrap_or_else(|| "ClusterIP".into()),
        cluster_ip: spec.and_then(|s| s.cluster_ip.clone()),
        ports: spec
            .and_then(|s| s.ports.as_ref())
            .map(|p| p.iter().map(|p| p.port).collect())
            .unwrap_or_default(),
    }
}

fn nodes(gateways: &[(GatewayView<'_>, Vec<Finding>)], f: &Fetched) -> Vec<NodeReport> {
    let names: BTreeSet<String> = gateways.iter().flat_map(|(gw, _)| gw.nodes()).collect();
    names
        .into_iter()
        .map(|name| {
            let components: Vec<String> = gateways
                .iter()
                .flat_map(|(gw, _)| gw.components.iter())
                .filter(|c| c.nodes().contains(&name))
                .map(|c| c.name().to_string())
                .collect();
            let Some(node) = f
                .nodes
                .iter()
                .find(|n| n.metadata.name.as_deref() == Some(&name))
            else {
                return NodeReport {
                    name,
                    ready: "Missing".into(),
                    pressure: Vec::new(),
                    unschedulable: false,
                    usage: None,
                    cpu_percent: None,
                    memory_percent: None,
                    cpu_requested_percent: None,
                    memory_requested_percent: None,
                    components,
                };
            };
            let alloc = usage::allocatable(node);
            let used = usage::node_usage(f, &name);
            let requested = usage::requested_on(f, &name);
            NodeReport {
                ready: node_condition(node, "Ready")
                    .map_or_else(|| "Unknown".into(), |c| c.status.clone()),
                pressure: ["MemoryPressure", "DiskPressure", "PIDPressure"]
                    .into_iter()
                    .filter(|p| node_condition(node, p).is_some_and(|c| c.status == "True"))
                    .map(str::to_string)
                    .collect(),
                unschedulable: node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true),
                usage: used.map(Into::into),
                cpu_percent: used.and_then(|u| percent(u.cpu_millis, alloc.cpu_millis)),
                memory_percent: used.and_then(|u| percent(u.memory_bytes, alloc.memory_bytes)),
                cpu_requested_percent: percent(Some(requested.cpu_millis), alloc.cpu_millis),
                memory_requested_percent: percent(Some(requested.memory_bytes), alloc.memory_bytes),
                components,
                name,
            }
        })
        .collect()
}

fn webhooks(gateways: &[(GatewayView<'_>, Vec<Finding>)], f: &Fetched) -> Vec<WebhookReport> {
    let namespaces: BTreeSet<&str> = gateways
        .iter()
        .map(|(gw, _)| gw.namespace.as_str())
        .collect();
    let mut out = Vec::new();
    let validating = f
        .validating_webhooks
        .served()
        .into_iter()
        .flatten()
        .flat_map(|cfg| {
            cfg.webhooks.iter().flatten().map(move |w| {
                (
                    "validating",
                    cfg.metadata.name.clone().unwrap_or_default(),
                    w.name.clone(),
                    w.client_config.service.clone(),
                    w.failure_policy.clone(),
                )
            })
        });
    let mutating = f
        .mutating_webhooks
        .served()
        .into_iter()
        .flatten()
        .flat_map(|cfg| {
            cfg.webhooks.iter().flatten().map(move |w| {
                (
                    "mutating",
                    cfg.metadata.name.clone().unwrap_or_default(),
                    w.name.clone(),
                    w.client_config.service.clone(),
                    w.failure_policy.clone(),
                )
            })
        });
    for (kind, configuration, name, svc, policy) in validating.chain(mutating) {
        let Some(svc) = svc else { continue };
        let exists = find_service(f, &svc.namespace, &svc.name).is_some();
        let ready = endpoints(f, &svc.namespace, &svc.name).ready;
        if !namespaces.contains(svc.namespace.as_str()) && exists && ready > 0 {
            continue;
        }
        out.push(WebhookReport {
            kind,
            configuration,
            name,
            service: format!("{}/{}", svc.namespace, svc.name),
            failure_policy: policy.unwrap_or_else(|| "Fail".into()),
            service_exists: exists,
            ready_endpoints: ready,
        });
    }
    out
}

fn gateway_api(
    gateways: &[(GatewayView<'_>, Vec<Finding>)],
    f: &Fetched,
) -> Vec<GatewayClassReport> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (gw, _) in gateways {
        let Some(spec) = &gw.profile.gateway_class else {
            continue;
        };
        if !seen.insert(spec.name.clone()) {
            continue;
        }
        let (served, reason) = match &f.gateway_api {
            Availability::Served(_) => (true, None),
            Availability::Unavailable(r) => (false, Some(r.clone())),
        };
        let class = f.gateway_api.served().and_then(|o| {
            o.classes
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(&spec.name))
        });
        let gws = gateways_of(f, &spec.name);
        let keys: BTreeSet<String> = gws.iter().map(|g| gateway_key(g)).collect();
        out.push(GatewayClassReport {
            name: spec.name.clone(),
            served,
            reason,
            found: class.is_some(),
            controller_name: class.map(|c| c.spec.controller_name.clone()),
            accepted: class.and_then(|c| condition(&c.status.conditions, "Accepted").cloned()),
            gateways: gws
                .iter()
                .map(|g| GatewayObjectReport {
                    namespace: g.metadata.namespace.clone().unwrap_or_default(),
                    name: g.metadata.name.clone().unwrap_or_default(),
                    addresses: g.status.addresses.iter().map(|a| a.value.clone()).collect(),
                    conditions: g.status.conditions.clone(),
                    listeners: g
                        .spec
                        .listeners
                        .iter()
                        .map(|l| {
                            let status = g.status.listeners.iter().find(|s| s.name == l.name);
                            ListenerReport {
                                name: l.name.clone(),
                                port: l.port,
                                protocol: l.protocol.clone(),
                                attached_routes: status.map_or(0, |s| s.attached_routes),
                                conditions: status
                                    .map(|s| s.conditions.clone())
                                    .unwrap_or_default(),
                            }
                        })
                        .collect(),
                })
                .collect(),
            routes: routes_of(f, &keys)
                .into_iter()
                .map(|r| {
                    let ns = r.metadata.namespace.clone().unwrap_or_default();
                    RouteReport {
                        parents: r
                            .spec
                            .parent_refs
                            .iter()
                            .map(|p| {
                                let st = r.status.parents.iter().find(|s| {
                                    s.parent_ref.name == p.name
                                        && s.parent_ref.namespace.as_deref().unwrap_or(&ns)
                                            == p.namespace.as_deref().unwrap_or(&ns)
                                        && s.parent_ref.section_name == p.section_name
                                });
                                RouteParentReport {
                                    parent: p.display(&ns),
                                    accepted: st.and_then(|s| {
                                        condition(&s.conditions, "Accepted").cloned()
                                    }),
                                    resolved_refs: st.and_then(|s| {
                                        condition(&s.conditions, "ResolvedRefs").cloned()
                                    }),
                                }
                            })
                            .collect(),
                        backends: r
                            .spec
                            .rules
                            .iter()
                            .flat_map(|rule| rule.backend_refs.iter())
                            .map(|b| {
                                let bns = b.namespace.as_deref().unwrap_or(&ns);
                                match b.port {
                                    Some(p) => format!("{bns}/{}:{p}", b.name),
                                    None => format!("{bns}/{}", b.name),
                                }
                            })
                            .collect(),
                        hostnames: r.spec.hostnames.clone(),
                        name: r.metadata.name.clone().unwrap_or_default(),
                        namespace: ns,
                    }
                })
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::World;
    use crate::discover::{Plan, Planned};
    use crate::profiles::builtin;

    fn report_of(w: &World) -> serde_json::Value {
        let plan = Plan {
            gateways: vec![Planned {
                profile: builtin().remove(1),
                namespace: "istio-system".into(),
            }],
            notes: vec![],
        };
        serde_json::to_value(crate::evaluate(&plan, &w.f, &[])).unwrap()
    }

    /// The documented schema (README "JSON report"): these paths are a contract for scripts.
    #[test]
    fn json_schema_is_stable() {
        let w = World::new()
            .component("istio-system", "istiod", 1, 0)
            .component("istio-system", "istio-ingressgateway", 2, 2);
        let v = report_of(&w);
        assert_eq!(v["status"], "down");
        assert_eq!(v["counts"]["critical"], 2, "{:#}", v["findings"]);
        assert_eq!(v["gateways"][0]["profile"], "istio");
        assert_eq!(v["gateways"][0]["namespace"], "istio-system");
        assert_eq!(v["gateways"][0]["status"], "down");
        let c = &v["components"][0];
        assert_eq!(c["name"], "istiod");
        assert_eq!(c["role"], "control-plane");
        assert_eq!(c["found"], true);
        for key in ["desired", "updated", "ready", "available"] {
            assert!(c["replicas"][key].is_i64(), "replicas.{key}");
        }
        assert_eq!(c["replicas"]["available"], 0);
        assert_eq!(c["pods"][0]["status"], "Running");
        assert_eq!(c["pods"][0]["ready"], "0/1");
        assert_eq!(c["containers"][0]["limits"]["memory"], "512Mi");
        assert_eq!(c["containers"][0]["usage"], serde_json::Value::Null);
        assert_eq!(v["components"][1]["replicas"]["available"], 2);
        assert_eq!(v["nodes"][0]["name"], "node-1");
        assert_eq!(v["nodes"][0]["cpuRequestedPercent"], 8);
        assert_eq!(v["metrics"]["served"], true);
        let f = &v["findings"][0];
        assert_eq!(f["severity"], "critical");
        assert_eq!(f["check"], "replicas.unavailable");
        assert_eq!(f["subject"], "deployment/istio-system/istiod");
        assert!(f["hint"].is_string());
        for key in ["webhooks", "gatewayApi", "logs", "probes"] {
            assert!(v[key].is_array(), "{key}");
        }
    }

    #[test]
    fn health_follows_the_findings() {
        assert_eq!(health(&[]), Health::Healthy);
        let warn = Finding::warning("posture.no-pdb", "deployment/a/b", "m", "h");
        assert_eq!(health(std::slice::from_ref(&warn)), Health::Degraded);
        let crash = Finding::critical("pod.crashloop", "pod/a/b", "m", "h");
        assert_eq!(health(&[warn.clone(), crash]), Health::Degraded);
        let down = Finding::critical("svc.no-endpoints", "service/a/b", "m", "h");
        assert_eq!(health(&[warn, down]), Health::Down);
        assert_eq!(Counts::of(&[]).text(), "no findings");
    }
}
