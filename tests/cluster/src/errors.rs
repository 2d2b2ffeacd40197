//! API errors as the real API server reports them: a `kind: Status` body with a reason, a
//! message worded like `k8s.io/apimachinery/pkg/api/errors`, details and the HTTP code.

use serde_json::{Map, Value, json};

use crate::resources;

/// A failed API call, rendered by [`ApiError::to_status`] as a `meta/v1 Status`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status code (also `Status.code`).
    pub code: u16,
    /// `Status.reason`, e.g. `NotFound`, `Conflict`, `Invalid`.
    pub reason: String,
    /// `Status.message`.
    pub message: String,
    /// `Status.details` (name, group, kind, uid, causes), when the real server sets it.
    pub details: Option<Value>,
}

/// One entry of `Status.details.causes` for a 422 Invalid answer (a `field.Error`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCause {
    /// `FieldValueInvalid`, `FieldValueRequired`, ...
    pub reason: &'static str,
    /// JSON path of the field, e.g. `spec.template.spec.containers[0].resources.requests`.
    pub field: String,
    /// The error body, e.g. `Invalid value: "2Gi": must be less than or equal to ...`.
    pub message: String,
}

impl FieldCause {
    /// `field: Invalid value: <value>: <detail>` (value rendered as Go's `%#v` would: strings quoted).
    pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> FieldCause {
        let shown = match value {
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        FieldCause {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {shown}: {detail}"),
        }
    }

    /// `field: Required value` (with an optional detail).
    pub fn required(field: impl Into<String>, detail: &str) -> FieldCause {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        FieldCause {
            reason: "FieldValueRequired",
            field: field.into(),
            message,
        }
    }

    /// `field: Forbidden: <detail>`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> FieldCause {
        FieldCause {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }

    /// `field: Unsupported value: <value>: supported values: ...`.
    pub fn not_supported(
        field: impl Into<String>,
        value: &Value,
        supported: &[&str],
    ) -> FieldCause {
        let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        FieldCause {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: {value}: supported values: {}",
                quoted.join(", ")
            ),
        }
    }

    fn rendered(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// Splits `deployments.apps` (or a bare plural, looked up in the registry) into (plural, group).
fn resource_and_group(resource: &str) -> (String, String) {
    match resource.split_once('.') {
        Some((plural, group)) => (plural.to_string(), group.to_string()),
        None => {
            let group = resources::by_plural(resource)
                .map(|r| r.group)
                .unwrap_or_default();
            (resource.to_string(), group.to_string())
        }
    }
}

/// `deployments.apps` for a plural of a named group, `pods` for the core group.
pub fn qualified_resource(resource: &str) -> String {
    let (plural, group) = resource_and_group(resource);
    if group.is_empty() {
        plural
    } else {
        format!("{plural}.{group}")
    }
}

fn details(name: &str, resource: &str) -> Value {
    let (plural, group) = resource_and_group(resource);
    let mut map = Map::new();
    if !name.is_empty() {
        map.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        map.insert("group".into(), json!(group));
    }
    map.insert("kind".into(), json!(plural));
    Value::Object(map)
}

impl ApiError {
    /// A bare error with code, reason and message.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }

    /// Sets `details`.
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// 404 `pods "x" not found`; `resource` is a plural (`deployments`) or qualified (`deployments.apps`).
    pub fn not_found(resource: &str, name: &str) -> ApiError {
        let qualified = qualified_resource(resource);
        ApiError::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(details(name, resource))
    }

    /// 409 `pods "x" already exists`.
    pub fn already_exists(resource: &str, name: &str) -> ApiError {
        let qualified = qualified_resource(resource);
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        )
        .with_details(details(name, resource))
    }

    /// 409 Conflict for a stale `resourceVersion`, with the real server's wording.
    pub fn conflict(resource: &str, name: &str) -> ApiError {
        ApiError::conflict_because(
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 `Operation cannot be fulfilled on <resource> "<name>": <why>`.
    pub fn conflict_because(resource: &str, name: &str, why: &str) -> ApiError {
        let qualified = qualified_resource(resource);
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {why}"),
        )
        .with_details(details(name, resource))
    }

    /// 422 `Deployment.apps "x" is invalid: <field>: <error>` (several causes in brackets).
    pub fn invalid(kind: &str, group: &str, name: &str, causes: &[FieldCause]) -> ApiError {
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let rendered: Vec<String> = causes.iter().map(FieldCause::rendered).collect();
        let summary = match rendered.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let causes_json: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        let mut detail = Map::new();
        detail.insert("name".into(), json!(name));
        if !group.is_empty() {
            detail.insert("group".into(), json!(group));
        }
        detail.insert("kind".into(), json!(kind));
        detail.insert("causes".into(), Value::Array(causes_json));
        ApiError::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {summary}"),
        )
        .with_details(Value::Object(detail))
    }

    /// 403 Forbidden with the given message about `resource` `name`.
    pub fn forbidden(resource: &str, name: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", message).with_details(details(name, resource))
    }

    /// 429 TooManyRequests with the given message.
    pub fn too_many_requests(message: impl Into<String>) -> ApiError {
        ApiError::new(429, "TooManyRequests", message)
    }

    /// 410 Gone with reason `Expired` (too old resource version, expired continue token).
    pub fn gone(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 500 `Internal error occurred: <message>` with the cause in details, like `NewInternalError`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(json!({"causes": [{"message": message}]}))
    }

    /// 405 MethodNotAllowed, as for a verb a resource does not support.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(405, "MethodNotAllowed", message)
    }

    /// 415 UnsupportedMediaType for a patch type the resource does not accept (e.g. a strategic
    /// merge patch on a custom resource), listing the `accepted` media types.
    pub fn unsupported_media_type(accepted: &[&str]) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 503 ServiceUnavailable.
    pub fn service_unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// The `kind: Status` body the real API server sends with this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status["code"] = json!(self.code);
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_group_qualified_resource() {
        let err = ApiError::not_found("deployments", "web");
        assert_eq!(err.code, 404);
        assert_eq!(err.message, "deployments.apps \"web\" not found");
        let status = err.to_status();
        assert_eq!(
            status["details"],
            json!({"name": "web", "group": "apps", "kind": "deployments"})
        );
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["reason"], "NotFound");
    }

    #[test]
    fn conflict_uses_the_real_wording() {
        let err = ApiError::conflict("deployments", "x");
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on deployments.apps \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(
            ApiError::conflict("pods", "p").message.split(':').next(),
            Some("Operation cannot be fulfilled on pods \"p\"")
        );
    }

    #[test]
    fn invalid_lists_causes_like_field_errors() {
        let one = FieldCause::invalid(
            "spec.template.spec.containers[0].resources.requests",
            &json!("2Gi"),
            "must be less than or equal to memory limit of 1Gi",
        );
        let err = ApiError::invalid("Deployment", "apps", "gw", std::slice::from_ref(&one));
        assert_eq!(
            err.message,
            "Deployment.apps \"gw\" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi"
        );
        let two = FieldCause::required("metadata.name", "name or generateName is required");
        let err = ApiError::invalid("Pod", "", "", &[one, two]);
        assert!(
            err.message.starts_with("Pod \"\" is invalid: [spec."),
            "{}",
            err.message
        );
        assert!(
            err.message
                .ends_with("metadata.name: Required value: name or generateName is required]")
        );
        assert_eq!(
            err.details.unwrap()["causes"][1]["reason"],
            "FieldValueRequired"
        );
    }
}
