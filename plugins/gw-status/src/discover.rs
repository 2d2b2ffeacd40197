//! Which gateways to report on, decided from the command line and the Deployments of the
//! cluster: a named profile (moved to the namespace its components really live in when `-n`
//! was not given), a named Deployment, or every known profile found.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::Deployment;
use runbook::{Error, Result};

use crate::profiles::{Profile, Role, Target, all_profiles, generic};

/// A gateway to report on: its profile and the namespace of its components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The profile.
    pub profile: Profile,
    /// Where its components live.
    pub namespace: String,
}

/// The plan, with notes for stderr (a profile found outside its usual namespace).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Gateways, in report order.
    pub gateways: Vec<Planned>,
    /// One line each, printed on stderr.
    pub notes: Vec<String>,
}

impl Plan {
    /// Every namespace involved.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.gateways.iter().map(|g| g.namespace.clone()).collect()
    }
}

/// Namespaces holding a Deployment named `name`.
fn namespaces_of(deployments: &[Deployment], name: &str) -> BTreeSet<String> {
    deployments
        .iter()
        .filter(|d| d.metadata.name.as_deref() == Some(name))
        .filter_map(|d| d.metadata.namespace.clone())
        .collect()
}

/// Namespaces holding any of the profile's traffic components (addons alone do not count).
fn namespaces_of_profile(deployments: &[Deployment], p: &Profile) -> BTreeSet<String> {
    p.components
        .iter()
        .filter(|c| c.role != Role::Addon)
        .flat_map(|c| namespaces_of(deployments, &c.deployment))
        .collect()
}

/// Decides what to report on. `namespace` is `-n` when given; `default_namespace` the
/// context's.
pub fn plan(
    target: &Target,
    user: &[Profile],
    deployments: &[Deployment],
    namespace: Option<&str>,
    default_namespace: &str,
) -> Result<Plan> {
    match target {
        Target::Profile(p) => Ok(plan_profile(p, deployments, namespace)),
        Target::Deployment(name) => {
            let ns = namespace.unwrap_or(default_namespace);
            if !namespaces_of(deployments, name).contains(ns) {
                let names: Vec<&str> = deployments
                    .iter()
                    .filter(|d| d.metadata.namespace.as_deref() == Some(ns))
                    .filter_map(|d| d.metadata.name.as_deref())
                    .collect();
                return Err(Error::not_found("deployment", name, Some(ns), names));
            }
            Ok(Plan {
                gateways: vec![Planned {
                    profile: generic(name, ns),
                    namespace: ns.to_string(),
                }],
                notes: Vec::new(),
            })
        }
        Target::Discover => {
            let mut plan = Plan::default();
            for p in all_profiles(user) {
                for ns in namespaces_of_profile(deployments, &p) {
                    if namespace.is_none_or(|n| n == ns) {
                        plan.gateways.push(Planned {
                            profile: p.clone(),
                            namespace: ns,
                        });
                    }
                }
            }
            if plan.gateways.is_empty() {
                let names: Vec<String> = all_profiles(user).into_iter().map(|p| p.name).collect();
                let scope = namespace
                    .map_or_else(|| "any namespace".to_string(), |n| format!("namespace {n}"));
                return Err(Error::Api(format!(
                    "no known gateway found in {scope} (profiles: {}): name a profile or a Deployment",
                    names.join(", ")
                )));
            }
            Ok(plan)
        }
    }
}

fn plan_profile(p: &Profile, deployments: &[Deployment], namespace: Option<&str>) -> Plan {
    let mut notes = Vec::new();
    let ns = match namespace {
        Some(ns) => ns.to_string(),
        None => {
            let found = namespaces_of_profile(deployments, p);
            if found.contains(&p.namespace) || found.len() != 1 {
                p.namespace.clone()
            } else {
                let only = found.into_iter().next().unwrap_or_default();
                notes.push(format!(
                    "note: {} found in namespace {only}, not {} (pass -n to choose)",
                    p.name, p.namespace
                ));
                only
            }
        }
    };
    Plan {
        gateways: vec![Planned {
            profile: p.clone(),
            namespace: ns,
        }],
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::deployment;
    use crate::profiles::builtin;

    fn deployments(pairs: &[(&str, &str)]) -> Vec<Deployment> {
        pairs
            .iter()
            .map(|(ns, name)| serde_json::from_value(deployment(ns, name, 1, 1)).unwrap())
            .collect()
    }

    #[test]
    fn discovery_finds_each_known_gateway() {
        let d = deployments(&[
            ("istio-system", "istiod"),
            ("istio-system", "istio-ingressgateway"),
            ("gateway", "gateway-proxy"),
            ("shop", "web"),
        ]);
        let plan = plan(&Target::Discover, &[], &d, None, "default").unwrap();
        let got: Vec<(&str, &str)> = plan
            .gateways
            .iter()
            .map(|g| (g.profile.name.as_str(), g.namespace.as_str()))
            .collect();
        assert_eq!(
            got,
            [("gateway-proxy", "gateway"), ("istio", "istio-system")]
        );
        let err = super::plan(&Target::Discover, &[], &d, Some("shop"), "default").unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.to_string()
                .contains("no known gateway found in namespace shop")
        );
    }

    #[test]
    fn a_profile_moves_to_the_only_namespace_it_runs_in() {
        let d = deployments(&[("gateway", "gateway-proxy")]);
        let p = builtin().remove(0);
        let plan = plan(
            &Target::Profile(Box::new(p.clone())),
            &[],
            &d,
            None,
            "default",
        )
        .unwrap();
        assert_eq!(plan.gateways[0].namespace, "gateway");
        assert_eq!(plan.notes.len(), 1);
        let pinned = super::plan(
            &Target::Profile(Box::new(p)),
            &[],
            &d,
            Some("gateway-system"),
            "default",
        )
        .unwrap();
        assert_eq!(pinned.gateways[0].namespace, "gateway-system");
        assert!(pinned.notes.is_empty());
    }

    #[test]
    fn a_missing_deployment_is_not_found_with_close_names() {
        let d = deployments(&[("edge", "edge-proxy")]);
        let err = plan(
            &Target::Deployment("edge-prxy".into()),
            &[],
            &d,
            Some("edge"),
            "default",
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("did you mean edge-proxy"), "{err}");
        let ok = plan(
            &Target::Deployment("edge-proxy".into()),
            &[],
            &d,
            None,
            "edge",
        )
        .unwrap();
        assert_eq!(
            ok.gateways[0].profile.components[0].deployment,
            "edge-proxy"
        );
    }
}
