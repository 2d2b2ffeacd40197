//! Reading and building the objects controllers share: metadata, owner references, pod
//! readiness and resource requests, timestamps.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::quantity;
use crate::store::Store;

/// `metadata.<field>` as a string, "" when absent.
pub fn meta<'a>(obj: &'a Value, field: &str) -> &'a str {
    crate::store::str_at(obj, field)
}

/// `namespace/name`, for messages.
pub fn key(obj: &Value) -> String {
    format!("{}/{}", meta(obj, "namespace"), meta(obj, "name"))
}

/// The string at a JSON pointer, "" when absent.
pub fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The integer at a JSON pointer, or `default`.
pub fn int(obj: &Value, pointer: &str, default: i64) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// The array at a JSON pointer (empty when absent).
pub fn list<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A timestamp as the API server writes it, in whole seconds.
pub fn format_time(when: Timestamp) -> String {
    crate::store::format_time(when)
}

/// Parses an RFC 3339 timestamp.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// The timestamp at a JSON pointer.
pub fn time_at(obj: &Value, pointer: &str) -> Option<Timestamp> {
    parse_time(text(obj, pointer))
}

/// Whole seconds from `earlier` to `later` (negative when `later` is earlier).
pub fn seconds_between(earlier: Timestamp, later: Timestamp) -> i64 {
    later.as_second() - earlier.as_second()
}

/// `when` plus `seconds`.
pub fn plus_seconds(when: Timestamp, seconds: i64) -> Timestamp {
    when.checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(when)
}

/// Replaces an object; true only when the store actually changed (an identical write keeps the
/// resource version and counts as no change).
pub fn update(store: &Store, plural: &str, next: Value) -> bool {
    let before = meta(&next, "resourceVersion").to_string();
    store
        .update(plural, next)
        .is_ok_and(|written| meta(&written, "resourceVersion") != before)
}

/// Replaces an object's status; true only when the store actually changed.
pub fn update_status(store: &Store, plural: &str, next: Value) -> bool {
    let before = meta(&next, "resourceVersion").to_string();
    store
        .update_status(plural, next)
        .is_ok_and(|written| meta(&written, "resourceVersion") != before)
}

/// The owner reference marked `controller: true`, if any.
pub fn controller_ref(obj: &Value) -> Option<&Value> {
    list(obj, "/metadata/ownerReferences")
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
}

/// Whether `obj` is controlled by the object with this uid.
pub fn is_controlled_by(obj: &Value, owner_uid: &str) -> bool {
    controller_ref(obj).is_some_and(|r| r["uid"].as_str() == Some(owner_uid))
}

/// A controller owner reference to `owner` (as `metav1.NewControllerRef` builds it).
pub fn controller_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta(owner, "name"),
        "uid": meta(owner, "uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether the object is being deleted.
pub fn is_terminating(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// The pod's phase ("" when unset).
pub fn phase(pod: &Value) -> &str {
    text(pod, "/status/phase")
}

/// `controller.IsPodActive`: not finished and not being deleted.
pub fn is_active(pod: &Value) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && !is_terminating(pod)
}

/// The pod condition of this type.
pub fn pod_condition<'a>(pod: &'a Value, kind: &str) -> Option<&'a Value> {
    list(pod, "/status/conditions")
        .iter()
        .find(|c| c["type"] == kind)
}

/// `podutil.IsPodReady`: the Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    pod_condition(pod, "Ready").is_some_and(|c| c["status"] == "True")
}

/// `podutil.IsPodAvailable`: ready for at least `min_ready_seconds`.
pub fn is_available(pod: &Value, min_ready_seconds: i64, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    pod_condition(pod, "Ready")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .and_then(parse_time)
        .is_some_and(|since| seconds_between(since, now) >= min_ready_seconds)
}

/// The node a pod is bound to ("" when unscheduled).
pub fn node_name(pod: &Value) -> &str {
    text(pod, "/spec/nodeName")
}

/// A node condition's status ("" when the condition is absent).
pub fn node_condition_status<'a>(node: &'a Value, kind: &str) -> &'a str {
    list(node, "/status/conditions")
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str())
        .unwrap_or("")
}

/// Whether the node's Ready condition is True.
pub fn node_is_ready(node: &Value) -> bool {
    node_condition_status(node, "Ready") == "True"
}

/// CPU (cores) and memory (bytes) a pod requests, as the scheduler counts them: the larger of
/// the containers' sum and any single init container, plus the pod overhead.
pub fn pod_requests(pod: &Value) -> (f64, f64) {
    let request = |container: &Value, resource: &str| {
        container
            .pointer(&format!("/resources/requests/{resource}"))
            .and_then(quantity::parse_value)
            .unwrap_or(0.0)
    };
    let containers = list(pod, "/spec/containers");
    let mut cpu: f64 = containers.iter().map(|c| request(c, "cpu")).sum();
    let mut memory: f64 = containers.iter().map(|c| request(c, "memory")).sum();
    for init in list(pod, "/spec/initContainers") {
        cpu = cpu.max(request(init, "cpu"));
        memory = memory.max(request(init, "memory"));
    }
    let overhead = |resource: &str| {
        pod.pointer(&format!("/spec/overhead/{resource}"))
            .and_then(quantity::parse_value)
            .unwrap_or(0.0)
    };
    (cpu + overhead("cpu"), memory + overhead("memory"))
}

/// A container's memory limit in bytes.
pub fn memory_limit(container: &Value) -> Option<f64> {
    container
        .pointer("/resources/limits/memory")
        .and_then(quantity::parse_value)
}

/// The pod's QoS class, as the API server computes it on create.
pub fn qos_class(pod: &Value) -> &'static str {
    crate::defaults::qos_class(pod.get("spec").unwrap_or(&Value::Null))
}

/// The pod template of a workload without the `pod-template-hash` label, with empty maps and
/// lists dropped: `EqualIgnoreHash` compares templates this way.
pub fn template_without_hash(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove("pod-template-hash");
    }
    drop_empty(&mut template);
    template
}

fn drop_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(drop_empty);
            map.retain(|_, v| {
                !(v.is_null()
                    || v.as_object().is_some_and(|m| m.is_empty())
                    || v.as_array().is_some_and(|a| a.is_empty()))
            });
        }
        Value::Array(items) => items.iter_mut().for_each(drop_empty),
        _ => {}
    }
}

/// Builds a pod from a template, as `controller.GetPodFromTemplate` does.
pub fn pod_from_template(template: &Value, owner: &Value, name: &str) -> Value {
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    if !labels.is_object() {
        labels = json!({});
    }
    let mut metadata = json!({
        "name": name,
        "generateName": format!("{}-", meta(owner, "name")),
        "namespace": meta(owner, "namespace"),
        "labels": labels,
        "ownerReferences": [controller_reference(owner)],
    });
    if let Some(annotations) = template.pointer("/metadata/annotations") {
        metadata["annotations"] = annotations.clone();
    }
    if let Some(finalizers) = template.pointer("/metadata/finalizers") {
        metadata["finalizers"] = finalizers.clone();
    }
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    });
    let qos = qos_class(&pod);
    pod["status"] = json!({"phase": "Pending", "qosClass": qos});
    pod
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: Value) -> Value {
        json!({"spec": {"containers": containers}})
    }

    #[test]
    fn requests_add_containers_and_take_the_larger_init() {
        let mut p = pod(json!([
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "250m"}}}
        ]));
        p["spec"]["initContainers"] =
            json!([{"name": "i", "resources": {"requests": {"cpu": "1", "memory": "1Mi"}}}]);
        let (cpu, memory) = pod_requests(&p);
        assert_eq!(cpu, 1.0);
        assert_eq!(memory, 256.0 * 1024.0 * 1024.0);
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&pod(json!([{"name": "a"}]))), "BestEffort");
        let guaranteed =
            pod(json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]));
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        let burstable = pod(
            json!([{"name": "a", "resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}}}]),
        );
        assert_eq!(qos_class(&burstable), "Burstable");
    }

    #[test]
    fn availability_needs_min_ready_seconds() {
        let now: Timestamp = "2026-11-23T10:00:30Z".parse().unwrap();
        let ready = json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-23T10:00:00Z"}]}});
        assert!(is_available(&ready, 0, now));
        assert!(is_available(&ready, 30, now));
        assert!(!is_available(&ready, 31, now));
        assert!(!is_available(&json!({}), 0, now));
    }

    #[test]
    fn templates_compare_without_the_hash_label() {
        let a = json!({"metadata": {"labels": {"app": "x", "pod-template-hash": "123"}, "annotations": {}},
                       "spec": {"containers": [{"name": "c", "env": []}]}});
        let b =
            json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(template_without_hash(&a), template_without_hash(&b));
    }
}
