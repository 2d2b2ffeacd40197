//! Dependencies: the components' Services (and the profile's fixed ones) with their ready
//! endpoints, and every admission webhook whose backing Service has none — the 001 outage,
//! where istiod's pods showed Running while its Service refused every connection.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ServiceReference, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::Service;
use runbook::Finding;
use serde::Serialize;

use crate::fetch::Fetched;
use crate::hints;
use crate::selector;
use crate::view::{ComponentView, GatewayView};

/// Ready and not-ready endpoint counts of a Service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCounts {
    /// Endpoints whose `conditions.ready` is not false.
    pub ready: usize,
    /// Endpoints reported not ready.
    pub not_ready: usize,
}

/// Counts the endpoints of Service `namespace/name` over its EndpointSlices.
pub fn endpoints(f: &Fetched, namespace: &str, name: &str) -> EndpointCounts {
    let mut counts = EndpointCounts::default();
    for slice in f.endpoint_slices.iter().filter(|s| {
        s.metadata.namespace.as_deref() == Some(namespace)
            && s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .is_some_and(|n| n == name)
    }) {
        for e in &slice.endpoints {
            let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            if ready {
                counts.ready += 1;
            } else {
                counts.not_ready += 1;
            }
        }
    }
    counts
}

/// The Service `namespace/name`, if it exists.
pub fn find_service<'a>(f: &'a Fetched, namespace: &str, name: &str) -> Option<&'a Service> {
    f.services.iter().find(|s| {
        s.metadata.namespace.as_deref() == Some(namespace)
            && s.metadata.name.as_deref() == Some(name)
    })
}

/// True for Services whose endpoints are not managed by a selector worth checking
/// (ExternalName has none at all).
fn is_external_name(s: &Service) -> bool {
    s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName")
}

/// Service and webhook findings of one gateway.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for c in &gw.components {
        for svc in &c.services {
            let name = svc.metadata.name.clone().unwrap_or_default();
            seen.push(name.clone());
            out.extend(no_endpoints(gw, svc, Some(c), f));
        }
    }
    for expected in &gw.profile.services {
        match find_service(f, &gw.namespace, &expected.name) {
            None => out.push(Finding::critical(
                "svc.missing",
                runbook::findings::subject("service", &gw.namespace, &expected.name),
                format!(
                    "Service {} does not exist: the address other components dial is gone",
                    expected.name
                ),
                "re-create it from the gateway's install (helm upgrade --install, or kubectl apply of its manifest)",
            )),
            Some(svc) => {
                let ports: Vec<i32> = svc
                    .spec
                    .as_ref()
                    .and_then(|s| s.ports.as_ref())
                    .map(|p| p.iter().map(|p| p.port).collect())
                    .unwrap_or_default();
                let absent: Vec<String> = expected
                    .ports
                    .iter()
                    .filter(|p| !ports.contains(p))
                    .map(i32::to_string)
                    .collect();
                if !absent.is_empty() {
                    out.push(Finding::warning(
                        "svc.port-missing",
                        runbook::findings::subject("service", &gw.namespace, &expected.name),
                        format!(
                            "Service {} does not expose port {} (it has {})",
                            expected.name,
                            absent.join(", "),
                            ports.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
                        ),
                        "restore the port from the gateway's install",
                    ));
                }
                if !seen.contains(&expected.name) {
                    out.extend(no_endpoints(gw, svc, None, f));
                }
            }
        }
    }
    out.extend(webhooks(gw, f));
    out
}

fn no_endpoints(
    gw: &GatewayView<'_>,
    svc: &Service,
    owner: Option<&ComponentView<'_>>,
    f: &Fetched,
) -> Option<Finding> {
    if is_external_name(svc) {
        return None;
    }
    let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
    let name = svc.metadata.name.as_deref().unwrap_or_default();
    let counts = endpoints(f, ns, name);
    if counts.ready > 0 {
        return None;
    }
    let address = svc
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .filter(|ip| *ip != "None")
        .map(|ip| format!(" at {ip}"))
        .unwrap_or_default();
    let component = owner.or_else(|| backing_component(gw, svc));
    let hint = match component {
        Some(c) => format!(
            "its pods are not ready (see the pod findings of {}); restart them, preferably onto a healthy node: {}",
            c.name(),
            hints::restart(c)
        ),
        None => format!("no pod matches its selector: kubectl get pods -n {ns} --show-labels"),
    };
    Some(Finding::critical(
        "svc.no-endpoints",
        runbook::findings::subject("service", ns, name),
        format!(
            "Service {name}{address} has no ready endpoints ({} not ready): connections to it are refused",
            counts.not_ready
        ),
        hint,
    ))
}

/// The component of `gw` whose pods `svc` selects.
fn backing_component<'g, 'a>(
    gw: &'g GatewayView<'a>,
    svc: &Service,
) -> Option<&'g ComponentView<'a>> {
    let sel = svc.spec.as_ref()?.selector.as_ref()?;
    let ns = svc.metadata.namespace.as_deref()?;
    gw.components
        .iter()
        .find(|c| c.namespace == ns && selector::service_selects(sel, &c.template_labels()))
}

/// One webhook of a configuration, flattened.
struct Webhook<'a> {
    config_kind: &'static str,
    config: &'a str,
    name: &'a str,
    service: Option<&'a ServiceReference>,
    failure_policy: &'a str,
}

fn all_webhooks(f: &Fetched) -> Vec<Webhook<'_>> {
    let mut out = Vec::new();
    let validating: &[ValidatingWebhookConfiguration] =
        f.validating_webhooks.served().map_or(&[], Vec::as_slice);
    let mutating: &[MutatingWebhookConfiguration] =
        f.mutating_webhooks.served().map_or(&[], Vec::as_slice);
    for cfg in validating {
        for w in cfg.webhooks.iter().flatten() {
            out.push(Webhook {
                config_kind: "validatingwebhookconfiguration",
                config: cfg.metadata.name.as_deref().unwrap_or_default(),
                name: &w.name,
                service: w.client_config.service.as_ref(),
                failure_policy: w.failure_policy.as_deref().unwrap_or("Fail"),
            });
        }
    }
    for cfg in mutating {
        for w in cfg.webhooks.iter().flatten() {
            out.push(Webhook {
                config_kind: "mutatingwebhookconfiguration",
                config: cfg.metadata.name.as_deref().unwrap_or_default(),
                name: &w.name,
                service: w.client_config.service.as_ref(),
                failure_policy: w.failure_policy.as_deref().unwrap_or("Fail"),
            });
        }
    }
    out
}

/// Admission webhooks whose backing Service is missing or has no ready endpoints.
fn webhooks(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in all_webhooks(f) {
        let Some(svc_ref) = w.service else { continue };
        let svc = find_service(f, &svc_ref.namespace, &svc_ref.name);
        let problem = match svc {
            None => "which does not exist".to_string(),
            Some(s) if is_external_name(s) => continue,
            Some(_) => {
                let counts = endpoints(f, &svc_ref.namespace, &svc_ref.name);
                if counts.ready > 0 {
                    continue;
                }
                "which has no ready endpoints".to_string()
            }
        };
        let kind = if w.config_kind.starts_with("validating") {
            "validating"
        } else {
            "mutating"
        };
        let fail_closed = w.failure_policy == "Fail";
        let effect = if fail_closed {
            "failurePolicy Fail: the API server rejects every create/update it matches"
        } else {
            "failurePolicy Ignore: matching requests pass unchecked (fails open)"
        };
        let message = format!(
            "{kind} webhook {} calls Service {}/{}, {problem}; {effect}",
            w.name, svc_ref.namespace, svc_ref.name
        );
        let component = svc.and_then(|s| backing_component(gw, s));
        let hint = match component {
            Some(c) => format!("bring its pods back: {}", hints::restart(c)),
            None => format!(
                "bring back the pods of Service {}/{}; in an emergency set failurePolicy: Ignore on {} {}",
                svc_ref.namespace, svc_ref.name, w.config_kind, w.config
            ),
        };
        let subject = runbook::findings::subject(w.config_kind, "", w.config);
        out.push(if fail_closed {
            Finding::critical("webhook.no-endpoints", subject, message, hint)
        } else {
            Finding::warning("webhook.no-endpoints", subject, message, hint)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::istio_world;
    use crate::profiles::builtin;
    use crate::view::join;
    use runbook::Severity;

    #[test]
    fn istiod_without_endpoints_breaks_its_service_and_both_webhooks() {
        let w = istio_world(false);
        let p = builtin().remove(1);
        let found = check(&join(&w.f, &p, "istio-system"), &w.f);
        let got: Vec<(&str, Severity, &str)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.severity, f.subject.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "svc.no-endpoints",
                    Severity::Critical,
                    "service/istio-system/istiod"
                ),
                (
                    "webhook.no-endpoints",
                    Severity::Warning,
                    "validatingwebhookconfiguration/istiod-istio-system"
                ),
                (
                    "webhook.no-endpoints",
                    Severity::Critical,
                    "mutatingwebhookconfiguration/istio-sidecar-injector"
                ),
            ],
            "{found:#?}"
        );
        assert!(found[0].message.contains("at 10.96.5.249"));
        assert!(found[2].message.contains("rejects every create/update"));
        assert_eq!(
            found[2].hint,
            "bring its pods back: kubectl gw-resize deploy/istiod -n istio-system --restart"
        );
    }

    #[test]
    fn ready_endpoints_and_missing_fixed_services() {
        let w = istio_world(true);
        let p = builtin().remove(1);
        assert!(check(&join(&w.f, &p, "istio-system"), &w.f).is_empty());

        let mut w = istio_world(true);
        w.f.services[0]
            .spec
            .as_mut()
            .unwrap()
            .ports
            .as_mut()
            .unwrap()
            .pop();
        let found = check(&join(&w.f, &p, "istio-system"), &w.f);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "svc.port-missing");
        assert!(
            found[0].message.contains("port 443"),
            "{}",
            found[0].message
        );

        let mut w = istio_world(true);
        w.f.services.clear();
        let found = check(&join(&w.f, &p, "istio-system"), &w.f);
        let checks: Vec<&str> = found.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            checks,
            [
                "svc.missing",
                "webhook.no-endpoints",
                "webhook.no-endpoints"
            ]
        );
    }
}
