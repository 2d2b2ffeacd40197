//! Subresources other than status: scale (autoscaling/v1 Scale), pods/log, pods/eviction.

use axum::response::Response;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::eviction;
use crate::patch;
use crate::store::str_at;

use super::crud::{Call, current};
use super::response;

/// The `autoscaling/v1 Scale` view of a deployment, replica set or stateful set.
fn scale_of(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .map(selector_string)
        .unwrap_or_default();
    let mut metadata = json!({
        "name": str_at(obj, "name"),
        "namespace": str_at(obj, "namespace"),
        "uid": str_at(obj, "uid"),
        "resourceVersion": str_at(obj, "resourceVersion"),
        "creationTimestamp": str_at(obj, "creationTimestamp"),
    });
    if let Some(map) = metadata.as_object_mut() {
        map.retain(|_, v| v.as_str().is_some_and(|s| !s.is_empty()));
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        }
    })
}

/// `metav1.LabelSelectorAsSelector(selector).String()`: requirements sorted by key.
fn selector_string(selector: &Value) -> String {
    let mut parts: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            parts.push((
                key.clone(),
                format!("{key}={}", value.as_str().unwrap_or_default()),
            ));
        }
    }
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default().to_string();
        let mut values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let text = match expression["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            _ => format!("!{key}"),
        };
        parts.push((key, text));
    }
    parts.sort();
    parts
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(",")
}

/// GET, PUT and PATCH of the scale subresource.
pub fn scale(call: &Call<'_>, verb: &str) -> Result<Response, ApiError> {
    if verb == "get" {
        return Ok(response::json(200, &scale_of(&*current(call)?)));
    }
    let body = call.decode_body()?;
    let content_type = call
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let resource = call.resource();
    let updated = call.app.store.modify(
        &call.key(),
        call.namespace(),
        call.name(),
        call.query.dry_run,
        |obj| {
            let scale = scale_of(obj);
            let wanted = match verb {
                "update" => body.clone(),
                _ => match content_type.as_str() {
                    "application/json-patch+json" => {
                        patch::json_patch(&scale, &body).map_err(ApiError::bad_request)?
                    }
                    "application/strategic-merge-patch+json" => {
                        patch::strategic(&scale, &body, "Scale").map_err(ApiError::bad_request)?
                    }
                    "application/merge-patch+json" | "application/apply-patch+yaml" => {
                        patch::merge(&scale, &body)
                    }
                    _ => {
                        return Err(ApiError::unsupported_media_type(&[
                            "application/json-patch+json",
                            "application/merge-patch+json",
                            "application/apply-patch+yaml",
                            "application/strategic-merge-patch+json",
                        ]));
                    }
                },
            };
            let replicas = wanted
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if replicas < 0 {
                return Err(ApiError::invalid(
                    "Scale",
                    "autoscaling",
                    str_at(obj, "name"),
                    &[crate::errors::FieldCause::invalid(
                        "spec.replicas",
                        &json!(replicas),
                        "must be greater than or equal to 0",
                    )],
                ));
            }
            let mut next = obj.clone();
            next["spec"]["replicas"] = json!(replicas);
            if let Some(rv) = wanted
                .pointer("/metadata/resourceVersion")
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            {
                crate::store::metadata_mut(&mut next).insert("resourceVersion".into(), rv.clone());
            }
            Ok(next)
        },
    );
    let updated = updated.map_err(|e| {
        if e.code == 404 {
            ApiError::not_found(&resource.qualified(), call.name())
        } else {
            e
        }
    })?;
    Ok(response::json(200, &scale_of(&updated)))
}

/// pods/log: the seeded text of a container, honouring `container`, `previous` and `tailLines`.
pub fn log(call: &Call<'_>) -> Result<Response, ApiError> {
    let pod = current(call)?;
    let name = call.name();
    let names = |list: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let containers = names("containers");
    let init_containers = names("initContainers");
    let container = match call.query.container.as_deref() {
        Some(c) => {
            if !containers
                .iter()
                .chain(init_containers.iter())
                .any(|n| n == c)
            {
                return Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            c.to_string()
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init_containers.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init_containers.join(" ")
                ));
            }
            return Err(ApiError::bad_request(message));
        }
    };
    let ns = call.namespace().unwrap_or("default");
    let text = match call
        .app
        .store
        .logs()
        .get(ns, name, &container, call.query.previous)
    {
        Some(text) => text,
        None if call.query.previous => {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            )));
        }
        None => {
            let waiting = container_waiting_reason(&pod, &container);
            if let Some(reason) = waiting {
                return Err(ApiError::bad_request(format!(
                    "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
                )));
            }
            String::new()
        }
    };
    Ok(response::text(tail(&text, call.query.tail_lines)))
}

fn container_waiting_reason(pod: &Value, container: &str) -> Option<String> {
    let statuses = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|list| {
            pod.pointer(&format!("/status/{list}"))
                .and_then(Value::as_array)
        })
        .flatten();
    let mut found = false;
    for status in statuses.filter(|s| s["name"] == container) {
        found = true;
        if let Some(reason) = status
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
        {
            return Some(reason.to_string());
        }
    }
    (!found).then(|| "ContainerCreating".to_string())
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: Option<usize>) -> String {
    let Some(lines) = lines else {
        return text.to_string();
    };
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    all[all.len().saturating_sub(lines)..].concat()
}

/// pods/eviction: 201 with a success `Status`, or the eviction's error.
pub fn evict(call: &Call<'_>) -> Result<Response, ApiError> {
    let body = if call.body.is_empty() {
        json!({})
    } else {
        call.decode_body()?
    };
    let ns = call.namespace().unwrap_or("default");
    eviction::evict(&call.app.store, ns, call.name(), &body, call.query.dry_run)?;
    Ok(response::json(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_view_and_selector_string() {
        let obj = json!({"metadata": {"name": "web", "namespace": "d", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"tier": "f", "app": "web"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "a"]}]}},
            "status": {"replicas": 2}});
        let scale = scale_of(&obj);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(
            scale["status"],
            json!({"replicas": 2, "selector": "app=web,env in (a,b),tier=f"})
        );
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", Some(2)), "b\nc\n");
        assert_eq!(tail("a\nb", Some(5)), "a\nb");
        assert_eq!(tail("a\n", None), "a\n");
        assert_eq!(tail("a\nb\n", Some(0)), "");
    }
}
