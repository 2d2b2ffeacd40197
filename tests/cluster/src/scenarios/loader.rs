//! Turns a scenario's YAML objects into objects ready to create, in an order where every owner
//! exists before its dependents:
//!
//! * `{now}`, `{now-30s}`, `{now-5m}`, `{now-2h}`, `{now-3d}` in any string become timestamps;
//! * `{hash:<deployment>}` becomes the pod-template-hash the deployment controller computes for
//!   that Deployment's template, so ReplicaSet and pod names match what it would create;
//! * a ReplicaSet owned by a Deployment and written without `spec.template` gets the
//!   Deployment's selector and template (plus the hash label); a pod owned by a ReplicaSet,
//!   StatefulSet or DaemonSet and written without containers gets its owner's pod template
//!   (its own spec fields, such as `nodeName`, win);
//! * owner references and event `involvedObject`s written by kind and name get their uids at
//!   creation time ([`fill_uids`]); `{uid}` in an event message becomes the involved object's.

use std::collections::HashMap;

use anyhow::{Context, bail};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::controllers::{daemon_pod, pod_template_hash, stateful_pod, stateful_revision};
use crate::{defaults, resources, validation};

/// The objects of a scenario, defaulted, expanded and ordered for creation.
pub fn prepare(objects: Vec<Value>, now: Timestamp) -> anyhow::Result<Vec<Value>> {
    let mut objects: Vec<Value> = objects
        .into_iter()
        .map(|o| replace_times(o, now))
        .collect::<anyhow::Result<_>>()?;
    for obj in &mut objects {
        apply_defaults(obj)?;
    }
    let hashes: HashMap<String, String> = objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .map(|d| {
            (
                name_of(d).to_string(),
                pod_template_hash(&d["spec"]["template"], 0),
            )
        })
        .collect();
    let mut objects: Vec<Value> = objects
        .into_iter()
        .map(|o| replace_hashes(o, &hashes))
        .collect::<anyhow::Result<_>>()?;
    inherit_templates(&mut objects)?;
    for obj in &mut objects {
        apply_defaults(obj)?;
    }
    order_for_creation(&mut objects);
    Ok(objects)
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn namespace_of(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn apply_defaults(obj: &mut Value) -> anyhow::Result<()> {
    let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
    let kind = obj["kind"].as_str().unwrap_or("").to_string();
    let resource = resources::by_kind(&api_version, &kind)
        .with_context(|| format!("the test cluster does not serve {kind} in {api_version}"))?;
    defaults::apply(resource, obj);
    validation::canonicalize_quantities(resource, obj);
    Ok(())
}

/// Rewrites every string of `value` that holds a placeholder (`{`) with `rewrite`, in place.
fn map_strings(
    mut value: Value,
    rewrite: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<Value> {
    rewrite_in_place(&mut value, rewrite)?;
    Ok(value)
}

fn rewrite_in_place(
    value: &mut Value,
    rewrite: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    match value {
        Value::String(text) if text.contains('{') => *text = rewrite(text)?,
        Value::Array(items) => {
            for item in items {
                rewrite_in_place(item, rewrite)?;
            }
        }
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('{')) {
                let entries = std::mem::take(map);
                for (key, item) in entries {
                    map.insert(rewrite(&key)?, item);
                }
            }
            for item in map.values_mut() {
                rewrite_in_place(item, rewrite)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Replaces each `{<prefix>...}` placeholder in `text` with `resolve(inside)`.
fn replace_placeholders(
    text: &str,
    prefix: &str,
    resolve: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let opening = format!("{{{prefix}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(&opening) {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&resolve(&rest[start + opening.len()..start + end])?);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `{now}` / `{now-90s}` / `{now-5m}` / `{now-2h}` / `{now-3d}`.
pub fn replace_times(value: Value, now: Timestamp) -> anyhow::Result<Value> {
    map_strings(value, &|text| {
        replace_placeholders(text, "now", &|offset| {
            let seconds = match offset.strip_prefix('-') {
                None if offset.is_empty() => 0,
                None => bail!("bad time placeholder {{now{offset}}}"),
                Some(amount) => {
                    let (number, unit) = amount.split_at(amount.len().saturating_sub(1));
                    let number: i64 = number
                        .parse()
                        .with_context(|| format!("bad time placeholder {{now{offset}}}"))?;
                    number
                        * match unit {
                            "s" => 1,
                            "m" => 60,
                            "h" => 3600,
                            "d" => 86400,
                            _ => bail!("bad time unit in {{now{offset}}}"),
                        }
                }
            };
            let when = now.checked_sub(jiff::SignedDuration::from_secs(seconds))?;
            Ok(crate::store::format_time(when))
        })
    })
}

fn replace_hashes(value: Value, hashes: &HashMap<String, String>) -> anyhow::Result<Value> {
    map_strings(value, &|text| {
        replace_placeholders(text, "hash:", &|deployment| {
            hashes.get(deployment).cloned().with_context(|| {
                format!("{{hash:{deployment}}}: no such Deployment in the scenario")
            })
        })
    })
}

/// The owner reference marked as controller.
fn controller_of(obj: &Value) -> Option<(&str, &str)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
            )
        })
}

fn find<'a>(objects: &'a [Value], kind: &str, namespace: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && namespace_of(o) == namespace && name_of(o) == name)
}

fn merge_maps(base: &Value, overrides: Option<&Value>) -> Value {
    let mut merged = base.as_object().cloned().unwrap_or_default();
    if let Some(overrides) = overrides.and_then(Value::as_object) {
        for (key, value) in overrides {
            merged.insert(key.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

fn inherit_templates(objects: &mut [Value]) -> anyhow::Result<()> {
    for kind in ["ReplicaSet", "Pod"] {
        inherit(objects, kind)?;
    }
    Ok(())
}

/// Expands the objects of `kind` from their owners' templates.
fn inherit(objects: &mut [Value], kind: &str) -> anyhow::Result<()> {
    for index in 0..objects.len() {
        if objects[index]["kind"] != kind {
            continue;
        }
        let obj = &objects[index];
        let Some((owner_kind, owner_name)) = controller_of(obj) else {
            continue;
        };
        let namespace = namespace_of(obj).to_string();
        let expanded = match (obj["kind"].as_str(), owner_kind) {
            (Some("ReplicaSet"), "Deployment") if obj.pointer("/spec/template").is_none() => {
                let owner =
                    find(objects, "Deployment", &namespace, owner_name).with_context(|| {
                        format!(
                            "ReplicaSet {}: no Deployment {owner_name} in the scenario",
                            name_of(obj)
                        )
                    })?;
                Some(replica_set_from(obj, owner))
            }
            (Some("Pod"), "ReplicaSet" | "StatefulSet" | "DaemonSet")
                if obj.pointer("/spec/containers").is_none() =>
            {
                let owner =
                    find(objects, owner_kind, &namespace, owner_name).with_context(|| {
                        format!(
                            "Pod {}: no {owner_kind} {owner_name} in the scenario",
                            name_of(obj)
                        )
                    })?;
                Some(pod_from(obj, owner, owner_kind))
            }
            _ => None,
        };
        if let Some(expanded) = expanded {
            objects[index] = expanded;
        }
    }
    Ok(())
}

fn replica_set_from(rs: &Value, deployment: &Value) -> Value {
    let hash = pod_template_hash(&deployment["spec"]["template"], 0);
    let mut template = deployment["spec"]["template"].clone();
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = deployment["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut rs = rs.clone();
    let labels = merge_maps(
        &template["metadata"]["labels"],
        rs.pointer("/metadata/labels"),
    );
    rs["metadata"]["labels"] = labels;
    if !rs.get("spec").is_some_and(Value::is_object) {
        rs["spec"] = json!({});
    }
    if rs["spec"].get("replicas").is_none() {
        rs["spec"]["replicas"] = deployment["spec"]["replicas"].clone();
    }
    rs["spec"]["selector"] = selector;
    rs["spec"]["template"] = template;
    rs
}

fn pod_from(pod: &Value, owner: &Value, owner_kind: &str) -> Value {
    let name = name_of(pod).to_string();
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ordinal = name
        .rsplit('-')
        .next()
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(0);
    let base = match owner_kind {
        "DaemonSet" => daemon_pod(owner, node, &name),
        "StatefulSet" => stateful_pod(owner, ordinal, &stateful_revision(owner)),
        _ => json!({"metadata": {"labels": owner["spec"]["template"]["metadata"]["labels"].clone(),
            "annotations": owner.pointer("/spec/template/metadata/annotations").cloned().unwrap_or(json!({}))},
            "spec": owner["spec"]["template"]["spec"].clone()}),
    };
    let mut pod = pod.clone();
    pod["metadata"]["labels"] =
        merge_maps(&base["metadata"]["labels"], pod.pointer("/metadata/labels"));
    let annotations = merge_maps(
        &base["metadata"]["annotations"],
        pod.pointer("/metadata/annotations"),
    );
    if annotations.as_object().is_some_and(|a| !a.is_empty()) {
        pod["metadata"]["annotations"] = annotations;
    }
    pod["spec"] = merge_maps(&base["spec"], pod.get("spec"));
    pod
}

/// Namespaces, then nodes, then every other object after its owners; events last.
fn order_for_creation(objects: &mut Vec<Value>) {
    let index: HashMap<(String, String, String), usize> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                (
                    o["kind"].as_str().unwrap_or("").to_string(),
                    namespace_of(o).to_string(),
                    name_of(o).to_string(),
                ),
                i,
            )
        })
        .collect();
    let depth = |obj: &Value| -> usize {
        match obj["kind"].as_str() {
            Some("Namespace") => return 0,
            Some("Node") => return 1,
            Some("Event") => return 100,
            Some("PodMetrics") => return 50,
            _ => {}
        }
        let mut depth = 2;
        let mut current = obj;
        for _ in 0..10 {
            let Some((kind, name)) = controller_of(current) else {
                break;
            };
            let key = (
                kind.to_string(),
                namespace_of(current).to_string(),
                name.to_string(),
            );
            match index.get(&key) {
                Some(&owner) => {
                    depth += 1;
                    current = &objects[owner];
                }
                None => break,
            }
        }
        depth
    };
    let depths: Vec<usize> = objects.iter().map(depth).collect();
    let mut indexed: Vec<(usize, Value)> = depths.into_iter().zip(objects.drain(..)).collect();
    indexed.sort_by_key(|(d, _)| *d);
    objects.extend(indexed.into_iter().map(|(_, obj)| obj));
}

/// Fills the uids of owner references and event `involvedObject`s from
/// `uid_of(apiVersion, kind, namespace, name)` (already created objects); a reference to an
/// object that does not exist is an error.
pub fn fill_uids(
    obj: &mut Value,
    uid_of: &dyn Fn(&str, &str, &str, &str) -> Option<String>,
) -> anyhow::Result<()> {
    let namespace = namespace_of(obj).to_string();
    let own_name = name_of(obj).to_string();
    let lookup = |reference: &Value, default_version: &str| -> anyhow::Result<String> {
        let kind = reference["kind"].as_str().unwrap_or("");
        let api_version = reference["apiVersion"].as_str().unwrap_or(default_version);
        let name = reference["name"].as_str().unwrap_or("");
        let ns = reference["namespace"].as_str().unwrap_or(&namespace);
        if kind == "Node" {
            return Ok(name.to_string());
        }
        uid_of(api_version, kind, ns, name).with_context(|| {
            format!("{own_name}: refers to {kind} {name}, which the scenario does not create first")
        })
    };
    if let Some(owners) = obj
        .pointer_mut("/metadata/ownerReferences")
        .and_then(Value::as_array_mut)
    {
        for owner in owners.iter_mut() {
            if owner.get("uid").is_none() {
                owner["uid"] = json!(lookup(owner, "")?);
                owner["blockOwnerDeletion"] = json!(true);
            }
        }
    }
    if obj["kind"] == "Event" {
        if obj.pointer("/involvedObject/uid").is_none() {
            let version = default_api_version(obj["involvedObject"]["kind"].as_str().unwrap_or(""));
            let uid = lookup(&obj["involvedObject"], version)?;
            obj["involvedObject"]["uid"] = json!(uid);
        }
        let uid = obj["involvedObject"]["uid"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if let Some(message) = obj["message"].as_str().filter(|m| m.contains("{uid}")) {
            obj["message"] = json!(message.replace("{uid}", &uid));
        }
        if name_of(obj).is_empty() {
            let seed = format!(
                "{}{}{}",
                obj["involvedObject"]["name"], obj["reason"], obj["message"]
            );
            let name = format!(
                "{}.{:08x}{:08x}",
                obj["involvedObject"]["name"].as_str().unwrap_or("event"),
                crate::controllers::fnv32a(seed.as_bytes()),
                crate::controllers::fnv32a(format!("{seed}#").as_bytes())
            );
            obj["metadata"]["name"] = json!(name);
        }
    }
    Ok(())
}

/// The apiVersion of the kinds scenarios refer to by kind alone.
fn default_api_version(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "PodDisruptionBudget" => "policy/v1",
        "Job" => "batch/v1",
        "Gateway" | "HTTPRoute" | "GatewayClass" => "gateway.networking.k8s.io/v1",
        _ => "v1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn time_placeholders() {
        let value = json!({"a": "{now}", "b": "{now-90s}", "c": ["at {now-2h} and {now-1d}"]});
        let replaced = replace_times(value, now()).unwrap();
        assert_eq!(replaced["a"], "2026-11-23T10:00:00Z");
        assert_eq!(replaced["b"], "2026-11-23T09:58:30Z");
        assert_eq!(
            replaced["c"][0],
            "at 2026-11-23T08:00:00Z and 2026-11-22T10:00:00Z"
        );
        assert!(replace_times(json!("{now-5x}"), now()).is_err());
    }

    #[test]
    fn replica_sets_and_pods_inherit_templates_and_get_the_hash() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-{hash:web}-abcde", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-{hash:web}", "controller": true}]},
                "spec": {"nodeName": "node-1"}}),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-{hash:web}", "namespace": "shop",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": true}]}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        ];
        let prepared = prepare(objects, now()).unwrap();
        let kinds: Vec<&str> = prepared
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["Namespace", "Deployment", "ReplicaSet", "Pod"]);
        let hash = pod_template_hash(&prepared[1]["spec"]["template"], 0);
        let rs = &prepared[2];
        assert_eq!(rs["metadata"]["name"], format!("web-{hash}"));
        assert_eq!(
            rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"],
            hash
        );
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
            hash
        );
        let pod = &prepared[3];
        assert_eq!(pod["metadata"]["name"], format!("web-{hash}-abcde"));
        assert_eq!(pod["spec"]["nodeName"], "node-1");
        assert_eq!(pod["spec"]["containers"][0]["image"], "web:1");
        assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], hash);
        assert_eq!(
            pod["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent",
            "defaults applied"
        );
    }

    #[test]
    fn uids_are_filled_from_created_objects() {
        let mut pod = json!({"kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "controller": true}]}});
        fill_uids(&mut pod, &|_, kind, ns, name| {
            (kind == "ReplicaSet" && ns == "shop" && name == "rs").then(|| "uid-1".to_string())
        })
        .unwrap();
        assert_eq!(pod["metadata"]["ownerReferences"][0]["uid"], "uid-1");
        let mut event = json!({"kind": "Event", "metadata": {"namespace": "default"},
            "involvedObject": {"kind": "Node", "name": "node-2"}, "reason": "SystemOOM", "message": "x"});
        fill_uids(&mut event, &|_, _, _, _| None).unwrap();
        assert_eq!(event["involvedObject"]["uid"], "node-2");
        assert!(
            event["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("node-2.")
        );
        let mut orphan = json!({"kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "missing", "controller": true}]}});
        assert!(fill_uids(&mut orphan, &|_, _, _, _| None).is_err());
    }
}
