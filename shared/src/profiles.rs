//! Gateway profiles: which Deployments, Services, GatewayClass and admin endpoints make up a
//! gateway. The one table every plugin reads (gw-status reports on a profile, gw-resize changes
//! one of its components, completion offers their names).
//!
//! Three built-in profiles follow the runbooks (`gateway-proxy` from 000, `istio` from 001,
//! `nantian` from 002); any Deployment named on the command line gets a generic profile; users
//! add their own in a YAML file (see [`default_profiles_path`], [`PROFILES_ENV`] and the
//! gw-status README for the format).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The environment variable naming the profiles file (the `--profiles` flag's default).
pub const PROFILES_ENV: &str = "KUBECTL_RUNBOOK_PROFILES";

/// What a component does for the gateway; decides which posture checks apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Programs the data plane (istiod, nantian controlplane): one replica is a single point
    /// of failure for every config change and certificate.
    ControlPlane,
    /// Carries the traffic (ingress gateway, proxy, dataplane).
    #[default]
    DataPlane,
    /// Helpful but not on the request path (dashboards): missing or degraded is a warning.
    Addon,
}

impl Role {
    /// The label printed in headers and reports.
    pub fn label(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::DataPlane => "data-plane",
            Role::Addon => "addon",
        }
    }
}

/// One Deployment of a gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentSpec {
    /// The Deployment's name.
    pub deployment: String,
    /// What it does (default `data-plane`).
    #[serde(default)]
    pub role: Role,
}

/// A Service the gateway's install always creates, with the ports it must expose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    /// The Service's name.
    pub name: String,
    /// Ports it must expose.
    #[serde(default)]
    pub ports: Vec<i32>,
}

/// The GatewayClass the gateway's controller owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayClassSpec {
    /// The GatewayClass's name.
    pub name: String,
    /// The `spec.controllerName` it must carry.
    pub controller_name: String,
}

/// An admin endpoint reached with `--probe` (the 002 runbook's port-forward + curl).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeSpec {
    /// The Service in front of the admin port.
    pub service: String,
    /// The Service port.
    pub port: i32,
    /// Paths that must answer 2xx (`/livez`, `/readyz`).
    pub paths: Vec<String>,
}

/// Where a profile came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Compiled in.
    BuiltIn,
    /// The profiles file at this path.
    File(PathBuf),
    /// Made up for a Deployment named on the command line.
    Generic,
}

impl Origin {
    /// A short label for headers.
    pub fn label(&self) -> String {
        match self {
            Origin::BuiltIn => "built-in profile".to_string(),
            Origin::File(p) => format!("profile from {}", p.display()),
            Origin::Generic => "deployment".to_string(),
        }
    }
}

/// A gateway: its components and what surrounds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// The name typed on the command line.
    pub name: String,
    /// One line saying what it is.
    #[serde(default)]
    pub description: String,
    /// The namespace the components live in (`-n` overrides it).
    pub namespace: String,
    /// The Deployments, at least one.
    pub components: Vec<ComponentSpec>,
    /// Services the install always creates.
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// The GatewayClass, for Gateway API implementations.
    #[serde(default)]
    pub gateway_class: Option<GatewayClassSpec>,
    /// Admin endpoints for `--probe`.
    #[serde(default)]
    pub probes: Vec<ProbeSpec>,
    /// Groups of components that must not share a node (istiod and the ingress gateway in 001).
    #[serde(default)]
    pub apart: Vec<Vec<String>>,
    /// Where the profile came from (not part of the file format).
    #[serde(skip, default = "generic_origin")]
    pub origin: Origin,
}

fn generic_origin() -> Origin {
    Origin::Generic
}

/// The layout of the profiles file: `profiles:` followed by a list of [`Profile`]s.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    #[serde(default)]
    profiles: Vec<Profile>,
}

fn component(deployment: &str, role: Role) -> ComponentSpec {
    ComponentSpec {
        deployment: deployment.to_string(),
        role,
    }
}

fn service(name: &str, ports: &[i32]) -> ServiceSpec {
    ServiceSpec {
        name: name.to_string(),
        ports: ports.to_vec(),
    }
}

fn probe(service: &str, port: i32) -> ProbeSpec {
    ProbeSpec {
        service: service.to_string(),
        port,
        paths: vec!["/livez".to_string(), "/readyz".to_string()],
    }
}

/// The built-in profiles, in the order discovery reports them.
pub fn builtin() -> Vec<Profile> {
    vec![
        Profile {
            name: "gateway-proxy".into(),
            description: "GatewayProxy of the managed API gateway (runbook 000)".into(),
            namespace: "gateway-system".into(),
            components: vec![component("gateway-proxy", Role::DataPlane)],
            services: vec![],
            gateway_class: None,
            probes: vec![],
            apart: vec![],
            origin: Origin::BuiltIn,
        },
        Profile {
            name: "istio".into(),
            description: "Istio control plane and ingress gateway (runbook 001)".into(),
            namespace: "istio-system".into(),
            components: vec![
                component("istiod", Role::ControlPlane),
                component("istio-ingressgateway", Role::DataPlane),
            ],
            services: vec![service("istiod", &[15012, 443])],
            gateway_class: None,
            probes: vec![],
            apart: vec![vec!["istiod".into(), "istio-ingressgateway".into()]],
            origin: Origin::BuiltIn,
        },
        Profile {
            name: "nantian".into(),
            description: "Nantian Gateway, a Gateway API implementation (runbook 002)".into(),
            namespace: "nantian-gw".into(),
            components: vec![
                component("nantian-gw-controlplane", Role::ControlPlane),
                component("nantian-gw-dataplane", Role::DataPlane),
            ],
            services: vec![
                service("nantian-gw-controlplane-grpc", &[18080]),
                service("nantian-gw-controlplane-admin", &[18081]),
                service("nantian-gw-controlplane-metrics", &[18082]),
                service("nantian-gw-dataplane-admin", &[19080]),
                service("nantian-gw-dataplane-metrics", &[19080]),
            ],
            gateway_class: Some(GatewayClassSpec {
                name: "nantian-gw".into(),
                controller_name: "gateway.networking.k8s.io/nantian-gw".into(),
            }),
            probes: vec![
                probe("nantian-gw-controlplane-admin", 18081),
                probe("nantian-gw-dataplane-admin", 19080),
            ],
            apart: vec![],
            origin: Origin::BuiltIn,
        },
    ]
}

/// A profile for one Deployment named on the command line.
pub fn generic(deployment: &str, namespace: &str) -> Profile {
    Profile {
        name: deployment.to_string(),
        description: format!("Deployment {deployment}"),
        namespace: namespace.to_string(),
        components: vec![component(deployment, Role::DataPlane)],
        services: vec![],
        gateway_class: None,
        probes: vec![],
        apart: vec![],
        origin: Origin::Generic,
    }
}

/// The default profiles file: `$XDG_CONFIG_HOME/kubectl-runbook/profiles.yaml`, else
/// `~/.config/kubectl-runbook/profiles.yaml`.
pub fn default_profiles_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("kubectl-runbook").join("profiles.yaml"))
}

/// Parses a profiles file's text; `path` names it in errors and in each profile's origin.
pub fn parse_profiles(text: &str, path: &Path) -> Result<Vec<Profile>> {
    let file: ProfilesFile = serde_saphyr::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let first = msg.lines().next().unwrap_or_default();
        Error::usage(format!("invalid profiles file {}: {first}", path.display()))
    })?;
    let mut profiles = file.profiles;
    for p in &mut profiles {
        validate(p).map_err(|why| {
            Error::usage(format!(
                "invalid profiles file {}: profile {:?}: {why}",
                path.display(),
                p.name
            ))
        })?;
        p.origin = Origin::File(path.to_path_buf());
    }
    Ok(profiles)
}

fn validate(p: &Profile) -> std::result::Result<(), String> {
    if p.name.trim().is_empty() {
        return Err("name must not be empty".into());
    }
    if p.namespace.trim().is_empty() {
        return Err("namespace must not be empty".into());
    }
    if p.components.is_empty() {
        return Err("needs at least one component".into());
    }
    for group in &p.apart {
        for name in group {
            if !p.components.iter().any(|c| &c.deployment == name) {
                return Err(format!("apart names {name:?}, which is not a component"));
            }
        }
    }
    Ok(())
}

/// Reads the user's profiles: from `explicit` (an error if unreadable), else from the default
/// path when that file exists (absent is fine).
pub fn load_user_profiles(explicit: Option<&Path>) -> Result<Vec<Profile>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_profiles_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Vec::new()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::usage(format!("cannot read profiles file {}: {e}", path.display())))?;
    parse_profiles(&text, &path)
}

/// Every profile known: the user's first (they shadow built-ins of the same name), then the
/// built-in ones.
pub fn all_profiles(user: &[Profile]) -> Vec<Profile> {
    let mut all = user.to_vec();
    all.extend(
        builtin()
            .into_iter()
            .filter(|b| !user.iter().any(|u| u.name == b.name)),
    );
    all
}

/// One Deployment of a profile, with where it lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentRef {
    /// The profile it belongs to.
    pub profile: String,
    /// The profile's namespace.
    pub namespace: String,
    /// The Deployment's name.
    pub deployment: String,
}

/// What a name means among the profiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentMatch {
    /// Exactly one Deployment.
    One(ComponentRef),
    /// A profile with several Deployments: the caller must choose.
    Several(Vec<ComponentRef>),
}

impl Profile {
    /// Its components, each with the profile's name and namespace.
    pub fn component_refs(&self) -> Vec<ComponentRef> {
        self.components
            .iter()
            .map(|c| ComponentRef {
                profile: self.name.clone(),
                namespace: self.namespace.clone(),
                deployment: c.deployment.clone(),
            })
            .collect()
    }
}

/// Looks `name` up among `profiles` (first match wins, so pass [`all_profiles`] to let user
/// profiles shadow built-ins): a profile name, `PROFILE/DEPLOYMENT`, or a component's
/// Deployment name.
pub fn find_component(profiles: &[Profile], name: &str) -> Option<ComponentMatch> {
    if let Some((profile, deployment)) = name.split_once('/') {
        let p = profiles.iter().find(|p| p.name == profile)?;
        return p
            .component_refs()
            .into_iter()
            .find(|c| c.deployment == deployment)
            .map(ComponentMatch::One);
    }
    if let Some(p) = profiles.iter().find(|p| p.name == name) {
        let mut all = p.component_refs();
        return Some(if all.len() == 1 {
            ComponentMatch::One(all.remove(0))
        } else {
            ComponentMatch::Several(all)
        });
    }
    profiles
        .iter()
        .flat_map(Profile::component_refs)
        .find(|c| c.deployment == name)
        .map(ComponentMatch::One)
}

/// Every name [`find_component`] knows: each profile, then each `PROFILE/DEPLOYMENT`.
pub fn component_names(profiles: &[Profile]) -> Vec<String> {
    profiles
        .iter()
        .flat_map(|p| {
            std::iter::once(p.name.clone()).chain(
                p.components
                    .iter()
                    .map(move |c| format!("{}/{}", p.name, c.deployment)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
profiles:
  - name: edge
    description: Edge proxy of team A
    namespace: edge
    components:
      - deployment: edge-ctrl
        role: control-plane
      - deployment: edge-proxy
    services:
      - name: edge-admin
        ports: [9000]
    gatewayClass:
      name: edge
      controllerName: example.com/edge
    probes:
      - service: edge-admin
        port: 9000
        paths: [/healthz]
    apart:
      - [edge-ctrl, edge-proxy]
"#;

    #[test]
    fn parses_the_documented_format() {
        let path = Path::new("/tmp/profiles.yaml");
        let profiles = parse_profiles(SAMPLE, path).unwrap();
        assert_eq!(profiles.len(), 1);
        let p = &profiles[0];
        assert_eq!(p.name, "edge");
        assert_eq!(p.components[0].role, Role::ControlPlane);
        assert_eq!(p.components[1].role, Role::DataPlane);
        assert_eq!(p.services[0].ports, [9000]);
        assert_eq!(
            p.gateway_class.as_ref().unwrap().controller_name,
            "example.com/edge"
        );
        assert_eq!(p.probes[0].paths, ["/healthz"]);
        assert_eq!(p.origin, Origin::File(path.to_path_buf()));
    }

    #[test]
    fn rejects_unknown_fields_and_bad_apart_groups() {
        let path = Path::new("p.yaml");
        let typo = SAMPLE.replace("components:", "componets:");
        let err = parse_profiles(&typo, path).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert!(
            err.to_string().starts_with("invalid profiles file p.yaml"),
            "{err}"
        );
        let bad = SAMPLE.replace("[edge-ctrl, edge-proxy]", "[edge-ctrl, nope]");
        let err = parse_profiles(&bad, path).unwrap_err();
        assert!(err.to_string().contains("\"nope\""), "{err}");
    }

    #[test]
    fn user_profiles_shadow_builtins() {
        let mut user = parse_profiles(SAMPLE, Path::new("p.yaml")).unwrap();
        user[0].name = "istio".into();
        let all = all_profiles(&user);
        assert_eq!(all.iter().filter(|p| p.name == "istio").count(), 1);
        assert_eq!(all[0].namespace, "edge");
        assert!(all.iter().any(|p| p.name == "nantian"));
    }

    #[test]
    fn builtins_are_valid() {
        for p in builtin() {
            validate(&p).unwrap();
        }
    }

    #[test]
    fn builtin_gateway_proxy_lives_in_gateway_system() {
        let all = builtin();
        let p = all.iter().find(|p| p.name == "gateway-proxy").unwrap();
        assert_eq!(p.namespace, "gateway-system");
    }

    #[test]
    fn single_component_profiles_resolve_directly() {
        let Some(ComponentMatch::One(c)) = find_component(&builtin(), "gateway-proxy") else {
            panic!("gateway-proxy must resolve to one Deployment");
        };
        assert_eq!(
            (c.namespace.as_str(), c.deployment.as_str()),
            ("gateway-system", "gateway-proxy")
        );
    }

    #[test]
    fn several_components_must_be_chosen() {
        let all = builtin();
        let Some(ComponentMatch::Several(found)) = find_component(&all, "istio") else {
            panic!("istio has two components");
        };
        let names: Vec<_> = found.iter().map(|c| c.deployment.as_str()).collect();
        assert_eq!(names, ["istiod", "istio-ingressgateway"]);
        let Some(ComponentMatch::One(c)) = find_component(&all, "istio/istio-ingressgateway")
        else {
            panic!("PROFILE/DEPLOYMENT picks one");
        };
        assert_eq!(c.namespace, "istio-system");
        let Some(ComponentMatch::One(c)) = find_component(&all, "nantian-gw-dataplane") else {
            panic!("a component's Deployment name resolves");
        };
        assert_eq!(c.namespace, "nantian-gw");
        assert_eq!(find_component(&all, "istio/pilot"), None);
        assert_eq!(find_component(&all, "billing"), None);
    }

    #[test]
    fn user_components_are_found_before_builtins() {
        let user = parse_profiles(SAMPLE, Path::new("p.yaml")).unwrap();
        let all = all_profiles(&user);
        let Some(ComponentMatch::One(c)) = find_component(&all, "edge/edge-proxy") else {
            panic!("a user profile's component resolves");
        };
        assert_eq!((c.profile.as_str(), c.namespace.as_str()), ("edge", "edge"));
        let names = component_names(&all);
        assert_eq!(names[..3], ["edge", "edge/edge-ctrl", "edge/edge-proxy"]);
        assert!(names.contains(&"istio/istiod".to_string()));
        assert!(names.contains(&"nantian".to_string()));
    }
}
