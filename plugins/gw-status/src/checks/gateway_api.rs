//! Gateway API (runbook 002): the GatewayClass accepted with the right controller, its
//! Gateways programmed, each listener's conditions, and the HTTPRoutes attached to them —
//! parents accepted and backendRefs resolved. Conditions are read by type at every level,
//! never by position (a listener may say Programmed=True while its Gateway says False).
//! backendRefs are also resolved here against the Services, so a route whose controller
//! wrote no status still gets an answer.

use std::collections::BTreeSet;

use runbook::Finding;

use crate::checks::dependencies::{endpoints, find_service};
use crate::fetch::{Availability, Fetched};
use crate::objects::{Condition, Gateway, HttpRoute, condition};
use crate::profiles::GatewayClassSpec;
use crate::view::GatewayView;

/// The Gateways of class `class`.
pub fn gateways_of<'a>(f: &'a Fetched, class: &str) -> Vec<&'a Gateway> {
    f.gateway_api
        .served()
        .map(|g| {
            g.gateways
                .iter()
                .filter(|gw| gw.spec.gateway_class_name == class)
                .collect()
        })
        .unwrap_or_default()
}

/// `namespace/name` of a Gateway.
pub fn gateway_key(g: &Gateway) -> String {
    format!(
        "{}/{}",
        g.metadata.namespace.as_deref().unwrap_or_default(),
        g.metadata.name.as_deref().unwrap_or_default()
    )
}

/// The HTTPRoutes with a parentRef to one of `gateways` (`namespace/name` keys).
pub fn routes_of<'a>(f: &'a Fetched, gateways: &BTreeSet<String>) -> Vec<&'a HttpRoute> {
    f.gateway_api
        .served()
        .map(|g| {
            g.routes
                .iter()
                .filter(|r| {
                    let ns = r.metadata.namespace.as_deref().unwrap_or_default();
                    r.spec.parent_refs.iter().any(|p| {
                        p.is_gateway()
                            && gateways.contains(&format!(
                                "{}/{}",
                                p.namespace.as_deref().unwrap_or(ns),
                                p.name
                            ))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Gateway API findings of a gateway whose profile names a GatewayClass.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let Some(spec) = &gw.profile.gateway_class else {
        return Vec::new();
    };
    let class_subject = runbook::findings::subject("gatewayclass", "", &spec.name);
    let objects = match &f.gateway_api {
        Availability::Served(o) => o,
        Availability::Unavailable(reason) => {
            return vec![Finding::critical(
                "gatewayclass.missing",
                class_subject,
                format!("the Gateway API is not served ({reason}): no Gateway can be programmed"),
                "install the Gateway API CRDs (standard channel) before the gateway's chart",
            )];
        }
    };
    let mut out = Vec::new();
    match objects
        .classes
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(&spec.name))
    {
        None => out.push(Finding::critical(
            "gatewayclass.missing",
            class_subject,
            format!("GatewayClass {} does not exist", spec.name),
            format!(
                "install it from the gateway's chart (controllerName {})",
                spec.controller_name
            ),
        )),
        Some(class) => out.extend(class_findings(
            spec,
            &class.spec.controller_name,
            &class.status.conditions,
        )),
    }
    let gateways = gateways_of(f, &spec.name);
    for g in &gateways {
        out.extend(gateway_findings(g));
    }
    let keys: BTreeSet<String> = gateways.iter().map(|g| gateway_key(g)).collect();
    for r in routes_of(f, &keys) {
        out.extend(route_findings(r, &keys, f));
    }
    out
}

fn describe(c: &Condition) -> String {
    let reason = if c.reason.is_empty() {
        "no reason"
    } else {
        &c.reason
    };
    if c.message.is_empty() {
        format!("{}={} ({reason})", c.type_, c.status)
    } else {
        format!("{}={} ({reason}: {})", c.type_, c.status, c.message)
    }
}

fn class_findings(
    spec: &GatewayClassSpec,
    controller: &str,
    conditions: &[Condition],
) -> Vec<Finding> {
    let subject = runbook::findings::subject("gatewayclass", "", &spec.name);
    let mut out = Vec::new();
    if controller != spec.controller_name {
        out.push(Finding::critical(
            "gatewayclass.wrong-controller",
            subject.clone(),
            format!(
                "GatewayClass {} names controller {controller:?}, not {:?}: no controller of this gateway will program it",
                spec.name, spec.controller_name
            ),
            format!("set spec.controllerName to {} (re-create the class: the field is immutable)", spec.controller_name),
        ));
    }
    match condition(conditions, "Accepted") {
        Some(c) if c.status == "True" => {}
        Some(c) if c.status == "False" => out.push(Finding::critical(
            "gatewayclass.not-accepted",
            subject,
            format!("GatewayClass {} is not accepted: {}", spec.name, describe(c)),
            "fix what the message names (often its parametersRef), then check the controller's logs",
        )),
        _ => out.push(Finding::warning(
            "gatewayclass.not-accepted",
            subject,
            format!(
                "GatewayClass {} has no Accepted status yet: its controller has not looked at it",
                spec.name
            ),
            "is the control plane running? kubectl gw-status with --logs reads its log",
        )),
    }
    out
}

fn gateway_findings(g: &Gateway) -> Vec<Finding> {
    let ns = g.metadata.namespace.as_deref().unwrap_or_default();
    let name = g.metadata.name.as_deref().unwrap_or_default();
    let subject = runbook::findings::subject("gateway", ns, name);
    let describe_hint = format!("kubectl describe gateway {name} -n {ns}");
    let mut out = Vec::new();
    let conds = &g.status.conditions;
    if let Some(c) = condition(conds, "Accepted").filter(|c| c.status == "False") {
        out.push(Finding::critical(
            "gateway.not-accepted",
            subject.clone(),
            format!("Gateway {name} is not accepted: {}", describe(c)),
            describe_hint.clone(),
        ));
    }
    match condition(conds, "Programmed") {
        Some(c) if c.status == "True" => {}
        Some(c) if c.status == "False" => out.push(Finding::critical(
            "gateway.not-programmed",
            subject.clone(),
            format!("Gateway {name} is not programmed: {}", describe(c)),
            format!("the data plane did not take its configuration; {describe_hint}"),
        )),
        _ => out.push(Finding::warning(
            "gateway.not-programmed",
            subject.clone(),
            format!(
                "Gateway {name} reports no Programmed status: its controller has not reconciled it"
            ),
            "is the control plane running and does the class name match?".to_string(),
        )),
    }
    for spec in &g.spec.listeners {
        let Some(status) = g.status.listeners.iter().find(|l| l.name == spec.name) else {
            continue;
        };
        let lsubject = format!("{subject}/{}", spec.name);
        let checks: [(&str, &str, bool); 4] = [
            ("Accepted", "listener.not-accepted", false),
            ("Programmed", "listener.not-programmed", false),
            ("ResolvedRefs", "listener.refs-unresolved", false),
            ("Conflicted", "listener.conflicted", true),
        ];
        for (type_, id, bad_when_true) in checks {
            let Some(c) = condition(&status.conditions, type_) else {
                continue;
            };
            let bad = if bad_when_true {
                c.status == "True"
            } else {
                c.status == "False"
            };
            if bad {
                out.push(Finding::critical(
                    id,
                    lsubject.clone(),
                    format!(
                        "listener {} (port {}, {}) of Gateway {name}: {}",
                        spec.name,
                        spec.port,
                        spec.protocol,
                        describe(c)
                    ),
                    describe_hint.clone(),
                ));
            }
        }
    }
    out
}

fn route_findings(r: &HttpRoute, gateways: &BTreeSet<String>, f: &Fetched) -> Vec<Finding> {
    let ns = r.metadata.namespace.as_deref().unwrap_or_default();
    let name = r.metadata.name.as_deref().unwrap_or_default();
    let subject = runbook::findings::subject("httproute", ns, name);
    let hint = format!("kubectl describe httproute {name} -n {ns}");
    let (broken, empty) = backend_problems(r, f);
    let mut controller_unresolved = false;
    let mut out = Vec::new();
    for parent in r.spec.parent_refs.iter().filter(|p| p.is_gateway()) {
        let parent_ns = parent.namespace.as_deref().unwrap_or(ns);
        if !gateways.contains(&format!("{parent_ns}/{}", parent.name)) {
            continue;
        }
        let status = r.status.parents.iter().find(|s| {
            s.parent_ref.name == parent.name
                && s.parent_ref.namespace.as_deref().unwrap_or(ns) == parent_ns
                && s.parent_ref.section_name == parent.section_name
        });
        let shown = parent.display(ns);
        let Some(conds) = status.map(|s| &s.conditions) else {
            out.push(Finding::warning(
                "httproute.parent-not-accepted",
                subject.clone(),
                format!("HTTPRoute {name} has no status for parent {shown}: the controller has not attached it"),
                hint.clone(),
            ));
            continue;
        };
        if let Some(c) = condition(conds, "Accepted").filter(|c| c.status != "True") {
            out.push(Finding::critical(
                "httproute.parent-not-accepted",
                subject.clone(),
                format!(
                    "HTTPRoute {name} is not accepted by {shown}: {} - it receives no traffic",
                    describe(c)
                ),
                format!("make the parentRef match a listener (name, port, hostname, allowedRoutes); {hint}"),
            ));
        }
        if let Some(c) = condition(conds, "ResolvedRefs").filter(|c| c.status == "False") {
            if controller_unresolved {
                continue;
            }
            controller_unresolved = true;
            let fix = broken.first().map_or_else(
                || {
                    "fix the backendRef (Service name, namespace with a ReferenceGrant, port)"
                        .to_string()
                },
                |(what, fix)| format!("{what}: {fix}"),
            );
            out.push(Finding::critical(
                "httproute.backend-unresolved",
                subject.clone(),
                format!(
                    "HTTPRoute {name}: backendRefs do not resolve: {}",
                    describe(c)
                ),
                fix,
            ));
        }
    }
    if !controller_unresolved {
        out.extend(broken.into_iter().map(|(what, fix)| {
            Finding::critical(
                "httproute.backend-unresolved",
                subject.clone(),
                format!("HTTPRoute {name}: {what}"),
                fix,
            )
        }));
    }
    out.extend(empty.into_iter().map(|(what, fix)| {
        Finding::warning(
            "httproute.backend-no-endpoints",
            subject.clone(),
            format!("HTTPRoute {name}: {what}"),
            fix,
        )
    }));
    out
}

/// backendRefs checked against the Services themselves: (what, fix) of those that do not
/// resolve, and of those whose Service has no ready endpoint.
#[allow(clippy::type_complexity)]
fn backend_problems(r: &HttpRoute, f: &Fetched) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let ns = r.metadata.namespace.as_deref().unwrap_or_default();
    let mut broken = Vec::new();
    let mut empty = Vec::new();
    let mut seen = BTreeSet::new();
    for b in r
        .spec
        .rules
        .iter()
        .flat_map(|rule| rule.backend_refs.iter())
    {
        if !b.is_service() {
            continue;
        }
        let bns = b.namespace.as_deref().unwrap_or(ns);
        if !seen.insert((bns.to_string(), b.name.clone(), b.port)) {
            continue;
        }
        let Some(svc) = find_service(f, bns, &b.name) else {
            broken.push((
                format!("backend Service {bns}/{} does not exist", b.name),
                format!("create it or fix the backendRef name (kubectl get svc -n {bns})"),
            ));
            continue;
        };
        let ports: Vec<i32> = svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .map(|p| p.iter().map(|p| p.port).collect())
            .unwrap_or_default();
        if let Some(port) = b.port.filter(|p| !ports.contains(p)) {
            broken.push((
                format!(
                    "backend Service {bns}/{} has no port {port} (it exposes {})",
                    b.name,
                    ports
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "fix the backendRef port".to_string(),
            ));
            continue;
        }
        if endpoints(f, bns, &b.name).ready == 0 {
            empty.push((
                format!(
                    "backend Service {bns}/{} has no ready endpoints: requests get 503",
                    b.name
                ),
                format!("kubectl svc-check {} -n {bns}", b.name),
            ));
        }
    }
    (broken, empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{World, nantian_world};
    use crate::profiles::builtin;
    use crate::view::join;
    use runbook::Severity;

    fn run(w: &World) -> Vec<Finding> {
        let p = builtin().remove(2);
        check(&join(&w.f, &p, "nantian-gw"), &w.f)
    }

    #[test]
    fn every_level_is_read_by_condition_type() {
        let found = run(&nantian_world("True", "False"));
        let got: Vec<(&str, Severity, &str)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.severity, f.subject.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "gateway.not-programmed",
                    Severity::Critical,
                    "gateway/nantian-gw/public"
                ),
                (
                    "listener.refs-unresolved",
                    Severity::Critical,
                    "gateway/nantian-gw/public/https"
                ),
                (
                    "httproute.backend-unresolved",
                    Severity::Critical,
                    "httproute/apps/shop"
                ),
                (
                    "httproute.parent-not-accepted",
                    Severity::Critical,
                    "httproute/apps/admin"
                ),
            ],
            "{found:#?}"
        );
        assert!(
            found[1]
                .message
                .contains("InvalidCertificateRef: secret nantian-gw/tls not found")
        );
        assert!(found[2].message.contains("BackendNotFound"));
        assert_eq!(
            found[2].hint,
            "backend Service apps/cart does not exist: create it or fix the backendRef name (kubectl get svc -n apps)"
        );
        assert!(found[3].message.contains("NoMatchingParent"));
    }

    #[test]
    fn class_problems_and_missing_api() {
        let found = run(&nantian_world("False", "True"));
        assert_eq!(found[0].check, "gatewayclass.not-accepted");
        assert_eq!(found[0].severity, Severity::Critical);

        let mut w = nantian_world("True", "True");
        w.f.gateway_api = Availability::Unavailable("list gatewayclasses: 404".into());
        let found = run(&w);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "gatewayclass.missing");
    }

    #[test]
    fn profiles_without_a_class_skip_gateway_api() {
        let w = nantian_world("False", "False");
        let p = builtin().remove(0);
        assert!(check(&join(&w.f, &p, "gateway-system"), &w.f).is_empty());
    }
}
