//! A deny list standing in for RBAC: everything is allowed except what a rule forbids.
//! Forbidden requests get the real authorizer's 403 message. Controlled from Rust through
//! [`Rbac`] and over HTTP at `/testcluster/rbac` (`POST` a [`ForbidRule`], `DELETE` clears).

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::errors::ApiError;

/// The user every request is made as.
pub const TEST_USER: &str = "test-user";

/// "Forbid `verb` on `resource` (optionally a subresource, group and namespace)"; `*` matches any verb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForbidRule {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection` or `*`.
    pub verb: String,
    /// Plural resource name (`pods`, `deployments`) or `*`.
    pub resource: String,
    /// Subresource (`eviction`, `scale`, `status`, `log`); `None` matches only the main resource.
    #[serde(default)]
    pub subresource: Option<String>,
    /// API group; `None` matches any group.
    #[serde(default)]
    pub group: Option<String>,
    /// Namespace; `None` matches every namespace and cluster scope.
    #[serde(default)]
    pub namespace: Option<String>,
}

impl ForbidRule {
    /// Forbids `verb` on `resource` everywhere.
    pub fn new(verb: &str, resource: &str) -> ForbidRule {
        ForbidRule {
            verb: verb.to_string(),
            resource: resource.to_string(),
            subresource: None,
            group: None,
            namespace: None,
        }
    }

    /// Narrows the rule to a subresource.
    pub fn subresource(mut self, subresource: &str) -> ForbidRule {
        self.subresource = Some(subresource.to_string());
        self
    }

    /// Narrows the rule to one namespace.
    pub fn in_namespace(mut self, namespace: &str) -> ForbidRule {
        self.namespace = Some(namespace.to_string());
        self
    }

    fn matches(&self, request: &RequestAttributes<'_>) -> bool {
        (self.verb == "*" || self.verb == request.verb)
            && (self.resource == "*" || self.resource == request.resource)
            && self.subresource.as_deref() == request.subresource
            && self.group.as_deref().is_none_or(|g| g == request.group)
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| Some(ns) == request.namespace)
    }
}

/// What a request does, in the authorizer's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestAttributes<'a> {
    /// Kubernetes verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, ...).
    pub verb: &'a str,
    /// API group ("" for core).
    pub group: &'a str,
    /// Plural resource.
    pub resource: &'a str,
    /// Subresource, if any.
    pub subresource: Option<&'a str>,
    /// Namespace, `None` at cluster scope.
    pub namespace: Option<&'a str>,
    /// Object name ("" for list, watch and create).
    pub name: &'a str,
}

/// The deny rules of one test cluster.
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    rules: Arc<RwLock<Vec<ForbidRule>>>,
}

impl Rbac {
    /// Adds a deny rule.
    pub fn forbid(&self, rule: ForbidRule) {
        self.rules
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The current rules.
    pub fn rules(&self) -> Vec<ForbidRule> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the request is allowed.
    pub fn allows(&self, request: &RequestAttributes<'_>) -> bool {
        !self
            .rules
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|rule| rule.matches(request))
    }

    /// `Ok` if allowed, else the real 403.
    pub fn authorize(&self, request: &RequestAttributes<'_>) -> Result<(), ApiError> {
        if self.allows(request) {
            Ok(())
        } else {
            Err(forbidden(request))
        }
    }
}

/// The 403 the real API server answers, e.g. `pods "x" is forbidden: User "test-user" cannot
/// get resource "pods" in API group "" in the namespace "default"`.
pub fn forbidden(request: &RequestAttributes<'_>) -> ApiError {
    let qualified = if request.group.is_empty() {
        request.resource.to_string()
    } else {
        format!("{}.{}", request.resource, request.group)
    };
    let subject = if request.name.is_empty() {
        qualified.clone()
    } else {
        format!("{qualified} \"{}\"", request.name)
    };
    let resource = match request.subresource {
        Some(sub) => format!("{}/{sub}", request.resource),
        None => request.resource.to_string(),
    };
    let scope = match request.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    ApiError::forbidden(
        &qualified,
        request.name,
        format!(
            "{subject} is forbidden: User \"{TEST_USER}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
            request.verb, request.group
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_pod<'a>(name: &'a str) -> RequestAttributes<'a> {
        RequestAttributes {
            verb: "get",
            group: "",
            resource: "pods",
            subresource: None,
            namespace: Some("default"),
            name,
        }
    }

    #[test]
    fn forbidden_message_matches_the_real_authorizer() {
        let rbac = Rbac::default();
        assert!(rbac.authorize(&get_pod("x")).is_ok());
        rbac.forbid(ForbidRule::new("get", "pods").in_namespace("default"));
        let err = rbac.authorize(&get_pod("x")).unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "pods \"x\" is forbidden: User \"test-user\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!(err.details.unwrap()["kind"], "pods");
    }

    #[test]
    fn rules_match_subresource_namespace_and_scope() {
        let rbac = Rbac::default();
        rbac.forbid(ForbidRule::new("create", "pods").subresource("eviction"));
        let evict = RequestAttributes {
            verb: "create",
            subresource: Some("eviction"),
            ..get_pod("p")
        };
        assert!(!rbac.allows(&evict));
        assert!(rbac.allows(&RequestAttributes {
            verb: "create",
            ..get_pod("p")
        }));
        let err = rbac.authorize(&evict).unwrap_err();
        assert!(
            err.message
                .contains("cannot create resource \"pods/eviction\""),
            "{}",
            err.message
        );

        rbac.forbid(ForbidRule::new("*", "nodes"));
        let patch_node = RequestAttributes {
            verb: "patch",
            group: "",
            resource: "nodes",
            subresource: None,
            namespace: None,
            name: "n1",
        };
        let err = rbac.authorize(&patch_node).unwrap_err();
        assert!(
            err.message
                .ends_with("in API group \"\" at the cluster scope"),
            "{}",
            err.message
        );
        let list_deploys = RequestAttributes {
            verb: "list",
            group: "apps",
            resource: "deployments",
            subresource: None,
            namespace: Some("a"),
            name: "",
        };
        rbac.forbid(ForbidRule::new("list", "deployments").in_namespace("a"));
        assert!(
            rbac.authorize(&list_deploys)
                .unwrap_err()
                .message
                .starts_with("deployments.apps is forbidden")
        );
        rbac.clear();
        assert!(rbac.allows(&list_deploys));
    }
}
