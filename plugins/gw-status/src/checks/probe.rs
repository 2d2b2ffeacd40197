//! `--probe`: the profile's admin endpoints (`/livez`, `/readyz`), as runbook 002 checks them
//! by hand with port-forward and curl.

use runbook::Finding;

use crate::fetch::{Fetched, ProbeOutcome};
use crate::view::GatewayView;

/// One finding per admin endpoint of the profile that did not answer 2xx.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    f.probes
        .iter()
        .filter(|p| p.namespace == gw.namespace)
        .filter(|p| gw.profile.probes.iter().any(|s| s.service == p.service))
        .filter_map(|p| {
            let subject = runbook::findings::subject("service", &p.namespace, &p.service);
            let endpoint = format!("{}:{}{}", p.service, p.port, p.path);
            match &p.outcome {
                ProbeOutcome::Answered(_) => None,
                ProbeOutcome::Failed(err) => Some(Finding::critical(
                    "probe.endpoint-failed",
                    subject,
                    format!("{endpoint} answered {err}"),
                    format!(
                        "read the component's log for why it is not live/ready: kubectl logs -n {} svc/{} --tail=100",
                        p.namespace, p.service
                    ),
                )),
                ProbeOutcome::NotProxied(err) => Some(Finding::info(
                    "probe.not-proxied",
                    subject,
                    format!("{endpoint} could not be asked through the API server: {err}"),
                    format!(
                        "ask it by hand: kubectl port-forward -n {} svc/{} {port}:{port} and curl localhost:{port}{}",
                        p.namespace,
                        p.service,
                        p.path,
                        port = p.port
                    ),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::World;
    use crate::fetch::ProbeAnswer;
    use crate::profiles::builtin;
    use crate::view::join;

    fn answer(service: &str, path: &str, outcome: ProbeOutcome) -> ProbeAnswer {
        ProbeAnswer {
            namespace: "nantian-gw".into(),
            service: service.into(),
            port: 18081,
            path: path.into(),
            outcome,
        }
    }

    #[test]
    fn failing_endpoints_are_critical_and_2xx_is_silent() {
        let mut w = World::new();
        w.f.probes = vec![
            answer(
                "nantian-gw-controlplane-admin",
                "/livez",
                ProbeOutcome::Answered("ok".into()),
            ),
            answer(
                "nantian-gw-controlplane-admin",
                "/readyz",
                ProbeOutcome::Failed("503 Service Unavailable: xds snapshot not ready".into()),
            ),
            answer(
                "nantian-gw-dataplane-admin",
                "/livez",
                ProbeOutcome::NotProxied("403 Forbidden: cannot get services/proxy".into()),
            ),
        ];
        let p = builtin().remove(2);
        let found = check(&join(&w.f, &p, "nantian-gw"), &w.f);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].check, "probe.endpoint-failed");
        assert_eq!(found[1].check, "probe.not-proxied");
        assert_eq!(found[1].severity, runbook::Severity::Info);
        assert!(found[1].hint.contains(
            "kubectl port-forward -n nantian-gw svc/nantian-gw-dataplane-admin 18081:18081"
        ));
        assert_eq!(
            found[0].message,
            "nantian-gw-controlplane-admin:18081/readyz answered 503 Service Unavailable: xds snapshot not ready"
        );
    }
}
