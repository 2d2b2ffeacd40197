//! Admission webhooks as the API server calls them, reduced to their failure: a webhook with
//! `failurePolicy: Fail` whose Service has no ready endpoint refuses the write with the API
//! server's message (runbook 001: `failed calling webhook "sidecar-injector.istio.io" ...
//! connect: connection refused`). Webhooks with a ready backend are taken to admit.

use serde_json::Value;

use jiff::Timestamp;

use super::events::{self, Event, Source};
use super::labels::selector_matches;
use super::objects::{self, meta};
use crate::store::Store;

/// How often a controller retries (and reports) a refused pod creation.
const RETRY_SECONDS: i64 = 10;

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
/// failing webhook, or `None` when every matching webhook is reachable or ignores failures.
pub fn create_refused(store: &Store, group: &str, plural: &str, obj: &Value) -> Option<String> {
    let namespace = store.get("namespaces", None, meta(obj, "namespace"));
    let namespace_labels = namespace
        .as_ref()
        .and_then(|n| n.pointer("/metadata/labels"));
    [
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
    ]
    .iter()
    .flat_map(|plural| store.list(plural, None))
    .flat_map(|configuration| objects::list(&configuration, "/webhooks").to_vec())
    .filter(|webhook| intercepts(webhook, group, plural, obj, namespace_labels))
    .filter(|webhook| webhook["failurePolicy"].as_str().unwrap_or("Fail") == "Fail")
    .find_map(|webhook| unreachable(store, &webhook))
}

/// Whether the webhook's rules, namespace selector and object selector cover this create.
fn intercepts(
    webhook: &Value,
    group: &str,
    plural: &str,
    obj: &Value,
    namespace_labels: Option<&Value>,
) -> bool {
    let listed = |rule: &Value, field: &str, wanted: &str| {
        objects::list(rule, &format!("/{field}"))
            .iter()
            .any(|v| v == "*" || v == wanted)
    };
    let rule_matches = objects::list(webhook, "/rules").iter().any(|rule| {
        listed(rule, "operations", "CREATE")
            && listed(rule, "apiGroups", group)
            && listed(rule, "resources", plural)
    });
    let everything = serde_json::json!({});
    let namespace_selector = webhook.get("namespaceSelector").unwrap_or(&everything);
    let object_selector = webhook.get("objectSelector").unwrap_or(&everything);
    rule_matches
        && selector_matches(Some(namespace_selector), namespace_labels)
        && selector_matches(Some(object_selector), obj.pointer("/metadata/labels"))
}

/// The API server's error when the webhook's Service has no ready endpoint.
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
        "Internal error occurred: failed calling webhook \"{}\": failed to call webhook: Post \
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
}
