//! Building responses: JSON objects, lists written without copying the stored objects, errors.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

use crate::errors::ApiError;

/// How the client asked to see objects (`Accept: application/json;as=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The objects themselves.
    Object,
    /// A `meta.k8s.io/v1 Table` (kubectl get).
    Table,
    /// `PartialObjectMetadata` / `PartialObjectMetadataList` (metadata-only clients).
    Metadata,
}

impl Representation {
    /// The representation an `Accept` header asks for.
    pub fn from_accept(accept: &str) -> Representation {
        if accept.contains("as=Table") {
            Representation::Table
        } else if accept.contains("as=PartialObjectMetadata") {
            Representation::Metadata
        } else {
            Representation::Object
        }
    }
}

/// The `PartialObjectMetadata` of an object.
pub fn partial_metadata(obj: &Value) -> Value {
    serde_json::json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| serde_json::json!({})),
    })
}

/// A JSON response with `code`.
pub fn json(code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    raw_json(code, bytes)
}

/// A response with an already serialised JSON body.
pub fn raw_json(code: u16, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A plain-text response (pods/log).
pub fn text(body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// The `kind: Status` error response for `err`.
pub fn error_response(err: &ApiError) -> Response {
    let mut response = json(err.code, &err.to_status());
    if err.code == 429 {
        let retry = err
            .details
            .as_ref()
            .and_then(|d| d.get("retryAfterSeconds"))
            .and_then(Value::as_u64)
            .unwrap_or(1);
        if let Ok(value) = HeaderValue::from_str(&retry.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A `Result` of a handler as a response.
pub fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|err| error_response(&err))
}

/// The `metadata` of a list.
pub struct ListMeta {
    /// Resource version of the list.
    pub resource_version: u64,
    /// Continue token, if more items remain.
    pub continue_token: Option<String>,
    /// Items left after this page, when known.
    pub remaining: Option<usize>,
}

/// Serialises a `<Kind>List` straight from the shared stored objects.
pub fn list(kind: &str, api_version: &str, meta: &ListMeta, items: &[Arc<Value>]) -> Response {
    let mut metadata = serde_json::json!({"resourceVersion": meta.resource_version.to_string()});
    if let Some(token) = &meta.continue_token {
        metadata["continue"] = Value::String(token.clone());
    }
    if let Some(remaining) = meta.remaining {
        metadata["remainingItemCount"] = Value::from(remaining);
    }
    let mut out = Vec::with_capacity(256 + items.len() * 1024);
    out.extend_from_slice(b"{\"kind\":");
    serde_json::to_writer(&mut out, &format!("{kind}List")).unwrap_or_default();
    out.extend_from_slice(b",\"apiVersion\":");
    serde_json::to_writer(&mut out, api_version).unwrap_or_default();
    out.extend_from_slice(b",\"metadata\":");
    serde_json::to_writer(&mut out, &metadata).unwrap_or_default();
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, item.as_ref()).unwrap_or_default();
    }
    out.extend_from_slice(b"]}");
    raw_json(200, out)
}
