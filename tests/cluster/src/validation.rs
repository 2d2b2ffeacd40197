//! The validation the runbooks run into, with the real API server's messages: object names
//! (DNS-1123 subdomain / label, DNS-1035 label for Services), container requests above limits,
//! malformed quantities. Also the quantity canonicalisation the server applies on every write.

use serde_json::Value;

use crate::errors::{ApiError, FieldCause};
use crate::quantity::Quantity;
use crate::resources::ResourceType;

/// The real message for a name that is not a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_label_of(text: &str, first: fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && first(bytes[0])
        && (bytes[bytes.len() - 1].is_ascii_lowercase() || bytes[bytes.len() - 1].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns1123_label(text: &str) -> bool {
    text.len() <= 63 && is_label_of(text, lower_alnum)
}

/// Dot-separated DNS-1123 labels, at most 253 characters.
pub fn is_dns1123_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(|part| is_label_of(part, lower_alnum))
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns1035_label(text: &str) -> bool {
    text.len() <= 63 && is_label_of(text, |b| b.is_ascii_lowercase())
}

/// Checks `metadata.name` for the resource's naming rule.
pub fn validate_name(resource: &ResourceType, name: &str) -> Vec<FieldCause> {
    let field = "metadata.name";
    let value = Value::String(name.to_string());
    let (valid, message, max_len) = match resource.plural {
        "services" => (is_dns1035_label(name), DNS1035_LABEL_MESSAGE, 63),
        "namespaces" => (is_dns1123_label(name), DNS1123_LABEL_MESSAGE, 63),
        _ => (is_dns1123_subdomain(name), DNS1123_SUBDOMAIN_MESSAGE, 253),
    };
    if valid {
        Vec::new()
    } else if name.len() > max_len {
        vec![FieldCause::invalid(
            field,
            &value,
            &format!("must be no more than {max_len} characters"),
        )]
    } else {
        vec![FieldCause::invalid(field, &value, message)]
    }
}

/// Where a resource keeps its pod spec: `spec` for pods, `spec.template.spec` for workloads.
pub fn pod_spec_path(resource: &ResourceType) -> Option<&'static str> {
    match resource.plural {
        "pods" => Some("spec"),
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" | "jobs" => {
            Some("spec.template.spec")
        }
        _ => None,
    }
}

fn pointer_of(path: &str) -> String {
    format!("/{}", path.replace('.', "/"))
}

/// Validates an object about to be written, returning the 422 the real server would answer.
pub fn validate(resource: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut causes = Vec::new();
    if !name.is_empty() {
        causes.extend(validate_name(resource, name));
    }
    if let Some(path) = pod_spec_path(resource)
        && let Some(spec) = obj.pointer(&pointer_of(path))
    {
        causes.extend(validate_pod_spec(spec, path));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            resource.kind,
            resource.group,
            name,
            &causes,
        ))
    }
}

/// Resource requirement errors of every (init) container of a pod spec at `path`.
pub fn validate_pod_spec(spec: &Value, path: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    for list in ["containers", "initContainers"] {
        let Some(containers) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, container) in containers.iter().enumerate() {
            let container_path = format!("{path}.{list}[{i}]");
            causes.extend(validate_resources(
                container.get("resources").unwrap_or(&Value::Null),
                &container_path,
            ));
        }
    }
    causes
}

fn parse_all(
    map: Option<&Value>,
    field: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<(String, Quantity)> {
    let mut parsed = Vec::new();
    for (name, raw) in map.and_then(Value::as_object).into_iter().flatten() {
        let text = match raw {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        match Quantity::parse(&text) {
            Ok(q) if q.nanos() < 0 => causes.push(FieldCause::invalid(
                format!("{field}[{name}]"),
                &Value::String(q.to_string()),
                "must be greater than or equal to 0",
            )),
            Ok(q) => parsed.push((name.clone(), q)),
            Err(e) => causes.push(FieldCause::invalid(
                format!("{field}[{name}]"),
                raw,
                &e.to_string(),
            )),
        }
    }
    parsed
}

/// `requests` must not exceed `limits`, as `ValidateResourceRequirements` words it.
fn validate_resources(resources: &Value, container_path: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let limits_field = format!("{container_path}.resources.limits");
    let requests_field = format!("{container_path}.resources.requests");
    let limits = parse_all(resources.get("limits"), &limits_field, &mut causes);
    let requests = parse_all(resources.get("requests"), &requests_field, &mut causes);
    for (name, request) in &requests {
        if let Some((_, limit)) = limits.iter().find(|(l, _)| l == name)
            && request > limit
        {
            causes.push(FieldCause::invalid(
                requests_field.clone(),
                &Value::String(request.to_string()),
                &format!("must be less than or equal to {name} limit of {limit}"),
            ));
        }
    }
    causes
}

/// Rewrites quantities in canonical form (`1024Mi` → `1Gi`), as the real server's round trip
/// through typed objects does: container resources, node capacity, quota and metrics usage.
pub fn canonicalize_quantities(resource: &ResourceType, obj: &mut Value) {
    let mut maps: Vec<String> = Vec::new();
    if let Some(path) = pod_spec_path(resource) {
        for list in ["containers", "initContainers"] {
            let pointer = format!("{}/{list}", pointer_of(path));
            let count = obj
                .pointer(&pointer)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                maps.push(format!("{pointer}/{i}/resources/requests"));
                maps.push(format!("{pointer}/{i}/resources/limits"));
            }
        }
        if resource.plural == "pods" {
            maps.push("/spec/overhead".to_string());
        }
    }
    match resource.kind {
        "Node" => maps.extend([
            "/status/capacity".to_string(),
            "/status/allocatable".to_string(),
        ]),
        "ResourceQuota" => maps.extend([
            "/spec/hard".to_string(),
            "/status/hard".to_string(),
            "/status/used".to_string(),
        ]),
        "NodeMetrics" => maps.push("/usage".to_string()),
        "PodMetrics" => {
            let count = obj
                .pointer("/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            maps.extend((0..count).map(|i| format!("/containers/{i}/usage")));
        }
        _ => {}
    }
    for pointer in maps {
        if let Some(map) = obj.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => continue,
                };
                if let Some(canonical) = crate::quantity::canonicalize(&text) {
                    *value = Value::String(canonical);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources;
    use serde_json::json;

    fn deployment(requests: Value, limits: Value) -> Value {
        json!({"metadata": {"name": "gw"}, "spec": {"template": {"spec": {"containers": [
            {"name": "c", "resources": {"requests": requests, "limits": limits}}]}}}})
    }

    #[test]
    fn requests_above_limits_are_rejected_with_the_real_message() {
        let rt = resources::by_plural("deployments").unwrap();
        let err = validate(
            rt,
            &deployment(json!({"memory": "2Gi"}), json!({"memory": "1Gi"})),
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "Deployment.apps \"gw\" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi"
        );
        let err = validate(
            rt,
            &deployment(json!({"cpu": "1500m"}), json!({"cpu": "1"})),
        )
        .unwrap_err();
        assert!(
            err.message.ends_with(
                "Invalid value: \"1500m\": must be less than or equal to cpu limit of 1"
            ),
            "{}",
            err.message
        );
        assert!(
            validate(
                rt,
                &deployment(
                    json!({"memory": "1024Mi", "cpu": "1"}),
                    json!({"memory": "1Gi", "cpu": "1000m"})
                )
            )
            .is_ok()
        );
        assert!(validate(rt, &deployment(json!({"memory": "1Gi"}), json!({}))).is_ok());
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"memory": "2G"}, "limits": {"memory": "1Gi"}}}]}});
        let err = validate(resources::by_plural("pods").unwrap(), &pod).unwrap_err();
        assert!(
            err.message
                .starts_with("Pod \"p\" is invalid: spec.containers[1].resources.requests"),
            "{}",
            err.message
        );
    }

    #[test]
    fn malformed_quantities_and_names_are_rejected() {
        let rt = resources::by_plural("deployments").unwrap();
        let err = validate(rt, &deployment(json!({"memory": "lots"}), json!({}))).unwrap_err();
        assert!(
            err.message.contains(
                "resources.requests[memory]: Invalid value: \"lots\": quantities must match"
            ),
            "{}",
            err.message
        );
        let mut bad_name = deployment(json!({}), json!({}));
        bad_name["metadata"]["name"] = json!("Web_1");
        let err = validate(rt, &bad_name).unwrap_err();
        assert!(
            err.message.contains(
                "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain"
            ),
            "{}",
            err.message
        );
        let svc = resources::by_plural("services").unwrap();
        assert!(validate(svc, &json!({"metadata": {"name": "1svc"}})).is_err());
        assert!(validate(svc, &json!({"metadata": {"name": "svc-1"}})).is_ok());
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_label("a.b"));
    }

    #[test]
    fn quantities_are_canonicalised() {
        let rt = resources::by_plural("deployments").unwrap();
        let mut obj = deployment(
            json!({"memory": "1024Mi", "cpu": "0.5"}),
            json!({"memory": "2048Mi", "cpu": 2}),
        );
        canonicalize_quantities(rt, &mut obj);
        let resources = &obj["spec"]["template"]["spec"]["containers"][0]["resources"];
        assert_eq!(
            resources["requests"],
            json!({"memory": "1Gi", "cpu": "500m"})
        );
        assert_eq!(resources["limits"], json!({"memory": "2Gi", "cpu": "2"}));
    }
}
