//! The analysis: runs every check over each Service's view and assembles the report that
//! `print` shows and `-o json|yaml` serialises. Pure: fetched objects and a clock in, report out.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use runbook::findings::{drop_ignored, sort_findings, worst};
use runbook::{Finding, Severity};
use serde::Serialize;

use crate::checks::endpoints::{self, EndpointCounts};
use crate::checks::ports::{self, PortReport};
use crate::checks::{readiness, selector, service_subject, service_type};
use crate::fetch::{Fetched, ingress_addresses};
use crate::index::Index;
use crate::probe::ProbeResult;

/// One matched pod, as the PODS section lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodRow {
    /// Pod name.
    pub name: String,
    /// READY as kubectl prints it (`1/1`).
    pub ready: String,
    /// STATUS as kubectl prints it.
    pub status: String,
    /// Node name.
    pub node: String,
    /// Pod IP.
    pub ip: String,
}

/// Everything found about one Service.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReport {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// ClusterIP, NodePort, LoadBalancer or ExternalName.
    #[serde(rename = "type")]
    pub kind: String,
    /// The cluster IP (`None` for headless), empty for ExternalName.
    pub cluster_ip: String,
    /// Load balancer ingress addresses.
    pub external: Vec<String>,
    /// The selector.
    pub selector: BTreeMap<String, String>,
    /// Pods the selector matches (finished pods excluded).
    pub matched_pods: usize,
    /// Endpoint counts.
    pub endpoints: EndpointCounts,
    /// Ports and where they land.
    pub ports: Vec<PortReport>,
    /// The matched pods.
    pub pods: Vec<PodRow>,
    /// `--probe` results (empty without it).
    pub probes: Vec<ProbeResult>,
    /// The worst severity of the findings, `None` when there are none.
    pub worst: Option<Severity>,
    /// Findings about the Service and its pods, worst first.
    pub findings: Vec<Finding>,
}

impl ServiceReport {
    /// Adds findings (from `--probe`), keeping order and `worst` right.
    pub fn add_findings(&mut self, mut more: Vec<Finding>, ignored: &[String]) {
        drop_ignored(&mut more, ignored);
        self.findings.extend(more);
        sort_findings(&mut self.findings);
        self.worst = worst(&self.findings);
    }
}

/// Counts of Services by their worst finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Services checked.
    pub services: usize,
    /// With a critical finding.
    pub critical: usize,
    /// With a warning as worst.
    pub warning: usize,
    /// With nothing worse than info.
    pub ok: usize,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Counts by worst severity.
    pub summary: Summary,
    /// Per Service, worst first.
    pub services: Vec<ServiceReport>,
    /// What could not be read, and which checks were skipped.
    pub notes: Vec<String>,
}

impl Report {
    /// Every finding of every Service.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.services.iter().flat_map(|s| s.findings.iter())
    }

    /// Recomputes the summary and the order (after `--probe` added findings).
    pub fn finish(&mut self) {
        self.services.sort_by(|a, b| {
            b.worst
                .cmp(&a.worst)
                .then_with(|| a.namespace.cmp(&b.namespace))
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut s = Summary {
            services: self.services.len(),
            ..Summary::default()
        };
        for svc in &self.services {
            match svc.worst {
                Some(Severity::Critical) => s.critical += 1,
                Some(Severity::Warning) => s.warning += 1,
                _ => s.ok += 1,
            }
        }
        self.summary = s;
    }
}

/// Runs every check over every fetched Service. `ignored` is `--ignore`.
pub fn analyse(fetched: &Fetched, now: Timestamp, ignored: &[String]) -> Report {
    let index = Index::build(fetched);
    let mut shared: HashMap<String, Vec<Finding>> = HashMap::new();
    for f in service_type::shared_lb_ports(&fetched.load_balancers) {
        shared.entry(f.subject.clone()).or_default().push(f);
    }
    let services = fetched
        .services
        .iter()
        .map(|svc| {
            let view = index.view(svc);
            let counts = endpoints::counts(&view);
            let (ports, port_findings) = ports::check(&view);
            let mut findings = selector::check(&view);
            findings.extend(endpoints::check(&view, &counts));
            findings.extend(port_findings);
            findings.extend(readiness::check(&view));
            findings.extend(service_type::check(&view, now));
            findings.extend(shared.remove(&service_subject(&view)).unwrap_or_default());
            drop_ignored(&mut findings, ignored);
            sort_findings(&mut findings);
            let spec = svc.spec.as_ref();
            ServiceReport {
                namespace: view.namespace.to_string(),
                name: view.name.to_string(),
                kind: crate::checks::kind_of(svc).to_string(),
                cluster_ip: spec.and_then(|s| s.cluster_ip.clone()).unwrap_or_default(),
                external: ingress_addresses(svc)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                selector: spec.and_then(|s| s.selector.clone()).unwrap_or_default(),
                matched_pods: view.pods.len(),
                endpoints: counts,
                ports,
                pods: view.pods.iter().map(|p| pod_row(p)).collect(),
                probes: Vec::new(),
                worst: worst(&findings),
                findings,
            }
        })
        .collect();
    let mut report = Report {
        summary: Summary::default(),
        services,
        notes: fetched.notes.clone(),
    };
    report.finish();
    report
}

fn pod_row(pod: &k8s_openapi::api::core::v1::Pod) -> PodRow {
    let s = runbook::pods::summarize(pod, &[]);
    PodRow {
        ready: s.ready_text(),
        name: s.name,
        status: s.status,
        node: s.node.unwrap_or_else(|| "<none>".into()),
        ip: s.ip.unwrap_or_else(|| "<none>".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use crate::index::tests::{fetched, pod};
    use serde_json::json;

    fn scenario() -> Fetched {
        let lb = |ns: &str, name: &str| {
            json!({"metadata": {"name": name, "namespace": ns}, "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                "ports": [{"port": 443, "targetPort": 8080}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "47.1.2.3"}]}}})
        };
        let slice = json!({"metadata": {"name": "web-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}}]});
        let mut f = fetched(
            vec![
                json!({"metadata": {"name": "web", "namespace": "a"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
                json!({"metadata": {"name": "lost", "namespace": "a"}, "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 80}]}}),
                lb("a", "edge"),
            ],
            vec![pod("a", "web-1", json!({"app": "web"}))],
            vec![slice],
            vec![],
        );
        f.load_balancers = vec![
            serde_json::from_value(lb("a", "edge")).unwrap(),
            serde_json::from_value(lb("b", "other")).unwrap(),
        ];
        f
    }

    #[test]
    fn services_are_sorted_worst_first_with_summary() {
        let r = analyse(&scenario(), "2026-11-05T10:00:00Z".parse().unwrap(), &[]);
        let order: Vec<&str> = r.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(order, ["edge", "lost", "web"]);
        assert_eq!(
            r.summary,
            Summary {
                services: 3,
                critical: 2,
                warning: 0,
                ok: 1
            }
        );
        let edge = &r.services[0];
        assert!(
            edge.findings
                .iter()
                .any(|f| f.check == catalog::LB_SHARED_PORT)
        );
        assert_eq!(r.services[2].endpoints.ready, 1);
        assert_eq!(r.services[2].pods[0].status, "Running");
        assert!(
            r.findings().all(|f| catalog::is_known(&f.check)),
            "every emitted id is in the catalog"
        );
    }

    #[test]
    fn ignored_checks_are_dropped() {
        let r = analyse(
            &scenario(),
            "2026-11-05T10:00:00Z".parse().unwrap(),
            &["svc.*".into()],
        );
        assert_eq!(r.findings().count(), 0);
        assert_eq!(r.summary.ok, 3);
    }
}
