//! `--probe`: the profile's admin endpoints (`/livez`, `/readyz`), as runbook 002 checks them
//! by hand with port-forward and curl.

use runbook::Finding;

use crate::fetch::{Fetched, ProbeAnswer, ProbeOutcome};
use crate::view::GatewayView;

/// One finding per admin endpoint of the profile that did not answer 2xx, and one per
/// Service whose endpoints the API server would not proxy to.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let ours: Vec<&ProbeAnswer> = f
        .probes
        .iter()
        .filter(|p| p.namespace == gw.namespace)
        .filter(|p| gw.profile.probes.iter().any(|s| s.service == p.service))
        .collect();
    let mut out = Vec::new();
    let mut not_proxied: Vec<(&ProbeAnswer, Vec<&str>, &str)> = Vec::new();
    for p in &ours {
        match &p.outcome {
            ProbeOutcome::Answered(_) => {}
            ProbeOutcome::Failed(err) => out.push(Finding::critical(
                "probe.endpoint-failed",
                runbook::findings::subject("service", &p.namespace, &p.service),
                format!("{}:{}{} answered {err}", p.service, p.port, p.path),
                format!(
                    "read the component's log for why it is not live/ready: kubectl logs -n {} svc/{} --tail=100",
                    p.namespace, p.service
                ),
            )),
            ProbeOutcome::NotProxied(err) => {
                match not_proxied
                    .iter_mut()
                    .find(|(q, ..)| q.service == p.service && q.port == p.port)
                {
                    Some((_, paths, _)) => paths.push(&p.path),
                    None => not_proxied.push((p, vec![&p.path], err)),
                }
            }
        }
    }
    for (p, paths, err) in not_proxied {
        out.push(Finding::info(
            "probe.not-proxied",
            runbook::findings::subject("service", &p.namespace, &p.service),
            format!(
                "{}:{} {} could not be asked through the API server: {err}",
                p.service,
                p.port,
                paths.join(" ")
            ),
            format!(
                "ask by hand: kubectl port-forward -n {} svc/{} {port}:{port}, then curl localhost:{port}{}",
                p.namespace,
                p.service,
                paths.first().copied().unwrap_or("/"),
                port = p.port
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::World;
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
            "kubectl port-forward -n nantian-gw svc/nantian-gw-dataplane-admin 18081:18081, then curl localhost:18081/livez"
        ));
        assert_eq!(
            found[0].message,
            "nantian-gw-controlplane-admin:18081/readyz answered 503 Service Unavailable: xds snapshot not ready"
        );
    }
}
