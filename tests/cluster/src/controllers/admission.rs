//! Admission webhooks as the API server calls them, reduced to their failure: a webhook with
//! `failurePolicy: Fail` whose Service has no ready endpoint refuses every write it intercepts
//! with the API server's message (runbook 001: `failed calling webhook "sidecar-injector.istio.io"
//! ... connect: connection refused`). Webhooks with a ready backend are taken to admit.
//!
//! The HTTP server checks every create and update against [`FailingWebhooks`]; the workload
//! controllers create their pods through [`create_pod`].

use serde_json::{Value, json};

use jiff::Timestamp;

use super::events::{self, Event, Source};
use super::labels::selector_matches;
use super::objects::{self, meta};
use crate::store::Store;

/// How often a controller retries (and reports) a refused pod creation.
const RETRY_SECONDS: i64 = 10;

/// The API group whose resources (the webhook and admission policy configurations) the API
/// server never sends to webhooks, so that a broken webhook can always be removed.
const EXEMPT_GROUP: &str = "admissionregistration.k8s.io";

/// The operation of a write, as webhook rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `CREATE`.
    Create,
    /// `UPDATE` (updates and patches).
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
        }
    }
}

/// The two kinds of webhook configuration: the API server calls the mutating webhooks before
/// it validates an object, the validating ones after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `MutatingWebhookConfiguration`s.
    Mutating,
    /// `ValidatingWebhookConfiguration`s.
    Validating,
}

impl Phase {
    fn configurations(self) -> &'static str {
        match self {
            Phase::Mutating => "mutatingwebhookconfigurations",
            Phase::Validating => "validatingwebhookconfigurations",
        }
    }
}

/// A write as webhook rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// Create or update.
    pub operation: Operation,
    /// API group of the resource ("" for core).
    pub group: &'a str,
    /// Plural resource (`pods`).
    pub plural: &'a str,
    /// Subresource written (`status`), if any.
    pub subresource: Option<&'a str>,
    /// The object as it would be stored.
    pub object: &'a Value,
    /// The object's Namespace; `None` for cluster-scoped objects.
    pub namespace: Option<&'a Value>,
}

/// A webhook that cannot be called, with the error calling it gives.
#[derive(Debug, Clone)]
struct FailingWebhook {
    phase: Phase,
    webhook: Value,
    error: String,
}

/// The webhooks that refuse what they intercept: `failurePolicy: Fail` and no ready endpoint
/// behind their Service. Read from the store once per write, so that the check itself needs no
/// store access (updates are checked under the store's lock).
#[derive(Debug, Clone, Default)]
pub struct FailingWebhooks {
    webhooks: Vec<FailingWebhook>,
}

impl FailingWebhooks {
    /// The failing webhooks configured in `store` now.
    pub fn load(store: &Store) -> FailingWebhooks {
        let webhooks = [Phase::Mutating, Phase::Validating]
            .into_iter()
            .flat_map(|phase| {
                store
                    .list(phase.configurations(), None)
                    .into_iter()
                    .flat_map(|configuration| objects::list(&configuration, "/webhooks").to_vec())
                    .filter(|webhook| webhook["failurePolicy"].as_str().unwrap_or("Fail") == "Fail")
                    .filter_map(|webhook| {
                        let error = unreachable(store, &webhook)?;
                        Some(FailingWebhook {
                            phase,
                            webhook,
                            error,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        FailingWebhooks { webhooks }
    }

    /// True when no webhook fails.
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty()
    }

    /// The error of the first failing webhook of `phase` that intercepts `write`:
    /// `failed calling webhook "<name>": failed to call webhook: Post ...`, which the API
    /// server answers as `500 Internal error occurred: <error>`.
    pub fn refusal(&self, phase: Phase, write: &Write<'_>) -> Option<&str> {
        if write.group == EXEMPT_GROUP {
            return None;
        }
        self.webhooks
            .iter()
            .filter(|failing| failing.phase == phase)
            .find(|failing| intercepts(&failing.webhook, write))
            .map(|failing| failing.error.as_str())
    }
}

/// Creates `pod` for `owner` unless a webhook refuses it. A refusal is reported as a Warning
/// FailedCreate event on the owner (`describe` reads like the controller's: `failure` words it),
/// at most every ten seconds, and returned as the error.
pub fn create_pod(
    store: &Store,
    now: Timestamp,
    source: Source<'_>,
    owner: &Value,
    pod: Value,
    failure: impl Fn(&str) -> String,
) -> Result<bool, String> {
    if let Some(refusal) = create_refused(store, "", "pods", &pod) {
        let due = events::last_seen(store, owner, "FailedCreate")
            .is_none_or(|last| objects::seconds_between(last, now) >= RETRY_SECONDS);
        if due {
            events::record(
                store,
                now,
                source,
                owner,
                Event::warning("FailedCreate", &failure(&refusal)),
            );
        }
        return Err(refusal);
    }
    Ok(store.create("pods", pod).is_ok())
}

/// The error creating `obj` (of resource `plural` in API group `group`) would get from a
/// failing webhook (`Internal error occurred: failed calling webhook ...`), or `None` when
/// every matching webhook is reachable or ignores failures.
pub fn create_refused(store: &Store, group: &str, plural: &str, obj: &Value) -> Option<String> {
    let failing = FailingWebhooks::load(store);
    if failing.is_empty() {
        return None;
    }
    let namespace = store.get("namespaces", None, meta(obj, "namespace"));
    let write = Write {
        operation: Operation::Create,
        group,
        plural,
        subresource: None,
        object: obj,
        namespace: namespace.as_ref(),
    };
    [Phase::Mutating, Phase::Validating]
        .into_iter()
        .find_map(|phase| failing.refusal(phase, &write))
        .map(|error| format!("Internal error occurred: {error}"))
}

/// Whether a rule's `resources` entry covers `plural` (and `subresource`), as the API server's
/// rule matcher: `*` is every resource without subresource, `pods/*` pods and each of its
/// subresources, `*/*` everything, `pods/status` only that subresource.
fn resource_listed(entry: &str, plural: &str, subresource: Option<&str>) -> bool {
    let (resource, sub) = entry.split_once('/').unwrap_or((entry, ""));
    (resource == "*" || resource == plural) && (sub == "*" || sub == subresource.unwrap_or(""))
}

/// Whether the webhook's rules, namespace selector and object selector cover the write. A
/// Namespace meets the namespace selector with its own labels; other cluster-scoped objects
/// always meet it.
fn intercepts(webhook: &Value, write: &Write<'_>) -> bool {
    let listed = |rule: &Value, field: &str, wanted: &str| {
        objects::list(rule, &format!("/{field}"))
            .iter()
            .any(|v| v == "*" || v == wanted)
    };
    let rule_matches = objects::list(webhook, "/rules").iter().any(|rule| {
        listed(rule, "operations", write.operation.as_str())
            && listed(rule, "apiGroups", write.group)
            && objects::list(rule, "/resources").iter().any(|entry| {
                resource_listed(
                    entry.as_str().unwrap_or(""),
                    write.plural,
                    write.subresource,
                )
            })
    });
    let everything = json!({});
    let namespace_selector = webhook.get("namespaceSelector").unwrap_or(&everything);
    let object_selector = webhook.get("objectSelector").unwrap_or(&everything);
    let namespace_labels = if write.group.is_empty() && write.plural == "namespaces" {
        Some(write.object.pointer("/metadata/labels"))
    } else {
        write.namespace.map(|ns| ns.pointer("/metadata/labels"))
    };
    rule_matches
        && namespace_labels.is_none_or(|labels| selector_matches(Some(namespace_selector), labels))
        && selector_matches(
            Some(object_selector),
            write.object.pointer("/metadata/labels"),
        )
}

/// The error calling the webhook gives when its Service has no ready endpoint (the cause the
/// API server wraps into `Internal error occurred: ...`).
fn unreachable(store: &Store, webhook: &Value) -> Option<String> {
    let service = webhook.pointer("/clientConfig/service")?;
    let (name, namespace) = (service["name"].as_str()?, service["namespace"].as_str()?);
    let port = service["port"].as_i64().unwrap_or(443);
    let ready = store
        .get("endpoints", Some(namespace), name)
        .is_some_and(|e| {
            objects::list(&e, "/subsets")
                .iter()
                .any(|s| !objects::list(s, "/addresses").is_empty())
        });
    if ready {
        return None;
    }
    let cluster_ip = store
        .get("services", Some(namespace), name)
        .and_then(|s| {
            s.pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    let timeout = webhook["timeoutSeconds"].as_i64().unwrap_or(10);
    let path = service["path"].as_str().unwrap_or("");
    Some(format!(
        "failed calling webhook \"{}\": failed to call webhook: Post \
         \"https://{name}.{namespace}.svc:{port}{path}?timeout={timeout}s\": dial tcp {cluster_ip}:{port}: connect: connection refused",
        webhook["name"].as_str().unwrap_or("")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store_with_injector(ready: bool) -> Store {
        let store = Store::new();
        store
            .create(
                "namespaces",
                json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}),
            )
            .unwrap();
        store
            .create(
                "namespaces",
                json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "istio-system", "labels": {"istio-injection": "disabled"}}}),
            )
            .unwrap();
        store.create("services", json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "istiod", "namespace": "istio-system"}, "spec": {"clusterIP": "10.96.5.249"}})).unwrap();
        let subsets = if ready {
            json!([{"addresses": [{"ip": "10.244.1.5"}]}])
        } else {
            json!([{"notReadyAddresses": [{"ip": "10.244.2.5"}]}])
        };
        store
            .create(
                "endpoints",
                json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "istiod", "namespace": "istio-system"}, "subsets": subsets}),
            )
            .unwrap();
        store.create("mutatingwebhookconfigurations", json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration", "metadata": {"name": "istio-sidecar-injector"},
            "webhooks": [{"name": "sidecar-injector.istio.io", "failurePolicy": "Fail", "timeoutSeconds": 10,
                "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system", "path": "/inject", "port": 443}},
                "namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]}]})).unwrap();
        store
    }

    fn pod(namespace: &str) -> Value {
        json!({"metadata": {"name": "p", "namespace": namespace}})
    }

    #[test]
    fn an_unreachable_injector_refuses_pods_in_injected_namespaces() {
        let store = store_with_injector(false);
        assert_eq!(
            create_refused(&store, "", "pods", &pod("shop")).unwrap(),
            "Internal error occurred: failed calling webhook \"sidecar-injector.istio.io\": failed to call webhook: \
             Post \"https://istiod.istio-system.svc:443/inject?timeout=10s\": dial tcp 10.96.5.249:443: connect: connection refused"
        );
        assert!(
            create_refused(&store, "", "pods", &pod("istio-system")).is_none(),
            "namespace not selected"
        );
        assert!(
            create_refused(&store, "apps", "deployments", &pod("shop")).is_none(),
            "rules do not match"
        );
    }

    #[test]
    fn a_ready_backend_or_an_ignore_policy_admits() {
        assert!(create_refused(&store_with_injector(true), "", "pods", &pod("shop")).is_none());
        let store = store_with_injector(false);
        let mut configuration = store
            .get(
                "mutatingwebhookconfigurations",
                None,
                "istio-sidecar-injector",
            )
            .unwrap();
        configuration["webhooks"][0]["failurePolicy"] = json!("Ignore");
        store
            .update("mutatingwebhookconfigurations", configuration)
            .unwrap();
        assert!(create_refused(&store, "", "pods", &pod("shop")).is_none());
    }

    /// Adds a failing validating webhook on every resource of every group (`*/*` included
    /// when `subresources`) for CREATE and UPDATE.
    fn add_catch_all_validator(store: &Store, resources: &[&str]) {
        store.create("validatingwebhookconfigurations", json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "catch-all"},
            "webhooks": [{"name": "catch-all.example.com",
                "clientConfig": {"service": {"name": "istiod", "namespace": "istio-system", "path": "/validate"}},
                "namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}},
                "rules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": resources}]}]})).unwrap();
    }

    fn write<'a>(
        operation: Operation,
        group: &'a str,
        plural: &'a str,
        subresource: Option<&'a str>,
        object: &'a Value,
        namespace: Option<&'a Value>,
    ) -> Write<'a> {
        Write {
            operation,
            group,
            plural,
            subresource,
            object,
            namespace,
        }
    }

    #[test]
    fn webhooks_are_matched_by_phase_operation_and_subresource() {
        let store = store_with_injector(false);
        add_catch_all_validator(&store, &["*"]);
        let failing = FailingWebhooks::load(&store);
        let shop = store.get("namespaces", None, "shop").unwrap();
        let obj = pod("shop");
        let create = write(Operation::Create, "", "pods", None, &obj, Some(&shop));
        assert!(
            failing
                .refusal(Phase::Mutating, &create)
                .unwrap()
                .starts_with("failed calling webhook \"sidecar-injector.istio.io\"")
        );
        let update = write(
            Operation::Update,
            "apps",
            "deployments",
            None,
            &obj,
            Some(&shop),
        );
        assert!(
            failing.refusal(Phase::Mutating, &update).is_none(),
            "the injector only intercepts pod creation"
        );
        assert_eq!(
            failing.refusal(Phase::Validating, &update).unwrap(),
            "failed calling webhook \"catch-all.example.com\": failed to call webhook: Post \
             \"https://istiod.istio-system.svc:443/validate?timeout=10s\": dial tcp 10.96.5.249:443: connect: connection refused"
        );
        let status = write(
            Operation::Update,
            "apps",
            "deployments",
            Some("status"),
            &obj,
            Some(&shop),
        );
        assert!(
            failing.refusal(Phase::Validating, &status).is_none(),
            "`*` does not cover subresources"
        );
    }

    #[test]
    fn configurations_and_cluster_scoped_objects_follow_the_api_server() {
        let store = store_with_injector(false);
        add_catch_all_validator(&store, &["*/*"]);
        let failing = FailingWebhooks::load(&store);
        let obj = json!({"metadata": {"name": "x"}});
        let status = write(Operation::Update, "", "pods", Some("status"), &obj, None);
        assert!(
            failing.refusal(Phase::Validating, &status).is_some(),
            "`*/*` covers subresources"
        );
        let configuration = write(
            Operation::Update,
            EXEMPT_GROUP,
            "validatingwebhookconfigurations",
            None,
            &obj,
            None,
        );
        assert!(
            failing.refusal(Phase::Validating, &configuration).is_none(),
            "a broken webhook can always be removed"
        );
        let node = write(Operation::Update, "", "nodes", None, &obj, None);
        assert!(
            failing.refusal(Phase::Validating, &node).is_some(),
            "cluster-scoped objects meet every namespace selector"
        );
        let plain_namespace = json!({"metadata": {"name": "plain"}});
        let namespace = write(
            Operation::Create,
            "",
            "namespaces",
            None,
            &plain_namespace,
            None,
        );
        assert!(
            failing.refusal(Phase::Validating, &namespace).is_none(),
            "a Namespace meets the namespace selector with its own labels"
        );
    }
}
