//! The gateway components of the runbooks, by the names `kubectl gw-status` gives them: a
//! profile (`gateway-proxy`, `istio`, `nantian`) groups the Deployments of one gateway in
//! one namespace. gw-resize changes one Deployment at a time, so a profile with several
//! components is ambiguous and the user picks one (`istio/istiod`).

/// One gateway profile: its namespace and Deployments, as gw-status's built-in profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The name typed on the command line.
    pub name: &'static str,
    /// Where its Deployments live.
    pub namespace: &'static str,
    /// The Deployments, in the order gw-status reports them.
    pub deployments: &'static [&'static str],
}

/// The built-in profiles (runbooks 000, 001, 002).
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "gateway-proxy",
        namespace: "gateway-system",
        deployments: &["gateway-proxy"],
    },
    Profile {
        name: "istio",
        namespace: "istio-system",
        deployments: &["istiod", "istio-ingressgateway"],
    },
    Profile {
        name: "nantian",
        namespace: "nantian-gw",
        deployments: &["nantian-gw-controlplane", "nantian-gw-dataplane"],
    },
];

/// A Deployment of a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    /// The profile it belongs to.
    pub profile: &'static str,
    /// The profile's namespace.
    pub namespace: &'static str,
    /// The Deployment's name.
    pub deployment: &'static str,
}

/// What a name means among the profiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentMatch {
    /// Exactly one Deployment.
    One(Component),
    /// A profile with several Deployments: the user must choose.
    Several(Vec<Component>),
}

fn components_of(p: &Profile) -> Vec<Component> {
    p.deployments
        .iter()
        .map(|d| Component {
            profile: p.name,
            namespace: p.namespace,
            deployment: d,
        })
        .collect()
}

/// Looks `name` up: a profile name, `PROFILE/DEPLOYMENT`, or a component's Deployment name.
pub fn lookup(name: &str) -> Option<ComponentMatch> {
    if let Some((profile, deployment)) = name.split_once('/') {
        let p = PROFILES.iter().find(|p| p.name == profile)?;
        return components_of(p)
            .into_iter()
            .find(|c| c.deployment == deployment)
            .map(ComponentMatch::One);
    }
    if let Some(p) = PROFILES.iter().find(|p| p.name == name) {
        let mut all = components_of(p);
        return Some(if all.len() == 1 {
            ComponentMatch::One(all.remove(0))
        } else {
            ComponentMatch::Several(all)
        });
    }
    PROFILES
        .iter()
        .flat_map(components_of)
        .find(|c| c.deployment == name)
        .map(ComponentMatch::One)
}

/// True when `kind` (the part before `/` in TARGET) is a profile name.
pub fn is_profile(kind: &str) -> bool {
    PROFILES.iter().any(|p| p.name == kind)
}

/// Every name [`lookup`] knows, for "did you mean" suggestions.
pub fn known_names() -> Vec<String> {
    PROFILES
        .iter()
        .flat_map(|p| {
            std::iter::once(p.name.to_string())
                .chain(p.deployments.iter().map(move |d| format!("{}/{d}", p.name)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_component_profiles_resolve_directly() {
        let Some(ComponentMatch::One(c)) = lookup("gateway-proxy") else {
            panic!("gateway-proxy must resolve to one Deployment");
        };
        assert_eq!(
            (c.namespace, c.deployment),
            ("gateway-system", "gateway-proxy")
        );
    }

    #[test]
    fn several_components_must_be_chosen() {
        let Some(ComponentMatch::Several(all)) = lookup("istio") else {
            panic!("istio has two components");
        };
        let names: Vec<_> = all.iter().map(|c| c.deployment).collect();
        assert_eq!(names, ["istiod", "istio-ingressgateway"]);
        let Some(ComponentMatch::One(c)) = lookup("istio/istio-ingressgateway") else {
            panic!("PROFILE/DEPLOYMENT picks one");
        };
        assert_eq!(c.namespace, "istio-system");
        let Some(ComponentMatch::One(c)) = lookup("nantian-gw-dataplane") else {
            panic!("a component's Deployment name resolves");
        };
        assert_eq!(c.namespace, "nantian-gw");
        assert_eq!(lookup("istio/pilot"), None);
        assert_eq!(lookup("billing"), None);
    }

    #[test]
    fn known_names_list_profiles_and_components() {
        let names = known_names();
        assert!(names.contains(&"istio/istiod".to_string()));
        assert!(names.contains(&"nantian".to_string()));
        assert!(is_profile("istio") && !is_profile("deploy"));
    }
}
