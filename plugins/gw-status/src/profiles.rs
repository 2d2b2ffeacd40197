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
    if !is_dns1123_subdomain(name) {
        return Err(Error::usage(format!(
            "invalid Deployment name {arg:?}: a name is lowercase letters, digits, '-' and '.' \
             (DNS-1123 subdomain, at most 253 characters), starting and ending with a letter or digit"
        )));
    }
    Ok(Target::Deployment(name.to_string()))
}

/// Whether `name` is a valid Kubernetes object name (DNS-1123 subdomain).
fn is_dns1123_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && label.starts_with(|c: char| c.is_ascii_alphanumeric())
                && label.ends_with(|c: char| c.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn malformed_names_are_usage_errors() {
        for bad in [
            "UPPER",
            "a b",
            "a?b=c",
            "..",
            ".",
            "-",
            "\u{1f4a5}",
            "deploy/UPPER",
            "a/b/c",
        ] {
            let err = resolve_target(Some(bad), &[]).unwrap_err();
            assert_eq!(err.exit_code(), runbook::exit::USAGE, "{bad}");
        }
        assert!(resolve_target(Some(&"x".repeat(300)), &[]).is_err());
        for good in ["edge-proxy", "deploy/edge-proxy", "a.b-c", "x1"] {
            assert!(resolve_target(Some(good), &[]).is_ok(), "{good}");
        }
    }

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
