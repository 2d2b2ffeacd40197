//! Request paths: discovery documents and resource URLs
//! (`/api/v1/namespaces/{ns}/pods/{name}/{subresource}`, `/apis/{group}/{version}/...`).

use http::Method;

use crate::errors::ApiError;
use crate::resources::{self, ResourceType};

use super::params::Query;

/// A discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryTarget {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    Resources { group: String, version: String },
    /// `/openapi/v3`: the index of group-version documents.
    OpenApiIndex,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`.
    OpenApi { group: String, version: String },
}

/// A request on a resource.
#[derive(Debug, Clone)]
pub struct ResourceTarget {
    /// The resource type.
    pub resource: &'static ResourceType,
    /// Namespace from the URL.
    pub namespace: Option<String>,
    /// Object name from the URL (none for collections).
    pub name: Option<String>,
    /// Subresource from the URL.
    pub subresource: Option<String>,
}

/// What a path addresses.
#[derive(Debug, Clone)]
pub enum Route {
    /// Discovery and health documents.
    Discovery(DiscoveryTarget),
    /// A resource or collection.
    Resource(ResourceTarget),
    /// Nothing served here.
    NotFound,
}

/// The real 404 for a path nothing is served at.
pub fn not_found() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
    .with_details(serde_json::json!({}))
}

/// Parses a request path.
pub fn parse(path: &str) -> Route {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let discovery = |target| Route::Discovery(target);
    match segments.as_slice() {
        ["version"] => discovery(DiscoveryTarget::Version),
        ["healthz" | "livez" | "readyz", ..] => discovery(DiscoveryTarget::Health),
        ["api"] => discovery(DiscoveryTarget::CoreVersions),
        ["apis"] => discovery(DiscoveryTarget::Groups),
        ["openapi", "v3"] => discovery(DiscoveryTarget::OpenApiIndex),
        ["openapi", "v3", "api", version] => discovery(DiscoveryTarget::OpenApi {
            group: String::new(),
            version: (*version).to_string(),
        }),
        ["openapi", "v3", "apis", group, version] => discovery(DiscoveryTarget::OpenApi {
            group: (*group).to_string(),
            version: (*version).to_string(),
        }),
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group] => discovery(DiscoveryTarget::Group((*group).to_string())),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::NotFound,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let served = resources::RESOURCES
        .iter()
        .any(|r| r.group == group && r.version == version);
    if !served {
        return Route::NotFound;
    }
    let decoded: Vec<String> = rest.iter().map(|s| percent_decode(s)).collect();
    let rest: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let (namespace, rest) = match rest.as_slice() {
        [] => {
            return Route::Discovery(DiscoveryTarget::Resources {
                group: group.to_string(),
                version: version.to_string(),
            });
        }
        ["namespaces", ns, plural, tail @ ..]
            if !(group.is_empty() && tail.is_empty() && is_namespace_subresource(plural)) =>
        {
            (Some((*ns).to_string()), [&[*plural][..], tail].concat())
        }
        other => (None, other.to_vec()),
    };
    let Some((plural, tail)) = rest.split_first() else {
        return Route::NotFound;
    };
    let Some(resource) = resources::find(group, version, plural) else {
        return Route::NotFound;
    };
    if namespace.is_some() && !resource.namespaced {
        return Route::NotFound;
    }
    let (name, subresource) = match tail {
        [] => (None, None),
        [name] => (Some((*name).to_string()), None),
        [name, sub] if resource.subresource(sub).is_some() => {
            (Some((*name).to_string()), Some((*sub).to_string()))
        }
        _ => return Route::NotFound,
    };
    if resource.namespaced && namespace.is_none() && name.is_some() {
        return Route::NotFound;
    }
    Route::Resource(ResourceTarget {
        resource,
        namespace,
        name,
        subresource,
    })
}

fn is_namespace_subresource(segment: &str) -> bool {
    matches!(segment, "status" | "finalize")
}

fn percent_decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_string())
}

/// The Kubernetes verb of a request, or `None` when the method does not apply.
pub fn verb(method: &Method, target: &ResourceTarget, query: &Query) -> Option<&'static str> {
    let named = target.name.is_some();
    let verb = match (method.as_str(), named) {
        ("GET", false) if query.watch => "watch",
        ("GET", false) => "list",
        ("GET", true) if query.watch => "watch",
        ("GET", true) => "get",
        ("POST", false) => "create",
        ("POST", true) if target.subresource.is_some() => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return None,
    };
    let allowed = match target
        .subresource
        .as_deref()
        .and_then(|s| target.resource.subresource(s))
    {
        Some(sub) => sub.verbs.contains(&verb),
        None => target.resource.verbs.allows(verb),
    };
    if !allowed {
        return None;
    }
    if verb == "create" && target.resource.namespaced && target.namespace.is_none() {
        return None;
    }
    Some(verb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> ResourceTarget {
        match parse(path) {
            Route::Resource(target) => target,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn parses_resource_paths() {
        let t = resource("/api/v1/namespaces/default/pods/web-1/log");
        assert_eq!(
            (t.resource.plural, t.namespace.as_deref(), t.name.as_deref()),
            ("pods", Some("default"), Some("web-1"))
        );
        assert_eq!(t.subresource.as_deref(), Some("log"));
        let t = resource("/apis/apps/v1/deployments");
        assert_eq!(
            (t.resource.kind, t.namespace, t.name),
            ("Deployment", None, None)
        );
        let t = resource("/api/v1/namespaces/kube-system");
        assert_eq!(
            (t.resource.plural, t.name.as_deref()),
            ("namespaces", Some("kube-system"))
        );
        let t = resource("/api/v1/namespaces/ns1/status");
        assert_eq!(
            (t.name.as_deref(), t.subresource.as_deref()),
            (Some("ns1"), Some("status"))
        );
        let t = resource("/api/v1/nodes/n1");
        assert_eq!(
            (t.resource.plural, t.name.as_deref()),
            ("nodes", Some("n1"))
        );
        let t = resource("/apis/metrics.k8s.io/v1beta1/namespaces/a/pods");
        assert_eq!(t.resource.kind, "PodMetrics");
    }

    #[test]
    fn rejects_unknown_paths() {
        for path in [
            "/api/v1/namespaces/default/nodes",
            "/api/v2/pods",
            "/apis/apps/v1/namespaces/d/deployments/x/bogus",
            "/api/v1/pods/x",
            "/nope",
        ] {
            assert!(matches!(parse(path), Route::NotFound), "{path}");
        }
        assert!(matches!(
            parse("/apis/apps/v1"),
            Route::Discovery(DiscoveryTarget::Resources { .. })
        ));
    }
}
