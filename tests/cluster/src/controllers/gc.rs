//! The garbage collector: deletes objects all of whose owners are gone (background
//! propagation; pods terminate gracefully) and drops references to owners that went away
//! while others remain.

use jiff::Timestamp;
use serde_json::Value;

use super::objects::{self, meta};
use super::rules::Rules;
use crate::resources::{self, Verbs};
use crate::store::{DeleteOptions, Store};

/// One pass over every object with owner references.
pub fn reconcile(store: &Store, _rules: &Rules, _now: Timestamp) -> bool {
    let mut changed = false;
    for resource in resources::RESOURCES
        .iter()
        .filter(|r| r.verbs == Verbs::All)
    {
        let key = resource.store_key();
        for obj in store.list_shared(&key, None).0 {
            let owners = objects::list(&obj, "/metadata/ownerReferences");
            if owners.is_empty() || objects::is_terminating(&obj) {
                continue;
            }
            let namespace = meta(&obj, "namespace");
            let present: Vec<&Value> = owners
                .iter()
                .filter(|owner| owner_exists(store, namespace, owner))
                .collect();
            if present.len() == owners.len() {
                continue;
            }
            changed |= if present.is_empty() {
                store
                    .delete(
                        &key,
                        Some(namespace).filter(|ns| !ns.is_empty()),
                        meta(&obj, "name"),
                        &DeleteOptions::default(),
                    )
                    .is_ok()
            } else {
                let mut next = (*obj).clone();
                next["metadata"]["ownerReferences"] =
                    Value::Array(present.into_iter().cloned().collect());
                objects::update(store, &key, next)
            };
        }
    }
    changed
}

/// Whether the referenced owner exists with the referenced uid (a namespaced owner lives in
/// the dependent's namespace).
fn owner_exists(store: &Store, namespace: &str, owner: &Value) -> bool {
    let api_version = owner["apiVersion"].as_str().unwrap_or("");
    let kind = owner["kind"].as_str().unwrap_or("");
    let Some(resource) = resources::by_kind(api_version, kind) else {
        return true;
    };
    let scope = resource.namespaced.then_some(namespace);
    store
        .get_shared(
            &resource.store_key(),
            scope,
            owner["name"].as_str().unwrap_or(""),
        )
        .is_some_and(|found| meta(&found, "uid") == owner["uid"].as_str().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dependents_of_deleted_owners_are_collected() {
        let store = Store::new();
        let rs = store
            .create(
                "replicasets",
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {}}),
            )
            .unwrap();
        let owner = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": meta(&rs, "uid"), "controller": true});
        store.create("pods", json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1-abcde", "namespace": "shop", "ownerReferences": [owner]}, "spec": {}})).unwrap();
        let stranger =
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "gone", "uid": "nope"});
        store.create("pods", json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "shared", "namespace": "shop", "ownerReferences": [owner, stranger]}, "spec": {}})).unwrap();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        assert!(
            reconcile(&store, &Rules::default(), now),
            "the dangling reference is dropped"
        );
        let shared = store.get("pods", Some("shop"), "shared").unwrap();
        assert_eq!(
            shared["metadata"]["ownerReferences"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(!reconcile(&store, &Rules::default(), now));
        store
            .delete(
                "replicasets",
                Some("shop"),
                "web-1",
                &DeleteOptions::default(),
            )
            .unwrap();
        assert!(reconcile(&store, &Rules::default(), now));
        assert!(store.get("pods", Some("shop"), "web-1-abcde").is_none());
        assert!(store.get("pods", Some("shop"), "shared").is_none());
    }
}
