//! TARGET as typed: `deploy/x`, `sts/x`, `pod/x`, a bare name, or a gateway component.

use runbook::Result;
use runbook::profiles::Profile;
use runbook::workload::{WorkloadArg, WorkloadKind};

/// kubectl's short form of a kind, for commands we suggest (`deploy`, `sts`).
pub fn short(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Deployment => "deploy",
        WorkloadKind::StatefulSet => "sts",
    }
}

/// What TARGET names, before any lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRef {
    /// `deploy/x`, `sts/x`, or a bare name (a Deployment or StatefulSet of that name, else a
    /// pod, else a gateway component).
    Workload(WorkloadArg),
    /// `pod/x`: resolved to the pod's owner.
    Pod(String),
    /// `PROFILE/DEPLOYMENT` of a gateway profile (`istio/istiod`).
    Component(String),
}

/// Parses TARGET; `profiles` are the gateway profiles known (`PROFILE/DEPLOYMENT`). Kinds
/// gw-resize cannot change (DaemonSets, Services...) are usage errors.
pub fn parse_target(arg: &str, profiles: &[Profile]) -> Result<TargetRef> {
    let arg = arg.trim();
    if let Some((kind, name)) = arg.split_once('/') {
        if profiles.iter().any(|p| p.name == kind) {
            return Ok(TargetRef::Component(arg.to_string()));
        }
        if matches!(kind.to_ascii_lowercase().as_str(), "po" | "pod" | "pods") {
            // Validate the name the same way as workload names.
            WorkloadArg::parse(name)?;
            return Ok(TargetRef::Pod(name.to_string()));
        }
    }
    WorkloadArg::parse(arg).map(TargetRef::Workload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use runbook::profiles::builtin;
    use runbook::workload::WorkloadRef;

    fn parse(arg: &str) -> Result<TargetRef> {
        parse_target(arg, &builtin())
    }

    fn workload(t: TargetRef) -> (WorkloadRef, bool) {
        match t {
            TargetRef::Workload(a) => (a.target, a.kind_given),
            other => panic!("expected a workload, got {other:?}"),
        }
    }

    #[test]
    fn parses_kubectl_kind_spellings() {
        for t in [
            "deploy/gw",
            "deployment/gw",
            "deployments.apps/gw",
            "Deployment/gw",
        ] {
            assert_eq!(
                workload(parse(t).unwrap()),
                (WorkloadRef::Deployment("gw".into()), true),
                "{t}"
            );
        }
        assert_eq!(
            workload(parse("sts/db").unwrap()),
            (WorkloadRef::StatefulSet("db".into()), true)
        );
        assert!(!workload(parse("gateway-proxy").unwrap()).1);
        assert_eq!(
            parse("po/gw-7d9f").unwrap(),
            TargetRef::Pod("gw-7d9f".into())
        );
        assert_eq!(
            parse("istio/istiod").unwrap(),
            TargetRef::Component("istio/istiod".into())
        );
    }

    #[test]
    fn rejects_other_kinds_and_bad_names() {
        for bad in [
            "ds/node-exporter",
            "svc/gw",
            "deploy/",
            "deploy/Gateway",
            "-gw",
            "gw_1",
            "pod/",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{bad}");
        }
    }
}
