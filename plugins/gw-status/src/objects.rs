//! The objects k8s-openapi does not type: Gateway API (gateway.networking.k8s.io/v1) and
//! metrics.k8s.io/v1beta1. Only the fields the checks read are kept; every field defaults so a
//! partial or newer object still parses.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// A status condition (`metav1.Condition`), as every Gateway API object reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    /// `Accepted`, `Programmed`, `ResolvedRefs`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

/// The condition of type `type_`, wherever it sits in the list (never by position).
pub fn condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// A GatewayClass.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayClass {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: GatewayClassSpec,
    /// Status.
    pub status: ConditionsStatus,
}

/// `GatewayClass.spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayClassSpec {
    /// The controller that owns the class.
    pub controller_name: String,
}

/// A status holding only conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConditionsStatus {
    /// Conditions.
    pub conditions: Vec<Condition>,
}

/// A Gateway.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gateway {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: GatewaySpec,
    /// Status.
    pub status: GatewayStatus,
}

/// `Gateway.spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewaySpec {
    /// The GatewayClass it belongs to.
    pub gateway_class_name: String,
    /// Listeners.
    pub listeners: Vec<ListenerSpec>,
}

/// One listener of `Gateway.spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerSpec {
    /// Listener name (the sectionName routes attach to).
    pub name: String,
    /// Port.
    pub port: i32,
    /// HTTP, HTTPS, TLS, TCP, UDP.
    pub protocol: String,
    /// Optional hostname.
    pub hostname: Option<String>,
}

/// `Gateway.status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayStatus {
    /// Addresses assigned.
    pub addresses: Vec<GatewayAddress>,
    /// Gateway conditions (Accepted, Programmed).
    pub conditions: Vec<Condition>,
    /// Per-listener status.
    pub listeners: Vec<ListenerStatus>,
}

/// One address of a Gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayAddress {
    /// IPAddress or Hostname.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// The address.
    pub value: String,
}

/// One listener of `Gateway.status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerStatus {
    /// Listener name.
    pub name: String,
    /// Routes attached to it.
    pub attached_routes: i32,
    /// Conditions (Accepted, Programmed, ResolvedRefs, Conflicted).
    pub conditions: Vec<Condition>,
}

/// An HTTPRoute.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRoute {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: HttpRouteSpec,
    /// Status.
    pub status: RouteStatus,
}

/// `HTTPRoute.spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteSpec {
    /// Gateways it attaches to.
    pub parent_refs: Vec<ParentRef>,
    /// Hostnames.
    pub hostnames: Vec<String>,
    /// Rules with their backends.
    pub rules: Vec<RouteRule>,
}

/// A parentRef (a Gateway, optionally one listener of it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    /// Group (default gateway.networking.k8s.io).
    pub group: Option<String>,
    /// Kind (default Gateway).
    pub kind: Option<String>,
    /// Namespace (default the route's).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Listener name.
    pub section_name: Option<String>,
    /// Listener port.
    pub port: Option<i32>,
}

impl ParentRef {
    /// True when it points at a Gateway (the default kind).
    pub fn is_gateway(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k == "Gateway")
    }

    /// `namespace/name[/section]`, the route's namespace filled in.
    pub fn display(&self, route_namespace: &str) -> String {
        let ns = self.namespace.as_deref().unwrap_or(route_namespace);
        match &self.section_name {
            Some(s) => format!("{ns}/{}/{s}", self.name),
            None => format!("{ns}/{}", self.name),
        }
    }
}

/// One rule of an HTTPRoute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteRule {
    /// Backends.
    pub backend_refs: Vec<BackendRef>,
}

/// A backendRef (a Service by default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendRef {
    /// Group ("" for core).
    pub group: Option<String>,
    /// Kind (default Service).
    pub kind: Option<String>,
    /// Name.
    pub name: String,
    /// Namespace (default the route's).
    pub namespace: Option<String>,
    /// Port.
    pub port: Option<i32>,
}

impl BackendRef {
    /// True when it points at a core Service (the default).
    pub fn is_service(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k == "Service")
            && self.group.as_deref().is_none_or(str::is_empty)
    }
}

/// `HTTPRoute.status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteStatus {
    /// One entry per parent a controller looked at.
    pub parents: Vec<RouteParentStatus>,
}

/// One parent's status of a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentStatus {
    /// The parent.
    pub parent_ref: ParentRef,
    /// Which controller wrote it.
    pub controller_name: String,
    /// Accepted, ResolvedRefs.
    pub conditions: Vec<Condition>,
}

/// The Gateway API objects of the cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayApiObjects {
    /// Every GatewayClass.
    pub classes: Vec<GatewayClass>,
    /// Every Gateway.
    pub gateways: Vec<Gateway>,
    /// Every HTTPRoute.
    pub routes: Vec<HttpRoute>,
}

/// CPU and memory usage as metrics-server reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// CPU (a quantity: `250m`, `1234567n`).
    pub cpu: String,
    /// Memory (a quantity: `512Mi`, `536870912`).
    pub memory: String,
}

/// `metrics.k8s.io/v1beta1` PodMetrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PodMetrics {
    /// Object metadata (name and namespace of the pod).
    pub metadata: ObjectMeta,
    /// Per-container usage.
    pub containers: Vec<ContainerMetrics>,
}

/// One container of a PodMetrics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerMetrics {
    /// Container name.
    pub name: String,
    /// Usage.
    pub usage: Usage,
}

/// `metrics.k8s.io/v1beta1` NodeMetrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeMetrics {
    /// Object metadata (name of the node).
    pub metadata: ObjectMeta,
    /// Usage.
    pub usage: Usage,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_are_found_by_type_not_position() {
        let gw: Gateway = serde_json::from_value(json!({
            "metadata": {"name": "gw", "namespace": "nantian-gw"},
            "spec": {"gatewayClassName": "nantian-gw", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
            "status": {"conditions": [
                {"type": "Accepted", "status": "True", "reason": "Accepted"},
                {"type": "Programmed", "status": "False", "reason": "AddressNotAssigned", "message": "no address"}
            ]}
        }))
        .unwrap();
        let status = |t| condition(&gw.status.conditions, t).map(|c| c.status.as_str());
        assert_eq!(status("Accepted"), Some("True"));
        assert_eq!(status("Programmed"), Some("False"));
        assert_eq!(
            condition(&gw.status.conditions, "Programmed").map(|c| c.reason.as_str()),
            Some("AddressNotAssigned")
        );
        assert_eq!(status("ResolvedRefs"), None);
        assert_eq!(gw.spec.listeners[0].port, 80);
    }

    #[test]
    fn refs_default_to_gateway_and_service() {
        let route: HttpRoute = serde_json::from_value(json!({
            "metadata": {"name": "r", "namespace": "apps"},
            "spec": {
                "parentRefs": [{"name": "gw", "namespace": "nantian-gw", "sectionName": "http"}],
                "rules": [{"backendRefs": [{"name": "web", "port": 8080}, {"name": "x", "kind": "Bucket", "group": "s3"}]}]
            }
        }))
        .unwrap();
        assert!(route.spec.parent_refs[0].is_gateway());
        assert_eq!(
            route.spec.parent_refs[0].display("apps"),
            "nantian-gw/gw/http"
        );
        assert!(route.spec.rules[0].backend_refs[0].is_service());
        assert!(!route.spec.rules[0].backend_refs[1].is_service());
    }
}
