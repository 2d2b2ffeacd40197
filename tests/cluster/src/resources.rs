//! The resource types the server knows: group, version, names, scope, verbs and subresources,
//! as the real API server reports them in discovery.

/// The verbs a resource type supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbs {
    /// create, delete, deletecollection, get, list, patch, update, watch.
    All,
    /// get, list (metrics.k8s.io).
    ReadOnly,
    /// create only (access reviews).
    CreateOnly,
}

impl Verbs {
    /// The verb names in discovery order.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Verbs::All => &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
            Verbs::ReadOnly => &["get", "list"],
            Verbs::CreateOnly => &["create"],
        }
    }

    /// Whether `verb` is allowed.
    pub fn allows(self, verb: &str) -> bool {
        self.names().contains(&verb)
    }
}

/// A subresource such as `pods/status` or `deployments/scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// `status`, `scale`, `eviction`, `log`.
    pub name: &'static str,
    /// Kind of the subresource's object (the parent's kind for status).
    pub kind: &'static str,
    /// Group of that kind when it differs from the parent's (`autoscaling` for Scale).
    pub group: &'static str,
    /// Version of that kind when it differs from the parent's.
    pub version: &'static str,
    /// Verbs of the subresource.
    pub verbs: &'static [&'static str],
}

const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

const fn status(kind: &'static str) -> Subresource {
    Subresource {
        name: "status",
        kind,
        group: "",
        version: "",
        verbs: STATUS_VERBS,
    }
}

const SCALE: Subresource = Subresource {
    name: "scale",
    kind: "Scale",
    group: "autoscaling",
    version: "v1",
    verbs: STATUS_VERBS,
};

/// One resource type served by the test cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, empty for the core group.
    pub group: &'static str,
    /// Served version.
    pub version: &'static str,
    /// Plural resource name used in URLs.
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind of the objects.
    pub kind: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names kubectl accepts.
    pub short_names: &'static [&'static str],
    /// Categories (`all`, `gateway-api`).
    pub categories: &'static [&'static str],
    /// Supported verbs.
    pub verbs: Verbs,
    /// Subresources.
    pub subresources: &'static [Subresource],
    /// Whether the type is compiled into the real API server (strategic merge patch works);
    /// false for custom resources such as the Gateway API.
    pub built_in: bool,
}

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The key the [`Store`](crate::store::Store) keeps these objects under: the plural, qualified
    /// by the group only where two groups share a plural (`pods.metrics.k8s.io`).
    pub fn store_key(&self) -> String {
        if self.group == METRICS_GROUP {
            format!("{}.{}", self.plural, self.group)
        } else {
            self.plural.to_string()
        }
    }

    /// `deployments.apps`, or `pods` for the core group (as used in error messages).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The named subresource, if this type has it.
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether the type has a status subresource (so the main resource ignores status writes).
    pub fn has_status(&self) -> bool {
        self.subresource("status").is_some()
    }
}

/// The metrics-server API group.
pub const METRICS_GROUP: &str = "metrics.k8s.io";

macro_rules! resource {
    ($group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $namespaced:expr,
     short: $short:expr, cat: $cat:expr, verbs: $verbs:expr, sub: $sub:expr, built_in: $builtin:expr) => {
        ResourceType {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $namespaced,
            short_names: $short,
            categories: $cat,
            verbs: $verbs,
            subresources: $sub,
            built_in: $builtin,
        }
    };
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];
const GATEWAY_API: &[&str] = &["gateway-api"];

/// Every resource type the server serves.
pub static RESOURCES: &[ResourceType] = &[
    // core/v1
    resource!("", "v1", "namespaces", "namespace", "Namespace", false, short: &["ns"], cat: NONE, verbs: Verbs::All,
        sub: &[status("Namespace"), Subresource { name: "finalize", kind: "Namespace", group: "", version: "", verbs: &["update"] }], built_in: true),
    resource!("", "v1", "nodes", "node", "Node", false, short: &["no"], cat: NONE, verbs: Verbs::All,
        sub: &[status("Node")], built_in: true),
    resource!("", "v1", "pods", "pod", "Pod", true, short: &["po"], cat: ALL, verbs: Verbs::All,
        sub: &[
            status("Pod"),
            Subresource { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: &["create"] },
            Subresource { name: "log", kind: "Pod", group: "", version: "", verbs: &["get"] },
        ], built_in: true),
    resource!("", "v1", "services", "service", "Service", true, short: &["svc"], cat: ALL, verbs: Verbs::All,
        sub: &[status("Service")], built_in: true),
    resource!("", "v1", "endpoints", "endpoints", "Endpoints", true, short: &["ep"], cat: NONE, verbs: Verbs::All,
        sub: &[], built_in: true),
    resource!("", "v1", "events", "event", "Event", true, short: &["ev"], cat: NONE, verbs: Verbs::All,
        sub: &[], built_in: true),
    resource!("", "v1", "configmaps", "configmap", "ConfigMap", true, short: &["cm"], cat: NONE, verbs: Verbs::All,
        sub: &[], built_in: true),
    resource!("", "v1", "secrets", "secret", "Secret", true, short: NONE, cat: NONE, verbs: Verbs::All,
        sub: &[], built_in: true),
    resource!("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, short: &["quota"], cat: NONE,
        verbs: Verbs::All, sub: &[status("ResourceQuota")], built_in: true),
    resource!("", "v1", "limitranges", "limitrange", "LimitRange", true, short: &["limits"], cat: NONE,
        verbs: Verbs::All, sub: &[], built_in: true),
    resource!("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, short: &["sa"], cat: NONE,
        verbs: Verbs::All, sub: &[], built_in: true),
    resource!("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true,
        short: &["pvc"], cat: NONE, verbs: Verbs::All, sub: &[status("PersistentVolumeClaim")], built_in: true),
    resource!("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false,
        short: &["pv"], cat: NONE, verbs: Verbs::All, sub: &[status("PersistentVolume")], built_in: true),
    // apps/v1
    resource!("apps", "v1", "deployments", "deployment", "Deployment", true, short: &["deploy"], cat: ALL,
        verbs: Verbs::All, sub: &[status("Deployment"), SCALE], built_in: true),
    resource!("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, short: &["rs"], cat: ALL,
        verbs: Verbs::All, sub: &[status("ReplicaSet"), SCALE], built_in: true),
    resource!("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, short: &["sts"], cat: ALL,
        verbs: Verbs::All, sub: &[status("StatefulSet"), SCALE], built_in: true),
    resource!("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, short: &["ds"], cat: ALL,
        verbs: Verbs::All, sub: &[status("DaemonSet")], built_in: true),
    resource!("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, short: NONE,
        cat: NONE, verbs: Verbs::All, sub: &[], built_in: true),
    // batch/v1
    resource!("batch", "v1", "jobs", "job", "Job", true, short: NONE, cat: ALL, verbs: Verbs::All,
        sub: &[status("Job")], built_in: true),
    // policy/v1
    resource!("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true,
        short: &["pdb"], cat: NONE, verbs: Verbs::All, sub: &[status("PodDisruptionBudget")], built_in: true),
    // discovery.k8s.io/v1
    resource!("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, short: NONE,
        cat: NONE, verbs: Verbs::All, sub: &[], built_in: true),
    // autoscaling/v2
    resource!("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler",
        true, short: &["hpa"], cat: ALL, verbs: Verbs::All, sub: &[status("HorizontalPodAutoscaler")], built_in: true),
    // networking.k8s.io/v1
    resource!("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true,
        short: &["netpol"], cat: NONE, verbs: Verbs::All, sub: &[], built_in: true),
    resource!("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, short: &["ing"], cat: NONE,
        verbs: Verbs::All, sub: &[status("Ingress")], built_in: true),
    // coordination.k8s.io/v1
    resource!("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, short: NONE, cat: NONE,
        verbs: Verbs::All, sub: &[], built_in: true),
    // admissionregistration.k8s.io/v1
    resource!("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration", false, short: NONE, cat: &["api-extensions"], verbs: Verbs::All, sub: &[],
        built_in: true),
    resource!("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration", false, short: NONE, cat: &["api-extensions"], verbs: Verbs::All, sub: &[],
        built_in: true),
    // authorization.k8s.io/v1
    resource!("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
        "SelfSubjectAccessReview", false, short: NONE, cat: NONE, verbs: Verbs::CreateOnly, sub: &[], built_in: true),
    // authentication.k8s.io/v1: who am I (`kubectl auth whoami`)
    resource!("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
        "SelfSubjectReview", false, short: NONE, cat: NONE, verbs: Verbs::CreateOnly, sub: &[], built_in: true),
    // gateway.networking.k8s.io/v1 (custom resources)
    resource!("gateway.networking.k8s.io", "v1", "gatewayclasses", "gatewayclass", "GatewayClass", false,
        short: &["gc"], cat: GATEWAY_API, verbs: Verbs::All, sub: &[status("GatewayClass")], built_in: false),
    resource!("gateway.networking.k8s.io", "v1", "gateways", "gateway", "Gateway", true, short: &["gtw"],
        cat: GATEWAY_API, verbs: Verbs::All, sub: &[status("Gateway")], built_in: false),
    resource!("gateway.networking.k8s.io", "v1", "httproutes", "httproute", "HTTPRoute", true, short: NONE,
        cat: GATEWAY_API, verbs: Verbs::All, sub: &[status("HTTPRoute")], built_in: false),
    // metrics.k8s.io/v1beta1 (aggregated API of metrics-server)
    resource!(METRICS_GROUP, "v1beta1", "pods", "", "PodMetrics", true, short: NONE, cat: NONE,
        verbs: Verbs::ReadOnly, sub: &[], built_in: true),
    resource!(METRICS_GROUP, "v1beta1", "nodes", "", "NodeMetrics", false, short: NONE, cat: NONE,
        verbs: Verbs::ReadOnly, sub: &[], built_in: true),
];

/// The type served at `group`/`version`/`plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The type stored under `key` (a plural, or `plural.group` for metrics), see [`ResourceType::store_key`].
pub fn by_plural(key: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|r| r.store_key() == key)
}

/// The type of an object of `apiVersion` + `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The served groups in discovery order: (group, versions, preferred version).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => groups.push((r.group, vec![r.version])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_resolve_to_one_store_key_each() {
        let mut keys: Vec<String> = RESOURCES.iter().map(ResourceType::store_key).collect();
        let total = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), total, "two resource types share a store key");
        assert_eq!(by_plural("pods").map(|r| r.kind), Some("Pod"));
        assert_eq!(
            by_plural("pods.metrics.k8s.io").map(|r| r.kind),
            Some("PodMetrics")
        );
    }

    #[test]
    fn lookups_by_kind_and_path() {
        assert_eq!(
            by_kind("apps/v1", "Deployment").map(|r| r.plural),
            Some("deployments")
        );
        assert!(
            find("apps", "v1", "deployments").is_some_and(|r| r.subresource("scale").is_some())
        );
        assert!(find("", "v1", "deployments").is_none());
        assert_eq!(
            find("gateway.networking.k8s.io", "v1", "gateways").map(|r| r.built_in),
            Some(false)
        );
    }
}
