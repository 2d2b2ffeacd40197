//! Gateway profiles as gw-status uses them: the shared model and built-ins
//! ([`runbook::profiles`]), and what the command line's PROFILE|DEPLOYMENT argument names.

use runbook::{Error, Result};

pub use runbook::profiles::{
    ComponentSpec, GatewayClassSpec, Origin, ProbeSpec, Profile, Role, ServiceSpec, all_profiles,
    builtin, generic, load_user_profiles,
};

/// What the command line asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// No argument: every known gateway found in the cluster.
    Discover,
    /// A profile by name.
    Profile(Box<Profile>),
    /// A Deployment by name (generic profile).
    Deployment(String),
}

/// Resolves the positional argument: a user profile, else a built-in one, else a Deployment
/// (`NAME`, `deploy/NAME`, `deployment/NAME`, `deployments.apps/NAME`).
pub fn resolve_target(arg: Option<&str>, user: &[Profile]) -> Result<Target> {
    let Some(arg) = arg else {
        return Ok(Target::Discover);
    };
    if let Some(p) = user.iter().find(|p| p.name == arg) {
        return Ok(Target::Profile(Box::new(p.clone())));
    }
    if let Some(p) = builtin().into_iter().find(|p| p.name == arg) {
        return Ok(Target::Profile(Box::new(p)));
    }
    let name = match arg.split_once('/') {
        Some((kind, name)) => {
            if !matches!(
                kind,
                "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps"
            ) {
                return Err(Error::usage(format!(
                    "cannot report on {arg:?}: name a profile or a Deployment (deploy/NAME)"
                )));
            }
            name
        }
        None => arg,
    };
    if name.is_empty() {
        return Err(Error::usage(format!("missing Deployment name in {arg:?}")));
    }
    Ok(Target::Deployment(name.to_string()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use runbook::profiles::parse_profiles;

    const EDGE: &str = "
profiles:
  - name: edge
    namespace: edge
    components:
      - deployment: edge-proxy
";

    #[test]
    fn targets_resolve_user_then_builtin_then_deployment() {
        let user = parse_profiles(EDGE, Path::new("p.yaml")).unwrap();
        assert_eq!(resolve_target(None, &user).unwrap(), Target::Discover);
        match resolve_target(Some("edge"), &user).unwrap() {
            Target::Profile(p) => assert_eq!(p.namespace, "edge"),
            other => panic!("{other:?}"),
        }
        match resolve_target(Some("istio"), &user).unwrap() {
            Target::Profile(p) => assert_eq!(p.components.len(), 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            resolve_target(Some("deploy/web"), &user).unwrap(),
            Target::Deployment("web".into())
        );
        assert_eq!(
            resolve_target(Some("web"), &user).unwrap(),
            Target::Deployment("web".into())
        );
        assert_eq!(
            resolve_target(Some("svc/web"), &user)
                .unwrap_err()
                .exit_code(),
            64
        );
    }
}
