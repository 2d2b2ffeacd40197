//! `--probe`: the profile's admin endpoints (`/livez`, `/readyz`), as runbook 002 checks them
//! by hand with port-forward and curl.

use runbook::Finding;

use crate::fetch::Fetched;
use crate::view::GatewayView;

/// One finding per admin endpoint of the profile that did not answer 2xx.
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    f.probes
        .iter()
        .filter(|p| p.namespace == gw.namespace)
        .filter(|p| gw.profile.probes.iter().any(|s| s.service == p.service))
        .filter_map(|p| {
            let err = p.outcome.as_ref().err()?;
            Some(Finding::critical(
                "probe.endpoint-failed",
                runbook::findings::subject("service", &p.namespace, &p.service),
                format!("{}:{}{} answered {err}", p.service, p.port, p.path),
                format!(
                    "read the component's log for why it is not live/ready: kubectl logs -n {} svc/{} --tail=100",
                    p.namespace, p.service
                ),
            ))
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

    fn answer(service: &str, path: &str, outcome: Result<String, String>) -> ProbeAnswer {
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
            answer("nantian-gw-controlplane-admin", "/livez", Ok("ok".into())),
            answer(
                "nantian-gw-controlplane-admin",
                "/readyz",
                Err("503 Service Unavailable: xds snapshot not ready".into()),
            ),
        ];
        let p = builtin().remove(2);
        let found = check(&join(&w.f, &p, "nantian-gw"), &w.f);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].check, "probe.endpoint-failed");
        assert_eq!(
            found[0].message,
            "nantian-gw-controlplane-admin:18081/readyz answered 503 Service Unavailable: xds snapshot not ready"
        );
    }
}
